//! PDF documents (the Notfallhandbuch, the council report) rendered in-process with
//! [typst](https://typst.app) as a library: no subprocess, no network, no system fonts.
//!
//! [`render`] compiles one typst main source together with virtual files the caller hands over
//! (`data.json`, SVG charts, further `.typ` modules) and returns the PDF bytes.
//!
//! # Passing user data: as JSON, not as markup
//!
//! Put everything a user typed into `data.json` and read it in the template with
//! `#let data = json("data.json")`; a string from JSON is placed into the document as text and
//! never parsed as markup, so no escaping is needed and nothing a user types can run code, open a
//! file or change the layout. Templates stay constant strings (`include_str!`). [`escape`] exists
//! for the rare case where text must be spliced into markup; [`document_meta`] builds the
//! `#set document(..)` preamble with properly quoted strings.
//!
//! ```
//! # fn main() -> Result<(), stadtmauer_pdf::PdfError> {
//! // The template is a constant; the user's text arrives as JSON and stays text.
//! let template = "#let data = json(\"data.json\")\n= #data.title\n#data.note\n";
//! let data = br##"{"title": "Notfallhandbuch", "note": "#panic() *bleibt* Text"}"##.to_vec();
//! let pdf = stadtmauer_pdf::render(
//!     template,
//!     &[("data.json", data)],
//!     time::macros::date!(2026 - 03 - 15),
//! )?;
//! assert!(pdf.starts_with(b"%PDF-"));
//! # Ok(())
//! # }
//! ```
//!
//! # Determinism
//!
//! The same inputs and `today` give byte-identical PDFs: `datetime.today()` returns `today`, the
//! PDF creation date is `today` (date only, UTC), and the PDF document identifier is derived from
//! a SHA-256 of the main source and the inputs.
//!
//! # Fonts
//!
//! The fonts come from the `typst-assets` crate and are compiled into the binary (about 10 MB):
//! Libertinus Serif (typst's default text font), New Computer Modern (text and math) and
//! DejaVu Sans Mono (`raw`), under the SIL Open Font Licence 1.1, the GUST Font Licence (New
//! Computer Modern) and the Bitstream Vera licence (DejaVu); [`THIRD_PARTY_NOTICE`] holds the
//! licence texts. A template that names another family
//! gets a warning and a fallback font; [`font_families`] lists what is there.
//!
//! # Errors
//!
//! [`PdfError::Compile`] carries typst's diagnostics for developers: message, file, line and
//! column, and the offending snippet of template source. Snippets are taken only from `.typ`
//! files (templates), never from data files, so user data does not end up in logs — as long as
//! the template itself does not put user data into error messages (`panic(data.x)`).

mod escape;
mod meta;
mod world;

use std::fmt;

use sha2::{Digest, Sha256};
use typst::diag::SourceDiagnostic;
use typst::foundations::{Datetime, Smart};
use typst::WorldExt;
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, Timestamp};

pub use escape::escape;
pub use meta::{document_meta, string_literal, DocumentMeta};

use world::{file_id, MemoryWorld, MAIN_PATH};

/// Things that can go wrong while turning a template into a PDF.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// An input file name is no valid virtual path (it contains a backslash or climbs above `/`).
    #[error("input file name {name:?} is not a valid path: {reason}")]
    InvalidInputName { name: String, reason: String },
    /// Two inputs resolve to the same path, or an input would replace the main source.
    #[error(
        "input file name {name:?} is given twice or collides with the main source {MAIN_PATH}"
    )]
    DuplicateInput { name: String },
    /// `today` lies outside the range typst's dates can represent.
    #[error("date {0} cannot be represented as a typst date")]
    InvalidDate(time::Date),
    /// The template did not compile (syntax error, missing file, type error, package import).
    #[error("typst compilation failed: {}", DiagnosticList(.0))]
    Compile(Vec<Diagnostic>),
    /// The document compiled but could not be written as PDF.
    #[error("PDF export failed: {}", DiagnosticList(.0))]
    Export(Vec<Diagnostic>),
}

/// One typst error or warning, reduced to what a developer needs to fix the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Typst's message, e.g. `unknown variable: titel`.
    pub message: String,
    /// The virtual file the error points into (`/main.typ`, `/data.json`), if any.
    pub file: Option<String>,
    /// 1-based line and column in that file, for typst sources only.
    pub line_column: Option<(usize, usize)>,
    /// The template source the error points at (at most [`Diagnostic::SNIPPET_MAX`] chars);
    /// never taken from data files.
    pub snippet: Option<String>,
    /// Typst's hints (`did you mean ..`).
    pub hints: Vec<String>,
}

impl Diagnostic {
    /// Longest snippet kept, in characters, so one error cannot flood a log line.
    pub const SNIPPET_MAX: usize = 120;
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}")?;
            if let Some((line, column)) = self.line_column {
                write!(f, ":{line}:{column}")?;
            }
            write!(f, ": ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(snippet) = &self.snippet {
            write!(f, " (at `{snippet}`)")?;
        }
        for hint in &self.hints {
            write!(f, "; hint: {hint}")?;
        }
        Ok(())
    }
}

/// Displays diagnostics separated by " | " for the one-line error message.
struct DiagnosticList<'a>(&'a [Diagnostic]);

