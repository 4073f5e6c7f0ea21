//! `spawn_app`: every test gets its own database (a fresh SQLite file, or a
//! fresh PostgreSQL database) and its own server on a random port.

use backend::config::Settings;
use backend::startup::Application;
use diesel::{Connection, PgConnection, RunQueryDsl};
use reqwest::{Client, Response};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

/// A Trunk-like index: an inline module loader, a description to replace.
pub(crate) const TEST_INDEX: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"description\" content=\"template\"><title>template</title>\
<script type=\"module\">import init from '/app-0123456789abcdef.js';init();</script>\
</head><body></body></html>";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engine {
    Sqlite,
    Postgres,
}

pub(crate) struct TestApp {
    pub(crate) address: String,
    /// The database it runs on (another instance may share it).
    pub(crate) database_url: String,
    pub(crate) client: Client,
    handle: actix_web::dev::ServerHandle,
    _dir: tempfile::TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop accepting and close keep-alive connections; don't wait.
        let handle = self.handle.clone();
        drop(handle.stop(false));
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

/// Server for PostgreSQL tests: `TEST_POSTGRES_URL`, else the local default,
/// with a connect timeout so an unreachable server fails fast.
fn postgres_admin_url() -> String {
    let url = std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    if url.contains("connect_timeout=") {
        url
    } else if url.contains('?') {
        format!("{url}&connect_timeout=5")
    } else {
        format!("{url}?connect_timeout=5")
    }
}

/// Whether this is a CI run (`CI` set to anything but empty, `false` or `0`).
pub(crate) fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Test databases are named `apitest_<unix seconds>_<uuid>`; those older
/// than this were left by runs that died, and are dropped. Younger ones may
/// belong to a run going on right now on a shared server: left alone.
const STALE_TEST_DATABASE_SECS: u64 = 6 * 3600;

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Says, where `cargo test` does not capture it, that a PostgreSQL test is
/// skipped (libtest can only print `ok` for it).
fn announce_skip(reason: &str) {
    use std::io::Write;
    let test = std::thread::current()
        .name()
        .unwrap_or("a PostgreSQL test")
        .to_owned();
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {reason}");
}

/// Creates a fresh PostgreSQL database, or `None` (the test is skipped, and
/// says so) when no server is reachable. In CI an unreachable server fails.
pub(crate) fn fresh_postgres_database() -> Option<String> {
    static REACHABLE: OnceLock<Result<(), String>> = OnceLock::new();
    let admin = postgres_admin_url();
    let reachable = REACHABLE.get_or_init(|| match PgConnection::establish(&admin) {
        Ok(mut conn) => {
            // Databases left by earlier runs that died.
            let old: Vec<String> = diesel::sql_query(
                "SELECT datname AS name FROM pg_database WHERE datname LIKE 'apitest\\_%'",
            )
            .load::<DbName>(&mut conn)
            .map(|v| v.into_iter().map(|d| d.name).collect())
            .unwrap_or_default();
            let cutoff = unix_now().saturating_sub(STALE_TEST_DATABASE_SECS);
            for name in old {
                let created = name
                    .strip_prefix("apitest_")
                    .and_then(|rest| rest.split('_').next())
                    .and_then(|secs| secs.parse::<u64>().ok());
                if created.is_none_or(|secs| secs < cutoff) {
                    let _ = diesel::sql_query(format!(
                        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                    ))
                    .execute(&mut conn);
                }
            }
            Ok(())
        }
        Err(e) => Err(e.to_string()),
    });
    if let Err(e) = reachable {
        assert!(
            !in_ci(),
            "CI is set but PostgreSQL at {admin} is unreachable: {e}"
        );
        announce_skip(&format!("PostgreSQL at {admin} is unreachable ({e})"));
        return None;
    }
    let name = format!("apitest_{}_{}", unix_now(), uuid::Uuid::new_v4().simple());
    let mut conn = PgConnection::establish(&admin).expect("PostgreSQL was reachable a moment ago");
    diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
        .execute(&mut conn)
        .expect("creating a test database");
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    Some(format!("{base}/{name}"))
}

#[derive(diesel::QueryableByName)]
struct DbName {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

/// Settings for a test app on `database_url`, serving [`TEST_INDEX`].
pub(crate) fn test_settings(database_url: &str, dist: &std::path::Path) -> Settings {
    let mut settings = Settings::defaults();
    settings.bind = "127.0.0.1:0".into();
    settings.database_url = database_url.into();
    settings.dist_dir = dist.to_path_buf();
    settings.deferred_delay_ms = 0;
    settings.db_pool_size = Some(8);
    settings.workers = Some(2);
    // The suite writes fast from one address; limits.rs tests the rate.
    settings.writes_per_minute = 0;
    // Its scenarios write without signing in; session.rs tests the
    // default (sessions required) and what it refuses.
    settings.require_sessions = false;
    settings
}

/// A fresh database for `engine`: a SQLite file in `dir`, or a new
/// PostgreSQL database (`None` when no server is reachable).
pub(crate) fn fresh_database(engine: Engine, dir: &std::path::Path) -> Option<String> {
    match engine {
        Engine::Sqlite => Some(dir.join("app.db").display().to_string()),
        Engine::Postgres => fresh_postgres_database(),
    }
}

/// Starts an app; `None` only for PostgreSQL when no server is reachable.
pub(crate) async fn spawn_app(engine: Engine) -> Option<TestApp> {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = fresh_database(engine, dir.path())?;
    Some(spawn_app_on(&database_url, dir, |_| {}).await)
}

/// Starts an app on an existing database (several instances may share one).
pub(crate) async fn spawn_app_on(
    database_url: &str,
    dir: tempfile::TempDir,
    tweak: impl FnOnce(&mut Settings),
) -> TestApp {
    init_logs();
    let dist: PathBuf = dir.path().join("dist");
    std::fs::create_dir_all(&dist).expect("dist dir");
    std::fs::write(dist.join("index.html"), TEST_INDEX).expect("index.html");
    std::fs::write(
        dist.join("app-0123456789abcdef.js"),
        "export default function init(){}",
    )
    .expect("asset");
    let mut settings = test_settings(database_url, &dist);
    tweak(&mut settings);
    let app = Application::build(settings).await.expect("app starts");
    let address = app.url();
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        database_url: database_url.to_owned(),
        client: Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client"),
        handle,
        _dir: dir,
    }
}

impl TestApp {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub(crate) async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub(crate) async fn get_json(&self, path: &str) -> Value {
        let res = self.get(path).await;
        assert_eq!(res.status(), 200, "GET {path}");
        res.json().await.expect("JSON body")
    }

