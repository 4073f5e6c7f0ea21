//! Refetches that cost nothing when nothing changed: the app remembers each
//! answer's `ETag` and asks again with `If-None-Match`; the server's `304`
//! carries no body, the page keeps what it shows, and the devtools count
//! the revalidation and the bytes it saved.

use crate::helpers::{Browser, PATIENCE, TestApp};

const INVALIDATE: &str =
    r#"tr.querent-devtools-query[data-key='["post",1]'] button[data-action="invalidate"]"#;

/// The `/api/posts/1` answers the page received: `[status, body bytes]`.
async fn answers(browser: &Browser) -> Vec<(u64, u64)> {
    let list = browser
        .js("return performance.getEntriesByType('resource')
                .filter((e) => new URL(e.name).pathname === '/api/posts/1')
                .map((e) => [e.responseStatus, e.encodedBodySize])")
        .await;
    list.as_array()
        .unwrap()
        .iter()
        .map(|pair| (pair[0].as_u64().unwrap(), pair[1].as_u64().unwrap()))
        .collect()
}

async fn invalidate_and_wait(browser: &Browser, answers_before: usize) {
    browser.click(INVALIDATE).await;
    browser
        .wait_until(
            &format!(
                "performance.getEntriesByType('resource')
                    .filter((e) => new URL(e.name).pathname === '/api/posts/1').length > {answers_before}"
            ),
            PATIENCE,
            "the invalidated query to refetch",
        )
        .await;
    browser.settle().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchanged_post_is_revalidated_without_a_body() {
    let Some(app) = TestApp::start(|_| {}).await else {
        return;
    };
    let browser = app.browser().await;
    browser.goto("/posts/1").await;
    browser.wait_for("#post-title").await;
    browser.settle().await;
    let title = browser.text("#post-title").await;
    browser.click("button.querent-devtools-toggle").await;
    browser.wait_for(INVALIDATE).await;

    // The page came with its data: the first refetch learns the tag.
    invalidate_and_wait(&browser, 0).await;
    let first = answers(&browser).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].0, 200);
    assert!(first[0].1 > 0, "a body");

    // Nothing changed: the second is a 304 with no body.
    invalidate_and_wait(&browser, 1).await;
    let second = answers(&browser).await;
    assert_eq!(second.len(), 2);
    assert_eq!(second[1], (304, 0), "not modified, no body");
    assert_eq!(
        browser.text("#post-title").await,
        title,
        "the post still shows"
    );
    assert_eq!(
        browser.text("dd[data-metric='not-modified']").await,
        "1",
        "the devtools count the revalidation"
    );
    let saved: u64 = browser
        .text("dd[data-metric='bytes-saved']")
        .await
        .parse()
        .unwrap();
    assert!(saved > 0, "and the bytes it saved");

    // A change is fetched in full and shown.
    let res = app
        .http
        .patch(format!("{}/api/posts/1", app.url))
        .json(&serde_json::json!({"title": "Changed behind the page"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    browser
        .wait_for_text("#post-title", "Changed behind the page", PATIENCE)
        .await;
    invalidate_and_wait(&browser, 2).await;
    let third = answers(&browser).await;
    assert_eq!(third.len(), 3);
    assert_eq!(third[2].0, 200, "the new data's tag is not the old one");
    let console = browser.console().await;
    assert!(
        !console.iter().any(|l| l.contains("panicked")),
        "{console:?}"
    );
    browser.close().await;
}
