//! The index template: `index.html` split around its `<title>`, `</head>`
//! and body, filled per page with the title, description, state and body.

use super::assets::{Asset, collect_assets_into};
use base64::Engine as _;
pub use querent::ssr::escape_json_for_html;
use querent::ssr::{BODY_END_ID, SSR_PATH_ATTRIBUTE, STATE_ELEMENT_ID};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

const FALLBACK_INDEX: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>app</title></head><body><p>The single-page app is not built yet: run \
<code>cargo xtask run</code>, or point <code>--dist</code> at Trunk's output.</p></body></html>";

/// The JSON a page embeds, as `serde_json` wrote it: its query state and
/// its forms' state.
#[derive(Clone, Copy)]
pub struct Embedded<'a> {
    pub state: &'a str,
    pub forms: &'a str,
}

/// The index template and the static files.
pub struct Pages {
    before_title: String,
    between: String,
    /// From `</head>` to the end of the `<body` tag's name.
    head_to_body: String,
    /// The body tag's own attributes and `>`.
    body_tag_rest: String,
    /// The template's body content (shown when nothing is rendered).
    body: String,
    /// From `</body>` on.
    after_body: String,
    /// The template is the app (not the "not built yet" placeholder).
    is_app: bool,
    assets: HashMap<String, Arc<Asset>>,
    csp: String,
    csp_header: actix_web::http::header::HeaderValue,
    live_transport: &'static str,
}

/// Pages' `Content-Type`.
pub const HTML_CONTENT_TYPE: actix_web::http::header::HeaderValue =
    actix_web::http::header::HeaderValue::from_static("text/html; charset=utf-8");

/// Escapes text for HTML content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Removes `<meta name="description" …>` (we write our own per page).
fn strip_description(html: &str) -> String {
    let mut out = html.to_owned();
    while let Some(start) = out.find("<meta name=\"description\"") {
        let Some(len) = out[start..].find('>') else {
            break;
        };
        out.replace_range(start..start + len + 1, "");
    }
    out
}

/// `'sha256-…'` sources for every inline `<tag>` element of the template
/// (scripts Trunk wrote, the inlined stylesheet), so the CSP can forbid all
/// other inline scripts and styles. JSON data blocks are not scripts.
fn inline_hashes(html: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut hashes = vec![];
    let mut rest = html;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start..];
        let Some(tag_end) = after.find('>') else {
            break;
        };
        let attributes = &after[..tag_end];
        let body_start = tag_end + 1;
        let Some(body_len) = after[body_start..].find(&close) else {
            break;
        };
        let body = &after[body_start..body_start + body_len];
        if !attributes.contains(" src=")
            && !attributes.contains("application/json")
            && !body.is_empty()
        {
            let digest = Sha256::digest(body.as_bytes());
            hashes.push(format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        rest = &after[body_start + body_len..];
    }
    hashes
}

