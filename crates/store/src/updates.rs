//! Update watch: imported feeds (end-of-life, CISA KEV, CSAF), users' product aliases, installed
//! software of a system, persisted findings with their measure and exception, patch latency, and
//! the Verbund's notification targets.
//!
//! Feeds are installation-wide public data: the shipped snapshots (stadtmauer-lifecycle) are active
//! until a newer feed of the same kind is imported; an import parses and checks everything first,
//! then swaps the active row and re-matches every town's installations of the changed products in
//! one transaction. Each process keeps the parsed feeds in memory, keyed by the content hashes of the
//! active rows and the user aliases, so a new import (by any process) is picked up at the next use.
//! Only administrators import feeds. Users' aliases have an owner ([`Owner`]): the installation's
//! apply to every town, a Verbund's only to its members, so one Verbund's alias can never change
//! another's findings.
//!
//! Findings are derived from the inventory and the feeds, but they carry what people record
//! (owner, due date, status, exception) and their history (first seen, resolved, patch latency),
//! so they are stored. A town's findings are brought up to date when its page is shown, when its
//! installed software changes, and when a feed is imported.

use crate::{id_list, internal, Result, Store, WriteTx};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use stadtmauer_assessment::date::{days_between, format_date};
use stadtmauer_core::{now, Access, DomainError, ObjectId, OrgId, Owner, Scope, VerbundId};
use stadtmauer_inventory::model::ObjectKind;
use stadtmauer_lifecycle::feed::{FeedKind, Feeds};
use stadtmauer_lifecycle::identity::{normalize, AliasTable, Normalized, ProductKey, UserAlias};
use stadtmauer_lifecycle::matching::{Engine, FindingKind, Installation};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use time::Date;

pub use stadtmauer_assessment::date::parse_date;
pub use stadtmauer_lifecycle;

/// The parsed active feeds of the installation.
#[derive(Debug)]
pub struct LoadedFeeds {
    pub feeds: Feeds,
    /// CSAF tracking id → initial release date (for patch latency).
    pub published: HashMap<String, Date>,
    /// Content key the feeds were built from.
    pub key: String,
}

/// Parsed feeds of this process, by content key (a handful at most: one per database in tests, one
/// per Verbund with aliases of its own).
static LOADED: Mutex<Vec<Arc<LoadedFeeds>>> = Mutex::new(Vec::new());

fn kind_str(k: FeedKind) -> &'static str {
    match k {
        FeedKind::Eol => "eol",
        FeedKind::Kev => "kev",
        FeedKind::Csaf => "csaf",
    }
}

/// A feed as listed on the feeds page.
#[derive(Debug, Clone, Serialize)]
pub struct FeedInfo {
    pub kind: &'static str,
    pub source: String,
    pub snapshot: String,
    /// Entries (KEV), products (end-of-life), advisories (CSAF).
    pub count: usize,
    /// Release cycles (end-of-life), advisory rules (CSAF), ransomware entries (KEV).
    pub detail_count: usize,
    pub imported_at: Option<i64>,
    pub imported_by: Option<String>,
}

/// A file of an upload: end-of-life product files (`slug.md`) or CSAF documents.
pub type NamedFile = (String, Vec<u8>);

/// What an administrator or office officer imports.
#[derive(Debug, Clone)]
pub enum FeedUpload {
    Kev(Vec<u8>),
    /// endoflife.date product files; `snapshot` is the data's date (default: today).
    Eol {
        snapshot: Option<Date>,
        files: Vec<NamedFile>,
    },
    Csaf(Vec<NamedFile>),
}

/// Why an import was refused; the active feeds are unchanged.
#[derive(Debug, thiserror::Error)]
pub enum FeedImportError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The feed's own error (JSON path, file and line, or "older than the loaded one").
    #[error("{0}")]
    Feed(String),
}

/// What an import changed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportOutcome {
    pub feed_id: i64,
    pub changed_products: usize,
    pub touched_installations: usize,
    pub new_findings: usize,
    /// Open findings with new hits (a new KEV entry or advisory for the same installation).
    pub changed_findings: usize,
    pub resolved_findings: usize,
    /// Towns with new or changed findings and how many.
    pub new_by_org: Vec<(OrgId, usize)>,
}

/// Installed software recorded for a system (besides its own product).
#[derive(Debug, Clone, Serialize)]
pub struct Software {
    pub id: i64,
    pub object_id: ObjectId,
    pub product: String,
    pub version: Option<String>,
}

/// A user's alias as stored.
#[derive(Debug, Clone, Serialize)]
pub struct StoredAlias {
    pub id: i64,
    pub pattern: String,
    pub key: String,
    pub cycle: Option<String>,
    pub created_at: i64,
    pub created_by: String,
    pub owner: Owner,
}

/// One installation of a town: an object's own product, or a row of installed software.
#[derive(Debug, Clone, Serialize)]
pub struct InstallationRow {
    /// "o12" (object 12's own product) or "s7" (installed software 7).
    pub inst: String,
    pub object_id: ObjectId,
    pub object_name: String,
    pub object_kind: ObjectKind,
    pub vendor: Option<String>,
    pub product: String,
    pub version: Option<String>,
}

/// The measure status of a finding.
pub const PLAN_STATUSES: [&str; 3] = ["open", "in_progress", "done"];

/// A finding as stored, with its measure and exception.
#[derive(Debug, Clone, Serialize)]
pub struct StoredFinding {
    pub id: i64,
    pub organisation_id: OrgId,
    pub object_id: ObjectId,
    pub inst: String,
    /// "unsupported", "eol_soon", "advisory", "kev".
    pub kind: String,
    pub product_key: String,
    pub version: Option<String>,
    /// The matcher's `FindingKind` as JSON.
    pub detail: serde_json::Value,
    pub published: Option<Date>,
    pub first_seen: i64,
    pub resolved_at: Option<i64>,
    pub latency_days: Option<i64>,
    pub owner: Option<String>,
    pub due: Option<Date>,
    pub status: String,
    pub exc_reason: Option<String>,
    pub exc_approver: Option<String>,
    pub exc_until: Option<Date>,
}

/// Where a finding stands today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingState {
    Open,
    InProgress,
    Done,
    /// Accepted as an exception until its expiry date.
    Accepted,
    /// The exception expired: open again.
    ExceptionExpired,
    Resolved,
}

impl FindingState {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingState::Open => "open",
            FindingState::InProgress => "in_progress",
            FindingState::Done => "done",
            FindingState::Accepted => "accepted",
            FindingState::ExceptionExpired => "exception_expired",
            FindingState::Resolved => "resolved",
        }
    }
    /// Counts as open work (not resolved, not accepted).
    pub fn is_open(self) -> bool {
        !matches!(self, FindingState::Accepted | FindingState::Resolved)
    }
}

