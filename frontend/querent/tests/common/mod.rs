//! A scripted fake server for the core's tests.

#![allow(dead_code, unreachable_pub)]

use querent::testing::{FakePlatform, Runner};
use querent::{Fetcher, QueryClient, QueryError, QueryKey};
use serde_json::{Value, json};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

pub fn key(parts: Value) -> QueryKey {
    serde_json::from_value(parts).expect("a JSON array")
}

/// Answers each call with the next scripted result after `latency_ms`, and
/// records what was asked.
#[derive(Clone)]
pub struct Server {
    pub platform: FakePlatform,
    script: Rc<RefCell<VecDeque<Result<Value, QueryError>>>>,
    pub calls: Rc<RefCell<Vec<(QueryKey, Value, i64)>>>,
    pub latency_ms: u64,
}

impl Server {
    pub fn new(platform: &FakePlatform) -> Self {
        Self {
            platform: platform.clone(),
            script: Rc::default(),
            calls: Rc::default(),
            latency_ms: 100,
        }
    }

    pub fn respond(&self, result: Result<Value, QueryError>) -> &Self {
        self.script.borrow_mut().push_back(result);
        self
    }

    pub fn calls(&self) -> usize {
        self.calls.borrow().len()
    }

    pub fn call_times(&self) -> Vec<i64> {
        self.calls.borrow().iter().map(|c| c.2).collect()
    }

    pub fn fetcher(&self) -> Fetcher {
        let server = self.clone();
        Rc::new(move |ctx| {
            let server = server.clone();
            Box::pin(async move {
                use querent::Platform;
                let now = server.platform.now_ms();
                server
                    .calls
                    .borrow_mut()
                    .push((ctx.key.clone(), ctx.page_param.clone(), now));
                server.platform.sleep(server.latency_ms).await;
                server
                    .script
                    .borrow_mut()
                    .pop_front()
                    .unwrap_or_else(|| Ok(json!({"call": server.calls.borrow().len()})))
            })
        })
    }
}

/// The defaults these scenarios were written against (and the app sets,
/// as TanStack's walkthrough does): fresh 5 min, kept 30 min, 3 retries for
/// every fetch (`fetch_query` too). querent's own are TanStack's (0, 5 min,
/// no retry for imperative fetches); `tests/tanstack_*.rs` run on those.
pub fn app_defaults() -> querent::QueryOptions {
    querent::QueryOptions {
        stale_time: Some((5 * 60_000).into()),
        gc_time: Some(30 * 60_000),
        retry: Some(3),
        ..querent::QueryOptions::default()
    }
}

/// A client with [`app_defaults`], a scripted server, and the fake runtime.
pub fn setup() -> (QueryClient, Server, Runner) {
    let (platform, runner) = FakePlatform::new();
    let server = Server::new(&platform);
    (
        QueryClient::with_defaults(platform, app_defaults()),
        server,
        runner,
    )
}

pub fn server_error() -> QueryError {
    QueryError::http(500, "internal_error", "boom")
}

pub fn not_found() -> QueryError {
    QueryError::http(404, "not_found", "post not found")
}

/// A client with querent's own defaults (TanStack's), a scripted server
/// answering after 100 ms, and the fake runtime.
pub fn tanstack() -> (QueryClient, Server, Runner) {
    let (platform, runner) = FakePlatform::new();
    let server = Server::new(&platform);
    (QueryClient::new(platform), server, runner)
}

/// Default options with `f` applied.
pub fn with(f: impl FnOnce(&mut querent::QueryOptions)) -> querent::QueryOptions {
    let mut options = querent::QueryOptions::default();
    f(&mut options);
    options
}

/// A mutation as a reload finds it persisted: paused, never tried, id 1.
pub fn paused_record(
    mutation_key: &str,
    variables: Value,
    idempotency_key: &str,
) -> querent::MutationRecord {
    querent::MutationRecord {
        id: 1,
        mutation_key: mutation_key.to_owned(),
        variables,
        idempotency_key: idempotency_key.to_owned(),
        scope: None,
        status: querent::MutationStatus::Paused,
        submitted_at: 0,
        failure_count: 0,
        data: None,
        error: None,
    }
}
