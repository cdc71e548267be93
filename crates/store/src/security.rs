//! Persistence of the security level (Grundschutz++): the Verbund's uniform target and a town's
//! own stricter one, answers per requirement (and object) with their evidence, uploaded evidence
//! files, and snapshots of the level taken when an assessment is finished.
//!
//! Requirement ids are stored as text; the catalogs live in the binary (stadtmauer-catalog) and
//! the web layer checks that an id exists before it asks the store to record an answer. Every
//! write runs in a [`crate::WriteTx`] with its audit entry.

use crate::{id_list, internal, Result, Store};
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;
use stadtmauer_assessment::date::{format_date, parse_date};
use stadtmauer_assessment::evidence::EvidenceItem;
use stadtmauer_assessment::snapshot::{PracticeAggregate, Snapshot};
use stadtmauer_assessment::{Answer, Status};
use stadtmauer_core::{now, Access, DomainError, ObjectId, OrgId, Owner, Scope, VerbundId};

pub use stadtmauer_catalog::target::{Target, TownTarget};

/// An answer as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredAnswer {
    pub id: i64,
    pub organisation_id: OrgId,
    pub answer: Answer,
    /// Set when the requirement's text changed in a newer catalog version.
    pub needs_review: bool,
    pub updated_at: i64,
}

/// An uploaded evidence file's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceFile {
    pub id: i64,
    pub organisation_id: OrgId,
    pub sha256: String,
    pub name: String,
    pub media_type: String,
    pub size: i64,
}

/// A snapshot as stored, with its target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredSnapshot {
    pub id: i64,
    pub target: Target,
    pub snapshot: Snapshot,
}

const ANSWER_COLUMNS: &str =
    "a.id, a.organisation_id, a.requirement_id, a.object_id, a.status, a.reason, a.note, \
    a.responsible, a.assessed_on, a.review_by, a.evidence, a.needs_review, a.updated_at";

fn answer_row(row: &AnyRow) -> Result<StoredAnswer> {
    let text = |c: &str| row.try_get::<Option<String>, _>(c).map_err(internal);
    let object: i64 = row.try_get("object_id").map_err(internal)?;
    let status: String = row.try_get("status").map_err(internal)?;
    let assessed: String = row.try_get("assessed_on").map_err(internal)?;
    let evidence: String = row.try_get("evidence").map_err(internal)?;
    let evidence: Vec<EvidenceItem> = serde_json::from_str(&evidence).map_err(internal)?;
    Ok(StoredAnswer {
        id: row.try_get("id").map_err(internal)?,
        organisation_id: OrgId(row.try_get("organisation_id").map_err(internal)?),
        answer: Answer {
            requirement_id: row.try_get("requirement_id").map_err(internal)?,
            object_id: (object > 0).then_some(ObjectId(object)),
            status: Status::parse(&status).unwrap_or(Status::Offen),
            reason: text("reason")?,
            note: text("note")?,
            responsible: text("responsible")?,
            assessed_on: parse_date(&assessed).ok_or_else(|| internal("bad assessed_on"))?,
            review_by: text("review_by")?.as_deref().and_then(parse_date),
            evidence,
        },
        needs_review: crate::flag(row, "needs_review"),
        updated_at: row.try_get("updated_at").map_err(internal)?,
    })
}

