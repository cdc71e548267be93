//! Backup and restore in a portable format: JSON lines, one table after another, read in one
//! snapshot (consistent while the server keeps writing) and closed by a SHA-256 over everything
//! before it. The same file restores into SQLite or PostgreSQL, so it also moves an installation
//! from the embedded database to a server.

use crate::{internal, Backend, Result, Store};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::Row;
use stadtmauer_core::DomainError;
use std::io::{BufRead, Write};

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
const TRANSIENT: &[&str] = &["user_session", "login_throttle", "_sqlx_migrations"];

/// Tables derived from the others: not in the backup, rebuilt by the restore.
const DERIVED: &[&str] = &["inv_provider_use"];

const FORMAT: &str = "stadtmauer-backup";

/// What a backup or restore did.
#[derive(Debug, Clone, Default)]
pub struct BackupSummary {
    pub rows: u64,
    pub schema_version: i64,
    pub sha256: String,
}

/// Why a restore was refused. Nothing has been written when one of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("line {line}: {message}")]
    Format { line: usize, message: String },
    #[error("the checksum does not match: the file is damaged or was edited")]
    Checksum,
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
    fn line(&mut self, v: &Value) -> std::io::Result<()> {
        let mut s = v.to_string();
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
        w.line(&json!({"format": FORMAT, "version": 1, "schema_version": schema_version, "created_at": stadtmauer_core::now()}))
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
                w.line(&Value::Array(vals)).map_err(io)?;
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
        })
    }

    /// Restores a backup in one transaction: either everything is restored or nothing changes.
    /// The database must be migrated to the backup's schema version and, unless `force`, empty.
    pub async fn restore(
        &self,
        input: impl BufRead,
        force: bool,
        mut progress: impl FnMut(u64),
    ) -> Result<BackupSummary, RestoreError> {
        // Read and check the whole file before touching the database.
        let parsed = parse_backup(input)?;
        let database = self.schema_version().await.map_err(internal)?;
        if parsed.schema_version != database {
            return Err(RestoreError::SchemaMismatch {
                backup: parsed.schema_version,
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
        let wipe = TABLES
            .iter()
            .rev()
            .map(|t| t.0)
            .chain(TRANSIENT.iter().copied().filter(|t| !t.starts_with('_')))
            .chain(DERIVED.iter().copied());
        for table in wipe {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await
                .map_err(internal)?;
        }
        let mut rows = 0u64;
        for table in &parsed.tables {
            let names: Vec<&str> = table.columns.iter().map(|c| c.0).collect();
            let placeholders: Vec<String> = (1..=names.len()).map(|n| format!("${n}")).collect();
            let sql = format!(
                "INSERT INTO {} ({}) VALUES ({})",
                table.name,
                names.join(", "),
                placeholders.join(", ")
            );
            for (line, vals) in &table.rows {
                let mut q = sqlx::query(&sql);
                for (val, (_, ty)) in vals.iter().zip(table.columns.iter()) {
                    // Types were checked while parsing.
                    q = match (ty, val) {
                        (Col::Int, Value::Number(n)) => q.bind(n.as_i64()),
                        (Col::Int, _) => q.bind(None::<i64>),
                        (Col::Text, Value::String(s)) => q.bind(s.clone()),
                        (Col::Text, _) => q.bind(None::<String>),
                    };
                }
                q.execute(&mut *tx)
                    .await
                    .map_err(|e| RestoreError::Format {
                        line: *line,
                        message: format!("{}: {}", table.name, short_db_error(&e)),
                    })?;
                rows += 1;
                if rows.is_multiple_of(1000) {
                    progress(rows);
                }
            }
        }
        if self.backend == Backend::Postgres {
            // Identity columns do not follow explicitly inserted ids by themselves.
            for (table, cols) in TABLES {
                if cols[0].0 == "id" && *table != "audit_head" {
                    sqlx::query(&format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                    ))
                    .execute(&mut *tx)
                    .await
                    .map_err(internal)?;
                }
            }
        }
        crate::provider_use::rebuild(&mut tx, self.backend, None).await?;
        tx.commit().await.map_err(internal)?;
        progress(rows);
        Ok(BackupSummary {
            rows,
            schema_version: parsed.schema_version,
            sha256: parsed.sha256,
        })
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

/// One table of a parsed backup: its rows with the line each came from.
#[derive(Debug)]
pub struct ParsedTable {
    pub name: &'static str,
    columns: Columns,
    pub rows: Vec<(usize, Vec<Value>)>,
}

/// A backup file checked for integrity and shape, not yet written anywhere.
#[derive(Debug)]
pub struct ParsedBackup {
    pub schema_version: i64,
    pub sha256: String,
    pub tables: Vec<ParsedTable>,
}

/// Reads and checks a backup without a database: the checksum trailer, the header, every table
/// name, column list and value type. Errors name the line. Outside input: fuzzed (`fuzz/`).
pub fn parse_backup(input: impl BufRead) -> Result<ParsedBackup, RestoreError> {
    let fmt = |line: usize, message: &str| RestoreError::Format {
        line,
        message: message.to_string(),
    };
    let mut lines: Vec<String> = Vec::new();
    for l in input.lines() {
        lines.push(l?);
    }
    let last = lines.pop().ok_or_else(|| fmt(1, "the file is empty"))?;
    let end: Value = serde_json::from_str(&last)
        .map_err(|e| fmt(lines.len() + 1, &format!("invalid JSON: {e}")))?;
    if end.get("end") != Some(&json!(true)) {
        return Err(fmt(
            lines.len() + 1,
            "the closing checksum line is missing: the file is truncated",
        ));
    }
    let mut hash = Sha256::new();
    for l in &lines {
        hash.update(l.as_bytes());
        hash.update(b"\n");
    }
    let sha256 = hex::encode(hash.finalize());
    if end.get("sha256").and_then(Value::as_str) != Some(sha256.as_str()) {
        return Err(RestoreError::Checksum);
    }
    let header: Value = lines
        .first()
        .and_then(|l| serde_json::from_str(l).ok())
        .ok_or_else(|| fmt(1, "the header is missing"))?;
    if header.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(fmt(1, "not a Stadtmauer backup"));
    }
    let schema_version = header
        .get("schema_version")
        .and_then(Value::as_i64)
        .ok_or_else(|| fmt(1, "the header has no schema version"))?;
    let mut tables: Vec<ParsedTable> = Vec::new();
    for (i, l) in lines.iter().enumerate().skip(1) {
        let line_no = i + 1;
        let v: Value =
            serde_json::from_str(l).map_err(|e| fmt(line_no, &format!("invalid JSON: {e}")))?;
        if let Some(t) = v.get("table").and_then(Value::as_str) {
            let (name, cols) = TABLES
                .iter()
                .find(|(n, _)| *n == t)
                .ok_or_else(|| fmt(line_no, &format!("unknown table {t}")))?;
            if tables.iter().any(|x| x.name == *name) {
                return Err(fmt(line_no, &format!("table {t} appears twice")));
            }
            let listed: Vec<&str> = v
                .get("columns")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let expected: Vec<&str> = cols.iter().map(|c| c.0).collect();
            if listed != expected {
                return Err(fmt(
                    line_no,
                    &format!("the columns of {t} do not match this version"),
                ));
            }
            tables.push(ParsedTable {
                name,
                columns: cols,
                rows: Vec::new(),
            });
            continue;
        }
        let table = tables
            .last_mut()
            .ok_or_else(|| fmt(line_no, "a row before any table"))?;
        let Value::Array(vals) = v else {
            return Err(fmt(line_no, "expected a row"));
        };
        if vals.len() != table.columns.len() {
            return Err(fmt(
                line_no,
                &format!(
                    "{}: expected {} values, found {}",
                    table.name,
                    table.columns.len(),
                    vals.len()
                ),
            ));
        }
        for (j, (val, (col, ty))) in vals.iter().zip(table.columns.iter()).enumerate() {
            let ok = match (ty, val) {
                (_, Value::Null) | (Col::Text, Value::String(_)) => true,
                (Col::Int, Value::Number(n)) => n.as_i64().is_some(),
                _ => false,
            };
            if !ok {
                return Err(fmt(
                    line_no,
                    &format!("{}.{col} (value {}): wrong type", table.name, j + 1),
                ));
            }
        }
        table.rows.push((line_no, vals));
    }
    Ok(ParsedBackup {
        schema_version,
        sha256,
        tables,
    })
}
