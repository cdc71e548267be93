//! Appending to and reading the audit chain.

use crate::{id_list, internal, Result, Store};
use sqlx::any::AnyRow;
use sqlx::Row;
use stadtmauer_core::audit::{entry_hash, Change, Entry, Problem, Verifier};
use stadtmauer_core::{Access, OrgId, Scope, UserId};

/// Appends one entry. Must run inside a transaction begun by [`Store::begin_write`], which already
/// holds the head row, so no other writer can take the same sequence number.
pub(crate) async fn append(tx: &mut crate::WriteConn, c: &Change) -> Result<()> {
    let head = sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut **tx)
        .await
        .map_err(internal)?;
    let seq: i64 = head.try_get("seq").map_err(internal)?;
    let prev: String = head.try_get("hash").map_err(internal)?;
    let at = stadtmauer_core::now();
    let before = c.before.as_ref().map(|v| v.to_string());
    let after = c.after.as_ref().map(|v| v.to_string());
    let hash = entry_hash(
        &prev,
        seq,
        at,
        c.actor_id,
        &c.actor,
        c.organisation_id,
        &c.action,
        &c.entity,
        &c.entity_id,
        before.as_deref(),
        after.as_deref(),
    );
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor_id, actor, organisation_id, action, entity, entity_id, \
         before_json, after_json, prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)",
    )
    .bind(seq)
    .bind(at)
    .bind(c.actor_id.map(|u| u.0))
    .bind(&c.actor)
    .bind(c.organisation_id.map(|o| o.0))
    .bind(&c.action)
    .bind(&c.entity)
    .bind(&c.entity_id)
    .bind(before)
    .bind(after)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut **tx)
    .await
    .map_err(internal)?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&hash)
        .execute(&mut **tx)
        .await
        .map_err(internal)?;
    tx.head = Some((seq, hash));
    Ok(())
}

fn entry(row: &AnyRow) -> Result<Entry> {
    Ok(Entry {
        seq: row.try_get("seq").map_err(internal)?,
        at: row.try_get("at").map_err(internal)?,
        actor_id: row
            .try_get::<Option<i64>, _>("actor_id")
            .map_err(internal)?
            .map(UserId),
        actor: row.try_get("actor").map_err(internal)?,
        organisation_id: row
            .try_get::<Option<i64>, _>("organisation_id")
            .map_err(internal)?
            .map(OrgId),
        action: row.try_get("action").map_err(internal)?,
        entity: row.try_get("entity").map_err(internal)?,
        entity_id: row.try_get("entity_id").map_err(internal)?,
        before: row.try_get("before_json").map_err(internal)?,
        after: row.try_get("after_json").map_err(internal)?,
        prev_hash: row.try_get("prev_hash").map_err(internal)?,
        hash: row.try_get("hash").map_err(internal)?,
    })
}

const COLUMNS: &str = "seq, at, actor_id, actor, organisation_id, action, entity, entity_id, before_json, after_json, prev_hash, hash";

/// Entities of installation-wide shared data (feeds, and aliases and catalogs owned by the
/// installation): their entries have no organisation and every signed-in user may read them,
/// because every town's findings and targets follow from them. Nothing town-specific is in them.
pub(crate) const SHARED_ENTITIES: &[&str] = &["update_feed", "product_alias", "security_catalog"];

/// Which entries to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub organisation: Option<OrgId>,
    /// Only entries older than this sequence number (paging backwards).
    pub before_seq: Option<i64>,
    pub limit: i64,
}

