//! Verdicts on one town's backups against its BIA, each with a [`Reason`] that carries the
//! numbers, so the UI can say *why* ("backup every 24 h, but Kasse may lose at most 4 h").
//!
//! * RPO: for every process with an RPO and every data-holding system it uses (directly or not),
//!   the shortest backup interval covering the system must not exceed the RPO.
//! * RTO: the restart planner with unlimited teams after a total outage gives the critical-path
//!   time of each process — the measured restore times along its dependency chain — which must
//!   not exceed its MTA. Systems without a measured restore time are named.
//! * 3-2-1-1-0 per backup: 3 copies counting the production data, 2 different media among the
//!   backup copies, 1 off-site, 1 offline or immutable, 0 errors in the last restore test (never
//!   tested counts as failed).
//! * Gaps of critical systems (availability hoch or higher, or used by a process of criticality
//!   hoch or higher): no backup, no restore test in 12 months, a backup reachable with domain
//!   credentials.

use crate::backup::{Backup, RestoreResult};
use crate::bia::{Bia, Criticality};
use crate::idmap::IdMap;
use crate::restart::{plan, Outage, PlanOptions, RestartGraph};
use crate::span::Span;
use serde::{Deserialize, Serialize};
use stadtmauer_core::ObjectId;
use stadtmauer_inventory::{Level, ObjectKind};
use std::collections::{BTreeSet, HashMap};
use time::{Date, PrimitiveDateTime, Time};

