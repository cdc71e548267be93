//! Evidence (Nachweise) behind an answer, and the upload policy for evidence files.
//!
//! An uploaded file is checked by its first bytes, not by the name or the type the browser
//! declares: both come from the client and are trivially wrong or hostile. Only document and image
//! types an auditor needs are accepted; anything a browser could execute (HTML, SVG, scripts) and
//! executables are refused even when renamed.

use serde::{Deserialize, Serialize};
use time::Date;

/// What kind of record an evidence reference points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    PentestReport,
    RestoreTest,
    Exercise,
    Training,
    Incident,
    Measure,
    Document,
}

impl RecordKind {
    pub const ALL: [RecordKind; 7] = [
        RecordKind::PentestReport,
        RecordKind::RestoreTest,
        RecordKind::Exercise,
        RecordKind::Training,
        RecordKind::Incident,
        RecordKind::Measure,
        RecordKind::Document,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::PentestReport => "pentest_report",
            RecordKind::RestoreTest => "restore_test",
            RecordKind::Exercise => "exercise",
            RecordKind::Training => "training",
            RecordKind::Incident => "incident",
            RecordKind::Measure => "measure",
            RecordKind::Document => "document",
        }
    }
    pub fn parse(s: &str) -> Option<RecordKind> {
        let s = s.trim().to_lowercase().replace(['-', ' '], "_");
        RecordKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
    pub fn label_key(self) -> &'static str {
        match self {
            RecordKind::PentestReport => "asm.record.pentest_report",
            RecordKind::RestoreTest => "asm.record.restore_test",
            RecordKind::Exercise => "asm.record.exercise",
            RecordKind::Training => "asm.record.training",
            RecordKind::Incident => "asm.record.incident",
            RecordKind::Measure => "asm.record.measure",
            RecordKind::Document => "asm.record.document",
        }
    }
}

/// One piece of evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    /// An uploaded file; the store keeps the bytes under their SHA-256.
    File {
        /// Lower-case hex, 64 characters.
        sha256: String,
        size: u64,
        media_type: String,
        name: String,
    },
    /// A link to a document elsewhere (http/https only).
    Link { url: String },
    /// Another record of this installation, e.g. a pentest report or a backup restore test.
    Record { record: RecordKind, id: i64 },
}

/// Evidence with its validity: a pentest report or a restore test proves something only for a while.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EvidenceItem {
    #[serde(flatten)]
    pub evidence: Evidence,
    /// The last day this evidence counts; `None` = does not expire by itself.
    #[serde(with = "crate::date::iso_opt", default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_until: Option<Date>,
}

impl EvidenceItem {
    pub fn is_valid_on(&self, at: Date) -> bool {
        self.valid_until.is_none_or(|u| at <= u)
    }
}

/// Is `url` an absolute http(s) URL with a host and no whitespace or control characters?
/// Other schemes (`javascript:`, `data:`, `file:`) would run or read something when clicked.
pub fn is_web_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    let Some(rest) = rest else { return false };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or("");
    url.len() <= 2000
        && !host.is_empty()
        && !host.starts_with(':')
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The file types accepted as evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileType {
    Pdf,
    Png,
    Jpeg,
    Txt,
    Csv,
    Xlsx,
    Docx,
    Odt,
}

impl FileType {
    pub fn media_type(self) -> &'static str {
        match self {
            FileType::Pdf => "application/pdf",
            FileType::Png => "image/png",
            FileType::Jpeg => "image/jpeg",
            FileType::Txt => "text/plain",
            FileType::Csv => "text/csv",
            FileType::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileType::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileType::Odt => "application/vnd.oasis.opendocument.text",
        }
    }
    fn from_extension(ext: &str) -> Option<FileType> {
        match ext {
            "pdf" => Some(FileType::Pdf),
            "png" => Some(FileType::Png),
            "jpg" | "jpeg" => Some(FileType::Jpeg),
            "txt" | "log" => Some(FileType::Txt),
            "csv" => Some(FileType::Csv),
            "xlsx" => Some(FileType::Xlsx),
            "docx" => Some(FileType::Docx),
            "odt" => Some(FileType::Odt),
            _ => None,
        }
    }
}

