//! Finance master data and budgets: currencies and exchange rates, the fiscal
//! calendar, cost centers, cost types, the TBM taxonomy, vendors and services,
//! and budget versions with their lines.

pub mod analytics;
pub mod budgets;
pub mod calendar;
pub mod cost_centers;
pub mod cost_types;
pub mod currencies;
pub mod evaluate;
pub mod fx;
pub mod http;
pub mod rates;
pub mod services;
pub mod settings;
pub mod taxonomy;
pub mod vendors;

use crate::db::Executor;
use crate::error::Result;
use crate::refs::{self, Ref};
use crate::validate::Checks;

/// Checks that `code` is an ISO 4217 code of the currency table, naming
/// `pointer` when it is malformed or unknown.
pub(crate) async fn check_currency(ex: &mut impl Executor, checks: &mut Checks, pointer: &str, code: &str) -> Result<()> {
    let mut format = Checks::new();
    format.currency_format(pointer, code);
    if format.is_empty() {
        refs::check(ex, checks, pointer, Ref::Currency, Some(code)).await
    } else {
        checks.currency_format(pointer, code);
        Ok(())
    }
}
