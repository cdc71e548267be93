//! The assessment import's XLSX reader (web crate), fed workbooks whose sheet "Antworten" and
//! shared-string table are the fuzzer's bytes (and the bytes themselves as a file): it refuses
//! or reads without panicking, every refusal says something, and it never allocates more than
//! `xlsx_bounds::CEILING` at once (a counting global allocator aborts the run), whatever the
//! file claims.
#![no_main]
use libfuzzer_sys::fuzz_target;
use stadtmauer_web::assessment_xlsx::{read_sheet, MAX_ROWS, SHEET};
use stadtmauer_web::i18n::{Lang, Tr};

#[path = "xlsx_bounds.rs"]
mod xlsx_bounds;

#[global_allocator]
static ALLOC: xlsx_bounds::Counting = xlsx_bounds::Counting;

fuzz_target!(|data: &[u8]| {
    let tr = Tr { lang: Lang::De };
    let book = xlsx_bounds::workbook(SHEET, data);
    for bytes in [&book[..], data] {
        xlsx_bounds::bounded(|| match read_sheet(tr, bytes) {
            Ok(rows) => assert!(rows.iter().all(|r| r.line >= 2 && r.line <= MAX_ROWS)),
            Err(refusal) => assert!(!refusal.shown(tr).is_empty()),
        });
    }
});
