//! What every form of the app shares: it is a real HTML form (method,
//! action, named fields, the page's idempotency key; see `shared::forms`),
//! so it works before the app runs and without JavaScript; and when the app
//! takes a server-rendered page over it adopts what the form holds then, so
//! nothing typed before is lost (text, choices, and so focus and caret,
//! since the elements are kept), and the key a submit before then already
//! sent, so the app's own send of it is a replay.

use shared::forms::{IDEMPOTENCY_FIELD, PAGE_KEY_PREFIX, RETURN_TO_FIELD};
use shared::{FormAction, FormState};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use yew::prelude::*;

thread_local! {
    /// The app is taking a server-rendered page over (its first render).
    static HYDRATING: Cell<bool> = const { Cell::new(false) };
}

/// Marks the start and end of hydration: until the end, the forms read
/// their first values from the page's elements.
pub(crate) fn set_hydrating(on: bool) {
    HYDRATING.with(|h| h.set(on));
}

/// The page's form state, provided at the root of the app.
#[derive(Clone, PartialEq, Default)]
pub(crate) struct Forms(pub(crate) Rc<FormState>);

/// The state the page came with: read from the page in the browser.
pub(crate) fn embedded() -> Forms {
    let text = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(shared::FORMS_ELEMENT_ID))
        .and_then(|e| e.text_content());
    let state = text
        .and_then(|t| serde_json::from_str::<FormState>(&t).ok())
        .unwrap_or_default();
    Forms(Rc::new(state))
}

/// The page's form state.
#[hook]
pub(crate) fn use_forms() -> Rc<FormState> {
    use_context::<Forms>().unwrap_or_default().0
}

/// What the element `dom_id` holds now, while the app takes the page over
/// (never on the server, where nothing hydrates).
fn live_value(dom_id: &str) -> Option<String> {
    use wasm_bindgen::JsCast;
    if !HYDRATING.with(Cell::get) {
        return None;
    }
    let element = web_sys::window()?.document()?.get_element_by_id(dom_id)?;
    if let Some(input) = element.dyn_ref::<web_sys::HtmlInputElement>() {
        return Some(input.value());
    }
    if let Some(area) = element.dyn_ref::<web_sys::HtmlTextAreaElement>() {
        return Some(area.value());
    }
    element
        .dyn_ref::<web_sys::HtmlSelectElement>()
        .map(web_sys::HtmlSelectElement::value)
}

/// A field's value: while the app takes a server-rendered page over, what
/// the element holds (typed before the app ran); else what the refused post
/// of this form held; else `initial`.
#[hook]
pub(crate) fn use_field<F>(
    form: &'static str,
    name: &'static str,
    dom_id: &'static str,
    initial: F,
) -> UseStateHandle<String>
where
    F: FnOnce() -> String,
{
    let forms = use_forms();
    use_state(move || {
        live_value(dom_id)
            .or_else(|| forms.value(form, name).map(str::to_owned))
            .unwrap_or_else(initial)
    })
}

/// Keeps `field` equal to what is typed into its element.
pub(crate) fn on_text(field: &UseStateHandle<String>) -> Callback<InputEvent> {
    let field = field.clone();
    Callback::from(move |e: InputEvent| field.set(crate::pages::input_value(&e)))
}

/// The key a submit of the form `form_id` sent before the app took the page
/// over (the page's script gives each native submit a random one), for the
/// app's first send of that form: the server then applies one of the two.
/// Taken by that send.
#[hook]
pub(crate) fn use_sent_key(form_id: &'static str) -> Rc<RefCell<Option<String>>> {
    use_mut_ref(move || sent_key(form_id))
}

fn sent_key(form_id: &str) -> Option<String> {
    use wasm_bindgen::JsCast;
    if !HYDRATING.with(Cell::get) {
        return None;
    }
    let form = web_sys::window()?
        .document()?
        .get_element_by_id(form_id)?
        .dyn_into::<web_sys::HtmlFormElement>()
        .ok()?;
    let input = form
        .elements()
        .named_item(IDEMPOTENCY_FIELD)?
        .dyn_into::<web_sys::HtmlInputElement>()
        .ok()?;
    let key = input.value();
    (!key.is_empty() && !key.starts_with(PAGE_KEY_PREFIX)).then_some(key)
}

/// Props of [`FormFields`].
#[derive(Properties, PartialEq)]
pub(crate) struct FormFieldsProps {
    /// The page a post of the form returns to, when it shows on several.
    #[prop_or_default]
    pub(crate) return_to: Option<AttrValue>,
}

