//! Conversion into the reporting currency for cost reports and allocation
//! runs, at the average rate of the calendar month in which each fiscal period
//! starts (as in the budget reports): the finance engine's converter, asked
//! once per (period, currency) before polars' grouped result is folded, so the
//! fold converts without waiting on the database. Products are exact (no
//! rounding), so a converted total is the sum of the converted lines to the
//! last digit.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::db::Db;
use crate::error::{Error, FieldError, Result};
use crate::finance::calendar::{self, FiscalCalendar, FiscalPeriod};
use crate::finance::fx;
use crate::finance::rates::RateType;

pub use crate::finance::fx::RateUsed;

/// Rates into the reporting currency, looked up once per (period, currency).
pub struct Converter {
    db: Db,
    fx: fx::Converter,
    calendar: FiscalCalendar,
    pub currency: String,
    pub minor_units: u32,
    rates: BTreeMap<(FiscalPeriod, String), Decimal>,
}

impl Converter {
    pub async fn new(db: &Db) -> Result<Converter> {
        let mut conn = db.clone();
        let fx = fx::Converter::reporting(&mut conn, RateType::Average).await?;
        let calendar = calendar::load(&mut conn).await?;
        Ok(Converter { db: db.clone(), currency: fx.to.clone(), minor_units: fx.minor_units, fx, calendar, rates: BTreeMap::new() })
    }

    /// Looks up the rates of `pairs`, then fails with every missing one at once.
    pub async fn prepare(&mut self, pairs: impl IntoIterator<Item = (FiscalPeriod, String)>) -> Result<()> {
        for (period, currency) in pairs {
            if self.rates.contains_key(&(period, currency.clone())) {
                continue;
            }
            let rate = self.fx.convert_period(&mut self.db.clone(), &self.calendar, Decimal::ONE, &currency, period).await?;
            self.rates.insert((period, currency), rate);
        }
        let missing = self.fx.missing();
        if missing.is_empty() {
            return Ok(());
        }
        Err(Error::Validation(
            missing.into_iter().map(|what| FieldError::at("/", format!("{what}: record one (POST /api/v1/exchange-rates)"))).collect(),
        ))
    }

    /// `amount` of `currency` in `period`, in the reporting currency. The pair must be prepared.
    pub fn convert(&self, period: FiscalPeriod, currency: &str, amount: Decimal) -> Result<Decimal> {
        let rate = self
            .rates
            .get(&(period, currency.to_owned()))
            .copied()
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("rate {currency} {period} not prepared")))?;
        amount
            .checked_mul(rate)
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("{amount} {currency} × {rate} exceeds the decimal range")))
    }

    /// The rates used, other than 1 for the reporting currency itself.
    pub fn used(&self) -> Vec<RateUsed> {
        self.fx.rates_used()
    }
}
