use crate::both_engines;
use crate::helpers::{TestApp, assert_error};
use serde_json::{Value, json};

both_engines!(comments_list_and_create, comments_validate_each_field);

async fn comments_list_and_create(app: TestApp) {
    let comments = app.get_json("/api/posts/3/comments").await;
    let comments = comments.as_array().unwrap();
    assert_eq!(comments.len(), 5);
    assert!(comments.iter().all(|c| c["post_id"] == 3));

    let res = app
        .post_json(
            "/api/posts/3/comments",
            &json!({"name": "Ann", "email": "ann@example.com", "body": "Nice"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["post_id"], 3);
    assert_eq!(created["name"], "Ann");
    let after = app.get_json("/api/posts/3/comments").await;
    assert_eq!(after.as_array().unwrap().len(), 6);
    assert_eq!(after[5], created, "oldest first, the new one last");

    assert_error(
        app.get("/api/posts/99999/comments").await,
        404,
        "not_found",
        &[],
    )
    .await;
    assert_error(
        app.post_json(
            "/api/posts/99999/comments",
            &json!({"name": "Ann", "email": "ann@example.com", "body": "Nice"}),
        )
        .await,
        404,
        "not_found",
        &[],
    )
    .await;
}

async fn comments_validate_each_field(app: TestApp) {
    let cases: Vec<(Value, &[&str])> = vec![
        (
            json!({"name": "", "email": "a@b.co", "body": "x"}),
            &["name"],
        ),
        (
            json!({"name": "n".repeat(101), "email": "a@b.co", "body": "x"}),
            &["name"],
        ),
        (
            json!({"name": "n", "email": "not-an-email", "body": "x"}),
            &["email"],
        ),
        (
            json!({"name": "n", "email": "a@b.co", "body": ""}),
            &["body"],
        ),
        (
            json!({"name": "", "email": "", "body": ""}),
            &["body", "email", "name"],
        ),
    ];
    for (body, fields) in cases {
        assert_error(
            app.post_json("/api/posts/3/comments", &body).await,
            422,
            "validation_failed",
            fields,
        )
        .await;
    }
    assert_error(
        app.send_raw(
            reqwest::Method::POST,
            "/api/posts/3/comments",
            b"not json".to_vec(),
        )
        .await,
        400,
        "malformed_json",
        &[],
    )
    .await;
    assert_eq!(
        app.get_json("/api/posts/3/comments")
            .await
            .as_array()
            .unwrap()
            .len(),
        5
    );
}
