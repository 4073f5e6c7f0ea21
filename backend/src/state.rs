//! What every handler can reach.

use crate::config::Settings;
use crate::db::Db;
use crate::events::EventHub;
use crate::pages::{PageCache, Pages};
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub hub: Arc<EventHub>,
    pub pages: Arc<Pages>,
    pub page_cache: Arc<PageCache>,
    pub answers: Arc<crate::reuse::AnswerCache>,
    pub settings: Arc<Settings>,
    /// The caps on live event streams.
    pub streams: Arc<crate::limits::StreamLimits>,
    /// The rate of writes per client.
    pub writes: Arc<crate::limits::WriteLimits>,
}
