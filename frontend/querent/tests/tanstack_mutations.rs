//! TanStack Query v5's mutation cache scenarios (`mutationCache.test.tsx`,
//! `queryClient.test.tsx` › isMutating), under the fake clock: each test
//! names the TanStack test it ports.

mod common;

use common::tanstack;
use querent::filters::MutationFilters;
use querent::mutation::MutationFn;
use querent::testing::FakePlatform;
use querent::{MutateOptions, MutationDefaults, MutationStatus, Platform};
use serde_json::{Value, json};
use std::cell::Cell;
use std::rc::Rc;

/// A mutation function answering its variables after `ms`.
fn after(platform: &FakePlatform, ms: u64) -> MutationFn {
    let platform = platform.clone();
    Rc::new(move |ctx| {
        let sleep = platform.sleep(ms);
        Box::pin(async move {
            sleep.await;
            Ok(ctx.variables)
        })
    })
}

/// A mutation function that fails at once (a retryable 500), counting its
/// calls in `calls`.
fn failing_counted(calls: &Rc<Cell<u32>>) -> MutationFn {
    let calls = Rc::clone(calls);
    Rc::new(move |_| {
        calls.set(calls.get() + 1);
        Box::pin(async { Err(common::server_error()) })
    })
}

/// › isMutating › "should return length of mutating".
#[test]
fn is_mutating_counts_the_mutations_not_settled() {
    let (client, server, mut rt) = tanstack();
    client.register_mutation_json("slow", MutationDefaults::new(after(&server.platform, 10)));
    client.register_mutation_json("fast", MutationDefaults::new(after(&server.platform, 5)));
    let all = MutationFilters::all();
    assert_eq!(client.is_mutating(&all), 0);
    drop(client.mutate_json("slow", json!(1), MutateOptions::default()));
    assert_eq!(client.is_mutating(&all), 1);
    drop(client.mutate_json("fast", json!(2), MutateOptions::default()));
    assert_eq!(client.is_mutating(&all), 2);
    assert_eq!(client.is_mutating(&MutationFilters::key("fast")), 1);
    rt.advance(5);
    assert_eq!(client.is_mutating(&all), 1);
    rt.advance(5);
    assert_eq!(client.is_mutating(&all), 0);
}

/// `mutationCache.test.tsx` › find / findAll › "should filter correctly":
/// by key, by predicate, nothing for an unknown key.
#[test]
fn find_all_mutations_filters_by_key_status_and_predicate() {
    let (client, server, mut rt) = tanstack();
    for key in ["a", "b"] {
        client.register_mutation_json(key, MutationDefaults::new(after(&server.platform, 10)));
    }
    for (key, vars) in [("a", 1), ("a", 2), ("b", 3)] {
        drop(client.mutate_json(key, json!(vars), MutateOptions::default()));
    }
    let variables = |filters: MutationFilters| -> Vec<Value> {
        client
            .find_all_mutations(&filters)
            .into_iter()
            .map(|r| r.variables)
            .collect()
    };
    assert_eq!(
        variables(MutationFilters::key("a")),
        vec![json!(1), json!(2)]
    );
    assert_eq!(
        variables(MutationFilters::all().predicate(|r| r.variables == json!(2))),
        vec![json!(2)]
    );
    assert!(variables(MutationFilters::key("unknown")).is_empty());
    assert_eq!(
        variables(MutationFilters::all().status(MutationStatus::Pending)).len(),
        3
    );
    rt.advance(10);
    assert_eq!(
        variables(MutationFilters::all().status(MutationStatus::Success)).len(),
        3
    );
    assert!(variables(MutationFilters::all().status(MutationStatus::Pending)).is_empty());
}

/// A `Pending` filter picks paused mutations too (TanStack's paused
/// mutations are `status: 'pending'` with `isPaused`).
#[test]
fn a_pending_filter_picks_paused_mutations() {
    let (client, server, _rt) = tanstack();
    client.register_mutation_json("save", MutationDefaults::new(after(&server.platform, 10)));
    client.set_online(false);
    drop(client.mutate_json("save", json!(1), MutateOptions::default()));
    let paused = client.find_all_mutations(&MutationFilters::all().status(MutationStatus::Pending));
    assert_eq!(paused.len(), 1);
    assert_eq!(paused[0].status, MutationStatus::Paused);
    assert_eq!(client.is_mutating(&MutationFilters::all()), 1);
}

