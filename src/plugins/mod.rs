//! The plugin platform: vendors extend the server with WebAssembly components
//! that run sandboxed, each treated as hostile.
//!
//! - [`manifest`], [`package`]: what a plugin is and how it ships (one signed file);
//! - [`capabilities`]: what a plugin asks for and an admin grants;
//! - [`runtime`]: the wasmtime sandbox, its limits and outbound HTTP;
//! - [`secrets`]: instance secrets encrypted at rest;
//! - [`trusted_keys`], [`installed`], [`instances`], [`invocations`]: storage;
//! - [`builtin`]: the plugins embedded in the binary, installed at start;
//! - [`roi`]: ROI models, the default `roi-dcf`, and the ROI API;
//! - [`outbox`]: integration events, written with the change they report and
//!   delivered at least once by a dispatcher task;
//! - [`http`]: the admin API; [`cli`]: `itbm plugin ...` for vendors.
//!
//! The interfaces plugins implement are the WIT package in `wit/itbm-plugin/`.

pub mod builtin;
pub mod capabilities;
pub mod cli;
pub mod http;
pub mod installed;
pub mod instances;
pub mod invocations;
pub mod manifest;
pub mod outbox;
pub mod package;
mod package_write;
pub mod roi;
pub mod runtime;
pub mod secrets;
pub mod trusted_keys;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::config::Config;
use crate::db::Db;
use crate::error::{Error, Result};
use invocations::Invocation;
use installed::Plugin;
use runtime::{ConnectorCall, ConnectorOutput, EventMessage, ModelCall, ModelOutput, Prepared, Runtime, RuntimeSettings, StreamInfo};
use secrets::SecretBox;

/// Plugin instances alive at once, over all plugins.
pub const MAX_INSTANCES: u32 = 16;

/// The platform's shared state: the sandbox runtime, the key sealing
/// instance secrets, and whether unsigned packages may be installed.
pub struct Plugins {
    pub runtime: Runtime,
    secrets: SecretBox,
    allow_unsigned: bool,
    /// Public keys trusted at start (`--trusted-key`), by base64.
    pub start_keys: Vec<String>,
}

impl Plugins {
    /// Opens the platform for a server's data directory.
    pub fn open(config: &Config) -> anyhow::Result<Plugins> {
        let runtime = Runtime::new(&RuntimeSettings {
            cache_dir: Some(config.data_dir.join("plugin-cache")),
            max_instances: MAX_INSTANCES,
        })?;
        Ok(Plugins {
            runtime,
            secrets: SecretBox::load_or_create(&config.data_dir.join("secret-key"))?,
            allow_unsigned: config.plugin_dev,
            start_keys: config.trusted_keys.clone(),
        })
    }
}

/// The answer to `discover`: the streams when the call succeeded, and the
/// invocation either way.
#[derive(Debug, Serialize, ToSchema)]
pub struct Discovery {
    pub streams: Option<Vec<StreamInfo>>,
    pub invocation: Invocation,
}

/// One page of a stream, asked for through `POST /plugin-instances/{id}/read`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadRequest {
    pub stream: String,
    /// The checkpoint of the page before, as the last page returned it; none from the start.
    pub checkpoint: Option<String>,
}

/// The answer to `read`: the page when the call succeeded, and the invocation
/// either way. Nothing is stored: this shows what a sync would receive.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reading {
    pub page: Option<PagePreview>,
    pub invocation: Invocation,
}

/// A page with its records as JSON (a record that is not JSON stays a string).
#[derive(Debug, Serialize, ToSchema)]
pub struct PagePreview {
    #[schema(value_type = Vec<Object>)]
    pub records: Vec<serde_json::Value>,
    pub checkpoint: Option<String>,
    pub done: bool,
}

impl From<runtime::Page> for PagePreview {
    fn from(page: runtime::Page) -> PagePreview {
        let records = page.records.into_iter().map(|r| serde_json::from_str(&r).unwrap_or(serde_json::Value::String(r))).collect();
        PagePreview { records, checkpoint: page.checkpoint, done: page.done }
    }
}

/// Calls a connector instance and records the invocation, whatever its outcome.
pub async fn call_connector(
    db: &Db,
    plugins: &Plugins,
    who: &Principal,
    instance_id: &str,
    call: ConnectorCall,
) -> Result<(Option<ConnectorOutput>, Invocation)> {
    let called = call_connector_traced(db, plugins, who, instance_id, call).await?;
    Ok((called.result.ok(), called.invocation))
}

