//! Routes of the plugin platform. Administration needs the admin role; ROI
//! evaluations need only read access. Handlers only authorise, extract and
//! delegate.

use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::StatusCode;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::installed::{self, Plugin, PluginFilter};
use super::instances::{self, Instance, InstanceFilter, NewInstance};
use super::invocations::{self, Invocation};
use super::package::MAX_PACKAGE_BYTES;
use super::runtime::{ConnectorCall, ConnectorOutput};
use super::trusted_keys::{self, NewTrustedKey, TrustedKey};
use super::outbox::{self, Delivery, DeliveryFilter};
use super::roi::{self, EvaluationRequest, EvaluationResult, ModelInfo};
use super::{Discovery, ReadRequest, Reading, call_connector};
use crate::auth::Permission;
use crate::error::Result;
use crate::http::AppState;
use crate::http::extract::{Caller, Created, Json, Query, Tagged, read_body_as};
use crate::http::problem::Problem;
use crate::listing::{Page, PageParams};
use crate::validate::Checks;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_plugins))
        .merge(
            // A package carries a whole component: its own, larger body limit.
            OpenApiRouter::new().routes(routes!(install_plugin)).layer(DefaultBodyLimit::max(MAX_PACKAGE_BYTES)),
        )
        .routes(routes!(get_plugin, uninstall_plugin))
        .routes(routes!(enable_plugin))
        .routes(routes!(disable_plugin))
        .routes(routes!(list_trusted_keys, create_trusted_key))
        .routes(routes!(delete_trusted_key))
        .routes(routes!(list_instances, create_instance))
        .routes(routes!(get_instance, delete_instance))
        .routes(routes!(check_instance))
        .routes(routes!(discover_instance))
        .routes(routes!(read_instance))
        .routes(routes!(list_invocations))
        .routes(routes!(list_plugin_invocations))
        .routes(routes!(list_deliveries))
        .routes(routes!(list_roi_models))
        .routes(routes!(evaluate_roi))
        .routes(routes!(project_roi))
}

// ---- plugins ----

#[utoipa::path(get, path = "/plugins", tag = "plugins", params(PluginFilter, PageParams),
    responses((status = 200, body = Page<Plugin>), (status = 403, body = Problem)))]
async fn list_plugins(
    State(s): State<AppState>,
    Caller(c): Caller,
    Query(filter): Query<PluginFilter>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<Page<Plugin>>> {
    c.require(Permission::Admin)?;
    Ok(axum::Json(installed::list(&s.db, &filter, &page).await?))
}

/// Installs a plugin package (see `itbm plugin sign`). Refused with 422 at
/// `/package` (not a package), `/signature` (tampered, unsigned or signed by
/// an untrusted key), `/manifest/...` (invalid manifest, unserved WIT version)
/// or `/component` (does not compile or link as its kind); 409 when a plugin
/// of the same manifest id is installed.
#[utoipa::path(post, path = "/plugins", tag = "plugins",
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The package file"),
    responses((status = 201, body = Plugin), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 413, body = Problem), (status = 422, body = Problem)))]
async fn install_plugin(State(s): State<AppState>, Caller(c): Caller, request: Request) -> Result<Created<Plugin>> {
    c.require(Permission::Admin)?;
    let body = read_body_as(request, &s, "application/octet-stream", "a plugin package").await?;
    let plugin = installed::install(&s.db, &s.plugins, &c, &body).await?;
    Ok(Created(format!("/api/v1/plugins/{}", plugin.id), plugin.version, plugin))
}

