//! The smallest apps of the stack: a counter (Yew alone), and with the
//! `router` feature one routed page that fetches a post and decodes it with
//! serde_json. Built like the app, they show what the framework costs before
//! the app adds anything.

#[cfg(not(feature = "router"))]
use yew::prelude::*;

#[cfg(feature = "router")]
mod routed {
    use yew::prelude::*;
    use yew_router::prelude::*;

    #[derive(Clone, Routable, PartialEq)]
    pub enum Route {
        #[at("/")]
        Home,
        #[at("/posts/:id")]
        Post { id: i64 },
        #[not_found]
        #[at("/404")]
        NotFound,
    }

    #[derive(serde::Deserialize, Clone, PartialEq)]
    pub struct Post {
        pub id: i64,
        pub title: String,
        pub body: String,
    }

    #[derive(Properties, PartialEq)]
    pub struct PostProps {
        pub id: i64,
    }

    #[function_component]
    pub fn PostView(props: &PostProps) -> Html {
        let post = use_state(|| None::<Post>);
        {
            let post = post.clone();
            use_effect_with(props.id, move |id| {
                let id = *id;
                wasm_bindgen_futures::spawn_local(async move {
                    let url = format!("/api/posts/{id}");
                    if let Ok(response) = gloo_net::http::Request::get(&url).send().await
                        && let Ok(p) = response.json::<Post>().await
                    {
                        post.set(Some(p));
                    }
                });
            });
        }
        match &*post {
            Some(p) => {
                html! { <article><h2>{ p.title.clone() }</h2><p>{ p.body.clone() }</p></article> }
            }
            None => html! { <p>{ "Loading" }</p> },
        }
    }

    fn switch(route: Route) -> Html {
        match route {
            Route::Home => {
                html! { <Link<Route> to={Route::Post { id: 1 }}>{ "post" }</Link<Route>> }
            }
            Route::Post { id } => html! { <PostView {id} /> },
            Route::NotFound => html! { "not found" },
        }
    }

    #[function_component]
    pub fn App() -> Html {
        html! { <BrowserRouter><Switch<Route> render={switch} /></BrowserRouter> }
    }
}

#[cfg(not(feature = "router"))]
#[function_component]
fn Counter() -> Html {
    let n = use_state(|| 0);
    let onclick = {
        let n = n.clone();
        Callback::from(move |_| n.set(*n + 1))
    };
    html! { <button {onclick}>{ format!("count {}", *n) }</button> }
}

fn main() {
    #[cfg(feature = "router")]
    yew::Renderer::<routed::App>::new().render();
    #[cfg(not(feature = "router"))]
    yew::Renderer::<Counter>::new().render();
}
