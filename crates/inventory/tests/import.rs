//! Spreadsheet import and export with real files: the encodings towns export, broken files,
//! formulas, duplicates, oversized uploads, and the round trip export → import.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use stadtmauer_core::{ObjectId, OrgId};
use stadtmauer_inventory::export;
use stadtmauer_inventory::import::{
    self, parse, parse_with, suggest, validate, Action, EncodingChoice, Field, Format, ImportError,
    Mapping, ParseOptions, Target, TextEncoding,
};
use stadtmauer_inventory::model::{Object, ObjectInput, ObjectKind, Protection};
use std::time::{Duration, Instant};

const TOWN: OrgId = OrgId(7);

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn preview_of(bytes: &[u8], name: &str, existing: &[Object]) -> import::Preview {
    let sheet = parse(bytes, name).unwrap();
    let m = suggest(&sheet.headers, None);
    validate(&sheet, &m, TOWN, existing)
}

fn stored(id: i64, org: OrgId, input: ObjectInput) -> Object {
    Object {
        id: ObjectId(id),
        organisation_id: org,
        data: input.validate().unwrap(),
        override_value: None,
        effective: Protection::NORMAL,
        via: [None; 3],
    }
}

#[test]
fn windows_1252_from_excel_is_read_with_its_umlauts() {
    let bytes = fixture("windows1252.csv");
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "fixture must not be UTF-8"
    );
    // "ü" and "ß" are single bytes in Windows-1252.
    assert!(bytes.windows(2).any(|w| w == [b'B', 0xFC]));
    let sheet = parse(&bytes, "inventar.csv").unwrap();
    assert_eq!(sheet.format, Format::Csv);
    assert_eq!(sheet.encoding, Some(TextEncoding::Windows1252));
    assert_eq!(sheet.delimiter, Some(b';'));
    assert_eq!(sheet.headers[4], "Integrität");
    assert_eq!(sheet.rows[0].cells[1], "Bürgerbüro");
    assert_eq!(sheet.rows[1].cells[1], "Straßenverkehrsamt");
    assert_eq!(sheet.rows[1].cells[2], "Herr Weiß");
    let p = validate(&sheet, &suggest(&sheet.headers, None), TOWN, &[]);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert_eq!((p.creates, p.updates, p.links), (6, 0, 5));
    assert_eq!(p.rows[0].depends_on, vec![Target::Row(2)]);
    let own = p.rows[1].data.as_ref().unwrap().own.unwrap();
    assert_eq!(own.a, stadtmauer_inventory::Level::SehrHoch);

    // The same list saved as "CSV UTF-8" gives the same result.
    let utf8 = parse(&fixture("utf8_bom.csv"), "x.csv").unwrap();
    assert_eq!(utf8.encoding, Some(TextEncoding::Utf8Bom));
    assert_eq!(utf8.headers, sheet.headers);
    assert_eq!(utf8.rows, sheet.rows);

    // Forcing UTF-8 on a Windows-1252 file names the first bad row.
    let forced = parse_with(
        &bytes,
        "x.csv",
        &ParseOptions {
            encoding: EncodingChoice::Utf8,
            sheet: None,
        },
    )
    .unwrap_err();
    assert_eq!(forced, ImportError::NotUtf8 { line: 1 });
    assert_eq!(forced.to_string(), "Zeile 1 ist kein gültiges UTF-8.");
}

