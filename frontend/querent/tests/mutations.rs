//! Mutations: optimistic update and rollback, scopes, the offline queue,
//! replay after reload with the same idempotency key.

mod common;

use common::{key, server_error, setup};
use querent::mutation::{MutationContext, MutationFn};
use querent::{MutateOptions, MutationDefaults, MutationStatus, QueryClient, QueryError};
use serde_json::{Value, json};
use std::cell::RefCell;
use std::rc::Rc;

/// A fake API for `add_todo`: records each request (variables, idempotency
/// key, time), applies each idempotency key once, and can be told to fail.
#[derive(Clone, Default)]
struct Api {
    requests: Rc<RefCell<Vec<(Value, String)>>>,
    applied: Rc<RefCell<Vec<String>>>,
    fail_next: Rc<RefCell<Vec<QueryError>>>,
}

impl Api {
    fn function(&self, platform: Rc<dyn querent::Platform>) -> MutationFn {
        let api = self.clone();
        Rc::new(move |ctx: MutationContext| {
            let api = api.clone();
            let platform = Rc::clone(&platform);
            Box::pin(async move {
                api.requests
                    .borrow_mut()
                    .push((ctx.variables.clone(), ctx.idempotency_key.clone()));
                platform.sleep(100).await;
                if let Some(e) = api.fail_next.borrow_mut().pop() {
                    return Err(e);
                }
                let mut applied = api.applied.borrow_mut();
                if !applied.contains(&ctx.idempotency_key) {
                    applied.push(ctx.idempotency_key.clone());
                }
                Ok(json!({"saved": ctx.variables}))
            })
        })
    }
}

fn todos() -> querent::QueryKey {
    key(json!(["todos"]))
}

/// Optimistically appends the title to the todo list; returns the old list.
fn optimistic(title: &str) -> MutateOptions {
    let title = title.to_owned();
    MutateOptions {
        on_mutate: Some(Box::new(move |client: &QueryClient, _vars: &Value| {
            client.cancel_queries(&todos());
            let before = client.get_query_data(&todos()).map(|d| (*d).clone());
            client.set_query_data(&todos(), |old| {
                let mut list = old.cloned().unwrap_or(json!([]));
                list.as_array_mut().unwrap().push(json!(title));
                Some(list)
            });
            before.unwrap_or(Value::Null)
        })),
        on_error: Some(Box::new(
            |client: &QueryClient, _e, _vars, context: &Value| {
                let context = context.clone();
                client.set_query_data(&todos(), move |_| Some(context));
            },
        )),
        ..Default::default()
    }
}

fn todo_list(client: &QueryClient) -> Value {
    (*client.get_query_data(&todos()).unwrap()).clone()
}

#[test]
fn optimistic_update_shows_at_once_and_is_kept_on_success() {
    let (client, _server, mut rt) = setup();
    let api = Api::default();
    client.register_mutation_json(
        "add_todo",
        MutationDefaults::new(api.function(client.platform())),
    );
    client.set_query_data(&todos(), |_| Some(json!(["a"])));
    let unconfirmed_during_success = Rc::new(std::cell::Cell::new(usize::MAX));
    let seen = Rc::clone(&unconfirmed_during_success);
    let mut options = optimistic("b");
    options.on_success = Some(Box::new(move |client: &QueryClient, _d, _v, _c| {
        seen.set(client.pending_mutations());
    }));
    let done = client.mutate_json("add_todo", json!({"title": "b"}), options);
    assert_eq!(
        todo_list(&client),
        json!(["a", "b"]),
        "visible before the server answers"
    );
    assert_eq!(client.pending_mutations(), 1);
    let result = rt.block_on(done);
    assert_eq!(result.unwrap()["saved"]["title"], "b");
    assert_eq!(todo_list(&client), json!(["a", "b"]));
    assert_eq!(
        unconfirmed_during_success.get(),
        1,
        "callbacks run before the mutation stops counting as unconfirmed"
    );
    assert_eq!(client.pending_mutations(), 0);
}

