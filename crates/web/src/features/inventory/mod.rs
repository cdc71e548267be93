//! The Informationsverbund pages: objects of a town, their dependencies and Schutzbedarf, the
//! dependency diagram, the Verbund's provider concentration, and the inventory's JSON API.
//!
//! Handlers translate between HTTP and the store; every rule (who may write, which links are
//! allowed, how requirements are inherited) is the store's and the inventory crate's.

pub mod import;

use crate::api::ApiJson;
use crate::auth::{require_writable, ApiUser, CurrentUser};
use crate::error::{ApiError, Problem};
use crate::features::{done, fail, is_htmx, render, render_status, FlashQuery};
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::view::Chrome;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::{Form, Json};
use serde::Deserialize;
use stadtmauer_core::org::Organisation;
use stadtmauer_core::validate::FieldErrors;
use stadtmauer_core::{Access, DomainError, LinkId, ObjectId, OrgId, Scope, VerbundId};
use stadtmauer_inventory::model::{
    parse_flag, Level, Link, Object, ObjectData, ObjectInput, ObjectKind, OperatingModel,
    OverrideInput, Protection, Status, SYSTEM_TYPES,
};
use stadtmauer_store::Store;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt::Write as _;

pub(crate) fn routes() -> Routes {
    Routes::new(false, false)
        .get("/organisations/{org_id}/inventory", list)
        .get("/organisations/{org_id}/inventory/new", new_form)
        .post("/organisations/{org_id}/inventory", create)
        .get("/inventory/{object_id}", show)
        .post("/inventory/{object_id}", update)
        .get("/inventory/{object_id}/edit", edit_form)
        .post("/inventory/{object_id}/override", set_override)
        .post("/inventory/{object_id}/override/delete", remove_override)
        .post("/inventory/{object_id}/links", add_link)
        .post("/inventory/{object_id}/links/{link_id}/delete", remove_link)
        .get("/inventory/{object_id}/delete", delete_form)
        .post("/inventory/{object_id}/delete", delete)
        .get("/inventory/{object_id}/diagram.svg", diagram)
        .get("/verbuende/{verbund_id}/providers", providers)
        .get("/verbuende/{verbund_id}/providers.svg", providers_svg)
}

pub(crate) fn api_routes() -> Routes {
    Routes::new(true, false)
        .get("/api/v1/organisations/{org_id}/objects", api_list_objects)
        .post("/api/v1/organisations/{org_id}/objects", api_create_object)
        .get("/api/v1/objects/{object_id}", api_get_object)
        .patch("/api/v1/objects/{object_id}", api_update_object)
        .delete("/api/v1/objects/{object_id}", api_delete_object)
        .get("/api/v1/objects/{object_id}/links", api_links)
        .post("/api/v1/objects/{object_id}/links", api_add_link)
        .delete(
            "/api/v1/objects/{object_id}/links/{link_id}",
            api_remove_link,
        )
}

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

/// The access a kind needs: IT staff write technical records, coordinators everything.
fn need(kind: ObjectKind) -> Access {
    if kind.is_technical() {
        Access::WriteTechnical
    } else {
        Access::Write
    }
}

fn may_write(scope: &Scope, org: OrgId, kind: ObjectKind) -> bool {
    scope.require(org, need(kind)).is_ok()
}

const DIMS: [&str; 3] = ["inv.dim.c", "inv.dim.i", "inv.dim.a"];

/// A translated Schutzbedarf level.
pub struct Badge {
    pub label: &'static str,
    pub code: &'static str,
}

fn badge(tr: Tr, l: Level) -> Badge {
    Badge {
        label: tr.s(l.label_key()),
        code: l.as_str(),
    }
}

fn system_type_label(tr: Tr, t: &str) -> String {
    match SYSTEM_TYPES.iter().find(|s| **s == t) {
        Some(s) => tr.s(&format!("inv.systype.{s}")).to_string(),
        None => t.to_string(),
    }
}

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

