//! Scenario 6: two browser sessions; a user edited in one shows in the
//! other's users list without a reload (server events). How fast is the
//! benchmarks' business; this checks that it arrives.

use crate::helpers::{PATIENCE, TestApp};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_in_one_session_appears_in_the_other_without_a_reload() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let user = 3;
    let old_name = app.api(&format!("/api/users/{user}")).await["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let new_name = "Renamed In Session A";
    let (a, b) = tokio::join!(app.browser(), app.browser());

    let name_in_list = format!("#user-list li.user-item[data-user-id='{user}'] .user-name");
    b.goto("/users").await;
    b.wait_for_text(&name_in_list, &old_name, PATIENCE).await;
    b.mark_document().await;

    a.goto(&format!("/users/{user}")).await;
    a.wait_for("#user-posts li").await;
    a.screenshot("users.png").await;
    a.fill("#edit-user-name", new_name).await;
    a.click("#save-user").await;

    // From the moment the server has it (A's save answered) ...
    let deadline = Instant::now() + PATIENCE;
    while app.api(&format!("/api/users/{user}")).await["name"] != new_name {
        assert!(
            Instant::now() < deadline,
            "A's edit never reached the server"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // ... B shows it, with no request of its own (the event carried it).
    let requests = b.api_requests().await;
    b.wait_for_text(&name_in_list, new_name, PATIENCE).await;
    b.settle().await;
    assert_eq!(b.api_requests().await, requests, "B fetched nothing");
    b.assert_not_reloaded().await;
    a.wait_for_text("#user-name", new_name, PATIENCE).await;
    a.wait_for_text(&name_in_list, new_name, PATIENCE).await;
    a.close().await;
    b.close().await;
}
