//! The browser layer in headless Chromium (`cargo test -p querent --features
//! web --target wasm32-unknown-unknown`, runner and webdriver.json set up in
//! `.cargo/config.toml` and beside this crate): localStorage persistence,
//! quota, online/offline and visibility events, other tabs' writes.
//!
//! The tests share one page and run one at a time; each starts by clearing
//! localStorage and undoes the overrides it makes.

#![cfg(all(target_arch = "wasm32", feature = "web"))]

use futures::future::{self, Either, LocalBoxFuture};
use gloo_timers::future::TimeoutFuture;
use querent::persist::{PersistOptions, Restored, Storage, StorageError};
use querent::web::{self, LocalStorage, WebPlatform};
use querent::{Platform, QueryClient, QueryKey};
use serde_json::{Value, json};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// [`WebPlatform`] that also keeps the warnings.
#[derive(Clone, Default)]
struct Recorder {
    web: WebPlatform,
    warnings: Rc<RefCell<Vec<String>>>,
}

impl Recorder {
    fn warnings(&self) -> Vec<String> {
        self.warnings.borrow().clone()
    }
}

impl Platform for Recorder {
    fn now_ms(&self) -> i64 {
        self.web.now_ms()
    }
    fn spawn(&self, task: LocalBoxFuture<'static, ()>) {
        self.web.spawn(task);
    }
    fn sleep(&self, ms: u64) -> LocalBoxFuture<'static, ()> {
        self.web.sleep(ms)
    }
    fn random_u64(&self) -> u64 {
        self.web.random_u64()
    }
    fn warn(&self, message: &str) {
        self.warnings.borrow_mut().push(message.to_owned());
        self.web.warn(message);
    }
}

fn client() -> (QueryClient, Recorder) {
    let recorder = Recorder::default();
    (QueryClient::new(recorder.clone()), recorder)
}

fn key(parts: Value) -> QueryKey {
    serde_json::from_value(parts).expect("a JSON array")
}

fn options(storage_key: &str, throttle_ms: u64) -> PersistOptions {
    PersistOptions {
        storage_key: storage_key.into(),
        buster: "v1".into(),
        throttle_ms,
        ..Default::default()
    }
}

/// The page's real localStorage.
fn storage() -> web_sys::Storage {
    web_sys::window()
        .expect("a window")
        .local_storage()
        .expect("localStorage readable")
        .expect("localStorage present")
}

fn stored(storage_key: &str) -> Option<String> {
    storage().get_item(storage_key).expect("getItem")
}

/// Runs `body` as a JS function of `args` (comma-separated names).
fn js(args: &str, body: &str, values: &[JsValue]) -> JsValue {
    let function = js_sys::Function::new_with_args(args, body);
    let values: js_sys::Array = values.iter().collect();
    function
        .apply(&JsValue::NULL, &values)
        .unwrap_or_else(|e| panic!("JS `{body}` threw {e:?}"))
}

fn dispatch_on_window(event: &str) {
    js(
        "name",
        "window.dispatchEvent(new Event(name))",
        &[event.into()],
    );
}

/// Makes `document.visibilityState` report `state` (`None`: the real one
/// again) and fires `visibilitychange`.
fn set_visibility(state: Option<&str>) {
    js(
        "state",
        "if (state === null) { delete document.visibilityState; } \
         else { Object.defineProperty(document, 'visibilityState', \
                { configurable: true, get: () => state }); } \
         document.dispatchEvent(new Event('visibilitychange'));",
        &[state.map_or(JsValue::NULL, JsValue::from_str)],
    );
}

fn dispatch_storage_event(storage_key: &str, new_value: &str) {
    js(
        "k, v",
        "window.dispatchEvent(new StorageEvent('storage', { key: k, newValue: v }))",
        &[storage_key.into(), new_value.into()],
    );
}

async fn sleep(ms: u32) {
    TimeoutFuture::new(ms).await;
}

/// Waits up to `ms` for `done`, checking every 10 ms.
async fn eventually(ms: u32, done: impl Fn() -> bool) -> bool {
    for _ in 0..ms / 10 {
        if done() {
            return true;
        }
        sleep(10).await;
    }
    done()
}

/// A record as another tab of the same app version would write it.
fn record(queries: &[(Value, Value, i64)], now: i64) -> String {
    let queries: Vec<Value> = queries
        .iter()
        .map(|(key, data, at)| {
            json!({"key": key, "state": {"status": "success", "data": data, "updated_at": at}})
        })
        .collect();
    json!({
        "timestamp": now,
        "buster": "v1",
        "client_state": {"version": 1, "queries": queries},
    })
    .to_string()
}

