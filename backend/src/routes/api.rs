//! The JSON API under `/api` (contract in the README).

use crate::db::repo::{self, Cursor};
use crate::domain::{ValidNewComment, ValidNewPost, ValidPostPatch, ValidUserPatch};
use crate::error::ApiError;
use crate::openapi::{ReadErrors, SessionErrors, WriteErrors};
use crate::queries;
use crate::routes::session::{self, Writer};
use crate::state::AppState;
use crate::write::{self, Answer, IdempotencyKey, Outcome};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use shared::{
    Comment, DEFAULT_PAGE_SIZE, ErrorBody, EventKind, NewComment, NewPost, Page, Post, PostId,
    PostPatch, QueryKey, Stats, User, UserId, UserPatch,
};
use std::time::Duration;
use utoipa::IntoParams;

type Data = web::Data<AppState>;

/// A write's change, run in `write::run`'s transaction.
pub(crate) trait Write:
    Fn(&mut crate::db::DbConn, i64) -> Result<Outcome, ApiError> + Send + 'static
{
}

impl<F> Write for F where
    F: Fn(&mut crate::db::DbConn, i64) -> Result<Outcome, ApiError> + Send + 'static
{
}

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

/// Every write: the request's `Idempotency-Key` and fingerprint (method,
/// path, body), then `apply` in `write::run`'s transaction, then its answer.
async fn idempotent<F>(
    state: &AppState,
    req: &HttpRequest,
    body: &impl serde::Serialize,
    apply: F,
) -> Result<HttpResponse, ApiError>
where
    F: Write,
{
    let key = IdempotencyKey::from_headers(req.headers())?;
    let print = fingerprint(req.method().as_str(), req.path(), body);
    Ok(respond(
        write::run(&state.db, &state.hub, key, print, apply).await?,
    ))
}

/// What identifies a write for its idempotency key: method, path and the
/// JSON body. A form post computes the same for the JSON call it stands for,
/// so the app's own send of that call with the same key is its replay.
pub(crate) fn fingerprint(method: &str, path: &str, body: &impl serde::Serialize) -> String {
    let body = serde_json::to_string(body).unwrap_or_default();
    format!("{method} {path} {body}")
}

/// A write's answer over HTTP (a replay says so in `Idempotent-Replayed`).
fn respond(answer: Answer) -> HttpResponse {
    match answer {
        Answer::Fresh(outcome) => {
            let mut res = HttpResponse::build(outcome.status);
            match outcome.body {
                Some(body) => res.json(body),
                None => res.finish(),
            }
        }
        Answer::Replayed { status, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let mut res = HttpResponse::build(status);
            res.insert_header((write::REPLAYED_HEADER, "true"));
            if body.is_empty() {
                res.finish()
            } else {
                res.content_type("application/json").body(body)
            }
        }
    }
}

/// `key`'s data as the API answers it (the prerenderer reads the same).
async fn answer(state: &AppState, key: QueryKey) -> Result<HttpResponse, ApiError> {
    let now = write::now_ms();
    let data = read(state, move |c| queries::read(c, key, now)).await?;
    Ok(HttpResponse::Ok().json(data))
}

/// A write's outcome: `status` with `body` as JSON, and the event it makes
/// of `body`.
fn outcome<T: serde::Serialize>(
    status: StatusCode,
    body: T,
    event: fn(T) -> EventKind,
) -> Result<Outcome, ApiError> {
    Ok(Outcome {
        status,
        body: Some(serde_json::to_value(&body).map_err(ApiError::unexpected)?),
        event: Some(event(body)),
    })
}

/// A post's author must exist (checked in the write's transaction).
fn author_exists(conn: &mut crate::db::DbConn, user: UserId) -> Result<(), ApiError> {
    if repo::user_exists(conn, user)? {
        Ok(())
    } else {
        Err(ApiError::Validation(
            [("user_id".to_owned(), "user does not exist".to_owned())].into(),
        ))
    }
}

/// The header every write may carry (documentation only: the key is read by
/// `write::IdempotencyKey`).
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct IdempotencyHeader {
    /// 1 to 255 visible ASCII characters; a resend with the same key and
    /// body is answered from the first, applied once.
    #[param(rename = "Idempotency-Key", pattern = "^[!-~]{1,255}$")]
    idempotency_key: Option<String>,
}

/// The query string of a paged list (`GET /api/posts`, a post's comments).
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

