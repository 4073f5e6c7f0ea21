//! Core behaviour under a fake clock: staleness, de-duplication, retries,
//! offline pauses, invalidation, gc, focus/reconnect/interval refetches,
//! cancellation, infinite pages, hydration precedence and metrics.

mod common;

use common::{key, not_found, server_error, setup};
use querent::hydration::{self, DehydratedQuery, DehydratedQueryState, DehydratedState};
use querent::{FetchStatus, QueryDefaults, QueryObserver, QueryOptions, QueryStatus};
use serde_json::{Value, json};
use std::cell::Cell;
use std::rc::Rc;

const MIN: u64 = 60_000;

#[test]
fn fresh_data_is_served_from_cache_until_stale_time() {
    let (client, server, mut rt) = setup();
    let k = key(json!(["post", 1]));
    server
        .respond(Ok(json!({"v": 1})))
        .respond(Ok(json!({"v": 2})));
    let first = rt.block_on(client.fetch_query(&k, server.fetcher(), QueryOptions::default()));
    assert_eq!(first.unwrap()["v"], 1);
    rt.advance(5 * MIN - 1);
    let again = rt.block_on(client.fetch_query(&k, server.fetcher(), QueryOptions::default()));
    assert_eq!(again.unwrap()["v"], 1, "still fresh: no request");
    assert_eq!(server.calls(), 1);
    rt.advance(1);
    assert!(client.is_stale(&k));
    let later = rt.block_on(client.fetch_query(&k, server.fetcher(), QueryOptions::default()));
    assert_eq!(later.unwrap()["v"], 2);
    assert_eq!(server.calls(), 2);
}

#[test]
fn per_query_stale_time_overrides_the_default() {
    let (client, server, mut rt) = setup();
    let k = key(json!(["users"]));
    let opts = QueryOptions {
        stale_time: Some(1000.into()),
        ..Default::default()
    };
    rt.block_on(client.fetch_query(&k, server.fetcher(), opts.clone()))
        .unwrap();
    rt.advance(1000);
    rt.block_on(client.fetch_query(&k, server.fetcher(), opts))
        .unwrap();
    assert_eq!(server.calls(), 2);
}

#[test]
fn concurrent_requests_share_one_fetch() {
    let (client, server, mut rt) = setup();
    let k = key(json!(["post", 1]));
    let a = client.fetch_query(&k, server.fetcher(), QueryOptions::default());
    let b = client.ensure_query_data(&k, server.fetcher(), QueryOptions::default());
    client.prefetch_query(&k, server.fetcher(), QueryOptions::default());
    let c = client.refetch(&k);
    let (a, b, c) = rt.block_on(async move { (a.await, b.await, c.await) });
    assert_eq!(server.calls(), 1);
    assert!(Rc::ptr_eq(&a.unwrap(), &b.unwrap()));
    assert!(c.is_ok());
}

#[test]
fn ensure_returns_stale_data_without_fetching() {
    let (client, server, mut rt) = setup();
    let k = key(json!(["post", 1]));
    client.set_query_data(&k, |_| Some(json!("old")));
    rt.advance(10 * MIN);
    assert!(client.is_stale(&k));
    let data = rt.block_on(client.ensure_query_data(&k, server.fetcher(), QueryOptions::default()));
    assert_eq!(*data.unwrap(), json!("old"));
    assert_eq!(server.calls(), 0);
}

#[test]
fn retries_back_off_exponentially_then_fail() {
    let (client, server, mut rt) = setup();
    let k = key(json!(["post", 1]));
    for _ in 0..4 {
        server.respond(Err(server_error()));
    }
    let start = rt.now();
    let result = rt.block_on(client.fetch_query(&k, server.fetcher(), QueryOptions::default()));
    assert_eq!(result.unwrap_err(), server_error());
    // Each attempt takes 100 ms (the fake latency); waits of 1 s, 2 s, 4 s between.
    let offsets: Vec<i64> = server.call_times().iter().map(|t| t - start).collect();
    assert_eq!(offsets, [0, 1100, 3200, 7300]);
    let state = client.get_query_state(&k).unwrap();
    assert_eq!(state.status, QueryStatus::Error);
    assert_eq!(state.failure_count, 4);
    assert_eq!(client.metrics().failures, 1);
}

