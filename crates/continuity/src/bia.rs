//! Business impact analysis (BIA, BSI 200-4 ch. 4.3) of one process: how long it may stand still
//! (MTA), when it must be back (RTO), how much data it may lose (RPO), its criticality class,
//! the legal deadlines it serves, and the paper procedure (Notbetrieb) that keeps it going.

use crate::span::Span;
use serde::{Deserialize, Serialize};
use stadtmauer_core::validate::{self, FieldErrors};
use stadtmauer_core::{DomainError, ObjectId};
use time::{Date, Month, PrimitiveDateTime, Time};

/// Kritikalitätsklasse of a process (BSI 200-4's four-step scale).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Criticality {
    Niedrig = 1,
    Mittel = 2,
    Hoch = 3,
    SehrHoch = 4,
}

impl Criticality {
    pub const ALL: [Criticality; 4] = [
        Criticality::Niedrig,
        Criticality::Mittel,
        Criticality::Hoch,
        Criticality::SehrHoch,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Criticality::Niedrig => "niedrig",
            Criticality::Mittel => "mittel",
            Criticality::Hoch => "hoch",
            Criticality::SehrHoch => "sehr_hoch",
        }
    }
    /// Accepts the German and English words, "1"–"4" and "sehr hoch".
    pub fn parse(s: &str) -> Option<Criticality> {
        match s.trim().to_lowercase().replace(['_', '-'], " ").as_str() {
            "niedrig" | "low" | "1" => Some(Criticality::Niedrig),
            "mittel" | "medium" | "2" => Some(Criticality::Mittel),
            "hoch" | "high" | "3" => Some(Criticality::Hoch),
            "sehr hoch" | "very high" | "kritisch" | "critical" | "4" => {
                Some(Criticality::SehrHoch)
            }
            _ => None,
        }
    }
    pub fn label_key(self) -> &'static str {
        match self {
            Criticality::Niedrig => "bcm.crit.niedrig",
            Criticality::Mittel => "bcm.crit.mittel",
            Criticality::Hoch => "bcm.crit.hoch",
            Criticality::SehrHoch => "bcm.crit.sehr_hoch",
        }
    }
}

/// When a legal or contractual deadline falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "value")]
pub enum DeadlineRule {
    /// Every month on this day (1–31; in shorter months the last day), e.g. benefits on the 1st.
    MonthlyDay(u8),
    /// Once, on this date (an election, a tax assessment deadline).
    Fixed(Date),
    /// Within this many hours of the start of the outage (e.g. the 72 h GDPR breach notice).
    WithinHours(u32),
}

/// A deadline the process must meet. `lead` is the time the process needs before the due
/// instant (a payment run must reach the bank two days before the 1st).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalDeadline {
    pub description: String,
    pub rule: DeadlineRule,
    pub lead: Span,
}

impl LegalDeadline {
    /// The instant by which the process must be running again for the first occurrence that
    /// is still ahead when the outage starts, or `None` if none is (a fixed date in the past).
    /// Monthly deadlines fall due at 00:00 of their day; an occurrence whose lead time had
    /// already begun at the outage start counts as prepared, so the next one is taken.
    pub fn next_due(&self, outage_start: PrimitiveDateTime) -> Option<PrimitiveDateTime> {
        let lead = time::Duration::minutes(i64::from(self.lead.0));
        match self.rule {
            DeadlineRule::WithinHours(h) => {
                Some(outage_start + time::Duration::hours(i64::from(h)))
            }
            DeadlineRule::Fixed(d) => {
                let due = PrimitiveDateTime::new(d, Time::MIDNIGHT) - lead;
                (due > outage_start).then_some(due)
            }
            DeadlineRule::MonthlyDay(day) => {
                let (mut y, mut m) = (outage_start.year(), outage_start.month());
                // Thirteen months always contain an occurrence whose lead starts after the outage
                // (leads are capped below a year by Span's limit only loosely, so look further).
                for _ in 0..400 {
                    let last = m.length(y);
                    let d = day.clamp(1, last);
                    if let Ok(date) = Date::from_calendar_date(y, m, d) {
                        let due = PrimitiveDateTime::new(date, Time::MIDNIGHT) - lead;
                        if due > outage_start {
                            return Some(due);
                        }
                    }
                    if m == Month::December {
                        y += 1;
                    }
                    m = m.next();
                }
                None
            }
        }
    }
}