#[test]
fn a_missing_required_column_is_named() {
    let p = preview_of(&fixture("missing_column.csv"), "x.csv", &[]);
    assert!(p.rows.is_empty());
    assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
    assert_eq!(p.errors[0].message_key, "imp.err.missing_kind");
    assert_eq!(p.errors[0].row, 0);
    // With one kind for the whole file, the same list is fine.
    let sheet = parse(&fixture("missing_column.csv"), "x.csv").unwrap();
    let m = suggest(&sheet.headers, Some(ObjectKind::Application));
    let p = validate(&sheet, &m, TOWN, &[]);
    assert!(p.is_ok(), "{:?}", p.errors);
    let d = p.rows[0].data.as_ref().unwrap();
    assert_eq!(d.vendor.as_deref(), Some("Beispiel GmbH"));
    assert_eq!(d.version.as_deref(), Some("4.2"));
    // No name column at all.
    let sheet = parse(b"Art;Hersteller\nAnwendung;X\n", "x.csv").unwrap();
    let p = validate(&sheet, &suggest(&sheet.headers, None), TOWN, &[]);
    assert_eq!(p.errors[0].message_key, "imp.err.missing_name");
}

#[test]
fn duplicate_keys_name_both_rows() {
    let p = preview_of(&fixture("duplicates.csv"), "x.csv", &[]);
    assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
    let e = &p.errors[0];
    assert_eq!(e.message_key, "imp.err.duplicate");
    assert_eq!((e.row, e.other_row), (5, Some(2)));
    assert_eq!(e.column_letter, "B");
    assert_eq!(e.column_name, "Name");
    assert_eq!(e.value, "finanzverfahren");
    assert!(!p.is_ok());
}

#[test]
fn field_errors_point_at_row_and_column() {
    let csv = "Name;Art;Anzahl;Vertraulichkeit;Betriebsart\n\
               Fileserver;IT-System;-3;;\n\
               ;Anwendung;;;cloud\n\
               Meldewesen;Prozess;;mittel;\n\
               Portal;Anwendung;;;irgendwo\n\
               Kasse;Sonstiges;;;\n";
    let p = preview_of(csv.as_bytes(), "x.csv", &[]);
    let got: Vec<(usize, &str, &str, &str)> = p
        .errors
        .iter()
        .map(|e| {
            (
                e.row,
                e.column_letter.as_str(),
                e.message_key,
                e.value.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (2, "C", "err.out_of_range", "-3"),
            (3, "A", "err.required", ""),
            (4, "D", "err.level", "mittel"),
            (5, "E", "err.choose_one", "irgendwo"),
            (6, "B", "imp.err.kind_unknown", "Sonstiges"),
        ]
    );
    assert_eq!(p.rows.iter().filter(|r| r.has_errors).count(), 5);
}

fn xlsx(build: impl FnOnce(&mut rust_xlsxwriter::Worksheet)) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Anwendungen").unwrap();
    build(ws);
    wb.add_worksheet().set_name("Leer").unwrap();
    wb.save_to_buffer().unwrap()
}