impl Store {
    /// An imported target must name an imported catalog or profile (a mapping collection has no
    /// requirements of its own and is never a target).
    /// It must also be the installation's or `verbund`'s (another Verbund's file reads as
    /// unknown).
    async fn check_target_exists(&self, t: Target, verbund: Option<VerbundId>) -> Result<()> {
        if let Target::Imported(id) = t {
            let row = sqlx::query("SELECT kind, verbund_id FROM sec_catalog WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(internal)?;
            let owner_ok = |r: &AnyRow| {
                r.try_get::<Option<i64>, _>("verbund_id")
                    .is_ok_and(|o| o.is_none() || o == verbund.map(|v| v.0))
            };
            let Some(row) = row.filter(owner_ok) else {
                return Err(DomainError::field("target", "err.choose_one"));
            };
            let kind: String = row.try_get("kind").map_err(internal)?;
            if kind == KIND_MAPPING {
                return Err(DomainError::field("target", "sec.err.target_mapping"));
            }
        }
        Ok(())
    }

    /// The organisations of a Verbund.
    async fn verbund_members(&self, v: VerbundId) -> Result<Vec<OrgId>> {
        sqlx::query("SELECT id FROM organisation WHERE verbund_id = $1")
            .bind(v.0)
            .fetch_all(&self.pool)
            .await
            .map_err(internal)?
            .iter()
            .map(|r| r.try_get::<i64, _>(0).map(OrgId).map_err(internal))
            .collect()
    }

    /// The title and version of an imported target (`None` for a shipped one or a removed file).
    pub async fn target_title(&self, t: Target) -> Result<Option<String>> {
        let Target::Imported(id) = t else {
            return Ok(None);
        };
        let row = sqlx::query("SELECT title, version FROM sec_catalog WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(internal)?;
        row.map(|r| {
            let title: String = r.try_get("title").map_err(internal)?;
            let version: String = r.try_get("version").map_err(internal)?;
            Ok(format!("{title} {version}"))
        })
        .transpose()
    }

    async fn stored_verbund_target(&self, v: VerbundId) -> Result<Target> {
        let row = sqlx::query("SELECT target FROM sec_verbund_target WHERE verbund_id = $1")
            .bind(v.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(internal)?;
        Ok(match row {
            Some(r) => {
                let t: String = r.try_get("target").map_err(internal)?;
                Target::parse(&t).unwrap_or(Target::KommunaleBasis)
            }
            None => Target::KommunaleBasis,
        })
    }

    /// The Verbund's uniform target (the Kommunale Basis unless the office chose another).
    pub async fn verbund_target(&self, scope: &Scope, v: VerbundId) -> Result<Target> {
        self.verbund(scope, v).await?;
        self.stored_verbund_target(v).await
    }

    /// Sets the Verbund's uniform target (the office).
    pub async fn set_verbund_target(&self, scope: &Scope, v: VerbundId, t: Target) -> Result<()> {
        self.verbund(scope, v).await?;
        if !scope.manages_verbund(v) {
            return Err(DomainError::Forbidden);
        }
        self.check_target_exists(t, Some(v)).await?;
        let before = self.stored_verbund_target(v).await?;
        let mut w = self.begin_write(scope).await?;
        sqlx::query("DELETE FROM sec_verbund_target WHERE verbund_id = $1")
            .bind(v.0)
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
        sqlx::query(
            "INSERT INTO sec_verbund_target (verbund_id, target, updated_at) VALUES ($1, $2, $3)",
        )
        .bind(v.0)
        .bind(t.code())
        .bind(now())
        .execute(&mut *w.tx)
        .await
        .map_err(internal)?;
        w.audit_owner(
            Owner::Verbund(v),
            "update",
            "security_target",
            format!("verbund:{}", v.0),
            Some(json!({ "target": before })),
            Some(json!({ "target": t })),
        )
        .await?;
        w.commit().await
    }

    /// A town's targets.
    pub async fn town_target(&self, scope: &Scope, org: OrgId) -> Result<TownTarget> {
        let o = self.organisation(scope, org).await?;
        let verbund = match o.verbund_id {
            Some(v) => self.stored_verbund_target(v).await?,
            None => Target::KommunaleBasis,
        };
        let own = sqlx::query("SELECT target FROM sec_org_target WHERE organisation_id = $1")
            .bind(org.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(internal)?
            .map(|r| r.try_get::<String, _>("target").map_err(internal))
            .transpose()?
            .and_then(|t| Target::parse(&t));
        Ok(TownTarget { verbund, own })
    }

    /// Sets (or with `None` removes) a town's own target; it may not be below the Verbund's.
    pub async fn set_town_target(
        &self,
        scope: &Scope,
        org: OrgId,
        t: Option<Target>,
    ) -> Result<()> {
        scope.require(org, Access::Write)?;
        let before = self.town_target(scope, org).await?;
        if let Some(t) = t {
            if t.is_shipped() && before.verbund.is_shipped() && t < before.verbund {
                return Err(DomainError::field("target", "sec.err.target_weaker"));
            }
            let verbund = self.organisation(scope, org).await?.verbund_id;
            self.check_target_exists(t, verbund).await?;
        }
        let mut w = self.begin_write(scope).await?;
        sqlx::query("DELETE FROM sec_org_target WHERE organisation_id = $1")
            .bind(org.0)
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
        if let Some(t) = t {
            sqlx::query(
                "INSERT INTO sec_org_target (organisation_id, target, updated_at) VALUES ($1, $2, $3)",
            )
            .bind(org.0)
            .bind(t.code())
            .bind(now())
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
        }
        w.audit(
            Some(org),
            "update",
            "security_target",
            org,
            Some(json!({ "target": before.own })),
            Some(json!({ "target": t })),
        )
        .await?;
        w.commit().await
    }

    /// Every answer of a town (answers about deleted objects are left out).
    pub async fn answers(&self, scope: &Scope, org: OrgId) -> Result<Vec<StoredAnswer>> {
        scope.require(org, Access::Read)?;
        let rows = sqlx::query(&format!(
            "SELECT {ANSWER_COLUMNS} FROM sec_answer a WHERE a.organisation_id = $1 \
             AND (a.object_id = 0 OR a.object_id IN (SELECT id FROM inv_object WHERE organisation_id = $1)) \
             ORDER BY a.requirement_id, a.object_id"
        ))
        .bind(org.0)
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?;
        rows.iter().map(answer_row).collect()
    }

    /// The answers of one requirement in a town (organisation-wide and per object).
    pub async fn answers_for(
        &self,
        scope: &Scope,
        org: OrgId,
        requirement: &str,
    ) -> Result<Vec<StoredAnswer>> {
        scope.require(org, Access::Read)?;
        let rows = sqlx::query(&format!(
            "SELECT {ANSWER_COLUMNS} FROM sec_answer a WHERE a.organisation_id = $1 AND a.requirement_id = $2 \
             AND (a.object_id = 0 OR a.object_id IN (SELECT id FROM inv_object WHERE organisation_id = $1)) \
             ORDER BY a.object_id"
        ))
        .bind(org.0)
        .bind(requirement)
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?;
        rows.iter().map(answer_row).collect()
    }

    /// Records (or replaces) a town's answer to one requirement, for the organisation or one of
    /// its objects. Coordinators and IT staff may answer.
    pub async fn save_answer(&self, scope: &Scope, org: OrgId, a: &Answer) -> Result<i64> {
        scope.require(org, Access::WriteTechnical)?;
        let mut w = self.begin_write(scope).await?;
        let id = save_answer_tx(&mut w, org, a).await?;
        w.commit().await?;
        Ok(id)
    }

    /// Records many answers in one transaction (questionnaire, import, demo): all or nothing.
    pub async fn save_answers(&self, scope: &Scope, org: OrgId, answers: &[Answer]) -> Result<()> {
        scope.require(org, Access::WriteTechnical)?;
        let mut w = self.begin_write(scope).await?;
        for a in answers {
            save_answer_tx(&mut w, org, a).await?;
        }
        w.commit().await
    }

    /// Imports answers (an assessment-results file) into a town: every answer is recorded
    /// (replacing one for the same requirement and object) in one transaction with one audit
    /// entry per answer and one for the import; nothing is stored if any answer is refused.
    pub async fn import_answers(
        &self,
        scope: &Scope,
        org: OrgId,
        source: &str,
        answers: &[Answer],
    ) -> Result<usize> {
        scope.require(org, Access::WriteTechnical)?;
        let mut w = self.begin_write(scope).await?;
        for a in answers {
            save_answer_tx(&mut w, org, a).await?;
        }
        w.audit(
            Some(org),
            "import",
            "security_answers",
            org,
            None,
            Some(json!({ "source": source, "answers": answers.len() })),
        )
        .await?;
        w.commit().await?;
        Ok(answers.len())
    }

    /// Stores an uploaded evidence file (already checked by the evidence policy) and returns
    /// its metadata; the same content twice is stored once.
    pub async fn store_evidence_file(
        &self,
        scope: &Scope,
        org: OrgId,
        name: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<EvidenceFile> {
        use base64::Engine as _;
        use sha2::Digest as _;
        scope.require(org, Access::WriteTechnical)?;
        let sha256 = hex::encode(sha2::Sha256::digest(bytes));
        if let Some(f) = self.evidence_file(scope, org, &sha256).await? {
            return Ok(f);
        }
        let mut w = self.begin_write(scope).await?;
        let row = sqlx::query(
            "INSERT INTO sec_evidence_file (organisation_id, sha256, name, media_type, size, content, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(org.0)
        .bind(&sha256)
        .bind(name)
        .bind(media_type)
        .bind(bytes.len() as i64)
        .bind(base64::engine::general_purpose::STANDARD.encode(bytes))
        .bind(now())
        .fetch_one(&mut *w.tx)
        .await
        .map_err(internal)?;
        let id: i64 = row.try_get(0).map_err(internal)?;
        let f = EvidenceFile {
            id,
            organisation_id: org,
            sha256,
            name: name.to_string(),
            media_type: media_type.to_string(),
            size: bytes.len() as i64,
        };
        w.audit(
            Some(org),
            "create",
            "evidence_file",
            id,
            None,
            Some(json!(f)),
        )
        .await?;
        w.commit().await?;
        Ok(f)
    }

    /// An evidence file's metadata, if the town has one with this hash.
    pub async fn evidence_file(
        &self,
        scope: &Scope,
        org: OrgId,
        sha256: &str,
    ) -> Result<Option<EvidenceFile>> {
        scope.require(org, Access::Read)?;
        let row = sqlx::query(
            "SELECT id, name, media_type, size FROM sec_evidence_file WHERE organisation_id = $1 AND sha256 = $2",
        )
        .bind(org.0)
        .bind(sha256)
        .fetch_optional(&self.pool)
        .await
        .map_err(internal)?;
        row.map(|r| {
            Ok(EvidenceFile {
                id: r.try_get("id").map_err(internal)?,
                organisation_id: org,
                sha256: sha256.to_string(),
                name: r.try_get("name").map_err(internal)?,
                media_type: r.try_get("media_type").map_err(internal)?,
                size: r.try_get("size").map_err(internal)?,
            })
        })
        .transpose()
    }

    /// An evidence file's content (for download by users who may read the town).
    pub async fn evidence_content(
        &self,
        scope: &Scope,
        org: OrgId,
        sha256: &str,
    ) -> Result<(EvidenceFile, Vec<u8>)> {
        use base64::Engine as _;
        let meta = self
            .evidence_file(scope, org, sha256)
            .await?
            .ok_or(DomainError::NotFound)?;
        let row = sqlx::query("SELECT content FROM sec_evidence_file WHERE id = $1")
            .bind(meta.id)
            .fetch_one(&self.pool)
            .await
            .map_err(internal)?;
        let content: String = row.try_get("content").map_err(internal)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(content)
            .map_err(internal)?;
        Ok((meta, bytes))
    }

    /// Records a snapshot of a town's level ("Bewertung abschließen").
    pub async fn save_snapshot(
        &self,
        scope: &Scope,
        snap: &Snapshot,
        target: Target,
    ) -> Result<i64> {
        let org = snap.organisation_id;
        scope.require(org, Access::Write)?;
        let mut w = self.begin_write(scope).await?;
        let id = insert_snapshot(&mut w.tx, snap, target).await?;
        w.audit(
            Some(org),
            "create",
            "security_snapshot",
            id,
            None,
            Some(json!({ "taken_on": format_date(snap.taken_on), "target": target })),
        )
        .await?;
        w.commit().await?;
        Ok(id)
    }

    /// Records many snapshots of several towns at once (demo data, imports): all or nothing.
    pub async fn save_snapshots(&self, scope: &Scope, snaps: &[(Snapshot, Target)]) -> Result<()> {
        for (s, _) in snaps {
            scope.require(s.organisation_id, Access::Write)?;
        }
        let mut w = self.begin_write(scope).await?;
        for (s, t) in snaps {
            let id = insert_snapshot(&mut w.tx, s, *t).await?;
            w.audit(
                Some(s.organisation_id),
                "create",
                "security_snapshot",
                id,
                None,
                Some(json!({ "taken_on": format_date(s.taken_on), "target": t })),
            )
            .await?;
        }
        w.commit().await
    }

    /// A town's snapshots, oldest first.
    pub async fn snapshots(&self, scope: &Scope, org: OrgId) -> Result<Vec<StoredSnapshot>> {
        scope.require(org, Access::Reports)?;
        self.snapshots_of(&[org], false).await
    }

    /// The latest snapshot of each visible town among `orgs` (the Verbund heatmap).
    pub async fn latest_snapshots(
        &self,
        scope: &Scope,
        orgs: &[OrgId],
    ) -> Result<Vec<StoredSnapshot>> {
        let visible: Vec<OrgId> = orgs
            .iter()
            .copied()
            .filter(|o| scope.can(*o, Access::Reports))
            .collect();
        self.snapshots_of(&visible, true).await
    }

    async fn snapshots_of(&self, orgs: &[OrgId], latest: bool) -> Result<Vec<StoredSnapshot>> {
        let list = id_list(orgs.iter().map(|o| o.0));
        let sql = if latest {
            format!(
                "SELECT s.id, s.organisation_id, s.taken_on, s.target, s.practices FROM sec_snapshot s \
                 WHERE s.organisation_id IN {list} AND s.id = (SELECT MAX(t.id) FROM sec_snapshot t \
                 WHERE t.organisation_id = s.organisation_id AND t.taken_on = (SELECT MAX(u.taken_on) \
                 FROM sec_snapshot u WHERE u.organisation_id = s.organisation_id)) ORDER BY s.organisation_id"
            )
        } else {
            format!(
                "SELECT s.id, s.organisation_id, s.taken_on, s.target, s.practices FROM sec_snapshot s \
                 WHERE s.organisation_id IN {list} ORDER BY s.taken_on, s.id"
            )
        };
        let rows = sqlx::query(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(internal)?;
        rows.iter()
            .map(|r| {
                let taken: String = r.try_get("taken_on").map_err(internal)?;
                let target: String = r.try_get("target").map_err(internal)?;
                let practices: String = r.try_get("practices").map_err(internal)?;
                let practices: Vec<PracticeAggregate> =
                    serde_json::from_str(&practices).map_err(internal)?;
                Ok(StoredSnapshot {
                    id: r.try_get("id").map_err(internal)?,
                    target: Target::parse(&target).unwrap_or(Target::KommunaleBasis),
                    snapshot: Snapshot {
                        organisation_id: OrgId(r.try_get("organisation_id").map_err(internal)?),
                        taken_on: parse_date(&taken).ok_or_else(|| internal("bad taken_on"))?,
                        practices,
                    },
                })
            })
            .collect()
    }
}

async fn insert_snapshot(tx: &mut crate::WriteConn, s: &Snapshot, target: Target) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO sec_snapshot (organisation_id, taken_on, target, practices, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(s.organisation_id.0)
    .bind(format_date(s.taken_on))
    .bind(target.code())
    .bind(serde_json::to_string(&s.practices).map_err(internal)?)
    .bind(now())
    .fetch_one(&mut **tx)
    .await
    .map_err(internal)?;
    row.try_get(0).map_err(internal)
}

async fn save_answer_tx(w: &mut crate::WriteTx<'_>, org: OrgId, a: &Answer) -> Result<i64> {
    let object = a.object_id.map_or(0, |o| o.0);
    if object > 0 {
        let owner = sqlx::query("SELECT organisation_id FROM inv_object WHERE id = $1")
            .bind(object)
            .fetch_optional(&mut *w.tx)
            .await
            .map_err(internal)?
            .map(|r| r.try_get::<i64, _>(0).map_err(internal))
            .transpose()?;
        if owner != Some(org.0) {
            return Err(DomainError::field("object_id", "sec.err.object_not_here"));
        }
    }
    let existing = sqlx::query(&format!(
        "SELECT {ANSWER_COLUMNS} FROM sec_answer a WHERE a.organisation_id = $1 AND a.requirement_id = $2 AND a.object_id = $3"
    ))
    .bind(org.0)
    .bind(&a.requirement_id)
    .bind(object)
    .fetch_optional(&mut *w.tx)
    .await
    .map_err(internal)?
    .map(|r| answer_row(&r))
    .transpose()?;
    let evidence = serde_json::to_string(&a.evidence).map_err(internal)?;
    let review_by = a.review_by.map(format_date);
    let id = match &existing {
        Some(old) => {
            sqlx::query(
                "UPDATE sec_answer SET status = $1, reason = $2, note = $3, responsible = $4, assessed_on = $5, \
                 review_by = $6, evidence = $7, needs_review = 0, updated_at = $8 WHERE id = $9",
            )
            .bind(a.status.as_str())
            .bind(a.reason.clone())
            .bind(a.note.clone())
            .bind(a.responsible.clone())
            .bind(format_date(a.assessed_on))
            .bind(review_by)
            .bind(evidence)
            .bind(now())
            .bind(old.id)
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
            old.id
        }
        None => {
            let row = sqlx::query(
                "INSERT INTO sec_answer (organisation_id, requirement_id, object_id, status, reason, note, responsible, \
                 assessed_on, review_by, evidence, needs_review, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, $11) RETURNING id",
            )
            .bind(org.0)
            .bind(&a.requirement_id)
            .bind(object)
            .bind(a.status.as_str())
            .bind(a.reason.clone())
            .bind(a.note.clone())
            .bind(a.responsible.clone())
            .bind(format_date(a.assessed_on))
            .bind(review_by)
            .bind(evidence)
            .bind(now())
            .fetch_one(&mut *w.tx)
            .await
            .map_err(internal)?;
            row.try_get(0).map_err(internal)?
        }
    };
    w.audit(
        Some(org),
        if existing.is_some() {
            "update"
        } else {
            "create"
        },
        "security_answer",
        id,
        existing.map(|e| json!(e.answer)),
        Some(json!(a)),
    )
    .await?;
    Ok(id)
}

// ---------------------------------------------------------------------------------------------
// Measures (Realisierungsplan)
// ---------------------------------------------------------------------------------------------

use stadtmauer_assessment::measure::{Measure, MeasureStatus, Priority, TownProgress};

impl Store {
    /// The measures a town takes part in (its own and shared ones), by priority and deadline, each
    /// with the number of towns taking part. Of a shared measure, only the towns the scope may read
    /// are listed in `towns`.
    pub async fn measures(&self, scope: &Scope, org: OrgId) -> Result<Vec<(i64, Measure, usize)>> {
        scope.require(org, Access::Read)?;
        self.measures_where(
            scope,
            "m.id IN (SELECT measure_id FROM sec_measure_town WHERE organisation_id = $1)",
            org,
        )
        .await
    }

    /// The measures an organisation planned (the office: its shared measures), with every
    /// town's progress the scope may see.
    pub async fn measures_owned_by(
        &self,
        scope: &Scope,
        owner: OrgId,
    ) -> Result<Vec<(i64, Measure, usize)>> {
        scope.require(owner, Access::Read)?;
        self.measures_where(scope, "m.organisation_id = $1", owner)
            .await
    }

    async fn measures_where(
        &self,
        scope: &Scope,
        condition: &'static str,
        org: OrgId,
    ) -> Result<Vec<(i64, Measure, usize)>> {
        let rows = sqlx::query(&format!(
            "SELECT m.id, m.title, m.description, m.requirement_id, m.objects, m.owner, m.deadline, m.priority, \
             m.cost_eur, m.effort_tenths FROM sec_measure m WHERE {condition} ORDER BY m.id"
        ))
        .bind(org.0)
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?;
        let ids: Vec<i64> = rows
            .iter()
            .map(|r| r.try_get::<i64, _>("id").map_err(internal))
            .collect::<Result<_>>()?;
        let towns = sqlx::query(&format!(
            "SELECT measure_id, organisation_id, status FROM sec_measure_town WHERE measure_id IN {} \
             ORDER BY organisation_id",
            id_list(ids.iter().copied()),
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?;
        let mut out = Vec::new();
        for r in &rows {
            let id: i64 = r.try_get("id").map_err(internal)?;
            let text = |c: &str| r.try_get::<Option<String>, _>(c).map_err(internal);
            let objects: String = r.try_get("objects").map_err(internal)?;
            let priority: String = r.try_get("priority").map_err(internal)?;
            let mut progress = Vec::new();
            let mut taking_part = 0;
            for t in &towns {
                if t.try_get::<i64, _>("measure_id").map_err(internal)? == id {
                    taking_part += 1;
                    let town = OrgId(t.try_get("organisation_id").map_err(internal)?);
                    if !scope.can(town, Access::Reports) {
                        continue;
                    }
                    let s: String = t.try_get("status").map_err(internal)?;
                    progress.push(TownProgress {
                        organisation_id: town,
                        status: MeasureStatus::parse(&s).unwrap_or(MeasureStatus::Geplant),
                    });
                }
            }
            out.push((
                id,
                Measure {
                    title: r.try_get("title").map_err(internal)?,
                    description: text("description")?,
                    requirement_id: text("requirement_id")?,
                    objects: serde_json::from_str(&objects).map_err(internal)?,
                    owner: text("owner")?,
                    deadline: text("deadline")?.as_deref().and_then(parse_date),
                    priority: Priority::parse(&priority).unwrap_or(Priority::Mittel),
                    cost_eur: r
                        .try_get::<Option<i64>, _>("cost_eur")
                        .map_err(internal)?
                        .map(|c| c.max(0) as u64),
                    effort_person_days: r
                        .try_get::<Option<i64>, _>("effort_tenths")
                        .map_err(internal)?
                        .map(|t| t as f64 / 10.0),
                    towns: progress,
                },
                taking_part,
            ));
        }
        out.sort_by(|a, b| {
            (a.1.priority, a.1.deadline, a.0).cmp(&(b.1.priority, b.1.deadline, b.0))
        });
        Ok(out)
    }

    /// Records measures, owned by `owner` (a town, or the office for a measure shared by several
    /// towns); the scope must be able to write in the owner and in every town taking part.
    pub async fn create_measures(
        &self,
        scope: &Scope,
        owner: OrgId,
        measures: &[Measure],
    ) -> Result<Vec<i64>> {
        scope.require(owner, Access::Write)?;
        for m in measures {
            if m.towns.is_empty() {
                return Err(DomainError::field("towns", "err.required"));
            }
            for t in &m.towns {
                scope.require(t.organisation_id, Access::Write)?;
            }
        }
        let mut w = self.begin_write(scope).await?;
        let mut ids = Vec::new();
        for m in measures {
            let row = sqlx::query(
                "INSERT INTO sec_measure (organisation_id, title, description, requirement_id, objects, owner, deadline, \
                 priority, cost_eur, effort_tenths, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
            )
            .bind(owner.0)
            .bind(&m.title)
            .bind(m.description.clone())
            .bind(m.requirement_id.clone())
            .bind(serde_json::to_string(&m.objects).map_err(internal)?)
            .bind(m.owner.clone())
            .bind(m.deadline.map(format_date))
            .bind(m.priority.as_str())
            .bind(m.cost_eur.map(|c| c.min(i64::MAX as u64) as i64))
            .bind(m.effort_person_days.map(|d| (d * 10.0).round() as i64))
            .bind(now())
            .fetch_one(&mut *w.tx)
            .await
            .map_err(internal)?;
            let id: i64 = row.try_get(0).map_err(internal)?;
            for t in &m.towns {
                sqlx::query(
                    "INSERT INTO sec_measure_town (measure_id, organisation_id, status, updated_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(id)
                .bind(t.organisation_id.0)
                .bind(t.status.as_str())
                .bind(now())
                .execute(&mut *w.tx)
                .await
                .map_err(crate::unique_or_internal("towns"))?;
                w.audit(
                    Some(t.organisation_id),
                    "create",
                    "security_measure",
                    id,
                    None,
                    Some(json!(m)),
                )
                .await?;
            }
            ids.push(id);
        }
        w.commit().await?;
        Ok(ids)
    }

    /// Sets a town's progress on a measure.
    pub async fn set_measure_status(
        &self,
        scope: &Scope,
        org: OrgId,
        measure: i64,
        status: MeasureStatus,
    ) -> Result<()> {
        scope.require(org, Access::WriteTechnical)?;
        let mut w = self.begin_write(scope).await?;
        let before = sqlx::query(
            "SELECT status FROM sec_measure_town WHERE measure_id = $1 AND organisation_id = $2",
        )
        .bind(measure)
        .bind(org.0)
        .fetch_optional(&mut *w.tx)
        .await
        .map_err(internal)?
        .ok_or(DomainError::NotFound)?;
        let before: String = before.try_get(0).map_err(internal)?;
        sqlx::query(
            "UPDATE sec_measure_town SET status = $1, updated_at = $2 WHERE measure_id = $3 AND organisation_id = $4",
        )
        .bind(status.as_str())
        .bind(now())
        .bind(measure)
        .bind(org.0)
        .execute(&mut *w.tx)
        .await
        .map_err(internal)?;
        w.audit(
            Some(org),
            "update",
            "security_measure",
            measure,
            Some(json!({ "status": before })),
            Some(json!({ "status": status })),
        )
        .await?;
        w.commit().await
    }

    /// How many open measures are past their deadline, per visible town among `orgs`.
    pub async fn overdue_measures(
        &self,
        scope: &Scope,
        orgs: &[OrgId],
        today: stadtmauer_assessment::Date,
    ) -> Result<std::collections::HashMap<OrgId, usize>> {
        let visible = orgs
            .iter()
            .filter(|o| scope.can(**o, Access::Reports))
            .map(|o| o.0);
        let rows = sqlx::query(&format!(
            "SELECT t.organisation_id FROM sec_measure_town t JOIN sec_measure m ON m.id = t.measure_id \
             WHERE t.organisation_id IN {} AND t.status IN ('geplant', 'in_arbeit') \
             AND m.deadline IS NOT NULL AND m.deadline < $1",
            id_list(visible)
        ))
        .bind(format_date(today))
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?;
        let mut out = std::collections::HashMap::new();
        for r in rows {
            let o = OrgId(r.try_get(0).map_err(internal)?);
            *out.entry(o).or_insert(0) += 1;
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------------
// Imported catalogs and profiles
// ---------------------------------------------------------------------------------------------

use stadtmauer_catalog::catalog::Catalog;
use stadtmauer_catalog::mapping::MappingSet;
use stadtmauer_catalog::oscal::{self, Document, MappingCollectionDoc, OscalError};
use stadtmauer_catalog::versions::{carry_over, CarryOver};

/// `sec_catalog.kind` of an imported mapping collection.
pub const KIND_MAPPING: &str = "mapping";

/// An imported catalog, profile or mapping collection (without its content).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportedCatalog {
    pub id: i64,
    /// `catalog`, `profile` or `mapping` (an OSCAL mapping collection, [`KIND_MAPPING`]).
    pub kind: String,
    pub uuid: String,
    pub title: String,
    pub version: String,
    pub file_name: String,
    pub sha256: String,
    /// How many requirements it has (for a mapping collection: how many maps).
    pub requirements: i64,
    /// The version this one follows ("title version"), if an earlier one was known.
    pub previous: Option<String>,
    /// How many answers were flagged "review" because their requirement's text changed.
    pub flagged: i64,
    pub created_at: i64,
    /// The Verbund that imported it (seen by its members only), `None` for the installation's.
    pub verbund_id: Option<i64>,
}

impl ImportedCatalog {
    pub fn owner(&self) -> Owner {
        Owner::of(self.verbund_id.map(VerbundId))
    }
}

impl ImportedCatalog {
    /// Is this a mapping collection (never a target, no requirements of its own)?
    pub fn is_mapping(&self) -> bool {
        self.kind == KIND_MAPPING
    }
}

/// Why a catalog file was refused (nothing was stored).
#[derive(Debug, thiserror::Error)]
pub enum CatalogImportError {
    /// The file is not a usable OSCAL 1.1 catalog, profile or mapping collection; the message
    /// names the JSON path.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Domain(#[from] DomainError),
}

const CATALOG_COLUMNS: &str = "id, kind, uuid, title, version, file_name, sha256, requirements, previous, flagged, created_at, verbund_id";

fn catalog_row(r: &AnyRow) -> Result<ImportedCatalog> {
    Ok(ImportedCatalog {
        id: r.try_get("id").map_err(internal)?,
        kind: r.try_get("kind").map_err(internal)?,
        uuid: r.try_get("uuid").map_err(internal)?,
        title: r.try_get("title").map_err(internal)?,
        version: r.try_get("version").map_err(internal)?,
        file_name: r.try_get("file_name").map_err(internal)?,
        sha256: r.try_get("sha256").map_err(internal)?,
        requirements: r.try_get("requirements").map_err(internal)?,
        previous: r.try_get("previous").map_err(internal)?,
        flagged: r.try_get("flagged").map_err(internal)?,
        created_at: r.try_get("created_at").map_err(internal)?,
        verbund_id: r.try_get("verbund_id").map_err(internal)?,
    })
}

/// May the scope import catalogs for some owner (an office officer for the Verbund,
/// administrators for the installation or any Verbund)?
pub fn may_import_catalogs(scope: &Scope) -> bool {
    !scope.shared_owners_managed().is_empty()
}

/// The imported files a catalog of `owner` may build on and is compared with: the
/// installation's, and for a Verbund's also its own.
fn in_audience(owner: Owner, c: &ImportedCatalog) -> bool {
    c.owner() == Owner::Installation || c.owner() == owner
}

/// Parsed mapping collections by the SHA-256 of their file: the key is the content, so an entry
/// can never be stale (a restore that puts other files under the same ids has other hashes).
fn mapping_cache(
) -> &'static std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<MappingSet>>> {
    static CACHE: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<MappingSet>>>,
    > = std::sync::OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The checks a mapping collection must pass beyond the OSCAL reader's (which checks ids):
/// at least one map, and every map with at least one source and one target. Returns the JSON
/// path of the first map.
fn check_mapping_maps(m: &MappingCollectionDoc) -> std::result::Result<String, String> {
    let mut first = None;
    for (i, mp) in m.mappings.iter().enumerate() {
        for (j, map) in mp.maps.iter().enumerate() {
            let path = format!("mapping-collection.mappings[{i}].maps[{j}]");
            if map.sources.is_empty() {
                return Err(format!("{path}.sources: a map needs at least one source"));
            }
            if map.targets.is_empty() {
                return Err(format!("{path}.targets: a map needs at least one target"));
            }
            first.get_or_insert(path);
        }
    }
    first.ok_or_else(|| {
        let path = if m.mappings.is_empty() {
            "mapping-collection.mappings".to_string()
        } else {
            "mapping-collection.mappings[*].maps".to_string()
        };
        format!("{path}: the mapping collection contains no maps")
    })
}

impl Store {
    /// The imported catalogs, profiles and mapping collections the scope sees (the
    /// installation's and its Verbünde's), oldest first.
    pub async fn imported_catalogs(&self, scope: &Scope) -> Result<Vec<ImportedCatalog>> {
        let mut all = self.all_imported().await?;
        all.retain(|c| scope.sees_shared(c.owner()));
        Ok(all)
    }

    async fn all_imported(&self) -> Result<Vec<ImportedCatalog>> {
        let rows = sqlx::query(&format!(
            "SELECT {CATALOG_COLUMNS} FROM sec_catalog ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?;
        rows.iter().map(catalog_row).collect()
    }

    /// The requirement set of an imported catalog or profile (`NotFound` for a mapping
    /// collection: see [`Store::imported_mapping`]).
    pub async fn imported_catalog(
        &self,
        scope: &Scope,
        id: i64,
    ) -> Result<(ImportedCatalog, Catalog)> {
        let row = sqlx::query(&format!(
            "SELECT {CATALOG_COLUMNS}, resolved FROM sec_catalog WHERE id = $1 AND kind <> $2"
        ))
        .bind(id)
        .bind(KIND_MAPPING)
        .fetch_optional(&self.pool)
        .await
        .map_err(internal)?
        .ok_or(DomainError::NotFound)?;
        let meta = catalog_row(&row)?;
        if !scope.sees_shared(meta.owner()) {
            return Err(DomainError::NotFound);
        }
        let resolved: String = row.try_get("resolved").map_err(internal)?;
        Ok((meta, serde_json::from_str(&resolved).map_err(internal)?))
    }

    /// The parsed mapping collection of a stored row (from the cache when its file was seen).
    async fn mapping_set(&self, meta: &ImportedCatalog) -> Result<std::sync::Arc<MappingSet>> {
        let cached = mapping_cache()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&meta.sha256)
            .cloned();
        if let Some(set) = cached {
            return Ok(set);
        }
        let row = sqlx::query("SELECT content FROM sec_catalog WHERE id = $1")
            .bind(meta.id)
            .fetch_one(&self.pool)
            .await
            .map_err(internal)?;
        let content: String = row.try_get("content").map_err(internal)?;
        let set = std::sync::Arc::new(
            MappingSet::from_json(content.as_bytes()).map_err(|e| internal(e.to_string()))?,
        );
        mapping_cache()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(meta.sha256.clone(), set.clone());
        Ok(set)
    }

    /// One imported mapping collection with its maps (`NotFound` for a catalog or profile).
    pub async fn imported_mapping(
        &self,
        scope: &Scope,
        id: i64,
    ) -> Result<(ImportedCatalog, MappingSet)> {
        let row = sqlx::query(&format!(
            "SELECT {CATALOG_COLUMNS} FROM sec_catalog WHERE id = $1 AND kind = $2"
        ))
        .bind(id)
        .bind(KIND_MAPPING)
        .fetch_optional(&self.pool)
        .await
        .map_err(internal)?
        .ok_or(DomainError::NotFound)?;
        let meta = catalog_row(&row)?;
        if !scope.sees_shared(meta.owner()) {
            return Err(DomainError::NotFound);
        }
        let set = self.mapping_set(&meta).await?;
        Ok((meta, (*set).clone()))
    }

    /// Every imported mapping collection the scope sees, with its maps, oldest first.
    pub async fn imported_mappings(
        &self,
        scope: &Scope,
    ) -> Result<Vec<(ImportedCatalog, MappingSet)>> {
        let rows = sqlx::query(&format!(
            "SELECT {CATALOG_COLUMNS} FROM sec_catalog WHERE kind = $1 ORDER BY id"
        ))
        .bind(KIND_MAPPING)
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?;
        let mut out = Vec::with_capacity(rows.len());
        let mut stored = Vec::with_capacity(rows.len());
        for r in &rows {
            let meta = catalog_row(r)?;
            stored.push(meta.sha256.clone());
            if !scope.sees_shared(meta.owner()) {
                continue;
            }
            let set = self.mapping_set(&meta).await?;
            out.push((meta, (*set).clone()));
        }
        // Forget files that are no longer stored (after a restore).
        mapping_cache()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|sha, _| stored.contains(sha));
        Ok(out)
    }

    /// Imports an OSCAL 1.1 catalog, profile or mapping collection (a profile is resolved against
    /// the shipped and the imported catalogs; a mapping collection must name at least one
    /// requirement of them). A later version of a known catalog (same uuid or title) is stored
    /// beside the old one, and answers — in the owner's towns the scope may write — to
    /// requirements whose statement changed are flagged "review". The file belongs to `owner`: a
    /// Verbund's is seen by its members only and builds on the installation's and its own files;
    /// the installation's is seen by everyone and builds on the installation's only. All or
    /// nothing, audited in the owner's log.
    pub async fn import_catalog(
        &self,
        scope: &Scope,
        owner: Owner,
        file_name: &str,
        bytes: &[u8],
    ) -> std::result::Result<ImportedCatalog, CatalogImportError> {
        use sha2::Digest as _;
        scope.require_shared(owner)?;
        let refused = |e: OscalError| CatalogImportError::Refused(e.to_string());
        let shipped = stadtmauer_catalog::shipped().map_err(|e| internal(e.to_string()))?;
        let mut stored = self.all_imported().await?;
        stored.retain(|c| in_audience(owner, c));
        let mut earlier: Vec<(ImportedCatalog, Catalog)> = Vec::new();
        for c in stored.iter().filter(|c| !c.is_mapping()) {
            earlier.push(self.imported_catalog(scope, c.id).await?);
        }
        let (kind, cat) = match oscal::parse(bytes).map_err(refused)? {
            Document::Catalog(doc) => ("catalog", Catalog::from_doc(&doc, file_name)),
            Document::Profile(p) => {
                let mut resolver = shipped.resolver();
                for (m, c) in &earlier {
                    resolver.add_catalog(&m.file_name, c);
                }
                let r = stadtmauer_catalog::profile::resolve(&p, file_name, &resolver)
                    .map_err(|e| CatalogImportError::Refused(format!("profile: {e}")))?;
                ("profile", r.catalog)
            }
            Document::MappingCollection(m) => {
                let known: Vec<&Catalog> = [&shipped.kernel, &shipped.methodik, &shipped.risiko]
                    .into_iter()
                    .chain(earlier.iter().map(|(_, c)| c))
                    .collect();
                let old_mappings = [&shipped.iso_mapping, &shipped.itgs_mapping]
                    .into_iter()
                    .map(|s| (s.uuid.as_str(), s.title.as_str(), s.version.as_str()));
                return self
                    .import_mapping(
                        scope,
                        owner,
                        file_name,
                        bytes,
                        &m,
                        &known,
                        &stored,
                        old_mappings,
                    )
                    .await;
            }
            other => {
                return Err(refused(OscalError::WrongDocument {
                    expected: "catalog, profile or mapping-collection",
                    found: other.kind(),
                }))
            }
        };
        if cat.requirements.is_empty() {
            return Err(CatalogImportError::Refused(format!(
                "{kind}: contains no controls"
            )));
        }
        let content = std::str::from_utf8(bytes)
            .map_err(|e| CatalogImportError::Refused(format!("not UTF-8: {e}")))?;
        let sha256 = hex::encode(sha2::Sha256::digest(bytes));
        if let Some(same) = stored.iter().find(|c| c.sha256 == sha256) {
            return Err(CatalogImportError::Refused(format!(
                "this file was already imported as {:?} version {:?}",
                same.title, same.version
            )));
        }
        // The earlier version: the latest imported one with the same uuid or title, else a
        // shipped catalog with the same uuid or title.
        let same = |c: &Catalog| c.uuid == cat.uuid || c.title.trim() == cat.title.trim();
        let old: Option<&Catalog> = earlier
            .iter()
            .rev()
            .map(|(_, c)| c)
            .find(|c| same(c))
            .or_else(|| {
                [
                    &shipped.kernel,
                    &shipped.methodik,
                    &shipped.risiko,
                    &shipped.iso27001,
                ]
                .into_iter()
                .find(|c| same(c))
            });
        if old.is_some_and(|o| o.version.trim() == cat.version.trim()) {
            return Err(CatalogImportError::Refused(format!(
                "{kind}.metadata.version: version {:?} of {:?} is already known; a new version needs a new metadata.version",
                cat.version, cat.title
            )));
        }
        // Answers to flag, per town the scope may write.
        let mut review: Vec<(i64, String)> = Vec::new();
        if let Some(old) = old {
            let mut towns = scope.with(Access::WriteTechnical);
            if let Owner::Verbund(v) = owner {
                let members = self.verbund_members(v).await?;
                towns.retain(|t| members.contains(t));
            }
            let rows = sqlx::query(&format!(
                "SELECT DISTINCT organisation_id, requirement_id FROM sec_answer WHERE organisation_id IN {}",
                id_list(towns.iter().map(|o| o.0))
            ))
            .fetch_all(&self.pool)
            .await
            .map_err(internal)?;
            let mut by_org: std::collections::BTreeMap<i64, Vec<String>> = Default::default();
            for r in rows {
                let o: i64 = r.try_get(0).map_err(internal)?;
                let id: String = r.try_get(1).map_err(internal)?;
                if old.get(&id).is_some() {
                    by_org.entry(o).or_default().push(id);
                }
            }
            for (o, ids) in by_org {
                for c in carry_over(old, &cat, ids.iter().map(String::as_str)) {
                    if let CarryOver::Review { old_id, .. } = c {
                        review.push((o, old_id));
                    }
                }
            }
        }
        let resolved = serde_json::to_string(&cat).map_err(internal)?;
        let mut meta = ImportedCatalog {
            id: 0,
            kind: kind.to_string(),
            uuid: cat.uuid.clone(),
            title: cat.title.trim().to_string(),
            version: cat.version.trim().to_string(),
            file_name: file_name.trim().chars().take(200).collect(),
            sha256,
            requirements: cat.requirements.len() as i64,
            previous: old.map(|o| format!("{} {}", o.title.trim(), o.version.trim())),
            flagged: review.len() as i64,
            created_at: now(),
            verbund_id: owner.verbund().map(|v| v.0),
        };
        let mut w = self.begin_write(scope).await?;
        meta.id = insert_imported(&mut w, &meta, content, &resolved).await?;
        let id = meta.id;
        let mut per_org: std::collections::BTreeMap<i64, Vec<&str>> = Default::default();
        for (o, req) in &review {
            sqlx::query(
                "UPDATE sec_answer SET needs_review = 1 WHERE organisation_id = $1 AND requirement_id = $2",
            )
            .bind(o)
            .bind(req)
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
            per_org.entry(*o).or_default().push(req);
        }
        w.audit_owner(
            owner,
            "import",
            "security_catalog",
            id,
            None,
            Some(json!(meta)),
        )
        .await?;
        for (o, reqs) in per_org {
            w.audit(
                Some(OrgId(o)),
                "update",
                "security_review",
                o,
                None,
                Some(json!({ "catalog_id": id, "requirements": reqs })),
            )
            .await?;
        }
        w.commit().await?;
        Ok(meta)
    }

    /// The mapping-collection half of [`Store::import_catalog`]: at least one map, and at least
    /// one control it names (source or target) must be a requirement of `known` (the shipped
    /// Kernel, Methodik and Risiko, and the imported catalogs and profiles). Stored with kind
    /// `mapping`, its number of maps as `requirements`, and no answer is flagged.
    #[allow(clippy::too_many_arguments)]
    async fn import_mapping<'a>(
        &self,
        scope: &Scope,
        owner: Owner,
        file_name: &str,
        bytes: &[u8],
        doc: &MappingCollectionDoc,
        known: &[&Catalog],
        stored: &[ImportedCatalog],
        shipped_mappings: impl Iterator<Item = (&'a str, &'a str, &'a str)>,
    ) -> std::result::Result<ImportedCatalog, CatalogImportError> {
        use sha2::Digest as _;
        let first = check_mapping_maps(doc).map_err(CatalogImportError::Refused)?;
        let set = MappingSet::from_doc(doc);
        let is_known = |id: &String| known.iter().any(|c| c.get(id).is_some());
        let mut known_ids: Vec<&String> = set
            .entries
            .iter()
            .flat_map(|e| e.sources.iter().chain(e.targets.iter()))
            .filter(|id| is_known(id))
            .collect();
        known_ids.sort();
        known_ids.dedup();
        if known_ids.is_empty() {
            return Err(CatalogImportError::Refused(format!(
                "{first}: no control named by the mapping collection (sources or targets) is a requirement \
                 of the shipped Grundschutz++ catalogs (Kernel, Methodik, Risiko) or of an imported catalog or profile"
            )));
        }
        let content = std::str::from_utf8(bytes)
            .map_err(|e| CatalogImportError::Refused(format!("not UTF-8: {e}")))?;
        let sha256 = hex::encode(sha2::Sha256::digest(bytes));
        if let Some(same) = stored.iter().find(|c| c.sha256 == sha256) {
            return Err(CatalogImportError::Refused(format!(
                "this file was already imported as {:?} version {:?}",
                same.title, same.version
            )));
        }
        let title = set.title.trim();
        let version = set.version.trim();
        // The earlier version: the latest imported mapping collection with the same uuid or
        // title, else a shipped one.
        let same = |uuid: &str, t: &str| uuid == set.uuid || t.trim() == title;
        let old: Option<(String, String)> = stored
            .iter()
            .rev()
            .filter(|c| c.is_mapping())
            .find(|c| same(&c.uuid, &c.title))
            .map(|c| (c.title.clone(), c.version.clone()))
            .or_else(|| {
                let mut shipped_mappings = shipped_mappings;
                shipped_mappings
                    .find(|(u, t, _)| same(u, t))
                    .map(|(_, t, v)| (t.trim().to_string(), v.trim().to_string()))
            });
        if old.as_ref().is_some_and(|(_, v)| v == version) {
            return Err(CatalogImportError::Refused(format!(
                "mapping-collection.metadata.version: version {version:?} of {title:?} is already known; \
                 a new version needs a new metadata.version"
            )));
        }
        let hrefs = |f: fn(&stadtmauer_catalog::mapping::MapEntry) -> &String| {
            let mut v: Vec<&String> = set.entries.iter().map(f).collect();
            v.sort();
            v.dedup();
            v.into_iter().cloned().collect::<Vec<String>>()
        };
        let resolved = json!({
            "maps": set.entries.len(),
            "known_ids": known_ids.len(),
            "source_catalogs": hrefs(|e| &e.source_catalog),
            "target_catalogs": hrefs(|e| &e.target_catalog),
        })
        .to_string();
        let mut meta = ImportedCatalog {
            id: 0,
            kind: KIND_MAPPING.to_string(),
            uuid: set.uuid.clone(),
            title: title.to_string(),
            version: version.to_string(),
            file_name: file_name.trim().chars().take(200).collect(),
            sha256,
            requirements: set.entries.len() as i64,
            previous: old.map(|(t, v)| format!("{t} {v}")),
            flagged: 0,
            created_at: now(),
            verbund_id: owner.verbund().map(|v| v.0),
        };
        let mut w = self.begin_write(scope).await?;
        meta.id = insert_imported(&mut w, &meta, content, &resolved).await?;
        w.audit_owner(
            owner,
            "import",
            "security_catalog",
            meta.id,
            None,
            Some(json!(meta)),
        )
        .await?;
        w.commit().await?;
        Ok(meta)
    }
}

/// Inserts an imported file's row; returns its id.
async fn insert_imported(
    w: &mut crate::WriteTx<'_>,
    meta: &ImportedCatalog,
    content: &str,
    resolved: &str,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO sec_catalog (kind, uuid, title, version, file_name, sha256, requirements, previous, flagged, \
         content, resolved, created_at, verbund_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
    )
    .bind(&meta.kind)
    .bind(&meta.uuid)
    .bind(&meta.title)
    .bind(&meta.version)
    .bind(&meta.file_name)
    .bind(&meta.sha256)
    .bind(meta.requirements)
    .bind(meta.previous.clone())
    .bind(meta.flagged)
    .bind(content)
    .bind(resolved)
    .bind(meta.created_at)
    .bind(meta.verbund_id)
    .fetch_one(&mut *w.tx)
    .await
    .map_err(internal)?;
    row.try_get(0).map_err(internal)
}

// ---------------------------------------------------------------------------------------------
// The office's own requirements
// ---------------------------------------------------------------------------------------------

use stadtmauer_catalog::own::OwnRequirement;

fn own_row(r: &AnyRow) -> Result<(i64, OwnRequirement)> {
    let text = |c: &str| r.try_get::<Option<String>, _>(c).map_err(internal);
    let level: String = r.try_get("sec_level").map_err(internal)?;
    let effort: i64 = r.try_get("effort_level").map_err(internal)?;
    Ok((
        r.try_get("id").map_err(internal)?,
        OwnRequirement {
            code: r.try_get("code").map_err(internal)?,
            practice: r.try_get("practice").map_err(internal)?,
            title: r.try_get("title").map_err(internal)?,
            statement: r.try_get("statement").map_err(internal)?,
            guidance: text("guidance")?,
            sec_level: stadtmauer_catalog::SecLevel::parse(&level)
                .unwrap_or(stadtmauer_catalog::SecLevel::NormalSdt),
            effort_level: effort.clamp(0, 5) as u8,
            target_category: text("target_category")?,
        },
    ))
}

const OWN_COLUMNS: &str =
    "id, code, practice, title, statement, guidance, sec_level, effort_level, target_category";

impl Store {
    /// The requirements the office added to a Verbund's uniform target, by code.
    pub async fn own_requirements(
        &self,
        scope: &Scope,
        v: VerbundId,
    ) -> Result<Vec<(i64, OwnRequirement)>> {
        self.verbund(scope, v).await?;
        let rows = sqlx::query(&format!(
            "SELECT {OWN_COLUMNS} FROM sec_own_requirement WHERE verbund_id = $1 ORDER BY code"
        ))
        .bind(v.0)
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?;
        rows.iter().map(own_row).collect()
    }

    /// The own requirements a town must meet: its Verbund's (none without a Verbund).
    pub async fn town_own_requirements(
        &self,
        scope: &Scope,
        org: OrgId,
    ) -> Result<Vec<OwnRequirement>> {
        let o = self.organisation(scope, org).await?;
        let Some(v) = o.verbund_id else {
            return Ok(vec![]);
        };
        let rows = sqlx::query(&format!(
            "SELECT {OWN_COLUMNS} FROM sec_own_requirement WHERE verbund_id = $1 ORDER BY code"
        ))
        .bind(v.0)
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?;
        rows.iter().map(|r| own_row(r).map(|x| x.1)).collect()
    }

    /// Adds (`id: None`) or changes an own requirement of the Verbund (the office). A code is
    /// unique in the Verbund; changing the code of a requirement with answers is refused, since
    /// the answers are keyed by it.
    pub async fn save_own_requirement(
        &self,
        scope: &Scope,
        v: VerbundId,
        id: Option<i64>,
        r: &OwnRequirement,
    ) -> Result<i64> {
        self.verbund(scope, v).await?;
        if !scope.manages_verbund(v) || scope.read_only {
            return Err(DomainError::Forbidden);
        }
        let before = match id {
            Some(id) => Some(
                self.own_requirements(scope, v)
                    .await?
                    .into_iter()
                    .find(|(i, _)| *i == id)
                    .ok_or(DomainError::NotFound)?
                    .1,
            ),
            None => None,
        };
        let mut w = self.begin_write(scope).await?;
        if let Some(old) = before.as_ref().filter(|o| o.code != r.code) {
            let answered = sqlx::query(
                "SELECT a.id FROM sec_answer a JOIN organisation o ON o.id = a.organisation_id \
                 WHERE o.verbund_id = $1 AND a.requirement_id = $2",
            )
            .bind(v.0)
            .bind(&old.code)
            .fetch_optional(&mut *w.tx)
            .await
            .map_err(internal)?;
            if answered.is_some() {
                return Err(DomainError::field("code", "sec.own.err.code_answered"));
            }
        }
        let level = r.sec_level.as_str();
        let new_id = match id {
            Some(id) => {
                sqlx::query(
                    "UPDATE sec_own_requirement SET code = $1, practice = $2, title = $3, statement = $4, \
                     guidance = $5, sec_level = $6, effort_level = $7, target_category = $8, updated_at = $9 \
                     WHERE id = $10 AND verbund_id = $11",
                )
                .bind(&r.code)
                .bind(&r.practice)
                .bind(&r.title)
                .bind(&r.statement)
                .bind(r.guidance.clone())
                .bind(level)
                .bind(i64::from(r.effort_level))
                .bind(r.target_category.clone())
                .bind(now())
                .bind(id)
                .bind(v.0)
                .execute(&mut *w.tx)
                .await
                .map_err(crate::unique_or_internal("code"))?;
                id
            }
            None => {
                let row = sqlx::query(
                    "INSERT INTO sec_own_requirement (verbund_id, code, practice, title, statement, guidance, \
                     sec_level, effort_level, target_category, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
                )
                .bind(v.0)
                .bind(&r.code)
                .bind(&r.practice)
                .bind(&r.title)
                .bind(&r.statement)
                .bind(r.guidance.clone())
                .bind(level)
                .bind(i64::from(r.effort_level))
                .bind(r.target_category.clone())
                .bind(now())
                .fetch_one(&mut *w.tx)
                .await
                .map_err(crate::unique_or_internal("code"))?;
                row.try_get(0).map_err(internal)?
            }
        };
        w.audit_owner(
            Owner::Verbund(v),
            if before.is_some() { "update" } else { "create" },
            "security_own_requirement",
            format!("verbund:{}:{}", v.0, new_id),
            before.map(|b| json!(b)),
            Some(json!(r)),
        )
        .await?;
        w.commit().await?;
        Ok(new_id)
    }

    /// Removes an own requirement from the Verbund's target. Answers to it stay recorded (they
    /// count again if a requirement with the same code comes back).
    pub async fn delete_own_requirement(&self, scope: &Scope, v: VerbundId, id: i64) -> Result<()> {
        let before = self
            .own_requirements(scope, v)
            .await?
            .into_iter()
            .find(|(i, _)| *i == id)
            .ok_or(DomainError::NotFound)?
            .1;
        if !scope.manages_verbund(v) || scope.read_only {
            return Err(DomainError::Forbidden);
        }
        let mut w = self.begin_write(scope).await?;
        sqlx::query("DELETE FROM sec_own_requirement WHERE id = $1 AND verbund_id = $2")
            .bind(id)
            .bind(v.0)
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
        w.audit_owner(
            Owner::Verbund(v),
            "delete",
            "security_own_requirement",
            format!("verbund:{}:{}", v.0, id),
            Some(json!(before)),
            None,
        )
        .await?;
        w.commit().await
    }
}
