//! Reading XLSX workbooks for the import: the package checked before calamine opens it, then the
//! sheet streamed cell by cell, bounded by the cells present, never by the dimensions the file
//! claims. The assessment exchange (web crate) uses [`check_xlsx_package`] too.

use super::*;

/// Why [`check_xlsx_package`] refuses a workbook before any part of it is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageError {
    /// Not a ZIP archive that can be read (damaged, encrypted, or no archive at all).
    NotZip,
    /// The parts declare more uncompressed bytes than allowed.
    Unpacked,
    /// A part lies about itself in a way that would make a reader allocate for data that is not
    /// there (a shared-string table announcing more strings than its bytes can hold), or cannot
    /// be unpacked.
    Broken,
}

/// Checks an XLSX package before a spreadsheet reader touches it, so that no reader allocates by
/// what the file claims instead of what it holds:
///
/// - the parts' uncompressed sizes (central directory) add up to at most `max_unpacked` bytes.
///   The zip reader stops any part at its declared size, so this bounds what is ever unpacked;
/// - every shared-string table (`…sharedStrings.xml`) announces (`uniqueCount`) at most
///   `max_strings` strings, and no more than its unpacked bytes can hold (a string takes at least
///   [`MIN_SHARED_STRING_BYTES`] bytes of XML): calamine reserves room for the announced count
///   before reading a single string.
///
/// Used by both spreadsheet readers (inventory and assessment import).
pub fn check_xlsx_package(
    bytes: &[u8],
    max_unpacked: u64,
    max_strings: u64,
) -> Result<(), PackageError> {
    use std::io::Read;
    let mut zip =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|_| PackageError::NotZip)?;
    let mut total = 0u64;
    let mut tables = Vec::new();
    for i in 0..zip.len() {
        let f = zip.by_index_raw(i).map_err(|_| PackageError::NotZip)?;
        total = total.saturating_add(f.size());
        // A name that cannot be decoded is scanned as well: better one part too many.
        let name = f
            .name()
            .map(|n| n.replace('\\', "/").to_ascii_lowercase())
            .unwrap_or_default();
        if name.is_empty() || name.ends_with("sharedstrings.xml") {
            tables.push(i);
        }
    }
    if total > max_unpacked {
        return Err(PackageError::Unpacked);
    }
    for i in tables {
        let f = zip.by_index(i).map_err(|_| PackageError::Broken)?;
        let mut scan = CountScan::default();
        let mut buf = [0u8; 16 * 1024];
        let mut reader = f.take(max_unpacked.saturating_add(1));
        loop {
            let n = reader.read(&mut buf).map_err(|_| PackageError::Broken)?;
            if n == 0 {
                break;
            }
            scan.feed(&buf[..n]);
        }
        let room = scan.bytes / MIN_SHARED_STRING_BYTES;
        if scan.largest > max_strings.min(room) {
            return Err(PackageError::Broken);
        }
    }
    Ok(())
}

/// The fewest bytes of XML one entry of a shared-string table takes (`<si><t/></si>`).
pub const MIN_SHARED_STRING_BYTES: u64 = 13;

/// Finds every `uniqueCount="…"` in a stream of bytes, over chunk boundaries, and keeps the
/// largest value. Deliberately generous: any attribute of that name counts (whatever element or
/// namespace prefix), digits are read wherever they stand in the value, and a value too long for
/// a `u64` counts as `u64::MAX` — it over-estimates, never under-estimates, what a parser reads.
#[derive(Default)]
struct CountScan {
    bytes: u64,
    /// How many bytes of `uniqueCount` matched so far, or the state after the name.
    state: ScanState,
    value: u64,
    largest: u64,
}

#[derive(Default, Clone, Copy)]
enum ScanState {
    #[default]
    Name,
    Matched(usize),
    /// After the name: spaces and `=`.
    Equals,
    /// After `=`: spaces, then the opening quote.
    Quote,
    /// Inside the value, until this quote closes it.
    Value(u8),
}

impl CountScan {
    const NAME: &'static [u8] = b"uniqueCount";

