//! The browser platform (feature `web`): timers and tasks on the JS event
//! loop, `window.localStorage` as persistence [`Storage`], and the page's
//! connectivity, visibility and other tabs' writes fed to a [`QueryClient`].
//!
//! ```no_run
//! use querent::QueryClient;
//! use querent::persist::PersistOptions;
//! use querent::web::{self, WebPlatform};
//!
//! let client = QueryClient::new(WebPlatform::default());
//! // Keep both alive as long as the app runs (dropping detaches them).
//! let signals = web::connect(&client);
//! let (restored, persistence) = web::persist_to_local_storage(
//!     &client,
//!     PersistOptions { buster: "v1".into(), ..Default::default() },
//! );
//! # drop((signals, restored, persistence));
//! ```
//!
//! Nothing here panics when the browser withholds something (no window, no
//! localStorage in a sandboxed iframe or with storage blocked): the feature
//! degrades and the reason goes to [`Platform::warn`].

use crate::client::QueryClient;
use crate::persist::{
    self, MemoryStorage, PersistHandle, PersistOptions, Restored, Storage, StorageError,
};
use crate::platform::Platform;
use futures::future::LocalBoxFuture;
use gloo_events::EventListener;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::VisibilityState;

/// [`Platform`] on the browser's event loop: `Date.now()`, `spawn_local`,
/// `setTimeout`, `Math.random()` and `console.warn`. Create it with
/// `WebPlatform::default()`.
#[derive(Debug, Clone, Default)]
pub struct WebPlatform {
    // Room for settings later without breaking `WebPlatform::default()`.
    _private: (),
}

/// `setTimeout` takes a signed 32-bit delay; anything larger fires at once.
const MAX_TIMEOUT_MS: u64 = i32::MAX as u64;

impl Platform for WebPlatform {
    fn now_ms(&self) -> i64 {
        // Whole milliseconds since the epoch: exact in an f64.
        js_sys::Date::now() as i64
    }

    fn spawn(&self, task: LocalBoxFuture<'static, ()>) {
        wasm_bindgen_futures::spawn_local(task);
    }

    fn sleep(&self, ms: u64) -> LocalBoxFuture<'static, ()> {
        // Clamped to ~24.8 days: `setTimeout` treats longer delays (and
        // `u32` values above `i32::MAX`, which wrap negative) as 0.
        let ms = ms.min(MAX_TIMEOUT_MS) as u32;
        Box::pin(gloo_timers::future::TimeoutFuture::new(ms))
    }

    fn random_u64(&self) -> u64 {
        // Two 32-bit halves; `Math.random()` carries at least 32 good bits.
        let half = || (js_sys::Math::random() * 4_294_967_296.0) as u64 & 0xffff_ffff;
        (half() << 32) | half()
    }

    fn warn(&self, message: &str) {
        web_sys::console::warn_1(&JsValue::from_str(message));
    }
}

/// `window.localStorage` as a persistence [`Storage`].
///
/// When the page has no localStorage (storage blocked, sandboxed iframe, no
/// window) every call fails with [`StorageError::Unavailable`] and
/// [`Storage::remove`] does nothing.
#[derive(Debug, Clone)]
pub struct LocalStorage {
    storage: Result<web_sys::Storage, String>,
}

impl LocalStorage {
    /// The page's localStorage, looked up once.
    pub fn new() -> Self {
        let storage = match web_sys::window() {
            None => Err("no window".to_owned()),
            Some(window) => match window.local_storage() {
                Ok(Some(storage)) => Ok(storage),
                Ok(None) => Err("window.localStorage is null".to_owned()),
                Err(e) => Err(format!("window.localStorage threw {}", describe(&e))),
            },
        };
        Self { storage }
    }

    /// Whether the page has a localStorage at all (writes may still fail
    /// when it is full).
    pub fn is_available(&self) -> bool {
        self.storage.is_ok()
    }

    fn storage(&self) -> Result<&web_sys::Storage, StorageError> {
        self.storage
            .as_ref()
            .map_err(|why| StorageError::Unavailable(why.clone()))
    }
}

impl Default for LocalStorage {
    fn default() -> Self {
        Self::new()
    }
}

