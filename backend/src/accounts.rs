//! Accounts: passwords (argon2id), sessions in the database (so every
//! instance and a restart honour them) and the sign-in rate limit.
//!
//! A session is a random token in an `HttpOnly` cookie; the database keeps
//! only its SHA-256, so reading the table gives nobody a session. Failed
//! sign-ins are rows too (one per email and one per address), so the limit
//! holds across instances.

use crate::db::DbConn;
use crate::db::schema::{sessions, sign_in_failures, users};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use diesel::prelude::*;
use rand_core::RngCore;
use sha2::Digest;
use shared::{User, UserId};

/// The seeded users' password (documented in the README for the demo).
pub const DEMO_PASSWORD: &str = "querent-demo";

/// Its argon2id hash (PHC string), computed once, so seeding costs no
/// hashing. `migrations/*/…_accounts` holds the same string.
pub const DEMO_PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$Vl5jXVWeeVxlt2hc7rh9fA$t+oAzfQfWxT7Y5+fNMrDrfJ8Rpbys4nG9l0ySsjS77s";

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "session";

/// How long a session lasts since it was last used (it slides: each day a
/// session is used, it is given this long again).
pub const SESSION_TTL_MS: i64 = 30 * 24 * 3600 * 1000;

/// How often a used session's end moves on: at most one write a day per
/// session, whatever the requests.
pub const SESSION_SLIDE_MS: i64 = 24 * 3600 * 1000;

/// How long the browser keeps the session cookie: the longest browsers
/// allow (400 days); the database says whether the session still lives.
pub const SESSION_COOKIE_MAX_AGE_MS: i64 = 400 * 24 * 3600 * 1000;

/// The window the sign-in limit counts failures in.
pub const FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;

/// Failed sign-ins for one email within the window before the next is
/// refused (whatever the password).
pub const MAX_FAILURES_PER_EMAIL: i64 = 5;

/// Failed sign-ins from one address within the window before the next is
/// refused.
pub const MAX_FAILURES_PER_ADDRESS: i64 = 20;

/// An argon2id hash of `password` with a new salt (PHC string).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut rand_core::OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
}

