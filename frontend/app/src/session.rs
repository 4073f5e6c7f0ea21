//! Who is signed in: the `["session"]` query (every page embeds it for the
//! viewer it was rendered for), the header's "signed in as … / Sign out",
//! and the sign-in page. Both forms are plain HTML forms (`/sign-in`,
//! `/sign-out`) that work without the app; with it they call
//! `/api/session` and update the session query, so every view that asks
//! [`use_session`] what this viewer may do renders again at once.

use crate::api;
use crate::forms::{FormFields, field_error, form_message, on_text, refusal, use_field, use_forms};
use crate::queries::typed;
use crate::router::{AppLink, AppRoute, use_address_route};
use gloo_net::http::Method;
use querent::QueryClient;
use querent::yew::{use_query, use_query_client};
use shared::forms::RETURN_TO_FIELD;
use shared::{FormAction, Route, SessionInfo, SignIn};
use std::rc::Rc;
use yew::prelude::*;
use yew_router::prelude::*;

/// The viewer's session. Until it is known (a page without embedded
/// state, before `/api/session` answers), nobody is signed in and sessions
/// count as required: no view offers a write it may not make.
#[hook]
pub(crate) fn use_session() -> Rc<SessionInfo> {
    let session = use_query(typed::session());
    session.data.clone().unwrap_or_else(|| {
        Rc::new(SessionInfo {
            user: None,
            sessions_required: true,
        })
    })
}

/// Makes `info` this client's session.
fn adopt(client: &QueryClient, info: &SessionInfo) {
    client.set_data(&typed::session(), info);
}

/// The header's part: the signed-in user and "Sign out", or "Sign in".
#[function_component]
pub(crate) fn SessionMenu() -> Html {
    let session = use_session();
    let client = use_query_client();
    let here = use_address_route();
    let Some(user) = &session.user else {
        return html! {
            <AppLink to={Route::SignIn} id="sign-in-link">{ "Sign in" }</AppLink>
        };
    };
    let onsubmit = {
        let required = session.sessions_required;
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let client = client.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let ended = api::call(Method::DELETE, "/api/session", None, None::<&()>).await;
                if ended.is_ok() {
                    adopt(
                        &client,
                        &SessionInfo {
                            user: None,
                            sessions_required: required,
                        },
                    );
                }
            });
        })
    };
    html! {
        <form id="sign-out-form" class="session-menu" method="post"
              action={FormAction::SignOut.path()} {onsubmit}>
            <span id="signed-in-as">{ "Signed in as " }<strong>{ user.name.clone() }</strong></span>
            <input type="hidden" name={RETURN_TO_FIELD} value={here.path()} />
            <button type="submit" id="sign-out">{ "Sign out" }</button>
        </form>
    }
}

/// `/sign-in`: email and password. Signed in, the app goes to the posts.
#[function_component]
pub(crate) fn SignInPage() -> Html {
    const FORM: &str = "sign-in";
    let email = use_field(FORM, "email", "sign-in-email", String::new);
    let password = use_field(FORM, "password", "sign-in-password", String::new);
    let forms = use_forms();
    let refusal_shown = use_state(|| true);
    let refused = refusal(&forms, &FormAction::SignIn, *refusal_shown);
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let session = use_session();
    let client = use_query_client();
    let navigator = use_navigator();
    let onsubmit = {
        let (email, password, error, busy, refusal_shown) = (
            email.clone(),
            password.clone(),
            error.clone(),
            busy.clone(),
            refusal_shown.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            refusal_shown.set(false);
            busy.set(true);
            let credentials = SignIn {
                email: (*email).clone(),
                password: (*password).clone(),
            };
            let (client, navigator, error, busy, password) = (
                client.clone(),
                navigator.clone(),
                error.clone(),
                busy.clone(),
                password.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let answer =
                    api::call(Method::POST, "/api/session", None, Some(&credentials)).await;
                busy.set(false);
                let signed_in = answer.and_then(|v| {
                    serde_json::from_value::<SessionInfo>(v).map_err(|e| {
                        querent::QueryError::decode(format!("unexpected sign-in answer: {e}"))
                    })
                });
                match signed_in {
                    Ok(info) => {
                        error.set(None);
                        password.set(String::new());
                        adopt(&client, &info);
                        if let Some(n) = &navigator {
                            n.push(&AppRoute(Route::Posts));
                        }
                    }
                    Err(e) => error.set(Some(e.message)),
                }
            });
        })
    };
    if let Some(user) = &session.user {
        return html! {
            <section id="sign-in-page" class="card">
                <h1>{ "Sign in" }</h1>
                <p id="already-signed-in">{ format!("You are signed in as {}.", user.name) }</p>
                <AppLink to={Route::Posts}>{ "Go to the posts" }</AppLink>
            </section>
        };
    }
    html! {
        <section id="sign-in-page" class="card">
            <h1>{ "Sign in" }</h1>
            <form id="sign-in-form" class="form" method="post" action={FormAction::SignIn.path()} {onsubmit}>
                <FormFields />
                <label for="sign-in-email">{ "Email" }</label>
                <input id="sign-in-email" name="email" type="email" autocomplete="username" required=true
                       value={(*email).clone()} oninput={on_text(&email)} />
                { field_error(&refused, "email", "sign-in-email") }
                <label for="sign-in-password">{ "Password" }</label>
                <input id="sign-in-password" name="password" type="password" autocomplete="current-password" required=true
                       value={(*password).clone()} oninput={on_text(&password)} />
                { field_error(&refused, "password", "sign-in-password") }
                <button type="submit" id="sign-in-submit" disabled={*busy}>{ "Sign in" }</button>
                { form_message(&refused, "sign-in-refused") }
                if let Some(message) = (*error).clone() {
                    <p id="sign-in-error" class="error" role="alert">{ message }</p>
                }
            </form>
            <p class="hint">{ "Demo accounts: any user's email (e.g. bret@example.com), password " }<code>{ "querent-demo" }</code>{ "." }</p>
        </section>
    }
}
