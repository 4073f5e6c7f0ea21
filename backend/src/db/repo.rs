//! Queries, written once for both engines against [`DbConn`]. Every function
//! is synchronous; handlers call them inside `web::block`.

use super::DbConn;
use super::models::{CommentRow, NewCommentRow, NewPostRow, PostRow, UserRow, from_millis};
use super::schema::{comments, events, posts, users};
use crate::domain::{ValidNewComment, ValidNewPost, ValidPostPatch, ValidUserPatch};
use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel::result::QueryResult;
use shared::{Comment, Page, Post, PostId, Stats, User, UserId};
use std::collections::HashMap;

/// Position in a newest-first list (posts, a post's comments): the last
/// item seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    created_at: i64,
    id: i64,
}

impl Cursor {
    /// Parses the `next_cursor` this API handed out (`{created_at}_{id}`).
    pub fn parse(s: &str) -> Option<Self> {
        let (created_at, id) = s.split_once('_')?;
        Some(Self {
            created_at: created_at.parse().ok()?,
            id: id.parse().ok()?,
        })
    }

    fn encode(self) -> String {
        format!("{}_{}", self.created_at, self.id)
    }
}

/// The page of `rows` (read with `limit + 1`, newest first): at most `limit`
/// items, and the cursor after the last when there are more.
fn page<R, T: From<R>>(mut rows: Vec<R>, limit: i64, at: impl Fn(&R) -> Cursor) -> Page<T> {
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| at(r).encode())
    } else {
        None
    };
    Page {
        items: rows.into_iter().map(T::from).collect(),
        next_cursor,
    }
}

/// One page of posts, newest first.
pub fn list_posts(
    conn: &mut DbConn,
    cursor: Option<Cursor>,
    limit: i64,
) -> QueryResult<Page<Post>> {
    let mut query = posts::table
        .select(PostRow::as_select())
        .order((posts::created_at.desc(), posts::id.desc()))
        .limit(limit + 1)
        .into_boxed();
    if let Some(c) = cursor {
        query = query.filter(
            posts::created_at
                .lt(c.created_at)
                .or(posts::created_at.eq(c.created_at).and(posts::id.lt(c.id))),
        );
    }
    let rows = query.load(conn)?;
    Ok(page(rows, limit, |r: &PostRow| Cursor {
        created_at: r.created_at,
        id: r.id,
    }))
}

/// The id the previous insert on this connection generated. (Diesel's
/// multi-engine connection cannot express `RETURNING`.)
fn last_insert_id(conn: &mut DbConn) -> QueryResult<i64> {
    let function = match conn {
        DbConn::Sqlite(_) => "last_insert_rowid()",
        DbConn::Pg(_) => "lastval()",
    };
    diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(function)).get_result(conn)
}

pub fn get_post(conn: &mut DbConn, id: PostId) -> QueryResult<Option<Post>> {
    posts::table
        .find(id.0)
        .select(PostRow::as_select())
        .first(conn)
        .optional()
        .map(|r| r.map(Post::from))
}

pub fn user_exists(conn: &mut DbConn, id: UserId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(users::table.find(id.0))).get_result(conn)
}

fn touch_user(conn: &mut DbConn, id: UserId, now: i64) -> QueryResult<()> {
    diesel::update(users::table.find(id.0))
        .set(users::last_active_at.eq(now))
        .execute(conn)
        .map(drop)
}

pub fn create_post(conn: &mut DbConn, input: &ValidNewPost, now: i64) -> QueryResult<Post> {
    diesel::insert_into(posts::table)
        .values(NewPostRow {
            user_id: input.user_id.0,
            title: &input.title,
            body: &input.body,
            created_at: now,
            updated_at: now,
        })
        .execute(conn)?;
    let id = PostId(last_insert_id(conn)?);
    touch_user(conn, input.user_id, now)?;
    get_post(conn, id)?.ok_or(diesel::result::Error::NotFound)
}

pub fn update_post(
    conn: &mut DbConn,
    id: PostId,
    patch: &ValidPostPatch,
    now: i64,
) -> QueryResult<Option<Post>> {
    let Some(current) = get_post(conn, id)? else {
        return Ok(None);
    };
    let title = patch.title.as_deref().unwrap_or(&current.title);
    let body = patch.body.as_deref().unwrap_or(&current.body);
    let user_id = patch.user_id.unwrap_or(current.user_id);
    diesel::update(posts::table.find(id.0))
        .set((
            posts::title.eq(title),
            posts::body.eq(body),
            posts::user_id.eq(user_id.0),
            posts::updated_at.eq(now),
        ))
        .execute(conn)?;
    touch_user(conn, user_id, now)?;
    get_post(conn, id)
}

/// Deletes a post and its comments; returns its author when it existed.
pub fn delete_post(conn: &mut DbConn, id: PostId) -> QueryResult<Option<UserId>> {
    let Some(post) = get_post(conn, id)? else {
        return Ok(None);
    };
    diesel::delete(comments::table.filter(comments::post_id.eq(id.0))).execute(conn)?;
    diesel::delete(posts::table.find(id.0)).execute(conn)?;
    Ok(Some(post.user_id))
}

