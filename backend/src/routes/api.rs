//! The JSON API under `/api` (contract in the README).

use crate::db::repo::{self, Cursor};
use crate::domain::{ValidNewComment, ValidNewPost, ValidPostPatch, ValidUserPatch};
use crate::error::ApiError;
use crate::openapi::{ReadErrors, WriteErrors};
use crate::state::AppState;
use crate::write::{self, IdempotencyKey, Outcome};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use shared::{
    Comment, ErrorBody, EventKind, NewComment, NewPost, Page, Post, PostId, PostPatch, Stats, User,
    UserId, UserPatch,
};
use std::time::Duration;
use utoipa::IntoParams;

type Data = web::Data<AppState>;

/// Runs a read on a pooled connection off the async threads.
async fn read<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut crate::db::DbConn) -> Result<T, ApiError> + Send + 'static,
{
    let db = state.db.clone();
    web::block(move || {
        let mut conn = db.conn()?;
        f(&mut conn)
    })
    .await?
}

fn fingerprint(req: &HttpRequest, body: &impl serde::Serialize) -> String {
    let body = serde_json::to_string(body).unwrap_or_default();
    format!("{} {} {body}", req.method(), req.path())
}

fn json_value(v: impl serde::Serialize) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(v).map_err(ApiError::unexpected)
}

/// `GET /api/posts`'s query string.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The `next_cursor` of the page before; absent or empty for the first page.
    cursor: Option<String>,
    /// Page size.
    #[param(minimum = 1, maximum = 100, default = 20)]
    limit: Option<i64>,
}

/// One page of posts, newest first.
#[utoipa::path(get, path = "/api/posts", tag = "posts", params(ListQuery),
    responses(
        (status = 200, description = "A page of posts; `next_cursor` is absent on the last", body = Page<Post>),
        (status = 422, description = "`limit` out of range (`validation_failed`)", body = ErrorBody),
        ReadErrors,
    ))]
#[tracing::instrument(skip_all)]
pub async fn list_posts(
    state: Data,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let ListQuery { cursor, limit } = query.into_inner();
    let limit = limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::Validation(
            [(
                "limit".to_owned(),
                "limit must be between 1 and 100".to_owned(),
            )]
            .into(),
        ));
    }
    let cursor = match cursor.as_deref() {
        None | Some("") => None,
        Some(c) => Some(Cursor::parse(c).ok_or_else(|| {
            ApiError::bad_request("invalid_cursor", "cursor is not one this API handed out")
        })?),
    };
    let page = read(&state, move |c| Ok(repo::list_posts(c, cursor, limit)?)).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One post.
#[utoipa::path(get, path = "/api/posts/{id}", tag = "posts", params(("id" = i64, Path, minimum = 1, description = "The post's id")),
    responses(
        (status = 200, description = "The post", body = Post),
        (status = 404, description = "No such post", body = ErrorBody),
        ReadErrors,
    ))]
#[tracing::instrument(skip_all, fields(post = %id))]
pub async fn get_post(state: Data, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = PostId(id.into_inner());
    let post = read(&state, move |c| Ok(repo::get_post(c, id)?)).await?;
    post.map(|p| HttpResponse::Ok().json(p))
        .ok_or(ApiError::NotFound("post"))
}

/// Creates a post (event `post_created`).
#[utoipa::path(post, path = "/api/posts", tag = "posts", params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "1 to 255 visible ASCII characters; a resend with the same key and body is answered from the first, applied once")), request_body = NewPost,
    responses(
        (status = 201, description = "The post as stored", body = Post),
        WriteErrors,
    ))]
#[tracing::instrument(skip_all)]
pub async fn create_post(
    state: Data,
    req: HttpRequest,
    body: web::Json<NewPost>,
) -> Result<HttpResponse, ApiError> {
    let key = IdempotencyKey::from_headers(req.headers())?;
    let print = fingerprint(&req, &*body);
    let input = ValidNewPost::parse(body.into_inner()).map_err(ApiError::Validation)?;
    write::run(&state.db, &state.hub, key, print, move |conn, now| {
        if !repo::user_exists(conn, input.user_id)? {
            return Err(ApiError::Validation(
                [("user_id".to_owned(), "user does not exist".to_owned())].into(),
            ));
        }
        let post = repo::create_post(conn, &input, now)?;
        Ok(Outcome {
            status: StatusCode::CREATED,
            body: Some(json_value(&post)?),
            event: Some(EventKind::PostCreated(post)),
        })
    })
    .await
}

