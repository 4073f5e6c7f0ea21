//! Authors by name: the post's byline and the forms' author select show
//! names from the page's embedded state (no request), and a name changed
//! by another client shows without a reload (`user_updated`).

use crate::helpers::{PATIENCE, SEED_USERS, TestApp};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_show_their_authors_names_kept_current() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let post = app.api("/api/posts/1").await;
    let author = post["user_id"].as_i64().unwrap();
    let users = app.api("/api/users").await;
    let name = |id: i64| {
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["id"] == id)
            .and_then(|u| u["name"].as_str())
            .unwrap()
            .to_owned()
    };
    let browser = app.browser().await;
    browser.goto("/posts/1").await;
    browser
        .wait_for_text("#post-author", &name(author), PATIENCE)
        .await;
    assert_eq!(
        browser
            .js("return document.querySelector('#post-author').getAttribute('href')")
            .await,
        format!("/users/{author}"),
        "the name links to the profile"
    );
    let options = browser
        .js("return [...document.querySelectorAll('#new-post-user option')].map(o => o.textContent)")
        .await;
    let expected: Vec<String> = (1..=SEED_USERS as i64).map(name).collect();
    assert_eq!(options, json!(expected), "the author select lists names");
    browser.settle().await;
    let requests = browser.api_requests().await;
    assert!(
        requests.is_empty(),
        "names came with the page: {requests:?}"
    );
    browser.mark_document().await;

    // Another client renames the author: the byline follows.
    let renamed = "Renamed Elsewhere";
    let response = app
        .http
        .patch(format!("{}/api/users/{author}", app.url))
        .json(&json!({ "name": renamed }))
        .send()
        .await
        .expect("PATCH the user");
    assert_eq!(response.status(), 200);
    browser
        .wait_for_text("#post-author", renamed, PATIENCE)
        .await;
    browser.assert_not_reloaded().await;
    browser.close().await;
}
