//! Emergency exercises (Notfallübungen, BSI 200-4 ch. 8): plan one, record how it went, and turn
//! its findings into measures with an owner and a due date. Measured restore times from an
//! exercise feed the backup register as restore tests.

use crate::backup::{RestoreResult, RestoreTest};
use crate::bia::parse_date;
use crate::span::Span;
use serde::{Deserialize, Serialize};
use stadtmauer_core::validate::{self, FieldErrors};
use stadtmauer_core::{DomainError, ObjectId};
use time::Date;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExerciseKind {
    /// Planbesprechung / Tabletop: the crisis team talks a scenario through.
    Tabletop,
    /// Alarmierungsübung: does the alarm chain reach everyone, also without the phone system?
    AlarmTest,
    /// Wiederherstellungstest: restore a system from backup and time it.
    RestoreTest,
    /// Notbetriebsübung: run a process on paper.
    ManualOperation,
    /// Stabsrahmenübung / full exercise.
    Full,
}

impl ExerciseKind {
    pub fn parse(s: &str) -> Option<ExerciseKind> {
        match s.trim().to_lowercase().replace(['-', ' '], "_").as_str() {
            "tabletop" | "planbesprechung" => Some(ExerciseKind::Tabletop),
            "alarm_test" | "alarmierung" | "alarmierungsübung" => Some(ExerciseKind::AlarmTest),
            "restore_test" | "wiederherstellung" | "wiederherstellungstest" => {
                Some(ExerciseKind::RestoreTest)
            }
            "manual_operation" | "notbetrieb" | "notbetriebsübung" => {
                Some(ExerciseKind::ManualOperation)
            }
            "full" | "vollübung" | "stabsrahmenübung" => Some(ExerciseKind::Full),
            _ => None,
        }
    }
}

/// A planned exercise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exercise {
    pub title: String,
    pub kind: ExerciseKind,
    pub planned: Date,
    pub scenario: Option<String>,
    pub objectives: Vec<String>,
    /// Objects the exercise covers (processes to run on paper, systems to restore).
    pub objects: Vec<ObjectId>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ExerciseInput {
    pub title: String,
    pub kind: String,
    pub planned: String,
    pub scenario: Option<String>,
    pub objectives: Vec<String>,
    pub objects: Vec<ObjectId>,
}

impl ExerciseInput {
    /// Field errors: `title`, `kind`, `planned` (`err.date`, `err.date_past`), `objectives`
    /// (`err.exercise.no_objective`).
    pub fn validate(&self, today: Date) -> Result<Exercise, DomainError> {
        let mut e = FieldErrors::default();
        let title = validate::required_text(&mut e, "title", &self.title, 160);
        let kind = ExerciseKind::parse(&self.kind);
        if kind.is_none() {
            e.add("kind", "err.choose_one");
        }
        let planned = parse_date(&self.planned);
        match planned {
            None => e.add("planned", validate::date_error(&self.planned, "err.date")),
            Some(d) if d < today => e.add("planned", "err.date_past"),
            Some(_) => {}
        }
        let scenario = validate::optional_text(&mut e, "scenario", self.scenario.as_deref(), 2000);
        let objectives: Vec<String> = self
            .objectives
            .iter()
            .map(|o| o.trim())
            .filter(|o| !o.is_empty())
            .map(|o| validate::required_text(&mut e, "objectives", o, 500))
            .collect();
        if objectives.is_empty() {
            e.add("objectives", "err.exercise.no_objective");
        }
        e.into_result(Exercise {
            title,
            kind: kind.unwrap_or(ExerciseKind::Tabletop),
            planned: planned.unwrap_or(today),
            scenario,
            objectives,
            objects: self.objects.clone(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
}

/// What a finding is about; decides the measure suggested for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingCategory {
    /// A number, name or deputy in the handbook was wrong or missing.
    ContactData,
    /// Someone could not be reached (only via the town's phone system, no deputy).
    Reachability,
    /// A restore failed or took longer than the RTO allows.
    Restore,
    /// The paper procedure did not work (forms missing, steps unclear).
    ManualProcedure,
    /// Roles, decisions, documentation in the crisis team.
    Organisation,
    /// Missing technical safeguard (offline copy, MFA, segmentation …).
    Technical,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub category: FindingCategory,
    pub severity: Severity,
    pub description: String,
    pub object: Option<ObjectId>,
}

/// A restore measured during the exercise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasuredRestore {
    pub system: ObjectId,
    pub duration: Span,
    pub result: RestoreResult,
    pub errors: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExerciseResult {
    pub held: Date,
    pub duration: Span,
    pub participants: Vec<String>,
    /// Per objective of the plan, in order: reached?
    pub objectives_met: Vec<bool>,
    pub findings: Vec<Finding>,
    pub restores: Vec<MeasuredRestore>,
}

/// A measure proposed from a finding, for the town's measure list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasureSuggestion {
    pub finding: usize,
    /// i18n key of the measure's title.
    pub key: &'static str,
    pub object: Option<ObjectId>,
    pub priority: Severity,
    pub due: Date,
    /// The finding's own words, to carry into the measure's description.
    pub description: String,
}

/// One measure per finding. Due dates: high 14 days, medium 60, low 180 after the exercise;
/// contact data is fixed within 14 days whatever the severity — a wrong number in the handbook
/// costs hours when it is needed.
pub fn suggest_measures(result: &ExerciseResult) -> Vec<MeasureSuggestion> {
    result
        .findings
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let key = match f.category {
                FindingCategory::ContactData => "bcm.measure.update_contacts",
                FindingCategory::Reachability => "bcm.measure.independent_phones",
                FindingCategory::Restore => "bcm.measure.restore_test",
                FindingCategory::ManualProcedure => "bcm.measure.revise_procedure",
                FindingCategory::Organisation => "bcm.measure.crisis_organisation",
                FindingCategory::Technical => "bcm.measure.technical",
            };
            let days = match (f.category, f.severity) {
                (FindingCategory::ContactData, _) | (_, Severity::High) => 14,
                (_, Severity::Medium) => 60,
                (_, Severity::Low) => 180,
            };
            MeasureSuggestion {
                finding: i,
                key,
                object: f.object,
                priority: f.severity,
                due: result.held.saturating_add(time::Duration::days(days)),
                description: f.description.clone(),
            }
        })
        .collect()
}