/// The post's comments, oldest first; `None` when the post does not exist.
/// One page of a post's comments, newest first; `None` if there is no
/// such post.
pub fn list_comments(
    conn: &mut DbConn,
    post: PostId,
    cursor: Option<Cursor>,
    limit: i64,
) -> QueryResult<Option<Page<Comment>>> {
    if get_post(conn, post)?.is_none() {
        return Ok(None);
    }
    let mut query = comments::table
        .filter(comments::post_id.eq(post.0))
        .order((comments::created_at.desc(), comments::id.desc()))
        .select(CommentRow::as_select())
        .limit(limit + 1)
        .into_boxed();
    if let Some(c) = cursor {
        query = query.filter(
            comments::created_at
                .lt(c.created_at)
                .or(comments::created_at
                    .eq(c.created_at)
                    .and(comments::id.lt(c.id))),
        );
    }
    let rows = query.load(conn)?;
    Ok(Some(page(rows, limit, |r: &CommentRow| Cursor {
        created_at: r.created_at,
        id: r.id,
    })))
}

pub fn create_comment(
    conn: &mut DbConn,
    post: PostId,
    input: &ValidNewComment,
    now: i64,
) -> QueryResult<Option<Comment>> {
    if get_post(conn, post)?.is_none() {
        return Ok(None);
    }
    diesel::insert_into(comments::table)
        .values(NewCommentRow {
            post_id: post.0,
            name: &input.name,
            email: &input.email,
            body: &input.body,
            created_at: now,
        })
        .execute(conn)?;
    let id = last_insert_id(conn)?;
    comments::table
        .find(id)
        .select(CommentRow::as_select())
        .first(conn)
        .map(|r| Some(r.into()))
}

fn post_counts(conn: &mut DbConn, only: Option<UserId>) -> QueryResult<HashMap<i64, i64>> {
    let mut query = posts::table
        .group_by(posts::user_id)
        .select((posts::user_id, count_star()))
        .into_boxed();
    if let Some(id) = only {
        query = query.filter(posts::user_id.eq(id.0));
    }
    Ok(query.load::<(i64, i64)>(conn)?.into_iter().collect())
}

fn user_from(row: UserRow, counts: &HashMap<i64, i64>) -> User {
    User {
        id: UserId(row.id),
        post_count: counts.get(&row.id).copied().unwrap_or(0),
        name: row.name,
        username: row.username,
        email: row.email,
        last_active_at: from_millis(row.last_active_at),
    }
}

pub fn list_users(conn: &mut DbConn) -> QueryResult<Vec<User>> {
    let counts = post_counts(conn, None)?;
    let rows = users::table
        .order(users::id.asc())
        .select(UserRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(|r| user_from(r, &counts)).collect())
}

pub fn get_user(conn: &mut DbConn, id: UserId) -> QueryResult<Option<User>> {
    let Some(row) = users::table
        .find(id.0)
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let counts = post_counts(conn, Some(id))?;
    Ok(Some(user_from(row, &counts)))
}

/// The user's posts, newest first; `None` when the user does not exist.
pub fn user_posts(conn: &mut DbConn, id: UserId) -> QueryResult<Option<Vec<Post>>> {
    if !user_exists(conn, id)? {
        return Ok(None);
    }
    let rows = posts::table
        .filter(posts::user_id.eq(id.0))
        .order((posts::created_at.desc(), posts::id.desc()))
        .select(PostRow::as_select())
        .load(conn)?;
    Ok(Some(rows.into_iter().map(Post::from).collect()))
}

pub fn update_user(
    conn: &mut DbConn,
    id: UserId,
    patch: &ValidUserPatch,
    now: i64,
) -> QueryResult<Option<User>> {
    if !user_exists(conn, id)? {
        return Ok(None);
    }
    if let Some(name) = &patch.name {
        diesel::update(users::table.find(id.0))
            .set(users::name.eq(name))
            .execute(conn)?;
    }
    if let Some(email) = &patch.email {
        diesel::update(users::table.find(id.0))
            .set(users::email.eq(email))
            .execute(conn)?;
    }
    touch_user(conn, id, now)?;
    get_user(conn, id)
}

pub fn stats(conn: &mut DbConn, now: i64) -> QueryResult<Stats> {
    Ok(Stats {
        users: users::table.count().get_result(conn)?,
        posts: posts::table.count().get_result(conn)?,
        comments: comments::table.count().get_result(conn)?,
        computed_at: from_millis(now),
    })
}

/// Stored events with ids above `after`, oldest first.
pub fn events_after(conn: &mut DbConn, after: i64, limit: i64) -> QueryResult<Vec<(i64, String)>> {
    events::table
        .filter(events::id.gt(after))
        .order(events::id.asc())
        .limit(limit)
        .select((events::id, events::payload))
        .load(conn)
}

/// The newest `limit` stored events, oldest first.
pub fn latest_events(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<(i64, String)>> {
    let mut rows: Vec<(i64, String)> = events::table
        .order(events::id.desc())
        .limit(limit)
        .select((events::id, events::payload))
        .load(conn)?;
    rows.reverse();
    Ok(rows)
}

#[cfg(test)]
mod properties {
    use super::Cursor;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// A cursor the API hands out reads back as the same position.
        #[test]
        fn a_cursor_reads_back_as_itself(created_at in any::<i64>(), id in any::<i64>()) {
            let cursor = Cursor { created_at, id };
            prop_assert_eq!(Cursor::parse(&cursor.encode()), Some(cursor));
        }

        /// Any text is either refused or read as a cursor that writes back
        /// as a canonical form of it; nothing panics.
        #[test]
        fn any_text_is_refused_or_canonical(text in "\\PC{0,40}|[+-]?[0-9]{1,20}_[+-]?[0-9]{1,20}") {
            if let Some(cursor) = Cursor::parse(&text) {
                prop_assert_eq!(Cursor::parse(&cursor.encode()), Some(cursor));
            }
        }
    }
}