impl Storage for LocalStorage {
    fn get(&self, key: &str) -> Result<Option<String>, StorageError> {
        self.storage()?
            .get_item(key)
            .map_err(|e| StorageError::Unavailable(format!("getItem threw {}", describe(&e))))
    }

    fn set(&self, key: &str, value: &str) -> Result<(), StorageError> {
        self.storage()?
            .set_item(key, value)
            .map_err(|e| storage_error(&e))
    }

    fn remove(&self, key: &str) {
        if let Ok(storage) = self.storage() {
            // Only fails when the storage went away: nothing left to remove.
            let _ = storage.remove_item(key);
        }
    }
}

/// Maps what `setItem` threw: the quota errors of every engine
/// (`QuotaExceededError`, legacy code 22, Firefox's
/// `NS_ERROR_DOM_QUOTA_REACHED` / code 1014) to
/// [`StorageError::QuotaExceeded`], anything else to `Unavailable`.
fn storage_error(thrown: &JsValue) -> StorageError {
    let name = js_sys::Reflect::get(thrown, &JsValue::from_str("name"))
        .ok()
        .and_then(|v| v.as_string());
    let code = js_sys::Reflect::get(thrown, &JsValue::from_str("code"))
        .ok()
        .and_then(|v| v.as_f64());
    let quota = matches!(
        name.as_deref(),
        Some("QuotaExceededError" | "NS_ERROR_DOM_QUOTA_REACHED")
    ) || matches!(code, Some(c) if c == 22.0 || c == 1014.0);
    if quota {
        StorageError::QuotaExceeded
    } else {
        StorageError::Unavailable(format!("setItem threw {}", describe(thrown)))
    }
}

/// `name: message` of a thrown value, or its string form.
pub(crate) fn describe(thrown: &JsValue) -> String {
    if let Some(exception) = thrown.dyn_ref::<web_sys::DomException>() {
        return format!("{}: {}", exception.name(), exception.message());
    }
    if let Some(error) = thrown.dyn_ref::<js_sys::Error>() {
        return format!(
            "{}: {}",
            String::from(error.name()),
            String::from(error.message())
        );
    }
    thrown.as_string().unwrap_or_else(|| format!("{thrown:?}"))
}

/// Whether the document is visible (no document counts as visible).
fn document_visible() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_none_or(|d| d.visibility_state() == VisibilityState::Visible)
}

/// The page's connectivity and visibility listeners feeding a
/// [`QueryClient`] (from [`connect`]); dropping it detaches them.
#[must_use = "dropping BrowserSignals detaches the listeners"]
pub struct BrowserSignals {
    listeners: Vec<EventListener>,
}

impl std::fmt::Debug for BrowserSignals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrowserSignals")
            .field("listeners", &self.listeners.len())
            .finish()
    }
}

/// Tells `client` whether the browser is online (`navigator.onLine`) and
/// whether the page is visible (`document.visibilityState`), now and on
/// every window `online` / `offline` and document `visibilitychange` event,
/// for as long as the returned [`BrowserSignals`] lives.
pub fn connect(client: &QueryClient) -> BrowserSignals {
    let Some(window) = web_sys::window() else {
        client
            .platform()
            .warn("querent::web::connect: no window; online and focus are not tracked");
        return BrowserSignals { listeners: vec![] };
    };
    client.set_online(window.navigator().on_line());
    client.set_focused(document_visible());
    let mut listeners = Vec::with_capacity(3);
    for (event, online) in [("online", true), ("offline", false)] {
        let client = client.clone();
        listeners.push(EventListener::new(&window, event, move |_| {
            client.set_online(online);
        }));
    }
    if let Some(document) = window.document() {
        let client = client.clone();
        listeners.push(EventListener::new(
            &document,
            "visibilitychange",
            move |_| {
                client.set_focused(document_visible());
            },
        ));
    }
    BrowserSignals { listeners }
}

/// The cache persisted to localStorage (from [`persist_to_local_storage`]);
/// dropping it stops the writes and detaches its listeners.
#[must_use = "dropping WebPersistence stops persisting"]
pub struct WebPersistence {
    handle: Rc<PersistHandle>,
    _listeners: Vec<EventListener>,
}

impl WebPersistence {
    /// Writes now if anything changed since the last write (done on page
    /// hide already).
    pub fn flush(&self) {
        self.handle.flush();
    }

