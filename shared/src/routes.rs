//! The route table: which URL is which page, and which queries its loader
//! needs. The backend prerenders exactly these queries; the SPA's loaders read
//! the same table, so server and client never disagree about a page's data.

use crate::ids::{PostId, UserId};
use crate::query_key::QueryKey;

/// Every page of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    /// `/`
    Home,
    /// `/posts`: the list with "Select a post."
    Posts,
    /// `/posts/{id}`: the list with one post open.
    Post(PostId),
    /// `/posts/{id}/deep`: one post outside the posts layout.
    PostDeep(PostId),
    /// `/users`
    Users,
    /// `/users/{id}`
    User(UserId),
    /// `/deferred`: slow data streamed in while the page stays interactive.
    Deferred,
    /// `/route-a`: nested layout demo.
    RouteA,
    /// `/route-b`: nested layout demo.
    RouteB,
    /// `/redirect`: answers 307 to `/posts`.
    Redirect,
    /// `/suspense-transition?n=`: a count and its double inside a Suspense
    /// boundary whose fallback never shows on navigation (TanStack's e2e
    /// route).
    SuspenseTransition(CountSearch),
    /// `/transition/count/query?n=`: a count and its double whose old
    /// values stay on screen while the next ones load (TanStack's e2e
    /// route).
    TransitionCount(CountSearch),
    /// `/sign-in?return_to=`: the sign-in form, and the page to go back
    /// to once signed in.
    SignIn(ReturnTo),
    /// Anything else.
    NotFound,
}

/// Where `/sign-in` goes back to once signed in: `?return_to=/posts/3`, a
/// page of the app (never the sign-in page itself, a redirect, a page that
/// does not exist or another site: a link cannot send a browser elsewhere).
/// Anything else, or nothing: the posts.
///
/// Held as the page's kind and its one number, so a route stays `Copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ReturnTo(Option<(u8, i64)>);

impl ReturnTo {
    /// Back to `route`: for a sign-in page, the page it goes back to; the
    /// posts for a page one does not return to (a redirect, not found).
    pub fn to(route: Route) -> Self {
        let (kind, n) = match route {
            Route::Home => (0, 0),
            Route::Post(id) => (1, id.0),
            Route::PostDeep(id) => (2, id.0),
            Route::Users => (3, 0),
            Route::User(id) => (4, id.0),
            Route::Deferred => (5, 0),
            Route::RouteA => (6, 0),
            Route::RouteB => (7, 0),
            Route::SuspenseTransition(search) => (8, search.n),
            Route::TransitionCount(search) => (9, search.n),
            // The sign-in page's own page to go back to.
            Route::SignIn(to) => return to,
            Route::Posts | Route::Redirect | Route::NotFound => return Self::default(),
        };
        Self(Some((kind, n)))
    }

    /// The page to go back to.
    pub fn route(self) -> Route {
        let count = |n| CountSearch::new(n).unwrap_or_default();
        match self.0 {
            Some((0, _)) => Route::Home,
            Some((1, n)) => Route::Post(PostId(n)),
            Some((2, n)) => Route::PostDeep(PostId(n)),
            Some((3, _)) => Route::Users,
            Some((4, n)) => Route::User(UserId(n)),
            Some((5, _)) => Route::Deferred,
            Some((6, _)) => Route::RouteA,
            Some((7, _)) => Route::RouteB,
            Some((8, n)) => Route::SuspenseTransition(count(n)),
            Some((9, n)) => Route::TransitionCount(count(n)),
            _ => Route::Posts,
        }
    }

    /// Back to the page at `path` (`/posts/3`, search params included).
    pub fn parse(path: &str) -> Self {
        if !path.starts_with('/') || path.starts_with("//") {
            return Self::default();
        }
        Self::to(Route::parse(path))
    }

    /// Reads `return_to` from a query string (`return_to=%2Fposts%2F3`,
    /// with or without `?`).
    fn from_query(query: &str) -> Self {
        query_param(query, "return_to")
            .and_then(percent_decoded)
            .map_or_else(Self::default, |path| Self::parse(&path))
    }

