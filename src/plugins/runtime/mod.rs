//! The sandbox plugins run in.
//!
//! One [`wasmtime::Engine`] per server: component model, epoch interruption
//! (a ticker thread advances the epoch every [`TICK`]; at each tick a running
//! plugin yields to tokio, and traps once its call's deadline has passed),
//! fuel metering (reported per call, and a last resort against runaway code),
//! and the pooling allocator when the machine grants its address space
//! (probed at start; on-demand allocation otherwise). Compiled code is
//! cached on disk by wasmtime's cache, keyed by a hash of the engine's
//! compilation settings and version together with the component's bytes, so
//! a new wasmtime recompiles instead of loading stale code, and no `unsafe`
//! deserialisation is needed.
//!
//! Each plugin is compiled and linked once into an `InstancePre`; each call
//! gets a fresh `Store` with its own memory cap, deadline and fuel, and the
//! store is dropped after the call whatever happened, so a trapped instance
//! is never reused. A semaphore bounds the instances alive at once.

mod bindings;
mod host;
mod outbound;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use utoipa::ToSchema;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap, UpdateDeadline};

pub use host::{CallContext, LogLine};
use host::HostState;
use super::manifest::{Kind, MAX_MEMORY_MB};

/// How often the epoch advances: the resolution of call deadlines.
pub const TICK: Duration = Duration::from_millis(10);
/// Fuel of one call: far more than a well-behaved call burns before its
/// deadline; the deadline is what normally stops runaway code.
pub const FUEL_PER_CALL: u64 = 50_000_000_000;
/// Largest output of one call (all strings of the result together).
pub const MAX_OUTPUT_BYTES: usize = 8 << 20;
/// Largest single record of a page.
pub const MAX_RECORD_BYTES: usize = 256 << 10;
/// Longest a call waits for a free instance slot before it is refused as busy.
pub const QUEUE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct RuntimeSettings {
    /// Where compiled components are cached; `None` compiles every time.
    pub cache_dir: Option<PathBuf>,
    /// Instances alive at once, over all plugins.
    pub max_instances: u32,
}

/// Why a call did not produce a result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Failure {
    /// The plugin ran and reported an error of its own.
    #[error("{0}")]
    Plugin(PluginError),
    #[error("the call did not finish within its deadline of {limit_ms} ms")]
    Timeout { limit_ms: u32 },
    #[error("the plugin tried to use more than its memory cap of {cap_bytes} bytes")]
    MemoryLimit { cap_bytes: usize },
    #[error("the plugin used up its fuel ({FUEL_PER_CALL} units)")]
    FuelExhausted,
    /// The plugin trapped: a panic, an `unreachable`, an out-of-bounds access.
    #[error("the plugin crashed: {0}")]
    Trap(String),
    #[error("the plugin's output is too large: {0}")]
    OutputTooLarge(String),
    /// The plugin's error followed an outbound request the host refused.
    #[error("the host refused a capability the plugin tried to use: {0}")]
    CapabilityDenied(String),
    #[error("every plugin slot is busy; try again")]
    Busy,
}

impl Failure {
    /// The outcome as the invocation log spells it.
    pub fn outcome(&self) -> &'static str {
        match self {
            Failure::Plugin(e) => match e.kind {
                PluginErrorKind::Configuration => "configuration-error",
                PluginErrorKind::Connector => "connector-error",
                PluginErrorKind::InvalidInput => "invalid-input",
            },
            Failure::Timeout { .. } => "timeout",
            Failure::MemoryLimit { .. } => "memory-limit",
            Failure::FuelExhausted => "fuel-exhausted",
            Failure::Trap(_) => "trap",
            Failure::OutputTooLarge(_) => "output-too-large",
            Failure::CapabilityDenied(_) => "capability-denied",
            Failure::Busy => "busy",
        }
    }
}

/// An error a plugin reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, thiserror::Error)]
#[error("{kind:?} error: {message}")]
pub struct PluginError {
    pub kind: PluginErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PluginErrorKind {
    /// An admin must fix the instance's configuration.
    Configuration,
    /// The source or the connection failed; retrying may help.
    Connector,
    /// The call's input is invalid.
    InvalidInput,
}

impl From<bindings::types::PluginError> for PluginError {
    fn from(e: bindings::types::PluginError) -> Self {
        use bindings::types::PluginError as Wit;
        let (kind, message) = match e {
            Wit::Configuration(m) => (PluginErrorKind::Configuration, m),
            Wit::Connector(m) => (PluginErrorKind::Connector, m),
            Wit::InvalidInput(m) => (PluginErrorKind::InvalidInput, m),
        };
        PluginError { kind, message }
    }
}

/// A call to a connector.
#[derive(Debug, Clone)]
pub enum ConnectorCall {
    Spec,
    Check,
    Discover,
    Read { stream: String, checkpoint: Option<String> },
}

impl ConnectorCall {
    pub fn name(&self) -> &'static str {
        match self {
            ConnectorCall::Spec => "spec",
            ConnectorCall::Check => "check",
            ConnectorCall::Discover => "discover",
            ConnectorCall::Read { .. } => "read",
        }
    }
}

