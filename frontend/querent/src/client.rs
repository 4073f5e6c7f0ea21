//! The query client: the cache of queries and every operation on it.
//!
//! Single-threaded by design (`Rc`, `RefCell`), like the browser it runs in.
//! No `RefCell` borrow is ever held while a listener runs or a future is
//! polled, so listeners may call back into the client.

use crate::error::{ErrorKind, QueryError};
use crate::key::QueryKey;
use crate::metrics::Metrics;
use crate::options::{FetchContext, Fetcher, NextPageParam, QueryOptions, Resolved};
use crate::platform::Platform;
use crate::query::{Action, QueryState, reduce};
use crate::retryer::{MAX_RETRY_AFTER_MS, backoff_ms};
use crate::signal::Signal;
use futures::future::{AbortHandle, Abortable, FutureExt, LocalBoxFuture, Shared};
use serde::Serialize;
use serde_json::{Value, json};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

type FetchResult = Result<Rc<Value>, QueryError>;
type SharedFetch = Shared<LocalBoxFuture<'static, FetchResult>>;

/// What a fetch should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Fetch the data (for an infinite query: refetch every loaded page).
    Refetch,
    /// Infinite query: append the next page.
    NextPage,
}

struct InFlight {
    id: u64,
    future: SharedFetch,
    abort: AbortHandle,
    before: QueryState,
    mode: Mode,
    /// Data was written (`set_query_data`) while this refetch ran: its
    /// answer may predate the write, so it is not applied (see
    /// [`QueryClient::set_query_data_at`]).
    superseded: bool,
}

struct Entry {
    state: QueryState,
    options: QueryOptions,
    fetcher: Option<Fetcher>,
    observers: Vec<(u64, Rc<dyn Fn()>)>,
    in_flight: Option<InFlight>,
    gc_generation: u64,
}

impl Entry {
    fn new() -> Self {
        Self {
            state: QueryState::default(),
            options: QueryOptions::default(),
            fetcher: None,
            observers: vec![],
            in_flight: None,
            gc_generation: 0,
        }
    }
}

/// What changed in the cache, for cache-wide listeners (persistence, devtools).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheEvent {
    /// A query's state changed.
    Updated(QueryKey),
    /// A query was removed.
    Removed(QueryKey),
    /// A mutation was added, changed or dropped (by its id).
    Mutation(u64),
    /// Online or focus state changed.
    Environment,
}

type CacheListener = Rc<dyn Fn(&CacheEvent)>;

pub(crate) struct Inner {
    pub(crate) mutations: RefCell<crate::mutation::MutationStore>,
    pub(crate) registered: Signal,
    pub(crate) resumed: Signal,
    platform: Rc<dyn Platform>,
    defaults: QueryOptions,
    queries: RefCell<HashMap<QueryKey, Entry>>,
    online: Cell<bool>,
    focused: Cell<bool>,
    listeners: RefCell<Vec<(u64, CacheListener)>>,
    next_id: Cell<u64>,
    metrics: RefCell<Metrics>,
}

/// The cache and its operations. Cheap to clone: clones share one cache.
///
/// ```
/// use querent::{QueryClient, QueryKey, QueryOptions};
/// use serde_json::json;
/// use std::rc::Rc;
/// # let (platform, mut runner) = querent::testing::FakePlatform::new();
/// let client = QueryClient::new(platform);
/// let key = QueryKey::from(vec![json!("answer")]);
/// let fetcher: querent::Fetcher = Rc::new(|_| Box::pin(async { Ok(json!(42)) }));
/// let data = runner.block_on(client.fetch_query(&key, fetcher, QueryOptions::default()));
/// assert_eq!(*data.unwrap(), json!(42));
/// ```
#[derive(Clone)]
pub struct QueryClient {
    inner: Rc<Inner>,
}

impl PartialEq for QueryClient {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}

/// Removes a listener when dropped.
#[must_use = "dropping the subscription unsubscribes"]
pub struct Subscription {
    client: QueryClient,
    key: Option<QueryKey>,
    id: u64,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        match &self.key {
            Some(key) => self.client.unobserve(key, self.id),
            None => self
                .client
                .inner
                .listeners
                .borrow_mut()
                .retain(|(id, _)| *id != self.id),
        }
    }
}

/// One row of [`QueryClient::queries`].
#[derive(Debug, Clone)]
pub struct QuerySummary {
    /// The key.
    pub key: QueryKey,
    /// Its state.
    pub state: QueryState,
    /// How many observers (mounted hooks) it has.
    pub observers: usize,
    /// Stale by its options at the time of the call.
    pub is_stale: bool,
}

