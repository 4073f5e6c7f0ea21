//! Database access: one connection type for SQLite and PostgreSQL, the pool,
//! migrations and the seed.
//!
//! The engine is chosen by the URL: `postgres://` or `postgresql://` selects
//! PostgreSQL, anything else is a SQLite file path (an optional `sqlite://`
//! prefix is stripped). Queries are written once against [`DbConn`], whose
//! `MultiConnection` derive dispatches to the engine at run time.

pub mod models;
pub mod repo;
pub mod schema;
pub mod seed;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// A connection to either engine.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    /// PostgreSQL, for several backend instances on one database.
    Pg(PgConnection),
    /// Embedded SQLite, the default.
    Sqlite(SqliteConnection),
}

/// Which engine a database URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file path.
    Sqlite(String),
    /// A `postgres://` URL.
    Postgres(String),
}

impl DatabaseUrl {
    /// Classifies a URL; see the module docs.
    pub fn parse(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            DatabaseUrl::Postgres(url.to_owned())
        } else {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            DatabaseUrl::Sqlite(path.to_owned())
        }
    }

    /// The URL with any password replaced, for logs.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{path}"),
            DatabaseUrl::Postgres(url) => match (url.find("://"), url.rfind('@')) {
                (Some(scheme), Some(at)) if at > scheme => {
                    let creds = &url[scheme + 3..at];
                    let user = creds.split(':').next().unwrap_or("");
                    format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
                }
                _ => url.clone(),
            },
        }
    }
}

/// r2d2 manager that opens the engine the URL names (the derive's own
/// `establish` would try each engine in turn, and SQLite accepts any string
/// as a file name).
#[derive(Debug, Clone)]
pub struct Manager {
    url: DatabaseUrl,
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                let mut conn =
                    SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
                // The busy timeout makes a second writer wait instead of
                // failing; SQLite leaves foreign keys off unless asked.
                // `synchronous = FULL` syncs the WAL at each commit, so a
                // write answered 2xx survives the machine, not just the
                // process (NORMAL syncs only at checkpoints: the last
                // acknowledged writes were gone when the filesystem failed
                // under the server; tests/api/disk.rs). WAL
                // (readers beside the writer) is set once, in `Db::open`,
                // before the pool opens its connections in parallel:
                // switching a new file to WAL takes it alone, and a
                // connection asking at the same moment failed with
                // "database is locked" (busy_timeout does not cover it).
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA synchronous = FULL; \
                     PRAGMA foreign_keys = ON;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(conn))
            }
            DatabaseUrl::Postgres(url) => PgConnection::establish(url)
                .map(DbConn::Pg)
                .map_err(r2d2::Error::ConnectionError),
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

/// A pooled connection.
pub type PooledConn = r2d2::PooledConnection<Manager>;

/// The pool plus what writers need to coordinate.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<Manager>,
    url: DatabaseUrl,
    /// SQLite has one writer at a time, and a deferred transaction that
    /// reads first and writes later fails with SQLITE_BUSY instead of waiting
    /// when another writer got in between. Serialising our own writers makes
    /// that impossible; PostgreSQL does not need it.
    sqlite_writer: Arc<Mutex<()>>,
    /// Errors the pool met opening or checking connections (logged too).
    pool_errors: Arc<std::sync::atomic::AtomicU64>,
}

/// Logs the pool's errors through `tracing` (r2d2's default goes through
/// `log`, without context) and counts them.
#[derive(Debug)]
struct CountingErrors(Arc<std::sync::atomic::AtomicU64>);

impl r2d2::HandleError<r2d2::Error> for CountingErrors {
    fn handle_error(&self, error: r2d2::Error) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::error!(error = %error, "database connection pool");
    }
}

