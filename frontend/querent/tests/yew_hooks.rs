//! The Yew binding in a real browser: a hook renders cached data, fetches,
//! re-renders on change, and equal data keeps child components still; an
//! infinite query the server embedded can page on from its first render.

#![cfg(all(target_arch = "wasm32", feature = "web", feature = "yew"))]

use gloo_timers::future::TimeoutFuture;
use querent::options::next_page;
use querent::typed::{InfiniteData, Key, QuerySpec};
use querent::web::WebPlatform;
use querent::yew::{QueryClientProvider, use_is_fetching, use_query};
use querent::{Fetcher, QueryClient, QueryKey, QueryOptions};
use serde_json::{Value, json};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use yew::prelude::*;

wasm_bindgen_test_configure!(run_in_browser);

thread_local! {
    static CHILD_RENDERS: Cell<u32> = const { Cell::new(0) };
    static FETCHES: Cell<u32> = const { Cell::new(0) };
}

/// A client with the app's defaults (fresh 5 min, kept 30 min), which these
/// scenarios were written against; querent's own are TanStack's (stale at
/// once), covered by the native `tanstack_core` tests.
fn app_client() -> QueryClient {
    QueryClient::with_defaults(
        WebPlatform::default(),
        QueryOptions {
            stale_time: Some((5 * 60_000).into()),
            gc_time: Some(30 * 60_000),
            ..QueryOptions::default()
        },
    )
}

fn key() -> QueryKey {
    QueryKey::from(vec![json!("greeting")])
}

/// Answers `{"text": "hello"}` after 30 ms, every time (equal data).
fn fetcher() -> Fetcher {
    Rc::new(|_| {
        Box::pin(async {
            FETCHES.with(|f| f.set(f.get() + 1));
            TimeoutFuture::new(30).await;
            Ok(json!({"text": "hello"}))
        })
    })
}

#[derive(Properties, PartialEq)]
struct ChildProps {
    data: Rc<Value>,
}

#[function_component]
fn Child(props: &ChildProps) -> Html {
    CHILD_RENDERS.with(|c| c.set(c.get() + 1));
    html! { <p id="text">{ props.data["text"].as_str().unwrap_or_default() }</p> }
}

#[function_component]
fn Greeting() -> Html {
    let spec = QuerySpec::<Value>::new(Key::from_key(key()), fetcher(), QueryOptions::default());
    let query = use_query(spec);
    let fetching = use_is_fetching();
    html! {
        <>
            <span id="fetching">{ fetching }</span>
            {
                match &query.data {
                    Some(data) => html! { <Child data={Rc::clone(data)} /> },
                    None => html! { <p id="loading">{ "loading" }</p> },
                }
            }
        </>
    }
}

#[derive(Properties, PartialEq)]
struct RootProps {
    client: QueryClient,
}

/// `C` under a provider of the test's client.
#[function_component]
fn Under<C: BaseComponent<Properties = ()>>(props: &RootProps) -> Html {
    html! { <QueryClientProvider client={props.client.clone()}><C /></QueryClientProvider> }
}

/// Renders `C` under a provider of `client` into a new element of the
/// page's body; the test removes it at the end.
fn mount<C: BaseComponent<Properties = ()>>(client: &QueryClient) -> web_sys::Element {
    let root = gloo_utils_document().create_element("div").unwrap();
    gloo_utils_document()
        .body()
        .unwrap()
        .append_child(&root)
        .unwrap();
    yew::Renderer::<Under<C>>::with_root_and_props(
        root.clone(),
        RootProps {
            client: client.clone(),
        },
    )
    .render();
    root
}

fn text_of(id: &str) -> Option<String> {
    gloo_utils_document()
        .get_element_by_id(id)
        .and_then(|e| e.text_content())
}

fn gloo_utils_document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

#[wasm_bindgen_test]
async fn a_hook_fetches_renders_and_rerenders_only_on_real_change() {
    // The tests share one page (and these counters).
    FETCHES.with(|f| f.set(0));
    CHILD_RENDERS.with(|c| c.set(0));
    let client = app_client();
    let root = mount::<Greeting>(&client);

    // The fetcher answers after 30 ms: the loading state comes first.
    wait_until("the loading state", || {
        text_of("loading").as_deref() == Some("loading")
    })
    .await;
    assert_eq!(
        text_of("fetching").as_deref(),
        Some("1"),
        "the progress count sees the fetch"
    );
    wait_until("the data", || text_of("text").as_deref() == Some("hello")).await;
    wait_until("the fetch to end", || {
        text_of("fetching").as_deref() == Some("0")
    })
    .await;
    assert_eq!(FETCHES.with(Cell::get), 1);
    let renders = CHILD_RENDERS.with(Cell::get);

    // A refetch that returns equal data: the parent re-renders (fetching,
    // then idle) but the child keeps its props and does not.
    client.refetch(&key()).await.unwrap();
    wait_until("the refetch to end", || {
        text_of("fetching").as_deref() == Some("0")
    })
    .await;
    assert_eq!(FETCHES.with(Cell::get), 2);
    assert_eq!(
        CHILD_RENDERS.with(Cell::get),
        renders,
        "equal data: no child re-render"
    );

    // Changed data re-renders.
    client.set_query_data(&key(), |_| Some(json!({"text": "changed"})));
    wait_until("the changed data", || {
        text_of("text").as_deref() == Some("changed")
    })
    .await;
    assert_eq!(CHILD_RENDERS.with(Cell::get), renders + 1);
    root.remove();
}

#[wasm_bindgen_test]
async fn hydrated_data_renders_on_the_first_frame_without_a_fetch() {
    FETCHES.with(|f| f.set(0));
    let client = app_client();
    client.set_query_data(&key(), |_| Some(json!({"text": "from the server"})));
    let root = mount::<Greeting>(&client);
    wait_until("the hydrated data", || {
        text_of("text").as_deref() == Some("from the server")
    })
    .await;
    // Effects (where a fetch would start) have run once the next task runs.
    TimeoutFuture::new(0).await;
    assert_eq!(
        FETCHES.with(Cell::get),
        0,
        "fresh data is not refetched on mount"
    );
    assert_eq!(client.is_fetching(), 0, "and nothing is in flight");
    root.remove();
}

/// Polls `condition` every 10 ms for up to 5 s (waits for the outcome, not
/// for a guessed time).
async fn wait_until(what: &str, condition: impl Fn() -> bool) {
    for _ in 0..500 {
        if condition() {
            return;
        }
        TimeoutFuture::new(10).await;
    }
    panic!("timed out waiting for {what}");
}

fn pages_key() -> QueryKey {
    QueryKey::from(vec![json!("pages")])
}

/// Page 2 (`cursor` 2) holds items 3 and 4 and is the last.
fn pages_fetcher() -> Fetcher {
    Rc::new(|ctx| {
        Box::pin(async move {
            FETCHES.with(|f| f.set(f.get() + 1));
            Ok(match ctx.page_param.as_i64() {
                Some(2) => json!({"items": [3, 4], "next_cursor": null}),
                _ => json!({"items": [1, 2], "next_cursor": 2}),
            })
        })
    })
}

#[derive(serde::Deserialize, serde::Serialize)]
struct NumberPage {
    next_cursor: Option<i64>,
}

#[function_component]
fn Pages() -> Html {
    let options = QueryOptions {
        get_next_page_param: Some(next_page(|page: &NumberPage| page.next_cursor)),
        ..QueryOptions::default()
    };
    let spec = QuerySpec::<InfiniteData<NumberPage>>::new(
        Key::from_key(pages_key()),
        pages_fetcher(),
        options,
    );
    let list = use_query(spec);
    let pages = list.data.as_ref().map_or(0, |d| d.pages.len());
    html! {
        <>
            <span id="pages">{ pages }</span>
            <span id="has-next">{ list.has_next_page }</span>
            <button id="more" onclick={list.fetch_next_page.reform(|_| ())}>{ "more" }</button>
        </>
    }
}

#[wasm_bindgen_test]
async fn a_hydrated_infinite_query_has_its_next_page_from_the_first_render() {
    FETCHES.with(|f| f.set(0));
    let client = app_client();
    // As the server embeds it: one page, no options registered for the key.
    client.set_query_data(&pages_key(), |_| {
        Some(json!({"pages": [{"items": [1, 2], "next_cursor": 2}], "page_params": [null]}))
    });
    let document = gloo_utils_document();
    let root = mount::<Pages>(&client);
    wait_until("the hydrated page", || {
        text_of("pages").as_deref() == Some("1")
    })
    .await;
    wait_until("a next page to be offered", || {
        text_of("has-next").as_deref() == Some("true")
    })
    .await;
    let button: web_sys::HtmlElement = document
        .get_element_by_id("more")
        .unwrap()
        .dyn_into()
        .unwrap();
    button.click();
    wait_until("page 2", || text_of("pages").as_deref() == Some("2")).await;
    wait_until("the end of the list", || {
        text_of("has-next").as_deref() == Some("false")
    })
    .await;
    assert_eq!(FETCHES.with(Cell::get), 1, "only page 2 was fetched");
    root.remove();
}

/// Answers its text after its delay (ms).
struct Echo;