/// A stream a connector offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StreamInfo {
    pub name: String,
    pub description: String,
    /// What the records are in the core model, such as `asset`.
    pub produces: String,
    pub primary_key: Vec<String>,
    pub cursor_field: Option<String>,
}

/// One page of a stream: records as the plugin wrote them (JSON text each).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = ConnectorPage)]
pub struct Page {
    pub records: Vec<String>,
    pub checkpoint: Option<String>,
    pub done: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ConnectorOutput {
    Spec(String),
    Check,
    Discover(Vec<StreamInfo>),
    Read(Page),
}

/// A call to an ROI model.
#[derive(Debug, Clone)]
pub enum ModelCall {
    Describe,
    Evaluate(ModelInput),
}

impl ModelCall {
    pub fn name(&self) -> &'static str {
        match self {
            ModelCall::Describe => "describe",
            ModelCall::Evaluate(_) => "evaluate",
        }
    }
}

/// The input of `evaluate`, as the WIT interface carries it: amounts as
/// decimal strings, params as JSON text.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInput {
    /// (label, costs, benefits) of each period.
    pub periods: Vec<(String, String, String)>,
    pub periods_per_year: u8,
    pub discount_rate: String,
    pub currency: String,
    pub params: String,
}

/// What an ROI model says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ModelDescription {
    pub name: String,
    pub summary: String,
    pub metrics: Vec<String>,
    /// JSON Schema of `params`, as the model wrote it.
    pub params_schema: String,
}

