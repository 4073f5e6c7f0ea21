//! The error a fetcher or mutation function returns.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a fetch failed. `status` is the HTTP status when there was a
/// response; `None` means the request never got one (network down, aborted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryError {
    /// HTTP status, if the server answered.
    pub status: Option<u16>,
    /// Machine-readable code (the API's `error.code`, or `network`).
    pub code: String,
    /// For humans.
    pub message: String,
    /// The server's `Retry-After` (in ms): it was busy and said when to come
    /// back. Queries wait that long instead of their backoff; mutations, which
    /// carry an idempotency key and so are safe to resend, retry after it a
    /// bounded number of times even when they do not retry server errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl QueryError {
    /// A failure with an HTTP status.
    ///
    /// ```
    /// let e = querent::QueryError::http(404, "not_found", "post not found");
    /// assert!(e.is_client_error());
    /// ```
    pub fn http(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status: Some(status),
            code: code.into(),
            message: message.into(),
            retry_after_ms: None,
        }
    }

    /// The same error, with the server's `Retry-After` (ms).
    ///
    /// ```
    /// let busy = querent::QueryError::http(503, "unavailable", "busy").with_retry_after(1000);
    /// assert_eq!(busy.retry_after_ms, Some(1000));
    /// ```
    #[must_use]
    pub fn with_retry_after(self, ms: u64) -> Self {
        Self {
            retry_after_ms: Some(ms),
            ..self
        }
    }

    /// A failure of the client itself (cancelled, undecodable data, nothing
    /// registered to fetch with): no HTTP status.
    pub fn local(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status: None,
            code: code.into(),
            message: message.into(),
            retry_after_ms: None,
        }
    }

    /// A failure without a response.
    pub fn network(message: impl Into<String>) -> Self {
        Self::local("network", message)
    }

    /// 4xx: retrying the same request will not help (except 408 and 429).
    pub fn is_client_error(&self) -> bool {
        matches!(self.status, Some(s) if (400..500).contains(&s) && s != 408 && s != 429)
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(s) => write!(f, "{} ({s}): {}", self.code, self.message),
            None => write!(f, "{}: {}", self.code, self.message),
        }
    }
}

impl std::error::Error for QueryError {}
