//! A town's security level: its target (the Verbund's uniform one, or its own stricter one), the
//! requirement list derived from the target and the town's Informationsverbund, assessing each
//! requirement (for the town as a whole, or per object), evidence (files, links, references),
//! finishing an assessment (a snapshot), the trend over time; and the Verbund's heatmap.
//!
//! Requirements come from the shipped catalogs ([`crate::features::security::catalog::library`]); answers,
//! targets, evidence files and snapshots from the store; scoring and expiry from
//! `stadtmauer_assessment`.

mod assess;
mod card;
mod evidence;

pub use assess::*;
pub use card::*;
pub use evidence::*;

use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::features::security::catalog::{library, sec_level_label, unavailable, Library};
use crate::features::{done, fail, render, render_status};
use crate::i18n::Tr;
use crate::view::Chrome;
use crate::AppState;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;
use stadtmauer_assessment::answer::{AnswerInput, EvidenceInput};
use stadtmauer_assessment::date::format_date;
use stadtmauer_assessment::evidence::{Evidence, EvidencePolicy};
use stadtmauer_assessment::score::{evaluate, score, RequirementState, StatusCounts};
use stadtmauer_assessment::snapshot::Snapshot;
use stadtmauer_assessment::{Answer, Date, RequirementRef, SecLevel as ASecLevel, Status};
use stadtmauer_catalog::catalog::Requirement;
use stadtmauer_catalog::own::OwnRequirement;
use stadtmauer_catalog::target::{ImportedLayer, TargetSet};
use stadtmauer_catalog::SecLevel;
use stadtmauer_core::org::Organisation;
use stadtmauer_core::validate::FieldErrors;
use stadtmauer_core::{Access, DomainError, ObjectId, OrgId, Scope, VerbundId};
use stadtmauer_inventory::model::Object;
use stadtmauer_store::security::{StoredAnswer, Target, TownTarget};
use std::collections::{BTreeSet, HashMap, HashSet};

/// Largest evidence file accepted (the request may be a little larger).
pub const EVIDENCE_MAX: u64 = 10 * 1024 * 1024;
pub const EVIDENCE_BODY_MAX: usize = 11 * 1024 * 1024;

pub fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

// ---------------------------------------------------------------------------------------------
// The town's requirement list
// ---------------------------------------------------------------------------------------------

pub use stadtmauer_catalog::target::TownReq;

fn a_level(l: Option<SecLevel>) -> ASecLevel {
    match l {
        Some(SecLevel::Erhoeht) => ASecLevel::Erhoeht,
        _ => ASecLevel::NormalSdT,
    }
}

pub fn rref(r: &Requirement) -> RequirementRef {
    RequirementRef {
        id: r.id.clone(),
        practice: r.practice.clone(),
        sec_level: a_level(r.sec_level),
        effort_level: r.effort_level.unwrap_or(3),
        recurring: None,
    }
}

/// What a town's target consists of beyond the shipped catalogs, loaded per request; the rule
/// (which requirements apply) is [`stadtmauer_catalog::target::TargetSet`], this adds loading and
/// the words.
pub struct TargetReqs(pub TargetSet);

impl std::ops::Deref for TargetReqs {
    type Target = TargetSet;
    fn deref(&self) -> &TargetSet {
        &self.0
    }
}