#[test]
fn a_retry_that_succeeds_clears_the_failure() {
    let (client, server, mut rt) = setup();
    let k = key(json!(["post", 1]));
    server.respond(Err(server_error())).respond(Ok(json!("ok")));
    let result = rt.block_on(client.fetch_query(&k, server.fetcher(), QueryOptions::default()));
    assert_eq!(*result.unwrap(), json!("ok"));
    let state = client.get_query_state(&k).unwrap();
    assert_eq!(
        (state.status, state.failure_count, state.error),
        (QueryStatus::Success, 0, None)
    );
}

#[test]
fn not_found_is_not_retried_by_default_and_predicates_are_per_query() {
    let (client, server, mut rt) = setup();
    let k = key(json!(["post", 999]));
    server.respond(Err(not_found()));
    let result = rt.block_on(client.fetch_query(&k, server.fetcher(), QueryOptions::default()));
    assert_eq!(result.unwrap_err().status(), Some(404));
    assert_eq!(server.calls(), 1, "no retry on 404");

    let k2 = key(json!(["flaky"]));
    server.respond(Err(not_found())).respond(Ok(json!(1)));
    let opts = QueryOptions {
        retry_if: Some(Rc::new(|_, _| true)),
        ..Default::default()
    };
    assert!(
        rt.block_on(client.fetch_query(&k2, server.fetcher(), opts))
            .is_ok()
    );
    assert_eq!(server.calls(), 3);

    let k3 = key(json!(["never"]));
    server.respond(Err(server_error()));
    let opts = QueryOptions {
        retry: Some(0),
        ..Default::default()
    };
    assert!(
        rt.block_on(client.fetch_query(&k3, server.fetcher(), opts))
            .is_err()
    );
    assert_eq!(server.calls(), 4);
}

#[test]
fn fetches_pause_while_offline_and_resume_on_reconnect() {
    let (client, server, mut rt) = setup();
    let k = key(json!(["post", 1]));
    client.set_online(false);
    let fetch = client.fetch_query(&k, server.fetcher(), QueryOptions::default());
    rt.advance(10 * MIN);
    assert_eq!(server.calls(), 0, "nothing is sent while offline");
    assert_eq!(
        client.get_query_state(&k).unwrap().fetch_status,
        FetchStatus::Paused
    );
    assert_eq!(client.is_fetching(), 1, "a paused fetch still counts");
    client.set_online(true);
    let data = rt.block_on(fetch);
    assert!(data.is_ok());
    assert_eq!(server.calls(), 1);
    assert_eq!(
        client.get_query_state(&k).unwrap().fetch_status,
        FetchStatus::Idle
    );
}

#[test]
fn retries_wait_while_offline_or_hidden() {
    let (client, server, mut rt) = setup();
    let k = key(json!(["post", 1]));
    server
        .respond(Err(server_error()))
        .respond(Ok(json!("back")));
    drop(client.fetch_query(&k, server.fetcher(), QueryOptions::default()));
    rt.advance(100); // first attempt fails
    client.set_focused(false);
    rt.advance(10 * MIN);
    assert_eq!(server.calls(), 1, "no retry while hidden");
    client.set_focused(true);
    rt.advance(200);
    assert_eq!(server.calls(), 2);
    assert_eq!(*client.get_query_data(&k).unwrap(), json!("back"));
}