/// Systems whose data a backup must hold. Network devices, clients, printers and the like are
/// rebuilt, not restored, unless the register has a backup for them anyway.
pub fn holds_data(system_type: Option<&str>) -> bool {
    matches!(system_type, None | Some("server" | "other"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    Copies,
    Media,
    Offsite,
    OfflineOrImmutable,
    RestoreErrors,
}

/// Why a verdict came out as it did, with the numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Reason {
    RpoInterval {
        interval: Span,
        rpo: Span,
    },
    RpoNoBackup {
        rpo: Span,
    },
    /// `back`: critical-path time after a total outage; `untested`: systems on the way whose
    /// restore time is an estimate, not a measurement.
    RtoChain {
        back: Span,
        mta: Span,
        rto: Span,
        path: Vec<ObjectId>,
        untested: Vec<ObjectId>,
    },
    Copies {
        have: u32,
        need: u32,
    },
    Media {
        have: u32,
        need: u32,
    },
    Offsite {
        have: u32,
    },
    OfflineOrImmutable {
        have: u32,
    },
    /// `None`: never tested.
    RestoreErrors {
        errors: Option<u32>,
        tested: Option<Date>,
    },
    NoBackup,
    NoRecentRestoreTest {
        last: Option<Date>,
        days_ago: Option<i64>,
    },
    DomainCredentials {
        backup: String,
    },
}

impl Reason {
    /// The i18n key of the sentence; its placeholders are the fields above.
    pub fn key(&self) -> &'static str {
        match self {
            Reason::RpoInterval { .. } => "bcm.reason.rpo_interval",
            Reason::RpoNoBackup { .. } => "bcm.reason.rpo_no_backup",
            Reason::RtoChain { .. } => "bcm.reason.rto_chain",
            Reason::Copies { .. } => "bcm.reason.copies",
            Reason::Media { .. } => "bcm.reason.media",
            Reason::Offsite { .. } => "bcm.reason.offsite",
            Reason::OfflineOrImmutable { .. } => "bcm.reason.offline",
            Reason::RestoreErrors { .. } => "bcm.reason.restore_errors",
            Reason::NoBackup => "bcm.reason.no_backup",
            Reason::NoRecentRestoreTest { .. } => "bcm.reason.no_recent_test",
            Reason::DomainCredentials { .. } => "bcm.reason.domain_credentials",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub process: ObjectId,
    pub system: Option<ObjectId>,
    pub ok: bool,
    pub reason: Reason,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCheck {
    pub rule: Rule,
    pub ok: bool,
    pub reason: Reason,
}

/// 3-2-1-1-0 of one backup (by its index in the register slice).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupVerdict {
    pub backup: usize,
    pub name: String,
    pub ok: bool,
    pub checks: Vec<RuleCheck>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    pub system: ObjectId,
    pub reason: Reason,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdicts {
    pub rpo: Vec<Verdict>,
    pub rto: Vec<Verdict>,
    pub backups: Vec<BackupVerdict>,
    pub gaps: Vec<Gap>,
    /// Critical systems (see module docs), ascending.
    pub critical_systems: Vec<ObjectId>,
}

/// Sets each system's restore time to the slowest measured restore among the backups covering
/// it (the system is back only when all its data is); systems without a measurement keep theirs.
/// Returns the ids of systems that got a measured time.
pub fn apply_measured_restores(graph: &mut RestartGraph, backups: &[Backup]) -> BTreeSet<ObjectId> {
    let mut measured: HashMap<ObjectId, Span> = HashMap::new();
    for b in backups {
        if let Some(d) = b.measured_restore() {
            for s in &b.systems {
                let e = measured.entry(*s).or_default();
                *e = (*e).max(d);
            }
        }
    }
    for n in &mut graph.nodes {
        if let Some(d) = measured.get(&n.id) {
            n.restore = *d;
        }
    }
    measured.into_keys().collect()
}

/// The 3-2-1-1-0 checks of one backup.
pub fn rule_32110(b: &Backup) -> Vec<RuleCheck> {
    let copies = 1 + b.copies.len() as u32;
    let media = b
        .copies
        .iter()
        .map(|c| c.medium)
        .collect::<BTreeSet<_>>()
        .len() as u32;
    let offsite = b.copies.iter().filter(|c| c.offsite).count() as u32;
    let offline = b.copies.iter().filter(|c| c.offline || c.immutable).count() as u32;
    let last = b.last_restore_test();
    let errors = last.map(|t| {
        if t.result == RestoreResult::Failed {
            t.errors.max(1)
        } else {
            t.errors
        }
    });
    vec![
        RuleCheck {
            rule: Rule::Copies,
            ok: copies >= 3,
            reason: Reason::Copies {
                have: copies,
                need: 3,
            },
        },
        RuleCheck {
            rule: Rule::Media,
            ok: media >= 2,
            reason: Reason::Media {
                have: media,
                need: 2,
            },
        },
        RuleCheck {
            rule: Rule::Offsite,
            ok: offsite >= 1,
            reason: Reason::Offsite { have: offsite },
        },
        RuleCheck {
            rule: Rule::OfflineOrImmutable,
            ok: offline >= 1,
            reason: Reason::OfflineOrImmutable { have: offline },
        },
        RuleCheck {
            rule: Rule::RestoreErrors,
            ok: errors == Some(0),
            reason: Reason::RestoreErrors {
                errors,
                tested: last.map(|t| t.date),
            },
        },
    ]
}

/// Everything this module judges, for one town. `graph` should carry measured restore times
/// (see [`apply_measured_restores`]); `measured` names the systems that have one.
pub fn judge(
    graph: &RestartGraph,
    bias: &[Bia],
    backups: &[Backup],
    measured: &BTreeSet<ObjectId>,
    today: Date,
) -> Verdicts {
    let pos: IdMap<ObjectId, usize> = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id, i))
        .collect();
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); graph.nodes.len()];
    for (a, b) in &graph.edges {
        if let (Some(&i), Some(&j)) = (pos.get(a), pos.get(b)) {
            deps[i].push(j);
        }
    }
    let mut covering: IdMap<ObjectId, Vec<&Backup>> = IdMap::default();
    for b in backups {
        for s in &b.systems {
            covering.entry(*s).or_default().push(b);
        }
    }
    let is_data_system = |i: usize| {
        let n = &graph.nodes[i];
        n.kind == ObjectKind::System
            && (covering.contains_key(&n.id) || holds_data(n.system_type.as_deref()))
    };
    // Everything a process uses, by a depth-first walk with a per-process visited stamp.
    let mut stamp = vec![usize::MAX; graph.nodes.len()];
    let mut critical: BTreeSet<ObjectId> = graph
        .nodes
        .iter()
        .filter(|n| n.kind == ObjectKind::System && n.availability >= Level::Hoch)
        .map(|n| n.id)
        .collect();
    let mut rpo = Vec::new();
    let mut bia_sorted: Vec<&Bia> = bias.iter().collect();
    bia_sorted.sort_by_key(|b| b.process);
    for (k, b) in bia_sorted.iter().enumerate() {
        let Some(&start) = pos.get(&b.process) else {
            continue;
        };
        let mut stack = vec![start];
        stamp[start] = k;
        let mut systems = Vec::new();
        while let Some(i) = stack.pop() {
            if graph.nodes[i].kind == ObjectKind::System {
                systems.push(i);
            }
            for &j in &deps[i] {
                if stamp[j] != k {
                    stamp[j] = k;
                    stack.push(j);
                }
            }
        }
        systems.sort_by_key(|&i| graph.nodes[i].id);
        if b.criticality >= Criticality::Hoch {
            critical.extend(systems.iter().map(|&i| graph.nodes[i].id));
        }
        let Some(limit) = b.rpo else { continue };
        for i in systems.into_iter().filter(|&i| is_data_system(i)) {
            let id = graph.nodes[i].id;
            let best = covering
                .get(&id)
                .and_then(|bs| bs.iter().map(|b| b.interval).min());
            rpo.push(match best {
                Some(interval) => Verdict {
                    process: b.process,
                    system: Some(id),
                    ok: interval <= limit,
                    reason: Reason::RpoInterval {
                        interval,
                        rpo: limit,
                    },
                },
                None => Verdict {
                    process: b.process,
                    system: Some(id),
                    ok: false,
                    reason: Reason::RpoNoBackup { rpo: limit },
                },
            });
        }
    }
    let mut total = Outage::default();
    for n in &graph.nodes {
        if n.kind == ObjectKind::System
            || (n.kind == ObjectKind::Application && n.restore > Span::ZERO)
        {
            total.down.insert(n.id, n.restore);
        }
    }
    let start = PrimitiveDateTime::new(today, Time::MIDNIGHT);
    let p = plan(
        graph,
        bias,
        &total,
        PlanOptions {
            teams: 0,
            outage_start: start,
        },
    );
    let by_process: IdMap<ObjectId, &Bia> = bias.iter().map(|b| (b.process, b)).collect();
    let mut rto: Vec<Verdict> = p
        .processes
        .iter()
        .filter_map(|r| {
            let b = by_process.get(&r.process)?;
            let untested = r
                .critical_path
                .iter()
                .filter(|id| {
                    pos.get(id).is_some_and(|&i| is_data_system(i)) && !measured.contains(id)
                })
                .copied()
                .collect();
            Some(Verdict {
                process: r.process,
                system: None,
                ok: r.back <= b.mta,
                reason: Reason::RtoChain {
                    back: r.back,
                    mta: b.mta,
                    rto: b.rto,
                    path: r.critical_path.clone(),
                    untested,
                },
            })
        })
        .collect();
    rto.sort_by_key(|v| v.process);
    let verdicts = backups
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let checks = rule_32110(b);
            BackupVerdict {
                backup: i,
                name: b.name.clone(),
                ok: checks.iter().all(|c| c.ok),
                checks,
            }
        })
        .collect();
    let mut gaps = Vec::new();
    for &id in &critical {
        let Some(&i) = pos.get(&id) else { continue };
        if !is_data_system(i) {
            continue;
        }
        let Some(bs) = covering.get(&id) else {
            gaps.push(Gap {
                system: id,
                reason: Reason::NoBackup,
            });
            continue;
        };
        let last = bs
            .iter()
            .filter_map(|b| {
                b.restore_tests
                    .iter()
                    .find(|t| t.result != RestoreResult::Failed)
            })
            .map(|t| t.date)
            .max();
        let days_ago = last.map(|d| (today - d).whole_days());
        if days_ago.is_none_or(|d| d > 365) {
            gaps.push(Gap {
                system: id,
                reason: Reason::NoRecentRestoreTest { last, days_ago },
            });
        }
        for b in bs.iter().filter(|b| !b.separate_credentials) {
            gaps.push(Gap {
                system: id,
                reason: Reason::DomainCredentials {
                    backup: b.name.clone(),
                },
            });
        }
    }
    Verdicts {
        rpo,
        rto,
        backups: verdicts,
        gaps,
        critical_systems: critical.into_iter().collect(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
pub(crate) mod tests {
    use super::*;
    use crate::backup::{BackupCopy, Medium, RestoreTest};
    use crate::fixture::*;
    use time::macros::date;

    pub const TODAY: Date = date!(2026 - 11 - 28);

    pub fn copy(medium: Medium, offsite: bool, offline: bool, immutable: bool) -> BackupCopy {
        BackupCopy {
            medium,
            location: "Keller".into(),
            offsite,
            offline,
            immutable,
        }
    }

    /// FIN: nightly, 3-2-1-1-0 complete, tested in March (7 h). FILES: every 4 h on a NAS only,
    /// domain credentials, last test failed. DC: no backup.
    pub fn backups() -> Vec<Backup> {
        vec![
            Backup {
                systems: vec![FIN],
                name: "Finanzen nightly".into(),
                method: Some("image".into()),
                tool: Some("Veeam".into()),
                interval: Span::hours(24),
                retention: Some(Span::days(30)),
                copies: vec![
                    copy(Medium::Nas, false, false, false),
                    copy(Medium::Tape, true, true, false),
                ],
                encrypted: true,
                separate_credentials: true,
                last_success: Some(date!(2026 - 11 - 27)),
                restore_tests: vec![RestoreTest {
                    date: date!(2026 - 03 - 02),
                    duration: Span::hours(7),
                    result: RestoreResult::Success,
                    errors: 0,
                    notes: None,
                }],
            },
            Backup {
                systems: vec![FILES],
                name: "Ablage 4h".into(),
                method: None,
                tool: None,
                interval: Span::hours(4),
                retention: None,
                copies: vec![copy(Medium::Nas, false, false, false)],
                encrypted: false,
                separate_credentials: false,
                last_success: None,
                restore_tests: vec![RestoreTest {
                    date: date!(2026 - 10 - 01),
                    duration: Span::hours(2),
                    result: RestoreResult::Failed,
                    errors: 3,
                    notes: None,
                }],
            },
        ]
    }

    fn judged() -> Verdicts {
        let mut g = graph();
        let b = backups();
        let measured = apply_measured_restores(&mut g, &b);
        judge(&g, &bias(), &b, &measured, TODAY)
    }

    #[test]
    fn rpo_per_process_and_system() {
        let v = judged();
        let got: Vec<_> = v
            .rpo
            .iter()
            .map(|v| (v.process, v.system.unwrap(), v.ok))
            .collect();
        // PR1 (24 h): DC no backup, FIN nightly ok. PR2 (24 h): DC, FILES 4 h ok.
        // PR4 (4 h): DC, FILES ok, FIN nightly too slow. PR3 has no RPO.
        assert_eq!(
            got,
            vec![
                (PR1, DC, false),
                (PR1, FIN, true),
                (PR2, DC, false),
                (PR2, FILES, true),
                (PR4, DC, false),
                (PR4, FILES, true),
                (PR4, FIN, false),
            ]
        );
        assert_eq!(
            v.rpo[6].reason,
            Reason::RpoInterval {
                interval: Span::hours(24),
                rpo: Span::hours(4)
            }
        );
        assert_eq!(
            v.rpo[0].reason,
            Reason::RpoNoBackup {
                rpo: Span::hours(24)
            }
        );
    }

    #[test]
    fn rto_along_the_chain() {
        let v = judged();
        // Unlimited teams: switch 2, HV1 8, DC 12, FIN (measured 7 h) 19; FILES keeps 3 h (the
        // failed test measured nothing) → 15.
        let got: Vec<_> = v
            .rto
            .iter()
            .map(|v| match &v.reason {
                Reason::RtoChain { back, untested, .. } => {
                    (v.process, back.0 / 60, v.ok, untested.clone())
                }
                r => panic!("{r:?}"),
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (PR1, 19, true, vec![DC]),
                (PR2, 15, true, vec![FILES, DC]),
                (PR4, 19, true, vec![DC]),
            ]
        );
    }

    #[test]
    fn rule_32110_and_gaps() {
        let v = judged();
        assert!(v.backups[0].ok, "{:?}", v.backups[0]);
        let failed: Vec<_> = v.backups[1]
            .checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| c.rule)
            .collect();
        assert_eq!(
            failed,
            vec![
                Rule::Copies,
                Rule::Media,
                Rule::Offsite,
                Rule::OfflineOrImmutable,
                Rule::RestoreErrors
            ]
        );
        assert_eq!(
            v.backups[1].checks[4].reason,
            Reason::RestoreErrors {
                errors: Some(3),
                tested: Some(date!(2026 - 10 - 01))
            }
        );
        assert_eq!(
            v.gaps,
            vec![
                Gap {
                    system: DC,
                    reason: Reason::NoBackup
                },
                Gap {
                    system: FILES,
                    reason: Reason::NoRecentRestoreTest {
                        last: None,
                        days_ago: None
                    }
                },
                Gap {
                    system: FILES,
                    reason: Reason::DomainCredentials {
                        backup: "Ablage 4h".into()
                    }
                },
            ]
        );
        // All fixture systems have availability hoch.
        assert_eq!(v.critical_systems, vec![DC, HV1, SWITCH, FILES, FIN]);
    }

    #[test]
    fn old_restore_test_is_a_gap() {
        let mut g = graph();
        let b = backups();
        let measured = apply_measured_restores(&mut g, &b);
        let v = judge(&g, &bias(), &b, &measured, date!(2027 - 03 - 10));
        assert!(v.gaps.contains(&Gap {
            system: FIN,
            reason: Reason::NoRecentRestoreTest {
                last: Some(date!(2026 - 03 - 02)),
                days_ago: Some(373)
            }
        }));
    }
}
