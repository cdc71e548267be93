//! The measures plan (Realisierungsplan): every nein or teilweise becomes a measure with owner,
//! deadline, priority, estimated cost and effort, and a status per town. The office can plan one
//! measure for several towns at once (a shared measure, e.g. one awareness campaign for the
//! Verbund); each town then tracks its own progress on it.
//!
//! Priority follows from the protection requirement and the effort level ([`priority`]).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use stadtmauer_core::validate::{self, date_error, FieldErrors};
use stadtmauer_core::{DomainError, ObjectId, OrgId};
use stadtmauer_inventory::Level;
use time::Date;

use crate::answer::{Answer, Status};
use crate::date::{days_between, parse_date};
use crate::requirement::RequirementRef;
use crate::score::{aggregate_objects, current_answers};

/// Priority of a measure; `Sofort` first.
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
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Sofort = 1,
    Hoch = 2,
    Mittel = 3,
    Niedrig = 4,
}

impl Priority {
    pub const ALL: [Priority; 4] = [
        Priority::Sofort,
        Priority::Hoch,
        Priority::Mittel,
        Priority::Niedrig,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Sofort => "sofort",
            Priority::Hoch => "hoch",
            Priority::Mittel => "mittel",
            Priority::Niedrig => "niedrig",
        }
    }
    pub fn parse(s: &str) -> Option<Priority> {
        match s.trim().to_lowercase().as_str() {
            "sofort" | "1" | "immediate" | "kritisch" | "critical" => Some(Priority::Sofort),
            "hoch" | "2" | "high" => Some(Priority::Hoch),
            "mittel" | "3" | "medium" => Some(Priority::Mittel),
            "niedrig" | "4" | "low" | "gering" => Some(Priority::Niedrig),
            _ => None,
        }
    }
    pub fn label_key(self) -> &'static str {
        match self {
            Priority::Sofort => "asm.priority.sofort",
            Priority::Hoch => "asm.priority.hoch",
            Priority::Mittel => "asm.priority.mittel",
            Priority::Niedrig => "asm.priority.niedrig",
        }
    }
}

/// Priority from the highest Schutzbedarf the gap touches and the requirement's effort level:
///
/// | Schutzbedarf \ Aufwand | 0      | 1      | 2      | 3      | 4       | 5       |
/// |------------------------|--------|--------|--------|--------|---------|---------|
/// | sehr hoch              | Sofort | Sofort | Sofort | Hoch   | Hoch    | Mittel  |
/// | hoch                   | Sofort | Sofort | Hoch   | Hoch   | Mittel  | Mittel  |
/// | normal                 | Hoch   | Hoch   | Mittel | Mittel | Niedrig | Niedrig |
///
/// Why: effort 0 means "mandatory whatever it costs" (Grundschutz++), so it is never below Hoch;
/// quick wins (1–2) come before long projects at the same protection level, because they close
/// gaps soonest; a higher protection requirement moves every column up one step.
/// Effort levels above 5 are treated as 5.
pub fn priority(protection: Level, effort_level: u8) -> Priority {
    use Priority::*;
    const TABLE: [[Priority; 6]; 3] = [
        [Hoch, Hoch, Mittel, Mittel, Niedrig, Niedrig],
        [Sofort, Sofort, Hoch, Hoch, Mittel, Mittel],
        [Sofort, Sofort, Sofort, Hoch, Hoch, Mittel],
    ];
    let row = match protection {
        Level::Normal => 0,
        Level::Hoch => 1,
        Level::SehrHoch => 2,
    };
    TABLE[row][usize::from(effort_level.min(5))]
}

/// Progress of a measure in one town.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MeasureStatus {
    Geplant,
    InArbeit,
    Umgesetzt,
    Verworfen,
}

