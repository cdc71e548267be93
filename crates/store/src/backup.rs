//! Backup and restore in a portable format: JSON lines, one table after another, read in one
//! snapshot (consistent while the server keeps writing) and closed by a SHA-256 over everything
//! before it. The same file restores into SQLite or PostgreSQL, so it also moves an installation
//! from the embedded database to a server.

use crate::{internal, Backend, Result, Store};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::Row;
use stadtmauer_core::DomainError;
use std::io::{BufRead, BufReader, Cursor, Read, Seek, SeekFrom, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Int,
    Text,
}

/// Every table that holds data worth keeping, parents before children, with its columns. Sessions
/// and login throttles are left out on purpose: after a restore everybody logs in again.
/// `backup_covers_every_table` fails when a migration adds a table that is not listed here.
/// The columns of one table with their kinds.
type Columns = &'static [(&'static str, Col)];

const TABLES: &[(&str, Columns)] = {
    use Col::*;
    &[
        (
            "verbund",
            &[("id", Int), ("name", Text), ("created_at", Int)],
        ),
        (
            "organisation",
            &[
                ("id", Int),
                ("verbund_id", Int),
                ("name", Text),
                ("kind", Text),
                ("is_office", Int),
                ("ags", Text),
                ("inhabitants", Int),
                ("staff", Int),
                ("workstations", Int),
                ("email", Text),
                ("phone", Text),
                ("address", Text),
                ("created_at", Int),
                ("updated_at", Int),
            ],
        ),
        (
            "contact",
            &[
                ("id", Int),
                ("organisation_id", Int),
                ("function", Text),
                ("name", Text),
                ("email", Text),
                ("phone", Text),
                ("created_at", Int),
            ],
        ),
        (
            "app_user",
            &[
                ("id", Int),
                ("email", Text),
                ("display_name", Text),
                ("password_hash", Text),
                ("is_admin", Int),
                ("totp_secret", Text),
                ("totp_pending", Text),
                ("totp_last_step", Int),
                ("language", Text),
                ("disabled", Int),
                ("created_at", Int),
                ("updated_at", Int),
            ],
        ),
        (
            "membership",
            &[
                ("id", Int),
                ("user_id", Int),
                ("organisation_id", Int),
                ("role", Text),
                ("valid_until", Int),
                ("created_at", Int),
            ],
        ),
        (
            "api_token",
            &[
                ("id", Int),
                ("user_id", Int),
                ("name", Text),
                ("token_hash", Text),
                ("read_only", Int),
                ("created_at", Int),
                ("last_used_at", Int),
                ("expires_at", Int),
                ("revoked_at", Int),
            ],
        ),
        (
            "inv_object",
            &[
                ("id", Int),
                ("organisation_id", Int),
                ("kind", Text),
                ("name", Text),
                ("description", Text),
                ("owner", Text),
                ("status", Text),
                ("data_personal", Int),
                ("data_special", Int),
                ("data_classified", Int),
                ("vendor", Text),
                ("product", Text),
                ("version", Text),
                ("operating_model", Text),
                ("vendor_country", Text),
                ("system_type", Text),
                ("item_count", Int),
                ("contract", Text),
                ("contact", Text),
                ("shared", Int),
                ("own_c", Int),
                ("own_i", Int),
                ("own_a", Int),
                ("ovr_c", Int),
                ("ovr_i", Int),
                ("ovr_a", Int),
                ("ovr_reason", Text),
                ("eff_c", Int),
                ("eff_i", Int),
                ("eff_a", Int),
                ("via_c", Int),
                ("via_i", Int),
                ("via_a", Int),
                ("created_at", Int),
                ("updated_at", Int),
            ],
        ),
        (
            "inv_link",
            &[
                ("id", Int),
                ("from_id", Int),
                ("to_id", Int),
                ("created_at", Int),
            ],
        ),
        (
            "inv_software",
            &[
                ("id", Int),
                ("object_id", Int),
                ("product", Text),
                ("version", Text),
                ("created_at", Int),
            ],
        ),
        // Security level (store/src/security.rs) — its tables go here.
        (
            "sec_catalog",
            &[
                ("id", Int),
                ("kind", Text),
                ("uuid", Text),
                ("title", Text),
                ("version", Text),
                ("file_name", Text),
                ("sha256", Text),
                ("requirements", Int),
                ("previous", Text),
                ("flagged", Int),
                ("content", Text),
                ("resolved", Text),
                ("created_at", Int),
                ("verbund_id", Int),
            ],
        ),
        (
            "sec_own_requirement",
            &[
                ("id", Int),
                ("verbund_id", Int),
                ("code", Text),
                ("practice", Text),
                ("title", Text),
                ("statement", Text),
                ("guidance", Text),
                ("sec_level", Text),
                ("effort_level", Int),
                ("target_category", Text),
                ("created_at", Int),
                ("updated_at", Int),
            ],
        ),
        (
            "sec_verbund_target",
            &[("verbund_id", Int), ("target", Text), ("updated_at", Int)],
        ),
        (
            "sec_org_target",
            &[
                ("organisation_id", Int),
                ("target", Text),
                ("updated_at", Int),
            ],
        ),
        (
            "sec_answer",
            &[
                ("id", Int),
                ("organisation_id", Int),
                ("requirement_id", Text),
                ("object_id", Int),
                ("status", Text),
                ("reason", Text),
                ("note", Text),
                ("responsible", Text),
                ("assessed_on", Text),
                ("review_by", Text),
                ("evidence", Text),
                ("needs_review", Int),
                ("updated_at", Int),
            ],
        ),
        (
            "sec_evidence_file",
            &[
                ("id", Int),
                ("organisation_id", Int),
                ("sha256", Text),
                ("name", Text),
                ("media_type", Text),
                ("size", Int),
                ("content", Text),
                ("created_at", Int),
            ],
        ),
        (
            "sec_snapshot",
            &[
                ("id", Int),
                ("organisation_id", Int),
                ("taken_on", Text),
                ("target", Text),
                ("practices", Text),
                ("created_at", Int),
            ],
        ),
        (
            "sec_measure",
            &[
                ("id", Int),
                ("organisation_id", Int),
                ("title", Text),
                ("description", Text),
                ("requirement_id", Text),
                ("objects", Text),
                ("owner", Text),
                ("deadline", Text),
                ("priority", Text),
                ("cost_eur", Int),
                ("effort_tenths", Int),
                ("created_at", Int),
                ("updated_at", Int),
            ],
        ),
        (
            "sec_measure_town",
            &[
                ("id", Int),
                ("measure_id", Int),
                ("organisation_id", Int),
                ("status", Text),
                ("updated_at", Int),
            ],
        ),
        // Update watch (store/src/updates.rs) — its tables go here.
        (
            "upd_feed",
            &[
                ("id", Int),
                ("kind", Text),
                ("source", Text),
                ("snapshot", Text),
                ("sha256", Text),
                ("content", Text),
                ("counts", Text),
                ("active", Int),
                ("imported_at", Int),
                ("imported_by", Text),
            ],
        ),
        (
            "upd_alias",
            &[
                ("id", Int),
                ("pattern", Text),
                ("product_key", Text),
                ("cycle", Text),
                ("created_at", Int),
                ("created_by", Text),
                ("verbund_id", Int),
            ],
        ),
        (
            "upd_finding",
            &[
                ("id", Int),
                ("organisation_id", Int),
                ("object_id", Int),
                ("inst", Text),
                ("kind", Text),
                ("product_key", Text),
                ("version", Text),
                ("detail", Text),
                ("published", Text),
                ("first_seen", Int),
                ("resolved_at", Int),
                ("latency_days", Int),
                ("owner", Text),
                ("due", Text),
                ("status", Text),
                ("exc_reason", Text),
                ("exc_approver", Text),
                ("exc_until", Text),
                ("updated_at", Int),
            ],
        ),
        (
            "upd_notify",
            &[
                ("verbund_id", Int),
                ("webhook_url", Text),
                ("email", Text),
                ("updated_at", Int),
            ],
        ),
        // Continuity (store/src/continuity.rs) — its tables go here.
        (
            "bcm_bia",
            &[
                ("process_id", Int),
                ("organisation_id", Int),
                ("data", Text),
                ("updated_at", Int),
            ],
        ),
        (
            "bcm_backup",
            &[
                ("id", Int),
                ("organisation_id", Int),
                ("data", Text),
                ("updated_at", Int),
            ],
        ),
        (
            "bcm_town",
            &[
                ("organisation_id", Int),
                ("checklist", Text),
                ("contacts", Text),
                ("data_revision", Int),
                ("updated_at", Int),
            ],
        ),
        (
            "bcm_export",
            &[
                ("id", Int),
                ("organisation_id", Int),
                ("version", Int),
                ("data_revision", Int),
                ("format", Text),
                ("checksum", Text),
                ("created_at", Int),
                ("created_by", Text),
            ],
        ),
        (
            "bcm_exercise",
            &[
                ("id", Int),
                ("organisation_id", Int),
                ("data", Text),
                ("updated_at", Int),
            ],
        ),
        (
            "bcm_measure",
            &[
                ("id", Int),
                ("organisation_id", Int),
                ("exercise_id", Int),
                ("data", Text),
                ("created_at", Int),
            ],
        ),
        // Council (store/src/council.rs) — its tables go here.
        (
            "cnc_profile",
            &[
                ("organisation_id", Int),
                ("isb_appointed", Int),
                ("isb_deputy", Int),
                ("team_size", Int),
                ("qualifications", Text),
                ("standard", Text),
                ("guideline_adopted_by", Text),
                ("guideline_adopted_on", Text),
                ("guideline_review_on", Text),
                ("emergency_plan", Int),
                ("emergency_offices", Text),
                ("phone_fallback", Int),
                ("hours_without_it", Int),
                ("mfa_remote", Text),
                ("mfa_email", Text),
                ("mfa_admin", Text),
                ("insurance", Int),
                ("insurer", Text),
                ("insurance_sum", Int),
                ("updated_at", Int),
            ],
        ),
        (
            "cnc_year",
            &[
                ("id", Int),
                ("organisation_id", Int),
                ("year", Int),
                ("budget", Int),
                ("spent", Int),
                ("incidents", Int),
                ("updated_at", Int),
            ],
        ),
        (
            "cnc_event",
            &[
                ("id", Int),
                ("organisation_id", Int),
                ("kind", Text),
                ("held_on", Text),
                ("party", Text),
                ("topic", Text),
                ("result", Text),
                ("participants", Int),
                ("created_at", Int),
            ],
        ),
        (
            "cnc_finding",
            &[
                ("id", Int),
                ("organisation_id", Int),
                ("event_id", Int),
                ("title", Text),
                ("severity", Text),
                ("status", Text),
                ("created_at", Int),
            ],
        ),
        ("audit_head", &[("id", Int), ("seq", Int), ("hash", Text)]),
        (
            "audit_log",
            &[
                ("seq", Int),
                ("at", Int),
                ("actor_id", Int),
                ("actor", Text),
                ("organisation_id", Int),
                ("action", Text),
                ("entity", Text),
                ("entity_id", Text),
                ("before_json", Text),
                ("after_json", Text),
                ("prev_hash", Text),
                ("hash", Text),
            ],
        ),
    ]
};