/// One line of the paper procedure: who does what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcedureStep {
    pub who: String,
    pub what: String,
}

/// Notbetrieb: how the process runs on paper while IT is down.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ManualProcedure {
    pub summary: Option<String>,
    pub steps: Vec<ProcedureStep>,
    /// Forms, lists, cash boxes, stamps the procedure needs, and where they are kept.
    pub materials: Option<String>,
    /// How long paper operation can carry the process (after that, backlog becomes unmanageable).
    pub sustainable_for: Option<Span>,
}

/// A validated BIA of one process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bia {
    pub process: ObjectId,
    /// Maximal tolerierbare Ausfallzeit (MTPD).
    pub mta: Span,
    /// Recovery time objective, at most the MTA.
    pub rto: Span,
    /// Recovery point objective; `None`: the process keeps no data worth restoring.
    pub rpo: Option<Span>,
    pub criticality: Criticality,
    pub deadlines: Vec<LegalDeadline>,
    pub procedure: ManualProcedure,
}

/// A legal deadline as submitted.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct DeadlineInput {
    pub description: String,
    /// "monthly", "fixed" or "within".
    pub kind: String,
    /// Day of month (monthly), `YYYY-MM-DD` (fixed) or hours (within: "72", "3d").
    pub value: String,
    pub lead: Option<String>,
}

/// A procedure step as submitted.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct StepInput {
    pub who: String,
    pub what: String,
}

/// What the BIA form or API submits, before validation.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct BiaInput {
    pub mta: String,
    pub rto: String,
    pub rpo: Option<String>,
    pub criticality: String,
    pub deadlines: Vec<DeadlineInput>,
    pub procedure_summary: Option<String>,
    pub procedure_steps: Vec<StepInput>,
    pub procedure_materials: Option<String>,
    pub procedure_sustainable_for: Option<String>,
}

/// What validation must know besides the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BiaContext {
    pub process: ObjectId,
    /// Is any system the process depends on covered by a backup? An RPO promises a restore
    /// point; without a backup it is a promise nobody can keep.
    pub has_backup: bool,
}

fn span_field(e: &mut FieldErrors, field: &'static str, raw: &str) -> Option<Span> {
    match Span::parse(raw) {
        Ok(s) => Some(s),
        Err(err) => {
            e.add(field, err.key());
            None
        }
    }
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(raw: &str) -> Option<Date> {
    let mut p = raw.trim().split('-');
    let y: i32 = p.next()?.parse().ok()?;
    let m: u8 = p.next()?.parse().ok()?;
    let d: u8 = p.next()?.parse().ok()?;
    if p.next().is_some() || !(1900..=9999).contains(&y) {
        return None;
    }
    Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()
}

impl DeadlineInput {
    fn validate(&self, e: &mut FieldErrors) -> LegalDeadline {
        let description =
            validate::required_text(e, "deadline_description", &self.description, 200);
        let value = self.value.trim();
        let rule = match self.kind.trim().to_lowercase().as_str() {
            "monthly" | "monatlich" => match value.trim_end_matches('.').parse::<u8>() {
                Ok(d) if (1..=31).contains(&d) => Some(DeadlineRule::MonthlyDay(d)),
                _ => {
                    e.add("deadline_value", "err.bia.day_of_month");
                    None
                }
            },
            "fixed" | "datum" => match parse_date(value) {
                Some(d) => Some(DeadlineRule::Fixed(d)),
                None => {
                    e.add("deadline_value", validate::date_error(value, "err.date"));
                    None
                }
            },
            "within" | "innerhalb" => span_field(e, "deadline_value", value)
                .map(|s| DeadlineRule::WithinHours(s.0.div_ceil(60))),
            _ => {
                e.add("deadline_kind", "err.choose_one");
                None
            }
        };
        let lead = match self
            .lead
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => Span::ZERO,
            Some(raw) => span_field(e, "deadline_lead", raw).unwrap_or_default(),
        };
        LegalDeadline {
            description,
            rule: rule.unwrap_or(DeadlineRule::WithinHours(0)),
            lead,
        }
    }
}

