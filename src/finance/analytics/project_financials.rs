//! Project financials: a project's (or a demand's) costs split CapEx/OpEx and
//! its benefits, time-phased by fiscal year and fiscal period, from three
//! sources side by side:
//! * **plan**: the business case's yearly estimates (CapEx, OpEx, benefit);
//!   estimates are yearly, so plan figures appear by fiscal year only;
//! * **budget**: the project's lines in each fiscal year's budget, that is the
//!   year's newest approved or locked plan version (else its newest plan);
//! * **actual**: ledger lines booked to the project.
//!
//! Amounts are in the project's (the demand's) currency; budget and ledger
//! lines in other currencies convert at their period's average rate, and the
//! answer lists the rates used (a missing one is a 422).
//!
//! [`yearly_cash_flows`] gives ROI models the costs and benefits per year.

use std::collections::BTreeMap;

use chrono::Utc;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::variance::{VersionRef, default_budget};
use crate::db::{Db, Executor, query};
use crate::error::{Error, Result};
use crate::finance::calendar::{self, FiscalPeriod};
use crate::finance::cost_types::Classification;
use crate::finance::fx::{Converter, RateUsed};
use crate::finance::rates::RateType;
use crate::portfolio::estimates::{self, Owner, YearEstimate};

/// Costs split by classification.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct CostSplit {
    #[schema(value_type = String, example = "120000.00")]
    pub capex: Decimal,
    #[schema(value_type = String, example = "30000.00")]
    pub opex: Decimal,
    #[schema(value_type = String, example = "150000.00")]
    pub total: Decimal,
}

impl CostSplit {
    fn add(&mut self, class: Classification, amount: Decimal) {
        match class {
            Classification::Capex => self.capex += amount,
            Classification::Opex => self.opex += amount,
        }
        self.total += amount;
    }

    fn plus(&mut self, other: &CostSplit) {
        self.capex += other.capex;
        self.opex += other.opex;
        self.total += other.total;
    }
}

/// The business case's figures for a year.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct PlanFigures {
    #[schema(value_type = String)]
    pub capex: Decimal,
    #[schema(value_type = String)]
    pub opex: Decimal,
    #[schema(value_type = String)]
    pub total: Decimal,
    #[schema(value_type = String)]
    pub benefit: Decimal,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FinancialYear {
    pub fiscal_year: i32,
    pub plan: PlanFigures,
    pub budget: CostSplit,
    pub actual: CostSplit,
    /// The version `budget` comes from, if the year has one.
    pub budget_version: Option<VersionRef>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FinancialPeriod {
    #[schema(value_type = String, example = "FY2027-P03")]
    pub fiscal_period: FiscalPeriod,
    pub budget: CostSplit,
    pub actual: CostSplit,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Financials {
    pub project_id: Option<String>,
    pub demand_id: Option<String>,
    pub currency: String,
    pub years: Vec<FinancialYear>,
    pub periods: Vec<FinancialPeriod>,
    pub totals: FinancialTotals,
    pub rates_used: Vec<RateUsed>,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct FinancialTotals {
    pub plan: PlanFigures,
    pub budget: CostSplit,
    pub actual: CostSplit,
}

/// Which figures [`yearly_cash_flows`] returns the costs of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CashFlowBasis {
    /// The business case's estimates.
    Plan,
    /// The budgets.
    Budget,
    /// The ledger.
    Actual,
    /// Actuals for fiscal years before the current one, the plan from it on.
    ActualThenPlan,
}

/// One year's cash flows, both as positive amounts: costs paid out, benefits
/// received. A model that follows Excel's sign convention uses
/// `benefits − costs`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct YearCashFlow {
    pub fiscal_year: i32,
    #[schema(value_type = String)]
    pub costs: Decimal,
    #[schema(value_type = String)]
    pub benefits: Decimal,
}

async fn project_row(ex: &mut impl Executor, id: &str) -> Result<(String, Option<String>)> {
    let row = query("SELECT currency, demand_id FROM projects WHERE id = $1")
        .bind(id)
        .fetch_optional(ex)
        .await?
        .ok_or_else(|| Error::not_found("project", id))?;
    Ok((row.get("currency")?, row.get("demand_id")?))
}

/// The financials of a project.
pub async fn of_project(db: &Db, project_id: &str) -> Result<Financials> {
    let mut ex = db.clone();
    let (currency, demand_id) = project_row(&mut ex, project_id).await?;
    let plan = estimates::load(&mut ex, Owner::Project, project_id).await?;
    build(&mut ex, Some(project_id.to_owned()), demand_id, currency, plan).await
}

/// The financials of a demand: its own estimates as the plan, and the budget
/// and actuals of the project it was approved into, if any.
pub async fn of_demand(db: &Db, demand_id: &str) -> Result<Financials> {
    let mut ex = db.clone();
    let row = query("SELECT d.currency, p.id AS project_id FROM demands d LEFT JOIN projects p ON p.demand_id = d.id WHERE d.id = $1")
        .bind(demand_id)
        .fetch_optional(&mut ex)
        .await?
        .ok_or_else(|| Error::not_found("demand", demand_id))?;
    let plan = estimates::load(&mut ex, Owner::Demand, demand_id).await?;
    build(&mut ex, row.get("project_id")?, Some(demand_id.to_owned()), row.get("currency")?, plan).await
}

async fn build(
    ex: &mut impl Executor,
    project_id: Option<String>,
    demand_id: Option<String>,
    currency: String,
    plan: Vec<YearEstimate>,
) -> Result<Financials> {
    let calendar = calendar::load(ex).await?;
    let mut converter = Converter::new(ex, &currency, RateType::Average).await?;
    let classes: BTreeMap<String, Classification> = query("SELECT id, classification FROM cost_types")
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| Ok((r.get::<String>("id")?, Classification::from_db(&r.get::<String>("classification")?)?)))
        .collect::<Result<_>>()?;

    let mut years: BTreeMap<i32, FinancialYear> = BTreeMap::new();
    fn entry(years: &mut BTreeMap<i32, FinancialYear>, y: i32) -> &mut FinancialYear {
        years.entry(y).or_insert_with(|| FinancialYear {
            fiscal_year: y,
            plan: PlanFigures::default(),
            budget: CostSplit::default(),
            actual: CostSplit::default(),
            budget_version: None,
        })
    }
    for e in &plan {
        let y = entry(&mut years, e.fiscal_year);
        y.plan = PlanFigures { capex: e.capex, opex: e.opex, total: e.capex + e.opex, benefit: e.benefit };
    }

    let mut periods: BTreeMap<FiscalPeriod, FinancialPeriod> = BTreeMap::new();
    if let Some(project) = &project_id {
        // Budget: each year's budget version, for the years the project has lines in.
        let rows = query(
            "SELECT DISTINCT v.fiscal_year FROM budget_lines l JOIN budget_versions v ON v.id = l.budget_version_id \
             WHERE l.project_id = $1 ORDER BY v.fiscal_year",
        )
        .bind(project)
        .fetch_all(ex)
        .await?;
        for row in rows {
            let fiscal_year = row.get::<i64>("fiscal_year")? as i32;
            let Some(version) = default_budget(ex, fiscal_year).await? else { continue };
            entry(&mut years, fiscal_year).budget_version = Some((&version).into());
            let lines = query(
                "SELECT fiscal_period, cost_type_id, currency, amount FROM budget_lines WHERE budget_version_id = $1 AND project_id = $2",
            )
            .bind(&version.id)
            .bind(project)
            .fetch_all(ex)
            .await?;
            for line in lines {
                let (period, class, amount) = read_line(ex, &line, &classes, &calendar, &mut converter).await?;
                entry(&mut years, period.year).budget.add(class, amount);
                period_entry(&mut periods, period).budget.add(class, amount);
            }
        }
        let lines = query("SELECT fiscal_period, cost_type_id, currency, amount FROM ledger_lines WHERE project_id = $1")
            .bind(project)
            .fetch_all(ex)
            .await?;
        for line in lines {
            let (period, class, amount) = read_line(ex, &line, &classes, &calendar, &mut converter).await?;
            entry(&mut years, period.year).actual.add(class, amount);
            period_entry(&mut periods, period).actual.add(class, amount);
        }
    }
    converter.finish()?;
    // Round once per cell, after adding up: conversions are exact until here.
    let round = |s: &mut CostSplit| {
        s.capex = converter.round(s.capex);
        s.opex = converter.round(s.opex);
        s.total = s.capex + s.opex;
    };
    let mut totals = FinancialTotals::default();
    for y in years.values_mut() {
        round(&mut y.budget);
        round(&mut y.actual);
        totals.plan.capex += y.plan.capex;
        totals.plan.opex += y.plan.opex;
        totals.plan.total += y.plan.total;
        totals.plan.benefit += y.plan.benefit;
        totals.budget.plus(&y.budget);
        totals.actual.plus(&y.actual);
    }
    for p in periods.values_mut() {
        round(&mut p.budget);
        round(&mut p.actual);
    }
    Ok(Financials {
        project_id,
        demand_id,
        currency,
        years: years.into_values().collect(),
        periods: periods.into_values().collect(),
        totals,
        rates_used: converter.rates_used(),
    })
}

