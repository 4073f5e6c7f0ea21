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
