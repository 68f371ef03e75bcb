//! Demands: requests for new work with a business case (estimates per fiscal
//! year, risk, investment category), reviewed through [`DemandState`] and, when
//! approved, turned into a project in the same transaction.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::DemandState;
use crate::audit::{self, Action};
use crate::auth::Principal;
use crate::db::{Db, Executor, Row, Tx, query};
use crate::error::{ConflictKind, Error, Result};
use crate::http::extract::IfMatch;
use crate::listing::{Page, PageParams, Select, Sortable};
use crate::patch::{self, new_id};
use crate::portfolio::InvestmentCategory;
use crate::portfolio::estimates::{self, Owner, YearEstimate};
use crate::portfolio::projects::{self, DEFAULT_ROI_MODEL, Health, Project, ProjectState};
use crate::refs::{self, Ref};
use crate::validate::Checks;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Demand {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    /// Who asked for the work; owns the business case.
    pub requester: String,
    /// Where the work would be done; required by approval at the latest.
    pub portfolio_id: Option<String>,
    pub state: DemandState,
    pub investment_category: InvestmentCategory,
    /// 1 (low) to 5 (very high).
    pub risk: i32,
    pub requested_start: Option<NaiveDate>,
    /// The currency of the estimates.
    pub currency: String,
    /// Why it was approved, rejected or deferred.
    pub decision_note: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The project this demand became when it was approved.
    pub project_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// The sums of a business case over all its years.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EstimateTotals {
    #[schema(value_type = String, example = "500000.00")]
    pub capex: Decimal,
    #[schema(value_type = String, example = "80000.00")]
    pub opex: Decimal,
    #[schema(value_type = String, example = "750000.00")]
    pub benefit: Decimal,
}