    pub(crate) async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    pub(crate) async fn patch_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .patch(self.url(path))
            .json(body)
            .send()
            .await
            .expect("PATCH")
    }

    pub(crate) async fn delete(&self, path: &str) -> Response {
        self.client
            .delete(self.url(path))
            .send()
            .await
            .expect("DELETE")
    }

    /// A request with an `Idempotency-Key` and, if given, a JSON body;
    /// `Err` when no answer came (the server is down).
    pub(crate) async fn send_keyed(
        &self,
        method: reqwest::Method,
        path: &str,
        key: &str,
        body: Option<&Value>,
    ) -> reqwest::Result<Response> {
        let mut req = self
            .client
            .request(method, self.url(path))
            .header("Idempotency-Key", key);
        if let Some(body) = body {
            req = req.json(body);
        }
        req.send().await
    }

    /// Sends raw bytes as a JSON body.
    pub(crate) async fn send_raw(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
    ) -> Response {
        self.client
            .request(method, self.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request")
    }

    pub(crate) async fn create_post(&self, user_id: i64, title: &str, body: &str) -> Value {
        let res = self
            .post_json(
                "/api/posts",
                &serde_json::json!({"user_id": user_id, "title": title, "body": body}),
            )
            .await;
        assert_eq!(res.status(), 201);
        res.json().await.expect("post JSON")
    }
}

/// Every item of the paged list at `path` (`/api/posts`, a post's
/// comments), newest first, page after page.
pub(crate) async fn all_items(http: &Client, base: &str, path: &str) -> Vec<Value> {
    let mut out = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{base}{path}?limit=100&cursor={c}"),
            None => format!("{base}{path}?limit=100"),
        };
        let res = http.get(url).send().await.expect("GET a page");
        assert_eq!(res.status(), 200, "GET {path}");
        let page: Value = res.json().await.expect("a page");
        out.extend(page["items"].as_array().cloned().expect("items"));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

/// Asserts an error answer: status, code, and (for 422) the fields named.
pub(crate) async fn assert_error(res: Response, status: u16, code: &str, fields: &[&str]) {
    assert_eq!(res.status(), status, "status");
    assert_eq!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "error bodies are JSON"
    );
    let body: Value = res.json().await.expect("error JSON");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    let mut got: Vec<&str> = body["error"]["fields"]
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    got.sort_unstable();
    let mut want = fields.to_vec();
    want.sort_unstable();
    assert_eq!(got, want, "{body}");
}

