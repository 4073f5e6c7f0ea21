//! Who is signed in: the `["session"]` query (every page embeds it for the
//! viewer it was rendered for), the header's "signed in as … / Sign out",
//! the sign-in page, and the cache per person.
//!
//! Both forms are plain HTML forms (`/sign-in`, `/sign-out`) that work
//! without the app; with it they call `/api/session`.
//!
//! **The cache per person.** The persisted cache, the offline queue's
//! journal and the tab-sync channel are keyed by the viewer
//! ([`storage_key`]: the anonymous key, or `…:u{id}`). Whenever the
//! session query names another person than the one this page started for
//! (signing in or out here, in another tab, no-JS forms, a session the
//! server says has ended) the page changes hands the same way
//! ([`watch`]): the persisted cache is written one last time and stopped,
//! the previous person's cached data is purged from storage (their
//! unconfirmed changes are kept, under their key only, for their next
//! sign-in), the new viewer is recorded (other tabs follow), and the page
//! loads again, so the next person's first frame is the server's page for
//! them, never the previous person's cache.

use crate::api;
use crate::forms::{FormFields, field_error, form_message, on_text, refusal, use_field, use_forms};
use crate::queries::typed;
use crate::router::{AppLink, use_address_route};
use gloo_net::http::Method;
use querent::QueryClient;
use querent::yew::{use_query, use_query_client};
use shared::forms::RETURN_TO_FIELD;
use shared::{FormAction, ReturnTo, Route, SessionInfo, SignIn, UserId};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use yew::prelude::*;

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

/// The session the client's cache holds, if any.
fn cached_session(client: &QueryClient) -> Option<SessionInfo> {
    client
        .get_query_data(typed::session().key.query_key())
        .and_then(|v| querent::json::decode(&v).ok())
}

/// Makes `info` this client's session; the page then changes hands (see
/// [`watch`]) and loads `next` (the address it is at when `None`).
fn adopt(client: &QueryClient, info: &SessionInfo, next: Option<String>) {
    NEXT.with(|n| *n.borrow_mut() = next);
    client.set_data(&typed::session(), info);
}

/// The header's part: the signed-in user and "Sign out", or "Sign in";
/// and what the last change of hands left to say (kept changes, an ended
/// session), shown after the first render (the server has no such notice).
#[function_component]
pub(crate) fn SessionMenu() -> Html {
    let session = use_session();
    let client = use_query_client();
    let here = use_address_route();
    let notice = use_state(|| None::<String>);
    let signing_out = use_state(|| false);
    {
        let notice = notice.clone();
        use_effect_with((), move |()| notice.set(take_notice()));
    }
    let notice = (*notice).clone().map(|text| {
        html! { <p id="session-notice" class="notice" role="status">{ text }</p> }
    });
    let Some(user) = &session.user else {
        return html! {
            <>
                <AppLink to={Route::SignIn(ReturnTo::to(here))} id="sign-in-link">{ "Sign in" }</AppLink>
                { for notice }
            </>
        };
    };
    let onsubmit = {
        let (required, name, signing_out) = (
            session.sessions_required,
            user.name.clone(),
            signing_out.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *signing_out {
                return;
            }
            signing_out.set(true);
            let (client, name) = (client.clone(), name.clone());
            wasm_bindgen_futures::spawn_local(async move {
                sign_out(&client, &name, required).await;
            });
        })
    };
    html! {
        <>
            <form id="sign-out-form" class="session-menu" method="post"
                  action={FormAction::SignOut.path()} {onsubmit}>
                <span id="signed-in-as">{ "Signed in as " }<strong>{ user.name.clone() }</strong></span>
                <input type="hidden" name={RETURN_TO_FIELD} value={here.path()} />
                <button type="submit" id="sign-out" disabled={*signing_out}>
                    { if *signing_out { "Signing out…" } else { "Sign out" } }
                </button>
            </form>
            { for notice }
        </>
    }
}

/// How long signing out waits for unconfirmed changes to be sent.
const SEND_BEFORE_SIGN_OUT_MS: u32 = 10_000;

