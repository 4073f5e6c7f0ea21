//! A platform for rendering on the server (Yew's `ssr`): a query client
//! seeded from the same dehydrated state the page embeds, read synchronously
//! by the hooks, with no timers and no background work.
//!
//! - The clock stands still at the render's time, so staleness is judged as
//!   of the render.
//! - `sleep` never ends and `spawn` runs nothing: gc, intervals and retry
//!   backoff cannot keep a render alive. A fetch a render awaits itself (a
//!   suspense query whose data is missing) is driven by that await alone.
//!   Give the client `retry: Some(0)` and fetchers that fail at once on the
//!   server, and such a render ends with the query's error instead of
//!   waiting for the network.
//!
//! ```
//! use querent::render::RenderPlatform;
//! use querent::{QueryClient, QueryKey, QueryOptions};
//! use serde_json::json;
//! let client = QueryClient::with_defaults(
//!     RenderPlatform::at(1_700_000_000_000),
//!     QueryOptions { retry: Some(0), stale_time: Some(60_000.into()), ..QueryOptions::default() },
//! );
//! let key = QueryKey::from(vec![json!("post"), json!(1)]);
//! client.set_query_data_at(&key, |_| Some(json!({"title": "hi"})), 1_700_000_000_000);
//! assert!(!client.is_stale(&key));
//! ```

use crate::platform::Platform;
use futures::future::LocalBoxFuture;
use std::cell::Cell;

/// The server-render platform (see the module docs).
#[derive(Debug)]
pub struct RenderPlatform {
    now_ms: i64,
    draws: Cell<u64>,
}

impl RenderPlatform {
    /// A platform whose clock reads `now_ms` for the whole render.
    pub fn at(now_ms: i64) -> Self {
        Self {
            now_ms,
            draws: Cell::new(0),
        }
    }
}

impl Platform for RenderPlatform {
    fn now_ms(&self) -> i64 {
        self.now_ms
    }

    fn spawn(&self, task: LocalBoxFuture<'static, ()>) {
        // Nothing runs in the background of a render.
        drop(task);
    }

    fn sleep(&self, _ms: u64) -> LocalBoxFuture<'static, ()> {
        Box::pin(futures::future::pending())
    }

    fn random_u64(&self) -> u64 {
        // Idempotency keys are never made during a render; distinct is enough.
        let n = self.draws.get().wrapping_add(1);
        self.draws.set(n);
        n
    }

    fn warn(&self, message: &str) {
        eprintln!("querent (server render): {message}");
    }
}
