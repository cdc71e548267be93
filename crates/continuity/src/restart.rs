//! The restart order after an outage: which object is restored when, by which team, and when
//! each process is back — compared with its MTA, RTO and legal deadlines.
//!
//! # Scheduling model
//!
//! * Edges point from the user to what it uses (process → application → system → location,
//!   system → provider), as in the inventory. An object can start once everything it uses is
//!   back.
//! * An [`Outage`] says which objects are down and how long each takes to restore. Everything
//!   that uses a down object, directly or not, is *affected*: it waits, but needs no work of its own.
//!   Objects that are neither down nor affected are up from the start.
//! * Restoring a system or application occupies one of `teams` restore teams for its whole
//!   duration (`teams == 0`: unlimited, which gives the critical-path time). Providers,
//!   locations and connections come back on their own after their duration (someone else works
//!   on them). Zero-duration objects (processes, affected-but-intact systems) are back the moment
//!   their last dependency is.
//! * When a team is free it takes, among the objects whose dependencies are back, the one with
//!   the smallest key: infrastructure first (directory, DNS, network, hypervisors — the caller
//!   marks them, see [`default_infrastructure`]), then the smallest MTA among the processes that
//!   need the object, then the highest process criticality, then the highest availability
//!   requirement, then the smallest id. This is greedy list scheduling: not always optimal, but
//!   explainable to a crisis team, deterministic, and O((V + E) log V).
//! * Cycles (a domain controller and the file server it stores its scripts on) are found as
//!   strongly connected components; the dependencies *inside* a cycle are ignored so each member
//!   can start once everything outside the cycle is back. Cycles are reported.
//! * The `wave` of an object is its dependency depth among the affected objects: wave 0 needs
//!   nothing that is down, wave k needs something of wave k−1.

use crate::bia::{Bia, Criticality};
use crate::idmap::IdMap;
use crate::span::Span;
use serde::{Deserialize, Serialize};
use stadtmauer_core::ObjectId;
use stadtmauer_inventory::{Level, ObjectKind};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use time::PrimitiveDateTime;

/// One object of the graph the planner works on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestartNode {
    pub id: ObjectId,
    pub kind: ObjectKind,
    pub system_type: Option<String>,
    pub name: String,
    /// Effective availability requirement (from the inventory's inheritance).
    pub availability: Level,
    /// Time to restore the object when it is down: the measured restore test, else a default
    /// the caller chooses (see [`default_restore`]).
    pub restore: Span,
    pub is_infrastructure: bool,
}

/// Objects and "uses" edges `(user, used)`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestartGraph {
    pub nodes: Vec<RestartNode>,
    pub edges: Vec<(ObjectId, ObjectId)>,
}

/// System types restored before anything else when the caller has no better knowledge.
/// Directory and DNS servers are `server`s: the caller marks them by hand.
pub fn default_infrastructure(kind: ObjectKind, system_type: Option<&str>) -> bool {
    kind == ObjectKind::System
        && matches!(system_type, Some("network" | "virtualisation" | "security"))
}

/// A default restore time when no restore test was measured: deliberately pessimistic so an
/// untested system never looks better than a tested one (servers one working day, hypervisors
/// and network two days' worth of hours, client groups three days, applications none — they
/// come back with their server).
pub fn default_restore(kind: ObjectKind, system_type: Option<&str>) -> Span {
    match kind {
        ObjectKind::System => match system_type {
            Some("virtualisation" | "network" | "security") => Span::hours(16),
            Some("client_group") => Span::hours(24),
            Some("printer" | "telephony" | "mobile") => Span::hours(4),
            _ => Span::hours(8),
        },
        _ => Span::ZERO,
    }
}

/// What is down and how long each down object takes to restore.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outage {
    pub down: BTreeMap<ObjectId, Span>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanOptions {
    /// Parallel restore teams; 0 = unlimited.
    pub teams: usize,
    pub outage_start: PrimitiveDateTime,
}

/// One affected object in the plan. Times are offsets from the outage start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub object: ObjectId,
    pub kind: ObjectKind,
    pub name: String,
    pub wave: u32,
    /// Everything it uses is back.
    pub ready: Span,
    /// Work begins (later than `ready` when every team was busy).
    pub start: Span,
    pub back: Span,
    /// The restore team (0-based); `None` for objects that need no team.
    pub team: Option<u32>,
    /// The dependency that came back last and so decided `ready`.
    pub waited_for: Option<ObjectId>,
}

