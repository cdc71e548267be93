//! Ransomware readiness: BIA, backups, restart order, readiness, emergency handbook, exercises.
//!
//! What a town records (BIA per process, backup register, checklist answers, handbook contacts,
//! exercises) is stored as validated `stadtmauer_continuity` values in JSON columns; verdicts,
//! the restart order and the score are derived on request from [`TownContinuity`]. Writes bump
//! `bcm_town.data_revision` when they change the handbook's content; an export records the
//! revision it was made from, so the UI can warn that the last exported handbook is out of date.

use crate::{id_list, internal, Result, Store, WriteTx};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
pub use stadtmauer_continuity;
use stadtmauer_continuity::backup::{Backup, BackupInput};
use stadtmauer_continuity::bia::{Bia, BiaContext, BiaInput};
use stadtmauer_continuity::handbook::{AlarmStep, CrisisRole, ExternalContact};
use stadtmauer_continuity::readiness::{Answer, Checklist};
use stadtmauer_continuity::restart::{
    default_infrastructure, default_restore, RestartGraph, RestartNode,
};
use stadtmauer_core::validate::FieldErrors;
use stadtmauer_core::{now, Access, DomainError, ObjectId, OrgId, Scope};
use stadtmauer_inventory::model::ObjectKind;
use std::collections::{HashMap, HashSet};
use time::Date;

/// The handbook's contacts of one town.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contacts {
    pub alarm_chain: Vec<AlarmStep>,
    pub crisis_team: Vec<CrisisRole>,
    pub external: Vec<ExternalContact>,
}

/// A register entry with its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredBackup {
    pub id: i64,
    pub backup: Backup,
}

/// One handbook download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportRecord {
    pub version: i64,
    /// The data revision the export was made from.
    pub data_revision: i64,
    pub format: String,
    pub checksum: String,
    pub created_at: i64,
    pub created_by: String,
}

/// Everything recorded about one town's continuity, plus the restart graph from its inventory.
#[derive(Debug, Clone)]
pub struct TownContinuity {
    pub org: OrgId,
    /// Objects of the town and the shared providers it uses, with default restore times and
    /// effective availability; "uses" edges from the town's links.
    pub graph: RestartGraph,
    pub names: HashMap<ObjectId, String>,
    pub bias: Vec<Bia>,
    pub backups: Vec<StoredBackup>,
    pub checklist: Checklist,
    pub contacts: Contacts,
    /// Counts the writes that change the handbook (0: none yet).
    pub data_revision: i64,
    pub last_export: Option<ExportRecord>,
    /// The update watch's figure for the readiness score.
    pub patch: stadtmauer_continuity::readiness::PatchStatus,
}

impl TownContinuity {
    pub fn backup_values(&self) -> Vec<Backup> {
        self.backups.iter().map(|b| b.backup.clone()).collect()
    }
    /// The version the next export gets: one more than the last export when the data changed
    /// since, else the same (downloading unchanged data again does not make a new version).
    pub fn handbook_version(&self) -> i64 {
        match &self.last_export {
            Some(e) if self.data_revision <= e.data_revision => e.version,
            Some(e) => e.version + 1,
            None => 1,
        }
    }
    /// Has anything that goes into the handbook changed since the last export?
    pub fn handbook_outdated(&self) -> bool {
        match &self.last_export {
            Some(e) => self.data_revision > e.data_revision,
            None => true,
        }
    }
}

/// "All unknown": an unanswered question is not a safeguard.
pub fn unknown_checklist() -> Checklist {
    Checklist {
        mfa_remote_access: Answer::Unknown,
        admin_accounts_separated: Answer::Unknown,
        segmentation: Answer::Unknown,
        edr: Answer::Unknown,
    }
}

fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

/// Marks the town's handbook data as changed (creating the town's row if needed).
async fn touch(w: &mut WriteTx<'_>, org: OrgId) -> Result<()> {
    let t = now();
    let done = sqlx::query(
        "UPDATE bcm_town SET data_revision = data_revision + 1, updated_at = $1 WHERE organisation_id = $2",
    )
    .bind(t)
    .bind(org.0)
    .execute(&mut *w.tx)
    .await
    .map_err(internal)?;
    if done.rows_affected() == 0 {
        let checklist = serde_json::to_string(&unknown_checklist()).map_err(internal)?;
        let contacts = serde_json::to_string(&Contacts::default()).map_err(internal)?;
        sqlx::query(
            "INSERT INTO bcm_town (organisation_id, checklist, contacts, data_revision, updated_at) VALUES ($1, $2, $3, 1, $4)",
        )
        .bind(org.0)
        .bind(checklist)
        .bind(contacts)
        .bind(t)
        .execute(&mut *w.tx)
        .await
        .map_err(internal)?;
    }
    Ok(())
}

fn parse_json<T: for<'de> Deserialize<'de>>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(internal)
}

