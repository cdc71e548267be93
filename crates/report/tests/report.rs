//! The council report's text (snapshots), the cost allocation's arithmetic, and the PDF read back
//! with pdftotext: every chapter heading and key figure, and no confidential string in the
//! public edition.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use stadtmauer_report::fixture::{empty_town, full_town, PLANTED};
use stadtmauer_report::town::{town_report, QUESTIONS};
use stadtmauer_report::verbund::{allocate, verbund_report, CostKey, Member, VerbundInput};
use stadtmauer_report::{output, Edition, NOT_RECORDED};
use std::process::Command;
use time::macros::date;

const TODAY: time::Date = date!(2026 - 03 - 15);

#[test]
fn town_report_text() {
    let f = full_town();
    insta::assert_snapshot!(
        "public",
        output::markdown(&town_report(&f, Edition::Public, TODAY, "1"))
    );
    insta::assert_snapshot!(
        "confidential",
        output::markdown(&town_report(&f, Edition::Confidential, TODAY, "1"))
    );
}

#[test]
fn a_town_without_data_reads_not_recorded_everywhere() {
    let r = town_report(&empty_town(), Edition::Confidential, TODAY, "1");
    assert_eq!(r.chapters.len(), QUESTIONS.len());
    for c in &r.chapters {
        assert!(
            c.paragraphs.iter().any(|p| p.contains("Nicht erfasst")),
            "{}",
            c.key
        );
    }
    insta::assert_snapshot!("empty", output::markdown(&r));
}

#[test]
fn public_model_has_no_confidential_string() {
    let r = town_report(&full_town(), Edition::Public, TODAY, "1");
    let text = format!("{}{}", output::markdown(&r), output::json(&r));
    for p in PLANTED {
        assert!(!text.contains(p), "public edition shows {p}");
    }
    let conf = output::markdown(&town_report(
        &full_town(),
        Edition::Confidential,
        TODAY,
        "1",
    ));
    for p in PLANTED {
        assert!(conf.contains(p), "confidential edition misses {p}");
    }
}

fn members() -> Vec<Member> {
    let m = |id, name: &str, i, s, w| Member {
        org_id: id,
        name: name.into(),
        inhabitants: Some(i),
        staff: Some(s),
        workstations: w,
    };
    vec![
        m(3, "A", 1, 1, Some(1)),
        m(1, "B", 1, 1, Some(1)),
        m(2, "C", 1, 1, None),
    ]
}

#[test]
fn allocation_adds_up_to_the_cent_and_is_deterministic() {
    // 100,00 € in thirds: 33,33 each, one cent left, to the lowest id on a tie.
    let a = allocate(10_000, &members(), CostKey::INHABITANTS).unwrap();
    let by_id = |id| a.rows.iter().find(|r| r.org_id == id).unwrap().cents;
    assert_eq!((by_id(1), by_id(2), by_id(3)), (3334, 3333, 3333));
    assert_eq!(a.remainder_cents, 1);
    assert_eq!(a.rows.iter().map(|r| r.cents).sum::<i64>(), 10_000);
    // Weighted mix: workstations missing for C counts as 0 and is noted.
    let mix = CostKey {
        inhabitants: 1,
        staff: 0,
        workstations: 1,
    };
    let a = allocate(1_000_001, &members(), mix).unwrap();
    assert_eq!(a.rows.iter().map(|r| r.cents).sum::<i64>(), 1_000_001);
    assert!(a.notes.iter().any(|n| n.contains("C: Arbeitsplätze")));
    // C: (1/3 + 0)/2 = 1/6; A, B: (1/3 + 1/2)/2 = 5/12.
    let c = a.rows.iter().find(|r| r.org_id == 2).unwrap();
    assert_eq!(c.share_ppm, 166_666);
    assert_eq!(a, allocate(1_000_001, &members(), mix).unwrap());
    assert!(allocate(
        100,
        &members(),
        CostKey {
            inhabitants: 0,
            staff: 0,
            workstations: 0
        }
    )
    .is_err());
}

fn verbund_model() -> stadtmauer_report::Report {
    let towns = vec![full_town(), empty_town()];
    verbund_report(
        &VerbundInput {
            verbund_name: "Landkreis Musterau",
            members: &towns,
            shared: vec!["Gemeinsame Phishing-Schulung der Geschäftsstelle am 20.11.2025.".into()],
            office_cost_cents: Some(25_000_000),
            key: CostKey {
                inhabitants: 2,
                staff: 1,
                workstations: 1,
            },
        },
        TODAY,
        "1",
    )
}

#[test]
fn verbund_report_text() {
    insta::assert_snapshot!("verbund", output::markdown(&verbund_model()));
}

fn pdftotext(pdf: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("cnc-{}-{}", std::process::id(), pdf.len()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("r.pdf");
    std::fs::write(&path, pdf).unwrap();
    if Command::new("pdftotext").arg("-v").output().is_err() {
        let _ = Command::new("apt-get")
            .args(["install", "-y", "poppler-utils"])
            .status();
    }
    let out = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is needed");
    let _ = std::fs::remove_dir_all(&dir);
    // Join hyphenated and wrapped lines so that phrases can be found.
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn pdf_has_every_chapter_and_key_figures_and_public_leaks_nothing() {
    let f = full_town();
    let public = town_report(&f, Edition::Public, TODAY, "1");
    let text = pdftotext(&output::pdf(&public, TODAY).unwrap());
    assert!(text.contains("Inhaltsverzeichnis"));
    assert!(text.contains("15.03.2026"));
    for q in QUESTIONS {
        // Headings may wrap; check their first words.
        let start: String = q.1.split_whitespace().take(4).collect::<Vec<_>>().join(" ");
        assert!(text.contains(&start), "missing chapter {start:?}");
    }
    for figure in [
        "62 %",
        "Kommunale Basis",
        "51.200,00 €",
        "Vollständig".to_lowercase().as_str(),
        NOT_RECORDED,
    ] {
        assert!(text.contains(figure), "missing figure {figure:?}");
    }
    for p in PLANTED {
        assert!(!text.contains(p), "public PDF shows {p}");
    }
    let conf = pdftotext(
        &output::pdf(&town_report(&f, Edition::Confidential, TODAY, "1"), TODAY).unwrap(),
    );
    for p in [
        "Geheim-Versicherung AG",
        "10.20.30.40",
        "Exchange Server 2016 CU23",
    ] {
        assert!(conf.contains(p), "confidential PDF misses {p}");
    }
}

#[test]
fn verbund_pdf_shows_heatmap_and_arithmetic() {
    let text = pdftotext(&output::pdf(&verbund_model(), TODAY).unwrap());
    for s in [
        "Stadt Kleinmurne",
        "Gemeinde Leerbach",
        "Summe",
        "250.000,00 €",
        "nicht erfasst",
        "einheitliche Zielniveau",
        "Unter dem Ziel: Stadt Kleinmurne.",
    ] {
        assert!(text.contains(s), "missing {s:?}");
    }
}

#[test]
fn html_is_escaped_and_complete() {
    let mut f = full_town();
    f.name = "<script>x</script>".into();
    let h = output::html(&town_report(&f, Edition::Public, TODAY, "1"));
    assert!(!h.contains("<script>"));
    assert!(h.contains("<svg"));
    assert_eq!(h.matches("<section").count(), QUESTIONS.len());
}
