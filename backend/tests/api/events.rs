use crate::both_engines;
use crate::helpers::{SseReader, TestApp, fresh_postgres_database, spawn_app_on};
use serde_json::json;
use std::time::Duration;

both_engines!(
    every_write_emits_one_event_with_increasing_ids,
    resume_replays_missed_events,
    resume_from_before_the_log_gets_resync,
    resume_by_query_parameter,
    a_stalled_client_does_not_delay_others,
);

const WAIT: Duration = Duration::from_secs(10);

async fn every_write_emits_one_event_with_increasing_ids(app: TestApp) {
    let mut sse = SseReader::connect(&app, None).await;
    let post = app.create_post(1, "Evented", "body").await;
    let id = post["id"].as_i64().unwrap();
    assert_eq!(
        app.patch_json(&format!("/api/posts/{id}"), &json!({"title": "Edited"}))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.post_json(
            &format!("/api/posts/{id}/comments"),
            &json!({"name": "n", "email": "a@b.co", "body": "c"})
        )
        .await
        .status(),
        201
    );
    assert_eq!(
        app.patch_json("/api/users/2", &json!({"name": "Two"}))
            .await
            .status(),
        200
    );
    assert_eq!(app.delete(&format!("/api/posts/{id}")).await.status(), 204);
    // Refused writes emit nothing.
    assert_eq!(
        app.patch_json("/api/users/2", &json!({"name": ""}))
            .await
            .status(),
        422
    );

    let mut names = vec![];
    let mut last = 0;
    for _ in 0..5 {
        let event = sse.next(WAIT).await.expect("an event per write");
        let event_id = event.id.expect("every event has an id");
        assert!(event_id > last, "ids increase: {event_id} after {last}");
        assert_eq!(
            event.data["id"], event_id,
            "the payload carries the same id"
        );
        last = event_id;
        names.push(event.event.unwrap());
    }
    assert_eq!(
        names,
        [
            "post_created",
            "post_updated",
            "comment_created",
            "user_updated",
            "post_deleted"
        ]
    );
    // The refused write emitted nothing: the next event is the next write's.
    assert_eq!(
        app.patch_json("/api/users/3", &json!({"name": "Three"}))
            .await
            .status(),
        200
    );
    let next = sse.next(WAIT).await.expect("the next write's event");
    assert_eq!(
        next.data["data"]["name"], "Three",
        "no event for the refused write"
    );
}

async fn resume_replays_missed_events(app: TestApp) {
    let mut sse = SseReader::connect(&app, None).await;
    app.create_post(1, "first", "b").await;
    let first = sse.next(WAIT).await.unwrap();
    drop(sse);
    for i in 0..3 {
        app.create_post(1, &format!("missed {i}"), "b").await;
    }
    let mut resumed = SseReader::connect(&app, first.id).await;
    for i in 0..3 {
        let event = resumed.next(WAIT).await.expect("missed event replayed");
        assert_eq!(event.data["data"]["title"], format!("missed {i}"));
        assert_eq!(event.id, Some(first.id.unwrap() + 1 + i));
    }
    // And then live ones.
    app.create_post(1, "live", "b").await;
    assert_eq!(
        resumed.next(WAIT).await.unwrap().data["data"]["title"],
        "live"
    );
}

/// A client that opens a fresh stream (its own reconnect loop) names the
/// last id it received in the URL; the header still wins when both are sent.
async fn resume_by_query_parameter(app: TestApp) {
    let mut live = SseReader::connect(&app, None).await;
    app.create_post(1, "seen", "b").await;
    app.create_post(1, "missed", "b").await;
    let seen = live.next(WAIT).await.unwrap().id.unwrap();
    drop(live);

    let mut sse =
        SseReader::from_response(app.get(&format!("/api/events?last_event_id={seen}")).await);
    let event = sse.next(WAIT).await.expect("the missed event");
    assert_eq!(event.data["data"]["title"], "missed");
    assert_eq!(event.id, Some(seen + 1));
    drop(sse);

    // The query alone would resync (an id from the future).
    let both = app
        .client
        .get(app.url(&format!("/api/events?last_event_id={}", i64::MAX)))
        .header("Last-Event-ID", seen.to_string())
        .send()
        .await
        .unwrap();
    let mut sse = SseReader::from_response(both);
    let event = sse.next(WAIT).await.expect("the header's resume");
    assert_eq!(event.data["data"]["title"], "missed", "the header wins");

    let bad = app.get("/api/events?last_event_id=soon").await;
    assert_eq!(bad.status(), 400);
    let body: serde_json::Value = bad.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_last_event_id");
}