#[utoipa::path(get, path = "/plugins/{id}", tag = "plugins",
    responses((status = 200, body = Plugin), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_plugin(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>) -> Result<Tagged<Plugin>> {
    c.require(Permission::Admin)?;
    let plugin = installed::get(&mut s.db.clone(), &id).await?;
    Ok(Tagged(plugin.version, plugin))
}

/// Uninstalls a plugin that has no instances left.
#[utoipa::path(delete, path = "/plugins/{id}", tag = "plugins",
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn uninstall_plugin(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>) -> Result<StatusCode> {
    c.require(Permission::Admin)?;
    installed::uninstall(&s.db, &s.plugins, &c, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/plugins/{id}/enable", tag = "plugins",
    responses((status = 200, body = Plugin), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn enable_plugin(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>) -> Result<Tagged<Plugin>> {
    c.require(Permission::Admin)?;
    let plugin = installed::set_enabled(&s.db, &c, &id, true).await?;
    Ok(Tagged(plugin.version, plugin))
}

/// Disables a plugin: its instances stay, but no call reaches it.
#[utoipa::path(post, path = "/plugins/{id}/disable", tag = "plugins",
    responses((status = 200, body = Plugin), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn disable_plugin(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>) -> Result<Tagged<Plugin>> {
    c.require(Permission::Admin)?;
    let plugin = installed::set_enabled(&s.db, &c, &id, false).await?;
    Ok(Tagged(plugin.version, plugin))
}

// ---- trusted keys ----

#[utoipa::path(get, path = "/plugin-trusted-keys", tag = "plugins", params(PageParams),
    responses((status = 200, body = Page<TrustedKey>), (status = 403, body = Problem)))]
async fn list_trusted_keys(State(s): State<AppState>, Caller(c): Caller, Query(page): Query<PageParams>) -> Result<axum::Json<Page<TrustedKey>>> {
    c.require(Permission::Admin)?;
    Ok(axum::Json(trusted_keys::list(&s.db, &page).await?))
}

#[utoipa::path(post, path = "/plugin-trusted-keys", tag = "plugins", request_body = NewTrustedKey,
    responses((status = 201, body = TrustedKey), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_trusted_key(State(s): State<AppState>, Caller(c): Caller, Json(input): Json<NewTrustedKey>) -> Result<Created<TrustedKey>> {
    c.require(Permission::Admin)?;
    let key = trusted_keys::create(&s.db, &c, input).await?;
    Ok(Created(format!("/api/v1/plugin-trusted-keys/{}", key.id), key.version, key))
}

#[utoipa::path(delete, path = "/plugin-trusted-keys/{id}", tag = "plugins",
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn delete_trusted_key(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>) -> Result<StatusCode> {
    c.require(Permission::Admin)?;
    trusted_keys::delete(&s.db, &c, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- instances ----

#[utoipa::path(get, path = "/plugin-instances", tag = "plugins", params(InstanceFilter, PageParams),
    responses((status = 200, body = Page<Instance>), (status = 403, body = Problem)))]
async fn list_instances(
    State(s): State<AppState>,
    Caller(c): Caller,
    Query(filter): Query<InstanceFilter>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<Page<Instance>>> {
    c.require(Permission::Admin)?;
    Ok(axum::Json(instances::list(&s.db, &filter, &page).await?))
}

/// Creates an instance. The configuration is validated against the plugin's
/// schema (errors at `/config/...`), secrets must be ones the manifest asks
/// for, and grants must stay within the manifest's asks (errors at `/grants/...`).
#[utoipa::path(post, path = "/plugin-instances", tag = "plugins", request_body = NewInstance,
    responses((status = 201, body = Instance), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_instance(State(s): State<AppState>, Caller(c): Caller, Json(input): Json<NewInstance>) -> Result<Created<Instance>> {
    c.require(Permission::Admin)?;
    let instance = instances::create(&s.db, &s.plugins, &c, input).await?;
    Ok(Created(format!("/api/v1/plugin-instances/{}", instance.id), instance.version, instance))
}

#[utoipa::path(get, path = "/plugin-instances/{id}", tag = "plugins",
    responses((status = 200, body = Instance), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_instance(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>) -> Result<Tagged<Instance>> {
    c.require(Permission::Admin)?;
    let instance = instances::get(&mut s.db.clone(), &id).await?;
    Ok(Tagged(instance.version, instance))
}

/// Deletes an instance with its invocation log.
#[utoipa::path(delete, path = "/plugin-instances/{id}", tag = "plugins",
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn delete_instance(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>) -> Result<StatusCode> {
    c.require(Permission::Admin)?;
    instances::delete(&s.db, &c, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Runs the connector's `check`. The answer is the invocation: `outcome` is
/// `ok`, or says what failed (the plugin's own configuration or connector
/// error, or a sandbox limit).
#[utoipa::path(post, path = "/plugin-instances/{id}/check", tag = "plugins",
    responses((status = 200, body = Invocation), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "The plugin is disabled", body = Problem), (status = 422, body = Problem)))]
async fn check_instance(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>) -> Result<axum::Json<Invocation>> {
    c.require(Permission::Admin)?;
    let (_, invocation) = call_connector(&s.db, &s.plugins, &c, &id, ConnectorCall::Check).await?;
    Ok(axum::Json(invocation))
}

/// Runs the connector's `discover`: its streams, and the invocation.
#[utoipa::path(post, path = "/plugin-instances/{id}/discover", tag = "plugins",
    responses((status = 200, body = Discovery), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "The plugin is disabled", body = Problem), (status = 422, body = Problem)))]
async fn discover_instance(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>) -> Result<axum::Json<Discovery>> {
    c.require(Permission::Admin)?;
    let (output, invocation) = call_connector(&s.db, &s.plugins, &c, &id, ConnectorCall::Discover).await?;
    let streams = match output {
        Some(ConnectorOutput::Discover(streams)) => Some(streams),
        _ => None,
    };
    Ok(axum::Json(Discovery { streams, invocation }))
}

/// Runs the connector's `read` for one page of a stream, after `checkpoint`:
/// the records as the connector returns them, the checkpoint of the next
/// page, and the invocation. Nothing is stored; this is for trying an
/// instance's configuration and paging through a stream by hand.
#[utoipa::path(post, path = "/plugin-instances/{id}/read", tag = "plugins", request_body = ReadRequest,
    responses((status = 200, body = Reading), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "The plugin is disabled", body = Problem), (status = 422, body = Problem)))]