impl ListQuery {
    /// The position and page size asked for, or why they are refused.
    fn parse(self) -> Result<(Option<Cursor>, i64), ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=100).contains(&limit) {
            return Err(ApiError::Validation(
                [(
                    "limit".to_owned(),
                    "limit must be between 1 and 100".to_owned(),
                )]
                .into(),
            ));
        }
        let cursor = match self.cursor.as_deref() {
            None | Some("") => None,
            Some(c) => Some(Cursor::parse(c).ok_or_else(|| {
                ApiError::bad_request("invalid_cursor", "cursor is not one this API handed out")
            })?),
        };
        Ok((cursor, limit))
    }
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
    let (cursor, limit) = query.into_inner().parse()?;
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
    answer(&state, QueryKey::Post(PostId(id.into_inner()))).await
}

/// Creates a post (event `post_created`).
#[utoipa::path(post, path = "/api/posts", tag = "posts", params(IdempotencyHeader), request_body = NewPost,
    responses(
        (status = 201, description = "The post as stored", body = Post),
        WriteErrors,
        SessionErrors,
    ))]
#[tracing::instrument(skip_all)]
pub async fn create_post(
    state: Data,
    req: HttpRequest,
    body: web::Json<NewPost>,
) -> Result<HttpResponse, ApiError> {
    let writer = session::writer(&state, &req).await?;
    let input = ValidNewPost::parse(body.clone()).map_err(ApiError::Validation)?;
    idempotent(&state, &req, &*body, create_post_write(input, writer)).await
}

/// The write of a new post (the JSON API's and the form's).
pub(crate) fn create_post_write(input: ValidNewPost, writer: Writer) -> impl Write {
    move |conn, now| {
        writer.must_be(input.user_id, "You can only post as yourself.")?;
        author_exists(conn, input.user_id)?;
        let post = repo::create_post(conn, &input, now)?;
        outcome(StatusCode::CREATED, post, EventKind::PostCreated)
    }
}

/// Changes a post's given fields (event `post_updated`).
#[utoipa::path(patch, path = "/api/posts/{id}", tag = "posts", params(("id" = i64, Path, minimum = 1, description = "The post's id"), IdempotencyHeader),
    request_body = PostPatch,
    responses(
        (status = 200, description = "The post as stored", body = Post),
        (status = 404, description = "No such post", body = ErrorBody),
        WriteErrors,
        SessionErrors,
    ))]
#[tracing::instrument(skip_all, fields(post = %id))]
pub async fn update_post(
    state: Data,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<PostPatch>,
) -> Result<HttpResponse, ApiError> {
    let writer = session::writer(&state, &req).await?;
    let id = PostId(id.into_inner());
    let patch = ValidPostPatch::parse(body.clone()).map_err(ApiError::Validation)?;
    idempotent(&state, &req, &*body, update_post_write(id, patch, writer)).await
}

/// Refused unless `writer` may change post `id` (its author; 404 if there
/// is no such post).
fn must_own_post(
    conn: &mut crate::db::DbConn,
    id: PostId,
    writer: Writer,
    refusal: &'static str,
) -> Result<(), ApiError> {
    if writer == Writer::Anyone {
        return Ok(());
    }
    let post = repo::get_post(conn, id)?.ok_or(ApiError::NotFound("post"))?;
    writer.must_be(post.user_id, refusal)
}

/// The write of a post edit or move.
pub(crate) fn update_post_write(id: PostId, patch: ValidPostPatch, writer: Writer) -> impl Write {
    move |conn, now| {
        must_own_post(conn, id, writer, "Only its author can change this post.")?;
        if let Some(user) = patch.user_id {
            author_exists(conn, user)?;
        }
        let post = repo::update_post(conn, id, &patch, now)?.ok_or(ApiError::NotFound("post"))?;
        outcome(StatusCode::OK, post, EventKind::PostUpdated)
    }
}

/// Deletes a post and its comments (event `post_deleted`).
#[utoipa::path(delete, path = "/api/posts/{id}", tag = "posts", params(("id" = i64, Path, minimum = 1, description = "The post's id"), IdempotencyHeader),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such post", body = ErrorBody),
        WriteErrors,
        SessionErrors,
    ))]
#[tracing::instrument(skip_all, fields(post = %id))]
pub async fn delete_post(
    state: Data,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let writer = session::writer(&state, &req).await?;
    let id = PostId(id.into_inner());
    idempotent(&state, &req, &(), delete_post_write(id, writer)).await
}

/// The write of a post's deletion.
pub(crate) fn delete_post_write(id: PostId, writer: Writer) -> impl Write {
    move |conn, _now| {
        must_own_post(conn, id, writer, "Only its author can delete this post.")?;
        let user_id = repo::delete_post(conn, id)?.ok_or(ApiError::NotFound("post"))?;
        Ok(Outcome {
            status: StatusCode::NO_CONTENT,
            body: None,
            event: Some(EventKind::PostDeleted { id, user_id }),
        })
    }
}