#[test]
fn invalidation_by_prefix_marks_stale_and_refetches_only_active_queries() {
    let (client, server, mut rt) = setup();
    let p1 = key(json!(["post", 1]));
    let p2 = key(json!(["post", 2]));
    let users = key(json!(["users"]));
    for k in [&p1, &p2, &users] {
        rt.block_on(client.fetch_query(k, server.fetcher(), QueryOptions::default()))
            .unwrap();
    }
    let renders = Rc::new(Cell::new(0));
    let r = Rc::clone(&renders);
    let _observer = QueryObserver::new(
        &client,
        p1.clone(),
        server.fetcher(),
        QueryOptions::default(),
        move || r.set(r.get() + 1),
    );
    assert_eq!(server.calls(), 3, "fresh data: mounting does not fetch");
    rt.block_on(client.invalidate_queries(&key(json!(["post"]))));
    assert_eq!(server.calls(), 4, "only the observed post refetched");
    assert!(renders.get() > 0);
    assert!(!client.is_stale(&p1));
    assert!(client.is_stale(&p2), "inactive but marked stale");
    assert!(!client.is_stale(&users), "other prefixes untouched");
}

#[test]
fn unobserved_queries_are_garbage_collected_after_gc_time() {
    let (client, server, mut rt) = setup();
    let k = key(json!(["post", 1]));
    let observer = QueryObserver::new(
        &client,
        k.clone(),
        server.fetcher(),
        QueryOptions::default(),
        || {},
    );
    rt.advance(100);
    assert!(client.get_query_data(&k).is_some());
    rt.advance(60 * MIN);
    assert!(client.get_query_data(&k).is_some(), "observed queries stay");
    drop(observer);
    rt.advance(30 * MIN - 1);
    assert!(client.get_query_data(&k).is_some());
    // Re-observing within gc time keeps it.
    let again = QueryObserver::new(
        &client,
        k.clone(),
        server.fetcher(),
        QueryOptions::default(),
        || {},
    );
    drop(again);
    rt.advance(29 * MIN);
    assert!(
        client.get_query_data(&k).is_some(),
        "the gc timer restarted"
    );
    rt.advance(2 * MIN);
    assert!(client.get_query_state(&k).is_none(), "collected");
}

#[test]
fn focus_and_reconnect_refetch_stale_observed_queries() {
    let (client, server, mut rt) = setup();
    let k = key(json!(["users"]));
    let _o = QueryObserver::new(
        &client,
        k.clone(),
        server.fetcher(),
        QueryOptions::default(),
        || {},
    );
    rt.advance(100);
    assert_eq!(server.calls(), 1);
    client.set_focused(false);
    client.set_focused(true);
    rt.advance(100);
    assert_eq!(server.calls(), 1, "fresh: focus does not refetch");
    rt.advance(5 * MIN);
    client.set_focused(false);
    client.set_focused(true);
    rt.advance(100);
    assert_eq!(server.calls(), 2, "stale: focus refetches");
    rt.advance(5 * MIN);
    client.set_online(false);
    client.set_online(true);
    rt.advance(100);
    assert_eq!(server.calls(), 3, "stale: reconnect refetches");

    let quiet = key(json!(["quiet"]));
    let opts = QueryOptions {
        refetch_on_window_focus: Some(false.into()),
        ..Default::default()
    };
    let _q = QueryObserver::new(&client, quiet, server.fetcher(), opts, || {});
    rt.advance(6 * MIN);
    let before = server.calls();
    client.set_focused(false);
    client.set_focused(true);
    rt.advance(100);
    assert_eq!(
        server.calls(),
        before + 1,
        "only the query that did not opt out"
    );
}

#[test]
fn refetch_interval_runs_only_while_focused() {
    let (client, server, mut rt) = setup();
    let k = key(json!(["deferred"]));
    let opts = QueryOptions {
        refetch_interval: Some(1000.into()),
        stale_time: Some(0.into()),
        ..Default::default()
    };
    let observer = QueryObserver::new(&client, k, server.fetcher(), opts, || {});
    rt.advance(100);
    assert_eq!(server.calls(), 1);
    rt.advance(3000);
    let focused_calls = server.calls();
    // The first fetch, then one a second after each answer (at 1.0 and 2.1 s).
    assert_eq!(focused_calls, 3);
    client.set_focused(false);
    rt.advance(10_000);
    assert_eq!(
        server.calls(),
        focused_calls,
        "no interval refetch in the background"
    );
    drop(observer);
    client.set_focused(true);
    rt.advance(10_000);
    assert_eq!(
        server.calls(),
        focused_calls,
        "the interval stopped with the observer"
    );
}