impl querent::typed::Mutation for Echo {
    const KEY: &'static str = "echo";
    type Variables = (String, u32);
    type Output = String;

    fn call(
        &self,
        call: querent::typed::Call<(String, u32)>,
    ) -> querent::typed::MutationFuture<String> {
        Box::pin(async move {
            TimeoutFuture::new(call.variables.1).await;
            Ok(call.variables.0)
        })
    }
}

#[function_component]
fn Echoer() -> Html {
    let echo = querent::yew::use_mutation(|_: &(String, u32)| {
        querent::typed::MutationOptions::<Echo, ()>::default()
    });
    let onclick = {
        let mutate = echo.mutate.clone();
        Callback::from(move |_| {
            mutate.emit(("slow".into(), 150));
            mutate.emit(("fast".into(), 10));
        })
    };
    html! {
        <>
            <button id="echo" {onclick}>{ "echo" }</button>
            <span id="echoed">{ echo.data().unwrap_or_default() }</span>
            <span id="echo-status">{ format!("{:?}", echo.status) }</span>
        </>
    }
}

/// `useMutation.test.tsx`: the handle shows the latest call only. Two calls,
/// the older one slower: once both settled the handle still shows the newer
/// one's result, not the older one's that came after it.
#[wasm_bindgen_test]
async fn use_mutation_shows_the_latest_call_even_when_an_older_one_settles_later() {
    let document = gloo_utils_document();
    let client = QueryClient::new(WebPlatform::default());
    client.register_mutation(Echo);
    let root = mount::<Echoer>(&client);
    wait_until("the button", || text_of("echo").is_some()).await;
    document
        .get_element_by_id("echo")
        .unwrap()
        .dyn_into::<web_sys::HtmlElement>()
        .unwrap()
        .click();
    wait_until("the newer call's result", || {
        text_of("echoed").as_deref() == Some("fast")
    })
    .await;
    // The older call settles 140 ms later; the handle keeps the newer one.
    TimeoutFuture::new(250).await;
    assert_eq!(text_of("echoed").as_deref(), Some("fast"));
    assert_eq!(text_of("echo-status").as_deref(), Some("Some(Success)"));
    root.remove();
}

thread_local! {
    static LIST_FETCHES: Cell<u32> = const { Cell::new(0) };
    static SET_LIST: std::cell::RefCell<Option<Callback<(bool, i64)>>> = const { std::cell::RefCell::new(None) };
}

/// Page `n` of a list: `{"page": n}` after 30 ms.
fn list_fetcher() -> Fetcher {
    Rc::new(|ctx| {
        Box::pin(async move {
            LIST_FETCHES.with(|f| f.set(f.get() + 1));
            TimeoutFuture::new(30).await;
            Ok(json!({"page": ctx.key.segments()[1].clone()}))
        })
    })
}

fn list_options(enabled: bool) -> QueryOptions {
    QueryOptions {
        enabled: Some(enabled.into()),
        placeholder_data: Some(querent::options::keep_previous_data()),
        ..QueryOptions::default()
    }
}

/// A list whose page and `enabled` the test sets (through `SET_LIST`).
#[function_component]
fn List() -> Html {
    let state = use_state(|| (false, 1_i64));
    {
        let state = state.clone();
        SET_LIST.with(|s| *s.borrow_mut() = Some(Callback::from(move |v| state.set(v))));
    }
    let (enabled, page) = *state;
    let list_key = QueryKey::from(vec![json!("list"), json!(page)]);
    let spec = QuerySpec::<Value>::new(
        Key::from_key(list_key),
        list_fetcher(),
        list_options(enabled),
    );
    let list = use_query(spec);
    let shown = list
        .data
        .as_ref()
        .map(|d| d["page"].to_string())
        .unwrap_or_else(|| "none".into());
    html! {
        <>
            <p id="list">{ shown }</p>
            <p id="previous">{ list.is_placeholder_data }</p>
        </>
    }
}

fn set_list(enabled: bool, page: i64) {
    SET_LIST.with(|s| s.borrow().as_ref().unwrap().emit((enabled, page)));
}

/// `useQuery.test.tsx` › "should refetch if any query instance becomes
/// enabled": the dependent-query pattern, `enabled` turning true on the
/// same key in a later render fetches.
#[wasm_bindgen_test]
async fn enabled_turning_true_in_a_later_render_fetches() {
    LIST_FETCHES.with(|f| f.set(0));
    let root = mount::<List>(&app_client());
    wait_until("the first render", || text_of("list").is_some()).await;
    TimeoutFuture::new(50).await;
    assert_eq!(LIST_FETCHES.with(Cell::get), 0, "disabled: no fetch");
    set_list(true, 1);
    wait_until("the list once enabled", || {
        text_of("list").as_deref() == Some("1")
    })
    .await;
    assert_eq!(LIST_FETCHES.with(Cell::get), 1);
    root.remove();
}

/// `useQuery.test.tsx` › "should keep the previous data when
/// placeholderData is set": on the next page the list goes on showing
/// page 1, marked as placeholder, until page 2 arrives: it never blanks.
#[wasm_bindgen_test]
async fn keep_previous_data_keeps_the_list_on_screen_while_the_next_page_loads() {
    let root = mount::<List>(&app_client());
    wait_until("the first render", || text_of("list").is_some()).await;
    set_list(true, 1);
    wait_until("page 1", || text_of("list").as_deref() == Some("1")).await;
    set_list(true, 2);
    wait_until("the next render", || {
        text_of("previous").as_deref() == Some("true")
    })
    .await;
    assert_eq!(text_of("list").as_deref(), Some("1"), "page 1 stays");
    wait_until("page 2", || text_of("list").as_deref() == Some("2")).await;
    assert_eq!(text_of("previous").as_deref(), Some("false"));
    root.remove();
}

thread_local! {
    static SET_SHOWN: std::cell::RefCell<Option<Callback<bool>>> = const { std::cell::RefCell::new(None) };
}

#[function_component]
fn Toggle() -> Html {
    let shown = use_state(|| true);
    {
        let shown = shown.clone();
        let set = Callback::from(move |v: bool| shown.set(v));
        SET_SHOWN.with(|s| *s.borrow_mut() = Some(set));
    }
    html! { if *shown { <Greeting /> } }
}

fn observers_of(client: &QueryClient, key: &QueryKey) -> usize {
    client
        .queries()
        .iter()
        .find(|q| &q.key == key)
        .map_or(0, |q| q.observers)
}

/// A component that unmounts stops observing its query (TanStack's
/// unsubscribe on unmount): the query counts no observer, so its gc runs.
#[wasm_bindgen_test]
async fn an_unmounted_hook_stops_observing_its_query() {
    let client = app_client();
    client.set_query_data(&key(), |_| Some(json!({"text": "hello"})));
    let root = mount::<Toggle>(&client);
    wait_until("the data", || text_of("text").as_deref() == Some("hello")).await;
    wait_until("the hook to mount", || observers_of(&client, &key()) == 1).await;
    SET_SHOWN.with(|s| s.borrow().as_ref().unwrap().emit(false));
    wait_until("the component to go", || text_of("text").is_none()).await;
    wait_until("the hook to unmount", || observers_of(&client, &key()) == 0).await;
    root.remove();
}

thread_local! {
    static RETRY_RENDERS: Cell<u32> = const { Cell::new(0) };
}

#[derive(Properties, PartialEq)]
struct RetryProps {
    retry: Callback<()>,
}

#[function_component]
fn RetryButton(props: &RetryProps) -> Html {
    RETRY_RENDERS.with(|c| c.set(c.get() + 1));
    let retry = props.retry.reform(|_: MouseEvent| ());
    html! { <button id="retry" onclick={retry}>{ "retry" }</button> }
}

#[function_component]
fn WithRetry() -> Html {
    let spec = QuerySpec::<Value>::new(Key::from_key(key()), fetcher(), QueryOptions::default());
    let query = use_query(spec);
    html! {
        <>
            <span id="state">{ format!("{:?}", query.fetch_status) }</span>
            <RetryButton retry={query.refetch.clone()} />
        </>
    }
}

/// TanStack's `refetch` is a stable function: a child given it as a prop
/// is not re-rendered when its parent re-renders for the query's changes,
/// and calling it refetches.
#[wasm_bindgen_test]
async fn refetch_is_the_same_callback_across_renders() {
    FETCHES.with(|f| f.set(0));
    RETRY_RENDERS.with(|c| c.set(0));
    let client = app_client();
    let document = gloo_utils_document();
    let root = mount::<WithRetry>(&client);
    wait_until("the first fetch", || FETCHES.with(Cell::get) == 1).await;
    wait_until("idle", || text_of("state").as_deref() == Some("Idle")).await;
    assert_eq!(
        RETRY_RENDERS.with(Cell::get),
        1,
        "fetching, then idle: the child stays"
    );
    document
        .get_element_by_id("retry")
        .unwrap()
        .dyn_into::<web_sys::HtmlElement>()
        .unwrap()
        .click();
    wait_until("the refetch", || FETCHES.with(Cell::get) == 2).await;
    wait_until("idle again", || text_of("state").as_deref() == Some("Idle")).await;
    assert_eq!(RETRY_RENDERS.with(Cell::get), 1);
    root.remove();
}

