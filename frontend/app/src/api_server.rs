//! The API as the server render sees it: nowhere. A render reads only the
//! state the server loaded for the page; a query missing from it fails at
//! once (and the browser fetches it after hydration). Same functions as
//! `api.rs`, so the views compile unchanged.

use gloo_net::http::Method;
use querent::QueryError;
use serde::Serialize;
use serde_json::Value;

fn unavailable(path: &str) -> QueryError {
    QueryError::local(
        querent::ErrorKind::Unavailable,
        format!("{path} is not in the page's state; the browser loads it"),
    )
}

/// The API's origin: the page's own.
pub(crate) fn base() -> String {
    String::new()
}

/// `path` on the API.
pub(crate) fn url(path: &str) -> String {
    path.to_owned()
}

/// Fails at once: nothing is fetched during a render.
pub(crate) async fn get(
    path: &str,
    _ctx: &querent::options::FetchContext,
) -> Result<Value, QueryError> {
    Err(unavailable(path))
}

/// Fails at once: nothing is computed during a render (the server loads
/// what the page needs).
pub(crate) async fn computed(
    label: &str,
    _delay_ms: u32,
    _value: Value,
) -> Result<Value, QueryError> {
    Err(unavailable(label))
}

/// Fails at once: nothing is written during a render.
pub(crate) async fn send<T>(
    _method: Method,
    path: &str,
    _idempotency_key: &str,
    _body: Option<&impl Serialize>,
) -> Result<T, QueryError> {
    Err(unavailable(path))
}

/// Fails at once: nothing is sent during a render.
pub(crate) async fn call(
    _method: Method,
    path: &str,
    _idempotency_key: Option<&str>,
    _body: Option<Value>,
) -> Result<Value, QueryError> {
    Err(unavailable(path))
}

/// `body` as JSON, as in the browser.
pub(crate) fn json_body(body: Option<&impl Serialize>) -> Result<Option<Value>, QueryError> {
    body.map(serde_json::to_value)
        .transpose()
        .map_err(|e| QueryError::invalid("invalid_body", e.to_string()))
}

/// Nothing to tell: a render writes nothing.
pub(crate) fn set_client(_client: &querent::QueryClient) {}