async fn resume_from_before_the_log_gets_resync(app: TestApp) {
    // The test app keeps the default log (1000 events); an id far in the
    // future is from another deployment's numbering and must resync too.
    let mut sse = SseReader::connect(&app, Some(1_000_000)).await;
    let event = sse.next(WAIT).await.expect("resync");
    assert_eq!(event.event.as_deref(), Some("resync"));
    app.create_post(1, "after", "b").await;
    assert_eq!(
        sse.next(WAIT).await.unwrap().event.as_deref(),
        Some("post_created")
    );
}

async fn a_stalled_client_does_not_delay_others(app: TestApp) {
    // Connected, never read: its socket buffers fill and its stream stalls.
    let _stalled = app
        .client
        .get(app.url("/api/events"))
        .timeout(Duration::from_secs(3600))
        .send()
        .await
        .unwrap();
    let mut reader = SseReader::connect(&app, None).await;
    let big = "x".repeat(9_000);
    for i in 0..150 {
        app.create_post(i % 10 + 1, &format!("bulk {i}"), &big)
            .await;
    }
    for i in 0..150 {
        let event = reader
            .next(WAIT)
            .await
            .unwrap_or_else(|| panic!("event {i} arrived"));
        assert_eq!(event.data["data"]["title"], format!("bulk {i}"));
    }
}

