//! Persistence: the cache and the unconfirmed mutations, saved to a
//! key-value storage (localStorage in the browser) and restored at start.
//!
//! Stored as `{"timestamp": ms, "buster": "...", "client_state": <dehydrated
//! state>}` under one key. Writes are throttled (one per `throttle_ms`, plus
//! [`PersistHandle::flush`] on page hide). A record that cannot be parsed, was
//! written by another app version (buster), has another format, or is older
//! than `max_age_ms` is discarded, removed and reported through
//! `Platform::warn`. When the storage is full the oldest queries are dropped
//! until the record fits; unconfirmed mutations are never dropped.
//!
//! Several tabs share the one key. Queries: the newest write wins, and
//! [`adopt_external`] brings another tab's newer data into this one. The
//! mutation queue: every write keeps the unconfirmed mutations another tab
//! stored that this client does not know, so no tab's write erases another
//! tab's queue; [`adopt_external`] takes over another tab's mutations that
//! wait for the network, and [`restore`] all unconfirmed ones, so a tab
//! closed while offline leaves its changes to the tabs still open or the
//! next one that starts (their idempotency keys make a second sender
//! harmless).

use crate::client::{CacheEvent, QueryClient, Subscription};
use crate::hydration::{self, DehydratedState};
use crate::mutation::MutationRecord;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// Why a write failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageError {
    /// The storage is full.
    QuotaExceeded,
    /// Anything else (storage disabled, private mode, …).
    Unavailable(String),
}

/// A synchronous string key-value store.
pub trait Storage {
    /// The value under `key`.
    fn get(&self, key: &str) -> Result<Option<String>, StorageError>;
    /// Stores `value` under `key`.
    fn set(&self, key: &str, value: &str) -> Result<(), StorageError>;
    /// Removes `key`.
    fn remove(&self, key: &str);
}

/// Persistence settings.
#[derive(Debug, Clone)]
pub struct PersistOptions {
    /// Storage key (default `querent-cache`).
    pub storage_key: String,
    /// Records written with another buster are discarded (use the app version).
    pub buster: String,
    /// Records older than this are discarded (default 24 h).
    pub max_age_ms: i64,
    /// At most one write per this many ms (default 1000).
    pub throttle_ms: u64,
    /// What goes into the stored record (TanStack's `dehydrateOptions`;
    /// default: every query with data and every unconfirmed mutation). A
    /// query left out is neither written nor, after a reload, restored.
    pub dehydrate_options: hydration::DehydrateOptions,
}

impl Default for PersistOptions {
    fn default() -> Self {
        Self {
            storage_key: "querent-cache".into(),
            buster: String::new(),
            max_age_ms: 24 * 60 * 60 * 1000,
            throttle_ms: 1000,
            dehydrate_options: hydration::DehydrateOptions::default(),
        }
    }
}

/// The stored record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PersistedClient {
    /// When it was written (ms).
    pub timestamp: i64,
    /// The app version that wrote it.
    pub buster: String,
    /// The cache.
    pub client_state: DehydratedState,
}

/// What [`restore`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restored {
    /// Nothing stored.
    Nothing,
    /// Adopted: how many queries were newer than what the cache held, and how
    /// many unconfirmed mutations were queued again.
    Adopted {
        /// Queries applied.
        queries: usize,
        /// Mutations queued.
        mutations: usize,
    },
    /// Discarded (and removed) for the given reason.
    Discarded(String),
}

/// Reads the stored record into `client` (call once at start, after
/// hydrating the server's state: the newer `updated_at` wins either way).
pub fn restore(client: &QueryClient, storage: &dyn Storage, options: &PersistOptions) -> Restored {
    let text = match storage.get(&options.storage_key) {
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
        storage.remove(&options.storage_key);
    }
    restored
}

