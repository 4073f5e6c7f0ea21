//! Dehydrate the cache to JSON and hydrate it back: how the server's
//! embedded state and the persisted state enter the client.
//!
//! This is the format a server embeds into its pages and streams after
//! them (the rest of that protocol is [`crate::ssr`]), and the one
//! persistence stores:
//! `{"version":1,"queries":[{"key":[…],"state":{"status":"success","data":…,
//! "updated_at":ms}}]}`; a settled error is
//! `{"status":"error","error":{"error":{"code","message"}},"http_status":404,…}`.

use crate::client::{QueryClient, QuerySummary};
use crate::error::QueryError;
use crate::key::QueryKey;
use crate::mutation::MutationRecord;
use crate::query::QueryStatus;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::rc::Rc;

/// The format version this crate reads and writes.
pub const VERSION: u32 = 1;

/// A snapshot of queries (and, for persistence, paused mutations). Read
/// by hand (below), as its text is written by hand
/// ([`DehydratedState::write_json`]): serde's derive would be code of its
/// own in the browser's download.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DehydratedState {
    /// Format version.
    #[serde(default)]
    pub version: u32,
    /// The queries.
    #[serde(default)]
    pub queries: Vec<DehydratedQuery>,
    /// Paused mutations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mutations: Vec<Value>,
    /// When the snapshot was written, by the writer's clock (ms): set by a
    /// server, whose clock is not the browser's. Hydration moves the
    /// snapshot's times onto the client's clock by the difference, so each
    /// query keeps its age and "the newer wins" compares like with like.
    /// Unset for snapshots this client wrote (persistence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written_at: Option<i64>,
    /// Queries the writer was still fetching: their state follows in a
    /// later snapshot (a server streaming a page's slow queries after it).
    /// [`hydrate`] leaves them alone; the reader starts them as a fetch that
    /// awaits that snapshot, as TanStack Query hydrates a pending query with
    /// its promise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<QueryKey>,
}

impl DehydratedState {
    /// Appends its JSON text to `out`: the text its derived `Serialize`
    /// writes (a test holds them equal), written by hand because the
    /// browser's persisters write it on every change and serde's derive
    /// for the nested types would be their own code in the download.
    pub fn write_json(&self, out: &mut String) {
        use std::fmt::Write as _;
        let _ = write!(out, "{{\"version\":{},\"queries\":", self.version);
        write_list(out, &self.queries, |out, query| {
            let _ = write!(out, "{{\"key\":{},\"state\":", query.key.canonical());
            let _ = match &query.state {
                DehydratedQueryState::Success { data, updated_at } => write!(
                    out,
                    "{{\"status\":\"success\",\"data\":{data},\"updated_at\":{updated_at}}}}}"
                ),
                DehydratedQueryState::Error {
                    error,
                    http_status,
                    updated_at,
                } => write!(
                    out,
                    "{{\"status\":\"error\",\"error\":{error},\"http_status\":{http_status},\"updated_at\":{updated_at}}}}}"
                ),
            };
        });
        if !self.mutations.is_empty() {
            out.push_str(",\"mutations\":");
            write_list(out, &self.mutations, |out, mutation| {
                let _ = write!(out, "{mutation}");
            });
        }
        if let Some(at) = self.written_at {
            let _ = write!(out, ",\"written_at\":{at}");
        }
        if !self.pending.is_empty() {
            out.push_str(",\"pending\":");
            write_list(out, &self.pending, |out, key| out.push_str(key.canonical()));
        }
        out.push('}');
    }

    /// The state of `key`, if the snapshot has it.
    pub fn get(&self, key: &QueryKey) -> Option<&DehydratedQueryState> {
        self.queries
            .iter()
            .find(|q| q.key == *key)
            .map(|q| &q.state)
    }

    /// The keys it holds, in order.
    pub fn keys(&self) -> Vec<QueryKey> {
        self.queries.iter().map(|q| q.key.clone()).collect()
    }
}

