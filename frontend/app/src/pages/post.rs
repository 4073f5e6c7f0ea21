//! `/posts/{id}` (inside the posts layout) and `/posts/{id}/deep`.
//!
//! The post is the loader's `ensure` key: the view suspends until it is in
//! the cache (no fallback at all when it already is, e.g. after a hover
//! prefetch or from the server's embedded state). Comments are `prefetch`:
//! they never block, a skeleton shows while they load; they come a page at
//! a time, newest first, with the form above them.

use crate::forms::{
    FormFields, field_error, form_message, on_text, refusal, use_field, use_forms, use_sent_key,
};
use crate::mutations::{self, CommentOnPost, CreateComment, PostDeletion, PostEdit, UpdatePost};
use crate::navigation::{use_blocker, use_route_pending};
use crate::pages::{AuthorName, AuthorSelect, ErrorView, when};
use crate::queries::typed;
use crate::router::{AppLink, AppRoute, use_route_prefetch};
use querent::typed::MutationOptions;
use querent::yew::{
    QueryErrorBoundary, QueryErrorFallback, use_mutation, use_mutation_records, use_query,
    use_query_select, use_suspense_query,
};
use shared::{FormAction, NewComment, Post, PostId, PostPatch, ReturnTo, Route, UserId};
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

/// Props of [`PostBoundary`].
#[derive(Properties, PartialEq)]
struct PostBoundaryProps {
    id: PostId,
    deep: bool,
}

/// The post under its error boundary (TanStack's `posts.$postId` route
/// with its `errorComponent` and `notFoundComponent`): the view renders
/// only with the post; a missing post is "Post not found", another failure
/// the error view, whose "Try again" fetches again. The post's key is the
/// boundary's, so a failure the loader already saw (the server's 404 page,
/// a link to a missing post) shows from the first render, the same on the
/// server and in the browser.
#[function_component]
fn PostBoundary(props: &PostBoundaryProps) -> Html {
    let id = props.id;
    let reset = querent::yew::use_query_error_reset_boundary();
    let on_reset = Callback::from(move |()| reset.reset());
    let fallback = Callback::from(move |failure: QueryErrorFallback| {
        if failure.error.status() == Some(404) {
            return html! {
                <section id="post-not-found" class="not-found">
                    <h2>{ "Post not found" }</h2>
                    <p>{ format!("There is no post {id}.") }</p>
                </section>
            };
        }
        html! { <ErrorView error={failure.error} reset={failure.reset_error_boundary} /> }
    });
    let keys = vec![typed::post(id).into_parts().0];
    html! {
        <QueryErrorBoundary {fallback} {on_reset} {keys}>
            <Suspense fallback={skeleton()}>
                <PostView {id} deep={props.deep} />
            </Suspense>
        </QueryErrorBoundary>
    }
}

/// The post inside the posts layout.
#[function_component]
pub(crate) fn PostDetail(props: &PostProps) -> Html {
    use_route_prefetch(Route::Post(props.id));
    if use_route_pending() {
        return skeleton();
    }
    html! { <PostBoundary id={props.id} deep={false} /> }
}