    fn feed(&mut self, chunk: &[u8]) {
        self.bytes = self.bytes.saturating_add(chunk.len() as u64);
        for &b in chunk {
            self.state = match self.state {
                ScanState::Name | ScanState::Matched(_) => {
                    let done = match self.state {
                        ScanState::Matched(n) => n,
                        _ => 0,
                    };
                    if b == Self::NAME[done] {
                        if done + 1 == Self::NAME.len() {
                            ScanState::Equals
                        } else {
                            ScanState::Matched(done + 1)
                        }
                    } else if b == Self::NAME[0] {
                        ScanState::Matched(1)
                    } else {
                        ScanState::Name
                    }
                }
                ScanState::Equals if b.is_ascii_whitespace() => ScanState::Equals,
                ScanState::Equals if b == b'=' => ScanState::Quote,
                ScanState::Quote if b.is_ascii_whitespace() => ScanState::Quote,
                ScanState::Quote if b == b'"' || b == b'\'' => {
                    self.value = 0;
                    ScanState::Value(b)
                }
                ScanState::Value(q) if b == q => {
                    self.largest = self.largest.max(self.value);
                    ScanState::Name
                }
                ScanState::Value(q) => {
                    if b.is_ascii_digit() {
                        self.value = self
                            .value
                            .saturating_mul(10)
                            .saturating_add(u64::from(b - b'0'));
                    }
                    ScanState::Value(q)
                }
                ScanState::Equals | ScanState::Quote => {
                    if b == Self::NAME[0] {
                        ScanState::Matched(1)
                    } else {
                        ScanState::Name
                    }
                }
            };
        }
        // A value never closed still counts (the reader may see it before the file ends).
        if let ScanState::Value(_) = self.state {
            self.largest = self.largest.max(self.value);
        }
    }
}

/// What the XLSX reader keeps of a cell while it streams the sheet: its column and text.
type SparseRow = Vec<(u32, String)>;

/// The text of a cell, cut after [`MAX_CELL_CHARS`]` + 1` characters: what is longer is refused
/// by [`validate`] with its row and column anyway, and a cell never costs more than that.
fn capped(s: &str) -> String {
    match s.char_indices().nth(MAX_CELL_CHARS + 1) {
        Some((i, _)) => s[..i].to_string(),
        None => s.to_string(),
    }
}

/// Reads one sheet cell by cell (calamine's streaming reader), keeping only the cells present:
/// the work and memory follow the cells in the file, never the dimensions it claims or the
/// positions of its cells. Every limit is checked before a cell is kept, and a refusal names the
/// cell that crossed it. Formulas are read as metadata only (never expanded, never evaluated).
/// calamine still panics on some damaged files: a cell reference of a dozen column letters
/// overflows its arithmetic (a panic where overflow checks are on, as in tests and fuzzing), a
/// reversed range underflows. Whatever the workbook, a damaged file is refused, never a crash.
pub(super) fn parse_xlsx_guarded(bytes: &[u8], opts: &ParseOptions) -> Result<Sheet, ImportError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse_xlsx(bytes, opts)))
        .unwrap_or(Err(ImportError::BrokenXlsx))
}

