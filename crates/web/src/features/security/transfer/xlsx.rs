//! A town's assessment as a spreadsheet, without loss: sheet "Antworten" with one row per stored
//! answer (every field of it, also for per-object answers), sheet "Info" with the town and the
//! date. The same workbook is read back (calamine, streamed cell by cell, formulas refused and
//! never evaluated) into answers for another town or installation; every cell is checked before
//! anything is stored, and each error names its row and column.
//!
//! Column I (Nachweise) holds one evidence reference per line, in the encoding of the OSCAL
//! export's back-matter (see the parent module):
//!
//! ```text
//! https://intranet.example/richtlinie.pdf#valid-until=2027-03-31
//! stadtmauer:record:restore_test:17
//! stadtmauer:file:application/pdf:1234 sha256=<64 hex digits> Konzept 2026.pdf
//! ```
//!
//! A link is its URL, a record `stadtmauer:record:<kind>:<id>`, a file
//! `stadtmauer:file:<media type>:<size>` followed by one space, `sha256=` and the SHA-256, one
//! space, and the file name up to the end of the line. A validity date is appended to the
//! reference as `#valid-until=YYYY-MM-DD` (before the file's SHA-256). To keep this exact for
//! every value: in a file's media type `%`, space and `#` are written `%25`, `%20`, `%23`; and
//! where a reference without validity itself contains `#valid-until=`, an empty
//! `#valid-until=` is appended, which reads as "no validity".

use super::{file_href, record_href, reference_in, FILE_REF, VALID_UNTIL};
use crate::i18n::Tr;
use stadtmauer_assessment::answer::{AnswerInput, EvidenceInput};
use stadtmauer_assessment::date::format_date;
use stadtmauer_assessment::evidence::{Evidence, EvidenceItem};
use stadtmauer_assessment::Answer;
use stadtmauer_core::{DomainError, ObjectId};
use stadtmauer_inventory::model::{Object, ObjectKind};
use std::collections::{BTreeMap, HashMap};
use time::Date;

/// The sheet with the answers.
pub const SHEET: &str = "Antworten";
/// The sheet with the town, the date and a note on the format.
pub const INFO_SHEET: &str = "Info";
/// The header of [`SHEET`]; the format is German whatever the user's language.
pub const HEADER: [&str; 9] = [
    "Anforderung",
    "Objekt",
    "Status",
    "Begründung",
    "Notiz",
    "Verantwortlich",
    "Bewertet am",
    "Prüfen bis",
    "Nachweise",
];
const COLS: usize = HEADER.len();
/// Rows read at most (a town answers a few thousand requirement/object pairs): a cell with
/// content below row 100,000 is refused by its row and column, whatever the file claims.
pub const MAX_ROWS: u32 = 100_000;
/// The parts of a workbook may unpack to at most this many bytes (zip bombs). Checked on the
/// sizes the parts declare, before anything is unpacked; no part is ever unpacked beyond its
/// declared size.
pub const MAX_UNPACKED: u64 = 128 * 1024 * 1024;
/// Longest text kept of one cell (characters): Excel's own limit per cell, plus one so that the
/// answer's validation still sees, and refuses, what is too long.
pub const MAX_CELL_CHARS: usize = 32_767 + 1;
/// Most bytes of cell text kept from the sheet. A shared string is stored once in the file but
/// copied into each cell that uses it; this bounds the copies (at most 100,000 rows × 9 columns).
pub const MAX_TEXT_BYTES: usize = 64 * 1024 * 1024;
/// Most shared strings a workbook may announce (`uniqueCount`, for which the reader reserves
/// room before reading any): one per cell of the 100,000 × 9 that are read.
pub const MAX_SHARED_STRINGS: u64 = MAX_ROWS as u64 * COLS as u64;
/// Errors listed at most; the rest are counted.
const SHOWN_ERRORS: usize = 25;

// ---------------------------------------------------------------------------------------------
// Evidence, one line each
// ---------------------------------------------------------------------------------------------

fn escape_media_type(s: &str) -> String {
    s.replace('%', "%25")
        .replace(' ', "%20")
        .replace('#', "%23")
}

