//! Integration tests over the real Grundschutz++ catalog and ISO 27001 mapping (read from
//! /work/shared/data), and the heatmap timing for a whole Verbund over five years.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Instant;

use serde_json::Value;
use stadtmauer_assessment::answer::{Answer, Status};
use stadtmauer_assessment::date::{add_days, parse_date};
use stadtmauer_assessment::measure::derive_measures;
use stadtmauer_assessment::questionnaire::{Question, Reply, Session};
use stadtmauer_assessment::score::{evaluate, gap, score};
use stadtmauer_assessment::snapshot::{heatmap, trend, Snapshot};
use stadtmauer_assessment::soa::{coverage, MappingRef, Relationship};
use stadtmauer_assessment::{Date, RequirementRef, SecLevel};
use stadtmauer_core::OrgId;
use stadtmauer_inventory::Level;

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/bsi-stand-der-technik/control_layer")
        .join(rel)
}

fn prop<'a>(c: &'a Value, name: &str) -> Option<&'a str> {
    c["props"].as_array()?.iter().find(|p| p["name"] == name)?["value"].as_str()
}

fn walk(v: &Value, practice: &str, out: &mut Vec<RequirementRef>) {
    for c in v["controls"].as_array().into_iter().flatten() {
        if let Some(level) = prop(c, "sec_level") {
            out.push(RequirementRef {
                id: c["id"].as_str().unwrap().to_string(),
                practice: practice.to_string(),
                sec_level: SecLevel::parse(level).unwrap(),
                effort_level: prop(c, "effort_level").unwrap().parse().unwrap(),
                recurring: None,
            });
        }
        walk(c, practice, out);
    }
    for g in v["groups"].as_array().into_iter().flatten() {
        walk(g, practice, out);
    }
}

/// The 901 requirements of the Grundschutz++ kernel catalog, practice = top-level group.
fn catalog() -> Vec<RequirementRef> {
    let path =
        data("Grundschutz++/sources/catalogs/Kernel/BSI-Stand-der-Technik-Kernel-catalog.json");
    let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let mut out = Vec::new();
    for g in v["catalog"]["groups"].as_array().unwrap() {
        walk(g, g["id"].as_str().unwrap(), &mut out);
    }
    out
}

fn d(s: &str) -> Date {
    parse_date(s).unwrap()
}

fn answer(id: &str, status: Status, on: Date) -> Answer {
    Answer {
        requirement_id: id.into(),
        object_id: None,
        status,
        reason: (status == Status::Entbehrlich)
            .then(|| "Nicht vorhanden in dieser Gemeinde.".into()),
        note: None,
        responsible: None,
        assessed_on: on,
        review_by: None,
        evidence: vec![],
    }
}

/// A deterministic pseudo-random status, improving with `progress` (0..=100).
fn status_for(town: u64, req: usize, progress: u64) -> Status {
    let h = (town.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (req as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F))
        % 100;
    match h {
        h if h < progress * 7 / 10 => Status::Ja,
        h if h < progress * 8 / 10 => Status::Teilweise,
        h if h >= 97 => Status::Entbehrlich,
        h if h >= 80 => Status::Offen,
        _ => Status::Nein,
    }
}

