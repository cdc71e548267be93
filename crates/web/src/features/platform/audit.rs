//! The audit log: every change, who made it, when, and what changed, within the user's scope.

use crate::auth::CurrentUser;
use crate::features::platform::dashboard::recent_rows;
use crate::features::{fail, render};
use crate::i18n::Tr;
use crate::view::{AuditPage, Chrome, OrgChoice};
use crate::AppState;
use axum::extract::{Query, State};
use axum::response::Response;
use stadtmauer_core::{Access, DomainError, OrgId};
use stadtmauer_store::audit::AuditFilter;

#[derive(serde::Deserialize, Default)]
pub struct AuditQuery {
    organisation: Option<String>,
    before: Option<i64>,
}

const PAGE: i64 = 50;

pub async fn list(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Query(q): Query<AuditQuery>,
) -> Response {
    if me.scope.with(Access::Read).is_empty() && !me.scope.admin {
        return fail(tr, DomainError::Forbidden);
    }
    let selected = q
        .organisation
        .as_deref()
        .and_then(|s| s.parse::<i64>().ok())
        .map(OrgId);
    if let Some(o) = selected {
        if !me.scope.can(o, Access::Read) {
            return fail(tr, DomainError::NotFound);
        }
    }
    let filter = AuditFilter {
        organisation: selected,
        before_seq: q.before,
        limit: PAGE,
    };
    let rows = match recent_rows(&state, &me, tr, filter).await {
        Ok(r) => r,
        Err(e) => return fail(tr, e),
    };
    let older = (rows.len() as i64 == PAGE).then(|| {
        let last = rows.last().map(|r| r.seq).unwrap_or(0);
        match selected {
            Some(o) => format!("/audit?organisation={o}&before={last}"),
            None => format!("/audit?before={last}"),
        }
    });
    let orgs = state
        .store
        .organisations(&me.scope)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|o| me.scope.can(o.id, Access::Read))
        .map(|o| OrgChoice {
            id: o.id,
            name: o.name,
        })
        .collect();
    let c = Chrome::new(tr, &me, tr.s("audit.title"), "audit");
    render(AuditPage {
        c,
        rows,
        orgs,
        selected,
        older,
    })
}
