//! `/api/session`: who is signed in, sign in, sign out (see
//! [`crate::accounts`]).

use crate::accounts::{self, SESSION_COOKIE, SignInError};
use crate::error::ApiError;
use crate::openapi::WriteErrors;
use crate::state::AppState;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieAge};
use actix_web::{HttpRequest, HttpResponse, web};
use shared::{ErrorBody, SessionInfo, SignIn};

type Data = web::Data<AppState>;

/// The session token the request carries, if any.
pub(crate) fn token_of(req: &HttpRequest) -> Option<String> {
    req.cookie(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|t| !t.is_empty())
}

/// The session cookie: `HttpOnly`, `SameSite=Lax`, `Secure` when the page
/// was asked for over https; `token` empty and `Max-Age=0` to remove it.
fn cookie(req: &HttpRequest, token: &str, max_age_ms: i64) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token.to_owned())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(req.connection_info().scheme() == "https")
        .max_age(CookieAge::milliseconds(max_age_ms))
        .finish()
}

/// The user whose live session `token` names.
pub(crate) async fn viewer(
    state: &AppState,
    token: String,
) -> Result<Option<shared::User>, ApiError> {
    let db = state.db.clone();
    web::block(move || -> Result<_, ApiError> {
        let mut conn = db.conn()?;
        Ok(accounts::viewer(&mut conn, &token, crate::write::now_ms())?)
    })
    .await?
}

/// Who is signed in.
#[utoipa::path(get, path = "/api/session", tag = "session",
    responses(
        (status = 200, description = "The signed-in user, or `null` (no session, or it expired or was ended)", body = SessionInfo),
        crate::openapi::ReadErrors,
    ))]
#[tracing::instrument(skip_all)]
pub async fn get_session(state: Data, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let user = match token_of(&req) {
        Some(token) => viewer(&state, token).await?,
        None => None,
    };
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(info(&state, user)))
}

/// Signs in: a new session (the cookie), replacing any the request carried.
#[utoipa::path(post, path = "/api/session", tag = "session", request_body = SignIn,
    responses(
        (status = 200, description = "Signed in; the `session` cookie is set (`HttpOnly`, `SameSite=Lax`, `Secure` over https)", body = SessionInfo),
        (status = 401, description = "Unknown email or wrong password (`invalid_credentials`; the same for both)", body = ErrorBody),
        (status = 403, description = "Posted from a page of another site (`cross_site_request`)", body = ErrorBody),
        (status = 429, description = "Too many failed sign-ins for this email or from this address (`too_many_attempts`); try again after `Retry-After` seconds",
            body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
        WriteErrors,
    ))]
#[tracing::instrument(skip_all)]
pub async fn create_session(
    state: Data,
    req: HttpRequest,
    body: web::Json<SignIn>,
) -> Result<HttpResponse, ApiError> {
    // Login CSRF: a page of another site must not sign this browser into
    // an account of its choosing.
    if !super::forms::same_site(&req, &state.settings.cors_origins) {
        return Err(cross_site());
    }
    let (user, token) = sign_in(&state, &req, body.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .cookie(session_cookie(&req, &token))
        .json(info(&state, Some(user))))
}

/// What `GET /api/session` says of `user`.
pub(crate) fn info(state: &AppState, user: Option<shared::User>) -> SessionInfo {
    SessionInfo {
        user,
        sessions_required: state.settings.require_sessions,
    }
}

/// Checks `sign_in` (the JSON API's and the sign-in form's rule) and opens
/// a session: the user and the new session's token (the cookie's value,
/// [`session_cookie`]). The caller has checked the request is same-site.
pub(crate) async fn sign_in(
    state: &AppState,
    req: &HttpRequest,
    sign_in: SignIn,
) -> Result<(shared::User, String), ApiError> {
    let SignIn { email, password } = sign_in;
    let mut fields = crate::domain::FieldErrors::new();
    if email.trim().is_empty() {
        fields.insert("email".into(), "is required".into());
    } else if email.chars().count() > 254 {
        fields.insert("email".into(), "is at most 254 characters".into());
    }
    if password.is_empty() {
        fields.insert("password".into(), "is required".into());
    } else if password.chars().count() > 1024 {
        fields.insert("password".into(), "is at most 1024 characters".into());
    }
    if !fields.is_empty() {
        return Err(ApiError::Validation(fields));
    }
    let address = crate::limits::client_address(req, &state.settings.trusted_proxies).to_string();
    let replaced = token_of(req);
    let db = state.db.clone();
    let signed_in = web::block(move || -> Result<_, ApiError> {
        let mut conn = db.conn()?;
        let now = crate::write::now_ms();
        match accounts::sign_in(
            &mut conn,
            &email,
            &password,
            &address,
            replaced.as_deref(),
            now,
        ) {
            Ok(done) => Ok(done),
            Err(SignInError::Invalid) => Err(ApiError::Unauthorized {
                code: "invalid_credentials",
                message: "Wrong email or password.".into(),
            }),
            Err(SignInError::Limited { retry_after_secs }) => Err(ApiError::TooManyRequests {
                code: "too_many_attempts",
                message: format!(
                    "Too many failed sign-ins; try again in {retry_after_secs} seconds."
                ),
                retry_after_secs,
            }),
            Err(SignInError::Db(e)) => Err(e.into()),
        }
    })
    .await??;
    tracing::info!(user = signed_in.0.id.0, "signed in");
    Ok(signed_in)
}