/// Whether `password` matches the PHC string `hash` (an unreadable hash
/// matches nothing).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A new session token: 32 random bytes, URL-safe base64.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand_core::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database keeps of a token.
pub fn token_hash(token: &str) -> String {
    sha2::Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Why a sign-in failed.
#[derive(Debug)]
pub enum SignInError {
    /// Unknown email or wrong password (the same answer for both).
    Invalid,
    /// Too many failures for this email or from this address: try again
    /// after this many seconds.
    Limited {
        /// Seconds until the oldest counted failure leaves the window.
        retry_after_secs: u64,
    },
    /// The database failed.
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for SignInError {
    fn from(e: diesel::result::Error) -> Self {
        SignInError::Db(e)
    }
}

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// The subjects a sign-in attempt counts against.
fn subjects(email: &str, address: &str) -> [(String, i64); 2] {
    [
        (format!("email:{email}"), MAX_FAILURES_PER_EMAIL),
        (format!("ip:{address}"), MAX_FAILURES_PER_ADDRESS),
    ]
}

/// `Limited` when a subject has used its failures within the window.
fn check_limits(
    conn: &mut DbConn,
    subjects: &[(String, i64)],
    now: i64,
) -> Result<(), SignInError> {
    let since = now - FAILURE_WINDOW_MS;
    for (subject, max) in subjects {
        let recent: Vec<i64> = sign_in_failures::table
            .filter(sign_in_failures::subject.eq(subject))
            .filter(sign_in_failures::at.gt(since))
            .order(sign_in_failures::at.desc())
            .select(sign_in_failures::at)
            .limit(*max)
            .load(conn)?;
        if recent.len() as i64 >= *max {
            // Free again when the oldest of the last `max` leaves the window.
            let oldest = recent.last().copied().unwrap_or(now);
            let wait_ms = (oldest + FAILURE_WINDOW_MS - now).max(1_000);
            return Err(SignInError::Limited {
                retry_after_secs: (wait_ms as u64).div_ceil(1_000),
            });
        }
    }
    Ok(())
}

/// Signs in `email` with `password` from `address`: the user and a new
/// session's token. `replaced` is the token the request already carried
/// (its session ends: a sign-in always rotates the session).
pub fn sign_in(
    conn: &mut DbConn,
    email: &str,
    password: &str,
    address: &str,
    replaced: Option<&str>,
    now: i64,
) -> Result<(User, String), SignInError> {
    let email = email.trim().to_lowercase();
    let subjects = subjects(&email, address);
    check_limits(conn, &subjects, now)?;
    let account: Option<(i64, String)> = users::table
        .filter(lower(users::email).eq(&email))
        .select((users::id, users::password_hash))
        .first(conn)
        .optional()?;
    // An unknown email costs the same hashing as a wrong password, so the
    // answer's time does not tell which it was.
    let hash = account
        .as_ref()
        .map_or(DEMO_PASSWORD_HASH, |(_, h)| h.as_str());
    let matches = verify_password(password, hash);
    let Some((user_id, _)) = account.filter(|_| matches) else {
        conn.transaction(|conn| {
            for (subject, _) in &subjects {
                diesel::insert_into(sign_in_failures::table)
                    .values((
                        sign_in_failures::subject.eq(subject),
                        sign_in_failures::at.eq(now),
                    ))
                    .execute(conn)?;
            }
            diesel::delete(sign_in_failures::table)
                .filter(sign_in_failures::at.le(now - FAILURE_WINDOW_MS))
                .execute(conn)
        })?;
        return Err(SignInError::Invalid);
    };
    let token = new_token();
    conn.transaction(|conn| {
        if let Some(old) = replaced {
            diesel::delete(sessions::table.find(token_hash(old))).execute(conn)?;
        }
        diesel::insert_into(sessions::table)
            .values((
                sessions::token_hash.eq(token_hash(&token)),
                sessions::user_id.eq(user_id),
                sessions::created_at.eq(now),
                sessions::expires_at.eq(now + SESSION_TTL_MS),
            ))
            .execute(conn)?;
        // The person knew the password: earlier misses of this email no
        // longer count against it.
        diesel::delete(sign_in_failures::table)
            .filter(sign_in_failures::subject.eq(&subjects[0].0))
            .execute(conn)
    })?;
    let user = crate::db::repo::get_user(conn, UserId(user_id))?.ok_or(SignInError::Invalid)?;
    Ok((user, token))
}

/// The user a session token belongs to, if the session exists and has not
/// expired. A session used a day or more after its end last moved is given
/// [`SESSION_TTL_MS`] from now (an expired or ended one is not revived).
pub fn viewer(conn: &mut DbConn, token: &str, now: i64) -> QueryResult<Option<User>> {
    let hash = token_hash(token);
    let live: Option<(i64, i64)> = sessions::table
        .find(&hash)
        .filter(sessions::expires_at.gt(now))
        .select((sessions::user_id, sessions::expires_at))
        .first(conn)
        .optional()?;
    let Some((user_id, expires_at)) = live else {
        return Ok(None);
    };
    if expires_at <= now + SESSION_TTL_MS - SESSION_SLIDE_MS {
        diesel::update(sessions::table.find(&hash))
            .filter(sessions::expires_at.gt(now))
            .set(sessions::expires_at.eq(now + SESSION_TTL_MS))
            .execute(conn)?;
    }
    crate::db::repo::get_user(conn, UserId(user_id))
}

/// Ends the session of `token` (everywhere: it is gone from the database).
pub fn sign_out(conn: &mut DbConn, token: &str) -> QueryResult<()> {
    diesel::delete(sessions::table.find(token_hash(token))).execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_hash_is_the_demo_passwords() {
        assert!(verify_password(DEMO_PASSWORD, DEMO_PASSWORD_HASH));
        assert!(!verify_password("querent-demo ", DEMO_PASSWORD_HASH));
        assert!(!verify_password(DEMO_PASSWORD, "not a hash"));
        let hash = hash_password("another");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("another", &hash));
        assert_ne!(hash, hash_password("another"), "a new salt each time");
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "32 bytes, base64 without padding");
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }
}
