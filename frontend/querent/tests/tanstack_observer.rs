//! TanStack Query v5's observer scenarios (`queryObserver.test.tsx`, and
//! the `useQuery.test.tsx` ones that are the observer's behaviour), under
//! the fake clock with TanStack's defaults: each test names the one it
//! ports. The scripted server answers `{"call": n}` after 100 ms.

mod common;

use common::{key, server_error, tanstack, with};
use querent::options::{NetworkMode, keep_previous_data, placeholder_data};
use querent::{FetchStatus, QueryObserver, QueryObserverResult, QueryOptions, QueryStatus};
use serde_json::{Value, json};
use std::cell::RefCell;
use std::rc::Rc;

/// Every result the observer's listener was given.
fn recorded(observer: &QueryObserver) -> Rc<RefCell<Vec<QueryObserverResult>>> {
    let results = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&results);
    observer.subscribe(move |result| sink.borrow_mut().push(result.clone()));
    results
}

/// The query's status and fetch status.
fn statuses(client: &querent::QueryClient, k: &querent::QueryKey) -> (QueryStatus, FetchStatus) {
    let state = client.get_query_state(k).unwrap();
    (state.status, state.fetch_status)
}

fn data_of(result: &QueryObserverResult) -> Option<Value> {
    result.data.as_deref().cloned()
}

/// "should trigger a fetch when subscribed", "should go through a pending
/// state even when the queryFn returns synchronously" and "should not
/// trigger a fetch when not subscribed".
#[test]
fn an_observer_fetches_once_subscribed_and_goes_through_pending() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["todos"]));
    let observer = QueryObserver::unmounted(&client, k, server.fetcher(), QueryOptions::default());
    rt.advance(0);
    assert_eq!(server.calls(), 0, "not subscribed: no fetch");
    observer.subscribe(|_| {});
    rt.advance(0);
    assert_eq!(server.calls(), 1);
    let result = observer.result();
    assert_eq!(result.status, QueryStatus::Pending);
    assert_eq!(result.fetch_status, FetchStatus::Fetching);
    assert!(result.is_loading() && !result.is_refetching());
    assert_eq!(result.data, None);
    rt.advance(99);
    assert!(observer.result().is_loading());
    rt.advance(1);
    let result = observer.result();
    assert_eq!(result.status, QueryStatus::Success);
    assert_eq!(result.fetch_status, FetchStatus::Idle);
    assert_eq!(data_of(&result), Some(json!({"call": 1})));
    assert!(result.is_fetched && result.is_fetched_after_mount);
}

/// "should not trigger a fetch when subscribed and disabled" and "should
/// not be stale for disabled observers" (and `isEnabled`).
#[test]
fn a_disabled_observer_does_not_fetch_and_is_not_stale() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["disabled"]));
    let observer = QueryObserver::unmounted(
        &client,
        k,
        server.fetcher(),
        with(|o| o.enabled = Some(false.into())),
    );
    observer.subscribe(|_| {});
    rt.advance(200);
    assert_eq!(server.calls(), 0);
    let result = observer.result();
    assert_eq!(
        (result.status, result.fetch_status),
        (QueryStatus::Pending, FetchStatus::Idle)
    );
    assert!(!result.is_stale, "a disabled observer's data is not stale");
    assert!(!result.is_enabled);
}

/// `useQuery.test.tsx` › "should refetch if any query instance becomes
/// enabled" (the dependent-query pattern): new options with `enabled` true
/// on the same key fetch, once.
#[test]
fn enabled_turning_true_on_the_same_key_fetches() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["user", 1, "projects"]));
    let _disabled = QueryObserver::new(
        &client,
        k.clone(),
        server.fetcher(),
        with(|o| o.enabled = Some(false.into())),
        || {},
    );
    let observer = QueryObserver::unmounted(
        &client,
        k.clone(),
        server.fetcher(),
        with(|o| o.enabled = Some(false.into())),
    );
    let results = recorded(&observer);
    rt.advance(0);
    assert_eq!(server.calls(), 0);
    observer.set_options(k.clone(), server.fetcher(), QueryOptions::default());
    rt.advance(0);
    assert_eq!(server.calls(), 1, "enabled: fetched");
    observer.set_options(k, server.fetcher(), QueryOptions::default());
    rt.advance(100);
    assert_eq!(server.calls(), 1, "the same options again: no second fetch");
    assert_eq!(
        data_of(results.borrow().last().unwrap()),
        Some(json!({"call": 1}))
    );
}

