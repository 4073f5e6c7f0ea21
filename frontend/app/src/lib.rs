//! The single-page app as a library; `main.rs` only calls [`start`].
//!
//! Start-up, in order: a [`QueryClient`] on the browser platform; the state
//! the server embedded into the page is hydrated; the server's HTML is
//! hydrated with it (or the page rendered, where the body holds none for this
//! path), with the page's pending (deferred) queries loading until the state
//! the server streams after the page arrives
//! (`querent::hydration::hydrate_streamed`, `querent::ssr::web`); then the
//! persisted cache and unconfirmed mutations are restored
//! from localStorage (for each query the newer `updated_at` wins); focus and
//! connectivity are wired; mutations are registered (which resumes restored
//! ones); the live event stream opens; the service worker is registered.
//!
//! With the feature `ssr`, [`ssr::render`] renders the same components on
//! the server.

#![warn(missing_docs)]

// The server render reads the page's state only: its API fails at once.
#[cfg_attr(feature = "ssr", path = "api_server.rs")]
mod api;
mod cache;
mod forms;
mod layout;
mod live;
mod mutations;
mod navigation;
mod pages;
mod queries;
mod router;
mod session;

use querent::persist::PersistOptions;
use querent::ssr::web::{body_complete, embedded_state, is_server_rendered_at};
use querent::web::{BrowserSignals, WebPlatform};
use querent::yew::QueryClientProvider;
use querent::{QueryClient, QueryOptions};
use shared::{FormState, Route};
use std::rc::Rc;
use yew::prelude::*;
use yew_router::prelude::*;

/// Cache written by another build is discarded on start.
const BUSTER: &str = env!("CARGO_PKG_VERSION");

/// Everything that lives as long as the page, started after its first render.
struct Runtime {
    _signals: BrowserSignals,
    _identity: session::Watch,
    _broadcast: Option<querent::web::WebBroadcast>,
    _live: Option<live::LiveUpdates>,
    _navigation: Vec<gloo_events::EventListener>,
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
    /// Everything that waits until the page shows the server's HTML (or the
    /// first render): the persisted cache and the offline queue restored,
    /// focus and connectivity wired, mutations registered (which resumes
    /// restored ones), the live stream, the service worker.
    fn start(client: &QueryClient, viewer: Option<shared::UserId>) -> Self {
        forms::set_hydrating(false);
        forms::restore_focus();
        // One cache per API and per person (see `session`).
        let defaults = PersistOptions::default();
        let options = PersistOptions {
            buster: BUSTER.into(),
            storage_key: session::storage_key(&session::base_key(), viewer),
            // Who is signed in is the server's to say (each page embeds it):
            // never restored from storage.
            dehydrate_options: querent::hydration::DehydrateOptions {
                should_dehydrate_query: Some(Rc::new(|q| {
                    q.state.data.is_some()
                        && q.key.segments().first() != Some(&serde_json::json!("session"))
                })),
                ..Default::default()
            },
            ..defaults
        };
        // The offline queue is also committed to IndexedDB before a change
        // shows: localStorage reaches the disk too late to survive a killed
        // browser.
        querent::idb::IdbMutationJournal::open(&options).attach(client);
        let storage_key = options.storage_key.clone();
        let (_, persistence) = querent::web::persist_to_local_storage(client, options);
        let identity = session::watch(client, viewer, persistence);
        // Tabs tell each other of new data and of removed queries at once
        // (from now on: what was just restored is every tab's already).
        let broadcast = querent::web::broadcast(client, &storage_key);
        let signals = querent::web::connect(client);
        api::set_client(client);
        mutations::register(client);
        let live = live::connect(client);
        let scroll = navigation::history::start();
        register_service_worker();
        querent::ssr::web::first_render_done();
        // The page is the app's now (hydrated or rendered, and wired): say
        // so for anyone waiting to interact (`<html data-app="ready">`).
        if let Some(root) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = root.set_attribute("data-app", "ready");
            // Rendered for the viewer the app started for: shown (see
            // index.html's `data-signing-out`).
            let _ = root.remove_attribute("data-signing-out");
        }
        mark("app-ready");
        Self {
            _signals: signals,
            _identity: identity,
            _broadcast: broadcast,
            _live: live,
            _navigation: scroll,
        }
    }
}