/// Tables deliberately not in a backup.
const TRANSIENT: &[&str] = &[
    "user_session",
    "login_throttle",
    "server_key",
    "_sqlx_migrations",
];

/// Tables derived from the others: not in the backup, rebuilt by the restore.
const DERIVED: &[&str] = &["inv_provider_use"];

const FORMAT: &str = "stadtmauer-backup";

/// What a backup or restore did.
#[derive(Debug, Clone, Default)]
pub struct BackupSummary {
    pub rows: u64,
    pub schema_version: i64,
    pub sha256: String,
    /// The audit chain's head in the backup (sequence number, hash); `None` from a restore.
    pub audit_head: Option<(i64, String)>,
}

/// Why a restore was refused. Nothing has been written when one of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("line {line}: {message}")]
    Format { line: usize, message: String },
    #[error("the checksum does not match: the file is damaged or was edited")]
    Checksum,
    #[error("the file changed while it was being restored")]
    Changed,
    #[error("the backup has schema version {backup}, this database has {database}; restore with the stadtmauer version that made the backup, then upgrade")]
    SchemaMismatch { backup: i64, database: i64 },
    #[error("the target database already holds data; restore into an empty database or pass --force to replace it")]
    NotEmpty,
    #[error("reading the file failed: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] DomainError),
}

