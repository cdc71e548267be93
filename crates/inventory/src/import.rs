//! Spreadsheet import: the lists towns already keep (CSV from any Excel or LibreOffice, XLSX)
//! become objects of the Informationsverbund.
//!
//! Pure and synchronous, bytes in and plain values out: [`parse`] reads a file into a [`Sheet`]
//! (format, encoding and delimiter detected, formulas never evaluated), [`suggest`] proposes a
//! [`Mapping`] from the header names, and [`validate`] turns sheet and mapping into a dry-run
//! [`Preview`]: what will be created or updated, which links will be made, and every error with
//! its row and column. The store commits a preview without errors in one transaction.
//!
//! Messages are i18n keys (`imp.err.*`, `err.*`) with their arguments, so the web layer shows them
//! in the user's language; [`ImportError`]'s `Display` gives the German text for logs and tests.

use crate::model::{Object, ObjectData, ObjectInput, ObjectKind};
use stadtmauer_core::DomainError;
use std::collections::HashMap;

/// Largest file accepted (bytes). A town's inventory is far smaller; a bigger file is a mistake
/// (an export of the whole file server, a picture) and is refused before anything is read.
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;
/// Most data rows accepted in one file.
pub const MAX_ROWS: usize = 100_000;
/// Most columns accepted in one file.
pub const MAX_COLUMNS: usize = 200;
/// Longest cell accepted (characters); longer text is refused with its row and column.
pub const MAX_CELL_CHARS: usize = 10_000;
/// Largest total of uncompressed parts of an XLSX file: protects against zip bombs. Checked on
/// the sizes the parts declare, before anything is unpacked; the zip reader never unpacks a part
/// beyond its declared size.
pub const MAX_XLSX_UNPACKED: u64 = 200 * 1024 * 1024;
/// Most cells of one table: its rows (header included) times its columns, as the table is handed
/// on with every row as wide as the widest (100,000 rows of 30 columns). An XLSX sheet also counts
/// each formula. Checked cell by cell while reading, before a cell is kept.
pub const MAX_CELLS: usize = 3_000_000;
/// Most bytes of cell text kept from one XLSX sheet. A shared string is stored once in the file
/// but copied into every cell that uses it, so the text read can be far larger than the file;
/// this bounds it (a CSV file's text is bounded by [`MAX_FILE_BYTES`] already).
pub const MAX_TEXT_BYTES: usize = 64 * 1024 * 1024;

/// The file formats understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

/// How the text of a CSV file was decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    /// UTF-8 with a byte order mark (Excel's "CSV UTF-8").
    Utf8Bom,
    /// Excel's "Unicode text" (UTF-16 little endian with BOM).
    Utf16Le,
    Utf16Be,
    /// Excel's plain "CSV (Trennzeichen-getrennt)" on German Windows.
    Windows1252,
}

impl TextEncoding {
    pub fn label(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Utf8Bom => "UTF-8 (BOM)",
            TextEncoding::Utf16Le => "UTF-16 LE",
            TextEncoding::Utf16Be => "UTF-16 BE",
            TextEncoding::Windows1252 => "Windows-1252",
        }
    }
}

/// What the user may force instead of detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EncodingChoice {
    #[default]
    Auto,
    Utf8,
    Windows1252,
}

impl EncodingChoice {
    pub fn parse(s: &str) -> EncodingChoice {
        match s.trim().to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => EncodingChoice::Utf8,
            "windows-1252" | "cp1252" | "latin1" => EncodingChoice::Windows1252,
            _ => EncodingChoice::Auto,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            EncodingChoice::Auto => "auto",
            EncodingChoice::Utf8 => "utf-8",
            EncodingChoice::Windows1252 => "windows-1252",
        }
    }
}

/// Options of [`parse_with`].
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    pub encoding: EncodingChoice,
    /// XLSX: the sheet to read (default: the first).
    pub sheet: Option<String>,
}

/// A formula found in an XLSX cell. Formulas are never evaluated; the cached result is not
/// trusted either (it may be stale, or computed from cells outside the table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormulaCell {
    /// Row number as the spreadsheet shows it (1-based).
    pub row: usize,
    /// Column index (0-based, A = 0).
    pub column: usize,
    pub formula: String,
}

/// One data row of a sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetRow {
    /// Row number as the spreadsheet shows it (1-based; the header is usually row 1).
    pub line: usize,
    /// Cell texts, one per column of the header (missing cells are empty).
    pub cells: Vec<String>,
}

/// A file read into text cells.
#[derive(Debug, Clone)]
pub struct Sheet {
    pub format: Format,
    /// CSV: how the bytes were decoded.
    pub encoding: Option<TextEncoding>,
    /// CSV: the field delimiter found.
    pub delimiter: Option<u8>,
    /// XLSX: every sheet of the workbook, and the one read.
    pub sheet_names: Vec<String>,
    pub sheet_name: Option<String>,
    /// Row number of the header row (1-based).
    pub header_line: usize,
    /// Column index of the first column (0-based; XLSX tables may start further right).
    pub first_column: usize,
    pub headers: Vec<String>,
    pub rows: Vec<SheetRow>,
    /// XLSX: cells holding formulas (only reported when their column is imported).
    pub formulas: Vec<FormulaCell>,
    /// XLSX: cells holding an error value such as `#DIV/0!`.
    pub error_cells: Vec<FormulaCell>,
}

impl Sheet {
    /// The spreadsheet letter of a column of this sheet (0-based index into `headers`).
    pub fn column_letter(&self, column: usize) -> String {
        column_letter(self.first_column + column)
    }
}

