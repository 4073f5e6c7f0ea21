//! The single-page app as a library; `main.rs` only mounts [`App`].
//!
//! Start-up, in order: a [`QueryClient`] on the browser platform; the state
//! the server embedded into the page is hydrated; the persisted cache and
//! unconfirmed mutations are restored from localStorage (for each query the
//! newer `updated_at` wins); focus and connectivity are wired; mutations are
//! registered (which resumes restored ones); the live event stream opens;
//! the service worker is registered.

#![warn(missing_docs)]

mod api;
mod cache;
mod layout;
mod live;
mod mutations;
mod pages;
mod queries;
mod router;

use querent::persist::PersistOptions;
use querent::web::{BrowserSignals, WebPersistence, WebPlatform};
use querent::yew::QueryClientProvider;
use querent::{DehydratedState, QueryClient};
use router::AppRoute;
use shared::{Route, STATE_ELEMENT_ID};
use yew::prelude::*;
use yew_router::prelude::*;

/// Cache written by another build is discarded on start.
const BUSTER: &str = env!("CARGO_PKG_VERSION");

/// Everything that lives as long as the page.
struct Runtime {
    client: QueryClient,
    _signals: BrowserSignals,
    _persistence: WebPersistence,
    _live: Option<live::LiveUpdates>,
}

fn embedded_state() -> Option<DehydratedState> {
    let text = web_sys::window()?
        .document()?
        .get_element_by_id(STATE_ELEMENT_ID)?
        .text_content()?;
    match querent::json::parse(&text) {
        Ok(state) => Some(state),
        Err(e) => {
            web_sys::console::warn_1(&format!("ignoring the embedded query state: {e}").into());
            None
        }
    }
}

fn register_service_worker() {
    if let Some(window) = web_sys::window() {
        let container = window.navigator().service_worker();
        drop(container.register("/sw.js"));
    }
}

/// Leaves a `performance.mark` (first-load measurements read them).
pub(crate) fn mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark(name);
    }
}

impl Runtime {
    fn start() -> Self {
        mark("app-start");
        let client = QueryClient::new(WebPlatform::default());
        if let Some(state) = embedded_state() {
            querent::hydration::hydrate(&client, state);
        }
        // One cache per API: two deployments on one origin never mix data.
        let base = api::base();
        let defaults = PersistOptions::default();
        let options = PersistOptions {
            buster: BUSTER.into(),
            storage_key: if base.is_empty() {
                defaults.storage_key.clone()
            } else {
                format!("{}:{base}", defaults.storage_key)
            },
            ..defaults
        };
        let (_, persistence) = querent::web::persist_to_local_storage(&client, options);
        let signals = querent::web::connect(&client);
        mutations::register(&client);
        let live = live::connect(&client);
        register_service_worker();
        Self {
            client,
            _signals: signals,
            _persistence: persistence,
            _live: live,
        }
    }
}

/// The root component.
#[function_component]
pub fn App() -> Html {
    let runtime = use_memo((), |()| Runtime::start());
    html! {
        <QueryClientProvider client={runtime.client.clone()}>
            <BrowserRouter>
                <layout::Layout>
                    <Switch<AppRoute> render={switch} />
                </layout::Layout>
            </BrowserRouter>
        </QueryClientProvider>
    }
}

fn switch(route: AppRoute) -> Html {
    use pages::*;
    match route.0 {
        Route::Home => html! { <home::Home /> },
        Route::Posts => html! { <posts::PostsPage selected={None} /> },
        Route::Post(id) => html! { <posts::PostsPage selected={Some(id)} /> },
        Route::PostDeep(id) => html! { <post::PostDeep {id} /> },
        Route::Users => html! { <users::UsersPage selected={None} /> },
        Route::User(id) => html! { <users::UsersPage selected={Some(id)} /> },
        Route::Deferred => html! { <deferred::Deferred /> },
        Route::RouteA | Route::RouteB => html! { <misc::Nested route={route.0} /> },
        Route::Redirect => html! { <misc::Redirect /> },
        Route::NotFound => html! { <misc::NotFound /> },
    }
}
