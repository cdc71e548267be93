//! What an answer counts as on a given day. Answers and evidence go stale: a review date that has
//! passed, a recurring check that is due again, or evidence that has run out all turn the answer
//! back into `offen` until someone looks again. The recorded status is kept for the history and
//! for the measures plan; the reason is returned as an enum so the page can say why.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::answer::{Answer, Status};
use crate::date::add_days;

/// Why an answer no longer counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Expiry {
    /// The answer's own review date has passed.
    ReviewOverdue {
        #[serde(with = "crate::date::iso")]
        #[schema(value_type = String, format = Date)]
        review_by: Date,
    },
    /// The requirement must be checked every n days and the last check is older.
    RecurringDue {
        #[serde(with = "crate::date::iso")]
        #[schema(value_type = String, format = Date)]
        due: Date,
    },
    /// Every piece of evidence the answer rests on has expired.
    EvidenceExpired {
        #[serde(with = "crate::date::iso")]
        #[schema(value_type = String, format = Date)]
        valid_until: Date,
    },
}

impl Expiry {
    /// The last day the answer still counted.
    pub fn date(self) -> Date {
        match self {
            Expiry::ReviewOverdue { review_by } => review_by,
            Expiry::RecurringDue { due } => due,
            Expiry::EvidenceExpired { valid_until } => valid_until,
        }
    }
    pub fn key(self) -> &'static str {
        match self {
            Expiry::ReviewOverdue { .. } => "asm.expired.review_overdue",
            Expiry::RecurringDue { .. } => "asm.expired.recurring_due",
            Expiry::EvidenceExpired { .. } => "asm.expired.evidence_expired",
        }
    }
}

/// The status an answer counts as on a day, the status recorded, and why they differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Effective {
    pub status: Status,
    pub recorded: Status,
    pub expired: Option<Expiry>,
}

/// The effective status of `answer` on `at`, for a requirement repeated every `recurring` days.
///
/// - A passed `review_by` expires every status (an unchecked "nein" may no longer be true either).
/// - The recurring interval and evidence validity expire only fulfilment claims (ja, teilweise):
///   they are what the check or the evidence proves.
/// - An answer with evidence counts while at least one piece is still valid; an answer without
///   evidence is not expired by this rule (requiring evidence is the auditor's call, not ours).
///
/// When several rules apply, the earliest one is reported: that is when the answer stopped counting.
pub fn effective(answer: &Answer, recurring: Option<u32>, at: Date) -> Effective {
    let recorded = answer.status;
    let mut reasons: Vec<Expiry> = Vec::new();
    if recorded != Status::Offen {
        if let Some(review_by) = answer.review_by.filter(|r| *r < at) {
            reasons.push(Expiry::ReviewOverdue { review_by });
        }
        if matches!(recorded, Status::Ja | Status::Teilweise) {
            if let Some(due) = recurring
                .map(|n| add_days(answer.assessed_on, n))
                .filter(|d| *d < at)
            {
                reasons.push(Expiry::RecurringDue { due });
            }
            if !answer.evidence.is_empty() && !answer.evidence.iter().any(|e| e.is_valid_on(at)) {
                if let Some(valid_until) =
                    answer.evidence.iter().filter_map(|e| e.valid_until).max()
                {
                    reasons.push(Expiry::EvidenceExpired { valid_until });
                }
            }
        }
    }
    let expired = reasons.into_iter().min_by_key(|r| r.date());
    Effective {
        status: if expired.is_some() {
            Status::Offen
        } else {
            recorded
        },
        recorded,
        expired,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::date::parse_date;
    use crate::evidence::{Evidence, EvidenceItem};

    fn d(s: &str) -> Date {
        parse_date(s).unwrap()
    }

    fn answer(status: Status, review_by: Option<&str>, evidence_until: &[Option<&str>]) -> Answer {
        Answer {
            requirement_id: "DET.1.1".into(),
            object_id: None,
            status,
            reason: None,
            note: None,
            responsible: None,
            assessed_on: d("2026-01-15"),
            review_by: review_by.map(d),
            evidence: evidence_until
                .iter()
                .map(|u| EvidenceItem {
                    evidence: Evidence::Link {
                        url: "https://x.example".into(),
                    },
                    valid_until: u.map(d),
                })
                .collect(),
        }
    }

    fn check(a: Answer, recurring: Option<u32>, at: &str, expected: (Status, Option<Expiry>)) {
        let e = effective(&a, recurring, d(at));
        assert_eq!((e.status, e.expired), expected, "{a:?} at {at}");
        assert_eq!(e.recorded, a.status);
    }

    #[test]
    fn expiry_rules() {
        use Status::*;
        check(answer(Ja, None, &[]), None, "2030-01-01", (Ja, None));
        check(
            answer(Ja, Some("2026-12-31"), &[]),
            None,
            "2026-12-31",
            (Ja, None),
        );
        let overdue = Some(Expiry::ReviewOverdue {
            review_by: d("2026-12-31"),
        });
        check(
            answer(Ja, Some("2026-12-31"), &[]),
            None,
            "2027-01-01",
            (Offen, overdue),
        );
        check(
            answer(Nein, Some("2026-12-31"), &[]),
            None,
            "2027-01-01",
            (Offen, overdue),
        );
        check(
            answer(Offen, Some("2026-12-31"), &[]),
            None,
            "2027-01-01",
            (Offen, None),
        );
        // Recurring every 90 days from 2026-01-15: due 2026-04-15.
        let due = Some(Expiry::RecurringDue {
            due: d("2026-04-15"),
        });
        check(answer(Ja, None, &[]), Some(90), "2026-04-15", (Ja, None));
        check(
            answer(Teilweise, None, &[]),
            Some(90),
            "2026-04-16",
            (Offen, due),
        );
        check(
            answer(Nein, None, &[]),
            Some(90),
            "2026-04-16",
            (Nein, None),
        );
        check(
            answer(Entbehrlich, None, &[]),
            Some(90),
            "2027-01-01",
            (Entbehrlich, None),
        );
        // Evidence: one valid piece is enough; all expired → offen, dated by the last to expire.
        let ev = [Some("2026-03-01"), Some("2026-06-30")];
        check(answer(Ja, None, &ev), None, "2026-06-30", (Ja, None));
        let gone = Some(Expiry::EvidenceExpired {
            valid_until: d("2026-06-30"),
        });
        check(answer(Ja, None, &ev), None, "2026-07-01", (Offen, gone));
        check(
            answer(Ja, None, &[Some("2026-03-01"), None]),
            None,
            "2030-01-01",
            (Ja, None),
        );
        // Several reasons: the earliest wins.
        check(
            answer(Ja, Some("2026-12-31"), &ev),
            Some(90),
            "2028-01-01",
            (Offen, due),
        );
    }
}
