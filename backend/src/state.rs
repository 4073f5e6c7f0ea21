//! What every handler can reach.

use crate::config::Settings;
use crate::db::Db;
use crate::events::EventHub;
use crate::pages::Pages;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub hub: Arc<EventHub>,
    pub pages: Arc<Pages>,
    pub settings: Arc<Settings>,
}
