//! The web UI: the single-page application built from `ui/` (see `ui/README.md`),
//! served at `/` from inside the binary, and the demo sign-in endpoint.
//!
//! `ui/dist` is committed, so a fresh clone's `cargo build` needs no Node.js;
//! `.ci/run` rebuilds it and fails when the committed copy differs.
//! [`rust_embed`] includes the files in release builds (one self-contained
//! binary) and reads them from disk in debug builds, so `npm run build` shows
//! up on the next reload without recompiling Rust.
//!
//! Routing: every API and operational route is matched first; this module only
//! sees what nothing else claimed. An unknown `/api/...` path stays a
//! problem+json 404, a file of the build is served as itself, and any other
//! path without a file extension gets `index.html`, so that the browser's
//! router can show `/projects/42` after a reload.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::extract::Json;
use super::problem::Problem;
use crate::auth::Role;
use crate::error::Error;

#[derive(RustEmbed)]
#[folder = "ui/dist/"]
struct Dist;

/// How long a demo token lives: a working day.
const DEMO_TOKEN_HOURS: u64 = 8;

/// The UI's routes. With `demo`, also `GET|POST /api/v1/demo/tokens`; without
/// it those paths do not exist (404), so no server outside a demo hands out
/// tokens to anyone who asks.
pub fn routes(demo: bool) -> Router<AppState> {
    let router = Router::new().fallback(serve);
    if demo { router.route("/api/v1/demo/tokens", get(demo_roles).post(demo_token)) } else { router }
}

/// A file of the build, `index.html` for a client-side route, or a 404.
async fn serve(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    let is_api = path == "/api" || path.starts_with("/api/");
    if is_api || !(method == Method::GET || method == Method::HEAD) {
        return not_found();
    }
    let name = path.trim_start_matches('/');
    if let Some(file) = Dist::get(name) {
        return file_response(name, file, &headers);
    }
    let last_segment = name.rsplit('/').next().unwrap_or_default();
    if last_segment.contains('.') {
        // A missing script or image must not be answered with HTML.
        return not_found();
    }
    match Dist::get("index.html") {
        Some(index) => file_response("index.html", index, &headers),
        None => Problem::new(StatusCode::NOT_FOUND, "not-found", "this build of itbm has no web UI (ui/dist was empty)")
            .into_response(),
    }
}

fn not_found() -> Response {
    Problem::new(StatusCode::NOT_FOUND, "not-found", "no such route").into_response()
}

/// Serves one embedded file with its type and an ETag. Vite puts a content
/// hash in every name under `assets/`, so those may be cached for good; the
/// rest (`index.html` above all) is revalidated on each load.
fn file_response(name: &str, file: rust_embed::EmbeddedFile, request: &HeaderMap) -> Response {
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..16]));
    let cache = if name.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
    let mut headers = HeaderMap::new();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    let not_modified = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag));
    if not_modified {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    if let Ok(value) = HeaderValue::from_str(file.metadata.mimetype()) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if name == "index.html" {
        // The build has no inline scripts; React sets styles through the DOM.
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                 object-src 'none'; base-uri 'self'; frame-ancestors 'none'",
            ),
        );
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    }
    (headers, file.data).into_response()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

const ROLES: [Role; 4] = [Role::PortfolioManager, Role::Finance, Role::Viewer, Role::Admin];

/// What the demo sign-in offers.
#[derive(Debug, Serialize)]
struct DemoRoles {
    roles: [Role; 4],
}

/// `GET /api/v1/demo/tokens`: the roles a demo token may be asked for. Its
/// presence tells the sign-in page that this server runs with `--demo`.
async fn demo_roles() -> axum::Json<DemoRoles> {
    axum::Json(DemoRoles { roles: ROLES })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoTokenRequest {
    role: Role,
}

#[derive(Debug, Serialize)]
struct DemoToken {
    token: String,
    role: Role,
    sub: String,
    expires_in: u64,
}

/// `POST /api/v1/demo/tokens {"role": "finance"}`: a local token for the demo
/// user of that role, as `itbm token` would print it.
async fn demo_token(State(state): State<AppState>, Json(request): Json<DemoTokenRequest>) -> Result<Response, Error> {
    let sub = format!("demo-{}", request.role.as_str().replace('_', "-"));
    let expires_in = DEMO_TOKEN_HOURS * 3600;
    let token = state.auth.issue(&sub, request.role, expires_in)?;
    tracing::info!(sub = %sub, "issued a demo token");
    Ok((StatusCode::CREATED, axum::Json(DemoToken { token, role: request.role, sub, expires_in })).into_response())
}
