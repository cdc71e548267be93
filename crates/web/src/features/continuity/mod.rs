//! Ransomware readiness: BIA, backups, restart order, readiness, emergency handbook, exercises.
//!
//! Pages: the town's readiness page (verdicts with their reasons, restart order after a total
//! outage, what-if scenarios, score, checklist), the BIA list and form per process, the backup
//! register, the handbook's contacts with the offline HTML and PDF downloads, and the office's
//! comparison of every member's score.

use crate::auth::CurrentUser;
use crate::features::{done, fail, render, render_status, FlashQuery};
use crate::i18n::{Lang, Tr};
use crate::routes::Routes;
use crate::view::Chrome;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use bcm::backup::{BackupInput, CopyInput, Medium, RestoreResult, RestoreTestInput};
use bcm::bia::{BiaInput, Criticality, DeadlineInput, DeadlineRule, StepInput};
use bcm::readiness::{Answer, Checklist, PointReason, Status};
use bcm::scenario::Scenario;
use bcm::verdict::Reason;
use bcm::Span;
use serde::Deserialize;
use stadtmauer_core::validate::FieldErrors;
use stadtmauer_core::{Access, DomainError, ObjectId, OrgId, VerbundId};
use stadtmauer_inventory::model::ObjectKind;
use stadtmauer_store::continuity::stadtmauer_continuity as bcm;
use stadtmauer_store::continuity::{analyse, handbook, Analysis, ContactForm, TownContinuity};
use std::collections::{BTreeMap, HashMap};
use time::{Date, OffsetDateTime, PrimitiveDateTime};

pub(crate) fn routes() -> Routes {
    Routes::new(false, false)
        .get("/organisations/{org_id}/continuity", town)
        .post(
            "/organisations/{org_id}/continuity/checklist",
            save_checklist,
        )
        .get("/organisations/{org_id}/continuity/bia", bia_list)
        .get("/inventory/{object_id}/bia", bia_form)
        .post("/inventory/{object_id}/bia", bia_save)
        .get("/organisations/{org_id}/continuity/backups", backups_page)
        .get(
            "/organisations/{org_id}/continuity/backups/edit",
            backup_form,
        )
        .post("/organisations/{org_id}/continuity/backups", backup_save)
        .post(
            "/organisations/{org_id}/continuity/backups/delete",
            backup_delete,
        )
        .get("/organisations/{org_id}/continuity/contacts", contacts_page)
        .post(
            "/organisations/{org_id}/continuity/contacts/add",
            contact_add,
        )
        .post(
            "/organisations/{org_id}/continuity/contacts/remove",
            contact_remove,
        )
        .get(
            "/organisations/{org_id}/continuity/handbook.html",
            handbook_html,
        )
        .get(
            "/organisations/{org_id}/continuity/handbook.pdf",
            handbook_pdf,
        )
        .get("/verbuende/{verbund_id}/continuity", verbund)
        .get(
            "/organisations/{org_id}/continuity/exercises",
            exercises_page,
        )
        .post(
            "/organisations/{org_id}/continuity/exercises",
            exercise_plan,
        )
        .get(
            "/organisations/{org_id}/continuity/exercises/result",
            exercise_result_form,
        )
        .post(
            "/organisations/{org_id}/continuity/exercises/result",
            exercise_result_save,
        )
        .post(
            "/organisations/{org_id}/continuity/exercises/measure",
            measure_update,
        )
}

pub(crate) fn api_routes() -> Routes {
    Routes::new(true, false)
}

fn now_local() -> PrimitiveDateTime {
    let n = OffsetDateTime::now_utc();
    PrimitiveDateTime::new(
        n.date(),
        time::Time::from_hms(n.hour(), n.minute(), 0).unwrap_or(time::Time::MIDNIGHT),
    )
}

/// A translation for a key built at run time.
fn ds(tr: Tr, key: String) -> String {
    tr.s(&key).to_string()
}

fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

fn fmt_ts(ts: i64) -> String {
    OffsetDateTime::from_unix_timestamp(ts)
        .map(|t| format!("{} {:02}:{:02} UTC", t.date(), t.hour(), t.minute()))
        .unwrap_or_default()
}

fn fmt_dt(t: PrimitiveDateTime) -> String {
    format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute())
}

/// A duration as the form accepts it back ("2d", "4h", "90min").
fn span_input(s: Span) -> String {
    let m = s.as_minutes();
    if m > 0 && m.is_multiple_of(1440) {
        format!("{}d", m / 1440)
    } else if m.is_multiple_of(60) {
        format!("{}h", m / 60)
    } else {
        format!("{m}min")
    }
}

fn kind_label(tr: Tr, k: ObjectKind) -> &'static str {
    tr.s(match k {
        ObjectKind::Process => "inv.kind.process",
        ObjectKind::Application => "inv.kind.application",
        ObjectKind::System => "inv.kind.system",
        ObjectKind::Location => "inv.kind.location",
        ObjectKind::Connection => "inv.kind.connection",
        ObjectKind::Provider => "inv.kind.provider",
    })
}

fn name_of(names: &HashMap<ObjectId, String>, id: ObjectId) -> String {
    names.get(&id).cloned().unwrap_or_else(|| format!("#{id}"))
}

/// The sentence that explains a verdict.
fn reason_text(tr: Tr, r: &Reason, names: &HashMap<ObjectId, String>) -> String {
    let s = |x: Span| x.to_string();
    match r {
        Reason::RpoInterval { interval, rpo } => {
            tr.f(r.key(), &[("interval", &s(*interval)), ("rpo", &s(*rpo))])
        }
        Reason::RpoNoBackup { rpo } => tr.f(r.key(), &[("rpo", &s(*rpo))]),
        Reason::RtoChain {
            back,
            mta,
            rto,
            path,
            untested,
        } => {
            let path: Vec<String> = path.iter().map(|i| name_of(names, *i)).collect();
            let untested: Vec<String> = untested.iter().map(|i| name_of(names, *i)).collect();
            let mut t = tr.f(
                r.key(),
                &[
                    ("back", &s(*back)),
                    ("mta", &s(*mta)),
                    ("rto", &s(*rto)),
                    ("path", &path.join(" → ")),
                ],
            );
            if !untested.is_empty() {
                t.push(' ');
                t.push_str(&tr.f("bcm.reason.untested", &[("systems", &untested.join(", "))]));
            }
            t
        }
        Reason::Copies { have, need } | Reason::Media { have, need } => tr.f(
            r.key(),
            &[("have", &have.to_string()), ("need", &need.to_string())],
        ),
        Reason::Offsite { have } | Reason::OfflineOrImmutable { have } => {
            tr.f(r.key(), &[("have", &have.to_string())])
        }
        Reason::RestoreErrors { errors, tested } => match (errors, tested) {
            (Some(e), Some(d)) => tr.f(
                r.key(),
                &[("errors", &e.to_string()), ("date", &d.to_string())],
            ),
            _ => tr.s("bcm.reason.never_tested").to_string(),
        },
        Reason::NoBackup => tr.s(r.key()).to_string(),
        Reason::NoRecentRestoreTest { last, days_ago } => match (last, days_ago) {
            (Some(l), Some(d)) => tr.f(
                r.key(),
                &[("date", &l.to_string()), ("days", &d.to_string())],
            ),
            _ => tr.s("bcm.reason.never_tested").to_string(),
        },
        Reason::DomainCredentials { backup } => tr.f(r.key(), &[("backup", backup)]),
    }
}

fn answer_label(tr: Tr, a: Answer) -> &'static str {
    tr.s(match a {
        Answer::Yes => "bcm.answer.yes",
        Answer::Partial => "bcm.answer.partial",
        Answer::No => "bcm.answer.no",
        Answer::Unknown => "bcm.answer.unknown",
    })
}

fn answer_value(a: Answer) -> &'static str {
    match a {
        Answer::Yes => "yes",
        Answer::Partial => "partial",
        Answer::No => "no",
        Answer::Unknown => "unknown",
    }
}

// ---------------------------------------------------------------------------------------------
// The readiness page
// ---------------------------------------------------------------------------------------------

pub struct PointRow {
    pub label: &'static str,
    pub status: &'static str,
    pub status_label: &'static str,
    pub weight: u8,
    pub earned: String,
    pub reason: String,
    pub measure: &'static str,
    pub grundschutz: &'static str,
}

pub struct VerdictRow {
    pub ok: bool,
    pub subject: String,
    pub text: String,
}

pub struct BackupRow {
    pub name: String,
    pub ok: bool,
    pub checks: Vec<(bool, String)>,
}

pub struct StepRow {
    pub order: usize,
    pub wave: u32,
    pub name: String,
    pub kind: &'static str,
    pub start: String,
    pub back: String,
    pub team: String,
}

