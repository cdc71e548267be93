//! Tests against the shipped Grundschutz++ files: counts, profile resolution, mappings,
//! applicability, search, hostile input, and the assessment-results round trip.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use stadtmauer_catalog::applicability::{self, Concern, CATEGORY_KINDS};
use stadtmauer_catalog::mapping::Relationship;
use stadtmauer_catalog::oscal::{self, OscalError};
use stadtmauer_catalog::search::{Filter, SearchIndex};
use stadtmauer_catalog::{shipped, Catalog, SecLevel};
use stadtmauer_inventory::{Level, ObjectKind, Protection};
use std::collections::BTreeSet;
use std::sync::OnceLock;
use std::time::Instant;

fn s() -> &'static stadtmauer_catalog::Shipped {
    static S: OnceLock<stadtmauer_catalog::Shipped> = OnceLock::new();
    S.get_or_init(|| shipped().unwrap())
}

#[test]
fn kernel_has_901_requirements_in_14_practices() {
    let k = &s().kernel;
    assert_eq!(k.len(), 901);
    assert_eq!(k.practices.len(), 14);
    let practices: BTreeSet<&str> = k.requirements.iter().map(|r| r.practice.as_str()).collect();
    assert_eq!(practices.len(), 14);
    let erhoeht = k
        .requirements
        .iter()
        .filter(|r| r.sec_level == Some(SecLevel::Erhoeht))
        .count();
    assert_eq!((901 - erhoeht, erhoeht), (674, 227));
    assert!(k
        .requirements
        .iter()
        .all(|r| r.effort_level.is_some() && r.modal_verb.is_some()));
    let r = k.get("ASST.1.1.2").unwrap();
    assert_eq!(r.title, "Zuweisung der Aufgaben");
    assert_eq!(r.parent.as_deref(), Some("ASST.1.1"));
    assert!(r
        .statement_text()
        .contains("<zuständigen Personen oder Rollen>"));
    assert_eq!(s().methodik.len(), 95);
    assert_eq!(s().iso27001.len(), 93);
}

#[test]
fn every_kernel_category_is_in_the_table() {
    for r in &s().kernel.requirements {
        for c in &r.target_categories {
            assert!(CATEGORY_KINDS.iter().any(|(n, _)| n == c), "{c} ({})", r.id);
        }
    }
}

#[test]
fn kommunale_basis_matches_its_rule() {
    let res = s().resolve_kommunale_basis().unwrap();
    let want: Vec<&str> = s()
        .kernel
        .requirements
        .iter()
        .filter(|r| r.sec_level == Some(SecLevel::NormalSdt) && r.effort_level.unwrap() <= 3)
        .map(|r| r.id.as_str())
        .collect();
    let got: Vec<&str> = res
        .catalog
        .requirements
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(got, want);
    assert_eq!(got.len(), 542);
    assert_eq!(res.catalog.title, "Kommunale Basis");
    assert_eq!(res.catalog.practices.len(), 14);
}

#[test]
fn grundschutz_profile_resolves() {
    let res = s().resolve_gspp().unwrap();
    // Methodik (all 95) + 4 risk requirements + the Kernel (through the G0 name).
    assert_eq!(res.catalog.len(), 95 + 4 + 901);
    let r = res.catalog.get("NOT.1.1.4").or_else(|| {
        res.catalog
            .requirements
            .iter()
            .find(|r| r.params.iter().any(|p| p.id == "not.1.1.4-prm1"))
    });
    let p = r
        .unwrap()
        .params
        .iter()
        .find(|p| p.id == "not.1.1.4-prm1")
        .unwrap();
    assert_eq!(p.values, ["BSI-Standard 200-4"]);
    assert!(res.catalog.get("RISK.1.3").is_some());
    assert!(res.catalog.get("RISK.1.2").is_none());
    assert!(
        res.unused_parameters.is_empty(),
        "{:?}",
        res.unused_parameters
    );
}

#[test]
fn mappings_keep_relationships() {
    let iso = &s().iso_mapping;
    let from_iso = iso.from_source("5.3");
    assert_eq!(from_iso[0].relationship, Relationship::EquivalentTo);
    assert_eq!(from_iso[0].other, ["GC.8.1.3"]);
    // ISO 5.1 subset-of {GC.6.1.3, …}: seen from GC.9.1 it is a superset.
    let back = iso.from_target("GC.9.1");
    assert!(back
        .iter()
        .any(|c| c.other == ["5.1"] && c.relationship == Relationship::SupersetOf));
    let itgs = &s().itgs_mapping;
    assert_eq!(itgs.entries.len(), 1013 + 172);
    let arch = itgs.from_target("ARCH.1.1");
    assert!(arch.iter().any(|c| c.other == ["APP.3.6.A1-UA.2"]));
    // Kernel requirements with an ISO equivalent exist.
    let with_iso = s()
        .kernel
        .requirements
        .iter()
        .filter(|r| !iso.from_target(&r.id).is_empty())
        .count();
    assert!(with_iso > 50, "{with_iso}");
}