impl fmt::Display for DiagnosticList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, " | ")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// Compiles the typst document `main_source` to PDF.
///
/// `inputs` are virtual files next to the main source, readable from typst by their name
/// (`json("data.json")`, `image("chart1.svg")`, `#import "common.typ": *`); names are relative to
/// the project root (`"data.json"` and `"/data.json"` are the same file). `today` is what
/// `datetime.today()` returns and the PDF's creation date.
///
/// Rendering is synchronous and CPU-bound (about 0.1–0.2 s for 20 pages in a release build):
/// call it from `tokio::task::spawn_blocking` in async code. It is safe to call from several
/// threads at once.
pub fn render(
    main_source: &str,
    inputs: &[(&str, Vec<u8>)],
    today: time::Date,
) -> Result<Vec<u8>, PdfError> {
    render_with_warnings(main_source, inputs, today).map(|(pdf, _)| pdf)
}

/// Like [`render`], and also returns typst's warnings (unknown font family, a layout that did not
/// converge, ...), for tests that want a template to compile cleanly.
pub fn render_with_warnings(
    main_source: &str,
    inputs: &[(&str, Vec<u8>)],
    today: time::Date,
) -> Result<(Vec<u8>, Vec<Diagnostic>), PdfError> {
    let date = typst_date(today)?;
    let main = file_id(MAIN_PATH).map_err(|e| PdfError::InvalidInputName {
        name: MAIN_PATH.to_owned(),
        reason: e.to_string(),
    })?;
    let mut world = MemoryWorld::new(main, main_source, date);
    for (name, data) in inputs {
        let id = file_id(name).map_err(|e| PdfError::InvalidInputName {
            name: (*name).to_owned(),
            reason: e.to_string(),
        })?;
        if !world.insert(id, data.clone()) {
            return Err(PdfError::DuplicateInput {
                name: (*name).to_owned(),
            });
        }
    }

    let result = compile_and_export(&world, ident(main_source, inputs), date);
    // Typst memoises across compilations; without eviction a long-running server would keep
    // every document it ever rendered in its caches. Entries unused for a few renders go, on
    // success and failure alike.
    typst::comemo::evict(4);
    result
}

fn compile_and_export(
    world: &MemoryWorld,
    ident: String,
    date: Datetime,
) -> Result<(Vec<u8>, Vec<Diagnostic>), PdfError> {
    let warned = typst::compile::<PagedDocument>(world);
    let warnings = convert(world, &warned.warnings);
    let document = warned
        .output
        .map_err(|errors| PdfError::Compile(convert(world, &errors)))?;

    let options = PdfOptions {
        ident: Smart::Custom(ident),
        creator: Smart::Custom(Some("Stadtmauer".to_owned())),
        timestamp: Some(Timestamp::new_utc(date)),
        ..PdfOptions::default()
    };
    let pdf = typst_pdf::pdf(&document, &options)
        .map_err(|errors| PdfError::Export(convert(world, &errors)))?;
    Ok((pdf, warnings))
}

fn typst_date(today: time::Date) -> Result<Datetime, PdfError> {
    Datetime::from_ymd(today.year(), u8::from(today.month()), today.day())
        .ok_or(PdfError::InvalidDate(today))
}

/// A stable document identifier: the same inputs give the same PDF `/ID`.
fn ident(main_source: &str, inputs: &[(&str, Vec<u8>)]) -> String {
    let mut hash = Sha256::new();
    // Lengths before contents, so ("ab", "c") and ("a", "bc") hash differently.
    hash.update((main_source.len() as u64).to_le_bytes());
    hash.update(main_source.as_bytes());
    for (name, data) in inputs {
        hash.update((name.len() as u64).to_le_bytes());
        hash.update(name.as_bytes());
        hash.update((data.len() as u64).to_le_bytes());
        hash.update(data);
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn convert(world: &MemoryWorld, diagnostics: &[SourceDiagnostic]) -> Vec<Diagnostic> {
    diagnostics.iter().map(|d| diagnostic(world, d)).collect()
}

fn diagnostic(world: &MemoryWorld, d: &SourceDiagnostic) -> Diagnostic {
    use typst::World;

    let id = d.span.id();
    let file = id.map(|id| id.get().vpath().get_with_slash().to_owned());
    // Only typst sources give line, column and snippet: data files hold user data.
    let source = id.and_then(|id| world.source(id).ok());
    let range = source.as_ref().and_then(|_| world.range(d.span));
    let (line_column, snippet) = match (&source, range) {
        (Some(source), Some(range)) => {
            let lines = source.lines();
            let line_column = lines
                .byte_to_line_column(range.start)
                .map(|(l, c)| (l + 1, c + 1));
            let snippet = source.text().get(range).map(|text| {
                let mut s: String = text.chars().take(Diagnostic::SNIPPET_MAX).collect();
                if text.chars().count() > Diagnostic::SNIPPET_MAX {
                    s.push('…');
                }
                s
            });
            (line_column, snippet)
        }
        _ => (None, None),
    };
    Diagnostic {
        message: d.message.to_string(),
        file,
        line_column,
        snippet,
        hints: d.hints.iter().map(|h| h.v.to_string()).collect(),
    }
}

/// Copyright notices and licences of the fonts and other assets typst embeds into the binary;
/// the SIL OFL asks that a distribution carrying the fonts includes it. See `FONTS.md`.
pub const THIRD_PARTY_NOTICE: &str = include_str!("../FONTS-NOTICE");

/// The font families compiled into the binary; a template may name any of these.
pub fn font_families() -> Vec<String> {
    world::font_families()
}
