//! Renders real documents and reads them back with poppler's tools (`pdftotext`, `pdfinfo`,
//! `pdfimages`), the way a person opening the PDF would see it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use serde_json::json;
use stadtmauer_pdf::{document_meta, escape, render, render_with_warnings, DocumentMeta, PdfError};
use time::macros::date;

const HANDBUCH: &str = include_str!("templates/handbuch.typ");

/// Makes sure poppler-utils is there: installs it when running as root (CI), else explains.
fn poppler() {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    let ready = READY.get_or_init(|| {
        if Command::new("pdftotext").arg("-v").output().is_ok() {
            return Ok(());
        }
        let uid = Command::new("id").arg("-u").output().map(|o| o.stdout);
        let is_root = uid.as_deref().is_ok_and(|u| u.trim_ascii() == b"0");
        if !is_root {
            return Err("pdftotext is missing: install Debian's poppler-utils \
                        (apt-get install -y poppler-utils) and run the tests again"
                .to_owned());
        }
        let install = || {
            Command::new("apt-get")
                .args(["install", "-y", "--no-install-recommends", "poppler-utils"])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .status()
                .is_ok_and(|s| s.success())
        };
        // A fresh machine has no package lists yet; update only when the first try fails.
        let ok = install()
            || (Command::new("apt-get")
                .arg("update")
                .status()
                .is_ok_and(|s| s.success())
                && install());
        if ok && Command::new("pdftotext").arg("-v").output().is_ok() {
            Ok(())
        } else {
            Err("pdftotext is missing and `apt-get install -y poppler-utils` failed".to_owned())
        }
    });
    if let Err(message) = ready {
        panic!("{message}");
    }
}

/// Runs a poppler tool on the PDF and returns its standard output.
fn poppler_tool(tool: &str, args: &[&str], pdf: &[u8]) -> String {
    poppler();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new(tool)
        .args(args)
        .arg(&path)
        .args(if tool == "pdftotext" {
            &["-"][..]
        } else {
            &[][..]
        })
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{tool} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn text_of(pdf: &[u8]) -> String {
    poppler_tool("pdftotext", &["-enc", "UTF-8", "-layout"], pdf)
}

fn info_of(pdf: &[u8]) -> String {
    poppler_tool("pdfinfo", &[], pdf)
}

fn page_count(pdf: &[u8]) -> usize {
    let info = info_of(pdf);
    let line = info.lines().find(|l| l.starts_with("Pages:")).unwrap();
    line["Pages:".len()..].trim().parse().unwrap()
}

/// A bar chart as SVG, the way the report crate will draw its charts.
fn bar_chart(bars: &[(&str, u32)]) -> Vec<u8> {
    let max = bars.iter().map(|b| b.1).max().unwrap_or(1).max(1);
    let mut svg = String::from(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"400\" height=\"220\" \
         viewBox=\"0 0 400 220\">\n<rect x=\"0\" y=\"0\" width=\"400\" height=\"220\" \
         fill=\"#ffffff\"/>\n<line x1=\"40\" y1=\"190\" x2=\"390\" y2=\"190\" stroke=\"#333\"/>\n",
    );
    let width = 350 / bars.len().max(1) as u32;
    for (i, (label, value)) in bars.iter().enumerate() {
        let h = value * 160 / max;
        let x = 45 + i as u32 * width;
        svg.push_str(&format!(
            "<rect x=\"{x}\" y=\"{}\" width=\"{}\" height=\"{h}\" fill=\"#2a6ebb\"/>\n\
             <text x=\"{}\" y=\"207\" font-family=\"Libertinus Serif\" font-size=\"12\" \
             text-anchor=\"middle\">{label}</text>\n",
            190 - h,
            width - 10,
            x + (width - 10) / 2
        ));
    }
    svg.push_str("</svg>\n");
    svg.into_bytes()
}

fn handbuch_data() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "title": "Notfallhandbuch IT",
        "organisation": "Gemeinde Müllerstädt",
        "intro": "Bei einem Cyberangriff zählt jede Minute. Dieses Handbuch nennt die ersten \
                  Schritte, die Ansprechpartner und die geschätzten Kosten — Größenordnung: \
                  50.000 € pro Tag Ausfall. Eingaben wie #panic() oder *Sternchen* bleiben Text.",
        "contacts": [
            {"role": "Bürgermeisterin", "name": "Jördis Weiß", "phone": "01234 5678-10"},
            {"role": "IT-Dienstleister", "name": "Kommunal-IT Süd GmbH", "phone": "0800 123456"},
            {"role": "Informationssicherheitsbeauftragter", "name": "Björn Groß", "phone": "01234 5678-20"},
        ],
        "notes": ["Öffnungszeiten beachten", "Straßensperrungen melden", "Äußerungen nur über die Pressestelle"],
    }))
    .unwrap()
}

