//! The app's mutations, registered by key so a mutation queued offline can be
//! replayed after a reload. Registry hooks reconcile the cache with the
//! server's answer idempotently (they also run for replays, and live events
//! may have applied the same change already); call sites add the optimistic
//! part with a rollback context.

use crate::api;
use crate::cache;
use crate::queries::{qk, typed};
use gloo_net::http::Method;
use querent::mutation::{MutationContext, MutationFn, MutationRecord};
use querent::retryer::{Backoff, MAX_RETRY_AFTER_MS};
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
/// `publish_post` variables: [`PublishPost`] (a workflow of two calls).
pub(crate) const PUBLISH_POST: &str = "publish_post";

/// Edit a post, or move it to another author (`patch.user_id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct UpdatePost {
    /// Which.
    pub(crate) id: PostId,
    /// What changes.
    pub(crate) patch: PostPatch,
    /// The author before a move, whose count drops (kept with the variables
    /// so a replay after a reload still knows whom to refresh).
    #[serde(default)]
    pub(crate) previous_user_id: Option<UserId>,
}

/// Publish a post together with its first comment: one user action, two API
/// calls, one mutation (so it queues, persists and replays as a unit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PublishPost {
    /// The post.
    pub(crate) post: NewPost,
    /// Its first comment.
    pub(crate) comment: NewComment,
}

