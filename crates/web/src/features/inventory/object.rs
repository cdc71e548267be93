//! The object page: its facts, Schutzbedarf and where it comes from, the override, and the
//! object's links.

use super::*;
use crate::features::FlashQuery;
use stadtmauer_inventory::model::OverrideInput;

/// One object on an explanation path; `id` is `None` for an object the viewer may not read.
pub struct Step {
    pub id: Option<ObjectId>,
    pub name: String,
}

pub struct DimView {
    pub label: &'static str,
    pub level: Badge,
    /// i18n key of where the value comes from when it is not inherited.
    pub source: &'static str,
    /// The objects that raised it, nearest first.
    pub path: Vec<Step>,
}

/// The path of objects a dimension's value was inherited along: the object it came from, where
/// that one got it from, and so on. Stops at objects the viewer may not read, and on cycles.
async fn explain(store: &Store, scope: &Scope, tr: Tr, o: &Object, d: usize) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut seen = BTreeSet::from([o.id]);
    let mut next = o.via[d];
    while let Some(id) = next {
        if !seen.insert(id) || steps.len() >= 50 {
            break;
        }
        match store.object(scope, id).await {
            Ok(p) => {
                next = p.via[d];
                steps.push(Step {
                    id: Some(p.id),
                    name: p.data.name,
                });
            }
            Err(_) => {
                steps.push(Step {
                    id: None,
                    name: tr.s("inv.other_town_object").to_string(),
                });
                break;
            }
        }
    }
    steps
}

pub struct Fact {
    pub label: &'static str,
    pub value: String,
}

fn facts(tr: Tr, d: &ObjectData) -> Vec<Fact> {
    let t = |v: &Option<String>| v.clone().unwrap_or_else(|| "–".into());
    let yes = |b: bool| tr.s(if b { "inv.yes" } else { "inv.no" }).to_string();
    let mut f = vec![
        Fact {
            label: tr.s("inv.f.status"),
            value: tr.s(d.status.label_key()).into(),
        },
        Fact {
            label: tr.s("inv.f.owner"),
            value: t(&d.owner),
        },
        Fact {
            label: tr.s("inv.f.description"),
            value: t(&d.description),
        },
    ];
    match d.kind {
        ObjectKind::Process => {
            f.push(Fact {
                label: tr.s("inv.f.data_personal"),
                value: yes(d.data_personal),
            });
            f.push(Fact {
                label: tr.s("inv.f.data_special"),
                value: yes(d.data_special),
            });
            f.push(Fact {
                label: tr.s("inv.f.data_classified"),
                value: yes(d.data_classified),
            });
        }
        ObjectKind::Application => {
            for (k, v) in [
                ("inv.f.vendor", &d.vendor),
                ("inv.f.product", &d.product),
                ("inv.f.version", &d.version),
                ("inv.f.vendor_country", &d.vendor_country),
            ] {
                f.push(Fact {
                    label: tr.s(k),
                    value: t(v),
                });
            }
            f.push(Fact {
                label: tr.s("inv.f.operating_model"),
                value: tr
                    .s(d.operating_model
                        .map(|m| m.label_key())
                        .unwrap_or("inv.op.unknown"))
                    .into(),
            });
        }
        ObjectKind::System => {
            f.push(Fact {
                label: tr.s("inv.f.system_type"),
                value: d
                    .system_type
                    .as_deref()
                    .map(|s| system_type_label(tr, s))
                    .unwrap_or_else(|| "–".into()),
            });
            f.push(Fact {
                label: tr.s("inv.f.count"),
                value: tr.opt_num(&d.count),
            });
            for (k, v) in [
                ("inv.f.vendor", &d.vendor),
                ("inv.f.product", &d.product),
                ("inv.f.version", &d.version),
            ] {
                f.push(Fact {
                    label: tr.s(k),
                    value: t(v),
                });
            }
        }
        ObjectKind::Provider => {
            f.push(Fact {
                label: tr.s("inv.f.contract"),
                value: t(&d.contract),
            });
            f.push(Fact {
                label: tr.s("inv.f.contact"),
                value: t(&d.contact),
            });
            f.push(Fact {
                label: tr.s("inv.f.shared"),
                value: yes(d.shared),
            });
        }
        ObjectKind::Location | ObjectKind::Connection => {}
    }
    f
}

