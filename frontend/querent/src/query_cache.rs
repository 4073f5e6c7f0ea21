//! The query cache: every query's entry (state, options, fetcher,
//! observers, the fetch in flight, its gc generation) behind one `RefCell`.
//!
//! It only stores and reduces. It never calls a listener or spawns anything:
//! a change returns the observers to tell, and the client tells them once
//! no borrow is held (so listeners may call back into the client).

use crate::abort::AbortSignal;
use crate::error::QueryError;
use crate::filters::{QueryFilters, QueryTypeFilter};
use crate::key::QueryKey;
use crate::options::{Fetcher, QueryOptions, Resolved};
use crate::query::{Action, QueryState, reduce};
use futures::future::{AbortHandle, LocalBoxFuture, Shared};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

pub(crate) type FetchResult = Result<Rc<Value>, QueryError>;
pub(crate) type SharedFetch = Shared<LocalBoxFuture<'static, FetchResult>>;
pub(crate) type Listener = Rc<dyn Fn()>;

/// What a fetch should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Fetch the data (for an infinite query: refetch every loaded page).
    Refetch,
    /// Infinite query: append the next page.
    NextPage,
    /// Infinite query: prepend the page before the first.
    PreviousPage,
}

/// Whether, and how, a fetch in flight was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Cancel {
    /// It runs.
    #[default]
    Not,
    /// `cancel_queries`: the query went back to its state before the fetch;
    /// those awaiting it get that state's data (an error without data).
    Revert,
    /// A refetch replaced it (`cancel_refetch`): those awaiting it get the
    /// new fetch's answer.
    Silent,
}

/// A fetch in flight.
pub(crate) struct InFlight {
    pub(crate) id: u64,
    pub(crate) future: SharedFetch,
    pub(crate) abort: AbortHandle,
    /// The fetcher's abort signal, raised with `abort`.
    signal: AbortSignal,
    /// The state before it, for a cancellation to return to.
    pub(crate) before: QueryState,
    pub(crate) mode: Mode,
    /// Set before `abort`: what those awaiting the fetch get instead.
    pub(crate) cancelled: Rc<std::cell::Cell<Cancel>>,
    /// Data was written while this refetch ran: its answer may predate the
    /// write, so it is not applied.
    superseded: bool,
    /// Shared with the fetch's retry policy: no retry after the attempt
    /// running (the last observer left).
    retry_cancelled: Rc<std::cell::Cell<bool>>,
}

impl InFlight {
    pub(crate) fn new(
        id: u64,
        future: SharedFetch,
        (abort, signal): (AbortHandle, AbortSignal),
        before: QueryState,
        mode: Mode,
        (cancelled, retry_cancelled): (Rc<std::cell::Cell<Cancel>>, Rc<std::cell::Cell<bool>>),
    ) -> Self {
        Self {
            id,
            future,
            abort,
            signal,
            before,
            mode,
            cancelled,
            superseded: false,
            retry_cancelled,
        }
    }

    /// Stops the fetch; those awaiting it get what `how` says.
    pub(crate) fn cancel(&self, how: Cancel) {
        self.cancelled.set(how);
        self.abort.abort();
        self.signal.abort();
    }
}

#[derive(Default)]
struct Entry {
    state: QueryState,
    options: QueryOptions,
    fetcher: Option<Fetcher>,
    observers: Vec<Observer>,
    in_flight: Option<InFlight>,
    gc_generation: u64,
    /// The longest gc time any registered options asked for.
    gc_time: u64,
}

/// One observer of a query: its listener and, for a [`crate::QueryObserver`],
/// its own options (TanStack asks each observer: the query is active when
/// any of them is enabled). A plain subscription goes by the query's.
struct Observer {
    id: u64,
    listener: Listener,
    options: Option<QueryOptions>,
}

