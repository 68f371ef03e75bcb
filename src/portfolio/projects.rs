//! Projects: where money is spent. A project belongs to a portfolio and
//! optionally a program, may come from an approved demand, and moves through a
//! lifecycle whose legal steps are [`ProjectState::next`].

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::InvestmentCategory;
use super::estimates::{self, Owner, YearEstimate};
use super::goals::{self, GoalLink};
use crate::audit::{self, Action};
use crate::auth::Principal;
use crate::db::{Db, Executor, Row, Tx, query};
use crate::error::{Error, Result};
use crate::http::extract::IfMatch;
use crate::listing::{Page, PageParams, Select, Sortable};
use crate::patch::{self, new_id};
use crate::refs::{self, Ref};
use crate::validate::Checks;

/// The ROI model plugin a project uses unless it names another.
pub const DEFAULT_ROI_MODEL: &str = "roi-dcf";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProjectState {
    Proposed,
    Approved,
    InProgress,
    OnHold,
    Completed,
    Cancelled,
}

crate::text_enum!(ProjectState {
    Proposed = "proposed",
    Approved = "approved",
    InProgress = "in_progress",
    OnHold = "on_hold",
    Completed = "completed",
    Cancelled = "cancelled",
});

impl crate::lifecycle::Lifecycle for ProjectState {
    /// The states a project may move to from this one. Completed and cancelled
    /// are final.
    fn next(self) -> &'static [ProjectState] {
        use ProjectState::*;
        match self {
            Proposed => &[Approved, Cancelled],
            Approved => &[InProgress, OnHold, Cancelled],
            InProgress => &[OnHold, Completed, Cancelled],
            OnHold => &[InProgress, Cancelled],
            Completed | Cancelled => &[],
        }
    }
}


#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Green,
    Amber,
    Red,
}

