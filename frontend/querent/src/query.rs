//! A query's state, and the pure reducer that is the only way it changes.

use crate::error::QueryError;
use serde_json::Value;
use std::rc::Rc;

/// Whether the query has data, an error, or neither yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryStatus {
    /// No data and no error yet.
    Pending,
    /// The last fetch failed (any data from before it is kept).
    Error,
    /// There is data.
    Success,
}

/// Whether a fetch is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchStatus {
    /// A fetch is in flight.
    Fetching,
    /// A fetch is waiting for the network (network mode "online").
    Paused,
    /// Nothing is running.
    Idle,
}

/// Whether two data slots hold the same value, by identity (cheap: the
/// reducer keeps equal data as the same `Rc`).
pub(crate) fn same_data(a: &Option<Rc<Value>>, b: &Option<Rc<Value>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => Rc::ptr_eq(a, b),
        (None, None) => true,
        _ => false,
    }
}

/// Everything known about one query.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryState {
    /// The latest data. Kept across errors and refetches.
    pub data: Option<Rc<Value>>,
    /// When `data` was fetched or set (ms since the epoch; 0 if never).
    pub data_updated_at: i64,
    /// The latest error, cleared by the next success.
    pub error: Option<QueryError>,
    /// When `error` happened.
    pub error_updated_at: i64,
    /// Failed attempts of the current (or last) fetch.
    pub failure_count: u32,
    /// The latest failed attempt's error, also while retries continue.
    pub failure_reason: Option<QueryError>,
    /// Data / error / pending.
    pub status: QueryStatus,
    /// Fetching / paused / idle.
    pub fetch_status: FetchStatus,
    /// Marked stale by an invalidation, whatever its age.
    pub is_invalidated: bool,
    /// How many times data arrived (fetched or set; TanStack's
    /// `dataUpdateCount`).
    pub data_update_count: u32,
    /// How many fetches failed for good (TanStack's `errorUpdateCount`).
    pub error_update_count: u32,
    /// Infinite queries: which way the latest fetch added a page (`None`
    /// for a refetch; TanStack's `fetchMeta.fetchMore.direction`). Kept
    /// after it ends, so a failure says which page failed.
    pub fetch_more: Option<crate::options::Direction>,
}

impl Default for QueryState {
    fn default() -> Self {
        Self {
            data: None,
            data_updated_at: 0,
            error: None,
            error_updated_at: 0,
            failure_count: 0,
            failure_reason: None,
            status: QueryStatus::Pending,
            fetch_status: FetchStatus::Idle,
            is_invalidated: false,
            data_update_count: 0,
            error_update_count: 0,
            fetch_more: None,
        }
    }
}

impl QueryState {
    /// Stale when invalidated, when there is no data, or when the data is
    /// older than `stale_time` ms at `now`. `u64::MAX` is TanStack's
    /// `Infinity`: data is fresh until invalidated.
    pub fn is_stale(&self, stale_time: u64, now: i64) -> bool {
        let stale_time = i64::try_from(stale_time).unwrap_or(i64::MAX);
        self.is_invalidated
            || self.data.is_none()
            || now.saturating_sub(self.data_updated_at) >= stale_time
    }

    /// A fetch is in flight or paused.
    pub fn is_fetching(&self) -> bool {
        self.fetch_status != FetchStatus::Idle
    }

    /// Data or a settled error has arrived at least once (TanStack's
    /// `isFetched`).
    pub fn is_fetched(&self) -> bool {
        self.data_update_count + self.error_update_count > 0
    }
}

/// Everything that can happen to a query.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A fetch started; `paused` when it cannot run yet (offline): it
    /// shows as paused from the start, never as fetching first.
    Fetch {
        /// The fetch waits for the network.
        paused: bool,
        /// Infinite queries: the page it adds (`None`: a refetch).
        more: Option<crate::options::Direction>,
    },
    /// An attempt failed and will be retried.
    Failed(QueryError),
    /// The fetch waits for the network.
    Pause,
    /// The network is back; the fetch goes on.
    Continue,
    /// The fetch produced data.
    Success {
        /// The new data.
        data: Rc<Value>,
        /// When.
        at: i64,
    },
    /// The fetch failed for good.
    Error {
        /// Why.
        error: QueryError,
        /// When.
        at: i64,
    },
    /// Data set directly (optimistic updates, hydration, `set_query_data`):
    /// a fetch in flight goes on (TanStack's `manual` success).
    SetData {
        /// The new data.
        data: Rc<Value>,
        /// Its timestamp.
        at: i64,
    },
    /// Mark stale.
    Invalidate,
    /// A fetch ended without its answer applied (data was written after it
    /// started, so the answer may predate the write): idle, and stale.
    Superseded,
    /// A fetch was cancelled: back to the state before it.
    Cancelled(Box<QueryState>),
    /// Back to the initial state (`reset_queries`).
    Reset,
}

/// Keeps the old `Rc` when the new data is equal, so observers comparing by
/// pointer see no change (TanStack's structural sharing, at the granularity
/// of the whole value).
fn share(old: &Option<Rc<Value>>, new: Rc<Value>) -> Rc<Value> {
    match old {
        Some(old) if Rc::ptr_eq(old, &new) || **old == *new => Rc::clone(old),
        _ => new,
    }
}

