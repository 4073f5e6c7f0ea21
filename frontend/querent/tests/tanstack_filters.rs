//! TanStack Query v5's query filters (`QueryFilters`, `matchQuery`,
//! `partialMatchKey`) and the client methods taking them, replayed from
//! `queryClient.test.tsx` and `utils.test.tsx` under the fake clock with
//! TanStack's defaults: each test names the TanStack test it ports.

mod common;

use common::{Server, key};
use querent::filters::{QueryFilters, QueryTypeFilter, RefetchOptions, RefetchType};
use querent::testing::{FakePlatform, Runner};
use querent::{FetchStatus, QueryClient, QueryKey, QueryObserver, QueryOptions};
use serde_json::json;

fn tanstack() -> (QueryClient, FakePlatform, Runner) {
    let (platform, runner) = FakePlatform::new();
    (QueryClient::new(platform.clone()), platform, runner)
}

fn forever() -> QueryOptions {
    QueryOptions {
        stale_time: Some(u64::MAX.into()),
        ..QueryOptions::default()
    }
}

/// The `refetchQueries` tests' setup: `key1` and `key2` fetched once each
/// by `fetchQuery`, then `key1` observed with `staleTime: Infinity` (no
/// fetch on mount). Returns the two servers (each counts its calls).
fn two_fetched_one_observed(
    client: &QueryClient,
    platform: &FakePlatform,
    rt: &mut Runner,
) -> (Server, Server, QueryObserver) {
    let (one, two) = (Server::new(platform), Server::new(platform));
    rt.block_on(client.fetch_query(
        &key(json!(["key1"])),
        one.fetcher(),
        QueryOptions::default(),
    ))
    .unwrap();
    rt.block_on(client.fetch_query(
        &key(json!(["key2"])),
        two.fetcher(),
        QueryOptions::default(),
    ))
    .unwrap();
    let observer = QueryObserver::new(
        client,
        key(json!(["key1"])),
        one.fetcher(),
        forever(),
        || {},
    );
    rt.run_until_stalled();
    assert_eq!((one.calls(), two.calls()), (1, 1), "no fetch on mount");
    (one, two, observer)
}

/// › refetchQueries › "should be able to refetch all active and inactive
/// queries (queryClient.refetchQueries())".
#[test]
fn refetch_queries_with_no_filters_refetches_every_query() {
    let (client, platform, mut rt) = tanstack();
    let (one, two, _observer) = two_fetched_one_observed(&client, &platform, &mut rt);
    rt.block_on(client.refetch_queries(QueryFilters::all(), RefetchOptions::default()));
    assert_eq!((one.calls(), two.calls()), (2, 2));
}

/// › "should be able to refetch only active queries" / "only inactive".
#[test]
fn refetch_queries_by_type() {
    let (client, platform, mut rt) = tanstack();
    let (one, two, _observer) = two_fetched_one_observed(&client, &platform, &mut rt);
    let active = QueryFilters::all().of_type(QueryTypeFilter::Active);
    rt.block_on(client.refetch_queries(active, RefetchOptions::default()));
    assert_eq!((one.calls(), two.calls()), (2, 1), "active only");
    let inactive = QueryFilters::all().of_type(QueryTypeFilter::Inactive);
    rt.block_on(client.refetch_queries(inactive, RefetchOptions::default()));
    assert_eq!((one.calls(), two.calls()), (2, 2), "then inactive only");
}

/// › "should be able to refetch all fresh queries": `{ type: 'active',
/// stale: false }` picks the observed query that is fresh for ever.
#[test]
fn refetch_queries_of_fresh_active_queries() {
    let (client, platform, mut rt) = tanstack();
    let (one, two, _observer) = two_fetched_one_observed(&client, &platform, &mut rt);
    let fresh = QueryFilters::all()
        .of_type(QueryTypeFilter::Active)
        .stale(false);
    rt.block_on(client.refetch_queries(fresh, RefetchOptions::default()));
    assert_eq!((one.calls(), two.calls()), (2, 1));
}

