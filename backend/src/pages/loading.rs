//! A page's state: its route's loader queries, read from the database.

use crate::db::{DbConn, repo};
use crate::error::ApiError;
use diesel::QueryResult;
use shared::{
    DEFAULT_PAGE_SIZE, DehydratedQuery, DehydratedState, InfiniteData, QueryKey, QueryState, Route,
};

/// The state of one query, exactly as the API would answer it.
pub fn load_query(conn: &mut DbConn, key: QueryKey, now: i64) -> QueryResult<QueryState> {
    fn ok<T: serde::Serialize>(v: T, now: i64) -> QueryState {
        QueryState::Success {
            data: serde_json::to_value(v).unwrap_or_default(),
            updated_at: now,
        }
    }
    fn missing(what: &'static str, now: i64) -> QueryState {
        QueryState::Error {
            error: ApiError::NotFound(what).body(),
            http_status: 404,
            updated_at: now,
        }
    }
    Ok(match key {
        QueryKey::Posts => {
            let page = repo::list_posts(conn, None, DEFAULT_PAGE_SIZE)?;
            ok(
                InfiniteData {
                    pages: vec![page],
                    page_params: vec![None::<String>],
                },
                now,
            )
        }
        QueryKey::Post(id) => {
            repo::get_post(conn, id)?.map_or(missing("post", now), |p| ok(p, now))
        }
        QueryKey::Comments(id) => {
            repo::list_comments(conn, id)?.map_or(missing("post", now), |c| ok(c, now))
        }
        QueryKey::Users => ok(repo::list_users(conn)?, now),
        QueryKey::User(id) => {
            repo::get_user(conn, id)?.map_or(missing("user", now), |u| ok(u, now))
        }
        QueryKey::UserPosts(id) => {
            repo::user_posts(conn, id)?.map_or(missing("user", now), |p| ok(p, now))
        }
        QueryKey::Deferred => ok(repo::stats(conn, now)?, now),
    })
}

/// Loads a route's state and works out its status and title.
pub fn prerender(
    conn: &mut DbConn,
    route: Route,
    now: i64,
) -> QueryResult<(u16, String, DehydratedState)> {
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