struct HashingWriter<W: Write> {
    inner: W,
    hash: Sha256,
}

impl<W: Write> HashingWriter<W> {
    /// Writes one line; refuses one that a restore would refuse ([`MAX_LINE_BYTES`]).
    fn line(&mut self, v: &Value) -> std::io::Result<()> {
        let mut s = v.to_string();
        if s.len() > MAX_LINE_BYTES {
            return Err(std::io::Error::other(format!(
                "the line takes {} bytes, more than a restore reads ({MAX_LINE_BYTES} bytes)",
                s.len()
            )));
        }
        s.push('\n');
        self.hash.update(s.as_bytes());
        self.inner.write_all(s.as_bytes())
    }
}

impl Store {
    /// Writes a consistent backup of the whole installation.
    pub async fn backup(
        &self,
        out: impl Write,
        mut progress: impl FnMut(u64),
    ) -> Result<BackupSummary> {
        let schema_version = self.schema_version().await.map_err(internal)?;
        let mut w = HashingWriter {
            inner: out,
            hash: Sha256::new(),
        };
        let io =
            |e: std::io::Error| DomainError::Internal(format!("writing the backup failed: {e}"));
        // One read transaction: SQLite's WAL and PostgreSQL's REPEATABLE READ both give a snapshot.
        let mut tx = self.pool.begin().await.map_err(internal)?;
        if self.backend == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .execute(&mut *tx)
                .await
                .map_err(internal)?;
        }
        // The audit head of this snapshot, in the header: a copy kept outside the database for
        // `audit verify --expect HASH`.
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&mut *tx)
            .await
            .map_err(internal)?;
        let audit_seq: i64 = head.try_get(0).map_err(internal)?;
        let audit_head: String = head.try_get(1).map_err(internal)?;
        w.line(&json!({"format": FORMAT, "version": 1, "schema_version": schema_version, "created_at": stadtmauer_core::now(), "audit_seq": audit_seq, "audit_head": audit_head}))
            .map_err(io)?;
        let mut rows_total = 0u64;
        for (table, cols) in TABLES {
            let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
            w.line(&json!({"table": table, "columns": names}))
                .map_err(io)?;
            let key = names[0];
            let rows = sqlx::query(&format!(
                "SELECT {} FROM {table} ORDER BY {key}",
                names.join(", ")
            ))
            .fetch_all(&mut *tx)
            .await
            .map_err(internal)?;
            for r in rows {
                let mut vals = Vec::with_capacity(cols.len());
                for (i, (_, ty)) in cols.iter().enumerate() {
                    let v = match ty {
                        Col::Int => json!(r.try_get::<Option<i64>, _>(i).map_err(internal)?),
                        Col::Text => json!(r.try_get::<Option<String>, _>(i).map_err(internal)?),
                    };
                    vals.push(v);
                }
                let key = vals.first().cloned().unwrap_or_default();
                w.line(&Value::Array(vals))
                    .map_err(|e| io(std::io::Error::other(format!("{table} {key}: {e}"))))?;
                rows_total += 1;
                if rows_total.is_multiple_of(1000) {
                    progress(rows_total);
                }
            }
        }
        tx.rollback().await.map_err(internal)?;
        let digest = hex::encode(w.hash.clone().finalize());
        let end = json!({"end": true, "rows": rows_total, "sha256": digest});
        w.inner
            .write_all(format!("{end}\n").as_bytes())
            .map_err(io)?;
        w.inner.flush().map_err(io)?;
        progress(rows_total);
        Ok(BackupSummary {
            rows: rows_total,
            schema_version,
            sha256: digest,
            audit_head: Some((audit_seq, audit_head)),
        })
    }

    /// Restores a backup in one transaction: either everything is restored or nothing changes.
    /// The database must be migrated to the backup's schema version and, unless `force`, empty.
    ///
    /// The file is read twice, line by line, and never held in memory: the first pass checks all
    /// of it (checksum, header, tables, columns, value types; [`parse_backup`]) before the database
    /// is touched, the second inserts row by row and checks the checksum again, so a file changed
    /// between the passes is rolled back. Memory is bounded by the longest line
    /// ([`MAX_LINE_BYTES`]), not by the size of the file.
    pub async fn restore(
        &self,
        mut input: impl BackupFile,
        force: bool,
        mut progress: impl FnMut(u64),
    ) -> Result<BackupSummary, RestoreError> {
        // Check the whole file before touching the database.
        let checked = parse_backup(input.read_from_start()?)?;
        let database = self.schema_version().await.map_err(internal)?;
        if checked.schema_version != database {
            return Err(RestoreError::SchemaMismatch {
                backup: checked.schema_version,
                database,
            });
        }
        let count = |table: &'static str| {
            let pool = &self.pool;
            async move {
                sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
                    .fetch_one(pool)
                    .await
                    .map_err(internal)?
                    .try_get::<i64, _>(0)
                    .map_err(internal)
            }
        };
        let existing =
            count("organisation").await? + count("app_user").await? + count("audit_log").await?;
        if existing > 0 && !force {
            return Err(RestoreError::NotEmpty);
        }

        let mut tx = self.pool.begin().await.map_err(internal)?;
        let written = async {
            let reader = input.read_from_start()?;
            let rows = self
                .restore_rows(&mut tx, reader, &checked, &mut progress)
                .await?;
            crate::provider_use::rebuild(&mut tx, self.backend, None).await?;
            Ok::<u64, RestoreError>(rows)
        }
        .await;
        let rows = match written {
            Ok(rows) => rows,
            Err(e) => {
                // Dropping would roll back too; rolling back here returns a clean connection.
                let _ = tx.rollback().await;
                return Err(e);
            }
        };
        tx.commit().await.map_err(internal)?;
        progress(rows);
        Ok(BackupSummary {
            rows,
            schema_version: checked.schema_version,
            sha256: checked.sha256,
            audit_head: None,
        })
    }

    /// The second pass of [`Store::restore`]: wipes the tables and inserts the file's rows one by
    /// one inside `tx`, then checks that the file is still the one the first pass checked.
    async fn restore_rows(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        input: impl BufRead,
        checked: &ParsedBackup,
        progress: &mut impl FnMut(u64),
    ) -> Result<u64, RestoreError> {
        let wipe = TABLES
            .iter()
            .rev()
            .map(|t| t.0)
            .chain(TRANSIENT.iter().copied().filter(|t| !t.starts_with('_')))
            .chain(DERIVED.iter().copied());
        for table in wipe {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut **tx)
                .await
                .map_err(internal)?;
        }
        let mut lines = Lines::new(input, MAX_LINE_BYTES);
        let mut hash = Sha256::new();
        let mut tables = TableState::default();
        let mut insert: Option<(usize, String)> = None;
        let mut rows = 0u64;
        loop {
            let parsed = {
                let Some((line_no, line)) = lines.next_line()? else {
                    // Shorter than when it was checked.
                    return Err(RestoreError::Changed);
                };
                if line_no == checked.lines {
                    break; // the checksum line, not part of the checksum
                }
                hash.update(line.as_bytes());
                hash.update(b"\n");
                if line_no == 1 {
                    continue; // the header, checked in the first pass
                }
                serde_json::from_str::<Value>(line)
                    .map_err(|e| format_error(line_no, &format!("invalid JSON: {e}")))?
            };
            let line_no = lines.line;
            // The values are parsed: a long line's buffer need not stay beside them and the
            // database's copy of them.
            lines.release_long();
            match tables.check(line_no, parsed)? {
                Body::Table(t) => {
                    let (name, cols) = TABLES[t];
                    let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
                    let placeholders: Vec<String> =
                        (1..=names.len()).map(|n| format!("${n}")).collect();
                    let sql = format!(
                        "INSERT INTO {name} ({}) VALUES ({})",
                        names.join(", "),
                        placeholders.join(", ")
                    );
                    insert = Some((t, sql));
                }
                Body::Row(vals) => {
                    let Some((t, sql)) = &insert else {
                        return Err(format_error(line_no, "a row before any table"));
                    };
                    let (name, cols) = TABLES[*t];
                    let mut q = sqlx::query(sql);
                    for (val, (_, ty)) in vals.into_iter().zip(cols.iter()) {
                        // Types were checked by `TableState::check`.
                        q = match (ty, val) {
                            (Col::Int, Value::Number(n)) => q.bind(n.as_i64()),
                            (Col::Int, _) => q.bind(None::<i64>),
                            (Col::Text, Value::String(s)) => q.bind(s),
                            (Col::Text, _) => q.bind(None::<String>),
                        };
                    }
                    q.execute(&mut **tx)
                        .await
                        .map_err(|e| RestoreError::Format {
                            line: line_no,
                            message: format!("{name}: {}", short_db_error(&e)),
                        })?;
                    rows += 1;
                    if rows.is_multiple_of(1000) {
                        progress(rows);
                    }
                }
            }
        }
        // Nothing may follow the checksum line, and what came before must be what was checked.
        if lines.next_line()?.is_some() || hex::encode(hash.finalize()) != checked.sha256 {
            return Err(RestoreError::Changed);
        }
        if self.backend == Backend::Postgres {
            // Identity columns do not follow explicitly inserted ids by themselves.
            for (table, cols) in TABLES {
                if cols[0].0 == "id" && *table != "audit_head" {
                    sqlx::query(&format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                    ))
                    .execute(&mut **tx)
                    .await
                    .map_err(internal)?;
                }
            }
        }
        Ok(rows)
    }

    /// Every table of the schema, for the test that keeps [`TABLES`] complete.
    pub async fn table_names(&self) -> Result<Vec<String>> {
        let sql = match self.backend {
            Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            Backend::Postgres => "SELECT CAST(tablename AS TEXT) AS name FROM pg_tables WHERE schemaname = current_schema()",
        };
        let rows = sqlx::query(sql)
            .fetch_all(&self.pool)
            .await
            .map_err(internal)?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0).map_err(internal))
            .collect()
    }
}

