//! The office's view over its members: open findings per town, the week's new KEV entries, patch
//! latency, and where notifications go.

use super::*;
use stadtmauer_core::validate::is_email;
use stadtmauer_store::updates::NotifyConfig;

pub struct TownCounts {
    pub org_id: OrgId,
    pub name: String,
    pub kev: usize,
    pub advisory: usize,
    pub unsupported: usize,
    pub eol_soon: usize,
    pub accepted: usize,
}

pub struct WeekHit {
    pub org_id: OrgId,
    pub name: String,
    pub product: String,
    pub cves: String,
}

#[derive(Template)]
#[template(path = "updates/verbund.html")]
pub struct VerbundPage {
    pub c: Chrome,
    pub verbund_id: VerbundId,
    pub verbund_name: String,
    pub rows: Vec<TownCounts>,
    pub week: Vec<WeekHit>,
    pub latency_count: usize,
    pub latency_median: String,
    pub latency_p90: String,
    pub can_manage: bool,
    pub webhook_url: String,
    pub email: String,
}

async fn verbund_view(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    v: VerbundId,
    errors: FieldErrors,
    flash: Option<&str>,
    form: Option<NotifyConfig>,
) -> Result<VerbundPage, DomainError> {
    let store = &state.store;
    let verbund = store.verbund(&me.scope, v).await?;
    let towns: Vec<Organisation> = store
        .organisations(&me.scope)
        .await?
        .into_iter()
        .filter(|o| o.verbund_id == Some(v) && me.scope.can(o.id, Access::Reports))
        .collect();
    for t in &towns {
        store.sync_findings(&me.scope, t.id).await?;
    }
    let ids: Vec<OrgId> = towns.iter().map(|t| t.id).collect();
    let all = store.findings_of(&me.scope, &ids, false).await?;
    let at = today();
    let week_start = at - time::Duration::days(7);
    let mut rows = Vec::new();
    let mut week = Vec::new();
    for t in &towns {
        let mut r = TownCounts {
            org_id: t.id,
            name: t.name.clone(),
            kev: 0,
            advisory: 0,
            unsupported: 0,
            eol_soon: 0,
            accepted: 0,
        };
        for f in all.iter().filter(|f| f.organisation_id == t.id) {
            let st = f.state(at);
            if !st.is_open() {
                r.accepted += 1;
                continue;
            }
            match f.kind.as_str() {
                "kev" => r.kev += 1,
                "advisory" => r.advisory += 1,
                "unsupported" => r.unsupported += 1,
                _ => r.eol_soon += 1,
            }
            if f.kind == "kev" {
                let recent: Vec<String> = f.detail["hits"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|h| {
                        h["date_added"]
                            .as_str()
                            .and_then(parse_date)
                            .is_some_and(|d| d > week_start && d <= at)
                    })
                    .map(|h| jstr(&h["cve"]))
                    .collect();
                if !recent.is_empty() {
                    week.push(WeekHit {
                        org_id: t.id,
                        name: t.name.clone(),
                        product: f.product_key.clone(),
                        cves: recent.join(", "),
                    });
                }
            }
        }
        rows.push(r);
    }
    let lat = store.patch_latency(&me.scope, &ids).await?;
    let days = |d: Option<i64>| d.map(|d| d.to_string()).unwrap_or_else(|| "–".into());
    let can_manage = me.scope.manages_verbund(v);
    let cfg = match form {
        Some(f) => f,
        None if can_manage => store.notify_config(&me.scope, v).await.unwrap_or_default(),
        None => NotifyConfig::default(),
    };
    Ok(VerbundPage {
        c: Chrome::new(
            tr,
            me,
            tr.f("upd.verbund.title", &[("name", &verbund.name)]),
            "verbuende",
        )
        .with_flash(flash)
        .with_errors(errors),
        verbund_id: v,
        verbund_name: verbund.name,
        rows,
        week,
        latency_count: lat.count,
        latency_median: days(lat.median),
        latency_p90: days(lat.p90),
        can_manage,
        webhook_url: cfg.webhook_url.unwrap_or_default(),
        email: cfg.email.unwrap_or_default(),
    })
}

pub async fn verbund(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<crate::features::FlashQuery>,
) -> Result<Response, PageError> {
    let page = verbund_view(
        &state,
        tr,
        &me,
        VerbundId(id),
        FieldErrors::default(),
        q.msg.as_deref(),
        None,
    )
    .await?;
    Ok(render(page))
}

#[derive(Deserialize, Default)]
pub struct NotifyForm {
    pub webhook_url: Option<String>,
    pub email: Option<String>,
}

pub async fn set_notify(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<NotifyForm>,
) -> Result<Response, PageError> {
    let v = VerbundId(id);
    // Who may change the settings first: anyone else gets 404 or 403 before the input is read.
    state.store.verbund(&me.scope, v).await?;
    if !me.scope.manages_verbund(v) {
        return Err(PageError::of(StatusCode::FORBIDDEN));
    }
    let cfg = NotifyConfig {
        webhook_url: f.webhook_url,
        email: f.email,
    };
    let bad_email = cfg
        .email
        .as_deref()
        .map(str::trim)
        .is_some_and(|e| !e.is_empty() && !is_email(&e.to_lowercase()));
    let saved = if bad_email {
        Err(DomainError::field("email", "err.email"))
    } else {
        state.store.set_notify_config(&me.scope, v, &cfg).await
    };
    match saved {
        Ok(()) => Ok(done(&format!("/verbuende/{id}/updates"), "msg.saved")),
        Err(DomainError::Invalid(errs)) => {
            let page = verbund_view(&state, tr, &me, v, errs, None, Some(cfg)).await?;
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, page))
        }
        Err(e) => Err(e.into()),
    }
}
