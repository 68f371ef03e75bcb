//! The TBM taxonomy: cost pools and IT towers in the v4 and v5 naming, seeded
//! by migration and read-only, so every installation maps costs alike.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::{Db, Row};
use crate::error::Result;
use crate::listing::{Page, PageParams, Select, Sortable};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaxonomyVersion {
    V4,
    V5,
}

crate::text_enum!(TaxonomyVersion { V4 = "v4", V5 = "v5" });

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CostPool {
    pub id: String,
    pub taxonomy_version: TaxonomyVersion,
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Tower {
    pub id: String,
    pub taxonomy_version: TaxonomyVersion,
    pub code: String,
    pub name: String,
    /// The tower's domain, e.g. Infrastructure or Application.
    pub domain: String,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaxonomyFilter {
    pub taxonomy_version: Option<TaxonomyVersion>,
    /// Case-insensitive search in code and name.
    pub q: Option<String>,
}

const SORT: Sortable = Sortable {
    keys: &[("code", "code"), ("name", "LOWER(name)"), ("taxonomy_version", "taxonomy_version")],
    default: "taxonomy_version,code",
    tie_break: "id",
};

fn select(columns: &str, table: &str, filter: &TaxonomyFilter) -> Select {
    let mut select = Select::new(columns, table);
    select
        .search("code || ' ' || name", filter.q.as_deref())
        .filter_opt("taxonomy_version = {}", filter.taxonomy_version.map(TaxonomyVersion::as_str));
    select
}

fn pool_from_row(row: &Row) -> Result<CostPool> {
    Ok(CostPool {
        id: row.get("id")?,
        taxonomy_version: TaxonomyVersion::from_db(&row.get::<String>("taxonomy_version")?)?,
        code: row.get("code")?,
        name: row.get("name")?,
    })
}

fn tower_from_row(row: &Row) -> Result<Tower> {
    Ok(Tower {
        id: row.get("id")?,
        taxonomy_version: TaxonomyVersion::from_db(&row.get::<String>("taxonomy_version")?)?,
        code: row.get("code")?,
        name: row.get("name")?,
        domain: row.get("domain")?,
    })
}

pub async fn cost_pools(db: &Db, filter: &TaxonomyFilter, page: &PageParams) -> Result<Page<CostPool>> {
    select("id, taxonomy_version, code, name", "tbm_cost_pools", filter)
        .fetch_page(&mut db.clone(), page, &SORT, pool_from_row)
        .await
}

pub async fn towers(db: &Db, filter: &TaxonomyFilter, page: &PageParams) -> Result<Page<Tower>> {
    select("id, taxonomy_version, code, name, domain", "tbm_towers", filter)
        .fetch_page(&mut db.clone(), page, &SORT, tower_from_row)
        .await
}
