//! Edits of cached data shared by mutations and live events.

use querent::QueryClient;
use serde_json::Value;
use shared::{Comment, InfiniteData, Page, Post, PostId, QueryKey, User, UserId};

use crate::queries::qk;

fn json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Puts `item` (with `id`) first in the paged list at `key` unless a page
/// holds it already.
fn insert_first(client: &QueryClient, key: QueryKey, id: i64, item: Value) {
    client.set_query_data(&qk(key), |list| {
        let mut list = list?.clone();
        let known = list["pages"].as_array()?.iter().any(|p| {
            p["items"]
                .as_array()
                .is_some_and(|i| i.iter().any(|x| x["id"] == id))
        });
        if known {
            return None;
        }
        list["pages"][0]["items"].as_array_mut()?.insert(0, item);
        Some(list)
    });
}

/// Puts `post` first in the post list unless it is already there.
pub(crate) fn list_insert(client: &QueryClient, post: &Post) {
    insert_first(client, QueryKey::Posts, post.id.0, json(post));
}

/// Puts `comment` first in its post's comments unless already there; when
/// they are not cached, `first_of_new_post` makes it their only page (the
/// post was just created with it).
pub(crate) fn comment_insert(client: &QueryClient, comment: &Comment, first_of_new_post: bool) {
    let key = QueryKey::Comments(comment.post_id);
    if first_of_new_post && client.get_query_data(&qk(key)).is_none() {
        let only = InfiniteData {
            pages: vec![Page {
                items: vec![comment.clone()],
                next_cursor: None,
            }],
            page_params: vec![None],
        };
        client.set_query_data(&qk(key), |_| Some(json(&only)));
    } else {
        insert_first(client, key, comment.id.0, json(comment));
    }
}

/// Replaces the listed copy of `post`.
pub(crate) fn list_replace(client: &QueryClient, post: &Post) {
    client.set_query_data(&qk(QueryKey::Posts), |list| {
        let mut list = list?.clone();
        let mut changed = false;
        for page in list["pages"].as_array_mut()? {
            for item in page["items"].as_array_mut().into_iter().flatten() {
                if item["id"] == post.id.0 {
                    *item = json(post);
                    changed = true;
                }
            }
        }
        changed.then_some(list)
    });
}

/// Removes a post from the list.
pub(crate) fn list_remove(client: &QueryClient, id: PostId) {
    client.set_query_data(&qk(QueryKey::Posts), |list| {
        let mut list = list?.clone();
        let mut changed = false;
        for page in list["pages"].as_array_mut()? {
            if let Some(items) = page["items"].as_array_mut() {
                let before = items.len();
                items.retain(|x| x["id"] != id.0);
                changed |= items.len() != before;
            }
        }
        changed.then_some(list)
    });
}

/// Adds `delta` to a user's post count, in the list and in the detail.
pub(crate) fn adjust_post_count(client: &QueryClient, user: UserId, delta: i64) {
    let bump = |u: &mut Value| {
        if let Some(n) = u["post_count"].as_i64() {
            u["post_count"] = Value::from(n + delta);
        }
    };
    client.set_query_data(&qk(QueryKey::Users), |users| {
        let mut users = users?.clone();
        users
            .as_array_mut()?
            .iter_mut()
            .filter(|u| u["id"] == user.0)
            .for_each(bump);
        Some(users)
    });
    client.set_query_data(&qk(QueryKey::User(user)), |u| {
        let mut u = u?.clone();
        bump(&mut u);
        Some(u)
    });
}

/// Stores a user everywhere it is shown.
pub(crate) fn put_user(client: &QueryClient, user: &User) {
    client.set_query_data(&qk(QueryKey::User(user.id)), |_| Some(json(user)));
    client.set_query_data(&qk(QueryKey::Users), |users| {
        let mut users = users?.clone();
        for u in users.as_array_mut()? {
            if u["id"] == user.id.0 {
                *u = json(user);
            }
        }
        Some(users)
    });
}

/// Stores a post everywhere it is shown.
pub(crate) fn put_post(client: &QueryClient, post: &Post) {
    client.set_query_data(&qk(QueryKey::Post(post.id)), |_| Some(json(post)));
    list_replace(client, post);
}