impl TargetReqs {
    /// The town's targets and what they consist of (imported layers the town may not see, or
    /// that were removed, are left out).
    pub async fn load(
        state: &AppState,
        scope: &Scope,
        org: OrgId,
    ) -> Result<TargetReqs, DomainError> {
        let target = state.store.town_target(scope, org).await?;
        let mut imported = Vec::new();
        for t in &target.layers() {
            if let Target::Imported(id) = t {
                match state.store.imported_catalog(scope, *id).await {
                    Ok((meta, catalog)) => imported.push(ImportedLayer {
                        id: *id,
                        name: format!("{} {}", meta.title, meta.version),
                        catalog,
                    }),
                    Err(DomainError::NotFound) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        let own = state
            .store
            .town_own_requirements(scope, org)
            .await?
            .iter()
            .map(OwnRequirement::to_requirement)
            .collect();
        Ok(TargetReqs(TargetSet::new(target, imported, own)))
    }

    /// A requirement the town may answer (see [`TargetSet::find`]).
    pub fn find<'a>(&'a self, lib: &'a Library, id: &str) -> Option<&'a Requirement> {
        self.0.find(lib.targets(), id)
    }

    /// The name of one target: a shipped one translated, an imported one by title and version.
    pub fn name(&self, tr: Tr, t: Target) -> String {
        match t {
            Target::Imported(id) => self
                .imported_name(id)
                .map(str::to_string)
                .unwrap_or_else(|| tr.s(t.label_key()).to_string()),
            _ => tr.s(t.label_key()).to_string(),
        }
    }

    /// What the town must meet, in words: "Kommunale Basis + Landesprofil 2.0 + 2 eigene
    /// Anforderungen des Verbunds".
    pub fn label(&self, tr: Tr) -> String {
        let mut parts: Vec<String> = self.layers.iter().map(|t| self.name(tr, *t)).collect();
        if !self.own.is_empty() {
            parts.push(tr.f("sec.own.count", &[("n", &self.own.len().to_string())]));
        }
        parts.join(" + ")
    }

    /// The title of a practice (Praktik) of a shipped or imported catalog.
    pub fn practice_title(&self, lib: &Library, id: &str) -> String {
        self.0.practice_title(lib.targets(), id)
    }
}

/// The town's requirements (see [`TargetSet::town_requirements`]).
pub fn town_requirements<'a>(
    lib: &'a Library,
    set: &'a TargetReqs,
    objects: &[Object],
) -> Vec<TownReq<'a>> {
    set.0.town_requirements(lib.targets(), objects)
}

/// Everything the town pages need about a town's level.
struct Level_ {
    org: Organisation,
    target: TownTarget,
    set: TargetReqs,
    objects: Vec<Object>,
    answers: Vec<StoredAnswer>,
}

async fn load(state: &AppState, scope: &Scope, org: OrgId) -> Result<Level_, DomainError> {
    let o = state.store.organisation(scope, org).await?;
    let set = TargetReqs::load(state, scope, org).await?;
    let target = set.target;
    let objects = state.store.objects(scope, org, None, false).await?;
    let answers = state.store.answers(scope, org).await?;
    Ok(Level_ {
        org: o,
        target,
        set,
        objects,
        answers,
    })
}

pub(crate) fn pct(c: &StatusCounts) -> String {
    c.percent()
        .map(|p| format!("{p} %"))
        .unwrap_or_else(|| "–".into())
}

pub(crate) fn pct_value(c: &StatusCounts) -> u8 {
    c.percent().unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// The town's overview
// ---------------------------------------------------------------------------------------------

pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct PracticeRow {
    pub id: String,
    pub title: String,
    pub counts: StatusCounts,
    pub percent: String,
    pub value: u8,
}

pub struct ReqRow {
    pub id: String,
    pub title: String,
    pub sec_level: &'static str,
    pub objects: usize,
    pub status: &'static str,
    pub status_code: &'static str,
    pub expired: Option<&'static str>,
    /// An answer's requirement text changed in a newer catalog version.
    pub review: bool,
}

pub struct TrendRow {
    pub date: String,
    pub target: String,
    pub percent: String,
    pub value: u8,
}

#[derive(Template)]
#[template(path = "security/town.html")]
pub struct TownPage {
    pub c: Chrome,
    pub org: Organisation,
    pub verbund_target: String,
    pub effective_target: String,
    pub target_opts: Vec<Opt>,
    pub can_write: bool,
    pub can_answer: bool,
    pub overall: StatusCounts,
    pub overall_pct: String,
    pub overall_value: u8,
    pub gap: u32,
    pub practices: Vec<PracticeRow>,
    pub trend: Vec<TrendRow>,
    pub practice_opts: Vec<Opt>,
    pub status_opts: Vec<Opt>,
    pub rows: Vec<ReqRow>,
    pub total: usize,
    pub attribution: &'static str,
}

#[derive(Deserialize, Default)]
pub struct TownQuery {
    pub msg: Option<String>,
    pub practice: Option<String>,
    pub status: Option<String>,
}

fn answers_of(stored: &[StoredAnswer]) -> Vec<Answer> {
    stored.iter().map(|s| s.answer.clone()).collect()
}

fn status_label(tr: Tr, s: Status) -> &'static str {
    tr.s(s.label_key())
}

pub async fn town(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<TownQuery>,
) -> Response {
    let Some(lib) = library() else {
        return unavailable(tr);
    };
    let org_id = OrgId(id);
    let l = match load(&state, &me.scope, org_id).await {
        Ok(l) => l,
        Err(e) => return fail(tr, e),
    };
    let reqs = town_requirements(lib, &l.set, &l.objects);
    let refs: Vec<RequirementRef> = reqs.iter().map(|t| rref(t.req)).collect();
    let answers = answers_of(&l.answers);
    let at = today();
    let states = evaluate(&refs, &answers, at);
    let sc = score(&states, ASecLevel::Erhoeht);
    let practice_title = |id: &str| l.set.practice_title(lib, id);
    let practices = sc
        .practices
        .iter()
        .map(|(p, c)| PracticeRow {
            id: p.clone(),
            title: practice_title(p),
            counts: *c,
            percent: pct(c),
            value: pct_value(c),
        })
        .collect();
    let gap = sc.overall.nein + sc.overall.teilweise + sc.overall.offen;
    let imported = imported_targets(&state, &me.scope).await;
    let trend = state
        .store
        .snapshots(&me.scope, org_id)
        .await
        .unwrap_or_default()
        .iter()
        .rev()
        .map(|s| {
            let c = s.snapshot.overall(ASecLevel::Erhoeht);
            TrendRow {
                date: format_date(s.snapshot.taken_on),
                target: target_name(tr, s.target, &imported),
                percent: pct(&c),
                value: pct_value(&c),
            }
        })
        .collect();
    let f_practice = q.practice.as_deref().filter(|p| !p.is_empty());
    let f_status = q.status.as_deref().and_then(Status::parse_strict);
    let review: HashSet<&str> = l
        .answers
        .iter()
        .filter(|s| s.needs_review)
        .map(|s| s.answer.requirement_id.as_str())
        .collect();
    let rows: Vec<ReqRow> = reqs
        .iter()
        .zip(states.iter())
        .filter(|(t, _)| f_practice.is_none_or(|p| t.req.practice == p))
        .filter(|(_, st)| f_status.is_none_or(|s| st.status == s))
        .map(|(t, st): (&TownReq, &RequirementState)| ReqRow {
            id: t.req.id.clone(),
            title: t.req.title.clone(),
            sec_level: sec_level_label(tr, t.req.sec_level),
            objects: t.objects.len(),
            status: status_label(tr, st.status),
            status_code: st.status.as_str(),
            expired: st.expired.map(|e| tr.s(e.key())),
            review: review.contains(t.req.id.as_str()),
        })
        .collect();
    let can_write = me.scope.may(org_id, Access::Write);
    let verbund_target = l.target.verbund;
    let mut target_opts = vec![Opt {
        value: String::new(),
        label: tr.f(
            "sec.target.like_verbund",
            &[("target", &target_name(tr, verbund_target, &imported))],
        ),
        selected: l.target.own.is_none(),
    }];
    target_opts.extend(target_options(
        tr,
        &imported,
        Some(verbund_target),
        l.target.own,
    ));
    let practice_set: BTreeSet<&str> = reqs.iter().map(|t| t.req.practice.as_str()).collect();
    let mut practice_opts = vec![Opt {
        value: String::new(),
        label: tr.s("sec.cat.any").to_string(),
        selected: f_practice.is_none(),
    }];
    practice_opts.extend(practice_set.iter().map(|p| Opt {
        value: p.to_string(),
        label: format!("{p} – {}", practice_title(p)),
        selected: f_practice == Some(*p),
    }));
    let mut status_opts = vec![Opt {
        value: String::new(),
        label: tr.s("sec.cat.any").to_string(),
        selected: f_status.is_none(),
    }];
    status_opts.extend(Status::ALL.iter().map(|s| Opt {
        value: s.as_str().to_string(),
        label: status_label(tr, *s).to_string(),
        selected: f_status == Some(*s),
    }));
    let page = TownPage {
        c: Chrome::new(tr, &me, tr.s("sec.town.title"), "organisations")
            .with_flash(q.msg.as_deref()),
        org: l.org,
        verbund_target: target_name(tr, verbund_target, &imported),
        effective_target: l.set.label(tr),
        target_opts,
        can_write,
        can_answer: me.scope.may(org_id, Access::WriteTechnical),
        overall: sc.overall,
        overall_pct: pct(&sc.overall),
        overall_value: pct_value(&sc.overall),
        gap,
        practices,
        trend,
        practice_opts,
        status_opts,
        total: reqs.len(),
        rows,
        attribution: stadtmauer_catalog::ATTRIBUTION,
    };
    render(page)
}

/// The imported catalogs and profiles a target may name: `(id, "title version (Profil)")`.
pub async fn imported_targets(state: &AppState, scope: &Scope) -> Vec<(i64, String)> {
    state
        .store
        .imported_catalogs(scope)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|c| !c.is_mapping())
        .map(|c| (c.id, format!("{} {}", c.title, c.version)))
        .collect()
}

