//! The query hooks: a query observed while the component is mounted.

use super::use_query_client;
use crate::QueryClient;
use crate::error::QueryError;
use crate::key::QueryKey;
use crate::observer::{QueryObserver, QueryObserverResult};
use crate::options::{Fetcher, QueryOptions};
use crate::query::{FetchStatus, QueryStatus};
use crate::select::{Selection, Selector};
use crate::typed::QuerySpec;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;
use yew::suspense::{Suspension, SuspensionResult};

/// What [`use_query`] returns: TanStack's `useQuery` result, with the data
/// decoded (see [`QueryObserverResult`] for what each field means).
pub struct UseQueryHandle<T> {
    /// The data decoded, or the placeholder while the query has none.
    pub data: Option<Rc<T>>,
    /// The settled error, or a decoding error (code `decode`).
    pub error: Option<QueryError>,
    /// Pending / error / success (success while placeholder data shows).
    pub status: QueryStatus,
    /// Fetching / paused / idle.
    pub fetch_status: FetchStatus,
    /// Whether the data is stale now (never while disabled).
    pub is_stale: bool,
    /// When the data was fetched (ms since the epoch).
    pub data_updated_at: i64,
    /// When the error happened (ms since the epoch).
    pub error_updated_at: i64,
    /// Failed attempts of the current fetch (visible while retrying).
    pub failure_count: u32,
    /// The latest failed attempt's error, also while retries go on.
    pub failure_reason: Option<QueryError>,
    /// How many fetches of the query failed for good.
    pub error_update_count: u32,
    /// Data or an error has arrived at least once.
    pub is_fetched: bool,
    /// Data or an error arrived since this component started on the key.
    pub is_fetched_after_mount: bool,
    /// `data` is the placeholder (`placeholder_data`, `keep_previous_data`).
    pub is_placeholder_data: bool,
    /// The query may fetch (`enabled`).
    pub is_enabled: bool,
    /// Infinite queries: whether another page exists.
    pub has_next_page: bool,
    /// Fetch again now.
    pub refetch: Callback<()>,
    /// Infinite queries: load the next page.
    pub fetch_next_page: Callback<()>,
}

impl<T> UseQueryHandle<T> {
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

    /// A fetch is running (TanStack's `isFetching`: not while paused).
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

    /// A fetch runs while there is data (or a placeholder).
    pub fn is_refetching(&self) -> bool {
        self.is_fetching() && !self.is_pending()
    }

    /// The query failed without ever having data.
    pub fn is_loading_error(&self) -> bool {
        self.is_error() && self.data.is_none()
    }

    /// A refetch failed; the data from before is kept.
    pub fn is_refetch_error(&self) -> bool {
        self.is_error() && self.data.is_some()
    }
}

type Decoded<T> = Option<(Rc<Value>, Result<Rc<T>, QueryError>)>;

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

/// The part of a handle that does not depend on the data's type: built by
/// one function for every `T` (each `T` gets only the moves).
struct Parts {
    error: Option<QueryError>,
    refetch: Callback<()>,
    fetch_next_page: Callback<()>,
}

/// The handle's callbacks for `key`, and its error (`data_error`, a
/// decoding or selecting error, before the query's).
fn parts(
    client: &QueryClient,
    key: &QueryKey,
    result: &QueryObserverResult,
    data_error: Option<QueryError>,
    (fetcher, options): (Fetcher, QueryOptions),
) -> Parts {
    let refetch = {
        let (client, key) = (client.clone(), key.clone());
        let (fetcher, options) = (Rc::clone(&fetcher), options.clone());
        Callback::from(move |()| {
            drop(client.refetch_with(&key, Rc::clone(&fetcher), options.clone()));
        })
    };
    let fetch_next_page = {
        let (client, key) = (client.clone(), key.clone());
        Callback::from(move |()| {
            drop(client.fetch_next_page_with(&key, Rc::clone(&fetcher), options.clone()));
        })
    };
    Parts {
        error: data_error.or_else(|| result.error.clone()),
        refetch,
        fetch_next_page,
    }
}