async fn read_instance(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>, Json(input): Json<ReadRequest>) -> Result<axum::Json<Reading>> {
    c.require(Permission::Admin)?;
    let mut checks = Checks::new();
    checks.text("/stream", &input.stream, 200);
    checks.finish()?;
    let call = ConnectorCall::Read { stream: input.stream, checkpoint: input.checkpoint };
    let (output, invocation) = call_connector(&s.db, &s.plugins, &c, &id, call).await?;
    let page = match output {
        Some(ConnectorOutput::Read(page)) => Some(page.into()),
        _ => None,
    };
    Ok(axum::Json(Reading { page, invocation }))
}

#[utoipa::path(get, path = "/plugin-instances/{id}/invocations", tag = "plugins", params(PageParams),
    responses((status = 200, body = Page<Invocation>), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn list_invocations(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<Page<Invocation>>> {
    c.require(Permission::Admin)?;
    instances::get(&mut s.db.clone(), &id).await?;
    Ok(axum::Json(invocations::list(&s.db, &id, &page).await?))
}

#[utoipa::path(get, path = "/plugins/{id}/invocations", tag = "plugins", params(PageParams),
    responses((status = 200, body = Page<Invocation>), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn list_plugin_invocations(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<Page<Invocation>>> {
    c.require(Permission::Admin)?;
    installed::get(&mut s.db.clone(), &id).await?;
    Ok(axum::Json(invocations::list_for_plugin(&s.db, &id, &page).await?))
}

// ---- integration events ----

/// The delivery log of integration events: one entry per event and
/// integration instance, with its state, attempts and last error.
#[utoipa::path(get, path = "/integration-deliveries", tag = "plugins", params(DeliveryFilter, PageParams),
    responses((status = 200, body = Page<Delivery>), (status = 403, body = Problem)))]
async fn list_deliveries(
    State(s): State<AppState>,
    Caller(c): Caller,
    Query(filter): Query<DeliveryFilter>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<Page<Delivery>>> {
    c.require(Permission::Admin)?;
    Ok(axum::Json(outbox::list(&s.db, &filter, &page).await?))
}

// ---- ROI models ----

/// The enabled ROI models and what each says about itself (its metrics and
/// the JSON Schema of its parameters).
#[utoipa::path(get, path = "/roi-models", tag = "roi",
    responses((status = 200, body = Vec<ModelInfo>), (status = 502, body = Problem)))]
async fn list_roi_models(State(s): State<AppState>, Caller(c): Caller) -> Result<axum::Json<Vec<ModelInfo>>> {
    c.require(Permission::Read)?;
    Ok(axum::Json(roi::list(&s.db, &s.plugins, &c).await?))
}

/// Evaluates cash flows with an ROI model, named by its manifest id (such as
/// `roi-dcf` or `roi-montecarlo`) or its plugin id. The discount rate and
/// currency default to the finance settings. A model's refusal of its input
/// is a 422 at `/params`; a model that fails (crash, deadline, memory) a 502.
#[utoipa::path(post, path = "/roi-models/{model}/evaluate", tag = "roi", request_body = EvaluationRequest,
    responses((status = 200, body = EvaluationResult), (status = 404, body = Problem), (status = 409, description = "The model is disabled", body = Problem),
        (status = 422, body = Problem), (status = 502, body = Problem)))]
async fn evaluate_roi(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(model): Path<String>,
    Json(input): Json<EvaluationRequest>,
) -> Result<axum::Json<EvaluationResult>> {
    c.require(Permission::Read)?;
    let (evaluation, invocation) = roi::evaluate(&s.db, &s.plugins, &c, Some(&model), input).await?;
    Ok(axum::Json(EvaluationResult { evaluation, invocation }))
}

#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct RoiQuery {
    /// The ROI model (default `roi-dcf`).
    model: Option<String>,
}

/// A project's ROI from its yearly estimates (CapEx + OpEx as costs, benefit
/// as benefits), at the finance settings' discount rate, in the reporting currency.
#[utoipa::path(get, path = "/projects/{id}/roi", tag = "roi", params(RoiQuery),
    responses((status = 200, body = EvaluationResult), (status = 404, body = Problem), (status = 422, body = Problem), (status = 502, body = Problem)))]
async fn project_roi(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    Query(q): Query<RoiQuery>,
) -> Result<axum::Json<EvaluationResult>> {
    c.require(Permission::Read)?;
    let (evaluation, invocation) = roi::for_project(&s.db, &s.plugins, &c, &id, q.model.as_deref()).await?;
    Ok(axum::Json(EvaluationResult { evaluation, invocation }))
}
