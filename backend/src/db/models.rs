//! Rows as stored, and their conversion into the API's DTOs.

use super::schema::{comments, posts, users};
use diesel::prelude::*;
use shared::{Comment, CommentId, Post, PostId, UserId};

/// Milliseconds since the epoch, as the API writes them.
pub fn from_millis(ms: i64) -> shared::Timestamp {
    shared::Timestamp::from_millis(ms)
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
    pub password_hash: &'a str,
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

#[cfg(test)]
mod tests {
    /// The API's timestamps are written by `shared::Timestamp`: the same
    /// text chrono writes for a `DateTime<Utc>` (the API before it), and
    /// read back to the same instant, over four millennia of milliseconds.
    #[test]
    fn timestamps_read_and_write_as_chrono_does() {
        let mut ms: i64 = -62_135_596_800_000; // 0001-01-01
        let mut step: i64 = 1;
        while ms < 253_402_300_799_999 {
            let ours = serde_json::to_string(&super::from_millis(ms)).unwrap();
            let chrono = chrono::DateTime::from_timestamp_millis(ms).unwrap();
            assert_eq!(ours, serde_json::to_string(&chrono).unwrap(), "{ms}");
            let back: shared::Timestamp = serde_json::from_str(&ours).unwrap();
            assert_eq!(back.millis(), ms);
            // Odd steps visit every field: leap days, month ends, fractions.
            step = (step * 7 + 13) % 9_000_000_007;
            ms += step;
        }
    }
}
