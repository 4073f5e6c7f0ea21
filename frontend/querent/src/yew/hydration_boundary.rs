//! TanStack's `HydrationBoundary`: a dehydrated state given as a prop
//! enters the cache where the boundary renders.

use super::use_query_client;
use crate::hydration::{DehydratedQuery, DehydratedState, hydrate};
use std::rc::Rc;
use yew::prelude::*;

/// Props of [`HydrationBoundary`].
#[derive(Properties, PartialEq)]
pub struct HydrationBoundaryProps {
    /// The state to hydrate (none: nothing to do).
    #[prop_or_default]
    pub state: Option<Rc<DehydratedState>>,
    /// What renders with it.
    #[prop_or_default]
    pub children: Html,
}

/// Hydrates `state` into the client for the components below (TanStack's
/// `HydrationBoundary`): queries the cache does not hold yet enter it
/// during the render, so the children's first render has their data;
/// queries it holds already are hydrated after the render (the newer data
/// wins), so what is on screen changes in its own render, not as a side
/// effect of this one. A new `state` hydrates again.
#[function_component]
pub fn HydrationBoundary(props: &HydrationBoundaryProps) -> Html {
    let client = use_query_client();
    let later = {
        let client = client.clone();
        use_memo(props.state.clone(), move |state| {
            let state = state.as_ref()?;
            let (existing, new): (Vec<DehydratedQuery>, Vec<DehydratedQuery>) = state
                .queries
                .iter()
                .cloned()
                .partition(|q| client.get_query_state(&q.key).is_some());
            if !new.is_empty() {
                hydrate(&client, with_queries(state, new));
            }
            (!existing.is_empty()).then(|| with_queries(state, existing))
        })
    };
    use_effect_with(later, move |later| {
        if let Some(state) = later.as_ref() {
            hydrate(&client, state.clone());
        }
    });
    props.children.clone()
}

/// `state` with only `queries` (its clock kept, for the skew correction).
fn with_queries(state: &DehydratedState, queries: Vec<DehydratedQuery>) -> DehydratedState {
    DehydratedState {
        version: state.version,
        queries,
        written_at: state.written_at,
        ..DehydratedState::default()
    }
}
