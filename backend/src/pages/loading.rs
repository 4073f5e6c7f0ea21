//! A page's state: its route's loader queries, read from the database.

use crate::db::DbConn;
use crate::error::ApiError;
use crate::queries::{self, QueryData};
use shared::{DehydratedQuery, DehydratedState, InfiniteData, QueryKey, QueryState, Route};

/// The state of one query, read as the API's handler reads it: its data, or
/// the API's 404 error body.
pub fn load_query(conn: &mut DbConn, key: QueryKey, now: i64) -> Result<QueryState, ApiError> {
    let data = match queries::read(conn, key, now) {
        // The client holds the paged lists as infinite queries.
        Ok(QueryData::Posts(page)) => serde_json::to_value(InfiniteData::first(page)),
        Ok(QueryData::Comments(page)) => serde_json::to_value(InfiniteData::first(page)),
        Ok(data) => serde_json::to_value(data),
        Err(e @ ApiError::NotFound(_)) => {
            return Ok(QueryState::Error {
                error: e.body(),
                http_status: 404,
                updated_at: now,
            });
        }
        Err(e) => return Err(e),
    };
    Ok(QueryState::Success {
        data: data.map_err(ApiError::unexpected)?,
        updated_at: now,
    })
}

/// Loads a route's state and works out its status and title.
pub fn prerender(
    conn: &mut DbConn,
    route: Route,
    now: i64,
) -> Result<(u16, String, DehydratedState), ApiError> {
    let loader = route.loader();
    let mut state = DehydratedState {
        version: DehydratedState::VERSION,
        written_at: Some(now),
        pending: loader.deferred.clone(),
        ..Default::default()
    };
    let mut status = if route == Route::NotFound { 404 } else { 200 };
    let mut title = route.title();
    for key in loader.all_keys() {
        let query_state = load_query(conn, key, now)?;
        let is_ensure = loader.ensure.contains(&key);
        match &query_state {
            QueryState::Error { http_status, .. } if is_ensure => status = *http_status,
            QueryState::Success { data, .. } => {
                let name = match key {
                    QueryKey::Post(_) => data.get("title"),
                    QueryKey::User(_) => data.get("name"),
                    _ => None,
                };
                if let Some(name) = name.and_then(|v| v.as_str()) {
                    title = format!("{name} · Posts & Users");
                }
            }
            QueryState::Error { .. } => {}
        }
        state.queries.push(DehydratedQuery {
            key,
            state: query_state,
        });
    }
    if status == 404 && route != Route::NotFound {
        title = Route::NotFound.title();
    }
    Ok((status, title, state))
}
