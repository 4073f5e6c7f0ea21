//! Every query of the app: its querent key, fetcher and options, derived
//! from the shared `QueryKey`, so loaders, hooks and the server agree.

use crate::api;
use querent::options::{FetchContext, next_page};
use querent::{Fetcher, QueryOptions};
use serde::de::IgnoredAny;
use shared::{DEFAULT_PAGE_SIZE, Doubled, Page, QueryKey};
use std::rc::Rc;

/// Each query with the type of its data: what the views' hooks take, and
/// what the cache is read and edited through (never by JSON path).
pub(crate) mod typed {
    use querent::typed::{Key, QuerySpec};
    use shared::{
        Comment, Doubled, InfiniteData, Page, Post, PostId, QueryKey, SessionInfo, Stats, User,
        UserId,
    };

    fn spec<T>(key: QueryKey) -> QuerySpec<T> {
        QuerySpec::new(Key::new(&key), super::fetcher(key), super::options(key))
    }

    /// The post list, every page fetched so far.
    pub(crate) fn posts() -> QuerySpec<InfiniteData<Page<Post>>> {
        spec(QueryKey::Posts)
    }

    /// One post.
    pub(crate) fn post(id: PostId) -> QuerySpec<Post> {
        spec(QueryKey::Post(id))
    }

    /// A post's comments, every page fetched so far.
    pub(crate) fn comments(id: PostId) -> QuerySpec<InfiniteData<Page<Comment>>> {
        spec(QueryKey::Comments(id))
    }

    /// Every user.
    pub(crate) fn users() -> QuerySpec<Vec<User>> {
        spec(QueryKey::Users)
    }

    /// One user.
    pub(crate) fn user(id: UserId) -> QuerySpec<User> {
        spec(QueryKey::User(id))
    }

    /// A user's posts.
    pub(crate) fn user_posts(id: UserId) -> QuerySpec<Vec<Post>> {
        spec(QueryKey::UserPosts(id))
    }

    /// The slow aggregate.
    pub(crate) fn deferred() -> QuerySpec<Stats> {
        spec(QueryKey::Deferred)
    }

    /// `n` and `n * 2` (`/suspense-transition`).
    pub(crate) fn double(n: i64) -> QuerySpec<Doubled> {
        spec(QueryKey::Double(n))
    }

    /// Who is signed in.
    pub(crate) fn session() -> QuerySpec<SessionInfo> {
        spec(QueryKey::Session)
    }

    /// `{n, double}` (`/transition/count/query`).
    pub(crate) fn transition_double(n: i64) -> QuerySpec<Doubled> {
        spec(QueryKey::TransitionDouble(n))
    }
}

/// `base` with the page size, and the cursor of the page asked for.
fn paged(base: &str, ctx: &FetchContext) -> String {
    match ctx.page_param_as::<String>() {
        Some(cursor) => format!("{base}?limit={DEFAULT_PAGE_SIZE}&cursor={cursor}"),
        None => format!("{base}?limit={DEFAULT_PAGE_SIZE}"),
    }
}

fn path(key: QueryKey, ctx: &FetchContext) -> String {
    match key {
        QueryKey::Double(_) | QueryKey::TransitionDouble(_) => key.canonical(),
        QueryKey::Posts => paged("/api/posts", ctx),
        QueryKey::Post(id) => format!("/api/posts/{id}"),
        QueryKey::Comments(id) => paged(&format!("/api/posts/{id}/comments"), ctx),
        QueryKey::Users => "/api/users".into(),
        QueryKey::User(id) => format!("/api/users/{id}"),
        QueryKey::UserPosts(id) => format!("/api/users/{id}/posts"),
        QueryKey::Deferred => "/api/deferred".into(),
        QueryKey::Session => "/api/session".into(),
    }
}

/// Fetches `key` from the API (or computes it, for the keys no API holds).
pub(crate) fn fetcher(key: QueryKey) -> Fetcher {
    Rc::new(move |ctx: FetchContext| {
        let path = path(key, &ctx);
        Box::pin(async move {
            match key {
                // TanStack's e2e routes wait 500 ms and 1 s here.
                QueryKey::Double(n) | QueryKey::TransitionDouble(n) => {
                    let delay = if matches!(key, QueryKey::Double(_)) {
                        500
                    } else {
                        1_000
                    };
                    let data = serde_json::to_value(Doubled::of(n)).unwrap_or_default();
                    api::computed(&path, delay, data).await
                }
                _ => api::get(&path, &ctx).await,
            }
        })
    })
}

/// Options per query: the post list and a post's comments are infinite
/// (cursor from `next_cursor`).
pub(crate) fn options(key: QueryKey) -> QueryOptions {
    match key {
        QueryKey::Posts | QueryKey::Comments(_) => QueryOptions {
            get_next_page_param: Some(next_page(|page: &Page<IgnoredAny>| {
                page.next_cursor.clone()
            })),
            ..QueryOptions::default()
        },
        // The slow aggregate: refetch on each visit after a short while.
        QueryKey::Deferred => QueryOptions {
            stale_time: Some(10_000.into()),
            ..QueryOptions::default()
        },
        _ => QueryOptions::default(),
    }
}

/// Key, fetcher and options of any query, untyped: for the route loaders
/// and the streamed adoption, which handle queries of every type alike.
pub(crate) fn spec(key: QueryKey) -> (querent::QueryKey, Fetcher, QueryOptions) {
    (querent::QueryKey::of(&key), fetcher(key), options(key))
}
