//! Per-query options and the client-wide defaults.

use crate::error::QueryError;
use crate::key::QueryKey;
use futures::future::LocalBoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::rc::Rc;

/// Fetches a query's data. Receives the key and, for infinite queries, the
/// page parameter (`Value::Null` for the first page).
pub type Fetcher = Rc<dyn Fn(FetchContext) -> LocalBoxFuture<'static, Result<Value, QueryError>>>;

/// A [`Fetcher`] from an async function of the fetch's context.
pub fn fetcher<F, Fut>(f: F) -> Fetcher
where
    F: Fn(FetchContext) -> Fut + 'static,
    Fut: Future<Output = Result<Value, QueryError>> + 'static,
{
    Rc::new(move |ctx| Box::pin(f(ctx)))
}

thread_local! {
    static SKIP_TOKEN: Fetcher = fetcher(|ctx: FetchContext| async move {
        Err(QueryError::local(
            crate::error::ErrorKind::Unregistered,
            format!("Missing queryFn: {}", ctx.key),
        ))
    });
}

/// TanStack's `skipToken`: given as a query's fetcher, it disables the
/// query (as `enabled: false`) where the fetcher cannot be written yet,
/// typically while an argument is missing:
/// `id.map_or_else(skip_token, |id| fetch_post(id))`. Fetching it anyway
/// (`refetch`, `fetch_query`) fails with "Missing queryFn".
///
/// ```
/// let skip = querent::options::skip_token();
/// assert!(querent::options::is_skip_token(&skip));
/// assert!(!querent::options::is_skip_token(&querent::options::fetcher(|_| async {
///     Ok(serde_json::json!(1))
/// })));
/// ```
pub fn skip_token() -> Fetcher {
    SKIP_TOKEN.with(Rc::clone)
}

/// Whether `fetcher` is [`skip_token`].
pub fn is_skip_token(fetcher: &Fetcher) -> bool {
    SKIP_TOKEN.with(|skip| Rc::ptr_eq(skip, fetcher))
}

/// `options`, disabled when `fetcher` is [`skip_token`] (TanStack's
/// `defaultQueryOptions`).
pub(crate) fn skipped(fetcher: &Fetcher, mut options: QueryOptions) -> QueryOptions {
    if is_skip_token(fetcher) {
        options.enabled = Some(Enabled::Bool(false));
    }
    options
}

