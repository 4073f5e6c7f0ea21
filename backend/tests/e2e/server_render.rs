//! Server-rendered HTML: every page's body is the app's own components
//! rendered by the backend from the state it embeds, so the content is there
//! before the wasm (and without JavaScript); the browser hydrates that HTML
//! instead of rendering again, keeping the server's nodes.

use crate::helpers::{Browser, PATIENCE, TestApp};
use fantoccini::Locator;
use serde_json::{Value, json};
use shared::Route;

/// Text every route's page shows, taken from the server's data.
async fn expected_text(app: &TestApp, route: Route) -> Vec<String> {
    let text = |v: &Value| v.as_str().expect("a string").to_owned();
    match route {
        Route::Home => vec!["Posts & Users".into()],
        Route::Posts => {
            let newest = app.api("/api/posts?limit=1").await;
            vec!["Select a post.".into(), text(&newest["items"][0]["title"])]
        }
        Route::Post(id) | Route::PostDeep(id) => {
            let post = app.api(&format!("/api/posts/{id}")).await;
            let comments = app.api(&format!("/api/posts/{id}/comments")).await;
            let users = app.api("/api/users").await;
            let author = users
                .as_array()
                .unwrap()
                .iter()
                .find(|u| u["id"] == post["user_id"])
                .expect("the author");
            vec![
                text(&post["title"]),
                text(&author["name"]),
                text(&comments["items"][0]["body"]),
            ]
        }
        Route::Users => {
            let users = app.api("/api/users").await;
            vec![text(&users[0]["name"]), text(&users[9]["name"])]
        }
        Route::User(id) => {
            let user = app.api(&format!("/api/users/{id}")).await;
            let posts = app.api(&format!("/api/users/{id}/posts")).await;
            vec![text(&user["email"]), text(&posts[0]["title"])]
        }
        Route::Deferred => vec!["come from a deliberately slow endpoint".into()],
        Route::RouteA | Route::RouteB => vec!["I'm a layout".into()],
        Route::SuspenseTransition(_) => vec!["Suspense Transition Test".into()],
        Route::TransitionCount(search) => vec![
            format!("n: {}", search.n()),
            format!("double: {}", search.n() * 2),
        ],
        Route::SignIn(_) => vec!["Demo accounts".into()],
        Route::NotFound => vec!["Not found".into()],
        Route::Redirect => unreachable!("a redirect has no page"),
    }
}

fn pages() -> impl Iterator<Item = Route> {
    Route::examples()
        .into_iter()
        .filter(|r| *r != Route::Redirect)
}

