//! Rendered pages, reused until the data may have changed.

use shared::Route;
use std::collections::HashMap;
use std::sync::Arc;

/// A rendered page and the data version it was rendered from.
pub struct Rendered {
    pub status: u16,
    pub html: actix_web::web::Bytes,
    /// Compressed once when rendered (quality 5: ~1 ms for a page), so a
    /// reused page is sent as is.
    pub brotli: Option<actix_web::web::Bytes>,
    pub version: (u64, i64),
    pub rendered_at: std::time::Instant,
    /// A strong entity tag of `html` (see `crate::reuse`).
    pub etag: String,
    /// The same, as the header value sent.
    pub etag_header: actix_web::http::header::HeaderValue,
}

/// Rendered pages by route, reused until the data may have changed (see
/// `EventHub::data_version`): a page costs its loader queries, two JSON
/// passes and escaping, which dominate its cost; most requests between two
/// writes can skip all of it. Unknown paths are not cached (unbounded).
#[derive(Default)]
pub struct PageCache {
    pages: std::sync::Mutex<HashMap<Route, Arc<Rendered>>>,
}

/// Enough distinct pages for the demo's routes; beyond it the cache restarts.
const PAGE_CACHE_MAX: usize = 4096;
/// The embedded data carries its render time; re-rendering at least this
/// often keeps it well inside the client's stale time (5 min), so a first
/// load never refetches what the page brought.
const PAGE_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(30);

impl PageCache {
    /// The cached page of `route`, if rendered from data version `version`.
    pub fn get(&self, route: Route, version: (u64, i64)) -> Option<Arc<Rendered>> {
        let pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
        pages
            .get(&route)
            .filter(|r| r.version == version && r.rendered_at.elapsed() < PAGE_CACHE_TTL)
            .cloned()
    }

    /// Remembers a page.
    pub fn put(&self, route: Route, page: Arc<Rendered>) {
        let mut pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
        if pages.len() >= PAGE_CACHE_MAX {
            pages.clear();
        }
        pages.insert(route, page);
    }
}