/// A [`PageParam`] over typed pages (TanStack's `getNextPageParam:
/// (lastPage) => ...`): `next(&page)` is the parameter of the page after
/// the last page (`None`: it is the last). A page that is not a `P` has no
/// next page.
///
/// ```
/// use serde::Deserialize;
/// use serde_json::json;
/// #[derive(Deserialize)]
/// struct Page { next_cursor: Option<String> }
/// let next = querent::options::next_page(|page: &Page| page.next_cursor.clone());
/// let page = json!({"items": [], "next_cursor": "b"});
/// assert_eq!(next(&page, &[page.clone()], &json!(null), &[json!(null)]), Some("b".into()));
/// let last = json!({"items": [], "next_cursor": null});
/// assert_eq!(next(&last, &[last.clone()], &json!(null), &[json!(null)]), None);
/// ```
pub fn next_page<P, C>(next: impl Fn(&P) -> Option<C> + 'static) -> PageParam
where
    P: DeserializeOwned,
    C: Serialize,
{
    Rc::new(move |page: &Value, _: &[Value], _: &Value, _: &[Value]| {
        let page: P = crate::json::decode(page).ok()?;
        serde_json::to_value(next(&page)?).ok()
    })
}

/// A [`PageParam`] for the page before the first, over typed pages
/// (TanStack's `getPreviousPageParam: (firstPage) => ...`).
pub fn previous_page<P, C>(previous: impl Fn(&P) -> Option<C> + 'static) -> PageParam
where
    P: DeserializeOwned,
    C: Serialize,
{
    next_page(previous)
}

/// A query's initial data (TanStack's `initialData` as a function: called
/// when the query has no data yet; `None` leaves it without).
pub type InitialData = Rc<dyn Fn() -> Option<Value>>;

/// [`InitialData`] from a value (TanStack's `initialData: value`).
///
/// ```
/// let initial = querent::options::initial_data(&["milk"]);
/// assert_eq!(initial(), Some(serde_json::json!(["milk"])));
/// ```
pub fn initial_data<T: Serialize + ?Sized>(value: &T) -> InitialData {
    let value = serde_json::to_value(value).ok();
    Rc::new(move || value.clone())
}

/// Data an observer shows while its query has none (TanStack's
/// `placeholderData` as a function): called with the data of the query
/// this observer last showed data of (the previous key's, after a key
/// change), `None` when there is none. Not cached: the query stays
/// pending underneath and the result says `is_placeholder_data`.
pub type PlaceholderData = Rc<dyn Fn(Option<&Rc<Value>>) -> Option<Rc<Value>>>;

/// [`PlaceholderData`] from a value (TanStack's `placeholderData: value`).
///
/// ```
/// let placeholder = querent::options::placeholder_data(&["loading…"]);
/// assert_eq!(*placeholder(None).unwrap(), serde_json::json!(["loading…"]));
/// ```
pub fn placeholder_data<T: Serialize + ?Sized>(value: &T) -> PlaceholderData {
    let value = serde_json::to_value(value).ok().map(Rc::new);
    Rc::new(move |_| value.clone())
}

/// TanStack's `keepPreviousData`: while the new key loads, the observer
/// goes on showing the data of the key before it (the same value, not a
/// copy), so a paginated or filtered list does not blank out.
///
/// ```
/// use std::rc::Rc;
/// let keep = querent::options::keep_previous_data();
/// let previous = Rc::new(serde_json::json!([1, 2]));
/// assert!(Rc::ptr_eq(&keep(Some(&previous)).unwrap(), &previous));
/// assert!(keep(None).is_none());
/// ```
pub fn keep_previous_data() -> PlaceholderData {
    Rc::new(|previous| previous.cloned())
}

/// The default retry rule: [`QueryError::is_retryable`], whatever the count.
pub(crate) fn retry_if_retryable() -> RetryPredicate {
    Rc::new(|_, e: &QueryError| e.is_retryable())
}

/// The wait before retry number `retry` (0 for the first), after `error`
/// (TanStack's `retryDelay` function; the default doubles from 1 s to 30 s).
pub type RetryDelay = Rc<dyn Fn(u32, &QueryError) -> u64>;

/// A fixed [`RetryDelay`] (TanStack's `retryDelay: ms`).
///
/// ```
/// let delay = querent::options::retry_delay_ms(250);
/// assert_eq!(delay(3, &querent::QueryError::network("down")), 250);
/// ```
pub fn retry_delay_ms(ms: u64) -> RetryDelay {
    Rc::new(move |_, _| ms)
}

/// Decides whether failed attempt number `failure_count` (1-based) may be retried.
pub type RetryPredicate = Rc<dyn Fn(u32, &QueryError) -> bool>;

/// An infinite query's page parameter (TanStack's `getNextPageParam` /
/// `getPreviousPageParam`): called with the last (first) page, all pages,
/// the last (first) page's parameter and all parameters; `None` (or a JSON
/// `null`) when there is no page after (before) it.
pub type PageParam = Rc<dyn Fn(&Value, &[Value], &Value, &[Value]) -> Option<Value>>;

/// Which way an infinite query fetches a page (TanStack's `direction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// The first page, a refetch, or the next page.
    #[default]
    Forward,
    /// The page before the first.
    Backward,
}

/// What a fetcher is asked for.
#[derive(Debug, Clone)]
pub struct FetchContext {
    /// The query's key.
    pub key: QueryKey,
    /// The page parameter of an infinite query (its `initial_page_param`,
    /// `Null` by default, for the first page).
    pub page_param: Value,
    /// Infinite queries: whether the page goes after the last or before
    /// the first.
    pub direction: Direction,
    /// The query's `meta`.
    pub meta: Option<Rc<Value>>,
    /// Revalidations (`304 Not Modified`) reported, and the bytes they saved.
    revalidated: Rc<std::cell::Cell<(u64, u64)>>,
    /// Raised when the fetch is abandoned (see [`FetchContext::signal`]).
    signal: crate::abort::AbortSignal,
}

impl FetchContext {
    /// A context for `key` (and `page_param` of an infinite query).
    pub fn new(key: QueryKey, page_param: Value) -> Self {
        Self::reporting(
            key,
            page_param,
            Rc::default(),
            crate::abort::AbortSignal::new(),
        )
    }

    /// The fetch's abort signal (TanStack's `signal`): raised when the fetch
    /// is cancelled, replaced by a refetch or removed, and, because this was
    /// called, when the query's last observer leaves before the fetch ends
    /// (a fetcher that never asks for it is left to finish, so its answer
    /// is cached). Hand it to the HTTP client so the request stops too.
    pub fn signal(&self) -> crate::abort::AbortSignal {
        self.signal.mark_read();
        self.signal.clone()
    }

    /// The page parameter as a `C` (`None` for the first page, or when it
    /// is not a `C`).
    pub fn page_param_as<C: DeserializeOwned>(&self) -> Option<C> {
        crate::json::decode(&self.page_param).ok()
    }

    pub(crate) fn reporting(
        key: QueryKey,
        page_param: Value,
        revalidated: Rc<std::cell::Cell<(u64, u64)>>,
        signal: crate::abort::AbortSignal,
    ) -> Self {
        Self {
            key,
            page_param,
            direction: Direction::Forward,
            meta: None,
            revalidated,
            signal,
        }
    }

    /// Tells the engine the server answered `304 Not Modified` (a
    /// conditional request with the `ETag` of the data the fetcher returns
    /// again): `bytes` were not sent. The metrics count both.
    pub fn not_modified(&self, bytes: u64) {
        let (count, saved) = self.revalidated.get();
        self.revalidated.set((count + 1, saved + bytes));
    }
}

/// What [`crate::QueryClient::ensure_query_data_with`] does beyond
/// `ensure_query_data` (TanStack's `EnsureQueryDataOptions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EnsureQueryDataOptions {
    /// Cached data that is stale is answered, and fetched again in the
    /// background.
    pub revalidate_if_stale: bool,
}