    /// The query pairs (none for the posts, so `/sign-in` is that one's URL).
    fn pairs(self) -> Vec<(&'static str, String)> {
        match self.0 {
            None => Vec::new(),
            Some(_) => vec![("return_to", self.route().path())],
        }
    }
}

/// The (first) value of `name` in a query string (`a=1&b=2`, with or
/// without `?`), as written.
fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

/// `text` with the characters that have a meaning in a query string
/// (`%`, `&`, `=`, `+`, `#`, `?`, space) written as `%XX`.
fn percent_encoded(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' | '&' | '=' | '+' | '#' | '?' | ' ' => {
                let b = c as usize;
                out.push('%');
                out.push(char::from(HEX[b >> 4]));
                out.push(char::from(HEX[b & 15]));
            }
            c => out.push(c),
        }
    }
    out
}

/// A query value decoded (`%XX`, and `+` for a space, as browsers write
/// forms); `None` if it is not UTF-8 or has a bad escape.
fn percent_decoded(value: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(value.len());
    let mut rest = value.bytes();
    while let Some(b) = rest.next() {
        match b {
            b'%' => {
                let digit = |b: u8| char::from(b).to_digit(16);
                let (high, low) = (digit(rest.next()?)?, digit(rest.next()?)?);
                bytes.push((high * 16 + low) as u8);
            }
            b'+' => bytes.push(b' '),
            b => bytes.push(b),
        }
    }
    String::from_utf8(bytes).ok()
}

/// The search params of the transition demos: `?n=`, an integer count.
/// Parsed from the URL, never failing: a missing, malformed or out of range
/// `n` is the default, 1 (TanStack's `validateSearch` with
/// `n: z.number().default(1)`, minus the error page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CountSearch {
    n: i64,
}

impl Default for CountSearch {
    fn default() -> Self {
        Self { n: 1 }
    }
}

impl CountSearch {
    /// The largest count taken (its double stays exact in JavaScript too).
    pub const MAX: i64 = 1_000_000_000;

    /// `n`, if it is in range (`-MAX..=MAX`).
    pub fn new(n: i64) -> Option<Self> {
        (-Self::MAX..=Self::MAX).contains(&n).then_some(Self { n })
    }

    /// The count.
    pub fn n(self) -> i64 {
        self.n
    }

    /// The params with `n` one more (the demos' "Increase" link).
    pub fn increased(self) -> Self {
        Self::new(self.n + 1).unwrap_or(self)
    }

    /// Reads `n` from a query string (`n=2&x=y`, with or without `?`); the
    /// default when it is missing or bad. A repeated `n` takes the first.
    pub fn parse(query: &str) -> Self {
        query_param(query, "n")
            .and_then(|n| {
                // Canonical decimal only, so each count has one URL.
                let digits = n.strip_prefix('-').unwrap_or(n);
                let canonical = !digits.is_empty()
                    && digits.bytes().all(|b| b.is_ascii_digit())
                    && (digits == "0" || !digits.starts_with('0'))
                    && n != "-0";
                canonical.then(|| n.parse().ok()).flatten()
            })
            .and_then(Self::new)
            .unwrap_or_default()
    }

    /// The query string pairs (none for the default, so the plain path is
    /// the default's one URL).
    pub fn pairs(self) -> Vec<(&'static str, String)> {
        if self == Self::default() {
            Vec::new()
        } else {
            vec![("n", self.n.to_string())]
        }
    }
}

/// What a page's loader needs: `ensure` must be in the cache before the page
/// renders; `prefetch` is started but never blocks rendering.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Loader {
    /// Must be present before render.
    pub ensure: Vec<QueryKey>,
    /// Nice to have; fetched without blocking.
    pub prefetch: Vec<QueryKey>,
    /// Slow: the page does not wait for them. A server-rendered page goes
    /// out with their fallback and their state follows in the same response
    /// (see `querent::hydration::DehydratedState::pending`); in the browser they are fetched
    /// without blocking, like `prefetch`.
    pub deferred: Vec<QueryKey>,
    /// How long a navigation to the route keeps the current page before it
    /// shows this route's pending view (TanStack Router's `pendingMs`);
    /// `None`: the app's default.
    pub pending_ms: Option<u64>,
    /// How long that pending view stays once shown, so it never flashes
    /// (TanStack Router's `pendingMinMs`); `None`: the app's default.
    pub pending_min_ms: Option<u64>,
}

