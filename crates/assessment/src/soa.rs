//! The Statement of Applicability (Erklärung zur Anwendbarkeit) and the coverage of other
//! catalogs (ISO 27001 Annex A, IT-Grundschutz 2023) derived through mappings to Grundschutz++.
//!
//! A requirement is applicable unless its answer is entbehrlich; the justification is then the
//! recorded reason, otherwise the target level that demands it. Coverage of another catalog's
//! control is the fulfilment of the Grundschutz++ requirements mapped to it, with each mapping's
//! relationship shown, because "subset-of" covers less than "equivalent-to".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use stadtmauer_core::OrgId;
use time::Date;

use crate::answer::{Answer, Status};
use crate::measure::{Measure, MeasureStatus, Priority};
use crate::requirement::{RequirementRef, SecLevel};
use crate::score::{current_answers, evaluate, RequirementState, StatusCounts};

/// Why a requirement is or is not applicable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Justification {
    /// Applicable because the target level includes it.
    TargetLevel { level: SecLevel },
    /// Not applicable (entbehrlich), with the recorded reasons (one per object when answered per object).
    NotApplicable { reasons: Vec<String> },
}

/// A measure as listed in the SoA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SoaMeasure {
    pub title: String,
    pub priority: Priority,
    #[serde(with = "crate::date::iso_opt")]
    #[schema(value_type = Option<String>, format = Date)]
    pub deadline: Option<Date>,
    /// This town's progress.
    pub status: MeasureStatus,
}

/// One row of the Statement of Applicability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SoaRow {
    pub requirement_id: String,
    pub practice: String,
    pub sec_level: SecLevel,
    pub applicable: bool,
    pub justification: Justification,
    /// Effective status on the day of the export.
    pub status: Status,
    pub measures: Vec<SoaMeasure>,
}

/// The SoA of one town on `at` for the requirements of `target`, in catalog order.
pub fn statement_of_applicability(
    requirements: &[RequirementRef],
    answers: &[Answer],
    measures: &[Measure],
    town: OrgId,
    target: SecLevel,
    at: Date,
) -> Vec<SoaRow> {
    let current = current_answers(answers);
    evaluate(requirements, answers, at)
        .into_iter()
        .filter(|st| target.includes(st.requirement.sec_level))
        .map(|st| {
            let r = st.requirement;
            let applicable = st.recorded != Status::Entbehrlich;
            let justification = if applicable {
                Justification::TargetLevel { level: r.sec_level }
            } else {
                Justification::NotApplicable {
                    reasons: current
                        .get(r.id.as_str())
                        .into_iter()
                        .flatten()
                        .filter(|a| a.status == Status::Entbehrlich)
                        .filter_map(|a| a.reason.clone())
                        .collect(),
                }
            };
            let measures = measures
                .iter()
                .filter(|m| m.requirement_id.as_deref() == Some(r.id.as_str()))
                .filter_map(|m| {
                    let t = m.towns.iter().find(|t| t.organisation_id == town)?;
                    Some(SoaMeasure {
                        title: m.title.clone(),
                        priority: m.priority,
                        deadline: m.deadline,
                        status: t.status,
                    })
                })
                .collect();
            SoaRow {
                requirement_id: r.id.clone(),
                practice: r.practice.clone(),
                sec_level: r.sec_level,
                applicable,
                justification,
                status: st.status,
                measures,
            }
        })
        .collect()
}

/// Writing the CSV failed (only possible if the writer itself fails).
#[derive(Debug, thiserror::Error)]
#[error("writing the SoA as CSV failed: {0}")]
pub struct ExportError(#[from] csv::Error);

/// The SoA as CSV (`;`-separated, UTF-8 with BOM, as German spreadsheet programs open it).
/// `translate` turns i18n keys (column headers `soa.col.*`, status and priority labels) into the
/// user's language. Cells that a spreadsheet would read as a formula are prefixed with `'`.
pub fn soa_csv(rows: &[SoaRow], translate: impl Fn(&str) -> String) -> Result<String, ExportError> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(Vec::new());
    w.write_record(
        [
            "soa.col.requirement",
            "soa.col.practice",
            "soa.col.sec_level",
            "soa.col.applicable",
            "soa.col.justification",
            "soa.col.status",
            "soa.col.measures",
        ]
        .map(&translate),
    )?;
    for r in rows {
        let justification = match &r.justification {
            Justification::TargetLevel { level } => translate(level.label_key()),
            Justification::NotApplicable { reasons } => reasons.join(" | "),
        };
        let measures = r
            .measures
            .iter()
            .map(|m| {
                let deadline = m.deadline.map(crate::date::format_date).unwrap_or_default();
                format!(
                    "{} ({}, {}, {})",
                    m.title,
                    translate(m.priority.label_key()),
                    translate(m.status.label_key()),
                    deadline
                )
            })
            .collect::<Vec<_>>()
            .join(" | ");
        let applicable = translate(if r.applicable { "soa.yes" } else { "soa.no" });
        w.write_record(
            [
                r.requirement_id.clone(),
                r.practice.clone(),
                translate(r.sec_level.label_key()),
                applicable,
                justification,
                translate(r.status.label_key()),
                measures,
            ]
            .map(|c| defuse(&c)),
        )?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| ExportError(e.into_error().into()))?;
    Ok(format!("\u{feff}{}", String::from_utf8_lossy(&bytes)))
}

