//! TanStack Query v5's own scenarios (`packages/query-core/src/__tests__`),
//! replayed against querent under the fake clock with TanStack's defaults
//! (`QueryClient::new`): each test names the TanStack test it ports.

mod common;

use common::{Server, key, tanstack, with};
use querent::mutation::{MutationContext, MutationFn};
use querent::testing::{FakePlatform, Runner};
use querent::{
    FetchStatus, Fetcher, MutateOptions, MutationDefaults, MutationStatus, QueryClient,
    QueryDefaults, QueryObserver, QueryOptions, QueryStatus,
};
use serde_json::{Value, json};
use std::cell::RefCell;
use std::rc::Rc;

/// TanStack's defaults: `staleTime` 0 (data fetched is stale at once, so a
/// second `fetchQuery` fetches again) and `gcTime` 5 minutes.
#[test]
fn the_defaults_are_tanstacks_stale_at_once_and_collected_after_five_minutes() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["todos"]));
    rt.block_on(client.fetch_query(&k, server.fetcher(), QueryOptions::default()))
        .unwrap();
    assert!(client.is_stale(&k), "staleTime 0: stale as soon as fetched");
    rt.block_on(client.fetch_query(&k, server.fetcher(), QueryOptions::default()))
        .unwrap();
    assert_eq!(server.calls(), 2, "stale data is fetched again");
    rt.advance(5 * 60_000 - 1);
    assert!(client.get_query_state(&k).is_some(), "kept until gcTime");
    rt.advance(1);
    assert!(
        client.get_query_state(&k).is_none(),
        "unused for gcTime (5 min): collected"
    );
}

/// `queryClient.test.tsx` › prefetchQuery › "should be garbage collected
/// after gcTime if unused": the gc timer comes due while the fetch runs
/// (gcTime 10, the answer takes 100 ms); the query is collected once the
/// fetch is done, not kept for ever.
#[test]
fn a_query_whose_gc_came_due_while_fetching_is_collected_after_the_fetch() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["prefetched"]));
    client.prefetch_query(&k, server.fetcher(), with(|o| o.gc_time = Some(10)));
    rt.advance(100);
    assert_eq!(
        *client.get_query_data(&k).unwrap(),
        json!({"call": 1}),
        "fetched"
    );
    rt.advance(15);
    assert!(
        client.get_query_state(&k).is_none(),
        "collected after gcTime"
    );
}

/// The same with `fetchQuery` and `gcTime` 0 (the issue's case).
#[test]
fn fetch_query_with_gc_time_zero_leaves_nothing_behind() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["once"]));
    let data = rt
        .block_on(client.fetch_query(&k, server.fetcher(), with(|o| o.gc_time = Some(0))))
        .unwrap();
    assert_eq!(*data, json!({"call": 1}));
    rt.advance(1);
    assert!(client.get_query_state(&k).is_none());
}

/// `staleTime: Infinity` (`u64::MAX`): fresh until invalidated, however
/// long; `gcTime: Infinity`: never collected.
#[test]
fn infinite_stale_and_gc_times_never_expire() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["config"]));
    let forever = with(|o| {
        o.stale_time = Some(u64::MAX.into());
        o.gc_time = Some(u64::MAX);
    });
    rt.block_on(client.fetch_query(&k, server.fetcher(), forever.clone()))
        .unwrap();
    rt.advance(10 * 365 * 24 * 3_600_000);
    assert!(!client.is_stale(&k), "fresh after ten years");
    rt.block_on(client.fetch_query(&k, server.fetcher(), forever))
        .unwrap();
    assert_eq!(server.calls(), 1, "served from the cache");
    // Unobserved: marked stale, nothing refetched.
    drop(client.invalidate_queries(&k));
    assert!(client.is_stale(&k), "until invalidated");
}

/// `queryClient.test.tsx` › refetchQueries › "should cancel ongoing fetches
/// if cancelRefetch option is set (default value)", through
/// `invalidateQueries` (which refetches with `cancelRefetch`): the fetch in
/// flight when the data was invalidated is replaced by a new one, so the
/// invalidation is not lost to an answer asked for before it.
#[test]
fn invalidating_during_a_fetch_cancels_it_and_fetches_again() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["post", 1]));
    client.set_query_data(&k, |_| Some(json!("initial")));
    let _observer = client.subscribe(&k, || {});
    client.set_query_defaults(&k, QueryDefaults::fetcher(server.fetcher()));
    // The server answers `{"call": n}`, n being how many calls it has had.
    let first = client.refetch(&k);
    rt.advance(50);
    let invalidated = client.invalidate_queries(&key(json!(["post"])));
    rt.advance(10);
    assert_eq!(server.calls(), 2, "a second fetch replaced the first");
    assert_eq!(
        client.get_query_state(&k).unwrap().fetch_status,
        FetchStatus::Fetching
    );
    rt.block_on(invalidated);
    let after = json!({"call": 2});
    assert_eq!(*client.get_query_data(&k).unwrap(), after);
    assert!(!client.get_query_state(&k).unwrap().is_invalidated);
    // Whoever awaited the replaced fetch gets the new answer (TanStack's
    // silent cancel piggybacks on the next fetch).
    assert_eq!(*rt.block_on(first).unwrap(), after);
    rt.advance(1000);
    assert_eq!(*client.get_query_data(&k).unwrap(), after);
    assert_eq!(
        server.calls(),
        2,
        "the replaced fetch's answer is never awaited"
    );
}

