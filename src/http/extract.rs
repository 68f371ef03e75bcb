//! Extractors whose every rejection is a problem+json naming what is wrong.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::AppState;
use crate::auth::Principal;
use crate::error::{Error, FieldError};

/// The authenticated caller. Every `/api` handler takes one, so no route can
/// forget authentication.
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let request_id = parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
        // The read cache verified this request's token already.
        if let Some(principal) = parts.extensions.remove::<Principal>() {
            return Ok(Caller(Principal { request_id, ..principal }));
        }
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| Error::Unauthorized("this endpoint needs an Authorization: Bearer token".into()))?;
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::Unauthorized("the Authorization header must be \"Bearer <token>\"".into()))?;
        let principal = state.auth.verify(token).await?;
        Ok(Caller(Principal { request_id, ..principal }))
    }
}

/// A JSON body. Syntax errors are 400s that say where; values of the wrong type
/// or shape are 422s with the JSON pointer of the member.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        let mime = media_type(req.headers());
        if !(mime == "application/json" || mime.ends_with("+json")) {
            return Err(wrong_media_type("JSON", "application/json"));
        }
        let bytes = read_body(req, state).await?;
        parse_json(&bytes).map(Json)
    }
}

/// The request's media type, lower-cased, without parameters such as `charset`.
fn media_type(headers: &HeaderMap) -> String {
    let value = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    value.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

fn wrong_media_type(what: &str, expected: &str) -> Error {
    Error::BadRequest {
        detail: format!("the body must be {what}, sent with Content-Type: {expected}"),
        errors: vec![FieldError::param("content-type", format!("expected {expected}"))],
    }
}

/// Reads a whole non-JSON body (a CSV file, a plugin package) that must be sent
/// as `expected`; `what` names it in the refusal.
pub async fn read_body_as<S: Send + Sync>(req: Request, state: &S, expected: &str, what: &str) -> Result<Bytes, Error> {
    if media_type(req.headers()) != expected {
        return Err(wrong_media_type(what, expected));
    }
    read_body(req, state).await
}

/// Reads a whole body, within the router's size limit (413 beyond it).
pub async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, Error> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            Error::PayloadTooLarge
        } else {
            Error::BadRequest { detail: format!("the body could not be read: {rejection}"), errors: vec![] }
        }
    })
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(value) => Ok(value),
        Err(err) => {
            let pointer = json_pointer(err.path());
            let inner = err.into_inner();
            let detail = strip_position(&inner.to_string());
            match inner.classify() {
                serde_json::error::Category::Data => Err(Error::Validation(vec![FieldError::at(pointer, detail)])),
                _ => Err(Error::BadRequest {
                    detail: format!("the body is not valid JSON: {inner}"),
                    errors: vec![FieldError::at(pointer, detail)],
                }),
            }
        }
    }
}

/// serde_path_to_error's path (`lines[3].amount`) as an RFC 6901 pointer.
fn json_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        pointer.push('/');
        match segment {
            Segment::Seq { index } => pointer.push_str(&index.to_string()),
            Segment::Map { key } => pointer.push_str(&key.replace('~', "~0").replace('/', "~1")),
            Segment::Enum { variant } => pointer.push_str(variant),
            Segment::Unknown => pointer.push('?'),
        }
    }
    pointer
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Query parameters. A value of the wrong type is a 400 naming the parameter.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        let raw = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(raw));
        serde_path_to_error::deserialize::<_, T>(de).map(Query).map_err(|err| {
            let parameter = err.path().to_string();
            let detail = err.into_inner().to_string();
            Error::BadRequest {
                detail: format!("query parameter {parameter}: {detail}"),
                errors: vec![FieldError::param(parameter, detail)],
            }
        })
    }
}

fn form_urlencoded_parse(raw: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(raw.as_bytes())
}

/// The version a client read, from `If-Match` (`"7"`, `W/"7"`; `*` matches any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfMatch {
    Absent,
    Any,
    Version(i64),
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        Ok(if_match(&parts.headers)?)
    }
}

fn if_match(headers: &HeaderMap) -> Result<IfMatch, Error> {
    let Some(value) = headers.get(header::IF_MATCH) else { return Ok(IfMatch::Absent) };
    let text = value.to_str().unwrap_or("").trim();
    if text == "*" {
        return Ok(IfMatch::Any);
    }
    let tag = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    tag.parse().map(IfMatch::Version).map_err(|_| Error::BadRequest {
        detail: "If-Match must be an ETag this server sent, such as \"3\"".into(),
        errors: vec![FieldError::param("if-match", "not an ETag of this server")],
    })
}

impl IfMatch {
    /// Checks the precondition against the stored `current` version. Where
    /// `required`, an absent header is refused with 428 so that no client
    /// overwrites a change it never saw.
    pub fn check(self, current: i64, required: bool) -> Result<(), Error> {
        match self {
            IfMatch::Absent if required => Err(Error::PreconditionRequired),
            IfMatch::Version(v) if v != current => Err(Error::PreconditionFailed { current: etag(current) }),
            _ => Ok(()),
        }
    }
}

pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// A JSON response carrying its resource's ETag.
pub struct Tagged<T>(pub i64, pub T);

impl<T: Serialize> IntoResponse for Tagged<T> {
    fn into_response(self) -> Response {
        let mut response = axum::Json(self.1).into_response();
        if let Ok(value) = HeaderValue::from_str(&etag(self.0)) {
            response.headers_mut().insert(header::ETAG, value);
        }
        response
    }
}

/// A created resource: 201, its ETag and its location.
pub struct Created<T>(pub String, pub i64, pub T);

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        let mut response = Tagged(self.1, self.2).into_response();
        *response.status_mut() = axum::http::StatusCode::CREATED;
        if let Ok(value) = HeaderValue::from_str(&self.0) {
            response.headers_mut().insert(header::LOCATION, value);
        }
        response
    }
}
