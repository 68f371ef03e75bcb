//! Asset lifecycle cost: total cost of ownership (TCO) per asset and per
//! service, and the refresh forecast ([`refresh`]).
//!
//! # TCO up to a date (`as_of`, default today)
//! `tco = acquisition + running costs + ITSM effort + ITOM usage share − residual value`, where
//! * **acquisition** is the CapEx ledger lines on the asset (its purchase).
//!   The recorded `purchase_cost` stands in when there is none and the asset
//!   is capitalised (it depreciates), or when no ledger line refers to the
//!   asset at all: assets bought before the ledger began, or bought outside it;
//! * **running costs** are the OpEx ledger lines on the asset: maintenance and
//!   support contracts, licences, cloud charges. For a service, every line
//!   booked to the service or to one of its assets counts (CapEx ones as
//!   acquisition, OpEx ones as running costs);
//! * **ITSM effort** (synchronised ticket hours at the labour rate) and
//!   **ITOM usage share** (utilisation-driven allocation) come from
//!   [`hooks`], which says exactly how; each is null when it cannot be
//!   costed (no labour rate; no utilisation-driven allocation);
//! * **residual value** is the book value on `as_of` of a depreciating asset
//!   (what has not been consumed yet), else its recorded `residual_value`;
//!   0 once the asset is disposed of.
//!
//! Depreciation lines (source `depreciation`) never count: they spread the
//! acquisition over time and would count it twice. Amounts convert into the
//! reporting currency at the average rate of their month (ledger lines: their
//! period; the purchase cost: its acquisition or in-service month; the residual
//! value: `as_of`'s month), rounded half to even; the answer lists the rates.
//! **Monthly TCO** is the TCO over the months since the asset entered service
//! (for a service, since its first cost or asset), the month of `as_of`
//! included.

