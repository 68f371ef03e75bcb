//! Vendors: whom money is paid to. Assets and ledger lines refer to them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::audit::{self, Action};
use crate::auth::Principal;
use crate::db::{Db, Executor, Row, query};
use crate::error::{Error, Result};
use crate::http::extract::IfMatch;
use crate::listing::{Page, PageParams, Select, Sortable};
use crate::patch::{self, new_id};
use crate::validate::Checks;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Vendor {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVendor {
    pub name: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VendorPatch {
    pub name: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VendorFilter {
    /// Case-insensitive search in the name.
    pub q: Option<String>,
}

const COLUMNS: &str = "id, name, created_at, updated_at, version";
const SORT: Sortable = Sortable {
    keys: &[("name", "LOWER(name)"), ("created_at", "created_at"), ("updated_at", "updated_at")],
    default: "name",
    tie_break: "id",
};
const DUPLICATE: &str = "a vendor with this name exists already";

fn from_row(row: &Row) -> Result<Vendor> {
    Ok(Vendor {
        id: row.get("id")?,
        name: row.get("name")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        version: row.get("version")?,
    })
}

pub async fn list(db: &Db, filter: &VendorFilter, page: &PageParams) -> Result<Page<Vendor>> {
    let mut select = Select::new(COLUMNS, "vendors");
    select.search("name", filter.q.as_deref());
    select.fetch_page(&mut db.clone(), page, &SORT, from_row).await
}

pub async fn get(ex: &mut impl Executor, id: &str) -> Result<Vendor> {
    let row = query(format!("SELECT {COLUMNS} FROM vendors WHERE id = $1")).bind(id).fetch_optional(ex).await?;
    row.as_ref().map(from_row).transpose()?.ok_or_else(|| Error::not_found("vendor", id))
}

fn validate(v: &Vendor) -> Result<()> {
    let mut checks = Checks::new();
    checks.text("/name", &v.name, 200);
    checks.finish()
}

pub async fn create(db: &Db, who: &Principal, input: NewVendor) -> Result<Vendor> {
    let now = Utc::now();
    let vendor = Vendor { id: new_id(), name: input.name.trim().to_owned(), created_at: now, updated_at: now, version: 1 };
    validate(&vendor)?;
    let mut tx = db.begin().await?;
    query("INSERT INTO vendors (id, name, created_at, updated_at, version) VALUES ($1, $2, $3, $4, 1)")
        .bind(&vendor.id)
        .bind(&vendor.name)
        .bind(now)
        .bind(now)
        .execute(&mut tx)
        .await
        .map_err(|e| Error::from_write(e, DUPLICATE, "/name"))?;
    audit::record(&mut tx, who, Action::Create, "vendor", &vendor.id, None::<&()>, Some(&vendor)).await?;
    tx.commit().await?;
    Ok(vendor)
}

pub async fn update(db: &Db, who: &Principal, id: &str, if_match: IfMatch, input: VendorPatch) -> Result<Vendor> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.version, false)?;
    let after = Vendor {
        name: input.name.map(|n| n.trim().to_owned()).unwrap_or_else(|| before.name.clone()),
        updated_at: Utc::now(),
        version: before.version + 1,
        ..before.clone()
    };
    validate(&after)?;
    let columns = vec![("name", (&after.name).into()), ("updated_at", after.updated_at.into()), ("version", after.version.into())];
    TABLE.update(tx, who, id, (&before, before.version), columns, after).await
}

const TABLE: patch::Table = patch::Table {
    name: "vendors",
    entity: "vendor",
    duplicate: DUPLICATE,
    reference: "/name",
    in_use: "the vendor is named by assets or ledger lines",
};

pub async fn delete(db: &Db, who: &Principal, id: &str, if_match: IfMatch) -> Result<()> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.version, false)?;
    TABLE.delete(tx, who, id, (&before, before.version)).await
}
