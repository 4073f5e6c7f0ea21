//! Every non-API GET: a static file of the SPA, or a prerendered page.

use crate::error::ApiError;
use crate::pages;
use crate::reuse;
use crate::state::AppState;
use crate::streamed;
use crate::write::now_ms;
use actix_web::http::header::HeaderValue;
use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use shared::forms::PAGE_KEY_PREFIX;
use shared::{FormState, RefusedForm, Route};
use std::sync::Arc;

pub async fn page(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Err(ApiError::MethodNotAllowed { allow: "GET, HEAD" });
    }
    let path = req.path();
    if let Some(asset) = state.pages.asset(path) {
        return Ok(asset_response(&req, asset));
    }
    // The route's search params are part of it (`?n=2`).
    let url = req.uri().path_and_query().map_or(path, |pq| pq.as_str());
    let route = Route::parse(url);
    if route == Route::Redirect {
        return Ok(HttpResponse::TemporaryRedirect()
            .insert_header((header::LOCATION, Route::Posts.path()))
            .finish());
    }
    // A page is named by its route's canonical URL (the browser hydrates
    // it where its own address has the same), shared by every URL of it.
    let canonical = route.page_url(path);
    // A signed-in viewer's page is theirs alone: rendered for them, never
    // kept; everyone signed out shares the kept page.
    let viewer = page_viewer(&state, &req).await?;
    if let Viewer::User(user) = viewer {
        let version = state.hub.data_version();
        let info = super::session::info(&state, Some(user));
        let page = render(&state, route, &canonical, version, None, info).await?;
        return Ok(page_response(&state, &req, route, &page, true));
    }
    let page = rendered(&state, route, &canonical).await?;
    let mut response = page_response(&state, &req, route, &page, false);
    if viewer == Viewer::Ended {
        let _ = response.add_cookie(&super::session::removal_cookie(&req));
    }
    Ok(response)
}

/// Who a page is rendered for.
#[derive(Debug, PartialEq)]
enum Viewer {
    /// Nobody signed in.
    Nobody,
    /// The request carried a session that has ended (its cookie goes).
    Ended,
    /// This signed-in user.
    User(shared::User),
}

/// Who asks for a page: a lookup only when the request carries a session.
async fn page_viewer(state: &AppState, req: &HttpRequest) -> Result<Viewer, ApiError> {
    let Some(token) = super::session::token_of(req) else {
        return Ok(Viewer::Nobody);
    };
    Ok(match super::session::viewer(state, token).await? {
        Some(user) => Viewer::User(user),
        None => Viewer::Ended,
    })
}

/// A rendered page as the answer to `req`: streamed when the route has
/// deferred queries, else whole, answering a revalidation of the same page
/// with 304 (a `personal` page, one viewer's, is never revalidated nor kept
/// by a shared cache).
fn page_response(
    state: &AppState,
    req: &HttpRequest,
    route: Route,
    page: &pages::Rendered,
    personal: bool,
) -> HttpResponse {
    let mut response =
        HttpResponse::build(StatusCode::from_u16(page.status).unwrap_or(StatusCode::OK));
    // Header values made once (the page path is the hottest: no parsing or
    // copying per response).
    let cache = if personal {
        HeaderValue::from_static("private, no-store")
    } else {
        HeaderValue::from_static("no-cache")
    };
    response
        .insert_header((header::CONTENT_TYPE, pages::HTML_CONTENT_TYPE))
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::CONTENT_SECURITY_POLICY, state.pages.csp_header()));
    let deferred = route.loader().deferred;
    if !deferred.is_empty() && req.method() == Method::GET {
        let coding = streamed::Coding::accepted_by(req);
        response
            .insert_header((header::VARY, "accept-encoding"))
            // Set even for identity, so the Compress middleware leaves the
            // stream alone (it would hold the first part back).
            .insert_header((header::CONTENT_ENCODING, coding.name()));
        let delay = std::time::Duration::from_millis(state.settings.deferred_delay_ms);
        return response.streaming(streamed::body(
            page.html.clone(),
            coding,
            state.db.clone(),
            deferred,
            delay,
        ));
    }
    // A streamed page differs per response; every other page is the same
    // bytes until re-rendered, so a revalidation can be answered 304.
    if page.status == 200 && !personal {
        if reuse::none_match(req, &page.etag) {
            return reuse::not_modified(&page.etag);
        }
        response.insert_header((header::ETAG, page.etag_header.clone()));
    }
    let body = reuse::negotiate(req, &mut response, &page.html, page.brotli.as_ref(), None);
    response.body(body)
}