/// Fills localStorage with `prefix<n>` keys until not even 16 more
/// characters fit.
fn fill(prefix: &str) -> Vec<String> {
    let storage = storage();
    let mut keys = vec![];
    let mut chunk = 1 << 20;
    while chunk >= 16 {
        assert!(
            keys.len() < 500,
            "localStorage took 500 fillers and is not full"
        );
        let key = format!("{prefix}{}", keys.len());
        if storage.set_item(&key, &"x".repeat(chunk)).is_ok() {
            keys.push(key);
        } else {
            chunk /= 2;
        }
    }
    keys
}

#[wasm_bindgen_test]
async fn the_platform_keeps_time_sleeps_spawns_and_draws() {
    let platform = WebPlatform::default();
    let before = js_sys::Date::now() as i64;
    let now = platform.now_ms();
    assert!((before..before + 1000).contains(&now), "{now} vs {before}");

    let started = platform.now_ms();
    platform.sleep(30).await;
    assert!(platform.now_ms() - started >= 25, "slept 30 ms");

    // A delay beyond setTimeout's range must not wrap to "now".
    let far = platform.sleep(u64::MAX);
    match future::select(far, Box::pin(sleep(50))).await {
        Either::Left(_) => panic!("sleep(u64::MAX) finished at once"),
        Either::Right(_) => {}
    }

    let ran = Rc::new(Cell::new(false));
    let flag = Rc::clone(&ran);
    platform.spawn(Box::pin(async move { flag.set(true) }));
    assert!(eventually(200, || ran.get()).await, "spawned task ran");

    let draws: Vec<u64> = (0..8).map(|_| platform.random_u64()).collect();
    let mut distinct = draws.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), draws.len(), "{draws:?}");
    assert!(
        draws.iter().any(|d| d >> 32 != 0),
        "high halves drawn: {draws:?}"
    );
    assert!(
        draws.iter().any(|d| d & 0xffff_ffff != 0),
        "low halves drawn: {draws:?}"
    );
}

#[wasm_bindgen_test]
async fn the_cache_round_trips_through_local_storage() {
    storage().clear().unwrap();
    let opts = options("querent-test-roundtrip", 20);

    let (first, first_rec) = client();
    let (restored, persistence) = web::persist_to_local_storage(&first, opts.clone());
    assert_eq!(restored, Restored::Nothing);
    first.set_query_data(&key(json!(["post", 1])), |_| {
        Some(json!({"title": "hello"}))
    });
    first.set_query_data(&key(json!(["users"])), |_| Some(json!([1, 2])));
    assert!(
        eventually(1000, || persistence.writes() == 1).await,
        "one throttled write, got {}",
        persistence.writes()
    );
    sleep(60).await;
    assert_eq!(persistence.writes(), 1, "two changes, one write");
    let text = stored("querent-test-roundtrip").expect("written to localStorage");
    assert!(text.contains("hello"), "{text}");

    let (second, second_rec) = client();
    let (restored, _p2) = web::persist_to_local_storage(&second, opts);
    assert_eq!(
        restored,
        Restored::Adopted {
            queries: 2,
            mutations: 0
        }
    );
    assert_eq!(
        *second.get_query_data(&key(json!(["post", 1]))).unwrap(),
        json!({"title": "hello"})
    );
    assert_eq!(
        *second.get_query_data(&key(json!(["users"]))).unwrap(),
        json!([1, 2])
    );
    assert_eq!(
        second
            .get_query_state(&key(json!(["users"])))
            .unwrap()
            .data_updated_at,
        first
            .get_query_state(&key(json!(["users"])))
            .unwrap()
            .data_updated_at,
        "original fetch time kept"
    );
    assert_eq!(first_rec.warnings(), Vec::<String>::new());
    assert_eq!(second_rec.warnings(), Vec::<String>::new());
    drop(persistence);
    storage().clear().unwrap();
}

