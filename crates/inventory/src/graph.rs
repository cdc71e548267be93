//! Schutzbedarf inheritance by the maximum principle (BSI 200-2, 8.2).
//!
//! Edges point from the dependent to what it depends on ("the process uses the application").
//! Requirements flow along them: an object needs at least what every object depending on it
//! needs, in each of confidentiality, integrity and availability separately. Processes carry
//! their own requirement; any other object may carry a justified override, which replaces the
//! inherited value and flows on. Cycles are allowed: the result is the least fixed point, which a
//! worklist reaches in at most three raises per node and dimension, so propagation always ends.
//!
//! Every derived value remembers which neighbour supplied it, so the UI can show the path of
//! objects that raised it. Incremental updates recompute only what lies downstream of a change.

use crate::model::{Level, Protection};
use std::collections::{HashMap, VecDeque};

/// Where an object's requirement starts before inheritance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Nothing of its own: starts at normal and inherits.
    Inherit,
    /// A process's own requirement; inherits more on top if something depends on it.
    Own(Protection),
    /// A justified manual value: replaces whatever would be inherited.
    Override(Protection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    pub id: i64,
    pub source: Source,
}

/// An object's effective requirement and, per dimension, the object that supplied it (`None`:
/// its own value, an override, or the default normal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Derived {
    pub value: Protection,
    pub via: [Option<i64>; 3],
}

impl Derived {
    fn start(source: Source) -> Derived {
        let value = match source {
            Source::Inherit => Protection::NORMAL,
            Source::Own(p) | Source::Override(p) => p,
        };
        Derived {
            value,
            via: [None; 3],
        }
    }
}

/// Computes the requirement of `nodes`. `edges` between them are followed; `outside` are edges
/// into the set from objects whose value is known and unaffected (for incremental updates).
pub fn compute(
    nodes: &[Node],
    edges: &[(i64, i64)],
    outside: &[(i64, i64, Protection)],
) -> Vec<(i64, Derived)> {
    let index: HashMap<i64, u32> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id, i as u32))
        .collect();
    let n = nodes.len();
    // Compressed adjacency: the out-edges of node i are out[start[i]..start[i + 1]].
    let mut degree = vec![0u32; n + 1];
    let pairs: Vec<(u32, u32)> = edges
        .iter()
        .filter_map(|(f, t)| Some((*index.get(f)?, *index.get(t)?)))
        .collect();
    for (f, _) in &pairs {
        degree[*f as usize + 1] += 1;
    }
    for i in 0..n {
        degree[i + 1] += degree[i];
    }
    let mut fill = degree.clone();
    let mut out = vec![0u32; pairs.len()];
    for (f, t) in &pairs {
        out[fill[*f as usize] as usize] = *t;
        fill[*f as usize] += 1;
    }
    let mut state: Vec<Derived> = nodes.iter().map(|n| Derived::start(n.source)).collect();
    let fixed: Vec<bool> = nodes
        .iter()
        .map(|n| matches!(n.source, Source::Override(_)))
        .collect();
    for (from, to, value) in outside {
        if let Some(&t) = index.get(to) {
            raise(&mut state[t as usize], fixed[t as usize], value, *from);
        }
    }
    let mut queue: VecDeque<u32> = (0..n as u32).collect();
    let mut queued = vec![true; n];
    while let Some(u) = queue.pop_front() {
        queued[u as usize] = false;
        let value = state[u as usize].value;
        let from = nodes[u as usize].id;
        for &v in &out[degree[u as usize] as usize..degree[u as usize + 1] as usize] {
            if raise(&mut state[v as usize], fixed[v as usize], &value, from) && !queued[v as usize]
            {
                queued[v as usize] = true;
                queue.push_back(v);
            }
        }
    }
    nodes.iter().map(|n| n.id).zip(state).collect()
}

/// Raises `target` to `value` where that is higher; overrides never move. Only a strict raise
/// moves the `via` pointer, which keeps the pointers free of cycles.
fn raise(target: &mut Derived, fixed: bool, value: &Protection, from: i64) -> bool {
    if fixed {
        return false;
    }
    let mut changed = false;
    for d in 0..3 {
        if value.get(d) > target.value.get(d) {
            target.value.set(d, value.get(d));
            target.via[d] = Some(from);
            changed = true;
        }
    }
    changed
}

