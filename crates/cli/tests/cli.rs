//! The binary as operators use it: demo, serve, backup while serving, restore, audit verify, and
//! a SIGKILL during a burst of writes that must lose no acknowledged write.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use stadtmauer_store::testkit::{empty_database, TestDb};
use stadtmauer_store::Store;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_stadtmauer");
const OFFICE: &str = "katrin.vogt@isb-musterau.example";

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

/// A running `serve` process; killed when dropped.
struct Server {
    child: Child,
    addr: String,
    log: Arc<Mutex<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(url: &str) -> Server {
    let mut child = Command::new(BIN)
        .args(["--database-url", url, "serve", "--listen", "127.0.0.1:0"])
        .env("STADTMAUER_LOG", "debug,sqlx=info,hyper=info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let mut stderr = child.stderr.take().unwrap();
    let sink = log.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    let addr = loop {
        assert!(Instant::now() < deadline, "server did not start");
        let line = lines.next().unwrap().unwrap();
        if let Some(rest) = line.split("http://").nth(1) {
            break rest.trim_end_matches('/').to_string();
        }
    };
    std::thread::spawn(move || for _ in lines.by_ref() {});
    Server { child, addr, log }
}

/// The text between the first `start` and the next `end`: a CSRF token or a shown-once secret.
fn between(page: &str, start: &str, end: &str) -> String {
    page.split(start)
        .nth(1)
        .unwrap()
        .split(end)
        .next()
        .unwrap()
        .to_string()
}

/// A database with the demo loaded through the CLI; returns the printed password.
fn demo_db(db: &TestDb) -> String {
    let (ok, out, err) = stadtmauer(&db.url, &["demo"]);
    assert!(ok, "demo failed: {err}");
    out.lines()
        .find_map(|l| l.split("password of every demo user: ").nth(1))
        .expect("the demo prints its password")
        .trim()
        .to_string()
}

async fn office_token(url: &str) -> String {
    let store = Store::connect(url).await.unwrap();
    let id = store.login_account(OFFICE).await.unwrap().unwrap().id;
    let (_, scope) = store.scope_for(id).await.unwrap().unwrap();
    let token = store
        .create_token(&scope, "test", false, None)
        .await
        .unwrap()
        .1;
    store.close().await;
    token
}

#[tokio::test]
async fn killed_server_loses_no_acknowledged_write() {
    let db = empty_database().await;
    let password = demo_db(&db);
    let token = office_token(&db.url).await;
    let server = serve(&db.url);
    let base = format!("http://{}", server.addr);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let orgs: serde_json::Value = http
        .get(format!("{base}/api/v1/organisations"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let org = orgs[1]["id"].as_i64().unwrap();

    // Eight writers, each adding contacts as fast as the server acknowledges them, bounded in
    // count and time; the server is killed in the middle.
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut tasks = Vec::new();
    for w in 0..8 {
        let (http, base, token, ack) = (
            http.clone(),
            base.clone(),
            token.clone(),
            acknowledged.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let stop = Instant::now() + Duration::from_secs(8);
            for i in 0..400 {
                if Instant::now() > stop {
                    break;
                }
                let name = format!("Schreiber {w}-{i}");
                let r = http
                    .post(format!("{base}/api/v1/organisations/{org}/contacts"))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({"function": "Lasttest", "name": name}))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == 201 => ack.lock().unwrap().push(name),
                    _ => break,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut server = server;
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 10,
        "the burst did not get going: {}",
        acknowledged.len()
    );
    let log = server.log.lock().unwrap().clone();
    drop(server);

    // Starts again cleanly, with every acknowledged write present and the audit chain intact.
    let again = serve(&db.url);
    let r = http
        .get(format!("http://{}/healthz", again.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let contacts: serde_json::Value = http
        .get(format!(
            "http://{}/api/v1/organisations/{org}/contacts",
            again.addr
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let stored: Vec<&str> = contacts
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for name in &acknowledged {
        assert!(
            stored.contains(&name.as_str()),
            "acknowledged write {name} was lost"
        );
    }
    drop(again);
    let (ok, out, err) = stadtmauer(&db.url, &["audit", "verify"]);
    assert!(ok, "audit chain broken after the crash: {out} {err}");

    // The server's own log (debug level) shows none of the secrets it handled.
    assert!(log.contains("request"), "log captured");
    assert!(
        !log.contains(&token) && !log.contains(&password),
        "a secret appears in the server log"
    );
}

#[tokio::test]
async fn backup_while_serving_then_restore_elsewhere() {
    let db = empty_database().await;
    demo_db(&db);
    let token = office_token(&db.url).await;
    let server = serve(&db.url);
    let base = format!("http://{}", server.addr);
    let http = reqwest::Client::new();
    // Writes go on while the backup is taken.
    let writer = {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        tokio::spawn(async move {
            for i in 0..60 {
                let _ = http
                    .post(format!("{base}/api/v1/organisations/2/contacts"))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({"function": "Backup-Test", "name": format!("Person {i}")}))
                    .send()
                    .await;
            }
        })
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sicherung.jsonl");
    let (ok, out, err) = stadtmauer(&db.url, &["backup", file.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("Backup written"));
    writer.await.unwrap();
    drop(server);

    let target = empty_database().await;
    let (ok, out, err) = stadtmauer(&target.url, &["restore", file.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    let (ok, out, _) = stadtmauer(&target.url, &["audit", "verify"]);
    assert!(ok && out.contains("intact"), "{out}");
    // Restoring again over existing data is refused without --force.
    let (ok, _, err) = stadtmauer(&target.url, &["restore", file.to_str().unwrap()]);
    assert!(!ok && err.contains("--force"), "{err}");
    // A damaged file is refused with a clear message.
    let mut text = std::fs::read_to_string(&file).unwrap();
    text = text.replacen("Stadt Musterau", "Stadt Mustarau", 1);
    std::fs::write(&file, text).unwrap();
    let fresh = empty_database().await;
    let (ok, _, err) = stadtmauer(&fresh.url, &["restore", file.to_str().unwrap()]);
    assert!(!ok && err.contains("checksum"), "{err}");
}

#[tokio::test]
async fn audit_verify_finds_an_edited_entry() {
    let db = empty_database().await;
    demo_db(&db);
    let (ok, out, _) = stadtmauer(&db.url, &["audit", "verify"]);
    assert!(ok && out.contains("intact"), "{out}");
    let store = Store::connect(&db.url).await.unwrap();
    sqlx::query("UPDATE audit_log SET after_json = '{\"name\":\"gefälscht\"}' WHERE seq = 7")
        .execute(store.pool())
        .await
        .unwrap();
    store.close().await;
    let (ok, out, _) = stadtmauer(&db.url, &["audit", "verify"]);
    assert!(!ok, "tampering not detected: {out}");
    assert!(out.contains("entry 7") && out.contains("TAMPERED"), "{out}");
}

/// Removing the newest entries and rewinding the head leaves a consistent chain; the head hash
/// kept outside the database (printed by verify and backup) finds it.
#[tokio::test]
async fn audit_verify_with_an_anchor_finds_a_truncated_chain() {
    let db = empty_database().await;
    demo_db(&db);
    let dir = stadtmauer_store::testkit::TempDir::new();
    let file = dir.0.join("anker.backup");
    let (ok, out, err) = stadtmauer(&db.url, &["backup", file.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    let anchor = out
        .split("Audit head in the backup: entry ")
        .nth(1)
        .and_then(|r| r.split("hash ").nth(1))
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|| panic!("no audit head in: {out}"));
    assert_eq!(anchor.len(), 64, "{anchor}");
    let (ok, out, _) = stadtmauer(&db.url, &["audit", "verify", "--expect", &anchor]);
    assert!(ok && out.contains("expected head is in the chain"), "{out}");
    assert!(out.contains(&format!("hash {anchor}")), "{out}");

    // The attacker deletes the three newest entries and rewinds the head to the one before.
    let store = Store::connect(&db.url).await.unwrap();
    let (seq, _) = store.audit_head().await.unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq > $1")
        .bind(seq - 3)
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::query(
        "UPDATE audit_head SET seq = $1, hash = (SELECT hash FROM audit_log WHERE seq = $1) WHERE id = 1",
    )
    .bind(seq - 3)
    .execute(store.pool())
    .await
    .unwrap();
    store.close().await;
    let (ok, out, _) = stadtmauer(&db.url, &["audit", "verify"]);
    assert!(
        ok,
        "without an anchor the rewound chain looks intact: {out}"
    );
    let (ok, out, _) = stadtmauer(&db.url, &["audit", "verify", "--expect", &anchor]);
    assert!(!ok, "truncation not detected: {out}");
    assert!(out.contains("TAMPERED") && out.contains(&anchor), "{out}");
    // A malformed anchor is refused with what is expected.
    let (ok, _, err) = stadtmauer(&db.url, &["audit", "verify", "--expect", "xyz"]);
    assert!(!ok && err.contains("64 hexadecimal"), "{err}");
}

#[tokio::test]
async fn users_from_the_command_line_and_a_newer_database_is_refused() {
    let db = empty_database().await;
    let (ok, out, err) = stadtmauer(&db.url, &["migrate"]);
    assert!(ok, "{out}{err}");
    let (ok, out, err) = stadtmauer(
        &db.url,
        &[
            "user",
            "add",
            "--email",
            "Chefin@Kreis.example",
            "--name",
            "Chefin",
            "--admin",
        ],
    );
    assert!(ok, "{err}");
    let pw = out
        .split("(shown once): ")
        .nth(1)
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(pw.len(), 23);
    let (ok, _, err) = stadtmauer(
        &db.url,
        &["user", "add", "--email", "kaputt", "--name", "X", "--admin"],
    );
    assert!(!ok && err.contains("email"), "{err}");
    let (ok, out, _) = stadtmauer(
        &db.url,
        &["user", "reset-password", "--email", "chefin@kreis.example"],
    );
    assert!(ok && out.contains("New password"), "{out}");
    let (ok, _, err) = stadtmauer(
        &db.url,
        &["user", "reset-password", "--email", "niemand@kreis.example"],
    );
    assert!(!ok && err.contains("no user"), "{err}");

    let store = Store::connect(&db.url).await.unwrap();
    sqlx::query("INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) VALUES (99999999999999, 'future', CURRENT_TIMESTAMP, TRUE, $1, 0)")
        .bind(vec![0u8; 4])
        .execute(store.pool())
        .await
        .unwrap();
    store.close().await;
    let (ok, _, err) = stadtmauer(&db.url, &["serve", "--listen", "127.0.0.1:0"]);
    assert!(!ok, "a newer database must be refused");
    assert!(err.contains("newer"), "{err}");
}

/// `catalog import` takes a catalog and a mapping collection (to Kernel requirements), says what
/// it stored, and refuses a mapping that names no known requirement, storing nothing.
#[tokio::test]
async fn catalog_import_takes_catalogs_and_mapping_collections() {
    let db = empty_database().await;
    let (ok, out, err) = stadtmauer(&db.url, &["migrate"]);
    assert!(ok, "{out}{err}");
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    };
    let catalog = write(
        "eigen.json",
        r#"{"catalog":{"uuid":"u-eigen","metadata":{"title":"Eigener Katalog","version":"1","oscal-version":"1.1.2"},
          "controls":[{"id":"EK.1","title":"Eins","parts":[{"name":"statement","prose":"Die Kommune MUSS."}]}]}}"#,
    );
    let (ok, out, err) = stadtmauer(&db.url, &["catalog", "import", &catalog]);
    assert!(ok, "{err}");
    assert!(
        out.contains("Imported catalog \"Eigener Katalog\" version \"1\": 1 requirements"),
        "{out}"
    );
    let map = |targets: [&str; 2]| {
        format!(
            r#"{{"mapping-collection":{{"uuid":"u-c5","metadata":{{"title":"C5 zu GS++","version":"1","oscal-version":"1.2.2"}},
              "mappings":[{{"uuid":"m","source-resource":{{"type":"catalog","href":"c5.json"}},"target-resource":{{"type":"catalog","href":"kernel.json"}},
              "maps":[{{"uuid":"a","relationship":"subset-of","sources":[{{"type":"control","id-ref":"OIS-01"}}],"targets":[{{"type":"control","id-ref":"{}"}}]}},
                      {{"uuid":"b","relationship":"equivalent-to","sources":[{{"type":"control","id-ref":"OIS-02"}}],"targets":[{{"type":"control","id-ref":"{}"}}]}}]}}]}}}}"#,
            targets[0], targets[1]
        )
    };
    let unknown = write("unbekannt.json", &map(["XYZ.1", "XYZ.2"]));
    let (ok, out, err) = stadtmauer(&db.url, &["catalog", "import", &unknown]);
    assert!(!ok, "{out}");
    assert!(
        err.contains("file refused, nothing was stored: mapping-collection.mappings[0].maps[0]: no control named"),
        "{err}"
    );
    let good = write("c5.json", &map(["ASST.1.1.2", "EK.1"]));
    let (ok, out, err) = stadtmauer(&db.url, &["catalog", "import", &good]);
    assert!(ok, "{err}");
    assert!(
        out.contains("Imported mapping collection \"C5 zu GS++\" version \"1\": 2 map(s)."),
        "{out}"
    );
    let (ok, _, err) = stadtmauer(&db.url, &["catalog", "import", &good]);
    assert!(!ok && err.contains("already imported"), "{err}");
    let store = Store::connect(&db.url).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sec_catalog")
        .fetch_one(store.pool())
        .await
        .unwrap();
    store.close().await;
    assert_eq!(n, 2);
}

#[test]
fn architecture_names_every_crate() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let arch = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    for e in std::fs::read_dir(root.join("crates")).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        assert!(
            arch.contains(&format!("crates/{name}")),
            "ARCHITECTURE.md does not describe crates/{name}"
        );
    }
}

/// Two `serve` processes on one database share sessions and state: a login on one is valid on the
/// other, and a change made through one is seen by the other at once.
#[tokio::test]
async fn two_servers_share_sessions_and_state() {
    let db = empty_database().await;
    let password = demo_db(&db);
    let (one, two) = (serve(&db.url), serve(&db.url));
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login_page = http
        .get(format!("http://{}/login", one.addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = between(&login_page, "name=\"csrf\" value=\"", "\"");
    let r = http
        .post(format!("http://{}/login", one.addr))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", OFFICE),
            ("password", password.as_str()),
            ("next", "/dashboard"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    // The session created by the first process opens the second.
    let page = http
        .get(format!("http://{}/account", two.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("Katrin Vogt"));
    // A token created through the second works on the first.
    let csrf = between(&page, "name=\"csrf\" value=\"", "\"");
    let created = http
        .post(format!("http://{}/account/tokens", two.addr))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "zwei"),
            // Creating a token asks for the password again.
            ("current_password", password.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = between(&created, "<code id=\"secret\">", "<");
    let me = reqwest::Client::new()
        .get(format!("http://{}/api/v1/me", one.addr))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    // Logging out on one ends the session on both.
    let page = http
        .get(format!("http://{}/account", one.addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = between(&page, "name=\"csrf\" value=\"", "\"");
    http.post(format!("http://{}/logout", one.addr))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let after = http
        .get(format!("http://{}/dashboard", two.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 303);
}

/// `feeds import --csaf provider-metadata.json` walks a mirrored CSAF provider: the advisory whose
/// checksum matches is imported, the one whose checksum does not is named and left out.
#[tokio::test]
async fn a_mirrored_csaf_provider_is_walked_with_its_checksums() {
    use sha2::{Digest, Sha256};
    let db = empty_database().await;
    let (ok, _, err) = stadtmauer(&db.url, &["migrate"]);
    assert!(ok, "{err}");
    let examples = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/csaf-2.0/csaf_2.0/examples/csaf"
    );
    let good = std::fs::read(format!("{examples}/bsi-2022-0001.json")).unwrap();
    let bad = std::fs::read(format!("{examples}/cisco-sa-20180328-smi2.json")).unwrap();
    let mirror = tempfile::tempdir().unwrap();
    let root = mirror.path();
    std::fs::create_dir_all(root.join("white/2022")).unwrap();
    std::fs::write(
        root.join("provider-metadata.json"),
        r#"{"canonical_url": "https://csaf.example/.well-known/csaf/provider-metadata.json",
            "distributions": [{"directory_url": "https://csaf.example/.well-known/csaf/white/"}],
            "last_updated": "2026-11-01T00:00:00Z", "list_on_CSAF_aggregators": false,
            "metadata_version": "2.0", "mirror_on_CSAF_aggregators": false,
            "publisher": {"category": "vendor", "name": "Beispiel PSIRT", "namespace": "https://csaf.example"},
            "role": "csaf_provider"}"#,
    )
    .unwrap();
    std::fs::write(
        root.join("white/index.txt"),
        "2022/good.json\n2022/bad.json\n",
    )
    .unwrap();
    std::fs::write(root.join("white/2022/good.json"), &good).unwrap();
    std::fs::write(
        root.join("white/2022/good.json.sha256"),
        format!("{}  good.json\n", hex::encode(Sha256::digest(&good))),
    )
    .unwrap();
    std::fs::write(root.join("white/2022/bad.json"), &bad).unwrap();
    std::fs::write(
        root.join("white/2022/bad.json.sha256"),
        format!(
            "{}  bad.json\n",
            hex::encode(Sha256::digest(b"something else"))
        ),
    )
    .unwrap();
    let meta = root.join("provider-metadata.json");
    let (ok, out, err) = stadtmauer(
        &db.url,
        &["feeds", "import", "--csaf", meta.to_str().unwrap()],
    );
    assert!(ok, "{out}\n{err}");
    assert!(
        out.contains("1 advisories fetched") && out.contains("1 with a verified checksum"),
        "{out}"
    );
    assert!(
        err.contains("rejected") && err.contains("bad.json"),
        "{err}"
    );
    assert!(!err.contains("good.json"), "{err}");
}

/// `feeds update` against a real TLS server on 127.0.0.1 (`openssl s_server -WWW`, a certificate
/// from a CA made in the test): the KEV catalog, an endoflife.date tarball and a CSAF provider are
/// fetched and imported; without the CA the TLS handshake fails and nothing changes.
#[tokio::test]
async fn feeds_update_fetches_over_tls() {
    use sha2::{Digest, Sha256};
    let db = empty_database().await;
    let (ok, _, err) = stadtmauer(&db.url, &["migrate"]);
    assert!(ok, "{err}");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sh = |args: &[&str]| {
        let out = Command::new(args[0])
            .args(&args[1..])
            .current_dir(d)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    sh(&[
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=Test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    sh(&[
        "openssl",
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
    ]);
    std::fs::write(
        d.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    sh(&[
        "openssl",
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        "leaf.pem",
    ]);
    let www = d.join("www");
    let shared = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");
    // A KEV catalog newer than the shipped one.
    let mut kev: serde_json::Value = serde_json::from_slice(
        &std::fs::read(format!(
            "{shared}/cisa-kev/known_exploited_vulnerabilities.json"
        ))
        .unwrap(),
    )
    .unwrap();
    kev["dateReleased"] = "2026-11-20T12:00:00.000Z".into();
    std::fs::create_dir_all(www.join("eol/endoflife.date-master/products")).unwrap();
    std::fs::write(www.join("kev.json"), serde_json::to_vec(&kev).unwrap()).unwrap();
    for p in ["nginx", "postgresql"] {
        std::fs::copy(
            format!("{shared}/endoflife-date/products/{p}.md"),
            www.join(format!("eol/endoflife.date-master/products/{p}.md")),
        )
        .unwrap();
    }
    sh(&[
        "tar",
        "czf",
        "www/eol.tar.gz",
        "-C",
        "www/eol",
        "endoflife.date-master",
    ]);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let base = format!("https://127.0.0.1:{port}");
    let csaf = www.join(".well-known/csaf");
    std::fs::create_dir_all(csaf.join("white/2022")).unwrap();
    // The provider signs with an OpenPGP key made here by GnuPG. (s_server -WWW answers 200 even
    // for missing files, so every optional file — .sha256, .sha512, .asc — is present and valid.)
    let gnupg = d.join("gnupg");
    std::fs::create_dir_all(&gnupg).unwrap();
    let gpg = |args: &[&str]| {
        let out = Command::new("gpg")
            .env("GNUPGHOME", &gnupg)
            .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""])
            .args(args)
            .current_dir(d)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "gpg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    gpg(&[
        "--quick-gen-key",
        "Beispiel PSIRT <psirt@csaf.example>",
        "rsa2048",
        "sign",
        "2d",
    ]);
    let fpr = gpg(&["--with-colons", "--list-keys"])
        .lines()
        .find_map(|l| {
            l.strip_prefix("fpr:")
                .map(|r| r.trim_matches(':').to_string())
        })
        .unwrap();
    let key = gpg(&["--armor", "--export", &fpr]);
    std::fs::write(csaf.join("key.asc"), key).unwrap();
    std::fs::write(
        csaf.join("provider-metadata.json"),
        format!(
            r#"{{"canonical_url": "{base}/.well-known/csaf/provider-metadata.json",
            "distributions": [{{"directory_url": "{base}/.well-known/csaf/white/"}}],
            "last_updated": "2026-11-01T00:00:00Z", "list_on_CSAF_aggregators": false,
            "metadata_version": "2.0", "mirror_on_CSAF_aggregators": false,
            "public_openpgp_keys": [{{"fingerprint": "{fpr}", "url": "{base}/.well-known/csaf/key.asc"}}],
            "publisher": {{"category": "vendor", "name": "Beispiel PSIRT", "namespace": "https://csaf.example"}},
            "role": "csaf_provider"}}"#
        ),
    )
    .unwrap();
    let advisory = std::fs::read(format!(
        "{shared}/csaf-2.0/csaf_2.0/examples/csaf/bsi-2022-0001.json"
    ))
    .unwrap();
    let doc = csaf.join("white/2022/bsi-2022-0001.json");
    std::fs::write(csaf.join("white/index.txt"), "2022/bsi-2022-0001.json\n").unwrap();
    std::fs::write(&doc, &advisory).unwrap();
    std::fs::write(
        csaf.join("white/2022/bsi-2022-0001.json.sha256"),
        format!(
            "{}  bsi-2022-0001.json\n",
            hex::encode(Sha256::digest(&advisory))
        ),
    )
    .unwrap();
    std::fs::write(
        csaf.join("white/2022/bsi-2022-0001.json.sha512"),
        format!(
            "{}  bsi-2022-0001.json\n",
            hex::encode(sha2::Sha512::digest(&advisory))
        ),
    )
    .unwrap();
    gpg(&[
        "--armor",
        "--detach-sign",
        "-u",
        &fpr,
        "-o",
        &format!("{}.asc", doc.display()),
        &doc.display().to_string(),
    ]);
    let _ = Command::new("gpgconf")
        .env("GNUPGHOME", &gnupg)
        .args(["--kill", "gpg-agent"])
        .status();
    struct Kill(Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _server = Kill(
        Command::new("openssl")
            .args([
                "s_server",
                "-accept",
                &format!("127.0.0.1:{port}"),
                "-cert",
                "../leaf.pem",
                "-key",
                "../leaf.key",
                "-WWW",
                "-quiet",
            ])
            .current_dir(&www)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "s_server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let args = |ca: bool| {
        let mut a = vec![
            "feeds".to_string(),
            "update".into(),
            "--kev-url".into(),
            format!("{base}/kev.json"),
            "--eol-url".into(),
            format!("{base}/eol.tar.gz"),
            "--csaf-provider".into(),
            format!("{base}/.well-known/csaf/provider-metadata.json"),
        ];
        if ca {
            a.extend(["--ca".to_string(), d.join("ca.pem").display().to_string()]);
        }
        a
    };
    // Without the CA nothing is trusted, so nothing changes.
    let a = args(false);
    let (ok, out, err) = stadtmauer(&db.url, &a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!ok, "{out}");
    assert!(err.contains("3 feed(s) not updated"), "{err}");
    let (_, list, _) = stadtmauer(&db.url, &["feeds", "list"]);
    assert!(!list.contains("kev.json"), "{list}");
    let a = args(true);
    let (ok, out, err) = stadtmauer(&db.url, &a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(ok, "{out}\n{err}");
    assert_eq!(out.matches("Imported").count(), 3, "{out}");
    let (_, list, _) = stadtmauer(&db.url, &["feeds", "list"]);
    assert!(
        list.contains("kev.json") && list.contains("2026-11-20"),
        "{list}"
    );
    assert!(
        list.contains("eol.tar.gz") && list.contains("provider-metadata.json"),
        "{list}"
    );
}
