//! One run per instance across replicas: a row per instance naming the
//! replica that holds it until when. Taken when it is free, expired, or held
//! by the same replica (a server restarted after a crash); renewed inside
//! every page's transaction, so a replica that lost its lease cannot commit.

use std::time::Duration;

use chrono::Utc;

use crate::db::{Db, Executor, query};
use crate::error::Result;

/// How long a lease lasts without renewal: a crashed replica's runs are
/// picked up by another one this long after its last page.
pub const TTL: Duration = Duration::from_secs(30);

fn expiry() -> chrono::DateTime<Utc> {
    Utc::now() + chrono::Duration::from_std(TTL).expect("a small duration")
}

/// Takes the lease of `instance_id` for `holder`; false when another replica holds it.
pub async fn acquire(db: &Db, instance_id: &str, holder: &str) -> Result<bool> {
    let taken = query(
        "INSERT INTO sync_leases (instance_id, holder, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (instance_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
         WHERE sync_leases.expires_at < $4 OR sync_leases.holder = $2",
    )
    .bind(instance_id)
    .bind(holder)
    .bind(expiry())
    .bind(Utc::now())
    .execute(&mut db.clone())
    .await?;
    Ok(taken == 1)
}

/// Extends the lease; false when `holder` no longer holds it.
pub async fn renew(ex: &mut impl Executor, instance_id: &str, holder: &str) -> Result<bool> {
    let renewed = query("UPDATE sync_leases SET expires_at = $1 WHERE instance_id = $2 AND holder = $3")
        .bind(expiry())
        .bind(instance_id)
        .bind(holder)
        .execute(ex)
        .await?;
    Ok(renewed == 1)
}

pub async fn release(db: &Db, instance_id: &str, holder: &str) -> Result<()> {
    query("DELETE FROM sync_leases WHERE instance_id = $1 AND holder = $2").bind(instance_id).bind(holder).execute(&mut db.clone()).await?;
    Ok(())
}