/// When an observed query that has data is refetched on mount, on focus
/// or on reconnect (TanStack's `false`, `true`, `'always'` for
/// `refetchOnMount`, `refetchOnWindowFocus`, `refetchOnReconnect`; a bool
/// converts: `true` is `IfStale`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Refetch {
    /// Never (a query without data is still fetched).
    Never,
    /// When the data is stale (the default).
    #[default]
    IfStale,
    /// Always, fresh or not.
    Always,
}

impl From<bool> for Refetch {
    fn from(refetch: bool) -> Self {
        if refetch { Self::IfStale } else { Self::Never }
    }
}

impl Refetch {
    /// Whether data that is `stale` or not is refetched.
    pub fn wants(self, stale: bool) -> bool {
        match self {
            Self::Never => false,
            Self::IfStale => stale,
            Self::Always => true,
        }
    }
}

/// When a query may fetch, as to the network (TanStack's `networkMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NetworkMode {
    /// Only while online: offline, a fetch waits (`Paused`) for the
    /// network, and so does each retry (the default).
    #[default]
    Online,
    /// Whatever the network says (a fetcher that needs none, a service
    /// worker answering offline): never paused; retries wait only for
    /// focus, and reconnecting does not refetch.
    Always,
    /// The first attempt runs even offline (a cache, a service worker may
    /// answer); retries wait for the network.
    OfflineFirst,
}

impl NetworkMode {
    /// TanStack's `canFetch`: whether a fetch may start now.
    pub fn can_fetch(self, online: bool) -> bool {
        online || self != Self::Online
    }
}

