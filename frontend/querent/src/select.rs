//! `select`: a per-observer transform of a query's cached data.
//!
//! Like TanStack Query's `select` option: each observer of a query may view
//! its data through its own [`Selector`] (format a date, pick one field, count
//! items). The query is fetched and cached once, whatever the selectors.
//!
//! A [`Selection`] memoizes: the selector runs again only when the cached data
//! (a new value, not an equal refetch: the cache keeps equal data as the same
//! value) or the selector itself changes. When a new run gives a value equal
//! to the previous one, the previous `Rc` is kept, and a [`SelectObserver`]
//! does not call its listener: a view of an unchanged selected value is not
//! rendered again.
//!
//! ```
//! use querent::select::{SelectObserver, Selector};
//! use querent::{QueryKey, QueryOptions};
//! use serde_json::json;
//! # let (platform, mut runner) = querent::testing::FakePlatform::new();
//! # let client = querent::QueryClient::new(platform);
//! # let fetcher: querent::Fetcher = std::rc::Rc::new(|_| Box::pin(async { Ok(json!(null)) }));
//! let key = QueryKey::from(vec![json!("post"), json!(1)]);
//! client.set_query_data(&key, |_| Some(json!({"id": 1, "title": "Hello"})));
//! let title = Selector::new(|post| Ok(post["title"].as_str().unwrap_or_default().to_owned()));
//! let observer = SelectObserver::new(&client, key, fetcher, QueryOptions::default(), title, || {});
//! assert_eq!(*observer.view().data.unwrap().unwrap(), "Hello");
//! # runner.run_until_stalled();
//! ```

use crate::client::QueryClient;
use crate::error::QueryError;
use crate::key::QueryKey;
use crate::observer::{QueryObserver, QueryObserverResult};
use crate::options::{Fetcher, QueryOptions};
use crate::query::{FetchStatus, QueryState, QueryStatus};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::cell::RefCell;
use std::rc::Rc;

/// A transform of a query's data. Two selectors are the same selector when
/// they are clones of one another (compare with `==`): keep one alive (in
/// Yew, `use_memo` with the values it depends on) to keep its results
/// memoized, and make a new one when what it depends on changes.
pub struct Selector<S> {
    f: Rc<SelectFn<S>>,
}

type SelectFn<S> = dyn Fn(&Value) -> Result<S, QueryError>;

impl<S> Clone for Selector<S> {
    fn clone(&self) -> Self {
        Self {
            f: Rc::clone(&self.f),
        }
    }
}

impl<S> PartialEq for Selector<S> {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.f, &other.f)
    }
}

impl<S: 'static> Selector<S> {
    /// A selector over the cached JSON.
    pub fn new(f: impl Fn(&Value) -> Result<S, QueryError> + 'static) -> Self {
        Self { f: Rc::new(f) }
    }

    /// A selector over the data decoded as `T`; data of another shape gives
    /// an error with code `decode`.
    pub fn typed<T: DeserializeOwned>(f: impl Fn(&T) -> S + 'static) -> Self {
        Self::new(move |value| crate::typed::decoded(value).map(|data: T| f(&data)))
    }
}

/// What an observer with a selector shows; a change of any of it is a change
/// worth rendering.
#[derive(Debug, PartialEq)]
pub struct SelectView<S> {
    /// The selected value (or the selector's error), when the query has data.
    pub data: Option<Result<Rc<S>, QueryError>>,
    /// The query's settled error.
    pub error: Option<QueryError>,
    /// Pending / error / success.
    pub status: QueryStatus,
    /// Fetching / paused / idle.
    pub fetch_status: FetchStatus,
}

impl<S> Clone for SelectView<S> {
    fn clone(&self) -> Self {
        Self {
            data: self.data.clone(),
            error: self.error.clone(),
            status: self.status,
            fetch_status: self.fetch_status,
        }
    }
}

struct Memo<S> {
    data: Rc<Value>,
    selector: Selector<S>,
    result: Result<Rc<S>, QueryError>,
}

/// A selector with its memo and the last view handed out: the state of one
/// selecting observer (a [`SelectObserver`], or a hook that renders before
/// its observer exists).
pub struct Selection<S> {
    selector: RefCell<Selector<S>>,
    memo: RefCell<Option<Memo<S>>>,
    last: RefCell<Option<SelectView<S>>>,
}

