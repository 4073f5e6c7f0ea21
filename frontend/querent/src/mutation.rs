//! Mutations: optimistic updates, rollback, scopes, and an offline queue that
//! survives reloads and replays exactly once.
//!
//! This is the JSON layer; apps define [`crate::typed::Mutation`]s, which
//! are registered and run through it.
//!
//! A mutation's function is not passed per call but looked up by the
//! mutation's key in a registry ([`QueryClient::register_mutation_json`]).
//! That is what lets a mutation made offline be persisted as plain data
//! (key, variables, idempotency key) and replayed after a reload, when no
//! closure from before the reload exists any more.
//!
//! Each mutation gets an idempotency key when created and sends the same key
//! on every attempt and every replay, so a server that honours
//! `Idempotency-Key` applies it once even when a response was lost.

use crate::client::{CacheEvent, QueryClient};
use crate::error::{ErrorKind, QueryError};
use crate::mutation_cache::Tail;
use crate::options::{NetworkMode, RetryDelay};
use crate::retryer::{self, Progress, RetryPolicy};
use futures::future::{FutureExt, LocalBoxFuture, Shared};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::rc::Rc;

/// A mutation's answer, shared by whoever awaits it.
pub(crate) type SharedAnswer = Shared<LocalBoxFuture<'static, Result<Rc<Value>, QueryError>>>;

/// How long a new mutation waits for [`MutationJournal::append`] before it
/// shows anyway (a strict IndexedDB commit takes milliseconds).
pub const JOURNAL_PATIENCE_MS: u64 = 2_000;

/// Where unconfirmed mutations are stored durably before they show
/// ([`QueryClient::set_mutation_journal`]; IndexedDB with strict durability
/// in the browser, `crate::idb::IdbMutationJournal`).
///
/// With a journal a new mutation is appended first, and only once the
/// append is done does it enter the queue (pending, counted, its
/// `on_mutate` run): whatever the person saw as pending is on disk, even if
/// the process is killed right after (a throttled or lazily flushed store
/// such as localStorage can lose it). Settled mutations are forgotten. A
/// failed append is warned about and the mutation goes on (the page's own
/// storage still keeps it). Mutations enter in the order they were made,
/// whichever append ends first (a scope's order holds).
pub trait MutationJournal {
    /// Stores `record`; the future ends when it is on disk.
    fn append(
        &self,
        record: &MutationRecord,
    ) -> LocalBoxFuture<'static, Result<(), crate::persist::StorageError>>;
    /// Forgets the mutation with this idempotency key (it settled).
    fn forget(&self, idempotency_key: &str);
}

/// Runs a mutation against the server.
pub type MutationFn =
    Rc<dyn Fn(MutationContext) -> LocalBoxFuture<'static, Result<Value, QueryError>>>;

/// What a mutation function receives.
#[derive(Clone)]
pub struct MutationContext {
    /// The variables the mutation was called with.
    pub variables: Value,
    /// Send as `Idempotency-Key`; the same on every attempt and replay.
    pub idempotency_key: String,
    /// The client, e.g. to read cached data.
    pub client: QueryClient,
}

/// Runs after a mutation settles, also for mutations replayed after a reload
/// (when the call site's callbacks no longer exist). Typically invalidates.
pub type SettledHook = Rc<dyn Fn(&QueryClient, &MutationRecord)>;

/// A mutation's options beyond its function (TanStack's mutation options
/// `retry`, `retryDelay`, `networkMode`, `gcTime`, `meta`): given when it
/// is registered ([`MutationDefaults::options`]) and for every key under a
/// prefix ([`QueryClient::set_mutation_defaults`]). Unset fields take the
/// prefix defaults, then querent's (TanStack's).
#[derive(Clone, Default)]
pub struct MutationConfig {
    /// Retries after a retryable server error (default 0). Network
    /// failures (no answer) are always retried, with backoff, once the
    /// app is online: the idempotency key makes a resend safe.
    pub retry: Option<u32>,
    /// The wait before each retry (default: 1 s doubling to 30 s); a
    /// server's `Retry-After` still wins.
    pub retry_delay: Option<RetryDelay>,
    /// Whether attempts wait for the network (default
    /// [`NetworkMode::Online`]: a mutation made offline is paused, and
    /// replayed once online).
    pub network_mode: Option<NetworkMode>,
    /// A settled mutation stays in the cache (for `use_mutation_state`,
    /// the devtools, `find_all_mutations`) this long (TanStack's mutation
    /// `gcTime`, default 5 min).
    pub gc_time: Option<u64>,
    /// Anything the app keeps with the mutations of a key (TanStack's
    /// `meta`): [`QueryClient::get_mutation_defaults`] of a record's key
    /// has it, for filters and the cache callbacks.
    pub meta: Option<Rc<Value>>,
}

