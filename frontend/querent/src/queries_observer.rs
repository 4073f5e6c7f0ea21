//! Observes a list of queries whose length can change between renders
//! (TanStack's `QueriesObserver`, behind `useQueries`): one
//! [`QueryObserver`] per query, kept across [`QueriesObserver::set_queries`]
//! for the keys that stay (matched in order, so a moved key keeps its
//! observer and a repeated key has one per place), and one combined result
//! in the queries' order.

use crate::client::QueryClient;
use crate::key::QueryKey;
use crate::observer::{QueryObserver, QueryObserverResult};
use crate::options::{Fetcher, QueryOptions};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

/// One query of the list: its key, fetcher and options (a
/// [`crate::typed::QuerySpec`]'s parts).
pub type QueryDescription = (QueryKey, Fetcher, QueryOptions);

type Listener = Rc<dyn Fn(&[QueryObserverResult])>;

/// Observes several queries as one.
pub struct QueriesObserver {
    inner: Rc<Inner>,
}

struct Inner {
    client: QueryClient,
    observers: RefCell<Vec<Rc<QueryObserver>>>,
    results: RefCell<Vec<QueryObserverResult>>,
    listener: RefCell<Option<Listener>>,
    mounted: Cell<bool>,
    /// Set while the list changes: the observers' notifications wait, and
    /// one combined notification follows.
    batching: Cell<bool>,
}

impl QueriesObserver {
    /// Observers for `queries`, not yet subscribed (nothing fetches).
    pub fn new(client: &QueryClient, queries: Vec<QueryDescription>) -> Self {
        let observers: Vec<Rc<QueryObserver>> = queries
            .into_iter()
            .map(|(key, fetcher, options)| {
                Rc::new(QueryObserver::unmounted(client, key, fetcher, options))
            })
            .collect();
        let results = observers.iter().map(|o| o.result()).collect();
        Self {
            inner: Rc::new(Inner {
                client: client.clone(),
                observers: RefCell::new(observers),
                results: RefCell::new(results),
                listener: RefCell::new(None),
                mounted: Cell::new(false),
                batching: Cell::new(false),
            }),
        }
    }

    /// Subscribes every observer (each fetches as a `use_query` would on
    /// mount); `on_change` gets the combined results after each change
    /// until [`QueriesObserver::unsubscribe`] or the drop.
    pub fn subscribe(&self, on_change: impl Fn(&[QueryObserverResult]) + 'static) {
        *self.inner.listener.borrow_mut() = Some(Rc::new(on_change));
        if self.inner.mounted.replace(true) {
            return;
        }
        let observers = self.inner.observers.borrow().clone();
        for observer in &observers {
            self.inner.mount(observer);
        }
    }

    /// Unsubscribes every observer.
    pub fn unsubscribe(&self) {
        self.inner.mounted.set(false);
        *self.inner.listener.borrow_mut() = None;
        let observers = self.inner.observers.borrow().clone();
        for observer in &observers {
            observer.unsubscribe();
        }
    }

    /// A new list (TanStack's `setQueries`): observers of keys that stay
    /// take the new options (in order of appearance), new keys get new
    /// observers (subscribed if this is), the others are dropped. One
    /// notification follows if the combined results changed.
    pub fn set_queries(&self, queries: Vec<QueryDescription>) {
        let inner = &self.inner;
        inner.batching.set(true);
        let mut old = inner.observers.replace(vec![]);
        let mut next = Vec::with_capacity(queries.len());
        for (key, fetcher, options) in queries {
            match take_matching(&mut old, &key) {
                Some(observer) => {
                    observer.set_options(key, fetcher, options);
                    next.push(observer);
                }
                None => {
                    let observer = Rc::new(QueryObserver::unmounted(
                        &inner.client,
                        key,
                        fetcher,
                        options,
                    ));
                    if inner.mounted.get() {
                        inner.mount(&observer);
                    }
                    next.push(observer);
                }
            }
        }
        *inner.observers.borrow_mut() = next;
        drop(old);
        inner.batching.set(false);
        inner.update();
    }

    /// The results for `queries` as a render shows them before they are
    /// set (TanStack's `getOptimisticResult`): each from the observer that
    /// [`QueriesObserver::set_queries`] would keep for it, or, for a new
    /// key, as a new observer's would be.
    pub fn optimistic_result(&self, queries: &[QueryDescription]) -> Vec<QueryObserverResult> {
        let mut unused = self.inner.observers.borrow().clone();
        queries
            .iter()
            .map(
                |(key, fetcher, options)| match take_matching(&mut unused, key) {
                    Some(observer) => observer.optimistic_result(key, fetcher, options),
                    None => QueryObserver::unmounted(
                        &self.inner.client,
                        key.clone(),
                        Rc::clone(fetcher),
                        options.clone(),
                    )
                    .optimistic_result(key, fetcher, options),
                },
            )
            .collect()
    }

    /// The combined results, in the queries' order.
    pub fn result(&self) -> Vec<QueryObserverResult> {
        self.inner.results.borrow().clone()
    }

    /// The observer in place `index`.
    pub fn observer(&self, index: usize) -> Option<Rc<QueryObserver>> {
        self.inner.observers.borrow().get(index).cloned()
    }

    /// The observers, in the queries' order.
    pub fn observers(&self) -> Vec<Rc<QueryObserver>> {
        self.inner.observers.borrow().clone()
    }
}

/// Takes the first of `observers` that observes `key` (TanStack's
/// `findMatchingObservers`: in order, so a repeated key has one per place).
fn take_matching(
    observers: &mut Vec<Rc<QueryObserver>>,
    key: &QueryKey,
) -> Option<Rc<QueryObserver>> {
    let at = observers.iter().position(|o| o.observes(key))?;
    Some(observers.remove(at))
}

impl Inner {
    fn mount(self: &Rc<Self>, observer: &QueryObserver) {
        let me: Weak<Self> = Rc::downgrade(self);
        observer.subscribe(move |_| {
            if let Some(me) = me.upgrade() {
                me.update();
            }
        });
    }

    /// Rebuilds the combined results; tells the listener if they changed.
    fn update(&self) {
        if self.batching.get() {
            return;
        }
        let results: Vec<QueryObserverResult> =
            self.observers.borrow().iter().map(|o| o.result()).collect();
        if *self.results.borrow() == results {
            return;
        }
        *self.results.borrow_mut() = results.clone();
        let listener = self.listener.borrow().clone();
        if let Some(listener) = listener {
            listener(&results);
        }
    }
}

impl Drop for QueriesObserver {
    fn drop(&mut self) {
        self.unsubscribe();
    }
}
