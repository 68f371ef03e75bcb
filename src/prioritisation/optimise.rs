//! The optimiser's HTTP-facing domain layer: turns a portfolio's candidates
//! and the caller's constraints into an [`itbm_optimiser::Problem`], solves it
//! exactly, and explains the answer in the API's terms (ids, names, JSON
//! pointers into the request).

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use itbm_optimiser::{self as opt, Constraint, Reason, SolveError};

use super::ItemKind;
use super::candidates::{self, Candidate, Skipped};
use super::scenarios::{self, NewScenario, ScenarioItemInput};
use super::scoring;
use crate::auth::Principal;
use crate::db::Db;
use crate::error::{Error, FieldError, Result};
use crate::validate::Checks;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// NPV of each item's net cash flows (benefit − CapEx − OpEx) in the horizon.
    Npv,
    /// The item's score in a scoring framework (`framework_id`).
    Score,
    /// NPV with each benefit cut by 10 % per risk level above 1.
    RiskAdjustedNpv,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct YearAmount {
    pub fiscal_year: i32,
    #[schema(value_type = String, example = "1500000.00")]
    pub amount: Decimal,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleCapacity {
    pub role: String,
    pub fiscal_year: i32,
    /// Available effort (e.g. person-days).
    #[schema(value_type = String, example = "400")]
    pub available: Decimal,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemEffort {
    pub item_id: String,
    pub role: String,
    pub fiscal_year: i32,
    #[schema(value_type = String, example = "120")]
    pub amount: Decimal,
}

/// `item_id` may be chosen only together with `needs`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Dependency {
    pub item_id: String,
    pub needs: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OptimiseRequest {
    pub objective: Objective,
    /// Required for the `score` objective.
    pub framework_id: Option<String>,
    /// The first fiscal year of the horizon.
    pub first_fiscal_year: i32,
    /// 1 to 5 fiscal years; defaults to 1.
    pub years: Option<u32>,
    /// Defaults to the finance settings' `discount_rate`.
    #[schema(value_type = Option<String>, example = "0.08")]
    pub discount_rate: Option<Decimal>,
    /// Per-year CapEx budgets; a year not listed is unlimited.
    #[serde(default)]
    pub capex_budget: Vec<YearAmount>,
    #[serde(default)]
    pub opex_budget: Vec<YearAmount>,
    #[serde(default)]
    pub capacity: Vec<RoleCapacity>,
    #[serde(default)]
    pub effort: Vec<ItemEffort>,
    #[serde(default)]
    pub must_fund: Vec<String>,
    #[serde(default)]
    pub must_not: Vec<String>,
    #[serde(default)]
    pub dependencies: Vec<Dependency>,
    /// Groups of item ids of which at most one may be chosen.
    #[serde(default)]
    pub exclusions: Vec<Vec<String>>,
    /// Evaluate the items as this scenario shifts and funds them.
    pub scenario_id: Option<String>,
    /// 0 (default) to 50 frontier points.
    pub frontier_points: Option<u32>,
    /// Saves the chosen set as a new scenario with this name.
    pub save_as_scenario: Option<String>,
    /// Stop at this relative gap (default 0: proven optimal); at most 0.05.
    pub relative_gap: Option<f64>,
    /// Default 10, at most 60 seconds per solve.
    pub time_limit_secs: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemResult {
    pub item_kind: ItemKind,
    pub item_id: String,
    pub name: String,
    /// The item's objective value.
    #[schema(value_type = String)]
    pub value: Decimal,
}

/// Why an item was left out.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExclusionReason {
    /// `must_not`, `exclusion`, `capex_budget`, `opex_budget`, `capacity`,
    /// `lower_value` or `within_gap`.
    pub constraint: String,
    /// The fiscal year of a budget or capacity constraint.
    pub fiscal_year: Option<i32>,
    /// By how much the budget or capacity would be exceeded.
    #[schema(value_type = Option<String>)]
    pub excess: Option<Decimal>,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExcludedItem {
    #[serde(flatten)]
    pub item: ItemResult,
    pub reasons: Vec<ExclusionReason>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct YearResult {
    pub fiscal_year: i32,
    #[schema(value_type = String)]
    pub capex: Decimal,
    #[schema(value_type = String)]
    pub opex: Decimal,
    #[schema(value_type = String)]
    pub benefit: Decimal,
    #[schema(value_type = Option<String>)]
    pub capex_budget: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub opex_budget: Option<Decimal>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FrontierPoint {
    /// The share of every CapEx and OpEx budget.
    #[schema(value_type = String)]
    pub budget_factor: Decimal,
    #[schema(value_type = String)]
    pub capex_budget_total: Decimal,
    #[schema(value_type = String)]
    pub opex_budget_total: Decimal,
    /// Absent when the must-fund items do not fit this budget.
    #[schema(value_type = Option<String>)]
    pub objective_value: Option<Decimal>,
    pub selected: u32,
    pub optimal: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GreedyComparison {
    /// Objective of ranking by value per unit of cost and funding down the list.
    #[schema(value_type = String)]
    pub objective_value: Decimal,
    pub selected: u32,
    /// What the optimiser gains over it.
    #[schema(value_type = String)]
    pub gain: Decimal,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OptimiseResult {
    pub objective: Objective,
    /// `optimal` (proven within `relative_gap`) or `time_limit`.
    pub status: String,
    #[schema(value_type = String)]
    pub objective_value: Decimal,
    /// The solver's proven bound (a float: the solver's own arithmetic).
    pub bound: f64,
    /// Relative optimality gap (bound − value) / max(1, |value|); a float.
    pub gap: f64,
    pub solve_ms: u64,
    pub selected: Vec<ItemResult>,
    pub excluded: Vec<ExcludedItem>,
    pub years: Vec<YearResult>,
    pub greedy: GreedyComparison,
    pub frontier: Vec<FrontierPoint>,
    /// Candidates in another currency than the reporting currency.
    pub skipped: Vec<Skipped>,
    /// The scenario created by `save_as_scenario`.
    pub scenario_id: Option<String>,
}

/// The problem built from a request, with what is needed to explain it.
struct Built {
    problem: opt::Problem,
    items: Vec<(Candidate, Vec<crate::portfolio::estimates::YearEstimate>)>,
    pointer_of: HashMap<Constraint, String>,
}

fn check_request(r: &OptimiseRequest) -> Result<()> {
    let mut c = Checks::new();
    let years = r.years.unwrap_or(1);
    c.check((1..=5).contains(&years), "/years", "must be 1 to 5");
    c.check((2000..=2100).contains(&r.first_fiscal_year), "/first_fiscal_year", "must be a year between 2000 and 2100");
    let horizon = r.first_fiscal_year..r.first_fiscal_year + years as i32;
    if let Some(rate) = r.discount_rate {
        c.check(rate > Decimal::from(-1) && rate <= Decimal::ONE, "/discount_rate", "must be above -1 and at most 1");
    }
    c.check(r.objective != Objective::Score || r.framework_id.is_some(), "/framework_id", "is required for the score objective");
    for (name, list) in [("capex_budget", &r.capex_budget), ("opex_budget", &r.opex_budget)] {
        let mut seen = std::collections::HashSet::new();
        for (i, y) in list.iter().enumerate() {
            c.check(horizon.contains(&y.fiscal_year), &format!("/{name}/{i}/fiscal_year"), "must lie in the horizon");
            c.check(seen.insert(y.fiscal_year), &format!("/{name}/{i}/fiscal_year"), "appears twice");
            c.amount(&format!("/{name}/{i}/amount"), y.amount, false);
        }
    }
    for (i, cap) in r.capacity.iter().enumerate() {
        c.check(horizon.contains(&cap.fiscal_year), &format!("/capacity/{i}/fiscal_year"), "must lie in the horizon");
        c.text(&format!("/capacity/{i}/role"), &cap.role, 100);
        c.amount(&format!("/capacity/{i}/available"), cap.available, false);
    }
    for (i, e) in r.effort.iter().enumerate() {
        c.check(horizon.contains(&e.fiscal_year), &format!("/effort/{i}/fiscal_year"), "must lie in the horizon");
        c.amount(&format!("/effort/{i}/amount"), e.amount, false);
    }
    c.check(r.frontier_points.unwrap_or(0) <= 50, "/frontier_points", "must be at most 50");
    c.check(r.relative_gap.unwrap_or(0.0).is_finite() && (0.0..=0.05).contains(&r.relative_gap.unwrap_or(0.0)), "/relative_gap", "must be 0 to 0.05");
    c.check(r.time_limit_secs.unwrap_or(10.0).is_finite() && (0.1..=60.0).contains(&r.time_limit_secs.unwrap_or(10.0)), "/time_limit_secs", "must be 0.1 to 60");
    c.finish()
}

async fn build(db: &Db, portfolio_id: &str, r: &OptimiseRequest) -> Result<(Built, Vec<Skipped>)> {
    check_request(r)?;
    let mut conn = db.clone();
    crate::portfolio::portfolios::get(&mut conn, portfolio_id).await?;
    let settings = crate::finance::settings::get(&mut conn).await?;
    let (cands, skipped) = candidates::load(&mut conn, portfolio_id, &settings.reporting_currency).await?;
    let years = r.years.unwrap_or(1) as usize;
    let first = r.first_fiscal_year;
    let rate = r.discount_rate.unwrap_or(settings.discount_rate);

    // A scenario's adjustments: which items, shifted and funded how.
    let adjust: Option<HashMap<String, (bool, i32, Decimal)>> = match &r.scenario_id {
        Some(id) => {
            let s = scenarios::get(&mut conn, id).await.map_err(|e| match e {
                Error::NotFound { .. } => Error::invalid("/scenario_id", "no such scenario"),
                e => e,
            })?;
            if s.scenario.portfolio_id != portfolio_id {
                return Err(Error::invalid("/scenario_id", "belongs to another portfolio"));
            }
            Some(s.items.iter().map(|i| (i.item_id.clone(), (i.included, i.shift_years, i.funding))).collect())
        }
        None => None,
    };
    let scores: HashMap<String, Option<Decimal>> = match (&r.objective, &r.framework_id) {
        (Objective::Score, Some(fid)) => {
            let f = scoring::get(&mut conn, fid).await.map_err(|e| match e {
                Error::NotFound { .. } => Error::invalid("/framework_id", "no such scoring framework"),
                e => e,
            })?;
            scoring::score_candidates(&mut conn, &f, &cands).await?.into_iter().map(|s| (s.item_id, s.score)).collect()
        }
        _ => HashMap::new(),
    };

    let mut items = Vec::with_capacity(cands.len());
    let mut problem_items = Vec::with_capacity(cands.len());
    for c in cands {
        let (included, shift, funding) = match &adjust {
            Some(map) => map.get(&c.id).copied().unwrap_or((false, 0, Decimal::ONE)),
            None => (true, 0, Decimal::ONE),
        };
        if !included {
            // The scenario leaves it out: it is not a candidate.
            continue;
        }
        let horizon = candidates::in_horizon(&candidates::adjusted(&c.estimates, shift, funding), first, years);
        let value = match r.objective {
            Objective::Npv => candidates::npv(&horizon, rate, Decimal::ONE)?,
            Objective::RiskAdjustedNpv => candidates::npv(&horizon, rate, candidates::risk_share(c.risk))?,
            Objective::Score => scores.get(&c.id).copied().flatten().unwrap_or_default(),
        };
        let mut item = opt::Item::new(c.id.clone(), value, horizon.iter().map(|y| y.capex).collect(), horizon.iter().map(|y| y.opex).collect());
        item.must_fund = r.must_fund.contains(&c.id);
        item.must_not = r.must_not.contains(&c.id);
        problem_items.push(item);
        items.push((c, horizon));
    }
    let index: HashMap<&str, usize> = items.iter().enumerate().map(|(i, (c, _))| (c.id.as_str(), i)).collect();

    // Every id in the request must name a candidate.
    let mut checks = Checks::new();
    let mut pointer_of = HashMap::new();
    let known = |pointer: String, id: &str, checks: &mut Checks| -> Option<usize> {
        let found = index.get(id).copied();
        if found.is_none() {
            checks.fail(pointer, "is not a candidate of this portfolio (an open project or a demand awaiting decision, in the reporting currency)");
        }
        found
    };
    for (i, id) in r.must_fund.iter().enumerate() {
        known(format!("/must_fund/{i}"), id, &mut checks);
        pointer_of.insert(Constraint::MustFund { item: id.clone() }, format!("/must_fund/{i}"));
    }
    for (i, id) in r.must_not.iter().enumerate() {
        known(format!("/must_not/{i}"), id, &mut checks);
        pointer_of.insert(Constraint::MustNot { item: id.clone() }, format!("/must_not/{i}"));
    }
    let mut dependencies = Vec::new();
    for (i, d) in r.dependencies.iter().enumerate() {
        let a = known(format!("/dependencies/{i}/item_id"), &d.item_id, &mut checks);
        let b = known(format!("/dependencies/{i}/needs"), &d.needs, &mut checks);
        if let (Some(a), Some(b)) = (a, b) {
            dependencies.push((a, b));
        }
    }
    let mut exclusions = Vec::new();
    for (g, group) in r.exclusions.iter().enumerate() {
        let members: Vec<usize> = group.iter().enumerate().filter_map(|(j, id)| known(format!("/exclusions/{g}/{j}"), id, &mut checks)).collect();
        checks.check(group.len() >= 2, &format!("/exclusions/{g}"), "must name at least two items");
        pointer_of.insert(Constraint::Exclusion { group: g, items: group.clone() }, format!("/exclusions/{g}"));
        exclusions.push(members);
    }
    for (i, e) in r.effort.iter().enumerate() {
        if let Some(k) = known(format!("/effort/{i}/item_id"), &e.item_id, &mut checks) {
            *problem_items[k].effort.entry((e.role.clone(), (e.fiscal_year - first) as usize)).or_default() += e.amount;
        }
    }
    checks.finish()?;

    let budget = |list: &[YearAmount], name: &str, pointer_of: &mut HashMap<Constraint, String>| -> Vec<Option<Decimal>> {
        (0..years as i32)
            .map(|k| {
                let pos = list.iter().position(|y| y.fiscal_year == first + k);
                if let Some(p) = pos {
                    let c = if name == "capex_budget" { Constraint::Capex { year: first + k } } else { Constraint::Opex { year: first + k } };
                    pointer_of.insert(c, format!("/{name}/{p}/amount"));
                }
                pos.map(|p| list[p].amount)
            })
            .collect()
    };
    let capex_budget = budget(&r.capex_budget, "capex_budget", &mut pointer_of);
    let opex_budget = budget(&r.opex_budget, "opex_budget", &mut pointer_of);
    let mut capacity = BTreeMap::new();
    for (i, cap) in r.capacity.iter().enumerate() {
        capacity.insert((cap.role.clone(), (cap.fiscal_year - first) as usize), cap.available);
        pointer_of.insert(Constraint::Capacity { role: cap.role.clone(), year: cap.fiscal_year }, format!("/capacity/{i}/available"));
    }
    let problem = opt::Problem { years: (0..years as i32).map(|k| first + k).collect(), items: problem_items, capex_budget, opex_budget, capacity, dependencies, exclusions };
    Ok((Built { problem, items, pointer_of }, skipped))
}

/// Maps a solver refusal to a 422 naming the request's members.
fn refusal(b: &Built, err: SolveError) -> Error {
    let name = |key: &str| b.items.iter().find(|(c, _)| c.id == key).map(|(c, _)| format!("{} ({key})", c.name)).unwrap_or_else(|| key.to_owned());
    match err {
        SolveError::Cycle(keys) => {
            Error::invalid("/dependencies", format!("the dependencies form a cycle: {}", keys.iter().map(|k| name(k)).collect::<Vec<_>>().join(" needs ")))
        }
        SolveError::Infeasible(conflicts) => Error::Validation(
            conflicts
                .iter()
                .flat_map(|conflict| {
                    let message = conflict.constraints.iter().fold(conflict.message.clone(), |m, c| match c {
                        Constraint::MustFund { item } | Constraint::MustNot { item } => m.replace(item.as_str(), &name(item)),
                        _ => m,
                    });
                    conflict
                        .constraints
                        .iter()
                        .map(move |c| FieldError::at(b.pointer_of.get(c).cloned().unwrap_or_default(), format!("conflicts: {message}")))
                        .collect::<Vec<_>>()
                })
                .collect(),
        ),
        SolveError::Invalid(m) => Error::invalid("", m),
        SolveError::Solver(m) => Error::Internal(anyhow::anyhow!("optimiser: {m}")),
    }
}

fn reason_out(b: &Built, r: &Reason) -> ExclusionReason {
    let name = |key: &str| b.items.iter().find(|(c, _)| c.id == key).map(|(c, _)| c.name.clone()).unwrap_or_else(|| key.to_owned());
    let plain = |constraint: &str, detail: String| ExclusionReason { constraint: constraint.into(), fiscal_year: None, excess: None, detail };
    match r {
        Reason::MustNot { item } => plain("must_not", format!("{} is marked must-not", name(item))),
        Reason::Excluded { chosen, .. } => plain("exclusion", format!("mutually exclusive with {}, which is chosen", name(chosen))),
        Reason::Budget { constraint, excess } => {
            let (kind, year) = match constraint {
                Constraint::Capex { year } => ("capex_budget", Some(*year)),
                Constraint::Opex { year } => ("opex_budget", Some(*year)),
                Constraint::Capacity { year, .. } => ("capacity", Some(*year)),
                _ => ("budget", None),
            };
            ExclusionReason { constraint: kind.into(), fiscal_year: year, excess: Some(*excess), detail: format!("with it the {constraint} would be exceeded by {excess}") }
        }
        Reason::LowerValue { delta, with } => {
            let with = if with.is_empty() { String::new() } else { format!(" (with {})", with.iter().map(|k| name(k)).collect::<Vec<_>>().join(", ")) };
            plain("lower_value", format!("it fits, but adding it{with} changes the objective by {delta}"))
        }
        Reason::WithinGap { delta } => plain("within_gap", format!("it would add {delta}, within the optimality gap the solve stopped at")),
    }
}

pub async fn run(db: &Db, who: &Principal, portfolio_id: &str, r: OptimiseRequest) -> Result<OptimiseResult> {
    let (b, skipped) = build(db, portfolio_id, &r).await?;
    let options = opt::Options { relative_gap: r.relative_gap.unwrap_or(0.0), time_limit_secs: r.time_limit_secs.unwrap_or(10.0) };
    let started = Instant::now();
    // The solve is CPU-bound for up to the time limit: keep it off the
    // async workers.
    let problem = b.problem.clone();
    let points = r.frontier_points.unwrap_or(0) as usize;
    let (solved, frontier) = tokio::task::spawn_blocking(move || {
        let s = opt::solve(&problem, &options)?;
        let f = if points > 0 { opt::frontier(&problem, &options, points)? } else { Vec::new() };
        Ok::<_, SolveError>((s, f))
    })
    .await
    .map_err(|e| Error::Internal(anyhow::anyhow!("optimiser task: {e}")))?
    .map_err(|e| refusal(&b, e))?;
    let solve_ms = started.elapsed().as_millis() as u64;

    let item = |i: usize| ItemResult { item_kind: b.items[i].0.kind, item_id: b.items[i].0.id.clone(), name: b.items[i].0.name.clone(), value: b.problem.items[i].value };
    let selected: Vec<ItemResult> = (0..b.items.len()).filter(|i| solved.chosen[*i]).map(item).collect();
    let excluded = solved.reasons.iter().map(|(i, why)| ExcludedItem { item: item(*i), reasons: why.iter().map(|r| reason_out(&b, r)).collect() }).collect();
    let years = b
        .problem
        .years
        .iter()
        .enumerate()
        .map(|(k, fy)| YearResult {
            fiscal_year: *fy,
            capex: solved.totals.capex[k],
            opex: solved.totals.opex[k],
            benefit: b.items.iter().zip(&solved.chosen).filter(|(_, c)| **c).map(|((_, h), _)| h[k].benefit).sum(),
            capex_budget: b.problem.capex_budget[k],
            opex_budget: b.problem.opex_budget[k],
        })
        .collect();
    let greedy = opt::greedy_by_density(&b.problem);
    let greedy_value: Decimal = b.problem.items.iter().zip(&greedy).filter(|(_, c)| **c).map(|(i, _)| i.value).sum();
    let frontier = frontier
        .iter()
        .map(|p| FrontierPoint {
            budget_factor: p.budget_factor,
            capex_budget_total: b.problem.capex_budget.iter().flatten().map(|v| (*v * p.budget_factor).round_dp(2)).sum(),
            opex_budget_total: b.problem.opex_budget.iter().flatten().map(|v| (*v * p.budget_factor).round_dp(2)).sum(),
            objective_value: p.solution.as_ref().map(|s| s.objective),
            selected: p.solution.as_ref().map(|s| s.chosen.iter().filter(|c| **c).count() as u32).unwrap_or(0),
            optimal: p.solution.as_ref().is_some_and(|s| s.optimal),
        })
        .collect();

    let scenario_id = match &r.save_as_scenario {
        Some(name) => {
            let chosen: HashMap<&str, bool> = b.items.iter().zip(&solved.chosen).map(|((c, _), ch)| (c.id.as_str(), *ch)).collect();
            let base: HashMap<String, (i32, Decimal)> = match &r.scenario_id {
                Some(id) => scenarios::get(&mut db.clone(), id).await?.items.into_iter().map(|i| (i.item_id, (i.shift_years, i.funding))).collect(),
                None => HashMap::new(),
            };
            let items = b
                .items
                .iter()
                .map(|(c, _)| {
                    let (shift_years, funding) = base.get(&c.id).copied().unwrap_or((0, Decimal::ONE));
                    ScenarioItemInput { item_id: c.id.clone(), included: chosen[c.id.as_str()], shift_years: Some(shift_years), funding: Some(funding) }
                })
                .collect();
            let input = NewScenario {
                name: name.clone(),
                description: Some(format!("Chosen by the optimiser ({:?} objective, value {})", r.objective, solved.objective)),
                first_fiscal_year: r.first_fiscal_year,
                years: r.years.unwrap_or(1),
                discount_rate: r.discount_rate,
                items,
            };
            Some(scenarios::create(db, who, portfolio_id, input).await.map_err(|e| match e {
                Error::Validation(errs) => Error::Validation(errs.into_iter().map(|mut f| {
                    f.pointer = Some("/save_as_scenario".into());
                    f
                }).collect()),
                e => e,
            })?.scenario.id)
        }
        None => None,
    };

    Ok(OptimiseResult {
        objective: r.objective,
        status: if solved.optimal { "optimal".into() } else { "time_limit".into() },
        objective_value: solved.objective,
        bound: solved.bound,
        gap: solved.gap,
        solve_ms,
        selected,
        excluded,
        years,
        greedy: GreedyComparison { objective_value: greedy_value, selected: greedy.iter().filter(|c| **c).count() as u32, gain: solved.objective - greedy_value },
        frontier,
        skipped,
        scenario_id,
    })
}
