//! The inventory import reads a spreadsheet by the cells it holds, never by the size it claims.
//!
//! Each test parses a small hostile file and measures the memory the parse allocates with a
//! counting global allocator (`peakmem-alloc`; one per test binary, hence this file of its own).
//! The tests take a lock so that only one of them allocates while another measures.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use peakmem_alloc::{PeakMemAlloc, PeakMemAllocTrait, INSTRUMENTED_SYSTEM};
use stadtmauer_inventory::import::{
    parse, Format, ImportError, Limit, MAX_CELLS, MAX_CELL_CHARS, MAX_COLUMNS, MAX_ROWS,
};
use std::alloc::System;
use std::io::Write;
use std::sync::Mutex;

/// The system allocator, counting the bytes in use and the most in use at once since a reset.
#[global_allocator]
static ALLOC: &PeakMemAlloc<System> = &INSTRUMENTED_SYSTEM;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The ceiling for a parse of a small file: what the tests assert.
const CEILING: usize = 64 * 1024 * 1024;

/// Runs `f` and returns its result and the most bytes it had allocated at once.
fn measured<T>(f: impl FnOnce() -> T) -> (T, usize) {
    ALLOC.reset_peak_memory();
    let out = f();
    (out, ALLOC.get_peak_memory())
}

fn lock() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// A workbook written by rust_xlsxwriter with a string at each of `cells` (row, column, 0-based).
fn sparse(cells: &[(u32, u16, &str)]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (r, c, s) in cells {
        ws.write_string(*r, *c, *s).unwrap();
    }
    wb.save_to_buffer().unwrap()
}

/// A minimal workbook built by hand, for what no spreadsheet program writes: one sheet "Liste"
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
        r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Liste" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
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

fn limit(e: &ImportError) -> Option<(usize, usize, Limit)> {
    match e {
        ImportError::SheetLimit { row, column, limit } => Some((*row, *column, *limit)),
        _ => None,
    }
}

#[test]
fn a1_and_xfd1048576_is_refused_by_its_cell_not_allocated() {
    let _one = lock();
    let bytes = sparse(&[(0, 0, "Name"), (1_048_575, 16_383, "x")]);
    assert!(bytes.len() < 8 * 1024, "{}", bytes.len());
    let (got, peak) = measured(|| parse(&bytes, "liste.xlsx"));
    let e = got.unwrap_err();
    assert_eq!(limit(&e), Some((1_048_576, 16_383, Limit::Columns)));
    assert_eq!(e.key(), "imp.err.limit_columns");
    assert_eq!(
        e.to_string(),
        format!(
            "Zeile 1048576, Spalte XFD: die Tabelle überschreitet die Grenze von {MAX_COLUMNS} Spalten."
        )
    );
    assert!(peak < CEILING, "peak {peak} bytes");
}

#[test]
fn a1_and_t1048576_is_read_from_the_two_cells_present() {
    let _one = lock();
    let bytes = sparse(&[(0, 0, "Name"), (1_048_575, 19, "x")]);
    let (got, peak) = measured(|| parse(&bytes, "liste.xlsx"));
    let sheet = got.unwrap();
    assert!(peak < CEILING, "peak {peak} bytes");
    assert_eq!(sheet.format, Format::Xlsx);
    assert_eq!(sheet.headers.len(), 20);
    assert_eq!(sheet.headers[0], "Name");
    assert_eq!(sheet.headers[19], "T");
    assert_eq!(sheet.rows.len(), 1);
    assert_eq!(sheet.rows[0].line, 1_048_576);
    assert_eq!(sheet.rows[0].cells[19], "x");
}

