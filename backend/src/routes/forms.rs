//! The app's forms posted by the browser itself (no JavaScript, or before
//! the app has taken the page over): `application/x-www-form-urlencoded`
//! posts to the [`FormAction`] paths.
//!
//! Each runs the JSON API's write (same validation, transaction, event and
//! idempotency store), keyed and fingerprinted exactly as the app's own call
//! of that API would be, so a post the browser sent natively and the app's
//! resend with the same key apply once. Applied: `303 See Other` to the
//! page that shows the result (post/redirect/get: a reload shows the page
//! again and posts nothing). Refused: the page re-rendered with what was
//! typed and the field messages (422), nothing changed.
//!
//! Keys: the page's own key (`page-…`, shared by everyone the page was
//! served to) is scoped to what was posted, so the same form posted twice
//! from that page (a double click, back and submit) applies once, and two
//! people's different posts never meet; any other key (the random one a
//! browser with JavaScript puts in as it submits) is used as it is.
//!
//! Cross-site posts are refused (403): `Sec-Fetch-Site` must not be
//! `cross-site`/`same-site`, and an `Origin` must be this host's or one of
//! `--cors-origins`.

use super::api::{self, Write};
use super::pages::refused_page;
use crate::domain::{ValidNewComment, ValidNewPost, ValidPostPatch, ValidUserPatch};
use crate::error::ApiError;
use crate::routes::session::{self, Writer};
use crate::state::AppState;
use crate::write::{self, Answer, IdempotencyKey};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use sha2::{Digest, Sha256};
use shared::forms::{IDEMPOTENCY_FIELD, PAGE_KEY_PREFIX, RETURN_TO_FIELD};
use shared::{
    FormAction, NewComment, NewPost, Post, PostId, PostPatch, RefusedForm, ReturnTo, Route, UserId,
    UserPatch,
};
use std::collections::BTreeMap;

type Fields = BTreeMap<String, String>;

/// `POST` to any non-API path: one of the app's forms, or 405.
pub async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let Some(action) = FormAction::parse(req.path()) else {
        return Err(ApiError::MethodNotAllowed { allow: "GET, HEAD" });
    };
    if !same_site(&req, &state.settings.cors_origins) {
        return Err(ApiError::Forbidden {
            code: "cross_site_form",
            message: "a form of this site may only be posted from this site".into(),
        });
    }
    let form_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form_type {
        return Err(ApiError::bad_request(
            "unsupported_form",
            "a form post must be application/x-www-form-urlencoded",
        ));
    }
    if body.len() > state.settings.max_body_bytes {
        return Err(ApiError::PayloadTooLarge {
            limit: state.settings.max_body_bytes,
        });
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
        .map_err(|_| ApiError::bad_request("invalid_form", "the form body does not decode"))?;
    // One value per name (a repeated name: the last, as a browser would
    // only repeat it for a multi-select, which these forms have none of).
    let fields: Fields = pairs.into_iter().collect();
    let post = FormPost {
        action,
        page: action.page(fields.get(RETURN_TO_FIELD).map(String::as_str)),
        key: fields.get(IDEMPOTENCY_FIELD).cloned(),
        fields,
    };
    match action {
        FormAction::SignIn => return sign_in(&state, &req, &post).await,
        FormAction::SignOut => {
            session::sign_out(&state, &req).await?;
            return Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, post.page.path()))
                .cookie(session::removal_cookie(&req))
                .finish());
        }
        _ => {}
    }
    let applied = match session::writer(&state, &req).await {
        Ok(writer) => apply(&state, &post, writer).await,
        Err(refused) => Err(refused),
    };
    match applied {
        Ok(to) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, to))
            .finish()),
        Err(error) => refuse(&state, &req, &post, error).await,
    }
}

/// A form post, decoded.
struct FormPost {
    action: FormAction,
    /// The page it came from (and returns to).
    page: Route,
    key: Option<String>,
    fields: Fields,
}

impl FormPost {
    fn text(&self, name: &str) -> String {
        self.fields.get(name).cloned().unwrap_or_default()
    }

    /// An author field: a user id, or a field error.
    fn user_id(&self, name: &str) -> Result<UserId, ApiError> {
        self.fields
            .get(name)
            .and_then(|v| v.trim().parse::<i64>().ok())
            .map(UserId)
            .ok_or_else(|| field_error(name, "choose an author"))
    }

    /// The idempotency key of the whole post: the random key a browser
    /// sent as it is; the page's own, scoped to what was posted (see the
    /// module's docs); none: not idempotent (as a JSON call without the
    /// header).
    fn key(&self) -> Result<Option<String>, ApiError> {
        let Some(key) = self.key.as_deref().filter(|k| !k.is_empty()) else {
            return Ok(None);
        };
        if IdempotencyKey::parse(key).is_none() {
            return Err(ApiError::bad_request(
                "invalid_idempotency_key",
                "the form's idempotency key must be 1 to 255 visible ASCII characters",
            ));
        }
        if !key.starts_with(PAGE_KEY_PREFIX) {
            return Ok(Some(key.to_owned()));
        }
        let mut hash = Sha256::new();
        hash.update(self.action.path());
        for (name, value) in &self.fields {
            if name != IDEMPOTENCY_FIELD {
                hash.update([0]);
                hash.update(name);
                hash.update([0]);
                hash.update(value);
            }
        }
        let digest = hash.finalize();
        let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        // `page-…` is at most ~40 characters: well within 255.
        Ok(Some(format!("{key}:{hex}")))
    }
}