/// `/posts/{id}/deep`: the same post outside the posts layout.
#[function_component]
pub(crate) fn PostDeep(props: &PostProps) -> Html {
    use_route_prefetch(Route::PostDeep(props.id));
    let view = if use_route_pending() {
        skeleton()
    } else {
        html! { <PostBoundary id={props.id} deep={true} /> }
    };
    html! {
        <section id="post-deep" class="deep">
            <AppLink to={Route::Posts} id="all-posts-link">{ "← All posts" }</AppLink>
            { view }
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
    let session = crate::session::use_session();
    let forms = use_forms();
    // Open when the page answers a refused edit (what was typed is in it).
    let editing = use_state(|| forms.refused_of("edit-post").is_some());
    let opened = use_state(|| 0u32);
    let navigator = use_navigator();
    let delete_key = use_sent_key("delete-post-form");
    let delete = use_mutation(move |v| MutationOptions {
        idempotency_key: delete_key.borrow_mut().take(),
        ..mutations::delete_options(v)
    });
    let records = use_mutation_records();
    // The form closes on save; a refused edit (rolled back) is said here.
    let save_failure = mutations::last_failure_of(&records, |r| {
        r.variables_of::<UpdatePost>().is_some_and(|v| v.id == id)
    });
    let data = post.data.clone();
    let ondelete = {
        let (mutate, data) = (delete.mutate.clone(), data.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            mutate.emit(PostDeletion {
                id: data.id,
                user_id: data.user_id,
            });
            if let Some(n) = &navigator {
                n.push(&AppRoute(Route::Posts));
            }
        })
    };
    // Each opening starts from the post as it is then.
    let toggle_edit = {
        let (editing, opened) = (editing.clone(), opened.clone());
        Callback::from(move |()| {
            if !*editing {
                opened.set(*opened + 1);
            }
            editing.set(!*editing);
        })
    };
    let on_summary = toggle_edit.reform(|e: MouseEvent| e.prevent_default());
    let here = if props.deep {
        Route::PostDeep(id)
    } else {
        Route::Post(id)
    };
    let return_to = AttrValue::from(here.path());
    // Edit, move and delete are the author's.
    let mine = session.may_change(data.user_id);
    Ok(html! {
        <article id="post-detail" class="post card" data-post-id={id.0.to_string()}>
            <h2 id="post-title">{ data.title.clone() }</h2>
            <p class="meta">
                { "By " }<AuthorName id={data.user_id} />
                { " · " }<PostDate {id} />
                if post.is_fetching() || post.is_paused() { <span class="tag">{ " updating…" }</span> }
            </p>
            <p id="post-body" class="body">{ data.body.clone() }</p>
            <div class="actions">
                if !props.deep {
                    <AppLink to={Route::PostDeep(id)} id="deep-view-link">{ "Deep view" }</AppLink>
                }
                if mine {
                    <form id="delete-post-form" class="button-form" method="post"
                          action={FormAction::DeletePost(id).path()} onsubmit={ondelete}>
                        <FormFields return_to={return_to.clone()} />
                        <button type="submit" id="delete-post" class="danger">{ "Delete" }</button>
                    </form>
                }
            </div>
            if let Some(e) = save_failure {
                <p id="post-save-error" class="error" role="alert">{ format!("Could not save: {}", e.message) }</p>
            }
            // A disclosure, so the form opens without the app too.
            if mine {
                <details id="edit-post-details" class="edit-post" open={*editing}>
                    <summary id="edit-post" class="button" onclick={on_summary}>{ if *editing { "Cancel" } else { "Edit" } }</summary>
                    <EditPost key={*opened} post={(*data).clone()} open={*editing} done={toggle_edit.clone()} {return_to} />
                </details>
            }
            <Comments {id} return_to={AttrValue::from(here.path())} />
        </article>
    })
}

#[derive(Properties, PartialEq)]
struct EditPostProps {
    post: Post,
    /// Shown (its edits count as unsaved only then: "Cancel" discards them).
    open: bool,
    done: Callback<()>,
    return_to: AttrValue,
}