#[wasm_bindgen_test]
async fn page_hide_and_hiding_the_page_flush_before_the_throttle() {
    storage().clear().unwrap();
    let (client, _rec) = client();
    let (_, persistence) =
        web::persist_to_local_storage(&client, options("querent-test-hide", 60_000));
    client.set_query_data(&key(json!(["n"])), |_| Some(json!("first")));
    sleep(20).await;
    assert_eq!(stored("querent-test-hide"), None, "throttled: nothing yet");

    dispatch_on_window("pagehide");
    let text = stored("querent-test-hide").expect("flushed on pagehide");
    assert!(text.contains("first"), "{text}");

    client.set_query_data(&key(json!(["n"])), |_| Some(json!("second")));
    set_visibility(Some("visible"));
    assert!(
        !stored("querent-test-hide").unwrap().contains("second"),
        "visible again: no flush"
    );
    set_visibility(Some("hidden"));
    let text = stored("querent-test-hide").unwrap();
    set_visibility(None);
    assert!(text.contains("second"), "flushed when hidden: {text}");
    assert_eq!(persistence.writes(), 2);

    // Detached once dropped.
    drop(persistence);
    client.set_query_data(&key(json!(["n"])), |_| Some(json!("third")));
    dispatch_on_window("pagehide");
    assert!(!stored("querent-test-hide").unwrap().contains("third"));
    storage().clear().unwrap();
}

