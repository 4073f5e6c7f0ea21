//! The mutation hook.

use super::use_query_client;
use crate::error::QueryError;
use crate::mutation::MutationStatus;
use crate::typed::{Mutation, MutationOptions};
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

/// What [`use_mutation`] returns.
pub struct UseMutationHandle<V, R> {
    /// `None` until the first call; then the latest call's status.
    pub status: Option<MutationStatus>,
    /// The latest call's result.
    pub data: Option<Rc<R>>,
    /// The latest call's error.
    pub error: Option<QueryError>,
    /// Runs the mutation with these variables.
    pub mutate: Callback<V>,
}

impl<V, R> UseMutationHandle<V, R> {
    /// The latest call is running or paused.
    pub fn is_pending(&self) -> bool {
        matches!(
            self.status,
            Some(MutationStatus::Pending | MutationStatus::Paused)
        )
    }
}

struct MutationView<R> {
    status: Option<MutationStatus>,
    data: Option<Rc<R>>,
    error: Option<QueryError>,
}

/// Runs mutations of `M` (registered with
/// [`QueryClient::register_mutation`]). `options(&variables)` builds each
/// call's scope and callbacks (`on_mutate` for the optimistic update,
/// `on_error` to roll back with its context, ...).
#[hook]
pub fn use_mutation<M, C, F>(options: F) -> UseMutationHandle<M::Variables, M::Output>
where
    M: Mutation,
    C: Default + 'static,
    F: Fn(&M::Variables) -> MutationOptions<M, C> + 'static,
{
    let client = use_query_client();
    let view = use_state(|| MutationView::<M::Output> {
        status: None,
        data: None,
        error: None,
    });
    type OptionsFn<M, C> = Rc<dyn Fn(&<M as Mutation>::Variables) -> MutationOptions<M, C>>;
    let latest: Rc<RefCell<Option<OptionsFn<M, C>>>> = use_mut_ref(|| None);
    *latest.borrow_mut() = Some(Rc::new(options));
    // Which call is the latest: only its outcome is shown (TanStack's
    // observer follows the current mutation; an older call settling later
    // does not overwrite it).
    let calls: Rc<RefCell<u64>> = use_mut_ref(|| 0);
    let mutate = {
        let (client, view) = (client.clone(), view.clone());
        use_callback((), move |variables: M::Variables, ()| {
            let call = {
                let mut calls = calls.borrow_mut();
                *calls += 1;
                *calls
            };
            let options = latest
                .borrow()
                .as_ref()
                .map(|f| f(&variables))
                .unwrap_or_default();
            view.set(MutationView {
                status: Some(if client.is_online() {
                    MutationStatus::Pending
                } else {
                    MutationStatus::Paused
                }),
                data: None,
                error: None,
            });
            let done = client.mutate_with(variables, options);
            let (view, calls) = (view.clone(), Rc::clone(&calls));
            client.platform().spawn(Box::pin(async move {
                let outcome = done.await;
                if *calls.borrow() != call {
                    return;
                }
                view.set(match outcome {
                    Ok(data) => MutationView {
                        status: Some(MutationStatus::Success),
                        data: Some(Rc::new(data)),
                        error: None,
                    },
                    Err(error) => MutationView {
                        status: Some(MutationStatus::Error),
                        data: None,
                        error: Some(error),
                    },
                });
            }));
        })
    };
    UseMutationHandle {
        status: view.status,
        data: view.data.clone(),
        error: view.error.clone(),
        mutate,
    }
}