fn unescape_media_type(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let (c, n) = if tail.starts_with("%25") {
            ('%', 3)
        } else if tail.starts_with("%20") {
            (' ', 3)
        } else if tail.starts_with("%23") {
            ('#', 3)
        } else {
            ('%', 1)
        };
        out.push(c);
        rest = &tail[n..];
    }
    out.push_str(rest);
    out
}

/// One piece of evidence as one line of column I.
pub fn evidence_line(e: &EvidenceItem) -> String {
    let (mut line, file) = match &e.evidence {
        Evidence::File {
            sha256,
            size,
            media_type,
            name,
        } => (
            file_href(&escape_media_type(media_type), *size),
            Some((sha256, name)),
        ),
        Evidence::Link { url } => (url.clone(), None),
        Evidence::Record { record, id } => (record_href(*record, *id), None),
    };
    match e.valid_until {
        Some(d) => {
            line.push_str(VALID_UNTIL);
            line.push_str(&format_date(d));
        }
        None if line.contains(VALID_UNTIL) => line.push_str(VALID_UNTIL),
        None => {}
    }
    if let Some((sha, name)) = file {
        line.push_str(" sha256=");
        line.push_str(sha);
        line.push(' ');
        line.push_str(name);
    }
    line
}

/// Reads one line of column I into what a form would submit (checked later by
/// [`AnswerInput::validate`]); `None` when the line has none of the three forms.
pub fn evidence_input(line: &str) -> Option<EvidenceInput> {
    let line = line.trim();
    let (reference, file) = if line.starts_with(FILE_REF) {
        let (r, rest) = line.split_once(' ')?;
        let rest = rest.trim_start().strip_prefix("sha256=")?;
        let (sha, name) = rest.split_once(' ').unwrap_or((rest, ""));
        (r, Some((sha, name)))
    } else {
        (line, None)
    };
    let (href, valid_until) = match reference.rsplit_once(VALID_UNTIL) {
        Some((h, "")) => (h, None),
        Some((h, d)) => (h, Some(d.to_string())),
        None => (reference, None),
    };
    let (sha, name) = file.unwrap_or(("", ""));
    let mut input = EvidenceInput {
        valid_until,
        ..Default::default()
    };
    match reference_in(href, sha, name)? {
        Evidence::File {
            sha256,
            size,
            media_type,
            name,
        } if file.is_some() => {
            input.kind = "file".into();
            input.sha256 = Some(sha256);
            input.size = Some(size.to_string());
            input.media_type = Some(unescape_media_type(&media_type));
            input.name = Some(name);
        }
        Evidence::Link { url } => {
            input.kind = "link".into();
            input.url = Some(url);
        }
        Evidence::Record { record, id } => {
            input.kind = "record".into();
            input.record = Some(record.as_str().to_string());
            input.record_id = Some(id.to_string());
        }
        Evidence::File { .. } => return None,
    }
    Some(input)
}

// ---------------------------------------------------------------------------------------------
// Objects by name
// ---------------------------------------------------------------------------------------------

/// How each object of a town is named in column B: its name, or `Name (kind)` where several
/// objects of the town share the name.
pub fn object_labels(objects: &[Object]) -> HashMap<ObjectId, String> {
    let mut count: HashMap<&str, usize> = HashMap::new();
    for o in objects {
        *count.entry(o.data.name.trim()).or_default() += 1;
    }
    objects
        .iter()
        .map(|o| {
            let name = o.data.name.trim();
            let label = if count.get(name).copied().unwrap_or(0) > 1 {
                format!("{name} ({})", o.data.kind.as_str())
            } else {
                name.to_string()
            };
            (o.id, label)
        })
        .collect()
}

enum ObjectMatch {
    One(ObjectId),
    None,
    Several(String),
}