/// › garbage collection › "should remove unused mutations after gcTime
/// has elapsed" (and its callbacks ran once).
#[test]
fn a_settled_mutation_is_removed_after_its_gc_time() {
    let (client, server, mut rt) = tanstack();
    client.register_mutation_json(
        "a",
        MutationDefaults {
            options: querent::MutationConfig {
                gc_time: Some(10),
                ..Default::default()
            },
            ..MutationDefaults::new(after(&server.platform, 10))
        },
    );
    let successes = Rc::new(Cell::new(0));
    let counted = Rc::clone(&successes);
    drop(client.mutate_json(
        "a",
        json!(1),
        MutateOptions {
            on_success: Some(Box::new(move |_, _, _, _| counted.set(counted.get() + 1))),
            ..MutateOptions::default()
        },
    ));
    rt.advance(10);
    assert_eq!(client.mutations().len(), 1);
    rt.advance(10);
    assert!(client.mutations().is_empty());
    assert_eq!(successes.get(), 1);
}

/// Every result the observer's listener was given.
fn results_of(
    observer: &querent::MutationObserver,
) -> Rc<std::cell::RefCell<Vec<querent::MutationObserverResult>>> {
    let seen = Rc::new(std::cell::RefCell::new(Vec::new()));
    let sink = Rc::clone(&seen);
    observer.subscribe(move |r| sink.borrow_mut().push(r.clone()));
    seen
}

/// `mutations.test.tsx` › "mutation should set correct success states":
/// idle, then pending with the variables, then success with the data.
#[test]
fn a_mutation_observer_goes_from_idle_to_pending_to_success() {
    let (client, server, mut rt) = tanstack();
    client.register_mutation_json("todo", MutationDefaults::new(after(&server.platform, 10)));
    let observer = querent::MutationObserver::new(&client, "todo");
    let idle = observer.result();
    assert!(idle.is_idle() && !idle.is_pending());
    assert_eq!((idle.variables.clone(), idle.submitted_at), (None, 0));
    let seen = results_of(&observer);
    drop(observer.mutate(json!("todo"), MutateOptions::default()));
    rt.advance(10);
    let seen = seen.borrow();
    let pending = &seen[0];
    assert!(pending.is_pending() && !pending.is_idle());
    assert_eq!(pending.variables.as_deref(), Some(&json!("todo")));
    assert_eq!((pending.data.clone(), pending.failure_count), (None, 0));
    let done = seen.last().unwrap();
    assert!(done.is_success() && !done.is_pending());
    assert_eq!(done.data.as_deref(), Some(&json!("todo")));
    assert_eq!(done.error, None);
}

/// › "mutation should set correct error states" (`retry: 1`, `retryDelay:
/// 10`): pending; still pending with the first failure and its reason
/// while the retry waits; then the error after the second failure. No
/// other state between them.
#[test]
fn a_mutation_observer_shows_the_failures_then_the_error() {
    let (client, server, mut rt) = tanstack();
    let calls = Rc::new(Cell::new(0));
    let counted = Rc::clone(&calls);
    let platform = server.platform.clone();
    let failing: MutationFn = Rc::new(move |_| {
        counted.set(counted.get() + 1);
        let sleep = platform.sleep(20);
        Box::pin(async move {
            sleep.await;
            Err(common::server_error())
        })
    });
    client.register_mutation_json(
        "todo",
        MutationDefaults {
            options: querent::MutationConfig {
                retry: Some(1),
                retry_delay: Some(querent::options::retry_delay_ms(10)),
                ..Default::default()
            },
            ..MutationDefaults::new(failing)
        },
    );
    let observer = querent::MutationObserver::new(&client, "todo");
    let seen = results_of(&observer);
    drop(observer.mutate(json!("todo"), MutateOptions::default()));
    rt.advance(0);
    let code = |e: &Option<querent::QueryError>| e.as_ref().map(|e| e.code.clone());
    let states = || {
        seen.borrow()
            .iter()
            .filter(|r| r.status.is_some())
            .map(|r| {
                (
                    r.status,
                    r.failure_count,
                    code(&r.failure_reason),
                    code(&r.error),
                )
            })
            .collect::<Vec<_>>()
    };
    let boom = Some("internal_error".to_owned());
    assert_eq!(
        states(),
        vec![(Some(MutationStatus::Pending), 0, None, None)]
    );
    rt.advance(20);
    assert_eq!(
        states()[1..],
        [(Some(MutationStatus::Pending), 1, boom.clone(), None)],
        "the failure and its reason show while the retry waits"
    );
    rt.advance(29);
    assert_eq!(states().len(), 2, "nothing new while the retry runs");
    rt.advance(1);
    assert_eq!(
        states()[2..],
        [(Some(MutationStatus::Error), 2, boom.clone(), boom)],
        "retried 10 ms after the failure, failed 20 ms later"
    );
    assert_eq!(calls.get(), 2);
}

