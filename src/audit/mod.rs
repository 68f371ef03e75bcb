//! The append-only audit log: who changed what, when, with the state before and
//! after. Written in the same transaction as the change it records, so a change
//! and its record are stored together or not at all.

pub mod http;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Principal;
use crate::db::{Executor, Row, Tx, query};
use crate::error::Result;
use crate::listing::{Page, PageParams, Select, Sortable};

/// What kind of change an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Delete,
    Transition,
    Import,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Transition => "transition",
            Action::Import => "import",
        }
    }
}

/// Records one change. `before` is absent for creations, `after` for deletions.
pub async fn record<B: Serialize, A: Serialize>(
    tx: &mut Tx,
    who: &Principal,
    action: Action,
    entity: &str,
    entity_id: &str,
    before: Option<&B>,
    after: Option<&A>,
) -> Result<()> {
    let before = before.map(serde_json::to_string).transpose().map_err(anyhow::Error::from)?;
    let after = after.map(serde_json::to_string).transpose().map_err(anyhow::Error::from)?;
    query(
        "INSERT INTO audit_log (at, actor, role, action, entity, entity_id, before, after, request_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(Utc::now())
    .bind(&who.subject)
    .bind(who.role_names())
    .bind(action.as_str())
    .bind(entity)
    .bind(entity_id)
    .bind(before)
    .bind(after)
    .bind(who.request_id.clone())
    .execute(tx)
    .await?;
    Ok(())
}

/// Records the creation of many entities of one kind at once (a posting of
/// ledger lines): one entry each, as [`record`] would write them, in
/// multi-row statements.
pub async fn record_created<A: Serialize>(tx: &mut Tx, who: &Principal, entity: &str, created: &[(&str, &A)]) -> Result<()> {
    /// Parameters of one entry; statements stay far below both databases' limits.
    const COLUMNS: usize = 9;
    const ROWS: usize = 1000;
    let at = Utc::now();
    let roles = who.role_names();
    for chunk in created.chunks(ROWS) {
        let values: Vec<String> = (0..chunk.len())
            .map(|r| {
                let p: Vec<String> = (1..=COLUMNS).map(|c| format!("${}", r * COLUMNS + c)).collect();
                format!("({})", p.join(", "))
            })
            .collect();
        let mut q = query(format!(
            "INSERT INTO audit_log (at, actor, role, action, entity, entity_id, before, after, request_id) VALUES {}",
            values.join(", ")
        ));
        for (id, after) in chunk {
            let after = serde_json::to_string(after).map_err(anyhow::Error::from)?;
            q = q
                .bind(at)
                .bind(&who.subject)
                .bind(roles.clone())
                .bind(Action::Create.as_str())
                .bind(entity)
                .bind(*id)
                .bind(None::<String>)
                .bind(Some(after))
                .bind(who.request_id.clone());
        }
        q.execute(tx).await?;
    }
    Ok(())
}

/// One audit entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// Only entries about this kind of entity, e.g. `budget_line`.
    pub entity: Option<String>,
    /// Only entries about this entity.
    pub entity_id: Option<String>,
    /// Only changes by this subject.
    pub actor: Option<String>,
}

const SORT: Sortable = Sortable { keys: &[("at", "at"), ("id", "id")], default: "-id", tie_break: "id" };

pub async fn list(ex: &mut impl Executor, filter: &AuditFilter, page: &PageParams) -> Result<Page<AuditEntry>> {
    let mut select = Select::new("id, at, actor, role, action, entity, entity_id, before, after, request_id", "audit_log");
    select
        .filter_opt("entity = {}", filter.entity.as_deref())
        .filter_opt("entity_id = {}", filter.entity_id.as_deref())
        .filter_opt("actor = {}", filter.actor.as_deref());
    select.fetch_page(ex, page, &SORT, from_row).await
}

fn from_row(row: &Row) -> Result<AuditEntry> {
    let json = |column: &str| -> Result<Option<serde_json::Value>> {
        let text: Option<String> = row.get(column)?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    };
    Ok(AuditEntry {
        id: row.get("id")?,
        at: row.get("at")?,
        actor: row.get("actor")?,
        role: row.get("role")?,
        action: row.get("action")?,
        entity: row.get("entity")?,
        entity_id: row.get("entity_id")?,
        before: json("before")?,
        after: json("after")?,
        request_id: row.get("request_id")?,
    })
}