/// Without data the fetch in flight is joined (TanStack cancels only when
/// there is data to keep showing).
#[test]
fn invalidating_a_query_without_data_joins_its_fetch() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["post", 2]));
    let _observer = client.subscribe(&k, || {});
    client.set_query_defaults(&k, QueryDefaults::fetcher(server.fetcher()));
    drop(client.refetch(&k));
    rt.advance(50);
    rt.block_on(client.invalidate_queries(&k));
    assert_eq!(server.calls(), 1);
}

/// `queryClient.test.tsx` › cancelQueries › "should revert queries to their
/// previous state": with previous data, the cancelled `fetchQuery` resolves
/// to that data and the query is back to success.
#[test]
fn a_cancelled_fetch_query_resolves_to_the_previous_data() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["key1"]));
    client.set_query_data(&k, |_| Some(json!("data")));
    server.respond(Ok(json!("data2")));
    // Stale at once (TanStack's default, said here so the data set above
    // is fetched again whatever the defaults).
    let stale = with(|o| o.stale_time = Some(0.into()));
    let pending = client.fetch_query(&k, server.fetcher(), stale);
    rt.advance(10);
    client.cancel_queries(&querent::QueryKey::all());
    assert_eq!(*rt.block_on(pending).unwrap(), json!("data"));
    let state = client.get_query_state(&k).unwrap();
    assert_eq!(*state.data.unwrap(), json!("data"));
    assert_eq!(state.status, QueryStatus::Success);
    assert_eq!(state.fetch_status, FetchStatus::Idle);
}

/// `queryClient.test.tsx` › cancelQueries › "should throw CancelledError for
/// imperative methods when initial fetch is cancelled": no data to resolve
/// to, so the fetch fails as cancelled, and the query is back to pending.
#[test]
fn a_cancelled_initial_fetch_fails_as_cancelled() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["key2"]));
    let pending = client.fetch_query(&k, server.fetcher(), QueryOptions::default());
    rt.advance(10);
    client.cancel_queries(&k);
    let error = rt.block_on(pending).unwrap_err();
    assert_eq!(error.kind, querent::ErrorKind::Cancelled);
    let state = client.get_query_state(&k).unwrap();
    assert_eq!(state.status, QueryStatus::Pending);
    assert_eq!(state.fetch_status, FetchStatus::Idle);
    assert!(state.data.is_none() && state.error.is_none());
}

/// `setQueryData` while a fetch runs is a manual success (TanStack's
/// `manual: true`): the fetch goes on, `isFetching` stays true. (querent
/// keeps one rule TanStack lacks: the answer of a fetch asked before the
/// write is not applied over it; an observed query asks again, and that
/// answer is.)
#[test]
fn set_query_data_during_a_fetch_leaves_the_fetch_running() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["todos"]));
    let _observer = client.subscribe(&k, || {});
    client.set_query_defaults(&k, QueryDefaults::fetcher(server.fetcher()));
    server.respond(Ok(json!(["asked before the write"])));
    server.respond(Ok(json!(["asked after the write"])));
    drop(client.refetch(&k));
    rt.advance(50);
    client.set_query_data(&k, |_| Some(json!(["written"])));
    let state = client.get_query_state(&k).unwrap();
    assert_eq!(*state.data.unwrap(), json!(["written"]));
    assert_eq!(state.fetch_status, FetchStatus::Fetching, "still fetching");
    rt.advance(50);
    assert_eq!(
        *client.get_query_data(&k).unwrap(),
        json!(["written"]),
        "the older answer does not replace the write"
    );
    rt.advance(100);
    let state = client.get_query_state(&k).unwrap();
    assert_eq!(*state.data.unwrap(), json!(["asked after the write"]));
    assert_eq!(state.fetch_status, FetchStatus::Idle);
    assert_eq!(server.calls(), 2);
}

/// An unobserved query written during its fetch: the fetch ends idle, the
/// written data stays, marked stale.
#[test]
fn set_query_data_during_an_unobserved_fetch_ends_idle_with_the_write() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["todos"]));
    client.prefetch_query(&k, server.fetcher(), QueryOptions::default());
    rt.advance(50);
    client.set_query_data(&k, |_| Some(json!(["written"])));
    assert_eq!(
        client.get_query_state(&k).unwrap().fetch_status,
        FetchStatus::Fetching
    );
    rt.advance(100);
    let state = client.get_query_state(&k).unwrap();
    assert_eq!(*state.data.unwrap(), json!(["written"]));
    assert_eq!(state.fetch_status, FetchStatus::Idle);
    assert!(state.is_invalidated);
}

