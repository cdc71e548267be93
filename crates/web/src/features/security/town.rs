//! A town's security level: its target (the Verbund's uniform one, or its own stricter one), the
//! requirement list derived from the target and the town's Informationsverbund, assessing each
//! requirement (for the town as a whole, or per object), evidence (files, links, references),
//! finishing an assessment (a snapshot), the trend over time; and the Verbund's heatmap.
//!
//! Requirements come from the shipped catalogs ([`crate::features::security::catalog::library`]); answers,
//! targets, evidence files and snapshots from the store; scoring and expiry from
//! `stadtmauer_assessment`.

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

// ---------------------------------------------------------------------------------------------
// Assessing one requirement
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
pub struct AssessQuery {
    pub id: Option<String>,
    pub msg: Option<String>,
}

pub struct EvidenceRow {
    pub label: String,
    pub href: Option<String>,
    pub valid_until: Option<String>,
}

/// One answer form: the town as a whole (object None) or one object.
pub struct AnswerForm {
    pub key: String,
    pub object_id: Option<ObjectId>,
    pub object_name: Option<String>,
    pub status: String,
    pub reason: String,
    pub note: String,
    pub responsible: String,
    pub assessed_on: String,
    pub review_by: String,
    pub effective: &'static str,
    pub expired: Option<&'static str>,
    pub evidence: Vec<EvidenceRow>,
    pub errors: FieldErrors,
    /// The requirement's text changed in a newer catalog version since this answer.
    pub needs_review: bool,
}

impl AnswerForm {
    pub fn err(&self, tr: &Tr, field: &str) -> Option<&'static str> {
        self.errors.get(field).map(|k| tr.get(k).unwrap_or(k))
    }
}

#[derive(Template)]
#[template(path = "security/assess.html")]
pub struct AssessPage {
    pub c: Chrome,
    pub org: Organisation,
    pub id: String,
    pub statement: Vec<String>,
    pub guidance: Vec<String>,
    pub sec_level: &'static str,
    pub in_list: bool,
    pub can_write: bool,
    pub forms: Vec<AnswerForm>,
    pub has_errors: bool,
    pub statuses: Vec<(&'static str, &'static str)>,
    pub attribution: &'static str,
}

fn evidence_rows(org: OrgId, a: &Answer, tr: Tr) -> Vec<EvidenceRow> {
    a.evidence
        .iter()
        .map(|e| {
            let (label, href) = match &e.evidence {
                Evidence::File {
                    sha256, name, size, ..
                } => (
                    format!("{name} ({} kB)", size.div_ceil(1024)),
                    Some(format!(
                        "/organisations/{}/security/evidence?sha={sha256}",
                        org.0
                    )),
                ),
                Evidence::Link { url } => (url.clone(), Some(url.clone())),
                Evidence::Record { record, id } => {
                    (format!("{} #{id}", tr.s(record.label_key())), None)
                }
            };
            EvidenceRow {
                label,
                href,
                valid_until: e.valid_until.map(format_date),
            }
        })
        .collect()
}

fn blank_form(key: String, object: Option<(ObjectId, String)>) -> AnswerForm {
    AnswerForm {
        key,
        object_id: object.as_ref().map(|o| o.0),
        object_name: object.map(|o| o.1),
        status: String::new(),
        reason: String::new(),
        note: String::new(),
        responsible: String::new(),
        assessed_on: String::new(),
        review_by: String::new(),
        effective: "",
        expired: None,
        evidence: vec![],
        errors: FieldErrors::default(),
        needs_review: false,
    }
}

