//! The frame around every page: navigation with the current link marked, a
//! progress bar while anything fetches, the online/offline badge with the
//! count of unconfirmed changes, and the devtools toggle.

use crate::router::AppLink;
use querent::yew::{use_is_fetching, use_is_online, use_pending_mutations};
use shared::Route;
use yew::prelude::*;

/// Props of [`Layout`].
#[derive(Properties, PartialEq)]
pub(crate) struct LayoutProps {
    /// The page.
    #[prop_or_default]
    pub(crate) children: Html,
}

/// The frame.
#[function_component]
pub(crate) fn Layout(props: &LayoutProps) -> Html {
    let fetching = use_is_fetching();
    let online = use_is_online();
    let pending = use_pending_mutations();
    html! {
        <>
            <div class="progress-bar" data-active={(fetching > 0).to_string()} aria-hidden="true"></div>
            <header class="site-header">
                <nav class="main-nav" aria-label="Main">
                    <AppLink to={Route::Home}>{ "Home" }</AppLink>
                    <AppLink to={Route::Posts}>{ "Posts" }</AppLink>
                    <AppLink to={Route::Users}>{ "Users" }</AppLink>
                    <AppLink to={Route::Deferred}>{ "Deferred" }</AppLink>
                    <AppLink to={Route::RouteA}>{ "Layouts" }</AppLink>
                </nav>
                <span id="network-badge" role="status" data-online={online.to_string()}
                      class={classes!("badge", if online { "online" } else { "offline" })}>
                    { if online { "Online" } else { "Offline" } }
                    if pending > 0 {
                        { " · " }<span id="pending-count">{ pending }</span>{ " pending" }
                    }
                </span>
                <crate::session::SessionMenu />
            </header>
            <main id="main">{ props.children.clone() }</main>
            <DevtoolsSlot />
        </>
    }
}

/// Where the devtools panel goes. It is there only in builds with the
/// `devtools` feature (`trunk serve`, the test build), like TanStack's
/// devtools in development builds, and only after the first render: the
/// first render (the server's, and the hydration of it) is this empty slot
/// whatever the build's features, so hydration always finds the same
/// structure.
#[function_component]
fn DevtoolsSlot() -> Html {
    let mounted = use_state(|| false);
    {
        let mounted = mounted.clone();
        use_effect_with((), move |()| mounted.set(true));
    }
    if *mounted {
        devtools::panel()
    } else {
        Html::default()
    }
}

#[cfg(feature = "devtools")]
mod devtools {
    use querent::devtools::QueryDevtools;
    use yew::prelude::*;

    pub(super) fn panel() -> Html {
        html! { <QueryDevtools /> }
    }
}

#[cfg(not(feature = "devtools"))]
mod devtools {
    use yew::prelude::*;

    pub(super) fn panel() -> Html {
        Html::default()
    }
}
