//! A restore reads the backup file line by line, twice, and never holds it in memory: what it keeps
//! is bounded by the longest line (`MAX_LINE_BYTES`), not by the size of the file.
//!
//! Memory is measured with a counting global allocator (`peakmem-alloc`; one per test binary,
//! hence this file of its own). It counts what Rust allocates, not SQLite's own C heap (whose page
//! cache SQLite bounds itself). The tests take a lock so that only one of them allocates while
//! another measures. Runs on SQLite, and on PostgreSQL when `STADTMAUER_TEST_DATABASE_URL` is set.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use peakmem_alloc::{PeakMemAlloc, PeakMemAllocTrait, INSTRUMENTED_SYSTEM};
use sha2::{Digest, Sha256};
use stadtmauer_core::org::{OrgKind, OrganisationInput};
use stadtmauer_store::backup::{parse_backup, BackupFile, RestoreError, MAX_LINE_BYTES};
use stadtmauer_store::testkit::{fresh_store, TempDir};
use stadtmauer_store::Store;
use std::alloc::System;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};

/// The system allocator, counting the bytes in use and the most in use at once since a reset.
#[global_allocator]
static ALLOC: &PeakMemAlloc<System> = &INSTRUMENTED_SYSTEM;

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const MIB: usize = 1024 * 1024;

/// Rows the database holds in a few tables that every backup restores.
async fn counts(store: &Store) -> (i64, i64, i64) {
    let count = |table: &'static str| async move {
        sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(store.pool())
            .await
            .unwrap()
    };
    (
        count("verbund").await,
        count("organisation").await,
        count("audit_log").await,
    )
}

/// A store with a Verbund, its office and a town (and their audit entries).
async fn store_with_data() -> (Store, stadtmauer_store::testkit::TestDb) {
    let (store, db) = fresh_store().await;
    let org = |name: &str, kind: OrgKind| {
        OrganisationInput {
            name: name.into(),
            kind: kind.as_str().into(),
            inhabitants: Some("4200".into()),
            ..Default::default()
        }
        .validate()
        .unwrap()
    };
    let sys = store.system_scope("test").await.unwrap();
    let (v, _) = store
        .create_verbund(
            &sys,
            "Landkreis Test",
            &org("ISB-Büro", OrgKind::Zweckverband),
        )
        .await
        .unwrap();
    let sys = store.system_scope("test").await.unwrap();
    store
        .create_organisation(&sys, Some(v), &org("Gemeinde A", OrgKind::Gemeinde))
        .await
        .unwrap();
    (store, db)
}

/// The lines of a backup file, without the checksum line.
fn body_lines(backup: &[u8]) -> Vec<String> {
    let mut lines: Vec<String> = backup.lines().map(|l| l.unwrap()).collect();
    lines.pop();
    lines
}

/// Writes `lines` and a correct checksum line to `out`.
fn write_backup(out: &mut impl Write, lines: impl IntoIterator<Item = String>) -> u64 {
    let mut hash = Sha256::new();
    let mut rows = 0u64;
    for l in lines {
        hash.update(l.as_bytes());
        hash.update(b"\n");
        if l.starts_with('[') {
            rows += 1;
        }
        out.write_all(l.as_bytes()).unwrap();
        out.write_all(b"\n").unwrap();
    }
    let end =
        serde_json::json!({"end": true, "rows": rows, "sha256": hex::encode(hash.finalize())});
    writeln!(out, "{end}").unwrap();
    rows
}

#[tokio::test]
async fn round_trip_from_a_file() {
    let _one = ONE_AT_A_TIME.lock().await;
    let (store, _db) = store_with_data().await;
    let dir = TempDir::new();
    let path = dir.0.join("backup.jsonl");
    let summary = store
        .backup(
            BufWriter::new(std::fs::File::create(&path).unwrap()),
            |_| {},
        )
        .await
        .unwrap();
    // What the CLI passes (a `BufReader` of the file), a plain file and the bytes all restore.
    let (a, _a) = fresh_store().await;
    let file = BufReader::new(std::fs::File::open(&path).unwrap());
    let restored = a.restore(file, false, |_| {}).await.unwrap();
    assert_eq!(restored.rows, summary.rows);
    assert_eq!(restored.sha256, summary.sha256);
    assert_eq!(counts(&a).await, counts(&store).await);
    let (b, _b) = fresh_store().await;
    let restored = b
        .restore(std::fs::File::open(&path).unwrap(), false, |_| {})
        .await
        .unwrap();
    assert_eq!(restored.rows, summary.rows);
    // A second backup of the restored database holds the same rows.
    let mut first = Vec::new();
    std::fs::File::open(&path)
        .unwrap()
        .read_to_end(&mut first)
        .unwrap();
    let mut again = Vec::new();
    b.backup(&mut again, |_| {}).await.unwrap();
    assert_eq!(body_lines(&first)[1..], body_lines(&again)[1..]);
    assert!(b.audit_verify(|_| {}).await.unwrap().1.is_empty());
    // The check alone says the same.
    let parsed = parse_backup(&first[..]).unwrap();
    assert_eq!((parsed.rows, parsed.sha256), (summary.rows, summary.sha256));
}

