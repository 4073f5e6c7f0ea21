//! The suite's harness: a real backend (own SQLite file, own port) serving
//! the real Trunk build, a chromedriver per test, and browser sessions with
//! the waits and DevTools commands the scenarios need.
//!
//! Needs `DIST_DIR` (Trunk's output) and `CHROMEDRIVER`; `CHROMIUM` defaults
//! to Debian's path. `cargo xtask test` sets all three. Without them a test
//! prints a notice and passes, except under `CI=true`, where a missing piece
//! is a failure.

use backend::config::Settings;
use backend::startup::Application;
use fantoccini::actions::{InputSource, MouseActions, PointerAction};
use fantoccini::elements::Element;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long a page may take to show something (the wasm starts in well
/// under a second; two tests share two cores).
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);
/// How often a condition is polled.
const POLL: Duration = Duration::from_millis(25);
/// Quiet time that counts as an idle network (Puppeteer's `networkidle0`).
const NETWORK_IDLE: Duration = Duration::from_millis(500);
/// The viewport of every session (and so of the screenshots).
pub(crate) const VIEWPORT: (u32, u32) = (1280, 800);

/// The size of the seed (see `backend::db::seed`).
pub(crate) const SEED_USERS: usize = 10;
pub(crate) const SEED_POSTS: usize = 100;
pub(crate) const SEED_COMMENTS: usize = 500;

/// Whether this is a CI run (`CI` set to anything but empty, `false` or
/// `0`, as xtask reads it): then a missing piece fails instead of skipping.
pub(crate) fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

fn requirement(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Some(v),
        _ if in_ci() => {
            panic!("CI=true but {name} is not set; run the tests through `cargo xtask test`")
        }
        _ => {
            eprintln!("NOTICE: {name} is not set; browser test skipped (run `cargo xtask test`)");
            None
        }
    }
}

