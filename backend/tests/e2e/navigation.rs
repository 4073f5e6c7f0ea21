//! Scenario 2: moving between pages whose data is cached and fresh makes no
//! request at all: the list, a post, its deep view, and back.

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn navigating_between_cached_pages_makes_no_requests() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let newest = app.api("/api/posts?limit=1").await;
    let id = newest["items"][0]["id"].as_i64().unwrap();
    let title = newest["items"][0]["title"].as_str().unwrap().to_owned();
    let browser = app.browser().await;

    // The page load embeds the list, the post and its comments.
    browser.goto(&format!("/posts/{id}")).await;
    browser.wait_for("#comments li.comment").await;
    browser.settle().await;
    let before = browser.api_requests().await;
    assert!(before.is_empty(), "first load: {before:?}");
    // Survives only client-side navigation: a page load would also reset the
    // resource timeline and make the count below meaningless.
    browser.js("window.__sameDocument = true").await;

    browser.click("nav.main-nav a[href='/posts']").await;
    browser.wait_for("#select-a-post").await;
    browser.wait_for_path("/posts").await;

    let link = format!("#post-list li.post-item[data-post-id='{id}'] a");
    browser.click(&link).await;
    browser.wait_for_path(&format!("/posts/{id}")).await;
    assert_eq!(browser.text("#post-title").await, title);

    browser.click("#deep-view-link").await;
    browser.wait_for("#post-deep #post-title").await;
    browser.wait_for_path(&format!("/posts/{id}/deep")).await;
    browser.wait_for("#post-deep #comments li.comment").await;
    browser.screenshot("post-comments.png").await;

    browser.click("#all-posts-link").await;
    browser.wait_for("#select-a-post").await;

    // The browser's back button (popstate) too.
    browser.client.back().await.unwrap();
    browser.wait_for_path(&format!("/posts/{id}/deep")).await;
    browser.wait_for("#post-deep #post-title").await;

    browser.settle().await;
    assert_eq!(
        browser.js("return window.__sameDocument === true").await,
        true,
        "every navigation stayed inside the app"
    );
    let after = browser.api_requests().await;
    assert_eq!(after, before, "no request while navigating cached pages");
    browser.close().await;
}