pub struct RecoveryRow {
    pub name: String,
    pub back: String,
    pub back_at: String,
    pub mta: String,
    pub rto: String,
    pub beyond_mta: bool,
    pub missed: Vec<String>,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct ChecklistRow {
    pub name: &'static str,
    pub label: &'static str,
    pub options: Vec<Choice>,
}

pub struct ScenarioView {
    pub title: String,
    pub time_to_recover: String,
    pub beyond_mta: usize,
    pub missed: usize,
    pub processes: Vec<RecoveryRow>,
}

pub struct ExportInfo {
    pub version: i64,
    pub format: String,
    pub at: String,
    pub checksum: String,
}

#[derive(Template)]
#[template(path = "continuity/town.html")]
pub struct TownPage {
    pub c: Chrome,
    pub org_id: OrgId,
    pub org_name: String,
    pub score: u8,
    pub points: Vec<PointRow>,
    pub rpo: Vec<VerdictRow>,
    pub rto: Vec<VerdictRow>,
    pub backups: Vec<BackupRow>,
    pub gaps: Vec<VerdictRow>,
    pub steps: Vec<StepRow>,
    pub recovery: Vec<RecoveryRow>,
    pub cycles: Vec<String>,
    pub teams: usize,
    pub total: String,
    pub outage_start: String,
    pub providers: Vec<Choice>,
    pub systems: Vec<Choice>,
    pub hours: String,
    pub scenario: Option<ScenarioView>,
    pub checklist: Vec<ChecklistRow>,
    pub can_checklist: bool,
    pub bia_count: usize,
    pub backup_count: usize,
    pub last_export: Option<ExportInfo>,
    pub outdated: bool,
}

#[derive(Deserialize, Default)]
pub struct TownQuery {
    pub msg: Option<String>,
    pub teams: Option<String>,
    pub scenario: Option<String>,
    pub provider: Option<String>,
    pub system: Option<String>,
    pub hours: Option<String>,
}

fn recovery_rows(tr: Tr, plan: &bcm::restart::RestartPlan) -> Vec<RecoveryRow> {
    plan.processes
        .iter()
        .map(|p| RecoveryRow {
            name: p.name.clone(),
            back: p.back.to_string(),
            back_at: fmt_dt(p.back_at),
            mta: p.mta.map(|m| m.to_string()).unwrap_or_else(|| "–".into()),
            rto: p.rto.map(|m| m.to_string()).unwrap_or_else(|| "–".into()),
            beyond_mta: p.within_mta == Some(false),
            missed: p
                .missed
                .iter()
                .map(|m| {
                    tr.f(
                        "bcm.missed",
                        &[
                            ("what", &m.description),
                            ("due", &fmt_dt(m.due)),
                            ("late", &m.late_by.to_string()),
                        ],
                    )
                })
                .collect(),
        })
        .collect()
}

fn verdict_rows(
    tr: Tr,
    vs: &[bcm::verdict::Verdict],
    names: &HashMap<ObjectId, String>,
) -> Vec<VerdictRow> {
    vs.iter()
        .map(|v| VerdictRow {
            ok: v.ok,
            subject: match v.system {
                Some(s) => format!("{} – {}", name_of(names, v.process), name_of(names, s)),
                None => name_of(names, v.process),
            },
            text: reason_text(tr, &v.reason, names),
        })
        .collect()
}

struct Loaded {
    org_name: String,
    t: TownContinuity,
    a: Analysis,
}

async fn load(
    state: &AppState,
    me: &CurrentUser,
    org: OrgId,
    teams: usize,
    start: PrimitiveDateTime,
) -> Result<Loaded, DomainError> {
    let o = state.store.organisation(&me.scope, org).await?;
    let t = state.store.continuity(&me.scope, org).await?;
    let a = analyse(&t, today(), start, teams);
    Ok(Loaded {
        org_name: o.name,
        t,
        a,
    })
}

async fn town_view(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    org: OrgId,
    q: &TownQuery,
    errors: FieldErrors,
) -> Result<TownPage, DomainError> {
    let teams = q
        .teams
        .as_deref()
        .and_then(|t| t.trim().parse::<usize>().ok())
        .filter(|t| (1..=20).contains(t))
        .unwrap_or(2);
    let start = now_local();
    let Loaded { org_name, t, a } = load(state, me, org, teams, start).await?;
    let names = &t.names;
    let points = a
        .readiness
        .points
        .iter()
        .map(|p| PointRow {
            label: tr.s(p.key),
            status: match p.status {
                Status::Met => "met",
                Status::Partial => "partial",
                Status::Unmet => "unmet",
            },
            status_label: tr.s(match p.status {
                Status::Met => "bcm.status.met",
                Status::Partial => "bcm.status.partial",
                Status::Unmet => "bcm.status.unmet",
            }),
            weight: p.weight,
            earned: format!("{:.1}", p.earned),
            reason: match &p.reason {
                PointReason::Share { have, of } => tr.f(
                    "bcm.point.share",
                    &[("have", &have.to_string()), ("of", &of.to_string())],
                ),
                PointReason::NothingRecorded => tr.s("bcm.point.nothing").to_string(),
                PointReason::Answered { answer } => tr.f(
                    "bcm.point.answered",
                    &[("answer", answer_label(tr, *answer))],
                ),
                PointReason::Patch {
                    percent_current: Some(pc),
                } => tr.f("bcm.point.patch", &[("percent", &pc.to_string())]),
                PointReason::Patch {
                    percent_current: None,
                } => tr.s("bcm.point.patch_unknown").to_string(),
            },
            measure: tr.s(p.measure.key),
            grundschutz: p.measure.grundschutz,
        })
        .collect();
    let backups = a
        .verdicts
        .backups
        .iter()
        .map(|b| BackupRow {
            name: b.name.clone(),
            ok: b.ok,
            checks: b
                .checks
                .iter()
                .map(|c| (c.ok, reason_text(tr, &c.reason, names)))
                .collect(),
        })
        .collect();
    let gaps = a
        .verdicts
        .gaps
        .iter()
        .map(|g| VerdictRow {
            ok: false,
            subject: name_of(names, g.system),
            text: reason_text(tr, &g.reason, names),
        })
        .collect();
    let steps = a
        .plan
        .steps
        .iter()
        .filter(|s| s.team.is_some() || s.back > s.start)
        .enumerate()
        .map(|(i, s)| StepRow {
            order: i + 1,
            wave: s.wave,
            name: s.name.clone(),
            kind: kind_label(tr, s.kind),
            start: s.start.to_string(),
            back: s.back.to_string(),
            team: s
                .team
                .map(|t| (t + 1).to_string())
                .unwrap_or_else(|| "–".into()),
        })
        .collect();
    let cycles = a
        .plan
        .cycles
        .iter()
        .map(|c| {
            c.iter()
                .map(|i| name_of(names, *i))
                .collect::<Vec<_>>()
                .join(" ↔ ")
        })
        .collect();
    // Scenario what-ifs.
    let mut errors = errors;
    let hours = q.hours.clone().unwrap_or_else(|| "8".into());
    let scenario = match q.scenario.as_deref() {
        Some("provider") => {
            let provider = q
                .provider
                .as_deref()
                .and_then(|p| p.trim().parse::<i64>().ok());
            let duration = Span::parse(&hours);
            match (provider, duration) {
                (None, _) => {
                    errors.add("provider", "err.choose_one");
                    None
                }
                (_, Err(e)) => {
                    errors.add("hours", e.key());
                    None
                }
                (Some(p), Ok(d)) => Some(Scenario::ProviderDown {
                    provider: ObjectId(p),
                    duration: d,
                }),
            }
        }
        Some("system") => match q
            .system
            .as_deref()
            .and_then(|p| p.trim().parse::<i64>().ok())
        {
            Some(s) => Some(Scenario::SystemLost {
                system: ObjectId(s),
            }),
            None => {
                errors.add("system", "err.choose_one");
                None
            }
        },
        _ => None,
    };
    let scenario = match scenario {
        None => None,
        Some(sc) => match bcm::scenario::run(
            &a.graph,
            &t.bias,
            &sc,
            bcm::restart::PlanOptions {
                teams,
                outage_start: start,
            },
        ) {
            Ok(r) => Some(ScenarioView {
                title: match &sc {
                    Scenario::ProviderDown { provider, duration } => tr.f(
                        "bcm.scenario.provider_title",
                        &[
                            ("name", &name_of(names, *provider)),
                            ("hours", &duration.to_string()),
                        ],
                    ),
                    Scenario::SystemLost { system } => tr.f(
                        "bcm.scenario.system_title",
                        &[("name", &name_of(names, *system))],
                    ),
                    Scenario::TotalOutage => tr.s("bcm.restart.title").to_string(),
                },
                time_to_recover: r.time_to_recover.to_string(),
                beyond_mta: r.beyond_mta.len(),
                missed: r.missed_deadlines,
                processes: recovery_rows(tr, &r.plan),
            }),
            Err(_) => {
                errors.add(
                    if matches!(sc, Scenario::SystemLost { .. }) {
                        "system"
                    } else {
                        "provider"
                    },
                    "err.choose_one",
                );
                None
            }
        },
    };
    let choice = |kind: ObjectKind, sel: Option<&str>| -> Vec<Choice> {
        let mut v: Vec<Choice> = t
            .graph
            .nodes
            .iter()
            .filter(|n| n.kind == kind)
            .map(|n| Choice {
                value: n.id.to_string(),
                label: n.name.clone(),
                selected: sel == Some(n.id.to_string().as_str()),
            })
            .collect();
        v.sort_by(|a, b| a.label.cmp(&b.label));
        v
    };
    let providers = choice(ObjectKind::Provider, q.provider.as_deref());
    let systems = choice(ObjectKind::System, q.system.as_deref());
    let c = &t.checklist;
    let checklist = [
        ("mfa_remote_access", "bcm.check.mfa", c.mfa_remote_access),
        (
            "admin_accounts_separated",
            "bcm.check.admin",
            c.admin_accounts_separated,
        ),
        ("segmentation", "bcm.check.segmentation", c.segmentation),
        ("edr", "bcm.check.edr", c.edr),
    ]
    .into_iter()
    .map(|(name, label, val)| ChecklistRow {
        name,
        label: tr.s(label),
        options: [Answer::Yes, Answer::Partial, Answer::No, Answer::Unknown]
            .into_iter()
            .map(|a| Choice {
                value: answer_value(a).into(),
                label: answer_label(tr, a).into(),
                selected: a == val,
            })
            .collect(),
    })
    .collect();
    let status = !errors.is_empty();
    let _ = status;
    Ok(TownPage {
        c: Chrome::new(
            tr,
            me,
            tr.f("bcm.town.title", &[("name", &org_name)]),
            "organisations",
        )
        .with_flash(q.msg.as_deref())
        .with_errors(errors),
        org_id: org,
        org_name,
        score: a.readiness.score,
        points,
        rpo: verdict_rows(tr, &a.verdicts.rpo, names),
        rto: verdict_rows(tr, &a.verdicts.rto, names),
        backups,
        gaps,
        steps,
        recovery: recovery_rows(tr, &a.plan),
        cycles,
        teams,
        total: a.plan.total.to_string(),
        outage_start: fmt_dt(start),
        providers,
        systems,
        hours,
        scenario,
        checklist,
        can_checklist: me.scope.may(org, Access::WriteTechnical),
        bia_count: t.bias.len(),
        backup_count: t.backups.len(),
        outdated: t.handbook_outdated(),
        last_export: t.last_export.as_ref().map(|e| ExportInfo {
            version: e.version,
            format: e.format.clone(),
            at: fmt_ts(e.created_at),
            checksum: e.checksum.clone(),
        }),
    })
}

pub async fn town(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<TownQuery>,
) -> Response {
    match town_view(&state, tr, &me, OrgId(id), &q, FieldErrors::default()).await {
        Ok(p) => {
            let code = if p.c.errors.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            render_status(code, p)
        }
        Err(e) => fail(tr, e),
    }
}

#[derive(Deserialize, Default)]
pub struct ChecklistForm {
    pub mfa_remote_access: Option<String>,
    pub admin_accounts_separated: Option<String>,
    pub segmentation: Option<String>,
    pub edr: Option<String>,
}

pub async fn save_checklist(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<ChecklistForm>,
) -> Response {
    let org = OrgId(id);
    if !me.scope.can(org, Access::Reports) {
        return fail(tr, DomainError::NotFound);
    }
    let mut errors = FieldErrors::default();
    let mut get = |field: &'static str, v: &Option<String>| {
        Answer::parse(v.as_deref().unwrap_or("")).unwrap_or_else(|| {
            errors.add(field, "err.choose_one");
            Answer::Unknown
        })
    };
    let c = Checklist {
        mfa_remote_access: get("mfa_remote_access", &f.mfa_remote_access),
        admin_accounts_separated: get("admin_accounts_separated", &f.admin_accounts_separated),
        segmentation: get("segmentation", &f.segmentation),
        edr: get("edr", &f.edr),
    };
    let r = match errors.is_empty() {
        true => state.store.save_checklist(&me.scope, org, &c).await,
        false => Err(DomainError::Invalid(errors)),
    };
    match r {
        Ok(()) => done(&format!("/organisations/{id}/continuity"), "msg.saved"),
        Err(DomainError::Invalid(errs)) => {
            match town_view(&state, tr, &me, org, &TownQuery::default(), errs).await {
                Ok(p) => render_status(StatusCode::UNPROCESSABLE_ENTITY, p),
                Err(e) => fail(tr, e),
            }
        }
        Err(e) => fail(tr, e),
    }
}

