//! A persister per query (TanStack's `experimental_createQueryPersister`):
//! instead of one record for the whole cache, each query is stored under
//! its own storage key (`{prefix}-{key}`) as it is fetched, and read back
//! only when a query without data is first fetched. A page then loads only
//! the stored queries it uses, and a large cache is never written whole.
//!
//! Give a query the persister by wrapping its fetcher
//! ([`QueryPersister::persister_fn`]; for every query of a key prefix, wrap
//! the fetcher of [`crate::QueryClient::set_query_defaults`]).
//!
//! ```
//! use querent::persist::{MemoryStorage, Storage};
//! use querent::query_persister::{QueryPersister, QueryPersisterOptions};
//! use querent::{QueryClient, QueryKey, QueryOptions};
//! use querent::options::fetcher;
//! use serde_json::json;
//! use std::rc::Rc;
//!
//! let (platform, mut runner) = querent::testing::FakePlatform::new();
//! let client = QueryClient::new(platform);
//! let storage = MemoryStorage::default();
//! let persister = QueryPersister::new(&client, Rc::new(storage.clone()), QueryPersisterOptions::default());
//! let key = QueryKey::of(&("todos",));
//! let fetch = persister.persister_fn(fetcher(|_| async { Ok(json!(["a"])) }));
//! runner.block_on(client.fetch_query(&key, fetch, QueryOptions::default())).unwrap();
//! runner.advance(0);
//! assert!(storage.get(r#"querent-["todos"]"#).unwrap().is_some());
//! ```

use crate::async_persist::AsyncStorage;
use crate::client::QueryClient;
use crate::error::QueryError;
use crate::filters::QueryFilters;
use crate::key::QueryKey;
use crate::options::{Fetcher, Refetch};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::rc::Rc;

/// A stored query (TanStack's `PersistedQuery`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PersistedQuery {
    /// The app version that wrote it.
    pub buster: String,
    /// The key's canonical text (TanStack's `queryHash`).
    pub query_hash: String,
    /// The key.
    pub query_key: Vec<Value>,
    /// The query's data and when it was fetched.
    pub state: PersistedQueryState,
}

/// What is stored of a query's state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PersistedQueryState {
    /// The data (none: the entry is discarded when read).
    #[serde(default)]
    pub data: Option<Value>,
    /// When the data was fetched (0 or absent: the entry is discarded).
    #[serde(default)]
    pub data_updated_at: i64,
    /// When the query last failed.
    #[serde(default)]
    pub error_updated_at: i64,
}

/// Settings of a [`QueryPersister`] (TanStack's `StoragePersisterOptions`;
/// serialization is JSON).
#[derive(Clone)]
pub struct QueryPersisterOptions {
    /// Entries written with another buster are discarded (use the app
    /// version).
    pub buster: String,
    /// Entries whose data is older than this are discarded (default 24 h).
    pub max_age_ms: i64,
    /// Storage keys are `{prefix}-{key}` (default `querent`).
    pub prefix: String,
    /// After a restore: `Refetch::IfStale` (default) refetches stale data,
    /// `Always` refetches, `Never` does not.
    pub refetch_on_restore: Refetch,
    /// Only the queries these pick are restored and stored (default: all).
    pub filters: Option<QueryFilters>,
}

impl Default for QueryPersisterOptions {
    fn default() -> Self {
        Self {
            buster: String::new(),
            max_age_ms: 24 * 60 * 60 * 1000,
            prefix: "querent".into(),
            refetch_on_restore: Refetch::IfStale,
            filters: None,
        }
    }
}

struct Inner {
    client: QueryClient,
    storage: Rc<dyn AsyncStorage>,
    options: QueryPersisterOptions,
}

/// Stores queries one by one (see the module docs). Cloning shares it.
#[derive(Clone)]
pub struct QueryPersister {
    inner: Rc<Inner>,
}

