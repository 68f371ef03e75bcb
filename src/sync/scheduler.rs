//! The background loop of every replica: resumes runs orphaned by a crash,
//! and starts the runs whose schedule is due. A due slot is claimed by
//! moving its `next_run_at` with a compare-and-set, so of several replicas
//! exactly one starts the run.

use std::sync::Arc;
use std::time::Duration;

use super::runs::{self, Trigger};
use super::{Syncer, settings, system_principal};
use crate::error::{Error, Result};

/// How often a replica looks for due and orphaned runs.
pub const TICK: Duration = Duration::from_secs(1);

/// Runs the loop until the task is aborted.
pub async fn run(syncer: Arc<Syncer>) {
    loop {
        if let Err(e) = tick(&syncer).await {
            tracing::warn!(error = %e, "sync scheduler tick failed");
        }
        tokio::time::sleep(TICK).await;
    }
}

pub async fn tick(syncer: &Arc<Syncer>) -> Result<()> {
    for run in runs::orphans(&syncer.db, &syncer.holder).await? {
        if run.cancel_requested {
            runs::finish(&syncer.db, &run.id, runs::Status::Cancelled, None).await?;
        } else {
            syncer.resume(run).await?;
        }
    }
    for due in settings::due(&syncer.db).await? {
        if !settings::claim(&syncer.db, &due).await? {
            continue;
        }
        match syncer.start(&due.instance_id, Trigger::Schedule, &system_principal(&due.instance_id)).await {
            Ok(run) => tracing::info!(run = %run.id, instance = %due.instance_id, "scheduled sync run started"),
            Err(Error::Conflict { .. }) => tracing::info!(instance = %due.instance_id, "scheduled sync skipped: a run is in progress"),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
