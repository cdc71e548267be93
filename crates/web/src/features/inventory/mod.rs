//! The Informationsverbund pages: objects of a town, their dependencies and Schutzbedarf, the
//! dependency diagram, the Verbund's provider concentration, and the inventory's JSON API.
//!
//! Handlers translate between HTTP and the store; every rule (who may write, which links are
//! allowed, how requirements are inherited) is the store's and the inventory crate's.
//!
//! The town's list is in [`list`], creating, editing and deleting in [`form`], the object page
//! with its override and links in [`object`], the dependency diagram and the provider
//! concentration in [`graph`], the JSON API in [`api`], the spreadsheet import in [`import`];
//! this module holds the route lists and what several of them share.

pub(crate) mod api;
pub(crate) mod form;
pub(crate) mod graph;
pub mod import;
pub(crate) mod list;
pub(crate) mod object;

use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::features::{done, render, render_status};
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::view::Chrome;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;
use stadtmauer_core::org::Organisation;
use stadtmauer_core::validate::FieldErrors;
use stadtmauer_core::{Access, DomainError, LinkId, ObjectId, OrgId, Scope, VerbundId};
use stadtmauer_inventory::model::{
    Level, Link, Object, ObjectData, ObjectInput, ObjectKind, OperatingModel, SYSTEM_TYPES,
};
use stadtmauer_store::Store;
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub(crate) fn routes() -> Routes {
    Routes::new(false, false)
        .get("/organisations/{org_id}/inventory", list::list)
        .get("/organisations/{org_id}/inventory/new", form::new_form)
        .post("/organisations/{org_id}/inventory", form::create)
        .get("/inventory/{object_id}", object::show)
        .post("/inventory/{object_id}", form::update)
        .get("/inventory/{object_id}/edit", form::edit_form)
        .post("/inventory/{object_id}/override", object::set_override)
        .post(
            "/inventory/{object_id}/override/delete",
            object::remove_override,
        )
        .post("/inventory/{object_id}/links", object::add_link)
        .post(
            "/inventory/{object_id}/links/{link_id}/delete",
            object::remove_link,
        )
        .get("/inventory/{object_id}/delete", form::delete_form)
        .post("/inventory/{object_id}/delete", form::delete)
        .get("/inventory/{object_id}/diagram.svg", graph::diagram)
        .get("/verbuende/{verbund_id}/providers", graph::providers)
        .get(
            "/verbuende/{verbund_id}/providers.svg",
            graph::providers_svg,
        )
}

pub(crate) fn api_routes() -> Routes {
    Routes::new(true, false)
        .get(
            "/api/v1/organisations/{org_id}/objects",
            api::api_list_objects,
        )
        .post(
            "/api/v1/organisations/{org_id}/objects",
            api::api_create_object,
        )
        .get("/api/v1/objects/{object_id}", api::api_get_object)
        .patch("/api/v1/objects/{object_id}", api::api_update_object)
        .delete("/api/v1/objects/{object_id}", api::api_delete_object)
        .get("/api/v1/objects/{object_id}/links", api::api_links)
        .post("/api/v1/objects/{object_id}/links", api::api_add_link)
        .delete(
            "/api/v1/objects/{object_id}/links/{link_id}",
            api::api_remove_link,
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

#[cfg(test)]
mod tests {
    use super::*;

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