impl std::fmt::Debug for MutationConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MutationConfig")
            .field("retry", &self.retry)
            .field("retry_delay", &self.retry_delay.is_some())
            .field("network_mode", &self.network_mode)
            .field("gc_time", &self.gc_time)
            .field("meta", &self.meta)
            .finish()
    }
}

impl MutationConfig {
    /// `self` with its unset fields taken from `defaults`.
    pub fn or(&self, defaults: &MutationConfig) -> MutationConfig {
        MutationConfig {
            retry: self.retry.or(defaults.retry),
            retry_delay: self
                .retry_delay
                .clone()
                .or_else(|| defaults.retry_delay.clone()),
            network_mode: self.network_mode.or(defaults.network_mode),
            gc_time: self.gc_time.or(defaults.gc_time),
            meta: self.meta.clone().or_else(|| defaults.meta.clone()),
        }
    }
}

/// What the registry holds for one mutation key.
#[derive(Clone)]
pub struct MutationDefaults {
    /// The function.
    pub mutation_fn: MutationFn,
    /// Runs after every settle of a mutation with this key.
    pub on_settled: Option<SettledHook>,
    /// Its options; unset ones come from
    /// [`QueryClient::set_mutation_defaults`].
    pub options: MutationConfig,
}

impl MutationDefaults {
    /// Defaults with just a function.
    pub fn new(mutation_fn: MutationFn) -> Self {
        Self {
            mutation_fn,
            on_settled: None,
            options: MutationConfig::default(),
        }
    }
}

/// Where a mutation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MutationStatus {
    /// Running.
    Pending,
    /// Waiting for the network, for an earlier mutation of its scope, or
    /// for its function to be registered.
    Paused,
    /// Done.
    Success,
    /// Failed for good.
    Error,
}

/// A mutation as stored and persisted (as JSON: `{"id", "mutation_key",
/// "variables", "idempotency_key", "scope", "status", "submitted_at",
/// "failure_count", "data", "error"}`, `scope`, `failure_count`, `data` and
/// `error` optional).
#[derive(Debug, Clone, PartialEq)]
pub struct MutationRecord {
    /// Order of creation in this client.
    pub id: u64,
    /// Registry key.
    pub mutation_key: String,
    /// The variables.
    pub variables: Value,
    /// Sent as `Idempotency-Key`.
    pub idempotency_key: String,
    /// Mutations of one scope run one at a time, in order.
    pub scope: Option<String>,
    /// Status.
    pub status: MutationStatus,
    /// When it was created (ms).
    pub submitted_at: i64,
    /// Failed attempts.
    pub failure_count: u32,
    /// The result, once successful.
    pub data: Option<Value>,
    /// The error, once failed (or why it is paused).
    pub error: Option<QueryError>,
}

const STATUSES: [(MutationStatus, &str); 4] = [
    (MutationStatus::Pending, "pending"),
    (MutationStatus::Paused, "paused"),
    (MutationStatus::Success, "success"),
    (MutationStatus::Error, "error"),
];

// Records are written and read through a `Value` by hand: the browser
// writes them on every change, and serde's derive would be code of its own
// in the download (~7 KB before compression).
impl Serialize for MutationRecord {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let status = STATUSES.iter().find(|(st, _)| *st == self.status);
        let mut record = serde_json::Map::new();
        let mut put = |name: &str, value: Value| record.insert(name.into(), value);
        put("id", self.id.into());
        put("mutation_key", self.mutation_key.clone().into());
        put("variables", self.variables.clone());
        put("idempotency_key", self.idempotency_key.clone().into());
        put("scope", self.scope.clone().into());
        put("status", status.map(|(_, name)| *name).into());
        put("submitted_at", self.submitted_at.into());
        put("failure_count", self.failure_count.into());
        put("data", self.data.clone().into());
        put("error", self.error.as_ref().map(QueryError::to_json).into());
        Value::Object(record).serialize(s)
    }
}

