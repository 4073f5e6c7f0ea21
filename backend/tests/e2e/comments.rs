//! A post's comments: newest first, a page at a time (the first page is in
//! the server's HTML), older ones on demand; a comment written in the form
//! shows first at once and is stored once.

use crate::helpers::{PATIENCE, TestApp};
use serde_json::json;

const SHOWN: &str = "#comments li.comment";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_posts_comments_come_newest_first_a_page_at_a_time() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    // 25 more comments on post 2 (it has 5): two pages.
    for n in 0..25 {
        let res = app
            .http
            .post(format!("{}/api/posts/2/comments", app.url))
            .json(&json!({"name": "Pager", "email": "p@example.com", "body": format!("Comment number {n}.")}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    let all = app.all_items("/api/posts/2/comments").await;
    assert_eq!(all.len(), 30);
    let body = |i: usize| all[i]["body"].as_str().unwrap().to_owned();

    let browser = app.browser().await;
    browser.goto("/posts/2").await;
    browser.wait_for(SHOWN).await;
    assert_eq!(browser.count(SHOWN).await, 20, "the first page");
    assert!(
        browser
            .text(&format!("{SHOWN}:first-child"))
            .await
            .contains(&body(0)),
        "the newest first"
    );

    browser.click("#older-comments").await;
    browser
        .wait_until(
            &format!("document.querySelectorAll({SHOWN:?}).length === 30"),
            PATIENCE,
            "the older comments",
        )
        .await;
    assert!(
        browser
            .text(&format!("{SHOWN}:last-child"))
            .await
            .contains(&body(29)),
        "the oldest last"
    );
    browser.wait_gone("#older-comments").await;

    // A new comment shows first, and is stored once.
    browser.fill("#comment-name", "Reader").await;
    browser.fill("#comment-email", "reader@example.com").await;
    browser.fill("#comment-body", "Written in the form.").await;
    browser.click("#comment-submit").await;
    browser
        .wait_until(
            &format!(
                "document.querySelector({:?})?.textContent.includes('Written in the form.')",
                format!("{SHOWN}:first-child:not([data-pending])")
            ),
            PATIENCE,
            "the new comment, confirmed, first",
        )
        .await;
    browser.settle().await;
    assert_eq!(browser.count(SHOWN).await, 31);
    let stored = app.all_items("/api/posts/2/comments").await;
    assert_eq!(stored.len(), 31, "stored once");
    assert_eq!(stored[0]["body"], "Written in the form.");
    browser.close().await;
}