/// Why a file could not be read at all. Each says precisely what is wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportError {
    /// The file is larger than [`MAX_FILE_BYTES`].
    TooLarge { bytes: usize },
    /// The file is empty, or holds no header row.
    Empty,
    /// The legacy binary Excel format (.xls), which is not read.
    LegacyXls,
    /// Another binary format (a PDF, a picture, an ODS or ZIP that is not a workbook …).
    NotASpreadsheet,
    /// An XLSX file that cannot be read (damaged, or not really XLSX).
    BrokenXlsx,
    /// An XLSX file whose parts unpack to more than [`MAX_XLSX_UNPACKED`] bytes.
    XlsxTooLarge,
    /// The chosen sheet does not exist.
    NoSuchSheet { name: String },
    /// UTF-8 was chosen but the bytes are not UTF-8.
    NotUtf8 { line: usize },
    /// A CSV file that cannot be split into fields (e.g. a quote never closed).
    BrokenCsv { line: usize },
    /// More than [`MAX_ROWS`] data rows.
    TooManyRows { rows: usize },
    /// More than [`MAX_COLUMNS`] columns.
    TooManyColumns { columns: usize },
    /// A cell lies beyond a limit of the table; it is named by its row (1-based, as the
    /// spreadsheet shows it) and column (0-based, A = 0).
    SheetLimit {
        row: usize,
        column: usize,
        limit: Limit,
    },
}

/// The limit a [`ImportError::SheetLimit`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// [`MAX_ROWS`] data rows (besides the header).
    Rows,
    /// [`MAX_COLUMNS`] columns, from the leftmost to the rightmost cell with content.
    Columns,
    /// [`MAX_CELLS`] cells.
    Cells,
    /// [`MAX_TEXT_BYTES`] bytes of text.
    Text,
}

impl Limit {
    /// The limit as shown (a count, or MB for text).
    pub fn max(self) -> String {
        match self {
            Limit::Rows => MAX_ROWS.to_string(),
            Limit::Columns => MAX_COLUMNS.to_string(),
            Limit::Cells => MAX_CELLS.to_string(),
            Limit::Text => (MAX_TEXT_BYTES / (1024 * 1024)).to_string(),
        }
    }
}

impl ImportError {
    /// The i18n key of the message.
    pub fn key(&self) -> &'static str {
        match self {
            ImportError::TooLarge { .. } => "imp.err.too_large",
            ImportError::Empty => "imp.err.empty",
            ImportError::LegacyXls => "imp.err.legacy_xls",
            ImportError::NotASpreadsheet => "imp.err.not_a_spreadsheet",
            ImportError::BrokenXlsx => "imp.err.broken_xlsx",
            ImportError::XlsxTooLarge => "imp.err.xlsx_too_large",
            ImportError::NoSuchSheet { .. } => "imp.err.no_such_sheet",
            ImportError::NotUtf8 { .. } => "imp.err.not_utf8",
            ImportError::BrokenCsv { .. } => "imp.err.broken_csv",
            ImportError::TooManyRows { .. } => "imp.err.too_many_rows",
            ImportError::TooManyColumns { .. } => "imp.err.too_many_columns",
            ImportError::SheetLimit { limit, .. } => match limit {
                Limit::Rows => "imp.err.limit_rows",
                Limit::Columns => "imp.err.limit_columns",
                Limit::Cells => "imp.err.limit_cells",
                Limit::Text => "imp.err.limit_text",
            },
        }
    }
    /// The placeholders of the message.
    pub fn args(&self) -> Vec<(&'static str, String)> {
        let mb = |b: usize| format!("{:.1}", b as f64 / (1024.0 * 1024.0));
        match self {
            ImportError::TooLarge { bytes } => vec![
                ("size", mb(*bytes)),
                ("max", (MAX_FILE_BYTES / (1024 * 1024)).to_string()),
            ],
            ImportError::NoSuchSheet { name } => vec![("name", name.clone())],
            ImportError::NotUtf8 { line } | ImportError::BrokenCsv { line } => {
                vec![("row", line.to_string())]
            }
            ImportError::TooManyRows { rows } => {
                vec![("rows", rows.to_string()), ("max", MAX_ROWS.to_string())]
            }
            ImportError::TooManyColumns { columns } => vec![
                ("columns", columns.to_string()),
                ("max", MAX_COLUMNS.to_string()),
            ],
            ImportError::XlsxTooLarge => {
                vec![("max", (MAX_XLSX_UNPACKED / (1024 * 1024)).to_string())]
            }
            ImportError::SheetLimit { row, column, limit } => vec![
                ("row", row.to_string()),
                ("col", column_letter(*column)),
                ("max", limit.max()),
            ],
            _ => vec![],
        }
    }
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let a: HashMap<&str, String> = self.args().into_iter().collect();
        let g = |k: &str| a.get(k).cloned().unwrap_or_default();
        match self {
            ImportError::TooLarge { .. } => write!(
                f,
                "Die Datei ist {} MB groß; angenommen werden höchstens {} MB.",
                g("size"),
                g("max")
            ),
            ImportError::Empty => write!(f, "Die Datei ist leer oder hat keine Kopfzeile."),
            ImportError::LegacyXls => write!(
                f,
                "Das alte Excel-Format .xls wird nicht gelesen; bitte als .xlsx oder CSV speichern."
            ),
            ImportError::NotASpreadsheet => {
                write!(f, "Die Datei ist weder CSV noch XLSX.")
            }
            ImportError::BrokenXlsx => write!(f, "Die XLSX-Datei ist beschädigt."),
            ImportError::XlsxTooLarge => write!(
                f,
                "Die XLSX-Datei entpackt sich auf mehr als {} MB.",
                g("max")
            ),
            ImportError::NoSuchSheet { name } => {
                write!(f, "Die Tabelle „{name}“ gibt es in der Datei nicht.")
            }
            ImportError::NotUtf8 { line } => {
                write!(f, "Zeile {line} ist kein gültiges UTF-8.")
            }
            ImportError::BrokenCsv { line } => {
                write!(f, "Die CSV-Datei ist ab Zeile {line} nicht lesbar.")
            }
            ImportError::TooManyRows { rows } => write!(
                f,
                "Die Datei hat {rows} Zeilen; höchstens {MAX_ROWS} werden angenommen."
            ),
            ImportError::TooManyColumns { columns } => write!(
                f,
                "Die Datei hat {columns} Spalten; höchstens {MAX_COLUMNS} werden angenommen."
            ),
            ImportError::SheetLimit { limit, .. } => {
                let what = match limit {
                    Limit::Rows => "Zeilen",
                    Limit::Columns => "Spalten",
                    Limit::Cells => "Zellen",
                    Limit::Text => "MB Text",
                };
                write!(
                    f,
                    "Zeile {}, Spalte {}: die Tabelle überschreitet die Grenze von {} {what}.",
                    g("row"),
                    g("col"),
                    g("max")
                )
            }
        }
    }
}

