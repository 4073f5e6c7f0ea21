//! TanStack Query v5's `hydration.test.tsx` scenarios for `dehydrate`'s
//! options, under the fake clock: each test names the one it ports.

mod common;

use common::{key, not_found, tanstack};
use querent::hydration::{
    DehydrateOptions, DehydratedState, dehydrate, dehydrate_with, hydrate, hydrate_streamed,
};
use querent::mutation::MutationFn;
use querent::{FetchStatus, QueryStatus};
use querent::{MutateOptions, MutationDefaults, QueryClient, QueryOptions};
use serde_json::json;
use std::rc::Rc;

/// A client holding `["success"]` with data, `["loading"]` still
/// fetching and `["error"]` failed (404) without data.
fn three_queries() -> (QueryClient, querent::testing::Runner) {
    let (client, server, mut rt) = tanstack();
    server.respond(Ok(json!("success")));
    rt.block_on(client.fetch_query(
        &key(json!(["success"])),
        server.fetcher(),
        QueryOptions::default(),
    ))
    .unwrap();
    let mut slow = server.clone();
    slow.latency_ms = 10_000;
    client.prefetch_query(
        &key(json!(["loading"])),
        slow.fetcher(),
        QueryOptions::default(),
    );
    server.respond(Err(not_found()));
    let _ = rt.block_on(client.fetch_query(
        &key(json!(["error"])),
        server.fetcher(),
        QueryOptions::default(),
    ));
    (client, rt)
}

/// › "should only hydrate successful queries by default": a query still
/// loading and one that failed without data stay out.
#[test]
fn by_default_only_queries_with_data_are_dehydrated() {
    let (client, _rt) = three_queries();
    let text = serde_json::to_string(&dehydrate(&client)).unwrap();
    let (other, _, _rt2) = tanstack();
    hydrate(&other, querent::json::parse(&text).unwrap());
    assert_eq!(
        other.get_query_data(&key(json!(["success"]))).as_deref(),
        Some(&json!("success"))
    );
    assert!(other.get_query_state(&key(json!(["loading"]))).is_none());
    assert!(other.get_query_state(&key(json!(["error"]))).is_none());
}

/// › "should not dehydrate queries if dehydrateQueries is set to false"
/// and "should filter queries via dehydrateQuery".
#[test]
fn should_dehydrate_query_picks_the_queries() {
    let (client, _rt) = three_queries();
    let none = DehydrateOptions {
        should_dehydrate_query: Some(Rc::new(|_| false)),
        ..DehydrateOptions::default()
    };
    assert!(dehydrate_with(&client, &none).queries.is_empty());
    let not_success = DehydrateOptions {
        should_dehydrate_query: Some(Rc::new(|q| q.key != key(json!(["success"])))),
        ..DehydrateOptions::default()
    };
    let state = dehydrate_with(&client, &not_success);
    let keys: Vec<_> = state.queries.iter().map(|q| q.key.clone()).collect();
    assert_eq!(
        keys,
        vec![key(json!(["error"]))],
        "the pending one has nothing to give"
    );
}

/// An error query a predicate takes round-trips as its settled error
/// (TanStack dehydrates errors when `shouldDehydrateQuery` says so).
#[test]
fn a_dehydrated_error_hydrates_as_the_same_error() {
    let (client, _rt) = three_queries();
    let errors = DehydrateOptions {
        should_dehydrate_query: Some(Rc::new(|q| q.state.error.is_some())),
        ..DehydrateOptions::default()
    };
    let text = serde_json::to_string(&dehydrate_with(&client, &errors)).unwrap();
    let (other, _, _rt2) = tanstack();
    hydrate(&other, querent::json::parse(&text).unwrap());
    let state = other.get_query_state(&key(json!(["error"]))).unwrap();
    let error = state.error.unwrap();
    assert_eq!(error.kind, querent::ErrorKind::Http(404));
    assert_eq!(
        (error.code.as_str(), error.message.as_str()),
        ("not_found", "post not found")
    );
}

/// › "should not dehydrate mutations if dehydrateMutations is set to
/// false" (by default an unconfirmed one goes in, for the replay).
#[test]
fn should_dehydrate_mutation_picks_the_mutations() {
    let (client, _server, _rt) = tanstack();
    let never: MutationFn = Rc::new(|_| Box::pin(futures::future::pending()));
    client.register_mutation_json("add", MutationDefaults::new(never));
    client.set_online(false);
    drop(client.mutate_json("add", json!({"text": "text"}), MutateOptions::default()));
    assert_eq!(dehydrate(&client).mutations.len(), 1);
    let none = DehydrateOptions {
        should_dehydrate_mutation: Some(Rc::new(|_| false)),
        ..DehydrateOptions::default()
    };
    assert!(dehydrate_with(&client, &none).mutations.is_empty());
}

