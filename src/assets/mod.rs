//! IT assets and their lifecycle: hardware, software, licences, contracts and
//! cloud resources, with what they cost, how they depreciate, and the
//! identifiers under which other systems (CMDBs, cloud accounts, connectors)
//! report them.

pub mod depreciation;
pub mod http;
pub mod lifecycle_cost;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::audit::{self, Action};
use crate::auth::Principal;
use crate::db::{Db, Executor, Row, Tx, query};
use crate::error::{ConflictKind, Error, Result};
use crate::http::extract::IfMatch;
use crate::listing::{Page, PageParams, Select, Sortable};
use crate::patch::{self, new_id};
use crate::refs::{self, Ref};
use crate::validate::Checks;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssetKind {
    Hardware,
    Software,
    Licence,
    Contract,
    CloudResource,
}

crate::text_enum!(AssetKind {
    Hardware = "hardware",
    Software = "software",
    Licence = "licence",
    Contract = "contract",
    CloudResource = "cloud_resource",
});

/// Where an asset is in its life. The legal steps are [`AssetState::next`]:
///
/// ```text
/// requested ──▶ ordered ──▶ in_stock ──▶ deployed ⇄ in_maintenance
///     │            │          ▲  │         │  │          │
///     │            │          └──┼─────────┘  │          │ (back to stock)
///     │            │             ▼            ▼          ▼
///     │            │          retired ◀───────┴──────────┘
///     │            │             │
///     └────────────┴─────────▶ disposed (final)
/// ```
///
/// A request or order abandoned before delivery goes straight to disposed:
/// there is no separate cancelled state, and the record stays for the audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssetState {
    Requested,
    Ordered,
    InStock,
    Deployed,
    InMaintenance,
    Retired,
    Disposed,
}

crate::text_enum!(AssetState {
    Requested = "requested",
    Ordered = "ordered",
    InStock = "in_stock",
    Deployed = "deployed",
    InMaintenance = "in_maintenance",
    Retired = "retired",
    Disposed = "disposed",
});

impl crate::lifecycle::Lifecycle for AssetState {
    /// The states an asset may move to from this one.
    fn next(self) -> &'static [AssetState] {
        use AssetState::*;
        match self {
            Requested => &[Ordered, Disposed],
            Ordered => &[InStock, Disposed],
            InStock => &[Deployed, Retired],
            Deployed => &[InMaintenance, InStock, Retired],
            InMaintenance => &[Deployed, InStock, Retired],
            Retired => &[Disposed],
            Disposed => &[],
        }
    }
}


/// How the depreciation engine spreads an asset's cost over its useful life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DepreciationMethod {
    /// Not depreciated (expensed, leased, or not a capital asset).
    None,
    StraightLine,
    DecliningBalance,
    DoubleDecliningBalance,
    SumOfYearsDigits,
}

crate::text_enum!(DepreciationMethod {
    None = "none",
    StraightLine = "straight_line",
    DecliningBalance = "declining_balance",
    DoubleDecliningBalance = "double_declining_balance",
    SumOfYearsDigits = "sum_of_years_digits",
});

/// How the first and last periods of depreciation are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DepreciationConvention {
    /// A whole month from the month the asset enters service.
    FullMonth,
    /// Half a year in the first and in the last year.
    HalfYear,
    /// Pro rata by day.
    Daily,
}

crate::text_enum!(DepreciationConvention { FullMonth = "full_month", HalfYear = "half_year", Daily = "daily" });

/// How an asset depreciates for tax purposes when that differs from its books
/// (a shorter tax life, an accelerated method). Without these settings the tax
/// schedule is the book schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxDepreciation {
    pub method: DepreciationMethod,
    pub convention: DepreciationConvention,
    /// 1 to 600.
    pub useful_life_months: i32,
    /// The tax salvage value; defaults to 0 and is at most `purchase_cost`.
    #[serde(default)]
    #[schema(value_type = String, example = "0")]
    pub residual_value: Decimal,
}

