//! One module per page of the route table.

pub(crate) mod deferred;
pub(crate) mod home;
pub(crate) mod misc;
pub(crate) mod post;
pub(crate) mod posts;
pub(crate) mod users;

use querent::QueryError;
use yew::prelude::*;

/// Props of [`ErrorView`].
#[derive(Properties, PartialEq)]
pub(crate) struct ErrorViewProps {
    /// What failed.
    pub(crate) error: QueryError,
    /// "Try again".
    pub(crate) retry: Callback<()>,
}

/// The error boundary of a page whose data failed to load.
#[function_component]
pub(crate) fn ErrorView(props: &ErrorViewProps) -> Html {
    let retry = props.retry.reform(|_: MouseEvent| ());
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
    /// The chosen user id.
    pub(crate) value: i64,
    /// A new choice.
    pub(crate) onchange: Callback<i64>,
}

/// "User 1" … "User 10" by id: the seed's users. It does not fetch
/// `/api/users`, so the pages that hold it load with no API request.
#[function_component]
pub(crate) fn AuthorSelect(props: &AuthorSelectProps) -> Html {
    let onchange = props.onchange.clone();
    let value = props.value;
    html! {
        <select id={props.id.clone()}
                oninput={Callback::from(move |e: InputEvent| onchange.emit(input_value(&e).parse().unwrap_or(value)))}>
            { for (1..=10).map(|i| html! { <option value={i.to_string()} selected={value == i}>{ format!("User {i}") }</option> }) }
        </select>
    }
}

/// Shows a date-time as `2026-01-05 03:00`.
pub(crate) fn when(at: &chrono::DateTime<chrono::Utc>) -> String {
    // By hand: chrono's strftime machinery adds tens of KB to the wasm.
    use chrono::{Datelike, Timelike};
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute()
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
