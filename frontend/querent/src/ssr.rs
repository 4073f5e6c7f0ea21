//! The server-rendering wire protocol, in one place: how a server puts a
//! page's query state into its HTML, marks the body it rendered, and
//! streams the state of the page's slow queries after it; and (feature
//! `web`) how the browser reads them back.
//!
//! A page from the server carries:
//! - in its head, `<script type="application/json" id="__QUERY_STATE__">`
//!   holding the [`DehydratedState`] ([`STATE_ELEMENT_ID`],
//!   [`escape_json_for_html`]); its `pending` keys are queries still
//!   loading when the page was written;
//! - `<body data-ssr="/posts/3">` when the body holds the server's HTML of
//!   that path ([`SSR_PATH_ATTRIBUTE`]): the browser hydrates it there;
//! - for a page with pending queries, `<template id="__BODY_END__">` last in
//!   its body ([`BODY_END_ID`]): the app starts before the document ends
//!   and hydrates once the body is whole; then, after `</body>`, once those
//!   queries settled, `<!--querent-stream:{…}-->`, a further
//!   [`DehydratedState`] with their results ([`STREAMED_STATE_PREFIX`],
//!   [`streamed_state_comment`]). A comment there is a child of `<html>`,
//!   outside the body the app hydrates, and is parsed whole or not at all.
//!
//! [`crate::hydration::hydrate_streamed`] adopts the page's state with its
//! pending queries; [`web`] finds both states in the document.

use crate::hydration::DehydratedState;

/// `id` of the `<script type="application/json">` element holding the
/// page's state.
pub const STATE_ELEMENT_ID: &str = "__QUERY_STATE__";

/// The start of the comment that carries the streamed state:
/// `<!--querent-stream:{…}-->`, after `</body>`.
pub const STREAMED_STATE_PREFIX: &str = "querent-stream:";

/// The attribute of `<body>` naming the path whose server HTML it holds.
pub const SSR_PATH_ATTRIBUTE: &str = "data-ssr";

/// The `id` of the element a streamed page puts last in its body.
pub const BODY_END_ID: &str = "__BODY_END__";

