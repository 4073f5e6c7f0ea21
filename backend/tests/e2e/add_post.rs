//! Scenario 4: a new post shows at once (pending, before the server has even
//! seen the request) and settles into exactly one list item; a post the
//! server refuses (422), or stays busy for (503 after every resend its
//! `Retry-After` asked for), disappears again with the server's reason shown;
//! a post the server is busy for only a moment is resent and applied once.
//!
//! A request without any answer (network error) is not a failure in our
//! engine: the mutation stays pending and is sent again when the network is
//! back (the offline scenario covers that).

use crate::helpers::{Browser, PATIENCE, TestApp};
use serde_json::{Value, json};

/// Records when (`performance.now()`) the first pending post was added to
/// the page, and the most list items ever shown at once for `arguments[0]`.
const WATCH_PENDING: &str = "
    window.__pendingAt = null;
    window.__maxCopies = 0;
    const title = arguments[0];
    new MutationObserver(() => {
        if (window.__pendingAt === null && document.querySelector('li.post-item[data-pending=\"true\"]')) {
            window.__pendingAt = performance.now();
        }
        const copies = [...document.querySelectorAll('#post-list li.post-item')]
            .filter((li) => li.textContent.includes(title)).length;
        window.__maxCopies = Math.max(window.__maxCopies, copies);
    }).observe(document.body, { childList: true, subtree: true, characterData: true });";

/// The page's `POST /api/posts` (the list's GETs carry a query string).
const POST_URL: &str = "*/api/posts";

async fn listed(browser: &Browser, title: &str) -> Value {
    browser
        .js_with(
            "return [...document.querySelectorAll('#post-list li.post-item')]
                .filter((li) => li.textContent.includes(arguments[0])).length",
            vec![json!(title)],
        )
        .await
}