fn parse_xlsx(bytes: &[u8], opts: &ParseOptions) -> Result<Sheet, ImportError> {
    use calamine::{DataRef, Reader, Xlsx, XlsxFormulaMetadata};
    match check_xlsx_package(bytes, MAX_XLSX_UNPACKED, MAX_CELLS as u64) {
        Ok(()) => {}
        Err(PackageError::Unpacked) => return Err(ImportError::XlsxTooLarge),
        Err(PackageError::NotZip | PackageError::Broken) => return Err(ImportError::BrokenXlsx),
    }
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).map_err(|e| {
        if e.to_string().to_lowercase().contains("workbook") {
            ImportError::NotASpreadsheet
        } else {
            ImportError::BrokenXlsx
        }
    })?;
    let names = wb.sheet_names();
    let name = match &opts.sheet {
        Some(n) if !n.is_empty() => {
            if !names.contains(n) {
                return Err(ImportError::NoSuchSheet { name: n.clone() });
            }
            n.clone()
        }
        _ => names.first().cloned().ok_or(ImportError::Empty)?,
    };
    let mut reader = wb
        .worksheet_cells_reader(&name)
        .map_err(|_| ImportError::BrokenXlsx)?;
    let mut grid: std::collections::BTreeMap<u32, SparseRow> = std::collections::BTreeMap::new();
    let mut span: Option<(u32, u32)> = None;
    let mut kept = 0usize;
    let mut text_bytes = 0usize;
    let mut formulas = Vec::new();
    let mut error_cells = Vec::new();
    // Shared formulas: the text of each group's anchor, to name the formula of its other cells.
    let mut shared: HashMap<usize, String> = HashMap::new();
    loop {
        let cell = match reader.next_cell_with_formula_metadata() {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(_) => return Err(ImportError::BrokenXlsx),
        };
        let (r, c) = cell.pos;
        let line = r as usize + 1;
        let limit = |limit: Limit| ImportError::SheetLimit {
            row: line,
            column: c as usize,
            limit,
        };
        let formula = match cell.formula {
            Some(XlsxFormulaMetadata::Normal { formula }) => Some(formula),
            Some(XlsxFormulaMetadata::Shared {
                shared_index,
                formula,
                ..
            }) => {
                shared
                    .entry(shared_index)
                    .or_insert_with(|| capped(&formula));
                Some(formula)
            }
            Some(XlsxFormulaMetadata::SharedDerived { shared_index }) => Some(
                shared
                    .get(&shared_index)
                    .cloned()
                    .unwrap_or_else(|| "…".to_string()),
            ),
            // A kind of formula this reader does not know: still a formula, never taken over.
            Some(_) => Some("…".to_string()),
            None => None,
        };
        if let Some(f) = formula.filter(|f| !f.trim().is_empty()) {
            let f = format!("={}", capped(&f));
            kept += 1;
            text_bytes += f.len();
            if kept > MAX_CELLS {
                return Err(limit(Limit::Cells));
            }
            if text_bytes > MAX_TEXT_BYTES {
                return Err(limit(Limit::Text));
            }
            formulas.push(FormulaCell {
                row: line,
                column: c as usize,
                formula: f,
            });
        }
        let text = match cell.value {
            DataRef::Empty => continue,
            DataRef::String(s) => capped(&s),
            DataRef::SharedString(s) => capped(s),
            DataRef::Int(n) => n.to_string(),
            DataRef::Float(f) => {
                if f.fract() == 0.0 && f.abs() < 1e15 {
                    format!("{}", f as i64)
                } else {
                    f.to_string()
                }
            }
            DataRef::Bool(b) => if b { "ja" } else { "nein" }.to_string(),
            DataRef::DateTime(dt) => excel_date(dt.as_f64()),
            DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => capped(&s),
            DataRef::Error(e) => {
                let value = e.to_string();
                text_bytes += value.len();
                error_cells.push(FormulaCell {
                    row: line,
                    column: c as usize,
                    formula: value,
                });
                String::new()
            }
        };
        // The limits, before the cell is kept.
        let (lo, hi) = span.map_or((c, c), |(lo, hi)| (lo.min(c), hi.max(c)));
        let width = (hi - lo) as usize + 1;
        if width > MAX_COLUMNS {
            return Err(limit(Limit::Columns));
        }
        let rows = grid.len() + usize::from(!grid.contains_key(&r));
        // The header and MAX_ROWS data rows.
        if rows > MAX_ROWS + 1 {
            return Err(limit(Limit::Rows));
        }
        if rows.saturating_mul(width) > MAX_CELLS {
            return Err(limit(Limit::Cells));
        }
        kept += 1;
        text_bytes += text.len();
        if kept > MAX_CELLS {
            return Err(limit(Limit::Cells));
        }
        if text_bytes > MAX_TEXT_BYTES {
            return Err(limit(Limit::Text));
        }
        span = Some((lo, hi));
        grid.entry(r).or_default().push((c, text));
    }
    drop(reader);
    let (start_col, end_col) = span.ok_or(ImportError::Empty)?;
    let width = (end_col - start_col) as usize + 1;
    let mut header: Option<(usize, Vec<String>)> = None;
    let mut rows = Vec::new();
    for (r, cells_present) in grid {
        let mut cells = vec![String::new(); width];
        for (c, text) in cells_present {
            if let Some(slot) = cells.get_mut((c - start_col) as usize) {
                *slot = text;
            }
        }
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let line = r as usize + 1;
        if header.is_none() {
            header = Some((line, cells));
            continue;
        }
        rows.push(SheetRow { line, cells });
    }
    let (header_line, headers) = header.ok_or(ImportError::Empty)?;
    Ok(finish(Sheet {
        format: Format::Xlsx,
        encoding: None,
        delimiter: None,
        sheet_names: names,
        sheet_name: Some(name),
        header_line,
        first_column: start_col as usize,
        headers,
        rows,
        formulas,
        error_cells,
    }))
}

/// An Excel date serial (days since 1899-12-30) as `YYYY-MM-DD`.
pub(super) fn excel_date(serial: f64) -> String {
    if !serial.is_finite() || !(0.0..3_000_000.0).contains(&serial) {
        return serial.to_string();
    }
    // Days since 1970-01-01, then the civil date (H. Hinnant's algorithm).
    let z = serial.floor() as i64 - 25_569 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}
