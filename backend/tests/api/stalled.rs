//! A live subscriber that stops reading is cut off (`--send-timeout-secs`,
//! TCP_USER_TIMEOUT) instead of being held, with its buffers, for ever.

use crate::helpers::{Engine, TestApp, fresh_database, spawn_app_on};
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Connects to the event stream with a small receive buffer and never reads.
async fn stalled_subscriber(app: &TestApp) -> tokio::net::TcpStream {
    let addr = url::Url::parse(&app.address)
        .unwrap()
        .socket_addrs(|| None)
        .unwrap()[0];
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(addr).await.expect("connect");
    stream
        .write_all(b"GET /api/events HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n\r\n")
        .await
        .unwrap();
    stream
}

/// Reads until the connection ends (true) or stays quiet for 5 s (false).
async fn ends(stream: &mut tokio::net::TcpStream) -> bool {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
            Err(_) => return false,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_stops_reading_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(Engine::Sqlite, dir.path()).expect("SQLite always starts");
    let app = spawn_app_on(&url, dir, |s| s.send_timeout_secs = 2).await;
    let mut stalled = stalled_subscriber(&app).await;
    // Enough events (9 KB each) to fill its window and the server's buffers.
    let body = "x".repeat(9_000);
    for k in 0..80 {
        let res = app
            .patch_json(
                "/api/posts/2",
                &json!({"title": format!("fill {k}"), "body": body}),
            )
            .await;
        assert_eq!(res.status(), 200);
    }
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert!(
        ends(&mut stalled).await,
        "the server still holds a subscriber that has not read for 8 s"
    );
    // Everyone else is served as before.
    assert_eq!(app.get("/api/posts/2").await.status(), 200);
}