pub mod hooks;
pub mod http;
pub mod refresh;

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::depreciation::{self, Book};
use super::{Asset, DepreciationMethod};
use crate::db::{Db, Executor, Row, query};
use crate::error::{Error, Result};
use crate::finance::calendar::{self, FiscalCalendar, FiscalPeriod};
use crate::finance::cost_types::Classification;
use crate::finance::fx::{Converter, RateUsed};
use crate::finance::rates::{RateMonth, RateType};
use hooks::Scope;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TcoQuery {
    /// Costs up to and including this date; default today.
    pub as_of: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CostTypeAmount {
    pub cost_type_id: String,
    pub classification: Classification,
    #[schema(value_type = String)]
    pub amount: Decimal,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Tco {
    /// The asset or service.
    pub id: String,
    /// `asset` or `service`.
    pub scope: String,
    pub as_of: NaiveDate,
    /// The reporting currency.
    pub currency: String,
    /// Assets counted (1 for an asset).
    pub assets: u32,
    #[schema(value_type = String)]
    pub acquisition: Decimal,
    /// Of `acquisition`, the recorded purchase costs standing in for missing ledger lines.
    #[schema(value_type = String)]
    pub acquisition_from_purchase_cost: Decimal,
    #[schema(value_type = String)]
    pub running_costs: Decimal,
    /// Ledger costs by cost type (acquisition and running).
    pub by_cost_type: Vec<CostTypeAmount>,
    /// Hours of the synchronised ITSM tickets on the scope.
    #[schema(value_type = String)]
    pub itsm_effort_hours: Decimal,
    /// Those hours at the finance settings' labour rate; null while no rate is set.
    #[schema(value_type = Option<String>)]
    pub itsm_effort: Option<Decimal>,
    /// Shared cost placed by utilisation (ITOM) in the TBM allocation; null
    /// when no allocation run placed utilisation-driven money on the service.
    #[schema(value_type = Option<String>)]
    pub itom_usage_share: Option<Decimal>,
    #[schema(value_type = String)]
    pub residual_value: Decimal,
    #[schema(value_type = String)]
    pub tco: Decimal,
    pub months_in_service: u32,
    /// `tco / months_in_service`; null before the first month of service.
    #[schema(value_type = Option<String>)]
    pub monthly_tco: Option<Decimal>,
    pub rates_used: Vec<RateUsed>,
}

/// Lines of the scope, without depreciation, up to `as_of`.
async fn lines(ex: &mut impl Executor, scope: Scope<'_>, as_of: NaiveDate) -> Result<Vec<Row>> {
    let base = "SELECT asset_id, cost_type_id, currency, amount, fiscal_period, entry_date FROM ledger_lines \
                WHERE source <> 'depreciation' AND entry_date <= $2 AND ";
    let sql = match scope {
        Scope::Asset(_) => format!("{base}asset_id = $1"),
        Scope::Service(_) => format!("{base}(service_id = $1 OR asset_id IN (SELECT id FROM assets WHERE service_id = $1))"),
    };
    Ok(query(sql).bind(scope.id()).bind(as_of).fetch_all(ex).await?)
}

fn months_between(from: NaiveDate, to: NaiveDate) -> u32 {
    let months = (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32 + 1;
    months.max(0) as u32
}

/// The TCO of `assets` and `lines` (see the module documentation).
async fn compute(ex: &mut impl Executor, scope: Scope<'_>, assets: &[Asset], as_of: NaiveDate) -> Result<Tco> {
    let asset = match scope {
        Scope::Asset(_) => assets.first(),
        Scope::Service(_) => None,
    };
    let calendar: FiscalCalendar = calendar::load(ex).await?;
    let mut converter = Converter::reporting(ex, RateType::Average).await?;
    let classes: BTreeMap<String, Classification> = query("SELECT id, classification FROM cost_types")
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| Ok((r.get::<String>("id")?, Classification::from_db(&r.get::<String>("classification")?)?)))
        .collect::<Result<_>>()?;

    let mut by_type: BTreeMap<String, Decimal> = BTreeMap::new();
    // Assets with CapEx lines, and with any lines.
    let mut capex_assets = std::collections::HashSet::new();
    let mut booked_assets = std::collections::HashSet::new();
    let mut first_cost: Option<NaiveDate> = None;
    for row in lines(ex, scope, as_of).await? {
        let period: FiscalPeriod = row.get::<String>("fiscal_period")?.parse().map_err(|e: String| Error::Internal(anyhow::anyhow!(e)))?;
        let cost_type: String = row.get("cost_type_id")?;
        let currency: String = row.get("currency")?;
        let amount = converter.convert_period(ex, &calendar, row.decimal("amount")?, &currency, period).await?;
        if let Some(asset) = row.get::<Option<String>>("asset_id")? {
            if classes.get(&cost_type) == Some(&Classification::Capex) {
                capex_assets.insert(asset.clone());
            }
            booked_assets.insert(asset);
        }
        let date: NaiveDate = row.get("entry_date")?;
        first_cost = Some(first_cost.map_or(date, |d| d.min(date)));
        *by_type.entry(cost_type).or_default() += amount;
    }

    let mut from_purchase = Decimal::ZERO;
    let mut residual = Decimal::ZERO;
    let mut first_service: Option<NaiveDate> = None;
    for asset in assets {
        let depreciates = asset.depreciation_method != DepreciationMethod::None;
        if let Some(start) = asset.in_service_date.filter(|d| *d <= as_of) {
            first_service = Some(first_service.map_or(start, |d| d.min(start)));
        }
        let bought = asset.acquisition_date.or(asset.in_service_date);
        if let (Some(cost), Some(bought)) = (asset.purchase_cost, bought.filter(|d| *d <= as_of)) {
            let stands_in = if depreciates { !capex_assets.contains(&asset.id) } else { !booked_assets.contains(&asset.id) };
            if stands_in {
                from_purchase += converter.convert(ex, cost, &asset.currency, RateMonth::of(bought)).await?;
            }
            let value = if asset.disposed_on.is_some_and(|day| day <= as_of) {
                Decimal::ZERO // nothing left to recover
            } else if depreciates && asset.in_service_date.is_some() {
                let minor = depreciation::minor_units(ex, &asset.currency).await?;
                depreciation::value_on(asset, as_of, Book::Book, &calendar, minor)?.book_value
            } else if depreciates {
                cost
            } else {
                asset.residual_value
            };
            residual += converter.convert(ex, value, &asset.currency, RateMonth::of(as_of)).await?;
        }
    }
    let usage = hooks::itom_usage_share(ex, scope, asset, as_of, &calendar, &mut converter).await?;
    converter.finish()?;

    let mut acquisition = Decimal::ZERO;
    let mut running = Decimal::ZERO;
    let by_cost_type: Vec<CostTypeAmount> = by_type
        .into_iter()
        .map(|(cost_type_id, amount)| {
            let amount = converter.round(amount);
            let classification = classes.get(&cost_type_id).copied().unwrap_or(Classification::Opex);
            match classification {
                Classification::Capex => acquisition += amount,
                Classification::Opex => running += amount,
            }
            CostTypeAmount { cost_type_id, classification, amount }
        })
        .collect();
    let from_purchase = converter.round(from_purchase);
    acquisition += from_purchase;
    let residual = converter.round(residual);
    let effort = hooks::itsm_effort(ex, scope, as_of, &converter).await?;
    let tco = acquisition + running + effort.cost.unwrap_or_default() + usage.unwrap_or_default() - residual;
    let start = match scope {
        Scope::Asset(_) => first_service,
        Scope::Service(_) => [first_service, first_cost].into_iter().flatten().min(),
    };
    let months = start.map_or(0, |s| months_between(s, as_of));
    Ok(Tco {
        id: scope.id().to_owned(),
        scope: scope.name().to_owned(),
        as_of,
        currency: converter.to.clone(),
        assets: assets.len() as u32,
        acquisition,
        acquisition_from_purchase_cost: from_purchase,
        running_costs: running,
        by_cost_type,
        itsm_effort_hours: effort.hours,
        itsm_effort: effort.cost,
        itom_usage_share: usage,
        residual_value: residual,
        tco,
        months_in_service: months,
        monthly_tco: (months > 0).then(|| converter.round(tco / Decimal::from(months))),
        rates_used: converter.rates_used(),
    })
}

pub async fn of_asset(db: &Db, id: &str, q: &TcoQuery) -> Result<Tco> {
    let mut ex = db.clone();
    let asset = super::get(&mut ex, id).await?;
    compute(&mut ex, Scope::Asset(id), &[asset], q.as_of.unwrap_or_else(|| Utc::now().date_naive())).await
}

pub async fn of_service(db: &Db, id: &str, q: &TcoQuery) -> Result<Tco> {
    let mut ex = db.clone();
    crate::finance::services::get(&mut ex, id).await?;
    let rows = query("SELECT id FROM assets WHERE service_id = $1 ORDER BY id").bind(id).fetch_all(&mut ex).await?;
    let ids = rows.iter().map(|r| r.get::<String>("id")).collect::<std::result::Result<Vec<_>, _>>()?;
    let mut assets = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(200) {
        assets.extend(super::fetch_many(&mut ex, chunk).await?);
    }
    compute(&mut ex, Scope::Service(id), &assets, q.as_of.unwrap_or_else(|| Utc::now().date_naive())).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_in_service_count_both_ends() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(months_between(d(2026, 1, 31), d(2026, 1, 31)), 1);
        assert_eq!(months_between(d(2025, 11, 3), d(2026, 2, 1)), 4);
        assert_eq!(months_between(d(2026, 3, 1), d(2026, 2, 1)), 0);
    }
}