/// An evaluation as the plugin returned it (amounts as decimal strings; the
/// domain layer reads them into decimals).
#[derive(Debug, Clone, PartialEq)]
pub struct RawEvaluation {
    /// (name, value, unit)
    pub metrics: Vec<(String, Option<String>, String)>,
    /// (metric, rank, value)
    pub percentiles: Vec<(String, u8, String)>,
    pub explanation: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ModelOutput {
    Describe(ModelDescription),
    Evaluate(RawEvaluation),
}

/// An event delivered to an integration.
#[derive(Debug, Clone, PartialEq)]
pub struct EventMessage {
    pub id: String,
    pub kind: String,
    pub occurred_at_ms: i64,
    pub subject_id: String,
    /// JSON.
    pub payload: String,
}

/// What one call did and used.
#[derive(Debug)]
pub struct Report<T> {
    pub result: Result<T, Failure>,
    pub duration: Duration,
    pub fuel_used: Option<u64>,
    pub peak_memory_bytes: usize,
    pub logs: Vec<LogLine>,
    /// The last `Retry-After` the plugin received with a 429 or 503.
    pub retry_after: Option<Duration>,
}

/// A compiled and linked plugin, ready to instantiate.
pub enum Prepared {
    Connector(bindings::connector::ConnectorPre<HostState>),
    RoiModel(bindings::roi_model::RoiModelPre<HostState>),
    Integration(bindings::integration::IntegrationPre<HostState>),
}

pub struct Runtime {
    engine: Engine,
    linker: Linker<HostState>,
    prepared: Mutex<HashMap<String, Arc<Prepared>>>,
    slots: Arc<Semaphore>,
    pooling: bool,
    stop_ticker: Arc<AtomicBool>,
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

impl Runtime {
    /// Builds the engine (with the pooling allocator if the machine allows
    /// it) and starts its epoch ticker thread.
    pub fn new(settings: &RuntimeSettings) -> anyhow::Result<Runtime> {
        let (engine, pooling) = match Engine::new(&engine_config(settings, true)?) {
            Ok(engine) => (engine, true),
            Err(e) => {
                tracing::warn!(error = %e, "the pooling allocator is not available here; plugins are instantiated on demand");
                (Engine::new(&engine_config(settings, false)?).map_err(anyhow_error)?, false)
            }
        };
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(anyhow_error)?;
        bindings::connector::Connector::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s).map_err(anyhow_error)?;
        // A thread of its own, not a tokio task: a task could sit behind the
        // very guest code it has to interrupt.
        let stop = Arc::new(AtomicBool::new(false));
        let (ticking, stopped) = (engine.clone(), stop.clone());
        std::thread::Builder::new().name("plugin-epoch".into()).spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                std::thread::sleep(TICK);
                ticking.increment_epoch();
            }
        })?;
        Ok(Runtime {
            engine,
            linker,
            prepared: Mutex::new(HashMap::new()),
            slots: Arc::new(Semaphore::new(settings.max_instances as usize)),
            pooling,
            stop_ticker: stop,
        })
    }

    pub fn uses_pooling(&self) -> bool {
        self.pooling
    }

    /// Compiles (or loads from the cache) and links a component as a plugin of
    /// `kind`; `sha256` names it. An error says what does not fit: not a
    /// component, imports this server does not provide, or exports missing
    /// for the kind.
    pub async fn prepare(&self, kind: Kind, sha256: &str, component: &[u8]) -> Result<Arc<Prepared>, String> {
        if let Some(ready) = self.cached(sha256) {
            return Ok(ready);
        }
        let engine = self.engine.clone();
        let bytes = component.to_vec();
        let compiled = tokio::task::spawn_blocking(move || Component::from_binary(&engine, &bytes))
            .await
            .map_err(|e| format!("compilation stopped: {e}"))?
            .map_err(|e| format!("not a valid WebAssembly component: {}", error_text(&e)))?;
        let pre = self
            .linker
            .instantiate_pre(&compiled)
            .map_err(|e| format!("the component needs imports this server does not provide: {}", error_text(&e)))?;
        let wrong_world = |e: wasmtime::Error| format!("the component does not implement the {kind} world: {}", error_text(&e));
        let prepared = Arc::new(match kind {
            Kind::Connector => Prepared::Connector(bindings::connector::ConnectorPre::new(pre).map_err(wrong_world)?),
            Kind::RoiModel => Prepared::RoiModel(bindings::roi_model::RoiModelPre::new(pre).map_err(wrong_world)?),
            Kind::Integration => Prepared::Integration(bindings::integration::IntegrationPre::new(pre).map_err(wrong_world)?),
        });
        self.prepared.lock().expect("not poisoned").insert(sha256.to_owned(), prepared.clone());
        Ok(prepared)
    }

    /// The plugin prepared under `sha256`, if it was prepared since start.
    pub fn cached(&self, sha256: &str) -> Option<Arc<Prepared>> {
        self.prepared.lock().expect("not poisoned").get(sha256).cloned()
    }

    /// Forgets a prepared plugin (after uninstall).
    pub fn forget(&self, sha256: &str) {
        self.prepared.lock().expect("not poisoned").remove(sha256);
    }

    /// Calls a connector in a fresh store.
    pub async fn call_connector(&self, prepared: &Prepared, context: CallContext, call: ConnectorCall) -> Report<ConnectorOutput> {
        let Prepared::Connector(pre) = prepared else {
            return Report::failed(Failure::Trap("the plugin is not a connector".into()));
        };
        self.run(context, async move |store: &mut Store<HostState>| {
            let connector = pre.instantiate_async(&mut *store).await?;
            let source = connector.itbm_plugin_source();
            Ok(match call {
                ConnectorCall::Spec => Ok(ConnectorOutput::Spec(source.call_spec(&mut *store).await?)),
                ConnectorCall::Check => source.call_check(&mut *store).await?.map(|()| ConnectorOutput::Check),
                ConnectorCall::Discover => source.call_discover(&mut *store).await?.map(|streams| {
                    ConnectorOutput::Discover(
                        streams
                            .into_iter()
                            .map(|s| StreamInfo {
                                name: s.name,
                                description: s.description,
                                produces: s.produces,
                                primary_key: s.primary_key,
                                cursor_field: s.cursor_field,
                            })
                            .collect(),
                    )
                }),
                ConnectorCall::Read { stream, checkpoint } => source
                    .call_read(&mut *store, &stream, checkpoint.as_deref())
                    .await?
                    .map(|p| ConnectorOutput::Read(Page { records: p.records, checkpoint: p.checkpoint, done: p.done })),
            })
        })
        .await
        .and_then(check_connector_output)
    }

    /// Calls an ROI model in a fresh store, under the same limits as a connector.
    pub async fn call_model(&self, prepared: &Prepared, context: CallContext, call: ModelCall) -> Report<ModelOutput> {
        use bindings::roi_model::exports::itbm::plugin::model;
        let Prepared::RoiModel(pre) = prepared else {
            return Report::failed(Failure::Trap("the plugin is not an ROI model".into()));
        };
        self.run(context, async move |store: &mut Store<HostState>| {
            let instance = pre.instantiate_async(&mut *store).await?;
            let guest = instance.itbm_plugin_model();
            Ok(match call {
                ModelCall::Describe => {
                    let d = guest.call_describe(&mut *store).await?;
                    Ok(ModelOutput::Describe(ModelDescription { name: d.name, summary: d.summary, metrics: d.metrics, params_schema: d.params_schema }))
                }
                ModelCall::Evaluate(input) => {
                    let wit_input = model::EvaluationInput {
                        periods: input
                            .periods
                            .into_iter()
                            .map(|(label, costs, benefits)| model::Period { label, costs, benefits })
                            .collect(),
                        periods_per_year: input.periods_per_year,
                        discount_rate: input.discount_rate,
                        currency: input.currency,
                        params: input.params,
                    };
                    guest.call_evaluate(&mut *store, &wit_input).await?.map(|e| {
                        ModelOutput::Evaluate(RawEvaluation {
                            metrics: e.metrics.into_iter().map(|m| (m.name, m.value, m.unit)).collect(),
                            percentiles: e.percentiles.into_iter().map(|p| (p.metric, p.rank, p.value)).collect(),
                            explanation: e.explanation,
                        })
                    })
                }
            })
        })
        .await
        .and_then(check_model_output)
    }

    /// Delivers one event to an integration in a fresh store.
    pub async fn call_integration(&self, prepared: &Prepared, context: CallContext, event: EventMessage) -> Report<()> {
        use bindings::integration::exports::itbm::plugin::receiver;
        let Prepared::Integration(pre) = prepared else {
            return Report::failed(Failure::Trap("the plugin is not an integration".into()));
        };
        self.run(context, async move |store: &mut Store<HostState>| {
            let instance = pre.instantiate_async(&mut *store).await?;
            let event = receiver::Event {
                id: event.id,
                kind: event.kind,
                occurred_at_ms: event.occurred_at_ms,
                subject_id: event.subject_id,
                payload: event.payload,
            };
            instance.itbm_plugin_receiver().call_receive(&mut *store, &event).await
        })
        .await
    }

    /// Runs `body` in a fresh store under the context's limits, and classifies
    /// whatever stopped it.
    async fn run<T>(
        &self,
        context: CallContext,
        body: impl AsyncFnOnce(&mut Store<HostState>) -> wasmtime::Result<Result<T, bindings::types::PluginError>>,
    ) -> Report<T> {
        let started = Instant::now();
        let Ok(Ok(_slot)) = tokio::time::timeout(QUEUE_TIMEOUT, self.slots.clone().acquire_owned()).await else {
            return Report::failed(Failure::Busy);
        };
        let limit_ms = context.granted.timeout_ms;
        let deadline = Duration::from_millis(u64::from(limit_ms));
        let ends_at = Instant::now() + deadline;
        let mut store = Store::new(&self.engine, HostState::new(context, ends_at));
        store.limiter(|state| &mut state.limiter);
        let fuel = store.set_fuel(FUEL_PER_CALL).is_ok();
        // At every tick the guest yields to tokio, so a busy plugin never holds
        // a worker thread for long, and traps once its deadline has passed.
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            Ok(if Instant::now() >= ends_at {
                UpdateDeadline::Interrupt
            } else {
                UpdateDeadline::YieldCustom(1, Box::pin(tokio::task::yield_now()))
            })
        });

        // The epoch stops guest code; the timer also stops a call that waits in
        // the host (an outbound request) past the deadline.
        let outcome = tokio::time::timeout(deadline + TICK * 5, body(&mut store)).await;
        let fuel_used = fuel.then(|| store.get_fuel().ok().map(|left| FUEL_PER_CALL - left)).flatten();
        let state = store.into_data();
        let result = match outcome {
            Err(_elapsed) => Err(Failure::Timeout { limit_ms }),
            Ok(Ok(Ok(output))) => Ok(output),
            Ok(Ok(Err(plugin_error))) => match state.denials.first() {
                Some(denial) => Err(Failure::CapabilityDenied(denial.clone())),
                None => Err(Failure::Plugin(plugin_error.into())),
            },
            Ok(Err(error)) => Err(classify(&error, &state, limit_ms)),
        };
        let mut logs = state.logs;
        if state.dropped_log_lines > 0 {
            logs.push(LogLine { level: "warn".into(), message: format!("{} more log lines were dropped", state.dropped_log_lines) });
        }
        Report { result, duration: started.elapsed(), fuel_used, peak_memory_bytes: state.limiter.peak, logs, retry_after: state.retry_after }
    }
}