/// The kind of database error without the values that caused it.
fn short_db_error(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => "duplicate key".into(),
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            "reference to a missing row".into()
        }
        _ => "rejected by the database".into(),
    }
}

/// Tables listed in a backup and tables deliberately left out.
pub fn covered_tables() -> Vec<&'static str> {
    TABLES
        .iter()
        .map(|t| t.0)
        .chain(TRANSIENT.iter().copied())
        .chain(DERIVED.iter().copied())
        .collect()
}

/// The longest line a restore reads, without its line end: the bound on a restore's memory, which
/// keeps a few times this much at most, however large the file (the line, the JSON parser's copy
/// of an escaped string and the parsed values; then the values and the database's copy of them). A longer line is refused by its number as soon as it crosses the limit.
/// [`Store::backup`] refuses to write a longer line, so every backup it writes can be restored.
/// Generous on purpose: a feed stored whole (`upd_feed.content`, up to 64 MiB uploaded, escaped
/// twice in the file) must fit.
pub const MAX_LINE_BYTES: usize = 256 * 1024 * 1024;

/// A backup file that can be read more than once: [`Store::restore`] checks all of it before it
/// writes, then reads it again. Files (plain or in a `BufReader`), cursors and byte slices are.
pub trait BackupFile {
    /// A reader of the file from its start.
    type Reader<'a>: BufRead
    where
        Self: 'a;