/// What a form posts, turned into the input the domain validates. Checkboxes send a value only
/// when ticked.
fn input_from_form(m: &HashMap<String, String>) -> ObjectInput {
    let g = |k: &str| m.get(k).cloned();
    let opt = |k: &str| {
        m.get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    ObjectInput {
        kind: g("kind").unwrap_or_default(),
        name: g("name").unwrap_or_default(),
        description: g("description"),
        owner: g("owner"),
        status: opt("status"),
        data_personal: g("data_personal"),
        data_special: g("data_special"),
        data_classified: g("data_classified"),
        vendor: g("vendor"),
        product: g("product"),
        version: g("version"),
        operating_model: opt("operating_model"),
        vendor_country: g("vendor_country"),
        system_type: opt("system_type"),
        count: g("count"),
        contract: g("contract"),
        contact: g("contact"),
        shared: g("shared"),
        need_c: opt("need_c"),
        need_i: opt("need_i"),
        need_a: opt("need_a"),
    }
}

/// The stored data as form input (for editing, and as the base of an API PATCH).
fn input_of(d: &ObjectData) -> ObjectInput {
    let flag = |b: bool| b.then(|| "ja".to_string());
    ObjectInput {
        kind: d.kind.as_str().into(),
        name: d.name.clone(),
        description: d.description.clone(),
        owner: d.owner.clone(),
        status: Some(d.status.as_str().into()),
        data_personal: flag(d.data_personal),
        data_special: flag(d.data_special),
        data_classified: flag(d.data_classified),
        vendor: d.vendor.clone(),
        product: d.product.clone(),
        version: d.version.clone(),
        operating_model: d.operating_model.map(|m| m.as_str().into()),
        vendor_country: d.vendor_country.clone(),
        system_type: d.system_type.clone(),
        count: d.count.map(|n| n.to_string()),
        contract: d.contract.clone(),
        contact: d.contact.clone(),
        shared: flag(d.shared),
        need_c: d.own.map(|p| p.c.as_str().into()),
        need_i: d.own.map(|p| p.i.as_str().into()),
        need_a: d.own.map(|p| p.a.as_str().into()),
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

fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() > max {
        format!("{}…", s.chars().take(max - 1).collect::<String>())
    } else {
        s.to_string()
    }
}

fn svg_response(svg: String) -> Response {
    (
        [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")],
        svg,
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// 1. The town's inventory
// ---------------------------------------------------------------------------------------------

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
) -> Response {
    let org_id = OrgId(id);
    let org = match state.store.organisation(&me.scope, org_id).await {
        Ok(o) => o,
        Err(e) => return fail(tr, e),
    };
    let objects = match state.store.objects(&me.scope, org_id, None, true).await {
        Ok(o) => o,
        Err(e) => return fail(tr, e),
    };
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
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if is_htmx(&headers) {
        return Html(sections_html).into_response();
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
    render(InvListPage {
        c,
        org,
        share,
        share_total,
        share_weight,
        create_kind,
        sections_html,
    })
}

// ---------------------------------------------------------------------------------------------
// 2. Create and edit
// ---------------------------------------------------------------------------------------------

pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn opts<'a>(
    current: Option<&str>,
    empty: Option<&str>,
    items: impl IntoIterator<Item = (&'a str, String)>,
) -> Vec<Opt> {
    let cur = current.map(str::trim).unwrap_or("");
    let mut out = Vec::new();
    if let Some(e) = empty {
        out.push(Opt {
            value: String::new(),
            label: e.to_string(),
            selected: cur.is_empty(),
        });
    }
    for (v, l) in items {
        out.push(Opt {
            selected: v == cur,
            value: v.to_string(),
            label: l,
        });
    }
    out
}

fn level_opts(tr: Tr, current: Option<&str>, empty: Option<&str>) -> Vec<Opt> {
    let cur = current.and_then(Level::parse).map(|l| l.as_str());
    opts(
        cur.or(current),
        empty,
        Level::ALL
            .iter()
            .map(|l| (l.as_str(), tr.s(l.label_key()).to_string())),
    )
}

#[derive(Template)]
#[template(path = "inventory/form.html")]
pub struct InvFormPage {
    pub c: Chrome,
    pub org: Organisation,
    /// `None` when creating.
    pub object_id: Option<ObjectId>,
    pub kind: ObjectKind,
    pub form: ObjectInput,
}

impl InvFormPage {
    pub fn action(&self) -> String {
        match self.object_id {
            Some(id) => format!("/inventory/{id}"),
            None => format!("/organisations/{}/inventory", self.org.id),
        }
    }
    pub fn cancel(&self) -> String {
        match self.object_id {
            Some(id) => format!("/inventory/{id}"),
            None => format!("/organisations/{}/inventory", self.org.id),
        }
    }
    pub fn kind_label(&self) -> &'static str {
        self.c.tr.s(self.kind.label_key())
    }
    pub fn back_title(&self) -> String {
        self.c.tr.f("inv.title_of", &[("name", &self.org.name)])
    }
    pub fn kinds(&self) -> Vec<Opt> {
        let tr = self.c.tr;
        opts(
            Some(self.form.kind.as_str()),
            None,
            ObjectKind::ALL
                .iter()
                .map(|k| (k.as_str(), tr.s(k.label_key()).to_string())),
        )
    }
    pub fn statuses(&self) -> Vec<Opt> {
        let tr = self.c.tr;
        let cur = self
            .form
            .status
            .as_deref()
            .and_then(Status::parse)
            .unwrap_or(Status::Active);
        opts(
            Some(cur.as_str()),
            None,
            Status::ALL
                .iter()
                .map(|s| (s.as_str(), tr.s(s.label_key()).to_string())),
        )
    }
    pub fn models(&self) -> Vec<Opt> {
        let tr = self.c.tr;
        let cur = self.form.operating_model.as_deref();
        let norm = cur.and_then(OperatingModel::parse).map(|m| m.as_str());
        opts(
            norm.or(cur),
            Some(tr.s("inv.op.unknown")),
            OperatingModel::ALL
                .iter()
                .map(|m| (m.as_str(), tr.s(m.label_key()).to_string())),
        )
    }
    pub fn system_types(&self) -> Vec<Opt> {
        let tr = self.c.tr;
        opts(
            self.form.system_type.as_deref(),
            Some("–"),
            SYSTEM_TYPES.iter().map(|t| (*t, system_type_label(tr, t))),
        )
    }
    pub fn needs(&self, d: usize) -> Vec<Opt> {
        let v = match d {
            0 => &self.form.need_c,
            1 => &self.form.need_i,
            _ => &self.form.need_a,
        };
        level_opts(self.c.tr, v.as_deref(), Some("–"))
    }
    pub fn checked(&self, field: &str) -> bool {
        let v = match field {
            "data_personal" => &self.form.data_personal,
            "data_special" => &self.form.data_special,
            "data_classified" => &self.form.data_classified,
            _ => &self.form.shared,
        };
        parse_flag(v.as_deref()) == Some(true)
    }
    pub fn text<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
}

fn form_page(
    tr: Tr,
    me: &CurrentUser,
    org: Organisation,
    object_id: Option<ObjectId>,
    form: ObjectInput,
    errors: FieldErrors,
) -> InvFormPage {
    let kind = ObjectKind::parse(&form.kind).unwrap_or(ObjectKind::Process);
    let title = match object_id {
        Some(_) => tr.f("inv.edit_title", &[("name", &form.name)]),
        None => tr.s("inv.new_title").to_string(),
    };
    InvFormPage {
        c: Chrome::new(tr, me, title, "organisations").with_errors(errors),
        org,
        object_id,
        kind,
        form,
    }
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    pub kind: Option<String>,
}

pub async fn new_form(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<NewQuery>,
) -> Response {
    let org_id = OrgId(id);
    if me.scope.access(org_id).is_none() {
        return fail(tr, DomainError::NotFound);
    }
    let org = match state.store.organisation(&me.scope, org_id).await {
        Ok(o) => o,
        Err(e) => return fail(tr, e),
    };
    let kind = q
        .kind
        .as_deref()
        .and_then(ObjectKind::parse)
        .or_else(|| {
            ObjectKind::ALL
                .into_iter()
                .find(|k| may_write(&me.scope, org_id, *k))
        })
        .unwrap_or(ObjectKind::Process);
    if !may_write(&me.scope, org_id, kind) {
        return fail(tr, DomainError::Forbidden);
    }
    let form = ObjectInput {
        kind: kind.as_str().into(),
        status: Some(Status::Active.as_str().into()),
        ..Default::default()
    };
    render(form_page(tr, &me, org, None, form, FieldErrors::default()))
}

pub async fn create(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let org_id = OrgId(id);
    if me.scope.access(org_id).is_none() {
        return fail(tr, DomainError::NotFound);
    }
    let input = input_from_form(&f);
    let kind = ObjectKind::parse(&input.kind).unwrap_or(ObjectKind::System);
    if !may_write(&me.scope, org_id, kind) {
        return fail(tr, DomainError::Forbidden);
    }
    let result = match input.validate() {
        Ok(data) => state.store.create_object(&me.scope, org_id, &data).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(oid) => done(&format!("/inventory/{oid}"), "msg.created"),
        Err(DomainError::Invalid(errs) | DomainError::Conflict(errs)) => {
            let org = match state.store.organisation(&me.scope, org_id).await {
                Ok(o) => o,
                Err(e) => return fail(tr, e),
            };
            render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                form_page(tr, &me, org, None, input, errs),
            )
        }
        Err(e) => fail(tr, e),
    }
}

/// The object and its organisation, or the error page.
async fn object_and_org(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    id: ObjectId,
) -> Result<(Object, Option<Organisation>), Response> {
    let o = state
        .store
        .object(&me.scope, id)
        .await
        .map_err(|e| fail(tr, e))?;
    // A town's user reads the Verbund's shared providers without reading the office itself.
    let org = state
        .store
        .organisation(&me.scope, o.organisation_id)
        .await
        .ok();
    Ok((o, org))
}

pub async fn edit_form(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Response {
    let (o, org) = match object_and_org(&state, tr, &me, ObjectId(id)).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(org) = org.filter(|_| may_write(&me.scope, o.organisation_id, o.data.kind)) else {
        return fail(tr, DomainError::Forbidden);
    };
    let form = input_of(&o.data);
    render(form_page(
        tr,
        &me,
        org,
        Some(o.id),
        form,
        FieldErrors::default(),
    ))
}

pub async fn update(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let (o, org) = match object_and_org(&state, tr, &me, ObjectId(id)).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(org) = org.filter(|_| may_write(&me.scope, o.organisation_id, o.data.kind)) else {
        return fail(tr, DomainError::Forbidden);
    };
    let mut input = input_from_form(&f);
    // The kind is fixed; the form carries it only to show the right fields.
    input.kind = o.data.kind.as_str().into();
    let result = match input.validate() {
        Ok(data) => state.store.update_object(&me.scope, o.id, &data).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => done(&format!("/inventory/{}", o.id), "msg.saved"),
        Err(DomainError::Invalid(errs) | DomainError::Conflict(errs)) => render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            form_page(tr, &me, org, Some(o.id), input, errs),
        ),
        Err(e) => fail(tr, e),
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Object detail: Schutzbedarf and why, override, links
// ---------------------------------------------------------------------------------------------

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
) -> Response {
    match object_page(
        &state,
        tr,
        &me,
        ObjectId(id),
        FieldErrors::default(),
        None,
        q.msg.as_deref(),
    )
    .await
    {
        Ok(p) => render(p),
        Err(e) => fail(tr, e),
    }
}

/// Shows the detail page again with the refused form's messages (422), or the error page.
async fn refused(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    id: ObjectId,
    errs: FieldErrors,
    ovr: Option<OverrideForm>,
) -> Response {
    match object_page(state, tr, me, id, errs, ovr, None).await {
        Ok(p) => render_status(StatusCode::UNPROCESSABLE_ENTITY, p),
        Err(e) => fail(tr, e),
    }
}

pub async fn set_override(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<OverrideForm>,
) -> Response {
    let id = ObjectId(id);
    let o = match state.store.object(&me.scope, id).await {
        Ok(o) => o,
        Err(e) => return fail(tr, e),
    };
    if !me.scope.may(o.organisation_id, Access::Write) {
        return fail(tr, DomainError::Forbidden);
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
        Ok(()) => done(&format!("/inventory/{id}"), "msg.saved"),
        Err(DomainError::Invalid(errs)) => refused(&state, tr, &me, id, errs, Some(f)).await,
        Err(e) => fail(tr, e),
    }
}

pub async fn remove_override(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Response {
    let id = ObjectId(id);
    match state.store.set_override(&me.scope, id, None).await {
        Ok(()) => done(&format!("/inventory/{id}"), "msg.deleted"),
        Err(DomainError::Invalid(errs)) => refused(&state, tr, &me, id, errs, None).await,
        Err(e) => fail(tr, e),
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
) -> Response {
    let id = ObjectId(id);
    let o = match state.store.object(&me.scope, id).await {
        Ok(o) => o,
        Err(e) => return fail(tr, e),
    };
    if !may_write(&me.scope, o.organisation_id, o.data.kind) {
        return fail(tr, DomainError::Forbidden);
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
        Ok(()) => done(&format!("/inventory/{id}"), "msg.saved"),
        Err(DomainError::Invalid(errs) | DomainError::Conflict(errs)) => {
            refused(&state, tr, &me, id, errs, None).await
        }
        Err(e) => fail(tr, e),
    }
}

/// Removes a link of the object in either direction ("uses" or "used by").
async fn unlink(
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
    tr: Tr,
    me: CurrentUser,
    Path((id, link)): Path<(i64, i64)>,
) -> Response {
    let id = ObjectId(id);
    match unlink(&state.store, &me.scope, id, LinkId(link)).await {
        Ok(()) => done(&format!("/inventory/{id}"), "msg.deleted"),
        Err(e) => fail(tr, e),
    }
}

#[derive(Template)]
#[template(path = "inventory/delete.html")]
pub struct InvDeletePage {
    pub c: Chrome,
    pub obj: Object,
    pub dependents: Vec<LinkRow>,
}

pub async fn delete_form(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Response {
    let o = match state.store.object(&me.scope, ObjectId(id)).await {
        Ok(o) => o,
        Err(e) => return fail(tr, e),
    };
    if !may_write(&me.scope, o.organisation_id, o.data.kind) {
        return fail(tr, DomainError::Forbidden);
    }
    let (_, used_by) = match state.store.links_of(&me.scope, o.id).await {
        Ok(l) => l,
        Err(e) => return fail(tr, e),
    };
    let dependents = used_by
        .iter()
        .map(|l| LinkRow {
            id: l.id,
            other: l.from.id,
            kind: tr.s(l.from.kind.label_key()),
            name: l.from.name.clone(),
        })
        .collect();
    let c = Chrome::new(
        tr,
        &me,
        tr.f("inv.delete_title", &[("name", &o.data.name)]),
        "organisations",
    );
    render(InvDeletePage {
        c,
        obj: o,
        dependents,
    })
}

pub async fn delete(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Response {
    let o = match state.store.object(&me.scope, ObjectId(id)).await {
        Ok(o) => o,
        Err(e) => return fail(tr, e),
    };
    match state.store.delete_object(&me.scope, o.id).await {
        Ok(()) => done(
            &format!("/organisations/{}/inventory", o.organisation_id),
            "msg.deleted",
        ),
        Err(e) => fail(tr, e),
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Dependency diagram (SVG, laid out by hand: columns by kind, rows by name)
// ---------------------------------------------------------------------------------------------

/// Most objects a diagram shows.
const DIAGRAM_CAP: usize = 150;

fn column(kind: ObjectKind) -> usize {
    match kind {
        ObjectKind::Process => 0,
        ObjectKind::Application => 1,
        ObjectKind::System => 2,
        ObjectKind::Location | ObjectKind::Connection | ObjectKind::Provider => 3,
    }
}

fn level_colour(l: Level) -> &'static str {
    match l {
        Level::Normal => "#1e6b34",
        Level::Hoch => "#9a4d00",
        Level::SehrHoch => "#a4161a",
    }
}

/// The object, everything it depends on and everything that depends on it (readable only),
/// up to `DIAGRAM_CAP` objects. Returns the objects, the links between them, and whether the
/// picture had to be cut.
async fn neighbourhood(
    store: &Store,
    scope: &Scope,
    root: Object,
) -> Result<
    (
        BTreeMap<ObjectId, Object>,
        BTreeSet<(ObjectId, ObjectId)>,
        bool,
    ),
    DomainError,
> {
    let root_id = root.id;
    let mut nodes = BTreeMap::from([(root_id, root)]);
    let mut edges = BTreeSet::new();
    let mut truncated = false;
    for downstream in [true, false] {
        let mut queue = VecDeque::from([root_id]);
        let mut seen = BTreeSet::from([root_id]);
        while let Some(id) = queue.pop_front() {
            let (uses, used_by) = store.links_of(scope, id).await?;
            let list = if downstream { uses } else { used_by };
            for l in list {
                let other = if downstream { &l.to } else { &l.from };
                if !nodes.contains_key(&other.id) {
                    if nodes.len() >= DIAGRAM_CAP {
                        truncated = true;
                        continue;
                    }
                    let Ok(obj) = store.object(scope, other.id).await else {
                        continue;
                    };
                    nodes.insert(other.id, obj);
                }
                edges.insert((l.from.id, l.to.id));
                if seen.insert(other.id) {
                    queue.push_back(other.id);
                }
            }
        }
    }
    Ok((nodes, edges, truncated))
}

const BOX_W: i64 = 250;
const BOX_H: i64 = 50;
const COL_GAP: i64 = 90;
const ROW_GAP: i64 = 14;
const TOP: i64 = 74;
const LEFT: i64 = 20;

fn level_line(tr: Tr, p: &Protection) -> String {
    let short = |l: Level| tr.s(l.label_key());
    tr.f(
        "inv.diagram.levels",
        &[("c", short(p.c)), ("i", short(p.i)), ("a", short(p.a))],
    )
}

fn diagram_svg(
    tr: Tr,
    root: ObjectId,
    nodes: &BTreeMap<ObjectId, Object>,
    edges: &BTreeSet<(ObjectId, ObjectId)>,
    truncated: bool,
) -> String {
    // Columns by kind (only those present), rows by kind then name.
    let mut cols: BTreeMap<usize, Vec<&Object>> = BTreeMap::new();
    for o in nodes.values() {
        cols.entry(column(o.data.kind)).or_default().push(o);
    }
    for v in cols.values_mut() {
        v.sort_by(|a, b| {
            (a.data.kind, a.data.name.to_lowercase())
                .cmp(&(b.data.kind, b.data.name.to_lowercase()))
        });
    }
    let mut pos: HashMap<ObjectId, (i64, i64)> = HashMap::new();
    let mut col_titles = Vec::new();
    for (ci, (col, objs)) in cols.iter().enumerate() {
        let x = LEFT + ci as i64 * (BOX_W + COL_GAP);
        col_titles.push((x, *col));
        for (ri, o) in objs.iter().enumerate() {
            pos.insert(o.id, (x, TOP + ri as i64 * (BOX_H + ROW_GAP)));
        }
    }
    let rows = cols.values().map(Vec::len).max().unwrap_or(1) as i64;
    let width = LEFT * 2 + cols.len().max(1) as i64 * (BOX_W + COL_GAP) - COL_GAP + 40;
    let height = TOP + rows * (BOX_H + ROW_GAP) + if truncated { 50 } else { 20 };
    let root_name = nodes.get(&root).map(|o| o.data.name.as_str()).unwrap_or("");
    let title = tr.f("inv.diagram.title", &[("name", root_name)]);
    let desc = tr.f(
        "inv.diagram.desc",
        &[
            ("objects", &nodes.len().to_string()),
            ("links", &edges.len().to_string()),
        ],
    );
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" aria-labelledby="t d" font-family="system-ui, sans-serif" font-size="13"><title id="t">{}</title><desc id="d">{}</desc>"##,
        xml(&title),
        xml(&desc)
    );
    s.push_str(r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#4a5560"/></marker></defs>"##);
    let _ = write!(
        s,
        r##"<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/><text x="{LEFT}" y="24" font-size="15" font-weight="bold" fill="#1b1f24">{}</text>"##,
        xml(&title)
    );
    for (x, col) in &col_titles {
        let key = match col {
            0 => "inv.kind.process",
            1 => "inv.kind.application",
            2 => "inv.kind.system",
            _ => "inv.diagram.infrastructure",
        };
        let _ = write!(
            s,
            r##"<text x="{x}" y="56" font-weight="bold" fill="#4a5560">{}</text>"##,
            xml(tr.s(key))
        );
    }
    // Arrows first, boxes on top.
    for (from, to) in edges {
        let (Some(&(fx, fy)), Some(&(tx, ty))) = (pos.get(from), pos.get(to)) else {
            continue;
        };
        let (fy, ty) = (fy + BOX_H / 2, ty + BOX_H / 2);
        if fx < tx {
            let (x1, x2) = (fx + BOX_W, tx);
            let mid = (x1 + x2) / 2;
            let _ = write!(
                s,
                r##"<path d="M {x1} {fy} C {mid} {fy}, {mid} {ty}, {x2} {ty}" fill="none" stroke="#4a5560" stroke-width="1.5" marker-end="url(#arrow)"/>"##
            );
        } else if fx > tx {
            let (x1, x2) = (fx, tx + BOX_W);
            let mid = (x1 + x2) / 2;
            let _ = write!(
                s,
                r##"<path d="M {x1} {fy} C {mid} {fy}, {mid} {ty}, {x2} {ty}" fill="none" stroke="#4a5560" stroke-width="1.5" marker-end="url(#arrow)"/>"##
            );
        } else {
            // Same column: a bow on the right-hand side.
            let x = fx + BOX_W;
            let bow = x + 30 + (fy - ty).abs() / 8;
            let _ = write!(
                s,
                r##"<path d="M {x} {fy} C {bow} {fy}, {bow} {ty}, {x} {ty}" fill="none" stroke="#4a5560" stroke-width="1.5" stroke-dasharray="4 3" marker-end="url(#arrow)"/>"##
            );
        }
    }
    for o in nodes.values() {
        let Some(&(x, y)) = pos.get(&o.id) else {
            continue;
        };
        let max = o.effective.max();
        let is_root = o.id == root;
        let (stroke, sw) = if is_root {
            ("#1d4f73", 3)
        } else {
            ("#6b7680", 1)
        };
        let _ = write!(
            s,
            r##"<g><rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="4" fill="#ffffff" stroke="{stroke}" stroke-width="{sw}"/><rect x="{x}" y="{y}" width="8" height="{BOX_H}" fill="{}"/>"##,
            level_colour(max)
        );
        let name = shorten(&o.data.name, 24);
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" font-weight="bold" fill="#1b1f24">{}</text><text x="{}" y="{}" font-size="11" fill="#4a5560">{}</text></g>"##,
            x + 16,
            y + 20,
            xml(&name),
            x + 16,
            y + 39,
            xml(&level_line(tr, &o.effective))
        );
    }
    if truncated {
        let _ = write!(
            s,
            r##"<text x="{LEFT}" y="{}" fill="#a4161a" font-weight="bold">{}</text>"##,
            height - 18,
            xml(&tr.f("inv.diagram.truncated", &[("n", &DIAGRAM_CAP.to_string())]))
        );
    }
    s.push_str("</svg>");
    s
}

pub async fn diagram(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Response {
    let root = match state.store.object(&me.scope, ObjectId(id)).await {
        Ok(o) => o,
        Err(e) => return fail(tr, e),
    };
    let root_id = root.id;
    match neighbourhood(&state.store, &me.scope, root).await {
        Ok((nodes, edges, truncated)) => {
            svg_response(diagram_svg(tr, root_id, &nodes, &edges, truncated))
        }
        Err(e) => fail(tr, e),
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Provider concentration across the Verbund
// ---------------------------------------------------------------------------------------------

pub struct ProcView {
    pub id: ObjectId,
    pub name: String,
    pub availability: Badge,
}

pub struct TownView {
    pub name: String,
    pub processes: Vec<ProcView>,
}

pub struct ProviderView {
    pub id: ObjectId,
    pub name: String,
    pub shared: bool,
    pub headline: String,
    /// "Of these, n need high availability", when any do.
    pub critical_line: Option<String>,
    pub towns: Vec<TownView>,
}

#[derive(Template)]
#[template(path = "inventory/providers.html")]
pub struct InvProvidersPage {
    pub c: Chrome,
    pub verbund_id: VerbundId,
    pub providers: Vec<ProviderView>,
}

/// The Verbund (if visible) and what halts when each of its providers fails, for the page and
/// its graph alike.
async fn verbund_impacts(
    state: &AppState,
    me: &CurrentUser,
    vid: VerbundId,
) -> Result<
    (
        stadtmauer_core::org::Verbund,
        Vec<stadtmauer_store::inventory::ProviderImpact>,
    ),
    DomainError,
> {
    let verbund = state.store.verbund(&me.scope, vid).await?;
    let impacts = state
        .store
        .provider_concentration_at(&me.scope, vid, me.audit_seq)
        .await?;
    Ok((verbund, impacts))
}

pub async fn providers(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Response {
    let vid = VerbundId(id);
    let (verbund, impacts) = match verbund_impacts(&state, &me, vid).await {
        Ok(x) => x,
        Err(e) => return fail(tr, e),
    };
    let providers = impacts
        .into_iter()
        .map(|p| {
            let mut towns: Vec<TownView> = Vec::new();
            for entry in p.processes.iter() {
                let (proc_ref, town, prot) = &**entry;
                let view = ProcView {
                    id: proc_ref.id,
                    name: proc_ref.name.clone(),
                    availability: badge(tr, prot.a),
                };
                match towns.iter_mut().find(|t| t.name == *town) {
                    Some(t) => t.processes.push(view),
                    None => towns.push(TownView {
                        name: town.clone(),
                        processes: vec![view],
                    }),
                }
            }
            // Most affected town first; within a town, the highest availability need first.
            for t in &mut towns {
                t.processes.sort_by(|a, b| {
                    b.availability
                        .code
                        .cmp(a.availability.code)
                        .then(a.name.cmp(&b.name))
                });
            }
            towns.sort_by(|a, b| {
                b.processes
                    .len()
                    .cmp(&a.processes.len())
                    .then(a.name.cmp(&b.name))
            });
            let headline = if p.processes.is_empty() {
                tr.f("inv.prov.none_halt", &[("name", &p.provider.name)])
            } else {
                tr.f(
                    "inv.prov.halt",
                    &[
                        ("name", &p.provider.name),
                        ("n", &p.processes.len().to_string()),
                        ("towns", &p.towns.to_string()),
                    ],
                )
            };
            ProviderView {
                id: p.provider.id,
                name: p.provider.name,
                shared: p.shared,
                headline,
                critical_line: (p.critical > 0)
                    .then(|| tr.f("inv.prov.critical", &[("n", &p.critical.to_string())])),
                towns,
            }
        })
        .collect();
    let c = Chrome::new(
        tr,
        &me,
        tr.f("inv.prov.title", &[("name", &verbund.name)]),
        "verbuende",
    );
    render(InvProvidersPage {
        c,
        verbund_id: vid,
        providers,
    })
}

pub async fn providers_svg(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Response {
    let vid = VerbundId(id);
    let (verbund, impacts) = match verbund_impacts(&state, &me, vid).await {
        Ok(x) => x,
        Err(e) => return fail(tr, e),
    };
    const CAP: usize = 60;
    let truncated = impacts.len() > CAP;
    let impacts: Vec<_> = impacts.into_iter().take(CAP).collect();
    // Towns in the order of how many processes of theirs depend on providers.
    let mut towns: BTreeMap<OrgId, (String, usize)> = BTreeMap::new();
    let mut edges: BTreeMap<(usize, OrgId), usize> = BTreeMap::new();
    for (pi, p) in impacts.iter().enumerate() {
        for entry in &p.processes {
            let (proc_ref, town, _) = &**entry;
            let t = towns
                .entry(proc_ref.organisation_id)
                .or_insert_with(|| (town.clone(), 0));
            t.1 += 1;
            *edges.entry((pi, proc_ref.organisation_id)).or_default() += 1;
        }
    }
    let mut town_order: Vec<(OrgId, String, usize)> =
        towns.into_iter().map(|(id, (n, c))| (id, n, c)).collect();
    town_order.sort_by(|a, b| b.2.cmp(&a.2).then(a.1.cmp(&b.1)));
    let town_y: HashMap<OrgId, i64> = town_order
        .iter()
        .enumerate()
        .map(|(i, t)| (t.0, TOP + i as i64 * (BOX_H + ROW_GAP)))
        .collect();
    let rows = impacts.len().max(town_order.len()).max(1) as i64;
    let (px, tx) = (LEFT, LEFT + BOX_W + 260);
    let width = tx + BOX_W + LEFT;
    let height = TOP + rows * (BOX_H + ROW_GAP) + if truncated { 50 } else { 20 };
    let title = tr.f("inv.prov.title", &[("name", &verbund.name)]);
    let desc = tr.f(
        "inv.prov.svg_desc",
        &[
            ("providers", &impacts.len().to_string()),
            ("towns", &town_order.len().to_string()),
        ],
    );
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" aria-labelledby="t d" font-family="system-ui, sans-serif" font-size="13"><title id="t">{}</title><desc id="d">{}</desc><rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>"##,
        xml(&title),
        xml(&desc)
    );
    let _ = write!(
        s,
        r##"<text x="{LEFT}" y="24" font-size="15" font-weight="bold" fill="#1b1f24">{}</text><text x="{px}" y="56" font-weight="bold" fill="#4a5560">{}</text><text x="{tx}" y="56" font-weight="bold" fill="#4a5560">{}</text>"##,
        xml(&title),
        xml(tr.s("inv.kind.provider")),
        xml(tr.s("inv.prov.towns"))
    );
    for ((pi, town), n) in &edges {
        let Some(ty) = town_y.get(town) else { continue };
        let py = TOP + *pi as i64 * (BOX_H + ROW_GAP) + BOX_H / 2;
        let ty = ty + BOX_H / 2;
        let (x1, x2) = (px + BOX_W, tx);
        let mid = (x1 + x2) / 2;
        let w = 1.0 + (*n as f64).min(14.0);
        let _ = write!(
            s,
            r##"<path d="M {x1} {py} C {mid} {py}, {mid} {ty}, {x2} {ty}" fill="none" stroke="#1d4f73" stroke-opacity="0.55" stroke-width="{w:.1}"/>"##
        );
    }
    for (pi, p) in impacts.iter().enumerate() {
        let y = TOP + pi as i64 * (BOX_H + ROW_GAP);
        let line = tr.f(
            "inv.prov.svg_line",
            &[
                ("n", &p.processes.len().to_string()),
                ("towns", &p.towns.to_string()),
            ],
        );
        let _ = write!(
            s,
            r##"<g><rect x="{px}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="4" fill="#ffffff" stroke="#6b7680"/><text x="{}" y="{}" font-weight="bold" fill="#1b1f24">{}</text><text x="{}" y="{}" font-size="11" fill="#4a5560">{}</text></g>"##,
            px + 10,
            y + 20,
            xml(&shorten(&p.provider.name, 24)),
            px + 10,
            y + 39,
            xml(&line)
        );
    }
    for (id, name, n) in &town_order {
        let Some(&y) = town_y.get(id) else { continue };
        let line = tr.f("inv.prov.svg_town", &[("n", &n.to_string())]);
        let _ = write!(
            s,
            r##"<g><rect x="{tx}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="4" fill="#ffffff" stroke="#6b7680"/><text x="{}" y="{}" font-weight="bold" fill="#1b1f24">{}</text><text x="{}" y="{}" font-size="11" fill="#4a5560">{}</text></g>"##,
            tx + 10,
            y + 20,
            xml(&shorten(name, 24)),
            tx + 10,
            y + 39,
            xml(&line)
        );
    }
    if truncated {
        let _ = write!(
            s,
            r##"<text x="{LEFT}" y="{}" fill="#a4161a" font-weight="bold">{}</text>"##,
            height - 18,
            xml(&tr.f("inv.prov.svg_truncated", &[("n", &CAP.to_string())]))
        );
    }
    s.push_str("</svg>");
    svg_response(s)
}

// ---------------------------------------------------------------------------------------------
// 6. JSON API
// ---------------------------------------------------------------------------------------------

type ApiResult<T> = Result<T, ApiError>;

#[utoipa::path(get, path = "/api/v1/organisations/{org_id}/objects", tag = "inventory",
    params(("org_id" = i64, Path, description = "Organisation id")),
    responses((status = 200, description = "The town's objects and the Verbund's shared providers", body = [Object]),
              (status = 404, body = Problem)), security(("token" = [])))]
pub async fn api_list_objects(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<Object>>> {
    Ok(Json(
        state
            .store
            .objects(&api.scope, OrgId(id), None, true)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/organisations/{org_id}/objects", tag = "inventory", request_body = ObjectInput,
    params(("org_id" = i64, Path, description = "Organisation id")),
    responses((status = 201, body = Object), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn api_create_object(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<ObjectInput>,
) -> ApiResult<Response> {
    let org = OrgId(id);
    if api.scope.access(org).is_none() {
        return Err(ApiError::NotFound);
    }
    require_writable(&api.scope)?;
    let data = body.validate()?;
    let oid = state.store.create_object(&api.scope, org, &data).await?;
    let obj = state.store.object(&api.scope, oid).await?;
    Ok((StatusCode::CREATED, Json(obj)).into_response())
}

#[utoipa::path(get, path = "/api/v1/objects/{object_id}", tag = "inventory",
    params(("object_id" = i64, Path, description = "Object id")),
    responses((status = 200, body = Object), (status = 404, body = Problem)), security(("token" = [])))]
pub async fn api_get_object(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Object>> {
    Ok(Json(state.store.object(&api.scope, ObjectId(id)).await?))
}

/// Changes to an object: absent fields stay as they are. The kind cannot change.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ObjectPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub status: Option<String>,
    pub data_personal: Option<String>,
    pub data_special: Option<String>,
    pub data_classified: Option<String>,
    pub vendor: Option<String>,
    pub product: Option<String>,
    pub version: Option<String>,
    pub operating_model: Option<String>,
    pub vendor_country: Option<String>,
    pub system_type: Option<String>,
    pub count: Option<String>,
    pub contract: Option<String>,
    pub contact: Option<String>,
    pub need_c: Option<String>,
    pub need_i: Option<String>,
    pub need_a: Option<String>,
}

impl ObjectPatch {
    fn over(self, b: ObjectInput) -> ObjectInput {
        ObjectInput {
            kind: b.kind,
            name: self.name.unwrap_or(b.name),
            description: self.description.or(b.description),
            owner: self.owner.or(b.owner),
            status: self.status.or(b.status),
            data_personal: self.data_personal.or(b.data_personal),
            data_special: self.data_special.or(b.data_special),
            data_classified: self.data_classified.or(b.data_classified),
            vendor: self.vendor.or(b.vendor),
            product: self.product.or(b.product),
            version: self.version.or(b.version),
            operating_model: self.operating_model.or(b.operating_model),
            vendor_country: self.vendor_country.or(b.vendor_country),
            system_type: self.system_type.or(b.system_type),
            count: self.count.or(b.count),
            contract: self.contract.or(b.contract),
            contact: self.contact.or(b.contact),
            shared: b.shared,
            need_c: self.need_c.or(b.need_c),
            need_i: self.need_i.or(b.need_i),
            need_a: self.need_a.or(b.need_a),
        }
    }
}

#[utoipa::path(patch, path = "/api/v1/objects/{object_id}", tag = "inventory", request_body = ObjectPatch,
    params(("object_id" = i64, Path, description = "Object id")),
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn api_update_object(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<ObjectPatch>,
) -> ApiResult<Json<Object>> {
    let id = ObjectId(id);
    let current = state.store.object(&api.scope, id).await?;
    require_writable(&api.scope)?;
    let data = body.over(input_of(&current.data)).validate()?;
    state.store.update_object(&api.scope, id, &data).await?;
    Ok(Json(state.store.object(&api.scope, id).await?))
}

#[utoipa::path(delete, path = "/api/v1/objects/{object_id}", tag = "inventory",
    params(("object_id" = i64, Path, description = "Object id")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)), security(("token" = [])))]
pub async fn api_delete_object(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let id = ObjectId(id);
    state.store.object(&api.scope, id).await?;
    require_writable(&api.scope)?;
    state.store.delete_object(&api.scope, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An object's dependencies in both directions.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Links {
    /// What the object uses.
    pub uses: Vec<Link>,
    /// What uses the object.
    pub used_by: Vec<Link>,
}

#[utoipa::path(get, path = "/api/v1/objects/{object_id}/links", tag = "inventory",
    params(("object_id" = i64, Path, description = "Object id")),
    responses((status = 200, body = Links), (status = 404, body = Problem)), security(("token" = [])))]
pub async fn api_links(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Links>> {
    let (uses, used_by) = state.store.links_of(&api.scope, ObjectId(id)).await?;
    Ok(Json(Links { uses, used_by }))
}

/// A new dependency: the object uses `to`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct LinkBody {
    /// The id of the object that is used.
    pub to: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/objects/{object_id}/links", tag = "inventory", request_body = LinkBody,
    params(("object_id" = i64, Path, description = "Object id (the one that uses)")),
    responses((status = 201, body = Link), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn api_add_link(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<LinkBody>,
) -> ApiResult<Response> {
    let id = ObjectId(id);
    state.store.object(&api.scope, id).await?;
    require_writable(&api.scope)?;
    let to = body
        .to
        .ok_or_else(|| DomainError::field("to", "err.required"))?;
    let lid = state.store.add_link(&api.scope, id, ObjectId(to)).await?;
    let (uses, _) = state.store.links_of(&api.scope, id).await?;
    let link = uses
        .into_iter()
        .find(|l| l.id == lid)
        .ok_or(ApiError::NotFound)?;
    Ok((StatusCode::CREATED, Json(link)).into_response())
}

#[utoipa::path(delete, path = "/api/v1/objects/{object_id}/links/{link_id}", tag = "inventory",
    params(("object_id" = i64, Path, description = "Object id"), ("link_id" = i64, Path, description = "Link id")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)), security(("token" = [])))]
pub async fn api_remove_link(
    State(state): State<AppState>,
    api: ApiUser,
    Path((id, link)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    let id = ObjectId(id);
    state.store.object(&api.scope, id).await?;
    require_writable(&api.scope)?;
    unlink(&state.store, &api.scope, id, LinkId(link)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn xml_escapes_markup() {
        assert_eq!(
            xml("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"
        );
    }

    #[test]
    fn percentages_round() {
        let tr = Tr { lang: Lang::De };
        assert_eq!(percent(tr, 1, 3), tr.f("inv.pct", &[("n", "33")]));
        assert_eq!(percent(tr, 2, 3), tr.f("inv.pct", &[("n", "67")]));
        assert_eq!(percent(tr, 0, 0), tr.f("inv.pct", &[("n", "0")]));
    }

    #[test]
    fn form_round_trip_keeps_the_data() {
        let data = ObjectInput {
            kind: "application".into(),
            name: "Meldeverfahren".into(),
            vendor: Some("Beispiel GmbH".into()),
            operating_model: Some("saas".into()),
            ..Default::default()
        }
        .validate()
        .unwrap_or_else(|_| unreachable!());
        let again = input_of(&data)
            .validate()
            .unwrap_or_else(|_| unreachable!());
        assert_eq!(data, again);
    }
}
