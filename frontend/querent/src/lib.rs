//! # querent
//!
//! Asynchronous server state for Rust single-page apps, modelled on TanStack
//! Query v5: a cache of queries with in-flight de-duplication, structural
//! sharing, staleness, retries with backoff, refetch on focus / reconnect /
//! interval, garbage collection, hydration from server-embedded state,
//! mutations that persist and replay exactly once, and metrics.
//!
//! Typed end to end ([`typed`]): a query's key knows the type of its data,
//! and a mutation is one definition (its variables, result, call and cache
//! effects). Underneath, the cache keeps JSON under a canonical key, which
//! is what hydration, persistence and the devtools read.
//!
//! The core knows nothing of Yew or the browser: time, timers and task
//! spawning come from a [`Platform`], and focus and connectivity are told to
//! the [`QueryClient`]. That is what lets every behaviour be tested natively
//! with a fake clock (see the `test-util` feature).
//!
//! ```
//! use querent::QueryClient;
//! use querent::typed::Key;
//! # let (platform, mut runner) = querent::testing::FakePlatform::new();
//! let client = QueryClient::new(platform);
//! let title = Key::<String>::new(&("title", 1));
//! client.set_data(&title, &"Hello".to_owned());
//! assert_eq!(client.data(&title).unwrap(), "Hello");
//! # runner.run_until_stalled();
//! ```

#![warn(missing_docs)]

pub mod abort;
pub mod async_persist;
pub mod broadcast;
pub mod client;
#[cfg(feature = "yew")]
pub mod devtools;
mod environment;
pub mod error;
mod fetch;
pub mod filters;
pub mod hydration;
#[cfg(feature = "web")]
pub mod idb;
mod infinite;
pub mod json;
pub mod key;
pub mod metrics;
pub mod mutation;
mod mutation_cache;
pub mod mutation_observer;
pub mod observer;
pub mod options;
pub mod persist;
pub mod platform;
pub mod queries_observer;
pub mod query;
mod query_cache;
pub mod query_persister;
pub mod render;
pub mod retryer;
pub mod select;
mod signal;
mod sort;
pub mod ssr;
#[cfg(feature = "test-util")]
pub mod testing;
pub mod trigger;
pub mod typed;
#[cfg(feature = "web")]
pub mod web;
#[cfg(feature = "yew")]
pub mod yew;

// The README's examples run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;

pub use abort::AbortSignal;
pub use client::QueryClient;
pub use error::{ErrorKind, QueryError};
pub use hydration::{DehydratedQuery, DehydratedState};
pub use key::QueryKey;
pub use metrics::Metrics;
pub use mutation::{
    MutateOptions, MutationConfig, MutationDefaults, MutationJournal, MutationRecord,
    MutationStatus,
};
pub use mutation_observer::{MutationObserver, MutationObserverResult};
pub use observer::{QueryObserver, QueryObserverResult, ResultProp};
pub use options::{Fetcher, QueryDefaults, QueryOptions, RetryPredicate};
pub use platform::Platform;
pub use queries_observer::QueriesObserver;
pub use query::{FetchStatus, QueryState, QueryStatus};
pub use select::{SelectObserver, Selector};