#[test]
fn observers_are_notified_only_when_something_changed() {
    let (client, server, mut rt) = setup();
    let k = key(json!(["post", 1]));
    server
        .respond(Ok(json!({"a": 1})))
        .respond(Ok(json!({"a": 1})));
    let renders = Rc::new(Cell::new(0));
    let r = Rc::clone(&renders);
    let observer = QueryObserver::new(
        &client,
        k.clone(),
        server.fetcher(),
        QueryOptions::default(),
        move || r.set(r.get() + 1),
    );
    rt.advance(100);
    let first = observer.data().unwrap();
    let after_first = renders.get();
    rt.block_on(observer.refetch()).unwrap();
    assert!(
        Rc::ptr_eq(&first, &observer.data().unwrap()),
        "equal data keeps its identity"
    );
    // Two notifications (fetching, then settled with a new timestamp), the
    // data identity unchanged: that identity is what views compare.
    assert_eq!(renders.get() - after_first, 2);
    client.set_query_data(&k, |_| Some(json!({"a": 1})));
    let n = renders.get();
    client.set_query_data(&k, |_| None);
    assert_eq!(renders.get(), n, "a no-op update notifies nobody");
}

#[test]
fn cancel_restores_the_previous_state_and_drops_the_late_response() {
    let (client, server, mut rt) = setup();
    let k = key(json!(["post", 1]));
    client.set_query_data(&k, |_| Some(json!("before")));
    server.respond(Ok(json!("late")));
    let without_fetcher = rt.block_on(client.refetch(&k));
    assert_eq!(
        without_fetcher.unwrap_err().kind,
        querent::ErrorKind::Unregistered
    );
    client.set_query_defaults(&k, QueryDefaults::fetcher(server.fetcher()));
    let fetch = client.refetch(&k);
    rt.advance(50);
    client.cancel_queries(&key(json!(["post"])));
    client.set_query_data(&k, |_| Some(json!("optimistic")));
    rt.advance(1000);
    // As TanStack's: the cancelled fetch resolves to the query's data (the
    // state it went back to, and here what was written since), never to
    // the late answer.
    let result = rt.block_on(fetch);
    assert_eq!(*result.unwrap(), json!("optimistic"));
    assert_eq!(*client.get_query_data(&k).unwrap(), json!("optimistic"));
    assert_eq!(
        client.get_query_state(&k).unwrap().fetch_status,
        FetchStatus::Idle
    );
}

/// A live event or a confirmed write racing a refetch (a reconnect refetch
/// answered before the write reached the server): the write is kept, and
/// the observed query asks again rather than showing the older answer.
#[test]
fn a_write_during_a_refetch_is_kept_and_the_query_fetches_again() {
    let (client, server, mut rt) = setup();
    let k = key(json!(["posts"]));
    server
        .respond(Ok(json!(["a"])))
        .respond(Ok(json!(["a"])))
        .respond(Ok(json!(["b", "a"])));
    let _observer = QueryObserver::new(
        &client,
        k.clone(),
        server.fetcher(),
        QueryOptions::default(),
        || {},
    );
    rt.advance(100);
    assert_eq!(*client.get_query_data(&k).unwrap(), json!(["a"]));
    let refetch = client.refetch(&k);
    rt.advance(50);
    client.set_query_data(&k, |_| Some(json!(["b", "a"])));
    rt.advance(50);
    assert_eq!(
        *client.get_query_data(&k).unwrap(),
        json!(["b", "a"]),
        "the older answer did not replace the write"
    );
    assert_eq!(*rt.block_on(refetch).unwrap(), json!(["b", "a"]));
    assert_eq!(server.calls(), 3, "asked again after the write");
    assert!(!client.is_stale(&k));

    // Unobserved: nothing is fetched, the query is stale.
    let other = key(json!(["users"]));
    server.respond(Ok(json!("old")));
    client.set_query_defaults(&other, QueryDefaults::fetcher(server.fetcher()));
    let fetch = client.refetch(&other);
    rt.advance(50);
    client.set_query_data(&other, |_| Some(json!("new")));
    assert_eq!(*rt.block_on(fetch).unwrap(), json!("new"));
    assert_eq!(server.calls(), 4);
    assert!(client.is_stale(&other));
}

