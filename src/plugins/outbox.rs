//! Integration events, delivered at least once.
//!
//! A change that integrations hear about ([`Kind`]) calls [`emit`] inside its
//! own transaction: the event is written with the change or not at all. A
//! dispatcher task ([`dispatch`]) then
//!
//! 1. fans each new event out into one delivery per integration instance
//!    whose plugin is enabled at that moment, and
//! 2. delivers every due delivery by calling the instance's `receive`; a
//!    failure is retried after 1 s, 2 s, 4 s ... (at most [`MAX_BACKOFF`]),
//!    up to [`MAX_ATTEMPTS`] attempts, after which the delivery is `failed`.
//!
//! Each attempt is a plugin invocation (operation `receive`) in the
//! invocation log; the delivery keeps the attempt count, the last error and
//! the last invocation. A crash between a successful `receive` and the
//! delivery's update repeats the delivery: plugins get the event id to
//! ignore a repeat. One dispatcher runs per server process; with several
//! replicas on one PostgreSQL database each delivery could be attempted by
//! two of them at once (still at least once; exactly-once would need row
//! locks with `SKIP LOCKED`, not written yet).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::Plugins;
use super::runtime::EventMessage;
use crate::auth::Principal;
use crate::db::{Db, Row, Tx, query};
use crate::error::Result;
use crate::listing::{Page, PageParams, Select, Sortable};
use crate::patch::new_id;

/// Attempts before a delivery is given up as `failed`.
pub const MAX_ATTEMPTS: i64 = 12;
/// Longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// How often the dispatcher looks for work.
pub const POLL: Duration = Duration::from_millis(250);
/// Deliveries attempted per round.
const BATCH: i64 = 32;

/// The events integrations receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    DemandApproved,
    ProjectStateChanged,
    BudgetApproved,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::DemandApproved => "demand.approved",
            Kind::ProjectStateChanged => "project.state-changed",
            Kind::BudgetApproved => "budget.approved",
        }
    }
}

