//! The PostgreSQL server itself stopped under load and started again.
//!
//! The shared test server serves every other test at the same time, so this
//! one runs a private cluster (`initdb` in a temp dir, its own port, as the
//! `postgres` user: the server refuses to run as root). Where PostgreSQL's
//! binaries or that user are missing, the test says it is skipped.

use crate::helpers::{SseReader, TestApp, in_ci, spawn_app_on};
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);

/// The directory holding `initdb` and `pg_ctl`: on `PATH`, or Debian's.
fn pg_bin() -> Option<PathBuf> {
    let on_path = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    on_path
        .into_iter()
        .chain(
            std::fs::read_dir("/usr/lib/postgresql")
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path().join("bin")),
        )
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
}

/// A PostgreSQL cluster of the test's own, stopped when dropped.
struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

fn as_postgres(program: &Path) -> Command {
    let mut cmd = Command::new("runuser");
    cmd.args(["-u", "postgres", "--"]).arg(program);
    cmd
}

fn check(what: &str, out: std::io::Result<Output>) -> Result<(), String> {
    match out {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!(
            "{what}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )),
        Err(e) => Err(format!("{what}: {e}")),
    }
}

impl Cluster {
    fn start() -> Result<Self, String> {
        let bin =
            pg_bin().ok_or("no initdb/pg_ctl (pg_config --bindir, /usr/lib/postgresql/*/bin)")?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        check(
            "chown",
            Command::new("chown")
                .arg("postgres:")
                .arg(dir.path())
                .output(),
        )?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        check(
            "initdb",
            as_postgres(&bin.join("initdb"))
                .args(["-U", "postgres", "--auth=trust", "-D"])
                .arg(dir.path().join("data"))
                .output(),
        )?;
        let cluster = Self { bin, dir, port };
        cluster.pg_ctl_start()?;
        Ok(cluster)
    }

    fn pg_ctl_start(&self) -> Result<(), String> {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={}",
            self.port,
            self.dir.path().display()
        );
        check(
            "pg_ctl start",
            as_postgres(&self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(self.dir.path().join("data"))
                .args(["-l"])
                .arg(self.dir.path().join("log"))
                .args(["-o", &options, "-w", "start"])
                .output(),
        )
    }

    /// `fast`: active connections are cut, as a restart by an operator does.
    fn stop(&self, mode: &str) -> Result<(), String> {
        check(
            "pg_ctl stop",
            as_postgres(&self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(self.dir.path().join("data"))
                .args(["-m", mode, "-w", "stop"])
                .output(),
        )
    }

    fn url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres?connect_timeout=5",
            self.port
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.stop("immediate");
    }
}

/// A create with its key, answered or not.
async fn create(app: &TestApp, key: &str, title: &str) -> Option<u16> {
    let body = json!({"user_id": 1, "title": title, "body": "b"});
    app.send_keyed(reqwest::Method::POST, "/api/posts", key, Some(&body))
        .await
        .ok()
        .map(|r| r.status().as_u16())
}

/// The server is stopped while a client writes and a live client listens,
/// and started again after two writes. Meanwhile writes are refused with 503 and
/// `/healthz` says 503; afterwards, without a backend restart, writes and
/// `/healthz` are back, every acknowledged write is there once, the writes
/// refused meanwhile (resent with their keys) apply once, and the live
/// client got an event for every write, the ones after the restart too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backend_rides_out_a_database_restart() {
    let cluster = match Cluster::start() {
        Ok(cluster) => cluster,
        Err(why) => {
            assert!(!in_ci(), "CI needs a private PostgreSQL cluster: {why}");
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED database restart test: cannot run a private PostgreSQL ({why})"
            );
            return;
        }
    };
    let app = spawn_app_on(&cluster.url(), tempfile::tempdir().unwrap(), |_| {}).await;
    let mut live = SseReader::connect(&app, None).await;
    let mut acknowledged = Vec::new();
    let mut refused = Vec::new();
    let mut n = 0;
    let write =
        async |n: usize, acknowledged: &mut Vec<String>, refused: &mut Vec<(String, String)>| {
            let (key, title) = (format!("restart-{n}"), format!("Restart {n}"));
            match create(&app, &key, &title).await {
                Some(201) => acknowledged.push(title),
                Some(503) | None => refused.push((key, title)),
                Some(other) => panic!("{title}: {other}"),
            }
        };
    for _ in 0..20 {
        write(n, &mut acknowledged, &mut refused).await;
        n += 1;
    }
    cluster.stop("fast").expect("stop");
    let asked = Instant::now();
    assert_eq!(
        app.get("/healthz").await.status(),
        503,
        "/healthz says the database is down"
    );
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "/healthz answers promptly"
    );
    // Each waits for the pool's timeout, then is refused.
    for _ in 0..2 {
        write(n, &mut acknowledged, &mut refused).await;
        n += 1;
    }
    assert_eq!(
        refused.len(),
        2,
        "writes while the database was down are refused"
    );
    cluster.pg_ctl_start().expect("start again");
    let deadline = Instant::now() + WAIT;
    while app.get("/healthz").await.status() != 200 {
        assert!(Instant::now() < deadline, "/healthz never recovered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (key, title) in std::mem::take(&mut refused) {
        assert_eq!(
            create(&app, &key, &title).await,
            Some(201),
            "{title} resent"
        );
        acknowledged.push(title);
    }
    for _ in 0..20 {
        write(n, &mut acknowledged, &mut refused).await;
        n += 1;
    }
    assert!(refused.is_empty(), "writes after the restart: {refused:?}");

    let titles: Vec<String> = crate::crash::all_posts(&app.client, &app.address)
        .await
        .iter()
        .filter_map(|p| p["title"].as_str().map(str::to_owned))
        .filter(|t| t.starts_with("Restart "))
        .collect();
    let mut want = acknowledged.clone();
    want.sort();
    let mut got = titles.clone();
    got.sort();
    assert_eq!(got, want, "every acknowledged write once, nothing else");

    let mut heard = Vec::new();
    while heard.len() < acknowledged.len() {
        let event = live.next(WAIT).await.unwrap_or_else(|| {
            panic!(
                "the live client heard {} of {} writes",
                heard.len(),
                acknowledged.len()
            )
        });
        if event.event.as_deref() == Some("post_created") {
            heard.push(event.data["data"]["title"].as_str().unwrap().to_owned());
        }
    }
    heard.sort();
    assert_eq!(heard, want, "an event for every write");
}
