//! Errors to boundaries: TanStack's `throwOnError` with
//! `QueryErrorResetBoundary`, and the error boundary Yew lacks.
//!
//! A hook whose options say `throw_on_error` (and `use_suspense_query`, for
//! an error without data) sends a settled error to the nearest
//! [`QueryErrorBoundary`], which shows its fallback instead of its
//! children. The fallback's `reset_error_boundary` shows the children
//! again; with `on_reset` resetting the nearest [`QueryErrorResetBoundary`]
//! (as TanStack's `<ErrorBoundary onReset={reset}>`), the failed queries
//! below fetch again as they mount, instead of showing the same error.

use super::{QueryContext, use_query_context};
use crate::client::CacheEvent;
use crate::error::QueryError;
use crate::key::QueryKey;
use crate::query::FetchStatus;
use std::cell::Cell;
use std::rc::Rc;
use yew::prelude::*;

/// TanStack's `QueryErrorResetBoundaryValue`: whether the boundary was
/// reset since the queries below last mounted.
#[derive(Clone, Default)]
pub struct QueryErrorResetBoundaryValue(Rc<Cell<bool>>);

impl PartialEq for QueryErrorResetBoundaryValue {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl QueryErrorResetBoundaryValue {
    /// Failed queries that mount from now on fetch again.
    pub fn reset(&self) {
        self.0.set(true);
    }

    /// Whether [`QueryErrorResetBoundaryValue::reset`] was called since the
    /// last [`QueryErrorResetBoundaryValue::clear_reset`].
    pub fn is_reset(&self) -> bool {
        self.0.get()
    }

    /// Back to not reset (the hooks do it once mounted).
    pub fn clear_reset(&self) {
        self.0.set(false);
    }
}

/// What the boundaries above a hook give it (in the provider's context,
/// so a hook asks once): the nearest reset boundary's value (without one,
/// the provider's) and where the nearest error boundary takes errors.
#[derive(Clone, Default, PartialEq)]
pub(crate) struct Boundaries {
    pub(crate) reset: QueryErrorResetBoundaryValue,
    pub(crate) sink: Option<Callback<QueryError>>,
}

/// Props of [`QueryErrorResetBoundary`].
#[derive(Properties, PartialEq)]
pub struct QueryErrorResetBoundaryProps {
    /// What it holds.
    #[prop_or_default]
    pub children: Html,
}

/// TanStack's `QueryErrorResetBoundary`: one reset state for the queries
/// below ([`use_query_error_reset_boundary`]).
#[function_component]
pub fn QueryErrorResetBoundary(props: &QueryErrorResetBoundaryProps) -> Html {
    let mut context = use_query_context();
    let value = use_memo((), |()| QueryErrorResetBoundaryValue::default());
    context.boundaries.reset = (*value).clone();
    html! {
        <ContextProvider<QueryContext> {context}>
            { props.children.clone() }
        </ContextProvider<QueryContext>>
    }
}

/// The nearest [`QueryErrorResetBoundary`]'s value (TanStack's
/// `useQueryErrorResetBoundary`); without one, a value shared by the page.
#[hook]
pub fn use_query_error_reset_boundary() -> QueryErrorResetBoundaryValue {
    use_query_context().boundaries.reset
}

/// What a [`QueryErrorBoundary`]'s fallback is given.
#[derive(Clone, PartialEq)]
pub struct QueryErrorFallback {
    /// The error that reached the boundary.
    pub error: QueryError,
    /// Shows the children again (after `on_reset`).
    pub reset_error_boundary: Callback<()>,
}

/// Props of [`QueryErrorBoundary`].
#[derive(Properties, PartialEq)]
pub struct QueryErrorBoundaryProps {
    /// What shows instead of the children once an error reached it.
    pub fallback: Callback<QueryErrorFallback, Html>,
    /// Called by `reset_error_boundary` before the children show again
    /// (give it the reset of [`use_query_error_reset_boundary`]).
    #[prop_or_default]
    pub on_reset: Option<Callback<()>>,
    /// Queries whose failure is the boundary's from its first render: one
    /// already settled without data when the boundary renders shows the
    /// fallback at once, so its component never renders (TanStack
    /// Router's `errorComponent` for a loader's `ensureQueryData`). The
    /// render is then the same on the server and in the browser's
    /// hydration. A change of the keys (a new route) starts over.
    #[prop_or_default]
    pub keys: Vec<QueryKey>,
    /// What it holds.
    #[prop_or_default]
    pub children: Html,
}

/// The error boundary for query errors (React's error boundary, which Yew
/// does not have): the first error a hook below sends (`throw_on_error`,
/// or `use_suspense_query` without data) replaces the children with
/// `fallback`. Unlike a thrown error in React, the component that sent it
/// has rendered once with the error before the fallback replaces it.
#[function_component]
pub fn QueryErrorBoundary(props: &QueryErrorBoundaryProps) -> Html {
    let mut context = use_query_context();
    // The error caught, and the keys it was caught under (a new route's
    // children start over); whether the keys' failure was reset.
    let caught = use_state_eq(|| None::<(Vec<QueryKey>, QueryError)>);
    let reset_keys = use_state_eq(|| None::<Vec<QueryKey>>);
    let sink = {
        let (caught, keys) = (caught.setter(), props.keys.clone());
        use_memo(keys, move |keys| {
            let keys = keys.clone();
            Callback::from(move |error| caught.set(Some((keys.clone(), error))))
        })
    };
    let settled_failure = || {
        if reset_keys.as_ref() == Some(&props.keys) {
            return None;
        }
        props.keys.iter().find_map(|key| {
            let state = context.client.get_query_state(key)?;
            let settled = state.data.is_none() && state.fetch_status == FetchStatus::Idle;
            state.error.filter(|_| settled)
        })
    };
    let error = match &*caught {
        Some((keys, error)) if *keys == props.keys => Some(error.clone()),
        _ => settled_failure(),
    };
    {
        // While the fallback shows, one of the keys' queries having data
        // again (fetched or set elsewhere, the devtools' "Restore error")
        // shows the children again.
        let (client, caught, force) = (context.client.clone(), caught.setter(), use_force_update());
        use_effect_with(
            (props.keys.clone(), error.is_some()),
            move |(keys, failing)| {
                let keys = keys.clone();
                let subscription = failing.then(|| {
                    let watcher = client.clone();
                    client.subscribe_cache(move |event| {
                        let recovered = match event {
                            CacheEvent::Updated(key) if keys.contains(key) => watcher
                                .get_query_state(key)
                                .is_some_and(|s| s.data.is_some() && s.error.is_none()),
                            _ => false,
                        };
                        if recovered {
                            caught.set(None);
                            force.force_update();
                        }
                    })
                });
                move || drop(subscription)
            },
        );
    }
    match error {
        Some(error) => {
            let reset_error_boundary = {
                let (caught, on_reset) = (caught.setter(), props.on_reset.clone());
                let (reset_keys, keys) = (reset_keys.setter(), props.keys.clone());
                Callback::from(move |()| {
                    if let Some(on_reset) = &on_reset {
                        on_reset.emit(());
                    }
                    reset_keys.set(Some(keys.clone()));
                    caught.set(None);
                })
            };
            props.fallback.emit(QueryErrorFallback {
                error,
                reset_error_boundary,
            })
        }
        None => {
            context.boundaries.sink = Some((*sink).clone());
            html! {
                <ContextProvider<QueryContext> {context}>
                    { props.children.clone() }
                </ContextProvider<QueryContext>>
            }
        }
    }
}