impl MeasureStatus {
    pub const ALL: [MeasureStatus; 4] = [
        MeasureStatus::Geplant,
        MeasureStatus::InArbeit,
        MeasureStatus::Umgesetzt,
        MeasureStatus::Verworfen,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            MeasureStatus::Geplant => "geplant",
            MeasureStatus::InArbeit => "in_arbeit",
            MeasureStatus::Umgesetzt => "umgesetzt",
            MeasureStatus::Verworfen => "verworfen",
        }
    }
    pub fn parse(s: &str) -> Option<MeasureStatus> {
        match s.trim().to_lowercase().replace(['-', ' '], "_").as_str() {
            "geplant" | "planned" | "offen" | "open" => Some(MeasureStatus::Geplant),
            "in_arbeit" | "in_umsetzung" | "in_progress" | "läuft" => {
                Some(MeasureStatus::InArbeit)
            }
            "umgesetzt" | "erledigt" | "done" | "abgeschlossen" => Some(MeasureStatus::Umgesetzt),
            "verworfen" | "dropped" | "abgelehnt" => Some(MeasureStatus::Verworfen),
            _ => None,
        }
    }
    pub fn label_key(self) -> &'static str {
        match self {
            MeasureStatus::Geplant => "asm.measure.geplant",
            MeasureStatus::InArbeit => "asm.measure.in_arbeit",
            MeasureStatus::Umgesetzt => "asm.measure.umgesetzt",
            MeasureStatus::Verworfen => "asm.measure.verworfen",
        }
    }
    /// Still to be done (counts for overdue lists).
    pub fn is_open(self) -> bool {
        matches!(self, MeasureStatus::Geplant | MeasureStatus::InArbeit)
    }
}

/// One town's part in a measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TownProgress {
    pub organisation_id: OrgId,
    pub status: MeasureStatus,
}

/// A validated measure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Measure {
    pub title: String,
    pub description: Option<String>,
    /// The requirement whose gap the measure closes (none for a free-standing measure).
    pub requirement_id: Option<String>,
    /// The objects concerned, when the gap was recorded per object.
    pub objects: Vec<ObjectId>,
    pub owner: Option<String>,
    #[serde(with = "crate::date::iso_opt", default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub deadline: Option<Date>,
    pub priority: Priority,
    /// Estimated cost in whole euros.
    pub cost_eur: Option<u64>,
    /// Estimated effort in person-days.
    pub effort_person_days: Option<f64>,
    /// At least one; more than one makes it a shared measure.
    pub towns: Vec<TownProgress>,
}

impl Measure {
    pub fn is_shared(&self) -> bool {
        self.towns.len() > 1
    }
    /// Sets one town's progress; `false` if the town is not part of the measure.
    pub fn set_status(&mut self, org: OrgId, status: MeasureStatus) -> bool {
        match self.towns.iter_mut().find(|t| t.organisation_id == org) {
            Some(t) => {
                t.status = status;
                true
            }
            None => false,
        }
    }
}

/// What a form or API call submits. Everything is text.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct MeasureInput {
    pub title: String,
    pub description: Option<String>,
    pub requirement_id: Option<String>,
    #[serde(default)]
    pub objects: Vec<String>,
    pub owner: Option<String>,
    pub deadline: Option<String>,
    /// Empty: the derived priority.
    pub priority: Option<String>,
    /// "12.500", "12.500,00 €", "800 EUR".
    pub cost_eur: Option<String>,
    /// "2,5" or "2.5".
    pub effort_person_days: Option<String>,
    /// Status given to every town on creation; empty = geplant.
    pub status: Option<String>,
    /// Organisation ids.
    #[serde(default)]
    pub towns: Vec<String>,
}

