//! One recorded answer: the status of a requirement (or of a requirement for one object), with its
//! reason, note, responsible person, evidence and dates, validated from what a form or API sends.

use serde::{Deserialize, Serialize};
use stadtmauer_core::validate::{self, date_error, FieldErrors};
use stadtmauer_core::{DomainError, ObjectId};
use time::Date;

use crate::date::parse_date;
use crate::evidence::{is_web_url, Evidence, EvidenceItem, RecordKind};

/// The Umsetzungsstatus of a requirement.
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
pub enum Status {
    /// Fully implemented.
    Ja,
    /// Partly implemented.
    Teilweise,
    /// Not implemented.
    Nein,
    /// Not needed here, with a written reason; left out of the score's base.
    Entbehrlich,
    /// Not yet assessed, or the answer has expired.
    Offen,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Ja,
        Status::Teilweise,
        Status::Nein,
        Status::Entbehrlich,
        Status::Offen,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ja => "ja",
            Status::Teilweise => "teilweise",
            Status::Nein => "nein",
            Status::Entbehrlich => "entbehrlich",
            Status::Offen => "offen",
        }
    }
    /// Accepts the German words (any case), the English ones and the short forms spreadsheets use.
    pub fn parse(s: &str) -> Option<Status> {
        match s.trim().to_lowercase().replace(['-', ' '], "_").as_str() {
            "ja" | "j" | "yes" | "y" | "umgesetzt" | "erfüllt" | "erfuellt" => Some(Status::Ja),
            "teilweise" | "teilw." | "t" | "partial" | "partially" | "teilweise_umgesetzt" => {
                Some(Status::Teilweise)
            }
            "nein" | "n" | "no" | "nicht_umgesetzt" => Some(Status::Nein),
            "entbehrlich" | "e" | "n/a" | "na" | "not_applicable" | "nicht_anwendbar" => {
                Some(Status::Entbehrlich)
            }
            "offen" | "o" | "open" | "" | "?" | "unbekannt" | "weiß_nicht" | "weiss_nicht" => {
                Some(Status::Offen)
            }
            _ => None,
        }
    }
    pub fn label_key(self) -> &'static str {
        match self {
            Status::Ja => "asm.status.ja",
            Status::Teilweise => "asm.status.teilweise",
            Status::Nein => "asm.status.nein",
            Status::Entbehrlich => "asm.status.entbehrlich",
            Status::Offen => "asm.status.offen",
        }
    }
    /// Points in halves (ja 2, teilweise 1, else 0), so sums stay exact integers.
    pub fn half_points(self) -> u32 {
        match self {
            Status::Ja => 2,
            Status::Teilweise => 1,
            Status::Nein | Status::Entbehrlich | Status::Offen => 0,
        }
    }
    /// Does the status leave a gap that belongs in the measures plan?
    pub fn is_gap(self) -> bool {
        matches!(self, Status::Nein | Status::Teilweise)
    }
}

/// A validated answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Answer {
    pub requirement_id: String,
    /// Set when the answer is about one object of the Informationsverbund.
    pub object_id: Option<ObjectId>,
    pub status: Status,
    /// Why the requirement is entbehrlich (required then), or why it is only partly met.
    pub reason: Option<String>,
    pub note: Option<String>,
    pub responsible: Option<String>,
    #[serde(with = "crate::date::iso")]
    #[schema(value_type = String, format = Date)]
    pub assessed_on: Date,
    #[serde(with = "crate::date::iso_opt", default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub review_by: Option<Date>,
    pub evidence: Vec<EvidenceItem>,
}

/// What a form, API call or spreadsheet row submits. Everything is text.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct AnswerInput {
    pub requirement_id: String,
    pub object_id: Option<String>,
    pub status: String,
    pub reason: Option<String>,
    pub note: Option<String>,
    pub responsible: Option<String>,
    /// `2026-11-27` or `27.11.2026`; empty means today.
    pub assessed_on: Option<String>,
    pub review_by: Option<String>,
    #[serde(default)]
    pub evidence: Vec<EvidenceInput>,
}

