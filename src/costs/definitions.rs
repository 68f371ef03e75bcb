//! Saved report definitions: a name and a [`ReportSpec`], so a team opens the
//! same report every month.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::reports::{self, ReportSpec};
use crate::audit::{self, Action};
use crate::auth::Principal;
use crate::db::{Db, Executor, Row, query};
use crate::error::{Error, FieldError, Result};
use crate::http::extract::IfMatch;
use crate::listing::{Page, PageParams, Select, Sortable};
use crate::patch::{self, new_id};
use crate::validate::Checks;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportDefinition {
    pub id: String,
    pub name: String,
    pub spec: ReportSpec,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReportDefinition {
    pub name: String,
    pub spec: ReportSpec,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportDefinitionPatch {
    pub name: Option<String>,
    pub spec: Option<ReportSpec>,
}

const COLUMNS: &str = "id, name, definition, created_by, created_at, updated_at, version";
const SORT: Sortable =
    Sortable { keys: &[("name", "LOWER(name)"), ("created_at", "created_at"), ("updated_at", "updated_at")], default: "name", tie_break: "id" };
const DUPLICATE: &str = "a report with this name exists already";

fn from_row(row: &Row) -> Result<ReportDefinition> {
    Ok(ReportDefinition {
        id: row.get("id")?,
        name: row.get("name")?,
        spec: row.json("definition")?,
        created_by: row.get("created_by")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        version: row.get("version")?,
    })
}

/// Checks the name and the spec, with the spec's pointers under `/spec`.
fn validate(d: &ReportDefinition) -> Result<()> {
    let mut checks = Checks::new();
    checks.text("/name", &d.name, 200);
    let mut errors = match checks.finish() {
        Ok(()) => Vec::new(),
        Err(Error::Validation(e)) => e,
        Err(other) => return Err(other),
    };
    if let Err(Error::Validation(spec_errors)) = reports::check(&d.spec) {
        errors.extend(
            spec_errors.into_iter().map(|e| FieldError::at(format!("/spec{}", e.pointer.unwrap_or_default()), e.detail)),
        );
    }
    if errors.is_empty() { Ok(()) } else { Err(Error::Validation(errors)) }
}

fn spec_json(spec: &ReportSpec) -> Result<String> {
    Ok(serde_json::to_string(spec).map_err(anyhow::Error::from)?)
}

pub async fn list(db: &Db, page: &PageParams) -> Result<Page<ReportDefinition>> {
    Select::new(COLUMNS, "report_definitions").fetch_page(&mut db.clone(), page, &SORT, from_row).await
}

pub async fn get(ex: &mut impl Executor, id: &str) -> Result<ReportDefinition> {
    let row = query(format!("SELECT {COLUMNS} FROM report_definitions WHERE id = $1")).bind(id).fetch_optional(ex).await?;
    row.as_ref().map(from_row).transpose()?.ok_or_else(|| Error::not_found("report definition", id))
}

pub async fn create(db: &Db, who: &Principal, input: NewReportDefinition) -> Result<ReportDefinition> {
    let now = Utc::now();
    let d = ReportDefinition {
        id: new_id(),
        name: input.name.trim().to_owned(),
        spec: input.spec,
        created_by: who.subject.clone(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    validate(&d)?;
    let mut tx = db.begin().await?;
    query(
        "INSERT INTO report_definitions (id, name, definition, created_by, created_at, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, 1)",
    )
    .bind(&d.id)
    .bind(&d.name)
    .bind(spec_json(&d.spec)?)
    .bind(&d.created_by)
    .bind(now)
    .bind(now)
    .execute(&mut tx)
    .await
    .map_err(|e| Error::from_write(e, DUPLICATE, "/name"))?;
    audit::record(&mut tx, who, Action::Create, "report_definition", &d.id, None::<&()>, Some(&d)).await?;
    tx.commit().await?;
    Ok(d)
}

pub async fn update(db: &Db, who: &Principal, id: &str, if_match: IfMatch, input: ReportDefinitionPatch) -> Result<ReportDefinition> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.version, false)?;
    let after = ReportDefinition {
        name: input.name.map(|n| n.trim().to_owned()).unwrap_or_else(|| before.name.clone()),
        spec: input.spec.unwrap_or_else(|| before.spec.clone()),
        updated_at: Utc::now(),
        version: before.version + 1,
        ..before.clone()
    };
    validate(&after)?;
    let columns = vec![
        ("name", (&after.name).into()), ("definition", spec_json(&after.spec)?.into()),
        ("updated_at", after.updated_at.into()), ("version", after.version.into()),
    ];
    TABLE.update(tx, who, id, (&before, before.version), columns, after).await
}

const TABLE: patch::Table = patch::Table {
    name: "report_definitions",
    entity: "report_definition",
    duplicate: DUPLICATE,
    reference: "/name",
    in_use: "other records refer to the report definition",
};

pub async fn delete(db: &Db, who: &Principal, id: &str, if_match: IfMatch) -> Result<()> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.version, false)?;
    TABLE.delete(tx, who, id, (&before, before.version)).await
}
