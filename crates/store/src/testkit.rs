//! A fresh, migrated database for tests: a SQLite file in a temporary directory, or, when
//! `STADTMAUER_TEST_DATABASE_URL` is set, a new PostgreSQL database created for the one test and
//! dropped afterwards.

#![allow(clippy::panic)]

use crate::Store;
use sqlx::Executor;

/// Keeps the temporary database alive; drops the PostgreSQL database when the test ends.
pub struct TestDb {
    pub url: String,
    _dir: Option<TempDir>,
    pg_admin: Option<(String, String)>,
}

/// A temporary directory removed on drop (without pulling a crate into the store for it).
pub struct TempDir(pub std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl TempDir {
    pub fn new() -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "stadtmauer-test-{}-{}",
            std::process::id(),
            stadtmauer_core::credentials::random_secret(9).replace(['-', '_'], "x")
        ));
        let _ = std::fs::create_dir_all(&p);
        TempDir(p)
    }
}

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg_admin.take() {
            // Drop on a separate runtime: the test's runtime may be shutting down.
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    rt.block_on(async {
                        if let Ok(pool) = sqlx::AnyPool::connect(&admin).await {
                            let _ = pool
                                .execute(
                                    format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
                                )
                                .await;
                        }
                    });
                }
            })
            .join();
        }
    }
}

/// The URL of a new, empty database (not yet migrated).
pub async fn empty_database() -> TestDb {
    sqlx::any::install_default_drivers();
    match std::env::var("STADTMAUER_TEST_DATABASE_URL") {
        Ok(admin) if !admin.is_empty() => {
            let name = format!(
                "stadtmauer_test_{}",
                stadtmauer_core::credentials::random_secret(9)
                    .to_lowercase()
                    .replace(['-', '_'], "x")
            );
            let pool = sqlx::AnyPool::connect(&admin)
                .await
                .unwrap_or_else(|e| panic!("STADTMAUER_TEST_DATABASE_URL unreachable: {e}"));
            pool.execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .unwrap_or_else(|e| panic!("cannot create test database: {e}"));
            pool.close().await;
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            TestDb {
                url: format!("{base}/{name}"),
                _dir: None,
                pg_admin: Some((admin, name)),
            }
        }
        _ => {
            let dir = TempDir::new();
            let url = format!("sqlite://{}", dir.0.join("test.sqlite3").display());
            TestDb {
                url,
                _dir: Some(dir),
                pg_admin: None,
            }
        }
    }
}

/// A new, migrated store.
pub async fn fresh_store() -> (Store, TestDb) {
    let db = empty_database().await;
    let store = Store::connect(&db.url)
        .await
        .unwrap_or_else(|e| panic!("cannot open test database: {e}"));
    store
        .migrate()
        .await
        .unwrap_or_else(|e| panic!("cannot migrate test database: {e}"));
    (store, db)
}

/// The first column of every row a query returns, as text (ids and keys for tests to aim at).
pub async fn column(store: &Store, sql: &str) -> Vec<String> {
    use sqlx::Row;
    sqlx::query(sql)
        .fetch_all(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|r| match r.try_get::<i64, _>(0) {
            Ok(i) => i.to_string(),
            Err(_) => r.try_get::<String, _>(0).unwrap_or_default(),
        })
        .collect()
}

/// Every stored row that belongs to these organisations or Verbünde (their records, objects,
/// links, software, members' accounts and tokens, the Verbünde's shared data), one string per
/// row and table: what the tenant-isolation test compares before and after an attack.
pub async fn tenant_rows(
    store: &Store,
    orgs: &[i64],
    verbuende: &[i64],
) -> std::collections::BTreeMap<String, Vec<String>> {
    use sqlx::{Column, Row};
    let list = |xs: &[i64]| {
        let s: Vec<String> = xs.iter().map(i64::to_string).collect();
        if s.is_empty() {
            "-1".to_string()
        } else {
            s.join(",")
        }
    };
    let (o, v) = (list(orgs), list(verbuende));
    let objects = format!("(SELECT id FROM inv_object WHERE organisation_id IN ({o}))");
    let users = format!("(SELECT user_id FROM membership WHERE organisation_id IN ({o}))");
    let mut queries: Vec<(String, String)> = vec![
        (
            "organisation".into(),
            format!("id IN ({o}) OR verbund_id IN ({v})"),
        ),
        (
            "inv_link".into(),
            format!("from_id IN {objects} OR to_id IN {objects}"),
        ),
        ("inv_software".into(), format!("object_id IN {objects}")),
        (
            "inv_provider_use".into(),
            format!("process_id IN {objects} OR provider_id IN {objects}"),
        ),
        ("app_user".into(), format!("id IN {users}")),
        ("verbund".into(), format!("id IN ({v})")),
    ];
    for t in [
        "contact",
        "membership",
        "inv_object",
        "sec_org_target",
        "sec_answer",
        "sec_evidence_file",
        "sec_snapshot",
        "sec_measure",
        "sec_measure_town",
        "upd_finding",
        "bcm_bia",
        "bcm_backup",
        "bcm_town",
        "bcm_export",
        "bcm_exercise",
        "bcm_measure",
        "cnc_profile",
        "cnc_year",
        "cnc_event",
        "cnc_finding",
    ] {
        queries.push((t.into(), format!("organisation_id IN ({o})")));
    }
    for t in [
        "sec_verbund_target",
        "sec_own_requirement",
        "upd_notify",
        "upd_alias",
        "sec_catalog",
    ] {
        queries.push((t.into(), format!("verbund_id IN ({v})")));
    }
    let mut out = std::collections::BTreeMap::new();
    let run = |table: String, sql: String| async move {
        let rows = sqlx::query(&sql)
            .fetch_all(store.pool())
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let mut lines: Vec<String> = rows
            .iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| {
                        let name = r.columns()[i].name().to_string();
                        let value = if let Ok(x) = r.try_get::<Option<i64>, _>(i) {
                            format!("{x:?}")
                        } else if let Ok(x) = r.try_get::<Option<String>, _>(i) {
                            format!("{x:?}")
                        } else if let Ok(x) = r.try_get::<Option<f64>, _>(i) {
                            format!("{x:?}")
                        } else if let Ok(x) = r.try_get::<Option<Vec<u8>>, _>(i) {
                            format!("{x:?}")
                        } else if let Ok(x) = r.try_get::<Option<bool>, _>(i) {
                            format!("{x:?}")
                        } else {
                            "?".to_string()
                        };
                        format!("{name}={value}")
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        lines.sort();
        (table, lines)
    };
    for (t, w) in queries {
        let sql = format!("SELECT * FROM {t} WHERE {w}");
        let (t, lines) = run(t, sql).await;
        out.insert(t, lines);
    }
    // Tokens: their use stamps `last_used_at`, which is not a change of the victim's data.
    let (t, lines) = run(
        "api_token".into(),
        format!(
            "SELECT id, user_id, name, read_only, expires_at, revoked_at FROM api_token \
             WHERE user_id IN {users}"
        ),
    )
    .await;
    out.insert(t, lines);
    out
}
