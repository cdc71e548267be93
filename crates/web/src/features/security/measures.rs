//! The measures plan (Realisierungsplan) of a town: every requirement answered nein or teilweise
//! becomes a measure (priority from the Schutzbedarf and the effort level, a deadline by priority,
//! the answer's responsible person as owner), each with its status; overdue ones are highlighted
//! here and counted on the dashboard. Shared measures of the office appear in every town's plan.

use crate::auth::CurrentUser;
use crate::features::security::catalog::{library, unavailable};
use crate::features::security::town::{rref, today, town_requirements, TargetReqs};
use crate::features::{done, fail, render};
use crate::i18n::Tr;
use crate::view::Chrome;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use stadtmauer_assessment::date::{add_days, format_date};
use stadtmauer_assessment::measure::{
    derive_measures, Measure, MeasureStatus, Priority, TownProgress,
};
use stadtmauer_assessment::RequirementRef;
use stadtmauer_core::org::Organisation;
use stadtmauer_core::{Access, DomainError, OrgId};
use stadtmauer_inventory::model::Level;
use std::collections::HashSet;

pub struct MeasureRow {
    pub id: i64,
    pub title: String,
    pub requirement_id: String,
    pub priority: &'static str,
    pub deadline: String,
    pub overdue: bool,
    pub owner: String,
    pub status: &'static str,
    pub shared: bool,
}

#[derive(Template)]
#[template(path = "security/measures.html")]
pub struct MeasuresPage {
    pub c: Chrome,
    pub org: Organisation,
    pub can_write: bool,
    pub rows: Vec<MeasureRow>,
    pub statuses: Vec<(&'static str, &'static str)>,
    pub overdue: usize,
    pub attribution: &'static str,
}

/// Days until the deadline of a derived measure, by priority.
fn days_for(p: Priority) -> u32 {
    match p {
        Priority::Sofort => 30,
        Priority::Hoch => 90,
        Priority::Mittel => 180,
        Priority::Niedrig => 365,
    }
}

pub async fn list(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<crate::features::FlashQuery>,
) -> Response {
    let org = OrgId(id);
    let o = match state.store.organisation(&me.scope, org).await {
        Ok(o) => o,
        Err(e) => return fail(tr, e),
    };
    let measures = match state.store.measures(&me.scope, org).await {
        Ok(m) => m,
        Err(e) => return fail(tr, e),
    };
    let at = today();
    let rows: Vec<MeasureRow> = measures
        .iter()
        .map(|(mid, m, taking_part)| {
            let status = m
                .towns
                .iter()
                .find(|t| t.organisation_id == org)
                .map(|t| t.status)
                .unwrap_or(MeasureStatus::Geplant);
            MeasureRow {
                id: *mid,
                title: m.title.clone(),
                requirement_id: m.requirement_id.clone().unwrap_or_default(),
                priority: tr.s(m.priority.label_key()),
                deadline: m.deadline.map(format_date).unwrap_or_else(|| "–".into()),
                overdue: status.is_open() && m.deadline.is_some_and(|d| d < at),
                owner: m.owner.clone().unwrap_or_else(|| "–".into()),
                status: status.as_str(),
                shared: *taking_part > 1,
            }
        })
        .collect();
    let overdue = rows.iter().filter(|r| r.overdue).count();
    render(MeasuresPage {
        c: Chrome::new(tr, &me, tr.s("sec.m.title"), "organisations").with_flash(q.msg.as_deref()),
        org: o,
        can_write: me.scope.may(org, Access::Write),
        rows,
        statuses: MeasureStatus::ALL
            .iter()
            .map(|s| (s.as_str(), tr.s(s.label_key())))
            .collect(),
        overdue,
        attribution: stadtmauer_catalog::ATTRIBUTION,
    })
}

/// Proposes a measure for every gap that has none yet, and records them.
pub async fn derive(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Response {
    let Some(lib) = library() else {
        return unavailable(tr);
    };
    let org = OrgId(id);
    if let Err(e) = me.scope.require(org, Access::Write) {
        return fail(tr, e);
    }
    let load = async {
        let set = TargetReqs::load(&state, &me.scope, org).await?;
        let objects = state.store.objects(&me.scope, org, None, false).await?;
        let answers = state.store.answers(&me.scope, org).await?;
        let measures = state.store.measures(&me.scope, org).await?;
        Ok::<_, DomainError>((set, objects, answers, measures))
    };
    let (set, objects, answers, measures) = match load.await {
        Ok(x) => x,
        Err(e) => return fail(tr, e),
    };
    let reqs = town_requirements(lib, &set, &objects);
    let refs: Vec<RequirementRef> = reqs.iter().map(|t| rref(t.req)).collect();
    let answers: Vec<_> = answers.into_iter().map(|s| s.answer).collect();
    let planned: HashSet<String> = measures
        .iter()
        .filter_map(|(_, m, _)| m.requirement_id.clone())
        .collect();
    let highest = objects
        .iter()
        .map(|o| o.effective.max())
        .max()
        .unwrap_or(Level::Normal);
    let drafts = derive_measures(
        &refs,
        &answers,
        |o| match o {
            None => highest,
            Some(id) => objects
                .iter()
                .find(|x| x.id == id)
                .map(|x| x.effective.max())
                .unwrap_or(Level::Normal),
        },
        |r| planned.contains(r),
    );
    let at = today();
    let new: Vec<Measure> = drafts
        .iter()
        .map(|d| {
            let title = set
                .find(lib, &d.requirement_id)
                .map(|r| r.title.clone())
                .unwrap_or_else(|| d.requirement_id.clone());
            let owner = answers
                .iter()
                .find(|a| a.requirement_id == d.requirement_id)
                .and_then(|a| a.responsible.clone());
            Measure {
                title: tr.f("sec.m.derived_title", &[("title", &title)]),
                description: None,
                requirement_id: Some(d.requirement_id.clone()),
                objects: d.objects.clone(),
                owner,
                deadline: Some(add_days(at, days_for(d.priority))),
                priority: d.priority,
                cost_eur: None,
                effort_person_days: Some(f64::from(d.effort_level.max(1)) * 2.0),
                towns: vec![TownProgress {
                    organisation_id: org,
                    status: MeasureStatus::Geplant,
                }],
            }
        })
        .collect();
    if !new.is_empty() {
        if let Err(e) = state.store.create_measures(&me.scope, org, &new).await {
            return fail(tr, e);
        }
    }
    done(
        &format!("/organisations/{id}/security/measures"),
        "msg.saved",
    )
}

#[derive(Deserialize, Default)]
pub struct StatusForm {
    pub measure_id: Option<i64>,
    pub status: Option<String>,
}

pub async fn set_status(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<StatusForm>,
) -> Response {
    let org = OrgId(id);
    // The role first: a reader gets 403, not field errors.
    if let Err(e) = me.scope.require(org, Access::WriteTechnical) {
        return fail(tr, e);
    }
    let (Some(mid), Some(status)) = (
        f.measure_id,
        f.status.as_deref().and_then(MeasureStatus::parse),
    ) else {
        return fail(tr, DomainError::field("status", "err.choose_one"));
    };
    match state
        .store
        .set_measure_status(&me.scope, org, mid, status)
        .await
    {
        Ok(()) => done(
            &format!("/organisations/{id}/security/measures"),
            "msg.saved",
        ),
        Err(e) => fail(tr, e),
    }
}
