//! Per-instance sync settings: the schedule, the precedence of the instance
//! when sources disagree about an asset, and the cost center and cost type
//! of ledger lines whose records name none.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::{Db, Executor, Row, query};
use crate::error::Result;
use crate::refs::{self, Ref};
use crate::validate::Checks;

pub const DEFAULT_PRECEDENCE: i64 = 100;

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = SyncSettings)]
pub struct Settings {
    pub instance_id: String,
    /// Seconds between scheduled runs; null: on demand only.
    pub interval_seconds: Option<i64>,
    /// When the next scheduled run is due.
    pub next_run_at: Option<DateTime<Utc>>,
    /// Lower wins when two sources report one asset.
    pub precedence: i64,
    pub cost_center_id: Option<String>,
    pub cost_type_id: Option<String>,
    pub version: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = SyncSettingsInput)]
#[serde(deny_unknown_fields)]
pub struct SettingsInput {
    /// 60 to 2,592,000 (30 days); null or absent: on demand only.
    pub interval_seconds: Option<i64>,
    /// 0 to 10,000; default 100.
    pub precedence: Option<i64>,
    pub cost_center_id: Option<String>,
    pub cost_type_id: Option<String>,
}

/// Shortest schedule interval.
pub const MIN_INTERVAL: i64 = 60;

impl Settings {
    fn defaults(instance_id: &str) -> Settings {
        Settings {
            instance_id: instance_id.to_owned(),
            interval_seconds: None,
            next_run_at: None,
            precedence: DEFAULT_PRECEDENCE,
            cost_center_id: None,
            cost_type_id: None,
            version: 0,
        }
    }
}

fn from_row(row: &Row) -> Result<Settings> {
    Ok(Settings {
        instance_id: row.get("instance_id")?,
        interval_seconds: row.get("interval_seconds")?,
        next_run_at: row.get("next_run_at")?,
        precedence: row.get("precedence")?,
        cost_center_id: row.get("cost_center_id")?,
        cost_type_id: row.get("cost_type_id")?,
        version: row.get("version")?,
    })
}

/// The instance's settings; defaults when none were set.
pub async fn get(ex: &mut impl Executor, instance_id: &str) -> Result<Settings> {
    let row = query(
        "SELECT instance_id, interval_seconds, next_run_at, precedence, cost_center_id, cost_type_id, version \
         FROM sync_settings WHERE instance_id = $1",
    )
    .bind(instance_id)
    .fetch_optional(ex)
    .await?;
    Ok(match row {
        Some(row) => from_row(&row)?,
        None => Settings::defaults(instance_id),
    })
}

/// Sets the settings; a new interval schedules the first run one interval
/// from now (`start_now` makes it due at once).
pub async fn put(db: &Db, instance_id: &str, input: SettingsInput, start_now: bool) -> Result<Settings> {
    crate::plugins::instances::get(&mut db.clone(), instance_id).await?;
    let mut checks = Checks::new();
    if let Some(interval) = input.interval_seconds {
        checks.check((MIN_INTERVAL..=2_592_000).contains(&interval), "/interval_seconds", "must be between 60 and 2592000 seconds");
    }
    let precedence = input.precedence.unwrap_or(DEFAULT_PRECEDENCE);
    checks.check((0..=10_000).contains(&precedence), "/precedence", "must be between 0 and 10000");
    let mut db2 = db.clone();
    refs::check(&mut db2, &mut checks, "/cost_center_id", Ref::CostCenter, input.cost_center_id.as_deref()).await?;
    refs::check(&mut db2, &mut checks, "/cost_type_id", Ref::CostType, input.cost_type_id.as_deref()).await?;
    checks.finish()?;
    let now = Utc::now();
    let next = input.interval_seconds.map(|s| if start_now { now } else { now + chrono::Duration::seconds(s) });
    query(
        "INSERT INTO sync_settings (instance_id, interval_seconds, next_run_at, precedence, cost_center_id, cost_type_id, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1) \
         ON CONFLICT (instance_id) DO UPDATE SET interval_seconds = excluded.interval_seconds, next_run_at = excluded.next_run_at, \
         precedence = excluded.precedence, cost_center_id = excluded.cost_center_id, cost_type_id = excluded.cost_type_id, \
         updated_at = excluded.updated_at, version = sync_settings.version + 1",
    )
    .bind(instance_id)
    .bind(input.interval_seconds)
    .bind(next)
    .bind(precedence)
    .bind(input.cost_center_id)
    .bind(input.cost_type_id)
    .bind(now)
    .execute(&mut db.clone())
    .await?;
    get(&mut db.clone(), instance_id).await
}

/// Instances whose scheduled run is due.
pub async fn due(db: &Db) -> Result<Vec<Settings>> {
    let rows = query(
        "SELECT instance_id, interval_seconds, next_run_at, precedence, cost_center_id, cost_type_id, version \
         FROM sync_settings WHERE interval_seconds IS NOT NULL AND next_run_at <= $1",
    )
    .bind(Utc::now())
    .fetch_all(&mut db.clone())
    .await?;
    rows.iter().map(from_row).collect()
}

/// Claims a due slot: moves `next_run_at` on by one interval, only if no
/// other replica moved it first. True for the one replica that claimed it.
pub async fn claim(db: &Db, due: &Settings) -> Result<bool> {
    let (Some(interval), Some(at)) = (due.interval_seconds, due.next_run_at) else { return Ok(false) };
    let next = Utc::now() + chrono::Duration::seconds(interval);
    let claimed = query("UPDATE sync_settings SET next_run_at = $1 WHERE instance_id = $2 AND next_run_at = $3")
        .bind(next)
        .bind(&due.instance_id)
        .bind(at)
        .execute(&mut db.clone())
        .await?;
    Ok(claimed == 1)
}
