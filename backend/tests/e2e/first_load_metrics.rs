//! First-load measurements (a benchmark, not a test: it asserts only that
//! the page worked). Run by `scripts/bench-app.sh`:
//! `cargo test -p backend --test e2e first_load_metrics -- --ignored --nocapture`.
//! Five cold loads of `/posts` (fresh profile: empty HTTP cache, no service
//! worker), then the medians of the page's own timings.

#![allow(clippy::print_stdout)]

use crate::helpers::TestApp;
use serde_json::Value;

const RUNS: usize = 5;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run by scripts/bench-app.sh"]
async fn first_load_metrics() {
    let Some(app) = TestApp::start(|s| s.precompress_assets = true).await else {
        return;
    };
    wait_for_precompressed_wasm(&app.url).await;
    let mut rows: Vec<Value> = vec![];
    for _ in 0..RUNS {
        let browser = app.browser().await;
        browser.goto("/posts").await;
        browser.wait_for("#post-list li.post-item").await;
        browser.settle().await;
        let row = browser
            .js(
                "const nav = performance.getEntriesByType('navigation')[0];
                 const res = performance.getEntriesByType('resource');
                 const wasm = res.find(r => r.name.endsWith('.wasm'));
                 const mark = n => (performance.getEntriesByName(n)[0] || {}).startTime;
                 return {
                   html_done: nav.responseEnd,
                   wasm_done: wasm ? wasm.responseEnd : null,
                   app_start: mark('app-start'),
                   posts_visible: mark('posts-visible'),
                   requests: res.filter(r => !r.name.includes('/api/events')).map(r => r.name),
                   api_requests: res.filter(r => r.name.includes('/api/') && !r.name.includes('/api/events')).length,
                 };",
            )
            .await;
        rows.push(row);
        browser.close().await;
    }
    let col = |name: &str| median(rows.iter().filter_map(|r| r[name].as_f64()).collect());
    println!(
        "| first load of /posts, headless Chromium (median of {RUNS}) | ms after navigation start |"
    );
    println!("|---|---:|");
    println!("| HTML received | {:.0} |", col("html_done"));
    println!("| wasm received | {:.0} |", col("wasm_done"));
    println!(
        "| app started (wasm instantiated, `main` running) | {:.0} |",
        col("app_start")
    );
    println!("| post list visible | {:.0} |", col("posts_visible"));
    println!();
    println!("requests during the first load (besides the page itself and the live event stream):");
    for r in rows[0]["requests"].as_array().into_iter().flatten() {
        println!("- {}", r.as_str().unwrap_or_default().replace(&app.url, ""));
    }
    println!("- /api/ requests: {}", rows[0]["api_requests"]);
    assert_eq!(
        rows[0]["api_requests"], 0,
        "the page rendered from embedded state"
    );
}

/// The server compresses its assets once, in the background, after start;
/// measure the steady state, not that first second.
pub(crate) async fn wait_for_precompressed_wasm(base: &str) {
    let client = reqwest::Client::new();
    let html = client
        .get(format!("{base}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let end = html.find("_bg.wasm").expect("the page preloads its wasm") + "_bg.wasm".len();
    let start = html[..end].rfind('/').unwrap();
    let wasm = &html[start..end];
    for _ in 0..1200 {
        let res = client
            .get(format!("{base}{wasm}"))
            .header("accept-encoding", "br")
            .send()
            .await
            .unwrap();
        if res.content_length().is_some() && res.headers().get("content-encoding").is_some() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{wasm} was not precompressed within 60 s");
}