impl QueryClient {
    /// A client with TanStack's defaults (stale 5 min, gc 30 min, 3 retries).
    pub fn new(platform: impl Platform + 'static) -> Self {
        Self::with_defaults(platform, QueryOptions::default())
    }

    /// A client whose unset per-query options fall back to `defaults`.
    pub fn with_defaults(platform: impl Platform + 'static, defaults: QueryOptions) -> Self {
        Self {
            inner: Rc::new(Inner {
                mutations: RefCell::default(),
                registered: Signal::default(),
                platform: Rc::new(platform),
                defaults,
                queries: RefCell::new(HashMap::new()),
                online: Cell::new(true),
                focused: Cell::new(true),
                resumed: Signal::default(),
                listeners: RefCell::new(vec![]),
                next_id: Cell::new(1),
                metrics: RefCell::new(Metrics::default()),
            }),
        }
    }

    /// The injected platform.
    pub fn platform(&self) -> Rc<dyn Platform> {
        Rc::clone(&self.inner.platform)
    }

    /// Milliseconds since the epoch, by the platform's clock.
    pub fn now(&self) -> i64 {
        self.inner.platform.now_ms()
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    pub(crate) fn next_id(&self) -> u64 {
        let id = self.inner.next_id.get();
        self.inner.next_id.set(id + 1);
        id
    }

    pub(crate) fn resolved(&self, key: &QueryKey) -> Resolved {
        let queries = self.inner.queries.borrow();
        queries
            .get(key)
            .map_or_else(QueryOptions::default, |e| e.options.clone())
            .resolve(&self.inner.defaults)
    }

    /// Creates the entry if missing (scheduling its gc), and records the
    /// latest fetcher and options for it.
    fn register(&self, key: &QueryKey, fetcher: Option<Fetcher>, options: Option<QueryOptions>) {
        let created = {
            let mut queries = self.inner.queries.borrow_mut();
            let mut created = false;
            let entry = queries.entry(key.clone()).or_insert_with(|| {
                created = true;
                Entry::new()
            });
            if let Some(f) = fetcher {
                entry.fetcher = Some(f);
            }
            if let Some(o) = options {
                entry.options = o;
            }
            created
        };
        if created {
            self.schedule_gc(key);
        }
    }

    // ----- state changes ------------------------------------------------

    fn dispatch(&self, key: &QueryKey, action: Action) {
        let listeners = {
            let mut queries = self.inner.queries.borrow_mut();
            let Some(entry) = queries.get_mut(key) else {
                return;
            };
            let next = reduce(&entry.state, action);
            if same_state(&entry.state, &next) {
                return;
            }
            entry.state = next;
            entry
                .observers
                .iter()
                .map(|(_, l)| Rc::clone(l))
                .collect::<Vec<_>>()
        };
        for listener in listeners {
            listener();
        }
        self.emit(&CacheEvent::Updated(key.clone()));
    }

    pub(crate) fn emit(&self, event: &CacheEvent) {
        let listeners: Vec<CacheListener> = self
            .inner
            .listeners
            .borrow()
            .iter()
            .map(|(_, l)| Rc::clone(l))
            .collect();
        for listener in listeners {
            listener(event);
        }
    }

    /// Calls `listener` after every change anywhere in the cache.
    pub fn subscribe_cache(&self, listener: impl Fn(&CacheEvent) + 'static) -> Subscription {
        let id = self.next_id();
        self.inner
            .listeners
            .borrow_mut()
            .push((id, Rc::new(listener)));
        Subscription {
            client: self.clone(),
            key: None,
            id,
        }
    }

    /// Observes one query: `listener` runs after each change of its state.
    /// While observed a query is never garbage-collected, and it counts as
    /// active for invalidation and focus/reconnect refetches.
    pub fn subscribe(&self, key: &QueryKey, listener: impl Fn() + 'static) -> Subscription {
        self.register(key, None, None);
        let id = self.next_id();
        if let Some(entry) = self.inner.queries.borrow_mut().get_mut(key) {
            entry.observers.push((id, Rc::new(listener)));
            entry.gc_generation += 1;
        }
        Subscription {
            client: self.clone(),
            key: Some(key.clone()),
            id,
        }
    }

    fn unobserve(&self, key: &QueryKey, id: u64) {
        let now_unobserved = {
            let mut queries = self.inner.queries.borrow_mut();
            match queries.get_mut(key) {
                Some(entry) => {
                    entry.observers.retain(|(i, _)| *i != id);
                    entry.observers.is_empty()
                }
                None => false,
            }
        };
        if now_unobserved {
            self.schedule_gc(key);
        }
    }

    fn schedule_gc(&self, key: &QueryKey) {
        let gc_time = self.resolved(key).gc_time;
        let generation = {
            let mut queries = self.inner.queries.borrow_mut();
            let Some(entry) = queries.get_mut(key) else {
                return;
            };
            entry.gc_generation += 1;
            entry.gc_generation
        };
        let client = self.clone();
        let key = key.clone();
        let sleep = self.inner.platform.sleep(gc_time);
        self.inner.platform.spawn(Box::pin(async move {
            sleep.await;
            let remove = client.inner.queries.borrow().get(&key).is_some_and(|e| {
                e.gc_generation == generation && e.observers.is_empty() && e.in_flight.is_none()
            });
            if remove {
                client.inner.queries.borrow_mut().remove(&key);
                client.emit(&CacheEvent::Removed(key));
            }
        }));
    }

    // ----- reading ------------------------------------------------------

    /// The cached data, if any (stale or not). Does not fetch.
    pub fn get_query_data(&self, key: &QueryKey) -> Option<Rc<Value>> {
        self.inner
            .queries
            .borrow()
            .get(key)
            .and_then(|e| e.state.data.clone())
    }

    /// The whole state, if the query exists.
    pub fn get_query_state(&self, key: &QueryKey) -> Option<QueryState> {
        self.inner
            .queries
            .borrow()
            .get(key)
            .map(|e| e.state.clone())
    }

    /// Whether the query's data is stale by the options last registered
    /// for it (the client's defaults for a query only hydrated or restored).
    pub fn is_stale(&self, key: &QueryKey) -> bool {
        let stale_time = self.resolved(key).stale_time;
        self.stale_by(key, stale_time)
    }

    /// Whether the query's data is stale for an observer with `options`
    /// (TanStack's observers judge with their own options, so a query that
    /// entered the cache by hydration or restore, with no options of its
    /// own yet, is judged right on the first render).
    pub fn is_stale_with(&self, key: &QueryKey, options: &QueryOptions) -> bool {
        let stale_time = options.resolve(&self.inner.defaults).stale_time;
        self.stale_by(key, stale_time)
    }

    fn stale_by(&self, key: &QueryKey, stale_time: u64) -> bool {
        self.get_query_state(key)
            .is_none_or(|s| s.is_stale(stale_time, self.now()))
    }

    /// How many queries are fetching (or paused waiting for the network).
    pub fn is_fetching(&self) -> usize {
        self.inner
            .queries
            .borrow()
            .values()
            .filter(|e| e.state.is_fetching())
            .count()
    }

    /// Every query, sorted by key (for devtools).
    pub fn queries(&self) -> Vec<QuerySummary> {
        let now = self.now();
        let queries = self.inner.queries.borrow();
        let mut out: Vec<QuerySummary> = queries
            .iter()
            .map(|(key, e)| QuerySummary {
                key: key.clone(),
                is_stale: e
                    .state
                    .is_stale(e.options.resolve(&self.inner.defaults).stale_time, now),
                state: e.state.clone(),
                observers: e.observers.len(),
            })
            .collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out
    }

    /// The counters.
    pub fn metrics(&self) -> Metrics {
        self.inner.metrics.borrow().clone()
    }

    // ----- writing ------------------------------------------------------

    /// Sets a query's data from its current data; `None` from the updater
    /// leaves it unchanged. Returns the data now cached.
    ///
    /// ```
    /// # use querent::{QueryClient, QueryKey};
    /// # use serde_json::json;
    /// # let (platform, _runner) = querent::testing::FakePlatform::new();
    /// # let client = QueryClient::new(platform);
    /// let key = QueryKey::from(vec![json!("count")]);
    /// client.set_query_data(&key, |_| Some(json!(1)));
    /// client.set_query_data(&key, |old| Some(json!(old.unwrap().as_i64().unwrap() + 1)));
    /// assert_eq!(*client.get_query_data(&key).unwrap(), json!(2));
    /// ```
    pub fn set_query_data(
        &self,
        key: &QueryKey,
        updater: impl FnOnce(Option<&Value>) -> Option<Value>,
    ) -> Option<Rc<Value>> {
        let at = self.now();
        self.set_query_data_at(key, updater, at)
    }

    /// Like [`QueryClient::set_query_data`] with an explicit timestamp
    /// (hydration and persistence keep the original fetch time).
    ///
    /// A refetch of the query already in flight may have been answered
    /// before this write reached the server (a live event or a confirmed
    /// mutation racing a reconnect refetch): its answer does not replace
    /// what is written here; the query is marked stale instead and, if
    /// observed, fetched again.
    pub fn set_query_data_at(
        &self,
        key: &QueryKey,
        updater: impl FnOnce(Option<&Value>) -> Option<Value>,
        at: i64,
    ) -> Option<Rc<Value>> {
        let current = self.get_query_data(key);
        self.set_query_data_with(key, |_| updater(current.as_deref()).map(Rc::new), at)
    }

    fn set_query_data_with(
        &self,
        key: &QueryKey,
        updater: impl FnOnce(Option<&Rc<Value>>) -> Option<Rc<Value>>,
        at: i64,
    ) -> Option<Rc<Value>> {
        let current = self.get_query_data(key);
        if let Some(new) = updater(current.as_ref()) {
            self.register(key, None, None);
            if let Some(flight) = self
                .inner
                .queries
                .borrow_mut()
                .get_mut(key)
                .and_then(|e| e.in_flight.as_mut())
                .filter(|f| f.mode == Mode::Refetch)
            {
                flight.superseded = true;
            }
            self.dispatch(key, Action::SetData { data: new, at });
        }
        self.get_query_data(key)
    }

    /// Puts `data` back as the query's data, now (a rollback; no copy).
    /// Like [`QueryClient::set_query_data`], a refetch in flight does not
    /// overwrite it.
    pub(crate) fn put_query_data(&self, key: &QueryKey, data: Rc<Value>) {
        self.set_query_data_with(key, |_| Some(data), self.now());
    }

    /// Sets shared data with its timestamp (hydration: no copy).
    pub fn set_query_data_rc(&self, key: &QueryKey, data: Rc<Value>, at: i64) {
        self.register(key, None, None);
        self.dispatch(key, Action::SetData { data, at });
    }

    /// Writes a settled error (hydration of a server-side failure).
    pub fn set_query_error_at(&self, key: &QueryKey, error: QueryError, at: i64) {
        self.register(key, None, None);
        self.dispatch(key, Action::Error { error, at });
    }

    pub(crate) fn matching(&self, prefix: &QueryKey) -> Vec<QueryKey> {
        self.inner
            .queries
            .borrow()
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// Marks every query under `prefix` stale and refetches the active
    /// (observed, enabled) ones. The returned future settles when those
    /// refetches do; the refetches run whether or not it is awaited.
    ///
    /// ```
    /// # use querent::{QueryClient, QueryKey};
    /// # use serde_json::json;
    /// # let (platform, mut runner) = querent::testing::FakePlatform::new();
    /// # let client = QueryClient::new(platform);
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
                refetches.push(self.refetch(&key));
            }
        }
        Box::pin(async move {
            for r in refetches {
                let _ = r.await;
            }
        })
    }

    fn is_active(&self, key: &QueryKey) -> bool {
        let queries = self.inner.queries.borrow();
        queries
            .get(key)
            .and_then(|e| self.active_options(e))
            .is_some()
    }

    /// The resolved options of an active query (observed, fetchable,
    /// enabled): the ones invalidation and focus/reconnect refetch.
    fn active_options(&self, e: &Entry) -> Option<Resolved> {
        let o = e.options.resolve(&self.inner.defaults);
        (!e.observers.is_empty() && e.fetcher.is_some() && o.enabled).then_some(o)
    }

    /// Stops in-flight fetches under `prefix`; each query returns to its
    /// state before the fetch (data set meanwhile is kept). Use before an
    /// optimistic update so a late response cannot overwrite it.
    ///
    /// ```
    /// # use querent::{Fetcher, QueryClient, QueryKey, QueryOptions};
    /// # use serde_json::json;
    /// # use std::rc::Rc;
    /// # let (platform, mut runner) = querent::testing::FakePlatform::new();
    /// # let client = QueryClient::new(platform.clone());
    /// let key = QueryKey::from(vec![json!("todos")]);
    /// let slow: Fetcher = Rc::new(move |_| {
    ///     let sleep = querent::Platform::sleep(&platform, 1000);
    ///     Box::pin(async move { sleep.await; Ok(json!(["late"])) })
    /// });
    /// let fetch = client.fetch_query(&key, slow, QueryOptions::default());
    /// client.cancel_queries(&key);
    /// client.set_query_data(&key, |_| Some(json!(["optimistic"])));
    /// assert_eq!(runner.block_on(fetch).unwrap_err().kind, querent::ErrorKind::Cancelled);
    /// assert_eq!(*client.get_query_data(&key).unwrap(), json!(["optimistic"]));
    /// ```
    pub fn cancel_queries<K: Serialize + ?Sized>(&self, prefix: &K) {
        for key in self.matching(&QueryKey::of(prefix)) {
            let taken = self
                .inner
                .queries
                .borrow_mut()
                .get_mut(&key)
                .and_then(|e| e.in_flight.take());
            if let Some(flight) = taken {
                flight.abort.abort();
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
            let listeners = self
                .inner
                .queries
                .borrow_mut()
                .remove(&key)
                .map(|e| e.observers.into_iter().map(|(_, l)| l).collect::<Vec<_>>())
                .unwrap_or_default();
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
        self.remove_queries(&QueryKey::from(vec![]));
    }

    // ----- fetching -----------------------------------------------------

    /// Returns fresh cached data, or fetches (joining a fetch in flight).
    pub fn fetch_query(
        &self,
        key: &QueryKey,
        fetcher: Fetcher,
        options: QueryOptions,
    ) -> impl Future<Output = FetchResult> + 'static + use<> {
        self.register(key, Some(fetcher), Some(options));
        let cached = if self.is_stale(key) {
            None
        } else {
            self.get_query_data(key)
        };
        self.read_or_fetch(key, cached)
    }

    /// Returns cached data even if stale (a route loader's "must be present
    /// before render"); fetches only when there is none.
    ///
    /// ```
    /// # use querent::{Fetcher, QueryClient, QueryKey, QueryOptions};
    /// # use serde_json::json;
    /// # use std::rc::Rc;
    /// # let (platform, mut runner) = querent::testing::FakePlatform::new();
    /// # let client = QueryClient::new(platform);
    /// let key = QueryKey::from(vec![json!("post"), json!(1)]);
    /// client.set_query_data(&key, |_| Some(json!("cached")));
    /// let never: Fetcher = Rc::new(|_| unreachable!("cached data is used"));
    /// let data = runner.block_on(client.ensure_query_data(&key, never, QueryOptions::default()));
    /// assert_eq!(*data.unwrap(), json!("cached"));
    /// ```
    pub fn ensure_query_data(
        &self,
        key: &QueryKey,
        fetcher: Fetcher,
        options: QueryOptions,
    ) -> impl Future<Output = FetchResult> + 'static + use<> {
        self.register(key, Some(fetcher), Some(options));
        let cached = self.get_query_data(key);
        self.read_or_fetch(key, cached)
    }

    fn read_or_fetch(
        &self,
        key: &QueryKey,
        cached: Option<Rc<Value>>,
    ) -> LocalBoxFuture<'static, FetchResult> {
        self.record_read(cached.is_some());
        match cached {
            Some(data) => Box::pin(futures::future::ready(Ok(data))),
            None => Box::pin(self.fetch(key, Mode::Refetch)),
        }
    }

    /// Starts fetching if the data is missing or stale; never fails and never
    /// needs awaiting (the fetch runs in the background either way).
    ///
    /// ```
    /// # use querent::{Fetcher, QueryClient, QueryKey, QueryOptions};
    /// # use serde_json::json;
    /// # use std::rc::Rc;
    /// # let (platform, mut runner) = querent::testing::FakePlatform::new();
    /// # let client = QueryClient::new(platform);
    /// let key = QueryKey::from(vec![json!("users")]);
    /// let fetcher: Fetcher = Rc::new(|_| Box::pin(async { Ok(json!([1, 2])) }));
    /// client.prefetch_query(&key, fetcher, QueryOptions::default());
    /// runner.run_until_stalled();
    /// assert_eq!(*client.get_query_data(&key).unwrap(), json!([1, 2]));
    /// ```
    pub fn prefetch_query(&self, key: &QueryKey, fetcher: Fetcher, options: QueryOptions) {
        self.register(key, Some(fetcher), Some(options));
        let stale = self.is_stale(key);
        self.record_read(!stale);
        if stale {
            drop(self.fetch(key, Mode::Refetch));
        }
    }

    /// Fetches now with the query's registered fetcher, whatever its age,
    /// joining a fetch already in flight.
    pub fn refetch(&self, key: &QueryKey) -> impl Future<Output = FetchResult> + 'static + use<> {
        self.fetch(key, Mode::Refetch)
    }

    /// Infinite query: fetches and appends the next page (no-op when the last
    /// page has no next page parameter).
    pub fn fetch_next_page(
        &self,
        key: &QueryKey,
    ) -> impl Future<Output = FetchResult> + 'static + use<> {
        self.fetch(key, Mode::NextPage)
    }

    /// Infinite query, with its fetcher and options registered first (so it
    /// works on a query that only hydration or a restore put in the cache):
    /// fetches and appends the next page.
    pub fn fetch_next_page_with(
        &self,
        key: &QueryKey,
        fetcher: Fetcher,
        options: QueryOptions,
    ) -> impl Future<Output = FetchResult> + 'static + use<> {
        self.fetch_with(key, fetcher, options, Mode::NextPage)
    }

    /// Fetches now with `fetcher` and `options` (registered for the key
    /// first), joining a fetch already in flight.
    pub fn refetch_with(
        &self,
        key: &QueryKey,
        fetcher: Fetcher,
        options: QueryOptions,
    ) -> impl Future<Output = FetchResult> + 'static + use<> {
        self.fetch_with(key, fetcher, options, Mode::Refetch)
    }

    fn fetch_with(
        &self,
        key: &QueryKey,
        fetcher: Fetcher,
        options: QueryOptions,
        mode: Mode,
    ) -> impl Future<Output = FetchResult> + 'static + use<> {
        self.register(key, Some(fetcher), Some(options));
        self.fetch(key, mode)
    }

    /// Infinite query: whether the last loaded page has a next page, by the
    /// options last registered for the key.
    pub fn has_next_page(&self, key: &QueryKey) -> bool {
        self.next_page_exists(key, self.resolved(key).next_page_param)
    }

    /// Infinite query: whether the last loaded page has a next page for an
    /// observer with `options`. A hydrated or restored infinite query has
    /// its pages before any observer has registered how to page them; the
    /// observer's own `next_page_param` decides.
    pub fn has_next_page_with(&self, key: &QueryKey, options: &QueryOptions) -> bool {
        let next = options.resolve(&self.inner.defaults).next_page_param;
        self.next_page_exists(key, next)
    }

    fn next_page_exists(&self, key: &QueryKey, next: Option<NextPageParam>) -> bool {
        let Some(next) = next else {
            return false;
        };
        self.get_query_data(key)
            .and_then(|d| d["pages"].as_array().and_then(|p| p.last()).cloned())
            .is_some_and(|last| next(&last).is_some())
    }

    /// Starts (or joins) a fetch. The fetch runs in the background whether
    /// or not the returned future is awaited.
    fn fetch(
        &self,
        key: &QueryKey,
        mode: Mode,
    ) -> impl Future<Output = FetchResult> + 'static + use<> {
        let existing = self
            .inner
            .queries
            .borrow()
            .get(key)
            .and_then(|e| e.in_flight.as_ref().map(|f| (f.future.clone(), f.mode)));
        match existing {
            // In-flight de-duplication; a next-page request waits for a
            // running refetch rather than racing it.
            Some((future, running)) if running == mode || mode == Mode::Refetch => future,
            Some((future, _)) => {
                let client = self.clone();
                let key = key.clone();
                async move {
                    let _ = future.await;
                    client.fetch(&key, Mode::NextPage).await
                }
                .boxed_local()
                .shared()
            }
            None => self.start_fetch(key, mode),
        }
    }

    fn start_fetch(&self, key: &QueryKey, mode: Mode) -> SharedFetch {
        let fetcher = self
            .inner
            .queries
            .borrow()
            .get(key)
            .and_then(|e| e.fetcher.clone());
        let Some(fetcher) = fetcher else {
            let error = QueryError::local(
                ErrorKind::Unregistered,
                format!("no fetcher is registered for {key}"),
            );
            return futures::future::ready(Err(error)).boxed_local().shared();
        };
        let options = self.resolved(key);
        let before = self.get_query_state(key).unwrap_or_default();
        let id = self.next_id();
        self.inner.metrics.borrow_mut().fetches += 1;
        self.dispatch(key, Action::Fetch);

        let (abort, registration) = AbortHandle::new_pair();
        let client = self.clone();
        let task_key = key.clone();
        let run = async move {
            let started = client.now();
            let result = client
                .attempts(
                    &task_key,
                    &fetcher,
                    &options,
                    mode,
                    client.get_query_data(&task_key),
                )
                .await;
            let elapsed = client.now().saturating_sub(started).max(0) as u64;
            client
                .inner
                .metrics
                .borrow_mut()
                .record_settled(elapsed, result.is_err());
            let still_ours = client
                .inner
                .queries
                .borrow()
                .get(&task_key)
                .and_then(|e| e.in_flight.as_ref())
                .is_some_and(|f| f.id == id);
            if !still_ours {
                // Cancelled or removed meanwhile: the result is not applied.
                return result.map(Rc::new);
            }
            if result.is_ok() && client.superseded(&task_key, id) {
                return client.refetch_after_write(&task_key, id).await;
            }
            let at = client.now();
            let outcome = match result {
                Ok(data) => {
                    client.dispatch(
                        &task_key,
                        Action::Success {
                            data: Rc::new(data),
                            at,
                        },
                    );
                    Ok(client.get_query_data(&task_key).unwrap_or_default())
                }
                Err(error) => {
                    client.dispatch(
                        &task_key,
                        Action::Error {
                            error: error.clone(),
                            at,
                        },
                    );
                    Err(error)
                }
            };
            if let Some(e) = client.inner.queries.borrow_mut().get_mut(&task_key)
                && e.in_flight.as_ref().is_some_and(|f| f.id == id)
            {
                e.in_flight = None;
            }
            outcome
        };
        let cancelled_key = key.clone();
        let future: SharedFetch = Abortable::new(run, registration)
            .map(move |r| {
                r.unwrap_or_else(|_| {
                    Err(QueryError::local(
                        ErrorKind::Cancelled,
                        format!("the fetch of {cancelled_key} was cancelled"),
                    ))
                })
            })
            .boxed_local()
            .shared();
        if let Some(e) = self.inner.queries.borrow_mut().get_mut(key) {
            e.in_flight = Some(InFlight {
                id,
                future: future.clone(),
                abort,
                before,
                mode,
                superseded: false,
            });
        }
        // Drive it to completion even if nobody awaits it.
        let driver = future.clone();
        self.inner.platform.spawn(Box::pin(async move {
            let _ = driver.await;
        }));
        future
    }

    /// Whether data was written while fetch `id` of `key` ran.
    fn superseded(&self, key: &QueryKey, id: u64) -> bool {
        self.inner
            .queries
            .borrow()
            .get(key)
            .and_then(|e| e.in_flight.as_ref())
            .is_some_and(|f| f.id == id && f.superseded)
    }

    /// Ends fetch `id` of `key` without applying its answer (a write came
    /// after it started): the query is stale, and fetched again if active.
    async fn refetch_after_write(&self, key: &QueryKey, id: u64) -> FetchResult {
        if let Some(e) = self.inner.queries.borrow_mut().get_mut(key)
            && e.in_flight.as_ref().is_some_and(|f| f.id == id)
        {
            e.in_flight = None;
        }
        self.dispatch(key, Action::Invalidate);
        if self.is_active(key) {
            return self.fetch(key, Mode::Refetch).await;
        }
        self.get_query_data(key).ok_or_else(|| {
            QueryError::local(
                ErrorKind::Superseded,
                format!("{key} was written while it was fetched"),
            )
        })
    }

    /// Runs the fetcher with retries, pausing while offline.
    async fn attempts(
        &self,
        key: &QueryKey,
        fetcher: &Fetcher,
        options: &Resolved,
        mode: Mode,
        current: Option<Rc<Value>>,
    ) -> Result<Value, QueryError> {
        let mut failures = 0u32;
        loop {
            self.wait_until_online(key).await;
            let revalidated = Rc::new(std::cell::Cell::new((0, 0)));
            let result = match &options.next_page_param {
                Some(next) => {
                    let context = |param| {
                        FetchContext::reporting(key.clone(), param, Rc::clone(&revalidated))
                    };
                    infinite_fetch(&context, fetcher, next, mode, current.as_deref()).await
                }
                None => {
                    fetcher(FetchContext::reporting(
                        key.clone(),
                        Value::Null,
                        Rc::clone(&revalidated),
                    ))
                    .await
                }
            };
            let (not_modified, bytes_saved) = revalidated.get();
            if not_modified > 0 {
                let mut metrics = self.inner.metrics.borrow_mut();
                metrics.not_modified += not_modified;
                metrics.bytes_saved += bytes_saved;
            }
            match result {
                Ok(data) => return Ok(data),
                Err(error) => {
                    failures += 1;
                    if failures > options.retry || !(options.retry_if)(failures, &error) {
                        return Err(error);
                    }
                    // A busy server's `Retry-After` replaces the backoff.
                    let delay = error
                        .retry_after_ms
                        .map_or_else(|| backoff_ms(failures - 1), |ms| ms.min(MAX_RETRY_AFTER_MS));
                    self.dispatch(key, Action::Failed(error));
                    self.inner.platform.sleep(delay).await;
                    // Retries wait while the app is offline or hidden.
                    while !(self.is_online() && self.is_focused()) {
                        if !self.is_online() {
                            self.dispatch(key, Action::Pause);
                        }
                        let _ = self.inner.resumed.wait().await;
                    }
                    self.dispatch(key, Action::Continue);
                }
            }
        }
    }

    async fn wait_until_online(&self, key: &QueryKey) {
        if self.is_online() {
            return;
        }
        self.dispatch(key, Action::Pause);
        while !self.is_online() {
            let _ = self.inner.resumed.wait().await;
        }
        self.dispatch(key, Action::Continue);
    }

    // ----- focus and connectivity ---------------------------------------

    /// Whether the app believes it is online.
    pub fn is_online(&self) -> bool {
        self.inner.online.get()
    }

    /// Whether the app's window is visible and focused.
    pub fn is_focused(&self) -> bool {
        self.inner.focused.get()
    }

    /// Tells the client about connectivity. Going online resumes paused
    /// fetches and refetches stale active queries (unless they opted out).
    pub fn set_online(&self, online: bool) {
        self.set_environment(&self.inner.online, online, |o| o.refetch_on_reconnect);
    }

    /// Tells the client about focus (document visibility). Regaining focus
    /// resumes waiting retries and refetches stale active queries.
    pub fn set_focused(&self, focused: bool) {
        self.set_environment(&self.inner.focused, focused, |o| o.refetch_on_window_focus);
    }

    fn set_environment(&self, flag: &Cell<bool>, value: bool, wanted: fn(&Resolved) -> bool) {
        if flag.replace(value) == value {
            return;
        }
        self.emit(&CacheEvent::Environment);
        if value {
            self.inner.resumed.notify();
            self.refetch_stale_active(wanted);
        }
    }

    fn refetch_stale_active(&self, wanted: impl Fn(&Resolved) -> bool) {
        let now = self.now();
        let keys: Vec<QueryKey> = self
            .inner
            .queries
            .borrow()
            .iter()
            .filter(|(_, e)| {
                self.active_options(e).is_some_and(|o| {
                    wanted(&o) && e.in_flight.is_none() && e.state.is_stale(o.stale_time, now)
                })
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            drop(self.refetch(&key));
        }
    }

    /// Registers a fetcher and options for a key without fetching (observers
    /// and loaders call this so refetches know how to fetch).
    pub fn set_query_defaults(&self, key: &QueryKey, fetcher: Fetcher, options: QueryOptions) {
        self.register(key, Some(fetcher), Some(options));
    }

    /// Counts a read served from cache / needing a fetch (observers use this).
    pub(crate) fn record_read(&self, hit: bool) {
        let mut metrics = self.inner.metrics.borrow_mut();
        if hit {
            metrics.hits += 1;
        } else {
            metrics.misses += 1;
        }
    }
}

