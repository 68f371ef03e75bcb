//! The ISO 4217 currencies, seeded by migration and read-only through the API.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::{Db, Executor, Row, query};
use crate::error::{Error, Result};
use crate::listing::{Page, PageParams, Select, Sortable};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Currency {
    /// ISO 4217 code, e.g. `EUR`.
    pub code: String,
    pub name: String,
    /// Digits after the decimal point in ordinary use (JPY 0, EUR 2, KWD 3).
    pub minor_units: i32,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CurrencyFilter {
    /// Case-insensitive search in code and name.
    pub q: Option<String>,
}

const COLUMNS: &str = "code, name, minor_units";
const SORT: Sortable = Sortable { keys: &[("code", "code"), ("name", "LOWER(name)")], default: "code", tie_break: "code" };

fn from_row(row: &Row) -> Result<Currency> {
    Ok(Currency { code: row.get("code")?, name: row.get("name")?, minor_units: row.get::<i64>("minor_units")? as i32 })
}

pub async fn list(db: &Db, filter: &CurrencyFilter, page: &PageParams) -> Result<Page<Currency>> {
    let mut select = Select::new(COLUMNS, "currencies");
    select.search("code || ' ' || name", filter.q.as_deref());
    select.fetch_page(&mut db.clone(), page, &SORT, from_row).await
}

pub async fn get(ex: &mut impl Executor, code: &str) -> Result<Currency> {
    let row = query(format!("SELECT {COLUMNS} FROM currencies WHERE code = $1")).bind(code).fetch_optional(ex).await?;
    row.as_ref().map(from_row).transpose()?.ok_or_else(|| Error::not_found("currency", code))
}
