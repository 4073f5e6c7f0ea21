//! Nested layouts, the redirect, and the not-found page.

use crate::router::{AppLink, AppRoute};
use shared::Route;
use yew::prelude::*;
use yew_router::prelude::*;

/// Props of [`Nested`].
#[derive(Properties, PartialEq)]
pub(crate) struct NestedProps {
    /// Which child is open.
    pub(crate) route: Route,
}

/// `/route-a`, `/route-b`: a layout inside the layout.
#[function_component]
pub(crate) fn Nested(props: &NestedProps) -> Html {
    html! {
        <section class="nested-layout" id="nested-layout">
            <h1>{ "I'm a layout" }</h1>
            <nav class="sub-nav" aria-label="Layouts">
                <AppLink to={Route::RouteA}>{ "Go to route A" }</AppLink>
                <AppLink to={Route::RouteB}>{ "Go to route B" }</AppLink>
            </nav>
            <div class="nested-child" id="nested-child">
                {
                    match props.route {
                        Route::RouteA => html! { <p>{ "I'm A!" }</p> },
                        _ => html! { <p>{ "I'm B!" }</p> },
                    }
                }
            </div>
        </section>
    }
}

/// `/redirect` reached inside the app: replace it with `/posts` (a direct
/// load gets a 307 from the server instead).
#[function_component]
pub(crate) fn Redirect() -> Html {
    let navigator = use_navigator();
    use_effect_with((), move |()| {
        if let Some(n) = navigator {
            n.replace(&AppRoute(Route::Posts));
        }
    });
    html! { <p>{ "Redirecting…" }</p> }
}

/// Anything the route table does not know.
#[function_component]
pub(crate) fn NotFound() -> Html {
    let back = Callback::from(|_: MouseEvent| {
        if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
            let _ = history.back();
        }
    });
    html! {
        <section id="not-found" class="not-found">
            <h1>{ "Not found" }</h1>
            <p>{ "This page does not exist." }</p>
            <button type="button" id="go-back" onclick={back}>{ "Go back" }</button>
            <AppLink to={Route::Home} id="start-over" classes={classes!("button")}>{ "Start over" }</AppLink>
        </section>
    }
}