/// An identifier under which a source (a CMDB, a cloud account, a connector)
/// reports the asset. Each `(source, external_id)` names one asset.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceId {
    pub source: String,
    pub external_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Asset {
    pub id: String,
    pub name: String,
    pub kind: AssetKind,
    pub state: AssetState,
    /// The organisation's unique inventory tag.
    pub asset_tag: Option<String>,
    pub serial_number: Option<String>,
    pub model: Option<String>,
    pub vendor_id: Option<String>,
    #[schema(value_type = Option<String>, example = "1499.00")]
    pub purchase_cost: Option<Decimal>,
    pub currency: String,
    pub acquisition_date: Option<NaiveDate>,
    pub in_service_date: Option<NaiveDate>,
    pub warranty_end: Option<NaiveDate>,
    pub end_of_life: Option<NaiveDate>,
    pub depreciation_method: DepreciationMethod,
    pub depreciation_convention: DepreciationConvention,
    pub useful_life_months: Option<i32>,
    #[schema(value_type = String, example = "0")]
    pub residual_value: Decimal,
    pub cost_center_id: Option<String>,
    pub service_id: Option<String>,
    /// The cost type the asset's acquisition, depreciation and replacement are
    /// booked on (e.g. a CapEx hardware type).
    pub cost_type_id: Option<String>,
    /// Tax depreciation settings; `null`: the tax schedule is the book schedule.
    pub tax_depreciation: Option<TaxDepreciation>,
    pub source_ids: Vec<SourceId>,
    /// The day the asset was disposed of (set by the step to `disposed`):
    /// it depreciates no further.
    pub disposed_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAsset {
    pub name: String,
    pub kind: AssetKind,
    /// Defaults to `in_stock`; an asset already in use may be registered as `deployed`.
    pub state: Option<AssetState>,
    pub asset_tag: Option<String>,
    pub serial_number: Option<String>,
    pub model: Option<String>,
    pub vendor_id: Option<String>,
    /// Not negative.
    #[schema(value_type = Option<String>, example = "1499.00")]
    pub purchase_cost: Option<Decimal>,
    /// Defaults to the reporting currency.
    pub currency: Option<String>,
    pub acquisition_date: Option<NaiveDate>,
    /// Not before `acquisition_date`.
    pub in_service_date: Option<NaiveDate>,
    pub warranty_end: Option<NaiveDate>,
    pub end_of_life: Option<NaiveDate>,
    /// Defaults to `none`.
    pub depreciation_method: Option<DepreciationMethod>,
    /// Defaults to `full_month`.
    pub depreciation_convention: Option<DepreciationConvention>,
    /// 1 to 600; required unless the method is `none`.
    pub useful_life_months: Option<i32>,
    /// Defaults to 0; at most `purchase_cost`.
    #[schema(value_type = Option<String>, example = "0")]
    pub residual_value: Option<Decimal>,
    pub cost_center_id: Option<String>,
    pub service_id: Option<String>,
    /// The cost type its acquisition, depreciation and replacement are booked on.
    pub cost_type_id: Option<String>,
    /// Tax depreciation settings when they differ from the book settings.
    pub tax_depreciation: Option<TaxDepreciation>,
    #[serde(default)]
    pub source_ids: Vec<SourceId>,
}

/// A change to an asset. The state changes only through transitions.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetPatch {
    pub name: Option<String>,
    pub kind: Option<AssetKind>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub asset_tag: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub serial_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub model: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub vendor_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub purchase_cost: Option<Option<Decimal>>,
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub acquisition_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub in_service_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub warranty_end: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub end_of_life: Option<Option<NaiveDate>>,
    pub depreciation_method: Option<DepreciationMethod>,
    pub depreciation_convention: Option<DepreciationConvention>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<i32>)]
    pub useful_life_months: Option<Option<i32>>,
    #[schema(value_type = Option<String>)]
    pub residual_value: Option<Decimal>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub cost_center_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub service_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub cost_type_id: Option<Option<String>>,
    /// Replaces the tax settings; `null` removes them.
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<TaxDepreciation>)]
    pub tax_depreciation: Option<Option<TaxDepreciation>>,
    /// Replaces all source identifiers when present.
    pub source_ids: Option<Vec<SourceId>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = AssetTransition)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    pub to: AssetState,
    pub reason: Option<String>,
    /// The day of a disposal (`to: disposed` only; default today): not in the
    /// future, nor before the asset was acquired or entered service.
    pub disposed_on: Option<NaiveDate>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssetFilter {
    /// Case-insensitive search in name, asset tag and serial number.
    pub q: Option<String>,
    pub kind: Option<AssetKind>,
    pub state: Option<AssetState>,
    pub cost_center_id: Option<String>,
    pub service_id: Option<String>,
    pub vendor_id: Option<String>,
    /// Only assets whose end of life is before this date.
    pub end_of_life_before: Option<NaiveDate>,
}

