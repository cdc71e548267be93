//! The inventory import's XLSX reader, fed workbooks whose sheet XML and shared-string table
//! are the fuzzer's bytes (and the bytes themselves as a file): it refuses or reads without
//! panicking, and never allocates more than `xlsx_bounds::CEILING` at once (a counting global
//! allocator aborts the run), whatever rows, columns, dimensions, formula groups or string
//! counts the file claims.
#![no_main]
use libfuzzer_sys::fuzz_target;
use stadtmauer_core::OrgId;
use stadtmauer_inventory::import::{parse, suggest, validate, MAX_COLUMNS, MAX_ROWS};

#[path = "xlsx_bounds.rs"]
mod xlsx_bounds;

#[global_allocator]
static ALLOC: xlsx_bounds::Counting = xlsx_bounds::Counting;

fuzz_target!(|data: &[u8]| {
    let book = xlsx_bounds::workbook("Liste", data);
    for bytes in [&book[..], data] {
        xlsx_bounds::bounded(|| {
            if let Ok(sheet) = parse(bytes, "liste.xlsx") {
                assert!(sheet.rows.len() <= MAX_ROWS);
                assert!(sheet.headers.len() <= MAX_COLUMNS);
                let mapping = suggest(&sheet.headers, None);
                let _ = validate(&sheet, &mapping, OrgId(1), &[]);
            }
        });
    }
});