impl<'de> Deserialize<'de> for DehydratedState {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        Self::from_json(Value::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

impl DehydratedState {
    /// What its derived `Deserialize` would read: every field optional
    /// (absent: empty), `written_at` also `null`.
    fn from_json(value: Value) -> Result<Self, String> {
        let Value::Object(mut fields) = value else {
            return Err("a snapshot is an object".into());
        };
        let mut list = |name: &str| match fields.remove(name) {
            None => Ok(vec![]),
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(format!("a snapshot's {name} is a list")),
        };
        let key = |value: Value| match value {
            Value::Array(segments) => Ok(QueryKey::from(segments)),
            _ => Err("a query key is a list".to_owned()),
        };
        let mut queries = Vec::new();
        for query in list("queries")? {
            let Value::Object(mut query) = query else {
                return Err("a query is an object".to_owned());
            };
            let (Some(key_value), Some(state)) = (query.remove("key"), query.remove("state"))
            else {
                return Err("a query has a key and a state".to_owned());
            };
            queries.push(DehydratedQuery {
                key: key(key_value)?,
                state: DehydratedQueryState::from_json(state)?,
            });
        }
        let mutations = list("mutations")?;
        let mut pending = Vec::new();
        for value in list("pending")? {
            pending.push(key(value)?);
        }
        let version = match fields.get("version") {
            None => 0,
            Some(v) => v
                .as_u64()
                .and_then(|v| u32::try_from(v).ok())
                .ok_or("a snapshot's version is a number")?,
        };
        let written_at = match fields.get("written_at").filter(|v| !v.is_null()) {
            None => None,
            Some(at) => Some(at.as_i64().ok_or("written_at is a number")?),
        };
        Ok(Self {
            version,
            queries,
            mutations,
            written_at,
            pending,
        })
    }
}

/// `[item, item, ...]` onto `out`.
fn write_list<T>(out: &mut String, items: &[T], item: impl Fn(&mut String, &T)) {
    out.push('[');
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        item(out, x);
    }
    out.push(']');
}

/// One query in a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DehydratedQuery {
    /// Its key.
    pub key: QueryKey,
    /// Its settled state.
    pub state: DehydratedQueryState,
}

/// A settled query. Read by hand (below): serde's derive for an internally
/// tagged enum buffers through serde's own `Content` type, code the
/// browser's download would carry for this one type.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DehydratedQueryState {
    /// Data.
    Success {
        /// The data (shared with the cache: dehydrating copies nothing).
        data: Rc<Value>,
        /// When it was fetched (ms since the epoch).
        updated_at: i64,
    },
    /// A failure (the API's error body).
    Error {
        /// `{"error":{"code","message"}}`.
        error: Value,
        /// HTTP status.
        http_status: u16,
        /// When it failed.
        updated_at: i64,
    },
}