fn init_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            backend::telemetry::init(backend::config::LogFormat::Pretty, "info");
        }
    });
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A chromedriver process; dropping it quits its browsers, then it.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // `/shutdown` quits every session's browser too (a bare kill would
        // leave a failed test's Chromium running).
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = stream.write_all(
                b"GET /shutdown HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            );
            let _ = stream.read_to_end(&mut Vec::new());
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    async fn start(path: &str) -> Self {
        let port = free_port();
        let child = Command::new(path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {path}: {e}"));
        let driver = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        driver
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// One test's world: the backend on its own SQLite file, serving the real
/// Trunk build, and a chromedriver for its browser sessions.
pub(crate) struct TestApp {
    /// `http://127.0.0.1:port`.
    pub(crate) url: String,
    /// For the API, as "another client" and to check what the server holds.
    pub(crate) http: reqwest::Client,
    settings: Settings,
    server: Option<actix_web::dev::ServerHandle>,
    chromium: String,
    sessions: std::sync::atomic::AtomicUsize,
    // Dropped in this order: browsers first (they live in `dir`).
    driver: Driver,
    dir: tempfile::TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            drop(server.stop(false));
        }
    }
}

impl TestApp {
    /// Starts everything, or `None` (with a notice) when the environment
    /// lacks the build or the browser. `tweak` adjusts the server settings.
    pub(crate) async fn start(tweak: impl FnOnce(&mut Settings)) -> Option<Self> {
        let (Some(dist), Some(chromedriver)) =
            (requirement("DIST_DIR"), requirement("CHROMEDRIVER"))
        else {
            return None;
        };
        init_logs();
        let dist = PathBuf::from(dist);
        assert!(
            std::fs::read_to_string(dist.join("index.html")).is_ok_and(|h| h.contains("wasm")),
            "{} holds no Trunk build; run `cargo xtask build`",
            dist.display()
        );
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut settings = Settings::defaults();
        settings.bind = "127.0.0.1:0".into();
        settings.database_url = dir.path().join("app.db").display().to_string();
        settings.dist_dir = dist;
        settings.workers = Some(2);
        settings.db_pool_size = Some(4);
        // Compressing the wasm at brotli 11 costs a core for seconds per app;
        // the suite tests behaviour, the first-load benchmark turns it on.
        settings.precompress_assets = false;
        // The scenarios write without signing in (anyone may, as with
        // `--require-sessions false`); accounts.rs tests the default.
        settings.require_sessions = false;
        tweak(&mut settings);
        let driver = Driver::start(&chromedriver).await;
        let mut app = Self {
            url: String::new(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .expect("an HTTP client"),
            settings,
            server: None,
            chromium: std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            sessions: Default::default(),
            driver,
            dir,
        };
        app.start_server().await;
        Some(app)
    }

    async fn start_server(&mut self) {
        let app = Application::build(self.settings.clone())
            .await
            .expect("the backend starts");
        self.url = app.url();
        // A restart comes back on the same port (same origin for the browser).
        self.settings.bind = format!("127.0.0.1:{}", app.port());
        self.server = Some(app.handle());
        tokio::spawn(app.run_until_stopped());
    }

    /// Another backend instance on the same database and settings, on its
    /// own port (several instances share a PostgreSQL database).
    pub(crate) async fn start_instance(&self) -> Instance {
        let mut settings = self.settings.clone();
        settings.bind = "127.0.0.1:0".into();
        let app = Application::build(settings)
            .await
            .expect("another instance starts");
        let url = app.url();
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        Instance {
            url,
            handle: Some(handle),
        }
    }

    /// This instance's `host:port` (for a proxy's upstream list).
    pub(crate) fn address(&self) -> String {
        self.url.trim_start_matches("http://").to_owned()
    }

    /// Stops the backend: from here on nothing answers on its port.
    pub(crate) async fn stop_server(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop(false).await;
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(self.url.trim_start_matches("http://")).is_ok() {
            assert!(Instant::now() < deadline, "the backend did not stop");
            tokio::time::sleep(POLL).await;
        }
    }

    /// The network cut for real, once the service worker controls the page:
    /// the page is put offline through DevTools and the backend stopped, so
    /// nothing can come from anywhere but the service worker's cache and
    /// localStorage. The badge says so before this returns.
    pub(crate) async fn cut_network(&mut self, browser: &Browser) {
        browser.wait_for_service_worker().await;
        browser.go_offline().await;
        self.stop_server().await;
        browser
            .wait_for("#network-badge[data-online='false']")
            .await;
    }

    /// Starts the backend again on the same port and database.
    pub(crate) async fn restart_server(&mut self) {
        assert!(self.server.is_none(), "the backend is running");
        self.start_server().await;
    }

    /// Takes SQLite's write lock (`BEGIN IMMEDIATE`) as another process
    /// would. While it is held the server's writes fail with a 503: its
    /// transactions read before they write, and SQLite refuses such an
    /// upgrade at once (`SQLITE_BUSY`, no busy timeout) while another
    /// connection holds the lock; the server tries again for ~200 ms
    /// (`write::BUSY_PAUSES_MS`), then gives up. Reads go on (WAL).
    pub(crate) fn hold_writes(&self) -> WriteLock {
        use diesel::{Connection, RunQueryDsl};
        let mut conn = diesel::SqliteConnection::establish(&self.settings.database_url)
            .expect("a second connection to the test database");
        diesel::sql_query("BEGIN IMMEDIATE")
            .execute(&mut conn)
            .expect("the write lock");
        WriteLock(conn)
    }

    /// Runs `sql` on the database directly, as another program would: the
    /// backend sees the change only when it next reads (no event).
    pub(crate) fn execute_sql(&self, sql: &str) {
        use diesel::{Connection, RunQueryDsl};
        let mut conn = diesel::SqliteConnection::establish(&self.settings.database_url)
            .expect("a second connection to the test database");
        diesel::sql_query(sql)
            .execute(&mut conn)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// A fresh browser session (own profile: own cache, storage and service
    /// worker).
    pub(crate) async fn browser(&self) -> Browser {
        self.browser_at(&self.url).await
    }

    /// A fresh browser session that opens pages at `base` (a [`Proxy`]).
    pub(crate) async fn browser_at(&self, base: &str) -> Browser {
        self.browser_with(base, "normal").await
    }

    /// A browser whose `goto` does not wait for the document's `load` (a
    /// streamed page's response is still open while the app runs).
    pub(crate) async fn browser_not_waiting_for_load(&self) -> Browser {
        self.browser_with(&self.url, "none").await
    }

    /// A browser with the page's scripts turned off (DevTools'
    /// `Emulation.setScriptExecutionDisabled`): what a visitor without
    /// JavaScript gets. Drive it with WebDriver's element commands only.
    pub(crate) async fn browser_without_javascript(&self) -> Browser {
        let browser = self.browser_with(&self.url, "normal").await;
        browser
            .cdp(
                "Emulation.setScriptExecutionDisabled",
                json!({ "value": true }),
            )
            .await;
        browser
    }

    /// A browser on the profile `name` of this app (made on first use, kept
    /// for the next session that names it: what a second launch of the
    /// browser on the same computer finds).
    pub(crate) async fn browser_on_profile(&self, name: &str) -> Browser {
        let profile = self.dir.path().join(format!("profile-{name}"));
        self.browser_in(&self.url, "normal", &profile).await
    }

    /// A browser on `base` with WebDriver's `pageLoadStrategy`.
    async fn browser_with(&self, base: &str, page_load_strategy: &str) -> Browser {
        let n = self
            .sessions
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let profile = self.dir.path().join(format!("profile-{n}"));
        self.browser_in(base, page_load_strategy, &profile).await
    }

    async fn browser_in(&self, base: &str, page_load_strategy: &str, profile: &Path) -> Browser {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": self.chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--hide-scrollbars",
                    "--disable-renderer-backgrounding",
                    "--disable-background-timer-throttling",
                    "--disable-backgrounding-occluded-windows",
                    format!("--window-size={},{}", VIEWPORT.0, VIEWPORT.1),
                    format!("--user-data-dir={}", profile.display()),
                ]
            }),
        );
        caps.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
        caps.insert("pageLoadStrategy".into(), json!(page_load_strategy));
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&self.driver.url())
            .await
            .expect("a browser session");
        let browser = Browser {
            client,
            base: base.to_owned(),
            profile: profile.to_owned(),
        };
        browser.on_every_page(TRACK_REQUESTS_JS).await;
        // Exactly the viewport, whatever the window decorations.
        browser
            .cdp(
                "Emulation.setDeviceMetricsOverride",
                json!({ "width": VIEWPORT.0, "height": VIEWPORT.1, "deviceScaleFactor": 1, "mobile": false }),
            )
            .await;
        browser
    }

    /// Renames a user as another client would (straight to the instance at
    /// `base`, not through the browser's network).
    pub(crate) async fn rename_at(&self, base: &str, id: i64, name: &str) {
        let response = self
            .http
            .patch(format!("{base}/api/users/{id}"))
            .json(&json!({ "name": name }))
            .send()
            .await
            .expect("PATCH /api/users");
        assert_eq!(response.status(), 200, "rename");
    }

    /// [`TestApp::rename_at`] this backend.
    pub(crate) async fn rename(&self, id: i64, name: &str) {
        self.rename_at(&self.url, id, name).await;
    }

    /// `GET path` on the API, as JSON.
    pub(crate) async fn api(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.json().await.expect("JSON")
    }

    /// The status of `GET path`.
    pub(crate) async fn status(&self, path: &str) -> u16 {
        self.http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
            .status()
            .as_u16()
    }

    /// Every post the server holds.
    pub(crate) async fn all_posts(&self) -> Vec<Value> {
        self.all_items("/api/posts").await
    }

    /// Every item of the paged list at `path` (the posts, a post's
    /// comments), newest first.
    pub(crate) async fn all_items(&self, path: &str) -> Vec<Value> {
        let mut items = vec![];
        let mut cursor: Option<String> = None;
        loop {
            let page = match &cursor {
                Some(c) => self.api(&format!("{path}?limit=100&cursor={c}")).await,
                None => self.api(&format!("{path}?limit=100")).await,
            };
            items.extend(page["items"].as_array().cloned().expect("items"));
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return items,
            }
        }
    }

    /// How many posts on the server carry `title`.
    pub(crate) async fn posts_titled(&self, title: &str) -> usize {
        self.all_posts()
            .await
            .iter()
            .filter(|p| p["title"] == title)
            .count()
    }
}

