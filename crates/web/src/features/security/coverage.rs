//! How far a town's assessment covers another framework — ISO/IEC 27001:2022 Annex A or the
//! IT-Grundschutz-Kompendium 2023 — derived through the BSI's mapping collections to
//! Grundschutz++. Every control shows the mapped requirements with the mapping's relationship
//! ("Teilmenge von", "gleichwertig" …), never silently treated as equality, and whether the
//! requirement is part of the town's target at all.

use crate::auth::CurrentUser;
use crate::features::security::catalog::{library, unavailable};
use crate::features::security::town::{
    pct, pct_value, rref, today, town_requirements, Opt, TargetReqs,
};
use crate::features::{fail, render};
use crate::i18n::Tr;
use crate::view::Chrome;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use stadtmauer_assessment::score::evaluate;
use stadtmauer_assessment::soa::{coverage, MappingRef, Relationship};
use stadtmauer_assessment::{Answer, RequirementRef};
use stadtmauer_catalog::mapping::{MappingSet, Relationship as MapRel};
use stadtmauer_core::org::Organisation;
use stadtmauer_core::{Access, DomainError, OrgId};
use std::collections::HashSet;

/// The mapping's relationship as the assessment knows it; "no relationship" and unknown ones
/// cover nothing.
fn relationship(r: &MapRel) -> Option<Relationship> {
    match r {
        MapRel::EqualTo => Some(Relationship::EqualTo),
        MapRel::EquivalentTo => Some(Relationship::EquivalentTo),
        MapRel::SubsetOf => Some(Relationship::SubsetOf),
        MapRel::SupersetOf => Some(Relationship::SupersetOf),
        MapRel::IntersectsWith => Some(Relationship::IntersectsWith),
        MapRel::NoRelationship | MapRel::Other(_) => None,
    }
}

/// Every (control, requirement) pair of a mapping collection, stated as "control REL
/// requirement": a map whose target is a requirement (`is_requirement`) as written, one whose
/// source is a requirement the other way round (A ⊂ B is B ⊃ A).
pub fn mapping_refs(m: &MappingSet, is_requirement: impl Fn(&str) -> bool) -> Vec<MappingRef> {
    let mut out = Vec::new();
    for e in &m.entries {
        for s in &e.sources {
            for t in &e.targets {
                let (control, req, rel) = if is_requirement(t) {
                    (s, t, e.relationship.clone())
                } else if is_requirement(s) {
                    (t, s, e.relationship.inverse())
                } else {
                    continue;
                };
                let Some(rel) = relationship(&rel) else {
                    continue;
                };
                out.push(MappingRef {
                    control: control.clone(),
                    requirement_id: req.clone(),
                    relationship: rel,
                });
            }
        }
    }
    out
}

pub struct CoveredRow {
    pub id: String,
    pub relationship: &'static str,
    pub status: &'static str,
    pub status_code: &'static str,
    pub in_target: bool,
}

pub struct ControlRow {
    pub control: String,
    pub title: String,
    /// Fulfilment over the mapped requirements in the target; "–" when none is.
    pub percent: String,
    pub value: u8,
    pub requirements: Vec<CoveredRow>,
}

#[derive(Template)]
#[template(path = "security/coverage.html")]
pub struct CoveragePage {
    pub c: Chrome,
    pub org: Organisation,
    pub frameworks: Vec<Opt>,
    pub framework_title: String,
    pub rows: Vec<ControlRow>,
    pub full: usize,
    pub partial: usize,
    pub none: usize,
    pub outside: usize,
}

#[derive(Deserialize, Default)]
pub struct CoverageQuery {
    /// `iso` (default), `itgs`, or `mapping:<id>` (an imported mapping collection).
    pub framework: Option<String>,
}

