//! Persistence to an asynchronous storage (`async_persist`, TanStack's
//! `createAsyncStoragePersister`): a storage whose reads and writes take
//! time, writes one at a time and throttled, the queue written without
//! waiting for the throttle, quota eviction, the record's checks on restore.

mod common;

use common::{key, setup};
use futures::future::LocalBoxFuture;
use querent::async_persist::{self, AsyncStorage};
use querent::persist::{MemoryStorage, PersistOptions, Restored, Storage, StorageError};
use querent::testing::FakePlatform;
use querent::{Platform, QueryClient};
use serde_json::{Value, json};
use std::cell::Cell;
use std::rc::Rc;

const KEY: &str = "querent-cache";

fn options() -> PersistOptions {
    PersistOptions {
        buster: "v1".into(),
        ..Default::default()
    }
}

/// A [`MemoryStorage`] whose operations complete `latency_ms` later (as
/// IndexedDB's do), counting the writes in flight.
#[derive(Clone)]
struct SlowStorage {
    memory: MemoryStorage,
    platform: FakePlatform,
    latency_ms: u64,
    in_flight: Rc<Cell<u32>>,
    most_in_flight: Rc<Cell<u32>>,
    sets: Rc<Cell<u32>>,
}

impl SlowStorage {
    fn new(platform: &FakePlatform, memory: MemoryStorage) -> Self {
        Self {
            memory,
            platform: platform.clone(),
            latency_ms: 50,
            in_flight: Rc::default(),
            most_in_flight: Rc::default(),
            sets: Rc::default(),
        }
    }

    fn stored(&self) -> Option<Value> {
        let text = self.memory.get(KEY).unwrap()?;
        Some(serde_json::from_str(&text).unwrap())
    }
}

impl AsyncStorage for SlowStorage {
    fn get_item(&self, key: &str) -> LocalBoxFuture<'static, Result<Option<String>, StorageError>> {
        let (sleep, memory, key) = (
            self.platform.sleep(self.latency_ms),
            self.memory.clone(),
            key.to_owned(),
        );
        Box::pin(async move {
            sleep.await;
            memory.get(&key)
        })
    }

    fn set_item(
        &self,
        key: &str,
        value: String,
    ) -> LocalBoxFuture<'static, Result<(), StorageError>> {
        let this = self.clone();
        let key = key.to_owned();
        this.in_flight.set(this.in_flight.get() + 1);
        this.most_in_flight
            .set(this.most_in_flight.get().max(this.in_flight.get()));
        let sleep = self.platform.sleep(self.latency_ms);
        Box::pin(async move {
            sleep.await;
            this.in_flight.set(this.in_flight.get() - 1);
            this.sets.set(this.sets.get() + 1);
            this.memory.set(&key, &value)
        })
    }

    fn remove_item(&self, key: &str) -> LocalBoxFuture<'static, Result<(), StorageError>> {
        let (sleep, memory, key) = (
            self.platform.sleep(self.latency_ms),
            self.memory.clone(),
            key.to_owned(),
        );
        Box::pin(async move {
            sleep.await;
            memory.remove(&key);
            Ok(())
        })
    }

    fn entries(&self) -> LocalBoxFuture<'static, Result<Vec<(String, String)>, StorageError>> {
        self.memory.entries()
    }
}

#[test]
fn the_cache_round_trips_through_an_asynchronous_storage() {
    let (platform, mut rt) = FakePlatform::new();
    let client = QueryClient::new(platform.clone());
    let storage = SlowStorage::new(&platform, MemoryStorage::default());
    let handle = async_persist::persist(&client, Rc::new(storage.clone()), options());
    client.set_query_data(&key(json!(["post", 1])), |_| Some(json!({"title": "hi"})));
    client.set_query_data(&key(json!(["users"])), |_| Some(json!([1, 2])));
    rt.advance(999);
    assert_eq!(handle.writes(), 0, "throttled");
    rt.advance(200);
    assert_eq!(handle.writes(), 1, "two changes, one write");

    let (restored, server, mut rt2) = setup();
    let storage2 = SlowStorage::new(&server.platform, storage.memory.clone());
    let answer = rt2.block_on({
        let restored = restored.clone();
        async move { async_persist::restore(&restored, &storage2, &options()).await }
    });
    assert_eq!(
        answer,
        Restored::Adopted {
            queries: 2,
            mutations: 0
        }
    );
    assert_eq!(
        restored.get_query_data(&key(json!(["post", 1]))).unwrap()["title"],
        "hi"
    );
    assert_eq!(
        restored
            .get_query_state(&key(json!(["users"])))
            .unwrap()
            .data_updated_at,
        querent::testing::START_MS,
        "the original fetch time kept"
    );
}

