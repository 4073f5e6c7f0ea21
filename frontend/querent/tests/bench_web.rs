//! Browser benchmark (not a test of speed: it only prints timings, measured
//! with `performance.now()` in headless Chromium). Run it with
//! `scripts/bench-querent.sh`; its output is in docs/benchmarks.md.

#![cfg(target_arch = "wasm32")]

use querent::hydration::{self, DehydratedState};
use querent::persist::{self, PersistOptions, Restored, Storage};
use querent::web::{LocalStorage, WebPlatform};
use querent::{QueryClient, QueryKey};
use serde_json::{Value, json};
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const RUNS: usize = 9;

fn now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn post(i: usize) -> Value {
    json!({
        "id": i, "user_id": i % 10 + 1,
        "title": format!("Post number {i} with a title of ordinary length"),
        "body": "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. ".repeat(6),
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
    })
}

/// ~1.2 MB: 1,250 posts, like the native benchmark.
fn state_text() -> String {
    let client = QueryClient::new(WebPlatform::default());
    for i in 0..1250 {
        client.set_query_data(&QueryKey::from(vec![json!("post"), json!(i)]), |_| {
            Some(post(i))
        });
    }
    serde_json::to_string(&hydration::dehydrate(&client)).unwrap()
}

#[wasm_bindgen_test]
fn hydrate_and_restore_one_megabyte() {
    let text = state_text();
    let mb = text.len() as f64 / 1e6;
    let hydrate: Vec<f64> = (0..RUNS)
        .map(|_| {
            let client = QueryClient::new(WebPlatform::default());
            let start = now();
            let state: DehydratedState = serde_json::from_str(&text).unwrap();
            assert_eq!(hydration::hydrate(&client, state), 1250);
            now() - start
        })
        .collect();

    let options = PersistOptions {
        storage_key: "querent-bench".into(),
        buster: "bench".into(),
        ..Default::default()
    };
    let storage = LocalStorage::default();
    let source = QueryClient::new(WebPlatform::default());
    hydration::hydrate(&source, serde_json::from_str(&text).unwrap());
    let record = persist::PersistedClient {
        timestamp: source.now(),
        buster: options.buster.clone(),
        client_state: hydration::dehydrate(&source),
    };
    let persist_ms: Vec<f64> = (0..RUNS)
        .map(|_| {
            let start = now();
            let record_text = serde_json::to_string(&record).unwrap();
            storage.set(&options.storage_key, &record_text).unwrap();
            now() - start
        })
        .collect();
    let restore: Vec<f64> = (0..RUNS)
        .map(|_| {
            let client = QueryClient::new(WebPlatform::default());
            let start = now();
            let outcome = persist::restore(&client, &storage, &options);
            let ms = now() - start;
            assert_eq!(
                outcome,
                Restored::Adopted {
                    queries: 1250,
                    mutations: 0
                }
            );
            ms
        })
        .collect();
    storage.remove(&options.storage_key);
    console_log!("| operation (headless Chromium, wasm) | median ms ({RUNS} runs) |");
    console_log!("|---|---:|");
    console_log!(
        "| hydrate {mb:.2} MB from JSON text (parse + adopt) | {:.2} |",
        median(hydrate)
    );
    console_log!(
        "| persist {mb:.2} MB to localStorage (serialise + setItem) | {:.2} |",
        median(persist_ms)
    );
    console_log!(
        "| restore {mb:.2} MB from localStorage (getItem + parse + adopt) | {:.2} |",
        median(restore)
    );
}