/// `query.test.tsx`'s network mode "online": a fetch started offline is
/// `paused` from its first state on (`fetchState`: `canFetch ? 'fetching' :
/// 'paused'`), never `fetching` first.
#[test]
fn a_query_started_offline_is_paused_from_the_start() {
    let (client, server, mut rt) = tanstack();
    client.set_online(false);
    let k = key(json!(["offline"]));
    let seen = Rc::new(RefCell::new(vec![]));
    let _observer = {
        let (reader, seen, watched) = (client.clone(), Rc::clone(&seen), k.clone());
        client.subscribe(&k, move || {
            let state = reader.get_query_state(&watched).unwrap();
            seen.borrow_mut().push(state.fetch_status);
        })
    };
    client.prefetch_query(&k, server.fetcher(), QueryOptions::default());
    rt.advance(1000);
    assert_eq!(seen.borrow().first(), Some(&FetchStatus::Paused));
    assert!(!seen.borrow().contains(&FetchStatus::Fetching));
    assert_eq!(server.calls(), 0);
    client.set_online(true);
    rt.advance(100);
    assert_eq!(server.calls(), 1);
    assert_eq!(seen.borrow().last(), Some(&FetchStatus::Idle));
}

fn slow_mutation(platform: Rc<dyn querent::Platform>) -> MutationFn {
    Rc::new(move |ctx: MutationContext| {
        let platform = Rc::clone(&platform);
        Box::pin(async move {
            platform.sleep(100).await;
            Ok(ctx.variables)
        })
    })
}

/// `mutations.test.tsx` › scopes: a mutation waiting for an earlier one of
/// its scope cannot run yet, so it is paused (TanStack's `isPaused`), and
/// runs (pending) once the earlier one settled.
#[test]
fn a_mutation_waiting_for_its_scope_is_paused() {
    let (client, _server, mut rt) = tanstack();
    client.register_mutation_json(
        "save",
        MutationDefaults::new(slow_mutation(client.platform())),
    );
    let scoped = || MutateOptions {
        scope: Some("todos".into()),
        ..MutateOptions::default()
    };
    let first = client.mutate_json("save", json!(1), scoped());
    let second = client.mutate_json("save", json!(2), scoped());
    rt.advance(10);
    let status = |n: usize| client.mutations()[n].status;
    assert_eq!(status(0), MutationStatus::Pending);
    assert_eq!(status(1), MutationStatus::Paused, "waiting for its scope");
    rt.advance(100);
    assert_eq!(status(0), MutationStatus::Success);
    assert_eq!(status(1), MutationStatus::Pending, "its turn");
    rt.advance(100);
    assert_eq!(status(1), MutationStatus::Success);
    assert_eq!(*rt.block_on(first).unwrap(), json!(1));
    assert_eq!(*rt.block_on(second).unwrap(), json!(2));
}

/// `queryClient.test.tsx` › ensureQueryData › "should not fetch with
/// initialData": the initial data is the answer.
#[test]
fn ensure_query_data_answers_with_the_initial_data() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["key", "id"]));
    let options = with(|o| o.initial_data = Some(querent::options::initial_data("initial")));
    let data = rt
        .block_on(client.ensure_query_data(&k, server.fetcher(), options))
        .unwrap();
    assert_eq!(*data, json!("initial"));
    assert_eq!(server.calls(), 0);
}

/// `query.test.tsx` › "should work with initialDataUpdatedAt set to zero":
/// the initial data is cached with that time, as a success.
#[test]
fn initial_data_keeps_its_updated_at_even_zero() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["key"]));
    let options = with(|o| {
        o.stale_time = Some(u64::MAX.into());
        o.initial_data = Some(querent::options::initial_data("initial"));
        o.initial_data_updated_at = Some(0);
    });
    client.prefetch_query(&k, server.fetcher(), options);
    rt.run_until_stalled();
    let state = client.get_query_state(&k).unwrap();
    assert_eq!(*state.data.unwrap(), json!("initial"));
    assert_eq!(state.status, QueryStatus::Success);
    assert_eq!(state.data_updated_at, 0);
    assert_eq!(server.calls(), 0, "fresh for ever: not fetched");
}

/// `query.test.tsx` › "should update initialData when Query exists without
/// data": a query fetching without data adopts an observer's initial data,
/// keeps fetching, and the fetch's answer then replaces it.
#[test]
fn a_query_without_data_adopts_initial_data_and_its_fetch_still_lands() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["key"]));
    let fresh = with(|o| o.stale_time = Some(1000.into()));
    client.prefetch_query(&k, server.fetcher(), fresh);
    rt.advance(50);
    let state = client.get_query_state(&k).unwrap();
    assert_eq!(
        (state.status, state.fetch_status),
        (QueryStatus::Pending, FetchStatus::Fetching)
    );
    let options = with(|o| {
        o.stale_time = Some(1000.into());
        o.initial_data = Some(querent::options::initial_data("initialData"));
        o.initial_data_updated_at = Some(10);
    });
    let _observer =
        querent::QueryObserver::new(&client, k.clone(), server.fetcher(), options, || {});
    let state = client.get_query_state(&k).unwrap();
    assert_eq!(*state.data.unwrap(), json!("initialData"));
    assert_eq!(state.data_updated_at, 10);
    assert_eq!(
        (state.status, state.fetch_status),
        (QueryStatus::Success, FetchStatus::Fetching)
    );
    rt.advance(50);
    let state = client.get_query_state(&k).unwrap();
    assert_eq!(
        *state.data.unwrap(),
        json!({"call": 1}),
        "the fetch's answer"
    );
    assert_eq!(state.fetch_status, FetchStatus::Idle);
}