impl<T> Report<T> {
    fn failed(failure: Failure) -> Self {
        Report { result: Err(failure), duration: Duration::ZERO, fuel_used: None, peak_memory_bytes: 0, logs: Vec::new(), retry_after: None }
    }

    fn and_then<U>(self, f: impl FnOnce(T) -> Result<U, Failure>) -> Report<U> {
        Report { result: self.result.and_then(f), duration: self.duration, fuel_used: self.fuel_used, peak_memory_bytes: self.peak_memory_bytes, logs: self.logs, retry_after: self.retry_after }
    }
}

/// Refuses outputs beyond the size limits.
fn check_connector_output(output: ConnectorOutput) -> Result<ConnectorOutput, Failure> {
    let size = match &output {
        ConnectorOutput::Spec(schema) => schema.len(),
        ConnectorOutput::Check => 0,
        ConnectorOutput::Discover(streams) => streams
            .iter()
            .map(|s| s.name.len() + s.description.len() + s.produces.len() + s.primary_key.iter().map(String::len).sum::<usize>())
            .sum(),
        ConnectorOutput::Read(page) => {
            if let Some(record) = page.records.iter().find(|r| r.len() > MAX_RECORD_BYTES) {
                return Err(Failure::OutputTooLarge(format!("a record of {} bytes; at most {MAX_RECORD_BYTES} are accepted", record.len())));
            }
            page.records.iter().map(String::len).sum::<usize>() + page.checkpoint.as_ref().map_or(0, String::len)
        }
    };
    if size > MAX_OUTPUT_BYTES {
        return Err(Failure::OutputTooLarge(format!("{size} bytes; at most {MAX_OUTPUT_BYTES} are accepted per call")));
    }
    Ok(output)
}

