//! Scenario 7: offline. With the network cut, a new post is kept as pending
//! (and counted in the badge); a reload still opens the app (the service
//! worker's shell) with the list and the pending post (persisted); when the
//! network returns the post is sent, exactly once.
//!
//! The cut is real: the backend is stopped as well as the page being put
//! offline through DevTools, so nothing can be fetched from anywhere but the
//! service worker's cache and localStorage.

use crate::helpers::{Browser, PATIENCE, TestApp};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_added_offline_survives_a_reload_and_is_sent_once_online() {
    let Some(mut app) = TestApp::start(|_| {}).await else {
        return;
    };
    let title = "Written while offline";
    let browser = app.browser().await;
    browser.goto("/posts").await;
    browser.wait_for("#post-list li.post-item").await;
    app.cut_network(&browser).await;

    browser.fill("#new-post-title", title).await;
    browser
        .fill("#new-post-body", "Kept until the network returns.")
        .await;
    browser.click("#new-post-submit").await;
    let pending = browser
        .wait_for("#post-list li.post-item[data-pending='true']")
        .await;
    assert!(pending.text().await.unwrap().contains(title));
    browser.wait_for_text("#pending-count", "1", PATIENCE).await;

    // A reload with no network and no server.
    browser.js("window.__beforeReload = true").await;
    browser.reload().await;
    browser
        .wait_for("#post-list li.post-item[data-pending='true']")
        .await;
    assert_eq!(
        browser.js("return window.__beforeReload ?? null").await,
        serde_json::Value::Null,
        "the page did reload"
    );
    assert!(
        browser
            .text("#post-list li.post-item[data-pending='true']")
            .await
            .contains(title)
    );
    assert!(
        browser
            .count("#post-list li.post-item:not([data-pending])")
            .await
            >= 20,
        "the list is still shown"
    );
    browser.wait_for_text("#pending-count", "1", PATIENCE).await;
    assert_eq!(
        browser.text("#network-badge").await,
        "Offline · 1 pending",
        "the badge"
    );
    browser.screenshot("offline.png").await;
    app.restart_server().await;
    assert_eq!(app.posts_titled(title).await, 0, "nothing sent yet");

    browser.go_online().await;
    browser.wait_for("#network-badge[data-online='true']").await;
    browser.wait_gone("#pending-count").await;
    browser.wait_gone("li.post-item[data-pending]").await;
    assert_eq!(app.posts_titled(title).await, 1, "sent exactly once");
    browser.settle().await;
    assert_eq!(
        browser
            .js_with(
                "return [...document.querySelectorAll('#post-list li.post-item')]
                    .filter((li) => li.textContent.includes(arguments[0])).length",
                vec![json!(title)],
            )
            .await,
        1,
        "listed once"
    );
    assert_eq!(app.posts_titled(title).await, 1, "still exactly once");
    browser.close().await;
}

/// Two tabs of one browser share the persisted queue: a post added in one
/// while the server is unreachable shows as pending in the other, and when
/// the first tab is closed, the other one sends it once the server is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_queued_in_a_closed_tab_is_sent_by_another_tab() {
    let Some(mut app) = TestApp::start(|_| {}).await else {
        return;
    };
    let title = "Queued in a tab that closed";
    let browser = app.browser().await;
    browser.goto("/posts").await;
    browser.wait_for("#post-list li.post-item").await;
    let first = browser.client.window().await.expect("the first tab");
    let second = browser.open_new_tab().await;
    browser.goto("/posts").await;
    browser.wait_for("#post-list li.post-item").await;

    browser
        .client
        .switch_to_window(first.clone())
        .await
        .unwrap();
    app.stop_server().await;
    browser.fill("#new-post-title", title).await;
    browser
        .fill("#new-post-body", "Sent by the other tab.")
        .await;
    browser.click("#new-post-submit").await;
    browser
        .wait_for("#post-list li.post-item[data-pending='true']")
        .await;

    browser
        .client
        .switch_to_window(second.clone())
        .await
        .unwrap();
    let pending = browser
        .wait_for("#post-list li.post-item[data-pending='true']")
        .await;
    assert!(
        pending.text().await.unwrap().contains(title),
        "shown in the other tab"
    );
    browser.client.switch_to_window(first).await.unwrap();
    browser
        .client
        .close_window()
        .await
        .expect("closing the first tab");
    browser.client.switch_to_window(second).await.unwrap();

    app.restart_server().await;
    browser.wait_gone("#pending-count").await;
    browser
        .wait_until(
            &format!(
                "Array.from(document.querySelectorAll('#post-list li.post-item[data-post-id]')).some(li => li.textContent.includes({title:?}))"
            ),
            PATIENCE,
            "the sent post in the list",
        )
        .await;
    browser.settle().await;
    assert_eq!(app.posts_titled(title).await, 1, "sent exactly once");
    browser.close().await;
}

