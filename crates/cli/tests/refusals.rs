//! Refusals of the command line say what is wrong and leave nothing behind: feed imports without
//! files, restores of bad backups.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use sha2::{Digest, Sha256};
use stadtmauer_store::testkit::empty_database;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_stadtmauer");

fn stadtmauer(url: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .arg("--database-url")
        .arg(url)
        .args(args)
        .env("STADTMAUER_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn feed_imports_without_files_say_what_is_missing() {
    let db = empty_database().await;
    let (ok, _, err) = stadtmauer(&db.url, &["migrate"]);
    assert!(ok, "{err}");
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("leer");
    std::fs::create_dir(&empty).unwrap();
    let empty = empty.to_str().unwrap();

    let (ok, _, err) = stadtmauer(&db.url, &["feeds", "import", "--eol", empty]);
    assert!(!ok);
    assert!(
        err.contains("no endoflife.date product files (*.md") && err.contains(empty),
        "{err}"
    );
    assert!(!err.contains("invalid input"), "{err}");

    let (ok, _, err) = stadtmauer(&db.url, &["feeds", "import", "--csaf", empty]);
    assert!(!ok);
    assert!(
        err.contains("no CSAF advisories (*.json) found in") && err.contains(empty),
        "{err}"
    );

    let kev = dir.path().join("kev.json");
    std::fs::write(&kev, b"").unwrap();
    let (ok, _, err) = stadtmauer(
        &db.url,
        &["feeds", "import", "--kev", kev.to_str().unwrap()],
    );
    assert!(!ok);
    assert!(err.contains("is empty"), "{err}");
    assert!(!err.contains("invalid input"), "{err}");
}

#[tokio::test]
async fn a_refused_restore_leaves_no_database_behind() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("neu.sqlite3");
    let url = format!("sqlite://{}", target.display());
    let exists = |p: &std::path::Path| {
        ["", "-wal", "-shm"]
            .iter()
            .any(|s| std::path::PathBuf::from(format!("{}{s}", p.display())).exists())
    };

    // Not a backup at all: refused before the database is opened.
    let junk = dir.path().join("kaputt.jsonl");
    std::fs::write(&junk, "das ist kein Backup\n").unwrap();
    let (ok, _, err) = stadtmauer(&url, &["restore", junk.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("restore refused"), "{err}");
    assert!(!exists(&target), "a refused restore left {target:?}");

    // A well-formed backup of another schema version: refused once the (new) database is
    // migrated, which is then removed again.
    let source = empty_database().await;
    let (ok, _, err) = stadtmauer(&source.url, &["migrate"]);
    assert!(ok, "{err}");
    let backup = dir.path().join("backup.jsonl");
    let (ok, _, err) = stadtmauer(&source.url, &["backup", backup.to_str().unwrap()]);
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(&backup).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines.pop();
    let mut header: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    header["schema_version"] = (header["schema_version"].as_i64().unwrap() + 1000).into();
    lines[0] = header.to_string();
    let mut hash = Sha256::new();
    for l in &lines {
        hash.update(l.as_bytes());
        hash.update(b"\n");
    }
    let trailer = serde_json::json!({ "end": true, "sha256": hex::encode(hash.finalize()) });
    let other = dir.path().join("andere-version.jsonl");
    std::fs::write(&other, format!("{}\n{trailer}\n", lines.join("\n"))).unwrap();
    let (ok, _, err) = stadtmauer(&url, &["restore", other.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("restore refused"), "{err}");
    assert!(!exists(&target), "a refused restore left {target:?}");

    // The same refusal into an existing database keeps that database.
    let (ok, _, err) = stadtmauer(&url, &["migrate"]);
    assert!(ok, "{err}");
    let (ok, _, _) = stadtmauer(&url, &["restore", other.to_str().unwrap()]);
    assert!(!ok);
    assert!(target.exists(), "an existing database was removed");
    // And a good backup still restores into a new file.
    let fresh = dir.path().join("frisch.sqlite3");
    let (ok, out, err) = stadtmauer(
        &format!("sqlite://{}", fresh.display()),
        &["restore", backup.to_str().unwrap()],
    );
    assert!(ok, "{out}{err}");
    assert!(fresh.exists());
}
