//! Server events: an outbox table, a per-instance hub, and the SSE stream.
//!
//! Every write appends its event to the `events` table inside the write's own
//! transaction, so an event exists exactly when its change does, and its id is
//! the table's. Each instance runs one pump that reads new rows in id order
//! into a bounded in-memory log and a broadcast channel. The pump is woken in
//! process after a local write, by PostgreSQL `NOTIFY` after a write on any
//! instance, and by a slow timer as a safety net; it only ever reads the
//! table, so every instance delivers the same events with the same ids.
//!
//! Ordering: on SQLite writes are serialised; on PostgreSQL a writer takes a
//! transaction-scoped advisory lock before inserting its event, so ids become
//! visible strictly in order and "everything above the last id seen" is
//! never missing a row that commits later.
//!
//! Slow consumers: each SSE client reads from the broadcast channel with its
//! own cursor; one that falls more than the channel capacity behind is sent
//! a `resync` event instead of stalling the others.

use crate::db::{Db, DbConn, repo};
use actix_web_lab::sse;
use diesel::prelude::*;
use futures_util::{Stream, StreamExt, stream};
use shared::{EventKind, ServerEvent};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, broadcast};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

const NOTIFY_CHANNEL: &str = "app_events";
const EVENT_LOCK: i64 = 7202;

/// Appends `kind` to the outbox inside the caller's transaction.
pub fn append(conn: &mut DbConn, kind: &EventKind, now: i64) -> QueryResult<()> {
    use crate::db::schema::events;
    if matches!(conn, DbConn::Pg(_)) {
        diesel::sql_query(format!("SELECT pg_advisory_xact_lock({EVENT_LOCK})")).execute(conn)?;
    }
    let payload = serde_json::to_string(kind)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    diesel::insert_into(events::table)
        .values((events::payload.eq(payload), events::created_at.eq(now)))
        .execute(conn)?;
    if matches!(conn, DbConn::Pg(_)) {
        // Delivered to listeners when (and only if) the transaction commits.
        diesel::sql_query(format!("NOTIFY {NOTIFY_CHANNEL}")).execute(conn)?;
    }
    Ok(())
}

struct Log {
    events: VecDeque<ServerEvent>,
    /// Id of the newest event no longer held; resuming from below it needs a resync.
    floor: i64,
    last: i64,
}

/// The per-instance event hub.
pub struct EventHub {
    log: Mutex<Log>,
    capacity: usize,
    tx: broadcast::Sender<ServerEvent>,
    wake: Notify,
    stopped: AtomicBool,
    local_writes: AtomicU64,
}

/// What a new subscriber gets: the missed events to replay first (or a resync
/// notice), then the live receiver.
pub struct Subscription {
    pub replay: Vec<ServerEvent>,
    pub resync_at: Option<i64>,
    pub live: broadcast::Receiver<ServerEvent>,
}