impl MeasureInput {
    /// `derived` is the priority from [`priority`] when the measure closes a known gap.
    /// `may_plan_for` says whether the caller may plan for a town (the scope decides; only the
    /// office may plan for several towns, because only it has write access to all of them).
    pub fn validate(
        &self,
        derived: Option<Priority>,
        may_plan_for: impl Fn(OrgId) -> bool,
    ) -> Result<Measure, DomainError> {
        let mut e = FieldErrors::default();
        let title = validate::required_text(&mut e, "title", &self.title, 200);
        let description =
            validate::optional_text(&mut e, "description", self.description.as_deref(), 4000);
        let requirement_id =
            validate::optional_text(&mut e, "requirement_id", self.requirement_id.as_deref(), 64);
        let owner = validate::optional_text(&mut e, "owner", self.owner.as_deref(), 160);
        let mut objects = BTreeSet::new();
        for o in &self.objects {
            match o.trim().parse::<i64>() {
                Ok(n) if n > 0 => {
                    objects.insert(ObjectId(n));
                }
                _ => e.add("objects", "err.not_a_number"),
            }
        }
        let deadline = match self.deadline.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => parse_date(raw).or_else(|| {
                e.add("deadline", date_error(raw, "err.date_format"));
                None
            }),
        };
        let priority = match self.priority.as_deref().map(str::trim) {
            None | Some("") => derived.unwrap_or(Priority::Mittel),
            Some(raw) => Priority::parse(raw).unwrap_or_else(|| {
                e.add("priority", "err.choose_one");
                Priority::Mittel
            }),
        };
        let cost_eur = match self.cost_eur.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => parse_euros(raw).or_else(|| {
                e.add("cost_eur", "err.not_a_number");
                None
            }),
        };
        let effort_person_days = match self.effort_person_days.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => match raw.replace(',', ".").parse::<f64>() {
                Ok(x) if x.is_finite() && x > 0.0 && x <= 10_000.0 => Some(x),
                Ok(_) => {
                    e.add("effort_person_days", "err.out_of_range");
                    None
                }
                Err(_) => {
                    e.add("effort_person_days", "err.not_a_number");
                    None
                }
            },
        };
        let status = match self.status.as_deref().map(str::trim) {
            None | Some("") => MeasureStatus::Geplant,
            Some(raw) => MeasureStatus::parse(raw).unwrap_or_else(|| {
                e.add("status", "err.choose_one");
                MeasureStatus::Geplant
            }),
        };
        let mut towns = BTreeSet::new();
        for t in &self.towns {
            match t.trim().parse::<i64>() {
                Ok(n) if may_plan_for(OrgId(n)) => {
                    towns.insert(OrgId(n));
                }
                Ok(_) => e.add("towns", "err.town_not_allowed"),
                Err(_) => e.add("towns", "err.not_a_number"),
            }
        }
        if self.towns.is_empty() {
            e.add("towns", "err.required");
        }
        e.into_result(Measure {
            title,
            description,
            requirement_id,
            objects: objects.into_iter().collect(),
            owner,
            deadline,
            priority,
            cost_eur,
            effort_person_days,
            towns: towns
                .into_iter()
                .map(|organisation_id| TownProgress {
                    organisation_id,
                    status,
                })
                .collect(),
        })
    }
}

/// Whole euros from "12.500", "12 500 €", "12.500,50 EUR" (cents rounded half up), "800".
fn parse_euros(raw: &str) -> Option<u64> {
    let s: String = raw
        .trim()
        .trim_end_matches("EUR")
        .trim_end_matches("eur")
        .trim_end_matches('€')
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '.'))
        .collect();
    let (whole, cents) = match s.split_once(',') {
        Some((w, c)) => (w, c),
        None => (s.as_str(), ""),
    };
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || cents.len() > 2
        || !cents.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let w: u64 = whole.parse().ok().filter(|w| *w <= 1_000_000_000)?;
    let round_up = cents.as_bytes().first().is_some_and(|d| *d >= b'5');
    Some(w + u64::from(round_up))
}

/// A measure the plan proposes for a gap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MeasureDraft {
    pub requirement_id: String,
    /// Nein or teilweise, folded over objects.
    pub from: Status,
    /// The objects with a gap (empty for a town-wide answer).
    pub objects: Vec<ObjectId>,
    pub protection: Level,
    pub effort_level: u8,
    pub priority: Priority,
}

/// Proposes one measure per requirement whose recorded answer is nein or teilweise and that has no
/// measure yet (`already_planned`). The recorded status is used, not the effective one: a gap stays
/// a gap until someone re-assesses it, even when the answer has expired.
///
/// `protection_of(None)` is the town's highest Schutzbedarf, `protection_of(Some(o))` an object's;
/// the priority uses the highest among the objects with a gap. Sorted by priority, then id.
pub fn derive_measures(
    requirements: &[RequirementRef],
    answers: &[Answer],
    protection_of: impl Fn(Option<ObjectId>) -> Level,
    already_planned: impl Fn(&str) -> bool,
) -> Vec<MeasureDraft> {
    let current = current_answers(answers);
    let mut drafts: Vec<MeasureDraft> = requirements
        .iter()
        .filter(|r| !already_planned(&r.id))
        .filter_map(|r| {
            let list = current.get(r.id.as_str())?;
            let from = aggregate_objects(list.iter().map(|a| a.status));
            if !from.is_gap() {
                return None;
            }
            let gaps: Vec<&&Answer> = list.iter().filter(|a| a.status.is_gap()).collect();
            let objects: Vec<ObjectId> = gaps.iter().filter_map(|a| a.object_id).collect();
            let protection = gaps
                .iter()
                .map(|a| protection_of(a.object_id))
                .max()
                .unwrap_or(Level::Normal);
            Some(MeasureDraft {
                requirement_id: r.id.clone(),
                from,
                objects,
                protection,
                effort_level: r.effort_level,
                priority: priority(protection, r.effort_level),
            })
        })
        .collect();
    drafts.sort_by(|a, b| (a.priority, &a.requirement_id).cmp(&(b.priority, &b.requirement_id)));
    drafts
}

