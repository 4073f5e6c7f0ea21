//! Domain DTOs exactly as they travel over the API (snake_case JSON).

use crate::ids::{CommentId, PostId, UserId};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// A post, as returned by `GET /api/posts/{id}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    /// Server-assigned id.
    pub id: PostId,
    /// Author.
    pub user_id: UserId,
    /// 1..=200 characters after trimming.
    pub title: String,
    /// 1..=10000 characters after trimming.
    pub body: String,
    /// When the post was created.
    pub created_at: Timestamp,
    /// When the post was last changed.
    pub updated_at: Timestamp,
}

/// A user with the aggregates the users pages show.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Server-assigned id.
    pub id: UserId,
    /// Display name, 1..=100 characters.
    pub name: String,
    /// Handle.
    pub username: String,
    /// Contact address.
    pub email: String,
    /// How many posts the user has.
    pub post_count: i64,
    /// The last time the user wrote something.
    pub last_active_at: Timestamp,
}

/// Body of `POST /api/session`: who signs in.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// The account's email (any case).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 254))]
    pub email: String,
    /// Its password.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1024))]
    pub password: String,
}

/// Who is signed in (`GET /api/session`, and the answer to a sign-in).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// The signed-in user; `null` when nobody is.
    pub user: Option<User>,
    /// Whether writes need a session (the backend's `--require-sessions`):
    /// when false, a client that is not signed in may write as anyone.
    #[serde(default)]
    pub sessions_required: bool,
}

impl SessionInfo {
    /// The signed-in user's id, if anyone is signed in.
    pub fn user_id(&self) -> Option<UserId> {
        self.user.as_ref().map(|u| u.id)
    }

    /// Whether this viewer may create posts and comments.
    pub fn may_write(&self) -> bool {
        self.user.is_some() || !self.sessions_required
    }

    /// Whether this viewer may change what `owner` owns (their posts, their
    /// profile): only its owner, or anyone while sessions are not required
    /// and nobody is signed in.
    pub fn may_change(&self, owner: UserId) -> bool {
        match &self.user {
            Some(user) => user.id == owner,
            None => !self.sessions_required,
        }
    }
}

/// A comment on a post.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    /// Server-assigned id.
    pub id: CommentId,
    /// The post commented on.
    pub post_id: PostId,
    /// Commenter's name.
    pub name: String,
    /// Commenter's email.
    pub email: String,
    /// The comment text.
    pub body: String,
    /// When the comment was made.
    pub created_at: Timestamp,
}

/// Body of `POST /api/posts`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPost {
    /// Author; must exist.
    pub user_id: UserId,
    /// Title.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub title: String,
    /// Body.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 10000))]
    pub body: String,
}

/// Body of `PATCH /api/posts/{id}`: absent fields stay as they are.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(min_properties = 1))]
pub struct PostPatch {
    /// New title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub title: Option<String>,
    /// New body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 10000))]
    pub body: Option<String>,
    /// New author (moves the post).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
}

/// Body of `PATCH /api/users/{id}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(min_properties = 1))]
pub struct UserPatch {
    /// New display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub name: Option<String>,
    /// New email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(format = Email))]
    pub email: Option<String>,
}

/// Body of `POST /api/posts/{id}/comments`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    /// Commenter's name.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub name: String,
    /// Commenter's email.
    #[cfg_attr(feature = "openapi", schema(format = Email))]
    pub email: String,
    /// The comment text.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 10000))]
    pub body: String,
}

/// Page size of `GET /api/posts` when no `limit` is given; also the size of
/// the first page the server prerenders.
pub const DEFAULT_PAGE_SIZE: i64 = 20;

/// One page of a cursor-paginated list.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items of this page, in list order.
    pub items: Vec<T>,
    /// Pass as `cursor=` to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// The slow aggregate behind `GET /api/deferred`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Number of users.
    pub users: i64,
    /// Number of posts.
    pub posts: i64,
    /// Number of comments.
    pub comments: i64,
    /// When the aggregate was computed.
    pub computed_at: Timestamp,
}

/// The transition demos' data (TanStack's e2e routes): a count and its
/// double, computed wherever it is asked for (no API behind it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Doubled {
    /// The count.
    pub n: i64,
    /// Twice the count.
    pub double: i64,
}

impl Doubled {
    /// `n` and its double.
    pub fn of(n: i64) -> Self {
        Self {
            n,
            double: n.saturating_mul(2),
        }
    }
}
