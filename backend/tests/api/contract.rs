//! The API's OpenAPI document (`/api/openapi.json`), and schemathesis
//! fuzzing the running server against it.
//!
//! Schemathesis (PyPI) is installed by `cargo xtask setup --test`, which
//! hands its path over as `SCHEMATHESIS`; without it the fuzzing test says it
//! is skipped (and fails in CI). `SCHEMATHESIS_SEED` and
//! `SCHEMATHESIS_EXAMPLES` vary the run (a fixed seed by default, so a
//! failure in CI reproduces).

use crate::helpers::{Engine, TestApp, fresh_database, in_ci, spawn_app, spawn_app_on};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// Every operation of the API, as the README's contract lists them.
const OPERATIONS: &[(&str, &str)] = &[
    ("GET", "/api/posts"),
    ("POST", "/api/posts"),
    ("GET", "/api/posts/{id}"),
    ("PATCH", "/api/posts/{id}"),
    ("DELETE", "/api/posts/{id}"),
    ("GET", "/api/posts/{id}/comments"),
    ("POST", "/api/posts/{id}/comments"),
    ("GET", "/api/users"),
    ("GET", "/api/users/{id}"),
    ("PATCH", "/api/users/{id}"),
    ("GET", "/api/users/{id}/posts"),
    ("GET", "/api/deferred"),
    ("GET", "/api/events"),
    ("GET", "/api/events/ws"),
    ("GET", "/api/openapi.json"),
    ("GET", "/api/session"),
    ("POST", "/api/session"),
    ("DELETE", "/api/session"),
];

/// Every `$ref` in `value`.
fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(target)) => out.push(target),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_openapi_document_lists_every_operation_and_resolves() {
    let app = spawn_app(Engine::Sqlite)
        .await
        .expect("SQLite always starts");
    let res = app.get("/api/openapi.json").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    let doc: Value = res.json().await.expect("JSON");
    assert_eq!(doc["openapi"], "3.1.0");

    let listed: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("path item")
                .keys()
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect();
    let expected: BTreeSet<(String, String)> = OPERATIONS
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(listed, expected);

    // Every operation says what it answers, errors included, and every
    // schema it names is in the document.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().expect("responses");
            assert!(
                responses.keys().any(|s| s.starts_with('2') || s == "101"),
                "{method} {path} documents its success"
            );
            if method != "get" {
                // Signing out takes no body and no key: nothing to refuse.
                let statuses: &[&str] =
                    if (method.as_str(), path.as_str()) == ("delete", "/api/session") {
                        &["400", "503"]
                    } else {
                        &["400", "422", "503"]
                    };
                for status in statuses {
                    assert!(
                        responses.contains_key(*status),
                        "{method} {path} documents {status}"
                    );
                }
            }
        }
    }
    let mut targets = Vec::new();
    refs(&doc, &mut targets);
    assert!(!targets.is_empty());
    for target in targets {
        let name = target
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected $ref {target}"));
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "$ref {target} resolves"
        );
    }
}

/// The schemathesis binary, or `None` (skipped, and said) where it is not
/// installed; CI must have it.
fn schemathesis() -> Option<PathBuf> {
    match std::env::var_os("SCHEMATHESIS").map(PathBuf::from) {
        Some(path) if path.is_file() => Some(path),
        other => {
            assert!(
                !in_ci(),
                "CI is set but SCHEMATHESIS ({other:?}) is not an installed schemathesis; \
                 `cargo xtask setup --test` installs it"
            );
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED schemathesis fuzzing: SCHEMATHESIS is not set (`cargo xtask setup --test` installs it)"
            );
            None
        }
    }
}