/// The stalled client really stalled: it asks for the stream and never
/// reads. With a log of 20 events, the 200 large
/// ones put it so far behind that what it finally reads holds a `resync`
/// (sent instead of waiting for it), while the reading client got every
/// event as it was written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_client_falls_behind_alone() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("app.db").display().to_string();
    let app = spawn_app_on(&url, dir, |s| s.event_log_size = 20).await;
    let address: std::net::SocketAddr = app
        .address
        .trim_start_matches("http://")
        .parse()
        .expect("the app's address");
    let mut stalled = tokio::net::TcpStream::connect(address).await.unwrap();
    stalled
        .write_all(b"GET /api/events HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n\r\n")
        .await
        .unwrap();
    let mut reader = SseReader::connect(&app, None).await;
    // 40 KB an event (the longest body, in 4-byte characters): 200 of them
    // are more than the kernel buffers of an unread connection hold (the
    // send buffer grows to 4 MB at most here, the receive buffer stays small
    // while nothing is read).
    let big = "\u{1D11E}".repeat(10_000);
    for i in 0..200 {
        app.create_post(i % 10 + 1, &format!("bulk {i}"), &big)
            .await;
        let event = reader
            .next(WAIT)
            .await
            .unwrap_or_else(|| panic!("event {i} arrived while the other client stalled"));
        assert_eq!(event.data["data"]["title"], format!("bulk {i}"));
    }
    // Now read what the stalled client was sent, until the resync shows.
    let mut seen = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let found = tokio::time::timeout(WAIT, async {
        loop {
            let n = stalled.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the stream ended");
            seen.extend_from_slice(&chunk[..n]);
            if seen.windows(13).any(|w| w == b"event: resync") {
                return;
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&seen);
    assert!(
        found.is_ok(),
        "the stalled client was told to resync; it read {} bytes: {}",
        seen.len(),
        &text[..text.len().min(600)]
    );
}

/// A tiny event log: a client that resumes from before it is told to resync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_log_resync_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("app.db").display().to_string();
    let app = spawn_app_on(&url, dir, |s| s.event_log_size = 3).await;
    let mut sse = SseReader::connect(&app, None).await;
    app.create_post(1, "p0", "b").await;
    let first = sse.next(WAIT).await.unwrap().id.unwrap();
    for i in 1..6 {
        app.create_post(1, &format!("p{i}"), "b").await;
    }
    for _ in 1..6 {
        sse.next(WAIT).await.unwrap();
    }
    let mut late = SseReader::connect(&app, Some(first)).await;
    let event = late.next(WAIT).await.unwrap();
    assert_eq!(event.event.as_deref(), Some("resync"));
    assert_eq!(
        event.id,
        Some(first + 5),
        "resync carries the newest id to resume from"
    );
    // A client within the log still gets a replay.
    let mut recent = SseReader::connect(&app, Some(first + 3)).await;
    assert_eq!(recent.next(WAIT).await.unwrap().data["data"]["title"], "p4");
}

/// A backend process of its own (the real binary), stopped on drop.
struct Instance {
    child: std::process::Child,
    url: String,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_instance(database_url: &str, dist: &std::path::Path) -> Instance {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_backend"))
        .args([
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            database_url,
            "--workers",
            "1",
            // Written to without signing in, as the rest of the suite.
            "--require-sessions",
            "false",
        ])
        .arg("--dist")
        .arg(dist)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("backend binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .expect("the backend prints its URL");
    let url = line
        .trim()
        .strip_prefix("Serving on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    Instance { child, url }
}

async fn sse_of(url: &str, client: &reqwest::Client) -> SseReader {
    SseReader::from_response(
        client
            .get(format!("{url}/api/events"))
            .send()
            .await
            .expect("SSE connect"),
    )
}

/// Two backend processes on one PostgreSQL database: a write through A
/// reaches SSE clients of B (LISTEN/NOTIFY), with the same ids, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_cross_processes_on_postgres() {
    let Some(url) = fresh_postgres_database() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let a = start_instance(&url, dir.path());
    let b = start_instance(&url, dir.path());
    let client = reqwest::Client::new();
    let mut on_a = sse_of(&a.url, &client).await;
    // Both listening before the first write (a stream subscribes before
    // its response starts).
    let mut on_b = sse_of(&b.url, &client).await;

    let created: serde_json::Value = client
        .post(format!("{}/api/posts", a.url))
        .json(&json!({"user_id": 4, "title": "from A", "body": "b"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let seen_b = on_b.next(WAIT).await.expect("B hears A's write");
    let seen_a = on_a.next(WAIT).await.expect("A hears its own write");
    assert_eq!(seen_b.data["data"], created);
    assert_eq!(seen_a.id, seen_b.id, "one id across instances");

    // Interleaved writes through both: every client sees both, in id order.
    for (via, name) in [(&b.url, "from B"), (&a.url, "from A again")] {
        let res = client
            .patch(format!("{via}/api/users/4"))
            .json(&json!({"name": name}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    for reader in [&mut on_a, &mut on_b] {
        let first = reader.next(WAIT).await.unwrap();
        let second = reader.next(WAIT).await.unwrap();
        assert_eq!(first.data["data"]["name"], "from B");
        assert_eq!(second.data["data"]["name"], "from A again");
        assert!(second.id > first.id);
    }
    // Two instances started together seeded once.
    let users: serde_json::Value = client
        .get(format!("{}/api/users", b.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(users.as_array().unwrap().len(), 10);
}

/// A client that got event N from one instance and reconnects to another
/// whose pump has not read N yet is replayed what follows N, not told to
/// resync. The events are put in the outbox as another instance's writes
/// are, but without the `NOTIFY` (a notification still on its way), so B's
/// pump has not seen them when the client arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_on_an_instance_behind_the_outbox_replays_instead_of_resyncing() {
    use diesel::{Connection, RunQueryDsl};
    let Some(url) = fresh_postgres_database() else {
        return;
    };
    let a = spawn_app_on(&url, tempfile::tempdir().unwrap(), |_| {}).await;
    let b = spawn_app_on(&url, tempfile::tempdir().unwrap(), |_| {}).await;
    let mut on_b = SseReader::connect(&b, None).await;
    assert_eq!(
        a.patch_json("/api/users/4", &json!({"name": "Four"}))
            .await
            .status(),
        200
    );
    // B's pump has read A's event (its NOTIFY woke it) and is idle again.
    on_b.next(WAIT).await.expect("B hears A's write");
    // Two more events, written straight into the outbox.
    let mut conn = diesel::PgConnection::establish(&url).expect("a connection");
    for _ in 0..2 {
        diesel::sql_query(
            "INSERT INTO events (payload, created_at) \
             SELECT payload, created_at FROM events ORDER BY id DESC LIMIT 1",
        )
        .execute(&mut conn)
        .expect("an outbox row");
    }
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    let newest = diesel::sql_query("SELECT max(id) AS id FROM events")
        .get_result::<Id>(&mut conn)
        .expect("the newest id")
        .id;

    // The client saw the second to last (from A); it resumes on B.
    let mut sse = SseReader::connect(&b, Some(newest - 1)).await;
    let first = sse.next(WAIT).await.expect("the replay");
    assert_eq!(first.event.as_deref(), Some("user_updated"), "not a resync");
    assert_eq!(first.id, Some(newest), "exactly what it missed");
    // And live events follow.
    assert_eq!(
        b.patch_json("/api/users/4", &json!({"name": "Four again"}))
            .await
            .status(),
        200
    );
    let live = sse.next(WAIT).await.expect("a live event");
    assert_eq!(live.data["data"]["name"], "Four again");
    assert!(live.id > Some(newest));
}

/// Right after a restart the log is primed from the outbox: a client that
/// resumes from an event the old process sent gets what followed, including
/// writes made before and after the restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_right_after_a_restart_replays_from_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("app.db").display().to_string();
    let first = {
        let app = spawn_app_on(&url, tempfile::tempdir().unwrap(), |_| {}).await;
        let mut sse = SseReader::connect(&app, None).await;
        app.create_post(1, "before the restart 1", "b").await;
        let first = sse.next(WAIT).await.expect("an event").id.unwrap();
        app.create_post(1, "before the restart 2", "b").await;
        first
    };
    let app = spawn_app_on(&url, tempfile::tempdir().unwrap(), |_| {}).await;
    app.create_post(1, "after the restart", "b").await;
    let mut sse = SseReader::connect(&app, Some(first)).await;
    for (n, title) in ["before the restart 2", "after the restart"]
        .into_iter()
        .enumerate()
    {
        let event = sse.next(WAIT).await.expect("a replayed event");
        assert_eq!(event.event.as_deref(), Some("post_created"), "not a resync");
        assert_eq!(event.id, Some(first + 1 + n as i64));
        assert_eq!(event.data["data"]["title"], title);
    }
    drop(dir);
}

/// One client cannot hold every connection: past `--max-streams-per-client`
/// its next event stream (SSE or WebSocket) is refused with 503
/// `too_many_streams` and `Retry-After`, another client (here: another
/// address behind a trusted proxy) still gets one, the server-wide cap holds
/// too, and a closed stream frees its place. Pages and the API keep working
/// meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_streams_are_capped_per_client_and_in_all() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = dir.path().join("app.db").display().to_string();
    let app = spawn_app_on(&database_url, dir, |s| {
        s.max_streams_per_client = 2;
        s.max_streams = 3;
        s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        // A closed stream is noticed at the next write.
        s.sse_keep_alive_secs = 1;
    })
    .await;
    let from = |client: &str| {
        app.client
            .get(app.url("/api/events"))
            .header("x-forwarded-for", format!("203.0.113.9, {client}"))
    };
    let first = from("198.51.100.1").send().await.unwrap();
    let second = from("198.51.100.1").send().await.unwrap();
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    let refused = from("198.51.100.1").send().await.unwrap();
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "10");
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_streams");
    let ws = app
        .client
        .get(app.url("/api/events/ws"))
        .header("x-forwarded-for", "198.51.100.1")
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .unwrap();
    assert_eq!(ws.status(), 503, "the WebSocket counts too");

    let other = from("198.51.100.2").send().await.unwrap();
    assert_eq!(other.status(), 200, "another client still gets a stream");
    let fourth = from("198.51.100.3").send().await.unwrap();
    assert_eq!(fourth.status(), 503, "the cap in all");
    assert_eq!(
        app.get("/api/posts/1").await.status(),
        200,
        "the API answers"
    );
    assert_eq!(app.get("/posts").await.status(), 200, "pages too");

    drop(first);
    let mut freed = 0;
    for _ in 0..200 {
        let again = from("198.51.100.1").send().await.unwrap();
        if again.status() == 200 {
            freed += 1;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(freed, 1, "a closed stream frees its place");
}