#[wasm_bindgen_test]
async fn a_full_storage_evicts_the_oldest_queries_or_warns() {
    storage().clear().unwrap();
    // 100 000 characters of room, the rest filled up.
    storage().set_item("room", &"r".repeat(100_000)).unwrap();
    let fillers = fill("filler-");
    assert!(!fillers.is_empty());
    // While full, LocalStorage reports the quota.
    assert_eq!(
        LocalStorage::new().set("probe", &"p".repeat(1000)),
        Err(StorageError::QuotaExceeded)
    );
    storage().remove_item("room").unwrap();

    let (client, rec) = client();
    let (_, persistence) =
        web::persist_to_local_storage(&client, options("querent-test-quota", 60_000));
    // Ten queries of 30 000 characters, q0 the oldest: only three fit.
    let now = client.now();
    for i in 0..10 {
        client.set_query_data_at(
            &key(json!(["q", i])),
            |_| Some(json!("q".repeat(30_000))),
            now - 10_000 + i * 100,
        );
    }
    persistence.flush();
    assert_eq!(
        persistence.writes(),
        1,
        "the write succeeded after evicting"
    );
    let text = stored("querent-test-quota").expect("written");
    let record: Value = serde_json::from_str(&text).unwrap();
    let kept: Vec<&Value> = record["client_state"]["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| &q["key"][1])
        .collect();
    assert_eq!(kept, [&json!(7), &json!(8), &json!(9)], "the newest kept");
    assert_eq!(rec.warnings(), Vec::<String>::new());

    // No room at all, not even for an empty record: a warning, no hang.
    storage().remove_item("querent-test-quota").unwrap();
    let more = fill("filler2-");
    client.set_query_data(&key(json!(["q", 10])), |_| Some(json!("last")));
    persistence.flush();
    assert_eq!(persistence.writes(), 1);
    assert_eq!(stored("querent-test-quota"), None);
    let warnings = rec.warnings();
    assert!(
        warnings.len() == 1 && warnings[0].contains("QuotaExceeded"),
        "{warnings:?}"
    );

    for filler in fillers.iter().chain(&more) {
        storage().remove_item(filler).unwrap();
    }
    drop(persistence);
    storage().clear().unwrap();
}

#[wasm_bindgen_test]
fn local_storage_maps_set_item_errors() {
    storage().clear().unwrap();
    let local = LocalStorage::new();
    assert!(local.is_available());
    local.set("k", "v").unwrap();
    assert_eq!(local.get("k"), Ok(Some("v".to_owned())));
    local.remove("k");
    assert_eq!(local.get("k"), Ok(None));

    // Make setItem throw what other engines and situations throw.
    let throwing = |thrown: &str| {
        js(
            "thrown",
            "if (!Storage.prototype.__realSetItem) { \
                 Storage.prototype.__realSetItem = Storage.prototype.setItem; } \
             Storage.prototype.setItem = function () { throw eval(thrown); };",
            &[thrown.into()],
        );
        let result = local.set("k", "v");
        js(
            "",
            "Storage.prototype.setItem = Storage.prototype.__realSetItem; \
             delete Storage.prototype.__realSetItem;",
            &[],
        );
        result
    };
    assert_eq!(
        throwing("new DOMException('full', 'QuotaExceededError')"),
        Err(StorageError::QuotaExceeded)
    );
    assert_eq!(
        throwing("({ name: 'NS_ERROR_DOM_QUOTA_REACHED', code: 1014 })"),
        Err(StorageError::QuotaExceeded)
    );
    assert_eq!(
        throwing("({ name: 'Error', code: 22 })"),
        Err(StorageError::QuotaExceeded)
    );
    match throwing("new DOMException('denied', 'SecurityError')") {
        Err(StorageError::Unavailable(message)) => {
            assert!(message.contains("SecurityError"), "{message}");
        }
        other => panic!("SecurityError gave {other:?}"),
    }
    match throwing("new TypeError('odd')") {
        Err(StorageError::Unavailable(message)) => assert!(message.contains("odd"), "{message}"),
        other => panic!("TypeError gave {other:?}"),
    }
    // The real setItem is back.
    local.set("k", "v").unwrap();
    storage().clear().unwrap();
}

#[wasm_bindgen_test]
fn without_local_storage_everything_is_unavailable_and_nothing_panics() {
    storage().clear().unwrap();
    for getter in [
        "() => { throw new DOMException('blocked', 'SecurityError'); }",
        "() => null",
    ] {
        js(
            "getter",
            "window.__realLocalStorage = \
                 { own: Object.getOwnPropertyDescriptor(window, 'localStorage') }; \
             Object.defineProperty(window, 'localStorage', \
                 { configurable: true, get: eval(getter) });",
            &[getter.into()],
        );
        let local = LocalStorage::new();
        let (client, rec) = client();
        let (restored, persistence) =
            web::persist_to_local_storage(&client, options("querent-test-none", 0));
        client.set_query_data(&key(json!(["n"])), |_| Some(json!(1)));
        persistence.flush();
        js(
            "",
            "const real = window.__realLocalStorage.own; \
             if (real) { Object.defineProperty(window, 'localStorage', real); } \
             else { delete window.localStorage; } \
             delete window.__realLocalStorage;",
            &[],
        );

        assert!(!local.is_available(), "{getter}");
        assert!(
            matches!(local.get("k"), Err(StorageError::Unavailable(_))),
            "{getter}"
        );
        assert!(
            matches!(local.set("k", "v"), Err(StorageError::Unavailable(_))),
            "{getter}"
        );
        local.remove("k");
        assert_eq!(restored, Restored::Nothing);
        let warnings = rec.warnings();
        assert!(
            warnings.len() == 1 && warnings[0].contains("localStorage unavailable"),
            "{getter}: {warnings:?}"
        );
        assert_eq!(persistence.writes(), 1, "kept in memory");
    }
    // The real one is back and untouched.
    assert!(LocalStorage::new().is_available());
    assert_eq!(stored("querent-test-none"), None);
}

#[wasm_bindgen_test]
fn online_and_offline_events_reach_the_client() {
    let (client, _rec) = client();
    client.set_online(false);
    let signals = web::connect(&client);
    let navigator_online = web_sys::window().unwrap().navigator().on_line();
    assert_eq!(client.is_online(), navigator_online, "read at connect");

    dispatch_on_window("offline");
    assert!(!client.is_online());
    dispatch_on_window("online");
    assert!(client.is_online());
    dispatch_on_window("offline");
    assert!(!client.is_online());

    drop(signals);
    dispatch_on_window("online");
    assert!(!client.is_online(), "detached once dropped");
}

#[wasm_bindgen_test]
fn visibility_changes_reach_the_client() {
    let (client, _rec) = client();
    set_visibility(Some("hidden"));
    let signals = web::connect(&client);
    assert!(!client.is_focused(), "read at connect");

    set_visibility(Some("visible"));
    assert!(client.is_focused());
    set_visibility(Some("hidden"));
    assert!(!client.is_focused());

    drop(signals);
    set_visibility(Some("visible"));
    let after_drop = client.is_focused();
    set_visibility(None);
    assert!(!after_drop, "detached once dropped");
}

#[wasm_bindgen_test]
async fn other_tabs_writes_are_adopted_when_newer() {
    storage().clear().unwrap();
    let storage_key = "querent-test-tabs";
    let (client, rec) = client();
    let (_, persistence) = web::persist_to_local_storage(&client, options(storage_key, 60_000));
    let now = client.now();
    let post = key(json!(["post", 1]));
    client.set_query_data_at(&post, |_| Some(json!({"title": "old"})), now - 10_000);
    let title = || client.get_query_data(&post).unwrap()["title"].clone();

    let newer = record(&[(json!(["post", 1]), json!({"title": "new"}), now)], now);
    dispatch_storage_event("another-key", &newer);
    assert_eq!(title(), "old", "other keys are ignored");
    let other_version = newer.replace("\"v1\"", "\"v0\"");
    dispatch_storage_event(storage_key, &other_version);
    assert_eq!(title(), "old", "other app versions are ignored");
    let older = record(
        &[(json!(["post", 1]), json!({"title": "older"}), now - 20_000)],
        now,
    );
    dispatch_storage_event(storage_key, &older);
    assert_eq!(title(), "old", "older data loses");
    dispatch_storage_event(storage_key, &newer);
    assert_eq!(title(), "new", "newer data from another tab wins");

    // A real write from another document of this origin.
    let from_frame = record(&[(json!(["post", 2]), json!({"title": "frame"}), now)], now);
    js(
        "k, v",
        "const frame = document.createElement('iframe'); \
         document.body.appendChild(frame); \
         frame.contentWindow.localStorage.setItem(k, v); \
         frame.remove();",
        &[storage_key.into(), from_frame.into()],
    );
    let post2 = key(json!(["post", 2]));
    assert!(
        eventually(2000, || client.get_query_data(&post2).is_some()).await,
        "the storage event from the iframe's write arrived"
    );
    assert_eq!(client.get_query_data(&post2).unwrap()["title"], "frame");
    assert_eq!(rec.warnings(), Vec::<String>::new());
    drop(persistence);
    storage().clear().unwrap();
}

/// The fetch context's signal in the browser (`AbortSignal::web`): the
/// `AbortSignal` a fetcher hands to `fetch` is aborted when the query's
/// fetch is cancelled, so the request stops too.
#[wasm_bindgen_test]
async fn a_cancelled_fetch_aborts_the_browsers_signal() {
    let (client, _) = client();
    let handed: Rc<RefCell<Option<web_sys::AbortSignal>>> = Rc::default();
    let seen = Rc::clone(&handed);
    let fetcher: querent::Fetcher = Rc::new(move |ctx| {
        *seen.borrow_mut() = ctx.signal().web();
        Box::pin(async {
            TimeoutFuture::new(10_000).await;
            Ok(json!("late"))
        })
    });
    let k = key(json!(["aborted"]));
    drop(client.fetch_query(&k, fetcher, querent::QueryOptions::default()));
    sleep(0).await;
    let browser = handed
        .borrow()
        .clone()
        .expect("the fetcher got a browser signal");
    assert!(!browser.aborted());
    client.cancel_queries_with(&querent::filters::QueryFilters::all());
    assert!(browser.aborted(), "cancelling the fetch aborts the request");
}

/// The asynchronous persister on a real IndexedDB: what one client stored
/// a new client restores through a connection of its own (as after a
/// reload), with the original fetch times; the per-query persister's
/// entries are listed and collected there too.
#[wasm_bindgen_test]
async fn the_cache_round_trips_through_indexed_db() {
    use querent::async_persist::{self, AsyncStorage};
    use querent::idb::IdbStorage;
    let name = "querent-test-idb-roundtrip";
    let storage = IdbStorage::open(name);
    for (k, _) in storage.entries().await.unwrap() {
        storage.remove_item(&k).await.unwrap();
    }
    let opts = options("querent-cache", 20);

    let (first, first_rec) = client();
    let handle = async_persist::persist(&first, Rc::new(storage.clone()), opts.clone());
    first.set_query_data(&key(json!(["post", 1])), |_| {
        Some(json!({"title": "hello"}))
    });
    first.set_query_data(&key(json!(["users"])), |_| Some(json!([1, 2])));
    assert!(
        eventually(2000, || handle.writes() == 1).await,
        "one throttled write, got {}",
        handle.writes()
    );
    drop(handle);
    assert!(stored("querent-cache").is_none(), "not in localStorage");

    let (second, second_rec) = client();
    let reopened = IdbStorage::open(name);
    let restored = async_persist::restore(&second, &reopened, &opts).await;
    assert_eq!(
        restored,
        Restored::Adopted {
            queries: 2,
            mutations: 0
        }
    );
    assert_eq!(
        *second.get_query_data(&key(json!(["post", 1]))).unwrap(),
        json!({"title": "hello"})
    );
    assert_eq!(
        second
            .get_query_state(&key(json!(["users"])))
            .unwrap()
            .data_updated_at,
        first
            .get_query_state(&key(json!(["users"])))
            .unwrap()
            .data_updated_at,
        "original fetch time kept"
    );
    let entries = reopened.entries().await.unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].0, "querent-cache");
    assert_eq!(first_rec.warnings(), Vec::<String>::new());
    assert_eq!(second_rec.warnings(), Vec::<String>::new());
    reopened.remove_item("querent-cache").await.unwrap();
    assert_eq!(reopened.get_item("querent-cache").await.unwrap(), None);
}