/// One piece of evidence as submitted. `kind` is `file`, `link` or `record`; the fields of the
/// other kinds are ignored. Files reach this only after the upload passed
/// [`crate::evidence::EvidencePolicy`] and the store hashed the bytes.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct EvidenceInput {
    pub kind: String,
    pub sha256: Option<String>,
    pub size: Option<String>,
    pub media_type: Option<String>,
    pub name: Option<String>,
    pub url: Option<String>,
    pub record: Option<String>,
    pub record_id: Option<String>,
    pub valid_until: Option<String>,
}

/// A reason for `entbehrlich` must say something; "n/a" is not a reason.
pub const MIN_REASON_CHARS: usize = 10;

impl EvidenceInput {
    fn validate(&self, e: &mut FieldErrors) -> Option<EvidenceItem> {
        let field = "evidence";
        let text = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or("").to_string();
        let valid_until = match self.valid_until.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => match parse_date(raw) {
                Some(d) => Some(d),
                None => {
                    e.add("evidence_valid_until", date_error(raw, "err.date_format"));
                    return None;
                }
            },
        };
        let evidence = match self.kind.trim().to_lowercase().as_str() {
            "file" | "datei" => {
                let sha256 = text(&self.sha256).to_ascii_lowercase();
                if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                    e.add(field, "err.evidence.hash");
                    return None;
                }
                let Some(size) = text(&self.size).parse::<u64>().ok().filter(|s| *s > 0) else {
                    e.add(field, "err.evidence.empty");
                    return None;
                };
                let mut fe = FieldErrors::default();
                let name = validate::required_text(&mut fe, field, &text(&self.name), 255);
                let media_type =
                    validate::required_text(&mut fe, field, &text(&self.media_type), 127);
                if !fe.is_empty() {
                    e.add(field, "err.evidence.bad_name");
                    return None;
                }
                Evidence::File {
                    sha256,
                    size,
                    media_type,
                    name,
                }
            }
            "link" | "url" => {
                let url = text(&self.url);
                if !is_web_url(&url) {
                    e.add(field, "err.evidence.url");
                    return None;
                }
                Evidence::Link { url }
            }
            "record" | "verweis" => {
                let Some(record) = RecordKind::parse(&text(&self.record)) else {
                    e.add(field, "err.choose_one");
                    return None;
                };
                let Some(id) = text(&self.record_id).parse::<i64>().ok().filter(|i| *i > 0) else {
                    e.add(field, "err.evidence.record_id");
                    return None;
                };
                Evidence::Record { record, id }
            }
            _ => {
                e.add(field, "err.choose_one");
                return None;
            }
        };
        Some(EvidenceItem {
            evidence,
            valid_until,
        })
    }
}

impl AnswerInput {
    /// Validates against `today` (the default for `assessed_on`, and the latest it may be).
    pub fn validate(&self, today: Date) -> Result<Answer, DomainError> {
        let mut e = FieldErrors::default();
        let requirement_id =
            validate::required_text(&mut e, "requirement_id", &self.requirement_id, 64);
        let object_id = match self.object_id.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => match raw.parse::<i64>() {
                Ok(n) if n > 0 => Some(ObjectId(n)),
                _ => {
                    e.add("object_id", "err.not_a_number");
                    None
                }
            },
        };
        let status = Status::parse(&self.status).unwrap_or_else(|| {
            e.add("status", "err.choose_one");
            Status::Offen
        });
        let reason = validate::optional_text(&mut e, "reason", self.reason.as_deref(), 4000);
        if status == Status::Entbehrlich && e.get("reason").is_none() {
            match &reason {
                None => e.add("reason", "err.required"),
                Some(r) if r.chars().count() < MIN_REASON_CHARS => {
                    e.add("reason", "err.reason_too_short")
                }
                Some(_) => {}
            }
        }
        let note = optional_multiline(&mut e, "note", self.note.as_deref(), 4000);
        let responsible =
            validate::optional_text(&mut e, "responsible", self.responsible.as_deref(), 160);
        let assessed_on = match self.assessed_on.as_deref().map(str::trim) {
            None | Some("") => today,
            Some(raw) => match parse_date(raw) {
                Some(d) if d > today => {
                    e.add("assessed_on", "err.date_in_future");
                    d
                }
                Some(d) => d,
                None => {
                    e.add("assessed_on", date_error(raw, "err.date_format"));
                    today
                }
            },
        };
        let review_by = match self.review_by.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => match parse_date(raw) {
                Some(d) if d < assessed_on => {
                    e.add("review_by", "err.review_before_assessment");
                    Some(d)
                }
                Some(d) => Some(d),
                None => {
                    e.add("review_by", date_error(raw, "err.date_format"));
                    None
                }
            },
        };
        if self.evidence.len() > 50 {
            e.add("evidence", "err.too_many");
        }
        let evidence = self
            .evidence
            .iter()
            .take(50)
            .filter_map(|i| i.validate(&mut e))
            .collect();
        e.into_result(Answer {
            requirement_id,
            object_id,
            status,
            reason,
            note,
            responsible,
            assessed_on,
            review_by,
            evidence,
        })
    }
}

