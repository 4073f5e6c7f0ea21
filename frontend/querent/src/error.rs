//! The error a fetcher or mutation function returns: what went wrong
//! ([`ErrorKind`]), the API's machine-readable code and a message for humans.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// What went wrong. Retry predicates and views match on this, not on codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The server answered with this error status; `code` and `message` are
    /// its error body's.
    Http(u16),
    /// No answer: offline, refused, reset or aborted.
    Network,
    /// An answer came, but not the data expected.
    Decode,
    /// Nothing was sent: the input could not be encoded (or a stored
    /// mutation's variables no longer decode).
    Invalid,
    /// Cancelled on the client (`cancel_queries`, a removed mutation).
    Cancelled,
    /// The query was written while it was fetched, and nobody observes it
    /// to fetch it again.
    Superseded,
    /// Nothing is registered to fetch or mutate with.
    Unregistered,
    /// The data cannot be had here (a server render reads only the page's
    /// state; the browser fetches the rest).
    Unavailable,
}

impl ErrorKind {
    /// The name it is stored under (persisted records, devtools).
    fn name(self) -> &'static str {
        match self {
            ErrorKind::Http(_) => "http",
            ErrorKind::Network => "network",
            ErrorKind::Decode => "decode",
            ErrorKind::Invalid => "invalid",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Superseded => "superseded",
            ErrorKind::Unregistered => "unregistered",
            ErrorKind::Unavailable => "unavailable",
        }
    }

    fn from_name(name: &str, status: Option<u16>) -> Self {
        match (status, name) {
            (Some(s), _) => ErrorKind::Http(s),
            (None, "decode") => ErrorKind::Decode,
            (None, "invalid") => ErrorKind::Invalid,
            (None, "cancelled") => ErrorKind::Cancelled,
            (None, "superseded") => ErrorKind::Superseded,
            (None, "unregistered") => ErrorKind::Unregistered,
            (None, "unavailable") => ErrorKind::Unavailable,
            (None, _) => ErrorKind::Network,
        }
    }
}

/// Why a fetch or a mutation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// Machine-readable code: the API's `error.code`, or the kind's name.
    pub code: String,
    /// For humans.
    pub message: String,
    /// The server's `Retry-After` (in ms): it was busy and said when to come
    /// back. Queries wait that long instead of their backoff; mutations, which
    /// carry an idempotency key and so are safe to resend, retry after it a
    /// bounded number of times even when they do not retry server errors.
    pub retry_after_ms: Option<u64>,
}

impl QueryError {
    fn new(kind: ErrorKind, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind,
            code: code.into(),
            message: message.into(),
            retry_after_ms: None,
        }
    }

    /// The server answered `status` with this error body.
    ///
    /// ```
    /// use querent::{ErrorKind, QueryError};
    /// let e = QueryError::http(404, "not_found", "post not found");
    /// assert_eq!(e.kind, ErrorKind::Http(404));
    /// assert_eq!(e.status(), Some(404));
    /// assert!(e.is_client_error());
    /// ```
    pub fn http(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Http(status), code, message)
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

    /// No answer came.
    pub fn network(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Network, "network", message)
    }

    /// An answer came that is not the data expected.
    pub fn decode(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Decode, "decode", message)
    }

    /// Nothing was sent: the input could not be encoded.
    pub fn invalid(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, code, message)
    }

    /// A failure of the client itself, of `kind` (not [`ErrorKind::Http`]),
    /// with the kind's name as its code.
    pub fn local(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self::new(kind, kind.name(), message)
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self.kind {
            ErrorKind::Http(status) => Some(status),
            _ => None,
        }
    }

    /// 4xx: retrying the same request will not help (except 408 and 429).
    pub fn is_client_error(&self) -> bool {
        matches!(self.status(), Some(s) if (400..500).contains(&s) && s != 408 && s != 429)
    }

    /// Whether the same request may succeed if tried again: no answer, or a
    /// server error (5xx, 408, 429). The default retry rule.
    ///
    /// ```
    /// use querent::{ErrorKind, QueryError};
    /// assert!(QueryError::network("reset").is_retryable());
    /// assert!(QueryError::http(503, "unavailable", "busy").is_retryable());
    /// assert!(!QueryError::http(422, "validation_failed", "no").is_retryable());
    /// assert!(!QueryError::decode("not a post").is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        match self.kind {
            ErrorKind::Network => true,
            ErrorKind::Http(_) => !self.is_client_error(),
            _ => false,
        }
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status() {
            Some(s) => write!(f, "{} ({s}): {}", self.code, self.message),
            None => write!(f, "{}: {}", self.code, self.message),
        }
    }
}

impl std::error::Error for QueryError {}

/// How an error is stored (persisted mutations and queries, devtools):
/// `{"kind": "http", "status": 404, "code": …, "message": …}`. Records
/// stored before `kind` existed read back by their status (or as network
/// failures).
#[derive(Serialize, Deserialize)]
struct Stored {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    status: Option<u16>,
    code: String,
    message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after_ms: Option<u64>,
}

impl Serialize for QueryError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Stored {
            kind: Some(self.kind.name().to_owned()),
            status: self.status(),
            code: self.code.clone(),
            message: self.message.clone(),
            retry_after_ms: self.retry_after_ms,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for QueryError {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let stored = Stored::deserialize(d)?;
        let name = stored.kind.as_deref().unwrap_or(&stored.code);
        Ok(Self {
            kind: ErrorKind::from_name(name, stored.status),
            code: stored.code,
            message: stored.message,
            retry_after_ms: stored.retry_after_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{ErrorKind, QueryError};

    #[test]
    fn every_kind_is_stored_and_read_back_as_itself() {
        for e in [
            QueryError::http(503, "unavailable", "busy").with_retry_after(1000),
            QueryError::network("reset"),
            QueryError::decode("not a post"),
            QueryError::invalid("invalid_body", "NaN"),
            QueryError::local(ErrorKind::Cancelled, "cancelled"),
            QueryError::local(ErrorKind::Superseded, "written"),
            QueryError::local(ErrorKind::Unregistered, "no fetcher"),
            QueryError::local(ErrorKind::Unavailable, "not in the page"),
        ] {
            let text = serde_json::to_string(&e).unwrap();
            assert_eq!(
                serde_json::from_str::<QueryError>(&text).unwrap(),
                e,
                "{text}"
            );
        }
    }

    #[test]
    fn records_stored_before_kinds_read_back_by_their_status() {
        let old = r#"{"status":404,"code":"not_found","message":"gone"}"#;
        let e: QueryError = serde_json::from_str(old).unwrap();
        assert_eq!(e.kind, ErrorKind::Http(404));
        let old = r#"{"status":null,"code":"network","message":"reset"}"#;
        let e: QueryError = serde_json::from_str(old).unwrap();
        assert_eq!(e.kind, ErrorKind::Network);
        let old = r#"{"status":null,"code":"cancelled","message":"stop"}"#;
        let e: QueryError = serde_json::from_str(old).unwrap();
        assert_eq!(e.kind, ErrorKind::Cancelled);
    }
}
