//! Shared by the spreadsheet targets (`inventory_xlsx`, `assessment_xlsx`): a counting global
//! allocator that aborts the run (a finding) as soon as more than [`CEILING`] bytes are in use,
//! and a workbook built around the fuzzer's bytes so that they reach the sheet and shared-string
//! parsers instead of dying in the ZIP reader.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What one parse of a fuzz input (a few KiB) may have allocated at once. The readers' own
/// limits (64 MiB of cell text, cells and rows) are far above what such an input can reach
/// honestly; an allocation sized by what a file *claims* (a dense grid, a reserved table) is
/// far above this.
pub const CEILING: usize = 256 * 1024 * 1024;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

pub struct Counting;

fn grew(n: usize) {
    let now = CURRENT.fetch_add(n, Ordering::Relaxed).saturating_add(n);
    PEAK.fetch_max(now, Ordering::Relaxed);
    if now > CEILING {
        // Not a panic: an allocator must not unwind. libFuzzer saves the input on abort.
        let _ = std::io::stderr().write_all(
            b"allocation ceiling exceeded: a reader allocates by what the file claims\n",
        );
        std::process::abort();
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            grew(new_size - layout.size());
        } else {
            CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        System.realloc(ptr, layout, new_size)
    }
}

/// Runs `f`, asserting that the bytes in use never rose more than [`CEILING`] above where they
/// stood (checked on every allocation, and once more here).
pub fn bounded<T>(f: impl FnOnce() -> T) -> T {
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    assert!(peak <= CEILING, "peak {peak} bytes");
    out
}

/// A workbook with one sheet `sheet_name` whose `<sheetData>` holds the first part of `data`
/// and, after the first `0xFF` byte, a shared-string table made of the rest (as is). Parts are
/// stored uncompressed: the fuzzer's bytes are the XML.
pub fn workbook(sheet_name: &str, data: &[u8]) -> Vec<u8> {
    let (sheet, sst) = match data.iter().position(|&b| b == 0xFF) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut parts: Vec<(&str, Vec<u8>)> = vec![
        (
            "[Content_Types].xml",
            br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>"#.to_vec(),
        ),
        (
            "_rels/.rels",
            br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_vec(),
        ),
        (
            "xl/workbook.xml",
            format!(r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="{sheet_name}" sheetId="1" r:id="rId1"/></sheets></workbook>"#).into_bytes(),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#.to_vec(),
        ),
    ];
    let mut sheet_xml = br#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:XFD1048576"/><sheetData>"#.to_vec();
    sheet_xml.extend_from_slice(sheet);
    sheet_xml.extend_from_slice(b"</sheetData></worksheet>");
    parts.push(("xl/worksheets/sheet1.xml", sheet_xml));
    if let Some(sst) = sst {
        parts.push(("xl/sharedStrings.xml", sst.to_vec()));
    }
    for (name, bytes) in parts {
        if zip.start_file(name, opts).is_err() || zip.write_all(&bytes).is_err() {
            return Vec::new();
        }
    }
    zip.finish().map(|c| c.into_inner()).unwrap_or_default()
}
