//! Persistence to an asynchronous storage (TanStack's
//! `createAsyncStoragePersister` with `persistQueryClient`): the same
//! record as [`crate::persist`] (buster, max age, throttled writes,
//! `dehydrate_options`, eviction of the oldest queries when the storage is
//! full, other tabs' unconfirmed mutations kept), written to a storage
//! whose reads and writes complete later, such as IndexedDB
//! ([`crate::idb::IdbStorage`] under the `web` feature).
//!
//! An asynchronous storage cannot be written before a change shows: the
//! offline queue's durability comes from a [`crate::MutationJournal`],
//! not from this record. A restore completes later too: render what does
//! not need the stored data meanwhile, or wait for [`restore`] before the
//! first render (TanStack's `PersistQueryClientProvider` waits).

use crate::client::{QueryClient, Subscription};
use crate::persist::{
    PersistOptions, Restored, StorageError, evict_after, foreign_mutations, record_text,
    restore_text, state_to_store,
};
use futures::future::LocalBoxFuture;
use std::cell::Cell;
use std::rc::Rc;

/// A string key-value store whose operations complete later (TanStack's
/// `AsyncStorage`).
pub trait AsyncStorage {
    /// The value under `key`.
    fn get_item(&self, key: &str) -> LocalBoxFuture<'static, Result<Option<String>, StorageError>>;
    /// Stores `value` under `key`.
    fn set_item(
        &self,
        key: &str,
        value: String,
    ) -> LocalBoxFuture<'static, Result<(), StorageError>>;
    /// Removes `key`.
    fn remove_item(&self, key: &str) -> LocalBoxFuture<'static, Result<(), StorageError>>;
    /// Every key and value (what [`crate::query_persister::QueryPersister`]
    /// needs to restore, remove or collect its entries all at once).
    fn entries(&self) -> LocalBoxFuture<'static, Result<Vec<(String, String)>, StorageError>>;
}

/// Reads the stored record into `client` ([`crate::persist::restore`] for
/// an asynchronous storage).
pub async fn restore(
    client: &QueryClient,
    storage: &dyn AsyncStorage,
    options: &PersistOptions,
) -> Restored {
    let text = match storage.get_item(&options.storage_key).await {
        Ok(Some(text)) => text,
        Ok(None) => return Restored::Nothing,
        Err(e) => {
            client
                .platform()
                .warn(&format!("persisted cache unreadable: {e:?}"));
            return Restored::Nothing;
        }
    };
    let (restored, remove) = restore_text(client, &text, options);
    if remove {
        let _ = storage.remove_item(&options.storage_key).await;
    }
    restored
}

struct Writer {
    client: QueryClient,
    storage: Rc<dyn AsyncStorage>,
    options: PersistOptions,
    /// Something changed since the last write began.
    dirty: Cell<bool>,
    /// A write is waiting for the throttle.
    scheduled: Cell<bool>,
    /// A write is in flight (the next waits for it: TanStack's
    /// `asyncThrottle` runs one at a time).
    writing: Cell<bool>,
    writes: Cell<u64>,
}

impl Writer {
    /// One write: the stored record is read for other tabs' mutations,
    /// then written (a failure is reported through `Platform::warn`).
    async fn write(&self) {
        self.dirty.set(false);
        let key = &self.options.storage_key;
        let stored = self.storage.get_item(key).await.ok().flatten();
        let foreign = foreign_mutations(&self.client, &self.options, stored.as_deref());
        let mut state = state_to_store(&self.client, &self.options, foreign);
        loop {
            let text = record_text(&self.client, &self.options, &state);
            match self.storage.set_item(key, text).await {
                Ok(()) => {
                    self.writes.set(self.writes.get() + 1);
                    return;
                }
                Err(e) if evict_after(&self.client, &mut state, &e) => {}
                Err(_) => return,
            }
        }
    }
}

/// Writes while anything is dirty, one write at a time.
fn drain(writer: &Rc<Writer>) {
    if writer.writing.replace(true) {
        return;
    }
    let weak = Rc::downgrade(writer);
    writer.client.platform().spawn(Box::pin(async move {
        while let Some(writer) = weak.upgrade().filter(|w| w.dirty.get()) {
            writer.write().await;
        }
        if let Some(writer) = weak.upgrade() {
            writer.writing.set(false);
        }
    }));
}

/// A drain at most `throttle_ms` from now (none if one is scheduled).
fn schedule(writer: &Rc<Writer>) {
    if writer.scheduled.replace(true) {
        return;
    }
    let platform = writer.client.platform();
    let sleep = platform.sleep(writer.options.throttle_ms);
    let weak = Rc::downgrade(writer);
    platform.spawn(Box::pin(async move {
        sleep.await;
        if let Some(writer) = weak.upgrade() {
            writer.scheduled.set(false);
            drain(&writer);
        }
    }));
}

/// Keeps an asynchronous storage in step with the cache while alive.
pub struct AsyncPersistHandle {
    writer: Rc<Writer>,
    _subscription: Subscription,
}

impl AsyncPersistHandle {
    /// Writes now if anything changed since the last write began
    /// (call on page hide; the write completes later).
    pub fn flush(&self) {
        drain(&self.writer);
    }

    /// How many writes reached the storage.
    pub fn writes(&self) -> u64 {
        self.writer.writes.get()
    }
}

/// Starts persisting `client` to `storage` ([`crate::persist::persist`]
/// for an asynchronous storage): a change of the mutation queue starts a
/// write at once (after the one in flight), any other change at most
/// `throttle_ms` later; bursts of changes make one write, and writes never
/// overlap.
pub fn persist(
    client: &QueryClient,
    storage: Rc<dyn AsyncStorage>,
    options: PersistOptions,
) -> AsyncPersistHandle {
    let writer = Rc::new(Writer {
        client: client.clone(),
        storage,
        options,
        dirty: Cell::new(false),
        scheduled: Cell::new(false),
        writing: Cell::new(false),
        writes: Cell::new(0),
    });
    let subscription =
        crate::persist::subscribe_writes(client, &writer, |w| &w.dirty, drain, schedule);
    AsyncPersistHandle {
        writer,
        _subscription: subscription,
    }
}
