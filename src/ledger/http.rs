//! Routes of the cost ledger. Handlers only authorise, extract and delegate.

use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::import::{self, ImportOutcome, ImportParams, MAX_IMPORT_BODY};
use super::{LedgerFilter, LedgerLine, LedgerLinePatch, NewLedgerLine, SummaryGroup, SummaryParams};
use crate::auth::Permission;
use crate::error::{Error, FieldError, Result};
use crate::http::AppState;
use crate::http::extract::{Caller, Created, IfMatch, Json, Query, Tagged, read_body_as};
use crate::http::problem::Problem;
use crate::listing::{Page, PageParams};

/// Set to `true` on a `POST /ledger/lines` answer that returns the line an
/// earlier request with the same idempotency key stored.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_lines, create_line))
        .routes(routes!(get_line, update_line, delete_line))
        .routes(routes!(summarize))
        .merge(
            // Imports carry whole billing exports: their own, larger body limit.
            OpenApiRouter::new().routes(routes!(import_lines)).layer(DefaultBodyLimit::max(MAX_IMPORT_BODY)),
        )
}

#[utoipa::path(get, path = "/ledger/lines", tag = "ledger", params(LedgerFilter, PageParams),
    responses((status = 200, body = Page<LedgerLine>), (status = 400, body = Problem), (status = 422, body = Problem)))]
async fn list_lines(
    State(s): State<AppState>,
    Caller(_who): Caller,
    Query(filter): Query<LedgerFilter>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<Page<LedgerLine>>> {
    Ok(axum::Json(super::list(&s.db, &filter, &page).await?))
}

/// Posts one line as source `manual`. An `Idempotency-Key` header (or
/// `source_key`) makes retries safe: a key seen before answers 200 with the
/// stored line and `Idempotent-Replayed: true` instead of storing it twice.
#[utoipa::path(post, path = "/ledger/lines", tag = "ledger", request_body = NewLedgerLine,
    params(("Idempotency-Key" = Option<String>, Header, description = "Used as the line's source_key")),
    responses(
        (status = 201, body = LedgerLine, description = "Stored"),
        (status = 200, body = LedgerLine, description = "The key was seen before: the stored line, with Idempotent-Replayed: true"),
        (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn create_line(
    State(s): State<AppState>,
    Caller(c): Caller,
    headers: HeaderMap,
    Json(input): Json<NewLedgerLine>,
) -> Result<Response> {
    c.require(Permission::WriteFinance)?;
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(value) => Some(value.to_str().map(str::to_owned).map_err(|_| Error::BadRequest {
            detail: "the Idempotency-Key header must be visible ASCII".into(),
            errors: vec![FieldError::param("idempotency-key", "not visible ASCII")],
        })?),
    };
    let (line, replayed) = super::create_manual(&s.db, &c, key, input).await?;
    let mut response = if replayed {
        Tagged(line.version, line).into_response()
    } else {
        Created(format!("/api/v1/ledger/lines/{}", line.id), line.version, line).into_response()
    };
    response.headers_mut().insert(REPLAYED_HEADER, HeaderValue::from_static(if replayed { "true" } else { "false" }));
    Ok(response)
}

#[utoipa::path(get, path = "/ledger/lines/{id}", tag = "ledger",
    responses((status = 200, body = LedgerLine), (status = 404, body = Problem)))]
async fn get_line(State(s): State<AppState>, Caller(_who): Caller, Path(id): Path<String>) -> Result<Tagged<LedgerLine>> {
    let line = super::get(&mut s.db.clone(), &id).await?;
    Ok(Tagged(line.version, line))
}

/// Changes a line. `If-Match` is required (428 without it, 412 when stale);
/// `source` and `source_key` cannot change.
#[utoipa::path(patch, path = "/ledger/lines/{id}", tag = "ledger", request_body = LedgerLinePatch,
    params(("If-Match" = String, Header, description = "The line's current ETag")),
    responses((status = 200, body = LedgerLine), (status = 412, body = Problem), (status = 422, body = Problem),
        (status = 428, body = Problem)))]
async fn update_line(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(input): Json<LedgerLinePatch>,
) -> Result<Tagged<LedgerLine>> {
    c.require(Permission::WriteFinance)?;
    let line = super::update(&s.db, &c, &id, if_match, input).await?;
    Ok(Tagged(line.version, line))
}

/// Removes a line (`If-Match` required).
#[utoipa::path(delete, path = "/ledger/lines/{id}", tag = "ledger",
    params(("If-Match" = String, Header, description = "The line's current ETag")),
    responses((status = 204), (status = 412, body = Problem), (status = 428, body = Problem)))]
async fn delete_line(State(s): State<AppState>, Caller(c): Caller, Path(id): Path<String>, if_match: IfMatch) -> Result<StatusCode> {
    c.require(Permission::WriteFinance)?;
    super::delete(&s.db, &c, &id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Totals of the lines matching the filters, per group and currency.
#[utoipa::path(get, path = "/ledger/summary", tag = "ledger", params(SummaryParams, LedgerFilter),
    responses((status = 200, body = Vec<SummaryGroup>), (status = 400, body = Problem)))]
async fn summarize(
    State(s): State<AppState>,
    Caller(_who): Caller,
    Query(params): Query<SummaryParams>,
    Query(filter): Query<LedgerFilter>,
) -> Result<axum::Json<Vec<SummaryGroup>>> {
    Ok(axum::Json(super::summary(&s.db, &filter, params.group_by).await?))
}

/// Imports a CSV file of lines, all or nothing (see the ledger's import
/// module for the columns). Rows whose `source_key` the ledger holds already
/// are skipped, so importing a file twice stores its lines once.
#[utoipa::path(post, path = "/ledger/imports", tag = "ledger", params(ImportParams),
    request_body(content = String, content_type = "text/csv",
        description = "Header row, then data rows: entry_date, amount, currency, cost_type, cost_center, source_key, \
            and optionally project, vendor, service, asset, cost_pool, tower, description, tags"),
    responses((status = 200, body = ImportOutcome), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 413, body = Problem),
        (status = 422, description = "Every problem, at /rows/{data row from 1}/{column}; nothing written", body = Problem)))]
async fn import_lines(
    State(s): State<AppState>,
    Caller(c): Caller,
    Query(params): Query<ImportParams>,
    request: Request,
) -> Result<axum::Json<ImportOutcome>> {
    c.require(Permission::WriteFinance)?;
    let body = read_body_as(request, &s, "text/csv", "CSV").await?;
    let source = params.source.as_deref().unwrap_or("csv");
    Ok(axum::Json(import::import_csv(&s.db, &c, source, &body).await?))
}
