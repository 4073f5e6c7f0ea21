//! Scenario 9: the not-found page, `/redirect`, and the error boundary's
//! "Try again".

use crate::helpers::TestApp;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_page_goes_back_and_starts_over() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    assert_eq!(app.status("/no/such/page").await, 404);
    let browser = app.browser().await;
    browser.goto("/posts").await;
    browser.wait_for("#post-list li.post-item").await;
    browser.goto("/no/such/page").await;
    browser.wait_for("#not-found").await;

    browser.click("#go-back").await;
    browser.wait_for_path("/posts").await;
    browser.wait_for("#post-list li.post-item").await;

    browser.goto("/no/such/page").await;
    browser.wait_for("#not-found").await;
    browser.click("#start-over").await;
    browser.wait_for_path("/").await;
    browser.wait_for("section.home").await;
    browser.close().await;
}

/// A direct load of a missing post: the server's embedded 404 is the answer,
/// shown as "Post not found" without asking the API again (no retry on 404).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_post_loaded_directly_is_not_requested_again() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    assert_eq!(app.status("/posts/99999").await, 404);
    let browser = app.browser().await;
    browser.goto("/posts/99999").await;
    browser.wait_for("#post-not-found").await;
    browser.settle().await;
    let requests = browser.api_requests().await;
    assert!(
        !requests.iter().any(|r| r.contains("/api/posts/99999")),
        "the 404 came with the page: {requests:?}"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_ends_on_posts() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let browser = app.browser().await;
    // A direct load: the server's 307.
    browser.goto("/redirect").await;
    browser.wait_for_path("/posts").await;
    browser.wait_for("#post-list li.post-item").await;

    // The home page's link (a page load, so the server redirects again).
    browser.goto("/").await;
    browser.click("section.home a[href='/redirect']").await;
    browser.wait_for_path("/posts").await;
    browser.wait_for("#post-list li.post-item").await;

    // Inside the app (history push + popstate, as a router link would do):
    // the client-side redirect replaces the entry.
    browser.goto("/").await;
    browser.wait_for("section.home").await;
    browser
        .js("window.__sameDocument = true;
             history.pushState(null, '', '/redirect');
             dispatchEvent(new PopStateEvent('popstate', { state: null }));")
        .await;
    browser.wait_for_path("/posts").await;
    browser.wait_for("#post-list li.post-item").await;
    assert_eq!(
        browser.js("return window.__sameDocument === true").await,
        true
    );
    // `/redirect` was replaced: one step back is home.
    browser.client.back().await.unwrap();
    browser.wait_for_path("/").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_boundary_try_again_recovers() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let browser = app.browser().await;
    // A page whose state holds no users.
    browser.goto("/route-a").await;
    browser.wait_for("main h1").await;
    browser.block_urls(&["*/api/users*"]).await;

    // Users are not cached: the query fails (after its 3 retries, 1 + 2 + 4 s).
    browser.click("nav.main-nav a[href='/users']").await;
    browser.wait_for("#user-list.skeleton").await;
    browser
        .wait_until(
            "document.querySelector('#error-boundary')",
            // The first attempt and three retries, 1 + 2 + 4 s apart.
            Duration::from_secs(20),
            "the error boundary",
        )
        .await;
    assert!(!browser.exists("#user-list").await);

    browser.block_urls(&[]).await;
    browser.click("#try-again").await;
    browser.wait_for("#user-list li.user-item").await;
    assert!(!browser.exists("#error-boundary").await);
    browser.close().await;
}

/// On a phone-sized screen (390 x 844) a direct load of a post shows the
/// post on the first screen, with the list and the new-post form after it
/// (they stacked above it, the title at y = 1,478): in the server's HTML
/// (no JavaScript) and once the app runs; on a wide screen the list stays
/// on the left of the post.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_opened_post_is_on_the_first_screen_of_a_phone() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let phone =
        serde_json::json!({ "width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": true });
    for javascript in [false, true] {
        let browser = if javascript {
            app.browser().await
        } else {
            app.browser_without_javascript().await
        };
        browser
            .cdp("Emulation.setDeviceMetricsOverride", phone.clone())
            .await;
        if javascript {
            browser.goto("/posts/1").await;
        } else {
            browser.open("/posts/1").await;
        }
        let (_, top, _, _) = browser
            .wait_for("#post-title")
            .await
            .rectangle()
            .await
            .unwrap();
        assert!(
            top < 844.0,
            "the post's title starts at y = {top}, below the first screen"
        );
        browser.close().await;
    }
    let browser = app.browser().await;
    browser.goto("/posts/1").await;
    let (post_left, ..) = browser
        .wait_for("#post-title")
        .await
        .rectangle()
        .await
        .unwrap();
    let (list_left, ..) = browser
        .wait_for("#post-list")
        .await
        .rectangle()
        .await
        .unwrap();
    assert!(
        list_left < post_left,
        "wide: the list ({list_left}) left of the post ({post_left})"
    );
    browser.close().await;
}
