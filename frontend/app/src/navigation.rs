//! Navigation the way TanStack Router runs it: the address changes at once,
//! but the page on screen stays until the new route's loader has its
//! `ensure` data (its `prefetch` and `deferred` queries start and never
//! block). Meanwhile the progress bar runs; past the route's `pending_ms`
//! its pending view (the page with skeletons, see [`use_route_pending`])
//! shows instead, and stays at least `pending_min_ms` so it never flashes.
//! Data already in the cache (fresh or not, as `ensureQueryData`) swaps the
//! page at once (the next render, in the same scheduler run): no frame of
//! skeleton. A newer navigation
//! supersedes an older one, whose result never shows. A loader that fails
//! shows the route anyway: its views read the failure from the cache (the
//! error view, or "not found" for a missing post, as on a direct load).
//!
//! Links, `navigator.push`, back and forward all arrive here the same way,
//! as a change of the route in the address bar.
//!
//! Scroll: a new navigation starts at the top of the page (or at the
//! element its `#fragment` names); back and forward return to where that
//! entry was left, once its page shows (the browser's own restoration would
//! scroll the page that is still on screen, so it is switched off).
//!
//! Blocking (TanStack Router's `useBlocker` with `shouldBlockFn`): while a
//! view says it holds unsaved input ([`use_blocker`]), leaving asks first:
//! a link, back and forward (refused: the address goes back to the page),
//! and closing or reloading the tab (the browser's own prompt).
//!
//! [`use_router`] re-runs the current route's loader (TanStack's
//! `router.invalidate()`): what the error views' "Try again" does.

use crate::queries;
use crate::router::settled_failure_is_fresh;
use querent::QueryClient;
use querent::yew::use_query_client;
use shared::{Loader, Route};
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

/// TanStack Router's `defaultPendingMs`: how long a navigation may wait
/// before the route's pending view replaces the current page.
pub(crate) const DEFAULT_PENDING_MS: u64 = 1_000;
/// TanStack Router's `defaultPendingMinMs`: how long a pending view, once
/// shown, stays.
pub(crate) const DEFAULT_PENDING_MIN_MS: u64 = 500;

/// What the router shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shown {
    /// The route on screen (not always the one in the address bar).
    pub(crate) route: Route,
    /// It is the route's pending view: its loader still runs.
    pub(crate) pending: bool,
    /// Counts the routes shown, so a new showing of the same route is told
    /// from a re-render.
    pub(crate) showing: u64,
}

/// The router as the views see it (one context, provided around the page).
#[derive(Clone, PartialEq)]
pub(crate) struct Router {
    /// The page is its route's pending view: its loader still runs.
    pub(crate) pending: bool,
    /// Re-runs the loader of the route on screen: its `ensure` queries
    /// without data (a failed one) are fetched again, its other queries
    /// fetched when missing or stale (TanStack's `router.invalidate()`).
    pub(crate) invalidate: Callback<()>,
}

/// Whether the page is its route's pending view: the views of the route's
/// `ensure` data show their skeleton then, even if the data has come (the
/// pending view stays its minimum time).
#[hook]
pub(crate) fn use_route_pending() -> bool {
    use_router().pending
}

/// The router's commands.
#[hook]
pub(crate) fn use_router() -> Router {
    use_context::<Router>().unwrap_or_else(|| Router {
        pending: false,
        invalidate: Callback::noop(),
    })
}

/// The [`Router`] for what is shown.
#[hook]
pub(crate) fn use_router_for(shown: Shown) -> Router {
    let client = use_query_client();
    let invalidate = use_callback((client, shown.route), |(), (client, route)| {
        // The views follow the fetches; nobody waits for them here.
        drop(run_loader(client, *route));
    });
    Router {
        pending: shown.pending,
        invalidate,
    }
}

/// Starts the loader of `route`: every key it needs, fetched where missing
/// (an `ensure` key) or missing or stale (the others). The `ensure` keys'
/// answers, to await (dropping them leaves the fetches running).
fn run_loader(
    client: &QueryClient,
    route: Route,
) -> Vec<impl Future<Output = Result<Rc<serde_json::Value>, querent::QueryError>> + 'static> {
    let loader = route.loader();
    // The critical requests first.
    let loads = loader
        .ensure
        .iter()
        .map(|key| {
            let (key, fetcher, options) = queries::spec(*key);
            client.ensure_query_data(&key, fetcher, options)
        })
        .collect();
    crate::router::prefetch_keys(client, &loader.non_blocking_keys());
    loads
}

struct State {
    /// The route in the address bar that the latest navigation goes to.
    target: Route,
    shown: Shown,
    /// When the pending view of `target` showed (platform ms).
    pending_since: Option<i64>,
    /// Bumped per navigation: a load finishing for an older one is ignored.
    generation: u64,
}