/// The object of this town that column B names (see [`object_labels`]).
fn find_object(objects: &[Object], label: &str) -> ObjectMatch {
    let named: Vec<&Object> = objects
        .iter()
        .filter(|o| o.data.name.trim() == label)
        .collect();
    match named.as_slice() {
        [o] => return ObjectMatch::One(o.id),
        [o, ..] => return ObjectMatch::Several(format!("{label} ({})", o.data.kind.as_str())),
        [] => {}
    }
    if let Some((name, kind)) = label
        .strip_suffix(')')
        .and_then(|l| l.rsplit_once(" ("))
        .and_then(|(n, k)| Some((n.trim(), ObjectKind::parse(k)?)))
    {
        if let Some(o) = objects
            .iter()
            .find(|o| o.data.name.trim() == name && o.data.kind == kind)
        {
            return ObjectMatch::One(o.id);
        }
    }
    ObjectMatch::None
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// The rows of [`SHEET`] (without the header), sorted by requirement and object.
pub fn rows(answers: &[Answer], labels: &HashMap<ObjectId, String>) -> Vec<[String; COLS]> {
    let mut out: Vec<[String; COLS]> = answers
        .iter()
        .filter_map(|a| {
            let object = match a.object_id {
                None => String::new(),
                Some(o) => labels.get(&o)?.clone(),
            };
            let text = |s: &Option<String>| s.clone().unwrap_or_default();
            Some([
                a.requirement_id.clone(),
                object,
                a.status.as_str().to_string(),
                text(&a.reason),
                text(&a.note),
                text(&a.responsible),
                format_date(a.assessed_on),
                a.review_by.map(format_date).unwrap_or_default(),
                a.evidence
                    .iter()
                    .map(evidence_line)
                    .collect::<Vec<_>>()
                    .join("\n"),
            ])
        })
        .collect();
    out.sort_by(|x, y| (&x[0], &x[1]).cmp(&(&y[0], &y[1])));
    out
}

/// The workbook: [`SHEET`] with `rows`, [`INFO_SHEET`] with `info` (label, value). Every cell
/// is a string cell, whatever it starts with: nothing is ever a formula.
pub fn workbook(
    rows: &[[String; COLS]],
    info: &[(String, String)],
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    let ws = wb.add_worksheet();
    ws.set_name(SHEET)?;
    for (c, h) in HEADER.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, v) in row.iter().enumerate() {
            if v.is_empty() {
                continue;
            }
            if v.contains('\n') {
                ws.write_string_with_format(r, c as u16, v, &wrap)?;
            } else {
                ws.write_string(r, c as u16, v)?;
            }
        }
    }
    ws.set_freeze_panes(1, 0)?;
    for (c, w) in [14, 28, 12, 40, 40, 22, 12, 12, 60].into_iter().enumerate() {
        ws.set_column_width(c as u16, w)?;
    }
    let info_ws = wb.add_worksheet();
    info_ws.set_name(INFO_SHEET)?;
    for (r, (k, v)) in info.iter().enumerate() {
        info_ws.write_string_with_format(r as u32, 0, k, &bold)?;
        info_ws.write_string(r as u32, 1, v)?;
    }
    info_ws.set_column_width(0, 20)?;
    info_ws.set_column_width(1, 100)?;
    wb.save_to_buffer()
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/// `A`, `B`, …, `Z`, `AA`, … for a zero-based column.
pub fn column_letter(mut c: u32) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// The errors of a refused file, ready to show (German or English): the first ones in full, and
/// how many more were found (a file can hold millions of bad cells; they are counted, not kept).
#[derive(Debug, Default)]
pub struct Refusal(pub Vec<String>, pub usize);

impl Refusal {
    fn one(s: String) -> Refusal {
        Refusal(vec![s], 0)
    }
    /// The first errors, and a line that counts the rest.
    pub fn shown(mut self, tr: Tr) -> Vec<String> {
        let mut more = self.1;
        if self.0.len() > SHOWN_ERRORS {
            more += self.0.len() - SHOWN_ERRORS;
            self.0.truncate(SHOWN_ERRORS);
        }
        if more > 0 {
            self.0
                .push(tr.f("sec.xl.err.more", &[("n", &more.to_string())]));
        }
        self.0
    }
}

/// Errors as they are found: the first [`SHOWN_ERRORS`] kept, the rest counted.
#[derive(Default)]
struct Errors {
    kept: Vec<String>,
    more: usize,
}

impl Errors {
    fn push(&mut self, e: String) {
        if self.kept.len() < SHOWN_ERRORS {
            self.kept.push(e);
        } else {
            self.more += 1;
        }
    }
    fn len(&self) -> usize {
        self.kept.len() + self.more
    }
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn refusal(self) -> Refusal {
        Refusal(self.kept, self.more)
    }
}

