//! The app's mutations, registered by key so a mutation queued offline can be
//! replayed after a reload. Registry hooks reconcile the cache with the
//! server's answer idempotently (they also run for replays, and live events
//! may have applied the same change already); call sites add the optimistic
//! part with a rollback context.

use crate::api;
use crate::cache;
use crate::queries::qk;
use gloo_net::http::Method;
use querent::mutation::{MutationContext, MutationFn, MutationRecord};
use querent::{MutateOptions, MutationDefaults, MutationStatus, QueryClient};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use shared::{
    Comment, NewComment, NewPost, Post, PostId, PostPatch, QueryKey, User, UserId, UserPatch,
};
use std::rc::Rc;

/// `create_post` variables.
pub(crate) const CREATE_POST: &str = "create_post";
/// `update_post` variables: [`UpdatePost`].
pub(crate) const UPDATE_POST: &str = "update_post";
/// `delete_post` variables: [`DeletePost`].
pub(crate) const DELETE_POST: &str = "delete_post";
/// `create_comment` variables: [`CreateComment`].
pub(crate) const CREATE_COMMENT: &str = "create_comment";
/// `update_user` variables: [`UpdateUser`].
pub(crate) const UPDATE_USER: &str = "update_user";

/// Edit a post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct UpdatePost {
    /// Which.
    pub(crate) id: PostId,
    /// What changes.
    pub(crate) patch: PostPatch,
}

/// Delete a post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DeletePost {
    /// Which.
    pub(crate) id: PostId,
    /// Its author (whose count drops).
    pub(crate) user_id: UserId,
}

/// Comment on a post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CreateComment {
    /// Which post.
    pub(crate) post_id: PostId,
    /// The comment.
    pub(crate) comment: NewComment,
}

/// Edit a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct UpdateUser {
    /// Which.
    pub(crate) id: UserId,
    /// What changes.
    pub(crate) patch: UserPatch,
}

fn function<V, F>(call: F) -> MutationFn
where
    V: for<'de> Deserialize<'de> + 'static,
    F: Fn(V, String) -> std::pin::Pin<Box<dyn Future<Output = Result<Value, querent::QueryError>>>>
        + 'static,
{
    Rc::new(
        move |ctx: MutationContext| match serde_json::from_value::<V>(ctx.variables) {
            Ok(vars) => call(vars, ctx.idempotency_key),
            Err(e) => Box::pin(futures_ready(Err(querent::QueryError::http(
                422,
                "invalid_variables",
                e.to_string(),
            )))),
        },
    )
}

async fn futures_ready<T>(v: T) -> T {
    v
}

fn decoded<T: for<'de> Deserialize<'de>>(record: &MutationRecord) -> Option<T> {
    serde_json::from_value(record.data.clone()?).ok()
}

fn vars<T: for<'de> Deserialize<'de>>(record: &MutationRecord) -> Option<T> {
    serde_json::from_value(record.variables.clone()).ok()
}

fn succeeded(record: &MutationRecord) -> bool {
    record.status == MutationStatus::Success
}

fn refresh_author(client: &QueryClient, user: UserId) {
    drop(client.invalidate_queries(&qk(QueryKey::Users)));
    drop(client.invalidate_queries(&qk(QueryKey::User(user))));
    drop(client.invalidate_queries(&qk(QueryKey::UserPosts(user))));
}

