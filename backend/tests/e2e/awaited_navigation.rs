//! Navigation waits for the route's `ensure` data, as TanStack Router's
//! loaders do: the current page stays meanwhile, the route's pending view
//! (the skeleton) only after `pending_ms` (1 s), a newer navigation wins,
//! and scrolling follows the history entries (a new page at the top, back
//! and forward where each was left).
//!
//! The API is slowed by the test (the browser holds the request), and what
//! is on screen is sampled on every animation frame: the tests assert what
//! was shown, in order, never how long it took.

use crate::helpers::{Browser, PATIENCE, TestApp};
use crate::paging::scroll_until;
use serde_json::{Value, json};
use std::time::Duration;

/// Records, on every animation frame, what the post column shows: the
/// post's skeleton, a post's title, or neither; each change once.
const WATCH_POST_COLUMN: &str = "
    const frames = [];
    window.__frames = frames;
    const tick = () => {
        const title = document.querySelector('#post-title');
        const state = document.querySelector('article.post.skeleton') ? 'skeleton'
            : title ? 'title:' + title.textContent : 'none';
        if (frames[frames.length - 1] !== state) frames.push(state);
        requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);";

/// The newest posts: (id, title) of the first `n` in the list.
async fn newest(app: &TestApp, n: usize) -> Vec<(i64, String)> {
    let page = app.api(&format!("/api/posts?limit={n}")).await;
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| {
            let id = p["id"].as_i64().expect("an id");
            (id, p["title"].as_str().expect("a title").to_owned())
        })
        .collect()
}

/// A browser on `/posts/{id}` with the page's data settled and the post
/// column watched from now on.
async fn on_post(app: &TestApp, id: i64) -> Browser {
    let browser = app.browser().await;
    browser.goto(&format!("/posts/{id}")).await;
    browser.wait_for("#post-title").await;
    browser.settle().await;
    browser.js(WATCH_POST_COLUMN).await;
    browser
}

async fn frames(browser: &Browser) -> Vec<String> {
    let frames = browser.js("return window.__frames").await;
    serde_json::from_value::<Vec<String>>(frames).expect("the recorded frames")
}

fn link(id: i64) -> String {
    format!("#post-list li.post-item[data-post-id='{id}'] a")
}

/// Clicks post `to` in the list while its request is held for `held`.
async fn open_held(browser: &Browser, to: i64, held: Duration) {
    browser.hold_requests(&format!("*/api/posts/{to}")).await;
    browser.click(&link(to)).await;
    browser.wait_for_path(&format!("/posts/{to}")).await;
    tokio::time::sleep(held).await;
    browser.release_requests().await;
}

