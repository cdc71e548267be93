//! Organisations: list, show, create, edit, delete, and their contacts (htmx-swappable).

use crate::auth::CurrentUser;
use crate::features::platform::dashboard::recent_rows;
use crate::features::{done, fail, is_htmx, render, render_status, FlashQuery};
use crate::i18n::Tr;
use crate::view::{Chrome, ContactsPartial, OrgDeletePage, OrgFormPage, OrgPage, OrgsPage};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use stadtmauer_core::org::{ContactInput, OrganisationInput};
use stadtmauer_core::validate::FieldErrors;
use stadtmauer_core::{Access, ContactId, DomainError, OrgId, VerbundId};
use stadtmauer_store::audit::AuditFilter;
use std::collections::HashMap;

pub async fn list(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Query(q): Query<FlashQuery>,
) -> Response {
    let orgs = match state.store.organisations(&me.scope).await {
        Ok(o) => o,
        Err(e) => return fail(tr, e),
    };
    let names: HashMap<VerbundId, String> = state
        .store
        .verbuende(&me.scope)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|v| (v.id, v.name))
        .collect();
    let orgs = orgs
        .into_iter()
        .map(|o| {
            let v = o.verbund_id.and_then(|v| names.get(&v).cloned());
            (o, v)
        })
        .collect();
    let can_create = me.scope.admin || me.scope.managed_verbuende().next().is_some();
    let c =
        Chrome::new(tr, &me, tr.s("org.list_title"), "organisations").with_flash(q.msg.as_deref());
    render(OrgsPage {
        c,
        orgs,
        can_create: can_create && !me.scope.read_only,
    })
}

async fn form_page(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    org_id: Option<OrgId>,
    form: OrganisationInput,
    errors: FieldErrors,
) -> OrgFormPage {
    let verbuende = state
        .store
        .verbuende(&me.scope)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|v| me.scope.manages_verbund(v.id))
        .collect();
    let title = if org_id.is_some() {
        tr.s("org.edit")
    } else {
        tr.s("org.new")
    };
    OrgFormPage {
        c: Chrome::new(tr, me, title, "organisations").with_errors(errors),
        org_id,
        form,
        verbuende,
        allow_no_verbund: me.scope.admin && !me.scope.read_only,
    }
}

#[derive(serde::Deserialize, Default)]
pub struct NewQuery {
    verbund: Option<String>,
}

pub async fn new_form(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Query(q): Query<NewQuery>,
) -> Response {
    let page = form_page(
        &state,
        tr,
        &me,
        None,
        OrganisationInput {
            kind: "gemeinde".into(),
            verbund_id: q.verbund,
            ..Default::default()
        },
        FieldErrors::default(),
    )
    .await;
    if page.verbuende.is_empty() && !page.allow_no_verbund {
        return fail(tr, DomainError::Forbidden);
    }
    render(page)
}

pub async fn create(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Form(f): Form<OrganisationInput>,
) -> Response {
    let verbund = match f
        .verbund_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .map(|v| Some(VerbundId(v)))
            .map_err(|_| DomainError::field("verbund_id", "err.choose_one")),
    };
    let result = match (verbund, f.validate()) {
        (Ok(v), Ok(data)) => state.store.create_organisation(&me.scope, v, &data).await,
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    match result {
        Ok(id) => done(&format!("/organisations/{id}"), "msg.created"),
        Err(DomainError::Invalid(errs) | DomainError::Conflict(errs)) => render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            form_page(&state, tr, &me, None, f, errs).await,
        ),
        Err(e) => fail(tr, e),
    }
}

fn contacts_partial(
    me: &CurrentUser,
    tr: Tr,
    org: OrgId,
    contacts: Vec<stadtmauer_core::org::Contact>,
    form: ContactInput,
    errors: FieldErrors,
) -> ContactsPartial {
    ContactsPartial {
        tr,
        csrf: me.session.csrf_token.clone(),
        org_id: org,
        contacts,
        can_write: me.scope.may(org, Access::Write),
        errors,
        form,
    }
}

pub async fn show(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<FlashQuery>,
) -> Response {
    let id = OrgId(id);
    let org = match state.store.organisation(&me.scope, id).await {
        Ok(o) => o,
        Err(e) => return fail(tr, e),
    };
    let can_read = me.scope.can(id, Access::Read);
    let (contacts, members, rows) = if can_read {
        let contacts = state
            .store
            .contacts(&me.scope, id)
            .await
            .unwrap_or_default();
        let members = state
            .store
            .users(&me.scope)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter_map(|u| {
                let here: Vec<_> = u
                    .memberships
                    .into_iter()
                    .filter(|m| m.organisation_id == id)
                    .collect();
                (!here.is_empty()).then_some((u.user, here))
            })
            .collect();
        let rows = recent_rows(
            &state,
            &me,
            tr,
            AuditFilter {
                organisation: Some(id),
                limit: 5,
                ..Default::default()
            },
        )
        .await
        .unwrap_or_default();
        (contacts, members, rows)
    } else {
        (Vec::new(), Vec::new(), Vec::new())
    };
    let verbund = match org.verbund_id {
        Some(v) => state.store.verbund(&me.scope, v).await.ok().map(|v| v.name),
        None => None,
    };
    let contacts_html = contacts_partial(
        &me,
        tr,
        id,
        contacts,
        ContactInput::default(),
        FieldErrors::default(),
    )
    .render()
    .unwrap_or_default();
    let can_write = me.scope.may(id, Access::Write);
    let can_delete = !org.is_office
        && match org.verbund_id {
            Some(v) => me.scope.manages_verbund(v),
            None => me.scope.admin && !me.scope.read_only,
        };
    let c = Chrome::new(tr, &me, org.name.clone(), "organisations").with_flash(q.msg.as_deref());
    render(OrgPage {
        c,
        org,
        verbund,
        contacts_html,
        members,
        rows,
        can_write,
        can_read,
        can_delete,
    })
}

