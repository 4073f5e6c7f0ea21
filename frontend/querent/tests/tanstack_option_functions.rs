//! TanStack Query v5's scenarios for the option forms beyond a plain value:
//! `staleTime: 'static'` and `staleTime` / `enabled` / `refetchInterval` as
//! functions of the query, and `skipToken` (`queryClient.test.tsx`,
//! `queryObserver.test.tsx`, `useQuery.test.tsx`), under the fake clock
//! with TanStack's defaults. Each test names the ones it ports.

mod common;

use common::{key, server_error, tanstack, with};
use querent::filters::{QueryFilters, RefetchOptions, RefetchType};
use querent::options::{Enabled, RefetchInterval, StaleTime, skip_token};
use querent::{FetchStatus, QueryObserver, QueryObserverResult, QueryOptions, QueryStatus};
use serde_json::{Value, json};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

fn recorded(observer: &QueryObserver) -> Rc<RefCell<Vec<QueryObserverResult>>> {
    let results = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&results);
    observer.subscribe(move |result| sink.borrow_mut().push(result.clone()));
    results
}

fn data_of(result: &QueryObserverResult) -> Option<Value> {
    result.data.as_deref().cloned()
}

fn static_() -> QueryOptions {
    with(|o| o.stale_time = Some(StaleTime::Static))
}

/// `queryClient.test.tsx` › "query with static staleTime": "should return
/// the cached query data if the query is found", "... and cached query
/// data is falsy", "should call queryFn and return its results if the
/// query is not found", "should not fetch when initialData is provided".
#[test]
fn fetch_query_answers_static_data_from_the_cache() {
    let (client, server, mut rt) = tanstack();
    let found = key(json!(["static", "id"]));
    client.set_query_data(&found, |_| Some(json!("bar")));
    let data = rt.block_on(client.fetch_query(&found, server.fetcher(), static_()));
    assert_eq!(*data.unwrap(), json!("bar"));
    let falsy = key(json!(["static", "falsy"]));
    client.set_query_data(&falsy, |_| Some(Value::Null));
    let data = rt.block_on(client.fetch_query(&falsy, server.fetcher(), static_()));
    assert_eq!(*data.unwrap(), Value::Null);
    assert_eq!(server.calls(), 0, "cached static data is never fetched");

    let missing = key(json!(["static", "missing"]));
    let data = rt.block_on(client.fetch_query(&missing, server.fetcher(), static_()));
    assert_eq!(*data.unwrap(), json!({"call": 1}));
    assert_eq!(server.calls(), 1, "no data: fetched");

    let initial = key(json!(["static", "initial"]));
    let options = with(|o| {
        o.stale_time = Some(StaleTime::Static);
        o.initial_data = Some(querent::options::initial_data(&"initial"));
    });
    let data = rt.block_on(client.fetch_query(&initial, server.fetcher(), options));
    assert_eq!(*data.unwrap(), json!("initial"));
    assert_eq!(server.calls(), 1);
}

/// `queryClient.test.tsx` › refetchQueries "should not refetch static
/// queries", and the same for `invalidateQueries` (which refetches through
/// it): the static query is not even stale once invalidated.
#[test]
fn refetch_and_invalidate_pass_static_queries_by() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["todos"]));
    rt.block_on(client.fetch_query(&k, server.fetcher(), QueryOptions::default()))
        .unwrap();
    assert_eq!(server.calls(), 1);
    let observer = QueryObserver::unmounted(&client, k.clone(), server.fetcher(), static_());
    observer.subscribe(|_| {});
    rt.advance(0);
    rt.block_on(client.refetch_queries(QueryFilters::all(), RefetchOptions::default()));
    assert_eq!(server.calls(), 1, "refetch_queries skips a static query");
    rt.block_on(client.invalidate_queries_with(
        QueryFilters::key(&json!(["todos"])),
        RefetchType::All,
        RefetchOptions::default(),
    ));
    rt.advance(1000);
    assert_eq!(server.calls(), 1, "invalidation does not refetch it either");
    assert!(
        !observer.result().is_stale,
        "static: not stale even invalidated"
    );
    rt.block_on(observer.refetch()).unwrap();
    assert_eq!(server.calls(), 2, "an explicit refetch still fetches");
}

