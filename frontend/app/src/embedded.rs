//! Reading the query state the server embedded into `index.html`.
//!
//! The backend renders `<script type="application/json" id="__QUERY_STATE__">`
//! holding a [`DehydratedState`]; adopting it is what lets the first render
//! show data without asking the API again.

use serde::Deserialize;
use serde_json::Value;
use shared::{DehydratedState, InfiniteData, Page, Post, QueryKey, QueryState, STATE_ELEMENT_ID};

/// What the embedded state says about one query.
#[derive(Debug, Clone, PartialEq)]
pub enum Embedded<T> {
    /// The server resolved the query; use the data as is.
    Data(T),
    /// The server tried and failed; show the error instead of retrying at once.
    Failed(String),
    /// The state does not hold the query (or holds something unreadable).
    Missing,
}

/// The dehydrated state in the page, if there is a readable one of the
/// current format version.
pub fn read() -> Option<DehydratedState> {
    let text = web_sys::window()?
        .document()?
        .get_element_by_id(STATE_ELEMENT_ID)?
        .text_content()?;
    match parse(&text) {
        Ok(state) => Some(state),
        Err(reason) => {
            web_sys::console::warn_1(&format!("ignoring embedded query state: {reason}").into());
            None
        }
    }
}

/// Parses the embedded JSON, rejecting other format versions.
pub fn parse(text: &str) -> Result<DehydratedState, String> {
    let state: DehydratedState = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if state.version == DehydratedState::VERSION {
        Ok(state)
    } else {
        Err(format!(
            "format version {} (this build reads {})",
            state.version,
            DehydratedState::VERSION
        ))
    }
}

/// The posts of the `["posts"]` infinite query, all loaded pages in order.
pub fn posts(state: Option<&DehydratedState>) -> Embedded<Vec<Post>> {
    match state.and_then(|s| s.get(&QueryKey::Posts)) {
        Some(QueryState::Success { data, .. }) => match flatten_pages(data) {
            Ok(posts) => Embedded::Data(posts),
            Err(e) => {
                web_sys::console::warn_1(&format!("ignoring embedded posts: {e}").into());
                Embedded::Missing
            }
        },
        Some(QueryState::Error {
            error, http_status, ..
        }) => Embedded::Failed(format!("{} ({http_status})", error.error.message)),
        None => Embedded::Missing,
    }
}

fn flatten_pages(data: &Value) -> Result<Vec<Post>, serde_json::Error> {
    let data = InfiniteData::<Page<Post>>::deserialize(data)?;
    Ok(data.pages.into_iter().flat_map(|page| page.items).collect())
}
