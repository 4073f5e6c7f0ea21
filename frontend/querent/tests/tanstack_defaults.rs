//! TanStack Query v5's query defaults (`setQueryDefaults`,
//! `getQueryDefaults`, `defaultQueryOptions`), replayed from
//! `queryClient.test.tsx` under the fake clock with TanStack's defaults:
//! each test names the TanStack test it ports.

mod common;

use common::{key, tanstack, with};
use querent::{ErrorKind, FetchStatus, QueryDefaults, QueryObserver, QueryOptions, QueryStatus};
use serde_json::json;

/// › setQueryDefaults › "should not trigger a fetch".
#[test]
fn setting_query_defaults_fetches_nothing() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["todos"]));
    client.set_query_defaults(&k, QueryDefaults::fetcher(server.fetcher()));
    rt.advance(1000);
    assert_eq!(client.get_query_data(&k), None);
    assert_eq!(server.calls(), 0);
}

/// › "should be able to override defaults" and "should match the query key
/// partially": a query registered without a fetcher fetches with the one
/// of the defaults whose prefix its key starts with.
#[test]
fn the_defaults_fetcher_serves_keys_under_its_prefix() {
    let (client, server, mut rt) = tanstack();
    client.set_query_defaults(
        &key(json!(["todos"])),
        QueryDefaults::fetcher(server.fetcher()),
    );
    let data = rt.block_on(client.refetch(&key(json!(["todos"])))).unwrap();
    assert_eq!(*data, json!({"call": 1}));
    let data = rt
        .block_on(client.refetch(&key(json!(["todos", "a"]))))
        .unwrap();
    assert_eq!(*data, json!({"call": 2}));
}

/// › "should not match if the query key is a subset": defaults for
/// `[todos, a]` do not serve `[todos]`, which has no fetcher.
#[test]
fn defaults_for_a_longer_key_do_not_serve_a_shorter_one() {
    let (client, server, mut rt) = tanstack();
    client.set_query_defaults(
        &key(json!(["todos", "a"])),
        QueryDefaults::fetcher(server.fetcher()),
    );
    let error = rt
        .block_on(client.refetch(&key(json!(["todos"]))))
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Unregistered);
    assert_eq!(server.calls(), 0);
    assert!(client.queries().is_empty(), "no empty query is left behind");
}

/// › "should also set defaults for observers": `enabled: false` from the
/// defaults keeps an observer from fetching.
#[test]
fn observers_take_the_query_defaults() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["todos"]));
    client.set_query_defaults(
        &k,
        QueryDefaults::options(with(|o| o.enabled = Some(false.into()))),
    );
    let observer = QueryObserver::unmounted(&client, k, server.fetcher(), QueryOptions::default());
    observer.subscribe(|_| {});
    rt.advance(1000);
    let result = observer.result();
    assert_eq!(
        (result.status, result.fetch_status),
        (QueryStatus::Pending, FetchStatus::Idle)
    );
    assert!(!result.is_enabled);
    assert_eq!(server.calls(), 0);
}

/// An observer's own options win over the defaults (TanStack's
/// `{ ...defaults, ...options }`), and the defaults win over the client's.
#[test]
fn own_options_beat_query_defaults_which_beat_the_clients() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["todos"]));
    client.set_query_defaults(
        &k,
        QueryDefaults::options(with(|o| o.enabled = Some(false.into()))),
    );
    let observer = QueryObserver::unmounted(
        &client,
        k.clone(),
        server.fetcher(),
        with(|o| o.enabled = Some(true.into())),
    );
    observer.subscribe(|_| {});
    rt.advance(1000);
    assert_eq!(server.calls(), 1);
    client.set_query_defaults(
        &k,
        QueryDefaults::options(with(|o| o.stale_time = Some(u64::MAX.into()))),
    );
    assert!(!client.is_stale_with(
        &k,
        &client.default_query_options(&k, QueryOptions::default())
    ));
}

/// › "should update existing query defaults": setting them again for the
/// same key replaces them.
#[test]
fn setting_defaults_again_for_a_key_replaces_them() {
    let (client, server, _rt) = tanstack();
    let k = key(json!(["todos"]));
    client.set_query_defaults(&k, QueryDefaults::fetcher(server.fetcher()));
    client.set_query_defaults(&k, QueryDefaults::options(with(|o| o.retry = Some(0))));
    let defaults = client.get_query_defaults(&k);
    assert_eq!(defaults.options.retry, Some(0));
    assert!(defaults.fetcher.is_none(), "replaced, not merged");
}

/// › "should merge defaultOptions": every matching prefix's defaults, the
/// longer (set later) adding to the shorter.
#[test]
fn defaults_of_every_matching_prefix_merge() {
    let (client, _server, _rt) = tanstack();
    client.set_query_defaults(
        &key(json!(["todo"])),
        QueryDefaults::options(with(|o| {
            o.gc_time = Some(1);
            o.stale_time = Some(1.into());
        })),
    );
    client.set_query_defaults(
        &key(json!(["todo", "detail"])),
        QueryDefaults::options(with(|o| o.stale_time = Some(5000.into()))),
    );
    let merged = client
        .get_query_defaults(&key(json!(["todo", "detail", 1])))
        .options;
    assert_eq!(
        (merged.gc_time, merged.stale_time),
        (Some(1), Some(5000.into()))
    );
    let shorter = client.get_query_defaults(&key(json!(["todo", 1]))).options;
    assert_eq!(
        (shorter.gc_time, shorter.stale_time),
        (Some(1), Some(1.into()))
    );
}

/// › refetchQueries › "should refetch if query we are offline but query
/// networkMode is always" (set through the query defaults).
#[test]
fn refetch_queries_refetches_an_always_query_while_offline() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["key1"]));
    client.set_query_defaults(
        &k,
        QueryDefaults::options(with(|o| {
            o.network_mode = Some(querent::options::NetworkMode::Always)
        })),
    );
    rt.block_on(client.fetch_query(&k, server.fetcher(), QueryOptions::default()))
        .unwrap();
    client.set_online(false);
    rt.block_on(client.refetch_queries(
        querent::filters::QueryFilters::key(&["key1"]),
        querent::filters::RefetchOptions::default(),
    ));
    assert_eq!(
        server.calls(),
        2,
        "the first fetch and the refetch, offline"
    );
}
