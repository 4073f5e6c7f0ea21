//! A query observer (TanStack's `QueryObserver`): what a `use_query` hook
//! holds for as long as it is mounted, and what builds the result it shows.
//!
//! - [`QueryObserver::unmounted`] makes one without side effects beyond
//!   creating its query; a hook makes it on the first render, the server
//!   render included. [`QueryObserver::subscribe`] mounts it: it observes
//!   the query, fetches it when the data is missing or stale (hydrated data
//!   inside its stale time is not refetched on load) and runs the refetch
//!   interval while the window is focused. [`QueryObserver::new`] does both.
//! - [`QueryObserver::set_options`] follows a re-render: a new key switches
//!   the query it observes, `enabled` going from false to true fetches, a
//!   changed interval restarts. [`QueryObserver::optimistic_result`] is the
//!   result for the render's options before they are set, already fetching
//!   when a fetch is about to start (so a first render shows
//!   `is_loading()`, never an idle pending query).
//! - The [`QueryObserverResult`] carries TanStack's result fields; the
//!   listener runs only when it changed. `placeholder_data` shows there
//!   (`is_placeholder_data`) without entering the cache.

use crate::client::{QueryClient, Subscription};
use crate::error::QueryError;
use crate::key::QueryKey;
use crate::options::Direction;
use crate::options::{Fetcher, PlaceholderData, QueryOptions, Resolved, skipped};
use crate::query::{FetchStatus, QueryState, QueryStatus};
use futures::future::{AbortHandle, Abortable, LocalBoxFuture};
use serde_json::Value;
use std::cell::RefCell;
use std::rc::Rc;

/// What an observer shows of its query (TanStack's `QueryObserverResult`).
/// Two results are equal when every field is, the data compared by
/// identity: the cache keeps an equal refetch as the same value.
#[derive(Debug, Clone)]
pub struct QueryObserverResult {
    /// The data, or the placeholder while the query has none.
    pub data: Option<Rc<Value>>,
    /// When the data was fetched or set (ms since the epoch; 0 if never).
    pub data_updated_at: i64,
    /// The settled error.
    pub error: Option<QueryError>,
    /// When the error happened.
    pub error_updated_at: i64,
    /// Failed attempts of the current fetch (visible while retrying).
    pub failure_count: u32,
    /// The latest failed attempt's error, also while retries go on.
    pub failure_reason: Option<QueryError>,
    /// How many fetches of the query failed for good.
    pub error_update_count: u32,
    /// Pending / error / success (success while placeholder data shows).
    pub status: QueryStatus,
    /// Fetching / paused / idle.
    pub fetch_status: FetchStatus,
    /// Data or an error has arrived at least once.
    pub is_fetched: bool,
    /// Data or an error arrived since this observer started on the query.
    pub is_fetched_after_mount: bool,
    /// `data` is the placeholder, not the query's.
    pub is_placeholder_data: bool,
    /// The data is stale by this observer's options (never when disabled).
    pub is_stale: bool,
    /// The observer may fetch (`enabled`).
    pub is_enabled: bool,
    /// Infinite queries: whether a page exists after the last.
    pub has_next_page: bool,
    /// Infinite queries: whether a page exists before the first.
    pub has_previous_page: bool,
    /// Infinite queries: the fetch running is of the next page.
    pub is_fetching_next_page: bool,
    /// Infinite queries: the fetch running is of the page before the first.
    pub is_fetching_previous_page: bool,
    /// Infinite queries: the last fetch, of the next page, failed.
    pub is_fetch_next_page_error: bool,
    /// Infinite queries: the last fetch, of the page before the first,
    /// failed.
    pub is_fetch_previous_page_error: bool,
}