/// › invalidateQueries: only the active ones refetch by default;
/// `refetchType: 'none'` only marks stale; `'inactive'` and `'all'` refetch
/// those.
#[test]
fn invalidate_queries_refetches_what_refetch_type_says() {
    let (client, platform, mut rt) = tanstack();
    let (one, two, _observer) = two_fetched_one_observed(&client, &platform, &mut rt);
    rt.block_on(client.invalidate_queries_with(
        QueryFilters::all(),
        RefetchType::None,
        RefetchOptions::default(),
    ));
    assert_eq!((one.calls(), two.calls()), (1, 1), "none: no refetch");
    assert!(
        client
            .get_query_state(&key(json!(["key1"])))
            .unwrap()
            .is_invalidated
    );
    rt.block_on(client.invalidate_queries_with(
        QueryFilters::all(),
        RefetchType::Active,
        RefetchOptions::default(),
    ));
    assert_eq!((one.calls(), two.calls()), (2, 1), "active (the default)");
    rt.block_on(client.invalidate_queries_with(
        QueryFilters::all(),
        RefetchType::Inactive,
        RefetchOptions::default(),
    ));
    assert_eq!((one.calls(), two.calls()), (2, 2), "inactive");
    rt.block_on(client.invalidate_queries_with(
        QueryFilters::all(),
        RefetchType::All,
        RefetchOptions::default(),
    ));
    assert_eq!((one.calls(), two.calls()), (3, 3), "all");
}

/// › refetchQueries › "should not cancel ongoing fetches if cancelRefetch
/// option is set to false" (and, by default, "should cancel" them).
#[test]
fn cancel_refetch_false_joins_the_fetch_in_flight() {
    let (client, platform, mut rt) = tanstack();
    let server = Server::new(&platform);
    let k = key(json!(["key"]));
    client.set_query_data(&k, |_| Some(json!(1)));
    let _observer = QueryObserver::new(&client, k.clone(), server.fetcher(), forever(), || {});
    drop(client.refetch(&k));
    rt.advance(10);
    let join = RefetchOptions {
        cancel_refetch: false,
    };
    rt.block_on(client.refetch_queries(QueryFilters::all(), join));
    assert_eq!(server.calls(), 1, "joined");
    drop(client.refetch(&k));
    rt.advance(10);
    rt.block_on(client.refetch_queries(QueryFilters::all(), RefetchOptions::default()));
    assert_eq!(server.calls(), 3, "replaced");
}

/// An observed query whose observers are all disabled is not refetched
/// (› "should not refetch if all observers are disabled").
#[test]
fn refetch_queries_skips_queries_whose_observers_are_disabled() {
    let (client, platform, mut rt) = tanstack();
    let server = Server::new(&platform);
    let k = key(json!(["key"]));
    client.set_query_data(&k, |_| Some(json!("data1")));
    let disabled = QueryOptions {
        enabled: Some(false.into()),
        ..QueryOptions::default()
    };
    let _observer = QueryObserver::new(&client, k.clone(), server.fetcher(), disabled, || {});
    rt.block_on(client.refetch_queries(QueryFilters::all(), RefetchOptions::default()));
    assert_eq!(server.calls(), 0);
}

/// › "should refetch if at least one observer is enabled": each observer
/// counts with its own options, in either order of creation (the options
/// registered last are the disabled observer's here).
#[test]
fn refetch_queries_refetches_a_query_one_enabled_observer_keeps_active() {
    for enabled_first in [true, false] {
        let (client, platform, mut rt) = tanstack();
        let server = Server::new(&platform);
        let k = key(json!(["key"]));
        rt.block_on(client.fetch_query(&k, server.fetcher(), QueryOptions::default()))
            .unwrap();
        let disabled = QueryOptions {
            enabled: Some(false.into()),
            ..QueryOptions::default()
        };
        let enabled = QueryOptions {
            refetch_on_mount: Some(false.into()),
            ..QueryOptions::default()
        };
        let mut options = [enabled, disabled];
        if !enabled_first {
            options.reverse();
        }
        let observers =
            options.map(|o| QueryObserver::unmounted(&client, k.clone(), server.fetcher(), o));
        for observer in &observers {
            observer.subscribe(|_| {});
        }
        rt.block_on(client.refetch_queries(QueryFilters::all(), RefetchOptions::default()));
        assert_eq!(
            server.calls(),
            2,
            "enabled observer created first: {enabled_first}"
        );
    }
}

