//! HTTP handlers: the JSON API, server events, health, pages, and the
//! pages' forms posted without JavaScript.

pub mod api;
pub mod events;
pub mod forms;
pub mod pages;
pub mod session;

use crate::error::ApiError;
use actix_web::{HttpRequest, HttpResponse};

/// `GET /healthz`: answers 200 when the database answers, 503 when it does
/// not within 2 s (a load balancer's probe must not hang on the pool).
pub async fn healthz(
    state: actix_web::web::Data<crate::state::AppState>,
) -> Result<HttpResponse, ApiError> {
    let db = state.db.clone();
    actix_web::web::block(move || -> Result<(), ApiError> {
        use diesel::connection::SimpleConnection;
        db.conn_within(std::time::Duration::from_secs(2))?
            .batch_execute("SELECT 1")?;
        Ok(())
    })
    .await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({"status": "ok"})))
}

/// The methods `path` (under `/api`) takes, if it is a known route.
fn allowed(path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    crate::openapi::routes()
        .iter()
        .find_map(|(pattern, methods)| {
            let pattern: Vec<&str> = pattern.split('/').collect();
            let matches = pattern.len() == segments.len()
                && pattern
                    .iter()
                    .zip(&segments)
                    .all(|(p, s)| *p == *s || (*p == "{id}" && !s.is_empty()));
            matches.then_some(methods.as_str())
        })
}

/// Unknown `/api/...` paths (404), and known ones asked with a method they
/// do not take (405 with `Allow`, from the OpenAPI document's route table).
pub async fn api_not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let path = req.path().strip_prefix("/api").unwrap_or(req.path());
    if let Some(allow) = allowed(path) {
        return Err(ApiError::MethodNotAllowed { allow });
    }
    tracing::debug!(path = req.path(), "no such API route");
    Err(ApiError::NotFound("route"))
}

#[cfg(test)]
mod tests {
    use super::allowed;

    #[test]
    fn known_paths_name_their_methods() {
        assert_eq!(allowed("/posts/7"), Some("GET, PATCH, DELETE"));
        assert_eq!(allowed("/posts/"), Some("GET, POST"));
        assert_eq!(allowed("/users/3/posts"), Some("GET"));
        assert_eq!(allowed("/posts//comments"), None);
        assert_eq!(allowed("/nope"), None);
        assert_eq!(allowed("/posts/7/comments/1"), None);
    }
}
