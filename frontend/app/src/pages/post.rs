//! `/posts/{id}` (inside the posts layout) and `/posts/{id}/deep`.
//!
//! The post is the loader's `ensure` key: the view suspends until it is in
//! the cache (no fallback at all when it already is, e.g. after a hover
//! prefetch or from the server's embedded state). Comments are `prefetch`:
//! they never block, a skeleton shows while they load; they come a page at
//! a time, newest first, with the form above them.

use crate::mutations::{self, CommentOnPost, CreateComment, PostDeletion, PostEdit, UpdatePost};
use crate::pages::{AuthorName, AuthorSelect, ErrorView, input_value, when};
use crate::queries::typed;
use crate::router::{AppLink, AppRoute, use_route_prefetch};
use querent::QueryStatus;
use querent::yew::{
    use_mutation, use_mutation_records, use_query, use_query_select, use_suspense_query,
};
use shared::{NewComment, Post, PostId, PostPatch, Route, UserId};
use yew::prelude::*;
use yew::suspense::Suspense;
use yew_router::prelude::*;

/// Props of the post views.
#[derive(Properties, PartialEq)]
pub(crate) struct PostProps {
    /// Which post.
    pub(crate) id: PostId,
}

/// The post's date, formatted by a `select` over the cached post: it renders
/// again only when `created_at` changes, not when the title or body do.
#[function_component]
fn PostDate(props: &PostProps) -> Html {
    let date = use_query_select(typed::post(props.id), (), |post: &Post, ()| {
        when(&post.created_at)
    });
    html! { <time id="post-date">{ date.data.as_deref().cloned().unwrap_or_default() }</time> }
}

fn skeleton() -> Html {
    html! { <article class="post skeleton" aria-busy="true"><h2>{ "Loading…" }</h2><p>{ " " }</p></article> }
}

/// The post inside the posts layout.
#[function_component]
pub(crate) fn PostDetail(props: &PostProps) -> Html {
    use_route_prefetch(Route::Post(props.id));
    html! {
        <Suspense fallback={skeleton()}>
            <PostView id={props.id} deep={false} />
        </Suspense>
    }
}

