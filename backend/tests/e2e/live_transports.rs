//! Live updates over each transport (issue 5): the backend's
//! `--live-transport` picks the one the SPA tries first; the SPA falls back
//! to the other when it cannot connect; a connection cut mid-stream resumes
//! from the last event id, so no event is lost.
//!
//! The browser talks to the backend through a TCP [`Proxy`], which stands for
//! the network: it can cut every connection and refuse new ones for a while,
//! or refuse WebSocket upgrades as some proxies do.

use crate::helpers::{Browser, PATIENCE, Proxy, TestApp, user_in_list};
use backend::config::LiveTransport;

/// The users list of a fresh session at `base`, with the live stream open.
async fn users_page(app: &TestApp, base: &str, transport: &str) -> Browser {
    let browser = app.browser_at(base).await;
    browser.goto("/users").await;
    browser.wait_for(&user_in_list(1)).await;
    browser.wait_for_live(transport).await;
    browser.mark_document().await;
    browser
}

/// Another client's edit shows in the list over `transport`, without reload.
async fn live_update_over(transport: LiveTransport) {
    let Some(app) = TestApp::start(|s| s.live_transport = transport).await else {
        return;
    };
    let browser = users_page(&app, &app.url, transport.name()).await;
    let name = format!("Renamed over {}", transport.name());
    app.rename(2, &name).await;
    browser
        .wait_for_text(&user_in_list(2), &name, PATIENCE)
        .await;
    browser.assert_not_reloaded().await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_updates_over_server_sent_events() {
    live_update_over(LiveTransport::Sse).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_updates_over_a_websocket() {
    live_update_over(LiveTransport::Websocket).await;
}

/// WebSocket preferred, but the network refuses upgrades: the SPA falls
/// back to SSE and live updates keep working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_websocket_falls_back_to_server_sent_events() {
    let Some(app) = TestApp::start(|s| s.live_transport = LiveTransport::Websocket).await else {
        return;
    };
    let proxy = Proxy::start(&app.url, true).await;
    let browser = users_page(&app, &proxy.url, "sse").await;
    app.rename(4, "Reached over the fallback").await;
    browser
        .wait_for_text(&user_in_list(4), "Reached over the fallback", PATIENCE)
        .await;
    browser.close().await;
}

/// The connection is cut mid-stream and stays down while other clients
/// write; when the network returns, the SPA reconnects over the same
/// transport, resumes from the last event it received, and shows every
/// write made during the gap (nothing refetches them: only the resumed
/// stream can bring them).
async fn cut_mid_stream(transport: LiveTransport) {
    let Some(app) = TestApp::start(|s| s.live_transport = transport).await else {
        return;
    };
    let proxy = Proxy::start(&app.url, false).await;
    let browser = users_page(&app, &proxy.url, transport.name()).await;
    // Mid-stream: events have arrived on this connection.
    app.rename(1, "Before the cut").await;
    browser
        .wait_for_text(&user_in_list(1), "Before the cut", PATIENCE)
        .await;

    let requests = browser.api_requests().await;
    proxy.down();
    browser.wait_for_live("connecting").await;
    let attempts = stream_attempts(&browser).await;
    let gap: Vec<(i64, String)> = (2..=5)
        .map(|id| (id, format!("Written in the gap {id}")))
        .collect();
    for (id, name) in &gap {
        app.rename(*id, name).await;
    }
    // Stay down across a failed reconnect round (both transports refused).
    wait_for_stream_attempts(&browser, attempts + 2).await;
    assert_ne!(
        browser.text(&user_in_list(2)).await,
        gap[0].1,
        "the gap's writes wait for the network"
    );
    proxy.up();

    browser.wait_for_live(transport.name()).await;
    app.rename(6, "After the cut").await;
    let mut shown: Vec<(String, String)> = gap
        .into_iter()
        .map(|(id, name)| (user_in_list(id), name))
        .collect();
    shown.push((user_in_list(6), "After the cut".into()));
    browser.see_without_refetch(&shown, &requests).await;
    browser.close().await;
}

/// How many live-update connections (`EventSource`, `WebSocket`) the page
/// has opened or tried to open.
async fn stream_attempts(browser: &Browser) -> u64 {
    browser
        .js("return window.__requests.filter(r => r.kind !== 'fetch').length")
        .await
        .as_u64()
        .expect("a count")
}

async fn wait_for_stream_attempts(browser: &Browser, at_least: u64) {
    browser
        .wait_until(
            &format!("window.__requests.filter(r => r.kind !== 'fetch').length >= {at_least}"),
            PATIENCE,
            &format!("{at_least} attempts to open the live stream"),
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_sent_events_cut_mid_stream_lose_no_event() {
    cut_mid_stream(LiveTransport::Sse).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_cut_mid_stream_loses_no_event() {
    cut_mid_stream(LiveTransport::Websocket).await;
}

/// A write made after the page was rendered but before the app's stream
/// opened still arrives: the first connection resumes from the event id the
/// page was rendered at.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_while_the_app_starts_is_not_missed() {
    let Some(app) = TestApp::start(|s| s.live_transport = LiveTransport::Websocket).await else {
        return;
    };
    // Neither transport can connect yet: upgrades are refused on the way,
    // the event stream is blocked in the browser.
    let proxy = Proxy::start(&app.url, true).await;
    let browser = app.browser_at(&proxy.url).await;
    browser.block_urls(&["*/api/events*"]).await;
    browser.goto("/users").await;
    browser.wait_for(&user_in_list(1)).await;
    browser.mark_document().await;
    // Both transports tried and refused.
    wait_for_stream_attempts(&browser, 2).await;
    assert_eq!(
        browser
            .js("return document.documentElement.dataset.live")
            .await,
        "connecting",
        "no stream is open"
    );
    app.rename(7, "Renamed while the app started").await;
    proxy.allow_websocket();
    browser.block_urls(&[]).await;
    browser.wait_for_live("websocket").await;
    browser
        .wait_for_text(&user_in_list(7), "Renamed while the app started", PATIENCE)
        .await;
    browser.assert_not_reloaded().await;
    browser.settle().await;
    let requests = browser.api_requests().await;
    assert!(
        requests.is_empty(),
        "the missed write came by replay, not a refetch: {requests:?}"
    );
    browser.close().await;
}

/// Pages loaded one after another each leave with their event stream
/// closed: a page kept in the back/forward cache with its stream open held
/// one of the six connections a browser allows per host, and after a few
/// loads the next page's requests waited for seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_after_page_the_next_request_never_waits_for_a_connection() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let browser = app.browser().await;
    for id in 1..=10 {
        browser.goto(&format!("/posts/{id}")).await;
        browser.wait_for_live("sse").await;
        let answered = browser
            .js("return Promise.race([
                    fetch('/api/posts?limit=1').then((r) => r.status),
                    new Promise((done) => setTimeout(() => done('waited 2 s'), 2000)),
                ])")
            .await;
        assert_eq!(answered, 200, "load {id}");
    }
    // Back to a page from that cache: its stream opens again, so what
    // others write meanwhile still shows.
    browser.client.back().await.expect("back");
    browser.wait_for_url_path("/posts/9").await;
    app.http
        .post(format!("{}/api/posts/9/comments", app.url))
        .json(&serde_json::json!({ "name": "Later", "email": "l@example.com", "body": "Written after leaving." }))
        .send()
        .await
        .expect("a comment");
    browser
        .wait_for_element_text("#comments", "Written after leaving.")
        .await;
}
