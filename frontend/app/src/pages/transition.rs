//! TanStack's e2e routes for transitions, with the count as a typed search
//! param (`?n=`, see `shared::routes::CountSearch`): "Increase" navigates to
//! `n + 1`, the route's loader awaits that count's double, and the old
//! values stay on screen until the new ones are there (no fallback, no
//! "Loading...").
//!
//! `/suspense-transition` puts the values in a manual Suspense boundary;
//! `/transition/count/query` wraps the whole page in one (TanStack's
//! `useQuery` with `placeholderData` there: here the awaited loader is what
//! keeps the old values, so both pages read their query the same way).

use crate::queries::typed;
use crate::router::AppLink;
use querent::yew::use_suspense_query;
use shared::Route;
use shared::routes::CountSearch;
use yew::prelude::*;
use yew::suspense::Suspense;

/// Props of [`CountPage`].
#[derive(Properties, PartialEq)]
pub(crate) struct CountProps {
    /// Which of the two pages (with its search params).
    pub(crate) route: Route,
}

/// Either transition page.
#[function_component]
pub(crate) fn CountPage(props: &CountProps) -> Html {
    let (search, manual) = match props.route {
        Route::SuspenseTransition(search) => (search, true),
        Route::TransitionCount(search) => (search, false),
        _ => (CountSearch::default(), false),
    };
    let next = match props.route {
        Route::SuspenseTransition(_) => Route::SuspenseTransition(search.increased()),
        _ => Route::TransitionCount(search.increased()),
    };
    let increase = html! { <p><AppLink to={next} id="increase-button" classes="button">{ "Increase" }</AppLink></p> };
    let values = html! { <Doubled n={search.n()} {manual} /> };
    if manual {
        html! {
            <section class="transition-demo">
                <h1 id="suspense-transition-title">{ "Suspense Transition Test" }</h1>
                { increase }
                <div class="card">
                    <Suspense fallback={html! { <div id="suspense-fallback">{ "Loading..." }</div> }}>
                        { values }
                    </Suspense>
                </div>
            </section>
        }
    } else {
        html! {
            <section class="transition-demo">
                <Suspense fallback={Html::from("Loading...")}>{ increase }{ values }</Suspense>
            </section>
        }
    }
}

#[derive(Properties, PartialEq)]
struct DoubledProps {
    n: i64,
    /// `/suspense-transition`'s markup (else `/transition/count/query`'s).
    manual: bool,
}

#[function_component]
fn Doubled(props: &DoubledProps) -> HtmlResult {
    let spec = if props.manual {
        typed::double(props.n)
    } else {
        typed::transition_double(props.n)
    };
    let query = use_suspense_query(spec)?;
    let (n, double) = (query.data.n.to_string(), query.data.double.to_string());
    Ok(if props.manual {
        html! {
            <div id="suspense-content">
                <div>{ "n: " }<span id="n-value">{ n }</span></div>
                <div>{ "double: " }<span id="double-value">{ double }</span></div>
            </div>
        }
    } else {
        html! {
            <>
                <div id="n-value">{ format!("n: {n}") }</div>
                <div id="double-value">{ format!("double: {double}") }</div>
            </>
        }
    })
}
