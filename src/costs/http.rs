//! Routes of cost allocation and cost reports. Handlers only authorise,
//! extract and delegate.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::definitions::{self, NewReportDefinition, ReportDefinition, ReportDefinitionPatch};
use super::drivers::{self, DriverQuery, DriverSet};
use super::engine::Flow;
use super::export::{self, ExportParams};
use super::reports::{self, ReportResult, ReportSpec};
use super::rules::{self, AllocationRule, AllocationRulePatch, NewAllocationRule, RuleFilter};
use super::runs::{self, AllocationRun, NewRun, RunDetail, RunFilter, Statement, StatementParams};
use crate::auth::Permission;
use crate::error::Result;
use crate::http::AppState;
use crate::http::extract::{Caller, Created, IfMatch, Json, Query, Tagged};
use crate::http::problem::Problem;
use crate::listing::{Page, PageParams};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_rules, create_rule))
        .routes(routes!(get_rule, update_rule, delete_rule))
        .routes(routes!(list_drivers, put_drivers))
        .routes(routes!(list_runs, create_run))
        .routes(routes!(get_run))
        .routes(routes!(run_flows))
        .routes(routes!(run_statements))
        .routes(routes!(consumer_statement))
        .routes(routes!(run_report))
        .routes(routes!(export_report))
        .routes(routes!(list_definitions, create_definition))
        .routes(routes!(get_definition, update_definition, delete_definition))
        .routes(routes!(definition_result))
        .routes(routes!(definition_export))
}

// ---- allocation rules ----

#[utoipa::path(get, path = "/costs/allocation/rules", tag = "costs", params(RuleFilter, PageParams),
    responses((status = 200, body = Page<AllocationRule>), (status = 400, body = Problem)))]
async fn list_rules(State(s): State<AppState>, Caller(_c): Caller, Query(filter): Query<RuleFilter>, Query(page): Query<PageParams>) -> Result<axum::Json<Page<AllocationRule>>> {
    Ok(axum::Json(rules::list(&s.db, &filter, &page).await?))
}

/// Creates the rule of a source node (one rule per source: 409 when it has one).
#[utoipa::path(post, path = "/costs/allocation/rules", tag = "costs", request_body = NewAllocationRule,
    responses((status = 201, body = AllocationRule), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_rule(State(s): State<AppState>, Caller(c): Caller, Json(input): Json<NewAllocationRule>) -> Result<Created<AllocationRule>> {
    c.require(Permission::WriteFinance)?;
    let rule = rules::create(&s.db, &c, input).await?;
    Ok(Created(format!("/api/v1/costs/allocation/rules/{}", rule.id), rule.version, rule))
}

#[utoipa::path(get, path = "/costs/allocation/rules/{id}", tag = "costs", responses((status = 200, body = AllocationRule), (status = 404, body = Problem)))]
async fn get_rule(State(s): State<AppState>, Caller(_c): Caller, Path(id): Path<String>) -> Result<Tagged<AllocationRule>> {
    let rule = rules::get(&mut s.db.clone(), &id).await?;
    Ok(Tagged(rule.version, rule))
}

#[utoipa::path(patch, path = "/costs/allocation/rules/{id}", tag = "costs", request_body = AllocationRulePatch,
    responses((status = 200, body = AllocationRule), (status = 404, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn update_rule(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>, if_match: IfMatch, Json(input): Json<AllocationRulePatch>) -> Result<Tagged<AllocationRule>> {
    c.require(Permission::WriteFinance)?;
    let rule = rules::update(&s.db, &c, &id, if_match, input).await?;
    Ok(Tagged(rule.version, rule))
}

#[utoipa::path(delete, path = "/costs/allocation/rules/{id}", tag = "costs",
    responses((status = 204), (status = 404, body = Problem), (status = 412, body = Problem)))]
async fn delete_rule(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>, if_match: IfMatch) -> Result<StatusCode> {
    c.require(Permission::WriteFinance)?;
    rules::delete(&s.db, &c, &id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- driver quantities ----

/// The stored quantities of one driver and period, per source.
#[utoipa::path(get, path = "/costs/drivers", tag = "costs", params(DriverQuery),
    responses((status = 200, body = Vec<DriverSet>), (status = 400, body = Problem)))]
async fn list_drivers(State(s): State<AppState>, Caller(_c): Caller, Query(q): Query<DriverQuery>) -> Result<axum::Json<Vec<DriverSet>>> {
    Ok(axum::Json(drivers::list(&s.db, q.driver, q.fiscal_period).await?))
}

/// Replaces the quantities one source measured for one driver and period
/// (`utilisation`, `tickets`, `effort`, `headcount`).
#[utoipa::path(put, path = "/costs/drivers", tag = "costs", request_body = DriverSet,
    responses((status = 200, body = DriverSet), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn put_drivers(State(s): State<AppState>, Caller(c): Caller, Json(input): Json<DriverSet>) -> Result<axum::Json<DriverSet>> {
    c.require(Permission::WriteFinance)?;
    Ok(axum::Json(drivers::put(&s.db, &c, input).await?))
}

// ---- allocation runs and statements ----

#[utoipa::path(get, path = "/costs/allocation/runs", tag = "costs", params(RunFilter, PageParams),
    responses((status = 200, body = Page<AllocationRun>), (status = 400, body = Problem)))]
