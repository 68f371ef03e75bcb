//! What the engine remembers of every record it stored: its key, the hash of
//! its content, the core row it became, and the run that last saw it.

use std::collections::HashMap;

use chrono::Utc;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::db::{Executor, Tx, query};
use crate::error::Result;

/// A stored record as the engine knows it.
#[derive(Debug, Clone)]
pub struct Known {
    pub content_hash: String,
    pub target_id: Option<String>,
    pub gone: bool,
}

/// The record's key: its primary-key fields, joined with `|`.
pub fn key_of(record: &Value, primary_key: &[String]) -> std::result::Result<String, String> {
    if primary_key.is_empty() {
        return Err("the stream declares no primary key".into());
    }
    let mut parts = Vec::with_capacity(primary_key.len());
    for field in primary_key {
        match record.get(field) {
            None | Some(Value::Null) => return Err(format!("the primary-key field {field:?} is missing")),
            Some(Value::String(s)) if s.is_empty() => return Err(format!("the primary-key field {field:?} is empty")),
            Some(Value::String(s)) => parts.push(s.clone()),
            Some(other) => parts.push(other.to_string()),
        }
    }
    let key = parts.join("|");
    if key.len() > 180 { Err("the primary key is longer than 180 bytes".into()) } else { Ok(key) }
}

/// SHA-256 of the record's canonical JSON (object keys sorted).
pub fn hash_of(record: &Value) -> String {
    // serde_json's map is ordered by key (no `preserve_order`), so the text is canonical.
    let digest = Sha256::digest(record.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the engine knows of `keys` of one stream.
pub async fn known(ex: &mut impl Executor, instance_id: &str, stream: &str, keys: &[&str]) -> Result<HashMap<String, Known>> {
    let mut found = HashMap::new();
    for chunk in keys.chunks(500) {
        let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
        let mut q = query(format!(
            "SELECT record_key, content_hash, target_id, gone_at FROM sync_records WHERE instance_id = $1 AND stream = $2 AND record_key IN ({})",
            placeholders.join(", ")
        ))
        .bind(instance_id)
        .bind(stream);
        for key in chunk {
            q = q.bind(*key);
        }
        for row in q.fetch_all(ex).await? {
            let gone: Option<chrono::DateTime<Utc>> = row.get("gone_at")?;
            found.insert(row.get("record_key")?, Known { content_hash: row.get("content_hash")?, target_id: row.get("target_id")?, gone: gone.is_some() });
        }
    }
    Ok(found)
}

/// What one record became, for [`upsert`].
pub struct Stored<'a> {
    pub key: &'a str,
    pub hash: &'a str,
    pub target_id: Option<&'a str>,
}

/// Stores what the records of a page became: one statement per 500 records.
pub async fn upsert(tx: &mut Tx, instance_id: &str, stream: &str, produces: &str, run_id: &str, stored: &[Stored<'_>]) -> Result<()> {
    let now = Utc::now();
    for chunk in stored.chunks(500) {
        // $1..$5 are shared by every row; each row adds its key, hash and target.
        let rows: Vec<String> = (0..chunk.len()).map(|i| format!("($1, $2, ${}, $3, ${}, ${}, $4, $5, $5)", 6 + 3 * i, 7 + 3 * i, 8 + 3 * i)).collect();
        let mut q = query(format!(
            "INSERT INTO sync_records (instance_id, stream, record_key, produces, content_hash, target_id, last_run_id, first_seen_at, last_seen_at) \
             VALUES {} \
             ON CONFLICT (instance_id, stream, record_key) DO UPDATE SET produces = excluded.produces, content_hash = excluded.content_hash, \
             target_id = excluded.target_id, last_run_id = excluded.last_run_id, last_seen_at = excluded.last_seen_at, gone_at = NULL",
            rows.join(", ")
        ))
        .bind(instance_id)
        .bind(stream)
        .bind(produces)
        .bind(run_id)
        .bind(now);
        for s in chunk {
            q = q.bind(s.key).bind(s.hash).bind(s.target_id);
        }
        q.execute(tx).await?;
    }
    Ok(())
}

/// Marks unchanged records as seen by `run_id` (full-refresh streams only).
pub async fn touch(tx: &mut Tx, instance_id: &str, stream: &str, keys: &[String], run_id: &str) -> Result<()> {
    let now = Utc::now();
    for chunk in keys.chunks(500) {
        let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 5)).collect();
        let mut q = query(format!(
            "UPDATE sync_records SET last_run_id = $1, last_seen_at = $2 WHERE instance_id = $3 AND stream = $4 AND record_key IN ({})",
            placeholders.join(", ")
        ))
        .bind(run_id)
        .bind(now)
        .bind(instance_id)
        .bind(stream);
        for key in chunk {
            q = q.bind(key);
        }
        q.execute(tx).await?;
    }
    Ok(())
}

