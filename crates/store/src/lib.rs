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
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Executor, Row};
use stadtmauer_core::audit::Change;
use stadtmauer_core::error::Unavailable;
use stadtmauer_core::validate::FieldErrors;
use stadtmauer_core::{DomainError, OrgId, Scope};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

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

/// How long a writer waits for another write (in this process, or in another one through the
/// database's own lock) before it is told "busy, try again" (503). Reads never wait for writers.
pub const WRITE_WAIT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    cache: std::sync::Arc<cache::Cache>,
    /// Writers of this process queue here, one at a time, without holding a pooled connection
    /// while they wait: a long import can never fill the pool and starve the readers.
    write_gate: Arc<Semaphore>,
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
                        // Across processes: wait as long as a writer of this process would.
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
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
            write_gate: Arc::new(Semaphore::new(1)),
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

    /// Starts a write. Writers of this process queue at the write gate (at most [`WRITE_WAIT`]),
    /// then the transaction is begun by hand — `BEGIN IMMEDIATE` on SQLite takes the write lock
    /// at once — and its first statement takes the audit head's row, which serialises writers of
    /// all processes (SQLite's write lock, PostgreSQL's row lock, both bounded by the same wait):
    /// the audit chain's order is the commit order, and SQLite never has to upgrade a read lock.
    ///
    /// The transaction is not sqlx's: a failed statement or commit must never leave a half-open
    /// transaction on a pooled connection (after "disk full", SQLite may roll back by itself, and
    /// sqlx's bookkeeping would then turn the next `BEGIN` into a savepoint that never commits).
    /// So a [`WriteTx`] that is not committed, or whose commit failed, closes its connection
    /// instead of returning it to the pool.
    pub async fn begin_write<'s>(&self, scope: &'s Scope) -> Result<WriteTx<'s>> {
        let permit =
            match tokio::time::timeout(WRITE_WAIT, self.write_gate.clone().acquire_owned()).await {
                Ok(Ok(p)) => p,
                Ok(Err(_)) => return Err(DomainError::Internal("write gate closed".into())),
                Err(_) => {
                    tracing::warn!("a writer waited {WRITE_WAIT:?} for another write; busy");
                    return Err(DomainError::Unavailable(Unavailable::Busy));
                }
            };
        let conn = self.pool.acquire().await.map_err(internal)?;
        let mut tx = WriteConn {
            conn,
            committed: false,
            head: None,
        };
        let begin = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        sqlx::query(begin)
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
        if self.backend == Backend::Postgres {
            // Another process's long write makes this one wait at most WRITE_WAIT (55P03 → busy).
            sqlx::query(&format!(
                "SET LOCAL lock_timeout = '{}ms'",
                WRITE_WAIT.as_millis()
            ))
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
        }
        sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1")
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
        Ok(WriteTx {
            tx,
            scope,
            _permit: permit,
        })
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

/// A connection with a transaction begun by hand (see [`Store::begin_write`]). Dereferences to
/// the connection, so statements run as `.execute(&mut *w.tx)`.
pub(crate) struct WriteConn {
    conn: PoolConnection<Any>,
    committed: bool,
    /// The audit head after this transaction's last entry, logged once it is committed.
    pub(crate) head: Option<(i64, String)>,
}

impl std::ops::Deref for WriteConn {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for WriteConn {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }
}

impl Drop for WriteConn {
    fn drop(&mut self) {
        if !self.committed {
            // Dropped on an error path: closing the connection rolls the transaction back
            // (SQLite closes the handle, PostgreSQL ends the session), and nothing half-open
            // goes back into the pool.
            self.conn.close_on_drop();
        }
    }
}

impl WriteConn {
    async fn commit(&mut self) -> Result<()> {
        sqlx::query("COMMIT")
            .execute(&mut **self)
            .await
            .map_err(internal)?;
        self.committed = true;
        if let Some((seq, hash)) = &self.head {
            // The head outside the database: `audit verify --expect HASH` finds a truncation
            // that rewound the head in the database too.
            tracing::info!(target: "stadtmauer::audit", audit_seq = seq, audit_head = %hash, "audit head");
        }
        Ok(())
    }
}

