//! Depreciation of assets: book and tax schedules, the value of an asset on
//! any date, and runs that post the book depreciation to the cost ledger.
//!
//! The arithmetic is in [`schedule`]; this module reads assets, picks their
//! book or tax settings and posts. **Tax settings** live on each asset
//! (`tax_depreciation`: method, convention, life and tax salvage); an asset
//! without them has a tax schedule equal to its book schedule, and the answer
//! says which settings it used.

pub mod http;
pub mod schedule;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Asset, DepreciationConvention, DepreciationMethod};
use crate::auth::Principal;
use crate::db::{Db, Executor, query};
use crate::error::{Error, FieldError, Result};
use crate::finance::calendar::{self, FiscalCalendar, FiscalPeriod};
use crate::ledger::{self, NewLedgerLine};
pub use schedule::{PeriodDepreciation, YearDepreciation};

/// The ledger source of depreciation lines; their source key is
/// `{asset id}:book:{fiscal period}`, so each is posted once.
pub const SOURCE: &str = "depreciation";

/// Which set of depreciation rules.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Book {
    /// The financial books: what the ledger receives.
    #[default]
    Book,
    /// Tax depreciation, from the asset's tax settings (or its book settings
    /// when it has none).
    Tax,
}

impl Book {
    fn as_str(self) -> &'static str {
        match self {
            Book::Book => "book",
            Book::Tax => "tax",
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScheduleQuery {
    /// `book` (default) or `tax`.
    pub book: Option<Book>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ValueQuery {
    /// The date, past or future.
    pub date: NaiveDate,
    /// `book` (default) or `tax`.
    pub book: Option<Book>,
}

/// The settings a schedule was computed with.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScheduleSettings {
    pub method: DepreciationMethod,
    pub convention: DepreciationConvention,
    pub useful_life_months: i32,
    #[schema(value_type = String, example = "2400.00")]
    pub cost: Decimal,
    #[schema(value_type = String, example = "300.00")]
    pub salvage: Decimal,
    pub in_service_date: NaiveDate,
    pub currency: String,
    /// Where the settings came from: `book`, `tax`, or `book` for a tax
    /// schedule of an asset without tax settings.
    pub source: Book,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DepreciationSchedule {
    pub asset_id: String,
    pub book: Book,
    pub settings: ScheduleSettings,
    /// `cost − salvage`: what the periods add up to, exactly (with
    /// `not_depreciated` for a disposed asset).
    #[schema(value_type = String, example = "2100.00")]
    pub depreciable_amount: Decimal,
    /// The asset was disposed of that day: the schedule ends with the period
    /// that holds the day (depreciated in full).
    pub disposed_on: Option<NaiveDate>,
    /// What disposal left undepreciated: `depreciable_amount` minus the periods.
    #[schema(value_type = String, example = "0")]
    pub not_depreciated: Decimal,
    pub periods: Vec<PeriodDepreciation>,
    pub years: Vec<YearDepreciation>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssetValue {
    pub asset_id: String,
    pub book: Book,
    pub date: NaiveDate,
    pub currency: String,
    #[schema(value_type = String, example = "2400.00")]
    pub cost: Decimal,
    #[schema(value_type = String, example = "520.00")]
    pub accumulated_depreciation: Decimal,
    /// `cost − accumulated_depreciation − written_off`; 0 once disposed of.
    #[schema(value_type = String, example = "1880.00")]
    pub book_value: Decimal,
    /// The carrying amount taken off the books at disposal (0 before it).
    #[schema(value_type = String, example = "0")]
    pub written_off: Decimal,
}

/// The decimal places of `currency` (ISO 4217 minor units).
pub(crate) async fn minor_units(ex: &mut impl Executor, currency: &str) -> Result<u32> {
    let row = query("SELECT minor_units FROM currencies WHERE code = $1").bind(currency).fetch_optional(ex).await?;
    Ok(row.map(|r| r.get::<i64>("minor_units")).transpose()?.unwrap_or(2) as u32)
}

/// The settings of `asset` for `book`, or why it has no schedule.
fn settings(asset: &Asset, book: Book) -> std::result::Result<ScheduleSettings, String> {
    let cost = asset.purchase_cost.ok_or("the asset has no purchase_cost")?;
    let in_service_date = asset.in_service_date.ok_or("the asset has no in_service_date: it depreciates from the day it enters service")?;
    let (method, convention, life, salvage, source) = match (book, &asset.tax_depreciation) {
        (Book::Tax, Some(tax)) => (tax.method, tax.convention, Some(tax.useful_life_months), tax.residual_value, Book::Tax),
        _ => (asset.depreciation_method, asset.depreciation_convention, asset.useful_life_months, asset.residual_value, Book::Book),
    };
    if method == DepreciationMethod::None {
        return Err(format!("the asset does not depreciate in its {} settings (method none)", source.as_str()));
    }
    let useful_life_months = life.filter(|m| *m > 0).ok_or("the asset has no useful_life_months")?;
    Ok(ScheduleSettings { method, convention, useful_life_months, cost, salvage, in_service_date, currency: asset.currency.clone(), source })
}

/// The schedule of `asset` for `book`; `Err(reason)` when it has none.
pub(crate) fn compute(
    asset: &Asset,
    book: Book,
    calendar: &FiscalCalendar,
    minor_units: u32,
) -> Result<std::result::Result<DepreciationSchedule, String>> {
    let settings = match settings(asset, book) {
        Ok(s) => s,
        Err(reason) => return Ok(Err(reason)),
    };
    let basis = schedule::Basis {
        cost: settings.cost,
        salvage: settings.salvage,
        method: settings.method,
        convention: settings.convention,
        life_months: settings.useful_life_months as u32,
        in_service: settings.in_service_date,
        minor_units,
    };
    let mut periods = match schedule::compute(&basis, calendar) {
        Ok(p) => p,
        Err(e) => return Ok(Err(e.to_string())),
    };
    if let Some(day) = asset.disposed_on {
        periods.retain(|p| p.start_date <= day);
    }
    let years = schedule::by_year(&periods);
    let depreciable_amount = settings.cost - settings.salvage;
    Ok(Ok(DepreciationSchedule {
        asset_id: asset.id.clone(),
        book,
        depreciable_amount,
        disposed_on: asset.disposed_on,
        not_depreciated: depreciable_amount - periods.iter().map(|p| p.amount).sum::<Decimal>(),
        settings,
        periods,
        years,
    }))
}

/// The schedule of one asset; 422 naming the missing setting when it has none.
pub async fn schedule_of(db: &Db, asset_id: &str, book: Book) -> Result<DepreciationSchedule> {
    let mut ex = db.clone();
    let asset = super::get(&mut ex, asset_id).await?;
    let calendar = calendar::load(&mut ex).await?;
    let minor = minor_units(&mut ex, &asset.currency).await?;
    compute(&asset, book, &calendar, minor)?
        .map_err(|reason| Error::Validation(vec![FieldError::param("book", format!("asset {asset_id} has no {} schedule: {reason}", book.as_str()))]))
}

/// The value of an asset at the end of `date`. An asset that does not
/// depreciate keeps its cost.
pub async fn value_of(db: &Db, asset_id: &str, date: NaiveDate, book: Book) -> Result<AssetValue> {
    let mut ex = db.clone();
    let asset = super::get(&mut ex, asset_id).await?;
    let calendar = calendar::load(&mut ex).await?;
    let minor = minor_units(&mut ex, &asset.currency).await?;
    value_on(&asset, date, book, &calendar, minor)
}

pub(crate) fn value_on(asset: &Asset, date: NaiveDate, book: Book, calendar: &FiscalCalendar, minor: u32) -> Result<AssetValue> {
    let cost = asset
        .purchase_cost
        .ok_or_else(|| Error::Validation(vec![FieldError::param("date", format!("asset {} has no purchase_cost to value", asset.id))]))?;
    let accumulated = match compute(asset, book, calendar, minor)? {
        Ok(s) => schedule::accumulated_on(&s.periods, date, minor),
        Err(_) if asset.depreciation_method == DepreciationMethod::None && book == Book::Book => Decimal::ZERO,
        Err(reason) => {
            return Err(Error::Validation(vec![FieldError::param("date", format!("asset {} cannot be valued: {reason}", asset.id))]));
        }
    };
    let carrying = cost - accumulated;
    let written_off = if asset.disposed_on.is_some_and(|day| day <= date) { carrying } else { Decimal::ZERO };
    Ok(AssetValue {
        asset_id: asset.id.clone(),
        book,
        date,
        currency: asset.currency.clone(),
        cost,
        accumulated_depreciation: accumulated,
        book_value: carrying - written_off,
        written_off,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDepreciationRun {
    /// Post every period up to and including this one.
    pub through_period: FiscalPeriod,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SkippedAsset {
    pub asset_id: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CurrencyAmount {
    pub currency: String,
    #[schema(value_type = String, example = "1250.00")]
    pub amount: Decimal,
}

/// What a run posted. Running again posts only periods not posted before.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DepreciationRun {
    pub through_period: FiscalPeriod,
    /// Depreciating assets in service looked at.
    pub assets: u32,
    pub lines_posted: u32,
    /// Lines of earlier runs, not posted again.
    pub lines_already_posted: u32,
    /// What this run posted, per currency.
    pub posted: Vec<CurrencyAmount>,
    /// Assets that depreciate but could not be posted, and why.
    pub skipped: Vec<SkippedAsset>,
}

/// Posts each depreciating asset's book depreciation of every period up to
/// `through_period` to the ledger (source [`SOURCE`], key
/// `{asset}:book:{period}`), dated the last day of the period, on the asset's
/// cost type, cost center and service. One transaction; periods posted by an
/// earlier run are skipped, so a run can be repeated safely. A period already
/// posted is final: changing an asset's settings later changes only the
/// periods not yet posted.
pub async fn run(db: &Db, who: &Principal, input: NewDepreciationRun) -> Result<DepreciationRun> {
    let through = input.through_period;
    let mut tx = db.begin().await?;
    let calendar = calendar::load(&mut tx).await?;
    let rows = query(
        "SELECT id FROM assets WHERE depreciation_method <> 'none' AND in_service_date IS NOT NULL ORDER BY in_service_date, id",
    )
    .fetch_all(&mut tx)
    .await?;
    let ids = rows.iter().map(|r| r.get::<String>("id")).collect::<std::result::Result<Vec<_>, _>>()?;
    let mut result = DepreciationRun {
        through_period: through,
        assets: 0,
        lines_posted: 0,
        lines_already_posted: 0,
        posted: Vec::new(),
        skipped: Vec::new(),
    };
    let mut minor: BTreeMap<String, u32> = BTreeMap::new();
    let mut lines = Vec::new();
    for chunk in ids.chunks(200) {
        for asset in super::fetch_many(&mut tx, chunk).await? {
            result.assets += 1;
            let (Some(cost_type_id), Some(cost_center_id)) = (asset.cost_type_id.clone(), asset.cost_center_id.clone()) else {
                let reason = "needs a cost_type_id and a cost_center_id to be posted to the ledger".to_owned();
                result.skipped.push(SkippedAsset { asset_id: asset.id.clone(), reason });
                continue;
            };
            let units = match minor.get(&asset.currency) {
                Some(u) => *u,
                None => {
                    let u = minor_units(&mut tx, &asset.currency).await?;
                    minor.insert(asset.currency.clone(), u);
                    u
                }
            };
            let schedule = match compute(&asset, Book::Book, &calendar, units)? {
                Ok(s) => s,
                Err(reason) => {
                    result.skipped.push(SkippedAsset { asset_id: asset.id.clone(), reason });
                    continue;
                }
            };
            for p in schedule.periods.iter().filter(|p| p.fiscal_period <= through && !p.amount.is_zero()) {
                lines.push(NewLedgerLine {
                    entry_date: p.end_date,
                    amount: p.amount,
                    currency: asset.currency.clone(),
                    cost_type_id: cost_type_id.clone(),
                    cost_center_id: cost_center_id.clone(),
                    project_id: None,
                    asset_id: Some(asset.id.clone()),
                    vendor_id: None,
                    service_id: asset.service_id.clone(),
                    cost_pool_id: None,
                    tower_id: None,
                    description: Some(format!("Depreciation of {}, {}", asset.name, p.fiscal_period)),
                    tags: Default::default(),
                    source_key: Some(format!("{}:book:{}", asset.id, p.fiscal_period)),
                });
            }
        }
    }
    // Skip what earlier runs posted before validating, so a repeated run does
    // no work per old line beyond this lookup.
    let posted_before: std::collections::HashSet<String> = query("SELECT source_key FROM ledger_lines WHERE source = $1")
        .bind(SOURCE)
        .fetch_all(&mut tx)
        .await?
        .iter()
        .map(|r| r.get::<String>("source_key"))
        .collect::<std::result::Result<_, _>>()?;
    let (old, new): (Vec<_>, Vec<_>) =
        lines.into_iter().partition(|l| l.source_key.as_ref().is_some_and(|k| posted_before.contains(k)));
    result.lines_already_posted = old.len() as u32;
    let outcome = ledger::post_lines(&mut tx, who, SOURCE, new).await?;
    result.lines_already_posted += outcome.duplicates.len() as u32;
    result.lines_posted = outcome.inserted.len() as u32;
    let mut by_currency: BTreeMap<String, Decimal> = BTreeMap::new();
    for line in &outcome.inserted {
        *by_currency.entry(line.currency.clone()).or_default() += line.amount;
    }
    result.posted = by_currency.into_iter().map(|(currency, amount)| CurrencyAmount { currency, amount }).collect();
    tx.commit().await?;
    Ok(result)
}