/// The session cookie holding `token`, kept by the browser as long as it
/// allows: the session's own end (sliding, in the database) decides.
pub(crate) fn session_cookie(req: &HttpRequest, token: &str) -> Cookie<'static> {
    cookie(req, token, accounts::SESSION_COOKIE_MAX_AGE_MS)
}

/// The cookie that removes the session cookie.
pub(crate) fn removal_cookie(req: &HttpRequest) -> Cookie<'static> {
    cookie(req, "", 0)
}

/// Ends the session `req` carries, if any (everywhere: it is deleted).
pub(crate) async fn sign_out(state: &AppState, req: &HttpRequest) -> Result<(), ApiError> {
    if let Some(token) = token_of(req) {
        let db = state.db.clone();
        web::block(move || -> Result<(), ApiError> {
            let mut conn = db.conn()?;
            Ok(accounts::sign_out(&mut conn, &token)?)
        })
        .await??;
    }
    Ok(())
}

/// Signs out: the session ends everywhere and the cookie is removed.
#[utoipa::path(delete, path = "/api/session", tag = "session",
    responses(
        (status = 204, description = "Signed out (also when nobody was signed in)"),
        crate::openapi::ReadErrors,
    ))]
#[tracing::instrument(skip_all)]
pub async fn delete_session(state: Data, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    sign_out(&state, &req).await?;
    Ok(HttpResponse::NoContent()
        .cookie(removal_cookie(&req))
        .finish())
}

/// Who a write is made by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    /// Sessions are not required (`--require-sessions` off).
    Anyone,
    /// The signed-in user.
    User(shared::UserId),
}

impl Writer {
    /// Refused unless the writer is `user` (or anyone may write).
    pub fn must_be(self, user: shared::UserId, refusal: &'static str) -> Result<(), ApiError> {
        match self {
            Writer::User(me) if me != user => Err(ApiError::Forbidden {
                code: "forbidden",
                message: refusal.into(),
            }),
            _ => Ok(()),
        }
    }
}

/// CSRF: a write that carries the session cookie must come from a page of
/// this site (the no-JavaScript forms' rule, `forms::same_site`: an
/// `Origin`, if sent, this host's or one of `--cors-origins`, and no
/// `Sec-Fetch-Site` naming another site), else 403 `cross_site_request`.
/// A client that says neither is not a browser a page can drive.
pub(crate) fn check_origin(req: &HttpRequest, cors_origins: &[String]) -> Result<(), ApiError> {
    if token_of(req).is_none() || super::forms::same_site(req, cors_origins) {
        return Ok(());
    }
    Err(cross_site())
}

fn cross_site() -> ApiError {
    ApiError::Forbidden {
        code: "cross_site_request",
        message: "This request came from another site; sessions are used from this app only."
            .into(),
    }
}

/// Who may make the write `req` asks for: CSRF checked, the client's
/// write rate (429 `too_many_writes`), then the signed-in user, whose
/// writes are always held to what they own. Without a live session: 401
/// (`unauthenticated` without one, `session_expired` for one that ended)
/// when sessions are required, else anyone.
pub(crate) async fn writer(state: &AppState, req: &HttpRequest) -> Result<Writer, ApiError> {
    check_origin(req, &state.settings.cors_origins)?;
    let client = crate::limits::client_address(req, &state.settings.trusted_proxies);
    if let Err(retry_after_secs) = state.writes.take(client, std::time::Instant::now()) {
        return Err(ApiError::TooManyRequests {
            code: "too_many_writes",
            message: format!(
                "Too many changes from your address; try again in {retry_after_secs} seconds."
            ),
            retry_after_secs,
        });
    }
    let required = state.settings.require_sessions;
    let Some(token) = token_of(req) else {
        if !required {
            return Ok(Writer::Anyone);
        }
        return Err(ApiError::Unauthorized {
            code: "unauthenticated",
            message: "Sign in to do this.".into(),
        });
    };
    match viewer(state, token).await? {
        Some(user) => Ok(Writer::User(user.id)),
        None if !required => Ok(Writer::Anyone),
        None => Err(ApiError::Unauthorized {
            code: "session_expired",
            message: "Your session has ended; sign in again.".into(),
        }),
    }
}
