//! A mutation observer (TanStack's `MutationObserver`): what a
//! `use_mutation` hook holds. It follows the latest call it made (an
//! older call that settles later does not change what it shows), and
//! `reset` forgets it.

use crate::client::{CacheEvent, QueryClient, Subscription};
use crate::error::QueryError;
use crate::mutation::{MutateOptions, MutationStatus};
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// What a mutation observer shows (TanStack's `MutationObserverResult`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MutationObserverResult {
    /// `None` before the first call and after `reset` (TanStack's
    /// `'idle'`); then the latest call's.
    pub status: Option<MutationStatus>,
    /// The latest call's answer.
    pub data: Option<Rc<Value>>,
    /// The latest call's error, once it failed for good.
    pub error: Option<QueryError>,
    /// The latest call's variables.
    pub variables: Option<Rc<Value>>,
    /// Its failed attempts so far.
    pub failure_count: u32,
    /// Its latest failed attempt's error, also while it retries.
    pub failure_reason: Option<QueryError>,
    /// When it was made (ms since the epoch; 0 when idle).
    pub submitted_at: i64,
}

impl MutationObserverResult {
    /// No call yet (or reset).
    pub fn is_idle(&self) -> bool {
        self.status.is_none()
    }

    /// The latest call runs or waits (for the network or its scope).
    pub fn is_pending(&self) -> bool {
        matches!(
            self.status,
            Some(MutationStatus::Pending | MutationStatus::Paused)
        )
    }

    /// The latest call waits.
    pub fn is_paused(&self) -> bool {
        self.status == Some(MutationStatus::Paused)
    }

    /// The latest call succeeded.
    pub fn is_success(&self) -> bool {
        self.status == Some(MutationStatus::Success)
    }

    /// The latest call failed for good.
    pub fn is_error(&self) -> bool {
        self.status == Some(MutationStatus::Error)
    }
}

type Listener = Rc<dyn Fn(&MutationObserverResult)>;

/// Makes mutations of one key and shows the latest.
pub struct MutationObserver {
    inner: Rc<Inner>,
}

struct Inner {
    client: QueryClient,
    mutation_key: String,
    /// The latest call's mutation.
    current: Cell<Option<u64>>,
    result: RefCell<MutationObserverResult>,
    listener: RefCell<Option<Listener>>,
    subscription: RefCell<Option<Subscription>>,
}

impl MutationObserver {
    /// An observer of calls to the mutation registered as `mutation_key`.
    pub fn new(client: &QueryClient, mutation_key: &str) -> Self {
        Self {
            inner: Rc::new(Inner {
                client: client.clone(),
                mutation_key: mutation_key.to_owned(),
                current: Cell::new(None),
                result: RefCell::default(),
                listener: RefCell::new(None),
                subscription: RefCell::new(None),
            }),
        }
    }

    /// `on_change` runs after every change of the result, until
    /// [`MutationObserver::unsubscribe`] or the drop (the latest listener
    /// given is the one called).
    pub fn subscribe(&self, on_change: impl Fn(&MutationObserverResult) + 'static) {
        *self.inner.listener.borrow_mut() = Some(Rc::new(on_change));
        if self.inner.subscription.borrow().is_some() {
            return;
        }
        let me = Rc::downgrade(&self.inner);
        let subscription = self.inner.client.subscribe_cache(move |event| {
            if let (CacheEvent::Mutation(id), Some(me)) = (event, me.upgrade())
                && me.current.get() == Some(*id)
            {
                me.update();
            }
        });
        *self.inner.subscription.borrow_mut() = Some(subscription);
        self.inner.update();
    }

    /// Stops telling the listener (calls made go on).
    pub fn unsubscribe(&self) {
        self.inner.subscription.borrow_mut().take();
        self.inner.listener.borrow_mut().take();
    }

    /// Makes a call (TanStack's `mutate`): it becomes the one shown. The
    /// future is its answer; it runs whether or not it is awaited.
    pub fn mutate(
        &self,
        variables: Value,
        options: MutateOptions,
    ) -> impl Future<Output = Result<Rc<Value>, QueryError>> + 'static + use<> {
        let inner = &self.inner;
        let (id, done) = inner
            .client
            .start_mutation(&inner.mutation_key, variables, options);
        inner.current.set(Some(id));
        inner.update();
        done
    }

    /// Back to idle (TanStack's `reset`): the latest call runs on, but is
    /// no longer shown.
    pub fn reset(&self) {
        self.inner.current.set(None);
        self.inner.update();
    }

    /// A call that could not be made (its variables do not encode): it
    /// shows as failed, and nothing is sent.
    #[cfg(feature = "yew")]
    pub(crate) fn fail(&self, error: QueryError) {
        self.inner.current.set(None);
        self.inner.publish(MutationObserverResult {
            status: Some(MutationStatus::Error),
            error: Some(error),
            ..MutationObserverResult::default()
        });
    }

    /// What it shows now.
    pub fn result(&self) -> MutationObserverResult {
        self.inner.result.borrow().clone()
    }
}

impl Inner {
    /// Rebuilds the result from the current call's record (kept as it was
    /// once the cache let the record go); tells the listener if it changed.
    fn update(&self) {
        let result = match self.current.get() {
            None => MutationObserverResult::default(),
            Some(id) => match self.client.mutation_record(id) {
                Some(record) => MutationObserverResult {
                    status: Some(record.status),
                    data: record.data.map(Rc::new),
                    failure_reason: record.error.clone().filter(|_| record.failure_count > 0),
                    error: record
                        .error
                        .filter(|_| record.status == MutationStatus::Error),
                    variables: Some(Rc::new(record.variables)),
                    failure_count: record.failure_count,
                    submitted_at: record.submitted_at,
                },
                None => return,
            },
        };
        if *self.result.borrow() != result {
            self.publish(result);
        }
    }

    /// Keeps `result` and tells the listener.
    fn publish(&self, result: MutationObserverResult) {
        *self.result.borrow_mut() = result.clone();
        let listener = self.listener.borrow().clone();
        if let Some(listener) = listener {
            listener(&result);
        }
    }
}

impl Drop for MutationObserver {
    fn drop(&mut self) {
        self.unsubscribe();
    }
}