/// One line without an end, far beyond the limit: refused by its number and the limit as soon as
/// the limit is crossed, with the memory of one line, however large the file.
#[tokio::test]
async fn an_endless_line_is_refused_in_bounded_memory() {
    let _one = ONE_AT_A_TIME.lock().await;
    let ceiling = MAX_LINE_BYTES + 32 * MIB;
    let limit = MAX_LINE_BYTES.to_string();

    // 4 GiB of 'x' after a header line, generated as it is read.
    let header = format!(
        "{}\n",
        serde_json::json!({"format": "stadtmauer-backup", "version": 1, "schema_version": 1})
    );
    let endless = std::io::repeat(b'x').take(4 << 30);
    ALLOC.reset_peak_memory();
    let err = parse_backup(BufReader::new(header.as_bytes().chain(endless))).unwrap_err();
    let peak = ALLOC.get_peak_memory();
    eprintln!("4 GiB line, check only: peak {} MiB", peak / MIB);
    assert!(matches!(err, RestoreError::Format { line: 2, .. }), "{err}");
    assert!(err.to_string().contains(&limit), "{err}");
    assert!(peak < ceiling, "peak {peak} bytes");

    // A sparse file of 8 GiB (zero bytes, no line end) through `restore`, as the CLI reads it.
    let (store, _db) = store_with_data().await;
    let before = counts(&store).await;
    let dir = TempDir::new();
    let path = dir.0.join("huge.jsonl");
    std::fs::File::create(&path)
        .unwrap()
        .set_len(8 << 30)
        .unwrap();
    ALLOC.reset_peak_memory();
    let file = BufReader::new(std::fs::File::open(&path).unwrap());
    let err = store.restore(file, true, |_| {}).await.unwrap_err();
    let peak = ALLOC.get_peak_memory();
    eprintln!(
        "8 GiB file, restore: peak {} MiB (Rust heap); process peak RSS {}",
        peak / MIB,
        peak_rss()
    );
    assert!(matches!(err, RestoreError::Format { line: 1, .. }), "{err}");
    assert!(err.to_string().contains(&limit), "{err}");
    assert!(peak < ceiling, "peak {peak} bytes");
    assert_eq!(counts(&store).await, before, "the refusal changed data");
}

/// A backup far larger than what the restore keeps: 40,000 rows of 1.2 KiB (48 MiB) restore with a peak
/// that does not depend on the number of rows.
#[tokio::test]
async fn a_large_backup_restores_in_little_memory() {
    let _one = ONE_AT_A_TIME.lock().await;
    let (store, _db) = fresh_store().await;
    let mut template = Vec::new();
    store.backup(&mut template, |_| {}).await.unwrap();
    let template = body_lines(&template);
    let dir = TempDir::new();
    let path = dir.0.join("large.jsonl");
    const ROWS: usize = 40_000;
    let filler = "ä".repeat(600);
    let lines = template.iter().flat_map(|l| {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let extra: Box<dyn Iterator<Item = String>> = if v.get("table") == Some(&"verbund".into()) {
            Box::new((1..=ROWS).map(|i| {
                serde_json::json!([i, format!("Verbund {i:05} {filler}"), 1_700_000_000])
                    .to_string()
            }))
        } else {
            Box::new(std::iter::empty())
        };
        std::iter::once(l.clone()).chain(extra)
    });
    let mut out = BufWriter::new(std::fs::File::create(&path).unwrap());
    let rows = write_backup(&mut out, lines);
    out.flush().unwrap();
    drop(out);
    assert!(
        rows >= ROWS as u64,
        "the template has no verbund table line"
    );
    let size = std::fs::metadata(&path).unwrap().len() as usize;
    assert!(size > 40 * MIB, "{size}");

    let (target, _t) = fresh_store().await;
    ALLOC.reset_peak_memory();
    let file = BufReader::new(std::fs::File::open(&path).unwrap());
    let summary = target.restore(file, false, |_| {}).await.unwrap();
    let peak = ALLOC.get_peak_memory();
    eprintln!(
        "restore of {} MiB, {ROWS} rows: peak {} KiB (Rust heap); process peak RSS {}",
        size / MIB,
        peak / 1024,
        peak_rss()
    );
    assert_eq!(summary.rows, rows);
    assert_eq!(counts(&target).await.0, ROWS as i64);
    assert!(
        peak < 8 * MIB,
        "peak {peak} bytes for a file of {size} bytes"
    );
    // The counter sees what this process allocates: reading the file whole costs its size.
    ALLOC.reset_peak_memory();
    let whole = std::fs::read(&path).unwrap();
    assert!(ALLOC.get_peak_memory() >= size);
    drop(whole);
}

