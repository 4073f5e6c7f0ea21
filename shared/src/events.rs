//! Server events: one per write, each with a monotonically increasing id.

use crate::dto::{Comment, Post, User};
use crate::ids::{PostId, UserId};
use serde::{Deserialize, Serialize};

/// An event as delivered on `/api/events` (`id:` is the SSE event id and
/// `event:` is [`EventKind::name`]; `data:` is this struct as JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerEvent {
    /// Strictly increasing across the whole deployment (all instances).
    pub id: i64,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened, with the new state of the changed entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum EventKind {
    /// A post was created.
    PostCreated(Post),
    /// A post was edited (or moved to another author).
    PostUpdated(Post),
    /// A post was deleted.
    PostDeleted {
        /// The deleted post.
        id: PostId,
        /// Its author.
        user_id: UserId,
    },
    /// A comment was added.
    CommentCreated(Comment),
    /// A user was edited.
    UserUpdated(User),
    /// The client missed events that are no longer in the log: refetch
    /// everything it shows. Sent only to that client, never stored.
    Resync,
}

impl EventKind {
    /// The SSE `event:` name.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::PostCreated(_) => "post_created",
            EventKind::PostUpdated(_) => "post_updated",
            EventKind::PostDeleted { .. } => "post_deleted",
            EventKind::CommentCreated(_) => "comment_created",
            EventKind::UserUpdated(_) => "user_updated",
            EventKind::Resync => "resync",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialise_with_type_and_data() {
        let event = ServerEvent {
            id: 7,
            kind: EventKind::PostDeleted {
                id: PostId(3),
                user_id: UserId(1),
            },
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id":7,"type":"post_deleted","data":{"id":3,"user_id":1}})
        );
        assert_eq!(serde_json::from_value::<ServerEvent>(json).unwrap(), event);
    }
}
