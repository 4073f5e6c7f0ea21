//! The query hooks: a query observed while the component is mounted.

use super::use_query_client;
use crate::error::QueryError;
use crate::key::QueryKey;
use crate::observer::{QueryObserver, QueryObserverResult, ResultProp};
use crate::options::{Fetcher, QueryOptions, ThrowOnError};
use crate::queries_observer::{QueriesObserver, QueryDescription};
use crate::query::QueryStatus;
use crate::select::{Selection, Selector};
use crate::typed::{InfiniteData, QuerySpec};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use yew::prelude::*;
use yew::suspense::{Suspension, SuspensionResult};

/// What [`use_query`] returns: TanStack's `useQuery` result, with the data
/// decoded. It derefs to the observer's [`QueryObserverResult`], so every
/// field and flag of that is the handle's too (`handle.status`,
/// `handle.is_fetching()`, `handle.has_next_page`, ...); `data` and `error`
/// are the handle's own.
pub struct UseQueryHandle<T> {
    /// The data decoded, or the placeholder while the query has none.
    pub data: Option<Rc<T>>,
    /// The settled error, or a decoding error (code `decode`).
    pub error: Option<QueryError>,
    /// Everything else the observer shows (the data there is undecoded).
    pub result: QueryObserverResult,
    /// Fetch again now.
    pub refetch: Callback<()>,
    /// Infinite queries: load the next page.
    pub fetch_next_page: Callback<()>,
    /// Infinite queries: load the page before the first.
    pub fetch_previous_page: Callback<()>,
}

impl<T> std::ops::Deref for UseQueryHandle<T> {
    type Target = QueryObserverResult;

    fn deref(&self) -> &QueryObserverResult {
        &self.result
    }
}

type Decoded<T> = Option<(Rc<Value>, Result<Rc<T>, QueryError>)>;

/// One [`Decoded`] per place of a [`use_queries`] list.
type DecodedList<T> = RefCell<Vec<RefCell<Decoded<T>>>>;

/// Decodes `data` into `T`, once per distinct value.
fn decode<T: DeserializeOwned>(
    cache: &RefCell<Decoded<T>>,
    data: &Rc<Value>,
) -> Result<Rc<T>, QueryError> {
    let mut cache = cache.borrow_mut();
    if let Some((seen, decoded)) = cache.as_ref()
        && Rc::ptr_eq(seen, data)
    {
        return decoded.clone();
    }
    let decoded = crate::typed::decoded::<T>(data).map(Rc::new);
    *cache = Some((Rc::clone(data), decoded.clone()));
    decoded
}

/// A hook's callbacks: made once per hook, so they stay the same across
/// renders (as TanStack's `refetch`; a child given one as a prop is not
/// re-rendered for it), each asking the observer, which has the latest
/// render's key, fetcher and options. They hold it weakly: the hook's
/// state owns it, and a callback kept after the unmount does nothing.
#[derive(Clone)]
struct Controls {
    refetch: Callback<()>,
    fetch_next_page: Callback<()>,
    fetch_previous_page: Callback<()>,
}

impl Controls {
    /// Callbacks asking whichever observer `find` gives when called
    /// (none: the hook is gone, nothing happens).
    fn new(find: impl Fn() -> Option<Rc<QueryObserver>> + Clone + 'static) -> Self {
        let callback = |fetch: fn(&QueryObserver)| {
            let find = find.clone();
            Callback::from(move |()| {
                if let Some(observer) = find() {
                    fetch(&observer);
                }
            })
        };
        Self {
            refetch: callback(|o| drop(o.refetch())),
            fetch_next_page: callback(|o| drop(o.fetch_next_page())),
            fetch_previous_page: callback(|o| drop(o.fetch_previous_page())),
        }
    }

    /// A hook's: its own observer's.
    fn of(observer: &Rc<QueryObserver>) -> Self {
        let observer = Rc::downgrade(observer);
        Self::new(move || observer.upgrade())
    }