#[test]
fn applicability_on_the_kernel() {
    let k = &s().kernel;
    let normal = Protection::NORMAL;
    let high = Protection {
        c: Level::Normal,
        i: Level::Hoch,
        a: Level::Normal,
    };
    let server_n = applicability::for_object(k, ObjectKind::System, Some("server"), &normal);
    let server_h = applicability::for_object(k, ObjectKind::System, Some("server"), &high);
    assert!(!server_n.is_empty());
    assert!(server_h.len() > server_n.len());
    assert!(server_n
        .iter()
        .all(|r| r.sec_level == Some(SecLevel::NormalSdt)));
    assert!(server_h
        .iter()
        .any(|r| r.sec_level == Some(SecLevel::Erhoeht)));
    for kind in ObjectKind::ALL {
        assert!(
            !applicability::for_object(k, kind, Some("network"), &high).is_empty(),
            "{kind:?}"
        );
    }
    let org = applicability::organisation_wide(k, Level::Normal);
    assert!(org.len() > 100);
    assert!(org
        .iter()
        .all(|r| applicability::concern(r) == Concern::Organisation));
}

#[test]
fn search_on_the_kernel() {
    let idx = SearchIndex::build(&s().kernel);
    let hits = idx.search("Datensicherung", &Filter::default(), 20);
    assert!(!hits.is_empty());
    let top = s().kernel.get(&hits[0].id).unwrap();
    assert!(search_text(top).contains("datensicherung"), "{}", top.id);
    let f = Filter {
        practice: Some("BER".into()),
        ..Filter::default()
    };
    let hits = idx.search("passwort", &f, 1000);
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h.id.starts_with("BER.")));
    assert_eq!(
        idx.search("ASST.1.1.2", &Filter::default(), 1)[0].id,
        "ASST.1.1.2"
    );
    assert_eq!(idx.search("", &Filter::default(), 10_000).len(), 901);
}

fn search_text(r: &stadtmauer_catalog::Requirement) -> String {
    stadtmauer_catalog::search::fold(&format!(
        "{} {} {}",
        r.title,
        r.statement,
        r.guidance.clone().unwrap_or_default()
    ))
}

#[test]
fn hostile_documents_fail_with_paths() {
    let kernel = std::str::from_utf8(s_bytes(stadtmauer_catalog::shipped::KERNEL)).unwrap();
    let check = |doc: String, want: &str| {
        let e = Catalog::from_json(doc.as_bytes(), "x").unwrap_err();
        assert!(e.to_string().starts_with(want), "{e}");
    };
    check(
        kernel.replacen("\"1.1.3\"", "\"1.0.0\"", 1),
        "catalog.metadata.oscal-version:",
    );
    check(
        kernel.replacen("\"id\": \"ASST.1.1.2\"", "\"id\": \"ASST.1.1.1\"", 1),
        "catalog.groups[0].groups[0].controls[0].controls[1].id: duplicate identifier \"ASST.1.1.1\", first used at catalog.groups[0].groups[0].controls[0].controls[0].id",
    );
    check(
        kernel.replacen("\"id\": \"ASST.1.1.2\",", "", 1),
        "invalid JSON at catalog.groups[0].groups[0].controls[0].controls[1]",
    );
    check(
        kernel[..kernel.len() / 2].to_string(),
        "invalid JSON at catalog.groups[",
    );
    let e = stadtmauer_catalog::mapping::MappingSet::from_json(kernel.as_bytes()).unwrap_err();
    assert_eq!(
        e,
        OscalError::WrongDocument {
            expected: "mapping-collection",
            found: "catalog"
        }
    );
    let big = vec![b'['; 100 * 1024 * 1024];
    assert!(matches!(
        oscal::parse(&big),
        Err(OscalError::TooLarge { .. })
    ));
}

fn s_bytes(name: &str) -> &'static [u8] {
    stadtmauer_catalog::shipped::FILES
        .iter()
        .find(|f| f.name == name)
        .unwrap()
        .bytes
}

/// `cargo test -p stadtmauer-catalog --release -- --ignored --nocapture timings`
#[test]
#[ignore]
fn timings() {
    let bytes = s_bytes(stadtmauer_catalog::shipped::KERNEL);
    let mut cold = vec![];
    for _ in 0..5 {
        let t = Instant::now();
        let c = Catalog::from_json(bytes, "k").unwrap();
        let idx = SearchIndex::build(&c);
        cold.push(t.elapsed());
        std::hint::black_box(idx);
    }
    let c = Catalog::from_json(bytes, "k").unwrap();
    let t = Instant::now();
    let idx = SearchIndex::build(&c);
    println!("index build: {:?}", t.elapsed());
    let queries = [
        "Datensicherung",
        "passwort",
        "sicherung",
        "netz",
        "verschlüsselung",
        "Protokollierung",
        "ASST.1",
        "dienstleister vertrag",
        "notfall übung",
        "Größe",
        "a",
        "wlan",
        "fernwartung",
        "schulung mitarbeitende",
        "patch",
        "firewall regeln",
        "zugang",
        "admin",
        "kryptografie",
        "x",
    ];
    let mut times = vec![];
    for _ in 0..50 {
        for q in queries {
            let t = Instant::now();
            std::hint::black_box(idx.search(q, &Filter::default(), 50));
            times.push(t.elapsed());
        }
    }
    times.sort();
    let p99 = times[times.len() * 99 / 100];
    println!("cold import (parse + build + index), 5 runs: {cold:?}");
    println!(
        "search: {} queries, p50 {:?}, p99 {:?}, max {:?}",
        times.len(),
        times[times.len() / 2],
        p99,
        times.last().unwrap()
    );
}