    /// How many writes reached the storage.
    pub fn writes(&self) -> u64 {
        self.handle.writes()
    }
}

impl std::fmt::Debug for WebPersistence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebPersistence")
            .field("writes", &self.writes())
            .finish_non_exhaustive()
    }
}

/// Restores the cache from localStorage under `options.storage_key`
/// ([`persist::restore`]) and keeps it saved there ([`persist::persist`]):
/// throttled writes, plus a flush on window `pagehide` and when the document
/// becomes hidden. Another tab's writes to the key (window `storage` events)
/// are adopted, newer queries winning ([`persist::adopt_external`]).
///
/// Without localStorage this warns once and keeps the cache in memory only.
pub fn persist_to_local_storage(
    client: &QueryClient,
    options: PersistOptions,
) -> (Restored, WebPersistence) {
    let local = LocalStorage::new();
    let (restored, storage): (Restored, Rc<dyn Storage>) = match &local.storage {
        Ok(_) => (
            persist::restore(client, &local, &options),
            Rc::new(local.clone()),
        ),
        Err(why) => {
            client.platform().warn(&format!(
                "localStorage unavailable ({why}): the cache is not persisted"
            ));
            (Restored::Nothing, Rc::new(MemoryStorage::default()))
        }
    };
    let handle = Rc::new(persist::persist(client, storage, options.clone()));
    let mut listeners = Vec::with_capacity(3);
    if let (Some(window), true) = (web_sys::window(), local.is_available()) {
        let flush = Rc::clone(&handle);
        listeners.push(EventListener::new(&window, "pagehide", move |_| {
            flush.flush();
        }));
        if let Some(document) = window.document() {
            let flush = Rc::clone(&handle);
            listeners.push(EventListener::new(
                &document,
                "visibilitychange",
                move |_| {
                    if !document_visible() {
                        flush.flush();
                    }
                },
            ));
        }
        let client = client.clone();
        listeners.push(EventListener::new(&window, "storage", move |event| {
            let Some(event) = event.dyn_ref::<web_sys::StorageEvent>() else {
                return;
            };
            if event.key().as_deref() != Some(options.storage_key.as_str()) {
                return;
            }
            // `None`: the other tab removed the record; what we hold stays.
            if let Some(text) = event.new_value() {
                persist::adopt_external(&client, &text, &options);
            }
        }));
    }
    (
        restored,
        WebPersistence {
            handle,
            _listeners: listeners,
        },
    )
}

/// Tab sync over the `BroadcastChannel` `name` ([`crate::broadcast`]): every
/// tab of the origin that opened the same channel gets this tab's new query
/// data and the removals of queries in use, and this tab theirs. Without
/// `BroadcastChannel` this warns and syncs through storage events only.
pub fn broadcast(client: &QueryClient, name: &str) -> Option<WebBroadcast> {
    let channel = match web_sys::BroadcastChannel::new(name) {
        Ok(channel) => channel,
        Err(why) => {
            client.platform().warn(&format!(
                "BroadcastChannel unavailable ({why:?}): tabs sync through storage only"
            ));
            return None;
        }
    };
    struct Post(web_sys::BroadcastChannel);
    impl crate::broadcast::Channel for Post {
        fn post(&self, message: &str) {
            let _ = self.0.post_message(&JsValue::from_str(message));
        }
    }
    let sync = Rc::new(crate::broadcast::connect(
        client,
        Rc::new(Post(channel.clone())),
    ));
    let receiving = Rc::clone(&sync);
    let listener = EventListener::new(&channel, "message", move |event| {
        if let Some(text) = event
            .dyn_ref::<web_sys::MessageEvent>()
            .and_then(|m| m.data().as_string())
        {
            receiving.receive(&text);
        }
    });
    Some(WebBroadcast {
        channel,
        _sync: sync,
        _listener: listener,
    })
}

/// Tab sync over a `BroadcastChannel`, while it lives ([`broadcast`]).
pub struct WebBroadcast {
    channel: web_sys::BroadcastChannel,
    _sync: Rc<crate::broadcast::Broadcast>,
    _listener: EventListener,
}

impl Drop for WebBroadcast {
    fn drop(&mut self) {
        self.channel.close();
    }
}