/// One parsed server-sent event.
#[derive(Debug, Clone)]
pub(crate) struct SseEvent {
    pub(crate) id: Option<i64>,
    pub(crate) event: Option<String>,
    pub(crate) data: Value,
}

/// Reads an SSE response incrementally.
pub(crate) struct SseReader {
    response: Response,
    buffer: String,
}

impl SseReader {
    pub(crate) async fn connect(app: &TestApp, last_event_id: Option<i64>) -> Self {
        // As a browser would: compression must not buffer the stream.
        let mut req = app
            .client
            .get(app.url("/api/events"))
            .header("accept-encoding", "gzip, br")
            .timeout(Duration::from_secs(3600));
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id.to_string());
        }
        Self::from_response(req.send().await.expect("SSE connect"))
    }

    pub(crate) fn from_response(response: Response) -> Self {
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next data event (comments and keep-alives are skipped).
    pub(crate) async fn next(&mut self, within: Duration) -> Option<SseEvent> {
        tokio::time::timeout(within, async {
            loop {
                while let Some(end) = self.buffer.find("\n\n") {
                    let frame: String = self.buffer.drain(..end + 2).collect();
                    let mut event = SseEvent {
                        id: None,
                        event: None,
                        data: Value::Null,
                    };
                    let mut data = String::new();
                    for line in frame.lines() {
                        if let Some(v) = line.strip_prefix("id:") {
                            event.id = v.trim().parse().ok();
                        } else if let Some(v) = line.strip_prefix("event:") {
                            event.event = Some(v.trim().to_owned());
                        } else if let Some(v) = line.strip_prefix("data:") {
                            data.push_str(v.trim_start());
                        }
                    }
                    if !data.is_empty() {
                        event.data = serde_json::from_str(&data).expect("event data is JSON");
                        return Some(event);
                    }
                }
                match self.response.chunk().await {
                    Ok(Some(bytes)) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                    _ => return None,
                }
            }
        })
        .await
        .ok()
        .flatten()
    }
}

/// The JSON a page embeds in its `<script type="application/json" id=…>`.
pub(crate) fn embedded_json<T: serde::de::DeserializeOwned>(html: &str, id: &str) -> T {
    let open = format!("<script type=\"application/json\" id=\"{id}\">");
    let start = html.find(&open).expect("the element") + open.len();
    let len = html[start..].find("</script>").expect("closing tag");
    serde_json::from_str(&html[start..start + len]).expect("its JSON parses")
}

/// Runs each named async test function against SQLite and PostgreSQL.
#[macro_export]
macro_rules! both_engines {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                use $crate::helpers::{spawn_app, Engine};

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let app = spawn_app(Engine::Sqlite).await.expect("SQLite app");
                    super::$name(app).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(app) = spawn_app(Engine::Postgres).await {
                        super::$name(app).await;
                    }
                }
            }
        )*
    };
}
