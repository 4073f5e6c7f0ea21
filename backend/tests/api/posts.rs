use crate::both_engines;
use crate::helpers::{TestApp, assert_error};
use serde_json::{Value, json};

both_engines!(
    list_is_newest_first_with_default_page_size,
    cursor_walks_every_post_exactly_once,
    list_rejects_bad_limit_and_cursor,
    get_post_and_missing_post,
    create_post_persists_and_trims,
    create_post_validates_each_field,
    patch_post_changes_only_given_fields,
    patch_post_rejects_bad_input,
    delete_post_removes_it_and_its_comments,
);

async fn list_is_newest_first_with_default_page_size(app: TestApp) {
    let page = app.get_json("/api/posts").await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 20);
    assert_eq!(items[0]["id"], 100, "the newest seeded post comes first");
    let times: Vec<&str> = items
        .iter()
        .map(|p| p["created_at"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    assert!(page["next_cursor"].is_string());
}

async fn cursor_walks_every_post_exactly_once(app: TestApp) {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/posts?limit=30&cursor={c}"),
            None => "/api/posts?limit=30".into(),
        };
        let page = app.get_json(&path).await;
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_i64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let expected: Vec<i64> = (1..=100).rev().collect();
    assert_eq!(seen, expected);
}

async fn list_rejects_bad_limit_and_cursor(app: TestApp) {
    assert_error(
        app.get("/api/posts?limit=0").await,
        422,
        "validation_failed",
        &["limit"],
    )
    .await;
    assert_error(
        app.get("/api/posts?limit=101").await,
        422,
        "validation_failed",
        &["limit"],
    )
    .await;
    assert_error(
        app.get("/api/posts?limit=ten").await,
        400,
        "invalid_query",
        &[],
    )
    .await;
    assert_error(
        app.get("/api/posts?cursor=garbage").await,
        400,
        "invalid_cursor",
        &[],
    )
    .await;
    assert_eq!(app.get("/api/posts?limit=100").await.status(), 200);
}

async fn get_post_and_missing_post(app: TestApp) {
    let post = app.get_json("/api/posts/7").await;
    assert_eq!(post["id"], 7);
    for field in ["user_id", "title", "body", "created_at", "updated_at"] {
        assert!(!post[field].is_null(), "{field} missing");
    }
    assert_error(app.get("/api/posts/100000").await, 404, "not_found", &[]).await;
    assert_error(app.get("/api/posts/abc").await, 400, "invalid_path", &[]).await;
    assert_error(app.get("/api/posts/%FF%FE").await, 400, "invalid_path", &[]).await;
}

async fn create_post_persists_and_trims(app: TestApp) {
    let created = app.create_post(3, "  Hello  ", " World ").await;
    assert_eq!(created["title"], "Hello");
    assert_eq!(created["body"], "World");
    assert_eq!(created["user_id"], 3);
    let id = created["id"].as_i64().unwrap();
    assert_eq!(app.get_json(&format!("/api/posts/{id}")).await, created);
    let first = app.get_json("/api/posts?limit=1").await;
    assert_eq!(first["items"][0], created, "new posts come first");
    let user = app.get_json("/api/users/3").await;
    assert_eq!(user["post_count"], 11);
}

async fn create_post_validates_each_field(app: TestApp) {
    let long = "x".repeat(201);
    let cases: Vec<(Value, &[&str])> = vec![
        (json!({"user_id": 1, "title": "", "body": "b"}), &["title"]),
        (
            json!({"user_id": 1, "title": long, "body": "b"}),
            &["title"],
        ),
        (
            json!({"user_id": 1, "title": "t", "body": "   "}),
            &["body"],
        ),
        (
            json!({"user_id": 1, "title": "t", "body": "x".repeat(10_001)}),
            &["body"],
        ),
        (
            json!({"user_id": 1, "title": " ", "body": ""}),
            &["body", "title"],
        ),
        (
            json!({"user_id": 9999, "title": "t", "body": "b"}),
            &["user_id"],
        ),
    ];
    for (body, fields) in cases {
        assert_error(
            app.post_json("/api/posts", &body).await,
            422,
            "validation_failed",
            fields,
        )
        .await;
    }
    // Wrong types and unknown fields are refused before validation.
    for body in [
        json!({"user_id": "one", "title": "t", "body": "b"}),
        json!({"title": "t", "body": "b"}),
        json!({"user_id": 1, "title": "t", "body": "b", "admin": true}),
        json!([1, 2]),
    ] {
        assert_error(
            app.post_json("/api/posts", &body).await,
            422,
            "invalid_body",
            &[],
        )
        .await;
    }
    let page = app.get_json("/api/posts?limit=1").await;
    assert_eq!(page["items"][0]["id"], 100, "nothing was written");
}

