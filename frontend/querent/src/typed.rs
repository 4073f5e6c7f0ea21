//! Typed access to the cache: a key that knows the type of its data.
//!
//! The cache stores JSON (hydration, persistence and the devtools need it);
//! its users should not. A [`Query`] names a key and the type of the data
//! under it, so reading is decoding into that type and an edit is a closure
//! over the typed data: decoded once, edited, encoded back, never a JSON
//! path. [`Key`] is the ready-made one, made from any key that serialises
//! to the canonical JSON array (an app's own key enum, say).
//!
//! ```
//! use querent::QueryClient;
//! use querent::typed::Key;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize)]
//! struct Post { id: i64, title: String }
//!
//! # let (platform, _runner) = querent::testing::FakePlatform::new();
//! let client = QueryClient::new(platform);
//! let post = Key::<Post>::new(&("post", 1));
//! client.set_data(&post, &Post { id: 1, title: "Hello".into() });
//! client.update_data(&post, |p| {
//!     p.title.push('!');
//!     true
//! });
//! assert_eq!(client.data(&post).unwrap().title, "Hello!");
//! ```

use crate::{Fetcher, QueryClient, QueryError, QueryKey, QueryOptions};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;

pub(crate) mod mutation;
pub use mutation::{Call, Mutation, MutationFuture, MutationOptions, Snapshot};

/// A query whose key knows the type of its data.
pub trait Query {
    /// What the query holds (for an infinite query, all its pages).
    type Data: Serialize + DeserializeOwned + 'static;

    /// The cache key.
    fn key(&self) -> QueryKey;
}

/// A cache key and the type of the data under it.
pub struct Key<T> {
    key: QueryKey,
    data: PhantomData<fn() -> T>,
}

impl<T> Key<T> {
    /// The key whose canonical array is `key` serialised (a tuple, a
    /// `Vec`, or a type that serialises to an array).
    ///
    /// # Panics
    /// If `key` does not serialise to a JSON array: a programming error,
    /// caught the first time the key is made.
    pub fn new(key: &impl Serialize) -> Self {
        Self::from_key(QueryKey::of(key))
    }

    /// Types an untyped key.
    pub fn from_key(key: QueryKey) -> Self {
        Self {
            key,
            data: PhantomData,
        }
    }

    /// The untyped key.
    pub fn query_key(&self) -> &QueryKey {
        &self.key
    }
}

/// A key serialises as its canonical array, so it names a prefix too
/// (`client.invalidate_queries(&key)`).
impl<T> Serialize for Key<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.key.serialize(s)
    }
}

impl<T> Clone for Key<T> {
    fn clone(&self) -> Self {
        Self::from_key(self.key.clone())
    }
}

impl<T> std::fmt::Debug for Key<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({})", self.key)
    }
}

impl<T: Serialize + DeserializeOwned + 'static> Query for Key<T> {
    type Data = T;

    fn key(&self) -> QueryKey {
        self.key.clone()
    }
}

/// What a hook or a loader needs of a query: its typed key, how to fetch
/// it, and its options (TanStack's `queryOptions`). A spec is also a
/// [`Query`], so the cache is read and edited through it.
pub struct QuerySpec<T> {
    /// The key, with the data's type.
    pub key: Key<T>,
    /// How to fetch it.
    pub fetcher: Fetcher,
    /// Its options (`get_next_page_param` makes it an infinite query).
    pub options: QueryOptions,
}

impl<T> QuerySpec<T> {
    /// The spec of `key`.
    pub fn new(key: Key<T>, fetcher: Fetcher, options: QueryOptions) -> Self {
        Self {
            key,
            fetcher,
            options,
        }
    }

    /// The spec with `data` as its initial data (TanStack's `initialData`),
    /// current as of `updated_at` (ms; `None`: when the query adopts it).
    ///
    /// ```
    /// # use querent::typed::{Key, QuerySpec};
    /// # use querent::options::fetcher;
    /// # let (platform, mut runner) = querent::testing::FakePlatform::new();
    /// let client = querent::QueryClient::new(platform);
    /// let never = fetcher(|_| async { unreachable!("the initial data answers") });
    /// let todos = QuerySpec::new(Key::<Vec<String>>::new(&["todos"]), never, Default::default())
    ///     .initial_data(&vec!["milk".to_owned()], None);
    /// let data = runner.block_on(client.ensure_data(&todos)).unwrap();
    /// assert_eq!(data, ["milk"]);
    /// ```
    pub fn initial_data(mut self, data: &T, updated_at: Option<i64>) -> Self
    where
        T: Serialize,
    {
        self.options.initial_data = Some(crate::options::initial_data(data));
        self.options.initial_data_updated_at = updated_at;
        self
    }

