//! Issue 27: signing in and out in the app (with and without JavaScript),
//! the header saying who is signed in, and each write offered only to whom
//! it is allowed, with sessions required (the backend's default).

use crate::helpers::{PATIENCE, TestApp};
use serde_json::Value;
use std::time::{Duration, Instant};

/// The demo password of every seeded user (the README says it).
const PASSWORD: &str = "querent-demo";

/// A post of `user`'s (its id).
async fn a_post_of(app: &TestApp, user: i64) -> i64 {
    app.api(&format!("/api/users/{user}/posts")).await[0]["id"]
        .as_i64()
        .expect("the user has posts")
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

/// Signed out, nothing is offered to write; signed in, a post is the
/// viewer's own (no author to choose), edit and delete show on their posts
/// only, and signing out takes every write away again at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_write_and_sign_out_in_the_app() {
    let Some(app) = TestApp::start(|s| s.require_sessions = true).await else {
        return;
    };
    let (mine, theirs) = (a_post_of(&app, 1).await, a_post_of(&app, 2).await);
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
    browser.click("#sign-in-submit").await;
    browser.wait_for_path("/posts").await;
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
    browser.goto(&format!("/posts/{mine}")).await;
    browser.wait_for("#edit-post").await;
    browser.wait_for("#delete-post").await;
    // So is their own profile's form, and not another's.
    browser.goto("/users/1").await;
    browser.wait_for("#edit-user-form").await;
    browser.goto("/users/2").await;
    browser.wait_for("#user-detail").await;
    assert!(!browser.exists("#edit-user-form").await);

    // Signing out: every write goes at once, and the server agrees.
    browser.goto(&format!("/posts/{mine}")).await;
    browser.click("#sign-out").await;
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
/// user, the sign-out button signs out.
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
}