impl std::error::Error for ImportError {}

/// "A", "B", … "Z", "AA", … for a 0-based column index.
pub fn column_letter(mut column: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (column % 26) as u8);
        if column < 26 {
            break;
        }
        column = column / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Reads a CSV or XLSX file with detected encoding and the first sheet.
pub fn parse(bytes: &[u8], file_name: &str) -> Result<Sheet, ImportError> {
    parse_with(bytes, file_name, &ParseOptions::default())
}

/// Reads a CSV or XLSX file. The format is recognised by its content (an XLSX file is a ZIP
/// archive), not by the name, which is only a hint for legacy formats.
pub fn parse_with(
    bytes: &[u8],
    file_name: &str,
    opts: &ParseOptions,
) -> Result<Sheet, ImportError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ImportError::TooLarge { bytes: bytes.len() });
    }
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ImportError::Empty);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return parse_xlsx_guarded(bytes, opts);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(ImportError::LegacyXls);
    }
    let lower = file_name.to_ascii_lowercase();
    if lower.ends_with(".xls") {
        return Err(ImportError::LegacyXls);
    }
    if bytes.starts_with(b"%PDF")
        || bytes.starts_with(b"PK")
        || bytes.starts_with(&[0x89, b'P', b'N', b'G'])
        || bytes.starts_with(&[0xFF, 0xD8, 0xFF])
        || bytes.starts_with(b"GIF8")
        || bytes.starts_with(&[0x1F, 0x8B])
    {
        return Err(ImportError::NotASpreadsheet);
    }
    parse_csv(bytes, opts)
}

/// Decodes the text of a CSV file: UTF-8 (with or without BOM) when the bytes are valid UTF-8,
/// UTF-16 when a BOM says so, else Windows-1252 — what Excel writes on German Windows.
fn decode(bytes: &[u8], choice: EncodingChoice) -> Result<(String, TextEncoding), ImportError> {
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        let (text, _) = encoding_rs::UTF_16LE.decode_without_bom_handling(rest);
        return Ok((text.into_owned(), TextEncoding::Utf16Le));
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let (text, _) = encoding_rs::UTF_16BE.decode_without_bom_handling(rest);
        return Ok((text.into_owned(), TextEncoding::Utf16Be));
    }
    let (body, bom) = match bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        Some(rest) => (rest, true),
        None => (bytes, false),
    };
    match choice {
        EncodingChoice::Windows1252 => {
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(body);
            Ok((text.into_owned(), TextEncoding::Windows1252))
        }
        EncodingChoice::Utf8 | EncodingChoice::Auto => match std::str::from_utf8(body) {
            Ok(s) => Ok((
                s.to_string(),
                if bom {
                    TextEncoding::Utf8Bom
                } else {
                    TextEncoding::Utf8
                },
            )),
            Err(e) if choice == EncodingChoice::Utf8 => {
                let line = body[..e.valid_up_to()]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count()
                    + 1;
                Err(ImportError::NotUtf8 { line })
            }
            Err(_) => {
                let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(body);
                Ok((text.into_owned(), TextEncoding::Windows1252))
            }
        },
    }
}

/// The delimiter of the header line: the most frequent of `;`, `,` and tab outside quotes
/// (German Excel writes `;`, which also wins a tie).
fn detect_delimiter(text: &str) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '\n' if !quoted => break,
            ';' if !quoted => counts[0] += 1,
            ',' if !quoted => counts[1] += 1,
            '\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let cands = [b';', b',', b'\t'];
    let mut best = 0;
    for i in 1..3 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    cands[best]
}

/// Undoes the apostrophe our exports put before values a spreadsheet would take for a formula.
fn unescape_formula_guard(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => s,
    }
}

fn parse_csv(bytes: &[u8], opts: &ParseOptions) -> Result<Sheet, ImportError> {
    let (text, encoding) = decode(bytes, opts.encoding)?;
    if text.contains('\0') {
        return Err(ImportError::NotASpreadsheet);
    }
    let delimiter = detect_delimiter(&text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut header: Option<(usize, Vec<String>)> = None;
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut line = 0usize;
    let mut widest = 0usize;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(_) => return Err(ImportError::BrokenCsv { line: line + 1 }),
        }
        line += 1;
        let cells: Vec<String> = record
            .iter()
            .map(|c| unescape_formula_guard(c).to_string())
            .collect();
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if cells.len() > MAX_COLUMNS {
            return Err(ImportError::TooManyColumns {
                columns: cells.len(),
            });
        }
        // Every row is padded to the widest (`finish`): bound rows times that width.
        widest = widest.max(cells.len());
        if (rows.len() + 2).saturating_mul(widest) > MAX_CELLS {
            return Err(ImportError::SheetLimit {
                row: line,
                column: cells.len().saturating_sub(1),
                limit: Limit::Cells,
            });
        }
        if header.is_none() {
            header = Some((line, cells));
            continue;
        }
        if rows.len() >= MAX_ROWS {
            return Err(ImportError::TooManyRows {
                rows: count_rows_from(&mut reader, rows.len() + 1),
            });
        }
        rows.push(SheetRow { line, cells });
    }
    let (header_line, headers) = header.ok_or(ImportError::Empty)?;
    Ok(finish(Sheet {
        format: Format::Csv,
        encoding: Some(encoding),
        delimiter: Some(delimiter),
        sheet_names: vec![],
        sheet_name: None,
        header_line,
        first_column: 0,
        headers,
        rows,
        formulas: vec![],
        error_cells: vec![],
    }))
}