impl StoredFinding {
    /// The state at `today`; an exception counts through its expiry day, computed at read time.
    pub fn state(&self, today: Date) -> FindingState {
        if self.resolved_at.is_some() {
            return FindingState::Resolved;
        }
        if let Some(until) = self.exc_until {
            return if until >= today {
                FindingState::Accepted
            } else {
                FindingState::ExceptionExpired
            };
        }
        match self.status.as_str() {
            "in_progress" => FindingState::InProgress,
            "done" => FindingState::Done,
            _ => FindingState::Open,
        }
    }
}

/// Owner, due date and status of the measure a finding became.
#[derive(Debug, Clone, Default)]
pub struct FindingPlan {
    pub owner: Option<String>,
    pub due: Option<Date>,
    pub status: String,
}

/// An accepted risk: reason, who approved it, until when.
#[derive(Debug, Clone)]
pub struct FindingException {
    pub reason: String,
    pub approver: String,
    pub until: Date,
}

/// Median and 90th percentile of patch latency in days.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Latency {
    pub count: usize,
    pub median: Option<i64>,
    pub p90: Option<i64>,
}

impl Latency {
    pub fn of(mut days: Vec<i64>) -> Latency {
        days.sort_unstable();
        let n = days.len();
        let pick = |q: f64| -> Option<i64> {
            if n == 0 {
                return None;
            }
            // Nearest rank.
            let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
            days.get(rank - 1).copied()
        };
        Latency {
            count: n,
            median: pick(0.5),
            p90: pick(0.9),
        }
    }
}

/// A Verbund's notification targets.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NotifyConfig {
    pub webhook_url: Option<String>,
    pub email: Option<String>,
}

/// Reduces a feed parser's error to a line (it names the JSON path, file and line).
fn feed_err(e: impl std::fmt::Display) -> FeedImportError {
    FeedImportError::Feed(e.to_string())
}

fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}

fn date_of(s: &str) -> Option<Date> {
    parse_date(s.get(..10).unwrap_or(s))
}

/// Encodes an upload's content for the `content` column (text: all feeds are UTF-8 JSON or
/// Markdown, and the backup format keeps text).
fn encode_content(upload: &FeedUpload) -> std::result::Result<String, FeedImportError> {
    let text = |name: &str, b: &[u8]| -> std::result::Result<String, FeedImportError> {
        String::from_utf8(b.to_vec())
            .map_err(|_| FeedImportError::Feed(format!("{name}: not UTF-8 text")))
    };
    Ok(match upload {
        FeedUpload::Kev(b) => text("KEV catalog", b)?,
        FeedUpload::Eol { files, .. } | FeedUpload::Csaf(files) => {
            let mut m = BTreeMap::new();
            for (n, b) in files {
                m.insert(n.clone(), text(n, b)?);
            }
            serde_json::to_string(&m).map_err(feed_err)?
        }
    })
}

/// The endoflife.date slug of a file name ("products/windows-server.md" → "windows-server").
fn eol_slug(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    base.strip_suffix(".md").unwrap_or(base).to_string()
}

/// Applies an upload to a feed set; returns the changed product keys.
fn apply(
    feeds: &mut Feeds,
    source: &str,
    upload: &FeedUpload,
    today: Date,
) -> std::result::Result<BTreeSet<ProductKey>, FeedImportError> {
    match upload {
        FeedUpload::Kev(b) => feeds.update_kev(source, b).map_err(feed_err),
        FeedUpload::Eol { snapshot, files } => {
            let texts: Vec<(String, String)> = files
                .iter()
                .map(|(n, b)| {
                    String::from_utf8(b.clone())
                        .map(|t| (eol_slug(n), t))
                        .map_err(|_| FeedImportError::Feed(format!("{n}: not UTF-8 text")))
                })
                .collect::<std::result::Result<_, _>>()?;
            feeds
                .update_eol(
                    source,
                    snapshot.unwrap_or(today),
                    texts.iter().map(|(a, b)| (a.as_str(), b.as_str())),
                )
                .map_err(feed_err)
        }
        FeedUpload::Csaf(docs) => {
            let docs: Vec<(String, Vec<u8>)> = docs.clone();
            feeds.update_csaf(source, &docs).map_err(feed_err)
        }
    }
}

fn csaf_published(docs: &[NamedFile], into: &mut HashMap<String, Date>) {
    for (_, b) in docs {
        if let Ok(d) = stadtmauer_lifecycle::csaf::parse(b) {
            if let Some(p) = date_of(&d.document.tracking.initial_release_date) {
                into.insert(d.document.tracking.id.clone(), p);
            }
        }
    }
}

/// Decodes a stored `content` column back into an upload.
fn decode(
    kind: &str,
    snapshot: &str,
    content: &str,
) -> std::result::Result<FeedUpload, FeedImportError> {
    let files = || -> std::result::Result<Vec<NamedFile>, FeedImportError> {
        let m: BTreeMap<String, String> = serde_json::from_str(content).map_err(feed_err)?;
        Ok(m.into_iter().map(|(k, v)| (k, v.into_bytes())).collect())
    };
    Ok(match kind {
        "kev" => FeedUpload::Kev(content.as_bytes().to_vec()),
        "eol" => FeedUpload::Eol {
            snapshot: date_of(snapshot),
            files: files()?,
        },
        _ => FeedUpload::Csaf(files()?),
    })
}

/// Number of entries an upload brings, for the feeds page: (count, detail count).
fn counts(feeds: &Feeds, upload: &FeedUpload) -> (usize, usize) {
    match upload {
        FeedUpload::Kev(_) => (
            feeds.kev.entries.len(),
            feeds.kev.entries.iter().filter(|e| e.ransomware).count(),
        ),
        FeedUpload::Eol { .. } => (
            feeds.eol.len(),
            feeds.eol.values().map(|p| p.cycles.len()).sum(),
        ),
        FeedUpload::Csaf(docs) => (docs.len(), feeds.rules.len()),
    }
}

