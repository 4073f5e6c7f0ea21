//! The devtools panel (feature `yew`), after TanStack Query's: every query
//! with its key, status, observer count, freshness, age and a data preview,
//! filtered by key and sorted (status, key, last updated; either order),
//! with refetch / invalidate / reset / remove per query; a query picked from
//! the list shows whole (its state and all its data) with the same actions
//! and "Trigger loading" / "Trigger error" (and their "Restore") to see the
//! app's loading and error views (`crate::trigger`); mutations that are
//! pending or paused; and the metrics. Styled by class names only (`querent-devtools…`); with the
//! `web` feature the panel adopts [`DEVTOOLS_CSS`] itself when it first
//! mounts, as a constructed stylesheet (allowed under a Content-Security-Policy
//! without inline styles, and nothing to serve or link: an app that leaves the
//! panel out ships none of it).

use crate::client::QuerySummary;
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

/// How the query list is sorted (TanStack devtools' `sortFns`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sort {
    /// Fetching first, then fresh, stale, inactive; newest first within.
    Status,
    /// By key.
    Key,
    /// Newest data first.
    Updated,
}

impl Sort {
    const ALL: [(Sort, &'static str); 3] = [
        (Sort::Status, "status"),
        (Sort::Key, "query hash"),
        (Sort::Updated, "last updated"),
    ];

    fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(s, _)| *s == self)
            .map_or("", |(_, n)| n)
    }

    fn compare(self, a: &QuerySummary, b: &QuerySummary) -> std::cmp::Ordering {
        let newest = || b.state.data_updated_at.cmp(&a.state.data_updated_at);
        match self {
            Sort::Status => status_rank(a).cmp(&status_rank(b)).then_with(newest),
            Sort::Key => a.key.canonical().cmp(b.key.canonical()),
            Sort::Updated => newest(),
        }
    }
}

/// TanStack devtools' `getStatusRank`: fetching, fresh, stale, inactive.
fn status_rank(q: &QuerySummary) -> u8 {
    if q.state.fetch_status != FetchStatus::Idle {
        0
    } else if q.observers == 0 {
        3
    } else if q.is_stale {
        2
    } else {
        1
    }
}

/// What the panel shows, kept while it is open.
#[derive(Clone, PartialEq)]
struct View {
    filter: String,
    sort: Sort,
    descending: bool,
    selected: Option<QueryKey>,
}

