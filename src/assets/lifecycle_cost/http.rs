//! Routes for lifecycle cost (TCO) and the refresh forecast.

use axum::extract::{Path, State};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::refresh::{self, NewRefreshBudget, RefreshBudgetResult, RefreshForecast, RefreshQuery};
use super::{Tco, TcoQuery};
use crate::auth::Permission;
use crate::error::Result;
use crate::http::AppState;
use crate::http::extract::{Caller, Json, Query};
use crate::http::problem::Problem;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(asset_tco))
        .routes(routes!(service_tco))
        .routes(routes!(refresh_forecast))
        .routes(routes!(write_refresh_budget))
}

/// The asset's total cost of ownership up to a date: acquisition, running
/// costs (maintenance, support, licences booked on it), ITSM effort and ITOM
/// usage share (null until synchronised), minus its residual value; and per
/// month in service. In the reporting currency, with the rates used.
#[utoipa::path(get, path = "/assets/{id}/tco", tag = "lifecycle cost", params(TcoQuery),
    responses((status = 200, body = Tco), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn asset_tco(State(s): State<AppState>, Caller(_who): Caller, Path(id): Path<String>, Query(q): Query<TcoQuery>) -> Result<axum::Json<Tco>> {
    Ok(axum::Json(super::of_asset(&s.db, &id, &q).await?))
}

/// The service's total cost of ownership: everything booked to it or to its
/// assets, their acquisitions, minus their residual values.
#[utoipa::path(get, path = "/services/{id}/tco", tag = "lifecycle cost", params(TcoQuery),
    responses((status = 200, body = Tco), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn service_tco(State(s): State<AppState>, Caller(_who): Caller, Path(id): Path<String>, Query(q): Query<TcoQuery>) -> Result<axum::Json<Tco>> {
    Ok(axum::Json(super::of_service(&s.db, &id, &q).await?))
}

/// Assets in use reaching end of life within `months` (or past it), with
/// their replacement cost and the fiscal period to plan it in.
#[utoipa::path(get, path = "/assets/refresh-forecast", tag = "lifecycle cost", params(RefreshQuery),
    responses((status = 200, body = RefreshForecast), (status = 400, body = Problem), (status = 422, body = Problem)))]
async fn refresh_forecast(State(s): State<AppState>, Caller(_who): Caller, Query(q): Query<RefreshQuery>) -> Result<axum::Json<RefreshForecast>> {
    Ok(axum::Json(refresh::forecast(&s.db, &q).await?))
}

/// Adds the refresh forecast's replacements in a draft version's fiscal year
/// to its budget cells, each asset once per version.
#[utoipa::path(post, path = "/assets/refresh-forecast/budget", tag = "lifecycle cost", request_body = NewRefreshBudget,
    responses((status = 200, body = RefreshBudgetResult), (status = 403, body = Problem),
        (status = 409, description = "The version is not a draft", body = Problem), (status = 422, body = Problem)))]
async fn write_refresh_budget(State(s): State<AppState>, Caller(c): Caller, Json(input): Json<NewRefreshBudget>) -> Result<axum::Json<RefreshBudgetResult>> {
    c.require(Permission::WriteFinance)?;
    Ok(axum::Json(refresh::write_into_budget(&s.db, &c, input).await?))
}
