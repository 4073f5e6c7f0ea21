//! The app's mutations, one definition each (`querent::typed::Mutation`):
//! its key, variables, result, the call, and the cache effects that follow
//! every settle. They are registered by key so a mutation queued offline can
//! be replayed after a reload; the settle effects reconcile the cache with
//! the server's answer through the same functions as live events
//! (`cache::post_created`, ...), idempotently (they also run for replays, and
//! the live event may have applied the same change already). Call sites add
//! the optimistic part with a rollback snapshot.

use crate::api;
use crate::cache;
use crate::queries::typed;
use gloo_net::http::Method;
use querent::mutation::MutationRecord;
use querent::retryer::{Backoff, MAX_RETRY_AFTER_MS};
use querent::typed::{Call, Mutation, MutationFuture, MutationOptions, Snapshot};
use querent::{ErrorKind, MutationStatus, QueryClient, QueryError};
use serde::{Deserialize, Serialize};
use shared::{
    Comment, NewComment, NewPost, Post, PostId, PostPatch, QueryKey, User, UserId, UserPatch,
};

/// Edit a post, or move it to another author (`patch.user_id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PostEdit {
    /// Which.
    pub(crate) id: PostId,
    /// What changes.
    pub(crate) patch: PostPatch,
    /// The author before a move, whose count drops (kept with the variables
    /// so a replay after a reload still knows whom to refresh).
    #[serde(default)]
    pub(crate) previous_user_id: Option<UserId>,
}

/// A post together with its first comment: one user action, two API calls,
/// one mutation (so it queues, persists and replays as a unit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Publication {
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

/// A post to delete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PostDeletion {
    /// Which.
    pub(crate) id: PostId,
    /// Its author (whose count drops).
    pub(crate) user_id: UserId,
}

/// A comment on a post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CommentOnPost {
    /// Which post.
    pub(crate) post_id: PostId,
    /// The comment.
    pub(crate) comment: NewComment,
}

/// An edit of a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct UserEdit {
    /// Which.
    pub(crate) id: UserId,
    /// What changes.
    pub(crate) patch: UserPatch,
}

/// Creates a post.
pub(crate) struct CreatePost;

impl Mutation for CreatePost {
    const KEY: &'static str = "create_post";
    type Variables = NewPost;
    type Output = Post;

    fn call(&self, call: Call<NewPost>) -> MutationFuture<Post> {
        Box::pin(async move {
            api::send(
                Method::POST,
                "/api/posts",
                &call.idempotency_key,
                Some(&call.variables),
            )
            .await
        })
    }

    fn settled(&self, client: &QueryClient, _: &NewPost, outcome: Result<&Post, &QueryError>) {
        if let Ok(post) = outcome {
            cache::post_created(client, post);
        }
    }
}

/// Edits (or moves) a post.
pub(crate) struct UpdatePost;

impl Mutation for UpdatePost {
    const KEY: &'static str = "update_post";
    type Variables = PostEdit;
    type Output = Post;

    fn call(&self, call: Call<PostEdit>) -> MutationFuture<Post> {
        Box::pin(async move {
            let v = call.variables;
            let path = format!("/api/posts/{}", v.id);
            api::send(Method::PATCH, &path, &call.idempotency_key, Some(&v.patch)).await
        })
    }

    fn settled(&self, client: &QueryClient, v: &PostEdit, outcome: Result<&Post, &QueryError>) {
        match outcome {
            Ok(post) => cache::post_updated(client, post),
            // Refused: the call site's rollback puts the cached copies
            // back, but a replay after a reload has no call site; the
            // server's copy is the truth either way.
            Err(_) => {
                drop(client.invalidate_queries(&QueryKey::Post(v.id)));
                drop(client.invalidate_queries(&QueryKey::Posts));
            }
        }
        // A move (done or refused): both authors' numbers.
        for author in [v.previous_user_id, v.patch.user_id].into_iter().flatten() {
            cache::refresh_author(client, author);
        }
    }
}

/// Deletes a post.
pub(crate) struct DeletePost;

impl Mutation for DeletePost {
    const KEY: &'static str = "delete_post";
    type Variables = PostDeletion;
    type Output = ();

    fn call(&self, call: Call<PostDeletion>) -> MutationFuture<()> {
        Box::pin(async move {
            let path = format!("/api/posts/{}", call.variables.id);
            api::send(Method::DELETE, &path, &call.idempotency_key, None::<&()>).await
        })
    }

    fn settled(&self, client: &QueryClient, v: &PostDeletion, outcome: Result<&(), &QueryError>) {
        if outcome.is_ok() {
            cache::post_deleted(client, v.id, v.user_id);
        }
    }
}