/// Opens the second newest post from the newest, its request held for
/// `held`: what the post column showed meanwhile, then the two posts' own
/// frames (`None` where the suite cannot run).
async fn shown_while_opening(held: Duration) -> Option<(Vec<String>, String, String)> {
    let app = TestApp::start(|_| {}).await?;
    let posts = newest(&app, 2).await;
    let ((from, from_title), (to, to_title)) = (posts[0].clone(), posts[1].clone());
    let browser = on_post(&app, from).await;
    open_held(&browser, to, held).await;
    browser
        .wait_for_text("#post-title", &to_title, PATIENCE)
        .await;
    let shown = frames(&browser).await;
    browser.close().await;
    Some((
        shown,
        format!("title:{from_title}"),
        format!("title:{to_title}"),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_that_loads_within_a_second_replaces_the_old_one_without_a_skeleton() {
    let Some((shown, from, to)) = shown_while_opening(Duration::from_millis(800)).await else {
        return;
    };
    assert_eq!(
        shown,
        vec![from, to],
        "the old post stays on screen until the new one is there"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_post_shows_its_skeleton_after_a_while_until_it_comes() {
    let Some((shown, from, to)) = shown_while_opening(Duration::from_secs(3)).await else {
        return;
    };
    assert_eq!(
        shown,
        vec![from, "skeleton".to_owned(), to],
        "the old post, then the pending view, then the new post"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_click_during_a_navigation_wins() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let posts = newest(&app, 3).await;
    let (from, (first, first_title), (second, second_title)) =
        (posts[0].0, posts[1].clone(), posts[2].clone());
    let browser = on_post(&app, from).await;

    // Every answer takes 2 s: the first navigation's data arrives while
    // the second still waits for its own.
    browser.cdp("Network.enable", json!({})).await;
    browser
        .cdp(
            "Network.emulateNetworkConditions",
            json!({ "offline": false, "latency": 2000,
                    "downloadThroughput": -1, "uploadThroughput": -1 }),
        )
        .await;
    browser.click(&link(first)).await;
    browser.wait_for_path(&format!("/posts/{first}")).await;
    browser.click(&link(second)).await;
    browser.wait_for_path(&format!("/posts/{second}")).await;
    browser
        .wait_for_text("#post-title", &second_title, PATIENCE)
        .await;
    browser.settle().await;
    let shown = frames(&browser).await;
    assert!(
        !shown.contains(&format!("title:{first_title}")),
        "the superseded navigation never showed: {shown:?}"
    );
    assert_eq!(
        shown.last(),
        Some(&format!("title:{second_title}")),
        "{shown:?}"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_click_during_a_hover_preload_waits_for_that_fetch() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let posts = newest(&app, 2).await;
    let (from, (to, to_title)) = (posts[0].0, posts[1].clone());
    let browser = on_post(&app, from).await;
    let post_path = format!("/api/posts/{to}");

    browser.hold_requests(&format!("*{post_path}")).await;
    browser.hover(&link(to)).await;
    browser
        .wait_until(
            &format!("window.__requests.some(r => r.path === {post_path:?})"),
            PATIENCE,
            "the hover to start fetching the post",
        )
        .await;
    browser.click(&link(to)).await;
    browser.release_requests().await;
    browser
        .wait_for_text("#post-title", &to_title, PATIENCE)
        .await;
    browser.settle().await;
    let asked = browser
        .api_requests()
        .await
        .into_iter()
        .filter(|p| *p == post_path)
        .count();
    assert_eq!(asked, 1, "the navigation joined the hover's fetch");
    browser.close().await;
}

async fn scroll_y(browser: &Browser) -> f64 {
    match browser.js("return window.scrollY").await {
        Value::Number(n) => n.as_f64().expect("a number"),
        other => panic!("scrollY: {other}"),
    }
}

async fn wait_for_scroll(browser: &Browser, y: f64, what: &str) {
    browser
        .wait_until(
            &format!("Math.abs(window.scrollY - {y}) < 2"),
            PATIENCE,
            what,
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_and_forward_return_to_where_each_page_was_left() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let browser = app.browser().await;
    browser.goto("/posts").await;
    scroll_until(&browser, 40).await;
    browser.settle().await;
    // The 30th post, in the second page, brought to the middle of the screen.
    let item = "#post-list li.post-item:nth-child(30)";
    let id = browser
        .wait_for(item)
        .await
        .attr("data-post-id")
        .await
        .unwrap()
        .expect("a post id");
    browser
        .js(&format!(
            "document.querySelector({item:?}).scrollIntoView({{ block: 'center' }})"
        ))
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let left_at = scroll_y(&browser).await;
    assert!(left_at > 500.0, "the list is scrolled: {left_at}");

    browser.click(&format!("{item} a")).await;
    browser.wait_for_path(&format!("/posts/{id}")).await;
    browser.wait_for("#post-title").await;
    wait_for_scroll(&browser, 0.0, "a new page to start at the top").await;

    browser.client.back().await.expect("back");
    browser.wait_for_path("/posts").await;
    wait_for_scroll(&browser, left_at, "back: the list where it was left").await;

    browser.client.forward().await.expect("forward");
    browser.wait_for_path(&format!("/posts/{id}")).await;
    wait_for_scroll(&browser, 0.0, "forward: the post where it was left").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn try_again_re_runs_the_routes_loader() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let browser = app.browser().await;
    browser.goto("/users").await;
    browser.wait_for("#user-list li.user-item").await;
    // The API answers 500 for the user and their posts (no users table),
    // after the three retries (1 + 2 + 4 s).
    app.execute_sql("ALTER TABLE users RENAME TO users_away");
    browser
        .click("#user-list li.user-item[data-user-id='3'] a")
        .await;
    browser.wait_for_path("/users/3").await;
    browser
        .wait_until(
            "document.querySelector('#error-boundary')",
            Duration::from_secs(30),
            "the error view",
        )
        .await;

    assert!(
        browser
            .js("return performance.getEntriesByType('resource').some(e => e.name.endsWith('/api/users/3') && e.responseStatus === 500)")
            .await
            == Value::Bool(true),
        "the API answered 500"
    );
    app.execute_sql("ALTER TABLE users_away RENAME TO users");
    browser.click("#try-again").await;
    // Both of the page's queries: the one the error view shows and the
    // posts beside it.
    browser.wait_for("#user-name").await;
    browser.wait_for("#user-posts li").await;
    assert!(!browser.exists("#error-boundary").await);
    browser.close().await;
}

/// Whether the page would ask before unloading (a `beforeunload` that the
/// app cancels).
async fn asks_before_unload(browser: &Browser) -> bool {
    browser
        .js("const e = new Event('beforeunload', { cancelable: true });
             window.dispatchEvent(e);
             return e.defaultPrevented")
        .await
        == Value::Bool(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_unsaved_edits_asks_first() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let id = newest(&app, 1).await[0].0;
    let browser = app.browser().await;
    browser.goto("/posts").await;
    assert!(!asks_before_unload(&browser).await, "nothing typed yet");
    browser.click(&link(id)).await;
    browser.wait_for("#post-title").await;
    // A link to the page already shown adds no history entry, so the back
    // below leaves the post (and is asked about).
    browser.click(&link(id)).await;
    browser.click("#edit-post").await;
    browser.fill("#edit-title", "Half-written title").await;
    assert!(asks_before_unload(&browser).await, "closing the tab asks");

    // A link: asked, and staying keeps what was typed.
    browser.click("nav.main-nav a[href='/users']").await;
    let question = browser.client.get_alert_text().await.expect("a question");
    assert!(question.contains("not saved"), "{question}");
    browser.client.dismiss_alert().await.expect("staying");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(browser.path().await, format!("/posts/{id}"));
    assert_eq!(browser.value_of("#edit-title").await, "Half-written title");

    // Back: asked too; staying puts the address back.
    browser.client.back().await.expect("back");
    browser.client.get_alert_text().await.expect("a question");
    browser.client.dismiss_alert().await.expect("staying");
    browser.wait_for_path(&format!("/posts/{id}")).await;
    assert_eq!(browser.value_of("#edit-title").await, "Half-written title");

    // Leaving, said yes to: gone, and nothing asks any more.
    browser.click("nav.main-nav a[href='/users']").await;
    browser.client.accept_alert().await.expect("leaving");
    browser.wait_for_path("/users").await;
    browser.wait_for("#user-list").await;
    assert!(!asks_before_unload(&browser).await);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_written_new_post_asks_before_leaving() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let browser = app.browser().await;
    browser.goto("/posts").await;
    browser.fill("#new-post-title", "A draft").await;
    assert!(asks_before_unload(&browser).await);
    browser.click("nav.main-nav a[href='/users']").await;
    browser.client.dismiss_alert().await.expect("staying");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(browser.path().await, "/posts");
    assert_eq!(browser.value_of("#new-post-title").await, "A draft");
    browser.close().await;
}