/// A link as the detail page lists it: the other end.
pub struct LinkRow {
    pub id: LinkId,
    pub other: ObjectId,
    pub kind: &'static str,
    pub name: String,
}

#[derive(Template)]
#[template(path = "inventory/object.html")]
pub struct InvObjectPage {
    pub c: Chrome,
    pub obj: Object,
    pub kind_label: &'static str,
    pub org_name: Option<String>,
    pub facts: Vec<Fact>,
    pub dims: Vec<DimView>,
    /// Current override, translated: levels per dimension and the reason.
    pub override_levels: Option<Vec<Badge>>,
    pub can_write: bool,
    /// Overrides are the coordinator's decision (Access::Write), never on processes.
    pub can_override: bool,
    pub ovr_form: OverrideForm,
    pub uses: Vec<LinkRow>,
    pub used_by: Vec<LinkRow>,
    pub candidates: Vec<Opt>,
    pub diagram_alt: String,
    /// Installed software (systems and applications; update watch).
    pub software: Option<crate::features::updates::SoftwareSection>,
}

impl InvObjectPage {
    pub fn ovr_opts(&self, d: usize) -> Vec<Opt> {
        let v = match d {
            0 => &self.ovr_form.c,
            1 => &self.ovr_form.i,
            _ => &self.ovr_form.a,
        };
        level_opts(self.c.tr, Some(v.as_str()), None)
    }
    pub fn dim_label(&self, d: &usize) -> &'static str {
        self.c.tr.s(DIMS[*d % 3])
    }
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct OverrideForm {
    pub c: String,
    pub i: String,
    pub a: String,
    pub reason: String,
}

async fn object_page(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    id: ObjectId,
    errors: FieldErrors,
    ovr_form: Option<OverrideForm>,
    flash: Option<&str>,
) -> Result<InvObjectPage, DomainError> {
    let store = &state.store;
    let o = store.object(&me.scope, id).await?;
    let org_name = store
        .organisation(&me.scope, o.organisation_id)
        .await
        .ok()
        .map(|g| g.name);
    let mut dims = Vec::new();
    for (d, key) in DIMS.iter().enumerate() {
        let path = explain(store, &me.scope, tr, &o, d).await;
        let source = if !path.is_empty() {
            "inv.why.inherited"
        } else if o.override_value.is_some() {
            "inv.why.override"
        } else if o.data.kind == ObjectKind::Process {
            "inv.why.own"
        } else {
            "inv.why.default"
        };
        dims.push(DimView {
            label: tr.s(key),
            level: badge(tr, o.effective.get(d)),
            source,
            path,
        });
    }
    let (uses, used_by) = store.links_of(&me.scope, id).await?;
    let row = |l: &Link, other: &stadtmauer_inventory::model::ObjectRef| LinkRow {
        id: l.id,
        other: other.id,
        kind: tr.s(other.kind.label_key()),
        name: other.name.clone(),
    };
    let uses_rows: Vec<LinkRow> = uses.iter().map(|l| row(l, &l.to)).collect();
    let used_rows: Vec<LinkRow> = used_by.iter().map(|l| row(l, &l.from)).collect();
    let can_write = may_write(&me.scope, o.organisation_id, o.data.kind);
    let can_override =
        o.data.kind != ObjectKind::Process && me.scope.may(o.organisation_id, Access::Write);
    let candidates = if can_write {
        let linked: BTreeSet<ObjectId> = uses.iter().map(|l| l.to.id).collect();
        let all = store
            .objects(&me.scope, o.organisation_id, None, true)
            .await
            .unwrap_or_default();
        let mut v = vec![Opt {
            value: String::new(),
            label: "–".into(),
            selected: true,
        }];
        v.extend(
            all.into_iter()
                .filter(|t| {
                    t.id != o.id
                        && !linked.contains(&t.id)
                        && o.data.kind.may_depend_on(t.data.kind)
                })
                .map(|t| Opt {
                    value: t.id.to_string(),
                    label: format!("{} ({})", t.data.name, tr.s(t.data.kind.label_key())),
                    selected: false,
                }),
        );
        v
    } else {
        Vec::new()
    };
    let current = o.override_value.as_ref();
    let base = current.map(|ov| ov.value).unwrap_or(o.effective);
    let ovr_form = ovr_form.unwrap_or_else(|| OverrideForm {
        c: base.c.as_str().into(),
        i: base.i.as_str().into(),
        a: base.a.as_str().into(),
        reason: current.map(|ov| ov.reason.clone()).unwrap_or_default(),
    });
    let override_levels = current.map(|ov| (0..3).map(|d| badge(tr, ov.value.get(d))).collect());
    let c = Chrome::new(tr, me, o.data.name.clone(), "organisations")
        .with_flash(flash)
        .with_errors(errors);
    Ok(InvObjectPage {
        c,
        kind_label: tr.s(o.data.kind.label_key()),
        diagram_alt: tr.f(
            "inv.diagram.alt",
            &[
                ("name", &o.data.name),
                ("uses", &uses_rows.len().to_string()),
                ("used_by", &used_rows.len().to_string()),
            ],
        ),
        facts: facts(tr, &o.data),
        org_name,
        dims,
        override_levels,
        can_write,
        can_override,
        ovr_form,
        uses: uses_rows,
        used_by: used_rows,
        candidates,
        software: crate::features::updates::software_section(state, me, &o).await,
        obj: o,
    })
}