/// What [`call_connector_traced`] tells a caller that retries (the sync engine).
pub struct ConnectorCalled {
    pub result: std::result::Result<ConnectorOutput, runtime::Failure>,
    pub invocation: Invocation,
    /// The last `Retry-After` of a 429 or 503 the plugin received.
    pub retry_after: Option<std::time::Duration>,
}

/// [`call_connector`], keeping why a call failed and the source's `Retry-After`.
pub async fn call_connector_traced(
    db: &Db,
    plugins: &Plugins,
    who: &Principal,
    instance_id: &str,
    call: ConnectorCall,
) -> Result<ConnectorCalled> {
    let (instance, plugin, context) = instances::call_context(db, plugins, instance_id).await?;
    expect_kind(&plugin, manifest::Kind::Connector)?;
    let prepared = prepared(db, plugins, &plugin).await?;
    let operation = call.name();
    let report = plugins.runtime.call_connector(&prepared, context, call).await;
    let invocation = invocations::record(db, who, &plugin.id, Some(&instance.id), operation, &report).await?;
    Ok(ConnectorCalled { result: report.result, invocation, retry_after: report.retry_after })
}

/// Calls an ROI model (a plugin, not an instance: a model has no
/// configuration and no network) and records the invocation. The call runs
/// under the plugin's default limits; the failure, if any, is returned too.
pub async fn call_model(
    db: &Db,
    plugins: &Plugins,
    who: &Principal,
    plugin: &Plugin,
    call: ModelCall,
) -> Result<(std::result::Result<ModelOutput, runtime::Failure>, Invocation)> {
    expect_kind(plugin, manifest::Kind::RoiModel)?;
    if !plugin.enabled {
        return Err(Error::conflict(crate::error::ConflictKind::Locked, format!("the plugin {} is disabled; enable it first", plugin.manifest.id)));
    }
    let prepared = prepared(db, plugins, plugin).await?;
    let context = model_context(plugin)?;
    let operation = call.name();
    let report = plugins.runtime.call_model(&prepared, context, call).await;
    let invocation = invocations::record(db, who, &plugin.id, None, operation, &report).await?;
    Ok((report.result, invocation))
}

/// What an ROI model's call may use: no configuration, no secrets, no hosts;
/// the memory its manifest asks for and the default deadline.
pub fn model_context(plugin: &Plugin) -> Result<runtime::CallContext> {
    let granted = capabilities::Granted::resolve(&plugin.manifest.capabilities, &capabilities::Grants::default())?;
    Ok(runtime::CallContext { config: "{}".into(), secrets: secrets::Secrets::default(), granted })
}

/// Delivers one event to an integration instance and records the invocation.
pub async fn call_integration(
    db: &Db,
    plugins: &Plugins,
    who: &Principal,
    instance_id: &str,
    event: EventMessage,
) -> Result<(std::result::Result<(), runtime::Failure>, Invocation)> {
    let (instance, plugin, context) = instances::call_context(db, plugins, instance_id).await?;
    expect_kind(&plugin, manifest::Kind::Integration)?;
    let prepared = prepared(db, plugins, &plugin).await?;
    let report = plugins.runtime.call_integration(&prepared, context, event).await;
    let invocation = invocations::record(db, who, &plugin.id, Some(&instance.id), "receive", &report).await?;
    Ok((report.result, invocation))
}

fn expect_kind(plugin: &Plugin, kind: manifest::Kind) -> Result<()> {
    if plugin.manifest.kind != kind {
        return Err(Error::invalid("/", format!("the plugin {} is a {}, not a {kind}", plugin.manifest.id, plugin.manifest.kind)));
    }
    Ok(())
}

/// The plugin compiled and linked, from memory or, on its first call since
/// start (or on this replica), from its stored package.
pub async fn prepared(db: &Db, plugins: &Plugins, plugin: &Plugin) -> Result<std::sync::Arc<Prepared>> {
    if let Some(prepared) = plugins.runtime.cached(&plugin.component_sha256) {
        return Ok(prepared);
    }
    let component = installed::component(&mut db.clone(), &plugin.id).await?;
    Ok(plugins
        .runtime
        .prepare(plugin.manifest.kind, &plugin.component_sha256, &component)
        .await
        .map_err(|why| anyhow::anyhow!("plugin {} {}: {why}", plugin.manifest.id, plugin.manifest.version))?)
}