/// A demand with its year-by-year estimates and their totals.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DemandDetail {
    #[serde(flatten)]
    pub demand: Demand,
    pub estimates: Vec<YearEstimate>,
    pub totals: EstimateTotals,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDemand {
    pub title: String,
    pub description: Option<String>,
    /// Defaults to the caller.
    pub requester: Option<String>,
    /// May be left open while drafting; approval needs one.
    pub portfolio_id: Option<String>,
    /// Defaults to `grow`.
    pub investment_category: Option<InvestmentCategory>,
    /// Defaults to 3.
    pub risk: Option<i32>,
    pub requested_start: Option<NaiveDate>,
    /// Defaults to the reporting currency.
    pub currency: Option<String>,
    #[serde(default)]
    pub estimates: Vec<YearEstimate>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DemandPatch {
    pub title: Option<String>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub requester: Option<String>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub portfolio_id: Option<Option<String>>,
    pub investment_category: Option<InvestmentCategory>,
    pub risk: Option<i32>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub requested_start: Option<Option<NaiveDate>>,
    pub currency: Option<String>,
    /// Replaces all estimates when present.
    pub estimates: Option<Vec<YearEstimate>>,
}

/// A step through the review. The project fields apply only to `approved`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DemandTransition {
    pub to: DemandState,
    /// Why; kept as the decision note when approving, rejecting or deferring.
    pub note: Option<String>,
    /// The portfolio of the new project; defaults to the demand's.
    pub portfolio_id: Option<String>,
    /// A program of that portfolio for the new project.
    pub program_id: Option<String>,
    /// The new project's name; defaults to the demand's title.
    pub project_name: Option<String>,
    /// The new project's owner; defaults to the requester.
    pub owner: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DemandFilter {
    /// Case-insensitive search in title and description.
    pub q: Option<String>,
    pub state: Option<DemandState>,
    pub portfolio_id: Option<String>,
    pub requester: Option<String>,
    pub investment_category: Option<InvestmentCategory>,
}

/// The project a demand became is found through `projects.demand_id` (unique),
/// so the link is stored once and cannot disagree with itself.
const FROM: &str = "demands d LEFT JOIN projects p ON p.demand_id = d.id";

const COLUMNS: &str = "d.id AS id, d.title AS title, d.description AS description, d.requester AS requester, \
    d.portfolio_id AS portfolio_id, d.state AS state, d.investment_category AS investment_category, d.risk AS risk, \
    d.requested_start AS requested_start, d.currency AS currency, d.decision_note AS decision_note, \
    d.decided_by AS decided_by, d.decided_at AS decided_at, p.id AS project_id, d.created_at AS created_at, \
    d.updated_at AS updated_at, d.version AS version";

const SORT: Sortable = Sortable {
    keys: &[
        ("title", "LOWER(d.title)"),
        ("created_at", "d.created_at"),
        ("updated_at", "d.updated_at"),
        // SQLite sorts NULLs first and PostgreSQL last; demands without a date
        // go last (ascending) on both.
        ("requested_start", "COALESCE(d.requested_start, '9999-12-31')"),
        ("risk", "d.risk"),
    ],
    default: "-created_at",
    tie_break: "d.id",
};

fn from_row(row: &Row) -> Result<Demand> {
    Ok(Demand {
        id: row.get("id")?,
        title: row.get("title")?,
        description: row.get("description")?,
        requester: row.get("requester")?,
        portfolio_id: row.get("portfolio_id")?,
        state: DemandState::from_db(&row.get::<String>("state")?)?,
        investment_category: InvestmentCategory::from_db(&row.get::<String>("investment_category")?)?,
        risk: row.get::<i64>("risk")? as i32,
        requested_start: row.get("requested_start")?,
        currency: row.get("currency")?,
        decision_note: row.get("decision_note")?,
        decided_by: row.get("decided_by")?,
        decided_at: row.get("decided_at")?,
        project_id: row.get("project_id")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        version: row.get("version")?,
    })
}

/// Sums the estimates in Rust: SQLite keeps decimals as text, and the sum must
/// be exact on both databases.
pub fn totals(estimates: &[YearEstimate]) -> EstimateTotals {
    EstimateTotals {
        capex: estimates.iter().map(|e| e.capex).sum(),
        opex: estimates.iter().map(|e| e.opex).sum(),
        benefit: estimates.iter().map(|e| e.benefit).sum(),
    }
}

pub async fn list(db: &Db, filter: &DemandFilter, page: &PageParams) -> Result<Page<Demand>> {
    let mut select = Select::new(COLUMNS, FROM);
    select
        .search("d.title || ' ' || COALESCE(d.description, '')", filter.q.as_deref())
        .filter_opt("d.state = {}", filter.state.map(DemandState::as_str))
        .filter_opt("d.portfolio_id = {}", filter.portfolio_id.as_deref())
        .filter_opt("d.requester = {}", filter.requester.as_deref())
        .filter_opt("d.investment_category = {}", filter.investment_category.map(InvestmentCategory::as_str));
    select.fetch_page(&mut db.clone(), page, &SORT, from_row).await
}

pub async fn get(ex: &mut impl Executor, id: &str) -> Result<Demand> {
    let row = query(format!("SELECT {COLUMNS} FROM {FROM} WHERE d.id = $1")).bind(id).fetch_optional(ex).await?;
    row.as_ref().map(from_row).transpose()?.ok_or_else(|| Error::not_found("demand", id))
}

pub async fn get_detail(ex: &mut impl Executor, id: &str) -> Result<DemandDetail> {
    let demand = get(ex, id).await?;
    let estimates = estimates::load(ex, Owner::Demand, id).await?;
    Ok(detail(demand, estimates))
}

fn detail(demand: Demand, estimates: Vec<YearEstimate>) -> DemandDetail {
    let totals = totals(&estimates);
    DemandDetail { demand, estimates, totals }
}

/// Checks a business case's fields and references; all problems at once.
async fn validate(ex: &mut impl Executor, d: &Demand, estimates: &[YearEstimate]) -> Result<()> {
    let mut checks = Checks::new();
    // The title becomes the project's name, which has the same limit.
    checks.text("/title", &d.title, 200);
    checks.opt_text("/description", d.description.as_deref(), 10_000);
    checks.text("/requester", &d.requester, 200);
    checks.check((1..=5).contains(&d.risk), "/risk", "must be between 1 (low) and 5 (very high)");
    checks.currency_format("/currency", &d.currency);
    refs::check(ex, &mut checks, "/currency", Ref::Currency, Some(&d.currency)).await?;
    refs::check(ex, &mut checks, "/portfolio_id", Ref::Portfolio, d.portfolio_id.as_deref()).await?;
    estimates::validate(&mut checks, "/estimates", estimates);
    checks.finish()
}

/// Records a new demand as a draft.
pub async fn create(db: &Db, who: &Principal, input: NewDemand) -> Result<DemandDetail> {
    let mut tx = db.begin().await?;
    let now = Utc::now();
    let demand = Demand {
        id: new_id(),
        title: input.title.trim().to_owned(),
        description: input.description,
        requester: input.requester.unwrap_or_else(|| who.subject.clone()),
        portfolio_id: input.portfolio_id,
        state: DemandState::Draft,
        investment_category: input.investment_category.unwrap_or(InvestmentCategory::Grow),
        risk: input.risk.unwrap_or(3),
        requested_start: input.requested_start,
        currency: match input.currency {
            Some(c) => c,
            None => crate::finance::settings::reporting_currency(&mut tx).await?,
        },
        decision_note: None,
        decided_by: None,
        decided_at: None,
        project_id: None,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    validate(&mut tx, &demand, &input.estimates).await?;
    query(
        "INSERT INTO demands (id, title, description, requester, portfolio_id, state, investment_category, risk, \
         requested_start, currency, created_at, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1)",
    )
    .bind(&demand.id)
    .bind(&demand.title)
    .bind(demand.description.clone())
    .bind(&demand.requester)
    .bind(demand.portfolio_id.clone())
    .bind(demand.state.as_str())
    .bind(demand.investment_category.as_str())
    .bind(i64::from(demand.risk))
    .bind(demand.requested_start)
    .bind(&demand.currency)
    .bind(demand.created_at)
    .bind(demand.updated_at)
    .execute(&mut tx)
    .await
    .map_err(|e| Error::from_write(e, "this demand exists already", "/portfolio_id"))?;
    estimates::replace(&mut tx, Owner::Demand, &demand.id, &input.estimates).await?;
    let created = detail(demand, input.estimates);
    audit::record(&mut tx, who, Action::Create, "demand", &created.demand.id, None::<&()>, Some(&created)).await?;
    tx.commit().await?;
    Ok(created)
}

/// Changes the business case; only while draft or submitted.
pub async fn update(db: &Db, who: &Principal, id: &str, if_match: IfMatch, input: DemandPatch) -> Result<DemandDetail> {
    let mut tx = db.begin().await?;
    let before = get_detail(&mut tx, id).await?;
    if_match.check(before.demand.version, false)?;
    let b = &before.demand;
    if !b.state.is_editable() {
        return Err(Error::conflict(
            ConflictKind::Locked,
            format!("a demand can be edited only while draft or submitted; this one is {}", b.state),
        ));
    }
    let after = Demand {
        title: input.title.map(|t| t.trim().to_owned()).unwrap_or_else(|| b.title.clone()),
        description: patch::apply(b.description.clone(), input.description),
        requester: input.requester.unwrap_or_else(|| b.requester.clone()),
        portfolio_id: patch::apply(b.portfolio_id.clone(), input.portfolio_id),
        investment_category: input.investment_category.unwrap_or(b.investment_category),
        risk: input.risk.unwrap_or(b.risk),
        requested_start: patch::apply(b.requested_start, input.requested_start),
        currency: input.currency.unwrap_or_else(|| b.currency.clone()),
        updated_at: Utc::now(),
        version: b.version + 1,
        ..b.clone()
    };
    let estimates = input.estimates.unwrap_or_else(|| before.estimates.clone());
    validate(&mut tx, &after, &estimates).await?;
    query(
        "UPDATE demands SET title = $1, description = $2, requester = $3, portfolio_id = $4, investment_category = $5, \
         risk = $6, requested_start = $7, currency = $8, updated_at = $9, version = $10 WHERE id = $11 AND version = $12",
    )
    .bind(&after.title)
    .bind(after.description.clone())
    .bind(&after.requester)
    .bind(after.portfolio_id.clone())
    .bind(after.investment_category.as_str())
    .bind(i64::from(after.risk))
    .bind(after.requested_start)
    .bind(&after.currency)
    .bind(after.updated_at)
    .bind(after.version)
    .bind(id)
    .bind(b.version)
    .execute(&mut tx)
    .await
    .map_err(|e| Error::from_write(e, "this demand exists already", "/portfolio_id"))
    .and_then(Error::ensure_updated)?;
    estimates::replace(&mut tx, Owner::Demand, id, &estimates).await?;
    let after = detail(after, estimates);
    audit::record(&mut tx, who, Action::Update, "demand", id, Some(&before), Some(&after)).await?;
    tx.commit().await?;
    Ok(after)
}

/// Moves a demand through the review, refusing illegal steps with a 409 that
/// lists the legal ones. Approving creates the project in the same
/// transaction, so either both exist or neither does.
pub async fn transition(db: &Db, who: &Principal, id: &str, if_match: IfMatch, step: DemandTransition) -> Result<Demand> {
    let mut checks = Checks::new();
    checks.opt_text("/note", step.note.as_deref(), 2_000);
    if step.to != DemandState::Approved {
        for (pointer, given) in [
            ("/portfolio_id", step.portfolio_id.is_some()),
            ("/program_id", step.program_id.is_some()),
            ("/project_name", step.project_name.is_some()),
            ("/owner", step.owner.is_some()),
        ] {
            checks.check(!given, pointer, "applies only when approving (to: approved)");
        }
    }
    checks.finish()?;

    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.version, false)?;
    crate::lifecycle::check_step("a demand", before.state, step.to)?;

    let now = Utc::now();
    let mut after = Demand { state: step.to, updated_at: now, version: before.version + 1, ..before.clone() };
    if step.to.is_decision() {
        after.decision_note = step.note.clone();
        after.decided_by = Some(who.subject.clone());
        after.decided_at = Some(now);
    } else if before.state == DemandState::Deferred {
        // Revisited: the deferral no longer stands; the audit log keeps it.
        after.decision_note = None;
        after.decided_by = None;
        after.decided_at = None;
    }
    // Everything the project needs is checked before anything is written.
    let project = match step.to {
        DemandState::Approved => {
            let (project, estimates) = project_for(&mut tx, &before, &step).await?;
            after.portfolio_id = Some(project.portfolio_id.clone());
            after.project_id = Some(project.id.clone());
            Some((project, estimates))
        }
        _ => None,
    };

    query(
        "UPDATE demands SET portfolio_id = $1, state = $2, decision_note = $3, decided_by = $4, decided_at = $5, \
         updated_at = $6, version = $7 WHERE id = $8 AND version = $9",
    )
    .bind(after.portfolio_id.clone())
    .bind(after.state.as_str())
    .bind(after.decision_note.clone())
    .bind(after.decided_by.clone())
    .bind(after.decided_at)
    .bind(after.updated_at)
    .bind(after.version)
    .bind(id)
    .bind(before.version)
    .execute(&mut tx)
    .await
    .map_err(Error::from)
    .and_then(Error::ensure_updated)?;
    if let Some((project, estimates)) = project {
        projects::insert(&mut tx, who, project, estimates, Vec::new()).await?;
    }
    let mut record = serde_json::to_value(&after).map_err(anyhow::Error::from)?;
    record["note"] = serde_json::json!(step.note);
    audit::record(&mut tx, who, Action::Transition, "demand", id, Some(&before), Some(&record)).await?;
    if after.state == DemandState::Approved {
        crate::plugins::outbox::emit(&mut tx, crate::plugins::outbox::Kind::DemandApproved, id, record).await?;
    }
    tx.commit().await?;
    Ok(after)
}

/// The project an approved demand becomes: its business case carried over,
/// state `approved`, linked back through `demand_id`. Checked with the same
/// rules as a project created directly, so problems are 422s at the approval
/// body's fields.
async fn project_for(tx: &mut Tx, demand: &Demand, step: &DemandTransition) -> Result<(Project, Vec<YearEstimate>)> {
    let mut checks = Checks::new();
    let portfolio_id = step.portfolio_id.clone().or_else(|| demand.portfolio_id.clone());
    if portfolio_id.is_none() {
        checks.fail(
            "/portfolio_id",
            "an approved demand becomes a project, which needs a portfolio: set the demand's portfolio_id or give one here",
        );
    }
    if let Some(name) = step.project_name.as_deref() {
        checks.text("/project_name", name, 200);
    }
    checks.finish()?;
    let now = Utc::now();
    let project = Project {
        id: new_id(),
        code: projects::generate_code(),
        name: step.project_name.as_deref().map(str::trim).unwrap_or(&demand.title).to_owned(),
        description: demand.description.clone(),
        portfolio_id: portfolio_id.unwrap_or_default(),
        program_id: step.program_id.clone(),
        demand_id: Some(demand.id.clone()),
        // The requester asked for the work and knows the business case best.
        owner: step.owner.clone().unwrap_or_else(|| demand.requester.clone()),
        state: ProjectState::Approved,
        health: Health::Green,
        investment_category: demand.investment_category,
        risk: demand.risk,
        start_date: demand.requested_start,
        end_date: None,
        currency: demand.currency.clone(),
        cost_center_id: None,
        roi_model: DEFAULT_ROI_MODEL.to_owned(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let estimates = estimates::load(tx, Owner::Demand, &demand.id).await?;
    projects::validate(tx, &project, &estimates, &[]).await?;
    Ok((project, estimates))
}

/// Deletes a draft. Anything further along is part of the review record.
pub async fn delete(db: &Db, who: &Principal, id: &str, if_match: IfMatch) -> Result<()> {
    let mut tx = db.begin().await?;
    let before = get_detail(&mut tx, id).await?;
    if_match.check(before.demand.version, false)?;
    if before.demand.state != DemandState::Draft {
        let hint = if before.demand.state == DemandState::Submitted { " (withdraw it to draft first)" } else { "" };
        return Err(Error::conflict(
            ConflictKind::Locked,
            format!("only draft demands can be deleted; this one is {}{hint}", before.demand.state),
        ));
    }
    query("DELETE FROM demands WHERE id = $1 AND version = $2")
        .bind(id)
        .bind(before.demand.version)
        .execute(&mut tx)
        .await
        .map_err(Error::from)
        .and_then(Error::ensure_updated)?;
    audit::record(&mut tx, who, Action::Delete, "demand", id, Some(&before), None::<&()>).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn year(fiscal_year: i32, capex: &str, opex: &str, benefit: &str) -> YearEstimate {
        YearEstimate {
            fiscal_year,
            capex: Decimal::from_str(capex).unwrap(),
            opex: Decimal::from_str(opex).unwrap(),
            benefit: Decimal::from_str(benefit).unwrap(),
        }
    }

    #[test]
    fn totals_are_exact_decimal_sums() {
        let t = totals(&[year(2027, "0.1", "1000000.005", "0"), year(2028, "0.2", "0.000000000001", "250000.50")]);
        assert_eq!(t.capex.to_string(), "0.3");
        assert_eq!(t.opex.to_string(), "1000000.005000000001");
        assert_eq!(t.benefit.to_string(), "250000.50");
    }

    #[test]
    fn a_demand_without_estimates_totals_zero() {
        assert_eq!(totals(&[]), EstimateTotals { capex: Decimal::ZERO, opex: Decimal::ZERO, benefit: Decimal::ZERO });
    }
}
