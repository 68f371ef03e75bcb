//! Routes for scoring frameworks, scores, rankings, scenarios and the
//! optimiser. Reading needs any role; changing, optimising and approving a
//! scenario need `WritePortfolio` (portfolio managers). Approval writes a
//! draft budget version: finance then takes it through the budget workflow.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::ItemKind;
use super::optimise::{self, OptimiseRequest, OptimiseResult};
use super::scenarios::{self, ApproveScenario, ApprovedScenario, CompareParams, NewScenario, Scenario, ScenarioDetail, ScenarioItems, ScenarioSummary};
use super::scoring::{self, Framework, ItemScore, NewFramework, Ranking, RankingParams, ScoreInput};
use super::value_map::{self, ValueMap};
use crate::auth::Permission;
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::http::extract::{Caller, Created, IfMatch, Json, Query, Tagged};
use crate::http::problem::Problem;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_frameworks, create_framework))
        .routes(routes!(get_framework, delete_framework))
        .routes(routes!(set_scores))
        .routes(routes!(get_ranking))
        .routes(routes!(optimise_portfolio))
        .routes(routes!(get_value_map))
        .routes(routes!(list_scenarios, create_scenario))
        .routes(routes!(compare_scenarios))
        .routes(routes!(get_scenario, delete_scenario))
        .routes(routes!(get_scenario_summary))
        .routes(routes!(replace_scenario_items))
        .routes(routes!(approve_scenario))
}

#[utoipa::path(get, path = "/scoring-frameworks", tag = "prioritisation", responses((status = 200, body = Vec<Framework>)))]
async fn list_frameworks(State(s): State<AppState>, Caller(_who): Caller) -> Result<axum::Json<Vec<Framework>>> {
    Ok(axum::Json(scoring::list(&mut s.db.clone()).await?))
}

#[utoipa::path(post, path = "/scoring-frameworks", tag = "prioritisation", request_body = NewFramework,
    responses((status = 201, body = Framework), (status = 422, body = Problem), (status = 409, body = Problem)))]
async fn create_framework(State(s): State<AppState>, Caller(c): Caller, Json(input): Json<NewFramework>) -> Result<Created<Framework>> {
    c.require(Permission::WritePortfolio)?;
    let f = scoring::create(&s.db, &c, input).await?;
    Ok(Created(format!("/api/v1/scoring-frameworks/{}", f.id), f.version, f))
}

#[utoipa::path(get, path = "/scoring-frameworks/{id}", tag = "prioritisation",
    responses((status = 200, body = Framework), (status = 404, body = Problem)))]
async fn get_framework(State(s): State<AppState>, Caller(_who): Caller, Path(id): Path<String>) -> Result<Tagged<Framework>> {
    let f = scoring::get(&mut s.db.clone(), &id).await?;
    Ok(Tagged(f.version, f))
}

#[utoipa::path(delete, path = "/scoring-frameworks/{id}", tag = "prioritisation",
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn delete_framework(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>) -> Result<StatusCode> {
    c.require(Permission::WritePortfolio)?;
    scoring::delete(&s.db, &c, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets one item's values in a framework (replacing its earlier values) and
/// returns its score with each criterion's contribution.
#[utoipa::path(put, path = "/scoring-frameworks/{id}/scores/{item_kind}/{item_id}", tag = "prioritisation", request_body = ScoreInput,
    params(("item_kind" = ItemKind, Path, description = "demand or project")),
    responses((status = 200, body = ItemScore), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn set_scores(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path((id, kind, item_id)): Path<(String, String, String)>,
    Json(input): Json<ScoreInput>,
) -> Result<axum::Json<ItemScore>> {
    c.require(Permission::WritePortfolio)?;
    let kind = ItemKind::parse(&kind).ok_or_else(|| Error::not_found("item kind", kind))?;
    Ok(axum::Json(scoring::set_scores(&s.db, &c, &id, kind, &item_id, input).await?))
}

/// A portfolio's candidates ranked by a framework's score; the tie-break is
/// stated in the answer.
#[utoipa::path(get, path = "/scoring-frameworks/{id}/ranking", tag = "prioritisation", params(RankingParams),
    responses((status = 200, body = Ranking), (status = 404, body = Problem)))]
async fn get_ranking(State(s): State<AppState>, Caller(_who): Caller, Path(id): Path<String>, Query(p): Query<RankingParams>) -> Result<axum::Json<Ranking>> {
    Ok(axum::Json(scoring::ranking(&s.db, &id, &p.portfolio_id).await?))
}

/// Chooses the portfolio's best set of candidates under the budgets and
/// constraints, exactly (mixed-integer programming), with the reason each
/// left-out item is out, optionally an efficient frontier, and optionally
/// saved as a scenario. Infeasible constraints and dependency cycles are a
/// 422 naming the conflicting members of the request.
#[utoipa::path(post, path = "/portfolios/{id}/optimise", tag = "prioritisation", request_body = OptimiseRequest,
    responses((status = 200, body = OptimiseResult), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn optimise_portfolio(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>, Json(input): Json<OptimiseRequest>) -> Result<axum::Json<OptimiseResult>> {
    c.require(Permission::WritePortfolio)?;
    Ok(axum::Json(optimise::run(&s.db, &c, &id, input).await?))
}

/// The portfolio's open projects and pending demands with their cost,
/// benefit, NPV (at the finance settings' discount rate), risk and alignment:
/// the data of a value versus cost versus risk chart.
#[utoipa::path(get, path = "/portfolios/{id}/value-map", tag = "prioritisation",
    responses((status = 200, body = ValueMap), (status = 404, body = Problem)))]
