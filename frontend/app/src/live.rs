//! Live updates: the server's event stream applied to the cache, so every
//! open tab shows other clients' writes without polling.
//!
//! Two transports carry the same events with the same ids: server-sent
//! events (`/api/events`) and a WebSocket (`/api/events/ws`). The page names
//! the one to try first (`<meta name="live-transport">`, from the backend's
//! `--live-transport`); SSE is the default.
//!
//! One loop drives both, so they behave alike:
//! - every event's id is remembered, and every (re)connection resumes from
//!   the highest id received (`?last_event_id=N`), so a dropped connection
//!   loses nothing; the first connection resumes from the id the page was
//!   rendered at (`<meta name="live-last-event-id">`), so neither do writes
//!   made while the app was starting; a `resync` (too far behind)
//!   invalidates everything;
//! - a connection that fails before it opens falls back to the other
//!   transport at once (a proxy that buffers event streams or refuses
//!   WebSocket upgrades); when both fail, the next round waits with
//!   exponential backoff (0.5 s doubling to 30 s, jittered) and starts again
//!   with the preferred one;
//! - a connection that drops after opening reconnects after the shortest
//!   backoff; the browser coming back online reconnects at once.
//!
//! `EventSource`'s own reconnect is not used (it would retry at a fixed
//! interval and never fall back): on its first error the source is closed
//! and the loop takes over.
//!
//! The transport in use is shown as `data-live` on `<html>`: `sse`,
//! `websocket` or `connecting`.
//!
//! Leaving the page (`pagehide`) closes the connection; coming back to it
//! from the back/forward cache (`pageshow`) connects again. Otherwise a page
//! kept in that cache keeps its event stream open: a browser allows six
//! connections per host over HTTP/1.1, so after a few page loads in a row
//! the next page's requests waited for seconds (seen in the browser suite:
//! a sign-out's request stalled past 20 s).
//!
//! Both are the browser's own objects behind `web-sys` (as `EventSource`
//! already was) rather than gloo-net's WebSocket wrapper: the loop needs only
//! the callbacks both share, and the wrapper's futures channels and `Sink`
//! would add code to the wasm for nothing.

use crate::cache;
use gloo_events::EventListener;
use querent::QueryClient;
use querent::retryer::Backoff;
use shared::{EventKind, ServerEvent};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::JsCast;
use web_sys::{EventSource, MessageEvent, WebSocket};

/// A way to receive server events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    Sse,
    WebSocket,
}

/// The content of `<meta name="{name}">`.
fn meta(name: &str) -> Option<String> {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| {
            d.query_selector(&format!("meta[name='{name}']"))
                .ok()
                .flatten()
        })
        .and_then(|m| m.get_attribute("content"))
}

impl Transport {
    /// The transport the page names (SSE when it names none or an unknown one).
    fn from_page() -> Self {
        match meta("live-transport").as_deref() {
            Some("websocket") => Self::WebSocket,
            _ => Self::Sse,
        }
    }

    fn other(self) -> Self {
        match self {
            Self::Sse => Self::WebSocket,
            Self::WebSocket => Self::Sse,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Sse => "sse",
            Self::WebSocket => "websocket",
        }
    }
}

/// The named events of the SSE stream (a WebSocket message carries its
/// kind in the JSON).
const SSE_EVENTS: [&str; 6] = EventKind::NAMES;

/// The wait before reconnecting: 0.5 s doubling to 30 s.
const RECONNECT: Backoff = Backoff {
    base_ms: 500,
    max_ms: 30_000,
};

/// Applies one event to the cache (through the same functions as the
/// mutations' answers).
pub(crate) fn apply(client: &QueryClient, event: ServerEvent) {
    match event.kind {
        EventKind::PostCreated(post) => cache::post_created(client, &post),
        EventKind::PostUpdated(post) => cache::post_updated(client, &post),
        EventKind::PostDeleted { id, user_id } => cache::post_deleted(client, id, user_id),
        EventKind::CommentCreated(comment) => cache::comment_created(client, &comment),
        EventKind::UserUpdated(user) => cache::user_updated(client, &user),
        EventKind::Resync => drop(client.invalidate_queries(&querent::QueryKey::all())),
    }
}

/// The browser object of one connection.
enum Socket {
    Sse(EventSource),
    WebSocket(WebSocket),
}

impl Socket {
    fn close(&self) {
        match self {
            Self::Sse(source) => source.close(),
            Self::WebSocket(socket) => {
                let _ = socket.close();
            }
        }
    }

    fn target(&self) -> &web_sys::EventTarget {
        match self {
            Self::Sse(source) => source,
            Self::WebSocket(socket) => socket,
        }
    }
}

/// One connection attempt and its listeners.
struct Connection {
    socket: Socket,
    transport: Transport,
    opened: bool,
    _listeners: Vec<EventListener>,
}

