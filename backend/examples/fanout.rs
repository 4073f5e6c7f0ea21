//! Fan-out: thousands of live subscribers (SSE and WebSocket) on one
//! backend, some of them stalled (connected, never reading).
//!
//! `bash scripts/fanout.sh` starts a release backend and runs this against
//! it; by hand:
//!
//! ```text
//! cargo run --release -p backend --example fanout -- BASE_URL SERVER_PID \
//!     [SSE] [WS] [STALLED] [WRITES] [FLOOD] [CUT_WAIT_SECS]
//! ```
//!
//! It connects SSE and WebSocket subscribers, then WRITES renames of post 1
//! a few hundred ms apart, and measures for each (subscriber, write) the
//! time from just before the write was sent to the subscriber reading its
//! event. Then the stalled subscribers connect (small receive buffers,
//! never read), FLOOD large writes fill their buffers, the readers catch up
//! on them, and the timed writes run again: the delivery to the others must
//! not suffer. Last it waits
//! CUT_WAIT_SECS and counts how many stalled connections the server still
//! holds. Prints one Markdown table; the server's memory comes from
//! /proc/SERVER_PID.

#![allow(clippy::print_stdout)] // its output is the report

use futures_util::StreamExt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

/// Timed writes carry this in the title, then their number.
const MARK: &str = "fanout ";
/// The title of the flood's last write.
const FLOOD_END: &str = "flood end";

struct Shared {
    start: Instant,
    /// Microseconds since `start` at which timed write k was sent (0: not yet).
    sent_us: Vec<AtomicU64>,
    /// Delivery latencies in microseconds, per round.
    latencies: Mutex<Vec<u64>>,
    /// Subscribers connected.
    connected: AtomicUsize,
    /// Subscribers that have read the flood's last write.
    caught_up: AtomicUsize,
}

