//! A cache of `GET /api` answers, for the pages people and dashboards read
//! over and over (project lists, budget grids) between changes.
//!
//! An answer is reused only while the database's write generation is the one
//! it was read under ([`Db::write_generation`](crate::db::Db::write_generation)):
//! any committed write empties the cache. That generation counts the writes
//! of this process, so the cache is on only for SQLite, whose file one server
//! owns. With PostgreSQL, where several replicas write, it stays off.
//!
//! Answers depend on the caller only through their roles (a viewer may not
//! read what finance may), so the key is the roles and the URI; the token is
//! verified before any lookup, and the verified principal is handed on to the
//! handler so it is not verified twice.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::Body as _;

use super::AppState;
use crate::db::Backend;

/// Answers larger than this are not kept.
const MAX_BODY: u64 = 512 * 1024;
/// Beyond this many answers the cache starts afresh.
const MAX_ENTRIES: usize = 2048;

pub struct ReadCache {
    enabled: bool,
    state: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    generation: u64,
    answers: HashMap<String, Cached>,
}

#[derive(Clone)]
struct Cached {
    content_type: Option<HeaderValue>,
    etag: Option<HeaderValue>,
    body: Bytes,
}

impl ReadCache {
    pub fn for_backend(backend: Backend) -> Self {
        ReadCache { enabled: backend == Backend::Sqlite, state: Mutex::new(Entries::default()) }
    }

    fn get(&self, key: &str, generation: u64) -> Option<Cached> {
        let entries = self.state.lock().ok()?;
        if entries.generation != generation {
            return None;
        }
        entries.answers.get(key).cloned()
    }

    fn put(&self, key: String, generation: u64, answer: Cached) {
        let Ok(mut entries) = self.state.lock() else { return };
        if entries.generation != generation || entries.answers.len() >= MAX_ENTRIES {
            entries.answers.clear();
            entries.generation = generation;
        }
        entries.answers.insert(key, answer);
    }
}

impl IntoResponse for Cached {
    fn into_response(self) -> Response {
        let mut response = (StatusCode::OK, self.body).into_response();
        let headers = response.headers_mut();
        if let Some(ct) = self.content_type {
            headers.insert(header::CONTENT_TYPE, ct);
        }
        if let Some(etag) = self.etag {
            headers.insert(header::ETAG, etag);
        }
        response
    }
}

/// Middleware over the `/api` routes.
pub async fn serve_cached(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if !state.cache.enabled || req.method() != Method::GET {
        return next.run(req).await;
    }
    let Some(token) = bearer(&req) else { return next.run(req).await };
    // An invalid token goes on to the handler, which answers with the 401.
    let Ok(principal) = state.auth.verify(&token).await else { return next.run(req).await };
    let mut roles: Vec<&str> = principal.roles.iter().map(|r| r.as_str()).collect();
    roles.sort_unstable();
    let key = format!("{}|{}", roles.join(","), req.uri());
    let generation = state.db.write_generation();
    if let Some(answer) = state.cache.get(&key, generation) {
        return answer.into_response();
    }
    req.extensions_mut().insert(principal);
    let response = next.run(req).await;
    if response.status() != StatusCode::OK || response.body().size_hint().exact().is_none_or(|n| n > MAX_BODY) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY as usize).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "the answer could not be read").into_response();
    };
    let answer = Cached {
        content_type: parts.headers.get(header::CONTENT_TYPE).cloned(),
        etag: parts.headers.get(header::ETAG).cloned(),
        body: bytes.clone(),
    };
    state.cache.put(key, generation, answer);
    Response::from_parts(parts, Body::from(bytes))
}

fn bearer(req: &Request) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")).map(|t| t.trim().to_owned())
}