// ---------------------------------------------------------------------------------------------
// BIA
// ---------------------------------------------------------------------------------------------

pub struct BiaRow {
    pub id: ObjectId,
    pub name: String,
    pub has: bool,
    pub criticality: &'static str,
    pub mta: String,
    pub rto: String,
    pub rpo: String,
    pub deadlines: usize,
    pub steps: usize,
}

#[derive(Template)]
#[template(path = "continuity/bia_list.html")]
pub struct BiaListPage {
    pub c: Chrome,
    pub org_id: OrgId,
    pub org_name: String,
    pub rows: Vec<BiaRow>,
    pub can_write: bool,
}

pub async fn bia_list(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<FlashQuery>,
) -> Response {
    let org = OrgId(id);
    let r = async {
        let o = state.store.organisation(&me.scope, org).await?;
        let t = state.store.continuity(&me.scope, org).await?;
        let by: HashMap<ObjectId, &bcm::bia::Bia> = t.bias.iter().map(|b| (b.process, b)).collect();
        let mut rows: Vec<BiaRow> = t
            .graph
            .nodes
            .iter()
            .filter(|n| n.kind == ObjectKind::Process)
            .map(|n| {
                let b = by.get(&n.id);
                BiaRow {
                    id: n.id,
                    name: n.name.clone(),
                    has: b.is_some(),
                    criticality: b.map(|b| tr.s(b.criticality.label_key())).unwrap_or("–"),
                    mta: b.map(|b| b.mta.to_string()).unwrap_or_else(|| "–".into()),
                    rto: b.map(|b| b.rto.to_string()).unwrap_or_else(|| "–".into()),
                    rpo: b
                        .and_then(|b| b.rpo)
                        .map(|r| r.to_string())
                        .unwrap_or_else(|| "–".into()),
                    deadlines: b.map(|b| b.deadlines.len()).unwrap_or(0),
                    steps: b.map(|b| b.procedure.steps.len()).unwrap_or(0),
                }
            })
            .collect();
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        Ok::<_, DomainError>(BiaListPage {
            c: Chrome::new(
                tr,
                &me,
                tr.f("bcm.bia.list_title", &[("name", &o.name)]),
                "organisations",
            )
            .with_flash(q.msg.as_deref()),
            org_id: org,
            org_name: o.name,
            rows,
            can_write: me.scope.may(org, Access::Write),
        })
    }
    .await;
    match r {
        Ok(p) => render(p),
        Err(e) => fail(tr, e),
    }
}

pub struct DeadlineRow {
    pub i: usize,
    pub description: String,
    pub kinds: Vec<Choice>,
    pub value: String,
    pub lead: String,
}

pub struct ProcStepRow {
    pub i: usize,
    pub who: String,
    pub what: String,
}

#[derive(Template)]
#[template(path = "continuity/bia_form.html")]
pub struct BiaFormPage {
    pub c: Chrome,
    pub object_id: ObjectId,
    pub org_id: OrgId,
    pub mta: String,
    pub rto: String,
    pub rpo: String,
    pub criticality: Vec<Choice>,
    pub deadlines: Vec<DeadlineRow>,
    pub summary: String,
    pub steps: Vec<ProcStepRow>,
    pub materials: String,
    pub sustainable: String,
}

fn bia_to_input(b: &bcm::bia::Bia) -> BiaInput {
    BiaInput {
        mta: span_input(b.mta),
        rto: span_input(b.rto),
        rpo: b.rpo.map(span_input),
        criticality: b.criticality.as_str().into(),
        deadlines: b
            .deadlines
            .iter()
            .map(|d| {
                let (kind, value) = match d.rule {
                    DeadlineRule::MonthlyDay(x) => ("monthly", x.to_string()),
                    DeadlineRule::Fixed(x) => ("fixed", x.to_string()),
                    DeadlineRule::WithinHours(h) => ("within", format!("{h}h")),
                };
                DeadlineInput {
                    description: d.description.clone(),
                    kind: kind.into(),
                    value,
                    lead: (d.lead > Span::ZERO).then(|| span_input(d.lead)),
                }
            })
            .collect(),
        procedure_summary: b.procedure.summary.clone(),
        procedure_steps: b
            .procedure
            .steps
            .iter()
            .map(|s| StepInput {
                who: s.who.clone(),
                what: s.what.clone(),
            })
            .collect(),
        procedure_materials: b.procedure.materials.clone(),
        procedure_sustainable_for: b.procedure.sustainable_for.map(span_input),
    }
}

