//! Every non-API GET: a static file of the SPA, or a prerendered page.

use crate::error::ApiError;
use crate::pages;
use crate::state::AppState;
use crate::write::now_ms;
use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use shared::Route;

pub async fn page(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Err(ApiError::MethodNotAllowed);
    }
    let path = req.path();
    if let Some(asset) = state.pages.asset(path) {
        let cache = if asset.immutable {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        return Ok(HttpResponse::Ok()
            .content_type(asset.content_type.as_str())
            .insert_header((header::CACHE_CONTROL, cache))
            .body(asset.bytes.clone()));
    }
    let route = Route::parse(path);
    if route == Route::Redirect {
        return Ok(HttpResponse::TemporaryRedirect()
            .insert_header((header::LOCATION, Route::Posts.path()))
            .finish());
    }
    let db = state.db.clone();
    let (status, title, dehydrated) = web::block(move || -> Result<_, ApiError> {
        let mut conn = db.conn()?;
        Ok(pages::prerender(&mut conn, route, now_ms())?)
    })
    .await??;
    let html = state
        .pages
        .render(&title, route.description(), &dehydrated)?;
    Ok(
        HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK))
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .insert_header((header::CONTENT_SECURITY_POLICY, state.pages.csp()))
            .body(html),
    )
}
