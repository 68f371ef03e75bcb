//! Organisation-wide finance settings: the reporting currency and the month the
//! fiscal year starts in.

use crate::db::{Executor, query};
use crate::error::Result;

/// The currency reports convert into, and the default for new records.
pub async fn reporting_currency(ex: &mut impl Executor) -> Result<String> {
    Ok(query("SELECT reporting_currency FROM settings WHERE id = 1").fetch_one(ex).await?.get("reporting_currency")?)
}
