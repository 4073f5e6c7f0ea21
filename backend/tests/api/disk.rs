//! Disk faults under SQLite: the database file on a filesystem that fills
//! up, or that turns read-only under the running server. Writes must answer
//! 503 with nothing half applied, reads must keep working, and nothing
//! acknowledged may be lost: after a full disk the server recovers by itself
//! when space returns; after the filesystem went read-only (what ext4 does on
//! an I/O error with `errors=remount-ro`), the file, checked and mounted
//! again, holds every acknowledged write. A write refused meanwhile and
//! resent with its `Idempotency-Key` is applied exactly once.
//!
//! Real filesystems: a small tmpfs, and an ext4 image on a loop device whose
//! error is raised through `/sys/fs/ext4/<dev>/trigger_fs_error` (Linux
//! refuses `mount -o remount,ro` while the database is open for writing).
//! They need root with CAP_SYS_ADMIN, as on CI's machines; elsewhere the
//! tests say they are skipped.

use crate::helpers::{TestApp, spawn_app_on};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A filesystem mounted on a temp dir for a test; unmounted when dropped.
struct Mount {
    dir: tempfile::TempDir,
    /// The ext4 image behind a loop mount.
    image: Option<tempfile::TempDir>,
}

/// Runs a command; its stderr (or why it did not start) when it fails.
fn run(cmd: &mut Command) -> Result<(), String> {
    match cmd.output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(String::from_utf8_lossy(&out.stderr).trim().to_owned()),
        Err(e) => Err(e.to_string()),
    }
}

fn skipped(what: &str, why: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED disk fault test: cannot {what} here ({why}); it needs root"
    );
}

impl Mount {
    /// A tmpfs of `size`.
    fn tmpfs(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().expect("mount point");
        let size = format!("size={size}");
        let mounted = run(Command::new("mount")
            .args(["-t", "tmpfs", "-o", &size, "tmpfs"])
            .arg(dir.path()));
        match mounted {
            Ok(()) => Some(Self { dir, image: None }),
            Err(why) => {
                skipped("mount a tmpfs", &why);
                None
            }
        }
    }

    /// The ext4 filesystem in `image`, on a loop device, turning read-only
    /// on an error.
    fn ext4_image(image: &Path) -> Result<tempfile::TempDir, String> {
        let dir = tempfile::tempdir().expect("mount point");
        run(Command::new("mount")
            .args(["-t", "ext4", "-o", "loop,errors=remount-ro"])
            .arg(image)
            .arg(dir.path()))?;
        Ok(dir)
    }

    /// A fresh 64 MiB ext4 filesystem.
    fn ext4() -> Option<Self> {
        let images = tempfile::tempdir().expect("image dir");
        let image = images.path().join("fs.img");
        let made = std::fs::File::create(&image)
            .and_then(|f| f.set_len(64 << 20))
            .map_err(|e| e.to_string())
            .and_then(|()| run(Command::new("mkfs.ext4").arg("-q").arg(&image)))
            .and_then(|()| Self::ext4_image(&image));
        match made {
            Ok(dir) => Some(Self {
                dir,
                image: Some(images),
            }),
            Err(why) => {
                skipped("mount an ext4 image on a loop device", &why);
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Makes the filesystem fail the way a disk error does: ext4 aborts its
    /// journal and turns read-only, under the open database.
    fn fail(&self) {
        let out = Command::new("findmnt")
            .args(["-n", "-o", "SOURCE", "--target"])
            .arg(self.path())
            .output()
            .expect("findmnt");
        let source = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let device = source.rsplit('/').next().expect("a device");
        std::fs::write(
            format!("/sys/fs/ext4/{device}/trigger_fs_error"),
            "disk fault test",
        )
        .expect("trigger an ext4 error");
    }

    /// A copy of the (failed) filesystem, checked and repaired by `e2fsck`
    /// the way an operator would, mounted again: what the disk holds.
    fn checked_copy(&self) -> Self {
        let images = tempfile::tempdir().expect("image dir");
        let copy = images.path().join("fs.img");
        let image = self.image.as_ref().expect("an ext4 mount").path();
        std::fs::copy(image.join("fs.img"), &copy).expect("copy the image");
        let checked = Command::new("e2fsck")
            .arg("-fy")
            .arg(&copy)
            .output()
            .expect("e2fsck");
        // 0: clean, 1: errors corrected (the journal the error aborted).
        assert!(
            matches!(checked.status.code(), Some(0 | 1)),
            "e2fsck could not repair the filesystem: {}",
            String::from_utf8_lossy(&checked.stdout)
        );
        let dir = Self::ext4_image(&copy).expect("mount the checked copy");
        Self {
            dir,
            image: Some(images),
        }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.path()).output();
    }
}

/// Fills the filesystem at `dir` with a file until it has no space left.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).expect("filler");
    let chunk = vec![0u8; 16 * 1024];
    while file.write_all(&chunk).is_ok() {}
    // Whatever is left is smaller than a chunk: a byte at a time.
    while file.write_all(&[0]).is_ok() {}
    let _ = file.sync_all();
    path
}

/// A create with its key; the answer's status and (on 201) the post.
async fn create(app: &TestApp, key: &str, title: &str) -> (u16, Value) {
    let body = json!({"user_id": 1, "title": title, "body": "x".repeat(9_000)});
    let res = app
        .send_keyed(reqwest::Method::POST, "/api/posts", key, Some(&body))
        .await
        .expect("POST");
    let status = res.status().as_u16();
    let retry_after = res.headers().get("retry-after").cloned();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    if status == 503 {
        assert_eq!(body["error"]["code"], "unavailable", "{body}");
        assert!(retry_after.is_some(), "503 says when to try again");
    }
    (status, body)
}

/// Every post whose title starts with `prefix`, read from the database
/// through a URL nobody read before (so not a kept answer).
async fn titled(app: &TestApp, prefix: &str, nonce: usize) -> Vec<String> {
    let page = app
        .get_json(&format!("/api/posts?limit={}", 100 - nonce))
        .await;
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|p| p["title"].as_str())
        .filter(|t| t.starts_with(prefix))
        .map(str::to_owned)
        .collect()
}