/// A function of a query, asked each time the option is read (TanStack's
/// option functions of `query`): its key and its state now. It must only
/// read what it is given: it runs while the engine holds its state, so
/// calling the client from it (writing data, setting options) panics.
pub type QueryFn<T> = Rc<dyn Fn(&QueryKey, &crate::query::QueryState) -> T>;

/// How long data stays fresh (TanStack's `staleTime`). A number converts:
/// `stale_time: Some(60_000.into())`.
#[derive(Clone)]
pub enum StaleTime {
    /// Fresh for this many ms after it arrived; `u64::MAX` is TanStack's
    /// `Infinity`: fresh until invalidated.
    Ms(u64),
    /// TanStack's `'static'`: data is never stale, not even invalidated;
    /// nothing refetches it but an explicit fetch or refetch of the query
    /// (no refetch on mount, focus or reconnect, even `Always`, and
    /// `invalidate_queries` / `refetch_queries` pass it by). A query
    /// without data still loads.
    Static,
    /// Decided per query, each time staleness is asked (TanStack's
    /// `staleTime: (query) => ...`).
    Fn(QueryFn<StaleTime>),
}

impl From<u64> for StaleTime {
    fn from(ms: u64) -> Self {
        Self::Ms(ms)
    }
}

/// Functions are equal when they are the same one.
impl PartialEq for StaleTime {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Ms(a), Self::Ms(b)) => a == b,
            (Self::Static, Self::Static) => true,
            (Self::Fn(a), Self::Fn(b)) => Rc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl std::fmt::Debug for StaleTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Ms(ms) => write!(f, "{ms}"),
            Self::Static => f.write_str("static"),
            Self::Fn(_) => f.write_str("fn"),
        }
    }
}

impl StaleTime {
    /// TanStack's `Infinity`: fresh until invalidated.
    pub const INFINITY: Self = Self::Ms(u64::MAX);

    /// [`StaleTime::Fn`] from a closure.
    pub fn function(
        f: impl Fn(&QueryKey, &crate::query::QueryState) -> StaleTime + 'static,
    ) -> Self {
        Self::Fn(Rc::new(f))
    }

    /// The stale time for this query now: `None` for `Static`.
    pub fn of(&self, key: &QueryKey, state: &crate::query::QueryState) -> Option<u64> {
        match self {
            Self::Ms(ms) => Some(*ms),
            Self::Static => None,
            Self::Fn(f) => f(key, state).of(key, state),
        }
    }

    /// TanStack's `isStaleByTime`: whether the query's data is stale at
    /// `now` (no data is always stale).
    pub fn is_stale(&self, key: &QueryKey, state: &crate::query::QueryState, now: i64) -> bool {
        match self.of(key, state) {
            Some(ms) => state.is_stale(ms, now),
            None => state.data.is_none(),
        }
    }
}

/// Whether observers fetch (TanStack's `enabled`). A bool converts:
/// `enabled: Some(false.into())`.
#[derive(Clone)]
pub enum Enabled {
    /// Always this.
    Bool(bool),
    /// Decided per query, each time it is asked (TanStack's
    /// `enabled: (query) => ...`).
    Fn(QueryFn<bool>),
}

impl From<bool> for Enabled {
    fn from(enabled: bool) -> Self {
        Self::Bool(enabled)
    }
}

/// Functions are equal when they are the same one.
impl PartialEq for Enabled {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Bool(a), Self::Bool(b)) => a == b,
            (Self::Fn(a), Self::Fn(b)) => Rc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl std::fmt::Debug for Enabled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Bool(b) => write!(f, "{b}"),
            Self::Fn(_) => f.write_str("fn"),
        }
    }
}

impl Enabled {
    /// [`Enabled::Fn`] from a closure.
    pub fn function(f: impl Fn(&QueryKey, &crate::query::QueryState) -> bool + 'static) -> Self {
        Self::Fn(Rc::new(f))
    }

    /// Whether the query is enabled now.
    pub fn of(&self, key: &QueryKey, state: &crate::query::QueryState) -> bool {
        match self {
            Self::Bool(b) => *b,
            Self::Fn(f) => f(key, state),
        }
    }
}