/// A failure on the client's side (input that cannot be sent, an answer
/// that is not the data expected) ends the mutation at once: it is not
/// paused as if the network were down, nor retried, even with retries on.
#[test]
fn a_local_failure_ends_the_mutation_at_once() {
    for failure in [
        QueryError::invalid("invalid_variables", "missing field `id`"),
        QueryError::decode("not a post"),
    ] {
        let (client, _server, mut rt) = setup();
        let api = Api::default();
        api.fail_next.borrow_mut().push(failure.clone());
        client.register_mutation_json(
            "add_todo",
            MutationDefaults {
                options: querent::MutationConfig {
                    retry: Some(3),
                    ..Default::default()
                },
                ..MutationDefaults::new(api.function(client.platform()))
            },
        );
        client.set_query_data(&todos(), |_| Some(json!(["a"])));
        let done = client.mutate_json("add_todo", json!({"title": "b"}), optimistic("b"));
        let result = rt.block_on(done);
        assert_eq!(result.unwrap_err().kind, failure.kind);
        assert_eq!(api.requests.borrow().len(), 1, "tried once");
        assert_eq!(todo_list(&client), json!(["a"]), "rolled back");
        assert_eq!(
            client.mutations().pop().unwrap().status,
            MutationStatus::Error
        );
    }
}

#[test]
fn a_server_error_rolls_back_with_the_context() {
    let (client, _server, mut rt) = setup();
    let api = Api::default();
    api.fail_next.borrow_mut().push(server_error());
    client.register_mutation_json(
        "add_todo",
        MutationDefaults::new(api.function(client.platform())),
    );
    client.set_query_data(&todos(), |_| Some(json!(["a"])));
    let settled = Rc::new(RefCell::new(None));
    let s = Rc::clone(&settled);
    let mut options = optimistic("b");
    options.on_settled = Some(Box::new(move |_c, result, _v, _ctx| {
        *s.borrow_mut() = Some(result.is_ok());
    }));
    let done = client.mutate_json("add_todo", json!({"title": "b"}), options);
    assert_eq!(todo_list(&client), json!(["a", "b"]));
    let result = rt.block_on(done);
    assert_eq!(result.unwrap_err().status(), Some(500));
    assert_eq!(todo_list(&client), json!(["a"]), "rolled back");
    assert_eq!(*settled.borrow(), Some(false));
    let record = client.mutations().pop().unwrap();
    assert_eq!(record.status, MutationStatus::Error);
    assert_eq!(
        api.requests.borrow().len(),
        1,
        "mutations do not retry by default"
    );
}

#[test]
fn mutations_in_one_scope_run_one_at_a_time_in_order() {
    let (client, _server, mut rt) = setup();
    let api = Api::default();
    client.register_mutation_json(
        "add_todo",
        MutationDefaults::new(api.function(client.platform())),
    );
    let scoped = |title: &str| MutateOptions {
        scope: Some("todos".into()),
        ..optimistic(title)
    };
    let a = client.mutate_json("add_todo", json!("a"), scoped("a"));
    let b = client.mutate_json("add_todo", json!("b"), scoped("b"));
    let c = client.mutate_json("add_todo", json!("c"), MutateOptions::default());
    rt.run_until_stalled();
    let started: Vec<Value> = api.requests.borrow().iter().map(|r| r.0.clone()).collect();
    assert_eq!(
        started,
        [json!("a"), json!("c")],
        "b waits for a; c has no scope"
    );
    rt.advance(100);
    let started: Vec<Value> = api.requests.borrow().iter().map(|r| r.0.clone()).collect();
    assert_eq!(started, [json!("a"), json!("c"), json!("b")]);
    rt.block_on(async move {
        a.await.unwrap();
        b.await.unwrap();
        c.await.unwrap();
    });
}

#[test]
fn offline_mutations_pause_then_replay_in_order_when_back_online() {
    let (client, _server, mut rt) = setup();
    let api = Api::default();
    client.register_mutation_json(
        "add_todo",
        MutationDefaults::new(api.function(client.platform())),
    );
    client.set_query_data(&todos(), |_| Some(json!([])));
    client.set_online(false);
    let first = client.mutate_json("add_todo", json!("first"), optimistic("first"));
    let second = client.mutate_json("add_todo", json!("second"), optimistic("second"));
    rt.advance(60_000);
    assert!(api.requests.borrow().is_empty(), "nothing is sent offline");
    assert_eq!(
        todo_list(&client),
        json!(["first", "second"]),
        "but both show at once"
    );
    assert!(
        client
            .mutations()
            .iter()
            .all(|m| m.status == MutationStatus::Paused)
    );
    assert_eq!(client.pending_mutations(), 2);
    client.set_online(true);
    rt.run_until_stalled();
    assert_eq!(api.requests.borrow().len(), 1, "one at a time");
    rt.block_on(async move {
        first.await.unwrap();
        second.await.unwrap();
    });
    let order: Vec<Value> = api.requests.borrow().iter().map(|r| r.0.clone()).collect();
    assert_eq!(order, [json!("first"), json!("second")]);
    assert_eq!(client.pending_mutations(), 0);
}