/// A backend instance started by [`TestApp::start_instance`]; stopped on drop.
pub(crate) struct Instance {
    /// `http://127.0.0.1:port`.
    pub(crate) url: String,
    handle: Option<actix_web::dev::ServerHandle>,
}

impl Instance {
    /// `host:port`.
    pub(crate) fn address(&self) -> String {
        self.url.trim_start_matches("http://").to_owned()
    }

    /// Stops it: its connections (event streams too) are closed.
    pub(crate) async fn stop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.stop(false).await;
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            drop(handle.stop(false));
        }
    }
}

/// The name of user `id` in the users list.
pub(crate) fn user_in_list(id: i64) -> String {
    format!("#user-list li.user-item[data-user-id='{id}'] .user-name")
}

/// A TCP proxy in front of the backend, for the network between browser and
/// server: it can cut every open connection and refuse new ones for a while
/// (a dropped network, mid-stream), or answer WebSocket upgrades with 502 as
/// a proxy that does not pass them would.
pub(crate) struct Proxy {
    /// `http://127.0.0.1:port` of the proxy.
    pub(crate) url: String,
    /// Bumped to cut every connection open at that moment.
    cut: tokio::sync::watch::Sender<u64>,
    down: std::sync::Arc<std::sync::atomic::AtomicBool>,
    refuse_websocket: std::sync::Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    /// Forwards to `upstream` (`http://host:port`).
    pub(crate) async fn start(upstream: &str, refuse_websocket: bool) -> Self {
        use std::sync::atomic::Ordering;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port for the proxy");
        let url = format!("http://{}", listener.local_addr().expect("its address"));
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let (cut, cuts) = tokio::sync::watch::channel(0u64);
        let down = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let is_down = std::sync::Arc::clone(&down);
        let refuse_websocket =
            std::sync::Arc::new(std::sync::atomic::AtomicBool::new(refuse_websocket));
        let refusing = std::sync::Arc::clone(&refuse_websocket);
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if is_down.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is reset
                }
                let upstream = upstream.clone();
                let refuse_websocket = refusing.load(Ordering::SeqCst);
                let mut cuts = cuts.clone();
                cuts.mark_unchanged();
                tokio::spawn(async move {
                    let mut first = vec![0u8; 16 * 1024];
                    let Ok(n) = client.read(&mut first).await else {
                        return;
                    };
                    let head = String::from_utf8_lossy(&first[..n]).to_ascii_lowercase();
                    if refuse_websocket && head.contains("upgrade: websocket") {
                        let _ = client
                            .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                            .await;
                        return;
                    }
                    let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else {
                        return;
                    };
                    if server.write_all(&first[..n]).await.is_err() {
                        return;
                    }
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cuts.changed() => {}
                    }
                });
            }
        });
        Self {
            url,
            cut,
            down,
            refuse_websocket,
            task,
        }
    }

    /// Cuts every open connection and refuses new ones until [`Proxy::up`].
    pub(crate) fn down(&self) {
        self.down.store(true, std::sync::atomic::Ordering::SeqCst);
        self.cut.send_modify(|n| *n += 1);
    }

    /// Passes WebSocket upgrades on from now on.
    pub(crate) fn allow_websocket(&self) {
        self.refuse_websocket
            .store(false, std::sync::atomic::Ordering::SeqCst);
    }

    /// Accepts connections again.
    pub(crate) fn up(&self) {
        self.down.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Debian's nginx running one of the configs in `deploy/nginx/` (as the
/// README shows them), with only ports and paths replaced. Stopped on drop.
pub(crate) struct Nginx {
    /// `http://127.0.0.1:port`.
    pub(crate) url: String,
    port: u16,
    config: PathBuf,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Nginx {
    /// Starts `deploy/nginx/{name}` with each `(from, to)` replaced (each
    /// must occur); `None` with a notice outside CI when `NGINX_BIN` is not
    /// set. (Not `NGINX`: nginx reads that variable for inherited sockets.)
    pub(crate) fn start(name: &str, replace: &[(&str, String)]) -> Option<Self> {
        Self::start_on(free_port(), name, replace)
    }

    /// [`Nginx::start`] listening on `port` (when the backend must know the
    /// origin before nginx starts).
    pub(crate) fn start_on(port: u16, name: &str, replace: &[(&str, String)]) -> Option<Self> {
        let Ok(template) = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../deploy/nginx")
                .join(name),
        ) else {
            panic!("deploy/nginx/{name} is missing");
        };
        requirement("NGINX_BIN")?;
        let mut config = template;
        for (from, to) in replace
            .iter()
            .map(|(f, t)| (*f, t.clone()))
            .chain([("listen 8080;", format!("listen 127.0.0.1:{port};"))])
            .chain([("listen 8081;", format!("listen 127.0.0.1:{port};"))])
        {
            if from.starts_with("listen ") && !config.contains(from) {
                continue;
            }
            assert!(config.contains(from), "deploy/nginx/{name} has no {from:?}");
            config = config.replace(from, &to);
        }
        let dir = tempfile::tempdir().expect("a dir for nginx");
        let path = dir.path().join("nginx.conf");
        std::fs::write(&path, config).expect("writing nginx.conf");
        let mut nginx = Self {
            url: format!("http://127.0.0.1:{port}"),
            port,
            config: path,
            dir,
            child: None,
        };
        nginx.run();
        Some(nginx)
    }

    fn run(&mut self) {
        let nginx = std::env::var("NGINX_BIN").expect("NGINX_BIN");
        let dir = self.dir.path();
        let child = Command::new(&nginx)
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&self.config)
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-g")
            .arg(format!(
                "daemon off; master_process off; pid {};",
                dir.join("nginx.pid").display()
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {nginx}: {e}"));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
                panic!("nginx exited ({status}):\n{log}");
            }
            assert!(Instant::now() < deadline, "nginx did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops nginx: every connection through it is cut, new ones refused.
    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port with the same config.
    pub(crate) fn restart(&mut self) {
        self.stop();
        self.run();
    }
}

/// SQLite's write lock, held until dropped (see [`TestApp::hold_writes`]).
pub(crate) struct WriteLock(diesel::SqliteConnection);

impl Drop for WriteLock {
    fn drop(&mut self) {
        use diesel::RunQueryDsl;
        diesel::sql_query("ROLLBACK")
            .execute(&mut self.0)
            .expect("releasing the write lock");
    }
}

/// A command on the current session that fantoccini does not know:
/// `POST /session/{id}/{path}` with a JSON body.
#[derive(Debug)]
struct SessionCommand {
    path: &'static str,
    body: Value,
}

impl WebDriverCompatibleCommand for SessionCommand {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session_id.expect("a session");
        base_url.join(&format!("session/{session}/{}", self.path))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.to_string()))
    }
}