/// How often a mounted observer refetches (TanStack's `refetchInterval`).
/// A number converts: `refetch_interval: Some(1_000.into())`.
#[derive(Clone)]
pub enum RefetchInterval {
    /// Every this many ms (0: never).
    Ms(u64),
    /// Decided after each change of the query (`None`: stop; TanStack's
    /// `refetchInterval: (query) => number | false`).
    Fn(QueryFn<Option<u64>>),
}

impl From<u64> for RefetchInterval {
    fn from(ms: u64) -> Self {
        Self::Ms(ms)
    }
}

/// Functions are equal when they are the same one.
impl PartialEq for RefetchInterval {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Ms(a), Self::Ms(b)) => a == b,
            (Self::Fn(a), Self::Fn(b)) => Rc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl std::fmt::Debug for RefetchInterval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Ms(ms) => write!(f, "{ms}"),
            Self::Fn(_) => f.write_str("fn"),
        }
    }
}

impl RefetchInterval {
    /// [`RefetchInterval::Fn`] from a closure.
    pub fn function(
        f: impl Fn(&QueryKey, &crate::query::QueryState) -> Option<u64> + 'static,
    ) -> Self {
        Self::Fn(Rc::new(f))
    }

    /// The interval for this query now (`None`: no interval).
    pub fn of(&self, key: &QueryKey, state: &crate::query::QueryState) -> Option<u64> {
        match self {
            Self::Ms(ms) => Some(*ms),
            Self::Fn(f) => f(key, state),
        }
        .filter(|ms| *ms > 0)
    }
}

/// Decides about an error of a query.
pub type ErrorPredicate = Rc<dyn Fn(&QueryError, &QueryKey) -> bool>;

/// Whether an observer's error goes to the nearest
/// [`crate::yew::QueryErrorBoundary`] (TanStack's `throwOnError`). A bool
/// converts: `throw_on_error: Some(true.into())`.
#[derive(Clone)]
pub enum ThrowOnError {
    /// Always this.
    Bool(bool),
    /// Decided per error (TanStack's `throwOnError: (error, query) => ...`).
    Fn(ErrorPredicate),
}

impl From<bool> for ThrowOnError {
    fn from(throw: bool) -> Self {
        Self::Bool(throw)
    }
}

impl ThrowOnError {
    /// [`ThrowOnError::Fn`] from a closure.
    pub fn function(f: impl Fn(&QueryError, &QueryKey) -> bool + 'static) -> Self {
        Self::Fn(Rc::new(f))
    }

    /// Whether `error` of `key` goes to the boundary.
    pub fn of(&self, error: &QueryError, key: &QueryKey) -> bool {
        match self {
            Self::Bool(b) => *b,
            Self::Fn(f) => f(error, key),
        }
    }
}

/// TanStack's default `staleTime`: data is stale as soon as it arrives.
pub const DEFAULT_STALE_TIME_MS: u64 = 0;
/// TanStack's default `gcTime`: 5 minutes.
pub const DEFAULT_GC_TIME_MS: u64 = 5 * 60_000;

