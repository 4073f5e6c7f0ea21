//! Retrying: the schedule (exponential backoff, capped, optionally
//! jittered; [`Backoff`] is offered to an app's own loops, such as a
//! live-update stream reconnecting) and the one loop that runs the attempts
//! of queries and mutations alike, with the rules that tell them apart in
//! a [`RetryPolicy`].

use crate::environment::Environment;
use crate::error::{ErrorKind, QueryError};
use crate::options::{NetworkMode, RetryDelay, RetryPredicate};
use crate::platform::Platform;
use futures::future::LocalBoxFuture;
use std::cell::Cell;
use std::rc::Rc;

/// Exponential backoff: `base_ms * 2^attempt`, at most `max_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first delay.
    pub base_ms: u64,
    /// The longest delay.
    pub max_ms: u64,
}

impl Backoff {
    /// Queries' and mutations' schedule: 1 s doubling to 30 s.
    ///
    /// ```
    /// use querent::retryer::Backoff;
    /// let delays = [0, 1, 2, 5, 20].map(|n| Backoff::DEFAULT.delay_ms(n));
    /// assert_eq!(delays, [1000, 2000, 4000, 30000, 30000]);
    /// ```
    pub const DEFAULT: Backoff = Backoff {
        base_ms: 1000,
        max_ms: 30_000,
    };

    /// Delay before retry number `attempt` (0-based).
    ///
    /// ```
    /// use querent::retryer::Backoff;
    /// let fast = Backoff { base_ms: 500, max_ms: 4000 };
    /// assert_eq!([0, 1, 2, 3, 40].map(|n| fast.delay_ms(n)), [500, 1000, 2000, 4000, 4000]);
    /// ```
    pub fn delay_ms(self, attempt: u32) -> u64 {
        self.base_ms
            .saturating_mul(1u64 << attempt.min(31))
            .min(self.max_ms)
    }

    /// [`Backoff::delay_ms`] scaled into its upper half by `random` (in
    /// `0.0..1.0`), so many clients retrying after one outage spread out.
    ///
    /// ```
    /// use querent::retryer::Backoff;
    /// let b = Backoff { base_ms: 1000, max_ms: 30_000 };
    /// assert_eq!(b.jittered_ms(1, 0.0), 1000);
    /// assert_eq!(b.jittered_ms(1, 0.5), 1500);
    /// ```
    pub fn jittered_ms(self, attempt: u32, random: f64) -> u64 {
        let delay = self.delay_ms(attempt) as f64;
        (delay * (0.5 + random.clamp(0.0, 1.0) / 2.0)) as u64
    }
}

/// The longest `Retry-After` honoured (ms): a server asking for more is
/// asked again after this long.
pub const MAX_RETRY_AFTER_MS: u64 = 30_000;

/// How many times a mutation is resent after a `Retry-After` (503 or 429)
/// before its error is final. Mutations send an idempotency key, so a resend
/// can never apply twice.
pub const RETRY_AFTER_ATTEMPTS: u32 = 3;

/// How the attempts of one fetch or mutation are retried.
pub(crate) struct RetryPolicy {
    /// Retries after a failure that `retry_if` allows.
    pub(crate) retries: u32,
    /// Whether failure number `n` (1-based) may be retried.
    pub(crate) retry_if: RetryPredicate,
    /// A failure without an answer is retried without limit, pausing
    /// until the network is back (mutations: their idempotency key makes a
    /// resend safe, and a write acknowledged to the user is never dropped).
    pub(crate) network_unbounded: bool,
    /// An answer with `Retry-After` is resent this many times whatever
    /// `retries` says (mutations, again thanks to the idempotency key).
    pub(crate) busy_resends: u32,
    /// Retries also wait while the window is hidden (queries).
    pub(crate) wait_for_focus: bool,
    /// Set: no further retry; the attempt running is the last (TanStack's
    /// `cancelRetry`, when a query's last observer leaves a fetch that
    /// cannot be aborted). Cleared again by `continueRetry`.
    pub(crate) retry_cancelled: Rc<Cell<bool>>,
    /// Which attempts wait for the network.
    pub(crate) network_mode: NetworkMode,
    /// The wait before each retry, when not the default backoff.
    pub(crate) retry_delay: Option<RetryDelay>,
}

impl RetryPolicy {
    /// A query's: `retries` allowed by `retry_if`, waiting for focus.
    pub(crate) fn query(retries: u32, retry_if: RetryPredicate) -> Self {
        Self {
            retries,
            retry_if,
            network_unbounded: false,
            busy_resends: 0,
            wait_for_focus: true,
            retry_cancelled: Rc::default(),
            network_mode: NetworkMode::Online,
            retry_delay: None,
        }
    }

