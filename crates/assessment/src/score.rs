//! Fulfilment (Erfüllungsgrad) per practice and overall: ja counts 1, teilweise ½, nein and offen
//! 0; entbehrlich is left out of the base. Per-object answers are first folded into one status per
//! requirement. Points are kept in halves so every sum is an exact integer and comparisons
//! (the heatmap's target line, the monotonicity property) never suffer from rounding.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use time::Date;

use crate::answer::{Answer, Status};
use crate::effective::{effective, Expiry};
use crate::requirement::{RequirementRef, SecLevel};

/// How many requirements have each status.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
pub struct StatusCounts {
    pub ja: u32,
    pub teilweise: u32,
    pub nein: u32,
    pub entbehrlich: u32,
    pub offen: u32,
}

impl StatusCounts {
    pub fn add(&mut self, s: Status) {
        match s {
            Status::Ja => self.ja += 1,
            Status::Teilweise => self.teilweise += 1,
            Status::Nein => self.nein += 1,
            Status::Entbehrlich => self.entbehrlich += 1,
            Status::Offen => self.offen += 1,
        }
    }
    pub fn merge(&mut self, o: &StatusCounts) {
        self.ja += o.ja;
        self.teilweise += o.teilweise;
        self.nein += o.nein;
        self.entbehrlich += o.entbehrlich;
        self.offen += o.offen;
    }
    pub fn total(&self) -> u32 {
        self.ja + self.teilweise + self.nein + self.entbehrlich + self.offen
    }
    /// The requirements that count: all but entbehrlich.
    pub fn base(&self) -> u32 {
        self.total() - self.entbehrlich
    }
    /// Points in halves: 2 per ja, 1 per teilweise.
    pub fn half_points(&self) -> u32 {
        2 * self.ja + self.teilweise
    }
    /// Fulfilment in 0..=1; `None` when nothing counts (everything entbehrlich, or no requirement).
    pub fn ratio(&self) -> Option<f64> {
        let base = self.base();
        (base > 0).then(|| f64::from(self.half_points()) / f64::from(2 * base))
    }
    /// Fulfilment in whole per cent, rounded down so that 99.6 % never shows as 100 %.
    pub fn percent(&self) -> Option<u8> {
        let base = u64::from(self.base());
        (base > 0).then(|| (u64::from(self.half_points()) * 50 / base) as u8)
    }
    /// Does the fulfilment reach `percent` per cent? Exact, without floating point.
    pub fn reaches(&self, percent: u8) -> bool {
        // half_points / (2·base) ≥ p/100  ⇔  50·half_points ≥ p·base
        u64::from(self.half_points()) * 50 >= u64::from(percent) * u64::from(self.base())
    }
}

/// Folds per-object statuses into the requirement's status. Entbehrlich objects are left out; if
/// all are entbehrlich, so is the requirement. Otherwise: all ja → ja; some fulfilment (ja or
/// teilweise) → teilweise; none → nein when any object says nein, else offen.
pub fn aggregate_objects(statuses: impl IntoIterator<Item = Status>) -> Status {
    let mut c = StatusCounts::default();
    for s in statuses {
        c.add(s);
    }
    if c.base() == 0 {
        return if c.entbehrlich > 0 {
            Status::Entbehrlich
        } else {
            Status::Offen
        };
    }
    if c.ja == c.base() {
        Status::Ja
    } else if c.ja + c.teilweise > 0 {
        Status::Teilweise
    } else if c.nein > 0 {
        Status::Nein
    } else {
        Status::Offen
    }
}

/// One requirement's effective status on a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequirementState<'a> {
    pub requirement: &'a RequirementRef,
    /// Effective status (expired answers count as offen), folded over objects.
    pub status: Status,
    /// The recorded status before expiry, folded the same way.
    pub recorded: Status,
    /// The earliest expiry among the answers that went into it.
    pub expired: Option<Expiry>,
    /// How many per-object answers went into it (0: one answer for the whole town).
    pub objects: u32,
}

