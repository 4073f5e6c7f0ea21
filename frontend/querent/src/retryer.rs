//! Retry schedules: exponential backoff, capped, optionally jittered. One
//! type for the engine's queries and mutations and for an app's own loops
//! (a live-update stream reconnecting, a compensating request).

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

/// Delay before retry number `attempt` (0-based) of a query or mutation:
/// `min(1000 * 2^attempt, 30000)` ms.
///
/// ```
/// use querent::retryer::backoff_ms;
/// assert_eq!([0, 1, 2, 5, 20].map(backoff_ms), [1000, 2000, 4000, 30000, 30000]);
/// ```
pub fn backoff_ms(attempt: u32) -> u64 {
    Backoff::DEFAULT.delay_ms(attempt)
}

/// The longest `Retry-After` honoured (ms): a server asking for more is
/// asked again after this long.
pub const MAX_RETRY_AFTER_MS: u64 = 30_000;

/// How many times a mutation is resent after a `Retry-After` (503 or 429)
/// before its error is final. Mutations send an idempotency key, so a resend
/// can never apply twice.
pub const RETRY_AFTER_ATTEMPTS: u32 = 3;