/// `/posts/{id}/deep`: the same post outside the posts layout.
#[function_component]
pub(crate) fn PostDeep(props: &PostProps) -> Html {
    use_route_prefetch(Route::PostDeep(props.id));
    html! {
        <section id="post-deep" class="deep">
            <AppLink to={Route::Posts} id="all-posts-link">{ "← All posts" }</AppLink>
            <Suspense fallback={skeleton()}>
                <PostView id={props.id} deep={true} />
            </Suspense>
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct PostViewProps {
    id: PostId,
    deep: bool,
}

#[function_component]
fn PostView(props: &PostViewProps) -> HtmlResult {
    let id = props.id;
    let post = use_suspense_query(typed::post(id))?;
    let editing = use_state(|| false);
    let navigator = use_navigator();
    let delete = use_mutation(mutations::delete_options);
    let records = use_mutation_records();
    // The form closes on save; a refused edit (rolled back) is said here.
    let save_failure = mutations::last_failure_of(&records, |r| {
        r.variables_of::<UpdatePost>().is_some_and(|v| v.id == id)
    });
    if post.status == QueryStatus::Error && post.data.is_none() {
        let error = post
            .error
            .clone()
            .unwrap_or_else(|| querent::QueryError::network("unknown"));
        if error.status() == Some(404) {
            return Ok(html! {
                <section id="post-not-found" class="not-found">
                    <h2>{ "Post not found" }</h2>
                    <p>{ format!("There is no post {id}.") }</p>
                </section>
            });
        }
        return Ok(html! { <ErrorView {error} retry={post.refetch.clone()} /> });
    }
    let Some(data) = post.data.clone() else {
        return Ok(skeleton());
    };
    let ondelete = {
        let (mutate, data) = (delete.mutate.clone(), data.clone());
        Callback::from(move |_| {
            mutate.emit(PostDeletion {
                id: data.id,
                user_id: data.user_id,
            });
            if let Some(n) = &navigator {
                n.push(&AppRoute(Route::Posts));
            }
        })
    };
    let toggle_edit = {
        let editing = editing.clone();
        Callback::from(move |()| editing.set(!*editing))
    };
    Ok(html! {
        <article id="post-detail" class="post card" data-post-id={id.0.to_string()}>
            <h2 id="post-title">{ data.title.clone() }</h2>
            <p class="meta">
                { "By " }<AuthorName id={data.user_id} />
                { " · " }<PostDate {id} />
                if post.is_fetching() { <span class="tag">{ " updating…" }</span> }
            </p>
            <p id="post-body" class="body">{ data.body.clone() }</p>
            <div class="actions">
                if !props.deep {
                    <AppLink to={Route::PostDeep(id)} id="deep-view-link">{ "Deep view" }</AppLink>
                }
                <button type="button" id="edit-post" onclick={toggle_edit.reform(|_: MouseEvent| ())}>{ if *editing { "Cancel" } else { "Edit" } }</button>
                <button type="button" id="delete-post" class="danger" onclick={ondelete}>{ "Delete" }</button>
            </div>
            if let Some(e) = save_failure {
                <p id="post-save-error" class="error" role="alert">{ format!("Could not save: {}", e.message) }</p>
            }
            if *editing {
                <EditPost post={(*data).clone()} done={toggle_edit.clone()} />
            }
            <Comments {id} />
        </article>
    })
}

#[derive(Properties, PartialEq)]
struct EditPostProps {
    post: Post,
    done: Callback<()>,
}

#[function_component]
fn EditPost(props: &EditPostProps) -> Html {
    let title = use_state(|| props.post.title.clone());
    let body = use_state(|| props.post.body.clone());
    let author = use_state(|| props.post.user_id.0);
    let update = use_mutation(mutations::update_post_options);
    let onsubmit = {
        let (title, body, author, id, previous, done, mutate) = (
            title.clone(),
            body.clone(),
            author.clone(),
            props.post.id,
            props.post.user_id,
            props.done.clone(),
            update.mutate.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let moved = (*author != previous.0).then_some(UserId(*author));
            mutate.emit(PostEdit {
                id,
                patch: PostPatch {
                    title: Some((*title).clone()),
                    body: Some((*body).clone()),
                    user_id: moved,
                },
                previous_user_id: moved.map(|_| previous),
            });
            done.emit(());
        })
    };
    html! {
        <form id="edit-post-form" class="form" {onsubmit}>
            <label for="edit-title">{ "Title" }</label>
            <input id="edit-title" value={(*title).clone()} maxlength="200"
                   oninput={let t = title.clone(); Callback::from(move |e: InputEvent| t.set(input_value(&e)))} />
            <label for="edit-body">{ "Body" }</label>
            <textarea id="edit-body" value={(*body).clone()} rows="4"
                      oninput={let b = body.clone(); Callback::from(move |e: InputEvent| b.set(input_value(&e)))} />
            <label for="edit-author">{ "Author" }</label>
            <AuthorSelect id="edit-author" value={*author}
                          onchange={let a = author.clone(); Callback::from(move |v| a.set(v))} />
            <button type="submit" id="save-post">{ "Save" }</button>
            if let Some(e) = &update.error {
                <p class="error" role="alert">{ e.message.clone() }</p>
            }
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct CommentsProps {
    id: PostId,
}

/// A post's comments, newest first, a page at a time; unconfirmed ones
/// (from the persisted mutation queue) first, marked pending.
#[function_component]
fn Comments(props: &CommentsProps) -> Html {
    let comments = use_query(typed::comments(props.id));
    let records = use_mutation_records();
    let pending: Vec<(String, CommentOnPost)> = mutations::unconfirmed::<CreateComment>(&records)
        .into_iter()
        .filter(|(_, c)| c.post_id == props.id)
        .collect();
    let list = match (&comments.data, &comments.error) {
        (Some(data), _) => {
            let shown = || data.pages.iter().flat_map(|p| p.items.iter());
            // The live event can come before the answer: not twice meanwhile.
            let arrived = |new: &NewComment| {
                shown().any(|c| c.name == new.name.trim() && c.body == new.body.trim())
            };
            html! {
                <ul id="comments" class="comments">
                    { for pending.iter().filter(|(_, c)| !arrived(&c.comment)).map(|(k, c)| html! {
                        <li class="comment" data-pending="true" key={k.clone()}>
                            <p class="meta"><strong>{ c.comment.name.clone() }</strong>{ " · saving…" }</p>
                            <p>{ c.comment.body.clone() }</p>
                        </li>
                    }) }
                    { for shown().map(|c| html! {
                        <li class="comment" key={c.id.0}>
                            <p class="meta"><strong>{ c.name.clone() }</strong>{ format!(" · {}", when(&c.created_at)) }</p>
                            <p>{ c.body.clone() }</p>
                        </li>
                    }) }
                </ul>
            }
        }
        (None, Some(e)) => {
            html! { <p class="error">{ format!("Comments failed to load: {}", e.message) }</p> }
        }
        (None, None) => html! {
            <ul class="comments comments-skeleton" aria-busy="true">
                <li class="skeleton-line"></li><li class="skeleton-line"></li><li class="skeleton-line"></li>
            </ul>
        },
    };
    let older = comments.fetch_next_page.reform(|_: MouseEvent| ());
    html! {
        <section class="comments-section" aria-label="Comments">
            <h3>{ "Comments" }</h3>
            <CommentForm id={props.id} />
            { list }
            if comments.has_next_page {
                <button type="button" id="older-comments" onclick={older} disabled={comments.is_fetching()}>
                    { if comments.is_fetching() { "Loading…" } else { "Older comments" } }
                </button>
            }
        </section>
    }
}

#[function_component]
fn CommentForm(props: &CommentsProps) -> Html {
    let name = use_state(String::new);
    let email = use_state(String::new);
    let body = use_state(String::new);
    let create = use_mutation::<CreateComment, (), _>(|_| Default::default());
    let onsubmit = {
        let (name, email, body, post_id, mutate) = (
            name.clone(),
            email.clone(),
            body.clone(),
            props.id,
            create.mutate.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            mutate.emit(CommentOnPost {
                post_id,
                comment: NewComment {
                    name: (*name).clone(),
                    email: (*email).clone(),
                    body: (*body).clone(),
                },
            });
            body.set(String::new());
        })
    };
    html! {
        <form id="new-comment-form" class="form" {onsubmit}>
            <input id="comment-name" placeholder="Name" aria-label="Name" value={(*name).clone()}
                   oninput={let s = name.clone(); Callback::from(move |e: InputEvent| s.set(input_value(&e)))} />
            <input id="comment-email" placeholder="Email" aria-label="Email" type="email" value={(*email).clone()}
                   oninput={let s = email.clone(); Callback::from(move |e: InputEvent| s.set(input_value(&e)))} />
            <textarea id="comment-body" placeholder="Comment" aria-label="Comment" rows="2" value={(*body).clone()}
                      oninput={let s = body.clone(); Callback::from(move |e: InputEvent| s.set(input_value(&e)))} />
            <button type="submit" id="comment-submit">{ "Comment" }</button>
            if let Some(e) = &create.error {
                <p class="error" role="alert">{ e.message.clone() }</p>
            }
        </form>
    }
}
