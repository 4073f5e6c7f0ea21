//! The query client: the cache of queries and every operation on it.
//!
//! Single-threaded by design (`Rc`, `RefCell`), like the browser it runs in.
//! No `RefCell` borrow is ever held while a listener runs or a future is
//! polled, so listeners may call back into the client.

use crate::environment::{Environment, Flag};
use crate::error::QueryError;
use crate::key::QueryKey;
use crate::metrics::Metrics;
use crate::mutation_cache::MutationCache;
use crate::options::{Fetcher, QueryDefaults, QueryOptions, Resolved, StaleTime};
use crate::platform::Platform;
use crate::query::{Action, QueryState};
use crate::query_cache::QueryCache;
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

pub use crate::query_cache::QuerySummary;

/// What changed in the cache, for cache-wide listeners (persistence, devtools).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheEvent {
    /// A query entered the cache (TanStack's `added`).
    Added(QueryKey),
    /// A query's state changed (`updated`).
    Updated(QueryKey),
    /// A query was removed (`removed`).
    Removed(QueryKey),
    /// An observer started observing the query (`observerAdded`).
    ObserverAdded(QueryKey),
    /// An observer stopped observing it (`observerRemoved`).
    ObserverRemoved(QueryKey),
    /// A [`crate::QueryObserver`]'s result changed (`observerResultsUpdated`).
    ObserverResultsUpdated(QueryKey),
    /// A mutation entered the mutation cache (its `added`).
    MutationAdded(u64),
    /// A mutation's record changed (its `updated`).
    Mutation(u64),
    /// A settled mutation was dropped after its gc time (its `removed`).
    MutationRemoved(u64),
    /// Online or focus state changed.
    Environment,
}

impl CacheEvent {
    /// Whether it tells of observers only (who observes a query, what an
    /// observer shows), not of what the cache holds or of the environment.
    pub fn is_observer_event(&self) -> bool {
        matches!(
            self,
            Self::ObserverAdded(_) | Self::ObserverRemoved(_) | Self::ObserverResultsUpdated(_)
        )
    }
}

type CacheListener = Rc<dyn Fn(&CacheEvent)>;

/// Called with a query's data when any fetch of it succeeds.
pub type OnQuerySuccess = Rc<dyn Fn(&Value, &QueryKey)>;
/// Called with the error when any fetch of a query fails for good.
pub type OnQueryError = Rc<dyn Fn(&QueryError, &QueryKey)>;
/// Called after either: the data (kept across an error) and the error.
pub type OnQuerySettled = Rc<dyn Fn(Option<&Value>, Option<&QueryError>, &QueryKey)>;

/// Callbacks for every query of the client (TanStack's `new QueryCache({
/// onSuccess, onError, onSettled })`): a fetch's final outcome, after the
/// cache holds it, whoever started the fetch. A cancelled fetch, or one whose
/// answer a newer write replaced, calls none.
#[derive(Clone, Default)]
pub struct QueryCacheConfig {
    /// After a successful fetch.
    pub on_success: Option<OnQuerySuccess>,
    /// After a failed fetch (retries exhausted).
    pub on_error: Option<OnQueryError>,
    /// After either.
    pub on_settled: Option<OnQuerySettled>,
}

/// Called with a mutation's variables and record as it starts.
pub type OnMutationMutate = Rc<dyn Fn(&Value, &crate::MutationRecord)>;
/// Called with the answer, the variables, the call's context (what its
/// `on_mutate` returned; `null` for a mutation replayed after a reload).
pub type OnMutationSuccess = Rc<dyn Fn(&Value, &Value, &Value, &crate::MutationRecord)>;
/// Called with the error, the variables and the call's context.
pub type OnMutationError = Rc<dyn Fn(&QueryError, &Value, &Value, &crate::MutationRecord)>;
/// Called after either: the answer or the error, the variables, the context.
pub type OnMutationSettled =
    Rc<dyn Fn(Option<&Value>, Option<&QueryError>, &Value, &Value, &crate::MutationRecord)>;

/// Callbacks for every mutation of the client (TanStack's `new
/// MutationCache({ onMutate, onSuccess, onError, onSettled })`), also for
/// mutations replayed after a reload; each runs before the call's own.
#[derive(Clone, Default)]
pub struct MutationCacheConfig {
    /// As a mutation starts (before the call's `on_mutate`).
    pub on_mutate: Option<OnMutationMutate>,
    /// After it succeeded.
    pub on_success: Option<OnMutationSuccess>,
    /// After it failed for good.
    pub on_error: Option<OnMutationError>,
    /// After either.
    pub on_settled: Option<OnMutationSettled>,
}