/// A browser session on the app.
pub(crate) struct Browser {
    pub(crate) client: fantoccini::Client,
    base: String,
    /// Its `--user-data-dir`.
    profile: PathBuf,
}

/// The query string of the app's request for a post's first page of
/// comments, as the browser sends it (gloo-net 0.5 adds a `&` to a URL that
/// already has a query).
pub(crate) const COMMENTS_QUERY: &str = "limit=20&";

/// Installed in every document before any of its scripts run: records each
/// request the page starts (`fetch`, `EventSource`, `WebSocket`) at the
/// moment it starts, and how many `fetch`es are still open, so a test can
/// count requests from the very start of the page and wait for the network
/// to be idle. (Resource Timing only lists responses that have ended.)
const TRACK_REQUESTS_JS: &str = r#"(() => {
  if (window.__requests) return;
  const requests = [];
  let open = 0;
  let changed = performance.now();
  window.__requests = requests;
  window.__network = () => ({ open, quietFor: performance.now() - changed });
  const record = (kind, url, method) => {
    const u = new URL(url, location.href);
    const entry = { kind, method, path: u.pathname + u.search };
    requests.push(entry);
    changed = performance.now();
    return entry;
  };
  const fetch = window.fetch;
  window.fetch = function (input, init) {
    const isRequest = input instanceof Request;
    const url = isRequest ? input.url : String(input);
    const method = ((init && init.method) || (isRequest ? input.method : 'GET')).toUpperCase();
    const entry = record('fetch', url, method);
    open += 1;
    const done = (outcome) => { entry.outcome = outcome; open -= 1; changed = performance.now(); };
    return fetch.apply(this, arguments).then(
      (r) => { done(r.status); return r; },
      (e) => { done(String(e && e.name)); throw e; });
  };
  const EventSource = window.EventSource;
  window.EventSource = class extends EventSource {
    constructor(url, options) { super(url, options); record('eventsource', url, 'GET'); }
  };
  const WebSocket = window.WebSocket;
  window.WebSocket = class extends WebSocket {
    constructor(url, protocols) { super(url, protocols); record('websocket', url, 'GET'); }
  };
})();"#;