    /// The file from its first byte.
    fn read_from_start(&mut self) -> std::io::Result<Self::Reader<'_>>;
}

impl<R: Read + Seek> BackupFile for BufReader<R> {
    type Reader<'a>
        = &'a mut BufReader<R>
    where
        Self: 'a;

    fn read_from_start(&mut self) -> std::io::Result<Self::Reader<'_>> {
        self.seek(SeekFrom::Start(0))?;
        Ok(self)
    }
}

impl BackupFile for std::fs::File {
    type Reader<'a> = BufReader<&'a std::fs::File>;

    fn read_from_start(&mut self) -> std::io::Result<Self::Reader<'_>> {
        self.seek(SeekFrom::Start(0))?;
        Ok(BufReader::new(&*self))
    }
}

impl<T: AsRef<[u8]>> BackupFile for Cursor<T> {
    type Reader<'a>
        = &'a mut Cursor<T>
    where
        Self: 'a;

    fn read_from_start(&mut self) -> std::io::Result<Self::Reader<'_>> {
        self.set_position(0);
        Ok(self)
    }
}

impl BackupFile for &[u8] {
    type Reader<'a>
        = &'a [u8]
    where
        Self: 'a;

    fn read_from_start(&mut self) -> std::io::Result<Self::Reader<'_>> {
        Ok(*self)
    }
}

