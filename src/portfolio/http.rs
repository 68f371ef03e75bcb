//! Routes for portfolios, programs, projects and strategic goals. Handlers only
//! authorise, extract and delegate to the domain functions beside this file.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::goals::{self, Goal, GoalPatch, NewGoal};
use super::portfolios::{self, NewPortfolio, Portfolio, PortfolioFilter, PortfolioPatch};
use super::programs::{self, NewProgram, Program, ProgramFilter, ProgramPatch};
use super::projects::{self, NewProject, Project, ProjectDetail, ProjectFilter, ProjectPatch, Transition};
use crate::auth::Permission;
use crate::error::Result;
use crate::http::AppState;
use crate::http::extract::{Caller, Created, IfMatch, Json, Query, Tagged};
use crate::http::problem::Problem;
use crate::listing::{Page, PageParams};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_portfolios, create_portfolio))
        .routes(routes!(get_portfolio, update_portfolio, delete_portfolio))
        .routes(routes!(list_programs, create_program))
        .routes(routes!(get_program, update_program, delete_program))
        .routes(routes!(list_projects, create_project))
        .routes(routes!(get_project, update_project, delete_project))
        .routes(routes!(transition_project))
        .routes(routes!(list_goals, create_goal))
        .routes(routes!(get_goal, update_goal, delete_goal))
}

// ---- portfolios ----

#[utoipa::path(get, path = "/portfolios", tag = "portfolio", params(PortfolioFilter, PageParams),
    responses((status = 200, body = Page<Portfolio>)))]
async fn list_portfolios(
    State(s): State<AppState>,
    Caller(_who): Caller,
    Query(filter): Query<PortfolioFilter>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<Page<Portfolio>>> {
    Ok(axum::Json(portfolios::list(&s.db, &filter, &page).await?))
}

#[utoipa::path(post, path = "/portfolios", tag = "portfolio", request_body = NewPortfolio,
    responses((status = 201, body = Portfolio), (status = 422, body = Problem), (status = 409, body = Problem)))]
async fn create_portfolio(State(s): State<AppState>, Caller(c): Caller, Json(input): Json<NewPortfolio>) -> Result<Created<Portfolio>> {
    c.require(Permission::WritePortfolio)?;
    let p = portfolios::create(&s.db, &c, input).await?;
    Ok(Created(format!("/api/v1/portfolios/{}", p.id), p.version, p))
}

#[utoipa::path(get, path = "/portfolios/{id}", tag = "portfolio",
    responses((status = 200, body = Portfolio), (status = 404, body = Problem)))]
async fn get_portfolio(State(s): State<AppState>, Caller(_who): Caller, Path(id): Path<String>) -> Result<Tagged<Portfolio>> {
    let p = portfolios::get(&mut s.db.clone(), &id).await?;
    Ok(Tagged(p.version, p))
}

#[utoipa::path(patch, path = "/portfolios/{id}", tag = "portfolio", request_body = PortfolioPatch,
    responses((status = 200, body = Portfolio), (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn update_portfolio(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(input): Json<PortfolioPatch>,
) -> Result<Tagged<Portfolio>> {
    c.require(Permission::WritePortfolio)?;
    let p = portfolios::update(&s.db, &c, &id, if_match, input).await?;
    Ok(Tagged(p.version, p))
}

#[utoipa::path(delete, path = "/portfolios/{id}", tag = "portfolio",
    responses((status = 204), (status = 409, body = Problem)))]
async fn delete_portfolio(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>, if_match: IfMatch) -> Result<StatusCode> {
    c.require(Permission::WritePortfolio)?;
    portfolios::delete(&s.db, &c, &id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- programs ----

#[utoipa::path(get, path = "/programs", tag = "portfolio", params(ProgramFilter, PageParams),
    responses((status = 200, body = Page<Program>)))]
async fn list_programs(
    State(s): State<AppState>,
    Caller(_who): Caller,
    Query(filter): Query<ProgramFilter>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<Page<Program>>> {
    Ok(axum::Json(programs::list(&s.db, &filter, &page).await?))
}

#[utoipa::path(post, path = "/programs", tag = "portfolio", request_body = NewProgram,
    responses((status = 201, body = Program), (status = 422, body = Problem), (status = 409, body = Problem)))]
async fn create_program(State(s): State<AppState>, Caller(c): Caller, Json(input): Json<NewProgram>) -> Result<Created<Program>> {
    c.require(Permission::WritePortfolio)?;
    let p = programs::create(&s.db, &c, input).await?;
    Ok(Created(format!("/api/v1/programs/{}", p.id), p.version, p))
}

#[utoipa::path(get, path = "/programs/{id}", tag = "portfolio",
    responses((status = 200, body = Program), (status = 404, body = Problem)))]
async fn get_program(State(s): State<AppState>, Caller(_who): Caller, Path(id): Path<String>) -> Result<Tagged<Program>> {
    let p = programs::get(&mut s.db.clone(), &id).await?;
    Ok(Tagged(p.version, p))
}

#[utoipa::path(patch, path = "/programs/{id}", tag = "portfolio", request_body = ProgramPatch,
    responses((status = 200, body = Program), (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn update_program(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(input): Json<ProgramPatch>,
) -> Result<Tagged<Program>> {
    c.require(Permission::WritePortfolio)?;
    let p = programs::update(&s.db, &c, &id, if_match, input).await?;
    Ok(Tagged(p.version, p))
}

#[utoipa::path(delete, path = "/programs/{id}", tag = "portfolio",
    responses((status = 204), (status = 409, body = Problem)))]
