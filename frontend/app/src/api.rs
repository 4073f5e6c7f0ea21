//! HTTP calls to the backend's JSON API, with its errors mapped to
//! [`QueryError`] (status + the API's error code and message).

use gloo_net::http::{Method, Request, RequestBuilder, Response};
use querent::QueryError;
use serde::Serialize;
use serde_json::Value;
use shared::ErrorBody;

async fn into_result(response: Result<Response, gloo_net::Error>) -> Result<Value, QueryError> {
    let response = response.map_err(|e| QueryError::network(e.to_string()))?;
    let status = response.status();
    if status == 204 {
        return Ok(Value::Null);
    }
    let text = response
        .text()
        .await
        .map_err(|e| QueryError::network(e.to_string()))?;
    if (200..300).contains(&status) {
        return serde_json::from_str(&text)
            .map_err(|e| QueryError::http(status, "invalid_response", e.to_string()));
    }
    Err(match querent::json::parse::<ErrorBody>(&text) {
        Ok(body) => QueryError::http(status, body.error.code, body.error.message),
        Err(_) => QueryError::http(
            status,
            "http_error",
            format!("the server answered {status}"),
        ),
    })
}

/// `GET path`.
pub(crate) async fn get(path: &str) -> Result<Value, QueryError> {
    into_result(Request::get(path).send().await).await
}

/// A write with an idempotency key and an optional JSON body.
pub(crate) async fn write(
    method: Method,
    path: &str,
    idempotency_key: &str,
    body: Option<&impl Serialize>,
) -> Result<Value, QueryError> {
    let builder = RequestBuilder::new(path)
        .method(method)
        .header("Idempotency-Key", idempotency_key);
    let sent = match body {
        Some(body) => match builder.json(body) {
            Ok(request) => request.send().await,
            Err(e) => return Err(QueryError::http(400, "invalid_body", e.to_string())),
        },
        None => builder.send().await,
    };
    into_result(sent).await
}