async fn assess_page(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    org_id: OrgId,
    req_id: &str,
    failed: Option<(Option<ObjectId>, &AnswerInput, FieldErrors)>,
    msg: Option<&str>,
) -> Response {
    let Some(lib) = library() else {
        return unavailable(tr);
    };
    let l = match load(state, &me.scope, org_id).await {
        Ok(l) => l,
        Err(e) => return fail(tr, e),
    };
    let Some(r) = l.set.find(lib, req_id) else {
        return PageError::status(tr, StatusCode::NOT_FOUND).into_response();
    };
    let reqs = town_requirements(lib, &l.set, &l.objects);
    let mine = reqs.iter().find(|t| t.req.id == r.id);
    let rr = rref(r);
    let at = today();
    let mut forms = vec![blank_form("org".into(), None)];
    if let Some(t) = mine {
        for (oid, name) in &t.objects {
            forms.push(blank_form(
                format!("o{}", oid.0),
                Some((*oid, name.clone())),
            ));
        }
    }
    for s in l.answers.iter().filter(|s| s.answer.requirement_id == r.id) {
        let a = &s.answer;
        let form = match forms.iter_mut().find(|f| f.object_id == a.object_id) {
            Some(f) => f,
            None => continue,
        };
        let eff = stadtmauer_assessment::effective::effective(a, rr.recurring, at);
        form.status = a.status.as_str().to_string();
        form.reason = a.reason.clone().unwrap_or_default();
        form.note = a.note.clone().unwrap_or_default();
        form.responsible = a.responsible.clone().unwrap_or_default();
        form.assessed_on = format_date(a.assessed_on);
        form.review_by = a.review_by.map(format_date).unwrap_or_default();
        form.effective = status_label(tr, eff.status);
        form.expired = eff.expired.map(|e| tr.s(e.key()));
        form.evidence = evidence_rows(org_id, a, tr);
        form.needs_review = s.needs_review;
    }
    if let Some((oid, input, errors)) = failed {
        if let Some(form) = forms.iter_mut().find(|f| f.object_id == oid) {
            form.status = input.status.clone();
            form.reason = input.reason.clone().unwrap_or_default();
            form.note = input.note.clone().unwrap_or_default();
            form.responsible = input.responsible.clone().unwrap_or_default();
            form.assessed_on = input.assessed_on.clone().unwrap_or_default();
            form.review_by = input.review_by.clone().unwrap_or_default();
            form.errors = errors;
        }
    }
    let has_errors = forms.iter().any(|f| !f.errors.is_empty());
    let page = AssessPage {
        c: Chrome::new(tr, me, format!("{} {}", r.id, r.title), "organisations").with_flash(msg),
        org: l.org,
        id: r.id.clone(),
        statement: paragraphs(&r.statement_text()),
        guidance: r.guidance.as_deref().map(paragraphs).unwrap_or_default(),
        sec_level: sec_level_label(tr, r.sec_level),
        in_list: mine.is_some(),
        can_write: me.scope.may(org_id, Access::WriteTechnical),
        forms,
        has_errors,
        statuses: Status::ALL
            .iter()
            .map(|s| (s.as_str(), status_label(tr, *s)))
            .collect(),
        attribution: stadtmauer_catalog::ATTRIBUTION,
    };
    if has_errors {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, page)
    } else {
        render(page)
    }
}

