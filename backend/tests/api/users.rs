use crate::both_engines;
use crate::helpers::{TestApp, assert_error};
use serde_json::{Value, json};

both_engines!(
    users_list_get_and_posts,
    patch_user,
    health_and_unknown_routes
);

async fn users_list_get_and_posts(app: TestApp) {
    let users = app.get_json("/api/users").await;
    let users = users.as_array().unwrap();
    assert_eq!(users.len(), 10);
    let total: i64 = users
        .iter()
        .map(|u| u["post_count"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 100);
    let user = app.get_json("/api/users/2").await;
    assert_eq!(user, users[1]);
    for field in ["name", "username", "email", "last_active_at"] {
        assert!(user[field].is_string(), "{field}");
    }
    let posts = app.get_json("/api/users/2/posts").await;
    let posts = posts.as_array().unwrap();
    assert_eq!(posts.len() as i64, user["post_count"].as_i64().unwrap());
    assert!(posts.iter().all(|p| p["user_id"] == 2));
    assert_error(app.get("/api/users/77").await, 404, "not_found", &[]).await;
    assert_error(app.get("/api/users/77/posts").await, 404, "not_found", &[]).await;
}

async fn patch_user(app: TestApp) {
    let res = app
        .patch_json(
            "/api/users/4",
            &json!({"name": "  Pat  ", "email": "pat@example.org"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let user: Value = res.json().await.unwrap();
    assert_eq!(user["name"], "Pat");
    assert_eq!(user["email"], "pat@example.org");
    assert_eq!(app.get_json("/api/users/4").await, user);

    assert_error(
        app.patch_json("/api/users/4", &json!({"email": "nope"}))
            .await,
        422,
        "validation_failed",
        &["email"],
    )
    .await;
    assert_error(
        app.patch_json("/api/users/4", &json!({"name": ""})).await,
        422,
        "validation_failed",
        &["name"],
    )
    .await;
    assert_error(
        app.patch_json("/api/users/4", &json!({"username": "x"}))
            .await,
        422,
        "invalid_body",
        &[],
    )
    .await;
    assert_error(
        app.patch_json("/api/users/404", &json!({"name": "x"}))
            .await,
        404,
        "not_found",
        &[],
    )
    .await;
    assert_eq!(
        app.get_json("/api/users/4").await["name"],
        "Pat",
        "refused edits change nothing"
    );
}

async fn health_and_unknown_routes(app: TestApp) {
    assert_eq!(app.get_json("/healthz").await["status"], "ok");
    assert_error(app.get("/api/nope").await, 404, "not_found", &[]).await;
    let stats = app.get_json("/api/deferred").await;
    assert_eq!(
        (
            stats["users"].as_i64(),
            stats["posts"].as_i64(),
            stats["comments"].as_i64()
        ),
        (Some(10), Some(100), Some(500))
    );
}

/// CORS is off by default and, when configured, admits exactly the listed origins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_admits_only_configured_origins() {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("app.db").display().to_string();
    let app = crate::helpers::spawn_app_on(&url, dir, |s| {
        s.cors_origins = vec!["https://app.example.com".into()];
    })
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/posts"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type, idempotency-key",
            )
            .send()
    };
    let ok = preflight("https://app.example.com").await.unwrap();
    assert!(ok.status().is_success());
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    // The app on that origin sends the session cookie with its requests.
    assert_eq!(ok.headers()["access-control-allow-credentials"], "true");
    let refused = preflight("https://evil.example").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    // Without configuration, same-origin writes (which carry an Origin header) still work.
    let plain = crate::helpers::spawn_app(crate::helpers::Engine::Sqlite)
        .await
        .unwrap();
    let res = plain
        .client
        .post(plain.url("/api/posts"))
        .header("origin", plain.address.clone())
        .json(&json!({"user_id": 1, "title": "t", "body": "b"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert!(res.headers().get("access-control-allow-origin").is_none());
}
