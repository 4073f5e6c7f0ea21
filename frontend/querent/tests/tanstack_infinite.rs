//! TanStack Query v5's infinite queries (`infiniteQueryBehavior.test.tsx`,
//! `infiniteQueryObserver.test.tsx`), under the fake clock with TanStack's
//! defaults: each test names the TanStack test it ports. The pages are the
//! page parameters themselves, answered after 10 ms.

mod common;

use common::{key, tanstack};
use querent::options::{Direction, PageParam};
use querent::testing::FakePlatform;
use querent::{Fetcher, Platform, QueryObserver, QueryOptions};
use serde_json::{Value, json};
use std::cell::RefCell;
use std::rc::Rc;

type Asked = Rc<RefCell<Vec<(Value, Direction)>>>;

/// Answers each page with its parameter after 10 ms; records what it was
/// asked, and which way.
fn pages_fetcher(platform: &FakePlatform, asked: &Asked) -> Fetcher {
    let (platform, asked) = (platform.clone(), Rc::clone(asked));
    Rc::new(move |ctx| {
        let (platform, asked) = (platform.clone(), Rc::clone(&asked));
        Box::pin(async move {
            asked
                .borrow_mut()
                .push((ctx.page_param.clone(), ctx.direction));
            platform.sleep(10).await;
            Ok(ctx.page_param)
        })
    })
}

fn numbers(f: impl Fn(i64) -> Option<i64> + 'static) -> PageParam {
    Rc::new(move |page: &Value, _: &[Value], _: &Value, _: &[Value]| {
        f(page.as_i64()?).map(Value::from)
    })
}

fn counting(max_pages: Option<usize>) -> QueryOptions {
    QueryOptions {
        get_next_page_param: Some(numbers(|last| Some(last + 1))),
        get_previous_page_param: Some(numbers(|first| Some(first - 1))),
        initial_page_param: Some(json!(1)),
        max_pages,
        ..QueryOptions::default()
    }
}

fn data(observer: &QueryObserver) -> Value {
    observer.data().as_deref().cloned().unwrap_or(Value::Null)
}

fn taken(asked: &Asked) -> Vec<(Value, Direction)> {
    std::mem::take(&mut *asked.borrow_mut())
}

/// `infiniteQueryBehavior.test.tsx` › "should apply the maxPages option to
/// limit the number of pages".
#[test]
fn max_pages_keeps_the_newest_pages_in_either_direction() {
    let (client, server, mut rt) = tanstack();
    let platform = server.platform.clone();
    let asked: Asked = Rc::default();
    let observer = QueryObserver::unmounted(
        &client,
        key(json!(["numbers"])),
        pages_fetcher(&platform, &asked),
        counting(Some(2)),
    );
    observer.subscribe(|_| {});
    rt.advance(10);
    assert_eq!(data(&observer), json!({"pages": [1], "page_params": [1]}));
    assert_eq!(taken(&asked), vec![(json!(1), Direction::Forward)]);

    rt.block_on(observer.fetch_next_page()).unwrap();
    assert_eq!(taken(&asked), vec![(json!(2), Direction::Forward)]);
    assert_eq!(
        data(&observer),
        json!({"pages": [1, 2], "page_params": [1, 2]})
    );

    rt.block_on(observer.fetch_previous_page()).unwrap();
    assert_eq!(taken(&asked), vec![(json!(0), Direction::Backward)]);
    assert_eq!(
        data(&observer),
        json!({"pages": [0, 1], "page_params": [0, 1]})
    );

    rt.block_on(observer.fetch_previous_page()).unwrap();
    assert_eq!(taken(&asked), vec![(json!(-1), Direction::Backward)]);
    assert_eq!(
        data(&observer),
        json!({"pages": [-1, 0], "page_params": [-1, 0]})
    );

    rt.block_on(observer.fetch_next_page()).unwrap();
    assert_eq!(taken(&asked), vec![(json!(1), Direction::Forward)]);
    assert_eq!(data(&observer)["pages"], json!([0, 1]));

    rt.block_on(observer.refetch()).unwrap();
    assert_eq!(
        taken(&asked),
        vec![
            (json!(0), Direction::Forward),
            (json!(1), Direction::Forward)
        ],
        "only the 2 pages kept are refetched, from the first one's parameter"
    );
}

