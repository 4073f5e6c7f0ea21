//! Browser smoke test: the real Trunk build served by the real backend, in
//! headless Chromium driven through chromedriver.
//!
//! Needs `DIST_DIR` (Trunk's output) and `CHROMEDRIVER`; `cargo xtask test`
//! sets both. Without them the test prints a notice and passes, except under
//! `CI=true`, where a missing piece is a failure.

use backend::config::Settings;
use backend::startup::Application;
use fantoccini::{ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn requirement(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Some(v),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but {name} is not set; run the tests through `cargo xtask test`")
        }
        _ => {
            eprintln!("NOTICE: {name} is not set; browser test skipped (run `cargo xtask test`)");
            None
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn start_driver(path: &str) -> (Driver, String) {
    let port = free_port();
    let child = Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {path}: {e}"));
    let driver = Driver(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (driver, format!("http://127.0.0.1:{port}"))
}

async fn browser(webdriver: &str, profile: &std::path::Path) -> fantoccini::Client {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage",
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(webdriver)
        .await
        .expect("a browser session")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_page_renders_from_embedded_state_without_api_requests() {
    let (Some(dist), Some(chromedriver)) = (requirement("DIST_DIR"), requirement("CHROMEDRIVER"))
    else {
        return;
    };
    let dist = PathBuf::from(dist);
    assert!(
        std::fs::read_to_string(dist.join("index.html")).is_ok_and(|h| h.contains("wasm")),
        "{} holds no Trunk build; run `cargo xtask build`",
        dist.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::defaults();
    settings.bind = "127.0.0.1:0".into();
    settings.database_url = dir.path().join("app.db").display().to_string();
    settings.dist_dir = dist;
    let app = Application::build(settings).await.expect("app starts");
    let url = app.url();
    tokio::spawn(app.run_until_stopped());

    let (_driver, webdriver) = start_driver(&chromedriver).await;
    let client = browser(&webdriver, &dir.path().join("profile")).await;
    client.goto(&format!("{url}/posts")).await.unwrap();
    let list = client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#post-list li.post-item"))
        .await
        .expect("the post list renders");
    let first = list.text().await.unwrap();
    let items = client
        .find_all(Locator::Css("#post-list li.post-item"))
        .await
        .unwrap();
    assert_eq!(items.len(), 20, "the first page of posts is visible");

    let api: Value = reqwest::get(format!("{url}/api/posts?limit=1"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first.trim(), api["items"][0]["title"].as_str().unwrap());

    let requested: Value = client
        .execute(
            "return performance.getEntriesByType('resource').map(e => e.name)",
            vec![],
        )
        .await
        .unwrap();
    let requested: Vec<&str> = requested
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        requested.iter().any(|r| r.ends_with(".wasm")),
        "the app itself loaded: {requested:?}"
    );
    assert!(
        !requested.iter().any(|r| r.contains("/api/")),
        "no API request on first load: {requested:?}"
    );
    client.close().await.unwrap();
}
