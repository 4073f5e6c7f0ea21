//! The API's OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]`
//! attributes and the shared types' schemas, served at `/api/openapi.json`.
//!
//! The document is also the route table: `startup` registers exactly the
//! operations it lists (each by its operation id, the handler's name), and
//! the `Allow` header of a 405 names the methods it gives a path. A handler
//! cannot be served without being documented, nor documented without being
//! served.

use crate::routes::{self, api, events, session};
use actix_web::http::Method;
use actix_web::{HttpResponse, Route, web};
use shared::ErrorBody;
use std::sync::OnceLock;
use utoipa::openapi::path::PathItem;
use utoipa::{IntoResponses, OpenApi};

/// What any read can answer besides its success.
#[derive(IntoResponses)]
#[allow(dead_code)] // only its shape is read, by the document
pub enum ReadErrors {
    /// A path parameter or query string that does not parse.
    #[response(
        status = 400,
        description = "Malformed path or query (`invalid_path`, `invalid_query`, `invalid_cursor`)"
    )]
    BadRequest(ErrorBody),
    /// The database is busy or its connection died; nothing happened.
    #[response(
        status = 503,
        description = "The database is busy or unreachable (`unavailable`); try again after `Retry-After` seconds",
        headers(("Retry-After" = u32, description = "Seconds to wait"))
    )]
    Unavailable(ErrorBody),
}

/// What any write can answer besides its success. A refused write changes
/// nothing.
#[derive(IntoResponses)]
#[allow(dead_code)] // only its shape is read, by the document
pub enum WriteErrors {
    /// Malformed JSON, path or `Idempotency-Key`.
    #[response(
        status = 400,
        description = "Malformed JSON, path or `Idempotency-Key`"
    )]
    BadRequest(ErrorBody),
    /// The body is over the size limit.
    #[response(
        status = 413,
        description = "The body is larger than the limit (`payload_too_large`)"
    )]
    PayloadTooLarge(ErrorBody),
    /// The body is not JSON.
    #[response(status = 415, description = "`Content-Type` is not `application/json`")]
    UnsupportedMediaType(ErrorBody),
    /// Well-formed but refused.
    #[response(
        status = 422,
        description = "A field is invalid (`validation_failed`, with `fields`), the JSON has the wrong shape (`invalid_body`), or the `Idempotency-Key` was used for another request"
    )]
    Unprocessable(ErrorBody),
    /// The database is busy or its connection died; nothing was written.
    #[response(
        status = 503,
        description = "The database is busy or unreachable (`unavailable`); nothing was written; resend with the same `Idempotency-Key` after `Retry-After` seconds",
        headers(("Retry-After" = u32, description = "Seconds to wait"))
    )]
    Unavailable(ErrorBody),
}

/// What a write answers about who makes it (with `--require-sessions`, for
/// a session cookie sent from another site, past the address's write rate).
#[derive(IntoResponses)]
#[allow(dead_code)] // only its shape is read, by the document
pub enum SessionErrors {
    /// No session, or one that ended.
    #[response(
        status = 401,
        description = "Sessions are required and the request has none (`unauthenticated`) or its session ended (`session_expired`); nothing changed"
    )]
    Unauthorized(ErrorBody),
    /// Not this writer's to change, or sent from another site.
    #[response(
        status = 403,
        description = "Not yours to change (`forbidden`: another author's post, another user's profile, a post as someone else), or a write with the session cookie from another site (`cross_site_request`); nothing changed"
    )]
    Forbidden(ErrorBody),
    /// The client's write rate.
    #[response(
        status = 429,
        description = "Too many writes from this address (`too_many_writes`, `--writes-per-minute`); nothing changed; resend with the same `Idempotency-Key` after `Retry-After` seconds",
        headers(("Retry-After" = u32, description = "Seconds to wait"))
    )]
    TooManyWrites(ErrorBody),
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "querent demo API",
        description = "Posts, comments and users, with server events. Every GET answer carries a strong `ETag`; \
send it back as `If-None-Match` for a 304 without a body. Writes take an optional `Idempotency-Key` \
(1 to 255 visible ASCII characters): a resend with the same key and body gets the stored answer \
(`Idempotent-Replayed: true`) and is applied once. Every error is `{\"error\":{\"code\",\"message\",\"fields\"?}}`; \
a known path asked with a method it does not take is 405 with `Allow`.",
    ),
    paths(
        api::list_posts,
        api::create_post,
        api::get_post,
        api::update_post,
        api::delete_post,
        api::list_comments,
        api::create_comment,
        api::list_users,
        api::get_user,
        api::update_user,
        api::user_posts,
        api::deferred,
        events::events,
        events::events_ws,
        session::get_session,
        session::create_session,
        session::delete_session,
        openapi_json,
    ),
    tags(
        (name = "posts", description = "Posts and their comments"),
        (name = "users", description = "Users and their posts"),
        (name = "session", description = "Signing in and out (a session cookie)"),
        (name = "events", description = "Every change, live (SSE or WebSocket), resumable by event id"),
        (name = "meta", description = "The API's own description and aggregates"),
    )
)]
struct ApiDoc;

