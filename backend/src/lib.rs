//! The Actix backend: the JSON API, server-sent events, and prerendered pages
//! for the Yew SPA, on SQLite (embedded default) or PostgreSQL (scale-out).
//!
//! `main.rs` only wires [`config::Settings`], [`telemetry`] and
//! [`startup::Application`]; tests build the same application on port 0.

pub mod accounts;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod events;
pub mod extractors;
pub mod limits;
pub mod memory;
pub mod openapi;
pub mod pages;
pub mod queries;
pub mod reuse;
pub mod routes;
pub mod startup;
pub mod state;
pub mod streamed;
pub mod telemetry;
pub mod write;
