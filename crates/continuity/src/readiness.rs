//! The ransomware-readiness score of a town, 0–100: weighted points from the backup register's
//! verdicts and from checklist answers, each explained and linked to the measure that raises it.
//!
//! Weights (sum 100): offline/immutable backups 20, tested restore 15, MFA on remote access 15,
//! backups outside the domain 10, separate admin accounts 10, patch status 10, segmentation 10,
//! EDR 5, RTO met 5. A fact-based point earns its weight times the share of critical systems
//! (or processes) that fulfil it; a checklist point earns all, half (partial) or nothing.
//! "Unknown" earns nothing: an unanswered question is not a safeguard.

use crate::backup::{Backup, RestoreResult};
use crate::idmap::{IdMap, IdSet};
use crate::verdict::Verdicts;
use serde::{Deserialize, Serialize};
use stadtmauer_core::ObjectId;
use time::Date;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Yes,
    Partial,
    No,
    Unknown,
}

impl Answer {
    pub fn parse(s: &str) -> Option<Answer> {
        match s.trim().to_lowercase().as_str() {
            "yes" | "ja" | "j" | "y" => Some(Answer::Yes),
            "partial" | "teilweise" | "teils" => Some(Answer::Partial),
            "no" | "nein" | "n" => Some(Answer::No),
            "unknown" | "unbekannt" | "" | "?" => Some(Answer::Unknown),
            _ => None,
        }
    }
}

/// What the town answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checklist {
    pub mfa_remote_access: Answer,
    pub admin_accounts_separated: Answer,
    pub segmentation: Answer,
    pub edr: Answer,
}

/// From the update watch: share (0–100 %) of systems without overdue security updates, or
/// `None` when the town does not take part in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatchStatus {
    pub percent_current: Option<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Met,
    Partial,
    Unmet,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum PointReason {
    /// `have` of `of` critical systems (or processes) fulfil it.
    Share {
        have: u32,
        of: u32,
    },
    /// Nothing to judge: the town recorded no critical system or no BIA.
    NothingRecorded,
    Answered {
        answer: Answer,
    },
    Patch {
        percent_current: Option<u8>,
    },
}

/// The measure that raises a point: an i18n key and the IT-Grundschutz module it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Measure {
    pub key: &'static str,
    pub grundschutz: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    pub key: &'static str,
    pub status: Status,
    pub weight: u8,
    /// Points earned, 0.0–weight.
    pub earned: f64,
    pub reason: PointReason,
    pub measure: Measure,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Readiness {
    pub score: u8,
    pub points: Vec<Point>,
}

fn share_point(key: &'static str, weight: u8, have: u32, of: u32, measure: Measure) -> Point {
    let (status, frac, reason) = if of == 0 {
        (Status::Unmet, 0.0, PointReason::NothingRecorded)
    } else {
        let frac = f64::from(have) / f64::from(of);
        let status = match have {
            h if h == of => Status::Met,
            0 => Status::Unmet,
            _ => Status::Partial,
        };
        (status, frac, PointReason::Share { have, of })
    };
    Point {
        key,
        status,
        weight,
        earned: f64::from(weight) * frac,
        reason,
        measure,
    }
}

fn answer_point(key: &'static str, weight: u8, answer: Answer, measure: Measure) -> Point {
    let (status, frac) = match answer {
        Answer::Yes => (Status::Met, 1.0),
        Answer::Partial => (Status::Partial, 0.5),
        Answer::No | Answer::Unknown => (Status::Unmet, 0.0),
    };
    Point {
        key,
        status,
        weight,
        earned: f64::from(weight) * frac,
        reason: PointReason::Answered { answer },
        measure,
    }
}

