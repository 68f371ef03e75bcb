//! Exchange rates: how many units of the quote currency one unit of the base
//! currency buys, per month and rate type, and the lookup reports convert with.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::{IntoParams, ToSchema};

use super::check_currency;
use crate::audit::{self, Action};
use crate::auth::Principal;
use crate::db::{Db, Executor, Row, query};
use crate::error::{Error, Result};
use crate::http::extract::IfMatch;
use crate::listing::{Page, PageParams, Select, Sortable};
use crate::patch::{self, new_id};
use crate::validate::{Checks, MAX_SCALE};

/// Rates are refused from this value up: no pair of currencies in use is a
/// billion apart, so such a rate is a typo (or a base/quote mix-up squared).
pub const MAX_RATE: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);
/// Decimal places of a rate derived by inverting the opposite pair.
pub const DERIVED_RATE_SCALE: u32 = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RateType {
    /// The month's average, for converting flows (costs, budgets) booked in it.
    Average,
    /// The rate at the month's close, for balances.
    Closing,
    /// The planning rate a budget is set at.
    Budget,
}

crate::text_enum!(RateType { Average = "average", Closing = "closing", Budget = "budget" });

/// A calendar month, written `2027-03`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RateMonth {
    pub year: i32,
    /// 1 to 12.
    pub month: u32,
}

impl RateMonth {
    /// The month `date` falls in.
    pub fn of(date: NaiveDate) -> Self {
        RateMonth { year: date.year(), month: date.month() }
    }
}

impl fmt::Display for RateMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for RateMonth {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let err = || format!("{s:?} is not a month such as \"2027-03\"");
        let (year, month) = s.split_once('-').ok_or_else(err)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(err());
        }
        let year: i32 = year.parse().map_err(|_| err())?;
        let month: u32 = month.parse().map_err(|_| err())?;
        if !(2000..=2100).contains(&year) || !(1..=12).contains(&month) {
            return Err(err());
        }
        Ok(RateMonth { year, month })
    }
}

impl utoipa::PartialSchema for RateMonth {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[0-9]{4}-(0[1-9]|1[0-2])$"))
            .description(Some("A calendar month, YYYY-MM"))
            .examples([serde_json::json!("2027-03")])
            .into()
    }
}

impl ToSchema for RateMonth {}