/// Indexed form fields (`deadline_kind_2`) grouped by index.
fn indexed(fields: &[(String, String)], prefix: &str) -> BTreeMap<usize, HashMap<String, String>> {
    let mut out: BTreeMap<usize, HashMap<String, String>> = BTreeMap::new();
    for (k, v) in fields {
        if let Some(rest) = k.strip_prefix(prefix) {
            if let Some((name, i)) = rest.rsplit_once('_') {
                if let Ok(i) = i.parse::<usize>() {
                    if i < 100 {
                        out.entry(i)
                            .or_default()
                            .insert(name.to_string(), v.clone());
                    }
                }
            }
        }
    }
    out
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn bia_from_form(fields: &[(String, String)]) -> BiaInput {
    let opt = |n: &str| {
        field(fields, n)
            .map(str::to_string)
            .filter(|s| !s.trim().is_empty())
    };
    let get = |m: &HashMap<String, String>, k: &str| m.get(k).cloned().unwrap_or_default();
    BiaInput {
        mta: opt("mta").unwrap_or_default(),
        rto: opt("rto").unwrap_or_default(),
        rpo: opt("rpo"),
        criticality: opt("criticality").unwrap_or_default(),
        deadlines: indexed(fields, "deadline_")
            .values()
            .filter(|m| {
                !get(m, "description").trim().is_empty() || !get(m, "value").trim().is_empty()
            })
            .map(|m| DeadlineInput {
                description: get(m, "description"),
                kind: get(m, "kind"),
                value: get(m, "value"),
                lead: Some(get(m, "lead")).filter(|s| !s.trim().is_empty()),
            })
            .collect(),
        procedure_summary: opt("procedure_summary"),
        procedure_steps: indexed(fields, "step_")
            .values()
            .map(|m| StepInput {
                who: get(m, "who"),
                what: get(m, "what"),
            })
            .collect(),
        procedure_materials: opt("procedure_materials"),
        procedure_sustainable_for: opt("procedure_sustainable_for"),
    }
}

fn bia_page(
    tr: Tr,
    me: &CurrentUser,
    o: &stadtmauer_inventory::model::Object,
    input: &BiaInput,
    errors: FieldErrors,
) -> BiaFormPage {
    let crit_sel = Criticality::parse(&input.criticality);
    let mut deadlines: Vec<DeadlineRow> = input
        .deadlines
        .iter()
        .map(|d| {
            (
                d.description.clone(),
                d.kind.clone(),
                d.value.clone(),
                d.lead.clone().unwrap_or_default(),
            )
        })
        .collect::<Vec<_>>()
        .into_iter()
        .chain(std::iter::repeat_with(Default::default))
        .take(input.deadlines.len() + 2)
        .enumerate()
        .map(|(i, (description, kind, value, lead))| DeadlineRow {
            i,
            description,
            kinds: ["monthly", "fixed", "within"]
                .iter()
                .map(|k| Choice {
                    value: (*k).into(),
                    label: ds(tr, format!("bcm.deadline.{k}")),
                    selected: kind == *k,
                })
                .collect(),
            value,
            lead,
        })
        .collect();
    deadlines.truncate(12);
    let steps = input
        .procedure_steps
        .iter()
        .map(|s| (s.who.clone(), s.what.clone()))
        .collect::<Vec<_>>()
        .into_iter()
        .chain(std::iter::repeat_with(Default::default))
        .take((input.procedure_steps.len() + 3).min(40))
        .enumerate()
        .map(|(i, (who, what))| ProcStepRow { i, who, what })
        .collect();
    BiaFormPage {
        c: Chrome::new(
            tr,
            me,
            tr.f("bcm.bia.title", &[("name", &o.data.name)]),
            "organisations",
        )
        .with_errors(errors),
        object_id: o.id,
        org_id: o.organisation_id,
        mta: input.mta.clone(),
        rto: input.rto.clone(),
        rpo: input.rpo.clone().unwrap_or_default(),
        criticality: Criticality::ALL
            .iter()
            .map(|c| Choice {
                value: c.as_str().into(),
                label: tr.s(c.label_key()).into(),
                selected: crit_sel == Some(*c),
            })
            .collect(),
        deadlines,
        summary: input.procedure_summary.clone().unwrap_or_default(),
        steps,
        materials: input.procedure_materials.clone().unwrap_or_default(),
        sustainable: input.procedure_sustainable_for.clone().unwrap_or_default(),
    }
}

async fn process_of(
    state: &AppState,
    me: &CurrentUser,
    id: ObjectId,
) -> Result<stadtmauer_inventory::model::Object, DomainError> {
    let o = state.store.object(&me.scope, id).await?;
    if o.data.kind != ObjectKind::Process || !me.scope.can(o.organisation_id, Access::Read) {
        return Err(DomainError::NotFound);
    }
    Ok(o)
}

pub async fn bia_form(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Response {
    let r = async {
        let o = process_of(&state, &me, ObjectId(id)).await?;
        let b = state.store.bia(&me.scope, o.id).await?;
        let input = b.as_ref().map(bia_to_input).unwrap_or_default();
        Ok::<_, DomainError>(bia_page(tr, &me, &o, &input, FieldErrors::default()))
    }
    .await;
    match r {
        Ok(p) => render(p),
        Err(e) => fail(tr, e),
    }
}

pub async fn bia_save(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let o = match process_of(&state, &me, ObjectId(id)).await {
        Ok(o) => o,
        Err(e) => return fail(tr, e),
    };
    let input = bia_from_form(&fields);
    match state.store.save_bia(&me.scope, o.id, &input).await {
        Ok(_) => done(
            &format!("/organisations/{}/continuity/bia", o.organisation_id),
            "msg.saved",
        ),
        Err(DomainError::Invalid(errs)) => render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            bia_page(tr, &me, &o, &input, errs),
        ),
        Err(e) => fail(tr, e),
    }
}

// ---------------------------------------------------------------------------------------------
// Backup register
// ---------------------------------------------------------------------------------------------

pub struct RegisterRow {
    pub id: i64,
    pub name: String,
    pub systems: String,
    pub interval: String,
    pub copies: String,
    pub last_test: String,
    pub ok: bool,
}

#[derive(Template)]
#[template(path = "continuity/backups.html")]
pub struct BackupsPage {
    pub c: Chrome,
    pub org_id: OrgId,
    pub org_name: String,
    pub rows: Vec<RegisterRow>,
    pub can_write: bool,
}

fn medium_value(m: Medium) -> &'static str {
    match m {
        Medium::Disk => "disk",
        Medium::Nas => "nas",
        Medium::Tape => "tape",
        Medium::Cloud => "cloud",
        Medium::Removable => "removable",
        Medium::Optical => "optical",
    }
}

const MEDIA: [&str; 6] = ["disk", "nas", "tape", "cloud", "removable", "optical"];