/// A target's name: a shipped one translated, an imported one by title and version.
pub fn target_name(tr: Tr, t: Target, imported: &[(i64, String)]) -> String {
    match t {
        Target::Imported(id) => imported
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, n)| tr.f("sec.target.imported_named", &[("name", n)]))
            .unwrap_or_else(|| tr.s(t.label_key()).to_string()),
        _ => tr.s(t.label_key()).to_string(),
    }
}

/// The targets one may choose: the shipped ones not weaker than `min`, then every imported
/// catalog or profile (its requirements come on top of the Verbund's).
pub fn target_options(
    tr: Tr,
    imported: &[(i64, String)],
    min: Option<Target>,
    current: Option<Target>,
) -> Vec<Opt> {
    Target::ALL
        .into_iter()
        .filter(|t| min.is_none_or(|m| !m.is_shipped() || *t >= m))
        .chain(imported.iter().map(|(id, _)| Target::Imported(*id)))
        .map(|t| Opt {
            value: t.code(),
            label: target_name(tr, t, imported),
            selected: current == Some(t),
        })
        .collect()
}

trait StrictStatus {
    fn parse_strict(s: &str) -> Option<Status>;
}

impl StrictStatus for Status {
    /// Only the five canonical words (filters: an empty value means "all", not "offen").
    fn parse_strict(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }
}