/// Starts the app in the browser: a query client holding exactly the state
/// the server embedded, then the page. Where the body holds the server's
/// HTML for this very path, it is hydrated (the first render must equal the
/// server's, so nothing else enters the cache before it); otherwise (a page
/// from a static host, or the service worker's shell of another page) it is
/// rendered. The rest of the runtime starts after that first render.
pub fn start() {
    mark("app-start");
    if body_complete() {
        start_now();
    } else {
        // A streamed page's script runs as soon as it is loaded, possibly
        // before the parser has reached the end of the body.
        wasm_bindgen_futures::spawn_local(async {
            while !body_complete() {
                gloo_timers::future::TimeoutFuture::new(5).await;
            }
            start_now();
        });
    }
}

/// The app's query defaults, as TanStack's walkthrough sets them (querent's
/// own are TanStack's: stale at once, kept 5 min): data is fresh for 5
/// minutes and kept 30 minutes after its last observer leaves. Three
/// retries for every query, the loaders' prefetches too (TanStack's
/// `prefetchQuery` retries only when asked).
pub fn query_defaults() -> QueryOptions {
    QueryOptions {
        stale_time: Some((5 * 60_000).into()),
        gc_time: Some(30 * 60_000),
        retry: Some(3),
        ..QueryOptions::default()
    }
}

fn start_now() {
    let client = QueryClient::with_defaults(WebPlatform::default(), query_defaults());
    if let Some(state) = embedded_state() {
        // The route's deferred queries are loading now (as on the server)
        // and settle with the state streamed after the page, once it has
        // rendered; where none comes, they ask the API.
        querent::hydration::hydrate_streamed(
            &client,
            state,
            querent::ssr::web::streamed_state(),
            |key| {
                let key = shared::QueryKey::from_segments(key.segments()).ok()?;
                let (_, fetcher, options) = queries::spec(key);
                Some((fetcher, options))
            },
        );
    }
    let forms = forms::embedded().0;
    let (viewer, as_rendered) = session::starting_viewer(&client);
    let viewer = viewer.user_id();
    let renderer = yew::Renderer::<App>::with_props(AppProps {
        client,
        forms,
        viewer,
    });
    if as_rendered && is_server_rendered_at(&canonical_url()) {
        // The forms adopt what their elements hold until the first effect.
        forms::set_hydrating(true);
        forms::remember_focus();
        renderer.hydrate();
    } else {
        renderer.render();
    }
}

/// The URL the server names the page it rendered for this address by
/// (`shared::Route::page_url`).
fn canonical_url() -> String {
    let location = web_sys::window().map(|w| w.location());
    let part = |f: fn(&web_sys::Location) -> Result<String, wasm_bindgen::JsValue>| {
        location
            .as_ref()
            .and_then(|l| f(l).ok())
            .unwrap_or_default()
    };
    let (path, search) = (
        part(web_sys::Location::pathname),
        part(web_sys::Location::search),
    );
    Route::parse(&format!("{path}{search}")).page_url(&path)
}

/// Props of [`App`].
#[derive(Properties, PartialEq)]
pub struct AppProps {
    /// The page's query client (seeded from the embedded state).
    pub client: QueryClient,
    /// What the page says about its forms.
    pub forms: Rc<FormState>,
    /// Whose page this is (the cache it uses; see `session`).
    pub viewer: Option<shared::UserId>,
}

/// The root component in the browser.
#[function_component]
pub fn App(props: &AppProps) -> Html {
    {
        let (client, viewer) = (props.client.clone(), props.viewer);
        use_effect_with((), move |()| {
            let runtime = Runtime::start(&client, viewer);
            move || drop(runtime)
        });
    }
    html! {
        <QueryClientProvider client={props.client.clone()}>
            <ContextProvider<forms::Forms> context={forms::Forms(props.forms.clone())}>
                <BrowserRouter>
                    <Pages />
                </BrowserRouter>
            </ContextProvider<forms::Forms>>
        </QueryClientProvider>
    }
}

