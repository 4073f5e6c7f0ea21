//! `/`: what this is, and where to go.

use crate::router::AppLink;
use shared::routes::CountSearch;
use shared::{PostId, Route, UserId};
use yew::prelude::*;

/// The home page.
#[function_component]
pub(crate) fn Home() -> Html {
    html! {
        <section class="home">
            <h1>{ "Posts & Users" }</h1>
            <p>{ "A Yew single-page app and an Actix backend sharing one query-cache architecture: \
                  pages arrive with their data embedded, the cache keeps it fresh, changes show at once \
                  and survive going offline, and other people's edits arrive live." }</p>
            <ul class="tour">
                <li><AppLink to={Route::Posts}>{ "Posts" }</AppLink>{ ": infinite list, optimistic add" }</li>
                <li><AppLink to={Route::Post(PostId(1))}>{ "A post" }</AppLink>{ ": comments load without blocking; edit, delete" }</li>
                <li><AppLink to={Route::PostDeep(PostId(1))}>{ "Deep view" }</AppLink>{ ": outside the posts layout" }</li>
                <li><AppLink to={Route::Users}>{ "Users" }</AppLink>{ ": live updates from server events" }</li>
                <li><AppLink to={Route::User(UserId(1))}>{ "A user" }</AppLink>{ ": profile, posts, edit" }</li>
                <li><AppLink to={Route::Deferred}>{ "Deferred" }</AppLink>{ ": slow data while the page stays interactive" }</li>
                <li><AppLink to={Route::RouteA}>{ "Nested layouts" }</AppLink></li>
                <li><AppLink to={Route::SuspenseTransition(CountSearch::default())} id="suspense-transition-link">{ "Suspense transition" }</AppLink>
                    { " and " }<AppLink to={Route::TransitionCount(CountSearch::default())} id="transition-link">{ "search-param transition" }</AppLink>
                    { ": the old values stay while the next load" }</li>
                <li><a href="/redirect">{ "A redirect" }</a>{ " and " }<a href="/nowhere">{ "a missing page" }</a></li>
            </ul>
        </section>
    }
}
