//! Query keys: a JSON array with one canonical text form.
//!
//! The array is the identity of a query. Two keys are equal exactly when their
//! canonical JSON text is equal, so a key can be hashed, persisted and sent
//! between tabs without ever depending on `Debug` output or field order.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

/// A query key such as `["post", 3]`.
///
/// ```
/// use querent::QueryKey;
/// use serde_json::json;
/// let key = QueryKey::from(vec![json!("post"), json!(3)]);
/// assert_eq!(key.canonical(), r#"["post",3]"#);
/// assert!(key.starts_with(&QueryKey::from(vec![json!("post")])));
/// ```
#[derive(Clone)]
pub struct QueryKey {
    segments: Rc<[Value]>,
    canonical: Rc<str>,
}

impl QueryKey {
    /// The key's elements.
    pub fn segments(&self) -> &[Value] {
        &self.segments
    }

    /// The canonical JSON text, e.g. `["post",3]`.
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    /// The key of anything that serialises to a JSON array: a `QueryKey`,
    /// a typed [`Key`](crate::typed::Key) or
    /// [`QuerySpec`](crate::typed::QuerySpec), a tuple, or an app's own key
    /// type. Methods taking a key prefix take any of these.
    ///
    /// ```
    /// # use querent::QueryKey;
    /// assert_eq!(QueryKey::of(&("post", 3)).canonical(), r#"["post",3]"#);
    /// ```
    ///
    /// # Panics
    /// If `key` does not serialise to a JSON array (a programming error).
    pub fn of<K: Serialize + ?Sized>(key: &K) -> Self {
        match serde_json::to_value(key) {
            Ok(Value::Array(segments)) => Self::from(segments),
            other => panic!("a query key serialises to a JSON array, not {other:?}"),
        }
    }

    /// The empty key: the prefix of every key (to invalidate everything).
    pub fn all() -> Self {
        Self::from(vec![])
    }

    /// Parses canonical text (any JSON array).
    ///
    /// ```
    /// # use querent::QueryKey;
    /// assert!(QueryKey::parse(r#"["users"]"#).is_some());
    /// assert!(QueryKey::parse(r#"{"users":1}"#).is_none());
    /// ```
    pub fn parse(text: &str) -> Option<Self> {
        match serde_json::from_str::<Value>(text).ok()? {
            Value::Array(items) => Some(Self::from(items)),
            _ => None,
        }
    }

    /// True when `prefix`'s elements are the first elements of this key. The
    /// empty key is a prefix of every key.
    pub fn starts_with(&self, prefix: &QueryKey) -> bool {
        prefix.segments.len() <= self.segments.len()
            && self
                .segments
                .iter()
                .zip(prefix.segments.iter())
                .all(|(a, b)| a == b)
    }

    /// TanStack's `partialMatchKey`: this key starts with `filter`'s
    /// elements, where an object element matches when every field the
    /// filter's object gives matches (recursively), and an array element
    /// when the filter's array is its start. `["todos", {"status": "done"}]`
    /// picks `["todos", {"status": "done", "page": 2}]`.
    ///
    /// ```
    /// # use querent::QueryKey;
    /// let key = QueryKey::of(&serde_json::json!(["todos", {"status": "done", "page": 2}]));
    /// assert!(key.partially_matches(&QueryKey::of(&serde_json::json!(["todos", {"status": "done"}]))));
    /// assert!(!key.partially_matches(&QueryKey::of(&serde_json::json!(["todos", {"status": "open"}]))));
    /// ```
    pub fn partially_matches(&self, filter: &QueryKey) -> bool {
        filter.segments.len() <= self.segments.len()
            && self
                .segments
                .iter()
                .zip(filter.segments.iter())
                .all(|(a, b)| partial_match(a, b))
    }
}

/// `a` includes `b`: equal scalars, `b`'s array a start of `a`'s, `b`'s
/// object fields all in `a`'s.
fn partial_match(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(a), Value::Array(b)) => {
            b.len() <= a.len() && a.iter().zip(b).all(|(a, b)| partial_match(a, b))
        }
        (Value::Object(a), Value::Object(b)) => b
            .iter()
            .all(|(k, b)| a.get(k).is_some_and(|a| partial_match(a, b))),
        (a, b) => a == b,
    }
}

impl From<Vec<Value>> for QueryKey {
    fn from(segments: Vec<Value>) -> Self {
        let canonical = Value::Array(segments.clone()).to_string();
        Self {
            segments: segments.into(),
            canonical: canonical.into(),
        }
    }
}

impl PartialEq for QueryKey {
    fn eq(&self, other: &Self) -> bool {
        self.canonical == other.canonical
    }
}

impl Eq for QueryKey {}

impl Hash for QueryKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.canonical.hash(state);
    }
}

impl PartialOrd for QueryKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for QueryKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.canonical.cmp(&other.canonical)
    }
}

impl fmt::Debug for QueryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical)
    }
}

impl fmt::Display for QueryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical)
    }
}

impl Serialize for QueryKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.segments.serialize(s)
    }
}

impl<'de> Deserialize<'de> for QueryKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self::from(Vec::<Value>::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_arrays_are_equal_keys_whatever_their_origin() {
        let a = QueryKey::from(vec![json!("post"), json!(3)]);
        let b = QueryKey::parse("[ \"post\" , 3 ]").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.canonical(), b.canonical());
        let mut set = std::collections::HashSet::new();
        set.insert(a);
        assert!(set.contains(&b));
    }

    #[test]
    fn numbers_and_strings_differ() {
        assert_ne!(
            QueryKey::from(vec![json!("post"), json!(3)]),
            QueryKey::from(vec![json!("post"), json!("3")])
        );
    }

    #[test]
    fn prefixes() {
        let key = QueryKey::from(vec![json!("post"), json!(3)]);
        assert!(key.starts_with(&QueryKey::from(vec![])));
        assert!(key.starts_with(&QueryKey::from(vec![json!("post")])));
        assert!(key.starts_with(&key.clone()));
        assert!(!key.starts_with(&QueryKey::from(vec![json!("posts")])));
        assert!(!key.starts_with(&QueryKey::from(vec![json!("post"), json!(3), json!(1)])));
    }
}
