//! Signing in and out (`/api/session`): the cookie, sessions in the
//! database (another instance and a restart honour them, sign-out ends
//! them everywhere; one in use slides on), one answer for an unknown email
//! and a wrong password, and the sign-in rate limit.

use crate::both_engines;
use crate::helpers::{TestApp, assert_error, spawn_app_on};
use reqwest::Response;
use serde_json::{Value, json};

both_engines!(
    sign_in_and_out,
    sessions_live_in_the_database,
    a_session_in_use_keeps_going_and_an_expired_one_stays_ended,
    wrong_credentials_are_refused_alike_and_limited,
    writes_need_a_session_and_the_owner,
    a_write_with_the_session_from_another_site_is_refused,
    pages_are_rendered_for_their_viewer,
    the_sign_in_and_out_forms_work_without_javascript
);

/// The demo password of every seeded user (the README says it).
const PASSWORD: &str = "querent-demo";

async fn sign_in(app: &TestApp, email: &str, password: &str, cookie: Option<&str>) -> Response {
    let mut req = app
        .client
        .post(app.url("/api/session"))
        .json(&json!({"email": email, "password": password}));
    if let Some(cookie) = cookie {
        req = req.header("Cookie", cookie);
    }
    req.send().await.expect("POST /api/session")
}

/// `session=<token>` from a response's `Set-Cookie`, and the whole header.
fn session_cookie(res: &Response) -> (String, String) {
    let header = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("session="))
        .expect("a session cookie")
        .to_owned();
    let pair = header.split(';').next().unwrap().to_owned();
    (pair, header)
}

async fn who(app: &TestApp, cookie: &str) -> Value {
    let res = app
        .client
        .get(app.url("/api/session"))
        .header("Cookie", cookie)
        .send()
        .await
        .expect("GET /api/session");
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["user"].clone()
}

async fn sign_out(app: &TestApp, cookie: &str) -> Response {
    app.client
        .delete(app.url("/api/session"))
        .header("Cookie", cookie)
        .send()
        .await
        .expect("DELETE /api/session")
}

async fn sign_in_and_out(app: TestApp) {
    assert_eq!(
        app.get_json("/api/session").await,
        json!({"user": null, "sessions_required": false})
    );

    // Any case, surrounding spaces: the stored address.
    let res = sign_in(&app, "  Bret@Example.com ", PASSWORD, None).await;
    assert_eq!(res.status(), 200);
    let (cookie, header) = session_cookie(&res);
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
        assert!(header.contains(attribute), "{attribute} in {header}");
    }
    assert!(!header.contains("Secure"), "not over plain http: {header}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["id"], 1);
    assert_eq!(body["user"]["username"], "Bret");
    assert!(body["user"].get("password_hash").is_none());
    assert_eq!(who(&app, &cookie).await["id"], 1);

    // Signing in again rotates the session: the old token is over.
    let res = sign_in(&app, "antonette@example.com", PASSWORD, Some(&cookie)).await;
    assert_eq!(res.status(), 200);
    let (second, _) = session_cookie(&res);
    assert_ne!(second, cookie);
    assert_eq!(
        who(&app, &cookie).await,
        Value::Null,
        "the replaced session ended"
    );
    assert_eq!(who(&app, &second).await["id"], 2);

    let res = sign_out(&app, &second).await;
    assert_eq!(res.status(), 204);
    let (removed, header) = session_cookie(&res);
    assert_eq!(removed, "session=");
    assert!(header.contains("Max-Age=0"), "{header}");
    assert_eq!(who(&app, &second).await, Value::Null);
    assert_eq!(sign_out(&app, &second).await.status(), 204, "twice is fine");
    assert_eq!(who(&app, "session=made-up").await, Value::Null);

    // A malformed sign-in is refused and signs nobody in.
    let res = app
        .post_json("/api/session", &json!({"email": "", "password": ""}))
        .await;
    assert_error(res, 422, "validation_failed", &["email", "password"]).await;
    let res = app
        .post_json("/api/session", &json!({"email": "bret@example.com"}))
        .await;
    assert_eq!(res.status().as_u16() / 100, 4);
}