/// A backup file checked for integrity and shape, not yet written anywhere. Only its summary is
/// kept, never its rows.
#[derive(Debug, Clone)]
pub struct ParsedBackup {
    pub schema_version: i64,
    pub sha256: String,
    /// Data rows in the file.
    pub rows: u64,
    /// Lines in the file, the checksum line included.
    pub lines: usize,
}

fn format_error(line: usize, message: &str) -> RestoreError {
    RestoreError::Format {
        line,
        message: message.to_string(),
    }
}

/// Reads a file line by line into one reused buffer that never grows beyond `max` bytes.
struct Lines<R> {
    input: R,
    buf: Vec<u8>,
    /// The number of the line last returned (1-based; 0 before the first).
    line: usize,
    max: usize,
}

impl<R: BufRead> Lines<R> {
    fn new(input: R, max: usize) -> Self {
        Lines {
            input,
            buf: Vec::new(),
            line: 0,
            max,
        }
    }

    /// Frees the buffer after a long line (it is kept for reuse after short ones).
    fn release_long(&mut self) {
        if self.buf.capacity() > 1024 * 1024 {
            self.buf = Vec::new();
        }
    }

    /// The next line without its line end (`\n` or `\r\n`, as [`BufRead::lines`] strips them),
    /// or `None` at the end of the file. A line longer than `max` bytes is refused as soon as it
    /// crosses the limit; a line that is not UTF-8 is a read error.
    fn next_line(&mut self) -> Result<Option<(usize, &str)>, RestoreError> {
        self.buf.clear();
        let mut read_any = false;
        let mut newline = false;
        loop {
            let available = match self.input.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            if available.is_empty() {
                break;
            }
            read_any = true;
            let (part, used) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    newline = true;
                    (&available[..i], i + 1)
                }
                None => (available, available.len()),
            };
            if self.buf.len() + part.len() > self.max {
                return Err(format_error(
                    self.line + 1,
                    &format!(
                        "the line is longer than {} bytes ({} MiB), the most one line of a backup may hold",
                        self.max,
                        self.max / (1024 * 1024)
                    ),
                ));
            }
            // Grows by doubling, but never beyond the limit.
            let needed = self.buf.len() + part.len();
            if needed > self.buf.capacity() {
                let target = (self.buf.capacity() * 2).max(needed).min(self.max);
                self.buf.reserve_exact(target - self.buf.len());
            }
            self.buf.extend_from_slice(part);
            self.input.consume(used);
            if newline {
                break;
            }
        }
        if !read_any {
            return Ok(None);
        }
        self.line += 1;
        if newline && self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        match std::str::from_utf8(&self.buf) {
            Ok(s) => Ok(Some((self.line, s))),
            Err(_) => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            )
            .into()),
        }
    }
}

