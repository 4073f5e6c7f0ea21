//! Tab sync (TanStack's `broadcastQueryClient`): two clients, as two tabs,
//! joined by an in-memory channel that delivers each message to the other.

mod common;

use common::key;
use querent::broadcast::{self, Broadcast, Channel};
use querent::testing::FakePlatform;
use querent::{QueryClient, QueryObserver, QueryOptions};
use serde_json::json;
use std::cell::RefCell;
use std::rc::Rc;

/// Holds what one tab posted until [`deliver`] hands it to the other.
#[derive(Default)]
struct Wire(RefCell<Vec<String>>);

impl Channel for Wire {
    fn post(&self, message: &str) {
        self.0.borrow_mut().push(message.to_owned());
    }
}

fn deliver(from: &Wire, to: &Broadcast) -> usize {
    let messages: Vec<String> = from.0.borrow_mut().drain(..).collect();
    for m in &messages {
        to.receive(m);
    }
    messages.len()
}

fn two_tabs() -> (
    QueryClient,
    Rc<Wire>,
    Broadcast,
    QueryClient,
    Rc<Wire>,
    Broadcast,
) {
    let (platform, _runner) = FakePlatform::new();
    let a = QueryClient::new(platform.clone());
    let b = QueryClient::new(platform);
    let (wire_a, wire_b) = (Rc::new(Wire::default()), Rc::new(Wire::default()));
    let sync_a = broadcast::connect(&a, Rc::clone(&wire_a) as Rc<dyn Channel>);
    let sync_b = broadcast::connect(&b, Rc::clone(&wire_b) as Rc<dyn Channel>);
    (a, wire_a, sync_a, b, wire_b, sync_b)
}

#[test]
fn new_data_reaches_the_other_tab_and_is_not_echoed_back() {
    let (a, wire_a, _sync_a, b, wire_b, sync_b) = two_tabs();
    let k = key(json!(["todos"]));
    a.set_query_data(&k, |_| Some(json!(["milk"])));
    assert_eq!(deliver(&wire_a, &sync_b), 1);
    assert_eq!(*b.get_query_data(&k).unwrap(), json!(["milk"]));
    assert!(
        wire_b.0.borrow().is_empty(),
        "what was applied is not posted back"
    );
}

#[test]
fn removing_a_query_in_use_removes_it_in_the_other_tab() {
    let (a, wire_a, _sync_a, b, _wire_b, sync_b) = two_tabs();
    let k = key(json!(["todos"]));
    a.set_query_data(&k, |_| Some(json!(["milk"])));
    deliver(&wire_a, &sync_b);
    let never: querent::Fetcher = Rc::new(|_| Box::pin(futures::future::pending()));
    let _observer = QueryObserver::new(&a, k.clone(), never, QueryOptions::default(), || {});

    a.remove_queries(&k);
    assert_eq!(deliver(&wire_a, &sync_b), 1, "the removal");
    assert!(b.get_query_state(&k).is_none(), "gone in the other tab too");
}

#[test]
fn a_query_collected_unused_stays_in_the_other_tab() {
    let (a, wire_a, _sync_a, b, _wire_b, sync_b) = two_tabs();
    let k = key(json!(["todos"]));
    a.set_query_data(&k, |_| Some(json!(["milk"])));
    deliver(&wire_a, &sync_b);
    a.remove_queries(&k);
    assert_eq!(
        deliver(&wire_a, &sync_b),
        0,
        "TanStack: only a query in use"
    );
    assert!(b.get_query_state(&k).is_some());
}

#[test]
fn older_data_from_another_tab_does_not_replace_newer() {
    let (a, wire_a, _sync_a, b, _wire_b, sync_b) = two_tabs();
    let k = key(json!(["todos"]));
    a.set_query_data_at(&k, |_| Some(json!("old")), 10);
    b.set_query_data_at(&k, |_| Some(json!("new")), 20);
    deliver(&wire_a, &sync_b);
    assert_eq!(*b.get_query_data(&k).unwrap(), json!("new"));
}

#[test]
fn a_foreign_message_is_ignored() {
    let (_a, _wire_a, _sync_a, b, _wire_b, sync_b) = two_tabs();
    sync_b.receive("{\"type\":\"cleared\"}");
    sync_b.receive("not json");
    assert!(b.queries().is_empty());
}

/// Another tab's data does not land while this tab fetches the query
/// itself: it would supersede that fetch, whose answer may be newer (a
/// refetch after this tab's own write). This tab's answer is posted when
/// it comes.
#[test]
fn another_tabs_data_waits_for_this_tabs_own_fetch() {
    let (platform, mut runner) = FakePlatform::new();
    let a = QueryClient::new(platform.clone());
    let b = QueryClient::new(platform.clone());
    let (wire_a, wire_b) = (Rc::new(Wire::default()), Rc::new(Wire::default()));
    let _sync_a = broadcast::connect(&a, Rc::clone(&wire_a) as Rc<dyn Channel>);
    let sync_b = broadcast::connect(&b, Rc::clone(&wire_b) as Rc<dyn Channel>);
    let k = key(json!(["posts"]));
    let slow: querent::Fetcher = {
        let platform = platform.clone();
        Rc::new(move |_| {
            let sleep = querent::Platform::sleep(&platform, 100);
            Box::pin(async move {
                sleep.await;
                Ok(json!(["mine", "new"]))
            })
        })
    };
    let mine = b.fetch_query(&k, slow, QueryOptions::default());
    runner.advance(10);
    a.set_query_data(&k, |_| Some(json!(["theirs"])));
    deliver(&wire_a, &sync_b);
    assert!(b.get_query_data(&k).is_none(), "not applied over the fetch");
    assert_eq!(*runner.block_on(mine).unwrap(), json!(["mine", "new"]));
    assert_eq!(*b.get_query_data(&k).unwrap(), json!(["mine", "new"]));
    assert_eq!(
        wire_b.0.borrow().len(),
        1,
        "its own answer goes to the others"
    );
}