#[test]
fn real_catalog_flows_through_everything() {
    let reqs = catalog();
    assert_eq!(reqs.len(), 901);
    assert_eq!(
        reqs.iter()
            .filter(|r| r.sec_level == SecLevel::NormalSdT)
            .count(),
        674
    );
    let on = d("2026-11-01");
    let answers: Vec<Answer> = reqs
        .iter()
        .enumerate()
        .map(|(i, r)| answer(&r.id, status_for(1, i, 50), on))
        .collect();
    let states = evaluate(&reqs, &answers, d("2026-11-27"));
    let s = score(&states, SecLevel::NormalSdT);
    assert_eq!(s.practices.len(), 14);
    assert_eq!(s.overall.total(), 674);
    let pct = s.overall.percent().unwrap();
    assert!((25..=55).contains(&pct), "{pct}");
    let g = gap(&states, SecLevel::Erhoeht);
    assert_eq!(g.len() as u32, {
        let c = score(&states, SecLevel::Erhoeht).overall;
        c.total() - c.ja - c.entbehrlich
    });

    let drafts = derive_measures(&reqs, &answers, |_| Level::Hoch, |_| false);
    let gaps = answers.iter().filter(|a| a.status.is_gap()).count();
    assert_eq!(drafts.len(), gaps);
    assert!(drafts.windows(2).all(|w| w[0].priority <= w[1].priority));

    // ISO 27001 Annex A coverage through the BSI mapping.
    let path = data("Mappings/ISO-27001-zu-GSpp/ISO27001-AnnexA-to-GS++-mapping_collection.json");
    let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let mut maps = Vec::new();
    for m in v["mapping-collection"]["mappings"].as_array().unwrap() {
        for e in m["maps"].as_array().unwrap() {
            let rel = Relationship::parse(e["relationship"].as_str().unwrap()).unwrap();
            for s in e["sources"].as_array().unwrap() {
                for t in e["targets"].as_array().unwrap() {
                    maps.push(MappingRef {
                        control: s["id-ref"].as_str().unwrap().into(),
                        requirement_id: t["id-ref"].as_str().unwrap().into(),
                        relationship: rel,
                    });
                }
            }
        }
    }
    let cov = coverage(&maps, &states);
    assert!(cov.len() >= 90, "{}", cov.len());
    let known: std::collections::HashSet<&str> = reqs.iter().map(|r| r.id.as_str()).collect();
    let resolved = cov
        .iter()
        .flat_map(|c| &c.requirements)
        .filter(|r| known.contains(r.requirement_id.as_str()))
        .count();
    let total: usize = cov.iter().map(|c| c.requirements.len()).sum();
    // Nearly every mapped target is a kernel requirement (a few point into the method catalog).
    assert!(resolved * 10 >= total * 8, "{resolved}/{total}");

    // The questionnaire writes the same records and the score sees them.
    let questions: Vec<Question> = reqs.iter().take(3).map(Question::for_requirement).collect();
    let mut session = Session::resume(questions, &[]);
    let mut recorded = Vec::new();
    while let Some(a) = session.answer(Reply::Ja, on, None) {
        recorded.push(a);
    }
    assert_eq!(session.progress().answered, 3);
    let st = evaluate(&reqs[..3], &recorded, on);
    assert!(st.iter().all(|s| s.status == Status::Ja));
}

/// 15 towns × 901 requirements, one snapshot a week for five years; builds the heatmap for a day
/// in the last year and prints how long it took. `cargo test -p stadtmauer-assessment --release
/// -- --ignored --nocapture heatmap_timing`.
#[test]
#[ignore = "timing; run with --release --ignored --nocapture"]
fn heatmap_timing() {
    let reqs = catalog();
    let start = d("2022-01-03");
    let towns: Vec<OrgId> = (1..=15).map(OrgId).collect();
    let t0 = Instant::now();
    let mut snapshots = Vec::new();
    for week in 0..(5 * 52) {
        let on = add_days(start, week * 7);
        for t in &towns {
            let progress = u64::from(week) * 100 / (5 * 52);
            let answers: Vec<Answer> = reqs
                .iter()
                .enumerate()
                .map(|(i, r)| answer(&r.id, status_for(t.0 as u64, i, progress), on))
                .collect();
            snapshots.push(Snapshot::take(*t, on, &evaluate(&reqs, &answers, on)));
        }
    }
    println!("built {} snapshots in {:?}", snapshots.len(), t0.elapsed());
    let at = d("2026-06-30");
    let t1 = Instant::now();
    let h = heatmap(&snapshots, &towns, at, SecLevel::NormalSdT, 80);
    let took = t1.elapsed();
    let t2 = Instant::now();
    let series = trend(
        &snapshots,
        OrgId(7),
        SecLevel::NormalSdT,
        Some(&h.practices[0]),
    );
    let trend_took = t2.elapsed();
    println!(
        "heatmap {}×{} from {} snapshots: {:?}; trend of one town/practice ({} points): {:?}",
        h.rows.len(),
        h.practices.len(),
        snapshots.len(),
        took,
        series.len(),
        trend_took
    );
    assert_eq!(h.rows.len(), 15);
    assert_eq!(h.practices.len(), 14);
    assert!(h.rows.iter().all(|r| r.taken_on.is_some()));
    assert_eq!(series.len(), 5 * 52);
    assert!(took.as_millis() < 100, "heatmap took {took:?}");
}