impl<'de> Deserialize<'de> for DehydratedQueryState {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        Self::from_json(Value::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

impl DehydratedQueryState {
    /// Read from a value of its own (its data moved, not copied).
    fn from_json(value: Value) -> Result<Self, String> {
        let Value::Object(mut fields) = value else {
            return Err("a query state is an object".into());
        };
        let updated_at = fields
            .get("updated_at")
            .and_then(Value::as_i64)
            .ok_or("missing field `updated_at`")?;
        match fields.get("status").and_then(Value::as_str) {
            Some("success") => Ok(Self::Success {
                data: Rc::new(fields.remove("data").ok_or("missing field `data`")?),
                updated_at,
            }),
            Some("error") => Ok(Self::Error {
                http_status: fields
                    .get("http_status")
                    .and_then(Value::as_u64)
                    .and_then(|s| u16::try_from(s).ok())
                    .ok_or("missing field `http_status`")?,
                error: fields.remove("error").ok_or("missing field `error`")?,
                updated_at,
            }),
            Some(other) => Err(format!(
                "unknown variant `{other}`, expected `success` or `error`"
            )),
            None => Err("missing field `status`".into()),
        }
    }
}

impl DehydratedQueryState {
    fn shifted(self, by: i64) -> Self {
        match self {
            Self::Success { data, updated_at } => Self::Success {
                data,
                updated_at: updated_at.saturating_add(by),
            },
            Self::Error {
                error,
                http_status,
                updated_at,
            } => Self::Error {
                error,
                http_status,
                updated_at: updated_at.saturating_add(by),
            },
        }
    }

    /// The data, or the failure as a [`QueryError`] (the API's error code
    /// and message, with its status).
    pub fn into_result(self) -> Result<Rc<Value>, QueryError> {
        match self {
            Self::Success { data, .. } => Ok(data),
            Self::Error {
                error, http_status, ..
            } => {
                let field = |name: &str| error["error"][name].as_str().map(str::to_owned);
                Err(QueryError::http(
                    http_status,
                    field("code").unwrap_or_else(|| "error".to_owned()),
                    field("message").unwrap_or_default(),
                ))
            }
        }
    }

    /// When it was fetched, or failed.
    pub fn updated_at(&self) -> i64 {
        match self {
            Self::Success { updated_at, .. } | Self::Error { updated_at, .. } => *updated_at,
        }
    }
}

/// Which queries go into a snapshot (TanStack's `shouldDehydrateQuery`).
pub type ShouldDehydrateQuery = Rc<dyn Fn(&QuerySummary) -> bool>;
/// Which mutations go into a snapshot (TanStack's `shouldDehydrateMutation`).
pub type ShouldDehydrateMutation = Rc<dyn Fn(&MutationRecord) -> bool>;

/// What [`dehydrate_with`] puts in a snapshot (TanStack's
/// `DehydrateOptions`). The defaults are querent's: every query with data
/// (also one whose last refetch failed: its data is kept, as it is shown;
/// TanStack takes only successful ones), and every mutation not yet
/// confirmed (so a reload replays it exactly once; TanStack takes the
/// paused ones).
#[derive(Clone, Default)]
pub struct DehydrateOptions {
    /// Only the queries this accepts; a query without data is written as
    /// its settled error when it failed with an HTTP answer (the format
    /// carries the status and the API's error body), else left out.
    pub should_dehydrate_query: Option<ShouldDehydrateQuery>,
    /// Only the mutations this accepts.
    pub should_dehydrate_mutation: Option<ShouldDehydrateMutation>,
}

impl std::fmt::Debug for DehydrateOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DehydrateOptions")
            .field(
                "should_dehydrate_query",
                &self.should_dehydrate_query.is_some(),
            )
            .field(
                "should_dehydrate_mutation",
                &self.should_dehydrate_mutation.is_some(),
            )
            .finish()
    }
}

/// A query's snapshot state, if it has one to give.
fn dehydrated_state(state: &crate::query::QueryState) -> Option<DehydratedQueryState> {
    if let Some(data) = &state.data {
        return Some(DehydratedQueryState::Success {
            data: Rc::clone(data),
            updated_at: state.data_updated_at,
        });
    }
    let error = state.error.as_ref()?;
    let crate::error::ErrorKind::Http(http_status) = error.kind else {
        return None;
    };
    Some(DehydratedQueryState::Error {
        error: serde_json::json!({"error": {"code": error.code, "message": error.message}}),
        http_status,
        updated_at: state.error_updated_at,
    })
}

/// Snapshots every query that has data, and every mutation the server has
/// not confirmed yet.
pub fn dehydrate(client: &QueryClient) -> DehydratedState {
    dehydrate_with(client, &DehydrateOptions::default())
}