impl Entry {
    /// Each observer's options, resolved (TanStack's `query.observers`).
    fn observer_options<'a>(
        &'a self,
        defaults: &'a QueryOptions,
    ) -> impl Iterator<Item = Resolved> + 'a {
        self.observers.iter().map(move |o| {
            o.options
                .as_ref()
                .unwrap_or(&self.options)
                .resolve(defaults)
        })
    }

    /// The resolved options of each enabled observer of a fetchable query:
    /// the ones invalidation and focus/reconnect refetch by. Empty when the
    /// query is not active.
    fn active_options<'a>(
        &'a self,
        key: &'a QueryKey,
        defaults: &'a QueryOptions,
    ) -> impl Iterator<Item = Resolved> + 'a {
        let fetchable = self.fetcher.is_some();
        self.observer_options(defaults)
            .filter(move |o| fetchable && o.is_enabled(key, &self.state))
    }

    /// TanStack's `isActive`: fetchable and some observer is enabled.
    fn is_active(&self, key: &QueryKey, defaults: &QueryOptions) -> bool {
        self.active_options(key, defaults).next().is_some()
    }

    /// TanStack's `isStatic`: some observer's stale time is `Static`.
    fn is_static(&self, key: &QueryKey, defaults: &QueryOptions) -> bool {
        self.observer_options(defaults)
            .any(|o| o.stale_time.of(key, &self.state).is_none())
    }

    /// Stale by the options last registered (TanStack's `isStaleByTime`).
    fn is_stale(&self, key: &QueryKey, defaults: &QueryOptions, now: i64) -> bool {
        self.options
            .resolve(defaults)
            .stale_time
            .is_stale(key, &self.state, now)
    }

    fn listeners(&self) -> Vec<Listener> {
        self.observers
            .iter()
            .map(|o| Rc::clone(&o.listener))
            .collect()
    }
}

/// One row of [`crate::QueryClient::queries`].
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
    /// Its options' `meta`.
    pub meta: Option<Rc<Value>>,
}

/// Every query, by key.
#[derive(Default)]
pub(crate) struct QueryCache {
    entries: RefCell<HashMap<QueryKey, Entry>>,
}

impl QueryCache {
    fn read<R>(&self, key: &QueryKey, f: impl FnOnce(&Entry) -> R) -> Option<R> {
        self.entries.borrow().get(key).map(f)
    }

    fn write<R>(&self, key: &QueryKey, f: impl FnOnce(&mut Entry) -> R) -> Option<R> {
        self.entries.borrow_mut().get_mut(key).map(f)
    }

    pub(crate) fn data(&self, key: &QueryKey) -> Option<Rc<Value>> {
        self.read(key, |e| e.state.data.clone()).flatten()
    }

    pub(crate) fn contains(&self, key: &QueryKey) -> bool {
        self.entries.borrow().contains_key(key)
    }

    pub(crate) fn state(&self, key: &QueryKey) -> Option<QueryState> {
        self.read(key, |e| e.state.clone())
    }

    /// The query's options (the defaults' when it has none).
    pub(crate) fn options(&self, key: &QueryKey) -> QueryOptions {
        self.read(key, |e| e.options.clone()).unwrap_or_default()
    }

    pub(crate) fn fetcher(&self, key: &QueryKey) -> Option<Fetcher> {
        self.read(key, |e| e.fetcher.clone()).flatten()
    }

    /// Creates the entry if missing (returns whether it did), and records
    /// the latest fetcher and options for it. Its gc time becomes at least
    /// `gc_time` when it is new or `options` are given (TanStack's
    /// `updateGcTime`: the longest any options asked for).
    pub(crate) fn register(
        &self,
        key: &QueryKey,
        fetcher: Option<Fetcher>,
        options: Option<QueryOptions>,
        gc_time: u64,
    ) -> bool {
        let mut entries = self.entries.borrow_mut();
        let mut created = false;
        let entry = entries.entry(key.clone()).or_insert_with(|| {
            created = true;
            Entry::default()
        });
        if let Some(f) = fetcher {
            entry.fetcher = Some(f);
        }
        if created || options.is_some() {
            entry.gc_time = entry.gc_time.max(gc_time);
        }
        if let Some(o) = options {
            entry.options = o;
        }
        created
    }

    /// Applies `action`; returns the observers to tell, or `None` when the
    /// state did not change (or the query does not exist).
    pub(crate) fn reduce(&self, key: &QueryKey, action: Action) -> Option<Vec<Listener>> {
        self.write(key, |entry| {
            let next = reduce(&entry.state, action);
            if same_state(&entry.state, &next) {
                return None;
            }
            entry.state = next;
            Some(entry.listeners())
        })
        .flatten()
    }

    /// Adds an observer (which also postpones any scheduled gc).
    pub(crate) fn observe(&self, key: &QueryKey, id: u64, listener: Listener) {
        self.write(key, |entry| {
            entry.observers.push(Observer {
                id,
                listener,
                options: None,
            });
            entry.gc_generation += 1;
        });
    }

    /// Gives observer `id` its own options (a [`crate::QueryObserver`]'s,
    /// updated on every `set_options`).
    pub(crate) fn set_observer_options(&self, key: &QueryKey, id: u64, options: &QueryOptions) {
        self.write(key, |entry| {
            if let Some(o) = entry.observers.iter_mut().find(|o| o.id == id) {
                o.options = Some(options.clone());
            }
        });
    }

