//! Strategic goals, and the weighted links from projects to them that
//! prioritisation scores strategic alignment with.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::{self, Action};
use crate::auth::Principal;
use crate::db::{Db, Executor, Row, Tx, query};
use crate::error::{Error, Result};
use crate::listing::{Page, PageParams, Select, Sortable};
use crate::patch::{self, new_id};
use crate::refs::{self, Ref};
use crate::validate::Checks;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Goal {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGoal {
    pub name: String,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoalPatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
}

/// How much a project contributes to a goal: a weight above 0 and at most 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoalLink {
    pub goal_id: String,
    #[schema(value_type = String, example = "0.5")]
    pub weight: Decimal,
}

const COLUMNS: &str = "id, name, description, created_at, updated_at, version";
const SORT: Sortable = Sortable { keys: &[("name", "LOWER(name)"), ("created_at", "created_at")], default: "name", tie_break: "id" };

fn from_row(row: &Row) -> Result<Goal> {
    Ok(Goal {
        id: row.get("id")?,
        name: row.get("name")?,
        description: row.get("description")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        version: row.get("version")?,
    })
}

pub async fn list(db: &Db, page: &PageParams) -> Result<Page<Goal>> {
    Select::new(COLUMNS, "strategic_goals").fetch_page(&mut db.clone(), page, &SORT, from_row).await
}

pub async fn get(ex: &mut impl Executor, id: &str) -> Result<Goal> {
    let row = query(format!("SELECT {COLUMNS} FROM strategic_goals WHERE id = $1")).bind(id).fetch_optional(ex).await?;
    row.as_ref().map(from_row).transpose()?.ok_or_else(|| Error::not_found("strategic goal", id))
}

fn validate(name: &str, description: Option<&str>) -> Result<()> {
    let mut checks = Checks::new();
    checks.text("/name", name, 200);
    checks.opt_text("/description", description, 10_000);
    checks.finish()
}

pub async fn create(db: &Db, who: &Principal, input: NewGoal) -> Result<Goal> {
    validate(&input.name, input.description.as_deref())?;
    let now = Utc::now();
    let goal = Goal { id: new_id(), name: input.name.trim().to_owned(), description: input.description, created_at: now, updated_at: now, version: 1 };
    let mut tx = db.begin().await?;
    query("INSERT INTO strategic_goals (id, name, description, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, 1)")
        .bind(&goal.id)
        .bind(&goal.name)
        .bind(goal.description.clone())
        .bind(now)
        .bind(now)
        .execute(&mut tx)
        .await
        .map_err(|e| Error::from_write(e, "a goal with this name exists already", "/name"))?;
    audit::record(&mut tx, who, Action::Create, "goal", &goal.id, None::<&()>, Some(&goal)).await?;
    tx.commit().await?;
    Ok(goal)
}

pub async fn update(db: &Db, who: &Principal, id: &str, if_match: crate::http::extract::IfMatch, input: GoalPatch) -> Result<Goal> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.version, false)?;
    let after = Goal {
        name: input.name.map(|n| n.trim().to_owned()).unwrap_or_else(|| before.name.clone()),
        description: patch::apply(before.description.clone(), input.description),
        updated_at: Utc::now(),
        version: before.version + 1,
        ..before.clone()
    };
    validate(&after.name, after.description.as_deref())?;
    query("UPDATE strategic_goals SET name = $1, description = $2, updated_at = $3, version = $4 WHERE id = $5 AND version = $6")
        .bind(&after.name)
        .bind(after.description.clone())
        .bind(after.updated_at)
        .bind(after.version)
        .bind(id)
        .bind(before.version)
        .execute(&mut tx)
        .await
        .map_err(|e| Error::from_write(e, "a goal with this name exists already", "/name"))
        .and_then(Error::ensure_updated)?;
    audit::record(&mut tx, who, Action::Update, "goal", id, Some(&before), Some(&after)).await?;
    tx.commit().await?;
    Ok(after)
}

pub async fn delete(db: &Db, who: &Principal, id: &str) -> Result<()> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    query("DELETE FROM strategic_goals WHERE id = $1").bind(id).execute(&mut tx).await.map_err(|e| Error::from_delete(e, "projects are still linked to this goal"))?;
    audit::record(&mut tx, who, Action::Delete, "goal", id, Some(&before), None::<&()>).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn validate_links(ex: &mut impl Executor, checks: &mut Checks, pointer: &str, links: &[GoalLink]) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for (i, link) in links.iter().enumerate() {
        let at = format!("{pointer}/{i}");
        if !(link.weight > Decimal::ZERO && link.weight <= Decimal::ONE) {
            checks.fail(format!("{at}/weight"), "must be above 0 and at most 1");
        }
        if !seen.insert(link.goal_id.as_str()) {
            checks.fail(format!("{at}/goal_id"), "appears twice");
        }
        refs::check(ex, checks, &format!("{at}/goal_id"), Ref::Goal, Some(&link.goal_id)).await?;
    }
    Ok(())
}



pub async fn links(ex: &mut impl Executor, project_id: &str) -> Result<Vec<GoalLink>> {
    let rows = query("SELECT goal_id, weight FROM project_goals WHERE project_id = $1 ORDER BY goal_id").bind(project_id).fetch_all(ex).await?;
    rows.iter().map(|r| Ok(GoalLink { goal_id: r.get("goal_id")?, weight: r.decimal("weight")? })).collect()
}

pub async fn replace_links(tx: &mut Tx, project_id: &str, links: &[GoalLink]) -> Result<()> {
    query("DELETE FROM project_goals WHERE project_id = $1").bind(project_id).execute(tx).await?;
    for link in links {
        query("INSERT INTO project_goals (project_id, goal_id, weight) VALUES ($1, $2, $3)")
            .bind(project_id)
            .bind(&link.goal_id)
            .bind(link.weight)
            .execute(tx)
            .await?;
    }
    Ok(())
}
