//! The town's inventory: the objects by kind, the kind filter (an htmx fragment) and the share of
//! operating models.

use super::*;
use crate::features::is_htmx;
use axum::http::HeaderMap;
use axum::response::Html;

/// The object's key attributes in one line, as the tables show them.
fn key_facts(tr: Tr, d: &ObjectData) -> String {
    let mut parts: Vec<String> = Vec::new();
    fn push(parts: &mut Vec<String>, s: &Option<String>) {
        if let Some(v) = s.as_deref().filter(|v| !v.is_empty()) {
            parts.push(v.to_string());
        }
    }
    match d.kind {
        ObjectKind::Process => {
            let mut kinds = Vec::new();
            if d.data_personal {
                kinds.push(tr.s("inv.f.data_personal"));
            }
            if d.data_special {
                kinds.push(tr.s("inv.f.data_special"));
            }
            if d.data_classified {
                kinds.push(tr.s("inv.f.data_classified"));
            }
            if !kinds.is_empty() {
                parts.push(kinds.join(", "));
            }
            push(&mut parts, &d.owner);
        }
        ObjectKind::Application => {
            push(&mut parts, &d.vendor);
            let product = match (&d.product, &d.version) {
                (Some(p), Some(v)) => Some(format!("{p} {v}")),
                (Some(p), None) => Some(p.clone()),
                (None, Some(v)) => Some(v.clone()),
                (None, None) => None,
            };
            push(&mut parts, &product);
            if let Some(m) = d.operating_model {
                parts.push(tr.s(m.label_key()).to_string());
            }
        }
        ObjectKind::System => {
            if let Some(t) = &d.system_type {
                parts.push(system_type_label(tr, t));
            }
            if let Some(n) = d.count {
                parts.push(tr.f("inv.count_n", &[("n", &tr.num(n))]));
            }
            push(&mut parts, &d.product);
        }
        ObjectKind::Provider => {
            push(&mut parts, &d.contact);
        }
        ObjectKind::Location | ObjectKind::Connection => {
            let short = d.description.as_deref().map(|s| {
                if s.chars().count() > 80 {
                    format!("{}…", s.chars().take(79).collect::<String>())
                } else {
                    s.to_string()
                }
            });
            push(&mut parts, &short);
        }
    }
    if parts.is_empty() {
        "–".into()
    } else {
        parts.join(" · ")
    }
}

fn percent(tr: Tr, part: i64, total: i64) -> String {
    let p = if total > 0 {
        (part * 1000 / total + 5) / 10
    } else {
        0
    };
    tr.f("inv.pct", &[("n", &p.to_string())])
}

pub struct Row {
    pub id: ObjectId,
    pub name: String,
    /// A shared provider of the Verbund (recorded by the office).
    pub shared: bool,
    pub facts: String,
    pub status: &'static str,
    pub levels: Vec<Badge>,
    pub overridden: bool,
}

pub struct Section {
    pub key: &'static str,
    pub title: &'static str,
    pub rows: Vec<Row>,
    /// "Add an object of this kind", when the user may.
    pub can_create: bool,
    pub create_label: String,
}

pub struct ShareRow {
    pub label: &'static str,
    pub count: i64,
    pub count_pct: String,
    pub weight: i64,
    pub weight_pct: String,
}

/// One entry of the kind filter.
pub struct KindTab {
    pub key: &'static str,
    pub label: &'static str,
    pub count: usize,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "inventory/sections.html")]
pub struct InvSections {
    pub tr: Tr,
    pub org_id: OrgId,
    pub tabs: Vec<KindTab>,
    pub all_current: bool,
    pub total: usize,
    pub sections: Vec<Section>,
}

#[derive(Template)]
#[template(path = "inventory/list.html")]
pub struct InvListPage {
    pub c: Chrome,
    pub org: Organisation,
    pub share: Vec<ShareRow>,
    pub share_total: i64,
    pub share_weight: i64,
    /// The kind the "create" button opens with, if the user may create anything.
    pub create_kind: Option<&'static str>,
    pub sections_html: String,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    pub msg: Option<String>,
    pub kind: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let org_id = OrgId(id);
    let org = state.store.organisation(&me.scope, org_id).await?;
    let objects = state.store.objects(&me.scope, org_id, None, true).await?;
    let filter = q.kind.as_deref().and_then(ObjectKind::parse);
    let tabs = ObjectKind::ALL
        .iter()
        .map(|k| KindTab {
            key: k.as_str(),
            label: tr.s(k.label_key()),
            count: objects.iter().filter(|o| o.data.kind == *k).count(),
            current: filter == Some(*k),
        })
        .collect();
    let sections = ObjectKind::ALL
        .iter()
        .filter(|k| filter.is_none_or(|f| f == **k))
        .map(|k| Section {
            key: k.as_str(),
            title: tr.s(k.label_key()),
            can_create: may_write(&me.scope, org_id, *k),
            create_label: tr.f("inv.create_kind", &[("kind", tr.s(k.label_key()))]),
            rows: objects
                .iter()
                .filter(|o| o.data.kind == *k)
                .map(|o| Row {
                    id: o.id,
                    name: o.data.name.clone(),
                    shared: o.data.shared,
                    facts: key_facts(tr, &o.data),
                    status: tr.s(o.data.status.label_key()),
                    levels: (0..3).map(|d| badge(tr, o.effective.get(d))).collect(),
                    overridden: o.override_value.is_some(),
                })
                .collect(),
        })
        .collect();
    let partial = InvSections {
        tr,
        org_id,
        tabs,
        all_current: filter.is_none(),
        total: objects.len(),
        sections,
    };
    let Ok(sections_html) = partial.render() else {
        return Ok(StatusCode::INTERNAL_SERVER_ERROR.into_response());
    };
    if is_htmx(&headers) {
        return Ok(Html(sections_html).into_response());
    }
    let share = state
        .store
        .hosting_share(&me.scope, org_id)
        .await
        .unwrap_or_default();
    let (share_total, share_weight) = share.total();
    let share = [
        (OperatingModel::SelfHosted.label_key(), share.self_hosted),
        (OperatingModel::Provider.label_key(), share.provider),
        (OperatingModel::Saas.label_key(), share.saas),
        ("inv.op.unknown", share.unknown),
    ]
    .into_iter()
    .map(|(key, (n, w))| ShareRow {
        label: tr.s(key),
        count: n,
        count_pct: percent(tr, n, share_total),
        weight: w,
        weight_pct: percent(tr, w, share_weight),
    })
    .collect();
    let create_kind = ObjectKind::ALL
        .iter()
        .find(|k| may_write(&me.scope, org_id, **k))
        .map(|k| k.as_str());
    let c = Chrome::new(
        tr,
        &me,
        tr.f("inv.title_of", &[("name", &org.name)]),
        "organisations",
    )
    .with_flash(q.msg.as_deref());
    Ok(render(InvListPage {
        c,
        org,
        share,
        share_total,
        share_weight,
        create_kind,
        sections_html,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn percentages_round() {
        let tr = Tr { lang: Lang::De };
        assert_eq!(percent(tr, 1, 3), tr.f("inv.pct", &[("n", "33")]));
        assert_eq!(percent(tr, 2, 3), tr.f("inv.pct", &[("n", "67")]));
        assert_eq!(percent(tr, 0, 0), tr.f("inv.pct", &[("n", "0")]));
    }
}