fn kommunale_assessment() -> stadtmauer_catalog::results::Assessment {
    use stadtmauer_catalog::results::{Answer, Assessment, Evidence, ObjectAnswer, Status};
    use time::macros::{date, datetime};
    let basis = s().resolve_kommunale_basis().unwrap().catalog;
    let answers = basis
        .requirements
        .iter()
        .enumerate()
        .map(|(i, r)| Answer {
            control_id: r.id.clone(),
            status: Status::ALL[i % 5],
            reason: (i % 5 == 3).then(|| "Kein eigener Serverraum.\nSiehe Vertrag.".to_string()),
            note: (i % 7 == 0).then(|| format!("Notiz zu {}", r.id)),
            responsible: (i % 3 == 0).then(|| "Hauptamt".to_string()),
            evidence: if i % 11 == 0 {
                vec![Evidence {
                    title: "Konzept".into(),
                    href: format!("evidence/{i}"),
                    sha256: format!("{i:064x}"),
                }]
            } else {
                vec![]
            },
            assessed_on: (i % 2 == 0).then_some(date!(2026 - 03 - 01)),
            review_by: (i % 4 == 0).then_some(date!(2027 - 03 - 01)),
            objects: if i % 13 == 0 {
                vec![ObjectAnswer {
                    object_ref: format!("obj-{i}"),
                    status: Status::Nein,
                    note: Some("alt".into()),
                }]
            } else {
                vec![]
            },
        })
        .collect();
    Assessment {
        uuid: "6a1f4c2e-8d3b-4f7a-9c1e-5b2d8e4f6a10".into(),
        title: "Selbsteinschätzung Kommunale Basis".into(),
        town: "Gemeinde Musterhausen".into(),
        version: "1".into(),
        last_modified: datetime!(2026-03-02 09:00:00 UTC),
        start: datetime!(2026-02-01 08:00:00 +01:00),
        catalog_title: basis.title.clone(),
        catalog_version: basis.version.clone(),
        catalog_href: stadtmauer_catalog::shipped::KOMMUNALE_BASIS.into(),
        answers,
    }
}

#[test]
fn assessment_results_round_trip_over_the_basis() {
    use stadtmauer_catalog::results::{read, write};
    let a = kommunale_assessment();
    assert_eq!(a.answers.len(), 542);
    let json = write(&a).unwrap();
    let back = read(json.as_bytes()).unwrap();
    assert_eq!(back, a);
    assert_eq!(write(&back).unwrap(), json);
    if let Ok(path) = std::env::var("STADTMAUER_AR_OUT") {
        std::fs::write(path, &json).unwrap();
    }
}

/// The exported assessment-results are valid OSCAL: compliance-trestle (whose models are generated
/// from NIST's OSCAL schemas) loads them. Installs trestle from PyPI when it is missing.
#[test]
fn exported_assessment_results_load_in_compliance_trestle() {
    use std::process::Command;
    let python = |args: &[&str]| Command::new("python3").args(args).output();
    let have = python(&["-c", "import trestle"]).map(|o| o.status.success());
    match have {
        Err(e) => panic!("python3 is needed to check OSCAL validity with compliance-trestle: {e}"),
        Ok(false) => {
            let out = python(&[
                "-m",
                "pip",
                "install",
                "--quiet",
                "compliance-trestle==5.2.0",
            ])
            .unwrap();
            assert!(
                out.status.success(),
                "pip install compliance-trestle failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(true) => {}
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("assessment-results.json");
    std::fs::write(
        &path,
        stadtmauer_catalog::results::write(&kommunale_assessment()).unwrap(),
    )
    .unwrap();
    let script = "import sys, pathlib\n\
from trestle.oscal.assessment_results import AssessmentResults\n\
ar = AssessmentResults.oscal_read(pathlib.Path(sys.argv[1]))\n\
print(len(ar.results[0].findings or []))\n";
    let out = python(&["-c", script, path.to_str().unwrap()]).unwrap();
    assert!(
        out.status.success(),
        "trestle refused the export: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let findings: usize = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    assert_eq!(findings, 542, "one finding per answered requirement");
}
