//! The security programme a town records for its council: profile (roles, policy, emergency
//! preparation, MFA, insurance), figures per year (budget, spending, incidents), events (audits,
//! penetration tests, outside advice, trainings, drills) and findings of audits and tests.
//!
//! Every input arrives as form strings and is validated into a typed record or `FieldErrors`
//! whose messages are i18n keys.

use serde::{Deserialize, Serialize};
use stadtmauer_core::validate::{
    date_error, optional_count, optional_text, required_text, FieldErrors,
};
use time::Date;

/// ISO dates (`JJJJ-MM-TT`) in and out.
pub fn parse_date(s: &str) -> Option<Date> {
    Date::parse(
        s.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

pub fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

pub fn german_date(d: Date) -> String {
    format!("{:02}.{:02}.{:04}", d.day(), u8::from(d.month()), d.year())
}

fn optional_date(errors: &mut FieldErrors, field: &'static str, v: Option<&str>) -> Option<Date> {
    let raw = v.map(str::trim).unwrap_or("");
    if raw.is_empty() {
        return None;
    }
    let d = parse_date(raw);
    if d.is_none() {
        errors.add(field, date_error(raw, "err.date_format"));
    }
    d
}

/// "ja" / "nein" / empty (not recorded).
fn optional_yes_no(errors: &mut FieldErrors, field: &'static str, v: Option<&str>) -> Option<bool> {
    match v.map(str::trim).unwrap_or("") {
        "" => None,
        "yes" | "ja" | "1" | "true" => Some(true),
        "no" | "nein" | "0" | "false" => Some(false),
        _ => {
            errors.add(field, "cnc.err.choice");
            None
        }
    }
}

/// How far a measure covers what it should.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    Full,
    Partial,
    None,
}

impl Coverage {
    pub const ALL: [Coverage; 3] = [Coverage::Full, Coverage::Partial, Coverage::None];
    pub fn as_str(self) -> &'static str {
        match self {
            Coverage::Full => "full",
            Coverage::Partial => "partial",
            Coverage::None => "none",
        }
    }
    pub fn parse(s: &str) -> Option<Coverage> {
        Coverage::ALL.into_iter().find(|c| c.as_str() == s.trim())
    }
    pub fn german(self) -> &'static str {
        match self {
            Coverage::Full => "vollständig",
            Coverage::Partial => "teilweise",
            Coverage::None => "nein",
        }
    }
    pub fn tri(self) -> Tri {
        match self {
            Coverage::Full => Tri::Yes,
            Coverage::Partial => Tri::Partial,
            Coverage::None => Tri::No,
        }
    }
}

fn optional_coverage(
    errors: &mut FieldErrors,
    field: &'static str,
    v: Option<&str>,
) -> Option<Coverage> {
    let raw = v.map(str::trim).unwrap_or("");
    if raw.is_empty() {
        return None;
    }
    let c = Coverage::parse(raw);
    if c.is_none() {
        errors.add(field, "cnc.err.choice");
    }
    c
}

/// The answer to a yes/no question as the heatmap shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tri {
    Yes,
    Partial,
    No,
    Unknown,
}

impl Tri {
    pub fn german(self) -> &'static str {
        match self {
            Tri::Yes => "ja",
            Tri::Partial => "teilweise",
            Tri::No => "nein",
            Tri::Unknown => "nicht erfasst",
        }
    }
    pub fn from_bool(b: Option<bool>) -> Tri {
        match b {
            Some(true) => Tri::Yes,
            Some(false) => Tri::No,
            None => Tri::Unknown,
        }
    }
}

/// What a town records once (and updates): roles, policy, emergency preparation, MFA, insurance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub isb_appointed: Option<bool>,
    pub isb_deputy: Option<bool>,
    pub team_size: Option<i64>,
    pub qualifications: Option<String>,
    pub standard: Option<String>,
    pub guideline_adopted_by: Option<String>,
    pub guideline_adopted_on: Option<Date>,
    pub guideline_review_on: Option<Date>,
    pub emergency_plan: Option<bool>,
    pub emergency_offices: Option<String>,
    pub phone_fallback: Option<bool>,
    pub hours_without_it: Option<i64>,
    pub mfa_remote: Option<Coverage>,
    pub mfa_email: Option<Coverage>,
    pub mfa_admin: Option<Coverage>,
    pub insurance: Option<bool>,
    /// Confidential: the insurer's name.
    pub insurer: Option<String>,
    /// Confidential: the sum insured in euro.
    pub insurance_sum: Option<i64>,
}

/// The profile form as submitted.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ProfileInput {
    pub isb_appointed: Option<String>,
    pub isb_deputy: Option<String>,
    pub team_size: Option<String>,
    pub qualifications: Option<String>,
    pub standard: Option<String>,
    pub guideline_adopted_by: Option<String>,
    pub guideline_adopted_on: Option<String>,
    pub guideline_review_on: Option<String>,
    pub emergency_plan: Option<String>,
    pub emergency_offices: Option<String>,
    pub phone_fallback: Option<String>,
    pub hours_without_it: Option<String>,
    pub mfa_remote: Option<String>,
    pub mfa_email: Option<String>,
    pub mfa_admin: Option<String>,
    pub insurance: Option<String>,
    pub insurer: Option<String>,
    pub insurance_sum: Option<String>,
}

