//! Persistence: round trip, throttled writes, buster, max age, corrupt data,
//! quota eviction, another tab's writes, tabs sharing the mutation queue.

mod common;

use common::{key, setup};
use querent::persist::{self, MemoryStorage, PersistOptions, Restored, Storage};
use querent::testing::FakePlatform;
use querent::{QueryClient, QueryObserver, QueryOptions};
use serde_json::json;
use std::rc::Rc;

fn options() -> PersistOptions {
    PersistOptions {
        buster: "v1".into(),
        ..Default::default()
    }
}

const KEY: &str = "querent-cache";

#[test]
fn the_cache_round_trips_through_storage() {
    let storage = MemoryStorage::default();
    let (client, _s, mut rt) = setup();
    let handle = persist::persist(&client, Rc::new(storage.clone()), options());
    client.set_query_data(&key(json!(["post", 1])), |_| Some(json!({"title": "hi"})));
    client.set_query_data(&key(json!(["users"])), |_| Some(json!([1, 2])));
    rt.advance(1000);
    assert_eq!(handle.writes(), 1, "two changes, one throttled write");

    let (restored, server, mut rt2) = setup();
    rt2.advance(5000);
    assert_eq!(
        persist::restore(&restored, &storage, &options()),
        Restored::Adopted {
            queries: 2,
            mutations: 0
        }
    );
    assert_eq!(
        restored.get_query_data(&key(json!(["post", 1]))).unwrap()["title"],
        "hi"
    );
    let state = restored.get_query_state(&key(json!(["users"]))).unwrap();
    assert_eq!(
        state.data_updated_at,
        querent::testing::START_MS,
        "original fetch time kept"
    );
    // Restored data inside its stale time is not refetched when observed.
    let _o = QueryObserver::new(
        &restored,
        key(json!(["users"])),
        server.fetcher(),
        QueryOptions::default(),
        || {},
    );
    rt2.advance(100);
    assert_eq!(server.calls(), 0);
}

/// The page's embedded state (in the cache before persistence starts) is
/// stored without waiting for a change, so an offline reload has it.
#[test]
fn what_the_cache_holds_at_start_is_stored() {
    let storage = MemoryStorage::default();
    let (client, _s, mut rt) = setup();
    client.set_query_data(&key(json!(["post", 1])), |_| {
        Some(json!({"title": "embedded"}))
    });
    let handle = persist::persist(&client, Rc::new(storage.clone()), options());
    rt.advance(1000);
    assert_eq!(handle.writes(), 1);
    assert!(storage.get(KEY).unwrap().unwrap().contains("embedded"));
}

#[test]
fn writes_are_throttled_and_flush_writes_at_once() {
    let storage = MemoryStorage::default();
    let (client, _s, mut rt) = setup();
    let handle = persist::persist(&client, Rc::new(storage.clone()), options());
    for i in 0..50 {
        client.set_query_data(&key(json!(["n"])), |_| Some(json!(i)));
        rt.advance(100);
    }
    // 5 s of changes every 100 ms: about one write per second.
    // Changes from 0 to 4.9 s: writes at 1, 2, 3, 4 and 5 s.
    assert_eq!(handle.writes(), 5);
    client.set_query_data(&key(json!(["n"])), |_| Some(json!("last")));
    handle.flush();
    let stored = storage.get(KEY).unwrap().unwrap();
    assert!(stored.contains("\"last\""), "flushed on demand (page hide)");
    let before = handle.writes();
    handle.flush();
    assert_eq!(handle.writes(), before, "nothing changed: no write");
}

/// A change the badge counts as pending is already in storage: a tab killed
/// inside the throttle window (no `pagehide`, no flush) loses nothing.
#[test]
fn a_queued_mutation_is_stored_before_it_is_shown_as_pending() {
    let storage = MemoryStorage::default();
    let (client, _s, _rt) = setup();
    let handle = persist::persist(&client, Rc::new(storage.clone()), options());
    client.set_online(false);
    let seen_in_storage = Rc::new(std::cell::Cell::new(false));
    let seen = Rc::clone(&seen_in_storage);
    let probe = storage.clone();
    let mutate_options = querent::MutateOptions {
        // The optimistic update is what shows the change: by then the
        // queue must be stored.
        on_mutate: Some(Box::new(move |_c: &QueryClient, _v: &serde_json::Value| {
            let stored = probe.get(KEY).unwrap().unwrap_or_default();
            seen.set(stored.contains("\"variables\":\"kept\""));
            serde_json::Value::Null
        })),
        ..Default::default()
    };
    drop(client.mutate_json("add", json!("kept"), mutate_options));
    assert!(seen_in_storage.get(), "stored before on_mutate ran");
    assert_eq!(client.pending_mutations(), 1);
    let writes = handle.writes();
    assert!(writes >= 1, "written without waiting for the throttle");

    // A new tab on the same storage, after a crash (nothing flushed), finds it.
    let (platform, _rt2) = FakePlatform::new();
    let next = QueryClient::new(platform);
    next.set_online(false);
    assert_eq!(
        persist::restore(&next, &storage, &options()),
        Restored::Adopted {
            queries: 0,
            mutations: 1
        }
    );
}

