//! The security level in the JSON API: a town's level (target, fulfilment overall and per
//! practice, snapshots over time), its answers (read, and record one), its measures plan, and
//! the Verbund's heatmap. The same store calls and scope as the pages.

use crate::auth::{require_writable, ApiUser};
use crate::error::{ApiError, Problem};
use crate::features::security::catalog::library;
use crate::features::security::town::{
    find_requirement, rref, today, town_requirements, TargetReqs,
};
use crate::AppState;
use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;
use stadtmauer_assessment::answer::AnswerInput;
use stadtmauer_assessment::evidence::Evidence;
use stadtmauer_assessment::measure::Measure;
use stadtmauer_assessment::score::{evaluate, score, StatusCounts};
use stadtmauer_assessment::{Answer, RequirementRef, SecLevel as ASecLevel};
use stadtmauer_core::{Access, DomainError, OrgId, VerbundId};
use utoipa::ToSchema;

type ApiResult<T> = Result<T, ApiError>;

/// Counts of effective statuses and the fulfilment they give (ja counts fully, teilweise half,
/// entbehrlich is left out of the base).
#[derive(Debug, Serialize, ToSchema)]
pub struct Fulfilment {
    pub ja: u32,
    pub teilweise: u32,
    pub nein: u32,
    pub entbehrlich: u32,
    pub offen: u32,
    /// Per cent, `null` when nothing counts yet.
    pub percent: Option<u8>,
}

impl From<&StatusCounts> for Fulfilment {
    fn from(c: &StatusCounts) -> Self {
        Fulfilment {
            ja: c.ja,
            teilweise: c.teilweise,
            nein: c.nein,
            entbehrlich: c.entbehrlich,
            offen: c.offen,
            percent: c.percent(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PracticeLevel {
    /// The practice (Praktik) id, e.g. `DET`.
    pub practice: String,
    pub fulfilment: Fulfilment,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SnapshotLevel {
    /// `YYYY-MM-DD`.
    pub taken_on: String,
    /// The target's code (`kommunale_basis`, `catalog:3` …).
    pub target: String,
    pub overall: Fulfilment,
}

/// A town's security level today.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecurityLevel {
    pub organisation_id: i64,
    /// The Verbund's target's code.
    pub verbund_target: String,
    /// The town's own target's code, if it chose one (its requirements come on top).
    pub own_target: Option<String>,
    /// What the town must meet, in words.
    pub target_label: String,
    /// How many requirements the town must meet (derived from its inventory).
    pub requirements: usize,
    pub overall: Fulfilment,
    pub practices: Vec<PracticeLevel>,
    /// Finished assessments, oldest first.
    pub snapshots: Vec<SnapshotLevel>,
}

#[utoipa::path(get, path = "/api/v1/organisations/{org_id}/security", tag = "security",
    params(("org_id" = i64, Path, description = "Organisation id")),
    responses((status = 200, body = SecurityLevel), (status = 404, body = Problem)), security(("token" = [])))]
pub async fn level(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<SecurityLevel>> {
    let lib = library().ok_or(ApiError::Domain(DomainError::Internal(
        "catalogs unavailable".into(),
    )))?;
    let org = OrgId(id);
    let scope = &api.scope;
    state.store.organisation(scope, org).await?;
    let set = TargetReqs::load(&state, scope, org).await?;
    let target = set.target;
    let objects = state.store.objects(scope, org, None, false).await?;
    let answers: Vec<Answer> = state
        .store
        .answers(scope, org)
        .await?
        .into_iter()
        .map(|s| s.answer)
        .collect();
    let reqs = town_requirements(lib, &set, &objects);
    let refs: Vec<RequirementRef> = reqs.iter().map(|t| rref(t.req)).collect();
    let states = evaluate(&refs, &answers, today());
    let sc = score(&states, ASecLevel::Erhoeht);
    let tr = crate::i18n::Tr {
        lang: crate::i18n::Lang::De,
    };
    let snapshots = state
        .store
        .snapshots(scope, org)
        .await?
        .iter()
        .rev()
        .map(|s| SnapshotLevel {
            taken_on: stadtmauer_assessment::date::format_date(s.snapshot.taken_on),
            target: s.target.code(),
            overall: (&s.snapshot.overall(ASecLevel::Erhoeht)).into(),
        })
        .collect();
    Ok(Json(SecurityLevel {
        organisation_id: id,
        verbund_target: target.verbund.code(),
        own_target: target.own.map(|t| t.code()),
        target_label: set.label(tr),
        requirements: reqs.len(),
        overall: (&sc.overall).into(),
        practices: sc
            .practices
            .iter()
            .map(|(p, c)| PracticeLevel {
                practice: p.clone(),
                fulfilment: c.into(),
            })
            .collect(),
        snapshots,
    }))
}

/// An answer as stored, with its review flag.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoredAnswerBody {
    pub answer: Answer,
    /// The requirement's text changed in a newer catalog version since this answer.
    pub needs_review: bool,
}

#[utoipa::path(get, path = "/api/v1/organisations/{org_id}/security/answers", tag = "security",
    params(("org_id" = i64, Path, description = "Organisation id")),
    responses((status = 200, body = [StoredAnswerBody]), (status = 404, body = Problem)), security(("token" = [])))]
