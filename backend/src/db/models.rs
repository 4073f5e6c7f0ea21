//! Rows as stored, and their conversion into the API's DTOs.

use super::schema::{comments, posts, users};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use shared::{Comment, CommentId, Post, PostId, UserId};

/// Milliseconds since the epoch -> UTC time (out-of-range values clamp to the epoch).
pub fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// A `posts` row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = posts)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct PostRow {
    pub id: i64,
    pub user_id: i64,
    pub title: String,
    pub body: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<PostRow> for Post {
    fn from(r: PostRow) -> Self {
        Post {
            id: PostId(r.id),
            user_id: UserId(r.user_id),
            title: r.title,
            body: r.body,
            created_at: from_millis(r.created_at),
            updated_at: from_millis(r.updated_at),
        }
    }
}

/// Insert form of a post.
#[derive(Debug, Insertable)]
#[diesel(table_name = posts)]
pub struct NewPostRow<'a> {
    pub user_id: i64,
    pub title: &'a str,
    pub body: &'a str,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A `users` row (the post count is computed separately).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct UserRow {
    pub id: i64,
    pub name: String,
    pub username: String,
    pub email: String,
    pub last_active_at: i64,
}

/// Insert form of a user (seed only).
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUserRow<'a> {
    pub name: &'a str,
    pub username: &'a str,
    pub email: &'a str,
    pub last_active_at: i64,
}

/// A `comments` row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = comments)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct CommentRow {
    pub id: i64,
    pub post_id: i64,
    pub name: String,
    pub email: String,
    pub body: String,
    pub created_at: i64,
}

impl From<CommentRow> for Comment {
    fn from(r: CommentRow) -> Self {
        Comment {
            id: CommentId(r.id),
            post_id: PostId(r.post_id),
            name: r.name,
            email: r.email,
            body: r.body,
            created_at: from_millis(r.created_at),
        }
    }
}

/// Insert form of a comment.
#[derive(Debug, Insertable)]
#[diesel(table_name = comments)]
pub struct NewCommentRow<'a> {
    pub post_id: i64,
    pub name: &'a str,
    pub email: &'a str,
    pub body: &'a str,
    pub created_at: i64,
}