/// JSON made safe inside a `<script>` element or an HTML comment: `<`,
/// `>`, `&`, U+2028 and U+2029 become `\u` escapes, so the text holds no
/// markup (nor `-->`) and is still the same JSON.
///
/// ```
/// let json = serde_json::to_string("</script><!--").unwrap();
/// let safe = querent::ssr::escape_json_for_html(&json);
/// assert!(!safe.contains('<') && !safe.contains('>'));
/// assert_eq!(serde_json::from_str::<String>(&safe).unwrap(), "</script><!--");
/// ```
pub fn escape_json_for_html(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + 16);
    for ch in json.chars() {
        match ch {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// The state as escaped JSON.
fn state_element_text(state: &DehydratedState) -> String {
    escape_json_for_html(&serde_json::to_string(state).unwrap_or_else(|_| "{}".into()))
}

/// The comment that carries the streamed `state`, to send after `</body>`.
///
/// ```
/// use querent::hydration::DehydratedState;
/// let comment = querent::ssr::streamed_state_comment(&DehydratedState::default());
/// assert!(comment.starts_with("<!--querent-stream:{") && comment.ends_with("}-->"));
/// let text = &comment["<!--".len()..comment.len() - "-->".len()];
/// assert_eq!(querent::ssr::parse_streamed_comment(text).unwrap().unwrap(), DehydratedState::default());
/// ```
pub fn streamed_state_comment(state: &DehydratedState) -> String {
    format!(
        "<!--{STREAMED_STATE_PREFIX}{}-->",
        state_element_text(state)
    )
}

/// The state in a comment's text, if it is the streamed-state comment.
pub fn parse_streamed_comment(text: &str) -> Option<Result<DehydratedState, serde_json::Error>> {
    let json = text.strip_prefix(STREAMED_STATE_PREFIX)?;
    Some(crate::json::parse(json))
}

/// The browser's side: reading the page's state, and the streamed state
/// once the document has ended.
#[cfg(feature = "web")]
pub mod web {
    use super::{BODY_END_ID, SSR_PATH_ATTRIBUTE, STATE_ELEMENT_ID};
    use crate::hydration::DehydratedState;
    use std::cell::RefCell;
    use wasm_bindgen::JsValue;
    use wasm_bindgen_futures::JsFuture;

    fn document() -> Option<web_sys::Document> {
        web_sys::window()?.document()
    }

    fn warn(what: &str, e: &serde_json::Error) {
        web_sys::console::warn_1(&format!("ignoring the {what}: {e}").into());
    }

    /// The page's state (the state element's JSON), if it has one that
    /// parses (one that does not is ignored, with a warning).
    pub fn embedded_state() -> Option<DehydratedState> {
        let text = document()?
            .get_element_by_id(STATE_ELEMENT_ID)?
            .text_content()?;
        crate::json::parse(&text)
            .inspect_err(|e| warn("embedded query state", e))
            .ok()
    }

    /// Whether the body holds the server's HTML of the current path (so
    /// the app hydrates it rather than rendering anew).
    pub fn is_server_rendered() -> bool {
        let Some(window) = web_sys::window() else {
            return false;
        };
        window
            .location()
            .pathname()
            .is_ok_and(|path| is_server_rendered_at(&path))
    }

    /// Whether the body holds the server's HTML of `url`: for an app whose
    /// server names a page by its canonical URL (search params included,
    /// so `?n=2` and `?n=3` are different pages), computed the same way
    /// from the browser's address.
    pub fn is_server_rendered_at(url: &str) -> bool {
        document()
            .and_then(|d| d.body())
            .and_then(|b| b.get_attribute(SSR_PATH_ATTRIBUTE))
            .is_some_and(|rendered| rendered == url)
    }

    /// Whether the body has been parsed to its end (the document has, or
    /// the streamed page's body-end marker is in).
    pub fn body_complete() -> bool {
        document().is_none_or(|d| {
            d.ready_state() != "loading" || d.get_element_by_id(BODY_END_ID).is_some()
        })
    }

    thread_local! {
        /// Resolved by [`first_render_done`].
        static FIRST_RENDER: RefCell<Option<(js_sys::Promise, js_sys::Function)>> =
            const { RefCell::new(None) };
    }

    fn first_render() -> (js_sys::Promise, js_sys::Function) {
        FIRST_RENDER.with(|cell| {
            cell.borrow_mut()
                .get_or_insert_with(|| {
                    let mut resolve = None;
                    let promise = js_sys::Promise::new(&mut |r, _| resolve = Some(r));
                    (promise, resolve.unwrap_or_else(js_sys::Function::default))
                })
                .clone()
        })
    }

    /// The page has been hydrated (or rendered): [`streamed_state`] may
    /// answer now (hydration must first find the server's fallbacks).
    pub fn first_render_done() {
        let (_, resolve) = first_render();
        let _ = resolve.call0(&JsValue::NULL);
    }

    /// Resolves once the whole document has been parsed (its stream ended).
    async fn document_parsed() {
        let Some(document) = document() else {
            return;
        };
        if document.ready_state() != "loading" {
            return;
        }
        let parsed = js_sys::Promise::new(&mut |resolve, _| {
            let _ = document.add_event_listener_with_callback("DOMContentLoaded", &resolve);
        });
        let _ = JsFuture::from(parsed).await;
    }

    /// The streamed state, once the first render is done and the document
    /// has ended: the streamed-state comment among `<html>`'s children
    /// (where the parser puts a comment after `</body>`); `None` when the
    /// server sent none. The future for
    /// [`crate::hydration::hydrate_streamed`].
    pub async fn streamed_state() -> Option<DehydratedState> {
        let _ = JsFuture::from(first_render().0).await;
        document_parsed().await;
        let nodes = document()?.document_element()?.child_nodes();
        (0..nodes.length())
            .filter_map(|i| nodes.item(i))
            .filter(|node| node.node_type() == web_sys::Node::COMMENT_NODE)
            .filter_map(|node| node.node_value())
            .find_map(|text| {
                super::parse_streamed_comment(&text)?
                    .inspect_err(|e| warn("streamed query state", e))
                    .ok()
            })
    }
}
