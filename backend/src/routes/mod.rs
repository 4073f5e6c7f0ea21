//! HTTP handlers: the JSON API, server events, health, and pages.

pub mod api;
pub mod events;
pub mod pages;

use crate::error::ApiError;
use actix_web::{HttpRequest, HttpResponse};

/// `GET /healthz`: answers 200 when the database answers.
pub async fn healthz(
    state: actix_web::web::Data<crate::state::AppState>,
) -> Result<HttpResponse, ApiError> {
    let db = state.db.clone();
    actix_web::web::block(move || -> Result<(), ApiError> {
        use diesel::connection::SimpleConnection;
        db.conn()?.batch_execute("SELECT 1")?;
        Ok(())
    })
    .await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({"status": "ok"})))
}

/// Unknown `/api/...` paths.
pub async fn api_not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    tracing::debug!(path = req.path(), "no such API route");
    Err(ApiError::NotFound("route"))
}
