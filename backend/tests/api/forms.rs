//! The app's forms posted by the browser itself (no JavaScript): the same
//! writes as the JSON API, applied once per key, 303 to the result, 422
//! with what was typed, refused from other sites.

use crate::both_engines;
use crate::helpers::{TestApp, all_items, assert_error, embedded_json};
use serde_json::{Value, json};
use shared::{FORMS_ELEMENT_ID, FormState};

both_engines!(
    a_new_post_applies_once_and_redirects_to_it,
    a_native_submit_and_the_apps_send_with_its_key_apply_once,
    a_post_with_a_first_comment_is_the_publish_workflow,
    refused_input_rerenders_the_page_with_what_was_typed,
    comment_edit_move_delete_and_profile_forms_apply_and_return,
    posts_from_another_site_are_refused,
    what_is_not_a_form_post_is_refused,
    with_sessions_required_a_form_says_to_sign_in_and_keeps_what_was_typed,
);

/// The page's form state (its idempotency key, a refusal).
fn form_state(html: &str) -> FormState {
    embedded_json(html, FORMS_ELEMENT_ID)
}

async fn nonce(app: &TestApp, path: &str) -> String {
    let res = app.get(path).await;
    assert_eq!(res.status(), 200, "{path}");
    let key = form_state(&res.text().await.unwrap()).nonce;
    assert!(key.starts_with("page-"), "{key}");
    key
}

/// Posts `fields` as the browser posts a form; the status and `Location`
/// (or the body, for a page).
async fn submit(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    submit_with(app, path, fields, &[]).await
}

async fn submit_with(
    app: &TestApp,
    path: &str,
    fields: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> (u16, String) {
    let mut req = app
        .client
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(fields).unwrap());
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let res = req.send().await.expect("form POST");
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    match location {
        Some(to) => (status, to),
        None => (status, res.text().await.unwrap()),
    }
}

/// Asserts that posting `fields` to `path` answers 303 to `to`.
async fn redirects(app: &TestApp, path: &str, fields: &[(&str, &str)], to: &str) {
    let (status, answer) = submit(app, path, fields).await;
    let short: String = answer.chars().take(300).collect();
    assert_eq!((status, answer.as_str()), (303, to), "{short}");
}

async fn posts_titled(app: &TestApp, title: &str) -> Vec<Value> {
    all_items(&app.client, &app.address, "/api/posts")
        .await
        .into_iter()
        .filter(|p| p["title"] == title)
        .collect()
}

fn id_of(location: &str) -> i64 {
    location
        .strip_prefix("/posts/")
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a post's page: {location}"))
}

async fn a_new_post_applies_once_and_redirects_to_it(app: TestApp) {
    let key = nonce(&app, "/posts").await;
    let fields = [
        ("idempotency_key", key.as_str()),
        ("title", "Posted without JavaScript"),
        ("body", "A plain form post."),
        ("user_id", "4"),
    ];
    let (status, to) = submit(&app, "/posts", &fields).await;
    assert_eq!(status, 303, "{to}");
    let id = id_of(&to);
    let post = app.get_json(&format!("/api/posts/{id}")).await;
    assert_eq!(post["title"], "Posted without JavaScript");
    assert_eq!(post["user_id"], 4);
    // The result page shows it.
    let page = app.get(&to).await.text().await.unwrap();
    assert!(page.contains("Posted without JavaScript"));

    // A double click, or back and submit again: the same post, once.
    assert_eq!(submit(&app, "/posts", &fields).await, (303, to.clone()));
    assert_eq!(
        posts_titled(&app, "Posted without JavaScript").await.len(),
        1
    );

    // Another post from the same (shared) page is another post.
    let other = [
        ("idempotency_key", key.as_str()),
        ("title", "Another one"),
        ("body", "From the same page."),
        ("user_id", "4"),
    ];
    let (status, to_other) = submit(&app, "/posts", &other).await;
    assert_eq!(status, 303);
    assert_ne!(to_other, to);
    assert_eq!(posts_titled(&app, "Another one").await.len(), 1);

    // Without a key a post is applied as the JSON API without one is.
    let (status, _) = submit(&app, "/posts", &fields[1..]).await;
    assert_eq!(status, 303);
    assert_eq!(
        posts_titled(&app, "Posted without JavaScript").await.len(),
        2
    );
}