/// [`dehydrate`] with TanStack's options: which queries and mutations go in.
///
/// ```
/// use querent::hydration::{DehydrateOptions, dehydrate_with};
/// use querent::{QueryClient, QueryKey};
/// use serde_json::json;
/// use std::rc::Rc;
/// # let (platform, _runner) = querent::testing::FakePlatform::new();
/// let client = QueryClient::new(platform);
/// client.set_query_data(&QueryKey::from(vec![json!("public")]), |_| Some(json!(1)));
/// client.set_query_data(&QueryKey::from(vec![json!("private")]), |_| Some(json!(2)));
/// let only_public = DehydrateOptions {
///     should_dehydrate_query: Some(Rc::new(|q| q.key.segments()[0] == json!("public"))),
///     ..DehydrateOptions::default()
/// };
/// assert_eq!(dehydrate_with(&client, &only_public).queries.len(), 1);
/// ```
pub fn dehydrate_with(client: &QueryClient, options: &DehydrateOptions) -> DehydratedState {
    let query_wanted = |q: &QuerySummary| match &options.should_dehydrate_query {
        Some(wanted) => wanted(q),
        None => q.state.data.is_some(),
    };
    let mutation_wanted = |m: &MutationRecord| match &options.should_dehydrate_mutation {
        Some(wanted) => wanted(m),
        None => m.is_unsettled(),
    };
    DehydratedState {
        version: VERSION,
        queries: client
            .queries()
            .into_iter()
            .filter(|q| query_wanted(q))
            .filter_map(|q| {
                let state = dehydrated_state(&q.state)?;
                Some(DehydratedQuery { key: q.key, state })
            })
            .collect(),
        mutations: client
            .mutations()
            .into_iter()
            .filter(|m| mutation_wanted(m))
            .filter_map(|m| serde_json::to_value(m).ok())
            .collect(),
        written_at: None,
        pending: vec![],
    }
}

/// Adopts a snapshot. A query already in the cache is replaced only by a
/// strictly newer one (the newer `updated_at` wins, whichever source it came
/// from). Returns how many queries were applied. Snapshots of another format
/// version are ignored.
pub fn hydrate(client: &QueryClient, state: DehydratedState) -> usize {
    if state.version != VERSION {
        return 0;
    }
    // Another clock's times, moved onto ours (the age at writing is kept).
    let shift = state
        .written_at
        .map_or(0, |at| client.now().saturating_sub(at));
    let mut applied = 0;
    for query in state.queries {
        let query = DehydratedQuery {
            key: query.key,
            state: query.state.shifted(shift),
        };
        let current = client.get_query_state(&query.key);
        let current_at = current.as_ref().map_or(i64::MIN, |s| {
            if s.status == QueryStatus::Pending {
                i64::MIN
            } else {
                s.data_updated_at.max(s.error_updated_at)
            }
        });
        if query.state.updated_at() <= current_at {
            continue;
        }
        let updated_at = query.state.updated_at();
        match query.state.into_result() {
            Ok(data) => client.set_query_data_rc(&query.key, data, updated_at),
            Err(error) => client.set_query_error_at(&query.key, error, updated_at),
        }
        applied += 1;
    }
    applied
}