fn paragraphs(s: &str) -> Vec<String> {
    s.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

pub async fn assess(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<AssessQuery>,
) -> Response {
    let org = OrgId(id);
    if me.scope.access(org).is_none() {
        return fail(tr, DomainError::NotFound);
    }
    let req = q.id.unwrap_or_default();
    assess_page(&state, tr, &me, org, req.trim(), None, q.msg.as_deref()).await
}

#[derive(Deserialize, Default)]
pub struct AnswerFormInput {
    pub requirement_id: Option<String>,
    pub object_id: Option<String>,
    pub status: Option<String>,
    pub reason: Option<String>,
    pub note: Option<String>,
    pub responsible: Option<String>,
    pub assessed_on: Option<String>,
    pub review_by: Option<String>,
    /// A link to add as evidence.
    pub evidence_url: Option<String>,
    /// A reference to another record (`kind:id`), to add as evidence.
    pub evidence_record: Option<String>,
    pub evidence_record_id: Option<String>,
    pub evidence_valid_until: Option<String>,
}

fn opt(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// The evidence already recorded for the answer being replaced, so that saving the form keeps it.
fn existing_evidence(prev: Option<&StoredAnswer>) -> Vec<EvidenceInput> {
    prev.map(|s| {
        s.answer
            .evidence
            .iter()
            .map(|e| {
                let valid_until = e.valid_until.map(format_date);
                match &e.evidence {
                    Evidence::File {
                        sha256,
                        size,
                        media_type,
                        name,
                    } => EvidenceInput {
                        kind: "file".into(),
                        sha256: Some(sha256.clone()),
                        size: Some(size.to_string()),
                        media_type: Some(media_type.clone()),
                        name: Some(name.clone()),
                        valid_until,
                        ..Default::default()
                    },
                    Evidence::Link { url } => EvidenceInput {
                        kind: "link".into(),
                        url: Some(url.clone()),
                        valid_until,
                        ..Default::default()
                    },
                    Evidence::Record { record, id } => EvidenceInput {
                        kind: "record".into(),
                        record: Some(record.as_str().into()),
                        record_id: Some(id.to_string()),
                        valid_until,
                        ..Default::default()
                    },
                }
            })
            .collect()
    })
    .unwrap_or_default()
}

/// A requirement the town may answer (see [`TargetReqs::find`]).
pub async fn find_requirement(
    state: &AppState,
    scope: &Scope,
    org: OrgId,
    lib: &Library,
    id: &str,
) -> Result<Option<Requirement>, DomainError> {
    if let Some((_, r)) = lib.find(id.trim()) {
        return Ok(Some(r.clone()));
    }
    let set = TargetReqs::load(state, scope, org).await?;
    Ok(set.find(lib, id).cloned())
}

pub async fn save_answer(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<AnswerFormInput>,
) -> Response {
    let org = OrgId(id);
    if let Err(e) = me.scope.require(org, Access::WriteTechnical) {
        return fail(tr, e);
    }
    let Some(lib) = library() else {
        return unavailable(tr);
    };
    let req_id = opt(&f.requirement_id).unwrap_or_default();
    let r = match find_requirement(&state, &me.scope, org, lib, &req_id).await {
        Ok(Some(r)) => r,
        Ok(None) => return PageError::status(tr, StatusCode::NOT_FOUND).into_response(),
        Err(e) => return fail(tr, e),
    };
    let object_id = opt(&f.object_id)
        .and_then(|o| o.parse::<i64>().ok())
        .map(ObjectId);
    let prev = match state.store.answers_for(&me.scope, org, &r.id).await {
        Ok(list) => list.into_iter().find(|s| s.answer.object_id == object_id),
        Err(e) => return fail(tr, e),
    };
    let mut evidence = existing_evidence(prev.as_ref());
    if let Some(url) = opt(&f.evidence_url) {
        evidence.push(EvidenceInput {
            kind: "link".into(),
            url: Some(url),
            valid_until: opt(&f.evidence_valid_until),
            ..Default::default()
        });
    }
    if let Some(record) = opt(&f.evidence_record) {
        evidence.push(EvidenceInput {
            kind: "record".into(),
            record: Some(record),
            record_id: opt(&f.evidence_record_id),
            valid_until: opt(&f.evidence_valid_until),
            ..Default::default()
        });
    }
    let input = AnswerInput {
        requirement_id: r.id.clone(),
        object_id: object_id.map(|o| o.0.to_string()),
        status: f.status.clone().unwrap_or_default(),
        reason: f.reason.clone(),
        note: f.note.clone(),
        responsible: f.responsible.clone(),
        assessed_on: f.assessed_on.clone(),
        review_by: f.review_by.clone(),
        evidence,
    };
    let answer = match input.validate(today()) {
        Ok(a) => a,
        Err(DomainError::Invalid(errors)) => {
            return assess_page(
                &state,
                tr,
                &me,
                org,
                &r.id,
                Some((object_id, &input, errors)),
                None,
            )
            .await
        }
        Err(e) => return fail(tr, e),
    };
    match state.store.save_answer(&me.scope, org, &answer).await {
        Ok(_) => done(
            &format!("/organisations/{id}/security/requirement?id={}", r.id),
            "msg.saved",
        ),
        Err(DomainError::Invalid(errors)) => {
            assess_page(
                &state,
                tr,
                &me,
                org,
                &r.id,
                Some((object_id, &input, errors)),
                None,
            )
            .await
        }
        Err(e) => fail(tr, e),
    }
}

// ---------------------------------------------------------------------------------------------
// Evidence files
// ---------------------------------------------------------------------------------------------

/// Uploads a file as evidence of one answer (multipart; CSRF token in `?csrf=`). The type is
/// decided by the file's first bytes, never by its name or declared type alone.
pub async fn upload_evidence(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    mp: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let org = OrgId(id);
    if let Err(e) = me.scope.require(org, Access::WriteTechnical) {
        return fail(tr, e);
    }
    let Some(lib) = library() else {
        return unavailable(tr);
    };
    let Ok(mut mp) = mp else {
        return PageError::status(tr, StatusCode::BAD_REQUEST).into_response();
    };
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut file: Option<(String, String, Vec<u8>)> = None;
    loop {
        match mp.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_string();
                if name == "file" {
                    let file_name = field.file_name().unwrap_or("").to_string();
                    let declared = field.content_type().unwrap_or("").to_string();
                    match field.bytes().await {
                        Ok(b) => file = Some((file_name, declared, b.to_vec())),
                        Err(_) => {
                            return PageError::status(tr, StatusCode::PAYLOAD_TOO_LARGE)
                                .into_response()
                        }
                    }
                } else if let Ok(t) = field.text().await {
                    fields.insert(name, t);
                }
            }
            Ok(None) => break,
            Err(e) => return PageError::status(tr, e.status()).into_response(),
        }
    }
    let req_id = fields.get("requirement_id").cloned().unwrap_or_default();
    let r = match find_requirement(&state, &me.scope, org, lib, &req_id).await {
        Ok(Some(r)) => r,
        Ok(None) => return PageError::status(tr, StatusCode::NOT_FOUND).into_response(),
        Err(e) => return fail(tr, e),
    };
    let object_id = fields
        .get("object_id")
        .and_then(|o| o.trim().parse::<i64>().ok())
        .map(ObjectId);
    let back = format!("/organisations/{id}/security/requirement?id={}", r.id);
    let Some((name, declared, bytes)) = file else {
        return field_error(&state, tr, &me, org, &r.id, object_id, "err.evidence.empty").await;
    };
    let policy = EvidencePolicy {
        max_size: EVIDENCE_MAX,
    };
    let ft = match policy.check(&name, &declared, &bytes, bytes.len() as u64) {
        Ok(ft) => ft,
        Err(rej) => {
            return field_error(&state, tr, &me, org, &r.id, object_id, rej.key()).await;
        }
    };
    let stored = match state
        .store
        .store_evidence_file(&me.scope, org, name.trim(), ft.media_type(), &bytes)
        .await
    {
        Ok(f) => f,
        Err(e) => return fail(tr, e),
    };
    // Attach it to the answer (an answer "offen" is created if there is none yet).
    let prev = match state.store.answers_for(&me.scope, org, &r.id).await {
        Ok(list) => list.into_iter().find(|s| s.answer.object_id == object_id),
        Err(e) => return fail(tr, e),
    };
    let mut evidence = existing_evidence(prev.as_ref());
    evidence.push(EvidenceInput {
        kind: "file".into(),
        sha256: Some(stored.sha256.clone()),
        size: Some(stored.size.to_string()),
        media_type: Some(stored.media_type.clone()),
        name: Some(stored.name.clone()),
        valid_until: fields
            .get("valid_until")
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty()),
        ..Default::default()
    });
    let base = prev.map(|p| p.answer);
    let input = AnswerInput {
        requirement_id: r.id.clone(),
        object_id: object_id.map(|o| o.0.to_string()),
        status: base
            .as_ref()
            .map(|b| b.status.as_str().to_string())
            .unwrap_or_else(|| "offen".into()),
        reason: base.as_ref().and_then(|b| b.reason.clone()),
        note: base.as_ref().and_then(|b| b.note.clone()),
        responsible: base.as_ref().and_then(|b| b.responsible.clone()),
        assessed_on: base.as_ref().map(|b| format_date(b.assessed_on)),
        review_by: base.as_ref().and_then(|b| b.review_by.map(format_date)),
        evidence,
    };
    let answer = match input.validate(today()) {
        Ok(a) => a,
        Err(DomainError::Invalid(errors)) => {
            return assess_page(
                &state,
                tr,
                &me,
                org,
                &r.id,
                Some((object_id, &input, errors)),
                None,
            )
            .await
        }
        Err(e) => return fail(tr, e),
    };
    match state.store.save_answer(&me.scope, org, &answer).await {
        Ok(_) => done(&back, "msg.saved"),
        Err(e) => fail(tr, e),
    }
}

