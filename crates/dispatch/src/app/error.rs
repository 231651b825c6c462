//! The one error type of the application core. Each variant maps to exactly one gRPC
//! status code (the table lives in the server crate), so the variants are chosen by
//! what the *caller* must do, not by where the error came from.

use sortfleet_ledger::LedgerError;

/// Everything the application core reports to its callers.
///
/// Suggested transport mapping: `InvalidArgument` → `INVALID_ARGUMENT`, `NotFound` →
/// `NOT_FOUND`, `FailedPrecondition` → `FAILED_PRECONDITION`, `PermissionDenied` →
/// `PERMISSION_DENIED`, `Lagged` → `ABORTED` (resume with `after_seq`), `Unavailable`
/// → `UNAVAILABLE`, `Internal` → `INTERNAL`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    /// The request is malformed; `field` is the path of the offending value
    /// (e.g. `vehicles[2].capacity_kg`). Nothing was changed.
    #[error("invalid {field}: {msg}")]
    InvalidArgument {
        /// Path of the offending field.
        field: String,
        /// What is wrong with it.
        msg: String,
    },
    /// A referenced entity does not exist.
    #[error("{what} `{id}` not found")]
    NotFound {
        /// Kind of entity (`vehicle`, `plan`, `job`, `incident`...).
        what: &'static str,
        /// The id that was asked for.
        id: String,
    },
    /// The request is valid but the system is not in a state to carry it out
    /// (e.g. re-planning a day that has no published plan, no road network loaded).
    #[error("failed precondition: {0}")]
    FailedPrecondition(String),
    /// The caller may not do this (e.g. a terminal reporting for another vehicle).
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// A subscriber fell too far behind and was disconnected so that it cannot slow
    /// anyone else down; it must resubscribe with the last seq it applied.
    #[error("subscriber too slow, disconnected after seq {last_seq}; resubscribe with after_seq")]
    Lagged {
        /// Last seq delivered on the dropped stream.
        last_seq: u64,
    },
    /// The service is shutting down or its writer stopped.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A bug or a storage failure; the message is for the operator's log.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// Shorthand for [`AppError::InvalidArgument`].
    pub fn invalid(field: impl Into<String>, msg: impl Into<String>) -> Self {
        AppError::InvalidArgument {
            field: field.into(),
            msg: msg.into(),
        }
    }

    /// Shorthand for [`AppError::NotFound`].
    pub fn not_found(what: &'static str, id: impl Into<String>) -> Self {
        AppError::NotFound {
            what,
            id: id.into(),
        }
    }
}

impl From<LedgerError> for AppError {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::InvalidInput { field, reason } => AppError::invalid(field, reason),
            LedgerError::SchemaTooNew { .. }
            | LedgerError::SchemaTooOld { .. }
            | LedgerError::NotAStore => AppError::FailedPrecondition(e.to_string()),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<serde_json::Error> for AppError {
    fn from(e: serde_json::Error) -> Self {
        AppError::Internal(format!("json: {e}"))
    }
}

/// Result alias of the application core.
pub type AppResult<T> = Result<T, AppError>;