impl Pages {
    /// Reads `dist/`. A missing `index.html` is not fatal (an API-only
    /// deployment serves the SPA elsewhere): pages then say how to build it.
    pub fn load(dist: &Path) -> std::io::Result<Self> {
        let index = dist.join("index.html");
        let html = match std::fs::read_to_string(&index) {
            Ok(html) => html,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::warn!(path = %index.display(), "no built SPA found; serving a placeholder page");
                FALLBACK_INDEX.to_owned()
            }
            Err(e) => return Err(e),
        };
        let mut assets = HashMap::new();
        if dist.is_dir() {
            collect_assets_into(dist, dist, &mut assets)?;
        }
        Ok(Self::from_template(&html, assets))
    }

    fn from_template(html: &str, assets: HashMap<String, Arc<Asset>>) -> Self {
        let mut html = strip_description(html);
        let scripts = inline_hashes(&html, "script");
        let styles = inline_hashes(&html, "style");
        if !html.contains("</head>") {
            html = format!("<head></head>{html}");
        }
        let head_end = html.find("</head>").unwrap_or(0);
        let (title_start, title_end) = match (html.find("<title>"), html.find("</title>")) {
            (Some(s), Some(e)) if s < e && e < head_end => (s, e + "</title>".len()),
            _ => (head_end, head_end),
        };
        let csp = format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {}; style-src 'self' {}; \
             img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; \
             frame-ancestors 'none'; object-src 'none'",
            scripts.join(" "),
            styles.join(" ")
        );
        let after_head = &html[head_end..];
        let (body_open, body_open_end, body_close) =
            match (after_head.find("<body"), after_head.find("</body>")) {
                (Some(open), Some(close)) if open < close => {
                    let end = after_head[open..close]
                        .find('>')
                        .map_or(close, |gt| open + gt + 1);
                    (open + "<body".len(), end, close)
                }
                _ => (after_head.len(), after_head.len(), after_head.len()),
            };
        Self {
            before_title: html[..title_start].to_owned(),
            between: html[title_end..head_end].to_owned(),
            head_to_body: after_head[..body_open].to_owned(),
            body_tag_rest: after_head[body_open..body_open_end].to_owned(),
            body: after_head[body_open_end..body_close].to_owned(),
            after_body: after_head[body_close..].to_owned(),
            is_app: html != FALLBACK_INDEX,
            assets,
            csp_header: actix_web::http::header::HeaderValue::from_str(&csp)
                .expect("the CSP is ASCII: hashes in base64 and fixed directives"),
            csp,
            live_transport: crate::config::LiveTransport::default().name(),
        }
    }

    /// Names the live-update transport the SPA should try first (a
    /// `<meta name="live-transport">` in every page).
    pub fn with_live_transport(mut self, transport: crate::config::LiveTransport) -> Self {
        self.live_transport = transport.name();
        self
    }

    /// Makes the compressed forms of every asset on a background thread.
    pub fn precompress_in_background(&self) {
        let assets: Vec<Arc<Asset>> = self.assets.values().cloned().collect();
        let spawned = std::thread::Builder::new()
            .name("precompress".into())
            .spawn(move || assets.iter().for_each(|a| a.precompress()));
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "assets will be compressed per request");
        }
    }

    /// A static file by URL path.
    pub fn asset(&self, path: &str) -> Option<&Asset> {
        self.assets.get(path).map(Arc::as_ref)
    }

    /// The Content-Security-Policy for pages.
    pub fn csp(&self) -> &str {
        &self.csp
    }

    /// The same, as the header value sent with every page.
    pub fn csp_header(&self) -> actix_web::http::header::HeaderValue {
        self.csp_header.clone()
    }

    /// Whether pages are the app (so worth rendering on the server).
    pub fn is_app(&self) -> bool {
        self.is_app
    }

    /// The page HTML with `state` embedded (`state_json`, as
    /// `serde_json` wrote it), and the id of the last server event before its
    /// data was read (`<meta name="live-last-event-id">`): the app's first
    /// live connection resumes from it, so a write between this render and
    /// that connection still reaches the page. `body` is the app's own HTML
    /// of `path`, rendered on the server: the body names the path
    /// (`data-ssr`), and the browser hydrates it where the path matches.
    ///
    /// A `streamed` page (one whose deferred queries follow it in the same
    /// response, see `crate::streamed`) starts the app without waiting for
    /// the document to end (its module script is `async`) and marks where
    /// its body ends ([`BODY_END_ID`]), so the app hydrates a whole
    /// body while the rest is still on its way.
    pub fn render(
        &self,
        title: &str,
        description: &str,
        embedded: Embedded<'_>,
        last_event_id: i64,
        body: Option<(&str, &str)>,
        streamed: bool,
    ) -> String {
        const MODULE: &str = "<script type=\"module\">";
        const ASYNC_MODULE: &str = "<script type=\"module\" async>";
        let head = |part: &str| {
            if streamed {
                part.replace(MODULE, ASYNC_MODULE)
            } else {
                part.to_owned()
            }
        };
        let json = escape_json_for_html(embedded.state);
        let forms = escape_json_for_html(embedded.forms);
        let mut out = String::with_capacity(
            self.before_title.len()
                + self.between.len()
                + self.head_to_body.len()
                + self.after_body.len()
                + json.len()
                + forms.len()
                + body.map_or(self.body.len(), |(_, html)| html.len())
                + 256,
        );
        out.push_str(&head(&self.before_title));
        out.push_str("<title>");
        out.push_str(&escape_html(title));
        out.push_str("</title>");
        out.push_str(&head(&self.between));
        out.push_str("<meta name=\"description\" content=\"");
        out.push_str(&escape_html(description));
        out.push_str("\"><meta name=\"live-transport\" content=\"");
        out.push_str(self.live_transport);
        out.push_str("\"><meta name=\"live-last-event-id\" content=\"");
        out.push_str(&last_event_id.to_string());
        out.push_str("\">");
        out.push_str("<script type=\"application/json\" id=\"");
        out.push_str(STATE_ELEMENT_ID);
        out.push_str("\">");
        out.push_str(&json);
        out.push_str("</script><script type=\"application/json\" id=\"");
        out.push_str(shared::FORMS_ELEMENT_ID);
        out.push_str("\">");
        out.push_str(&forms);
        out.push_str("</script>");
        out.push_str(&self.head_to_body);
        match body {
            Some((path, html)) => {
                out.push(' ');
                out.push_str(SSR_PATH_ATTRIBUTE);
                out.push_str("=\"");
                out.push_str(&escape_html(path));
                out.push('"');
                out.push_str(&self.body_tag_rest);
                out.push_str(html);
            }
            None => {
                out.push_str(&self.body_tag_rest);
                out.push_str(&self.body);
            }
        }
        if streamed {
            out.push_str("<template id=\"");
            out.push_str(BODY_END_ID);
            out.push_str("\"></template>");
        }
        out.push_str(&self.after_body);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escaping_leaves_no_markup_and_round_trips() {
        let hostile = "</script><script>alert(1)</script><!-- & \u{2028}\u{2029} \"q\" 🎉";
        let json = serde_json::to_string(&hostile).unwrap();
        let escaped = escape_json_for_html(&json);
        for bad in ["<", ">", "&", "\u{2028}", "\u{2029}"] {
            assert!(!escaped.contains(bad), "{bad:?} survived");
        }
        let back: String = serde_json::from_str(&escaped).unwrap();
        assert_eq!(back, hostile);
    }

    #[test]
    fn template_is_split_and_inline_scripts_are_hashed() {
        let html = "<html><head><meta name=\"description\" content=\"x\"><title>T</title>\
                    <script type=\"module\">init()</script></head><body></body></html>";
        let pages = Pages::from_template(html, HashMap::new());
        let out = pages.render(
            "A <b>",
            "d",
            Embedded {
                state: "{}",
                forms: "{}",
            },
            42,
            None,
            false,
        );
        assert!(out.contains("<meta name=\"live-last-event-id\" content=\"42\">"));
        assert!(out.contains("<title>A &lt;b&gt;</title>"));
        assert_eq!(out.matches("name=\"description\"").count(), 1);
        assert!(out.contains(&format!("id=\"{STATE_ELEMENT_ID}\"")));
        assert!(out.contains("<meta name=\"live-transport\" content=\"sse\">"));
        let ws = Pages::from_template(html, HashMap::new())
            .with_live_transport(crate::config::LiveTransport::Websocket)
            .render(
                "t",
                "d",
                Embedded {
                    state: "{}",
                    forms: "{}",
                },
                0,
                None,
                false,
            );
        assert!(ws.contains("<meta name=\"live-transport\" content=\"websocket\">"));
        assert!(out.ends_with("</head><body></body></html>"), "{out}");
        let expected = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"init()"));
        assert!(pages.csp().contains(&expected));
    }

    #[test]
    fn an_inlined_stylesheet_is_allowed_by_its_hash_and_nothing_else_is() {
        let html = "<html><head><title>T</title><style>main{color:red}</style></head>\
                    <body></body></html>";
        let csp = Pages::from_template(html, HashMap::new()).csp().to_owned();
        let expected =
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"main{color:red}"));
        let style_src = csp
            .split(';')
            .find(|d| d.trim_start().starts_with("style-src"))
            .expect("a style-src");
        assert!(style_src.contains(&expected), "{csp}");
        assert!(!style_src.contains("unsafe-inline"), "{csp}");
        let script_src = csp
            .split(';')
            .find(|d| d.trim_start().starts_with("script-src"))
            .expect("a script-src");
        assert!(!script_src.contains(&expected), "{csp}");
    }

    #[test]
    fn a_server_rendered_body_replaces_the_templates_and_names_its_path() {
        let html =
            "<html><head><title>T</title></head>\n<body class=\"x\"><p>none</p></body>\n</html>";
        let pages = Pages::from_template(html, HashMap::new());
        let out = pages.render(
            "t",
            "d",
            Embedded {
                state: "{}",
                forms: "{}",
            },
            0,
            Some(("/posts/\"1", "<main>hi</main>")),
            false,
        );
        assert!(
            out.ends_with(
                "<body data-ssr=\"/posts/&quot;1\" class=\"x\"><main>hi</main></body>\n</html>"
            ),
            "{out}"
        );
        let out = pages.render(
            "t",
            "d",
            Embedded {
                state: "{}",
                forms: "{}",
            },
            0,
            None,
            false,
        );
        assert!(
            out.ends_with("<body class=\"x\"><p>none</p></body>\n</html>"),
            "{out}"
        );
    }

    #[test]
    fn a_streamed_page_starts_the_app_early_and_marks_its_body_end() {
        let html = "<html><head><title>T</title><script type=\"module\">init()</script></head>\
                    <body></body></html>";
        let pages = Pages::from_template(html, HashMap::new());
        let plain = pages.render(
            "t",
            "d",
            Embedded {
                state: "{}",
                forms: "{}",
            },
            0,
            Some(("/deferred", "<main>x</main>")),
            false,
        );
        assert!(plain.contains("<script type=\"module\">init()"), "{plain}");
        assert!(!plain.contains(BODY_END_ID), "{plain}");
        let streamed = pages.render(
            "t",
            "d",
            Embedded {
                state: "{}",
                forms: "{}",
            },
            0,
            Some(("/deferred", "<main>x</main>")),
            true,
        );
        assert!(
            streamed.contains("<script type=\"module\" async>init()"),
            "{streamed}"
        );
        assert!(
            streamed.ends_with(&format!(
                "<main>x</main><template id=\"{}\"></template></body></html>",
                BODY_END_ID
            )),
            "{streamed}"
        );
        // The CSP hash is of the script's text, which is unchanged.
        let expected = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"init()"));
        assert!(pages.csp().contains(&expected));
    }
}

