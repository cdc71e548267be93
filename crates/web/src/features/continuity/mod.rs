//! Ransomware readiness: BIA, backups, restart order, readiness, emergency handbook, exercises.
//!
//! Pages: the town's readiness page (verdicts with their reasons, restart order after a total
//! outage, what-if scenarios, score, checklist), the BIA list and form per process, the backup
//! register, the handbook's contacts with the offline HTML and PDF downloads, and the office's
//! comparison of every member's score.
//!
//! The readiness page and its checklist are in [`town`], the BIA in [`bia`], the backup register
//! in [`backups`], contacts and handbook downloads in [`handbook`], exercises and their measures in
//! [`exercises`], the office's comparison in [`verbund`]; this module holds the route list and the
//! helpers and view types several of them use.

mod backups;
mod bia;
mod exercises;
mod handbook;
mod town;
mod verbund;

use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::features::{done, render, render_status, FlashQuery};
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::view::Chrome;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use bcm::Span;
use serde::Deserialize;
use stadtmauer_core::validate::FieldErrors;
use stadtmauer_core::{Access, DomainError, ObjectId, OrgId};
use stadtmauer_inventory::model::ObjectKind;
use stadtmauer_store::continuity::analyse;
use stadtmauer_store::continuity::stadtmauer_continuity as bcm;
use std::collections::{BTreeMap, HashMap};
use time::{Date, OffsetDateTime, PrimitiveDateTime};

pub(crate) fn routes() -> Routes {
    Routes::new(false, false)
        .get("/organisations/{org_id}/continuity", town::town)
        .post(
            "/organisations/{org_id}/continuity/checklist",
            town::save_checklist,
        )
        .get("/organisations/{org_id}/continuity/bia", bia::bia_list)
        .get("/inventory/{object_id}/bia", bia::bia_form)
        .post("/inventory/{object_id}/bia", bia::bia_save)
        .get(
            "/organisations/{org_id}/continuity/backups",
            backups::backups_page,
        )
        .get(
            "/organisations/{org_id}/continuity/backups/edit",
            backups::backup_form,
        )
        .post(
            "/organisations/{org_id}/continuity/backups",
            backups::backup_save,
        )
        .post(
            "/organisations/{org_id}/continuity/backups/delete",
            backups::backup_delete,
        )
        .get(
            "/organisations/{org_id}/continuity/contacts",
            handbook::contacts_page,
        )
        .post(
            "/organisations/{org_id}/continuity/contacts/add",
            handbook::contact_add,
        )
        .post(
            "/organisations/{org_id}/continuity/contacts/remove",
            handbook::contact_remove,
        )
        .get(
            "/organisations/{org_id}/continuity/handbook.html",
            handbook::handbook_html,
        )
        .get(
            "/organisations/{org_id}/continuity/handbook.pdf",
            handbook::handbook_pdf,
        )
        .get("/verbuende/{verbund_id}/continuity", verbund::verbund)
        .get(
            "/organisations/{org_id}/continuity/exercises",
            exercises::exercises_page,
        )
        .post(
            "/organisations/{org_id}/continuity/exercises",
            exercises::exercise_plan,
        )
        .get(
            "/organisations/{org_id}/continuity/exercises/result",
            exercises::exercise_result_form,
        )
        .post(
            "/organisations/{org_id}/continuity/exercises/result",
            exercises::exercise_result_save,
        )
        .post(
            "/organisations/{org_id}/continuity/exercises/measure",
            exercises::measure_update,
        )
}

pub(crate) fn api_routes() -> Routes {
    Routes::new(true, false)
}

pub(super) fn now_local() -> PrimitiveDateTime {
    let n = OffsetDateTime::now_utc();
    PrimitiveDateTime::new(
        n.date(),
        time::Time::from_hms(n.hour(), n.minute(), 0).unwrap_or(time::Time::MIDNIGHT),
    )
}

/// A translation for a key built at run time.
pub(super) fn ds(tr: Tr, key: String) -> String {
    tr.s(&key).to_string()
}

pub(super) fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

pub(super) fn fmt_ts(ts: i64) -> String {
    OffsetDateTime::from_unix_timestamp(ts)
        .map(|t| format!("{} {:02}:{:02} UTC", t.date(), t.hour(), t.minute()))
        .unwrap_or_default()
}

pub(super) fn fmt_dt(t: PrimitiveDateTime) -> String {
    format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute())
}

/// A duration as the form accepts it back ("2d", "4h", "90min").
pub(super) fn span_input(s: Span) -> String {
    let m = s.as_minutes();
    if m > 0 && m.is_multiple_of(1440) {
        format!("{}d", m / 1440)
    } else if m.is_multiple_of(60) {
        format!("{}h", m / 60)
    } else {
        format!("{m}min")
    }
}

pub(super) fn name_of(names: &HashMap<ObjectId, String>, id: ObjectId) -> String {
    names.get(&id).cloned().unwrap_or_else(|| format!("#{id}"))
}

/// An option of a select list or a radio group.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The last handbook download: version, format, when, checksum.
pub struct ExportInfo {
    pub version: i64,
    pub format: String,
    pub at: String,
    pub checksum: String,
}

/// Indexed form fields (`deadline_kind_2`) grouped by index.
pub(super) fn indexed(
    fields: &[(String, String)],
    prefix: &str,
) -> BTreeMap<usize, HashMap<String, String>> {
    let mut out: BTreeMap<usize, HashMap<String, String>> = BTreeMap::new();
    for (k, v) in fields {
        if let Some(rest) = k.strip_prefix(prefix) {
            if let Some((name, i)) = rest.rsplit_once('_') {
                if let Ok(i) = i.parse::<usize>() {
                    if i < 100 {
                        out.entry(i)
                            .or_default()
                            .insert(name.to_string(), v.clone());
                    }
                }
            }
        }
    }
    out
}

pub(super) fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub(super) fn is_on(v: &Option<String>) -> bool {
    stadtmauer_inventory::model::parse_flag(v.as_deref()).unwrap_or(false)
}

pub(super) async fn town_systems(
    state: &AppState,
    me: &CurrentUser,
    org: OrgId,
) -> Result<Vec<(ObjectId, String)>, DomainError> {
    Ok(state
        .store
        .objects(&me.scope, org, Some(ObjectKind::System), false)
        .await?
        .into_iter()
        .map(|o| (o.id, o.data.name))
        .collect())
}

#[derive(Deserialize, Default)]
pub struct IdQuery {
    pub id: Option<String>,
}