pub async fn backups_page(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<FlashQuery>,
) -> Response {
    let org = OrgId(id);
    let r = async {
        let o = state.store.organisation(&me.scope, org).await?;
        let t = state.store.continuity(&me.scope, org).await?;
        let rows = t
            .backups
            .iter()
            .map(|b| {
                let checks = bcm::verdict::rule_32110(&b.backup);
                RegisterRow {
                    id: b.id,
                    name: b.backup.name.clone(),
                    systems: b
                        .backup
                        .systems
                        .iter()
                        .map(|s| name_of(&t.names, *s))
                        .collect::<Vec<_>>()
                        .join(", "),
                    interval: b.backup.interval.to_string(),
                    copies: b
                        .backup
                        .copies
                        .iter()
                        .map(|c| {
                            format!(
                                "{} ({})",
                                ds(tr, format!("bcm.medium.{}", medium_value(c.medium))),
                                c.location
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("; "),
                    last_test: b
                        .backup
                        .last_restore_test()
                        .map(|t| {
                            format!(
                                "{} – {}",
                                t.date,
                                tr.s(match t.result {
                                    RestoreResult::Success => "bcm.result.success",
                                    RestoreResult::Partial => "bcm.result.partial",
                                    RestoreResult::Failed => "bcm.result.failed",
                                })
                            )
                        })
                        .unwrap_or_else(|| tr.s("bcm.backup.never_tested").into()),
                    ok: checks.iter().all(|c| c.ok),
                }
            })
            .collect();
        Ok::<_, DomainError>(BackupsPage {
            c: Chrome::new(
                tr,
                &me,
                tr.f("bcm.backups.title", &[("name", &o.name)]),
                "organisations",
            )
            .with_flash(q.msg.as_deref()),
            org_id: org,
            org_name: o.name,
            rows,
            can_write: me.scope.may(org, Access::WriteTechnical),
        })
    }
    .await;
    match r {
        Ok(p) => render(p),
        Err(e) => fail(tr, e),
    }
}

pub struct CopyRow {
    pub i: usize,
    pub media: Vec<Choice>,
    pub location: String,
    pub offsite: bool,
    pub offline: bool,
    pub immutable: bool,
}

pub struct TestRow {
    pub i: usize,
    pub date: String,
    pub duration: String,
    pub results: Vec<Choice>,
    pub errors: String,
    pub notes: String,
}

#[derive(Template)]
#[template(path = "continuity/backup_form.html")]
pub struct BackupFormPage {
    pub c: Chrome,
    pub org_id: OrgId,
    pub id: Option<i64>,
    pub name: String,
    pub method: String,
    pub tool: String,
    pub interval: String,
    pub retention: String,
    pub systems: Vec<Choice>,
    pub copies: Vec<CopyRow>,
    pub encrypted: bool,
    pub separate_credentials: bool,
    pub last_success: String,
    pub tests: Vec<TestRow>,
}

fn is_on(v: &Option<String>) -> bool {
    stadtmauer_inventory::model::parse_flag(v.as_deref()).unwrap_or(false)
}

fn backup_to_input(b: &bcm::backup::Backup) -> BackupInput {
    let on = |x: bool| x.then(|| "on".to_string());
    BackupInput {
        systems: b.systems.clone(),
        name: b.name.clone(),
        method: b.method.clone(),
        tool: b.tool.clone(),
        interval: span_input(b.interval),
        retention: b.retention.map(span_input),
        copies: b
            .copies
            .iter()
            .map(|c| CopyInput {
                medium: medium_value(c.medium).into(),
                location: c.location.clone(),
                offsite: on(c.offsite),
                offline: on(c.offline),
                immutable: on(c.immutable),
            })
            .collect(),
        encrypted: on(b.encrypted),
        separate_credentials: on(b.separate_credentials),
        last_success: b.last_success.map(|d| d.to_string()),
        restore_tests: b
            .restore_tests
            .iter()
            .map(|t| RestoreTestInput {
                date: t.date.to_string(),
                duration: span_input(t.duration),
                result: match t.result {
                    RestoreResult::Success => "success",
                    RestoreResult::Partial => "partial",
                    RestoreResult::Failed => "failed",
                }
                .into(),
                errors: Some(t.errors.to_string()),
                notes: t.notes.clone(),
            })
            .collect(),
    }
}

fn backup_from_form(fields: &[(String, String)]) -> BackupInput {
    let opt = |n: &str| {
        field(fields, n)
            .map(str::to_string)
            .filter(|s| !s.trim().is_empty())
    };
    let get = |m: &HashMap<String, String>, k: &str| m.get(k).cloned().unwrap_or_default();
    let getopt =
        |m: &HashMap<String, String>, k: &str| m.get(k).cloned().filter(|s| !s.trim().is_empty());
    BackupInput {
        systems: fields
            .iter()
            .filter(|(k, _)| k == "systems")
            .filter_map(|(_, v)| v.trim().parse().ok().map(ObjectId))
            .collect(),
        name: opt("name").unwrap_or_default(),
        method: opt("method"),
        tool: opt("tool"),
        interval: opt("interval").unwrap_or_default(),
        retention: opt("retention"),
        copies: indexed(fields, "copy_")
            .values()
            .filter(|m| {
                !get(m, "location").trim().is_empty() || !get(m, "medium").trim().is_empty()
            })
            .map(|m| CopyInput {
                medium: get(m, "medium"),
                location: get(m, "location"),
                offsite: getopt(m, "offsite"),
                offline: getopt(m, "offline"),
                immutable: getopt(m, "immutable"),
            })
            .collect(),
        encrypted: opt("encrypted"),
        separate_credentials: opt("separate_credentials"),
        last_success: opt("last_success"),
        restore_tests: indexed(fields, "test_")
            .values()
            .filter(|m| !get(m, "date").trim().is_empty() || !get(m, "duration").trim().is_empty())
            .map(|m| RestoreTestInput {
                date: get(m, "date"),
                duration: get(m, "duration"),
                result: get(m, "result"),
                errors: getopt(m, "errors"),
                notes: getopt(m, "notes"),
            })
            .collect(),
    }
}

fn backup_page(
    tr: Tr,
    me: &CurrentUser,
    org: OrgId,
    id: Option<i64>,
    systems: &[(ObjectId, String)],
    input: &BackupInput,
    errors: FieldErrors,
) -> BackupFormPage {
    let copies = input
        .copies
        .iter()
        .cloned()
        .chain(std::iter::repeat_with(CopyInput::default))
        .take((input.copies.len() + 2).min(12))
        .enumerate()
        .map(|(i, c)| CopyRow {
            i,
            media: MEDIA
                .iter()
                .map(|m| Choice {
                    value: (*m).into(),
                    label: ds(tr, format!("bcm.medium.{m}")),
                    selected: Medium::parse(&c.medium).map(medium_value) == Some(*m),
                })
                .collect(),
            location: c.location.clone(),
            offsite: is_on(&c.offsite),
            offline: is_on(&c.offline),
            immutable: is_on(&c.immutable),
        })
        .collect();
    let tests = input
        .restore_tests
        .iter()
        .cloned()
        .chain(std::iter::repeat_with(RestoreTestInput::default))
        .take((input.restore_tests.len() + 1).min(24))
        .enumerate()
        .map(|(i, t)| TestRow {
            i,
            date: t.date.clone(),
            duration: t.duration.clone(),
            results: ["success", "partial", "failed"]
                .iter()
                .map(|r| Choice {
                    value: (*r).into(),
                    label: ds(tr, format!("bcm.result.{r}")),
                    selected: t.result == *r,
                })
                .collect(),
            errors: t.errors.clone().unwrap_or_default(),
            notes: t.notes.clone().unwrap_or_default(),
        })
        .collect();
    BackupFormPage {
        c: Chrome::new(
            tr,
            me,
            if id.is_some() {
                tr.f("bcm.backup.edit_title", &[("name", &input.name)])
            } else {
                tr.s("bcm.backup.new_title").to_string()
            },
            "organisations",
        )
        .with_errors(errors),
        org_id: org,
        id,
        name: input.name.clone(),
        method: input.method.clone().unwrap_or_default(),
        tool: input.tool.clone().unwrap_or_default(),
        interval: input.interval.clone(),
        retention: input.retention.clone().unwrap_or_default(),
        systems: systems
            .iter()
            .map(|(sid, name)| Choice {
                value: sid.to_string(),
                label: name.clone(),
                selected: input.systems.contains(sid),
            })
            .collect(),
        copies,
        encrypted: is_on(&input.encrypted),
        separate_credentials: is_on(&input.separate_credentials),
        last_success: input.last_success.clone().unwrap_or_default(),
        tests,
    }
}

async fn town_systems(
    state: &AppState,
    me: &CurrentUser,
    org: OrgId,
) -> Result<Vec<(ObjectId, String)>, DomainError> {
    Ok(state
        .store
        .objects(&me.scope, org, Some(ObjectKind::System), false)
        .await?
        .into_iter()
        .map(|o| (o.id, o.data.name))
        .collect())
}

#[derive(Deserialize, Default)]
pub struct IdQuery {
    pub id: Option<String>,
}

pub async fn backup_form(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(org): Path<i64>,
    Query(q): Query<IdQuery>,
) -> Response {
    let org = OrgId(org);
    let r = async {
        let systems = town_systems(&state, &me, org).await?;
        let id = q.id.as_deref().and_then(|s| s.trim().parse::<i64>().ok());
        let input = match id {
            Some(id) => state
                .store
                .backups(&me.scope, org)
                .await?
                .into_iter()
                .find(|b| b.id == id)
                .map(|b| backup_to_input(&b.backup))
                .ok_or(DomainError::NotFound)?,
            None => BackupInput::default(),
        };
        Ok::<_, DomainError>(backup_page(
            tr,
            &me,
            org,
            id,
            &systems,
            &input,
            FieldErrors::default(),
        ))
    }
    .await;
    match r {
        Ok(p) => render(p),
        Err(e) => fail(tr, e),
    }
}

pub async fn backup_save(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(org): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let org = OrgId(org);
    let systems = match town_systems(&state, &me, org).await {
        Ok(s) => s,
        Err(e) => return fail(tr, e),
    };
    let id = field(&fields, "id").and_then(|s| s.trim().parse::<i64>().ok());
    let input = backup_from_form(&fields);
    match state.store.save_backup(&me.scope, org, id, &input).await {
        Ok(_) => done(
            &format!("/organisations/{}/continuity/backups", org.0),
            "msg.saved",
        ),
        Err(DomainError::Invalid(errs)) => render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            backup_page(tr, &me, org, id, &systems, &input, errs),
        ),
        Err(e) => fail(tr, e),
    }
}

pub async fn backup_delete(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(org): Path<i64>,
    Form(q): Form<IdQuery>,
) -> Response {
    let org = OrgId(org);
    let Some(id) = q.id.as_deref().and_then(|s| s.trim().parse::<i64>().ok()) else {
        return fail(tr, DomainError::NotFound);
    };
    match state.store.delete_backup(&me.scope, org, id).await {
        Ok(()) => done(
            &format!("/organisations/{}/continuity/backups", org.0),
            "msg.deleted",
        ),
        Err(e) => fail(tr, e),
    }
}

// ---------------------------------------------------------------------------------------------
// Handbook: contacts and downloads
// ---------------------------------------------------------------------------------------------

pub struct AlarmRow {
    pub i: usize,
    pub trigger: String,
    pub notify: String,
    pub phone: String,
    pub escalate: String,
}

pub struct CrisisRow {
    pub i: usize,
    pub role: String,
    pub member: String,
    pub deputy: String,
    pub warn: bool,
}

pub struct ExternalRow {
    pub i: usize,
    pub kind: String,
    pub name: String,
    pub phone: String,
    pub email: String,
    pub reference: String,
}

#[derive(Template)]
#[template(path = "continuity/contacts.html")]
pub struct ContactsPage {
    pub c: Chrome,
    pub org_id: OrgId,
    pub org_name: String,
    pub alarm: Vec<AlarmRow>,
    pub crisis: Vec<CrisisRow>,
    pub external: Vec<ExternalRow>,
    pub kinds: Vec<Choice>,
    pub phone_kinds: Vec<Choice>,
    pub warnings: Vec<String>,
    pub can_write: bool,
    pub section: String,
    pub form: ContactForm,
    pub last_export: Option<ExportInfo>,
    pub outdated: bool,
}

const CONTACT_KINDS: [&str; 8] = [
    "state_cert",
    "bsi",
    "police_zac",
    "data_protection",
    "insurer",
    "incident_response",
    "it_provider",
    "other",
];

fn person_text(tr: Tr, p: &bcm::handbook::Person) -> String {
    let mut s = p.name.clone();
    if let Some(f) = &p.function {
        s.push_str(&format!(" ({f})"));
    }
    for ph in &p.phones {
        s.push_str(&format!(
            " · ☎ {} [{}]",
            ph.number,
            tr.s(match ph.kind {
                bcm::handbook::PhoneKind::Mobile => "bcm.phone.mobile",
                bcm::handbook::PhoneKind::Private => "bcm.phone.private",
                bcm::handbook::PhoneKind::Office => "bcm.phone.office",
                bcm::handbook::PhoneKind::Satellite => "bcm.phone.satellite",
                bcm::handbook::PhoneKind::Radio => "bcm.phone.radio",
            })
        ));
    }
    if let Some(e) = &p.email {
        s.push_str(&format!(" · {e}"));
    }
    s
}

#[allow(clippy::too_many_arguments)] // one page, many ways to arrive at it
async fn contacts_view(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    org: OrgId,
    section: &str,
    form: ContactForm,
    errors: FieldErrors,
    flash: Option<&str>,
) -> Result<ContactsPage, DomainError> {
    let o = state.store.organisation(&me.scope, org).await?;
    let t = state.store.continuity(&me.scope, org).await?;
    let k = &t.contacts;
    let hb = bcm::handbook::Handbook {
        lang: bcm::labels::Lang::De,
        town: o.name.clone(),
        version: String::new(),
        date: today(),
        alarm_chain: k.alarm_chain.clone(),
        crisis_team: k.crisis_team.clone(),
        external: k.external.clone(),
        first_24h: Vec::new(),
        restart: Vec::new(),
        recovery: Vec::new(),
        procedures: bcm::handbook::procedure_sections(&t.bias, &t.names),
    };
    let warnings = hb
        .warnings()
        .iter()
        .map(|w| match w {
            bcm::handbook::HandbookWarning::NoDeputy { role } => {
                tr.f("bcm.warn.no_deputy", &[("role", role)])
            }
            bcm::handbook::HandbookWarning::NoIndependentPhone { role } => {
                tr.f("bcm.warn.no_independent_phone", &[("role", role)])
            }
            bcm::handbook::HandbookWarning::MissingContact { kind } => tr.f(
                "bcm.warn.missing_contact",
                &[("kind", &ds(tr, format!("bcm.{}", kind.label_key())))],
            ),
            bcm::handbook::HandbookWarning::NoProcedure { process } => {
                tr.f("bcm.warn.no_procedure", &[("process", process)])
            }
        })
        .collect();
    Ok(ContactsPage {
        c: Chrome::new(
            tr,
            me,
            tr.f("bcm.contacts.title", &[("name", &o.name)]),
            "organisations",
        )
        .with_flash(flash)
        .with_errors(errors),
        org_id: org,
        org_name: o.name,
        alarm: k
            .alarm_chain
            .iter()
            .enumerate()
            .map(|(i, a)| AlarmRow {
                i,
                trigger: a.trigger.clone(),
                notify: a.notify.clone(),
                phone: a.phone.clone().unwrap_or_else(|| "–".into()),
                escalate: a
                    .escalate_after
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "–".into()),
            })
            .collect(),
        crisis: k
            .crisis_team
            .iter()
            .enumerate()
            .map(|(i, r)| CrisisRow {
                i,
                role: r.role.clone(),
                member: person_text(tr, &r.member),
                deputy: r
                    .deputy
                    .as_ref()
                    .map(|d| person_text(tr, d))
                    .unwrap_or_else(|| tr.s("bcm.contacts.no_deputy").into()),
                warn: r.deputy.is_none(),
            })
            .collect(),
        external: k
            .external
            .iter()
            .enumerate()
            .map(|(i, e)| ExternalRow {
                i,
                kind: ds(tr, format!("bcm.{}", e.kind.label_key())),
                name: e.name.clone(),
                phone: e.phone.clone().unwrap_or_else(|| "–".into()),
                email: e.email.clone().unwrap_or_else(|| "–".into()),
                reference: e.reference.clone().unwrap_or_else(|| "–".into()),
            })
            .collect(),
        kinds: CONTACT_KINDS
            .iter()
            .map(|k| Choice {
                value: (*k).into(),
                label: ds(tr, format!("bcm.contact.{k}")),
                selected: form.kind.as_deref() == Some(*k),
            })
            .collect(),
        phone_kinds: ["mobile", "private", "office", "satellite", "radio"]
            .iter()
            .map(|k| Choice {
                value: (*k).into(),
                label: ds(tr, format!("bcm.phone.{k}")),
                selected: false,
            })
            .collect(),
        warnings,
        can_write: me.scope.may(org, Access::Write),
        section: section.to_string(),
        form,
        outdated: t.handbook_outdated(),
        last_export: t.last_export.as_ref().map(|e| ExportInfo {
            version: e.version,
            format: e.format.clone(),
            at: fmt_ts(e.created_at),
            checksum: e.checksum.clone(),
        }),
    })
}

pub async fn contacts_page(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(org): Path<i64>,
    Query(q): Query<FlashQuery>,
) -> Response {
    match contacts_view(
        &state,
        tr,
        &me,
        OrgId(org),
        "",
        ContactForm::default(),
        FieldErrors::default(),
        q.msg.as_deref(),
    )
    .await
    {
        Ok(p) => render(p),
        Err(e) => fail(tr, e),
    }
}

pub async fn contact_add(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(org): Path<i64>,
    Form(f): Form<ContactForm>,
) -> Response {
    let org = OrgId(org);
    let r = async {
        let mut c = state.store.continuity(&me.scope, org).await?.contacts;
        f.apply(&mut c)?;
        state.store.save_contacts(&me.scope, org, &c).await
    }
    .await;
    match r {
        Ok(()) => done(
            &format!("/organisations/{}/continuity/contacts", org.0),
            "msg.saved",
        ),
        Err(DomainError::Invalid(errs)) => {
            let section = f.section.clone();
            match contacts_view(&state, tr, &me, org, &section, f, errs, None).await {
                Ok(p) => render_status(StatusCode::UNPROCESSABLE_ENTITY, p),
                Err(e) => fail(tr, e),
            }
        }
        Err(e) => fail(tr, e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RemoveForm {
    pub section: String,
    pub index: Option<String>,
}

pub async fn contact_remove(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(org): Path<i64>,
    Form(f): Form<RemoveForm>,
) -> Response {
    let org = OrgId(org);
    let r = async {
        let mut c = state.store.continuity(&me.scope, org).await?.contacts;
        let i = f
            .index
            .as_deref()
            .and_then(|s| s.trim().parse::<usize>().ok());
        if !i.is_some_and(|i| c.remove(&f.section, i)) {
            return Err(DomainError::NotFound);
        }
        state.store.save_contacts(&me.scope, org, &c).await
    }
    .await;
    match r {
        Ok(()) => done(
            &format!("/organisations/{}/continuity/contacts", org.0),
            "msg.deleted",
        ),
        Err(e) => fail(tr, e),
    }
}

fn handbook_lang(tr: Tr) -> bcm::labels::Lang {
    match tr.lang {
        Lang::En => bcm::labels::Lang::En,
        _ => bcm::labels::Lang::De,
    }
}

/// Builds the handbook document for a town: version from the export record, date today. Also
/// returns the town's name and the data revision the document was made from.
async fn build_handbook(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    org: OrgId,
) -> Result<(bcm::handbook::Handbook, String, i64), DomainError> {
    let o = state.store.organisation(&me.scope, org).await?;
    let t = state.store.continuity(&me.scope, org).await?;
    let a = analyse(&t, today(), now_local(), 2);
    let h = handbook(
        &t,
        &a,
        &o.name,
        t.handbook_version(),
        today(),
        handbook_lang(tr),
    );
    Ok((h, o.name, t.data_revision))
}

/// A file name made of the town's name: ASCII letters and digits only.
fn file_name(town: &str, version: &str, ext: &str) -> String {
    let base: String = town
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!(
        "notfallhandbuch-{}-v{version}.{ext}",
        base.trim_matches('-')
    )
}

fn download(content_type: &'static str, name: String, body: Vec<u8>) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    r
}

pub async fn handbook_html(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(org): Path<i64>,
) -> Response {
    let org = OrgId(org);
    let (h, town, revision) = match build_handbook(&state, tr, &me, org).await {
        Ok(x) => x,
        Err(e) => return fail(tr, e),
    };
    let html = bcm::handbook::render_html(&h);
    let sum = bcm::handbook::content_checksum(&h);
    let version: i64 = h.version.parse().unwrap_or(1);
    if let Err(e) = state
        .store
        .record_handbook_export(&me.scope, org, version, revision, "html", &sum)
        .await
    {
        return fail(tr, e);
    }
    download(
        "text/html; charset=utf-8",
        file_name(&town, &h.version, "html"),
        html.into_bytes(),
    )
}

/// Renders the handbook as PDF (blocking; call from a blocking thread). Returns the PDF and the
/// same content checksum as the HTML file.
pub fn handbook_pdf_bytes(h: &bcm::handbook::Handbook) -> Result<(Vec<u8>, String), String> {
    let data = stadtmauer_store::continuity::handbook_pdf_data(h).map_err(|e| e.to_string())?;
    let pdf = stadtmauer_pdf::render(
        stadtmauer_store::continuity::HANDBOOK_TYP,
        &[("data.json", data)],
        h.date,
    )
    .map_err(|e| e.to_string())?;
    Ok((pdf, bcm::handbook::content_checksum(h)))
}

pub async fn handbook_pdf(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(org): Path<i64>,
) -> Response {
    let org = OrgId(org);
    let (h, town, revision) = match build_handbook(&state, tr, &me, org).await {
        Ok(x) => x,
        Err(e) => return fail(tr, e),
    };
    let version = h.version.clone();
    let rendered = tokio::task::spawn_blocking(move || handbook_pdf_bytes(&h)).await;
    let (pdf, sum) = match rendered {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "handbook PDF failed");
            return fail(tr, DomainError::Internal("pdf".into()));
        }
        Err(e) => {
            tracing::error!(error = %e, "handbook PDF task failed");
            return fail(tr, DomainError::Internal("pdf".into()));
        }
    };
    if let Err(e) = state
        .store
        .record_handbook_export(
            &me.scope,
            org,
            version.parse().unwrap_or(1),
            revision,
            "pdf",
            &sum,
        )
        .await
    {
        return fail(tr, e);
    }
    download("application/pdf", file_name(&town, &version, "pdf"), pdf)
}

// ---------------------------------------------------------------------------------------------
// The office's comparison
// ---------------------------------------------------------------------------------------------

pub struct ScoreRow {
    pub org_id: OrgId,
    pub name: String,
    pub score: u8,
    pub bias: usize,
    pub backups: usize,
    pub gaps: usize,
    pub rto_unmet: usize,
    pub outdated: bool,
}

#[derive(Template)]
#[template(path = "continuity/verbund.html")]
pub struct VerbundPage {
    pub c: Chrome,
    pub verbund_id: VerbundId,
    pub verbund_name: String,
    pub rows: Vec<ScoreRow>,
}

pub async fn verbund(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Response {
    let v = VerbundId(id);
    let r = async {
        let verbund = state.store.verbund(&me.scope, v).await?;
        let towns: Vec<_> = state
            .store
            .organisations(&me.scope)
            .await?
            .into_iter()
            .filter(|o| o.verbund_id == Some(v) && !o.is_office && me.scope.can(o.id, Access::Read))
            .collect();
        let mut rows = Vec::new();
        let start = now_local();
        for t in towns {
            let c = state.store.continuity(&me.scope, t.id).await?;
            let a = analyse(&c, today(), start, 2);
            rows.push(ScoreRow {
                org_id: t.id,
                name: t.name,
                score: a.readiness.score,
                bias: c.bias.len(),
                backups: c.backups.len(),
                gaps: a.verdicts.gaps.len(),
                rto_unmet: a.verdicts.rto.iter().filter(|r| !r.ok).count(),
                outdated: c.handbook_outdated(),
            });
        }
        rows.sort_by(|a, b| b.score.cmp(&a.score).then(a.name.cmp(&b.name)));
        Ok::<_, DomainError>(VerbundPage {
            c: Chrome::new(
                tr,
                &me,
                tr.f("bcm.verbund.title", &[("name", &verbund.name)]),
                "verbuende",
            ),
            verbund_id: v,
            verbund_name: verbund.name,
            rows,
        })
    }
    .await;
    match r {
        Ok(p) => render(p),
        Err(e) => fail(tr, e),
    }
}

// ---------------------------------------------------------------------------------------------
// Emergency exercises (Notfallübungen) and the measures from their findings
// ---------------------------------------------------------------------------------------------

use bcm::exercise::{
    ExerciseInput, ExerciseKind, ExerciseResult, Finding, FindingCategory, MeasuredRestore,
    Severity,
};
use stadtmauer_store::continuity::{MeasureStatus, StoredExercise};

const EXERCISE_KINDS: [&str; 5] = [
    "tabletop",
    "alarm_test",
    "restore_test",
    "manual_operation",
    "full",
];
const FINDING_CATEGORIES: [&str; 6] = [
    "contact_data",
    "reachability",
    "restore",
    "manual_procedure",
    "organisation",
    "technical",
];
const SEVERITIES: [&str; 3] = ["low", "medium", "high"];

fn exercise_kind_value(k: ExerciseKind) -> &'static str {
    match k {
        ExerciseKind::Tabletop => "tabletop",
        ExerciseKind::AlarmTest => "alarm_test",
        ExerciseKind::RestoreTest => "restore_test",
        ExerciseKind::ManualOperation => "manual_operation",
        ExerciseKind::Full => "full",
    }
}

fn severity_value(s: Severity) -> &'static str {
    match s {
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
    }
}

fn parse_category(s: &str) -> Option<FindingCategory> {
    Some(match s.trim() {
        "contact_data" => FindingCategory::ContactData,
        "reachability" => FindingCategory::Reachability,
        "restore" => FindingCategory::Restore,
        "manual_procedure" => FindingCategory::ManualProcedure,
        "organisation" => FindingCategory::Organisation,
        "technical" => FindingCategory::Technical,
        _ => return None,
    })
}

fn parse_severity(s: &str) -> Option<Severity> {
    Some(match s.trim() {
        "low" => Severity::Low,
        "medium" => Severity::Medium,
        "high" => Severity::High,
        _ => return None,
    })
}

fn parse_result(s: &str) -> Option<RestoreResult> {
    Some(match s.trim() {
        "success" => RestoreResult::Success,
        "partial" => RestoreResult::Partial,
        "failed" => RestoreResult::Failed,
        _ => return None,
    })
}

fn choices(tr: Tr, values: &[&str], prefix: &str, selected: &str) -> Vec<Choice> {
    values
        .iter()
        .map(|v| Choice {
            value: (*v).into(),
            label: ds(tr, format!("{prefix}.{v}")),
            selected: selected == *v,
        })
        .collect()
}

/// Names, one per line or separated by commas.
fn split_list(s: &str) -> Vec<String> {
    s.split(['\n', ','])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

pub struct ExerciseRow {
    pub id: i64,
    pub title: String,
    pub kind: String,
    pub planned: String,
    pub scenario: String,
    pub objectives: Vec<String>,
    pub participants: String,
    pub held: Option<String>,
    pub duration: String,
    pub met: String,
    pub findings: Vec<String>,
}

pub struct MeasureRow {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub priority: String,
    pub due: String,
    pub owner: String,
    pub statuses: Vec<Choice>,
    pub overdue: bool,
}

#[derive(Template)]
#[template(path = "continuity/exercises.html")]
pub struct ExercisesPage {
    pub c: Chrome,
    pub org_id: OrgId,
    pub org_name: String,
    pub planned: Vec<ExerciseRow>,
    pub held: Vec<ExerciseRow>,
    pub measures: Vec<MeasureRow>,
    pub can_plan: bool,
    pub can_record: bool,
    pub can_measure: bool,
    pub kinds: Vec<Choice>,
    pub title: String,
    pub date: String,
    pub scenario: String,
    pub objectives: String,
    pub participants: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct PlanForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub planned: String,
    #[serde(default)]
    pub scenario: String,
    #[serde(default)]
    pub objectives: String,
    #[serde(default)]
    pub participants: String,
}

fn exercise_row(tr: Tr, x: &StoredExercise, names: &HashMap<ObjectId, String>) -> ExerciseRow {
    let p = &x.record.plan;
    let r = x.record.result.as_ref();
    ExerciseRow {
        id: x.id,
        title: p.title.clone(),
        kind: ds(
            tr,
            format!("bcm.exercise.kind.{}", exercise_kind_value(p.kind)),
        ),
        planned: p.planned.to_string(),
        scenario: p.scenario.clone().unwrap_or_default(),
        objectives: p.objectives.clone(),
        participants: r
            .map(|r| r.participants.clone())
            .unwrap_or_else(|| x.record.participants.clone())
            .join(", "),
        held: r.map(|r| r.held.to_string()),
        duration: r.map(|r| r.duration.to_string()).unwrap_or_default(),
        met: r
            .map(|r| {
                tr.f(
                    "bcm.exercise.met_of",
                    &[
                        (
                            "met",
                            &r.objectives_met.iter().filter(|m| **m).count().to_string(),
                        ),
                        ("total", &p.objectives.len().to_string()),
                    ],
                )
            })
            .unwrap_or_default(),
        findings: r
            .map(|r| {
                r.findings
                    .iter()
                    .map(|f| {
                        let mut s = format!(
                            "{} ({}): {}",
                            ds(tr, format!("bcm.finding.{}", category_value(f.category))),
                            ds(tr, format!("bcm.severity.{}", severity_value(f.severity))),
                            f.description
                        );
                        if let Some(o) = f.object {
                            s.push_str(&format!(" – {}", name_of(names, o)));
                        }
                        s
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn category_value(c: FindingCategory) -> &'static str {
    match c {
        FindingCategory::ContactData => "contact_data",
        FindingCategory::Reachability => "reachability",
        FindingCategory::Restore => "restore",
        FindingCategory::ManualProcedure => "manual_procedure",
        FindingCategory::Organisation => "organisation",
        FindingCategory::Technical => "technical",
    }
}

async fn exercises_view(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    org: OrgId,
    form: &PlanForm,
    errors: FieldErrors,
    flash: Option<&str>,
) -> Result<ExercisesPage, DomainError> {
    let o = state.store.organisation(&me.scope, org).await?;
    let list = state.store.exercises(&me.scope, org).await?;
    let measures = state.store.exercise_measures(&me.scope, org).await?;
    let names: HashMap<ObjectId, String> = state
        .store
        .objects(&me.scope, org, None, false)
        .await?
        .into_iter()
        .map(|o| (o.id, o.data.name))
        .collect();
    let (held, planned): (Vec<_>, Vec<_>) = list
        .iter()
        .map(|x| exercise_row(tr, x, &names))
        .partition(|r| r.held.is_some());
    let today = today();
    let measures = measures
        .iter()
        .map(|m| MeasureRow {
            id: m.id,
            title: tr.s(&m.measure.key).to_string(),
            description: match m.measure.object {
                Some(ob) => format!("{} – {}", m.measure.description, name_of(&names, ob)),
                None => m.measure.description.clone(),
            },
            priority: ds(
                tr,
                format!("bcm.severity.{}", severity_value(m.measure.priority)),
            ),
            due: m.measure.due.to_string(),
            owner: m.measure.owner.clone().unwrap_or_default(),
            statuses: MeasureStatus::ALL
                .iter()
                .map(|s| Choice {
                    value: s.as_str().into(),
                    label: ds(tr, format!("bcm.measure_status.{}", s.as_str())),
                    selected: *s == m.measure.status,
                })
                .collect(),
            overdue: m.measure.status != MeasureStatus::Done && m.measure.due < today,
        })
        .collect();
    let can = |a: Access| me.scope.may(org, a);
    Ok(ExercisesPage {
        c: Chrome::new(
            tr,
            me,
            tr.f("bcm.exercises.title", &[("name", &o.name)]),
            "organisations",
        )
        .with_flash(flash)
        .with_errors(errors),
        org_id: org,
        org_name: o.name,
        planned,
        held,
        measures,
        can_plan: can(Access::Write),
        can_record: can(Access::WriteTechnical),
        can_measure: can(Access::Write),
        kinds: choices(
            tr,
            &EXERCISE_KINDS,
            "bcm.exercise.kind",
            ExerciseKind::parse(&form.kind)
                .map(exercise_kind_value)
                .unwrap_or(""),
        ),
        title: form.title.clone(),
        date: form.planned.clone(),
        scenario: form.scenario.clone(),
        objectives: form.objectives.clone(),
        participants: form.participants.clone(),
    })
}

pub async fn exercises_page(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<FlashQuery>,
) -> Response {
    match exercises_view(
        &state,
        tr,
        &me,
        OrgId(id),
        &PlanForm::default(),
        FieldErrors::default(),
        q.msg.as_deref(),
    )
    .await
    {
        Ok(p) => render(p),
        Err(e) => fail(tr, e),
    }
}

pub async fn exercise_plan(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<PlanForm>,
) -> Response {
    let org = OrgId(id);
    let input = ExerciseInput {
        title: form.title.clone(),
        kind: form.kind.clone(),
        planned: form.planned.clone(),
        scenario: Some(form.scenario.clone()).filter(|s| !s.trim().is_empty()),
        objectives: form.objectives.lines().map(str::to_string).collect(),
        objects: Vec::new(),
    };
    match state
        .store
        .plan_exercise(&me.scope, org, &input, split_list(&form.participants))
        .await
    {
        Ok(_) => done(
            &format!("/organisations/{}/continuity/exercises", org.0),
            "msg.saved",
        ),
        Err(DomainError::Invalid(errs)) => {
            match exercises_view(&state, tr, &me, org, &form, errs, None).await {
                Ok(p) => render_status(StatusCode::UNPROCESSABLE_ENTITY, p),
                Err(e) => fail(tr, e),
            }
        }
        Err(e) => fail(tr, e),
    }
}

pub struct FindingRow {
    pub i: usize,
    pub categories: Vec<Choice>,
    pub severities: Vec<Choice>,
    pub description: String,
    pub objects: Vec<Choice>,
}

pub struct RestoreRow {
    pub i: usize,
    pub systems: Vec<Choice>,
    pub duration: String,
    pub results: Vec<Choice>,
}

pub struct ObjectiveRow {
    pub i: usize,
    pub text: String,
    pub met: bool,
}

#[derive(Template)]
#[template(path = "continuity/exercise_result.html")]
pub struct ExerciseResultPage {
    pub c: Chrome,
    pub org_id: OrgId,
    pub id: i64,
    pub held: String,
    pub duration: String,
    pub participants: String,
    pub objectives: Vec<ObjectiveRow>,
    pub findings: Vec<FindingRow>,
    pub restores: Vec<RestoreRow>,
}

/// The raw result form, kept to show it back with its errors.
#[derive(Default)]
struct ResultForm {
    held: String,
    duration: String,
    participants: String,
    met: Vec<bool>,
    findings: Vec<HashMap<String, String>>,
    restores: Vec<HashMap<String, String>>,
}

fn result_form(fields: &[(String, String)], objectives: usize) -> ResultForm {
    let get = |n: &str| field(fields, n).unwrap_or_default().to_string();
    let used = |m: &HashMap<String, String>, keys: &[&str]| {
        keys.iter()
            .any(|k| m.get(*k).is_some_and(|v| !v.trim().is_empty()))
    };
    ResultForm {
        held: get("held"),
        duration: get("duration"),
        participants: get("participants"),
        met: (0..objectives)
            .map(|i| is_on(&field(fields, &format!("met_{i}")).map(str::to_string)))
            .collect(),
        findings: indexed(fields, "finding_")
            .into_values()
            .filter(|m| used(m, &["description", "category", "severity"]))
            .collect(),
        restores: indexed(fields, "restore_")
            .into_values()
            .filter(|m| used(m, &["system", "duration"]))
            .collect(),
    }
}

fn validate_result(f: &ResultForm) -> Result<ExerciseResult, DomainError> {
    use stadtmauer_core::validate::required_text;
    let mut e = FieldErrors::default();
    let held = bcm::bia::parse_date(&f.held);
    if held.is_none() {
        e.add(
            "held",
            stadtmauer_core::validate::date_error(&f.held, "err.date"),
        );
    }
    let duration = Span::parse(&f.duration).map_err(|x| e.add("duration", x.key()));
    let participants = split_list(&f.participants);
    if participants.is_empty() {
        e.add("participants", "err.required");
    }
    let g = |m: &HashMap<String, String>, k: &str| m.get(k).cloned().unwrap_or_default();
    let mut findings = Vec::new();
    for m in &f.findings {
        let category = parse_category(&g(m, "category"));
        let severity = parse_severity(&g(m, "severity"));
        if category.is_none() {
            e.add("finding_category", "err.choose_one");
        }
        if severity.is_none() {
            e.add("finding_severity", "err.choose_one");
        }
        let description = required_text(&mut e, "finding_description", &g(m, "description"), 2000);
        let object = g(m, "object").trim().parse().ok().map(ObjectId);
        if let (Some(category), Some(severity)) = (category, severity) {
            findings.push(Finding {
                category,
                severity,
                description,
                object,
            });
        }
    }
    let mut restores = Vec::new();
    for m in &f.restores {
        let system = g(m, "system").trim().parse().ok().map(ObjectId);
        if system.is_none() {
            e.add("restore_system", "err.choose_one");
        }
        let d = Span::parse(&g(m, "duration")).map_err(|x| e.add("restore_duration", x.key()));
        let result = parse_result(&g(m, "result"));
        if result.is_none() {
            e.add("restore_result", "err.choose_one");
        }
        if let (Some(system), Ok(duration), Some(result)) = (system, d, result) {
            restores.push(MeasuredRestore {
                system,
                duration,
                result,
                errors: u32::from(result == RestoreResult::Failed),
            });
        }
    }
    e.into_result(ExerciseResult {
        held: held.unwrap_or_else(today),
        duration: duration.unwrap_or(Span(0)),
        participants,
        objectives_met: f.met.clone(),
        findings,
        restores,
    })
}

/// An object id with its name, for select lists.
type Named = (ObjectId, String);

fn result_page(
    tr: Tr,
    me: &CurrentUser,
    org: OrgId,
    x: &StoredExercise,
    (objects, systems): (&[Named], &[Named]),
    f: &ResultForm,
    errors: FieldErrors,
) -> ExerciseResultPage {
    let g = |m: &HashMap<String, String>, k: &str| m.get(k).cloned().unwrap_or_default();
    let opts = |list: &[(ObjectId, String)], sel: &str| -> Vec<Choice> {
        list.iter()
            .map(|(id, name)| Choice {
                value: id.to_string(),
                label: name.clone(),
                selected: id.to_string() == sel.trim(),
            })
            .collect()
    };
    let findings = f
        .findings
        .iter()
        .cloned()
        .chain(std::iter::repeat_with(HashMap::new))
        .take((f.findings.len() + 3).min(30))
        .enumerate()
        .map(|(i, m)| FindingRow {
            i,
            categories: choices(tr, &FINDING_CATEGORIES, "bcm.finding", &g(&m, "category")),
            severities: choices(tr, &SEVERITIES, "bcm.severity", &g(&m, "severity")),
            description: g(&m, "description"),
            objects: opts(objects, &g(&m, "object")),
        })
        .collect();
    let restores = f
        .restores
        .iter()
        .cloned()
        .chain(std::iter::repeat_with(HashMap::new))
        .take((f.restores.len() + 1).min(20))
        .enumerate()
        .map(|(i, m)| RestoreRow {
            i,
            systems: opts(systems, &g(&m, "system")),
            duration: g(&m, "duration"),
            results: choices(
                tr,
                &["success", "partial", "failed"],
                "bcm.result",
                &g(&m, "result"),
            ),
        })
        .collect();
    ExerciseResultPage {
        c: Chrome::new(
            tr,
            me,
            tr.f(
                "bcm.exercise.result_title",
                &[("name", &x.record.plan.title)],
            ),
            "organisations",
        )
        .with_errors(errors),
        org_id: org,
        id: x.id,
        held: f.held.clone(),
        duration: f.duration.clone(),
        participants: f.participants.clone(),
        objectives: x
            .record
            .plan
            .objectives
            .iter()
            .enumerate()
            .map(|(i, o)| ObjectiveRow {
                i,
                text: o.clone(),
                met: f.met.get(i).copied().unwrap_or(false),
            })
            .collect(),
        findings,
        restores,
    }
}

async fn exercise_of(
    state: &AppState,
    me: &CurrentUser,
    org: OrgId,
    id: Option<i64>,
) -> Result<StoredExercise, DomainError> {
    let id = id.ok_or(DomainError::NotFound)?;
    state
        .store
        .exercises(&me.scope, org)
        .await?
        .into_iter()
        .find(|x| x.id == id)
        .ok_or(DomainError::NotFound)
}

async fn town_objects(
    state: &AppState,
    me: &CurrentUser,
    org: OrgId,
) -> Result<Vec<(ObjectId, String)>, DomainError> {
    Ok(state
        .store
        .objects(&me.scope, org, None, false)
        .await?
        .into_iter()
        .map(|o| (o.id, o.data.name))
        .collect())
}

pub async fn exercise_result_form(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(org): Path<i64>,
    Query(q): Query<IdQuery>,
) -> Response {
    let org = OrgId(org);
    let r = async {
        let id = q.id.as_deref().and_then(|s| s.trim().parse::<i64>().ok());
        let x = exercise_of(&state, &me, org, id).await?;
        let objects = town_objects(&state, &me, org).await?;
        let systems = town_systems(&state, &me, org).await?;
        let f = ResultForm {
            participants: x.record.participants.join(", "),
            met: vec![false; x.record.plan.objectives.len()],
            ..Default::default()
        };
        Ok::<_, DomainError>(result_page(
            tr,
            &me,
            org,
            &x,
            (&objects, &systems),
            &f,
            FieldErrors::default(),
        ))
    }
    .await;
    match r {
        Ok(p) => render(p),
        Err(e) => fail(tr, e),
    }
}

pub async fn exercise_result_save(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(org): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let org = OrgId(org);
    let id = field(&fields, "id").and_then(|s| s.trim().parse::<i64>().ok());
    let x = match exercise_of(&state, &me, org, id).await {
        Ok(x) => x,
        Err(e) => return fail(tr, e),
    };
    let f = result_form(&fields, x.record.plan.objectives.len());
    let saved = match validate_result(&f) {
        Ok(result) => {
            state
                .store
                .record_exercise_result(&me.scope, org, x.id, &result)
                .await
        }
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => done(
            &format!("/organisations/{}/continuity/exercises", org.0),
            "msg.saved",
        ),
        Err(DomainError::Invalid(errs)) => {
            let lists = async {
                Ok::<_, DomainError>((
                    town_objects(&state, &me, org).await?,
                    town_systems(&state, &me, org).await?,
                ))
            }
            .await;
            match lists {
                Ok((objects, systems)) => render_status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    result_page(tr, &me, org, &x, (&objects, &systems), &f, errs),
                ),
                Err(e) => fail(tr, e),
            }
        }
        Err(e) => fail(tr, e),
    }
}

#[derive(Deserialize, Default)]
pub struct MeasureForm {
    pub id: Option<String>,
    pub status: Option<String>,
    pub owner: Option<String>,
}

pub async fn measure_update(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(org): Path<i64>,
    Form(q): Form<MeasureForm>,
) -> Response {
    let org = OrgId(org);
    let Some(id) = q.id.as_deref().and_then(|s| s.trim().parse::<i64>().ok()) else {
        return fail(tr, DomainError::NotFound);
    };
    // An unknown status is a tampered form: refuse it like an unknown id.
    let Some(status) = q.status.as_deref().and_then(MeasureStatus::parse) else {
        return fail(tr, DomainError::NotFound);
    };
    let owner = q.owner.clone().filter(|s| !s.trim().is_empty());
    match state
        .store
        .update_exercise_measure(&me.scope, org, id, status, owner)
        .await
    {
        Ok(()) => done(
            &format!("/organisations/{}/continuity/exercises", org.0),
            "msg.saved",
        ),
        Err(e) => fail(tr, e),
    }
}