impl Loader {
    /// `ensure` then `prefetch`: every key the page's state holds.
    pub fn all_keys(&self) -> Vec<QueryKey> {
        self.ensure.iter().chain(&self.prefetch).copied().collect()
    }

    /// Every key the page wants without blocking: `prefetch`, `deferred`.
    pub fn non_blocking_keys(&self) -> Vec<QueryKey> {
        self.prefetch
            .iter()
            .chain(&self.deferred)
            .copied()
            .collect()
    }
}

impl Route {
    /// One example of every route, for tests and tooling.
    pub fn examples() -> Vec<Route> {
        vec![
            Route::Home,
            Route::Posts,
            Route::Post(PostId(1)),
            Route::PostDeep(PostId(1)),
            Route::Users,
            Route::User(UserId(1)),
            Route::Deferred,
            Route::RouteA,
            Route::RouteB,
            Route::Redirect,
            Route::SuspenseTransition(CountSearch::default()),
            Route::TransitionCount(CountSearch { n: 2 }),
            Route::SignIn(ReturnTo::default()),
            Route::SignIn(ReturnTo::to(Route::Post(PostId(1)))),
            Route::NotFound,
        ]
    }

    /// Parses a URL path with its query string (a trailing slash and a
    /// fragment are ignored; so is the query, except the search params a
    /// route declares).
    pub fn parse(path: &str) -> Route {
        let path = path.split('#').next().unwrap_or("");
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match segments.as_slice() {
            // A static host serves the app's entry file by its own name too.
            [] | ["index.html"] => Route::Home,
            ["posts"] => Route::Posts,
            ["posts", id] => parse_id(id).map_or(Route::NotFound, |id| Route::Post(PostId(id))),
            ["posts", id, "deep"] => {
                parse_id(id).map_or(Route::NotFound, |id| Route::PostDeep(PostId(id)))
            }
            ["users"] => Route::Users,
            ["users", id] => parse_id(id).map_or(Route::NotFound, |id| Route::User(UserId(id))),
            ["deferred"] => Route::Deferred,
            ["route-a"] => Route::RouteA,
            ["route-b"] => Route::RouteB,
            ["redirect"] => Route::Redirect,
            ["suspense-transition"] => Route::SuspenseTransition(CountSearch::parse(query)),
            ["transition", "count", "query"] => Route::TransitionCount(CountSearch::parse(query)),
            ["sign-in"] => Route::SignIn(ReturnTo::from_query(query)),
            _ => Route::NotFound,
        }
    }

    /// The canonical URL of the route: its path and, where the route has
    /// search params other than their defaults, its query (`/404` for
    /// not-found).
    pub fn path(&self) -> String {
        let pairs = self.search();
        if pairs.is_empty() {
            return self.pathname();
        }
        let query: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", percent_encoded(v)))
            .collect();
        format!("{}?{}", self.pathname(), query.join("&"))
    }

    /// The URL a rendered page is named by, the route of `path` (the
    /// requested path, without its query): the route's canonical URL,
    /// search params included, or `path` itself for a page that does not
    /// exist. The server writes it into the page and the browser hydrates
    /// only where its own address gives the same.
    pub fn page_url(&self, path: &str) -> String {
        match self {
            Route::NotFound => path.to_owned(),
            route => route.path(),
        }
    }

    /// The route's search params as query pairs, not encoded (none for
    /// routes without any, or at their defaults).
    pub fn search(&self) -> Vec<(&'static str, String)> {
        match self {
            Route::SuspenseTransition(search) | Route::TransitionCount(search) => search.pairs(),
            Route::SignIn(to) => to.pairs(),
            _ => Vec::new(),
        }
    }

