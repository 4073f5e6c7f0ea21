//! Reused answers and conditional requests: every cacheable read carries a
//! strong `ETag` derived from its JSON; `If-None-Match` with it is a `304`
//! with no body; the tag changes exactly when the answer does, for every
//! kind of write, on this instance and on another one sharing PostgreSQL.

use crate::both_engines;
use crate::helpers::{TestApp, fresh_postgres_database, spawn_app_on};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

both_engines!(
    a_matching_tag_is_answered_304_without_a_body,
    tags_change_exactly_when_the_answer_changes,
    a_writer_reads_its_own_write_at_once,
);

/// The reads a client makes, by name.
const READS: &[&str] = &[
    "/api/posts",
    "/api/posts?limit=5",
    "/api/posts/3",
    "/api/posts/4",
    "/api/posts/3/comments",
    "/api/posts/4/comments",
    "/api/users",
    "/api/users/1",
    "/api/users/2",
    "/api/users/1/posts",
    "/api/users/2/posts",
];

async fn tag(app: &TestApp, path: &str) -> String {
    let res = app.get(path).await;
    assert_eq!(res.status(), 200, "{path}");
    assert_eq!(
        res.headers()["cache-control"],
        "no-cache",
        "{path} is revalidated"
    );
    res.headers()
        .get("etag")
        .unwrap_or_else(|| panic!("{path} has an ETag"))
        .to_str()
        .unwrap()
        .to_owned()
}

/// Every read's tag and body, from the same answer.
async fn snapshot(app: &TestApp) -> BTreeMap<&'static str, (String, String)> {
    let mut out = BTreeMap::new();
    for path in READS {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        let etag = res.headers()["etag"].to_str().unwrap().to_owned();
        out.insert(*path, (etag, res.text().await.unwrap()));
    }
    out
}

/// Asserts each read's tag changed exactly where its body did; returns the
/// reads that changed.
fn changed(
    before: &BTreeMap<&'static str, (String, String)>,
    after: &BTreeMap<&'static str, (String, String)>,
) -> Vec<&'static str> {
    READS
        .iter()
        .copied()
        .filter(|p| {
            let (tag_changed, body_changed) =
                (before[p].0 != after[p].0, before[p].1 != after[p].1);
            assert_eq!(
                tag_changed, body_changed,
                "{p}: the tag changed iff the body did"
            );
            body_changed
        })
        .collect()
}