/// "should notify when switching query": a new key in the options is
/// observed instead (pending, then its data).
#[test]
fn switching_the_key_notifies_pending_then_the_new_data() {
    let (client, server, mut rt) = tanstack();
    let (k1, k2) = (key(json!(["one"])), key(json!(["two"])));
    let observer = QueryObserver::unmounted(&client, k1, server.fetcher(), QueryOptions::default());
    let results = recorded(&observer);
    rt.advance(100);
    observer.set_options(k2.clone(), server.fetcher(), QueryOptions::default());
    rt.advance(100);
    let shown: Vec<(Option<Value>, QueryStatus)> = results
        .borrow()
        .iter()
        .map(|r| (data_of(r), r.status))
        .collect();
    assert_eq!(
        shown,
        vec![
            (None, QueryStatus::Pending),
            (Some(json!({"call": 1})), QueryStatus::Success),
            (None, QueryStatus::Pending),
            (Some(json!({"call": 2})), QueryStatus::Success),
        ]
    );
    assert_eq!(observer.key(), k2);
}

/// "should use placeholderData as non-cache data when pending a query with
/// no data": the placeholder shows as success, the cache never holds it.
#[test]
fn placeholder_data_shows_as_success_without_entering_the_cache() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["placeholder"]));
    let options = with(|o| o.placeholder_data = Some(placeholder_data(&"placeholder")));
    let observer = QueryObserver::unmounted(&client, k.clone(), server.fetcher(), options);
    let first = observer.result();
    assert_eq!(first.status, QueryStatus::Success);
    assert_eq!(data_of(&first), Some(json!("placeholder")));
    assert!(first.is_placeholder_data);
    let results = recorded(&observer);
    assert_eq!(client.get_query_data(&k), None, "not cached");
    rt.advance(100);
    let shown: Vec<(Option<Value>, bool)> = results
        .borrow()
        .iter()
        .map(|r| (data_of(r), r.is_placeholder_data))
        .collect();
    assert_eq!(
        shown,
        vec![
            (Some(json!("placeholder")), true),
            (Some(json!({"call": 1})), false),
        ]
    );
}

/// `useQuery.test.tsx` › "should keep the previous data when
/// placeholderData is set" (`keepPreviousData`): on a key change the old
/// key's data (the same value) shows, fetching, until the new key's
/// arrives; a key already cached shows its own data.
#[test]
fn keep_previous_data_shows_the_old_keys_data_while_the_new_key_loads() {
    let (client, server, mut rt) = tanstack();
    let options = with(|o| o.placeholder_data = Some(keep_previous_data()));
    let page = |n: i64| key(json!(["page", n]));
    let observer = QueryObserver::unmounted(&client, page(0), server.fetcher(), options.clone());
    let results = recorded(&observer);
    rt.advance(100);
    let page0 = client.get_query_data(&page(0)).unwrap();
    observer.set_options(page(1), server.fetcher(), options.clone());
    let during = observer.result();
    assert!(
        Rc::ptr_eq(during.data.as_ref().unwrap(), &page0),
        "the same value"
    );
    rt.advance(100);
    let shown: Vec<(Option<Value>, bool, bool, bool)> = results
        .borrow()
        .iter()
        .map(|r| {
            (
                data_of(r),
                r.is_fetching(),
                r.is_success(),
                r.is_placeholder_data,
            )
        })
        .collect();
    assert_eq!(
        shown,
        vec![
            (None, true, false, false),
            (Some(json!({"call": 1})), false, true, false),
            (Some(json!({"call": 1})), true, true, true),
            (Some(json!({"call": 2})), false, true, false),
        ]
    );
}

/// `useQuery.test.tsx` › "should set isFetchedAfterMount to true after a
/// query has been fetched": data cached before the observer counts as
/// fetched, not as fetched after mount, until a fetch of the observer's.
#[test]
fn is_fetched_after_mount_waits_for_a_fetch_after_the_observer_started() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["prefilled"]));
    client.set_query_data(&k, |_| Some(json!("prefetched")));
    let observer = QueryObserver::unmounted(&client, k, server.fetcher(), QueryOptions::default());
    let before = observer.result();
    assert!(before.is_fetched && !before.is_fetched_after_mount);
    observer.subscribe(|_| {});
    assert!(
        observer.result().is_refetching(),
        "stale at once: refetched"
    );
    rt.advance(100);
    assert!(observer.result().is_fetched_after_mount);
}