/// The page's `/api/` data requests since it started, in order of start
/// (`fetch`es only: the live-update streams are not data requests).
const API_REQUESTS_JS: &str = "return window.__requests ? window.__requests
    .filter(r => r.kind === 'fetch' && r.path.startsWith('/api/'))
    .map(r => r.path) : null";

impl Browser {
    /// Opens `path` (a full page load) and waits until the app has taken
    /// the page over: the server's HTML shows before the wasm runs, and a
    /// click on it before then is a click on plain HTML.
    pub(crate) async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("opening {path}: {e}"));
        self.wait_for_app().await;
    }

    /// Opens `path` without waiting for the app (a browser without
    /// JavaScript, or one whose app is held back).
    pub(crate) async fn open(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("opening {path}: {e}"));
    }

    /// Types `text` into the first match of `css` as a person does (key
    /// by key, at the caret), with WebDriver's own command.
    pub(crate) async fn type_into(&self, css: &str, text: &str) {
        let element = self.wait_for(css).await;
        element
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("typing into {css}: {e}"));
    }

    /// Empties the first match of `css` (WebDriver's Element Clear).
    pub(crate) async fn clear(&self, css: &str) {
        let element = self.wait_for(css).await;
        element
            .clear()
            .await
            .unwrap_or_else(|e| panic!("clearing {css}: {e}"));
    }

    /// The `value` of the first match of `css`, read with WebDriver's own
    /// command (no page script).
    pub(crate) async fn value_of(&self, css: &str) -> String {
        let element = self.wait_for(css).await;
        element
            .prop("value")
            .await
            .unwrap_or_else(|e| panic!("reading {css}: {e}"))
            .unwrap_or_default()
    }

    /// The visible text of the first match of `css`, read with WebDriver's
    /// own command (no page script).
    pub(crate) async fn element_text(&self, css: &str) -> String {
        let element = self.wait_for(css).await;
        element
            .text()
            .await
            .unwrap_or_else(|e| panic!("reading {css}: {e}"))
    }

    /// Waits until the first match of `css` shows text containing
    /// `expected`, asking WebDriver (no page script); a page being replaced
    /// meanwhile (a form's post and redirect to the same path) is waited out.
    pub(crate) async fn wait_for_element_text(&self, css: &str, expected: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await
                && let Ok(text) = element.text().await
                && text.contains(expected)
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {css} to show {expected:?}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the URL's path is `path`, asking WebDriver (no page
    /// script).
    pub(crate) async fn wait_for_url_path(&self, path: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let url = self.client.current_url().await.expect("the current URL");
            if url.path() == path {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {path}, at {url}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Reloads the page and waits for the app, as [`Browser::goto`] does.
    pub(crate) async fn reload(&self) {
        self.client.refresh().await.expect("the reload");
        self.wait_for_app().await;
    }

    /// Waits until the app is running in the page (`<html data-app="ready">`:
    /// hydrated or rendered, and wired).
    pub(crate) async fn wait_for_app(&self) {
        self.wait_until(
            "document.documentElement.dataset.app === 'ready'",
            PATIENCE,
            "the app to start",
        )
        .await;
    }

    /// The current path (and query).
    pub(crate) async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("the current URL");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Runs `script` (a function body; `arguments` holds `args`).
    pub(crate) async fn js_with(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("running script {script:?}: {e}"))
    }

    /// Runs `script` (a function body).
    pub(crate) async fn js(&self, script: &str) -> Value {
        self.js_with(script, vec![]).await
    }

    /// Opens post `id` from the list on `/posts` (a click, not a page load)
    /// and waits for its detail.
    pub(crate) async fn open_listed_post(&self, id: impl std::fmt::Display) {
        self.click(&format!("#post-list li.post-item[data-post-id='{id}'] a"))
            .await;
        self.wait_for(&format!("#post-detail[data-post-id='{id}']"))
            .await;
    }

    /// Waits until the service worker controls the page (the app shell is
    /// cached: the app opens without a network from here on).
    pub(crate) async fn wait_for_service_worker(&self) {
        self.wait_until(
            "navigator.serviceWorker.controller !== null",
            PATIENCE,
            "the service worker to control the page",
        )
        .await;
    }

    /// Waits until the live updates are on `transport` (`sse`,
    /// `websocket`, or `connecting` while neither is open).
    pub(crate) async fn wait_for_live(&self, transport: &str) {
        self.wait_until(
            &format!("document.documentElement.dataset.live === '{transport}'"),
            PATIENCE,
            &format!("live updates over {transport}"),
        )
        .await;
    }

    /// Waits until each `(css, text)` shows, then for an idle network, and
    /// checks that the page made no data request beyond `requests`: what
    /// changed came by the live stream (a resync would have refetched).
    pub(crate) async fn see_without_refetch(
        &self,
        shown: &[(String, String)],
        requests: &[String],
    ) {
        for (css, text) in shown {
            self.wait_for_text(css, text, PATIENCE).await;
        }
        self.assert_not_reloaded().await;
        self.settle().await;
        assert_eq!(
            self.api_requests().await,
            requests,
            "what changed came by the stream, not a refetch"
        );
    }

    /// Marks the current document, for [`Browser::assert_not_reloaded`].
    pub(crate) async fn mark_document(&self) {
        self.js("window.__sameDocument = true").await;
    }

    /// The document marked by [`Browser::mark_document`] is still the one
    /// shown (what changed came without a reload).
    pub(crate) async fn assert_not_reloaded(&self) {
        assert_eq!(
            self.js("return window.__sameDocument === true").await,
            true,
            "the page reloaded"
        );
    }

    /// The browser console's entries since the last call.
    pub(crate) async fn console(&self) -> Vec<String> {
        let entries = self
            .client
            .issue_cmd(SessionCommand {
                path: "se/log",
                body: json!({ "type": "browser" }),
            })
            .await
            .expect("the browser log");
        entries
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .filter_map(|e| e["message"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// What the page shows and logged, for failure messages.
    pub(crate) async fn diagnose(&self) -> String {
        let url = self
            .client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default();
        let text = self
            .client
            .execute(
                "return document.body ? document.body.innerText.slice(0, 1500) : ''",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let logs = self
            .client
            .issue_cmd(SessionCommand {
                path: "se/log",
                body: json!({ "type": "browser" }),
            })
            .await
            .ok()
            .and_then(|v| {
                v.as_array().map(|entries| {
                    entries
                        .iter()
                        .filter_map(|e| e["message"].as_str())
                        .collect::<Vec<_>>()
                        .join("\n  ")
                })
            })
            .unwrap_or_default();
        format!("\n--- at {url}\n--- page text:\n{text}\n--- console:\n  {logs}\n")
    }

    /// Polls `condition` (a JS expression) until it is truthy.
    pub(crate) async fn wait_until(&self, condition: &str, timeout: Duration, what: &str) {
        let script = format!("return !!({condition})");
        let deadline = Instant::now() + timeout;
        loop {
            if self.js(&script).await == Value::Bool(true) {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "timed out after {timeout:?} waiting for {what} ({condition}){}",
                    self.diagnose().await
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits for an element matching `css`.
    pub(crate) async fn wait_for(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(PATIENCE)
            .every(POLL)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(e) => panic!("waiting for {css}: {e}{}", self.diagnose().await),
        }
    }

    /// Waits until nothing matches `css`.
    pub(crate) async fn wait_gone(&self, css: &str) {
        let condition = format!("!document.querySelector({})", json!(css));
        self.wait_until(&condition, PATIENCE, &format!("{css} to go away"))
            .await;
    }

    /// Waits until the app is on `path` (client-side or by a page load).
    pub(crate) async fn wait_for_path(&self, path: &str) {
        let condition = format!("location.pathname === {}", json!(path));
        self.wait_until(&condition, PATIENCE, &format!("the URL path {path}"))
            .await;
    }

    /// How many elements match `css` now.
    pub(crate) async fn count(&self, css: &str) -> usize {
        let n = self
            .js_with(
                "return document.querySelectorAll(arguments[0]).length",
                vec![json!(css)],
            )
            .await;
        n.as_u64().expect("a count") as usize
    }

    /// Whether something matches `css` now.
    pub(crate) async fn exists(&self, css: &str) -> bool {
        self.count(css).await > 0
    }

    /// The trimmed text of the first match of `css` (waiting for it).
    pub(crate) async fn text(&self, css: &str) -> String {
        self.wait_for(css).await;
        let text = self
            .js_with(
                "return document.querySelector(arguments[0]).textContent",
                vec![json!(css)],
            )
            .await;
        text.as_str().unwrap_or_default().trim().to_owned()
    }

    /// Waits until the first match of `css` has exactly `expected` as text.
    pub(crate) async fn wait_for_text(&self, css: &str, expected: &str, timeout: Duration) {
        let condition = format!(
            "(document.querySelector({}) || {{}}).textContent?.trim() === {}",
            json!(css),
            json!(expected)
        );
        self.wait_until(&condition, timeout, &format!("{css} to read {expected:?}"))
            .await;
    }

    /// Clicks the first match of `css` (waiting for it).
    pub(crate) async fn click(&self, css: &str) {
        let element = self.wait_for(css).await;
        if let Err(e) = element.click().await {
            panic!("clicking {css}: {e}{}", self.diagnose().await);
        }
    }

    /// Moves the mouse onto the first match of `css` (and leaves it there).
    pub(crate) async fn hover(&self, css: &str) {
        let element = self.wait_for(css).await;
        let mouse = MouseActions::new("mouse".into()).then(PointerAction::MoveToElement {
            element,
            duration: Some(Duration::ZERO),
            x: 0.0,
            y: 0.0,
        });
        self.client
            .perform_actions(mouse)
            .await
            .unwrap_or_else(|e| panic!("hovering {css}: {e}"));
    }

    /// Sets a text field's (or select's) value the way typing does: the
    /// value, then an `input` event (Yew's handlers read it from there).
    /// Bypasses `maxlength`, which only limits typing.
    pub(crate) async fn fill(&self, css: &str, value: &str) {
        self.wait_for(css).await;
        self.js_with(
            "const el = document.querySelector(arguments[0]);
             el.focus();
             el.value = arguments[1];
             el.dispatchEvent(new InputEvent('input', { bubbles: true }));",
            vec![json!(css), json!(value)],
        )
        .await;
    }

    /// `/api/` requests the page started so far (see [`API_REQUESTS_JS`]).
    pub(crate) async fn api_requests(&self) -> Vec<String> {
        let list = self.js(API_REQUESTS_JS).await;
        list.as_array()
            .expect("requests are tracked in this tab (open tabs with Browser::open_new_tab)")
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    }

    /// Waits for `css`; on a timeout the panic lists every request the page
    /// made and how each ended (for a wait that hangs on data).
    pub(crate) async fn wait_for_explaining(&self, css: &str) {
        let deadline = Instant::now() + PATIENCE;
        while !self.exists(css).await {
            if Instant::now() > deadline {
                let requests = self.js("return JSON.stringify(window.__requests)").await;
                // The query devtools (in the test build): what the cache
                // holds, to tell a result never stored from one not shown.
                let queries = self
                    .js(
                        "const t = document.querySelector('button.querent-devtools-toggle');
                         if (t) t.click();
                         return new Promise(r => setTimeout(() => r([...document
                           .querySelectorAll('tr.querent-devtools-query')]
                           .map(row => row.dataset.key + ' ' + row.textContent.trim())), 300));",
                    )
                    .await;
                panic!(
                    "waiting for {css}; the page's requests: {requests}; its queries: {queries}{}",
                    self.diagnose().await
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until no query is fetching (the progress bar is idle) and the
    /// network is idle: no request open and none started or ended for
    /// [`NETWORK_IDLE`] (Puppeteer's `networkidle0`), so requests that would
    /// follow a render (effects, the 50 ms hover intent) have started.
    pub(crate) async fn settle(&self) {
        self.wait_until(
            "document.querySelector('.progress-bar')?.dataset.active === 'false'",
            PATIENCE,
            "the progress bar to go idle",
        )
        .await;
        let idle = format!(
            "window.__network && window.__network().open === 0 && window.__network().quietFor >= {}",
            NETWORK_IDLE.as_millis()
        );
        self.wait_until(&idle, PATIENCE, "the network to be idle")
            .await;
    }

    /// A DevTools command through chromedriver
    /// (`POST /session/{id}/goog/cdp/execute`).
    pub(crate) async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.client
            .issue_cmd(SessionCommand {
                path: "goog/cdp/execute",
                body: json!({ "cmd": cmd, "params": params }),
            })
            .await
            .unwrap_or_else(|e| panic!("CDP {cmd}: {e}"))
    }

    /// Kills the whole browser with SIGKILL (every process of its profile),
    /// as a power cut or the system's OOM killer would: nothing is flushed,
    /// no handler runs. The session is gone with it.
    pub(crate) async fn kill_browser(self) {
        let dir = format!("user-data-dir={}", self.profile.display());
        let status = Command::new("pkill")
            .args(["-KILL", "-f", &dir])
            .status()
            .expect("pkill");
        assert!(status.success(), "no browser process to kill");
        // Gone for good before the next launch reuses the profile.
        while Command::new("pgrep")
            .args(["-f", &dir])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Crashes the current tab's renderer (DevTools `Page.crash`), as a tab
    /// killed by the system would: no `pagehide`, no unload handler runs.
    pub(crate) async fn crash_tab(&self) {
        // The command never answers normally: the tab it ran in is gone.
        let _ = self
            .client
            .issue_cmd(SessionCommand {
                path: "goog/cdp/execute",
                body: json!({ "cmd": "Page.crash", "params": {} }),
            })
            .await;
    }

    /// Opens a new tab in the same browser (same profile) and switches to it;
    /// request tracking is installed there too. Returns its handle.
    pub(crate) async fn open_new_tab(&self) -> fantoccini::wd::WindowHandle {
        let tab = self
            .client
            .new_window(true)
            .await
            .expect("a new tab")
            .handle;
        self.client
            .switch_to_window(tab.clone())
            .await
            .expect("switching to the new tab");
        self.on_every_page(TRACK_REQUESTS_JS).await;
        tab
    }

    /// Runs `source` in every document this tab opens from now on, before
    /// any of the page's own scripts.
    pub(crate) async fn on_every_page(&self, source: &str) {
        self.cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": source }),
        )
        .await;
    }

    /// The benchmarks' slow network (DevTools' emulation: 150 ms round
    /// trip, 1.6 Mbit/s down, 750 kbit/s up).
    pub(crate) async fn emulate_slow_network(&self) {
        self.cdp("Network.enable", json!({})).await;
        self.cdp(
            "Network.emulateNetworkConditions",
            json!({ "offline": false, "latency": 150,
                    "downloadThroughput": 200_000, "uploadThroughput": 93_750 }),
        )
        .await;
    }

    /// Cuts the network (`navigator.onLine` becomes false, `offline` fires).
    pub(crate) async fn go_offline(&self) {
        self.cdp(
            "Network.emulateNetworkConditions",
            json!({ "offline": true, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 }),
        )
        .await;
    }

    /// Holds the page's requests whose URL matches `pattern` (CDP `Fetch`
    /// interception, wildcards `*` and `?`) before they are sent: the server
    /// neither sees nor answers them until [`Browser::release_requests`].
    pub(crate) async fn hold_requests(&self, pattern: &str) {
        self.cdp(
            "Fetch.enable",
            json!({ "patterns": [{ "urlPattern": pattern, "requestStage": "Request" }] }),
        )
        .await;
    }

    /// Sends the held requests on (disabling interception continues them).
    pub(crate) async fn release_requests(&self) {
        self.cdp("Fetch.disable", json!({})).await;
    }

    /// Restores the network through chromedriver's own endpoint
    /// (`POST /session/{id}/chromium/network_conditions`; `online` fires).
    pub(crate) async fn go_online(&self) {
        self.client
            .issue_cmd(SessionCommand {
                path: "chromium/network_conditions",
                body: json!({ "network_conditions": {
                    "offline": false, "latency": 0,
                    "download_throughput": -1, "upload_throughput": -1,
                } }),
            })
            .await
            .expect("restoring the network");
    }

    /// Makes requests whose URL matches one of `patterns` fail (network
    /// error); an empty list unblocks.
    pub(crate) async fn block_urls(&self, patterns: &[&str]) {
        self.cdp("Network.enable", json!({})).await;
        self.cdp("Network.setBlockedURLs", json!({ "urls": patterns }))
            .await;
    }

    /// Writes a PNG of the viewport to `docs/screenshots/{name}` (committed:
    /// the README shows them, so every run refreshes them from the real app).
    pub(crate) async fn screenshot(&self, name: &str) {
        // No caret or hover state in the picture.
        self.js("document.activeElement?.blur()").await;
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
        std::fs::create_dir_all(&dir).expect("docs/screenshots");
        let width = u32::from_be_bytes(png[16..20].try_into().expect("a PNG header"));
        let height = u32::from_be_bytes(png[20..24].try_into().expect("a PNG header"));
        assert_eq!((width, height), VIEWPORT, "screenshot size");
        std::fs::write(dir.join(name), png).expect("writing the screenshot");
    }

    /// Ends the session (the browser quits).
    pub(crate) async fn close(self) {
        let _ = self.client.close().await;
    }
}
