use crate::both_engines;
use crate::helpers::TestApp;
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::collections::HashSet;

both_engines!(five_hundred_concurrent_creates_are_all_persisted);

async fn five_hundred_concurrent_creates_are_all_persisted(app: TestApp) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(50)
        .build()
        .unwrap();
    let url = app.url("/api/posts");
    let results: Vec<(u16, i64)> = futures_util::stream::iter(0..500)
        .map(|i| {
            let (client, url) = (client.clone(), url.clone());
            async move {
                let res = client
                    .post(&url)
                    .json(
                        &json!({"user_id": i % 10 + 1, "title": format!("Load {i}"), "body": "b"}),
                    )
                    .send()
                    .await
                    .expect("request");
                let status = res.status().as_u16();
                let body: Value = res.json().await.expect("json");
                (status, body["id"].as_i64().unwrap_or(-1))
            }
        })
        .buffer_unordered(50)
        .collect()
        .await;
    assert!(
        results.iter().all(|(s, _)| *s == 201),
        "{:?}",
        results
            .iter()
            .filter(|(s, _)| *s != 201)
            .take(3)
            .collect::<Vec<_>>()
    );
    let ids: HashSet<i64> = results.iter().map(|(_, id)| *id).collect();
    assert_eq!(ids.len(), 500, "every create got its own id");
    let stats = app.get_json("/api/deferred").await;
    assert_eq!(stats["posts"], 600);
    let users = app.get_json("/api/users").await;
    for user in users.as_array().unwrap() {
        assert_eq!(user["post_count"], 60, "{user}");
    }
}