/// "should clear interval when unsubscribing to a refetchInterval query",
/// and new options with another interval restart it.
#[test]
fn the_interval_follows_the_options_and_stops_on_unsubscribe() {
    let (client, mut server, mut rt) = tanstack();
    server.latency_ms = 0;
    let k = key(json!(["ticker"]));
    let every = |ms: u64| {
        with(|o| {
            o.refetch_interval = Some(ms.into());
            o.gc_time = Some(0);
        })
    };
    let observer = QueryObserver::unmounted(&client, k.clone(), server.fetcher(), every(10));
    observer.subscribe(|_| {});
    rt.advance(0);
    assert_eq!(server.calls(), 1);
    rt.advance(10);
    assert_eq!(server.calls(), 2);
    observer.set_options(k.clone(), server.fetcher(), every(50));
    rt.advance(40);
    assert_eq!(server.calls(), 2, "the 10 ms interval stopped");
    rt.advance(10);
    assert_eq!(server.calls(), 3, "the 50 ms interval runs");
    observer.unsubscribe();
    rt.advance(100);
    assert_eq!(server.calls(), 3);
    assert!(client.get_query_state(&k).is_none(), "gcTime 0: collected");
}

/// A server that fails every call (a retryable 500).
fn failing(server: &common::Server, times: usize) {
    for _ in 0..times {
        server.respond(Err(server_error()));
    }
}

/// "should stop retry when unsubscribing": the attempt running when the
/// last observer leaves is the last; the query settles with its error.
#[test]
fn the_last_observer_leaving_stops_the_retries() {
    let (client, server, mut rt) = tanstack();
    failing(&server, 20);
    let k = key(json!(["retrying"]));
    let observer = QueryObserver::unmounted(
        &client,
        k.clone(),
        server.fetcher(),
        with(|o| o.retry = Some(10)),
    );
    observer.subscribe(|_| {});
    // The first attempt fails at 100 ms; the retry starts 1 s later.
    rt.advance(1150);
    assert_eq!(server.calls(), 2);
    observer.unsubscribe();
    rt.advance(60_000);
    assert_eq!(server.calls(), 2, "no retry once nobody observes");
    assert_eq!(
        statuses(&client, &k),
        (QueryStatus::Error, FetchStatus::Idle)
    );
}

/// `useQuery.test.tsx` › "should continue retries when observers unmount
/// and remount while waiting for a retry (#3031)" (retry 2): the retry
/// waiting when the observer left is not made; the observer that mounts
/// after finds the error and fetches afresh.
#[test]
fn an_observer_remounting_after_the_retries_stopped_fetches_afresh() {
    let (client, server, mut rt) = tanstack();
    failing(&server, 20);
    let k = key(json!(["3031"]));
    let options = with(|o| o.retry = Some(2));
    let first = QueryObserver::unmounted(&client, k.clone(), server.fetcher(), options.clone());
    first.subscribe(|_| {});
    rt.advance(500);
    assert_eq!(observed_failures(&first), 1);
    drop(first);
    rt.advance(650);
    let second = QueryObserver::unmounted(&client, k.clone(), server.fetcher(), options);
    second.subscribe(|_| {});
    rt.advance(10_000);
    assert!(second.result().is_error());
    assert_eq!(
        server.calls(),
        4,
        "1 before the unmount, then 1 + 2 retries"
    );
}

/// An observer that mounts while a stopped fetch waits for its retry
/// joins the fetch, and the retries go on (TanStack's `continueRetry`).
#[test]
fn an_observer_joining_a_fetch_whose_retries_stopped_lets_them_go_on() {
    let (client, server, mut rt) = tanstack();
    failing(&server, 20);
    let k = key(json!(["rejoined"]));
    let first = QueryObserver::unmounted(
        &client,
        k.clone(),
        server.fetcher(),
        QueryOptions::default(),
    );
    first.subscribe(|_| {});
    rt.advance(500);
    drop(first);
    rt.advance(100);
    let second = QueryObserver::unmounted(
        &client,
        k.clone(),
        server.fetcher(),
        QueryOptions::default(),
    );
    second.subscribe(|_| {});
    rt.advance(60_000);
    assert_eq!(server.calls(), 4, "one fetch: 1 attempt + 3 retries");
    assert!(second.result().is_error());
    assert_eq!(second.result().error_update_count, 1);
}

fn observed_failures(observer: &QueryObserver) -> u32 {
    observer.result().failure_count
}