/// How a query behaves. Unset fields take the client's defaults.
#[derive(Clone, Default)]
pub struct QueryOptions {
    /// Data younger than this is fresh and not refetched (default 0, as
    /// TanStack's: data is stale at once; [`StaleTime::INFINITY`],
    /// [`StaleTime::Static`], or a function of the query).
    pub stale_time: Option<StaleTime>,
    /// An unobserved query is removed after this long (default 5 min, as
    /// TanStack's `gcTime`).
    pub gc_time: Option<u64>,
    /// Retries after a failed attempt (default 3).
    pub retry: Option<u32>,
    /// Whether a failure may be retried (default: [`QueryError::is_retryable`]:
    /// no answer, or 5xx, 408, 429).
    pub retry_if: Option<RetryPredicate>,
    /// The wait before each retry ([`retry_delay_ms`], or a function of
    /// the retry and the error; default: 1 s doubling to 30 s). A server's
    /// `Retry-After` still wins.
    pub retry_delay: Option<RetryDelay>,
    /// Refetch every this many ms while observed and the window is focused
    /// (or as a function of the query says).
    pub refetch_interval: Option<RefetchInterval>,
    /// Go on refetching every `refetch_interval` while the window is hidden
    /// (TanStack's `refetchIntervalInBackground`; default false).
    pub refetch_interval_in_background: Option<bool>,
    /// Whether a new observer refetches the data already cached (default
    /// [`Refetch::IfStale`]; TanStack's `refetchOnMount`).
    pub refetch_on_mount: Option<Refetch>,
    /// Refetch when the window regains focus (default
    /// [`Refetch::IfStale`]: stale data only).
    pub refetch_on_window_focus: Option<Refetch>,
    /// Refetch when the network comes back (default [`Refetch::IfStale`];
    /// [`Refetch::Never`] with [`NetworkMode::Always`]).
    pub refetch_on_reconnect: Option<Refetch>,
    /// Observers fetch only when enabled (default true; or a function of
    /// the query).
    pub enabled: Option<Enabled>,
    /// An observer that starts on a failed query without data fetches it
    /// again (default true). `use_suspense_query` turns it off: the error it
    /// waited for is the answer (TanStack's `retryOnMount: false` under
    /// suspense), so a 404 is not requested twice.
    pub retry_on_mount: Option<bool>,
    /// Makes this an infinite query: the parameter of the page after the
    /// last ([`next_page`]; TanStack's `getNextPageParam`).
    pub get_next_page_param: Option<PageParam>,
    /// Infinite queries: the parameter of the page before the first
    /// ([`previous_page`]; TanStack's `getPreviousPageParam`).
    pub get_previous_page_param: Option<PageParam>,
    /// Infinite queries: the first page's parameter (default `Null`).
    pub initial_page_param: Option<Value>,
    /// Infinite queries: at most this many pages are kept; a page fetched
    /// past it drops the one at the other end (TanStack's `maxPages`).
    pub max_pages: Option<usize>,
    /// Infinite queries: how many pages a first fetch or refetch loads
    /// (TanStack's `pages` of `fetchInfiniteQuery` /
    /// `prefetchInfiniteQuery`; default: as many as are loaded, at least
    /// one), stopping early where there is no next page.
    pub pages: Option<usize>,
    /// Data the query starts with when it has none (TanStack's
    /// `initialData`): it is cached as if fetched at
    /// [`QueryOptions::initial_data_updated_at`] (default: now), so it is
    /// fresh for `stale_time` and `reset_queries` returns to it. A fetch in
    /// flight goes on and its answer replaces it.
    pub initial_data: Option<InitialData>,
    /// When the initial data was current (ms since the epoch; TanStack's
    /// `initialDataUpdatedAt`). 0 makes it stale at once.
    pub initial_data_updated_at: Option<i64>,
    /// What an observer shows while the query is pending without data
    /// ([`placeholder_data`], [`keep_previous_data`]); observers only.
    pub placeholder_data: Option<PlaceholderData>,
    /// Whether fetches wait for the network (default
    /// [`NetworkMode::Online`]).
    pub network_mode: Option<NetworkMode>,
    /// Send the error to the nearest [`crate::yew::QueryErrorBoundary`]
    /// instead of rendering it (TanStack's `throwOnError`; default false;
    /// the Yew hooks only).
    pub throw_on_error: Option<ThrowOnError>,
    /// Anything the app keeps with the query (TanStack's `meta`): the
    /// fetcher gets it in [`FetchContext::meta`], filters and the devtools
    /// in [`crate::client::QuerySummary::meta`].
    pub meta: Option<Rc<Value>>,
}