/// `infiniteQueryObserver.test.tsx` › "should make getNextPageParam and
/// getPreviousPageParam receive current pageParams": each is given the
/// edge page's parameter and all parameters.
#[test]
fn page_param_functions_see_the_edge_and_all_parameters() {
    let (client, server, mut rt) = tanstack();
    let seen: Rc<RefCell<Vec<String>>> = Rc::default();
    let recorder = |name: &'static str, step: i64| -> PageParam {
        let seen = Rc::clone(&seen);
        Rc::new(move |_: &Value, _: &[Value], edge: &Value, all: &[Value]| {
            let all: Vec<String> = all.iter().map(Value::to_string).collect();
            seen.borrow_mut()
                .push(format!("{name}{edge}:{}", all.join(",")));
            Some(json!(edge.as_i64()? + step))
        })
    };
    let options = QueryOptions {
        get_next_page_param: Some(recorder("next", 1)),
        get_previous_page_param: Some(recorder("prev", -1)),
        initial_page_param: Some(json!(1)),
        ..QueryOptions::default()
    };
    let asked: Asked = Rc::default();
    let observer = QueryObserver::unmounted(
        &client,
        key(json!(["params"])),
        pages_fetcher(&server.platform, &asked),
        options,
    );
    rt.block_on(observer.fetch_next_page()).unwrap();
    assert_eq!(
        data(&observer)["page_params"],
        json!([1]),
        "no data: the first page"
    );
    seen.borrow_mut().clear();
    rt.block_on(observer.fetch_next_page()).unwrap();
    rt.block_on(observer.fetch_previous_page()).unwrap();
    assert_eq!(*seen.borrow(), vec!["next1:1", "prev1:1,2"]);
    assert_eq!(data(&observer)["page_params"], json!([0, 1, 2]));
    seen.borrow_mut().clear();
    rt.block_on(observer.refetch()).unwrap();
    assert_eq!(*seen.borrow(), vec!["next0:0", "next1:0,1"]);
    assert_eq!(data(&observer)["pages"], json!([0, 1, 2]));
}

/// › "should stop refetching if undefined is returned from
/// getNextPageParam" and "... if null is returned": a refetch keeps only
/// the pages up to the one without a next.
#[test]
fn a_refetch_stops_where_there_is_no_next_page() {
    for none in [None, Some(Value::Null)] {
        let (client, server, mut rt) = tanstack();
        let next: Rc<RefCell<Option<Value>>> = Rc::new(RefCell::new(Some(json!(2))));
        let given = Rc::clone(&next);
        let options = QueryOptions {
            get_next_page_param: Some(Rc::new(
                move |_: &Value, _: &[Value], _: &Value, _: &[Value]| given.borrow().clone(),
            )),
            initial_page_param: Some(json!(1)),
            ..QueryOptions::default()
        };
        let asked: Asked = Rc::default();
        let observer = QueryObserver::unmounted(
            &client,
            key(json!(["stop"])),
            pages_fetcher(&server.platform, &asked),
            options,
        );
        rt.block_on(observer.fetch_next_page()).unwrap();
        rt.block_on(observer.fetch_next_page()).unwrap();
        assert_eq!(data(&observer)["pages"], json!([1, 2]));
        assert!(observer.has_next_page());
        *next.borrow_mut() = none.clone();
        rt.block_on(observer.refetch()).unwrap();
        assert_eq!(data(&observer)["pages"], json!([1]), "next is {none:?}");
        assert_eq!(asked.borrow().len(), 3);
        assert!(!observer.has_next_page());
    }
}

/// `infiniteQueryBehavior.test.tsx` › "should fetch even if
/// initialPageParam is null" and "should not fetch next page when
/// getNextPageParam returns null".
#[test]
fn a_null_first_parameter_fetches_and_a_null_next_one_does_not() {
    let (client, server, mut rt) = tanstack();
    let asked: Asked = Rc::default();
    let options = QueryOptions {
        get_next_page_param: Some(numbers(|last| (last != 1).then_some(last + 1))),
        initial_page_param: Some(Value::Null),
        ..QueryOptions::default()
    };
    let observer = QueryObserver::unmounted(
        &client,
        key(json!(["null"])),
        pages_fetcher(&server.platform, &asked),
        options,
    );
    observer.subscribe(|_| {});
    rt.advance(10);
    assert_eq!(
        data(&observer),
        json!({"pages": [null], "page_params": [null]})
    );
    let (client2, server2, mut rt2) = tanstack();
    let asked2: Asked = Rc::default();
    let one = QueryObserver::unmounted(
        &client2,
        key(json!(["one"])),
        pages_fetcher(&server2.platform, &asked2),
        QueryOptions {
            get_next_page_param: Some(numbers(|last| (last != 1).then_some(last + 1))),
            initial_page_param: Some(json!(1)),
            ..QueryOptions::default()
        },
    );
    one.subscribe(|_| {});
    rt2.advance(10);
    rt2.block_on(one.fetch_next_page()).unwrap();
    assert_eq!(data(&one), json!({"pages": [1], "page_params": [1]}));
    assert_eq!(
        asked2.borrow().len(),
        1,
        "no request for a page that is not there"
    );
    assert!(!one.has_next_page());
}