impl Store {
    /// Entries the scope may read, newest first. Entries about a single organisation are visible to
    /// whoever may read its records; entries about no organisation (Verbünde, administrators) only
    /// to administrators.
    pub async fn audit_entries(&self, scope: &Scope, f: &AuditFilter) -> Result<Vec<Entry>> {
        let mut orgs = scope.with(Access::Read);
        if let Some(o) = f.organisation {
            orgs.retain(|x| *x == o);
        }
        let mut sql = format!(
            "SELECT {COLUMNS} FROM audit_log WHERE (organisation_id IN {}",
            id_list(orgs.iter().map(|o| o.0))
        );
        if scope.admin && !scope.read_only && f.organisation.is_none() {
            sql.push_str(" OR organisation_id IS NULL");
        } else if f.organisation.is_none() {
            sql.push_str(&format!(
                " OR (organisation_id IS NULL AND entity IN ({}))",
                SHARED_ENTITIES
                    .iter()
                    .map(|e| format!("'{e}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        sql.push(')');
        if let Some(b) = f.before_seq {
            sql.push_str(&format!(" AND seq < {}", b));
        }
        sql.push_str(&format!(
            " ORDER BY seq DESC LIMIT {}",
            f.limit.clamp(1, 1000)
        ));
        let rows = sqlx::query(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(internal)?;
        rows.iter().map(entry).collect()
    }

    /// [`Store::audit_entries`] from the per-process cache when nothing was written since `seq`.
    pub async fn audit_entries_at(
        &self,
        scope: &Scope,
        f: &AuditFilter,
        seq: i64,
    ) -> Result<Vec<Entry>> {
        let key = format!(
            "audit:{}:{}:{:?}:{:?}:{}",
            id_list(scope.with(Access::Read).iter().map(|o| o.0)),
            scope.admin && !scope.read_only,
            f.organisation,
            f.before_seq,
            f.limit
        );
        if let Some(v) = self.cache.get::<Vec<Entry>>(&key, seq) {
            return Ok(v);
        }
        let v = self.audit_entries(scope, f).await?;
        self.cache.put(key, seq, v.clone());
        Ok(v)
    }

    /// Number of entries in the chain (for progress bars).
    pub async fn audit_len(&self) -> Result<i64> {
        let row = sqlx::query("SELECT seq FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(internal)?;
        row.try_get(0).map_err(internal)
    }

    /// Checks the whole chain in pages; `progress` is called with the number checked so far.
    /// Runs outside any scope: it is an operator's command.
    pub async fn audit_verify(&self, progress: impl FnMut(u64)) -> Result<(u64, Vec<Problem>)> {
        self.audit_verify_expecting(None, progress).await
    }

    /// The head of the chain: the newest entry's sequence number and hash. Kept outside the
    /// database (the log prints it after every write, every backup carries it), it lets
    /// `audit verify --expect HASH` detect entries removed together with a rewound head.
    pub async fn audit_head(&self) -> Result<(i64, String)> {
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(internal)?;
        Ok((
            head.try_get(0).map_err(internal)?,
            head.try_get(1).map_err(internal)?,
        ))
    }

    /// Checks the whole chain and, with `anchor`, that an entry with that hash is in it.
    pub async fn audit_verify_expecting(
        &self,
        anchor: Option<&str>,
        mut progress: impl FnMut(u64),
    ) -> Result<(u64, Vec<Problem>)> {
        // Read head and entries in one snapshot so concurrent writes do not look like tampering.
        let mut tx = self.pool.begin().await.map_err(internal)?;
        if self.backend == crate::Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                .execute(&mut *tx)
                .await
                .map_err(internal)?;
        }
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&mut *tx)
            .await
            .map_err(internal)?;
        let head_seq: i64 = head.try_get(0).map_err(internal)?;
        let head_hash: String = head.try_get(1).map_err(internal)?;
        let mut v = anchor.map(Verifier::expecting).unwrap_or_default();
        let mut after = 0i64;
        loop {
            let rows = sqlx::query(&format!(
                "SELECT {COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 5000"
            ))
            .bind(after)
            .fetch_all(&mut *tx)
            .await
            .map_err(internal)?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                let e = entry(r)?;
                after = e.seq;
                v.feed(&e);
            }
            progress(v.checked);
        }
        tx.rollback().await.map_err(internal)?;
        let checked = v.checked;
        Ok((checked, v.finish(head_seq, &head_hash)))
    }
}
