//! The few API calls the thin app makes when the page holds no state for them
//! (e.g. `trunk serve`, where no server embeds anything).

use gloo_net::http::Request;
use shared::{ErrorBody, Page, Post};

/// `GET /api/posts`: the first page, newest first.
pub(crate) async fn first_posts_page() -> Result<Page<Post>, String> {
    let response = Request::get("/api/posts")
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if response.ok() {
        response.json().await.map_err(|e| e.to_string())
    } else {
        let status = response.status();
        Err(match response.json::<ErrorBody>().await {
            Ok(body) => format!("{} ({status})", body.error.message),
            Err(_) => format!("the API answered {status}"),
        })
    }
}