/// The text of a cell, cut after [`MAX_CELL_CHARS`] characters.
fn capped(s: &str) -> String {
    match s.char_indices().nth(MAX_CELL_CHARS) {
        Some((i, _)) => s[..i].to_string(),
        None => s.to_string(),
    }
}

/// One non-empty row of [`SHEET`]: its number (1-based) and the text of columns A–I.
pub struct SheetRow {
    pub line: u32,
    pub cells: [String; COLS],
}

fn cell_msg(tr: Tr, line: u32, col: usize, msg: &str) -> String {
    tr.f(
        "sec.xl.err.cell",
        &[
            ("row", &line.to_string()),
            ("col", &column_letter(col as u32)),
            ("name", HEADER.get(col).copied().unwrap_or("")),
            ("msg", msg),
        ],
    )
}

fn number(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

/// Reads [`SHEET`] of an XLSX workbook: checks the header and returns the non-empty rows below
/// it as text. Refuses what is no workbook, a missing sheet, a wrong header, formulas, error
/// values and content right of column I.
///
/// The sheet is streamed cell by cell and only cells with content in rows 1–[`MAX_ROWS`] and
/// columns A–I are kept, so memory follows the cells present, never the dimensions the file
/// claims; before calamine opens the workbook, [`check_xlsx_package`] bounds what its parts
/// unpack to and what its shared-string table announces. Formulas are read as metadata only.
pub fn read_sheet(tr: Tr, bytes: &[u8]) -> Result<Vec<SheetRow>, Refusal> {
    // calamine still panics on some damaged files (a cell reference of a dozen column letters
    // overflows where overflow checks are on, a reversed range underflows): refused, never a
    // crash.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_sheet_unguarded(tr, bytes)
    }))
    .unwrap_or_else(|_| Err(Refusal::one(tr.s("sec.xl.err.not_xlsx").to_string())))
}

