//! One module per page of the route table.

pub(crate) mod deferred;
pub(crate) mod home;
pub(crate) mod misc;
pub(crate) mod post;
pub(crate) mod posts;
pub(crate) mod transition;
pub(crate) mod users;

use crate::navigation::use_router;
use crate::queries::typed;
use crate::router::AppLink;
use querent::QueryError;
use querent::yew::{use_query, use_query_select};
use shared::{Route, User, UserId};
use yew::prelude::*;

/// Props of [`ErrorView`].
#[derive(Properties, PartialEq)]
pub(crate) struct ErrorViewProps {
    /// What failed.
    pub(crate) error: QueryError,
    /// Also called by "Try again" (an error boundary's reset, which shows
    /// its children again).
    #[prop_or_default]
    pub(crate) reset: Option<Callback<()>>,
}

/// The error boundary of a page whose data failed to load. "Try again"
/// re-runs the route's loader (TanStack's `reset` + `router.invalidate()`):
/// every query of the page that failed is fetched again, not only this one.
#[function_component]
pub(crate) fn ErrorView(props: &ErrorViewProps) -> Html {
    let (invalidate, reset) = (use_router().invalidate, props.reset.clone());
    let retry = Callback::from(move |_: MouseEvent| {
        if let Some(reset) = &reset {
            reset.emit(());
        }
        invalidate.emit(());
    });
    html! {
        <section id="error-boundary" class="error-boundary" role="alert">
            <h2>{ "Something went wrong" }</h2>
            <p>{ props.error.message.clone() }</p>
            <button type="button" id="try-again" onclick={retry}>{ "Try again" }</button>
        </section>
    }
}

/// Props of [`AuthorSelect`].
#[derive(Properties, PartialEq)]
pub(crate) struct AuthorSelectProps {
    /// The element id (its label points at it).
    pub(crate) id: AttrValue,
    /// The form field's name.
    pub(crate) name: AttrValue,
    /// The chosen user id.
    pub(crate) value: i64,
    /// A new choice.
    pub(crate) onchange: Callback<i64>,
}

/// The authors by name, from the users query (the pages that hold this
/// select embed it, so the first load makes no request; `user_updated`
/// events keep the names current). Until the list is there, only the chosen
/// author is offered.
#[function_component]
pub(crate) fn AuthorSelect(props: &AuthorSelectProps) -> Html {
    let users = use_query(typed::users());
    let onchange = props.onchange.clone();
    let value = props.value;
    let option = |id: i64, name: String| {
        html! { <option key={id} value={id.to_string()} selected={value == id}>{ name }</option> }
    };
    let options: Html = match &users.data {
        Some(users) => users
            .iter()
            .map(|u| option(u.id.0, u.name.clone()))
            .collect(),
        None => option(value, format!("user {value}")),
    };
    html! {
        <select id={props.id.clone()} name={props.name.clone()}
                oninput={Callback::from(move |e: InputEvent| onchange.emit(input_value(&e).parse().unwrap_or(value)))}>
            { options }
        </select>
    }
}

/// Props of [`AuthorName`].
#[derive(Properties, PartialEq)]
pub(crate) struct AuthorNameProps {
    /// Whose name.
    pub(crate) id: UserId,
}

/// A user's name, linked to their profile: a `select` over the users query,
/// so it renders again only when this user's name changes. "user N" until
/// the list is there.
#[function_component]
pub(crate) fn AuthorName(props: &AuthorNameProps) -> Html {
    let name = use_query_select(typed::users(), props.id, |users: &Vec<User>, id| {
        users.iter().find(|u| u.id == *id).map(|u| u.name.clone())
    });
    let text = name
        .data
        .as_deref()
        .cloned()
        .flatten()
        .unwrap_or_else(|| format!("user {}", props.id));
    html! { <AppLink to={Route::User(props.id)} id="post-author">{ text }</AppLink> }
}

/// Shows a date-time as `2026-01-05 03:00` (UTC).
pub(crate) fn when(at: &shared::Timestamp) -> String {
    let p = at.parts();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        p.year, p.month, p.day, p.hour, p.minute
    )
}

/// Reads a text field's value from an input event.
pub(crate) fn input_value(e: &InputEvent) -> String {
    use wasm_bindgen::JsCast;
    let target = e.target();
    if let Some(input) = target
        .clone()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
    {
        return input.value();
    }
    if let Some(area) = target
        .clone()
        .and_then(|t| t.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
    {
        return area.value();
    }
    target
        .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
        .map(|s| s.value())
        .unwrap_or_default()
}