    /// The route's path without its query.
    pub fn pathname(&self) -> String {
        match self {
            Route::Home => "/".into(),
            Route::Posts => "/posts".into(),
            Route::Post(id) => format!("/posts/{id}"),
            Route::PostDeep(id) => format!("/posts/{id}/deep"),
            Route::Users => "/users".into(),
            Route::User(id) => format!("/users/{id}"),
            Route::Deferred => "/deferred".into(),
            Route::RouteA => "/route-a".into(),
            Route::RouteB => "/route-b".into(),
            Route::Redirect => "/redirect".into(),
            Route::SuspenseTransition(_) => "/suspense-transition".into(),
            Route::TransitionCount(_) => "/transition/count/query".into(),
            Route::SignIn(_) => "/sign-in".into(),
            Route::NotFound => "/404".into(),
        }
    }

    /// The queries this page's loader needs.
    ///
    /// `/deferred`'s one query is deferred on purpose: its data is slow, so
    /// the page renders at once and the data streams in after it.
    pub fn loader(&self) -> Loader {
        match *self {
            // The users are the authors' names (the post's byline and the
            // forms' author select): ten small rows, embedded with the page.
            Route::Posts => Loader {
                ensure: vec![QueryKey::Posts, QueryKey::Users],
                ..Loader::default()
            },
            Route::Post(id) => Loader {
                ensure: vec![QueryKey::Posts, QueryKey::Post(id), QueryKey::Users],
                prefetch: vec![QueryKey::Comments(id)],
                ..Loader::default()
            },
            Route::PostDeep(id) => Loader {
                ensure: vec![QueryKey::Post(id), QueryKey::Users],
                prefetch: vec![QueryKey::Comments(id)],
                ..Loader::default()
            },
            Route::Users => Loader {
                ensure: vec![QueryKey::Users],
                ..Loader::default()
            },
            Route::User(id) => Loader {
                ensure: vec![QueryKey::Users, QueryKey::User(id)],
                prefetch: vec![QueryKey::UserPosts(id)],
                ..Loader::default()
            },
            Route::Deferred => Loader {
                deferred: vec![QueryKey::Deferred],
                ..Loader::default()
            },
            // TanStack's transitions: the old values stay until the new
            // ones are there (their data takes about as long as the
            // default `pending_ms`), never a pending view.
            Route::SuspenseTransition(search) => Loader {
                ensure: vec![QueryKey::Double(search.n)],
                pending_ms: Some(u64::MAX),
                ..Loader::default()
            },
            Route::TransitionCount(search) => Loader {
                ensure: vec![QueryKey::TransitionDouble(search.n)],
                pending_ms: Some(u64::MAX),
                ..Loader::default()
            },
            Route::Home
            | Route::RouteA
            | Route::RouteB
            | Route::Redirect
            | Route::SignIn(_)
            | Route::NotFound => Loader::default(),
        }
    }

    /// The page's `<title>` when nothing more specific is known.
    pub fn title(&self) -> String {
        let page = match self {
            Route::Home => return "Posts & Users: Rust query demo".into(),
            Route::Posts => "Posts".to_owned(),
            Route::Post(id) | Route::PostDeep(id) => format!("Post {id}"),
            Route::Users => "Users".to_owned(),
            Route::User(id) => format!("User {id}"),
            Route::Deferred => "Deferred".to_owned(),
            Route::RouteA => "Route A".to_owned(),
            Route::RouteB => "Route B".to_owned(),
            Route::Redirect => "Redirecting".to_owned(),
            Route::SuspenseTransition(_) => "Suspense transition".to_owned(),
            Route::TransitionCount(_) => "Transition".to_owned(),
            Route::SignIn(_) => "Sign in".to_owned(),
            Route::NotFound => "Not found".to_owned(),
        };
        format!("{page} · Posts & Users")
    }

