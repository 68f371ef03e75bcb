//! Routes for budget variance and project financials.

use axum::extract::{Path, State};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::project_financials::{self, Financials};
use super::variance::{self, VarianceQuery, VarianceReport};
use crate::error::Result;
use crate::http::AppState;
use crate::http::extract::{Caller, Query};
use crate::http::problem::Problem;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(budget_variance))
        .routes(routes!(project_financials))
        .routes(routes!(demand_financials))
}

/// Budget versus forecast versus actual for a fiscal year, grouped by period,
/// cost center, project and/or cost type: variance (amount and %), burn rate,
/// run-rate forecast and EAC, in the reporting currency, with the exchange
/// rates used. A missing rate is a 422 naming the currency and period.
#[utoipa::path(get, path = "/budget-analytics/variance", tag = "budget analytics", params(VarianceQuery),
    responses((status = 200, body = VarianceReport), (status = 400, body = Problem), (status = 422, body = Problem)))]
async fn budget_variance(State(s): State<AppState>, Caller(_who): Caller, Query(q): Query<VarianceQuery>) -> Result<axum::Json<VarianceReport>> {
    Ok(axum::Json(variance::report(&s.db, &q).await?))
}

/// A project's costs (CapEx/OpEx) and benefits by fiscal year and period:
/// plan (estimates), budget and actual, in the project's currency.
#[utoipa::path(get, path = "/projects/{id}/financials", tag = "budget analytics",
    responses((status = 200, body = Financials), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn project_financials(State(s): State<AppState>, Caller(_who): Caller, Path(id): Path<String>) -> Result<axum::Json<Financials>> {
    Ok(axum::Json(project_financials::of_project(&s.db, &id).await?))
}

/// A demand's business case as the plan, with the budget and actuals of the
/// project it became, if any.
#[utoipa::path(get, path = "/demands/{id}/financials", tag = "budget analytics",
    responses((status = 200, body = Financials), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn demand_financials(State(s): State<AppState>, Caller(_who): Caller, Path(id): Path<String>) -> Result<axum::Json<Financials>> {
    Ok(axum::Json(project_financials::of_demand(&s.db, &id).await?))
}
