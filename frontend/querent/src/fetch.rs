//! The fetch path: reading through the cache, starting or joining a fetch,
//! running its attempts through the retryer, and applying its answer unless
//! it was cancelled or a write came after it started.

use crate::QueryClient;
use crate::abort::AbortSignal;
use crate::error::{ErrorKind, QueryError};
use crate::infinite;
use crate::infinite::Paging;
use crate::key::QueryKey;
use crate::options::{FetchContext, Fetcher, QueryOptions, Resolved};
use crate::query::Action;
use crate::query_cache::{Cancel, FetchResult, InFlight, Mode, SharedFetch};
use crate::retryer::{self, Progress, RetryPolicy};
use futures::future::{AbortHandle, Abortable, FutureExt, LocalBoxFuture};
use serde_json::Value;
use std::cell::Cell;
use std::rc::Rc;

impl QueryClient {
    /// Returns fresh cached data, or fetches (joining a fetch in flight).
    pub fn fetch_query(
        &self,
        key: &QueryKey,
        fetcher: Fetcher,
        options: QueryOptions,
    ) -> impl Future<Output = FetchResult> + 'static + use<> {
        self.read_through(key, fetcher, options, true)
    }

    /// Returns cached data even if stale (a route loader's "must be present
    /// before render"); fetches only when there is none.
    ///
    /// ```
    /// # use querent::{Fetcher, QueryClient, QueryKey, QueryOptions};
    /// # use serde_json::json;
    /// # use std::rc::Rc;
    /// # let (platform, mut runner) = querent::testing::FakePlatform::new();
    /// # let client = QueryClient::new(platform);
    /// let key = QueryKey::from(vec![json!("post"), json!(1)]);
    /// client.set_query_data(&key, |_| Some(json!("cached")));
    /// let never: Fetcher = Rc::new(|_| unreachable!("cached data is used"));
    /// let data = runner.block_on(client.ensure_query_data(&key, never, QueryOptions::default()));
    /// assert_eq!(*data.unwrap(), json!("cached"));
    /// ```
    pub fn ensure_query_data(
        &self,
        key: &QueryKey,
        fetcher: Fetcher,
        options: QueryOptions,
    ) -> impl Future<Output = FetchResult> + 'static + use<> {
        self.read_through(key, fetcher, options, false)
    }

    /// [`QueryClient::ensure_query_data`] with TanStack's
    /// `revalidateIfStale`: cached data is answered at once and, when
    /// stale, fetched again in the background (a route shows what it has
    /// while the newer data comes).
    ///
    /// ```
    /// # use querent::{Fetcher, QueryClient, QueryKey, QueryOptions};
    /// # use querent::options::EnsureQueryDataOptions;
    /// # use serde_json::json;
    /// # use std::rc::Rc;
    /// # let (platform, mut runner) = querent::testing::FakePlatform::new();
    /// # let client = QueryClient::new(platform);
    /// let key = QueryKey::from(vec![json!("post"), json!(1)]);
    /// client.set_query_data(&key, |_| Some(json!("old")));
    /// let fetcher: Fetcher = Rc::new(|_| Box::pin(async { Ok(json!("new")) }));
    /// let revalidate = EnsureQueryDataOptions { revalidate_if_stale: true };
    /// let now = client.ensure_query_data_with(&key, fetcher, QueryOptions::default(), revalidate);
    /// assert_eq!(*runner.block_on(now).unwrap(), json!("old"));
    /// runner.run_until_stalled();
    /// assert_eq!(*client.get_query_data(&key).unwrap(), json!("new"));
    /// ```
    pub fn ensure_query_data_with(
        &self,
        key: &QueryKey,
        fetcher: Fetcher,
        options: QueryOptions,
        ensure: crate::options::EnsureQueryDataOptions,
    ) -> impl Future<Output = FetchResult> + 'static + use<> {
        let had_data = self.get_query_data(key).is_some();
        let answer = self.read_through(key, fetcher, options, false);
        if ensure.revalidate_if_stale && had_data && self.is_stale(key) {
            drop(self.fetch(key, Mode::Refetch));
        }
        answer
    }

    /// The cached data (only if fresh, with `fresh_only`), else a fetch.
    fn read_through(
        &self,
        key: &QueryKey,
        fetcher: Fetcher,
        options: QueryOptions,
        fresh_only: bool,
    ) -> LocalBoxFuture<'static, FetchResult> {
        let options = self.imperative(options);
        self.register(key, Some(fetcher), Some(options));
        let cached = if fresh_only && self.is_stale(key) {
            None
        } else {
            self.get_query_data(key)
        };
        self.record_read(cached.is_some());
        match cached {
            Some(data) => Box::pin(futures::future::ready(Ok(data))),
            None => Box::pin(self.fetch(key, Mode::Refetch)),
        }
    }

    /// Starts fetching if the data is missing or stale; never fails and never
    /// needs awaiting (the fetch runs in the background either way).
    ///
    /// ```
    /// # use querent::{Fetcher, QueryClient, QueryKey, QueryOptions};
    /// # use serde_json::json;
    /// # use std::rc::Rc;
    /// # let (platform, mut runner) = querent::testing::FakePlatform::new();
    /// # let client = QueryClient::new(platform);
    /// let key = QueryKey::from(vec![json!("users")]);
    /// let fetcher: Fetcher = Rc::new(|_| Box::pin(async { Ok(json!([1, 2])) }));
    /// client.prefetch_query(&key, fetcher, QueryOptions::default());
    /// runner.run_until_stalled();
    /// assert_eq!(*client.get_query_data(&key).unwrap(), json!([1, 2]));
    /// ```
    pub fn prefetch_query(&self, key: &QueryKey, fetcher: Fetcher, options: QueryOptions) {
        let options = self.imperative(options);
        self.register(key, Some(fetcher), Some(options));
        let stale = self.is_stale(key);
        self.record_read(!stale);
        if stale {
            drop(self.fetch(key, Mode::Refetch));
        }
    }

    /// Fetches now with the query's registered fetcher, whatever its age,
    /// joining a fetch already in flight.
    pub fn refetch(&self, key: &QueryKey) -> impl Future<Output = FetchResult> + 'static + use<> {
        self.fetch(key, Mode::Refetch)
    }

    /// Infinite query: fetches and appends the next page (no-op when the last
    /// page has no next page parameter).
    pub fn fetch_next_page(
        &self,
        key: &QueryKey,
    ) -> impl Future<Output = FetchResult> + 'static + use<> {
        self.fetch(key, Mode::NextPage)
    }

    /// Infinite query: fetches and prepends the page before the first
    /// (no-op without `get_previous_page_param` or when it says there is
    /// none); past `max_pages` the last page is dropped.
    pub fn fetch_previous_page(
        &self,
        key: &QueryKey,
    ) -> impl Future<Output = FetchResult> + 'static + use<> {
        self.fetch(key, Mode::PreviousPage)
    }

    /// Infinite query, with its fetcher and options registered first (so it
    /// works on a query that only hydration or a restore put in the cache):
    /// fetches and appends the next page.
    pub fn fetch_next_page_with(
        &self,
        key: &QueryKey,
        fetcher: Fetcher,
        options: QueryOptions,
    ) -> impl Future<Output = FetchResult> + 'static + use<> {
        self.fetch_with(key, fetcher, options, Mode::NextPage)
    }

    /// [`QueryClient::fetch_previous_page`] with the fetcher and options
    /// registered first.
    pub fn fetch_previous_page_with(
        &self,
        key: &QueryKey,
        fetcher: Fetcher,
        options: QueryOptions,
    ) -> impl Future<Output = FetchResult> + 'static + use<> {
        self.fetch_with(key, fetcher, options, Mode::PreviousPage)
    }

    /// Fetches now with `fetcher` and `options` (registered for the key
    /// first), joining a fetch already in flight.
    pub fn refetch_with(
        &self,
        key: &QueryKey,
        fetcher: Fetcher,
        options: QueryOptions,
    ) -> impl Future<Output = FetchResult> + 'static + use<> {
        self.fetch_with(key, fetcher, options, Mode::Refetch)
    }

    fn fetch_with(
        &self,
        key: &QueryKey,
        fetcher: Fetcher,
        options: QueryOptions,
        mode: Mode,
    ) -> impl Future<Output = FetchResult> + 'static + use<> {
        self.register(key, Some(fetcher), Some(options));
        self.fetch(key, mode)
    }

    /// Infinite query: whether the last loaded page has a next page, by the
    /// options last registered for the key.
    pub fn has_next_page(&self, key: &QueryKey) -> bool {
        self.page_exists(key, &self.resolved(key), false)
    }

    /// Infinite query: whether the last loaded page has a next page for an
    /// observer with `options`. A hydrated or restored infinite query has
    /// its pages before any observer has registered how to page them; the
    /// observer's own `get_next_page_param` decides.
    pub fn has_next_page_with(&self, key: &QueryKey, options: &QueryOptions) -> bool {
        self.page_exists(key, &self.resolve(options), false)
    }

    /// Infinite query: whether there is a page before the first loaded one
    /// for an observer with `options`.
    pub fn has_previous_page_with(&self, key: &QueryKey, options: &QueryOptions) -> bool {
        self.page_exists(key, &self.resolve(options), true)
    }

    pub(crate) fn page_exists(&self, key: &QueryKey, options: &Resolved, backward: bool) -> bool {
        options.paging.as_ref().is_some_and(|paging| {
            infinite::has_page(self.get_query_data(key).as_deref(), paging, backward)
        })
    }

    /// Starts (or joins) a fetch. The fetch runs in the background whether
    /// or not the returned future is awaited.
    pub(crate) fn fetch(
        &self,
        key: &QueryKey,
        mode: Mode,
    ) -> impl Future<Output = FetchResult> + 'static + use<> {
        match self.cache().in_flight(key) {
            // In-flight de-duplication; a next-page request waits for a
            // running refetch rather than racing it. Joining it lets its
            // retries go on (they stop when the last observer leaves).
            Some((future, running)) if running == mode || mode == Mode::Refetch => {
                self.cache().continue_retry(key);
                future
            }
            Some((future, _)) => {
                let client = self.clone();
                let key = key.clone();
                async move {
                    let _ = future.await;
                    client.fetch(&key, mode).await
                }
                .boxed_local()
                .shared()
            }
            None => self.start_fetch(key, mode),
        }
    }

    /// Options for `fetch_query`, `prefetch_query` and `ensure_query_data`:
    /// as TanStack's `fetchQuery`, no retry unless the query's options or
    /// the client's defaults ask for one (an imperative fetch is awaited by
    /// code that handles its failure; observers retry).
    fn imperative(&self, mut options: QueryOptions) -> QueryOptions {
        if options.retry.is_none() && self.defaults().retry.is_none() {
            options.retry = Some(0);
        }
        options
    }

    /// Refetches, replacing a refetch in flight when the query has data
    /// (TanStack's `cancelRefetch`, the default of invalidation): what the
    /// old fetch was asked before the call is not what is wanted now. Those
    /// awaiting the old fetch get the new one's answer. Without data the
    /// fetch in flight is joined.
    pub(crate) fn refetch_cancelling(
        &self,
        key: &QueryKey,
    ) -> impl Future<Output = FetchResult> + 'static + use<> {
        if self.get_query_data(key).is_some()
            && let Some(flight) = self.cache().take_in_flight(key)
        {
            flight.cancel(Cancel::Silent);
        }
        self.fetch(key, Mode::Refetch)
    }

    fn start_fetch(&self, key: &QueryKey, mode: Mode) -> SharedFetch {
        let fetcher = self.cache().fetcher(key).or_else(|| {
            // A fetcher from the query defaults (set after the query was
            // registered, or for a key nobody registered); without one no
            // query is left behind.
            let fetcher = self.get_query_defaults(key).fetcher?;
            self.register(key, Some(Rc::clone(&fetcher)), None);
            Some(fetcher)
        });
        let Some(fetcher) = fetcher else {
            let error = QueryError::local(
                ErrorKind::Unregistered,
                format!("no fetcher is registered for {key}"),
            );
            return futures::future::ready(Err(error)).boxed_local().shared();
        };
        let options = self.resolved(key);
        let before = self.get_query_state(key).unwrap_or_default();
        let id = self.next_id();
        self.with_metrics(|m| m.fetches += 1);
        let paused = !options.network_mode.can_fetch(self.is_online());

        let (abort, registration) = AbortHandle::new_pair();
        let signal = AbortSignal::new();
        let retry_cancelled = Rc::new(Cell::new(false));
        let run = self.clone().run_fetch(
            key.clone(),
            id,
            fetcher,
            (options, Rc::clone(&retry_cancelled)),
            mode,
            signal.clone(),
        );
        let cancelled = Rc::new(Cell::new(Cancel::Not));
        let (client, settled_key, how) = (self.clone(), key.clone(), Rc::clone(&cancelled));
        let future: SharedFetch = Abortable::new(run, registration)
            .then(move |r| async move {
                let result = match r {
                    Ok(result) => result,
                    Err(_) => client.after_cancel(&settled_key, how.get()).await,
                };
                // As TanStack: every fetch, however it ended, schedules the
                // gc of an unobserved query (one that came due meanwhile
                // found it fetching and left it).
                if !client.cache().is_observed(&settled_key) {
                    client.schedule_gc(&settled_key);
                }
                result
            })
            .boxed_local()
            .shared();
        self.cache().begin(
            key,
            InFlight::new(
                id,
                future.clone(),
                (abort, signal),
                before,
                mode,
                (cancelled, retry_cancelled),
            ),
        );
        // Observers told of the fetch see it in flight (and what it does:
        // `is_fetching_next_page`); one that fetches now joins it.
        let more = match mode {
            Mode::Refetch => None,
            Mode::NextPage => Some(crate::options::Direction::Forward),
            Mode::PreviousPage => Some(crate::options::Direction::Backward),
        };
        self.dispatch(key, Action::Fetch { paused, more });
        // Drive it to completion even if nobody awaits it.
        let driver = future.clone();
        self.platform().spawn(Box::pin(async move {
            let _ = driver.await;
        }));
        future
    }

    /// Fetch `id` of `key`: its attempts, then its answer applied unless
    /// it was cancelled meanwhile or a write came after it started.
    async fn run_fetch(
        self,
        key: QueryKey,
        id: u64,
        fetcher: Fetcher,
        (options, retry_cancelled): (Resolved, Rc<Cell<bool>>),
        mode: Mode,
        signal: AbortSignal,
    ) -> FetchResult {
        let started = self.now();
        let mut policy = RetryPolicy::query(options.retry, Rc::clone(&options.retry_if));
        policy.retry_cancelled = retry_cancelled;
        policy.network_mode = options.network_mode;
        policy.retry_delay = options.retry_delay.clone();
        let paging = options.paging.clone();
        let result = self
            .attempts(&key, fetcher, &policy, (paging, options.meta), mode, signal)
            .await;
        let elapsed = self.now().saturating_sub(started).max(0) as u64;
        self.with_metrics(|m| m.record_settled(elapsed, result.is_err()));
        if !self.cache().is_current(&key, id) {
            // Cancelled or removed meanwhile: the result is not applied.
            return result.map(Rc::new);
        }
        if result.is_ok() && self.cache().superseded(&key, id) {
            return self.refetch_after_write(&key, id).await;
        }
        let at = self.now();
        let outcome = match result {
            Ok(data) => {
                let data = Rc::new(data);
                self.dispatch(&key, Action::Success { data, at });
                Ok(self.get_query_data(&key).unwrap_or_default())
            }
            Err(error) => {
                let action = Action::Error {
                    error: error.clone(),
                    at,
                };
                self.dispatch(&key, action);
                Err(error)
            }
        };
        self.cache().end(&key, id);
        self.query_settled(&key, &outcome);
        outcome
    }

    /// The client-wide query callbacks (TanStack's `QueryCache` config).
    fn query_settled(&self, key: &QueryKey, outcome: &FetchResult) {
        let config = self.query_cache_config().clone();
        match outcome {
            Ok(data) => {
                if let Some(f) = &config.on_success {
                    f(data, key);
                }
                if let Some(f) = &config.on_settled {
                    f(Some(data), None, key);
                }
            }
            Err(error) => {
                if let Some(f) = &config.on_error {
                    f(error, key);
                }
                if let Some(f) = &config.on_settled {
                    f(self.get_query_data(key).as_deref(), Some(error), key);
                }
            }
        }
    }

    /// What those awaiting a cancelled fetch get: a replaced fetch's
    /// successor's answer; else the data the query went back to (TanStack:
    /// a cancelled `fetch_query` resolves to the previous data), or a
    /// `Cancelled` error when there is none.
    fn after_cancel(&self, key: &QueryKey, how: Cancel) -> LocalBoxFuture<'static, FetchResult> {
        if how == Cancel::Silent
            && let Some((successor, _)) = self.cache().in_flight(key)
        {
            return Box::pin(successor);
        }
        let result = self.get_query_data(key).ok_or_else(|| {
            QueryError::local(
                ErrorKind::Cancelled,
                format!("the fetch of {key} was cancelled"),
            )
        });
        Box::pin(futures::future::ready(result))
    }

    /// Ends fetch `id` of `key` without applying its answer (a write came
    /// after it started): the query is stale, and fetched again if active.
    async fn refetch_after_write(&self, key: &QueryKey, id: u64) -> FetchResult {
        self.cache().end(key, id);
        self.dispatch(key, Action::Superseded);
        if self.is_active(key) {
            return self.fetch(key, Mode::Refetch).await;
        }
        self.get_query_data(key).ok_or_else(|| {
            QueryError::local(
                ErrorKind::Superseded,
                format!("{key} was written while it was fetched"),
            )
        })
    }

    /// Runs the fetcher through the retryer; the query's state follows
    /// (failures while retrying, paused while offline).
    async fn attempts(
        &self,
        key: &QueryKey,
        fetcher: Fetcher,
        policy: &RetryPolicy,
        (paging, meta): (Option<Paging>, Option<Rc<Value>>),
        mode: Mode,
        signal: AbortSignal,
    ) -> Result<Value, QueryError> {
        let current = self.get_query_data(key);
        // One signal for the fetch: every attempt and page shares it.
        let attempt = || {
            let signal = signal.clone();
            let how = (paging.clone(), meta.clone(), mode);
            self.attempt(key, &fetcher, how, current.clone(), signal)
        };
        let progress = |progress: Progress<'_>| match progress {
            Progress::Paused(_) => self.dispatch(key, Action::Pause),
            Progress::Resumed => self.dispatch(key, Action::Continue),
            Progress::Failed {
                error,
                retrying: true,
                ..
            } => self.dispatch(key, Action::Failed(error.clone())),
            Progress::Failed { .. } | Progress::Attempt => {}
        };
        let platform = self.platform();
        retryer::run(&*platform, self.environment(), policy, attempt, progress).await
    }

    /// One attempt: the fetcher (every page of an infinite query), with the
    /// revalidations it reports counted.
    fn attempt(
        &self,
        key: &QueryKey,
        fetcher: &Fetcher,
        (paging, meta, mode): (Option<Paging>, Option<Rc<Value>>, Mode),
        current: Option<Rc<Value>>,
        signal: AbortSignal,
    ) -> LocalBoxFuture<'static, Result<Value, QueryError>> {
        let (client, key, fetcher) = (self.clone(), key.clone(), Rc::clone(fetcher));
        Box::pin(async move {
            let revalidated = Rc::new(Cell::new((0, 0)));
            let context = |param, direction| {
                let signal = signal.clone();
                let mut context =
                    FetchContext::reporting(key.clone(), param, Rc::clone(&revalidated), signal);
                context.direction = direction;
                context.meta.clone_from(&meta);
                context
            };
            let result = match &paging {
                Some(paging) => {
                    infinite::fetch(&context, &fetcher, paging, mode, current.as_deref()).await
                }
                None => fetcher(context(Value::Null, Default::default())).await,
            };
            let (not_modified, bytes_saved) = revalidated.get();
            if not_modified > 0 {
                client.with_metrics(|m| {
                    m.not_modified += not_modified;
                    m.bytes_saved += bytes_saved;
                });
            }
            result
        })
    }
}