/// Counts the remaining non-empty records, to tell how many rows an oversized file has.
fn count_rows_from(reader: &mut csv::Reader<&[u8]>, mut n: usize) -> usize {
    let mut record = csv::StringRecord::new();
    while let Ok(true) = reader.read_record(&mut record) {
        if record.iter().any(|c| !c.trim().is_empty()) {
            n += 1;
        }
    }
    n
}

/// Pads every row to the header's width and names unnamed header cells.
fn finish(mut sheet: Sheet) -> Sheet {
    let width = sheet
        .rows
        .iter()
        .map(|r| r.cells.len())
        .chain(std::iter::once(sheet.headers.len()))
        .max()
        .unwrap_or(0);
    sheet.headers.resize(width, String::new());
    for (i, h) in sheet.headers.iter_mut().enumerate() {
        let t = h.trim().to_string();
        *h = if t.is_empty() {
            column_letter(sheet.first_column + i)
        } else {
            t
        };
    }
    for r in &mut sheet.rows {
        r.cells.resize(width, String::new());
    }
    sheet
}

mod xlsx;
use xlsx::parse_xlsx_guarded;
pub use xlsx::{check_xlsx_package, PackageError, MIN_SHARED_STRING_BYTES};

/// What a column of the sheet becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Kind,
    Name,
    Description,
    Owner,
    Status,
    Vendor,
    Product,
    Version,
    OperatingModel,
    VendorCountry,
    SystemType,
    Count,
    Contract,
    Contact,
    Shared,
    DataPersonal,
    DataSpecial,
    DataClassified,
    NeedC,
    NeedI,
    NeedA,
    /// Names of other objects this one uses, separated by `;` or line breaks.
    DependsOn,
}

impl Field {
    pub const ALL: [Field; 22] = [
        Field::Kind,
        Field::Name,
        Field::Description,
        Field::Owner,
        Field::Status,
        Field::Vendor,
        Field::Product,
        Field::Version,
        Field::OperatingModel,
        Field::VendorCountry,
        Field::SystemType,
        Field::Count,
        Field::Contract,
        Field::Contact,
        Field::Shared,
        Field::DataPersonal,
        Field::DataSpecial,
        Field::DataClassified,
        Field::NeedC,
        Field::NeedI,
        Field::NeedA,
        Field::DependsOn,
    ];
    /// The name of the field of [`ObjectInput`] (and of its validation errors).
    pub fn key(self) -> &'static str {
        match self {
            Field::Kind => "kind",
            Field::Name => "name",
            Field::Description => "description",
            Field::Owner => "owner",
            Field::Status => "status",
            Field::Vendor => "vendor",
            Field::Product => "product",
            Field::Version => "version",
            Field::OperatingModel => "operating_model",
            Field::VendorCountry => "vendor_country",
            Field::SystemType => "system_type",
            Field::Count => "count",
            Field::Contract => "contract",
            Field::Contact => "contact",
            Field::Shared => "shared",
            Field::DataPersonal => "data_personal",
            Field::DataSpecial => "data_special",
            Field::DataClassified => "data_classified",
            Field::NeedC => "need_c",
            Field::NeedI => "need_i",
            Field::NeedA => "need_a",
            Field::DependsOn => "depends_on",
        }
    }
    pub fn parse(s: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.key() == s.trim())
    }
    pub fn label_key(self) -> &'static str {
        match self {
            Field::Kind => "imp.field.kind",
            Field::Name => "imp.field.name",
            Field::Description => "imp.field.description",
            Field::Owner => "imp.field.owner",
            Field::Status => "imp.field.status",
            Field::Vendor => "imp.field.vendor",
            Field::Product => "imp.field.product",
            Field::Version => "imp.field.version",
            Field::OperatingModel => "imp.field.operating_model",
            Field::VendorCountry => "imp.field.vendor_country",
            Field::SystemType => "imp.field.system_type",
            Field::Count => "imp.field.count",
            Field::Contract => "imp.field.contract",
            Field::Contact => "imp.field.contact",
            Field::Shared => "imp.field.shared",
            Field::DataPersonal => "imp.field.data_personal",
            Field::DataSpecial => "imp.field.data_special",
            Field::DataClassified => "imp.field.data_classified",
            Field::NeedC => "imp.field.need_c",
            Field::NeedI => "imp.field.need_i",
            Field::NeedA => "imp.field.need_a",
            Field::DependsOn => "imp.field.depends_on",
        }
    }
    /// The header our exports write (German, as the towns' own lists are).
    pub fn header(self) -> &'static str {
        match self {
            Field::Kind => "Objektart",
            Field::Name => "Name",
            Field::Description => "Beschreibung",
            Field::Owner => "Verantwortlich",
            Field::Status => "Status",
            Field::Vendor => "Hersteller",
            Field::Product => "Produkt",
            Field::Version => "Version",
            Field::OperatingModel => "Betriebsart",
            Field::VendorCountry => "Herstellerland",
            Field::SystemType => "Systemtyp",
            Field::Count => "Anzahl",
            Field::Contract => "Vertrag",
            Field::Contact => "Kontakt",
            Field::Shared => "Verbundweit",
            Field::DataPersonal => "Personenbezogene Daten",
            Field::DataSpecial => "Besondere Kategorien",
            Field::DataClassified => "Verschlusssachen",
            Field::NeedC => "Vertraulichkeit",
            Field::NeedI => "Integrität",
            Field::NeedA => "Verfügbarkeit",
            Field::DependsOn => "Abhängig von",
        }
    }
    /// Header spellings (normalised by [`normalise_header`]) that suggest this field.
    fn synonyms(self) -> &'static [&'static str] {
        match self {
            Field::Kind => &[
                "objektart",
                "art",
                "typ",
                "objekttyp",
                "kategorie",
                "kind",
                "type",
                "object type",
            ],
            Field::Name => &[
                "name",
                "bezeichnung",
                "objekt",
                "objektname",
                "titel",
                "anwendung",
                "fachverfahren",
                "prozess",
                "geschaftsprozess",
                "system",
                "title",
            ],
            Field::Description => &[
                "beschreibung",
                "erlauterung",
                "bemerkung",
                "bemerkungen",
                "kommentar",
                "notiz",
                "description",
                "comment",
                "notes",
            ],
            Field::Owner => &[
                "verantwortlich",
                "verantwortliche",
                "verantwortlicher",
                "zustandig",
                "zustandigkeit",
                "eigentumer",
                "fachverantwortlich",
                "owner",
                "responsible",
            ],
            Field::Status => &["status", "zustand", "state"],
            Field::Vendor => &["hersteller", "anbieter", "vendor", "manufacturer"],
            Field::Product => &["produkt", "software", "product"],
            Field::Version => &["version", "versionsstand", "release"],
            Field::OperatingModel => &[
                "betriebsart",
                "betriebsmodell",
                "betrieb",
                "hosting",
                "operating model",
            ],
            Field::VendorCountry => &[
                "herstellerland",
                "land",
                "land des herstellers",
                "sitz des herstellers",
                "vendor country",
                "country",
            ],
            Field::SystemType => &["systemtyp", "systemart", "gerateart", "system type"],
            Field::Count => &["anzahl", "stuckzahl", "menge", "count", "quantity"],
            Field::Contract => &["vertrag", "vertragsnummer", "vertrage", "contract"],
            Field::Contact => &["kontakt", "ansprechpartner", "ansprechperson", "contact"],
            Field::Shared => &["verbundweit", "gemeinsam", "gemeinsam genutzt", "shared"],
            Field::DataPersonal => &[
                "personenbezogene daten",
                "personenbezogen",
                "pbd",
                "personal data",
            ],
            Field::DataSpecial => &[
                "besondere kategorien",
                "besondere kategorien personenbezogener daten",
                "art 9",
                "art 9 dsgvo",
                "special categories",
            ],
            Field::DataClassified => &[
                "verschlusssachen",
                "verschlusssache",
                "vs nfd",
                "vsnfd",
                "classified",
                "classified data",
            ],
            Field::NeedC => &[
                "vertraulichkeit",
                "schutzbedarf vertraulichkeit",
                "sb vertraulichkeit",
                "c",
                "confidentiality",
            ],
            Field::NeedI => &[
                "integritat",
                "schutzbedarf integritat",
                "sb integritat",
                "i",
                "integrity",
            ],
            Field::NeedA => &[
                "verfugbarkeit",
                "schutzbedarf verfugbarkeit",
                "sb verfugbarkeit",
                "a",
                "availability",
            ],
            Field::DependsOn => &[
                "abhangig von",
                "abhangigkeiten",
                "hangt ab von",
                "nutzt",
                "benotigt",
                "lauft auf",
                "depends on",
                "uses",
                "dependencies",
            ],
        }
    }
}