const COLUMNS: &str = "id, name, kind, state, asset_tag, serial_number, model, vendor_id, purchase_cost, currency, \
    acquisition_date, in_service_date, warranty_end, end_of_life, depreciation_method, depreciation_convention, \
    useful_life_months, residual_value, cost_center_id, service_id, cost_type_id, tax_depreciation_method, \
    tax_depreciation_convention, tax_useful_life_months, tax_residual_value, disposed_on, created_at, updated_at, version";

/// Nullable keys sort `col IS NULL` first, so assets without a value come last
/// in both directions and on both databases (SQLite puts NULLs first, PostgreSQL last).
const SORT: Sortable = Sortable {
    keys: &[
        ("name", "LOWER(name)"),
        ("asset_tag", "asset_tag IS NULL, LOWER(asset_tag)"),
        ("end_of_life", "end_of_life IS NULL, end_of_life"),
        ("in_service_date", "in_service_date IS NULL, in_service_date"),
        ("created_at", "created_at"),
    ],
    default: "name",
    tie_break: "id",
};

fn from_row(row: &Row) -> Result<Asset> {
    Ok(Asset {
        id: row.get("id")?,
        name: row.get("name")?,
        kind: AssetKind::from_db(&row.get::<String>("kind")?)?,
        state: AssetState::from_db(&row.get::<String>("state")?)?,
        asset_tag: row.get("asset_tag")?,
        serial_number: row.get("serial_number")?,
        model: row.get("model")?,
        vendor_id: row.get("vendor_id")?,
        purchase_cost: row.opt_decimal("purchase_cost")?,
        currency: row.get("currency")?,
        acquisition_date: row.get("acquisition_date")?,
        in_service_date: row.get("in_service_date")?,
        warranty_end: row.get("warranty_end")?,
        end_of_life: row.get("end_of_life")?,
        depreciation_method: DepreciationMethod::from_db(&row.get::<String>("depreciation_method")?)?,
        depreciation_convention: DepreciationConvention::from_db(&row.get::<String>("depreciation_convention")?)?,
        useful_life_months: row.get::<Option<i64>>("useful_life_months")?.map(|m| m as i32),
        residual_value: row.decimal("residual_value")?,
        cost_center_id: row.get("cost_center_id")?,
        service_id: row.get("service_id")?,
        cost_type_id: row.get("cost_type_id")?,
        tax_depreciation: match row.get::<Option<String>>("tax_depreciation_method")? {
            None => None,
            Some(method) => Some(TaxDepreciation {
                method: DepreciationMethod::from_db(&method)?,
                convention: DepreciationConvention::from_db(
                    &row.get::<Option<String>>("tax_depreciation_convention")?.unwrap_or_else(|| "full_month".into()),
                )?,
                useful_life_months: row.get::<Option<i64>>("tax_useful_life_months")?.unwrap_or(0) as i32,
                residual_value: row.opt_decimal("tax_residual_value")?.unwrap_or(Decimal::ZERO),
            }),
        },
        source_ids: Vec::new(),
        disposed_on: row.get("disposed_on")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        version: row.get("version")?,
    })
}

/// Reads assets and attaches their source identifiers with one more query.
async fn load(ex: &mut impl Executor, rows: &[Row]) -> Result<Vec<Asset>> {
    let mut assets = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    if assets.is_empty() {
        return Ok(assets);
    }
    let placeholders: Vec<String> = (1..=assets.len()).map(|i| format!("${i}")).collect();
    let mut q = query(format!(
        "SELECT asset_id, source, external_id FROM asset_source_ids WHERE asset_id IN ({}) ORDER BY source, external_id",
        placeholders.join(", ")
    ));
    for asset in &assets {
        q = q.bind(&asset.id);
    }
    let mut by_asset: HashMap<String, Vec<SourceId>> = HashMap::new();
    for row in q.fetch_all(ex).await? {
        by_asset
            .entry(row.get("asset_id")?)
            .or_default()
            .push(SourceId { source: row.get("source")?, external_id: row.get("external_id")? });
    }
    for asset in &mut assets {
        asset.source_ids = by_asset.remove(&asset.id).unwrap_or_default();
    }
    Ok(assets)
}

