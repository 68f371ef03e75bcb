//! The domain layer's error. Handlers return it; `http::problem` turns it into
//! RFC 9457 problem+json once, at the edge.

use serde::Serialize;
use utoipa::ToSchema;

use crate::db::DbError;

/// One thing wrong with a request, located by a JSON pointer into the body or by
/// the name of a query parameter or header.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON pointer (RFC 6901) to the offending body member, e.g. `/lines/3/amount`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// Name of the offending query parameter or header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// What is wrong, in words.
    pub detail: String,
}

impl FieldError {
    pub fn at(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        FieldError { pointer: Some(pointer.into()), parameter: None, detail: detail.into() }
    }

    pub fn param(name: impl Into<String>, detail: impl Into<String>) -> Self {
        FieldError { pointer: None, parameter: Some(name.into()), detail: detail.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is well-formed but its content is invalid (422).
    #[error("the request is invalid")]
    Validation(Vec<FieldError>),
    /// The body or a parameter could not be read at all (400).
    #[error("{detail}")]
    BadRequest { detail: String, errors: Vec<FieldError> },
    /// No valid credentials (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Valid credentials whose role may not do this (403).
    #[error("{0}")]
    Forbidden(String),
    #[error("{entity} {id} does not exist")]
    NotFound { entity: &'static str, id: String },
    /// The change conflicts with the current state: a duplicate key, an illegal
    /// lifecycle transition, a locked budget (409).
    #[error("{detail}")]
    Conflict { kind: ConflictKind, detail: String },
    /// The body exceeds the size limit of its route (413).
    #[error("the body is larger than this endpoint accepts")]
    PayloadTooLarge,
    /// The update needs `If-Match` (428).
    #[error("this update needs an If-Match header with the resource's current ETag")]
    PreconditionRequired,
    /// `If-Match` names an older version (412).
    #[error("the resource was changed by someone else since you read it (current ETag {current}): reload it and apply your change again")]
    PreconditionFailed { current: String },
    /// A plugin called to answer the request failed: it crashed, ran out of
    /// time or memory, or answered nonsense (502). The invocation log has it.
    #[error("{0}")]
    PluginFailed(String),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Why a change conflicts, so clients can tell the cases apart by problem type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictKind {
    Duplicate,
    InvalidTransition,
    Locked,
    InUse,
}

impl ConflictKind {
    pub fn slug(self) -> &'static str {
        match self {
            ConflictKind::Duplicate => "duplicate",
            ConflictKind::InvalidTransition => "invalid-transition",
            ConflictKind::Locked => "locked",
            ConflictKind::InUse => "in-use",
        }
    }
}

impl Error {
    pub fn not_found(entity: &'static str, id: impl Into<String>) -> Self {
        Error::NotFound { entity, id: id.into() }
    }

    pub fn invalid(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Error::Validation(vec![FieldError::at(pointer, detail)])
    }

    pub fn conflict(kind: ConflictKind, detail: impl Into<String>) -> Self {
        Error::Conflict { kind, detail: detail.into() }
    }

    /// A conditional update found the row changed since it was read.
    pub fn stale() -> Self {
        Error::PreconditionFailed { current: "newer".into() }
    }

    /// Checks that a conditional `UPDATE … WHERE version = $n` hit its row.
    pub fn ensure_updated(rows: u64) -> Result<()> {
        if rows == 0 { Err(Error::stale()) } else { Ok(()) }
    }

    /// Maps a failed delete: a row other rows still refer to is a 409 saying
    /// what uses it.
    pub fn from_delete(err: DbError, in_use: &str) -> Self {
        if err.is_foreign_key_violation() { Error::conflict(ConflictKind::InUse, in_use) } else { Error::Db(err) }
    }

    /// Maps a failed write to what the client did wrong, when it was the client:
    /// a duplicate key is a 409 naming what is taken; a reference to a missing
    /// row is a 422 at `pointer`.
    pub fn from_write(err: DbError, duplicate: &str, reference_pointer: &str) -> Self {
        if err.unique_violation().is_some() {
            Error::conflict(ConflictKind::Duplicate, duplicate)
        } else if err.is_foreign_key_violation() {
            Error::invalid(reference_pointer, "refers to something that does not exist")
        } else {
            Error::Db(err)
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
