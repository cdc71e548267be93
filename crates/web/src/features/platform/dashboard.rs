//! The start page: every organisation the user may see, grouped by Verbund, and the Verbund pages.

use crate::auth::CurrentUser;
use crate::features::{done, fail, render, render_status, FlashQuery};
use crate::i18n::Tr;
use crate::view::{
    AuditRow, Chrome, DashboardPage, Detail, VerbuendePage, VerbundBlock, VerbundPage,
};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use stadtmauer_core::org::{OrgKind, OrganisationInput, Verbund};
use stadtmauer_core::validate::FieldErrors;
use stadtmauer_core::{Access, DomainError, OrgId, VerbundId};
use stadtmauer_store::audit::AuditFilter;
use stadtmauer_store::orgs::OrgSummary;
use std::collections::HashMap;

pub async fn home(me: Option<CurrentUser>) -> Response {
    Redirect::to(if me.is_some() { "/dashboard" } else { "/login" }).into_response()
}

fn block(verbund: Option<Verbund>, members: Vec<OrgSummary>, manages: bool) -> VerbundBlock {
    let sum = |f: fn(&OrgSummary) -> Option<i64>| members.iter().filter_map(f).sum();
    VerbundBlock {
        inhabitants: sum(|m| m.organisation.inhabitants),
        staff: sum(|m| m.organisation.staff),
        workstations: sum(|m| m.organisation.workstations),
        verbund,
        members,
        manages,
    }
}

/// Recent audit entries as rows with every changed field, organisation names resolved.
pub(crate) async fn recent_rows(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
    filter: AuditFilter,
) -> Result<Vec<AuditRow>, DomainError> {
    let names: HashMap<OrgId, String> = state
        .store
        .organisations(&me.scope)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    rows_named(state, me, tr, filter, &names, Detail::Full).await
}

/// Recent audit entries as rows, with organisation names from `names`.
async fn rows_named(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
    filter: AuditFilter,
    names: &HashMap<OrgId, String>,
    detail: Detail,
) -> Result<Vec<AuditRow>, DomainError> {
    let entries = state
        .store
        .audit_entries_at(&me.scope, &filter, me.audit_seq)
        .await?;
    Ok(entries
        .iter()
        .map(|e| {
            AuditRow::from_entry(tr, e, detail, |o| {
                o.and_then(|o| names.get(&o).cloned())
                    .unwrap_or_else(|| "–".into())
            })
        })
        .collect())
}

pub async fn dashboard(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Query(q): Query<FlashQuery>,
) -> Response {
    let summaries = match state.store.org_summaries_at(&me.scope, me.audit_seq).await {
        Ok(s) => s,
        Err(e) => return fail(tr, e),
    };
    // The Verbünde to show are those of the visible organisations; their names came along.
    let mut verbuende: Vec<Verbund> = Vec::new();
    for sm in &summaries {
        if let (Some(id), Some(name)) = (sm.organisation.verbund_id, &sm.verbund_name) {
            if !verbuende.iter().any(|v| v.id == id) {
                verbuende.push(Verbund {
                    id,
                    name: name.clone(),
                });
            }
        }
    }
    verbuende.sort_by(|a, b| a.name.cmp(&b.name));
    let org_count = summaries.len();
    let names: HashMap<OrgId, String> = summaries
        .iter()
        .map(|s| (s.organisation.id, s.organisation.name.clone()))
        .collect();
    let mut blocks = Vec::new();
    for v in verbuende {
        let members: Vec<OrgSummary> = summaries
            .iter()
            .filter(|s| s.organisation.verbund_id == Some(v.id))
            .cloned()
            .collect();
        if !members.is_empty() {
            let manages = me.scope.manages_verbund(v.id);
            blocks.push(block(Some(v), members, manages));
        }
    }
    let alone: Vec<OrgSummary> = summaries
        .into_iter()
        .filter(|s| s.organisation.verbund_id.is_none())
        .collect();
    if !alone.is_empty() {
        blocks.push(block(None, alone, false));
    }
    let rows = if me.scope.with(Access::Read).is_empty() {
        Vec::new()
    } else {
        match rows_named(
            &state,
            &me,
            tr,
            AuditFilter {
                limit: 8,
                ..Default::default()
            },
            &names,
            Detail::Summary,
        )
        .await
        {
            Ok(r) => r,
            Err(e) => return fail(tr, e),
        }
    };
    let c = Chrome::new(tr, &me, tr.s("dash.title"), "dashboard").with_flash(q.msg.as_deref());
    render(DashboardPage {
        c,
        blocks,
        org_count,
        rows,
        security_html: crate::features::security::town::dashboard_card(&state, &me, tr).await,
    })
}