/// Comments on a post.
pub(crate) struct CreateComment;

impl Mutation for CreateComment {
    const KEY: &'static str = "create_comment";
    type Variables = CommentOnPost;
    type Output = Comment;

    fn call(&self, call: Call<CommentOnPost>) -> MutationFuture<Comment> {
        Box::pin(async move {
            let v = call.variables;
            let path = format!("/api/posts/{}/comments", v.post_id);
            api::send(Method::POST, &path, &call.idempotency_key, Some(&v.comment)).await
        })
    }

    fn settled(
        &self,
        client: &QueryClient,
        _: &CommentOnPost,
        outcome: Result<&Comment, &QueryError>,
    ) {
        if let Ok(comment) = outcome {
            cache::comment_created(client, comment);
        }
    }
}

/// Publishes a post with its first comment (see [`publish`]).
pub(crate) struct PublishPost;

impl Mutation for PublishPost {
    const KEY: &'static str = "publish_post";
    type Variables = Publication;
    type Output = Published;

    fn call(&self, call: Call<Publication>) -> MutationFuture<Published> {
        Box::pin(publish(call.client, call.variables, call.idempotency_key))
    }

    /// A failure was cleaned up by the workflow itself (it knows which post
    /// it withdrew); a success fills the cache so the new post opens with
    /// its comment and no request.
    fn settled(
        &self,
        client: &QueryClient,
        _: &Publication,
        outcome: Result<&Published, &QueryError>,
    ) {
        if let Ok(done) = outcome {
            cache::post_created(client, &done.post);
            cache::comment_insert(client, &done.comment, true);
        }
    }
}

/// Edits a user.
pub(crate) struct UpdateUser;

impl Mutation for UpdateUser {
    const KEY: &'static str = "update_user";
    type Variables = UserEdit;
    type Output = User;

    fn call(&self, call: Call<UserEdit>) -> MutationFuture<User> {
        Box::pin(async move {
            let v = call.variables;
            let path = format!("/api/users/{}", v.id);
            api::send(Method::PATCH, &path, &call.idempotency_key, Some(&v.patch)).await
        })
    }

    fn settled(&self, client: &QueryClient, _: &UserEdit, outcome: Result<&User, &QueryError>) {
        if let Ok(user) = outcome {
            cache::user_updated(client, user);
        }
    }
}

