//! The error a fetcher or mutation function returns: what went wrong
//! ([`ErrorKind`]), the API's machine-readable code and a message for humans.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
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
/// `{"kind": "http", "status": 404, "code": …, "message": …}` (and
/// `retry_after_ms` when set). Records stored before `kind` existed read
/// back by their status (or as network failures). Written and read through
/// a [`Value`] by hand: records are written on every change in the
/// browser, and serde's derive would be code of its own in the download.
impl QueryError {
    pub(crate) fn to_json(&self) -> Value {
        let mut stored = serde_json::Map::new();
        stored.insert("kind".into(), self.kind.name().into());
        stored.insert("status".into(), self.status().into());
        stored.insert("code".into(), self.code.clone().into());
        stored.insert("message".into(), self.message.clone().into());
        if let Some(ms) = self.retry_after_ms {
            stored.insert("retry_after_ms".into(), ms.into());
        }
        Value::Object(stored)
    }

    pub(crate) fn from_json(value: &Value) -> Result<Self, String> {
        let status = match crate::json::field(value, "status") {
            None => None,
            Some(s) => Some(
                s.as_u64()
                    .and_then(|s| u16::try_from(s).ok())
                    .ok_or("an error's status is an HTTP status")?,
            ),
        };
        let text = |name: &str| {
            crate::json::field(value, name)
                .and_then(Value::as_str)
                .ok_or(format!("an error's {name} is a string"))
        };
        let (code, message) = (text("code")?, text("message")?);
        let kind = match crate::json::field(value, "kind") {
            None => code,
            Some(kind) => kind.as_str().ok_or("an error's kind is a string")?,
        };
        let retry_after_ms = match crate::json::field(value, "retry_after_ms") {
            None => None,
            Some(ms) => Some(ms.as_u64().ok_or("retry_after_ms is a number")?),
        };
        Ok(Self {
            kind: ErrorKind::from_name(kind, status),
            code: code.to_owned(),
            message: message.to_owned(),
            retry_after_ms,
        })
    }
}

impl Serialize for QueryError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl<'de> Deserialize<'de> for QueryError {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::from_json(&Value::deserialize(d)?).map_err(serde::de::Error::custom)
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