/// The app inside a router: the same on the server and in the browser. The
/// page shown follows the address once its route's loader has what it
/// needs (see `navigation`).
#[function_component]
fn Pages() -> Html {
    let location = router::use_address_route();
    let shown = navigation::use_awaited_route(location);
    use_effect_with(shown, |shown| {
        if shown.showing > 0 {
            navigation::history::route_shown(!shown.pending);
        }
    });
    let router = navigation::use_router_for(shown);
    html! {
        <layout::Layout>
            <ContextProvider<navigation::Router> context={router}>
                { switch(shown.route) }
            </ContextProvider<navigation::Router>>
        </layout::Layout>
    }
}

fn switch(route: Route) -> Html {
    use pages::*;
    match route {
        Route::Home => html! { <home::Home /> },
        Route::Posts => html! { <posts::PostsPage selected={None} /> },
        Route::Post(id) => html! { <posts::PostsPage selected={Some(id)} /> },
        Route::PostDeep(id) => html! { <post::PostDeep {id} /> },
        Route::Users => html! { <users::UsersPage selected={None} /> },
        Route::User(id) => html! { <users::UsersPage selected={Some(id)} /> },
        Route::Deferred => html! { <deferred::Deferred /> },
        Route::RouteA | Route::RouteB => html! { <misc::Nested {route} /> },
        Route::Redirect => html! { <misc::Redirect /> },
        Route::SuspenseTransition(_) | Route::TransitionCount(_) => {
            html! { <transition::CountPage {route} /> }
        }
        Route::SignIn(to) => html! { <crate::session::SignInPage {to} /> },
        Route::NotFound => html! { <misc::NotFound /> },
    }
}

/// Rendering on the server (feature `ssr`): the same components, from the
/// same state the page embeds.
#[cfg(feature = "ssr")]
pub mod ssr {
    use super::Pages;
    use crate::forms::Forms;
    use querent::render::RenderPlatform;
    use querent::yew::QueryClientProvider;
    use querent::{DehydratedState, QueryClient, QueryOptions};
    use shared::FormState;
    use std::rc::Rc;
    use yew::prelude::*;
    use yew_router::history::{AnyHistory, History, MemoryHistory};
    use yew_router::prelude::*;

    /// Props of [`ServerApp`].
    #[derive(Properties, PartialEq)]
    pub struct ServerAppProps {
        /// Seeded from the page's state.
        pub client: QueryClient,
        /// The URL path rendered.
        pub path: AttrValue,
        /// What the page says about its forms.
        pub forms: Rc<FormState>,
    }

    /// The root component on the server: [`super::App`] with the route
    /// fixed (a memory history at `path`) and nothing started.
    #[function_component]
    pub fn ServerApp(props: &ServerAppProps) -> Html {
        let history = AnyHistory::from(MemoryHistory::new());
        let pathname = props.path.split(['?', '#']).next().unwrap_or("/");
        let search = shared::Route::parse(&props.path).search();
        if search.is_empty() || history.push_with_query(pathname, search).is_err() {
            history.push(pathname);
        }
        html! {
            <QueryClientProvider client={props.client.clone()}>
                <ContextProvider<Forms> context={Forms(props.forms.clone())}>
                    <Router {history}>
                        <Pages />
                    </Router>
                </ContextProvider<Forms>>
            </QueryClientProvider>
        }
    }

    /// The body HTML of the page at `path`, rendered from `state` as of
    /// `now_ms`. Hooks read the state synchronously; nothing is fetched (a
    /// query missing from the state renders its error or loading view, and
    /// the browser fetches it).
    /// `forms` is what the page says about its forms (its idempotency key,
    /// a refused post's values and messages).
    pub async fn render(
        path: &str,
        state: DehydratedState,
        forms: FormState,
        now_ms: i64,
    ) -> String {
        let client = QueryClient::with_defaults(
            RenderPlatform::at(now_ms),
            QueryOptions {
                retry: Some(0),
                ..super::query_defaults()
            },
        );
        querent::hydration::hydrate(&client, state);
        let props = ServerAppProps {
            client,
            path: AttrValue::from(path.to_owned()),
            forms: Rc::new(forms),
        };
        yew::LocalServerRenderer::<ServerApp>::with_props(props)
            .render()
            .await
    }
}