/// `GET /organisations/{id}/security/coverage?framework=iso|itgs`.
pub async fn page(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<CoverageQuery>,
) -> Response {
    let Some(lib) = library() else {
        return unavailable(tr);
    };
    let org = OrgId(id);
    let scope = &me.scope;
    let load = async {
        let o = state.store.organisation(scope, org).await?;
        // Seen but beyond the role (a reader): forbidden, as everywhere.
        scope.require(org, Access::Read)?;
        let set = TargetReqs::load(&state, scope, org).await?;
        let objects = state.store.objects(scope, org, None, false).await?;
        let answers: Vec<Answer> = state
            .store
            .answers(scope, org)
            .await?
            .into_iter()
            .map(|s| s.answer)
            .collect();
        let imported = state.store.imported_mappings(scope).await?;
        Ok::<_, DomainError>((o, set, objects, answers, imported))
    };
    let (o, set, objects, answers, imported) = match load.await {
        Ok(x) => x,
        Err(e) => return fail(tr, e),
    };
    let chosen = q.framework.as_deref().map(str::trim).unwrap_or("iso");
    let imported_choice = chosen
        .strip_prefix("mapping:")
        .and_then(|id| id.parse::<i64>().ok())
        .and_then(|id| imported.iter().find(|(m, _)| m.id == id));
    let itgs = chosen == "itgs";
    let (mapping, framework_title, selected) = match imported_choice {
        Some((meta, m)) => (
            m,
            format!("{} {}", meta.title, meta.version),
            format!("mapping:{}", meta.id),
        ),
        None if itgs => (
            &lib.shipped.itgs_mapping,
            tr.s("sec.cov.itgs").to_string(),
            "itgs".to_string(),
        ),
        None => (
            &lib.shipped.iso_mapping,
            tr.s("sec.cov.iso").to_string(),
            "iso".to_string(),
        ),
    };
    let iso = selected == "iso";
    let reqs = town_requirements(lib, &set, &objects);
    let refs: Vec<RequirementRef> = reqs.iter().map(|t| rref(t.req)).collect();
    let states = evaluate(&refs, &answers, today());
    let in_target: HashSet<&str> = refs.iter().map(|r| r.id.as_str()).collect();
    let de = tr.code() == "de";
    let title_of = |control: &str| {
        if !iso {
            return String::new();
        }
        lib.shipped
            .iso27001
            .get(control)
            .map(|c| {
                c.other_props
                    .iter()
                    .find(|(n, _)| de && n == "de-title")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| c.title.clone())
            })
            .unwrap_or_default()
    };
    let cov = coverage(
        &mapping_refs(mapping, |id| set.find(lib, id).is_some()),
        &states,
    );
    let (mut full, mut partial, mut none, mut outside) = (0, 0, 0, 0);
    let rows = cov
        .iter()
        .map(|c| {
            match c.counts.percent() {
                None => outside += 1,
                Some(100) => full += 1,
                Some(0) => none += 1,
                Some(_) => partial += 1,
            }
            ControlRow {
                control: c.control.clone(),
                title: title_of(&c.control),
                percent: pct(&c.counts),
                value: pct_value(&c.counts),
                requirements: c
                    .requirements
                    .iter()
                    .map(|r| {
                        let inside = in_target.contains(r.requirement_id.as_str());
                        CoveredRow {
                            id: r.requirement_id.clone(),
                            relationship: tr.s(r.relationship.label_key()),
                            status: if inside {
                                tr.s(r.status.label_key())
                            } else {
                                tr.s("sec.cov.not_in_target")
                            },
                            status_code: if inside { r.status.as_str() } else { "" },
                            in_target: inside,
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    let frameworks = [
        ("iso".to_string(), tr.s("sec.cov.iso").to_string()),
        ("itgs".to_string(), tr.s("sec.cov.itgs").to_string()),
    ]
    .into_iter()
    .chain(imported.iter().map(|(m, _)| {
        (
            format!("mapping:{}", m.id),
            tr.f(
                "sec.cov.imported",
                &[("name", &format!("{} {}", m.title, m.version))],
            ),
        )
    }))
    .map(|(value, label)| Opt {
        selected: value == selected,
        value,
        label,
    })
    .collect();
    render(CoveragePage {
        c: Chrome::new(tr, &me, tr.s("sec.cov.title"), "organisations"),
        org: o,
        frameworks,
        framework_title,
        rows,
        full,
        partial,
        none,
        outside,
    })
}
