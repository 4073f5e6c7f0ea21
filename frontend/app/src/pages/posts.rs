//! `/posts` and `/posts/{id}`: the infinite list with the add-post form, and
//! the open post (or "Select a post.").

use crate::mutations::{self, CREATE_POST, DELETE_POST, DeletePost};
use crate::pages::{ErrorView, input_value, post::PostDetail};
use crate::queries;
use crate::router::AppLink;
use querent::MutateOptions;
use querent::yew::{use_infinite_query, use_mutation, use_mutation_records};
use shared::{InfiniteData, NewPost, Page, Post, PostId, QueryKey, Route, UserId};
use std::collections::HashSet;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use yew::prelude::*;

/// Props of [`PostsPage`].
#[derive(Properties, PartialEq)]
pub(crate) struct PostsPageProps {
    /// The open post, if any.
    pub(crate) selected: Option<PostId>,
}

/// The posts layout.
#[function_component]
pub(crate) fn PostsPage(props: &PostsPageProps) -> Html {
    html! {
        <div class="two-columns">
            <section class="column list-column" aria-label="Posts">
                <h1>{ "Posts" }</h1>
                <NewPostForm />
                <PostList />
            </section>
            <section class="column detail-column">
                {
                    match props.selected {
                        Some(id) => html! { <PostDetail key={id.0} {id} /> },
                        None => html! { <p id="select-a-post" class="hint">{ "Select a post." }</p> },
                    }
                }
            </section>
        </div>
    }
}

/// The infinite list. Unconfirmed creations show first (marked pending) and
/// unconfirmed deletions are hidden: both come from the persisted mutation
/// queue, so they look the same after a reload.
#[function_component]
fn PostList() -> Html {
    let (key, fetcher, options) = queries::spec(QueryKey::Posts);
    let next = options
        .next_page_param
        .clone()
        .unwrap_or_else(|| std::rc::Rc::new(|_| None));
    let list = use_infinite_query::<InfiniteData<Page<Post>>>(key, fetcher, options, next);
    let records = use_mutation_records();
    let creating = mutations::unconfirmed::<NewPost>(&records, CREATE_POST);
    let deleting: HashSet<PostId> = mutations::unconfirmed::<DeletePost>(&records, DELETE_POST)
        .into_iter()
        .map(|(_, d)| d.id)
        .collect();
    let sentinel = use_node_ref();
    {
        let (sentinel, load_more, more) = (
            sentinel.clone(),
            list.fetch_next_page.clone(),
            list.has_next_page,
        );
        use_effect_with(more, move |more| {
            let observer = more.then(|| observe(&sentinel, load_more)).flatten();
            move || {
                if let Some((observer, _closure)) = observer {
                    observer.disconnect();
                }
            }
        });
    }
    use_effect_with(list.data.is_some(), |shown| {
        if *shown {
            crate::mark("posts-visible");
        }
    });
    if let (None, Some(error)) = (&list.data, &list.error) {
        return html! { <ErrorView error={error.clone()} retry={list.refetch.clone()} /> };
    }
    let Some(data) = &list.data else {
        return html! { <ul id="post-list" class="post-list skeleton" aria-busy="true"><li>{ "Loading posts…" }</li></ul> };
    };
    // The live event for a new post can arrive before the answer to the
    // request that created it: don't show it twice meanwhile.
    let arrived = |new: &NewPost| {
        data.pages.iter().flat_map(|p| p.items.iter()).any(|p| {
            p.user_id == new.user_id && p.title == new.title.trim() && p.body == new.body.trim()
        })
    };
    let creating: Vec<_> = creating
        .into_iter()
        .filter(|(_, new)| !arrived(new))
        .collect();
    let pending = creating.into_iter().map(|(idempotency_key, post)| {
        html! {
            <li class="post-item" data-pending="true" key={idempotency_key}>
                <span class="title">{ post.title.trim().to_owned() }</span>
                <span class="tag">{ "saving…" }</span>
            </li>
        }
    });
    let items = data
        .pages
        .iter()
        .flat_map(|p| p.items.iter())
        .filter(|p| !deleting.contains(&p.id))
        .map(|p| {
            html! {
                <li class="post-item" key={p.id.0} data-post-id={p.id.0.to_string()}>
                    <AppLink to={Route::Post(p.id)}>{ p.title.clone() }</AppLink>
                </li>
            }
        });
    let load_more = list.fetch_next_page.reform(|_: MouseEvent| ());
    html! {
        <>
            <ul id="post-list" class="post-list">{ for pending }{ for items }</ul>
            if list.has_next_page {
                <div ref={sentinel} class="sentinel"></div>
                <button type="button" id="load-more" onclick={load_more} disabled={list.is_fetching()}>
                    { if list.is_fetching() { "Loading…" } else { "Load more" } }
                </button>
            }
        </>
    }
}

