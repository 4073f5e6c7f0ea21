//! Bad input: always a JSON error, never a change.

use crate::both_engines;
use crate::helpers::{TestApp, assert_error};
use reqwest::Method;
use serde_json::json;

both_engines!(malformed_oversize_and_wrong_content_type);

async fn malformed_oversize_and_wrong_content_type(app: TestApp) {
    for raw in [&b"{"[..], b"{\"user_id\":1,", b"\xff\xfe", b"", b"nul\0l"] {
        assert_error(
            app.send_raw(Method::POST, "/api/posts", raw.to_vec()).await,
            400,
            "malformed_json",
            &[],
        )
        .await;
    }
    // Bigger than the 64 KiB limit: refused before it is read.
    let huge = json!({"user_id": 1, "title": "t", "body": "x".repeat(70 * 1024)});
    assert_error(
        app.post_json("/api/posts", &huge).await,
        413,
        "payload_too_large",
        &[],
    )
    .await;
    let huge_patch = json!({"body": "x".repeat(70 * 1024)});
    assert_error(
        app.patch_json("/api/posts/1", &huge_patch).await,
        413,
        "payload_too_large",
        &[],
    )
    .await;
    let huge_comment = json!({"name": "n", "email": "a@b.co", "body": "x".repeat(70 * 1024)});
    assert_error(
        app.post_json("/api/posts/1/comments", &huge_comment).await,
        413,
        "payload_too_large",
        &[],
    )
    .await;
    let huge_user = json!({"name": "x".repeat(70 * 1024)});
    assert_error(
        app.patch_json("/api/users/1", &huge_user).await,
        413,
        "payload_too_large",
        &[],
    )
    .await;

    let res = app
        .client
        .post(app.url("/api/posts"))
        .header("content-type", "text/plain")
        .body(r#"{"user_id":1,"title":"t","body":"b"}"#)
        .send()
        .await
        .unwrap();
    assert_error(res, 415, "unsupported_media_type", &[]).await;

    let res = app.client.put(app.url("/posts")).send().await.unwrap();
    assert_error(res, 405, "method_not_allowed", &[]).await;

    let page = app.get_json("/api/posts?limit=1").await;
    assert_eq!(page["items"][0]["id"], 100, "nothing was written");
    assert_eq!(app.get_json("/api/deferred").await["posts"], 100);
}

/// Another process holding SQLite's write lock makes writes fail with 503
/// `unavailable` ("try again"), not an opaque 500, and changes nothing;
/// reads go on; once the lock is gone the same request succeeds.
#[tokio::test]
async fn a_busy_sqlite_database_is_503_and_changes_nothing() {
    use diesel::{Connection, RunQueryDsl};
    let dir = tempfile::tempdir().unwrap();
    let database_url = dir.path().join("app.db").display().to_string();
    let app = crate::helpers::spawn_app_on(&database_url, dir, |_| {}).await;
    let mut other = diesel::SqliteConnection::establish(&database_url).unwrap();
    diesel::sql_query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .unwrap();

    let post = serde_json::json!({"user_id": 1, "title": "while busy", "body": "b"});
    let busy = app.post_json("/api/posts", &post).await;
    assert_eq!(busy.status(), 503);
    assert_eq!(busy.headers()["retry-after"], "1");
    let body: serde_json::Value = busy.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
    assert_eq!(app.get("/api/posts/1").await.status(), 200, "reads go on");

    diesel::sql_query("ROLLBACK").execute(&mut other).unwrap();
    let page = app.get_json("/api/posts?limit=100").await;
    assert!(
        !page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["title"] == "while busy"),
        "nothing was written"
    );
    assert_eq!(app.post_json("/api/posts", &post).await.status(), 201);
}