/// A streamed state holding `data` for `key` (as of the epoch's first ms).
fn streamed(key: &querent::QueryKey, data: serde_json::Value) -> DehydratedState {
    DehydratedState {
        queries: vec![querent::hydration::DehydratedQuery {
            key: key.clone(),
            state: querent::hydration::DehydratedQueryState::Success {
                data: Rc::new(data),
                updated_at: 1,
            },
        }],
        ..DehydratedState::default()
    }
}

/// › "should hydrate promises even without observers": a query pending
/// when the server dehydrated is fetching at once after hydration (no
/// observer asked), and settles with the result that streams in later;
/// a pending query the stream does not carry asks its own fetcher then.
#[test]
fn pending_queries_settle_with_the_streamed_state() {
    let (server_side, server, mut server_rt) = tanstack();
    server.respond(Ok(json!("success")));
    server_rt
        .block_on(server_side.fetch_query(
            &key(json!(["success"])),
            server.fetcher(),
            QueryOptions::default(),
        ))
        .unwrap();
    let mut page = dehydrate(&server_side);
    let (streamed_key, missing_key) = (key(json!(["pending"])), key(json!(["missing"])));
    page.pending = vec![streamed_key.clone(), missing_key.clone()];

    let (client, browser, mut rt) = tanstack();
    let (send, receive) = futures::channel::oneshot::channel::<DehydratedState>();
    let asked = browser.clone();
    let hydrated = hydrate_streamed(
        &client,
        page,
        async move { receive.await.ok() },
        move |_| Some((asked.fetcher(), QueryOptions::default())),
    );
    assert_eq!(hydrated, 1);
    assert_eq!(
        *client.get_query_data(&key(json!(["success"]))).unwrap(),
        json!("success")
    );
    rt.advance(1000);
    let state = client.get_query_state(&streamed_key).unwrap();
    assert_eq!(
        (
            state.status,
            state.fetch_status,
            state.data_update_count,
            state.data_updated_at
        ),
        (QueryStatus::Pending, FetchStatus::Fetching, 0, 0),
        "fetching until the stream comes"
    );
    assert_eq!(browser.calls(), 0, "nothing asked of the server meanwhile");

    let later = streamed(&streamed_key, json!("pending"));
    send.send(later).unwrap();
    rt.advance(100);
    let state = client.get_query_state(&streamed_key).unwrap();
    assert_eq!(
        (state.status, state.fetch_status, state.data_update_count),
        (QueryStatus::Success, FetchStatus::Idle, 1)
    );
    assert_eq!(
        *client.get_query_data(&streamed_key).unwrap(),
        json!("pending")
    );
    assert_eq!(
        browser.calls(),
        1,
        "only the query missing from the stream was asked"
    );
    assert!(client.get_query_data(&missing_key).is_some());
}

/// A pending key whose cached data is fresh is not fetched, and a later
/// refetch of it asks its fetcher: the streamed state is for the page's
/// first fetch only, never an answer to a refetch minutes later.
#[test]
fn a_refetch_after_hydration_asks_the_fetcher_not_the_stream() {
    let (client, browser, mut rt) = tanstack();
    let k = key(json!(["pending", "cached"]));
    client.set_query_data(&k, |_| Some(json!("cached")));
    let page = DehydratedState {
        pending: vec![k.clone()],
        ..DehydratedState::default()
    };
    let old = streamed(&k, json!("streamed"));
    let fetcher = browser.fetcher();
    let fresh = QueryOptions {
        stale_time: Some(querent::options::StaleTime::INFINITY),
        ..QueryOptions::default()
    };
    hydrate_streamed(&client, page, async move { Some(old) }, move |_| {
        Some((Rc::clone(&fetcher), fresh.clone()))
    });
    rt.advance(0);
    assert_eq!(
        *client.get_query_data(&k).unwrap(),
        json!("cached"),
        "fresh: not fetched"
    );
    let data = rt.block_on(client.refetch(&k)).unwrap();
    assert_eq!(*data, json!({"call": 1}), "the refetch asked the fetcher");
    assert_eq!(browser.calls(), 1);
}
