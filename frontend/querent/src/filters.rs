//! Operations on the queries a filter picks (TanStack's `QueryFilters` and
//! `matchQuery`): find, invalidate, refetch, cancel, remove, reset, count,
//! read and write data. One predicate, [`QueryFilters::matches`], serves
//! every bulk operation. The methods taking a key prefix (`invalidate_queries`,
//! ...) are the same with `QueryFilters::key(prefix)`; a prefix is anything
//! that serialises to a JSON array ([`QueryKey::of`]).

use crate::QueryClient;
use crate::client::{CacheEvent, QuerySummary};
use crate::key::QueryKey;
use crate::query::{Action, FetchStatus};
use crate::query_cache::{Cancel, Listener};
use futures::future::LocalBoxFuture;
use serde::Serialize;
use serde_json::Value;
use std::rc::Rc;

/// Which queries by whether they are active (observed by an enabled
/// observer with a fetcher): TanStack's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueryTypeFilter {
    /// Every query.
    #[default]
    All,
    /// Observed, enabled and fetchable.
    Active,
    /// The others.
    Inactive,
}

/// What an invalidation refetches (TanStack's `refetchType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RefetchType {
    /// The active ones among the invalidated (the default).
    #[default]
    Active,
    /// The inactive ones.
    Inactive,
    /// All of them.
    All,
    /// None: only mark them stale.
    None,
}

/// A predicate over a query (its key, state, observers, staleness).
pub type QueryPredicate = Rc<dyn Fn(&QuerySummary) -> bool>;

/// Which queries an operation applies to (TanStack's `QueryFilters`). The
/// default matches every query.
///
/// ```
/// use querent::filters::{QueryFilters, QueryTypeFilter};
/// let todos = QueryFilters::key(&["todos"]).exact().of_type(QueryTypeFilter::Active);
/// assert!(todos.exact);
/// ```
#[derive(Clone, Default)]
pub struct QueryFilters {
    /// Queries whose key starts with this one (TanStack's partial match:
    /// each element equal, objects matching on the fields given).
    pub query_key: Option<QueryKey>,
    /// Only the query whose key is exactly `query_key`.
    pub exact: bool,
    /// Active, inactive or all.
    pub type_: QueryTypeFilter,
    /// Only stale (`Some(true)`) or only fresh (`Some(false)`) queries.
    pub stale: Option<bool>,
    /// Only queries in this fetch status.
    pub fetch_status: Option<FetchStatus>,
    /// Only queries this returns true for.
    pub predicate: Option<QueryPredicate>,
}

impl std::fmt::Debug for QueryFilters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryFilters")
            .field("query_key", &self.query_key)
            .field("exact", &self.exact)
            .field("type_", &self.type_)
            .field("stale", &self.stale)
            .field("fetch_status", &self.fetch_status)
            .field("predicate", &self.predicate.is_some())
            .finish()
    }
}

impl QueryFilters {
    /// Every query.
    pub fn all() -> Self {
        Self::default()
    }

    /// Queries under the key `prefix`.
    pub fn key<K: Serialize + ?Sized>(prefix: &K) -> Self {
        Self {
            query_key: Some(QueryKey::of(prefix)),
            ..Self::default()
        }
    }

    /// Only the query whose key is exactly the filter's key.
    pub fn exact(mut self) -> Self {
        self.exact = true;
        self
    }

    /// Only active or only inactive queries.
    pub fn of_type(mut self, type_: QueryTypeFilter) -> Self {
        self.type_ = type_;
        self
    }

    /// Only stale (`true`) or only fresh (`false`) queries.
    pub fn stale(mut self, stale: bool) -> Self {
        self.stale = Some(stale);
        self
    }

    /// Only queries in `fetch_status`.
    pub fn fetch_status(mut self, fetch_status: FetchStatus) -> Self {
        self.fetch_status = Some(fetch_status);
        self
    }

    /// Only queries `predicate` accepts.
    pub fn predicate(mut self, predicate: impl Fn(&QuerySummary) -> bool + 'static) -> Self {
        self.predicate = Some(Rc::new(predicate));
        self
    }

    /// TanStack's `matchQuery`: whether the filters pick `query`, which is
    /// `active` or not.
    pub fn matches(&self, query: &QuerySummary, active: bool) -> bool {
        self.matches_key(&query.key)
            && self.matches_type(active)
            && self.stale.is_none_or(|stale| query.is_stale == stale)
            && self
                .fetch_status
                .is_none_or(|status| query.state.fetch_status == status)
            && self.predicate.as_ref().is_none_or(|p| p(query))
    }

    pub(crate) fn matches_key(&self, key: &QueryKey) -> bool {
        match &self.query_key {
            None => true,
            Some(filter) if self.exact => key == filter,
            Some(filter) => key.partially_matches(filter),
        }
    }

    pub(crate) fn matches_type(&self, active: bool) -> bool {
        match self.type_ {
            QueryTypeFilter::All => true,
            QueryTypeFilter::Active => active,
            QueryTypeFilter::Inactive => !active,
        }
    }
}

