//! The router speaks `shared::Route`: the same table the server prerenders
//! from, so client and server can never disagree about what a URL is.

use crate::queries;
use querent::yew::use_query_client;
use shared::Route;
use std::cell::Cell;
use std::collections::HashMap;
use yew::prelude::*;
use yew_router::prelude::*;

/// `shared::Route` as a yew-router route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AppRoute(pub Route);

impl Routable for AppRoute {
    fn from_path(path: &str, _params: &HashMap<&str, &str>) -> Option<Self> {
        Some(Self(Route::parse(path)))
    }

    fn to_path(&self) -> String {
        self.0.path()
    }

    fn routes() -> Vec<&'static str> {
        vec!["/*path"]
    }

    fn not_found_route() -> Option<Self> {
        Some(Self(Route::NotFound))
    }

    fn recognize(pathname: &str) -> Option<Self> {
        Some(Self(Route::parse(pathname)))
    }
}

/// Starts every query a route's loader needs without waiting (hover intent,
/// and the non-blocking half of a loader).
pub(crate) fn prefetch_route(client: &querent::QueryClient, route: Route) {
    let loader = route.loader();
    let keys: Vec<_> = loader
        .all_keys()
        .into_iter()
        .chain(loader.deferred)
        .collect();
    prefetch_keys(client, &keys);
}

/// Starts fetching each of `keys` that is missing or stale, without waiting.
pub(crate) fn prefetch_keys(client: &querent::QueryClient, keys: &[shared::QueryKey]) {
    for key in keys {
        let (key, fetcher, options) = queries::spec(*key);
        if settled_failure_is_fresh(client, &key) {
            // E.g. the server's embedded 404: asking again would not help.
            continue;
        }
        client.prefetch_query(&key, fetcher, options);
    }
}

/// A route's loader, run without blocking when a page mounts (and again
/// when its route changes): the non-blocking half of "ensure + prefetch".
#[hook]
pub(crate) fn use_route_prefetch(route: Route) {
    let client = use_query_client();
    use_effect_with(route, move |route| prefetch_route(&client, *route));
}

/// A query that failed for good (4xx) within the default stale time.
pub(crate) fn settled_failure_is_fresh(
    client: &querent::QueryClient,
    key: &querent::QueryKey,
) -> bool {
    const STALE_MS: i64 = 5 * 60_000;
    client.get_query_state(key).is_some_and(|s| {
        s.data.is_none()
            && s.error
                .as_ref()
                .is_some_and(querent::QueryError::is_client_error)
            && client.now() - s.error_updated_at < STALE_MS
    })
}

/// The route in the address bar, search params included (yew-router's own
/// matching reads the path only).
#[hook]
pub(crate) fn use_address_route() -> Route {
    use_location().map_or(Route::NotFound, |l| {
        Route::parse(&format!("{}{}", l.path(), l.query_str()))
    })
}

/// Props of [`AppLink`].
#[derive(Properties, PartialEq)]
pub(crate) struct AppLinkProps {
    /// Where it goes.
    pub(crate) to: Route,
    /// Link text.
    #[prop_or_default]
    pub(crate) children: Html,
    /// Extra classes.
    #[prop_or_default]
    pub(crate) classes: Classes,
    /// `id` attribute.
    #[prop_or_default]
    pub(crate) id: Option<AttrValue>,
}

/// A link that marks itself current (`aria-current="page"`), navigates
/// without a page load, and prefetches its route's data when hovered or
/// focused for 50 ms (leaving earlier cancels).
#[function_component]
pub(crate) fn AppLink(props: &AppLinkProps) -> Html {
    let client = use_query_client();
    let navigator = use_navigator();
    let current = Some(use_address_route());
    let generation: std::rc::Rc<Cell<u64>> = use_memo((), |()| Cell::new(0));
    let target = props.to;
    let start = {
        let generation = std::rc::Rc::clone(&generation);
        Callback::from(move |()| {
            let id = generation.get() + 1;
            generation.set(id);
            let (client, generation) = (client.clone(), std::rc::Rc::clone(&generation));
            let sleep = client.platform().sleep(INTENT_DELAY_MS);
            client.platform().spawn(Box::pin(async move {
                sleep.await;
                if generation.get() == id {
                    prefetch_route(&client, target);
                }
            }));
        })
    };
    let cancel = {
        let generation = std::rc::Rc::clone(&generation);
        Callback::from(move |()| generation.set(generation.get() + 1))
    };
    let onclick = Callback::from(move |e: MouseEvent| {
        if e.ctrl_key() || e.meta_key() || e.shift_key() || e.alt_key() || e.button() != 0 {
            return;
        }
        if let Some(navigator) = &navigator {
            e.prevent_default();
            // The page it is on already: no new history entry (TanStack
            // Router replaces one that would repeat the current location).
            // Unsaved input: the person is asked first (and may stay).
            if current != Some(target) && crate::navigation::blocking::may_leave() {
                navigator.push(&AppRoute(target));
            }
        }
    });
    // The same page, whatever its search params.
    let is_current = current.map(|c| c.pathname()) == Some(target.pathname())
        || matches!(
            (current, target),
            (Some(Route::Post(_)), Route::Posts) | (Some(Route::User(_)), Route::Users)
        );
    html! {
        <a href={target.path()} id={props.id.clone()} class={props.classes.clone()}
           aria-current={is_current.then_some("page")}
           {onclick}
           onmouseenter={start.reform(|_: MouseEvent| ())}
           onfocus={start.reform(|_: FocusEvent| ())}
           onmouseleave={cancel.reform(|_: MouseEvent| ())}
           onblur={cancel.reform(|_: FocusEvent| ())}>
            { props.children.clone() }
        </a>
    }
}

/// TanStack Router's default intent delay.
const INTENT_DELAY_MS: u64 = 50;