/// [`hydrate`], and the state's `pending` queries started as fetches that
/// adopt their results from `streamed` (TanStack's hydration of a pending
/// query with its promise): a server that wrote the page while those
/// queries were still loading sends their settled state later in the same
/// response (see [`crate::ssr`]). Each pending query is fetching at once,
/// so every observer joins that fetch instead of asking the server; it
/// settles when `streamed` gives the state, with the query's result in
/// it. Where `streamed` ends without one (`None`, or no such key), the
/// fetch asks `spec_of(key)`'s fetcher after all, as later refetches do
/// (a key `spec_of` does not know stays unfetched). Returns how many
/// queries were hydrated.
pub fn hydrate_streamed(
    client: &QueryClient,
    state: DehydratedState,
    streamed: impl Future<Output = Option<DehydratedState>> + 'static,
    spec_of: impl Fn(&QueryKey) -> Option<(crate::options::Fetcher, crate::QueryOptions)>,
) -> usize {
    use futures::FutureExt;
    let pending = state.pending.clone();
    let hydrated = hydrate(client, state);
    let streamed = async move { streamed.await.map(Rc::new) }
        .boxed_local()
        .shared();
    for key in pending {
        let Some((fetcher, options)) = spec_of(&key) else {
            continue;
        };
        // The first attempt awaits the stream; a retry or refetch asks
        // the fetcher.
        let first = Rc::new(std::cell::Cell::new(true));
        let streamed = streamed.clone();
        let first_call = Rc::clone(&first);
        let adopting: crate::options::Fetcher = Rc::new(move |ctx| {
            let fetcher = Rc::clone(&fetcher);
            let streamed = first_call.replace(false).then(|| streamed.clone());
            Box::pin(async move {
                if let Some(streamed) = streamed
                    && let Some(state) = streamed.await
                    && let Some(query) = state.queries.iter().find(|q| q.key == ctx.key)
                {
                    return query.state.clone().into_result().map(Rc::unwrap_or_clone);
                }
                fetcher(ctx).await
            })
        });
        client.prefetch_query(&key, adopting, options);
        // Fresh data already cached: nothing fetched, and the stream is
        // not for a later refetch either.
        if !client
            .get_query_state(&key)
            .is_some_and(|s| s.is_fetching())
        {
            first.set(false);
        }
    }
    hydrated
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_hand_written_text_is_the_derived_one() {
        let query = |key: Value, state| DehydratedQuery {
            key: QueryKey::of(&key),
            state,
        };
        let full = DehydratedState {
            version: VERSION,
            queries: vec![
                query(
                    json!(["post", 1]),
                    DehydratedQueryState::Success {
                        data: Rc::new(json!({"title": "a \"quoted\" </script>", "n": [1, -2.5]})),
                        updated_at: 5,
                    },
                ),
                query(
                    json!(["user", {"id": 2}]),
                    DehydratedQueryState::Error {
                        error: json!({"error": {"code": "not_found", "message": "no\nuser"}}),
                        http_status: 404,
                        updated_at: -6,
                    },
                ),
            ],
            mutations: vec![
                json!({"id": 1, "variables": {"b": 1, "a": [null, true]}}),
                json!(2),
            ],
            written_at: Some(1_700_000_000_000),
            pending: vec![
                QueryKey::of(&json!(["posts"])),
                QueryKey::of(&json!(["post", 2])),
            ],
        };
        for state in [full, DehydratedState::default()] {
            let mut text = String::new();
            state.write_json(&mut text);
            assert_eq!(text, serde_json::to_string(&state).unwrap());
            assert_eq!(crate::json::parse::<DehydratedState>(&text).unwrap(), state);
        }
        assert_eq!(
            crate::json::parse::<DehydratedState>(r#"{"written_at":null}"#).unwrap(),
            DehydratedState::default()
        );
        // (serde's derive also took a struct from a list: nobody writes one.)
        for bad in [
            r#"[]"#,
            r#"{"version":null}"#,
            r#"{"version":-1}"#,
            r#"{"queries":{}}"#,
            r#"{"queries":[{"key":"post","state":{"status":"success","data":1,"updated_at":1}}]}"#,
            r#"{"queries":[{"key":["post"]}]}"#,
            r#"{"queries":[{"key":["post"],"state":{"status":"success","updated_at":1}}]}"#,
            r#"{"mutations":null}"#,
            r#"{"pending":[1]}"#,
            r#"{"written_at":"now"}"#,
        ] {
            assert!(
                crate::json::parse::<DehydratedState>(bad).is_err(),
                "{bad} was read"
            );
        }
    }

    #[test]
    fn query_states_read_back_and_bad_ones_are_refused() {
        for state in [
            DehydratedQueryState::Success {
                data: Rc::new(json!({"title": "t", "n": [1, 2]})),
                updated_at: 5,
            },
            DehydratedQueryState::Error {
                error: json!({"error": {"code": "not_found", "message": "no post"}}),
                http_status: 404,
                updated_at: 6,
            },
        ] {
            let text = serde_json::to_string(&state).unwrap();
            assert_eq!(
                crate::json::parse::<DehydratedQueryState>(&text).unwrap(),
                state
            );
        }
        for bad in [
            r#"{"status":"success","updated_at":1}"#,
            r#"{"status":"pending","updated_at":1}"#,
            r#"{"status":"error","error":{},"updated_at":1}"#,
            r#"{"status":"error","error":{},"http_status":70000,"updated_at":1}"#,
            r#"{"data":1,"updated_at":1}"#,
            r#"{"status":"success","data":1}"#,
            r#""success""#,
        ] {
            assert!(
                crate::json::parse::<DehydratedQueryState>(bad).is_err(),
                "{bad}"
            );
        }
    }
}