/// The tab crashes right after the badge counts a change made offline (no
/// `pagehide`, nothing flushed): a new tab of the same browser still has it
/// pending and sends it once. The queue is stored before the change shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_change_survives_a_tab_crash() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let title = "Pending when the tab crashed";
    let browser = app.browser().await;
    // The tab that will open the app again after the crash (a session's
    // tab that crashed takes no more commands).
    let first = browser.client.window().await.expect("the first tab");
    let second = browser.open_new_tab().await;
    browser
        .client
        .switch_to_window(first)
        .await
        .expect("back to the first tab");
    add_post_offline(&browser, title).await;
    // At once: well inside the persistence throttle (1 s).
    browser.crash_tab().await;

    browser
        .client
        .switch_to_window(second)
        .await
        .expect("the other tab");
    browser.goto("/posts").await;
    browser.wait_gone("#pending-count").await;
    browser.wait_gone("li.post-item[data-pending]").await;
    browser.settle().await;
    assert_eq!(app.posts_titled(title).await, 1, "sent exactly once");
    browser.close().await;
}

/// On `/posts` with the network cut, adds a post titled `title`, and
/// waits until it shows as the one pending change.
async fn add_post_offline(browser: &Browser, title: &str) {
    browser.goto("/posts").await;
    browser.wait_for("#post-list li.post-item").await;
    browser.go_offline().await;
    browser
        .wait_for("#network-badge[data-online='false']")
        .await;
    browser.fill("#new-post-title", title).await;
    browser
        .fill("#new-post-body", "Stored before it was shown.")
        .await;
    browser.click("#new-post-submit").await;
    browser.wait_for_text("#pending-count", "1", PATIENCE).await;
}

/// A change shown as pending survives the whole browser being killed
/// (SIGKILL, at once, so nothing is flushed): the next launch on the same
/// profile sends it, once. localStorage alone loses it (Chromium writes it
/// to disk some time later); the queue's strict IndexedDB commit comes
/// before the change shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_change_survives_the_browser_being_killed() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let title = "Pending when the browser was killed";
    let browser = app.browser_on_profile("killed").await;
    add_post_offline(&browser, title).await;
    browser.kill_browser().await;

    let browser = app.browser_on_profile("killed").await;
    browser.goto("/posts").await;
    browser
        .wait_until(
            &format!(
                "[...document.querySelectorAll('#post-list li.post-item')].some(li => li.textContent.includes({title:?}))"
            ),
            PATIENCE,
            "the post, sent after the relaunch",
        )
        .await;
    browser.wait_gone("#pending-count").await;
    browser.settle().await;
    assert_eq!(app.posts_titled(title).await, 1, "sent exactly once");
    browser.close().await;
}

/// Tabs sync over a `BroadcastChannel`: a query removed in one tab (here
/// with the devtools' "Remove", while a view used it) is removed in the
/// other tab too, which storage events could not tell.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_removed_in_one_tab_is_removed_in_the_other() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let row = r#"tr.querent-devtools-query[data-key='["post",1]']"#;
    let browser = app.browser().await;
    let first = browser.client.window().await.expect("the first tab");
    browser.goto("/posts/1").await;
    browser.wait_for("#post-title").await;

    let second = browser.open_new_tab().await;
    browser.goto("/posts/1").await;
    browser.wait_for("#post-title").await;
    browser.click("nav.main-nav a[href='/posts']").await;
    browser.wait_for("#select-a-post").await;
    browser.click("button.querent-devtools-toggle").await;
    browser.wait_for(row).await;

    browser
        .client
        .switch_to_window(first)
        .await
        .expect("the first tab");
    // Its view would fetch the post again at once; keep it from answering.
    browser.block_urls(&["*/api/posts/1"]).await;
    browser.click("button.querent-devtools-toggle").await;
    browser
        .click(&format!("{row} button[data-action='remove']"))
        .await;

    browser
        .client
        .switch_to_window(second)
        .await
        .expect("the second tab");
    browser.wait_gone(row).await;
    browser.close().await;
}
