//! TanStack Query v5's `queriesObserver.test.tsx`, under the fake clock:
//! each test names the one it ports. The fetchers answer at once.

mod common;

use common::{key, tanstack};
use querent::filters::{QueryFilters, QueryTypeFilter};
use querent::queries_observer::QueryDescription;
use querent::{
    FetchStatus, Fetcher, QueriesObserver, QueryObserverResult, QueryOptions, QueryStatus,
};
use serde_json::{Value, json};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// Answers `value` at once; counts its calls.
fn answering(value: Value, calls: &Rc<Cell<u32>>) -> Fetcher {
    let calls = Rc::clone(calls);
    Rc::new(move |_| {
        calls.set(calls.get() + 1);
        let value = value.clone();
        Box::pin(async move { Ok(value) })
    })
}

/// `[key1] -> 1`, `[key2] -> 2`, with their call counters.
fn two() -> (Vec<QueryDescription>, [Rc<Cell<u32>>; 2]) {
    let calls = [Rc::new(Cell::new(0)), Rc::new(Cell::new(0))];
    let queries = vec![
        (
            key(json!(["key1"])),
            answering(json!(1), &calls[0]),
            QueryOptions::default(),
        ),
        (
            key(json!(["key2"])),
            answering(json!(2), &calls[1]),
            QueryOptions::default(),
        ),
    ];
    (queries, calls)
}

/// (status, fetch status, data) of each result.
type Row = (QueryStatus, FetchStatus, Option<Value>);

fn rows(results: &[QueryObserverResult]) -> Vec<Row> {
    results
        .iter()
        .map(|r| (r.status, r.fetch_status, r.data.as_deref().cloned()))
        .collect()
}

fn recording(observer: &QueriesObserver) -> Rc<RefCell<Vec<Vec<Row>>>> {
    let seen = Rc::new(RefCell::new(vec![rows(&observer.result())]));
    let sink = Rc::clone(&seen);
    observer.subscribe(move |results| sink.borrow_mut().push(rows(results)));
    seen
}

const PENDING_IDLE: Row = (QueryStatus::Pending, FetchStatus::Idle, None);
const PENDING_FETCHING: Row = (QueryStatus::Pending, FetchStatus::Fetching, None);

fn success(data: Value) -> Row {
    (QueryStatus::Success, FetchStatus::Idle, Some(data))
}

/// The five results every two-query scenario starts with.
fn loading_both() -> Vec<Vec<Row>> {
    vec![
        vec![PENDING_IDLE, PENDING_IDLE],
        vec![PENDING_FETCHING, PENDING_IDLE],
        vec![PENDING_FETCHING, PENDING_FETCHING],
        vec![success(json!(1)), PENDING_FETCHING],
        vec![success(json!(1)), success(json!(2))],
    ]
}

/// "should return an array with all query results" and "should trigger
/// all fetches when subscribed".
#[test]
fn the_results_come_in_the_queries_order_and_each_fetches_once() {
    let (client, _server, mut rt) = tanstack();
    let (queries, calls) = two();
    let observer = QueriesObserver::new(&client, queries);
    assert_eq!(
        calls[0].get() + calls[1].get(),
        0,
        "not subscribed: no fetch"
    );
    observer.subscribe(|_| {});
    rt.advance(0);
    assert_eq!(
        rows(&observer.result()),
        vec![success(json!(1)), success(json!(2))]
    );
    assert_eq!((calls[0].get(), calls[1].get()), (1, 1));
}

/// "should update when a query updates".
#[test]
fn a_query_that_changes_changes_the_results() {
    let (client, _server, mut rt) = tanstack();
    let (queries, _) = two();
    let observer = QueriesObserver::new(&client, queries);
    let seen = recording(&observer);
    rt.advance(0);
    client.set_query_data(&key(json!(["key2"])), |_| Some(json!(3)));
    let mut expected = loading_both();
    expected.push(vec![success(json!(1)), success(json!(3))]);
    assert_eq!(*seen.borrow(), expected);
}

/// "should update when a query is removed": the dropped query is no
/// longer observed (inactive), and nothing is once unsubscribed.
#[test]
fn a_query_taken_out_of_the_list_is_no_longer_observed() {
    let (client, _server, mut rt) = tanstack();
    let (queries, _) = two();
    let second = queries[1].clone();
    let observer = QueriesObserver::new(&client, queries);
    let seen = recording(&observer);
    rt.advance(0);
    observer.set_queries(vec![second]);
    let active = |name: &str| {
        !client
            .find_all(&QueryFilters::key(&[name]).of_type(QueryTypeFilter::Active))
            .is_empty()
    };
    assert!(!active("key1") && active("key2"));
    observer.unsubscribe();
    assert!(!active("key1") && !active("key2"));
    let mut expected = loading_both();
    expected.push(vec![success(json!(2))]);
    assert_eq!(*seen.borrow(), expected);
}

/// "should update when a query changed position" (one notification, no
/// refetch: each key keeps its observer).
#[test]
fn reordered_queries_keep_their_observers() {
    let (client, _server, mut rt) = tanstack();
    let (queries, calls) = two();
    let reversed: Vec<_> = queries.iter().rev().cloned().collect();
    let observer = QueriesObserver::new(&client, queries);
    let seen = recording(&observer);
    rt.advance(0);
    let before = observer.observers();
    observer.set_queries(reversed);
    rt.advance(0);
    let after = observer.observers();
    assert!(Rc::ptr_eq(&before[0], &after[1]) && Rc::ptr_eq(&before[1], &after[0]));
    let mut expected = loading_both();
    expected.push(vec![success(json!(2)), success(json!(1))]);
    assert_eq!(*seen.borrow(), expected);
    assert_eq!((calls[0].get(), calls[1].get()), (1, 1));
}

/// "should not update when nothing has changed".
#[test]
fn the_same_queries_again_notify_nothing() {
    let (client, _server, mut rt) = tanstack();
    let (queries, _) = two();
    let observer = QueriesObserver::new(&client, queries.clone());
    let seen = recording(&observer);
    rt.advance(0);
    observer.set_queries(queries);
    rt.advance(0);
    assert_eq!(*seen.borrow(), loading_both());
}

/// "should handle duplicate query keys in different positions": a key
/// listed twice has an observer in each place and is fetched once.
#[test]
fn a_key_listed_twice_is_fetched_once() {
    let (client, _server, mut rt) = tanstack();
    let (mut queries, calls) = two();
    queries.push(queries[0].clone());
    let observer = QueriesObserver::new(&client, queries.clone());
    assert_eq!(
        rows(&observer.optimistic_result(&queries)),
        vec![PENDING_FETCHING; 3]
    );
    observer.subscribe(|_| {});
    rt.advance(0);
    assert_eq!(
        rows(&observer.result()),
        vec![success(json!(1)), success(json!(2)), success(json!(1))]
    );
    assert_eq!((calls[0].get(), calls[1].get()), (1, 1));
}

/// "should subscribe to new observers when a query is added while
/// subscribed".
#[test]
fn a_query_added_while_subscribed_fetches() {
    let (client, _server, mut rt) = tanstack();
    let (queries, calls) = two();
    let observer = QueriesObserver::new(&client, vec![queries[0].clone()]);
    observer.subscribe(|_| {});
    rt.advance(0);
    observer.set_queries(queries);
    rt.advance(0);
    assert_eq!(
        rows(&observer.result()),
        vec![success(json!(1)), success(json!(2))]
    );
    assert_eq!(calls[1].get(), 1);
}
