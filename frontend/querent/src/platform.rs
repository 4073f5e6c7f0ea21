//! What the core needs from its environment, injected so it can run in a
//! browser, on a server, or under a fake clock in tests.

use futures::future::LocalBoxFuture;

/// Time, timers and task spawning.
///
/// The browser implementation uses `Date.now()`, `setTimeout` and
/// `spawn_local`; the test implementation (`testing::FakePlatform`) moves time
/// only when told to.
pub trait Platform {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
    /// Runs `task` to completion in the background.
    fn spawn(&self, task: LocalBoxFuture<'static, ()>);
    /// Completes after `ms` milliseconds.
    fn sleep(&self, ms: u64) -> LocalBoxFuture<'static, ()>;
    /// 64 random bits (idempotency keys; need not be cryptographic).
    fn random_u64(&self) -> u64;
    /// Reports something the user of the app should not have to see but an
    /// engineer should (corrupt storage, quota trouble).
    fn warn(&self, message: &str);
}