/// Writes an event into the outbox, in the transaction of the change it
/// reports.
pub async fn emit(tx: &mut Tx, kind: Kind, subject_id: &str, payload: serde_json::Value) -> Result<()> {
    query("INSERT INTO integration_events (id, kind, subject_id, payload, occurred_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(new_id())
        .bind(kind.as_str())
        .bind(subject_id)
        .bind(payload.to_string())
        .bind(Utc::now())
        .execute(tx)
        .await?;
    Ok(())
}

/// One event on its way to one integration instance.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Delivery {
    pub id: String,
    pub event_id: String,
    /// Such as `demand.approved`.
    pub event_kind: String,
    pub subject_id: String,
    pub instance_id: String,
    /// pending, delivered or failed (attempts used up).
    pub state: String,
    pub attempts: i64,
    /// When the next attempt is due (pending deliveries).
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    /// The invocation of the last attempt, in the instance's invocation log.
    pub last_invocation_id: Option<i64>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryFilter {
    pub instance_id: Option<String>,
    /// pending, delivered or failed.
    pub state: Option<String>,
    pub event_kind: Option<String>,
}

const COLUMNS: &str = "d.id, d.event_id, e.kind AS event_kind, e.subject_id, d.instance_id, d.state, d.attempts, d.next_attempt_at, \
                       d.last_error, d.last_invocation_id, d.delivered_at, d.created_at";
const SORT: Sortable = Sortable { keys: &[("created_at", "d.created_at")], default: "-created_at", tie_break: "d.id" };

fn from_row(row: &Row) -> Result<Delivery> {
    Ok(Delivery {
        id: row.get("id")?,
        event_id: row.get("event_id")?,
        event_kind: row.get("event_kind")?,
        subject_id: row.get("subject_id")?,
        instance_id: row.get("instance_id")?,
        state: row.get("state")?,
        attempts: row.get("attempts")?,
        next_attempt_at: row.get("next_attempt_at")?,
        last_error: row.get("last_error")?,
        last_invocation_id: row.get("last_invocation_id")?,
        delivered_at: row.get("delivered_at")?,
        created_at: row.get("created_at")?,
    })
}

/// The delivery log.
pub async fn list(db: &Db, filter: &DeliveryFilter, page: &PageParams) -> Result<Page<Delivery>> {
    let mut select = Select::new(COLUMNS, "integration_deliveries d JOIN integration_events e ON e.id = d.event_id");
    select
        .filter_opt("d.instance_id = {}", filter.instance_id.as_deref())
        .filter_opt("d.state = {}", filter.state.as_deref())
        .filter_opt("e.kind = {}", filter.event_kind.as_deref());
    select.fetch_page(&mut db.clone(), page, &SORT, from_row).await
}

/// The dispatcher: runs until the task is aborted. A round that fails (the
/// database is away) is logged and retried at the next poll.
pub async fn dispatch(db: Db, plugins: Arc<Plugins>) {
    let who = Principal { subject: "itbm (integration dispatcher)".into(), roles: Vec::new(), request_id: None };
    loop {
        if let Err(e) = round(&db, &plugins, &who).await {
            tracing::warn!(error = ?e, "integration dispatch failed; retrying");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// One round: fan out new events, then attempt the due deliveries.
pub async fn round(db: &Db, plugins: &Plugins, who: &Principal) -> Result<usize> {
    fan_out(db).await?;
    let now = Utc::now();
    let due = query(format!(
        "SELECT d.id, d.event_id, d.instance_id, d.attempts, e.kind, e.subject_id, e.payload, e.occurred_at \
         FROM integration_deliveries d JOIN integration_events e ON e.id = d.event_id \
         WHERE d.state = 'pending' AND d.next_attempt_at <= $1 ORDER BY d.next_attempt_at, d.id LIMIT {BATCH}"
    ))
    .bind(now)
    .fetch_all(&mut db.clone())
    .await?;
    let attempted = due.len();
    for row in due {
        let id: String = row.get("id")?;
        let instance_id: String = row.get("instance_id")?;
        let attempts: i64 = row.get::<i64>("attempts")? + 1;
        let occurred_at: DateTime<Utc> = row.get("occurred_at")?;
        let event = EventMessage {
            id: row.get("event_id")?,
            kind: row.get("kind")?,
            occurred_at_ms: occurred_at.timestamp_millis(),
            subject_id: row.get("subject_id")?,
            payload: row.get("payload")?,
        };
        let (outcome, invocation_id) = match super::call_integration(db, plugins, who, &instance_id, event).await {
            Ok((Ok(()), invocation)) => (Ok(()), Some(invocation.id)),
            Ok((Err(failure), invocation)) => (Err(failure.to_string()), Some(invocation.id)),
            // Disabled or gone: counts as a failed attempt, so a plugin
            // enabled again within the backoff still gets the event.
            Err(e) => (Err(error_text(&e)), None),
        };
        let now = Utc::now();
        let update = match outcome {
            Ok(()) => query(
                "UPDATE integration_deliveries SET state = 'delivered', attempts = $1, delivered_at = $2, last_error = NULL, \
                 last_invocation_id = $3 WHERE id = $4",
            )
            .bind(attempts)
            .bind(now)
            .bind(invocation_id)
            .bind(&id),
            Err(why) => {
                let state = if attempts >= MAX_ATTEMPTS { "failed" } else { "pending" };
                query(
                    "UPDATE integration_deliveries SET state = $1, attempts = $2, next_attempt_at = $3, last_error = $4, \
                     last_invocation_id = $5 WHERE id = $6",
                )
                .bind(state)
                .bind(attempts)
                .bind(now + backoff(attempts))
                .bind(why)
                .bind(invocation_id)
                .bind(&id)
            }
        };
        update.execute(&mut db.clone()).await?;
    }
    Ok(attempted)
}

/// The wait after the `attempts`-th failed attempt: 1 s, 2 s, 4 s, ...
pub fn backoff(attempts: i64) -> chrono::Duration {
    let seconds = 1u64.checked_shl(u32::try_from(attempts.saturating_sub(1)).unwrap_or(63)).unwrap_or(u64::MAX);
    chrono::Duration::from_std(Duration::from_secs(seconds).min(MAX_BACKOFF)).expect("at most an hour")
}

/// Makes one delivery per enabled integration instance for each event not
/// fanned out yet, and marks the event, in one transaction.
async fn fan_out(db: &Db) -> Result<()> {
    let events = query("SELECT id FROM integration_events WHERE fanned_out_at IS NULL ORDER BY occurred_at, id LIMIT 100")
        .fetch_all(&mut db.clone())
        .await?;
    if events.is_empty() {
        return Ok(());
    }
    let instances = query(
        "SELECT i.id FROM plugin_instances i JOIN plugins p ON p.id = i.plugin_id WHERE p.kind = 'integration' AND p.enabled = $1 ORDER BY i.id",
    )
    .bind(true)
    .fetch_all(&mut db.clone())
    .await?;
    let now = Utc::now();
    let mut tx = db.begin().await?;
    for event in &events {
        let event_id: String = event.get("id")?;
        for instance in &instances {
            let instance_id: String = instance.get("id")?;
            query(
                "INSERT INTO integration_deliveries (id, event_id, instance_id, state, attempts, next_attempt_at, created_at) \
                 VALUES ($1, $2, $3, 'pending', 0, $4, $5)",
            )
            .bind(new_id())
            .bind(&event_id)
            .bind(&instance_id)
            .bind(now)
            .bind(now)
            .execute(&mut tx)
            .await?;
        }
        query("UPDATE integration_events SET fanned_out_at = $1 WHERE id = $2").bind(now).bind(&event_id).execute(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

fn error_text(error: &crate::error::Error) -> String {
    match error {
        crate::error::Error::Conflict { detail, .. } => detail.clone(),
        crate::error::Error::NotFound { entity, id } => format!("the {entity} {id} no longer exists"),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_a_second_up_to_an_hour() {
        let seconds: Vec<i64> = [1, 2, 3, 4, 12, 13, 100].iter().map(|a| backoff(*a).num_seconds()).collect();
        assert_eq!(seconds, [1, 2, 4, 8, 2048, 3600, 3600]);
    }
}