impl Serialize for RateMonth {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RateMonth {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExchangeRate {
    pub id: String,
    pub base_currency: String,
    pub quote_currency: String,
    pub month: RateMonth,
    pub rate_type: RateType,
    /// Units of the quote currency per unit of the base currency.
    #[schema(value_type = String, example = "1.0875")]
    pub rate: Decimal,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewExchangeRate {
    pub base_currency: String,
    pub quote_currency: String,
    pub month: RateMonth,
    pub rate_type: RateType,
    #[schema(value_type = String, example = "1.0875")]
    pub rate: Decimal,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangeRatePatch {
    pub base_currency: Option<String>,
    pub quote_currency: Option<String>,
    pub month: Option<RateMonth>,
    pub rate_type: Option<RateType>,
    #[schema(value_type = Option<String>)]
    pub rate: Option<Decimal>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExchangeRateFilter {
    pub base: Option<String>,
    pub quote: Option<String>,
    #[param(value_type = Option<String>, example = "2027-03")]
    pub month: Option<RateMonth>,
    pub rate_type: Option<RateType>,
}

const COLUMNS: &str = "id, base_currency, quote_currency, month, rate_type, rate, created_at, updated_at, version";
const SORT: Sortable = Sortable {
    keys: &[
        ("month", "month"),
        ("base_currency", "base_currency"),
        ("quote_currency", "quote_currency"),
        ("rate_type", "rate_type"),
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
    ],
    default: "-month",
    tie_break: "id",
};
const DUPLICATE: &str = "a rate for this base currency, quote currency, month and rate type exists already";

fn from_row(row: &Row) -> Result<ExchangeRate> {
    let month: String = row.get("month")?;
    Ok(ExchangeRate {
        id: row.get("id")?,
        base_currency: row.get("base_currency")?,
        quote_currency: row.get("quote_currency")?,
        month: month.parse().map_err(|e: String| Error::Internal(anyhow::anyhow!(e)))?,
        rate_type: RateType::from_db(&row.get::<String>("rate_type")?)?,
        rate: row.decimal("rate")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        version: row.get("version")?,
    })
}

pub async fn list(db: &Db, filter: &ExchangeRateFilter, page: &PageParams) -> Result<Page<ExchangeRate>> {
    let mut select = Select::new(COLUMNS, "exchange_rates");
    select
        .filter_opt("base_currency = {}", filter.base.as_deref())
        .filter_opt("quote_currency = {}", filter.quote.as_deref())
        .filter_opt("month = {}", filter.month.map(|m| m.to_string()))
        .filter_opt("rate_type = {}", filter.rate_type.map(RateType::as_str));
    select.fetch_page(&mut db.clone(), page, &SORT, from_row).await
}

pub async fn get(ex: &mut impl Executor, id: &str) -> Result<ExchangeRate> {
    let row = query(format!("SELECT {COLUMNS} FROM exchange_rates WHERE id = $1")).bind(id).fetch_optional(ex).await?;
    row.as_ref().map(from_row).transpose()?.ok_or_else(|| Error::not_found("exchange rate", id))
}

/// The rate must be a positive number of sane size and precision.
fn check_rate(checks: &mut Checks, rate: Decimal) {
    if rate <= Decimal::ZERO {
        checks.fail("/rate", "must be greater than zero");
    } else if rate.scale() > MAX_SCALE {
        checks.fail("/rate", format!("has more than {MAX_SCALE} decimal places"));
    } else if rate >= MAX_RATE {
        checks.fail("/rate", "must be below 1,000,000,000");
    }
}

async fn validate(ex: &mut impl Executor, r: &ExchangeRate) -> Result<()> {
    let mut checks = Checks::new();
    check_currency(ex, &mut checks, "/base_currency", &r.base_currency).await?;
    check_currency(ex, &mut checks, "/quote_currency", &r.quote_currency).await?;
    checks.check(r.base_currency != r.quote_currency, "/quote_currency", "must differ from base_currency");
    check_rate(&mut checks, r.rate);
    checks.finish()
}

pub async fn create(db: &Db, who: &Principal, input: NewExchangeRate) -> Result<ExchangeRate> {
    let now = Utc::now();
    let rate = ExchangeRate {
        id: new_id(),
        base_currency: input.base_currency.trim().to_owned(),
        quote_currency: input.quote_currency.trim().to_owned(),
        month: input.month,
        rate_type: input.rate_type,
        rate: input.rate,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let mut tx = db.begin().await?;
    validate(&mut tx, &rate).await?;
    query(
        "INSERT INTO exchange_rates (id, base_currency, quote_currency, month, rate_type, rate, created_at, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1)",
    )
    .bind(&rate.id)
    .bind(&rate.base_currency)
    .bind(&rate.quote_currency)
    .bind(rate.month.to_string())
    .bind(rate.rate_type.as_str())
    .bind(rate.rate)
    .bind(now)
    .bind(now)
    .execute(&mut tx)
    .await
    .map_err(|e| Error::from_write(e, DUPLICATE, "/base_currency"))?;
    audit::record(&mut tx, who, Action::Create, "exchange_rate", &rate.id, None::<&()>, Some(&rate)).await?;
    tx.commit().await?;
    Ok(rate)
}

pub async fn update(db: &Db, who: &Principal, id: &str, if_match: IfMatch, input: ExchangeRatePatch) -> Result<ExchangeRate> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.version, false)?;
    let after = ExchangeRate {
        base_currency: input.base_currency.map(|c| c.trim().to_owned()).unwrap_or_else(|| before.base_currency.clone()),
        quote_currency: input.quote_currency.map(|c| c.trim().to_owned()).unwrap_or_else(|| before.quote_currency.clone()),
        month: input.month.unwrap_or(before.month),
        rate_type: input.rate_type.unwrap_or(before.rate_type),
        rate: input.rate.unwrap_or(before.rate),
        updated_at: Utc::now(),
        version: before.version + 1,
        ..before.clone()
    };
    validate(&mut tx, &after).await?;
    let columns = vec![
        ("base_currency", (&after.base_currency).into()), ("quote_currency", (&after.quote_currency).into()),
        ("month", after.month.to_string().into()), ("rate_type", after.rate_type.as_str().into()),
        ("rate", after.rate.into()), ("updated_at", after.updated_at.into()), ("version", after.version.into()),
    ];
    TABLE.update(tx, who, id, (&before, before.version), columns, after).await
}

const TABLE: patch::Table = patch::Table {
    name: "exchange_rates",
    entity: "exchange_rate",
    duplicate: DUPLICATE,
    reference: "/base_currency",
    in_use: "other records refer to the exchange rate",
};

pub async fn delete(db: &Db, who: &Principal, id: &str, if_match: IfMatch) -> Result<()> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.version, false)?;
    TABLE.delete(tx, who, id, (&before, before.version)).await
}

/// The rate converting `from` into `to` in `month`: 1 for the same currency,
/// the stored rate of the pair, or else the inverse of the opposite pair's rate
/// (exact division, rounded half away from zero to [`DERIVED_RATE_SCALE`]
/// places). `None` when neither pair has a rate of that type for the month.
pub async fn rate_for(
    ex: &mut impl Executor,
    from: &str,
    to: &str,
    month: RateMonth,
    rate_type: RateType,
) -> Result<Option<Decimal>> {
    if from == to {
        return Ok(Some(Decimal::ONE));
    }
    let lookup = "SELECT rate FROM exchange_rates WHERE base_currency = $1 AND quote_currency = $2 AND month = $3 AND rate_type = $4";
    let month = month.to_string();
    let direct = query(lookup).bind(from).bind(to).bind(&month).bind(rate_type.as_str()).fetch_optional(ex).await?;
    if let Some(row) = direct {
        return Ok(Some(row.decimal("rate")?));
    }
    let opposite = query(lookup).bind(to).bind(from).bind(&month).bind(rate_type.as_str()).fetch_optional(ex).await?;
    match opposite {
        Some(row) => Ok(Some(invert(row.decimal("rate")?)?)),
        None => Ok(None),
    }
}

/// `1 / rate`, rounded to [`DERIVED_RATE_SCALE`] places.
fn invert(rate: Decimal) -> Result<Decimal> {
    let inverse = Decimal::ONE
        .checked_div(rate)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("the stored exchange rate {rate} cannot be inverted")))?;
    Ok(inverse.round_dp_with_strategy(DERIVED_RATE_SCALE, RoundingStrategy::MidpointAwayFromZero).normalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn inverse_rates_are_exact_to_twelve_places() {
        assert_eq!(invert(dec("1.25")).unwrap(), dec("0.8"));
        assert_eq!(invert(dec("3")).unwrap(), dec("0.333333333333"));
        assert_eq!(invert(dec("0.000000000001")).unwrap(), dec("1000000000000"));
        assert_eq!(invert(dec("1.5")).unwrap(), dec("0.666666666667"));
    }

    #[test]
    fn months_are_written_year_dash_month() {
        assert_eq!("2027-03".parse::<RateMonth>().unwrap(), RateMonth { year: 2027, month: 3 });
        assert_eq!(RateMonth { year: 2027, month: 3 }.to_string(), "2027-03");
        for bad in ["2027-3", "2027-13", "2027-00", "27-03", "2027/03", "2027-03-01"] {
            assert!(bad.parse::<RateMonth>().is_err(), "{bad}");
        }
    }

    #[test]
    fn rates_must_be_positive_precise_and_plausible() {
        for (rate, ok) in [("1.0875", true), ("0", false), ("-1", false), ("1000000000", false), ("0.0000000000001", false)] {
            let mut checks = Checks::new();
            check_rate(&mut checks, dec(rate));
            assert_eq!(checks.is_empty(), ok, "{rate}");
        }
    }
}