/// A write transaction that records what it changes in the audit chain before it commits.
pub struct WriteTx<'s> {
    pub(crate) tx: WriteConn,
    pub(crate) scope: &'s Scope,
    /// Held until the transaction ends: the next writer of this process waits for it.
    _permit: OwnedSemaphorePermit,
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

    /// Records a change of shared data in its owner's log: a Verbund's under its office (every
    /// office officer and auditor of the Verbund reads it), the installation's without an
    /// organisation, readable by everyone (see `audit::SHARED_ENTITIES`).
    pub(crate) async fn audit_owner(
        &mut self,
        owner: stadtmauer_core::Owner,
        action: &str,
        entity: &str,
        entity_id: impl ToString,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> Result<()> {
        debug_assert!(
            audit::SHARED_ENTITIES.contains(&entity)
                || owner != stadtmauer_core::Owner::Installation,
            "installation-wide entity {entity} must be listed in SHARED_ENTITIES"
        );
        let org = match owner {
            stadtmauer_core::Owner::Installation => None,
            stadtmauer_core::Owner::Verbund(v) => sqlx::query(
                "SELECT id FROM organisation WHERE verbund_id = $1 AND is_office = 1 ORDER BY id LIMIT 1",
            )
            .bind(v.0)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(internal)?
            .map(|r| r.try_get::<i64, _>(0).map(OrgId))
            .transpose()
            .map_err(internal)?,
        };
        self.audit(org, action, entity, entity_id, before, after)
            .await
    }

    /// Commits; only when this returns `Ok` is the write acknowledged. On an error the
    /// connection is closed, which rolls back whatever the database had not already undone.
    pub async fn commit(mut self) -> Result<()> {
        self.tx.commit().await
    }
}

/// Logs the cause and returns a generic internal error; database messages can contain data and
/// are never shown to the user. A full disk and a busy database are not internal errors: they
/// become [`DomainError::Unavailable`] (503, "try again"), with nothing changed.
pub(crate) fn internal<E: std::fmt::Display + 'static>(e: E) -> DomainError {
    if let Some(why) = unavailable(&e) {
        tracing::warn!(error = %e, ?why, "database unavailable");
        return DomainError::Unavailable(why);
    }
    tracing::error!(error = %e, "database error");
    DomainError::Internal("database error".into())
}

/// Whether a database error means "not now" rather than "broken": SQLite's result codes
/// (FULL 13; BUSY 5 and LOCKED 6 with their extended codes) and PostgreSQL's SQLSTATEs (class 53
/// insufficient resources, 55P03 lock timeout, 57014 statement cancelled, 40001/40P01), and a pool
/// that had no connection free in time.
fn unavailable(e: &dyn std::any::Any) -> Option<Unavailable> {
    let e = e.downcast_ref::<sqlx::Error>()?;
    match e {
        sqlx::Error::PoolTimedOut => Some(Unavailable::Busy),
        sqlx::Error::Database(db) => {
            let code = db.code()?;
            let postgres = db
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .is_some();
            if !postgres {
                // SQLite: the extended code; the primary code is its low byte.
                let n = code.parse::<i64>().ok()?;
                return match n & 0xff {
                    13 => Some(Unavailable::StorageFull),
                    5 | 6 => Some(Unavailable::Busy),
                    _ => None,
                };
            }
            match code.as_ref() {
                "53100" => Some(Unavailable::StorageFull),
                "55P03" | "57014" | "40001" | "40P01" | "53300" => Some(Unavailable::Busy),
                c if c.starts_with("53") => Some(Unavailable::Busy),
                _ => None,
            }
        }
        _ => None,
    }
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

/// `migrations_are_in_step`: both migration trees build the same schema, file by file.
#[cfg(test)]
mod migration_sync;

#[cfg(test)]
mod tests {
    #[test]
    fn id_lists() {
        assert_eq!(super::id_list([]), "(NULL)");
        assert_eq!(super::id_list([3, 1]), "(3,1)");
    }
}