/// Changes a post's given fields (event `post_updated`).
#[utoipa::path(patch, path = "/api/posts/{id}", tag = "posts", params(("id" = i64, Path, minimum = 1, description = "The post's id"), ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "1 to 255 visible ASCII characters; a resend with the same key and body is answered from the first, applied once")),
    request_body = PostPatch,
    responses(
        (status = 200, description = "The post as stored", body = Post),
        (status = 404, description = "No such post", body = ErrorBody),
        WriteErrors,
    ))]
#[tracing::instrument(skip_all, fields(post = %id))]
pub async fn update_post(
    state: Data,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<PostPatch>,
) -> Result<HttpResponse, ApiError> {
    let id = PostId(id.into_inner());
    let key = IdempotencyKey::from_headers(req.headers())?;
    let print = fingerprint(&req, &*body);
    let patch = ValidPostPatch::parse(body.into_inner()).map_err(ApiError::Validation)?;
    write::run(&state.db, &state.hub, key, print, move |conn, now| {
        if let Some(user) = patch.user_id
            && !repo::user_exists(conn, user)?
        {
            return Err(ApiError::Validation(
                [("user_id".to_owned(), "user does not exist".to_owned())].into(),
            ));
        }
        let post = repo::update_post(conn, id, &patch, now)?.ok_or(ApiError::NotFound("post"))?;
        Ok(Outcome {
            status: StatusCode::OK,
            body: Some(json_value(&post)?),
            event: Some(EventKind::PostUpdated(post)),
        })
    })
    .await
}

/// Deletes a post and its comments (event `post_deleted`).
#[utoipa::path(delete, path = "/api/posts/{id}", tag = "posts", params(("id" = i64, Path, minimum = 1, description = "The post's id"), ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "1 to 255 visible ASCII characters; a resend with the same key and body is answered from the first, applied once")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such post", body = ErrorBody),
        WriteErrors,
    ))]
#[tracing::instrument(skip_all, fields(post = %id))]
pub async fn delete_post(
    state: Data,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = PostId(id.into_inner());
    let key = IdempotencyKey::from_headers(req.headers())?;
    let print = fingerprint(&req, &());
    write::run(&state.db, &state.hub, key, print, move |conn, _now| {
        let user_id = repo::delete_post(conn, id)?.ok_or(ApiError::NotFound("post"))?;
        Ok(Outcome {
            status: StatusCode::NO_CONTENT,
            body: None,
            event: Some(EventKind::PostDeleted { id, user_id }),
        })
    })
    .await
}

/// A post's comments, oldest first.
#[utoipa::path(get, path = "/api/posts/{id}/comments", tag = "posts", params(("id" = i64, Path, minimum = 1, description = "The post's id")),
    responses(
        (status = 200, description = "The comments", body = Vec<Comment>),
        (status = 404, description = "No such post", body = ErrorBody),
        ReadErrors,
    ))]
#[tracing::instrument(skip_all, fields(post = %id))]
pub async fn list_comments(state: Data, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = PostId(id.into_inner());
    let comments = read(&state, move |c| Ok(repo::list_comments(c, id)?)).await?;
    comments
        .map(|c| HttpResponse::Ok().json(c))
        .ok_or(ApiError::NotFound("post"))
}

/// Comments on a post (event `comment_created`).
#[utoipa::path(post, path = "/api/posts/{id}/comments", tag = "posts", params(("id" = i64, Path, minimum = 1, description = "The post's id"), ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "1 to 255 visible ASCII characters; a resend with the same key and body is answered from the first, applied once")),
    request_body = NewComment,
    responses(
        (status = 201, description = "The comment as stored", body = Comment),
        (status = 404, description = "No such post", body = ErrorBody),
        WriteErrors,
    ))]
