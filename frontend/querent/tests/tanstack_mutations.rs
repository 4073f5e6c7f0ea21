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
            gc_time: 10,
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

/// › "mutation should set correct error states" (with retries: the
/// failure count and reason show while it retries).
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
            retry: 1,
            ..MutationDefaults::new(failing)
        },
    );
    let observer = querent::MutationObserver::new(&client, "todo");
    let seen = results_of(&observer);
    drop(observer.mutate(json!("todo"), MutateOptions::default()));
    rt.advance(20);
    assert_eq!(observer.result().failure_count, 1, "retrying");
    assert!(observer.result().is_pending() && observer.result().error.is_none());
    rt.advance(60_000);
    let last = observer.result();
    assert!(last.is_error() && !last.is_pending());
    assert_eq!(last.failure_count, 2);
    assert_eq!(
        last.error.as_ref().map(|e| e.code.as_str()),
        Some("internal_error")
    );
    assert_eq!(calls.get(), 2);
    assert!(seen.borrow().len() >= 3);
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