/// Spreadsheets run cells starting with these as formulas (CSV injection).
fn defuse(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

/// How a control of another catalog relates to a Grundschutz++ requirement (OSCAL mapping
/// relationship, read as "the other control is … the requirement").
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Relationship {
    EqualTo,
    EquivalentTo,
    SubsetOf,
    SupersetOf,
    IntersectsWith,
}

impl Relationship {
    pub fn as_str(self) -> &'static str {
        match self {
            Relationship::EqualTo => "equal-to",
            Relationship::EquivalentTo => "equivalent-to",
            Relationship::SubsetOf => "subset-of",
            Relationship::SupersetOf => "superset-of",
            Relationship::IntersectsWith => "intersects-with",
        }
    }
    pub fn parse(s: &str) -> Option<Relationship> {
        match s.trim() {
            "equal-to" => Some(Relationship::EqualTo),
            "equivalent-to" => Some(Relationship::EquivalentTo),
            "subset-of" => Some(Relationship::SubsetOf),
            "superset-of" => Some(Relationship::SupersetOf),
            "intersects-with" => Some(Relationship::IntersectsWith),
            _ => None,
        }
    }
    pub fn label_key(self) -> &'static str {
        match self {
            Relationship::EqualTo => "asm.rel.equal_to",
            Relationship::EquivalentTo => "asm.rel.equivalent_to",
            Relationship::SubsetOf => "asm.rel.subset_of",
            Relationship::SupersetOf => "asm.rel.superset_of",
            Relationship::IntersectsWith => "asm.rel.intersects_with",
        }
    }
}

/// One mapping entry: `control` (e.g. ISO 27001 `A.5.1`) relates to Grundschutz++ `requirement_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MappingRef {
    pub control: String,
    pub requirement_id: String,
    pub relationship: Relationship,
}

/// A requirement behind a covered control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CoveredBy {
    pub requirement_id: String,
    pub relationship: Relationship,
    pub status: Status,
}

/// Coverage of one control of the other catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ControlCoverage {
    pub control: String,
    pub requirements: Vec<CoveredBy>,
    /// Over the mapped requirements that were evaluated (fulfilment: [`StatusCounts::percent`]).
    pub counts: StatusCounts,
}

