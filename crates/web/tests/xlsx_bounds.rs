//! The assessment import reads its workbook by the cells it holds, never by the size it claims.
//!
//! Each test reads a small hostile workbook with the page's reader and measures the memory it
//! allocates with a counting global allocator (`peakmem-alloc`; one per test binary, hence this
//! test target of its own). The tests take a lock so that only one of them allocates while
//! another measures.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use peakmem_alloc::{PeakMemAlloc, PeakMemAllocTrait, INSTRUMENTED_SYSTEM};
use stadtmauer_web::assessment_xlsx::{read_sheet, Refusal, HEADER, MAX_ROWS, SHEET};
use stadtmauer_web::i18n::{Lang, Tr};
use std::alloc::System;
use std::io::Write;
use std::sync::Mutex;

/// The system allocator, counting the bytes in use and the most in use at once since a reset.
#[global_allocator]
static ALLOC: &PeakMemAlloc<System> = &INSTRUMENTED_SYSTEM;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The ceiling for reading a small file: what the tests assert.
const CEILING: usize = 64 * 1024 * 1024;

const DE: Tr = Tr { lang: Lang::De };

/// Runs `f` and returns its result and the most bytes it had allocated at once.
fn measured<T>(f: impl FnOnce() -> T) -> (T, usize) {
    ALLOC.reset_peak_memory();
    let out = f();
    (out, ALLOC.get_peak_memory())
}

fn lock() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// The refusal's lines as shown to a German user.
fn refused(got: Result<Vec<stadtmauer_web::assessment_xlsx::SheetRow>, Refusal>) -> Vec<String> {
    match got {
        Ok(rows) => panic!("read {} rows", rows.len()),
        Err(r) => r.shown(DE),
    }
}

/// A workbook written by rust_xlsxwriter: sheet "Antworten" with the right header in row 1 and a
/// string at each of `cells` (row, column, 0-based).
fn sparse(cells: &[(u32, u16, &str)]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(SHEET).unwrap();
    for (c, h) in HEADER.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, c, s) in cells {
        ws.write_string(*r, *c, *s).unwrap();
    }
    wb.save_to_buffer().unwrap()
}

/// The header row as inline strings.
fn header_row() -> String {
    let mut row = String::from(r#"<row r="1">"#);
    for (c, h) in HEADER.iter().enumerate() {
        let col = (b'A' + c as u8) as char;
        row.push_str(&format!(
            r#"<c r="{col}1" t="inlineStr"><is><t>{h}</t></is></c>"#
        ));
    }
    row.push_str("</row>");
    row
}

/// A minimal workbook built by hand, for what no spreadsheet program writes: sheet "Antworten"
/// with the given `<sheetData>` content and, if given, a shared-string table.
fn by_hand(sheet_data: &str, shared_strings: Option<&str>) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut part = |name: &str, text: &str| {
        zip.start_file(name, opts).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    };
    part(
        "[Content_Types].xml",
        r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
    );
    part(
        "_rels/.rels",
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
    );
    part(
        "xl/workbook.xml",
        r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Antworten" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
    );
    part(
        "xl/_rels/workbook.xml.rels",
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#,
    );
    part(
        "xl/worksheets/sheet1.xml",
        &format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:XFD1048576"/><sheetData>{sheet_data}</sheetData></worksheet>"#
        ),
    );
    if let Some(sst) = shared_strings {
        part("xl/sharedStrings.xml", sst);
    }
    zip.finish().unwrap().into_inner()
}

#[test]
fn a1_and_xfd1048576_is_refused_by_its_cell_not_allocated() {
    let _one = lock();
    let bytes = sparse(&[(1_048_575, 16_383, "x")]);
    assert!(bytes.len() < 8 * 1024, "{}", bytes.len());
    let (got, peak) = measured(|| read_sheet(DE, &bytes));
    assert_eq!(
        refused(got),
        vec![format!(
            "Zeile 1048576, Spalte XFD: das Tabellenblatt überschreitet die Grenze von {MAX_ROWS} Zeilen."
        )]
    );
    assert!(peak < CEILING, "peak {peak} bytes");
    // Only A1 and XFD1048576, no header: refused the same way, by the far cell.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(SHEET).unwrap();
    ws.write_string(0, 0, "Anforderung").unwrap();
    ws.write_string(1_048_575, 16_383, "x").unwrap();
    let bytes = wb.save_to_buffer().unwrap();
    let (got, peak) = measured(|| read_sheet(DE, &bytes));
    let lines = refused(got);
    assert!(
        lines[0].starts_with("Zeile 1048576, Spalte XFD: "),
        "{lines:?}"
    );
    assert!(peak < CEILING, "peak {peak} bytes");
}

#[test]
fn a1_and_t1048576_is_refused_by_its_cell_not_allocated() {
    let _one = lock();
    let bytes = sparse(&[(1_048_575, 19, "x")]);
    let (got, peak) = measured(|| read_sheet(DE, &bytes));
    assert_eq!(
        refused(got),
        vec![format!(
            "Zeile 1048576, Spalte T: das Tabellenblatt überschreitet die Grenze von {MAX_ROWS} Zeilen."
        )]
    );
    assert!(peak < CEILING, "peak {peak} bytes");
    // The last row allowed, far right: read as one error for the cell right of column I.
    let bytes = sparse(&[(MAX_ROWS - 1, 16_383, "x"), (1, 0, "GC.1.1")]);
    let (got, peak) = measured(|| read_sheet(DE, &bytes));
    assert_eq!(
        refused(got),
        vec![format!(
            "Zeile {MAX_ROWS}, Spalte XFD: unerwarteter Inhalt rechts von Spalte I."
        )]
    );
    assert!(peak < CEILING, "peak {peak} bytes");
}