async fn field_error(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    org: OrgId,
    req: &str,
    object_id: Option<ObjectId>,
    key: &'static str,
) -> Response {
    let mut errors = FieldErrors::default();
    errors.add("evidence", key);
    let input = AnswerInput::default();
    let mut resp = assess_page(
        state,
        tr,
        me,
        org,
        req,
        Some((object_id, &input, errors)),
        None,
    )
    .await;
    *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    resp
}

#[derive(Deserialize, Default)]
pub struct EvidenceQuery {
    pub sha: Option<String>,
}

/// Serves an evidence file to users who may read the town: always as a download
/// (`Content-Disposition: attachment`, `nosniff`), never inline.
pub async fn download_evidence(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<EvidenceQuery>,
) -> Response {
    let org = OrgId(id);
    let sha = q.sha.unwrap_or_default().to_ascii_lowercase();
    if me.scope.access(org).is_none() {
        return fail(tr, DomainError::NotFound);
    }
    let (meta, bytes) = match state.store.evidence_content(&me.scope, org, &sha).await {
        Ok(x) => x,
        Err(e) => return fail(tr, e),
    };
    let safe: String = meta
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, meta.media_type.clone()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{safe}\""),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; sandbox".to_string(),
            ),
        ],
        bytes,
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// The dashboard's card
// ---------------------------------------------------------------------------------------------

