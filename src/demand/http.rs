//! Routes for demand intake. Handlers only authorise, extract and delegate to
//! [`super::demands`].

use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::demands::{self, Demand, DemandDetail, DemandFilter, DemandPatch, DemandTransition, NewDemand};
use crate::auth::Permission;
use crate::error::Result;
use crate::http::AppState;
use crate::http::extract::{Caller, Created, IfMatch, Json, Query, Tagged};
use crate::http::problem::Problem;
use crate::listing::{Page, PageParams};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_demands, create_demand))
        .routes(routes!(get_demand, update_demand, delete_demand))
        .routes(routes!(transition_demand))
}

#[utoipa::path(get, path = "/demands", tag = "demand", params(DemandFilter, PageParams),
    responses((status = 200, body = Page<Demand>), (status = 400, body = Problem), (status = 422, body = Problem)))]
async fn list_demands(
    State(s): State<AppState>,
    Caller(_who): Caller,
    Query(filter): Query<DemandFilter>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<Page<Demand>>> {
    Ok(axum::Json(demands::list(&s.db, &filter, &page).await?))
}

/// Records a new demand as a draft.
#[utoipa::path(post, path = "/demands", tag = "demand", request_body = NewDemand,
    responses((status = 201, body = DemandDetail), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_demand(State(s): State<AppState>, Caller(c): Caller, Json(input): Json<NewDemand>) -> Result<Created<DemandDetail>> {
    c.require(Permission::WritePortfolio)?;
    let d = demands::create(&s.db, &c, input).await?;
    Ok(Created(format!("/api/v1/demands/{}", d.demand.id), d.demand.version, d))
}

/// A demand with its estimates and their totals.
#[utoipa::path(get, path = "/demands/{id}", tag = "demand",
    responses((status = 200, body = DemandDetail), (status = 404, body = Problem)))]
async fn get_demand(State(s): State<AppState>, Caller(_who): Caller, Path(id): Path<String>) -> Result<Tagged<DemandDetail>> {
    let d = demands::get_detail(&mut s.db.clone(), &id).await?;
    Ok(Tagged(d.demand.version, d))
}

/// Changes the business case while the demand is draft or submitted.
#[utoipa::path(patch, path = "/demands/{id}", tag = "demand", request_body = DemandPatch,
    responses((status = 200, body = DemandDetail), (status = 409, description = "Not editable in its state", body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn update_demand(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(input): Json<DemandPatch>,
) -> Result<Tagged<DemandDetail>> {
    c.require(Permission::WritePortfolio)?;
    let d = demands::update(&s.db, &c, &id, if_match, input).await?;
    Ok(Tagged(d.demand.version, d))
}

/// Deletes a draft demand.
#[utoipa::path(delete, path = "/demands/{id}", tag = "demand",
    responses((status = 204), (status = 409, description = "Not a draft", body = Problem), (status = 412, body = Problem)))]
async fn delete_demand(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>, if_match: IfMatch) -> Result<StatusCode> {
    c.require(Permission::WritePortfolio)?;
    demands::delete(&s.db, &c, &id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Moves a demand through the review: draft → submitted → under_review →
/// approved | rejected | deferred; submitted → draft (withdrawn); deferred →
/// under_review (revisited). Approving creates the project (state `approved`)
/// in the same transaction; the answer's `project_id` names it.
#[utoipa::path(post, path = "/demands/{id}/transitions", tag = "demand", request_body = DemandTransition,
    responses((status = 200, body = Demand), (status = 409, description = "Illegal transition", body = Problem),
        (status = 412, body = Problem), (status = 422, description = "The project cannot be created, e.g. no portfolio", body = Problem)))]
async fn transition_demand(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(step): Json<DemandTransition>,
) -> Result<Tagged<Demand>> {
    c.require(Permission::WritePortfolio)?;
    let d = demands::transition(&s.db, &c, &id, if_match, step).await?;
    Ok(Tagged(d.version, d))
}
