//! The Yew binding (feature `yew`): a provider and hooks over the core.
//!
//! Hooks hold a [`QueryObserver`] while mounted and re-render when the
//! query's state changes. Data is decoded into your type once per distinct
//! data value and handed out as `Rc<T>`: when a refetch returns equal data
//! the cache keeps the same value (structural sharing), the hook returns the
//! same `Rc`, and children that take it as a prop do not re-render.

use crate::client::{CacheEvent, QueryClient};
use crate::error::QueryError;
use crate::key::QueryKey;
use crate::mutation::MutationStatus;
use crate::observer::QueryObserver;
use crate::options::{Fetcher, NextPageParam, QueryOptions};
use crate::query::{FetchStatus, QueryState, QueryStatus};
use crate::select::{Selection, Selector};
use crate::typed::{Mutation, MutationOptions, QuerySpec};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use yew::prelude::*;
use yew::suspense::{Suspension, SuspensionResult};

/// Props of [`QueryClientProvider`].
#[derive(Properties, PartialEq)]
pub struct QueryClientProviderProps {
    /// The client every hook below uses.
    pub client: QueryClient,
    /// The app.
    #[prop_or_default]
    pub children: Html,
}

/// Makes a [`QueryClient`] available to the hooks below it.
///
/// ```no_run
/// use querent::yew::QueryClientProvider;
/// use yew::prelude::*;
/// # fn app(client: querent::QueryClient) -> Html {
/// html! { <QueryClientProvider {client}><p>{"app"}</p></QueryClientProvider> }
/// # }
/// ```
#[function_component]
pub fn QueryClientProvider(props: &QueryClientProviderProps) -> Html {
    html! {
        <ContextProvider<QueryClient> context={props.client.clone()}>
            { props.children.clone() }
        </ContextProvider<QueryClient>>
    }
}

/// The client from the nearest [`QueryClientProvider`].
///
/// # Panics
/// When there is no provider above the component: a wiring mistake that
/// no user input can cause.
#[hook]
pub fn use_query_client() -> QueryClient {
    use_context::<QueryClient>()
        .expect("use_query_client: no QueryClientProvider above this component")
}

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
}

impl View {
    fn of(state: &QueryState) -> Self {
        Self {
            data: state.data.as_ref().map(Rc::as_ptr),
            error: state.error.clone(),
            status: state.status,
            fetch_status: state.fetch_status,
            is_invalidated: state.is_invalidated,
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
    let decoded = T::deserialize(data.as_ref())
        .map(Rc::new)
        .map_err(|e| QueryError::decode(format!("unexpected data shape: {e}")));
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
            has_next_page,
            refetch,
            fetch_next_page,
        }
    }
}

