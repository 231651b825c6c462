//! The one table from library errors to gRPC status codes.
//!
//! Every handler returns `Result<_, Status>` built through these `From` impls, so a
//! given failure always reaches the client with the same code. Messages of
//! `InvalidArgument` start with the field path so that a client can point at the
//! offending value; `Internal` messages are logged and the client gets a generic text,
//! because they describe our bug, not its request.

use sortfleet_dispatch::app::AppError;
use tonic::{Code, Status};

use crate::convert::ConvertError;

/// Maps an application error to its status; see the table in `docs/grpc.md`.
pub fn app_status(e: AppError) -> Status {
    match e {
        AppError::InvalidArgument { field, msg } => {
            Status::invalid_argument(format!("{field}: {msg}"))
        }
        e @ AppError::NotFound { .. } => Status::not_found(e.to_string()),
        AppError::FailedPrecondition(m) => Status::failed_precondition(m),
        AppError::PermissionDenied(m) => Status::permission_denied(m),
        e @ AppError::Lagged { .. } => Status::aborted(e.to_string()),
        AppError::Unavailable(m) => Status::unavailable(m),
        AppError::Internal(m) => {
            tracing::error!(error = %m, "internal error");
            Status::internal("internal error (logged on the server)")
        }
    }
}

/// A request field that did not convert: `InvalidArgument` naming its path.
pub fn convert_status(e: ConvertError) -> Status {
    Status::invalid_argument(e.to_string())
}

/// Extension to turn library results into `Result<T, Status>` with `?`.
pub trait IntoStatus<T> {
    /// Applies the table.
    fn status(self) -> Result<T, Status>;
}

impl<T> IntoStatus<T> for Result<T, AppError> {
    fn status(self) -> Result<T, Status> {
        self.map_err(app_status)
    }
}

impl<T> IntoStatus<T> for Result<T, ConvertError> {
    fn status(self) -> Result<T, Status> {
        self.map_err(convert_status)
    }
}

/// An invalid field found by the transport itself (not by a conversion).
pub fn invalid(field: &str, msg: impl std::fmt::Display) -> Status {
    Status::new(Code::InvalidArgument, format!("{field}: {msg}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_app_error_has_its_code() {
        let cases = [
            (
                AppError::invalid("vehicles[2].capacity_kg", "must be positive"),
                Code::InvalidArgument,
            ),
            (AppError::not_found("vehicle", "T9"), Code::NotFound),
            (
                AppError::FailedPrecondition("no plan".into()),
                Code::FailedPrecondition,
            ),
            (
                AppError::PermissionDenied("no".into()),
                Code::PermissionDenied,
            ),
            (AppError::Lagged { last_seq: 4 }, Code::Aborted),
            (AppError::Unavailable("stopping".into()), Code::Unavailable),
            (AppError::Internal("disk on fire".into()), Code::Internal),
        ];
        for (e, code) in cases {
            assert_eq!(app_status(e.clone()).code(), code, "{e:?}");
        }
    }

    #[test]
    fn invalid_argument_names_the_field_and_internal_hides_details() {
        let s = app_status(AppError::invalid(
            "vehicles[2].capacity_kg",
            "must be positive",
        ));
        assert!(
            s.message().starts_with("vehicles[2].capacity_kg: "),
            "{}",
            s.message()
        );
        let s = app_status(AppError::Internal("secret path /var/x".into()));
        assert!(!s.message().contains("/var/x"));
        let s = app_status(AppError::not_found("plan", "p-1"));
        assert!(s.message().contains("p-1"));
    }
}