#[test]
fn the_same_shapes_built_by_hand_and_as_formulas() {
    let _one = lock();
    // Inline strings, a dimension claiming the whole grid, no shared strings.
    let a1 = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>Name</t></is></c></row>"#;
    let xfd = by_hand(
        &format!(
            r#"{a1}<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>"#
        ),
        None,
    );
    let (got, peak) = measured(|| parse(&xfd, "liste.xlsx"));
    assert_eq!(
        limit(&got.unwrap_err()),
        Some((1_048_576, 16_383, Limit::Columns))
    );
    assert!(peak < CEILING, "peak {peak} bytes");
    // A formula alone at the far corner: no value, so outside the table, but named.
    let formula = by_hand(
        &format!(r#"{a1}<row r="1048576"><c r="XFD1048576"><f>1+1</f></c></row>"#),
        None,
    );
    let (got, peak) = measured(|| parse(&formula, "liste.xlsx"));
    let sheet = got.unwrap();
    assert!(peak < CEILING, "peak {peak} bytes");
    assert_eq!(sheet.headers, vec!["Name"]);
    assert_eq!(sheet.formulas.len(), 1);
    assert_eq!(
        (sheet.formulas[0].row, sheet.formulas[0].column),
        (1_048_576, 16_383)
    );
    // A shared formula whose group number asks a naive reader for a table of 10^12 entries.
    let shared = by_hand(
        &format!(
            r#"{a1}<row r="2"><c r="A2"><f t="shared" si="1000000000000" ref="A2:A3">B1</f><v>1</v></c></row><row r="3"><c r="A3"><f t="shared" si="1000000000000"/><v>1</v></c></row>"#
        ),
        None,
    );
    let (got, peak) = measured(|| parse(&shared, "liste.xlsx"));
    let sheet = got.unwrap();
    assert!(peak < CEILING, "peak {peak} bytes");
    let texts: Vec<&str> = sheet.formulas.iter().map(|f| f.formula.as_str()).collect();
    assert_eq!(texts, vec!["=B1", "=B1"]);
}

#[test]
fn a_shared_string_table_that_claims_more_than_it_holds_is_refused_before_reading() {
    let _one = lock();
    let sheet = r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#;
    for count in [
        "1000000000000",
        "99999999999999999999999",
        "  +0004000000000 ",
    ] {
        let sst = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="{count}"><si><t>Name</t></si></sst>"#
        );
        let bytes = by_hand(sheet, Some(&sst));
        let (got, peak) = measured(|| parse(&bytes, "liste.xlsx"));
        assert_eq!(got.unwrap_err(), ImportError::BrokenXlsx, "{count}");
        assert!(peak < CEILING, "peak {peak} bytes");
    }
    // An honest count is read.
    let sst = r#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>Name</t></si></sst>"#;
    let sheet = parse(&by_hand(sheet, Some(sst)), "liste.xlsx").unwrap();
    assert_eq!(sheet.headers, vec!["Name"]);
}