/// Like [`validate::optional_text`] but keeps line breaks, which notes need.
fn optional_multiline(
    e: &mut FieldErrors,
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Option<String> {
    let v = value.map(str::trim).unwrap_or("");
    if v.is_empty() {
        return None;
    }
    if v.chars().count() > max {
        e.add(field, "err.too_long");
    } else if v
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        e.add(field, "err.control_chars");
    }
    Some(v.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn today() -> Date {
        parse_date("2026-11-27").unwrap()
    }

    fn base() -> AnswerInput {
        AnswerInput {
            requirement_id: "GC.1.1".into(),
            status: "ja".into(),
            ..Default::default()
        }
    }

    /// Validates `input` and compares the field errors (empty = valid).
    fn check(input: AnswerInput, expected: &[(&str, &str)]) -> Option<Answer> {
        match input.validate(today()) {
            Ok(a) => {
                assert!(expected.is_empty(), "expected {expected:?}, got {a:?}");
                Some(a)
            }
            Err(DomainError::Invalid(e)) => {
                let got: Vec<(&str, &str)> = e.0.iter().map(|f| (f.field, f.message)).collect();
                assert_eq!(got, expected);
                None
            }
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn statuses_in_german_and_english() {
        for (s, st) in [
            ("Ja", Status::Ja),
            ("TEILWEISE", Status::Teilweise),
            ("nein", Status::Nein),
            ("Entbehrlich", Status::Entbehrlich),
            ("offen", Status::Offen),
            ("n/a", Status::Entbehrlich),
            ("weiß nicht", Status::Offen),
            ("partially", Status::Teilweise),
        ] {
            assert_eq!(Status::parse(s), Some(st), "{s}");
        }
        assert_eq!(Status::parse("vielleicht"), None);
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn defaults_and_both_date_forms() {
        let a = check(
            AnswerInput {
                assessed_on: Some("01.10.2026".into()),
                review_by: Some("2027-10-01".into()),
                object_id: Some("17".into()),
                note: Some("Zeile 1\nZeile 2".into()),
                ..base()
            },
            &[],
        )
        .unwrap();
        assert_eq!(a.assessed_on, parse_date("2026-10-01").unwrap());
        assert_eq!(a.review_by, parse_date("2027-10-01"));
        assert_eq!(a.object_id, Some(ObjectId(17)));
        assert_eq!(check(base(), &[]).unwrap().assessed_on, today());
    }

    #[test]
    fn field_errors() {
        check(
            AnswerInput {
                status: "entbehrlich".into(),
                ..base()
            },
            &[("reason", "err.required")],
        );
        check(
            AnswerInput {
                status: "entbehrlich".into(),
                reason: Some("passt".into()),
                ..base()
            },
            &[("reason", "err.reason_too_short")],
        );
        check(
            AnswerInput {
                status: "entbehrlich".into(),
                reason: Some("Kein WLAN im Rathaus vorhanden.".into()),
                ..base()
            },
            &[],
        );
        check(
            AnswerInput {
                requirement_id: " ".into(),
                status: "vielleicht".into(),
                assessed_on: Some("2026-11-28".into()),
                review_by: Some("2026-11-01".into()),
                object_id: Some("x".into()),
                ..base()
            },
            &[
                ("requirement_id", "err.required"),
                ("object_id", "err.not_a_number"),
                ("status", "err.choose_one"),
                ("assessed_on", "err.date_in_future"),
                ("review_by", "err.review_before_assessment"),
            ],
        );
        check(
            AnswerInput {
                assessed_on: Some("31.02.2026".into()),
                review_by: Some("morgen".into()),
                ..base()
            },
            &[
                ("assessed_on", "err.date_nonexistent"),
                ("review_by", "err.date_format"),
            ],
        );
    }

    #[test]
    fn evidence_kinds() {
        let file = EvidenceInput {
            kind: "file".into(),
            sha256: Some("AB".repeat(32)),
            size: Some("1024".into()),
            media_type: Some("application/pdf".into()),
            name: Some("Pentest 2026.pdf".into()),
            valid_until: Some("30.06.2027".into()),
            ..Default::default()
        };
        let link = EvidenceInput {
            kind: "link".into(),
            url: Some("https://dms.musterau.example/doc/4711".into()),
            ..Default::default()
        };
        let record = EvidenceInput {
            kind: "record".into(),
            record: Some("restore_test".into()),
            record_id: Some("12".into()),
            ..Default::default()
        };
        let a = check(
            AnswerInput {
                evidence: vec![file, link, record],
                ..base()
            },
            &[],
        )
        .unwrap();
        assert_eq!(a.evidence.len(), 3);
        assert!(
            matches!(&a.evidence[0].evidence, Evidence::File { sha256, .. } if sha256 == &"ab".repeat(32))
        );
        assert_eq!(a.evidence[0].valid_until, parse_date("2027-06-30"));
        assert_eq!(
            a.evidence[2].evidence,
            Evidence::Record {
                record: RecordKind::RestoreTest,
                id: 12
            }
        );
        for (ev, key) in [
            (
                EvidenceInput {
                    kind: "link".into(),
                    url: Some("javascript:alert(1)".into()),
                    ..Default::default()
                },
                "err.evidence.url",
            ),
            (
                EvidenceInput {
                    kind: "file".into(),
                    sha256: Some("zz".into()),
                    ..Default::default()
                },
                "err.evidence.hash",
            ),
            (
                EvidenceInput {
                    kind: "record".into(),
                    record: Some("pentest_report".into()),
                    record_id: Some("-1".into()),
                    ..Default::default()
                },
                "err.evidence.record_id",
            ),
            (
                EvidenceInput {
                    kind: "fax".into(),
                    ..Default::default()
                },
                "err.choose_one",
            ),
        ] {
            check(
                AnswerInput {
                    evidence: vec![ev],
                    ..base()
                },
                &[("evidence", key)],
            );
        }
    }
}

#[cfg(test)]
mod robustness {
    use super::*;
    use crate::evidence::EvidencePolicy;
    use crate::measure::MeasureInput;
    use proptest::prelude::*;

    proptest! {
        /// Whatever a user sends, validation answers with a value or field errors, never a panic.
        #[test]
        fn validators_never_panic(f in prop::collection::vec(".{0,40}", 17), bytes in prop::collection::vec(any::<u8>(), 0..600)) {
            let g = |i: usize| f[i].clone();
            let today = Date::MIN;
            let r = AnswerInput {
                requirement_id: g(0), object_id: Some(g(1)), status: g(2), reason: Some(g(3)),
                note: Some(g(4)), responsible: Some(g(5)), assessed_on: Some(g(6)), review_by: Some(g(7)),
                evidence: vec![EvidenceInput {
                    kind: g(8), sha256: Some(g(9)), size: Some(g(10)), media_type: Some(g(11)), name: Some(g(12)),
                    url: Some(g(13)), record: Some(g(14)), record_id: Some(g(15)), valid_until: Some(g(16)),
                }],
            }.validate(today);
            if let Err(DomainError::Invalid(e)) = &r {
                prop_assert!(!e.is_empty());
            }
            let _ = MeasureInput {
                title: g(0), description: Some(g(1)), requirement_id: Some(g(2)), objects: vec![g(3)],
                owner: Some(g(4)), deadline: Some(g(5)), priority: Some(g(6)), cost_eur: Some(g(7)),
                effort_person_days: Some(g(8)), status: Some(g(9)), towns: vec![g(10)],
            }.validate(None, |_| true);
            let _ = EvidencePolicy::default().check(&g(0), &g(1), &bytes, bytes.len() as u64);
            let _ = parse_date(&g(2));
        }
    }
}