#[test]
fn xlsx_is_read_and_formulas_are_refused_by_cell() {
    let bytes = xlsx(|ws| {
        for (c, h) in ["Bezeichnung", "Hersteller", "Version", "Anzahl", "Notiz"]
            .iter()
            .enumerate()
        {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        for r in 1..=6u32 {
            ws.write_string(r, 0, format!("Verfahren {r}")).unwrap();
            ws.write_string(r, 1, "Beispiel GmbH").unwrap();
            ws.write_number(r, 2, 4.0).unwrap();
            ws.write_number(r, 3, 12.0).unwrap();
        }
        // Row 7 (index 6), column C: a formula. Column E is not imported: its formula is ignored.
        ws.write_formula(6, 2, "=SUM(C2:C6)").unwrap();
        ws.write_formula(3, 4, "=A1").unwrap();
    });
    assert_eq!(&bytes[..4], b"PK\x03\x04");
    let sheet = parse(&bytes, "liste.xlsx").unwrap();
    assert_eq!(sheet.format, Format::Xlsx);
    assert_eq!(sheet.sheet_names, vec!["Anwendungen", "Leer"]);
    assert_eq!(sheet.rows.len(), 6);
    assert_eq!(sheet.rows[0].line, 2);
    assert_eq!(sheet.rows[0].cells[2], "4");
    assert_eq!(sheet.formulas.len(), 2);
    let mut m = suggest(&sheet.headers, Some(ObjectKind::Application));
    assert_eq!(m.columns[4], Some(Field::Description));
    m.columns[4] = None;
    let p = validate(&sheet, &m, TOWN, &[]);
    assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
    let e = &p.errors[0];
    assert_eq!(
        (e.row, e.column_letter.as_str(), e.message_key),
        (7, "C", "imp.err.formula")
    );
    assert_eq!(e.value, "=SUM(C2:C6)");
    assert_eq!(e.column_name, "Version");
    assert!(!p.is_ok());

    // The other sheet can be chosen; an unknown one is named.
    let err = parse_with(
        &bytes,
        "x.xlsx",
        &ParseOptions {
            sheet: Some("Fehlt".into()),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        err,
        ImportError::NoSuchSheet {
            name: "Fehlt".into()
        }
    );
}

#[test]
fn a_50_mb_file_is_refused_at_once() {
    let mut big = b"Name;Art\n".to_vec();
    while big.len() < 50 * 1024 * 1024 {
        big.extend_from_slice(b"Server mit einem recht langen Namen;IT-System\n");
    }
    let t = Instant::now();
    let err = parse(&big, "riesig.csv").unwrap_err();
    assert!(
        t.elapsed() < Duration::from_millis(100),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(err, ImportError::TooLarge { bytes: big.len() });
    assert_eq!(err.key(), "imp.err.too_large");
    assert_eq!(
        err.to_string(),
        "Die Datei ist 50.0 MB groß; angenommen werden höchstens 20 MB."
    );
}

#[test]
fn too_many_rows_and_other_broken_files() {
    let mut many = b"Name;Art\n".to_vec();
    for i in 0..100_001 {
        many.extend_from_slice(format!("S{i};system\n").as_bytes());
    }
    assert_eq!(
        parse(&many, "x.csv").unwrap_err(),
        ImportError::TooManyRows { rows: 100_001 }
    );
    assert_eq!(parse(b"", "x.csv").unwrap_err(), ImportError::Empty);
    assert_eq!(parse(b" \r\n\n", "x.csv").unwrap_err(), ImportError::Empty);
    assert_eq!(
        parse(&[0xD0, 0xCF, 0x11, 0xE0, 0, 0], "alt.xls").unwrap_err(),
        ImportError::LegacyXls
    );
    assert_eq!(
        parse(b"%PDF-1.7 ...", "x.csv").unwrap_err(),
        ImportError::NotASpreadsheet
    );
    assert_eq!(
        parse(b"PK\x03\x04garbage", "x.xlsx").unwrap_err(),
        ImportError::BrokenXlsx
    );
    // Excel's "Unicode text": UTF-16 LE with tabs.
    let mut utf16 = vec![0xFF, 0xFE];
    for u in "Name\tArt\nBürgerbüro\tprocess\n".encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    let s = parse(&utf16, "x.txt").unwrap();
    assert_eq!(s.encoding, Some(TextEncoding::Utf16Le));
    assert_eq!(s.delimiter, Some(b'\t'));
    assert_eq!(s.rows[0].cells[0], "Bürgerbüro");
}

#[test]
fn dependencies_resolve_in_the_file_and_the_inventory() {
    let provider = stored(
        90,
        OrgId(1),
        ObjectInput {
            kind: "provider".into(),
            name: "Kommunales Rechenzentrum".into(),
            shared: Some("ja".into()),
            ..Default::default()
        },
    );
    let ours = stored(
        91,
        TOWN,
        ObjectInput {
            kind: "application".into(),
            name: "Finanzverfahren".into(),
            vendor: Some("Alt GmbH".into()),
            description: Some("bleibt".into()),
            ..Default::default()
        },
    );
    let csv = "Art;Name;Hersteller;Beschreibung;abhängig von\n\
               Anwendung;Finanzverfahren;Neu GmbH;;Kommunales Rechenzentrum\n\
               Prozess;Kasse;;;\"Finanzverfahren; Gibt es nicht\"\n\
               Prozess;Haushalt;;;Haushalt\n\
               Standort;Rathaus;;;Finanzverfahren\n";
    let p = preview_of(csv.as_bytes(), "x.csv", &[provider, ours]);
    let keys: Vec<(usize, &str, &str)> = p
        .errors
        .iter()
        .map(|e| (e.row, e.message_key, e.value.as_str()))
        .collect();
    assert_eq!(
        keys,
        vec![
            (3, "imp.err.dep_unknown", "Gibt es nicht"),
            (4, "err.link_self", "Haushalt"),
            (5, "imp.err.dep_kind", "Finanzverfahren"),
        ]
    );
    let r = &p.rows[0];
    assert_eq!(r.depends_on, vec![Target::Existing(ObjectId(90))]);
    match &r.action {
        Action::Update { id, before } => {
            assert_eq!(*id, ObjectId(91));
            assert_eq!(before.vendor.as_deref(), Some("Alt GmbH"));
        }
        a => panic!("{a:?}"),
    }
    let d = r.data.as_ref().unwrap();
    assert_eq!(d.vendor.as_deref(), Some("Neu GmbH"));
    assert_eq!(
        d.description.as_deref(),
        Some("bleibt"),
        "empty cells keep data"
    );
    assert_eq!(p.rows[1].depends_on, vec![Target::Row(0)]);
}

#[test]
fn mapping_errors() {
    let sheet = parse(b"Name;Art;Name 2\nA;system;B\n", "x.csv").unwrap();
    let m = Mapping {
        columns: vec![Some(Field::Name), Some(Field::Kind), Some(Field::Name)],
        fixed_kind: None,
    };
    let p = validate(&sheet, &m, TOWN, &[]);
    assert_eq!(p.errors.len(), 1);
    assert_eq!(p.errors[0].message_key, "imp.err.mapped_twice");
    assert_eq!(p.errors[0].column_letter, "C");
}

fn sample_town() -> (Vec<Object>, Vec<(ObjectId, ObjectId)>) {
    let mk = |id, org, kind: &str, name: &str, f: &dyn Fn(&mut ObjectInput)| {
        let mut i = ObjectInput {
            kind: kind.into(),
            name: name.into(),
            ..Default::default()
        };
        f(&mut i);
        stored(id, org, i)
    };
    let objects = vec![
        mk(1, TOWN, "process", "Bürgerbüro", &|i| {
            i.need_c = Some("hoch".into());
            i.need_a = Some("sehr hoch".into());
            i.data_personal = Some("ja".into());
            i.owner = Some("=HYPERLINK(\"http://evil.example\")".into());
        }),
        mk(2, TOWN, "application", "Meldewesen; Version 2", &|i| {
            i.vendor = Some("@Anbieter".into());
            i.version = Some("-1".into());
            i.operating_model = Some("provider".into());
            i.description = Some("+49 Hotline".into());
        }),
        mk(3, TOWN, "system", "Server", &|i| {
            i.system_type = Some("server".into());
            i.count = Some("2".into());
        }),
        mk(4, OrgId(1), "provider", "KRZ", &|i| {
            i.shared = Some("ja".into());
        }),
    ];
    let links = vec![
        (ObjectId(1), ObjectId(2)),
        (ObjectId(2), ObjectId(3)),
        (ObjectId(2), ObjectId(4)),
    ];
    (objects, links)
}

#[test]
fn csv_export_round_trips_and_never_exports_a_formula() {
    let (objects, links) = sample_town();
    let csv = export::to_csv(TOWN, &objects, &links);
    assert!(csv.starts_with(&[0xEF, 0xBB, 0xBF]));
    let text = std::str::from_utf8(&csv[3..]).unwrap();
    assert!(text.starts_with("Objektart;Name;Beschreibung;"));
    assert!(text.contains("'=HYPERLINK"), "{text}");
    assert!(text.contains("'@Anbieter"));
    assert!(!text.contains(";=") && !text.contains(";@") && !text.contains(";-1"));
    assert!(
        !text.contains("KRZ;"),
        "shared providers of others are not rows"
    );

    // Into an empty town: everything is created again, with the same data and links.
    let krz = objects
        .iter()
        .find(|o| o.id == ObjectId(4))
        .unwrap()
        .clone();
    let p = preview_of(&csv, "export.csv", std::slice::from_ref(&krz));
    assert!(p.is_ok(), "{:?}", p.errors);
    assert_eq!((p.creates, p.updates, p.links), (3, 0, 3));
    for (row, orig) in p.rows.iter().zip(export::own_objects(TOWN, &objects)) {
        assert_eq!(row.data.as_ref().unwrap(), &orig.data);
    }
    let meld = p
        .rows
        .iter()
        .position(|r| r.name == "Meldewesen; Version 2");
    let bb = p.rows.iter().find(|r| r.name == "Bürgerbüro").unwrap();
    assert_eq!(bb.depends_on, vec![Target::Row(meld.unwrap())]);

    // Into the same town: everything is an update.
    let p = preview_of(&csv, "export.csv", &objects);
    assert!(p.is_ok(), "{:?}", p.errors);
    assert_eq!((p.creates, p.updates), (0, 3));
}

#[test]
fn xlsx_export_has_two_sheets_of_text_and_reads_back() {
    let (objects, links) = sample_town();
    let bytes = export::to_xlsx(TOWN, &objects, &links).unwrap();
    let sheet = parse(&bytes, "export.xlsx").unwrap();
    assert_eq!(sheet.sheet_names, vec!["Objekte", "Abhängigkeiten"]);
    assert!(sheet.formulas.is_empty(), "{:?}", sheet.formulas);
    let p = validate(
        &sheet,
        &suggest(&sheet.headers, None),
        TOWN,
        &[objects[3].clone()],
    );
    assert!(p.is_ok(), "{:?}", p.errors);
    let bb = p.rows.iter().find(|r| r.name == "Bürgerbüro").unwrap();
    assert_eq!(
        bb.data.as_ref().unwrap().owner.as_deref(),
        Some("=HYPERLINK(\"http://evil.example\")")
    );
    let links_sheet = parse_with(
        &bytes,
        "export.xlsx",
        &ParseOptions {
            sheet: Some("Abhängigkeiten".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(links_sheet.rows.len(), 3);

    let json = export::to_json(TOWN, &objects, &links);
    assert_eq!(json["objects"].as_array().unwrap().len(), 3);
    assert_eq!(json["links"].as_array().unwrap().len(), 3);
    assert_eq!(json["objects"][0]["name"], "Bürgerbüro");
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// Whatever arrives as a file (random bytes, or a real file with bytes flipped), reading
        /// and validating it gives a result or a precise error, never a panic.
        #[test]
        fn arbitrary_and_damaged_files(
            bytes in proptest::collection::vec(any::<u8>(), 0..2048),
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8),
            which in 0usize..3,
        ) {
            let mut damaged = match which {
                0 => fixture("windows1252.csv"),
                1 => fixture("duplicates.csv"),
                _ => {
                    let (objects, links) = sample_town();
                    export::to_xlsx(TOWN, &objects, &links).unwrap()
                }
            };
            for (at, b) in flips {
                let n = damaged.len();
                damaged[at % n] = b;
            }
            for input in [&bytes, &damaged] {
                if let Ok(sheet) = parse(input, "x.csv") {
                    let p = validate(&sheet, &suggest(&sheet.headers, None), TOWN, &[]);
                    prop_assert!(p.rows.len() <= sheet.rows.len());
                }
            }
        }
    }
}
