//! The office's security page of a Verbund: the uniform target (a shipped or an imported one),
//! the Verbund's own requirements added to it, the heatmap practice × town with the target line,
//! and shared measures — one measure the office plans for several towns at once, with each
//! town's progress.

use crate::auth::CurrentUser;
use crate::features::security::catalog::{library, unavailable};
use crate::features::security::town::{
    imported_targets, pct, pct_value, target_name, target_options, Opt, TargetForm,
};
use crate::features::{done, fail, render, render_status};
use crate::i18n::Tr;
use crate::view::Chrome;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use stadtmauer_assessment::date::format_date;
use stadtmauer_assessment::measure::{MeasureInput, MeasureStatus, Priority};
use stadtmauer_assessment::score::StatusCounts;
use stadtmauer_assessment::SecLevel as ASecLevel;
use stadtmauer_catalog::applicability::CATEGORY_KINDS;
use stadtmauer_catalog::own::{OwnRequirement, OwnRequirementInput};
use stadtmauer_catalog::SecLevel;
use stadtmauer_core::org::Organisation;
use stadtmauer_core::validate::FieldErrors;
use stadtmauer_core::{DomainError, OrgId, Scope, VerbundId};
use stadtmauer_store::security::Target;
use std::collections::{BTreeSet, HashMap};

/// The fulfilment every town should reach: the "target line" of the heatmap.
pub const GOAL_PERCENT: u8 = 80;

pub struct HeatCell {
    pub percent: String,
    pub value: u8,
    pub reaches: bool,
}

pub struct HeatRow {
    pub org_id: OrgId,
    pub name: String,
    pub date: String,
    pub overall: HeatCell,
    pub cells: Vec<HeatCell>,
}

/// One own requirement in the list.
pub struct OwnRow {
    pub id: i64,
    pub code: String,
    pub title: String,
    pub practice: String,
    pub concerns: String,
    pub sec_level: &'static str,
    pub effort_level: u8,
}

/// The own-requirement form (blank, to edit, or with the refused input and its errors).
#[derive(Default)]
pub struct OwnForm {
    pub id: Option<i64>,
    pub input: OwnRequirementInput,
    pub errors: FieldErrors,
}

/// The shared-measure form.
#[derive(Default)]
pub struct SharedForm {
    pub title: String,
    pub description: String,
    pub requirement_id: String,
    pub deadline: String,
    pub priority: String,
    pub cost_eur: String,
    pub effort_person_days: String,
    /// Checked towns; `None`: every member (a fresh form).
    pub towns: Option<BTreeSet<i64>>,
    pub errors: FieldErrors,
}

/// A shared measure with how far each town is.
pub struct SharedRow {
    pub title: String,
    pub requirement_id: String,
    pub deadline: String,
    pub priority: &'static str,
    pub done: usize,
    pub total: usize,
    pub towns: Vec<(String, &'static str)>,
}

#[derive(Template)]
#[template(path = "security/verbund.html")]
pub struct VerbundPage {
    pub c: Chrome,
    pub verbund_id: VerbundId,
    pub verbund_name: String,
    pub target: String,
    pub target_opts: Vec<Opt>,
    pub can_manage: bool,
    pub goal: u8,
    pub goal_text: String,
    pub practices: Vec<String>,
    pub rows: Vec<HeatRow>,
    pub without: Vec<String>,
    pub own: Vec<OwnRow>,
    pub own_form: OwnForm,
    pub practice_opts: Vec<Opt>,
    pub category_opts: Vec<Opt>,
    pub level_opts: Vec<Opt>,
    pub effort_opts: Vec<Opt>,
    pub shared: Vec<SharedRow>,
    pub shared_form: SharedForm,
    pub priority_opts: Vec<Opt>,
    pub town_opts: Vec<Opt>,
    /// No office organisation: shared measures cannot be planned.
    pub has_office: bool,
}

impl VerbundPage {
    pub fn own_err(&self, field: &str) -> Option<&'static str> {
        self.own_form
            .errors
            .get(field)
            .map(|k| self.c.tr.get(k).unwrap_or(k))
    }
    pub fn shared_err(&self, field: &str) -> Option<&'static str> {
        self.shared_form
            .errors
            .get(field)
            .map(|k| self.c.tr.get(k).unwrap_or(k))
    }
}

