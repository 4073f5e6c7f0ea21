//! The devtools' state triggers (TanStack devtools' "Trigger Loading",
//! "Trigger Error" and their "Restore"), under the fake clock.

mod common;

use common::{key, tanstack};
use querent::trigger::TRIGGERED_ERROR;
use querent::{FetchStatus, QueryOptions, QueryStatus};
use serde_json::json;

#[test]
fn trigger_loading_keeps_a_query_loading_until_restored() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["todos"]));
    rt.block_on(client.fetch_query(&k, server.fetcher(), QueryOptions::default()))
        .unwrap();

    client.trigger_loading(&k);
    let loading = |client: &querent::QueryClient| {
        let s = client.get_query_state(&k).unwrap();
        (s.data.is_some(), s.status, s.fetch_status)
    };
    assert_eq!(
        loading(&client),
        (false, QueryStatus::Pending, FetchStatus::Fetching),
        "no data, loading"
    );
    rt.advance(60_000);
    assert_eq!(
        loading(&client),
        (false, QueryStatus::Pending, FetchStatus::Fetching),
        "for as long as it takes"
    );
    // Whoever asks meanwhile joins the endless fetch, asking nobody.
    let joined = client.ensure_query_data(&k, server.fetcher(), QueryOptions::default());
    rt.advance(1_000);
    drop(joined);
    assert_eq!(server.calls(), 1, "nothing fetched while loading is shown");

    client.restore_loading(&k);
    rt.advance(100);
    assert_eq!(
        server.calls(),
        2,
        "fetched again with the query's own fetcher"
    );
    assert_eq!(*client.get_query_data(&k).unwrap(), json!({"call": 2}));
    assert_eq!(
        client.get_query_state(&k).unwrap().fetch_status,
        FetchStatus::Idle
    );
}

#[test]
fn trigger_error_shows_the_error_state_until_restored() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["todos"]));
    rt.block_on(client.fetch_query(&k, server.fetcher(), QueryOptions::default()))
        .unwrap();

    client.trigger_error(&k);
    let state = client.get_query_state(&k).unwrap();
    assert_eq!(state.status, QueryStatus::Error);
    assert!(state.data.is_none(), "no data beside the error");
    assert_eq!(state.error.unwrap().message, TRIGGERED_ERROR);

    client.restore_error(&k);
    let state = client.get_query_state(&k).unwrap();
    assert_eq!(
        (state.status, state.error.is_none()),
        (QueryStatus::Pending, true),
        "reset to its initial state"
    );
    rt.block_on(client.fetch_query(&k, server.fetcher(), QueryOptions::default()))
        .unwrap();
    assert_eq!(*client.get_query_data(&k).unwrap(), json!({"call": 2}));
}

#[test]
fn triggers_leave_unknown_queries_alone() {
    let (client, _server, _rt) = tanstack();
    let k = key(json!(["nobody"]));
    client.trigger_loading(&k);
    client.trigger_error(&k);
    assert!(client.get_query_state(&k).is_none());
}
