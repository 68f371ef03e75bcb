//! Executing a run: streams in the order `discover` gives them, pages one at
//! a time, each page stored with its checkpoint in one transaction.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;

use super::mapping::{self, Candidate, Change, Context, Kind};
use super::runs::{self, Counts, Run, Status};
use super::{Syncer, lease, records, settings, system_principal};
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::plugins::runtime::{ConnectorCall, ConnectorOutput, Failure, Page, PluginErrorKind};

/// Why a run stopped before it completed.
enum Stop {
    Cancelled,
    Failed(String),
    /// Another replica holds the lease now: stop without touching the run.
    LeaseLost,
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Failed(match e {
            Error::Validation(errors) => reasons(&errors),
            other => other.to_string(),
        })
    }
}

/// Field errors in one line: `/amount: must be a decimal; /currency: ...`.
pub fn reasons(errors: &[crate::error::FieldError]) -> String {
    errors
        .iter()
        .map(|e| match (&e.pointer, &e.parameter) {
            (Some(p), _) if !p.is_empty() => format!("{p}: {}", e.detail),
            (_, Some(p)) => format!("{p}: {}", e.detail),
            _ => e.detail.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Runs `run` to its end and records how it ended.
pub async fn execute(s: &Syncer, run: &Run) -> Result<()> {
    let outcome = streams(s, run).await;
    let (status, error) = match outcome {
        Ok(()) => (Status::Succeeded, None),
        Err(Stop::Cancelled) => (Status::Cancelled, None),
        Err(Stop::Failed(why)) => (Status::Failed, Some(why)),
        Err(Stop::LeaseLost) => return Ok(()),
    };
    runs::finish(&s.db, &run.id, status, error).await
}

async fn streams(s: &Syncer, run: &Run) -> Result<(), Stop> {
    let who = system_principal(&run.instance_id);
    let settings = settings::get(&mut s.db.clone(), &run.instance_id).await?;
    let ConnectorOutput::Discover(streams) = call(s, &who, run, ConnectorCall::Discover).await? else {
        return Err(Stop::Failed("discover answered something else".into()));
    };
    let mut done = run.streams_done.clone();
    for stream in streams {
        if done.contains(&stream.name) {
            continue;
        }
        let Some(kind) = Kind::parse(&stream.produces) else {
            return Err(Stop::Failed(format!("the stream {} produces {:?}, which the engine does not know", stream.name, stream.produces)));
        };
        let context = Context { instance_id: &run.instance_id, run_id: &run.id, stream: &stream, who: &who, settings: &settings, kind };
        one_stream(s, run, &context).await?;
        done.push(stream.name.clone());
        let mut tx = s.db.begin().await.map_err(Error::from)?;
        if !lease::renew(&mut tx, &run.instance_id, &s.holder).await? {
            return Err(Stop::LeaseLost);
        }
        if context.full_refresh() {
            let gone = records::mark_gone(&mut tx, &run.instance_id, &stream.name, &run.id).await?;
            mapping::retire(&mut tx, &context, gone).await?;
        }
        runs::set_streams_done(&mut tx, &run.id, &done).await?;
        tx.commit().await.map_err(Error::from)?;
    }
    Ok(())
}

async fn one_stream(s: &Syncer, run: &Run, context: &Context<'_>) -> Result<(), Stop> {
    let stream = context.stream;
    // An incremental stream goes on from where any run left it; a
    // full-refresh stream starts over, unless this very run saved the
    // checkpoint (it is resuming after a crash).
    let mut checkpoint = match records::checkpoint(&mut s.db.clone(), &run.instance_id, &stream.name).await? {
        Some((checkpoint, by)) if !context.full_refresh() || by == run.id => checkpoint,
        _ => None,
    };
    loop {
        if runs::cancel_requested(&s.db, &run.id).await? {
            return Err(Stop::Cancelled);
        }
        if !lease::renew(&mut s.db.clone(), &run.instance_id, &s.holder).await? {
            return Err(Stop::LeaseLost);
        }
        let read = ConnectorCall::Read { stream: stream.name.clone(), checkpoint: checkpoint.clone() };
        let ConnectorOutput::Read(page) = call(s, context.who, run, read).await? else {
            return Err(Stop::Failed("read answered something else".into()));
        };
        if !page.done && page.records.is_empty() && page.checkpoint == checkpoint {
            return Err(Stop::Failed(format!("the stream {} returned an empty page that does not move on", stream.name)));
        }
        store_page(s, context, &page).await?;
        if page.done {
            return Ok(());
        }
        checkpoint = page.checkpoint;
    }
}

/// Maps and stores one page, its counts and its checkpoint, in one transaction.
async fn store_page(s: &Syncer, context: &Context<'_>, page: &Page) -> Result<(), Stop> {
    let stream = context.stream;
    let mut tx = s.db.begin().await.map_err(Error::from)?;
    if !lease::renew(&mut tx, context.instance_id, &s.holder).await? {
        return Err(Stop::LeaseLost);
    }
    let mut counts = Counts { read: page.records.len() as i64, ..Counts::default() };
    // Parse and key every record; the last of two records with one key wins.
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for text in &page.records {
        let parsed: Result<Value, String> = serde_json::from_str::<Value>(text)
            .map_err(|e| format!("not JSON: {e}"))
            .and_then(|v| if v.is_object() { Ok(v) } else { Err("not a JSON object".into()) });
        let keyed = parsed.and_then(|v| records::key_of(&v, &stream.primary_key).map(|k| (k, v)));
        // A connector that could not read a record says why: in `_error` for
        // the whole record, in `_errors` per member (the SDK's `Record`).
        let keyed = keyed.and_then(|(key, value)| match records::unreadable(&value) {
            Some(why) => Err(format!("{key}: the connector could not read it: {why}")),
            None => Ok((key, value)),
        });
        match keyed {
            Ok((key, value)) => {
                let hash = records::hash_of(&value);
                let candidate = Candidate { key: key.clone(), hash, value, raw: text.clone(), known: None };
                if let Some(&earlier) = by_key.get(&key) {
                    candidates[earlier] = candidate;
                    counts.unchanged += 1;
                } else {
                    by_key.insert(key, candidates.len());
                    candidates.push(candidate);
                }
            }
            Err(why) => {
                counts.rejected += 1;
                runs::reject(&mut tx, context.run_id, &stream.name, None, &why, text).await?;
            }
        }
    }
    let keys: Vec<&str> = candidates.iter().map(|c| c.key.as_str()).collect();
    let known = records::known(&mut tx, context.instance_id, &stream.name, &keys).await?;
    let mut seen_unchanged = Vec::new();
    let mut changed = Vec::new();
    for mut candidate in candidates {
        candidate.known = known.get(&candidate.key).cloned();
        match &candidate.known {
            Some(k) if k.content_hash == candidate.hash && !k.gone => {
                counts.unchanged += 1;
                seen_unchanged.push(candidate.key);
            }
            _ => changed.push(candidate),
        }
    }
    if context.full_refresh() && !seen_unchanged.is_empty() {
        records::touch(&mut tx, context.instance_id, &stream.name, &seen_unchanged, context.run_id).await?;
    }
    let outcomes = mapping::apply(&mut tx, context, &changed).await?;
    let mut stored = Vec::with_capacity(changed.len());
    for (candidate, outcome) in changed.iter().zip(&outcomes) {
        match outcome {
            Ok((change, target)) => {
                match change {
                    Change::Inserted => counts.inserted += 1,
                    Change::Updated => counts.updated += 1,
                    Change::Unchanged => counts.unchanged += 1,
                }
                stored.push(records::Stored { key: &candidate.key, hash: &candidate.hash, target_id: target.as_deref() });
            }
            Err(why) => {
                counts.rejected += 1;
                runs::reject(&mut tx, context.run_id, &stream.name, Some(&candidate.key), why, &candidate.raw).await?;
            }
        }
    }
    records::upsert(&mut tx, context.instance_id, &stream.name, &stream.produces, context.run_id, &stored).await?;
    records::save_checkpoint(&mut tx, context.instance_id, &stream.name, page.checkpoint.as_deref(), context.run_id).await?;
    runs::add_page(&mut tx, context.run_id, &counts).await?;
    tx.commit().await.map_err(Error::from)?;
    Ok(())
}

/// Calls the connector, retrying transient failures with exponential backoff
/// or as long as the source's `Retry-After` asked.
async fn call(s: &Syncer, who: &Principal, run: &Run, call: ConnectorCall) -> Result<ConnectorOutput, Stop> {
    let policy = s.retry;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let called = crate::plugins::call_connector_traced(&s.db, &s.plugins, who, &run.instance_id, call.clone()).await?;
        let failure = match called.result {
            Ok(output) => return Ok(output),
            Err(failure) => failure,
        };
        if !transient(&failure) || attempt >= policy.attempts {
            let tries = if attempt > 1 { format!(" (after {attempt} attempts)") } else { String::new() };
            return Err(Stop::Failed(format!("{} failed{tries}: {failure}", call.name())));
        }
        let backoff = policy.base * 2u32.saturating_pow(attempt - 1);
        let wait = called.retry_after.unwrap_or(backoff).min(policy.max);
        tracing::info!(run = %run.id, attempt, wait_ms = wait.as_millis() as u64, error = %failure, "retrying a connector call");
        runs::add_retry(&s.db, &run.id).await?;
        pause(s, run, wait).await?;
    }
}

/// Waits, keeping the lease and stopping early when the run is cancelled.
async fn pause(s: &Syncer, run: &Run, wait: Duration) -> Result<(), Stop> {
    let until = tokio::time::Instant::now() + wait;
    loop {
        let now = tokio::time::Instant::now();
        if now >= until {
            return Ok(());
        }
        tokio::time::sleep((until - now).min(Duration::from_secs(5))).await;
        if runs::cancel_requested(&s.db, &run.id).await? {
            return Err(Stop::Cancelled);
        }
        if !lease::renew(&mut s.db.clone(), &run.instance_id, &s.holder).await? {
            return Err(Stop::LeaseLost);
        }
    }
}

/// Failures worth another try: the source or the connection failed, the call
/// ran out of time, or every plugin slot was busy.
fn transient(failure: &Failure) -> bool {
    match failure {
        Failure::Plugin(e) => e.kind == PluginErrorKind::Connector,
        Failure::Timeout { .. } | Failure::Busy => true,
        _ => false,
    }
}

impl Context<'_> {
    pub fn full_refresh(&self) -> bool {
        self.stream.cursor_field.is_none()
    }
}