impl<'de> Deserialize<'de> for MutationRecord {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use crate::json::field;
        let mut value = Value::deserialize(d)?;
        // Everything but the variables and the data, which are then moved
        // out of the value (not copied).
        let read = |value: &Value| -> Result<Self, String> {
            let text = |name: &str| {
                field(value, name)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or(format!("a mutation's {name} is a string"))
            };
            let number = |name: &str| {
                field(value, name)
                    .and_then(Value::as_i64)
                    .ok_or(format!("a mutation's {name} is a number"))
            };
            let status = field(value, "status").and_then(Value::as_str);
            Ok(Self {
                id: field(value, "id")
                    .and_then(Value::as_u64)
                    .ok_or("a mutation's id is a number")?,
                mutation_key: text("mutation_key")?,
                variables: Value::Null,
                idempotency_key: text("idempotency_key")?,
                scope: match field(value, "scope") {
                    None => None,
                    Some(_) => Some(text("scope")?),
                },
                status: STATUSES
                    .iter()
                    .find(|(_, name)| Some(*name) == status)
                    .map(|(st, _)| *st)
                    .ok_or("a mutation's status is pending, paused, success or error")?,
                submitted_at: number("submitted_at")?,
                failure_count: match value.get("failure_count") {
                    None => 0,
                    Some(_) => {
                        u32::try_from(number("failure_count")?).map_err(|e| e.to_string())?
                    }
                },
                data: None,
                error: field(value, "error")
                    .map(QueryError::from_json)
                    .transpose()?,
            })
        };
        let mut record = read(&value).map_err(serde::de::Error::custom)?;
        record.variables = value
            .get_mut("variables")
            .map(Value::take)
            .ok_or_else(|| serde::de::Error::custom("a mutation has variables"))?;
        record.data = value
            .get_mut("data")
            .map(Value::take)
            .filter(|v| !v.is_null());
        Ok(record)
    }
}

impl MutationRecord {
    /// Not yet confirmed by the server: pending or paused.
    pub fn is_unsettled(&self) -> bool {
        matches!(
            self.status,
            MutationStatus::Pending | MutationStatus::Paused
        )
    }
}

type OnMutate = Box<dyn FnOnce(&QueryClient, &Value) -> Value>;
type OnSuccess = Box<dyn FnOnce(&QueryClient, &Value, &Value, &Value)>;
type OnError = Box<dyn FnOnce(&QueryClient, &QueryError, &Value, &Value)>;
type OnSettled = Box<dyn FnOnce(&QueryClient, Result<&Value, &QueryError>, &Value, &Value)>;

/// Per-call options: the scope and TanStack's lifecycle callbacks.
///
/// `on_mutate(client, variables)` runs at once (also offline) and returns a
/// context, typically the data it replaced; `on_error(client, error,
/// variables, context)` can then roll back; `on_success(client, data,
/// variables, context)` and `on_settled` follow the server's answer.
#[derive(Default)]
pub struct MutateOptions {
    /// Serialise with other mutations of this scope.
    pub scope: Option<String>,
    /// The call's idempotency key, when the caller already has one (e.g. a
    /// form the browser may have posted itself with that key before the
    /// app took the page over); otherwise a new one. A key already known to
    /// this client is never used twice: such a call gets a new one.
    pub idempotency_key: Option<String>,
    /// Optimistic update; returns the rollback context.
    pub on_mutate: Option<OnMutate>,
    /// After success.
    pub on_success: Option<OnSuccess>,
    /// After failure.
    pub on_error: Option<OnError>,
    /// After either.
    pub on_settled: Option<OnSettled>,
}

/// How long a settled mutation stays in the cache by default (TanStack's
/// mutation `gcTime`).
pub const DEFAULT_MUTATION_GC_TIME_MS: u64 = 5 * 60_000;