    /// The page's meta description.
    pub fn description(&self) -> &'static str {
        match self {
            Route::Home => "A Yew SPA and an Actix backend sharing one query cache architecture.",
            Route::Posts | Route::Post(_) | Route::PostDeep(_) => "Posts and their comments.",
            Route::Users | Route::User(_) => "Users, their posts and live activity.",
            Route::Deferred => "Slow data streamed in while the page stays interactive.",
            Route::RouteA | Route::RouteB => "Nested layouts.",
            Route::Redirect => "Redirecting to the posts.",
            Route::SuspenseTransition(_) | Route::TransitionCount(_) => {
                "A search-param navigation that keeps the old values on screen."
            }
            Route::SignIn(_) => "Sign in to write posts and comments.",
            Route::NotFound => "This page does not exist.",
        }
    }
}

/// Ids are positive decimal integers without sign or leading zeros, so every
/// page has exactly one URL.
fn parse_id(s: &str) -> Option<i64> {
    if s.is_empty() || s.starts_with('0') || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_round_trips_through_its_path() {
        for route in Route::examples() {
            if route == Route::NotFound {
                continue;
            }
            assert_eq!(Route::parse(&route.path()), route, "{}", route.path());
        }
    }

    #[test]
    fn search_params_are_parsed_and_bad_ones_are_the_default() {
        let count = |path: &str| match Route::parse(path) {
            Route::TransitionCount(search) => search.n(),
            other => panic!("{path}: {other:?}"),
        };
        assert_eq!(count("/transition/count/query"), 1);
        assert_eq!(count("/transition/count/query?n=2"), 2);
        assert_eq!(count("/transition/count/query?x=1&n=-7#top"), -7);
        assert_eq!(count("/transition/count/query?n=2&n=3"), 2);
        for bad in [
            "n=",
            "n=abc",
            "n=1.5",
            "n=02",
            "n=-0",
            "n=+2",
            "n=%32",
            "n=99999999999999999999",
            "n=1000000001",
            "n",
        ] {
            assert_eq!(count(&format!("/transition/count/query?{bad}")), 1, "{bad}");
        }
        assert_eq!(
            Route::SuspenseTransition(CountSearch::parse("n=5")).path(),
            "/suspense-transition?n=5"
        );
        assert_eq!(
            Route::SuspenseTransition(CountSearch::default()).path(),
            "/suspense-transition",
            "the default has one URL: without a query"
        );
    }

    #[test]
    fn a_routes_search_params_are_part_of_its_loader_keys() {
        let at = |n: i64| {
            Route::TransitionCount(CountSearch::new(n).unwrap())
                .loader()
                .ensure
        };
        assert_eq!(at(2), vec![QueryKey::TransitionDouble(2)]);
        assert_eq!(at(3), vec![QueryKey::TransitionDouble(3)]);
    }

    #[test]
    fn trailing_slash_and_query_are_ignored() {
        assert_eq!(Route::parse("/posts/"), Route::Posts);
        assert_eq!(Route::parse("/posts/5?x=1"), Route::Post(PostId(5)));
        assert_eq!(Route::parse(""), Route::Home);
        assert_eq!(
            Route::parse("/index.html"),
            Route::Home,
            "a static host's entry file"
        );
    }

    #[test]
    fn unknown_and_malformed_paths_are_not_found() {
        for path in [
            "/nope",
            "/posts/abc",
            "/posts/-1",
            "/posts/01",
            "/posts/1/deeper",
            "/posts/99999999999999999999",
            "/users/1/x",
        ] {
            assert_eq!(Route::parse(path), Route::NotFound, "{path}");
        }
    }

    #[test]
    fn loaders_never_repeat_a_key() {
        for route in Route::examples() {
            let keys = route.loader().all_keys();
            let unique: std::collections::HashSet<_> = keys.iter().collect();
            assert_eq!(unique.len(), keys.len(), "{route:?}");
        }
    }

    #[test]
    fn post_page_ensures_post_and_prefetches_comments() {
        let loader = Route::Post(PostId(4)).loader();
        assert!(loader.ensure.contains(&QueryKey::Post(PostId(4))));
        assert_eq!(loader.prefetch, vec![QueryKey::Comments(PostId(4))]);
    }
}

#[cfg(test)]
mod properties {
    use super::{CountSearch, ReturnTo, Route};
    use crate::ids::{PostId, UserId};
    use proptest::prelude::*;

