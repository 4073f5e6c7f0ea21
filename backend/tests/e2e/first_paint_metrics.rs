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
/// holds `expected` (`window.__visibleAt`) and the first frame where
/// `ready` (a JavaScript expression) holds (`window.__readyAt`).
fn watch_for(expected: &str, ready: &str) -> String {
    format!(
        "window.__visibleAt = null;
         window.__readyAt = null;
         const expected = {expected};
         const ready = () => {{ try {{ return {ready}; }} catch (e) {{ return false; }} }};
         const check = () => {{
           const now = performance.now();
           if (window.__visibleAt === null && document.body && document.body.innerText.includes(expected)) {{
             window.__visibleAt = now;
           }}
           if (window.__readyAt === null && ready()) {{
             window.__readyAt = now;
           }}
           if (window.__visibleAt === null || window.__readyAt === null) {{
             requestAnimationFrame(check);
           }}
         }};
         requestAnimationFrame(check);",
        expected = json!(expected)
    )
}

/// Ours: `<html data-app="ready">`.
const OURS_READY: &str = "document.documentElement.dataset.app === 'ready'";

/// A React page: the root and every Suspense boundary hydrated (the fibre
/// walk `../shared/ANCHOR.md` gives; `window.__TSR_ROUTER__` appearing fires
/// too early).
const REACT_READY: &str = "(() => { const k = Object.keys(document).find((k) => k.startsWith('__reactContainer$')); if (!k) return false; \
  const r = document[k].stateNode.current; if (r.memoizedState?.isDehydrated !== false) return false; \
  const s = [r.child]; while (s.length) { const f = s.pop(); if (!f) continue; \
    if ((f.tag === 13 || f.tag === 31) && f.memoizedState?.dehydrated) return false; s.push(f.child, f.sibling); } \
  return true; })()";

/// The network and CPU a load runs on.
#[derive(Clone, Copy)]
struct Conditions {
    name: &'static str,
    slow: bool,
    cpu_slowdown: u32,
}

const LOOPBACK: Conditions = Conditions {
    name: "loopback",
    slow: false,
    cpu_slowdown: 1,
};
const SLOW: Conditions = Conditions {
    name: "slow",
    slow: true,
    cpu_slowdown: 1,
};
const SLOW_CPU: Conditions = Conditions {
    name: "slow, CPU 4x slower",
    slow: true,
    cpu_slowdown: 4,
};

/// One first load of `url` in a fresh profile: cache off, service workers
/// bypassed, `conditions` emulated. `ready` (JavaScript) says when the page
/// is interactive; `None`: a static page, content only.
async fn load_url(
    app: &TestApp,
    url: &str,
    expected: &str,
    ready: Option<&str>,
    conditions: Conditions,
) -> Value {
    let browser: Browser = app.browser().await;
    browser.cdp("Network.enable", json!({})).await;
    browser
        .cdp("Network.setCacheDisabled", json!({ "cacheDisabled": true }))
        .await;
    browser
        .cdp("Network.setBypassServiceWorker", json!({ "bypass": true }))
        .await;
    if conditions.slow {
        browser.emulate_slow_network().await;
    }
    if conditions.cpu_slowdown > 1 {
        browser
            .cdp(
                "Emulation.setCPUThrottlingRate",
                json!({ "rate": conditions.cpu_slowdown }),
            )
            .await;
    }
    browser
        .on_every_page(&watch_for(expected, ready.unwrap_or("true")))
        .await;
    browser.client.goto(url).await.expect("the page");
    browser
        .wait_until(
            "window.__visibleAt !== null && window.__readyAt !== null",
            crate::helpers::PATIENCE,
            "the content",
        )
        .await;
    let row = browser
        .js(
            "const paint = performance.getEntriesByName('first-contentful-paint')[0];
             const nav = performance.getEntriesByType('navigation')[0];
             const res = performance.getEntriesByType('resource');
             const code = res.filter(r => /\\.(js|wasm)(\\?|$)/.test(r.name));
             return {
               fcp: paint ? paint.startTime : null,
               visible: window.__visibleAt,
               interactive: window.__readyAt,
               last_code_byte: code.length ? Math.max(...code.map(r => r.responseEnd)) : null,
               bytes: nav.transferSize + res.reduce((n, r) => n + r.transferSize, 0),
             };",
        )
        .await;
    browser.close().await;
    row
}

async fn load(app: &TestApp, path: &str, expected: &str, slow: bool) -> Value {
    let ready = (path != "/floor.html").then_some(OURS_READY);
    let conditions = if slow { SLOW } else { LOOPBACK };
    load_url(
        app,
        &format!("{}{path}", app.url),
        expected,
        ready,
        conditions,
    )
    .await
}

/// Side by side with a second site (`COMPARE_URL`, e.g. the TanStack Start
/// example built locally as `../shared/ANCHOR.md` says), loaded alternately
/// with ours: `/posts` and `/posts/1`, loopback, slow, slow with the CPU 4x
/// slower, medians of 5. Its "content visible" text is post 1's title (its
/// post page), of which its list shows the first 20 characters; ours is the
/// newest post's title on `/posts` (the first of our list) and post 1's on
/// `/posts/1`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run by scripts/bench-first-paint.sh URL"]
async fn side_by_side_metrics() {
    let (Ok(_), Ok(other)) = (std::env::var("DIST_DIR"), std::env::var("COMPARE_URL")) else {
        return;
    };
    let other = other.trim_end_matches('/').to_owned();
    let Some(app) = TestApp::start(|s| s.precompress_assets = true).await else {
        return;
    };
    crate::first_load_metrics::wait_for_precompressed_wasm(&app.url).await;
    let newest = app.api("/api/posts?limit=1").await["items"][0]["title"]
        .as_str()
        .unwrap()
        .to_owned();
    let post = app.api("/api/posts/1").await["title"]
        .as_str()
        .unwrap()
        .to_owned();
    println!(
        "| page, network | ours: content | ours: interactive | theirs: content | theirs: interactive | ours: last code byte | theirs: last code byte | bytes ours / theirs |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let listed: String = post.chars().take(20).collect();
    for (path, ours_expected, theirs_expected) in
        [("/posts", &newest, &listed), ("/posts/1", &post, &post)]
    {
        for conditions in [LOOPBACK, SLOW, SLOW_CPU] {
            let (mut ours, mut theirs) = (vec![], vec![]);
            for _ in 0..RUNS {
                let url = format!("{}{path}", app.url);
                ours.push(load_url(&app, &url, ours_expected, Some(OURS_READY), conditions).await);
                let url = format!("{other}{path}");
                theirs.push(
                    load_url(&app, &url, theirs_expected, Some(REACT_READY), conditions).await,
                );
            }
            let col = |rows: &[Value], k: &str| {
                median(rows.iter().filter_map(|r| r[k].as_f64()).collect())
            };
            println!(
                "| `{path}`, {} | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} / {:.0} KB |",
                conditions.name,
                col(&ours, "visible"),
                col(&ours, "interactive"),
                col(&theirs, "visible"),
                col(&theirs, "interactive"),
                col(&ours, "last_code_byte"),
                col(&theirs, "last_code_byte"),
                col(&ours, "bytes") / 1000.0,
                col(&theirs, "bytes") / 1000.0,
            );
        }
    }
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
