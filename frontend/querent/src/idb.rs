//! The offline queue in IndexedDB (feature `web`): a [`MutationJournal`]
//! whose appends are committed with `durability: "strict"`, so a change is
//! on disk before it shows as pending. localStorage, which the cache is
//! persisted to, is written to disk by Chromium some time later: a browser
//! killed in between (power cut, OOM killer) lost a change the person had
//! seen counted. One object store, `mutations`, keyed by idempotency key,
//! each value a [`MutationRecord`] as JSON. Also [`IdbStorage`], a
//! key-value store for the asynchronous persisters.

use crate::async_persist::AsyncStorage;
use crate::client::QueryClient;
use crate::mutation::{MutationJournal, MutationRecord};
use crate::persist::StorageError;
use futures::future::{FutureExt, LocalBoxFuture, Shared};
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbTransactionMode};

const STORE: &str = "mutations";

type Opened = Shared<LocalBoxFuture<'static, Result<IdbDatabase, String>>>;

/// The queue's IndexedDB database (see the module docs).
#[derive(Clone)]
pub struct IdbMutationJournal {
    db: Opened,
    /// As the persisted cache's: entries of another app version, or older
    /// than `max_age_ms`, are not replayed.
    buster: Rc<str>,
    max_age_ms: i64,
}

fn why(error: &JsValue) -> String {
    crate::web::describe(error)
}

/// Settles when `target`'s `ok` event fires (with the target), or fails on
/// `error` / `abort`.
async fn event(target: &web_sys::EventTarget, ok: &str, fail: &[&str]) -> Result<(), String> {
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        let _ = target.add_event_listener_with_callback(ok, &resolve);
        for name in fail {
            let _ = target.add_event_listener_with_callback(name, &reject);
        }
    });
    JsFuture::from(promise).await.map(drop).map_err(|e| {
        // The reason is on the request or the transaction that failed
        // (a full disk aborts the transaction: `QuotaExceededError`).
        let target = e
            .dyn_ref::<web_sys::Event>()
            .and_then(web_sys::Event::target);
        let request = target
            .as_ref()
            .and_then(|t| t.dyn_ref::<web_sys::IdbRequest>())
            .and_then(|r| r.error().ok().flatten());
        let transaction = target
            .as_ref()
            .and_then(|t| t.dyn_ref::<web_sys::IdbTransaction>())
            .and_then(web_sys::IdbTransaction::error);
        request.or(transaction).map_or_else(|| why(&e), |d| why(&d))
    })
}

async fn open(name: String, store: &'static str) -> Result<IdbDatabase, String> {
    let factory = web_sys::window()
        .ok_or("no window")?
        .indexed_db()
        .map_err(|e| why(&e))?
        .ok_or("IndexedDB is unavailable")?;
    let request = factory.open_with_u32(&name, 1).map_err(|e| why(&e))?;
    let upgrade = {
        let request = request.clone();
        wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
            if let Some(db) = request
                .result()
                .ok()
                .and_then(|r| r.dyn_into::<IdbDatabase>().ok())
            {
                let _ = db.create_object_store(store);
            }
        })
    };
    request.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
    event(&request, "success", &["error", "blocked"]).await?;
    drop(upgrade);
    request
        .result()
        .map_err(|e| why(&e))?
        .dyn_into::<IdbDatabase>()
        .map_err(|e| why(&e))
}

impl IdbMutationJournal {
    /// The journal of the persisted cache `options` describes: its database
    /// is named by the storage key (opened now, used once open), and it
    /// replays only what its buster and max age allow.
    pub fn open(options: &crate::persist::PersistOptions) -> Self {
        Self {
            db: open(options.storage_key.clone(), STORE)
                .boxed_local()
                .shared(),
            buster: options.buster.as_str().into(),
            max_age_ms: options.max_age_ms,
        }
    }

    /// Every mutation the journal holds (what a killed page left).
    pub async fn records(&self) -> Result<Vec<MutationRecord>, String> {
        let db = self.db.clone().await?;
        let tx = db
            .transaction_with_str_and_mode(STORE, IdbTransactionMode::Readonly)
            .map_err(|e| why(&e))?;
        let request = tx
            .object_store(STORE)
            .and_then(|s| s.get_all())
            .map_err(|e| why(&e))?;
        event(&request, "success", &["error"]).await?;
        let values = js_sys::Array::from(&request.result().map_err(|e| why(&e))?);
        let oldest = js_sys::Date::now() as i64 - self.max_age_ms;
        Ok(values
            .iter()
            .filter_map(|v| v.as_string())
            .filter_map(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .filter(|entry| {
                entry["buster"].as_str() == Some(&*self.buster)
                    && entry["at"].as_i64().is_some_and(|at| at >= oldest)
            })
            .filter_map(|entry| crate::json::decode(&entry["record"]).ok())
            .collect())
    }
}

/// Writes (or deletes, without a value) one entry of `store`; strict: the
/// future ends when the transaction is on disk.
async fn write(
    db: Opened,
    store_name: &'static str,
    key: String,
    value: Option<String>,
    strict: bool,
) -> Result<(), String> {
    let db = db.await?;
    // `transaction(store, "readwrite", { durability })`: web-sys has
    // the options dictionary only behind its unstable-APIs flag.
    let options = js_sys::Object::new();
    let durability = if strict { "strict" } else { "relaxed" };
    js_sys::Reflect::set(&options, &"durability".into(), &durability.into())
        .map_err(|e| why(&e))?;
    let transaction = js_sys::Reflect::get(&db, &"transaction".into())
        .and_then(|f| f.dyn_into::<js_sys::Function>())
        .map_err(|e| why(&e))?;
    let tx = transaction
        .call3(&db, &store_name.into(), &"readwrite".into(), &options)
        .and_then(|t| t.dyn_into::<web_sys::IdbTransaction>())
        .map_err(|e| why(&e))?;
    let store = tx.object_store(store_name).map_err(|e| why(&e))?;
    let key = JsValue::from_str(&key);
    match value {
        Some(value) => store.put_with_key(&JsValue::from_str(&value), &key),
        None => store.delete(&key),
    }
    .map_err(|e| why(&e))?;
    event(&tx, "complete", &["error", "abort"]).await
}

impl IdbMutationJournal {
    /// Starts keeping `client`'s new mutations here and adopts what a page
    /// killed before left (each is sent once: its idempotency key is kept,
    /// and one the client already holds is skipped).
    pub fn attach(self, client: &QueryClient) {
        client.set_mutation_journal(Some(Rc::new(self.clone())));
        let client = client.clone();
        wasm_bindgen_futures::spawn_local(async move {
            match self.records().await {
                Ok(records) => {
                    client.restore_mutations(records);
                }
                Err(why) => client.platform().warn(&format!(
                    "the offline queue's IndexedDB is unavailable: {why}"
                )),
            }
        });
    }
}

impl MutationJournal for IdbMutationJournal {
    fn append(&self, record: &MutationRecord) -> LocalBoxFuture<'static, Result<(), StorageError>> {
        let value = serde_json::json!({
            "buster": &*self.buster,
            "at": js_sys::Date::now() as i64,
            "record": record,
        })
        .to_string();
        let write = write(
            self.db.clone(),
            STORE,
            record.idempotency_key.clone(),
            Some(value),
            true,
        );
        Box::pin(write.map(|r| r.map_err(storage_error)))
    }