#[test]
fn corrupt_foreign_and_old_format_data_is_discarded_with_a_warning() {
    for (text, reason) in [
        ("{not json", "not a persisted cache"),
        (r#"{"something":"else"}"#, "not a persisted cache"),
        (
            r#"{"timestamp":1,"buster":"v0","client_state":{"version":1,"queries":[]}}"#,
            "written by version",
        ),
        (
            r#"{"timestamp":1,"buster":"v1","client_state":{"version":0,"queries":[]}}"#,
            "format version",
        ),
    ] {
        let (platform, _rt) = FakePlatform::new();
        let client = QueryClient::new(platform.clone());
        let storage = MemoryStorage::default();
        storage.set(KEY, text).unwrap();
        let outcome = persist::restore(&client, &storage, &options());
        assert!(
            matches!(&outcome, Restored::Discarded(r) if r.contains(reason)),
            "{text}: {outcome:?}"
        );
        assert_eq!(storage.get(KEY).unwrap(), None, "cleared");
        assert!(
            platform.warnings().iter().any(|w| w.contains(reason)),
            "{:?}",
            platform.warnings()
        );
        assert!(client.queries().is_empty());
    }
}

#[test]
fn data_older_than_max_age_is_dropped_but_pending_mutations_are_kept() {
    let storage = MemoryStorage::default();
    {
        let (client, _s, mut rt) = setup();
        let handle = persist::persist(&client, Rc::new(storage.clone()), options());
        client.set_query_data(&key(json!(["post", 1])), |_| Some(json!(1)));
        client.set_online(false);
        drop(client.mutate_json("add", json!("x"), querent::MutateOptions::default()));
        rt.advance(10);
        handle.flush();
    }
    let (platform, mut rt) = FakePlatform::new();
    rt.advance(25 * 60 * 60 * 1000);
    let client = QueryClient::new(platform.clone());
    client.set_online(false);
    let outcome = persist::restore(&client, &storage, &options());
    assert_eq!(
        outcome,
        Restored::Adopted {
            queries: 0,
            mutations: 1
        }
    );
    assert!(client.get_query_data(&key(json!(["post", 1]))).is_none());
    assert_eq!(client.pending_mutations(), 1);
    assert!(platform.warnings().iter().any(|w| w.contains("old")));
}

#[test]
fn quota_exceeded_evicts_the_oldest_queries_and_never_loops() {
    let storage = MemoryStorage::with_limit(4_000);
    let (client, _s, mut rt) = setup();
    let handle = persist::persist(&client, Rc::new(storage.clone()), options());
    for i in 0..40 {
        client.set_query_data(&key(json!(["post", i])), |_| Some(json!("x".repeat(200))));
        rt.advance(10);
    }
    rt.advance(2000);
    handle.flush();
    let stored: serde_json::Value =
        serde_json::from_str(&storage.get(KEY).unwrap().unwrap()).unwrap();
    let kept: Vec<i64> = stored["client_state"]["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["key"][1].as_i64().unwrap())
        .collect();
    assert!(!kept.is_empty() && kept.len() < 40, "{kept:?}");
    assert!(kept.contains(&39), "the newest survive");
    assert!(!kept.contains(&0), "the oldest go first");

    // A storage too small for anything: gives up with a warning, no hang.
    let (platform, mut rt) = FakePlatform::new();
    let client = QueryClient::new(platform.clone());
    let tiny = MemoryStorage::with_limit(10);
    let handle = persist::persist(&client, Rc::new(tiny.clone()), options());
    client.set_query_data(&key(json!(["big"])), |_| Some(json!("y".repeat(1000))));
    rt.advance(2000);
    handle.flush();
    assert!(
        platform
            .warnings()
            .iter()
            .any(|w| w.contains("QuotaExceeded"))
    );
    assert_eq!(tiny.get(KEY).unwrap(), None);
}

#[test]
fn another_tabs_write_reaches_this_cache_newer_wins() {
    let storage = MemoryStorage::default();
    let (tab_a, _s, mut rt) = setup();
    let handle = persist::persist(&tab_a, Rc::new(storage.clone()), options());
    let (tab_b, _s2, _rt2) = setup();
    tab_b.set_query_data_at(
        &key(json!(["user", 1])),
        |_| Some(json!({"name": "old"})),
        1,
    );
    tab_a.set_query_data(&key(json!(["user", 1])), |_| Some(json!({"name": "new"})));
    rt.advance(1000);
    assert_eq!(handle.writes(), 1);
    // What the browser's `storage` event delivers to the other tab:
    let text = storage.get(KEY).unwrap().unwrap();
    assert_eq!(persist::adopt_external(&tab_b, &text, &options()), 1);
    assert_eq!(
        tab_b.get_query_data(&key(json!(["user", 1]))).unwrap()["name"],
        "new"
    );
    assert_eq!(
        persist::adopt_external(&tab_b, &text, &options()),
        0,
        "nothing newer the second time"
    );
    assert_eq!(persist::adopt_external(&tab_b, "garbage", &options()), 0);
}

/// Two tabs write the one key: neither erases the other's unconfirmed
/// mutations; a tab that starts later adopts both; and a mutation its owner
/// confirmed is gone from the storage for good.
#[test]
fn tabs_keep_each_others_queued_mutations() {
    let storage = MemoryStorage::default();
    let (tab_a, _s, mut rt_a) = setup();
    let handle_a = persist::persist(&tab_a, Rc::new(storage.clone()), options());
    tab_a.set_online(false);
    drop(tab_a.mutate_json("add", json!("from a"), querent::MutateOptions::default()));
    rt_a.advance(10);
    handle_a.flush();

    let (tab_b, _s2, mut rt_b) = setup();
    // Fake platforms draw the same "random" numbers: a later clock keeps
    // B's idempotency keys apart from A's, as real randomness would.
    rt_b.advance(1);
    let handle_b = persist::persist(&tab_b, Rc::new(storage.clone()), options());
    tab_b.set_online(false);
    drop(tab_b.mutate_json("add", json!("from b"), querent::MutateOptions::default()));
    tab_b.set_query_data(&key(json!(["post", 1])), |_| Some(json!(1)));
    rt_b.advance(10);
    handle_b.flush();

    let stored_variables = || -> Vec<serde_json::Value> {
        let text = storage.get(KEY).unwrap().unwrap();
        let record: serde_json::Value = serde_json::from_str(&text).unwrap();
        record["client_state"]["mutations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["variables"].clone())
            .collect()
    };
    let mut stored = stored_variables();
    stored.sort_by_key(|v| v.to_string());
    assert_eq!(stored, [json!("from a"), json!("from b")], "B kept A's");

    // A tab starting now adopts both queues.
    let (platform, _rt_c) = FakePlatform::new();
    let tab_c = QueryClient::new(platform);
    tab_c.set_online(false);
    assert_eq!(
        persist::restore(&tab_c, &storage, &options()),
        Restored::Adopted {
            queries: 1,
            mutations: 2
        }
    );

    // A's mutation is confirmed: A's next write drops it, and B's next write
    // does not bring it back.
    tab_a.register_mutation_json(
        "add",
        querent::MutationDefaults::new(Rc::new(|ctx: querent::mutation::MutationContext| {
            Box::pin(async move { Ok(ctx.variables) })
        })),
    );
    tab_a.set_online(true);
    rt_a.advance(10);
    assert_eq!(tab_a.pending_mutations(), 0);
    handle_a.flush();
    assert_eq!(stored_variables(), [json!("from b")]);
    tab_b.set_query_data(&key(json!(["post", 2])), |_| Some(json!(2)));
    rt_b.advance(10);
    handle_b.flush();
    assert_eq!(stored_variables(), [json!("from b")], "not resurrected");
}

/// Whatever another writer left under the key (a record of another shape,
/// another version's, not JSON), this tab's write replaces it with its own
/// cache and queue, and takes no mutation from it.
#[test]
fn a_stored_record_of_another_shape_never_stops_a_write() {
    for stored in [
        "not json",
        "[1]",
        r#"{"buster":"v1","client_state":5}"#,
        r#"{"buster":"v1","client_state":{"mutations":{"id":1}}}"#,
        r#"{"buster":"v1","client_state":{"mutations":[{"id":1},7]}}"#,
        r#"{"buster":"v0","client_state":{"mutations":[]}}"#,
        r#"{"buster":1}"#,
    ] {
        let storage = MemoryStorage::default();
        storage.set(KEY, stored).unwrap();
        let (client, _s, mut rt) = setup();
        let handle = persist::persist(&client, Rc::new(storage.clone()), options());
        client.set_online(false);
        drop(client.mutate_json("add", json!("mine"), querent::MutateOptions::default()));
        client.set_query_data(&key(json!(["post", 1])), |_| Some(json!(1)));
        rt.advance(1000);
        handle.flush();
        let text = storage.get(KEY).unwrap().unwrap();
        let record: serde_json::Value = serde_json::from_str(&text).unwrap();
        let variables: Vec<_> = record["client_state"]["mutations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["variables"].clone())
            .collect();
        assert_eq!(variables, [json!("mine")], "after {stored}");
        assert_eq!(
            record["client_state"]["queries"][0]["state"]["data"],
            json!(1)
        );
    }
}

/// A change queued offline in one tab shows as pending in another tab (from
/// the `storage` event) and is sent by it when the network returns, with the
/// first tab's idempotency key, even though the first tab has closed.
#[test]
fn an_open_tab_takes_over_another_tabs_offline_queue() {
    let storage = MemoryStorage::default();
    let (tab_a, _s, mut rt_a) = setup();
    let handle_a = persist::persist(&tab_a, Rc::new(storage.clone()), options());
    tab_a.set_online(false);
    drop(tab_a.mutate_json(
        "add",
        json!("queued in a"),
        querent::MutateOptions::default(),
    ));
    rt_a.advance(10);
    handle_a.flush();
    let key_a = tab_a.mutations()[0].idempotency_key.clone();
    let text = storage.get(KEY).unwrap().unwrap();
    drop(handle_a);
    drop(tab_a);

    let (tab_b, _s2, mut rt_b) = setup();
    rt_b.advance(1);
    tab_b.set_online(false);
    let sent = Rc::new(std::cell::RefCell::new(vec![]));
    let log = sent.clone();
    tab_b.register_mutation_json(
        "add",
        querent::MutationDefaults::new(Rc::new(move |ctx: querent::mutation::MutationContext| {
            log.borrow_mut()
                .push((ctx.variables.clone(), ctx.idempotency_key.clone()));
            Box::pin(async move { Ok(ctx.variables) })
        })),
    );
    persist::adopt_external(&tab_b, &text, &options());
    assert_eq!(tab_b.pending_mutations(), 1, "shown as pending in B");
    persist::adopt_external(&tab_b, &text, &options());
    assert_eq!(tab_b.pending_mutations(), 1, "adopted once");
    rt_b.advance(10);
    assert!(sent.borrow().is_empty(), "nothing is sent offline");

    tab_b.set_online(true);
    rt_b.advance(10);
    assert_eq!(*sent.borrow(), [(json!("queued in a"), key_a)]);
    assert_eq!(tab_b.pending_mutations(), 0);
}

/// TanStack's persister `dehydrateOptions`: a query the options leave out
/// is not stored, so a reload does not bring it back.
#[test]
fn dehydrate_options_choose_what_is_stored() {
    let storage = MemoryStorage::default();
    let (client, _s, mut rt) = setup();
    let options = PersistOptions {
        dehydrate_options: querent::hydration::DehydrateOptions {
            should_dehydrate_query: Some(Rc::new(|q: &querent::client::QuerySummary| {
                q.key.segments()[0] != json!("secret")
            })),
            ..Default::default()
        },
        ..options()
    };
    let _handle = persist::persist(&client, Rc::new(storage.clone()), options.clone());
    client.set_query_data(&key(json!(["post", 1])), |_| Some(json!({"title": "hi"})));
    client.set_query_data(&key(json!(["secret", 1])), |_| Some(json!("token")));
    rt.advance(1000);

    let (restored, _server, _rt2) = setup();
    persist::restore(&restored, &storage, &options);
    assert!(restored.get_query_data(&key(json!(["post", 1]))).is_some());
    assert!(
        restored
            .get_query_data(&key(json!(["secret", 1])))
            .is_none(),
        "left out of the record"
    );
}
