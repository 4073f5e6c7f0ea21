//! HTTP calls to the backend's JSON API, with its errors mapped to
//! [`QueryError`] (status + the API's error code and message).
//!
//! Where the API is: the page's `<meta name="api-base" content="https://…">`
//! (a static deployment sets it in its copy of `index.html`, no rebuild), else
//! `API_BASE` at build time, else the page's own origin (the backend serves
//! the pages: nothing to set). Every request, the event stream and the
//! WebSocket go there.

use gloo_net::http::{Method, Request, RequestBuilder, Response};
use querent::QueryError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use shared::ErrorBody;

async fn into_result(response: Result<Response, gloo_net::Error>) -> Result<Value, QueryError> {
    let response = response.map_err(|e| {
        explain_network_failure(&e);
        QueryError::network(e.to_string())
    })?;
    let status = response.status();
    let retry_after = retry_after_ms(&response);
    if status == 204 {
        return Ok(Value::Null);
    }
    let text = response
        .text()
        .await
        .map_err(|e| QueryError::network(e.to_string()))?;
    if (200..300).contains(&status) {
        return serde_json::from_str(&text)
            .map_err(|e| QueryError::decode(format!("invalid response ({status}): {e}")));
    }
    let error = match querent::json::parse::<ErrorBody>(&text) {
        Ok(body) => QueryError::http(status, body.error.code, body.error.message),
        Err(_) => QueryError::http(
            status,
            "http_error",
            format!("the server answered {status}"),
        ),
    };
    Err(match retry_after {
        Some(ms) => error.with_retry_after(ms),
        None => error,
    })
}

/// `Retry-After` in delay-seconds (the form this backend sends; an HTTP
/// date is ignored and the usual backoff applies), in ms.
fn retry_after_ms(response: &Response) -> Option<u64> {
    let value = response.headers().get("retry-after")?;
    value
        .trim()
        .parse::<u64>()
        .ok()
        .map(|s| s.saturating_mul(1000))
}

thread_local! {
    static BASE: String = read_base();
}

fn read_base() -> String {
    let from_page = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("meta[name='api-base']").ok().flatten())
        .and_then(|m| m.get_attribute("content"));
    let base = from_page
        .or_else(|| option_env!("API_BASE").map(str::to_owned))
        .unwrap_or_default();
    base.trim().trim_end_matches('/').to_owned()
}

/// The API's origin (`https://api.example.com`), or empty for the page's own.
pub(crate) fn base() -> String {
    BASE.with(Clone::clone)
}

/// `path` (`/api/…`) on the API.
pub(crate) fn url(path: &str) -> String {
    BASE.with(|base| format!("{base}{path}"))
}