/// Adopts a stored record's text; `true` when the record must then be
/// removed from the storage (discarded, or its queries too old).
pub(crate) fn restore_text(
    client: &QueryClient,
    text: &str,
    options: &PersistOptions,
) -> (Restored, bool) {
    let discard = |reason: String| {
        client
            .platform()
            .warn(&format!("discarding the persisted cache: {reason}"));
        (Restored::Discarded(reason), true)
    };
    let record: PersistedClient = match crate::json::parse(text) {
        Ok(r) => r,
        Err(e) => return discard(format!("not a persisted cache ({e})")),
    };
    if record.buster != options.buster {
        return discard(format!(
            "written by version `{}`, this is `{}`",
            record.buster, options.buster
        ));
    }
    if record.client_state.version != hydration::VERSION {
        return discard(format!("format version {}", record.client_state.version));
    }
    let age = client.now() - record.timestamp;
    if age > options.max_age_ms {
        // Old data goes; unconfirmed mutations must not (nothing the user
        // was told is pending may be lost).
        let mutations = client.restore_mutations(parse_mutations(&record.client_state));
        client.platform().warn(&format!(
            "persisted cache is {age} ms old; its queries were discarded"
        ));
        let restored = Restored::Adopted {
            queries: 0,
            mutations,
        };
        return (restored, true);
    }
    let mutations = parse_mutations(&record.client_state);
    let queries = hydration::hydrate(client, record.client_state);
    let mutations = client.restore_mutations(mutations);
    (Restored::Adopted { queries, mutations }, false)
}

fn parse_mutations(state: &DehydratedState) -> Vec<MutationRecord> {
    state
        .mutations
        .iter()
        .filter_map(|m| crate::json::decode(m).ok())
        .collect()
}

/// Adopts another tab's write (from a `storage` event): its queries, newer
/// wins, and its mutations that wait for the network (paused), which this
/// tab then shows as pending and sends too: whichever tab is open when the
/// network returns sends them, even if the tab that made them has closed
/// (their idempotency keys make a second sender harmless). Mutations in
/// flight stay with their tab. Returns how many queries were applied.
pub fn adopt_external(client: &QueryClient, text: &str, options: &PersistOptions) -> usize {
    match crate::json::parse::<PersistedClient>(text) {
        Ok(record) if record.buster == options.buster => {
            let waiting = parse_mutations(&record.client_state)
                .into_iter()
                .filter(|m| m.status == crate::mutation::MutationStatus::Paused)
                .collect();
            client.restore_mutations(waiting);
            hydration::hydrate(client, record.client_state)
        }
        _ => 0,
    }
}

struct Writer {
    client: QueryClient,
    storage: Rc<dyn Storage>,
    options: PersistOptions,
    dirty: Cell<bool>,
    scheduled: Cell<bool>,
    writes: Cell<u64>,
}

/// Unconfirmed mutations in a stored record (`stored`, its text) that
/// `client` does not know (another tab's), to be written back with this
/// client's own. The record is read as a [`Value`] (its queue only is
/// looked at; no decoder of its own in the wasm).
pub(crate) fn foreign_mutations(
    client: &QueryClient,
    options: &PersistOptions,
    stored: Option<&str>,
) -> Vec<serde_json::Value> {
    let Some(Ok(mut stored)) = stored.map(serde_json::from_str::<Value>) else {
        return vec![];
    };
    if stored["buster"].as_str() != Some(&*options.buster) {
        return vec![];
    }
    let queue = stored
        .get_mut("client_state")
        .and_then(|s| s.get_mut("mutations"));
    let Some(Value::Array(mutations)) = queue.map(Value::take) else {
        return vec![];
    };
    let known: Vec<String> = client
        .mutations()
        .into_iter()
        .map(|r| r.idempotency_key)
        .collect();
    mutations
        .into_iter()
        .filter(|m| {
            crate::json::decode::<MutationRecord>(m)
                .is_ok_and(|r| r.is_unsettled() && !known.contains(&r.idempotency_key))
        })
        .collect()
}

