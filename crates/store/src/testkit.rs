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