pub async fn verbuende(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Query(q): Query<FlashQuery>,
) -> Response {
    let list = match state.store.verbuende(&me.scope).await {
        Ok(v) => v,
        Err(e) => return fail(tr, e),
    };
    let c = Chrome::new(tr, &me, tr.s("verbund.title"), "verbuende").with_flash(q.msg.as_deref());
    render(VerbuendePage {
        c,
        verbuende: list,
        can_create: me.scope.admin && !me.scope.read_only,
        name: String::new(),
        office: String::new(),
    })
}

#[derive(serde::Deserialize)]
pub struct NewVerbund {
    #[serde(default)]
    verbund_name: String,
    #[serde(default)]
    office_name: String,
}

pub async fn create_verbund(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Form(f): Form<NewVerbund>,
) -> Response {
    let office = OrganisationInput {
        name: f.office_name.clone(),
        kind: OrgKind::Zweckverband.as_str().into(),
        ..Default::default()
    }
    .validate();
    let result = match office {
        Ok(data) => {
            state
                .store
                .create_verbund(&me.scope, &f.verbund_name, &data)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok((id, _)) => done(&format!("/verbuende/{id}"), "msg.created"),
        Err(DomainError::Invalid(errs) | DomainError::Conflict(errs)) => {
            let list = state.store.verbuende(&me.scope).await.unwrap_or_default();
            let c = Chrome::new(tr, &me, tr.s("verbund.title"), "verbuende").with_errors(errs);
            render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                VerbuendePage {
                    c,
                    verbuende: list,
                    can_create: true,
                    name: f.verbund_name,
                    office: f.office_name,
                },
            )
        }
        Err(e) => fail(tr, e),
    }
}

#[derive(serde::Deserialize)]
pub struct RenameVerbund {
    #[serde(default)]
    verbund_name: String,
}

pub async fn rename_verbund(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<RenameVerbund>,
) -> Response {
    let id = VerbundId(id);
    match state
        .store
        .rename_verbund(&me.scope, id, &f.verbund_name)
        .await
    {
        Ok(()) => done(&format!("/verbuende/{id}"), "msg.saved"),
        Err(DomainError::Invalid(errs) | DomainError::Conflict(errs)) => {
            verbund_page(&state, tr, &me, id, errs, None).await
        }
        Err(e) => fail(tr, e),
    }
}

pub async fn verbund(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<FlashQuery>,
) -> Response {
    verbund_page(
        &state,
        tr,
        &me,
        VerbundId(id),
        FieldErrors::default(),
        q.msg.as_deref(),
    )
    .await
}

async fn verbund_page(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    id: VerbundId,
    errors: FieldErrors,
    flash: Option<&str>,
) -> Response {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let v = match state.store.verbund(&me.scope, id).await {
        Ok(v) => v,
        Err(e) => return fail(tr, e),
    };
    let members: Vec<OrgSummary> = match state.store.org_summaries(&me.scope).await {
        Ok(s) => s
            .into_iter()
            .filter(|s| s.organisation.verbund_id == Some(v.id))
            .collect(),
        Err(e) => return fail(tr, e),
    };
    let c = Chrome::new(tr, me, v.name.clone(), "verbuende")
        .with_errors(errors)
        .with_flash(flash);
    let manages = me.scope.manages_verbund(v.id);
    render_status(
        status,
        VerbundPage {
            c,
            block: block(Some(v), members, manages),
        },
    )
}
