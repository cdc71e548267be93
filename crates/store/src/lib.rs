//! The only crate that speaks SQL.
//!
//! One sqlx `Any` pool serves SQLite (the embedded default) and PostgreSQL. Queries are written once
//! in the common dialect with `$n` placeholders, which both backends accept; the few differences
//! live in the migrations (see `migrations/README.md`) and in arms marked `Backend::`.
//!
//! Every method that reads or writes tenant data takes `&Scope` and filters by it; every write runs
//! in a [`WriteTx`] that appends to the audit chain in the same transaction.

pub mod audit;
pub mod backup;
mod cache;
pub mod continuity;
pub mod council;
pub mod inventory;
pub mod inventory_import;
pub mod orgs;
mod provider_use;
pub mod security;
pub mod sessions;
#[doc(hidden)]
pub mod testkit;
pub mod updates;
pub mod users;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Executor, Row, Transaction};
use stadtmauer_core::audit::Change;
use stadtmauer_core::validate::FieldErrors;
use stadtmauer_core::{DomainError, OrgId, Scope};
use std::time::Duration;

pub use stadtmauer_core::error::Result;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Why the store could not be opened or prepared. Shown on the console, so it says what to do.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("unsupported database URL (expected sqlite://… or postgres://…)")]
    UnsupportedUrl,
    #[error("cannot connect to the database: {0}")]
    Connect(sqlx::Error),
    #[error(
        "the database has schema version {found}, but this stadtmauer binary knows only up to {known}: \
it was written by a newer version. Start the newer version, or restore a backup made with this one."
    )]
    NewerSchema { found: i64, known: i64 },
    #[error("the database schema is not up to date (version {found}, expected {known}); run `stadtmauer migrate`")]
    NotMigrated { found: i64, known: i64 },
    #[error("migration failed, the database was left unchanged: {0}")]
    Migrate(sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Query(sqlx::Error),
    #[error("filling derived data after the migration failed: {0}")]
    Derive(DomainError),
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    cache: std::sync::Arc<cache::Cache>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Store {
    /// Opens the database. SQLite files are created when missing and run in WAL mode with full
    /// synchronisation, so a killed process never loses a committed write.
    pub async fn connect(url: &str) -> Result<Store, OpenError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(OpenError::UnsupportedUrl);
        };
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_string(),
        };
        let options = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = FULL").await?;
                        conn.execute("PRAGMA busy_timeout = 15000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                    }
                    Ok(())
                })
            });
        let pool = options.connect(&url).await.map_err(OpenError::Connect)?;
        Ok(Store {
            pool,
            backend,
            cache: Default::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// The newest schema version this binary knows.
    pub fn known_version(&self) -> i64 {
        self.migrator().iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// The schema version recorded in the database (0 when empty).
    pub async fn schema_version(&self) -> Result<i64, OpenError> {
        // The bookkeeping table does not exist in a fresh database; that is the only expected error.
        match sqlx::query("SELECT MAX(version) FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_one(&self.pool)
            .await
        {
            Ok(row) => Ok(row.try_get::<Option<i64>, _>(0).ok().flatten().unwrap_or(0)),
            Err(sqlx::Error::Database(_)) => Ok(0),
            Err(e) => Err(OpenError::Query(e)),
        }
    }

    /// Brings the schema up to date; refuses a database written by a newer binary.
    pub async fn migrate(&self) -> Result<(), OpenError> {
        let found = self.schema_version().await?;
        let known = self.known_version();
        if found > known {
            return Err(OpenError::NewerSchema { found, known });
        }
        self.migrator()
            .run(&self.pool)
            .await
            .map_err(OpenError::Migrate)?;
        // Derived data that a migration cannot compute in SQL alone.
        let fill = async {
            let mut tx = self.pool.begin().await.map_err(internal)?;
            provider_use::fill_if_new(&mut tx, self.backend).await?;
            tx.commit().await.map_err(internal)
        };
        fill.await.map_err(OpenError::Derive)
    }

    /// Checks, without changing anything, that the schema is exactly the binary's.
    pub async fn check_schema(&self) -> Result<(), OpenError> {
        let found = self.schema_version().await?;
        let known = self.known_version();
        if found > known {
            return Err(OpenError::NewerSchema { found, known });
        }
        if found < known {
            return Err(OpenError::NotMigrated { found, known });
        }
        Ok(())
    }

    /// Starts a write. The first statement takes the audit head's row, which serialises writers on
    /// both backends (SQLite's write lock, PostgreSQL's row lock): the audit chain's order is the
    /// commit order, and SQLite never has to upgrade a read lock (which would fail with "busy").
    pub async fn begin_write<'s>(&self, scope: &'s Scope) -> Result<WriteTx<'s>> {
        let mut tx = self.pool.begin().await.map_err(internal)?;
        sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1")
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
        Ok(WriteTx { tx, scope })
    }

    /// The audit head's sequence number: it changes with every write, anywhere.
    pub async fn audit_seq(&self) -> Result<i64> {
        sqlx::query("SELECT seq FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(internal)?
            .try_get(0)
            .map_err(internal)
    }

    /// A quick liveness check for `/healthz`.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").fetch_one(&self.pool).await.is_ok()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A write transaction that records what it changes in the audit chain before it commits.
pub struct WriteTx<'s> {
    pub(crate) tx: Transaction<'static, Any>,
    pub(crate) scope: &'s Scope,
}

impl WriteTx<'_> {
    pub(crate) async fn audit(
        &mut self,
        organisation_id: Option<OrgId>,
        action: &str,
        entity: &str,
        entity_id: impl ToString,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> Result<()> {
        let change = Change {
            actor_id: (self.scope.user.0 > 0).then_some(self.scope.user),
            actor: self.scope.name.clone(),
            organisation_id,
            action: action.to_string(),
            entity: entity.to_string(),
            entity_id: entity_id.to_string(),
            before,
            after,
        };
        audit::append(&mut self.tx, &change).await
    }

    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await.map_err(internal)
    }
}

/// Logs the cause and returns a generic internal error; database messages can contain data and
/// are never shown to the user.
pub(crate) fn internal(e: impl std::fmt::Display) -> DomainError {
    tracing::error!(error = %e, "database error");
    DomainError::Internal("database error".into())
}

/// Maps a unique-constraint violation to a conflict on `field`, everything else to [`internal`].
pub(crate) fn unique_or_internal(field: &'static str) -> impl Fn(sqlx::Error) -> DomainError {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            let mut errs = FieldErrors::default();
            errs.add(field, "err.already_exists");
            DomainError::Conflict(errs)
        }
        _ => internal(e),
    }
}

/// `(1,2,3)` for an `IN` clause. The ids come from a resolved [`Scope`] and are integers, so
/// formatting them into the SQL cannot inject anything; `(NULL)` matches no row.
pub(crate) fn id_list(ids: impl IntoIterator<Item = i64>) -> String {
    let list: Vec<String> = ids.into_iter().map(|i| i.to_string()).collect();
    if list.is_empty() {
        "(NULL)".to_string()
    } else {
        format!("({})", list.join(","))
    }
}

pub(crate) fn flag(row: &AnyRow, col: &str) -> bool {
    row.try_get::<i64, _>(col).map(|v| v != 0).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_in_step() {
        let names = |dir: &str| {
            let mut v: Vec<String> =
                std::fs::read_dir(format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR")))
                    .unwrap()
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect();
            v.sort();
            v
        };
        assert_eq!(names("sqlite"), names("postgres"));
    }

    #[test]
    fn id_lists() {
        assert_eq!(super::id_list([]), "(NULL)");
        assert_eq!(super::id_list([3, 1]), "(3,1)");
    }
}