/// One page of a post's comments, newest first.
#[utoipa::path(get, path = "/api/posts/{id}/comments", tag = "posts",
    params(("id" = i64, Path, minimum = 1, description = "The post's id"), ListQuery),
    responses(
        (status = 200, description = "A page of the comments; `next_cursor` is absent on the last", body = Page<Comment>),
        (status = 404, description = "No such post", body = ErrorBody),
        (status = 422, description = "`limit` out of range (`validation_failed`)", body = ErrorBody),
        ReadErrors,
    ))]
#[tracing::instrument(skip_all, fields(post = %id))]
pub async fn list_comments(
    state: Data,
    id: web::Path<i64>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = PostId(id.into_inner());
    let (cursor, limit) = query.into_inner().parse()?;
    let page = read(&state, move |c| queries::comments(c, id, cursor, limit)).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Comments on a post (event `comment_created`).
#[utoipa::path(post, path = "/api/posts/{id}/comments", tag = "posts", params(("id" = i64, Path, minimum = 1, description = "The post's id"), IdempotencyHeader),
    request_body = NewComment,
    responses(
        (status = 201, description = "The comment as stored", body = Comment),
        (status = 404, description = "No such post", body = ErrorBody),
        WriteErrors,
        SessionErrors,
    ))]
#[tracing::instrument(skip_all, fields(post = %id))]
pub async fn create_comment(
    state: Data,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<NewComment>,
) -> Result<HttpResponse, ApiError> {
    session::writer(&state, &req).await?;
    let id = PostId(id.into_inner());
    let input = ValidNewComment::parse(body.clone()).map_err(ApiError::Validation)?;
    idempotent(&state, &req, &*body, create_comment_write(id, input)).await
}

/// The write of a comment.
pub(crate) fn create_comment_write(id: PostId, input: ValidNewComment) -> impl Write {
    move |conn, now| {
        let comment =
            repo::create_comment(conn, id, &input, now)?.ok_or(ApiError::NotFound("post"))?;
        outcome(StatusCode::CREATED, comment, EventKind::CommentCreated)
    }
}

/// Every user, by id.
#[utoipa::path(get, path = "/api/users", tag = "users",
    responses((status = 200, description = "The users", body = Vec<User>), ReadErrors))]
#[tracing::instrument(skip_all)]
pub async fn list_users(state: Data) -> Result<HttpResponse, ApiError> {
    answer(&state, QueryKey::Users).await
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
    answer(&state, QueryKey::User(UserId(id.into_inner()))).await
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
    answer(&state, QueryKey::UserPosts(UserId(id.into_inner()))).await
}

/// Changes a user's given fields (event `user_updated`).
#[utoipa::path(patch, path = "/api/users/{id}", tag = "users", params(("id" = i64, Path, minimum = 1, description = "The user's id"), IdempotencyHeader),
    request_body = UserPatch,
    responses(
        (status = 200, description = "The user as stored", body = User),
        (status = 404, description = "No such user", body = ErrorBody),
        WriteErrors,
        SessionErrors,
    ))]
#[tracing::instrument(skip_all, fields(user = %id))]
pub async fn update_user(
    state: Data,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<UserPatch>,
) -> Result<HttpResponse, ApiError> {
    let writer = session::writer(&state, &req).await?;
    let id = UserId(id.into_inner());
    let patch = ValidUserPatch::parse(body.clone()).map_err(ApiError::Validation)?;
    idempotent(&state, &req, &*body, update_user_write(id, patch, writer)).await
}

/// The write of a user edit.
pub(crate) fn update_user_write(id: UserId, patch: ValidUserPatch, writer: Writer) -> impl Write {
    move |conn, now| {
        writer.must_be(id, "You can only change your own profile.")?;
        let user = repo::update_user(conn, id, &patch, now)?.ok_or(ApiError::NotFound("user"))?;
        outcome(StatusCode::OK, user, EventKind::UserUpdated)
    }
}

/// A deliberately slow aggregate; the delay is `--deferred-delay-ms`.
#[utoipa::path(get, path = "/api/deferred", tag = "meta",
    responses((status = 200, description = "Counts of everything", body = Stats), ReadErrors))]
#[tracing::instrument(skip_all)]
pub async fn deferred(state: Data) -> Result<HttpResponse, ApiError> {
    tokio::time::sleep(Duration::from_millis(state.settings.deferred_delay_ms)).await;
    answer(&state, QueryKey::Deferred).await
}
