//! Organisation-wide finance settings: the reporting currency, the month the
//! fiscal year starts in, the discount rate ROI models use by default, and
//! the labour rate that costs ITSM effort in TCO.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::{self, Action};
use crate::auth::Principal;
use crate::db::{Db, Executor, Row, query};
use crate::error::{ConflictKind, Error, Result};
use crate::http::extract::IfMatch;
use crate::refs::{self, Ref};
use crate::validate::Checks;

/// The audit log names the single settings row by this id.
const SETTINGS_ID: &str = "1";

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Settings {
    /// The currency reports convert into, and the default for new records.
    pub reporting_currency: String,
    /// The month (1 = January) the fiscal year starts in.
    pub fiscal_year_start_month: i32,
    /// Yearly discount rate of ROI evaluations (0.08 is 8 %).
    #[schema(value_type = String, example = "0.08")]
    pub discount_rate: rust_decimal::Decimal,
    /// Cost of one hour of ITSM effort in the reporting currency; TCO leaves
    /// effort uncosted (null) while it is not set.
    #[schema(value_type = Option<String>, example = "85.00")]
    pub labour_rate: Option<rust_decimal::Decimal>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    pub reporting_currency: Option<String>,
    /// Can change only while no budget line or ledger line exists: every stored
    /// fiscal period would silently change its dates otherwise.
    pub fiscal_year_start_month: Option<i32>,
    /// Greater than -1 and at most 10, a fraction.
    #[schema(value_type = Option<String>)]
    pub discount_rate: Option<rust_decimal::Decimal>,
    /// Non-negative, at most 6 decimals; `null` clears it.
    #[serde(default, deserialize_with = "crate::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub labour_rate: Option<Option<rust_decimal::Decimal>>,
}

/// The currency reports convert into, and the default for new records.
pub async fn reporting_currency(ex: &mut impl Executor) -> Result<String> {
    Ok(query("SELECT reporting_currency FROM settings WHERE id = 1").fetch_one(ex).await?.get("reporting_currency")?)
}

fn from_row(row: &Row) -> Result<Settings> {
    Ok(Settings {
        reporting_currency: row.get("reporting_currency")?,
        fiscal_year_start_month: row.get::<i64>("fiscal_year_start_month")? as i32,
        discount_rate: row.decimal("discount_rate")?,
        labour_rate: row.opt_decimal("labour_rate")?,
        updated_at: row.get("updated_at")?,
        version: row.get("version")?,
    })
}

pub async fn get(ex: &mut impl Executor) -> Result<Settings> {
    let row = query("SELECT reporting_currency, fiscal_year_start_month, discount_rate, labour_rate, updated_at, version FROM settings WHERE id = 1")
        .fetch_one(ex)
        .await?;
    from_row(&row)
}

/// True once anything is booked against fiscal periods of the current calendar.
async fn periods_in_use(ex: &mut impl Executor) -> Result<bool> {
    let budget = query("SELECT 1 AS found FROM budget_lines LIMIT 1").fetch_optional(ex).await?;
    let ledger = query("SELECT 1 AS found FROM ledger_lines LIMIT 1").fetch_optional(ex).await?;
    Ok(budget.is_some() || ledger.is_some())
}

pub async fn update(db: &Db, who: &Principal, if_match: IfMatch, input: SettingsPatch) -> Result<Settings> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx).await?;
    if_match.check(before.version, false)?;
    let after = Settings {
        reporting_currency: input.reporting_currency.unwrap_or_else(|| before.reporting_currency.clone()),
        fiscal_year_start_month: input.fiscal_year_start_month.unwrap_or(before.fiscal_year_start_month),
        discount_rate: input.discount_rate.unwrap_or(before.discount_rate),
        labour_rate: crate::patch::apply(before.labour_rate, input.labour_rate),
        updated_at: Utc::now(),
        version: before.version + 1,
    };
    let mut checks = Checks::new();
    checks.currency_format("/reporting_currency", &after.reporting_currency);
    if checks.is_empty() {
        refs::check(&mut tx, &mut checks, "/reporting_currency", Ref::Currency, Some(&after.reporting_currency)).await?;
    }
    checks.check((1..=12).contains(&after.fiscal_year_start_month), "/fiscal_year_start_month", "must be a month from 1 to 12");
    checks.check(
        after.discount_rate > -rust_decimal::Decimal::ONE && after.discount_rate <= rust_decimal::Decimal::TEN && after.discount_rate.scale() <= 12,
        "/discount_rate",
        "must be a fraction greater than -1 and at most 10 (0.08 is 8 %), with at most 12 decimals",
    );
    if let Some(rate) = after.labour_rate {
        checks.check(
            !rate.is_sign_negative() && rate <= rust_decimal::Decimal::from(1_000_000) && rate.normalize().scale() <= 6,
            "/labour_rate",
            "must be 0 to 1,000,000 per hour with at most 6 decimals",
        );
    }
    checks.finish()?;
    if after.fiscal_year_start_month != before.fiscal_year_start_month && periods_in_use(&mut tx).await? {
        return Err(Error::conflict(
            ConflictKind::InUse,
            "the fiscal year start month cannot change once budget lines or ledger lines exist: their fiscal periods would change meaning",
        ));
    }
    query(
        "UPDATE settings SET reporting_currency = $1, fiscal_year_start_month = $2, discount_rate = $3, labour_rate = $4, updated_at = $5, \
         version = $6 WHERE id = 1 AND version = $7",
    )
    .bind(&after.reporting_currency)
    .bind(i64::from(after.fiscal_year_start_month))
    .bind(after.discount_rate)
    .bind(after.labour_rate)
    .bind(after.updated_at)
    .bind(after.version)
    .bind(before.version)
    .execute(&mut tx)
    .await
    .map_err(Error::from)
    .and_then(Error::ensure_updated)?;
    audit::record(&mut tx, who, Action::Update, "settings", SETTINGS_ID, Some(&before), Some(&after)).await?;
    tx.commit().await?;
    Ok(after)
}