pub async fn answers(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<StoredAnswerBody>>> {
    let list = state.store.answers(&api.scope, OrgId(id)).await?;
    Ok(Json(
        list.into_iter()
            .map(|s| StoredAnswerBody {
                answer: s.answer,
                needs_review: s.needs_review,
            })
            .collect(),
    ))
}

/// Records (or replaces) the answer to one requirement, for the town or one of its objects.
/// Evidence files must have been uploaded to the town before (by their SHA-256).
#[utoipa::path(post, path = "/api/v1/organisations/{org_id}/security/answers", tag = "security",
    params(("org_id" = i64, Path, description = "Organisation id")),
    request_body = AnswerInput,
    responses((status = 200, body = Answer), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)), security(("token" = [])))]
pub async fn put_answer(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Answer>> {
    let org = OrgId(id);
    let scope = &api.scope;
    // Who may write is decided before the body is read: a stranger learns nothing from errors.
    match scope.access(org) {
        None => return Err(DomainError::NotFound.into()),
        Some(a) if a < Access::WriteTechnical => return Err(DomainError::Forbidden.into()),
        Some(_) => {}
    }
    require_writable(scope)?;
    let input: AnswerInput = serde_json::from_slice(&body).map_err(|e| {
        ApiError::BadRequest(format!("line {}, column {}: {e}", e.line(), e.column()))
    })?;
    let lib = library().ok_or(ApiError::Domain(DomainError::Internal(
        "catalogs unavailable".into(),
    )))?;
    if find_requirement(&state, scope, org, lib, &input.requirement_id)
        .await?
        .is_none()
    {
        return Err(DomainError::field("requirement_id", "sec.err.unknown_requirement").into());
    }
    let answer = input.validate(today())?;
    for e in &answer.evidence {
        if let Evidence::File { sha256, .. } = &e.evidence {
            if state
                .store
                .evidence_file(scope, org, sha256)
                .await?
                .is_none()
            {
                return Err(DomainError::field("evidence", "sec.err.unknown_file").into());
            }
        }
    }
    state.store.save_answer(scope, org, &answer).await?;
    Ok(Json(answer))
}

/// A measure of the town's plan (its own, or a shared one of the office).
#[derive(Debug, Serialize, ToSchema)]
pub struct MeasureBody {
    pub id: i64,
    pub measure: Measure,
    /// How many towns take part (more than one: a shared measure).
    pub towns_taking_part: usize,
}

#[utoipa::path(get, path = "/api/v1/organisations/{org_id}/security/measures", tag = "security",
    params(("org_id" = i64, Path, description = "Organisation id")),
    responses((status = 200, body = [MeasureBody]), (status = 404, body = Problem)), security(("token" = [])))]
pub async fn measures(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<MeasureBody>>> {
    let list = state.store.measures(&api.scope, OrgId(id)).await?;
    Ok(Json(
        list.into_iter()
            .map(|(id, measure, n)| MeasureBody {
                id,
                measure,
                towns_taking_part: n,
            })
            .collect(),
    ))
}

/// One town's row of the heatmap: its latest finished assessment.
#[derive(Debug, Serialize, ToSchema)]
pub struct HeatmapRow {
    pub organisation_id: i64,
    pub name: String,
    /// `YYYY-MM-DD`; `null` without a finished assessment.
    pub taken_on: Option<String>,
    pub overall: Option<Fulfilment>,
    pub practices: Vec<PracticeLevel>,
}

#[utoipa::path(get, path = "/api/v1/verbuende/{verbund_id}/security", tag = "security",
    params(("verbund_id" = i64, Path, description = "Verbund id")),
    responses((status = 200, body = [HeatmapRow]), (status = 404, body = Problem)), security(("token" = [])))]
pub async fn heatmap(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<HeatmapRow>>> {
    let v = VerbundId(id);
    let scope = &api.scope;
    state.store.verbund(scope, v).await?;
    let towns: Vec<_> = state
        .store
        .organisations(scope)
        .await?
        .into_iter()
        .filter(|o| o.verbund_id == Some(v) && !o.is_office && scope.can(o.id, Access::Reports))
        .collect();
    let ids: Vec<OrgId> = towns.iter().map(|o| o.id).collect();
    let snaps = state.store.latest_snapshots(scope, &ids).await?;
    Ok(Json(
        towns
            .iter()
            .map(|t| {
                let s = snaps.iter().find(|s| s.snapshot.organisation_id == t.id);
                HeatmapRow {
                    organisation_id: t.id.0,
                    name: t.name.clone(),
                    taken_on: s
                        .map(|s| stadtmauer_assessment::date::format_date(s.snapshot.taken_on)),
                    overall: s.map(|s| (&s.snapshot.overall(ASecLevel::Erhoeht)).into()),
                    practices: s
                        .map(|s| {
                            s.snapshot
                                .practices
                                .iter()
                                .map(|p| PracticeLevel {
                                    practice: p.practice.clone(),
                                    fulfilment: (&p.counts(ASecLevel::Erhoeht)).into(),
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                }
            })
            .collect(),
    ))
}