struct Loop {
    client: QueryClient,
    preferred: Transport,
    /// The highest event id received, or the page's (`None`: neither; the
    /// stream then starts with what happens next).
    last_id: Option<i64>,
    conn: Option<Connection>,
    /// A closed connection whose listener may still be running; dropped
    /// when the next attempt starts (never inside its own callback).
    retired: Option<Connection>,
    /// The current round already tried the other transport.
    fell_back: bool,
    /// Rounds in a row in which neither transport opened.
    failed_rounds: u32,
    /// Bumped to cancel a scheduled attempt.
    generation: u32,
    stopped: bool,
    /// The page is hidden in the back/forward cache: no connection.
    away: bool,
}

/// The live connection; dropping it closes it and stops reconnecting.
pub(crate) struct LiveUpdates {
    state: Rc<RefCell<Loop>>,
    _listeners: [EventListener; 3],
}

impl Drop for LiveUpdates {
    fn drop(&mut self) {
        let mut state = self.state.borrow_mut();
        state.stopped = true;
        state.generation = state.generation.wrapping_add(1);
        for conn in [state.conn.take(), state.retired.take()]
            .into_iter()
            .flatten()
        {
            conn.socket.close();
        }
    }
}

/// Starts the live connection with the transport the page names.
pub(crate) fn connect(client: &QueryClient) -> Option<LiveUpdates> {
    let window = web_sys::window()?;
    let state = Rc::new(RefCell::new(Loop {
        client: client.clone(),
        preferred: Transport::from_page(),
        // The page's data is as of this event: resume from it, so writes
        // made while the app was starting still arrive.
        last_id: meta("live-last-event-id").and_then(|id| id.parse().ok()),
        conn: None,
        retired: None,
        fell_back: false,
        failed_rounds: 0,
        generation: 0,
        stopped: false,
        away: false,
    }));
    let weak = Rc::downgrade(&state);
    let online = EventListener::new(&window, "online", move |_| {
        let Some(state) = weak.upgrade() else { return };
        let idle = {
            let mut s = state.borrow_mut();
            s.failed_rounds = 0;
            s.conn.is_none()
        };
        if idle {
            schedule(&state, 0.0);
        }
    });
    let weak = Rc::downgrade(&state);
    let hide = EventListener::new(&window, "pagehide", move |_| {
        let Some(state) = weak.upgrade() else { return };
        let mut s = state.borrow_mut();
        s.away = true;
        s.generation = s.generation.wrapping_add(1);
        if let Some(conn) = s.conn.take() {
            conn.socket.close();
            s.retired = Some(conn);
        }
    });
    let weak = Rc::downgrade(&state);
    let show_again = EventListener::new(&window, "pageshow", move |_| {
        let Some(state) = weak.upgrade() else { return };
        let back = {
            let mut s = state.borrow_mut();
            let back = s.away;
            s.away = false;
            s.failed_rounds = 0;
            back && s.conn.is_none()
        };
        if back {
            schedule(&state, 0.0);
        }
    });
    let preferred = state.borrow().preferred;
    open(&state, preferred);
    Some(LiveUpdates {
        state,
        _listeners: [online, hide, show_again],
    })
}

fn show(status: &str) {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("data-live", status);
    }
}

/// `/api/events…` for `transport`, resuming after `last_id`.
fn url(transport: Transport, last_id: Option<i64>) -> Option<String> {
    let resume = last_id.map_or_else(String::new, |id| format!("?last_event_id={id}"));
    match transport {
        Transport::Sse => Some(crate::api::url(&format!("/api/events{resume}"))),
        Transport::WebSocket => {
            // ws/wss from the API's origin (or the page's).
            let base = crate::api::base();
            let origin = if base.is_empty() {
                web_sys::window()?.location().origin().ok()?
            } else {
                base
            };
            let (secure, host) = match origin.split_once("://") {
                Some(("https", host)) => (true, host.to_owned()),
                Some((_, host)) => (false, host.to_owned()),
                None => (false, origin),
            };
            let scheme = if secure { "wss" } else { "ws" };
            Some(format!("{scheme}://{host}/api/events/ws{resume}"))
        }
    }
}