thread_local! {
    static SET_IDS: std::cell::RefCell<Option<Callback<Vec<i64>>>> = const { std::cell::RefCell::new(None) };
    static ITEM_FETCHES: Cell<u32> = const { Cell::new(0) };
}

fn item_key(id: i64) -> QueryKey {
    QueryKey::from(vec![json!("item"), json!(id)])
}

/// `{"id": id}` after 20 ms.
fn item(id: i64) -> QuerySpec<Value> {
    let fetch: Fetcher = Rc::new(move |_| {
        Box::pin(async move {
            ITEM_FETCHES.with(|f| f.set(f.get() + 1));
            TimeoutFuture::new(20).await;
            Ok(json!({ "id": id }))
        })
    });
    QuerySpec::new(Key::from_key(item_key(id)), fetch, QueryOptions::default())
}

#[function_component]
fn Items() -> Html {
    let ids = use_state(|| vec![1_i64, 2]);
    {
        let ids = ids.clone();
        let set = Callback::from(move |v: Vec<i64>| ids.set(v));
        SET_IDS.with(|s| *s.borrow_mut() = Some(set));
    }
    let items = querent::yew::use_queries(ids.iter().map(|id| item(*id)).collect());
    let shown: Vec<String> = items
        .iter()
        .map(|i| i.data.as_ref().map_or("…".into(), |d| d["id"].to_string()))
        .collect();
    html! { <p id="items">{ shown.join(",") }</p> }
}

/// `useQueries.test.tsx`'s core: a list of queries whose length changes
/// between renders; each shows in order, a new one fetches, the ones that
/// stay keep their data without refetching, one left out is let go.
#[wasm_bindgen_test]
async fn use_queries_follows_a_list_that_changes_length() {
    ITEM_FETCHES.with(|f| f.set(0));
    let client = app_client();
    let root = mount::<Items>(&client);
    wait_until("both items", || text_of("items").as_deref() == Some("1,2")).await;
    assert_eq!(ITEM_FETCHES.with(Cell::get), 2);
    SET_IDS.with(|s| s.borrow().as_ref().unwrap().emit(vec![3, 1, 2]));
    wait_until("the third item first", || {
        text_of("items").as_deref() == Some("3,1,2")
    })
    .await;
    assert_eq!(
        ITEM_FETCHES.with(Cell::get),
        3,
        "only the new item is fetched"
    );
    SET_IDS.with(|s| s.borrow().as_ref().unwrap().emit(vec![2]));
    wait_until("one item", || text_of("items").as_deref() == Some("2")).await;
    wait_until("item 1 let go", || observers_of(&client, &item_key(1)) == 0).await;
    assert_eq!(observers_of(&client, &item_key(2)), 1);
    root.remove();
}

/// A mutation function answering its variables after 30 ms.
fn slow_echo() -> querent::mutation::MutationFn {
    Rc::new(|ctx| {
        Box::pin(async move {
            TimeoutFuture::new(30).await;
            Ok(ctx.variables)
        })
    })
}

#[function_component]
fn Saving() -> Html {
    use querent::filters::MutationFilters;
    let saving = querent::yew::use_is_mutating(MutationFilters::key("save"));
    let other = querent::yew::use_is_mutating(MutationFilters::key("other"));
    let pending = querent::yew::use_mutation_state(
        MutationFilters::key("save").status(querent::MutationStatus::Pending),
        |r| r.variables.to_string(),
    );
    html! {
        <>
            <p id="saving">{ format!("{saving}/{other}") }</p>
            <p id="pending-vars">{ pending.join(",") }</p>
        </>
    }
}