pub async fn edit_form(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Response {
    let o = match state.store.organisation(&me.scope, OrgId(id)).await {
        Ok(o) => o,
        Err(e) => return fail(tr, e),
    };
    if !me.scope.may(o.id, Access::Write) {
        return fail(tr, DomainError::Forbidden);
    }
    let num = |n: Option<i64>| n.map(|n| n.to_string());
    let form = OrganisationInput {
        name: o.name,
        kind: o.kind.as_str().into(),
        ags: o.ags,
        inhabitants: num(o.inhabitants),
        staff: num(o.staff),
        workstations: num(o.workstations),
        email: o.email,
        phone: o.phone,
        address: o.address,
        verbund_id: None,
    };
    render(form_page(&state, tr, &me, Some(o.id), form, FieldErrors::default()).await)
}

pub async fn update(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<OrganisationInput>,
) -> Response {
    let id = OrgId(id);
    // The role first: input is judged only for someone who may change it (and invalid input
    // must not reveal whether the id exists elsewhere).
    if let Err(e) = me.scope.require(id, Access::Write) {
        return fail(tr, e);
    }
    let result = match f.validate() {
        Ok(data) => state.store.update_organisation(&me.scope, id, &data).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => done(&format!("/organisations/{id}"), "msg.saved"),
        Err(DomainError::Invalid(errs) | DomainError::Conflict(errs)) => render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            form_page(&state, tr, &me, Some(id), f, errs).await,
        ),
        Err(e) => fail(tr, e),
    }
}

pub async fn delete_form(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Response {
    let id = OrgId(id);
    let org = match state.store.organisation(&me.scope, id).await {
        Ok(o) => o,
        Err(e) => return fail(tr, e),
    };
    let dependents = match state.store.org_dependents(&me.scope, id).await {
        Ok(d) => d,
        Err(e) => return fail(tr, e),
    };
    let c = Chrome::new(
        tr,
        &me,
        tr.f("org.delete_title", &[("name", &org.name)]),
        "organisations",
    );
    render(OrgDeletePage { c, org, dependents })
}

pub async fn delete(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Response {
    match state.store.delete_organisation(&me.scope, OrgId(id)).await {
        Ok(()) => done("/organisations", "msg.deleted"),
        Err(DomainError::Invalid(errs)) => {
            let Ok(org) = state.store.organisation(&me.scope, OrgId(id)).await else {
                return fail(tr, DomainError::NotFound);
            };
            let dependents = state
                .store
                .org_dependents(&me.scope, org.id)
                .await
                .unwrap_or_default();
            let c = Chrome::new(
                tr,
                &me,
                tr.f("org.delete_title", &[("name", &org.name)]),
                "organisations",
            )
            .with_errors(errs);
            render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                OrgDeletePage { c, org, dependents },
            )
        }
        Err(e) => fail(tr, e),
    }
}

/// After a contact change: the partial for htmx, a redirect for a plain form post. `invalid`
/// carries the submitted form and its errors when it was refused.
async fn contacts_response(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    headers: &HeaderMap,
    org: OrgId,
    invalid: Option<(ContactInput, FieldErrors)>,
    msg: &str,
) -> Response {
    let htmx = is_htmx(headers);
    if !htmx && invalid.is_none() {
        return done(&format!("/organisations/{org}"), msg);
    }
    let refused = invalid.is_some();
    let (form, errors) = invalid.unwrap_or_default();
    let contacts = state
        .store
        .contacts(&me.scope, org)
        .await
        .unwrap_or_default();
    let Ok(html) = contacts_partial(me, tr, org, contacts, form, errors).render() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if htmx {
        // htmx swaps only 2xx answers by default; field errors are a normal answer here.
        return (StatusCode::OK, Html(html)).into_response();
    }
    // Without JavaScript, show the organisation page again with the errors.
    let Ok(org) = state.store.organisation(&me.scope, org).await else {
        return fail(tr, DomainError::NotFound);
    };
    let c = Chrome::new(tr, me, org.name.clone(), "organisations");
    let can_write = me.scope.can(org.id, Access::Write);
    let status = if refused {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_status(
        status,
        OrgPage {
            c,
            org,
            verbund: None,
            contacts_html: html,
            members: Vec::new(),
            rows: Vec::new(),
            can_write,
            can_read: true,
            can_delete: false,
        },
    )
}

pub async fn add_contact(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<ContactInput>,
) -> Response {
    let org = OrgId(id);
    if let Err(e) = me.scope.require(org, Access::Write) {
        return fail(tr, e);
    }
    let result = match f.validate() {
        Ok(data) => state
            .store
            .add_contact(&me.scope, org, &data)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => contacts_response(&state, tr, &me, &headers, org, None, "msg.created").await,
        Err(DomainError::Invalid(errs)) => {
            contacts_response(&state, tr, &me, &headers, org, Some((f, errs)), "").await
        }
        Err(e) => fail(tr, e),
    }
}

pub async fn delete_contact(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    headers: HeaderMap,
    Path((id, cid)): Path<(i64, i64)>,
) -> Response {
    let org = OrgId(id);
    match state
        .store
        .delete_contact(&me.scope, org, ContactId(cid))
        .await
    {
        Ok(()) => contacts_response(&state, tr, &me, &headers, org, None, "msg.deleted").await,
        Err(e) => fail(tr, e),
    }
}
