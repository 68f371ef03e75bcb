//! The sync API: start, list, show and cancel runs; an instance's sync
//! settings. Admins do everything; finance may read runs.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::runs::{self, Rejection, Run, RunDetail, RunFilter, Trigger};
use super::settings::{self, Settings, SettingsInput};
use crate::auth::Permission;
use crate::error::Result;
use crate::http::AppState;
use crate::http::extract::{Caller, Json, Query, Tagged};
use crate::http::problem::Problem;
use crate::listing::{Page, PageParams};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_sync_run))
        .routes(routes!(list_sync_runs))
        .routes(routes!(get_sync_run))
        .routes(routes!(list_sync_rejections))
        .routes(routes!(cancel_sync_run))
        .routes(routes!(get_sync_settings, put_sync_settings))
}

/// Starts a run of the instance now (or resumes its unfinished one); it
/// goes on in the background. 409 while a run of the instance is in progress.
#[utoipa::path(post, path = "/plugin-instances/{id}/sync-runs", tag = "sync",
    responses((status = 202, body = Run), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn start_sync_run(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    c.require(Permission::Admin)?;
    let run = s.sync.start(&id, Trigger::Manual, &c).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(run)))
}

/// Runs, newest first, with their counts.
#[utoipa::path(get, path = "/sync-runs", tag = "sync", params(RunFilter, PageParams),
    responses((status = 200, body = Page<Run>), (status = 403, body = Problem)))]
async fn list_sync_runs(
    State(s): State<AppState>,
    Caller(c): Caller,
    Query(filter): Query<RunFilter>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<Page<Run>>> {
    c.require(Permission::ReadAudit)?;
    Ok(axum::Json(runs::list(&s.db, &filter, &page).await?))
}

/// A run with its counts and its first 200 rejected records.
#[utoipa::path(get, path = "/sync-runs/{id}", tag = "sync",
    responses((status = 200, body = RunDetail), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_sync_run(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>) -> Result<axum::Json<RunDetail>> {
    c.require(Permission::ReadAudit)?;
    Ok(axum::Json(runs::detail(&s.db, &id).await?))
}

/// Every rejected record of a run, with why.
#[utoipa::path(get, path = "/sync-runs/{id}/rejections", tag = "sync", params(PageParams),
    responses((status = 200, body = Page<Rejection>), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn list_sync_rejections(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<Page<Rejection>>> {
    c.require(Permission::ReadAudit)?;
    Ok(axum::Json(runs::rejections(&s.db, &id, &page).await?))
}

/// Asks a running run to stop before its next page; pages stored stay.
/// 409 when the run has ended.
#[utoipa::path(post, path = "/sync-runs/{id}/cancel", tag = "sync",
    responses((status = 202, body = Run), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn cancel_sync_run(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    c.require(Permission::Admin)?;
    let run = runs::request_cancel(&s.db, &id).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(run)))
}

#[utoipa::path(get, path = "/plugin-instances/{id}/sync-settings", tag = "sync",
    responses((status = 200, body = Settings), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_sync_settings(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>) -> Result<Tagged<Settings>> {
    c.require(Permission::Admin)?;
    crate::plugins::instances::get(&mut s.db.clone(), &id).await?;
    let settings = settings::get(&mut s.db.clone(), &id).await?;
    Ok(Tagged(settings.version, settings))
}

/// Sets the instance's schedule (`interval_seconds`; null: on demand only),
/// its precedence for assets, and the default cost center and cost type of
/// its ledger lines. The first scheduled run is one interval from now.
#[utoipa::path(put, path = "/plugin-instances/{id}/sync-settings", tag = "sync", request_body = SettingsInput,
    responses((status = 200, body = Settings), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn put_sync_settings(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    Json(input): Json<SettingsInput>,
) -> Result<Tagged<Settings>> {
    c.require(Permission::Admin)?;
    let settings = settings::put(&s.db, &id, input, false).await?;
    Ok(Tagged(settings.version, settings))
}