/// The route to show for the one in the address bar (`location`), loading
/// what it needs first.
#[hook]
pub(crate) fn use_awaited_route(location: Route) -> Shown {
    let client = use_query_client();
    let state = use_mut_ref(|| {
        // A first page rendered here without its data (a static host)
        // runs its loader as a navigation does: its pending view until the
        // `ensure` data is in, so its views never suspend on the first
        // render (components mounted as a suspended view resumed could miss
        // their queries' updates: a static host's deep link stayed without
        // comments about one load in four). Offline (the service worker's
        // copy of another page) the data comes from the persisted cache,
        // restored after the first render, not from the loader: as before.
        let first_pending =
            location != Route::NotFound && !ready(&client, &location.loader()) && browser_online();
        State {
            target: if first_pending {
                Route::NotFound
            } else {
                location
            },
            shown: Shown {
                route: location,
                pending: first_pending,
                showing: 0,
            },
            pending_since: None,
            generation: 0,
        }
    });
    let rerender = use_force_update();
    {
        let state = Rc::clone(&state);
        use_effect_with(location, move |&location| {
            navigate(&client, &state, location, &rerender);
        });
    }
    state.borrow().shown
}

pub(crate) use blocking::use_blocker;

/// Whether the browser says it is online (never on the server, which
/// renders only what it loaded).
#[cfg(not(feature = "ssr"))]
fn browser_online() -> bool {
    web_sys::window().is_some_and(|w| w.navigator().on_line())
}

#[cfg(feature = "ssr")]
fn browser_online() -> bool {
    false
}

/// Whether every `ensure` key of the loader can render now: its data is
/// cached, or it failed for good a moment ago (the view shows that).
fn ready(client: &QueryClient, loader: &Loader) -> bool {
    loader.ensure.iter().all(|key| {
        let key = querent::QueryKey::of(key);
        client.get_query_data(&key).is_some() || settled_failure_is_fresh(client, &key)
    })
}

fn show(state: &RefCell<State>, route: Route, pending: bool) {
    let mut s = state.borrow_mut();
    s.shown = Shown {
        route,
        pending,
        showing: s.shown.showing + 1,
    };
}

fn navigate(
    client: &QueryClient,
    state: &Rc<RefCell<State>>,
    to: Route,
    rerender: &UseForceUpdateHandle,
) {
    if state.borrow().target == to {
        return; // the first render, or a refused one undone
    }
    // Back or forward away from unsaved input, refused: the address goes
    // back to the page on screen, which stays.
    if let Some(delta) = history::moved()
        && !blocking::may_leave()
    {
        history::undo(delta);
        return;
    }
    let generation = {
        let mut s = state.borrow_mut();
        s.target = to;
        s.generation += 1;
        s.pending_since = None;
        s.generation
    };
    let loader = to.loader();
    if ready(client, &loader) {
        crate::router::prefetch_keys(client, &loader.non_blocking_keys());
        show(state, to, false);
        rerender.force_update();
        return;
    }
    let platform = client.platform();
    let loads = run_loader(client, to);
    let pending_ms = loader.pending_ms.unwrap_or(DEFAULT_PENDING_MS);
    let min_ms = loader.pending_min_ms.unwrap_or(DEFAULT_PENDING_MIN_MS);
    let current = {
        let state = Rc::clone(state);
        move || state.borrow().generation == generation
    };
    {
        let (state, rerender, current) = (Rc::clone(state), rerender.clone(), current.clone());
        let (sleep, now) = (platform.sleep(pending_ms), Rc::clone(&platform));
        platform.spawn(Box::pin(async move {
            sleep.await;
            if current() && state.borrow().shown.route != to {
                state.borrow_mut().pending_since = Some(now.now_ms());
                show(&state, to, true);
                rerender.force_update();
            }
        }));
    }
    let (state, rerender) = (Rc::clone(state), rerender.clone());
    let timers = Rc::clone(&platform);
    platform.spawn(Box::pin(async move {
        for load in loads {
            // A failure shows too: the route's views read it from the cache.
            let _ = load.await;
        }
        let since = state.borrow().pending_since;
        if let Some(since) = since.filter(|_| current()) {
            let left = since + i64::try_from(min_ms).unwrap_or(i64::MAX) - timers.now_ms();
            if let Ok(left @ 1..) = u64::try_from(left) {
                timers.sleep(left).await;
            }
        }
        if current() {
            show(&state, to, false);
            rerender.force_update();
        }
    }));
}

/// The history entries of this tab: each is stamped with its index in
/// `history.state` (TanStack Router's `__TSR_index`), so a back or forward
/// knows how far it went, and the offset each was left at is kept by index.
pub(crate) mod history {
    use std::cell::{Cell, RefCell};
    use wasm_bindgen::{JsCast, JsValue};