/// How a refetch treats a fetch already in flight (TanStack's
/// `RefetchOptions` / `InvalidateOptions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefetchOptions {
    /// Replace a fetch in flight of a query that has data (default true);
    /// false joins it.
    pub cancel_refetch: bool,
}

impl Default for RefetchOptions {
    fn default() -> Self {
        Self {
            cancel_refetch: true,
        }
    }
}

impl QueryClient {
    /// The keys of every query `filters` picks (TanStack's
    /// `queryCache.findAll`), in no particular order.
    pub fn find_all(&self, filters: &QueryFilters) -> Vec<QueryKey> {
        self.cache().find_all(filters, self.defaults(), self.now())
    }

    pub(crate) fn matching(&self, prefix: &QueryKey) -> Vec<QueryKey> {
        self.find_all(&QueryFilters {
            query_key: Some(prefix.clone()),
            ..QueryFilters::default()
        })
    }

    /// Marks every query under `prefix` stale and refetches the active
    /// (observed, enabled) ones, replacing a refetch already in flight. The
    /// returned future settles when those refetches do; the refetches run
    /// whether or not it is awaited. [`QueryClient::invalidate_queries_with`]
    /// takes any filters and what to refetch.
    ///
    /// ```
    /// # use querent::{QueryClient, QueryKey, QueryOptions};
    /// # use serde_json::json;
    /// # let (platform, mut runner) = querent::testing::FakePlatform::new();
    /// let client = QueryClient::with_defaults(
    ///     platform,
    ///     QueryOptions { stale_time: Some(60_000.into()), ..QueryOptions::default() },
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
        self.invalidate_queries_with(
            QueryFilters::key(prefix),
            RefetchType::Active,
            RefetchOptions::default(),
        )
    }

    /// TanStack's `invalidateQueries(filters, options)`: marks the queries
    /// `filters` picks stale, then refetches those of them `refetch_type`
    /// says (TanStack's `refetchType`; `filters.type_` is replaced by it).
    pub fn invalidate_queries_with(
        &self,
        filters: QueryFilters,
        refetch_type: RefetchType,
        options: RefetchOptions,
    ) -> LocalBoxFuture<'static, ()> {
        for key in self.find_all(&filters) {
            self.dispatch(&key, Action::Invalidate);
        }
        let type_ = match refetch_type {
            RefetchType::None => return Box::pin(futures::future::ready(())),
            RefetchType::Active => QueryTypeFilter::Active,
            RefetchType::Inactive => QueryTypeFilter::Inactive,
            RefetchType::All => QueryTypeFilter::All,
        };
        self.refetch_queries(QueryFilters { type_, ..filters }, options)
    }

    /// TanStack's `refetchQueries`: fetches every query `filters` picks
    /// (default: all of them) that can fetch: it has a fetcher, is not
    /// observed only by disabled observers, and has been fetched or set
    /// before if unobserved. A fetch in flight is replaced when the query
    /// has data (`cancel_refetch`, default) or else joined. The future
    /// settles when the fetches do (failures are in the queries' states);
    /// a fetch paused for the network does not hold it.
    pub fn refetch_queries(
        &self,
        filters: QueryFilters,
        options: RefetchOptions,
    ) -> LocalBoxFuture<'static, ()> {
        let mut refetches: Vec<LocalBoxFuture<'static, _>> = vec![];
        for key in self.find_all(&filters) {
            if !self.cache().can_refetch(&key, self.defaults()) {
                continue;
            }
            let fetch: LocalBoxFuture<'static, _> = if options.cancel_refetch {
                Box::pin(self.refetch_cancelling(&key))
            } else {
                Box::pin(self.refetch(&key))
            };
            let paused = self
                .get_query_state(&key)
                .is_some_and(|s| s.fetch_status == FetchStatus::Paused);
            if !paused {
                refetches.push(fetch);
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
        self.cancel_queries_with(&QueryFilters::key(prefix));
    }

    /// [`QueryClient::cancel_queries`] for the queries `filters` picks.
    pub fn cancel_queries_with(&self, filters: &QueryFilters) {
        self.cancel_keys(&self.find_all(filters));
    }

    pub(crate) fn cancel_keys(&self, keys: &[QueryKey]) {
        for key in keys {
            if let Some(flight) = self.cache().take_in_flight(key) {
                flight.cancel(Cancel::Revert);
                self.dispatch(key, Action::Cancelled(Box::new(flight.before)));
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
        self.remove_queries_with(&QueryFilters::key(prefix));
    }

    /// [`QueryClient::remove_queries`] for the queries `filters` picks.
    pub fn remove_queries_with(&self, filters: &QueryFilters) {
        let keys = self.find_all(filters);
        self.cancel_keys(&keys);
        for key in keys {
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
        self.reset_queries_with(QueryFilters::key(prefix), RefetchOptions::default())
    }

    /// TanStack's `resetQueries`: the queries `filters` picks back to their
    /// initial state, then the active ones among them refetched.
    pub fn reset_queries_with(
        &self,
        filters: QueryFilters,
        options: RefetchOptions,
    ) -> LocalBoxFuture<'static, ()> {
        let keys = self.find_all(&filters);
        self.cancel_keys(&keys);
        for key in &keys {
            self.dispatch(key, Action::Reset);
            // Back to the initial state: its initial data, if it has some.
            self.seed_initial_data(key);
        }
        let filters = QueryFilters {
            type_: QueryTypeFilter::Active,
            ..filters
        };
        self.refetch_queries(filters, options)
    }

    /// How many of the queries `filters` picks are fetching now (TanStack's
    /// `isFetching(filters)`: a fetch paused for the network is not counted;
    /// [`QueryClient::is_fetching`] counts those too).
    pub fn is_fetching_with(&self, filters: &QueryFilters) -> usize {
        let filters = QueryFilters {
            fetch_status: Some(FetchStatus::Fetching),
            ..filters.clone()
        };
        self.find_all(&filters).len()
    }

    /// The data of every query `filters` picks, by key (TanStack's
    /// `getQueriesData`), sorted by key.
    pub fn get_queries_data(&self, filters: &QueryFilters) -> Vec<(QueryKey, Option<Rc<Value>>)> {
        let mut keys = self.find_all(filters);
        crate::sort::sort_by(&mut keys, QueryKey::cmp);
        keys.into_iter()
            .map(|key| {
                let data = self.get_query_data(&key);
                (key, data)
            })
            .collect()
    }

    /// [`QueryClient::set_query_data`] on every query `filters` picks
    /// (TanStack's `setQueriesData`); returns each key with its data now,
    /// sorted by key.
    pub fn set_queries_data(
        &self,
        filters: &QueryFilters,
        updater: impl Fn(Option<&Value>) -> Option<Value>,
    ) -> Vec<(QueryKey, Option<Rc<Value>>)> {
        let mut keys = self.find_all(filters);
        crate::sort::sort_by(&mut keys, QueryKey::cmp);
        keys.into_iter()
            .map(|key| {
                let data = self.set_query_data(&key, &updater);
                (key, data)
            })
            .collect()
    }

    /// Removes everything.
    pub fn clear(&self) {
        self.remove_queries_with(&QueryFilters::all());
    }
}

/// A predicate over a mutation's record.
pub type MutationPredicate = Rc<dyn Fn(&crate::MutationRecord) -> bool>;

/// Which mutations an operation applies to (TanStack's `MutationFilters`
/// and `matchMutation`). The default matches every mutation.
///
/// A mutation key is one string (a [`crate::typed::Mutation::KEY`]), so
/// `mutation_key` matches it whole: TanStack's `exact` has nothing to add.
/// A `status` of `Pending` also matches paused mutations, as TanStack's
/// `status: 'pending'` does (querent tells them apart as `Paused`).
///
/// ```
/// use querent::MutationStatus;
/// use querent::filters::MutationFilters;
/// let saving = MutationFilters::key("save_post").status(MutationStatus::Pending);
/// assert_eq!(saving.mutation_key.as_deref(), Some("save_post"));
/// ```
#[derive(Clone, Default)]
pub struct MutationFilters {
    /// Only mutations of this key.
    pub mutation_key: Option<String>,
    /// Only mutations in this status.
    pub status: Option<crate::MutationStatus>,
    /// Only mutations this returns true for.
    pub predicate: Option<MutationPredicate>,
}

impl MutationFilters {
    /// Every mutation.
    pub fn all() -> Self {
        Self::default()
    }

    /// Mutations of `key`.
    pub fn key(key: &str) -> Self {
        Self {
            mutation_key: Some(key.to_owned()),
            ..Self::default()
        }
    }

    /// Only mutations in `status`.
    pub fn status(mut self, status: crate::MutationStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Only mutations `predicate` accepts.
    pub fn predicate(
        mut self,
        predicate: impl Fn(&crate::MutationRecord) -> bool + 'static,
    ) -> Self {
        self.predicate = Some(Rc::new(predicate));
        self
    }

    /// TanStack's `matchMutation`.
    pub fn matches(&self, record: &crate::MutationRecord) -> bool {
        use crate::MutationStatus::{Paused, Pending};
        self.mutation_key
            .as_ref()
            .is_none_or(|key| *key == record.mutation_key)
            && self.status.is_none_or(|status| {
                status == record.status || (status == Pending && record.status == Paused)
            })
            && self.predicate.as_ref().is_none_or(|p| p(record))
    }
}

impl QueryClient {
    /// The mutations `filters` picks, oldest first (TanStack's
    /// `mutationCache.findAll`).
    pub fn find_all_mutations(&self, filters: &MutationFilters) -> Vec<crate::MutationRecord> {
        self.mutation_cache().find(|r| filters.matches(r))
    }

    /// How many mutations `filters` picks that are not settled, running or
    /// paused (TanStack's `isMutating`).
    pub fn is_mutating(&self, filters: &MutationFilters) -> usize {
        self.mutation_cache()
            .count(|r| r.is_unsettled() && filters.matches(r))
    }
}