/// HTML-escaped the way the renderer writes text.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&#39;")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_is_in_the_servers_html() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    for route in pages() {
        let path = route.path();
        let response = app
            .http
            .get(format!("{}{path}", app.url))
            .send()
            .await
            .expect("the page");
        let status = response.status().as_u16();
        assert_eq!(
            status,
            if route == Route::NotFound { 404 } else { 200 },
            "{path}"
        );
        let html = response.text().await.expect("HTML");
        let body = html
            .split_once(&format!("<body data-ssr=\"{path}\""))
            .unwrap_or_else(|| panic!("{path}: no server-rendered body"))
            .1;
        for text in expected_text(&app, route).await {
            let found = body.contains(&text) || body.contains(&escaped(&text));
            assert!(found, "{path}: {text:?} is not in the server's HTML");
        }
        if route == Route::Deferred {
            assert!(
                body.contains("id=\"deferred-loading\""),
                "the slow part's fallback"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_javascript_every_page_shows_and_links_navigate() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let browser = app.browser().await;
    browser
        .cdp(
            "Emulation.setScriptExecutionDisabled",
            json!({ "value": true }),
        )
        .await;
    for route in pages() {
        let path = route.path();
        open_without_app(&app, &browser, &path).await;
        assert!(
            browser
                .client
                .find(Locator::Css("html[data-app]"))
                .await
                .is_err(),
            "{path}: the app ran"
        );
        let shown = page_text(&browser).await;
        for text in expected_text(&app, route).await {
            assert!(
                shown.contains(&text),
                "{path}: {text:?} not shown:\n{shown}"
            );
        }
    }
    // A link is a real link: the server answers the next page.
    open_without_app(&app, &browser, "/posts").await;
    let link = browser
        .client
        .find(Locator::Css("nav.main-nav a[href='/users']"))
        .await
        .expect("the users link");
    link.click().await.expect("a click");
    let users = app.api("/api/users").await;
    let first = users[0]["name"].as_str().unwrap();
    let deadline = std::time::Instant::now() + PATIENCE;
    while !page_text(&browser).await.contains(first) {
        assert!(
            std::time::Instant::now() < deadline,
            "the users page never showed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(browser.path().await, "/users");
    browser.close().await;
}

/// Opens `path` without waiting for the app (it does not run).
async fn open_without_app(app: &TestApp, browser: &Browser, path: &str) {
    browser
        .client
        .goto(&format!("{}{path}", app.url))
        .await
        .unwrap_or_else(|e| panic!("opening {path}: {e}"));
}

/// What the page shows (WebDriver's own text, no page script needed).
async fn page_text(browser: &Browser) -> String {
    browser
        .client
        .find(Locator::Css("body"))
        .await
        .expect("a body")
        .text()
        .await
        .expect("its text")
}

/// Records, from the start of the document, the node the server sent as the
/// main content's first element (before any script of the page runs).
const REMEMBER_SERVER_NODES: &str = r#"
new MutationObserver((records, observer) => {
  const first = document.querySelector('main > *');
  if (first && !window.__serverNode) {
    window.__serverNode = first;
    observer.disconnect();
  }
}).observe(document, { childList: true, subtree: true });"#;

/// The page's main content is still the node the server sent (recorded by
/// [`REMEMBER_SERVER_NODES`]): hydrated, not rendered again.
async fn kept_server_nodes(browser: &Browser) -> bool {
    browser
        .js("return document.querySelector('main > *') === window.__serverNode")
        .await
        == true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_hydrates_keeping_the_servers_nodes() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let browser = app.browser().await;
    browser.on_every_page(REMEMBER_SERVER_NODES).await;
    for route in pages() {
        let path = route.path();
        browser.goto(&path).await;
        browser.settle().await;
        let checks = browser
            .js("return {
                    headers: document.querySelectorAll('header.site-header').length,
                    mains: document.querySelectorAll('main').length,
                    stray: [...document.body.childNodes].filter(n => n.nodeType === 8).length,
                    ssr: document.body.dataset.ssr,
                }")
            .await;
        assert!(
            kept_server_nodes(&browser).await,
            "{path}: the server's nodes were replaced"
        );
        assert_eq!(checks["headers"], 1, "{path}: duplicated layout");
        assert_eq!(checks["mains"], 1, "{path}: duplicated layout");
        assert_eq!(checks["stray"], 0, "{path}: leftover render markers");
        assert_eq!(checks["ssr"], path.as_str(), "{path}");
        for text in expected_text(&app, route).await {
            let shown = browser.js("return document.body.innerText").await;
            assert!(
                shown.as_str().unwrap_or_default().contains(&text),
                "{path}: {text:?} not shown after hydration"
            );
        }
        let console = browser.console().await;
        assert!(
            !console
                .iter()
                .any(|line| line.contains("panicked") || line.contains("hydrat")),
            "{path}: the console says {console:?}"
        );
        // Interactive: a link navigates inside the app.
        browser.mark_document().await;
        let requests = browser.api_requests().await.len();
        browser.click("nav.main-nav a[href='/route-a']").await;
        browser.wait_for_path("/route-a").await;
        browser.wait_for("#nested-layout").await;
        browser.assert_not_reloaded().await;
        browser.settle().await;
        assert_eq!(
            browser.api_requests().await.len(),
            requests,
            "{path}: the layouts page needs no data"
        );
    }
    browser.close().await;
}

/// The browser's clock an hour ahead of the server's. The cache it persisted
/// is older than the data the server renders on the next load, though its
/// timestamps say otherwise: the server's state names its own clock, so the
/// newer data stays on the page after the persisted cache is restored, and
/// counts as fresh (no refetch).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persisted_cache_does_not_beat_newer_server_data_across_clock_skew() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let browser = app.browser().await;
    browser
        .on_every_page("const realNow = Date.now; Date.now = () => realNow.call(Date) + 3600000;")
        .await;
    // The browser fetches the post itself (its own clock stamps it): the
    // list from the home page by a client-side link, then the newest post.
    let newest = app.api("/api/posts?limit=1").await["items"][0].clone();
    let id = newest["id"].as_i64().unwrap();
    let before = newest["title"].as_str().unwrap().to_owned();
    browser.goto("/").await;
    browser.click("nav.main-nav a[href='/posts']").await;
    browser.open_listed_post(id).await;
    // Stored with the browser's own (skewed) timestamps.
    browser
        .wait_until(
            &format!(
                "(localStorage.getItem('querent-cache') || '').includes({})",
                json!(format!("[\"post\",{id}]"))
            ),
            PATIENCE,
            "the post in the persisted cache",
        )
        .await;
    assert_eq!(browser.text("#post-title").await, before);
    // Changed behind the app's back (no event reaches the tab); the server
    // has not rendered this page yet, so its next render reads the change.
    app.execute_sql(&format!(
        "UPDATE posts SET title = 'Changed while the tab was away' WHERE id = {id}"
    ));

    browser.reload().await;
    browser.wait_for_path(&format!("/posts/{id}")).await;
    browser.settle().await;
    assert_eq!(
        browser.text("#post-title").await,
        "Changed while the tab was away",
        "the server's newer data stays after the restore"
    );
    // And it is fresh by the browser's clock: nothing is fetched again (read
    // on the server's clock, the page's data would look an hour old).
    let requests = browser.api_requests().await;
    assert!(requests.is_empty(), "refetched: {requests:?}");
    browser.close().await;
}

/// A profile with changes still queued (their requests held on the way): the
/// reloaded page hydrates the server's HTML first (its nodes kept, no panic),
/// and the queued changes appear right after, still pending; released, each
/// is applied once. On `/posts` (a pending new post, listed as pending) and
/// `/posts/{id}` (a pending edit of that post, counted as pending).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_changes_show_right_after_hydration() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let browser = app.browser().await;
    browser.on_every_page(REMEMBER_SERVER_NODES).await;
    let title = "Queued across a reload";
    browser.goto("/posts").await;
    browser.hold_requests("*/api/posts").await;
    browser.fill("#new-post-title", title).await;
    browser.fill("#new-post-body", "Held on the way.").await;
    browser.click("#new-post-submit").await;
    browser.wait_for_text("#pending-count", "1", PATIENCE).await;

    browser.reload().await;
    assert!(kept_server_nodes(&browser).await, "/posts was hydrated");
    browser
        .wait_for("#post-list li.post-item[data-pending='true']")
        .await;
    browser.wait_for_text("#pending-count", "1", PATIENCE).await;

    // The open post, edited while its request is held.
    let id = app.api("/api/posts?limit=1").await["items"][0]["id"]
        .as_i64()
        .unwrap();
    browser.release_requests().await;
    browser.wait_gone("#pending-count").await;
    assert_eq!(app.posts_titled(title).await, 1, "sent once");
    browser.goto(&format!("/posts/{id}")).await;
    browser.hold_requests(&format!("*/api/posts/{id}")).await;
    browser.click("#edit-post").await;
    browser.fill("#edit-title", "Edited across a reload").await;
    browser.click("#save-post").await;
    browser.wait_for_text("#pending-count", "1", PATIENCE).await;

    browser.reload().await;
    assert!(
        kept_server_nodes(&browser).await,
        "/posts/{id} was hydrated"
    );
    // The server's data is newer than the optimistic edit the tab stored,
    // so the page shows the server's title while the edit is pending (as
    // TanStack Query does: a resumed mutation does not redo its optimistic
    // update); the confirmed edit then shows.
    browser.wait_for("#post-title").await;
    browser.wait_for_text("#pending-count", "1", PATIENCE).await;
    let console = browser.console().await;
    assert!(
        !console.iter().any(|line| line.contains("panicked")),
        "{console:?}"
    );
    browser.release_requests().await;
    browser.wait_gone("#pending-count").await;
    browser
        .wait_for_text("#post-title", "Edited across a reload", PATIENCE)
        .await;
    assert_eq!(
        app.api(&format!("/api/posts/{id}")).await["title"],
        "Edited across a reload"
    );
    browser.close().await;
}