async fn get_value_map(State(s): State<AppState>, Caller(_who): Caller, Path(id): Path<String>) -> Result<axum::Json<ValueMap>> {
    Ok(axum::Json(value_map::load(&s.db, &id).await?))
}

#[utoipa::path(get, path = "/portfolios/{id}/scenarios", tag = "prioritisation",
    responses((status = 200, body = Vec<Scenario>), (status = 404, body = Problem)))]
async fn list_scenarios(State(s): State<AppState>, Caller(_who): Caller, Path(id): Path<String>) -> Result<axum::Json<Vec<Scenario>>> {
    Ok(axum::Json(scenarios::list(&s.db, &id).await?))
}

#[utoipa::path(post, path = "/portfolios/{id}/scenarios", tag = "prioritisation", request_body = NewScenario,
    responses((status = 201, body = ScenarioDetail), (status = 422, body = Problem), (status = 409, body = Problem)))]
async fn create_scenario(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>, Json(input): Json<NewScenario>) -> Result<Created<ScenarioDetail>> {
    c.require(Permission::WritePortfolio)?;
    let d = scenarios::create(&s.db, &c, &id, input).await?;
    Ok(Created(format!("/api/v1/scenarios/{}", d.scenario.id), d.scenario.version, d))
}

/// Side-by-side figures of 2 to 10 scenarios: CapEx, OpEx and benefit per
/// year, NPV, cost-weighted risk and alignment.
#[utoipa::path(get, path = "/scenarios/compare", tag = "prioritisation", params(CompareParams),
    responses((status = 200, body = Vec<ScenarioSummary>), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn compare_scenarios(State(s): State<AppState>, Caller(_who): Caller, Query(p): Query<CompareParams>) -> Result<axum::Json<Vec<ScenarioSummary>>> {
    Ok(axum::Json(scenarios::compare(&s.db, &p).await?))
}

#[utoipa::path(get, path = "/scenarios/{id}", tag = "prioritisation",
    responses((status = 200, body = ScenarioDetail), (status = 404, body = Problem)))]
async fn get_scenario(State(s): State<AppState>, Caller(_who): Caller, Path(id): Path<String>) -> Result<Tagged<ScenarioDetail>> {
    let d = scenarios::get(&mut s.db.clone(), &id).await?;
    Ok(Tagged(d.scenario.version, d))
}

#[utoipa::path(delete, path = "/scenarios/{id}", tag = "prioritisation",
    responses((status = 204), (status = 409, body = Problem), (status = 428, body = Problem)))]
async fn delete_scenario(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>, if_match: IfMatch) -> Result<StatusCode> {
    c.require(Permission::WritePortfolio)?;
    scenarios::delete(&s.db, &c, &id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/scenarios/{id}/summary", tag = "prioritisation",
    responses((status = 200, body = ScenarioSummary), (status = 404, body = Problem)))]
async fn get_scenario_summary(State(s): State<AppState>, Caller(_who): Caller, Path(id): Path<String>) -> Result<axum::Json<ScenarioSummary>> {
    Ok(axum::Json(scenarios::summary(&s.db, &id).await?))
}

/// Replaces the scenario's items: include or exclude, shift, fund.
#[utoipa::path(put, path = "/scenarios/{id}/items", tag = "prioritisation", request_body = ScenarioItems,
    responses((status = 200, body = ScenarioDetail), (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn replace_scenario_items(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(input): Json<ScenarioItems>,
) -> Result<Tagged<ScenarioDetail>> {
    c.require(Permission::WritePortfolio)?;
    let d = scenarios::replace_items(&s.db, &c, &id, if_match, input).await?;
    Ok(Tagged(d.scenario.version, d))
}

/// Makes the scenario the plan: one draft budget version per year of its
/// horizon whose lines add up to the scenario.
#[utoipa::path(post, path = "/scenarios/{id}/approve", tag = "prioritisation", request_body = ApproveScenario,
    responses((status = 200, body = ApprovedScenario), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn approve_scenario(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(input): Json<ApproveScenario>,
) -> Result<axum::Json<ApprovedScenario>> {
    c.require(Permission::WritePortfolio)?;
    Ok(axum::Json(scenarios::approve(&s.db, &c, &id, if_match, input).await?))
}