fn norm_text(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

fn finding(row: &AnyRow) -> Result<StoredFinding> {
    let t = |c: &str| row.try_get::<Option<String>, _>(c).map_err(internal);
    let detail: String = row.try_get("detail").map_err(internal)?;
    Ok(StoredFinding {
        id: row.try_get("id").map_err(internal)?,
        organisation_id: OrgId(row.try_get("organisation_id").map_err(internal)?),
        object_id: ObjectId(row.try_get("object_id").map_err(internal)?),
        inst: row.try_get("inst").map_err(internal)?,
        kind: row.try_get("kind").map_err(internal)?,
        product_key: row.try_get("product_key").map_err(internal)?,
        version: t("version")?,
        detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
        published: t("published")?.as_deref().and_then(date_of),
        first_seen: row.try_get("first_seen").map_err(internal)?,
        resolved_at: row.try_get("resolved_at").map_err(internal)?,
        latency_days: row.try_get("latency_days").map_err(internal)?,
        owner: t("owner")?,
        due: t("due")?.as_deref().and_then(date_of),
        status: row.try_get("status").map_err(internal)?,
        exc_reason: t("exc_reason")?,
        exc_approver: t("exc_approver")?,
        exc_until: t("exc_until")?.as_deref().and_then(date_of),
    })
}

const FINDING_COLUMNS: &str =
    "id, organisation_id, object_id, inst, kind, product_key, version, detail, published, \
    first_seen, resolved_at, latency_days, owner, due, status, exc_reason, exc_approver, exc_until";

/// The installations of one town (its applications' and systems' products and installed software).
async fn installations_of(conn: &mut AnyConnection, org: OrgId) -> Result<Vec<InstallationRow>> {
    let mut out = Vec::new();
    let rows = sqlx::query(
        "SELECT id, name, kind, vendor, product, version FROM inv_object \
         WHERE organisation_id = $1 AND product IS NOT NULL AND product <> '' ORDER BY name, id",
    )
    .bind(org.0)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    for r in &rows {
        let id: i64 = r.try_get("id").map_err(internal)?;
        let kind: String = r.try_get("kind").map_err(internal)?;
        out.push(InstallationRow {
            inst: format!("o{id}"),
            object_id: ObjectId(id),
            object_name: r.try_get("name").map_err(internal)?,
            object_kind: ObjectKind::parse(&kind).unwrap_or(ObjectKind::System),
            vendor: r.try_get("vendor").map_err(internal)?,
            product: r.try_get("product").map_err(internal)?,
            version: r.try_get("version").map_err(internal)?,
        });
    }
    let rows = sqlx::query(
        "SELECT s.id AS id, s.object_id AS object_id, o.name AS name, o.kind AS kind, s.product AS product, \
         s.version AS version FROM inv_software s JOIN inv_object o ON o.id = s.object_id \
         WHERE o.organisation_id = $1 ORDER BY o.name, s.id",
    )
    .bind(org.0)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    for r in &rows {
        let id: i64 = r.try_get("id").map_err(internal)?;
        let kind: String = r.try_get("kind").map_err(internal)?;
        out.push(InstallationRow {
            inst: format!("s{id}"),
            object_id: ObjectId(r.try_get("object_id").map_err(internal)?),
            object_name: r.try_get("name").map_err(internal)?,
            object_kind: ObjectKind::parse(&kind).unwrap_or(ObjectKind::System),
            vendor: None,
            product: r.try_get("product").map_err(internal)?,
            version: r.try_get("version").map_err(internal)?,
        });
    }
    Ok(out)
}

/// Normalises an installation row against the identity table.
pub fn normalize_row(row: &InstallationRow, aliases: &AliasTable) -> Normalized {
    normalize(
        row.vendor.as_deref(),
        &row.product,
        row.version.as_deref(),
        aliases,
    )
}

/// A finding the matcher wants to exist.
struct Desired {
    object_id: i64,
    key: String,
    version: Option<String>,
    detail: String,
    published: Option<String>,
}

fn kind_code(k: &FindingKind) -> Option<&'static str> {
    match k {
        FindingKind::Unsupported { .. } => Some("unsupported"),
        FindingKind::EolSoon { .. } => Some("eol_soon"),
        FindingKind::Advisories { .. } => Some("advisory"),
        FindingKind::Kev { .. } => Some("kev"),
        FindingKind::LifecycleUnknown { .. } => None,
    }
}

/// What a sync changes for one town.
#[derive(Default)]
struct Diff {
    insert: Vec<((String, String), Desired)>,
    update: Vec<(i64, Desired)>,
    /// (finding id, patch latency in days)
    resolve: Vec<(i64, Option<i64>)>,
    touched: usize,
}

impl Diff {
    fn is_empty(&self) -> bool {
        self.insert.is_empty() && self.update.is_empty() && self.resolve.is_empty()
    }
}

struct OpenRow {
    id: i64,
    version: Option<String>,
    detail: String,
    published: Option<String>,
}

/// Computes what must change in a town's findings; `changed`: only these product keys (after a
/// feed update), `None`: everything (inventory change, page view).
/// The Verbund a town belongs to.
async fn verbund_of(conn: &mut AnyConnection, org: OrgId) -> Result<Option<VerbundId>> {
    let row = sqlx::query("SELECT verbund_id FROM organisation WHERE id = $1")
        .bind(org.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(internal)?
        .ok_or(DomainError::NotFound)?;
    Ok(row
        .try_get::<Option<i64>, _>(0)
        .map_err(internal)?
        .map(VerbundId))
}

async fn diff_org(
    conn: &mut AnyConnection,
    org: OrgId,
    loaded: &LoadedFeeds,
    engine: &Engine<'_>,
    changed: Option<&BTreeSet<ProductKey>>,
    today: Date,
) -> Result<Diff> {
    let rows = installations_of(conn, org).await?;
    let mut insts = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let n = normalize_row(r, &loaded.feeds.aliases);
        if let Some(key) = n.key {
            insts.push(Installation {
                id: i as i64,
                key,
                version: n.version,
                cycle: n.cycle,
            });
        }
    }
    let (touched_ids, found): (Vec<i64>, Vec<_>) = match changed {
        Some(c) => engine.rematch(c, &insts, today),
        None => (
            insts.iter().map(|i| i.id).collect(),
            engine.match_all(&insts, today),
        ),
    };
    let keys: HashMap<i64, &ProductKey> = insts.iter().map(|i| (i.id, &i.key)).collect();
    let mut desired: HashMap<(String, String), Desired> = HashMap::new();
    for f in found {
        let Some(code) = kind_code(&f.kind) else {
            continue;
        };
        let Some(r) = rows.get(f.installation_id as usize) else {
            continue;
        };
        let published = match &*f.kind {
            FindingKind::Kev { hits } => hits.iter().map(|h| h.date_added).min(),
            FindingKind::Advisories { hits } => hits
                .iter()
                .filter_map(|h| loaded.published.get(&*h.advisory).copied())
                .min(),
            _ => None,
        };
        desired.insert(
            (r.inst.clone(), code.to_string()),
            Desired {
                object_id: r.object_id.0,
                key: keys
                    .get(&f.installation_id)
                    .map(|k| k.as_str().to_string())
                    .unwrap_or_default(),
                version: r.version.clone(),
                detail: serde_json::to_string(&f.kind).map_err(internal)?,
                published: published.map(format_date),
            },
        );
    }
    let touched: HashSet<&str> = touched_ids
        .iter()
        .filter_map(|i| rows.get(*i as usize).map(|r| r.inst.as_str()))
        .collect();
    let all_touched = changed.is_none();
    let current: HashMap<&str, &InstallationRow> =
        rows.iter().map(|r| (r.inst.as_str(), r)).collect();
    let open = sqlx::query(
        "SELECT id, inst, kind, version, detail, published FROM upd_finding \
         WHERE organisation_id = $1 AND resolved_at IS NULL",
    )
    .bind(org.0)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    let mut open_map: HashMap<(String, String), OpenRow> = HashMap::new();
    for r in &open {
        open_map.insert(
            (
                r.try_get("inst").map_err(internal)?,
                r.try_get("kind").map_err(internal)?,
            ),
            OpenRow {
                id: r.try_get("id").map_err(internal)?,
                version: r.try_get("version").map_err(internal)?,
                detail: r.try_get("detail").map_err(internal)?,
                published: r.try_get("published").map_err(internal)?,
            },
        );
    }
    let mut diff = Diff {
        touched: touched.len(),
        ..Diff::default()
    };
    for ((inst, kind), o) in &open_map {
        let now_row = current.get(inst.as_str());
        // Gone (object or software removed, product no longer recognised) counts as touched.
        let recognised = now_row.is_some_and(|r| {
            insts
                .iter()
                .any(|i| rows.get(i.id as usize).is_some_and(|x| x.inst == r.inst))
        });
        let in_scope = all_touched || touched.contains(inst.as_str()) || !recognised;
        if !in_scope || desired.contains_key(&(inst.clone(), kind.clone())) {
            continue;
        }
        // Patch latency: an advisory or KEV finding resolved because the version changed.
        let latency = match (kind.as_str(), now_row, &o.published) {
            ("advisory" | "kev", Some(r), Some(p)) if r.version != o.version => {
                date_of(p).map(|p| days_between(p, today).max(0))
            }
            _ => None,
        };
        diff.resolve.push((o.id, latency));
    }
    for (k, d) in desired {
        match open_map.get(&k) {
            None => diff.insert.push((k, d)),
            Some(o) => {
                if o.detail != d.detail || o.version != d.version || o.published != d.published {
                    diff.update.push((o.id, d));
                }
            }
        }
    }
    diff.insert.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(diff)
}