/// Lower case, umlauts and ß folded, punctuation and the marks of required columns removed,
/// whitespace collapsed: "Integrität*" and "integritaet" both become "integritat".
pub fn normalise_header(h: &str) -> String {
    let lower = h.trim().to_lowercase();
    let folded = lower
        .replace("ae", "a")
        .replace("oe", "o")
        .replace("ue", "u")
        .replace('ä', "a")
        .replace('ö', "o")
        .replace('ü', "u")
        .replace('ß', "ss");
    let cleaned: String = folded
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Which field each column becomes, and the kind for the whole file when no column gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    /// One entry per column of the sheet; `None` leaves the column out.
    pub columns: Vec<Option<Field>>,
    /// Every row is of this kind (a sheet of applications); a mapped kind column is then ignored.
    pub fixed_kind: Option<ObjectKind>,
}

impl Mapping {
    /// The first column mapped to `f`.
    pub fn column_of(&self, f: Field) -> Option<usize> {
        self.columns.iter().position(|c| *c == Some(f))
    }
}

/// Proposes a mapping from the header names (German and English spellings; the headers of our
/// own exports map back exactly). Each field is given to at most one column, the first.
pub fn suggest(headers: &[String], fixed_kind: Option<ObjectKind>) -> Mapping {
    let mut used = Vec::new();
    let columns = headers
        .iter()
        .map(|h| {
            let n = normalise_header(h);
            let f = Field::ALL.into_iter().find(|f| {
                !used.contains(f)
                    && (f.synonyms().contains(&n.as_str()) || normalise_header(f.header()) == n)
            });
            if let Some(f) = f {
                used.push(f);
            }
            f
        })
        .collect();
    Mapping {
        columns,
        fixed_kind,
    }
}

/// Accepts the kinds as spreadsheets name them, German or English, and our own tokens.
pub fn parse_kind(s: &str) -> Option<ObjectKind> {
    if let Some(k) = ObjectKind::parse(&s.to_lowercase()) {
        return Some(k);
    }
    let n = normalise_header(s);
    let k = match n.as_str() {
        "geschaftsprozess" | "prozess" | "fachaufgabe" | "dienstleistung" | "business process" => {
            ObjectKind::Process
        }
        "anwendung" | "fachverfahren" | "software" | "app" | "applikation" => {
            ObjectKind::Application
        }
        "it system" | "itsystem" | "system" | "server" | "gerat" | "it system client" => {
            ObjectKind::System
        }
        "standort" | "raum" | "gebaude" | "standort raum" | "liegenschaft" | "room"
        | "building" => ObjectKind::Location,
        "kommunikationsverbindung"
        | "verbindung"
        | "leitung"
        | "netzverbindung"
        | "link"
        | "communication link" => ObjectKind::Connection,
        "dienstleister" | "it dienstleister" | "anbieter" | "rechenzentrum"
        | "service provider" => ObjectKind::Provider,
        _ => return None,
    };
    Some(k)
}