/// A fetcher whose server answered `304` returns the data it had: the
/// cache keeps the same `Rc` (observers see no change), the fetch counts as
/// fresh data, and the metrics count the revalidation and its bytes.
#[test]
fn a_not_modified_answer_keeps_the_data_and_is_counted() {
    let (client, _server, mut rt) = setup();
    let k = key(json!(["post", 1]));
    let calls = Rc::new(Cell::new(0));
    let fetcher: querent::Fetcher = {
        let calls = Rc::clone(&calls);
        Rc::new(move |ctx: querent::options::FetchContext| {
            calls.set(calls.get() + 1);
            if calls.get() > 1 {
                ctx.not_modified(1_234);
            }
            Box::pin(async { Ok(json!({"title": "same"})) })
        })
    };
    let first = rt
        .block_on(client.fetch_query(&k, fetcher.clone(), QueryOptions::default()))
        .unwrap();
    rt.advance(10 * MIN);
    assert!(client.is_stale(&k));
    let second = rt.block_on(client.refetch(&k)).unwrap();
    assert!(Rc::ptr_eq(&first, &second), "the same data, not a copy");
    assert!(!client.is_stale(&k), "a revalidation makes the data fresh");
    let m = client.metrics();
    assert_eq!((m.not_modified, m.bytes_saved), (1, 1_234));
}

#[test]
fn remove_and_reset() {
    let (client, server, mut rt) = setup();
    let a = key(json!(["post", 1]));
    let b = key(json!(["users"]));
    rt.block_on(client.fetch_query(&a, server.fetcher(), QueryOptions::default()))
        .unwrap();
    rt.block_on(client.fetch_query(&b, server.fetcher(), QueryOptions::default()))
        .unwrap();
    client.remove_queries(&key(json!(["post"])));
    assert!(client.get_query_state(&a).is_none());
    assert!(client.get_query_data(&b).is_some());
    let _o = QueryObserver::new(
        &client,
        b.clone(),
        server.fetcher(),
        QueryOptions::default(),
        || {},
    );
    let before = server.calls();
    rt.block_on(client.reset_queries(&key(json!([]))));
    assert_eq!(server.calls(), before + 1, "reset refetches active queries");
    assert!(client.get_query_data(&b).is_some());
}

fn pages_fetcher(server: &common::Server) -> querent::Fetcher {
    // Pages of 2 items counting down from `top`; the cursor is the last item.
    let server = server.clone();
    let inner = server.fetcher();
    Rc::new(move |ctx| {
        let inner = Rc::clone(&inner);
        Box::pin(async move {
            let top = inner(ctx.clone()).await?["top"].as_i64().unwrap_or(10);
            let start = ctx.page_param.as_i64().unwrap_or(top + 1);
            let items: Vec<i64> = (1..=2).map(|i| start - i).filter(|v| *v > 0).collect();
            let next = items.last().filter(|v| **v > 1).copied();
            Ok(json!({"items": items, "next_cursor": next}))
        })
    })
}