    /// Whether the query has observers.
    pub(crate) fn is_observed(&self, key: &QueryKey) -> bool {
        self.read(key, |e| !e.observers.is_empty()).unwrap_or(false)
    }

    /// Removes an observer; returns whether none is left.
    pub(crate) fn unobserve(&self, key: &QueryKey, id: u64) -> bool {
        self.write(key, |entry| {
            entry.observers.retain(|o| o.id != id);
            entry.observers.is_empty()
        })
        .unwrap_or(false)
    }

    /// Keeps the query at least `gc_time` once unobserved.
    /// How long the query is kept once unobserved.
    pub(crate) fn gc_time(&self, key: &QueryKey) -> u64 {
        self.read(key, |e| e.gc_time).unwrap_or(0)
    }

    /// A new gc generation for the query (a gc scheduled earlier no longer
    /// applies).
    pub(crate) fn next_gc_generation(&self, key: &QueryKey) -> Option<u64> {
        self.write(key, |entry| {
            entry.gc_generation += 1;
            entry.gc_generation
        })
    }

    /// Whether the gc of `generation` may remove the query: nothing newer
    /// happened to it, it is unobserved and not fetching.
    pub(crate) fn collectable(&self, key: &QueryKey, generation: u64) -> bool {
        self.read(key, |e| {
            e.gc_generation == generation && e.observers.is_empty() && e.in_flight.is_none()
        })
        .unwrap_or(false)
    }

    /// Removes the query; returns its observers (to tell), `None` if it
    /// did not exist.
    pub(crate) fn remove(&self, key: &QueryKey) -> Option<Vec<Listener>> {
        let entry = self.entries.borrow_mut().remove(key)?;
        Some(entry.listeners())
    }

