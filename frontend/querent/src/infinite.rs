//! Infinite queries (TanStack's `infiniteQueryBehavior`): data of the form
//! `{"pages": [...], "page_params": [...]}`, fetched a page at a time in
//! either direction. `get_next_page_param` gives the parameter of the page
//! after the last, `get_previous_page_param` the one before the first
//! (`None` or `null`: there is none); `max_pages` bounds how many are kept.

use crate::error::QueryError;
use crate::options::{Direction, FetchContext, Fetcher, PageParam};
use crate::query_cache::Mode;
use serde_json::{Value, json};

/// How an infinite query pages (from its resolved options).
#[derive(Clone)]
pub(crate) struct Paging {
    pub(crate) next: PageParam,
    pub(crate) previous: Option<PageParam>,
    pub(crate) initial: Value,
    pub(crate) max_pages: Option<usize>,
    pub(crate) pages: Option<usize>,
}

impl Paging {
    /// The parameter of the page after the last (`backward`: before the
    /// first), TanStack's `getNextPageParam` / `getPreviousPageParam`;
    /// none without pages, and `None` or `null` name none.
    fn beyond(&self, backward: bool, pages: &[Value], params: &[Value]) -> Option<Value> {
        let (get, edge) = if backward {
            (self.previous.as_ref()?, 0)
        } else {
            (&self.next, pages.len().checked_sub(1)?)
        };
        let param = params.get(edge).unwrap_or(&Value::Null);
        get(pages.get(edge)?, pages, param, params).filter(|p| !p.is_null())
    }

    /// Adds a page at the end (`at_start`: the start), dropping one from
    /// the other end past `max_pages` (TanStack's `addToEnd` / `addToStart`).
    fn add(&self, list: &mut Vec<Value>, item: Value, at_start: bool) {
        let max = self.max_pages.filter(|max| *max > 0).unwrap_or(usize::MAX);
        if at_start {
            list.insert(0, item);
            list.truncate(max);
        } else {
            list.push(item);
            if list.len() > max {
                list.remove(0);
            }
        }
    }
}

/// The pages and their parameters in `data` (empty when it has none).
fn lists(data: Option<&Value>) -> (&[Value], &[Value]) {
    let list = |field: &str| {
        data.and_then(|d| d[field].as_array())
            .map_or(&[][..], Vec::as_slice)
    };
    (list("pages"), list("page_params"))
}

/// Whether there is a page after the last loaded one (`backward`: before
/// the first; TanStack's `hasNextPage` / `hasPreviousPage`).
pub(crate) fn has_page(data: Option<&Value>, paging: &Paging, backward: bool) -> bool {
    let (pages, params) = lists(data);
    paging.beyond(backward, pages, params).is_some()
}

/// An infinite query's fetch. `NextPage` / `PreviousPage` add one page at
/// that end (nothing when there is no such page); a refetch reloads every
/// loaded page (or `pages` of them) in order from the first one's parameter, each next
/// parameter computed from the freshly fetched pages (so an insert at the
/// head never duplicates or skips items), stopping where there is no next.
pub(crate) async fn fetch(
    context: &dyn Fn(Value, Direction) -> FetchContext,
    fetcher: &Fetcher,
    paging: &Paging,
    mode: Mode,
    current: Option<&Value>,
) -> Result<Value, QueryError> {
    let (pages, params) = lists(current);
    let (mut pages, mut params) = (pages.to_vec(), params.to_vec());
    let page = |param: Value, direction| fetcher(context(param, direction));
    let direction = match mode {
        Mode::NextPage => Some(Direction::Forward),
        Mode::PreviousPage => Some(Direction::Backward),
        Mode::Refetch => None,
    };
    if let Some(direction) = direction.filter(|_| !pages.is_empty()) {
        let backward = direction == Direction::Backward;
        let Some(param) = paging.beyond(backward, &pages, &params) else {
            // No page that way: the data stays as it is.
            return Ok(current.cloned().unwrap_or(Value::Null));
        };
        let fetched = page(param.clone(), direction).await?;
        paging.add(&mut pages, fetched, backward);
        paging.add(&mut params, param, backward);
        return Ok(json!({"pages": pages, "page_params": params}));
    }
    let want = paging.pages.unwrap_or(pages.len()).max(1);
    let mut param = params
        .first()
        .filter(|p| !p.is_null())
        .cloned()
        .unwrap_or_else(|| paging.initial.clone());
    let (mut fresh, mut fresh_params) = (Vec::new(), Vec::new());
    for fetched_so_far in 1.. {
        let fetched = page(param.clone(), Direction::Forward).await?;
        paging.add(&mut fresh, fetched, false);
        paging.add(&mut fresh_params, param, false);
        if fetched_so_far >= want {
            break;
        }
        match paging.beyond(false, &fresh, &fresh_params) {
            Some(next) => param = next,
            None => break,
        }
    }
    Ok(json!({"pages": fresh, "page_params": fresh_params}))
}
