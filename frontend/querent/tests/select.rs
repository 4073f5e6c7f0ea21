//! `select`: memoized per-observer transforms over one cached query.

mod common;

use common::{key, setup};
use querent::{QueryOptions, SelectObserver, Selector};
use serde_json::{Value, json};
use std::cell::Cell;
use std::rc::Rc;

/// A selector of the post's title that counts its runs.
fn counted_title(runs: &Rc<Cell<u32>>) -> Selector<String> {
    let runs = Rc::clone(runs);
    Selector::new(move |post: &Value| {
        runs.set(runs.get() + 1);
        Ok(post["title"].as_str().unwrap_or_default().to_owned())
    })
}

fn selected<S: Clone + PartialEq + 'static>(observer: &SelectObserver<S>) -> S {
    (*observer.view().data.expect("data").expect("selected")).clone()
}

#[test]
fn the_selector_runs_again_only_when_the_data_or_the_selector_changes() {
    let (client, server, mut rt) = setup();
    let k = key(json!(["post", 1]));
    client.set_query_data(&k, |_| Some(json!({"id": 1, "title": "First"})));
    let runs = Rc::new(Cell::new(0));
    let title = counted_title(&runs);
    let observer = SelectObserver::new(
        &client,
        k.clone(),
        server.fetcher(),
        QueryOptions::default(),
        title.clone(),
        || {},
    );
    assert_eq!(selected(&observer), "First");
    assert_eq!(selected(&observer), "First");
    assert_eq!(runs.get(), 1, "same data, same selector: memoized");

    observer.set_selector(title.clone());
    assert_eq!(selected(&observer), "First");
    assert_eq!(runs.get(), 1, "the same selector again: still memoized");

    // A refetch that returns equal data keeps the cached value: no new run.
    server.respond(Ok(json!({"id": 1, "title": "First"})));
    rt.block_on(observer.observer().refetch()).unwrap();
    assert_eq!(selected(&observer), "First");
    assert_eq!(runs.get(), 1, "equal data after a refetch: memoized");

    client.set_query_data(&k, |_| Some(json!({"id": 1, "title": "Second"})));
    assert_eq!(selected(&observer), "Second");
    assert_eq!(runs.get(), 2, "new data: one more run");

    observer.set_selector(counted_title(&runs));
    assert_eq!(selected(&observer), "Second");
    assert_eq!(runs.get(), 3, "a new selector: one more run");
    rt.run_until_stalled();
}

#[test]
fn an_unchanged_selected_value_does_not_notify_the_observer() {
    let (client, server, mut rt) = setup();
    let k = key(json!(["post", 1]));
    client.set_query_data(&k, |_| Some(json!({"title": "Same", "body": "one"})));
    let notified = Rc::new(Cell::new(0));
    let seen = Rc::clone(&notified);
    let observer = SelectObserver::new(
        &client,
        k.clone(),
        server.fetcher(),
        QueryOptions::default(),
        Selector::typed(|post: &Value| post["title"].to_string()),
        move || seen.set(seen.get() + 1),
    );
    let before = observer.view().data.unwrap().unwrap();

    client.set_query_data(&k, |_| Some(json!({"title": "Same", "body": "two"})));
    rt.run_until_stalled();
    assert_eq!(
        notified.get(),
        0,
        "the body changed, the selected title did not"
    );
    let after = observer.view().data.unwrap().unwrap();
    assert!(
        Rc::ptr_eq(&before, &after),
        "the same selected value is kept"
    );

    client.set_query_data(&k, |_| Some(json!({"title": "Changed", "body": "two"})));
    rt.run_until_stalled();
    assert_eq!(notified.get(), 1, "a new title is a change");
    assert_eq!(selected(&observer), "\"Changed\"");
    assert_eq!(server.calls(), 0, "fresh data: nothing fetched");
}

#[test]
fn two_observers_with_different_selectors_share_one_fetch() {
    let (client, server, mut rt) = setup();
    let k = key(json!(["post", 7]));
    server.respond(Ok(
        json!({"id": 7, "title": "Shared", "created_at": "2026-01-02T03:04:05Z"}),
    ));
    let title = SelectObserver::new(
        &client,
        k.clone(),
        server.fetcher(),
        QueryOptions::default(),
        Selector::new(|post: &Value| Ok(post["title"].as_str().unwrap_or_default().to_owned())),
        || {},
    );
    let date = SelectObserver::new(
        &client,
        k.clone(),
        server.fetcher(),
        QueryOptions::default(),
        Selector::new(|post: &Value| {
            Ok(post["created_at"].as_str().unwrap_or_default()[..10].to_owned())
        }),
        || {},
    );
    assert!(
        title.view().data.is_none(),
        "pending until the fetch answers"
    );
    rt.advance(100);
    assert_eq!(server.calls(), 1, "one fetch for both observers");
    assert_eq!(selected(&title), "Shared");
    assert_eq!(selected(&date), "2026-01-02");
}

#[test]
fn a_selector_that_cannot_decode_the_data_reports_a_decode_error() {
    let (client, server, mut rt) = setup();
    let k = key(json!(["post", 1]));
    client.set_query_data(&k, |_| Some(json!({"id": "not a number"})));
    #[derive(serde::Deserialize)]
    struct Post {
        id: i64,
    }
    let observer = SelectObserver::new(
        &client,
        k,
        server.fetcher(),
        QueryOptions::default(),
        Selector::typed(|post: &Post| post.id),
        || {},
    );
    let error = observer.view().data.unwrap().unwrap_err();
    assert_eq!(error.kind, querent::ErrorKind::Decode);
    rt.run_until_stalled();
}