    fn forget(&self, idempotency_key: &str) {
        let write = write(
            self.db.clone(),
            STORE,
            idempotency_key.to_owned(),
            None,
            false,
        );
        wasm_bindgen_futures::spawn_local(async move {
            let _ = write.await;
        });
    }
}

fn storage_error(why: String) -> StorageError {
    if why.starts_with("QuotaExceededError") {
        StorageError::QuotaExceeded
    } else {
        StorageError::Unavailable(why)
    }
}

const KEY_VALUES: &str = "entries";

/// An [`AsyncStorage`] in IndexedDB (the database `name`, one object store
/// of strings by key), for [`crate::async_persist`] and
/// [`crate::query_persister`]: larger than localStorage's 5 MB, and
/// read and written off the main thread. Writes are committed with
/// `durability: "relaxed"` (a cache can be fetched again; the offline
/// queue's durability is [`IdbMutationJournal`]'s).
#[derive(Clone)]
pub struct IdbStorage {
    db: Opened,
}

impl IdbStorage {
    /// The storage in database `name` (opened now, created if missing).
    pub fn open(name: &str) -> Self {
        Self {
            db: open(name.to_owned(), KEY_VALUES).boxed_local().shared(),
        }
    }

    /// The results of `requests` on the store, read in one transaction.
    async fn read(
        db: Opened,
        requests: impl FnOnce(&web_sys::IdbObjectStore) -> Result<Vec<web_sys::IdbRequest>, JsValue>,
    ) -> Result<Vec<JsValue>, StorageError> {
        let read = async move {
            let db = db.await?;
            let tx = db
                .transaction_with_str_and_mode(KEY_VALUES, IdbTransactionMode::Readonly)
                .map_err(|e| why(&e))?;
            let store = tx.object_store(KEY_VALUES).map_err(|e| why(&e))?;
            let requests = requests(&store).map_err(|e| why(&e))?;
            event(&tx, "complete", &["error", "abort"]).await?;
            requests
                .iter()
                .map(|r| r.result().map_err(|e| why(&e)))
                .collect::<Result<Vec<JsValue>, String>>()
        };
        read.await.map_err(storage_error)
    }
}

impl AsyncStorage for IdbStorage {
    fn get_item(&self, key: &str) -> LocalBoxFuture<'static, Result<Option<String>, StorageError>> {
        let key = JsValue::from_str(key);
        let read = Self::read(self.db.clone(), move |store| Ok(vec![store.get(&key)?]));
        Box::pin(read.map(|r| r.map(|values| values.first().and_then(JsValue::as_string))))
    }

    fn set_item(
        &self,
        key: &str,
        value: String,
    ) -> LocalBoxFuture<'static, Result<(), StorageError>> {
        let write = write(
            self.db.clone(),
            KEY_VALUES,
            key.to_owned(),
            Some(value),
            false,
        );
        Box::pin(write.map(|r| r.map_err(storage_error)))
    }

    fn remove_item(&self, key: &str) -> LocalBoxFuture<'static, Result<(), StorageError>> {
        let write = write(self.db.clone(), KEY_VALUES, key.to_owned(), None, false);
        Box::pin(write.map(|r| r.map_err(storage_error)))
    }

    fn entries(&self) -> LocalBoxFuture<'static, Result<Vec<(String, String)>, StorageError>> {
        let read = Self::read(self.db.clone(), |store| {
            Ok(vec![store.get_all_keys()?, store.get_all()?])
        });
        Box::pin(read.map(|r| {
            let values = r?;
            let (keys, values) = match values.as_slice() {
                [keys, values] => (js_sys::Array::from(keys), js_sys::Array::from(values)),
                _ => return Ok(vec![]),
            };
            Ok(keys
                .iter()
                .zip(values.iter())
                .filter_map(|(k, v)| Some((k.as_string()?, v.as_string()?)))
                .collect())
        }))
    }
}