fn period_entry(periods: &mut BTreeMap<FiscalPeriod, FinancialPeriod>, p: FiscalPeriod) -> &mut FinancialPeriod {
    periods.entry(p).or_insert_with(|| FinancialPeriod { fiscal_period: p, budget: CostSplit::default(), actual: CostSplit::default() })
}

async fn read_line(
    ex: &mut impl Executor,
    line: &crate::db::Row,
    classes: &BTreeMap<String, Classification>,
    calendar: &calendar::FiscalCalendar,
    converter: &mut Converter,
) -> Result<(FiscalPeriod, Classification, Decimal)> {
    let period: FiscalPeriod = line.get::<String>("fiscal_period")?.parse().map_err(|e: String| Error::Internal(anyhow::anyhow!(e)))?;
    let class = classes.get(&line.get::<String>("cost_type_id")?).copied().unwrap_or(Classification::Opex);
    let currency: String = line.get("currency")?;
    let amount = converter.convert_period(ex, calendar, line.decimal("amount")?, &currency, period).await?;
    Ok((period, class, amount))
}

/// A project's costs and benefits per fiscal year, for ROI models, in the
/// project's currency. Benefits always come from the plan (the ledger records
/// costs only); costs from `basis`.
pub async fn yearly_cash_flows(db: &Db, project_id: &str, basis: CashFlowBasis) -> Result<Vec<YearCashFlow>> {
    let f = of_project(db, project_id).await?;
    let current_year = calendar::load(&mut db.clone()).await?.year_of(Utc::now().date_naive());
    Ok(f.years
        .iter()
        .map(|y| {
            let costs = match basis {
                CashFlowBasis::Plan => y.plan.total,
                CashFlowBasis::Budget => y.budget.total,
                CashFlowBasis::Actual => y.actual.total,
                CashFlowBasis::ActualThenPlan if y.fiscal_year < current_year => y.actual.total,
                CashFlowBasis::ActualThenPlan => y.plan.total,
            };
            YearCashFlow { fiscal_year: y.fiscal_year, costs, benefits: y.plan.benefit }
        })
        .collect())
}