/// What a published workflow answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Published {
    /// The post as created.
    pub(crate) post: Post,
    /// Its first comment as created.
    pub(crate) comment: Comment,
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
    F: Fn(
            V,
            String,
            QueryClient,
        ) -> std::pin::Pin<Box<dyn Future<Output = Result<Value, querent::QueryError>>>>
        + 'static,
{
    Rc::new(
        move |ctx: MutationContext| match querent::json::decode::<V>(&ctx.variables) {
            Ok(vars) => call(vars, ctx.idempotency_key, ctx.client),
            Err(e) => Box::pin(futures_ready(Err(querent::QueryError::invalid(
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
    querent::json::decode(record.data.as_ref()?).ok()
}

fn vars<T: for<'de> Deserialize<'de>>(record: &MutationRecord) -> Option<T> {
    querent::json::decode(&record.variables).ok()
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
                    client.set_data(&typed::post(post.id), &post);
                    refresh_author(client, post.user_id);
                }
            })),
            ..MutationDefaults::new(function(|v: NewPost, key, _| {
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
                let mut authors = vec![];
                if let Some(post) = decoded::<Post>(record).filter(|_| succeeded(record)) {
                    cache::put_post(client, &post);
                    authors.push(post.user_id);
                }
                if let Some(v) = vars::<UpdatePost>(record) {
                    // Refused: the call site's rollback puts the cached copies
                    // back, but a replay after a reload has no call site; the
                    // server's copy is the truth either way.
                    if record.status == MutationStatus::Error {
                        drop(client.invalidate_queries(&qk(QueryKey::Post(v.id))));
                        drop(client.invalidate_queries(&qk(QueryKey::Posts)));
                    }
                    // A move (done or refused): both authors' numbers.
                    authors.extend(v.previous_user_id);
                    authors.extend(v.patch.user_id);
                }
                authors.sort_by_key(|u| u.0);
                authors.dedup();
                for author in authors {
                    refresh_author(client, author);
                }
            })),
            ..MutationDefaults::new(function(|v: UpdatePost, key, _| {
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
            ..MutationDefaults::new(function(|v: DeletePost, key, _| {
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
                    cache::comment_insert(client, &comment, false);
                }
            })),
            ..MutationDefaults::new(function(|v: CreateComment, key, _| {
                Box::pin(async move {
                    let path = format!("/api/posts/{}/comments", v.post_id);
                    api::write(Method::POST, &path, &key, Some(&v.comment)).await
                })
            }))
        },
    );
    client.register_mutation(
        PUBLISH_POST,
        MutationDefaults {
            on_settled: Some(Rc::new(|client, record| {
                // A failure was cleaned up by the workflow itself (it knows
                // which post it withdrew); a success fills the cache so the
                // new post opens with its comment and no request.
                if let Some(done) = decoded::<Published>(record).filter(|_| succeeded(record)) {
                    cache::list_insert(client, &done.post);
                    cache::put_post(client, &done.post);
                    cache::comment_insert(client, &done.comment, true);
                    refresh_author(client, done.post.user_id);
                }
            })),
            ..MutationDefaults::new(function(|v: PublishPost, key, client| {
                Box::pin(publish(client, v, key))
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
            ..MutationDefaults::new(function(|v: UpdateUser, key, _| {
                Box::pin(async move {
                    let path = format!("/api/users/{}", v.id);
                    api::write(Method::PATCH, &path, &key, Some(&v.patch)).await
                })
            }))
        },
    );
}

/// The steps of [`PublishPost`]. Each call's idempotency key is derived from
/// the workflow's (`K:post`, `K:comment`, `K:withdraw`), so however often the
/// workflow is replayed (a lost answer, a reload, the network returning)
/// each step is applied by the server at most once.
///
/// - A step without an answer (network) fails the attempt as a network
///   error: the queue pauses the workflow and replays it whole; the steps the
///   server already applied answer from its idempotency store.
/// - The comment refused or failing on the server: the post is withdrawn
///   (`DELETE`, retried with backoff), every cache entry the workflow or a
///   live event made for it is removed, and the workflow fails with the
///   comment's error. If the withdrawal cannot be confirmed either, the
///   workflow stays queued (as a network failure) and is replayed later, so
///   it never ends with half of it applied.
async fn publish(
    client: QueryClient,
    v: PublishPost,
    key: String,
) -> Result<Value, querent::QueryError> {
    let created = api::write(
        Method::POST,
        "/api/posts",
        &format!("{key}:post"),
        Some(&v.post),
    )
    .await?;
    let post: Post =
        querent::json::decode(&created).map_err(|e| querent::QueryError::decode(e.to_string()))?;
    let path = format!("/api/posts/{}/comments", post.id);
    match api::write(
        Method::POST,
        &path,
        &format!("{key}:comment"),
        Some(&v.comment),
    )
    .await
    {
        Ok(comment) => Ok(serde_json::json!({ "post": created, "comment": comment })),
        Err(e) if e.kind == querent::ErrorKind::Network => Err(e),
        Err(e) => {
            withdraw(&client, &post, &key).await?;
            // Withdrawn: final, whatever `Retry-After` the comment's answer
            // carried (resending would publish the post again).
            Err(querent::QueryError {
                message: format!("{} (the post was withdrawn)", e.message),
                retry_after_ms: None,
                ..e
            })
        }
    }
}

/// Retries of a withdrawal: 0.5 s doubling, five of them (15.5 s in all).
const WITHDRAW: Backoff = Backoff {
    base_ms: 500,
    max_ms: 8_000,
};

/// Compensates a published post: deletes it (retrying server errors with
/// backoff) and removes it from the cache.
async fn withdraw(client: &QueryClient, post: &Post, key: &str) -> Result<(), querent::QueryError> {
    let path = format!("/api/posts/{}", post.id);
    let mut attempts = 0;
    loop {
        match api::write(
            Method::DELETE,
            &path,
            &format!("{key}:withdraw"),
            None::<&()>,
        )
        .await
        {
            Ok(_) => break,
            Err(e) if e.status() == Some(404) => break,
            Err(e) if e.kind == querent::ErrorKind::Network || attempts >= 5 => {
                return Err(querent::QueryError::network(format!(
                    "the post could not be withdrawn yet: {e}"
                )));
            }
            Err(e) => {
                // A busy server's `Retry-After` replaces the backoff.
                let wait = e
                    .retry_after_ms
                    .unwrap_or_else(|| WITHDRAW.delay_ms(attempts))
                    .min(MAX_RETRY_AFTER_MS);
                attempts += 1;
                gloo_timers::future::TimeoutFuture::new(wait as u32).await;
            }
        }
    }
    cache::list_remove(client, post.id);
    client.remove_queries(&qk(QueryKey::Post(post.id)));
    client.remove_queries(&qk(QueryKey::Comments(post.id)));
    refresh_author(client, post.user_id);
    Ok(())
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
            querent::json::decode::<QueryKey>(&entry["key"]),
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
/// at once (stored everywhere by `put`); the snapshot of `keys` (whose
/// fetches in flight are cancelled) is the rollback context. Edits of one entity share a scope, so they reach the
/// server in order.
fn optimistic_edit<T>(
    scope: String,
    detail: querent::typed::QuerySpec<T>,
    keys: Vec<QueryKey>,
    apply: impl Fn(&mut T) + 'static,
    put: fn(&QueryClient, &T),
) -> MutateOptions
where
    T: Serialize + for<'de> Deserialize<'de> + 'static,
{
    MutateOptions {
        scope: Some(scope),
        on_mutate: Some(Box::new(move |client: &QueryClient, _vars: &Value| {
            for k in &keys {
                client.cancel_queries(&qk(*k));
            }
            let context = snapshot(client, &keys);
            if let Some(mut entity) = client.data(&detail) {
                apply(&mut entity);
                put(client, &entity);
            }
            context
        })),
        on_error: rollback_on_error(),
        ..MutateOptions::default()
    }
}

/// Optimistic post edit. A move to another author also moves one from the
/// previous author's `post_count` to the new one's at once; a refusal puts
/// the post and both counts back.
pub(crate) fn update_post_options(v: &UpdatePost) -> MutateOptions {
    let patch = v.patch.clone();
    let moved = match (v.patch.user_id, v.previous_user_id) {
        (Some(to), Some(from)) if to != from => Some((from, to)),
        _ => None,
    };
    let mut keys = vec![QueryKey::Post(v.id), QueryKey::Posts];
    if let Some((from, to)) = moved {
        keys.extend([QueryKey::Users, QueryKey::User(from), QueryKey::User(to)]);
    }
    let mut options = optimistic_edit(
        format!("post-{}", v.id),
        typed::post(v.id),
        keys,
        move |post: &mut Post| {
            if let Some(t) = &patch.title {
                post.title = t.trim().to_owned();
            }
            if let Some(b) = &patch.body {
                post.body = b.trim().to_owned();
            }
            if let Some(u) = patch.user_id {
                post.user_id = u;
            }
        },
        cache::put_post,
    );
    if let Some((from, to)) = moved {
        let edit = options.on_mutate.take();
        options.on_mutate = Some(Box::new(move |client: &QueryClient, vars: &Value| {
            let context = edit.map_or(Value::Null, |f| f(client, vars));
            cache::adjust_post_count(client, from, -1);
            cache::adjust_post_count(client, to, 1);
            context
        }));
    }
    options
}

/// Optimistic user edit.
pub(crate) fn update_user_options(v: &UpdateUser) -> MutateOptions {
    let patch = v.patch.clone();
    optimistic_edit(
        format!("user-{}", v.id),
        typed::user(v.id),
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

/// The latest failed mutation of any of `keys`, if it is newer than any
/// success of them.
pub(crate) fn last_failure(
    records: &[MutationRecord],
    keys: &[&str],
) -> Option<querent::QueryError> {
    last_failure_of(records, |r| keys.contains(&r.mutation_key.as_str()))
}

/// The latest failed mutation among those `which` picks, if it is newer than
/// any success among them.
pub(crate) fn last_failure_of(
    records: &[MutationRecord],
    which: impl Fn(&MutationRecord) -> bool,
) -> Option<querent::QueryError> {
    records
        .iter()
        .rev()
        .find(|r| !r.is_unsettled() && which(r))
        .filter(|r| r.status == MutationStatus::Error)
        .and_then(|r| r.error.clone())
}
