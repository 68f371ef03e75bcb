//! Cost centers: the organisational units that own costs and budgets, arranged
//! in a hierarchy (a tree: no cost center may be its own ancestor).

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
use crate::refs::{self, Ref};
use crate::validate::Checks;

/// Deeper hierarchies than this are refused; it also bounds the ancestor walk
/// should the stored data ever hold a cycle.
pub const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CostCenter {
    pub id: String,
    pub code: String,
    pub name: String,
    pub parent_id: Option<String>,
    pub owner: Option<String>,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCostCenter {
    pub code: String,
    pub name: String,
    pub parent_id: Option<String>,
    pub owner: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CostCenterPatch {
    pub code: Option<String>,
    pub name: Option<String>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub parent_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub owner: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CostCenterFilter {
    /// Case-insensitive search in code and name.
    pub q: Option<String>,
    /// Only the direct children of this cost center.
    pub parent_id: Option<String>,
    /// `true`: only cost centers without a parent.
    pub root: Option<bool>,
    pub owner: Option<String>,
}

const COLUMNS: &str = "id, code, name, parent_id, owner, description, created_at, updated_at, version";
const SORT: Sortable = Sortable {
    keys: &[("code", "LOWER(code)"), ("name", "LOWER(name)"), ("created_at", "created_at"), ("updated_at", "updated_at")],
    default: "code",
    tie_break: "id",
};
const DUPLICATE: &str = "a cost center with this code exists already";

fn from_row(row: &Row) -> Result<CostCenter> {
    Ok(CostCenter {
        id: row.get("id")?,
        code: row.get("code")?,
        name: row.get("name")?,
        parent_id: row.get("parent_id")?,
        owner: row.get("owner")?,
        description: row.get("description")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        version: row.get("version")?,
    })
}

pub async fn list(db: &Db, filter: &CostCenterFilter, page: &PageParams) -> Result<Page<CostCenter>> {
    let mut select = Select::new(COLUMNS, "cost_centers");
    select
        .search("code || ' ' || name", filter.q.as_deref())
        .filter_opt("parent_id = {}", filter.parent_id.as_deref())
        .filter_opt("owner = {}", filter.owner.as_deref());
    // A root has no parent; ids are never empty, so '' stands for "none".
    match filter.root {
        Some(true) => select.filter("COALESCE(parent_id, '') = {}", ""),
        Some(false) => select.filter("COALESCE(parent_id, '') <> {}", ""),
        None => &mut select,
    };
    select.fetch_page(&mut db.clone(), page, &SORT, from_row).await
}

pub async fn get(ex: &mut impl Executor, id: &str) -> Result<CostCenter> {
    let row = query(format!("SELECT {COLUMNS} FROM cost_centers WHERE id = $1")).bind(id).fetch_optional(ex).await?;
    row.as_ref().map(from_row).transpose()?.ok_or_else(|| Error::not_found("cost center", id))
}

/// Why making `parent_id` the parent of `id` would break the tree, if it would:
/// the parent is the cost center itself or one of its descendants, or the chain
/// grows deeper than [`MAX_DEPTH`].
async fn parent_problem(ex: &mut impl Executor, id: &str, parent_id: &str) -> Result<Option<&'static str>> {
    let mut current = Some(parent_id.to_owned());
    for _ in 0..MAX_DEPTH {
        let Some(ancestor) = current else { return Ok(None) };
        if ancestor == id {
            return Ok(Some("would make the cost center its own ancestor"));
        }
        current = query("SELECT parent_id FROM cost_centers WHERE id = $1")
            .bind(&ancestor)
            .fetch_optional(ex)
            .await?
            .map(|row| row.get::<Option<String>>("parent_id"))
            .transpose()?
            .flatten();
    }
    Ok(Some("would make the hierarchy deeper than 64 levels"))
}

async fn validate(ex: &mut impl Executor, c: &CostCenter) -> Result<()> {
    let mut checks = Checks::new();
    checks.text("/code", &c.code, 40);
    checks.text("/name", &c.name, 200);
    checks.opt_text("/owner", c.owner.as_deref(), 200);
    checks.opt_text("/description", c.description.as_deref(), 10_000);
    if let Some(parent_id) = c.parent_id.as_deref() {
        if !refs::exists(ex, Ref::CostCenter, parent_id).await? {
            checks.fail("/parent_id", format!("no cost center has the id {parent_id:?}"));
        } else if let Some(problem) = parent_problem(ex, &c.id, parent_id).await? {
            checks.fail("/parent_id", problem);
        }
    }
    checks.finish()
}

pub async fn create(db: &Db, who: &Principal, input: NewCostCenter) -> Result<CostCenter> {
    let now = Utc::now();
    let center = CostCenter {
        id: new_id(),
        code: input.code.trim().to_owned(),
        name: input.name.trim().to_owned(),
        parent_id: input.parent_id,
        owner: input.owner,
        description: input.description,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let mut tx = db.begin().await?;
    validate(&mut tx, &center).await?;
    query(
        "INSERT INTO cost_centers (id, code, name, parent_id, owner, description, created_at, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1)",
    )
    .bind(&center.id)
    .bind(&center.code)
    .bind(&center.name)
    .bind(center.parent_id.clone())
    .bind(center.owner.clone())
    .bind(center.description.clone())
    .bind(now)
    .bind(now)
    .execute(&mut tx)
    .await
    .map_err(|e| Error::from_write(e, DUPLICATE, "/parent_id"))?;
    audit::record(&mut tx, who, Action::Create, "cost_center", &center.id, None::<&()>, Some(&center)).await?;
    tx.commit().await?;
    Ok(center)
}

pub async fn update(db: &Db, who: &Principal, id: &str, if_match: IfMatch, input: CostCenterPatch) -> Result<CostCenter> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.version, false)?;
    let after = CostCenter {
        code: input.code.map(|c| c.trim().to_owned()).unwrap_or_else(|| before.code.clone()),
        name: input.name.map(|n| n.trim().to_owned()).unwrap_or_else(|| before.name.clone()),
        parent_id: patch::apply(before.parent_id.clone(), input.parent_id),
        owner: patch::apply(before.owner.clone(), input.owner),
        description: patch::apply(before.description.clone(), input.description),
        updated_at: Utc::now(),
        version: before.version + 1,
        ..before.clone()
    };
    validate(&mut tx, &after).await?;
    let columns = vec![
        ("code", (&after.code).into()), ("name", (&after.name).into()),
        ("parent_id", after.parent_id.clone().into()), ("owner", after.owner.clone().into()),
        ("description", after.description.clone().into()), ("updated_at", after.updated_at.into()),
        ("version", after.version.into()),
    ];
    TABLE.update(tx, who, id, (&before, before.version), columns, after).await
}

const TABLE: patch::Table = patch::Table {
    name: "cost_centers",
    entity: "cost_center",
    duplicate: DUPLICATE,
    reference: "/parent_id",
    in_use: "the cost center has child cost centers, budget lines, ledger lines, projects or assets",
};

pub async fn delete(db: &Db, who: &Principal, id: &str, if_match: IfMatch) -> Result<()> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.version, false)?;
    TABLE.delete(tx, who, id, (&before, before.version)).await
}
