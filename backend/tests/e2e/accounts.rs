//! Issue 27: signing in and out in the app (with and without JavaScript),
//! the header saying who is signed in, and each write offered only to whom
//! it is allowed, with sessions required (the backend's default).

use crate::helpers::{Browser, PATIENCE, TestApp};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The demo password of every seeded user (the README says it).
const PASSWORD: &str = "querent-demo";

/// A post of `user`'s (its id).
async fn a_post_of(app: &TestApp, user: i64) -> i64 {
    app.api(&format!("/api/users/{user}/posts")).await[0]["id"]
        .as_i64()
        .expect("the user has posts")
}

/// The newest post of `user`'s among the listed (first page) ones.
async fn newest_of(app: &TestApp, user: i64) -> i64 {
    app.api("/api/posts").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["user_id"] == user)
        .and_then(|p| p["id"].as_i64())
        .expect("a listed post of the user")
}

/// Signs in on the sign-in page (the app running); waits until the page
/// has changed hands.
async fn sign_in(browser: &Browser, email: &str) {
    browser.type_into("#sign-in-email", email).await;
    browser.type_into("#sign-in-password", PASSWORD).await;
    changing_hands(browser, "#sign-in-submit").await;
}

/// Clicks `css`, then waits until the page has loaded again and the app
/// runs in it (signing in or out loads the page anew).
async fn changing_hands(browser: &Browser, css: &str) {
    browser.mark_document().await;
    browser.click(css).await;
    browser
        .wait_until(
            "window.__sameDocument !== true && document.documentElement.dataset.app === 'ready'",
            PATIENCE,
            "the page to load for the next viewer",
        )
        .await;
}

/// Waits until the newest post is titled `title`; returns it.
async fn newest_titled(app: &TestApp, title: &str) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let page = app.api("/api/posts?limit=1").await;
        if page["items"][0]["title"] == title {
            return page["items"][0].clone();
        }
        assert!(Instant::now() < deadline, "no post titled {title}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Signed out, nothing is offered to write; signed in (back on the page the
/// sign-in link was on), a post is the viewer's own (no author to choose), edit and delete show on their posts
/// only, and signing out takes every write away again at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_write_and_sign_out_in_the_app() {
    let Some(app) = TestApp::start(|s| s.require_sessions = true).await else {
        return;
    };
    let theirs = newest_of(&app, 2).await;
    let browser = app.browser().await;
    browser.goto(&format!("/posts/{theirs}")).await;
    browser.wait_for("#sign-in-link").await;
    browser.wait_for("#sign-in-to-post").await;
    browser.wait_for("#sign-in-to-comment").await;
    for write in [
        "#new-post-form",
        "#delete-post",
        "#edit-post",
        "#new-comment-form",
    ] {
        assert!(!browser.exists(write).await, "{write} signed out");
    }

    // Wrong password: said, nobody signed in.
    browser.click("#sign-in-link").await;
    browser.wait_for_path("/sign-in").await;
    browser
        .type_into("#sign-in-email", "bret@example.com")
        .await;
    browser.type_into("#sign-in-password", "not-it").await;
    browser.click("#sign-in-submit").await;
    browser
        .wait_for_element_text("#sign-in-error", "Wrong email or password.")
        .await;
    browser.fill("#sign-in-password", PASSWORD).await;
    changing_hands(&browser, "#sign-in-submit").await;
    // Back on the page the sign-in link was on.
    browser.wait_for_path(&format!("/posts/{theirs}")).await;
    browser
        .wait_for_element_text("#signed-in-as", "Signed in as Leanne Graham")
        .await;

    // A post is the viewer's: no author to choose.
    browser.wait_for("#new-post-form").await;
    assert!(!browser.exists("#new-post-user").await);
    browser.fill("#new-post-title", "Mine, signed in").await;
    browser.fill("#new-post-body", "Written by Bret.").await;
    browser.click("#new-post-submit").await;
    let created = newest_titled(&app, "Mine, signed in").await;
    assert_eq!(created["user_id"], 1);

    // Someone else's post: readable, not changeable; a comment is fine.
    browser.open_listed_post(theirs).await;
    browser.wait_for("#new-comment-form").await;
    assert_eq!(browser.value_of("#comment-name").await, "Leanne Graham");
    assert!(!browser.exists("#delete-post").await);
    assert!(!browser.exists("#edit-post").await);
    // Their own: edit and delete are there.
    let mine = created["id"].as_i64().unwrap();
    browser.open_listed_post(mine).await;
    browser.wait_for("#edit-post").await;
    browser.wait_for("#delete-post").await;
    // So is their own profile's form, and not another's.
    browser.click("nav.main-nav a[href='/users']").await;
    browser.click("a[href='/users/1']").await;
    browser.wait_for("#edit-user-form").await;
    browser.click("a[href='/users/2']").await;
    browser
        .wait_for_element_text("#user-name", "Ervin Howell")
        .await;
    assert!(!browser.exists("#edit-user-form").await);

    // Signing out: every write goes at once, and the server agrees.
    browser.click("nav.main-nav a[href='/posts']").await;
    browser.open_listed_post(mine).await;
    browser.wait_for("#edit-post").await;
    changing_hands(&browser, "#sign-out").await;
    browser.wait_for("#sign-in-link").await;
    browser.wait_gone("#edit-post").await;
    browser.wait_gone("#new-comment-form").await;
    let session: Value = browser
        .js("return fetch('/api/session').then(r => r.json())")
        .await;
    assert_eq!(session["user"], Value::Null);
    // A reload is the signed-out page.
    browser.reload().await;
    browser.wait_for("#sign-in-link").await;
    assert!(!browser.exists("#signed-in-as").await);
}