/// `queryObserver.test.tsx` › "should not see queries as stale is
/// staleTime is Static", "should not refetchOnMount when staleTime is
/// static and refetchOnMount is always" (the `'always'` of a mount does
/// not reach static data), and "should not refetchOnWindowFocus when
/// staleTime is static and query has background error".
#[test]
fn static_data_is_never_stale_and_never_refetched_on_mount_or_focus() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["static"]));
    let observer = QueryObserver::unmounted(&client, k.clone(), server.fetcher(), static_());
    assert!(observer.result().is_stale, "no data is stale");
    let results = recorded(&observer);
    rt.advance(100);
    let first_with_data = results.borrow().iter().find(|r| r.data.is_some()).cloned();
    assert!(!first_with_data.unwrap().is_stale);

    let cached = key(json!(["static", "mounted"]));
    client.set_query_data(&cached, |_| Some(json!("initial")));
    let always = with(|o| {
        o.stale_time = Some(StaleTime::Static);
        o.refetch_on_mount = Some(querent::options::Refetch::Always);
    });
    let mounted = QueryObserver::unmounted(&client, cached, server.fetcher(), always);
    mounted.subscribe(|_| {});
    rt.advance(100);
    assert_eq!(
        server.calls(),
        1,
        "static: refetch_on_mount Always does not fetch"
    );

    let errored = key(json!(["static", "background error"]));
    let options = with(|o| {
        o.stale_time = Some(StaleTime::Static);
        o.refetch_on_window_focus = Some(querent::options::Refetch::Always);
        o.retry = Some(0);
    });
    let focused = QueryObserver::unmounted(&client, errored, server.fetcher(), options);
    focused.subscribe(|_| {});
    rt.advance(100);
    assert_eq!(server.calls(), 2);
    server.respond(Err(server_error()));
    assert!(rt.block_on(focused.refetch()).is_err());
    assert_eq!(server.calls(), 3);
    let result = focused.result();
    assert_eq!(result.status, QueryStatus::Error);
    assert_eq!(data_of(&result), Some(json!({"call": 2})));
    client.set_focused(false);
    client.set_focused(true);
    rt.advance(100);
    assert_eq!(
        server.calls(),
        3,
        "a static query is not refetched on focus"
    );
}

/// `queryObserver.test.tsx` › "should allow staleTime as a function": the
/// stale time comes from the data itself, and the result turns stale (the
/// listener hears it) once that time has passed.
#[test]
fn stale_time_as_a_function_of_the_query_turns_the_result_stale_on_time() {
    let (client, mut server, mut rt) = tanstack();
    server.latency_ms = 5;
    server.respond(Ok(json!({"data": "data", "stale_time": 20})));
    let k = key(json!(["stale fn"]));
    let options = with(|o| {
        o.stale_time = Some(StaleTime::function(|_, state| {
            let ms = state.data.as_ref().and_then(|d| d["stale_time"].as_u64());
            StaleTime::Ms(ms.unwrap_or(0))
        }));
    });
    let observer = QueryObserver::unmounted(&client, k, server.fetcher(), options);
    let results = recorded(&observer);
    let with_data = || {
        results
            .borrow()
            .iter()
            .filter(|r| r.data.is_some())
            .map(|r| r.is_stale)
            .collect::<Vec<_>>()
    };
    rt.advance(25);
    assert_eq!(with_data(), vec![false]);
    rt.advance(1);
    assert_eq!(with_data(), vec![false, true], "stale 20 ms after the data");
}

/// `queryObserver.test.tsx` › "enabled is a callback that initially
/// returns false": "should not fetch on mount", "should not be re-fetched
/// when invalidated with refetchType: all", "should still trigger a fetch
/// when refetch is called", "should fetch if unsubscribed, then enabled
/// returns true, and then re-subscribed"; and "should return isEnabled
/// depending on enabled being resolved".
#[test]
fn enabled_as_a_function_is_asked_each_time() {
    let (client, mut server, mut rt) = tanstack();
    server.latency_ms = 10;
    let k = key(json!(["enabled fn"]));
    let enabled = Rc::new(Cell::new(false));
    let flag = Rc::clone(&enabled);
    let options = with(|o| {
        o.stale_time = Some(StaleTime::INFINITY);
        o.enabled = Some(Enabled::function(move |_, _| flag.get()));
    });
    let observer = QueryObserver::unmounted(&client, k.clone(), server.fetcher(), options);
    assert!(!observer.result().is_enabled);
    observer.subscribe(|_| {});
    rt.advance(0);
    let pending_idle = |r: &QueryObserverResult| {
        (r.status, r.fetch_status, r.data.is_none())
            == (QueryStatus::Pending, FetchStatus::Idle, true)
    };
    assert_eq!(server.calls(), 0, "not fetched on mount");
    assert!(pending_idle(&observer.result()));
    drop(client.invalidate_queries_with(
        QueryFilters::key(&json!(["enabled fn"])),
        RefetchType::All,
        RefetchOptions::default(),
    ));
    rt.advance(10);
    assert_eq!(server.calls(), 0, "not refetched by invalidation");
    assert!(pending_idle(&observer.result()));

    observer.unsubscribe();
    enabled.set(true);
    observer.subscribe(|_| {});
    assert_eq!(observer.result().fetch_status, FetchStatus::Fetching);
    rt.advance(10);
    assert_eq!(server.calls(), 1, "enabled now: fetched on the new mount");
    assert!(observer.result().is_enabled);

    enabled.set(false);
    let refetched = observer.refetch();
    assert_eq!(observer.result().fetch_status, FetchStatus::Fetching);
    rt.block_on(refetched).unwrap();
    assert_eq!(server.calls(), 2, "an explicit refetch overrides enabled");
}

