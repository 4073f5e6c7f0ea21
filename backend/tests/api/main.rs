//! The API suite: one binary, every test against SQLite and (when reachable)
//! PostgreSQL.

mod helpers;

mod comments;
mod concurrency;
mod conditional;
mod contract;
mod crash;
mod disk;
mod errors;
mod events;
mod events_ws;
mod forms;
mod idempotency;
mod limits;
mod pages;
mod pg_faults;
mod pg_restart;
mod posts;
mod session;
mod stalled;
mod users;