/// One long but legitimate line (a 48 MiB feed, as `upd_feed.content` keeps one) restores with a
/// peak of a few times the line, whatever else the file holds.
#[tokio::test]
async fn a_long_line_restores_in_a_few_times_its_length() {
    let _one = ONE_AT_A_TIME.lock().await;
    let (store, _db) = fresh_store().await;
    let mut template = Vec::new();
    store.backup(&mut template, |_| {}).await.unwrap();
    let template = body_lines(&template);
    let content = "{\"cve\": \"CVE-2024-0001\"} ".repeat(48 * MIB / 27);
    let row = serde_json::json!([
        1,
        "kev",
        "test",
        "2025-01-01",
        "0",
        content,
        "{}",
        0,
        1_700_000_000,
        "test"
    ])
    .to_string();
    let content_len = content.len();
    drop(content);
    let line = row.len();
    let dir = TempDir::new();
    let path = dir.0.join("long.jsonl");
    let mut out = BufWriter::new(std::fs::File::create(&path).unwrap());
    let lines = template.iter().flat_map(|l| {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let feed = v.get("table") == Some(&"upd_feed".into());
        std::iter::once(l.clone()).chain(feed.then(|| row.clone()))
    });
    write_backup(&mut out, lines);
    out.flush().unwrap();
    drop(out);
    drop(row);

    let (target, _t) = fresh_store().await;
    ALLOC.reset_peak_memory();
    let file = BufReader::new(std::fs::File::open(&path).unwrap());
    target.restore(file, false, |_| {}).await.unwrap();
    let peak = ALLOC.get_peak_memory();
    eprintln!(
        "restore of one {} MiB line: peak {} MiB (Rust heap, {:.2} × the line); process peak RSS {}",
        line / MIB,
        peak / MIB,
        peak as f64 / line as f64,
        peak_rss()
    );
    let stored: i64 = sqlx::query_scalar("SELECT LENGTH(content) FROM upd_feed")
        .fetch_one(target.pool())
        .await
        .unwrap();
    assert_eq!(stored as usize, content_len);
    assert!(
        peak < 4 * line,
        "peak {peak} bytes for a line of {line} bytes"
    );
}

/// The most resident memory of this process so far (Linux), for the log.
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l[6..].trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// A file that reads differently the second time (changed between the passes).
struct Changing {
    first: Vec<u8>,
    second: Vec<u8>,
    reads: usize,
}

impl BackupFile for Changing {
    type Reader<'a> = &'a [u8];

    fn read_from_start(&mut self) -> std::io::Result<&[u8]> {
        self.reads += 1;
        Ok(if self.reads == 1 {
            &self.first
        } else {
            &self.second
        })
    }
}

/// A file that changes between the check and the restore is rolled back: nothing is written into
/// an empty database, and a forced restore over data leaves the data as it was.
#[tokio::test]
async fn a_file_changed_between_the_passes_changes_nothing() {
    let _one = ONE_AT_A_TIME.lock().await;
    let (store, _db) = store_with_data().await;
    let mut good = Vec::new();
    store.backup(&mut good, |_| {}).await.unwrap();
    let lines = body_lines(&good);
    let verbund_row = lines
        .iter()
        .position(|l| l.starts_with("[1,\"Landkreis Test\""))
        .unwrap();

    // Another valid backup: the checksum of the second pass differs from the first.
    let mut other = Vec::new();
    let mut renamed = lines.clone();
    renamed[verbund_row] = renamed[verbund_row].replace("Landkreis Test", "Landkreis Anders");
    write_backup(&mut other, renamed);
    // The same backup with a line more after the checksum line.
    let mut longer = good.clone();
    longer.extend_from_slice(b"[]\n");
    // A backup whose verbund row appears twice: refused by the database in the second pass.
    let mut twice = Vec::new();
    let mut doubled = lines.clone();
    doubled.insert(verbund_row, lines[verbund_row].clone());
    write_backup(&mut twice, doubled);
    // Shorter than it was: the checksum line is missing.
    let shorter = (lines.join("\n") + "\n").into_bytes();

    let (target, _t) = fresh_store().await;
    let empty = counts(&target).await;
    let before = counts(&store).await;
    for (case, second) in [
        ("other", other),
        ("longer", longer),
        ("twice", twice),
        ("shorter", shorter),
    ] {
        let changing = |second: &Vec<u8>| Changing {
            first: good.clone(),
            second: second.clone(),
            reads: 0,
        };
        let err = target
            .restore(changing(&second), false, |_| {})
            .await
            .unwrap_err();
        match case {
            "twice" => assert!(
                matches!(&err, RestoreError::Format { line, message } if *line == verbund_row + 2 && message.contains("duplicate key")),
                "{case}: {err}"
            ),
            _ => assert!(matches!(err, RestoreError::Changed), "{case}: {err}"),
        }
        assert_eq!(counts(&target).await, empty, "{case} wrote data");
        // Forced over existing data: the wipe is rolled back too.
        assert!(store
            .restore(changing(&second), true, |_| {})
            .await
            .is_err());
        assert_eq!(counts(&store).await, before, "{case} changed data");
    }
    // And the unchanged file restores.
    target.restore(&good[..], false, |_| {}).await.unwrap();
    assert_eq!(counts(&target).await, before);
}