    /// A mutation's: `retries` of retryable server errors, network failures
    /// until they get an answer, `Retry-After` a bounded number of times.
    pub(crate) fn mutation(retries: u32) -> Self {
        Self {
            retries,
            retry_if: crate::options::retry_if_retryable(),
            network_unbounded: true,
            busy_resends: RETRY_AFTER_ATTEMPTS,
            wait_for_focus: false,
            retry_cancelled: Rc::default(),
            network_mode: NetworkMode::Online,
            retry_delay: None,
        }
    }

    /// The wait before the next attempt after failure number `failures`,
    /// or `None` to give up. `busy` counts the `Retry-After` resends.
    fn next_delay(&self, failures: u32, busy: &mut u32, error: &QueryError) -> Option<u64> {
        if self.retry_cancelled.get() {
            return None;
        }
        let backoff = match &self.retry_delay {
            Some(delay) => delay(failures - 1, error),
            None => Backoff::DEFAULT.delay_ms(failures - 1),
        };
        if self.network_unbounded && error.kind == ErrorKind::Network {
            return Some(backoff);
        }
        if let Some(ms) = error.retry_after_ms
            && *busy < self.busy_resends
        {
            *busy += 1;
            return Some(ms.min(MAX_RETRY_AFTER_MS));
        }
        if failures > self.retries || !(self.retry_if)(failures, error) {
            return None;
        }
        // A busy server's `Retry-After` replaces the backoff.
        Some(
            error
                .retry_after_ms
                .map_or(backoff, |ms| ms.min(MAX_RETRY_AFTER_MS)),
        )
    }
}

/// What the loop tells its owner (a query's state, a mutation's record).
pub(crate) enum Progress<'e> {
    /// An attempt starts.
    Attempt,
    /// Waiting for the network; with the failure that made it wait.
    Paused(Option<&'e QueryError>),
    /// The wait is over.
    Resumed,
    /// Attempt number `failures` failed; another follows if `retrying`.
    Failed {
        failures: u32,
        error: &'e QueryError,
        retrying: bool,
    },
}

/// Runs `attempt` until it succeeds or `policy` gives up, waiting for the
/// network before each attempt.
pub(crate) async fn run<T>(
    platform: &dyn Platform,
    environment: &Environment,
    policy: &RetryPolicy,
    mut attempt: impl FnMut() -> LocalBoxFuture<'static, Result<T, QueryError>>,
    mut progress: impl FnMut(Progress<'_>),
) -> Result<T, QueryError> {
    let mut failures = 0u32;
    let mut busy = 0u32;
    loop {
        // Online: every attempt waits for the network; offline-first: the
        // retries only; always: none.
        let waits = match policy.network_mode {
            NetworkMode::Online => true,
            NetworkMode::OfflineFirst => failures > 0,
            NetworkMode::Always => false,
        };
        if waits && !environment.is_online() {
            progress(Progress::Paused(None));
            environment.until_online().await;
            progress(Progress::Resumed);
        }
        progress(Progress::Attempt);
        let error = match attempt().await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        failures += 1;
        let delay = policy.next_delay(failures, &mut busy, &error);
        progress(Progress::Failed {
            failures,
            error: &error,
            retrying: delay.is_some(),
        });
        let Some(delay) = delay else {
            return Err(error);
        };
        if policy.network_unbounded && error.kind == ErrorKind::Network {
            // No answer: it may or may not have been applied. Wait for the
            // backoff or the network coming back, whichever is first.
            progress(Progress::Paused(Some(&error)));
            let back = Box::pin(environment.resumed());
            futures::future::select(platform.sleep(delay), back).await;
            continue;
        }
        platform.sleep(delay).await;
        if policy.retry_cancelled.get() {
            return Err(error);
        }
        if policy.wait_for_focus {
            // TanStack's `canContinue`: a retry needs the network unless
            // the mode is `Always` (offline-first too: only its first
            // attempt may run offline).
            let reachable =
                || policy.network_mode == NetworkMode::Always || environment.is_online();
            while !(reachable() && environment.is_focused()) {
                if !reachable() {
                    progress(Progress::Paused(None));
                }
                environment.resumed().await;
            }
            progress(Progress::Resumed);
            if policy.retry_cancelled.get() {
                return Err(error);
            }
        }
    }
}
