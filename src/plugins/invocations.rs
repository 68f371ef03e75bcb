//! The invocation log: one entry per plugin call, with what it used, how it
//! ended and what the plugin logged. Written whatever the outcome, in its own
//! transaction, so a call that failed is on record too.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::runtime::{LogLine, Report};
use crate::auth::Principal;
use crate::db::{Db, Row, query};
use crate::error::Result;
use crate::listing::{Page, PageParams, Select, Sortable};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Invocation {
    pub id: i64,
    /// The installed plugin called.
    pub plugin_id: String,
    /// The instance called; none for an ROI model, which is called as a plugin.
    pub instance_id: Option<String>,
    /// spec, check, discover, read (connectors), describe, evaluate (ROI
    /// models) or receive (integrations).
    pub operation: String,
    pub started_at: DateTime<Utc>,
    /// Wall-clock time of the call, queueing and instantiation included.
    pub duration_us: i64,
    /// WebAssembly fuel burnt (about one unit per instruction).
    pub fuel_used: Option<i64>,
    /// Most linear memory the plugin held.
    pub peak_memory_bytes: i64,
    /// ok, configuration-error, connector-error, invalid-input, timeout,
    /// memory-limit, fuel-exhausted, trap, output-too-large,
    /// capability-denied or busy.
    pub outcome: String,
    /// Why it failed, in words.
    pub detail: Option<String>,
    pub logs: Vec<LogLine>,
    pub requested_by: String,
}

const COLUMNS: &str =
    "id, plugin_id, instance_id, operation, started_at, duration_us, fuel_used, peak_memory_bytes, outcome, detail, logs, requested_by";
const SORT: Sortable = Sortable { keys: &[("id", "id"), ("started_at", "started_at")], default: "-id", tie_break: "id" };

fn from_row(row: &Row) -> Result<Invocation> {
    Ok(Invocation {
        id: row.get("id")?,
        plugin_id: row.get("plugin_id")?,
        instance_id: row.get("instance_id")?,
        operation: row.get("operation")?,
        started_at: row.get("started_at")?,
        duration_us: row.get("duration_us")?,
        fuel_used: row.get("fuel_used")?,
        peak_memory_bytes: row.get("peak_memory_bytes")?,
        outcome: row.get("outcome")?,
        detail: row.get("detail")?,
        logs: row.json("logs")?,
        requested_by: row.get("requested_by")?,
    })
}

pub async fn list(db: &Db, instance_id: &str, page: &PageParams) -> Result<Page<Invocation>> {
    let mut select = Select::new(COLUMNS, "plugin_invocations");
    select.filter("instance_id = {}", instance_id);
    select.fetch_page(&mut db.clone(), page, &SORT, from_row).await
}

/// Every call of a plugin, through any instance or none.
pub async fn list_for_plugin(db: &Db, plugin_id: &str, page: &PageParams) -> Result<Page<Invocation>> {
    let mut select = Select::new(COLUMNS, "plugin_invocations");
    select.filter("plugin_id = {}", plugin_id);
    select.fetch_page(&mut db.clone(), page, &SORT, from_row).await
}

/// Records a finished call of `plugin_id`, through `instance_id` if any.
pub async fn record<T>(
    db: &Db,
    who: &Principal,
    plugin_id: &str,
    instance_id: Option<&str>,
    operation: &str,
    report: &Report<T>,
) -> Result<Invocation> {
    let (outcome, detail) = match &report.result {
        Ok(_) => ("ok".to_owned(), None),
        Err(failure) => (failure.outcome().to_owned(), Some(failure.to_string())),
    };
    let started_at = Utc::now() - report.duration;
    let duration_us = i64::try_from(report.duration.as_micros()).unwrap_or(i64::MAX);
    let fuel_used = report.fuel_used.map(|f| i64::try_from(f).unwrap_or(i64::MAX));
    let peak = i64::try_from(report.peak_memory_bytes).unwrap_or(i64::MAX);
    let logs = serde_json::to_string(&report.logs).map_err(anyhow::Error::from)?;
    let id: i64 = query(
        "INSERT INTO plugin_invocations (plugin_id, instance_id, operation, started_at, duration_us, fuel_used, peak_memory_bytes, outcome, detail, logs, requested_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(plugin_id)
    .bind(instance_id.map(str::to_owned))
    .bind(operation)
    .bind(started_at)
    .bind(duration_us)
    .bind(fuel_used)
    .bind(peak)
    .bind(outcome.as_str())
    .bind(detail.clone())
    .bind(logs)
    .bind(&who.subject)
    .fetch_one(&mut db.clone())
    .await?
    .get("id")?;
    Ok(Invocation {
        id,
        plugin_id: plugin_id.to_owned(),
        instance_id: instance_id.map(str::to_owned),
        operation: operation.to_owned(),
        started_at,
        duration_us,
        fuel_used,
        peak_memory_bytes: peak,
        outcome,
        detail,
        logs: report.logs.clone(),
        requested_by: who.subject.clone(),
    })
}