impl BiaInput {
    /// Field errors: `mta`, `rto`, `rpo`, `criticality`, `deadline_*`, `procedure_*`.
    /// Keys beyond the core ones: `err.duration`, `err.duration_negative`,
    /// `err.bia.rto_exceeds_mta`, `err.bia.mta_zero`, `err.bia.rpo_without_backup`,
    /// `err.bia.day_of_month`, `err.date`, `err.bia.step_incomplete`.
    pub fn validate(&self, ctx: BiaContext) -> Result<Bia, DomainError> {
        let mut e = FieldErrors::default();
        let mta = span_field(&mut e, "mta", &self.mta);
        let rto = span_field(&mut e, "rto", &self.rto);
        if mta == Some(Span::ZERO) {
            e.add("mta", "err.bia.mta_zero");
        }
        if let (Some(m), Some(r)) = (mta, rto) {
            if r > m {
                e.add("rto", "err.bia.rto_exceeds_mta");
            }
        }
        let rpo = match self.rpo.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(raw) => {
                let r = span_field(&mut e, "rpo", raw);
                if r.is_some() && !ctx.has_backup {
                    e.add("rpo", "err.bia.rpo_without_backup");
                }
                r
            }
        };
        let criticality = Criticality::parse(&self.criticality);
        if criticality.is_none() {
            e.add("criticality", "err.choose_one");
        }
        let deadlines = self.deadlines.iter().map(|d| d.validate(&mut e)).collect();
        let summary = validate::optional_text(
            &mut e,
            "procedure_summary",
            self.procedure_summary.as_deref(),
            2000,
        );
        let materials = validate::optional_text(
            &mut e,
            "procedure_materials",
            self.procedure_materials.as_deref(),
            2000,
        );
        let sustainable_for = match self
            .procedure_sustainable_for
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(raw) => span_field(&mut e, "procedure_sustainable_for", raw),
        };
        let mut steps = Vec::new();
        for s in &self.procedure_steps {
            let (who, what) = (s.who.trim(), s.what.trim());
            if who.is_empty() && what.is_empty() {
                continue;
            }
            if who.is_empty() || what.is_empty() {
                e.add("procedure_steps", "err.bia.step_incomplete");
                continue;
            }
            let who = validate::required_text(&mut e, "procedure_steps", who, 160);
            let what = validate::required_text(&mut e, "procedure_steps", what, 1000);
            steps.push(ProcedureStep { who, what });
        }
        let bia = Bia {
            process: ctx.process,
            mta: mta.unwrap_or_default(),
            rto: rto.unwrap_or_default(),
            rpo,
            criticality: criticality.unwrap_or(Criticality::Niedrig),
            deadlines,
            procedure: ManualProcedure {
                summary,
                steps,
                materials,
                sustainable_for,
            },
        };
        e.into_result(bia)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    const CTX: BiaContext = BiaContext {
        process: ObjectId(1),
        has_backup: true,
    };

    fn input(mta: &str, rto: &str, rpo: Option<&str>) -> BiaInput {
        BiaInput {
            mta: mta.into(),
            rto: rto.into(),
            rpo: rpo.map(Into::into),
            criticality: "hoch".into(),
            ..Default::default()
        }
    }

    type Expected<'a> = Result<(u32, u32, Option<u32>), Vec<(&'a str, &'a str)>>;

    /// `expected`: Ok((mta, rto, rpo) in minutes) or the (field, key) pairs in order.
    fn check(input: &BiaInput, ctx: BiaContext, expected: Expected<'_>) {
        match (input.validate(ctx), expected) {
            (Ok(b), Ok((m, r, p))) => {
                assert_eq!(
                    (b.mta.0, b.rto.0, b.rpo.map(|s| s.0)),
                    (m, r, p),
                    "{input:?}"
                )
            }
            (Err(DomainError::Invalid(errs)), Err(want)) => {
                let got: Vec<_> = errs.0.iter().map(|e| (e.field, e.message)).collect();
                assert_eq!(got, want, "{input:?}");
            }
            (got, want) => panic!("{input:?}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn valid_values() {
        check(
            &input("2d", "24h", Some("4h")),
            CTX,
            Ok((2880, 1440, Some(240))),
        );
        check(&input("8", "30min", None), CTX, Ok((480, 30, None)));
        check(
            &input("1 Woche", "2 Tage", Some("0")),
            CTX,
            Ok((10080, 2880, Some(0))),
        );
        check(&input("4h", "4h", Some("")), CTX, Ok((240, 240, None)));
    }

    #[test]
    fn invalid_values_name_the_field() {
        check(
            &input("24h", "2d", None),
            CTX,
            Err(vec![("rto", "err.bia.rto_exceeds_mta")]),
        );
        check(
            &input("-4h", "2h", None),
            CTX,
            Err(vec![("mta", "err.duration_negative")]),
        );
        check(
            &input("4h", "-1", Some("-30min")),
            CTX,
            Err(vec![
                ("rto", "err.duration_negative"),
                ("rpo", "err.duration_negative"),
            ]),
        );
        check(
            &input("8h", "4h", Some("1h")),
            BiaContext {
                has_backup: false,
                ..CTX
            },
            Err(vec![("rpo", "err.bia.rpo_without_backup")]),
        );
        check(
            &input("", "zwei", None),
            CTX,
            Err(vec![("mta", "err.required"), ("rto", "err.duration")]),
        );
        check(
            &input("0", "0", None),
            CTX,
            Err(vec![("mta", "err.bia.mta_zero")]),
        );
        let mut bad = input("8h", "4h", None);
        bad.criticality = "egal".into();
        bad.procedure_steps = vec![StepInput {
            who: "Kasse".into(),
            what: " ".into(),
        }];
        bad.deadlines = vec![DeadlineInput {
            description: "Auszahlung".into(),
            kind: "monthly".into(),
            value: "32".into(),
            lead: Some("-2d".into()),
        }];
        check(
            &bad,
            CTX,
            Err(vec![
                ("criticality", "err.choose_one"),
                ("deadline_value", "err.bia.day_of_month"),
                ("deadline_lead", "err.duration_negative"),
                ("procedure_steps", "err.bia.step_incomplete"),
            ]),
        );
    }

    #[test]
    fn deadlines_parse_and_fall_due() {
        let mut i = input("3d", "1d", None);
        i.deadlines = vec![
            DeadlineInput {
                description: "Leistungen zum 1.".into(),
                kind: "monthly".into(),
                value: "1.".into(),
                lead: Some("2d".into()),
            },
            DeadlineInput {
                description: "Wahl".into(),
                kind: "fixed".into(),
                value: "2027-03-14".into(),
                lead: None,
            },
            DeadlineInput {
                description: "DSGVO-Meldung".into(),
                kind: "within".into(),
                value: "72".into(),
                lead: None,
            },
        ];
        let b = i.validate(CTX).unwrap();
        assert_eq!(b.deadlines[0].rule, DeadlineRule::MonthlyDay(1));
        assert_eq!(
            b.deadlines[1].rule,
            DeadlineRule::Fixed(date!(2027 - 03 - 14))
        );
        assert_eq!(b.deadlines[2].rule, DeadlineRule::WithinHours(72));
        let start = datetime!(2026-11-27 08:00);
        // Payment on 1 Dec needs to leave by 29 Nov 00:00.
        assert_eq!(
            b.deadlines[0].next_due(start),
            Some(datetime!(2026-11-29 00:00))
        );
        // From 30 Nov the December run counts as prepared: the January one is next.
        assert_eq!(
            b.deadlines[0].next_due(datetime!(2026-11-30 08:00)),
            Some(datetime!(2026-12-30 00:00))
        );
        assert_eq!(
            b.deadlines[1].next_due(start),
            Some(datetime!(2027-03-14 00:00))
        );
        assert_eq!(b.deadlines[1].next_due(datetime!(2027-04-01 00:00)), None);
        assert_eq!(
            b.deadlines[2].next_due(start),
            Some(datetime!(2026-11-30 08:00))
        );
        // Day 31 in February falls on its last day.
        let d31 = LegalDeadline {
            description: "x".into(),
            rule: DeadlineRule::MonthlyDay(31),
            lead: Span::ZERO,
        };
        assert_eq!(
            d31.next_due(datetime!(2027-02-01 00:00)),
            Some(datetime!(2027-02-28 00:00))
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(f in proptest::collection::vec(".{0,12}", 8)) {
            let i = BiaInput {
                mta: f[0].clone(), rto: f[1].clone(), rpo: Some(f[2].clone()), criticality: f[3].clone(),
                deadlines: vec![DeadlineInput { description: f[4].clone(), kind: f[5].clone(), value: f[6].clone(), lead: Some(f[7].clone()) }],
                ..Default::default()
            };
            if let Err(DomainError::Invalid(e)) = i.validate(CTX) { proptest::prop_assert!(!e.is_empty()); }
            let _ = parse_date(&f[0]);
        }
    }
}