impl ProfileInput {
    pub fn validate(&self) -> Result<Profile, FieldErrors> {
        let mut e = FieldErrors::default();
        let p = Profile {
            isb_appointed: optional_yes_no(&mut e, "isb_appointed", self.isb_appointed.as_deref()),
            isb_deputy: optional_yes_no(&mut e, "isb_deputy", self.isb_deputy.as_deref()),
            team_size: optional_count(&mut e, "team_size", self.team_size.as_deref(), 10_000),
            qualifications: optional_text(
                &mut e,
                "qualifications",
                self.qualifications.as_deref(),
                500,
            ),
            standard: optional_text(&mut e, "standard", self.standard.as_deref(), 200),
            guideline_adopted_by: optional_text(
                &mut e,
                "guideline_adopted_by",
                self.guideline_adopted_by.as_deref(),
                200,
            ),
            guideline_adopted_on: optional_date(
                &mut e,
                "guideline_adopted_on",
                self.guideline_adopted_on.as_deref(),
            ),
            guideline_review_on: optional_date(
                &mut e,
                "guideline_review_on",
                self.guideline_review_on.as_deref(),
            ),
            emergency_plan: optional_yes_no(
                &mut e,
                "emergency_plan",
                self.emergency_plan.as_deref(),
            ),
            emergency_offices: optional_text(
                &mut e,
                "emergency_offices",
                self.emergency_offices.as_deref(),
                500,
            ),
            phone_fallback: optional_yes_no(
                &mut e,
                "phone_fallback",
                self.phone_fallback.as_deref(),
            ),
            hours_without_it: optional_count(
                &mut e,
                "hours_without_it",
                self.hours_without_it.as_deref(),
                10_000,
            ),
            mfa_remote: optional_coverage(&mut e, "mfa_remote", self.mfa_remote.as_deref()),
            mfa_email: optional_coverage(&mut e, "mfa_email", self.mfa_email.as_deref()),
            mfa_admin: optional_coverage(&mut e, "mfa_admin", self.mfa_admin.as_deref()),
            insurance: optional_yes_no(&mut e, "insurance", self.insurance.as_deref()),
            insurer: optional_text(&mut e, "insurer", self.insurer.as_deref(), 200),
            insurance_sum: optional_count(
                &mut e,
                "insurance_sum",
                self.insurance_sum.as_deref(),
                1_000_000_000,
            ),
        };
        if e.is_empty() {
            Ok(p)
        } else {
            Err(e)
        }
    }
}

/// Figures of one year.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearFigures {
    pub year: i32,
    /// Security budget in euro.
    pub budget: Option<i64>,
    /// Security spending in euro.
    pub spent: Option<i64>,
    /// Security incidents.
    pub incidents: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct YearInput {
    pub year: String,
    pub budget: Option<String>,
    pub spent: Option<String>,
    pub incidents: Option<String>,
}

impl YearInput {
    pub fn validate(&self) -> Result<YearFigures, FieldErrors> {
        let mut e = FieldErrors::default();
        let year = match self.year.trim().parse::<i32>() {
            Ok(y) if (2000..=2100).contains(&y) => y,
            Ok(_) => {
                e.add("year", "err.out_of_range");
                0
            }
            Err(_) => {
                e.add("year", "err.not_a_number");
                0
            }
        };
        let y = YearFigures {
            year,
            budget: optional_count(&mut e, "budget", self.budget.as_deref(), 1_000_000_000),
            spent: optional_count(&mut e, "spent", self.spent.as_deref(), 1_000_000_000),
            incidents: optional_count(&mut e, "incidents", self.incidents.as_deref(), 100_000),
        };
        if e.is_empty() {
            Ok(y)
        } else {
            Err(e)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Audit,
    Pentest,
    Advice,
    Training,
    Drill,
}

impl EventKind {
    pub const ALL: [EventKind; 5] = [
        EventKind::Audit,
        EventKind::Pentest,
        EventKind::Advice,
        EventKind::Training,
        EventKind::Drill,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Audit => "audit",
            EventKind::Pentest => "pentest",
            EventKind::Advice => "advice",
            EventKind::Training => "training",
            EventKind::Drill => "drill",
        }
    }
    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }
    pub fn german(self) -> &'static str {
        match self {
            EventKind::Audit => "Audit",
            EventKind::Pentest => "Penetrationstest",
            EventKind::Advice => "Externe Beratung",
            EventKind::Training => "Sensibilisierung",
            EventKind::Drill => "Notfallübung",
        }
    }
}

