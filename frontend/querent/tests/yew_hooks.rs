//! The Yew binding in a real browser: a hook renders cached data, fetches,
//! re-renders on change, and equal data keeps child components still.

#![cfg(all(target_arch = "wasm32", feature = "web", feature = "yew"))]

use gloo_timers::future::TimeoutFuture;
use querent::web::WebPlatform;
use querent::yew::{QueryClientProvider, use_is_fetching, use_query};
use querent::{Fetcher, QueryClient, QueryKey, QueryOptions};
use serde_json::{Value, json};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use yew::prelude::*;

wasm_bindgen_test_configure!(run_in_browser);

thread_local! {
    static CHILD_RENDERS: Cell<u32> = const { Cell::new(0) };
    static FETCHES: Cell<u32> = const { Cell::new(0) };
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
    let query = use_query::<Value>(key(), fetcher(), QueryOptions::default());
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

#[function_component]
fn Root(props: &RootProps) -> Html {
    html! { <QueryClientProvider client={props.client.clone()}><Greeting /></QueryClientProvider> }
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
    let document = gloo_utils_document();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    let client = QueryClient::new(WebPlatform::default());
    yew::Renderer::<Root>::with_root_and_props(
        root.clone(),
        RootProps {
            client: client.clone(),
        },
    )
    .render();

    TimeoutFuture::new(5).await;
    assert_eq!(text_of("loading").as_deref(), Some("loading"));
    assert_eq!(
        text_of("fetching").as_deref(),
        Some("1"),
        "the progress count sees the fetch"
    );
    TimeoutFuture::new(100).await;
    assert_eq!(text_of("text").as_deref(), Some("hello"));
    assert_eq!(text_of("fetching").as_deref(), Some("0"));
    assert_eq!(FETCHES.with(Cell::get), 1);
    let renders = CHILD_RENDERS.with(Cell::get);

    // A refetch that returns equal data: the child keeps its props and does not re-render.
    client.refetch(&key()).await.unwrap();
    TimeoutFuture::new(20).await;
    assert_eq!(FETCHES.with(Cell::get), 2);
    assert_eq!(
        CHILD_RENDERS.with(Cell::get),
        renders,
        "equal data: no child re-render"
    );

    // Changed data re-renders.
    client.set_query_data(&key(), |_| Some(json!({"text": "changed"})));
    TimeoutFuture::new(20).await;
    assert_eq!(text_of("text").as_deref(), Some("changed"));
    assert!(CHILD_RENDERS.with(Cell::get) > renders);
    root.remove();
}

#[wasm_bindgen_test]
async fn hydrated_data_renders_on_the_first_frame_without_a_fetch() {
    FETCHES.with(|f| f.set(0));
    let client = QueryClient::new(WebPlatform::default());
    client.set_query_data(&key(), |_| Some(json!({"text": "from the server"})));
    let document = gloo_utils_document();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    yew::Renderer::<Root>::with_root_and_props(root.clone(), RootProps { client }).render();
    TimeoutFuture::new(0).await;
    assert_eq!(text_of("text").as_deref(), Some("from the server"));
    TimeoutFuture::new(100).await;
    assert_eq!(
        FETCHES.with(Cell::get),
        0,
        "fresh data is not refetched on mount"
    );
    root.remove();
}