impl QueryClient {
    fn update_record(&self, id: u64, f: impl FnOnce(&mut MutationRecord)) {
        if self.mutation_cache().update(id, f) {
            self.mutation_cache().changed.notify();
            self.emit(&CacheEvent::Mutation(id));
        }
    }

    /// TanStack's `resumePausedMutations`. querent resumes a paused
    /// mutation by itself (once online, once its function is registered,
    /// once its scope is free), so this waits: the future completes when
    /// every mutation paused now has settled.
    pub fn resume_paused_mutations(&self) -> impl Future<Output = ()> + 'static + use<> {
        let client = self.clone();
        let paused: Vec<u64> = self
            .mutation_cache()
            .find(|r| r.status == MutationStatus::Paused)
            .iter()
            .map(|r| r.id)
            .collect();
        async move {
            let cache = client.mutation_cache();
            while paused
                .iter()
                .any(|id| cache.record(*id).is_some_and(|r| r.is_unsettled()))
            {
                let _ = cache.changed.wait().await;
            }
        }
    }

    /// Registers the function (and defaults) for a mutation key. Mutations of
    /// that key waiting for it (restored before registration) resume.
    pub fn register_mutation_json(&self, mutation_key: &str, defaults: MutationDefaults) {
        self.mutation_cache().register(mutation_key, defaults);
    }

    /// Every known mutation, oldest first.
    pub fn mutations(&self) -> Vec<MutationRecord> {
        self.mutation_cache().records()
    }

    /// Mutations not yet confirmed by the server (for a "pending" badge).
    pub fn pending_mutations(&self) -> usize {
        self.mutation_cache().unsettled()
    }

    fn new_idempotency_key(&self) -> String {
        let platform = self.platform();
        format!(
            "{:x}-{:016x}{:016x}",
            self.now(),
            platform.random_u64(),
            platform.random_u64()
        )
    }

    /// Runs the mutation registered as `mutation_key` with `variables`.
    ///
    /// `on_mutate` runs before this returns. The mutation then runs in the
    /// background (whether or not the future is awaited): at once when online
    /// and its scope is free, otherwise paused until then.
    ///
    /// ```
    /// use querent::{MutateOptions, MutationDefaults, QueryClient, QueryKey};
    /// use querent::mutation::MutationFn;
    /// use serde_json::{json, Value};
    /// use std::rc::Rc;
    /// # let (platform, mut runner) = querent::testing::FakePlatform::new();
    /// let client = QueryClient::new(platform);
    /// let save: MutationFn = Rc::new(|ctx| Box::pin(async move {
    ///     // Send ctx.variables with the header Idempotency-Key: ctx.idempotency_key
    ///     Ok(json!({"saved": ctx.variables}))
    /// }));
    /// client.register_mutation_json("add_todo", MutationDefaults::new(save));
    /// let todos = QueryKey::from(vec![json!("todos")]);
    /// client.set_query_data(&todos, |_| Some(json!([])));
    /// let list = todos.clone();
    /// let done = client.mutate_json("add_todo", json!("milk"), MutateOptions {
    ///     on_mutate: Some(Box::new(move |client: &QueryClient, vars: &Value| {
    ///         let before = client.get_query_data(&list).map(|d| (*d).clone());
    ///         client.set_query_data(&list, |old| {
    ///             let mut items = old?.clone();
    ///             items.as_array_mut()?.push(vars.clone());
    ///             Some(items)
    ///         });
    ///         before.unwrap_or(Value::Null) // the rollback context
    ///     })),
    ///     ..MutateOptions::default()
    /// });
    /// assert_eq!(*client.get_query_data(&todos).unwrap(), json!(["milk"]));
    /// assert!(runner.block_on(done).is_ok());
    /// ```
    pub fn mutate_json(
        &self,
        mutation_key: &str,
        variables: Value,
        options: MutateOptions,
    ) -> impl Future<Output = Result<Rc<Value>, QueryError>> + 'static + use<> {
        self.start_mutation(mutation_key, variables, options).1
    }

    /// [`QueryClient::mutate_json`], with the new mutation's id (what a
    /// [`crate::MutationObserver`] follows).
    pub(crate) fn start_mutation(
        &self,
        mutation_key: &str,
        variables: Value,
        mut options: MutateOptions,
    ) -> (u64, SharedAnswer) {
        let id = self.next_id();
        let idempotency_key = options
            .idempotency_key
            .take()
            .filter(|k| !k.is_empty() && !self.mutation_cache().knows(k))
            .unwrap_or_else(|| self.new_idempotency_key());
        let config = self.get_mutation_defaults(mutation_key);
        let can_run = config
            .network_mode
            .unwrap_or_default()
            .can_fetch(self.is_online());
        let record = MutationRecord {
            id,
            mutation_key: mutation_key.to_owned(),
            variables: variables.clone(),
            idempotency_key,
            scope: options.scope.clone(),
            status: if can_run {
                MutationStatus::Pending
            } else {
                MutationStatus::Paused
            },
            submitted_at: self.now(),
            failure_count: 0,
            data: None,
            error: None,
        };
        let Some(journal) = self.mutation_journal() else {
            return (id, self.enter_mutation(record, variables, options));
        };
        // On disk first; only then does it show (see `MutationJournal`).
        // A store that does not answer within `JOURNAL_PATIENCE_MS` (a
        // database that never opens) must not hold the change back for
        // ever: it shows then, kept by the page's storage.
        let stored = futures::future::select(
            journal.append(&record),
            self.platform().sleep(JOURNAL_PATIENCE_MS),
        );
        // In the order made: after the previous journaled mutation entered.
        let (entered, entry) = futures::channel::oneshot::channel();
        let previous = self.replace_last_entry(entry.shared());
        let client = self.clone();
        let answer = async move {
            let stored = stored.await;
            if let Some(previous) = previous {
                let _ = previous.await;
            }
            let why = match stored {
                futures::future::Either::Left((Ok(()), _)) => None,
                futures::future::Either::Left((Err(why), _)) => Some(format!("{why:?}")),
                futures::future::Either::Right(_) => Some("no answer in time".to_owned()),
            };
            if let Some(why) = why {
                client.platform().warn(&format!(
                    "a mutation could not be stored durably ({why}); the page's storage keeps it"
                ));
            }
            let answer = client.enter_mutation(record, variables, options);
            let _ = entered.send(());
            answer.await
        }
        .boxed_local()
        .shared();
        // It enters the queue whether or not the caller awaits the answer.
        let driver = answer.clone();
        self.platform().spawn(Box::pin(async move {
            let _ = driver.await;
        }));
        (id, answer)
    }

    /// A new mutation joins the queue: counted, its `on_mutate` run, then
    /// run in its turn.
    fn enter_mutation(
        &self,
        record: MutationRecord,
        variables: Value,
        options: MutateOptions,
    ) -> SharedAnswer {
        let id = record.id;
        self.mutation_cache().insert(record);
        self.emit(&CacheEvent::MutationAdded(id));
        let on_mutate = self.mutation_cache_config().on_mutate.clone();
        if let Some(f) = on_mutate
            && let Some(record) = self.mutation_cache().record(id)
        {
            f(&variables, &record);
        }
        let context = match options.on_mutate {
            Some(on_mutate) => on_mutate(self, &variables),
            None => Value::Null,
        };
        let callbacks = Callbacks {
            on_success: options.on_success,
            on_error: options.on_error,
            on_settled: options.on_settled,
            context,
        };
        let paused = self
            .mutation_cache()
            .record(id)
            .is_some_and(|r| r.status == MutationStatus::Paused);
        self.schedule_with(id, Some(callbacks), paused)
    }

    /// Options for every mutation whose key starts with `prefix`
    /// (TanStack's `setMutationDefaults`, matched on the key's leading
    /// part: `"posts."` covers `"posts.create"` and `"posts.delete"`).
    /// What a mutation's registration sets wins; of several matching
    /// prefixes, the one set later wins.
    ///
    /// ```
    /// use querent::mutation::MutationConfig;
    /// # let (platform, _runner) = querent::testing::FakePlatform::new();
    /// # let client = querent::QueryClient::new(platform);
    /// client.set_mutation_defaults("posts.", MutationConfig { retry: Some(2), ..Default::default() });
    /// assert_eq!(client.get_mutation_defaults("posts.create").retry, Some(2));
    /// assert_eq!(client.get_mutation_defaults("users.update").retry, None);
    /// ```
    pub fn set_mutation_defaults(&self, prefix: &str, options: MutationConfig) {
        self.mutation_cache().set_prefix_defaults(prefix, options);
    }

    /// The options a mutation of `mutation_key` runs with: its
    /// registration's, then the matching prefix defaults (TanStack's
    /// `getMutationDefaults`).
    pub fn get_mutation_defaults(&self, mutation_key: &str) -> MutationConfig {
        let cache = self.mutation_cache();
        let prefixed = cache.prefix_defaults(mutation_key);
        match cache.defaults(mutation_key) {
            Some(registered) => registered.options.or(&prefixed),
            None => prefixed,
        }
    }

    /// The record of mutation `id`, while the cache has it.
    pub(crate) fn mutation_record(&self, id: u64) -> Option<MutationRecord> {
        self.mutation_cache().record(id)
    }

    /// Adopts persisted, unconfirmed mutations (after a reload): each gets a
    /// new local id (keeping their order) and its original idempotency key,
    /// and is queued behind earlier ones. Mutations already known (same
    /// idempotency key) are skipped. Returns how many were adopted.
    pub fn restore_mutations(&self, mut records: Vec<MutationRecord>) -> usize {
        crate::sort::sort_by(&mut records, |a, b| {
            (a.submitted_at, a.id).cmp(&(b.submitted_at, b.id))
        });
        let mut adopted = 0;
        for mut record in records.into_iter().filter(MutationRecord::is_unsettled) {
            if self.mutation_cache().knows(&record.idempotency_key) {
                continue;
            }
            record.id = self.next_id();
            record.status = MutationStatus::Paused;
            let id = record.id;
            self.mutation_cache().insert(record);
            self.emit(&CacheEvent::MutationAdded(id));
            // Replayed mutations keep their original order.
            drop(self.schedule_with(id, None, true));
            adopted += 1;
        }
        adopted
    }

    /// Queues the mutation behind its scope (and, for mutations made or
    /// restored offline, behind earlier offline ones, so they replay in order).
    fn schedule_with(
        &self,
        id: u64,
        callbacks: Option<Callbacks>,
        in_replay_order: bool,
    ) -> SharedAnswer {
        let scope = self.mutation_cache().record(id).and_then(|r| r.scope);
        let (after_scope, after_replay) = self
            .mutation_cache()
            .waits_for(scope.as_deref(), in_replay_order);
        // Waiting for an earlier mutation of its scope: paused until it
        // runs (TanStack: a mutation that cannot run yet `isPaused`).
        if after_scope.as_ref().is_some_and(|t| t.peek().is_none()) {
            self.update_record(id, |r| r.status = MutationStatus::Paused);
        }
        let client = self.clone();
        let run = async move {
            if let Some(t) = after_scope {
                t.await;
            }
            if let Some(t) = after_replay {
                t.await;
            }
            let result = client.execute(id).await;
            client.settle(id, &result, callbacks);
            result.map(Rc::new)
        }
        .boxed_local()
        .shared();
        let tail: Tail = run.clone().map(drop).boxed_local().shared();
        self.mutation_cache().enqueue(scope, in_replay_order, tail);
        let driver = run.clone();
        self.platform().spawn(Box::pin(async move {
            let _ = driver.await;
        }));
        run
    }

    async fn execute(&self, id: u64) -> Result<Value, QueryError> {
        let Some(record) = self.mutation_cache().record(id) else {
            return Err(QueryError::local(
                ErrorKind::Cancelled,
                "the mutation was removed",
            ));
        };
        let defaults = self.registered_defaults(id, &record.mutation_key).await;
        let attempt = || {
            (defaults.mutation_fn)(MutationContext {
                variables: record.variables.clone(),
                idempotency_key: record.idempotency_key.clone(),
                client: self.clone(),
            })
        };
        let progress = |progress: Progress<'_>| match progress {
            Progress::Paused(error) => self.update_record(id, |r| {
                r.status = MutationStatus::Paused;
                if let Some(error) = error {
                    r.error = Some(error.clone());
                }
            }),
            // The latest failure stays the reason while the retry runs; a
            // pause's reason that was no failure (no function registered
            // yet) goes.
            Progress::Attempt => self.update_record(id, |r| {
                r.status = MutationStatus::Pending;
                if r.failure_count == 0 {
                    r.error = None;
                }
            }),
            Progress::Failed {
                failures,
                error,
                retrying,
            } => {
                let failed = |r: &mut MutationRecord| {
                    r.failure_count = failures;
                    r.error = Some(error.clone());
                };
                if retrying {
                    self.update_record(id, failed);
                } else {
                    // The settle that follows tells of it, with the error
                    // (TanStack's final failure is one state).
                    self.mutation_cache().update(id, failed);
                }
            }
            Progress::Resumed => {}
        };
        let options = self.get_mutation_defaults(&record.mutation_key);
        let mut policy = RetryPolicy::mutation(options.retry.unwrap_or(0));
        policy.retry_delay = options.retry_delay;
        policy.network_mode = options.network_mode.unwrap_or_default();
        let platform = self.platform();
        retryer::run(&*platform, self.environment(), &policy, attempt, progress).await
    }

    /// The function registered for `key`. A mutation restored before the
    /// app registered it waits (paused), never dropped.
    async fn registered_defaults(&self, id: u64, key: &str) -> MutationDefaults {
        loop {
            if let Some(defaults) = self.mutation_cache().defaults(key) {
                return defaults;
            }
            self.update_record(id, |r| {
                r.status = MutationStatus::Paused;
                r.error = Some(QueryError::local(
                    ErrorKind::Unregistered,
                    format!("no mutation function is registered for `{key}` yet"),
                ));
            });
            self.mutation_cache().next_registration().await;
        }
    }

    /// Runs the callbacks, then records the outcome (as TanStack does), so
    /// a view showing unconfirmed mutations never sees the mutation gone
    /// before the cache holds its result.
    fn settle(&self, id: u64, result: &Result<Value, QueryError>, callbacks: Option<Callbacks>) {
        let Some(mut record) = self.mutation_cache().record(id) else {
            return;
        };
        match result {
            Ok(data) => {
                record.status = MutationStatus::Success;
                record.data = Some(data.clone());
                record.error = None;
                record.failure_count = 0;
            }
            Err(error) => {
                record.status = MutationStatus::Error;
                record.error = Some(error.clone());
            }
        }
        // TanStack's order: the cache's callback, then the call's, for the
        // outcome and then for settled.
        let global = self.mutation_cache_config().clone();
        let (context, on_success, on_error, on_settled) = match callbacks {
            Some(cb) => (cb.context, cb.on_success, cb.on_error, cb.on_settled),
            None => (Value::Null, None, None, None),
        };
        let vars = &record.variables;
        match result {
            Ok(data) => {
                if let Some(f) = &global.on_success {
                    f(data, vars, &context, &record);
                }
                if let Some(f) = on_success {
                    f(self, data, vars, &context);
                }
            }
            Err(error) => {
                if let Some(f) = &global.on_error {
                    f(error, vars, &context, &record);
                }
                if let Some(f) = on_error {
                    f(self, error, vars, &context);
                }
            }
        }
        if let Some(f) = &global.on_settled {
            f(
                result.as_ref().ok(),
                result.as_ref().err(),
                vars,
                &context,
                &record,
            );
        }
        if let Some(f) = on_settled {
            f(self, result.as_ref(), vars, &context);
        }
        let defaults = self.mutation_cache().defaults(&record.mutation_key);
        let gc_time = self
            .get_mutation_defaults(&record.mutation_key)
            .gc_time
            .unwrap_or(DEFAULT_MUTATION_GC_TIME_MS);
        if let Some(hook) = defaults.and_then(|d| d.on_settled) {
            hook(self, &record);
        }
        if let Some(journal) = self.mutation_journal() {
            journal.forget(&record.idempotency_key);
        }
        self.update_record(id, |r| *r = record);
        let client = self.clone();
        let sleep = self.platform().sleep(gc_time);
        self.platform().spawn(Box::pin(async move {
            sleep.await;
            client.mutation_cache().remove(id);
            client.emit(&CacheEvent::MutationRemoved(id));
        }));
    }
}

