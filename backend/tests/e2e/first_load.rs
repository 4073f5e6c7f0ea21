//! Scenario 1: the first load of `/posts/1` shows the post and the list from
//! the state the server embedded: no `/api/` request at all.

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_page_renders_from_embedded_state_without_api_requests() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let post = app.api("/api/posts/1").await;
    let newest = app.api("/api/posts?limit=1").await;
    let browser = app.browser().await;

    browser.goto("/posts/1").await;
    browser.wait_for("#post-title").await;
    assert_eq!(
        browser.text("#post-title").await,
        post["title"].as_str().unwrap()
    );
    // The date is a `select` over the cached post (`use_query_select`).
    let created = post["created_at"].as_str().unwrap();
    assert_eq!(
        browser.text("#post-date").await,
        format!("{} {}", &created[..10], &created[11..16]),
        "the post's date, formatted by its select"
    );
    assert_eq!(
        browser.count("#post-list li.post-item").await,
        20,
        "the first page of posts is listed"
    );
    assert_eq!(
        browser.text("#post-list li.post-item").await,
        newest["items"][0]["title"].as_str().unwrap()
    );
    browser.wait_for("#comments li.comment").await;
    browser.settle().await;

    let resources = browser
        .js("return performance.getEntriesByType('resource').map(e => e.name)")
        .await;
    assert!(
        resources
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().ends_with(".wasm")),
        "the app itself loaded: {resources}"
    );
    let api = browser.api_requests().await;
    assert!(api.is_empty(), "no API request on first load: {api:?}");

    browser.screenshot("posts.png").await;
    browser.close().await;
}