/// Why an upload was refused. `key()` is the i18n message key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("the file is empty")]
    Empty,
    #[error("the file has {size} bytes, more than the allowed {max}")]
    TooLarge { size: u64, max: u64 },
    #[error("the file name is empty, too long, or contains a path or control characters")]
    BadName,
    #[error("file name extension {0:?} is not an accepted evidence type")]
    ExtensionNotAllowed(String),
    #[error("the content is {0:?}, which can run code in a browser or on a computer")]
    Dangerous(Dangerous),
    #[error("the content is not one of the accepted evidence types")]
    UnknownContent,
    #[error("the content is {detected:?} but the name ends in .{extension}")]
    ExtensionMismatch {
        extension: String,
        detected: FileType,
    },
    #[error("the declared media type {declared:?} does not match the content {detected:?}")]
    DeclaredTypeMismatch {
        declared: String,
        detected: FileType,
    },
}

/// Content refused because it could execute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dangerous {
    Html,
    Svg,
    Script,
    Executable,
}

impl Rejection {
    pub fn key(&self) -> &'static str {
        match self {
            Rejection::Empty => "err.evidence.empty",
            Rejection::TooLarge { .. } => "err.evidence.too_large",
            Rejection::BadName => "err.evidence.bad_name",
            Rejection::ExtensionNotAllowed(_) => "err.evidence.type_not_allowed",
            Rejection::Dangerous(_) => "err.evidence.dangerous",
            Rejection::UnknownContent => "err.evidence.type_not_allowed",
            Rejection::ExtensionMismatch { .. } | Rejection::DeclaredTypeMismatch { .. } => {
                "err.evidence.type_mismatch"
            }
        }
    }
}

/// The rules for evidence uploads. `head` must hold at least the first [`EvidencePolicy::HEAD_LEN`]
/// bytes (or the whole file if it is shorter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvidencePolicy {
    pub max_size: u64,
}

impl Default for EvidencePolicy {
    fn default() -> Self {
        EvidencePolicy {
            max_size: 20 * 1024 * 1024,
        }
    }
}

impl EvidencePolicy {
    /// How many leading bytes [`EvidencePolicy::check`] looks at.
    pub const HEAD_LEN: usize = 512;

    /// Decides whether a file may be stored as evidence and returns its type (whose media type the
    /// store should record instead of the declared one).
    pub fn check(
        &self,
        name: &str,
        declared_media_type: &str,
        head: &[u8],
        size: u64,
    ) -> Result<FileType, Rejection> {
        if size == 0 || head.is_empty() {
            return Err(Rejection::Empty);
        }
        if size > self.max_size {
            return Err(Rejection::TooLarge {
                size,
                max: self.max_size,
            });
        }
        let name = name.trim();
        if name.is_empty()
            || name.chars().count() > 255
            || name.contains(['/', '\\'])
            || name.chars().any(char::is_control)
            || name.starts_with('.')
        {
            return Err(Rejection::BadName);
        }
        let extension = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        let head = &head[..head.len().min(Self::HEAD_LEN)];
        if let Some(d) = dangerous(head) {
            return Err(Rejection::Dangerous(d));
        }
        let by_name = FileType::from_extension(&extension)
            .ok_or_else(|| Rejection::ExtensionNotAllowed(extension.clone()))?;
        let detected = sniff(head, by_name).ok_or(Rejection::UnknownContent)?;
        if detected != by_name {
            return Err(Rejection::ExtensionMismatch {
                extension,
                detected,
            });
        }
        let declared = declared_media_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        // Browsers send octet-stream (or nothing) for types they do not know, and spreadsheets
        // exported on Windows often arrive as text/plain or application/vnd.ms-excel; only a
        // declared type that claims something else entirely is refused.
        let declared_ok = match declared.as_str() {
            "" | "application/octet-stream" => true,
            d if d == detected.media_type() => true,
            "text/plain" => matches!(detected, FileType::Csv | FileType::Txt),
            "application/vnd.ms-excel" | "application/csv" | "text/comma-separated-values" => {
                matches!(detected, FileType::Csv)
            }
            "image/jpg" | "image/pjpeg" => detected == FileType::Jpeg,
            "application/zip" | "application/x-zip-compressed" => {
                matches!(detected, FileType::Xlsx | FileType::Docx | FileType::Odt)
            }
            _ => false,
        };
        if !declared_ok {
            return Err(Rejection::DeclaredTypeMismatch { declared, detected });
        }
        Ok(detected)
    }
}

