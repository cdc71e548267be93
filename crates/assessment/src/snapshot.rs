//! Snapshots of a town's level, taken whenever an assessment is finished, and what is read from
//! them: the Verbund heatmap (town × practice, against a target line) and trend series.
//!
//! A snapshot keeps only per-practice status counts, split by security level, so the heatmap of
//! a whole Verbund over years reads a few hundred small aggregates instead of every raw answer,
//! and any target level can still be computed from it afterwards.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use stadtmauer_core::OrgId;
use time::Date;

use crate::requirement::SecLevel;
use crate::score::{RequirementState, StatusCounts};

/// The counts of one practice in one snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PracticeAggregate {
    pub practice: String,
    pub normal_sdt: StatusCounts,
    pub erhoeht: StatusCounts,
}

impl PracticeAggregate {
    /// The counts of the requirements a town aiming at `level` must meet.
    pub fn counts(&self, level: SecLevel) -> StatusCounts {
        let mut c = self.normal_sdt;
        if level.includes(SecLevel::Erhoeht) {
            c.merge(&self.erhoeht);
        }
        c
    }
}

/// A town's level on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Snapshot {
    pub organisation_id: OrgId,
    #[serde(with = "crate::date::iso")]
    #[schema(value_type = String, format = Date)]
    pub taken_on: Date,
    /// Sorted by practice id.
    pub practices: Vec<PracticeAggregate>,
}

impl Snapshot {
    /// Aggregates evaluated requirement states (see [`crate::score::evaluate`]).
    pub fn take(
        organisation_id: OrgId,
        taken_on: Date,
        states: &[RequirementState<'_>],
    ) -> Snapshot {
        let mut by: std::collections::BTreeMap<&str, PracticeAggregate> = Default::default();
        for st in states {
            let p = st.requirement.practice.as_str();
            let agg = by.entry(p).or_insert_with(|| PracticeAggregate {
                practice: p.to_string(),
                normal_sdt: StatusCounts::default(),
                erhoeht: StatusCounts::default(),
            });
            match st.requirement.sec_level {
                SecLevel::NormalSdT => agg.normal_sdt.add(st.status),
                SecLevel::Erhoeht => agg.erhoeht.add(st.status),
            }
        }
        Snapshot {
            organisation_id,
            taken_on,
            practices: by.into_values().collect(),
        }
    }

    pub fn practice(&self, practice: &str) -> Option<&PracticeAggregate> {
        self.practices
            .binary_search_by(|p| p.practice.as_str().cmp(practice))
            .ok()
            .and_then(|i| self.practices.get(i))
    }

    pub fn overall(&self, level: SecLevel) -> StatusCounts {
        let mut c = StatusCounts::default();
        for p in &self.practices {
            c.merge(&p.counts(level));
        }
        c
    }
}

/// One cell of the heatmap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Cell {
    pub counts: StatusCounts,
    /// `None` when nothing counts (all entbehrlich).
    pub percent: Option<u8>,
    /// Fulfilment at or above the target line.
    pub meets_target: bool,
}

impl Cell {
    fn new(counts: StatusCounts, target_percent: u8) -> Cell {
        Cell {
            counts,
            percent: counts.percent(),
            meets_target: counts.base() > 0 && counts.reaches(target_percent),
        }
    }
}

/// One town's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct HeatmapRow {
    pub organisation_id: OrgId,
    /// The snapshot the row shows; `None` when the town has none yet.
    #[schema(value_type = Option<String>, format = Date)]
    #[serde(with = "crate::date::iso_opt")]
    pub taken_on: Option<Date>,
    /// One per [`Heatmap::practices`]; `None` when the snapshot has no such practice.
    pub cells: Vec<Option<Cell>>,
    pub overall: Option<Cell>,
}

/// Practice × town, for one target level and target line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Heatmap {
    pub level: SecLevel,
    pub target_percent: u8,
    pub practices: Vec<String>,
    pub rows: Vec<HeatmapRow>,
}