#[derive(Deserialize)]
pub struct TargetForm {
    pub target: Option<String>,
}

pub async fn set_target(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<TargetForm>,
) -> Response {
    let org = OrgId(id);
    // The role first: input is judged only for someone who may change it.
    if let Err(e) = me.scope.require(org, Access::Write) {
        return fail(tr, e);
    }
    let t = match f.target.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => match Target::parse(s) {
            Some(t) => Some(t),
            None => return fail(tr, DomainError::field("target", "err.choose_one")),
        },
    };
    match state.store.set_town_target(&me.scope, org, t).await {
        Ok(()) => done(&format!("/organisations/{id}/security"), "msg.saved"),
        Err(e) => fail(tr, e),
    }
}

/// "Bewertung abschließen": a snapshot of today's level.
pub async fn finish(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Response {
    let Some(lib) = library() else {
        return unavailable(tr);
    };
    let org = OrgId(id);
    if !me.scope.may(org, Access::Write) {
        return fail(
            tr,
            if me.scope.access(org).is_none() {
                DomainError::NotFound
            } else {
                DomainError::Forbidden
            },
        );
    }
    let l = match load(&state, &me.scope, org).await {
        Ok(l) => l,
        Err(e) => return fail(tr, e),
    };
    let target = l.target.effective();
    let reqs = town_requirements(lib, &l.set, &l.objects);
    let refs: Vec<RequirementRef> = reqs.iter().map(|t| rref(t.req)).collect();
    let answers = answers_of(&l.answers);
    let states = evaluate(&refs, &answers, today());
    let snap = Snapshot::take(org, today(), &states);
    match state.store.save_snapshot(&me.scope, &snap, target).await {
        Ok(_) => done(&format!("/organisations/{id}/security"), "msg.saved"),
        Err(e) => fail(tr, e),
    }
}
