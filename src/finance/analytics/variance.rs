//! Budget versus forecast versus actual for one fiscal year, grouped by any of
//! fiscal period, cost center, project and cost type.
//!
//! # Definitions
//! With `through_period` the last period counted as elapsed (default: the
//! current period for the current year, P12 for a past one, none for a future
//! one) and `elapsed` its number:
//! * `budget`: the budget version's lines for the whole year; `budget_to_date`
//!   those of the elapsed periods;
//! * `forecast`: the reforecast version's lines for the whole year (null
//!   without a reforecast);
//! * `actual`: ledger lines of the elapsed periods, without depreciation
//!   (source `depreciation`), which restates capital purchases over time and
//!   would count them twice against a budget that plans the purchases; with
//!   `include_depreciation=true` it counts too (a P&L view);
//! * `variance = actual − budget_to_date` (positive: over budget) and
//!   `variance_percent = variance / budget_to_date × 100` (null when nothing
//!   was budgeted to date);
//! * `burn_rate = actual / elapsed`, per period;
//! * `run_rate_forecast = actual + burn_rate × (12 − elapsed)`;
//! * `eac` (estimate at completion) `= actual +` the forecast of the periods
//!   after `through_period` (the budget's, without a reforecast);
//!   `variance_at_completion = eac − budget`.
//!
//! Amounts in other currencies convert into the reporting currency at their
//! period's rate of `rate_type` (default `average`): the sum of each group,
//! currency and period is converted and rounded half to even to the reporting
//! currency's minor units, then added; the totals are the sums of the rows.
//! The report lists the rates used; a missing one is a 422 naming the currency
//! and period.

use std::collections::BTreeMap;

use chrono::Utc;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::{Db, Executor, query};
use crate::error::{Error, FieldError, Result};
use crate::finance::budgets::{self, BudgetKind, BudgetState, BudgetVersion};
use crate::finance::calendar::{self, FiscalPeriod};
use crate::finance::fx::{Converter, RateUsed};
use crate::finance::rates::RateType;

/// What a variance report can group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Period,
    CostCenter,
    Project,
    CostType,
}