fn field_error(name: &str, message: &str) -> ApiError {
    ApiError::Validation([(name.to_owned(), message.to_owned())].into())
}

/// Errors keyed by the form's field names (`prefix` + the API's field).
fn prefixed(e: BTreeMap<String, String>, prefix: &str) -> BTreeMap<String, String> {
    e.into_iter()
        .map(|(k, v)| (format!("{prefix}{k}"), v))
        .collect()
}

/// Runs one JSON API write for the form: keyed `key` (+ `suffix`),
/// fingerprinted as the app's call `method path body` is.
async fn run(
    state: &AppState,
    key: Option<&str>,
    suffix: &str,
    (method, path): (&str, &str),
    body: &impl serde::Serialize,
    apply: impl Write,
) -> Result<Option<serde_json::Value>, ApiError> {
    let key = key.and_then(|k| IdempotencyKey::parse(&format!("{k}{suffix}")));
    let print = api::fingerprint(method, path, body);
    let answer = write::run(&state.db, &state.hub, key, print, apply).await?;
    Ok(match answer {
        Answer::Fresh(outcome) => outcome.body,
        Answer::Replayed { body, .. } if body.is_empty() => None,
        Answer::Replayed { body, .. } => {
            Some(serde_json::from_str(&body).map_err(ApiError::unexpected)?)
        }
    })
}

/// Applies the post; the path to see its result.
async fn apply(state: &AppState, post: &FormPost, writer: Writer) -> Result<String, ApiError> {
    let key = post.key()?;
    let key = key.as_deref();
    let back = post.page.path();
    match post.action {
        FormAction::NewPost => new_post(state, post, key, writer).await,
        // Answered before any write (`submit`).
        FormAction::SignIn | FormAction::SignOut => Err(ApiError::unexpected(
            std::io::Error::other("sign-in and sign-out are not writes"),
        )),
        FormAction::Comment(id) => {
            let comment = NewComment {
                name: post.text("name"),
                email: post.text("email"),
                body: post.text("body"),
            };
            let input = ValidNewComment::parse(comment.clone()).map_err(ApiError::Validation)?;
            let path = format!("/api/posts/{id}/comments");
            let write = api::create_comment_write(id, input);
            run(state, key, "", ("POST", &path), &comment, write).await?;
            Ok(back)
        }
        FormAction::EditPost(id) => {
            let title = post.text("title");
            let body = post.text("body");
            let author = post.user_id("user_id")?;
            // The author the form was shown with (so a resubmit is the same
            // request after the move); else the author now.
            let before = match post.user_id("previous_user_id") {
                Ok(before) => before,
                Err(_) => current_author(state, id).await?,
            };
            let patch = PostPatch {
                title: Some(title),
                body: Some(body),
                // As the app sends it: an author only when it changes.
                user_id: (author != before).then_some(author),
            };
            let valid = ValidPostPatch::parse(patch.clone()).map_err(ApiError::Validation)?;
            let path = format!("/api/posts/{id}");
            let write = api::update_post_write(id, valid, writer);
            run(state, key, "", ("PATCH", &path), &patch, write).await?;
            Ok(back)
        }
        FormAction::DeletePost(id) => {
            let path = format!("/api/posts/{id}");
            run(
                state,
                key,
                "",
                ("DELETE", &path),
                &(),
                api::delete_post_write(id, writer),
            )
            .await?;
            Ok(Route::Posts.path())
        }
        FormAction::EditUser(id) => {
            let patch = UserPatch {
                name: Some(post.text("name")),
                email: Some(post.text("email")),
            };
            let valid = ValidUserPatch::parse(patch.clone()).map_err(ApiError::Validation)?;
            let path = format!("/api/users/{id}");
            let write = api::update_user_write(id, valid, writer);
            run(state, key, "", ("PATCH", &path), &patch, write).await?;
            Ok(back)
        }
    }
}

/// The author of post `id` now (404 if it is gone).
async fn current_author(state: &AppState, id: PostId) -> Result<UserId, ApiError> {
    let db = state.db.clone();
    web::block(move || -> Result<UserId, ApiError> {
        let mut conn = db.conn()?;
        let post = crate::db::repo::get_post(&mut conn, id)?;
        post.map(|p| p.user_id).ok_or(ApiError::NotFound("post"))
    })
    .await?
}

/// The sign-in form: signed in, 303 with the session cookie to the page
/// its `return_to` names (one of the app's, else the posts); refused, the
/// sign-in page again (with that page to go back to) with the email (never
/// the password) and why.
async fn sign_in(
    state: &AppState,
    req: &HttpRequest,
    post: &FormPost,
) -> Result<HttpResponse, ApiError> {
    let credentials = shared::SignIn {
        email: post.text("email"),
        password: post.text("password"),
    };
    match session::sign_in(state, req, credentials).await {
        Ok((_, token)) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, ReturnTo::to(post.page).route().path()))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .cookie(session::session_cookie(req, &token))
            .finish()),
        Err(error) => refuse(state, req, post, error).await,
    }
}