/// `queryClient.test.tsx` › resetQueries › "should reset query data to
/// initial data if set"; the initial-data function runs only while the
/// query has no data (`query.test.tsx` › "should call initialData function
/// when it is a function").
#[test]
fn reset_queries_returns_to_the_initial_data() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["key"]));
    let calls = Rc::new(std::cell::Cell::new(0));
    let counted = Rc::clone(&calls);
    let options = with(move |o| {
        o.initial_data = Some(Rc::new(move || {
            counted.set(counted.get() + 1);
            Some(json!("initial"))
        }));
    });
    client.prefetch_query(&k, server.fetcher(), options.clone());
    rt.run_until_stalled();
    assert_eq!(calls.get(), 1);
    // Stale at once (staleTime 0): fetched, and the answer replaces it.
    rt.advance(100);
    assert_eq!(*client.get_query_data(&k).unwrap(), json!({"call": 1}));
    client.prefetch_query(&k, server.fetcher(), options);
    assert_eq!(calls.get(), 1, "not called while the query has data");
    drop(client.reset_queries(&k));
    assert_eq!(*client.get_query_data(&k).unwrap(), json!("initial"));
}

type Calls = Rc<RefCell<Vec<String>>>;

fn recorder() -> (Calls, impl Fn(String) + Clone) {
    let calls: Calls = Rc::default();
    let sink = Rc::clone(&calls);
    (calls, move |line: String| sink.borrow_mut().push(line))
}

fn with_query_callbacks(
    record: impl Fn(String) + Clone + 'static,
) -> (QueryClient, Server, Runner) {
    use querent::client::{ClientConfig, QueryCacheConfig};
    let (platform, runner) = FakePlatform::new();
    let server = Server::new(&platform);
    let (a, b, c) = (record.clone(), record.clone(), record);
    let config = ClientConfig {
        query_cache: QueryCacheConfig {
            on_success: Some(Rc::new(move |data, key| a(format!("success {data} {key}")))),
            on_error: Some(Rc::new(move |e, key| b(format!("error {} {key}", e.code)))),
            on_settled: Some(Rc::new(move |data, e, key| {
                c(format!(
                    "settled {} {} {key}",
                    data.map_or("none".into(), ToString::to_string),
                    e.map_or("none", |e| e.code.as_str())
                ));
            })),
        },
        ..querent::client::ClientConfig::default()
    };
    (QueryClient::with_config(platform, config), server, runner)
}

/// `queryCache.test.tsx` › QueryCacheConfig error callbacks › "should call
/// onError and onSettled when a query errors".
#[test]
fn the_query_cache_calls_on_error_and_on_settled_when_a_query_errors() {
    let (calls, record) = recorder();
    let (client, server, mut rt) = with_query_callbacks(record);
    server.respond(Err(common::server_error()));
    let k = key(json!(["key"]));
    client.prefetch_query(&k, server.fetcher(), with(|o| o.retry = Some(0)));
    rt.advance(100);
    assert_eq!(
        *calls.borrow(),
        [
            r#"error internal_error ["key"]"#,
            r#"settled none internal_error ["key"]"#
        ]
    );
}

/// › QueryCacheConfig success callbacks › "should call onSuccess and
/// onSettled when a query is successful".
#[test]
fn the_query_cache_calls_on_success_and_on_settled_when_a_query_succeeds() {
    let (calls, record) = recorder();
    let (client, server, mut rt) = with_query_callbacks(record);
    server.respond(Ok(json!({"data": 5})));
    let k = key(json!(["key"]));
    client.prefetch_query(&k, server.fetcher(), QueryOptions::default());
    rt.advance(100);
    assert_eq!(
        *calls.borrow(),
        [
            r#"success {"data":5} ["key"]"#,
            r#"settled {"data":5} none ["key"]"#
        ]
    );
}

