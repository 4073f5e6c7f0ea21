//! Per-client limits. Caps on live event streams (SSE and WebSocket), so one client cannot hold
//! the connections every other visitor needs: at most
//! `--max-streams-per-client` open streams per client address and
//! `--max-streams` in all; past either, a new stream is refused with 503
//! `too_many_streams` and `Retry-After` (the app's live connection backs
//! off and tries again), and nothing else changes.
//!
//! The client's address is the connection's peer, or, when the peer is one
//! of `--trusted-proxies`, the last address that proxy put in
//! `X-Forwarded-For` (what nginx's `$proxy_add_x_forwarded_for` appends).
//! Without that setting behind a proxy every visitor would be the proxy.

use actix_web::HttpRequest;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// How many streams are open, per client and in all.
#[derive(Debug)]
pub struct StreamLimits {
    per_client: usize,
    total: usize,
    trusted_proxies: Vec<IpAddr>,
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_client: HashMap<IpAddr, usize>,
}

/// One open stream: counted until dropped (with the stream).
#[derive(Debug)]
pub struct StreamPermit {
    limits: Arc<StreamLimits>,
    client: IpAddr,
}

impl StreamLimits {
    /// Limits of `per_client` streams per address and `total` in all.
    pub fn new(per_client: usize, total: usize, trusted_proxies: Vec<IpAddr>) -> Arc<Self> {
        Arc::new(Self {
            per_client,
            total,
            trusted_proxies,
            open: Mutex::default(),
        })
    }

    fn open(&self) -> std::sync::MutexGuard<'_, Open> {
        // The counts stay right even if a holder panicked: each change is
        // one statement.
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A permit for one more stream of `req`'s client, or `None` when it
    /// (or the server) has as many as allowed.
    pub fn acquire(self: &Arc<Self>, req: &HttpRequest) -> Option<StreamPermit> {
        let client = self.client_of(req);
        let mut open = self.open();
        let mine = open.by_client.get(&client).copied().unwrap_or(0);
        if mine >= self.per_client || open.total >= self.total {
            return None;
        }
        open.total += 1;
        open.by_client.insert(client, mine + 1);
        Some(StreamPermit {
            limits: Arc::clone(self),
            client,
        })
    }

    /// The streams open now (for the health report and tests).
    pub fn open_streams(&self) -> usize {
        self.open().total
    }

    /// The client's address (see the module's documentation).
    fn client_of(&self, req: &HttpRequest) -> IpAddr {
        client_address(req, &self.trusted_proxies)
    }
}

/// The client's address: the peer's, or behind one of `trusted_proxies`
/// the last address its `X-Forwarded-For` names.
pub fn client_address(req: &HttpRequest, trusted_proxies: &[IpAddr]) -> IpAddr {
    let peer = req
        .peer_addr()
        .map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip());
    if !trusted_proxies.contains(&peer) {
        return peer;
    }
    req.headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|last| last.trim().parse().ok())
        .unwrap_or(peer)
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut open = self.limits.open();
        open.total = open.total.saturating_sub(1);
        if let Some(count) = open.by_client.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                open.by_client.remove(&self.client);
            }
        }
    }
}

/// Writes per client address (`--writes-per-minute`): a token bucket per
/// address holding ten seconds' worth (at least 10) that refills at the
/// rate; a write finding it empty is refused with 429 `too_many_writes`
/// and `Retry-After` (the app's mutations wait that long and resend, with
/// the same idempotency key). Kept per instance: behind a load balancer
/// each instance allows the rate. 0: no limit.
#[derive(Debug)]
pub struct WriteLimits {
    per_minute: u32,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: std::time::Instant,
}

/// Addresses tracked before full buckets (the idle ones) are forgotten.
const MAX_TRACKED_WRITERS: usize = 10_000;

impl WriteLimits {
    /// `per_minute` writes per address (0: unlimited).
    pub fn new(per_minute: u32) -> Arc<Self> {
        Arc::new(Self {
            per_minute,
            buckets: Mutex::default(),
        })
    }

    fn capacity(&self) -> f64 {
        (f64::from(self.per_minute) / 6.0).max(10.0)
    }

    /// Takes one write for `client` at `now`, or the seconds until one is
    /// there.
    pub fn take(&self, client: IpAddr, now: std::time::Instant) -> Result<(), u64> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let (capacity, rate) = (self.capacity(), f64::from(self.per_minute) / 60.0);
        let refilled = |b: &Bucket| {
            let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
            (b.tokens + elapsed * rate).min(capacity)
        };
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() >= MAX_TRACKED_WRITERS && !buckets.contains_key(&client) {
            buckets.retain(|_, b| refilled(b) < capacity);
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let tokens = refilled(bucket);
        if tokens >= 1.0 {
            *bucket = Bucket {
                tokens: tokens - 1.0,
                at: now,
            };
            Ok(())
        } else {
            *bucket = Bucket { tokens, at: now };
            Err(((1.0 - tokens) / rate).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn a_burst_then_the_rate_per_address() {
        let limits = WriteLimits::new(60);
        let (a, b): (IpAddr, IpAddr) = (
            "198.51.100.1".parse().unwrap(),
            "198.51.100.2".parse().unwrap(),
        );
        let start = Instant::now();
        for _ in 0..10 {
            assert_eq!(limits.take(a, start), Ok(()));
        }
        assert_eq!(
            limits.take(a, start),
            Err(1),
            "ten in a burst, then one a second"
        );
        assert_eq!(limits.take(b, start), Ok(()), "another address has its own");
        assert_eq!(limits.take(a, start + Duration::from_millis(1_000)), Ok(()));
        assert_eq!(limits.take(a, start + Duration::from_millis(1_100)), Err(1));
        assert_eq!(WriteLimits::new(0).take(a, start), Ok(()), "0: no limit");
    }

    #[test]
    fn idle_addresses_are_forgotten_past_the_bound() {
        let limits = WriteLimits::new(600);
        let start = Instant::now();
        for i in 0..MAX_TRACKED_WRITERS as u32 {
            let client = IpAddr::from(i.to_be_bytes());
            limits.take(client, start).unwrap();
        }
        let later = start + Duration::from_secs(60);
        limits.take("203.0.113.1".parse().unwrap(), later).unwrap();
        let tracked = limits.buckets.lock().unwrap().len();
        assert_eq!(tracked, 1, "the refilled ones went, memory stays bounded");
    }
}
