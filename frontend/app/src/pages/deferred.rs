//! `/deferred`: slow data streams in while the page stays interactive.

use crate::queries::typed;
use querent::yew::use_query;
use yew::prelude::*;

/// The page.
#[function_component]
pub(crate) fn Deferred() -> Html {
    let count = use_state(|| 0);
    let stats = use_query(typed::deferred());
    let increment = {
        let count = count.clone();
        Callback::from(move |_| count.set(*count + 1))
    };
    html! {
        <section class="deferred">
            <h1>{ "Deferred" }</h1>
            <p>{ "The stats below come from a deliberately slow endpoint. The counter works meanwhile." }</p>
            <p>
                <button type="button" id="counter-increment" onclick={increment}>{ "Count" }</button>
                { " " }<output id="counter-value">{ *count }</output>
            </p>
            {
                match (&stats.data, &stats.error) {
                    (Some(s), _) => html! {
                        <dl id="deferred-stats" class="stats">
                            <dt>{ "Users" }</dt><dd>{ s.users }</dd>
                            <dt>{ "Posts" }</dt><dd>{ s.posts }</dd>
                            <dt>{ "Comments" }</dt><dd>{ s.comments }</dd>
                        </dl>
                    },
                    (None, Some(e)) => html! { <p class="error">{ e.message.clone() }</p> },
                    (None, None) => html! { <p id="deferred-loading" class="skeleton">{ "Loading stats…" }</p> },
                }
            }
        </section>
    }
}
