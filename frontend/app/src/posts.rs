//! The posts page: the list, adopted from the embedded state when present.

use crate::api;
use crate::embedded::{self, Embedded};
use shared::{Post, PostId};
use yew::prelude::*;

/// Props of [`PostsPage`].
#[derive(Debug, Clone, PartialEq, Properties)]
pub(crate) struct PostsPageProps {
    /// The post open on `/posts/{id}`, highlighted in the list.
    pub(crate) selected: Option<PostId>,
}

/// `/posts` and `/posts/{id}`: the posts list.
#[function_component]
pub(crate) fn PostsPage(props: &PostsPageProps) -> Html {
    // Read once per mount: the embedded state describes the page as served.
    let posts = use_state(|| embedded::posts(embedded::read().as_ref()));

    {
        let posts = posts.clone();
        use_effect_with((), move |()| {
            // Only without embedded data: a prerendered page must not ask again.
            if *posts == Embedded::Missing {
                yew::platform::spawn_local(async move {
                    posts.set(match api::first_posts_page().await {
                        Ok(page) => Embedded::Data(page.items),
                        Err(e) => Embedded::Failed(e),
                    });
                });
            }
        });
    }

    let list = match &*posts {
        Embedded::Data(items) => post_list(items, props.selected),
        Embedded::Failed(message) => html! {
            <p class="error" role="alert">{ format!("Could not load the posts: {message}") }</p>
        },
        Embedded::Missing => html! { <p class="loading">{ "Loading…" }</p> },
    };
    html! {
        <main class="posts">
            <h1>{ "Posts" }</h1>
            { list }
            if props.selected.is_none() {
                <p>{ "Select a post." }</p>
            }
        </main>
    }
}

fn post_list(items: &[Post], selected: Option<PostId>) -> Html {
    html! {
        <ul id="post-list">
            { for items.iter().map(|post| {
                let current = (Some(post.id) == selected).then_some("page");
                html! {
                    <li class="post-item" key={post.id.0}>
                        <a href={format!("/posts/{}", post.id)} aria-current={current}>
                            { &post.title }
                        </a>
                    </li>
                }
            }) }
        </ul>
    }
}
