//! Native benchmark of the core: `cargo run --release -p querent --example bench --features test-util`.
//!
//! Prints a markdown table (median of several runs) for: writes and lookups
//! in a 10,000-query cache, invalidating a prefix across 10,000 queries,
//! hydrating a 1 MB state from JSON text, and persisting / restoring 1 MB.

#![allow(clippy::print_stdout)]

use querent::hydration::{self, DehydratedState};
use querent::persist::{self, MemoryStorage, PersistOptions, Storage};
use querent::testing::FakePlatform;
use querent::{QueryClient, QueryKey};
use serde_json::json;
use std::rc::Rc;
use std::time::Instant;

#[path = "../tests/fixture/mod.rs"]
mod fixture;

use fixture::{median, post};

const QUERIES: usize = 10_000;
const RUNS: usize = 7;

fn time(mut f: impl FnMut()) -> f64 {
    let runs: Vec<f64> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    median(runs)
}

fn keys() -> Vec<QueryKey> {
    (0..QUERIES)
        .map(|i| QueryKey::from(vec![json!("post"), json!(i)]))
        .collect()
}

/// About 1 MB of dehydrated state: 1,250 posts of ~800 bytes.
fn one_megabyte_state() -> String {
    let (platform, _runner) = FakePlatform::new();
    fixture::one_megabyte_state(&QueryClient::new(platform))
}

fn main() {
    let keys = keys();
    let mut rows: Vec<(String, f64, String)> = vec![];

    let write = time(|| {
        let (platform, _r) = FakePlatform::new();
        let client = QueryClient::new(platform);
        for (i, k) in keys.iter().enumerate() {
            client.set_query_data(k, |_| Some(json!(i)));
        }
    });
    rows.push((
        "write 10,000 queries (set_query_data)".into(),
        write,
        format!("{:.2} µs/op", write * 1000.0 / QUERIES as f64),
    ));

    let (platform, _runner) = FakePlatform::new();
    let client = QueryClient::new(platform);
    for (i, k) in keys.iter().enumerate() {
        client.set_query_data(k, |_| Some(post(i)));
    }
    let lookups = time(|| {
        for k in &keys {
            assert!(client.get_query_data(k).is_some());
        }
    });
    rows.push((
        "10,000 lookups in a 10,000-query cache".into(),
        lookups,
        format!("{:.3} µs/op", lookups * 1000.0 / QUERIES as f64),
    ));

    let prefix = QueryKey::from(vec![json!("post")]);
    let invalidate = time(|| drop(client.invalidate_queries(&prefix)));
    rows.push((
        "invalidate a prefix matching 10,000 queries".into(),
        invalidate,
        String::new(),
    ));

    let text = one_megabyte_state();
    let size = format!("{:.2} MB", text.len() as f64 / 1e6);
    let hydrate = time(|| {
        let (platform, _r) = FakePlatform::new();
        let client = QueryClient::new(platform);
        let state: DehydratedState = serde_json::from_str(&text).expect("parse");
        assert_eq!(hydration::hydrate(&client, state), 1250);
    });
    rows.push((
        format!("hydrate {size} from JSON text (parse + adopt)"),
        hydrate,
        "1,250 queries".into(),
    ));

    let (platform, mut runner) = FakePlatform::new();
    let source = QueryClient::new(platform);
    let state: DehydratedState = serde_json::from_str(&text).expect("parse");
    hydration::hydrate(&source, state);
    let storage = MemoryStorage::default();
    let options = PersistOptions {
        buster: "bench".into(),
        ..Default::default()
    };
    let handle = persist::persist(&source, Rc::new(storage.clone()), options.clone());
    let mut touch = 0;
    let writes_before = handle.writes();
    let persist_ms = time(|| {
        touch += 1;
        source.set_query_data(&QueryKey::from(vec![json!("touch")]), |_| {
            Some(json!(touch))
        });
        handle.flush();
    });
    assert_eq!(
        handle.writes() - writes_before,
        RUNS as u64,
        "every run wrote"
    );
    runner.run_until_stalled();
    let stored = storage
        .get(&options.storage_key)
        .expect("get")
        .expect("stored")
        .len();
    rows.push((
        format!(
            "persist {:.2} MB (dehydrate + serialise + store)",
            stored as f64 / 1e6
        ),
        persist_ms,
        String::new(),
    ));

    let restore = time(|| {
        let (platform, _r) = FakePlatform::new();
        let client = QueryClient::new(platform);
        let outcome = persist::restore(&client, &storage, &options);
        assert!(
            matches!(outcome, persist::Restored::Adopted { queries: 1251, .. }),
            "{outcome:?}"
        );
    });
    rows.push((
        format!(
            "restore {:.2} MB (read + parse + adopt)",
            stored as f64 / 1e6
        ),
        restore,
        String::new(),
    ));

    println!("| operation | median ms ({RUNS} runs) | note |");
    println!("|---|---:|---|");
    for (name, ms, note) in rows {
        println!("| {name} | {ms:.2} | {note} |");
    }
}
