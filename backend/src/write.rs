//! The one path every write takes: a transaction that applies the change,
//! appends its server event, and records the response under the request's
//! `Idempotency-Key`, so a replay of the key answers the first response and
//! changes nothing.

use crate::db::schema::idempotency_keys;
use crate::db::{Db, DbConn};
use crate::error::ApiError;
use crate::events::{self, EventHub};
use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::web;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use shared::EventKind;
use std::sync::Arc;

/// Header carrying the client's idempotency key.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";
/// Set on responses that replay a stored first response.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// What a successful write answers, and the event it causes.
pub struct Outcome {
    pub status: StatusCode,
    pub body: Option<serde_json::Value>,
    pub event: Option<EventKind>,
}

/// A client-chosen key: 1..=255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn from_headers(headers: &HeaderMap) -> Result<Option<Self>, ApiError> {
        let Some(value) = headers.get(IDEMPOTENCY_HEADER) else {
            return Ok(None);
        };
        let bad = || {
            ApiError::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            )
        };
        let text = value.to_str().map_err(|_| bad())?;
        Self::parse(text).map(Some).ok_or_else(bad)
    }

    /// A key from text (a form's hidden field), if it is a valid one.
    pub fn parse(text: &str) -> Option<Self> {
        let valid =
            !text.is_empty() && text.len() <= 255 && text.bytes().all(|b| b.is_ascii_graphic());
        valid.then(|| Self(text.to_owned()))
    }

    /// The key as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// What a write answers: what it did now, or the first answer to its key.
pub enum Answer {
    /// Applied by this request.
    Fresh(Outcome),
    /// A repeat of an applied request: its stored answer.
    Replayed { status: u16, body: String },
}

fn attempt<F>(
    conn: &mut DbConn,
    key: Option<&IdempotencyKey>,
    fingerprint: &str,
    apply: &F,
) -> Result<Answer, ApiError>
where
    F: Fn(&mut DbConn, i64) -> Result<Outcome, ApiError>,
{
    conn.transaction(|conn| {
        if let Some(key) = key {
            let stored: Option<(String, i32, String)> = idempotency_keys::table
                .find(&key.0)
                .select((
                    idempotency_keys::fingerprint,
                    idempotency_keys::status,
                    idempotency_keys::body,
                ))
                .first(conn)
                .optional()?;
            if let Some((stored_fingerprint, status, body)) = stored {
                if stored_fingerprint != fingerprint {
                    return Err(ApiError::Unprocessable {
                        code: "idempotency_key_reused",
                        message: "this Idempotency-Key was used for a different request".into(),
                    });
                }
                return Ok(Answer::Replayed {
                    status: status as u16,
                    body,
                });
            }
        }
        let now = now_ms();
        let outcome = apply(conn, now)?;
        if let Some(event) = &outcome.event {
            events::append(conn, event, now)?;
        }
        if let Some(key) = key {
            let body = match &outcome.body {
                Some(v) => serde_json::to_string(v).map_err(ApiError::unexpected)?,
                None => String::new(),
            };
            diesel::insert_into(idempotency_keys::table)
                .values((
                    idempotency_keys::key.eq(&key.0),
                    idempotency_keys::fingerprint.eq(fingerprint),
                    idempotency_keys::status.eq(i32::from(outcome.status.as_u16())),
                    idempotency_keys::body.eq(body),
                    idempotency_keys::created_at.eq(now),
                ))
                .execute(conn)?;
        }
        Ok(Answer::Fresh(outcome))
    })
}

/// Pauses before a write refused by a busy SQLite is tried again. A
/// transaction that read before it writes cannot wait for the write lock
/// (SQLite refuses the upgrade at once instead of invoking the busy
/// timeout), and the lock is also taken for an instant by readers racing a
/// commit: under load a write met that ~1 in a million times (the soak).
/// Held longer than these add up to (another process writing), the write is
/// a 503 with `Retry-After`.
const BUSY_PAUSES_MS: [u64; 3] = [10, 40, 160];

fn is_unique_violation(e: &ApiError) -> bool {
    matches!(e, ApiError::Unexpected(source)
        if matches!(source.downcast_ref::<DieselError>(),
            Some(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _))))
}

/// Runs `apply` as one idempotent write. `fingerprint` identifies the request
/// (method, path, body) so a key reused for another request is refused.
/// What to answer over HTTP is the caller's business.
pub async fn run<F>(
    db: &Db,
    hub: &Arc<EventHub>,
    key: Option<IdempotencyKey>,
    fingerprint: String,
    apply: F,
) -> Result<Answer, ApiError>
where
    F: Fn(&mut DbConn, i64) -> Result<Outcome, ApiError> + Send + 'static,
{
    let db = db.clone();
    let answer = web::block(move || {
        let _writer = db.writer_guard();
        let mut conn = db.conn()?;
        let mut pauses = BUSY_PAUSES_MS.iter();
        loop {
            match attempt(&mut conn, key.as_ref(), &fingerprint, &apply) {
                // Two requests with one key raced on PostgreSQL; the loser
                // now finds the winner's stored response.
                Err(e) if key.is_some() && is_unique_violation(&e) => {
                    return attempt(&mut conn, key.as_ref(), &fingerprint, &apply);
                }
                // SQLite's lock was taken at the moment this transaction,
                // having read, went to write: rolled back, so try again.
                Err(e) if e.is_busy() => match pauses.next() {
                    Some(ms) => std::thread::sleep(std::time::Duration::from_millis(*ms)),
                    None => return Err(e),
                },
                other => return other,
            }
        }
    })
    .await??;
    if matches!(answer, Answer::Fresh(Outcome { event: Some(_), .. })) {
        hub.note_local_write();
        hub.wake();
    }
    Ok(answer)
}
