//! The one read behind each query key: the API's GET handlers answer it and
//! the prerenderer embeds it, so a page's state is exactly what the API
//! would answer for the same key.

use crate::db::repo::Cursor;
use crate::db::{DbConn, repo};
use crate::error::ApiError;
use serde::Serialize;
use shared::{Comment, DEFAULT_PAGE_SIZE, Doubled, Page, Post, PostId, QueryKey, Stats, User};

/// A query's data, serialised exactly as the API answers it.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum QueryData {
    /// `["posts"]`: the first page of the post list.
    Posts(Page<Post>),
    /// `["post",id]`.
    Post(Post),
    /// `["comments",post_id]`: the first page, newest first.
    Comments(Page<Comment>),
    /// `["users"]`.
    Users(Vec<User>),
    /// `["user",id]`.
    User(User),
    /// `["user_posts",id]`.
    UserPosts(Vec<Post>),
    /// `["deferred"]`: the aggregate, computed at `now`.
    Stats(Stats),
    /// `["double",n]` and `["transition-double",n]`: `n` and `n * 2`.
    Doubled(Doubled),
}

/// A page of a post's comments (the first is `["comments",id]`'s data);
/// a missing post is `NotFound`.
pub fn comments(
    conn: &mut DbConn,
    post: PostId,
    cursor: Option<Cursor>,
    limit: i64,
) -> Result<Page<Comment>, ApiError> {
    repo::list_comments(conn, post, cursor, limit)?.ok_or(ApiError::NotFound("post"))
}

/// Reads `key`'s data; a missing post or user is `NotFound`.
pub fn read(conn: &mut DbConn, key: QueryKey, now: i64) -> Result<QueryData, ApiError> {
    Ok(match key {
        QueryKey::Posts => QueryData::Posts(repo::list_posts(conn, None, DEFAULT_PAGE_SIZE)?),
        QueryKey::Post(id) => {
            QueryData::Post(repo::get_post(conn, id)?.ok_or(ApiError::NotFound("post"))?)
        }
        QueryKey::Comments(id) => QueryData::Comments(comments(conn, id, None, DEFAULT_PAGE_SIZE)?),
        QueryKey::Users => QueryData::Users(repo::list_users(conn)?),
        QueryKey::User(id) => {
            QueryData::User(repo::get_user(conn, id)?.ok_or(ApiError::NotFound("user"))?)
        }
        QueryKey::UserPosts(id) => {
            QueryData::UserPosts(repo::user_posts(conn, id)?.ok_or(ApiError::NotFound("user"))?)
        }
        QueryKey::Deferred => QueryData::Stats(repo::stats(conn, now)?),
        // The transition demos' data is computed, not stored.
        QueryKey::Double(n) | QueryKey::TransitionDouble(n) => QueryData::Doubled(Doubled::of(n)),
        // Depends on who asks: `/api/session`, and each page for its viewer.
        QueryKey::Session => {
            return Err(ApiError::unexpected(std::io::Error::other(
                "the session query is read per viewer, never shared",
            )));
        }
    })
}