    /// Place `index` of a [`use_queries`] list: whichever observer is in
    /// that place when called.
    fn at(queries: &Rc<QueriesObserver>, index: usize) -> Self {
        let queries = Rc::downgrade(queries);
        Self::new(move || queries.upgrade()?.observer(index))
    }
}

impl<T> UseQueryHandle<T> {
    /// The handle showing `result`, with its data as the hook decoded or
    /// selected it (an error there is the handle's error).
    fn new(
        result: QueryObserverResult,
        data: Option<Result<Rc<T>, QueryError>>,
        controls: &Controls,
    ) -> Self {
        let (data, error) = match data {
            Some(Ok(data)) => (Some(data), None),
            Some(Err(e)) => (None, Some(e)),
            None => (None, None),
        };
        Self {
            data,
            error: error.or_else(|| result.error.clone()),
            result,
            refetch: controls.refetch.clone(),
            fetch_next_page: controls.fetch_next_page.clone(),
            fetch_previous_page: controls.fetch_previous_page.clone(),
        }
    }
}

/// Subscribes to a query for as long as the component is mounted, fetching
/// when its data is missing or stale. The data's type comes with the spec,
/// so a view cannot read a key as another type; an infinite query is a
/// spec whose options have `get_next_page_param`.
///
/// The options follow the renders, as TanStack's do: a new key switches
/// the query (showing `placeholder_data` meanwhile, or the previous key's
/// data with `keep_previous_data`), `enabled` turning true fetches, a new
/// `refetch_interval` restarts the interval.
#[hook]
pub fn use_query<T>(spec: QuerySpec<T>) -> UseQueryHandle<T>
where
    T: DeserializeOwned + 'static,
{
    let (key, fetcher, options) = spec.into_parts();
    use_observed(key, fetcher, options, false, None, None)
}

/// TanStack's `useInfiniteQuery`: [`use_query`] for a spec of pages (its
/// options with `get_next_page_param`); the handle's `fetch_next_page`,
/// `fetch_previous_page`, `has_next_page`, `is_fetching_next_page`, ...
/// follow the pages.
#[hook]
pub fn use_infinite_query<P>(spec: QuerySpec<InfiniteData<P>>) -> UseQueryHandle<InfiniteData<P>>
where
    P: DeserializeOwned + 'static,
{
    use_query(spec)
}

/// TanStack's `useSuspenseInfiniteQuery`: [`use_suspense_query`] for a spec
/// of pages.
#[hook]
pub fn use_suspense_infinite_query<P>(
    spec: QuerySpec<InfiniteData<P>>,
) -> SuspensionResult<UseSuspenseQueryHandle<InfiniteData<P>>>
where
    P: DeserializeOwned + 'static,
{
    use_suspense_query(spec)
}