    thread_local! {
        /// `(index, scroll offset)` of the entries shown in this tab.
        static OFFSETS: RefCell<Vec<(i64, f64)>> = const { RefCell::new(Vec::new()) };
        /// The entry whose page is on screen: scrolling belongs to it
        /// (none while a pending view stands in for a page seen before).
        static SHOWN: Cell<Option<i64>> = const { Cell::new(None) };
        /// The index of the entry the address was at, last seen.
        static AT: Cell<i64> = const { Cell::new(0) };
    }

    const STORAGE_KEY: &str = "history-offsets";
    const INDEX: &str = "querent_index";
    const MAX_ENTRIES: usize = 200;

    fn history() -> Option<web_sys::History> {
        web_sys::window()?.history().ok()
    }

    /// The current entry's index: stamped before, or (a new entry) stamped
    /// now. A push makes the new entry the last one, so its index is the
    /// history's length less one (also right for a replace at the end, and
    /// for the entry of a page load).
    fn index() -> Option<(i64, bool)> {
        let history = history()?;
        let state = history.state().ok()?;
        let stamped = js_sys::Reflect::get(&state, &JsValue::from_str(INDEX))
            .ok()
            .and_then(|v| v.as_f64());
        if let Some(index) = stamped {
            return Some((index as i64, true));
        }
        let index = i64::from(history.length().ok()?) - 1;
        // gloo's state keeps its fields; ours is added beside them.
        let state = if state.is_object() {
            state
        } else {
            js_sys::Object::new().into()
        };
        let _ = js_sys::Reflect::set(
            &state,
            &JsValue::from_str(INDEX),
            &JsValue::from(index as f64),
        );
        let _ = history.replace_state(&state, "");
        Some((index, false))
    }

    fn offset_of(index: i64) -> Option<f64> {
        OFFSETS.with_borrow(|o| o.iter().find(|(i, _)| *i == index).map(|(_, y)| *y))
    }

    fn remember(index: i64, y: f64) {
        OFFSETS.with_borrow_mut(|offsets| {
            offsets.retain(|(i, _)| *i != index);
            offsets.push((index, y));
            if offsets.len() > MAX_ENTRIES {
                offsets.remove(0);
            }
        });
    }

    fn session_storage() -> Option<web_sys::Storage> {
        web_sys::window()?.session_storage().ok()?
    }