#[test]
fn empty_cells_far_away_are_no_content_and_a_good_sheet_is_read() {
    let _one = lock();
    // A format-only cell at the far corner, and one answer.
    let bytes = by_hand(
        &format!(
            r#"{}<row r="2"><c r="A2" t="inlineStr"><is><t>GC.1.1</t></is></c><c r="C2" t="inlineStr"><is><t>ja</t></is></c></row><row r="1048576"><c r="XFD1048576" s="1"/></row>"#,
            header_row()
        ),
        None,
    );
    let (got, peak) = measured(|| read_sheet(DE, &bytes));
    let rows = got.map_err(|r| r.shown(DE)).unwrap();
    assert!(peak < CEILING, "peak {peak} bytes");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].line, 2);
    assert_eq!(rows[0].cells[0], "GC.1.1");
    assert_eq!(rows[0].cells[2], "ja");
}

#[test]
fn hostile_formula_groups_and_string_counts_are_refused_without_allocating() {
    let _one = lock();
    // A shared formula whose group number asks a naive reader for a table of 10^12 entries.
    let bytes = by_hand(
        &format!(
            r#"{}<row r="2"><c r="A2"><f t="shared" si="1000000000000" ref="A2:A3">B1</f><v>1</v></c></row><row r="3"><c r="A3"><f t="shared" si="1000000000000"/><v>1</v></c></row>"#,
            header_row()
        ),
        None,
    );
    let (got, peak) = measured(|| read_sheet(DE, &bytes));
    assert!(peak < CEILING, "peak {peak} bytes");
    assert_eq!(
        refused(got),
        vec![
            "Zeile 2, Spalte A (Anforderung): Formeln werden nicht übernommen (=B1).".to_string(),
            "Zeile 3, Spalte A (Anforderung): Formeln werden nicht übernommen (=B1).".to_string(),
        ]
    );
    // A shared-string table announcing 10^12 strings (calamine reserves room for them first).
    let sst = r#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" uniqueCount="1000000000000"><si><t>x</t></si></sst>"#;
    let bytes = by_hand(&header_row(), Some(sst));
    let (got, peak) = measured(|| read_sheet(DE, &bytes));
    assert!(peak < CEILING, "peak {peak} bytes");
    assert_eq!(
        refused(got),
        vec!["Die Datei ist keine Excel-Arbeitsmappe (.xlsx) oder ist beschädigt.".to_string()]
    );
}

#[test]
fn one_long_shared_string_in_many_cells_is_bounded() {
    let _one = lock();
    // 1 MiB of text stored once, used by 3,000 cells: 3 GB if every cell copied it whole.
    let long = "x".repeat(1024 * 1024);
    let sst = format!(
        r#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" uniqueCount="1"><si><t>{long}</t></si></sst>"#
    );
    let mut rows = header_row();
    for r in 2..=3_001 {
        rows.push_str(&format!(
            r#"<row r="{r}"><c r="D{r}" t="s"><v>0</v></c></row>"#
        ));
    }
    let bytes = by_hand(&rows, Some(&sst));
    let (got, peak) = measured(|| read_sheet(DE, &bytes));
    let lines = refused(got);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].ends_with("Spalte D: das Tabellenblatt überschreitet die Grenze von 64 MB Text."),
        "{lines:?}"
    );
    // The text limit itself (64 MiB), the shared string and the bookkeeping.
    assert!(peak < 2 * CEILING, "peak {peak} bytes");
}

#[test]
fn a_million_bad_cells_are_counted_not_kept() {
    let _one = lock();
    let mut rows = header_row();
    for r in 2..=20_001 {
        rows.push_str(&format!(r#"<row r="{r}">"#));
        for col in ["J", "K", "L", "M", "N"] {
            rows.push_str(&format!(r#"<c r="{col}{r}"><v>1</v></c>"#));
        }
        rows.push_str("</row>");
    }
    let bytes = by_hand(&rows, None);
    let (got, peak) = measured(|| read_sheet(DE, &bytes));
    let lines = refused(got);
    assert!(peak < CEILING, "peak {peak} bytes");
    assert_eq!(lines.len(), 26);
    assert_eq!(
        lines[0],
        "Zeile 2, Spalte J: unerwarteter Inhalt rechts von Spalte I."
    );
    assert_eq!(lines[25], "… und 99975 weitere Fehler.");
}

/// A damaged cell reference of many column letters overflows calamine's arithmetic (a panic in
/// builds with overflow checks): the workbook is refused or read, never a crash.
#[test]
fn an_overlong_cell_reference_is_refused_not_a_panic() {
    let _one = lock();
    for r in [
        "AAAAAAAAAAAAAAAA1",
        "ZZZZZZZZZZZZ99999999999",
        "A99999999999999",
    ] {
        let bytes = by_hand(
            &format!(
                r#"{}<row r="2"><c r="{r}" t="inlineStr"><is><t>x</t></is></c></row>"#,
                header_row()
            ),
            None,
        );
        let got = std::panic::catch_unwind(|| read_sheet(DE, &bytes).is_ok());
        assert!(got.is_ok(), "{r}: the reader panicked");
    }
}