/// What a write stores: the cache as `options` choose, with `foreign`
/// mutations kept, its queries oldest first (so eviction drops from the
/// front).
pub(crate) fn state_to_store(
    client: &QueryClient,
    options: &PersistOptions,
    foreign: Vec<serde_json::Value>,
) -> DehydratedState {
    let mut state = hydration::dehydrate_with(client, &options.dehydrate_options);
    state.mutations.extend(foreign);
    let updated_at = |q: &hydration::DehydratedQuery| match &q.state {
        hydration::DehydratedQueryState::Success { updated_at, .. }
        | hydration::DehydratedQueryState::Error { updated_at, .. } => *updated_at,
    };
    crate::sort::sort_by(&mut state.queries, |a, b| updated_at(a).cmp(&updated_at(b)));
    state
}

/// The record's text for `state` as of now (what [`PersistedClient`]'s
/// derived `Serialize` writes; by hand, see
/// [`DehydratedState::write_json`]).
pub(crate) fn record_text(
    client: &QueryClient,
    options: &PersistOptions,
    state: &DehydratedState,
) -> String {
    let mut out = format!(
        "{{\"timestamp\":{},\"buster\":{},\"client_state\":",
        client.now(),
        Value::String(options.buster.clone())
    );
    state.write_json(&mut out);
    out.push('}');
    out
}

/// After a write failed with `error`: whether to try again, with the
/// oldest tenth of the queries (at least one) dropped when the storage is
/// full; any other failure is reported and ends the write. Bounded by the
/// number of queries, so a write always ends.
pub(crate) fn evict_after(
    client: &QueryClient,
    state: &mut DehydratedState,
    error: &StorageError,
) -> bool {
    if *error == StorageError::QuotaExceeded && !state.queries.is_empty() {
        let drop_n = state.queries.len().div_ceil(10);
        state.queries.drain(..drop_n);
        return true;
    }
    client
        .platform()
        .warn(&format!("could not persist the cache: {error:?}"));
    false
}

impl Writer {
    fn write(&self) {
        self.dirty.set(false);
        let stored = self.storage.get(&self.options.storage_key).ok().flatten();
        let foreign = foreign_mutations(&self.client, &self.options, stored.as_deref());
        let mut state = state_to_store(&self.client, &self.options, foreign);
        loop {
            let text = record_text(&self.client, &self.options, &state);
            match self.storage.set(&self.options.storage_key, &text) {
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

/// Keeps the storage in step with the cache while alive.
pub struct PersistHandle {
    writer: Rc<Writer>,
    _subscription: Subscription,
}

impl PersistHandle {
    /// Writes now if anything changed since the last write (call on page hide).
    pub fn flush(&self) {
        if self.writer.dirty.get() {
            self.writer.write();
        }
    }

    /// How many writes reached the storage.
    pub fn writes(&self) -> u64 {
        self.writer.writes.get()
    }
}

/// Starts persisting `client` to `storage`: a change of the mutation queue is
/// written at once; any other change schedules a write at most `throttle_ms`
/// later, and bursts of changes make one write.
pub fn persist(
    client: &QueryClient,
    storage: Rc<dyn Storage>,
    options: PersistOptions,
) -> PersistHandle {
    let writer = Rc::new(Writer {
        client: client.clone(),
        storage,
        options,
        dirty: Cell::new(false),
        scheduled: Cell::new(false),
        writes: Cell::new(0),
    });
    let subscription =
        subscribe_writes(client, &writer, |w| &w.dirty, |w| w.write(), schedule_write);
    PersistHandle {
        writer,
        _subscription: subscription,
    }
}

/// Keeps `writer` told of the cache's changes (the sync and async
/// persisters' one rule): every stored change marks it `dirty`; a change
/// of the mutation queue asks for a write `now`, before the change can be
/// shown as pending (a tab killed inside the throttle window must not lose
/// a change the user saw counted; mutation events are a handful per user
/// action), any other `later` (throttled). What the cache already holds
/// (the page's embedded state, merged with what was restored) is stored
/// too, without waiting for a change: the page's data is there for an
/// offline reload.
pub(crate) fn subscribe_writes<W: 'static>(
    client: &QueryClient,
    writer: &Rc<W>,
    dirty: fn(&W) -> &Cell<bool>,
    now: fn(&Rc<W>),
    later: fn(&Rc<W>),
) -> Subscription {
    let weak = Rc::downgrade(writer);
    let subscription = client.subscribe_cache(move |event: &CacheEvent| {
        if *event == CacheEvent::Environment || event.is_observer_event() {
            return;
        }
        let Some(writer) = weak.upgrade() else { return };
        dirty(&writer).set(true);
        if matches!(
            event,
            CacheEvent::MutationAdded(_) | CacheEvent::Mutation(_) | CacheEvent::MutationRemoved(_)
        ) {
            now(&writer);
        } else {
            later(&writer);
        }
    });
    if !client.queries().is_empty() {
        dirty(writer).set(true);
        later(writer);
    }
    subscription
}

/// A write at most `throttle_ms` from now (none if one is scheduled).
fn schedule_write(writer: &Rc<Writer>) {
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
            if writer.dirty.get() {
                writer.write();
            }
        }
    }));
}

