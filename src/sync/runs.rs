//! Sync runs: their state, counts and rejected records.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::{Db, Executor, Row, Tx, query};
use crate::error::{ConflictKind, Error, Result};
use crate::listing::{Page, PageParams, Select, Sortable};
use crate::patch::new_id;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = SyncStatus)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

crate::text_enum!(Status { Running = "running", Succeeded = "succeeded", Failed = "failed", Cancelled = "cancelled" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = SyncTrigger)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    Manual,
    Schedule,
}

crate::text_enum!(Trigger { Manual = "manual", Schedule = "schedule" });

/// What a run did to the records it read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = SyncCounts)]
pub struct Counts {
    pub read: i64,
    pub inserted: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub rejected: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = SyncRun)]
pub struct Run {
    pub id: String,
    pub instance_id: String,
    pub status: Status,
    pub trigger: Trigger,
    pub requested_by: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub counts: Counts,
    /// Pages stored.
    pub pages: i64,
    /// Calls retried after a transient failure.
    pub retries: i64,
    /// Streams this run has completed.
    pub streams_done: Vec<String>,
    pub cancel_requested: bool,
    /// Why the run failed.
    pub error: Option<String>,
}

/// A record the engine could not store, and why.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = SyncRejection)]
pub struct Rejection {
    pub id: String,
    pub run_id: String,
    pub stream: String,
    /// The record's primary key, when it had one.
    pub record_key: Option<String>,
    pub reason: String,
    /// The record as the connector sent it (cut to 4 KiB).
    pub record: String,
    pub created_at: DateTime<Utc>,
}