fn dangerous(head: &[u8]) -> Option<Dangerous> {
    const EXECUTABLE: &[&[u8]] = &[
        b"MZ",
        b"\x7fELF",
        b"\xfe\xed\xfa\xce",
        b"\xfe\xed\xfa\xcf",
        b"\xce\xfa\xed\xfe",
        b"\xcf\xfa\xed\xfe",
        b"\xca\xfe\xba\xbe",
        b"\0asm",
        b"#!",
    ];
    if EXECUTABLE.iter().any(|m| head.starts_with(m)) {
        return Some(if head.starts_with(b"#!") {
            Dangerous::Script
        } else {
            Dangerous::Executable
        });
    }
    // Text-like content: look at it the way a browser sniffing content would, ignoring case,
    // a byte order mark and leading white space.
    let text = String::from_utf8_lossy(strip_bom(head)).to_ascii_lowercase();
    let t = text.trim_start();
    if t.contains("<svg") {
        return Some(Dangerous::Svg);
    }
    const HTML: &[&str] = &[
        "<!doctype",
        "<html",
        "<head",
        "<body",
        "<script",
        "<iframe",
        "<object",
        "<embed",
        "<meta",
        "<style",
        "<a ",
        "<img",
        "<div",
        "<?xml",
        "<!--",
    ];
    if HTML.iter().any(|m| t.starts_with(m)) || t.contains("<script") || t.contains("<html") {
        return Some(Dangerous::Html);
    }
    None
}

fn strip_bom(b: &[u8]) -> &[u8] {
    b.strip_prefix(b"\xef\xbb\xbf").unwrap_or(b)
}

/// The type of the content. Zip containers (xlsx, docx, odt) cannot be told apart by their first
/// bytes reliably except ODF's stored `mimetype` entry, so for OOXML the name decides between the two.
fn sniff(head: &[u8], by_name: FileType) -> Option<FileType> {
    if head.starts_with(b"%PDF-") {
        return Some(FileType::Pdf);
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(FileType::Png);
    }
    if head.starts_with(b"\xff\xd8\xff") {
        return Some(FileType::Jpeg);
    }
    if head.starts_with(b"PK\x03\x04") {
        // ODF requires the first entry to be the uncompressed `mimetype` file at offset 30.
        let after = head.get(30..).unwrap_or(&[]);
        if after.starts_with(b"mimetype") {
            return after
                .get(8..)
                .filter(|m| m.starts_with(b"application/vnd.oasis.opendocument.text"))
                .map(|_| FileType::Odt);
        }
        return match by_name {
            FileType::Xlsx | FileType::Docx => Some(by_name),
            _ => None,
        };
    }
    if is_plain_text(head) {
        return match by_name {
            FileType::Csv => Some(FileType::Csv),
            _ => Some(FileType::Txt),
        };
    }
    None
}

