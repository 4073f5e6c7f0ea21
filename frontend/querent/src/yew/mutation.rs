//! The mutation hook: thin glue over a [`MutationObserver`].

use super::use_query_client;
use crate::error::QueryError;
use crate::mutation_observer::{MutationObserver, MutationObserverResult};
use crate::typed::{Mutation, MutationOptions};
use futures::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

/// Makes a call; answers it undecoded.
type Start<V> = Rc<dyn Fn(V) -> LocalBoxFuture<'static, Result<Rc<Value>, QueryError>>>;

/// What [`use_mutation`] returns: TanStack's `useMutation` result. It
/// derefs to the observer's [`MutationObserverResult`] (`status`, `error`,
/// `failure_count`, `failure_reason`, `submitted_at`, `is_idle()`,
/// `is_pending()`, ...; its `data` and `variables` are the JSON); the
/// typed `data()` and `variables()` decode them.
pub struct UseMutationHandle<V, R> {
    /// The latest call, as the observer shows it.
    pub result: MutationObserverResult,
    /// Makes a call (TanStack's `mutate`); the same callback across renders.
    pub mutate: Callback<V>,
    /// Back to idle (TanStack's `reset`).
    pub reset: Callback<()>,
    start: Start<V>,
    answer: std::marker::PhantomData<R>,
}

impl<V, R: DeserializeOwned + 'static> UseMutationHandle<V, R> {
    /// Makes a call and answers it (TanStack's `mutateAsync`); the call
    /// runs whether or not the future is awaited.
    pub fn mutate_async(&self, variables: V) -> LocalBoxFuture<'static, Result<R, QueryError>> {
        let done = (self.start)(variables);
        Box::pin(async move { crate::typed::decoded(&*done.await?) })
    }

    /// The latest call's answer, decoded.
    pub fn data(&self) -> Option<R> {
        crate::typed::decoded(self.result.data.as_deref()?).ok()
    }
}

impl<V: DeserializeOwned, R> UseMutationHandle<V, R> {
    /// The latest call's variables, decoded.
    pub fn variables(&self) -> Option<V> {
        crate::typed::decoded(self.result.variables.as_deref()?).ok()
    }
}

impl<V, R> std::ops::Deref for UseMutationHandle<V, R> {
    type Target = MutationObserverResult;

    fn deref(&self) -> &MutationObserverResult {
        &self.result
    }
}

/// The hook's observer and what it shows (not generic: one copy for every
/// mutation type).
#[hook]
fn use_mutation_observer(key: &'static str) -> (Rc<MutationObserver>, MutationObserverResult) {
    let client = use_query_client();
    let force = use_force_update();
    let observer = use_memo((), move |()| Rc::new(MutationObserver::new(&client, key)));
    {
        let observer = Rc::clone(&observer);
        use_effect_with((), move |()| {
            observer.subscribe(move |_| force.force_update());
            move || observer.unsubscribe()
        });
    }
    let result = observer.result();
    ((*observer).clone(), result)
}

/// Runs mutations of `M` (registered with
/// [`QueryClient::register_mutation`](crate::QueryClient::register_mutation)).
/// `options(&variables)` builds each call's scope and callbacks
/// (`on_mutate` for the optimistic update, `on_error` to roll back with
/// its context, ...). Only the latest call shows: an older one that
/// settles later does not change the handle.
#[hook]
pub fn use_mutation<M, C, F>(options: F) -> UseMutationHandle<M::Variables, M::Output>
where
    M: Mutation,
    C: Default + 'static,
    F: Fn(&M::Variables) -> MutationOptions<M, C> + 'static,
{
    let (observer, result) = use_mutation_observer(M::KEY);
    type OptionsFn<M, C> = Rc<dyn Fn(&<M as Mutation>::Variables) -> MutationOptions<M, C>>;
    let latest: Rc<RefCell<Option<OptionsFn<M, C>>>> = use_mut_ref(|| None);
    *latest.borrow_mut() = Some(Rc::new(options));
    let weak = Rc::downgrade(&observer);
    let callbacks = use_memo((), move |()| {
        let observer = weak;
        let start: Start<M::Variables> = Rc::new(move |variables| {
            let Some(observer) = observer.upgrade() else {
                return Box::pin(futures::future::ready(Err(QueryError::local(
                    crate::ErrorKind::Cancelled,
                    "the component that made this call is gone".to_owned(),
                ))));
            };
            let options = latest
                .borrow()
                .as_ref()
                .map(|f| f(&variables))
                .unwrap_or_default();
            match crate::typed::mutation::json_call(variables, options) {
                Ok((json, options)) => Box::pin(observer.mutate(json, options)),
                Err(error) => {
                    observer.fail(error.clone());
                    Box::pin(futures::future::ready(Err(error)))
                }
            }
        });
        let mutate = {
            let start = Rc::clone(&start);
            Callback::from(move |variables| drop(start(variables)))
        };
        (start, mutate)
    });
    let reset = {
        let observer = Rc::downgrade(&observer);
        use_memo((), move |()| {
            Callback::from(move |()| {
                if let Some(observer) = observer.upgrade() {
                    observer.reset();
                }
            })
        })
    };
    UseMutationHandle {
        result,
        mutate: callbacks.1.clone(),
        reset: (*reset).clone(),
        start: Rc::clone(&callbacks.0),
        answer: std::marker::PhantomData,
    }
}
