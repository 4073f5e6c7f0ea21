//! Pages whose slow queries follow in the same response (a route's
//! `Loader::deferred`, as TanStack Start streams `/deferred`).
//!
//! The page (from the page cache, with the queries' fallbacks rendered and
//! their keys listed as `pending` in its state) is sent at once up to and
//! including `</body>`; when the queries have settled, their state follows
//! as `<!--querent-stream:{…}-->` and the rest of the document. The browser
//! shows and hydrates the page meanwhile, then adopts that state instead of
//! asking the API. Compressed per response with a flush after the first
//! part, so the page is not held back by the compressor.

use crate::db::Db;
use crate::pages;
use crate::write::now_ms;
use actix_web::web::Bytes;
use futures_util::StreamExt as _;
use querent::hydration::DehydratedState;
use querent::ssr::streamed_state_comment;
use shared::QueryKey;
use std::cell::RefCell;
use std::io::Write as _;
use std::rc::Rc;
use std::time::Duration;

/// The longest the deferred part may take after its deliberate delay; past
/// it the document is closed without it and the browser asks the API.
const DEFERRED_BOUND: Duration = Duration::from_secs(10);

/// The content coding of a streamed page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Brotli,
    Gzip,
    Identity,
}

impl Coding {
    /// What the client accepts: brotli, then gzip, else the raw bytes.
    pub fn accepted_by(req: &actix_web::HttpRequest) -> Self {
        if crate::reuse::accepts(req, "br") {
            Coding::Brotli
        } else if crate::reuse::accepts(req, "gzip") {
            Coding::Gzip
        } else {
            Coding::Identity
        }
    }

    /// The header value.
    pub fn name(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gzip",
            Coding::Identity => "identity",
        }
    }
}

/// A writer whose output is taken after each flush.
#[derive(Clone, Default)]
struct Sink(Rc<RefCell<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Sink {
    fn take(&self) -> Bytes {
        std::mem::take(&mut *self.0.borrow_mut()).into()
    }
}

enum Encoder {
    Brotli(Box<brotli::CompressorWriter<Sink>>),
    Gzip(flate2::write::GzEncoder<Sink>),
    Identity,
}

/// Compresses a response in parts, each part flushed so the client can
/// decode it on arrival.
struct PartEncoder {
    sink: Sink,
    encoder: Encoder,
}

impl PartEncoder {
    fn new(coding: Coding) -> Self {
        let sink = Sink::default();
        let encoder = match coding {
            Coding::Brotli => Encoder::Brotli(Box::new(brotli::CompressorWriter::new(
                sink.clone(),
                4096,
                5,
                22,
            ))),
            Coding::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                sink.clone(),
                flate2::Compression::new(6),
            )),
            Coding::Identity => Encoder::Identity,
        };
        Self { sink, encoder }
    }

    /// The encoded bytes of `part`, flushed.
    fn part(&mut self, part: &[u8]) -> std::io::Result<Bytes> {
        match &mut self.encoder {
            Encoder::Brotli(w) => {
                w.write_all(part)?;
                w.flush()?;
            }
            Encoder::Gzip(w) => {
                w.write_all(part)?;
                w.flush()?;
            }
            Encoder::Identity => return Ok(Bytes::copy_from_slice(part)),
        }
        Ok(self.sink.take())
    }

    /// The encoded bytes of the last part, and the end of the stream.
    fn last(mut self, part: &[u8]) -> std::io::Result<Bytes> {
        match std::mem::replace(&mut self.encoder, Encoder::Identity) {
            Encoder::Brotli(mut w) => {
                w.write_all(part)?;
                // Dropping the writer ends the brotli stream.
                drop(w);
            }
            Encoder::Gzip(mut w) => {
                w.write_all(part)?;
                w.try_finish()?;
            }
            Encoder::Identity => return Ok(Bytes::copy_from_slice(part)),
        }
        Ok(self.sink.take())
    }
}

/// Where the first part of a page ends: right after its last `</body>` (or
/// at the end, for a document without one).
fn split_point(html: &str) -> usize {
    html.rfind("</body>")
        .map_or(html.len(), |at| at + "</body>".len())
}