/// `query.test.tsx` › "should cancel a paused initial fetch when the last
/// observer unsubscribes": it does not start when the network returns.
#[test]
fn a_paused_initial_fetch_is_cancelled_when_the_last_observer_leaves() {
    let (client, server, mut rt) = tanstack();
    client.set_online(false);
    let k = key(json!(["paused"]));
    let observer = QueryObserver::unmounted(
        &client,
        k.clone(),
        server.fetcher(),
        QueryOptions::default(),
    );
    observer.subscribe(|_| {});
    assert_eq!(
        statuses(&client, &k),
        (QueryStatus::Pending, FetchStatus::Paused)
    );
    observer.unsubscribe();
    assert_eq!(
        statuses(&client, &k),
        (QueryStatus::Pending, FetchStatus::Idle)
    );
    client.set_online(true);
    rt.advance(200);
    assert_eq!(server.calls(), 0);
    assert_eq!(
        statuses(&client, &k),
        (QueryStatus::Pending, FetchStatus::Idle)
    );
}

/// `useQuery.test.tsx` › "online queries should re-fetch if paused and we
/// go online even if already unmounted (because not cancelled)": a paused
/// refetch of a query with data is not cancelled; it runs when the network
/// returns.
#[test]
fn a_paused_refetch_goes_on_after_the_last_observer_leaves() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["paused-refetch"]));
    client.set_query_data(&k, |_| Some(json!("initial")));
    client.set_online(false);
    let observer = QueryObserver::unmounted(
        &client,
        k.clone(),
        server.fetcher(),
        QueryOptions::default(),
    );
    observer.subscribe(|_| {});
    assert_eq!(observer.result().fetch_status, FetchStatus::Paused);
    observer.unsubscribe();
    client.set_online(true);
    rt.advance(200);
    assert_eq!(server.calls(), 1);
    assert_eq!(
        statuses(&client, &k),
        (QueryStatus::Success, FetchStatus::Idle)
    );
}

/// `useQuery.test.tsx` › networkMode always › "always queries should start
/// fetching even if you are offline".
#[test]
fn an_always_query_fetches_while_offline() {
    let (client, server, mut rt) = tanstack();
    client.set_online(false);
    let k = key(json!(["always"]));
    let always = with(|o| o.network_mode = Some(NetworkMode::Always));
    let observer = QueryObserver::unmounted(&client, k, server.fetcher(), always);
    observer.subscribe(|_| {});
    assert!(observer.result().is_fetching() && !observer.result().is_paused());
    rt.advance(100);
    let result = observer.result();
    assert!(result.is_success() && !result.is_paused());
    assert_eq!(data_of(&result), Some(json!({"call": 1})));
}

/// › "always queries should not pause retries" (retry 1).
#[test]
fn an_always_query_retries_while_offline() {
    let (client, server, mut rt) = tanstack();
    failing(&server, 5);
    client.set_online(false);
    let k = key(json!(["always-retry"]));
    let options = with(|o| {
        o.network_mode = Some(NetworkMode::Always);
        o.retry = Some(1);
    });
    let observer = QueryObserver::unmounted(&client, k, server.fetcher(), options);
    observer.subscribe(|_| {});
    rt.advance(1200);
    let result = observer.result();
    assert!(result.is_error() && !result.is_paused());
    assert_eq!(server.calls(), 2);
}

/// networkMode offlineFirst › "offlineFirst queries should start fetching
/// if you are offline, but pause retries" (retry 2).
#[test]
fn an_offline_first_query_tries_once_offline_then_waits_to_retry() {
    let (client, server, mut rt) = tanstack();
    failing(&server, 5);
    client.set_online(false);
    let k = key(json!(["offline-first"]));
    let options = with(|o| {
        o.network_mode = Some(NetworkMode::OfflineFirst);
        o.retry = Some(2);
    });
    let observer = QueryObserver::unmounted(&client, k, server.fetcher(), options);
    observer.subscribe(|_| {});
    assert!(
        observer.result().is_fetching(),
        "the first attempt runs offline"
    );
    rt.advance(5000);
    let result = observer.result();
    assert_eq!(
        (result.status, result.fetch_status, result.failure_count),
        (QueryStatus::Pending, FetchStatus::Paused, 1)
    );
    assert_eq!(server.calls(), 1);
    client.set_online(true);
    rt.advance(5000);
    let result = observer.result();
    assert_eq!(
        (result.status, result.fetch_status, result.failure_count),
        (QueryStatus::Error, FetchStatus::Idle, 3)
    );
    assert_eq!(server.calls(), 3);
}