#[test]
fn a_lost_response_is_replayed_with_the_same_idempotency_key() {
    let (client, _server, mut rt) = setup();
    let api = Api::default();
    // The server applies it, but the answer never arrives.
    let applied_then_lost: MutationFn = {
        let inner = api.function(client.platform());
        let lost = Rc::new(std::cell::Cell::new(true));
        Rc::new(move |ctx| {
            let inner = Rc::clone(&inner);
            let lost = Rc::clone(&lost);
            Box::pin(async move {
                let result = inner(ctx).await;
                if lost.replace(false) {
                    return Err(QueryError::network("connection reset"));
                }
                result
            })
        })
    };
    client.register_mutation_json("add_todo", MutationDefaults::new(applied_then_lost));
    let done = client.mutate_json("add_todo", json!("once"), MutateOptions::default());
    let result = rt.block_on(done);
    assert!(result.is_ok());
    let requests = api.requests.borrow();
    assert_eq!(requests.len(), 2, "retried after the network error");
    assert_eq!(
        requests[0].1, requests[1].1,
        "with the same key (what lets a server apply it once)"
    );
}

#[test]
fn unconfirmed_mutations_survive_a_reload_and_replay_exactly_once() {
    let storage = querent::persist::MemoryStorage::default();
    let api = Api::default();
    let options = querent::persist::PersistOptions {
        buster: "v1".into(),
        ..Default::default()
    };
    // First page life: offline, two mutations, then the tab is closed.
    let keys = {
        let (client, _server, mut rt) = setup();
        client.register_mutation_json(
            "add_todo",
            MutationDefaults::new(api.function(client.platform())),
        );
        let handle = querent::persist::persist(&client, Rc::new(storage.clone()), options.clone());
        client.set_online(false);
        drop(client.mutate_json("add_todo", json!("one"), MutateOptions::default()));
        drop(client.mutate_json("add_todo", json!("two"), MutateOptions::default()));
        rt.advance(10);
        handle.flush();
        client
            .mutations()
            .iter()
            .map(|m| m.idempotency_key.clone())
            .collect::<Vec<_>>()
    };
    assert!(api.requests.borrow().is_empty());
    // After the reload: restored before the app registers the function.
    let (client, _server, mut rt) = setup();
    let restored = querent::persist::restore(&client, &storage, &options);
    assert_eq!(
        restored,
        querent::persist::Restored::Adopted {
            queries: 0,
            mutations: 2
        }
    );
    assert_eq!(client.pending_mutations(), 2);
    // The same stored records again (another tab's write carries them):
    // known by their idempotency keys, nothing is adopted twice.
    assert_eq!(client.restore_mutations(client.mutations()), 0);
    assert_eq!(client.pending_mutations(), 2);
    rt.advance(1000);
    assert!(
        api.requests.borrow().is_empty(),
        "no function yet: waits, keeps them"
    );
    client.register_mutation_json(
        "add_todo",
        MutationDefaults::new(api.function(client.platform())),
    );
    rt.advance(1000);
    let sent: Vec<(Value, String)> = api.requests.borrow().clone();
    assert_eq!(
        sent.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
        [json!("one"), json!("two")]
    );
    assert_eq!(
        sent.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
        keys,
        "original idempotency keys"
    );
    assert_eq!(client.pending_mutations(), 0);
}

#[test]
fn registry_hooks_run_for_replayed_mutations() {
    let (client, _server, mut rt) = setup();
    let api = Api::default();
    let invalidated = Rc::new(std::cell::Cell::new(0));
    let seen = Rc::clone(&invalidated);
    let mut defaults = MutationDefaults::new(api.function(client.platform()));
    defaults.on_settled = Some(Rc::new(move |_client, record| {
        assert_eq!(record.status, MutationStatus::Success);
        seen.set(seen.get() + 1);
    }));
    client.register_mutation_json("add_todo", defaults);
    let record = common::paused_record("add_todo", json!("x"), "k-1");
    assert_eq!(client.restore_mutations(vec![record]), 1);
    rt.advance(200);
    assert_eq!(invalidated.get(), 1);
}