async fn a_native_submit_and_the_apps_send_with_its_key_apply_once(app: TestApp) {
    // The page's script gave the native submit a key of its own; the app,
    // taking the page over, sends the same call with it.
    let fields = [
        ("idempotency_key", "form-0123456789abcdef"),
        ("title", "Sent twice"),
        ("body", "Once natively, once by the app."),
        ("user_id", "2"),
    ];
    let (status, to) = submit(&app, "/posts", &fields).await;
    assert_eq!(status, 303);
    let body =
        json!({"user_id": 2, "title": "Sent twice", "body": "Once natively, once by the app."});
    let res = app
        .send_keyed(
            reqwest::Method::POST,
            "/api/posts",
            "form-0123456789abcdef",
            Some(&body),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    let post: Value = res.json().await.unwrap();
    assert_eq!(post["id"], id_of(&to));
    assert_eq!(posts_titled(&app, "Sent twice").await.len(), 1);
}

async fn a_post_with_a_first_comment_is_the_publish_workflow(app: TestApp) {
    let fields = [
        ("idempotency_key", "form-publish-1"),
        ("title", "Published with a comment"),
        ("body", "Both in one submit."),
        ("user_id", "3"),
        ("comment_name", "Ada"),
        ("comment_email", "ada@example.com"),
        ("comment_body", "First!"),
    ];
    let (status, to) = submit(&app, "/posts", &fields).await;
    assert_eq!(status, 303);
    let id = id_of(&to);
    let comments = app.get_json(&format!("/api/posts/{id}/comments")).await;
    assert_eq!(comments["items"][0]["body"], "First!");
    // The app's workflow with the same key replays both steps.
    let res = app
        .send_keyed(
            reqwest::Method::POST,
            &format!("/api/posts/{id}/comments"),
            "form-publish-1:comment",
            Some(&json!({"name": "Ada", "email": "ada@example.com", "body": "First!"})),
        )
        .await
        .unwrap();
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    redirects(&app, "/posts", &fields, &to).await;
    let comments = app.get_json(&format!("/api/posts/{id}/comments")).await;
    assert_eq!(comments["items"].as_array().unwrap().len(), 1);

    // A bad first comment: nothing at all is written.
    let bad = [
        ("idempotency_key", "form-publish-2"),
        ("title", "Never published"),
        ("body", "Its comment is refused."),
        ("user_id", "3"),
        ("comment_name", "Ada"),
        ("comment_email", "not an address"),
        ("comment_body", "Hello"),
    ];
    let (status, html) = submit(&app, "/posts", &bad).await;
    assert_eq!(status, 422);
    let refused = form_state(&html).refused.expect("a refusal");
    assert!(refused.errors.contains_key("comment_email"), "{refused:?}");
    assert!(posts_titled(&app, "Never published").await.is_empty());
}

async fn refused_input_rerenders_the_page_with_what_was_typed(app: TestApp) {
    let before = all_items(&app.client, &app.address, "/api/posts")
        .await
        .len();
    let key = nonce(&app, "/posts").await;
    let typed = "a body worth keeping <script>alert(1)</script>";
    let (status, html) = submit(
        &app,
        "/posts",
        &[
            ("idempotency_key", key.as_str()),
            ("title", "   "),
            ("body", typed),
            ("user_id", "1"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(!html.contains("<script>alert(1)"), "escaped");
    let state = form_state(&html);
    let refused = state.refused.as_ref().expect("a refusal");
    assert_eq!(refused.form, "new-post");
    assert_eq!(refused.fields["body"], typed);
    assert!(refused.errors.contains_key("title"), "{refused:?}");
    assert!(!refused.fields.contains_key("idempotency_key"));
    assert_ne!(state.nonce, key, "a new page, a new key");
    assert_eq!(
        all_items(&app.client, &app.address, "/api/posts")
            .await
            .len(),
        before,
        "nothing written"
    );
    // An author who does not exist: refused in the transaction, kept too.
    let (status, html) = submit(
        &app,
        "/posts",
        &[("title", "t"), ("body", "b"), ("user_id", "999")],
    )
    .await;
    assert_eq!(status, 422);
    let refused = form_state(&html).refused.unwrap();
    assert!(refused.errors.contains_key("user_id"), "{refused:?}");
    // A comment on a post that is gone: the not-found page, the text kept.
    let (status, html) = submit(
        &app,
        "/posts/9999/comments",
        &[("name", "A"), ("email", "a@example.com"), ("body", "kept")],
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(form_state(&html).refused.unwrap().fields["body"], "kept");
}

async fn comment_edit_move_delete_and_profile_forms_apply_and_return(app: TestApp) {
    let post = app.create_post(1, "Formed", "To be changed by forms").await;
    let id = post["id"].as_i64().unwrap();
    let page = format!("/posts/{id}");
    let deep = format!("/posts/{id}/deep");

    let comment = [
        ("idempotency_key", "form-c1"),
        ("return_to", deep.as_str()),
        ("name", "Bo"),
        ("email", "bo@example.com"),
        ("body", "Nice."),
    ];
    let action = format!("/posts/{id}/comments");
    assert_eq!(submit(&app, &action, &comment).await, (303, deep.clone()));
    assert_eq!(submit(&app, &action, &comment).await, (303, deep.clone()));
    let comments = app.get_json(&format!("/api/posts/{id}/comments")).await;
    assert_eq!(comments["items"].as_array().unwrap().len(), 1);

    // An edit that also moves the post to user 2: counts move with it.
    let count = |users: &Value, id: i64| users[(id - 1) as usize]["post_count"].as_i64().unwrap();
    let users = app.get_json("/api/users").await;
    let (one, two) = (count(&users, 1), count(&users, 2));
    let edit = [
        ("idempotency_key", "form-e1"),
        ("return_to", "/elsewhere"),
        ("title", "Formed, edited"),
        ("body", "Changed"),
        ("user_id", "2"),
        ("previous_user_id", "1"),
    ];
    let action = format!("/posts/{id}/edit");
    assert_eq!(submit(&app, &action, &edit).await, (303, page.clone()));
    assert_eq!(submit(&app, &action, &edit).await, (303, page.clone()));
    let edited = app.get_json(&page.replace("/posts", "/api/posts")).await;
    assert_eq!(
        (edited["title"].as_str(), edited["user_id"].as_i64()),
        (Some("Formed, edited"), Some(2))
    );
    let users = app.get_json("/api/users").await;
    assert_eq!((count(&users, 1), count(&users, 2)), (one - 1, two + 1));
    // Refused: the edit's page, the form's values kept.
    let (status, html) = submit(
        &app,
        &action,
        &[("title", ""), ("body", "still here"), ("user_id", "2")],
    )
    .await;
    assert_eq!(status, 422);
    let refused = form_state(&html).refused.unwrap();
    assert_eq!(
        (refused.form.as_str(), refused.fields["body"].as_str()),
        ("edit-post", "still here")
    );

    let profile = [
        ("idempotency_key", "form-u1"),
        ("name", "Renamed By Form"),
        ("email", "renamed@example.com"),
    ];
    assert_eq!(
        submit(&app, "/users/5", &profile).await,
        (303, "/users/5".to_owned())
    );
    assert_eq!(
        app.get_json("/api/users/5").await["name"],
        "Renamed By Form"
    );

    let delete = [("idempotency_key", "form-d1")];
    let action = format!("/posts/{id}/delete");
    assert_eq!(
        submit(&app, &action, &delete).await,
        (303, "/posts".to_owned())
    );
    // The same delete again (a double click): the first answer, not a 404.
    assert_eq!(
        submit(&app, &action, &delete).await,
        (303, "/posts".to_owned())
    );
    assert_eq!(app.get(&format!("/api/posts/{id}")).await.status(), 404);
}

async fn posts_from_another_site_are_refused(app: TestApp) {
    let fields = [
        ("title", "Forged"),
        ("body", "From elsewhere"),
        ("user_id", "1"),
    ];
    let (status, _) = submit_with(
        &app,
        "/posts",
        &fields,
        &[("origin", "http://evil.example")],
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) =
        submit_with(&app, "/posts", &fields, &[("sec-fetch-site", "cross-site")]).await;
    assert_eq!(status, 403);
    assert!(posts_titled(&app, "Forged").await.is_empty());
    // The page's own origin may post.
    let own = app.address.clone();
    let (status, _) = submit_with(
        &app,
        "/posts",
        &fields,
        &[("origin", own.as_str()), ("sec-fetch-site", "same-origin")],
    )
    .await;
    assert_eq!(status, 303);
}

async fn what_is_not_a_form_post_is_refused(app: TestApp) {
    let res = app.client.post(app.url("/about")).send().await.unwrap();
    assert_eq!(res.status(), 405);
    let res = app
        .client
        .post(app.url("/posts"))
        .header("content-type", "application/json")
        .body(r#"{"title":"x"}"#)
        .send()
        .await
        .unwrap();
    assert_error(res, 400, "unsupported_form", &[]).await;
    let res = app
        .client
        .post(app.url("/posts"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("title=x&idempotency_key=%00bad")
        .send()
        .await
        .unwrap();
    assert_error(res, 400, "invalid_idempotency_key", &[]).await;
    // Pages still answer GET as before.
    assert_eq!(app.get("/posts").await.status(), 200);
}

/// With `--require-sessions`, a form posted without a session, or on
/// another author's post, is refused on its page with what was typed and
/// the reason; nothing changes.
async fn with_sessions_required_a_form_says_to_sign_in_and_keeps_what_was_typed(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let strict =
        crate::helpers::spawn_app_on(&app.database_url, dir, |s| s.require_sessions = true).await;
    let theirs = strict.get_json("/api/users/2/posts").await[0]["id"]
        .as_i64()
        .unwrap();
    let before = strict.get_json(&format!("/api/posts/{theirs}")).await;
    let edit = [
        ("idempotency_key", "form-s1"),
        ("title", "Typed while signed out"),
        ("body", "Kept"),
        ("user_id", "2"),
        ("previous_user_id", "2"),
    ];
    let action = format!("/posts/{theirs}/edit");
    let (status, page) = submit(&strict, &action, &edit).await;
    assert_eq!(status, 401);
    let refused = form_state(&page).refused.expect("the refusal on the page");
    assert_eq!(refused.message.as_deref(), Some("Sign in to do this."));
    assert_eq!(refused.fields["title"], "Typed while signed out");

    let res = strict
        .client
        .post(strict.url("/api/session"))
        .json(&json!({"email": "bret@example.com", "password": "querent-demo"}))
        .send()
        .await
        .unwrap();
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let (status, page) = submit_with(&strict, &action, &edit, &[("Cookie", cookie.as_str())]).await;
    assert_eq!(status, 403);
    let refused = form_state(&page).refused.expect("the refusal on the page");
    assert_eq!(
        refused.message.as_deref(),
        Some("Only its author can change this post.")
    );
    assert_eq!(
        strict.get_json(&format!("/api/posts/{theirs}")).await,
        before,
        "nothing changed"
    );
}