/// Registers every mutation of the app.
pub(crate) fn register(client: &QueryClient) {
    client.register_mutation(CreatePost);
    client.register_mutation(UpdatePost);
    client.register_mutation(DeletePost);
    client.register_mutation(CreateComment);
    client.register_mutation(PublishPost);
    client.register_mutation(UpdateUser);
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
    v: Publication,
    key: String,
) -> Result<Published, QueryError> {
    let post: Post = api::send(
        Method::POST,
        "/api/posts",
        &format!("{key}:post"),
        Some(&v.post),
    )
    .await?;
    let path = format!("/api/posts/{}/comments", post.id);
    match api::send(
        Method::POST,
        &path,
        &format!("{key}:comment"),
        Some(&v.comment),
    )
    .await
    {
        Ok(comment) => Ok(Published { post, comment }),
        Err(e) if e.kind == ErrorKind::Network => Err(e),
        Err(e) => {
            withdraw(&client, &post, &key).await?;
            // Withdrawn: final, whatever `Retry-After` the comment's answer
            // carried (resending would publish the post again).
            Err(QueryError {
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
async fn withdraw(client: &QueryClient, post: &Post, key: &str) -> Result<(), QueryError> {
    let path = format!("/api/posts/{}", post.id);
    let mut attempts = 0;
    loop {
        let sent: Result<(), _> = api::send(
            Method::DELETE,
            &path,
            &format!("{key}:withdraw"),
            None::<&()>,
        )
        .await;
        match sent {
            Ok(()) => break,
            Err(e) if e.status() == Some(404) => break,
            Err(e) if e.kind == ErrorKind::Network || attempts >= 5 => {
                return Err(QueryError::network(format!(
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
    cache::post_deleted(client, post.id, post.user_id);
    Ok(())
}

/// Cancels the fetches of `keys` in flight (a late answer must not
/// overwrite the optimistic update) and snapshots their data.
fn hold(client: &QueryClient, keys: &[QueryKey]) -> Snapshot {
    for key in keys {
        client.cancel_queries(key);
    }
    client.snapshot(keys)
}

fn roll_back<M: Mutation>(options: MutationOptions<M, Snapshot>) -> MutationOptions<M, Snapshot> {
    MutationOptions {
        on_error: Some(Box::new(|client, _, _, snapshot: &Snapshot| {
            snapshot.restore(client)
        })),
        ..options
    }
}

/// Optimistic delete: gone from the list and the detail, the author's count
/// drops at once; all of it comes back if the server refuses.
pub(crate) fn delete_options(v: &PostDeletion) -> MutationOptions<DeletePost, Snapshot> {
    let v = v.clone();
    roll_back(MutationOptions {
        on_mutate: Some(Box::new(move |client: &QueryClient, _: &PostDeletion| {
            let snapshot = hold(
                client,
                &[
                    QueryKey::Posts,
                    QueryKey::Post(v.id),
                    QueryKey::Users,
                    QueryKey::User(v.user_id),
                ],
            );
            cache::list_remove(client, v.id);
            cache::adjust_post_count(client, v.user_id, -1);
            client.remove_queries(&QueryKey::Post(v.id));
            snapshot
        })),
        ..MutationOptions::default()
    })
}

/// An optimistic edit of one cached entity: `apply` changes the cached copy
/// at once (stored everywhere by `put`); the snapshot of `keys` (whose
/// fetches in flight are cancelled) is the rollback context. Edits of one
/// entity share a scope, so they reach the server in order.
fn optimistic_edit<M, T>(
    scope: String,
    detail: querent::typed::QuerySpec<T>,
    keys: Vec<QueryKey>,
    apply: impl Fn(&QueryClient, &mut T) + 'static,
    put: fn(&QueryClient, &T),
) -> MutationOptions<M, Snapshot>
where
    M: Mutation,
    T: Serialize + for<'de> Deserialize<'de> + 'static,
{
    roll_back(MutationOptions {
        scope: Some(scope),
        on_mutate: Some(Box::new(move |client: &QueryClient, _: &M::Variables| {
            let snapshot = hold(client, &keys);
            if let Some(mut entity) = client.data(&detail) {
                apply(client, &mut entity);
                put(client, &entity);
            }
            snapshot
        })),
        ..MutationOptions::default()
    })
}

/// Optimistic post edit. A move to another author also moves one from the
/// previous author's `post_count` to the new one's at once; a refusal puts
/// the post and both counts back.
pub(crate) fn update_post_options(v: &PostEdit) -> MutationOptions<UpdatePost, Snapshot> {
    let patch = v.patch.clone();
    let moved = match (v.patch.user_id, v.previous_user_id) {
        (Some(to), Some(from)) if to != from => Some((from, to)),
        _ => None,
    };
    let mut keys = vec![QueryKey::Post(v.id), QueryKey::Posts];
    if let Some((from, to)) = moved {
        keys.extend([QueryKey::Users, QueryKey::User(from), QueryKey::User(to)]);
    }
    optimistic_edit(
        format!("post-{}", v.id),
        typed::post(v.id),
        keys,
        move |client: &QueryClient, post: &mut Post| {
            if let Some(t) = &patch.title {
                post.title = t.trim().to_owned();
            }
            if let Some(b) = &patch.body {
                post.body = b.trim().to_owned();
            }
            if let Some(u) = patch.user_id {
                post.user_id = u;
            }
            if let Some((from, to)) = moved {
                cache::adjust_post_count(client, from, -1);
                cache::adjust_post_count(client, to, 1);
            }
        },
        cache::put_post,
    )
}

/// Optimistic user edit.
pub(crate) fn update_user_options(v: &UserEdit) -> MutationOptions<UpdateUser, Snapshot> {
    let patch = v.patch.clone();
    optimistic_edit(
        format!("user-{}", v.id),
        typed::user(v.id),
        vec![QueryKey::User(v.id), QueryKey::Users],
        move |_: &QueryClient, user: &mut User| {
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

/// Unconfirmed calls of `M`: their idempotency keys and variables.
pub(crate) fn unconfirmed<M: Mutation>(records: &[MutationRecord]) -> Vec<(String, M::Variables)> {
    records
        .iter()
        .filter(|r| r.is_unsettled())
        .filter_map(|r| Some((r.idempotency_key.clone(), r.variables_of::<M>()?)))
        .collect()
}

/// The latest failed mutation among those `which` picks, if it is newer than
/// any success among them.
pub(crate) fn last_failure_of(
    records: &[MutationRecord],
    which: impl Fn(&MutationRecord) -> bool,
) -> Option<QueryError> {
    records
        .iter()
        .rev()
        .find(|r| !r.is_unsettled() && which(r))
        .filter(|r| r.status == MutationStatus::Error)
        .and_then(|r| r.error.clone())
}
