//! Answering the council: a town's security-programme records (forms), the council report (PDF,
//! HTML, JSON; public and confidential editions) and the Verbund report with the office's cost
//! allocation.
//!
//! The report is built by `stadtmauer-report` from the facts the store gathers; this module only
//! translates between HTTP and those calls. Who sees which edition: the public edition needs
//! `Reports` (council members), the confidential one `Read`.

mod records;
pub(crate) mod reports;
mod verbund;

use records::*;
use reports::*;
use verbund::*;

use crate::auth::{ApiUser, CurrentUser};
use crate::error::{ApiError, Problem};
use crate::features::{done, fail, render, render_status, FlashQuery};
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::view::Chrome;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::Deserialize;
use stadtmauer_core::validate::FieldErrors;
use stadtmauer_core::{Access, DomainError, OrgId, Scope, VerbundId};
use stadtmauer_report::records::{
    iso, Coverage, EventInput, EventKind, FindingInput, ProfileInput, Programme, Remediation,
    Severity, YearInput,
};
use stadtmauer_report::verbund::{verbund_report, CostKey, VerbundInput};
use stadtmauer_report::{output, town, Edition, Report};

pub(crate) fn routes() -> Routes {
    Routes::new(false, false)
        .get("/organisations/{org_id}/council", town_page)
        .post("/organisations/{org_id}/council/profile", save_profile)
        .post("/organisations/{org_id}/council/years", save_year)
        .post("/organisations/{org_id}/council/events", add_event)
        .post(
            "/organisations/{org_id}/council/events/delete",
            delete_event,
        )
        .post("/organisations/{org_id}/council/findings", add_finding)
        .post(
            "/organisations/{org_id}/council/findings/status",
            finding_status,
        )
        .get("/organisations/{org_id}/council/report.pdf", town_pdf)
        .get("/organisations/{org_id}/council/report.html", town_html)
        .get("/organisations/{org_id}/council/report.json", town_json)
        .get("/verbuende/{verbund_id}/council", verbund_page)
        .get("/verbuende/{verbund_id}/council/report.pdf", verbund_pdf)
        .get("/verbuende/{verbund_id}/council/report.html", verbund_html)
        .get("/verbuende/{verbund_id}/council/report.json", verbund_json)
}

pub(crate) fn api_routes() -> Routes {
    Routes::new(true, false)
        .get(
            "/api/v1/organisations/{org_id}/council/report",
            api_town_report,
        )
        .get(
            "/api/v1/verbuende/{verbund_id}/council/report",
            api_verbund_report,
        )
}
