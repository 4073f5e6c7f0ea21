//! Connection limits: the descriptor limit raised and shared out so
//! `accept` never fails for want of one, and a client that never finishes
//! its headers is cut off instead of holding a connection for ever (actix
//! does so after 5 s by default; `--header-timeout-ms` sets it), and the
//! per-address write rate.

use crate::helpers::spawn_app_on;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_descriptor_limit_is_raised_to_the_hard_limit_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = dir.path().join("app.db").display().to_string();
    // The test process is the server's: start below the hard limit, as a
    // shell's default soft limit does (4,096: far above what the other
    // tests running beside this one hold).
    let (_, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
    rlimit::setrlimit(rlimit::Resource::NOFILE, 4096.min(hard), hard).unwrap();
    let _app = spawn_app_on(&database_url, dir, |_| {}).await;
    let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
    assert_eq!(soft, hard, "the soft limit is raised to the hard one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = dir.path().join("app.db").display().to_string();
    let app = spawn_app_on(&database_url, dir, |s| s.header_timeout_ms = 2_000).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&address).expect("a connection");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        // Half a request, and then nothing (a slowloris client).
        stream
            .write_all(b"GET /api/posts HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        let started = Instant::now();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        (
            String::from_utf8_lossy(&answer).into_owned(),
            started.elapsed(),
        )
    })
    .await
    .unwrap();
    let (answer, after) = answer;
    assert!(
        answer.starts_with("HTTP/1.1 408"),
        "a 408 and the connection closed, got {answer:?} after {after:?}"
    );
    // Meanwhile, and after, everyone else is served.
    let status = app
        .client
        .get(format!("{}/api/posts", app.address))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
}

/// One address writing too fast is told to wait (429 `too_many_writes`,
/// `Retry-After`) and its write changes nothing; another address and every
/// read go on; after the wait it writes again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_are_rate_limited_per_address() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = dir.path().join("app.db").display().to_string();
    let app = crate::helpers::spawn_app_on(&database_url, dir, |s| {
        s.writes_per_minute = 60;
        s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let rename = |client: &'static str, name: String| {
        app.client
            .patch(app.url("/api/users/3"))
            .header("x-forwarded-for", client)
            .json(&serde_json::json!({ "name": name }))
            .send()
    };
    // A burst of ten seconds' worth (at least ten), then one a second.
    for i in 0..10 {
        let res = rename("198.51.100.1", format!("Burst {i}")).await.unwrap();
        assert_eq!(res.status(), 200, "write {i}");
    }
    let refused = rename("198.51.100.1", "Too fast".into()).await.unwrap();
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["retry-after"], "1");
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_writes");
    assert_eq!(
        app.get_json("/api/users/3").await["name"],
        "Burst 9",
        "nothing changed"
    );
    assert_eq!(app.get("/api/posts").await.status(), 200, "reads go on");
    let other = rename("198.51.100.2", "Another address".into())
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let again = rename("198.51.100.1", "After the wait".into())
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
}

/// A bounded flood (scripts/flood.sh is the long form): one client asks
/// for far more event streams than its cap and holds every connection,
/// while another loads pages and the API and writes. The flooder gets its
/// 16 streams and 503 `too_many_streams` for the rest; every request of the
/// other client succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_flood_from_one_client_leaves_the_others_served() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let database_url = dir.path().join("app.db").display().to_string();
    let app = spawn_app_on(&database_url, dir, |s| {
        s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut held = Vec::new();
    let (mut granted, mut refused) = (0, 0);
    for _ in 0..300 {
        let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
        socket
            .write_all(
                b"GET /api/events HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 198.51.100.66\r\n\
                  Accept: text/event-stream\r\n\r\n",
            )
            .await
            .unwrap();
        let mut head = [0u8; 12];
        socket.read_exact(&mut head).await.unwrap();
        match &head[9..12] {
            b"200" => granted += 1,
            b"503" => refused += 1,
            other => panic!("unexpected status {}", String::from_utf8_lossy(other)),
        }
        held.push(socket);
    }
    assert_eq!((granted, refused), (16, 284));
    for i in 0..40 {
        let path = ["/posts/1", "/api/posts", "/users", "/api/users/2"][i % 4];
        let res = app
            .client
            .get(app.url(path))
            .header("x-forwarded-for", "198.51.100.7")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
    }
    for i in 0..5 {
        let res = app
            .client
            .patch(app.url("/api/users/4"))
            .header("x-forwarded-for", "198.51.100.7")
            .json(&serde_json::json!({ "name": format!("Served {i}") }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    let stream = app
        .client
        .get(app.url("/api/events"))
        .header("x-forwarded-for", "198.51.100.7")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200, "the other client's own stream");
    drop(held);
}