pub async fn show(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<FlashQuery>,
) -> Result<Response, PageError> {
    let page = object_page(
        &state,
        tr,
        &me,
        ObjectId(id),
        FieldErrors::default(),
        None,
        q.msg.as_deref(),
    )
    .await?;
    Ok(render(page))
}

/// Shows the detail page again with the refused form's messages (422), or the error page.
async fn refused(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    id: ObjectId,
    errs: FieldErrors,
    ovr: Option<OverrideForm>,
) -> Result<Response, PageError> {
    let page = object_page(state, tr, me, id, errs, ovr, None).await?;
    Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, page))
}

pub async fn set_override(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<OverrideForm>,
) -> Result<Response, PageError> {
    let id = ObjectId(id);
    let o = state.store.object(&me.scope, id).await?;
    if !me.scope.may(o.organisation_id, Access::Write) {
        return Err(PageError::of(StatusCode::FORBIDDEN));
    }
    let input = OverrideInput {
        c: f.c.clone(),
        i: f.i.clone(),
        a: f.a.clone(),
        reason: f.reason.clone(),
    };
    let result = match input.validate() {
        Ok(v) => state.store.set_override(&me.scope, id, Some(&v)).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(done(&format!("/inventory/{id}"), "msg.saved")),
        Err(DomainError::Invalid(errs)) => refused(&state, tr, &me, id, errs, Some(f)).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn remove_override(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let id = ObjectId(id);
    match state.store.set_override(&me.scope, id, None).await {
        Ok(()) => Ok(done(&format!("/inventory/{id}"), "msg.deleted")),
        Err(DomainError::Invalid(errs)) => refused(&state, tr, &me, id, errs, None).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LinkForm {
    pub to: String,
}

pub async fn add_link(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<LinkForm>,
) -> Result<Response, PageError> {
    let id = ObjectId(id);
    let o = state.store.object(&me.scope, id).await?;
    if !may_write(&me.scope, o.organisation_id, o.data.kind) {
        return Err(PageError::of(StatusCode::FORBIDDEN));
    }
    let result = match f.to.trim().parse::<i64>() {
        Ok(to) => state
            .store
            .add_link(&me.scope, id, ObjectId(to))
            .await
            .map(|_| ()),
        Err(_) => Err(DomainError::field("to", "err.choose_one")),
    };
    match result {
        Ok(()) => Ok(done(&format!("/inventory/{id}"), "msg.saved")),
        Err(DomainError::Invalid(errs) | DomainError::Conflict(errs)) => {
            refused(&state, tr, &me, id, errs, None).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Removes a link of the object in either direction ("uses" or "used by").
pub(super) async fn unlink(
    store: &Store,
    scope: &Scope,
    id: ObjectId,
    link: LinkId,
) -> Result<(), DomainError> {
    let (uses, used_by) = store.links_of(scope, id).await?;
    if uses.iter().any(|l| l.id == link) {
        return store.remove_link(scope, id, link).await;
    }
    match used_by.iter().find(|l| l.id == link) {
        Some(l) => store.remove_link(scope, l.from.id, link).await,
        None => Err(DomainError::NotFound),
    }
}

pub async fn remove_link(
    State(state): State<AppState>,
    me: CurrentUser,
    Path((id, link)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let id = ObjectId(id);
    unlink(&state.store, &me.scope, id, LinkId(link)).await?;
    Ok(done(&format!("/inventory/{id}"), "msg.deleted"))
}