impl Shared {
    /// A subscriber read `text`: records the latency of any timed write in it.
    fn seen(&self, text: &str) {
        if text.contains(FLOOD_END) {
            self.caught_up.fetch_add(1, Ordering::Relaxed);
        }
        let mut rest = text;
        while let Some(at) = rest.find(MARK) {
            rest = &rest[at + MARK.len()..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(k) = digits.parse::<usize>()
                && let Some(sent) = self.sent_us.get(k)
            {
                let sent = sent.load(Ordering::Acquire);
                let now = self.start.elapsed().as_micros() as u64;
                if sent > 0 {
                    self.latencies
                        .lock()
                        .unwrap()
                        .push(now.saturating_sub(sent));
                }
            }
        }
    }
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Connections the server holds on `port` (ESTABLISHED, its side).
fn server_connections(port: u16) -> usize {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .flat_map(|t| t.lines().skip(1).map(str::to_owned).collect::<Vec<_>>())
        .filter(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            cols.len() > 3
                && cols[3] == "01"
                && cols[1]
                    .rsplit(':')
                    .next()
                    .and_then(|p| u16::from_str_radix(p, 16).ok())
                    == Some(port)
        })
        .count()
}

async fn sse_subscriber(client: reqwest::Client, url: String, shared: Arc<Shared>) {
    let Ok(res) = client.get(url).send().await else {
        return;
    };
    shared.connected.fetch_add(1, Ordering::Relaxed);
    let mut body = res.bytes_stream();
    let mut carry = String::new();
    while let Some(Ok(chunk)) = body.next().await {
        carry.push_str(&String::from_utf8_lossy(&chunk));
        if let Some(end) = carry.rfind('\n') {
            shared.seen(&carry[..end]);
            carry.drain(..=end);
        }
    }
}

async fn ws_subscriber(url: String, shared: Arc<Shared>) {
    let Ok((mut ws, _)) = tokio_tungstenite::connect_async(url).await else {
        return;
    };
    shared.connected.fetch_add(1, Ordering::Relaxed);
    while let Some(Ok(message)) = ws.next().await {
        if let tokio_tungstenite::tungstenite::Message::Text(text) = message {
            shared.seen(&text);
        }
    }
}

/// Connects, asks for the event stream, and never reads.
async fn stalled_subscriber(addr: std::net::SocketAddr) -> Option<tokio::net::TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4().ok()?;
    socket.set_recv_buffer_size(4096).ok()?;
    let mut stream = socket.connect(addr).await.ok()?;
    stream
        .write_all(b"GET /api/events HTTP/1.1\r\nHost: fanout\r\nAccept: text/event-stream\r\n\r\n")
        .await
        .ok()?;
    Some(stream)
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

/// `count` timed renames, `gap` apart; returns (deliveries, p50, p99, max) in ms.
async fn timed_round(
    http: &reqwest::Client,
    base: &str,
    shared: &Shared,
    first: usize,
    count: usize,
    expected_per_write: usize,
) -> (usize, usize, f64, f64, f64) {
    shared.latencies.lock().unwrap().clear();
    for k in first..first + count {
        shared.sent_us[k].store(shared.start.elapsed().as_micros() as u64, Ordering::Release);
        let res = http
            .patch(format!("{base}/api/posts/1"))
            .json(&serde_json::json!({"title": format!("{MARK}{k}")}))
            .send()
            .await
            .expect("write");
        assert!(res.status().is_success(), "write {k}: {}", res.status());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let want = count * expected_per_write;
    let deadline = Instant::now() + Duration::from_secs(15);
    while shared.latencies.lock().unwrap().len() < want && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut all = shared.latencies.lock().unwrap().clone();
    all.sort_unstable();
    (
        all.len(),
        want,
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        percentile(&all, 1.0),
    )
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg =
        |i: usize, default: usize| args.get(i).and_then(|v| v.parse().ok()).unwrap_or(default);
    let base = args
        .first()
        .expect("BASE_URL")
        .trim_end_matches('/')
        .to_owned();
    let pid: u32 = args
        .get(1)
        .and_then(|p| p.parse().ok())
        .expect("SERVER_PID");
    let (sse, ws, stalled) = (arg(2, 2500), arg(3, 2500), arg(4, 1000));
    let (writes, flood, cut_wait) = (arg(5, 20), arg(6, 20), arg(7, 45));
    let url = url::Url::parse(&base).expect("BASE_URL");
    let addr = url.socket_addrs(|| None).expect("address")[0];
    let port = addr.port();

    let shared = Arc::new(Shared {
        start: Instant::now(),
        sent_us: (0..writes * 2).map(|_| AtomicU64::new(0)).collect(),
        latencies: Mutex::new(Vec::new()),
        connected: AtomicUsize::new(0),
        caught_up: AtomicUsize::new(0),
    });
    let idle = rss_kib(pid);
    let client = reqwest::Client::builder()
        .http1_only()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let ws_base = base.replacen("http", "ws", 1);
    // In batches: the listen backlog is finite.
    let total = sse + ws;
    for n in 0..total {
        if n < sse {
            tokio::spawn(sse_subscriber(
                client.clone(),
                format!("{base}/api/events"),
                Arc::clone(&shared),
            ));
        } else {
            tokio::spawn(ws_subscriber(
                format!("{ws_base}/api/events/ws"),
                Arc::clone(&shared),
            ));
        }
        if n % 200 == 199 {
            while shared.connected.load(Ordering::Relaxed) + 50 < n {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while shared.connected.load(Ordering::Relaxed) < total && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let connected = shared.connected.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let with_subscribers = rss_kib(pid);
    let http = reqwest::Client::new();
    let calm = timed_round(&http, &base, &shared, 0, writes, connected).await;

    let mut held = Vec::new();
    for _ in 0..stalled {
        if let Some(s) = stalled_subscriber(addr).await {
            held.push(s);
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let with_stalled = rss_kib(pid);
    let big = "x".repeat(9_000);
    let flood_started = Instant::now();
    for k in 0..flood {
        let res = http
            .patch(format!("{base}/api/posts/2"))
            .json(&serde_json::json!({
                "title": if k + 1 == flood { FLOOD_END.to_owned() } else { format!("flood {k}") },
                "body": big,
            }))
            .send()
            .await
            .expect("flood write");
        assert!(res.status().is_success());
    }
    let flood_secs = flood_started.elapsed().as_secs_f64();
    let after_flood = rss_kib(pid);
    // The readers catch up on the flood before the timed writes: what is
    // measured then is the stalled ones' effect, not the flood's backlog.
    let deadline = Instant::now() + Duration::from_secs(120);
    while shared.caught_up.load(Ordering::Relaxed) < connected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let catch_up_secs = flood_started.elapsed().as_secs_f64() - flood_secs;
    let stalled_round = timed_round(&http, &base, &shared, writes, writes, connected).await;
    let open_before_wait = server_connections(port);
    tokio::time::sleep(Duration::from_secs(cut_wait as u64)).await;
    let open_after_wait = server_connections(port);
    let after_wait = rss_kib(pid);

    let mib = |kib: u64| kib as f64 / 1024.0;
    println!("| phase | subscribers | deliveries | p50 | p99 | max | server RSS |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    println!("| idle | 0 | | | | | {:.1} MiB |", mib(idle));
    let row = |name: &str, subs: String, r: (usize, usize, f64, f64, f64), rss: u64| {
        println!(
            "| {name} | {subs} | {} of {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} MiB |",
            r.0,
            r.1,
            r.2,
            r.3,
            r.4,
            mib(rss)
        );
    };
    row(
        &format!("{writes} writes, 300 ms apart"),
        format!("{connected} ({sse} SSE + {ws} WS asked)"),
        calm,
        with_subscribers,
    );
    println!(
        "| + {} stalled subscribers connected | | | | | | {:.1} MiB |",
        held.len(),
        mib(with_stalled)
    );
    println!(
        "| {flood} writes of 9 KB as fast as one client sends ({flood_secs:.1} s; the readers caught up {catch_up_secs:.1} s later) | | | | | | {:.1} MiB |",
        mib(after_flood)
    );
    row(
        &format!("{writes} writes with the stalled ones full"),
        format!("{connected} reading + {} stalled", held.len()),
        stalled_round,
        after_flood,
    );
    println!(
        "| {cut_wait} s later | {open_before_wait} → {open_after_wait} connections open on the server | | | | | {:.1} MiB |",
        mib(after_wait)
    );
    println!();
    println!(
        "memory per live subscriber: {:.1} KiB",
        (with_subscribers.saturating_sub(idle)) as f64 / connected.max(1) as f64
    );
    drop(held);
}