/// [`use_query`] re-rendering only when one of `props` of its result
/// changes (TanStack's `notifyOnChangeProps`): a component that shows only
/// the data (`&[ResultProp::Data]`) does not render again for a background
/// refetch that brings the same data, though `is_fetching` went true and
/// back.
///
/// ```no_run
/// use querent::ResultProp;
/// use querent::options::fetcher;
/// use querent::typed::{Key, QuerySpec};
/// use querent::yew::use_query_notifying;
/// use yew::prelude::*;
///
/// #[function_component]
/// fn Title() -> Html {
///     let spec = QuerySpec::<String>::new(
///         Key::new(&("title",)),
///         fetcher(|_| async { Ok(serde_json::json!("Hello")) }),
///         Default::default(),
///     );
///     let title = use_query_notifying(spec, &[ResultProp::Data]);
///     html! { <h1>{ title.data.as_deref().cloned().unwrap_or_default() }</h1> }
/// }
/// ```
#[hook]
pub fn use_query_notifying<T>(spec: QuerySpec<T>, props: &'static [ResultProp]) -> UseQueryHandle<T>
where
    T: DeserializeOwned + 'static,
{
    let (key, fetcher, options) = spec.into_parts();
    use_observed(key, fetcher, options, false, Some(props), None)
}

/// What [`use_query_tracked`] returns: the query's result read through
/// methods, each noting the part it reads, so the component re-renders
/// only when a part it has read changes (TanStack's tracked result, the
/// default of its `useQuery`). Parts read once stay tracked; until one is
/// read, every change re-renders.
pub struct TrackedQueryHandle<T> {
    handle: UseQueryHandle<T>,
    tracked: Rc<Cell<u16>>,
}

impl<T> TrackedQueryHandle<T> {
    fn read(&self, part: ResultProp) -> &QueryObserverResult {
        let bit = ResultProp::ALL.iter().position(|p| *p == part).unwrap_or(0);
        self.tracked.set(self.tracked.get() | 1 << bit);
        &self.handle.result
    }

    /// The data decoded (or the placeholder).
    pub fn data(&self) -> Option<&Rc<T>> {
        self.read(ResultProp::Data);
        self.handle.data.as_ref()
    }

    /// The settled error, or a decoding error (which comes with new data:
    /// reading the error tracks both).
    pub fn error(&self) -> Option<&QueryError> {
        self.read(ResultProp::Error);
        self.read(ResultProp::Data);
        self.handle.error.as_ref()
    }

    /// `pending`, `success` or `error`.
    pub fn status(&self) -> QueryStatus {
        self.read(ResultProp::Status).status
    }

    /// `fetching`, `paused` or `idle`.
    pub fn fetch_status(&self) -> crate::query::FetchStatus {
        self.read(ResultProp::FetchStatus).fetch_status
    }

    /// No data yet.
    pub fn is_pending(&self) -> bool {
        self.read(ResultProp::Status).is_pending()
    }

    /// Has data.
    pub fn is_success(&self) -> bool {
        self.read(ResultProp::Status).is_success()
    }

    /// Failed.
    pub fn is_error(&self) -> bool {
        self.read(ResultProp::Status).is_error()
    }

    /// A fetch is running.
    pub fn is_fetching(&self) -> bool {
        self.read(ResultProp::FetchStatus).is_fetching()
    }

    /// A fetch waits for the network.
    pub fn is_paused(&self) -> bool {
        self.read(ResultProp::FetchStatus).is_paused()
    }

    /// The first fetch is running (no data yet).
    pub fn is_loading(&self) -> bool {
        self.read(ResultProp::Status);
        self.read(ResultProp::FetchStatus).is_loading()
    }

    /// A fetch runs while there is data.
    pub fn is_refetching(&self) -> bool {
        self.read(ResultProp::Status);
        self.read(ResultProp::FetchStatus).is_refetching()
    }

    /// The data is stale.
    pub fn is_stale(&self) -> bool {
        self.read(ResultProp::IsStale).is_stale
    }

    /// The data shown is the placeholder.
    pub fn is_placeholder_data(&self) -> bool {
        self.read(ResultProp::IsPlaceholderData).is_placeholder_data
    }

    /// Fetched at least once.
    pub fn is_fetched(&self) -> bool {
        self.read(ResultProp::IsFetched).is_fetched
    }

    /// Fetched since the component mounted.
    pub fn is_fetched_after_mount(&self) -> bool {
        self.read(ResultProp::IsFetched).is_fetched_after_mount
    }

    /// When the data was fetched (ms).
    pub fn data_updated_at(&self) -> i64 {
        self.read(ResultProp::DataUpdatedAt).data_updated_at
    }

    /// When the query last failed (ms).
    pub fn error_updated_at(&self) -> i64 {
        self.read(ResultProp::ErrorUpdatedAt).error_updated_at
    }

    /// Failed attempts of the current fetch.
    pub fn failure_count(&self) -> u32 {
        self.read(ResultProp::FailureCount).failure_count
    }

    /// The last attempt's error.
    pub fn failure_reason(&self) -> Option<&QueryError> {
        self.read(ResultProp::FailureReason).failure_reason.as_ref()
    }

    /// Infinite queries: a next page to load.
    pub fn has_next_page(&self) -> bool {
        self.read(ResultProp::Pages).has_next_page
    }

    /// Infinite queries: a page before the first to load.
    pub fn has_previous_page(&self) -> bool {
        self.read(ResultProp::Pages).has_previous_page
    }

    /// Infinite queries: the next page is being fetched.
    pub fn is_fetching_next_page(&self) -> bool {
        self.read(ResultProp::Pages).is_fetching_next_page
    }

    /// Infinite queries: the page before is being fetched.
    pub fn is_fetching_previous_page(&self) -> bool {
        self.read(ResultProp::Pages).is_fetching_previous_page
    }

    /// Fetch again now (reading it tracks nothing).
    pub fn refetch(&self) -> &Callback<()> {
        &self.handle.refetch
    }

    /// Infinite queries: load the next page.
    pub fn fetch_next_page(&self) -> &Callback<()> {
        &self.handle.fetch_next_page
    }

    /// Infinite queries: load the page before the first.
    pub fn fetch_previous_page(&self) -> &Callback<()> {
        &self.handle.fetch_previous_page
    }
}

/// [`use_query`] with TanStack's tracked result: the component re-renders
/// only for the parts of the result it reads (see [`TrackedQueryHandle`]);
/// a component showing only the data is not rendered again for a
/// background refetch (`is_fetching` going true and back) that brings the
/// same data. [`use_query_notifying`] names the parts instead.
///
/// ```no_run
/// use querent::options::fetcher;
/// use querent::typed::{Key, QuerySpec};
/// use querent::yew::use_query_tracked;
/// use yew::prelude::*;
///
/// #[function_component]
/// fn Title() -> Html {
///     let spec = QuerySpec::<String>::new(
///         Key::new(&("title",)),
///         fetcher(|_| async { Ok(serde_json::json!("Hello")) }),
///         Default::default(),
///     );
///     let title = use_query_tracked(spec);
///     html! { <h1>{ title.data().map(|t| t.to_string()).unwrap_or_default() }</h1> }
/// }
/// ```
#[hook]
pub fn use_query_tracked<T>(spec: QuerySpec<T>) -> TrackedQueryHandle<T>
where
    T: DeserializeOwned + 'static,
{
    let (key, fetcher, options) = spec.into_parts();
    let tracked = (*use_memo((), |()| Rc::new(Cell::new(0u16)))).clone();
    let handle = use_observed(
        key,
        fetcher,
        options,
        false,
        None,
        Some(Rc::clone(&tracked)),
    );
    TrackedQueryHandle { handle, tracked }
}

/// The hook's observer: made on the first render, mounted by an effect,
/// its options set after every render (TanStack's `useBaseQuery`). The
/// result of a render is the optimistic one for the render's options.
#[hook]
fn use_observer(
    key: &QueryKey,
    fetcher: &Fetcher,
    options: &QueryOptions,
    on_change: Rc<dyn Fn(&QueryObserverResult)>,
    suspense: bool,
    notify: Option<&'static [ResultProp]>,
) -> (QueryObserverResult, Controls) {
    let super::QueryContext { client, boundaries } = super::use_query_context();
    let reset_boundary = boundaries.reset.clone();
    // TanStack's `ensurePreventErrorBoundaryRetry`: an error that goes to
    // a boundary is not fetched again as the component mounts (it would
    // fail the same way), unless the boundary was reset.
    let throws = match &options.throw_on_error {
        None => false,
        Some(ThrowOnError::Bool(b)) => *b,
        Some(ThrowOnError::Fn(f)) => client
            .get_query_state(key)
            .and_then(|s| s.error)
            .is_none_or(|e| f(&e, key)),
    };
    let mut options = options.clone();
    if (suspense || throws) && !reset_boundary.is_reset() {
        options.retry_on_mount = Some(false);
    }
    let hook = {
        let (key, fetcher, options) = (key.clone(), Rc::clone(fetcher), options.clone());
        use_memo((), move |()| {
            let observer = Rc::new(QueryObserver::unmounted(&client, key, fetcher, options));
            observer.set_notify_on_change_props(notify);
            let controls = Controls::of(&observer);
            (observer, controls)
        })
    };
    let (observer, controls) = &*hook;
    let result = observer.optimistic_result(key, fetcher, &options);
    // TanStack's `getHasError`: a settled error goes to the boundary.
    let to_boundary = result
        .error
        .clone()
        .filter(|_| result.is_error() && !reset_boundary.is_reset() && !result.is_fetching())
        .filter(|e| {
            (suspense && result.data.is_none())
                || options
                    .throw_on_error
                    .as_ref()
                    .is_some_and(|t| t.of(e, key))
        });
    {
        let observer = Rc::clone(observer);
        let (key, fetcher) = (key.clone(), Rc::clone(fetcher));
        // After every render: the render's options are set, then the
        // observer is mounted if it is not yet (TanStack's two effects in
        // one; mounting is idempotent and keeps the latest listener). It
        // unmounts with the component: the hook's state drops it. A reset
        // of the error boundary lasts until then (TanStack's
        // `useClearResetErrorBoundary`); an error for the boundary goes.
        use_effect(move || {
            observer.set_options(key, fetcher, options);
            observer.subscribe(move |result| on_change(result));
            boundaries.reset.clear_reset();
            if let (Some(error), Some(sink)) = (to_boundary, boundaries.sink) {
                sink.emit(error);
            }
            || ()
        });
    }
    (result, controls.clone())
}

/// The observer's result, re-rendering on every change from what the
/// last render showed (not generic: one copy whatever the data's type).
/// The first render shows the optimistic result; the observer, mounted
/// after it, reports the fetch it started, which that render already
/// showed: no second render for it (TanStack's optimistic result becomes
/// the observer's current one).
///
/// With `tracked` (a set of [`ResultProp`] bits the component's reads add
/// to), only a change of a tracked part counts, as long as one is tracked
/// (TanStack's tracked result: nothing read yet, every change counts).
#[hook]
fn use_observed_result(
    key: &QueryKey,
    fetcher: &Fetcher,
    options: &QueryOptions,
    suspense: bool,
    notify: Option<&'static [ResultProp]>,
    tracked: Option<Rc<Cell<u16>>>,
) -> (QueryObserverResult, Controls) {
    let force = use_force_update();
    let shown: Rc<RefCell<Option<QueryObserverResult>>> = use_mut_ref(|| None);
    let on_change: Rc<dyn Fn(&QueryObserverResult)> = {
        let shown = Rc::clone(&shown);
        Rc::new(move |result| {
            let bits = tracked.as_ref().map_or(0, |t| t.get());
            let changed = match shown.borrow().as_ref() {
                Some(shown) if bits != 0 => ResultProp::ALL
                    .iter()
                    .enumerate()
                    .any(|(i, p)| bits & (1 << i) != 0 && p.changed(shown, result)),
                shown => shown != Some(result),
            };
            if changed {
                force.force_update();
            }
        })
    };
    let (result, controls) = use_observer(key, fetcher, options, on_change, suspense, notify);
    *shown.borrow_mut() = Some(result.clone());
    (result, controls)
}

#[hook]
fn use_observed<T>(
    key: QueryKey,
    fetcher: Fetcher,
    options: QueryOptions,
    suspense: bool,
    notify: Option<&'static [ResultProp]>,
    tracked: Option<Rc<Cell<u16>>>,
) -> UseQueryHandle<T>
where
    T: DeserializeOwned + 'static,
{
    let (result, controls) =
        use_observed_result(&key, &fetcher, &options, suspense, notify, tracked);
    let decoded_cache: Rc<RefCell<Decoded<T>>> = use_mut_ref(|| None);
    let data = result
        .data
        .as_ref()
        .map(|value| decode::<T>(&decoded_cache, value));
    UseQueryHandle::new(result, data, &controls)
}

/// [`use_query`] with `select` (see [`crate::select`]): the component sees
/// `select(&data, &deps)` instead of the data, and re-renders only when that
/// selected value (or the query's status) changes. The selector runs again
/// only when the cached data or `deps` change, like `use_memo`. Other
/// observers of the same key share its cache entry and its fetches.
///
/// ```no_run
/// use querent::options::fetcher;
/// use querent::typed::{Key, QuerySpec};
/// use querent::yew::use_query_select;
/// use serde_json::json;
/// use yew::prelude::*;
///
/// #[derive(serde::Deserialize)]
/// struct Post { title: String }
///
/// fn post(id: i64) -> QuerySpec<Post> {
///     let fetch = fetcher(|_| async { Ok(json!({"title": "hi"})) });
///     QuerySpec::new(Key::new(&("post", id)), fetch, Default::default())
/// }
///
/// #[derive(Properties, PartialEq)]
/// struct TitleProps { id: i64 }
///
/// #[function_component]
/// fn Title(props: &TitleProps) -> Html {
///     let title = use_query_select(post(props.id), (), |post: &Post, ()| post.title.to_uppercase());
///     html! { <h1>{ title.data.as_deref().cloned().unwrap_or_default() }</h1> }
/// }
/// ```
#[hook]
pub fn use_query_select<T, S, D>(
    spec: QuerySpec<T>,
    deps: D,
    select: fn(&T, &D) -> S,
) -> UseQueryHandle<S>
where
    T: DeserializeOwned + 'static,
    S: PartialEq + 'static,
    D: PartialEq + Clone + 'static,
{
    let (key, fetcher, options) = spec.into_parts();
    let force = use_force_update();
    let selector = use_memo(deps, move |deps| {
        let deps = deps.clone();
        Selector::typed(move |data: &T| select(data, &deps))
    });
    let selection: Rc<Selection<S>> = use_memo((), |()| Selection::new((*selector).clone()));
    selection.set_selector((*selector).clone());
    let on_change: Rc<dyn Fn(&QueryObserverResult)> = {
        let selection = Rc::clone(&selection);
        Rc::new(move |result| {
            if selection.has_changed_for(result) {
                force.force_update();
            }
        })
    };
    let (result, controls) = use_observer(&key, &fetcher, &options, on_change, false, None);
    let data = selection.view_of_result(&result).data;
    UseQueryHandle::new(result, data, &controls)
}

/// What [`use_suspense_query`] returns (TanStack's `UseSuspenseQueryResult`):
/// the handle of [`use_query`] whose data is always there.
pub struct UseSuspenseQueryHandle<T> {
    /// The data decoded.
    pub data: Rc<T>,
    /// The error of a refetch that failed while the data stays (an error
    /// without data goes to the error boundary instead).
    pub error: Option<QueryError>,
    /// Everything else the observer shows.
    pub result: QueryObserverResult,
    /// Fetch again now.
    pub refetch: Callback<()>,
    /// Infinite queries: load the next page.
    pub fetch_next_page: Callback<()>,
    /// Infinite queries: load the page before the first.
    pub fetch_previous_page: Callback<()>,
}

impl<T> std::ops::Deref for UseSuspenseQueryHandle<T> {
    type Target = QueryObserverResult;

    fn deref(&self) -> &QueryObserverResult {
        &self.result
    }
}

/// A suspense hook's answer for one query: its handle with data, or the
/// suspension (still loading, or failed without data: the error went to
/// the nearest [`super::QueryErrorBoundary`]).
fn suspended<T>(
    client: &crate::QueryClient,
    boundaries: &super::error_boundary::Boundaries,
    key: &QueryKey,
    handle: UseQueryHandle<T>,
    (fetcher, options): (Fetcher, QueryOptions),
) -> Result<UseSuspenseQueryHandle<T>, futures::future::LocalBoxFuture<'static, ()>> {
    let UseQueryHandle {
        data,
        error,
        result,
        refetch,
        fetch_next_page,
        fetch_previous_page,
    } = handle;
    if let Some(data) = data {
        return Ok(UseSuspenseQueryHandle {
            data,
            error,
            result,
            refetch,
            fetch_next_page,
            fetch_previous_page,
        });
    }
    // Data can arrive by another way than this fetch (a persisted cache
    // restored after the first render, a live event, another observer),
    // and a failed query can be fetched again (a reset of the boundary):
    // the suspension ends with whichever change comes first. A fetch
    // paused while offline must not keep restored data off the page.
    let changed = crate::signal::Signal::default();
    let change = changed.wait();
    let subscription = client.subscribe(key, move || changed.notify());
    let pending: futures::future::LocalBoxFuture<'static, ()> =
        if result.status != QueryStatus::Error || result.is_fetching() {
            let fetched = client.ensure_query_data(key, fetcher, options);
            let reset = boundaries.reset.clone();
            Box::pin(async move {
                // TanStack's `fetchOptimistic(...).catch(clearReset)`: a
                // reset lasts for one fetch; failing again, the error
                // goes to the boundary instead of being fetched again.
                if fetched.await.is_err() {
                    reset.clear_reset();
                }
            })
        } else {
            let error = error.unwrap_or_else(|| QueryError::network("failed"));
            match &boundaries.sink {
                Some(sink) => sink.emit(error),
                None => client.platform().warn(&format!(
                    "{key} failed with no data and no QueryErrorBoundary above its \
                     use_suspense_query: {}",
                    error.message
                )),
            }
            Box::pin(futures::future::pending())
        };
    Err(Box::pin(async move {
        futures::future::select(pending, change).await;
        drop(subscription);
    }))
}