/// UTF-8 (a character cut off at the end of `head` allowed) or Windows-1252 text without NUL and
/// with no control characters other than tab, CR, LF and form feed.
fn is_plain_text(head: &[u8]) -> bool {
    let valid_utf8 = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    };
    let controls_ok = head
        .iter()
        .all(|&b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r' | 0x0c));
    controls_ok && (valid_utf8 || head.iter().all(|&b| b != 0x7f))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn check(name: &str, declared: &str, head: &[u8], expected: Result<FileType, &str>) {
        let got = EvidencePolicy::default().check(name, declared, head, head.len() as u64 + 100);
        match (&got, expected) {
            (Ok(t), Ok(e)) => assert_eq!(*t, e, "{name}"),
            (Err(r), Err(key)) => assert_eq!(r.key(), key, "{name}: {r}"),
            _ => panic!("{name}: got {got:?}, expected {expected:?}"),
        }
    }

    fn zip_with_first_entry(entry: &str, content: &str) -> Vec<u8> {
        let mut v = b"PK\x03\x04".to_vec();
        v.resize(30, 0);
        v.extend_from_slice(entry.as_bytes());
        v.extend_from_slice(content.as_bytes());
        v
    }

    #[test]
    fn accepted_types() {
        check(
            "bericht.pdf",
            "application/pdf",
            b"%PDF-1.7\n...",
            Ok(FileType::Pdf),
        );
        check(
            "Foto.PNG",
            "image/png",
            b"\x89PNG\r\n\x1a\n\0\0",
            Ok(FileType::Png),
        );
        check(
            "scan.jpg",
            "image/jpeg",
            b"\xff\xd8\xff\xe0",
            Ok(FileType::Jpeg),
        );
        check(
            "liste.csv",
            "text/csv",
            "Name;Wert\nä;1\n".as_bytes(),
            Ok(FileType::Csv),
        );
        check(
            "liste.csv",
            "application/vnd.ms-excel",
            b"a;b\n",
            Ok(FileType::Csv),
        );
        check("notiz.txt", "", b"Restore ok\r\n", Ok(FileType::Txt));
        check(
            "umsatz.csv",
            "text/csv",
            b"M\xfcller;1\n",
            Ok(FileType::Csv),
        );
        let ooxml = zip_with_first_entry("[Content_Types].xml", "<?xml");
        check(
            "tab.xlsx",
            "application/octet-stream",
            &ooxml,
            Ok(FileType::Xlsx),
        );
        check("brief.docx", "application/zip", &ooxml, Ok(FileType::Docx));
        let odt = zip_with_first_entry("mimetype", "application/vnd.oasis.opendocument.text");
        check(
            "brief.odt",
            FileType::Odt.media_type(),
            &odt,
            Ok(FileType::Odt),
        );
    }

    #[test]
    fn refused() {
        let bad = "err.evidence.dangerous";
        check("x.pdf", "application/pdf", b"MZ\x90\0", Err(bad));
        check("x.txt", "text/plain", b"\x7fELF\x02", Err(bad));
        check("x.txt", "text/plain", b"#!/bin/sh\nrm", Err(bad));
        check(
            "x.txt",
            "text/plain",
            b"\xef\xbb\xbf  <!DOCTYPE html>",
            Err(bad),
        );
        check("x.csv", "text/csv", b"<svg xmlns=", Err(bad));
        check("x.txt", "text/plain", b"hello <ScRiPt>alert(1)", Err(bad));
        check("x.png", "image/png", b"<?xml version='1.0'?><svg", Err(bad));
        check(
            "x.html",
            "text/html",
            b"just text",
            Err("err.evidence.type_not_allowed"),
        );
        check(
            "x.js",
            "text/javascript",
            b"alert(1)",
            Err("err.evidence.type_not_allowed"),
        );
        check("x.exe", "", b"hello", Err("err.evidence.type_not_allowed"));
        check("noext", "", b"hello", Err("err.evidence.type_not_allowed"));
        check(
            "x.pdf",
            "application/pdf",
            b"%PNG",
            Err("err.evidence.type_mismatch"),
        );
        check(
            "x.png",
            "image/png",
            b"%PDF-1.4",
            Err("err.evidence.type_mismatch"),
        );
        check(
            "x.pdf",
            "text/html",
            b"%PDF-1.4",
            Err("err.evidence.type_mismatch"),
        );
        check(
            "x.txt",
            "text/plain",
            b"a\0b",
            Err("err.evidence.type_not_allowed"),
        );
        let ods =
            zip_with_first_entry("mimetype", "application/vnd.oasis.opendocument.spreadsheet");
        check("x.odt", "", &ods, Err("err.evidence.type_not_allowed"));
        check("../x.pdf", "", b"%PDF-", Err("err.evidence.bad_name"));
        check(".htaccess", "", b"a", Err("err.evidence.bad_name"));
        check("a\nb.pdf", "", b"%PDF-", Err("err.evidence.bad_name"));
        let p = EvidencePolicy { max_size: 10 };
        assert_eq!(
            p.check("a.pdf", "", b"%PDF-", 11),
            Err(Rejection::TooLarge { size: 11, max: 10 })
        );
        assert_eq!(p.check("a.pdf", "", b"", 0), Err(Rejection::Empty));
    }

    #[test]
    fn urls() {
        for (u, ok) in [
            ("https://intranet.musterau.example/pentest-2026.pdf", true),
            ("HTTP://host.example", true),
            ("https://user@host.example/x", true),
            ("javascript:alert(1)", false),
            ("data:text/html,hi", false),
            ("file:///etc/passwd", false),
            ("https://", false),
            ("https:///path", false),
            ("https://a b.example", false),
            ("ftp://host.example", false),
        ] {
            assert_eq!(is_web_url(u), ok, "{u}");
        }
    }

    #[test]
    fn validity() {
        let d = crate::date::parse_date;
        let item = EvidenceItem {
            evidence: Evidence::Link {
                url: "https://x.example".into(),
            },
            valid_until: d("2026-06-30"),
        };
        assert!(item.is_valid_on(d("2026-06-30").unwrap()));
        assert!(!item.is_valid_on(d("2026-07-01").unwrap()));
    }
}