/// An in-memory [`Storage`] with an optional size limit (bytes of values),
/// for tests and for platforms without storage.
#[derive(Debug, Default, Clone)]
pub struct MemoryStorage {
    items: Rc<RefCell<Vec<(String, String)>>>,
    /// Writes that would make the stored values larger than this fail with
    /// [`StorageError::QuotaExceeded`].
    pub limit: Option<usize>,
}

impl MemoryStorage {
    /// An empty storage with a size limit.
    pub fn with_limit(limit: usize) -> Self {
        Self {
            limit: Some(limit),
            ..Self::default()
        }
    }
}

impl Storage for MemoryStorage {
    fn get(&self, key: &str) -> Result<Option<String>, StorageError> {
        let items = self.items.borrow();
        Ok(items.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
    }

    fn set(&self, key: &str, value: &str) -> Result<(), StorageError> {
        let mut items = self.items.borrow_mut();
        if let Some(limit) = self.limit {
            let others: usize = items
                .iter()
                .filter(|(k, _)| k.as_str() != key)
                .map(|(_, v)| v.len())
                .sum();
            if others + value.len() > limit {
                return Err(StorageError::QuotaExceeded);
            }
        }
        match items.iter_mut().find(|(k, _)| k == key) {
            Some(item) => item.1 = value.to_owned(),
            None => items.push((key.to_owned(), value.to_owned())),
        }
        Ok(())
    }

    fn remove(&self, key: &str) {
        self.items.borrow_mut().retain(|(k, _)| k != key);
    }
}

impl crate::async_persist::AsyncStorage for MemoryStorage {
    fn get_item(
        &self,
        key: &str,
    ) -> futures::future::LocalBoxFuture<'static, Result<Option<String>, StorageError>> {
        Box::pin(std::future::ready(self.get(key)))
    }

    fn set_item(
        &self,
        key: &str,
        value: String,
    ) -> futures::future::LocalBoxFuture<'static, Result<(), StorageError>> {
        Box::pin(std::future::ready(self.set(key, &value)))
    }

    fn remove_item(
        &self,
        key: &str,
    ) -> futures::future::LocalBoxFuture<'static, Result<(), StorageError>> {
        self.remove(key);
        Box::pin(std::future::ready(Ok(())))
    }

    fn entries(
        &self,
    ) -> futures::future::LocalBoxFuture<'static, Result<Vec<(String, String)>, StorageError>> {
        Box::pin(std::future::ready(Ok(self.items.borrow().clone())))
    }
}
