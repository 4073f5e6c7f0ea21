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

/// A settled query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

    fn updated_at(&self) -> i64 {
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
        match query.state {
            DehydratedQueryState::Success { data, updated_at } => {
                client.set_query_data_rc(&query.key, data, updated_at);
            }
            DehydratedQueryState::Error {
                error,
                http_status,
                updated_at,
            } => {
                let code = error["error"]["code"]
                    .as_str()
                    .unwrap_or("error")
                    .to_owned();
                let message = error["error"]["message"].as_str().unwrap_or("").to_owned();
                client.set_query_error_at(
                    &query.key,
                    QueryError::http(http_status, code, message),
                    updated_at,
                );
            }
        }
        applied += 1;
    }
    applied
}
