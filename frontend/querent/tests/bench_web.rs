//! Browser benchmark (not a test of speed: it only prints timings, measured
//! with `performance.now()` in headless Chromium). Run it with
//! `scripts/bench-querent.sh`; its output is in docs/benchmarks.md.

#![cfg(target_arch = "wasm32")]

use querent::QueryClient;
use querent::hydration::{self, DehydratedState};
use querent::persist::{self, PersistOptions, Restored, Storage};
use querent::web::{LocalStorage, WebPlatform};
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

mod fixture;

use fixture::median;

wasm_bindgen_test_configure!(run_in_browser);

const RUNS: usize = 9;

fn now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// ~1.2 MB: 1,250 posts, like the native benchmark.
fn state_text() -> String {
    fixture::one_megabyte_state(&QueryClient::new(WebPlatform::default()))
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
