//! Infinite queries: data of the form `{"pages": [...], "page_params": [...]}`,
//! fetched a page at a time. `next_page_param` computes the next page's
//! parameter from the last page (`None`: there is no next page).

use crate::error::QueryError;
use crate::options::{FetchContext, Fetcher, NextPageParam};
use crate::query_cache::Mode;
use serde_json::{Value, json};

/// Whether the last loaded page of `data` has a next page.
pub(crate) fn has_next_page(data: Option<&Value>, next: &NextPageParam) -> bool {
    data.and_then(|d| d["pages"].as_array().and_then(|p| p.last()))
        .is_some_and(|last| next(last).is_some())
}

/// An infinite query's fetch. `NextPage` appends one page; a refetch
/// reloads every loaded page in order, recomputing each page's parameter
/// from the freshly fetched page before it (so an insert at the head never
/// duplicates or skips items).
pub(crate) async fn fetch(
    context: &dyn Fn(Value) -> FetchContext,
    fetcher: &Fetcher,
    next: &NextPageParam,
    mode: Mode,
    current: Option<&Value>,
) -> Result<Value, QueryError> {
    let loaded = current
        .and_then(|c| c["pages"].as_array())
        .map_or(0, Vec::len);
    let page = |param: Value| fetcher(context(param));
    match (mode, current) {
        (Mode::NextPage, Some(current)) if loaded > 0 => {
            let mut pages = current["pages"].as_array().cloned().unwrap_or_default();
            let mut params = current["page_params"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let Some(param) = pages.last().and_then(|last| next(last)) else {
                return Ok(current.clone());
            };
            pages.push(page(param.clone()).await?);
            params.push(param);
            Ok(json!({"pages": pages, "page_params": params}))
        }
        _ => {
            let want = loaded.max(1);
            let mut pages = vec![page(Value::Null).await?];
            let mut params = vec![Value::Null];
            while pages.len() < want {
                let Some(param) = pages.last().and_then(|last| next(last)) else {
                    break;
                };
                pages.push(page(param.clone()).await?);
                params.push(param);
            }
            Ok(json!({"pages": pages, "page_params": params}))
        }
    }
}