/// `mutationCache.test.tsx` › MutationCacheConfig › "should call onError and
/// onSettled when a mutation errors" (with the call's context, what its
/// `onMutate` returned) and "onMutate › should be called before a mutation
/// executes"; the cache's callback runs before the call's own, outcome then
/// settled, as TanStack's `execute` does.
#[test]
fn the_mutation_cache_calls_its_callbacks_with_variables_and_context() {
    use querent::client::{ClientConfig, MutationCacheConfig};
    let (calls, record) = recorder();
    let (platform, mut rt) = FakePlatform::new();
    let (a, b, c, d) = (
        record.clone(),
        record.clone(),
        record.clone(),
        record.clone(),
    );
    let config = ClientConfig {
        mutation_cache: MutationCacheConfig {
            on_mutate: Some(Rc::new(move |vars, r| {
                a(format!("mutate {vars} {:?}", r.status))
            })),
            on_success: Some(Rc::new(move |_, _, _, _| b("success".into()))),
            on_error: Some(Rc::new(move |e, vars, context, _| {
                c(format!("error {} {vars} {context}", e.code));
            })),
            on_settled: Some(Rc::new(move |data, e, vars, context, _| {
                d(format!(
                    "settled {} {} {vars} {context}",
                    data.is_some(),
                    e.map_or("none", |e| e.code.as_str())
                ));
            })),
        },
        ..ClientConfig::default()
    };
    let client = QueryClient::with_config(platform.clone(), config);
    let failing: MutationFn = {
        let platform: Rc<dyn querent::Platform> = Rc::new(platform);
        Rc::new(move |_: MutationContext| {
            let platform = Rc::clone(&platform);
            Box::pin(async move {
                platform.sleep(10).await;
                Err(querent::QueryError::http(422, "invalid", "no"))
            })
        })
    };
    client.register_mutation_json("save", MutationDefaults::new(failing));
    let own = record.clone();
    let options = MutateOptions {
        on_mutate: Some(Box::new(|_, _| json!("result"))),
        on_error: Some(Box::new(
            move |_, _, _, _| own("the call's on_error".into()),
        )),
        ..MutateOptions::default()
    };
    let done = client.mutate_json("save", json!("vars"), options);
    assert_eq!(
        *calls.borrow(),
        [r#"mutate "vars" Pending"#],
        "before it runs"
    );
    assert!(rt.block_on(done).is_err());
    assert_eq!(
        *calls.borrow(),
        [
            r#"mutate "vars" Pending"#,
            r#"error invalid "vars" "result""#,
            "the call's on_error",
            r#"settled false invalid "vars" "result""#,
        ]
    );
}

/// `queryClient.test.tsx` › fetchQuery › "should not retry by default"
/// (`prefetchQuery` and `ensureQueryData` are fetchQuery underneath): one
/// attempt unless the query's options or the client's defaults ask for
/// retries; an observer retries (3 by default).
#[test]
fn imperative_fetches_do_not_retry_unless_asked() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["key"]));
    server.respond(Err(common::server_error()));
    let failed = rt.block_on(client.fetch_query(&k, server.fetcher(), QueryOptions::default()));
    assert!(failed.is_err());
    assert_eq!(server.calls(), 1, "no retry");
    for _ in 0..2 {
        server.respond(Err(common::server_error()));
    }
    let asked = with(|o| o.retry = Some(2));
    let k2 = key(json!(["key2"]));
    let failed = rt.block_on(client.fetch_query(&k2, server.fetcher(), asked));
    assert!(failed.is_ok(), "the third attempt answers");
    assert_eq!(server.calls(), 4);
}

/// TanStack's `error` reducer: a failed refetch of a query with data sets
/// the status to error, keeps the data, and marks it stale.
#[test]
fn a_background_error_keeps_the_data_with_the_error_status() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["key"]));
    client.set_query_data(&k, |_| Some(json!("data")));
    server.respond(Err(common::server_error()));
    let stale = with(|o| o.stale_time = Some(0.into()));
    assert!(
        rt.block_on(client.fetch_query(&k, server.fetcher(), stale))
            .is_err()
    );
    let state = client.get_query_state(&k).unwrap();
    assert_eq!(state.status, QueryStatus::Error);
    assert_eq!(*state.data.unwrap(), json!("data"));
    assert_eq!(state.error.unwrap().code, "internal_error");
    assert!(state.is_invalidated);
}

/// A fetcher that reads its signal (as TanStack's `({ signal }) => ...`):
/// answers after 100 ms with "aborted" or "data", and records whether its
/// abort listener ran.
fn signal_reading(platform: &FakePlatform, heard: Rc<std::cell::Cell<u32>>) -> querent::Fetcher {
    let platform = platform.clone();
    Rc::new(move |ctx: querent::options::FetchContext| {
        let signal = ctx.signal();
        let heard = Rc::clone(&heard);
        signal.on_abort(move || heard.set(heard.get() + 1));
        let sleep = querent::Platform::sleep(&platform, 100);
        Box::pin(async move {
            sleep.await;
            Ok(json!(if signal.is_aborted() {
                "aborted"
            } else {
                "data"
            }))
        })
    })
}

/// `query.test.tsx` › "should provide an AbortSignal to the queryFn that
/// provides info about the cancellation state": cancelling raises it, once,
/// and the fetch fails as cancelled (there was no data).
#[test]
fn a_cancelled_fetch_raises_the_fetchers_abort_signal() {
    let (platform, mut rt) = FakePlatform::new();
    let client = QueryClient::new(platform.clone());
    let heard = Rc::new(std::cell::Cell::new(0));
    let k = key(json!(["key"]));
    let fetch = client.fetch_query(
        &k,
        signal_reading(&platform, Rc::clone(&heard)),
        QueryOptions::default(),
    );
    rt.advance(10);
    assert_eq!(heard.get(), 0);
    client.cancel_queries(&k);
    assert_eq!(heard.get(), 1, "raised on cancel");
    rt.advance(100);
    assert_eq!(heard.get(), 1, "once");
    assert_eq!(
        rt.block_on(fetch).unwrap_err().kind,
        querent::ErrorKind::Cancelled
    );
}