impl PartialEq for QueryObserverResult {
    fn eq(&self, other: &Self) -> bool {
        crate::query::same_data(&self.data, &other.data)
            && self.data_updated_at == other.data_updated_at
            && self.error == other.error
            && self.error_updated_at == other.error_updated_at
            && self.failure_count == other.failure_count
            && self.failure_reason == other.failure_reason
            && self.error_update_count == other.error_update_count
            && self.status == other.status
            && self.fetch_status == other.fetch_status
            && self.is_fetched == other.is_fetched
            && self.is_fetched_after_mount == other.is_fetched_after_mount
            && self.is_placeholder_data == other.is_placeholder_data
            && self.is_stale == other.is_stale
            && self.is_enabled == other.is_enabled
            && self.has_next_page == other.has_next_page
            && self.has_previous_page == other.has_previous_page
            && self.is_fetching_next_page == other.is_fetching_next_page
            && self.is_fetching_previous_page == other.is_fetching_previous_page
            && self.is_fetch_next_page_error == other.is_fetch_next_page_error
            && self.is_fetch_previous_page_error == other.is_fetch_previous_page_error
    }
}

impl QueryObserverResult {
    /// No data (not even a placeholder) and no error yet.
    pub fn is_pending(&self) -> bool {
        self.status == QueryStatus::Pending
    }

    /// There is data (or a placeholder).
    pub fn is_success(&self) -> bool {
        self.status == QueryStatus::Success
    }

    /// The last fetch failed for good.
    pub fn is_error(&self) -> bool {
        self.status == QueryStatus::Error
    }

    /// A fetch is running (not paused).
    pub fn is_fetching(&self) -> bool {
        self.fetch_status == FetchStatus::Fetching
    }

    /// A fetch waits for the network.
    pub fn is_paused(&self) -> bool {
        self.fetch_status == FetchStatus::Paused
    }

    /// The first fetch is running: pending and fetching.
    pub fn is_loading(&self) -> bool {
        self.is_pending() && self.is_fetching()
    }

    /// A fetch runs while there is data (or a placeholder), not of one
    /// more page of an infinite query.
    pub fn is_refetching(&self) -> bool {
        self.is_fetching()
            && !self.is_pending()
            && !self.is_fetching_next_page
            && !self.is_fetching_previous_page
    }

    /// The query failed without ever having data.
    pub fn is_loading_error(&self) -> bool {
        self.is_error() && self.data.is_none()
    }

    /// A refetch failed (not the fetch of one more page); the data from
    /// before is kept.
    pub fn is_refetch_error(&self) -> bool {
        self.is_error()
            && self.data.is_some()
            && !self.is_fetch_next_page_error
            && !self.is_fetch_previous_page_error
    }
}

type Listener = Rc<dyn Fn(&QueryObserverResult)>;

/// Observes one query at a time (the key can change).
pub struct QueryObserver {
    inner: Rc<Inner>,
}

struct Inner {
    client: QueryClient,
    observed: RefCell<Observed>,
    listener: RefCell<Option<Listener>>,
    /// TanStack's `notifyOnChangeProps`: the listener hears only of changes
    /// of these (`None`: of any).
    notify_props: std::cell::Cell<Option<&'static [ResultProp]>>,
}

/// A part of [`QueryObserverResult`], for
/// [`QueryObserver::set_notify_on_change_props`] (TanStack's
/// `notifyOnChangeProps` names). The flags derived from the statuses
/// (`is_pending`, `is_fetching`, `is_loading`, ...) change with
/// [`ResultProp::Status`] and [`ResultProp::FetchStatus`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultProp {
    /// `data`.
    Data,
    /// `data_updated_at`.
    DataUpdatedAt,
    /// `error`.
    Error,
    /// `error_updated_at`.
    ErrorUpdatedAt,
    /// `failure_count`.
    FailureCount,
    /// `failure_reason`.
    FailureReason,
    /// `status` (and `is_pending`, `is_success`, `is_error`).
    Status,
    /// `fetch_status` (and `is_fetching`, `is_paused`).
    FetchStatus,
    /// `is_stale`.
    IsStale,
    /// `is_placeholder_data`.
    IsPlaceholderData,
    /// `is_fetched`, `is_fetched_after_mount`.
    IsFetched,
    /// `has_next_page`, `has_previous_page`, `is_fetching_next_page`,
    /// `is_fetching_previous_page`.
    Pages,
}

