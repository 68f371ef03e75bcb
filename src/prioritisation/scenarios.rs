//! What-if scenarios: a named choice of a portfolio's candidates over a
//! planning horizon of one to five fiscal years. Each listed item is included
//! or not, may be shifted by whole fiscal years and funded at a share of its
//! estimate. Scenarios are compared side by side (CapEx and OpEx per year,
//! benefits, NPV, risk, alignment), and approving one makes it the plan: one
//! draft budget version per year of the horizon whose lines add up to the
//! scenario, created in one transaction, for finance to take through the
//! budget workflow.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ItemKind;
use super::candidates::{self, Candidate};
use crate::audit::{self, Action};
use crate::auth::Principal;
use crate::db::{Db, Executor, Row, Tx, query};
use crate::error::{ConflictKind, Error, Result};
use crate::finance::budgets::lines::NewBudgetLine;
use crate::finance::budgets::{self, BudgetKind, BudgetVersionDetail, NewBudgetVersion};
use crate::finance::cost_types::Classification;
use crate::http::extract::IfMatch;
use crate::patch::{self, new_id};
use crate::portfolio::estimates::YearEstimate;
use crate::validate::Checks;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScenarioState {
    Draft,
    /// Made the plan; it no longer changes.
    Approved,
}

crate::text_enum!(ScenarioState { Draft = "draft", Approved = "approved" });

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Scenario {
    pub id: String,
    pub portfolio_id: String,
    pub name: String,
    pub description: Option<String>,
    pub first_fiscal_year: i32,
    pub years: u32,
    #[schema(value_type = String, example = "0.08")]
    pub discount_rate: Decimal,
    pub state: ScenarioState,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScenarioItem {
    pub item_kind: ItemKind,
    pub item_id: String,
    pub included: bool,
    /// Fiscal years the item's estimates move later (negative: earlier).
    pub shift_years: i32,
    /// Share of the estimated CapEx, OpEx and benefit funded.
    #[schema(value_type = String, example = "1")]
    pub funding: Decimal,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScenarioDetail {
    #[serde(flatten)]
    pub scenario: Scenario,
    pub items: Vec<ScenarioItem>,
    /// The budget versions an approved scenario became, by fiscal year.
    pub budget_version_ids: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioItemInput {
    pub item_id: String,
    pub included: bool,
    /// Defaults to 0.
    pub shift_years: Option<i32>,
    /// Defaults to 1 (as estimated); above 0 and at most 2.
    #[schema(value_type = Option<String>, example = "1")]
    pub funding: Option<Decimal>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewScenario {
    pub name: String,
    pub description: Option<String>,
    pub first_fiscal_year: i32,
    /// 1 to 5.
    pub years: u32,
    /// Defaults to the finance settings' `discount_rate`.
    #[schema(value_type = Option<String>, example = "0.08")]
    pub discount_rate: Option<Decimal>,
    /// Candidates not listed are not included.
    #[serde(default)]
    pub items: Vec<ScenarioItemInput>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioItems {
    pub items: Vec<ScenarioItemInput>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveScenario {
    /// For items without a cost center of their own (demands, some projects).
    pub cost_center_id: String,
    /// A cost type classified CapEx, for the CapEx lines.
    pub capex_cost_type_id: String,
    /// A cost type classified OpEx, for the OpEx lines.
    pub opex_cost_type_id: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApprovedScenario {
    pub scenario: ScenarioDetail,
    pub budget_versions: Vec<BudgetVersionDetail>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct YearTotals {
    pub fiscal_year: i32,
    #[schema(value_type = String)]
    pub capex: Decimal,
    #[schema(value_type = String)]
    pub opex: Decimal,
    #[schema(value_type = String)]
    pub benefit: Decimal,
}

/// One column of a side-by-side comparison.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScenarioSummary {
    pub scenario_id: String,
    pub name: String,
    pub state: ScenarioState,
    pub items_included: u32,
    pub years: Vec<YearTotals>,
    #[schema(value_type = String)]
    pub capex: Decimal,
    #[schema(value_type = String)]
    pub opex: Decimal,
    #[schema(value_type = String)]
    pub benefit: Decimal,
    /// NPV of the included items' net cash flows in the horizon.
    #[schema(value_type = String)]
    pub npv: Decimal,
    /// Cost-weighted mean risk (1 to 5) of the included items.
    #[schema(value_type = Option<String>)]
    pub risk: Option<Decimal>,
    /// Cost-weighted mean strategic alignment (0 to 1) of the included items.
    #[schema(value_type = Option<String>)]
    pub alignment: Option<Decimal>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CompareParams {
    /// Comma-separated scenario ids (2 to 10).
    pub ids: String,
}

const COLUMNS: &str = "id, portfolio_id, name, description, first_year, years, discount_rate, state, approved_by, approved_at, created_at, updated_at, version";

fn from_row(row: &Row) -> Result<Scenario> {
    Ok(Scenario {
        id: row.get("id")?,
        portfolio_id: row.get("portfolio_id")?,
        name: row.get("name")?,
        description: row.get("description")?,
        first_fiscal_year: row.get::<i64>("first_year")? as i32,
        years: row.get::<i64>("years")? as u32,
        discount_rate: row.decimal("discount_rate")?,
        state: ScenarioState::from_db(&row.get::<String>("state")?)?,
        approved_by: row.get("approved_by")?,
        approved_at: row.get("approved_at")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        version: row.get("version")?,
    })
}

async fn detail(ex: &mut impl Executor, scenario: Scenario) -> Result<ScenarioDetail> {
    let rows = query("SELECT item_kind, item_id, included, shift_years, funding FROM scenario_items WHERE scenario_id = $1 ORDER BY item_kind DESC, item_id")
        .bind(&scenario.id)
        .fetch_all(ex)
        .await?;
    let items = rows
        .iter()
        .map(|r| {
            Ok(ScenarioItem {
                item_kind: ItemKind::from_db(&r.get::<String>("item_kind")?)?,
                item_id: r.get("item_id")?,
                included: r.get("included")?,
                shift_years: r.get::<i64>("shift_years")? as i32,
                funding: r.decimal("funding")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let versions = query("SELECT budget_version_id FROM scenario_budget_versions WHERE scenario_id = $1 ORDER BY fiscal_year").bind(&scenario.id).fetch_all(ex).await?;
    let budget_version_ids = versions.iter().map(|r| r.get("budget_version_id")).collect::<Result<_, _>>()?;
    Ok(ScenarioDetail { scenario, items, budget_version_ids })
}

pub async fn get(ex: &mut impl Executor, id: &str) -> Result<ScenarioDetail> {
    let row = query(format!("SELECT {COLUMNS} FROM scenarios WHERE id = $1")).bind(id).fetch_optional(ex).await?;
    let s = row.as_ref().map(from_row).transpose()?.ok_or_else(|| Error::not_found("scenario", id))?;
    detail(ex, s).await
}

pub async fn list(db: &Db, portfolio_id: &str) -> Result<Vec<Scenario>> {
    let mut conn = db.clone();
    crate::portfolio::portfolios::get(&mut conn, portfolio_id).await?;
    let rows = query(format!("SELECT {COLUMNS} FROM scenarios WHERE portfolio_id = $1 ORDER BY LOWER(name), id")).bind(portfolio_id).fetch_all(&mut conn).await?;
    rows.iter().map(from_row).collect()
}

/// Checks a scenario's items against the portfolio's candidates; returns
/// them with their kinds.
fn check_items(checks: &mut Checks, cands: &[Candidate], items: &[ScenarioItemInput], pointer: &str) -> Vec<ScenarioItem> {
    let by_id: HashMap<&str, &Candidate> = cands.iter().map(|c| (c.id.as_str(), c)).collect();
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("{pointer}/{i}");
        if !seen.insert(item.item_id.as_str()) {
            checks.fail(format!("{at}/item_id"), "appears twice");
        }
        let shift = item.shift_years.unwrap_or(0);
        let funding = item.funding.unwrap_or(Decimal::ONE);
        checks.check((-5..=5).contains(&shift), &format!("{at}/shift_years"), "must be -5 to 5");
        checks.check(funding > Decimal::ZERO && funding <= Decimal::TWO && funding.scale() <= 4, &format!("{at}/funding"), "must be above 0 and at most 2, with at most 4 decimals");
        match by_id.get(item.item_id.as_str()) {
            None => checks.fail(format!("{at}/item_id"), "is not a candidate of this portfolio (an open project or a demand awaiting decision, in the reporting currency)"),
            Some(c) => out.push(ScenarioItem { item_kind: c.kind, item_id: c.id.clone(), included: item.included, shift_years: shift, funding }),
        }
    }
    out
}

async fn write_items(tx: &mut Tx, scenario_id: &str, items: &[ScenarioItem]) -> Result<()> {
    query("DELETE FROM scenario_items WHERE scenario_id = $1").bind(scenario_id).execute(tx).await?;
    for i in items {
        query("INSERT INTO scenario_items (scenario_id, item_kind, item_id, included, shift_years, funding) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(scenario_id)
            .bind(i.item_kind.as_str())
            .bind(&i.item_id)
            .bind(i.included)
            .bind(i64::from(i.shift_years))
            .bind(i.funding)
            .execute(tx)
            .await?;
    }
    Ok(())
}

pub async fn create(db: &Db, who: &Principal, portfolio_id: &str, input: NewScenario) -> Result<ScenarioDetail> {
    let mut tx = db.begin().await?;
    crate::portfolio::portfolios::get(&mut tx, portfolio_id).await?;
    let settings = crate::finance::settings::get(&mut tx).await?;
    let (cands, _) = candidates::load(&mut tx, portfolio_id, &settings.reporting_currency).await?;
    let mut checks = Checks::new();
    checks.text("/name", &input.name, 200);
    checks.opt_text("/description", input.description.as_deref(), 10_000);
    checks.check((2000..=2100).contains(&input.first_fiscal_year), "/first_fiscal_year", "must be a year between 2000 and 2100");
    checks.check((1..=5).contains(&input.years), "/years", "must be 1 to 5");
    let rate = input.discount_rate.unwrap_or(settings.discount_rate);
    checks.check(rate > Decimal::NEGATIVE_ONE && rate <= Decimal::ONE, "/discount_rate", "must be above -1 and at most 1");
    let items = check_items(&mut checks, &cands, &input.items, "/items");
    checks.finish()?;
    let now = Utc::now();
    let s = Scenario {
        id: new_id(),
        portfolio_id: portfolio_id.to_owned(),
        name: input.name.trim().to_owned(),
        description: input.description,
        first_fiscal_year: input.first_fiscal_year,
        years: input.years,
        discount_rate: rate,
        state: ScenarioState::Draft,
        approved_by: None,
        approved_at: None,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    query(
        "INSERT INTO scenarios (id, portfolio_id, name, description, first_year, years, discount_rate, state, created_at, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1)",
    )
    .bind(&s.id)
    .bind(&s.portfolio_id)
    .bind(&s.name)
    .bind(s.description.clone())
    .bind(i64::from(s.first_fiscal_year))
    .bind(i64::from(s.years))
    .bind(s.discount_rate)
    .bind(s.state.as_str())
    .bind(now)
    .bind(now)
    .execute(&mut tx)
    .await
    .map_err(|e| Error::from_write(e, "this portfolio has a scenario with this name already", "/name"))?;
    write_items(&mut tx, &s.id, &items).await?;
    let d = ScenarioDetail { scenario: s, items, budget_version_ids: Vec::new() };
    audit::record(&mut tx, who, Action::Create, "scenario", &d.scenario.id, None::<&()>, Some(&d)).await?;
    tx.commit().await?;
    Ok(d)
}

fn ensure_draft(s: &Scenario) -> Result<()> {
    if s.state == ScenarioState::Draft {
        Ok(())
    } else {
        Err(Error::conflict(ConflictKind::Locked, format!("scenario {:?} is approved: it is the plan and no longer changes", s.name)))
    }
}

/// Replaces the scenario's items (include/exclude, shift, funding).
pub async fn replace_items(db: &Db, who: &Principal, id: &str, if_match: IfMatch, input: ScenarioItems) -> Result<ScenarioDetail> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.scenario.version, false)?;
    ensure_draft(&before.scenario)?;
    let currency = crate::finance::settings::reporting_currency(&mut tx).await?;
    let (cands, _) = candidates::load(&mut tx, &before.scenario.portfolio_id, &currency).await?;
    let mut checks = Checks::new();
    let items = check_items(&mut checks, &cands, &input.items, "/items");
    checks.finish()?;
    let now = Utc::now();
    query("UPDATE scenarios SET updated_at = $1, version = version + 1 WHERE id = $2 AND version = $3")
        .bind(now)
        .bind(id)
        .bind(before.scenario.version)
        .execute(&mut tx)
        .await
        .map_err(Error::from)
        .and_then(Error::ensure_updated)?;
    write_items(&mut tx, id, &items).await?;
    let after = ScenarioDetail {
        scenario: Scenario { updated_at: now, version: before.scenario.version + 1, ..before.scenario.clone() },
        items,
        budget_version_ids: Vec::new(),
    };
    audit::record(&mut tx, who, Action::Update, "scenario", id, Some(&before), Some(&after)).await?;
    tx.commit().await?;
    Ok(after)
}

const TABLE: patch::Table = patch::Table {
    name: "scenarios",
    entity: "scenario",
    duplicate: "this portfolio has a scenario with this name already",
    reference: "/name",
    in_use: "other records refer to the scenario",
};

pub async fn delete(db: &Db, who: &Principal, id: &str, if_match: IfMatch) -> Result<()> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.scenario.version, true)?;
    ensure_draft(&before.scenario)?;
    TABLE.delete(tx, who, id, (&before, before.scenario.version)).await
}

/// The included items with their horizon amounts (shifted and funded).
fn included<'a>(d: &ScenarioDetail, cands: &'a [Candidate]) -> Result<Vec<(&'a Candidate, Vec<YearEstimate>)>> {
    let by_id: HashMap<&str, &Candidate> = cands.iter().map(|c| (c.id.as_str(), c)).collect();
    let mut out = Vec::new();
    for i in d.items.iter().filter(|i| i.included) {
        let c = by_id.get(i.item_id.as_str()).ok_or_else(|| {
            Error::conflict(ConflictKind::InvalidTransition, format!("{} {} is no longer a candidate (finished, decided or moved): update the scenario", i.item_kind, i.item_id))
        })?;
        let h = candidates::in_horizon(&candidates::adjusted(&c.estimates, i.shift_years, i.funding), d.scenario.first_fiscal_year, d.scenario.years as usize);
        out.push((*c, h));
    }
    Ok(out)
}

fn summarise(d: &ScenarioDetail, chosen: &[(&Candidate, Vec<YearEstimate>)]) -> Result<ScenarioSummary> {
    let s = &d.scenario;
    let mut years: Vec<YearTotals> = (0..s.years as i32)
        .map(|k| YearTotals { fiscal_year: s.first_fiscal_year + k, capex: Decimal::ZERO, opex: Decimal::ZERO, benefit: Decimal::ZERO })
        .collect();
    let (mut npv, mut cost, mut risk, mut alignment) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    for (c, h) in chosen {
        for (y, e) in years.iter_mut().zip(h) {
            y.capex += e.capex;
            y.opex += e.opex;
            y.benefit += e.benefit;
        }
        npv += candidates::npv(h, s.discount_rate, Decimal::ONE)?;
        let item_cost: Decimal = h.iter().map(|e| e.capex + e.opex).sum();
        cost += item_cost;
        risk += item_cost * Decimal::from(c.risk);
        alignment += item_cost * c.alignment;
    }
    let mean = |v: Decimal| (!cost.is_zero()).then(|| (v / cost).round_dp(2));
    Ok(ScenarioSummary {
        scenario_id: s.id.clone(),
        name: s.name.clone(),
        state: s.state,
        items_included: chosen.len() as u32,
        capex: years.iter().map(|y| y.capex).sum(),
        opex: years.iter().map(|y| y.opex).sum(),
        benefit: years.iter().map(|y| y.benefit).sum(),
        years,
        npv,
        risk: mean(risk),
        alignment: mean(alignment),
    })
}

/// Side-by-side figures of 2 to 10 scenarios (of any portfolios).
pub async fn compare(db: &Db, params: &CompareParams) -> Result<Vec<ScenarioSummary>> {
    let ids: Vec<&str> = params.ids.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    if !(2..=10).contains(&ids.len()) {
        return Err(Error::Validation(vec![crate::error::FieldError::param("ids", "must name 2 to 10 scenarios, separated by commas")]));
    }
    let mut conn = db.clone();
    let currency = crate::finance::settings::reporting_currency(&mut conn).await?;
    let mut cache: HashMap<String, Vec<Candidate>> = HashMap::new();
    let mut out = Vec::new();
    for id in ids {
        let d = get(&mut conn, id).await?;
        if !cache.contains_key(&d.scenario.portfolio_id) {
            let (c, _) = candidates::load(&mut conn, &d.scenario.portfolio_id, &currency).await?;
            cache.insert(d.scenario.portfolio_id.clone(), c);
        }
        let cands = &cache[&d.scenario.portfolio_id];
        out.push(summarise(&d, &included(&d, cands)?)?);
    }
    Ok(out)
}

pub async fn summary(db: &Db, id: &str) -> Result<ScenarioSummary> {
    let mut conn = db.clone();
    let d = get(&mut conn, id).await?;
    let currency = crate::finance::settings::reporting_currency(&mut conn).await?;
    let (cands, _) = candidates::load(&mut conn, &d.scenario.portfolio_id, &currency).await?;
    summarise(&d, &included(&d, &cands)?)
}

/// Spreads `amount` evenly over `n` periods in cents; the last period takes
/// the rounding remainder, so the parts add up exactly.
fn spread(amount: Decimal, n: usize) -> Vec<Decimal> {
    let part = (amount / Decimal::from(n as u64)).round_dp(2);
    let mut parts = vec![part; n];
    parts[n - 1] = amount - part * Decimal::from(n as u64 - 1);
    parts
}

/// Makes the scenario the plan: one draft budget version per year of the
/// horizon, named after the scenario, with a CapEx and an OpEx line per item
/// (a project's own line; demands, not being projects yet, share one line
/// per cell) spread evenly over the year's periods.
pub async fn approve(db: &Db, who: &Principal, id: &str, if_match: IfMatch, input: ApproveScenario) -> Result<ApprovedScenario> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.scenario.version, false)?;
    ensure_draft(&before.scenario)?;

    let mut checks = Checks::new();
    crate::refs::check(&mut tx, &mut checks, "/cost_center_id", crate::refs::Ref::CostCenter, Some(&input.cost_center_id)).await?;
    for (pointer, type_id, want) in [("/capex_cost_type_id", &input.capex_cost_type_id, Classification::Capex), ("/opex_cost_type_id", &input.opex_cost_type_id, Classification::Opex)] {
        let row = query("SELECT classification FROM cost_types WHERE id = $1").bind(type_id).fetch_optional(&mut tx).await?;
        match row {
            None => checks.fail(pointer, "refers to a cost type that does not exist"),
            Some(r) => checks.check(Classification::from_db(&r.get::<String>("classification")?)? == want, pointer, &format!("must be a cost type classified {}", want.as_str())),
        }
    }
    checks.finish()?;

    let currency = crate::finance::settings::reporting_currency(&mut tx).await?;
    let (cands, _) = candidates::load(&mut tx, &before.scenario.portfolio_id, &currency).await?;
    let chosen = included(&before, &cands)?;
    let calendar = crate::finance::calendar::load(&mut tx).await?;
    let s = &before.scenario;
    let mut versions = Vec::new();
    for k in 0..s.years as usize {
        let fiscal_year = s.first_fiscal_year + k as i32;
        let v = budgets::create_in(
            &mut tx,
            who,
            NewBudgetVersion {
                name: format!("Scenario {}", s.name),
                fiscal_year,
                kind: Some(BudgetKind::Plan),
                currency: Some(currency.clone()),
                description: Some(format!("The plan of scenario {:?} ({}), approved by {}", s.name, s.id, who.subject)),
            },
        )
        .await
        .map_err(|e| match e {
            Error::Conflict { kind: ConflictKind::Duplicate, .. } => {
                Error::conflict(ConflictKind::Duplicate, format!("fiscal year {fiscal_year} has a budget version named \"Scenario {}\" already: rename the scenario", s.name))
            }
            e => e,
        })?;
        // Cells: (cost center, cost type, project) → (amount, notes).
        let mut cells: BTreeMap<(String, String, Option<String>), (Decimal, Vec<String>)> = BTreeMap::new();
        for (c, h) in &chosen {
            let cc = c.cost_center_id.clone().unwrap_or_else(|| input.cost_center_id.clone());
            let project = (c.kind == ItemKind::Project).then(|| c.id.clone());
            for (type_id, amount) in [(&input.capex_cost_type_id, h[k].capex), (&input.opex_cost_type_id, h[k].opex)] {
                if amount.is_zero() {
                    continue;
                }
                let cell = cells.entry((cc.clone(), type_id.clone(), project.clone())).or_default();
                cell.0 += amount;
                if c.kind == ItemKind::Demand {
                    cell.1.push(format!("demand {}", c.name));
                }
            }
        }
        let periods = calendar.periods(fiscal_year);
        for ((cc, ct, project), (amount, notes)) in cells {
            let note = if notes.is_empty() { format!("scenario {}", s.name) } else { format!("scenario {}: {}", s.name, notes.join(", ")) };
            let note: String = note.chars().take(2_000).collect();
            for (p, part) in periods.iter().zip(spread(amount, periods.len())) {
                if part.is_zero() {
                    continue;
                }
                budgets::lines::create_in(
                    &mut tx,
                    who,
                    &v.version,
                    NewBudgetLine {
                        fiscal_period: p.id,
                        cost_center_id: cc.clone(),
                        cost_type_id: ct.clone(),
                        project_id: project.clone(),
                        amount: part,
                        currency: None,
                        note: Some(note.clone()),
                    },
                )
                .await?;
            }
        }
        query("INSERT INTO scenario_budget_versions (scenario_id, budget_version_id, fiscal_year) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(&v.version.id)
            .bind(i64::from(fiscal_year))
            .execute(&mut tx)
            .await?;
        versions.push(budgets::get_detail(&mut tx, &v.version.id).await?);
    }
    let now = Utc::now();
    query("UPDATE scenarios SET state = $1, approved_by = $2, approved_at = $3, updated_at = $4, version = version + 1 WHERE id = $5 AND version = $6")
        .bind(ScenarioState::Approved.as_str())
        .bind(&who.subject)
        .bind(now)
        .bind(now)
        .bind(id)
        .bind(s.version)
        .execute(&mut tx)
        .await
        .map_err(Error::from)
        .and_then(Error::ensure_updated)?;
    let after = get(&mut tx, id).await?;
    audit::record(&mut tx, who, Action::Update, "scenario", id, Some(&before), Some(&after)).await?;
    tx.commit().await?;
    Ok(ApprovedScenario { scenario: after, budget_versions: versions })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spread_adds_up_exactly() {
        let parts = spread(Decimal::new(100_001, 2), 12);
        assert_eq!(parts.iter().copied().sum::<Decimal>(), Decimal::new(100_001, 2));
        assert_eq!(parts[0], Decimal::new(8333, 2));
    }
}