/// A toggle button that opens the panel.
#[function_component]
pub fn QueryDevtools(props: &QueryDevtoolsProps) -> Html {
    let client = use_query_client();
    let open = use_state(|| props.initially_open);
    let view = use_state(|| View {
        filter: String::new(),
        sort: Sort::Status,
        descending: false,
        selected: None,
    });
    let force = use_force_update();
    use_effect_with((), |()| adopt_stylesheet());
    {
        let client = client.clone();
        use_effect_with(*open, move |open| {
            let subscription = open.then(|| {
                let caught_up = force.clone();
                let subscription = client.subscribe_cache(move |event: &CacheEvent| {
                    // What an observer shows follows from the cache's own
                    // events; the panel shows the cache.
                    if !matches!(event, CacheEvent::ObserverResultsUpdated(_)) {
                        force.force_update();
                    }
                });
                // What changed between the render and this subscription.
                caught_up.force_update();
                subscription
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
    let change = |f: fn(&mut View, String)| {
        let view = view.clone();
        move |value: String| {
            let mut next = (*view).clone();
            f(&mut next, value);
            view.set(next);
        }
    };
    let on_filter = {
        let set = change(|v, text| v.filter = text);
        Callback::from(move |e: InputEvent| {
            set(e
                .target_unchecked_into::<web_sys::HtmlInputElement>()
                .value());
        })
    };
    let on_sort = {
        let set = change(|v, name| {
            v.sort = Sort::ALL
                .iter()
                .find(|(_, n)| *n == name)
                .map_or(Sort::Status, |(s, _)| *s);
        });
        Callback::from(move |e: Event| {
            set(e
                .target_unchecked_into::<web_sys::HtmlSelectElement>()
                .value());
        })
    };
    let on_order = {
        let set = change(|v, _| v.descending = !v.descending);
        Callback::from(move |_: MouseEvent| set(String::new()))
    };
    let select = {
        let view = view.clone();
        Callback::from(move |key: Option<QueryKey>| {
            view.set(View {
                selected: key,
                ..(*view).clone()
            });
        })
    };
    let order = if view.descending {
        "descending"
    } else {
        "ascending"
    };
    // One snapshot of the cache for the list and the details.
    let all = client.queries();
    html! {
        <aside class="querent-devtools" aria-label="Query devtools">
            <header class="querent-devtools-header">
                <strong>{ "Query devtools" }</strong>
                <button type="button" class="querent-devtools-toggle" aria-expanded="true" onclick={toggle}>
                    { "Close" }
                </button>
            </header>
            { metrics(&client) }
            <div class="querent-devtools-toolbar">
                <input type="search" class="querent-devtools-filter" placeholder="Filter by key"
                       aria-label="Filter queries by query key" value={view.filter.clone()} oninput={on_filter} />
                <select class="querent-devtools-sort" aria-label="Sort queries by" onchange={on_sort}>
                    { for Sort::ALL.iter().map(|(sort, name)| html! {
                        <option value={*name} selected={view.sort == *sort}>{ format!("Sort by {name}") }</option>
                    }) }
                </select>
                <button type="button" class="querent-devtools-order" onclick={on_order} data-order={order}
                        title={format!("by {}", view.sort.name())}>
                    { if view.descending { "Sort order: ↓ descending" } else { "Sort order: ↑ ascending" } }
                </button>
            </div>
            { queries(&client, &all, &view, &select) }
            if let Some(q) = view.selected.as_ref().and_then(|key| all.iter().find(|q| &q.key == key)) {
                { detail(&client, q, &select) }
            }
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

/// The actions on one query (TanStack devtools' buttons).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Act {
    Refetch,
    Invalidate,
    Reset,
    Remove,
    TriggerLoading,
    RestoreLoading,
    TriggerError,
    RestoreError,
}

impl Act {
    fn label(self) -> &'static str {
        match self {
            Act::Refetch => "Refetch",
            Act::Invalidate => "Invalidate",
            Act::Reset => "Reset",
            Act::Remove => "Remove",
            Act::TriggerLoading => "Trigger loading",
            Act::RestoreLoading => "Restore loading",
            Act::TriggerError => "Trigger error",
            Act::RestoreError => "Restore error",
        }
    }

    fn run(self, client: &QueryClient, key: &QueryKey) {
        let exact = || crate::filters::QueryFilters::key(key).exact();
        match self {
            Act::Refetch => drop(client.refetch(key)),
            Act::Invalidate => drop(client.invalidate_queries(key)),
            Act::Reset => drop(client.reset_queries_with(exact(), Default::default())),
            Act::Remove => client.remove_queries_with(&exact()),
            Act::TriggerLoading => client.trigger_loading(key),
            Act::RestoreLoading => client.restore_loading(key),
            Act::TriggerError => client.trigger_error(key),
            Act::RestoreError => client.restore_error(key),
        }
    }
}

fn action(client: &QueryClient, key: &QueryKey, act: Act, after: Option<Callback<()>>) -> Html {
    let (client, key) = (client.clone(), key.clone());
    let onclick = Callback::from(move |_| {
        act.run(&client, &key);
        if let Some(after) = &after {
            after.emit(());
        }
    });
    let name = act.label().to_lowercase().replace(' ', "-");
    html! { <button type="button" {onclick} data-action={name}>{ act.label() }</button> }
}

fn queries(
    client: &QueryClient,
    all: &[QuerySummary],
    view: &View,
    select: &Callback<Option<QueryKey>>,
) -> Html {
    let now = client.now();
    let needle = view.filter.trim().to_lowercase();
    let mut list: Vec<&QuerySummary> = all
        .iter()
        .filter(|q| needle.is_empty() || q.key.canonical().to_lowercase().contains(&needle))
        .collect();
    crate::sort::sort_by(&mut list, |a, b| {
        let order = view.sort.compare(a, b);
        if view.descending {
            order.reverse()
        } else {
            order
        }
    });
    let rows = list.iter().map(|q| {
        let freshness = if q.is_stale { "stale" } else { "fresh" };
        let picked = view.selected.as_ref() == Some(&q.key);
        let pick = {
            let (select, key) = (select.clone(), q.key.clone());
            Callback::from(move |_: MouseEvent| select.emit((!picked).then(|| key.clone())))
        };
        html! {
            <tr class="querent-devtools-query" data-key={q.key.canonical().to_owned()}>
                <td><button type="button" class="querent-devtools-pick" onclick={pick}
                            aria-label={format!("Query key {}", q.key.canonical())}
                            aria-expanded={picked.to_string()}><code>{ q.key.canonical() }</code></button></td>
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
                    { action(client, &q.key, Act::Refetch, None) }
                    { action(client, &q.key, Act::Invalidate, None) }
                    { action(client, &q.key, Act::Reset, None) }
                    { action(client, &q.key, Act::Remove, None) }
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

/// The picked query, whole: its state, all its data, and every action.
fn detail(client: &QueryClient, q: &QuerySummary, select: &Callback<Option<QueryKey>>) -> Html {
    let key = &q.key;
    let now = client.now();
    let s = &q.state;
    // TanStack's toggles: a query shown loading (no data, fetching) or
    // errored offers "Restore".
    let loading = if s.data.is_none() && s.fetch_status == FetchStatus::Fetching {
        Act::RestoreLoading
    } else {
        Act::TriggerLoading
    };
    let error = if s.status == QueryStatus::Error {
        Act::RestoreError
    } else {
        Act::TriggerError
    };
    let data = s
        .data
        .as_ref()
        .map(|d| serde_json::to_string_pretty(&**d).unwrap_or_default());
    html! {
        <section class="querent-devtools-detail" aria-label="Query details" data-key={key.canonical().to_owned()}>
            <h3>{ "Query Details" }</h3>
            <p><code>{ key.canonical() }</code></p>
            <dl>
                <dt>{ "status" }</dt><dd data-field="status">{ status_label(s.status, s.fetch_status) }</dd>
                <dt>{ "observers" }</dt><dd>{ q.observers }</dd>
                <dt>{ "updated" }</dt><dd>{ age(now, s.data_updated_at) }</dd>
                <dt>{ "failures" }</dt><dd>{ s.failure_count }</dd>
                if let Some(e) = &s.error {
                    <dt>{ "error" }</dt><dd data-field="error">{ e.to_string() }</dd>
                }
            </dl>
            <div class="querent-devtools-actions">
                { action(client, key, Act::Refetch, None) }
                { action(client, key, Act::Invalidate, None) }
                { action(client, key, Act::Reset, None) }
                { action(client, key, Act::Remove, Some(select.reform(|()| None))) }
                { action(client, key, loading, None) }
                { action(client, key, error, None) }
            </div>
            <h4>{ "Data" }</h4>
            <pre class="querent-devtools-data">{ data.unwrap_or_else(|| "none".into()) }</pre>
        </section>
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
