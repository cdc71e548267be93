//! The council report and the Verbund report.
//!
//! `records` holds what a town records for its council (security programme); `town` builds the
//! report of one town — one chapter per standard question, each answer from recorded data only,
//! "nicht erfasst" where nothing is recorded; `verbund` puts every member side by side and divides
//! the office's costs; `output` writes the model as Markdown, HTML, JSON and PDF (typst, in-process).
//!
//! Pure: no HTTP, no SQL. The store gathers the facts ([`town::TownFacts`]).

pub mod chart;
#[doc(hidden)]
pub mod fixture;
pub mod model;
pub mod output;
pub mod records;
pub mod town;
pub mod verbund;

pub use model::{Edition, Report, NOT_RECORDED};

/// An integer with German thousands separators: 12.500.
pub fn de_int(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(ch);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// Cents as euros: 1.234,56 €.
pub fn de_eur(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{},{:02} €", de_int((c / 100) as i64), c % 100)
}

/// `part` of `whole` in whole per cent, rounded half up: "42 %".
pub fn percent(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return NOT_RECORDED.to_string();
    }
    format!("{} %", (part * 200 + whole) / (2 * whole))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[test]
    fn german_numbers() {
        assert_eq!(super::de_int(12_500), "12.500");
        assert_eq!(super::de_int(999), "999");
        assert_eq!(super::de_eur(123_456), "1.234,56 €");
        assert_eq!(super::percent(1, 3), "33 %");
        assert_eq!(super::percent(0, 0), "nicht erfasst");
    }
}