/// An observer shows its latest call only (TanStack's observer follows the
/// current mutation), and `reset` goes back to idle without stopping the
/// call.
#[test]
fn a_mutation_observer_shows_the_latest_call_and_resets_to_idle() {
    let (client, server, mut rt) = tanstack();
    client.register_mutation_json("slow", MutationDefaults::new(after(&server.platform, 50)));
    let observer = querent::MutationObserver::new(&client, "slow");
    observer.subscribe(|_| {});
    let first = observer.mutate(json!(1), MutateOptions::default());
    rt.advance(10);
    let second = observer.mutate(json!(2), MutateOptions::default());
    rt.advance(45);
    // The first call settled; the observer still shows the second, pending.
    assert_eq!(*rt.block_on(first).unwrap(), json!(1));
    let shown = observer.result();
    assert!(shown.is_pending());
    assert_eq!(shown.variables.as_deref(), Some(&json!(2)));
    observer.reset();
    assert!(observer.result().is_idle());
    assert_eq!(*rt.block_on(second).unwrap(), json!(2), "the call went on");
    assert!(
        observer.result().is_idle(),
        "and is not shown after the reset"
    );
}

/// `queryClient.test.tsx` › setMutationDefaults › "should update existing
/// mutation defaults" and "should return only matching defaults when
/// multiple mutation defaults are set"; `mutations.test.tsx` ›
/// "setMutationDefaults should be able to set defaults" (they reach the
/// mutation run: its retries, its meta), under a key prefix.
#[test]
fn mutation_defaults_apply_to_the_keys_under_their_prefix() {
    let (client, server, mut rt) = tanstack();
    let retry = |n| querent::MutationConfig {
        retry: Some(n),
        retry_delay: Some(querent::options::retry_delay_ms(1)),
        ..Default::default()
    };
    client.set_mutation_defaults("todos.", retry(1));
    client.set_mutation_defaults("todos.", retry(2));
    client.set_mutation_defaults("users.", retry(1));
    assert_eq!(
        client.get_mutation_defaults("todos.add").retry,
        Some(2),
        "updated"
    );
    assert_eq!(client.get_mutation_defaults("users.rename").retry, Some(1));
    assert_eq!(client.get_mutation_defaults("posts.add").retry, None);
    let meta = Rc::new(json!({"form": "todos"}));
    client.set_mutation_defaults(
        "todos.add",
        querent::MutationConfig {
            meta: Some(Rc::clone(&meta)),
            ..Default::default()
        },
    );
    let both = client.get_mutation_defaults("todos.add");
    assert_eq!((both.retry, both.meta), (Some(2), Some(Rc::clone(&meta))));

    let calls = Rc::new(Cell::new(0));
    client.register_mutation_json("todos.add", MutationDefaults::new(failing_counted(&calls)));
    assert!(
        rt.block_on(client.mutate_json("todos.add", json!("milk"), MutateOptions::default()))
            .is_err()
    );
    assert_eq!(calls.get(), 3, "the prefix's 2 retries");

    let once = failing_counted(&calls);
    let own = MutationDefaults {
        options: querent::MutationConfig {
            retry: Some(0),
            ..Default::default()
        },
        ..MutationDefaults::new(once)
    };
    client.register_mutation_json("todos.remove", own);
    assert!(
        rt.block_on(client.mutate_json("todos.remove", json!(1), MutateOptions::default()))
            .is_err()
    );
    assert_eq!(calls.get(), 4, "the registration's own retry wins");
    let _ = server;
}

