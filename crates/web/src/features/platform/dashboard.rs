//! The start page: every organisation the user may see, grouped by Verbund, and the Verbund pages.

use crate::auth::CurrentUser;
use crate::features::{done, fail, render, render_status, FlashQuery};
use crate::i18n::{Lang, Tr};
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
use stadtmauer_core::{Access, DomainError, OrgId, Scope, UserId, VerbundId};
use stadtmauer_store::audit::AuditFilter;
use stadtmauer_store::orgs::OrgSummary;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};

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

/// The security card of the dashboard as last rendered for a user and language, and what it was
/// computed from.
struct Card {
    /// The application it was rendered by: tests run several, each on its own database, in one
    /// process. A `Weak` keeps the address from being reused while the card exists.
    app: Weak<crate::WebConfig>,
    scope: Scope,
    audit_seq: i64,
    /// UTC day number: the card counts measures overdue today.
    day: i64,
    html: Arc<str>,
}

/// Users whose card is kept; past that the cache starts over (it only ever saves work).
const CARDS_KEPT: usize = 10_000;

type Cards = HashMap<(usize, UserId, Lang), Card>;

fn cards() -> &'static Mutex<Cards> {
    static CARDS: OnceLock<Mutex<Cards>> = OnceLock::new();
    CARDS.get_or_init(Default::default)
}

/// The security card (each town's level and overdue measures). It takes four queries and parses
/// every town's latest snapshot — more than the rest of the dashboard together, which is cached —
/// and its content changes only with a write (the audit sequence number read with the session,
/// exact across processes like the store's cache), with the user's scope, or at midnight. So it
/// is rendered once per user, language, scope, sequence number and day.
async fn security_card(state: &AppState, me: &CurrentUser, tr: Tr) -> Arc<str> {
    let app = Arc::as_ptr(&state.config);
    let key = (app as usize, me.user.id, tr.lang);
    let day = stadtmauer_core::now().div_euclid(86_400);
    if let Some(card) = cards().lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        if std::ptr::eq(card.app.as_ptr(), app)
            && card.audit_seq == me.audit_seq
            && card.day == day
            && card.scope == me.scope
        {
            return card.html.clone();
        }
    }
    let html: Arc<str> = crate::features::security::town::dashboard_card(state, me, tr)
        .await
        .into();
    if !html.is_empty() {
        // An empty card may be a failed query: not kept, so the next request tries again.
        let mut cards = cards().lock().unwrap_or_else(|e| e.into_inner());
        if cards.len() >= CARDS_KEPT {
            cards.clear();
        }
        cards.insert(
            key,
            Card {
                app: Arc::downgrade(&state.config),
                scope: me.scope.clone(),
                audit_seq: me.audit_seq,
                day,
                html: html.clone(),
            },
        );
    }
    html
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
        security_html: security_card(&state, &me, tr).await,
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
