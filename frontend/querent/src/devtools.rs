//! The devtools panel (feature `yew`): every query with its key, status,
//! observer count, freshness, age and a data preview, with refetch /
//! invalidate / remove per query; mutations that are pending or paused; and
//! the metrics. Styled by class names only (`querent-devtools…`); with the
//! `web` feature the panel adopts [`DEVTOOLS_CSS`] itself when it first
//! mounts, as a constructed stylesheet (allowed under a Content-Security-Policy
//! without inline styles, and nothing to serve or link: an app that leaves the
//! panel out ships none of it).

use crate::client::{CacheEvent, QueryClient};
use crate::key::QueryKey;
use crate::mutation::MutationStatus;
use crate::query::{FetchStatus, QueryStatus};
use crate::yew::use_query_client;
use yew::prelude::*;

/// The panel's default look (adopted by the panel under the `web` feature;
/// without it, add this to your stylesheet).
pub const DEVTOOLS_CSS: &str = include_str!("devtools.css");

/// Adds [`DEVTOOLS_CSS`] to the document's adopted stylesheets, once.
#[cfg(feature = "web")]
fn adopt_stylesheet() {
    thread_local!(static ADOPTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) });
    if ADOPTED.with(|a| a.replace(true)) {
        return;
    }
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Ok(sheet) = web_sys::CssStyleSheet::new() else {
        return;
    };
    if sheet.replace_sync(DEVTOOLS_CSS).is_err() {
        return;
    }
    let sheets = js_sys::Array::from(&document.adopted_style_sheets());
    sheets.push(&sheet);
    document.set_adopted_style_sheets(&sheets);
}

#[cfg(not(feature = "web"))]
fn adopt_stylesheet() {}

const PREVIEW_CHARS: usize = 600;

fn preview(value: &serde_json::Value) -> String {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    if text.chars().count() > PREVIEW_CHARS {
        let cut: String = text.chars().take(PREVIEW_CHARS).collect();
        format!("{cut}\n…")
    } else {
        text
    }
}

fn age(now: i64, at: i64) -> String {
    if at == 0 {
        return "never".into();
    }
    let secs = (now - at).max(0) / 1000;
    match secs {
        0..=59 => format!("{secs}s ago"),
        60..=3599 => format!("{}m ago", secs / 60),
        _ => format!("{}h ago", secs / 3600),
    }
}

fn status_label(status: QueryStatus, fetch: FetchStatus) -> &'static str {
    match (fetch, status) {
        (FetchStatus::Fetching, _) => "fetching",
        (FetchStatus::Paused, _) => "paused",
        (_, QueryStatus::Pending) => "pending",
        (_, QueryStatus::Error) => "error",
        (_, QueryStatus::Success) => "success",
    }
}

/// Props of [`QueryDevtools`].
#[derive(Properties, PartialEq)]
pub struct QueryDevtoolsProps {
    /// Start open.
    #[prop_or_default]
    pub initially_open: bool,
}

/// A toggle button that opens the panel.
#[function_component]
pub fn QueryDevtools(props: &QueryDevtoolsProps) -> Html {
    let client = use_query_client();
    let open = use_state(|| props.initially_open);
    let force = use_force_update();
    use_effect_with((), |()| adopt_stylesheet());
    {
        let client = client.clone();
        use_effect_with(*open, move |open| {
            let subscription = open.then(|| {
                client.subscribe_cache(move |event: &CacheEvent| {
                    // What an observer shows follows from the cache's own
                    // events; the panel shows the cache.
                    if !matches!(event, CacheEvent::ObserverResultsUpdated(_)) {
                        force.force_update();
                    }
                })
            });
            move || drop(subscription)
        });
    }
    let toggle = {
        let open = open.clone();
        Callback::from(move |_| open.set(!*open))
    };
    if !*open {
        return html! {
            <button type="button" class="querent-devtools-toggle" aria-expanded="false" onclick={toggle}>
                { "Query devtools" }
            </button>
        };
    }
    html! {
        <aside class="querent-devtools" aria-label="Query devtools">
            <header class="querent-devtools-header">
                <strong>{ "Query devtools" }</strong>
                <button type="button" class="querent-devtools-toggle" aria-expanded="true" onclick={toggle}>
                    { "Close" }
                </button>
            </header>
            { metrics(&client) }
            { queries(&client) }
            { mutations(&client) }
        </aside>
    }
}

