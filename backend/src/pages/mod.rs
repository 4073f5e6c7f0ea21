//! Prerendered pages and the SPA's static files, both served from memory.
//!
//! At start the server reads Trunk's `dist/` once: `index.html` becomes a
//! template split around `<title>` and `</head>`, every other file is kept as
//! bytes with its content type. Per request, the route's loader queries are
//! read from the database and embedded as JSON the SPA adopts without asking
//! the API. Serving from memory also sidesteps the Nagle stalls of file
//! responses (see docs/benchmarks.md).
//!
//! `assets` holds the static files, `template` the index page and how a page
//! is written into it, `cache` the rendered pages reused between writes, and
//! `loading` the state a page embeds.

mod assets;
mod cache;
mod loading;
mod template;

pub use assets::{Asset, brotli_bytes, gzip_bytes};
pub use cache::{PageCache, Rendered};
pub use loading::{Loaded, Prerendered, dehydrated_state, load_query, prerender};
pub use template::{Embedded, HTML_CONTENT_TYPE, Pages, escape_html, escape_json_for_html};
