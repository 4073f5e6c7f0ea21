//! The cache reconciled with what happened on the server: a created,
//! updated or deleted entity is applied here, in one place, whether a
//! mutation's answer or a live event reports it. Each edit is a closure over
//! the typed data of a query (`queries::typed`), applied where the entity is
//! shown, and idempotent (the answer and the event of one write both come).

use crate::queries::typed;
use querent::QueryClient;
use shared::{Comment, InfiniteData, Page, Post, PostId, QueryKey, User, UserId};

/// A post was created: first in the list, its detail cached, its author's
/// numbers refetched.
pub(crate) fn post_created(client: &QueryClient, post: &Post) {
    list_insert(client, post);
    client.set_data(&typed::post(post.id), post);
    refresh_author(client, post.user_id);
}

/// A post changed (perhaps its author): stored everywhere it is shown.
pub(crate) fn post_updated(client: &QueryClient, post: &Post) {
    put_post(client, post);
    refresh_author(client, post.user_id);
}

/// A post was deleted: gone from the list, its detail and comments dropped.
pub(crate) fn post_deleted(client: &QueryClient, id: PostId, user_id: UserId) {
    list_remove(client, id);
    client.remove_queries(&QueryKey::Post(id));
    client.remove_queries(&QueryKey::Comments(id));
    refresh_author(client, user_id);
}

/// A comment was created: first among its post's comments.
pub(crate) fn comment_created(client: &QueryClient, comment: &Comment) {
    comment_insert(client, comment, false);
}

/// A user changed.
pub(crate) fn user_updated(client: &QueryClient, user: &User) {
    put_user(client, user);
}

/// A user's post count and post list may have changed: refetched.
pub(crate) fn refresh_author(client: &QueryClient, user: UserId) {
    drop(client.invalidate_queries(&QueryKey::Users));
    drop(client.invalidate_queries(&QueryKey::User(user)));
    drop(client.invalidate_queries(&QueryKey::UserPosts(user)));
}

/// Puts `item` first in a paged list unless a page holds one that is
/// `same` already. Returns whether it changed the list.
fn insert_first<T>(list: &mut InfiniteData<Page<T>>, item: &T, same: impl Fn(&T) -> bool) -> bool
where
    T: Clone,
{
    if list.pages.iter().any(|p| p.items.iter().any(&same)) {
        return false;
    }
    match list.pages.first_mut() {
        Some(first) => {
            first.items.insert(0, item.clone());
            true
        }
        None => false,
    }
}

/// Every item of a paged list, to edit in place.
fn items_mut<T>(list: &mut InfiniteData<Page<T>>) -> impl Iterator<Item = &mut T> {
    list.pages.iter_mut().flat_map(|p| p.items.iter_mut())
}

/// Puts `post` first in the post list unless it is already there.
fn list_insert(client: &QueryClient, post: &Post) {
    client.update_data(&typed::posts(), |list| {
        insert_first(list, post, |p| p.id == post.id)
    });
}

/// Puts `comment` first in its post's comments unless already there; when
/// they are not cached, `first_of_new_post` makes it their only page (the
/// post was just created with it).
pub(crate) fn comment_insert(client: &QueryClient, comment: &Comment, first_of_new_post: bool) {
    let key = typed::comments(comment.post_id);
    if first_of_new_post && client.get_query_data(key.key.query_key()).is_none() {
        let only = InfiniteData::first(Page {
            items: vec![comment.clone()],
            next_cursor: None,
        });
        client.set_data(&key, &only);
    } else {
        client.update_data(&key, |list| {
            insert_first(list, comment, |c| c.id == comment.id)
        });
    }
}

/// Replaces the listed copy of `post`.
fn list_replace(client: &QueryClient, post: &Post) {
    client.update_data(&typed::posts(), |list| {
        let mut changed = false;
        for listed in items_mut(list).filter(|p| p.id == post.id) {
            *listed = post.clone();
            changed = true;
        }
        changed
    });
}

/// Removes a post from the list.
pub(crate) fn list_remove(client: &QueryClient, id: PostId) {
    client.update_data(&typed::posts(), |list| {
        let mut changed = false;
        for page in &mut list.pages {
            let before = page.items.len();
            page.items.retain(|p| p.id != id);
            changed |= page.items.len() != before;
        }
        changed
    });
}

/// Adds `delta` to a user's post count, in the list and in the detail.
pub(crate) fn adjust_post_count(client: &QueryClient, user: UserId, delta: i64) {
    client.update_data(&typed::users(), |users| {
        let mut changed = false;
        for u in users.iter_mut().filter(|u| u.id == user) {
            u.post_count += delta;
            changed = true;
        }
        changed
    });
    client.update_data(&typed::user(user), |u| {
        u.post_count += delta;
        true
    });
}

/// Stores a user everywhere it is shown.
pub(crate) fn put_user(client: &QueryClient, user: &User) {
    client.set_data(&typed::user(user.id), user);
    client.update_data(&typed::users(), |users| {
        let mut changed = false;
        for listed in users.iter_mut().filter(|u| u.id == user.id) {
            *listed = user.clone();
            changed = true;
        }
        changed
    });
}

/// Stores a post everywhere it is shown.
pub(crate) fn put_post(client: &QueryClient, post: &Post) {
    client.set_data(&typed::post(post.id), post);
    list_replace(client, post);
}
