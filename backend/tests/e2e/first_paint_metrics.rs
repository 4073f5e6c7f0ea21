//! When a user sees content on a first load, with the server's HTML and
//! without it (a benchmark, not a test: it asserts only that the pages
//! worked). Run by `scripts/bench-first-paint.sh`:
//! `cargo test -p backend --test e2e first_paint_metrics -- --ignored --nocapture`.
//!
//! Both backends run side by side in one run on one machine (one with
//! `--server-render false`: the page carries only its state, as before the
//! server rendered bodies). Each load: a fresh profile, the HTTP cache
//! disabled, service workers bypassed; on loopback and on the slow network
//! DevTools emulates (150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up).
//! "Content visible" is the first animation frame whose
//! `document.body.innerText` holds the page's title text.

#![allow(clippy::print_stdout)]

use crate::helpers::{Browser, TestApp};
use serde_json::{Value, json};

const RUNS: usize = 5;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Records, from the start of the document, the first frame whose text
/// holds `expected`.
fn watch_for(expected: &str) -> String {
    format!(
        "window.__visibleAt = null;
         const expected = {expected};
         const check = () => {{
           if (document.body && document.body.innerText.includes(expected)) {{
             window.__visibleAt = performance.now();
           }} else {{
             requestAnimationFrame(check);
           }}
         }};
         requestAnimationFrame(check);",
        expected = json!(expected)
    )
}

async fn load(app: &TestApp, path: &str, expected: &str, slow: bool) -> Value {
    let browser: Browser = app.browser().await;
    browser.cdp("Network.enable", json!({})).await;
    browser
        .cdp("Network.setCacheDisabled", json!({ "cacheDisabled": true }))
        .await;
    browser
        .cdp("Network.setBypassServiceWorker", json!({ "bypass": true }))
        .await;
    if slow {
        browser
            .cdp(
                "Network.emulateNetworkConditions",
                json!({ "offline": false, "latency": 150,
                        "downloadThroughput": 200_000, "uploadThroughput": 93_750 }),
            )
            .await;
    }
    browser.on_every_page(&watch_for(expected)).await;
    browser
        .client
        .goto(&format!("{}{path}", app.url))
        .await
        .expect("the page");
    browser
        .wait_until(
            "window.__visibleAt !== null",
            crate::helpers::PATIENCE,
            "the content",
        )
        .await;
    if path != "/floor.html" {
        browser.wait_for_app().await;
    }
    let row = browser
        .js(
            "const paint = performance.getEntriesByName('first-contentful-paint')[0];
             const ready = performance.getEntriesByName('app-ready')[0];
             const nav = performance.getEntriesByType('navigation')[0];
             const res = performance.getEntriesByType('resource');
             return {
               fcp: paint ? paint.startTime : null,
               visible: window.__visibleAt,
               interactive: ready ? ready.startTime : null,
               bytes: nav.transferSize + res.reduce((n, r) => n + r.transferSize, 0),
             };",
        )
        .await;
    browser.close().await;
    row
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run by scripts/bench-first-paint.sh"]
async fn first_paint_metrics() {
    // The build, plus a bare page for the browser's own floor.
    let Ok(dist) = std::env::var("DIST_DIR") else {
        return;
    };
    let with_floor = tempfile::tempdir().expect("a dir");
    for entry in std::fs::read_dir(&dist).expect("dist/") {
        let entry = entry.expect("an entry");
        std::fs::copy(entry.path(), with_floor.path().join(entry.file_name())).expect("a copy");
    }
    let index = std::fs::read_to_string(with_floor.path().join("index.html")).expect("index.html");
    let styles: String = index
        .lines()
        .filter(|l| l.contains("rel=\"stylesheet\""))
        .collect();
    std::fs::write(
        with_floor.path().join("floor.html"),
        format!("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Floor</title>{styles}</head><body><h1>Floor</h1></body></html>"),
    )
    .expect("floor.html");
    let floor_dist = with_floor.path().to_path_buf();
    let Some(rendered) = TestApp::start(move |s| {
        s.precompress_assets = true;
        s.dist_dir = floor_dist;
    })
    .await
    else {
        return;
    };
    let Some(bare) = TestApp::start(|s| {
        s.precompress_assets = true;
        s.server_render = false;
    })
    .await
    else {
        return;
    };
    for app in [&rendered, &bare] {
        crate::first_load_metrics::wait_for_precompressed_wasm(&app.url).await;
    }
    let newest = rendered.api("/api/posts?limit=1").await["items"][0]["title"]
        .as_str()
        .unwrap()
        .to_owned();
    let post = rendered.api("/api/posts/1").await["title"]
        .as_str()
        .unwrap()
        .to_owned();
    println!(
        "| page, network | body | first contentful paint | content visible | app interactive | bytes |"
    );
    println!("|---|---|---:|---:|---:|---:|");
    // The browser's own floor: a bare static page (one heading, the app's
    // stylesheets) from the same server.
    let mut rows = vec![];
    for _ in 0..RUNS {
        rows.push(load(&rendered, "/floor.html", "Floor", false).await);
    }
    let fcp = median(rows.iter().filter_map(|r| r["fcp"].as_f64()).collect());
    let visible = median(rows.iter().filter_map(|r| r["visible"].as_f64()).collect());
    println!(
        "| `/floor.html` (a bare static page), loopback | static | {fcp:.0} ms | {visible:.0} ms | - | - |"
    );
    for (path, expected) in [("/posts", &newest), ("/posts/1", &post)] {
        for slow in [false, true] {
            for (name, app) in [
                ("server-rendered", &rendered),
                ("empty (state only)", &bare),
            ] {
                let mut rows = vec![];
                for _ in 0..RUNS {
                    rows.push(load(app, path, expected, slow).await);
                }
                let col = |k: &str| median(rows.iter().filter_map(|r| r[k].as_f64()).collect());
                println!(
                    "| `{path}`, {} | {name} | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} KB |",
                    if slow { "slow" } else { "loopback" },
                    col("fcp"),
                    col("visible"),
                    col("interactive"),
                    col("bytes") / 1000.0
                );
            }
        }
    }
}