struct Callbacks {
    on_success: Option<OnSuccess>,
    on_error: Option<OnError>,
    on_settled: Option<OnSettled>,
    context: Value,
}

#[cfg(test)]
mod tests {
    use super::{MutationRecord, MutationStatus};
    use crate::error::{ErrorKind, QueryError};
    use serde_json::{Value, json};

    fn decode(value: &Value) -> Result<MutationRecord, serde_json::Error> {
        crate::json::decode(value)
    }

    /// The JSON form is the one serde's derive wrote before records were
    /// read and written by hand: queues persisted by earlier versions read
    /// back, and new ones are the same text.
    #[test]
    fn records_keep_their_json_form() {
        let full = MutationRecord {
            id: 7,
            mutation_key: "add_todo".into(),
            variables: json!({"title": "milk", "tags": ["a"]}),
            idempotency_key: "k1".into(),
            scope: Some("post:1".into()),
            status: MutationStatus::Paused,
            submitted_at: 1_700_000_000_000,
            failure_count: 2,
            data: Some(json!({"id": 3})),
            error: Some(QueryError::http(503, "busy", "try later").with_retry_after(2000)),
        };
        let text = json!({
            "id": 7, "mutation_key": "add_todo",
            "variables": {"title": "milk", "tags": ["a"]},
            "idempotency_key": "k1", "scope": "post:1", "status": "paused",
            "submitted_at": 1_700_000_000_000_i64, "failure_count": 2, "data": {"id": 3},
            "error": {"kind": "http", "status": 503, "code": "busy", "message": "try later",
                      "retry_after_ms": 2000},
        });
        assert_eq!(serde_json::to_value(&full).unwrap(), text);
        assert_eq!(decode(&text).unwrap(), full);

        let minimal = json!({"id": 1, "mutation_key": "m", "variables": null,
            "idempotency_key": "k", "status": "pending", "submitted_at": 5});
        let record = decode(&minimal).unwrap();
        assert_eq!(
            (
                record.scope.as_deref(),
                record.failure_count,
                &record.data,
                &record.error
            ),
            (None, 0, &None, &None)
        );
        assert_eq!(record.variables, Value::Null);
        let mut written = minimal.clone();
        for (name, value) in [
            ("scope", Value::Null),
            ("failure_count", json!(0)),
            ("data", Value::Null),
            ("error", Value::Null),
        ] {
            written[name] = value;
        }
        assert_eq!(serde_json::to_value(&record).unwrap(), written);
        assert_eq!(decode(&written).unwrap(), record);

        // An error stored before `kind` existed reads back by its status.
        let mut old = minimal.clone();
        old["status"] = json!("error");
        old["error"] = json!({"status": null, "code": "network", "message": "offline"});
        let error = decode(&old).unwrap().error.unwrap();
        assert_eq!(
            (error.kind, error.message.as_str()),
            (ErrorKind::Network, "offline")
        );
        old["error"] = json!({"status": 404, "code": "not_found", "message": "gone"});
        assert_eq!(
            decode(&old).unwrap().error.unwrap().kind,
            ErrorKind::Http(404)
        );

        for (name, bad) in [
            ("id", Value::Null),
            ("id", json!("7")),
            ("id", json!(-1)),
            ("mutation_key", json!(1)),
            ("status", json!("done")),
            ("submitted_at", json!(1.5)),
            ("failure_count", json!(-1)),
            ("failure_count", Value::Null),
            ("scope", json!(3)),
            ("error", json!({"code": 1, "message": "m"})),
            (
                "error",
                json!({"status": 70000, "code": "c", "message": "m"}),
            ),
        ] {
            let mut record = minimal.clone();
            record[name] = bad.clone();
            assert!(decode(&record).is_err(), "{name}: {bad} was read");
        }
        let mut record = minimal.clone();
        record.as_object_mut().unwrap().remove("variables");
        assert!(
            decode(&record).is_err(),
            "a record without variables was read"
        );
        assert!(decode(&json!([1])).is_err());
    }
}