/// A client's settings (TanStack's `new QueryClient({ defaultOptions,
/// queryCache, mutationCache })`).
#[derive(Clone, Default)]
pub struct ClientConfig {
    /// Options for what queries leave unset.
    pub defaults: QueryOptions,
    /// Callbacks for every query.
    pub query_cache: QueryCacheConfig,
    /// Callbacks for every mutation.
    pub mutation_cache: MutationCacheConfig,
}

struct Inner {
    queries: QueryCache,
    mutations: MutationCache,
    environment: Environment,
    platform: Rc<dyn Platform>,
    defaults: QueryOptions,
    query_cache_config: QueryCacheConfig,
    mutation_cache_config: MutationCacheConfig,
    listeners: RefCell<Vec<(u64, CacheListener)>>,
    /// `set_query_defaults`, in the order set.
    query_defaults: RefCell<Vec<(QueryKey, QueryDefaults)>>,
    next_id: Cell<u64>,
    metrics: RefCell<Metrics>,
    journal: RefCell<Option<Rc<dyn crate::mutation::MutationJournal>>>,
    /// Resolves once the latest journaled mutation has entered the queue
    /// (the next one enters after it, whichever append ends first).
    last_entry: RefCell<Option<futures::future::Shared<futures::channel::oneshot::Receiver<()>>>>,
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

impl Subscription {
    pub(crate) fn id(&self) -> u64 {
        self.id
    }
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

impl QueryClient {
    /// A client with TanStack's defaults: `stale_time` 0 (data is stale at
    /// once), `gc_time` 5 min, 3 retries with exponential backoff for
    /// observers and none for `fetch_query` / `prefetch_query` /
    /// `ensure_query_data`. Apps
    /// usually set their own with [`QueryClient::with_defaults`].
    pub fn new(platform: impl Platform + 'static) -> Self {
        Self::with_defaults(platform, QueryOptions::default())
    }

    /// A client whose unset per-query options fall back to `defaults`.
    pub fn with_defaults(platform: impl Platform + 'static, defaults: QueryOptions) -> Self {
        Self::with_config(
            platform,
            ClientConfig {
                defaults,
                ..ClientConfig::default()
            },
        )
    }

