//! Routes for budget versions and their lines.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::lines::{self, BudgetLine, BudgetLineFilter, BudgetLinePatch, BulkUpsertResult, NewBudgetLine};
use super::{
    self as versions, BudgetTransition, BudgetVersion, BudgetVersionDetail, BudgetVersionFilter, BudgetVersionPatch,
    CopyBudgetVersion, NewBudgetVersion,
};
use crate::auth::Permission;
use crate::error::Result;
use crate::http::AppState;
use crate::http::extract::{Caller, Created, IfMatch, Json, Query, Tagged};
use crate::http::problem::Problem;
use crate::listing::{Page, PageParams};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_budget_versions, create_budget_version))
        .routes(routes!(get_budget_version, update_budget_version, delete_budget_version))
        .routes(routes!(transition_budget_version))
        .routes(routes!(copy_budget_version))
        .routes(routes!(list_budget_lines, create_budget_line, upsert_budget_lines))
        .routes(routes!(get_budget_line, update_budget_line, delete_budget_line))
}

// ---- versions ----

#[utoipa::path(get, path = "/budget-versions", tag = "budgets", params(BudgetVersionFilter, PageParams),
    responses((status = 200, body = Page<BudgetVersion>)))]
async fn list_budget_versions(
    State(s): State<AppState>,
    Caller(_who): Caller,
    Query(filter): Query<BudgetVersionFilter>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<Page<BudgetVersion>>> {
    Ok(axum::Json(versions::list(&s.db, &filter, &page).await?))
}

#[utoipa::path(post, path = "/budget-versions", tag = "budgets", request_body = NewBudgetVersion,
    responses((status = 201, body = BudgetVersionDetail), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_budget_version(State(s): State<AppState>, Caller(c): Caller, Json(input): Json<NewBudgetVersion>) -> Result<Created<BudgetVersionDetail>> {
    c.require(Permission::WriteFinance)?;
    let v = versions::create(&s.db, &c, input).await?;
    Ok(Created(format!("/api/v1/budget-versions/{}", v.version.id), v.version.version, v))
}

/// A version with the CapEx, OpEx and total of its lines per currency.
#[utoipa::path(get, path = "/budget-versions/{id}", tag = "budgets",
    responses((status = 200, body = BudgetVersionDetail), (status = 404, body = Problem)))]
async fn get_budget_version(State(s): State<AppState>, Caller(_who): Caller, Path(id): Path<String>) -> Result<Tagged<BudgetVersionDetail>> {
    let v = versions::get_detail(&mut s.db.clone(), &id).await?;
    Ok(Tagged(v.version.version, v))
}

/// Changes a draft version's name, kind, currency or description.
#[utoipa::path(patch, path = "/budget-versions/{id}", tag = "budgets", request_body = BudgetVersionPatch,
    responses((status = 200, body = BudgetVersionDetail), (status = 409, description = "Not a draft, or the name is taken", body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn update_budget_version(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(input): Json<BudgetVersionPatch>,
) -> Result<Tagged<BudgetVersionDetail>> {
    c.require(Permission::WriteFinance)?;
    let v = versions::update(&s.db, &c, &id, if_match, input).await?;
    Ok(Tagged(v.version.version, v))
}

/// Deletes a draft version with its lines.
#[utoipa::path(delete, path = "/budget-versions/{id}", tag = "budgets",
    responses((status = 204), (status = 409, description = "Not a draft", body = Problem), (status = 412, body = Problem)))]
async fn delete_budget_version(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>, if_match: IfMatch) -> Result<StatusCode> {
    c.require(Permission::WriteFinance)?;
    versions::delete(&s.db, &c, &id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Moves a version through its workflow: draft → submitted → approved →
/// locked, or submitted → draft to return it for rework.
#[utoipa::path(post, path = "/budget-versions/{id}/transitions", tag = "budgets", request_body = BudgetTransition,
    responses((status = 200, body = BudgetVersion), (status = 409, description = "Illegal transition", body = Problem), (status = 412, body = Problem)))]
async fn transition_budget_version(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(step): Json<BudgetTransition>,
) -> Result<Tagged<BudgetVersion>> {
    c.require(Permission::WriteFinance)?;
    let v = versions::transition(&s.db, &c, &id, if_match, step).await?;
    Ok(Tagged(v.version, v))
}