/// Coverage per control, sorted by control id. Mapped requirements missing from `states` (e.g.
/// outside the target level) are listed with status offen but left out of the counts, so a
/// control is never shown as covered by requirements nobody was asked to meet.
pub fn coverage(mappings: &[MappingRef], states: &[RequirementState<'_>]) -> Vec<ControlCoverage> {
    let by_id: BTreeMap<&str, Status> = states
        .iter()
        .map(|s| (s.requirement.id.as_str(), s.status))
        .collect();
    let mut by_control: BTreeMap<&str, ControlCoverage> = BTreeMap::new();
    for m in mappings {
        let c = by_control
            .entry(m.control.as_str())
            .or_insert_with(|| ControlCoverage {
                control: m.control.clone(),
                requirements: Vec::new(),
                counts: StatusCounts::default(),
            });
        if c.requirements
            .iter()
            .any(|r| r.requirement_id == m.requirement_id)
        {
            continue;
        }
        let status = by_id.get(m.requirement_id.as_str()).copied();
        if let Some(s) = status {
            c.counts.add(s);
        }
        c.requirements.push(CoveredBy {
            requirement_id: m.requirement_id.clone(),
            relationship: m.relationship,
            status: status.unwrap_or(Status::Offen),
        });
    }
    by_control.into_values().collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::date::parse_date;
    use crate::measure::MeasureInput;

    fn d(s: &str) -> Date {
        parse_date(s).unwrap()
    }

    fn req(id: &str, sec: SecLevel) -> RequirementRef {
        RequirementRef {
            id: id.into(),
            practice: id.split('.').next().unwrap().into(),
            sec_level: sec,
            effort_level: 1,
            recurring: None,
        }
    }

    fn ans(id: &str, status: Status, reason: Option<&str>) -> Answer {
        Answer {
            requirement_id: id.into(),
            object_id: None,
            status,
            reason: reason.map(String::from),
            note: None,
            responsible: None,
            assessed_on: d("2026-01-01"),
            review_by: None,
            evidence: vec![],
        }
    }

    fn fixture() -> (Vec<RequirementRef>, Vec<Answer>, Vec<Measure>) {
        let reqs = vec![
            req("NET.1", SecLevel::NormalSdT),
            req("NET.2", SecLevel::NormalSdT),
            req("NET.3", SecLevel::Erhoeht),
        ];
        let answers = vec![
            ans(
                "NET.1",
                Status::Entbehrlich,
                Some("Kein WLAN im Rathaus vorhanden."),
            ),
            ans("NET.2", Status::Nein, None),
        ];
        let m = MeasureInput {
            title: "=Firewall-Regeln prüfen".into(),
            requirement_id: Some("NET.2".into()),
            deadline: Some("2027-03-31".into()),
            towns: vec!["1".into(), "2".into()],
            ..Default::default()
        }
        .validate(Some(Priority::Hoch), |_| true)
        .unwrap();
        (reqs, answers, vec![m])
    }

    #[test]
    fn soa_rows() {
        let (reqs, answers, measures) = fixture();
        let rows = statement_of_applicability(
            &reqs,
            &answers,
            &measures,
            OrgId(2),
            SecLevel::NormalSdT,
            d("2026-06-01"),
        );
        assert_eq!(rows.len(), 2);
        assert!(!rows[0].applicable);
        assert_eq!(
            rows[0].justification,
            Justification::NotApplicable {
                reasons: vec!["Kein WLAN im Rathaus vorhanden.".into()]
            }
        );
        assert!(rows[1].applicable);
        assert_eq!(rows[1].status, Status::Nein);
        assert_eq!(rows[1].measures.len(), 1);
        assert_eq!(rows[1].measures[0].status, MeasureStatus::Geplant);
        let other_town = statement_of_applicability(
            &reqs,
            &answers,
            &measures,
            OrgId(3),
            SecLevel::Erhoeht,
            d("2026-06-01"),
        );
        assert_eq!(other_town.len(), 3);
        assert!(other_town[1].measures.is_empty());
        assert_eq!(other_town[2].status, Status::Offen);
    }

    #[test]
    fn csv_export_translates_and_defuses() {
        let (reqs, answers, measures) = fixture();
        let rows = statement_of_applicability(
            &reqs,
            &answers,
            &measures,
            OrgId(1),
            SecLevel::NormalSdT,
            d("2026-06-01"),
        );
        let csv = soa_csv(&rows, |k| format!("<{k}>")).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert!(lines[0].starts_with("\u{feff}<soa.col.requirement>;"));
        assert_eq!(
            lines[1],
            "NET.1;NET;<asm.sec_level.normal_sdt>;<soa.no>;Kein WLAN im Rathaus vorhanden.;<asm.status.entbehrlich>;"
        );
        assert_eq!(
            lines[2],
            "NET.2;NET;<asm.sec_level.normal_sdt>;<soa.yes>;<asm.sec_level.normal_sdt>;<asm.status.nein>;'=Firewall-Regeln prüfen (<asm.priority.hoch>, <asm.measure.geplant>, 2027-03-31)"
        );
    }

    #[test]
    fn coverage_through_mappings() {
        let (reqs, answers, _) = fixture();
        let mut answers = answers;
        answers.push(ans("NET.3", Status::Ja, None));
        let all = evaluate(&reqs, &answers, d("2026-06-01"));
        let normal: Vec<_> = all
            .into_iter()
            .filter(|s| s.requirement.sec_level == SecLevel::NormalSdT)
            .collect();
        let maps = [
            MappingRef {
                control: "A.8.20".into(),
                requirement_id: "NET.2".into(),
                relationship: Relationship::SubsetOf,
            },
            MappingRef {
                control: "A.8.20".into(),
                requirement_id: "NET.3".into(),
                relationship: Relationship::IntersectsWith,
            },
            MappingRef {
                control: "A.8.20".into(),
                requirement_id: "NET.3".into(),
                relationship: Relationship::IntersectsWith,
            },
            MappingRef {
                control: "A.5.1".into(),
                requirement_id: "NET.1".into(),
                relationship: Relationship::EquivalentTo,
            },
        ];
        let c = coverage(&maps, &normal);
        assert_eq!(c[0].control, "A.5.1");
        assert_eq!(c[0].counts.percent(), None); // only entbehrlich
        assert_eq!(c[1].requirements.len(), 2);
        assert_eq!(c[1].requirements[1].status, Status::Offen); // NET.3 outside the target
        assert_eq!(c[1].counts.base(), 1);
        assert_eq!(c[1].counts.percent(), Some(0));
        assert_eq!(
            Relationship::parse("subset-of"),
            Some(Relationship::SubsetOf)
        );
    }
}