type Observed = Option<(
    web_sys::IntersectionObserver,
    Closure<dyn FnMut(js_sys::Array)>,
)>;

/// Calls `load_more` whenever the sentinel scrolls into view.
fn observe(sentinel: &NodeRef, load_more: Callback<()>) -> Observed {
    let element = sentinel.cast::<web_sys::Element>()?;
    let closure = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
        let visible = entries.iter().any(|e| {
            e.dyn_into::<web_sys::IntersectionObserverEntry>()
                .is_ok_and(|e| e.is_intersecting())
        });
        if visible {
            load_more.emit(());
        }
    });
    let observer = web_sys::IntersectionObserver::new(closure.as_ref().unchecked_ref()).ok()?;
    observer.observe(&element);
    Some((observer, closure))
}

/// Adds a post; it shows in the list at once and disappears again, with the
/// server's reason, if the server refuses.
#[function_component]
fn NewPostForm() -> Html {
    let title = use_state(String::new);
    let body = use_state(String::new);
    let author = use_state(|| 1i64);
    let local_error = use_state(|| None::<String>);
    let create = use_mutation::<NewPost, Post, _>(CREATE_POST, |_| MutateOptions::default());
    let records = use_mutation_records();
    let failure = mutations::last_failure(&records, CREATE_POST);
    let onsubmit = {
        let (title, body, author, local_error, mutate) = (
            title.clone(),
            body.clone(),
            author.clone(),
            local_error.clone(),
            create.mutate.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if title.trim().is_empty() || body.trim().is_empty() {
                local_error.set(Some("Give the post a title and a body.".into()));
                return;
            }
            local_error.set(None);
            mutate.emit(NewPost {
                user_id: UserId(*author),
                title: (*title).clone(),
                body: (*body).clone(),
            });
            title.set(String::new());
            body.set(String::new());
        })
    };
    let error = (*local_error)
        .clone()
        .or_else(|| failure.map(|f| format!("Could not add the post: {}", f.message)));
    html! {
        <form id="new-post-form" class="card form" {onsubmit}>
            <label for="new-post-title">{ "Title" }</label>
            <input id="new-post-title" value={(*title).clone()} maxlength="200"
                   oninput={let t = title.clone(); Callback::from(move |e: InputEvent| t.set(input_value(&e)))} />
            <label for="new-post-body">{ "Body" }</label>
            <textarea id="new-post-body" value={(*body).clone()} rows="3"
                      oninput={let b = body.clone(); Callback::from(move |e: InputEvent| b.set(input_value(&e)))} />
            <label for="new-post-user">{ "Author" }</label>
            <select id="new-post-user"
                    oninput={let a = author.clone(); Callback::from(move |e: InputEvent| a.set(input_value(&e).parse().unwrap_or(1)))}>
                { for (1..=10).map(|i| html! { <option value={i.to_string()} selected={*author == i}>{ format!("User {i}") }</option> }) }
            </select>
            <button type="submit" id="new-post-submit">{ "Add post" }</button>
            if let Some(error) = error {
                <p id="new-post-error" class="error" role="alert">{ error }</p>
            }
        </form>
    }
}