async fn patch_post_changes_only_given_fields(app: TestApp) {
    let before = app.get_json("/api/posts/5").await;
    let res = app
        .patch_json("/api/posts/5", &json!({"title": "New title"}))
        .await;
    assert_eq!(res.status(), 200);
    let after: Value = res.json().await.unwrap();
    assert_eq!(after["title"], "New title");
    assert_eq!(after["body"], before["body"]);
    assert_eq!(after["created_at"], before["created_at"]);
    assert_ne!(after["updated_at"], before["updated_at"]);
    assert_eq!(app.get_json("/api/posts/5").await, after);

    // Moving a post to another author moves the counts.
    let from = before["user_id"].as_i64().unwrap();
    let to = if from == 1 { 2 } else { 1 };
    let count = |u: Value| u["post_count"].as_i64().unwrap();
    let (from_before, to_before) = (
        count(app.get_json(&format!("/api/users/{from}")).await),
        count(app.get_json(&format!("/api/users/{to}")).await),
    );
    let res = app
        .patch_json("/api/posts/5", &json!({"user_id": to}))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        count(app.get_json(&format!("/api/users/{from}")).await),
        from_before - 1
    );
    assert_eq!(
        count(app.get_json(&format!("/api/users/{to}")).await),
        to_before + 1
    );
}

async fn patch_post_rejects_bad_input(app: TestApp) {
    assert_error(
        app.patch_json("/api/posts/100000", &json!({"title": "x"}))
            .await,
        404,
        "not_found",
        &[],
    )
    .await;
    assert_error(
        app.patch_json("/api/posts/5", &json!({"title": ""})).await,
        422,
        "validation_failed",
        &["title"],
    )
    .await;
    assert_error(
        app.patch_json("/api/posts/5", &json!({})).await,
        422,
        "validation_failed",
        &["body"],
    )
    .await;
    assert_error(
        app.patch_json("/api/posts/5", &json!({"user_id": 4242}))
            .await,
        422,
        "validation_failed",
        &["user_id"],
    )
    .await;
    assert_error(
        app.send_raw(
            reqwest::Method::PATCH,
            "/api/posts/5",
            b"{\"title\":".to_vec(),
        )
        .await,
        400,
        "malformed_json",
        &[],
    )
    .await;
    let post = app.get_json("/api/posts/5").await;
    assert_ne!(post["title"], "", "nothing was written");
}

async fn delete_post_removes_it_and_its_comments(app: TestApp) {
    let before = app.get_json("/api/posts/10").await;
    let author = before["user_id"].as_i64().unwrap();
    let count_before = app.get_json(&format!("/api/users/{author}")).await["post_count"]
        .as_i64()
        .unwrap();
    assert_eq!(
        app.get_json("/api/posts/10/comments").await["items"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    let res = app.delete("/api/posts/10").await;
    assert_eq!(res.status(), 204);
    assert_error(app.get("/api/posts/10").await, 404, "not_found", &[]).await;
    assert_error(
        app.get("/api/posts/10/comments").await,
        404,
        "not_found",
        &[],
    )
    .await;
    assert_error(app.delete("/api/posts/10").await, 404, "not_found", &[]).await;
    let count_after = app.get_json(&format!("/api/users/{author}")).await["post_count"]
        .as_i64()
        .unwrap();
    assert_eq!(count_after, count_before - 1);
    let stats = app.get_json("/api/deferred").await;
    assert_eq!(stats["posts"], 99);
    assert_eq!(stats["comments"], 495);
}