/// › "should not continue when last observer unsubscribed if the signal was
/// consumed": the query goes back to pending and idle, nothing cached.
#[test]
fn the_last_observer_leaving_stops_a_fetch_that_reads_its_signal() {
    let (platform, mut rt) = FakePlatform::new();
    let client = QueryClient::new(platform.clone());
    let heard = Rc::new(std::cell::Cell::new(0));
    let k = key(json!(["key"]));
    client.prefetch_query(
        &k,
        signal_reading(&platform, Rc::clone(&heard)),
        QueryOptions::default(),
    );
    rt.advance(10);
    let disabled = with(|o| o.enabled = Some(false.into()));
    let observer = querent::QueryObserver::new(
        &client,
        k.clone(),
        Server::new(&platform).fetcher(),
        disabled,
        || {},
    );
    drop(observer);
    rt.advance(90);
    assert_eq!(heard.get(), 1);
    let state = client.get_query_state(&k).unwrap();
    assert!(state.data.is_none());
    assert_eq!(
        (state.status, state.fetch_status),
        (QueryStatus::Pending, FetchStatus::Idle)
    );
}

/// A component replaced by another of the same query (the one leaving was
/// the last observer, so the fetch it read the signal of is cancelled and
/// reverted): the one arriving fetches again and gets the data, in either
/// order of leaving and arriving.
#[test]
fn an_observer_arriving_as_the_last_one_leaves_gets_the_data() {
    for leave_first in [true, false] {
        let (platform, mut rt) = FakePlatform::new();
        let client = QueryClient::new(platform.clone());
        let heard = Rc::new(std::cell::Cell::new(0));
        let k = key(json!(["key"]));
        let fetcher = signal_reading(&platform, Rc::clone(&heard));
        client.prefetch_query(&k, Rc::clone(&fetcher), QueryOptions::default());
        rt.advance(10);
        let leaving = querent::QueryObserver::new(
            &client,
            k.clone(),
            Rc::clone(&fetcher),
            QueryOptions::default(),
            || {},
        );
        rt.advance(10);
        let arriving = if leave_first {
            drop(leaving);
            querent::QueryObserver::new(&client, k.clone(), fetcher, QueryOptions::default(), || {})
        } else {
            let arriving = querent::QueryObserver::new(
                &client,
                k.clone(),
                fetcher,
                QueryOptions::default(),
                || {},
            );
            drop(leaving);
            arriving
        };
        rt.advance(300);
        let result = arriving.result();
        assert_eq!(
            result.data.as_deref(),
            Some(&json!("data")),
            "leave first: {leave_first}"
        );
        assert_eq!(result.fetch_status, FetchStatus::Idle);
    }
}

/// › "should continue if cancellation is not supported and signal is not
/// consumed": a fetcher that never reads its signal runs on, and its answer
/// is cached.
#[test]
fn a_fetch_that_ignores_its_signal_runs_on_when_the_last_observer_leaves() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["key"]));
    server.respond(Ok(json!("data")));
    client.prefetch_query(&k, server.fetcher(), QueryOptions::default());
    rt.advance(10);
    let disabled = with(|o| o.enabled = Some(false.into()));
    let observer =
        querent::QueryObserver::new(&client, k.clone(), server.fetcher(), disabled, || {});
    drop(observer);
    rt.advance(90);
    let state = client.get_query_state(&k).unwrap();
    assert_eq!(*state.data.unwrap(), json!("data"));
    assert_eq!(state.status, QueryStatus::Success);
}

/// A refetch replacing a fetch in flight (invalidation) raises the old
/// fetch's signal: its request can stop.
#[test]
fn a_replaced_fetch_is_aborted() {
    let (platform, mut rt) = FakePlatform::new();
    let client = QueryClient::new(platform.clone());
    let heard = Rc::new(std::cell::Cell::new(0));
    let k = key(json!(["key"]));
    client.set_query_data(&k, |_| Some(json!("initial")));
    let _observer = client.subscribe(&k, || {});
    client.set_query_defaults(
        &k,
        QueryDefaults::fetcher(signal_reading(&platform, Rc::clone(&heard))),
    );
    drop(client.refetch(&k));
    rt.advance(10);
    drop(client.invalidate_queries(&k));
    assert_eq!(heard.get(), 1, "the first fetch's signal");
    rt.advance(200);
    assert_eq!(*client.get_query_data(&k).unwrap(), json!("data"));
}

/// `useQuery.test.tsx` › "should fetch when refetchOnMount is false and
/// nothing has been fetched yet", "should not fetch when refetchOnMount is
/// false and data has been fetched already", "should refetch fresh query
/// when refetchOnMount is set to always".
#[test]
fn refetch_on_mount_never_if_stale_or_always() {
    use querent::options::Refetch;
    let (client, server, mut rt) = tanstack();
    let never = with(|o| o.refetch_on_mount = Some(Refetch::Never));
    let empty = key(json!(["empty"]));
    let _a = querent::QueryObserver::new(
        &client,
        empty.clone(),
        server.fetcher(),
        never.clone(),
        || {},
    );
    rt.advance(100);
    assert_eq!(server.calls(), 1, "nothing fetched yet: fetched");
    let cached = key(json!(["cached"]));
    client.set_query_data(&cached, |_| Some(json!("prefetched")));
    let _b = querent::QueryObserver::new(&client, cached.clone(), server.fetcher(), never, || {});
    rt.advance(100);
    assert_eq!(
        server.calls(),
        1,
        "data already there: not refetched, stale or not"
    );
    let always = with(|o| {
        o.refetch_on_mount = Some(Refetch::Always);
        o.stale_time = Some(u64::MAX.into());
    });
    let _c = querent::QueryObserver::new(&client, cached.clone(), server.fetcher(), always, || {});
    assert_eq!(
        client.get_query_state(&cached).unwrap().fetch_status,
        FetchStatus::Fetching,
        "fresh, and refetched"
    );
    rt.advance(100);
    assert_eq!(server.calls(), 2);
    assert_eq!(*client.get_query_data(&cached).unwrap(), json!({"call": 2}));
}