impl ResultProp {
    /// Every part, in order (a part's bit in a set of them is its place).
    #[cfg(feature = "yew")]
    pub(crate) const ALL: [ResultProp; 12] = [
        ResultProp::Data,
        ResultProp::DataUpdatedAt,
        ResultProp::Error,
        ResultProp::ErrorUpdatedAt,
        ResultProp::FailureCount,
        ResultProp::FailureReason,
        ResultProp::Status,
        ResultProp::FetchStatus,
        ResultProp::IsStale,
        ResultProp::IsPlaceholderData,
        ResultProp::IsFetched,
        ResultProp::Pages,
    ];

    /// Whether this part differs between `a` and `b`.
    pub(crate) fn changed(self, a: &QueryObserverResult, b: &QueryObserverResult) -> bool {
        match self {
            ResultProp::Data => a.data != b.data,
            ResultProp::DataUpdatedAt => a.data_updated_at != b.data_updated_at,
            ResultProp::Error => a.error != b.error,
            ResultProp::ErrorUpdatedAt => a.error_updated_at != b.error_updated_at,
            ResultProp::FailureCount => a.failure_count != b.failure_count,
            ResultProp::FailureReason => a.failure_reason != b.failure_reason,
            ResultProp::Status => a.status != b.status,
            ResultProp::FetchStatus => a.fetch_status != b.fetch_status,
            ResultProp::IsStale => a.is_stale != b.is_stale,
            ResultProp::IsPlaceholderData => a.is_placeholder_data != b.is_placeholder_data,
            ResultProp::IsFetched => {
                (a.is_fetched, a.is_fetched_after_mount) != (b.is_fetched, b.is_fetched_after_mount)
            }
            ResultProp::Pages => {
                (
                    a.has_next_page,
                    a.has_previous_page,
                    a.is_fetching_next_page,
                    a.is_fetching_previous_page,
                ) != (
                    b.has_next_page,
                    b.has_previous_page,
                    b.is_fetching_next_page,
                    b.is_fetching_previous_page,
                )
            }
        }
    }
}

struct Observed {
    key: QueryKey,
    fetcher: Fetcher,
    options: QueryOptions,
    /// Some while mounted.
    subscription: Option<Subscription>,
    /// The running refetch interval: its period, whether it runs in the
    /// background, and its handle.
    interval: Option<((u64, bool), AbortHandle)>,
    /// The timer that builds the result again when its data turns stale.
    stale_timeout: Option<(i64, AbortHandle)>,
    /// The query's update counts when this observer started on it.
    initial_counts: (u32, u32),
    /// The query this observer last saw with data (TanStack's
    /// `lastQueryWithDefinedData`), and that data.
    last_defined: Option<(QueryKey, Rc<Value>)>,
    result: Option<QueryObserverResult>,
    /// The placeholder function behind `result`'s placeholder data.
    placeholder_of: Option<PlaceholderData>,
}

fn counts(state: &QueryState) -> (u32, u32) {
    (state.data_update_count, state.error_update_count)
}

/// TanStack's `shouldFetchOnMount`: a query without data loads (unless it
/// failed for good and must not retry on mount); one with data refetches
/// as `refetch_on_mount` says.
fn should_fetch_on_mount(key: &QueryKey, state: &QueryState, options: &Resolved, now: i64) -> bool {
    if state.data.is_none() {
        options.is_enabled(key, state)
            && (options.retry_on_mount || state.status != QueryStatus::Error)
    } else {
        options.should_fetch_on(options.refetch_on_mount, key, state, now)
    }
}

/// TanStack's `shouldFetchOptionally`: after new options, a mounted
/// observer fetches stale data of a query it just switched to, or of one
/// it was disabled for until now.
fn should_fetch_optionally(
    key: &QueryKey,
    state: &QueryState,
    query_changed: bool,
    options: &Resolved,
    was_enabled: bool,
    now: i64,
) -> bool {
    (query_changed || !was_enabled)
        && (options.retry_on_mount || state.status != QueryStatus::Error)
        && options.is_stale(key, state, now)
}