fn busy() -> QueryError {
    QueryError::http(503, "unavailable", "the database is busy").with_retry_after(1000)
}

#[test]
fn a_busy_server_is_asked_again_after_its_retry_after_and_applies_once() {
    let (client, _server, mut rt) = setup();
    let api = Api::default();
    api.fail_next.borrow_mut().extend([busy(), busy()]);
    // No retries of server errors configured: Retry-After still counts.
    client.register_mutation_json(
        "add_todo",
        MutationDefaults::new(api.function(client.platform())),
    );
    let start = rt.now();
    let result = rt.block_on(client.mutate_json("add_todo", json!("x"), MutateOptions::default()));
    assert_eq!(result.unwrap()["saved"], "x");
    let requests = api.requests.borrow();
    assert_eq!(requests.len(), 3, "two busy answers, then success");
    assert!(
        requests.iter().all(|(_, k)| *k == requests[0].1),
        "every resend carries the same idempotency key"
    );
    assert_eq!(api.applied.borrow().len(), 1, "applied once");
    assert_eq!(
        rt.now() - start,
        3 * 100 + 2 * 1000,
        "three 100 ms requests, each resend after the 1 s the server asked for"
    );
}

#[test]
fn a_server_that_stays_busy_ends_in_the_error_after_bounded_retries() {
    let (client, _server, mut rt) = setup();
    let api = Api::default();
    api.fail_next
        .borrow_mut()
        .extend(std::iter::repeat_n(busy(), 10));
    client.register_mutation_json(
        "add_todo",
        MutationDefaults::new(api.function(client.platform())),
    );
    client.set_query_data(&todos(), |_| Some(json!(["a"])));
    let result = rt.block_on(client.mutate_json("add_todo", json!("b"), optimistic("b")));
    assert_eq!(result.unwrap_err().code, "unavailable");
    assert_eq!(
        api.requests.borrow().len(),
        1 + querent::retryer::RETRY_AFTER_ATTEMPTS as usize,
        "the first attempt and the bounded resends"
    );
    assert!(api.applied.borrow().is_empty());
    assert_eq!(todo_list(&client), json!(["a"]), "rolled back");
    assert_eq!(client.pending_mutations(), 0);
}

/// A call given an idempotency key (a form the browser posted itself with
/// that key before the app took the page over) sends it, so the server
/// answers the app's call from the first; a key the client already used is
/// never sent for another call.
#[test]
fn a_call_given_an_idempotency_key_sends_it_once() {
    let (client, _server, mut rt) = setup();
    let api = Api::default();
    client.register_mutation_json(
        "add_todo",
        MutationDefaults::new(api.function(client.platform())),
    );
    let given = |key: &str| MutateOptions {
        idempotency_key: Some(key.to_owned()),
        ..Default::default()
    };
    let first = client.mutate_json("add_todo", json!({"title": "a"}), given("form-1"));
    assert!(rt.block_on(first).is_ok());
    let again = client.mutate_json("add_todo", json!({"title": "b"}), given("form-1"));
    assert!(rt.block_on(again).is_ok());
    let plain = client.mutate_json("add_todo", json!({"title": "c"}), MutateOptions::default());
    assert!(rt.block_on(plain).is_ok());
    let keys: Vec<String> = api
        .requests
        .borrow()
        .iter()
        .map(|(_, k)| k.clone())
        .collect();
    assert_eq!(keys[0], "form-1");
    assert_ne!(keys[1], "form-1", "a used key is not sent for another call");
    assert_ne!(keys[2], keys[1]);
    assert_eq!(api.applied.borrow().len(), 3);
}

/// A journal whose appends end when the test says (the disk's commit), and
/// which records what it holds.
#[derive(Clone, Default)]
struct Journal {
    held: Rc<RefCell<Vec<String>>>,
    commits: Rc<RefCell<Vec<futures::channel::oneshot::Sender<()>>>>,
}

impl querent::MutationJournal for Journal {
    fn append(
        &self,
        record: &querent::MutationRecord,
    ) -> futures::future::LocalBoxFuture<'static, Result<(), querent::persist::StorageError>> {
        self.held.borrow_mut().push(record.idempotency_key.clone());
        let (commit, committed) = futures::channel::oneshot::channel();
        self.commits.borrow_mut().push(commit);
        Box::pin(async move {
            let _ = committed.await;
            Ok(())
        })
    }

    fn forget(&self, idempotency_key: &str) {
        self.held.borrow_mut().retain(|k| k != idempotency_key);
    }
}