#[tracing::instrument(skip_all, fields(post = %id))]
pub async fn create_comment(
    state: Data,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<NewComment>,
) -> Result<HttpResponse, ApiError> {
    let id = PostId(id.into_inner());
    let key = IdempotencyKey::from_headers(req.headers())?;
    let print = fingerprint(&req, &*body);
    let input = ValidNewComment::parse(body.into_inner()).map_err(ApiError::Validation)?;
    write::run(&state.db, &state.hub, key, print, move |conn, now| {
        let comment =
            repo::create_comment(conn, id, &input, now)?.ok_or(ApiError::NotFound("post"))?;
        Ok(Outcome {
            status: StatusCode::CREATED,
            body: Some(json_value(&comment)?),
            event: Some(EventKind::CommentCreated(comment)),
        })
    })
    .await
}

/// Every user, by id.
#[utoipa::path(get, path = "/api/users", tag = "users",
    responses((status = 200, description = "The users", body = Vec<User>), ReadErrors))]
#[tracing::instrument(skip_all)]
pub async fn list_users(state: Data) -> Result<HttpResponse, ApiError> {
    let users = read(&state, |c| Ok(repo::list_users(c)?)).await?;
    Ok(HttpResponse::Ok().json(users))
}

/// One user.
#[utoipa::path(get, path = "/api/users/{id}", tag = "users", params(("id" = i64, Path, minimum = 1, description = "The user's id")),
    responses(
        (status = 200, description = "The user", body = User),
        (status = 404, description = "No such user", body = ErrorBody),
        ReadErrors,
    ))]
#[tracing::instrument(skip_all, fields(user = %id))]
pub async fn get_user(state: Data, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = UserId(id.into_inner());
    let user = read(&state, move |c| Ok(repo::get_user(c, id)?)).await?;
    user.map(|u| HttpResponse::Ok().json(u))
        .ok_or(ApiError::NotFound("user"))
}

/// A user's posts, newest first.
#[utoipa::path(get, path = "/api/users/{id}/posts", tag = "users", params(("id" = i64, Path, minimum = 1, description = "The user's id")),
    responses(
        (status = 200, description = "The user's posts", body = Vec<Post>),
        (status = 404, description = "No such user", body = ErrorBody),
        ReadErrors,
    ))]
#[tracing::instrument(skip_all, fields(user = %id))]
pub async fn user_posts(state: Data, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = UserId(id.into_inner());
    let posts = read(&state, move |c| Ok(repo::user_posts(c, id)?)).await?;
    posts
        .map(|p| HttpResponse::Ok().json(p))
        .ok_or(ApiError::NotFound("user"))
}

/// Changes a user's given fields (event `user_updated`).
#[utoipa::path(patch, path = "/api/users/{id}", tag = "users", params(("id" = i64, Path, minimum = 1, description = "The user's id"), ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "1 to 255 visible ASCII characters; a resend with the same key and body is answered from the first, applied once")),
    request_body = UserPatch,
    responses(
        (status = 200, description = "The user as stored", body = User),
        (status = 404, description = "No such user", body = ErrorBody),
        WriteErrors,
    ))]
#[tracing::instrument(skip_all, fields(user = %id))]
pub async fn update_user(
    state: Data,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<UserPatch>,
) -> Result<HttpResponse, ApiError> {
    let id = UserId(id.into_inner());
    let key = IdempotencyKey::from_headers(req.headers())?;
    let print = fingerprint(&req, &*body);
    let patch = ValidUserPatch::parse(body.into_inner()).map_err(ApiError::Validation)?;
    write::run(&state.db, &state.hub, key, print, move |conn, now| {
        let user = repo::update_user(conn, id, &patch, now)?.ok_or(ApiError::NotFound("user"))?;
        Ok(Outcome {
            status: StatusCode::OK,
            body: Some(json_value(&user)?),
            event: Some(EventKind::UserUpdated(user)),
        })
    })
    .await
}

/// A deliberately slow aggregate; the delay is `--deferred-delay-ms`.
#[utoipa::path(get, path = "/api/deferred", tag = "meta",
    responses((status = 200, description = "Counts of everything", body = Stats), ReadErrors))]
#[tracing::instrument(skip_all)]
pub async fn deferred(state: Data) -> Result<HttpResponse, ApiError> {
    tokio::time::sleep(Duration::from_millis(state.settings.deferred_delay_ms)).await;
    let now = write::now_ms();
    let stats = read(&state, move |c| Ok(repo::stats(c, now)?)).await?;
    Ok(HttpResponse::Ok().json(stats))
}