impl<S: PartialEq + 'static> Selection<S> {
    /// A selection through `selector`.
    pub fn new(selector: Selector<S>) -> Self {
        Self {
            selector: RefCell::new(selector),
            memo: RefCell::new(None),
            last: RefCell::new(None),
        }
    }

    /// Uses `selector` from now on; the data is selected again on the next
    /// view only when it is a different selector.
    pub fn set_selector(&self, selector: Selector<S>) {
        *self.selector.borrow_mut() = selector;
    }

    fn select(&self, data: &Rc<Value>) -> Result<Rc<S>, QueryError> {
        let selector = self.selector.borrow().clone();
        if let Some(memo) = self.memo.borrow().as_ref()
            && Rc::ptr_eq(&memo.data, data)
            && memo.selector == selector
        {
            return memo.result.clone();
        }
        let fresh = (selector.f)(data);
        let mut memo = self.memo.borrow_mut();
        let result = match (fresh, memo.as_ref().map(|m| &m.result)) {
            (Ok(new), Some(Ok(old))) if **old == new => Ok(Rc::clone(old)),
            (Ok(new), _) => Ok(Rc::new(new)),
            (Err(e), _) => Err(e),
        };
        *memo = Some(Memo {
            data: Rc::clone(data),
            selector,
            result: result.clone(),
        });
        result
    }

    /// The view of `key` now, remembered as the last one handed out.
    pub fn view(&self, client: &QueryClient, key: &QueryKey) -> SelectView<S> {
        self.view_of(client.get_query_state(key).unwrap_or_default())
    }

    /// The view of a query in `state`, remembered as the last one handed out.
    pub fn view_of(&self, state: QueryState) -> SelectView<S> {
        self.remember(SelectView {
            data: state.data.as_ref().map(|data| self.select(data)),
            error: state.error,
            status: state.status,
            fetch_status: state.fetch_status,
        })
    }

    /// The view of an observer's `result` (its placeholder data selected
    /// too), remembered as the last one handed out.
    pub fn view_of_result(&self, result: &QueryObserverResult) -> SelectView<S> {
        self.remember(self.unremembered(result))
    }

    fn unremembered(&self, result: &QueryObserverResult) -> SelectView<S> {
        SelectView {
            data: result.data.as_ref().map(|data| self.select(data)),
            error: result.error.clone(),
            status: result.status,
            fetch_status: result.fetch_status,
        }
    }

    fn remember(&self, view: SelectView<S>) -> SelectView<S> {
        *self.last.borrow_mut() = Some(view.clone());
        view
    }

    /// Whether the view of an observer's `result` differs from the last
    /// one handed out.
    pub fn has_changed_for(&self, result: &QueryObserverResult) -> bool {
        let before = self.last.borrow().clone();
        before.as_ref() != Some(&self.unremembered(result))
    }

    /// Whether the view of `key` differs from the last one handed out.
    pub fn has_changed(&self, client: &QueryClient, key: &QueryKey) -> bool {
        let before = self.last.borrow().clone();
        before.as_ref() != Some(&self.view(client, key))
    }
}

/// A [`QueryObserver`] that views the data through a [`Selector`] and calls
/// its listener only when that view changes.
pub struct SelectObserver<S> {
    client: QueryClient,
    observer: QueryObserver,
    selection: Rc<Selection<S>>,
}

impl<S: PartialEq + 'static> SelectObserver<S> {
    /// Starts observing `key` (fetching as a [`QueryObserver`] does);
    /// `on_change` runs when the selected view changes.
    pub fn new(
        client: &QueryClient,
        key: QueryKey,
        fetcher: Fetcher,
        options: QueryOptions,
        selector: Selector<S>,
        on_change: impl Fn() + 'static,
    ) -> Self {
        let selection = Rc::new(Selection::new(selector));
        selection.view(client, &key);
        let (watch_client, watch_key, watched) =
            (client.clone(), key.clone(), Rc::clone(&selection));
        let observer = QueryObserver::new(client, key, fetcher, options, move || {
            if watched.has_changed(&watch_client, &watch_key) {
                on_change();
            }
        });
        Self {
            client: client.clone(),
            observer,
            selection,
        }
    }

    /// The selected view now.
    pub fn view(&self) -> SelectView<S> {
        self.selection.view(&self.client, &self.observer.key())
    }

    /// Uses another selector from now on.
    pub fn set_selector(&self, selector: Selector<S>) {
        self.selection.set_selector(selector);
    }

    /// The underlying observer (refetch, infinite pages, …).
    pub fn observer(&self) -> &QueryObserver {
        &self.observer
    }
}