#[test]
fn infinite_queries_append_pages_and_refetch_them_in_order() {
    let (client, server, mut rt) = setup();
    let k = key(json!(["posts"]));
    let opts = QueryOptions {
        get_next_page_param: Some(Rc::new(
            |page: &Value, _: &[Value], _: &Value, _: &[Value]| {
                let next = page["next_cursor"].clone();
                (!next.is_null()).then_some(next)
            },
        )),
        ..Default::default()
    };
    for _ in 0..3 {
        server.respond(Ok(json!({"top": 6})));
    }
    let observer = QueryObserver::new(&client, k.clone(), pages_fetcher(&server), opts, || {});
    rt.advance(100);
    assert!(observer.has_next_page());
    rt.block_on(observer.fetch_next_page()).unwrap();
    rt.block_on(observer.fetch_next_page()).unwrap();
    let data = observer.data().unwrap();
    assert_eq!(data["pages"].as_array().unwrap().len(), 3);
    assert_eq!(data["page_params"], json!([null, 5, 3]));
    assert!(!observer.has_next_page());

    // Two new items at the head: a refetch reloads all three pages in order,
    // each cursor computed from the fresh page before it.
    for _ in 0..3 {
        server.respond(Ok(json!({"top": 8})));
    }
    rt.block_on(observer.refetch()).unwrap();
    let data = observer.data().unwrap();
    let items: Vec<i64> = data["pages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| {
            p["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_i64().unwrap())
        })
        .collect();
    assert_eq!(items, [8, 7, 6, 5, 4, 3], "no duplicates, no gaps");
    assert_eq!(data["page_params"], json!([null, 7, 5]));
}

#[test]
fn a_retry_waits_for_the_servers_retry_after_instead_of_the_backoff() {
    let (client, server, mut rt) = setup();
    let k = key(json!(["post", 1]));
    let busy = querent::QueryError::http(503, "unavailable", "busy").with_retry_after(7000);
    server.respond(Err(busy)).respond(Ok(json!("ok")));
    let start = rt.now();
    let data = rt.block_on(client.fetch_query(&k, server.fetcher(), QueryOptions::default()));
    assert_eq!(*data.unwrap(), json!("ok"));
    assert_eq!(
        server.call_times(),
        vec![start, start + 100 + 7000],
        "asked again 7 s after the answer (the backoff would be 1 s)"
    );
}

/// Infinite-query options paging by `next_cursor`.
fn paged() -> QueryOptions {
    QueryOptions {
        get_next_page_param: Some(Rc::new(
            |page: &Value, _: &[Value], _: &Value, _: &[Value]| {
                let next = page["next_cursor"].clone();
                (!next.is_null()).then_some(next)
            },
        )),
        ..Default::default()
    }
}

#[test]
fn a_hydrated_infinite_query_pages_on_by_the_observers_options() {
    let (client, server, mut rt) = setup();
    let k = key(json!(["posts"]));
    let now = rt.now();
    // What the server embeds: page 1 of 6 items, with its cursor. Hydration
    // knows nothing of how the query pages.
    let embedded = json!({"pages": [{"items": [6, 5], "next_cursor": 5}], "page_params": [null]});
    hydration::hydrate(
        &client,
        DehydratedState {
            version: hydration::VERSION,
            queries: vec![success(&k, embedded, now)],
            mutations: vec![],
            written_at: None,
            pending: vec![],
        },
    );
    // A hook's first render judges with its own options, before anything
    // registered them for the key.
    assert!(client.has_next_page_with(&k, &paged()));
    assert!(!client.is_stale_with(&k, &paged()));
    // The cache entry's own options know nothing of paging yet.
    assert!(!client.has_next_page(&k));

    server.respond(Ok(json!({"top": 6})));
    rt.block_on(client.fetch_next_page_with(&k, pages_fetcher(&server), paged()))
        .unwrap();
    assert_eq!(
        server.calls.borrow()[0].1,
        json!(5),
        "page 2 asked by cursor"
    );
    let data = client.get_query_data(&k).unwrap();
    assert_eq!(data["page_params"], json!([null, 5]));
    assert_eq!(data["pages"][1]["items"], json!([4, 3]));

    // An observer keeps its own options even when something registers other
    // options for the key (a loader that only prefetches, say).
    let observer = QueryObserver::new(&client, k.clone(), pages_fetcher(&server), paged(), || {});
    drop(client.ensure_query_data(&k, pages_fetcher(&server), QueryOptions::default()));
    assert!(observer.has_next_page());
    server.respond(Ok(json!({"top": 6})));
    rt.block_on(observer.fetch_next_page()).unwrap();
    assert!(!observer.has_next_page(), "6 items in 3 pages: the end");
    assert_eq!(observer.data().unwrap()["page_params"], json!([null, 5, 3]));
}