/// Registers every mutation of the app.
pub(crate) fn register(client: &QueryClient) {
    client.register_mutation(
        CREATE_POST,
        MutationDefaults {
            on_settled: Some(Rc::new(|client, record| {
                if let Some(post) = decoded::<Post>(record).filter(|_| succeeded(record)) {
                    cache::list_insert(client, &post);
                    client.set_query_data(&qk(QueryKey::Post(post.id)), |_| record.data.clone());
                    refresh_author(client, post.user_id);
                }
            })),
            ..MutationDefaults::new(function(|v: NewPost, key| {
                Box::pin(
                    async move { api::write(Method::POST, "/api/posts", &key, Some(&v)).await },
                )
            }))
        },
    );
    client.register_mutation(
        UPDATE_POST,
        MutationDefaults {
            on_settled: Some(Rc::new(|client, record| {
                if let Some(post) = decoded::<Post>(record).filter(|_| succeeded(record)) {
                    cache::put_post(client, &post);
                    refresh_author(client, post.user_id);
                }
            })),
            ..MutationDefaults::new(function(|v: UpdatePost, key| {
                Box::pin(async move {
                    let path = format!("/api/posts/{}", v.id);
                    api::write(Method::PATCH, &path, &key, Some(&v.patch)).await
                })
            }))
        },
    );
    client.register_mutation(
        DELETE_POST,
        MutationDefaults {
            on_settled: Some(Rc::new(|client, record| {
                if let Some(v) = vars::<DeletePost>(record).filter(|_| succeeded(record)) {
                    cache::list_remove(client, v.id);
                    client.remove_queries(&qk(QueryKey::Post(v.id)));
                    client.remove_queries(&qk(QueryKey::Comments(v.id)));
                    refresh_author(client, v.user_id);
                }
            })),
            ..MutationDefaults::new(function(|v: DeletePost, key| {
                Box::pin(async move {
                    let path = format!("/api/posts/{}", v.id);
                    api::write(Method::DELETE, &path, &key, None::<&()>).await
                })
            }))
        },
    );
    client.register_mutation(
        CREATE_COMMENT,
        MutationDefaults {
            on_settled: Some(Rc::new(|client, record| {
                if let Some(comment) = decoded::<Comment>(record).filter(|_| succeeded(record)) {
                    append_comment(client, &comment);
                }
            })),
            ..MutationDefaults::new(function(|v: CreateComment, key| {
                Box::pin(async move {
                    let path = format!("/api/posts/{}/comments", v.post_id);
                    api::write(Method::POST, &path, &key, Some(&v.comment)).await
                })
            }))
        },
    );
    client.register_mutation(
        UPDATE_USER,
        MutationDefaults {
            on_settled: Some(Rc::new(|client, record| {
                if let Some(user) = decoded::<User>(record).filter(|_| succeeded(record)) {
                    cache::put_user(client, &user);
                }
            })),
            ..MutationDefaults::new(function(|v: UpdateUser, key| {
                Box::pin(async move {
                    let path = format!("/api/users/{}", v.id);
                    api::write(Method::PATCH, &path, &key, Some(&v.patch)).await
                })
            }))
        },
    );
}

/// Appends a comment to its post's cached comments unless already there.
pub(crate) fn append_comment(client: &QueryClient, comment: &Comment) {
    client.set_query_data(&qk(QueryKey::Comments(comment.post_id)), |list| {
        let mut list = list?.clone();
        let items = list.as_array_mut()?;
        if items.iter().any(|c| c["id"] == comment.id.0) {
            return None;
        }
        items.push(serde_json::to_value(comment).ok()?);
        Some(list)
    });
}

/// Snapshots of the given keys, to roll back to.
fn snapshot(client: &QueryClient, keys: &[QueryKey]) -> Value {
    Value::Array(
        keys.iter()
            .map(|k| {
                serde_json::json!({
                    "key": k,
                    "data": client.get_query_data(&qk(*k)).map(|d| (*d).clone()),
                })
            })
            .collect(),
    )
}

fn restore(client: &QueryClient, context: &Value) {
    for entry in context.as_array().into_iter().flatten() {
        let (Ok(key), Some(data)) = (
            serde_json::from_value::<QueryKey>(entry["key"].clone()),
            entry.get("data").filter(|d| !d.is_null()),
        ) else {
            continue;
        };
        client.set_query_data(&qk(key), |_| Some(data.clone()));
    }
}

type OnError = Box<dyn FnOnce(&QueryClient, &querent::QueryError, &Value, &Value)>;

fn rollback_on_error() -> Option<OnError> {
    Some(Box::new(
        |client: &QueryClient, _e: &querent::QueryError, _v: &Value, context: &Value| {
            restore(client, context)
        },
    ))
}