/// The chain of objects that raised `id`'s requirement in dimension `d`, from `id` back to the
/// process (or override) where it starts.
pub fn explain(derived: &HashMap<i64, Derived>, id: i64, d: usize) -> Vec<i64> {
    let mut path = vec![id];
    let mut cur = id;
    while let Some(next) = derived.get(&cur).and_then(|x| x.via[d]) {
        if path.contains(&next) || path.len() > 10_000 {
            break;
        }
        path.push(next);
        cur = next;
    }
    path
}

/// A whole graph in memory, for full recomputation, incremental updates and their tests and
/// benchmarks. The store does the same against the database with a recursive query.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    nodes: HashMap<i64, Source>,
    out: HashMap<i64, Vec<i64>>,
    inn: HashMap<i64, Vec<i64>>,
}

impl Graph {
    pub fn new(
        nodes: impl IntoIterator<Item = Node>,
        edges: impl IntoIterator<Item = (i64, i64)>,
    ) -> Graph {
        let mut g = Graph::default();
        for n in nodes {
            g.nodes.insert(n.id, n.source);
        }
        for (f, t) in edges {
            g.add_edge(f, t);
        }
        g
    }
    pub fn add_edge(&mut self, from: i64, to: i64) {
        self.out.entry(from).or_default().push(to);
        self.inn.entry(to).or_default().push(from);
    }
    pub fn remove_edge(&mut self, from: i64, to: i64) {
        if let Some(v) = self.out.get_mut(&from) {
            v.retain(|x| *x != to);
        }
        if let Some(v) = self.inn.get_mut(&to) {
            v.retain(|x| *x != from);
        }
    }
    pub fn set_source(&mut self, id: i64, s: Source) {
        self.nodes.insert(id, s);
    }
    pub fn len(&self) -> usize {
        self.nodes.len()
    }
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    fn all_edges(&self) -> Vec<(i64, i64)> {
        self.out
            .iter()
            .flat_map(|(f, ts)| ts.iter().map(move |t| (*f, *t)))
            .collect()
    }

    /// Everything from scratch.
    pub fn propagate_all(&self) -> HashMap<i64, Derived> {
        let nodes: Vec<Node> = self
            .nodes
            .iter()
            .map(|(id, s)| Node {
                id: *id,
                source: *s,
            })
            .collect();
        compute(&nodes, &self.all_edges(), &[])
            .into_iter()
            .collect()
    }

    /// Everything reachable from `starts` along the dependency direction: the only objects whose
    /// requirement a change at `starts` can alter.
    pub fn downstream(&self, starts: &[i64]) -> Vec<i64> {
        let mut seen: std::collections::HashSet<i64> = starts
            .iter()
            .copied()
            .filter(|s| self.nodes.contains_key(s))
            .collect();
        let mut stack: Vec<i64> = seen.iter().copied().collect();
        while let Some(u) = stack.pop() {
            for v in self.out.get(&u).into_iter().flatten() {
                if seen.insert(*v) {
                    stack.push(*v);
                }
            }
        }
        seen.into_iter().collect()
    }

    /// Recomputes after a change at `starts` (a changed source, or the target of an added or
    /// removed edge). Returns how many objects were recomputed.
    pub fn update(&self, derived: &mut HashMap<i64, Derived>, starts: &[i64]) -> usize {
        let set = self.downstream(starts);
        let members: std::collections::HashSet<i64> = set.iter().copied().collect();
        let nodes: Vec<Node> = set
            .iter()
            .map(|id| Node {
                id: *id,
                source: self.nodes[id],
            })
            .collect();
        let mut inside = Vec::new();
        let mut outside = Vec::new();
        for id in &set {
            for f in self.inn.get(id).into_iter().flatten() {
                if members.contains(f) {
                    inside.push((*f, *id));
                } else if let Some(d) = derived.get(f) {
                    outside.push((*f, *id, d.value));
                }
            }
        }
        let fresh = compute(&nodes, &inside, &outside);
        let n = fresh.len();
        derived.extend(fresh);
        n
    }
}

/// The highest level among `levels`, normal when empty.
pub fn max_level(levels: impl IntoIterator<Item = Level>) -> Level {
    levels.into_iter().max().unwrap_or(Level::Normal)
}

