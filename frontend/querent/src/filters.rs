//! Operations on every query under a key prefix (TanStack's query
//! filters): invalidate, cancel, remove, reset. A prefix is anything that
//! serialises to a JSON array ([`QueryKey::of`]).

use crate::QueryClient;
use crate::client::CacheEvent;
use crate::key::QueryKey;
use crate::query::Action;
use crate::query_cache::{Cancel, Listener};
use futures::future::LocalBoxFuture;
use serde::Serialize;

impl QueryClient {
    pub(crate) fn matching(&self, prefix: &QueryKey) -> Vec<QueryKey> {
        self.cache().matching(prefix)
    }

    /// Marks every query under `prefix` stale and refetches the active
    /// (observed, enabled) ones. The returned future settles when those
    /// refetches do; the refetches run whether or not it is awaited.
    ///
    /// ```
    /// # use querent::{QueryClient, QueryKey, QueryOptions};
    /// # use serde_json::json;
    /// # let (platform, mut runner) = querent::testing::FakePlatform::new();
    /// let client = QueryClient::with_defaults(
    ///     platform,
    ///     QueryOptions { stale_time: Some(60_000), ..QueryOptions::default() },
    /// );
    /// let post = QueryKey::from(vec![json!("post"), json!(1)]);
    /// client.set_query_data(&post, |_| Some(json!({"title": "old"})));
    /// assert!(!client.is_stale(&post));
    /// runner.block_on(client.invalidate_queries(&QueryKey::from(vec![json!("post")])));
    /// assert!(client.is_stale(&post));
    /// ```
    pub fn invalidate_queries<K: Serialize + ?Sized>(
        &self,
        prefix: &K,
    ) -> LocalBoxFuture<'static, ()> {
        let keys = self.matching(&QueryKey::of(prefix));
        let mut refetches = vec![];
        for key in keys {
            self.dispatch(&key, Action::Invalidate);
            if self.is_active(&key) {
                // A fetch in flight was asked before the data changed: it is
                // replaced, not joined (TanStack's `cancelRefetch`).
                refetches.push(self.refetch_cancelling(&key));
            }
        }
        Box::pin(async move {
            for r in refetches {
                let _ = r.await;
            }
        })
    }

    /// Observed, fetchable and enabled: invalidation and focus/reconnect
    /// refetch it.
    pub(crate) fn is_active(&self, key: &QueryKey) -> bool {
        self.cache().is_active(key, self.defaults())
    }

    /// Stops in-flight fetches under `prefix`; each query returns to its
    /// state before the fetch (data set meanwhile is kept), and whoever
    /// awaits the fetch gets that data (a `Cancelled` error when there is
    /// none), as TanStack's `cancelQueries` with `revert`. Use before an
    /// optimistic update so a late response cannot overwrite it.
    ///
    /// ```
    /// # use querent::{Fetcher, QueryClient, QueryKey, QueryOptions};
    /// # use serde_json::json;
    /// # use std::rc::Rc;
    /// # let (platform, mut runner) = querent::testing::FakePlatform::new();
    /// # let client = QueryClient::new(platform.clone());
    /// let key = QueryKey::from(vec![json!("todos")]);
    /// client.set_query_data(&key, |_| Some(json!(["old"])));
    /// let slow: Fetcher = Rc::new(move |_| {
    ///     let sleep = querent::Platform::sleep(&platform, 1000);
    ///     Box::pin(async move { sleep.await; Ok(json!(["late"])) })
    /// });
    /// let fetch = client.fetch_query(&key, slow, QueryOptions::default());
    /// client.cancel_queries(&key);
    /// assert_eq!(*runner.block_on(fetch).unwrap(), json!(["old"]));
    /// client.set_query_data(&key, |_| Some(json!(["optimistic"])));
    /// runner.run_until_stalled();
    /// assert_eq!(*client.get_query_data(&key).unwrap(), json!(["optimistic"]));
    /// ```
    pub fn cancel_queries<K: Serialize + ?Sized>(&self, prefix: &K) {
        for key in self.matching(&QueryKey::of(prefix)) {
            if let Some(flight) = self.cache().take_in_flight(&key) {
                flight.cancel(Cancel::Revert);
                self.dispatch(&key, Action::Cancelled(Box::new(flight.before)));
            }
        }
    }

    /// Removes every query under `prefix` from the cache.
    ///
    /// ```
    /// # use querent::{QueryClient, QueryKey};
    /// # use serde_json::json;
    /// # let (platform, _runner) = querent::testing::FakePlatform::new();
    /// # let client = QueryClient::new(platform);
    /// let key = QueryKey::from(vec![json!("post"), json!(1)]);
    /// client.set_query_data(&key, |_| Some(json!(1)));
    /// client.remove_queries(&QueryKey::from(vec![json!("post")]));
    /// assert!(client.get_query_state(&key).is_none());
    /// ```
    pub fn remove_queries<K: Serialize + ?Sized>(&self, prefix: &K) {
        let prefix = QueryKey::of(prefix);
        self.cancel_queries(&prefix);
        for key in self.matching(&prefix) {
            let listeners: Vec<Listener> = self.cache().remove(&key).unwrap_or_default();
            for l in listeners {
                l();
            }
            self.emit(&CacheEvent::Removed(key));
        }
    }

    /// Returns every query under `prefix` to its initial state and refetches
    /// the active ones.
    pub fn reset_queries<K: Serialize + ?Sized>(&self, prefix: &K) -> LocalBoxFuture<'static, ()> {
        let prefix = QueryKey::of(prefix);
        self.cancel_queries(&prefix);
        let keys = self.matching(&prefix);
        for key in &keys {
            self.dispatch(key, Action::Reset);
        }
        let refetches: Vec<_> = keys
            .iter()
            .filter(|k| self.is_active(k))
            .map(|k| self.refetch(k))
            .collect();
        Box::pin(async move {
            for r in refetches {
                let _ = r.await;
            }
        })
    }

    /// Removes everything.
    pub fn clear(&self) {
        self.remove_queries(&QueryKey::all());
    }
}
