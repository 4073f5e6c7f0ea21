//! `GET /api/events/ws`: the server events over a WebSocket, with the same
//! ids, payloads and resume rule as the SSE stream.

use crate::both_engines;
use crate::helpers::{SseReader, TestApp};
use futures_util::StreamExt;
use serde_json::Value;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

both_engines!(
    websocket_carries_the_same_events_as_sse,
    websocket_resume_replays_missed_events,
    websocket_resume_from_an_unknown_id_gets_resync,
    a_bad_last_event_id_is_refused_with_a_clear_error,
    only_the_pages_own_origin_may_connect,
);

const WAIT: Duration = Duration::from_secs(10);

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(app: &TestApp, last_event_id: Option<i64>) -> Socket {
    let mut url = app.url("/api/events/ws").replacen("http://", "ws://", 1);
    if let Some(id) = last_event_id {
        url.push_str(&format!("?last_event_id={id}"));
    }
    let (socket, response) = tokio_tungstenite::connect_async(url)
        .await
        .expect("WebSocket connect");
    assert_eq!(response.status(), 101);
    socket
}

/// The next event (pings and other control frames skipped).
async fn next(socket: &mut Socket, within: Duration) -> Option<Value> {
    tokio::time::timeout(within, async {
        while let Some(message) = socket.next().await {
            if let Message::Text(text) = message.expect("a frame") {
                return Some(serde_json::from_str(&text).expect("event JSON"));
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
}

async fn websocket_carries_the_same_events_as_sse(app: TestApp) {
    let mut ws = connect(&app, None).await;
    let mut sse = SseReader::connect(&app, None).await;
    let post = app.create_post(1, "Over both", "body").await;
    let id = post["id"].as_i64().unwrap();
    assert_eq!(app.delete(&format!("/api/posts/{id}")).await.status(), 204);
    for expected in ["post_created", "post_deleted"] {
        let over_ws = next(&mut ws, WAIT)
            .await
            .expect("an event over the WebSocket");
        let over_sse = sse.next(WAIT).await.expect("an event over SSE");
        assert_eq!(over_ws["type"], expected);
        assert_eq!(
            over_ws, over_sse.data,
            "the same payload on both transports"
        );
        assert_eq!(over_ws["id"].as_i64(), over_sse.id, "the same id");
    }
}

async fn websocket_resume_replays_missed_events(app: TestApp) {
    let mut ws = connect(&app, None).await;
    app.create_post(1, "first", "b").await;
    let first = next(&mut ws, WAIT).await.unwrap()["id"].as_i64().unwrap();
    drop(ws);
    for i in 0..3 {
        app.create_post(1, &format!("missed {i}"), "b").await;
    }
    let mut resumed = connect(&app, Some(first)).await;
    for i in 0..3 {
        let event = next(&mut resumed, WAIT)
            .await
            .expect("missed event replayed");
        assert_eq!(event["data"]["title"], format!("missed {i}"));
        assert_eq!(event["id"].as_i64(), Some(first + 1 + i));
    }
    app.create_post(1, "live", "b").await;
    assert_eq!(
        next(&mut resumed, WAIT).await.unwrap()["data"]["title"],
        "live"
    );
    assert!(
        next(&mut resumed, Duration::from_millis(300))
            .await
            .is_none(),
        "nothing sent twice"
    );
}

async fn websocket_resume_from_an_unknown_id_gets_resync(app: TestApp) {
    let mut ws = connect(&app, Some(1_000_000)).await;
    assert_eq!(next(&mut ws, WAIT).await.expect("resync")["type"], "resync");
    app.create_post(1, "after", "b").await;
    assert_eq!(next(&mut ws, WAIT).await.unwrap()["type"], "post_created");
}

async fn a_bad_last_event_id_is_refused_with_a_clear_error(app: TestApp) {
    let response = app.get("/api/events/ws?last_event_id=soon").await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_last_event_id");
    let plain = app.get("/api/events/ws").await;
    assert_eq!(plain.status(), 400, "a plain GET is not a WebSocket");
    let body: Value = plain.json().await.unwrap();
    assert_eq!(body["error"]["code"], "websocket_required");
}

/// Browsers do not apply CORS to WebSockets: a page on another site must
/// not be able to open the stream; the app's own pages (same host) can.
async fn only_the_pages_own_origin_may_connect(app: TestApp) {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = app.url("/api/events/ws").replacen("http://", "ws://", 1);
    let with_origin = |origin: &str| {
        let mut request = url.as_str().into_client_request().unwrap();
        request
            .headers_mut()
            .insert("Origin", origin.parse().unwrap());
        request
    };
    match tokio_tungstenite::connect_async(with_origin("https://evil.example")).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403);
            let body: Value = serde_json::from_slice(response.body().as_deref().unwrap()).unwrap();
            assert_eq!(body["error"]["code"], "origin_not_allowed");
        }
        other => panic!("a foreign origin was not refused: {other:?}"),
    }
    let own = app.url("").trim_end_matches('/').to_owned();
    let (_socket, response) = tokio_tungstenite::connect_async(with_origin(&own))
        .await
        .expect("the page's own origin connects");
    assert_eq!(response.status(), 101);
}