fn handbuch_inputs() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("data.json", handbuch_data()),
        (
            "chart1.svg",
            bar_chart(&[("Ransomware", 90), ("Stromausfall", 40), ("Hochwasser", 65)]),
        ),
    ]
}

fn handbuch() -> Vec<u8> {
    let meta = DocumentMeta {
        title: "Notfallhandbuch IT".into(),
        authors: vec!["Gemeinde Müllerstädt".into()],
        keywords: vec!["Notfall".into(), "IT-Grundschutz".into()],
        description: Some("Erste Schritte im IT-Notfall".into()),
        lang: "de".into(),
    };
    let source = document_meta(&meta) + HANDBUCH;
    let (pdf, warnings) = render_with_warnings(&source, &handbuch_inputs(), date!(2026 - 03 - 15))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(warnings.is_empty(), "warnings: {warnings:?}");
    pdf
}

/// Keeps a copy for a person to look at when STADTMAUER_PDF_SAMPLE_DIR is set.
fn keep_sample(name: &str, pdf: &[u8]) {
    if let Some(dir) = std::env::var_os("STADTMAUER_PDF_SAMPLE_DIR") {
        let path: PathBuf = Path::new(&dir).join(name);
        std::fs::write(&path, pdf).unwrap();
        eprintln!("sample written to {}", path.display());
    }
}

#[test]
fn german_sample_has_text_table_outline_chart_and_page_numbers() {
    let pdf = handbuch();
    keep_sample("handbuch.pdf", &pdf);
    assert!(pdf.starts_with(b"%PDF-"));

    let text = text_of(&pdf);
    // Paragraphs wrap; compare against the text with whitespace runs folded.
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        "Notfallhandbuch IT",
        "Gemeinde Müllerstädt",
        "Stand: 15.03.2026",
        "Inhaltsverzeichnis",
        "1 Erste Schritte im Notfall",
        "3.1 Schätzung je Szenario",
        "50.000 € pro Tag",
        "#panic() oder *Sternchen* bleiben Text",
        "Bürgermeisterin",
        "Jördis Weiß",
        "Björn Groß",
        "Straßensperrungen melden",
        "Äußerungen",
        "Geschätzte Kosten je Szenario (€)",
        "Seite 1 von",
    ] {
        assert!(flat.contains(expected), "missing {expected:?} in:\n{text}");
    }
    // The table keeps its row together on one line.
    assert!(
        text.lines()
            .any(|l| l.contains("IT-Dienstleister") && l.contains("0800 123456")),
        "{text}"
    );
    let pages = page_count(&pdf);
    assert!(
        text.contains(&format!("Seite {pages} von {pages}")),
        "{text}"
    );

    // The chart is vector graphics: no raster image in the file.
    let images = poppler_tool("pdfimages", &["-list"], &pdf);
    assert_eq!(
        images.lines().count(),
        2,
        "expected no images, got:\n{images}"
    );

    let info = info_of(&pdf);
    for expected in [
        "Title:           Notfallhandbuch IT",
        "Author:          Gemeinde Müllerstädt",
        "Keywords:        Notfall, IT-Grundschutz",
        "Subject:         Erste Schritte im IT-Notfall",
        "Creator:         Stadtmauer",
        "CreationDate:    Sun Mar 15 00:00:00 2026 UTC",
    ] {
        assert!(info.contains(expected), "missing {expected:?} in:\n{info}");
    }
    // The language goes into the (uncompressed) catalog and the XMP metadata.
    let contains = |needle: &[u8]| pdf.windows(needle.len()).any(|w| w == needle);
    assert!(contains(b"/Lang(de)"), "no /Lang(de) in the catalog");
    assert!(
        contains(b"<dc:language><rdf:Bag><rdf:li>de</rdf:li>"),
        "no dc:language de"
    );
}