impl Store {
    /// Everything recorded about a town's continuity (read access).
    pub async fn continuity(&self, scope: &Scope, org: OrgId) -> Result<TownContinuity> {
        scope.require(org, Access::Read)?;
        let (objects, links) = self.town_graph(scope, org).await?;
        let mut names = HashMap::new();
        let nodes = objects
            .iter()
            .map(|o| {
                names.insert(o.id, o.data.name.clone());
                let st = o.data.system_type.as_deref();
                RestartNode {
                    id: o.id,
                    kind: o.data.kind,
                    system_type: o.data.system_type.clone(),
                    name: o.data.name.clone(),
                    availability: o.effective.a,
                    restore: default_restore(o.data.kind, st),
                    is_infrastructure: default_infrastructure(o.data.kind, st),
                }
            })
            .collect();
        let graph = RestartGraph {
            nodes,
            edges: links,
        };
        let bias =
            sqlx::query("SELECT data FROM bcm_bia WHERE organisation_id = $1 ORDER BY process_id")
                .bind(org.0)
                .fetch_all(&self.pool)
                .await
                .map_err(internal)?
                .iter()
                .map(|r| parse_json::<Bia>(&r.try_get::<String, _>(0).map_err(internal)?))
                .collect::<Result<Vec<_>>>()?;
        let backups = self.backups(scope, org).await?;
        let row = sqlx::query(
            "SELECT checklist, contacts, data_revision FROM bcm_town WHERE organisation_id = $1",
        )
        .bind(org.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(internal)?;
        let (checklist, contacts, data_revision) = match row {
            Some(r) => (
                parse_json(&r.try_get::<String, _>(0).map_err(internal)?)?,
                parse_json(&r.try_get::<String, _>(1).map_err(internal)?)?,
                r.try_get::<i64, _>(2).map_err(internal)?,
            ),
            None => (unknown_checklist(), Contacts::default(), 0),
        };
        let last_export = self.handbook_exports(scope, org).await?.into_iter().next();
        let patch = self.patch_status_of(scope, org).await?;
        Ok(TownContinuity {
            org,
            graph,
            names,
            bias,
            backups,
            checklist,
            contacts,
            data_revision,
            last_export,
            patch,
        })
    }

    /// From the update watch: the share of the town's installed products with no open finding
    /// of support ended, known exploited vulnerability or advisory (`None`: nothing installed is
    /// recorded, so the update watch cannot say).
    async fn patch_status_of(
        &self,
        scope: &Scope,
        org: OrgId,
    ) -> Result<stadtmauer_continuity::readiness::PatchStatus> {
        let installed = self.installations(scope, org).await?;
        if installed.is_empty() {
            return Ok(patch_status());
        }
        let behind: HashSet<String> = self
            .findings(scope, org, false)
            .await?
            .into_iter()
            .filter(|f| matches!(f.kind.as_str(), "unsupported" | "kev" | "advisory"))
            .map(|f| f.inst)
            .collect();
        let current = installed
            .iter()
            .filter(|i| !behind.contains(&i.inst))
            .count();
        Ok(stadtmauer_continuity::readiness::PatchStatus {
            percent_current: u8::try_from(current * 100 / installed.len()).ok(),
        })
    }

    /// The backup register of a town, by id.
    pub async fn backups(&self, scope: &Scope, org: OrgId) -> Result<Vec<StoredBackup>> {
        scope.require(org, Access::Read)?;
        sqlx::query("SELECT id, data FROM bcm_backup WHERE organisation_id = $1 ORDER BY id")
            .bind(org.0)
            .fetch_all(&self.pool)
            .await
            .map_err(internal)?
            .iter()
            .map(|r| {
                Ok(StoredBackup {
                    id: r.try_get(0).map_err(internal)?,
                    backup: parse_json(&r.try_get::<String, _>(1).map_err(internal)?)?,
                })
            })
            .collect()
    }

    /// The BIA of one process, if recorded (`NotFound` outside the scope or for other kinds).
    pub async fn bia(&self, scope: &Scope, process: ObjectId) -> Result<Option<Bia>> {
        let o = self.object(scope, process).await?;
        if o.data.kind != ObjectKind::Process {
            return Err(DomainError::NotFound);
        }
        scope.require(o.organisation_id, Access::Read)?;
        let row = sqlx::query("SELECT data FROM bcm_bia WHERE process_id = $1")
            .bind(process.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(internal)?;
        row.map(|r| parse_json(&r.try_get::<String, _>(0).map_err(internal)?))
            .transpose()
    }

    /// Records the BIA of a process (coordinator: write access). Invalid input changes nothing.
    pub async fn save_bia(
        &self,
        scope: &Scope,
        process: ObjectId,
        input: &BiaInput,
    ) -> Result<Bia> {
        let o = self.object(scope, process).await?;
        let org = o.organisation_id;
        if o.data.kind != ObjectKind::Process {
            return Err(DomainError::NotFound);
        }
        scope.require(org, Access::Write)?;
        // Does any system the process uses (directly or not) have a backup?
        let (_, links) = self.town_graph(scope, org).await?;
        let covered: HashSet<ObjectId> = self
            .backups(scope, org)
            .await?
            .iter()
            .flat_map(|b| b.backup.systems.iter().copied())
            .collect();
        let mut deps: HashMap<ObjectId, Vec<ObjectId>> = HashMap::new();
        for (a, b) in &links {
            deps.entry(*a).or_default().push(*b);
        }
        let mut seen = HashSet::from([process]);
        let mut stack = vec![process];
        let mut has_backup = false;
        while let Some(x) = stack.pop() {
            if covered.contains(&x) {
                has_backup = true;
                break;
            }
            for y in deps.get(&x).into_iter().flatten() {
                if seen.insert(*y) {
                    stack.push(*y);
                }
            }
        }
        let bia = input.validate(BiaContext {
            process,
            has_backup,
        })?;
        let data = serde_json::to_string(&bia).map_err(internal)?;
        let before = self.bia(scope, process).await?;
        let mut w = self.begin_write(scope).await?;
        sqlx::query("DELETE FROM bcm_bia WHERE process_id = $1")
            .bind(process.0)
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
        sqlx::query(
            "INSERT INTO bcm_bia (process_id, organisation_id, data, updated_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(process.0)
        .bind(org.0)
        .bind(&data)
        .bind(now())
        .execute(&mut *w.tx)
        .await
        .map_err(internal)?;
        touch(&mut w, org).await?;
        w.audit(
            Some(org),
            if before.is_some() {
                "bcm.bia.update"
            } else {
                "bcm.bia.create"
            },
            "bcm_bia",
            process,
            before.map(|b| json!(b)),
            Some(json!(bia)),
        )
        .await?;
        w.commit().await?;
        Ok(bia)
    }

    /// Creates (`id: None`) or replaces a register entry (IT staff: technical write). The systems
    /// must be IT systems of the town.
    pub async fn save_backup(
        &self,
        scope: &Scope,
        org: OrgId,
        id: Option<i64>,
        input: &BackupInput,
    ) -> Result<i64> {
        scope.require(org, Access::WriteTechnical)?;
        let systems: HashSet<ObjectId> = self
            .objects(scope, org, Some(ObjectKind::System), false)
            .await?
            .into_iter()
            .map(|o| o.id)
            .collect();
        let mut extra = FieldErrors::default();
        if input.systems.iter().any(|s| !systems.contains(s)) {
            extra.add("systems", "err.backup.unknown_system");
        }
        let backup = match (input.validate(today()), extra.is_empty()) {
            (Ok(b), true) => b,
            (Ok(_), false) => return Err(DomainError::Invalid(extra)),
            (Err(DomainError::Invalid(mut e)), _) => {
                e.0.extend(extra.0);
                return Err(DomainError::Invalid(e));
            }
            (Err(e), _) => return Err(e),
        };
        let before = match id {
            Some(id) => Some(
                self.backups(scope, org)
                    .await?
                    .into_iter()
                    .find(|b| b.id == id)
                    .ok_or(DomainError::NotFound)?,
            ),
            None => None,
        };
        let data = serde_json::to_string(&backup).map_err(internal)?;
        let mut w = self.begin_write(scope).await?;
        let id = match id {
            Some(id) => {
                sqlx::query(
                    "UPDATE bcm_backup SET data = $1, updated_at = $2 WHERE id = $3 AND organisation_id = $4",
                )
                .bind(&data)
                .bind(now())
                .bind(id)
                .bind(org.0)
                .execute(&mut *w.tx)
                .await
                .map_err(internal)?;
                id
            }
            None => sqlx::query(
                "INSERT INTO bcm_backup (organisation_id, data, updated_at) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(org.0)
            .bind(&data)
            .bind(now())
            .fetch_one(&mut *w.tx)
            .await
            .map_err(internal)?
            .try_get(0)
            .map_err(internal)?,
        };
        touch(&mut w, org).await?;
        w.audit(
            Some(org),
            if before.is_some() {
                "bcm.backup.update"
            } else {
                "bcm.backup.create"
            },
            "bcm_backup",
            id,
            before.map(|b| json!(b.backup)),
            Some(json!(backup)),
        )
        .await?;
        w.commit().await?;
        Ok(id)
    }

    pub async fn delete_backup(&self, scope: &Scope, org: OrgId, id: i64) -> Result<()> {
        scope.require(org, Access::WriteTechnical)?;
        let before = self
            .backups(scope, org)
            .await?
            .into_iter()
            .find(|b| b.id == id)
            .ok_or(DomainError::NotFound)?;
        let mut w = self.begin_write(scope).await?;
        sqlx::query("DELETE FROM bcm_backup WHERE id = $1 AND organisation_id = $2")
            .bind(id)
            .bind(org.0)
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
        touch(&mut w, org).await?;
        w.audit(
            Some(org),
            "bcm.backup.delete",
            "bcm_backup",
            id,
            Some(json!(before.backup)),
            None,
        )
        .await?;
        w.commit().await
    }

    /// The ransomware checklist (technical answers: IT staff may write them).
    pub async fn save_checklist(&self, scope: &Scope, org: OrgId, c: &Checklist) -> Result<()> {
        scope.require(org, Access::WriteTechnical)?;
        let before = self.continuity_row(org).await?;
        let mut w = self.begin_write(scope).await?;
        touch(&mut w, org).await?;
        sqlx::query("UPDATE bcm_town SET checklist = $1 WHERE organisation_id = $2")
            .bind(serde_json::to_string(c).map_err(internal)?)
            .bind(org.0)
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
        w.audit(
            Some(org),
            "bcm.checklist.update",
            "bcm_town",
            org,
            before.map(|(c, _)| c),
            Some(json!(c)),
        )
        .await?;
        w.commit().await
    }

    /// The handbook's contacts (coordinator: write access).
    pub async fn save_contacts(&self, scope: &Scope, org: OrgId, c: &Contacts) -> Result<()> {
        scope.require(org, Access::Write)?;
        let before = self.continuity_row(org).await?;
        let mut w = self.begin_write(scope).await?;
        touch(&mut w, org).await?;
        sqlx::query("UPDATE bcm_town SET contacts = $1 WHERE organisation_id = $2")
            .bind(serde_json::to_string(c).map_err(internal)?)
            .bind(org.0)
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
        w.audit(
            Some(org),
            "bcm.contacts.update",
            "bcm_town",
            org,
            before.map(|(_, c)| c),
            Some(json!(c)),
        )
        .await?;
        w.commit().await
    }

    async fn continuity_row(
        &self,
        org: OrgId,
    ) -> Result<Option<(serde_json::Value, serde_json::Value)>> {
        let row =
            sqlx::query("SELECT checklist, contacts FROM bcm_town WHERE organisation_id = $1")
                .bind(org.0)
                .fetch_optional(&self.pool)
                .await
                .map_err(internal)?;
        row.map(|r| {
            Ok((
                parse_json(&r.try_get::<String, _>(0).map_err(internal)?)?,
                parse_json(&r.try_get::<String, _>(1).map_err(internal)?)?,
            ))
        })
        .transpose()
    }

    /// Handbook exports of a town, newest first.
    pub async fn handbook_exports(&self, scope: &Scope, org: OrgId) -> Result<Vec<ExportRecord>> {
        scope.require(org, Access::Read)?;
        sqlx::query(
            "SELECT version, data_revision, format, checksum, created_at, created_by FROM bcm_export WHERE organisation_id = $1 ORDER BY id DESC",
        )
        .bind(org.0)
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?
        .iter()
        .map(|r| {
            Ok(ExportRecord {
                version: r.try_get(0).map_err(internal)?,
                data_revision: r.try_get(1).map_err(internal)?,
                format: r.try_get(2).map_err(internal)?,
                checksum: r.try_get(3).map_err(internal)?,
                created_at: r.try_get(4).map_err(internal)?,
                created_by: r.try_get(5).map_err(internal)?,
            })
        })
        .collect()
    }

    /// Records a handbook download (read access suffices: anyone who may read may print it).
    pub async fn record_handbook_export(
        &self,
        scope: &Scope,
        org: OrgId,
        version: i64,
        data_revision: i64,
        format: &str,
        checksum: &str,
    ) -> Result<()> {
        scope.require(org, Access::Read)?;
        let mut w = self.begin_write(scope).await?;
        sqlx::query(
            "INSERT INTO bcm_export (organisation_id, version, data_revision, format, checksum, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(org.0)
        .bind(version)
        .bind(data_revision)
        .bind(format)
        .bind(checksum)
        .bind(now())
        .bind(scope.name.clone())
        .execute(&mut *w.tx)
        .await
        .map_err(internal)?;
        w.audit(
            Some(org),
            "bcm.handbook.export",
            "bcm_export",
            org,
            None,
            Some(json!({"version": version, "format": format, "checksum": checksum})),
        )
        .await?;
        w.commit().await
    }

    /// Towns of the list that have at least one BIA or backup (for the Verbund comparison).
    pub async fn continuity_towns(&self, scope: &Scope, orgs: &[OrgId]) -> Result<HashSet<OrgId>> {
        let ids: Vec<i64> = orgs
            .iter()
            .filter(|o| scope.can(**o, Access::Read))
            .map(|o| o.0)
            .collect();
        let list = id_list(ids);
        let sql = format!(
            "SELECT organisation_id FROM bcm_bia WHERE organisation_id IN {list} UNION SELECT organisation_id FROM bcm_backup WHERE organisation_id IN {list}"
        );
        Ok(sqlx::query(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(internal)?
            .iter()
            .filter_map(|r| r.try_get::<i64, _>(0).ok().map(OrgId))
            .collect())
    }
}

/// What the readiness page, the handbook and the benchmark derive from a town's records.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The graph with measured restore times applied.
    pub graph: RestartGraph,
    pub measured: std::collections::BTreeSet<ObjectId>,
    pub verdicts: stadtmauer_continuity::verdict::Verdicts,
    /// The restart plan after a total outage with `teams` restore teams.
    pub plan: stadtmauer_continuity::restart::RestartPlan,
    pub readiness: stadtmauer_continuity::readiness::Readiness,
}

/// "Unknown" patch status (earns nothing, as the readiness module documents): for towns with no
/// installed products recorded, and for the synthetic benchmark.
pub fn patch_status() -> stadtmauer_continuity::readiness::PatchStatus {
    stadtmauer_continuity::readiness::PatchStatus {
        percent_current: None,
    }
}

/// Verdicts, restart plan after a total outage and readiness score of one town.
pub fn analyse(
    t: &TownContinuity,
    today: Date,
    outage_start: time::PrimitiveDateTime,
    teams: usize,
) -> Analysis {
    use stadtmauer_continuity::{readiness, restart, verdict};
    let backups = t.backup_values();
    let mut graph = t.graph.clone();
    let measured = verdict::apply_measured_restores(&mut graph, &backups);
    let verdicts = verdict::judge(&graph, &t.bias, &backups, &measured, today);
    let mut total = restart::Outage::default();
    for n in &graph.nodes {
        if n.kind == ObjectKind::System
            || (n.kind == ObjectKind::Application && n.restore > stadtmauer_continuity::Span::ZERO)
        {
            total.down.insert(n.id, n.restore);
        }
    }
    let plan = restart::plan(
        &graph,
        &t.bias,
        &total,
        restart::PlanOptions {
            teams,
            outage_start,
        },
    );
    let readiness = readiness::score(&verdicts, &backups, &t.checklist, t.patch, today);
    Analysis {
        graph,
        measured,
        verdicts,
        plan,
        readiness,
    }
}

/// The handbook document of a town.
pub fn handbook(
    t: &TownContinuity,
    a: &Analysis,
    town: &str,
    version: i64,
    date: Date,
    lang: stadtmauer_continuity::labels::Lang,
) -> stadtmauer_continuity::handbook::Handbook {
    use stadtmauer_continuity::handbook::{
        default_first_24h, procedure_sections, restart_rows, Handbook,
    };
    let (restart, recovery) = restart_rows(&a.plan);
    Handbook {
        lang,
        town: town.to_string(),
        version: version.to_string(),
        date,
        alarm_chain: t.contacts.alarm_chain.clone(),
        crisis_team: t.contacts.crisis_team.clone(),
        external: t.contacts.external.clone(),
        first_24h: default_first_24h(lang),
        restart,
        recovery,
        procedures: procedure_sections(&t.bias, &t.names),
    }
}

/// A contact entry as a form submits it; `section` is `alarm`, `crisis` or `external`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ContactForm {
    pub section: String,
    pub trigger: Option<String>,
    pub notify: Option<String>,
    pub phone: Option<String>,
    pub escalate_after: Option<String>,
    pub role: Option<String>,
    pub member_name: Option<String>,
    pub member_function: Option<String>,
    pub member_phone: Option<String>,
    pub member_phone_kind: Option<String>,
    pub member_email: Option<String>,
    pub deputy_name: Option<String>,
    pub deputy_phone: Option<String>,
    pub deputy_phone_kind: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub reference: Option<String>,
}

fn phone_kind(s: Option<&str>) -> Option<stadtmauer_continuity::handbook::PhoneKind> {
    use stadtmauer_continuity::handbook::PhoneKind;
    match s.map(str::trim).unwrap_or("") {
        "mobile" => Some(PhoneKind::Mobile),
        "private" => Some(PhoneKind::Private),
        "office" => Some(PhoneKind::Office),
        "satellite" => Some(PhoneKind::Satellite),
        "radio" => Some(PhoneKind::Radio),
        _ => None,
    }
}

/// External contact kinds by their form value.
pub fn contact_kind(s: &str) -> Option<stadtmauer_continuity::handbook::ContactKind> {
    use stadtmauer_continuity::handbook::ContactKind;
    Some(match s.trim() {
        "state_cert" => ContactKind::StateCert,
        "bsi" => ContactKind::Bsi,
        "police_zac" => ContactKind::PoliceZac,
        "data_protection" => ContactKind::DataProtection,
        "insurer" => ContactKind::Insurer,
        "incident_response" => ContactKind::IncidentResponse,
        "it_provider" => ContactKind::ItProvider,
        "other" => ContactKind::Other,
        _ => return None,
    })
}

impl ContactForm {
    /// Validates the entry and adds it to `c`. Field errors name the form's fields.
    pub fn apply(&self, c: &mut Contacts) -> Result<()> {
        use stadtmauer_continuity::handbook::{Person, Phone};
        use stadtmauer_core::validate::{optional_text, required_text};
        let mut e = FieldErrors::default();
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        match self.section.as_str() {
            "alarm" => {
                let trigger = required_text(&mut e, "trigger", &s(&self.trigger), 300);
                let notify = required_text(&mut e, "notify", &s(&self.notify), 300);
                let phone = optional_text(&mut e, "phone", self.phone.as_deref(), 60);
                let escalate_after = match self
                    .escalate_after
                    .as_deref()
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                {
                    None => None,
                    Some(raw) => match stadtmauer_continuity::Span::parse(raw) {
                        Ok(x) => Some(x),
                        Err(err) => {
                            e.add("escalate_after", err.key());
                            None
                        }
                    },
                };
                e.into_result(())?;
                c.alarm_chain.push(AlarmStep {
                    trigger,
                    notify,
                    phone,
                    escalate_after,
                });
            }
            "crisis" => {
                let role = required_text(&mut e, "role", &s(&self.role), 160);
                let name = required_text(&mut e, "member_name", &s(&self.member_name), 160);
                let function = optional_text(
                    &mut e,
                    "member_function",
                    self.member_function.as_deref(),
                    160,
                );
                let email =
                    optional_text(&mut e, "member_email", self.member_email.as_deref(), 200);
                let person_phone = |field_phone: &'static str,
                                    field_kind: &'static str,
                                    number: &Option<String>,
                                    kind: &Option<String>,
                                    e: &mut FieldErrors|
                 -> Vec<Phone> {
                    match optional_text(e, field_phone, number.as_deref(), 60) {
                        None => Vec::new(),
                        Some(number) => match phone_kind(kind.as_deref()) {
                            Some(kind) => vec![Phone { number, kind }],
                            None => {
                                e.add(field_kind, "err.choose_one");
                                Vec::new()
                            }
                        },
                    }
                };
                let phones = person_phone(
                    "member_phone",
                    "member_phone_kind",
                    &self.member_phone,
                    &self.member_phone_kind,
                    &mut e,
                );
                let deputy_phones = person_phone(
                    "deputy_phone",
                    "deputy_phone_kind",
                    &self.deputy_phone,
                    &self.deputy_phone_kind,
                    &mut e,
                );
                let deputy = optional_text(&mut e, "deputy_name", self.deputy_name.as_deref(), 160)
                    .map(|name| Person {
                        name,
                        function: None,
                        phones: deputy_phones,
                        email: None,
                    });
                e.into_result(())?;
                c.crisis_team.push(CrisisRole {
                    role,
                    member: Person {
                        name,
                        function,
                        phones,
                        email,
                    },
                    deputy,
                });
            }
            "external" => {
                let kind = contact_kind(&s(&self.kind));
                if kind.is_none() {
                    e.add("kind", "err.choose_one");
                }
                let name = required_text(&mut e, "name", &s(&self.name), 200);
                let phone = optional_text(&mut e, "phone", self.phone.as_deref(), 60);
                let email = optional_text(&mut e, "email", self.email.as_deref(), 200);
                let reference = optional_text(&mut e, "reference", self.reference.as_deref(), 200);
                e.into_result(())?;
                c.external.push(ExternalContact {
                    kind: kind.unwrap_or(stadtmauer_continuity::handbook::ContactKind::Other),
                    name,
                    phone,
                    email,
                    reference,
                });
            }
            _ => return Err(DomainError::field("section", "err.choose_one")),
        }
        Ok(())
    }
}

impl Contacts {
    /// Removes entry `index` of `section`; false when there is none.
    pub fn remove(&mut self, section: &str, index: usize) -> bool {
        fn rm<T>(v: &mut Vec<T>, i: usize) -> bool {
            if i < v.len() {
                v.remove(i);
                true
            } else {
                false
            }
        }
        match section {
            "alarm" => rm(&mut self.alarm_chain, index),
            "crisis" => rm(&mut self.crisis_team, index),
            "external" => rm(&mut self.external, index),
            _ => false,
        }
    }
}

/// The PDF: the same document model as the HTML, laid out by typst from data.json.
pub const HANDBOOK_TYP: &str = include_str!("continuity_handbook.typ");

/// The data.json for [`HANDBOOK_TYP`]: the same document model as the HTML file, with the
/// labels in the handbook's language and the content checksum.
pub fn handbook_pdf_data(
    h: &stadtmauer_continuity::handbook::Handbook,
) -> serde_json::Result<Vec<u8>> {
    let sum = stadtmauer_continuity::handbook::content_checksum(h);
    let l = |k: &str| stadtmauer_continuity::labels::label(h.lang, k).to_string();
    let lab: serde_json::Map<String, serde_json::Value> = stadtmauer_continuity::labels::LABELS
        .iter()
        .map(|(k, _, _)| ((*k).to_string(), serde_json::Value::String(l(k))))
        .collect();
    let data = serde_json::json!({
        "town": h.town,
        "version": h.version,
        "date": h.date.to_string(),
        "checksum": sum,
        "labels": lab,
        "warnings": h.warnings().len(),
        "alarm": h.alarm_chain.iter().map(|a| serde_json::json!({
            "trigger": a.trigger, "notify": a.notify,
            "phone": a.phone.clone().unwrap_or_else(|| "—".into()),
            "escalate": a.escalate_after.map(|s| s.to_string()).unwrap_or_else(|| "—".into()),
        })).collect::<Vec<_>>(),
        "crisis": h.crisis_team.iter().map(|r| {
            let p = |p: &stadtmauer_continuity::handbook::Person| {
                let mut s = p.name.clone();
                if let Some(f) = &p.function { s.push_str(&format!(" ({f})")); }
                for ph in &p.phones { s.push_str(&format!(", {}", ph.number)); }
                if let Some(e) = &p.email { s.push_str(&format!(", {e}")); }
                s
            };
            serde_json::json!({
                "role": r.role,
                "member": p(&r.member),
                "deputy": r.deputy.as_ref().map(p).unwrap_or_else(|| l("no_deputy")),
            })
        }).collect::<Vec<_>>(),
        "external": h.external.iter().map(|c| serde_json::json!({
            "kind": l(c.kind.label_key()), "name": c.name,
            "phone": c.phone.clone().unwrap_or_else(|| "—".into()),
            "email": c.email.clone().unwrap_or_else(|| "—".into()),
            "reference": c.reference.clone().unwrap_or_else(|| "—".into()),
        })).collect::<Vec<_>>(),
        "first24": h.first_24h.iter().map(|c| serde_json::json!({
            "when": format!("{}–{} h", c.from_hour, c.to_hour), "task": c.task,
            "who": c.who.clone().unwrap_or_else(|| "—".into()),
        })).collect::<Vec<_>>(),
        "restart": h.restart.iter().map(|r| serde_json::json!({
            "order": r.order.to_string(), "wave": r.wave.to_string(), "name": r.name,
            "kind": l(&format!("kind.{}", r.kind.as_str())), "start": r.start.to_string(),
            "back": r.back.to_string(),
            "team": r.team.map(|t| (t + 1).to_string()).unwrap_or_else(|| "—".into()),
        })).collect::<Vec<_>>(),
        "recovery": h.recovery.iter().map(|r| serde_json::json!({
            "process": r.process,
            "back": if r.beyond_mta { format!("{} ({})", r.back, l("beyond_mta")) } else { r.back.to_string() },
            "mta": r.mta.map(|s| s.to_string()).unwrap_or_else(|| "—".into()),
            "missed": if r.missed.is_empty() { "—".to_string() } else { r.missed.join("; ") },
        })).collect::<Vec<_>>(),
        "procedures": h.procedures.iter().map(|p| serde_json::json!({
            "process": p.process,
            "meta": format!("{}: {} · {}: {} · {}: {}{}", l("criticality"), l(&format!("crit.{}", p.criticality.as_str())), l("mta"), p.mta, l("rto"), p.rto,
                p.sustainable_for.map(|s| format!(" · {}: {s}", l("sustainable"))).unwrap_or_default()),
            "summary": p.summary.clone().unwrap_or_default(),
            "steps": p.steps.iter().map(|(who, what)| serde_json::json!({"who": who, "what": what})).collect::<Vec<_>>(),
            "materials": p.materials.clone().unwrap_or_default(),
        })).collect::<Vec<_>>(),
    });
    serde_json::to_vec(&data)
}

// ---------------------------------------------------------------------------------------------
// Emergency exercises (Notfallübungen) and the measures their findings became
// ---------------------------------------------------------------------------------------------

use stadtmauer_continuity::exercise::{
    restore_tests, suggest_measures, Exercise, ExerciseInput, ExerciseResult, Severity,
};

/// What `bcm_exercise.data` holds: the plan, who was invited, and the result once recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExerciseRecord {
    pub plan: Exercise,
    pub participants: Vec<String>,
    pub result: Option<ExerciseResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredExercise {
    pub id: i64,
    pub record: ExerciseRecord,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasureStatus {
    Open,
    InProgress,
    Done,
}

impl MeasureStatus {
    pub const ALL: [MeasureStatus; 3] = [
        MeasureStatus::Open,
        MeasureStatus::InProgress,
        MeasureStatus::Done,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            MeasureStatus::Open => "open",
            MeasureStatus::InProgress => "in_progress",
            MeasureStatus::Done => "done",
        }
    }
    pub fn parse(s: &str) -> Option<MeasureStatus> {
        Self::ALL.into_iter().find(|m| m.as_str() == s.trim())
    }
}

/// A measure from an exercise finding (`bcm_measure.data`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measure {
    /// i18n key of the measure's title (from `suggest_measures`).
    pub key: String,
    pub description: String,
    pub object: Option<ObjectId>,
    pub priority: Severity,
    pub due: Date,
    pub owner: Option<String>,
    pub status: MeasureStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredMeasure {
    pub id: i64,
    pub exercise_id: Option<i64>,
    pub measure: Measure,
}

impl Store {
    /// The town's exercises, newest plan first.
    pub async fn exercises(&self, scope: &Scope, org: OrgId) -> Result<Vec<StoredExercise>> {
        scope.require(org, Access::Read)?;
        let mut out =
            sqlx::query("SELECT id, data FROM bcm_exercise WHERE organisation_id = $1 ORDER BY id")
                .bind(org.0)
                .fetch_all(&self.pool)
                .await
                .map_err(internal)?
                .iter()
                .map(|r| {
                    Ok(StoredExercise {
                        id: r.try_get(0).map_err(internal)?,
                        record: parse_json(&r.try_get::<String, _>(1).map_err(internal)?)?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
        out.sort_by_key(|x| std::cmp::Reverse(x.record.plan.planned));
        Ok(out)
    }

    /// The town's measures from exercise findings, by due date.
    pub async fn exercise_measures(&self, scope: &Scope, org: OrgId) -> Result<Vec<StoredMeasure>> {
        scope.require(org, Access::Read)?;
        let mut out = sqlx::query(
            "SELECT id, exercise_id, data FROM bcm_measure WHERE organisation_id = $1 ORDER BY id",
        )
        .bind(org.0)
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?
        .iter()
        .map(|r| {
            Ok(StoredMeasure {
                id: r.try_get(0).map_err(internal)?,
                exercise_id: r.try_get(1).map_err(internal)?,
                measure: parse_json(&r.try_get::<String, _>(2).map_err(internal)?)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        out.sort_by_key(|m| (m.measure.status == MeasureStatus::Done, m.measure.due));
        Ok(out)
    }

    /// Plans an exercise (the coordinator: full write). Field errors as
    /// [`ExerciseInput::validate`]; the covered objects must be the town's.
    pub async fn plan_exercise(
        &self,
        scope: &Scope,
        org: OrgId,
        input: &ExerciseInput,
        participants: Vec<String>,
    ) -> Result<i64> {
        scope.require(org, Access::Write)?;
        let plan = input.validate(today())?;
        if !plan.objects.is_empty() {
            let own: HashSet<ObjectId> = self
                .objects(scope, org, None, false)
                .await?
                .into_iter()
                .map(|o| o.id)
                .collect();
            if plan.objects.iter().any(|o| !own.contains(o)) {
                let mut e = FieldErrors::default();
                e.add("objects", "err.choose_one");
                return Err(DomainError::Invalid(e));
            }
        }
        let record = ExerciseRecord {
            plan,
            participants,
            result: None,
        };
        let data = serde_json::to_string(&record).map_err(internal)?;
        let mut w = self.begin_write(scope).await?;
        let id: i64 = sqlx::query(
            "INSERT INTO bcm_exercise (organisation_id, data, updated_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(org.0)
        .bind(&data)
        .bind(now())
        .fetch_one(&mut *w.tx)
        .await
        .map_err(internal)?
        .try_get(0)
        .map_err(internal)?;
        w.audit(
            Some(org),
            "bcm.exercise.create",
            "bcm_exercise",
            id,
            None,
            Some(json!(record)),
        )
        .await?;
        w.commit().await?;
        Ok(id)
    }

    /// Records how an exercise went (IT staff may: technical write, like the backup register).
    /// Every finding becomes a measure (`suggest_measures`); measured restores are added as
    /// restore tests to the register entries that back up the system. All in one transaction.
    /// Returns the number of measures created.
    pub async fn record_exercise_result(
        &self,
        scope: &Scope,
        org: OrgId,
        id: i64,
        result: &ExerciseResult,
    ) -> Result<usize> {
        scope.require(org, Access::WriteTechnical)?;
        let before = self
            .exercises(scope, org)
            .await?
            .into_iter()
            .find(|x| x.id == id)
            .ok_or(DomainError::NotFound)?;
        let mut e = FieldErrors::default();
        if before.record.result.is_some() {
            e.add("held", "err.exercise.already_recorded");
        }
        if result.held > today() {
            e.add("held", "err.date_future");
        }
        if !result.restores.is_empty() {
            let systems: HashSet<ObjectId> = self
                .objects(scope, org, Some(ObjectKind::System), false)
                .await?
                .into_iter()
                .map(|o| o.id)
                .collect();
            if result.restores.iter().any(|r| !systems.contains(&r.system)) {
                e.add("restore_system", "err.choose_one");
            }
        }
        if !e.is_empty() {
            return Err(DomainError::Invalid(e));
        }
        let mut record = before.record.clone();
        let mut result = result.clone();
        result
            .objectives_met
            .resize(record.plan.objectives.len(), false);
        record.result = Some(result.clone());
        let backups = if result.restores.is_empty() {
            Vec::new()
        } else {
            self.backups(scope, org).await?
        };
        let data = serde_json::to_string(&record).map_err(internal)?;
        let mut w = self.begin_write(scope).await?;
        sqlx::query(
            "UPDATE bcm_exercise SET data = $1, updated_at = $2 WHERE id = $3 AND organisation_id = $4",
        )
        .bind(&data)
        .bind(now())
        .bind(id)
        .bind(org.0)
        .execute(&mut *w.tx)
        .await
        .map_err(internal)?;
        w.audit(
            Some(org),
            "bcm.exercise.result",
            "bcm_exercise",
            id,
            Some(json!(before.record)),
            Some(json!(record)),
        )
        .await?;
        let suggestions = suggest_measures(&result);
        for s in &suggestions {
            let m = Measure {
                key: s.key.to_string(),
                description: s.description.clone(),
                object: s.object,
                priority: s.priority,
                due: s.due,
                owner: None,
                status: MeasureStatus::Open,
            };
            let mid: i64 = sqlx::query(
                "INSERT INTO bcm_measure (organisation_id, exercise_id, data, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(org.0)
            .bind(id)
            .bind(serde_json::to_string(&m).map_err(internal)?)
            .bind(now())
            .fetch_one(&mut *w.tx)
            .await
            .map_err(internal)?
            .try_get(0)
            .map_err(internal)?;
            w.audit(
                Some(org),
                "bcm.measure.create",
                "bcm_measure",
                mid,
                None,
                Some(json!(m)),
            )
            .await?;
        }
        let tests = restore_tests(&result);
        let mut changed_backups = false;
        for b in &backups {
            let mine: Vec<_> = tests
                .iter()
                .filter(|(sys, _)| b.backup.systems.contains(sys))
                .map(|(_, t)| t.clone())
                .collect();
            if mine.is_empty() {
                continue;
            }
            let mut after = b.backup.clone();
            for t in mine {
                after.restore_tests.insert(0, t);
            }
            after
                .restore_tests
                .sort_by_key(|t| std::cmp::Reverse(t.date));
            sqlx::query(
                "UPDATE bcm_backup SET data = $1, updated_at = $2 WHERE id = $3 AND organisation_id = $4",
            )
            .bind(serde_json::to_string(&after).map_err(internal)?)
            .bind(now())
            .bind(b.id)
            .bind(org.0)
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
            w.audit(
                Some(org),
                "bcm.backup.update",
                "bcm_backup",
                b.id,
                Some(json!(b.backup)),
                Some(json!(after)),
            )
            .await?;
            changed_backups = true;
        }
        if changed_backups {
            touch(&mut w, org).await?;
        }
        w.commit().await?;
        Ok(suggestions.len())
    }

    /// Changes a measure's status and owner (the coordinator: full write).
    pub async fn update_exercise_measure(
        &self,
        scope: &Scope,
        org: OrgId,
        id: i64,
        status: MeasureStatus,
        owner: Option<String>,
    ) -> Result<()> {
        scope.require(org, Access::Write)?;
        let before = self
            .exercise_measures(scope, org)
            .await?
            .into_iter()
            .find(|m| m.id == id)
            .ok_or(DomainError::NotFound)?;
        let mut e = FieldErrors::default();
        let owner =
            stadtmauer_core::validate::optional_text(&mut e, "owner", owner.as_deref(), 160);
        if !e.is_empty() {
            return Err(DomainError::Invalid(e));
        }
        let mut after = before.measure.clone();
        after.status = status;
        after.owner = owner;
        let mut w = self.begin_write(scope).await?;
        sqlx::query("UPDATE bcm_measure SET data = $1 WHERE id = $2 AND organisation_id = $3")
            .bind(serde_json::to_string(&after).map_err(internal)?)
            .bind(id)
            .bind(org.0)
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
        w.audit(
            Some(org),
            "bcm.measure.update",
            "bcm_measure",
            id,
            Some(json!(before.measure)),
            Some(json!(after)),
        )
        .await?;
        w.commit().await
    }
}