#[test]
fn staleness_is_judged_by_the_observers_stale_time() {
    let (client, _server, mut rt) = setup();
    let k = key(json!(["deferred"]));
    let now = rt.now();
    hydration::hydrate(
        &client,
        DehydratedState {
            version: hydration::VERSION,
            queries: vec![success(&k, json!({"n": 1}), now)],
            mutations: vec![],
            written_at: None,
            pending: vec![],
        },
    );
    let short = QueryOptions {
        stale_time: Some(10_000.into()),
        ..Default::default()
    };
    rt.advance(20_000);
    assert!(
        client.is_stale_with(&k, &short),
        "20 s old, 10 s stale time"
    );
    assert!(!client.is_stale(&k), "by the 5 min default it is fresh");
}

fn success(k: &querent::QueryKey, data: Value, at: i64) -> DehydratedQuery {
    DehydratedQuery {
        key: k.clone(),
        state: DehydratedQueryState::Success {
            data: Rc::new(data),
            updated_at: at,
        },
    }
}

#[test]
fn hydration_keeps_the_newer_data_and_skips_refetch_inside_stale_time() {
    let (client, server, mut rt) = setup();
    let now = rt.now();
    let k = key(json!(["post", 1]));
    let other = key(json!(["post", 2]));
    let state = DehydratedState {
        version: hydration::VERSION,
        queries: vec![
            success(&k, json!("server"), now - 1000),
            success(&other, json!("x"), now),
        ],
        mutations: vec![],
        written_at: None,
        pending: vec![],
    };
    assert_eq!(hydration::hydrate(&client, state.clone()), 2);
    // Older persisted data loses; newer wins.
    let older = DehydratedState {
        version: 1,
        queries: vec![success(&k, json!("persisted-old"), now - 5000)],
        mutations: vec![],
        written_at: None,
        pending: vec![],
    };
    assert_eq!(hydration::hydrate(&client, older.clone()), 0);
    assert_eq!(*client.get_query_data(&k).unwrap(), json!("server"));
    let newer = DehydratedState {
        version: 1,
        queries: vec![success(&k, json!("persisted-new"), now - 10)],
        mutations: vec![],
        written_at: None,
        pending: vec![],
    };
    assert_eq!(hydration::hydrate(&client, newer.clone()), 1);
    assert_eq!(*client.get_query_data(&k).unwrap(), json!("persisted-new"));
    assert_eq!(
        client.get_query_state(&k).unwrap().data_updated_at,
        now - 10,
        "the original time is kept"
    );

    let _o = QueryObserver::new(
        &client,
        k.clone(),
        server.fetcher(),
        QueryOptions::default(),
        || {},
    );
    rt.advance(1000);
    assert_eq!(
        server.calls(),
        0,
        "hydrated data inside stale time is not refetched"
    );

    let wrong_version = DehydratedState {
        version: 99,
        queries: vec![success(&k, json!("future"), now + 10)],
        mutations: vec![],
        written_at: None,
        pending: vec![],
    };
    assert_eq!(hydration::hydrate(&client, wrong_version.clone()), 0);

    // Round trip.
    let snapshot = hydration::dehydrate(&client);
    let (fresh, _server, _rt) = setup();
    assert_eq!(hydration::hydrate(&fresh, snapshot.clone()), 2);
    assert_eq!(fresh.get_query_data(&k), client.get_query_data(&k));
}