/// Without JavaScript: the sign-in form signs in (a refusal keeps the
/// email, never the password), the new-post form posts as the signed-in
/// user, the sign-out button signs out, and a post's "Sign in to comment"
/// comes back to that post.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_and_out_works_without_javascript() {
    let Some(app) = TestApp::start(|s| s.require_sessions = true).await else {
        return;
    };
    let browser = app.browser_without_javascript().await;
    browser.open("/sign-in").await;
    browser
        .type_into("#sign-in-email", "antonette@example.com")
        .await;
    browser.type_into("#sign-in-password", "wrong").await;
    browser.click("#sign-in-submit").await;
    browser.wait_for("#sign-in-refused").await;
    assert_eq!(
        browser.value_of("#sign-in-email").await,
        "antonette@example.com"
    );
    assert_eq!(browser.value_of("#sign-in-password").await, "");

    browser.type_into("#sign-in-password", PASSWORD).await;
    browser.click("#sign-in-submit").await;
    browser.wait_for_url_path("/posts").await;
    assert!(
        browser
            .element_text("#signed-in-as")
            .await
            .contains("Ervin Howell")
    );
    browser
        .type_into("#new-post-title", "Antonette, no script")
        .await;
    browser
        .type_into("#new-post-body", "Posted as herself.")
        .await;
    browser.click("#new-post-submit").await;
    let post = newest_titled(&app, "Antonette, no script").await;
    assert_eq!(post["user_id"], 2);
    browser
        .wait_for_url_path(&format!("/posts/{}", post["id"]))
        .await;
    // Her own post: edit and delete are offered.
    browser.wait_for("#delete-post").await;

    browser.click("#sign-out").await;
    browser
        .wait_for_url_path(&format!("/posts/{}", post["id"]))
        .await;
    browser.wait_for("#sign-in-link").await;
    assert!(!browser.exists("#delete-post").await);
    assert!(!browser.exists("#new-comment-form").await);

    // "Sign in to comment": signed in, back on this post, its form there.
    browser.click("#sign-in-to-comment a").await;
    browser.wait_for_url_path("/sign-in").await;
    browser
        .type_into("#sign-in-email", "antonette@example.com")
        .await;
    browser.type_into("#sign-in-password", PASSWORD).await;
    browser.click("#sign-in-submit").await;
    browser
        .wait_for_url_path(&format!("/posts/{}", post["id"]))
        .await;
    browser.wait_for("#new-comment-form").await;
}

