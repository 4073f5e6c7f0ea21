//! What the devtools panel does to one query to show an app's loading and
//! error views (TanStack devtools' "Trigger Loading" / "Trigger Error" and
//! their "Restore"). Core functions, so any panel (or a test) can use them.

use crate::client::QueryClient;
use crate::error::{ErrorKind, QueryError};
use crate::key::QueryKey;
use crate::options::Fetcher;
use crate::query::Action;
use crate::query_cache::Mode;
use std::rc::Rc;

/// The error [`QueryClient::trigger_error`] puts in a query.
pub const TRIGGERED_ERROR: &str = "Unknown error from devtools";

impl QueryClient {
    /// Shows `key` loading: its data is dropped and a fetch that never ends
    /// runs (so a suspense view suspends and an observer joins it rather
    /// than fetching), until [`QueryClient::restore_loading`]. Nothing
    /// happens to a query that does not exist or has no fetcher.
    pub fn trigger_loading(&self, key: &QueryKey) {
        let Some(fetcher) = self.cache().fetcher(key) else {
            return;
        };
        self.cancel_keys(std::slice::from_ref(key));
        self.dispatch(key, Action::Reset);
        let never: Fetcher = Rc::new(|_| Box::pin(futures::future::pending()));
        // The never-ending fetch uses a fetcher of its own; the query's is
        // back in place at once for every later fetch.
        self.cache().register(key, Some(never), None, 0);
        drop(self.fetch(key, Mode::Refetch));
        self.cache().register(key, Some(fetcher), None, 0);
    }

    /// Ends what [`QueryClient::trigger_loading`] started: the endless
    /// fetch is cancelled and the query fetched again with its own fetcher.
    pub fn restore_loading(&self, key: &QueryKey) {
        self.cancel_keys(std::slice::from_ref(key));
        drop(self.refetch(key));
    }

    /// Puts `key` in the error state, without data (its error is
    /// [`TRIGGERED_ERROR`]), until [`QueryClient::restore_error`] or its
    /// next fetch.
    pub fn trigger_error(&self, key: &QueryKey) {
        if self.get_query_state(key).is_none() {
            return;
        }
        self.cancel_keys(std::slice::from_ref(key));
        self.dispatch(key, Action::Reset);
        let error = QueryError::local(ErrorKind::Invalid, TRIGGERED_ERROR);
        self.dispatch(
            key,
            Action::Error {
                error,
                at: self.now(),
            },
        );
    }

    /// Ends what [`QueryClient::trigger_error`] did: the query is reset
    /// (TanStack's `resetQueries`), and fetched again if observed.
    pub fn restore_error(&self, key: &QueryKey) {
        drop(self.reset_queries_with(
            crate::filters::QueryFilters::key(key).exact(),
            crate::filters::RefetchOptions::default(),
        ));
    }
}
