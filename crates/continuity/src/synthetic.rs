//! A deterministic synthetic Verbund for benchmarks: towns with processes, applications,
//! servers, hypervisors, directory and network, locations, three shared providers, BIAs and
//! backups, about three "uses" links per object. The same seed gives the same Verbund.

use crate::backup::{Backup, BackupCopy, Medium, RestoreResult, RestoreTest};
use crate::bia::{Bia, Criticality, DeadlineRule, LegalDeadline, ManualProcedure, ProcedureStep};
use crate::restart::{default_restore, RestartGraph, RestartNode};
use crate::span::Span;
use stadtmauer_core::ObjectId;
use stadtmauer_inventory::{Level, ObjectKind};
use time::macros::date;

/// SplitMix64: tiny, fast, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

pub struct SyntheticTown {
    pub name: String,
    pub graph: RestartGraph,
    pub bias: Vec<Bia>,
    pub backups: Vec<Backup>,
}

pub struct SyntheticVerbund {
    pub towns: Vec<SyntheticTown>,
}

impl SyntheticVerbund {
    pub fn objects(&self) -> usize {
        self.towns.iter().map(|t| t.graph.nodes.len()).sum()
    }
    pub fn links(&self) -> usize {
        self.towns.iter().map(|t| t.graph.edges.len()).sum()
    }
    /// All towns as one graph; the shared providers appear once.
    pub fn whole(&self) -> (RestartGraph, Vec<Bia>) {
        let mut g = RestartGraph::default();
        let mut seen = std::collections::HashSet::new();
        let mut bias = Vec::new();
        for t in &self.towns {
            g.nodes
                .extend(t.graph.nodes.iter().filter(|n| seen.insert(n.id)).cloned());
            g.edges.extend(t.graph.edges.iter().copied());
            bias.extend(t.bias.iter().cloned());
        }
        (g, bias)
    }
}

fn node(
    id: i64,
    kind: ObjectKind,
    st: Option<&str>,
    name: String,
    infra: bool,
    rng: &mut Rng,
) -> RestartNode {
    let availability = Level::ALL[rng.below(3)];
    RestartNode {
        id: ObjectId(id),
        kind,
        system_type: st.map(Into::into),
        name,
        availability,
        restore: default_restore(kind, st),
        is_infrastructure: infra,
    }
}