/// What a line after the header is.
enum Body {
    /// The start of a table: its index in [`TABLES`].
    Table(usize),
    /// A row of the current table, its values checked against the columns.
    Row(Vec<Value>),
}

/// The tables seen so far: the only state kept while a backup is read.
#[derive(Default)]
struct TableState {
    seen: Vec<usize>,
    current: Option<usize>,
}

impl TableState {
    /// Checks line `line_no` (after the header) and, when it starts a table, makes it current.
    fn check(&mut self, line_no: usize, v: Value) -> Result<Body, RestoreError> {
        if let Some(t) = v.get("table").and_then(Value::as_str) {
            let index = TABLES
                .iter()
                .position(|(n, _)| *n == t)
                .ok_or_else(|| format_error(line_no, &format!("unknown table {t}")))?;
            if self.seen.contains(&index) {
                return Err(format_error(line_no, &format!("table {t} appears twice")));
            }
            let listed: Vec<&str> = v
                .get("columns")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let expected: Vec<&str> = TABLES[index].1.iter().map(|c| c.0).collect();
            if listed != expected {
                return Err(format_error(
                    line_no,
                    &format!("the columns of {t} do not match this version"),
                ));
            }
            self.seen.push(index);
            self.current = Some(index);
            return Ok(Body::Table(index));
        }
        let (name, columns) = TABLES[self
            .current
            .ok_or_else(|| format_error(line_no, "a row before any table"))?];
        let Value::Array(vals) = v else {
            return Err(format_error(line_no, "expected a row"));
        };
        if vals.len() != columns.len() {
            return Err(format_error(
                line_no,
                &format!(
                    "{name}: expected {} values, found {}",
                    columns.len(),
                    vals.len()
                ),
            ));
        }
        for (j, (val, (col, ty))) in vals.iter().zip(columns.iter()).enumerate() {
            let ok = match (ty, val) {
                (_, Value::Null) | (Col::Text, Value::String(_)) => true,
                (Col::Int, Value::Number(n)) => n.as_i64().is_some(),
                _ => false,
            };
            if !ok {
                return Err(format_error(
                    line_no,
                    &format!("{name}.{col} (value {}): wrong type", j + 1),
                ));
            }
        }
        Ok(Body::Row(vals))
    }
}

/// Reads and checks a backup without a database: the checksum trailer, the header, every table
/// name, column list and value type. Errors name the line. Streams: keeps one line (at most
/// [`MAX_LINE_BYTES`]) and the tables seen, never the rows. When several things are wrong, the
/// error is the one a reader of the whole file would report first: a read error (an overlong
/// line: at once), then the checksum line, the checksum, the header, the first bad line.
/// Outside input: fuzzed (`fuzz/`).
pub fn parse_backup(input: impl BufRead) -> Result<ParsedBackup, RestoreError> {
    check_backup(input, MAX_LINE_BYTES)
}

