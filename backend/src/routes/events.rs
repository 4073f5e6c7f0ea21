//! `GET /api/events`: server-sent events with resume.

use crate::error::ApiError;
use crate::events;
use crate::state::AppState;
use actix_web::{HttpRequest, Responder, web};
use actix_web_lab::sse::Sse;
use futures_util::StreamExt;
use shared::ErrorBody;
use std::time::Duration;

/// `GET /api/events`. The last seen id comes as the `Last-Event-ID` header
/// (what `EventSource` sends when it reconnects by itself) or as
/// `?last_event_id=N` (what a client that opens a fresh stream can send); the
/// header wins when both are present.
#[utoipa::path(get, path = "/api/events", tag = "events",
    params(
        ("last_event_id" = Option<i64>, Query, description = "Resume after this event id"),
        ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this event id (wins over the query)"),
    ),
    responses(
        (status = 200, description = "Server-sent events: `id:` the event id, `event:` its kind, `data:` a `ServerEvent` as JSON; `resync` when the id is too old", content_type = "text/event-stream"),
        (status = 400, description = "The last event id is not an integer", body = ErrorBody),
        (status = 503, description = "Too many live streams are open, from this client or in all (`too_many_streams`); `Retry-After` says when to try again", body = ErrorBody),
    ))]
pub async fn events(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<impl Responder, ApiError> {
    let from_query = resume_param(&req)?;
    let last_seen = match req.headers().get("last-event-id") {
        None => from_query,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_last_event_id",
                        "Last-Event-ID must be an integer",
                    )
                })?,
        ),
    };
    let permit = state
        .streams
        .acquire(&req)
        .ok_or(ApiError::TooManyStreams)?;
    let sub = subscribe(&state, last_seen).await;
    // The permit lives as long as the stream: dropped when the client goes.
    let stream = events::stream(sub).map(move |event| {
        let _held = &permit;
        event
    });
    Ok(Sse::from_stream(stream)
        .with_keep_alive(Duration::from_secs(state.settings.sse_keep_alive_secs))
        .with_retry_duration(Duration::from_secs(2)))
}

/// Subscribes to the hub. A client resuming from an id newer than this
/// instance has seen got it from another instance whose pump is ahead (or
/// from a page rendered there): this one reads the outbox up to it first, so
/// the client gets a replay, not a `resync`. An id the outbox does not hold
/// (another database's numbering) still resyncs.
async fn subscribe(state: &AppState, last_seen: Option<i64>) -> events::Subscription {
    if let Some(seen) = last_seen
        && seen > state.hub.last_id()
    {
        let (hub, db) = (std::sync::Arc::clone(&state.hub), state.db.clone());
        let caught_up = web::block(move || -> Result<(), String> {
            let mut conn = db.conn().map_err(|e| e.to_string())?;
            hub.catch_up(&mut conn).map_err(|e| e.to_string())
        })
        .await;
        match caught_up {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "catching up on the outbox failed"),
            Err(e) => tracing::warn!(error = %e, "the outbox reader task failed"),
        }
    }
    state.hub.subscribe(last_seen)
}

/// The resume query parameter of both event routes.
#[derive(serde::Deserialize)]
struct ResumeParams {
    last_event_id: Option<i64>,
}

/// `?last_event_id=N`, if given; anything but an integer is 400
/// `invalid_last_event_id`.
fn resume_param(req: &HttpRequest) -> Result<Option<i64>, ApiError> {
    web::Query::<ResumeParams>::from_query(req.query_string())
        .map(|params| params.last_event_id)
        .map_err(|_| {
            ApiError::bad_request("invalid_last_event_id", "last_event_id must be an integer")
        })
}

/// `GET /api/events/ws`: the same events over a WebSocket, one JSON text
/// message per event (exactly the SSE `data:`), with the same resume rule.
/// Browsers cannot set headers on a WebSocket, so the last seen id comes as
/// `?last_event_id=N`. A resync sent to a client that fell behind carries
/// id 0: clients resume from the highest id they have received.
///
/// Browsers do not apply CORS to WebSocket handshakes, so the `Origin` is
/// checked here: the page's own origin and `--cors-origins` may connect
/// (403 `origin_not_allowed` otherwise); a client that sends no `Origin` (not
/// a browser) may too.
#[utoipa::path(get, path = "/api/events/ws", tag = "events",
    params(("last_event_id" = Option<i64>, Query, description = "Resume after this event id")),
    responses(
        (status = 101, description = "A WebSocket; one text message per event, the SSE `data:`"),
        (status = 400, description = "Not a WebSocket handshake (`websocket_required`), or a bad `last_event_id`", body = ErrorBody),
        (status = 403, description = "The `Origin` may not connect (`origin_not_allowed`)", body = ErrorBody),
        (status = 503, description = "Too many live streams are open, from this client or in all (`too_many_streams`); `Retry-After` says when to try again", body = ErrorBody),
    ))]
pub async fn events_ws(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
) -> Result<actix_web::HttpResponse, ApiError> {
    if !origin_allowed(&req, &state.settings.cors_origins) {
        return Err(ApiError::Forbidden {
            code: "origin_not_allowed",
            message: "this origin may not open the event stream".into(),
        });
    }
    let last_seen = resume_param(&req)?;
    let permit = state
        .streams
        .acquire(&req)
        .ok_or(ApiError::TooManyStreams)?;
    let (response, mut session, mut messages) = actix_ws::handle(&req, body)
        .map_err(|e| ApiError::bad_request("websocket_required", e.to_string()))?;
    let sub = subscribe(&state, last_seen).await;
    let ping_every = Duration::from_secs(state.settings.sse_keep_alive_secs.max(1));
    actix_web::rt::spawn(async move {
        // Counted until the socket's task ends.
        let _permit = permit;
        let stream = events::outgoing(sub);
        let mut stream = std::pin::pin!(stream);
        let mut ping = tokio::time::interval(ping_every);
        ping.tick().await;
        loop {
            tokio::select! {
                next = stream.next() => {
                    let Some(out) = next else { break };
                    let Ok(text) = serde_json::to_string(&out.event) else { continue };
                    if session.text(text).await.is_err() {
                        return;
                    }
                }
                message = messages.recv() => match message {
                    Some(Ok(actix_ws::Message::Ping(bytes))) => {
                        if session.pong(&bytes).await.is_err() {
                            return;
                        }
                    }
                    Some(Ok(actix_ws::Message::Close(_)) | Err(_)) | None => break,
                    Some(Ok(_)) => {}
                },
                _ = ping.tick() => {
                    if session.ping(b"").await.is_err() {
                        return;
                    }
                }
            }
        }
        let _ = session.close(None).await;
    });
    Ok(response)
}

/// The request has no `Origin`, or one on the host it was sent to, or one of
/// `allowed`.
pub(crate) fn origin_allowed(req: &HttpRequest, allowed: &[String]) -> bool {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    let Some(origin) = header(actix_web::http::header::ORIGIN) else {
        return true;
    };
    if allowed.iter().any(|a| a.eq_ignore_ascii_case(origin)) {
        return true;
    }
    let origin_host = origin.split_once("://").map(|(_, host)| host);
    matches!(
        (origin_host, header(actix_web::http::header::HOST)),
        (Some(o), Some(h)) if o.eq_ignore_ascii_case(h)
    )
}