/// Signs out: unconfirmed changes are sent first if the browser is online
/// (waiting up to [`SEND_BEFORE_SIGN_OUT_MS`]); the session is ended on the
/// server, or, offline, as soon as the app next runs online; what could not
/// be sent is kept for this person alone, and said so.
async fn sign_out(client: &QueryClient, name: &str, sessions_required: bool) {
    let mut waited = 0;
    while client.is_online() && client.pending_mutations() > 0 && waited < SEND_BEFORE_SIGN_OUT_MS {
        gloo_timers::future::TimeoutFuture::new(100).await;
        waited += 100;
    }
    if end_server_session().await.is_err() {
        set_flag(&sign_out_pending_key(), true);
    }
    let kept = client.pending_mutations();
    if kept > 0 {
        let changes = if kept == 1 { "change" } else { "changes" };
        leave_notice(&format!(
            "{kept} unsent {changes} kept for {name} on this browser: sent when {name} signs in again."
        ));
    }
    adopt(
        client,
        &SessionInfo {
            user: None,
            sessions_required,
        },
        None,
    );
}

/// `DELETE /api/session`; `Err` when it could not be sent (offline).
async fn end_server_session() -> Result<(), querent::QueryError> {
    match api::call(Method::DELETE, "/api/session", None, None).await {
        Err(e) if e.kind == querent::ErrorKind::Network => Err(e),
        _ => Ok(()),
    }
}

/// Props of [`SignInPage`].
#[derive(Properties, PartialEq)]
pub(crate) struct SignInPageProps {
    /// The page to go to once signed in.
    pub(crate) to: ReturnTo,
}