async fn list_runs(State(s): State<AppState>, Caller(_c): Caller, Query(filter): Query<RunFilter>, Query(page): Query<PageParams>) -> Result<axum::Json<Page<AllocationRun>>> {
    Ok(axum::Json(runs::list(&s.db, &filter, &page).await?))
}

/// Allocates a fiscal period with the current rules and driver data and
/// stores the run. Money no rule can place is reported, never dropped.
#[utoipa::path(post, path = "/costs/allocation/runs", tag = "costs", request_body = NewRun,
    responses((status = 201, body = RunDetail), (status = 403, body = Problem),
        (status = 422, description = "A rate is missing or a rule cannot be applied; nothing stored", body = Problem)))]
async fn create_run(State(s): State<AppState>, Caller(c): Caller, Json(input): Json<NewRun>) -> Result<Created<RunDetail>> {
    c.require(Permission::WriteFinance)?;
    let run = runs::run(&s.db, &s.columnar, &c, input).await?;
    Ok(Created(format!("/api/v1/costs/allocation/runs/{}", run.run.id), 1, run))
}

#[utoipa::path(get, path = "/costs/allocation/runs/{id}", tag = "costs", responses((status = 200, body = RunDetail), (status = 404, body = Problem)))]
async fn get_run(State(s): State<AppState>, Caller(_c): Caller, Path(id): Path<String>) -> Result<axum::Json<RunDetail>> {
    Ok(axum::Json(runs::detail(&s.db, &id).await?))
}

/// Every movement of money in the run, in order.
#[utoipa::path(get, path = "/costs/allocation/runs/{id}/flows", tag = "costs", responses((status = 200, body = Vec<Flow>), (status = 404, body = Problem)))]
async fn run_flows(State(s): State<AppState>, Caller(_c): Caller, Path(id): Path<String>) -> Result<axum::Json<Vec<Flow>>> {
    Ok(axum::Json(runs::flows(&s.db, &id).await?))
}

/// The showback (or chargeback) statement of every consumer of the run.
#[utoipa::path(get, path = "/costs/allocation/runs/{id}/statements", tag = "costs", params(StatementParams),
    responses((status = 200, body = Vec<Statement>), (status = 404, body = Problem)))]
async fn run_statements(State(s): State<AppState>, Caller(_c): Caller, Path(id): Path<String>, Query(p): Query<StatementParams>) -> Result<axum::Json<Vec<Statement>>> {
    Ok(axum::Json(runs::statements(&s.db, &id, p.kind.unwrap_or_default(), None).await?))
}

/// One consumer's showback (or chargeback) statement.
#[utoipa::path(get, path = "/costs/allocation/runs/{id}/statements/{cost_center_id}", tag = "costs", params(StatementParams),
    responses((status = 200, body = Statement), (status = 404, body = Problem)))]
async fn consumer_statement(
    State(s): State<AppState>,
    Caller(_c): Caller,
    Path((id, cost_center_id)): Path<(String, String)>,
    Query(p): Query<StatementParams>,
) -> Result<axum::Json<Statement>> {
    let mut all = runs::statements(&s.db, &id, p.kind.unwrap_or_default(), Some(&cost_center_id)).await?;
    Ok(axum::Json(all.remove(0)))
}

// ---- cost reports ----