/// [`use_query`] for Yew `<Suspense>` (TanStack's `useSuspenseQuery`): the
/// data is always there. Suspends until the query has data; cached data
/// (even stale) renders at once, so there is no fallback flash for
/// hydrated or persisted data. A query that fails without data sends its
/// error to the nearest [`super::QueryErrorBoundary`] (and stays
/// suspended until its state changes); an error of a refetch, with data
/// kept, is the handle's `error`.
///
/// On the server, an error without data leaves the render suspended
/// (the server's render bound then sends the page for the browser to
/// render, as React's streaming falls back to a client render): give the
/// boundary the query's key (`QueryErrorBoundary`'s `keys`) and its
/// fallback renders from the first render on both sides instead.
#[hook]
pub fn use_suspense_query<T>(spec: QuerySpec<T>) -> SuspensionResult<UseSuspenseQueryHandle<T>>
where
    T: DeserializeOwned + 'static,
{
    let (key, fetcher, options) = spec.into_parts();
    let super::QueryContext { client, boundaries } = super::use_query_context();
    // The error this suspended for (or one hydrated) is shown (or sent to
    // the error boundary), not refetched by the observer that mounts when
    // the suspension ends, unless the boundary was reset.
    let handle = use_observed::<T>(
        key.clone(),
        Rc::clone(&fetcher),
        options.clone(),
        true,
        None,
        None,
    );
    let options = QueryOptions {
        retry_on_mount: Some(false),
        ..options
    };
    suspended(&client, &boundaries, &key, handle, (fetcher, options))
        .map_err(Suspension::from_future)
}