impl QueryObserver {
    /// Starts observing `key`; `on_change` runs after every change of the
    /// result.
    pub fn new(
        client: &QueryClient,
        key: QueryKey,
        fetcher: Fetcher,
        options: QueryOptions,
        on_change: impl Fn() + 'static,
    ) -> Self {
        let observer = Self::unmounted(client, key, fetcher, options);
        observer.subscribe(move |_| on_change());
        observer
    }

    /// An observer of `key` that neither observes nor fetches until
    /// [`QueryObserver::subscribe`]; the query is created (with its
    /// initial data) and `fetcher` and `options` registered for it.
    pub fn unmounted(
        client: &QueryClient,
        key: QueryKey,
        fetcher: Fetcher,
        options: QueryOptions,
    ) -> Self {
        let options = client.default_query_options(&key, skipped(&fetcher, options));
        client.register(&key, Some(Rc::clone(&fetcher)), Some(options.clone()));
        let initial_counts = counts(&client.get_query_state(&key).unwrap_or_default());
        let observer = Self {
            inner: Rc::new(Inner {
                client: client.clone(),
                observed: RefCell::new(Observed {
                    key,
                    fetcher,
                    options,
                    subscription: None,
                    interval: None,
                    stale_timeout: None,
                    initial_counts,
                    last_defined: None,
                    result: None,
                    placeholder_of: None,
                }),
                listener: RefCell::new(None),
                notify_props: std::cell::Cell::new(None),
            }),
        };
        observer.inner.update_result();
        observer
    }

    /// TanStack's `notifyOnChangeProps`: from now on the listener hears
    /// of a new result only when one of `props` changed (`None`: any
    /// change, the default). A component that reads only the data is not
    /// rendered again for a background refetch that brings the same data.
    pub fn set_notify_on_change_props(&self, props: Option<&'static [ResultProp]>) {
        self.inner.notify_props.set(props);
    }

    /// Mounts the observer (TanStack's first `subscribe`): `on_change`
    /// runs after every change of the result until
    /// [`QueryObserver::unsubscribe`] or the drop.
    pub fn subscribe(&self, on_change: impl Fn(&QueryObserverResult) + 'static) {
        *self.inner.listener.borrow_mut() = Some(Rc::new(on_change));
        let (key, options) = {
            let observed = self.inner.observed.borrow();
            if observed.subscription.is_some() {
                return;
            }
            (observed.key.clone(), observed.options.clone())
        };
        let subscription = self.inner.listen(&key, &options);
        self.inner.observed.borrow_mut().subscription = Some(subscription);
        let client = &self.inner.client;
        let resolved = client.resolve(&options);
        let state = client.get_query_state(&key).unwrap_or_default();
        if resolved.is_enabled(&key, &state) {
            client.record_read(!resolved.is_stale(&key, &state, client.now()));
        }
        if should_fetch_on_mount(&key, &state, &resolved, client.now()) {
            // A fetch in flight is joined (its retries, stopped when the
            // last observer left, go on).
            drop(client.refetch(&key));
        }
        self.inner.update_result();
        self.inner.update_timers();
    }

    /// Unmounts: stops observing (the query is garbage-collected after
    /// its gc time unless observed again) and stops the interval.
    pub fn unsubscribe(&self) {
        let (subscription, interval, stale_timeout) = {
            let mut observed = self.inner.observed.borrow_mut();
            (
                observed.subscription.take(),
                observed.interval.take(),
                observed.stale_timeout.take(),
            )
        };
        *self.inner.listener.borrow_mut() = None;
        for (_, handle) in stale_timeout
            .into_iter()
            .chain(interval.map(|(_, h)| (0, h)))
        {
            handle.abort();
        }
        drop(subscription);
    }