pub async fn list(db: &Db, filter: &AssetFilter, page: &PageParams) -> Result<Page<Asset>> {
    let mut select = Select::new(COLUMNS, "assets");
    select.search("name || ' ' || COALESCE(asset_tag, '') || ' ' || COALESCE(serial_number, '')", filter.q.as_deref());
    select
        .filter_opt("kind = {}", filter.kind.map(AssetKind::as_str))
        .filter_opt("state = {}", filter.state.map(AssetState::as_str))
        .filter_opt("cost_center_id = {}", filter.cost_center_id.as_deref())
        .filter_opt("service_id = {}", filter.service_id.as_deref())
        .filter_opt("vendor_id = {}", filter.vendor_id.as_deref())
        .filter_opt("end_of_life < {}", filter.end_of_life_before);
    let mut ex = db.clone();
    // Page the ids first, then read the page with its source identifiers.
    let page = select.fetch_page(&mut ex, page, &SORT, |row| row.get::<String>("id").map_err(Error::from)).await?;
    let items = fetch_many(&mut ex, &page.items).await?;
    Ok(Page { items, page: page.page, per_page: page.per_page, total: page.total })
}

/// The assets with these ids, in the order given.
async fn fetch_many(ex: &mut impl Executor, ids: &[String]) -> Result<Vec<Asset>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let mut q = query(format!("SELECT {COLUMNS} FROM assets WHERE id IN ({})", placeholders.join(", ")));
    for id in ids {
        q = q.bind(id);
    }
    let rows = q.fetch_all(ex).await?;
    let mut assets = load(ex, &rows).await?;
    assets.sort_by_key(|a| ids.iter().position(|id| *id == a.id));
    Ok(assets)
}

pub async fn get(ex: &mut impl Executor, id: &str) -> Result<Asset> {
    fetch_many(ex, &[id.to_owned()]).await?.pop().ok_or_else(|| Error::not_found("asset", id))
}

/// The asset a source reports under `external_id`, for connectors matching
/// what they discover to what is registered.
pub async fn find_by_source(ex: &mut impl Executor, source: &str, external_id: &str) -> Result<Option<Asset>> {
    let row = query("SELECT asset_id FROM asset_source_ids WHERE source = $1 AND external_id = $2")
        .bind(source)
        .bind(external_id)
        .fetch_optional(ex)
        .await?;
    match row {
        Some(row) => Ok(Some(get(ex, &row.get::<String>("asset_id")?).await?)),
        None => Ok(None),
    }
}

/// Assets whose asset tag equals `tag` or whose serial number equals
/// `serial`, tag matches first. Serial numbers are unique only per vendor, so
/// this may find several; the caller decides what an ambiguous match means.
pub async fn find_by_serial_or_tag(ex: &mut impl Executor, serial: Option<&str>, tag: Option<&str>) -> Result<Vec<Asset>> {
    if serial.is_none() && tag.is_none() {
        return Ok(Vec::new());
    }
    let rows = query(
        "SELECT id FROM assets WHERE asset_tag = $1 OR serial_number = $2 \
         ORDER BY CASE WHEN asset_tag = $1 THEN 0 ELSE 1 END, created_at, id",
    )
    .bind(tag)
    .bind(serial)
    .fetch_all(ex)
    .await?;
    let ids = rows.iter().map(|r| r.get::<String>("id")).collect::<Result<Vec<_>, _>>()?;
    fetch_many(ex, &ids).await
}