async fn a_matching_tag_is_answered_304_without_a_body(app: TestApp) {
    for path in READS {
        let etag = tag(&app, path).await;
        assert!(etag.starts_with('"'), "a strong tag: {etag}");
        let res = app
            .client
            .get(app.url(path))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 304, "{path}");
        assert_eq!(res.headers()["etag"].to_str().unwrap(), etag);
        assert!(res.bytes().await.unwrap().is_empty(), "{path}: no body");
        let other = app
            .client
            .get(app.url(path))
            .header("if-none-match", "\"something-else\"")
            .send()
            .await
            .unwrap();
        assert_eq!(other.status(), 200, "{path}: another tag gets the body");
        // The tag names the JSON, whichever coding carries it.
        let br = app
            .client
            .get(app.url(path))
            .header("accept-encoding", "br")
            .send()
            .await
            .unwrap();
        assert_eq!(br.headers()["etag"].to_str().unwrap(), etag, "{path}");
    }
    // The slow aggregate and missing things are not tagged.
    assert!(
        app.get("/api/deferred")
            .await
            .headers()
            .get("etag")
            .is_none()
    );
    assert!(
        app.get("/api/posts/99999")
            .await
            .headers()
            .get("etag")
            .is_none()
    );
    // A page is tagged too, and revalidates the same way.
    let page = app.get("/posts/3").await;
    let etag = page.headers()["etag"].to_str().unwrap().to_owned();
    let again = app
        .client
        .get(app.url("/posts/3"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
}

async fn tags_change_exactly_when_the_answer_changes(app: TestApp) {
    let start = snapshot(&app).await;
    assert!(
        changed(&start, &snapshot(&app).await).is_empty(),
        "no write, no change"
    );

    // A comment on post 4.
    let res = app
        .post_json(
            "/api/posts/4/comments",
            &json!({"name": "N", "email": "n@example.com", "body": "hello"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let after_comment = snapshot(&app).await;
    let got = changed(&start, &after_comment);
    assert!(got.contains(&"/api/posts/4/comments"), "{got:?}");
    assert!(
        !got.contains(&"/api/posts/3/comments") && !got.contains(&"/api/posts/4"),
        "{got:?}"
    );

    // Editing post 3.
    let res = app
        .patch_json("/api/posts/3", &json!({"title": "A new title"}))
        .await;
    assert_eq!(res.status(), 200);
    let after_edit = snapshot(&app).await;
    let got = changed(&after_comment, &after_edit);
    assert!(got.contains(&"/api/posts/3"), "{got:?}");
    assert!(
        !got.contains(&"/api/posts/4") && !got.contains(&"/api/posts/4/comments"),
        "{got:?}"
    );

    // Renaming user 2.
    let res = app
        .patch_json("/api/users/2", &json!({"name": "Two"}))
        .await;
    assert_eq!(res.status(), 200);
    let after_rename = snapshot(&app).await;
    let got = changed(&after_edit, &after_rename);
    assert!(
        got.contains(&"/api/users/2") && got.contains(&"/api/users"),
        "{got:?}"
    );
    assert!(
        !got.contains(&"/api/users/1") && !got.contains(&"/api/posts/3"),
        "{got:?}"
    );

    // A new post by user 1, then its deletion: the list is back as it was,
    // with the tag it had.
    let created = app.create_post(1, "Fresh", "Body").await;
    let after_create = snapshot(&app).await;
    let got = changed(&after_rename, &after_create);
    assert!(
        got.contains(&"/api/posts") && got.contains(&"/api/users/1/posts"),
        "{got:?}"
    );
    assert!(
        !got.contains(&"/api/posts/3") && !got.contains(&"/api/users/2"),
        "{got:?}"
    );
    let res = app.delete(&format!("/api/posts/{}", created["id"])).await;
    assert_eq!(res.status(), 204);
    let after_delete = snapshot(&app).await;
    changed(&after_create, &after_delete);
    assert_eq!(after_delete["/api/posts"], after_rename["/api/posts"]);
}

async fn a_writer_reads_its_own_write_at_once(app: TestApp) {
    let author = app.get_json("/api/posts/5").await["user_id"]
        .as_i64()
        .unwrap();
    let by_author = format!("/api/users/{author}/posts");
    for n in 0..20 {
        // Read (and so keep) the answers, then write and read again at once.
        let _ = app.get_json("/api/posts/5").await;
        let _ = app.get_json(&by_author).await;
        let title = format!("Title {n}");
        let res = app
            .patch_json("/api/posts/5", &json!({"title": title}))
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(app.get_json("/api/posts/5").await["title"], title);
        let listed = app.get_json(&by_author).await;
        let listed = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == 5)
            .map(|p| p["title"].clone());
        assert_eq!(listed, Some(json!(title)));
    }
}

/// Two instances on one PostgreSQL database: a write through A changes the
/// tag B answers with, once B has heard A's event (one event round trip).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_instances_write_changes_this_instances_tag() {
    let Some(url) = fresh_postgres_database() else {
        return;
    };
    let a = spawn_app_on(&url, tempfile::tempdir().unwrap(), |_| {}).await;
    let b = spawn_app_on(&url, tempfile::tempdir().unwrap(), |_| {}).await;
    let before = tag(&b, "/api/posts/6").await;
    let unrelated = tag(&b, "/api/posts/7").await;
    assert_eq!(tag(&b, "/api/posts/6").await, before, "kept on B");
    let res = a
        .patch_json("/api/posts/6", &json!({"title": "Written on A"}))
        .await;
    assert_eq!(res.status(), 200);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let now = tag(&b, "/api/posts/6").await;
        if now != before {
            assert_eq!(b.get_json("/api/posts/6").await["title"], "Written on A");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "B still answers with the old tag 10 s after A's write"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(tag(&b, "/api/posts/7").await, unrelated);
}