/// Which processes halt when a provider is down: every (provider, process) pair where the
/// process uses the provider directly or through any chain of objects. `providers` and
/// `processes` name the nodes of those kinds; `edges` point from user to used. One walk upstream
/// per provider with a visit stamp per node, so cycles end and the cost is providers × edges.
pub fn provider_users(
    providers: &[i64],
    processes: &[i64],
    edges: &[(i64, i64)],
) -> Vec<(i64, i64)> {
    let mut index: HashMap<i64, u32> = HashMap::with_capacity(edges.len());
    let mut users_of: Vec<Vec<u32>> = Vec::new();
    let mut ids: Vec<i64> = Vec::new();
    let mut slot = |id: i64, users_of: &mut Vec<Vec<u32>>, ids: &mut Vec<i64>| -> u32 {
        *index.entry(id).or_insert_with(|| {
            users_of.push(Vec::new());
            ids.push(id);
            (users_of.len() - 1) as u32
        })
    };
    for &(f, t) in edges {
        let fi = slot(f, &mut users_of, &mut ids);
        let ti = slot(t, &mut users_of, &mut ids);
        users_of[ti as usize].push(fi);
    }
    let mut is_process = vec![false; users_of.len()];
    for p in processes {
        if let Some(&i) = index.get(p) {
            is_process[i as usize] = true;
        }
    }
    let mut stamp = vec![u32::MAX; users_of.len()];
    let mut out = Vec::new();
    for (walk, provider) in providers.iter().enumerate() {
        let Some(&start) = index.get(provider) else {
            continue;
        };
        let walk = walk as u32;
        stamp[start as usize] = walk;
        let mut stack = vec![start];
        while let Some(n) = stack.pop() {
            if is_process[n as usize] {
                out.push((*provider, ids[n as usize]));
            }
            for &f in &users_of[n as usize] {
                if stamp[f as usize] != walk {
                    stamp[f as usize] = walk;
                    stack.push(f);
                }
            }
        }
    }
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn provider_users_follow_chains_and_end_on_cycles() {
        // 1 process → 2 app → 3 system → 9 provider; 4 process → 3; 5 process → 6 app ⇄ 7 app → 8 provider.
        let edges = [
            (1, 2),
            (2, 3),
            (3, 9),
            (4, 3),
            (5, 6),
            (6, 7),
            (7, 6),
            (7, 8),
            (1, 1),
        ];
        let pairs = provider_users(&[8, 9, 10], &[1, 4, 5], &edges);
        assert_eq!(pairs, vec![(8, 5), (9, 1), (9, 4)]);
        // A process that is itself a provider's user through another process.
        let pairs = provider_users(&[9], &[1, 11], &[(11, 1), (1, 9)]);
        assert_eq!(pairs, vec![(9, 1), (9, 11)]);
    }

    use super::*;
    use proptest::prelude::*;

    fn p(c: u8, i: u8, a: u8) -> Protection {
        let l = |x: u8| Level::from_i64(x as i64).unwrap_or(Level::Normal);
        Protection {
            c: l(c),
            i: l(i),
            a: l(a),
        }
    }

    #[test]
    fn process_application_system_room() {
        // 1 Einwohnermeldewesen (hoch/hoch/normal) and 2 Kasse (normal/sehr hoch/hoch) both use
        // application 3 on server 4 in room 5.
        let g = Graph::new(
            [
                Node {
                    id: 1,
                    source: Source::Own(p(2, 2, 1)),
                },
                Node {
                    id: 2,
                    source: Source::Own(p(1, 3, 2)),
                },
                Node {
                    id: 3,
                    source: Source::Inherit,
                },
                Node {
                    id: 4,
                    source: Source::Inherit,
                },
                Node {
                    id: 5,
                    source: Source::Inherit,
                },
            ],
            [(1, 3), (2, 3), (3, 4), (4, 5)],
        );
        let d = g.propagate_all();
        assert_eq!(d[&5].value, p(2, 3, 2));
        assert_eq!(explain(&d, 5, 0), vec![5, 4, 3, 1]);
        assert_eq!(explain(&d, 5, 1), vec![5, 4, 3, 2]);
    }

    #[test]
    fn cycles_terminate_and_overrides_hold() {
        let g = Graph::new(
            [
                Node {
                    id: 1,
                    source: Source::Own(p(3, 1, 1)),
                },
                Node {
                    id: 2,
                    source: Source::Inherit,
                },
                Node {
                    id: 3,
                    source: Source::Inherit,
                },
                Node {
                    id: 4,
                    source: Source::Override(p(1, 1, 3)),
                },
                Node {
                    id: 5,
                    source: Source::Inherit,
                },
            ],
            [(1, 2), (2, 3), (3, 2), (3, 4), (4, 5)],
        );
        let d = g.propagate_all();
        assert_eq!(d[&3].value, p(3, 1, 1));
        // The override replaces the inherited confidentiality (distribution effect) and raises
        // availability (cumulation effect), and that is what flows on.
        assert_eq!(d[&4].value, p(1, 1, 3));
        assert_eq!(d[&5].value, p(1, 1, 3));
        assert_eq!(explain(&d, 5, 2), vec![5, 4]);
    }

    /// A random graph: node 0..n, some processes with own requirements, some overrides.
    fn graph_strategy() -> impl Strategy<Value = (Vec<Node>, Vec<(i64, i64)>)> {
        (2usize..25).prop_flat_map(|n| {
            let source = prop_oneof![
                3 => Just(Source::Inherit),
                2 => (1u8..=3, 1u8..=3, 1u8..=3).prop_map(|(c, i, a)| Source::Own(p(c, i, a))),
                1 => (1u8..=3, 1u8..=3, 1u8..=3).prop_map(|(c, i, a)| Source::Override(p(c, i, a))),
            ];
            (
                prop::collection::vec(source, n),
                prop::collection::vec((0..n as i64, 0..n as i64), 0..n * 3),
            )
                .prop_map(|(sources, edges)| {
                    let nodes = sources
                        .into_iter()
                        .enumerate()
                        .map(|(i, s)| Node {
                            id: i as i64,
                            source: s,
                        })
                        .collect();
                    (nodes, edges)
                })
        })
    }

    /// The reference: for every object, the maximum over everything that reaches it without
    /// passing through an override (plus its own value), per dimension.
    fn reference(nodes: &[Node], edges: &[(i64, i64)]) -> HashMap<i64, Protection> {
        let by_id: HashMap<i64, Source> = nodes.iter().map(|n| (n.id, n.source)).collect();
        let mut result = HashMap::new();
        for n in nodes {
            let value = match n.source {
                Source::Override(v) => v,
                _ => {
                    // Walk backwards from n; stop at overrides (they contribute their value).
                    let mut best = Derived::start(n.source).value;
                    let mut seen = std::collections::HashSet::from([n.id]);
                    let mut stack = vec![n.id];
                    while let Some(v) = stack.pop() {
                        for (f, t) in edges {
                            if *t == v && seen.insert(*f) {
                                let s = by_id[f];
                                let fv = Derived::start(s).value;
                                for d in 0..3 {
                                    if fv.get(d) > best.get(d) {
                                        best.set(d, fv.get(d));
                                    }
                                }
                                if !matches!(s, Source::Override(_)) {
                                    stack.push(*f);
                                }
                            }
                        }
                    }
                    best
                }
            };
            result.insert(n.id, value);
        }
        result
    }

    proptest! {
        #[test]
        fn equals_the_maximum_over_all_dependents((nodes, edges) in graph_strategy()) {
            let g = Graph::new(nodes.clone(), edges.clone());
            let d = g.propagate_all();
            let r = reference(&nodes, &edges);
            for n in &nodes {
                prop_assert_eq!(d[&n.id].value, r[&n.id], "node {}", n.id);
                // Every explanation ends where the value is set, with the same level.
                for dim in 0..3 {
                    let path = explain(&d, n.id, dim);
                    let last = *path.last().unwrap_or(&n.id);
                    prop_assert_eq!(d[&last].value.get(dim), d[&n.id].value.get(dim));
                    prop_assert!(d[&last].via[dim].is_none());
                }
            }
        }

        /// Incremental updates give the same result as a full recomputation, for adding and
        /// removing edges and changing sources — a removed link lowers the value again.
        #[test]
        fn incremental_equals_full((nodes, edges) in graph_strategy(), ops in prop::collection::vec((0u8..3, 0i64..25, 0i64..25, 1u8..=3), 1..8)) {
            let mut g = Graph::new(nodes.clone(), edges.clone());
            let mut live = edges.clone();
            let mut d = g.propagate_all();
            let n = nodes.len() as i64;
            for (op, a, b, lvl) in ops {
                let (a, b) = (a % n, b % n);
                match op {
                    0 => { g.add_edge(a, b); live.push((a, b)); g.update(&mut d, &[b]); }
                    1 => {
                        if let Some(pos) = live.iter().position(|e| *e == (a, b)) {
                            live.remove(pos);
                            g.remove_edge(a, b);
                            for e in &live { if *e == (a, b) { g.add_edge(a, b); } }
                            g.update(&mut d, &[b]);
                        }
                    }
                    _ => { g.set_source(a, Source::Own(p(lvl, 1, lvl))); g.update(&mut d, &[a]); }
                }
                let full = g.propagate_all();
                for id in 0..n {
                    prop_assert_eq!(d[&id].value, full[&id].value, "node {}", id);
                }
            }
        }
    }
}