/// [`parse_backup`] with another line limit.
fn check_backup(input: impl BufRead, max_line: usize) -> Result<ParsedBackup, RestoreError> {
    const TRUNCATED: &str = "the closing checksum line is missing: the file is truncated";
    let mut lines = Lines::new(input, max_line);
    // Over every line so far, and over every line but the last: the checksum line is the last
    // one, and which line is the last is known only at the end of the file.
    let mut hash = Sha256::new();
    let mut before_last = Sha256::new();
    let mut header: Result<i64, RestoreError> = Err(format_error(1, "the header is missing"));
    let mut tables = TableState::default();
    let mut rows = 0u64;
    // The first bad line after the header (the error counts only if a line follows it: the last
    // line is the checksum line) and the latest line read as a checksum line.
    let mut first_error: Option<RestoreError> = None;
    let mut pending: Option<RestoreError> = None;
    let mut trailer: Result<Option<String>, RestoreError> =
        Err(format_error(1, "the file is empty"));
    while let Some((line_no, line)) = lines.next_line()? {
        if first_error.is_none() {
            first_error = pending.take();
        }
        before_last = hash.clone();
        hash.update(line.as_bytes());
        hash.update(b"\n");
        let parsed = serde_json::from_str::<Value>(line).map_err(|e| format!("invalid JSON: {e}"));
        lines.release_long();
        trailer = match &parsed {
            Err(message) => Err(format_error(line_no, message)),
            Ok(v) if v.get("end") != Some(&json!(true)) => Err(format_error(line_no, TRUNCATED)),
            Ok(v) => Ok(v.get("sha256").and_then(Value::as_str).map(str::to_owned)),
        };
        if line_no == 1 {
            header = match &parsed {
                Err(_) => Err(format_error(1, "the header is missing")),
                Ok(h) if h.get("format").and_then(Value::as_str) != Some(FORMAT) => {
                    Err(format_error(1, "not a Stadtmauer backup"))
                }
                Ok(h) => h
                    .get("schema_version")
                    .and_then(Value::as_i64)
                    .ok_or_else(|| format_error(1, "the header has no schema version")),
            };
        } else if first_error.is_none() {
            let checked = parsed
                .map_err(|message| format_error(line_no, &message))
                .and_then(|v| tables.check(line_no, v));
            match checked {
                Ok(Body::Row(_)) => rows += 1,
                Ok(Body::Table(_)) => {}
                Err(e) => pending = Some(e),
            }
        }
    }
    let count = lines.line;
    let expected = trailer?;
    let sha256 = hex::encode(before_last.finalize());
    if expected.as_deref() != Some(sha256.as_str()) {
        return Err(RestoreError::Checksum);
    }
    if count < 2 {
        return Err(format_error(1, "the header is missing"));
    }
    let schema_version = header?;
    if let Some(e) = first_error {
        return Err(e);
    }
    Ok(ParsedBackup {
        schema_version,
        sha256,
        rows,
        lines: count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same checks with a small line limit: the refusal names the line and the limit, and the
    /// buffer never grows beyond it.
    #[test]
    fn a_long_line_is_refused_by_number() {
        let file = format!("{}\n{}\n", "a".repeat(10), "b".repeat(100));
        let err = check_backup(file.as_bytes(), 64).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 2: the line is longer than 64 bytes (0 MiB), the most one line of a backup may hold"
        );
        let mut lines = Lines::new(std::io::BufReader::with_capacity(7, file.as_bytes()), 64);
        assert_eq!(lines.next_line().unwrap(), Some((1, "aaaaaaaaaa")));
        assert!(lines.next_line().is_err());
        assert!(lines.buf.capacity() <= 64, "{}", lines.buf.capacity());
    }

    /// Line ends are stripped as `BufRead::lines` strips them.
    #[test]
    fn line_ends_as_bufread_lines() {
        for text in ["a\r\nb\n\nc\r", "", "\n", "x", "x\n\n", "\r\n\r\n"] {
            let mut lines = Lines::new(text.as_bytes(), 100);
            let mut got = Vec::new();
            while let Some((_, l)) = lines.next_line().unwrap() {
                got.push(l.to_string());
            }
            let want: Vec<String> = text.as_bytes().lines().map(|l| l.unwrap()).collect();
            assert_eq!(got, want, "{text:?}");
        }
    }
}
