//! Multi-step mutation workflows (issue 5).
//!
//! "Publish a post with its first comment" is two API calls run as one
//! mutation: both succeed; or the comment fails and the post is withdrawn
//! (compensated) with every cache change undone; or, made offline, the whole
//! workflow queues, survives a reload, and replays once, each step applied
//! exactly once.
//!
//! "Move a post to another author" is one server call (`PATCH` with
//! `user_id`, one transaction); the client moves the post and both authors'
//! counts at once and puts all of it back when the server refuses.

use crate::helpers::{Browser, PATIENCE, TestApp};
use serde_json::Value;
use std::time::{Duration, Instant};

const COMMENT_POSTS: &str = "*/api/posts/*/comments";

/// Fills the add-post form, first comment included, and submits it.
async fn publish(browser: &Browser, title: &str, comment: &str) {
    browser.fill("#new-post-title", title).await;
    browser
        .fill("#new-post-body", "A post with a comment.")
        .await;
    browser.click("#first-comment summary").await;
    browser.fill("#first-comment-name", "Ada").await;
    browser
        .fill("#first-comment-email", "ada@example.com")
        .await;
    browser.fill("#first-comment-body", comment).await;
    browser.click("#new-post-submit").await;
}

/// The server's posts titled `title`.
async fn posts_titled(app: &TestApp, title: &str) -> Vec<Value> {
    app.all_posts()
        .await
        .into_iter()
        .filter(|p| p["title"] == title)
        .collect()
}

