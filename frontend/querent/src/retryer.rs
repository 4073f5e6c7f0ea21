//! Retry schedule: exponential backoff, capped.

/// Delay before retry number `attempt` (0-based): `min(1000 * 2^attempt, 30000)` ms.
///
/// ```
/// use querent::retryer::backoff_ms;
/// assert_eq!([0, 1, 2, 5, 20].map(backoff_ms), [1000, 2000, 4000, 30000, 30000]);
/// ```
pub fn backoff_ms(attempt: u32) -> u64 {
    1000u64.saturating_mul(1u64 << attempt.min(31)).min(30_000)
}

/// The longest `Retry-After` honoured (ms): a server asking for more is
/// asked again after this long.
pub const MAX_RETRY_AFTER_MS: u64 = 30_000;

/// How many times a mutation is resent after a `Retry-After` (503 or 429)
/// before its error is final. Mutations send an idempotency key, so a resend
/// can never apply twice.
pub const RETRY_AFTER_ATTEMPTS: u32 = 3;
