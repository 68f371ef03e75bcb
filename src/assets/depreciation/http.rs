//! Routes for depreciation schedules, asset values and depreciation runs.

use axum::extract::{Path, State};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{AssetValue, DepreciationRun, DepreciationSchedule, NewDepreciationRun, ScheduleQuery, ValueQuery};
use crate::auth::Permission;
use crate::error::Result;
use crate::http::AppState;
use crate::http::extract::{Caller, Json, Query};
use crate::http::problem::Problem;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(depreciation_schedule))
        .routes(routes!(asset_value))
        .routes(routes!(create_depreciation_run))
}

/// The asset's depreciation by fiscal period and fiscal year, adding up to
/// cost minus salvage exactly. `book=tax` uses the asset's tax settings (its
/// book settings when it has none; `settings.source` says which).
#[utoipa::path(get, path = "/assets/{id}/depreciation-schedule", tag = "depreciation", params(ScheduleQuery),
    responses((status = 200, body = DepreciationSchedule), (status = 404, body = Problem),
        (status = 422, description = "The asset does not depreciate or lacks a setting", body = Problem)))]
async fn depreciation_schedule(
    State(s): State<AppState>,
    Caller(_who): Caller,
    Path(id): Path<String>,
    Query(q): Query<ScheduleQuery>,
) -> Result<axum::Json<DepreciationSchedule>> {
    Ok(axum::Json(super::schedule_of(&s.db, &id, q.book.unwrap_or_default()).await?))
}

/// The asset's cost, accumulated depreciation and book value at the end of a
/// date, past or future; within a period depreciation accrues evenly by day.
#[utoipa::path(get, path = "/assets/{id}/value", tag = "depreciation", params(ValueQuery),
    responses((status = 200, body = AssetValue), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn asset_value(
    State(s): State<AppState>,
    Caller(_who): Caller,
    Path(id): Path<String>,
    Query(q): Query<ValueQuery>,
) -> Result<axum::Json<AssetValue>> {
    Ok(axum::Json(super::value_of(&s.db, &id, q.date, q.book.unwrap_or_default()).await?))
}

/// Posts the book depreciation of every asset up to a fiscal period to the
/// ledger (source `depreciation`), once per asset and period: running it again
/// posts nothing twice.
#[utoipa::path(post, path = "/depreciation/runs", tag = "depreciation", request_body = NewDepreciationRun,
    responses((status = 200, body = DepreciationRun), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_depreciation_run(
    State(s): State<AppState>,
    Caller(c): Caller,
    Json(input): Json<NewDepreciationRun>,
) -> Result<axum::Json<DepreciationRun>> {
    c.require(Permission::WriteFinance)?;
    Ok(axum::Json(super::run(&s.db, &c, input).await?))
}
