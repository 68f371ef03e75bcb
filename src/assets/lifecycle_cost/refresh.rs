//! The refresh forecast: assets in use (in stock, deployed, in maintenance)
//! whose end of life falls within the next N months, or has passed already
//! (overdue, planned for the current period), with what replacing them costs,
//! and, on request, those replacements written into a draft budget version.
//!
//! An asset's end of life is its `end_of_life`, else its in-service (or
//! acquisition) date plus its useful life. Its replacement costs its purchase
//! cost plus `uplift_percent` (price increases), rounded half to even to its
//! currency's minor units, and is planned in the fiscal period of its end of
//! life, on its cost center and cost type.
//!
//! Writing into a version adds each replacement to its budget cell (period,
//! cost center, cost type, no project), creating the line when the cell has
//! none, and remembers it (`budget_refresh_entries`): writing again adds only
//! assets the version does not hold yet, and never overwrites what was planned
//! in a cell. Amounts in another currency than the cell's line (or the
//! version's, for a new line) convert at the `budget` rate of the end-of-life
//! month, else its `average` rate; a missing rate is a 422.

use std::collections::BTreeMap;

use chrono::{Months, NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::assets::depreciation::{CurrencyAmount, SkippedAsset, minor_units};
use crate::assets::{Asset, AssetState};
use crate::auth::Principal;
use crate::db::{Db, Executor, query};
use crate::error::{Error, FieldError, Result};
use crate::finance::budgets::{self, lines};
use crate::finance::calendar::{self, FiscalPeriod};
use crate::finance::rates::{self, RateMonth, RateType};

const MAX_MONTHS: u32 = 120;
const DEFAULT_MONTHS: u32 = 12;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RefreshQuery {
    /// The horizon: 1 to 120 months from today; default 12.
    pub months: Option<u32>,
    /// Price change of a replacement over its purchase cost, in percent (e.g. `5` or `-10`); default 0.
    #[param(value_type = Option<String>, example = "5")]
    pub uplift_percent: Option<Decimal>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRefreshBudget {
    /// A draft version; only replacements in its fiscal year are written.
    pub budget_version_id: String,
    /// As for the forecast: 1 to 120, default 12.
    pub months: Option<u32>,
    #[schema(value_type = Option<String>, example = "5")]
    pub uplift_percent: Option<Decimal>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RefreshItem {
    pub asset_id: String,
    pub name: String,
    pub state: AssetState,
    pub end_of_life: NaiveDate,
    /// The end of life has passed and the asset is still in use.
    pub overdue: bool,
    /// Where the replacement is planned.
    #[schema(value_type = String, example = "FY2027-P03")]
    pub fiscal_period: FiscalPeriod,
    pub cost_center_id: Option<String>,
    pub cost_type_id: Option<String>,
    pub service_id: Option<String>,
    pub currency: String,
    #[schema(value_type = String, example = "1574.95")]
    pub replacement_cost: Decimal,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RefreshForecast {
    pub from: NaiveDate,
    pub until: NaiveDate,
    #[schema(value_type = String)]
    pub uplift_percent: Decimal,
    pub items: Vec<RefreshItem>,
    /// Replacement costs per currency.
    pub totals: Vec<CurrencyAmount>,
    /// Assets reaching end of life without a purchase cost to price them.
    pub unpriced: Vec<SkippedAsset>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RefreshBudgetEntry {
    pub asset_id: String,
    pub budget_line_id: String,
    #[schema(value_type = String)]
    pub fiscal_period: FiscalPeriod,
    /// What was added to the line, in the line's currency.
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub currency: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RefreshBudgetResult {
    pub budget_version_id: String,
    pub added: Vec<RefreshBudgetEntry>,
    pub lines_created: u32,
    pub lines_updated: u32,
    /// Assets whose replacement the version holds from an earlier write.
    pub already_in_version: Vec<String>,
    /// Assets whose replacement falls in another fiscal year.
    pub outside_fiscal_year: Vec<String>,
    /// Assets that cannot be planned, and why.
    pub skipped: Vec<SkippedAsset>,
}

fn horizon(months: Option<u32>, pointer: FieldLocation) -> Result<u32> {
    let months = months.unwrap_or(DEFAULT_MONTHS);
    if !(1..=MAX_MONTHS).contains(&months) {
        let detail = format!("must be between 1 and {MAX_MONTHS}");
        return Err(Error::Validation(vec![match pointer {
            FieldLocation::Query => FieldError::param("months", detail),
            FieldLocation::Body => FieldError::at("/months", detail),
        }]));
    }
    Ok(months)
}

fn uplift(value: Option<Decimal>, pointer: FieldLocation) -> Result<Decimal> {
    let value = value.unwrap_or_default();
    if value <= Decimal::from(-100) || value > Decimal::from(1000) || value.scale() > 6 {
        let detail = "must be above -100 and at most 1000 percent, with at most 6 decimals";
        return Err(Error::Validation(vec![match pointer {
            FieldLocation::Query => FieldError::param("uplift_percent", detail),
            FieldLocation::Body => FieldError::at("/uplift_percent", detail),
        }]));
    }
    Ok(value)
}

#[derive(Clone, Copy)]
enum FieldLocation {
    Query,
    Body,
}

/// The end of life of an asset, planned or derived from its life.
fn end_of_life(a: &Asset) -> Option<NaiveDate> {
    a.end_of_life.or_else(|| {
        let start = a.in_service_date.or(a.acquisition_date)?;
        Some(start + Months::new(u32::try_from(a.useful_life_months?).ok()?))
    })
}

async fn forecast_in(ex: &mut impl Executor, today: NaiveDate, months: u32, uplift_percent: Decimal) -> Result<RefreshForecast> {
    let until = today + Months::new(months);
    let calendar = calendar::load(ex).await?;
    let rows = query("SELECT id FROM assets WHERE state IN ('in_stock', 'deployed', 'in_maintenance') ORDER BY id")
        .fetch_all(ex)
        .await?;
    let ids = rows.iter().map(|r| r.get::<String>("id")).collect::<std::result::Result<Vec<_>, _>>()?;
    let mut items = Vec::new();
    let mut unpriced = Vec::new();
    let mut units: BTreeMap<String, u32> = BTreeMap::new();
    for chunk in ids.chunks(200) {
        for asset in crate::assets::fetch_many(ex, chunk).await? {
            let Some(eol) = end_of_life(&asset).filter(|d| *d <= until) else { continue };
            let Some(cost) = asset.purchase_cost else {
                unpriced.push(SkippedAsset { asset_id: asset.id.clone(), reason: "has no purchase_cost".into() });
                continue;
            };
            let minor = match units.get(&asset.currency) {
                Some(u) => *u,
                None => *units.entry(asset.currency.clone()).or_insert(minor_units(ex, &asset.currency).await?),
            };
            let mut replacement_cost = (cost * (Decimal::ONE_HUNDRED + uplift_percent) / Decimal::ONE_HUNDRED)
                .round_dp_with_strategy(minor, RoundingStrategy::MidpointNearestEven);
            replacement_cost.rescale(minor);
            let overdue = eol < today;
            items.push(RefreshItem {
                asset_id: asset.id.clone(),
                name: asset.name.clone(),
                state: asset.state,
                end_of_life: eol,
                overdue,
                fiscal_period: calendar.period_of(if overdue { today } else { eol }),
                cost_center_id: asset.cost_center_id.clone(),
                cost_type_id: asset.cost_type_id.clone(),
                service_id: asset.service_id.clone(),
                currency: asset.currency.clone(),
                replacement_cost,
            });
        }
    }
    items.sort_by(|a, b| (a.end_of_life, &a.asset_id).cmp(&(b.end_of_life, &b.asset_id)));
    let mut totals: BTreeMap<String, Decimal> = BTreeMap::new();
    for item in &items {
        *totals.entry(item.currency.clone()).or_default() += item.replacement_cost;
    }
    Ok(RefreshForecast {
        from: today,
        until,
        uplift_percent,
        items,
        totals: totals.into_iter().map(|(currency, amount)| CurrencyAmount { currency, amount }).collect(),
        unpriced,
    })
}

pub async fn forecast(db: &Db, q: &RefreshQuery) -> Result<RefreshForecast> {
    let months = horizon(q.months, FieldLocation::Query)?;
    let uplift_percent = uplift(q.uplift_percent, FieldLocation::Query)?;
    forecast_in(&mut db.clone(), Utc::now().date_naive(), months, uplift_percent).await
}

/// The rate converting `from` into `to` in `month`: the budget rate, else the average one.
async fn planning_rate(ex: &mut impl Executor, from: &str, to: &str, month: RateMonth) -> Result<Option<Decimal>> {
    for rate_type in [RateType::Budget, RateType::Average] {
        if let Some(rate) = rates::rate_for(ex, from, to, month, rate_type).await? {
            return Ok(Some(rate));
        }
    }
    Ok(None)
}

/// Writes the forecast's replacements into a draft budget version (see the
/// module documentation). One transaction: a 422 (a missing rate) or 409 (not
/// a draft) writes nothing.
pub async fn write_into_budget(db: &Db, who: &Principal, input: NewRefreshBudget) -> Result<RefreshBudgetResult> {
    let months = horizon(input.months, FieldLocation::Body)?;
    let uplift_percent = uplift(input.uplift_percent, FieldLocation::Body)?;
    let mut tx = db.begin().await?;
    let exists = query("SELECT 1 AS found FROM budget_versions WHERE id = $1").bind(&input.budget_version_id).fetch_optional(&mut tx).await?;
    if exists.is_none() {
        return Err(Error::invalid("/budget_version_id", format!("no budget version has the id {:?}", input.budget_version_id)));
    }
    let version = budgets::lock_draft(&mut tx, &input.budget_version_id).await?;
    let forecast = forecast_in(&mut tx, Utc::now().date_naive(), months, uplift_percent).await?;
    let held: std::collections::HashSet<String> = query("SELECT asset_id FROM budget_refresh_entries WHERE budget_version_id = $1")
        .bind(&version.id)
        .fetch_all(&mut tx)
        .await?
        .iter()
        .map(|r| r.get::<String>("asset_id"))
        .collect::<std::result::Result<_, _>>()?;
    let mut result = RefreshBudgetResult {
        budget_version_id: version.id.clone(),
        added: Vec::new(),
        lines_created: 0,
        lines_updated: 0,
        already_in_version: Vec::new(),
        outside_fiscal_year: Vec::new(),
        skipped: forecast.unpriced.clone(),
    };
    let mut missing = Vec::new();
    let mut lines_touched = std::collections::HashSet::new();
    for item in &forecast.items {
        if item.fiscal_period.year != version.fiscal_year {
            result.outside_fiscal_year.push(item.asset_id.clone());
            continue;
        }
        if held.contains(&item.asset_id) {
            result.already_in_version.push(item.asset_id.clone());
            continue;
        }
        let (Some(cost_center), Some(cost_type)) = (&item.cost_center_id, &item.cost_type_id) else {
            let reason = "needs a cost_center_id and a cost_type_id to be planned".to_owned();
            result.skipped.push(SkippedAsset { asset_id: item.asset_id.clone(), reason });
            continue;
        };
        let currency = lines::cell_currency(&mut tx, &version.id, item.fiscal_period, cost_center, cost_type, None)
            .await?
            .unwrap_or_else(|| version.currency.clone());
        let amount = if currency == item.currency {
            item.replacement_cost
        } else {
            let month = RateMonth::of(item.end_of_life.max(forecast.from));
            match planning_rate(&mut tx, &item.currency, &currency, month).await? {
                Some(rate) => {
                    let minor = minor_units(&mut tx, &currency).await?;
                    (item.replacement_cost * rate).round_dp_with_strategy(minor, RoundingStrategy::MidpointNearestEven)
                }
                None => {
                    missing.push(FieldError::at(
                        "/budget_version_id",
                        format!("no budget or average exchange rate converts {} into {currency} for {month} (fiscal period {})", item.currency, item.fiscal_period),
                    ));
                    continue;
                }
            }
        };
        let note = "Refresh forecast: replacements of assets reaching end of life";
        let (line, created) = lines::add_to_cell(&mut tx, who, &version, item.fiscal_period, cost_center, cost_type, None, amount, &currency, note).await?;
        if lines_touched.insert(line.id.clone()) {
            if created {
                result.lines_created += 1;
            } else {
                result.lines_updated += 1;
            }
        }
        query(
            "INSERT INTO budget_refresh_entries (budget_version_id, asset_id, budget_line_id, fiscal_period, amount, currency, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&version.id)
        .bind(&item.asset_id)
        .bind(&line.id)
        .bind(item.fiscal_period.to_string())
        .bind(amount)
        .bind(&currency)
        .bind(Utc::now())
        .execute(&mut tx)
        .await?;
        result.added.push(RefreshBudgetEntry {
            asset_id: item.asset_id.clone(),
            budget_line_id: line.id,
            fiscal_period: item.fiscal_period,
            amount,
            currency,
        });
    }
    if !missing.is_empty() {
        return Err(Error::Validation(missing));
    }
    tx.commit().await?;
    Ok(result)
}