/// A new post, and with a first comment the publish workflow as the app
/// runs it: the post keyed `K:post`, then the comment `K:comment`; both are
/// checked before anything is written, and if the comment's write fails
/// the post is withdrawn (`K:withdraw`).
async fn new_post(
    state: &AppState,
    post: &FormPost,
    key: Option<&str>,
    writer: Writer,
) -> Result<String, ApiError> {
    let new = NewPost {
        user_id: post.user_id("user_id")?,
        title: post.text("title"),
        body: post.text("body"),
    };
    let with_comment = !post.text("comment_body").trim().is_empty();
    let comment = NewComment {
        name: post.text("comment_name"),
        email: post.text("comment_email"),
        body: post.text("comment_body"),
    };
    let valid_post = ValidNewPost::parse(new.clone());
    let valid_comment = with_comment.then(|| ValidNewComment::parse(comment.clone()));
    let (valid_post, valid_comment) = match (valid_post, valid_comment) {
        (Ok(p), None) => (p, None),
        (Ok(p), Some(Ok(c))) => (p, Some(c)),
        (p, c) => {
            let mut errors = p.err().unwrap_or_default();
            if let Some(Err(c)) = c {
                errors.extend(prefixed(c, "comment_"));
            }
            return Err(ApiError::Validation(errors));
        }
    };
    let suffix = if with_comment { ":post" } else { "" };
    let write = api::create_post_write(valid_post, writer);
    let created = run(state, key, suffix, ("POST", "/api/posts"), &new, write).await?;
    let created: Post = created
        .ok_or_else(|| ApiError::unexpected(std::io::Error::other("no post in the answer")))
        .and_then(|v| serde_json::from_value(v).map_err(ApiError::unexpected))?;
    let to = Route::Post(created.id).path();
    let Some(valid_comment) = valid_comment else {
        return Ok(to);
    };
    let path = format!("/api/posts/{}/comments", created.id);
    let write = api::create_comment_write(created.id, valid_comment);
    match run(state, key, ":comment", ("POST", &path), &comment, write).await {
        Ok(_) => Ok(to),
        Err(e) => {
            let path = format!("/api/posts/{}", created.id);
            let withdraw = api::delete_post_write(created.id, writer);
            match run(state, key, ":withdraw", ("DELETE", &path), &(), withdraw).await {
                Ok(_) | Err(ApiError::NotFound(_)) => {}
                Err(w) => {
                    tracing::error!(error = %w, post = %created.id, "a published post could not be withdrawn")
                }
            }
            Err(e)
        }
    }
}

/// The page the post came from, with what was typed and why it was refused.
async fn refuse(
    state: &AppState,
    req: &HttpRequest,
    post: &FormPost,
    error: ApiError,
) -> Result<HttpResponse, ApiError> {
    let (errors, message, status) = match error {
        ApiError::Validation(errors) => (errors, None, StatusCode::UNPROCESSABLE_ENTITY),
        ApiError::Unprocessable { message, .. } => (
            BTreeMap::new(),
            Some(message),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ApiError::NotFound(what) => (
            BTreeMap::new(),
            Some(format!("This {what} no longer exists.")),
            StatusCode::NOT_FOUND,
        ),
        // Not signed in, or not yours: said on the page, what was typed kept.
        ApiError::Unauthorized { message, .. } => {
            (BTreeMap::new(), Some(message), StatusCode::UNAUTHORIZED)
        }
        ApiError::Forbidden { message, .. } => {
            (BTreeMap::new(), Some(message), StatusCode::FORBIDDEN)
        }
        ApiError::TooManyRequests { message, .. } => (
            BTreeMap::new(),
            Some(message),
            StatusCode::TOO_MANY_REQUESTS,
        ),
        // The rest (busy database, malformed key) is the API's own answer.
        other => return Err(other),
    };
    let mut fields = post.fields.clone();
    fields.remove(IDEMPOTENCY_FIELD);
    // A password is never written into a page.
    fields.remove("password");
    let refused = RefusedForm {
        form: post.action.form().to_owned(),
        fields,
        errors,
        message,
    };
    refused_page(state, req, post.page, refused, status).await
}

/// The post comes from a page of this site: an `Origin` (if sent) this
/// host's or configured (the event stream's rule, `events::origin_allowed`),
/// and, unless the `Origin` is a configured one, no `Sec-Fetch-Site` naming
/// another site.
pub(crate) fn same_site(req: &HttpRequest, allowed: &[String]) -> bool {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let configured = header(header::ORIGIN.as_str())
        .is_some_and(|o| allowed.iter().any(|a| a.eq_ignore_ascii_case(o)));
    let cross = matches!(header("sec-fetch-site"), Some("cross-site" | "same-site"));
    configured || (!cross && super::events::origin_allowed(req, allowed))
}