/// The page of `route` answering a refused form post: rendered now with
/// what was typed and why (never kept, never revalidated), with `status`
/// (422 for refused input) unless the page itself is missing (404).
pub(crate) async fn refused_page(
    state: &AppState,
    req: &HttpRequest,
    route: Route,
    refused: RefusedForm,
    status: StatusCode,
) -> Result<HttpResponse, ApiError> {
    let version = state.hub.data_version();
    let user = match page_viewer(state, req).await? {
        Viewer::User(user) => Some(user),
        _ => None,
    };
    let info = super::session::info(state, user);
    let page = render(state, route, &route.path(), version, Some(refused), info).await?;
    let status = if page.status == 404 {
        StatusCode::NOT_FOUND
    } else {
        status
    };
    let mut response = HttpResponse::build(status);
    response
        .insert_header((header::CONTENT_TYPE, pages::HTML_CONTENT_TYPE))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::CONTENT_SECURITY_POLICY, state.pages.csp_header()));
    let body = reuse::negotiate(req, &mut response, &page.html, page.brotli.as_ref(), None);
    Ok(response.body(body))
}

/// A static file of the SPA: hashed names are immutable, the rest revalidated.
fn asset_response(req: &HttpRequest, asset: &pages::Asset) -> HttpResponse {
    let cache = if asset.immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = HttpResponse::Ok();
    response
        .content_type(asset.content_type.as_str())
        .insert_header((header::CACHE_CONTROL, cache));
    let body = reuse::negotiate(
        req,
        &mut response,
        &asset.bytes,
        asset.brotli.get(),
        asset.gzip.get(),
    );
    response.body(body)
}

/// The page of `route`: from the page cache while the data has not changed
/// since it was rendered, else loaded, rendered and cached.
async fn rendered(
    state: &AppState,
    route: Route,
    path: &str,
) -> Result<Arc<pages::Rendered>, ApiError> {
    let cache_key = (route != Route::NotFound && state.settings.reuse_responses).then_some(route);
    // Read before the data: a page rendered after this is at least this new.
    let version = state.hub.data_version();
    if let Some(page) = cache_key.and_then(|k| state.page_cache.get(k, version)) {
        return Ok(page);
    }
    let signed_out = super::session::info(state, None);
    let page = Arc::new(render(state, route, path, version, None, signed_out).await?);
    if let Some(key) = cache_key {
        state.page_cache.put(key, Arc::clone(&page));
    }
    Ok(page)
}

/// Loads and renders the page of `route` at `path` for `viewer` (the page
/// state's `["session"]`), with its forms' state: the page's own
/// idempotency key (unique to this render) and, answering a refused form
/// post, what was typed and why.
async fn render(
    state: &AppState,
    route: Route,
    path: &str,
    version: (u64, i64),
    refused: Option<RefusedForm>,
    viewer: shared::SessionInfo,
) -> Result<pages::Rendered, ApiError> {
    let db = state.db.clone();
    let now = now_ms();
    let mut loaded = web::block(move || -> Result<_, ApiError> {
        let mut conn = db.conn()?;
        pages::prerender(&mut conn, route, now)
    })
    .await??;
    let viewer = serde_json::to_value(viewer).map_err(ApiError::unexpected)?;
    loaded
        .queries
        .push((shared::QueryKey::Session, pages::Loaded::Data(viewer)));
    let (status, title) = (loaded.status, loaded.title.clone());
    // Built once: embedded as JSON, and the server render's cache.
    let dehydrated = loaded.state();
    let json = serde_json::to_string(&dehydrated).map_err(ApiError::unexpected)?;
    let forms = FormState {
        nonce: format!("{PAGE_KEY_PREFIX}{}-{now}", version.1),
        refused,
    };
    let forms_json = serde_json::to_string(&forms).map_err(ApiError::unexpected)?;
    let body = if state.pages.is_app() && state.settings.server_render {
        render_body(path, dehydrated, forms, now).await
    } else {
        None
    };
    let html = state.pages.render(
        &title,
        route.description(),
        pages::Embedded {
            state: &json,
            forms: &forms_json,
        },
        version.1,
        body.as_deref().map(|html| (path, html)),
        !route.loader().deferred.is_empty(),
    );
    let etag = reuse::etag(html.as_bytes());
    Ok(pages::Rendered {
        status,
        brotli: pages::brotli_bytes(html.as_bytes(), 5),
        etag_header: HeaderValue::from_str(&etag).map_err(ApiError::unexpected)?,
        etag,
        html: html.into(),
        version,
        rendered_at: std::time::Instant::now(),
    })
}

/// The longest a page's server render may take. Renders read only the
/// state already loaded, so they take about a millisecond; past this bound
/// the page goes out without its body HTML and the browser renders it.
const RENDER_BOUND: std::time::Duration = std::time::Duration::from_secs(2);

/// The app's own HTML of `path` from the page's state, or `None` if the
/// render does not finish within [`RENDER_BOUND`].
async fn render_body(
    path: &str,
    state: querent::hydration::DehydratedState,
    forms: FormState,
    now: i64,
) -> Option<String> {
    let render = frontend::ssr::render(path, state, forms, now);
    match actix_web::rt::time::timeout(RENDER_BOUND, render).await {
        Ok(html) => Some(html),
        Err(_) => {
            tracing::warn!(path, "server render timed out; the page is sent without it");
            None
        }
    }
}