impl QueryPersister {
    /// A persister of `client`'s queries into `storage`.
    pub fn new(
        client: &QueryClient,
        storage: Rc<dyn AsyncStorage>,
        options: QueryPersisterOptions,
    ) -> Self {
        Self {
            inner: Rc::new(Inner {
                client: client.clone(),
                storage,
                options,
            }),
        }
    }

    fn storage_key(&self, key: &QueryKey) -> String {
        format!("{}-{}", self.inner.options.prefix, key.canonical())
    }

    fn is_expired_or_busted(&self, stored: &PersistedQuery) -> bool {
        let at = stored.state.data_updated_at;
        at == 0
            || stored.state.data.is_none()
            || self.inner.client.now() - at > self.inner.options.max_age_ms
            || stored.buster != self.inner.options.buster
    }

    /// Whether the filters pick the query under `key` (TanStack's
    /// `matchQuery`, as the client's `find_all` applies it).
    fn picks(&self, key: &QueryKey) -> bool {
        self.inner
            .options
            .filters
            .as_ref()
            .is_none_or(|filters| self.inner.client.find_all(filters).contains(key))
    }

    /// The stored entry for `key`, if it is there, readable, of this
    /// buster and young enough; one that is not is removed.
    async fn read(&self, storage_key: &str) -> Option<PersistedQuery> {
        let storage = &self.inner.storage;
        let text = match storage.get_item(storage_key).await {
            Ok(text) => text?,
            Err(e) => {
                self.inner.client.platform().warn(&format!(
                    "could not restore the query from {storage_key}: {e:?}"
                ));
                let _ = storage.remove_item(storage_key).await;
                return None;
            }
        };
        match crate::json::parse::<PersistedQuery>(&text) {
            Ok(stored) if !self.is_expired_or_busted(&stored) => Some(stored),
            _ => {
                let _ = storage.remove_item(storage_key).await;
                None
            }
        }
    }

    /// TanStack's `retrieveQuery`: the stored data for `key`, if any is
    /// usable.
    pub async fn retrieve_query(&self, key: &QueryKey) -> Option<Value> {
        self.read(&self.storage_key(key)).await?.state.data
    }

    /// TanStack's `persistQuery` / `persistQueryByKey`: stores the query's
    /// data as it is now (nothing when it has none).
    pub async fn persist_query_by_key(&self, key: &QueryKey) {
        let client = &self.inner.client;
        let Some(state) = client.get_query_state(key) else {
            client
                .platform()
                .warn(&format!("could not find the query to persist: {key}"));
            return;
        };
        let Some(data) = state.data else { return };
        let stored = PersistedQuery {
            buster: self.inner.options.buster.clone(),
            query_hash: key.canonical().to_owned(),
            query_key: key.segments().to_vec(),
            state: PersistedQueryState {
                data: Some((*data).clone()),
                data_updated_at: state.data_updated_at,
                error_updated_at: state.error_updated_at,
            },
        };
        if let Ok(text) = serde_json::to_string(&stored)
            && let Err(e) = self
                .inner
                .storage
                .set_item(&self.storage_key(key), text)
                .await
        {
            client
                .platform()
                .warn(&format!("could not persist the query {key}: {e:?}"));
        }
    }

    /// TanStack's `persisterFn`, as a fetcher around `fetcher`: a query
    /// without data first gets the stored data (the fetcher is not
    /// called; the data keeps its stored time, and a refetch follows as
    /// `refetch_on_restore` says); otherwise the fetcher runs and what it
    /// brought is stored.
    pub fn persister_fn(&self, fetcher: Fetcher) -> Fetcher {
        let persister = self.clone();
        Rc::new(move |ctx| {
            let (persister, fetcher) = (persister.clone(), Rc::clone(&fetcher));
            Box::pin(async move {
                let key = ctx.key.clone();
                let client = persister.inner.client.clone();
                let picked = persister.picks(&key);
                if picked && client.get_query_data(&key).is_none() {
                    let storage_key = persister.storage_key(&key);
                    if let Some(stored) = persister.read(&storage_key).await
                        && let Some(data) = stored.state.data
                    {
                        persister.after_restore(&key, stored.state.data_updated_at);
                        return Ok::<Value, QueryError>(data);
                    }
                }
                let result = fetcher(ctx).await;
                if picked && result.is_ok() {
                    // Once the cache holds what this fetch brought.
                    let sleep = client.platform().sleep(0);
                    client.platform().spawn(Box::pin(async move {
                        sleep.await;
                        persister.persist_query_by_key(&key).await;
                    }));
                }
                result
            })
        })
    }

