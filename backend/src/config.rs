//! Typed settings: command-line flags, each also readable from the
//! environment, each with a default that makes a bare `backend` work.

use clap::Parser;
use std::path::PathBuf;

const DEFAULT_BIND: &str = "127.0.0.1:3000";
const DEFAULT_DATABASE_URL: &str = "data/app.db";
const DEFAULT_DIST: &str = "dist";
const DEFAULT_DEFERRED_DELAY_MS: u64 = 1500;
const DEFAULT_EVENT_LOG_SIZE: usize = 1000;
const DEFAULT_SSE_KEEP_ALIVE_SECS: u64 = 15;
const DEFAULT_SEND_TIMEOUT_SECS: u64 = 30;
const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;
const DEFAULT_MAX_STREAMS_PER_CLIENT: usize = 16;
const DEFAULT_MAX_STREAMS: usize = 4096;
const DEFAULT_HEADER_TIMEOUT_MS: u64 = 5_000;
const DEFAULT_KEEP_ALIVE_SECS: u64 = 5;
const DEFAULT_WRITES_PER_MINUTE: u32 = 600;
/// PostgreSQL serves many connections at once.
const DEFAULT_POSTGRES_POOL_SIZE: u32 = 16;
/// SQLite writes one transaction at a time; readers share the file. More
/// connections only hold more caches and threads (4 against 16: 42 against
/// 48 MiB under the soak's steady load, and no slower; docs/reliability.md).
const DEFAULT_SQLITE_POOL_SIZE: u32 = 4;

/// How the SPA takes live updates (written into every page it is served).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LiveTransport {
    /// Server-sent events (`GET /api/events`).
    #[default]
    Sse,
    /// A WebSocket (`GET /api/events/ws`).
    Websocket,
}

impl LiveTransport {
    /// The name the SPA reads from the page.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sse => "sse",
            Self::Websocket => "websocket",
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line, for log shippers.
    Json,
}

