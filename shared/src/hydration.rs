//! The shape of an infinite query's data, as querent holds it (the
//! dehydrated-state format itself, and the rest of the server-rendering
//! protocol, are querent's: `querent::hydration`, `querent::ssr`).

use serde::{Deserialize, Serialize};

/// Data of an infinite query: the pages fetched so far and the cursor each
/// page was fetched with (`None` for the first page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InfiniteData<T> {
    /// The pages, in order.
    pub pages: Vec<T>,
    /// The cursor used for each page.
    pub page_params: Vec<Option<String>>,
}

impl<T> InfiniteData<T> {
    /// The data of an infinite query that holds only its first page.
    pub fn first(page: T) -> Self {
        Self {
            pages: vec![page],
            page_params: vec![None],
        }
    }
}