/// About `objects` objects in `towns` towns (each town gets an equal share).
pub fn generate(objects: usize, towns: usize, seed: u64) -> SyntheticVerbund {
    use ObjectKind::*;
    let mut rng = Rng(seed);
    let towns = towns.max(1);
    let per_town = (objects / towns).max(40);
    let providers: Vec<RestartNode> = (0..3)
        .map(|i| {
            node(
                1 + i,
                Provider,
                None,
                format!("Verbund-Dienstleister {i}"),
                false,
                &mut rng,
            )
        })
        .collect();
    let mut next_id = 100i64;
    let mut out = Vec::new();
    for t in 0..towns {
        let mut id = || {
            next_id += 1;
            next_id
        };
        let locations: Vec<i64> = (0..(per_town / 50).max(2)).map(|_| id()).collect();
        let network: Vec<i64> = (0..4).map(|_| id()).collect();
        let hypervisors: Vec<i64> = (0..(per_town / 200).max(2)).map(|_| id()).collect();
        let dcs: Vec<i64> = (0..2).map(|_| id()).collect();
        let fixed = locations.len() + network.len() + hypervisors.len() + dcs.len();
        let rest = per_town.saturating_sub(fixed);
        let servers: Vec<i64> = (0..rest * 2 / 5).map(|_| id()).collect();
        let apps: Vec<i64> = (0..rest / 5).map(|_| id()).collect();
        let procs: Vec<i64> = (0..rest - servers.len() - apps.len())
            .map(|_| id())
            .collect();
        let mut g = RestartGraph::default();
        let pick = |rng: &mut Rng, v: &[i64]| v[rng.below(v.len())];
        for &l in &locations {
            g.nodes.push(node(
                l,
                Location,
                None,
                format!("Gebäude {l}"),
                false,
                &mut rng,
            ));
        }
        for &n in &network {
            g.nodes.push(node(
                n,
                System,
                Some("network"),
                format!("Switch {n}"),
                true,
                &mut rng,
            ));
            g.edges
                .push((ObjectId(n), ObjectId(pick(&mut rng, &locations))));
        }
        for &h in &hypervisors {
            g.nodes.push(node(
                h,
                System,
                Some("virtualisation"),
                format!("Hypervisor {h}"),
                true,
                &mut rng,
            ));
            g.edges
                .push((ObjectId(h), ObjectId(pick(&mut rng, &network))));
            g.edges
                .push((ObjectId(h), ObjectId(pick(&mut rng, &locations))));
        }
        for &d in &dcs {
            g.nodes.push(node(
                d,
                System,
                Some("server"),
                format!("DC/DNS {d}"),
                true,
                &mut rng,
            ));
            g.edges
                .push((ObjectId(d), ObjectId(pick(&mut rng, &hypervisors))));
            g.edges
                .push((ObjectId(d), ObjectId(pick(&mut rng, &network))));
        }
        let mut backups = Vec::new();
        for &s in &servers {
            let mut n = node(
                s,
                System,
                Some("server"),
                format!("Server {s}"),
                false,
                &mut rng,
            );
            n.restore = Span::minutes(60 + rng.below(9 * 60) as u32);
            g.nodes.push(n);
            g.edges
                .push((ObjectId(s), ObjectId(pick(&mut rng, &hypervisors))));
            g.edges.push((ObjectId(s), ObjectId(pick(&mut rng, &dcs))));
            g.edges
                .push((ObjectId(s), ObjectId(pick(&mut rng, &network))));
            g.edges
                .push((ObjectId(s), ObjectId(pick(&mut rng, &locations))));
            if rng.below(10) < 9 {
                let offline = rng.below(2) == 0;
                backups.push(Backup {
                    systems: vec![ObjectId(s)],
                    name: format!("Sicherung {s}"),
                    method: Some("image".into()),
                    tool: Some("Veeam".into()),
                    interval: Span::hours([4, 12, 24][rng.below(3)]),
                    retention: Some(Span::days(30)),
                    copies: vec![
                        BackupCopy {
                            medium: Medium::Nas,
                            location: "Serverraum".into(),
                            offsite: false,
                            offline: false,
                            immutable: false,
                        },
                        BackupCopy {
                            medium: Medium::Tape,
                            location: "Tresor".into(),
                            offsite: true,
                            offline,
                            immutable: false,
                        },
                    ],
                    encrypted: true,
                    separate_credentials: rng.below(3) > 0,
                    last_success: Some(date!(2026 - 11 - 27)),
                    restore_tests: vec![RestoreTest {
                        date: date!(2026 - 06 - 01),
                        duration: Span::minutes(60 + rng.below(9 * 60) as u32),
                        result: RestoreResult::Success,
                        errors: 0,
                        notes: None,
                    }],
                });
            }
        }
        for &a in &apps {
            g.nodes.push(node(
                a,
                Application,
                None,
                format!("Fachverfahren {a}"),
                false,
                &mut rng,
            ));
            if rng.below(10) == 0 {
                g.edges.push((ObjectId(a), providers[rng.below(3)].id));
            }
            for _ in 0..2 {
                g.edges
                    .push((ObjectId(a), ObjectId(pick(&mut rng, &servers))));
            }
        }
        let mut bias = Vec::new();
        for &p in &procs {
            g.nodes.push(node(
                p,
                Process,
                None,
                format!("Prozess {p}"),
                false,
                &mut rng,
            ));
            for _ in 0..3 {
                g.edges.push((ObjectId(p), ObjectId(pick(&mut rng, &apps))));
            }
            let mta = Span::hours([8, 24, 48, 72, 168][rng.below(5)]);
            bias.push(Bia {
                process: ObjectId(p),
                mta,
                rto: Span(mta.0 / 2),
                rpo: Some(Span::hours([4, 24][rng.below(2)])),
                criticality: Criticality::ALL[rng.below(4)],
                deadlines: if rng.below(10) == 0 {
                    vec![LegalDeadline {
                        description: "Zahlung zum 1.".into(),
                        rule: DeadlineRule::MonthlyDay(1),
                        lead: Span::days(2),
                    }]
                } else {
                    vec![]
                },
                procedure: ManualProcedure {
                    summary: Some("Papierformular, Nachbuchung nach Wiederanlauf".into()),
                    steps: vec![ProcedureStep {
                        who: "Sachbearbeitung".into(),
                        what: "Anträge im Eingangsbuch erfassen".into(),
                    }],
                    materials: None,
                    sustainable_for: Some(Span::days(3)),
                },
            });
        }
        g.nodes.extend(providers.iter().cloned());
        out.push(SyntheticTown {
            name: format!("Gemeinde {t}"),
            graph: g,
            bias,
            backups,
        });
    }
    SyntheticVerbund { towns: out }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::handbook::{
        default_first_24h, procedure_sections, render_html, restart_rows, Handbook,
    };
    use crate::labels::Lang;
    use crate::readiness::{score, Answer, Checklist, PatchStatus};
    use crate::restart::{plan, PlanOptions};
    use crate::scenario::{outage, Scenario};
    use crate::verdict::{apply_measured_restores, judge};
    use std::collections::HashMap;
    use std::time::Instant;
    use time::macros::datetime;

    const START: time::PrimitiveDateTime = datetime!(2026-11-27 08:00);

    /// Restart order of the whole Verbund plus verdicts and readiness of every town; the
    /// handbook of the largest town. Returns the timings.
    fn run(v: &SyntheticVerbund) -> (std::time::Duration, std::time::Duration, usize) {
        // Assembling the input is the store's job, not part of the computation.
        let (g, bias) = v.whole();
        let t0 = Instant::now();
        let out = outage(&g, &Scenario::TotalOutage).unwrap();
        let p = plan(
            &g,
            &bias,
            &out,
            PlanOptions {
                teams: 4 * v.towns.len(),
                outage_start: START,
            },
        );
        assert_eq!(p.processes.len(), bias.len());
        let planned = t0.elapsed();
        let c = Checklist {
            mfa_remote_access: Answer::Yes,
            admin_accounts_separated: Answer::Partial,
            segmentation: Answer::No,
            edr: Answer::Yes,
        };
        for t in &v.towns {
            let mut g = t.graph.clone();
            let measured = apply_measured_restores(&mut g, &t.backups);
            let verdicts = judge(&g, &t.bias, &t.backups, &measured, START.date());
            let r = score(
                &verdicts,
                &t.backups,
                &c,
                PatchStatus {
                    percent_current: Some(90),
                },
                START.date(),
            );
            assert!(r.score <= 100);
        }
        let compute = t0.elapsed();
        if std::env::var_os("CONTINUITY_BENCH_DETAIL").is_some() {
            println!("  of which restart plan of the whole Verbund: {planned:?}");
        }
        let t1 = Instant::now();
        let town = &v.towns[0];
        let out = outage(&town.graph, &Scenario::TotalOutage).unwrap();
        let p = plan(
            &town.graph,
            &town.bias,
            &out,
            PlanOptions {
                teams: 4,
                outage_start: START,
            },
        );
        let (restart, recovery) = restart_rows(&p);
        let names: HashMap<ObjectId, String> = town
            .graph
            .nodes
            .iter()
            .map(|n| (n.id, n.name.clone()))
            .collect();
        let h = Handbook {
            lang: Lang::De,
            town: town.name.clone(),
            version: "1".into(),
            date: START.date(),
            alarm_chain: vec![],
            crisis_team: vec![],
            external: vec![],
            first_24h: default_first_24h(Lang::De),
            restart,
            recovery,
            procedures: procedure_sections(&town.bias, &names),
        };
        let html = render_html(&h);
        (compute, t1.elapsed(), html.len())
    }

    #[test]
    fn deterministic_and_shaped_as_promised() {
        let a = generate(3_000, 3, 7);
        let b = generate(3_000, 3, 7);
        assert_eq!(a.towns[1].graph, b.towns[1].graph);
        assert_eq!(
            a.objects(),
            3_000 + 3 * 3,
            "the three providers are listed in every town"
        );
        let ratio = a.links() as f64 / a.objects() as f64;
        assert!((2.7..3.3).contains(&ratio), "{ratio}");
        let (_, _, html) = run(&a);
        assert!(html > 10_000);
    }

    /// `cargo test -p stadtmauer-continuity --release -- --ignored --nocapture benchmark`
    #[test]
    #[ignore]
    fn benchmark_100k() {
        let t = Instant::now();
        let v = generate(100_000, 15, 2026);
        println!(
            "generated {} objects, {} links in {:?}",
            v.objects(),
            v.links(),
            t.elapsed()
        );
        let (compute, handbook, bytes) = run(&v);
        println!("restart order (whole Verbund) + verdicts + readiness (15 towns): {compute:?}");
        println!("handbook of one town: {handbook:?}, {bytes} bytes");
        assert!(compute.as_secs_f64() < 1.0, "{compute:?}");
        assert!(handbook.as_secs_f64() < 2.0, "{handbook:?}");
    }
}
