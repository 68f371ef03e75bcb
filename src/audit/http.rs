use axum::extract::State;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{AuditEntry, AuditFilter};
use crate::auth::Permission;
use crate::error::Result;
use crate::http::AppState;
use crate::http::extract::{Caller, Query};
use crate::listing::{Page, PageParams};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit_log))
}

/// The audit log, newest first. Roles admin and finance.
#[utoipa::path(get, path = "/audit-log", tag = "audit",
    params(AuditFilter, PageParams),
    responses((status = 200, body = Page<AuditEntry>), (status = 403, body = crate::http::problem::Problem)))]
async fn list_audit_log(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(filter): Query<AuditFilter>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<Page<AuditEntry>>> {
    caller.require(Permission::ReadAudit)?;
    Ok(axum::Json(super::list(&mut state.db.clone(), &filter, &page).await?))
}