/// A measure past its deadline in one town.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Overdue<I> {
    pub id: I,
    pub organisation_id: OrgId,
    pub priority: Priority,
    #[serde(with = "crate::date::iso")]
    pub deadline: Date,
    pub days_overdue: i64,
}

/// Measures whose deadline lies before `at` and that a town has not finished or dropped: one entry
/// per town, so a shared measure shows on each late town's dashboard. Sorted by priority, then
/// most overdue first.
pub fn overdue<'a, I: Copy + 'a>(
    measures: impl IntoIterator<Item = (I, &'a Measure)>,
    at: Date,
) -> Vec<Overdue<I>> {
    let mut v: Vec<Overdue<I>> = measures
        .into_iter()
        .filter_map(|(id, m)| Some((id, m, m.deadline.filter(|d| *d < at)?)))
        .flat_map(|(id, m, deadline)| {
            m.towns
                .iter()
                .filter(|t| t.status.is_open())
                .map(move |t| Overdue {
                    id,
                    organisation_id: t.organisation_id,
                    priority: m.priority,
                    deadline,
                    days_overdue: days_between(deadline, at),
                })
        })
        .collect();
    v.sort_by(|a, b| {
        a.priority
            .cmp(&b.priority)
            .then(b.days_overdue.cmp(&a.days_overdue))
    });
    v
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::requirement::SecLevel;

    fn d(s: &str) -> Date {
        parse_date(s).unwrap()
    }

    #[test]
    fn priority_table() {
        use Priority::*;
        for (l, e, p) in [
            (Level::Normal, 0, Hoch),
            (Level::Normal, 2, Mittel),
            (Level::Normal, 5, Niedrig),
            (Level::Hoch, 1, Sofort),
            (Level::Hoch, 4, Mittel),
            (Level::SehrHoch, 2, Sofort),
            (Level::SehrHoch, 5, Mittel),
            (Level::SehrHoch, 200, Mittel),
        ] {
            assert_eq!(priority(l, e), p, "{l:?} {e}");
        }
        // Monotone: more protection never lowers, more effort never raises the priority.
        for e in 0..=6u8 {
            for w in Level::ALL.windows(2) {
                assert!(priority(w[1], e) <= priority(w[0], e));
            }
            for l in Level::ALL {
                assert!(priority(l, e) <= priority(l, e + 1));
            }
        }
    }

    fn input() -> MeasureInput {
        MeasureInput {
            title: "Offline-Backup einführen".into(),
            towns: vec!["3".into()],
            ..Default::default()
        }
    }

    fn check(i: MeasureInput, expected: &[(&str, &str)]) -> Option<Measure> {
        match i.validate(Some(Priority::Hoch), |o| o.0 < 10) {
            Ok(m) => {
                assert!(expected.is_empty(), "{m:?}");
                Some(m)
            }
            Err(DomainError::Invalid(e)) => {
                let got: Vec<_> = e.0.iter().map(|f| (f.field, f.message)).collect();
                assert_eq!(got, expected);
                None
            }
            Err(x) => panic!("{x:?}"),
        }
    }

    #[test]
    fn validation() {
        let m = check(
            MeasureInput {
                cost_eur: Some("12.500,50 €".into()),
                effort_person_days: Some("2,5".into()),
                deadline: Some("31.03.2027".into()),
                towns: vec!["3".into(), "4".into(), "3".into()],
                ..input()
            },
            &[],
        )
        .unwrap();
        assert_eq!(m.cost_eur, Some(12_501));
        assert_eq!(m.effort_person_days, Some(2.5));
        assert_eq!(m.deadline, Some(d("2027-03-31")));
        assert_eq!(m.priority, Priority::Hoch);
        assert!(m.is_shared());
        assert_eq!(m.towns.len(), 2);
        check(
            MeasureInput {
                title: "".into(),
                priority: Some("eilig".into()),
                cost_eur: Some("viel".into()),
                effort_person_days: Some("-1".into()),
                towns: vec!["42".into()],
                deadline: Some("gestern".into()),
                ..input()
            },
            &[
                ("title", "err.required"),
                ("deadline", "err.date_format"),
                ("priority", "err.choose_one"),
                ("cost_eur", "err.not_a_number"),
                ("effort_person_days", "err.out_of_range"),
                ("towns", "err.town_not_allowed"),
            ],
        );
        check(
            MeasureInput {
                towns: vec![],
                ..input()
            },
            &[("towns", "err.required")],
        );
        for (raw, eur) in [
            ("800", Some(800)),
            ("800 EUR", Some(800)),
            ("1.000,49", Some(1000)),
            ("1,2,3", None),
            ("", None),
            (",5", None),
        ] {
            assert_eq!(parse_euros(raw), eur, "{raw}");
        }
    }

    fn ans(id: &str, object: Option<i64>, status: Status) -> Answer {
        Answer {
            requirement_id: id.into(),
            object_id: object.map(ObjectId),
            status,
            reason: None,
            note: None,
            responsible: None,
            assessed_on: d("2026-01-01"),
            review_by: None,
            evidence: vec![],
        }
    }

    #[test]
    fn derive_from_gaps() {
        let req = |id: &str, effort| RequirementRef {
            id: id.into(),
            practice: "P".into(),
            sec_level: SecLevel::NormalSdT,
            effort_level: effort,
            recurring: None,
        };
        let reqs = vec![
            req("A", 3),
            req("B", 1),
            req("C", 1),
            req("D", 2),
            req("E", 5),
        ];
        let answers = vec![
            ans("A", None, Status::Nein),
            ans("B", Some(1), Status::Ja),
            ans("B", Some(2), Status::Nein), // object 2 is sehr hoch
            ans("C", None, Status::Ja),
            ans("D", None, Status::Teilweise),
            ans("E", None, Status::Nein),
        ];
        let drafts = derive_measures(
            &reqs,
            &answers,
            |o| {
                if o == Some(ObjectId(2)) {
                    Level::SehrHoch
                } else {
                    Level::Normal
                }
            },
            |id| id == "E",
        );
        let got: Vec<_> = drafts
            .iter()
            .map(|m| {
                (
                    m.requirement_id.as_str(),
                    m.from,
                    m.priority,
                    m.objects.clone(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("B", Status::Teilweise, Priority::Sofort, vec![ObjectId(2)]),
                ("A", Status::Nein, Priority::Mittel, vec![]),
                ("D", Status::Teilweise, Priority::Mittel, vec![]),
            ]
        );
    }

    #[test]
    fn overdue_per_town() {
        let mut shared = check(
            MeasureInput {
                deadline: Some("2026-10-01".into()),
                towns: vec!["1".into(), "2".into(), "3".into()],
                priority: Some("mittel".into()),
                ..input()
            },
            &[],
        )
        .unwrap();
        assert!(shared.set_status(OrgId(2), MeasureStatus::Umgesetzt));
        assert!(!shared.set_status(OrgId(9), MeasureStatus::Umgesetzt));
        let urgent = check(
            MeasureInput {
                deadline: Some("2026-11-20".into()),
                priority: Some("sofort".into()),
                ..input()
            },
            &[],
        )
        .unwrap();
        let future = check(
            MeasureInput {
                deadline: Some("2027-01-01".into()),
                ..input()
            },
            &[],
        )
        .unwrap();
        let no_deadline = check(input(), &[]).unwrap();
        let list = [
            (10, &shared),
            (11, &urgent),
            (12, &future),
            (13, &no_deadline),
        ];
        let got: Vec<_> = overdue(list, d("2026-11-27"))
            .iter()
            .map(|o| (o.id, o.organisation_id.0, o.days_overdue))
            .collect();
        assert_eq!(got, [(11, 3, 7), (10, 1, 57), (10, 3, 57)]);
    }
}