/// The core id a record of this instance became, for `*_ref` members.
pub async fn target_of(ex: &mut impl Executor, instance_id: &str, stream: &str, key: &str) -> Result<Option<String>> {
    let row = query("SELECT target_id FROM sync_records WHERE instance_id = $1 AND stream = $2 AND record_key = $3")
        .bind(instance_id)
        .bind(stream)
        .bind(key)
        .fetch_optional(ex)
        .await?;
    Ok(row.map(|r| r.get::<Option<String>>("target_id")).transpose()?.flatten())
}

/// A gone record: its key, what it produced and the core row.
pub struct Gone {
    pub produces: String,
    pub target_id: Option<String>,
}

/// Marks records of a full-refresh stream that `run_id` did not see as gone.
pub async fn mark_gone(tx: &mut Tx, instance_id: &str, stream: &str, run_id: &str) -> Result<Vec<Gone>> {
    let rows = query(
        "SELECT produces, target_id FROM sync_records WHERE instance_id = $1 AND stream = $2 AND last_run_id <> $3 AND gone_at IS NULL",
    )
    .bind(instance_id)
    .bind(stream)
    .bind(run_id)
    .fetch_all(tx)
    .await?;
    query("UPDATE sync_records SET gone_at = $1 WHERE instance_id = $2 AND stream = $3 AND last_run_id <> $4 AND gone_at IS NULL")
        .bind(Utc::now())
        .bind(instance_id)
        .bind(stream)
        .bind(run_id)
        .execute(tx)
        .await?;
    rows.iter().map(|r| Ok(Gone { produces: r.get("produces")?, target_id: r.get("target_id")? })).collect()
}

/// Saved checkpoint of a stream and the run that saved it.
pub async fn checkpoint(ex: &mut impl Executor, instance_id: &str, stream: &str) -> Result<Option<(Option<String>, String)>> {
    let row = query("SELECT checkpoint, run_id FROM sync_checkpoints WHERE instance_id = $1 AND stream = $2")
        .bind(instance_id)
        .bind(stream)
        .fetch_optional(ex)
        .await?;
    Ok(row.map(|r| Ok::<_, crate::db::DbError>((r.get("checkpoint")?, r.get("run_id")?))).transpose()?)
}

pub async fn save_checkpoint(tx: &mut Tx, instance_id: &str, stream: &str, checkpoint: Option<&str>, run_id: &str) -> Result<()> {
    query(
        "INSERT INTO sync_checkpoints (instance_id, stream, checkpoint, run_id, updated_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (instance_id, stream) DO UPDATE SET checkpoint = excluded.checkpoint, run_id = excluded.run_id, updated_at = excluded.updated_at",
    )
    .bind(instance_id)
    .bind(stream)
    .bind(checkpoint)
    .bind(run_id)
    .bind(Utc::now())
    .execute(tx)
    .await?;
    Ok(())
}

/// Why a connector could not read a record, if it says so: `_error` (the
/// record as a whole) or `_errors` (member by member, `{"cost": "not a number"}`).
pub fn unreadable(record: &Value) -> Option<String> {
    let mut why: Vec<String> = record.get("_error").and_then(Value::as_str).map(str::to_owned).into_iter().collect();
    if let Some(members) = record.get("_errors").and_then(Value::as_object) {
        why.extend(members.iter().map(|(member, e)| format!("{member}: {}", e.as_str().map_or_else(|| e.to_string(), str::to_owned))));
    }
    (!why.is_empty()).then(|| why.join("; "))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::unreadable;

    #[test]
    fn a_record_says_it_is_unreadable_as_a_whole_or_member_by_member() {
        assert_eq!(unreadable(&json!({"id": "1", "name": "Laptop"})), None);
        assert_eq!(unreadable(&json!({"id": "1", "_error": "the row does not split"})).as_deref(), Some("the row does not split"));
        assert_eq!(
            unreadable(&json!({"id": "1", "cost": "1,99x.00", "_errors": {"cost": "not a number", "purchased": "not a date"}})).as_deref(),
            Some("cost: not a number; purchased: not a date")
        );
    }
}