/// The answers that count, by requirement id: the per-object answers if the requirement has any
/// (the town moved from one overall answer to per-object ones), else the requirement-level
/// answer; of several for the same object, the latest `assessed_on`.
pub(crate) fn current_answers(answers: &[Answer]) -> HashMap<&str, Vec<&Answer>> {
    let mut by_req: HashMap<&str, Vec<&Answer>> = HashMap::new();
    for a in answers {
        by_req.entry(a.requirement_id.as_str()).or_default().push(a);
    }
    for list in by_req.values_mut() {
        let per_object = list.iter().any(|a| a.object_id.is_some());
        let mut latest: BTreeMap<Option<stadtmauer_core::ObjectId>, &Answer> = BTreeMap::new();
        for a in list.iter().filter(|a| a.object_id.is_some() == per_object) {
            let slot = latest.entry(a.object_id).or_insert(a);
            if a.assessed_on > slot.assessed_on {
                *slot = a;
            }
        }
        *list = latest.into_values().collect();
    }
    by_req
}

/// The effective state of every requirement on `at`. A requirement without answer is offen.
///
/// If a requirement has per-object answers, only those count (the town moved from one overall
/// answer to a per-object one); otherwise the requirement-level answer counts. Of several answers
/// for the same requirement and object, the latest `assessed_on` wins.
pub fn evaluate<'a>(
    requirements: &'a [RequirementRef],
    answers: &[Answer],
    at: Date,
) -> Vec<RequirementState<'a>> {
    let current = current_answers(answers);
    requirements
        .iter()
        .map(|r| {
            let list = current.get(r.id.as_str()).map(Vec::as_slice).unwrap_or(&[]);
            let per_object = list.iter().any(|a| a.object_id.is_some());
            let effs: Vec<_> = list.iter().map(|a| effective(a, r.recurring, at)).collect();
            RequirementState {
                requirement: r,
                status: aggregate_objects(effs.iter().map(|e| e.status)),
                recorded: aggregate_objects(effs.iter().map(|e| e.recorded)),
                expired: effs
                    .iter()
                    .filter_map(|e| e.expired)
                    .min_by_key(|x| x.date()),
                objects: if per_object { effs.len() as u32 } else { 0 },
            }
        })
        .collect()
}

/// Fulfilment per practice and overall, for the requirements of a target level.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Score {
    pub overall: StatusCounts,
    pub practices: BTreeMap<String, StatusCounts>,
}

/// Counts the states whose requirement belongs to `target` (normal-SdT, or normal-SdT + erhöht).
pub fn score(states: &[RequirementState<'_>], target: SecLevel) -> Score {
    let mut s = Score::default();
    for st in states
        .iter()
        .filter(|st| target.includes(st.requirement.sec_level))
    {
        s.overall.add(st.status);
        s.practices
            .entry(st.requirement.practice.clone())
            .or_default()
            .add(st.status);
    }
    s
}

/// A requirement of the target level that is not met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GapItem<'a> {
    pub requirement: &'a RequirementRef,
    pub status: Status,
    pub expired: Option<Expiry>,
}

