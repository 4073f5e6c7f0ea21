//! The post list opened directly (its first page embedded by the server, or
//! restored from the persisted cache after a reload) grows as it is
//! scrolled: page 2, then page 3.

use crate::helpers::{Browser, PATIENCE, TestApp};

pub(crate) const ITEMS: &str = "#post-list li.post-item";

/// Scrolls the list's end into view until at least `want` posts are listed.
pub(crate) async fn scroll_until(browser: &Browser, want: usize) {
    browser
        .wait_until(
            "document.querySelector('#load-more') !== null",
            PATIENCE,
            "the list to offer more posts",
        )
        .await;
    browser
        .js("document.querySelector('.sentinel').scrollIntoView({ block: 'end' })")
        .await;
    browser
        .wait_until(
            &format!("document.querySelectorAll({ITEMS:?}).length >= {want}"),
            PATIENCE,
            &format!("{want} posts after scrolling"),
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directly_loaded_post_list_grows_as_it_scrolls() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let all = app.all_posts().await;
    let browser = app.browser().await;
    browser.goto("/posts").await;
    browser
        .wait_until(
            &format!("document.querySelectorAll({ITEMS:?}).length === 20"),
            PATIENCE,
            "the embedded first page",
        )
        .await;
    scroll_until(&browser, 40).await;
    scroll_until(&browser, 60).await;
    assert_eq!(browser.count(ITEMS).await, 60, "pages 1 to 3");
    let third_page_last = all[59]["id"].to_string();
    assert!(
        browser
            .exists(&format!("{ITEMS}[data-post-id='{third_page_last}']"))
            .await,
        "page 3 holds the 60th newest post"
    );

    // A reload: the list comes from the server's state and the persisted
    // cache, and still pages on.
    browser.reload().await;
    browser.wait_for(ITEMS).await;
    browser.settle().await;
    let shown = browser.count(ITEMS).await;
    scroll_until(&browser, shown + 20).await;
    browser.close().await;
}
