//! Scenario 3: hovering a post link prefetches the post (after the 50 ms
//! intent delay); the click then renders it at once, without any loading
//! state and without another request.

use crate::helpers::{COMMENTS_QUERY, PATIENCE, TestApp};

/// Counts every loading state (`.skeleton`, `aria-busy`) added to the page
/// from now on, however briefly it stays.
const WATCH_LOADING_STATES: &str = "
    window.__loadingStates = 0;
    const loading = '.skeleton, [aria-busy=\"true\"]';
    new MutationObserver((records) => {
        for (const record of records) {
            for (const node of record.addedNodes) {
                if (node.nodeType === 1 && (node.matches(loading) || node.querySelector(loading))) {
                    window.__loadingStates += 1;
                }
            }
        }
    }).observe(document.body, { childList: true, subtree: true });";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hovered_post_is_prefetched_and_opens_without_loading_state() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let browser = app.browser().await;
    browser.goto("/posts").await;
    browser.wait_for("#select-a-post").await;
    let item = browser
        .wait_for("#post-list li.post-item:nth-child(3)")
        .await;
    let id = item.attr("data-post-id").await.unwrap().expect("a post id");
    let post = app.api(&format!("/api/posts/{id}")).await;
    browser.settle().await;
    let post_path = format!("/api/posts/{id}");
    let comments_path = format!("/api/posts/{id}/comments?{COMMENTS_QUERY}");
    assert!(
        browser.api_requests().await.is_empty(),
        "nothing fetched before the hover"
    );

    let link = format!("#post-list li.post-item[data-post-id='{id}'] a");
    browser.hover(&link).await;
    browser
        .wait_until(
            &format!(
                "performance.getEntriesByType('resource').some(e => e.name.endsWith({:?}))",
                post_path
            ),
            PATIENCE,
            "the hover to prefetch the post",
        )
        .await;
    // Its data is in the cache once nothing fetches any more.
    browser.settle().await;
    let requests = browser.api_requests().await;
    assert_eq!(
        requests,
        vec![post_path.clone(), comments_path.clone()],
        "the hover prefetched the post's route (the post and its comments)"
    );

    browser.js(WATCH_LOADING_STATES).await;
    browser.click(&link).await;
    // Checked right after the click, without waiting: the post is there.
    let title = browser
        .js("return document.getElementById('post-title')?.textContent ?? null")
        .await;
    assert_eq!(title, post["title"], "the post rendered with the click");
    assert!(browser.exists("#comments li.comment").await, "comments too");
    browser.settle().await;
    assert_eq!(
        browser.js("return window.__loadingStates").await,
        0,
        "no loading state appeared"
    );
    assert_eq!(
        browser.api_requests().await,
        requests,
        "the click fetched nothing"
    );
    assert_eq!(browser.path().await, format!("/posts/{id}"));
    browser.close().await;
}