    /// The keys `filters` picks (TanStack's `findAll`). The key test runs
    /// first; a query's summary is made only for filters that need it.
    pub(crate) fn find_all(
        &self,
        filters: &QueryFilters,
        defaults: &QueryOptions,
        now: i64,
    ) -> Vec<QueryKey> {
        let needs_state = filters.stale.is_some()
            || filters.fetch_status.is_some()
            || filters.predicate.is_some();
        let entries = self.entries.borrow();
        entries
            .iter()
            .filter(|(key, e)| {
                if !filters.matches_key(key) {
                    return false;
                }
                if !needs_state && filters.type_ == QueryTypeFilter::All {
                    return true;
                }
                let active = e.is_active(key, defaults);
                if !needs_state {
                    return filters.matches_type(active);
                }
                let summary = QuerySummary {
                    key: (*key).clone(),
                    is_stale: e.is_stale(key, defaults, now),
                    state: e.state.clone(),
                    observers: e.observers.len(),
                    meta: e.options.meta.clone(),
                };
                filters.matches(&summary, active)
            })
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Whether a refetch of every query may fetch this one (TanStack's
    /// `!isDisabled() && !isStatic()`): it has a fetcher and, if observed,
    /// an enabled observer and none whose stale time is `Static`; if
    /// unobserved, it was fetched or set before.
    pub(crate) fn can_refetch(&self, key: &QueryKey, defaults: &QueryOptions) -> bool {
        self.read(key, |e| {
            if e.fetcher.as_ref().is_none_or(crate::options::is_skip_token) {
                return false;
            }
            if e.observers.is_empty() {
                e.state.data_updated_at != 0 || e.state.error_updated_at != 0
            } else {
                e.is_active(key, defaults) && !e.is_static(key, defaults)
            }
        })
        .unwrap_or(false)
    }

    /// How many queries are fetching (or paused).
    pub(crate) fn fetching(&self) -> usize {
        let entries = self.entries.borrow();
        entries.values().filter(|e| e.state.is_fetching()).count()
    }

    /// Every query, sorted by key.
    pub(crate) fn summaries(&self, defaults: &QueryOptions, now: i64) -> Vec<QuerySummary> {
        let entries = self.entries.borrow();
        let mut out: Vec<QuerySummary> = entries
            .iter()
            .map(|(key, e)| QuerySummary {
                key: key.clone(),
                is_stale: e.is_stale(key, defaults, now),
                state: e.state.clone(),
                observers: e.observers.len(),
                meta: e.options.meta.clone(),
            })
            .collect();
        crate::sort::sort_by(&mut out, |a, b| a.key.cmp(&b.key));
        out
    }

    /// Whether the query is active (observed, fetchable, enabled).
    pub(crate) fn is_active(&self, key: &QueryKey, defaults: &QueryOptions) -> bool {
        self.read(key, |e| e.is_active(key, defaults))
            .unwrap_or(false)
    }

    /// The active queries, not fetching, that an enabled observer's `when`
    /// says to refetch (stale ones by its stale time, or all of them for
    /// `Refetch::Always`), as TanStack's `onFocus` / `onOnline` ask each
    /// observer.
    pub(crate) fn to_refetch(
        &self,
        defaults: &QueryOptions,
        now: i64,
        when: impl Fn(&Resolved) -> crate::options::Refetch,
    ) -> Vec<QueryKey> {
        let entries = self.entries.borrow();
        entries
            .iter()
            .filter(|(key, e)| {
                e.in_flight.is_none()
                    && e.active_options(key, defaults)
                        .any(|o| o.should_fetch_on(when(&o), key, &e.state, now))
            })
            .map(|(k, _)| k.clone())
            .collect()
    }

    // ----- the fetch in flight -------------------------------------------

    /// The fetch in flight, and what it does.
    pub(crate) fn in_flight(&self, key: &QueryKey) -> Option<(SharedFetch, Mode)> {
        self.read(key, |e| {
            e.in_flight.as_ref().map(|f| (f.future.clone(), f.mode))
        })
        .flatten()
    }

    pub(crate) fn begin(&self, key: &QueryKey, flight: InFlight) {
        self.write(key, |e| e.in_flight = Some(flight));
    }

    pub(crate) fn take_in_flight(&self, key: &QueryKey) -> Option<InFlight> {
        self.write(key, |e| e.in_flight.take()).flatten()
    }

    /// The last observer left a fetch that goes on (TanStack's
    /// `removeObserver`): it is cancelled when it cannot stop a request
    /// worth its answer (its fetcher read the abort signal, or it is an
    /// initial fetch paused for the network); else it runs on without
    /// retrying, so its answer is cached. Returns whether to cancel.
    pub(crate) fn on_last_observer_left(&self, key: &QueryKey) -> bool {
        self.read(key, |e| {
            let Some(flight) = &e.in_flight else {
                return false;
            };
            let initial_paused = e.state.fetch_status == crate::query::FetchStatus::Paused
                && e.state.status == crate::query::QueryStatus::Pending;
            if flight.signal.was_read() || initial_paused {
                return true;
            }
            flight.retry_cancelled.set(true);
            false
        })
        .unwrap_or(false)
    }

    /// A fetch in flight is joined: its retries go on again (TanStack's
    /// `continueRetry`).
    pub(crate) fn continue_retry(&self, key: &QueryKey) {
        self.read(key, |e| {
            if let Some(flight) = &e.in_flight {
                flight.retry_cancelled.set(false);
            }
        });
    }

    /// Whether fetch `id` is still the query's fetch in flight.
    pub(crate) fn is_current(&self, key: &QueryKey, id: u64) -> bool {
        self.read(key, |e| e.in_flight.as_ref().is_some_and(|f| f.id == id))
            .unwrap_or(false)
    }

    /// Ends fetch `id` (if it is still the one in flight).
    pub(crate) fn end(&self, key: &QueryKey, id: u64) {
        self.write(key, |e| {
            if e.in_flight.as_ref().is_some_and(|f| f.id == id) {
                e.in_flight = None;
            }
        });
    }

    /// Data is being written: a refetch in flight must not overwrite it.
    pub(crate) fn supersede(&self, key: &QueryKey) {
        self.write(key, |e| {
            if let Some(flight) = e.in_flight.as_mut().filter(|f| f.mode == Mode::Refetch) {
                flight.superseded = true;
            }
        });
    }

    /// Whether data was written while fetch `id` ran.
    pub(crate) fn superseded(&self, key: &QueryKey, id: u64) -> bool {
        self.read(key, |e| {
            e.in_flight
                .as_ref()
                .is_some_and(|f| f.id == id && f.superseded)
        })
        .unwrap_or(false)
    }
}

/// Field-by-field comparison with data compared by pointer (cheap; the
/// reducer already shares equal data).
fn same_state(a: &QueryState, b: &QueryState) -> bool {
    crate::query::same_data(&a.data, &b.data)
        && a.data_updated_at == b.data_updated_at
        && a.error == b.error
        && a.error_updated_at == b.error_updated_at
        && a.failure_count == b.failure_count
        && a.failure_reason == b.failure_reason
        && a.status == b.status
        && a.fetch_status == b.fetch_status
        && a.is_invalidated == b.is_invalidated
        && a.data_update_count == b.data_update_count
        && a.error_update_count == b.error_update_count
        && a.fetch_more == b.fetch_more
}
