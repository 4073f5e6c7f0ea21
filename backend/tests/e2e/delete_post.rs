//! Scenario 5: deleting a post removes it from the list, drops its detail
//! (the app leaves it for `/posts`, and the cache no longer holds it), and
//! lowers its author's post count, in the cached users list too.

use crate::helpers::{COMMENTS_QUERY, PATIENCE, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_post_updates_list_detail_and_author_count() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let browser = app.browser().await;
    // The users list is cached first, so its count has to be updated, not
    // just loaded fresh.
    browser.goto("/users").await;
    browser.wait_for("#user-list li.user-item").await;
    browser.click("nav.main-nav a[href='/posts']").await;
    let first = browser.wait_for("#post-list li.post-item").await;
    let id = first
        .attr("data-post-id")
        .await
        .unwrap()
        .expect("a post id");
    let post = app.api(&format!("/api/posts/{id}")).await;
    let author = post["user_id"].as_i64().unwrap();
    let count = app.api(&format!("/api/users/{author}")).await["post_count"]
        .as_i64()
        .unwrap();
    assert!(count > 0);

    browser.open_listed_post(&id).await;
    browser.click("#delete-post").await;

    browser.wait_for_path("/posts").await;
    browser.wait_for("#select-a-post").await;
    assert!(!browser.exists("#post-detail").await, "the detail is gone");
    browser
        .wait_gone(&format!("#post-list li.post-item[data-post-id='{id}']"))
        .await;

    browser.click("nav.main-nav a[href='/users']").await;
    browser
        .wait_for_text(
            &format!("#user-list li.user-item[data-user-id='{author}'] .post-count"),
            &(count - 1).to_string(),
            PATIENCE,
        )
        .await;

    // The server agrees.
    let deadline = std::time::Instant::now() + PATIENCE;
    while app.status(&format!("/api/posts/{id}")).await != 404 {
        assert!(
            std::time::Instant::now() < deadline,
            "the post was not deleted"
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(
        app.api(&format!("/api/users/{author}")).await["post_count"],
        count - 1
    );

    // Back to the deleted post's URL inside the app: the cache no longer
    // has it, so it is fetched once, and the server's 404 shows (a 404 is
    // not retried, nor fetched again when the view mounts).
    let before = browser.api_requests().await.len();
    browser.client.back().await.unwrap(); // /posts
    browser.client.back().await.unwrap(); // /posts/{id}
    browser.wait_for_path(&format!("/posts/{id}")).await;
    browser.wait_for("#post-not-found").await;
    browser.settle().await;
    let requests = browser.api_requests().await;
    assert_eq!(
        requests[before..],
        [
            format!("/api/posts/{id}"),
            format!("/api/posts/{id}/comments?{COMMENTS_QUERY}")
        ],
        "the post and its comments, once each (all: {requests:?})"
    );
    browser.close().await;
}