/// Splits a "depends on" cell: by line breaks when it has any (our exports write one name per
/// line, so names may contain `;`), else by `;`.
pub fn split_names(cell: &str) -> Vec<String> {
    let parts: Vec<&str> = if cell.contains('\n') {
        cell.split('\n').collect()
    } else {
        cell.split(';').collect()
    };
    parts
        .into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// An error at a row and column of the file (row 0 and no column: the file or the mapping).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellError {
    /// Row number as the spreadsheet shows it; 0 for the whole file.
    pub row: usize,
    /// Column index into the sheet's headers.
    pub column: Option<usize>,
    /// The spreadsheet letter of the column ("C").
    pub column_letter: String,
    /// The header of the column.
    pub column_name: String,
    /// The i18n key of the message (`imp.err.*` or a validation key such as `err.required`).
    pub message_key: &'static str,
    /// The cell's value (or the formula, or the name that was not found).
    pub value: String,
    /// The other row of a duplicate.
    pub other_row: Option<usize>,
}

/// Where a dependency of a row points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Another row of the file (index into [`Preview::rows`]).
    Row(usize),
    /// An object already stored (of the town, or a shared provider of its Verbund).
    Existing(stadtmauer_core::ObjectId),
}

/// What the commit will do with a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Create,
    /// Update this stored object of the town (same kind and name); `before` is its data now.
    Update {
        id: stadtmauer_core::ObjectId,
        before: Box<ObjectData>,
    },
}

/// One row of the file, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct RowResult {
    pub line: usize,
    pub kind: Option<ObjectKind>,
    pub name: String,
    /// The validated object (`None` when the row has errors).
    pub data: Option<ObjectData>,
    pub action: Action,
    pub depends_on: Vec<Target>,
    /// The names as written, for the preview.
    pub depends_on_names: Vec<String>,
    pub has_errors: bool,
}

/// The dry run: everything the commit would do, and everything that stops it.
#[derive(Debug, Clone, Default)]
pub struct Preview {
    pub rows: Vec<RowResult>,
    pub errors: Vec<CellError>,
    pub creates: usize,
    pub updates: usize,
    pub links: usize,
}

impl Preview {
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty() && !self.rows.is_empty()
    }
}

fn err(
    sheet: &Sheet,
    row: usize,
    column: Option<usize>,
    key: &'static str,
    value: &str,
) -> CellError {
    CellError {
        row,
        column,
        column_letter: column.map(|c| sheet.column_letter(c)).unwrap_or_default(),
        column_name: column
            .and_then(|c| sheet.headers.get(c).cloned())
            .unwrap_or_default(),
        message_key: key,
        value: value.chars().take(200).collect(),
        other_row: None,
    }
}

/// The text form of stored data, so an update starts from what is stored and the file's columns
/// replace only what they map.
fn input_of(d: &ObjectData) -> ObjectInput {
    let yes = |b: bool| Some(if b { "ja" } else { "nein" }.to_string());
    ObjectInput {
        kind: d.kind.as_str().to_string(),
        name: d.name.clone(),
        description: d.description.clone(),
        owner: d.owner.clone(),
        status: Some(d.status.as_str().to_string()),
        data_personal: yes(d.data_personal),
        data_special: yes(d.data_special),
        data_classified: yes(d.data_classified),
        vendor: d.vendor.clone(),
        product: d.product.clone(),
        version: d.version.clone(),
        operating_model: d.operating_model.map(|m| m.as_str().to_string()),
        vendor_country: d.vendor_country.clone(),
        system_type: d.system_type.clone(),
        count: d.count.map(|c| c.to_string()),
        contract: d.contract.clone(),
        contact: d.contact.clone(),
        shared: yes(d.shared),
        need_c: d.own.map(|p| p.c.as_str().to_string()),
        need_i: d.own.map(|p| p.i.as_str().to_string()),
        need_a: d.own.map(|p| p.a.as_str().to_string()),
    }
}

fn set(input: &mut ObjectInput, f: Field, v: &str) {
    let s = Some(v.to_string());
    match f {
        Field::Kind => input.kind = v.to_string(),
        Field::Name => input.name = v.to_string(),
        Field::Description => input.description = s,
        Field::Owner => input.owner = s,
        Field::Status => input.status = s,
        Field::Vendor => input.vendor = s,
        Field::Product => input.product = s,
        Field::Version => input.version = s,
        Field::OperatingModel => input.operating_model = s,
        Field::VendorCountry => input.vendor_country = s,
        Field::SystemType => input.system_type = s,
        Field::Count => input.count = s,
        Field::Contract => input.contract = s,
        Field::Contact => input.contact = s,
        Field::Shared => input.shared = s,
        Field::DataPersonal => input.data_personal = s,
        Field::DataSpecial => input.data_special = s,
        Field::DataClassified => input.data_classified = s,
        Field::NeedC => input.need_c = s,
        Field::NeedI => input.need_i = s,
        Field::NeedA => input.need_a = s,
        Field::DependsOn => {}
    }
}

