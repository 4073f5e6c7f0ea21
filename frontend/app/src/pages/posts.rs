//! `/posts` and `/posts/{id}`: the infinite list with the add-post form, and
//! the open post (or "Select a post.").

use crate::forms::{
    FormFields, field_error, form_message, on_text, refusal, use_field, use_forms, use_sent_key,
};
use crate::mutations::{self, CreatePost, DeletePost, Publication, PublishPost};
use crate::navigation::use_blocker;
use crate::pages::{AuthorSelect, ErrorView, post::PostDetail};
use crate::queries::typed;
use crate::router::AppLink;
use querent::typed::MutationOptions;
use querent::yew::{use_mutation, use_mutation_records, use_query};
use shared::{FormAction, NewComment, NewPost, PostId, ReturnTo, Route, UserId};
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
    let may_write = crate::session::use_session().may_write();
    html! {
        // The open item first: on a narrow screen the columns stack in
        // this order (the list after it), on a wide one the grid puts the
        // list on the left.
        <div class="two-columns">
            <section class="column detail-column">
                {
                    match props.selected {
                        Some(id) => html! { <PostDetail key={id.0} {id} /> },
                        None => html! { <p id="select-a-post" class="hint">{ "Select a post." }</p> },
                    }
                }
            </section>
            <section class="column list-column" aria-label="Posts">
                <h1>{ "Posts" }</h1>
                if may_write {
                    <NewPostForm />
                } else {
                    <p id="sign-in-to-post" class="card hint">
                        <AppLink to={Route::SignIn(ReturnTo::to(Route::Posts))}>{ "Sign in" }</AppLink>{ " to add a post." }
                    </p>
                }
                <PostList />
            </section>
        </div>
    }
}

