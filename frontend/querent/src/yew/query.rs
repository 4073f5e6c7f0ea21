//! The query hooks: a query observed while the component is mounted.

use super::use_query_client;
use crate::QueryClient;
use crate::error::QueryError;
use crate::key::QueryKey;
use crate::observer::QueryObserver;
use crate::options::{Fetcher, QueryOptions};
use crate::query::{FetchStatus, QueryState, QueryStatus};
use crate::select::{Selection, Selector};
use crate::typed::QuerySpec;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;
use yew::suspense::{Suspension, SuspensionResult};

/// What [`use_query`] returns.
pub struct UseQueryHandle<T> {
    /// The data, decoded.
    pub data: Option<Rc<T>>,
    /// The settled error, or a decoding error (code `decode`).
    pub error: Option<QueryError>,
    /// Pending / error / success.
    pub status: QueryStatus,
    /// Fetching / paused / idle.
    pub fetch_status: FetchStatus,
    /// Whether the data is stale now.
    pub is_stale: bool,
    /// When the data was fetched (ms since the epoch).
    pub data_updated_at: i64,
    /// Failed attempts of the current fetch (visible while retrying).
    pub failure_count: u32,
    /// The latest failed attempt's error, also while retries go on.
    pub failure_reason: Option<QueryError>,
    /// Infinite queries: whether another page exists.
    pub has_next_page: bool,
    /// Fetch again now.
    pub refetch: Callback<()>,
    /// Infinite queries: load the next page.
    pub fetch_next_page: Callback<()>,
}

impl<T> UseQueryHandle<T> {
    /// No data and no error yet.
    pub fn is_pending(&self) -> bool {
        self.status == QueryStatus::Pending
    }

    /// A fetch is running (or paused waiting for the network).
    pub fn is_fetching(&self) -> bool {
        self.fetch_status != FetchStatus::Idle
    }
}

/// What a view shows of a query; a change of any of it re-renders.
#[derive(Clone, PartialEq)]
struct View {
    data: Option<*const Value>,
    error: Option<QueryError>,
    status: QueryStatus,
    fetch_status: FetchStatus,
    is_invalidated: bool,
    /// Retries re-render (TanStack's `failureCount` is tracked like the rest).
    failure_count: u32,
}

impl View {
    fn of(state: &QueryState) -> Self {
        Self {
            data: state.data.as_ref().map(Rc::as_ptr),
            error: state.error.clone(),
            status: state.status,
            fetch_status: state.fetch_status,
            is_invalidated: state.is_invalidated,
            failure_count: state.failure_count,
        }
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

impl<T> UseQueryHandle<T> {
    /// The handle for `key` in `state`, with its data as the hook decoded
    /// or selected it (an error there is the handle's error). Staleness and
    /// the next page are judged by the hook's own `options`, not by what the
    /// cache entry holds: on the first render of a hydrated or restored
    /// query nothing has registered options for it yet (the observer is
    /// made in an effect, after the render).
    fn new(
        client: &QueryClient,
        key: &QueryKey,
        state: &QueryState,
        data: Option<Result<Rc<T>, QueryError>>,
        (fetcher, options): (Fetcher, QueryOptions),
    ) -> Self {
        let (data, data_error) = match data {
            Some(Ok(data)) => (Some(data), None),
            Some(Err(e)) => (None, Some(e)),
            None => (None, None),
        };
        let is_stale = client.is_stale_with(key, &options);
        let has_next_page = client.has_next_page_with(key, &options);
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
        Self {
            data,
            error: data_error.or_else(|| state.error.clone()),
            status: state.status,
            fetch_status: state.fetch_status,
            is_stale,
            data_updated_at: state.data_updated_at,
            failure_count: state.failure_count,
            failure_reason: state.failure_reason.clone(),
            has_next_page,
            refetch,
            fetch_next_page,
        }
    }
}

/// Subscribes to a query for as long as the component is mounted (or until
/// the key changes), fetching when its data is missing or stale. The data's
/// type comes with the spec, so a view cannot read a key as another type;
/// an infinite query is a spec whose options have `next_page_param`.
///
/// The fetcher and options of the first render for a key are the ones used.
#[hook]
pub fn use_query<T>(spec: QuerySpec<T>) -> UseQueryHandle<T>
where
    T: DeserializeOwned + 'static,
{
    let (key, fetcher, options) = spec.into_parts();
    use_observed(key, fetcher, options)
}

#[hook]
fn use_observed<T>(key: QueryKey, fetcher: Fetcher, options: QueryOptions) -> UseQueryHandle<T>
where
    T: DeserializeOwned + 'static,
{
    let client = use_query_client();
    let force = use_force_update();
    let last_view: Rc<RefCell<Option<View>>> = use_mut_ref(|| None);
    let spec = (Rc::clone(&fetcher), options.clone());
    {
        let (client, last_view) = (client.clone(), Rc::clone(&last_view));
        use_effect_with(key.clone(), move |key| {
            let (listen_client, listen_key) = (client.clone(), key.clone());
            let observer = QueryObserver::new(&client, key.clone(), fetcher, options, move || {
                let view = View::of(
                    &listen_client
                        .get_query_state(&listen_key)
                        .unwrap_or_default(),
                );
                if last_view.borrow().as_ref() != Some(&view) {
                    force.force_update();
                }
            });
            move || drop(observer)
        });
    }
    let state = client.get_query_state(&key).unwrap_or_default();
    *last_view.borrow_mut() = Some(View::of(&state));
    let decoded_cache: Rc<RefCell<Decoded<T>>> = use_mut_ref(|| None);
    let data = state
        .data
        .as_ref()
        .map(|value| decode::<T>(&decoded_cache, value));
    UseQueryHandle::new(&client, &key, &state, data, spec)
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
    let spec = (Rc::clone(&fetcher), options.clone());
    {
        let (client, selection) = (client.clone(), Rc::clone(&selection));
        use_effect_with(key.clone(), move |key| {
            let (watch_client, watch_key) = (client.clone(), key.clone());
            let observer = QueryObserver::new(&client, key.clone(), fetcher, options, move || {
                if selection.has_changed(&watch_client, &watch_key) {
                    force.force_update();
                }
            });
            move || drop(observer)
        });
    }
    let state = client.get_query_state(&key).unwrap_or_default();
    let data = selection.view_of(state.clone()).data;
    UseQueryHandle::new(&client, &key, &state, data, spec)
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
