//! Prerendered pages: state per route, escaping, status codes, assets.

use crate::both_engines;
use crate::helpers::{SseReader, TestApp, embedded_json};
use querent::hydration::{DehydratedQueryState as QueryState, DehydratedState};
use querent::ssr::{STATE_ELEMENT_ID, STREAMED_STATE_PREFIX};
use serde_json::{Value, json};
use shared::{PostId, QueryKey, Route, UserId};

both_engines!(
    a_page_shows_a_write_made_just_before_it,
    every_route_embeds_exactly_its_loader_keys,
    embedded_data_equals_the_api,
    hostile_text_round_trips_and_cannot_close_the_script,
    missing_entities_and_unknown_paths_are_404_pages,
    redirect_assets_and_headers,
    a_page_names_the_last_event_its_data_reflects,
    deferred_data_follows_its_page_in_the_same_response,
);

/// The embedded state of a page.
fn embedded_state(html: &str) -> DehydratedState {
    embedded_json(html, STATE_ELEMENT_ID)
}

/// `key`'s state in `state`.
fn state_of(state: &DehydratedState, key: QueryKey) -> Option<&QueryState> {
    state.get(&querent::QueryKey::of(&key))
}

/// The keys `state` holds, as the app's keys.
fn keys_of(keys: Vec<querent::QueryKey>) -> Vec<QueryKey> {
    keys.iter()
        .map(|k| QueryKey::from_segments(k.segments()).unwrap())
        .collect()
}

async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let res = app.get(path).await;
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

async fn every_route_embeds_exactly_its_loader_keys(app: TestApp) {
    for route in Route::examples() {
        if route == Route::Redirect {
            continue;
        }
        let path = route.path();
        let (status, html) = page(&app, &path).await;
        let expected_status = if route == Route::NotFound { 404 } else { 200 };
        assert_eq!(status, expected_status, "{path}");
        let state = embedded_state(&html);
        // Every page also says who it was rendered for.
        let mut expected = route.loader().all_keys();
        expected.push(QueryKey::Session);
        assert_eq!(keys_of(state.keys()), expected, "{path}");
        assert_eq!(keys_of(state.pending), route.loader().deferred, "{path}");
        assert!(html.contains("<title>"), "{path}");
    }
}

async fn embedded_data_equals_the_api(app: TestApp) {
    let (_, html) = page(&app, "/posts/3").await;
    let state = embedded_state(&html);
    let data = |key| match state_of(&state, key) {
        Some(QueryState::Success { data, .. }) => (**data).clone(),
        other => panic!("{key}: {other:?}"),
    };
    assert_eq!(
        data(QueryKey::Post(PostId(3))),
        app.get_json("/api/posts/3").await
    );
    assert_eq!(
        data(QueryKey::Comments(PostId(3))),
        json!({"pages": [app.get_json("/api/posts/3/comments").await], "page_params": [null]}),
    );
    let list = data(QueryKey::Posts);
    assert_eq!(list["pages"][0], app.get_json("/api/posts").await);
    assert_eq!(list["page_params"], json!([null]));
    let title = app.get_json("/api/posts/3").await["title"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        html.contains(&format!("<title>{title}")),
        "the post's title names the page"
    );

    let (_, html) = page(&app, "/users/2").await;
    let state = embedded_state(&html);
    let Some(QueryState::Success { data, .. }) = state_of(&state, QueryKey::UserPosts(UserId(2)))
    else {
        panic!("user posts embedded");
    };
    assert_eq!(**data, app.get_json("/api/users/2/posts").await);
}

async fn hostile_text_round_trips_and_cannot_close_the_script(app: TestApp) {
    let title = "</script><script>alert(1)</script> <!-- \u{2028}\u{2029} \"quotes\" 'single' & 🎉";
    let body = "</SCRIPT><img src=x onerror=alert(1)> <!--<script> \\u003c &amp; \u{2028}";
    let created = app.create_post(1, title, body).await;
    let id = created["id"].as_i64().unwrap();
    let (status, html) = page(&app, &format!("/posts/{id}")).await;
    assert_eq!(status, 200);
    let open = format!("id=\"{STATE_ELEMENT_ID}\">");
    let start = html.find(&open).unwrap() + open.len();
    let raw = &html[start..start + html[start..].find("</script>").unwrap()];
    for bad in [
        "</script", "</SCRIPT", "<!--", "<script", "\u{2028}", "\u{2029}", "<", ">", "&",
    ] {
        assert!(!raw.contains(bad), "{bad:?} appears raw inside the state");
    }
    let state = embedded_state(&html);
    let Some(QueryState::Success { data, .. }) = state_of(&state, QueryKey::Post(PostId(id)))
    else {
        panic!("post embedded");
    };
    let api: Value = app.get_json(&format!("/api/posts/{id}")).await;
    assert_eq!(
        **data, api,
        "embedded JSON parses back exactly equal to the API's"
    );
    assert_eq!(api["title"], title.trim());
    // The <title> is HTML-escaped too.
    let head_title = &html[html.find("<title>").unwrap()..html.find("</title>").unwrap()];
    assert!(!head_title[7..].contains('<'), "{head_title}");
}

async fn missing_entities_and_unknown_paths_are_404_pages(app: TestApp) {
    for path in [
        "/posts/99999",
        "/posts/99999/deep",
        "/users/999",
        "/no/such/page",
        "/posts/abc",
    ] {
        let (status, html) = page(&app, path).await;
        assert_eq!(status, 404, "{path}");
        let state = embedded_state(&html);
        assert!(html.contains("Not found"), "{path}");
        if path == "/posts/99999" {
            let Some(QueryState::Error {
                http_status, error, ..
            }) = state_of(&state, QueryKey::Post(PostId(99999)))
            else {
                panic!("the missing post is embedded as an error");
            };
            assert_eq!(*http_status, 404);
            assert_eq!(error["error"]["code"], "not_found");
        }
    }
}

