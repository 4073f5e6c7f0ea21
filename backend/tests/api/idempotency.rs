use crate::both_engines;
use crate::helpers::{TestApp, assert_error};
use serde_json::{Value, json};

both_engines!(
    replayed_key_creates_one_row,
    key_reused_for_other_request_is_refused,
    every_write_honours_keys,
    racing_requests_with_one_key_apply_once,
);

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> reqwest::Response {
    app.send_keyed(method, path, key, body.as_ref())
        .await
        .unwrap()
}

async fn replayed_key_creates_one_row(app: TestApp) {
    let body = json!({"user_id": 2, "title": "Once", "body": "only once"});
    let first = send(
        &app,
        reqwest::Method::POST,
        "/api/posts",
        "key-1",
        Some(body.clone()),
    )
    .await;
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let second = send(
        &app,
        reqwest::Method::POST,
        "/api/posts",
        "key-1",
        Some(body),
    )
    .await;
    assert_eq!(second.status(), 201);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    let second: Value = second.json().await.unwrap();
    assert_eq!(first, second);
    let stats = app.get_json("/api/deferred").await;
    assert_eq!(stats["posts"], 101, "exactly one row");
}

async fn key_reused_for_other_request_is_refused(app: TestApp) {
    let a = send(
        &app,
        reqwest::Method::POST,
        "/api/posts",
        "k",
        Some(json!({"user_id": 2, "title": "A", "body": "a"})),
    )
    .await;
    assert_eq!(a.status(), 201);
    let b = send(
        &app,
        reqwest::Method::POST,
        "/api/posts",
        "k",
        Some(json!({"user_id": 2, "title": "B", "body": "b"})),
    )
    .await;
    assert_error(b, 422, "idempotency_key_reused", &[]).await;
    let bad = send(
        &app,
        reqwest::Method::POST,
        "/api/posts",
        "",
        Some(json!({"user_id": 2, "title": "C", "body": "c"})),
    )
    .await;
    assert_error(bad, 400, "invalid_idempotency_key", &[]).await;
    assert_eq!(app.get_json("/api/deferred").await["posts"], 101);
}

async fn every_write_honours_keys(app: TestApp) {
    use reqwest::Method;
    let replayed = |res: &reqwest::Response| {
        res.headers()
            .get("idempotent-replayed")
            .is_some_and(|v| v == "true")
    };
    // DELETE: the replay answers 204 again instead of 404.
    for attempt in 0..2 {
        let res = send(&app, Method::DELETE, "/api/posts/9", "del-9", None).await;
        assert_eq!(res.status(), 204);
        assert_eq!(replayed(&res), attempt == 1, "DELETE attempt {attempt}");
    }
    // A failed write stores nothing: the same key may be retried once fixed.
    let res = send(
        &app,
        Method::PATCH,
        "/api/posts/8",
        "patch-8",
        Some(json!({"title": ""})),
    )
    .await;
    assert_eq!(res.status(), 422);
    // PATCH post (with the key that failed), PATCH user, POST comment: the
    // first attempt applies, the second is the stored answer.
    for attempt in 0..2 {
        let res = send(
            &app,
            Method::PATCH,
            "/api/posts/8",
            "patch-8",
            Some(json!({"title": "T"})),
        )
        .await;
        assert_eq!(res.status(), 200);
        assert_eq!(replayed(&res), attempt == 1, "PATCH post attempt {attempt}");
        let res = send(
            &app,
            Method::PATCH,
            "/api/users/1",
            "user-1",
            Some(json!({"name": "N"})),
        )
        .await;
        assert_eq!(res.status(), 200);
        assert_eq!(replayed(&res), attempt == 1, "PATCH user attempt {attempt}");
        let res = send(
            &app,
            Method::POST,
            "/api/posts/8/comments",
            "c-8",
            Some(json!({"name": "n", "email": "a@b.co", "body": "b"})),
        )
        .await;
        assert_eq!(res.status(), 201);
        assert_eq!(
            replayed(&res),
            attempt == 1,
            "POST comment attempt {attempt}"
        );
    }
    assert_eq!(app.get_json("/api/posts/8").await["title"], "T");
    assert_eq!(
        app.get_json("/api/posts/8/comments").await["items"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    assert_eq!(app.get_json("/api/deferred").await["posts"], 99);
}

/// Requests racing with one key (a client that resent before the first
/// answer came back): one applies, every other gets its stored answer. On
/// PostgreSQL the losers collide on the key and retry once.
async fn racing_requests_with_one_key_apply_once(app: TestApp) {
    let body = json!({"user_id": 5, "title": "Raced", "body": "eight at once"});
    let sends = (0..8).map(|_| {
        send(
            &app,
            reqwest::Method::POST,
            "/api/posts",
            "race-1",
            Some(body.clone()),
        )
    });
    let responses = futures_util::future::join_all(sends).await;
    let mut originals = 0;
    let mut bodies = vec![];
    for res in responses {
        assert_eq!(res.status(), 201);
        if res.headers().get("idempotent-replayed").is_none() {
            originals += 1;
        }
        bodies.push(res.json::<Value>().await.unwrap());
    }
    assert_eq!(originals, 1, "one request applied");
    assert!(bodies.iter().all(|b| *b == bodies[0]), "one answer for all");
    assert_eq!(app.get_json("/api/deferred").await["posts"], 101, "one row");
}