/// Scores a town. `verdicts` and `backups` are the same town's (see [`crate::verdict::judge`]).
pub fn score(
    verdicts: &Verdicts,
    backups: &[Backup],
    checklist: &Checklist,
    patch: PatchStatus,
    today: Date,
) -> Readiness {
    let mut covering: IdMap<ObjectId, Vec<&Backup>> = IdMap::default();
    for b in backups {
        for s in &b.systems {
            covering.entry(*s).or_default().push(b);
        }
    }
    // Critical systems the register covers or should: those with a backup, or a NoBackup gap.
    let unprotected: IdSet<ObjectId> = verdicts
        .gaps
        .iter()
        .filter(|g| g.reason == crate::verdict::Reason::NoBackup)
        .map(|g| g.system)
        .collect();
    let relevant: Vec<ObjectId> = verdicts
        .critical_systems
        .iter()
        .copied()
        .filter(|id| covering.contains_key(id) || unprotected.contains(id))
        .collect();
    let of = relevant.len() as u32;
    let count = |f: &dyn Fn(&[&Backup]) -> bool| {
        relevant
            .iter()
            .filter(|id| covering.get(id).is_some_and(|bs| f(bs)))
            .count() as u32
    };
    let offline = count(&|bs| bs.iter().any(|b| b.has_offline_or_immutable()));
    let tested = count(&|bs| {
        bs.iter().any(|b| {
            b.last_restore_test().is_some_and(|t| {
                t.result == RestoreResult::Success
                    && t.errors == 0
                    && (today - t.date).whole_days() <= 365
            })
        })
    });
    let separate = count(&|bs| bs.iter().all(|b| b.separate_credentials));
    let rto_met = verdicts.rto.iter().filter(|v| v.ok).count() as u32;
    let m = |key, grundschutz| Measure { key, grundschutz };
    let patch_point = {
        let (status, frac) = match patch.percent_current {
            Some(p) if p >= 95 => (Status::Met, 1.0),
            Some(p) if p >= 70 => (Status::Partial, f64::from(p) / 100.0),
            Some(p) => (Status::Unmet, f64::from(p) / 200.0),
            None => (Status::Unmet, 0.0),
        };
        Point {
            key: "bcm.ready.patch",
            status,
            weight: 10,
            earned: 10.0 * frac,
            reason: PointReason::Patch {
                percent_current: patch.percent_current,
            },
            measure: m("bcm.measure.patch", "OPS.1.1.3"),
        }
    };
    let points = vec![
        share_point(
            "bcm.ready.offline_backup",
            20,
            offline,
            of,
            m("bcm.measure.offline_backup", "CON.3"),
        ),
        share_point(
            "bcm.ready.restore_tested",
            15,
            tested,
            of,
            m("bcm.measure.restore_test", "CON.3"),
        ),
        answer_point(
            "bcm.ready.mfa_remote",
            15,
            checklist.mfa_remote_access,
            m("bcm.measure.mfa_remote", "ORP.4"),
        ),
        share_point(
            "bcm.ready.backup_credentials",
            10,
            separate,
            of,
            m("bcm.measure.backup_credentials", "CON.3"),
        ),
        answer_point(
            "bcm.ready.admin_separated",
            10,
            checklist.admin_accounts_separated,
            m("bcm.measure.admin_accounts", "ORP.4"),
        ),
        patch_point,
        answer_point(
            "bcm.ready.segmentation",
            10,
            checklist.segmentation,
            m("bcm.measure.segmentation", "NET.1.1"),
        ),
        answer_point(
            "bcm.ready.edr",
            5,
            checklist.edr,
            m("bcm.measure.edr", "OPS.1.1.4"),
        ),
        share_point(
            "bcm.ready.rto_met",
            5,
            rto_met,
            verdicts.rto.len() as u32,
            m("bcm.measure.rto", "DER.4"),
        ),
    ];
    let total: f64 = points.iter().map(|p| p.earned).sum();
    Readiness {
        score: total.round().clamp(0.0, 100.0) as u8,
        points,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::fixture::*;
    use crate::verdict::tests::{backups, TODAY};
    use crate::verdict::{apply_measured_restores, judge};

    fn check(
        checklist: Checklist,
        patch: Option<u8>,
        expected_score: u8,
        expected: &[(&str, Status, f64)],
    ) {
        let mut g = graph();
        let b = backups();
        let measured = apply_measured_restores(&mut g, &b);
        let v = judge(&g, &bias(), &b, &measured, TODAY);
        let r = score(
            &v,
            &b,
            &checklist,
            PatchStatus {
                percent_current: patch,
            },
            TODAY,
        );
        let got: Vec<_> = r
            .points
            .iter()
            .map(|p| (p.key, p.status, (p.earned * 100.0).round() / 100.0))
            .collect();
        assert_eq!(got, expected);
        assert_eq!(r.score, expected_score);
        assert_eq!(
            r.points.iter().map(|p| u32::from(p.weight)).sum::<u32>(),
            100
        );
    }

    #[test]
    fn fixture_town() {
        use Answer::{No, Unknown, Yes};
        use Status::{Met, Partial, Unmet};
        // Relevant critical systems: DC (no backup), FILES, FIN → of = 3. Only FIN has an offline
        // copy, a recent clean test and separate credentials: 1/3 each.
        check(
            Checklist {
                mfa_remote_access: Yes,
                admin_accounts_separated: Answer::Partial,
                segmentation: No,
                edr: Unknown,
            },
            Some(80),
            48,
            &[
                ("bcm.ready.offline_backup", Partial, 6.67),
                ("bcm.ready.restore_tested", Partial, 5.0),
                ("bcm.ready.mfa_remote", Met, 15.0),
                ("bcm.ready.backup_credentials", Partial, 3.33),
                ("bcm.ready.admin_separated", Partial, 5.0),
                ("bcm.ready.patch", Partial, 8.0),
                ("bcm.ready.segmentation", Unmet, 0.0),
                ("bcm.ready.edr", Unmet, 0.0),
                ("bcm.ready.rto_met", Met, 5.0),
            ],
        );
        check(
            Checklist {
                mfa_remote_access: No,
                admin_accounts_separated: No,
                segmentation: No,
                edr: No,
            },
            None,
            20,
            &[
                ("bcm.ready.offline_backup", Partial, 6.67),
                ("bcm.ready.restore_tested", Partial, 5.0),
                ("bcm.ready.mfa_remote", Unmet, 0.0),
                ("bcm.ready.backup_credentials", Partial, 3.33),
                ("bcm.ready.admin_separated", Unmet, 0.0),
                ("bcm.ready.patch", Unmet, 0.0),
                ("bcm.ready.segmentation", Unmet, 0.0),
                ("bcm.ready.edr", Unmet, 0.0),
                ("bcm.ready.rto_met", Met, 5.0),
            ],
        );
    }

    #[test]
    fn nothing_recorded_scores_nothing() {
        let v = Verdicts {
            rpo: vec![],
            rto: vec![],
            backups: vec![],
            gaps: vec![],
            critical_systems: vec![],
        };
        let c = Checklist {
            mfa_remote_access: Answer::Yes,
            admin_accounts_separated: Answer::Yes,
            segmentation: Answer::Yes,
            edr: Answer::Yes,
        };
        let r = score(
            &v,
            &[],
            &c,
            PatchStatus {
                percent_current: Some(100),
            },
            TODAY,
        );
        assert_eq!(r.score, 50);
        assert_eq!(r.points[0].reason, PointReason::NothingRecorded);
    }
}