/// Opens a connection over `transport`.
fn open(state: &Rc<RefCell<Loop>>, transport: Transport) {
    let last_id = {
        let mut s = state.borrow_mut();
        if s.stopped || s.away {
            return;
        }
        drop(s.retired.take());
        s.last_id
    };
    show("connecting");
    let socket = url(transport, last_id).and_then(|url| match transport {
        Transport::Sse => EventSource::new(&url).ok().map(Socket::Sse),
        Transport::WebSocket => WebSocket::new(&url).ok().map(Socket::WebSocket),
    });
    let Some(socket) = socket else {
        // The browser lacks it (or refused the URL): as a failed attempt.
        failed(state, false);
        return;
    };
    let weak = Rc::downgrade(state);
    let target = socket.target();
    // A WebSocket reports every end with `close`; an `EventSource` only
    // with `error`.
    let (ended, messages): (&str, &[&str]) = match transport {
        Transport::Sse => ("error", &SSE_EVENTS),
        Transport::WebSocket => ("close", &["message"]),
    };
    let mut listeners = vec![
        listen(target, "open", &weak, |state, _| opened(state)),
        listen(target, ended, &weak, |state, _| dropped(state)),
    ];
    for name in messages {
        listeners.push(listen(target, name, &weak, |state, event| {
            if let Some(text) = event
                .dyn_ref::<MessageEvent>()
                .and_then(|m| m.data().as_string())
            {
                received(state, &text);
            }
        }));
    }
    state.borrow_mut().conn = Some(Connection {
        socket,
        transport,
        opened: false,
        _listeners: listeners,
    });
}

/// Listens for `name` on `target` while the loop exists.
fn listen(
    target: &web_sys::EventTarget,
    name: &str,
    weak: &Weak<RefCell<Loop>>,
    f: impl Fn(&Rc<RefCell<Loop>>, &web_sys::Event) + 'static,
) -> EventListener {
    let weak = weak.clone();
    EventListener::new(target, name.to_owned(), move |event| {
        if let Some(state) = weak.upgrade() {
            f(&state, event);
        }
    })
}

fn opened(state: &Rc<RefCell<Loop>>) {
    let mut s = state.borrow_mut();
    let Some(conn) = s.conn.as_mut() else { return };
    conn.opened = true;
    let transport = conn.transport;
    s.fell_back = false;
    s.failed_rounds = 0;
    drop(s);
    show(transport.name());
}

fn received(state: &Rc<RefCell<Loop>>, text: &str) {
    let event = match querent::json::parse::<ServerEvent>(text) {
        Ok(event) => event,
        Err(e) => {
            web_sys::console::warn_1(&format!("ignoring a server event: {e}").into());
            return;
        }
    };
    let client = {
        let mut s = state.borrow_mut();
        // A resync has no id of its own (0): the next resume still starts
        // after the last event really received.
        if event.id > 0 {
            s.last_id = Some(s.last_id.map_or(event.id, |last| last.max(event.id)));
        }
        s.client.clone()
    };
    apply(&client, event);
}

/// The connection ended or could not be made.
fn dropped(state: &Rc<RefCell<Loop>>) {
    let was_open = {
        let mut s = state.borrow_mut();
        let Some(conn) = s.conn.take() else { return };
        conn.socket.close();
        let was_open = conn.opened;
        s.retired = Some(conn);
        was_open
    };
    failed(state, was_open);
}

/// Decides what comes after an ended attempt.
fn failed(state: &Rc<RefCell<Loop>>, was_open: bool) {
    let (next, delay) = {
        let mut s = state.borrow_mut();
        if was_open {
            s.fell_back = false;
            (s.preferred, backoff(0))
        } else if !s.fell_back {
            s.fell_back = true;
            let other = s.preferred.other();
            web_sys::console::info_1(
                &format!(
                    "live updates: {} did not connect; trying {}",
                    s.preferred.name(),
                    other.name()
                )
                .into(),
            );
            (other, 0.0)
        } else {
            s.fell_back = false;
            s.failed_rounds = s.failed_rounds.saturating_add(1);
            (s.preferred, backoff(s.failed_rounds))
        }
    };
    show("connecting");
    schedule_transport(state, next, delay);
}

/// Milliseconds to wait after `failed_rounds` rounds in a row failed
/// (jittered, so tabs reconnecting after a server restart spread out).
fn backoff(failed_rounds: u32) -> f64 {
    RECONNECT.jittered_ms(failed_rounds, js_sys::Math::random()) as f64
}

/// A new round with the preferred transport after `delay_ms`.
fn schedule(state: &Rc<RefCell<Loop>>, delay_ms: f64) {
    let preferred = {
        let mut s = state.borrow_mut();
        s.fell_back = false;
        s.preferred
    };
    schedule_transport(state, preferred, delay_ms);
}

fn schedule_transport(state: &Rc<RefCell<Loop>>, transport: Transport, delay_ms: f64) {
    let generation = {
        let mut s = state.borrow_mut();
        s.generation = s.generation.wrapping_add(1);
        s.generation
    };
    let weak: Weak<RefCell<Loop>> = Rc::downgrade(state);
    // Forgotten rather than kept: a stale timer checks the generation and
    // does nothing, so no timer is ever dropped inside its own callback.
    gloo_timers::callback::Timeout::new(delay_ms as u32, move || {
        let Some(state) = weak.upgrade() else { return };
        let current = {
            let s = state.borrow();
            s.generation == generation && s.conn.is_none()
        };
        if current {
            open(&state, transport);
        }
    })
    .forget();
}
