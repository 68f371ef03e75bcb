//! Portfolios: the top of the hierarchy, owning programs and projects.

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
pub struct Portfolio {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub owner: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPortfolio {
    pub name: String,
    pub description: Option<String>,
    /// Defaults to the caller.
    pub owner: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PortfolioPatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub owner: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PortfolioFilter {
    /// Case-insensitive search in the name.
    pub q: Option<String>,
    pub owner: Option<String>,
}

const COLUMNS: &str = "id, name, description, owner, created_at, updated_at, version";
const SORT: Sortable = Sortable {
    keys: &[("name", "LOWER(name)"), ("owner", "LOWER(owner)"), ("created_at", "created_at"), ("updated_at", "updated_at")],
    default: "name",
    tie_break: "id",
};

fn from_row(row: &Row) -> Result<Portfolio> {
    Ok(Portfolio {
        id: row.get("id")?,
        name: row.get("name")?,
        description: row.get("description")?,
        owner: row.get("owner")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        version: row.get("version")?,
    })
}

pub async fn list(db: &Db, filter: &PortfolioFilter, page: &PageParams) -> Result<Page<Portfolio>> {
    let mut select = Select::new(COLUMNS, "portfolios");
    select.search("name", filter.q.as_deref()).filter_opt("owner = {}", filter.owner.as_deref());
    select.fetch_page(&mut db.clone(), page, &SORT, from_row).await
}

pub async fn get(ex: &mut impl Executor, id: &str) -> Result<Portfolio> {
    let row = query(format!("SELECT {COLUMNS} FROM portfolios WHERE id = $1")).bind(id).fetch_optional(ex).await?;
    row.as_ref().map(from_row).transpose()?.ok_or_else(|| Error::not_found("portfolio", id))
}

fn validate(name: &str, description: Option<&str>, owner: &str) -> Result<()> {
    let mut checks = Checks::new();
    checks.text("/name", name, 200);
    checks.opt_text("/description", description, 10_000);
    checks.text("/owner", owner, 200);
    checks.finish()
}

pub async fn create(db: &Db, who: &Principal, input: NewPortfolio) -> Result<Portfolio> {
    let owner = input.owner.unwrap_or_else(|| who.subject.clone());
    validate(&input.name, input.description.as_deref(), &owner)?;
    let now = Utc::now();
    let portfolio = Portfolio {
        id: new_id(),
        name: input.name.trim().to_owned(),
        description: input.description,
        owner,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let mut tx = db.begin().await?;
    query("INSERT INTO portfolios (id, name, description, owner, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, 1)")
        .bind(&portfolio.id)
        .bind(&portfolio.name)
        .bind(portfolio.description.clone())
        .bind(&portfolio.owner)
        .bind(now)
        .bind(now)
        .execute(&mut tx)
        .await
        .map_err(|e| Error::from_write(e, "a portfolio with this name exists already", "/name"))?;
    audit::record(&mut tx, who, Action::Create, "portfolio", &portfolio.id, None::<&()>, Some(&portfolio)).await?;
    tx.commit().await?;
    Ok(portfolio)
}

pub async fn update(db: &Db, who: &Principal, id: &str, if_match: IfMatch, input: PortfolioPatch) -> Result<Portfolio> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.version, false)?;
    let after = Portfolio {
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
    name: "portfolios",
    entity: "portfolio",
    duplicate: "a portfolio with this name exists already",
    reference: "/name",
    in_use: "the portfolio still has programs, projects or demands",
};

pub async fn delete(db: &Db, who: &Principal, id: &str, if_match: IfMatch) -> Result<()> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.version, false)?;
    TABLE.delete(tx, who, id, (&before, before.version)).await
}
