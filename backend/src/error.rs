//! The API's one error type. Every variant becomes the JSON error body with
//! a real status code; unexpected causes are logged with their whole chain
//! and answered with an opaque message.

use crate::domain::FieldErrors;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use shared::ErrorBody;
use std::fmt::Write as _;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("validation failed")]
    Validation(FieldErrors),
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    #[error("{message}")]
    TooManyRequests {
        code: &'static str,
        message: String,
        /// Seconds until a new attempt may succeed (`Retry-After`).
        retry_after_secs: u64,
    },
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("content type must be application/json")]
    UnsupportedMediaType,
    #[error("this path does not take that method (it takes {allow})")]
    MethodNotAllowed {
        /// The methods the path takes, for the `Allow` header.
        allow: &'static str,
    },
    #[error("the database is busy; try again")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("too many live event streams are open; try again later")]
    TooManyStreams,
    #[error("an unexpected error occurred")]
    Unexpected(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    pub fn unexpected(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        ApiError::Unexpected(Box::new(e))
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            message: message.into(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::NotFound(_) => "not_found",
            ApiError::Validation(_) => "validation_failed",
            ApiError::BadRequest { code, .. }
            | ApiError::Unprocessable { code, .. }
            | ApiError::Forbidden { code, .. }
            | ApiError::Unauthorized { code, .. }
            | ApiError::TooManyRequests { code, .. } => code,
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::TooManyStreams => "too_many_streams",
            ApiError::Unexpected(_) => "internal_error",
        }
    }

    pub fn body(&self) -> ErrorBody {
        let mut body = ErrorBody::new(self.code(), self.to_string());
        if let ApiError::Validation(fields) = self {
            body.error.fields = fields.clone();
            body.error.message = format!(
                "validation failed: {}",
                fields.keys().cloned().collect::<Vec<_>>().join(", ")
            );
        }
        body
    }
}

/// SQLite's answers when another connection holds the lock it needs.
const BUSY: [&str; 2] = ["database is locked", "database is busy"];

impl ApiError {
    /// The database was busy (SQLite's lock held elsewhere): nothing was
    /// applied, and the same request may succeed a moment later.
    pub fn is_busy(&self) -> bool {
        match self {
            ApiError::Unavailable(source) => matches!(
                source.downcast_ref::<diesel::result::Error>(),
                Some(diesel::result::Error::DatabaseError(_, info))
                    if BUSY.iter().any(|m| info.message().contains(m))
            ),
            _ => false,
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        // SQLite refuses a write at once while another connection (say,
        // another process) holds its write lock: the database is busy, not
        // broken, and the client may simply try again.
        use diesel::result::DatabaseErrorKind::{ClosedConnection, UnableToSendCommand};
        // The connection died under the request (the database restarted,
        // failed over, or dropped it): nothing was committed, and the pool
        // replaces the connection, so the client may try again too.
        if let diesel::result::Error::DatabaseError(ClosedConnection | UnableToSendCommand, _) = &e
        {
            return ApiError::Unavailable(Box::new(e));
        }
        if let diesel::result::Error::DatabaseError(_, info) = &e {
            let message = info.message();
            // SQLite cannot write the file: the disk is full, or the
            // filesystem went read-only. The transaction is rolled back;
            // reads go on, and writes work again once the disk does.
            const TRANSIENT: [&str; 5] = [
                BUSY[0],
                BUSY[1],
                "database or disk is full",
                "attempt to write a readonly database",
                "disk I/O error",
            ];
            if TRANSIENT.iter().any(|m| message.contains(m)) {
                return ApiError::Unavailable(Box::new(e));
            }
        }
        ApiError::unexpected(e)
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        ApiError::Unavailable(Box::new(e))
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::unexpected(e)
    }
}

/// `e: cause: cause…`, for logs.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let _ = write!(out, ": {cause}");
        source = cause.source();
    }
    out
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Validation(_) | ApiError::Unprocessable { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unavailable(_) | ApiError::TooManyStreams => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if matches!(self, ApiError::Unexpected(_) | ApiError::Unavailable(_)) {
            tracing::error!(error = %error_chain(self), "request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        if matches!(self, ApiError::Unavailable(_)) {
            response.insert_header((actix_web::http::header::RETRY_AFTER, "1"));
        }
        if matches!(self, ApiError::TooManyStreams) {
            response.insert_header((actix_web::http::header::RETRY_AFTER, "10"));
        }
        if let ApiError::TooManyRequests {
            retry_after_secs, ..
        } = self
        {
            response.insert_header((
                actix_web::http::header::RETRY_AFTER,
                retry_after_secs.to_string(),
            ));
        }
        if let ApiError::MethodNotAllowed { allow } = self {
            response.insert_header((actix_web::http::header::ALLOW, *allow));
        }
        response.json(self.body())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::{DatabaseErrorKind, Error};

    fn status(e: Error) -> StatusCode {
        ApiError::from(e).status_code()
    }

    #[test]
    fn a_dead_or_busy_database_is_503_and_the_rest_500() {
        let info = |m: &str| {
            Box::new(m.to_owned())
                as Box<dyn diesel::result::DatabaseErrorInformation + Send + Sync>
        };
        assert_eq!(
            status(Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection,
                info("server closed the connection")
            )),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            status(Error::DatabaseError(
                DatabaseErrorKind::UnableToSendCommand,
                info("no connection")
            )),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            status(Error::DatabaseError(
                DatabaseErrorKind::Unknown,
                info("database is locked")
            )),
            StatusCode::SERVICE_UNAVAILABLE
        );
        for full in [
            "database or disk is full",
            "attempt to write a readonly database",
        ] {
            assert_eq!(
                status(Error::DatabaseError(DatabaseErrorKind::Unknown, info(full))),
                StatusCode::SERVICE_UNAVAILABLE,
                "{full}"
            );
        }
        assert_eq!(
            status(Error::DatabaseError(
                DatabaseErrorKind::CheckViolation,
                info("check")
            )),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