/// The next state.
pub fn reduce(state: &QueryState, action: Action) -> QueryState {
    let mut next = state.clone();
    match action {
        Action::Fetch { paused, more } => {
            next.fetch_status = if paused {
                FetchStatus::Paused
            } else {
                FetchStatus::Fetching
            };
            next.fetch_more = more;
            next.failure_count = 0;
            next.failure_reason = None;
        }
        Action::Failed(error) => {
            // While retrying, `error` and `status` stay as they were (the
            // error shows only once retries are exhausted).
            next.failure_count += 1;
            next.failure_reason = Some(error);
        }
        Action::Pause => next.fetch_status = FetchStatus::Paused,
        Action::Continue => next.fetch_status = FetchStatus::Fetching,
        Action::Success { data, at } => {
            next.data = Some(share(&state.data, data));
            next.data_updated_at = at;
            next.data_update_count += 1;
            next.error = None;
            next.status = QueryStatus::Success;
            next.is_invalidated = false;
            next.failure_count = 0;
            next.failure_reason = None;
            next.fetch_status = FetchStatus::Idle;
        }
        Action::SetData { data, at } => {
            next.data = Some(share(&state.data, data));
            next.data_updated_at = at;
            next.data_update_count += 1;
            next.error = None;
            next.status = QueryStatus::Success;
            next.is_invalidated = false;
        }
        Action::Error { error, at } => {
            // As TanStack's: the status is the error's, the data (if any)
            // is kept, and it counts as stale.
            next.failure_count += 1;
            next.failure_reason = Some(error.clone());
            next.error = Some(error);
            next.error_updated_at = at;
            next.error_update_count += 1;
            next.fetch_status = FetchStatus::Idle;
            next.status = QueryStatus::Error;
            next.is_invalidated = true;
        }
        Action::Invalidate => next.is_invalidated = true,
        Action::Superseded => {
            next.is_invalidated = true;
            next.fetch_status = FetchStatus::Idle;
        }
        Action::Reset => next = QueryState::default(),
        Action::Cancelled(before) => {
            let mut before = *before;
            // Data set while the fetch ran survives the cancellation.
            if state.data_updated_at > before.data_updated_at {
                before.data = state.data.clone();
                before.data_updated_at = state.data_updated_at;
                before.data_update_count = state.data_update_count;
                before.status = state.status;
            }
            before.fetch_status = FetchStatus::Idle;
            next = before;
        }
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data(v: Value) -> Rc<Value> {
        Rc::new(v)
    }

    #[test]
    fn fetch_then_success() {
        let s = reduce(
            &QueryState::default(),
            Action::Fetch {
                paused: false,
                more: None,
            },
        );
        assert_eq!(s.fetch_status, FetchStatus::Fetching);
        assert_eq!(s.status, QueryStatus::Pending);
        let s = reduce(
            &s,
            Action::Success {
                data: data(json!(1)),
                at: 10,
            },
        );
        assert_eq!(s.status, QueryStatus::Success);
        assert_eq!(s.fetch_status, FetchStatus::Idle);
        assert_eq!(s.data_updated_at, 10);
    }

    #[test]
    fn an_error_keeps_existing_data() {
        let s = reduce(
            &QueryState::default(),
            Action::SetData {
                data: data(json!(1)),
                at: 1,
            },
        );
        let s = reduce(
            &s,
            Action::Fetch {
                paused: false,
                more: None,
            },
        );
        let s = reduce(
            &s,
            Action::Error {
                error: QueryError::network("x"),
                at: 2,
            },
        );
        assert_eq!(
            s.status,
            QueryStatus::Error,
            "TanStack's: the error's status"
        );
        assert_eq!(*s.data.unwrap(), json!(1), "with the data kept");
        assert!(s.error.is_some());
        assert!(s.is_invalidated, "and stale");
    }

    #[test]
    fn equal_data_keeps_the_same_allocation() {
        let first = data(json!({"a": [1, 2]}));
        let s = reduce(
            &QueryState::default(),
            Action::SetData {
                data: Rc::clone(&first),
                at: 1,
            },
        );
        let s = reduce(
            &s,
            Action::Success {
                data: data(json!({"a": [1, 2]})),
                at: 2,
            },
        );
        assert!(Rc::ptr_eq(s.data.as_ref().unwrap(), &first));
        assert_eq!(s.data_updated_at, 2, "the timestamp still moves");
        let s = reduce(
            &s,
            Action::Success {
                data: data(json!({"a": [1, 3]})),
                at: 3,
            },
        );
        assert!(!Rc::ptr_eq(s.data.as_ref().unwrap(), &first));
    }

    #[test]
    fn staleness() {
        let s = reduce(
            &QueryState::default(),
            Action::SetData {
                data: data(json!(1)),
                at: 1000,
            },
        );
        assert!(!s.is_stale(500, 1400));
        assert!(s.is_stale(500, 1500));
        assert!(
            !s.is_stale(u64::MAX, i64::MAX),
            "u64::MAX (TanStack's Infinity) is never stale by age"
        );
        assert!(
            QueryState::default().is_stale(u64::MAX, 0),
            "no data is always stale"
        );
        let s = reduce(&s, Action::Invalidate);
        assert!(s.is_stale(u64::MAX, 1000));
        let s = reduce(
            &s,
            Action::Success {
                data: data(json!(2)),
                at: 2000,
            },
        );
        assert!(!s.is_invalidated);
    }

    #[test]
    fn cancel_restores_the_state_before_the_fetch() {
        let before = reduce(
            &QueryState::default(),
            Action::SetData {
                data: data(json!(1)),
                at: 1,
            },
        );
        let fetching = reduce(
            &before,
            Action::Fetch {
                paused: false,
                more: None,
            },
        );
        let s = reduce(&fetching, Action::Cancelled(Box::new(before.clone())));
        assert_eq!(s, before);
    }
}