/// Observes a list of queries whose length can change from one render to
/// the next (TanStack's `useQueries`; Yew's hook rules forbid `use_query`
/// in a loop). Each spec's handle comes in the list's order; a key that
/// stays in the list keeps its observer (and its data) when the list
/// changes, a new one fetches, one left out stops being observed. The
/// queries share one data type; TanStack's `combine` is plain Rust over
/// the returned handles.
///
/// ```no_run
/// use querent::options::fetcher;
/// use querent::typed::{Key, QuerySpec};
/// use querent::yew::use_queries;
/// use serde_json::json;
/// use yew::prelude::*;
///
/// fn post(id: i64) -> QuerySpec<String> {
///     let fetch = fetcher(move |_| async move { Ok(json!(format!("post {id}"))) });
///     QuerySpec::new(Key::new(&("post", id)), fetch, Default::default())
/// }
///
/// #[derive(Properties, PartialEq)]
/// struct TitlesProps { ids: Vec<i64> }
///
/// #[function_component]
/// fn Titles(props: &TitlesProps) -> Html {
///     let posts = use_queries(props.ids.iter().map(|id| post(*id)).collect());
///     let loading = posts.iter().any(|p| p.is_pending());
///     html! {
///         <ul data-loading={loading.to_string()}>
///             { for posts.iter().filter_map(|p| p.data.clone()).map(|t| html! { <li>{ (*t).clone() }</li> }) }
///         </ul>
///     }
/// }
/// ```
#[hook]
pub fn use_queries<T>(specs: Vec<QuerySpec<T>>) -> Vec<UseQueryHandle<T>>
where
    T: DeserializeOwned + 'static,
{
    let queries: Vec<QueryDescription> = specs.into_iter().map(QuerySpec::into_parts).collect();
    let client = use_query_client();
    let force = use_force_update();
    let observer = {
        let queries = queries.clone();
        use_memo((), move |()| QueriesObserver::new(&client, queries))
    };
    let results = observer.optimistic_result(&queries);
    {
        let observer = Rc::clone(&observer);
        // As `use_query`: the render's list is set, then the observer is
        // mounted if it is not yet; the hook's state drops it on unmount.
        use_effect(move || {
            observer.set_queries(queries);
            observer.subscribe(move |_| force.force_update());
            || ()
        });
    }
    let caches: Rc<DecodedList<T>> = use_mut_ref(Vec::new);
    let controls: Rc<RefCell<Vec<Controls>>> = use_mut_ref(Vec::new);
    {
        let mut caches = caches.borrow_mut();
        let mut controls = controls.borrow_mut();
        while caches.len() < results.len() {
            caches.push(RefCell::new(None));
        }
        while controls.len() < results.len() {
            let at = controls.len();
            controls.push(Controls::at(&observer, at));
        }
    }
    let caches = caches.borrow();
    let controls = controls.borrow();
    results
        .into_iter()
        .enumerate()
        .map(|(i, result)| {
            let data = result
                .data
                .as_ref()
                .map(|value| decode::<T>(&caches[i], value));
            UseQueryHandle::new(result, data, &controls[i])
        })
        .collect()
}

