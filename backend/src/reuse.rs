//! Reused API answers and conditional requests.
//!
//! A cacheable `GET /api/…` (every read but `/api/deferred`, the event
//! streams and `/api/session`, which depends on the viewer) is answered once per data version: its status, JSON and brotli
//! form are kept under the request's path and query, and served as they are
//! until the data may have changed: the rule the page cache uses (a write
//! committed on this instance, or an event from any instance; see
//! `EventHub::data_version`), so a client always reads its own writes and no
//! instance serves data older than one event round trip.
//!
//! Every such answer carries a strong `ETag` (a hash of the JSON itself, so
//! a write to post 7 leaves `/api/posts/3`'s tag as it was) and
//! `Cache-Control: no-cache`; a request whose `If-None-Match` names it gets
//! `304 Not Modified` with no body. The tag names the JSON whatever the
//! content coding (caches key the coding on `Vary: accept-encoding`).

use crate::pages::brotli_bytes;
use crate::state::AppState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Enough for every read of the demo's data several times over; beyond it
/// the cache starts again (each entry is one answer, a few KB).
const MAX_ENTRIES: usize = 4096;

/// One kept answer.
pub struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    brotli: Option<Bytes>,
    etag: String,
    version: (u64, i64),
}

/// Kept answers by path and query.
#[derive(Default)]
pub struct AnswerCache {
    answers: Mutex<HashMap<String, Arc<Answer>>>,
}

impl AnswerCache {
    fn get(&self, key: &str, version: (u64, i64)) -> Option<Arc<Answer>> {
        let answers = self.answers.lock().unwrap_or_else(|p| p.into_inner());
        answers.get(key).filter(|a| a.version == version).cloned()
    }

    fn put(&self, key: String, answer: Arc<Answer>) {
        let mut answers = self.answers.lock().unwrap_or_else(|p| p.into_inner());
        if answers.len() >= MAX_ENTRIES {
            answers.clear();
        }
        answers.insert(key, answer);
    }
}

/// A strong entity tag for `body`: `"` + 128 bits of its SHA-256 + `"`.
pub fn etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!(
        "\"{}\"",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
    )
}

/// Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110
/// prescribes for this header; `*` matches any).
pub fn none_match(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// `304 Not Modified` for `etag`.
pub fn not_modified(etag: &str) -> HttpResponse {
    HttpResponse::NotModified()
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::VARY, "accept-encoding"))
        .finish()
}

/// Reads whose answers are kept: every API GET but the deliberately slow
/// aggregate and the event streams.
fn reusable(req: &ServiceRequest) -> bool {
    // `/api/session` answers who asks: kept under its path, one viewer's
    // answer would go to the next.
    (req.method() == Method::GET || req.method() == Method::HEAD)
        && !matches!(
            req.path(),
            "/api/deferred" | "/api/events" | "/api/events/ws" | "/api/session"
        )
}

/// The middleware on `/api`.
pub async fn reuse_answers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if !reusable(&req) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let key = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path().to_owned(), |p| p.as_str().to_owned());
    // Read before the data: an answer made after this is at least this new.
    let version = state.hub.data_version();
    let kept = state
        .settings
        .reuse_responses
        .then(|| state.answers.get(&key, version))
        .flatten();
    let (http_req, answer) = match kept {
        Some(answer) => (req.request().clone(), answer),
        None => {
            let res = next.call(req).await?;
            let status = res.status();
            if status != StatusCode::OK {
                return Ok(res.map_into_boxed_body());
            }
            let (http_req, response) = res.into_parts();
            let headers = response.headers().clone();
            let body = actix_web::body::to_bytes(response.into_body())
                .await
                .map_err(|e| actix_web::error::ErrorInternalServerError(e.into()))?;
            let answer = Arc::new(Answer {
                status,
                headers,
                brotli: brotli_bytes(&body, 5),
                etag: etag(&body),
                body,
                version,
            });
            if state.settings.reuse_responses {
                state.answers.put(key, Arc::clone(&answer));
            }
            (http_req, answer)
        }
    };
    let response = respond(&http_req, &answer);
    Ok(ServiceResponse::new(http_req, response))
}

/// Sends the precompressed form the client accepts (brotli, then gzip), else
/// the raw bytes. A set Content-Encoding makes the Compress middleware leave
/// the body alone; without one it still compresses per request.
pub fn negotiate(
    req: &HttpRequest,
    response: &mut actix_web::HttpResponseBuilder,
    raw: &Bytes,
    brotli: Option<&Bytes>,
    gzip: Option<&Bytes>,
) -> Bytes {
    use actix_web::http::header::HeaderValue;
    let accepts = |coding: &str| accepts(req, coding);
    response.insert_header((header::VARY, HeaderValue::from_static("accept-encoding")));
    match (brotli, gzip) {
        (Some(br), _) if accepts("br") => {
            response.insert_header((header::CONTENT_ENCODING, HeaderValue::from_static("br")));
            br.clone()
        }
        (_, Some(gz)) if accepts("gzip") => {
            response.insert_header((header::CONTENT_ENCODING, HeaderValue::from_static("gzip")));
            gz.clone()
        }
        _ => raw.clone(),
    }
}

/// Whether the request's `Accept-Encoding` names `coding`.
pub fn accepts(req: &HttpRequest, coding: &str) -> bool {
    req.headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|c| c.trim().starts_with(coding)))
}

fn respond(req: &HttpRequest, answer: &Answer) -> HttpResponse {
    if none_match(req, &answer.etag) {
        return not_modified(&answer.etag);
    }
    let mut response = HttpResponse::build(answer.status);
    for (name, value) in &answer.headers {
        if name != header::CONTENT_LENGTH && name != header::CONTENT_ENCODING {
            response.append_header((name.clone(), value.clone()));
        }
    }
    response
        .insert_header((header::ETAG, answer.etag.as_str()))
        .insert_header((header::CACHE_CONTROL, "no-cache"));
    let body = negotiate(
        req,
        &mut response,
        &answer.body,
        answer.brotli.as_ref(),
        None,
    );
    response.body(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn if_none_match_compares_weakly_and_lists() {
        let tag = etag(b"{\"id\":3}");
        assert!(tag.starts_with('"') && tag.ends_with('"') && tag.len() == 24);
        assert_ne!(tag, etag(b"{\"id\":4}"));
        let with = |value: &str| {
            TestRequest::default()
                .insert_header((header::IF_NONE_MATCH, value))
                .to_http_request()
        };
        assert!(none_match(&with(&tag), &tag));
        assert!(none_match(&with(&format!("W/{tag}")), &tag));
        assert!(none_match(&with(&format!("\"x\", {tag}")), &tag));
        assert!(none_match(&with("*"), &tag));
        assert!(!none_match(&with("\"x\""), &tag));
        assert!(!none_match(&TestRequest::default().to_http_request(), &tag));
    }
}