/// `useIsMutating.test.tsx` / `useMutationState.test.tsx`: the count and
/// the variables of the mutations a filter picks follow them, and a
/// filter for another key stays at 0.
#[wasm_bindgen_test]
async fn use_is_mutating_and_use_mutation_state_follow_the_filtered_mutations() {
    let client = app_client();
    client.register_mutation_json("save", querent::MutationDefaults::new(slow_echo()));
    let root = mount::<Saving>(&client);
    wait_until("the first render", || {
        text_of("saving").as_deref() == Some("0/0")
    })
    .await;
    let first = client.mutate_json("save", json!("a"), querent::MutateOptions::default());
    let second = client.mutate_json("save", json!("b"), querent::MutateOptions::default());
    wait_until("two saving", || text_of("saving").as_deref() == Some("2/0")).await;
    assert_eq!(text_of("pending-vars").as_deref(), Some(r#""a","b""#));
    first.await.unwrap();
    second.await.unwrap();
    wait_until("none saving", || {
        text_of("saving").as_deref() == Some("0/0")
    })
    .await;
    assert_eq!(text_of("pending-vars").as_deref(), Some(""));
    root.remove();
}

thread_local! {
    static ASYNC_ANSWER: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

#[function_component]
fn EchoAsync() -> Html {
    let echo = querent::yew::use_mutation(|_: &(String, u32)| {
        querent::typed::MutationOptions::<Echo, ()>::default()
    });
    let called = use_mut_ref(|| false);
    if !std::mem::replace(&mut *called.borrow_mut(), true) {
        let call = echo.mutate_async(("awaited".into(), 20));
        wasm_bindgen_futures::spawn_local(async move {
            let answer = call.await.unwrap();
            ASYNC_ANSWER.with(|a| *a.borrow_mut() = Some(answer));
        });
    }
    let reset = echo.reset.reform(|_: MouseEvent| ());
    html! {
        <>
            <button id="reset" onclick={reset}>{ "reset" }</button>
            <span id="async-vars">{ format!("{:?}", echo.variables()) }</span>
            <span id="async-state">{ format!("{:?}/{}", echo.status, echo.is_idle()) }</span>
        </>
    }
}

/// `useMutation.test.tsx`: `mutateAsync` answers the call, `variables`
/// shows what it was called with, `reset` goes back to idle.
#[wasm_bindgen_test]
async fn use_mutation_mutate_async_variables_and_reset() {
    let document = gloo_utils_document();
    let client = QueryClient::new(WebPlatform::default());
    client.register_mutation(Echo);
    let root = mount::<EchoAsync>(&client);
    wait_until("the answer", || {
        ASYNC_ANSWER.with(|a| a.borrow().as_deref() == Some("awaited"))
    })
    .await;
    wait_until("success", || {
        text_of("async-state").as_deref() == Some("Some(Success)/false")
    })
    .await;
    assert_eq!(
        text_of("async-vars").as_deref(),
        Some(r#"Some(("awaited", 20))"#)
    );
    document
        .get_element_by_id("reset")
        .unwrap()
        .dyn_into::<web_sys::HtmlElement>()
        .unwrap()
        .click();
    wait_until("idle", || {
        text_of("async-state").as_deref() == Some("None/true")
    })
    .await;
    assert_eq!(text_of("async-vars").as_deref(), Some("None"));
    root.remove();
}

#[function_component]
fn OnlineBadge() -> Html {
    let online = querent::yew::use_is_online();
    html! { <span id="online">{ if online { "online" } else { "offline" } }</span> }
}

/// `use_is_online` (TanStack's `onlineManager` subscription) re-renders
/// when the network goes and comes back (the Yew value hooks skip only
/// observer events).
#[wasm_bindgen_test]
async fn use_is_online_follows_the_network() {
    let client = app_client();
    let root = mount::<OnlineBadge>(&client);
    wait_until("online", || text_of("online").as_deref() == Some("online")).await;
    client.set_online(false);
    wait_until("offline", || {
        text_of("online").as_deref() == Some("offline")
    })
    .await;
    client.set_online(true);
    wait_until("online again", || {
        text_of("online").as_deref() == Some("online")
    })
    .await;
    root.remove();
}

/// A state for the boundary, and the pages to render under it.
type Shown = (Rc<querent::DehydratedState>, Vec<&'static str>);

thread_local! {
    static BOUNDARY_STATE: std::cell::RefCell<Option<Callback<Shown>>> =
        const { std::cell::RefCell::new(None) };
    static PAGE_RENDERS: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A state holding `text` for each of `keys`, as of now.
fn boundary_state(entries: &[(&str, &str)]) -> Rc<querent::DehydratedState> {
    let now = js_sys::Date::now() as i64;
    Rc::new(querent::DehydratedState {
        version: 1,
        queries: entries
            .iter()
            .map(|(key, text)| querent::hydration::DehydratedQuery {
                key: QueryKey::from(vec![json!(key)]),
                state: querent::hydration::DehydratedQueryState::Success {
                    data: Rc::new(json!(text)),
                    updated_at: now,
                },
            })
            .collect(),
        ..querent::DehydratedState::default()
    })
}

#[derive(Properties, PartialEq)]
struct PageProps {
    name: &'static str,
}

#[function_component]
fn BoundaryPage(props: &PageProps) -> Html {
    let never: Fetcher = Rc::new(|_| Box::pin(async { Ok(json!("fetched")) }));
    let spec = QuerySpec::<Value>::new(
        Key::from_key(QueryKey::from(vec![json!(props.name)])),
        never,
        QueryOptions::default(),
    );
    let query = use_query(spec);
    let text = query
        .data
        .as_ref()
        .and_then(|d| d.as_str().map(str::to_owned));
    let text = text.unwrap_or_else(|| "-".into());
    // What the cache holds for "string" while this renders.
    let string =
        querent::yew::use_query_client().get_query_data(&QueryKey::from(vec![json!("string")]));
    PAGE_RENDERS.with(|r| {
        r.borrow_mut().push(format!(
            "{}={text} (string: {:?})",
            props.name,
            string.as_deref()
        ))
    });
    html! { <p id={props.name}>{ text }</p> }
}

#[function_component]
fn BoundaryApp() -> Html {
    let shown = use_state(|| {
        (
            boundary_state(&[("string", "stringCached")]),
            vec!["string"],
        )
    });
    {
        let shown = shown.clone();
        BOUNDARY_STATE
            .with(|s| *s.borrow_mut() = Some(Callback::from(move |next| shown.set(next))));
    }
    let (state, pages) = (*shown).clone();
    html! {
        <querent::yew::HydrationBoundary state={Some(state)}>
            { for pages.into_iter().map(|name| html! { <BoundaryPage {name} /> }) }
        </querent::yew::HydrationBoundary>
    }
}

/// `HydrationBoundary.test.tsx` › "should hydrate queries to the cache on
/// context" and "should hydrate new queries if queries change": the first
/// render has the hydrated data (no fetch); with a new state, a query new
/// to the cache shows in the very render that brings it, while one the
/// cache holds changes only after that render (no side effect of the
/// render), then shows the newer data.
#[wasm_bindgen_test]
async fn a_hydration_boundary_hydrates_new_queries_in_render_and_existing_ones_after() {
    let client = app_client();
    let root = mount::<BoundaryApp>(&client);
    wait_until("the first render", || text_of("string").is_some()).await;
    assert_eq!(text_of("string").as_deref(), Some("stringCached"));
    let renders = PAGE_RENDERS.with(|r| r.borrow().clone());
    assert!(renders[0].starts_with("string=stringCached"), "{renders:?}");
    TimeoutFuture::new(10).await;
    let next = boundary_state(&[("string", "should change"), ("added", "added")]);
    PAGE_RENDERS.with(|r| r.borrow_mut().clear());
    BOUNDARY_STATE.with(|s| {
        s.borrow()
            .clone()
            .unwrap()
            .emit((next, vec!["string", "added"]))
    });
    wait_until("the newer data", || {
        text_of("string").as_deref() == Some("should change")
    })
    .await;
    assert_eq!(text_of("added").as_deref(), Some("added"));
    let renders = PAGE_RENDERS.with(|r| r.borrow().clone());
    let added_first = renders.iter().find(|r| r.starts_with("added="));
    assert_eq!(
        added_first.map(String::as_str),
        Some(r#"added=added (string: Some(String("stringCached")))"#),
        "the new query's data is there on its first render, and the one the cache held \
         is not changed by that render: {renders:?}"
    );
    root.remove();
}

thread_local! {
    static SUCCEED: Cell<bool> = const { Cell::new(false) };
    static RESET_QUERIES: Cell<bool> = const { Cell::new(true) };
    static BOUNDARY_FETCHES: Cell<u32> = const { Cell::new(0) };
}

/// Fails (a 500) after 10 ms until told to succeed; counts its calls.
fn failing_until_told() -> Fetcher {
    Rc::new(|_| {
        BOUNDARY_FETCHES.with(|c| c.set(c.get() + 1));
        Box::pin(async {
            TimeoutFuture::new(10).await;
            if SUCCEED.with(Cell::get) {
                Ok(json!("data"))
            } else {
                Err(querent::QueryError::http(500, "internal_error", "Error"))
            }
        })
    })
}

#[function_component]
fn ThrowingPage() -> Html {
    let spec = QuerySpec::<Value>::new(
        Key::from_key(QueryKey::from(vec![json!("boundary")])),
        failing_until_told(),
        QueryOptions {
            retry: Some(0),
            throw_on_error: Some(true.into()),
            ..QueryOptions::default()
        },
    );
    let query = use_query(spec);
    let text = query
        .data
        .as_ref()
        .and_then(|d| d.as_str().map(str::to_owned));
    html! { <p id="boundary-data">{ text.unwrap_or_default() }</p> }
}

#[function_component]
fn Boundaried() -> Html {
    let reset = querent::yew::use_query_error_reset_boundary();
    let on_reset = RESET_QUERIES
        .with(Cell::get)
        .then(|| Callback::from(move |()| reset.reset()));
    let fallback = Callback::from(|fallback: querent::yew::QueryErrorFallback| {
        let retry = fallback.reset_error_boundary.reform(|_: MouseEvent| ());
        html! {
            <div id="fallback">
                <p>{ "error boundary: " }{ fallback.error.message.clone() }</p>
                <button id="retry" onclick={retry}>{ "retry" }</button>
            </div>
        }
    });
    html! {
        <querent::yew::QueryErrorBoundary {fallback} {on_reset}>
            <ThrowingPage />
        </querent::yew::QueryErrorBoundary>
    }
}

#[function_component]
fn ResetBoundaried() -> Html {
    html! { <querent::yew::QueryErrorResetBoundary><Boundaried /></querent::yew::QueryErrorResetBoundary> }
}

fn click(id: &str) {
    gloo_utils_document()
        .get_element_by_id(id)
        .unwrap()
        .dyn_into::<web_sys::HtmlElement>()
        .unwrap()
        .click();
}

/// `QueryResetErrorBoundary.test.tsx` › "should retry fetch if the reset
/// error boundary has been reset" and "should not retry fetch if the reset
/// error boundary has not been reset": with `throw_on_error` the failure
/// shows the boundary's fallback; its retry shows the page again, which
/// fetches again only when the reset boundary was reset (`on_reset`).
#[wasm_bindgen_test]
async fn throw_on_error_reaches_the_boundary_and_a_reset_refetches() {
    SUCCEED.with(|s| s.set(false));
    RESET_QUERIES.with(|r| r.set(true));
    BOUNDARY_FETCHES.with(|c| c.set(0));
    let root = mount::<ResetBoundaried>(&app_client());
    wait_until("the fallback", || text_of("fallback").is_some()).await;
    assert_eq!(
        text_of("fallback").as_deref(),
        Some("error boundary: Errorretry")
    );
    assert_eq!(BOUNDARY_FETCHES.with(Cell::get), 1);
    SUCCEED.with(|s| s.set(true));
    click("retry");
    wait_until("the data", || {
        text_of("boundary-data").as_deref() == Some("data")
    })
    .await;
    assert_eq!(
        BOUNDARY_FETCHES.with(Cell::get),
        2,
        "fetched again after the reset"
    );
    root.remove();

    SUCCEED.with(|s| s.set(false));
    RESET_QUERIES.with(|r| r.set(false));
    BOUNDARY_FETCHES.with(|c| c.set(0));
    let root = mount::<ResetBoundaried>(&app_client());
    wait_until("the fallback", || text_of("fallback").is_some()).await;
    SUCCEED.with(|s| s.set(true));
    click("retry");
    TimeoutFuture::new(50).await;
    assert!(text_of("fallback").is_some(), "the same error, at once");
    assert_eq!(
        BOUNDARY_FETCHES.with(Cell::get),
        1,
        "not fetched again without a reset"
    );
    root.remove();
}

thread_local! {
    static PREFETCHES: Cell<u32> = const { Cell::new(0) };
    static COMPONENT_FETCHES: Cell<u32> = const { Cell::new(0) };
}

fn counting(answer: &'static str, count: &'static std::thread::LocalKey<Cell<u32>>) -> Fetcher {
    Rc::new(move |_| {
        count.with(|c| c.set(c.get() + 1));
        Box::pin(async move {
            TimeoutFuture::new(10).await;
            Ok(json!(answer))
        })
    })
}

fn prefetched_key() -> QueryKey {
    QueryKey::from(vec![json!("prefetched")])
}

#[function_component]
fn PrefetchedPage() -> Html {
    let spec = QuerySpec::<Value>::new(
        Key::from_key(prefetched_key()),
        counting("component", &COMPONENT_FETCHES),
        QueryOptions::default(),
    );
    let query = use_query(spec);
    let text = query
        .data
        .as_ref()
        .and_then(|d| d.as_str().map(str::to_owned));
    html! { <p id="prefetched">{ text.unwrap_or_else(|| "loading".into()) }</p> }
}

#[function_component]
fn PrefetchingApp() -> Html {
    querent::yew::use_prefetch_query(QuerySpec::<Value>::new(
        Key::from_key(prefetched_key()),
        counting("prefetchQuery", &PREFETCHES),
        QueryOptions::default(),
    ));
    html! { <PrefetchedPage /> }
}

/// `usePrefetchQuery.test.tsx` › "should prefetch query if query state does
/// not exist" (the component below joins the prefetch: one fetch, the
/// prefetch's answer) and "should not prefetch query if query state
/// exists".
#[wasm_bindgen_test]
async fn use_prefetch_query_fetches_only_what_the_cache_lacks() {
    let client = app_client();
    let root = mount::<PrefetchingApp>(&client);
    wait_until("the prefetched data", || {
        text_of("prefetched").as_deref() == Some("prefetchQuery")
    })
    .await;
    assert_eq!(PREFETCHES.with(Cell::get), 1);
    assert_eq!(
        COMPONENT_FETCHES.with(Cell::get),
        0,
        "the component joined the prefetch"
    );
    root.remove();

    let client = app_client();
    client.set_query_data(&prefetched_key(), |_| {
        Some(json!("The usePrefetchQuery hook is smart!"))
    });
    let root = mount::<PrefetchingApp>(&client);
    wait_until("the cached data", || {
        text_of("prefetched").as_deref() == Some("The usePrefetchQuery hook is smart!")
    })
    .await;
    TimeoutFuture::new(20).await;
    assert_eq!(PREFETCHES.with(Cell::get), 1, "no second prefetch");
    assert_eq!(COMPONENT_FETCHES.with(Cell::get), 0);
    root.remove();
}

// ----- the devtools panel (`Devtools.test.tsx` of TanStack's query-devtools)

#[function_component]
fn OpenDevtools() -> Html {
    html! { <querent::devtools::QueryDevtools initially_open={true} /> }
}

fn selector(css: &str) -> Option<web_sys::Element> {
    gloo_utils_document().query_selector(css).ok().flatten()
}

/// The devtools' pick button of the query `key` (its accessible label, as
/// TanStack's tests find rows).
fn row_button(key: &str) -> Option<web_sys::HtmlElement> {
    selector(&format!(
        "button[aria-label='Query key {}']",
        key.replace('\'', "\\'")
    ))
    .and_then(|e| e.dyn_into().ok())
}

/// Opens the details of the query `key` (its row's button) and waits for
/// them.
async fn open_details(key: &str) {
    row_button(key).unwrap().click();
    wait_until("the query's details", || {
        selector("section.querent-devtools-detail")
            .is_some_and(|d| d.get_attribute("data-key").as_deref() == Some(key))
    })
    .await;
}

/// Clicks the button of the details panel that reads `label`.
fn click_detail(label: &str) {
    let panel = selector("section.querent-devtools-detail").expect("the details panel");
    let buttons = panel.query_selector_all("button").unwrap();
    let button = (0..buttons.length())
        .filter_map(|i| buttons.item(i))
        .find(|b| b.text_content().as_deref() == Some(label))
        .unwrap_or_else(|| panic!("no {label:?} button"));
    button.dyn_into::<web_sys::HtmlElement>().unwrap().click();
}

/// The keys of the rows, in order.
fn row_keys() -> Vec<String> {
    let rows = gloo_utils_document()
        .query_selector_all("tr.querent-devtools-query")
        .unwrap();
    (0..rows.length())
        .filter_map(|i| rows.item(i))
        .filter_map(|r| r.dyn_into::<web_sys::Element>().ok())
        .filter_map(|r| r.get_attribute("data-key"))
        .collect()
}

fn set_control(css: &str, value: &str, event: &str) {
    let element = selector(css).expect(css);
    js_sys::Reflect::set(&element, &"value".into(), &value.into()).unwrap();
    element
        .dispatch_event(
            &web_sys::Event::new_with_event_init_dict(event, &{
                let init = web_sys::EventInit::new();
                init.set_bubbles(true);
                init
            })
            .unwrap(),
        )
        .unwrap();
}

fn k(parts: Value) -> QueryKey {
    serde_json::from_value(parts).unwrap()
}

/// "should render a row for each query in the cache", "should reflect a
/// newly added query reactively", "should filter queries by queryHash",
/// "should change sort key..." and "should toggle the sort order...".
#[wasm_bindgen_test]
async fn devtools_list_every_query_filtered_and_sorted() {
    let client = app_client();
    client.set_query_data(&k(json!(["posts"])), |_| Some(json!([{"id": 1}])));
    client.set_query_data(&k(json!(["users", "me"])), |_| Some(json!({"id": "u1"})));
    let root = mount::<OpenDevtools>(&client);
    wait_until("the rows", || row_keys().len() == 2).await;
    assert!(row_button(r#"["posts"]"#).is_some());
    assert!(row_button(r#"["users","me"]"#).is_some());

    client.set_query_data(&k(json!(["new"])), |_| Some(json!("hello")));
    wait_until("the new query's row", || row_button(r#"["new"]"#).is_some()).await;

    set_control("input.querent-devtools-filter", "posts", "input");
    wait_until("the filter", || row_keys() == [r#"["posts"]"#]).await;
    set_control("input.querent-devtools-filter", "", "input");
    wait_until("every row again", || row_keys().len() == 3).await;

    set_control("select.querent-devtools-sort", "query hash", "change");
    wait_until("sorted by key", || {
        row_keys() == [r#"["new"]"#, r#"["posts"]"#, r#"["users","me"]"#]
    })
    .await;
    selector("button.querent-devtools-order")
        .unwrap()
        .dyn_into::<web_sys::HtmlElement>()
        .unwrap()
        .click();
    wait_until("the order reversed", || {
        row_keys() == [r#"["users","me"]"#, r#"["posts"]"#, r#"["new"]"#]
    })
    .await;
    root.remove();
}

/// "should open the query details panel when a query row is clicked",
/// "should close the query details panel when the same row is clicked
/// again", and the actions: Remove, Reset, Invalidate, Trigger / Restore
/// Error, Trigger / Restore Loading ("should restore the previous query
/// options...": the query's own fetcher answers again).
#[wasm_bindgen_test]
async fn devtools_details_and_actions() {
    let client = app_client();
    let detail = || selector("section.querent-devtools-detail");
    for name in [
        "action-remove",
        "action-reset",
        "action-invalidate",
        "action-error",
    ] {
        client.set_query_data(&k(json!([name])), |_| Some(json!([{"id": 1}])));
    }
    let root = mount::<OpenDevtools>(&client);
    wait_until("the rows", || row_keys().len() == 4).await;

    row_button(r#"["action-remove"]"#).unwrap().click();
    wait_until("the details", || detail().is_some()).await;
    assert!(
        detail()
            .unwrap()
            .text_content()
            .unwrap()
            .contains("Query Details")
    );
    assert!(
        detail()
            .unwrap()
            .text_content()
            .unwrap()
            .contains("\"id\": 1"),
        "the query's data, whole"
    );
    row_button(r#"["action-remove"]"#).unwrap().click();
    wait_until("the details closed", || detail().is_none()).await;

    row_button(r#"["action-remove"]"#).unwrap().click();
    wait_until("the details", || detail().is_some()).await;
    click_detail("Remove");
    wait_until("the row gone", || {
        row_button(r#"["action-remove"]"#).is_none()
    })
    .await;
    assert!(
        client
            .get_query_state(&k(json!(["action-remove"])))
            .is_none()
    );

    open_details(r#"["action-reset"]"#).await;
    click_detail("Reset");
    assert!(client.get_query_data(&k(json!(["action-reset"]))).is_none());

    open_details(r#"["action-invalidate"]"#).await;
    click_detail("Invalidate");
    assert!(
        client
            .get_query_state(&k(json!(["action-invalidate"])))
            .unwrap()
            .is_invalidated
    );

    open_details(r#"["action-error"]"#).await;
    click_detail("Trigger error");
    let errored = k(json!(["action-error"]));
    assert_eq!(
        client.get_query_state(&errored).unwrap().status,
        querent::QueryStatus::Error
    );
    wait_until("the restore button", || {
        detail().is_some_and(|d| d.text_content().unwrap().contains("Restore error"))
    })
    .await;
    click_detail("Restore error");
    assert_eq!(
        client.get_query_state(&errored).unwrap().status,
        querent::QueryStatus::Pending
    );

    // A query with a fetcher: loading shown, then its own answer again.
    let calls = Rc::new(Cell::new(0));
    let fetcher: Fetcher = {
        let calls = Rc::clone(&calls);
        Rc::new(move |_| {
            calls.set(calls.get() + 1);
            Box::pin(async { Ok(json!("original")) })
        })
    };
    let loading = k(json!(["action-restore-loading"]));
    client
        .fetch_query(&loading, fetcher, QueryOptions::default())
        .await
        .unwrap();
    assert_eq!(calls.get(), 1);
    wait_until("its row", || {
        row_button(r#"["action-restore-loading"]"#).is_some()
    })
    .await;
    open_details(r#"["action-restore-loading"]"#).await;
    click_detail("Trigger loading");
    assert_eq!(
        client.get_query_state(&loading).unwrap().status,
        querent::QueryStatus::Pending
    );
    assert!(client.get_query_data(&loading).is_none());
    wait_until("the restore button", || {
        detail().is_some_and(|d| d.text_content().unwrap().contains("Restore loading"))
    })
    .await;
    click_detail("Restore loading");
    wait_until("the data again", || {
        client.get_query_data(&loading).is_some()
    })
    .await;
    assert_eq!(calls.get(), 2);
    assert_eq!(*client.get_query_data(&loading).unwrap(), json!("original"));
    root.remove();
}

// ----- re-renders for the parts a component reads (`notifyOnChangeProps`)

thread_local! {
    static DATA_ONLY_RENDERS: Cell<u32> = const { Cell::new(0) };
    static EVERY_CHANGE_RENDERS: Cell<u32> = const { Cell::new(0) };
}

fn same_answer_spec() -> QuerySpec<Value> {
    QuerySpec::new(
        Key::from_key(k(json!(["same-answer"]))),
        fetcher(),
        QueryOptions::default(),
    )
}

#[function_component]
fn DataOnly() -> Html {
    DATA_ONLY_RENDERS.with(|c| c.set(c.get() + 1));
    let query = querent::yew::use_query_notifying(same_answer_spec(), &[querent::ResultProp::Data]);
    html! { <p id="data-only">{ query.data.as_ref().map(|d| d["text"].to_string()).unwrap_or_default() }</p> }
}

#[function_component]
fn EveryChange() -> Html {
    EVERY_CHANGE_RENDERS.with(|c| c.set(c.get() + 1));
    let query = use_query(same_answer_spec());
    html! { <p id="every-change">{ query.data.as_ref().map(|d| d["text"].to_string()).unwrap_or_default() }</p> }
}

#[function_component]
fn BothReaders() -> Html {
    html! { <><DataOnly /><EveryChange /></> }
}

/// A component reading only the data is not rendered again by a background
/// refetch that brings the same data; one rendering on every change is
/// (twice: fetching, then idle).
#[wasm_bindgen_test]
async fn a_component_reading_only_data_skips_a_refetch_that_changes_nothing() {
    let client = app_client();
    client.set_query_data(&k(json!(["same-answer"])), |_| {
        Some(json!({"text": "hello"}))
    });
    let root = mount::<BothReaders>(&client);
    wait_until("both rendered", || {
        text_of("data-only").is_some() && text_of("every-change").is_some()
    })
    .await;
    let (data_only, every_change) = (
        DATA_ONLY_RENDERS.with(Cell::get),
        EVERY_CHANGE_RENDERS.with(Cell::get),
    );

    client.refetch(&k(json!(["same-answer"]))).await.unwrap();
    wait_until("the refetch seen", || {
        EVERY_CHANGE_RENDERS.with(Cell::get) >= every_change + 2
    })
    .await;
    TimeoutFuture::new(50).await;
    assert_eq!(
        DATA_ONLY_RENDERS.with(Cell::get),
        data_only,
        "the data did not change: no render"
    );
    root.remove();
}

// ----- tracked results (`useQuery.test.tsx`: "should track properties
// and only re-render when a tracked property changes", "should always
// re-render if we are tracking props but not using any")

thread_local! {
    static TRACKED_STATES: std::cell::RefCell<Vec<Option<String>>> =
        const { std::cell::RefCell::new(Vec::new()) };
    static TRACKED_COUNT: Cell<u32> = const { Cell::new(0) };
    static UNREAD_RENDERS: Cell<u32> = const { Cell::new(0) };
}

/// Answers `test1`, `test2`, ... after 10 ms.
fn counting_spec(name: &str) -> QuerySpec<String> {
    let fetcher: Fetcher = Rc::new(|_| {
        Box::pin(async {
            TimeoutFuture::new(10).await;
            let n = TRACKED_COUNT.with(|c| {
                c.set(c.get() + 1);
                c.get()
            });
            Ok(json!(format!("test{n}")))
        })
    });
    QuerySpec::new(
        Key::from_key(k(json!(["tracked", name]))),
        fetcher,
        QueryOptions::default(),
    )
}

#[function_component]
fn TrackedPage() -> Html {
    let state = querent::yew::use_query_tracked(counting_spec("data"));
    let data = state.data().map(|d| (**d).clone());
    TRACKED_STATES.with(|s| s.borrow_mut().push(data.clone()));
    let refetch = state.refetch().reform(|_: MouseEvent| ());
    html! {
        <div>
            <h1 id="tracked-data">{ data.unwrap_or_default() }</h1>
            <button id="tracked-refetch" onclick={refetch}>{ "refetch" }</button>
        </div>
    }
}

/// Reads only the data: rendered for `None`, `test1` and `test2`, never
/// for the fetch status going and coming (3 renders, as TanStack's).
#[wasm_bindgen_test]
async fn a_tracked_result_re_renders_only_for_the_parts_read() {
    TRACKED_STATES.with(|s| s.borrow_mut().clear());
    TRACKED_COUNT.with(|c| c.set(0));
    let root = mount::<TrackedPage>(&app_client());
    wait_until("test1", || {
        text_of("tracked-data").as_deref() == Some("test1")
    })
    .await;
    click("tracked-refetch");
    wait_until("test2", || {
        text_of("tracked-data").as_deref() == Some("test2")
    })
    .await;
    TimeoutFuture::new(50).await;
    let states = TRACKED_STATES.with(|s| s.borrow().clone());
    assert_eq!(
        states,
        [None, Some("test1".to_owned()), Some("test2".to_owned())]
    );
    root.remove();
}

#[function_component]
fn UnreadPage() -> Html {
    UNREAD_RENDERS.with(|c| c.set(c.get() + 1));
    let _state = querent::yew::use_query_tracked(counting_spec("unread"));
    html! { <h1 id="unread">{ "hello" }</h1> }
}

/// Reads nothing: every change renders, as without tracking (the first
/// render, already fetching, then the answer: 2, as TanStack's).
#[wasm_bindgen_test]
async fn a_tracked_result_with_nothing_read_re_renders_for_every_change() {
    UNREAD_RENDERS.with(|c| c.set(0));
    TRACKED_COUNT.with(|c| c.set(0));
    let client = app_client();
    let root = mount::<UnreadPage>(&client);
    let key = k(json!(["tracked", "unread"]));
    wait_until("the data", || client.get_query_data(&key).is_some()).await;
    TimeoutFuture::new(50).await;
    assert_eq!(
        UNREAD_RENDERS.with(Cell::get),
        2,
        "the first render and the answer"
    );
    root.remove();
}

// ----- use_suspense_queries (`useSuspenseQueries.test.tsx`)

thread_local! {
    static PARALLEL: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
    static PARALLEL_PAGES: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn after(ms: u32, answer: &'static str) -> QuerySpec<String> {
    let fetcher: Fetcher = Rc::new(move |_| {
        Box::pin(async move {
            TimeoutFuture::new(ms).await;
            PARALLEL.with(|p| p.borrow_mut().push(answer.to_owned()));
            Ok(json!(answer))
        })
    });
    QuerySpec::new(
        Key::from_key(k(json!(["parallel", answer]))),
        fetcher,
        QueryOptions::default(),
    )
}

#[function_component]
fn ParallelPage() -> HtmlResult {
    let results = querent::yew::use_suspense_queries(vec![after(30, "1"), after(60, "2")])?;
    let data: Vec<String> = results.iter().map(|r| (*r.data).clone()).collect();
    let page = format!("data: {}", data.join(","));
    PARALLEL_PAGES.with(|p| p.borrow_mut().push(page.clone()));
    Ok(html! { <h1 id="parallel">{ page }</h1> })
}

#[function_component]
fn ParallelFallback() -> Html {
    PARALLEL.with(|p| p.borrow_mut().push("loading".into()));
    html! { <div id="parallel-loading">{ "loading" }</div> }
}

#[function_component]
fn Parallel() -> Html {
    html! {
        <yew::suspense::Suspense fallback={html! { <ParallelFallback /> }}>
            <ParallelPage />
        </yew::suspense::Suspense>
    }
}

/// "should suspend all queries in parallel": the fallback, then both
/// queries' data at once (never a page with one of them missing), the
/// second query not waiting for the first.
#[wasm_bindgen_test]
async fn use_suspense_queries_suspends_until_all_are_there_fetching_in_parallel() {
    PARALLEL.with(|p| p.borrow_mut().clear());
    PARALLEL_PAGES.with(|p| p.borrow_mut().clear());
    let root = mount::<Parallel>(&app_client());
    wait_until("the fallback first", || {
        text_of("parallel-loading").is_some()
    })
    .await;
    wait_until("both", || {
        text_of("parallel").as_deref() == Some("data: 1,2")
    })
    .await;
    let order = PARALLEL.with(|p| p.borrow().clone());
    assert_eq!(order.first().map(String::as_str), Some("loading"));
    let pages = PARALLEL_PAGES.with(|p| p.borrow().clone());
    assert!(
        pages.iter().all(|p| p == "data: 1,2"),
        "no page with a query missing: {pages:?}"
    );
    assert!(
        order.ends_with(&["1".to_owned(), "2".to_owned()]),
        "fetched side by side: {order:?}"
    );
    root.remove();
}

// ----- the per-query persister (`fine-grained-persister.test.tsx`), on a
// real IndexedDB

thread_local! {
    static PERSISTER: std::cell::RefCell<Option<querent::query_persister::QueryPersister>> =
        const { std::cell::RefCell::new(None) };
    static PERSISTED_FETCHES: Cell<u32> = const { Cell::new(0) };
}

fn persisted_key() -> QueryKey {
    QueryKey::from(vec![json!("persisted")])
}

/// `useQuery` with the persister's `persisterFn` and a stale time of 5 s;
/// its fetcher answers "Works from queryFn" after 100 ms (TanStack's 5 ms
/// on fake timers: long enough here for the restored data to be seen).
#[function_component]
fn Persisted() -> Html {
    let persister = PERSISTER.with(|p| p.borrow().clone()).expect("a persister");
    let fetch: Fetcher = Rc::new(|_| {
        Box::pin(async {
            PERSISTED_FETCHES.with(|f| f.set(f.get() + 1));
            TimeoutFuture::new(100).await;
            Ok(json!("Works from queryFn"))
        })
    });
    let spec = QuerySpec::<String>::new(
        Key::from_key(persisted_key()),
        persister.persister_fn(fetch),
        QueryOptions {
            stale_time: Some(5_000.into()),
            ..QueryOptions::default()
        },
    );
    let query = use_query(spec);
    html! { <div id="persisted">{ query.data.as_deref().cloned().unwrap_or_default() }</div> }
}

/// A persister on a new IndexedDB database of its own, holding `stored`
/// (written `age_ms` ago) under the query's key when given.
async fn persister_holding(
    client: &QueryClient,
    name: &str,
    stored: Option<(&str, i64)>,
) -> (
    querent::idb::IdbStorage,
    querent::query_persister::QueryPersister,
) {
    use querent::async_persist::AsyncStorage;
    let storage = querent::idb::IdbStorage::open(name);
    for (k, _) in storage.entries().await.unwrap() {
        storage.remove_item(&k).await.unwrap();
    }
    if let Some((data, age_ms)) = stored {
        let record = json!({
            "buster": "", "query_hash": persisted_key().canonical(), "query_key": ["persisted"],
            "state": {"data": data, "data_updated_at": js_sys::Date::now() as i64 - age_ms},
        });
        let storage_key = format!("querent-{}", persisted_key().canonical());
        storage
            .set_item(&storage_key, record.to_string())
            .await
            .unwrap();
    }
    let persister = querent::query_persister::QueryPersister::new(
        client,
        Rc::new(storage.clone()),
        Default::default(),
    );
    PERSISTER.with(|p| *p.borrow_mut() = Some(persister.clone()));
    PERSISTED_FETCHES.with(|f| f.set(0));
    (storage, persister)
}

#[wasm_bindgen_test]
async fn should_restore_query_state_from_persister_and_not_refetch() {
    let client = app_client();
    persister_holding(
        &client,
        "querent-test-fine-1",
        Some(("Works from persister", 0)),
    )
    .await;
    let root = mount::<Persisted>(&client);
    wait_until("the stored data", || {
        text_of("persisted").as_deref() == Some("Works from persister")
    })
    .await;
    TimeoutFuture::new(150).await;
    assert_eq!(
        PERSISTED_FETCHES.with(Cell::get),
        0,
        "fresh: the fetcher never ran"
    );
    root.remove();
}

#[wasm_bindgen_test]
async fn should_restore_query_state_from_persister_and_refetch() {
    let client = app_client();
    persister_holding(
        &client,
        "querent-test-fine-2",
        Some(("Works from persister", 10_000)),
    )
    .await;
    let root = mount::<Persisted>(&client);
    wait_until("the stored data", || {
        text_of("persisted").as_deref() == Some("Works from persister")
    })
    .await;
    wait_until("the refetched data", || {
        text_of("persisted").as_deref() == Some("Works from queryFn")
    })
    .await;
    assert_eq!(
        PERSISTED_FETCHES.with(Cell::get),
        1,
        "stale: refetched once"
    );
    root.remove();
}

#[wasm_bindgen_test]
async fn should_store_query_state_to_persister_after_fetch() {
    use querent::async_persist::AsyncStorage;
    let client = app_client();
    let (storage, _persister) = persister_holding(&client, "querent-test-fine-3", None).await;
    let root = mount::<Persisted>(&client);
    wait_until("the fetched data", || {
        text_of("persisted").as_deref() == Some("Works from queryFn")
    })
    .await;
    let storage_key = format!("querent-{}", persisted_key().canonical());
    let mut stored = None;
    for _ in 0..100 {
        stored = storage.get_item(&storage_key).await.unwrap();
        if stored.is_some() {
            break;
        }
        TimeoutFuture::new(10).await;
    }
    let stored: Value = serde_json::from_str(&stored.expect("stored")).unwrap();
    assert_eq!(stored["state"]["data"], "Works from queryFn");
    assert_eq!(stored["query_key"], json!(["persisted"]));
    root.remove();
}

// ----- use_suspense_query's data and errors (`useSuspenseQuery.test.tsx`)

thread_local! {
    static SUSPENSE_KEY_PRECHECK: Cell<bool> = const { Cell::new(false) };
    static SUSPENSE_PAGE_RENDERS: Cell<u32> = const { Cell::new(0) };
}

fn suspense_key() -> QueryKey {
    QueryKey::from(vec![json!("suspense-boundary")])
}

/// `Page` of the scenarios: the data (always there: a `String`, not an
/// `Option`), the status, and a refetch button.
#[function_component]
fn SuspensePage() -> HtmlResult {
    SUSPENSE_PAGE_RENDERS.with(|c| c.set(c.get() + 1));
    let spec = QuerySpec::<String>::new(
        Key::from_key(suspense_key()),
        failing_until_told(),
        QueryOptions {
            retry: Some(0),
            ..QueryOptions::default()
        },
    );
    let result = querent::yew::use_suspense_query(spec)?;
    let refetch = result.refetch.reform(|_: MouseEvent| ());
    let status = if result.error.is_some() {
        "error"
    } else {
        "success"
    };
    Ok(html! {
        <div>
            <span id="suspense-rendered">{ format!("rendered {} {status}", result.data) }</span>
            <button id="suspense-refetch" onclick={refetch}>{ "refetch" }</button>
        </div>
    })
}

#[function_component]
fn SuspenseBoundaried() -> Html {
    let reset = querent::yew::use_query_error_reset_boundary();
    let on_reset = Callback::from(move |()| reset.reset());
    let fallback = Callback::from(|fallback: querent::yew::QueryErrorFallback| {
        let retry = fallback.reset_error_boundary.reform(|_: MouseEvent| ());
        html! {
            <div id="fallback">
                <p>{ "error boundary" }</p>
                <button id="retry" onclick={retry}>{ "retry" }</button>
            </div>
        }
    });
    let keys = if SUSPENSE_KEY_PRECHECK.with(Cell::get) {
        vec![suspense_key()]
    } else {
        vec![]
    };
    html! {
        <querent::yew::QueryErrorBoundary {fallback} {on_reset} {keys}>
            <yew::suspense::Suspense fallback={html! { <p id="suspense-loading">{ "loading" }</p> }}>
                <SuspensePage />
            </yew::suspense::Suspense>
        </querent::yew::QueryErrorBoundary>
    }
}

fn reset_suspense_scenario(succeed: bool) {
    SUCCEED.with(|s| s.set(succeed));
    BOUNDARY_FETCHES.with(|c| c.set(0));
    SUSPENSE_PAGE_RENDERS.with(|c| c.set(0));
    SUSPENSE_KEY_PRECHECK.with(|c| c.set(false));
}

/// "should throw errors to the error boundary by default" and "should
/// retry fetch if the reset error boundary has been reset": loading, the
/// boundary; retry: loading, the boundary again; retry once the fetch
/// succeeds: the page, with its data.
#[wasm_bindgen_test]
async fn use_suspense_query_sends_errors_to_the_boundary_and_a_reset_retries() {
    reset_suspense_scenario(false);
    let root = mount::<SuspenseBoundaried>(&app_client());
    wait_until("loading first", || text_of("suspense-loading").is_some()).await;
    wait_until("the boundary", || text_of("fallback").is_some()).await;
    assert_eq!(BOUNDARY_FETCHES.with(Cell::get), 1);

    click("retry");
    wait_until("loading again", || text_of("suspense-loading").is_some()).await;
    wait_until("the boundary again", || text_of("fallback").is_some()).await;
    assert_eq!(
        BOUNDARY_FETCHES.with(Cell::get),
        2,
        "the reset fetched again"
    );

    SUCCEED.with(|s| s.set(true));
    click("retry");
    wait_until("the page", || {
        text_of("suspense-rendered").as_deref() == Some("rendered data success")
    })
    .await;
    assert_eq!(BOUNDARY_FETCHES.with(Cell::get), 3);
    root.remove();
}

/// "should not throw background errors to the error boundary": a refetch
/// that fails while the data is there keeps the page, with the error.
#[wasm_bindgen_test]
async fn use_suspense_query_keeps_the_page_for_a_background_error() {
    reset_suspense_scenario(true);
    let root = mount::<SuspenseBoundaried>(&app_client());
    wait_until("the page", || {
        text_of("suspense-rendered").as_deref() == Some("rendered data success")
    })
    .await;
    SUCCEED.with(|s| s.set(false));
    click("suspense-refetch");
    wait_until("the error beside the data", || {
        text_of("suspense-rendered").as_deref() == Some("rendered data error")
    })
    .await;
    assert!(
        text_of("fallback").is_none(),
        "no boundary for a background error"
    );
    root.remove();
}

/// A failure already in the cache (a route's loader's) is the boundary's
/// from its first render, given its key: the page never renders (the same
/// on the server and in hydration); a reset fetches again.
#[wasm_bindgen_test]
async fn a_boundary_given_the_key_shows_a_settled_failure_from_its_first_render() {
    reset_suspense_scenario(false);
    SUSPENSE_KEY_PRECHECK.with(|c| c.set(true));
    let client = app_client();
    let spec = QuerySpec::<String>::new(
        Key::from_key(suspense_key()),
        failing_until_told(),
        QueryOptions {
            retry: Some(0),
            ..QueryOptions::default()
        },
    );
    let (key, fetcher, options) = spec.into_parts();
    assert!(client.fetch_query(&key, fetcher, options).await.is_err());
    BOUNDARY_FETCHES.with(|c| c.set(0));
    let root = mount::<SuspenseBoundaried>(&client);
    wait_until("the boundary", || text_of("fallback").is_some()).await;
    TimeoutFuture::new(30).await;
    assert_eq!(
        SUSPENSE_PAGE_RENDERS.with(Cell::get),
        0,
        "the page never rendered"
    );
    assert_eq!(BOUNDARY_FETCHES.with(Cell::get), 0, "nor fetched");

    SUCCEED.with(|s| s.set(true));
    click("retry");
    wait_until("the page", || {
        text_of("suspense-rendered").as_deref() == Some("rendered data success")
    })
    .await;
    assert_eq!(BOUNDARY_FETCHES.with(Cell::get), 1);
    root.remove();
}

// ----- use_infinite_query (`useInfiniteQuery.test.tsx`)

thread_local! {
    static INFINITE_STATES: std::cell::RefCell<Vec<querent::QueryObserverResult>> =
        const { std::cell::RefCell::new(Vec::new()) };
    static INFINITE_DATA: std::cell::RefCell<Vec<Option<Vec<i64>>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// `queryFn: ({ pageParam }) => sleep(10).then(() => pageParam)`,
/// `getNextPageParam: (lastPage) => lastPage + 1`, `initialPageParam: 0`.
#[function_component]
fn CountingPages() -> Html {
    let fetcher: Fetcher = Rc::new(|ctx| {
        Box::pin(async move {
            TimeoutFuture::new(10).await;
            Ok(ctx.page_param)
        })
    });
    let spec = QuerySpec::<InfiniteData<i64>>::new(
        Key::from_key(QueryKey::from(vec![json!("counting-pages")])),
        fetcher,
        QueryOptions {
            get_next_page_param: Some(next_page(|last: &i64| Some(last + 1))),
            initial_page_param: Some(json!(0)),
            ..QueryOptions::default()
        },
    );
    let state = querent::yew::use_infinite_query(spec);
    INFINITE_STATES.with(|s| s.borrow_mut().push(state.result.clone()));
    INFINITE_DATA.with(|s| {
        s.borrow_mut()
            .push(state.data.as_ref().map(|d| d.pages.clone()))
    });
    html! { <button id="next-page" onclick={state.fetch_next_page.reform(|_| ())}>{ "next" }</button> }
}

/// "should return the correct states for a successful query", then a next
/// page: pending and fetching, success with page 0 and a next page, then
/// fetching the next page (the data kept), then pages 0 and 1.
#[wasm_bindgen_test]
async fn use_infinite_query_returns_the_correct_states_for_a_successful_query() {
    INFINITE_STATES.with(|s| s.borrow_mut().clear());
    INFINITE_DATA.with(|s| s.borrow_mut().clear());
    let root = mount::<CountingPages>(&QueryClient::new(WebPlatform::default()));
    wait_until("page 0", || {
        INFINITE_DATA.with(|d| d.borrow().last().cloned().flatten() == Some(vec![0]))
    })
    .await;
    let states = INFINITE_STATES.with(|s| s.borrow().clone());
    assert_eq!(states.len(), 2, "two renders");
    let first = &states[0];
    assert_eq!(first.status, querent::QueryStatus::Pending);
    assert_eq!(first.fetch_status, querent::FetchStatus::Fetching);
    assert!(first.is_pending() && first.is_loading() && first.is_fetching());
    assert!(!first.has_next_page && !first.has_previous_page);
    assert!(!first.is_fetching_next_page && !first.is_fetched && first.is_stale);
    assert_eq!((first.data_updated_at, first.failure_count), (0, 0));
    let second = &states[1];
    assert_eq!(second.status, querent::QueryStatus::Success);
    assert_eq!(second.fetch_status, querent::FetchStatus::Idle);
    assert!(second.is_success() && second.is_fetched && second.is_fetched_after_mount);
    assert!(second.has_next_page && !second.has_previous_page);
    assert!(!second.is_loading() && !second.is_refetching() && !second.is_fetching_next_page);
    assert!(second.data_updated_at > 0);

    click("next-page");
    wait_until("pages 0 and 1", || {
        INFINITE_DATA.with(|d| d.borrow().last().cloned().flatten() == Some(vec![0, 1]))
    })
    .await;
    let states = INFINITE_STATES.with(|s| s.borrow().clone());
    let data = INFINITE_DATA.with(|s| s.borrow().clone());
    let loading_next = states
        .iter()
        .position(|s| s.is_fetching_next_page)
        .expect("a render while the next page loads");
    assert!(states[loading_next].is_fetching() && !states[loading_next].is_refetching());
    assert_eq!(
        data[loading_next],
        Some(vec![0]),
        "the first page kept meanwhile"
    );
    let last = states.last().unwrap();
    assert!(!last.is_fetching_next_page && last.has_next_page && last.is_success());
    root.remove();
}

// ----- components first mounted as a suspended view resumes

thread_local! {
    /// (the post's fetch, the comments' fetch), in ms.
    static RESUMED_MS: Cell<(u32, u32)> = const { Cell::new((30, 60)) };
}

/// Answers `answer` after `ms`.
fn answering(ms: u32, answer: &'static str) -> Fetcher {
    Rc::new(move |_| {
        Box::pin(async move {
            TimeoutFuture::new(ms).await;
            Ok(json!(answer))
        })
    })
}

fn resumed_spec(name: &'static str) -> QuerySpec<String> {
    let (post_ms, comments_ms) = RESUMED_MS.with(Cell::get);
    let ms = match name {
        "post" => post_ms,
        "comments" => comments_ms,
        _ => 5,
    };
    QuerySpec::new(
        Key::from_key(k(json!(["resumed", name]))),
        answering(ms, name),
        QueryOptions::default(),
    )
}

#[function_component]
fn ResumedChild() -> Html {
    let comments = use_query(resumed_spec("comments"));
    let author =
        querent::yew::use_query_select(resumed_spec("author"), (), |a: &String, ()| a.clone());
    let shown = |q: &Option<Rc<String>>| q.as_deref().cloned().unwrap_or("…".into());
    html! {
        <p id="resumed-child">{ format!("{} by {}", shown(&comments.data), shown(&author.data)) }</p>
    }
}

#[function_component]
fn ResumedPost() -> HtmlResult {
    let post = querent::yew::use_suspense_query(resumed_spec("post"))?;
    Ok(html! {
        <div>
            <h1 id="resumed-post">{ (*post.data).clone() }</h1>
            <ResumedChild />
        </div>
    })
}

#[function_component]
fn Resumed() -> Html {
    html! {
        <yew::suspense::Suspense fallback={html! { <p id="resumed-loading">{ "loading" }</p> }}>
            <ResumedPost />
        </yew::suspense::Suspense>
    }
}

/// A page whose view suspends on its first render (its data not cached:
/// a deep link without embedded state): the components first mounted as it
/// resumes take their queries' answers, whether those come after it
/// resumed or were already on their way (a loader's prefetch) and land
/// while it is suspended, as it resumes or just after; and every later
/// change.
#[wasm_bindgen_test]
async fn components_mounted_as_a_suspended_view_resumes_take_every_update() {
    for (post_ms, comments_ms, prefetched) in [
        (30, 60, false),
        (30, 10, true),
        (30, 30, true),
        (30, 31, true),
        (30, 40, true),
        (60, 30, true),
    ] {
        RESUMED_MS.with(|m| m.set((post_ms, comments_ms)));
        let client = app_client();
        if prefetched {
            for name in ["comments", "author"] {
                let (key, fetcher, options) = resumed_spec(name).into_parts();
                client.prefetch_query(&key, fetcher, options);
            }
        }
        let root = mount::<Resumed>(&client);
        let case = format!("post {post_ms} ms, comments {comments_ms} ms, prefetched {prefetched}");
        wait_until(&format!("the answers ({case})"), || {
            text_of("resumed-child").as_deref() == Some("comments by author")
        })
        .await;
        assert_eq!(text_of("resumed-post").as_deref(), Some("post"));
        for (name, value) in [("comments", "edited"), ("author", "someone")] {
            client.set_query_data(&k(json!(["resumed", name])), |_| Some(json!(value)));
        }
        wait_until(&format!("both changes ({case})"), || {
            text_of("resumed-child").as_deref() == Some("edited by someone")
        })
        .await;
        root.remove();
    }
}