/// TanStack's `defaultQueryOptions`: `refetchOnReconnect` defaults to
/// false with networkMode always (it never waited for the network).
#[test]
fn an_always_query_is_not_refetched_on_reconnect() {
    let (client, server, mut rt) = tanstack();
    let always = with(|o| o.network_mode = Some(NetworkMode::Always));
    let online = QueryObserver::unmounted(&client, key(json!(["a"])), server.fetcher(), always);
    let plain = QueryObserver::unmounted(
        &client,
        key(json!(["b"])),
        server.fetcher(),
        QueryOptions::default(),
    );
    online.subscribe(|_| {});
    plain.subscribe(|_| {});
    rt.advance(100);
    assert_eq!(server.calls(), 2);
    client.set_online(false);
    client.set_online(true);
    rt.advance(100);
    let asked: Vec<_> = server.calls.borrow()[2..]
        .iter()
        .map(|c| c.0.clone())
        .collect();
    assert_eq!(asked, vec![key(json!(["b"]))], "only the online-mode query");
}

/// An offline-first refetch whose retry waits for the network stops when
/// its last observer leaves (TanStack's `canContinue` needs the network for
/// retries; `cancelRetry` then ends it).
#[test]
fn an_offline_first_retry_waiting_for_the_network_stops_when_the_observer_leaves() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["offline-first-retry"]));
    client.set_query_data(&k, |_| Some(json!("cached")));
    server.respond(Err(querent::QueryError::network("offline")));
    client.set_online(false);
    let options = with(|o| o.network_mode = Some(NetworkMode::OfflineFirst));
    let observer = QueryObserver::unmounted(&client, k.clone(), server.fetcher(), options);
    observer.subscribe(|_| {});
    rt.advance(5000);
    assert_eq!(server.calls(), 1, "the first attempt ran offline");
    assert_eq!(observer.result().fetch_status, FetchStatus::Paused);
    observer.unsubscribe();
    client.set_online(true);
    rt.advance(60_000);
    assert_eq!(server.calls(), 1, "no retry once nobody observes");
    assert_eq!(client.get_query_data(&k).as_deref(), Some(&json!("cached")));
}

/// Turning `refetch_interval_in_background` on in a later render restarts
/// the interval, which then runs while the window is hidden.
#[test]
fn refetch_interval_in_background_follows_the_options() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["interval-bg"]));
    let every = |in_background| {
        with(|o| {
            o.refetch_interval = Some(1000.into());
            o.refetch_interval_in_background = Some(in_background);
        })
    };
    let observer = QueryObserver::unmounted(&client, k.clone(), server.fetcher(), every(false));
    observer.subscribe(|_| {});
    rt.advance(100);
    client.set_focused(false);
    rt.advance(2500);
    assert_eq!(server.calls(), 1, "hidden: the interval waits");
    observer.set_options(k, server.fetcher(), every(true));
    rt.advance(1150);
    assert_eq!(server.calls(), 2, "in the background now");
}

/// `queryObserver.test.tsx` › "should notify listeners when
/// notifyOnChangeProps is a function returning props that changed" and
/// "...that did not change": with `['data']`, a refetch that brings new data
/// is heard, one that brings the same data is not (though `is_fetching`
/// went true and back).
#[test]
fn notify_on_change_props_hears_only_of_the_listed_parts() {
    for (answer, heard) in [("new data", 1), ("data", 0)] {
        let (client, _server, mut rt) = tanstack();
        let k = key(json!(["notify"]));
        client.set_query_data(&k, |_| Some(json!("data")));
        let platform = client.platform();
        let fetcher: querent::Fetcher = Rc::new(move |_| {
            let sleep = platform.sleep(10);
            Box::pin(async move {
                sleep.await;
                Ok(json!(answer))
            })
        });
        let options = QueryOptions {
            stale_time: Some(querent::options::StaleTime::INFINITY),
            ..QueryOptions::default()
        };
        let observer = QueryObserver::unmounted(&client, k.clone(), fetcher, options);
        observer.set_notify_on_change_props(Some(&[querent::ResultProp::Data]));
        let calls = Rc::new(RefCell::new(0));
        let counted = Rc::clone(&calls);
        observer.subscribe(move |_| *counted.borrow_mut() += 1);
        *calls.borrow_mut() = 0;
        drop(observer.refetch());
        rt.advance(10);
        assert_eq!(*calls.borrow(), heard, "answer {answer:?}");
    }
}
