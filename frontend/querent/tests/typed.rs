//! Typed keys over the JSON cache: the same query as the untyped key, an
//! edit stored only when it changes something, other data left alone.

mod common;

use querent::QueryClient;
use querent::typed::Key;
use serde_json::json;

fn client() -> QueryClient {
    let (platform, _runner) = querent::testing::FakePlatform::new();
    QueryClient::new(platform)
}

#[test]
fn a_typed_key_is_the_same_query_as_its_json_array() {
    let client = client();
    let count = Key::<i64>::new(&("count", 1));
    client.set_query_data(count.query_key(), |_| Some(json!(41)));
    assert!(client.update_data(&count, |n| {
        *n += 1;
        true
    }));
    assert_eq!(client.data(&count), Some(42));
    assert_eq!(
        *client
            .get_query_data(&querent::QueryKey::from(vec![json!("count"), json!(1)]))
            .unwrap(),
        json!(42)
    );
}

#[test]
fn an_edit_that_changes_nothing_or_finds_nothing_stores_nothing() {
    let client = client();
    let list = Key::<Vec<String>>::new(&["list"]);
    assert!(!client.update_data(&list, |_| true), "nothing cached");
    assert!(client.data(&list).is_none());
    client.set_data(&list, &vec!["a".to_owned()]);
    let before = client.get_query_data(list.query_key()).unwrap();
    assert!(!client.update_data(&list, |_| false));
    let after = client.get_query_data(list.query_key()).unwrap();
    assert!(std::rc::Rc::ptr_eq(&before, &after), "not stored again");
}

#[test]
fn data_of_another_type_is_left_alone() {
    let client = client();
    let key = Key::<Vec<String>>::new(&["mixed"]);
    client.set_query_data(key.query_key(), |_| Some(json!({"not": "a list"})));
    assert!(client.data(&key).is_none());
    assert!(!client.update_data(&key, |v| {
        v.clear();
        true
    }));
    assert_eq!(
        *client.get_query_data(key.query_key()).unwrap(),
        json!({"not": "a list"})
    );
}

// ----- typed mutations -------------------------------------------------

mod mutations {
    use querent::mutation::MutationRecord;
    use querent::typed::{Call, Key, Mutation, MutationFuture, MutationOptions, Snapshot};
    use querent::{MutationStatus, QueryClient, QueryError};
    use serde::{Deserialize, Serialize};
    use serde_json::json;
    use std::cell::RefCell;
    use std::rc::Rc;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Rename {
        id: i64,
        name: String,
    }

    /// A fake server: renames what it is told unless told to refuse; each
    /// settle's outcome is logged as the definition's effect.
    #[derive(Clone, Default)]
    struct RenameUser {
        refuse: Rc<RefCell<Option<QueryError>>>,
        settled: Rc<RefCell<Vec<Result<String, String>>>>,
    }

    impl Mutation for RenameUser {
        const KEY: &'static str = "rename_user";
        type Variables = Rename;
        type Output = String;

        fn call(&self, call: Call<Rename>) -> MutationFuture<String> {
            let refused = self.refuse.borrow_mut().take();
            Box::pin(async move {
                match refused {
                    Some(error) => Err(error),
                    None => Ok(call.variables.name),
                }
            })
        }

        fn settled(&self, client: &QueryClient, v: &Rename, outcome: Result<&String, &QueryError>) {
            self.settled
                .borrow_mut()
                .push(outcome.cloned().map_err(|e| e.code.clone()));
            if let Ok(name) = outcome {
                client.set_data(&user(v.id), name);
            }
        }
    }

    fn user(id: i64) -> Key<String> {
        Key::new(&("user", id))
    }

    fn optimistic(log: &Rc<RefCell<Vec<String>>>) -> MutationOptions<RenameUser, Snapshot> {
        let log = Rc::clone(log);
        MutationOptions {
            on_mutate: Some(Box::new(|client: &QueryClient, v: &Rename| {
                client.cancel_queries(&user(v.id));
                let snapshot = client.snapshot(&[user(v.id)]);
                client.set_data(&user(v.id), &v.name);
                snapshot
            })),
            on_error: Some(Box::new(|client, _, _, snapshot: &Snapshot| {
                snapshot.restore(client)
            })),
            on_settled: Some(Box::new(move |_, outcome, v, _| {
                let seen = outcome.map_or_else(|e| e.code.clone(), Clone::clone);
                log.borrow_mut().push(format!("{}: {seen}", v.name));
            })),
            ..MutationOptions::default()
        }
    }

    fn rename(name: &str) -> Rename {
        Rename {
            id: 1,
            name: name.to_owned(),
        }
    }

    #[test]
    fn an_optimistic_rename_shows_at_once_and_a_refusal_rolls_it_back() {
        let (platform, mut runner) = querent::testing::FakePlatform::new();
        let client = QueryClient::new(platform);
        let server = RenameUser::default();
        client.register_mutation(server.clone());
        client.set_data(&user(1), &"Ann".to_owned());

        let log = Rc::default();
        let done = client.mutate_with(rename("Bea"), optimistic(&log));
        assert_eq!(client.data(&user(1)).as_deref(), Some("Bea"), "at once");
        assert_eq!(runner.block_on(done).unwrap(), "Bea");
        assert_eq!(client.data(&user(1)).as_deref(), Some("Bea"));

        *server.refuse.borrow_mut() = Some(QueryError::http(422, "too_long", "too long"));
        let done = client.mutate_with(rename("Cyd"), optimistic(&log));
        assert_eq!(client.data(&user(1)).as_deref(), Some("Cyd"));
        assert_eq!(runner.block_on(done).unwrap_err().code, "too_long");
        assert_eq!(client.data(&user(1)).as_deref(), Some("Bea"), "rolled back");
        assert_eq!(
            *server.settled.borrow(),
            [Ok("Bea".to_owned()), Err("too_long".to_owned())],
            "the definition's effects ran after each settle, with typed outcomes"
        );
        assert_eq!(
            *log.borrow(),
            ["Bea: Bea", "Cyd: too_long"],
            "and the call's"
        );
    }

    fn record(variables: serde_json::Value) -> MutationRecord {
        crate::common::paused_record(RenameUser::KEY, variables, "k")
    }

    /// After a reload only the key and JSON variables of a queued mutation
    /// are left: the replay runs through the same typed definition, and
    /// variables of another shape end in an `Invalid` error, never a call.
    #[test]
    fn a_replay_runs_the_definition_and_bad_variables_are_refused() {
        let (platform, mut runner) = querent::testing::FakePlatform::new();
        let client = QueryClient::new(platform);
        let server = RenameUser::default();
        client.register_mutation(server.clone());
        client.restore_mutations(vec![record(json!({"id": 1, "name": "Dee"}))]);
        runner.run_until_stalled();
        assert_eq!(client.data(&user(1)).as_deref(), Some("Dee"));
        let replayed = client.mutations().pop().unwrap();
        assert!(replayed.is::<RenameUser>());
        assert_eq!(replayed.variables_of::<RenameUser>(), Some(rename("Dee")));

        let mut bad = record(json!({"id": "one"}));
        bad.idempotency_key = "k2".into();
        client.restore_mutations(vec![bad]);
        runner.run_until_stalled();
        let failed = client.mutations().pop().unwrap();
        assert_eq!(failed.status, MutationStatus::Error);
        assert_eq!(failed.error.unwrap().kind, querent::ErrorKind::Invalid);
        assert_eq!(server.settled.borrow().len(), 1, "never called nor settled");
        assert_eq!(client.data(&user(1)).as_deref(), Some("Dee"));
    }
}
