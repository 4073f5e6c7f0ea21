//! Scenario 10: the devtools panel opens, lists the page's queries, and its
//! "Invalidate" refetches a query.

use crate::helpers::{PATIENCE, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devtools_lists_queries_and_invalidate_refetches() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let browser = app.browser().await;
    browser.goto("/posts/1").await;
    browser.wait_for("#comments li.comment").await;
    browser.settle().await;

    browser.click("button.querent-devtools-toggle").await;
    browser.wait_for("aside.querent-devtools").await;
    // The panel brings its own stylesheet (pages link none for it).
    assert_eq!(
        browser
            .js(
                "return getComputedStyle(document.querySelector('aside.querent-devtools')).position"
            )
            .await,
        "fixed",
        "the panel is styled"
    );
    for key in [
        r#"["posts"]"#,
        r#"["post",1]"#,
        r#"["comments",1]"#,
        r#"["users"]"#,
        r#"["session"]"#,
    ] {
        let row = format!("tr.querent-devtools-query[data-key='{key}']");
        browser.wait_for(&row).await;
        assert_eq!(
            browser
                .text(&format!("{row} td[data-field='status']"))
                .await,
            "success",
            "{key}"
        );
    }
    assert_eq!(
        browser.count("tr.querent-devtools-query").await,
        5,
        "exactly the page's queries (and who is signed in)"
    );
    browser.screenshot("devtools.png").await;
    assert!(browser.api_requests().await.is_empty());

    browser
        .click(
            r#"tr.querent-devtools-query[data-key='["post",1]'] button[data-action="invalidate"]"#,
        )
        .await;
    browser
        .wait_until(
            "performance.getEntriesByType('resource').some((e) => new URL(e.name).pathname === '/api/posts/1')",
            PATIENCE,
            "the invalidated query to refetch",
        )
        .await;
    browser.settle().await;
    assert_eq!(
        browser.api_requests().await,
        vec!["/api/posts/1".to_owned()]
    );
    browser.close().await;
}

/// The panel's "Trigger loading" / "Trigger error" show the app's own
/// loading and error views for a query, and "Restore" brings its data back
/// (TanStack devtools' toggles).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devtools_trigger_the_apps_loading_and_error_views() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let browser = app.browser().await;
    browser.goto("/posts/1").await;
    browser.wait_for("#post-title").await;
    browser.settle().await;
    browser.click("button.querent-devtools-toggle").await;
    browser
        .click(r#"button[aria-label='Query key ["post",1]']"#)
        .await;
    let detail = r#"section.querent-devtools-detail[data-key='["post",1]']"#;
    browser.wait_for(detail).await;

    browser
        .click(&format!("{detail} button[data-action='trigger-loading']"))
        .await;
    browser.wait_for("article.post.skeleton").await;
    assert!(!browser.exists("#post-title").await);
    browser
        .click(&format!("{detail} button[data-action='restore-loading']"))
        .await;
    browser.wait_for("#post-title").await;

    browser
        .click(&format!("{detail} button[data-action='trigger-error']"))
        .await;
    browser.wait_for("#error-boundary").await;
    assert!(
        browser
            .text("#error-boundary")
            .await
            .contains("Unknown error from devtools")
    );
    browser
        .click(&format!("{detail} button[data-action='restore-error']"))
        .await;
    browser.wait_for("#post-title").await;
    assert!(!browser.exists("#error-boundary").await);
    browser.close().await;
}