/// Starts a new draft (a reforecast by default) with all lines of this version.
#[utoipa::path(post, path = "/budget-versions/{id}/copy", tag = "budgets", request_body = CopyBudgetVersion,
    responses((status = 201, body = BudgetVersionDetail), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn copy_budget_version(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    Json(input): Json<CopyBudgetVersion>,
) -> Result<Created<BudgetVersionDetail>> {
    c.require(Permission::WriteFinance)?;
    let v = versions::copy(&s.db, &c, &id, input).await?;
    Ok(Created(format!("/api/v1/budget-versions/{}", v.version.id), v.version.version, v))
}

// ---- lines ----

#[utoipa::path(get, path = "/budget-versions/{id}/lines", tag = "budgets", params(BudgetLineFilter, PageParams),
    responses((status = 200, body = Page<BudgetLine>), (status = 404, body = Problem)))]
async fn list_budget_lines(
    State(s): State<AppState>,
    Caller(_who): Caller,
    Path(id): Path<String>,
    Query(filter): Query<BudgetLineFilter>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<Page<BudgetLine>>> {
    Ok(axum::Json(lines::list(&s.db, &id, &filter, &page).await?))
}

#[utoipa::path(post, path = "/budget-versions/{id}/lines", tag = "budgets", request_body = NewBudgetLine,
    responses((status = 201, body = BudgetLine), (status = 409, description = "Not a draft, or the cell has a line", body = Problem),
        (status = 422, body = Problem)))]
async fn create_budget_line(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    Json(input): Json<NewBudgetLine>,
) -> Result<Created<BudgetLine>> {
    c.require(Permission::WriteFinance)?;
    let line = lines::create(&s.db, &c, &id, input).await?;
    Ok(Created(format!("/api/v1/budget-lines/{}", line.id), line.version, line))
}

/// Sets many cells at once, in one transaction: existing cells are updated,
/// new ones created. One invalid cell refuses the whole request (422 with
/// pointers such as `/2/amount`) and nothing is written.
#[utoipa::path(put, path = "/budget-versions/{id}/lines", tag = "budgets", request_body = Vec<NewBudgetLine>,
    responses((status = 200, body = BulkUpsertResult), (status = 409, description = "Not a draft", body = Problem), (status = 422, body = Problem)))]
async fn upsert_budget_lines(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    Json(cells): Json<Vec<NewBudgetLine>>,
) -> Result<axum::Json<BulkUpsertResult>> {
    c.require(Permission::WriteFinance)?;
    Ok(axum::Json(lines::upsert_all(&s.db, &c, &id, cells).await?))
}

#[utoipa::path(get, path = "/budget-lines/{id}", tag = "budgets",
    responses((status = 200, body = BudgetLine), (status = 404, body = Problem)))]
async fn get_budget_line(State(s): State<AppState>, Caller(_who): Caller, Path(id): Path<String>) -> Result<Tagged<BudgetLine>> {
    let line = lines::get(&mut s.db.clone(), &id).await?;
    Ok(Tagged(line.version, line))
}

/// Changes a line. Needs `If-Match` with the line's ETag: 428 without it, 412
/// when someone else changed the cell since it was read.
#[utoipa::path(patch, path = "/budget-lines/{id}", tag = "budgets", request_body = BudgetLinePatch,
    params(("If-Match" = String, Header, description = "The line's ETag, e.g. \"3\"; required")),
    responses((status = 200, body = BudgetLine), (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem),
        (status = 428, body = Problem)))]
async fn update_budget_line(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(input): Json<BudgetLinePatch>,
) -> Result<Tagged<BudgetLine>> {
    c.require(Permission::WriteFinance)?;
    let line = lines::update(&s.db, &c, &id, if_match, input).await?;
    Ok(Tagged(line.version, line))
}

/// Deletes a line. Needs `If-Match` with the line's ETag (428 without, 412 when stale).
#[utoipa::path(delete, path = "/budget-lines/{id}", tag = "budgets",
    params(("If-Match" = String, Header, description = "The line's ETag, e.g. \"3\"; required")),
    responses((status = 204), (status = 409, body = Problem), (status = 412, body = Problem), (status = 428, body = Problem)))]
async fn delete_budget_line(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>, if_match: IfMatch) -> Result<StatusCode> {
    c.require(Permission::WriteFinance)?;
    lines::delete(&s.db, &c, &id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}