/// Says once, in the console, why the API cannot be reached when that is
/// likely a deployment mistake rather than a network outage.
fn explain_network_failure(error: &gloo_net::Error) {
    thread_local! {
        static SAID: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    let online = web_sys::window().is_some_and(|w| w.navigator().on_line());
    if !online || SAID.with(|s| s.replace(true)) {
        return;
    }
    let base = base();
    let message = if base.is_empty() {
        format!("cannot reach the API on this page's origin ({error})")
    } else {
        format!(
            "cannot reach the API at {base} ({error}): check the page's <meta name=\"api-base\">, \
             and that the backend lists this page's origin in CORS_ORIGINS"
        )
    };
    web_sys::console::error_1(&message.into());
}

/// The last answer to each GET with its `ETag`, so a refetch can ask
/// "has it changed?" (`If-None-Match`) and take `304 Not Modified` for "no".
struct Validated {
    etag: String,
    data: Value,
    bytes: u64,
}

/// Enough for every read the app makes; beyond it the memory starts again.
const MAX_VALIDATED: usize = 256;

thread_local! {
    /// By URL (a list: as fast as a hash map at this size, and smaller in
    /// the wasm).
    static VALIDATED: std::cell::RefCell<Vec<(String, Validated)>> =
        std::cell::RefCell::default();
}

fn validated<R>(url: &str, read: impl FnOnce(&Validated) -> R) -> Option<R> {
    VALIDATED.with(|v| {
        v.borrow()
            .iter()
            .find(|(u, _)| u == url)
            .map(|(_, k)| read(k))
    })
}

/// `GET path`, conditional when an earlier answer had an `ETag`: a `304`
/// returns that answer's data again (equal, so the cache keeps its value
/// and nothing re-renders) and tells the engine the bytes it saved. The
/// browser's HTTP cache stays out of it (`no-store`): the engine is the
/// cache.
pub(crate) async fn get(
    path: &str,
    ctx: &querent::options::FetchContext,
) -> Result<Value, QueryError> {
    let url = url(path);
    let known = validated(&url, |k| k.etag.clone());
    // A cancelled fetch (a refetch replacing it, the last observer
    // leaving) stops the request too, not only the engine's wait for it.
    let signal = ctx.signal().web();
    let mut request = Request::get(&url)
        .cache(web_sys::RequestCache::NoStore)
        .credentials(web_sys::RequestCredentials::Include)
        .abort_signal(signal.as_ref());
    if let Some(etag) = &known {
        request = request.header("If-None-Match", etag);
    }
    let response = request.send().await;
    if let Ok(r) = &response
        && r.status() == 304
        && let Some((data, bytes)) = validated(&url, |k| (k.data.clone(), k.bytes))
    {
        ctx.not_modified(bytes);
        return Ok(data);
    }
    let etag = response.as_ref().ok().and_then(|r| r.headers().get("etag"));
    let length = response
        .as_ref()
        .ok()
        .and_then(|r| r.headers().get("content-length"))
        .and_then(|l| l.parse().ok());
    let result = into_result(response).await;
    match (&result, etag) {
        (Ok(data), Some(etag)) => VALIDATED.with(|v| {
            let mut v = v.borrow_mut();
            if v.len() >= MAX_VALIDATED {
                v.clear();
            }
            let bytes = length.unwrap_or_else(|| data.to_string().len() as u64);
            v.retain(|(u, _)| *u != url);
            let validated = Validated {
                etag,
                data: data.clone(),
                bytes,
            };
            v.push((url, validated));
        }),
        _ => VALIDATED.with(|v| v.borrow_mut().retain(|(u, _)| *u != url)),
    }
    result
}

/// `value`, computed here, after `delay_ms`: data no API holds (the
/// transition demos, whose delay makes their transition observable, as in
/// TanStack's e2e routes).
pub(crate) async fn computed(
    _label: &str,
    delay_ms: u32,
    value: Value,
) -> Result<Value, QueryError> {
    gloo_timers::future::TimeoutFuture::new(delay_ms).await;
    Ok(value)
}

/// A write with an idempotency key and an optional JSON body; the answer
/// decoded as a `T` (`()` for an empty one). Only the encoding and the
/// decoding are per type: the request itself is one copy for every write.
pub(crate) async fn send<T: DeserializeOwned>(
    method: Method,
    path: &str,
    idempotency_key: &str,
    body: Option<&impl Serialize>,
) -> Result<T, QueryError> {
    let answer = write(method, path, idempotency_key, json_body(body)?).await?;
    querent::json::decode(&answer)
        .map_err(|e| QueryError::decode(format!("unexpected answer to {path}: {e}")))
}

/// `body` as JSON; one that does not encode is refused, and nothing is sent.
pub(crate) fn json_body(body: Option<&impl Serialize>) -> Result<Option<Value>, QueryError> {
    body.map(serde_json::to_value)
        .transpose()
        .map_err(|e| QueryError::invalid("invalid_body", e.to_string()))
}

/// A write of the app's mutations. When the server says the session has
/// ended (401), the write is neither failed nor sent as anyone else: the
/// viewer is signed out (`session::ended`, the page changes hands) and the
/// write waits, still unconfirmed in its person's queue, to be sent again
/// (same idempotency key, so applied once) when they sign in again.
async fn write(
    method: Method,
    path: &str,
    idempotency_key: &str,
    body: Option<Value>,
) -> Result<Value, QueryError> {
    let result = call(method, path, Some(idempotency_key), body).await;
    if let Err(e) = &result
        && e.status() == Some(401)
        && matches!(e.code.as_str(), "session_expired" | "unauthenticated")
        && let Some(client) = CLIENT.with(|c| c.borrow().clone())
    {
        crate::session::ended(&client);
        std::future::pending::<()>().await;
    }
    result
}

thread_local! {
    /// The page's query client, for what a write learns about the session.
    static CLIENT: std::cell::RefCell<Option<querent::QueryClient>> =
        const { std::cell::RefCell::new(None) };
}

/// Tells the API layer the page's client.
pub(crate) fn set_client(client: &querent::QueryClient) {
    CLIENT.with(|c| *c.borrow_mut() = Some(client.clone()));
}

/// A request to the API with an optional idempotency key and JSON body,
/// the session cookie included (also where the API is on another origin).
pub(crate) async fn call(
    method: Method,
    path: &str,
    idempotency_key: Option<&str>,
    body: Option<Value>,
) -> Result<Value, QueryError> {
    let mut builder = RequestBuilder::new(&url(path))
        .method(method)
        .credentials(web_sys::RequestCredentials::Include);
    if let Some(key) = idempotency_key {
        builder = builder.header("Idempotency-Key", key);
    }
    let sent = match body {
        Some(body) => match builder
            .header("Content-Type", "application/json")
            .body(body.to_string())
        {
            Ok(request) => request.send().await,
            Err(e) => return Err(QueryError::invalid("invalid_body", e.to_string())),
        },
        None => builder.send().await,
    };
    into_result(sent).await
}