/// Validates every row of `sheet` under `mapping` against the stored objects of town `org`
/// (`existing`: the town's objects and the shared providers of its Verbund). Nothing is written;
/// the result says what a commit would do and lists every error with row and column.
pub fn validate(
    sheet: &Sheet,
    mapping: &Mapping,
    org: stadtmauer_core::OrgId,
    existing: &[Object],
) -> Preview {
    let mut p = Preview::default();
    let width = sheet.headers.len();
    let col_of = |f: Field| mapping.column_of(f).filter(|c| *c < width);
    // The mapping itself.
    let mut seen: HashMap<Field, usize> = HashMap::new();
    for (i, f) in mapping.columns.iter().enumerate().take(width) {
        if let Some(f) = f {
            if *f == Field::Kind && mapping.fixed_kind.is_some() {
                continue;
            }
            if seen.insert(*f, i).is_some() {
                p.errors.push(err(
                    sheet,
                    0,
                    Some(i),
                    "imp.err.mapped_twice",
                    f.label_key(),
                ));
            }
        }
    }
    if col_of(Field::Name).is_none() {
        p.errors.push(err(
            sheet,
            0,
            None,
            "imp.err.missing_name",
            Field::Name.header(),
        ));
    }
    if mapping.fixed_kind.is_none() && col_of(Field::Kind).is_none() {
        p.errors.push(err(
            sheet,
            0,
            None,
            "imp.err.missing_kind",
            Field::Kind.header(),
        ));
    }
    if !p.errors.is_empty() {
        return p;
    }
    let mapped: Vec<usize> = (0..width)
        .filter(|i| {
            mapping
                .columns
                .get(*i)
                .copied()
                .flatten()
                .is_some_and(|f| !(f == Field::Kind && mapping.fixed_kind.is_some()))
        })
        .collect();
    // Formulas and error values in imported columns: never evaluated, never taken over.
    for f in &sheet.formulas {
        let col = f.column.checked_sub(sheet.first_column);
        if let Some(c) = col.filter(|c| mapped.contains(c)) {
            if f.row >= sheet.header_line {
                p.errors
                    .push(err(sheet, f.row, Some(c), "imp.err.formula", &f.formula));
            }
        }
    }
    for f in &sheet.error_cells {
        let col = f.column.checked_sub(sheet.first_column);
        if let Some(c) = col.filter(|c| mapped.contains(c)) {
            p.errors
                .push(err(sheet, f.row, Some(c), "imp.err.cell_error", &f.formula));
        }
    }
    let ours: HashMap<(ObjectKind, String), &Object> = existing
        .iter()
        .filter(|o| o.organisation_id == org)
        .map(|o| ((o.data.kind, o.data.name.to_lowercase()), o))
        .collect();
    let mut first_seen: HashMap<(ObjectKind, String), usize> = HashMap::new();
    let mut deps_raw: Vec<(usize, Vec<String>)> = Vec::new();
    for r in &sheet.rows {
        let mut row_errors = Vec::new();
        for (c, v) in r.cells.iter().enumerate() {
            if mapped.contains(&c) && v.chars().count() > MAX_CELL_CHARS {
                row_errors.push(err(sheet, r.line, Some(c), "err.too_long", v));
            }
        }
        let cell = |f: Field| -> Option<(usize, &str)> {
            col_of(f).and_then(|c| r.cells.get(c).map(|v| (c, v.as_str())))
        };
        let name = cell(Field::Name).map(|(_, v)| v.trim()).unwrap_or("");
        let kind = match mapping.fixed_kind {
            Some(k) => Some(k),
            None => match cell(Field::Kind) {
                Some((c, v)) => {
                    let k = parse_kind(v);
                    if k.is_none() {
                        let key = if v.trim().is_empty() {
                            "err.required"
                        } else {
                            "imp.err.kind_unknown"
                        };
                        row_errors.push(err(sheet, r.line, Some(c), key, v));
                    }
                    k
                }
                None => None,
            },
        };
        let existing_obj = kind.and_then(|k| ours.get(&(k, name.to_lowercase())).copied());
        let mut input = match existing_obj {
            Some(o) => input_of(&o.data),
            None => ObjectInput::default(),
        };
        for (c, f) in mapping.columns.iter().enumerate().take(width) {
            if let (Some(f), Some(v)) = (f, r.cells.get(c)) {
                if *f == Field::Kind {
                    continue;
                }
                if existing_obj.is_some() && v.trim().is_empty() && *f != Field::Name {
                    // An empty cell keeps what is stored (a partial list does not erase data).
                    continue;
                }
                set(&mut input, *f, v.trim());
            }
        }
        input.kind = kind.map(|k| k.as_str().to_string()).unwrap_or_default();
        let data = match input.validate() {
            Ok(d) => Some(d),
            Err(DomainError::Invalid(fe)) | Err(DomainError::Conflict(fe)) => {
                for e in fe.0 {
                    if e.field == "kind" && kind.is_none() {
                        continue; // already reported with its cell
                    }
                    let column = Field::parse(e.field).and_then(col_of).or_else(|| {
                        // "need only on processes" is filed under need_c; point at whichever
                        // requirement column the sheet has.
                        e.field
                            .starts_with("need_")
                            .then(|| {
                                [Field::NeedC, Field::NeedI, Field::NeedA]
                                    .into_iter()
                                    .find_map(|f| {
                                        col_of(f).filter(|c| {
                                            r.cells.get(*c).is_some_and(|v| !v.trim().is_empty())
                                        })
                                    })
                            })
                            .flatten()
                    });
                    let value = column
                        .and_then(|c| r.cells.get(c).cloned())
                        .unwrap_or_default();
                    row_errors.push(err(sheet, r.line, column, e.message, &value));
                }
                None
            }
            Err(_) => None,
        };
        if let (Some(k), false) = (kind, name.is_empty()) {
            let key = (k, name.to_lowercase());
            if let Some(first) = first_seen.get(&key) {
                let mut e = err(
                    sheet,
                    r.line,
                    col_of(Field::Name),
                    "imp.err.duplicate",
                    name,
                );
                e.other_row = Some(*first);
                row_errors.push(e);
            } else {
                first_seen.insert(key, r.line);
            }
        }
        if let (Some(d), Some(o)) = (&data, existing_obj) {
            if d.shared != o.data.shared {
                row_errors.push(err(
                    sheet,
                    r.line,
                    col_of(Field::Shared),
                    "imp.err.shared_fixed",
                    if d.shared { "ja" } else { "nein" },
                ));
            }
        }
        let deps = cell(Field::DependsOn)
            .map(|(_, v)| split_names(v))
            .unwrap_or_default();
        deps_raw.push((p.rows.len(), deps.clone()));
        let has_errors = !row_errors.is_empty();
        p.errors.extend(row_errors);
        p.rows.push(RowResult {
            line: r.line,
            kind,
            name: name.to_string(),
            data: if has_errors { None } else { data },
            action: match existing_obj {
                Some(o) => Action::Update {
                    id: o.id,
                    before: Box::new(o.data.clone()),
                },
                None => Action::Create,
            },
            depends_on: vec![],
            depends_on_names: deps,
            has_errors,
        });
    }
    // Dependencies: by name among the rows of the file and the stored objects; the kinds must fit
    // ("a process uses an application"); a name of two fitting objects is ambiguous.
    let mut by_name: HashMap<String, Vec<(ObjectKind, Target)>> = HashMap::new();
    for (i, r) in p.rows.iter().enumerate() {
        if let Some(k) = r.kind {
            by_name
                .entry(r.name.to_lowercase())
                .or_default()
                .push((k, Target::Row(i)));
        }
    }
    for o in existing {
        let in_file = by_name
            .get(&o.data.name.to_lowercase())
            .is_some_and(|v| v.iter().any(|(k, _)| *k == o.data.kind))
            && o.organisation_id == org;
        if !in_file {
            by_name
                .entry(o.data.name.to_lowercase())
                .or_default()
                .push((o.data.kind, Target::Existing(o.id)));
        }
    }
    let dep_col = col_of(Field::DependsOn);
    for (i, names) in deps_raw {
        let Some(from_kind) = p.rows.get(i).and_then(|r| r.kind) else {
            continue;
        };
        let line = p.rows.get(i).map(|r| r.line).unwrap_or(0);
        let mut targets = Vec::new();
        let mut row_errors = Vec::new();
        for n in names {
            let cands = by_name.get(&n.to_lowercase()).cloned().unwrap_or_default();
            let fitting: Vec<Target> = cands
                .iter()
                .filter(|(k, _)| from_kind.may_depend_on(*k))
                .map(|(_, t)| *t)
                .filter(|t| *t != Target::Row(i))
                .collect();
            match fitting.as_slice() {
                [t] => {
                    if !targets.contains(t) {
                        targets.push(*t);
                    }
                }
                [] if cands.iter().any(|(_, t)| *t == Target::Row(i)) && cands.len() == 1 => {
                    row_errors.push(err(sheet, line, dep_col, "err.link_self", &n));
                }
                [] if cands.is_empty() => {
                    row_errors.push(err(sheet, line, dep_col, "imp.err.dep_unknown", &n));
                }
                [] => row_errors.push(err(sheet, line, dep_col, "imp.err.dep_kind", &n)),
                _ => row_errors.push(err(sheet, line, dep_col, "imp.err.dep_ambiguous", &n)),
            }
        }
        if let Some(r) = p.rows.get_mut(i) {
            if !row_errors.is_empty() {
                r.has_errors = true;
                r.data = None;
            }
            p.links += targets.len();
            r.depends_on = targets;
        }
        p.errors.extend(row_errors);
    }
    p.errors.sort_by_key(|e| (e.row, e.column));
    p.creates = p.rows.iter().filter(|r| r.action == Action::Create).count();
    p.updates = p.rows.len() - p.creates;
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(2), "C");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
        assert_eq!(xlsx::excel_date(45_658.0), "2025-01-01");
        assert_eq!(xlsx::excel_date(25_569.5), "1970-01-01");
    }

    #[test]
    fn headers_map_in_both_languages() {
        let h: Vec<String> = [
            "Bezeichnung",
            "Typ",
            "Integrität*",
            "Verfuegbarkeit",
            "abhängig von",
            "Foo",
        ]
        .map(String::from)
        .to_vec();
        let m = suggest(&h, None);
        assert_eq!(
            m.columns,
            vec![
                Some(Field::Name),
                Some(Field::Kind),
                Some(Field::NeedI),
                Some(Field::NeedA),
                Some(Field::DependsOn),
                None
            ]
        );
        for f in Field::ALL {
            let m = suggest(&[f.header().to_string()], None);
            assert_eq!(m.columns, vec![Some(f)], "{}", f.header());
        }
    }

    #[test]
    fn delimiters_and_names() {
        assert_eq!(detect_delimiter("a;b;c\n1,2"), b';');
        assert_eq!(detect_delimiter("a,b,c\n"), b',');
        assert_eq!(detect_delimiter("a\tb\tc"), b'\t');
        assert_eq!(detect_delimiter("\"a;b\",c,d"), b',');
        assert_eq!(split_names("A; B;;C "), vec!["A", "B", "C"]);
        assert_eq!(split_names("A;1\nB"), vec!["A;1", "B"]);
        assert_eq!(parse_kind("Fachverfahren"), Some(ObjectKind::Application));
        assert_eq!(parse_kind("IT-System"), Some(ObjectKind::System));
        assert_eq!(parse_kind("Geschäftsprozess"), Some(ObjectKind::Process));
        assert_eq!(parse_kind("Dienstleister"), Some(ObjectKind::Provider));
        assert_eq!(parse_kind("Sonstiges"), None);
        assert_eq!(unescape_formula_guard("'=1+1"), "=1+1");
        assert_eq!(unescape_formula_guard("'Text"), "'Text");
    }
}
