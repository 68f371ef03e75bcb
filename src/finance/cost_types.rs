//! Cost types: what money is spent on (salaries, licences, cloud), each
//! classified as capital or operating expenditure.

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

/// Capital expenditure (capitalised, depreciated) or operating expenditure
/// (expensed in the period).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    Capex,
    Opex,
}

crate::text_enum!(Classification { Capex = "capex", Opex = "opex" });

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CostType {
    pub id: String,
    pub code: String,
    pub name: String,
    pub classification: Classification,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCostType {
    pub code: String,
    pub name: String,
    pub classification: Classification,
    pub description: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CostTypePatch {
    pub code: Option<String>,
    pub name: Option<String>,
    pub classification: Option<Classification>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CostTypeFilter {
    /// Case-insensitive search in code and name.
    pub q: Option<String>,
    pub classification: Option<Classification>,
}

const COLUMNS: &str = "id, code, name, classification, description, created_at, updated_at, version";
const SORT: Sortable = Sortable {
    keys: &[
        ("code", "LOWER(code)"),
        ("name", "LOWER(name)"),
        ("classification", "classification"),
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
    ],
    default: "code",
    tie_break: "id",
};
const DUPLICATE: &str = "a cost type with this code exists already";

fn from_row(row: &Row) -> Result<CostType> {
    Ok(CostType {
        id: row.get("id")?,
        code: row.get("code")?,
        name: row.get("name")?,
        classification: Classification::from_db(&row.get::<String>("classification")?)?,
        description: row.get("description")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        version: row.get("version")?,
    })
}

pub async fn list(db: &Db, filter: &CostTypeFilter, page: &PageParams) -> Result<Page<CostType>> {
    let mut select = Select::new(COLUMNS, "cost_types");
    select
        .search("code || ' ' || name", filter.q.as_deref())
        .filter_opt("classification = {}", filter.classification.map(Classification::as_str));
    select.fetch_page(&mut db.clone(), page, &SORT, from_row).await
}

pub async fn get(ex: &mut impl Executor, id: &str) -> Result<CostType> {
    let row = query(format!("SELECT {COLUMNS} FROM cost_types WHERE id = $1")).bind(id).fetch_optional(ex).await?;
    row.as_ref().map(from_row).transpose()?.ok_or_else(|| Error::not_found("cost type", id))
}

fn validate(t: &CostType) -> Result<()> {
    let mut checks = Checks::new();
    checks.text("/code", &t.code, 40);
    checks.text("/name", &t.name, 200);
    checks.opt_text("/description", t.description.as_deref(), 10_000);
    checks.finish()
}

pub async fn create(db: &Db, who: &Principal, input: NewCostType) -> Result<CostType> {
    let now = Utc::now();
    let cost_type = CostType {
        id: new_id(),
        code: input.code.trim().to_owned(),
        name: input.name.trim().to_owned(),
        classification: input.classification,
        description: input.description,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    validate(&cost_type)?;
    let mut tx = db.begin().await?;
    query(
        "INSERT INTO cost_types (id, code, name, classification, description, created_at, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1)",
    )
    .bind(&cost_type.id)
    .bind(&cost_type.code)
    .bind(&cost_type.name)
    .bind(cost_type.classification.as_str())
    .bind(cost_type.description.clone())
    .bind(now)
    .bind(now)
    .execute(&mut tx)
    .await
    .map_err(|e| Error::from_write(e, DUPLICATE, "/code"))?;
    audit::record(&mut tx, who, Action::Create, "cost_type", &cost_type.id, None::<&()>, Some(&cost_type)).await?;
    tx.commit().await?;
    Ok(cost_type)
}

/// Reclassifying a cost type moves every budget line and ledger line of that
/// type between CapEx and OpEx; that is deliberate, and the audit log keeps it.
pub async fn update(db: &Db, who: &Principal, id: &str, if_match: IfMatch, input: CostTypePatch) -> Result<CostType> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.version, false)?;
    let after = CostType {
        code: input.code.map(|c| c.trim().to_owned()).unwrap_or_else(|| before.code.clone()),
        name: input.name.map(|n| n.trim().to_owned()).unwrap_or_else(|| before.name.clone()),
        classification: input.classification.unwrap_or(before.classification),
        description: patch::apply(before.description.clone(), input.description),
        updated_at: Utc::now(),
        version: before.version + 1,
        ..before.clone()
    };
    validate(&after)?;
    let columns = vec![
        ("code", (&after.code).into()), ("name", (&after.name).into()),
        ("classification", after.classification.as_str().into()), ("description", after.description.clone().into()),
        ("updated_at", after.updated_at.into()), ("version", after.version.into()),
    ];
    TABLE.update(tx, who, id, (&before, before.version), columns, after).await
}

const TABLE: patch::Table = patch::Table {
    name: "cost_types",
    entity: "cost_type",
    duplicate: DUPLICATE,
    reference: "/code",
    in_use: "the cost type is used by budget lines or ledger lines",
};

pub async fn delete(db: &Db, who: &Principal, id: &str, if_match: IfMatch) -> Result<()> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.version, false)?;
    TABLE.delete(tx, who, id, (&before, before.version)).await
}