impl EventHub {
    /// A hub that holds the last `capacity` events.
    pub fn new(capacity: usize) -> Arc<Self> {
        let capacity = capacity.max(1);
        let (tx, _) = broadcast::channel(capacity);
        Arc::new(Self {
            log: Mutex::new(Log {
                events: VecDeque::with_capacity(capacity),
                floor: 0,
                last: 0,
            }),
            capacity,
            tx,
            wake: Notify::new(),
            stopped: AtomicBool::new(false),
            local_writes: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Asks the pump to look for new events now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Called after a write on this instance commits, before it is answered.
    pub fn note_local_write(&self) {
        self.local_writes.fetch_add(1, Ordering::SeqCst);
    }

    /// Changes whenever data may have changed: after a local write commits
    /// (at once, so a client reads its own writes) and when an event from
    /// any instance arrives. Read it *before* reading data; data read after
    /// a given version is at least that new.
    pub fn data_version(&self) -> (u64, i64) {
        (self.local_writes.load(Ordering::SeqCst), self.last_id())
    }

    /// Stops the pump and the listener.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// The newest event id this instance has seen.
    pub fn last_id(&self) -> i64 {
        self.lock().last
    }

    fn publish(&self, rows: Vec<(i64, String)>) {
        let mut log = self.lock();
        for (id, payload) in rows {
            if id <= log.last {
                continue;
            }
            log.last = id;
            let kind = match serde_json::from_str::<EventKind>(&payload) {
                Ok(kind) => kind,
                Err(e) => {
                    tracing::error!(id, error = %e, "skipping an undecodable stored event");
                    continue;
                }
            };
            let event = ServerEvent { id, kind };
            if log.events.len() == self.capacity
                && let Some(old) = log.events.pop_front()
            {
                log.floor = old.id;
            }
            log.events.push_back(event.clone());
            // No receivers is fine: nobody is listening right now.
            let _ = self.tx.send(event);
        }
    }

    /// Loads the newest stored events so resumes work right after a restart.
    pub fn prime(&self, conn: &mut DbConn) -> QueryResult<()> {
        let rows = repo::latest_events(conn, self.capacity as i64)?;
        let mut log = self.lock();
        log.floor = match rows.first() {
            Some((first, _)) if rows.len() == self.capacity => first - 1,
            _ => 0,
        };
        drop(log);
        self.publish(rows);
        Ok(())
    }

    /// Reads the outbox past what the pump has published, now: a client
    /// resuming from an id another instance already served (its pump ran
    /// ahead of ours) then gets a replay instead of a resync.
    pub fn catch_up(&self, conn: &mut DbConn) -> QueryResult<()> {
        loop {
            let rows = repo::events_after(conn, self.last_id(), 1000)?;
            let full = rows.len() == 1000;
            self.publish(rows);
            if !full {
                return Ok(());
            }
        }
    }

    /// Subscribes a client that has seen events up to `last_seen` (from the
    /// `Last-Event-ID` header; `None` for a fresh client).
    pub fn subscribe(&self, last_seen: Option<i64>) -> Subscription {
        let log = self.lock();
        let live = self.tx.subscribe();
        match last_seen {
            None => Subscription {
                replay: vec![],
                resync_at: None,
                live,
            },
            Some(seen) if seen >= log.floor && seen <= log.last => Subscription {
                replay: log.events.iter().filter(|e| e.id > seen).cloned().collect(),
                resync_at: None,
                live,
            },
            // Too old to replay, or from another deployment's numbering.
            Some(_) => Subscription {
                replay: vec![],
                resync_at: Some(log.last),
                live,
            },
        }
    }

    /// Reads new outbox rows whenever woken (or every `poll`), until stopped.
    pub async fn run_pump(self: Arc<Self>, db: Db, poll: Duration) {
        while !self.stopped.load(Ordering::SeqCst) {
            let after = self.last_id();
            let fetch_db = db.clone();
            let rows = actix_web::rt::task::spawn_blocking(move || {
                let mut conn = fetch_db.conn().map_err(|e| e.to_string())?;
                repo::events_after(&mut conn, after, 1000).map_err(|e| e.to_string())
            })
            .await;
            match rows {
                Ok(Ok(rows)) => {
                    let full = rows.len() == 1000;
                    self.publish(rows);
                    if full {
                        continue;
                    }
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "reading events failed; will retry"),
                Err(e) => tracing::warn!(error = %e, "event reader task failed; will retry"),
            }
            let _ = tokio::time::timeout(poll, self.wake.notified()).await;
        }
    }

    /// On PostgreSQL, wakes the pump on every `NOTIFY` from any instance.
    /// Runs on its own thread with its own connection; reconnects on failure.
    pub fn spawn_pg_listener(self: &Arc<Self>, url: String) -> std::thread::JoinHandle<()> {
        let hub = Arc::clone(self);
        std::thread::Builder::new()
            .name("pg-listen".into())
            .spawn(move || {
                while !hub.stopped.load(Ordering::SeqCst) {
                    let mut conn = match diesel::PgConnection::establish(&url) {
                        Ok(c) => c,
                        Err(e) => {
                            tracing::warn!(error = %e, "LISTEN connection failed; retrying");
                            std::thread::sleep(Duration::from_secs(1));
                            continue;
                        }
                    };
                    if let Err(e) =
                        diesel::sql_query(format!("LISTEN {NOTIFY_CHANNEL}")).execute(&mut conn)
                    {
                        tracing::warn!(error = %e, "LISTEN failed; retrying");
                        std::thread::sleep(Duration::from_secs(1));
                        continue;
                    }
                    // A reconnect may have missed notifications: look now.
                    hub.wake();
                    'poll: while !hub.stopped.load(Ordering::SeqCst) {
                        let mut woke = false;
                        for n in conn.notifications_iter() {
                            match n {
                                Ok(_) => woke = true,
                                Err(e) => {
                                    tracing::warn!(error = %e, "LISTEN connection lost");
                                    break 'poll;
                                }
                            }
                        }
                        if woke {
                            hub.wake();
                        }
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
            })
            .expect("spawning a thread only fails when the OS is out of resources")
    }
}

/// One event as sent to a client. `sse_id` is the SSE `id:` field: absent on
/// a resync sent to a lagging live client, so its next resume starts after
/// the last event it really received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub sse_id: Option<i64>,
    pub event: ServerEvent,
}

impl Outgoing {
    fn live(event: ServerEvent) -> Self {
        Self {
            sse_id: Some(event.id),
            event,
        }
    }

    fn resync(at: Option<i64>) -> Self {
        Self {
            sse_id: at,
            event: ServerEvent {
                id: at.unwrap_or(0),
                kind: EventKind::Resync,
            },
        }
    }

    fn into_sse(self) -> sse::Event {
        let data = sse::Data::new_json(&self.event)
            .unwrap_or_else(|_| sse::Data::new("{}"))
            .event(self.event.kind.name());
        sse::Event::Data(match self.sse_id {
            Some(id) => data.id(id.to_string()),
            None => data,
        })
    }
}

/// What one client receives: the replay (or a resync), then live events.
pub fn outgoing(sub: Subscription) -> impl Stream<Item = Outgoing> {
    let replayed_up_to = sub
        .replay
        .last()
        .map(|e| e.id)
        .or(sub.resync_at)
        .unwrap_or(i64::MIN);
    let head: Vec<Outgoing> = match sub.resync_at {
        Some(at) => vec![Outgoing::resync(Some(at))],
        None => sub.replay.into_iter().map(Outgoing::live).collect(),
    };
    let live = BroadcastStream::new(sub.live).filter_map(move |item| {
        std::future::ready(match item {
            // Subscribed before the replay was taken: skip what it already sent.
            Ok(event) if event.id <= replayed_up_to => None,
            Ok(event) => Some(Outgoing::live(event)),
            Err(BroadcastStreamRecvError::Lagged(missed)) => {
                tracing::info!(missed, "SSE client fell behind; sending resync");
                Some(Outgoing::resync(None))
            }
        })
    });
    stream::iter(head).chain(live)
}

/// The SSE stream for one client.
pub fn stream(sub: Subscription) -> impl Stream<Item = Result<sse::Event, Infallible>> {
    outgoing(sub).map(|o| Ok(o.into_sse()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::{PostId, UserId};

    fn deleted(id: i64) -> (i64, String) {
        let kind = EventKind::PostDeleted {
            id: PostId(id),
            user_id: UserId(1),
        };
        (id, serde_json::to_string(&kind).unwrap())
    }

    #[tokio::test]
    async fn a_client_that_falls_behind_gets_resync_and_then_newer_events() {
        let hub = EventHub::new(4);
        let sub = hub.subscribe(None);
        // Ten events while the client reads nothing: more than the hub holds.
        hub.publish((1..=10).map(deleted).collect());
        let got: Vec<Outgoing> = outgoing(sub).take(5).collect().await;
        assert_eq!(got[0].event.kind, EventKind::Resync);
        assert_eq!(
            got[0].sse_id, None,
            "keeps the id of the last event really received"
        );
        let ids: Vec<i64> = got[1..].iter().map(|o| o.event.id).collect();
        assert_eq!(
            ids,
            [7, 8, 9, 10],
            "then the newest events it can still get"
        );
    }

    #[test]
    fn resume_inside_the_log_replays_and_outside_resyncs() {
        let hub = EventHub::new(3);
        hub.publish((1..=5).map(deleted).collect());
        let sub = hub.subscribe(Some(3));
        assert_eq!(sub.replay.iter().map(|e| e.id).collect::<Vec<_>>(), [4, 5]);
        assert_eq!(sub.resync_at, None);
        let sub = hub.subscribe(Some(1));
        assert!(sub.replay.is_empty());
        assert_eq!(sub.resync_at, Some(5));
        let sub = hub.subscribe(Some(99));
        assert_eq!(sub.resync_at, Some(5), "ids from the future resync too");
        let sub = hub.subscribe(Some(5));
        assert!(sub.replay.is_empty() && sub.resync_at.is_none());
    }

    #[test]
    fn publishing_skips_ids_already_seen() {
        let hub = EventHub::new(10);
        hub.publish(vec![deleted(1), deleted(2)]);
        hub.publish(vec![deleted(2), deleted(3)]);
        let sub = hub.subscribe(Some(0));
        assert_eq!(
            sub.replay.iter().map(|e| e.id).collect::<Vec<_>>(),
            [1, 2, 3]
        );
    }
}