/// Every localStorage entry of the page, as `key=value` lines.
async fn local_storage(browser: &Browser) -> String {
    browser
        .js("return Object.keys(localStorage).sort().map(k => k + '=' + localStorage.getItem(k)).join('\\n')")
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Comments on `post` whose body is `body`.
async fn comments_saying(app: &TestApp, post: i64, body: &str) -> usize {
    app.all_items(&format!("/api/posts/{post}/comments"))
        .await
        .iter()
        .filter(|c| c["body"] == body)
        .count()
}

/// Waits until a comment saying `body` is on `post` (sent by the page).
async fn until_sent(app: &TestApp, post: i64, body: &str) {
    let deadline = Instant::now() + PATIENCE;
    while comments_saying(app, post, body).await == 0 {
        assert!(Instant::now() < deadline, "{body:?} was not sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Signs in as Bret and opens one of his posts, its comment form ready;
/// the post's id.
async fn bret_on_his_post(app: &TestApp, browser: &Browser) -> i64 {
    let mine = a_post_of(app, 1).await;
    sign_in_as(browser, "bret@example.com").await;
    browser.goto(&format!("/posts/{mine}")).await;
    browser.wait_for("#new-comment-form").await;
    mine
}

/// Cuts the network and comments `body` on the open post: it shows, queued.
async fn comment_offline(browser: &Browser, body: &str) {
    browser.go_offline().await;
    browser
        .wait_for("#network-badge[data-online='false']")
        .await;
    browser.fill("#comment-body", body).await;
    browser.click("#comment-submit").await;
    browser.wait_for_text("#pending-count", "1", PATIENCE).await;
}

/// Opens the sign-in page and signs in (the page then loads the posts).
async fn sign_in_as(browser: &Browser, email: &str) {
    browser.goto("/sign-in").await;
    sign_in(browser, email).await;
    browser.wait_for_path("/posts").await;
    browser.wait_for("#signed-in-as").await;
}

/// On one browser profile, one person signs in, reads and writes, and signs
/// out; the next signs in: nothing of the first person's is left in the
/// page or in storage, and their cache lived under their own key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_person_on_a_shared_browser_finds_no_trace_of_the_first() {
    let Some(app) = TestApp::start(|s| s.require_sessions = true).await else {
        return;
    };
    let browser = app.browser_on_profile("shared").await;
    let mine = bret_on_his_post(&app, &browser).await;
    browser.fill("#comment-body", "Bret was here.").await;
    browser.click("#comment-submit").await;
    until_sent(&app, mine, "Bret was here.").await;
    // The cache is Bret's own while he is signed in.
    browser
        .wait_until(
            "(localStorage.getItem('querent-cache:u1') || '').includes('Bret was here.')",
            PATIENCE,
            "Bret's cache under his key",
        )
        .await;

    changing_hands(&browser, "#sign-out").await;
    browser.wait_for("#sign-in-link").await;
    let stored = local_storage(&browser).await;
    assert!(!stored.contains("querent-cache:u1="), "purged: {stored}");

    sign_in_as(&browser, "antonette@example.com").await;
    browser
        .wait_for_element_text("#signed-in-as", "Ervin Howell")
        .await;
    browser.goto(&format!("/posts/{mine}")).await;
    browser.wait_for("#new-comment-form").await;
    assert_eq!(browser.value_of("#comment-name").await, "Ervin Howell");
    let page = browser.text("body").await;
    assert!(!page.contains("Leanne Graham\nSign out"), "{page}");
    assert!(!browser.exists("#delete-post").await, "not hers");
    let stored = local_storage(&browser).await;
    assert!(!stored.contains("querent-cache:u1="), "{stored}");
    assert!(!stored.contains("\"id\":1,\"name\":\"Leanne"), "{stored}");
}

/// A change made offline, then a sign-out while still offline: the change
/// is kept for its person (and said so), never sent as the next person who
/// signs in, and sent once when its person signs in again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_queued_offline_is_never_sent_as_the_next_person() {
    let Some(app) = TestApp::start(|s| s.require_sessions = true).await else {
        return;
    };
    let body = "Queued by Bret, offline.";
    let browser = app.browser().await;
    let mine = bret_on_his_post(&app, &browser).await;
    browser.wait_for_service_worker().await;
    comment_offline(&browser, body).await;

    // Signing out offline: the page changes hands (the service worker's
    // copy), signed out, and says what it kept.
    changing_hands(&browser, "#sign-out").await;
    browser.wait_for("#sign-in-link").await;
    browser
        .wait_for_element_text("#session-notice", "1 unsent change kept for Leanne Graham")
        .await;
    assert!(!browser.exists("#pending-count").await, "not this viewer's");

    browser.go_online().await;
    browser.wait_for("#network-badge[data-online='true']").await;
    sign_in_as(&browser, "antonette@example.com").await;
    browser.goto(&format!("/posts/{mine}")).await;
    browser.wait_for("#new-comment-form").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(comments_saying(&app, mine, body).await, 0, "never as her");
    assert!(!browser.exists("#pending-count").await);
    changing_hands(&browser, "#sign-out").await;
    browser.wait_for("#sign-in-link").await;

    sign_in_as(&browser, "bret@example.com").await;
    until_sent(&app, mine, body).await;
    browser.wait_gone("#pending-count").await;
    browser.settle().await;
    assert_eq!(comments_saying(&app, mine, body).await, 1, "once");
    let comments = app.all_items(&format!("/api/posts/{mine}/comments")).await;
    let sent = comments.iter().find(|c| c["body"] == body).unwrap();
    assert_eq!(sent["name"], "Leanne Graham", "as Bret");
}

/// Signing out in one tab signs the other tabs out too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_in_one_tab_signs_the_others_out() {
    let Some(app) = TestApp::start(|s| s.require_sessions = true).await else {
        return;
    };
    let browser = app.browser().await;
    sign_in_as(&browser, "bret@example.com").await;
    let first = browser.client.window().await.unwrap();
    let second = browser.open_new_tab().await;
    browser.goto("/users/1").await;
    browser.wait_for("#edit-user-form").await;
    browser.client.switch_to_window(first).await.unwrap();
    changing_hands(&browser, "#sign-out").await;
    browser.wait_for("#sign-in-link").await;
    browser.client.switch_to_window(second).await.unwrap();
    browser.wait_for("#sign-in-link").await;
    browser.wait_gone("#edit-user-form").await;
}

/// A change whose session ended before it was sent: the person is asked
/// to sign in again, and then it is sent, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_whose_session_ended_is_sent_after_signing_in_again() {
    let Some(app) = TestApp::start(|s| s.require_sessions = true).await else {
        return;
    };
    let body = "Sent after signing in again.";
    let browser = app.browser().await;
    let mine = bret_on_his_post(&app, &browser).await;
    comment_offline(&browser, body).await;
    // Meanwhile the session ends (expired, or ended from elsewhere).
    app.execute_sql("DELETE FROM sessions");
    browser.go_online().await;
    browser.wait_for_path("/sign-in").await;
    browser
        .wait_for_element_text("#session-notice", "Sign in again as Leanne Graham")
        .await;
    assert_eq!(comments_saying(&app, mine, body).await, 0);

    browser.wait_for_app().await;
    sign_in(&browser, "bret@example.com").await;
    // Back on the post the change was made on.
    browser.wait_for_path(&format!("/posts/{mine}")).await;
    until_sent(&app, mine, body).await;
    browser.wait_gone("#pending-count").await;
    browser.settle().await;
    assert_eq!(comments_saying(&app, mine, body).await, 1, "once");
}

