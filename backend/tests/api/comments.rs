use crate::both_engines;
use crate::helpers::{TestApp, assert_error};
use serde_json::{Value, json};

both_engines!(
    comments_list_and_create,
    comments_come_a_page_at_a_time,
    comments_validate_each_field
);

async fn comments_list_and_create(app: TestApp) {
    let page = app.get_json("/api/posts/3/comments").await;
    let comments = page["items"].as_array().unwrap();
    assert_eq!(comments.len(), 5);
    assert!(comments.iter().all(|c| c["post_id"] == 3));
    assert_eq!(page["next_cursor"], Value::Null, "one page holds them all");

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
    assert_eq!(after["items"].as_array().unwrap().len(), 6);
    assert_eq!(after["items"][0], created, "newest first");

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

/// A post with many comments is read a page at a time: each page newest
/// first, no comment twice or missed, the last page says so, and a comment
/// made between two pages does not shift the next one.
async fn comments_come_a_page_at_a_time(app: TestApp) {
    let mut made = Vec::new();
    for n in 0..7 {
        let body = json!({"name": "Pager", "email": "p@example.com", "body": format!("c{n}")});
        let res = app.post_json("/api/posts/2/comments", &body).await;
        assert_eq!(res.status(), 201);
        made.push(res.json::<Value>().await.unwrap());
    }
    let everything = app.get_json("/api/posts/2/comments?limit=100").await;
    let everything = everything["items"].as_array().unwrap().clone();
    assert_eq!(everything.len(), 12, "5 seeded and 7 new");
    assert_eq!(
        everything[..7],
        made.iter().rev().cloned().collect::<Vec<_>>(),
        "newest first"
    );

    let first = app.get_json("/api/posts/2/comments?limit=5").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 5);
    // A comment arrives between two pages: it belongs before the first.
    let res = app
        .post_json(
            "/api/posts/2/comments",
            &json!({"name": "Late", "email": "l@example.com", "body": "late"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let mut seen: Vec<Value> = first["items"].as_array().unwrap().clone();
    let mut cursor = first["next_cursor"].as_str().unwrap().to_owned();
    loop {
        let page = app
            .get_json(&format!("/api/posts/2/comments?limit=5&cursor={cursor}"))
            .await;
        seen.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, everything, "each comment once, in order");

    assert_error(
        app.get("/api/posts/2/comments?cursor=nonsense").await,
        400,
        "invalid_cursor",
        &[],
    )
    .await;
    assert_error(
        app.get("/api/posts/2/comments?limit=0").await,
        422,
        "validation_failed",
        &["limit"],
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
        app.get_json("/api/posts/3/comments").await["items"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
}