    #[test]
    fn signing_in_returns_only_to_a_page_of_the_app() {
        let back = |query: &str| match Route::parse(&format!("/sign-in{query}")) {
            Route::SignIn(to) => to.route(),
            other => panic!("{query}: {other:?}"),
        };
        assert_eq!(back(""), Route::Posts);
        assert_eq!(back("?return_to=/posts/3"), Route::Post(PostId(3)));
        assert_eq!(back("?return_to=%2Fusers%2F2"), Route::User(UserId(2)));
        // A sign-in page's own page to go back to.
        assert_eq!(
            back("?return_to=/sign-in%3Freturn_to%3D/posts/3"),
            Route::Post(PostId(3))
        );
        assert_eq!(
            back("?x=1&return_to=/transition/count/query%3Fn%3D5"),
            Route::TransitionCount(CountSearch::new(5).unwrap())
        );
        for elsewhere in [
            "?return_to=//evil.example/posts",
            "?return_to=https://evil.example/",
            "?return_to=%2F%2Fevil.example",
            "?return_to=/redirect",
            "?return_to=/no-such-page",
            "?return_to=posts/3",
            "?return_to=%E2%28",
            "?return_to=%2",
        ] {
            assert_eq!(back(elsewhere), Route::Posts, "{elsewhere}");
        }
        let to_count = Route::SignIn(ReturnTo::to(Route::TransitionCount(
            CountSearch::new(5).unwrap(),
        )));
        assert_eq!(
            to_count.path(),
            "/sign-in?return_to=/transition/count/query%3Fn%3D5"
        );
        assert_eq!(Route::SignIn(ReturnTo::to(Route::Posts)).path(), "/sign-in");
    }

    /// Every route but the sign-in page.
    fn any_page() -> impl Strategy<Value = Route> {
        let id = 1..i64::MAX;
        prop_oneof![
            Just(Route::Home),
            Just(Route::Posts),
            id.clone().prop_map(|i| Route::Post(PostId(i))),
            id.clone().prop_map(|i| Route::PostDeep(PostId(i))),
            Just(Route::Users),
            id.prop_map(|i| Route::User(UserId(i))),
            Just(Route::Deferred),
            Just(Route::RouteA),
            Just(Route::RouteB),
            Just(Route::Redirect),
            (-CountSearch::MAX..=CountSearch::MAX)
                .prop_map(|n| Route::SuspenseTransition(CountSearch::new(n).unwrap())),
            (-CountSearch::MAX..=CountSearch::MAX)
                .prop_map(|n| Route::TransitionCount(CountSearch::new(n).unwrap())),
        ]
    }

    fn any_route() -> impl Strategy<Value = Route> {
        prop_oneof![
            any_page(),
            any_page().prop_map(|page| Route::SignIn(ReturnTo::to(page))),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Every route's path parses back to it, with or without a trailing
        /// slash, other query params or a fragment.
        #[test]
        fn a_routes_path_parses_back(
            route in any_route(),
            slash in proptest::bool::ANY,
            extra in "([a-m=&]{1,8})?",
            fragment in "(#[a-z]{0,4})?",
        ) {
            let mut query: Vec<String> =
                route.search().iter().map(|(k, v)| format!("{k}={}", super::percent_encoded(v))).collect();
            if !extra.is_empty() {
                query.push(extra);
            }
            let query = if query.is_empty() { String::new() } else { format!("?{}", query.join("&")) };
            let path = format!("{}{}{query}{fragment}", route.pathname(), if slash { "/" } else { "" });
            prop_assert_eq!(Route::parse(&path), route);
        }

        /// Any path parses (never panics), and what it parses to is stable:
        /// the route's own path parses to the same route.
        #[test]
        fn any_path_parses_to_a_stable_route(path in "(/[a-z0-9%.-]{0,12}){0,4}|\\PC{0,30}") {
            let route = Route::parse(&path);
            if route != Route::NotFound {
                prop_assert_eq!(Route::parse(&route.path()), route);
            }
        }
    }
}