/// A client with `add_todo` registered and a [`Journal`].
fn journaled() -> (QueryClient, querent::testing::Runner, Api, Journal) {
    let (client, _server, rt) = setup();
    let api = Api::default();
    client.register_mutation_json(
        "add_todo",
        MutationDefaults::new(api.function(client.platform())),
    );
    let journal = Journal::default();
    client.set_mutation_journal(Some(Rc::new(journal.clone())));
    (client, rt, api, journal)
}

/// With a journal, a mutation shows (counted, optimistic update applied)
/// only once the journal has it on disk, and leaves the journal when it
/// settles.
#[test]
fn a_journaled_mutation_shows_only_once_it_is_stored() {
    let (client, mut rt, api, journal) = journaled();
    client.set_query_data(&todos(), |_| Some(json!(["a"])));

    let done = client.mutate_json("add_todo", json!({"title": "b"}), optimistic("b"));
    rt.run_until_stalled();
    assert_eq!(journal.held.borrow().len(), 1, "being stored");
    assert_eq!(
        client.pending_mutations(),
        0,
        "not shown before it is stored"
    );
    assert_eq!(todo_list(&client), json!(["a"]));
    assert!(api.requests.borrow().is_empty(), "nor sent");

    let commit = journal.commits.borrow_mut().remove(0);
    commit.send(()).unwrap();
    rt.run_until_stalled();
    assert_eq!(client.pending_mutations(), 1, "stored: shown");
    assert_eq!(todo_list(&client), json!(["a", "b"]));
    let result = rt.block_on(done);
    assert_eq!(result.unwrap()["saved"]["title"], "b");
    assert!(journal.held.borrow().is_empty(), "settled: forgotten");
}

/// A journal that never answers (a database that never opens) does not
/// hold a change back for ever: it shows after `JOURNAL_PATIENCE_MS`, and
/// is sent.
#[test]
fn a_journal_that_never_answers_delays_a_mutation_only_so_long() {
    let (client, mut rt, api, journal) = journaled();
    let done = client.mutate_json("add_todo", json!({"title": "b"}), MutateOptions::default());
    rt.advance(querent::mutation::JOURNAL_PATIENCE_MS - 1);
    assert_eq!(client.pending_mutations(), 0, "waiting for the journal");
    rt.advance(1);
    assert_eq!(client.pending_mutations(), 1, "shown without it");
    assert!(rt.block_on(done).is_ok(), "and sent");
    assert_eq!(api.requests.borrow().len(), 1, "once");
    assert!(journal.held.borrow().is_empty(), "settled: forgotten");
}

/// Mutations enter the queue in the order they were made, whichever
/// journal append ends first: a later change of the same scope whose
/// append ends (or fails) first waits for the earlier one.
#[test]
fn journaled_mutations_enter_in_the_order_they_were_made() {
    let (client, mut rt, api, journal) = journaled();
    let scoped = || MutateOptions {
        scope: Some("todos".into()),
        ..MutateOptions::default()
    };
    let first = client.mutate_json("add_todo", json!({"title": "first"}), scoped());
    let second = client.mutate_json("add_todo", json!({"title": "second"}), scoped());
    rt.run_until_stalled();
    assert_eq!(journal.held.borrow().len(), 2, "both being stored");
    // The second is on disk first.
    let second_commit = journal.commits.borrow_mut().remove(1);
    second_commit.send(()).unwrap();
    rt.run_until_stalled();
    assert_eq!(
        client.pending_mutations(),
        0,
        "the second waits for the first"
    );
    assert!(api.requests.borrow().is_empty());
    let first_commit = journal.commits.borrow_mut().remove(0);
    first_commit.send(()).unwrap();
    rt.run_until_stalled();
    assert_eq!(client.pending_mutations(), 2);
    assert!(rt.block_on(first).is_ok());
    assert!(rt.block_on(second).is_ok());
    let titles: Vec<Value> = api
        .requests
        .borrow()
        .iter()
        .map(|(v, _)| v["title"].clone())
        .collect();
    assert_eq!(titles, vec![json!("first"), json!("second")]);
}