/// Checks an asset's fields and references; all problems at once.
async fn validate(ex: &mut impl Executor, a: &Asset) -> Result<()> {
    let mut checks = Checks::new();
    checks.text("/name", &a.name, 200);
    if let Some(tag) = a.asset_tag.as_deref() {
        checks.text("/asset_tag", tag, 100);
    }
    checks.opt_text("/serial_number", a.serial_number.as_deref(), 200);
    checks.opt_text("/model", a.model.as_deref(), 200);
    if let Some(cost) = a.purchase_cost {
        checks.amount("/purchase_cost", cost, false);
    }
    checks.amount("/residual_value", a.residual_value, false);
    match a.purchase_cost {
        Some(cost) if a.residual_value > cost => checks.fail("/residual_value", "must not exceed purchase_cost"),
        None if !a.residual_value.is_zero() => checks.fail("/residual_value", "needs a purchase_cost to be a part of"),
        _ => {}
    }
    if let (Some(acquired), Some(in_service)) = (a.acquisition_date, a.in_service_date) {
        checks.check(in_service >= acquired, "/in_service_date", "must not be before acquisition_date");
    }
    if let Some(months) = a.useful_life_months {
        checks.check((1..=600).contains(&months), "/useful_life_months", "must be between 1 and 600 months");
    }
    if a.depreciation_method != DepreciationMethod::None {
        if a.useful_life_months.is_none() {
            checks.fail("/useful_life_months", "is required when the asset depreciates (depreciation_method is not none)");
        }
        if a.purchase_cost.is_none() {
            checks.fail("/purchase_cost", "is required when the asset depreciates (depreciation_method is not none)");
        }
    }
    checks.currency_format("/currency", &a.currency);
    refs::check(ex, &mut checks, "/currency", Ref::Currency, Some(&a.currency)).await?;
    refs::check(ex, &mut checks, "/vendor_id", Ref::Vendor, a.vendor_id.as_deref()).await?;
    refs::check(ex, &mut checks, "/cost_center_id", Ref::CostCenter, a.cost_center_id.as_deref()).await?;
    refs::check(ex, &mut checks, "/service_id", Ref::Service, a.service_id.as_deref()).await?;
    refs::check(ex, &mut checks, "/cost_type_id", Ref::CostType, a.cost_type_id.as_deref()).await?;
    if let Some(tax) = &a.tax_depreciation {
        checks.check((1..=600).contains(&tax.useful_life_months), "/tax_depreciation/useful_life_months", "must be between 1 and 600 months");
        checks.amount("/tax_depreciation/residual_value", tax.residual_value, false);
        match a.purchase_cost {
            Some(cost) if tax.residual_value > cost => checks.fail("/tax_depreciation/residual_value", "must not exceed purchase_cost"),
            None if tax.method != DepreciationMethod::None => {
                checks.fail("/purchase_cost", "is required when the asset depreciates for tax (tax_depreciation.method is not none)")
            }
            _ => {}
        }
    }
    let mut seen = HashSet::new();
    for (i, id) in a.source_ids.iter().enumerate() {
        checks.text(&format!("/source_ids/{i}/source"), &id.source, 100);
        checks.text(&format!("/source_ids/{i}/external_id"), &id.external_id, 200);
        if !seen.insert(id) {
            checks.fail(format!("/source_ids/{i}"), "appears twice");
        }
    }
    checks.finish()
}

/// Refuses (409) source identifiers that already name another asset.
async fn ensure_source_ids_free(ex: &mut impl Executor, asset_id: &str, ids: &[SourceId]) -> Result<()> {
    for id in ids {
        if let Some(owner) = find_owner(ex, id).await?.filter(|owner| owner != asset_id) {
            return Err(Error::conflict(
                ConflictKind::Duplicate,
                format!("{:?} in source {:?} already identifies asset {owner}", id.external_id, id.source),
            ));
        }
    }
    Ok(())
}

async fn find_owner(ex: &mut impl Executor, id: &SourceId) -> Result<Option<String>> {
    let row = query("SELECT asset_id FROM asset_source_ids WHERE source = $1 AND external_id = $2")
        .bind(&id.source)
        .bind(&id.external_id)
        .fetch_optional(ex)
        .await?;
    Ok(row.map(|r| r.get("asset_id")).transpose()?)
}

async fn replace_source_ids(tx: &mut Tx, asset_id: &str, ids: &[SourceId]) -> Result<()> {
    query("DELETE FROM asset_source_ids WHERE asset_id = $1").bind(asset_id).execute(tx).await?;
    for id in ids {
        query("INSERT INTO asset_source_ids (asset_id, source, external_id) VALUES ($1, $2, $3)")
            .bind(asset_id)
            .bind(&id.source)
            .bind(&id.external_id)
            .execute(tx)
            .await
            .map_err(|e| Error::from_write(e, "a source identifier already names another asset", "/source_ids"))?;
    }
    Ok(())
}

