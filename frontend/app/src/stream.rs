//! The state a server streams after its page: a route's deferred queries.
//!
//! A page from the server lists them as `pending` in its embedded state and
//! sends their settled state later in the same response, as a comment after
//! `</body>` (`shared::STREAMED_STATE_PREFIX`). Each pending query starts
//! at once as a fetch that waits for that comment, so the page (its
//! fallback, hydrated from the server's HTML) and every hook that wants the
//! query join it instead of asking the API. The fetch settles only after
//! the first render (hydration must find the server's fallback), and asks
//! the API after all when the document ended without the state.

use crate::queries;
use querent::hydration::DehydratedState;
use querent::{Fetcher, QueryClient, QueryError};
use serde_json::Value;
use shared::STREAMED_STATE_PREFIX;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

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

/// The page has been hydrated (or rendered): streamed state may enter the
/// cache now.
pub(crate) fn first_render_done() {
    let (_, resolve) = first_render();
    let _ = resolve.call0(&JsValue::NULL);
}

/// Resolves once the whole document has been parsed (its stream ended).
async fn document_parsed() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
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

/// The streamed snapshot, if the document carries one: a comment child of
/// `<html>` (where the parser puts a comment after `</body>`).
fn streamed_snapshot() -> Option<DehydratedState> {
    let root = web_sys::window()?.document()?.document_element()?;
    let nodes = root.child_nodes();
    (0..nodes.length())
        .filter_map(|i| nodes.item(i))
        .filter(|node| node.node_type() == web_sys::Node::COMMENT_NODE)
        .filter_map(|node| node.node_value())
        .find_map(|text| {
            let json = text.strip_prefix(STREAMED_STATE_PREFIX)?;
            match querent::json::parse(json) {
                Ok(state) => Some(state),
                Err(e) => {
                    web_sys::console::warn_1(
                        &format!("ignoring the streamed query state: {e}").into(),
                    );
                    None
                }
            }
        })
}

/// `key`'s result in the streamed snapshot, once the page has rendered and
/// the document has ended; `None` when the server sent none for it.
async fn streamed(key: &querent::QueryKey) -> Option<Result<Value, QueryError>> {
    let _ = JsFuture::from(first_render().0).await;
    document_parsed().await;
    let query = streamed_snapshot()?
        .queries
        .into_iter()
        .find(|q| &q.key == key)?;
    Some(query.state.into_result().map(Rc::unwrap_or_clone))
}

/// Starts each of `pending` (keys of the embedded state) as a fetch that
/// adopts the server's streamed result, or asks the API where there is none.
pub(crate) fn adopt(client: &QueryClient, pending: Vec<querent::QueryKey>) {
    for key in pending {
        let Ok(shared_key) = shared::QueryKey::from_segments(key.segments()) else {
            continue;
        };
        let (_, api_fetcher, options) = queries::spec(shared_key);
        // The first call awaits the stream; a retry asks the API.
        let first = Rc::new(std::cell::Cell::new(true));
        let fetcher: Fetcher = Rc::new(move |ctx| {
            let api_fetcher = Rc::clone(&api_fetcher);
            let from_stream = first.replace(false);
            Box::pin(async move {
                if from_stream && let Some(result) = streamed(&ctx.key).await {
                    return result;
                }
                api_fetcher(ctx).await
            })
        });
        client.prefetch_query(&key, fetcher, options);
    }
}