/// `useMutation.test.tsx` › "should be able to retry a mutation when
/// online" (`networkMode: 'offlineFirst'`, `retry: 1`, `retryDelay: 5`):
/// offline, the first attempt still runs; its failure pauses the retry
/// until the network is back (`isPaused`, with the failure count and
/// reason); then it succeeds and the failure count goes back to 0.
#[test]
fn an_offline_first_mutation_tries_at_once_and_pauses_its_retry() {
    let (client, server, mut rt) = tanstack();
    client.set_online(false);
    let platform = server.platform.clone();
    let count = Rc::new(Cell::new(0));
    let counted = Rc::clone(&count);
    let flaky: MutationFn = Rc::new(move |_| {
        let sleep = platform.sleep(10);
        let counted = Rc::clone(&counted);
        Box::pin(async move {
            sleep.await;
            counted.set(counted.get() + 1);
            if counted.get() > 1 {
                Ok(json!(format!("data{}", counted.get())))
            } else {
                Err(common::server_error())
            }
        })
    });
    client.register_mutation_json(
        "todo",
        MutationDefaults {
            options: querent::MutationConfig {
                retry: Some(1),
                retry_delay: Some(querent::options::retry_delay_ms(5)),
                network_mode: Some(querent::options::NetworkMode::OfflineFirst),
                ..Default::default()
            },
            ..MutationDefaults::new(flaky)
        },
    );
    let observer = querent::MutationObserver::new(&client, "todo");
    observer.subscribe(|_| {});
    drop(observer.mutate(json!("todo"), MutateOptions::default()));
    rt.advance(16);
    let paused = observer.result();
    assert_eq!(count.get(), 1, "the first attempt ran offline");
    assert_eq!(paused.status, Some(MutationStatus::Paused));
    assert_eq!(paused.failure_count, 1);
    assert_eq!(
        paused.failure_reason.as_ref().map(|e| e.code.as_str()),
        Some("internal_error")
    );
    assert_eq!(
        client
            .find_all_mutations(&MutationFilters::key("todo"))
            .len(),
        1
    );

    client.set_online(true);
    rt.block_on(client.resume_paused_mutations());
    let done = observer.result();
    assert_eq!(done.status, Some(MutationStatus::Success));
    assert_eq!(done.data.as_deref(), Some(&json!("data2")));
    assert_eq!((done.failure_count, done.failure_reason), (0, None));
}

/// `networkMode: 'always'`: a mutation made offline runs at once, never
/// paused (TanStack's `canFetch`).
#[test]
fn an_always_mutation_runs_offline() {
    let (client, server, mut rt) = tanstack();
    client.set_online(false);
    client.set_mutation_defaults(
        "local.",
        querent::MutationConfig {
            network_mode: Some(querent::options::NetworkMode::Always),
            ..Default::default()
        },
    );
    client.register_mutation_json(
        "local.save",
        MutationDefaults::new(after(&server.platform, 10)),
    );
    client.register_mutation_json(
        "remote.save",
        MutationDefaults::new(after(&server.platform, 10)),
    );
    let local = client.mutate_json("local.save", json!(1), MutateOptions::default());
    drop(client.mutate_json("remote.save", json!(2), MutateOptions::default()));
    let status = |key: &str| client.find_all_mutations(&MutationFilters::key(key))[0].status;
    assert_eq!(status("local.save"), MutationStatus::Pending);
    assert_eq!(status("remote.save"), MutationStatus::Paused);
    assert_eq!(*rt.block_on(local).unwrap(), json!(1));
    rt.advance(1000);
    assert_eq!(
        status("remote.save"),
        MutationStatus::Paused,
        "online mode waits"
    );
}

/// A mutation restored before its function was registered is paused with
/// the reason; once the function comes it runs without that reason (it
/// was no failure: the failure count is 0), then succeeds.
#[test]
fn a_mutation_waiting_for_its_function_runs_without_the_waits_reason() {
    let (client, server, mut rt) = tanstack();
    let record = common::paused_record("late", json!(1), "k-late");
    assert_eq!(client.restore_mutations(vec![record]), 1);
    rt.advance(0);
    let waiting = client.mutations().pop().unwrap();
    assert_eq!(waiting.status, MutationStatus::Paused);
    assert!(waiting.error.is_some(), "says why it waits");
    client.register_mutation_json("late", MutationDefaults::new(after(&server.platform, 10)));
    rt.advance(0);
    let running = client.mutations().pop().unwrap();
    assert_eq!(
        (running.status, running.error),
        (MutationStatus::Pending, None)
    );
    rt.advance(10);
    assert_eq!(
        client.mutations().pop().unwrap().status,
        MutationStatus::Success
    );
}