/// `useInfiniteQuery.test.tsx`'s flags: while a page is fetched the result
/// says which way (`isFetchingNextPage`, `isFetchingPreviousPage`), and
/// that is not `isRefetching`; a refetch is.
#[test]
fn the_result_says_which_page_is_being_fetched() {
    let (client, server, mut rt) = tanstack();
    let asked: Asked = Rc::default();
    let observer = QueryObserver::unmounted(
        &client,
        key(json!(["flags"])),
        pages_fetcher(&server.platform, &asked),
        counting(None),
    );
    observer.subscribe(|_| {});
    rt.advance(10);
    let result = observer.result();
    assert!(result.has_next_page && result.has_previous_page);
    drop(observer.fetch_next_page());
    let result = observer.result();
    assert!(result.is_fetching_next_page && !result.is_fetching_previous_page);
    assert!(result.is_fetching() && !result.is_refetching());
    rt.advance(10);
    drop(observer.fetch_previous_page());
    let result = observer.result();
    assert!(result.is_fetching_previous_page && !result.is_fetching_next_page);
    assert!(!result.is_refetching());
    rt.advance(10);
    drop(observer.refetch());
    let result = observer.result();
    assert!(!result.is_fetching_next_page && !result.is_fetching_previous_page);
    assert!(result.is_refetching());
    rt.advance(100);
    assert_eq!(data(&observer)["pages"], json!([0, 1, 2]));
}

/// `infiniteQueryObserver`'s `isFetchNextPageError` /
/// `isFetchPreviousPageError`: a failed page fetch says which page, and is
/// not a refetch error; the pages loaded stay.
#[test]
fn a_failed_page_fetch_says_which_page_failed() {
    let (client, server, mut rt) = tanstack();
    let asked: Asked = Rc::default();
    let fails = Rc::new(std::cell::Cell::new(false));
    let (inner, failing) = (pages_fetcher(&server.platform, &asked), Rc::clone(&fails));
    let fetcher: Fetcher = Rc::new(move |ctx| {
        if failing.get() {
            Box::pin(async { Err(common::not_found()) })
        } else {
            inner(ctx)
        }
    });
    let observer = QueryObserver::unmounted(
        &client,
        key(json!(["failing-pages"])),
        fetcher,
        QueryOptions {
            retry: Some(0),
            ..counting(None)
        },
    );
    observer.subscribe(|_| {});
    rt.advance(10);
    fails.set(true);
    let _ = rt.block_on(observer.fetch_next_page());
    let result = observer.result();
    assert!(result.is_error() && result.is_fetch_next_page_error);
    assert!(!result.is_fetch_previous_page_error && !result.is_refetch_error());
    assert_eq!(
        data(&observer)["pages"],
        json!([1]),
        "the loaded page stays"
    );
    let _ = rt.block_on(observer.fetch_previous_page());
    let result = observer.result();
    assert!(result.is_fetch_previous_page_error && !result.is_fetch_next_page_error);
    let _ = rt.block_on(observer.refetch());
    let result = observer.result();
    assert!(result.is_refetch_error() && !result.is_fetch_previous_page_error);
}

/// `queryClient.test.tsx` › prefetchInfiniteQuery › "should prefetch
/// multiple pages" and "should stop prefetching if getNextPageParam
/// returns undefined" (`pages: 3` and `pages: 5`, pages 10, 15, 20, and
/// no fourth question once there is no next page).
#[test]
fn prefetch_loads_the_pages_asked_for_and_stops_at_the_last() {
    let (client, server, mut rt) = tanstack();
    let asked = Asked::default();
    let fetcher = pages_fetcher(&server.platform, &asked);
    let by_five = |pages, last: i64| QueryOptions {
        get_next_page_param: Some(numbers(move |page| (page < last).then_some(page + 5))),
        initial_page_param: Some(json!(10)),
        pages: Some(pages),
        ..QueryOptions::default()
    };
    let three = key(json!(["three"]));
    client.prefetch_query(&three, Rc::clone(&fetcher), by_five(3, 100));
    rt.advance(30);
    let expected = json!({"pages": [10, 15, 20], "page_params": [10, 15, 20]});
    assert_eq!(client.get_query_data(&three).as_deref(), Some(&expected));

    let questions = Rc::new(std::cell::Cell::new(0));
    let counted = Rc::clone(&questions);
    let five = key(json!(["five"]));
    let options = QueryOptions {
        get_next_page_param: Some(Rc::new(
            move |page: &Value, _: &[Value], _: &Value, _: &[Value]| {
                counted.set(counted.get() + 1);
                let page = page.as_i64()?;
                (page < 20).then(|| Value::from(page + 5))
            },
        )),
        ..by_five(5, 20)
    };
    rt.block_on(client.fetch_query(&five, fetcher, options))
        .unwrap();
    assert_eq!(client.get_query_data(&five).as_deref(), Some(&expected));
    assert_eq!(questions.get(), 3, "the fetch stopped at the last page");
}
