//! The Yew binding (feature `yew`): a provider and hooks over the core.
//!
//! Hooks hold a [`QueryObserver`] while mounted and re-render when the
//! query's state changes. Data is decoded into your type once per distinct
//! data value and handed out as `Rc<T>`: when a refetch returns equal data
//! the cache keeps the same value (structural sharing), the hook returns the
//! same `Rc`, and children that take it as a prop do not re-render.

use crate::client::{CacheEvent, QueryClient};
use crate::filters::{MutationFilters, QueryFilters};
use crate::mutation::MutationRecord;
use crate::typed::QuerySpec;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use yew::prelude::*;

mod error_boundary;
mod hydration_boundary;
mod mutation;
mod query;

pub use error_boundary::{
    QueryErrorBoundary, QueryErrorBoundaryProps, QueryErrorFallback, QueryErrorResetBoundary,
    QueryErrorResetBoundaryProps, QueryErrorResetBoundaryValue, use_query_error_reset_boundary,
};
pub use hydration_boundary::{HydrationBoundary, HydrationBoundaryProps};
pub use mutation::{UseMutationHandle, use_mutation};
pub use query::{
    TrackedQueryHandle, UseQueryHandle, UseSuspenseQueryHandle, use_infinite_query, use_queries,
    use_query, use_query_notifying, use_query_select, use_query_tracked,
    use_suspense_infinite_query, use_suspense_queries, use_suspense_query,
};

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
    // One reset value for the provider's life: a new one per render would
    // make the context new, and every hook below render again.
    let boundaries = use_memo((), |()| error_boundary::Boundaries::default());
    let context = QueryContext {
        client: props.client.clone(),
        boundaries: (*boundaries).clone(),
    };
    html! {
        <ContextProvider<QueryContext> {context}>
            { props.children.clone() }
        </ContextProvider<QueryContext>>
    }
}

/// What the hooks below a provider read, in one context: the client, and
/// the error boundaries between the provider and the hook (which provide
/// it again with themselves in it).
#[derive(Clone, PartialEq)]
pub(crate) struct QueryContext {
    pub(crate) client: QueryClient,
    pub(crate) boundaries: error_boundary::Boundaries,
}

/// The nearest [`QueryContext`].
///
/// # Panics
/// When there is no provider above the component: a wiring mistake that
/// no user input can cause.
#[hook]
pub(crate) fn use_query_context() -> QueryContext {
    use_context::<QueryContext>()
        .expect("use_query_client: no QueryClientProvider above this component")
}

/// The client from the nearest [`QueryClientProvider`].
///
/// # Panics
/// When there is no provider above the component: a wiring mistake that
/// no user input can cause.
#[hook]
pub fn use_query_client() -> QueryClient {
    use_query_context().client
}

/// Re-renders when `select(client)` changes after any cache event. The
/// latest render's `select` is the one checked (its filters may change).
#[hook]
fn use_client_value<T, S>(select: S) -> T
where
    T: PartialEq + Clone + 'static,
    S: Fn(&QueryClient) -> T + Clone + 'static,
{
    let client = use_query_client();
    let force = use_force_update();
    let last: Rc<RefCell<Option<T>>> = use_mut_ref(|| None);
    let current: Rc<RefCell<S>> = use_mut_ref(|| select.clone());
    *current.borrow_mut() = select.clone();
    {
        let (client, last) = (client.clone(), Rc::clone(&last));
        use_effect_with((), move |()| {
            let watched = client.clone();
            let changed = move || {
                let value = (current.borrow())(&watched);
                last.borrow().as_ref() != Some(&value)
            };
            let check = changed.clone();
            let refresh = force.clone();
            let subscription = client.subscribe_cache(move |event: &CacheEvent| {
                if !event.is_observer_event() && check() {
                    refresh.force_update();
                }
            });
            // A change between the render and this subscription (an
            // effect that ran first started a fetch) shows too, as
            // `useSyncExternalStore` checks once subscribed.
            if changed() {
                force.force_update();
            }
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
    use_client_value(QueryClient::is_fetching as fn(&QueryClient) -> usize)
}

/// How many of the queries `filters` picks are fetching (TanStack's
/// `useIsFetching(filters)`).
#[hook]
pub fn use_is_fetching_with(filters: QueryFilters) -> usize {
    use_client_value(move |client: &QueryClient| client.is_fetching_with(&filters))
}

/// Whether the client believes it is online.
#[hook]
pub fn use_is_online() -> bool {
    use_client_value(QueryClient::is_online as fn(&QueryClient) -> bool)
}

/// Mutations the server has not confirmed yet (pending or paused).
#[hook]
pub fn use_pending_mutations() -> usize {
    use_client_value(QueryClient::pending_mutations as fn(&QueryClient) -> usize)
}

/// How many of the mutations `filters` picks are running or paused
/// (TanStack's `useIsMutating(filters)`).
#[hook]
pub fn use_is_mutating(filters: MutationFilters) -> usize {
    use_client_value(move |client: &QueryClient| client.is_mutating(&filters))
}

/// `select` of every mutation `filters` picks, oldest first, re-rendering
/// when that changes (TanStack's `useMutationState({ filters, select })`):
/// e.g. the variables of the pending ones, to show them in a list before
/// the server confirms.
#[hook]
pub fn use_mutation_state<R>(filters: MutationFilters, select: fn(&MutationRecord) -> R) -> Vec<R>
where
    R: PartialEq + Clone + 'static,
{
    use_client_value(move |client: &QueryClient| {
        client
            .find_all_mutations(&filters)
            .iter()
            .map(select)
            .collect()
    })
}

/// Every known mutation (oldest first), re-rendering when any changes: for
/// views that show unconfirmed mutations from their variables (a pending
/// item in a list survives a reload this way, because the queue is persisted).
#[hook]
pub fn use_mutation_records() -> Vec<crate::mutation::MutationRecord> {
    use_client_value(QueryClient::mutations as fn(&QueryClient) -> Vec<MutationRecord>)
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
pub fn use_prefetch_on_intent<T: 'static>(spec: QuerySpec<T>, delay_ms: u64) -> IntentHandlers {
    let (key, fetcher, options) = spec.into_parts();
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

/// TanStack's `usePrefetchQuery`: starts fetching `spec`'s query during
/// the render when the cache has no state for it at all (no data, no
/// error, no fetch), so the components below (a suspense boundary's, say)
/// find it on its way instead of each starting a fetch when they mount.
/// Nothing is returned: read the query with [`use_query`] or
/// [`use_suspense_query`].
#[hook]
pub fn use_prefetch_query<T: 'static>(spec: QuerySpec<T>) {
    let client = use_query_client();
    let (key, fetcher, options) = spec.into_parts();
    if client.get_query_state(&key).is_none() {
        client.prefetch_query(&key, fetcher, options);
    }
}