/// Runs a report without saving it.
#[utoipa::path(post, path = "/costs/reports/run", tag = "costs", request_body = ReportSpec,
    responses((status = 200, body = ReportResult), (status = 422, body = Problem)))]
async fn run_report(State(s): State<AppState>, Caller(_c): Caller, Json(spec): Json<ReportSpec>) -> Result<axum::Json<ReportResult>> {
    Ok(axum::Json(reports::run(&s.db, &s.columnar, &spec).await?))
}

/// Runs a report and answers it as a CSV, Parquet or XLSX file.
#[utoipa::path(post, path = "/costs/reports/export", tag = "costs", request_body = ReportSpec, params(ExportParams),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"), (status = 400, body = Problem), (status = 422, body = Problem)))]
async fn export_report(State(s): State<AppState>, Caller(_c): Caller, Query(p): Query<ExportParams>, Json(spec): Json<ReportSpec>) -> Result<Response> {
    let result = reports::run(&s.db, &s.columnar, &spec).await?;
    export::respond(result, p.format, "cost-report")
}

#[utoipa::path(get, path = "/costs/reports/definitions", tag = "costs", params(PageParams),
    responses((status = 200, body = Page<ReportDefinition>), (status = 400, body = Problem)))]
async fn list_definitions(State(s): State<AppState>, Caller(_c): Caller, Query(page): Query<PageParams>) -> Result<axum::Json<Page<ReportDefinition>>> {
    Ok(axum::Json(definitions::list(&s.db, &page).await?))
}

#[utoipa::path(post, path = "/costs/reports/definitions", tag = "costs", request_body = NewReportDefinition,
    responses((status = 201, body = ReportDefinition), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_definition(State(s): State<AppState>, Caller(c): Caller, Json(input): Json<NewReportDefinition>) -> Result<Created<ReportDefinition>> {
    c.require(Permission::WriteFinance)?;
    let d = definitions::create(&s.db, &c, input).await?;
    Ok(Created(format!("/api/v1/costs/reports/definitions/{}", d.id), d.version, d))
}

#[utoipa::path(get, path = "/costs/reports/definitions/{id}", tag = "costs", responses((status = 200, body = ReportDefinition), (status = 404, body = Problem)))]
async fn get_definition(State(s): State<AppState>, Caller(_c): Caller, Path(id): Path<String>) -> Result<Tagged<ReportDefinition>> {
    let d = definitions::get(&mut s.db.clone(), &id).await?;
    Ok(Tagged(d.version, d))
}

#[utoipa::path(patch, path = "/costs/reports/definitions/{id}", tag = "costs", request_body = ReportDefinitionPatch,
    responses((status = 200, body = ReportDefinition), (status = 404, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn update_definition(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>, if_match: IfMatch, Json(input): Json<ReportDefinitionPatch>) -> Result<Tagged<ReportDefinition>> {
    c.require(Permission::WriteFinance)?;
    let d = definitions::update(&s.db, &c, &id, if_match, input).await?;
    Ok(Tagged(d.version, d))
}

#[utoipa::path(delete, path = "/costs/reports/definitions/{id}", tag = "costs",
    responses((status = 204), (status = 404, body = Problem), (status = 412, body = Problem)))]
async fn delete_definition(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>, if_match: IfMatch) -> Result<StatusCode> {
    c.require(Permission::WriteFinance)?;
    definitions::delete(&s.db, &c, &id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Runs a saved report.
#[utoipa::path(get, path = "/costs/reports/definitions/{id}/result", tag = "costs",
    responses((status = 200, body = ReportResult), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn definition_result(State(s): State<AppState>, Caller(_c): Caller, Path(id): Path<String>) -> Result<axum::Json<ReportResult>> {
    let d = definitions::get(&mut s.db.clone(), &id).await?;
    Ok(axum::Json(reports::run(&s.db, &s.columnar, &d.spec).await?))
}

/// Runs a saved report and answers it as a file named after the report.
#[utoipa::path(get, path = "/costs/reports/definitions/{id}/export", tag = "costs", params(ExportParams),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn definition_export(State(s): State<AppState>, Caller(_c): Caller, Path(id): Path<String>, Query(p): Query<ExportParams>) -> Result<Response> {
    let d = definitions::get(&mut s.db.clone(), &id).await?;
    let result = reports::run(&s.db, &s.columnar, &d.spec).await?;
    export::respond(result, p.format, &d.name)
}
