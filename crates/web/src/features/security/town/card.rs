//! The dashboard's security card: each town's level and overdue measures.

use super::*;

// ---------------------------------------------------------------------------------------------
// The dashboard's card
// ---------------------------------------------------------------------------------------------

pub struct DashRow {
    pub org_id: OrgId,
    pub name: String,
    pub percent: String,
    pub value: u8,
    pub date: String,
    pub overdue: usize,
}

#[derive(Template)]
#[template(path = "security/dash.html")]
pub struct DashCard {
    pub tr: Tr,
    pub rows: Vec<DashRow>,
    pub verbuende: Vec<(VerbundId, String)>,
}

/// The security level of every town the user sees (from the latest finished assessment), for
/// the dashboard; empty when the user sees no town.
pub async fn dashboard_card(state: &AppState, me: &CurrentUser, tr: Tr) -> String {
    let Ok(orgs) = state.store.organisations(&me.scope).await else {
        return String::new();
    };
    let towns: Vec<&Organisation> = orgs
        .iter()
        .filter(|o| !o.is_office && me.scope.can(o.id, Access::Reports))
        .collect();
    if towns.is_empty() {
        return String::new();
    }
    let ids: Vec<OrgId> = towns.iter().map(|o| o.id).collect();
    let snaps = state
        .store
        .latest_snapshots(&me.scope, &ids)
        .await
        .unwrap_or_default();
    let overdue = state
        .store
        .overdue_measures(&me.scope, &ids, today())
        .await
        .unwrap_or_default();
    let rows = towns
        .iter()
        .map(|o| {
            let s = snaps.iter().find(|s| s.snapshot.organisation_id == o.id);
            let c = s.map(|s| s.snapshot.overall(ASecLevel::Erhoeht));
            DashRow {
                org_id: o.id,
                name: o.name.clone(),
                percent: c.as_ref().map(pct).unwrap_or_else(|| "–".into()),
                value: c.as_ref().map(pct_value).unwrap_or(0),
                date: s
                    .map(|s| format_date(s.snapshot.taken_on))
                    .unwrap_or_else(|| "–".into()),
                overdue: overdue.get(&o.id).copied().unwrap_or(0),
            }
        })
        .collect();
    let mut verbuende: Vec<(VerbundId, String)> = Vec::new();
    if let Ok(vs) = state.store.verbuende(&me.scope).await {
        for v in vs {
            if me.scope.manages_verbund(v.id) && !me.scope.admin {
                verbuende.push((v.id, v.name));
            }
        }
    }
    DashCard {
        tr,
        rows,
        verbuende,
    }
    .render()
    .unwrap_or_default()
}

#[derive(Deserialize, Default)]
pub struct EntryQuery {
    pub org: Option<i64>,
}

/// `/security[?org=N]`: the security level of a town the user sees, or where the user most
/// likely wants to go (the own town, or the Verbund's heatmap for the office).
pub async fn entry(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Query(q): Query<EntryQuery>,
) -> Response {
    if let Some(id) = q.org {
        if me.scope.access(OrgId(id)).is_none() {
            return fail(tr, DomainError::NotFound);
        }
        return axum::response::Redirect::to(&format!("/organisations/{id}/security"))
            .into_response();
    }
    if let Some(v) = me.scope.managed_verbuende().next() {
        return axum::response::Redirect::to(&format!("/verbuende/{v}/security")).into_response();
    }
    let orgs = state
        .store
        .organisations(&me.scope)
        .await
        .unwrap_or_default();
    match orgs.iter().find(|o| !o.is_office) {
        Some(o) => axum::response::Redirect::to(&format!("/organisations/{}/security", o.id))
            .into_response(),
        None => axum::response::Redirect::to("/dashboard").into_response(),
    }
}