/// Runs `sql` on the app's database directly (as another program would).
fn execute_sql(app: &TestApp, sql: &str) {
    use diesel::{Connection, RunQueryDsl};
    let done = if app.database_url.starts_with("postgres") {
        let mut conn = diesel::PgConnection::establish(&app.database_url).expect("PostgreSQL");
        diesel::sql_query(sql).execute(&mut conn)
    } else {
        let mut conn = diesel::SqliteConnection::establish(&app.database_url).expect("SQLite");
        diesel::sql_query(sql).execute(&mut conn)
    };
    done.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Sessions slide: one used near its end is given 30 days again (a day of
/// use moves it once), so a person who keeps coming back stays signed in;
/// an expired one is not revived by being shown again. The cookie is kept
/// by the browser as long as it allows (the database decides).
async fn a_session_in_use_keeps_going_and_an_expired_one_stays_ended(app: TestApp) {
    let hour = 3_600_000;
    let res = sign_in(&app, "bret@example.com", PASSWORD, None).await;
    let (cookie, header) = session_cookie(&res);
    assert!(header.contains("Max-Age=34560000"), "400 days: {header}");
    // 29 days and 23 hours later (its end an hour away), it is used...
    execute_sql(
        &app,
        &format!("UPDATE sessions SET expires_at = {}", now_ms() + hour),
    );
    assert_eq!(who(&app, &cookie).await["id"], 1);
    // ...so it did not end an hour later: its end moved a month on.
    execute_sql(
        &app,
        &format!(
            "DELETE FROM sessions WHERE expires_at < {}",
            now_ms() + 29 * 24 * hour
        ),
    );
    assert_eq!(who(&app, &cookie).await["id"], 1, "slid on");

    // Expired: ended, and being shown again does not move its end (given
    // an hour back by hand, it has that hour, not a month).
    execute_sql(
        &app,
        &format!("UPDATE sessions SET expires_at = {}", now_ms() - 1),
    );
    assert_eq!(who(&app, &cookie).await, Value::Null);
    execute_sql(
        &app,
        &format!("UPDATE sessions SET expires_at = expires_at + {hour}"),
    );
    execute_sql(
        &app,
        &format!(
            "DELETE FROM sessions WHERE expires_at > {}",
            now_ms() + 2 * hour
        ),
    );
    assert_eq!(
        who(&app, &cookie).await["id"],
        1,
        "not revived when shown expired"
    );
}

async fn sessions_live_in_the_database(app: TestApp) {
    let res = sign_in(&app, "bret@example.com", PASSWORD, None).await;
    let (cookie, _) = session_cookie(&res);

    // A second instance on the same database honours it...
    let dir = tempfile::tempdir().unwrap();
    let other = spawn_app_on(&app.database_url, dir, |_| {}).await;
    assert_eq!(who(&other, &cookie).await["id"], 1);
    // ...and one that starts later (nothing kept in memory) too.
    drop(other);
    let dir = tempfile::tempdir().unwrap();
    let restarted = spawn_app_on(&app.database_url, dir, |_| {}).await;
    assert_eq!(who(&restarted, &cookie).await["id"], 1);
    // Signing out on one ends it on every instance.
    assert_eq!(sign_out(&restarted, &cookie).await.status(), 204);
    assert_eq!(who(&app, &cookie).await, Value::Null);
}

async fn wrong_credentials_are_refused_alike_and_limited(app: TestApp) {
    let wrong = sign_in(&app, "bret@example.com", "not-it", None).await;
    let unknown = sign_in(&app, "nobody@example.com", PASSWORD, None).await;
    let (wrong_status, unknown_status) = (wrong.status(), unknown.status());
    assert!(wrong.headers().get("set-cookie").is_none());
    let (wrong, unknown): (Value, Value) =
        (wrong.json().await.unwrap(), unknown.json().await.unwrap());
    assert_eq!((wrong_status.as_u16(), unknown_status.as_u16()), (401, 401));
    assert_eq!(wrong, unknown, "the same answer for both");
    assert_eq!(wrong["error"]["code"], "invalid_credentials");

    // Five misses for one email: the sixth try is refused, even with the
    // right password, and says when to come back.
    for _ in 0..4 {
        assert_eq!(
            sign_in(&app, "BRET@example.com", "nope", None)
                .await
                .status(),
            401
        );
    }
    let limited = sign_in(&app, "bret@example.com", PASSWORD, None).await;
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().get("set-cookie").is_none());
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((800..=900).contains(&retry), "about 15 minutes: {retry}");
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_attempts");

    // Another account from the same address still signs in...
    let res = sign_in(&app, "antonette@example.com", PASSWORD, None).await;
    assert_eq!(res.status(), 200);
    // ...until the address has missed twenty times (6 so far).
    for i in 0..14 {
        let email = format!("guess{i}@example.com");
        assert_eq!(
            sign_in(&app, &email, "x", None).await.status(),
            401,
            "{email}"
        );
    }
    let res = sign_in(&app, "antonette@example.com", PASSWORD, None).await;
    assert_eq!(res.status(), 429, "the address used its twenty");
}

/// A write with these headers (a JSON body when given).
async fn write(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Response {
    let mut req = app.client.request(method, app.url(path));
    if let Some(body) = body {
        req = req.json(&body);
    }
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.expect("a write")
}

/// A post of `user`'s (its id).
async fn a_post_of(app: &TestApp, user: i64) -> i64 {
    app.get_json(&format!("/api/users/{user}/posts")).await[0]["id"]
        .as_i64()
        .expect("the user has posts")
}

async fn writes_need_a_session_and_the_owner(app: TestApp) {
    use reqwest::Method;
    let dir = tempfile::tempdir().unwrap();
    let strict = spawn_app_on(&app.database_url, dir, |s| s.require_sessions = true).await;
    let (mine, theirs) = (a_post_of(&strict, 1).await, a_post_of(&strict, 2).await);
    let their_post = strict.get_json(&format!("/api/posts/{theirs}")).await;
    let edit = json!({"title": "Changed"});
    let new_post = |user: i64| json!({"user_id": user, "title": "T", "body": "B"});
    let comment = json!({"name": "N", "email": "n@example.com", "body": "Hi"});

    // Without a session every write is refused and nothing changes.
    let refused = [
        (Method::POST, "/api/posts".to_owned(), Some(new_post(1))),
        (
            Method::PATCH,
            format!("/api/posts/{mine}"),
            Some(edit.clone()),
        ),
        (Method::DELETE, format!("/api/posts/{mine}"), None),
        (
            Method::POST,
            format!("/api/posts/{mine}/comments"),
            Some(comment.clone()),
        ),
        (
            Method::PATCH,
            "/api/users/1".to_owned(),
            Some(json!({"name": "X"})),
        ),
    ];
    for (method, path, body) in refused.clone() {
        let res = write(&strict, method.clone(), &path, body, &[]).await;
        assert_error(res, 401, "unauthenticated", &[]).await;
    }
    let before_users = strict.get_json("/api/users").await;
    assert_eq!(
        before_users[0]["post_count"],
        app.get_json("/api/users/1").await["post_count"]
    );

    // Signed in as user 1: someone else's post or profile is not theirs.
    let res = sign_in(&strict, "bret@example.com", PASSWORD, None).await;
    let (cookie, _) = session_cookie(&res);
    let me: &[(&str, &str)] = &[("Cookie", cookie.as_str())];
    for (method, path, body) in [
        (
            Method::PATCH,
            format!("/api/posts/{theirs}"),
            Some(edit.clone()),
        ),
        (
            Method::PATCH,
            format!("/api/posts/{theirs}"),
            Some(json!({"user_id": 1})),
        ),
        (Method::DELETE, format!("/api/posts/{theirs}"), None),
        (Method::POST, "/api/posts".to_owned(), Some(new_post(2))),
        (
            Method::PATCH,
            "/api/users/2".to_owned(),
            Some(json!({"name": "X"})),
        ),
    ] {
        let res = write(&strict, method.clone(), &path, body, me).await;
        assert_error(res, 403, "forbidden", &[]).await;
    }
    assert_eq!(
        strict.get_json(&format!("/api/posts/{theirs}")).await,
        their_post
    );
    assert_eq!(
        strict.get_json("/api/users").await,
        before_users,
        "nothing changed"
    );

    // Their own: every write goes through.
    let res = write(
        &strict,
        Method::PATCH,
        &format!("/api/posts/{mine}"),
        Some(edit),
        me,
    )
    .await;
    assert_eq!(res.status(), 200);
    let res = write(&strict, Method::POST, "/api/posts", Some(new_post(1)), me).await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["user_id"], 1);
    let path = format!("/api/posts/{mine}/comments");
    assert_eq!(
        write(&strict, Method::POST, &path, Some(comment), me)
            .await
            .status(),
        201
    );
    let res = write(
        &strict,
        Method::PATCH,
        "/api/users/1",
        Some(json!({"name": "Bret"})),
        me,
    )
    .await;
    assert_eq!(res.status(), 200);
    let path = format!("/api/posts/{}", created["id"]);
    assert_eq!(
        write(&strict, Method::DELETE, &path, None, me)
            .await
            .status(),
        204
    );

    // A session that ended: said so.
    assert_eq!(sign_out(&strict, &cookie).await.status(), 204);
    let res = write(
        &strict,
        Method::PATCH,
        &format!("/api/posts/{mine}"),
        Some(json!({"title": "Again"})),
        me,
    )
    .await;
    assert_error(res, 401, "session_expired", &[]).await;

    // Without `--require-sessions` (the other instance) anyone still may.
    let res = write(
        &app,
        Method::PATCH,
        &format!("/api/posts/{theirs}"),
        Some(json!({"title": "Open"})),
        &[],
    )
    .await;
    assert_eq!(res.status(), 200);
}

async fn a_write_with_the_session_from_another_site_is_refused(app: TestApp) {
    use reqwest::Method;
    let mine = a_post_of(&app, 1).await;
    let path = format!("/api/posts/{mine}");
    let before = app.get_json(&path).await;
    let res = sign_in(&app, "bret@example.com", PASSWORD, None).await;
    let (cookie, _) = session_cookie(&res);
    let edit = || Some(json!({"title": "Forged"}));
    for headers in [
        vec![
            ("Cookie", cookie.as_str()),
            ("Origin", "https://evil.example"),
        ],
        vec![("Cookie", cookie.as_str()), ("Origin", "null")],
        vec![
            ("Cookie", cookie.as_str()),
            ("Sec-Fetch-Site", "cross-site"),
        ],
        vec![("Cookie", cookie.as_str()), ("Sec-Fetch-Site", "same-site")],
    ] {
        let res = write(&app, Method::PATCH, &path, edit(), &headers).await;
        assert_error(res, 403, "cross_site_request", &[]).await;
    }
    assert_eq!(app.get_json(&path).await, before, "nothing changed");

    // From the app's own origin, or from a client that is no browser.
    let own = app.address.clone();
    let ok = [
        vec![("Cookie", cookie.as_str()), ("Origin", own.as_str())],
        vec![
            ("Cookie", cookie.as_str()),
            ("Sec-Fetch-Site", "same-origin"),
        ],
        vec![("Cookie", cookie.as_str())],
        // No cookie: no session to borrow.
        vec![("Origin", "https://evil.example")],
    ];
    for headers in ok {
        let res = write(
            &app,
            Method::PATCH,
            &path,
            Some(json!({"title": "Fine"})),
            &headers,
        )
        .await;
        assert_eq!(res.status(), 200, "{headers:?}");
    }
}

/// The `["session"]` query a page embeds: its `user` (`null` signed out).
fn page_viewer(html: &str) -> Value {
    let state: querent::hydration::DehydratedState =
        crate::helpers::embedded_json(html, querent::ssr::STATE_ELEMENT_ID);
    let key = querent::QueryKey::of(&shared::QueryKey::Session);
    match state.get(&key) {
        Some(querent::hydration::DehydratedQueryState::Success { data, .. }) => {
            data["user"].clone()
        }
        other => panic!("no session in the page: {other:?}"),
    }
}

/// A page's headers and HTML, asked for with `cookie`.
async fn page_for(
    app: &TestApp,
    path: &str,
    cookie: Option<&str>,
) -> (reqwest::header::HeaderMap, String) {
    let mut req = app.client.get(app.url(path));
    if let Some(cookie) = cookie {
        req = req.header("Cookie", cookie);
    }
    let res = req.send().await.expect("a page");
    assert_eq!(res.status(), 200, "{path}");
    let headers = res.headers().clone();
    (headers, res.text().await.unwrap())
}

async fn pages_are_rendered_for_their_viewer(app: TestApp) {
    // A signed-out visitor's page is kept and shared...
    let (first, html) = page_for(&app, "/posts", None).await;
    assert_eq!(page_viewer(&html), Value::Null);
    assert!(first.get("etag").is_some(), "shared pages revalidate");
    let cookie = session_cookie(&sign_in(&app, "bret@example.com", PASSWORD, None).await).0;
    // ...never served to a signed-in one, whose page is theirs alone...
    for path in ["/posts", "/posts/3", "/users/2", "/sign-in"] {
        let (res, html) = page_for(&app, path, Some(&cookie)).await;
        assert_eq!(page_viewer(&html)["id"], 1, "{path}");
        assert!(html.contains("Signed in as"), "the header says so: {path}");
        let cache = res["cache-control"].to_str().unwrap().to_owned();
        assert!(
            cache.contains("private") && cache.contains("no-store"),
            "{cache}"
        );
        assert!(res.get("etag").is_none(), "{path}");
    }
    // ...and the reverse: the signed-in render was not kept for others.
    let (_, html) = page_for(&app, "/posts", None).await;
    assert_eq!(page_viewer(&html), Value::Null);
    assert!(!html.contains("Signed in as"));
    let other = session_cookie(&sign_in(&app, "antonette@example.com", PASSWORD, None).await).0;
    let (_, html) = page_for(&app, "/posts", Some(&other)).await;
    assert_eq!(page_viewer(&html)["id"], 2);
    let at = html.find("Signed in as").expect("the header");
    let header = &html[at..at + 60];
    assert!(header.contains("Ervin Howell"), "{header}");
    assert!(!header.contains("Leanne"), "no trace of the first viewer");

    // An ended session gets the shared page, and its cookie is removed.
    assert_eq!(sign_out(&app, &cookie).await.status(), 204);
    let (res, html) = page_for(&app, "/posts", Some(&cookie)).await;
    assert_eq!(page_viewer(&html), Value::Null);
    assert!(
        res.get_all("set-cookie")
            .iter()
            .any(|v| v.to_str().unwrap().starts_with("session=;")),
        "the dead cookie goes"
    );
}

/// A form post, as a browser without JavaScript sends it from this site.
async fn form(
    app: &TestApp,
    path: &str,
    fields: &[(&str, &str)],
    cookie: Option<&str>,
) -> Response {
    let mut req = app
        .client
        .post(app.url(path))
        .header("Origin", app.address.as_str())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(fields).unwrap());
    if let Some(cookie) = cookie {
        req = req.header("Cookie", cookie);
    }
    req.send().await.expect("a form post")
}