#[test]
fn one_long_shared_string_in_many_cells_is_capped_and_bounded() {
    let _one = lock();
    // 1 MiB of text stored once, used by 10,000 cells: 10 GB if every cell copied it whole.
    let long = "x".repeat(1024 * 1024);
    let sst = format!(
        r#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" uniqueCount="2"><si><t>Name</t></si><si><t>{long}</t></si></sst>"#
    );
    let mut rows = String::from(r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#);
    for r in 2..=10_001 {
        rows.push_str(&format!(
            r#"<row r="{r}"><c r="A{r}" t="s"><v>1</v></c></row>"#
        ));
    }
    let bytes = by_hand(&rows, Some(&sst));
    let (got, peak) = measured(|| parse(&bytes, "liste.xlsx"));
    let e = got.unwrap_err();
    let (row, column, l) = limit(&e).unwrap();
    assert_eq!((column, l), (0, Limit::Text));
    assert!(row > 6_000 && row < 7_000, "{row}");
    assert_eq!(e.key(), "imp.err.limit_text");
    // The text limit itself (64 MiB), the table of shared strings and the bookkeeping.
    assert!(peak < 2 * CEILING, "peak {peak} bytes");

    // Fewer cells: read, each cut after MAX_CELL_CHARS + 1 characters (validate refuses them).
    let mut rows = String::from(r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#);
    for r in 2..=11 {
        rows.push_str(&format!(
            r#"<row r="{r}"><c r="A{r}" t="s"><v>1</v></c></row>"#
        ));
    }
    let (got, peak) = measured(|| parse(&by_hand(&rows, Some(&sst)), "liste.xlsx"));
    let sheet = got.unwrap();
    assert!(peak < CEILING, "peak {peak} bytes");
    assert_eq!(sheet.rows.len(), 10);
    assert!(sheet
        .rows
        .iter()
        .all(|r| r.cells[0].chars().count() == MAX_CELL_CHARS + 1));
}

#[test]
fn rows_and_cells_are_limited_by_the_cell_that_crosses() {
    let _one = lock();
    // MAX_ROWS + 2 rows with one cell each (header included): the last one is refused.
    let mut rows = String::new();
    for r in 1..=(MAX_ROWS as u32 + 2) {
        rows.push_str(&format!(r#"<row r="{r}"><c r="B{r}"><v>{r}</v></c></row>"#));
    }
    let bytes = by_hand(&rows, None);
    let (got, peak) = measured(|| parse(&bytes, "liste.xlsx"));
    let e = got.unwrap_err();
    assert_eq!(limit(&e), Some((MAX_ROWS + 2, 1, Limit::Rows)));
    assert_eq!(
        e.to_string(),
        format!(
            "Zeile {}, Spalte B: die Tabelle überschreitet die Grenze von {MAX_ROWS} Zeilen.",
            MAX_ROWS + 2
        )
    );
    assert!(peak < CEILING, "peak {peak} bytes");

    // A header 200 columns wide and rows of one cell: rows × 200 reaches MAX_CELLS.
    let mut rows =
        String::from(r#"<row r="1"><c r="A1"><v>1</v></c><c r="GR1"><v>1</v></c></row>"#);
    let rows_allowed = MAX_CELLS / MAX_COLUMNS;
    for r in 2..=(rows_allowed as u32 + 1) {
        rows.push_str(&format!(r#"<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>"#));
    }
    let (got, _) = measured(|| parse(&by_hand(&rows, None), "liste.xlsx"));
    assert_eq!(
        limit(&got.unwrap_err()),
        Some((rows_allowed + 1, 0, Limit::Cells))
    );

    // The same shape as CSV: refused before the rows are padded to the widest.
    let mut csv = vec![b'x'; 1];
    csv.extend(std::iter::repeat_n(b";x".as_slice(), MAX_COLUMNS - 1).flatten());
    csv.push(b'\n');
    for r in 0..rows_allowed {
        csv.extend_from_slice(format!("{r}\n").as_bytes());
    }
    let (got, peak) = measured(|| parse(&csv, "liste.csv"));
    let e = got.unwrap_err();
    assert_eq!(limit(&e).map(|(_, _, l)| l), Some(Limit::Cells));
    assert_eq!(e.key(), "imp.err.limit_cells");
    assert!(peak < 2 * CEILING, "peak {peak} bytes");
}

/// A damaged cell reference of many column letters overflows calamine's arithmetic (a panic in
/// builds with overflow checks): the file is refused or read, never a crash.
#[test]
fn an_overlong_cell_reference_is_refused_not_a_panic() {
    let _one = lock();
    for r in [
        "AAAAAAAAAAAAAAAA1",
        "ZZZZZZZZZZZZ99999999999",
        "A99999999999999",
    ] {
        let bytes = by_hand(
            &format!(r#"<row r="1"><c r="{r}" t="inlineStr"><is><t>x</t></is></c></row>"#),
            None,
        );
        let got = std::panic::catch_unwind(|| parse(&bytes, "liste.xlsx"));
        assert!(got.is_ok(), "{r}: the reader panicked");
    }
}
