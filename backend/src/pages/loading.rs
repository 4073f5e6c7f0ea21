//! A page's state: its route's loader queries, read from the database,
//! in querent's dehydrated format (the one the app adopts).

use crate::db::DbConn;
use crate::error::ApiError;
use crate::queries::{self, QueryData};
use querent::hydration::{DehydratedQuery, DehydratedQueryState, DehydratedState};
use serde_json::Value;
use shared::{InfiniteData, QueryKey, Route};
use std::rc::Rc;

/// One query as the database answered it: its data, or the API's 404
/// error body. Plain data, so it crosses from the database's thread to the
/// render's; [`Loaded::dehydrated`] makes it the wire format there.
#[derive(Debug, Clone, PartialEq)]
pub enum Loaded {
    /// The data (the API's JSON for the key).
    Data(Value),
    /// A missing entity: the API's error body (status 404).
    NotFound(Value),
}

impl Loaded {
    /// The query in querent's dehydrated format, as of `now`.
    pub fn dehydrated(self, key: QueryKey, now: i64) -> DehydratedQuery {
        let state = match self {
            Loaded::Data(data) => DehydratedQueryState::Success {
                data: Rc::new(data),
                updated_at: now,
            },
            Loaded::NotFound(error) => DehydratedQueryState::Error {
                error,
                http_status: 404,
                updated_at: now,
            },
        };
        DehydratedQuery {
            key: querent::QueryKey::of(&key),
            state,
        }
    }
}

/// The state of one query, read as the API's handler reads it: its data, or
/// the API's 404 error body.
pub fn load_query(conn: &mut DbConn, key: QueryKey, now: i64) -> Result<Loaded, ApiError> {
    let data = match queries::read(conn, key, now) {
        // The client holds the paged lists as infinite queries.
        Ok(QueryData::Posts(page)) => serde_json::to_value(InfiniteData::first(page)),
        Ok(QueryData::Comments(page)) => serde_json::to_value(InfiniteData::first(page)),
        Ok(data) => serde_json::to_value(data),
        Err(e @ ApiError::NotFound(_)) => {
            let body = serde_json::to_value(e.body()).map_err(ApiError::unexpected)?;
            return Ok(Loaded::NotFound(body));
        }
        Err(e) => return Err(e),
    };
    Ok(Loaded::Data(data.map_err(ApiError::unexpected)?))
}

/// A route's loaded queries (see [`prerender`]).
#[derive(Debug)]
pub struct Prerendered {
    /// The page's HTTP status: 404 where an `ensure` query is missing.
    pub status: u16,
    /// The page's title.
    pub title: String,
    /// Each loader query, as loaded.
    pub queries: Vec<(QueryKey, Loaded)>,
    /// The route's deferred keys: they follow the page.
    pub pending: Vec<QueryKey>,
    /// When they were read.
    pub now: i64,
}

impl Prerendered {
    /// The page's state, in querent's dehydrated format.
    pub fn state(self) -> DehydratedState {
        dehydrated_state(self.queries, &self.pending, self.now)
    }
}

/// Loaded queries (and the keys still loading) as a state written at
/// `now`: a page's, or the one streamed after it.
pub fn dehydrated_state(
    queries: Vec<(QueryKey, Loaded)>,
    pending: &[QueryKey],
    now: i64,
) -> DehydratedState {
    DehydratedState {
        version: querent::hydration::VERSION,
        queries: queries
            .into_iter()
            .map(|(key, loaded)| loaded.dehydrated(key, now))
            .collect(),
        written_at: Some(now),
        pending: pending.iter().map(querent::QueryKey::of).collect(),
        ..DehydratedState::default()
    }
}

/// Loads a route's state and works out its status and title.
pub fn prerender(conn: &mut DbConn, route: Route, now: i64) -> Result<Prerendered, ApiError> {
    let loader = route.loader();
    let mut status = if route == Route::NotFound { 404 } else { 200 };
    let mut title = route.title();
    let mut loaded = Vec::new();
    for key in loader.all_keys() {
        let query = load_query(conn, key, now)?;
        let is_ensure = loader.ensure.contains(&key);
        match &query {
            Loaded::NotFound(_) if is_ensure => status = 404,
            Loaded::Data(data) => {
                let name = match key {
                    QueryKey::Post(_) => data.get("title"),
                    QueryKey::User(_) => data.get("name"),
                    _ => None,
                };
                if let Some(name) = name.and_then(|v| v.as_str()) {
                    title = format!("{name} · Posts & Users");
                }
            }
            Loaded::NotFound(_) => {}
        }
        loaded.push((key, query));
    }
    if status == 404 && route != Route::NotFound {
        title = Route::NotFound.title();
    }
    Ok(Prerendered {
        status,
        title,
        queries: loaded,
        pending: loader.deferred.clone(),
        now,
    })
}