/// A server's snapshot names when it was written by its own clock; its
/// times are moved onto the client's, so an age is kept whatever the skew.
#[test]
fn a_server_snapshot_is_read_on_the_clients_clock() {
    let (client, _server, rt) = setup();
    let now = rt.now();
    let k = key(json!(["post", 1]));
    // Persisted by this client 30 s ago (its clock).
    client.set_query_data_at(&k, |_| Some(json!("persisted")), now - 30_000);
    // The server's clock is an hour behind: its data, read 1 s before it
    // wrote the page, is newer than what this client persisted.
    let server_now = now - 3_600_000;
    let state = DehydratedState {
        version: hydration::VERSION,
        queries: vec![success(&k, json!("server"), server_now - 1_000)],
        mutations: vec![],
        written_at: Some(server_now),
        pending: vec![],
    };
    assert_eq!(hydration::hydrate(&client, state), 1, "the newer data wins");
    assert_eq!(*client.get_query_data(&k).unwrap(), json!("server"));
    assert_eq!(
        client.get_query_state(&k).unwrap().data_updated_at,
        now - 1_000,
        "one second old, on the client's clock"
    );
}

#[test]
fn hydrated_errors_are_settled_failures() {
    let (client, server, mut rt) = setup();
    let k = key(json!(["post", 404]));
    let text = r#"{"version":1,"queries":[{"key":["post",404],"state":{"status":"error","error":{"error":{"code":"not_found","message":"post not found"}},"http_status":404,"updated_at":1767225600000}}]}"#;
    let state: DehydratedState = serde_json::from_str(text).unwrap();
    assert_eq!(hydration::hydrate(&client, state.clone()), 1);
    let s = client.get_query_state(&k).unwrap();
    assert_eq!(s.status, QueryStatus::Error);
    assert_eq!(s.error.unwrap().status(), Some(404));
    let opts = QueryOptions {
        stale_time: Some(u64::MAX.into()),
        ..Default::default()
    };
    let _o = QueryObserver::new(&client, k, server.fetcher(), opts, || {});
    rt.advance(1000);
    assert_eq!(
        server.calls(),
        1,
        "no data is always stale: an observer does try once"
    );
}

#[test]
fn without_retry_on_mount_a_settled_error_is_not_refetched_by_a_new_observer() {
    let (client, server, mut rt) = setup();
    let k = key(json!(["post", 999]));
    server.respond(Err(not_found()));
    let opts = QueryOptions {
        retry_on_mount: Some(false),
        ..Default::default()
    };
    let failed = rt.block_on(client.ensure_query_data(&k, server.fetcher(), opts.clone()));
    assert_eq!(failed.unwrap_err().status(), Some(404));
    let _o = QueryObserver::new(&client, k.clone(), server.fetcher(), opts, || {});
    rt.advance(1000);
    assert_eq!(server.calls(), 1, "the 404 is the answer");
    assert_eq!(
        client.get_query_state(&k).unwrap().status,
        QueryStatus::Error
    );
    // Explicit refetches still go out.
    server.respond(Ok(json!({"id": 999})));
    assert!(rt.block_on(client.refetch(&k)).is_ok());
    assert_eq!(server.calls(), 2);
}

#[test]
fn metrics_count_hits_misses_fetches_and_durations() {
    let (client, server, mut rt) = setup();
    let k = key(json!(["post", 1]));
    server.respond(Ok(json!(1))).respond(Err(not_found()));
    rt.block_on(client.fetch_query(&k, server.fetcher(), QueryOptions::default()))
        .unwrap();
    rt.block_on(client.fetch_query(&k, server.fetcher(), QueryOptions::default()))
        .unwrap();
    rt.block_on(client.ensure_query_data(&k, server.fetcher(), QueryOptions::default()))
        .unwrap();
    let missing = key(json!(["post", 2]));
    let _ = rt.block_on(client.fetch_query(&missing, server.fetcher(), QueryOptions::default()));
    let m = client.metrics();
    assert_eq!(
        (m.hits, m.misses, m.fetches, m.failures, m.settled),
        (2, 2, 2, 1, 2)
    );
    assert_eq!(m.hit_rate(), 0.5);
    assert_eq!(m.fetch_ms_max, 100);
    assert_eq!(m.mean_fetch_ms(), 100.0);
}
