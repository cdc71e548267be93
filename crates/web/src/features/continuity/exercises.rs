//! Emergency exercises (Notfallübungen) and the measures from their findings.

use super::*;
use bcm::backup::RestoreResult;

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
) -> Result<Response, PageError> {
    let p = exercises_view(
        &state,
        tr,
        &me,
        OrgId(id),
        &PlanForm::default(),
        FieldErrors::default(),
        q.msg.as_deref(),
    )
    .await?;
    Ok(render(p))
}

pub async fn exercise_plan(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<PlanForm>,
) -> Result<Response, PageError> {
    let org = OrgId(id);
    me.scope.require(org, Access::Write)?;
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
        Ok(_) => Ok(done(
            &format!("/organisations/{}/continuity/exercises", org.0),
            "msg.saved",
        )),
        Err(DomainError::Invalid(errs)) => {
            let p = exercises_view(&state, tr, &me, org, &form, errs, None).await?;
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, p))
        }
        Err(e) => Err(e.into()),
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
) -> Result<Response, PageError> {
    let org = OrgId(org);
    me.scope.require(org, Access::Read)?;
    let id = q.id.as_deref().and_then(|s| s.trim().parse::<i64>().ok());
    let x = exercise_of(&state, &me, org, id).await?;
    let objects = town_objects(&state, &me, org).await?;
    let systems = town_systems(&state, &me, org).await?;
    let f = ResultForm {
        participants: x.record.participants.join(", "),
        met: vec![false; x.record.plan.objectives.len()],
        ..Default::default()
    };
    Ok(render(result_page(
        tr,
        &me,
        org,
        &x,
        (&objects, &systems),
        &f,
        FieldErrors::default(),
    )))
}

pub async fn exercise_result_save(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(org): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let org = OrgId(org);
    // The right first: a reader gets 403, not the form's field errors.
    me.scope.require(org, Access::WriteTechnical)?;
    let id = field(&fields, "id").and_then(|s| s.trim().parse::<i64>().ok());
    let x = exercise_of(&state, &me, org, id).await?;
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
        Ok(_) => Ok(done(
            &format!("/organisations/{}/continuity/exercises", org.0),
            "msg.saved",
        )),
        Err(DomainError::Invalid(errs)) => {
            let objects = town_objects(&state, &me, org).await?;
            let systems = town_systems(&state, &me, org).await?;
            Ok(render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                result_page(tr, &me, org, &x, (&objects, &systems), &f, errs),
            ))
        }
        Err(e) => Err(e.into()),
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
    me: CurrentUser,
    Path(org): Path<i64>,
    Form(q): Form<MeasureForm>,
) -> Result<Response, PageError> {
    let org = OrgId(org);
    me.scope.require(org, Access::Write)?;
    let Some(id) = q.id.as_deref().and_then(|s| s.trim().parse::<i64>().ok()) else {
        return Err(PageError::of(StatusCode::NOT_FOUND));
    };
    // An unknown status is a tampered form: refuse it like an unknown id.
    let Some(status) = q.status.as_deref().and_then(MeasureStatus::parse) else {
        return Err(PageError::of(StatusCode::NOT_FOUND));
    };
    let owner = q.owner.clone().filter(|s| !s.trim().is_empty());
    state
        .store
        .update_exercise_measure(&me.scope, org, id, status, owner)
        .await?;
    Ok(done(
        &format!("/organisations/{}/continuity/exercises", org.0),
        "msg.saved",
    ))
}