/// Refuses model outputs beyond the size limit.
fn check_model_output(output: ModelOutput) -> Result<ModelOutput, Failure> {
    let size = match &output {
        ModelOutput::Describe(d) => d.name.len() + d.summary.len() + d.params_schema.len() + d.metrics.iter().map(String::len).sum::<usize>(),
        ModelOutput::Evaluate(e) => {
            e.explanation.len()
                + e.metrics.iter().map(|(n, v, u)| n.len() + v.as_ref().map_or(0, String::len) + u.len()).sum::<usize>()
                + e.percentiles.iter().map(|(m, _, v)| m.len() + v.len() + 1).sum::<usize>()
        }
    };
    if size > MAX_OUTPUT_BYTES {
        return Err(Failure::OutputTooLarge(format!("{size} bytes; at most {MAX_OUTPUT_BYTES} are accepted per call")));
    }
    Ok(output)
}

fn classify(error: &wasmtime::Error, state: &HostState, limit_ms: u32) -> Failure {
    if state.limiter.refused.is_some() {
        return Failure::MemoryLimit { cap_bytes: state.limiter.cap() };
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => Failure::Timeout { limit_ms },
        Some(Trap::OutOfFuel) => Failure::FuelExhausted,
        Some(Trap::UnreachableCodeReached) => Failure::Trap("it panicked or reached unreachable code".into()),
        Some(trap) => Failure::Trap(trap.to_string()),
        None => Failure::Trap(error_text(error)),
    }
}

fn engine_config(settings: &RuntimeSettings, pooling: bool) -> anyhow::Result<Config> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.consume_fuel(true);
    if let Some(dir) = &settings.cache_dir {
        std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("cannot create the plugin cache {}: {e}", dir.display()))?;
        // wasmtime's cache wants an absolute directory.
        let dir = std::path::absolute(dir)?;
        let mut cache = wasmtime::CacheConfig::new();
        cache.with_directory(dir);
        config.cache(Some(wasmtime::Cache::new(cache).map_err(anyhow_error)?));
    }
    if pooling {
        // Sized for `max_instances` plugin instances; a Rust component has a
        // handful of core instances and one or two memories.
        let n = settings.max_instances;
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(n)
            .total_core_instances(n * 8)
            .total_memories(n * 2)
            .total_tables(n * 8)
            .total_stacks(n)
            .max_core_instances_per_component(16)
            .max_memories_per_component(2)
            .max_tables_per_component(8)
            .max_memory_size(MAX_MEMORY_MB as usize * 1024 * 1024);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    Ok(config)
}

/// wasmtime's error with its causes, on one line.
fn error_text(error: &wasmtime::Error) -> String {
    format!("{error:#}")
}

fn anyhow_error(error: wasmtime::Error) -> anyhow::Error {
    anyhow::anyhow!("{error:#}")
}