async fn the_sign_in_and_out_forms_work_without_javascript(app: TestApp) {
    // Wrong password: the sign-in page again, with the email but never the
    // password, and why; no cookie.
    let res = form(
        &app,
        "/sign-in",
        &[("email", "bret@example.com"), ("password", "wrong-secret")],
        None,
    )
    .await;
    assert_eq!(res.status(), 401);
    assert!(res.headers().get("set-cookie").is_none());
    let html = res.text().await.unwrap();
    assert!(html.contains("Wrong email or password."), "{html}");
    assert!(html.contains("bret@example.com"));
    assert!(!html.contains("wrong-secret"), "a password is never echoed");

    // Right: 303 to the posts with the session cookie.
    let res = form(
        &app,
        "/sign-in",
        &[("email", "bret@example.com"), ("password", PASSWORD)],
        None,
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/posts");
    let (cookie, header) = session_cookie(&res);
    assert!(header.contains("HttpOnly"), "{header}");
    assert_eq!(who(&app, &cookie).await["id"], 1);

    // From a sign-in link on a page: back to that page once signed in; a
    // refusal keeps it; never to another site or a page that is not one.
    let res = form(
        &app,
        "/sign-in",
        &[
            ("email", "bret@example.com"),
            ("password", "wrong-secret"),
            ("return_to", "/users/2"),
        ],
        None,
    )
    .await;
    assert_eq!(res.status(), 401);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(r#"value="/users/2" type="hidden" name="return_to""#),
        "the refused form keeps its page: {html}"
    );
    for (return_to, location) in [
        ("/users/2", "/users/2"),
        ("/transition/count/query?n=5", "/transition/count/query?n=5"),
        ("//evil.example/posts", "/posts"),
        ("https://evil.example/", "/posts"),
        ("/sign-in", "/posts"),
        ("/no-such-page", "/posts"),
    ] {
        let res = form(
            &app,
            "/sign-in",
            &[
                ("email", "bret@example.com"),
                ("password", PASSWORD),
                ("return_to", return_to),
            ],
            None,
        )
        .await;
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], location, "{return_to}");
    }
    // The sign-in page a link opens carries its page into the form.
    let html = app
        .get("/sign-in?return_to=%2Fposts%2F3")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(r#"value="/posts/3" type="hidden" name="return_to""#),
        "{html}"
    );

    // From another site: refused, nobody signed in (login CSRF).
    let res = app
        .client
        .post(app.url("/sign-in"))
        .header("Origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            serde_urlencoded::to_string([("email", "bret@example.com"), ("password", PASSWORD)])
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.headers().get("set-cookie").is_none());

    // Signing out: back to the page it was sent from, the session over.
    let res = form(
        &app,
        "/sign-out",
        &[("return_to", "/posts/3")],
        Some(&cookie),
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/posts/3");
    assert_eq!(session_cookie(&res).0, "session=");
    assert_eq!(who(&app, &cookie).await, Value::Null);
}