/// The same on focus (TanStack's `onFocus` asks each observer): the query
/// is refetched for its enabled observer whichever registered options last.
#[test]
fn focus_refetches_a_query_one_enabled_observer_keeps_active() {
    let (client, platform, mut rt) = tanstack();
    let server = Server::new(&platform);
    let k = key(json!(["key"]));
    rt.block_on(client.fetch_query(&k, server.fetcher(), QueryOptions::default()))
        .unwrap();
    let enabled = QueryOptions {
        refetch_on_mount: Some(false.into()),
        ..QueryOptions::default()
    };
    let on = QueryObserver::unmounted(&client, k.clone(), server.fetcher(), enabled);
    let off = QueryObserver::unmounted(
        &client,
        k.clone(),
        server.fetcher(),
        QueryOptions {
            enabled: Some(false.into()),
            ..QueryOptions::default()
        },
    );
    on.subscribe(|_| {});
    off.subscribe(|_| {});
    client.set_focused(false);
    client.set_focused(true);
    rt.advance(200);
    assert_eq!(server.calls(), 2);
}

/// › getQueriesData: "should return the query data for all matched
/// queries", "should return empty array if queries are not found", "should
/// accept query filters".
#[test]
fn get_queries_data_by_key_and_by_predicate() {
    let (client, _platform, _rt) = tanstack();
    client.set_query_data(&key(json!(["key1", 1])), |_| Some(json!(1)));
    client.set_query_data(&key(json!(["key1", 2])), |_| Some(json!(2)));
    client.set_query_data(&key(json!(["key2", 2])), |_| Some(json!(2)));
    let found = client.get_queries_data(&QueryFilters::key(&["key1"]));
    let found: Vec<_> = found
        .into_iter()
        .map(|(k, d)| (k.canonical().to_owned(), d.map(|d| (*d).clone())))
        .collect();
    assert_eq!(
        found,
        vec![
            (r#"["key1",1]"#.to_owned(), Some(json!(1))),
            (r#"["key1",2]"#.to_owned(), Some(json!(2))),
        ]
    );
    assert!(
        client
            .get_queries_data(&QueryFilters::key(&["nope"]))
            .is_empty()
    );
    let only = key(json!(["key1", 1]));
    let picked = client.get_queries_data(&QueryFilters::all().predicate(move |q| q.key == only));
    assert_eq!(picked.len(), 1);
    assert_eq!(*picked[0].1.clone().unwrap(), json!(1));
}

/// › setQueriesData: "should update all existing, matching queries",
/// "should accept queryFilters", "should not update non existing queries".
#[test]
fn set_queries_data_updates_matching_queries_only() {
    let (client, _platform, _rt) = tanstack();
    client.set_query_data(&key(json!(["key", 1])), |_| Some(json!(1)));
    client.set_query_data(&key(json!(["key", 2])), |_| Some(json!(2)));
    let plus_five = |old: Option<&serde_json::Value>| {
        old.and_then(serde_json::Value::as_i64)
            .map(|n| json!(n + 5))
    };
    let result = client.set_queries_data(&QueryFilters::key(&["key"]), plus_five);
    let values: Vec<_> = result
        .iter()
        .map(|(_, d)| (**d.as_ref().unwrap()).clone())
        .collect();
    assert_eq!(values, vec![json!(6), json!(7)]);
    let first = key(json!(["key", 1]));
    let result = client.set_queries_data(
        &QueryFilters::all().predicate(move |q| q.key == first),
        plus_five,
    );
    assert_eq!(result.len(), 1);
    assert_eq!(
        *client.get_query_data(&key(json!(["key", 1]))).unwrap(),
        json!(11)
    );
    assert_eq!(
        *client.get_query_data(&key(json!(["key", 2]))).unwrap(),
        json!(7)
    );
    let none = client.set_queries_data(&QueryFilters::key(&["other"]), |_| Some(json!("data")));
    assert!(none.is_empty());
    assert!(client.get_query_data(&key(json!(["other"]))).is_none());
}

/// › isFetching › "should return length of fetching queries", with filters.
#[test]
fn is_fetching_counts_the_fetching_queries_a_filter_picks() {
    let (client, platform, mut rt) = tanstack();
    let server = Server::new(&platform);
    assert_eq!(client.is_fetching_with(&QueryFilters::all()), 0);
    client.prefetch_query(
        &key(json!(["a", 1])),
        server.fetcher(),
        QueryOptions::default(),
    );
    client.prefetch_query(
        &key(json!(["b", 1])),
        server.fetcher(),
        QueryOptions::default(),
    );
    assert_eq!(client.is_fetching_with(&QueryFilters::all()), 2);
    assert_eq!(client.is_fetching_with(&QueryFilters::key(&["a"])), 1);
    rt.advance(100);
    assert_eq!(client.is_fetching_with(&QueryFilters::all()), 0);
    // Paused for the network: not fetching (TanStack's `isFetching`).
    client.set_online(false);
    client.prefetch_query(
        &key(json!(["c"])),
        server.fetcher(),
        QueryOptions::default(),
    );
    assert_eq!(client.is_fetching_with(&QueryFilters::all()), 0);
    let paused = QueryFilters::all().fetch_status(FetchStatus::Paused);
    assert_eq!(client.find_all(&paused).len(), 1);
}

/// `exact` picks the one key; without it a key prefix picks every key
/// under it, and `QueryFilters::all()` every key.
#[test]
fn exact_and_prefix_filters() {
    let (client, _platform, _rt) = tanstack();
    for k in [json!(["todos"]), json!(["todos", 1]), json!(["users"])] {
        client.set_query_data(&key(k), |_| Some(json!(0)));
    }
    assert_eq!(client.find_all(&QueryFilters::key(&["todos"])).len(), 2);
    assert_eq!(
        client
            .find_all(&QueryFilters::key(&["todos"]).exact())
            .len(),
        1
    );
    assert_eq!(client.find_all(&QueryFilters::all()).len(), 3);
}

/// utils.test.tsx › partialMatchKey: objects in a key match on the fields
/// the filter gives, arrays on their first elements.
#[test]
fn keys_match_partially_as_tanstacks_partial_match_key() {
    let a = key(json!([{"a": {"b": "b"}, "c": "c", "d": [{"d": "d "}]}]));
    let b = key(json!([{"a": {"b": "b"}, "c": "c", "d": []}]));
    assert!(a.partially_matches(&b), "a includes b");
    assert!(!b.partially_matches(&a), "b does not include a");
    assert!(key(json!([1, 2, 3])).partially_matches(&key(json!([1, 2]))));
    assert!(!key(json!([null])).partially_matches(&key(json!([{"a": 1}]))));
    let (client, _platform, _rt) = tanstack();
    client.set_query_data(
        &key(json!(["todos", {"status": "done", "page": 1}])),
        |_| Some(json!([])),
    );
    let done = QueryFilters::key(&json!(["todos", {"status": "done"}]));
    assert_eq!(client.find_all(&done).len(), 1);
    let open = QueryFilters::key(&json!(["todos", {"status": "open"}]));
    assert!(client.find_all(&open).is_empty());
    assert_eq!(
        client.find_all(&QueryFilters::key(&QueryKey::all())).len(),
        1
    );
}
