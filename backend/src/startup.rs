//! Builds the application: database, event hub, pages, and the HTTP server
//! bound to its own listener (port 0 works; ask [`Application::port`]).

use crate::config::Settings;
use crate::db::{Db, DbInitError};
use crate::events::EventHub;
use crate::extractors;
use crate::pages::Pages;
use crate::routes;
use crate::state::AppState;
use actix_cors::Cors;
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{Compress, Condition, DefaultHeaders};
use actix_web::{App, HttpServer, web};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;
use tracing_actix_web::TracingLogger;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Database(#[from] DbInitError),
    #[error("reading the SPA from {path} failed")]
    Dist {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("binding {bind} failed")]
    Bind {
        bind: String,
        #[source]
        source: std::io::Error,
    },
    #[error("a start-up task failed: {0}")]
    Task(String),
}

pub struct Application {
    port: u16,
    host: String,
    server: Server,
    hub: Arc<EventHub>,
}

/// Stops the event pump and listener when the server future ends or is dropped.
struct StopHub(Arc<EventHub>);

impl Drop for StopHub {
    fn drop(&mut self) {
        self.0.stop();
    }
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let url = settings.database_url.clone();
        let pool_size = settings.pool_size();
        let db = actix_web::rt::task::spawn_blocking(move || Db::open(&url, pool_size))
            .await
            .map_err(|e| StartupError::Task(e.to_string()))??;
        tracing::info!(database = %db.url().redacted(), "database ready");

        let hub = EventHub::new(settings.event_log_size);
        {
            let (db, hub) = (db.clone(), Arc::clone(&hub));
            actix_web::rt::task::spawn_blocking(move || -> Result<(), String> {
                let mut conn = db.conn().map_err(|e| e.to_string())?;
                hub.prime(&mut conn).map_err(|e| e.to_string())
            })
            .await
            .map_err(|e| StartupError::Task(e.to_string()))?
            .map_err(StartupError::Task)?;
        }
        // Writers wake the pump (in process, and through NOTIFY on
        // PostgreSQL); the slow timer is only a safety net.
        if db.is_postgres() {
            hub.spawn_pg_listener(settings.database_url.clone());
        }
        let poll = Duration::from_secs(10);
        tokio::spawn(Arc::clone(&hub).run_pump(db.clone(), poll));

        let pages = Pages::load(&settings.dist_dir)
            .map_err(|source| StartupError::Dist {
                path: settings.dist_dir.display().to_string(),
                source,
            })?
            .with_live_transport(settings.live_transport);

        if settings.precompress_assets {
            pages.precompress_in_background();
        }

        let listener = TcpListener::bind(&settings.bind).map_err(|source| StartupError::Bind {
            bind: settings.bind.clone(),
            source,
        })?;
        let addr = listener.local_addr().map_err(|source| StartupError::Bind {
            bind: settings.bind.clone(),
            source,
        })?;

        let state = AppState {
            db,
            hub: Arc::clone(&hub),
            pages: Arc::new(pages),
            page_cache: Arc::default(),
            answers: Arc::default(),
            streams: crate::limits::StreamLimits::new(
                settings.max_streams_per_client,
                settings.max_streams,
                settings.trusted_proxies.clone(),
            ),
            writes: crate::limits::WriteLimits::new(settings.writes_per_minute),
            settings: Arc::new(settings.clone()),
        };
        let server = server(state, listener, &settings).map_err(|source| StartupError::Bind {
            bind: settings.bind.clone(),
            source,
        })?;
        Ok(Self {
            port: addr.port(),
            host: addr.ip().to_string(),
            server,
            hub,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://host:port`.
    pub fn url(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }

    /// Stops the server from elsewhere (tests, signals).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped; SIGINT/SIGTERM stop it gracefully.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let _stop = StopHub(self.hub);
        self.server.await
    }
}

fn cors(origins: &[String]) -> Cors {
    origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods(["GET", "POST", "PATCH", "DELETE"])
        .allowed_headers([
            "content-type",
            "idempotency-key",
            "last-event-id",
            "if-none-match",
        ])
        .expose_headers(["idempotent-replayed", "retry-after", "etag"])
        // The session cookie goes with the app's requests from those origins.
        .supports_credentials()
        .max_age(3600)
}

/// Descriptors kept back from client connections: the database pool, the
/// event pump's connection, static files, logs, and headroom.
const RESERVED_DESCRIPTORS: u64 = 256;

/// The process's descriptor limit, its soft limit first raised to the hard
/// one (a default soft limit of 1,024 would cap the server far below what
/// the system allows). Logged; without a limit to read, a conservative one.
fn descriptor_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => {
            tracing::info!(limit, "file descriptor limit");
            limit
        }
        Err(e) => {
            tracing::warn!(error = %e, "file descriptor limit unknown; assuming 1024");
            1024
        }
    }
}