#[test]
fn output_is_deterministic() {
    let a = handbuch();
    let b = handbuch();
    assert!(a == b, "two renders of the same input differ");
    let other_day = render(HANDBUCH, &handbuch_inputs(), date!(2026 - 03 - 16))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(a != other_day, "the date must reach the document");
}

#[test]
fn escaped_user_text_is_shown_literally() {
    let nasty = "= Kein Titel *nicht fett* #panic(\"x\") $x^2$ `raw` <lbl> @ref \\ \
                 [klammer] https://x.example 1. keine Liste -- ... ~ 'quote' ß€";
    let source = format!("#set text(lang: \"de\")\nWert: {}\n", escape(nasty));
    let pdf = render(&source, &[], date!(2026 - 01 - 01)).unwrap_or_else(|e| panic!("{e}"));
    let text = text_of(&pdf);
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(&format!("Wert: {nasty}")), "{flat}");
}

fn compile_error(source: &str, inputs: &[(&str, Vec<u8>)]) -> Vec<stadtmauer_pdf::Diagnostic> {
    match render(source, inputs, date!(2026 - 01 - 01)) {
        Err(PdfError::Compile(diagnostics)) => diagnostics,
        other => panic!("expected a compile error, got {other:?}"),
    }
}

#[test]
fn syntax_error_names_file_line_and_snippet() {
    let d = compile_error("= Titel\n\n#let x = (\n", &[]);
    let first = &d[0];
    assert_eq!(first.file.as_deref(), Some("/main.typ"), "{d:?}");
    assert!(
        first.line_column.is_some_and(|(line, _)| line >= 3),
        "{d:?}"
    );

    let d = compile_error("Hallo #titel", &[]);
    assert_eq!(d[0].message, "unknown variable: titel");
    assert_eq!(d[0].line_column, Some((1, 8)));
    assert_eq!(d[0].snippet.as_deref(), Some("titel"));
}

#[test]
fn package_imports_fail_clearly() {
    let d = compile_error("#import \"@preview/cetz:0.3.0\": canvas\n", &[]);
    let message = d
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(message.contains("supports no packages"), "{message}");
}

#[test]
fn missing_file_and_broken_json_do_not_leak_data() {
    let d = compile_error("#image(\"fehlt.svg\")", &[]);
    assert!(d[0].message.contains("fehlt.svg"), "{d:?}");

    let secret = b"{\"passwort\": \"geheim123\", kaputt".to_vec();
    let err = render(
        "#json(\"data.json\")",
        &[("data.json", secret)],
        date!(2026 - 01 - 01),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("JSON"), "{err}");
    assert!(
        !err.contains("geheim123"),
        "user data leaked into the error: {err}"
    );
}

#[test]
fn inputs_are_checked() {
    let bad = render("x", &[("..\\x.json", vec![])], date!(2026 - 01 - 01)).unwrap_err();
    assert!(matches!(bad, PdfError::InvalidInputName { .. }), "{bad}");
    let twice = render(
        "x",
        &[("a.json", vec![]), ("/a.json", vec![])],
        date!(2026 - 01 - 01),
    )
    .unwrap_err();
    assert!(matches!(twice, PdfError::DuplicateInput { .. }), "{twice}");
    let main = render("x", &[("main.typ", vec![])], date!(2026 - 01 - 01)).unwrap_err();
    assert!(matches!(main, PdfError::DuplicateInput { .. }), "{main}");
}

