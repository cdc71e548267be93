//! The town's readiness page: verdicts, restart order, what-if scenarios, score and checklist.

use super::*;
use bcm::readiness::{Answer, Checklist, PointReason, Status};
use bcm::scenario::Scenario;
use bcm::verdict::Reason;
use stadtmauer_store::continuity::{Analysis, TownContinuity};

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
) -> Result<Response, PageError> {
    let p = town_view(&state, tr, &me, OrgId(id), &q, FieldErrors::default()).await?;
    let code = if p.c.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(render_status(code, p))
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
) -> Result<Response, PageError> {
    let org = OrgId(id);
    // The right first: a reader gets 403, not the form's field errors.
    me.scope.require(org, Access::WriteTechnical)?;
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
        Ok(()) => Ok(done(
            &format!("/organisations/{id}/continuity"),
            "msg.saved",
        )),
        Err(DomainError::Invalid(errs)) => {
            let p = town_view(&state, tr, &me, org, &TownQuery::default(), errs).await?;
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, p))
        }
        Err(e) => Err(e.into()),
    }
}