/// The document.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(ApiDoc::openapi)
}

fn json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        document()
            .to_json()
            .expect("the OpenAPI document serialises")
    })
}

/// `GET /api/openapi.json`.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "meta",
    responses((status = 200, description = "This document", content_type = "application/json"))
)]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("Cache-Control", "no-cache"))
        .body(json())
}

/// The document's operations of a path, in a fixed order.
fn operations(
    item: &PathItem,
) -> impl Iterator<Item = (Method, &utoipa::openapi::path::Operation)> {
    [
        (Method::GET, &item.get),
        (Method::POST, &item.post),
        (Method::PUT, &item.put),
        (Method::PATCH, &item.patch),
        (Method::DELETE, &item.delete),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.as_ref().map(|op| (method, op)))
}

/// Every API route (path under `/api`, as `startup` registers it) and the
/// methods it takes, as an `Allow` header lists them.
pub fn routes() -> &'static [(String, String)] {
    static ROUTES: OnceLock<Vec<(String, String)>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        document()
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods: Vec<String> = operations(item).map(|(m, _)| m.to_string()).collect();
                (under_api(path).to_owned(), methods.join(", "))
            })
            .collect()
    })
}

fn under_api(path: &str) -> &str {
    path.strip_prefix("/api")
        .expect("every documented path is under /api")
}

/// The handler of a documented operation, by its operation id.
fn handler(operation_id: &str, method: Method) -> Route {
    let route = web::method(method);
    match operation_id {
        "list_posts" => route.to(api::list_posts),
        "create_post" => route.to(api::create_post),
        "get_post" => route.to(api::get_post),
        "update_post" => route.to(api::update_post),
        "delete_post" => route.to(api::delete_post),
        "list_comments" => route.to(api::list_comments),
        "create_comment" => route.to(api::create_comment),
        "list_users" => route.to(api::list_users),
        "get_user" => route.to(api::get_user),
        "update_user" => route.to(api::update_user),
        "user_posts" => route.to(api::user_posts),
        "deferred" => route.to(api::deferred),
        "events" => route.to(events::events),
        "events_ws" => route.to(events::events_ws),
        "get_session" => route.to(session::get_session),
        "create_session" => route.to(session::create_session),
        "delete_session" => route.to(session::delete_session),
        "openapi_json" => route.to(openapi_json),
        other => panic!("the OpenAPI document names an operation without a handler: {other}"),
    }
}

/// The `/api` scope with every documented operation registered (and 404 or
/// 405 for everything else).
pub fn api_scope() -> actix_web::Scope {
    let mut scope = web::scope("/api");
    for (path, item) in &document().paths.paths {
        for (method, op) in operations(item) {
            let id = op
                .operation_id
                .as_deref()
                .expect("utoipa names every operation");
            scope = scope.route(under_api(path), handler(id, method));
        }
    }
    scope.default_service(web::to(routes::api_not_found))
}
