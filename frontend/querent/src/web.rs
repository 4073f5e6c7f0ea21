//! The browser platform (feature `web`).