/// Field-by-field comparison with data compared by pointer (cheap; the
/// reducer already shares equal data).
fn same_state(a: &QueryState, b: &QueryState) -> bool {
    let same_data = match (&a.data, &b.data) {
        (Some(x), Some(y)) => Rc::ptr_eq(x, y),
        (None, None) => true,
        _ => false,
    };
    same_data
        && a.data_updated_at == b.data_updated_at
        && a.error == b.error
        && a.error_updated_at == b.error_updated_at
        && a.failure_count == b.failure_count
        && a.failure_reason == b.failure_reason
        && a.status == b.status
        && a.fetch_status == b.fetch_status
        && a.is_invalidated == b.is_invalidated
}

/// An infinite query's fetch: `{"pages": [...], "page_params": [...]}`.
/// A refetch reloads every loaded page in order, recomputing each page's
/// parameter from the freshly fetched page before it (so an insert at the
/// head never duplicates or skips items).
async fn infinite_fetch(
    context: &dyn Fn(Value) -> FetchContext,
    fetcher: &Fetcher,
    next: &crate::options::NextPageParam,
    mode: Mode,
    current: Option<&Value>,
) -> Result<Value, QueryError> {
    let pages_now = current
        .and_then(|c| c["pages"].as_array())
        .map_or(0, Vec::len);
    let page = |param: Value| fetcher(context(param));
    match (mode, current) {
        (Mode::NextPage, Some(current)) if pages_now > 0 => {
            let pages = current["pages"].as_array().cloned().unwrap_or_default();
            let mut params = current["page_params"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let Some(param) = pages.last().and_then(|last| next(last)) else {
                return Ok(current.clone());
            };
            let fetched = page(param.clone()).await?;
            let mut pages = pages;
            pages.push(fetched);
            params.push(param);
            Ok(json!({"pages": pages, "page_params": params}))
        }
        _ => {
            let want = pages_now.max(1);
            let mut pages = vec![page(Value::Null).await?];
            let mut params = vec![Value::Null];
            while pages.len() < want {
                let Some(param) = pages.last().and_then(|last| next(last)) else {
                    break;
                };
                pages.push(page(param.clone()).await?);
                params.push(param);
            }
            Ok(json!({"pages": pages, "page_params": params}))
        }
    }
}