/// The hidden fields every form posts: the page's idempotency key, and the
/// page to return to.
#[function_component]
pub(crate) fn FormFields(props: &FormFieldsProps) -> Html {
    let forms = use_forms();
    html! {
        <>
            <input type="hidden" name={IDEMPOTENCY_FIELD} value={forms.nonce.clone()} />
            if let Some(to) = &props.return_to {
                <input type="hidden" name={RETURN_TO_FIELD} value={to.clone()} />
            }
        </>
    }
}

/// The refusal of `action`'s form this page answers, while `shown`.
pub(crate) fn refusal(
    forms: &FormState,
    action: &FormAction,
    shown: bool,
) -> Option<shared::RefusedForm> {
    forms.refused_of(action.form()).filter(|_| shown).cloned()
}

/// A refused field's message (`id` `{dom_id}-error`), if any.
pub(crate) fn field_error(refused: &Option<shared::RefusedForm>, name: &str, dom_id: &str) -> Html {
    match refused.as_ref().and_then(|r| r.errors.get(name)) {
        Some(message) => html! {
            <p class="field-error" id={format!("{dom_id}-error")} role="alert">{ message.clone() }</p>
        },
        None => html! {},
    }
}

/// A refused form's message beyond its fields, if any.
pub(crate) fn form_message(refused: &Option<shared::RefusedForm>, id: &str) -> Html {
    match refused.as_ref().and_then(|r| r.message.clone()) {
        Some(message) => html! { <p class="error" id={id.to_owned()} role="alert">{ message }</p> },
        None => html! {},
    }
}

/// The field that had focus (and its selection) when the app began to take
/// the page over.
struct Focus {
    id: String,
    selection: Option<(u32, u32)>,
}

thread_local! {
    static FOCUS: RefCell<Option<Focus>> = const { RefCell::new(None) };
}

/// Notes which field has focus, and where its caret is, before hydration.
pub(crate) fn remember_focus() {
    use wasm_bindgen::JsCast;
    let Some(active) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element())
    else {
        return;
    };
    let id = active.id();
    if id.is_empty() {
        return;
    }
    let selection = if let Some(input) = active.dyn_ref::<web_sys::HtmlInputElement>() {
        input
            .selection_start()
            .ok()
            .flatten()
            .zip(input.selection_end().ok().flatten())
    } else if let Some(area) = active.dyn_ref::<web_sys::HtmlTextAreaElement>() {
        area.selection_start()
            .ok()
            .flatten()
            .zip(area.selection_end().ok().flatten())
    } else {
        None
    };
    FOCUS.with(|f| *f.borrow_mut() = Some(Focus { id, selection }));
}

/// Gives focus and caret back to the field that had them before hydration,
/// once hydration has replaced its element (Yew hydrates a `Suspense`'s
/// content into copies of the server's nodes, which keep values but not
/// focus, and swaps them in a little after the first render). Watches for
/// up to a second; gives up as soon as the person focuses something else.
pub(crate) fn restore_focus() {
    let Some(focus) = FOCUS.with(|f| f.borrow_mut().take()) else {
        return;
    };
    wasm_bindgen_futures::spawn_local(async move {
        for _ in 0..50 {
            match try_restore(&focus) {
                Restore::Wait => gloo_timers::future::TimeoutFuture::new(20).await,
                Restore::Done => return,
            }
        }
    });
}

enum Restore {
    Wait,
    Done,
}

fn try_restore(focus: &Focus) -> Restore {
    use wasm_bindgen::JsCast;
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return Restore::Done;
    };
    let active = document.active_element();
    let body = document.body();
    let nothing_focused = match (&active, &body) {
        (None, _) => true,
        (Some(a), Some(b)) => a.is_same_node(Some(b)),
        _ => false,
    };
    if !nothing_focused {
        // Still the original element (not swapped yet), or the person's
        // own choice since.
        let original = active.is_some_and(|a| a.id() == focus.id);
        return if original {
            Restore::Wait
        } else {
            Restore::Done
        };
    }
    let Some(element) = document.get_element_by_id(&focus.id) else {
        return Restore::Wait;
    };
    let Some(html) = element.dyn_ref::<web_sys::HtmlElement>() else {
        return Restore::Done;
    };
    let _ = html.focus();
    if let Some((start, end)) = focus.selection {
        if let Some(input) = element.dyn_ref::<web_sys::HtmlInputElement>() {
            let _ = input.set_selection_range(start, end);
        } else if let Some(area) = element.dyn_ref::<web_sys::HtmlTextAreaElement>() {
            let _ = area.set_selection_range(start, end);
        }
    }
    Restore::Done
}
