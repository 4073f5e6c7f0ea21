//! WCAG 2.1 AA on every page: axe-core (the engine most audits use) run in
//! the real app on every `Route::examples()` page as it first shows, and
//! with the devtools panel and the post's edit form open. No violation of
//! impact serious or critical may remain.

use crate::helpers::{Browser, TestApp};
use serde_json::{Value, json};
use shared::Route;

/// The axe-core script (`cargo xtask test` installs it, pinned, and sets
/// `AXE_CORE_JS`), or `None` with a notice outside CI.
fn axe_source() -> Option<String> {
    match std::env::var("AXE_CORE_JS") {
        Ok(path) if !path.is_empty() => {
            Some(std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}")))
        }
        _ if crate::helpers::in_ci() => {
            panic!("CI is set but AXE_CORE_JS is not; run the tests through `cargo xtask test`")
        }
        _ => {
            eprintln!("NOTICE: AXE_CORE_JS is not set; accessibility test skipped");
            None
        }
    }
}

/// Runs axe on the page as it is now; returns the serious and critical
/// violations as `rule (impact): targets`.
async fn serious_violations(browser: &Browser, axe: &str) -> Vec<String> {
    browser
        .js_with(
            "if (!window.axe) { (0, eval)(arguments[0]); } return true;",
            vec![json!(axe)],
        )
        .await;
    let result = browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { runOnly: { type: 'tag',
                 values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
               .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact,
                   targets: v.nodes.map(n => n.target.join(' ')) }))))
               .catch(e => done([{ id: 'axe-failed', impact: 'critical', targets: [String(e)] }]));",
            vec![],
        )
        .await
        .expect("axe.run");
    result
        .as_array()
        .expect("a list of violations")
        .iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .map(|v: &Value| {
            format!(
                "{} ({}): {}",
                v["id"].as_str().unwrap_or("?"),
                v["impact"].as_str().unwrap_or("?"),
                v["targets"]
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_wcag_aa() {
    let Some(axe) = axe_source() else {
        return;
    };
    let Some(app) = TestApp::start(|settings| settings.deferred_delay_ms = 50).await else {
        return;
    };
    let browser = app.browser().await;
    let mut found = vec![];
    for route in Route::examples() {
        let path = route.path();
        browser.goto(&path).await;
        browser.wait_for("main").await;
        browser.settle().await;
        for violation in serious_violations(&browser, &axe).await {
            found.push(format!("{path}: {violation}"));
        }
    }

    // With the devtools panel open (over a page with every kind of query),
    // and the post's edit form open.
    browser.goto("/posts/1").await;
    browser.wait_for("#comments li.comment").await;
    browser.click("button.querent-devtools-toggle").await;
    browser.wait_for("aside.querent-devtools").await;
    browser.click("#edit-post").await;
    browser.wait_for("#edit-author").await;
    browser.settle().await;
    for violation in serious_violations(&browser, &axe).await {
        found.push(format!("/posts/1 with devtools and edit form: {violation}"));
    }
    browser.goto("/users/1").await;
    browser.wait_for("#user-posts li").await;
    browser.click("button.querent-devtools-toggle").await;
    browser.wait_for("aside.querent-devtools").await;
    browser.settle().await;
    for violation in serious_violations(&browser, &axe).await {
        found.push(format!("/users/1 with devtools: {violation}"));
    }
    assert!(
        found.is_empty(),
        "accessibility violations:\n{}",
        found.join("\n")
    );
    browser.close().await;
}
