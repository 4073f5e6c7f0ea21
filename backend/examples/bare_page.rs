//! The ceiling for a kept page: a bare actix-web server answering every GET
//! with one file's bytes from memory, as `Content-Encoding: br` HTML. No
//! middleware, no routing, no headers beyond those two. Used by
//! `scripts/bench-backend.sh`, which feeds it the brotli bytes the backend
//! serves for `/posts/1` and measures both in one run.
//!
//! `cargo run --release -p backend --example bare_page -- FILE [WORKERS]`
//! prints `Serving on http://127.0.0.1:PORT` (a free port) and serves until
//! killed. WORKERS defaults to the backend's own default (one per core).

#![allow(clippy::print_stdout)]

use actix_web::{App, HttpResponse, HttpServer, http::header, web};
use std::net::TcpListener;

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(file) = args.next() else {
        eprintln!("usage: bare_page FILE [WORKERS]");
        std::process::exit(2);
    };
    let workers = match args.next() {
        Some(n) => n.parse().unwrap_or_else(|_| {
            eprintln!("WORKERS must be a number, not {n:?}");
            std::process::exit(2);
        }),
        None => std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
    };
    let body = web::Bytes::from(std::fs::read(&file)?);
    let listener = TcpListener::bind("127.0.0.1:0")?;
    println!("Serving on http://{}", listener.local_addr()?);
    HttpServer::new(move || {
        let body = body.clone();
        App::new().default_service(web::to(move || {
            let body = body.clone();
            async move {
                HttpResponse::Ok()
                    .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
                    .insert_header((header::CONTENT_ENCODING, "br"))
                    .body(body)
            }
        }))
    })
    // As the backend does: no Nagle, so responses never wait on delayed ACKs.
    .on_connect(|conn, _| {
        if let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
            let _ = tcp.set_nodelay(true);
        }
    })
    .workers(workers)
    .listen(listener)?
    .run()
    .await
}