fn trimmed(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned())
}

pub async fn create(db: &Db, who: &Principal, input: NewAsset) -> Result<Asset> {
    let mut tx = db.begin().await?;
    let asset = create_in(&mut tx, who, input).await?;
    tx.commit().await?;
    Ok(asset)
}

/// [`create`] in the caller's transaction (the sync engine stores a page at once).
pub async fn create_in(tx: &mut Tx, who: &Principal, input: NewAsset) -> Result<Asset> {
    let now = Utc::now();
    let asset = Asset {
        id: new_id(),
        name: input.name.trim().to_owned(),
        kind: input.kind,
        state: input.state.unwrap_or(AssetState::InStock),
        asset_tag: trimmed(input.asset_tag),
        serial_number: trimmed(input.serial_number),
        model: input.model,
        vendor_id: input.vendor_id,
        purchase_cost: input.purchase_cost,
        currency: match input.currency {
            Some(c) => c,
            None => crate::finance::settings::reporting_currency(tx).await?,
        },
        acquisition_date: input.acquisition_date,
        in_service_date: input.in_service_date,
        warranty_end: input.warranty_end,
        end_of_life: input.end_of_life,
        depreciation_method: input.depreciation_method.unwrap_or(DepreciationMethod::None),
        depreciation_convention: input.depreciation_convention.unwrap_or(DepreciationConvention::FullMonth),
        useful_life_months: input.useful_life_months,
        residual_value: input.residual_value.unwrap_or(Decimal::ZERO),
        cost_center_id: input.cost_center_id,
        service_id: input.service_id,
        cost_type_id: input.cost_type_id,
        tax_depreciation: input.tax_depreciation,
        source_ids: input.source_ids,
        disposed_on: None,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    validate(tx, &asset).await?;
    ensure_source_ids_free(tx, &asset.id, &asset.source_ids).await?;
    query(
        "INSERT INTO assets (id, name, kind, state, asset_tag, serial_number, model, vendor_id, purchase_cost, currency, \
         acquisition_date, in_service_date, warranty_end, end_of_life, depreciation_method, depreciation_convention, \
         useful_life_months, residual_value, cost_center_id, service_id, created_at, updated_at, version, cost_type_id, \
         tax_depreciation_method, tax_depreciation_convention, tax_useful_life_months, tax_residual_value) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, 1, \
         $23, $24, $25, $26, $27)",
    )
    .bind(&asset.id)
    .bind(&asset.name)
    .bind(asset.kind.as_str())
    .bind(asset.state.as_str())
    .bind(asset.asset_tag.clone())
    .bind(asset.serial_number.clone())
    .bind(asset.model.clone())
    .bind(asset.vendor_id.clone())
    .bind(asset.purchase_cost)
    .bind(&asset.currency)
    .bind(asset.acquisition_date)
    .bind(asset.in_service_date)
    .bind(asset.warranty_end)
    .bind(asset.end_of_life)
    .bind(asset.depreciation_method.as_str())
    .bind(asset.depreciation_convention.as_str())
    .bind(asset.useful_life_months.map(i64::from))
    .bind(asset.residual_value)
    .bind(asset.cost_center_id.clone())
    .bind(asset.service_id.clone())
    .bind(asset.created_at)
    .bind(asset.updated_at)
    .bind(asset.cost_type_id.clone())
    .bind(asset.tax_depreciation.as_ref().map(|t| t.method.as_str()))
    .bind(asset.tax_depreciation.as_ref().map(|t| t.convention.as_str()))
    .bind(asset.tax_depreciation.as_ref().map(|t| i64::from(t.useful_life_months)))
    .bind(asset.tax_depreciation.as_ref().map(|t| t.residual_value))
    .execute(tx)
    .await
    .map_err(|e| Error::from_write(e, "an asset with this asset_tag exists already", "/"))?;
    replace_source_ids(tx, &asset.id, &asset.source_ids).await?;
    audit::record(tx, who, Action::Create, "asset", &asset.id, None::<&()>, Some(&asset)).await?;
    Ok(asset)
}

/// Changes an asset. `If-Match` is required (428 without it): an asset's cost
/// and depreciation drive the ledger, so no change may overwrite one unseen.
pub async fn update(db: &Db, who: &Principal, id: &str, if_match: IfMatch, input: AssetPatch) -> Result<Asset> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.version, true)?;
    let after = update_in(&mut tx, who, before, input).await?;
    tx.commit().await?;
    Ok(after)
}