pub struct DashRow {
    pub org_id: OrgId,
    pub name: String,
    pub percent: String,
    pub value: u8,
    pub date: String,
    pub overdue: usize,
}

#[derive(Template)]
#[template(path = "security/dash.html")]
pub struct DashCard {
    pub tr: Tr,
    pub rows: Vec<DashRow>,
    pub verbuende: Vec<(VerbundId, String)>,
}

/// The security level of every town the user sees (from the latest finished assessment), for
/// the dashboard; empty when the user sees no town.
pub async fn dashboard_card(state: &AppState, me: &CurrentUser, tr: Tr) -> String {
    let Ok(orgs) = state.store.organisations(&me.scope).await else {
        return String::new();
    };
    let towns: Vec<&Organisation> = orgs
        .iter()
        .filter(|o| !o.is_office && me.scope.can(o.id, Access::Reports))
        .collect();
    if towns.is_empty() {
        return String::new();
    }
    let ids: Vec<OrgId> = towns.iter().map(|o| o.id).collect();
    let snaps = state
        .store
        .latest_snapshots(&me.scope, &ids)
        .await
        .unwrap_or_default();
    let overdue = state
        .store
        .overdue_measures(&me.scope, &ids, today())
        .await
        .unwrap_or_default();
    let rows = towns
        .iter()
        .map(|o| {
            let s = snaps.iter().find(|s| s.snapshot.organisation_id == o.id);
            let c = s.map(|s| s.snapshot.overall(ASecLevel::Erhoeht));
            DashRow {
                org_id: o.id,
                name: o.name.clone(),
                percent: c.as_ref().map(pct).unwrap_or_else(|| "–".into()),
                value: c.as_ref().map(pct_value).unwrap_or(0),
                date: s
                    .map(|s| format_date(s.snapshot.taken_on))
                    .unwrap_or_else(|| "–".into()),
                overdue: overdue.get(&o.id).copied().unwrap_or(0),
            }
        })
        .collect();
    let mut verbuende: Vec<(VerbundId, String)> = Vec::new();
    if let Ok(vs) = state.store.verbuende(&me.scope).await {
        for v in vs {
            if me.scope.manages_verbund(v.id) && !me.scope.admin {
                verbuende.push((v.id, v.name));
            }
        }
    }
    DashCard {
        tr,
        rows,
        verbuende,
    }
    .render()
    .unwrap_or_default()
}

#[derive(Deserialize, Default)]
pub struct EntryQuery {
    pub org: Option<i64>,
}

/// `/security[?org=N]`: the security level of a town the user sees, or where the user most
/// likely wants to go (the own town, or the Verbund's heatmap for the office).
pub async fn entry(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Query(q): Query<EntryQuery>,
) -> Response {
    if let Some(id) = q.org {
        if me.scope.access(OrgId(id)).is_none() {
            return fail(tr, DomainError::NotFound);
        }
        return axum::response::Redirect::to(&format!("/organisations/{id}/security"))
            .into_response();
    }
    if let Some(v) = me.scope.managed_verbuende().next() {
        return axum::response::Redirect::to(&format!("/verbuende/{v}/security")).into_response();
    }
    let orgs = state
        .store
        .organisations(&me.scope)
        .await
        .unwrap_or_default();
    match orgs.iter().find(|o| !o.is_office) {
        Some(o) => axum::response::Redirect::to(&format!("/organisations/{}/security", o.id))
            .into_response(),
        None => axum::response::Redirect::to("/dashboard").into_response(),
    }
}
