//! The per-query persister, ported from TanStack's
//! `query-persist-client-core/src/__tests__/createPersister.test.ts`
//! (storage: an in-memory map; the fetcher counts its calls).

mod common;

use common::{Server, key, tanstack};
use querent::async_persist::AsyncStorage;
use querent::filters::QueryFilters;
use querent::options::Refetch;
use querent::persist::{MemoryStorage, Storage};
use querent::query_persister::{QueryPersister, QueryPersisterOptions};
use querent::testing::Runner;
use querent::{QueryClient, QueryKey, QueryOptions};
use serde_json::{Value, json};
use std::rc::Rc;

struct Setup {
    client: QueryClient,
    server: Server,
    rt: Runner,
    storage: MemoryStorage,
    persister: QueryPersister,
    key: QueryKey,
    storage_key: String,
}

fn setup_persister(options: QueryPersisterOptions) -> Setup {
    let (client, server, rt) = tanstack();
    let storage = MemoryStorage::default();
    let persister = QueryPersister::new(&client, Rc::new(storage.clone()), options);
    let key = key(json!(["foo"]));
    let storage_key = format!("querent-{}", key.canonical());
    Setup {
        client,
        server,
        rt,
        storage,
        persister,
        key,
        storage_key,
    }
}

/// Fresh for a minute (TanStack's query without observers is not stale
/// unless invalidated; querent judges by `stale_time`).
fn fresh_for_a_minute() -> QueryOptions {
    QueryOptions {
        stale_time: Some(60_000.into()),
        ..QueryOptions::default()
    }
}

impl Setup {
    /// The query fetched through the persister (TanStack's
    /// `persister.persisterFn(queryFn, context, query)`).
    fn fetch(&mut self) -> Value {
        let fetch = self.persister.persister_fn(self.server.fetcher());
        let answer = self
            .client
            .fetch_query(&self.key, fetch, fresh_for_a_minute());
        let data = self.rt.block_on(answer).expect("fetched");
        (*data).clone()
    }

    fn store(&self, value: Value) {
        self.storage
            .set(&self.storage_key, &value.to_string())
            .unwrap();
    }

    fn stored(&self) -> Option<Value> {
        let text = self.storage.get(&self.storage_key).unwrap()?;
        Some(serde_json::from_str(&text).unwrap())
    }

    fn entries(&mut self) -> usize {
        self.rt.block_on(self.storage.entries()).unwrap().len()
    }
}

fn record(buster: &str, data_updated_at: Option<i64>, data: Option<Value>) -> Value {
    let mut state = json!({});
    if let Some(at) = data_updated_at {
        state["data_updated_at"] = json!(at);
    }
    if let Some(data) = data {
        state["data"] = data;
    }
    json!({"buster": buster, "query_hash": "[\"foo\"]", "query_key": ["foo"], "state": state})
}

#[test]
fn should_fetch_if_there_is_no_stored_data() {
    let mut s = setup_persister(QueryPersisterOptions::default());
    s.fetch();
    assert_eq!(s.server.calls(), 1);
}

#[test]
fn should_fetch_if_query_already_has_data() {
    let mut s = setup_persister(QueryPersisterOptions::default());
    let now = s.client.now();
    s.store(record("", Some(now), Some(json!("stored"))));
    s.client.set_query_data(&s.key, |_| Some(json!("baz")));
    drop(s.client.invalidate_queries(&("foo",)));
    let fetch = s.persister.persister_fn(s.server.fetcher());
    let refetch = s.client.fetch_query(&s.key, fetch, QueryOptions::default());
    s.rt.block_on(refetch).unwrap();
    assert_eq!(s.server.calls(), 1, "the query had data: the fetcher runs");
}

#[test]
fn should_fetch_if_deserialization_fails() {
    let mut s = setup_persister(QueryPersisterOptions::default());
    s.storage.set(&s.storage_key, "{invalid[item").unwrap();
    s.fetch();
    assert_eq!(s.server.calls(), 1);
    // Removed, then what the fetch brought stored.
    s.rt.advance(0);
    assert_eq!(s.stored().unwrap()["state"]["data"], json!({"call": 1}));
}

#[test]
fn should_remove_stored_item_if_data_updated_at_is_empty() {
    let mut s = setup_persister(QueryPersisterOptions::default());
    s.store(record("", None, Some(json!("stored"))));
    let fetch = s.persister.persister_fn(s.server.fetcher());
    s.server.respond(Err(common::server_error()));
    let answer = s.client.fetch_query(&s.key, fetch, QueryOptions::default());
    assert!(s.rt.block_on(answer).is_err());
    assert_eq!(s.server.calls(), 1);
    assert_eq!(
        s.stored(),
        None,
        "removed, and a failed fetch stores nothing"
    );
}