    /// New options from a re-render (TanStack's `setOptions`): they are
    /// registered for `key`; a new key switches the query observed; a
    /// mounted observer fetches stale data of a query it switched to or
    /// was disabled for until now, and restarts its interval when that
    /// changed.
    pub fn set_options(&self, key: QueryKey, fetcher: Fetcher, options: QueryOptions) {
        let client = self.inner.client.clone();
        let options = client.default_query_options(&key, skipped(&fetcher, options));
        client.register(&key, Some(Rc::clone(&fetcher)), Some(options.clone()));
        let (query_changed, was_enabled, mounted, left) = {
            let mut observed = self.inner.observed.borrow_mut();
            let query_changed = observed.key != key;
            let was_enabled = client.resolve(&observed.options).enabled;
            let mounted = observed.subscription.is_some();
            let mut left = None;
            if query_changed {
                left = observed.subscription.take();
                observed.initial_counts = counts(&client.get_query_state(&key).unwrap_or_default());
                observed.key = key.clone();
            }
            observed.fetcher = fetcher;
            observed.options = options.clone();
            (query_changed, was_enabled, mounted, left)
        };
        drop(left);
        if query_changed && mounted {
            let subscription = self.inner.listen(&key, &options);
            self.inner.observed.borrow_mut().subscription = Some(subscription);
        } else if let Some(subscription) = &self.inner.observed.borrow().subscription {
            client
                .cache()
                .set_observer_options(&key, subscription.id(), &options);
        }
        let resolved = client.resolve(&options);
        let state = client.get_query_state(&key).unwrap_or_default();
        let was_enabled = was_enabled.of(&key, &state);
        let enabled = resolved.is_enabled(&key, &state);
        if mounted
            && should_fetch_optionally(
                &key,
                &state,
                query_changed,
                &resolved,
                was_enabled,
                client.now(),
            )
        {
            drop(client.refetch(&key));
        }
        self.inner.update_result();
        if mounted {
            self.inner.update_stale_timeout();
            self.inner
                .update_interval(query_changed || was_enabled != enabled);
        }
    }

    /// The result for `key` with `options` as they would be once set
    /// (TanStack's `getOptimisticResult`): a render computes it before its
    /// options reach [`QueryObserver::set_options`]. A query not in the
    /// cache yet is created with them.
    pub fn optimistic_result(
        &self,
        key: &QueryKey,
        fetcher: &Fetcher,
        options: &QueryOptions,
    ) -> QueryObserverResult {
        let client = &self.inner.client;
        let options = &client.default_query_options(key, skipped(fetcher, options.clone()));
        if !client.cache().contains(key) {
            client.register(key, Some(Rc::clone(fetcher)), Some(options.clone()));
        }
        let result = self.inner.create_result(key, options, true);
        self.inner.adopt(key, options, result.clone());
        result
    }

    /// The result last built.
    pub fn result(&self) -> QueryObserverResult {
        self.inner
            .observed
            .borrow()
            .result
            .clone()
            .unwrap_or_else(|| {
                let observed = self.inner.observed.borrow();
                self.inner
                    .create_result(&observed.key, &observed.options, false)
            })
    }

    /// Whether it observes `key` now.
    pub fn observes(&self, key: &QueryKey) -> bool {
        self.inner.observed.borrow().key == *key
    }

    /// The key observed.
    pub fn key(&self) -> QueryKey {
        self.inner.observed.borrow().key.clone()
    }

    /// The query's current state.
    pub fn state(&self) -> QueryState {
        let key = self.key();
        self.inner.client.get_query_state(&key).unwrap_or_default()
    }

    /// The current data.
    pub fn data(&self) -> Option<Rc<Value>> {
        self.inner.client.get_query_data(&self.key())
    }

    /// Whether the data is stale now, by this observer's options.
    pub fn is_stale(&self) -> bool {
        let (key, options) = self.parts();
        self.inner.client.is_stale_with(&key, &options)
    }

    fn parts(&self) -> (QueryKey, QueryOptions) {
        let observed = self.inner.observed.borrow();
        (observed.key.clone(), observed.options.clone())
    }

    fn fetch_parts(&self) -> (QueryKey, Fetcher, QueryOptions) {
        let observed = self.inner.observed.borrow();
        (
            observed.key.clone(),
            Rc::clone(&observed.fetcher),
            observed.options.clone(),
        )
    }

