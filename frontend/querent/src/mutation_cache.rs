//! The mutation cache: every known mutation's record, the registry of
//! mutation functions by key, and the queues (scopes, the offline replay
//! order). It stores; running a mutation is `mutation.rs`'s business.

use crate::mutation::{MutationConfig, MutationDefaults, MutationRecord};
use crate::signal::Signal;
use futures::future::{LocalBoxFuture, Shared};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

/// Completes when the mutation queued last (in a scope, or in replay
/// order) has settled.
pub(crate) type Tail = Shared<LocalBoxFuture<'static, ()>>;

/// Mutations and their registry.
#[derive(Default)]
pub(crate) struct MutationCache {
    records: RefCell<BTreeMap<u64, MutationRecord>>,
    registry: RefCell<HashMap<String, MutationDefaults>>,
    /// `set_mutation_defaults`, in the order set.
    prefix_defaults: RefCell<Vec<(String, MutationConfig)>>,
    scope_tails: RefCell<HashMap<String, Tail>>,
    replay_tail: RefCell<Option<Tail>>,
    registered: Signal,
    /// Notified when a record changes.
    pub(crate) changed: Signal,
}

impl MutationCache {
    /// Registers the function (and defaults) for `key`, waking mutations
    /// waiting for it.
    pub(crate) fn register(&self, key: &str, defaults: MutationDefaults) {
        self.registry.borrow_mut().insert(key.to_owned(), defaults);
        self.registered.notify();
    }

    /// What is registered for `key`.
    pub(crate) fn defaults(&self, key: &str) -> Option<MutationDefaults> {
        self.registry.borrow().get(key).cloned()
    }

    /// Sets the defaults for keys under `prefix` (replacing earlier ones
    /// for the same prefix, keeping their place).
    pub(crate) fn set_prefix_defaults(&self, prefix: &str, options: MutationConfig) {
        let mut all = self.prefix_defaults.borrow_mut();
        match all.iter_mut().find(|(p, _)| p == prefix) {
            Some(entry) => entry.1 = options,
            None => all.push((prefix.to_owned(), options)),
        }
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
        self.records.borrow().values().cloned().collect()
    }

    pub(crate) fn record(&self, id: u64) -> Option<MutationRecord> {
        self.records.borrow().get(&id).cloned()
    }

    /// How many are not confirmed yet.
    /// How many records `keep` accepts.
    pub(crate) fn count(&self, keep: impl Fn(&MutationRecord) -> bool) -> usize {
        self.records.borrow().values().filter(|r| keep(r)).count()
    }

    /// The records `keep` accepts, oldest first.
    pub(crate) fn find(&self, keep: impl Fn(&MutationRecord) -> bool) -> Vec<MutationRecord> {
        let records = self.records.borrow();
        records.values().filter(|r| keep(r)).cloned().collect()
    }

    pub(crate) fn unsettled(&self) -> usize {
        self.count(MutationRecord::is_unsettled)
    }

    /// Whether a mutation with this idempotency key is known.
    pub(crate) fn knows(&self, idempotency_key: &str) -> bool {
        let records = self.records.borrow();
        records
            .values()
            .any(|r| r.idempotency_key == idempotency_key)
    }

    pub(crate) fn insert(&self, record: MutationRecord) {
        self.records.borrow_mut().insert(record.id, record);
    }

    /// Edits record `id`; returns whether it exists.
    pub(crate) fn update(&self, id: u64, f: impl FnOnce(&mut MutationRecord)) -> bool {
        self.records.borrow_mut().get_mut(&id).map(f).is_some()
    }

    pub(crate) fn remove(&self, id: u64) {
        self.records.borrow_mut().remove(&id);
    }

    /// What a new mutation in `scope` (and, `in_replay_order`, behind the
    /// offline queue) waits for before it runs.
    pub(crate) fn waits_for(
        &self,
        scope: Option<&str>,
        in_replay_order: bool,
    ) -> (Option<Tail>, Option<Tail>) {
        let after_scope = scope.and_then(|s| self.scope_tails.borrow().get(s).cloned());
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
            self.scope_tails.borrow_mut().insert(scope, tail.clone());
        }
        if in_replay_order {
            *self.replay_tail.borrow_mut() = Some(tail);
        }
    }
}