#[test]
fn should_remove_stored_item_if_its_expired() {
    let mut s = setup_persister(QueryPersisterOptions {
        max_age_ms: 100,
        ..Default::default()
    });
    let now = s.client.now();
    s.store(record("", Some(now - 200), Some(json!("stored"))));
    s.server.respond(Err(common::server_error()));
    let fetch = s.persister.persister_fn(s.server.fetcher());
    let answer = s.client.fetch_query(&s.key, fetch, QueryOptions::default());
    assert!(s.rt.block_on(answer).is_err());
    assert_eq!(s.server.calls(), 1);
    assert_eq!(s.stored(), None);
}

#[test]
fn should_remove_stored_item_if_its_busted() {
    let mut s = setup_persister(QueryPersisterOptions::default());
    let now = s.client.now();
    s.store(record("bust", Some(now), Some(json!("stored"))));
    s.server.respond(Err(common::server_error()));
    let fetch = s.persister.persister_fn(s.server.fetcher());
    let answer = s.client.fetch_query(&s.key, fetch, QueryOptions::default());
    assert!(s.rt.block_on(answer).is_err());
    assert_eq!(s.server.calls(), 1);
    assert_eq!(s.stored(), None);
}

#[test]
fn should_restore_item_from_the_storage_and_set_proper_updated_at_values() {
    let mut s = setup_persister(QueryPersisterOptions::default());
    let data_updated_at = s.client.now() - 1_000;
    s.store(record("", Some(data_updated_at), Some(json!("stored"))));
    s.rt.advance(5);
    assert_eq!(s.fetch(), json!("stored"));
    s.rt.advance(0);
    assert_eq!(s.server.calls(), 0, "restored: the fetcher never ran");
    let state = s.client.get_query_state(&s.key).unwrap();
    assert_eq!(
        state.data_updated_at, data_updated_at,
        "the stored time, not now"
    );
    s.rt.advance(1_000);
    assert_eq!(s.server.calls(), 0, "fresh: no refetch");
}

#[test]
fn should_restore_item_from_the_storage_and_refetch_when_stale() {
    let mut s = setup_persister(QueryPersisterOptions::default());
    let two_minutes_ago = s.client.now() - 120_000;
    s.store(record("", Some(two_minutes_ago), Some(json!("stored"))));
    assert_eq!(s.fetch(), json!("stored"), "restored, not fetched");
    s.rt.advance(0);
    assert_eq!(s.server.calls(), 1, "stale after the restore: refetched");
    s.rt.advance(100);
    assert_eq!(
        *s.client.get_query_data(&s.key).unwrap(),
        json!({"call": 1})
    );
}

#[test]
fn should_restore_item_and_refetch_when_refetch_on_restore_is_always() {
    let mut s = setup_persister(QueryPersisterOptions {
        refetch_on_restore: Refetch::Always,
        ..Default::default()
    });
    let now = s.client.now();
    s.store(record("", Some(now + 1_000), Some(json!("stored"))));
    assert_eq!(s.fetch(), json!("stored"), "restored, not fetched");
    s.rt.advance(0);
    assert_eq!(s.server.calls(), 1, "fresh, refetched all the same");
}

#[test]
fn should_restore_item_and_not_refetch_when_refetch_on_restore_is_false() {
    let mut s = setup_persister(QueryPersisterOptions {
        refetch_on_restore: Refetch::Never,
        ..Default::default()
    });
    let two_minutes_ago = s.client.now() - 120_000;
    s.store(record("", Some(two_minutes_ago), Some(json!("stored"))));
    s.fetch();
    s.rt.advance(1_000);
    assert_eq!(s.server.calls(), 0, "stale, but not refetched");
}

#[test]
fn should_store_item_after_successful_fetch() {
    let mut s = setup_persister(QueryPersisterOptions::default());
    s.server.respond(Ok(json!("baz")));
    s.fetch();
    s.rt.advance(0);
    assert_eq!(s.server.calls(), 1);
    let stored = s.stored().expect("stored");
    assert_eq!(stored["buster"], "");
    assert_eq!(stored["query_hash"], s.key.canonical());
    assert_eq!(stored["query_key"], json!(["foo"]));
    assert_eq!(stored["state"]["data"], "baz");
    assert_eq!(
        stored["state"]["data_updated_at"],
        json!(s.client.get_query_state(&s.key).unwrap().data_updated_at)
    );
}

#[test]
fn should_skip_stored_item_if_not_matched_by_filters() {
    let mut s = setup_persister(QueryPersisterOptions {
        filters: Some(QueryFilters::all().predicate(|_| false)),
        ..Default::default()
    });
    let now = s.client.now();
    s.store(record("", Some(now), Some(json!("stored"))));
    assert_eq!(s.fetch(), json!({"call": 1}));
    s.rt.advance(1_000);
    assert_eq!(s.server.calls(), 1);
    assert_eq!(
        s.stored().unwrap()["state"]["data"],
        "stored",
        "a query the filters leave out is not stored either"
    );
}

