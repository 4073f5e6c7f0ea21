//! The single-page app as a library; `main.rs` only mounts [`App`].
//!
//! This is the thin first cut: it adopts the query state the server embedded
//! into `index.html` and renders the posts list from it, so a server-rendered
//! `/posts` needs no second request. The real query engine (cache, hooks,
//! persistence) arrives later as its own crate and replaces [`embedded`].

#![warn(missing_docs)]

mod api;
pub mod embedded;
mod posts;

use shared::Route;
use yew::prelude::*;

/// The root component: picks the page for the current URL.
#[function_component]
pub fn App() -> Html {
    let route = use_memo((), |()| current_route());
    match *route {
        Route::Posts => html! { <posts::PostsPage selected={None} /> },
        Route::Post(id) => html! { <posts::PostsPage selected={Some(id)} /> },
        other => html! {
            <main>
                <h1>{ other.title() }</h1>
                <p>{ other.description() }</p>
                <nav><a href="/posts">{ "Posts" }</a></nav>
            </main>
        },
    }
}

/// The route of the page the browser is on.
fn current_route() -> Route {
    web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .map_or(Route::NotFound, |path| Route::parse(&path))
}
