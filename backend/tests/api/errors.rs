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

/// A write lock held only for a moment (another process's short
/// transaction, or SQLite's own instant locks under load) is waited out:
/// the write is applied, not refused.
#[tokio::test]
async fn a_momentary_sqlite_write_lock_is_waited_out() {
    use diesel::{Connection, RunQueryDsl};
    let dir = tempfile::tempdir().unwrap();
    let database_url = dir.path().join("app.db").display().to_string();
    let app = crate::helpers::spawn_app_on(&database_url, dir, |_| {}).await;
    let mut other = diesel::SqliteConnection::establish(&database_url).unwrap();
    for round in 0..3 {
        diesel::sql_query("BEGIN IMMEDIATE")
            .execute(&mut other)
            .unwrap();
        let comment =
            serde_json::json!({"name": "n", "email": "a@b.co", "body": format!("r{round}")});
        let write = app.post_json("/api/posts/2/comments", &comment);
        let release = async {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            diesel::sql_query("ROLLBACK").execute(&mut other).unwrap();
        };
        let (res, ()) = tokio::join!(write, release);
        assert_eq!(res.status(), 201, "round {round}");
    }
}

/// Every API route answers the methods it lists; any other method on the
/// same path is 405 with `Allow` naming them (and changes nothing); pages
/// take GET and HEAD only.
#[tokio::test]
async fn a_known_path_with_another_method_is_405_with_allow() {
    let app = crate::helpers::spawn_app(crate::helpers::Engine::Sqlite)
        .await
        .expect("SQLite always starts");
    let all = ["GET", "POST", "PUT", "PATCH", "DELETE"];
    for (pattern, allow) in backend::openapi::routes() {
        let path = format!("/api{}", pattern.replace("{id}", "1"));
        for method in all {
            let listed = allow.split(", ").any(|m| m == method);
            if listed && method != "GET" {
                continue; // the writes have their own tests
            }
            let res = app
                .client
                .request(method.parse().unwrap(), app.url(&path))
                .send()
                .await
                .unwrap();
            if listed {
                assert!(
                    ![404, 405].contains(&res.status().as_u16()),
                    "{method} {path}: {}",
                    res.status()
                );
            } else {
                assert_eq!(res.headers()["allow"], *allow, "{method} {path}");
                assert_error(res, 405, "method_not_allowed", &[]).await;
            }
        }
    }
    let res = app.client.delete(app.url("/posts/1")).send().await.unwrap();
    assert_eq!(res.headers()["allow"], "GET, HEAD");
    assert_error(res, 405, "method_not_allowed", &[]).await;
    assert_eq!(
        app.get_json("/api/deferred").await["posts"],
        100,
        "nothing changed"
    );
}

/// Text that shows nothing or holds control characters is refused with the
/// field named, and changes nothing.
#[tokio::test]
async fn invisible_or_control_characters_are_refused() {
    let app = crate::helpers::spawn_app(crate::helpers::Engine::Sqlite)
        .await
        .expect("SQLite always starts");
    for title in ["\u{200b}", "\u{202e}", "a\u{0000}b"] {
        let res = app
            .post_json(
                "/api/posts",
                &serde_json::json!({"user_id": 1, "title": title, "body": "b"}),
            )
            .await;
        assert_error(res, 422, "validation_failed", &["title"]).await;
    }
    for name in ["\u{200b}\u{200b}", "a\u{0000}b"] {
        let res = app
            .patch_json("/api/users/1", &serde_json::json!({"name": name}))
            .await;
        assert_error(res, 422, "validation_failed", &["name"]).await;
    }
    assert_eq!(app.get_json("/api/deferred").await["posts"], 100);
    assert_ne!(app.get_json("/api/users/1").await["name"], "a\u{0000}b");
}