#[test]
fn typ_inputs_can_be_imported() {
    let pdf = render(
        "#import \"common.typ\": gruss\n#gruss(\"Rat\")",
        &[(
            "common.typ",
            b"#let gruss(name) = [Sehr geehrter #name,]".to_vec(),
        )],
        date!(2026 - 01 - 01),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(text_of(&pdf).contains("Sehr geehrter Rat,"));
}

#[test]
fn twenty_pages_render_quickly() {
    let sections: Vec<_> = (1..=20)
        .map(|i| {
            json!({
                "title": format!("Maßnahme {i}: Überprüfung der Zugänge"),
                "rows": (1..=30).map(|r| json!([format!("Objekt {i}.{r}"), "Server Rathaus", format!("{} €", r * 1250)])).collect::<Vec<_>>(),
            })
        })
        .collect();
    let data = serde_json::to_vec(&json!({ "sections": sections })).unwrap();
    let source = r#"
#let data = json("data.json")
#set text(lang: "de", size: 10pt)
#set page(footer: context align(center)[Seite #counter(page).display()])
#set heading(numbering: "1.")
#outline()
#for s in data.sections [
  #pagebreak(weak: true)
  = #s.title
  #lorem(120)
  #table(columns: (1fr, 1fr, auto), table.header([*Objekt*], [*Ort*], [*Kosten*]), ..s.rows.flatten())
]
"#;
    let inputs = [("data.json", data)];
    // The first render also parses the fonts and builds the library; measure a warm one too.
    let start = Instant::now();
    let pdf = render(source, &inputs, date!(2026 - 01 - 01)).unwrap_or_else(|e| panic!("{e}"));
    let cold = start.elapsed();
    // Different data, so typst's memoisation cannot reuse the first layout.
    let other = [(
        "data.json",
        String::from_utf8(inputs[0].1.clone())
            .unwrap()
            .replace("Rathaus", "Bauhof")
            .into_bytes(),
    )];
    let start = Instant::now();
    render(source, &other, date!(2026 - 01 - 02)).unwrap_or_else(|e| panic!("{e}"));
    let warm = start.elapsed();
    let pages = page_count(&pdf);
    println!(
        "rendered {pages} pages: first {cold:?}, second {warm:?} ({} build)",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    keep_sample("twenty.pdf", &pdf);
    assert!(
        pages >= 21,
        "expected outline + 20 sections, got {pages} pages"
    );
    if !cfg!(debug_assertions) {
        assert!(
            cold.as_secs_f64() < 1.0,
            "20 pages took {cold:?} in release"
        );
    }
}

#[test]
fn only_embedded_fonts_are_used() {
    let families = stadtmauer_pdf::font_families();
    for family in [
        "Libertinus Serif",
        "New Computer Modern",
        "DejaVu Sans Mono",
    ] {
        assert!(
            families.iter().any(|f| f == family),
            "{family} missing: {families:?}"
        );
    }
    assert!(stadtmauer_pdf::THIRD_PARTY_NOTICE.contains("SIL Open Font License"));

    // A system font name is not looked up on the machine: typst warns and falls back.
    let (pdf, warnings) = render_with_warnings(
        "#set text(font: \"Arial\")\nÄrger über Straßen",
        &[],
        date!(2026 - 01 - 01),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        warnings
            .iter()
            .any(|w| w.message.contains("unknown font family: arial")),
        "{warnings:?}"
    );
    assert!(text_of(&pdf).contains("Ärger über Straßen"));
    let fonts = poppler_tool("pdffonts", &[], &pdf);
    assert!(!fonts.contains("Arial"), "{fonts}");
}

#[test]
fn data_files_are_not_sources() {
    let d = compile_error("#include \"data.json\"", &[("data.json", b"{}".to_vec())]);
    assert!(
        d[0].message.to_lowercase().contains("not a typst source"),
        "{d:?}"
    );
}
