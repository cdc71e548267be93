//! Security level (Grundschutz++): catalogs, targets, assessments, measures, heatmap.
//!
//! The catalog pages are in [`catalog`] (shipped) and [`catalogs`] (imported), a town's pages in
//! [`town`], [`questionnaire`], [`measures`], [`coverage`] and [`transfer`], the office's in
//! [`verbund`]; this module holds the route list.

use self::{
    catalog as security_catalog, measures as security_measures,
    questionnaire as security_questionnaire, town as security_town,
};

pub(crate) mod api;
pub(crate) mod catalog;
pub(crate) mod catalogs;
pub(crate) mod coverage;
pub(crate) mod measures;
pub(crate) mod questionnaire;
pub(crate) mod town;
pub(crate) mod transfer;
pub(crate) mod verbund;
use crate::routes::Routes;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;

pub(crate) fn routes() -> Routes {
    Routes::new(false, false)
        .get("/catalog", security_catalog::catalog)
        .get("/catalog/requirement", security_catalog::requirement)
        .get("/catalog/imported", catalogs::list)
        .post(
            "/catalog/imported",
            catalogs::upload.layer(DefaultBodyLimit::max(catalogs::CATALOG_BODY_MAX)),
        )
        .get("/catalog/imported/view", catalogs::show)
        .get("/organisations/{org_id}/security", security_town::town)
        .post(
            "/organisations/{org_id}/security/target",
            security_town::set_target,
        )
        .post(
            "/organisations/{org_id}/security/finish",
            security_town::finish,
        )
        .get(
            "/organisations/{org_id}/security/requirement",
            security_town::assess,
        )
        .post(
            "/organisations/{org_id}/security/answer",
            security_town::save_answer,
        )
        .post(
            "/organisations/{org_id}/security/evidence",
            security_town::upload_evidence
                .layer(DefaultBodyLimit::max(security_town::EVIDENCE_BODY_MAX)),
        )
        .get(
            "/organisations/{org_id}/security/evidence",
            security_town::download_evidence,
        )
        .get(
            "/organisations/{org_id}/security/questionnaire",
            security_questionnaire::show,
        )
        .post(
            "/organisations/{org_id}/security/questionnaire",
            security_questionnaire::reply,
        )
        .get(
            "/organisations/{org_id}/security/measures",
            security_measures::list,
        )
        .post(
            "/organisations/{org_id}/security/measures/derive",
            security_measures::derive,
        )
        .post(
            "/organisations/{org_id}/security/measures/status",
            security_measures::set_status,
        )
        .get(
            "/organisations/{org_id}/security/transfer",
            transfer::transfer,
        )
        .get("/organisations/{org_id}/security/coverage", coverage::page)
        .get(
            "/organisations/{org_id}/security/soa.csv",
            transfer::soa_csv_export,
        )
        .get(
            "/organisations/{org_id}/security/soa.xlsx",
            transfer::soa_xlsx_export,
        )
        .get(
            "/organisations/{org_id}/security/assessment-results.json",
            transfer::results_export,
        )
        .post(
            "/organisations/{org_id}/security/assessment-results",
            transfer::results_import.layer(DefaultBodyLimit::max(transfer::RESULTS_BODY_MAX)),
        )
        .get(
            "/organisations/{org_id}/security/assessment.xlsx",
            transfer::assessment_xlsx_export,
        )
        .post(
            "/organisations/{org_id}/security/assessment.xlsx",
            transfer::assessment_xlsx_import
                .layer(DefaultBodyLimit::max(transfer::RESULTS_BODY_MAX)),
        )
        .get("/security", security_town::entry)
        .get("/verbuende/{verbund_id}/security", verbund::verbund)
        .post(
            "/verbuende/{verbund_id}/security",
            verbund::set_verbund_target,
        )
        .post(
            "/verbuende/{verbund_id}/security/requirements",
            verbund::save_own,
        )
        .post(
            "/verbuende/{verbund_id}/security/requirements/delete",
            verbund::delete_own,
        )
        .post(
            "/verbuende/{verbund_id}/security/measures",
            verbund::plan_shared,
        )
}

pub(crate) fn api_routes() -> Routes {
    Routes::new(true, false)
        .get("/api/v1/organisations/{org_id}/security", api::level)
        .get(
            "/api/v1/organisations/{org_id}/security/answers",
            api::answers,
        )
        .post(
            "/api/v1/organisations/{org_id}/security/answers",
            api::put_answer,
        )
        .get(
            "/api/v1/organisations/{org_id}/security/measures",
            api::measures,
        )
        .get("/api/v1/verbuende/{verbund_id}/security", api::heatmap)
}