fn read_sheet_unguarded(tr: Tr, bytes: &[u8]) -> Result<Vec<SheetRow>, Refusal> {
    use calamine::{DataRef, Reader, Xlsx, XlsxFormulaMetadata};
    use stadtmauer_inventory::import::{check_xlsx_package, PackageError};
    let not_xlsx = || Refusal::one(tr.s("sec.xl.err.not_xlsx").to_string());
    if !bytes.starts_with(b"PK\x03\x04") {
        return Err(not_xlsx());
    }
    match check_xlsx_package(bytes, MAX_UNPACKED, MAX_SHARED_STRINGS) {
        Ok(()) => {}
        Err(PackageError::Unpacked) => {
            return Err(Refusal::one(tr.f(
                "sec.xl.err.unpacked",
                &[("mb", &(MAX_UNPACKED / (1024 * 1024)).to_string())],
            )))
        }
        Err(PackageError::NotZip | PackageError::Broken) => return Err(not_xlsx()),
    }
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).map_err(|_| not_xlsx())?;
    let names = wb.sheet_names();
    if !names.iter().any(|n| n == SHEET) {
        let found = if names.is_empty() {
            "–".to_string()
        } else {
            names
                .iter()
                .map(|n| format!("„{n}“"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(Refusal::one(tr.f(
            "sec.xl.err.no_sheet",
            &[("sheet", SHEET), ("found", &found)],
        )));
    }
    let mut cells = wb.worksheet_cells_reader(SHEET).map_err(|_| not_xlsx())?;
    let mut errors = Errors::default();
    let mut grid: BTreeMap<u32, [String; COLS]> = BTreeMap::new();
    let mut text_bytes = 0usize;
    // Shared formulas: the text of each group's anchor, to name the formula of its other cells.
    let mut shared: HashMap<usize, String> = HashMap::new();
    loop {
        let cell = match cells.next_cell_with_formula_metadata() {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(_) => return Err(not_xlsx()),
        };
        let (r, c) = cell.pos;
        let line = r.saturating_add(1);
        let formula = match cell.formula {
            Some(XlsxFormulaMetadata::Normal { formula }) => Some(formula),
            Some(XlsxFormulaMetadata::Shared {
                shared_index,
                formula,
                ..
            }) => {
                let shown: String = formula.chars().take(80).collect();
                shared.entry(shared_index).or_insert(shown);
                Some(formula)
            }
            Some(XlsxFormulaMetadata::SharedDerived { shared_index }) => Some(
                shared
                    .get(&shared_index)
                    .cloned()
                    .unwrap_or_else(|| "…".to_string()),
            ),
            Some(_) => Some("…".to_string()),
            None => None,
        }
        .filter(|f| !f.trim().is_empty());
        if formula.is_none() && matches!(cell.value, DataRef::Empty) {
            // A cell without content (a format only) is no content, wherever it stands.
            continue;
        }
        if r >= MAX_ROWS {
            // Refused at once, named by the cell that crosses; nothing further is read.
            return Err(Refusal::one(tr.f(
                "sec.xl.err.limit_rows",
                &[
                    ("row", &line.to_string()),
                    ("col", &column_letter(c)),
                    ("max", &MAX_ROWS.to_string()),
                ],
            )));
        }
        if let Some(f) = formula {
            let shown: String = f.chars().take(80).collect();
            let msg = tr.f("sec.xl.err.formula", &[("formula", &format!("={shown}"))]);
            errors.push(cell_msg(tr, line, c as usize, &msg));
            continue;
        }
        let text = match cell.value {
            DataRef::Empty => String::new(),
            DataRef::String(s) => capped(&s),
            DataRef::SharedString(s) => capped(s),
            DataRef::Int(n) => n.to_string(),
            DataRef::Float(f) => number(f),
            DataRef::Bool(b) => if b { "WAHR" } else { "FALSCH" }.to_string(),
            DataRef::DateTime(d) => {
                let (y, m, d, ..) = d.to_ymd_hms_milli();
                format!("{y:04}-{m:02}-{d:02}")
            }
            DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => capped(&s),
            DataRef::Error(e) => {
                let msg = tr.f("sec.xl.err.error_value", &[("value", &e.to_string())]);
                errors.push(cell_msg(tr, line, c as usize, &msg));
                continue;
            }
        };
        if text.trim().is_empty() {
            continue;
        }
        if c as usize >= COLS {
            errors.push(tr.f(
                "sec.xl.err.extra",
                &[("row", &line.to_string()), ("col", &column_letter(c))],
            ));
            continue;
        }
        text_bytes += text.len();
        if text_bytes > MAX_TEXT_BYTES {
            return Err(Refusal::one(tr.f(
                "sec.xl.err.limit_text",
                &[
                    ("row", &line.to_string()),
                    ("col", &column_letter(c)),
                    ("max", &(MAX_TEXT_BYTES / (1024 * 1024)).to_string()),
                ],
            )));
        }
        if let Some(slot) = grid.entry(r).or_default().get_mut(c as usize) {
            *slot = text;
        }
    }
    drop(cells);
    // The header: row 1, columns A–I.
    let header = grid.remove(&0).unwrap_or_default();
    let mut header_errors = Vec::new();
    for (c, want) in HEADER.iter().enumerate() {
        let got = header[c].trim();
        if got.to_lowercase() != want.to_lowercase() {
            let shown: String = got.chars().take(80).collect();
            header_errors.push(tr.f(
                "sec.xl.err.header",
                &[
                    ("col", &column_letter(c as u32)),
                    ("expected", want),
                    ("found", if got.is_empty() { "–" } else { &shown }),
                ],
            ));
        }
    }
    if !header_errors.is_empty() {
        // A wrong header makes every cell below it suspect: report the header alone.
        return Err(Refusal(header_errors, 0));
    }
    if !errors.is_empty() {
        return Err(errors.refusal());
    }
    let rows: Vec<SheetRow> = grid
        .into_iter()
        .map(|(r, cells)| SheetRow { line: r + 1, cells })
        .collect();
    if rows.is_empty() {
        return Err(Refusal::one(tr.f("sec.xl.err.empty", &[("sheet", SHEET)])));
    }
    Ok(rows)
}

/// Column of a field of [`AnswerInput`].
fn column_of(field: &str) -> usize {
    match field {
        "requirement_id" => 0,
        "object_id" => 1,
        "status" => 2,
        "reason" => 3,
        "note" => 4,
        "responsible" => 5,
        "assessed_on" => 6,
        "review_by" => 7,
        _ => 8,
    }
}

fn field_errors(e: DomainError) -> Vec<(&'static str, &'static str)> {
    match e {
        DomainError::Invalid(fe) => fe.0.iter().map(|f| (f.field, f.message)).collect(),
        _ => vec![("requirement_id", "err.required")],
    }
}

/// Turns the rows of [`SHEET`] into answers for a town with `objects`. `known` maps a
/// requirement id of column A to the requirement's id, if the installation knows it. Every row
/// is checked with [`AnswerInput::validate`] (as the assessment form is); every error is
/// returned, with its row and column.
pub fn answers_from_rows(
    tr: Tr,
    rows: &[SheetRow],
    known: impl Fn(&str) -> Option<String>,
    objects: &[Object],
    today: Date,
) -> Result<Vec<Answer>, Refusal> {
    let mut errors = Errors::default();
    let mut out = Vec::new();
    let mut seen: HashMap<(String, Option<ObjectId>), u32> = HashMap::new();
    for row in rows {
        let line = row.line;
        let [req, object, status, reason, note, responsible, assessed_on, review_by, evidence] =
            &row.cells;
        let before = errors.len();
        let err = |errors: &mut Errors, col: usize, msg: &str| {
            errors.push(cell_msg(tr, line, col, msg));
        };
        let value = |v: &str| v.trim().chars().take(120).collect::<String>();
        // Column A: a requirement the installation knows.
        let requirement = if req.trim().is_empty() {
            None
        } else {
            let k = known(req.trim());
            if k.is_none() {
                let msg = tr.f("sec.xl.err.requirement", &[("value", &value(req))]);
                err(&mut errors, 0, &msg);
            }
            k
        };
        // Column B: empty for the whole organisation, else an object of this town.
        let object_id = match object.trim() {
            "" => None,
            label => match find_object(objects, label) {
                ObjectMatch::One(id) => Some(id),
                ObjectMatch::None => {
                    let msg = tr.f("sec.xl.err.object", &[("value", &value(label))]);
                    err(&mut errors, 1, &msg);
                    None
                }
                ObjectMatch::Several(example) => {
                    let msg = tr.f(
                        "sec.xl.err.object_ambiguous",
                        &[("value", &value(label)), ("example", &example)],
                    );
                    err(&mut errors, 1, &msg);
                    None
                }
            },
        };
        // Column I: one reference per line.
        let mut items = Vec::new();
        let mut line_of_item = Vec::new();
        for (n, l) in evidence.lines().enumerate() {
            let l = l.trim();
            if l.is_empty() {
                continue;
            }
            match evidence_input(l) {
                Some(i) => {
                    items.push(i);
                    line_of_item.push(n + 1);
                }
                None => {
                    let form = tr.f("sec.xl.err.evidence_form", &[("value", &value(l))]);
                    let msg = tr.f(
                        "sec.xl.err.evidence_line",
                        &[("n", &(n + 1).to_string()), ("msg", &form)],
                    );
                    err(&mut errors, 8, &msg);
                }
            }
        }
        let input = AnswerInput {
            requirement_id: requirement
                .clone()
                .unwrap_or_else(|| req.trim().to_string()),
            object_id: object_id.map(|o| o.0.to_string()),
            status: status.clone(),
            reason: Some(reason.clone()),
            note: Some(note.clone()),
            responsible: Some(responsible.clone()),
            assessed_on: Some(assessed_on.clone()),
            review_by: Some(review_by.clone()),
            evidence: items.clone(),
        };
        let answer = match input.validate(today) {
            Ok(a) => Some(a),
            Err(e) => {
                let mut evidence_reported = false;
                for (field, key) in field_errors(e) {
                    let col = column_of(field);
                    match (col, key) {
                        (2, "err.choose_one") => {
                            let msg = tr.f("sec.xl.err.status", &[("value", &value(status))]);
                            err(&mut errors, col, &msg);
                        }
                        (6 | 7, "err.date_format" | "err.date_nonexistent") => {
                            let v = if col == 6 { assessed_on } else { review_by };
                            let msg = tr.f("sec.xl.err.date", &[("value", &value(v))]);
                            err(&mut errors, col, &msg);
                        }
                        (3, "err.required") => {
                            err(&mut errors, col, tr.s("sec.xl.err.reason_required"))
                        }
                        (8, "err.too_many") => err(&mut errors, col, tr.s(key)),
                        (8, _) => {
                            // Which line: each reference checked alone.
                            if evidence_reported {
                                continue;
                            }
                            evidence_reported = true;
                            for (i, n) in items.iter().zip(&line_of_item) {
                                let alone = AnswerInput {
                                    requirement_id: "X".into(),
                                    status: "offen".into(),
                                    evidence: vec![i.clone()],
                                    ..Default::default()
                                };
                                if let Err(e) = alone.validate(today) {
                                    for (f, k) in field_errors(e) {
                                        let text = if f == "evidence_valid_until" {
                                            tr.f(
                                                "sec.xl.err.date",
                                                &[(
                                                    "value",
                                                    &value(i.valid_until.as_deref().unwrap_or("")),
                                                )],
                                            )
                                        } else {
                                            tr.s(k).to_string()
                                        };
                                        let msg = tr.f(
                                            "sec.xl.err.evidence_line",
                                            &[("n", &n.to_string()), ("msg", &text)],
                                        );
                                        err(&mut errors, 8, &msg);
                                    }
                                }
                            }
                        }
                        (0, _) if requirement.is_none() && !req.trim().is_empty() => {}
                        _ => err(&mut errors, col, tr.s(key)),
                    }
                }
                None
            }
        };
        if errors.len() > before {
            continue;
        }
        let Some(mut a) = answer else { continue };
        if let Some(id) = requirement {
            a.requirement_id = id;
        }
        a.object_id = object_id;
        let key = (a.requirement_id.clone(), a.object_id);
        if let Some(first) = seen.get(&key) {
            let object = if object.trim().is_empty() {
                tr.s("sec.xl.org_wide").to_string()
            } else {
                value(object)
            };
            errors.push(tr.f(
                "sec.xl.err.duplicate",
                &[
                    ("row", &line.to_string()),
                    ("req", &a.requirement_id),
                    ("object", &object),
                    ("first", &first.to_string()),
                ],
            ));
            continue;
        }
        seen.insert(key, line);
        out.push(a);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors.refusal())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use stadtmauer_assessment::date::parse_date;
    use stadtmauer_assessment::evidence::RecordKind;

    fn round(e: Evidence, valid_until: Option<Date>) {
        let item = EvidenceItem {
            evidence: e,
            valid_until,
        };
        let line = evidence_line(&item);
        assert!(!line.contains('\n'), "{line}");
        let input = evidence_input(&line).unwrap_or_else(|| panic!("{line}"));
        let a = AnswerInput {
            requirement_id: "X".into(),
            status: "ja".into(),
            evidence: vec![input],
            ..Default::default()
        }
        .validate(parse_date("2026-11-27").unwrap())
        .unwrap_or_else(|e| panic!("{line}: {e:?}"));
        assert_eq!(a.evidence, vec![item], "{line}");
    }

    #[test]
    fn every_evidence_field_survives_one_line() {
        let d = parse_date("2027-03-31");
        for v in [None, d] {
            round(
                Evidence::Link {
                    url: "https://intranet.example/a.pdf".into(),
                },
                v,
            );
            // A URL that itself carries the suffix.
            round(
                Evidence::Link {
                    url: "https://x.example/p#valid-until=2020-01-01".into(),
                },
                v,
            );
            round(
                Evidence::Link {
                    url: "https://x.example/p#valid-until=".into(),
                },
                v,
            );
            for k in RecordKind::ALL {
                round(Evidence::Record { record: k, id: 42 }, v);
            }
            for mt in [
                "application/pdf",
                "text/plain; charset=utf-8",
                "a%20b#valid-until=x:1",
                "x/y %25",
            ] {
                round(
                    Evidence::File {
                        sha256: "0f".repeat(32),
                        size: 99,
                        media_type: mt.into(),
                        name: "Konzept 2026 #1 sha256=ab (Entwurf).pdf".into(),
                    },
                    v,
                );
            }
        }
        assert_eq!(
            evidence_line(&EvidenceItem {
                evidence: Evidence::File {
                    sha256: "ab".repeat(32),
                    size: 1234,
                    media_type: "application/pdf".into(),
                    name: "Konzept.pdf".into(),
                },
                valid_until: d,
            }),
            format!(
                "stadtmauer:file:application/pdf:1234#valid-until=2027-03-31 sha256={} Konzept.pdf",
                "ab".repeat(32)
            )
        );
    }

    #[test]
    fn broken_lines_are_not_evidence() {
        for l in [
            "ftp://x.example/a",
            "javascript:alert(1)",
            "stadtmauer:record:unknown:1",
            "stadtmauer:record:measure:x",
            "stadtmauer:file:application/pdf:12",
            "stadtmauer:file:application/pdf:zwölf sha256=ab x",
            "stadtmauer:file:application/pdf:12 md5=ab x",
        ] {
            assert!(evidence_input(l).is_none(), "{l}");
        }
    }

    #[test]
    fn column_letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(8), "I");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }

    #[test]
    fn workbook_reads_back_and_refuses_non_workbooks() {
        let tr = Tr {
            lang: crate::i18n::Lang::De,
        };
        let row = [
            "GC.1.1",
            "",
            "ja",
            "=1+1",
            "+a\nb",
            "@x",
            "2026-01-02",
            "",
            "-",
        ]
        .map(String::from);
        let bytes = workbook(
            std::slice::from_ref(&row),
            &[("Kommune".into(), "X".into())],
        )
        .unwrap();
        let rows = read_sheet(tr, &bytes).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].cells, row);
        assert!(read_sheet(tr, b"{\"a\":1}").is_err());
        assert!(read_sheet(tr, b"PK\x03\x04garbage").is_err());
    }

    // Outside input: whatever a spreadsheet holds, reading it refuses or succeeds, never panics,
    // and every refusal names where (bounded: 48 workbooks of up to 5 rows).
    mod hostile {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(48))]
            #[test]
            fn any_cells_are_read_or_refused_precisely(
                cells in proptest::collection::vec(
                    proptest::collection::vec(
                        prop_oneof![
                            Just(String::new()),
                            Just("ja".to_string()),
                            Just("entbehrlich".to_string()),
                            Just("ASST.1.1.2".to_string()),
                            Just("2026-02-30".to_string()),
                            Just("stadtmauer:file:a%2:1 sha256=zz x".to_string()),
                            Just("=HYPERLINK(\"x\")".to_string()),
                            ".{0,30}",
                        ],
                        COLS,
                    ),
                    1..6,
                )
            ) {
                let rows: Vec<[String; COLS]> = cells
                    .into_iter()
                    .map(|r| <[String; COLS]>::try_from(r).unwrap())
                    .collect();
                let bytes = workbook(&rows, &[]).unwrap();
                let tr = Tr { lang: crate::i18n::Lang::De };
                let sheet = read_sheet(tr, &bytes).unwrap();
                let today = parse_date("2026-11-27").unwrap();
                match answers_from_rows(
                    tr,
                    &sheet,
                    |id| (id == "ASST.1.1.2").then(|| id.to_string()),
                    &[],
                    today,
                ) {
                    Ok(answers) => prop_assert!(answers.len() <= rows.len()),
                    Err(Refusal(lines, _)) => {
                        prop_assert!(!lines.is_empty());
                        for l in &lines {
                            prop_assert!(l.contains("Zeile") || l.contains("weitere"), "{}", l);
                        }
                    }
                }
            }

            #[test]
            fn any_bytes_are_refused_without_panic(
                bytes in proptest::collection::vec(any::<u8>(), 0..2048),
                cut in 0usize..4096,
            ) {
                let tr = Tr { lang: crate::i18n::Lang::De };
                prop_assert!(read_sheet(tr, &bytes).is_err());
                // A real workbook cut short is refused too.
                let whole = workbook(&[], &[]).unwrap();
                let cut = cut.min(whole.len().saturating_sub(1));
                prop_assert!(read_sheet(tr, &whole[..cut]).is_err());
            }
        }
    }
}
