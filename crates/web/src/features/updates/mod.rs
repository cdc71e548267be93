//! The update watch: the active feeds and their import (administrators and office officers), a
//! town's installations with their findings (unsupported, support ending, advisories, KEV), the
//! measure or exception a finding became, patch latency, the office's view over its members with
//! notifications, the alias table, and the installed-software section of a system's page.
//!
//! The feeds and their import are in [`feeds`], a town's findings in [`town`], the office's view in
//! [`verbund`], the alias table in [`aliases`], the installed software of an object in
//! [`software`]; this module holds the route list and what several of them share.

pub(crate) mod aliases;
pub(crate) mod feeds;
pub(crate) mod software;
pub(crate) mod town;
pub(crate) mod verbund;

pub use software::{software_section, SoftwareSection};

use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::features::{done, render, render_status};
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::view::Chrome;
use crate::AppState;
use askama::Template;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::handler::Handler;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use stadtmauer_assessment::date::{format_date, parse_date};
use stadtmauer_core::org::Organisation;
use stadtmauer_core::validate::{date_error, FieldErrors};
use stadtmauer_core::{Access, DomainError, ObjectId, OrgId, VerbundId};
use stadtmauer_inventory::model::{Object, ObjectKind};
use std::collections::{BTreeMap, HashMap};
use time::Date;

/// Largest feed upload (the KEV catalog is about 1.5 MB; CSAF sets can be larger).
pub const FEED_BODY_MAX: usize = 64 * 1024 * 1024;

pub(crate) fn routes() -> Routes {
    Routes::new(false, false)
        .get("/updates/feeds", feeds::feeds_page)
        .post(
            "/updates/feeds",
            feeds::import.layer(DefaultBodyLimit::max(FEED_BODY_MAX)),
        )
        .get("/updates/aliases", aliases::aliases_page)
        .post("/updates/aliases", aliases::add_alias)
        .post("/updates/aliases/remove", aliases::remove_alias)
        .get("/organisations/{org_id}/updates", town::town)
        .post("/organisations/{org_id}/updates/plan", town::plan)
        .post("/organisations/{org_id}/updates/exception", town::exception)
        .get("/verbuende/{verbund_id}/updates", verbund::verbund)
        .post(
            "/verbuende/{verbund_id}/updates/notify",
            verbund::set_notify,
        )
        .post("/inventory/{object_id}/software", software::add_software)
        .post(
            "/inventory/{object_id}/software/remove",
            software::remove_software,
        )
}

pub(crate) fn api_routes() -> Routes {
    Routes::new(true, false)
}

fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

fn fmt_ts(ts: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ts)
        .map(|t| format_date(t.date()))
        .unwrap_or_default()
}

/// One option of a select.
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn jstr(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "–".into(),
        other => other.to_string(),
    }
}
