//! Caps on live event streams (SSE and WebSocket), so one client cannot hold
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