fn cell(c: &StatusCounts) -> HeatCell {
    HeatCell {
        percent: pct(c),
        value: pct_value(c),
        reaches: c.reaches(GOAL_PERCENT),
    }
}

fn opts(items: impl IntoIterator<Item = (String, String)>, selected: &str) -> Vec<Opt> {
    items
        .into_iter()
        .map(|(value, label)| Opt {
            selected: value == selected.trim(),
            value,
            label,
        })
        .collect()
}

/// The Verbund's member towns (without the office) and its office, as the scope sees them.
async fn members(
    state: &AppState,
    scope: &Scope,
    v: VerbundId,
) -> Result<(Vec<Organisation>, Option<Organisation>), DomainError> {
    let all = state.store.organisations(scope).await?;
    let office = all
        .iter()
        .find(|o| o.verbund_id == Some(v) && o.is_office)
        .cloned();
    let towns = all
        .into_iter()
        .filter(|o| o.verbund_id == Some(v) && !o.is_office)
        .collect();
    Ok((towns, office))
}

async fn verbund_page(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    v: VerbundId,
    msg: Option<&str>,
    own_form: OwnForm,
    shared_form: SharedForm,
) -> Response {
    let Some(lib) = library() else {
        return unavailable(tr);
    };
    let scope = &me.scope;
    let verbund = match state.store.verbund(scope, v).await {
        Ok(x) => x,
        Err(e) => return fail(tr, e),
    };
    let target = match state.store.verbund_target(scope, v).await {
        Ok(t) => t,
        Err(e) => return fail(tr, e),
    };
    let (towns, office) = match members(state, scope, v).await {
        Ok(x) => x,
        Err(e) => return fail(tr, e),
    };
    let ids: Vec<OrgId> = towns.iter().map(|o| o.id).collect();
    let snaps = match state.store.latest_snapshots(scope, &ids).await {
        Ok(s) => s,
        Err(e) => return fail(tr, e),
    };
    let own = match state.store.own_requirements(scope, v).await {
        Ok(o) => o,
        Err(e) => return fail(tr, e),
    };
    // The office's shared measures; a member town's coordinator does not see the office itself,
    // and finds the shared measures in the town's own plan instead.
    let shared_list = match &office {
        Some(o) => match state.store.measures_owned_by(scope, o.id).await {
            Ok(m) => m,
            Err(DomainError::NotFound) => vec![],
            Err(e) => return fail(tr, e),
        },
        None => vec![],
    };
    let imported = imported_targets(state, scope).await;
    let practices: Vec<String> = snaps
        .iter()
        .flat_map(|s| s.snapshot.practices.iter().map(|p| p.practice.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let by_org: HashMap<OrgId, &stadtmauer_store::security::StoredSnapshot> = snaps
        .iter()
        .map(|s| (s.snapshot.organisation_id, s))
        .collect();
    let mut rows = Vec::new();
    let mut without = Vec::new();
    for t in &towns {
        match by_org.get(&t.id) {
            Some(s) => rows.push(HeatRow {
                org_id: t.id,
                name: t.name.clone(),
                date: format_date(s.snapshot.taken_on),
                overall: cell(&s.snapshot.overall(ASecLevel::Erhoeht)),
                cells: practices
                    .iter()
                    .map(|p| {
                        s.snapshot
                            .practice(p)
                            .map(|a| cell(&a.counts(ASecLevel::Erhoeht)))
                            .unwrap_or(HeatCell {
                                percent: "–".into(),
                                value: 0,
                                reaches: true,
                            })
                    })
                    .collect(),
            }),
            None => without.push(t.name.clone()),
        }
    }
    let kernel_practices = &lib.shipped.kernel.practices;
    let practice_title = |id: &str| {
        kernel_practices
            .iter()
            .find(|p| p.id == id)
            .map(|p| format!("{} – {}", p.id, p.title))
            .unwrap_or_else(|| id.to_string())
    };
    let own_rows = own
        .iter()
        .map(|(id, r)| OwnRow {
            id: *id,
            code: r.code.clone(),
            title: r.title.clone(),
            practice: practice_title(&r.practice),
            concerns: r
                .target_category
                .clone()
                .unwrap_or_else(|| tr.s("sec.own.whole_town").to_string()),
            sec_level: tr.s(r.sec_level.label_key()),
            effort_level: r.effort_level,
        })
        .collect();
    let town_name = |o: OrgId| {
        towns
            .iter()
            .find(|t| t.id == o)
            .map(|t| t.name.clone())
            .unwrap_or_else(|| format!("#{}", o.0))
    };
    let shared = shared_list
        .iter()
        .map(|(_, m, _)| SharedRow {
            title: m.title.clone(),
            requirement_id: m.requirement_id.clone().unwrap_or_default(),
            deadline: m.deadline.map(format_date).unwrap_or_else(|| "–".into()),
            priority: tr.s(m.priority.label_key()),
            done: m
                .towns
                .iter()
                .filter(|t| t.status == MeasureStatus::Umgesetzt)
                .count(),
            total: m.towns.len(),
            towns: m
                .towns
                .iter()
                .map(|t| (town_name(t.organisation_id), tr.s(t.status.label_key())))
                .collect(),
        })
        .collect();
    let i = &own_form.input;
    let practice_opts = opts(
        kernel_practices
            .iter()
            .map(|p| (p.id.clone(), format!("{} – {}", p.id, p.title))),
        &i.practice,
    );
    let category_opts = opts(
        std::iter::once((String::new(), tr.s("sec.own.whole_town").to_string())).chain(
            CATEGORY_KINDS
                .iter()
                .filter(|(_, kinds)| !kinds.is_empty())
                .map(|(n, _)| (n.to_string(), n.to_string())),
        ),
        &i.target_category,
    );
    let level_opts = opts(
        [SecLevel::NormalSdt, SecLevel::Erhoeht]
            .into_iter()
            .map(|l| (l.as_str().to_string(), tr.s(l.label_key()).to_string())),
        if i.sec_level.is_empty() {
            SecLevel::NormalSdt.as_str()
        } else {
            &i.sec_level
        },
    );
    let effort_opts = opts(
        (0..=5).map(|e| (e.to_string(), e.to_string())),
        if i.effort_level.is_empty() {
            "1"
        } else {
            &i.effort_level
        },
    );
    let priority_opts = opts(
        std::iter::once((
            String::new(),
            tr.s("sec.shared.priority_default").to_string(),
        ))
        .chain(
            Priority::ALL
                .iter()
                .map(|p| (p.as_str().to_string(), tr.s(p.label_key()).to_string())),
        ),
        &shared_form.priority,
    );
    let town_opts = towns
        .iter()
        .map(|t| Opt {
            value: t.id.0.to_string(),
            label: t.name.clone(),
            selected: shared_form
                .towns
                .as_ref()
                .is_none_or(|set| set.contains(&t.id.0)),
        })
        .collect();
    let failed = !own_form.errors.is_empty() || !shared_form.errors.is_empty();
    let page = VerbundPage {
        c: Chrome::new(
            tr,
            me,
            tr.f("sec.verbund.title", &[("name", &verbund.name)]),
            "verbuende",
        )
        .with_flash(msg),
        verbund_id: v,
        verbund_name: verbund.name.clone(),
        target: target_name(tr, target, &imported),
        target_opts: target_options(tr, &imported, None, Some(target)),
        can_manage: scope.manages_verbund(v),
        goal: GOAL_PERCENT,
        goal_text: tr.f("sec.verbund.goal", &[("goal", &GOAL_PERCENT.to_string())]),
        practices,
        rows,
        without,
        own: own_rows,
        own_form,
        practice_opts,
        category_opts,
        level_opts,
        effort_opts,
        shared,
        shared_form,
        priority_opts,
        town_opts,
        has_office: office.is_some(),
    };
    if failed {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, page)
    } else {
        render(page)
    }
}

#[derive(Deserialize, Default)]
pub struct VerbundQuery {
    pub msg: Option<String>,
    /// An own requirement to edit in the form.
    pub edit: Option<i64>,
}

/// `GET /verbuende/{id}/security`.
pub async fn verbund(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<VerbundQuery>,
) -> Response {
    let v = VerbundId(id);
    let mut own_form = OwnForm::default();
    if let Some(edit) = q.edit {
        match state.store.own_requirements(&me.scope, v).await {
            Ok(list) => {
                if let Some((_, r)) = list.iter().find(|(i, _)| *i == edit) {
                    own_form = OwnForm {
                        id: Some(edit),
                        input: input_of(r),
                        errors: FieldErrors::default(),
                    };
                }
            }
            Err(e) => return fail(tr, e),
        }
    }
    verbund_page(
        &state,
        tr,
        &me,
        v,
        q.msg.as_deref(),
        own_form,
        SharedForm::default(),
    )
    .await
}

fn input_of(r: &OwnRequirement) -> OwnRequirementInput {
    OwnRequirementInput {
        code: r.code.clone(),
        practice: r.practice.clone(),
        title: r.title.clone(),
        statement: r.statement.clone(),
        guidance: r.guidance.clone().unwrap_or_default(),
        sec_level: r.sec_level.as_str().to_string(),
        effort_level: r.effort_level.to_string(),
        target_category: r.target_category.clone().unwrap_or_default(),
    }
}

/// `POST /verbuende/{id}/security`: the uniform target (a shipped or an imported one).
pub async fn set_verbund_target(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<TargetForm>,
) -> Response {
    let v = VerbundId(id);
    // Existence and the right to manage first: input is judged only for someone who may change it.
    if let Err(e) = state.store.verbund(&me.scope, v).await {
        return fail(tr, e);
    }
    if !me.scope.manages_verbund(v) {
        return fail(tr, DomainError::Forbidden);
    }
    let Some(t) = f.target.as_deref().and_then(Target::parse) else {
        return fail(tr, DomainError::field("target", "err.choose_one"));
    };
    match state.store.set_verbund_target(&me.scope, v, t).await {
        Ok(()) => done(&format!("/verbuende/{id}/security"), "msg.saved"),
        Err(e) => fail(tr, e),
    }
}

// ---------------------------------------------------------------------------------------------
// Own requirements
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
pub struct OwnRequirementForm {
    pub id: Option<String>,
    #[serde(flatten)]
    pub input: OwnRequirementInput,
}

fn field_errors(problems: Vec<(&'static str, &'static str)>) -> FieldErrors {
    let mut e = FieldErrors::default();
    for (f, k) in problems {
        e.add(f, k);
    }
    e
}

/// `POST /verbuende/{id}/security/requirements`: adds or changes an own requirement.
pub async fn save_own(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<OwnRequirementForm>,
) -> Response {
    let Some(lib) = library() else {
        return unavailable(tr);
    };
    let v = VerbundId(id);
    if let Err(e) = state.store.verbund(&me.scope, v).await {
        return fail(tr, e);
    }
    if !me.scope.manages_verbund(v) {
        return fail(tr, DomainError::Forbidden);
    }
    let edit =
        f.id.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .and_then(|s| s.parse::<i64>().ok());
    let practices: Vec<&str> = lib
        .shipped
        .kernel
        .practices
        .iter()
        .map(|p| p.id.as_str())
        .collect();
    let refused = |errors: FieldErrors, input: OwnRequirementInput| OwnForm {
        id: edit,
        input,
        errors,
    };
    let r = match f.input.check(&practices, |c| lib.find(c).is_some()) {
        Ok(r) => r,
        Err(problems) => {
            let form = refused(field_errors(problems), f.input);
            return verbund_page(&state, tr, &me, v, None, form, SharedForm::default()).await;
        }
    };
    match state
        .store
        .save_own_requirement(&me.scope, v, edit, &r)
        .await
    {
        Ok(_) => done(&format!("/verbuende/{id}/security#own-h"), "msg.saved"),
        Err(DomainError::Invalid(errors) | DomainError::Conflict(errors)) => {
            let form = refused(errors, f.input);
            verbund_page(&state, tr, &me, v, None, form, SharedForm::default()).await
        }
        Err(e) => fail(tr, e),
    }
}

#[derive(Deserialize, Default)]
pub struct DeleteOwnForm {
    pub id: Option<i64>,
}

/// `POST /verbuende/{id}/security/requirements/delete`.
pub async fn delete_own(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<DeleteOwnForm>,
) -> Response {
    let v = VerbundId(id);
    let Some(rid) = f.id else {
        return fail(tr, DomainError::NotFound);
    };
    match state.store.delete_own_requirement(&me.scope, v, rid).await {
        Ok(()) => done(&format!("/verbuende/{id}/security#own-h"), "msg.deleted"),
        Err(e) => fail(tr, e),
    }
}

// ---------------------------------------------------------------------------------------------
// Shared measures
// ---------------------------------------------------------------------------------------------

/// `POST /verbuende/{id}/security/measures`: one measure for the checked towns, owned by the
/// office; it appears in every town's measures plan, where each town records its own progress.
pub async fn plan_shared(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let Some(lib) = library() else {
        return unavailable(tr);
    };
    let v = VerbundId(id);
    if let Err(e) = state.store.verbund(&me.scope, v).await {
        return fail(tr, e);
    }
    if !me.scope.manages_verbund(v) {
        return fail(tr, DomainError::Forbidden);
    }
    let (towns, office) = match members(&state, &me.scope, v).await {
        Ok(x) => x,
        Err(e) => return fail(tr, e),
    };
    let Some(office) = office else {
        return fail(tr, DomainError::field("towns", "sec.shared.err.no_office"));
    };
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let checked: Vec<String> = pairs
        .iter()
        .filter(|(n, _)| n == "towns")
        .map(|(_, v)| v.clone())
        .collect();
    let mut form = SharedForm {
        title: get("title"),
        description: get("description"),
        requirement_id: get("requirement_id"),
        deadline: get("deadline"),
        priority: get("priority"),
        cost_eur: get("cost_eur"),
        effort_person_days: get("effort_person_days"),
        towns: Some(
            checked
                .iter()
                .filter_map(|t| t.trim().parse::<i64>().ok())
                .collect(),
        ),
        errors: FieldErrors::default(),
    };
    let some = |s: &str| (!s.trim().is_empty()).then(|| s.to_string());
    let input = MeasureInput {
        title: form.title.clone(),
        description: some(&form.description),
        requirement_id: some(&form.requirement_id),
        objects: vec![],
        owner: Some(office.name.clone()),
        deadline: some(&form.deadline),
        priority: some(&form.priority),
        cost_eur: some(&form.cost_eur),
        effort_person_days: some(&form.effort_person_days),
        status: None,
        towns: checked,
    };
    let member = |o: OrgId| towns.iter().any(|t| t.id == o);
    let mut measure = match input.validate(None, member) {
        Ok(m) => m,
        Err(DomainError::Invalid(errors)) => {
            form.errors = errors;
            return verbund_page(&state, tr, &me, v, None, OwnForm::default(), form).await;
        }
        Err(e) => return fail(tr, e),
    };
    // A requirement named must exist: in a shipped catalog or among the Verbund's own.
    if let Some(req) = measure.requirement_id.clone() {
        let own = state
            .store
            .own_requirements(&me.scope, v)
            .await
            .unwrap_or_default();
        let known = lib.find(&req).map(|(_, r)| r.id.clone()).or_else(|| {
            own.iter()
                .find(|(_, r)| r.code == req.trim())
                .map(|(_, r)| r.code.clone())
        });
        match known {
            Some(id) => measure.requirement_id = Some(id),
            None => {
                form.errors
                    .add("requirement_id", "sec.shared.err.unknown_requirement");
                return verbund_page(&state, tr, &me, v, None, OwnForm::default(), form).await;
            }
        }
    }
    match state
        .store
        .create_measures(&me.scope, office.id, &[measure])
        .await
    {
        Ok(_) => done(&format!("/verbuende/{id}/security#shared-h"), "msg.saved"),
        Err(DomainError::Invalid(errors) | DomainError::Conflict(errors)) => {
            form.errors = errors;
            verbund_page(&state, tr, &me, v, None, OwnForm::default(), form).await
        }
        Err(e) => fail(tr, e),
    }
}
