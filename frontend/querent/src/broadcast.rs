//! Tab sync over a message channel (TanStack's `broadcastQueryClient`):
//! each query's new data and each removal of a query that was in use are
//! posted to the other tabs, which apply them (a message being applied is
//! not posted back). The channel is injected (a `BroadcastChannel` in the
//! browser, `crate::web::broadcast`), so the logic is tested natively.
//!
//! Messages are JSON: `{"type":"updated","key":[..],"data":..,"updated_at":ms}`
//! and `{"type":"removed","key":[..]}`. Unlike TanStack's, a state without
//! data (pending, failed) is not sent: another tab fetches for itself.

use crate::client::{CacheEvent, QueryClient, Subscription};
use crate::filters::QueryFilters;
use crate::key::QueryKey;
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// Where messages go to the other tabs.
pub trait Channel {
    /// Posts `message` to every other tab on the channel.
    fn post(&self, message: &str);
}

struct State {
    client: QueryClient,
    channel: Rc<dyn Channel>,
    /// A message is being applied: what it changes is not posted back.
    applying: Cell<bool>,
    /// Per key, the data timestamp last posted or applied (so only new data
    /// is posted), and how many observers it has (a removal is posted only
    /// for a query in use, as TanStack's).
    known: RefCell<Vec<(QueryKey, i64, usize)>>,
}

impl State {
    fn entry<T>(&self, key: &QueryKey, f: impl FnOnce(&mut (QueryKey, i64, usize)) -> T) -> T {
        let mut known = self.known.borrow_mut();
        let at = match known.iter().position(|(k, ..)| k == key) {
            Some(at) => at,
            None => {
                known.push((key.clone(), 0, 0));
                known.len() - 1
            }
        };
        f(&mut known[at])
    }

    fn on_event(&self, event: &CacheEvent) {
        match event {
            CacheEvent::ObserverAdded(key) => self.entry(key, |e| e.2 += 1),
            CacheEvent::ObserverRemoved(key) => self.entry(key, |e| e.2 = e.2.saturating_sub(1)),
            CacheEvent::Updated(key) | CacheEvent::Added(key) => {
                let Some(state) = self.client.get_query_state(key) else {
                    return;
                };
                let Some(data) = state.data else { return };
                let new = self.entry(key, |e| {
                    let new = state.data_updated_at > e.1;
                    e.1 = e.1.max(state.data_updated_at);
                    new
                });
                if new && !self.applying.get() {
                    // Written out directly: no copy of the data.
                    self.channel.post(&format!(
                        r#"{{"type":"updated","key":{},"data":{},"updated_at":{}}}"#,
                        key.canonical(),
                        data,
                        state.data_updated_at
                    ));
                }
            }
            CacheEvent::Removed(key) => {
                let observed = {
                    let mut known = self.known.borrow_mut();
                    let observed = known.iter().any(|(k, _, n)| k == key && *n > 0);
                    known.retain(|(k, ..)| k != key);
                    observed
                };
                if observed && !self.applying.get() {
                    self.channel.post(&format!(
                        r#"{{"type":"removed","key":{}}}"#,
                        key.canonical()
                    ));
                }
            }
            _ => {}
        }
    }

    fn receive(&self, text: &str) {
        // Read by hand (no derived decoder: this runs in every page's wasm).
        let message: Value = serde_json::from_str(text).unwrap_or_default();
        let key = message["key"]
            .as_array()
            .map(|parts| QueryKey::from(parts.clone()));
        let (Some(kind), Some(key)) = (message["type"].as_str(), key) else {
            self.client
                .platform()
                .warn("a tab-sync message that is not querent's was ignored");
            return;
        };
        self.applying.set(true);
        match kind {
            "updated" => {
                let updated_at = message["updated_at"].as_i64().unwrap_or(0);
                // Older than what this tab holds: kept out. While this tab
                // fetches the query itself, its own answer (posted when it
                // comes) wins: applying this would supersede that fetch.
                let newer = self.client.get_query_state(&key).is_none_or(|s| {
                    s.fetch_status == crate::query::FetchStatus::Idle
                        && (s.data.is_none() || s.data_updated_at < updated_at)
                });
                if newer {
                    let data = message["data"].clone();
                    self.client
                        .set_query_data_at(&key, |_| Some(data), updated_at);
                }
            }
            "removed" => {
                self.client
                    .remove_queries_with(&QueryFilters::key(&key).exact());
            }
            _ => {}
        }
        self.applying.set(false);
    }
}

/// Tab sync for `client` over `channel` while the handle lives.
pub struct Broadcast {
    state: Rc<State>,
    _subscription: Subscription,
}

impl Broadcast {
    /// Applies a message another tab posted on the channel.
    pub fn receive(&self, message: &str) {
        self.state.receive(message);
    }
}

/// Starts posting `client`'s changes to `channel`; hand what the channel
/// receives to [`Broadcast::receive`].
pub fn connect(client: &QueryClient, channel: Rc<dyn Channel>) -> Broadcast {
    let state = Rc::new(State {
        client: client.clone(),
        channel,
        applying: Cell::new(false),
        known: RefCell::new(
            client
                .queries()
                .into_iter()
                .map(|q| (q.key, q.state.data_updated_at, q.observers))
                .collect(),
        ),
    });
    let weak = Rc::downgrade(&state);
    let subscription = client.subscribe_cache(move |event| {
        if let Some(state) = weak.upgrade() {
            state.on_event(event);
        }
    });
    Broadcast {
        state,
        _subscription: subscription,
    }
}