#[function_component]
fn EditPost(props: &EditPostProps) -> Html {
    const FORM: &str = "edit-post";
    let post = &props.post;
    let title = use_field(FORM, "title", "edit-title", || post.title.clone());
    let body = use_field(FORM, "body", "edit-body", || post.body.clone());
    let author = use_field(FORM, "user_id", "edit-author", || {
        post.user_id.0.to_string()
    });
    let forms = use_forms();
    let unsaved = *title != post.title
        || *body != post.body
        || author.parse::<i64>().ok() != Some(post.user_id.0);
    use_blocker(props.open && unsaved);
    let refusal_shown = use_state(|| true);
    let refused = refusal(&forms, &FormAction::EditPost(post.id), *refusal_shown);
    let sent_key = use_sent_key("edit-post-form");
    let update = use_mutation(move |v| MutationOptions {
        idempotency_key: sent_key.borrow_mut().take(),
        ..mutations::update_post_options(v)
    });
    let onsubmit = {
        let (title, body, author, id, previous, done, mutate, refusal_shown) = (
            title.clone(),
            body.clone(),
            author.clone(),
            props.post.id,
            props.post.user_id,
            props.done.clone(),
            update.mutate.clone(),
            refusal_shown.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            refusal_shown.set(false);
            let chosen = UserId(author.parse().unwrap_or(previous.0));
            let moved = (chosen != previous).then_some(chosen);
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
        <form id="edit-post-form" class="form" method="post" action={FormAction::EditPost(post.id).path()} {onsubmit}>
            <FormFields return_to={props.return_to.clone()} />
            <input type="hidden" name="previous_user_id" value={post.user_id.0.to_string()} />
            <label for="edit-title">{ "Title" }</label>
            <input id="edit-title" name="title" value={(*title).clone()} maxlength="200" oninput={on_text(&title)} />
            { field_error(&refused, "title", "edit-title") }
            <label for="edit-body">{ "Body" }</label>
            <textarea id="edit-body" name="body" value={(*body).clone()} rows="4" oninput={on_text(&body)} />
            { field_error(&refused, "body", "edit-body") }
            <label for="edit-author">{ "Author" }</label>
            <AuthorSelect id="edit-author" name="user_id" value={author.parse::<i64>().unwrap_or(post.user_id.0)}
                          onchange={let a = author.clone(); Callback::from(move |v: i64| a.set(v.to_string()))} />
            { field_error(&refused, "user_id", "edit-author") }
            <button type="submit" id="save-post">{ "Save" }</button>
            { form_message(&refused, "edit-post-refused") }
            if let Some(e) = &update.error {
                <p class="error" role="alert">{ e.message.clone() }</p>
            }
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct CommentsProps {
    id: PostId,
    /// The page the comment form returns to.
    return_to: AttrValue,
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
    let may_write = crate::session::use_session().may_write();
    let sign_in = Route::SignIn(ReturnTo::to(crate::router::use_address_route()));
    html! {
        <section class="comments-section" aria-label="Comments">
            <h3>{ "Comments" }</h3>
            if may_write {
                <CommentForm id={props.id} return_to={props.return_to.clone()} />
            } else {
                <p id="sign-in-to-comment" class="hint">
                    <AppLink to={sign_in}>{ "Sign in" }</AppLink>{ " to comment." }
                </p>
            }
            { list }
            if comments.has_next_page {
                <button type="button" id="older-comments" onclick={older} disabled={comments.is_fetching() || comments.is_paused()}>
                    { if comments.is_fetching() || comments.is_paused() { "Loading…" } else { "Older comments" } }
                </button>
            }
        </section>
    }
}

#[function_component]
fn CommentForm(props: &CommentsProps) -> Html {
    const FORM: &str = "new-comment";
    // Signed in, the comment is signed with the viewer's name and email.
    let viewer = crate::session::use_session().user.clone();
    let name = use_field(FORM, "name", "comment-name", || {
        viewer.as_ref().map(|u| u.name.clone()).unwrap_or_default()
    });
    let email = use_field(FORM, "email", "comment-email", || {
        viewer.as_ref().map(|u| u.email.clone()).unwrap_or_default()
    });
    let body = use_field(FORM, "body", "comment-body", String::new);
    let forms = use_forms();
    let refusal_shown = use_state(|| true);
    let refused = refusal(&forms, &FormAction::Comment(props.id), *refusal_shown);
    let sent_key = use_sent_key("new-comment-form");
    let create = use_mutation::<CreateComment, (), _>(move |_| MutationOptions {
        idempotency_key: sent_key.borrow_mut().take(),
        ..Default::default()
    });
    let onsubmit = {
        let (name, email, body, post_id, mutate, refusal_shown) = (
            name.clone(),
            email.clone(),
            body.clone(),
            props.id,
            create.mutate.clone(),
            refusal_shown.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            refusal_shown.set(false);
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
        <form id="new-comment-form" class="form" method="post" action={FormAction::Comment(props.id).path()} {onsubmit}>
            <FormFields return_to={props.return_to.clone()} />
            <input id="comment-name" name="name" placeholder="Name" aria-label="Name" value={(*name).clone()}
                   oninput={on_text(&name)} />
            { field_error(&refused, "name", "comment-name") }
            <input id="comment-email" name="email" placeholder="Email" aria-label="Email" type="email" value={(*email).clone()}
                   oninput={on_text(&email)} />
            { field_error(&refused, "email", "comment-email") }
            <textarea id="comment-body" name="body" placeholder="Comment" aria-label="Comment" rows="2" value={(*body).clone()}
                      oninput={on_text(&body)} />
            { field_error(&refused, "body", "comment-body") }
            <button type="submit" id="comment-submit">{ "Comment" }</button>
            { form_message(&refused, "comment-refused") }
            if let Some(e) = &create.error {
                <p class="error" role="alert">{ e.message.clone() }</p>
            }
        </form>
    }
}
