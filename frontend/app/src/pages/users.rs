//! `/users` and `/users/{id}`: names, post counts and last activity kept
//! current by server events; a profile with the user's posts and an edit form.

use crate::forms::{
    FormFields, field_error, form_message, on_text, refusal, use_field, use_forms, use_sent_key,
};
use crate::mutations::{self, UserEdit};
use crate::navigation::use_route_pending;
use crate::pages::{ErrorView, when};
use crate::queries::typed;
use crate::router::{AppLink, use_route_prefetch};
use querent::typed::MutationOptions;
use querent::yew::{use_mutation, use_query};
use shared::{FormAction, Route, User, UserId, UserPatch};
use yew::prelude::*;

/// Props of [`UsersPage`].
#[derive(Properties, PartialEq)]
pub(crate) struct UsersPageProps {
    /// The open user, if any.
    pub(crate) selected: Option<UserId>,
}

/// The users layout.
#[function_component]
pub(crate) fn UsersPage(props: &UsersPageProps) -> Html {
    let users = use_query(typed::users());
    let list = match (&users.data, &users.error) {
        (Some(list), _) => html! {
            <ul id="user-list" class="user-list">
                { for list.iter().map(|u| html! {
                    <li class="user-item" key={u.id.0} data-user-id={u.id.0.to_string()}>
                        <AppLink to={Route::User(u.id)}><span class="user-name">{ u.name.clone() }</span></AppLink>
                        <span class="post-count" title="posts">{ u.post_count }</span>
                        <span class="last-active">{ format!("active {}", when(&u.last_active_at)) }</span>
                    </li>
                }) }
            </ul>
        },
        (None, Some(e)) => html! { <ErrorView error={e.clone()} /> },
        (None, None) => {
            html! { <ul id="user-list" class="user-list skeleton" aria-busy="true"><li>{ "Loading users…" }</li></ul> }
        }
    };
    html! {
        // The open item first: on a narrow screen the columns stack in
        // this order (the list after it), on a wide one the grid puts the
        // list on the left.
        <div class="two-columns">
            <section class="column detail-column">
                {
                    match props.selected {
                        Some(id) => html! { <UserDetail key={id.0} {id} /> },
                        None => html! { <p class="hint">{ "Select a user." }</p> },
                    }
                }
            </section>
            <section class="column list-column" aria-label="Users">
                <h1>{ "Users" }</h1>
                { list }
            </section>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct UserProps {
    id: UserId,
}

#[function_component]
fn UserDetail(props: &UserProps) -> Html {
    use_route_prefetch(Route::User(props.id));
    let user = use_query(typed::user(props.id));
    let posts = use_query(typed::user_posts(props.id));
    let session = crate::session::use_session();
    let skeleton =
        || html! { <article class="card skeleton" aria-busy="true">{ "Loading…" }</article> };
    if use_route_pending() {
        return skeleton();
    }
    let Some(data) = user.data.clone() else {
        return match &user.error {
            Some(e) if e.status() == Some(404) => {
                html! { <p id="user-not-found">{ "User not found" }</p> }
            }
            Some(e) => html! { <ErrorView error={e.clone()} /> },
            None => skeleton(),
        };
    };
    html! {
        <article id="user-detail" class="card">
            <h2 id="user-name">{ data.name.clone() }</h2>
            <p class="meta">{ format!("@{} · ", data.username) }<span id="user-email">{ data.email.clone() }</span></p>
            if session.may_change(data.id) {
                <EditUser user={(*data).clone()} />
            }
            <h3>{ format!("Posts ({})", data.post_count) }</h3>
            {
                match &posts.data {
                    Some(list) => html! {
                        <ul id="user-posts">
                            { for list.iter().map(|p| html! {
                                <li key={p.id.0}><AppLink to={Route::Post(p.id)}>{ p.title.clone() }</AppLink></li>
                            }) }
                        </ul>
                    },
                    None => html! { <ul class="comments-skeleton" aria-busy="true"><li class="skeleton-line"></li></ul> },
                }
            }
        </article>
    }
}

#[derive(Properties, PartialEq)]
struct EditUserProps {
    user: User,
}

#[function_component]
fn EditUser(props: &EditUserProps) -> Html {
    const FORM: &str = "edit-user";
    let name = use_field(FORM, "name", "edit-user-name", || props.user.name.clone());
    let email = use_field(FORM, "email", "edit-user-email", || {
        props.user.email.clone()
    });
    let forms = use_forms();
    let refusal_shown = use_state(|| true);
    let refused = refusal(&forms, &FormAction::EditUser(props.user.id), *refusal_shown);
    let sent_key = use_sent_key("edit-user-form");
    let update = use_mutation(move |v| MutationOptions {
        idempotency_key: sent_key.borrow_mut().take(),
        ..mutations::update_user_options(v)
    });
    let onsubmit = {
        let (name, email, id, mutate, refusal_shown) = (
            name.clone(),
            email.clone(),
            props.user.id,
            update.mutate.clone(),
            refusal_shown.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            refusal_shown.set(false);
            mutate.emit(UserEdit {
                id,
                patch: UserPatch {
                    name: Some((*name).clone()),
                    email: Some((*email).clone()),
                },
            });
        })
    };
    html! {
        <form id="edit-user-form" class="form inline" method="post"
              action={FormAction::EditUser(props.user.id).path()} {onsubmit}>
            <FormFields />
            <label for="edit-user-name">{ "Name" }</label>
            <input id="edit-user-name" name="name" value={(*name).clone()} oninput={on_text(&name)} />
            { field_error(&refused, "name", "edit-user-name") }
            <label for="edit-user-email">{ "Email" }</label>
            <input id="edit-user-email" name="email" type="email" value={(*email).clone()}
                   oninput={on_text(&email)} />
            { field_error(&refused, "email", "edit-user-email") }
            <button type="submit" id="save-user">{ "Save" }</button>
            { form_message(&refused, "edit-user-refused") }
            if let Some(e) = &update.error {
                <p class="error" role="alert">{ e.message.clone() }</p>
            }
        </form>
    }
}