/// Writes a diff; returns (new, changed, resolved).
async fn apply_diff(w: &mut WriteTx<'_>, org: OrgId, diff: Diff) -> Result<(usize, usize, usize)> {
    let t = now();
    let (new, changed, resolved) = (diff.insert.len(), diff.update.len(), diff.resolve.len());
    for ((inst, kind), d) in diff.insert {
        sqlx::query(
            "INSERT INTO upd_finding (organisation_id, object_id, inst, kind, product_key, version, detail, published, \
             first_seen, status, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $9)",
        )
        .bind(org.0)
        .bind(d.object_id)
        .bind(inst)
        .bind(kind)
        .bind(d.key)
        .bind(d.version)
        .bind(d.detail)
        .bind(d.published)
        .bind(t)
        .execute(&mut *w.tx)
        .await
        .map_err(internal)?;
    }
    for (id, d) in diff.update {
        sqlx::query(
            "UPDATE upd_finding SET version = $1, detail = $2, published = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(d.version)
        .bind(d.detail)
        .bind(d.published)
        .bind(t)
        .bind(id)
        .execute(&mut *w.tx)
        .await
        .map_err(internal)?;
    }
    for (id, latency) in diff.resolve {
        sqlx::query(
            "UPDATE upd_finding SET resolved_at = $1, latency_days = $2, updated_at = $1 WHERE id = $3",
        )
        .bind(t)
        .bind(latency)
        .bind(id)
        .execute(&mut *w.tx)
        .await
        .map_err(internal)?;
    }
    if new + changed + resolved > 0 {
        w.audit(
            Some(org),
            "rematch",
            "update_findings",
            org.0,
            None,
            Some(json!({ "new": new, "changed": changed, "resolved": resolved })),
        )
        .await?;
    }
    Ok((new, changed, resolved))
}

fn today_utc() -> Date {
    time::OffsetDateTime::now_utc().date()
}

/// Who may import feeds: administrators (the feeds are the installation's).
pub fn may_manage_feeds(scope: &Scope) -> bool {
    scope.require_shared(Owner::Installation).is_ok()
}

impl Store {
    /// The content key of the active feeds and the aliases that apply in `verbund` (the
    /// installation's, then the Verbund's own, which win for the same pattern), and those aliases.
    async fn feed_key(&self, verbund: Option<VerbundId>) -> Result<(String, Vec<UserAlias>)> {
        let rows = sqlx::query("SELECT sha256 FROM upd_feed WHERE active = 1 ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(internal)?;
        let mut parts: Vec<String> = Vec::new();
        for r in &rows {
            parts.push(r.try_get(0).map_err(internal)?);
        }
        let mut aliases = self.alias_rows().await?;
        aliases.retain(|a| a.owner == Owner::Installation || a.owner == Owner::of(verbund));
        aliases.sort_by_key(|a| (a.owner != Owner::Installation, a.id));
        let users: Vec<UserAlias> = aliases
            .iter()
            .map(|a| UserAlias {
                pattern: a.pattern.clone(),
                key: a.key.clone(),
                cycle: a.cycle.clone(),
            })
            .collect();
        let alias_json = serde_json::to_string(&users).map_err(internal)?;
        let key = format!(
            "{}|{}",
            parts.join(","),
            sha256_hex(&[alias_json.as_bytes()])
        );
        Ok((key, users))
    }

    async fn alias_rows(&self) -> Result<Vec<StoredAlias>> {
        let rows = sqlx::query(
            "SELECT id, pattern, product_key, cycle, created_at, created_by, verbund_id FROM upd_alias ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?;
        rows.iter()
            .map(|r| {
                Ok(StoredAlias {
                    id: r.try_get("id").map_err(internal)?,
                    pattern: r.try_get("pattern").map_err(internal)?,
                    key: r.try_get("product_key").map_err(internal)?,
                    cycle: r.try_get("cycle").map_err(internal)?,
                    created_at: r.try_get("created_at").map_err(internal)?,
                    created_by: r.try_get("created_by").map_err(internal)?,
                    owner: Owner::of(
                        r.try_get::<Option<i64>, _>("verbund_id")
                            .map_err(internal)?
                            .map(VerbundId),
                    ),
                })
            })
            .collect()
    }

    /// The active feeds with the aliases that apply in `verbund`, parsed once per process and
    /// reloaded when the active feeds or those aliases change (in any process).
    pub(crate) async fn loaded_feeds(
        &self,
        verbund: Option<VerbundId>,
    ) -> Result<Arc<LoadedFeeds>> {
        let (key, users) = self.feed_key(verbund).await?;
        if let Ok(l) = LOADED.lock() {
            if let Some(f) = l.iter().find(|f| f.key == key) {
                return Ok(f.clone());
            }
        }
        let base = AliasTable::builtin().map_err(internal)?;
        let aliases = match base.clone().with_user_aliases(&users) {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "user aliases ignored");
                base
            }
        };
        let mut feeds = Feeds::builtin(aliases).map_err(internal)?;
        let mut published = HashMap::new();
        let rows = sqlx::query(
            "SELECT id, kind, source, snapshot, content FROM upd_feed WHERE active = 1 ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?;
        let today = today_utc();
        for r in &rows {
            let id: i64 = r.try_get("id").map_err(internal)?;
            let kind: String = r.try_get("kind").map_err(internal)?;
            let source: String = r.try_get("source").map_err(internal)?;
            let snapshot: String = r.try_get("snapshot").map_err(internal)?;
            let content: String = r.try_get("content").map_err(internal)?;
            let applied = decode(&kind, &snapshot, &content).and_then(|u| {
                if let FeedUpload::Csaf(docs) = &u {
                    csaf_published(docs, &mut published);
                }
                apply(&mut feeds, &source, &u, today)
            });
            if let Err(e) = applied {
                tracing::error!(feed = id, error = %e, "stored feed could not be loaded");
            }
        }
        let loaded = Arc::new(LoadedFeeds {
            feeds,
            published,
            key,
        });
        if let Ok(mut l) = LOADED.lock() {
            if l.len() >= 8 {
                l.remove(0);
            }
            l.push(loaded.clone());
        }
        Ok(loaded)
    }

    /// The active feeds with the installation's aliases (public data; any signed-in user may see
    /// them).
    pub async fn active_feeds(&self, _scope: &Scope) -> Result<Arc<LoadedFeeds>> {
        self.loaded_feeds(None).await
    }

    /// The active feeds with the aliases that apply to one town (the installation's and its
    /// Verbund's).
    pub async fn town_feeds(&self, scope: &Scope, org: OrgId) -> Result<Arc<LoadedFeeds>> {
        scope.require(org, Access::Reports)?;
        self.org_feeds(org).await
    }

    /// The active feeds with their source, date, size and import.
    pub async fn feed_infos(&self, scope: &Scope) -> Result<Vec<FeedInfo>> {
        let loaded = self.active_feeds(scope).await?;
        let rows = sqlx::query(
            "SELECT kind, imported_at, imported_by FROM upd_feed WHERE active = 1 ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?;
        let mut last: HashMap<String, (i64, String)> = HashMap::new();
        for r in &rows {
            let kind: String = r.try_get("kind").map_err(internal)?;
            let at: i64 = r.try_get("imported_at").map_err(internal)?;
            let by: String = r.try_get("imported_by").map_err(internal)?;
            last.insert(kind, (at, by));
        }
        let f = &loaded.feeds;
        let mut out = Vec::new();
        for kind in [FeedKind::Kev, FeedKind::Eol, FeedKind::Csaf] {
            let meta = f.meta.get(&kind);
            let (count, detail_count) = match kind {
                FeedKind::Kev => (
                    f.kev.entries.len(),
                    f.kev.entries.iter().filter(|e| e.ransomware).count(),
                ),
                FeedKind::Eol => (f.eol.len(), f.eol.values().map(|p| p.cycles.len()).sum()),
                FeedKind::Csaf => (f.advisories.len(), f.rules.len()),
            };
            let imp = last.get(kind_str(kind));
            out.push(FeedInfo {
                kind: kind_str(kind),
                source: meta.map(|m| m.source.clone()).unwrap_or_default(),
                snapshot: meta.map(|m| format_date(m.snapshot)).unwrap_or_default(),
                count,
                detail_count,
                imported_at: imp.map(|i| i.0),
                imported_by: imp.map(|i| i.1.clone()),
            });
        }
        Ok(out)
    }

    /// Imports a newer feed: parsed and checked first, then stored as the active feed of its kind
    /// and every town's installations of the changed products re-matched, in one transaction.
    pub async fn import_feed(
        &self,
        scope: &Scope,
        source: &str,
        upload: FeedUpload,
    ) -> std::result::Result<ImportOutcome, FeedImportError> {
        if !may_manage_feeds(scope) {
            return Err(DomainError::Forbidden.into());
        }
        let empty = match &upload {
            FeedUpload::Kev(b) => b.is_empty(),
            FeedUpload::Eol { files, .. } | FeedUpload::Csaf(files) => files.is_empty(),
        };
        if empty {
            return Err(DomainError::field("file", "upd.err.empty").into());
        }
        let content = encode_content(&upload)?;
        let today = today_utc();
        let mut w = self.begin_write(scope).await?;
        // Loaded after the write lock: no other import can slip in between.
        let loaded = self.loaded_feeds(None).await?;
        let mut feeds = loaded.feeds.clone();
        let changed = apply(&mut feeds, source, &upload, today)?;
        let mut published = loaded.published.clone();
        if let FeedUpload::Csaf(docs) = &upload {
            csaf_published(docs, &mut published);
        }
        let (kind, snapshot) = match &upload {
            FeedUpload::Kev(_) => ("kev", feeds.kev.released),
            FeedUpload::Eol { snapshot, .. } => ("eol", snapshot.unwrap_or(today)),
            FeedUpload::Csaf(_) => (
                "csaf",
                feeds
                    .meta
                    .get(&FeedKind::Csaf)
                    .map(|m| m.snapshot)
                    .unwrap_or(today),
            ),
        };
        let (count, detail_count) = counts(&feeds, &upload);
        let sha = sha256_hex(&[kind.as_bytes(), content.as_bytes()]);
        if kind != "csaf" {
            sqlx::query("UPDATE upd_feed SET active = 0 WHERE kind = $1 AND active = 1")
                .bind(kind)
                .execute(&mut *w.tx)
                .await
                .map_err(internal)?;
        }
        let counts_json = json!({ "count": count, "detail_count": detail_count }).to_string();
        let id: i64 = sqlx::query(
            "INSERT INTO upd_feed (kind, source, snapshot, sha256, content, counts, active, imported_at, imported_by) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8) RETURNING id",
        )
        .bind(kind)
        .bind(source)
        .bind(format_date(snapshot))
        .bind(&sha)
        .bind(&content)
        .bind(&counts_json)
        .bind(now())
        .bind(&scope.name)
        .fetch_one(&mut *w.tx)
        .await
        .map_err(internal)?
        .try_get(0)
        .map_err(internal)?;
        let installation_key = loaded.key.clone();
        let next = LoadedFeeds {
            feeds,
            published,
            key: String::new(),
        };
        let orgs = sqlx::query(
            "SELECT DISTINCT o.organisation_id, g.verbund_id FROM inv_object o \
             JOIN organisation g ON g.id = o.organisation_id ORDER BY g.verbund_id, o.organisation_id",
        )
        .fetch_all(&mut *w.tx)
        .await
        .map_err(internal)?;
        let mut out = ImportOutcome {
            feed_id: id,
            changed_products: changed.len(),
            ..Default::default()
        };
        // Each town is re-matched with the aliases that apply to it: a Verbund with aliases of its
        // own gets the new feed applied to its own alias table.
        let mut groups: BTreeMap<Option<i64>, Vec<OrgId>> = BTreeMap::new();
        for r in &orgs {
            let org = OrgId(r.try_get(0).map_err(internal)?);
            let verbund: Option<i64> = r.try_get(1).map_err(internal)?;
            groups.entry(verbund).or_default().push(org);
        }
        let engine = Engine::new(&next.feeds);
        for (verbund, towns) in groups {
            let base = self.loaded_feeds(verbund.map(VerbundId)).await?;
            let own = if base.key == installation_key {
                None
            } else {
                let mut f = base.feeds.clone();
                let c = apply(&mut f, source, &upload, today)?;
                let l = LoadedFeeds {
                    feeds: f,
                    published: next.published.clone(),
                    key: String::new(),
                };
                Some((l, c))
            };
            let own_engine = own.as_ref().map(|(l, _)| Engine::new(&l.feeds));
            let (feeds_here, changed_here, engine_here) = match (&own, &own_engine) {
                (Some((l, c)), Some(e)) => (l, c, e),
                _ => (&next, &changed, &engine),
            };
            for org in towns {
                self.rematch_after_import(
                    &mut w,
                    org,
                    (feeds_here, engine_here, changed_here),
                    today,
                    &mut out,
                )
                .await?;
            }
        }
        w.audit_owner(
            Owner::Installation,
            "import",
            "update_feed",
            id,
            None,
            Some(json!({
                "kind": kind, "source": source, "snapshot": format_date(snapshot), "sha256": sha,
                "count": count, "changed_products": out.changed_products,
                "new_findings": out.new_findings, "resolved_findings": out.resolved_findings,
            })),
        )
        .await?;
        w.commit().await?;
        Ok(out)
    }

    /// Re-matches one town after a feed import and adds what changed to `out`.
    async fn rematch_after_import(
        &self,
        w: &mut WriteTx<'_>,
        org: OrgId,
        (loaded, engine, changed): (&LoadedFeeds, &Engine<'_>, &BTreeSet<ProductKey>),
        today: Date,
        out: &mut ImportOutcome,
    ) -> Result<()> {
        let diff = diff_org(&mut w.tx, org, loaded, engine, Some(changed), today).await?;
        out.touched_installations += diff.touched;
        let (new, changed, resolved) = apply_diff(w, org, diff).await?;
        out.new_findings += new;
        out.changed_findings += changed;
        out.resolved_findings += resolved;
        if new + changed > 0 {
            out.new_by_org.push((org, new + changed));
        }
        Ok(())
    }

    /// The feeds with the aliases that apply to `org` (no scope check: callers have checked).
    async fn org_feeds(&self, org: OrgId) -> Result<Arc<LoadedFeeds>> {
        let mut conn = self.pool.acquire().await.map_err(internal)?;
        let verbund = verbund_of(&mut conn, org).await?;
        drop(conn);
        self.loaded_feeds(verbund).await
    }

    /// The installations of a town.
    pub async fn installations(&self, scope: &Scope, org: OrgId) -> Result<Vec<InstallationRow>> {
        scope.require(org, Access::Read)?;
        let mut conn = self.pool.acquire().await.map_err(internal)?;
        installations_of(&mut conn, org).await
    }

    /// Brings a town's findings up to date with its inventory and the active feeds. Writes (and
    /// audits) only when something changed. Returns (new, resolved).
    pub async fn sync_findings(&self, scope: &Scope, org: OrgId) -> Result<(usize, usize)> {
        scope.require(org, Access::Reports)?;
        let loaded = self.org_feeds(org).await?;
        let engine = Engine::new(&loaded.feeds);
        let today = today_utc();
        {
            let mut conn = self.pool.acquire().await.map_err(internal)?;
            if diff_org(&mut conn, org, &loaded, &engine, None, today)
                .await?
                .is_empty()
            {
                return Ok((0, 0));
            }
        }
        let mut w = self.begin_write(scope).await?;
        let diff = diff_org(&mut w.tx, org, &loaded, &engine, None, today).await?;
        let (new, _, resolved) = apply_diff(&mut w, org, diff).await?;
        w.commit().await?;
        Ok((new, resolved))
    }

    /// A town's findings, open ones first (resolved ones too when `with_resolved`).
    pub async fn findings(
        &self,
        scope: &Scope,
        org: OrgId,
        with_resolved: bool,
    ) -> Result<Vec<StoredFinding>> {
        self.findings_of(scope, &[org], with_resolved).await
    }

    /// Findings of several towns (those the scope may read; others are left out).
    pub async fn findings_of(
        &self,
        scope: &Scope,
        orgs: &[OrgId],
        with_resolved: bool,
    ) -> Result<Vec<StoredFinding>> {
        let visible: Vec<i64> = orgs
            .iter()
            .filter(|o| scope.can(**o, Access::Reports))
            .map(|o| o.0)
            .collect();
        if visible.is_empty() && orgs.len() == 1 {
            return Err(DomainError::NotFound);
        }
        let mut sql = format!(
            "SELECT {FINDING_COLUMNS} FROM upd_finding WHERE organisation_id IN {}",
            id_list(visible)
        );
        if !with_resolved {
            sql.push_str(" AND resolved_at IS NULL");
        }
        sql.push_str(" ORDER BY resolved_at DESC, organisation_id, object_id, inst, kind");
        let rows = sqlx::query(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(internal)?;
        rows.iter().map(finding).collect()
    }

    async fn finding_in(&self, scope: &Scope, org: OrgId, id: i64) -> Result<StoredFinding> {
        scope.require(org, Access::Reports)?;
        let row = sqlx::query(&format!(
            "SELECT {FINDING_COLUMNS} FROM upd_finding WHERE id = $1 AND organisation_id = $2"
        ))
        .bind(id)
        .bind(org.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(internal)?
        .ok_or(DomainError::NotFound)?;
        finding(&row)
    }

    fn check_finding_write(scope: &Scope, org: OrgId) -> Result<()> {
        scope.require(org, Access::WriteTechnical)
    }

    /// Sets owner, due date and status of the measure a finding became.
    pub async fn plan_finding(
        &self,
        scope: &Scope,
        org: OrgId,
        id: i64,
        plan: &FindingPlan,
    ) -> Result<()> {
        let before = self.finding_in(scope, org, id).await?;
        Self::check_finding_write(scope, org)?;
        if !PLAN_STATUSES.contains(&plan.status.as_str()) {
            return Err(DomainError::field("status", "upd.err.status"));
        }
        let owner = norm_text(plan.owner.clone());
        if owner.as_ref().is_some_and(|o| o.chars().count() > 200) {
            return Err(DomainError::field("owner", "err.too_long"));
        }
        let mut w = self.begin_write(scope).await?;
        sqlx::query(
            "UPDATE upd_finding SET owner = $1, due = $2, status = $3, updated_at = $4 WHERE id = $5 AND organisation_id = $6",
        )
        .bind(&owner)
        .bind(plan.due.map(format_date))
        .bind(&plan.status)
        .bind(now())
        .bind(id)
        .bind(org.0)
        .execute(&mut *w.tx)
        .await
        .map_err(internal)?;
        w.audit(
            Some(org),
            "update",
            "update_finding",
            id,
            Some(json!({ "owner": before.owner, "due": before.due.map(format_date), "status": before.status })),
            Some(json!({ "owner": owner, "due": plan.due.map(format_date), "status": plan.status })),
        )
        .await?;
        w.commit().await
    }

    /// Accepts a finding as an exception (reason, approver, expiry), or withdraws it (`None`).
    pub async fn except_finding(
        &self,
        scope: &Scope,
        org: OrgId,
        id: i64,
        exc: Option<&FindingException>,
    ) -> Result<()> {
        let before = self.finding_in(scope, org, id).await?;
        // Accepting a risk is the coordinator's decision, not IT staff's (like an override).
        scope.require(org, Access::Write)?;
        let mut errs = stadtmauer_core::validate::FieldErrors::default();
        if let Some(e) = exc {
            if e.reason.trim().is_empty() {
                errs.add("reason", "err.required");
            }
            if e.approver.trim().is_empty() {
                errs.add("approver", "err.required");
            }
            if e.reason.chars().count() > 2000 || e.approver.chars().count() > 200 {
                errs.add("reason", "err.too_long");
            }
        }
        if !errs.is_empty() {
            return Err(DomainError::Invalid(errs));
        }
        let mut w = self.begin_write(scope).await?;
        sqlx::query(
            "UPDATE upd_finding SET exc_reason = $1, exc_approver = $2, exc_until = $3, updated_at = $4 \
             WHERE id = $5 AND organisation_id = $6",
        )
        .bind(exc.map(|e| e.reason.trim().to_string()))
        .bind(exc.map(|e| e.approver.trim().to_string()))
        .bind(exc.map(|e| format_date(e.until)))
        .bind(now())
        .bind(id)
        .bind(org.0)
        .execute(&mut *w.tx)
        .await
        .map_err(internal)?;
        w.audit(
            Some(org),
            if exc.is_some() { "accept" } else { "withdraw" },
            "update_finding",
            id,
            Some(json!({ "reason": before.exc_reason, "approver": before.exc_approver,
                "until": before.exc_until.map(format_date) })),
            exc.map(|e| json!({ "reason": e.reason, "approver": e.approver, "until": format_date(e.until) })),
        )
        .await?;
        w.commit().await
    }

    /// Patch latency (days from advisory publication or KEV listing to the fix) over towns.
    pub async fn patch_latency(&self, scope: &Scope, orgs: &[OrgId]) -> Result<Latency> {
        let visible: Vec<i64> = orgs
            .iter()
            .filter(|o| scope.can(**o, Access::Reports))
            .map(|o| o.0)
            .collect();
        let rows = sqlx::query(&format!(
            "SELECT latency_days FROM upd_finding WHERE latency_days IS NOT NULL AND organisation_id IN {}",
            id_list(visible)
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?;
        let days: Vec<i64> = rows
            .iter()
            .filter_map(|r| r.try_get::<i64, _>(0).ok())
            .collect();
        Ok(Latency::of(days))
    }

    // -----------------------------------------------------------------------------------------
    // Installed software of a system
    // -----------------------------------------------------------------------------------------

    /// Installed software recorded for an object.
    pub async fn software(&self, scope: &Scope, object: ObjectId) -> Result<Vec<Software>> {
        self.object(scope, object).await?;
        let rows = sqlx::query(
            "SELECT id, object_id, product, version FROM inv_software WHERE object_id = $1 ORDER BY product, id",
        )
        .bind(object.0)
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?;
        rows.iter()
            .map(|r| {
                Ok(Software {
                    id: r.try_get("id").map_err(internal)?,
                    object_id: ObjectId(r.try_get("object_id").map_err(internal)?),
                    product: r.try_get("product").map_err(internal)?,
                    version: r.try_get("version").map_err(internal)?,
                })
            })
            .collect()
    }

    /// Records installed software on a system or application; the town's findings follow.
    pub async fn add_software(
        &self,
        scope: &Scope,
        object: ObjectId,
        product: &str,
        version: Option<&str>,
    ) -> Result<i64> {
        let o = self.object(scope, object).await?;
        self.check_write(scope, o.organisation_id, o.data.kind, o.data.shared)
            .await?;
        let mut errs = stadtmauer_core::validate::FieldErrors::default();
        let product = product.trim();
        let version = version.map(str::trim).filter(|v| !v.is_empty());
        if product.is_empty() {
            errs.add("product", "err.required");
        }
        if product.chars().count() > 200 {
            errs.add("product", "err.too_long");
        }
        if version.is_some_and(|v| v.chars().count() > 100) {
            errs.add("version", "err.too_long");
        }
        if !matches!(o.data.kind, ObjectKind::System | ObjectKind::Application) {
            errs.add("product", "upd.err.software_kind");
        }
        if !errs.is_empty() {
            return Err(DomainError::Invalid(errs));
        }
        let loaded = self.org_feeds(o.organisation_id).await?;
        let engine = Engine::new(&loaded.feeds);
        let mut w = self.begin_write(scope).await?;
        let id: i64 = sqlx::query(
            "INSERT INTO inv_software (object_id, product, version, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(object.0)
        .bind(product)
        .bind(version)
        .bind(now())
        .fetch_one(&mut *w.tx)
        .await
        .map_err(internal)?
        .try_get(0)
        .map_err(internal)?;
        w.audit(
            Some(o.organisation_id),
            "create",
            "software",
            id,
            None,
            Some(json!({ "object": o.data.name, "product": product, "version": version })),
        )
        .await?;
        let diff = diff_org(
            &mut w.tx,
            o.organisation_id,
            &loaded,
            &engine,
            None,
            today_utc(),
        )
        .await?;
        apply_diff(&mut w, o.organisation_id, diff).await?;
        w.commit().await?;
        Ok(id)
    }

    /// Removes a row of installed software; its findings resolve.
    pub async fn remove_software(&self, scope: &Scope, object: ObjectId, id: i64) -> Result<()> {
        let o = self.object(scope, object).await?;
        self.check_write(scope, o.organisation_id, o.data.kind, o.data.shared)
            .await?;
        let row = sqlx::query(
            "SELECT product, version FROM inv_software WHERE id = $1 AND object_id = $2",
        )
        .bind(id)
        .bind(object.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(internal)?
        .ok_or(DomainError::NotFound)?;
        let product: String = row.try_get("product").map_err(internal)?;
        let version: Option<String> = row.try_get("version").map_err(internal)?;
        let loaded = self.org_feeds(o.organisation_id).await?;
        let engine = Engine::new(&loaded.feeds);
        let mut w = self.begin_write(scope).await?;
        sqlx::query("DELETE FROM inv_software WHERE id = $1 AND object_id = $2")
            .bind(id)
            .bind(object.0)
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
        w.audit(
            Some(o.organisation_id),
            "delete",
            "software",
            id,
            Some(json!({ "object": o.data.name, "product": product, "version": version })),
            None,
        )
        .await?;
        let diff = diff_org(
            &mut w.tx,
            o.organisation_id,
            &loaded,
            &engine,
            None,
            today_utc(),
        )
        .await?;
        apply_diff(&mut w, o.organisation_id, diff).await?;
        w.commit().await
    }

    // -----------------------------------------------------------------------------------------
    // Users' aliases
    // -----------------------------------------------------------------------------------------

    /// Users' aliases the scope sees: the installation's and those of the user's Verbünde.
    pub async fn user_aliases(&self, scope: &Scope) -> Result<Vec<StoredAlias>> {
        let mut rows = self.alias_rows().await?;
        rows.retain(|a| scope.sees_shared(a.owner));
        Ok(rows)
    }

    /// Adds an alias owned by `owner` (the installation: administrators; a Verbund: its office
    /// officers); it takes effect at the next re-match of the owner's towns.
    pub async fn add_alias(&self, scope: &Scope, owner: Owner, a: &UserAlias) -> Result<i64> {
        scope.require_shared(owner)?;
        let a = UserAlias {
            pattern: a.pattern.trim().to_string(),
            key: a.key.trim().to_string(),
            cycle: norm_text(a.cycle.clone()),
        };
        let table = AliasTable::builtin().map_err(internal)?;
        if let Err(e) = table.with_user_aliases(std::slice::from_ref(&a)) {
            use stadtmauer_lifecycle::identity::AliasError;
            return Err(match e {
                AliasError::UnknownKey { .. } => DomainError::field("key", "upd.err.unknown_key"),
                _ => DomainError::field("pattern", "upd.err.empty_pattern"),
            });
        }
        if a.pattern.chars().count() > 200 {
            return Err(DomainError::field("pattern", "err.too_long"));
        }
        let mut w = self.begin_write(scope).await?;
        let id: i64 = sqlx::query(
            "INSERT INTO upd_alias (pattern, product_key, cycle, created_at, created_by, verbund_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(&a.pattern)
        .bind(&a.key)
        .bind(&a.cycle)
        .bind(now())
        .bind(&scope.name)
        .bind(owner.verbund().map(|v| v.0))
        .fetch_one(&mut *w.tx)
        .await
        .map_err(crate::unique_or_internal("pattern"))?
        .try_get(0)
        .map_err(internal)?;
        w.audit_owner(owner, "create", "product_alias", id, None, Some(json!(a)))
            .await?;
        w.commit().await?;
        Ok(id)
    }

    /// Removes an alias (its owner's managers only; another Verbund's alias reads as not found).
    pub async fn remove_alias(&self, scope: &Scope, id: i64) -> Result<()> {
        let before = self
            .alias_rows()
            .await?
            .into_iter()
            .find(|a| a.id == id)
            .ok_or(DomainError::NotFound)?;
        scope.require_shared(before.owner)?;
        let mut w = self.begin_write(scope).await?;
        sqlx::query("DELETE FROM upd_alias WHERE id = $1")
            .bind(id)
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
        w.audit_owner(
            before.owner,
            "delete",
            "product_alias",
            id,
            Some(json!({ "pattern": before.pattern, "key": before.key, "cycle": before.cycle })),
            None,
        )
        .await?;
        w.commit().await
    }

    // -----------------------------------------------------------------------------------------
    // Notifications
    // -----------------------------------------------------------------------------------------

    /// Where a Verbund is notified (office officers and administrators).
    pub async fn notify_config(&self, scope: &Scope, v: VerbundId) -> Result<NotifyConfig> {
        self.verbund(scope, v).await?;
        if !scope.manages_verbund(v) {
            return Err(DomainError::Forbidden);
        }
        self.notify_config_unchecked(v).await
    }

    async fn notify_config_unchecked(&self, v: VerbundId) -> Result<NotifyConfig> {
        let row = sqlx::query("SELECT webhook_url, email FROM upd_notify WHERE verbund_id = $1")
            .bind(v.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(internal)?;
        Ok(match row {
            Some(r) => NotifyConfig {
                webhook_url: r.try_get("webhook_url").map_err(internal)?,
                email: r.try_get("email").map_err(internal)?,
            },
            None => NotifyConfig::default(),
        })
    }

    pub async fn set_notify_config(
        &self,
        scope: &Scope,
        v: VerbundId,
        c: &NotifyConfig,
    ) -> Result<()> {
        self.verbund(scope, v).await?;
        if scope.read_only || !scope.manages_verbund(v) {
            return Err(DomainError::Forbidden);
        }
        let url = norm_text(c.webhook_url.clone());
        let email = norm_text(c.email.clone());
        if url.as_ref().is_some_and(|u| {
            !(u.starts_with("https://") || u.starts_with("http://")) || u.len() > 500
        }) {
            return Err(DomainError::field("webhook_url", "upd.err.url"));
        }
        if email
            .as_ref()
            .is_some_and(|e| !e.contains('@') || e.len() > 200)
        {
            return Err(DomainError::field("email", "err.email"));
        }
        let before = self.notify_config_unchecked(v).await?;
        let mut w = self.begin_write(scope).await?;
        sqlx::query("DELETE FROM upd_notify WHERE verbund_id = $1")
            .bind(v.0)
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
        sqlx::query(
            "INSERT INTO upd_notify (verbund_id, webhook_url, email, updated_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(v.0)
        .bind(&url)
        .bind(&email)
        .bind(now())
        .execute(&mut *w.tx)
        .await
        .map_err(internal)?;
        w.audit_owner(
            Owner::Verbund(v),
            "update",
            "update_notify",
            format!("verbund:{}", v.0),
            Some(json!(before)),
            Some(json!({ "webhook_url": url, "email": email })),
        )
        .await?;
        w.commit().await
    }

    /// Notifications owed after an import: per Verbund, its config and its own members' new
    /// findings (names and counts only). Members of another Verbund never appear. System use
    /// (after an import by an administrator or office officer).
    pub async fn notifications_for(
        &self,
        scope: &Scope,
        outcome: &ImportOutcome,
    ) -> Result<Vec<(VerbundId, NotifyConfig, Vec<(String, usize)>)>> {
        if !may_manage_feeds(scope) {
            return Err(DomainError::Forbidden);
        }
        let mut by_verbund: BTreeMap<i64, Vec<(String, usize)>> = BTreeMap::new();
        for (org, n) in &outcome.new_by_org {
            let row = sqlx::query("SELECT verbund_id, name FROM organisation WHERE id = $1")
                .bind(org.0)
                .fetch_optional(&self.pool)
                .await
                .map_err(internal)?;
            if let Some(r) = row {
                if let Some(v) = r
                    .try_get::<Option<i64>, _>("verbund_id")
                    .map_err(internal)?
                {
                    let name: String = r.try_get("name").map_err(internal)?;
                    by_verbund.entry(v).or_default().push((name, *n));
                }
            }
        }
        let mut out = Vec::new();
        for (v, towns) in by_verbund {
            let c = self.notify_config_unchecked(VerbundId(v)).await?;
            if c.webhook_url.is_some() || c.email.is_some() {
                out.push((VerbundId(v), c, towns));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_percentiles_by_nearest_rank() {
        let l = Latency::of(vec![10, 1, 5, 3, 8, 2, 7, 4, 6, 9]);
        assert_eq!((l.count, l.median, l.p90), (10, Some(5), Some(9)));
        assert_eq!(Latency::of(vec![]).median, None);
        assert_eq!(Latency::of(vec![4]).p90, Some(4));
    }

    #[test]
    fn eol_file_names_become_slugs() {
        assert_eq!(eol_slug("products/windows-server.md"), "windows-server");
        assert_eq!(eol_slug("C:\\x\\php.md"), "php");
    }
}