/// Opens `/posts`, holds the page's POSTs, submits a post and checks it
/// shows as pending while the server has not seen it.
async fn submit_held(app: &TestApp, title: &str, body: &str) -> Browser {
    let browser = app.browser().await;
    browser.goto("/posts").await;
    browser.wait_for("#post-list li.post-item").await;
    browser.js_with(WATCH_PENDING, vec![json!(title)]).await;
    browser.hold_requests(POST_URL).await;

    browser.fill("#new-post-title", title).await;
    browser.fill("#new-post-body", body).await;
    browser.fill("#new-post-user", "3").await;
    browser.click("#new-post-submit").await;
    let pending = browser
        .wait_for("#post-list li.post-item[data-pending='true']")
        .await;
    assert!(pending.text().await.unwrap().contains(title.trim()));
    assert_eq!(browser.text("#pending-count").await, "1");
    assert_eq!(
        app.all_posts().await.len(),
        crate::helpers::SEED_POSTS,
        "the server has not seen the post yet"
    );
    browser
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn added_post_shows_before_the_server_answers_then_once() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let title = "An optimistic post from the browser";
    let browser = submit_held(&app, title, "Shown before the server answers.").await;

    browser.release_requests().await;
    browser.wait_gone("li.post-item[data-pending]").await;
    browser.wait_gone("#pending-count").await;
    let created: Vec<_> = app
        .all_posts()
        .await
        .into_iter()
        .filter(|p| p["title"] == title)
        .collect();
    assert_eq!(created.len(), 1, "the server holds the post once");
    assert_eq!(created[0]["user_id"], 3, "with the chosen author");
    let id = created[0]["id"].as_i64().unwrap();
    let item = format!("#post-list li.post-item[data-post-id='{id}']");
    assert_eq!(browser.text(&item).await, title);
    // The live event for the same post arrives too; still one item.
    browser.settle().await;
    assert_eq!(listed(&browser, title).await, 1, "listed exactly once");
    assert_eq!(
        browser.js("return window.__maxCopies").await,
        1,
        "never shown twice, not even for a moment"
    );
    assert_eq!(
        browser.count("#post-list li.post-item").await,
        21,
        "the first page plus the new post"
    );
    // The pending item was on screen before the response's first byte.
    let timing = browser
        .js("return {
                pendingAt: window.__pendingAt,
                responseStart: performance.getEntriesByType('resource')
                    .filter((e) => new URL(e.name).pathname === '/api/posts' && !new URL(e.name).search)
                    .map((e) => e.responseStart),
            }")
        .await;
    let pending_at = timing["pendingAt"]
        .as_f64()
        .expect("a pending item was seen");
    let response_start = timing["responseStart"][0]
        .as_f64()
        .expect("the POST's timing");
    assert!(
        pending_at < response_start,
        "pending item at {pending_at} ms, response at {response_start} ms"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_post_disappears_and_shows_the_servers_reason() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    // One character over the limit; the form's maxlength only stops typing.
    let title = "t".repeat(201);
    let body = "The server refuses this.";
    let refusal = app
        .http
        .post(format!("{}/api/posts", app.url))
        .json(&json!({ "user_id": 3, "title": title, "body": body }))
        .send()
        .await
        .unwrap();
    assert_eq!(refusal.status(), 422);
    let refusal: Value = refusal.json().await.unwrap();
    let reason = refusal["error"]["message"].as_str().unwrap().to_owned();

    let browser = submit_held(&app, &title, body).await;
    browser.release_requests().await;
    browser
        .wait_for_text(
            "#new-post-error",
            &format!("Could not add the post: {reason}"),
            PATIENCE,
        )
        .await;
    browser.wait_gone("li.post-item[data-pending]").await;
    browser.settle().await;
    assert_eq!(listed(&browser, &title).await, 0, "gone from the list");
    assert_eq!(browser.count("#post-list li.post-item").await, 20);
    assert!(!browser.exists("#pending-count").await, "nothing pending");
    assert_eq!(
        app.posts_titled(&title).await,
        0,
        "the server holds nothing"
    );
    browser.close().await;
}

/// How many `POST /api/posts` the page got a 503 for (Resource Timing's
/// `responseStatus`).
async fn busy_answers(browser: &Browser) -> u64 {
    browser
        .js("return performance.getEntriesByType('resource')
                .filter((e) => new URL(e.name).pathname === '/api/posts' && e.responseStatus === 503)
                .length")
        .await
        .as_u64()
        .expect("a count")
}

/// Another process holds SQLite's write lock: the server's writes fail with
/// 503 and `Retry-After: 1` (for anyone; see what another client gets).
/// Returns the lock and the server's reason.
async fn make_the_database_busy(app: &TestApp, body: &str) -> (crate::helpers::WriteLock, String) {
    let lock = app.hold_writes();
    let failure = app
        .http
        .post(format!("{}/api/posts", app.url))
        .json(&json!({ "user_id": 3, "title": "from another client", "body": body }))
        .send()
        .await
        .unwrap();
    assert_eq!(failure.status(), 503);
    assert_eq!(failure.headers()["retry-after"], "1");
    let failure: Value = failure.json().await.unwrap();
    (
        lock,
        failure["error"]["message"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_sent_while_the_database_is_busy_is_resent_and_applied_once() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let title = "A post sent while the database is busy";
    let body = "Retry-After says when to come back.";
    let browser = submit_held(&app, title, body).await;
    let (lock, _) = make_the_database_busy(&app, body).await;
    browser.release_requests().await;
    browser
        .wait_until(
            "performance.getEntriesByType('resource').some((e) => new URL(e.name).pathname === '/api/posts' && e.responseStatus === 503)",
            PATIENCE,
            "the server to answer 503",
        )
        .await;
    assert!(
        browser.exists("li.post-item[data-pending]").await,
        "still pending"
    );
    drop(lock);
    browser.wait_gone("li.post-item[data-pending]").await;
    browser.wait_gone("#pending-count").await;
    browser.settle().await;
    assert_eq!(listed(&browser, title).await, 1, "listed once");
    assert!(!browser.exists("#new-post-error").await, "no error shown");
    assert_eq!(app.posts_titled(title).await, 1, "the server holds it once");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_the_server_stays_busy_for_disappears_and_shows_the_error() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let title = "A post the server fails on";
    let body = "The database is busy.";
    let browser = submit_held(&app, title, body).await;
    let (lock, reason) = make_the_database_busy(&app, body).await;

    browser.release_requests().await;
    browser
        .wait_for_text(
            "#new-post-error",
            &format!("Could not add the post: {reason}"),
            PATIENCE,
        )
        .await;
    assert_eq!(
        busy_answers(&browser).await,
        4,
        "sent once and resent three times after Retry-After before giving up"
    );
    drop(lock);
    browser.wait_gone("li.post-item[data-pending]").await;
    browser.settle().await;
    assert_eq!(listed(&browser, title).await, 0, "gone from the list");
    assert!(!browser.exists("#pending-count").await, "nothing pending");
    assert_eq!(app.posts_titled(title).await, 0, "the server holds nothing");
    browser.close().await;
}
