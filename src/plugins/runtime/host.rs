//! What a plugin's store holds, and the host side of every interface the
//! plugin imports. WASI is linked because Rust guests import it, but its
//! context grants nothing: no files, no environment, no sockets, no stdin;
//! standard output and error are discarded.

use std::time::Instant;

use serde::Serialize;
use utoipa::ToSchema;
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::{clock, config, http, log, types};
use super::outbound;
use crate::plugins::capabilities::Granted;
use crate::plugins::secrets::Secrets;

/// Most log lines kept per call; the rest are counted, not kept.
pub const MAX_LOG_LINES: usize = 200;
/// Longest log line kept, in bytes; longer ones are cut.
pub const MAX_LOG_LINE_BYTES: usize = 2048;

/// What one call may use.
pub struct CallContext {
    /// The instance configuration, JSON.
    pub config: String,
    /// The instance's secrets that the manifest asks for.
    pub secrets: Secrets,
    pub granted: Granted,
}

/// One line a plugin logged.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct LogLine {
    /// trace, debug, info, warn or error.
    pub level: String,
    pub message: String,
}

pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub limiter: MemoryLimiter,
    context: CallContext,
    deadline: Instant,
    pub logs: Vec<LogLine>,
    pub dropped_log_lines: usize,
    /// Every outbound request the host refused, with the rule that refused it.
    pub denials: Vec<String>,
    /// The last `Retry-After` of a 429 or 503 answer the plugin received, so
    /// the sync engine can wait as long as the source asked.
    pub retry_after: Option<std::time::Duration>,
}

impl HostState {
    pub fn new(context: CallContext, deadline: Instant) -> HostState {
        HostState {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(context.granted.memory_bytes),
            context,
            deadline,
            logs: Vec::new(),
            dropped_log_lines: 0,
            denials: Vec::new(),
            retry_after: None,
        }
    }

    /// Replaces every secret value in `text`, so a plugin that logs its token
    /// does not put it into the invocation log.
    fn redact(&self, mut text: String) -> String {
        for value in self.context.secrets.0.values().filter(|v| v.len() >= 4) {
            text = text.replace(value.as_str(), "[secret]");
        }
        text
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl types::Host for HostState {}

impl log::Host for HostState {
    fn log(&mut self, level: log::Level, message: String) {
        if self.logs.len() >= MAX_LOG_LINES {
            self.dropped_log_lines += 1;
            return;
        }
        let mut message = self.redact(message);
        if message.len() > MAX_LOG_LINE_BYTES {
            let mut cut = MAX_LOG_LINE_BYTES;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push('…');
        }
        let level = match level {
            log::Level::Trace => "trace",
            log::Level::Debug => "debug",
            log::Level::Info => "info",
            log::Level::Warn => "warn",
            log::Level::Error => "error",
        };
        self.logs.push(LogLine { level: level.into(), message });
    }
}

impl config::Host for HostState {
    fn get_config(&mut self) -> String {
        self.context.config.clone()
    }

    fn get_secret(&mut self, name: String) -> Option<String> {
        self.context.secrets.0.get(&name).filter(|_| self.context.granted.secrets.contains(&name)).cloned()
    }
}

impl clock::Host for HostState {
    fn now_ms(&mut self) -> i64 {
        chrono::Utc::now().timestamp_millis()
    }
}

impl http::Host for HostState {
    async fn send(&mut self, request: http::Request) -> Result<http::Response, http::HttpError> {
        let result = outbound::send(&self.context.granted, request, self.deadline).await;
        match &result {
            Err(http::HttpError::Denied(why)) => self.denials.push(why.clone()),
            Ok(response) if matches!(response.status, 429 | 503) => {
                if let Some(wait) = response.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("retry-after")).and_then(|(_, v)| retry_after(v)) {
                    self.retry_after = Some(wait);
                }
            }
            Ok(_) => {}
            Err(_) => {}
        }
        result
    }
}

/// A `Retry-After` value: delay seconds or an HTTP date, at most an hour.
pub fn retry_after(value: &str) -> Option<std::time::Duration> {
    let value = value.trim();
    let seconds = match value.parse::<u64>() {
        Ok(seconds) => seconds,
        Err(_) => {
            let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
            u64::try_from((at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds().max(0)).ok()?
        }
    };
    Some(std::time::Duration::from_secs(seconds.min(3600)))
}

/// Caps a store's linear memory and records its peak, and why it refused to
/// grow, so a memory bomb is reported as such rather than as a bare trap.
pub struct MemoryLimiter {
    cap: usize,
    total: usize,
    pub peak: usize,
    /// The size a refused growth asked for.
    pub refused: Option<usize>,
}

impl MemoryLimiter {
    fn new(cap: usize) -> MemoryLimiter {
        MemoryLimiter { cap, total: 0, peak: 0, refused: None }
    }

    pub fn cap(&self) -> usize {
        self.cap
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let total = self.total + desired.saturating_sub(current);
        if total > self.cap {
            self.refused = Some(total);
            // An error, not `Ok(false)`: the guest traps at once instead of
            // seeing a failed `memory.grow` it might loop on.
            return Err(wasmtime::format_err!("the plugin asked for {total} bytes of memory; its cap is {}", self.cap));
        }
        self.total = total;
        self.peak = self.peak.max(total);
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}
