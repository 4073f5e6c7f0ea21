//! The mutation cache: every known mutation's record, the registry of
//! mutation functions by key, and the queues (scopes, the offline replay
//! order). It stores; running a mutation is `mutation.rs`'s business.

use crate::mutation::{MutationConfig, MutationDefaults, MutationRecord};
use crate::signal::Signal;
use futures::future::{LocalBoxFuture, Shared};
use std::cell::RefCell;

/// Completes when the mutation queued last (in a scope, or in replay
/// order) has settled.
pub(crate) type Tail = Shared<LocalBoxFuture<'static, ()>>;

/// Mutations and their registry.
#[derive(Default)]
pub(crate) struct MutationCache {
    /// By id, ascending (found by binary search).
    records: RefCell<Vec<MutationRecord>>,
    registry: RefCell<Vec<(String, MutationDefaults)>>,
    /// `set_mutation_defaults`, in the order set.
    prefix_defaults: RefCell<Vec<(String, MutationConfig)>>,
    scope_tails: RefCell<Vec<(String, Tail)>>,
    replay_tail: RefCell<Option<Tail>>,
    registered: Signal,
    /// Notified when a record changes.
    pub(crate) changed: Signal,
}

impl MutationCache {
    /// Registers the function (and defaults) for `key`, waking mutations
    /// waiting for it.
    pub(crate) fn register(&self, key: &str, defaults: MutationDefaults) {
        put(&mut self.registry.borrow_mut(), key, defaults);
        self.registered.notify();
    }

    /// What is registered for `key`.
    pub(crate) fn defaults(&self, key: &str) -> Option<MutationDefaults> {
        get(&self.registry.borrow(), key).cloned()
    }

    /// Sets the defaults for keys under `prefix` (replacing earlier ones
    /// for the same prefix, keeping their place).
    pub(crate) fn set_prefix_defaults(&self, prefix: &str, options: MutationConfig) {
        put(&mut self.prefix_defaults.borrow_mut(), prefix, options);
    }

    /// Every matching prefix's defaults merged, the later set winning.
    pub(crate) fn prefix_defaults(&self, key: &str) -> MutationConfig {
        self.prefix_defaults
            .borrow()
            .iter()
            .filter(|(prefix, _)| key.starts_with(prefix.as_str()))
            .fold(MutationConfig::default(), |merged, (_, options)| {
                options.or(&merged)
            })
    }

    /// Completes at the next registration.
    pub(crate) async fn next_registration(&self) {
        let _ = self.registered.wait().await;
    }

    /// Every record, oldest first.
    pub(crate) fn records(&self) -> Vec<MutationRecord> {
        self.records.borrow().clone()
    }

    pub(crate) fn record(&self, id: u64) -> Option<MutationRecord> {
        let records = self.records.borrow();
        position(&records, id).map(|i| records[i].clone())
    }

    /// How many are not confirmed yet.
    /// How many records `keep` accepts.
    pub(crate) fn count(&self, keep: impl Fn(&MutationRecord) -> bool) -> usize {
        self.records.borrow().iter().filter(|r| keep(r)).count()
    }

    /// The records `keep` accepts, oldest first.
    pub(crate) fn find(&self, keep: impl Fn(&MutationRecord) -> bool) -> Vec<MutationRecord> {
        let records = self.records.borrow();
        records.iter().filter(|r| keep(r)).cloned().collect()
    }

    pub(crate) fn unsettled(&self) -> usize {
        self.count(MutationRecord::is_unsettled)
    }

    /// Whether a mutation with this idempotency key is known.
    pub(crate) fn knows(&self, idempotency_key: &str) -> bool {
        let records = self.records.borrow();
        records.iter().any(|r| r.idempotency_key == idempotency_key)
    }

    pub(crate) fn insert(&self, record: MutationRecord) {
        let mut records = self.records.borrow_mut();
        match records.binary_search_by_key(&record.id, |r| r.id) {
            Ok(i) => records[i] = record,
            Err(i) => records.insert(i, record),
        }
    }

    /// Edits record `id`; returns whether it exists.
    pub(crate) fn update(&self, id: u64, f: impl FnOnce(&mut MutationRecord)) -> bool {
        let mut records = self.records.borrow_mut();
        position(&records, id).map(|i| f(&mut records[i])).is_some()
    }

    pub(crate) fn remove(&self, id: u64) {
        let mut records = self.records.borrow_mut();
        if let Some(i) = position(&records, id) {
            records.remove(i);
        }
    }

    /// What a new mutation in `scope` (and, `in_replay_order`, behind the
    /// offline queue) waits for before it runs.
    pub(crate) fn waits_for(
        &self,
        scope: Option<&str>,
        in_replay_order: bool,
    ) -> (Option<Tail>, Option<Tail>) {
        let after_scope = scope.and_then(|s| get(&self.scope_tails.borrow(), s).cloned());
        let after_replay = if in_replay_order {
            self.replay_tail.borrow().clone()
        } else {
            None
        };
        (after_scope, after_replay)
    }

    /// Queues `tail` as the last of `scope` (and of the replay order).
    pub(crate) fn enqueue(&self, scope: Option<String>, in_replay_order: bool, tail: Tail) {
        if let Some(scope) = scope {
            put(&mut self.scope_tails.borrow_mut(), &scope, tail.clone());
        }
        if in_replay_order {
            *self.replay_tail.borrow_mut() = Some(tail);
        }
    }
}

/// The value under `key` in a short list of pairs (a few mutation keys or
/// scopes: a list is smaller in the wasm than a hash map, and as fast).
fn get<'a, V>(list: &'a [(String, V)], key: &str) -> Option<&'a V> {
    list.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Sets `key` to `value` in a short list of pairs.
fn put<V>(list: &mut Vec<(String, V)>, key: &str, value: V) {
    match list.iter_mut().find(|(k, _)| k == key) {
        Some(entry) => entry.1 = value,
        None => list.push((key.to_owned(), value)),
    }
}

/// Where record `id` is.
fn position(records: &[MutationRecord], id: u64) -> Option<usize> {
    records.binary_search_by_key(&id, |r| r.id).ok()
}