/// An audit, penetration test, outside advice, training or drill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub id: i64,
    pub kind: EventKind,
    pub held_on: Date,
    /// Who: auditor, testing firm, BSI, state CERT, municipal IT provider, trainer.
    pub party: String,
    /// Scope of a test or audit, topic of advice, training or drill.
    pub topic: Option<String>,
    /// Result in words (confidential: may name systems).
    pub result: Option<String>,
    /// Participants of a training or drill.
    pub participants: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EventInput {
    pub kind: String,
    pub held_on: String,
    pub party: String,
    pub topic: Option<String>,
    pub result: Option<String>,
    pub participants: Option<String>,
}

impl EventInput {
    /// The validated event (id 0 until stored).
    pub fn validate(&self) -> Result<Event, FieldErrors> {
        let mut e = FieldErrors::default();
        let kind = EventKind::parse(&self.kind);
        if kind.is_none() {
            e.add("kind", "cnc.err.choice");
        }
        let held_on = parse_date(&self.held_on);
        if self.held_on.trim().is_empty() {
            e.add("held_on", "err.required");
        } else if held_on.is_none() {
            e.add("held_on", date_error(&self.held_on, "err.date_format"));
        }
        let party = required_text(&mut e, "party", &self.party, 200);
        let topic = optional_text(&mut e, "topic", self.topic.as_deref(), 500);
        let result = optional_text(&mut e, "result", self.result.as_deref(), 2000);
        let participants = optional_count(
            &mut e,
            "participants",
            self.participants.as_deref(),
            1_000_000,
        );
        match (kind, held_on) {
            (Some(kind), Some(held_on)) if e.is_empty() => Ok(Event {
                id: 0,
                kind,
                held_on,
                party,
                topic,
                result,
                participants,
            }),
            _ => Err(e),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }
    pub fn german(self) -> &'static str {
        match self {
            Severity::Low => "niedrig",
            Severity::Medium => "mittel",
            Severity::High => "hoch",
            Severity::Critical => "kritisch",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Remediation {
    Open,
    InProgress,
    Fixed,
    Accepted,
}

impl Remediation {
    pub const ALL: [Remediation; 4] = [
        Remediation::Open,
        Remediation::InProgress,
        Remediation::Fixed,
        Remediation::Accepted,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Remediation::Open => "open",
            Remediation::InProgress => "in_progress",
            Remediation::Fixed => "fixed",
            Remediation::Accepted => "accepted",
        }
    }
    pub fn parse(s: &str) -> Option<Remediation> {
        Remediation::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
    }
    pub fn german(self) -> &'static str {
        match self {
            Remediation::Open => "offen",
            Remediation::InProgress => "in Arbeit",
            Remediation::Fixed => "behoben",
            Remediation::Accepted => "Risiko akzeptiert",
        }
    }
    pub fn is_open(self) -> bool {
        matches!(self, Remediation::Open | Remediation::InProgress)
    }
}

/// A finding of an audit or penetration test. Its title is confidential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub id: i64,
    pub event_id: i64,
    pub title: String,
    pub severity: Severity,
    pub status: Remediation,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FindingInput {
    pub event_id: String,
    pub title: String,
    pub severity: String,
    pub status: String,
}

impl FindingInput {
    pub fn validate(&self) -> Result<Finding, FieldErrors> {
        let mut e = FieldErrors::default();
        let event_id = self.event_id.trim().parse::<i64>().ok();
        if event_id.is_none() {
            e.add("event_id", "cnc.err.choice");
        }
        let title = required_text(&mut e, "title", &self.title, 500);
        let severity = Severity::parse(&self.severity);
        if severity.is_none() {
            e.add("severity", "cnc.err.choice");
        }
        let status = Remediation::parse(&self.status);
        if status.is_none() {
            e.add("status", "cnc.err.choice");
        }
        match (event_id, severity, status) {
            (Some(event_id), Some(severity), Some(status)) if e.is_empty() => Ok(Finding {
                id: 0,
                event_id,
                title,
                severity,
                status,
            }),
            _ => Err(e),
        }
    }
}

/// Everything a town recorded for the council.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Programme {
    pub profile: Profile,
    /// Ascending by year.
    pub years: Vec<YearFigures>,
    /// Newest first.
    pub events: Vec<Event>,
    pub findings: Vec<Finding>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn event_needs_kind_date_and_party() {
        let e = EventInput::default().validate().unwrap_err();
        assert_eq!(e.get("kind"), Some("cnc.err.choice"));
        assert_eq!(e.get("held_on"), Some("err.required"));
        assert_eq!(e.get("party"), Some("err.required"));
        let ok = EventInput {
            kind: "pentest".into(),
            held_on: "2026-03-01".into(),
            party: "Prüf GmbH".into(),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(ok.kind, EventKind::Pentest);
    }

    #[test]
    fn profile_rejects_unknown_choices() {
        let e = ProfileInput {
            mfa_admin: Some("maybe".into()),
            guideline_adopted_on: Some("1.2.2026".into()),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.get("mfa_admin"), Some("cnc.err.choice"));
        assert_eq!(e.get("guideline_adopted_on"), Some("err.date_format"));
        assert_eq!(
            ProfileInput::default().validate().unwrap(),
            Profile::default()
        );
    }
}