/// `useQuery.test.tsx` › "should not refetch fresh query on focus when
/// `refetchOnWindowFocus` is set to `true`" and "should refetch fresh query
/// on focus when `refetchOnWindowFocus` is set to `always`"; the same for
/// `refetchOnReconnect`.
#[test]
fn focus_and_reconnect_refetch_fresh_data_only_when_always() {
    use querent::options::Refetch;
    let (client, server, mut rt) = tanstack();
    let fresh_if_stale = with(|o| {
        o.stale_time = Some(u64::MAX.into());
        o.refetch_on_window_focus = Some(true.into());
    });
    let k = key(json!(["if-stale"]));
    let _a =
        querent::QueryObserver::new(&client, k.clone(), server.fetcher(), fresh_if_stale, || {});
    rt.advance(100);
    client.set_focused(false);
    client.set_focused(true);
    rt.advance(100);
    assert_eq!(server.calls(), 1, "fresh: not refetched on focus");

    let always = with(|o| {
        o.stale_time = Some(u64::MAX.into());
        o.refetch_on_window_focus = Some(Refetch::Always);
        o.refetch_on_reconnect = Some(Refetch::Always);
    });
    let k = key(json!(["always"]));
    let _b = querent::QueryObserver::new(&client, k.clone(), server.fetcher(), always, || {});
    rt.advance(100);
    assert_eq!(server.calls(), 2);
    client.set_focused(false);
    client.set_focused(true);
    rt.advance(100);
    assert_eq!(
        server.calls(),
        3,
        "always: refetched on focus, fresh or not"
    );
    client.set_online(false);
    client.set_online(true);
    rt.advance(100);
    assert_eq!(server.calls(), 4, "and on reconnect");
}

/// `retryDelay` as a function of the retry and the error (TanStack's
/// `retryDelay: (failureCount, error) => ms`, 0 for the first retry).
#[test]
fn retry_delay_sets_the_wait_before_each_retry() {
    let (client, server, mut rt) = tanstack();
    for _ in 0..3 {
        server.respond(Err(common::server_error()));
    }
    let options = QueryOptions {
        retry: Some(2),
        retry_delay: Some(Rc::new(|retry, _| 100 * (u64::from(retry) + 1))),
        ..QueryOptions::default()
    };
    let k = key(json!(["delayed"]));
    let observer = QueryObserver::new(&client, k, server.fetcher(), options, || {});
    rt.advance(10_000);
    // Each attempt takes 100 ms; then 100 ms, then 200 ms of waiting.
    let times = server.call_times();
    let since: Vec<i64> = times.iter().map(|t| t - times[0]).collect();
    assert_eq!(since, vec![0, 200, 500]);
    assert!(observer.result().is_error());
}

/// `refetchIntervalInBackground`: the interval goes on in a hidden window
/// only when asked.
#[test]
fn refetch_interval_in_background_goes_on_while_hidden() {
    for in_background in [false, true] {
        let (client, server, mut rt) = tanstack();
        let options = QueryOptions {
            refetch_interval: Some(1000.into()),
            refetch_interval_in_background: Some(in_background),
            ..QueryOptions::default()
        };
        let k = key(json!(["interval"]));
        let _observer = QueryObserver::new(&client, k, server.fetcher(), options, || {});
        rt.advance(100);
        client.set_focused(false);
        // Each round: 1 s of waiting, then a 100 ms fetch.
        rt.advance(3200);
        let expected = if in_background { 4 } else { 1 };
        assert_eq!(server.calls(), expected, "in background: {in_background}");
    }
}

/// `query.test.tsx` › "provides meta object inside query function",
/// "stores meta object in query" and "can use default meta".
#[test]
fn meta_reaches_the_fetcher_and_the_querys_summary() {
    let (client, server, mut rt) = tanstack();
    let seen: Rc<std::cell::RefCell<Vec<Option<Value>>>> = Rc::default();
    let sink = Rc::clone(&seen);
    let inner = server.fetcher();
    let fetcher: Fetcher = Rc::new(move |ctx| {
        sink.borrow_mut().push(ctx.meta.as_deref().cloned());
        inner(ctx)
    });
    let meta = Rc::new(json!({"it": "works"}));
    let with_meta = QueryOptions {
        meta: Some(Rc::clone(&meta)),
        ..QueryOptions::default()
    };
    let k = key(json!(["meta"]));
    rt.block_on(client.fetch_query(&k, Rc::clone(&fetcher), with_meta))
        .unwrap();
    assert_eq!(*seen.borrow(), vec![Some(json!({"it": "works"}))]);
    let summary = client.queries().into_iter().find(|q| q.key == k).unwrap();
    assert_eq!(summary.meta.as_deref(), Some(&*meta));

    let d = key(json!(["defaulted"]));
    client.set_query_defaults(
        &d,
        QueryDefaults::options(QueryOptions {
            meta: Some(Rc::new(json!("from the defaults"))),
            ..QueryOptions::default()
        }),
    );
    rt.block_on(client.fetch_query(&d, fetcher, QueryOptions::default()))
        .unwrap();
    assert_eq!(seen.borrow()[1], Some(json!("from the defaults")));
}