fn metrics(client: &QueryClient) -> Html {
    let m = client.metrics();
    html! {
        <dl class="querent-devtools-metrics">
            <dt>{ "hits" }</dt><dd data-metric="hits">{ m.hits }</dd>
            <dt>{ "misses" }</dt><dd data-metric="misses">{ m.misses }</dd>
            <dt>{ "hit rate" }</dt><dd data-metric="hit-rate">{ format!("{:.0}%", m.hit_rate() * 100.0) }</dd>
            <dt>{ "fetches" }</dt><dd data-metric="fetches">{ m.fetches }</dd>
            <dt>{ "failures" }</dt><dd data-metric="failures">{ m.failures }</dd>
            <dt>{ "mean fetch" }</dt><dd data-metric="mean-fetch">{ format!("{:.0} ms", m.mean_fetch_ms()) }</dd>
            <dt>{ "not modified" }</dt><dd data-metric="not-modified">{ m.not_modified }</dd>
            <dt>{ "bytes saved" }</dt><dd data-metric="bytes-saved">{ m.bytes_saved }</dd>
        </dl>
    }
}

fn action(client: &QueryClient, key: &QueryKey, label: &'static str) -> Html {
    let (client, key) = (client.clone(), key.clone());
    let onclick = Callback::from(move |_| match label {
        "Refetch" => drop(client.refetch(&key)),
        "Invalidate" => drop(client.invalidate_queries(&key)),
        _ => client.remove_queries(&key),
    });
    html! { <button type="button" {onclick} data-action={label.to_lowercase()}>{ label }</button> }
}

fn queries(client: &QueryClient) -> Html {
    let now = client.now();
    let rows = client.queries().into_iter().map(|q| {
        let freshness = if q.is_stale { "stale" } else { "fresh" };
        html! {
            <tr class="querent-devtools-query" data-key={q.key.canonical().to_owned()}>
                <td><code>{ q.key.canonical() }</code></td>
                <td data-field="status">{ status_label(q.state.status, q.state.fetch_status) }</td>
                <td data-field="observers">{ q.observers }</td>
                <td data-field="freshness">{ freshness }</td>
                <td data-field="updated">{ age(now, q.state.data_updated_at) }</td>
                <td>
                    {
                        match &q.state.data {
                            Some(data) => html! {
                                <details><summary>{ "data" }</summary><pre>{ preview(data) }</pre></details>
                            },
                            None => html! { <span>{ q.state.error.as_ref().map(ToString::to_string).unwrap_or_default() }</span> },
                        }
                    }
                </td>
                <td class="querent-devtools-actions">
                    { action(client, &q.key, "Refetch") }
                    { action(client, &q.key, "Invalidate") }
                    { action(client, &q.key, "Remove") }
                </td>
            </tr>
        }
    });
    html! {
        <table class="querent-devtools-queries">
            <thead><tr>
                <th>{ "key" }</th><th>{ "status" }</th><th>{ "observers" }</th>
                <th>{ "fresh" }</th><th>{ "updated" }</th><th>{ "data" }</th><th></th>
            </tr></thead>
            <tbody>{ for rows }</tbody>
        </table>
    }
}

fn mutations(client: &QueryClient) -> Html {
    let now = client.now();
    let items = client.mutations().into_iter().map(|m| {
        let status = match m.status {
            MutationStatus::Pending => "pending",
            MutationStatus::Paused => "paused",
            MutationStatus::Success => "success",
            MutationStatus::Error => "error",
        };
        html! {
            <li class="querent-devtools-mutation" data-status={status}>
                <code>{ &m.mutation_key }</code>{ " " }<span>{ status }</span>{ " " }
                <span>{ age(now, m.submitted_at) }</span>
                <pre>{ preview(&m.variables) }</pre>
            </li>
        }
    });
    html! {
        <section class="querent-devtools-mutations">
            <h3>{ format!("Mutations ({} unconfirmed)", client.pending_mutations()) }</h3>
            <ul>{ for items }</ul>
        </section>
    }
}