/// After a sign-out the server could not be told of (its request failed;
/// offline is the same), the next page load still comes from the server
/// rendered for the person who signed out (their session is alive there):
/// it stays hidden until the app has taken it over, signed out, so the next
/// person never sees it. Once the server can be told, the session ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_rendered_for_someone_who_signed_out_is_never_shown() {
    let Some(app) = TestApp::start(|s| s.require_sessions = true).await else {
        return;
    };
    let browser = app.browser().await;
    let mine = bret_on_his_post(&app, &browser).await;
    browser
        .on_every_page(
            "addEventListener('DOMContentLoaded', () => { window.__firstView = [\
             getComputedStyle(document.body).visibility, \
             !!document.querySelector('#signed-in-as'), \
             document.documentElement.dataset.app ?? null]; })",
        )
        .await;
    browser.block_urls(&["*/api/session*"]).await;
    changing_hands(&browser, "#sign-out").await;
    assert_eq!(
        browser.js("return window.__firstView").await,
        json!(["hidden", true, null]),
        "the server's page for Bret, hidden before the app ran"
    );
    browser.wait_for("#sign-in-link").await;
    assert!(!browser.exists("#signed-in-as").await);
    assert_eq!(
        browser
            .js("return getComputedStyle(document.body).visibility")
            .await,
        json!("visible")
    );

    browser.block_urls(&[]).await;
    browser.goto(&format!("/posts/{mine}")).await;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let session: Value = browser
            .js("return fetch('/api/session').then(r => r.json())")
            .await;
        if session["user"] == Value::Null {
            break;
        }
        assert!(Instant::now() < deadline, "the session never ended");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser.goto(&format!("/posts/{mine}")).await;
    assert_eq!(
        browser.js("return window.__firstView").await,
        json!(["visible", false, null]),
        "everyone's page again"
    );
}
