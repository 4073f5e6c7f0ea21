//! Typed query keys with one canonical, stable JSON form.
//!
//! A key serialises to a JSON array whose first element names the resource:
//! `["posts"]`, `["post",3]`, `["comments",3]`. That array is the identity of a
//! query in the cache, in the dehydrated state the server embeds, and in
//! persisted storage, so it must never change shape (and is never `Debug`
//! output). Prefix matching works on the array: `["post"]` matches every post.

use crate::ids::{PostId, UserId};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::fmt;

/// Every query the app makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QueryKey {
    /// `["posts"]`: the infinite, newest-first post list.
    Posts,
    /// `["post",id]`: one post.
    Post(PostId),
    /// `["comments",post_id]`: a post's comments.
    Comments(PostId),
    /// `["users"]`: all users.
    Users,
    /// `["user",id]`: one user.
    User(UserId),
    /// `["user_posts",id]`: a user's posts.
    UserPosts(UserId),
    /// `["deferred"]`: the slow stats aggregate.
    Deferred,
    /// `["double",n]`: `n` and `n * 2` (`/suspense-transition`).
    Double(i64),
    /// `["transition-double",n]`: `{n, double}` (`/transition/count/query`).
    TransitionDouble(i64),
    /// `["session"]`: who is signed in (`SessionInfo`). Every page embeds
    /// it, for the viewer it was rendered for.
    Session,
}

impl QueryKey {
    /// The resource name, the first element of the canonical array.
    pub fn name(&self) -> &'static str {
        match self {
            QueryKey::Posts => "posts",
            QueryKey::Post(_) => "post",
            QueryKey::Comments(_) => "comments",
            QueryKey::Users => "users",
            QueryKey::User(_) => "user",
            QueryKey::UserPosts(_) => "user_posts",
            QueryKey::Deferred => "deferred",
            QueryKey::Double(_) => "double",
            QueryKey::TransitionDouble(_) => "transition-double",
            QueryKey::Session => "session",
        }
    }

    /// The canonical array, element by element.
    pub fn segments(&self) -> Vec<Value> {
        let mut out = vec![Value::from(self.name())];
        match self {
            QueryKey::Post(id) | QueryKey::Comments(id) => out.push(Value::from(id.0)),
            QueryKey::User(id) | QueryKey::UserPosts(id) => out.push(Value::from(id.0)),
            QueryKey::Double(n) | QueryKey::TransitionDouble(n) => out.push(Value::from(*n)),
            QueryKey::Posts | QueryKey::Users | QueryKey::Deferred | QueryKey::Session => {}
        }
        out
    }

    /// The canonical JSON text, e.g. `["post",3]`.
    pub fn canonical(&self) -> String {
        Value::Array(self.segments()).to_string()
    }

    /// Parses the canonical array back into a key.
    pub fn from_segments(segments: &[Value]) -> Result<Self, String> {
        let name = segments
            .first()
            .and_then(Value::as_str)
            .ok_or_else(|| "a query key is a JSON array starting with a string".to_owned())?;
        let id = || -> Result<i64, String> {
            match segments {
                [_, v] => v
                    .as_i64()
                    .ok_or_else(|| format!("`{name}` key needs an integer id")),
                _ => Err(format!("`{name}` key takes exactly one id")),
            }
        };
        let bare = |key: QueryKey| -> Result<QueryKey, String> {
            if segments.len() == 1 {
                Ok(key)
            } else {
                Err(format!("`{name}` key takes no arguments"))
            }
        };
        match name {
            "posts" => bare(QueryKey::Posts),
            "users" => bare(QueryKey::Users),
            "deferred" => bare(QueryKey::Deferred),
            "session" => bare(QueryKey::Session),
            "post" => Ok(QueryKey::Post(PostId(id()?))),
            "comments" => Ok(QueryKey::Comments(PostId(id()?))),
            "user" => Ok(QueryKey::User(UserId(id()?))),
            "user_posts" => Ok(QueryKey::UserPosts(UserId(id()?))),
            "double" => Ok(QueryKey::Double(id()?)),
            "transition-double" => Ok(QueryKey::TransitionDouble(id()?)),
            other => Err(format!("unknown query key `{other}`")),
        }
    }

    /// True when `prefix` equals the first `prefix.len()` segments of this key.
    pub fn starts_with(&self, prefix: &[Value]) -> bool {
        let segments = self.segments();
        prefix.len() <= segments.len() && segments.iter().zip(prefix).all(|(a, b)| a == b)
    }
}

impl fmt::Display for QueryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

impl Serialize for QueryKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.segments().serialize(s)
    }
}

impl<'de> Deserialize<'de> for QueryKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let segments = Vec::<Value>::deserialize(d)?;
        QueryKey::from_segments(&segments).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn all() -> Vec<QueryKey> {
        vec![
            QueryKey::Posts,
            QueryKey::Post(PostId(3)),
            QueryKey::Comments(PostId(3)),
            QueryKey::Users,
            QueryKey::User(UserId(7)),
            QueryKey::UserPosts(UserId(7)),
            QueryKey::Deferred,
            QueryKey::Double(2),
            QueryKey::TransitionDouble(2),
            QueryKey::Session,
        ]
    }

    #[test]
    fn canonical_forms_are_the_documented_arrays() {
        assert_eq!(QueryKey::Posts.canonical(), r#"["posts"]"#);
        assert_eq!(QueryKey::Post(PostId(3)).canonical(), r#"["post",3]"#);
        assert_eq!(
            QueryKey::Comments(PostId(3)).canonical(),
            r#"["comments",3]"#
        );
        assert_eq!(
            QueryKey::UserPosts(UserId(2)).canonical(),
            r#"["user_posts",2]"#
        );
        assert_eq!(
            serde_json::to_value(QueryKey::User(UserId(1))).unwrap(),
            json!(["user", 1])
        );
    }

    #[test]
    fn every_key_round_trips_through_json() {
        for key in all() {
            let text = serde_json::to_string(&key).unwrap();
            assert_eq!(text, key.canonical());
            assert_eq!(serde_json::from_str::<QueryKey>(&text).unwrap(), key);
        }
    }

    #[test]
    fn distinct_keys_have_distinct_canonical_forms() {
        let mut seen = std::collections::HashSet::new();
        for key in all() {
            assert!(
                seen.insert(key.canonical()),
                "duplicate canonical form for {key:?}"
            );
        }
    }

    #[test]
    fn malformed_keys_are_rejected_with_a_reason() {
        for bad in [
            json!([]),
            json!(["nope"]),
            json!(["post"]),
            json!(["post", "3"]),
            json!(["post", 3, 4]),
            json!(["posts", 1]),
            json!({"post": 3}),
        ] {
            assert!(
                serde_json::from_value::<QueryKey>(bad.clone()).is_err(),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn prefix_matching_uses_segments() {
        let key = QueryKey::Post(PostId(3));
        assert!(key.starts_with(&[json!("post")]));
        assert!(key.starts_with(&[json!("post"), json!(3)]));
        assert!(key.starts_with(&[]));
        assert!(!key.starts_with(&[json!("post"), json!(4)]));
        assert!(!key.starts_with(&[json!("posts")]));
        assert!(!key.starts_with(&[json!("post"), json!(3), json!(1)]));
    }
}
