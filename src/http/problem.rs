//! RFC 9457 problem details: the one shape every error response takes.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{Error, FieldError};

pub const CONTENT_TYPE: &str = "application/problem+json";

/// An error, as RFC 9457 describes it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem, e.g. `urn:itbm:problem:validation`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Each field or parameter that is wrong, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &str, detail: impl Into<String>) -> Self {
        Problem {
            kind: format!("urn:itbm:problem:{kind}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        (status, [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))], body).into_response()
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let problem = match self {
            Error::Validation(errors) => {
                let detail = match errors.as_slice() {
                    [one] => format!("{}: {}", one.pointer.as_deref().or(one.parameter.as_deref()).unwrap_or(""), one.detail),
                    many => format!("{} fields are invalid", many.len()),
                };
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", detail).with_errors(errors)
            }
            Error::BadRequest { detail, errors } => {
                Problem::new(StatusCode::BAD_REQUEST, "bad-request", detail).with_errors(errors)
            }
            Error::Unauthorized(why) => {
                let mut response = Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", &why).into_response();
                let challenge = format!(
                    "Bearer realm=\"itbm\", error=\"invalid_token\", error_description=\"{}\"",
                    why.replace('"', "'")
                );
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_str(&challenge).unwrap_or(HeaderValue::from_static("Bearer realm=\"itbm\"")),
                );
                return response;
            }
            Error::PayloadTooLarge => Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", self.to_string()),
            Error::Forbidden(why) => Problem::new(StatusCode::FORBIDDEN, "forbidden", why),
            Error::PluginFailed(why) => Problem::new(StatusCode::BAD_GATEWAY, "plugin-failed", why),
            Error::NotFound { .. } => Problem::new(StatusCode::NOT_FOUND, "not-found", self.to_string()),
            Error::Conflict { kind, detail } => Problem::new(StatusCode::CONFLICT, kind.slug(), detail),
            Error::PreconditionRequired => {
                Problem::new(StatusCode::PRECONDITION_REQUIRED, "precondition-required", self.to_string())
            }
            Error::PreconditionFailed { .. } => {
                Problem::new(StatusCode::PRECONDITION_FAILED, "precondition-failed", self.to_string())
            }
            Error::Db(_) | Error::Internal(_) => {
                // The cause goes to the log (with the request id of the current
                // span), never to the client.
                tracing::error!(error = %self, "request failed");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the server failed to handle this request; the x-request-id header identifies it in the server's log",
                )
            }
        };
        problem.into_response()
    }
}