impl std::fmt::Debug for QueryOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryOptions")
            .field("stale_time", &self.stale_time)
            .field("gc_time", &self.gc_time)
            .field("retry", &self.retry)
            .field("refetch_interval", &self.refetch_interval)
            .field("refetch_on_mount", &self.refetch_on_mount)
            .field("enabled", &self.enabled)
            .field("retry_on_mount", &self.retry_on_mount)
            .field("infinite", &self.get_next_page_param.is_some())
            .field("max_pages", &self.max_pages)
            .field("pages", &self.pages)
            .field("initial_data", &self.initial_data.is_some())
            .field("initial_data_updated_at", &self.initial_data_updated_at)
            .field("placeholder_data", &self.placeholder_data.is_some())
            .field("network_mode", &self.network_mode)
            .field("throw_on_error", &self.throw_on_error.is_some())
            .field("meta", &self.meta)
            .finish()
    }
}

/// Options with every field decided.
#[derive(Clone)]
pub(crate) struct Resolved {
    pub(crate) stale_time: StaleTime,
    pub(crate) retry: u32,
    pub(crate) retry_if: RetryPredicate,
    pub(crate) retry_delay: Option<RetryDelay>,
    pub(crate) refetch_interval: Option<RefetchInterval>,
    pub(crate) refetch_interval_in_background: bool,
    pub(crate) refetch_on_mount: Refetch,
    pub(crate) refetch_on_window_focus: Refetch,
    pub(crate) refetch_on_reconnect: Refetch,
    pub(crate) enabled: Enabled,
    pub(crate) retry_on_mount: bool,
    pub(crate) paging: Option<crate::infinite::Paging>,
    pub(crate) placeholder_data: Option<PlaceholderData>,
    pub(crate) network_mode: NetworkMode,
    pub(crate) meta: Option<Rc<Value>>,
}

impl Resolved {
    /// Whether observers with these options fetch the query now.
    pub(crate) fn is_enabled(&self, key: &QueryKey, state: &crate::query::QueryState) -> bool {
        self.enabled.of(key, state)
    }

    /// TanStack's observer `isStale`: enabled, and stale by its stale time.
    pub(crate) fn is_stale(
        &self,
        key: &QueryKey,
        state: &crate::query::QueryState,
        now: i64,
    ) -> bool {
        self.is_enabled(key, state) && self.stale_time.is_stale(key, state, now)
    }

    /// TanStack's `shouldFetchOn` (mount, focus, reconnect): enabled, not
    /// static, and `when` wants it at this staleness.
    pub(crate) fn should_fetch_on(
        &self,
        when: Refetch,
        key: &QueryKey,
        state: &crate::query::QueryState,
        now: i64,
    ) -> bool {
        self.is_enabled(key, state)
            && self.stale_time.of(key, state).is_some()
            && when.wants(self.stale_time.is_stale(key, state, now))
    }
}

impl QueryOptions {
    /// `self` with its unset fields taken from `defaults` (TanStack's
    /// `{ ...defaults, ...options }`).
    ///
    /// ```
    /// use querent::QueryOptions;
    /// let mine = QueryOptions { stale_time: Some(1000.into()), ..QueryOptions::default() };
    /// let defaults = QueryOptions { stale_time: Some(5.into()), retry: Some(0), ..QueryOptions::default() };
    /// let merged = mine.or(&defaults);
    /// assert_eq!((merged.stale_time, merged.retry), (Some(1000.into()), Some(0)));
    /// ```
    pub fn or(&self, defaults: &QueryOptions) -> QueryOptions {
        fn pick<T: Clone>(mine: &Option<T>, theirs: &Option<T>) -> Option<T> {
            mine.as_ref().or(theirs.as_ref()).cloned()
        }
        QueryOptions {
            stale_time: pick(&self.stale_time, &defaults.stale_time),
            gc_time: pick(&self.gc_time, &defaults.gc_time),
            retry: pick(&self.retry, &defaults.retry),
            retry_if: pick(&self.retry_if, &defaults.retry_if),
            retry_delay: pick(&self.retry_delay, &defaults.retry_delay),
            refetch_interval: pick(&self.refetch_interval, &defaults.refetch_interval),
            refetch_interval_in_background: pick(
                &self.refetch_interval_in_background,
                &defaults.refetch_interval_in_background,
            ),
            refetch_on_mount: pick(&self.refetch_on_mount, &defaults.refetch_on_mount),
            refetch_on_window_focus: pick(
                &self.refetch_on_window_focus,
                &defaults.refetch_on_window_focus,
            ),
            refetch_on_reconnect: pick(&self.refetch_on_reconnect, &defaults.refetch_on_reconnect),
            enabled: pick(&self.enabled, &defaults.enabled),
            retry_on_mount: pick(&self.retry_on_mount, &defaults.retry_on_mount),
            get_next_page_param: pick(&self.get_next_page_param, &defaults.get_next_page_param),
            get_previous_page_param: pick(
                &self.get_previous_page_param,
                &defaults.get_previous_page_param,
            ),
            initial_page_param: pick(&self.initial_page_param, &defaults.initial_page_param),
            max_pages: pick(&self.max_pages, &defaults.max_pages),
            pages: pick(&self.pages, &defaults.pages),
            initial_data: pick(&self.initial_data, &defaults.initial_data),
            initial_data_updated_at: pick(
                &self.initial_data_updated_at,
                &defaults.initial_data_updated_at,
            ),
            placeholder_data: pick(&self.placeholder_data, &defaults.placeholder_data),
            network_mode: pick(&self.network_mode, &defaults.network_mode),
            throw_on_error: pick(&self.throw_on_error, &defaults.throw_on_error),
            meta: pick(&self.meta, &defaults.meta),
        }
    }

