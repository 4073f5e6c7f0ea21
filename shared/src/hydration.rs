//! The dehydrated-state format: what the server embeds into `index.html` and
//! the SPA's query cache adopts on start.

use crate::error::ErrorBody;
use crate::query_key::QueryKey;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `id` of the `<script type="application/json">` element holding the state.
pub const STATE_ELEMENT_ID: &str = "__QUERY_STATE__";

/// The start of the HTML comment that carries a streamed snapshot:
/// `<!--querent-stream:{…}-->`, sent after `</body>` when the pending
/// queries have settled. A comment there is a child of `<html>`, outside
/// the body the app hydrates, and is parsed whole or not at all; the JSON is
/// escaped as for the state element, so it holds no `>` to end it early.
pub const STREAMED_STATE_PREFIX: &str = "querent-stream:";

/// Everything a page needs to render without asking the API.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DehydratedState {
    /// Format version; readers ignore state of another version.
    #[serde(default = "DehydratedState::current_version")]
    pub version: u32,
    /// The queries, each under its canonical key.
    pub queries: Vec<DehydratedQuery>,
    /// Paused mutations (used by persistence; the server embeds none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mutations: Vec<Value>,
    /// When the server read this state, by its clock (ms since the epoch).
    /// The browser's clock may differ: it moves the `updated_at`s onto its
    /// own by the difference before comparing them with what it persisted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written_at: Option<i64>,
    /// Queries still loading when this state was written (a route's
    /// deferred keys): their state follows later in the same response, in a
    /// further snapshot (see [`STREAMED_STATE_PREFIX`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<QueryKey>,
}

impl DehydratedState {
    /// The format version this build writes.
    pub const VERSION: u32 = 1;

    fn current_version() -> u32 {
        Self::VERSION
    }

    /// The state of one key, if present.
    pub fn get(&self, key: &QueryKey) -> Option<&QueryState> {
        self.queries
            .iter()
            .find(|q| &q.key == key)
            .map(|q| &q.state)
    }

    /// The keys present, in order.
    pub fn keys(&self) -> Vec<QueryKey> {
        self.queries.iter().map(|q| q.key).collect()
    }
}

/// One query: its key and its settled state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DehydratedQuery {
    /// The canonical key.
    pub key: QueryKey,
    /// Data or error, with the time it was produced.
    pub state: QueryState,
}

/// A settled query result. `updated_at` is milliseconds since the Unix epoch;
/// when two sources hold the same key, the newer one wins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum QueryState {
    /// The query succeeded with `data` (the API's JSON for that key).
    Success {
        /// The data.
        data: Value,
        /// When it was fetched.
        updated_at: i64,
    },
    /// The query failed (e.g. a 404 for a missing post).
    Error {
        /// The API's error body.
        error: ErrorBody,
        /// HTTP status of the failure.
        http_status: u16,
        /// When it failed.
        updated_at: i64,
    },
}

/// Data of an infinite query: the pages fetched so far and the cursor each
/// page was fetched with (`None` for the first page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InfiniteData<T> {
    /// The pages, in order.
    pub pages: Vec<T>,
    /// The cursor used for each page.
    pub page_params: Vec<Option<String>>,
}

impl<T> InfiniteData<T> {
    /// The data of an infinite query that holds only its first page.
    pub fn first(page: T) -> Self {
        Self {
            pages: vec![page],
            page_params: vec![None],
        }
    }
}
