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
