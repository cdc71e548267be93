//! The council report of a town and the Verbund report: PDF, HTML, JSON and the API.

use super::*;
use crate::error::PageError;

// ---------------------------------------------------------------------------------------------
// Reports
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct EditionQuery {
    /// `public` (default) or `confidential` (needs read access).
    pub edition: Option<String>,
}

pub(super) fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// The edition asked for, if the scope may have it.
pub(super) fn edition_for(
    scope: &Scope,
    org: OrgId,
    q: &EditionQuery,
) -> Result<Edition, DomainError> {
    let e = match q.edition.as_deref() {
        None | Some("") => Edition::Public,
        Some(s) => Edition::parse(s).ok_or(DomainError::NotFound)?,
    };
    if !scope.can(org, Access::Reports) {
        return Err(DomainError::NotFound);
    }
    if e == Edition::Confidential && !scope.can(org, Access::Read) {
        return Err(DomainError::Forbidden);
    }
    Ok(e)
}

pub(super) async fn build_town(
    state: &AppState,
    scope: &Scope,
    audit_seq: i64,
    org: OrgId,
    q: &EditionQuery,
) -> Result<Report, DomainError> {
    let edition = edition_for(scope, org, q)?;
    let facts = state.store.council_facts(scope, org).await?;
    Ok(town::town_report(
        &facts,
        edition,
        today(),
        &format!("Datenstand {audit_seq}"),
    ))
}

pub(super) fn file_name(r: &Report, ext: &str) -> String {
    let slug: String = r
        .subject
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!(
        "bericht-{}-{}-{}.{ext}",
        slug,
        r.edition.as_str(),
        iso(today())
    )
}

pub(super) async fn pdf_response(tr: Tr, r: Report) -> Response {
    let name = file_name(&r, "pdf");
    let day = today();
    match tokio::task::spawn_blocking(move || output::pdf(&r, day)).await {
        Ok(Ok(bytes)) => (
            [
                (header::CONTENT_TYPE, "application/pdf".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "council report: PDF failed");
            fail(tr, DomainError::Internal("pdf".into()))
        }
        Err(e) => {
            tracing::error!(error = %e, "council report: PDF task failed");
            fail(tr, DomainError::Internal("pdf".into()))
        }
    }
}

pub(super) fn html_response(r: &Report) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", file_name(r, "html")),
            ),
        ],
        output::html(r),
    )
        .into_response()
}

pub async fn town_pdf(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<EditionQuery>,
) -> Result<Response, PageError> {
    let r = build_town(&state, &me.scope, me.audit_seq, OrgId(id), &q).await?;
    Ok(pdf_response(tr, r).await)
}

pub async fn town_html(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<EditionQuery>,
) -> Result<Response, PageError> {
    let r = build_town(&state, &me.scope, me.audit_seq, OrgId(id), &q).await?;
    Ok(html_response(&r))
}

pub async fn town_json(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<EditionQuery>,
) -> Result<Response, PageError> {
    let r = build_town(&state, &me.scope, me.audit_seq, OrgId(id), &q).await?;
    Ok(Json(output::json(&r)).into_response())
}

/// The council report of a town as structured JSON (for the council information system).
#[utoipa::path(get, path = "/api/v1/organisations/{org_id}/council/report", tag = "council",
    params(("org_id" = i64, Path, description = "Organisation id"), EditionQuery),
    responses((status = 200, description = "The report: chapters with question, answer (yes/partial/no/unknown), paragraphs, figures, tables"),
              (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn api_town_report(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<i64>,
    Query(q): Query<EditionQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let r = build_town(&state, &api.scope, api.audit_seq, OrgId(id), &q).await?;
    Ok(Json(output::json(&r)))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct CostQuery {
    /// The office's yearly cost in euro (e.g. `250000` or `250000,50`).
    pub amount: Option<String>,
    /// Weight of inhabitants (default 1 when no weight is given).
    pub w_inhabitants: Option<String>,
    /// Weight of staff.
    pub w_staff: Option<String>,
    /// Weight of workstations.
    pub w_workstations: Option<String>,
}

impl CostQuery {
    fn cents(&self) -> Option<i64> {
        let raw = self.amount.as_deref()?.trim().replace(['.', ' ', '€'], "");
        if raw.is_empty() {
            return None;
        }
        let (e, c) = raw.split_once(',').unwrap_or((&raw, "0"));
        let euros: i64 = e.parse().ok()?;
        let mut c = c.to_string();
        if c.len() == 1 {
            c.push('0');
        }
        let cents: i64 = if c.len() == 2 {
            c.parse().ok()?
        } else {
            return None;
        };
        (0..=10_000_000_000)
            .contains(&euros)
            .then_some(euros * 100 + cents)
    }
    pub(super) fn key(&self) -> CostKey {
        let w = |s: &Option<String>| {
            s.as_deref()
                .and_then(|v| v.trim().parse::<u32>().ok())
                .unwrap_or(0)
                .min(1000)
        };
        let k = CostKey {
            inhabitants: w(&self.w_inhabitants),
            staff: w(&self.w_staff),
            workstations: w(&self.w_workstations),
        };
        if k.inhabitants + k.staff + k.workstations == 0 {
            CostKey::INHABITANTS
        } else {
            k
        }
    }
}

pub(super) async fn build_verbund(
    state: &AppState,
    scope: &Scope,
    audit_seq: i64,
    vid: VerbundId,
    q: &CostQuery,
) -> Result<Report, DomainError> {
    let (name, members, shared) = state.store.council_verbund_facts(scope, vid).await?;
    Ok(verbund_report(
        &VerbundInput {
            verbund_name: &name,
            members: &members,
            shared,
            office_cost_cents: q.cents(),
            key: q.key(),
        },
        today(),
        &format!("Datenstand {audit_seq}"),
    ))
}

pub async fn verbund_pdf(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<CostQuery>,
) -> Result<Response, PageError> {
    let r = build_verbund(&state, &me.scope, me.audit_seq, VerbundId(id), &q).await?;
    Ok(pdf_response(tr, r).await)
}

pub async fn verbund_html(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<CostQuery>,
) -> Result<Response, PageError> {
    let r = build_verbund(&state, &me.scope, me.audit_seq, VerbundId(id), &q).await?;
    Ok(html_response(&r))
}

pub async fn verbund_json(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<CostQuery>,
) -> Result<Response, PageError> {
    let r = build_verbund(&state, &me.scope, me.audit_seq, VerbundId(id), &q).await?;
    Ok(Json(output::json(&r)).into_response())
}

/// The Verbund report as structured JSON: the members side by side, shared measures, cost allocation.
#[utoipa::path(get, path = "/api/v1/verbuende/{verbund_id}/council/report", tag = "council",
    params(("verbund_id" = i64, Path, description = "Verbund id"), CostQuery),
    responses((status = 200, description = "The Verbund report"), (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn api_verbund_report(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<i64>,
    Query(q): Query<CostQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let r = build_verbund(&state, &api.scope, api.audit_seq, VerbundId(id), &q).await?;
    Ok(Json(output::json(&r)))
}