    /// The untyped parts, as the JSON-keyed API takes them.
    pub fn into_parts(self) -> (QueryKey, Fetcher, QueryOptions) {
        (self.key.key, self.fetcher, self.options)
    }
}

/// A spec serialises as its key.
impl<T> Serialize for QuerySpec<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.key.serialize(s)
    }
}

impl<T> Clone for QuerySpec<T> {
    fn clone(&self) -> Self {
        Self::new(
            self.key.clone(),
            std::rc::Rc::clone(&self.fetcher),
            self.options.clone(),
        )
    }
}

impl<T: Serialize + DeserializeOwned + 'static> Query for QuerySpec<T> {
    type Data = T;

    fn key(&self) -> QueryKey {
        self.key.key.clone()
    }
}

/// The data of an infinite query: the pages fetched so far and the
/// parameter each was fetched with (`null` for the first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InfiniteData<P> {
    /// The pages, in order.
    pub pages: Vec<P>,
    /// Each page's parameter.
    pub page_params: Vec<serde_json::Value>,
}

/// A JSON-level read's answer, decoded.
async fn decoded_answer<T: DeserializeOwned>(
    read: impl Future<Output = Result<std::rc::Rc<serde_json::Value>, QueryError>>,
) -> Result<T, QueryError> {
    decoded(&*read.await?)
}

/// `value` as a `T`, or a `Decode` error.
pub(crate) fn decoded<T: DeserializeOwned>(value: &serde_json::Value) -> Result<T, QueryError> {
    crate::json::decode(value)
        .map_err(|e| QueryError::decode(format!("unexpected data shape: {e}")))
}

impl QueryClient {
    /// The cached data of `query`, decoded; `None` when nothing is cached
    /// (or what is cached is not a `Q::Data`).
    pub fn data<Q: Query>(&self, query: &Q) -> Option<Q::Data> {
        let value = self.get_query_data(&query.key())?;
        crate::json::decode(&value).ok()
    }

    /// [`QueryClient::fetch_query`] for a spec: its fresh cached data, or
    /// fetched (joining a fetch in flight), decoded.
    pub fn fetch_data<T>(
        &self,
        spec: &QuerySpec<T>,
    ) -> impl Future<Output = Result<T, QueryError>> + 'static + use<T>
    where
        T: DeserializeOwned + 'static,
    {
        let (key, fetcher, options) = spec.clone().into_parts();
        decoded_answer(self.fetch_query(&key, fetcher, options))
    }

    /// [`QueryClient::ensure_query_data`] for a spec (TanStack's
    /// `ensureQueryData`): the cached data even if stale (or the spec's
    /// initial data), else fetched, decoded.
    pub fn ensure_data<T>(
        &self,
        spec: &QuerySpec<T>,
    ) -> impl Future<Output = Result<T, QueryError>> + 'static + use<T>
    where
        T: DeserializeOwned + 'static,
    {
        let (key, fetcher, options) = spec.clone().into_parts();
        decoded_answer(self.ensure_query_data(&key, fetcher, options))
    }

    /// Caches `data` as `query`'s data.
    pub fn set_data<Q: Query>(&self, query: &Q, data: &Q::Data) {
        if let Ok(value) = serde_json::to_value(data) {
            self.set_query_data(&query.key(), |_| Some(value));
        }
    }

    /// Edits `query`'s cached data: `edit` gets it decoded and says whether
    /// it changed anything; only then is it stored (and observers told).
    /// Nothing is cached, or it is not a `Q::Data`: nothing happens.
    /// Returns whether the data changed.
    pub fn update_data<Q: Query>(
        &self,
        query: &Q,
        edit: impl FnOnce(&mut Q::Data) -> bool,
    ) -> bool {
        let mut changed = false;
        self.set_query_data(&query.key(), |current| {
            let mut data: Q::Data = crate::json::decode(current?).ok()?;
            if !edit(&mut data) {
                return None;
            }
            changed = true;
            serde_json::to_value(&data).ok()
        });
        changed
    }
}