/// Applies `input` to `before` in the caller's transaction (the sync engine's
/// way in, which checks versions itself).
pub async fn update_in(tx: &mut Tx, who: &Principal, before: Asset, input: AssetPatch) -> Result<Asset> {
    let id = before.id.clone();
    let id = id.as_str();
    let b = &before;
    let after = Asset {
        name: input.name.map(|n| n.trim().to_owned()).unwrap_or_else(|| b.name.clone()),
        kind: input.kind.unwrap_or(b.kind),
        asset_tag: patch::apply(b.asset_tag.clone(), input.asset_tag.map(trimmed)),
        serial_number: patch::apply(b.serial_number.clone(), input.serial_number.map(trimmed)),
        model: patch::apply(b.model.clone(), input.model),
        vendor_id: patch::apply(b.vendor_id.clone(), input.vendor_id),
        purchase_cost: patch::apply(b.purchase_cost, input.purchase_cost),
        currency: input.currency.unwrap_or_else(|| b.currency.clone()),
        acquisition_date: patch::apply(b.acquisition_date, input.acquisition_date),
        in_service_date: patch::apply(b.in_service_date, input.in_service_date),
        warranty_end: patch::apply(b.warranty_end, input.warranty_end),
        end_of_life: patch::apply(b.end_of_life, input.end_of_life),
        depreciation_method: input.depreciation_method.unwrap_or(b.depreciation_method),
        depreciation_convention: input.depreciation_convention.unwrap_or(b.depreciation_convention),
        useful_life_months: patch::apply(b.useful_life_months, input.useful_life_months),
        residual_value: input.residual_value.unwrap_or(b.residual_value),
        cost_center_id: patch::apply(b.cost_center_id.clone(), input.cost_center_id),
        service_id: patch::apply(b.service_id.clone(), input.service_id),
        cost_type_id: patch::apply(b.cost_type_id.clone(), input.cost_type_id),
        tax_depreciation: patch::apply(b.tax_depreciation.clone(), input.tax_depreciation),
        source_ids: input.source_ids.unwrap_or_else(|| b.source_ids.clone()),
        updated_at: Utc::now(),
        version: b.version + 1,
        ..b.clone()
    };
    validate(tx, &after).await?;
    ensure_source_ids_free(tx, id, &after.source_ids).await?;
    query(
        "UPDATE assets SET name = $1, kind = $2, asset_tag = $3, serial_number = $4, model = $5, vendor_id = $6, \
         purchase_cost = $7, currency = $8, acquisition_date = $9, in_service_date = $10, warranty_end = $11, \
         end_of_life = $12, depreciation_method = $13, depreciation_convention = $14, useful_life_months = $15, \
         residual_value = $16, cost_center_id = $17, service_id = $18, updated_at = $19, version = $20, \
         cost_type_id = $23, tax_depreciation_method = $24, tax_depreciation_convention = $25, \
         tax_useful_life_months = $26, tax_residual_value = $27 \
         WHERE id = $21 AND version = $22",
    )
    .bind(&after.name)
    .bind(after.kind.as_str())
    .bind(after.asset_tag.clone())
    .bind(after.serial_number.clone())
    .bind(after.model.clone())
    .bind(after.vendor_id.clone())
    .bind(after.purchase_cost)
    .bind(&after.currency)
    .bind(after.acquisition_date)
    .bind(after.in_service_date)
    .bind(after.warranty_end)
    .bind(after.end_of_life)
    .bind(after.depreciation_method.as_str())
    .bind(after.depreciation_convention.as_str())
    .bind(after.useful_life_months.map(i64::from))
    .bind(after.residual_value)
    .bind(after.cost_center_id.clone())
    .bind(after.service_id.clone())
    .bind(after.updated_at)
    .bind(after.version)
    .bind(id)
    .bind(before.version)
    .bind(after.cost_type_id.clone())
    .bind(after.tax_depreciation.as_ref().map(|t| t.method.as_str()))
    .bind(after.tax_depreciation.as_ref().map(|t| t.convention.as_str()))
    .bind(after.tax_depreciation.as_ref().map(|t| i64::from(t.useful_life_months)))
    .bind(after.tax_depreciation.as_ref().map(|t| t.residual_value))
    .execute(&mut *tx)
    .await
    .map_err(|e| Error::from_write(e, "an asset with this asset_tag exists already", "/"))
    .and_then(Error::ensure_updated)?;
    if after.source_ids != before.source_ids {
        replace_source_ids(tx, id, &after.source_ids).await?;
    }
    audit::record(tx, who, Action::Update, "asset", id, Some(&before), Some(&after)).await?;
    Ok(after)
}