    /// Fetches now with this observer's fetcher (joining a fetch in flight).
    pub fn refetch(&self) -> impl Future<Output = Result<Rc<Value>, QueryError>> + 'static + use<> {
        let (key, fetcher, options) = self.fetch_parts();
        self.inner.client.refetch_with(&key, fetcher, options)
    }

    /// Infinite queries: appends the next page.
    pub fn fetch_next_page(
        &self,
    ) -> impl Future<Output = Result<Rc<Value>, QueryError>> + 'static + use<> {
        let (key, fetcher, options) = self.fetch_parts();
        self.inner
            .client
            .fetch_next_page_with(&key, fetcher, options)
    }

    /// Infinite queries: prepends the page before the first.
    pub fn fetch_previous_page(
        &self,
    ) -> impl Future<Output = Result<Rc<Value>, QueryError>> + 'static + use<> {
        let (key, fetcher, options) = self.fetch_parts();
        self.inner
            .client
            .fetch_previous_page_with(&key, fetcher, options)
    }

    /// Infinite queries: whether a page exists before the first, by this
    /// observer's options.
    pub fn has_previous_page(&self) -> bool {
        let (key, options) = self.parts();
        self.inner.client.has_previous_page_with(&key, &options)
    }

    /// Infinite queries: whether another page exists, by this observer's
    /// options (whatever else registered options for the key since).
    pub fn has_next_page(&self) -> bool {
        let (key, options) = self.parts();
        self.inner.client.has_next_page_with(&key, &options)
    }
}

impl Inner {
    /// Observes `key` on behalf of this observer, with its options (the
    /// query is active while any observer's are enabled).
    fn listen(self: &Rc<Self>, key: &QueryKey, options: &QueryOptions) -> Subscription {
        let observer = Rc::downgrade(self);
        let subscription = self.client.subscribe(key, move || {
            if let Some(observer) = observer.upgrade() {
                observer.update_result();
                observer.update_timers();
            }
        });
        self.client
            .cache()
            .set_observer_options(key, subscription.id(), options);
        subscription
    }

    /// TanStack's `createResult` for `key` with `options`, judged against
    /// what the observer holds now (a different key is a query switch).
    /// `optimistic`: a fetch about to start shows as started (TanStack's
    /// `_optimisticResults`, which only the hooks ask for).
    fn create_result(
        &self,
        key: &QueryKey,
        options: &QueryOptions,
        optimistic: bool,
    ) -> QueryObserverResult {
        let client = &self.client;
        let observed = self.observed.borrow();
        let resolved = client.resolve(options);
        let now = client.now();
        let mut state = client.get_query_state(key).unwrap_or_default();
        let query_changed = observed.key != *key;
        let mounted = observed.subscription.is_some();
        let was_enabled = client.resolve(&observed.options).enabled.of(key, &state);
        let fetching_now = optimistic
            && if mounted {
                should_fetch_optionally(key, &state, query_changed, &resolved, was_enabled, now)
            } else {
                should_fetch_on_mount(key, &state, &resolved, now)
            };
        if fetching_now && !state.is_fetching() {
            // TanStack's `fetchState`: the fetch about to start shows.
            state.fetch_status = if resolved.network_mode.can_fetch(client.is_online()) {
                FetchStatus::Fetching
            } else {
                FetchStatus::Paused
            };
            if state.data.is_none() {
                state.error = None;
                state.status = QueryStatus::Pending;
            }
        }
        let initial_counts = if query_changed {
            counts(&state)
        } else {
            observed.initial_counts
        };
        let is_stale = resolved.is_stale(key, &state, now);
        let is_enabled = resolved.is_enabled(key, &state);
        let fetching_more = |way| state.fetch_more == Some(way);
        let (forward, backward) = (Direction::Forward, Direction::Backward);
        let mut data = state.data.clone();
        let mut status = state.status;
        let mut is_placeholder_data = false;
        if data.is_none()
            && status == QueryStatus::Pending
            && let Some(placeholder) = &resolved.placeholder_data
        {
            let memoized = match (&observed.result, &observed.placeholder_of) {
                (Some(previous), Some(used))
                    if previous.is_placeholder_data && Rc::ptr_eq(used, placeholder) =>
                {
                    previous.data.clone()
                }
                _ => None,
            };
            let previous = observed.last_defined.as_ref().map(|(key, data)| {
                client
                    .get_query_data(key)
                    .unwrap_or_else(|| Rc::clone(data))
            });
            if let Some(shown) = memoized.or_else(|| placeholder(previous.as_ref())) {
                data = Some(shown);
                status = QueryStatus::Success;
                is_placeholder_data = true;
            }
        }
        QueryObserverResult {
            data,
            data_updated_at: state.data_updated_at,
            error: state.error.clone(),
            error_updated_at: state.error_updated_at,
            failure_count: state.failure_count,
            failure_reason: state.failure_reason.clone(),
            error_update_count: state.error_update_count,
            status,
            fetch_status: state.fetch_status,
            is_fetched: state.is_fetched(),
            is_fetched_after_mount: state.data_update_count > initial_counts.0
                || state.error_update_count > initial_counts.1,
            is_placeholder_data,
            is_stale,
            is_enabled,
            has_next_page: client.page_exists(key, &resolved, false),
            has_previous_page: client.page_exists(key, &resolved, true),
            is_fetching_next_page: state.fetch_status == FetchStatus::Fetching
                && fetching_more(forward),
            is_fetching_previous_page: state.fetch_status == FetchStatus::Fetching
                && fetching_more(backward),
            is_fetch_next_page_error: status == QueryStatus::Error && fetching_more(forward),
            is_fetch_previous_page_error: status == QueryStatus::Error && fetching_more(backward),
        }
    }