/// TanStack's `asyncThrottle`: one write at a time; changes during a write
/// make one more write after it, which stores the latest.
#[test]
fn writes_never_overlap_and_the_last_change_is_written() {
    let (platform, mut rt) = FakePlatform::new();
    let client = QueryClient::new(platform.clone());
    let mut storage = SlowStorage::new(&platform, MemoryStorage::default());
    storage.latency_ms = 3_000;
    let handle = async_persist::persist(
        &client,
        Rc::new(storage.clone()),
        PersistOptions {
            throttle_ms: 100,
            ..options()
        },
    );
    for i in 0..20 {
        client.set_query_data(&key(json!(["count"])), |_| Some(json!(i)));
        rt.advance(500);
    }
    rt.advance(20_000);
    assert_eq!(storage.most_in_flight.get(), 1, "never two writes at once");
    assert!(
        handle.writes() < 10,
        "{} writes for 20 changes",
        handle.writes()
    );
    let stored = storage.stored().unwrap();
    assert_eq!(stored["client_state"]["queries"][0]["state"]["data"], 19);
}

/// A change of the mutation queue starts a write without the throttle.
#[test]
fn a_queued_mutation_is_written_without_waiting_for_the_throttle() {
    let (platform, mut rt) = FakePlatform::new();
    let client = QueryClient::new(platform.clone());
    let storage = SlowStorage::new(&platform, MemoryStorage::default());
    let _handle = async_persist::persist(
        &client,
        Rc::new(storage.clone()),
        PersistOptions {
            throttle_ms: 60_000,
            ..options()
        },
    );
    client.set_online(false);
    drop(client.mutate_json("add", json!("kept"), querent::MutateOptions::default()));
    rt.advance(2 * storage.latency_ms);
    let stored = storage
        .stored()
        .expect("written within two storage round trips");
    assert_eq!(stored["client_state"]["mutations"][0]["variables"], "kept");

    let (platform, mut rt2) = FakePlatform::new();
    let next = QueryClient::new(platform);
    next.set_online(false);
    let answer = rt2.block_on({
        let (next, memory) = (next.clone(), storage.memory.clone());
        async move { async_persist::restore(&next, &memory, &options()).await }
    });
    assert_eq!(
        answer,
        Restored::Adopted {
            queries: 0,
            mutations: 1
        }
    );
}

#[test]
fn quota_exceeded_evicts_the_oldest_queries() {
    let (platform, mut rt) = FakePlatform::new();
    let client = QueryClient::new(platform.clone());
    let storage = SlowStorage::new(&platform, MemoryStorage::with_limit(4_000));
    let handle = async_persist::persist(&client, Rc::new(storage.clone()), options());
    for i in 0..40 {
        client.set_query_data(&key(json!(["post", i])), |_| Some(json!("x".repeat(200))));
        rt.advance(10);
    }
    rt.advance(5_000);
    handle.flush();
    rt.advance(5_000);
    let kept: Vec<i64> = storage.stored().unwrap()["client_state"]["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["key"][1].as_i64().unwrap())
        .collect();
    assert!(!kept.is_empty() && kept.len() < 40, "{kept:?}");
    assert!(kept.contains(&39), "the newest survive");
    assert!(!kept.contains(&0), "the oldest go first");
}

#[test]
fn a_record_of_another_version_is_discarded_and_removed() {
    let (platform, mut rt) = FakePlatform::new();
    let memory = MemoryStorage::default();
    memory
        .set(
            KEY,
            &json!({"timestamp": querent::testing::START_MS, "buster": "v0",
                "client_state": {"version": 1, "queries": [], "mutations": []}})
            .to_string(),
        )
        .unwrap();
    let client = QueryClient::new(platform.clone());
    let storage = SlowStorage::new(&platform, memory.clone());
    let answer = rt.block_on({
        let client = client.clone();
        async move { async_persist::restore(&client, &storage, &options()).await }
    });
    assert!(
        matches!(answer, Restored::Discarded(ref why) if why.contains("v0")),
        "{answer:?}"
    );
    assert_eq!(memory.get(KEY).unwrap(), None);
    assert!(platform.warnings().iter().any(|w| w.contains("discarding")));
}