/// The exercise's measured restores as restore tests for the backup register.
pub fn restore_tests(result: &ExerciseResult) -> Vec<(ObjectId, RestoreTest)> {
    result
        .restores
        .iter()
        .map(|r| {
            (
                r.system,
                RestoreTest {
                    date: result.held,
                    duration: r.duration,
                    result: r.result,
                    errors: r.errors,
                    notes: None,
                },
            )
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn plan_validation() {
        let ok = ExerciseInput {
            title: "Ransomware-Planspiel".into(),
            kind: "Planbesprechung".into(),
            planned: "2027-02-10".into(),
            objectives: vec!["Alarmkette ohne Telefonanlage".into(), " ".into()],
            ..Default::default()
        };
        let x = ok.validate(date!(2026 - 11 - 28)).unwrap();
        assert_eq!((x.kind, x.objectives.len()), (ExerciseKind::Tabletop, 1));
        let bad = ExerciseInput {
            title: "".into(),
            kind: "Picknick".into(),
            planned: "2020-01-01".into(),
            ..Default::default()
        };
        let Err(DomainError::Invalid(e)) = bad.validate(date!(2026 - 11 - 28)) else {
            panic!()
        };
        let got: Vec<_> = e.0.iter().map(|e| (e.field, e.message)).collect();
        assert_eq!(
            got,
            vec![
                ("title", "err.required"),
                ("kind", "err.choose_one"),
                ("planned", "err.date_past"),
                ("objectives", "err.exercise.no_objective"),
            ]
        );
    }

    #[test]
    fn findings_become_measures() {
        let f = |category, severity| Finding {
            category,
            severity,
            description: "x".into(),
            object: Some(ObjectId(13)),
        };
        let r = ExerciseResult {
            held: date!(2026 - 11 - 20),
            duration: Span::hours(3),
            participants: vec!["Krisenstab".into()],
            objectives_met: vec![false],
            findings: vec![
                f(FindingCategory::ContactData, Severity::Low),
                f(FindingCategory::Restore, Severity::High),
                f(FindingCategory::ManualProcedure, Severity::Medium),
                f(FindingCategory::Technical, Severity::Low),
            ],
            restores: vec![MeasuredRestore {
                system: ObjectId(13),
                duration: Span::hours(9),
                result: RestoreResult::Success,
                errors: 0,
            }],
        };
        let got: Vec<_> = suggest_measures(&r)
            .into_iter()
            .map(|m| (m.key, m.due))
            .collect();
        assert_eq!(
            got,
            vec![
                ("bcm.measure.update_contacts", date!(2026 - 12 - 04)),
                ("bcm.measure.restore_test", date!(2026 - 12 - 04)),
                ("bcm.measure.revise_procedure", date!(2027 - 01 - 19)),
                ("bcm.measure.technical", date!(2027 - 05 - 19)),
            ]
        );
        let t = restore_tests(&r);
        assert_eq!(
            (t[0].0, t[0].1.duration, t[0].1.date),
            (ObjectId(13), Span::hours(9), date!(2026 - 11 - 20))
        );
    }
}