/// Optimistic delete: gone from the list and the detail, the author's count
/// drops at once; all of it comes back if the server refuses.
pub(crate) fn delete_options(v: &DeletePost) -> MutateOptions {
    let v = v.clone();
    MutateOptions {
        on_mutate: Some(Box::new(move |client: &QueryClient, _vars: &Value| {
            let keys = [
                QueryKey::Posts,
                QueryKey::Post(v.id),
                QueryKey::Users,
                QueryKey::User(v.user_id),
            ];
            for k in keys {
                client.cancel_queries(&qk(k));
            }
            let context = snapshot(client, &keys);
            cache::list_remove(client, v.id);
            cache::adjust_post_count(client, v.user_id, -1);
            client.remove_queries(&qk(QueryKey::Post(v.id)));
            context
        })),
        on_error: rollback_on_error(),
        ..MutateOptions::default()
    }
}

/// An optimistic edit of one cached entity: `apply` changes the cached copy
/// at once (stored everywhere by `put`); the snapshot of `keys` is the
/// rollback context. Edits of one entity share a scope, so they reach the
/// server in order.
fn optimistic_edit<T>(
    scope: String,
    detail: QueryKey,
    keys: Vec<QueryKey>,
    apply: impl Fn(&mut T) + 'static,
    put: fn(&QueryClient, &T),
) -> MutateOptions
where
    T: for<'de> Deserialize<'de> + 'static,
{
    MutateOptions {
        scope: Some(scope),
        on_mutate: Some(Box::new(move |client: &QueryClient, _vars: &Value| {
            client.cancel_queries(&qk(detail));
            let context = snapshot(client, &keys);
            if let Some(mut entity) = client
                .get_query_data(&qk(detail))
                .and_then(|d| T::deserialize(d.as_ref()).ok())
            {
                apply(&mut entity);
                put(client, &entity);
            }
            context
        })),
        on_error: rollback_on_error(),
        ..MutateOptions::default()
    }
}

/// Optimistic post edit.
pub(crate) fn update_post_options(v: &UpdatePost) -> MutateOptions {
    let patch = v.patch.clone();
    optimistic_edit(
        format!("post-{}", v.id),
        QueryKey::Post(v.id),
        vec![QueryKey::Post(v.id), QueryKey::Posts],
        move |post: &mut Post| {
            if let Some(t) = &patch.title {
                post.title = t.trim().to_owned();
            }
            if let Some(b) = &patch.body {
                post.body = b.trim().to_owned();
            }
        },
        cache::put_post,
    )
}

/// Optimistic user edit.
pub(crate) fn update_user_options(v: &UpdateUser) -> MutateOptions {
    let patch = v.patch.clone();
    optimistic_edit(
        format!("user-{}", v.id),
        QueryKey::User(v.id),
        vec![QueryKey::User(v.id), QueryKey::Users],
        move |user: &mut User| {
            if let Some(n) = &patch.name {
                user.name = n.trim().to_owned();
            }
            if let Some(e) = &patch.email {
                user.email = e.trim().to_owned();
            }
        },
        cache::put_user,
    )
}

/// Unconfirmed mutations of `key`, decoded.
pub(crate) fn unconfirmed<V: for<'de> Deserialize<'de>>(
    records: &[MutationRecord],
    key: &str,
) -> Vec<(String, V)> {
    records
        .iter()
        .filter(|r| r.mutation_key == key && r.is_unsettled())
        .filter_map(|r| Some((r.idempotency_key.clone(), vars::<V>(r)?)))
        .collect()
}

/// The latest failed mutation of `key`, if it is newer than any success.
pub(crate) fn last_failure(records: &[MutationRecord], key: &str) -> Option<querent::QueryError> {
    records
        .iter()
        .rev()
        .find(|r| r.mutation_key == key && !r.is_unsettled())
        .filter(|r| r.status == MutationStatus::Error)
        .and_then(|r| r.error.clone())
}
