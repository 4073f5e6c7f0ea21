//! `GET /api/events`: server-sent events with resume.

use crate::error::ApiError;
use crate::events;
use crate::state::AppState;
use actix_web::{HttpRequest, Responder, web};
use actix_web_lab::sse::Sse;
use std::time::Duration;

pub async fn events(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<impl Responder, ApiError> {
    let last_seen = match req.headers().get("last-event-id") {
        None => None,
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
    let sub = state.hub.subscribe(last_seen);
    Ok(Sse::from_stream(events::stream(sub))
        .with_keep_alive(Duration::from_secs(state.settings.sse_keep_alive_secs))
        .with_retry_duration(Duration::from_secs(2)))
}
