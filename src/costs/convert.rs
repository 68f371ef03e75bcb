//! Conversion into the reporting currency at each period's rate: the average
//! rate of the calendar month in which the fiscal period starts (as in the
//! budget reports). Products are exact (no rounding), so a converted total
//! is the sum of the converted lines to the last digit.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::Db;
use crate::error::{Error, FieldError, Result};
use crate::finance::calendar::{self, FiscalCalendar, FiscalPeriod};
use crate::finance::rates::{self, RateMonth, RateType};
use crate::finance::settings;

/// A rate a report or run used.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RateUsed {
    #[schema(value_type = String, example = "FY2027-P03")]
    pub fiscal_period: FiscalPeriod,
    pub currency: String,
    #[schema(value_type = String, example = "1.0875")]
    pub rate: Decimal,
}

/// Rates into the reporting currency, looked up once per (period, currency).
pub struct Converter {
    db: Db,
    pub currency: String,
    pub minor_units: u32,
    calendar: FiscalCalendar,
    rates: BTreeMap<(FiscalPeriod, String), Option<Decimal>>,
}

impl Converter {
    pub async fn new(db: &Db) -> Result<Converter> {
        let mut conn = db.clone();
        let currency = settings::reporting_currency(&mut conn).await?;
        let minor_units = crate::finance::currencies::get(&mut conn, &currency).await?.minor_units.max(0) as u32;
        let calendar = calendar::load(&mut conn).await?;
        Ok(Converter { db: db.clone(), currency, minor_units, calendar, rates: BTreeMap::new() })
    }

    /// Looks up the rates of `pairs`, then fails with every missing one at once.
    pub async fn prepare(&mut self, pairs: impl IntoIterator<Item = (FiscalPeriod, String)>) -> Result<()> {
        let mut missing = Vec::new();
        for (period, currency) in pairs {
            if self.rates.contains_key(&(period, currency.clone())) {
                continue;
            }
            let month = RateMonth::of(self.calendar.bounds(period).0);
            let rate = rates::rate_for(&mut self.db.clone(), &currency, &self.currency, month, RateType::Average).await?;
            if rate.is_none() {
                missing.push(FieldError::at(
                    "/",
                    format!("no average exchange rate from {currency} to {} for {month} (fiscal period {period})", self.currency),
                ));
            }
            self.rates.insert((period, currency), rate);
        }
        if missing.is_empty() { Ok(()) } else { Err(Error::Validation(missing)) }
    }

    /// `amount` of `currency` in `period`, in the reporting currency. The pair must be prepared.
    pub fn convert(&self, period: FiscalPeriod, currency: &str, amount: Decimal) -> Result<Decimal> {
        let rate = self
            .rates
            .get(&(period, currency.to_owned()))
            .copied()
            .flatten()
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("rate {currency} {period} not prepared")))?;
        amount
            .checked_mul(rate)
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("{amount} {currency} × {rate} exceeds the decimal range")))
    }

    /// The rates used, other than 1 for the reporting currency itself.
    pub fn used(&self) -> Vec<RateUsed> {
        self.rates
            .iter()
            .filter(|((_, c), _)| *c != self.currency)
            .filter_map(|((p, c), r)| r.map(|rate| RateUsed { fiscal_period: *p, currency: c.clone(), rate }))
            .collect()
    }
}