/// `/sign-in`: email and password. Signed in, the app loads the page the
/// sign-in link was on (`?return_to=`), else the posts.
#[function_component]
pub(crate) fn SignInPage(props: &SignInPageProps) -> Html {
    let next = props.to.route();
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
            let (client, error, busy, password) = (
                client.clone(),
                error.clone(),
                busy.clone(),
                password.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let answer = match api::json_body(Some(&credentials)) {
                    Ok(body) => api::call(Method::POST, "/api/session", None, body).await,
                    Err(e) => Err(e),
                };
                busy.set(false);
                let signed_in = answer.and_then(|v| {
                    querent::json::decode::<SessionInfo>(&v).map_err(|e| {
                        querent::QueryError::decode(format!("unexpected sign-in answer: {e}"))
                    })
                });
                match signed_in {
                    Ok(info) => {
                        error.set(None);
                        password.set(String::new());
                        // The sign-in replaced any session the browser had.
                        set_flag(&sign_out_pending_key(), false);
                        adopt(&client, &info, Some(next.path()));
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
                <AppLink to={next}>{ if next == Route::Posts { "Go to the posts" } else { "Go back" } }</AppLink>
            </section>
        };
    }
    html! {
        <section id="sign-in-page" class="card">
            <h1>{ "Sign in" }</h1>
            <form id="sign-in-form" class="form" method="post" action={FormAction::SignIn.path()} {onsubmit}>
                <FormFields return_to={AttrValue::from(next.path())} />
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

thread_local! {
    /// Where the page goes when it next changes hands (else it reloads).
    static NEXT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The storage key of the app's cache, tab sync and journal before the
/// viewer is added: one per API (two deployments on one origin never mix).
pub(crate) fn base_key() -> String {
    let defaults = querent::persist::PersistOptions::default();
    let base = api::base();
    if base.is_empty() {
        defaults.storage_key
    } else {
        format!("{}:{base}", defaults.storage_key)
    }
}

/// The viewer's storage key: the anonymous one (`base`), or `base:u{id}`.
pub(crate) fn storage_key(base: &str, user: Option<UserId>) -> String {
    match user {
        Some(id) => format!("{base}:u{id}"),
        None => base.to_owned(),
    }
}

fn viewer_key() -> String {
    format!("{}:viewer", base_key())
}

fn sign_out_pending_key() -> String {
    format!("{}:sign-out-pending", base_key())
}

const NOTICE_KEY: &str = "querent-session-notice";

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn set_flag(key: &str, on: bool) {
    if let Some(storage) = local_storage() {
        let _ = if on {
            storage.set_item(key, "1")
        } else {
            storage.remove_item(key)
        };
    }
}

fn flag(key: &str) -> bool {
    local_storage().is_some_and(|s| s.get_item(key).ok().flatten().is_some())
}

/// Says `text` on the next page (this tab only).
fn leave_notice(text: &str) {
    if let Some(storage) = web_sys::window().and_then(|w| w.session_storage().ok().flatten()) {
        let _ = storage.set_item(NOTICE_KEY, text);
    }
}

fn take_notice() -> Option<String> {
    let storage = web_sys::window()?.session_storage().ok()??;
    let text = storage.get_item(NOTICE_KEY).ok()??;
    let _ = storage.remove_item(NOTICE_KEY);
    Some(text)
}

/// The viewer this browser last had (any tab), if recorded.
pub(crate) fn recorded_viewer() -> Option<SessionInfo> {
    let text = local_storage()?.get_item(&viewer_key()).ok()??;
    querent::json::parse(&text).ok()
}

fn record_viewer(info: &SessionInfo) {
    // Through a `Value`, as the cache writes it (one encoder in the wasm).
    if let (Some(storage), Ok(value)) = (local_storage(), serde_json::to_value(info)) {
        let _ = storage.set_item(&viewer_key(), &value.to_string());
    }
}

/// Removes the cached data of the cache stored under `key`, keeping its
/// unconfirmed changes (the record goes when none are left).
fn purge(key: &str) {
    let Some(storage) = local_storage() else {
        return;
    };
    let Some(text) = storage.get_item(key).ok().flatten() else {
        return;
    };
    let Ok(mut record) = serde_json::from_str::<serde_json::Value>(&text) else {
        let _ = storage.remove_item(key);
        return;
    };
    let state = &mut record["client_state"];
    let kept = state["mutations"].as_array().is_some_and(|m| !m.is_empty());
    if kept {
        state["queries"] = serde_json::Value::Array(Vec::new());
        let _ = storage.set_item(key, &record.to_string());
    } else {
        let _ = storage.remove_item(key);
    }
}

/// The session the page starts with, worked out before its first render
/// from what the server embedded (`client` holds it) and what this browser
/// recorded: the viewer whose cache the page will use. Returns it, and
/// whether the server's HTML still shows that viewer (else the page is
/// rendered, not hydrated).
///
/// - A sign-out made offline is finished first: until the server has ended
///   the session, the page is signed out whatever the server rendered.
/// - The service worker's offline copy of a page (`<meta name="app-shell">`)
///   was rendered for nobody: the viewer is the one last recorded.
/// - A page without an embedded session (a static host) starts as the
///   viewer last recorded and asks the server (a different answer hands
///   the page over).
/// - Otherwise the server's word is recorded; a previous viewer's cached
///   data (signed out or in by a form without the app) is purged.
pub(crate) fn starting_viewer(client: &QueryClient) -> (SessionInfo, bool) {
    let spec = typed::session();
    let embedded = cached_session(client);
    let recorded = recorded_viewer();
    let offline_copy = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("meta[name=app-shell]").ok().flatten())
        .is_some();
    let required = embedded
        .as_ref()
        .or(recorded.as_ref())
        .is_none_or(|s| s.sessions_required);
    let nobody = SessionInfo {
        user: None,
        sessions_required: required,
    };
    let (viewer, as_rendered) = if flag(&sign_out_pending_key()) {
        let as_rendered = embedded.as_ref().is_some_and(|e| e.user.is_none());
        (nobody, as_rendered)
    } else if offline_copy || embedded.is_none() {
        let viewer = recorded.clone().unwrap_or(nobody);
        let as_rendered = embedded.as_ref().is_some_and(|e| e.user == viewer.user);
        (viewer, as_rendered)
    } else {
        (embedded.clone().unwrap_or(nobody), true)
    };
    if embedded.is_some() && !as_rendered {
        let value = serde_json::to_value(&viewer).unwrap_or_default();
        client.set_query_data(spec.key.query_key(), |_| Some(value));
    }
    if let Some(recorded) = &recorded
        && recorded.user_id() != viewer.user_id()
    {
        purge(&storage_key(&base_key(), recorded.user_id()));
    }
    record_viewer(&viewer);
    (viewer, as_rendered)
}

/// Keeps the page to the viewer it started for (see the module's docs):
/// owns the page's persistence, and hands the page over when the session
/// query or another tab names someone else. Also finishes a sign-out made
/// offline once the browser is online.
pub(crate) struct Watch {
    _session: querent::client::Subscription,
    _listeners: Vec<gloo_events::EventListener>,
}

/// Hands the page over to the viewer given (recorded), or to the one
/// another tab recorded (`None`).
type HandOver = Rc<dyn Fn(Option<&SessionInfo>)>;

/// Starts watching; `persistence` is the page's (written one last time when
/// the page changes hands).
pub(crate) fn watch(
    client: &QueryClient,
    started_for: Option<UserId>,
    persistence: querent::web::WebPersistence,
) -> Watch {
    let persistence = Rc::new(RefCell::new(Some(persistence)));
    let handed_over = Rc::new(Cell::new(false));
    let hand_over: HandOver = Rc::new(move |to: Option<&SessionInfo>| {
        if handed_over.replace(true) {
            return;
        }
        if let Some(persistence) = persistence.borrow_mut().take() {
            persistence.flush();
        }
        purge(&storage_key(&base_key(), started_for));
        if let Some(to) = to {
            record_viewer(to);
        }
        let Some(location) = web_sys::window().map(|w| w.location()) else {
            return;
        };
        let _ = match NEXT.with(|n| n.borrow_mut().take()) {
            Some(next) => location.assign(&next),
            None => location.reload(),
        };
    });
    let session = {
        let (watched, hand_over) = (client.clone(), Rc::clone(&hand_over));
        client.subscribe(typed::session().key.query_key(), move || {
            if let Some(now) = cached_session(&watched)
                && now.user_id() != started_for
            {
                // After the cache has told everyone (the last write of the
                // cache reads it).
                let hand_over = Rc::clone(&hand_over);
                wasm_bindgen_futures::spawn_local(async move { hand_over(Some(&now)) });
            }
        })
    };
    let mut listeners = Vec::new();
    if let Some(window) = web_sys::window() {
        let watched = viewer_key();
        let hand_over = Rc::clone(&hand_over);
        listeners.push(gloo_events::EventListener::new(
            &window,
            "storage",
            move |event| {
                use wasm_bindgen::JsCast;
                let Some(event) = event.dyn_ref::<web_sys::StorageEvent>() else {
                    return;
                };
                if event.key().as_deref() != Some(watched.as_str()) {
                    return;
                }
                let now: Option<SessionInfo> = event
                    .new_value()
                    .and_then(|text| querent::json::parse(&text).ok());
                if now.is_none_or(|now| now.user_id() != started_for) {
                    // Another tab recorded it already.
                    hand_over(None);
                }
            },
        ));
        listeners.push(gloo_events::EventListener::new(&window, "online", |_| {
            finish_sign_out();
        }));
    }
    finish_sign_out();
    Watch {
        _session: session,
        _listeners: listeners,
    }
}

/// Ends on the server a session signed out of offline, if any.
fn finish_sign_out() {
    if !flag(&sign_out_pending_key()) {
        return;
    }
    wasm_bindgen_futures::spawn_local(async {
        if end_server_session().await.is_ok() {
            set_flag(&sign_out_pending_key(), false);
        }
    });
}

/// Called when the server says a write's session has ended (401): the
/// viewer is signed out here (the page changes hands; the write stays in
/// its person's queue and is sent when they sign in again) and told why.
#[cfg(not(feature = "ssr"))]
pub(crate) fn ended(client: &QueryClient) {
    let Some(SessionInfo {
        user: Some(user),
        sessions_required,
    }) = cached_session(client)
    else {
        return;
    };
    leave_notice(&format!(
        "Your session has ended. Sign in again as {} to send your unsent changes.",
        user.name
    ));
    adopt(
        client,
        &SessionInfo {
            user: None,
            sessions_required,
        },
        Some(Route::SignIn(ReturnTo::parse(&address())).path()),
    );
}

/// The page's path and query.
#[cfg(not(feature = "ssr"))]
fn address() -> String {
    web_sys::window()
        .and_then(|w| {
            let l = w.location();
            Some(format!("{}{}", l.pathname().ok()?, l.search().ok()?))
        })
        .unwrap_or_default()
}