/// `queryObserver.test.tsx` › "should refetch at the interval returned
/// when refetchInterval is a function", and `useQuery.test.tsx` › "should
/// refetch in an interval depending on function result" (every 10 ms
/// while the call count is below 3, then no more).
#[test]
fn refetch_interval_as_a_function_follows_the_data() {
    let (client, mut server, mut rt) = tanstack();
    server.latency_ms = 10;
    let k = key(json!(["interval fn"]));
    let options = with(|o| {
        o.refetch_interval = Some(RefetchInterval::function(|_, state| {
            let count = state.data.as_ref().and_then(|d| d["call"].as_u64());
            (count.unwrap_or(0) < 3).then_some(10)
        }));
    });
    let observer = QueryObserver::unmounted(&client, k, server.fetcher(), options);
    let results = recorded(&observer);
    rt.advance(200);
    let settled: Vec<Value> = results
        .borrow()
        .iter()
        .filter(|r| r.fetch_status == FetchStatus::Idle)
        .filter_map(data_of)
        .collect();
    assert_eq!(
        settled,
        vec![json!({"call": 1}), json!({"call": 2}), json!({"call": 3})]
    );
    assert_eq!(server.calls(), 3, "the interval stopped at 3");
}

/// `useQuery.test.tsx` › "should respect skipToken and refetch when
/// skipToken is taken away" and "should allow enabled: true and queryFn:
/// skipToken"; `queryClient.test.tsx` › "should throw when skipToken is
/// provided and no cached data exists".
#[test]
fn a_skip_token_disables_the_query_until_a_fetcher_replaces_it() {
    let (client, mut server, mut rt) = tanstack();
    server.latency_ms = 10;
    let k = key(json!(["skipped"]));
    let options = with(|o| {
        o.enabled = Some(true.into());
        o.retry = Some(0);
    });
    let observer = QueryObserver::unmounted(&client, k.clone(), skip_token(), options.clone());
    observer.subscribe(|_| {});
    rt.advance(100);
    let result = observer.result();
    assert_eq!(
        (result.status, result.fetch_status),
        (QueryStatus::Pending, FetchStatus::Idle)
    );
    assert!(!result.is_enabled);
    observer.set_options(k.clone(), server.fetcher(), options);
    rt.advance(11);
    assert_eq!(observer.result().status, QueryStatus::Success);
    assert_eq!(data_of(&observer.result()), Some(json!({"call": 1})));

    let never = key(json!(["skipped", "no data"]));
    let error = rt
        .block_on(client.fetch_query(&never, skip_token(), QueryOptions::default()))
        .unwrap_err();
    assert!(error.to_string().contains("Missing queryFn"), "{error}");
}

/// `skipToken` makes a query disabled for bulk refetches too (TanStack's
/// `isDisabled()` is true for `queryFn === skipToken`): a query left with
/// data behind a skip token is not refetched into a "Missing queryFn"
/// error by `refetch_queries`.
#[test]
fn refetch_queries_passes_a_skipped_query_by() {
    let (client, _server, mut rt) = tanstack();
    let k = key(json!(["skipped", "with data"]));
    let observer =
        QueryObserver::unmounted(&client, k.clone(), skip_token(), QueryOptions::default());
    observer.subscribe(|_| {});
    client.set_query_data(&k, |_| Some(json!("kept")));
    drop(observer);
    rt.block_on(client.refetch_queries(QueryFilters::all(), RefetchOptions::default()));
    let state = client.get_query_state(&k).unwrap();
    assert_eq!(state.status, QueryStatus::Success, "{:?}", state.error);
    assert_eq!(*client.get_query_data(&k).unwrap(), json!("kept"));
}