async fn redirect_assets_and_headers(app: TestApp) {
    let res = app.get("/redirect").await;
    assert_eq!(res.status(), 307);
    assert_eq!(res.headers()["location"], "/posts");

    // Assets are precompressed once in the background, then served as is.
    let mut encoding = None;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        let res = app
            .client
            .get(app.url("/app-0123456789abcdef.js"))
            .header("accept-encoding", "br, gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["vary"], "accept-encoding");
        // Compressed per request, the body is streamed (no length); the
        // precompressed form is sent whole.
        encoding = res.headers().get("content-encoding").cloned();
        if encoding.is_some() && res.content_length().is_some() {
            break;
        }
        encoding = None;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(encoding.expect("a precompressed response"), "br");

    let res = app.get("/app-0123456789abcdef.js").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers().get("content-encoding").is_none(),
        "identity when not accepted"
    );
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );

    let res = app
        .client
        .get(app.url("/posts"))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["content-encoding"],
        "br",
        "pages are compressed"
    );
    assert_eq!(res.headers()["cache-control"], "no-cache");
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert!(res.headers().contains_key("referrer-policy"));

    let res = app
        .client
        .get(app.url("/api/posts"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["content-encoding"],
        "gzip",
        "API responses are compressed"
    );
}

/// Pages are reused between writes; a client still reads its own writes.
async fn a_page_shows_a_write_made_just_before_it(app: TestApp) {
    let first = |html: &str| match state_of(&embedded_state(html), QueryKey::Posts) {
        Some(QueryState::Success { data, .. }) => data["pages"][0]["items"][0]["title"].clone(),
        other => panic!("posts embedded: {other:?}"),
    };
    let (_, before) = page(&app, "/posts").await;
    let (_, again) = page(&app, "/posts").await;
    assert_eq!(first(&before), first(&again));
    for i in 0..3 {
        let title = format!("fresh {i}");
        app.create_post(2, &title, "b").await;
        let (_, after) = page(&app, "/posts").await;
        assert_eq!(
            first(&after),
            json!(title),
            "the page right after the write shows it"
        );
    }
    assert_eq!(
        app.patch_json("/api/users/2", &json!({"name": "Renamed"}))
            .await
            .status(),
        200
    );
    let (_, users) = page(&app, "/users").await;
    assert!(users.contains("Renamed"));
}

/// `<meta name="live-last-event-id">`: the app's live stream resumes from
/// it, so it must be the id of the newest event the embedded data includes.
async fn a_page_names_the_last_event_its_data_reflects(app: TestApp) {
    let last_event_id = |html: &str| -> i64 {
        let open = "<meta name=\"live-last-event-id\" content=\"";
        let start = html.find(open).expect("the meta element") + open.len();
        let len = html[start..].find('"').expect("its end");
        html[start..start + len].parse().expect("an integer")
    };
    let mut sse = SseReader::connect(&app, None).await;
    for title in ["one", "two"] {
        app.create_post(3, title, "b").await;
        let event = sse
            .next(std::time::Duration::from_secs(10))
            .await
            .expect("the write's event");
        let (_, html) = page(&app, "/posts").await;
        assert_eq!(last_event_id(&html), event.id.unwrap());
        assert!(html.contains(title));
    }
}

/// `/deferred`: the page (with the stats' fallback, the stats pending) is
/// one part of the response, ending with `</body>`; the stats follow in a
/// later part, as a comment holding their state; the document ends after it.
async fn deferred_data_follows_its_page_in_the_same_response(app: TestApp) {
    let mut res = app
        .client
        .get(app.url("/deferred"))
        .header("accept-encoding", "identity")
        .send()
        .await
        .expect("the page");
    assert_eq!(res.status(), 200);
    let mut first = String::new();
    while !first.contains("</body>") {
        let chunk = res.chunk().await.unwrap().expect("the page's first part");
        first.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert!(
        first.ends_with("</body>"),
        "the first part ends with the body"
    );
    assert!(first.contains("Loading stats"), "the fallback is rendered");
    assert!(
        !first.contains(STREAMED_STATE_PREFIX) && !first.contains("deferred-stats"),
        "no stats in the first part"
    );
    assert_eq!(
        keys_of(embedded_state(&first).pending),
        vec![QueryKey::Deferred]
    );
    let mut rest = String::new();
    while let Some(chunk) = res.chunk().await.unwrap() {
        rest.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    let open = format!("<!--{STREAMED_STATE_PREFIX}");
    assert!(rest.starts_with(&open), "{rest}");
    assert!(rest.trim_end().ends_with("</html>"), "{rest}");
    let json = &rest[open.len()..rest.find("-->").unwrap()];
    let streamed: DehydratedState = serde_json::from_str(json).unwrap();
    let Some(QueryState::Success { data, .. }) = state_of(&streamed, QueryKey::Deferred) else {
        panic!("the stats streamed: {streamed:?}");
    };
    let api = app.get_json("/api/deferred").await;
    for count in ["users", "posts", "comments"] {
        assert_eq!(data[count], api[count], "{count}");
    }
    // A page without deferred data is one ordinary response.
    let (_, posts) = page(&app, "/posts").await;
    assert!(!posts.contains(STREAMED_STATE_PREFIX));
}