/// The infinite list. Unconfirmed creations show first (marked pending) and
/// unconfirmed deletions are hidden: both come from the persisted mutation
/// queue, so they look the same after a reload.
#[function_component]
fn PostList() -> Html {
    let list = use_query(typed::posts());
    let records = use_mutation_records();
    // Plain creations and publish workflows (a post with its first comment).
    let creating = mutations::unconfirmed::<CreatePost>(&records)
        .into_iter()
        .map(|(k, post)| (k, post, false))
        .chain(
            mutations::unconfirmed::<PublishPost>(&records)
                .into_iter()
                .map(|(k, p)| (k, p.post, true)),
        );
    let deleting: Vec<PostId> = mutations::unconfirmed::<DeletePost>(&records)
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
        return html! { <ErrorView error={error.clone()} /> };
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
    let pending = creating
        .filter(|(_, new, _)| !arrived(new))
        .map(|(idempotency_key, post, with_comment)| {
            html! {
                <li class="post-item" data-pending="true" key={idempotency_key}
                    data-with-comment={with_comment.then_some("true")}>
                    <span class="title">{ post.title.trim().to_owned() }</span>
                    <span class="tag">{ if with_comment { "saving with its first comment…" } else { "saving…" } }</span>
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
                <button type="button" id="load-more" onclick={load_more} disabled={list.is_fetching() || list.is_paused()}>
                    { if list.is_fetching() || list.is_paused() { "Loading…" } else { "Load more" } }
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
/// server's reason, if the server refuses. With a first comment it is the
/// publish workflow (post, then comment, as one mutation): if the comment
/// fails the post is withdrawn and nothing of it stays. Without the app it
/// posts to `/posts` (see `crate::forms`).
#[function_component]
fn NewPostForm() -> Html {
    const FORM: &str = "new-post";
    let title = use_field(FORM, "title", "new-post-title", String::new);
    let body = use_field(FORM, "body", "new-post-body", String::new);
    let session = crate::session::use_session();
    // Signed in, the author is the viewer (the server holds posts to it).
    let viewer = session.user.as_ref().map(|u| u.id);
    let author = use_field(FORM, "user_id", "new-post-user", || {
        viewer.map_or(1, |id| id.0).to_string()
    });
    let comment_name = use_field(FORM, "comment_name", "first-comment-name", String::new);
    let comment_email = use_field(FORM, "comment_email", "first-comment-email", String::new);
    let comment_body = use_field(FORM, "comment_body", "first-comment-body", String::new);
    let sent_key = use_sent_key("new-post-form");
    // Leaving with a half-written post asks first.
    use_blocker(
        [&title, &body, &comment_body]
            .iter()
            .any(|field| !field.trim().is_empty()),
    );
    let forms = use_forms();
    // A refusal the page was rendered with shows until the next submit.
    let refusal_shown = use_state(|| true);
    let refused = refusal(&forms, &FormAction::NewPost, *refusal_shown);
    let local_error = use_state(|| None::<String>);
    // Open from the start when it holds something (typed before the app
    // ran, or refused), so nothing is hidden; then it is the reader's.
    let comment_open = *use_state(|| {
        !comment_body.is_empty()
            || refused
                .as_ref()
                .is_some_and(|r| r.errors.keys().any(|k| k.starts_with("comment_")))
    });
    // The one key a native submit sent goes to whichever call is made first.
    let create = {
        let sent_key = sent_key.clone();
        use_mutation::<CreatePost, (), _>(move |_| MutationOptions {
            idempotency_key: sent_key.borrow_mut().take(),
            ..Default::default()
        })
    };
    let publish = {
        let sent_key = sent_key.clone();
        use_mutation::<PublishPost, (), _>(move |_| MutationOptions {
            idempotency_key: sent_key.borrow_mut().take(),
            ..Default::default()
        })
    };
    let records = use_mutation_records();
    let failure =
        mutations::last_failure_of(&records, |r| r.is::<CreatePost>() || r.is::<PublishPost>());
    let onsubmit = {
        let fields = (
            title.clone(),
            body.clone(),
            author.clone(),
            comment_name.clone(),
            comment_email.clone(),
            comment_body.clone(),
        );
        let (local_error, refusal_shown, create, publish) = (
            local_error.clone(),
            refusal_shown.clone(),
            create.mutate.clone(),
            publish.mutate.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            refusal_shown.set(false);
            let (title, body, author, c_name, c_email, c_body) = &fields;
            if title.trim().is_empty() || body.trim().is_empty() {
                local_error.set(Some("Give the post a title and a body.".into()));
                return;
            }
            let with_comment = !c_body.trim().is_empty();
            if with_comment && (c_name.trim().is_empty() || !c_email.contains('@')) {
                local_error.set(Some(
                    "A first comment needs a name and an email address.".into(),
                ));
                return;
            }
            local_error.set(None);
            let post = NewPost {
                user_id: viewer.unwrap_or_else(|| UserId(author.parse().unwrap_or(1))),
                title: (**title).clone(),
                body: (**body).clone(),
            };
            if with_comment {
                publish.emit(Publication {
                    post,
                    comment: NewComment {
                        name: (**c_name).clone(),
                        email: (**c_email).clone(),
                        body: (**c_body).clone(),
                    },
                });
                c_body.set(String::new());
            } else {
                create.emit(post);
            }
            title.set(String::new());
            body.set(String::new());
        })
    };
    let error = (*local_error)
        .clone()
        .or_else(|| failure.map(|f| format!("Could not add the post: {}", f.message)));
    let invalid = |name: &str| {
        refused
            .as_ref()
            .is_some_and(|r| r.errors.contains_key(name))
            .then_some("true")
    };
    html! {
        <form id="new-post-form" class="card form" method="post" action={FormAction::NewPost.path()} {onsubmit}>
            <FormFields />
            <label for="new-post-title">{ "Title" }</label>
            <input id="new-post-title" name="title" value={(*title).clone()} maxlength="200"
                   aria-invalid={invalid("title")} oninput={on_text(&title)} />
            { field_error(&refused, "title", "new-post-title") }
            <label for="new-post-body">{ "Body" }</label>
            <textarea id="new-post-body" name="body" value={(*body).clone()} rows="3"
                      aria-invalid={invalid("body")} oninput={on_text(&body)} />
            { field_error(&refused, "body", "new-post-body") }
            if let Some(me) = viewer {
                <input type="hidden" name="user_id" value={me.0.to_string()} />
            } else {
                <label for="new-post-user">{ "Author" }</label>
                <AuthorSelect id="new-post-user" name="user_id" value={author.parse::<i64>().unwrap_or(1)}
                              onchange={let a = author.clone(); Callback::from(move |v: i64| a.set(v.to_string()))} />
                { field_error(&refused, "user_id", "new-post-user") }
            }
            <details id="first-comment" open={comment_open}>
                <summary>{ "With a first comment (optional)" }</summary>
                <input id="first-comment-name" name="comment_name" placeholder="Name" aria-label="Commenter's name"
                       value={(*comment_name).clone()} aria-invalid={invalid("comment_name")} oninput={on_text(&comment_name)} />
                { field_error(&refused, "comment_name", "first-comment-name") }
                <input id="first-comment-email" name="comment_email" placeholder="Email" aria-label="Commenter's email" type="email"
                       value={(*comment_email).clone()} aria-invalid={invalid("comment_email")} oninput={on_text(&comment_email)} />
                { field_error(&refused, "comment_email", "first-comment-email") }
                <textarea id="first-comment-body" name="comment_body" placeholder="First comment" aria-label="First comment" rows="2"
                          value={(*comment_body).clone()} aria-invalid={invalid("comment_body")} oninput={on_text(&comment_body)} />
                { field_error(&refused, "comment_body", "first-comment-body") }
            </details>
            <button type="submit" id="new-post-submit">{ "Add post" }</button>
            { form_message(&refused, "new-post-refused") }
            if let Some(error) = error {
                <p id="new-post-error" class="error" role="alert">{ error }</p>
            }
        </form>
    }
}
