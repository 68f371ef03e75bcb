//! The HTTP edge: the router, its middleware, the OpenAPI document and the
//! operational endpoints. Each domain module contributes its own routes; this
//! module only assembles them.

pub mod cache;
pub mod extract;
pub mod problem;
pub mod ui;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::Authenticator;
use crate::db::Db;
use problem::Problem;

/// JSON bodies larger than this are refused with 413. Imports set their own limit.
pub const MAX_JSON_BODY: usize = 1024 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub auth: Arc<Authenticator>,
    pub cache: Arc<cache::ReadCache>,
    /// Started with `--demo`: the UI's demo sign-in endpoint exists.
    pub demo: bool,
    pub plugins: Arc<crate::plugins::Plugins>,
    pub sync: Arc<crate::sync::Syncer>,
    /// The Parquet copy of the ledger that cost reports and allocation runs scan.
    pub columnar: Arc<crate::costs::Columnar>,
}

impl AppState {
    pub fn new(
        db: Db,
        auth: Arc<Authenticator>,
        demo: bool,
        plugins: Arc<crate::plugins::Plugins>,
        sync: Arc<crate::sync::Syncer>,
        columnar: Arc<crate::costs::Columnar>,
    ) -> Self {
        let cache = Arc::new(cache::ReadCache::for_backend(db.backend()));
        AppState { db, auth, cache, demo, plugins, sync, columnar }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "itbm",
        description = "IT Business Management: portfolios, demand, budgets, the cost ledger and assets.\n\n\
            Every `/api` operation needs a bearer JWT. Money is a decimal string such as `\"1234.56\"`. \
            Errors are RFC 9457 problem+json.",
        license(name = "Apache-2.0")
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(Problem, crate::error::FieldError))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// All `/api/v1` routes with their OpenAPI description.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi()).nest(
        "/api/v1",
        OpenApiRouter::new()
            .merge(crate::portfolio::http::routes())
            .merge(crate::prioritisation::http::routes())
            .merge(crate::demand::http::routes())
            .merge(crate::finance::http::routes())
            .merge(crate::ledger::http::routes())
            .merge(crate::assets::http::routes())
            .merge(crate::audit::http::routes())
            .merge(crate::plugins::http::routes())
            .merge(crate::sync::http::routes())
            .merge(crate::costs::http::routes()),
    )
}

/// The OpenAPI document, as served at `/openapi.json` and committed at
/// `openapi/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

pub fn openapi_json() -> String {
    openapi().to_pretty_json().expect("the OpenAPI document serialises") + "\n"
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let (api_router, doc) = api().split_for_parts();
    let request_id = HeaderName::from_static("x-request-id");

    let api_router = api_router.layer(axum::middleware::from_fn_with_state(state.clone(), cache::serve_cached));

    Router::new()
        .merge(api_router)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(SwaggerUi::new("/docs").url("/openapi.json", doc))
        .merge(ui::routes(state.demo))
        .method_not_allowed_fallback(|| async {
            Problem::new(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", "this route does not allow that method")
        })
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY))
        .layer(CatchPanicLayer::custom(|_| {
            Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the server failed to handle this request")
                .into_response()
        }))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

/// Liveness: the process answers.
async fn healthz() -> impl IntoResponse {
    axum::Json(serde_json::json!({ "status": "ok" }))
}

/// Readiness: the database answers within a second and every migration is applied.
async fn readyz(State(state): State<AppState>) -> Response {
    let check = tokio::time::timeout(Duration::from_secs(1), state.db.migrations_current()).await;
    match check {
        Ok(Ok(true)) => axum::Json(serde_json::json!({ "status": "ready" })).into_response(),
        Ok(Ok(false)) => Problem::new(StatusCode::SERVICE_UNAVAILABLE, "not-ready", "migrations are pending: run `itbm migrate`").into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            Problem::new(StatusCode::SERVICE_UNAVAILABLE, "not-ready", "the database is unreachable").into_response()
        }
        Err(_) => Problem::new(StatusCode::SERVICE_UNAVAILABLE, "not-ready", "the database did not answer in time").into_response(),
    }
}

#[cfg(test)]
mod schema_names {
    use std::collections::BTreeMap;
    use std::path::Path;

    /// utoipa names a schema after its type (or its `#[schema(as = …)]`), and
    /// of two types with one name the document silently keeps one, so one
    /// operation would describe another's body. Every type that derives
    /// `ToSchema` must have a name of its own.
    #[test]
    fn every_schema_type_has_a_name_of_its_own() {
        let mut names: BTreeMap<String, Vec<String>> = BTreeMap::new();
        scan(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut names);
        let clashes: Vec<String> = names.iter().filter(|(_, at)| at.len() > 1).map(|(name, at)| format!("{name}: {}", at.join(", "))).collect();
        assert!(names.len() > 100, "the scan found the schema types");
        assert!(clashes.is_empty(), "schema names used twice (add #[schema(as = …)]):\n{}", clashes.join("\n"));
    }

    fn scan(dir: &Path, names: &mut BTreeMap<String, Vec<String>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                scan(&path, names);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let lines: Vec<&str> = text.lines().collect();
                for (i, line) in lines.iter().enumerate() {
                    let Some(name) = line.trim().strip_prefix("pub struct ").or_else(|| line.trim().strip_prefix("pub enum ")) else { continue };
                    let name: String = name.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    let attributes: Vec<&str> =
                        lines[..i].iter().rev().map(|l| l.trim()).take_while(|l| l.starts_with("#[") || l.starts_with("///")).collect();
                    if !attributes.iter().any(|a| a.contains("ToSchema")) {
                        continue;
                    }
                    let name = attributes
                        .iter()
                        .find_map(|a| a.split("schema(as = ").nth(1))
                        .map(|rest| rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect())
                        .unwrap_or(name);
                    names.entry(name).or_default().push(path.display().to_string());
                }
            }
        }
    }
}
