//! TanStack's e2e routes for transitions, and typed search params:
//! `/suspense-transition` (its `app.spec.ts` "Manual Suspense boundaries
//! should transition on navigation") and `/transition/count/query` (its
//! `transition.spec.ts`), translated step by step; a search-param URL
//! server-rendered with its params; a bad param read as the default.
//!
//! What is on screen is sampled on every animation frame (TanStack's spec
//! polls the body every 50 ms).

use crate::helpers::{Browser, PATIENCE, TestApp};
use serde_json::Value;

/// Records, on every animation frame, whether the body said "Loading..."
/// and whether the Suspense fallback was there.
const WATCH_LOADING: &str = "
    window.__sawLoading = false;
    window.__sawFallback = false;
    const tick = () => {
        if (document.body.innerText.includes('Loading...')) window.__sawLoading = true;
        if (document.querySelector('#suspense-fallback')) window.__sawFallback = true;
        requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);";

async fn flag(browser: &Browser, name: &str) -> bool {
    browser.js(&format!("return window.{name}")).await == Value::Bool(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transition_count_query_keeps_the_old_values_visible_during_navigation() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let browser = app.browser().await;
    // Reached from the home page, as TanStack's example links it.
    browser.goto("/").await;
    browser.click("#transition-link").await;
    browser.wait_for_path("/transition/count/query").await;
    browser.wait_for_text("#n-value", "n: 1", PATIENCE).await;
    browser
        .wait_for_text("#double-value", "double: 2", PATIENCE)
        .await;
    browser.js(WATCH_LOADING).await;

    browser.click("#increase-button").await;
    // The old values stay while the next count loads (a second here).
    assert_eq!(browser.text("#n-value").await, "n: 1");
    assert_eq!(browser.text("#double-value").await, "double: 2");
    browser.wait_for_text("#n-value", "n: 2", PATIENCE).await;
    browser
        .wait_for_text("#double-value", "double: 4", PATIENCE)
        .await;
    assert_eq!(
        browser
            .js("return location.pathname + location.search")
            .await,
        "/transition/count/query?n=2"
    );
    assert!(
        !flag(&browser, "__sawLoading").await,
        "\"Loading...\" appeared during the navigation"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_suspense_boundaries_transition_on_navigation() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let browser = app.browser().await;
    browser.goto("/").await;
    browser.click("#suspense-transition-link").await;
    browser.wait_for_path("/suspense-transition").await;
    browser.wait_for_text("#n-value", "1", PATIENCE).await;
    browser.wait_for_text("#double-value", "2", PATIENCE).await;
    browser.js(WATCH_LOADING).await;

    browser.click("#increase-button").await;
    // During the transition the old content stays, without the fallback.
    assert!(browser.exists("#suspense-content").await);
    browser.wait_for_text("#n-value", "2", PATIENCE).await;
    browser.wait_for_text("#double-value", "4", PATIENCE).await;
    assert!(
        !flag(&browser, "__sawFallback").await,
        "the Suspense fallback showed during the navigation"
    );

    // Back: the cached count shows again at once.
    browser.client.back().await.expect("back");
    browser.wait_for_text("#n-value", "1", PATIENCE).await;
    assert_eq!(browser.text("#double-value").await, "2");
    assert!(!flag(&browser, "__sawFallback").await);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_params_are_server_rendered_and_bad_ones_are_the_default() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let browser = app.browser_without_javascript().await;
    for (url, n, double) in [
        ("/transition/count/query?n=2", "n: 2", "double: 4"),
        ("/transition/count/query?n=abc", "n: 1", "double: 2"),
        ("/transition/count/query", "n: 1", "double: 2"),
    ] {
        browser.open(url).await;
        assert_eq!(browser.text("#n-value").await, n, "{url}");
        assert_eq!(browser.text("#double-value").await, double, "{url}");
    }
    browser.open("/suspense-transition?n=21").await;
    assert_eq!(browser.text("#n-value").await, "21");
    assert_eq!(browser.text("#double-value").await, "42");
    // The increase link is a real link to the next count.
    assert_eq!(
        browser
            .js("return document.querySelector('#increase-button').getAttribute('href')")
            .await,
        "/suspense-transition?n=22"
    );
    browser.close().await;
}