#[test]
fn persist_query_by_key_stores_the_query_as_it_is() {
    let mut s = setup_persister(QueryPersisterOptions::default());
    s.client.set_query_data(&s.key, |_| Some(json!("baz")));
    s.rt.block_on({
        let (p, k) = (s.persister.clone(), s.key.clone());
        async move { p.persist_query_by_key(&k).await }
    });
    assert_eq!(s.stored().unwrap()["state"]["data"], "baz");
    // A query that is not in the cache: nothing stored, a warning.
    let other = key(json!(["bar"]));
    s.rt.block_on({
        let p = s.persister.clone();
        async move { p.persist_query_by_key(&other).await }
    });
    assert_eq!(s.entries(), 1);
}

#[test]
fn retrieve_query_returns_the_persisted_data() {
    let mut s = setup_persister(QueryPersisterOptions::default());
    let now = s.client.now();
    s.store(record("", Some(now), Some(json!("baz"))));
    let (p, k) = (s.persister.clone(), s.key.clone());
    let data = s.rt.block_on(async move { p.retrieve_query(&k).await });
    assert_eq!(data, Some(json!("baz")));
}

#[test]
fn persister_gc_cleans_busted_and_unreadable_entries_and_keeps_the_rest() {
    let mut s = setup_persister(QueryPersisterOptions::default());
    let now = s.client.now();
    s.store(record("bust", Some(now), Some(json!("baz"))));
    s.storage.set("querent-[\"broken\"]", "{invalid").unwrap();
    s.storage
        .set(
            "querent-[\"kept\"]",
            &record("", Some(now), Some(json!(1))).to_string(),
        )
        .unwrap();
    s.storage.set("someone-else", "{invalid").unwrap();
    assert_eq!(s.entries(), 4);
    let p = s.persister.clone();
    s.rt.block_on(async move { p.persister_gc().await });
    let left: Vec<String> =
        s.rt.block_on(s.storage.entries())
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
    assert_eq!(left, vec!["querent-[\"kept\"]", "someone-else"]);
}

fn restore(s: &mut Setup, filter: Option<Value>, exact: bool) {
    let p = s.persister.clone();
    let filter = filter.map(key);
    s.rt.block_on(async move { p.restore_queries(filter.as_ref(), exact).await });
}

#[test]
fn restore_queries_without_filters_puts_every_entry_in_the_cache() {
    let mut s = setup_persister(QueryPersisterOptions::default());
    let at = s.client.now() - 10;
    s.store(record("", Some(at), Some(json!("foo"))));
    assert_eq!(s.client.queries().len(), 0);
    restore(&mut s, None, false);
    assert_eq!(s.client.queries().len(), 1);
    assert_eq!(*s.client.get_query_data(&s.key).unwrap(), json!("foo"));
    assert_eq!(
        s.client.get_query_state(&s.key).unwrap().data_updated_at,
        at
    );
}

#[test]
fn restore_queries_by_exact_key_partial_key_or_no_match() {
    let mut s = setup_persister(QueryPersisterOptions::default());
    let now = s.client.now();
    let nested = json!({"buster": "", "query_hash": "[\"foo\",\"bar\"]", "query_key": ["foo", "bar"],
        "state": {"data": "foo", "data_updated_at": now}});
    s.storage
        .set("querent-[\"foo\",\"bar\"]", &nested.to_string())
        .unwrap();
    let nested_key = key(json!(["foo", "bar"]));

    restore(&mut s, Some(json!(["bar"])), false);
    assert_eq!(s.client.queries().len(), 0, "no match");
    restore(&mut s, Some(json!(["foo"])), true);
    assert_eq!(s.client.queries().len(), 0, "exact: no match");
    restore(&mut s, Some(json!(["foo"])), false);
    assert_eq!(s.client.queries().len(), 1, "partial match");
    assert_eq!(*s.client.get_query_data(&nested_key).unwrap(), json!("foo"));
    s.client.remove_queries_with(&QueryFilters::all());
    restore(&mut s, Some(json!(["foo", "bar"])), true);
    assert_eq!(s.client.queries().len(), 1, "exact match");
}

#[test]
fn remove_queries_removes_what_the_key_picks() {
    let mut s = setup_persister(QueryPersisterOptions::default());
    let now = s.client.now();
    s.store(record("", Some(now), Some(json!("foo"))));
    s.storage
        .set(
            "querent-[\"bar\"]",
            &json!({"buster": "", "query_hash": "[\"bar\"]", "query_key": ["bar"],
            "state": {"data": 1, "data_updated_at": now}})
            .to_string(),
        )
        .unwrap();
    let p = s.persister.clone();
    let foo = key(json!(["foo"]));
    s.rt.block_on(async move { p.remove_queries(Some(&foo), true).await });
    assert_eq!(s.stored(), None);
    assert_eq!(s.entries(), 1);
    let p = s.persister.clone();
    s.rt.block_on(async move { p.remove_queries(None, false).await });
    assert_eq!(s.entries(), 0);
}