/// [`use_queries`] for Yew `<Suspense>` (TanStack's `useSuspenseQueries`):
/// suspends until every query of the list has data, fetching the missing
/// ones in parallel; cached data (even stale) renders at once. Each handle
/// then has its data; a query that fails without data sends its error to
/// the nearest [`super::QueryErrorBoundary`], as [`use_suspense_query`].
#[hook]
pub fn use_suspense_queries<T>(
    specs: Vec<QuerySpec<T>>,
) -> SuspensionResult<Vec<UseSuspenseQueryHandle<T>>>
where
    T: DeserializeOwned + 'static,
{
    let super::QueryContext { client, boundaries } = super::use_query_context();
    let parts: Vec<QueryDescription> = specs.iter().cloned().map(QuerySpec::into_parts).collect();
    let handles = use_queries(specs);
    let mut ready = Vec::with_capacity(handles.len());
    let mut waits = vec![];
    for (handle, (key, fetcher, options)) in handles.into_iter().zip(parts) {
        // As `use_suspense_query`: the error this suspended for is shown,
        // not fetched again by the observer when it ends.
        let options = QueryOptions {
            retry_on_mount: Some(false),
            ..options
        };
        match suspended(&client, &boundaries, &key, handle, (fetcher, options)) {
            Ok(handle) => ready.push(handle),
            Err(wait) => waits.push(wait),
        }
    }
    if waits.is_empty() {
        return Ok(ready);
    }
    Err(Suspension::from_future(async move {
        futures::future::join_all(waits).await;
    }))
}