    /// Takes scrolling over from the browser (which would restore a
    /// position on the page still on screen), returns this entry to its
    /// offset when the page was reloaded or reached by back/forward from
    /// another document, and records offsets from now on. For the life of
    /// the page.
    pub(crate) fn start() -> Vec<gloo_events::EventListener> {
        let Some(window) = web_sys::window() else {
            return Vec::new();
        };
        if let Some(history) = history() {
            let _ = history.set_scroll_restoration(web_sys::ScrollRestoration::Manual);
        }
        // Stored as `[[index, y], …]`, read by hand (no derived decoder).
        let saved: Vec<(i64, f64)> = session_storage()
            .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
            .and_then(|json| serde_json::from_str::<serde_json::Value>(&json).ok())
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|e| Some((e.get(0)?.as_i64()?, e.get(1)?.as_f64()?)))
            .collect();
        OFFSETS.with_borrow_mut(|offsets| *offsets = saved);
        if let Some((here, _)) = index() {
            AT.set(here);
            SHOWN.set(Some(here));
            let returned = window
                .performance()
                .and_then(|p| {
                    p.get_entries_by_type("navigation")
                        .get(0)
                        .dyn_into::<web_sys::PerformanceNavigationTiming>()
                        .ok()
                })
                .is_some_and(|n| {
                    matches!(
                        n.type_(),
                        web_sys::NavigationType::Reload | web_sys::NavigationType::BackForward
                    )
                });
            match offset_of(here).filter(|_| returned) {
                Some(y) => window.scroll_to_with_x_and_y(0.0, y),
                None => {
                    // A page opened anew: what came after it is gone.
                    forget_from(here);
                    remember(here, window.scroll_y().unwrap_or(0.0));
                }
            }
        }
        let on_scroll = gloo_events::EventListener::new(&window, "scroll", |_| {
            let y = web_sys::window().and_then(|w| w.scroll_y().ok());
            if let (Some(index), Some(y)) = (SHOWN.get(), y) {
                remember(index, y);
            }
        });
        let on_hide = gloo_events::EventListener::new(&window, "pagehide", |_| {
            let json = OFFSETS.with_borrow(|offsets| {
                let rows: Vec<serde_json::Value> = offsets
                    .iter()
                    .map(|(i, y)| serde_json::json!([i, y]))
                    .collect();
                serde_json::Value::from(rows).to_string()
            });
            if let Some(storage) = session_storage() {
                let _ = storage.set_item(STORAGE_KEY, &json);
            }
        });
        vec![on_scroll, on_hide]
    }

    /// The address moved (seen once per change): how far, when it moved to
    /// an entry of this tab's history seen before (back, forward); `None`
    /// for a new entry.
    pub(crate) fn moved() -> Option<i64> {
        let (index, seen) = index()?;
        if !seen {
            // A new entry: the ones after the entry it was made from are
            // gone, and their offsets with them.
            forget_from(index);
        }
        let delta = index - AT.replace(index);
        (seen && delta != 0).then_some(delta)
    }

    fn forget_from(index: i64) {
        OFFSETS.with_borrow_mut(|offsets| offsets.retain(|(i, _)| *i < index));
    }

    /// Undoes a back or forward of `delta` entries (refused).
    pub(crate) fn undo(delta: i64) {
        AT.set(AT.get() - delta);
        if let Some(history) = history() {
            let _ = history.go_with_delta(i32::try_from(-delta).unwrap_or(0));
        }
    }

    /// A route was shown for the entry in the address bar (`ready`: with its
    /// data, not its pending view). An entry seen before (back, forward)
    /// returns where it was left once its page is there; a new one starts
    /// at the top, and at its fragment's element once its page is there.
    pub(crate) fn route_shown(ready: bool) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let Some((index, _)) = index() else {
            return;
        };
        let known = offset_of(index);
        if !ready {
            // A pending view: no offset of it is anyone's to keep.
            SHOWN.set(None);
            if known.is_none() {
                window.scroll_to_with_x_and_y(0.0, 0.0);
            }
            return;
        }
        SHOWN.set(Some(index));
        if let Some(y) = known {
            window.scroll_to_with_x_and_y(0.0, y);
            return;
        }
        let fragment = window
            .location()
            .hash()
            .ok()
            .filter(|h| h.len() > 1)
            .and_then(|h| window.document()?.get_element_by_id(&h[1..]));
        match fragment {
            Some(element) => element.scroll_into_view(),
            None => window.scroll_to_with_x_and_y(0.0, 0.0),
        }
        remember(index, window.scroll_y().unwrap_or(0.0));
    }
}

/// Views that hold unsaved input, and asking before leaving them.
pub(crate) mod blocking {
    use std::cell::{Cell, RefCell};
    use yew::prelude::*;

    thread_local! {
        /// Each mounted blocker that blocks now.
        static BLOCKING: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
        static NEXT: Cell<u64> = const { Cell::new(0) };
        /// The `beforeunload` listener, there only while something blocks
        /// (a page with one is kept out of some browsers' back/forward
        /// cache).
        static UNLOAD: RefCell<Option<gloo_events::EventListener>> = const { RefCell::new(None) };
    }

    /// What the question says.
    const QUESTION: &str = "Leave this page? What you typed here is not saved.";

    /// While `should_block` (the view holds unsaved input), leaving the page
    /// asks first (TanStack Router's `useBlocker({ shouldBlockFn })`): a
    /// link or back/forward through [`may_leave`], closing, reloading or
    /// leaving the app by a page load through the browser's own prompt.
    #[hook]
    pub(crate) fn use_blocker(should_block: bool) {
        let id = *use_memo((), |()| {
            let id = NEXT.get();
            NEXT.set(id + 1);
            id
        });
        use_effect_with(should_block, move |&block| {
            if block {
                BLOCKING.with_borrow_mut(|b| b.push(id));
                guard_unload();
            }
            move || {
                BLOCKING.with_borrow_mut(|b| b.retain(|i| *i != id));
                guard_unload();
            }
        });
    }

    fn blocked() -> bool {
        BLOCKING.with_borrow(|b| !b.is_empty())
    }

    /// The `beforeunload` listener while something blocks, none otherwise.
    fn guard_unload() {
        let wanted = blocked();
        UNLOAD.with_borrow_mut(|listener| {
            if wanted == listener.is_some() {
                return;
            }
            *listener = wanted.then(web_sys::window).flatten().map(|window| {
                // Not passive (gloo's default): the listener cancels it.
                gloo_events::EventListener::new_with_options(
                    &window,
                    "beforeunload",
                    gloo_events::EventListenerOptions::enable_prevent_default(),
                    |event| event.prevent_default(),
                )
            });
        });
    }

    /// Whether the page may be left: nothing unsaved, or the person said
    /// yes.
    pub(crate) fn may_leave() -> bool {
        !blocked()
            || web_sys::window()
                .and_then(|w| w.confirm_with_message(QUESTION).ok())
                .unwrap_or(true)
    }
}