impl<T> UseQueryHandle<T> {
    /// The handle for `key` showing `result`, with its data as the hook
    /// decoded or selected it (an error there is the handle's error).
    fn new(
        client: &QueryClient,
        key: &QueryKey,
        result: &QueryObserverResult,
        data: Option<Result<Rc<T>, QueryError>>,
        fetch: (Fetcher, QueryOptions),
    ) -> Self {
        let (data, data_error) = match data {
            Some(Ok(data)) => (Some(data), None),
            Some(Err(e)) => (None, Some(e)),
            None => (None, None),
        };
        let Parts {
            error,
            refetch,
            fetch_next_page,
        } = parts(client, key, result, data_error, fetch);
        Self {
            data,
            error,
            status: result.status,
            fetch_status: result.fetch_status,
            is_stale: result.is_stale,
            data_updated_at: result.data_updated_at,
            error_updated_at: result.error_updated_at,
            failure_count: result.failure_count,
            failure_reason: result.failure_reason.clone(),
            error_update_count: result.error_update_count,
            is_fetched: result.is_fetched,
            is_fetched_after_mount: result.is_fetched_after_mount,
            is_placeholder_data: result.is_placeholder_data,
            is_enabled: result.is_enabled,
            has_next_page: result.has_next_page,
            refetch,
            fetch_next_page,
        }
    }
}

/// Subscribes to a query for as long as the component is mounted, fetching
/// when its data is missing or stale. The data's type comes with the spec,
/// so a view cannot read a key as another type; an infinite query is a
/// spec whose options have `next_page_param`.
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
    use_observed(key, fetcher, options)
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
) -> (Rc<QueryObserver>, QueryObserverResult) {
    let client = use_query_client();
    let observer = {
        let (key, fetcher, options) = (key.clone(), Rc::clone(fetcher), options.clone());
        use_memo((), move |()| {
            QueryObserver::unmounted(&client, key, fetcher, options)
        })
    };
    let result = observer.optimistic_result(key, fetcher, options);
    {
        let observer = Rc::clone(&observer);
        let (key, fetcher, options) = (key.clone(), Rc::clone(fetcher), options.clone());
        // After every render: the render's options are set, then the
        // observer is mounted if it is not yet (TanStack's two effects in
        // one; mounting is idempotent and keeps the latest listener). It
        // unmounts with the component: the hook's state drops it.
        use_effect(move || {
            observer.set_options(key, fetcher, options);
            observer.subscribe(move |result| on_change(result));
            || ()
        });
    }
    (observer, result)
}

/// The observer's result, re-rendering on every change (not generic: one
/// copy whatever the data's type).
#[hook]
fn use_observed_result(
    key: &QueryKey,
    fetcher: &Fetcher,
    options: &QueryOptions,
) -> QueryObserverResult {
    let force = use_force_update();
    let on_change: Rc<dyn Fn(&QueryObserverResult)> = Rc::new(move |_| force.force_update());
    use_observer(key, fetcher, options, on_change).1
}

#[hook]
fn use_observed<T>(key: QueryKey, fetcher: Fetcher, options: QueryOptions) -> UseQueryHandle<T>
where
    T: DeserializeOwned + 'static,
{
    let client = use_query_client();
    let result = use_observed_result(&key, &fetcher, &options);
    let decoded_cache: Rc<RefCell<Decoded<T>>> = use_mut_ref(|| None);
    let data = result
        .data
        .as_ref()
        .map(|value| decode::<T>(&decoded_cache, value));
    UseQueryHandle::new(&client, &key, &result, data, (fetcher, options))
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
    let client = use_query_client();
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
    let (_, result) = use_observer(&key, &fetcher, &options, on_change);
    let data = selection.view_of_result(&result).data;
    UseQueryHandle::new(&client, &key, &result, data, (fetcher, options))
}

/// [`use_query`] for Yew `<Suspense>`: suspends until the query has data or
/// a settled error. Cached data (even stale) renders at once, so there is no
/// fallback flash for hydrated or persisted data.
#[hook]
pub fn use_suspense_query<T>(spec: QuerySpec<T>) -> SuspensionResult<UseQueryHandle<T>>
where
    T: DeserializeOwned + 'static,
{
    let (key, fetcher, options) = spec.into_parts();
    let client = use_query_client();
    // The error this suspended for (or one hydrated) is shown, not refetched
    // by the observer that mounts when the suspension ends.
    let options = QueryOptions {
        retry_on_mount: Some(false),
        ..options
    };
    let handle = use_observed::<T>(key.clone(), Rc::clone(&fetcher), options.clone());
    if handle.data.is_some() || handle.status == QueryStatus::Error {
        return Ok(handle);
    }
    let pending = client.ensure_query_data(&key, fetcher, options);
    // Data can also arrive by another way than this fetch (a persisted
    // cache restored after the first render, a live event, another
    // observer): the suspension ends with whichever comes first. A fetch
    // paused while offline must not keep restored data off the page.
    let arrived = crate::signal::Signal::default();
    let arrival = arrived.wait();
    let watched = (client.clone(), key.clone());
    let subscription = client.subscribe(&key, move || {
        if watched.0.get_query_data(&watched.1).is_some() {
            arrived.notify();
        }
    });
    Err(Suspension::from_future(async move {
        futures::future::select(pending, arrival).await;
        drop(subscription);
    }))
}