/// Subscribes to a query for as long as the component is mounted (or until
/// the key changes), fetching when its data is missing or stale.
///
/// The fetcher and options of the first render for a key are the ones used.
#[hook]
pub fn use_query<T>(key: QueryKey, fetcher: Fetcher, options: QueryOptions) -> UseQueryHandle<T>
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
/// use querent::yew::use_query_select;
/// use querent::{Fetcher, QueryKey, QueryOptions};
/// use serde_json::json;
/// use yew::prelude::*;
///
/// #[derive(serde::Deserialize)]
/// struct Post { title: String }
///
/// #[derive(Properties, PartialEq)]
/// struct TitleProps { id: i64 }
///
/// #[function_component]
/// fn Title(props: &TitleProps) -> Html {
///     let key = QueryKey::from(vec![json!("post"), json!(props.id)]);
///     let fetcher: Fetcher = std::rc::Rc::new(|_| Box::pin(async { Ok(json!({"title": "hi"})) }));
///     let title = use_query_select(key, fetcher, QueryOptions::default(), (),
///         |post: &Post, ()| post.title.to_uppercase());
///     html! { <h1>{ title.data.as_deref().cloned().unwrap_or_default() }</h1> }
/// }
/// ```
#[hook]
pub fn use_query_select<T, S, D>(
    key: QueryKey,
    fetcher: Fetcher,
    options: QueryOptions,
    deps: D,
    select: fn(&T, &D) -> S,
) -> UseQueryHandle<S>
where
    T: DeserializeOwned + 'static,
    S: PartialEq + 'static,
    D: PartialEq + Clone + 'static,
{
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

/// [`use_query`] from a [`QuerySpec`]: the data's type comes with the key,
/// so a view cannot read a key as the wrong type. An infinite query is a
/// spec whose options have `next_page_param`.
#[hook]
pub fn use_typed_query<T>(spec: QuerySpec<T>) -> UseQueryHandle<T>
where
    T: DeserializeOwned + 'static,
{
    let (key, fetcher, options) = spec.into_parts();
    use_query::<T>(key, fetcher, options)
}

/// [`use_query_select`] from a [`QuerySpec`].
#[hook]
pub fn use_typed_query_select<T, S, D>(
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
    use_query_select(key, fetcher, options, deps, select)
}

/// [`use_suspense_query`] from a [`QuerySpec`].
#[hook]
pub fn use_typed_suspense_query<T>(spec: QuerySpec<T>) -> SuspensionResult<UseQueryHandle<T>>
where
    T: DeserializeOwned + 'static,
{
    let (key, fetcher, options) = spec.into_parts();
    use_suspense_query::<T>(key, fetcher, options)
}

/// [`use_query`] for an infinite query: `next_page_param` computes the next
/// page's parameter from the last page (`None`: no more pages). The data is
/// `{"pages": [T…], "page_params": […]}`.
#[hook]
pub fn use_infinite_query<T>(
    key: QueryKey,
    fetcher: Fetcher,
    options: QueryOptions,
    next_page_param: NextPageParam,
) -> UseQueryHandle<T>
where
    T: DeserializeOwned + 'static,
{
    let options = QueryOptions {
        next_page_param: Some(next_page_param),
        ..options
    };
    use_query::<T>(key, fetcher, options)
}

/// [`use_query`] for Yew `<Suspense>`: suspends until the query has data or
/// a settled error. Cached data (even stale) renders at once, so there is no
/// fallback flash for hydrated or persisted data.
#[hook]
pub fn use_suspense_query<T>(
    key: QueryKey,
    fetcher: Fetcher,
    options: QueryOptions,
) -> SuspensionResult<UseQueryHandle<T>>
where
    T: DeserializeOwned + 'static,
{
    let client = use_query_client();
    // The error this suspended for (or one hydrated) is shown, not refetched
    // by the observer that mounts when the suspension ends.
    let options = QueryOptions {
        retry_on_mount: Some(false),
        ..options
    };
    let handle = use_query::<T>(key.clone(), Rc::clone(&fetcher), options.clone());
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

/// What [`use_mutation`] returns.
pub struct UseMutationHandle<V, R> {
    /// `None` until the first call; then the latest call's status.
    pub status: Option<MutationStatus>,
    /// The latest call's result.
    pub data: Option<Rc<R>>,
    /// The latest call's error.
    pub error: Option<QueryError>,
    /// Runs the mutation with these variables.
    pub mutate: Callback<V>,
}

impl<V, R> UseMutationHandle<V, R> {
    /// The latest call is running or paused.
    pub fn is_pending(&self) -> bool {
        matches!(
            self.status,
            Some(MutationStatus::Pending | MutationStatus::Paused)
        )
    }
}

struct MutationView<R> {
    status: Option<MutationStatus>,
    data: Option<Rc<R>>,
    error: Option<QueryError>,
}

/// Runs mutations of `M` (registered with
/// [`QueryClient::register_mutation`]). `options(&variables)` builds each
/// call's scope and callbacks (`on_mutate` for the optimistic update,
/// `on_error` to roll back with its context, ...).
#[hook]
pub fn use_mutation<M, C, F>(options: F) -> UseMutationHandle<M::Variables, M::Output>
where
    M: Mutation,
    C: Default + 'static,
    F: Fn(&M::Variables) -> MutationOptions<M, C> + 'static,
{
    let client = use_query_client();
    let view = use_state(|| MutationView::<M::Output> {
        status: None,
        data: None,
        error: None,
    });
    type OptionsFn<M, C> = Rc<dyn Fn(&<M as Mutation>::Variables) -> MutationOptions<M, C>>;
    let latest: Rc<RefCell<Option<OptionsFn<M, C>>>> = use_mut_ref(|| None);
    *latest.borrow_mut() = Some(Rc::new(options));
    let mutate = {
        let (client, view) = (client.clone(), view.clone());
        use_callback((), move |variables: M::Variables, ()| {
            let options = latest
                .borrow()
                .as_ref()
                .map(|f| f(&variables))
                .unwrap_or_default();
            view.set(MutationView {
                status: Some(if client.is_online() {
                    MutationStatus::Pending
                } else {
                    MutationStatus::Paused
                }),
                data: None,
                error: None,
            });
            let done = client.mutate_with(variables, options);
            let view = view.clone();
            client.platform().spawn(Box::pin(async move {
                view.set(match done.await {
                    Ok(data) => MutationView {
                        status: Some(MutationStatus::Success),
                        data: Some(Rc::new(data)),
                        error: None,
                    },
                    Err(error) => MutationView {
                        status: Some(MutationStatus::Error),
                        data: None,
                        error: Some(error),
                    },
                });
            }));
        })
    };
    UseMutationHandle {
        status: view.status,
        data: view.data.clone(),
        error: view.error.clone(),
        mutate,
    }
}

/// Re-renders when `select(client)` changes after any cache event.
#[hook]
fn use_client_value<T>(select: fn(&QueryClient) -> T) -> T
where
    T: PartialEq + Clone + 'static,
{
    let client = use_query_client();
    let force = use_force_update();
    let last: Rc<RefCell<Option<T>>> = use_mut_ref(|| None);
    {
        let (client, last) = (client.clone(), Rc::clone(&last));
        use_effect_with((), move |()| {
            let watched = client.clone();
            let subscription = client.subscribe_cache(move |_event: &CacheEvent| {
                let now = select(&watched);
                if last.borrow().as_ref() != Some(&now) {
                    force.force_update();
                }
            });
            move || drop(subscription)
        });
    }
    let value = select(&client);
    *last.borrow_mut() = Some(value.clone());
    value
}

/// How many queries are fetching (for a global progress bar).
#[hook]
pub fn use_is_fetching() -> usize {
    use_client_value(QueryClient::is_fetching)
}

/// Whether the client believes it is online.
#[hook]
pub fn use_is_online() -> bool {
    use_client_value(QueryClient::is_online)
}

/// Mutations the server has not confirmed yet (pending or paused).
#[hook]
pub fn use_pending_mutations() -> usize {
    use_client_value(QueryClient::pending_mutations)
}

/// Every known mutation (oldest first), re-rendering when any changes: for
/// views that show unconfirmed mutations from their variables (a pending
/// item in a list survives a reload this way, because the queue is persisted).
#[hook]
pub fn use_mutation_records() -> Vec<crate::mutation::MutationRecord> {
    use_client_value(QueryClient::mutations)
}

/// Event handlers that prefetch a query when the pointer rests on (or the
/// keyboard focuses) an element for `delay_ms`; leaving earlier cancels.
#[derive(Clone, PartialEq)]
pub struct IntentHandlers {
    /// For `onmouseenter`.
    pub onmouseenter: Callback<MouseEvent>,
    /// For `onmouseleave`.
    pub onmouseleave: Callback<MouseEvent>,
    /// For `onfocus`.
    pub onfocus: Callback<FocusEvent>,
    /// For `onblur`.
    pub onblur: Callback<FocusEvent>,
}

/// Prefetch-on-intent for links: see [`IntentHandlers`]. TanStack Router's
/// default intent delay is 50 ms.
#[hook]
pub fn use_prefetch_on_intent(
    key: QueryKey,
    fetcher: Fetcher,
    options: QueryOptions,
    delay_ms: u64,
) -> IntentHandlers {
    let client = use_query_client();
    let generation: Rc<Cell<u64>> = use_memo((), |()| Cell::new(0));
    let start = {
        let generation = Rc::clone(&generation);
        Rc::new(move || {
            let id = generation.get() + 1;
            generation.set(id);
            let (client, key, fetcher, options, generation) = (
                client.clone(),
                key.clone(),
                Rc::clone(&fetcher),
                options.clone(),
                Rc::clone(&generation),
            );
            let sleep = client.platform().sleep(delay_ms);
            client.platform().spawn(Box::pin(async move {
                sleep.await;
                if generation.get() == id {
                    client.prefetch_query(&key, fetcher, options);
                }
            }));
        })
    };
    let cancel = {
        let generation = Rc::clone(&generation);
        Rc::new(move || generation.set(generation.get() + 1))
    };
    IntentHandlers {
        onmouseenter: {
            let start = Rc::clone(&start);
            Callback::from(move |_| start())
        },
        onfocus: Callback::from(move |_| start()),
        onmouseleave: {
            let cancel = Rc::clone(&cancel);
            Callback::from(move |_| cancel())
        },
        onblur: Callback::from(move |_| cancel()),
    }
}