/// Client connections each worker accepts at most: what the descriptor
/// limit leaves after the reserve, shared by the workers (at least 16
/// each).
fn connection_cap(limit: u64, pool: u64, workers: usize) -> usize {
    let free = limit.saturating_sub(RESERVED_DESCRIPTORS + pool);
    let per_worker = free / workers.max(1) as u64;
    usize::try_from(per_worker.max(16)).unwrap_or(usize::MAX)
}

fn server(state: AppState, listener: TcpListener, settings: &Settings) -> std::io::Result<Server> {
    let max_body = settings.max_body_bytes;
    let origins = settings.cors_origins.clone();
    let send_timeout =
        (settings.send_timeout_secs > 0).then(|| Duration::from_secs(settings.send_timeout_secs));
    let state = web::Data::new(state);
    // A span per request only where it would be recorded: with request
    // spans filtered out (e.g. RUST_LOG=warn) the middleware's per-request
    // work (an id, the connection info, the route) buys nothing.
    let request_spans = tracing::enabled!(
        target: "tracing_actix_web::root_span_builder",
        tracing::Level::INFO
    );
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(extractors::json_config(max_body))
            .app_data(extractors::path_config())
            .app_data(extractors::query_config())
            .wrap(Condition::new(!origins.is_empty(), cors(&origins)))
            .wrap(
                DefaultHeaders::new()
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("Referrer-Policy", "strict-origin-when-cross-origin"))
                    .add(("X-Frame-Options", "DENY"))
                    .add(("Cross-Origin-Opener-Policy", "same-origin")),
            )
            .wrap(Condition::new(request_spans, TracingLogger::default()))
            .route("/healthz", web::get().to(routes::healthz))
            // Only API answers are compressed per response: pages and
            // assets carry their compressed forms already (reuse::negotiate).
            .service(
                crate::openapi::api_scope()
                    .wrap(actix_web::middleware::from_fn(crate::reuse::reuse_answers))
                    .wrap(Compress::default()),
            )
            // The app's forms posted by the browser itself (see routes::forms):
            // every POST outside the API. A guarded scope, not a `{tail:.*}`
            // resource, so page GETs are not matched against a regex.
            .service(
                web::scope("")
                    .guard(actix_web::guard::Post())
                    .app_data(web::PayloadConfig::new(max_body + 1))
                    .default_service(web::to(routes::forms::submit)),
            )
            .default_service(web::to(routes::pages::page))
    })
    // Before `listen`: the listener's services capture the hook when created.
    .on_connect(move |conn, _ext| {
        if let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
            // actix leaves Nagle on; headers and body then wait on delayed ACKs.
            let _ = tcp.set_nodelay(true);
            // A peer that stops reading (an event stream's subscriber gone
            // quiet, its receive window shut) is dropped once what was sent
            // has waited this long: its buffers are freed, and a client that
            // is still alive reconnects and resumes by event id.
            #[cfg(target_os = "linux")]
            if let Some(timeout) = send_timeout {
                let _ = socket2::SockRef::from(tcp).set_tcp_user_timeout(Some(timeout));
            }
        }
    })
    .shutdown_timeout(10);
    let workers = settings.workers.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    // `web::block` runs database calls on each worker's blocking pool (512
    // threads by default). More threads than pooled connections only wait
    // for one, and each keeps a malloc arena of its own: bound them.
    let blocking = (settings.pool_size() as usize).div_ceil(workers).max(1);
    let connections = connection_cap(descriptor_limit(), settings.pool_size().into(), workers);
    server = server
        .workers(workers)
        .worker_max_blocking_threads(blocking)
        // Past it a worker stops accepting (new clients wait in the
        // listen backlog) instead of failing `accept` with EMFILE, and the
        // database pool, files and logs keep their descriptors.
        .max_connections(connections)
        .client_request_timeout(Duration::from_millis(settings.header_timeout_ms))
        .keep_alive(Duration::from_secs(settings.keep_alive_secs));
    Ok(server.listen(listener)?.run())
}
