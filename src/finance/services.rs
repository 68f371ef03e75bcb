//! Services: the business services, technical services and applications that
//! IT delivers and that costs are allocated to, optionally placed in a TBM tower.

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ServiceKind {
    BusinessService,
    TechnicalService,
    Application,
}

crate::text_enum!(ServiceKind {
    BusinessService = "business_service",
    TechnicalService = "technical_service",
    Application = "application",
});

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Service {
    pub id: String,
    pub code: String,
    pub name: String,
    pub kind: ServiceKind,
    pub tower_id: Option<String>,
    pub owner: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewService {
    pub code: String,
    pub name: String,
    pub kind: ServiceKind,
    pub tower_id: Option<String>,
    pub owner: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServicePatch {
    pub code: Option<String>,
    pub name: Option<String>,
    pub kind: Option<ServiceKind>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub tower_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub owner: Option<Option<String>>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServiceFilter {
    /// Case-insensitive search in code and name.
    pub q: Option<String>,
    pub kind: Option<ServiceKind>,
    pub tower_id: Option<String>,
    pub owner: Option<String>,
}

const COLUMNS: &str = "id, code, name, kind, tower_id, owner, created_at, updated_at, version";
const SORT: Sortable = Sortable {
    keys: &[
        ("code", "LOWER(code)"),
        ("name", "LOWER(name)"),
        ("kind", "kind"),
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
    ],
    default: "code",
    tie_break: "id",
};
const DUPLICATE: &str = "a service with this code exists already";

fn from_row(row: &Row) -> Result<Service> {
    Ok(Service {
        id: row.get("id")?,
        code: row.get("code")?,
        name: row.get("name")?,
        kind: ServiceKind::from_db(&row.get::<String>("kind")?)?,
        tower_id: row.get("tower_id")?,
        owner: row.get("owner")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        version: row.get("version")?,
    })
}

pub async fn list(db: &Db, filter: &ServiceFilter, page: &PageParams) -> Result<Page<Service>> {
    let mut select = Select::new(COLUMNS, "services");
    select
        .search("code || ' ' || name", filter.q.as_deref())
        .filter_opt("kind = {}", filter.kind.map(ServiceKind::as_str))
        .filter_opt("tower_id = {}", filter.tower_id.as_deref())
        .filter_opt("owner = {}", filter.owner.as_deref());
    select.fetch_page(&mut db.clone(), page, &SORT, from_row).await
}

pub async fn get(ex: &mut impl Executor, id: &str) -> Result<Service> {
    let row = query(format!("SELECT {COLUMNS} FROM services WHERE id = $1")).bind(id).fetch_optional(ex).await?;
    row.as_ref().map(from_row).transpose()?.ok_or_else(|| Error::not_found("service", id))
}

async fn validate(ex: &mut impl Executor, s: &Service) -> Result<()> {
    let mut checks = Checks::new();
    checks.text("/code", &s.code, 40);
    checks.text("/name", &s.name, 200);
    checks.opt_text("/owner", s.owner.as_deref(), 200);
    refs::check(ex, &mut checks, "/tower_id", Ref::Tower, s.tower_id.as_deref()).await?;
    checks.finish()
}

pub async fn create(db: &Db, who: &Principal, input: NewService) -> Result<Service> {
    let now = Utc::now();
    let service = Service {
        id: new_id(),
        code: input.code.trim().to_owned(),
        name: input.name.trim().to_owned(),
        kind: input.kind,
        tower_id: input.tower_id,
        owner: input.owner,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let mut tx = db.begin().await?;
    validate(&mut tx, &service).await?;
    query(
        "INSERT INTO services (id, code, name, kind, tower_id, owner, created_at, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1)",
    )
    .bind(&service.id)
    .bind(&service.code)
    .bind(&service.name)
    .bind(service.kind.as_str())
    .bind(service.tower_id.clone())
    .bind(service.owner.clone())
    .bind(now)
    .bind(now)
    .execute(&mut tx)
    .await
    .map_err(|e| Error::from_write(e, DUPLICATE, "/tower_id"))?;
    audit::record(&mut tx, who, Action::Create, "service", &service.id, None::<&()>, Some(&service)).await?;
    tx.commit().await?;
    Ok(service)
}

pub async fn update(db: &Db, who: &Principal, id: &str, if_match: IfMatch, input: ServicePatch) -> Result<Service> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.version, false)?;
    let after = Service {
        code: input.code.map(|c| c.trim().to_owned()).unwrap_or_else(|| before.code.clone()),
        name: input.name.map(|n| n.trim().to_owned()).unwrap_or_else(|| before.name.clone()),
        kind: input.kind.unwrap_or(before.kind),
        tower_id: patch::apply(before.tower_id.clone(), input.tower_id),
        owner: patch::apply(before.owner.clone(), input.owner),
        updated_at: Utc::now(),
        version: before.version + 1,
        ..before.clone()
    };
    validate(&mut tx, &after).await?;
    let columns = vec![
        ("code", (&after.code).into()), ("name", (&after.name).into()), ("kind", after.kind.as_str().into()),
        ("tower_id", after.tower_id.clone().into()), ("owner", after.owner.clone().into()),
        ("updated_at", after.updated_at.into()), ("version", after.version.into()),
    ];
    TABLE.update(tx, who, id, (&before, before.version), columns, after).await
}

const TABLE: patch::Table = patch::Table {
    name: "services",
    entity: "service",
    duplicate: DUPLICATE,
    reference: "/tower_id",
    in_use: "the service is named by assets or ledger lines",
};

pub async fn delete(db: &Db, who: &Principal, id: &str, if_match: IfMatch) -> Result<()> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if_match.check(before.version, false)?;
    TABLE.delete(tx, who, id, (&before, before.version)).await
}