    /// Keeps `result` as the current one; returns whether it changed.
    fn adopt(&self, key: &QueryKey, options: &QueryOptions, result: QueryObserverResult) -> bool {
        let mut observed = self.observed.borrow_mut();
        if !result.is_placeholder_data
            && let Some(data) = &result.data
        {
            observed.last_defined = Some((key.clone(), Rc::clone(data)));
        }
        if observed.result.as_ref() == Some(&result) {
            return false;
        }
        observed.placeholder_of = if result.is_placeholder_data {
            self.client.resolve(options).placeholder_data
        } else {
            None
        };
        observed.result = Some(result);
        true
    }

    /// TanStack's `updateResult`: builds the result and tells the listener
    /// when it changed.
    fn update_result(&self) {
        let (key, options) = {
            let observed = self.observed.borrow();
            (observed.key.clone(), observed.options.clone())
        };
        let result = self.create_result(&key, &options, false);
        // Kept only when the listener is told of some parts only.
        let props = self.notify_props.get();
        let previous = props.and_then(|_| self.observed.borrow().result.clone());
        if self.adopt(&key, &options, result.clone()) {
            // TanStack's `shouldNotifyListeners`: a listed part changed (the
            // error always counts when it goes to an error boundary).
            let notify = match (props, &previous) {
                (Some(props), Some(previous)) => props
                    .iter()
                    .copied()
                    .chain(
                        options
                            .throw_on_error
                            .is_some()
                            .then_some(ResultProp::Error),
                    )
                    .any(|p| p.changed(previous, &result)),
                _ => true,
            };
            // TanStack's order: the observer's listener, then the cache's.
            let listener = self.listener.borrow().clone().filter(|_| notify);
            if let Some(listener) = listener {
                listener(&result);
            }
            self.client
                .emit(&crate::client::CacheEvent::ObserverResultsUpdated(key));
        }
    }

    /// TanStack's `updateTimers` after a change of the query: the stale
    /// timeout, and the interval when its period changed.
    fn update_timers(self: &Rc<Self>) {
        self.update_stale_timeout();
        self.update_interval(false);
    }

