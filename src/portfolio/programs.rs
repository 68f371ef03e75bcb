//! Programs: groups of related projects within one portfolio.

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

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Program {
    pub id: String,
    pub portfolio_id: String,
    pub name: String,
    pub description: Option<String>,
    pub owner: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProgram {
    pub portfolio_id: String,
    pub name: String,
    pub description: Option<String>,
    /// Defaults to the caller.
    pub owner: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgramPatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub owner: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProgramFilter {
    pub portfolio_id: Option<String>,
    /// Case-insensitive search in the name.
    pub q: Option<String>,
    pub owner: Option<String>,
}

const COLUMNS: &str = "id, portfolio_id, name, description, owner, created_at, updated_at, version";
const SORT: Sortable = Sortable {
    keys: &[("name", "LOWER(name)"), ("owner", "LOWER(owner)"), ("created_at", "created_at"), ("updated_at", "updated_at")],
    default: "name",
    tie_break: "id",
};

fn from_row(row: &Row) -> Result<Program> {
    Ok(Program {
        id: row.get("id")?,
        portfolio_id: row.get("portfolio_id")?,
        name: row.get("name")?,
        description: row.get("description")?,
        owner: row.get("owner")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        version: row.get("version")?,
    })
}

pub async fn list(db: &Db, filter: &ProgramFilter, page: &PageParams) -> Result<Page<Program>> {
    let mut select = Select::new(COLUMNS, "programs");
    select
        .search("name", filter.q.as_deref())
        .filter_opt("portfolio_id = {}", filter.portfolio_id.as_deref())
        .filter_opt("owner = {}", filter.owner.as_deref());
    select.fetch_page(&mut db.clone(), page, &SORT, from_row).await
}

pub async fn get(ex: &mut impl Executor, id: &str) -> Result<Program> {
    let row = query(format!("SELECT {COLUMNS} FROM programs WHERE id = $1")).bind(id).fetch_optional(ex).await?;
    row.as_ref().map(from_row).transpose()?.ok_or_else(|| Error::not_found("program", id))
}

fn validate(name: &str, description: Option<&str>, owner: &str) -> Result<()> {
    let mut checks = Checks::new();
    checks.text("/name", name, 200);
    checks.opt_text("/description", description, 10_000);
    checks.text("/owner", owner, 200);
    checks.finish()
}

pub async fn create(db: &Db, who: &Principal, input: NewProgram) -> Result<Program> {
    let owner = input.owner.unwrap_or_else(|| who.subject.clone());
    validate(&input.name, input.description.as_deref(), &owner)?;
    let now = Utc::now();
    let program = Program {
        id: new_id(),
        portfolio_id: input.portfolio_id,
        name: input.name.trim().to_owned(),
        description: input.description,
        owner,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let mut tx = db.begin().await?;
    let mut checks = Checks::new();
    refs::check(&mut tx, &mut checks, "/portfolio_id", Ref::Portfolio, Some(&program.portfolio_id)).await?;
    checks.finish()?;
    query("INSERT INTO programs (id, portfolio_id, name, description, owner, created_at, updated_at, version) VALUES ($1, $7, $2, $3, $4, $5, $6, 1)")
        .bind(&program.id)
        .bind(&program.name)
        .bind(program.description.clone())
        .bind(&program.owner)
        .bind(now)
        .bind(now)
        .bind(&program.portfolio_id)
        .execute(&mut tx)
        .await
        .map_err(|e| Error::from_write(e, "a program with this name exists in the portfolio already", "/name"))?;
    audit::record(&mut tx, who, Action::Create, "program", &program.id, None::<&()>, Some(&program)).await?;
    tx.commit().await?;
    Ok(program)
}

pub async fn update(db: &Db, who: &Principal, id: &str, if_match: IfMatch, input: ProgramPatch) -> Result<Program> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.version, false)?;
    let after = Program {
        name: input.name.map(|n| n.trim().to_owned()).unwrap_or_else(|| before.name.clone()),
        description: patch::apply(before.description.clone(), input.description),
        owner: input.owner.unwrap_or_else(|| before.owner.clone()),
        updated_at: Utc::now(),
        version: before.version + 1,
        ..before.clone()
    };
    validate(&after.name, after.description.as_deref(), &after.owner)?;
    let columns = vec![
        ("name", (&after.name).into()), ("description", after.description.clone().into()),
        ("owner", (&after.owner).into()), ("updated_at", after.updated_at.into()), ("version", after.version.into()),
    ];
    TABLE.update(tx, who, id, (&before, before.version), columns, after).await
}

const TABLE: patch::Table = patch::Table {
    name: "programs",
    entity: "program",
    duplicate: "a program with this name exists in the portfolio already",
    reference: "/name",
    in_use: "the program still has projects",
};

pub async fn delete(db: &Db, who: &Principal, id: &str, if_match: IfMatch) -> Result<()> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.version, false)?;
    TABLE.delete(tx, who, id, (&before, before.version)).await
}
