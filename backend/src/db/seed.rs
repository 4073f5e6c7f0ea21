//! The deterministic demo data: 10 users, 100 posts, 500 comments, written
//! only into an empty database, so every fresh install looks the same.

use super::DbConn;
use super::models::{NewCommentRow, NewPostRow, NewUserRow};
use super::schema::{comments, posts, users};
use diesel::prelude::*;

/// Users in the seed.
pub const USERS: usize = 10;
/// Posts in the seed.
pub const POSTS: usize = 100;
/// Comments in the seed (five per post).
pub const COMMENTS: usize = 500;

/// 2026-01-01T00:00:00Z; seeded posts are an hour apart after this.
const EPOCH_MS: i64 = 1_767_225_600_000;
const HOUR_MS: i64 = 3_600_000;

const NAMES: [(&str, &str); USERS] = [
    ("Leanne Graham", "Bret"),
    ("Ervin Howell", "Antonette"),
    ("Clementine Bauch", "Samantha"),
    ("Patricia Lebsack", "Karianne"),
    ("Chelsey Dietrich", "Kamren"),
    ("Dennis Schulist", "Leopoldo_Corkery"),
    ("Kurtis Weissnat", "Elwyn.Skiles"),
    ("Nicholas Runolfsdottir V", "Maxime_Nienow"),
    ("Glenna Reichert", "Delphine"),
    ("Clementina DuBuque", "Moriah.Stanton"),
];

const WORDS: [&str; 32] = [
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "consectetur",
    "adipiscing",
    "elit",
    "sed",
    "eiusmod",
    "tempor",
    "incididunt",
    "labore",
    "dolore",
    "magna",
    "aliqua",
    "enim",
    "minim",
    "veniam",
    "quis",
    "nostrud",
    "exercitation",
    "ullamco",
    "laboris",
    "nisi",
    "aliquip",
    "commodo",
    "consequat",
    "duis",
    "aute",
    "irure",
    "voluptate",
];

/// A tiny deterministic generator (64-bit LCG): the seed must not depend on
/// a random source.
struct Words(u64);

impl Words {
    fn next(&mut self) -> &'static str {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        WORDS[(self.0 >> 33) as usize % WORDS.len()]
    }

    fn sentence(&mut self, words: usize) -> String {
        let text: Vec<&str> = (0..words).map(|_| self.next()).collect();
        let mut s = text.join(" ");
        if let Some(first) = s.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        s
    }
}

/// Seeds when there are no users yet. On PostgreSQL an advisory lock makes
/// instances that start together seed once.
pub fn seed_if_empty(conn: &mut DbConn) -> QueryResult<()> {
    conn.transaction(|conn| {
        if matches!(conn, DbConn::Pg(_)) {
            diesel::sql_query("SELECT pg_advisory_xact_lock(7201)").execute(conn)?;
        }
        let existing: i64 = users::table.count().get_result(conn)?;
        if existing > 0 {
            return Ok(());
        }
        let emails: Vec<String> = NAMES
            .iter()
            .map(|(_, username)| format!("{}@example.com", username.to_lowercase()))
            .collect();
        let user_rows: Vec<NewUserRow<'_>> = NAMES
            .iter()
            .zip(&emails)
            .map(|((name, username), email)| NewUserRow {
                name,
                username,
                email,
                last_active_at: EPOCH_MS,
                password_hash: crate::accounts::DEMO_PASSWORD_HASH,
            })
            .collect();
        // One row per statement: the multi-engine connection has no batch insert.
        for row in &user_rows {
            diesel::insert_into(users::table)
                .values(row)
                .execute(conn)?;
        }
        let user_ids: Vec<i64> = users::table
            .select(users::id)
            .order(users::id.asc())
            .load(conn)?;

        let mut words = Words(42);
        let texts: Vec<(String, String)> = (0..POSTS)
            .map(|_| (words.sentence(5), words.sentence(30)))
            .collect();
        let post_rows: Vec<NewPostRow<'_>> = texts
            .iter()
            .enumerate()
            .map(|(i, (title, body))| {
                let at = EPOCH_MS + i as i64 * HOUR_MS;
                NewPostRow {
                    user_id: user_ids[i % user_ids.len()],
                    title,
                    body,
                    created_at: at,
                    updated_at: at,
                }
            })
            .collect();
        for row in &post_rows {
            diesel::insert_into(posts::table)
                .values(row)
                .execute(conn)?;
        }
        let post_ids: Vec<(i64, i64)> = posts::table
            .select((posts::id, posts::created_at))
            .order(posts::id.asc())
            .load(conn)?;

        let comment_texts: Vec<(String, String, String)> = (0..COMMENTS)
            .map(|i| {
                let name = words.sentence(3);
                let email = format!("reader{}@example.net", i % 37);
                (name, email, words.sentence(20))
            })
            .collect();
        let comment_rows: Vec<NewCommentRow<'_>> = comment_texts
            .iter()
            .enumerate()
            .map(|(i, (name, email, body))| {
                let (post_id, post_at) = post_ids[i / (COMMENTS / POSTS)];
                NewCommentRow {
                    post_id,
                    name,
                    email,
                    body,
                    created_at: post_at + (i % 5) as i64 * 60_000 + 60_000,
                }
            })
            .collect();
        for row in &comment_rows {
            diesel::insert_into(comments::table)
                .values(row)
                .execute(conn)?;
        }
        Ok(())
    })
}