    /// TanStack's `updateStaleTimeout`: while the result is fresh by a
    /// finite stale time, a timer builds it again once that has passed,
    /// so `is_stale` turns true and the listener hears of it.
    fn update_stale_timeout(self: &Rc<Self>) {
        let (key, options, fresh, timer_at) = {
            let observed = self.observed.borrow();
            let fresh = observed.result.as_ref().is_some_and(|r| !r.is_stale);
            let timer_at = observed.stale_timeout.as_ref().map(|(at, _)| *at);
            if !fresh && timer_at.is_none() {
                // Stale already and no timer to stop: the common case of
                // every update of a query with TanStack's stale time 0.
                return;
            }
            (
                observed.key.clone(),
                observed.options.clone(),
                fresh,
                timer_at,
            )
        };
        let client = &self.client;
        let state = client.get_query_state(&key).unwrap_or_default();
        let stale_at = client
            .resolve(&options)
            .stale_time
            .of(&key, &state)
            .filter(|ms| fresh && *ms < u64::MAX)
            .map(|ms| state.data_updated_at.saturating_add_unsigned(ms));
        if stale_at == timer_at {
            return;
        }
        if let Some((_, handle)) = self.observed.borrow_mut().stale_timeout.take() {
            handle.abort();
        }
        let Some(stale_at) = stale_at else {
            return;
        };
        // 1 ms late, as TanStack's: a timer may fire a little early.
        let due = u64::try_from(stale_at.saturating_sub(client.now())).unwrap_or(0) + 1;
        let observer = Rc::downgrade(self);
        let sleep = client.platform().sleep(due);
        let handle = spawn_abortable(
            client,
            Box::pin(async move {
                sleep.await;
                if let Some(observer) = observer.upgrade() {
                    observer.observed.borrow_mut().stale_timeout = None;
                    observer.update_result();
                }
            }),
        );
        self.observed.borrow_mut().stale_timeout = Some((stale_at, handle));
    }

    /// Starts, restarts or stops the refetch interval to match the
    /// options and the query (`restart`: the query or `enabled` changed).
    fn update_interval(&self, restart: bool) {
        let (key, options, running) = {
            let observed = self.observed.borrow();
            let running = observed.interval.as_ref().map(|(every, _)| *every);
            let asked = observed.options.refetch_interval.is_some()
                || self.client.defaults().refetch_interval.is_some();
            if !asked && running.is_none() {
                // No interval asked for and none running: the common case
                // on every update of the query.
                return;
            }
            (observed.key.clone(), observed.options.clone(), running)
        };
        let resolved = self.client.resolve(&options);
        let state = self.client.get_query_state(&key).unwrap_or_default();
        let in_background = resolved.refetch_interval_in_background;
        let wanted = resolved
            .refetch_interval
            .as_ref()
            .and_then(|every| every.of(&key, &state))
            .filter(|_| resolved.is_enabled(&key, &state))
            .map(|ms| (ms, in_background));
        if !restart && wanted == running {
            return;
        }
        if let Some((_, handle)) = self.observed.borrow_mut().interval.take() {
            handle.abort();
        }
        let Some(every) = wanted else {
            return;
        };
        let ms = every.0;
        let client = self.client.clone();
        let handle = spawn_abortable(
            &self.client,
            Box::pin(async move {
                loop {
                    client.platform().sleep(ms).await;
                    // Not in the background unless asked: a hidden tab
                    // waits for focus.
                    if in_background || client.is_focused() {
                        let _ = client.refetch(&key).await;
                    }
                }
            }),
        );
        self.observed.borrow_mut().interval = Some((every, handle));
    }
}

/// Runs `task` until the handle is aborted (boxed: one copy for both
/// timers).
fn spawn_abortable(client: &QueryClient, task: LocalBoxFuture<'static, ()>) -> AbortHandle {
    let (handle, registration) = AbortHandle::new_pair();
    client.platform().spawn(Box::pin(async move {
        let _ = Abortable::new(task, registration).await;
    }));
    handle
}

impl Drop for QueryObserver {
    fn drop(&mut self) {
        self.unsubscribe();
    }
}
