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
                // WAL lets readers run beside the writer; the busy timeout makes
                // a second writer wait instead of failing; SQLite leaves
                // foreign keys off unless asked.
                // busy_timeout first: the pool opens connections in parallel,
                // and switching a new file to WAL needs a moment alone.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
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
        let pool = r2d2::Pool::builder()
            .max_size(pool_size)
            .connection_timeout(Duration::from_secs(10))
            .build(Manager { url: url.clone() })
            .map_err(|source| DbInitError::Connect {
                url: url.redacted(),
                source,
            })?;
        let db = Db {
            pool,
            url,
            sqlite_writer: Arc::new(Mutex::new(())),
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

    /// A connection from the pool (blocking: call from `web::block`).
    pub fn conn(&self) -> Result<PooledConn, r2d2::PoolError> {
        self.pool.get()
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
