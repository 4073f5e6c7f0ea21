//! Dehydrate the cache to JSON and hydrate it back: how the server's
//! embedded state and the persisted state enter the client.
//!
//! The format is the one the backend embeds (`shared::DehydratedState`):
//! `{"version":1,"queries":[{"key":[…],"state":{"status":"success","data":…,
//! "updated_at":ms}}]}`; a settled error is
//! `{"status":"error","error":{"error":{"code","message"}},"http_status":404,…}`.

use crate::client::QueryClient;
use crate::error::QueryError;
use crate::key::QueryKey;
use crate::query::QueryStatus;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::rc::Rc;

/// The format version this crate reads and writes.
pub const VERSION: u32 = 1;

/// A snapshot of queries (and, for persistence, paused mutations).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
        let Value::Object(mut fields) = Value::deserialize(deserializer)? else {
            return Err(D::Error::custom("a query state is an object"));
        };
        let updated_at = fields
            .get("updated_at")
            .and_then(Value::as_i64)
            .ok_or_else(|| D::Error::missing_field("updated_at"))?;
        match fields.get("status").and_then(Value::as_str) {
            Some("success") => Ok(Self::Success {
                data: Rc::new(
                    fields
                        .remove("data")
                        .ok_or_else(|| D::Error::missing_field("data"))?,
                ),
                updated_at,
            }),
            Some("error") => Ok(Self::Error {
                http_status: fields
                    .get("http_status")
                    .and_then(Value::as_u64)
                    .and_then(|s| u16::try_from(s).ok())
                    .ok_or_else(|| D::Error::missing_field("http_status"))?,
                error: fields
                    .remove("error")
                    .ok_or_else(|| D::Error::missing_field("error"))?,
                updated_at,
            }),
            Some(other) => Err(D::Error::unknown_variant(other, &["success", "error"])),
            None => Err(D::Error::missing_field("status")),
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

/// Snapshots every query that has data, and every mutation the server has
/// not confirmed yet.
pub fn dehydrate(client: &QueryClient) -> DehydratedState {
    DehydratedState {
        version: VERSION,
        queries: client
            .queries()
            .into_iter()
            .filter_map(|q| {
                let data = q.state.data?;
                Some(DehydratedQuery {
                    key: q.key,
                    state: DehydratedQueryState::Success {
                        data,
                        updated_at: q.state.data_updated_at,
                    },
                })
            })
            .collect(),
        mutations: client
            .mutations()
            .into_iter()
            .filter(crate::mutation::MutationRecord::is_unsettled)
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