/// Property tests: any text survives the page's JSON embedding.
#[cfg(test)]
mod properties {
    use super::{Embedded, Pages, escape_json_for_html};
    use proptest::prelude::*;
    use std::collections::HashMap;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Escaped JSON holds no character that could end or confuse the
        /// `<script>` element, and parses back to the very string.
        #[test]
        fn any_string_round_trips_and_never_ends_the_element(text in any::<String>()) {
            let json = serde_json::to_string(&text).unwrap();
            let escaped = escape_json_for_html(&json);
            for bad in ['<', '>', '&', '\u{2028}', '\u{2029}'] {
                prop_assert!(!escaped.contains(bad));
            }
            let back: String = serde_json::from_str(&escaped).unwrap();
            prop_assert_eq!(&back, &text);
        }

        /// In a whole page, the state element ends exactly where the state
        /// does, whatever the text (e.g. `</script>`, `<!--`, `]]>`).
        #[test]
        fn the_state_element_ends_where_the_state_ends(text in "(</?[sS][cC][rR][iI][pP][tT]|<!--|-->|\\]\\]>|[a-z\"\\\\&<> \u{2028}\u{2029}]){0,20}") {
            let pages = Pages::from_template(
                "<html><head><title>t</title></head><body></body></html>",
                HashMap::new(),
            );
            let json = serde_json::to_string(&serde_json::json!({ "text": text })).unwrap();
            let html = pages.render("t", "d", Embedded { state: &json, forms: "{}" }, 0, None, false);
            let open = format!("id=\"{}\">", querent::ssr::STATE_ELEMENT_ID);
            let start = html.find(&open).unwrap() + open.len();
            let end = start + html[start..].find("</script>").unwrap();
            let embedded: serde_json::Value = serde_json::from_str(&html[start..end]).unwrap();
            prop_assert_eq!(&embedded["text"], &serde_json::Value::from(text));
        }
    }
}