/// Errors opening the database.
#[derive(Debug, thiserror::Error)]
pub enum DbInitError {
    /// The pool could not connect.
    #[error("could not connect to {url}")]
    Connect {
        /// Redacted URL.
        url: String,
        /// Cause.
        #[source]
        source: r2d2::PoolError,
    },
    /// The SQLite file could not be opened or switched to WAL.
    #[error("could not prepare the SQLite file {path}")]
    Prepare {
        /// The file path.
        path: String,
        /// Cause.
        #[source]
        source: r2d2::Error,
    },
    /// The directory for the SQLite file could not be created.
    #[error("could not create the directory for {path}")]
    CreateDir {
        /// The file path.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A migration failed.
    #[error("migrating the database failed: {0}")]
    Migrate(String),
    /// Seeding failed.
    #[error("seeding the database failed")]
    Seed(#[source] diesel::result::Error),
}

impl Db {
    /// Connects, migrates, and seeds an empty database.
    pub fn open(url: &str, pool_size: u32) -> Result<Self, DbInitError> {
        let url = DatabaseUrl::parse(url);
        if let DatabaseUrl::Sqlite(path) = &url
            && let Some(dir) = Path::new(path).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|source| DbInitError::CreateDir {
                path: path.clone(),
                source,
            })?;
        }
        if let DatabaseUrl::Sqlite(path) = &url {
            // WAL is a property of the file: set it alone, before the pool.
            let mut conn = SqliteConnection::establish(path).map_err(|e| DbInitError::Prepare {
                path: path.clone(),
                source: r2d2::Error::ConnectionError(e),
            })?;
            conn.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;")
                .map_err(|e| DbInitError::Prepare {
                    path: path.clone(),
                    source: r2d2::Error::QueryError(e),
                })?;
        }
        let pool_errors = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let pool = r2d2::Pool::builder()
            .max_size(pool_size)
            .error_handler(Box::new(CountingErrors(Arc::clone(&pool_errors))))
            // How long a request waits for a connection before its 503: the
            // pool is busy, or the database is down.
            .connection_timeout(Duration::from_secs(5))
            .build(Manager { url: url.clone() })
            .map_err(|source| DbInitError::Connect {
                url: url.redacted(),
                source,
            })?;
        let db = Db {
            pool,
            url,
            sqlite_writer: Arc::new(Mutex::new(())),
            pool_errors,
        };
        let mut conn = db.conn().map_err(|source| DbInitError::Connect {
            url: db.url.redacted(),
            source,
        })?;
        let migrations = if db.is_postgres() {
            POSTGRES_MIGRATIONS
        } else {
            SQLITE_MIGRATIONS
        };
        conn.run_pending_migrations(migrations)
            .map_err(|e| DbInitError::Migrate(e.to_string()))?;
        seed::seed_if_empty(&mut conn).map_err(DbInitError::Seed)?;
        Ok(db)
    }

    /// How many errors the pool has met opening or checking connections.
    pub fn pool_errors(&self) -> u64 {
        self.pool_errors.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Connections the pool holds now (it opens them in the background).
    pub fn pool_connections(&self) -> u32 {
        self.pool.state().connections
    }

    /// A connection from the pool (blocking: call from `web::block`).
    pub fn conn(&self) -> Result<PooledConn, r2d2::PoolError> {
        self.pool.get()
    }

    /// A connection within `timeout`, for callers that must answer sooner
    /// than the pool's own 5 s (`/healthz`).
    pub fn conn_within(&self, timeout: Duration) -> Result<PooledConn, r2d2::PoolError> {
        self.pool.get_timeout(timeout)
    }

    /// True for PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self.url, DatabaseUrl::Postgres(_))
    }

    /// The URL the pool connects to.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Held by every write transaction on SQLite; `None` on PostgreSQL.
    pub fn writer_guard(&self) -> Option<MutexGuard<'_, ()>> {
        if self.is_postgres() {
            None
        } else {
            // A poisoned lock only means another writer panicked; the
            // database itself rolled that transaction back.
            Some(
                self.sqlite_writer
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh SQLite file's first start: the pool opens its connections in
    /// parallel while the migrations run; none of them may fail ("database
    /// is locked" was logged on about one start in six).
    #[test]
    fn a_fresh_sqlite_file_opens_without_pool_errors() {
        for _ in 0..40 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("fresh.db").display().to_string();
            let db = Db::open(&path, 8).expect("opens");
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while db.pool_connections() < 8 && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            assert_eq!(db.pool_connections(), 8, "the pool filled");
            assert_eq!(db.pool_errors(), 0, "no connection failed");
            let mut conn = db.conn().unwrap();
            #[derive(QueryableByName)]
            struct Mode {
                #[diesel(sql_type = diesel::sql_types::Text)]
                journal_mode: String,
            }
            let mode: Mode = diesel::sql_query("PRAGMA journal_mode")
                .get_result(&mut conn)
                .unwrap();
            assert_eq!(mode.journal_mode, "wal");
        }
    }

    #[test]
    fn urls_select_the_engine() {
        assert_eq!(
            DatabaseUrl::parse("data/app.db"),
            DatabaseUrl::Sqlite("data/app.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/app.db"),
            DatabaseUrl::Sqlite("data/app.db".into())
        );
        assert!(matches!(
            DatabaseUrl::parse("postgres://u@h/db"),
            DatabaseUrl::Postgres(_)
        ));
        assert!(matches!(
            DatabaseUrl::parse("postgresql://u@h/db"),
            DatabaseUrl::Postgres(_)
        ));
    }

    #[test]
    fn passwords_are_redacted() {
        let url = DatabaseUrl::parse("postgres://app:secret@db:5432/x");
        assert_eq!(url.redacted(), "postgres://app:***@db:5432/x");
    }
}