/// Loads `keys` after `delay` (the deliberately slow aggregate's), bounded.
async fn settle(db: Db, keys: Vec<QueryKey>, delay: Duration) -> Option<DehydratedState> {
    let load = async move {
        tokio::time::sleep(delay).await;
        let now = now_ms();
        let loaded = actix_web::web::block(move || -> Result<_, crate::error::ApiError> {
            let mut conn = db.conn()?;
            let mut queries = Vec::with_capacity(keys.len());
            for key in keys {
                queries.push((key, pages::load_query(&mut conn, key, now)?));
            }
            Ok(queries)
        })
        .await
        .map_err(crate::error::ApiError::from)
        .and_then(|loaded| loaded);
        match loaded {
            Ok(queries) => Some(pages::dehydrated_state(queries, &[], now)),
            Err(e) => {
                tracing::warn!(error = %e, "a deferred query failed; the browser will ask the API");
                None
            }
        }
    };
    match tokio::time::timeout(delay + DEFERRED_BOUND, load).await {
        Ok(state) => state,
        Err(_) => {
            tracing::warn!("deferred queries timed out; the browser will ask the API");
            None
        }
    }
}

/// The body of a page whose `keys` follow it: the page up to `</body>` at
/// once, the rest when they have settled.
pub fn body(
    html: Bytes,
    coding: Coding,
    db: Db,
    keys: Vec<QueryKey>,
    delay: Duration,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + 'static {
    let text = std::str::from_utf8(&html).unwrap_or_default();
    let at = split_point(text);
    let mut encoder = PartEncoder::new(coding);
    let first = encoder.part(&html[..at]);
    let rest = html.slice(at..);
    let last = async move {
        let comment = settle(db, keys, delay)
            .await
            .map(|state| streamed_state_comment(&state))
            .unwrap_or_default();
        let mut tail = Vec::with_capacity(comment.len() + rest.len());
        tail.extend_from_slice(comment.as_bytes());
        tail.extend_from_slice(&rest);
        encoder.last(&tail)
    };
    futures_util::stream::once(futures_util::future::ready(first))
        .chain(futures_util::stream::once(last))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    fn decode(coding: Coding, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        match coding {
            Coding::Brotli => {
                brotli::Decompressor::new(bytes, 4096)
                    .read_to_end(&mut out)
                    .unwrap();
            }
            Coding::Gzip => {
                flate2::read::GzDecoder::new(bytes)
                    .read_to_end(&mut out)
                    .unwrap();
            }
            Coding::Identity => out.extend_from_slice(bytes),
        }
        out
    }

    /// Decodes what a client has received so far (a flushed prefix).
    fn decode_prefix(coding: Coding, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        match coding {
            Coding::Brotli => {
                let mut d = brotli::Decompressor::new(bytes, 4096);
                while let Ok(n) = d.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    out.extend_from_slice(&buf[..n]);
                }
            }
            Coding::Gzip => {
                let mut d = flate2::read::GzDecoder::new(bytes);
                while let Ok(n) = d.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    out.extend_from_slice(&buf[..n]);
                }
            }
            Coding::Identity => out.extend_from_slice(bytes),
        }
        out
    }

    #[test]
    fn each_part_decodes_on_arrival_and_the_whole_round_trips() {
        // Big enough that the compressors hold output back until flushed.
        let page = format!(
            "<html><head></head><body>{}</body>\n</html>\n",
            "<p>Loading…</p>".repeat(2000)
        );
        let at = split_point(&page);
        assert!(page[..at].ends_with("</body>"));
        for coding in [Coding::Brotli, Coding::Gzip, Coding::Identity] {
            let mut encoder = PartEncoder::new(coding);
            let first = encoder.part(&page.as_bytes()[..at]).unwrap();
            assert_eq!(
                decode_prefix(coding, &first),
                page.as_bytes()[..at],
                "{coding:?}: the first part decodes before the rest exists"
            );
            let last = encoder.last(&page.as_bytes()[at..]).unwrap();
            let whole = [first.as_ref(), last.as_ref()].concat();
            assert_eq!(decode(coding, &whole), page.as_bytes(), "{coding:?}");
        }
    }

    #[test]
    fn the_state_comment_cannot_end_early() {
        let loaded = pages::Loaded::Data(serde_json::json!({ "x": "--> <!-- --!> </script>" }));
        let state = DehydratedState {
            queries: vec![loaded.dehydrated(QueryKey::Deferred, 1)],
            ..Default::default()
        };
        let comment = streamed_state_comment(&state);
        let inner = comment
            .strip_prefix(&format!("<!--{}", querent::ssr::STREAMED_STATE_PREFIX))
            .and_then(|c| c.strip_suffix("-->"))
            .unwrap();
        assert!(!inner.contains('>') && !inner.contains('<'), "{inner}");
        let back: DehydratedState = querent::json::parse(inner).unwrap();
        assert_eq!(back, state);
    }
}