/// Sends creates until one is refused with 503; returns the keys and titles
/// refused (each sent once) and the titles acknowledged.
async fn write_until_refused(app: &TestApp, round: &str) -> (Vec<(String, String)>, Vec<String>) {
    let (mut refused, mut acknowledged) = (Vec::new(), Vec::new());
    for n in 0..200 {
        let (key, title) = (format!("{round}-key-{n}"), format!("{round} {n}"));
        match create(app, &key, &title).await {
            (201, _) => acknowledged.push(title),
            (503, _) => refused.push((key, title)),
            (status, body) => panic!("{round}: a write answered {status}: {body}"),
        }
        if refused.len() >= 3 {
            break;
        }
    }
    assert!(
        refused.len() >= 3,
        "{round}: 200 writes were all accepted; the fault never showed"
    );
    (refused, acknowledged)
}

#[tokio::test]
async fn a_full_disk_refuses_writes_keeps_reads_and_recovers() {
    let Some(mount) = Mount::tmpfs("16m") else {
        return;
    };
    let database_url = mount.path().join("app.db").display().to_string();
    let app = spawn_app_on(&database_url, tempfile::tempdir().unwrap(), |_| {}).await;
    assert_eq!(create(&app, "before", "before").await.0, 201);

    // The disk fills up.
    let filler = fill(mount.path());
    let (refused, acknowledged) = write_until_refused(&app, "full").await;
    assert_eq!(app.get("/api/posts/1").await.status(), 200, "reads work");
    let seen = titled(&app, "full ", 1).await;
    assert_eq!(
        seen,
        acknowledged.iter().rev().cloned().collect::<Vec<_>>(),
        "nothing refused is there"
    );
    assert_eq!(app.get("/healthz").await.status(), 200);

    // Space returns: the refused writes, resent with their keys, apply once.
    std::fs::remove_file(filler).expect("free the space");
    for (key, title) in &refused {
        assert_eq!(
            create(&app, key, title).await.0,
            201,
            "{title} after space returned"
        );
        assert_eq!(create(&app, key, title).await.0, 201, "{title} replayed");
    }
    let mut seen = titled(&app, "full ", 2).await;
    seen.sort();
    let mut want: Vec<String> = acknowledged
        .iter()
        .cloned()
        .chain(refused.iter().map(|(_, t)| t.clone()))
        .collect();
    want.sort();
    assert_eq!(seen, want, "each write exactly once");
}

#[tokio::test]
async fn a_filesystem_turned_read_only_refuses_writes_keeps_reads_and_loses_nothing() {
    let Some(mount) = Mount::ext4() else {
        return;
    };
    let database_url = mount.path().join("app.db").display().to_string();
    let app = spawn_app_on(&database_url, tempfile::tempdir().unwrap(), |_| {}).await;
    let mut acknowledged = Vec::new();
    for n in 0..20 {
        let (key, title) = (format!("ro-before-{n}"), format!("rofs {n}"));
        assert_eq!(create(&app, &key, &title).await.0, 201);
        acknowledged.push(title);
    }

    // The disk fails; ext4 turns the filesystem read-only.
    mount.fail();
    let (refused, more) = write_until_refused(&app, "rofs_after").await;
    assert!(
        more.is_empty(),
        "a write was acknowledged on a read-only disk"
    );
    assert_eq!(app.get("/api/posts/1").await.status(), 200, "reads work");
    let seen = titled(&app, "rofs", 1).await;
    assert_eq!(
        seen,
        acknowledged.iter().rev().cloned().collect::<Vec<_>>(),
        "every acknowledged write is read, nothing refused is"
    );
    assert_eq!(app.get("/healthz").await.status(), 200);

    // What the disk holds, once checked: every acknowledged write, nothing
    // refused; the refused writes resent with their keys apply once.
    let copy = mount.checked_copy();
    let database_url = copy.path().join("app.db").display().to_string();
    let app = spawn_app_on(&database_url, tempfile::tempdir().unwrap(), |_| {}).await;
    let seen = titled(&app, "rofs", 2).await;
    assert_eq!(
        seen,
        acknowledged.iter().rev().cloned().collect::<Vec<_>>(),
        "the disk holds every acknowledged write and nothing refused"
    );
    for (key, title) in &refused {
        assert_eq!(create(&app, key, title).await.0, 201, "{title} resent");
        assert_eq!(create(&app, key, title).await.0, 201, "{title} replayed");
    }
    let mut seen = titled(&app, "rofs", 3).await;
    seen.sort();
    let mut want: Vec<String> = acknowledged
        .into_iter()
        .chain(refused.into_iter().map(|(_, t)| t))
        .collect();
    want.sort();
    assert_eq!(seen, want, "each write exactly once");
}