/// `queryClient.test.tsx` › ensureQueryData › "should return the cached
/// query data if the query is found and preFetchQuery in the background
/// when revalidateIfStale is set".
#[test]
fn ensure_query_data_answers_stale_data_and_revalidates_it_in_the_background() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["key", "id"]));
    client.set_query_data(&k, |_| Some(json!("old")));
    server.respond(Ok(json!("new")));
    let revalidate = querent::options::EnsureQueryDataOptions {
        revalidate_if_stale: true,
    };
    let first =
        client.ensure_query_data_with(&k, server.fetcher(), QueryOptions::default(), revalidate);
    assert_eq!(*rt.block_on(first).unwrap(), json!("old"));
    rt.advance(110);
    let second =
        client.ensure_query_data_with(&k, server.fetcher(), QueryOptions::default(), revalidate);
    assert_eq!(*rt.block_on(second).unwrap(), json!("new"));
    assert_eq!(server.calls(), 2, "revalidated each time it was stale");
}

/// TanStack's `updateGcTime`: a query is kept as long as the longest gc
/// time any of its observers asked for, whichever registered last.
#[test]
fn an_unobserved_query_is_kept_for_the_longest_gc_time_asked() {
    let (client, server, mut rt) = tanstack();
    let k = key(json!(["kept"]));
    let long = with(|o| o.gc_time = Some(10 * 60_000));
    let short = with(|o| o.gc_time = Some(60_000));
    let a = QueryObserver::new(&client, k.clone(), server.fetcher(), long, || {});
    let b = QueryObserver::new(&client, k.clone(), server.fetcher(), short, || {});
    rt.advance(100);
    drop((a, b));
    rt.advance(5 * 60_000);
    assert!(
        client.get_query_data(&k).is_some(),
        "kept past the shorter gc time"
    );
    rt.advance(5 * 60_000);
    assert!(
        client.get_query_state(&k).is_none(),
        "collected after the longer"
    );
}

/// `queryCache.test.tsx` › subscribe › "should notify query cache when a
/// query becomes stale" (the eight events of an observed query's first
/// fetch, in TanStack's order, the last one the result turning stale),
/// then the observer leaving and the query collected; and the mutation
/// cache's `added`, `updated`, `removed`.
#[test]
fn the_cache_tells_of_queries_observers_and_mutations_in_tanstacks_order() {
    use querent::client::CacheEvent;
    let (client, mut server, mut rt) = tanstack();
    server.latency_ms = 0;
    let events = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&events);
    let _subscription = client.subscribe_cache(move |event| sink.borrow_mut().push(event.clone()));
    let k = key(json!(["stale soon"]));
    let options = with(|o| {
        o.stale_time = Some(10.into());
        o.gc_time = Some(0);
    });
    let observer = QueryObserver::unmounted(&client, k.clone(), server.fetcher(), options);
    observer.subscribe(|_| {});
    rt.advance(11);
    use CacheEvent::*;
    let results = || ObserverResultsUpdated(k.clone());
    assert_eq!(
        std::mem::take(&mut *events.borrow_mut()),
        vec![
            Added(k.clone()),
            results(),
            ObserverAdded(k.clone()),
            results(),
            Updated(k.clone()),
            results(),
            Updated(k.clone()),
            results(),
        ]
    );
    drop(observer);
    rt.advance(0);
    assert_eq!(
        std::mem::take(&mut *events.borrow_mut()),
        vec![ObserverRemoved(k.clone()), Removed(k.clone())]
    );

    let save: querent::mutation::MutationFn =
        Rc::new(|ctx| Box::pin(async move { Ok(ctx.variables) }));
    client.register_mutation_json(
        "save",
        MutationDefaults {
            options: querent::MutationConfig {
                gc_time: Some(5),
                ..Default::default()
            },
            ..MutationDefaults::new(save)
        },
    );
    rt.block_on(client.mutate_json("save", json!(1), MutateOptions::default()))
        .unwrap();
    rt.advance(5);
    let kinds: Vec<CacheEvent> = std::mem::take(&mut *events.borrow_mut());
    assert!(kinds.len() > 2, "added, updated, removed: {kinds:?}");
    assert!(matches!(kinds.first(), Some(MutationAdded(_))), "{kinds:?}");
    assert!(
        matches!(kinds.last(), Some(MutationRemoved(_))),
        "{kinds:?}"
    );
    assert!(
        kinds[1..kinds.len() - 1]
            .iter()
            .all(|e| matches!(e, Mutation(_))),
        "{kinds:?}"
    );
}
