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