/// A legal deadline the restart misses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissedDeadline {
    pub description: String,
    pub due: PrimitiveDateTime,
    pub back_at: PrimitiveDateTime,
    pub late_by: Span,
}

/// When an affected process is back and what that means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessRecovery {
    pub process: ObjectId,
    pub name: String,
    pub criticality: Option<Criticality>,
    pub mta: Option<Span>,
    pub rto: Option<Span>,
    pub back: Span,
    pub back_at: PrimitiveDateTime,
    /// `None` without a BIA.
    pub within_rto: Option<bool>,
    pub within_mta: Option<bool>,
    pub missed: Vec<MissedDeadline>,
    /// The chain of objects that decided the time, from the process down to the first restore.
    pub critical_path: Vec<ObjectId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestartPlan {
    /// Affected objects in the order work on them starts (ties: back first, then id).
    pub steps: Vec<Step>,
    /// Affected processes, earliest back first.
    pub processes: Vec<ProcessRecovery>,
    /// Strongly connected components of more than one object (ids ascending), or self-loops.
    pub cycles: Vec<Vec<ObjectId>>,
    /// Edges naming an object not in the graph; ignored.
    pub ignored_edges: usize,
    /// When the last affected object is back.
    pub total: Span,
}

fn sat(m: u64) -> Span {
    Span(u32::try_from(m).unwrap_or(u32::MAX))
}

/// Strongly connected components (iterative Tarjan); returns the component index of each node.
fn components(n: usize, deps: &[Vec<usize>]) -> (Vec<usize>, Vec<usize>) {
    const UNSEEN: usize = usize::MAX;
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut comp = vec![UNSEEN; n];
    let mut sizes = Vec::new();
    let mut next = 0usize;
    let mut call: Vec<(usize, usize)> = Vec::new();
    for root in 0..n {
        if index[root] != UNSEEN {
            continue;
        }
        call.push((root, 0));
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut pos)) = call.last_mut() {
            if let Some(&w) = deps[v].get(*pos) {
                *pos += 1;
                if index[w] == UNSEEN {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    call.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                call.pop();
                if let Some(&(parent, _)) = call.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let c = sizes.len();
                    let mut size = 0;
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        comp[w] = c;
                        size += 1;
                        if w == v {
                            break;
                        }
                    }
                    sizes.push(size);
                }
            }
        }
    }
    (comp, sizes)
}

type Key = (
    u8,
    u64,
    Reverse<Option<Criticality>>,
    Reverse<Level>,
    ObjectId,
    usize,
);