/// Moves an asset to another lifecycle state, refusing illegal steps with a
/// 409 that lists the legal ones.
pub async fn transition(db: &Db, who: &Principal, id: &str, if_match: IfMatch, step: Transition) -> Result<Asset> {
    let mut checks = Checks::new();
    checks.opt_text("/reason", step.reason.as_deref(), 2_000);
    checks.finish()?;
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.version, false)?;
    if let Some(day) = step.disposed_on {
        let mut checks = Checks::new();
        let earliest = [before.acquisition_date, before.in_service_date].into_iter().flatten().max();
        if step.to != AssetState::Disposed {
            checks.fail("/disposed_on", "only a step to disposed has a disposal date");
        } else if day > Utc::now().date_naive() {
            checks.fail("/disposed_on", "must not be in the future");
        } else if let Some(earliest) = earliest.filter(|e| day < *e) {
            checks.fail("/disposed_on", format!("must not be before the asset was acquired or entered service ({earliest})"));
        }
        checks.finish()?;
    }
    let after = transition_in(&mut tx, who, before, step).await?;
    tx.commit().await?;
    Ok(after)
}

/// [`transition`] in the caller's transaction.
pub async fn transition_in(tx: &mut Tx, who: &Principal, before: Asset, step: Transition) -> Result<Asset> {
    let id = before.id.clone();
    let id = id.as_str();
    crate::lifecycle::check_step("an asset", before.state, step.to)?;
    let disposed_on = match step.to {
        AssetState::Disposed => Some(step.disposed_on.unwrap_or_else(|| Utc::now().date_naive())),
        _ => None,
    };
    let after = Asset { state: step.to, disposed_on, updated_at: Utc::now(), version: before.version + 1, ..before.clone() };
    query("UPDATE assets SET state = $1, disposed_on = $2, updated_at = $3, version = $4 WHERE id = $5 AND version = $6")
        .bind(after.state.as_str())
        .bind(after.disposed_on)
        .bind(after.updated_at)
        .bind(after.version)
        .bind(id)
        .bind(before.version)
        .execute(&mut *tx)
        .await
        .map_err(Error::from)
        .and_then(Error::ensure_updated)?;
    let record = serde_json::json!({ "state": after.state, "reason": step.reason, "disposed_on": after.disposed_on });
    audit::record(tx, who, Action::Transition, "asset", id, Some(&serde_json::json!({ "state": before.state })), Some(&record))
        .await?;
    Ok(after)
}

pub async fn delete(db: &Db, who: &Principal, id: &str, if_match: IfMatch) -> Result<()> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.version, false)?;
    query("DELETE FROM assets WHERE id = $1").bind(id).execute(&mut tx).await.map_err(|e| Error::from_delete(e, "ledger lines refer to the asset; retire or dispose of it instead"))?;
    audit::record(&mut tx, who, Action::Delete, "asset", id, Some(&before), None::<&()>).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::lifecycle::Lifecycle;
    use super::AssetState::*;

    #[test]
    fn disposed_assets_are_final_and_everything_can_end_disposed() {
        assert!(Disposed.next().is_empty());
        for state in [Requested, Ordered, Retired] {
            assert!(state.next().contains(&Disposed), "{state}");
        }
    }

    #[test]
    fn an_asset_is_in_stock_before_it_is_deployed_and_retired_before_disposal() {
        assert!(!Ordered.next().contains(&Deployed));
        assert!(!Deployed.next().contains(&Disposed));
        assert!(Deployed.next().contains(&InMaintenance) && InMaintenance.next().contains(&Deployed));
    }
}
