//! The API suite: one binary, every test against SQLite and (when reachable)
//! PostgreSQL.

mod helpers;

mod comments;
mod concurrency;
mod conditional;
mod crash;
mod errors;
mod events;
mod events_ws;
mod idempotency;
mod pages;
mod pg_faults;
mod posts;
mod users;