/// Runs schemathesis against `app` in `mode` (`positive` or `negative`);
/// panics with its report when it finds anything.
async fn fuzz(bin: PathBuf, app: &TestApp, mode: &'static str) {
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/schemathesis.toml");
    let seed = std::env::var("SCHEMATHESIS_SEED").unwrap_or_else(|_| "20261130".into());
    let examples = std::env::var("SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "25".into());
    let report = tempfile::tempdir().expect("report dir");
    let args: Vec<String> = vec![
        "--no-color".into(),
        "--config-file".into(),
        config.into(),
        "run".into(),
        app.url("/api/openapi.json"),
        "--mode".into(),
        mode.into(),
        // Every check runs but those schemathesis.toml turns off.
        // Endless streams: their contract is the events suites'.
        "--exclude-path-regex".into(),
        "^/api/events".into(),
        // Negative mode alone: the stateful phase chains requests through
        // the responses of accepted ones, which a negative run has none of.
        "--phases".into(),
        match mode {
            "negative" => "coverage,fuzzing",
            _ => "examples,coverage,fuzzing,stateful",
        }
        .into(),
        // A positive run's requests are all schema-valid; schemathesis 4.32
        // still judges some stateful steps by the negative rule.
        "--exclude-checks".into(),
        match mode {
            "negative" => "positive_data_acceptance",
            _ => "negative_data_rejection",
        }
        .into(),
        "--max-examples".into(),
        examples,
        "--seed".into(),
        seed,
        "--workers".into(),
        "1".into(),
        "--report-dir".into(),
        report.path().display().to_string(),
    ];
    let workdir = report.path().to_path_buf();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(bin)
            .args(&args)
            // Its caches (`.schemathesis/`) go with the report, not into the tree.
            .current_dir(workdir)
            .env("NO_COLOR", "1")
            .output()
    })
    .await
    .expect("the runner thread")
    .expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    // Long generated bodies make the report huge; its end says what failed.
    let tail: String = {
        let lines: Vec<&str> = stdout.lines().collect();
        lines[lines.len().saturating_sub(120)..].join("\n")
    };
    assert!(
        output.status.success(),
        "schemathesis ({mode}) found problems:\n{tail}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // "Test cases:" then "  474 generated, 474 passed".
    let generated = stdout
        .lines()
        .skip_while(|line| line.trim() != "Test cases:")
        .nth(1)
        .and_then(|line| line.split_whitespace().next()?.parse::<u32>().ok());
    assert!(
        generated.is_some_and(|n| n >= 100),
        "schemathesis ({mode}) ran too few tests ({generated:?}):\n{tail}"
    );
}

/// Everything a client can see of the data (counts, every user, every
/// post), read through a fresh instance on the same database: the fuzzed
/// one's kept answers would hide a change made without an event.
async fn snapshot(database_url: &str) -> Value {
    let app = spawn_app_on(database_url, tempfile::tempdir().unwrap(), |_| {}).await;
    let posts = crate::crash::all_posts(&app.client, &app.address).await;
    let mut stats = app.get_json("/api/deferred").await;
    stats["computed_at"] = Value::Null;
    serde_json::json!({
        "stats": stats,
        "users": app.get_json("/api/users").await,
        "posts": posts,
    })
}

/// Schemathesis against the running server, from the document alone. First
/// negative mode (every request breaks the schema somewhere): each must be
/// refused with a documented 4xx and the data must be exactly as before.
/// Then positive mode: no 5xx, every status, header, content type and body
/// as documented.
async fn fuzz_on(engine: Engine) {
    let Some(bin) = schemathesis() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(database_url) = fresh_database(engine, dir.path()) else {
        return;
    };
    let app = spawn_app_on(&database_url, dir, |_| {}).await;
    let before = snapshot(&database_url).await;
    fuzz(bin.clone(), &app, "negative").await;
    assert!(
        snapshot(&database_url).await == before,
        "a refused request changed the data"
    );
    fuzz(bin, &app, "positive").await;
}

#[tokio::test]
async fn schemathesis_finds_nothing_on_sqlite() {
    fuzz_on(Engine::Sqlite).await;
}

#[tokio::test]
async fn schemathesis_finds_nothing_on_postgres() {
    fuzz_on(Engine::Postgres).await;
}
