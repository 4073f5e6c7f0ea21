//! Scenario 8: `/deferred` stays interactive while its slow query loads.
//! The slow answer is held in the browser until the clicks are done, so the
//! clicks happen while it loads however slow the machine is.

use crate::helpers::{PATIENCE, SEED_COMMENTS, SEED_POSTS, SEED_USERS, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counter_works_while_the_slow_query_loads() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let browser = app.browser().await;
    browser.hold_requests("*/api/deferred").await;
    browser.goto("/deferred").await;
    browser.wait_for("#deferred-loading").await;
    for n in 1..=3 {
        browser.click("#counter-increment").await;
        browser
            .wait_for_text("#counter-value", &n.to_string(), PATIENCE)
            .await;
        assert!(
            browser.exists("#deferred-loading").await,
            "click {n} happened while the stats were still loading"
        );
    }
    browser.release_requests().await;
    browser.wait_for("#deferred-stats").await;
    let stats = browser
        .js("return [...document.querySelectorAll('#deferred-stats dd')].map((d) => d.textContent)")
        .await;
    assert_eq!(
        stats,
        serde_json::json!([
            SEED_USERS.to_string(),
            SEED_POSTS.to_string(),
            SEED_COMMENTS.to_string()
        ])
    );
    assert_eq!(
        browser.text("#counter-value").await,
        "3",
        "the count survived"
    );
    browser.close().await;
}
