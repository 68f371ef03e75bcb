//! Currency conversion for reports: amounts booked in other currencies convert
//! into the reporting currency at the rate of their month, the report lists
//! every rate it used, and a missing rate is a 422 naming the currency and the
//! month, never a silent 1.0.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use utoipa::ToSchema;

use super::calendar::{FiscalCalendar, FiscalPeriod};
use super::rates::{self, RateMonth, RateType};
use crate::db::{Executor, query};
use crate::error::{Error, FieldError, Result};

/// One rate a report converted with.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RateUsed {
    pub from_currency: String,
    pub to_currency: String,
    pub month: RateMonth,
    pub rate_type: RateType,
    /// Units of `to_currency` per unit of `from_currency` (derived by
    /// inverting the opposite pair when only that one is recorded).
    #[schema(value_type = String, example = "1.0875")]
    pub rate: Decimal,
}

/// Converts into one currency, looking each (currency, month) rate up once.
/// Missing rates are collected, so that [`Converter::finish`] names them all.
pub struct Converter {
    pub to: String,
    pub rate_type: RateType,
    /// Decimal places of `to`.
    pub minor_units: u32,
    rates: BTreeMap<(String, RateMonth), Option<Decimal>>,
    /// The fiscal period a month was asked for as, for the error message.
    periods: BTreeMap<RateMonth, FiscalPeriod>,
}

impl Converter {
    pub async fn new(ex: &mut impl Executor, to: &str, rate_type: RateType) -> Result<Self> {
        let row = query("SELECT minor_units FROM currencies WHERE code = $1").bind(to).fetch_optional(ex).await?;
        let minor_units = row.map(|r| r.get::<i64>("minor_units")).transpose()?.unwrap_or(2) as u32;
        Ok(Converter { to: to.to_owned(), rate_type, minor_units, rates: BTreeMap::new(), periods: BTreeMap::new() })
    }

    /// Into the reporting currency.
    pub async fn reporting(ex: &mut impl Executor, rate_type: RateType) -> Result<Self> {
        let to = super::settings::reporting_currency(ex).await?;
        Self::new(ex, &to, rate_type).await
    }

    /// `amount` of `from` in the target currency at `month`'s rate, exact (not
    /// rounded). A missing rate counts 0 here and is reported by [`finish`](Self::finish).
    pub async fn convert(&mut self, ex: &mut impl Executor, amount: Decimal, from: &str, month: RateMonth) -> Result<Decimal> {
        if from == self.to || amount.is_zero() {
            return Ok(amount);
        }
        let key = (from.to_owned(), month);
        let rate = match self.rates.get(&key) {
            Some(rate) => *rate,
            None => {
                let rate = rates::rate_for(ex, from, &self.to, month, self.rate_type).await?;
                self.rates.insert(key, rate);
                rate
            }
        };
        Ok(rate.map_or(Decimal::ZERO, |r| amount * r))
    }

    /// Like [`convert`](Self::convert), at the rate of the month a fiscal period is.
    pub async fn convert_period(
        &mut self,
        ex: &mut impl Executor,
        calendar: &FiscalCalendar,
        amount: Decimal,
        from: &str,
        period: FiscalPeriod,
    ) -> Result<Decimal> {
        let month = RateMonth::of(calendar.bounds(period).0);
        self.periods.insert(month, period);
        self.convert(ex, amount, from, month).await
    }

    /// Rounds a converted amount half to even to the target's minor units.
    pub fn round(&self, amount: Decimal) -> Decimal {
        amount.round_dp_with_strategy(self.minor_units, RoundingStrategy::MidpointNearestEven)
    }

    /// A 422 naming every (currency, month) without a rate, if any.
    pub fn finish(&self) -> Result<()> {
        let missing: Vec<FieldError> = self
            .missing()
            .into_iter()
            .map(|what| FieldError::param("rate_type", format!("{what}: record one (POST /api/v1/exchange-rates) or choose another rate_type")))
            .collect();
        if missing.is_empty() { Ok(()) } else { Err(Error::Validation(missing)) }
    }

    /// Every (currency, month) asked for without a rate, in words.
    pub fn missing(&self) -> Vec<String> {
        self.rates
            .iter()
            .filter(|(_, rate)| rate.is_none())
            .map(|((from, month), _)| {
                let period = self.periods.get(month).map(|p| format!(" (fiscal period {p})")).unwrap_or_default();
                format!("no {} exchange rate converts {from} into {} for {month}{period}", self.rate_type.as_str(), self.to)
            })
            .collect()
    }

    /// Every rate used, by currency and month.
    pub fn rates_used(&self) -> Vec<RateUsed> {
        self.rates
            .iter()
            .filter_map(|((from, month), rate)| {
                rate.map(|rate| RateUsed {
                    from_currency: from.clone(),
                    to_currency: self.to.clone(),
                    month: *month,
                    rate_type: self.rate_type,
                    rate,
                })
            })
            .collect()
    }
}