/// The gap to a target level: every requirement of that level that is neither ja nor entbehrlich,
/// by practice and then id.
pub fn gap<'a>(states: &[RequirementState<'a>], target: SecLevel) -> Vec<GapItem<'a>> {
    let mut g: Vec<GapItem<'a>> = states
        .iter()
        .filter(|st| target.includes(st.requirement.sec_level))
        .filter(|st| !matches!(st.status, Status::Ja | Status::Entbehrlich))
        .map(|st| GapItem {
            requirement: st.requirement,
            status: st.status,
            expired: st.expired,
        })
        .collect();
    g.sort_by(|a, b| {
        (&a.requirement.practice, &a.requirement.id)
            .cmp(&(&b.requirement.practice, &b.requirement.id))
    });
    g
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::date::parse_date;
    use crate::evidence::{Evidence, EvidenceItem};
    use proptest::prelude::*;
    use stadtmauer_core::ObjectId;

    fn d(s: &str) -> Date {
        parse_date(s).unwrap()
    }

    fn req(id: &str, practice: &str, sec: SecLevel) -> RequirementRef {
        RequirementRef {
            id: id.into(),
            practice: practice.into(),
            sec_level: sec,
            effort_level: 2,
            recurring: None,
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

    fn check_aggregate(input: &[Status], expected: Status) {
        assert_eq!(
            aggregate_objects(input.iter().copied()),
            expected,
            "{input:?}"
        );
    }

    #[test]
    fn object_aggregation() {
        use Status::*;
        check_aggregate(&[], Offen);
        check_aggregate(&[Ja, Ja, Entbehrlich], Ja);
        check_aggregate(&[Ja, Nein], Teilweise);
        check_aggregate(&[Teilweise, Teilweise], Teilweise);
        check_aggregate(&[Nein, Offen], Nein);
        check_aggregate(&[Offen, Offen], Offen);
        check_aggregate(&[Entbehrlich, Entbehrlich], Entbehrlich);
    }

    #[test]
    fn score_and_gap() {
        use SecLevel::*;
        use Status::*;
        let reqs = vec![
            req("GC.1", "GC", NormalSdT),
            req("GC.2", "GC", NormalSdT),
            req("GC.3", "GC", Erhoeht),
            req("DET.1", "DET", NormalSdT),
            req("DET.2", "DET", NormalSdT),
        ];
        let answers = vec![
            ans("GC.1", None, Ja),
            ans("GC.2", None, Teilweise),
            ans("GC.3", None, Nein),
            ans("DET.1", None, Entbehrlich),
            // DET.2 per object: one ja, one nein → teilweise; the overall answer is ignored.
            ans("DET.2", None, Nein),
            ans("DET.2", Some(1), Ja),
            ans("DET.2", Some(2), Nein),
        ];
        let states = evaluate(&reqs, &answers, d("2026-06-01"));
        assert_eq!(states[4].status, Teilweise);
        assert_eq!(states[4].objects, 2);
        let s = score(&states, NormalSdT);
        assert_eq!(s.overall.base(), 3);
        assert_eq!(s.overall.percent(), Some(66));
        assert_eq!(s.practices["GC"].percent(), Some(75));
        assert_eq!(s.practices["DET"].percent(), Some(50));
        assert!(s.practices["GC"].reaches(75) && !s.practices["GC"].reaches(76));
        let s = score(&states, Erhoeht);
        assert_eq!(s.practices["GC"].ratio(), Some(0.5));
        let g: Vec<_> = gap(&states, Erhoeht)
            .iter()
            .map(|g| (g.requirement.id.as_str(), g.status))
            .collect();
        assert_eq!(
            g,
            [("DET.2", Teilweise), ("GC.2", Teilweise), ("GC.3", Nein)]
        );
        let only_entbehrlich = StatusCounts {
            entbehrlich: 3,
            ..Default::default()
        };
        assert_eq!(only_entbehrlich.ratio(), None);
    }

    #[test]
    fn latest_answer_wins() {
        let reqs = vec![req("A", "P", SecLevel::NormalSdT)];
        let mut newer = ans("A", None, Status::Ja);
        newer.assessed_on = d("2026-03-01");
        let answers = vec![newer, ans("A", None, Status::Nein)];
        assert_eq!(
            evaluate(&reqs, &answers, d("2026-06-01"))[0].status,
            Status::Ja
        );
    }

    // ---- property tests ----

    const PRACTICES: [&str; 3] = ["GC", "DET", "BER"];

    fn arb_status() -> impl Strategy<Value = Status> {
        prop::sample::select(Status::ALL.to_vec())
    }

    /// Requirements (practice, level) and answers (requirement index, object, status, evidence
    /// expired?) on 2026-01-01, evaluated on 2026-06-01.
    fn arb_case() -> impl Strategy<Value = (Vec<RequirementRef>, Vec<Answer>)> {
        prop::collection::vec((0..3usize, any::<bool>()), 1..12).prop_flat_map(|rs| {
            let reqs: Vec<RequirementRef> = rs
                .iter()
                .enumerate()
                .map(|(i, (p, e))| {
                    req(
                        &format!("R{i}"),
                        PRACTICES[*p],
                        if *e {
                            SecLevel::Erhoeht
                        } else {
                            SecLevel::NormalSdT
                        },
                    )
                })
                .collect();
            let n = reqs.len();
            let answers = prop::collection::vec(
                (
                    0..n,
                    prop::option::of(1..4i64),
                    arb_status(),
                    prop::option::of(any::<bool>()),
                ),
                0..20,
            )
            .prop_map(move |v| {
                v.into_iter()
                    .map(|(i, o, s, ev)| {
                        let mut a = ans(&format!("R{i}"), o, s);
                        if let Some(expired) = ev {
                            a.evidence.push(EvidenceItem {
                                evidence: Evidence::Record {
                                    record: crate::evidence::RecordKind::PentestReport,
                                    id: 1,
                                },
                                valid_until: Some(d(if expired {
                                    "2026-05-01"
                                } else {
                                    "2026-12-31"
                                })),
                            });
                        }
                        a
                    })
                    .collect::<Vec<_>>()
            });
            (Just(reqs), answers)
        })
    }

    /// a ≤ b on fulfilment ratios, exactly; "nothing counts" is below every value.
    fn le(a: &StatusCounts, b: &StatusCounts) -> bool {
        match (a.base(), b.base()) {
            (0, _) => true,
            (_, 0) => false,
            (ba, bb) => {
                u64::from(a.half_points()) * u64::from(bb)
                    <= u64::from(b.half_points()) * u64::from(ba)
            }
        }
    }

    proptest! {
        /// Answering ja (fresh, today) for any requirement or object never lowers any score.
        #[test]
        fn answering_ja_is_monotone((reqs, answers) in arb_case(), pick in any::<prop::sample::Index>(), object in prop::option::of(1..4i64)) {
            let at = d("2026-06-01");
            let target = reqs[pick.index(reqs.len())].clone();
            let mut more = answers.clone();
            // Replace the answer for this requirement and object with a fresh ja.
            let mut fresh = ans(&target.id, object, Status::Ja);
            fresh.assessed_on = at;
            more.retain(|a| !(a.requirement_id == target.id && a.object_id == fresh.object_id));
            more.push(fresh);
            for level in SecLevel::ALL {
                let before = score(&evaluate(&reqs, &answers, at), level);
                let after = score(&evaluate(&reqs, &more, at), level);
                prop_assert!(le(&before.overall, &after.overall), "{level:?} overall {:?} → {:?}", before.overall, after.overall);
                for (p, b) in &before.practices {
                    prop_assert!(le(b, &after.practices[p]), "{p}: {b:?} → {:?}", after.practices[p]);
                }
            }
        }

        /// Adding an entbehrlich requirement changes neither the base nor the points.
        #[test]
        fn entbehrlich_is_excluded((mut reqs, mut answers) in arb_case(), p in 0..3usize) {
            let at = d("2026-06-01");
            let before = score(&evaluate(&reqs, &answers, at), SecLevel::Erhoeht);
            reqs.push(req("X", PRACTICES[p], SecLevel::NormalSdT));
            answers.push(ans("X", None, Status::Entbehrlich));
            let after = score(&evaluate(&reqs, &answers, at), SecLevel::Erhoeht);
            prop_assert_eq!(before.overall.base(), after.overall.base());
            prop_assert_eq!(before.overall.half_points(), after.overall.half_points());
            prop_assert_eq!(before.overall.ratio(), after.overall.ratio());
        }

        /// An answer whose evidence has all expired scores exactly like an offen answer.
        #[test]
        fn expired_evidence_counts_as_offen((reqs, answers) in arb_case()) {
            let at = d("2026-06-01");
            let replaced: Vec<Answer> = answers.iter().map(|a| {
                let expired = !a.evidence.is_empty() && a.evidence.iter().all(|e| !e.is_valid_on(at));
                if expired && matches!(a.status, Status::Ja | Status::Teilweise) {
                    Answer { status: Status::Offen, evidence: vec![], ..a.clone() }
                } else {
                    a.clone()
                }
            }).collect();
            let s1 = score(&evaluate(&reqs, &answers, at), SecLevel::Erhoeht);
            let s2 = score(&evaluate(&reqs, &replaced, at), SecLevel::Erhoeht);
            prop_assert_eq!(s1, s2);
        }

        /// The ratio is in [0, 1] and percent agrees with reaches().
        #[test]
        fn ratio_bounds(ja in 0..50u32, t in 0..50u32, n in 0..50u32, e in 0..50u32, o in 0..50u32, p in 0..=100u8) {
            let c = StatusCounts { ja, teilweise: t, nein: n, entbehrlich: e, offen: o };
            if let Some(r) = c.ratio() {
                prop_assert!((0.0..=1.0).contains(&r));
                prop_assert_eq!(c.reaches(p), r * 100.0 >= f64::from(p) - 1e-9);
                prop_assert!(c.reaches(c.percent().unwrap_or(0)));
            }
        }
    }
}
