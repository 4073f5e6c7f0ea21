//! TanStack's e2e routes for transitions, with the count as a typed search
//! param (`?n=`, see `shared::routes::CountSearch`): "Increase" navigates to
//! `n + 1`, the route's loader awaits that count's double, and the old
//! values stay on screen until the new ones are there (no fallback, no
//! "Loading...").

use crate::queries::typed;
use crate::router::AppLink;
use querent::yew::{use_query, use_suspense_query};
use shared::Route;
use shared::routes::CountSearch;
use yew::prelude::*;
use yew::suspense::Suspense;

/// Props of the transition pages.
#[derive(Properties, PartialEq)]
pub(crate) struct CountProps {
    /// The page's search params.
    pub(crate) search: CountSearch,
}

/// `/suspense-transition`: a manual Suspense boundary that transitions on
/// navigation instead of showing its fallback.
#[function_component]
pub(crate) fn SuspenseTransition(props: &CountProps) -> Html {
    let next = Route::SuspenseTransition(props.search.increased());
    html! {
        <section class="transition-demo">
            <h1 id="suspense-transition-title">{ "Suspense Transition Test" }</h1>
            <p><AppLink to={next} id="increase-button" classes="button">{ "Increase" }</AppLink></p>
            <div class="card">
                <Suspense fallback={html! { <div id="suspense-fallback">{ "Loading..." }</div> }}>
                    <Doubled n={props.search.n()} />
                </Suspense>
            </div>
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct DoubledProps {
    n: i64,
}

#[function_component]
fn Doubled(props: &DoubledProps) -> HtmlResult {
    let double = use_suspense_query(typed::double(props.n))?;
    let double = double.data.as_deref().map(ToString::to_string);
    Ok(html! {
        <div id="suspense-content">
            <div>{ "n: " }<span id="n-value">{ props.n }</span></div>
            <div>{ "double: " }<span id="double-value">{ double.unwrap_or_default() }</span></div>
        </div>
    })
}

/// `/transition/count/query`: the count's values from a query that keeps
/// the previous count's data as its placeholder.
#[function_component]
pub(crate) fn TransitionCount(props: &CountProps) -> Html {
    let query = use_query(typed::transition_double(props.search.n()));
    let next = Route::TransitionCount(props.search.increased());
    let (n, double) = query
        .data
        .as_deref()
        .map(|d| (d.n.to_string(), d.double.to_string()))
        .unwrap_or_default();
    html! {
        <section class="transition-demo">
            <Suspense fallback={Html::from("Loading...")}>
                <p><AppLink to={next} id="increase-button" classes="button">{ "Increase" }</AppLink></p>
                <div id="n-value">{ format!("n: {n}") }</div>
                <div id="double-value">{ format!("double: {double}") }</div>
            </Suspense>
        </section>
    }
}