impl Dimension {
    fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "period" | "fiscal_period" => Some(Dimension::Period),
            "cost_center" => Some(Dimension::CostCenter),
            "project" => Some(Dimension::Project),
            "cost_type" => Some(Dimension::CostType),
            _ => None,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VarianceQuery {
    /// The fiscal year, named after the calendar year it ends in.
    pub fiscal_year: i32,
    /// Default: the year's newest approved or locked plan (else its newest plan).
    pub budget_version_id: Option<String>,
    /// Default: the year's newest reforecast, if any.
    pub forecast_version_id: Option<String>,
    /// The last elapsed period, in the fiscal year.
    #[param(value_type = Option<String>, example = "FY2027-P03")]
    pub through_period: Option<FiscalPeriod>,
    /// Comma-separated: `period`, `cost_center`, `project`, `cost_type`. Default `period`.
    pub group_by: Option<String>,
    /// The rate type amounts in other currencies convert at; default `average`.
    pub rate_type: Option<RateType>,
    /// Count depreciation lines as actuals; default false.
    pub include_depreciation: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VersionRef {
    pub id: String,
    pub name: String,
    pub kind: BudgetKind,
    pub state: BudgetState,
}

impl From<&BudgetVersion> for VersionRef {
    fn from(v: &BudgetVersion) -> Self {
        VersionRef { id: v.id.clone(), name: v.name.clone(), kind: v.kind, state: v.state }
    }
}

/// One group's figures, in the reporting currency. The grouping fields not
/// grouped by are null (as is `project_id` for spend outside projects).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct VarianceRow {
    #[schema(value_type = Option<String>)]
    pub fiscal_period: Option<FiscalPeriod>,
    pub cost_center_id: Option<String>,
    pub project_id: Option<String>,
    pub cost_type_id: Option<String>,
    #[schema(value_type = String)]
    pub budget: Decimal,
    #[schema(value_type = String)]
    pub budget_to_date: Decimal,
    #[schema(value_type = Option<String>)]
    pub forecast: Option<Decimal>,
    #[schema(value_type = String)]
    pub actual: Decimal,
    #[schema(value_type = String)]
    pub variance: Decimal,
    #[schema(value_type = Option<String>)]
    pub variance_percent: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub burn_rate: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub run_rate_forecast: Option<Decimal>,
    #[schema(value_type = String)]
    pub eac: Decimal,
    #[schema(value_type = String)]
    pub variance_at_completion: Decimal,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VarianceReport {
    pub fiscal_year: i32,
    /// The reporting currency every amount is in.
    pub currency: String,
    pub rate_type: RateType,
    pub budget_version: VersionRef,
    pub forecast_version: Option<VersionRef>,
    #[schema(value_type = Option<String>)]
    pub through_period: Option<FiscalPeriod>,
    pub elapsed_periods: u32,
    pub group_by: Vec<Dimension>,
    /// `forecast` or `budget`: what EAC adds for the periods to come.
    pub eac_basis: String,
    pub rows: Vec<VarianceRow>,
    pub totals: VarianceRow,
    pub rates_used: Vec<RateUsed>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
struct Key {
    period: Option<FiscalPeriod>,
    cost_center: Option<String>,
    project: Option<String>,
    cost_type: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Measure {
    Budget,
    Forecast,
    Actual,
}

/// The figures of one group before the derived ones.
#[derive(Debug, Default, Clone)]
struct Sums {
    budget: Decimal,
    budget_to_date: Decimal,
    forecast: Decimal,
    forecast_after: Decimal,
    budget_after: Decimal,
    actual: Decimal,
}

fn parse_dimensions(text: Option<&str>) -> Result<Vec<Dimension>> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else { return Ok(vec![Dimension::Period]) };
    let mut out = Vec::new();
    for part in text.split(',') {
        let d = Dimension::parse(part).ok_or_else(|| {
            Error::Validation(vec![FieldError::param(
                "group_by",
                format!("{:?} is not one of period, cost_center, project, cost_type", part.trim()),
            )])
        })?;
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

async fn version_of_year(ex: &mut impl Executor, id: &str, year: i32, param: &str) -> Result<BudgetVersion> {
    let v = budgets::get(ex, id).await.map_err(|e| match e {
        Error::NotFound { .. } => Error::Validation(vec![FieldError::param(param, format!("no budget version has the id {id:?}"))]),
        other => other,
    })?;
    if v.fiscal_year != year {
        return Err(Error::Validation(vec![FieldError::param(
            param,
            format!("budget version {:?} is for FY{}, not FY{year}", v.name, v.fiscal_year),
        )]));
    }
    Ok(v)
}

/// The year's versions, newest first.
async fn versions_of_year(ex: &mut impl Executor, year: i32) -> Result<Vec<BudgetVersion>> {
    let rows = query("SELECT id FROM budget_versions WHERE fiscal_year = $1 ORDER BY created_at DESC, id DESC")
        .bind(i64::from(year))
        .fetch_all(ex)
        .await?;
    let mut out = Vec::new();
    for row in rows {
        out.push(budgets::get(ex, &row.get::<String>("id")?).await?);
    }
    Ok(out)
}

/// The version a year's reports count as its budget: the newest approved or
/// locked plan, else the newest plan.
pub(crate) async fn default_budget(ex: &mut impl Executor, year: i32) -> Result<Option<BudgetVersion>> {
    let versions = versions_of_year(ex, year).await?;
    let plans = || versions.iter().filter(|v| v.kind == BudgetKind::Plan);
    Ok(plans()
        .find(|v| matches!(v.state, BudgetState::Approved | BudgetState::Locked))
        .or_else(|| plans().next())
        .cloned())
}

/// Sums of `amount` by (group, currency, period) of one measure's lines.
type Raw = BTreeMap<(Key, Measure, String, FiscalPeriod), Decimal>;

async fn collect(ex: &mut impl Executor, raw: &mut Raw, sql: &'static str, binds: &[String], measure: Measure, dims: &[Dimension]) -> Result<()> {
    let mut q = query(sql);
    for b in binds {
        q = q.bind(b);
    }
    for row in q.fetch_all(ex).await? {
        let period: FiscalPeriod =
            row.get::<String>("fiscal_period")?.parse().map_err(|e: String| Error::Internal(anyhow::anyhow!(e)))?;
        let mut key = Key::default();
        for d in dims {
            match d {
                Dimension::Period => key.period = Some(period),
                Dimension::CostCenter => key.cost_center = Some(row.get("cost_center_id")?),
                Dimension::Project => key.project = row.get("project_id")?,
                Dimension::CostType => key.cost_type = Some(row.get("cost_type_id")?),
            }
        }
        *raw.entry((key, measure, row.get("currency")?, period)).or_default() += row.decimal("amount")?;
    }
    Ok(())
}

fn percent(part: Decimal, whole: Decimal) -> Option<Decimal> {
    (!whole.is_zero()).then(|| (part * Decimal::ONE_HUNDRED / whole).round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven))
}

fn derive(key: Key, s: &Sums, has_forecast: bool, elapsed: u32, converter: &Converter) -> VarianceRow {
    let burn_rate = (elapsed > 0).then(|| converter.round(s.actual / Decimal::from(elapsed)));
    let variance = s.actual - s.budget_to_date;
    let eac = s.actual + if has_forecast { s.forecast_after } else { s.budget_after };
    VarianceRow {
        fiscal_period: key.period,
        cost_center_id: key.cost_center,
        project_id: key.project,
        cost_type_id: key.cost_type,
        budget: s.budget,
        budget_to_date: s.budget_to_date,
        forecast: has_forecast.then_some(s.forecast),
        actual: s.actual,
        variance,
        variance_percent: percent(variance, s.budget_to_date),
        burn_rate,
        run_rate_forecast: burn_rate.map(|b| s.actual + b * Decimal::from(12 - elapsed)),
        eac,
        variance_at_completion: eac - s.budget,
    }
}

pub async fn report(db: &Db, q: &VarianceQuery) -> Result<VarianceReport> {
    let mut ex = db.clone();
    let year = q.fiscal_year;
    if !(2000..=2100).contains(&year) {
        return Err(Error::Validation(vec![FieldError::param("fiscal_year", "must be a year between 2000 and 2100")]));
    }
    let dims = parse_dimensions(q.group_by.as_deref())?;
    let calendar = calendar::load(&mut ex).await?;
    let budget = match &q.budget_version_id {
        Some(id) => version_of_year(&mut ex, id, year, "budget_version_id").await?,
        None => default_budget(&mut ex, year).await?.ok_or_else(|| {
            Error::Validation(vec![FieldError::param("budget_version_id", format!("FY{year} has no plan budget version"))])
        })?,
    };
    let forecast = match &q.forecast_version_id {
        Some(id) => Some(version_of_year(&mut ex, id, year, "forecast_version_id").await?),
        None => versions_of_year(&mut ex, year).await?.into_iter().find(|v| v.kind == BudgetKind::Reforecast),
    };
    let through = match q.through_period {
        Some(p) if p.year != year => {
            return Err(Error::Validation(vec![FieldError::param("through_period", format!("{p} is not in FY{year}"))]));
        }
        Some(p) => Some(p),
        None => {
            let today = calendar.period_of(Utc::now().date_naive());
            if today.year == year {
                Some(today)
            } else if today.year > year {
                Some(FiscalPeriod { year, number: 12 })
            } else {
                None
            }
        }
    };
    let elapsed = through.map_or(0, |p| p.number);
    let is_elapsed = |p: FiscalPeriod| through.is_some_and(|t| p <= t);

    let mut raw = Raw::new();
    let lines = "SELECT fiscal_period, cost_center_id, cost_type_id, project_id, currency, amount FROM budget_lines \
                 WHERE budget_version_id = $1";
    collect(&mut ex, &mut raw, lines, std::slice::from_ref(&budget.id), Measure::Budget, &dims).await?;
    if let Some(f) = &forecast {
        collect(&mut ex, &mut raw, lines, std::slice::from_ref(&f.id), Measure::Forecast, &dims).await?;
    }
    let ledger = if q.include_depreciation.unwrap_or(false) {
        "SELECT fiscal_period, cost_center_id, cost_type_id, project_id, currency, amount FROM ledger_lines \
         WHERE fiscal_period >= $1 AND fiscal_period <= $2"
    } else {
        "SELECT fiscal_period, cost_center_id, cost_type_id, project_id, currency, amount FROM ledger_lines \
         WHERE fiscal_period >= $1 AND fiscal_period <= $2 AND source <> 'depreciation'"
    };
    let bounds = [FiscalPeriod { year, number: 1 }.to_string(), through.map_or(String::new(), |t| t.to_string())];
    if through.is_some() {
        collect(&mut ex, &mut raw, ledger, &bounds, Measure::Actual, &dims).await?;
    }

    let rate_type = q.rate_type.unwrap_or(RateType::Average);
    let mut converter = Converter::reporting(&mut ex, rate_type).await?;
    let mut sums: BTreeMap<Key, Sums> = BTreeMap::new();
    for ((key, measure, currency, period), amount) in raw {
        let converted = converter.convert_period(&mut ex, &calendar, amount, &currency, period).await?;
        let value = converter.round(converted);
        let s = sums.entry(key).or_default();
        match measure {
            Measure::Budget => {
                s.budget += value;
                if is_elapsed(period) {
                    s.budget_to_date += value;
                } else {
                    s.budget_after += value;
                }
            }
            Measure::Forecast => {
                s.forecast += value;
                if !is_elapsed(period) {
                    s.forecast_after += value;
                }
            }
            Measure::Actual => s.actual += value,
        }
    }
    converter.finish()?;

    let has_forecast = forecast.is_some();
    let mut total = Sums::default();
    let mut rows = Vec::with_capacity(sums.len());
    for (key, s) in sums {
        total.budget += s.budget;
        total.budget_to_date += s.budget_to_date;
        total.budget_after += s.budget_after;
        total.forecast += s.forecast;
        total.forecast_after += s.forecast_after;
        total.actual += s.actual;
        rows.push(derive(key, &s, has_forecast, elapsed, &converter));
    }
    Ok(VarianceReport {
        fiscal_year: year,
        currency: converter.to.clone(),
        rate_type,
        budget_version: (&budget).into(),
        forecast_version: forecast.as_ref().map(Into::into),
        through_period: through,
        elapsed_periods: elapsed,
        group_by: dims,
        eac_basis: if has_forecast { "forecast" } else { "budget" }.into(),
        totals: derive(Key::default(), &total, has_forecast, elapsed, &converter),
        rows,
        rates_used: converter.rates_used(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_by_accepts_known_dimensions_once_each() {
        assert_eq!(parse_dimensions(None).unwrap(), [Dimension::Period]);
        assert_eq!(
            parse_dimensions(Some("cost_center, project,cost_center")).unwrap(),
            [Dimension::CostCenter, Dimension::Project]
        );
        assert!(parse_dimensions(Some("vendor")).is_err());
    }

    #[test]
    fn percentages_need_a_budget() {
        assert_eq!(percent(Decimal::new(25, 0), Decimal::new(200, 0)), Some(Decimal::new(1250, 2)));
        assert_eq!(percent(Decimal::ONE, Decimal::ZERO), None);
    }
}
