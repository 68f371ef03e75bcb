//! The sync engine: runs of connector instances that pull their streams page
//! by page and map each record into the core model, losing and duplicating
//! nothing. The record contract connectors write to is `src/sync/README.md`.
//!
//! - [`runs`]: runs, their counts and rejections;
//! - [`settings`]: per-instance schedule, precedence and ledger defaults;
//! - [`lease`]: one run per instance across replicas;
//! - [`engine`]: executing a run (pages, retries, checkpoints, full refresh);
//! - [`mapping`]: records into assets, services, configuration items, ledger
//!   lines, ticket effort and utilisation;
//! - [`scheduler`]: due schedules and runs orphaned by a crash;
//! - [`http`]: the admin API.

pub mod engine;
pub mod http;
pub mod lease;
pub mod mapping;
pub mod records;
pub mod runs;
pub mod scheduler;
pub mod settings;

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::auth::{Principal, Role};
use crate::db::Db;
use crate::error::{ConflictKind, Error, Result};
use crate::plugins::Plugins;
use runs::{Run, Trigger};

/// How failed calls are retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Calls in all, the first included.
    pub attempts: u32,
    /// The first wait; each next one doubles.
    pub base: Duration,
    /// No wait is longer, `Retry-After` included.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { attempts: 5, base: Duration::from_millis(500), max: Duration::from_secs(120) }
    }
}

/// The engine of one server process.
pub struct Syncer {
    pub db: Db,
    pub plugins: Arc<Plugins>,
    /// This replica's name in leases. Kept in the data directory, so a server
    /// restarted after a crash takes back its own leases at once.
    pub holder: String,
    pub retry: RetryPolicy,
    /// Runs executing in this process.
    active: Mutex<HashSet<String>>,
}

impl Syncer {
    pub fn new(db: Db, plugins: Arc<Plugins>, data_dir: &Path) -> anyhow::Result<Arc<Syncer>> {
        Ok(Arc::new(Syncer { db, plugins, holder: replica_id(data_dir)?, retry: RetryPolicy::default(), active: Mutex::new(HashSet::new()) }))
    }

    fn is_active(&self, run_id: &str) -> bool {
        self.active.lock().expect("not poisoned").contains(run_id)
    }

    /// Starts a run of `instance_id` (or resumes its unfinished one) in the
    /// background. 409 when a run of the instance is in progress.
    pub async fn start(self: &Arc<Self>, instance_id: &str, trigger: Trigger, who: &Principal) -> Result<Run> {
        crate::plugins::instances::get(&mut self.db.clone(), instance_id).await?;
        let busy = || Error::conflict(ConflictKind::Locked, "a run of this instance is in progress");
        let unfinished = runs::unfinished(&self.db, instance_id).await?;
        if unfinished.as_ref().is_some_and(|run| self.is_active(&run.id)) {
            return Err(busy());
        }
        if !lease::acquire(&self.db, instance_id, &self.holder).await? {
            return Err(busy());
        }
        let run = match unfinished {
            Some(run) => run,
            None => runs::create(&self.db, instance_id, trigger, &who.subject).await?,
        };
        self.spawn(run.clone());
        Ok(run)
    }

    /// Resumes a run whose server died: only when this replica holds (or
    /// just took) the instance's lease.
    pub async fn resume(self: &Arc<Self>, run: Run) -> Result<bool> {
        if self.is_active(&run.id) || !lease::acquire(&self.db, &run.instance_id, &self.holder).await? {
            return Ok(false);
        }
        tracing::info!(run = %run.id, instance = %run.instance_id, "resuming a sync run from its last checkpoint");
        self.spawn(run);
        Ok(true)
    }

    fn spawn(self: &Arc<Self>, run: Run) {
        self.active.lock().expect("not poisoned").insert(run.id.clone());
        let syncer = self.clone();
        tokio::spawn(async move {
            let outcome = engine::execute(&syncer, &run).await;
            if let Err(e) = &outcome {
                tracing::warn!(run = %run.id, error = %e, "sync run stopped");
            }
            syncer.active.lock().expect("not poisoned").remove(&run.id);
            if let Err(e) = lease::release(&syncer.db, &run.instance_id, &syncer.holder).await {
                tracing::warn!(run = %run.id, error = %e, "could not release the sync lease; it expires by itself");
            }
        });
    }
}

/// The principal sync writes are audited under.
pub fn system_principal(instance_id: &str) -> Principal {
    Principal { subject: format!("sync:{instance_id}"), roles: vec![Role::Admin], request_id: None }
}

/// The replica id stored in `data_dir/replica-id`, created on first start.
fn replica_id(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join("replica-id");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let text = text.trim();
        if !text.is_empty() {
            return Ok(text.to_owned());
        }
    }
    let id = crate::patch::new_id();
    std::fs::create_dir_all(data_dir)?;
    std::fs::write(&path, &id)?;
    Ok(id)
}