async fn delete_program(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>, if_match: IfMatch) -> Result<StatusCode> {
    c.require(Permission::WritePortfolio)?;
    programs::delete(&s.db, &c, &id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- projects ----

#[utoipa::path(get, path = "/projects", tag = "portfolio", params(ProjectFilter, PageParams),
    responses((status = 200, body = Page<Project>), (status = 422, body = Problem)))]
async fn list_projects(
    State(s): State<AppState>,
    Caller(_who): Caller,
    Query(filter): Query<ProjectFilter>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<Page<Project>>> {
    Ok(axum::Json(projects::list(&s.db, &filter, &page).await?))
}

#[utoipa::path(post, path = "/projects", tag = "portfolio", request_body = NewProject,
    responses((status = 201, body = ProjectDetail), (status = 422, body = Problem), (status = 409, body = Problem)))]
async fn create_project(State(s): State<AppState>, Caller(c): Caller, Json(input): Json<NewProject>) -> Result<Created<ProjectDetail>> {
    c.require(Permission::WritePortfolio)?;
    let p = projects::create(&s.db, &c, input).await?;
    Ok(Created(format!("/api/v1/projects/{}", p.project.id), p.project.version, p))
}

#[utoipa::path(get, path = "/projects/{id}", tag = "portfolio",
    responses((status = 200, body = ProjectDetail), (status = 404, body = Problem)))]
async fn get_project(State(s): State<AppState>, Caller(_who): Caller, Path(id): Path<String>) -> Result<Tagged<ProjectDetail>> {
    let p = projects::get_detail(&mut s.db.clone(), &id).await?;
    Ok(Tagged(p.project.version, p))
}

#[utoipa::path(patch, path = "/projects/{id}", tag = "portfolio", request_body = ProjectPatch,
    responses((status = 200, body = ProjectDetail), (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn update_project(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(input): Json<ProjectPatch>,
) -> Result<Tagged<ProjectDetail>> {
    c.require(Permission::WritePortfolio)?;
    let p = projects::update(&s.db, &c, &id, if_match, input).await?;
    Ok(Tagged(p.project.version, p))
}

#[utoipa::path(delete, path = "/projects/{id}", tag = "portfolio",
    responses((status = 204), (status = 409, body = Problem)))]
async fn delete_project(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>, if_match: IfMatch) -> Result<StatusCode> {
    c.require(Permission::WritePortfolio)?;
    projects::delete(&s.db, &c, &id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Moves a project through its lifecycle: proposed → approved → in_progress ⇄
/// on_hold → completed, or cancelled from any open state.
#[utoipa::path(post, path = "/projects/{id}/transitions", tag = "portfolio", request_body = Transition,
    responses((status = 200, body = Project), (status = 409, description = "Illegal transition", body = Problem)))]
async fn transition_project(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(step): Json<Transition>,
) -> Result<Tagged<Project>> {
    c.require(Permission::WritePortfolio)?;
    let p = projects::transition(&s.db, &c, &id, if_match, step).await?;
    Ok(Tagged(p.version, p))
}

// ---- strategic goals ----

#[utoipa::path(get, path = "/goals", tag = "portfolio", params(PageParams), responses((status = 200, body = Page<Goal>)))]
async fn list_goals(State(s): State<AppState>, Caller(_who): Caller, Query(page): Query<PageParams>) -> Result<axum::Json<Page<Goal>>> {
    Ok(axum::Json(goals::list(&s.db, &page).await?))
}

#[utoipa::path(post, path = "/goals", tag = "portfolio", request_body = NewGoal,
    responses((status = 201, body = Goal), (status = 422, body = Problem)))]
async fn create_goal(State(s): State<AppState>, Caller(c): Caller, Json(input): Json<NewGoal>) -> Result<Created<Goal>> {
    c.require(Permission::WritePortfolio)?;
    let g = goals::create(&s.db, &c, input).await?;
    Ok(Created(format!("/api/v1/goals/{}", g.id), g.version, g))
}

#[utoipa::path(get, path = "/goals/{id}", tag = "portfolio", responses((status = 200, body = Goal), (status = 404, body = Problem)))]
async fn get_goal(State(s): State<AppState>, Caller(_who): Caller, Path(id): Path<String>) -> Result<Tagged<Goal>> {
    let g = goals::get(&mut s.db.clone(), &id).await?;
    Ok(Tagged(g.version, g))
}

#[utoipa::path(patch, path = "/goals/{id}", tag = "portfolio", request_body = GoalPatch,
    responses((status = 200, body = Goal), (status = 412, body = Problem)))]
async fn update_goal(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(input): Json<GoalPatch>,
) -> Result<Tagged<Goal>> {
    c.require(Permission::WritePortfolio)?;
    let g = goals::update(&s.db, &c, &id, if_match, input).await?;
    Ok(Tagged(g.version, g))
}

#[utoipa::path(delete, path = "/goals/{id}", tag = "portfolio", responses((status = 204), (status = 409, body = Problem)))]
async fn delete_goal(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>) -> Result<StatusCode> {
    c.require(Permission::WritePortfolio)?;
    goals::delete(&s.db, &c, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