/// The heatmap on `at`: for each town (in the given order) its latest snapshot taken on or
/// before `at`. Columns are the union of practices in those snapshots, sorted.
pub fn heatmap(
    snapshots: &[Snapshot],
    towns: &[OrgId],
    at: Date,
    level: SecLevel,
    target_percent: u8,
) -> Heatmap {
    let wanted: HashMap<OrgId, usize> = towns.iter().enumerate().map(|(i, t)| (*t, i)).collect();
    let mut latest: Vec<Option<&Snapshot>> = vec![None; towns.len()];
    for s in snapshots.iter().filter(|s| s.taken_on <= at) {
        if let Some(&i) = wanted.get(&s.organisation_id) {
            if latest[i].is_none_or(|l| l.taken_on < s.taken_on) {
                latest[i] = Some(s);
            }
        }
    }
    let practices: Vec<String> = latest
        .iter()
        .flatten()
        .flat_map(|s| s.practices.iter().map(|p| p.practice.as_str()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(str::to_string)
        .collect();
    let rows = towns
        .iter()
        .zip(&latest)
        .map(|(org, snap)| HeatmapRow {
            organisation_id: *org,
            taken_on: snap.map(|s| s.taken_on),
            cells: practices
                .iter()
                .map(|p| {
                    snap.and_then(|s| s.practice(p))
                        .map(|a| Cell::new(a.counts(level), target_percent))
                })
                .collect(),
            overall: snap.map(|s| Cell::new(s.overall(level), target_percent)),
        })
        .collect();
    Heatmap {
        level,
        target_percent,
        practices,
        rows,
    }
}

/// One point of a trend series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TrendPoint {
    #[serde(with = "crate::date::iso")]
    #[schema(value_type = String, format = Date)]
    pub taken_on: Date,
    pub counts: StatusCounts,
}

/// A town's fulfilment over time, overall (`practice = None`) or for one practice, oldest first.
/// Snapshots without the practice are left out.
pub fn trend(
    snapshots: &[Snapshot],
    organisation_id: OrgId,
    level: SecLevel,
    practice: Option<&str>,
) -> Vec<TrendPoint> {
    let mut v: Vec<TrendPoint> = snapshots
        .iter()
        .filter(|s| s.organisation_id == organisation_id)
        .filter_map(|s| {
            let counts = match practice {
                None => s.overall(level),
                Some(p) => s.practice(p)?.counts(level),
            };
            Some(TrendPoint {
                taken_on: s.taken_on,
                counts,
            })
        })
        .collect();
    v.sort_by_key(|p| p.taken_on);
    v
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::answer::{Answer, Status};
    use crate::date::parse_date;
    use crate::requirement::RequirementRef;
    use crate::score::evaluate;

    fn d(s: &str) -> Date {
        parse_date(s).unwrap()
    }

    fn snap(org: i64, on: &str, statuses: &[(&str, SecLevel, Status)]) -> Snapshot {
        let reqs: Vec<RequirementRef> = statuses
            .iter()
            .enumerate()
            .map(|(i, (p, l, _))| RequirementRef {
                id: format!("{p}.{i}"),
                practice: p.to_string(),
                sec_level: *l,
                effort_level: 1,
                recurring: None,
            })
            .collect();
        let answers: Vec<Answer> = reqs
            .iter()
            .zip(statuses)
            .map(|(r, (_, _, s))| Answer {
                requirement_id: r.id.clone(),
                object_id: None,
                status: *s,
                reason: None,
                note: None,
                responsible: None,
                assessed_on: d(on),
                review_by: None,
                evidence: vec![],
            })
            .collect();
        Snapshot::take(OrgId(org), d(on), &evaluate(&reqs, &answers, d(on)))
    }

    #[test]
    fn heatmap_reads_latest_snapshot_per_town() {
        use SecLevel::*;
        use Status::*;
        let snaps = vec![
            snap(
                1,
                "2025-01-01",
                &[("GC", NormalSdT, Nein), ("DET", NormalSdT, Nein)],
            ),
            snap(
                1,
                "2026-01-01",
                &[
                    ("GC", NormalSdT, Ja),
                    ("DET", NormalSdT, Teilweise),
                    ("DET", Erhoeht, Nein),
                ],
            ),
            snap(
                1,
                "2027-01-01",
                &[("GC", NormalSdT, Ja), ("DET", NormalSdT, Ja)],
            ),
            snap(
                2,
                "2025-06-01",
                &[
                    ("GC", NormalSdT, Teilweise),
                    ("BER", NormalSdT, Entbehrlich),
                ],
            ),
            snap(9, "2025-06-01", &[("ZZZ", NormalSdT, Ja)]),
        ];
        let h = heatmap(
            &snaps,
            &[OrgId(2), OrgId(1), OrgId(3)],
            d("2026-06-30"),
            NormalSdT,
            50,
        );
        assert_eq!(h.practices, ["BER", "DET", "GC"]);
        let cell = |r: usize, c: usize| h.rows[r].cells[c].map(|c| (c.percent, c.meets_target));
        // Town 2: BER all entbehrlich → no percent, not meeting; DET absent; GC 50 %.
        assert_eq!(cell(0, 0), Some((None, false)));
        assert_eq!(cell(0, 1), None);
        assert_eq!(cell(0, 2), Some((Some(50), true)));
        // Town 1 uses the 2026 snapshot.
        assert_eq!(h.rows[1].taken_on, Some(d("2026-01-01")));
        assert_eq!(cell(1, 1), Some((Some(50), true)));
        assert_eq!(h.rows[1].overall.unwrap().percent, Some(75));
        // Town 3 has nothing.
        assert_eq!(h.rows[2].taken_on, None);
        assert!(h.rows[2].cells.iter().all(Option::is_none));
        let h = heatmap(&snaps, &[OrgId(1)], d("2026-06-30"), Erhoeht, 50);
        assert_eq!(h.rows[0].cells[0].unwrap().percent, Some(25));
        assert!(!h.rows[0].cells[0].unwrap().meets_target);
    }

    #[test]
    fn trends() {
        use SecLevel::*;
        use Status::*;
        let snaps = vec![
            snap(
                1,
                "2027-01-01",
                &[("GC", NormalSdT, Ja), ("DET", NormalSdT, Ja)],
            ),
            snap(
                1,
                "2025-01-01",
                &[("GC", NormalSdT, Nein), ("DET", NormalSdT, Nein)],
            ),
            snap(2, "2026-01-01", &[("GC", NormalSdT, Ja)]),
            snap(1, "2026-01-01", &[("GC", NormalSdT, Teilweise)]),
        ];
        let pct: Vec<_> = trend(&snaps, OrgId(1), NormalSdT, None)
            .iter()
            .map(|p| p.counts.percent())
            .collect();
        assert_eq!(pct, [Some(0), Some(50), Some(100)]);
        assert_eq!(trend(&snaps, OrgId(1), NormalSdT, Some("DET")).len(), 2);
    }
}