/// Polls until `check` holds (the server side of a scenario).
async fn eventually<F: Future<Output = bool>>(what: &str, mut check: impl FnMut() -> F) {
    let deadline = Instant::now() + PATIENCE;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn listed(title: &str) -> String {
    format!(
        "Array.from(document.querySelectorAll('#post-list li.post-item')).filter(li => li.textContent.includes({title:?}))"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_with_a_first_comment_creates_both() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let (title, comment) = ("Published with a comment", "The very first comment.");
    let browser = app.browser().await;
    browser.goto("/posts").await;
    browser.wait_for("#post-list li.post-item").await;
    publish(&browser, title, comment).await;

    browser
        .wait_until(
            &format!("{}.some(li => li.dataset.postId)", listed(title)),
            PATIENCE,
            "the published post in the list",
        )
        .await;
    let posts = posts_titled(&app, title).await;
    assert_eq!(posts.len(), 1, "one post");
    let id = posts[0]["id"].as_i64().unwrap();
    let comments = app.api(&format!("/api/posts/{id}/comments")).await;
    let bodies: Vec<&str> = comments["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, [comment], "one comment");

    // The workflow filled the cache: the post opens with its comment and
    // nothing is fetched.
    let before = browser.api_requests().await.len();
    browser
        .click(&format!("#post-list li.post-item[data-post-id='{id}'] a"))
        .await;
    browser.wait_for_text("#post-title", title, PATIENCE).await;
    browser
        .wait_until(
            &format!(
                "document.querySelector('#comments li.comment')?.textContent.includes({comment:?})"
            ),
            PATIENCE,
            "the first comment",
        )
        .await;
    browser.settle().await;
    assert_eq!(
        browser.api_requests().await[before..],
        [] as [String; 0],
        "opened from the cache"
    );
    assert!(!browser.exists("#new-post-error").await);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_comment_withdraws_the_post() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let title = "Published but its comment fails";
    let author_count = app.api("/api/users/1").await["post_count"]
        .as_i64()
        .unwrap();
    let browser = app.browser().await;
    browser.goto("/posts").await;
    browser.wait_for("#post-list li.post-item").await;

    // Step 1 goes through; step 2 is held in the browser ...
    browser.hold_requests(COMMENT_POSTS).await;
    publish(&browser, title, "Never saved.").await;
    eventually("the post on the server", || async {
        posts_titled(&app, title).await.len() == 1
    })
    .await;
    browser
        .wait_until(
            &format!("{}.length === 1", listed(title)),
            PATIENCE,
            "the post shown while its comment is on its way",
        )
        .await;

    // ... and fails on the server (SQLite's write lock taken by another
    // process: a 503).
    let lock = app.hold_writes();
    browser.release_requests().await;
    browser
        .wait_until(
            "performance.getEntriesByType('resource').some(e => e.name.endsWith('/comments'))",
            PATIENCE,
            "the comment's answer",
        )
        .await;
    drop(lock);

    // The post is withdrawn on the server and gone from the page, and the
    // reason is shown.
    eventually("the post withdrawn", || async {
        posts_titled(&app, title).await.is_empty()
    })
    .await;
    browser
        .wait_until(
            &format!("{}.length === 0", listed(title)),
            PATIENCE,
            "the post gone from the list",
        )
        .await;
    let error = browser
        .wait_for("#new-post-error")
        .await
        .text()
        .await
        .unwrap();
    assert!(error.contains("withdrawn"), "error shown: {error}");
    assert_eq!(
        app.api("/api/users/1").await["post_count"],
        author_count,
        "the author's count is as before"
    );
    browser.wait_gone("#pending-count").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workflow_made_offline_replays_once_as_a_unit() {
    let Some(mut app) = TestApp::start(|_| {}).await else {
        return;
    };
    let (title, comment) = ("Published while offline", "Queued with its post.");
    let browser = app.browser().await;
    browser.goto("/posts").await;
    browser.wait_for("#post-list li.post-item").await;
    app.cut_network(&browser).await;
    publish(&browser, title, comment).await;
    let pending = "#post-list li.post-item[data-pending='true'][data-with-comment='true']";
    assert!(
        browser
            .wait_for(pending)
            .await
            .text()
            .await
            .unwrap()
            .contains(title)
    );
    browser.wait_for_text("#pending-count", "1", PATIENCE).await;

    browser.reload().await;
    assert!(
        browser
            .wait_for(pending)
            .await
            .text()
            .await
            .unwrap()
            .contains(title)
    );
    browser.wait_for_text("#pending-count", "1", PATIENCE).await;

    app.restart_server().await;
    browser.go_online().await;
    browser.wait_gone("#pending-count").await;
    browser
        .wait_until(
            &format!("{}.some(li => li.dataset.postId)", listed(title)),
            PATIENCE,
            "the replayed post in the list",
        )
        .await;
    // Once each: one post, one comment on it; and still so a moment later.
    browser.settle().await;
    let posts = posts_titled(&app, title).await;
    assert_eq!(posts.len(), 1, "one post");
    let id = posts[0]["id"].as_i64().unwrap();
    let comments = app.api(&format!("/api/posts/{id}/comments")).await;
    assert_eq!(
        comments["items"].as_array().unwrap().len(),
        1,
        "one comment"
    );
    assert_eq!(comments["items"][0]["body"], comment);
    browser.close().await;
}

/// A planned move: the newest post, its author and another, and both
/// authors' counts as the server had them before.
struct Move {
    id: i64,
    from: i64,
    to: i64,
    from_count: i64,
    to_count: i64,
    /// The authors' names (the byline shows them).
    from_name: String,
    to_name: String,
}

/// With the users list cached, opens the newest post and plans moving it to
/// the next user.
async fn open_post_to_move(app: &TestApp, browser: &Browser) -> Move {
    browser.goto("/users").await;
    browser.wait_for("#user-list li.user-item").await;
    browser.click("nav.main-nav a[href='/posts']").await;
    let id: i64 = browser
        .wait_for("#post-list li.post-item")
        .await
        .attr("data-post-id")
        .await
        .unwrap()
        .expect("a post id")
        .parse()
        .unwrap();
    let from = app.api(&format!("/api/posts/{id}")).await["user_id"]
        .as_i64()
        .unwrap();
    let to = from % 10 + 1;
    let (from_count, to_count) = (post_count(app, from).await, post_count(app, to).await);
    let (from_name, to_name) = (user_name(app, from).await, user_name(app, to).await);
    browser.open_listed_post(id).await;
    browser
        .wait_for_text("#post-author", &from_name, PATIENCE)
        .await;
    Move {
        id,
        from,
        to,
        from_count,
        to_count,
        from_name,
        to_name,
    }
}

/// Chooses the new author in the edit form and saves; the post shows its
/// new author at once.
async fn save_move(browser: &Browser, to: i64, to_name: &str) {
    browser.click("#edit-post").await;
    browser
        .js_with(
            "const s = document.querySelector('#edit-author'); s.value = arguments[0]; \
             s.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![Value::from(to.to_string())],
        )
        .await;
    browser.click("#save-post").await;
    browser
        .wait_for_text("#post-author", to_name, PATIENCE)
        .await;
}

/// A move saved with its request held in the browser (the server has not
/// seen it).
async fn start_held_move(app: &TestApp, browser: &Browser) -> Move {
    let planned = open_post_to_move(app, browser).await;
    browser
        .hold_requests(&format!("*/api/posts/{}", planned.id))
        .await;
    save_move(browser, planned.to, &planned.to_name).await;
    planned
}

/// The user's name as the server has it (the post's byline shows it).
async fn user_name(app: &TestApp, user: i64) -> String {
    let name = app.api(&format!("/api/users/{user}")).await["name"].clone();
    name.as_str().expect("a name").to_owned()
}

/// The server's post count of `user`.
async fn post_count(app: &TestApp, user: i64) -> i64 {
    app.api(&format!("/api/users/{user}")).await["post_count"]
        .as_i64()
        .unwrap()
}

fn count_of(user: i64) -> String {
    format!("#user-list li.user-item[data-user-id='{user}'] .post-count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_a_post_moves_both_counts_at_once() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let browser = app.browser().await;
    let Move {
        id,
        from,
        to,
        from_count,
        to_count,
        ..
    } = start_held_move(&app, &browser).await;

    // Before the server has it: both counts have moved too.
    browser.click("nav.main-nav a[href='/users']").await;
    browser
        .wait_for_text(&count_of(from), &(from_count - 1).to_string(), PATIENCE)
        .await;
    browser
        .wait_for_text(&count_of(to), &(to_count + 1).to_string(), PATIENCE)
        .await;
    assert_eq!(
        app.api(&format!("/api/posts/{id}")).await["user_id"],
        from,
        "not sent yet"
    );

    browser.release_requests().await;
    eventually("the move on the server", || async {
        app.api(&format!("/api/posts/{id}")).await["user_id"] == to
    })
    .await;
    browser.wait_gone("#pending-count").await;
    browser.settle().await;
    assert_eq!(
        app.api(&format!("/api/users/{from}")).await["post_count"],
        from_count - 1
    );
    assert_eq!(
        app.api(&format!("/api/users/{to}")).await["post_count"],
        to_count + 1
    );
    assert_eq!(
        browser.text(&count_of(from)).await,
        (from_count - 1).to_string()
    );
    assert_eq!(
        browser.text(&count_of(to)).await,
        (to_count + 1).to_string()
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_move_puts_the_post_and_both_counts_back() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let browser = app.browser().await;
    let Move {
        id,
        from,
        to,
        from_count,
        to_count,
        from_name,
        ..
    } = start_held_move(&app, &browser).await;

    let lock = app.hold_writes();
    browser.release_requests().await;
    browser.wait_for("#post-save-error").await;
    drop(lock);
    browser
        .wait_for_text("#post-author", &from_name, PATIENCE)
        .await;
    browser.click("nav.main-nav a[href='/users']").await;
    browser
        .wait_for_text(&count_of(from), &from_count.to_string(), PATIENCE)
        .await;
    browser
        .wait_for_text(&count_of(to), &to_count.to_string(), PATIENCE)
        .await;
    assert_eq!(
        app.api(&format!("/api/posts/{id}")).await["user_id"],
        from,
        "not moved"
    );
    browser.close().await;
}

/// A move made offline: shown at once, still pending after a reload, sent
/// once when the network returns; both counts end moved by exactly one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_made_offline_replays_after_a_reload() {
    let Some(mut app) = TestApp::start(|_| {}).await else {
        return;
    };
    let browser = app.browser().await;
    let Move {
        id,
        from,
        to,
        from_count,
        to_count,
        to_name,
        ..
    } = open_post_to_move(&app, &browser).await;
    app.cut_network(&browser).await;
    save_move(&browser, to, &to_name).await;
    browser.wait_for_text("#pending-count", "1", PATIENCE).await;

    browser.reload().await;
    browser
        .wait_for_text("#post-author", &to_name, PATIENCE)
        .await;
    browser.wait_for_text("#pending-count", "1", PATIENCE).await;

    app.restart_server().await;
    browser.go_online().await;
    browser.wait_gone("#pending-count").await;
    assert_eq!(app.api(&format!("/api/posts/{id}")).await["user_id"], to);
    assert_eq!(post_count(&app, from).await, from_count - 1);
    assert_eq!(post_count(&app, to).await, to_count + 1);
    browser.close().await;
}