/// A run with its first rejections.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SyncRunDetail)]
pub struct RunDetail {
    #[serde(flatten)]
    pub run: Run,
    /// The first 200 rejections; all are at `/sync-runs/{id}/rejections`.
    pub rejections: Vec<Rejection>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunFilter {
    pub instance_id: Option<String>,
    /// running, succeeded, failed or cancelled.
    pub status: Option<String>,
}

const COLUMNS: &str = "id, instance_id, status, trigger_kind, requested_by, started_at, finished_at, records_read, inserted, updated, \
    unchanged, rejected, pages, retries, streams_done, cancel_requested, error";
const SORT: Sortable = Sortable { keys: &[("started_at", "started_at")], default: "-started_at", tie_break: "id" };
const REJECTION_COLUMNS: &str = "id, run_id, stream, record_key, reason, record, created_at";
const REJECTION_SORT: Sortable = Sortable { keys: &[("created_at", "created_at")], default: "created_at", tie_break: "id" };
/// Longest record kept with a rejection.
const MAX_REJECTED_RECORD: usize = 4096;

fn from_row(row: &Row) -> Result<Run> {
    let status: String = row.get("status")?;
    let trigger: String = row.get("trigger_kind")?;
    Ok(Run {
        id: row.get("id")?,
        instance_id: row.get("instance_id")?,
        status: Status::from_db(&status)?,
        trigger: Trigger::from_db(&trigger)?,
        requested_by: row.get("requested_by")?,
        started_at: row.get("started_at")?,
        finished_at: row.get("finished_at")?,
        counts: Counts {
            read: row.get("records_read")?,
            inserted: row.get("inserted")?,
            updated: row.get("updated")?,
            unchanged: row.get("unchanged")?,
            rejected: row.get("rejected")?,
        },
        pages: row.get("pages")?,
        retries: row.get("retries")?,
        streams_done: row.json("streams_done")?,
        cancel_requested: row.get("cancel_requested")?,
        error: row.get("error")?,
    })
}

fn rejection_from_row(row: &Row) -> Result<Rejection> {
    Ok(Rejection {
        id: row.get("id")?,
        run_id: row.get("run_id")?,
        stream: row.get("stream")?,
        record_key: row.get("record_key")?,
        reason: row.get("reason")?,
        record: row.get("record")?,
        created_at: row.get("created_at")?,
    })
}

pub async fn create(db: &Db, instance_id: &str, trigger: Trigger, requested_by: &str) -> Result<Run> {
    let id = new_id();
    query(
        "INSERT INTO sync_runs (id, instance_id, status, trigger_kind, requested_by, started_at, streams_done, cancel_requested) \
         VALUES ($1, $2, 'running', $3, $4, $5, '[]', $6)",
    )
    .bind(&id)
    .bind(instance_id)
    .bind(trigger.as_str())
    .bind(requested_by)
    .bind(Utc::now())
    .bind(false)
    .execute(&mut db.clone())
    .await?;
    get(&mut db.clone(), &id).await
}

pub async fn get(ex: &mut impl Executor, id: &str) -> Result<Run> {
    let row = query(format!("SELECT {COLUMNS} FROM sync_runs WHERE id = $1")).bind(id).fetch_optional(ex).await?;
    row.as_ref().map(from_row).transpose()?.ok_or_else(|| Error::not_found("sync run", id))
}

pub async fn detail(db: &Db, id: &str) -> Result<RunDetail> {
    let run = get(&mut db.clone(), id).await?;
    let rows = query(format!("SELECT {REJECTION_COLUMNS} FROM sync_rejections WHERE run_id = $1 ORDER BY created_at, id LIMIT 200"))
        .bind(id)
        .fetch_all(&mut db.clone())
        .await?;
    let rejections = rows.iter().map(rejection_from_row).collect::<Result<_>>()?;
    Ok(RunDetail { run, rejections })
}

pub async fn list(db: &Db, filter: &RunFilter, page: &PageParams) -> Result<Page<Run>> {
    let mut select = Select::new(COLUMNS, "sync_runs");
    select.filter_opt("instance_id = {}", filter.instance_id.as_deref()).filter_opt("status = {}", filter.status.as_deref());
    select.fetch_page(&mut db.clone(), page, &SORT, from_row).await
}

pub async fn rejections(db: &Db, run_id: &str, page: &PageParams) -> Result<Page<Rejection>> {
    get(&mut db.clone(), run_id).await?;
    let mut select = Select::new(REJECTION_COLUMNS, "sync_rejections");
    select.filter("run_id = {}", run_id);
    select.fetch_page(&mut db.clone(), page, &REJECTION_SORT, rejection_from_row).await
}

/// The run of `instance_id` still marked running, if any (one whose server
/// died, or one executing now).
pub async fn unfinished(db: &Db, instance_id: &str) -> Result<Option<Run>> {
    let row = query(format!("SELECT {COLUMNS} FROM sync_runs WHERE instance_id = $1 AND status = 'running' ORDER BY started_at LIMIT 1"))
        .bind(instance_id)
        .fetch_optional(&mut db.clone())
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Runs marked running whose lease has expired or is held by `holder`.
pub async fn orphans(db: &Db, holder: &str) -> Result<Vec<Run>> {
    let rows = query(format!(
        "SELECT {COLUMNS} FROM sync_runs r WHERE status = 'running' AND NOT EXISTS \
         (SELECT 1 FROM sync_leases l WHERE l.instance_id = r.instance_id AND l.expires_at > $1 AND l.holder <> $2)"
    ))
    .bind(Utc::now())
    .bind(holder)
    .fetch_all(&mut db.clone())
    .await?;
    rows.iter().map(from_row).collect()
}

/// Asks a running run to stop before its next page.
pub async fn request_cancel(db: &Db, id: &str) -> Result<Run> {
    let run = get(&mut db.clone(), id).await?;
    if run.status != Status::Running {
        return Err(Error::conflict(ConflictKind::InvalidTransition, format!("the run has {} already", run.status.as_str())));
    }
    query("UPDATE sync_runs SET cancel_requested = $1 WHERE id = $2").bind(true).bind(id).execute(&mut db.clone()).await?;
    get(&mut db.clone(), id).await
}

pub async fn cancel_requested(db: &Db, id: &str) -> Result<bool> {
    Ok(query("SELECT cancel_requested FROM sync_runs WHERE id = $1").bind(id).fetch_one(&mut db.clone()).await?.get("cancel_requested")?)
}

/// Adds a page's counts to the run, in the page's transaction.
pub async fn add_page(tx: &mut Tx, id: &str, counts: &Counts) -> Result<()> {
    query(
        "UPDATE sync_runs SET records_read = records_read + $1, inserted = inserted + $2, updated = updated + $3, \
         unchanged = unchanged + $4, rejected = rejected + $5, pages = pages + 1 WHERE id = $6",
    )
    .bind(counts.read)
    .bind(counts.inserted)
    .bind(counts.updated)
    .bind(counts.unchanged)
    .bind(counts.rejected)
    .bind(id)
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn add_retry(db: &Db, id: &str) -> Result<()> {
    query("UPDATE sync_runs SET retries = retries + 1 WHERE id = $1").bind(id).execute(&mut db.clone()).await?;
    Ok(())
}

pub async fn set_streams_done(tx: &mut Tx, id: &str, streams: &[String]) -> Result<()> {
    query("UPDATE sync_runs SET streams_done = $1 WHERE id = $2")
        .bind(serde_json::to_string(streams).map_err(anyhow::Error::from)?)
        .bind(id)
        .execute(tx)
        .await?;
    Ok(())
}

pub async fn finish(db: &Db, id: &str, status: Status, error: Option<String>) -> Result<()> {
    query("UPDATE sync_runs SET status = $1, finished_at = $2, error = $3 WHERE id = $4 AND status = 'running'")
        .bind(status.as_str())
        .bind(Utc::now())
        .bind(error)
        .bind(id)
        .execute(&mut db.clone())
        .await?;
    Ok(())
}

pub async fn reject(tx: &mut Tx, run_id: &str, stream: &str, key: Option<&str>, reason: &str, record: &str) -> Result<()> {
    let mut cut = record.len().min(MAX_REJECTED_RECORD);
    while !record.is_char_boundary(cut) {
        cut -= 1;
    }
    query("INSERT INTO sync_rejections (id, run_id, stream, record_key, reason, record, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(new_id())
        .bind(run_id)
        .bind(stream)
        .bind(key)
        .bind(reason)
        .bind(&record[..cut])
        .bind(Utc::now())
        .execute(tx)
        .await?;
    Ok(())
}
