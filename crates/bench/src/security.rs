//! `stadtmauer-bench security`: the Grundschutz++ catalog and the Verbund heatmap.
//!
//! Prints: the cold import of the shipped Kernel catalog (parse, build, search index), catalog
//! search latency (p50/p99 over German queries with and without filters), and the Verbund
//! heatmap for 15 towns × 901 requirements × 5 years of monthly snapshots, read from the stored
//! per-practice aggregates on SQLite (target: < 100 ms).

use stadtmauer_assessment::score::evaluate;
use stadtmauer_assessment::snapshot::Snapshot;
use stadtmauer_assessment::{Answer, RequirementRef, SecLevel, Status};
use stadtmauer_catalog::catalog::Catalog;
use stadtmauer_catalog::search::{Filter, SearchIndex};
use stadtmauer_core::org::{OrgKind, OrganisationInput};
use stadtmauer_core::OrgId;
use stadtmauer_store::security::Target;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn pctl(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

const QUERIES: &[&str] = &[
    "Datensicherung",
    "Passwort",
    "Massnahme",
    "Netz",
    "Protokollierung",
    "Notfall",
    "Schulung",
    "Verschlüsselung",
    "Berechtigung",
    "Dienstleister",
    "Patch",
    "Firewall",
    "sicherung",
    "Vorfall",
    "Mobil",
    "Backup Wiederherstellung",
    "ASST.1.1.2",
    "Zugang Verwaltung",
];

pub async fn run(towns: usize, years: u32) -> anyhow::Result<()> {
    // 1. Cold import of the Kernel.
    let bytes = stadtmauer_catalog::shipped::FILES
        .iter()
        .find(|f| f.name == stadtmauer_catalog::shipped::KERNEL)
        .map(|f| f.bytes)
        .ok_or_else(|| anyhow::anyhow!("kernel not shipped"))?;
    let t = Instant::now();
    let kernel = Catalog::from_json(bytes, stadtmauer_catalog::shipped::KERNEL)?;
    let parse = ms(t.elapsed());
    let t = Instant::now();
    let index = SearchIndex::build(&kernel);
    let build = ms(t.elapsed());
    println!(
        "catalog Kernel cold import ({} requirements, {} kB)  parse {parse:.1} ms, index {build:.1} ms",
        kernel.len(),
        bytes.len() / 1024
    );

    // 2. Search latency.
    let practices: Vec<String> = kernel.practices.iter().map(|p| p.id.clone()).collect();
    let mut lat = Vec::new();
    for round in 0..50 {
        for (i, q) in QUERIES.iter().enumerate() {
            let filter = if (round + i) % 3 == 0 {
                Filter {
                    practice: practices.get((round + i) % practices.len().max(1)).cloned(),
                    ..Filter::default()
                }
            } else {
                Filter::default()
            };
            let t = Instant::now();
            let hits = index.search(q, &filter, 50);
            lat.push(ms(t.elapsed()));
            std::hint::black_box(hits);
        }
    }
    lat.sort_by(f64::total_cmp);
    println!(
        "catalog search ({} queries)          p50 {:.3} ms, p99 {:.3} ms",
        lat.len(),
        pctl(&lat, 0.5),
        pctl(&lat, 0.99)
    );

    // 3. The heatmap from stored snapshots.
    let reqs: Vec<RequirementRef> = kernel
        .requirements
        .iter()
        .map(|r| RequirementRef {
            id: r.id.clone(),
            practice: r.practice.clone(),
            sec_level: match r.sec_level {
                Some(stadtmauer_catalog::SecLevel::Erhoeht) => SecLevel::Erhoeht,
                _ => SecLevel::NormalSdT,
            },
            effort_level: r.effort_level.unwrap_or(3),
            recurring: None,
        })
        .collect();
    let dir =
        std::env::temp_dir().join(format!("stadtmauer-bench-security-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = heatmap(&dir, &reqs, towns, years).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn heatmap(
    dir: &std::path::Path,
    reqs: &[RequirementRef],
    towns: usize,
    years: u32,
) -> anyhow::Result<()> {
    let url = format!("sqlite://{}", dir.join("security.sqlite3").display());
    let store = stadtmauer_store::Store::connect(&url).await?;
    store.migrate().await?;
    let sys = store.system_scope("bench").await?;
    let office = OrganisationInput {
        name: "Büro".into(),
        kind: "zweckverband".into(),
        ..Default::default()
    }
    .validate()?;
    let (verbund, _) = store
        .create_verbund(&sys, "Synthetischer Verbund", &office)
        .await?;
    let sys = store.system_scope("bench").await?;
    let mut ids: Vec<OrgId> = Vec::new();
    for t in 0..towns {
        let o = OrganisationInput {
            name: format!("Gemeinde {t}"),
            kind: OrgKind::Gemeinde.as_str().into(),
            ..Default::default()
        }
        .validate()?;
        ids.push(store.create_organisation(&sys, Some(verbund), &o).await?);
    }
    let sys = store.system_scope("bench").await?;
    let today = time::OffsetDateTime::now_utc().date();
    let months = years * 12;
    let t = Instant::now();
    let mut snaps = Vec::new();
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    for (ti, org) in ids.iter().enumerate() {
        for m in 0..months {
            let on = today - time::Duration::days(i64::from(months - m) * 30);
            let level =
                0.2 + 0.7 * (f64::from(m) / f64::from(months)) * ((ti % 5 + 1) as f64 / 5.0);
            let answers: Vec<Answer> = reqs
                .iter()
                .map(|r| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let x = (seed >> 11) as f64 / (1u64 << 53) as f64;
                    Answer {
                        requirement_id: r.id.clone(),
                        object_id: None,
                        status: if x < level {
                            Status::Ja
                        } else if x < level + 0.1 {
                            Status::Teilweise
                        } else {
                            Status::Nein
                        },
                        reason: None,
                        note: None,
                        responsible: None,
                        assessed_on: on,
                        review_by: None,
                        evidence: vec![],
                    }
                })
                .collect();
            let states = evaluate(reqs, &answers, on);
            snaps.push((Snapshot::take(*org, on, &states), Target::KernelSdt));
        }
    }
    let n = snaps.len();
    store.save_snapshots(&sys, &snaps).await?;
    println!(
        "heatmap load {n} snapshots ({towns} towns × {months} months × {} requirements)  {:.0} ms",
        reqs.len(),
        ms(t.elapsed())
    );
    let mut lat = Vec::new();
    let mut cells = 0;
    for _ in 0..100 {
        let t = Instant::now();
        let latest = store.latest_snapshots(&sys, &ids).await?;
        let practices: BTreeSet<&str> = latest
            .iter()
            .flat_map(|s| s.snapshot.practices.iter().map(|p| p.practice.as_str()))
            .collect();
        cells = 0;
        for s in &latest {
            std::hint::black_box(s.snapshot.overall(SecLevel::Erhoeht).percent());
            for p in &practices {
                let v = s
                    .snapshot
                    .practice(p)
                    .and_then(|a| a.counts(SecLevel::Erhoeht).percent());
                std::hint::black_box(v);
                cells += 1;
            }
        }
        lat.push(ms(t.elapsed()));
    }
    lat.sort_by(f64::total_cmp);
    let heat_p99 = pctl(&lat, 0.99);
    println!(
        "heatmap Verbund ({} cells)            p50 {:.2} ms, p99 {heat_p99:.2} ms (target < 100 ms)",
        cells,
        pctl(&lat, 0.5),
    );
    let mut lat = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let all = store.snapshots(&sys, ids[0]).await?;
        std::hint::black_box(
            all.iter()
                .map(|s| s.snapshot.overall(SecLevel::Erhoeht).percent())
                .collect::<Vec<_>>(),
        );
        lat.push(ms(t.elapsed()));
    }
    lat.sort_by(f64::total_cmp);
    println!(
        "trend one town ({months} snapshots)          p50 {:.2} ms, p99 {:.2} ms",
        pctl(&lat, 0.5),
        pctl(&lat, 0.99)
    );
    println!("BENCH security heatmap_p99_ms={heat_p99:.2}");
    store.close().await;
    Ok(())
}
