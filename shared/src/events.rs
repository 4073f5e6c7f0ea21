//! Server events: one per write, each with a monotonically increasing id.

use crate::dto::{Comment, Post, User};
use crate::ids::{PostId, UserId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An event as delivered on `/api/events` (`id:` is the SSE event id and
/// `event:` is [`EventKind::name`]; `data:` is this struct as JSON).
///
/// Read by hand (below) rather than by serde's derive: `flatten` and the
/// adjacently tagged enum buffer everything through serde's own `Content`
/// type, code the browser's download would carry for this one type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// Every `event:` name, as [`EventKind::name`] gives them.
    pub const NAMES: [&'static str; 6] = [
        "post_created",
        "post_updated",
        "post_deleted",
        "comment_created",
        "user_updated",
        "resync",
    ];

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

impl<'de> Deserialize<'de> for ServerEvent {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        fn decode<T: serde::de::DeserializeOwned, E: Error>(value: &Value) -> Result<T, E> {
            T::deserialize(value).map_err(E::custom)
        }
        let value = Value::deserialize(deserializer)?;
        let id = value
            .get("id")
            .and_then(Value::as_i64)
            .ok_or_else(|| D::Error::missing_field("id"))?;
        let data = value.get("data").unwrap_or(&Value::Null);
        let id_field = |name: &'static str| {
            data.get(name)
                .and_then(Value::as_i64)
                .ok_or_else(|| D::Error::missing_field(name))
        };
        let kind = match value.get("type").and_then(Value::as_str) {
            Some("post_created") => EventKind::PostCreated(decode(data)?),
            Some("post_updated") => EventKind::PostUpdated(decode(data)?),
            Some("post_deleted") => EventKind::PostDeleted {
                id: PostId(id_field("id")?),
                user_id: UserId(id_field("user_id")?),
            },
            Some("comment_created") => EventKind::CommentCreated(decode(data)?),
            Some("user_updated") => EventKind::UserUpdated(decode(data)?),
            Some("resync") => EventKind::Resync,
            Some(other) => {
                return Err(D::Error::unknown_variant(other, &EventKind::NAMES));
            }
            None => return Err(D::Error::missing_field("type")),
        };
        Ok(ServerEvent { id, kind })
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

    #[test]
    fn every_kind_reads_back_and_bad_events_are_refused() {
        use crate::ids::CommentId;
        use crate::time::Timestamp;
        let at = Timestamp::from_millis(1_767_582_000_120);
        let post = Post {
            id: PostId(3),
            user_id: UserId(1),
            title: "t".into(),
            body: "b".into(),
            created_at: at,
            updated_at: at,
        };
        let kinds = [
            EventKind::PostCreated(post.clone()),
            EventKind::PostUpdated(post),
            EventKind::PostDeleted {
                id: PostId(3),
                user_id: UserId(1),
            },
            EventKind::CommentCreated(Comment {
                id: CommentId(9),
                post_id: PostId(3),
                name: "n".into(),
                email: "e@example.com".into(),
                body: "c".into(),
                created_at: at,
            }),
            EventKind::UserUpdated(User {
                id: UserId(1),
                name: "N".into(),
                username: "u".into(),
                email: "u@example.com".into(),
                post_count: 2,
                last_active_at: at,
            }),
            EventKind::Resync,
        ];
        let mut names: Vec<&str> = kinds.iter().map(EventKind::name).collect();
        names.sort_unstable();
        let mut listed = EventKind::NAMES.to_vec();
        listed.sort_unstable();
        assert_eq!(names, listed, "NAMES lists every kind's name once");
        for (id, kind) in kinds.into_iter().enumerate() {
            let event = ServerEvent {
                id: id as i64,
                kind,
            };
            let json = serde_json::to_string(&event).unwrap();
            assert_eq!(serde_json::from_str::<ServerEvent>(&json).unwrap(), event);
        }
        for bad in [
            r#"{"type":"resync"}"#,
            r#"{"id":1}"#,
            r#"{"id":1,"type":"post_exploded","data":{}}"#,
            r#"{"id":1,"type":"post_deleted","data":{"id":3}}"#,
            r#"{"id":1,"type":"post_created","data":{"id":3}}"#,
            r#"[1]"#,
        ] {
            assert!(serde_json::from_str::<ServerEvent>(bad).is_err(), "{bad}");
        }
    }
}