#[derive(Debug, Clone, Parser)]
#[command(
    name = "backend",
    version,
    about = "JSON API, server events and prerendered SPA pages"
)]
pub struct Settings {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "BIND", default_value = DEFAULT_BIND)]
    pub bind: String,

    /// `postgres://…` for PostgreSQL; otherwise a SQLite file (created, migrated and seeded).
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,

    /// Trunk's output directory (index.html and the hashed assets).
    #[arg(long = "dist", env = "DIST_DIR", default_value = DEFAULT_DIST)]
    pub dist_dir: PathBuf,

    /// Origins allowed to call the API from a browser (comma-separated), for an
    /// SPA deployed on another origin. Empty: same origin only.
    #[arg(long, env = "CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// How long `GET /api/deferred` waits before answering.
    #[arg(long, env = "DEFERRED_DELAY_MS", default_value_t = DEFAULT_DEFERRED_DELAY_MS)]
    pub deferred_delay_ms: u64,

    /// How many recent events are kept for `Last-Event-ID` resume.
    #[arg(long, env = "EVENT_LOG_SIZE", default_value_t = DEFAULT_EVENT_LOG_SIZE)]
    pub event_log_size: usize,

    /// Seconds between SSE keep-alive comments.
    #[arg(long, env = "SSE_KEEP_ALIVE_SECS", default_value_t = DEFAULT_SSE_KEEP_ALIVE_SECS)]
    pub sse_keep_alive_secs: u64,

    /// Seconds a connection may leave what the server sent unread before it
    /// is closed (TCP_USER_TIMEOUT): a live subscriber that stopped reading
    /// is cut off instead of being held for ever. 0 leaves the system's.
    #[arg(long, env = "SEND_TIMEOUT_SECS", default_value_t = DEFAULT_SEND_TIMEOUT_SECS)]
    pub send_timeout_secs: u64,

    /// The transport the SPA tries first for live updates; it falls back to
    /// the other one when the preferred one cannot connect (say, a proxy that
    /// buffers event streams or refuses WebSocket upgrades).
    #[arg(long, env = "LIVE_TRANSPORT", value_enum, default_value_t = LiveTransport::Sse)]
    pub live_transport: LiveTransport,

    /// Live event streams (SSE and WebSocket) one client address may hold
    /// open; past it a new one gets 503 `too_many_streams` with
    /// `Retry-After`. A tab holds one.
    #[arg(long, env = "MAX_STREAMS_PER_CLIENT", default_value_t = DEFAULT_MAX_STREAMS_PER_CLIENT)]
    pub max_streams_per_client: usize,

    /// Live event streams open in all, whoever holds them (keep it well
    /// under the process's file descriptor limit, so pages, the API and the
    /// database always have connections left).
    #[arg(long, env = "MAX_STREAMS", default_value_t = DEFAULT_MAX_STREAMS)]
    pub max_streams: usize,

    /// A client must send its request's headers within this many ms of
    /// connecting (or of its previous request), else it gets 408 and the
    /// connection is closed: a connection trickling its headers holds no
    /// descriptor for ever.
    #[arg(long, env = "HEADER_TIMEOUT_MS", default_value_t = DEFAULT_HEADER_TIMEOUT_MS)]
    pub header_timeout_ms: u64,

    /// An idle keep-alive connection is closed after this many seconds.
    #[arg(long, env = "KEEP_ALIVE_SECS", default_value_t = DEFAULT_KEEP_ALIVE_SECS)]
    pub keep_alive_secs: u64,

    /// Proxies (comma-separated addresses) whose `X-Forwarded-For` names
    /// the client, for the per-client limits: behind a proxy, list it, or
    /// every visitor counts as the proxy.
    #[arg(long, env = "TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// Largest accepted request body in bytes.
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,

    /// Database connections in the pool (default: 4 for SQLite, 16 for
    /// PostgreSQL).
    #[arg(long, env = "DB_POOL_SIZE")]
    pub db_pool_size: Option<u32>,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "WORKERS")]
    pub workers: Option<usize>,

    /// Compress the SPA's files once at start (brotli 11, gzip 9) instead of
    /// per request at a lower level.
    #[arg(long, env = "PRECOMPRESS_ASSETS", default_value_t = true, action = clap::ArgAction::Set)]
    pub precompress_assets: bool,

    /// Render each page's body with the app's own components (the browser
    /// hydrates it); off, pages carry only their state and the browser
    /// renders them.
    #[arg(long, env = "SERVER_RENDER", default_value_t = true, action = clap::ArgAction::Set)]
    pub server_render: bool,

    /// Reuse rendered pages and API answers until the data may have changed
    /// (a write here, an event from any instance). Off, every request reads
    /// and renders afresh (for measuring that cost).
    #[arg(long, env = "REUSE_RESPONSES", default_value_t = true, action = clap::ArgAction::Set)]
    pub reuse_responses: bool,

    /// Writes (JSON API and forms) one client address may make per
    /// minute, after a burst of ten seconds' worth; past it 429
    /// `too_many_writes` with `Retry-After`. 0: no limit.
    #[arg(long, env = "WRITES_PER_MINUTE", default_value_t = DEFAULT_WRITES_PER_MINUTE)]
    pub writes_per_minute: u32,

    /// Writes need a session: creating a post or comment needs one
    /// (a post's author is the signed-in user), changing, moving or
    /// deleting a post is for its author, changing a profile for its
    /// owner. Off (`--require-sessions false`), a request without a
    /// session may write as anyone (a kiosk or a load test); a signed-in
    /// writer is still held to what they own.
    #[arg(long, env = "REQUIRE_SESSIONS", default_value_t = true, action = clap::ArgAction::Set)]
    pub require_sessions: bool,

    /// Log line format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
}

impl Settings {
    /// The pool size: `--db-pool-size`, or the engine's default.
    pub fn pool_size(&self) -> u32 {
        self.db_pool_size
            .unwrap_or(if self.database_url.starts_with("postgres") {
                DEFAULT_POSTGRES_POOL_SIZE
            } else {
                DEFAULT_SQLITE_POOL_SIZE
            })
    }

    /// The defaults, ignoring the environment and the command line (tests
    /// start from these).
    pub fn defaults() -> Self {
        Self {
            bind: DEFAULT_BIND.into(),
            database_url: DEFAULT_DATABASE_URL.into(),
            dist_dir: DEFAULT_DIST.into(),
            cors_origins: vec![],
            deferred_delay_ms: DEFAULT_DEFERRED_DELAY_MS,
            event_log_size: DEFAULT_EVENT_LOG_SIZE,
            sse_keep_alive_secs: DEFAULT_SSE_KEEP_ALIVE_SECS,
            send_timeout_secs: DEFAULT_SEND_TIMEOUT_SECS,
            live_transport: LiveTransport::Sse,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_streams_per_client: DEFAULT_MAX_STREAMS_PER_CLIENT,
            max_streams: DEFAULT_MAX_STREAMS,
            header_timeout_ms: DEFAULT_HEADER_TIMEOUT_MS,
            keep_alive_secs: DEFAULT_KEEP_ALIVE_SECS,
            trusted_proxies: vec![],
            db_pool_size: None,
            workers: None,
            precompress_assets: true,
            server_render: true,
            reuse_responses: true,
            require_sessions: true,
            writes_per_minute: DEFAULT_WRITES_PER_MINUTE,
            log_format: LogFormat::Pretty,
        }
    }
}