    /// A client with defaults and cache-wide callbacks.
    ///
    /// ```
    /// use querent::client::{ClientConfig, QueryCacheConfig};
    /// use querent::{QueryClient, QueryKey, QueryOptions, QueryError};
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    /// # let (platform, mut runner) = querent::testing::FakePlatform::new();
    /// let failed = Rc::new(RefCell::new(vec![]));
    /// let seen = Rc::clone(&failed);
    /// let client = QueryClient::with_config(platform, ClientConfig {
    ///     query_cache: QueryCacheConfig {
    ///         // e.g. one toast for every failed query
    ///         on_error: Some(Rc::new(move |e: &QueryError, key: &QueryKey| {
    ///             seen.borrow_mut().push((key.canonical().to_owned(), e.message.clone()));
    ///         })),
    ///         ..QueryCacheConfig::default()
    ///     },
    ///     ..ClientConfig::default()
    /// });
    /// let key = QueryKey::of(&["todos"]);
    /// let down = querent::options::fetcher(|_| async { Err(QueryError::network("down")) });
    /// let once = QueryOptions { retry: Some(0), ..QueryOptions::default() };
    /// assert!(runner.block_on(client.fetch_query(&key, down, once)).is_err());
    /// assert_eq!(*failed.borrow(), [(r#"["todos"]"#.to_owned(), "down".to_owned())]);
    /// ```
    pub fn with_config(platform: impl Platform + 'static, config: ClientConfig) -> Self {
        Self {
            inner: Rc::new(Inner {
                queries: QueryCache::default(),
                mutations: MutationCache::default(),
                environment: Environment::default(),
                platform: Rc::new(platform),
                defaults: config.defaults,
                query_cache_config: config.query_cache,
                mutation_cache_config: config.mutation_cache,
                listeners: RefCell::new(vec![]),
                query_defaults: RefCell::new(vec![]),
                next_id: Cell::new(1),
                journal: RefCell::new(None),
                last_entry: RefCell::new(None),
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

    pub(crate) fn cache(&self) -> &QueryCache {
        &self.inner.queries
    }

    pub(crate) fn mutation_cache(&self) -> &MutationCache {
        &self.inner.mutations
    }

    pub(crate) fn environment(&self) -> &Environment {
        &self.inner.environment
    }

    pub(crate) fn with_metrics(&self, f: impl FnOnce(&mut Metrics)) {
        f(&mut self.inner.metrics.borrow_mut());
    }

    pub(crate) fn next_id(&self) -> u64 {
        let id = self.inner.next_id.get();
        self.inner.next_id.set(id + 1);
        id
    }

    /// `options` with the client's defaults for what they leave unset.
    pub(crate) fn resolve(&self, options: &QueryOptions) -> Resolved {
        options.resolve(&self.inner.defaults)
    }

    /// The client's default options.
    pub(crate) fn defaults(&self) -> &QueryOptions {
        &self.inner.defaults
    }

    /// The callbacks for every query.
    pub(crate) fn query_cache_config(&self) -> &QueryCacheConfig {
        &self.inner.query_cache_config
    }

    /// The callbacks for every mutation.
    pub(crate) fn mutation_cache_config(&self) -> &MutationCacheConfig {
        &self.inner.mutation_cache_config
    }

    /// Stores new mutations durably before they show, and forgets them when
    /// they settle (see [`crate::mutation::MutationJournal`]); `None` stops.
    pub fn set_mutation_journal(&self, journal: Option<Rc<dyn crate::mutation::MutationJournal>>) {
        *self.inner.journal.borrow_mut() = journal;
    }

    /// Puts `entry` as the latest journaled mutation's entry; the previous.
    pub(crate) fn replace_last_entry(
        &self,
        entry: futures::future::Shared<futures::channel::oneshot::Receiver<()>>,
    ) -> Option<futures::future::Shared<futures::channel::oneshot::Receiver<()>>> {
        self.inner.last_entry.replace(Some(entry))
    }

    pub(crate) fn mutation_journal(&self) -> Option<Rc<dyn crate::mutation::MutationJournal>> {
        self.inner.journal.borrow().clone()
    }

    pub(crate) fn resolved(&self, key: &QueryKey) -> Resolved {
        self.resolve(&self.cache().options(key))
    }

    /// Creates the entry if missing (scheduling its gc), and records the
    /// latest fetcher and options for it.
    pub(crate) fn register(
        &self,
        key: &QueryKey,
        fetcher: Option<Fetcher>,
        options: Option<QueryOptions>,
    ) {
        let (fetcher, options) = self.with_query_defaults(key, fetcher, options);
        let with_initial_data = options.as_ref().is_some_and(|o| o.initial_data.is_some());
        // TanStack's `updateGcTime`: a query is kept as long as the longest
        // gc time any of its options asked for (the client's default for
        // options that ask for none).
        let gc_time = options
            .as_ref()
            .and_then(|o| o.gc_time)
            .or(self.defaults().gc_time)
            .unwrap_or(crate::options::DEFAULT_GC_TIME_MS);
        let created = self.cache().register(key, fetcher, options, gc_time);
        if created {
            self.emit(&CacheEvent::Added(key.clone()));
            self.schedule_gc(key);
        }
        if with_initial_data {
            self.seed_initial_data(key);
        }
    }

    /// A query without data takes the initial data of its registered
    /// options (TanStack's `setOptions`: a query that exists without data
    /// adopts it too; `reset` returns to it). Not a write: a fetch in
    /// flight still applies its answer.
    pub(crate) fn seed_initial_data(&self, key: &QueryKey) {
        if self.get_query_data(key).is_some() {
            return;
        }
        let options = self.cache().options(key);
        let (Some(initial), at) = (options.initial_data, options.initial_data_updated_at) else {
            return;
        };
        if let Some(data) = initial() {
            let at = at.unwrap_or_else(|| self.now());
            self.dispatch(
                key,
                Action::SetData {
                    data: Rc::new(data),
                    at,
                },
            );
        }
    }

    // ----- state changes ------------------------------------------------

    pub(crate) fn dispatch(&self, key: &QueryKey, action: Action) {
        let Some(listeners) = self.cache().reduce(key, action) else {
            return;
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
        self.cache().observe(key, id, Rc::new(listener));
        self.emit(&CacheEvent::ObserverAdded(key.clone()));
        Subscription {
            client: self.clone(),
            key: Some(key.clone()),
            id,
        }
    }

    fn unobserve(&self, key: &QueryKey, id: u64) {
        let last = self.cache().unobserve(key, id);
        self.emit(&CacheEvent::ObserverRemoved(key.clone()));
        if last {
            // The last observer left: a fetch that can stop (its fetcher
            // read the abort signal) or that waits for the network to
            // start is cancelled and reverted, as TanStack's
            // `removeObserver`; one that cannot runs on without retrying,
            // so its answer is cached.
            if self.cache().on_last_observer_left(key) {
                self.cancel_keys(std::slice::from_ref(key));
            }
            self.schedule_gc(key);
        }
    }

    pub(crate) fn schedule_gc(&self, key: &QueryKey) {
        let gc_time = self.cache().gc_time(key);
        let Some(generation) = self.cache().next_gc_generation(key) else {
            return;
        };
        let client = self.clone();
        let key = key.clone();
        let sleep = self.inner.platform.sleep(gc_time);
        self.inner.platform.spawn(Box::pin(async move {
            sleep.await;
            if client.cache().collectable(&key, generation) {
                client.cache().remove(&key);
                client.emit(&CacheEvent::Removed(key));
            }
        }));
    }

    // ----- reading ------------------------------------------------------

    /// The cached data, if any (stale or not). Does not fetch.
    pub fn get_query_data(&self, key: &QueryKey) -> Option<Rc<Value>> {
        self.cache().data(key)
    }

    /// The whole state, if the query exists.
    pub fn get_query_state(&self, key: &QueryKey) -> Option<QueryState> {
        self.cache().state(key)
    }

    /// Whether the query's data is stale by the options last registered
    /// for it (the client's defaults for a query only hydrated or restored).
    pub fn is_stale(&self, key: &QueryKey) -> bool {
        let stale_time = self.resolved(key).stale_time;
        self.stale_by(key, &stale_time)
    }

    /// Whether the query's data is stale for an observer with `options`
    /// (TanStack's observers judge with their own options, so a query that
    /// entered the cache by hydration or restore, with no options of its
    /// own yet, is judged right on the first render).
    pub fn is_stale_with(&self, key: &QueryKey, options: &QueryOptions) -> bool {
        let stale_time = self.resolve(options).stale_time;
        self.stale_by(key, &stale_time)
    }

    fn stale_by(&self, key: &QueryKey, stale_time: &StaleTime) -> bool {
        self.get_query_state(key)
            .is_none_or(|s| stale_time.is_stale(key, &s, self.now()))
    }

    /// How many queries are fetching (or paused waiting for the network).
    pub fn is_fetching(&self) -> usize {
        self.cache().fetching()
    }

    /// Every query, sorted by key (for devtools).
    pub fn queries(&self) -> Vec<QuerySummary> {
        self.cache().summaries(&self.inner.defaults, self.now())
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
        if let Some(new) = updater(current.as_deref()) {
            self.write_data(key, Rc::new(new), at);
        }
        self.get_query_data(key)
    }

    /// Stores `data` as written at `at`; a refetch in flight no longer
    /// overwrites it.
    fn write_data(&self, key: &QueryKey, data: Rc<Value>, at: i64) {
        self.register(key, None, None);
        self.cache().supersede(key);
        self.dispatch(key, Action::SetData { data, at });
    }

    /// Puts `data` back as the query's data, now (a rollback; no copy).
    /// Like [`QueryClient::set_query_data`], a refetch in flight does not
    /// overwrite it.
    pub(crate) fn put_query_data(&self, key: &QueryKey, data: Rc<Value>) {
        self.write_data(key, data, self.now());
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

    // ----- focus and connectivity ---------------------------------------

    /// Whether the app believes it is online.
    pub fn is_online(&self) -> bool {
        self.environment().is_online()
    }

    /// Whether the app's window is visible and focused.
    pub fn is_focused(&self) -> bool {
        self.environment().is_focused()
    }

    /// Tells the client about connectivity. Going online resumes paused
    /// fetches and refetches active queries as their `refetch_on_reconnect`
    /// says (stale ones by default).
    pub fn set_online(&self, online: bool) {
        self.set_environment(Flag::Online, online, |o| o.refetch_on_reconnect);
    }

    /// Tells the client about focus (document visibility). Regaining focus
    /// resumes waiting retries and refetches active queries as their
    /// `refetch_on_window_focus` says (stale ones by default).
    pub fn set_focused(&self, focused: bool) {
        self.set_environment(Flag::Focused, focused, |o| o.refetch_on_window_focus);
    }

    fn set_environment(
        &self,
        flag: Flag,
        value: bool,
        when: fn(&Resolved) -> crate::options::Refetch,
    ) {
        if !self.environment().set(flag, value) {
            return;
        }
        self.emit(&CacheEvent::Environment);
        if value {
            let due = self
                .cache()
                .to_refetch(&self.inner.defaults, self.now(), when);
            for key in due {
                drop(self.refetch(&key));
            }
        }
    }

    /// Defaults for every query whose key starts with `prefix` (TanStack's
    /// `setQueryDefaults`, matched as `partialMatchKey`): their options
    /// fill what a query's own leave unset, before the client's defaults;
    /// their fetcher serves a query registered without one. Setting them
    /// again for the same prefix replaces them; where several prefixes
    /// match, the one set later wins. Nothing is fetched.
    ///
    /// ```
    /// use querent::{QueryClient, QueryDefaults, QueryKey, QueryOptions};
    /// use serde_json::json;
    /// # let (platform, mut runner) = querent::testing::FakePlatform::new();
    /// let client = QueryClient::new(platform);
    /// let todos = QueryKey::from(vec![json!("todos")]);
    /// client.set_query_defaults(&todos, QueryDefaults {
    ///     fetcher: Some(std::rc::Rc::new(|_| Box::pin(async { Ok(json!(["milk"])) }))),
    ///     options: QueryOptions { stale_time: Some(60_000.into()), ..QueryOptions::default() },
    /// });
    /// let one = QueryKey::from(vec![json!("todos"), json!(1)]);
    /// assert_eq!(client.get_query_defaults(&one).options.stale_time, Some(60_000.into()));
    /// let data = runner.block_on(client.refetch(&one)).unwrap();
    /// assert_eq!(*data, json!(["milk"]));
    /// ```
    pub fn set_query_defaults(&self, prefix: &QueryKey, defaults: QueryDefaults) {
        let mut all = self.inner.query_defaults.borrow_mut();
        match all.iter_mut().find(|(k, _)| k == prefix) {
            Some((_, existing)) => *existing = defaults,
            None => all.push((prefix.clone(), defaults)),
        }
    }

    /// The defaults `set_query_defaults` gives `key`: every matching
    /// prefix's, merged in the order they were set (TanStack's
    /// `getQueryDefaults`).
    pub fn get_query_defaults(&self, key: &QueryKey) -> QueryDefaults {
        let mut merged = QueryDefaults::default();
        for (prefix, defaults) in self.inner.query_defaults.borrow().iter() {
            if key.partially_matches(prefix) {
                merged.options = defaults.options.or(&merged.options);
                if defaults.fetcher.is_some() {
                    merged.fetcher.clone_from(&defaults.fetcher);
                }
            }
        }
        merged
    }

    /// `options` for `key` with what they leave unset taken from the
    /// query defaults (TanStack's `defaultQueryOptions`; the client's own
    /// defaults apply after, when the options are resolved).
    pub fn default_query_options(&self, key: &QueryKey, options: QueryOptions) -> QueryOptions {
        if self.inner.query_defaults.borrow().is_empty() {
            return options;
        }
        options.or(&self.get_query_defaults(key).options)
    }

    /// What `register` stores: the options given, defaulted for the key (a
    /// new query without options gets the defaults' own), and the
    /// defaults' fetcher for a query that has none.
    fn with_query_defaults(
        &self,
        key: &QueryKey,
        fetcher: Option<Fetcher>,
        options: Option<QueryOptions>,
    ) -> (Option<Fetcher>, Option<QueryOptions>) {
        if self.inner.query_defaults.borrow().is_empty() {
            return (fetcher, options);
        }
        let defaults = self.get_query_defaults(key);
        let fetcher = fetcher.or_else(|| {
            self.cache()
                .fetcher(key)
                .is_none()
                .then_some(defaults.fetcher)
                .flatten()
        });
        let options = match options {
            Some(options) => Some(options.or(&defaults.options)),
            None if !self.cache().contains(key) => Some(defaults.options),
            None => None,
        };
        (fetcher, options)
    }

    /// Counts a read served from cache / needing a fetch (observers use this).
    pub(crate) fn record_read(&self, hit: bool) {
        self.with_metrics(|m| {
            if hit {
                m.hits += 1;
            } else {
                m.misses += 1;
            }
        });
    }
}