/// Plans the restart; see the module documentation for the model.
pub fn plan(graph: &RestartGraph, bias: &[Bia], outage: &Outage, opts: PlanOptions) -> RestartPlan {
    let n = graph.nodes.len();
    let pos: IdMap<ObjectId, usize> = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, x)| (x.id, i))
        .collect();
    let bia: IdMap<ObjectId, &Bia> = bias.iter().map(|b| (b.process, b)).collect();
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut ignored_edges = 0;
    let mut self_loops = Vec::new();
    for (a, b) in &graph.edges {
        match (pos.get(a), pos.get(b)) {
            (Some(&i), Some(&j)) if i == j => self_loops.push(i),
            (Some(&i), Some(&j)) => deps[i].push(j),
            _ => ignored_edges += 1,
        }
    }
    let (comp, sizes) = components(n, &deps);
    // Drop edges inside a cycle; duplicates too, so counters match.
    for (i, d) in deps.iter_mut().enumerate() {
        d.retain(|&j| comp[j] != comp[i]);
        d.sort_unstable();
        d.dedup();
    }
    let mut cycles: Vec<Vec<ObjectId>> = Vec::new();
    {
        let mut by_comp: HashMap<usize, Vec<ObjectId>> = HashMap::new();
        for i in 0..n {
            if sizes[comp[i]] > 1 {
                by_comp.entry(comp[i]).or_default().push(graph.nodes[i].id);
            }
        }
        for i in self_loops {
            if sizes[comp[i]] == 1 {
                by_comp.entry(comp[i]).or_default().push(graph.nodes[i].id);
            }
        }
        for (_, mut c) in by_comp {
            c.sort();
            c.dedup();
            cycles.push(c);
        }
        cycles.sort();
    }
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, d) in deps.iter().enumerate() {
        for &j in d {
            users[j].push(i);
        }
    }
    // Affected: down objects and everything that uses them.
    let mut dur: Vec<Option<u64>> = vec![None; n];
    let mut work = Vec::new();
    for (id, span) in &outage.down {
        if let Some(&i) = pos.get(id) {
            dur[i] = Some(u64::from(span.0));
            work.push(i);
        }
    }
    let mut affected = vec![false; n];
    for &i in &work {
        affected[i] = true;
    }
    while let Some(i) = work.pop() {
        for &u in &users[i] {
            if !affected[u] {
                affected[u] = true;
                work.push(u);
            }
        }
    }
    // Topological order of affected nodes, users before what they use (Kahn on user counts).
    let mut pending_users: Vec<usize> = (0..n)
        .map(|i| users[i].iter().filter(|&&u| affected[u]).count())
        .collect();
    let mut order: Vec<usize> = (0..n)
        .filter(|&i| affected[i] && pending_users[i] == 0)
        .collect();
    let mut k = 0;
    while k < order.len() {
        let i = order[k];
        k += 1;
        for &j in &deps[i] {
            if affected[j] {
                pending_users[j] -= 1;
                if pending_users[j] == 0 {
                    order.push(j);
                }
            }
        }
    }
    // Urgency flows from processes down to what they use.
    let mut urgency = vec![u64::MAX; n];
    let mut crit: Vec<Option<Criticality>> = vec![None; n];
    for &i in &order {
        let node = &graph.nodes[i];
        if node.kind == ObjectKind::Process {
            if let Some(b) = bia.get(&node.id) {
                urgency[i] = urgency[i].min(u64::from(b.mta.0));
                crit[i] = crit[i].max(Some(b.criticality));
            }
        }
        let (u, c) = (urgency[i], crit[i]);
        for &j in &deps[i] {
            urgency[j] = urgency[j].min(u);
            crit[j] = crit[j].max(c);
        }
    }
    let mut wave = vec![0u32; n];
    for &i in order.iter().rev() {
        wave[i] = deps[i]
            .iter()
            .filter(|&&j| affected[j])
            .map(|&j| wave[j] + 1)
            .max()
            .unwrap_or(0);
    }
    let key = |i: usize| -> Key {
        let node = &graph.nodes[i];
        (
            u8::from(!node.is_infrastructure),
            urgency[i],
            Reverse(crit[i]),
            Reverse(node.availability),
            node.id,
            i,
        )
    };
    let needs_team = |i: usize| {
        dur[i].unwrap_or(0) > 0
            && matches!(
                graph.nodes[i].kind,
                ObjectKind::System | ObjectKind::Application
            )
    };
    let mut remaining: Vec<usize> = (0..n)
        .map(|i| deps[i].iter().filter(|&&j| affected[j]).count())
        .collect();
    let mut ready_at = vec![0u64; n];
    let mut start = vec![0u64; n];
    let mut back = vec![0u64; n];
    let mut team_of: Vec<Option<u32>> = vec![None; n];
    let mut waited_for: Vec<Option<usize>> = vec![None; n];
    let mut ready: BinaryHeap<Reverse<Key>> = BinaryHeap::new();
    // Running jobs: (end, node, team).
    let mut running: BinaryHeap<Reverse<(u64, usize, Option<u32>)>> = BinaryHeap::new();
    let mut free_teams: BinaryHeap<Reverse<u32>> = BinaryHeap::new();
    let unlimited = opts.teams == 0;
    for t in 0..opts.teams.min(u32::MAX as usize) {
        free_teams.push(Reverse(t as u32));
    }
    let mut next_unlimited_team = 0u32;
    // Objects whose dependencies are all back at `now`; they join the queue or start at once.
    let mut newly: Vec<usize> = (0..n)
        .filter(|&i| affected[i] && remaining[i] == 0)
        .collect();
    let mut now = 0u64;
    loop {
        for i in newly.drain(..) {
            ready_at[i] = now;
            if needs_team(i) {
                ready.push(Reverse(key(i)));
            } else {
                start[i] = now;
                running.push(Reverse((now + dur[i].unwrap_or(0), i, None)));
            }
        }
        while let Some(Reverse(k)) = ready.peek().copied() {
            let team = if unlimited {
                next_unlimited_team += 1;
                Some(next_unlimited_team - 1)
            } else if let Some(Reverse(t)) = free_teams.pop() {
                Some(t)
            } else {
                break;
            };
            ready.pop();
            let i = k.5;
            start[i] = now;
            team_of[i] = team;
            running.push(Reverse((now + dur[i].unwrap_or(0), i, team)));
        }
        let Some(Reverse((t, _, _))) = running.peek().copied() else {
            break;
        };
        now = t;
        while let Some(Reverse((t, i, team))) = running.peek().copied() {
            if t != now {
                break;
            }
            running.pop();
            back[i] = t;
            if let (Some(team), false) = (team, unlimited) {
                free_teams.push(Reverse(team));
            }
            for &u in &users[i] {
                if !affected[u] {
                    continue;
                }
                remaining[u] -= 1;
                waited_for[u] = Some(i);
                if remaining[u] == 0 {
                    ready_at[u] = now;
                    if needs_team(u) {
                        ready.push(Reverse(key(u)));
                    } else {
                        start[u] = now;
                        running.push(Reverse((now + dur[u].unwrap_or(0), u, None)));
                    }
                }
            }
        }
    }
    let mut idx: Vec<usize> = (0..n).filter(|&i| affected[i]).collect();
    idx.sort_by_key(|&i| (start[i], back[i], graph.nodes[i].id));
    let steps = idx
        .iter()
        .map(|&i| Step {
            object: graph.nodes[i].id,
            kind: graph.nodes[i].kind,
            name: graph.nodes[i].name.clone(),
            wave: wave[i],
            ready: sat(ready_at[i]),
            start: sat(start[i]),
            back: sat(back[i]),
            team: team_of[i],
            waited_for: waited_for[i].map(|j| graph.nodes[j].id),
        })
        .collect();
    let at = |m: u64| opts.outage_start + time::Duration::minutes(m.min(i64::MAX as u64) as i64);
    let mut processes: Vec<ProcessRecovery> = idx
        .iter()
        .filter(|&&i| graph.nodes[i].kind == ObjectKind::Process)
        .map(|&i| {
            let node = &graph.nodes[i];
            let b = bia.get(&node.id).copied();
            let back_at = at(back[i]);
            let missed = b
                .map(|b| {
                    b.deadlines
                        .iter()
                        .filter_map(|d| {
                            let due = d.next_due(opts.outage_start)?;
                            (back_at > due).then(|| MissedDeadline {
                                description: d.description.clone(),
                                due,
                                back_at,
                                late_by: sat((back_at - due).whole_minutes().max(0) as u64),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            let mut critical_path = vec![node.id];
            let mut cur = i;
            while let Some(j) = waited_for[cur] {
                critical_path.push(graph.nodes[j].id);
                cur = j;
            }
            ProcessRecovery {
                process: node.id,
                name: node.name.clone(),
                criticality: b.map(|b| b.criticality),
                mta: b.map(|b| b.mta),
                rto: b.map(|b| b.rto),
                back: sat(back[i]),
                back_at,
                within_rto: b.map(|b| back[i] <= u64::from(b.rto.0)),
                within_mta: b.map(|b| back[i] <= u64::from(b.mta.0)),
                missed,
                critical_path,
            }
        })
        .collect();
    processes.sort_by_key(|p| (p.back, p.process));
    RestartPlan {
        steps,
        processes,
        cycles,
        ignored_edges,
        total: sat(idx.iter().map(|&i| back[i]).max().unwrap_or(0)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::fixture::*;
    use crate::scenario::{self, Scenario};
    use time::macros::datetime;

    fn opts(teams: usize) -> PlanOptions {
        PlanOptions {
            teams,
            outage_start: datetime!(2026-11-27 08:00),
        }
    }

    /// `order`: (object, start h, back h) of every object that needs work; `procs`: (process, back h).
    fn check(
        g: &RestartGraph,
        s: Scenario,
        teams: usize,
        order: &[(ObjectId, u32, u32)],
        procs: &[(ObjectId, u32)],
    ) -> RestartPlan {
        let r = scenario::run(g, &bias(), &s, opts(teams)).unwrap();
        let got: Vec<_> = r
            .plan
            .steps
            .iter()
            .filter(|s| s.team.is_some() || s.back > s.start)
            .map(|s| (s.object, s.start.0 / 60, s.back.0 / 60))
            .collect();
        assert_eq!(got, order, "{s:?} teams={teams}");
        let got: Vec<_> = r
            .plan
            .processes
            .iter()
            .map(|p| (p.process, p.back.0 / 60))
            .collect();
        assert_eq!(got, procs, "{s:?} teams={teams}");
        r.plan
    }

    #[test]
    fn total_outage_one_team_infrastructure_first_then_by_mta_and_criticality() {
        // Switch 0–2, HV1 2–8, DC 8–12; then FIN and FILES tie on MTA (Kasse, 48 h) and the
        // finance server wins on criticality (Sozialleistungen: sehr hoch).
        let p = check(
            &graph(),
            Scenario::TotalOutage,
            1,
            &[
                (SWITCH, 0, 2),
                (HV1, 2, 8),
                (DC, 8, 12),
                (FIN, 12, 17),
                (FILES, 17, 20),
            ],
            &[(PR1, 17), (PR2, 20), (PR4, 20)],
        );
        assert_eq!(p.total, Span::hours(20));
        let kasse = p.processes.iter().find(|x| x.process == PR4).unwrap();
        assert_eq!(kasse.within_rto, Some(true));
        assert_eq!(kasse.critical_path, vec![PR4, A2, FILES, DC, HV1, SWITCH]);
        let files = p.steps.iter().find(|s| s.object == FILES).unwrap();
        assert_eq!(
            (files.ready, files.start, files.wave),
            (Span::hours(12), Span::hours(17), 3)
        );
        assert!(p.processes.iter().all(|x| x.missed.is_empty()));
    }

    #[test]
    fn two_teams_and_unlimited_teams() {
        check(
            &graph(),
            Scenario::TotalOutage,
            2,
            &[
                (SWITCH, 0, 2),
                (HV1, 2, 8),
                (DC, 8, 12),
                (FILES, 12, 15),
                (FIN, 12, 17),
            ],
            &[(PR2, 15), (PR1, 17), (PR4, 17)],
        );
        check(
            &graph(),
            Scenario::TotalOutage,
            0,
            &[
                (SWITCH, 0, 2),
                (HV1, 2, 8),
                (DC, 8, 12),
                (FILES, 12, 15),
                (FIN, 12, 17),
            ],
            &[(PR2, 15), (PR1, 17), (PR4, 17)],
        );
    }

    #[test]
    fn provider_outage_misses_the_24h_deadline() {
        let r = scenario::run(
            &graph(),
            &bias(),
            &Scenario::ProviderDown {
                provider: P1,
                duration: Span::hours(36),
            },
            opts(1),
        )
        .unwrap();
        assert_eq!(r.time_to_recover, Span::hours(36));
        assert_eq!(r.beyond_mta, vec![PR3]);
        let p = &r.plan.processes[0];
        assert_eq!((p.process, p.within_rto), (PR3, Some(false)));
        assert_eq!(p.missed.len(), 1);
        assert_eq!(p.missed[0].due, datetime!(2026-11-28 08:00));
        assert_eq!(p.missed[0].late_by, Span::hours(12));
        assert_eq!(
            r.plan.steps.iter().map(|s| s.object).collect::<Vec<_>>(),
            vec![P1, A3, PR3]
        );
        assert_eq!(
            r.plan.steps[0].team, None,
            "the provider works on its own outage"
        );
    }

    #[test]
    fn hypervisor_lost_takes_its_guests() {
        let r = check(
            &graph(),
            Scenario::SystemLost { system: HV1 },
            1,
            &[(HV1, 0, 6), (DC, 6, 10), (FIN, 10, 15), (FILES, 15, 18)],
            &[(PR1, 15), (PR2, 18), (PR4, 18)],
        );
        assert!(r.steps.iter().all(|s| s.object != SWITCH));
    }

    #[test]
    fn outage_before_payday_misses_the_payment_run() {
        let r = scenario::run(
            &graph(),
            &bias(),
            &Scenario::TotalOutage,
            PlanOptions {
                teams: 1,
                outage_start: datetime!(2026-11-29 12:00),
            },
        )
        .unwrap();
        // Back after 17 h: 30 Nov 05:00; the run for 1 Dec had to leave by 30 Nov 00:00.
        let p = r.plan.processes.iter().find(|p| p.process == PR1).unwrap();
        assert_eq!(p.back_at, datetime!(2026-11-30 05:00));
        assert_eq!(p.missed[0].late_by, Span::hours(5));
        assert_eq!(r.missed_deadlines, 1);
    }

    #[test]
    fn cycles_are_broken_deterministically() {
        let mut g = graph();
        g.edges.push((DC, FILES)); // the DC keeps its logon scripts on the file server
        g.edges.push((A3, A3));
        g.edges.push((ObjectId(999), DC));
        let p = check(
            &g,
            Scenario::TotalOutage,
            1,
            &[
                (SWITCH, 0, 2),
                (HV1, 2, 8),
                (DC, 8, 12),
                (FIN, 12, 17),
                (FILES, 17, 20),
            ],
            &[(PR1, 17), (PR2, 20), (PR4, 20)],
        );
        assert_eq!(p.cycles, vec![vec![DC, FILES], vec![A3]]);
        assert_eq!(p.ignored_edges, 1);
    }

    #[test]
    fn scenario_errors() {
        assert_eq!(
            scenario::outage(
                &graph(),
                &Scenario::SystemLost {
                    system: ObjectId(5)
                }
            ),
            Err(scenario::ScenarioError::UnknownObject(ObjectId(5)))
        );
        assert!(matches!(
            scenario::outage(
                &graph(),
                &Scenario::ProviderDown {
                    provider: DC,
                    duration: Span::ZERO
                }
            ),
            Err(scenario::ScenarioError::WrongKind { .. })
        ));
    }

    proptest::proptest! {
        /// On random graphs (cycles included) every affected object is back no earlier than
        /// everything it uses outside its cycle, and no two jobs share a team at once.
        #[test]
        fn plans_respect_dependencies_and_teams(
            n in 2usize..30,
            raw_edges in proptest::collection::vec((0usize..30, 0usize..30), 0..60),
            hours in proptest::collection::vec(0u32..10, 30),
            teams in 0usize..4,
        ) {
            let nodes: Vec<RestartNode> = (0..n).map(|i| RestartNode {
                id: ObjectId(i as i64),
                kind: if i % 3 == 0 { ObjectKind::Process } else { ObjectKind::System },
                system_type: None,
                name: format!("n{i}"),
                availability: Level::Normal,
                restore: Span::hours(hours[i]),
                is_infrastructure: i % 5 == 1,
            }).collect();
            let edges: Vec<_> = raw_edges.iter().filter(|(a, b)| *a < n && *b < n)
                .map(|(a, b)| (ObjectId(*a as i64), ObjectId(*b as i64))).collect();
            let g = RestartGraph { nodes, edges };
            let out = scenario::outage(&g, &Scenario::TotalOutage).unwrap();
            let p = plan(&g, &[], &out, PlanOptions { teams, outage_start: datetime!(2026-01-01 00:00) });
            let by: HashMap<ObjectId, &Step> = p.steps.iter().map(|s| (s.object, s)).collect();
            let in_cycle = |a: ObjectId, b: ObjectId| p.cycles.iter().any(|c| c.contains(&a) && c.contains(&b));
            for (a, b) in &g.edges {
                if let (Some(sa), Some(sb)) = (by.get(a), by.get(b)) {
                    if a != b && !in_cycle(*a, *b) {
                        proptest::prop_assert!(sa.start >= sb.back, "{a} starts before {b} is back");
                    }
                }
            }
            for s in &p.steps {
                proptest::prop_assert!(s.start >= s.ready && s.back >= s.start);
            }
            if teams > 0 {
                let jobs: Vec<&Step> = p.steps.iter().filter(|s| s.team.is_some()).collect();
                for x in &jobs { for y in &jobs {
                    if x.object != y.object && x.team == y.team {
                        proptest::prop_assert!(x.back <= y.start || y.back <= x.start);
                    }
                }}
            }
        }
    }
}
