//! A query observer: what a `use_query` hook holds while mounted.
//!
//! Creating one registers the fetcher and options, subscribes, fetches when
//! the data is missing or stale (so hydrated data inside its stale time is not
//! refetched on load), and runs the refetch interval while the window is
//! focused. Dropping it unsubscribes; the query is garbage-collected after its
//! gc time unless observed again.

use crate::client::{QueryClient, Subscription};
use crate::error::QueryError;
use crate::key::QueryKey;
use crate::options::{Fetcher, QueryOptions};
use crate::query::{QueryState, QueryStatus};
use futures::future::{AbortHandle, Abortable};
use serde_json::Value;
use std::rc::Rc;

/// Observes one query for as long as it lives.
pub struct QueryObserver {
    client: QueryClient,
    key: QueryKey,
    fetcher: Fetcher,
    options: QueryOptions,
    _subscription: Subscription,
    interval: Option<AbortHandle>,
}

impl QueryObserver {
    /// Starts observing `key`; `on_change` runs after every change of its state.
    pub fn new(
        client: &QueryClient,
        key: QueryKey,
        fetcher: Fetcher,
        options: QueryOptions,
        on_change: impl Fn() + 'static,
    ) -> Self {
        client.set_query_defaults(&key, Rc::clone(&fetcher), options.clone());
        let subscription = client.subscribe(&key, on_change);
        let resolved = client.resolved(&key);
        let mut interval = None;
        if resolved.enabled {
            let state = client.get_query_state(&key).unwrap_or_default();
            let fresh = !state.is_stale(resolved.stale_time, client.now());
            client.record_read(fresh);
            // TanStack's shouldFetchOnMount: a query without data loads
            // (unless it failed for good and must not retry on mount); one
            // with data refetches as `refetch_on_mount` says.
            let wanted = if state.data.is_none() {
                let settled_failure = state.status == QueryStatus::Error;
                resolved.retry_on_mount || !settled_failure
            } else {
                resolved.refetch_on_mount.wants(!fresh)
            };
            if wanted && !state.is_fetching() {
                drop(client.refetch(&key));
            }
            if let Some(ms) = resolved.refetch_interval.filter(|ms| *ms > 0) {
                let (handle, registration) = AbortHandle::new_pair();
                let (loop_client, loop_key) = (client.clone(), key.clone());
                let task = async move {
                    loop {
                        loop_client.platform().sleep(ms).await;
                        // Not in the background: a hidden tab waits for focus.
                        if loop_client.is_focused() {
                            let _ = loop_client.refetch(&loop_key).await;
                        }
                    }
                };
                client.platform().spawn(Box::pin(async move {
                    let _ = Abortable::new(task, registration).await;
                }));
                interval = Some(handle);
            }
        }
        Self {
            client: client.clone(),
            key,
            fetcher,
            options,
            _subscription: subscription,
            interval,
        }
    }

    /// The key observed.
    pub fn key(&self) -> &QueryKey {
        &self.key
    }

    /// The query's current state.
    pub fn state(&self) -> QueryState {
        self.client.get_query_state(&self.key).unwrap_or_default()
    }

    /// The current data.
    pub fn data(&self) -> Option<Rc<Value>> {
        self.client.get_query_data(&self.key)
    }

    /// Whether the data is stale now, by this observer's options.
    pub fn is_stale(&self) -> bool {
        self.client.is_stale_with(&self.key, &self.options)
    }

    /// Fetches now with this observer's fetcher (joining a fetch in flight).
    pub fn refetch(&self) -> impl Future<Output = Result<Rc<Value>, QueryError>> + 'static + use<> {
        self.client
            .refetch_with(&self.key, Rc::clone(&self.fetcher), self.options.clone())
    }

    /// Infinite queries: appends the next page.
    pub fn fetch_next_page(
        &self,
    ) -> impl Future<Output = Result<Rc<Value>, QueryError>> + 'static + use<> {
        self.client
            .fetch_next_page_with(&self.key, Rc::clone(&self.fetcher), self.options.clone())
    }

    /// Infinite queries: whether another page exists, by this observer's
    /// options (whatever else registered options for the key since).
    pub fn has_next_page(&self) -> bool {
        self.client.has_next_page_with(&self.key, &self.options)
    }
}

impl Drop for QueryObserver {
    fn drop(&mut self) {
        if let Some(handle) = self.interval.take() {
            handle.abort();
        }
    }
}