crate::text_enum!(Health { Green = "green", Amber = "amber", Red = "red" });

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Project {
    pub id: String,
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    pub portfolio_id: String,
    pub program_id: Option<String>,
    /// The demand this project was approved from.
    pub demand_id: Option<String>,
    pub owner: String,
    pub state: ProjectState,
    pub health: Health,
    pub investment_category: InvestmentCategory,
    /// 1 (low) to 5 (very high).
    pub risk: i32,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub currency: String,
    pub cost_center_id: Option<String>,
    /// The ROI model plugin that evaluates this project.
    pub roi_model: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// A project with its estimates and goal links.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectDetail {
    #[serde(flatten)]
    pub project: Project,
    pub estimates: Vec<YearEstimate>,
    pub goals: Vec<GoalLink>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    /// A short unique code; generated when absent.
    pub code: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub portfolio_id: String,
    pub program_id: Option<String>,
    /// Defaults to the caller.
    pub owner: Option<String>,
    pub health: Option<Health>,
    pub investment_category: Option<InvestmentCategory>,
    pub risk: Option<i32>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    /// Defaults to the reporting currency.
    pub currency: Option<String>,
    pub cost_center_id: Option<String>,
    pub roi_model: Option<String>,
    #[serde(default)]
    pub estimates: Vec<YearEstimate>,
    #[serde(default)]
    pub goals: Vec<GoalLink>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectPatch {
    pub code: Option<String>,
    pub name: Option<String>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub portfolio_id: Option<String>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub program_id: Option<Option<String>>,
    pub owner: Option<String>,
    pub health: Option<Health>,
    pub investment_category: Option<InvestmentCategory>,
    pub risk: Option<i32>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub start_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub end_date: Option<Option<NaiveDate>>,
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub cost_center_id: Option<Option<String>>,
    pub roi_model: Option<String>,
    /// Replaces all estimates when present.
    pub estimates: Option<Vec<YearEstimate>>,
    /// Replaces all goal links when present.
    pub goals: Option<Vec<GoalLink>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = ProjectTransition)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    pub to: ProjectState,
    pub reason: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectFilter {
    /// Case-insensitive search in name and code.
    pub q: Option<String>,
    pub portfolio_id: Option<String>,
    pub program_id: Option<String>,
    pub state: Option<ProjectState>,
    pub health: Option<Health>,
    pub investment_category: Option<InvestmentCategory>,
    pub owner: Option<String>,
}

const COLUMNS: &str = "id, code, name, description, portfolio_id, program_id, demand_id, owner, state, health, \
    investment_category, risk, start_date, end_date, currency, cost_center_id, roi_model, created_at, updated_at, version";

const SORT: Sortable = Sortable {
    keys: &[
        ("name", "LOWER(name)"),
        ("code", "LOWER(code)"),
        ("state", "state"),
        ("health", "health"),
        ("risk", "risk"),
        ("owner", "LOWER(owner)"),
        ("start_date", "start_date"),
        ("end_date", "end_date"),
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
    ],
    default: "name",
    tie_break: "id",
};

fn from_row(row: &Row) -> Result<Project> {
    Ok(Project {
        id: row.get("id")?,
        code: row.get("code")?,
        name: row.get("name")?,
        description: row.get("description")?,
        portfolio_id: row.get("portfolio_id")?,
        program_id: row.get("program_id")?,
        demand_id: row.get("demand_id")?,
        owner: row.get("owner")?,
        state: ProjectState::from_db(&row.get::<String>("state")?)?,
        health: Health::from_db(&row.get::<String>("health")?)?,
        investment_category: InvestmentCategory::from_db(&row.get::<String>("investment_category")?)?,
        risk: row.get::<i64>("risk")? as i32,
        start_date: row.get("start_date")?,
        end_date: row.get("end_date")?,
        currency: row.get("currency")?,
        cost_center_id: row.get("cost_center_id")?,
        roi_model: row.get("roi_model")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        version: row.get("version")?,
    })
}

pub async fn list(db: &Db, filter: &ProjectFilter, page: &PageParams) -> Result<Page<Project>> {
    let mut select = Select::new(COLUMNS, "projects");
    if let Some(q) = filter.q.as_deref() {
        select.search("name || ' ' || code", Some(q));
    }
    select
        .filter_opt("portfolio_id = {}", filter.portfolio_id.as_deref())
        .filter_opt("program_id = {}", filter.program_id.as_deref())
        .filter_opt("state = {}", filter.state.map(ProjectState::as_str))
        .filter_opt("health = {}", filter.health.map(Health::as_str))
        .filter_opt("investment_category = {}", filter.investment_category.map(InvestmentCategory::as_str))
        .filter_opt("owner = {}", filter.owner.as_deref());
    select.fetch_page(&mut db.clone(), page, &SORT, from_row).await
}

pub async fn get(ex: &mut impl Executor, id: &str) -> Result<Project> {
    let row = query(format!("SELECT {COLUMNS} FROM projects WHERE id = $1")).bind(id).fetch_optional(ex).await?;
    row.as_ref().map(from_row).transpose()?.ok_or_else(|| Error::not_found("project", id))
}

pub async fn get_detail(ex: &mut impl Executor, id: &str) -> Result<ProjectDetail> {
    let project = get(ex, id).await?;
    let estimates = estimates::load(ex, Owner::Project, id).await?;
    let goals = goals::links(ex, id).await?;
    Ok(ProjectDetail { project, estimates, goals })
}

/// Checks a project's fields and references; all problems at once.
/// Demand approval checks the project it is about to create with this too.
pub async fn validate(ex: &mut impl Executor, p: &Project, estimates: &[YearEstimate], links: &[GoalLink]) -> Result<()> {
    let mut checks = Checks::new();
    checks.text("/code", &p.code, 40);
    checks.text("/name", &p.name, 200);
    checks.opt_text("/description", p.description.as_deref(), 10_000);
    checks.text("/owner", &p.owner, 200);
    checks.text("/roi_model", &p.roi_model, 100);
    checks.check((1..=5).contains(&p.risk), "/risk", "must be between 1 (low) and 5 (very high)");
    if let (Some(start), Some(end)) = (p.start_date, p.end_date) {
        checks.check(end >= start, "/end_date", "must not be before start_date");
    }
    checks.currency_format("/currency", &p.currency);
    refs::check(ex, &mut checks, "/currency", Ref::Currency, Some(&p.currency)).await?;
    refs::check(ex, &mut checks, "/portfolio_id", Ref::Portfolio, Some(&p.portfolio_id)).await?;
    refs::check(ex, &mut checks, "/cost_center_id", Ref::CostCenter, p.cost_center_id.as_deref()).await?;
    if let Some(program_id) = p.program_id.as_deref() {
        let program = query("SELECT portfolio_id FROM programs WHERE id = $1").bind(program_id).fetch_optional(ex).await?;
        match program {
            None => checks.fail("/program_id", format!("no program has the id {program_id:?}")),
            Some(row) if row.get::<String>("portfolio_id")? != p.portfolio_id => {
                checks.fail("/program_id", "belongs to another portfolio than the project")
            }
            Some(_) => {}
        }
    }
    estimates::validate(&mut checks, "/estimates", estimates);
    goals::validate_links(ex, &mut checks, "/goals", links).await?;
    checks.finish()
}

/// Fills a new project from the request, with defaults.
pub async fn create(db: &Db, who: &Principal, input: NewProject) -> Result<ProjectDetail> {
    let mut tx = db.begin().await?;
    let now = Utc::now();
    let project = Project {
        id: new_id(),
        code: input.code.map(|c| c.trim().to_owned()).unwrap_or_else(generate_code),
        name: input.name.trim().to_owned(),
        description: input.description,
        portfolio_id: input.portfolio_id,
        program_id: input.program_id,
        demand_id: None,
        owner: input.owner.unwrap_or_else(|| who.subject.clone()),
        state: ProjectState::Proposed,
        health: input.health.unwrap_or(Health::Green),
        investment_category: input.investment_category.unwrap_or(InvestmentCategory::Grow),
        risk: input.risk.unwrap_or(3),
        start_date: input.start_date,
        end_date: input.end_date,
        currency: match input.currency {
            Some(c) => c,
            None => crate::finance::settings::reporting_currency(&mut tx).await?,
        },
        cost_center_id: input.cost_center_id,
        roi_model: input.roi_model.unwrap_or_else(|| DEFAULT_ROI_MODEL.to_owned()),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    validate(&mut tx, &project, &input.estimates, &input.goals).await?;
    let detail = insert(&mut tx, who, project, input.estimates, input.goals).await?;
    tx.commit().await?;
    Ok(detail)
}

/// Stores a validated new project with its estimates and goals, and audits it.
/// Demand approval uses this too, inside its own transaction.
pub async fn insert(
    tx: &mut Tx,
    who: &Principal,
    project: Project,
    estimates: Vec<YearEstimate>,
    goals: Vec<GoalLink>,
) -> Result<ProjectDetail> {
    query(
        "INSERT INTO projects (id, code, name, description, portfolio_id, program_id, demand_id, owner, state, health, \
         investment_category, risk, start_date, end_date, currency, cost_center_id, roi_model, created_at, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, 1)",
    )
    .bind(&project.id)
    .bind(&project.code)
    .bind(&project.name)
    .bind(project.description.clone())
    .bind(&project.portfolio_id)
    .bind(project.program_id.clone())
    .bind(project.demand_id.clone())
    .bind(&project.owner)
    .bind(project.state.as_str())
    .bind(project.health.as_str())
    .bind(project.investment_category.as_str())
    .bind(i64::from(project.risk))
    .bind(project.start_date)
    .bind(project.end_date)
    .bind(&project.currency)
    .bind(project.cost_center_id.clone())
    .bind(&project.roi_model)
    .bind(project.created_at)
    .bind(project.updated_at)
    .execute(tx)
    .await
    .map_err(|e| Error::from_write(e, "a project with this code exists already", "/code"))?;
    estimates::replace(tx, Owner::Project, &project.id, &estimates).await?;
    goals::replace_links(tx, &project.id, &goals).await?;
    let detail = ProjectDetail { project, estimates, goals };
    audit::record(tx, who, Action::Create, "project", &detail.project.id, None::<&()>, Some(&detail)).await?;
    Ok(detail)
}

pub async fn update(db: &Db, who: &Principal, id: &str, if_match: IfMatch, input: ProjectPatch) -> Result<ProjectDetail> {
    let mut tx = db.begin().await?;
    let before = get_detail(&mut tx, id).await?;
    if_match.check(before.project.version, false)?;
    let b = &before.project;
    let after = Project {
        code: input.code.map(|c| c.trim().to_owned()).unwrap_or_else(|| b.code.clone()),
        name: input.name.map(|n| n.trim().to_owned()).unwrap_or_else(|| b.name.clone()),
        description: patch::apply(b.description.clone(), input.description),
        portfolio_id: input.portfolio_id.unwrap_or_else(|| b.portfolio_id.clone()),
        program_id: patch::apply(b.program_id.clone(), input.program_id),
        owner: input.owner.unwrap_or_else(|| b.owner.clone()),
        health: input.health.unwrap_or(b.health),
        investment_category: input.investment_category.unwrap_or(b.investment_category),
        risk: input.risk.unwrap_or(b.risk),
        start_date: patch::apply(b.start_date, input.start_date),
        end_date: patch::apply(b.end_date, input.end_date),
        currency: input.currency.unwrap_or_else(|| b.currency.clone()),
        cost_center_id: patch::apply(b.cost_center_id.clone(), input.cost_center_id),
        roi_model: input.roi_model.unwrap_or_else(|| b.roi_model.clone()),
        updated_at: Utc::now(),
        version: b.version + 1,
        ..b.clone()
    };
    let estimates = input.estimates.unwrap_or_else(|| before.estimates.clone());
    let goals = input.goals.unwrap_or_else(|| before.goals.clone());
    validate(&mut tx, &after, &estimates, &goals).await?;
    query(
        "UPDATE projects SET code = $1, name = $2, description = $3, portfolio_id = $4, program_id = $5, owner = $6, \
         health = $7, investment_category = $8, risk = $9, start_date = $10, end_date = $11, currency = $12, \
         cost_center_id = $13, roi_model = $14, updated_at = $15, version = $16 WHERE id = $17 AND version = $18",
    )
    .bind(&after.code)
    .bind(&after.name)
    .bind(after.description.clone())
    .bind(&after.portfolio_id)
    .bind(after.program_id.clone())
    .bind(&after.owner)
    .bind(after.health.as_str())
    .bind(after.investment_category.as_str())
    .bind(i64::from(after.risk))
    .bind(after.start_date)
    .bind(after.end_date)
    .bind(&after.currency)
    .bind(after.cost_center_id.clone())
    .bind(&after.roi_model)
    .bind(after.updated_at)
    .bind(after.version)
    .bind(id)
    .bind(b.version)
    .execute(&mut tx)
    .await
    .map_err(|e| Error::from_write(e, "a project with this code exists already", "/code"))
    .and_then(Error::ensure_updated)?;
    estimates::replace(&mut tx, Owner::Project, id, &estimates).await?;
    goals::replace_links(&mut tx, id, &goals).await?;
    let after = ProjectDetail { project: after, estimates, goals };
    audit::record(&mut tx, who, Action::Update, "project", id, Some(&before), Some(&after)).await?;
    tx.commit().await?;
    Ok(after)
}

/// Moves a project to another lifecycle state, refusing illegal steps with a
/// 409 that lists the legal ones.
pub async fn transition(db: &Db, who: &Principal, id: &str, if_match: IfMatch, step: Transition) -> Result<Project> {
    let mut checks = Checks::new();
    checks.opt_text("/reason", step.reason.as_deref(), 2_000);
    checks.finish()?;
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.version, false)?;
    crate::lifecycle::check_step("a project", before.state, step.to)?;
    let after = Project { state: step.to, updated_at: Utc::now(), version: before.version + 1, ..before.clone() };
    query("UPDATE projects SET state = $1, updated_at = $2, version = $3 WHERE id = $4 AND version = $5")
        .bind(after.state.as_str())
        .bind(after.updated_at)
        .bind(after.version)
        .bind(id)
        .bind(before.version)
        .execute(&mut tx)
        .await
        .map_err(Error::from)
        .and_then(Error::ensure_updated)?;
    let record = serde_json::json!({ "state": after.state, "reason": step.reason });
    audit::record(&mut tx, who, Action::Transition, "project", id, Some(&serde_json::json!({ "state": before.state })), Some(&record)).await?;
    let event = serde_json::json!({ "project_id": id, "code": after.code, "from": before.state, "to": after.state, "reason": step.reason });
    crate::plugins::outbox::emit(&mut tx, crate::plugins::outbox::Kind::ProjectStateChanged, id, event).await?;
    tx.commit().await?;
    Ok(after)
}

const TABLE: patch::Table = patch::Table {
    name: "projects",
    entity: "project",
    duplicate: "a project with this code exists already",
    reference: "/code",
    in_use: "the project has budget lines, ledger lines or other records; cancel it instead",
};

pub async fn delete(db: &Db, who: &Principal, id: &str, if_match: IfMatch) -> Result<()> {
    let mut tx = db.begin().await?;
    let before = get_detail(&mut tx, id).await?;
    if_match.check(before.project.version, false)?;
    TABLE.delete(tx, who, id, (&before, before.project.version)).await
}

/// A short code such as `PRJ-3F9A1C`, from the random bits of a UUIDv7.
pub fn generate_code() -> String {
    let id = uuid::Uuid::now_v7().simple().to_string();
    format!("PRJ-{}", id[id.len() - 6..].to_uppercase())
}

#[cfg(test)]
mod tests {
    use crate::lifecycle::Lifecycle;
    use super::ProjectState::*;

    #[test]
    fn completed_and_cancelled_projects_are_final() {
        assert!(Completed.next().is_empty());
        assert!(Cancelled.next().is_empty());
    }

    #[test]
    fn a_project_must_be_approved_before_work_starts() {
        assert!(!Proposed.next().contains(&InProgress));
        assert!(Approved.next().contains(&InProgress));
    }
}