    /// Once the restored data is in the cache: its stored time back, and
    /// the refetch `refetch_on_restore` asks for.
    fn after_restore(&self, key: &QueryKey, data_updated_at: i64) {
        let (persister, key) = (self.clone(), key.clone());
        let client = &self.inner.client;
        let sleep = client.platform().sleep(0);
        client.platform().spawn(Box::pin(async move {
            sleep.await;
            let client = &persister.inner.client;
            client.set_query_data_at(&key, |data| data.cloned(), data_updated_at);
            let refetch = match persister.inner.options.refetch_on_restore {
                Refetch::Always => true,
                Refetch::IfStale => client.is_stale(&key),
                Refetch::Never => false,
            };
            if refetch {
                let _ = client.refetch(&key).await;
            }
        }));
    }

    /// Every stored entry of this persister: (storage key, entry or `None`
    /// when it cannot be read). Fails when the storage cannot list them.
    async fn entries(&self) -> Vec<(String, Option<PersistedQuery>)> {
        let prefix = format!("{}-", self.inner.options.prefix);
        match self.inner.storage.entries().await {
            Ok(entries) => entries
                .into_iter()
                .filter(|(k, _)| k.starts_with(&prefix))
                .map(|(k, text)| (k, crate::json::parse(&text).ok()))
                .collect(),
            Err(e) => {
                self.inner
                    .client
                    .platform()
                    .warn(&format!("could not list the persisted queries: {e:?}"));
                vec![]
            }
        }
    }

    /// Whether a stored entry's key is picked by `key` (exact or prefix).
    fn key_picks(stored: &PersistedQuery, key: Option<&QueryKey>, exact: bool) -> bool {
        let Some(filter) = key else { return true };
        let stored_key = QueryKey::from(stored.query_key.clone());
        if exact {
            &stored_key == filter
        } else {
            stored_key.partially_matches(filter)
        }
    }

    /// TanStack's `persisterGc`: removes every stored entry that is
    /// unreadable, expired or of another buster.
    pub async fn persister_gc(&self) {
        for (storage_key, stored) in self.entries().await {
            if stored.is_none_or(|s| self.is_expired_or_busted(&s)) {
                let _ = self.inner.storage.remove_item(&storage_key).await;
            }
        }
    }

    /// TanStack's `restoreQueries`: puts every usable stored entry whose
    /// key `key` picks (all without one; `exact` or by prefix) into the
    /// cache with its stored time; the rest of what is unusable is removed.
    pub async fn restore_queries(&self, key: Option<&QueryKey>, exact: bool) {
        for (storage_key, stored) in self.entries().await {
            match stored {
                Some(s) if !self.is_expired_or_busted(&s) => {
                    if Self::key_picks(&s, key, exact)
                        && let Some(data) = s.state.data
                    {
                        let query_key = QueryKey::from(s.query_key);
                        let client = &self.inner.client;
                        client.set_query_data_at(
                            &query_key,
                            |_| Some(data),
                            s.state.data_updated_at,
                        );
                    }
                }
                _ => {
                    let _ = self.inner.storage.remove_item(&storage_key).await;
                }
            }
        }
    }

    /// TanStack's `removeQueries`: removes the stored entries whose key
    /// `key` picks (all without one), and those that cannot be read.
    pub async fn remove_queries(&self, key: Option<&QueryKey>, exact: bool) {
        for (storage_key, stored) in self.entries().await {
            if stored.is_none_or(|s| Self::key_picks(&s, key, exact)) {
                let _ = self.inner.storage.remove_item(&storage_key).await;
            }
        }
    }
}
