//! The browser end-to-end suite (issue 4): the real Trunk build served by the
//! real backend on its own SQLite file, driven in headless Chromium through
//! chromedriver. One module per scenario; each test starts its own backend,
//! chromedriver and browser profile, so tests share nothing.
//!
//! The suite also refreshes the README's screenshots in `docs/screenshots/`.

mod helpers;

mod accessibility;
mod accounts;
mod add_post;
mod authors;
mod awaited_navigation;
mod comments;
mod deferred;
mod delete_post;
mod deploy;
mod devtools;
mod first_load;
mod first_load_metrics;
mod first_paint_metrics;
mod forms;
mod live_transports;
mod live_users;
mod misc_pages;
mod navigation;
mod offline;
mod paging;
mod prefetch;
mod revalidation;
mod server_render;
mod transitions;
mod workflows;
