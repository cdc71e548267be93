//! Creating, editing and deleting an object.

use super::object::LinkRow;
use super::*;
use stadtmauer_inventory::model::{parse_flag, Status};

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
) -> Result<Response, PageError> {
    let org_id = OrgId(id);
    if me.scope.access(org_id).is_none() {
        return Err(PageError::of(StatusCode::NOT_FOUND));
    }
    let org = state.store.organisation(&me.scope, org_id).await?;
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
        return Err(PageError::of(StatusCode::FORBIDDEN));
    }
    let form = ObjectInput {
        kind: kind.as_str().into(),
        status: Some(Status::Active.as_str().into()),
        ..Default::default()
    };
    Ok(render(form_page(
        tr,
        &me,
        org,
        None,
        form,
        FieldErrors::default(),
    )))
}

pub async fn create(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let org_id = OrgId(id);
    // Every kind needs at least the technical write access; the kind's own need follows.
    me.scope.require(org_id, Access::WriteTechnical)?;
    let input = input_from_form(&f);
    let kind = ObjectKind::parse(&input.kind).unwrap_or(ObjectKind::System);
    me.scope.require(org_id, need(kind))?;
    let result = match input.validate() {
        Ok(data) => state.store.create_object(&me.scope, org_id, &data).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(oid) => Ok(done(&format!("/inventory/{oid}"), "msg.created")),
        Err(DomainError::Invalid(errs) | DomainError::Conflict(errs)) => {
            let org = state.store.organisation(&me.scope, org_id).await?;
            Ok(render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                form_page(tr, &me, org, None, input, errs),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// The object and its organisation, if the user may change the object.
async fn writable_object(
    state: &AppState,
    me: &CurrentUser,
    id: ObjectId,
) -> Result<(Object, Organisation), PageError> {
    let o = state.store.object(&me.scope, id).await?;
    // A town's user reads the Verbund's shared providers without reading the office itself.
    let org = state
        .store
        .organisation(&me.scope, o.organisation_id)
        .await
        .ok();
    match org.filter(|_| may_write(&me.scope, o.organisation_id, o.data.kind)) {
        Some(org) => Ok((o, org)),
        None => Err(PageError::of(StatusCode::FORBIDDEN)),
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let (o, org) = writable_object(&state, &me, ObjectId(id)).await?;
    let form = input_of(&o.data);
    Ok(render(form_page(
        tr,
        &me,
        org,
        Some(o.id),
        form,
        FieldErrors::default(),
    )))
}

pub async fn update(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let (o, org) = writable_object(&state, &me, ObjectId(id)).await?;
    let mut input = input_from_form(&f);
    // The kind is fixed; the form carries it only to show the right fields.
    input.kind = o.data.kind.as_str().into();
    let result = match input.validate() {
        Ok(data) => state.store.update_object(&me.scope, o.id, &data).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(done(&format!("/inventory/{}", o.id), "msg.saved")),
        Err(DomainError::Invalid(errs) | DomainError::Conflict(errs)) => Ok(render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            form_page(tr, &me, org, Some(o.id), input, errs),
        )),
        Err(e) => Err(e.into()),
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
) -> Result<Response, PageError> {
    let o = state.store.object(&me.scope, ObjectId(id)).await?;
    if !may_write(&me.scope, o.organisation_id, o.data.kind) {
        return Err(PageError::of(StatusCode::FORBIDDEN));
    }
    let (_, used_by) = state.store.links_of(&me.scope, o.id).await?;
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
    Ok(render(InvDeletePage {
        c,
        obj: o,
        dependents,
    }))
}

pub async fn delete(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let o = state.store.object(&me.scope, ObjectId(id)).await?;
    state.store.delete_object(&me.scope, o.id).await?;
    Ok(done(
        &format!("/organisations/{}/inventory", o.organisation_id),
        "msg.deleted",
    ))
}
