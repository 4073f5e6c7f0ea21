//! Scenario 8: `/deferred` stays interactive while its slow query loads.
//!
//! Opened directly, the page is the server's HTML with the stats' fallback,
//! hydrated at once; the stats follow in the same response (no API
//! request). Reached by a link, the app fetches them from the API; the slow
//! answer is held in the browser until the clicks are done, so the clicks
//! happen while it loads however slow the machine is.

use crate::helpers::{Browser, PATIENCE, SEED_COMMENTS, SEED_POSTS, SEED_USERS, TestApp};

/// The stats, as shown.
async fn shown_stats(browser: &Browser) -> serde_json::Value {
    browser
        .js("return [...document.querySelectorAll('#deferred-stats dd')].map((d) => d.textContent)")
        .await
}

fn seeded_stats() -> serde_json::Value {
    serde_json::json!([
        SEED_USERS.to_string(),
        SEED_POSTS.to_string(),
        SEED_COMMENTS.to_string()
    ])
}

/// Clicks the counter three times, each while the stats are still loading.
async fn count_to_three_while_loading(browser: &Browser) {
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opened_directly_the_stats_stream_in_with_the_page() {
    // Long enough for three clicks on any machine; the test waits it out.
    let Some(app) = TestApp::start(|s| s.deferred_delay_ms = 6_000).await else {
        return;
    };
    let browser = app.browser_not_waiting_for_load().await;
    // Returns once the app runs: while the response is still open.
    browser.goto("/deferred").await;
    assert_eq!(
        browser.js("return document.readyState").await,
        "loading",
        "the app took the page over before its response ended"
    );
    count_to_three_while_loading(&browser).await;
    browser.wait_for("#deferred-stats").await;
    assert_eq!(shown_stats(&browser).await, seeded_stats());
    assert_eq!(
        browser.text("#counter-value").await,
        "3",
        "the count survived"
    );
    assert!(
        !browser
            .api_requests()
            .await
            .iter()
            .any(|r| r.contains("/api/deferred")),
        "the stats came with the page, not from the API: {:?}",
        browser.api_requests().await
    );
    let console = browser.console().await;
    assert!(
        !console.iter().any(|l| l.contains("panicked")),
        "{console:?}"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reached_by_a_link_the_counter_works_while_the_api_answers() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let browser = app.browser().await;
    browser.goto("/").await;
    browser.hold_requests("*/api/deferred").await;
    browser.click("nav a[href='/deferred']").await;
    browser.wait_for("#deferred-loading").await;
    count_to_three_while_loading(&browser).await;
    browser.release_requests().await;
    browser.wait_for("#deferred-stats").await;
    assert_eq!(shown_stats(&browser).await, seeded_stats());
    assert_eq!(
        browser.text("#counter-value").await,
        "3",
        "the count survived"
    );
    browser.close().await;
}