    /// Overrides unset fields of `self` with `defaults`, then with
    /// TanStack's defaults.
    pub(crate) fn resolve(&self, defaults: &QueryOptions) -> Resolved {
        let o = self.or(defaults);
        let network_mode = o.network_mode.unwrap_or_default();
        Resolved {
            stale_time: o.stale_time.unwrap_or(StaleTime::Ms(DEFAULT_STALE_TIME_MS)),
            retry: o.retry.unwrap_or(3),
            retry_if: o.retry_if.unwrap_or_else(retry_if_retryable),
            retry_delay: o.retry_delay,
            refetch_interval: o.refetch_interval,
            refetch_interval_in_background: o.refetch_interval_in_background.unwrap_or(false),
            refetch_on_mount: o.refetch_on_mount.unwrap_or_default(),
            refetch_on_window_focus: o.refetch_on_window_focus.unwrap_or_default(),
            // TanStack's: no reconnect refetch for what never waited for
            // the network.
            refetch_on_reconnect: o.refetch_on_reconnect.unwrap_or(
                if network_mode == NetworkMode::Always {
                    Refetch::Never
                } else {
                    Refetch::IfStale
                },
            ),
            enabled: o.enabled.unwrap_or(Enabled::Bool(true)),
            retry_on_mount: o.retry_on_mount.unwrap_or(true),
            paging: o.get_next_page_param.map(|next| crate::infinite::Paging {
                next,
                previous: o.get_previous_page_param,
                initial: o.initial_page_param.unwrap_or(Value::Null),
                max_pages: o.max_pages,
                pages: o.pages,
            }),
            placeholder_data: o.placeholder_data,
            network_mode,
            meta: o.meta,
        }
    }
}

/// Defaults for every query whose key starts with a prefix
/// ([`crate::QueryClient::set_query_defaults`], TanStack's
/// `setQueryDefaults`): options, and a fetcher for queries that have none
/// (a `refetch` of a key nobody registered, a hydrated query).
#[derive(Clone, Default)]
pub struct QueryDefaults {
    /// Fetches a query registered without a fetcher.
    pub fetcher: Option<Fetcher>,
    /// Options for what the query's own leave unset.
    pub options: QueryOptions,
}

impl QueryDefaults {
    /// Defaults giving only a fetcher.
    pub fn fetcher(fetcher: Fetcher) -> Self {
        Self {
            fetcher: Some(fetcher),
            options: QueryOptions::default(),
        }
    }

    /// Defaults giving only options.
    pub fn options(options: QueryOptions) -> Self {
        Self {
            fetcher: None,
            options,
        }
    }
}
