//! Any bytes uploaded as a spreadsheet: parsing (format, encoding and delimiter detection, CSV
//! and XLSX), the suggested mapping, validation and the export of what was read never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use stadtmauer_core::OrgId;
use stadtmauer_inventory::import::{parse, suggest, validate};

fuzz_target!(|data: &[u8]| {
    for name in ["liste.csv", "liste.xlsx", "liste.xls"] {
        if let Ok(sheet) = parse(data, name) {
            let mapping = suggest(&sheet.headers, None);
            let preview = validate(&sheet, &mapping, OrgId(1), &[]);
            assert!(preview.rows.len() <= sheet.rows.len());
            for e in &preview.errors {
                assert!(e.column.is_none_or(|c| c < sheet.headers.len()));
            }
        }
    }
});
