//! Live updates: the server's event stream applied to the cache, so every
//! open tab shows other clients' writes without polling.
//!
//! The browser's `EventSource` reconnects by itself and resumes with
//! `Last-Event-ID`; a `resync` event (too far behind) invalidates everything.

use crate::cache;
use crate::mutations::append_comment;
use crate::queries::qk;
use gloo_events::EventListener;
use querent::QueryClient;
use shared::{EventKind, QueryKey, ServerEvent};
use wasm_bindgen::JsCast;
use web_sys::{EventSource, MessageEvent};

/// The open stream; dropping it closes the connection.
pub(crate) struct LiveUpdates {
    source: EventSource,
    _listeners: Vec<EventListener>,
}

impl Drop for LiveUpdates {
    fn drop(&mut self) {
        self.source.close();
    }
}

const EVENTS: [&str; 6] = [
    "post_created",
    "post_updated",
    "post_deleted",
    "comment_created",
    "user_updated",
    "resync",
];

/// Applies one event to the cache.
pub(crate) fn apply(client: &QueryClient, event: ServerEvent) {
    match event.kind {
        EventKind::PostCreated(post) => {
            cache::list_insert(client, &post);
            drop(client.invalidate_queries(&qk(QueryKey::Users)));
            drop(client.invalidate_queries(&qk(QueryKey::User(post.user_id))));
            drop(client.invalidate_queries(&qk(QueryKey::UserPosts(post.user_id))));
        }
        EventKind::PostUpdated(post) => {
            cache::put_post(client, &post);
            drop(client.invalidate_queries(&qk(QueryKey::Users)));
        }
        EventKind::PostDeleted { id, user_id } => {
            cache::list_remove(client, id);
            client.remove_queries(&qk(QueryKey::Post(id)));
            drop(client.invalidate_queries(&qk(QueryKey::Users)));
            drop(client.invalidate_queries(&qk(QueryKey::User(user_id))));
            drop(client.invalidate_queries(&qk(QueryKey::UserPosts(user_id))));
        }
        EventKind::CommentCreated(comment) => append_comment(client, &comment),
        EventKind::UserUpdated(user) => cache::put_user(client, &user),
        EventKind::Resync => drop(client.invalidate_queries(&querent::QueryKey::from(vec![]))),
    }
}

/// Opens `/api/events`; `None` when the browser has no `EventSource`.
pub(crate) fn connect(client: &QueryClient) -> Option<LiveUpdates> {
    let source = EventSource::new("/api/events").ok()?;
    let listeners = EVENTS
        .iter()
        .map(|name| {
            let client = client.clone();
            EventListener::new(&source, *name, move |event| {
                let Some(text) = event
                    .dyn_ref::<MessageEvent>()
                    .and_then(|m| m.data().as_string())
                else {
                    return;
                };
                match serde_json::from_str::<ServerEvent>(&text) {
                    Ok(event) => apply(&client, event),
                    Err(e) => {
                        web_sys::console::warn_1(&format!("ignoring a server event: {e}").into())
                    }
                }
            })
        })
        .collect();
    Some(LiveUpdates {
        source,
        _listeners: listeners,
    })
}
