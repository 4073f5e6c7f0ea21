//! PostgreSQL faults: the database side drops the backend's connections.
//!
//! `pg_terminate_backend` is what a database restart, a failover or an idle
//! timeout looks like from the backend: its connections die under it. The
//! backend must carry on without a restart of its own.

use crate::helpers::{SseReader, TestApp, fresh_postgres_database, spawn_app_on};
use diesel::{Connection, RunQueryDsl};
use serde_json::json;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

#[derive(diesel::QueryableByName)]
struct Pid {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pid: i32,
}

/// The database's name in `url`.
fn database(url: &str) -> String {
    let path = url.rsplit('/').next().unwrap_or_default();
    path.split('?').next().unwrap_or_default().to_owned()
}

/// Backend pids connected to the test database, `LISTEN`ing ones only or all.
fn pids(url: &str, listening: bool) -> Vec<i32> {
    let mut conn = diesel::PgConnection::establish(url).expect("a connection");
    let filter = if listening {
        "AND query ILIKE 'LISTEN%'"
    } else {
        ""
    };
    diesel::sql_query(format!(
        "SELECT pid FROM pg_stat_activity WHERE datname = '{}' \
         AND pid <> pg_backend_pid() {filter}",
        database(url)
    ))
    .load::<Pid>(&mut conn)
    .expect("pg_stat_activity")
    .into_iter()
    .map(|p| p.pid)
    .collect()
}

fn terminate(url: &str, pids: &[i32]) {
    let mut conn = diesel::PgConnection::establish(url).expect("a connection");
    for pid in pids {
        let _ = diesel::sql_query(format!("SELECT pg_terminate_backend({pid})")).execute(&mut conn);
    }
}

/// Each instance's `LISTEN` connection is cut from the database side: it
/// comes back, and events written on one instance still reach the other's
/// live clients (none missed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_listen_connection_comes_back_and_events_keep_flowing() {
    let Some(url) = fresh_postgres_database() else {
        return;
    };
    let a = spawn_app_on(&url, tempfile::tempdir().unwrap(), |_| {}).await;
    let b = spawn_app_on(&url, tempfile::tempdir().unwrap(), |_| {}).await;
    let mut on_b = SseReader::connect(&b, None).await;
    let deadline = Instant::now() + WAIT;
    let listening = loop {
        let now = pids(&url, true);
        if now.len() >= 2 {
            break now;
        }
        assert!(Instant::now() < deadline, "both instances LISTEN");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    terminate(&url, &listening);
    // Both come back, on new connections.
    let deadline = Instant::now() + WAIT;
    loop {
        let now = pids(&url, true);
        if now.len() >= 2 && now.iter().all(|p| !listening.contains(p)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the LISTEN connections were not re-established: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for n in 0..5 {
        let name = format!("After the cut {n}");
        let res = a.patch_json("/api/users/5", &json!({"name": name})).await;
        assert_eq!(res.status(), 200);
        let event = on_b.next(WAIT).await.expect("B's client hears A's write");
        assert_eq!(event.event.as_deref(), Some("user_updated"));
        assert_eq!(event.data["data"]["name"], name.as_str());
    }
}

/// Every connection of the backend is cut (a database restart, from the
/// backend's side) while a client writes: writes answered 2xx are all
/// there, `/healthz` is 200 again without restarting the backend, and reads
/// and writes go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backend_recovers_when_the_database_drops_every_connection() {
    let Some(url) = fresh_postgres_database() else {
        return;
    };
    let app: TestApp = spawn_app_on(&url, tempfile::tempdir().unwrap(), |_| {}).await;
    let mut acknowledged = vec![];
    let mut refused = 0;
    for round in 0..3 {
        for n in 0..20 {
            let title = format!("Cut {round}-{n}");
            let res = app
                .client
                .post(app.url("/api/posts"))
                .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
                .json(&json!({"user_id": 1, "title": title, "body": "b"}))
                .send()
                .await
                .expect("an answer (the backend itself is up)");
            if res.status() == 201 {
                acknowledged.push(title);
            } else {
                // A write on a connection that died: refused, not half done.
                assert_eq!(res.status(), 503, "{}", res.text().await.unwrap());
                refused += 1;
            }
            if n == 10 {
                let connected = pids(&url, false);
                assert!(!connected.is_empty(), "the backend is connected");
                terminate(&url, &connected);
            }
        }
    }
    let deadline = Instant::now() + WAIT;
    while app.get("/healthz").await.status() != 200 {
        assert!(Instant::now() < deadline, "/healthz never recovered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let titles: Vec<String> = crate::crash::all_posts(&app.client, &app.address)
        .await
        .iter()
        .filter_map(|p| p["title"].as_str().map(str::to_owned))
        .collect();
    for title in &acknowledged {
        assert_eq!(
            titles.iter().filter(|t| *t == title).count(),
            1,
            "{title} is there once"
        );
    }
    eprintln!(
        "database dropped every connection 3 times: {} writes acknowledged, {refused} refused",
        acknowledged.len()
    );
    assert!(
        acknowledged.len() >= 50,
        "writes go on after each cut ({} acknowledged, {refused} refused)",
        acknowledged.len()
    );
}
