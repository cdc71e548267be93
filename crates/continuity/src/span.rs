//! Durations as people write them in a BIA form: "4h", "2d", "30min", "1,5" (hours).
//!
//! Stored as whole minutes so that sums and comparisons in the restart plan are exact; a
//! hand-computed expectation in a test either matches or it does not.

use serde::{Deserialize, Serialize};

/// A non-negative duration in whole minutes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Span(pub u32);

/// Why a duration text was refused. [`SpanError::key`] gives the i18n key for the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanError {
    Empty,
    Negative,
    Invalid,
    /// More than ten years: certainly a typo.
    TooLarge,
}

impl SpanError {
    pub fn key(self) -> &'static str {
        match self {
            SpanError::Empty => "err.required",
            SpanError::Negative => "err.duration_negative",
            SpanError::Invalid => "err.duration",
            SpanError::TooLarge => "err.out_of_range",
        }
    }
}

const MAX_MINUTES: f64 = 10.0 * 366.0 * 24.0 * 60.0;

impl Span {
    pub const ZERO: Span = Span(0);
    pub const fn minutes(m: u32) -> Span {
        Span(m)
    }
    pub const fn hours(h: u32) -> Span {
        Span(h * 60)
    }
    pub const fn days(d: u32) -> Span {
        Span(d * 24 * 60)
    }
    pub fn as_minutes(self) -> u32 {
        self.0
    }
    pub fn as_hours_f64(self) -> f64 {
        f64::from(self.0) / 60.0
    }

    /// Parses "4h", "4 Std.", "2d", "2 Tage", "1w", "30min", "90 m", "1,5" and "1.5" (plain
    /// numbers are hours). Fractions are rounded to the nearest minute.
    pub fn parse(raw: &str) -> Result<Span, SpanError> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err(SpanError::Empty);
        }
        let split = s
            .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | ',' | '-' | '+' | ' ')))
            .unwrap_or(s.len());
        let (num, unit) = s.split_at(split);
        let num = num.trim().replace(',', ".");
        let unit = unit.trim().trim_end_matches('.');
        let factor = match unit {
            "" | "h" | "std" | "stunde" | "stunden" | "hour" | "hours" | "hr" | "hrs" => 60.0,
            "min" | "m" | "minute" | "minuten" | "minutes" | "mins" => 1.0,
            "d" | "t" | "tag" | "tage" | "day" | "days" => 1440.0,
            "w" | "wo" | "woche" | "wochen" | "week" | "weeks" => 10080.0,
            _ => return Err(SpanError::Invalid),
        };
        if num.starts_with('-') {
            return Err(SpanError::Negative);
        }
        let value: f64 = num
            .trim_start_matches('+')
            .parse()
            .map_err(|_| SpanError::Invalid)?;
        if !value.is_finite() {
            return Err(SpanError::Invalid);
        }
        let minutes = (value * factor).round();
        if minutes > MAX_MINUTES {
            return Err(SpanError::TooLarge);
        }
        // `minutes` is finite, non-negative and below MAX_MINUTES, so it fits a u32.
        Ok(Span(minutes as u32))
    }
}

impl std::ops::Add for Span {
    type Output = Span;
    fn add(self, o: Span) -> Span {
        Span(self.0.saturating_add(o.0))
    }
}

impl std::fmt::Display for Span {
    /// "2d 4h", "90min" → "1h 30min", "0h": compact, language-neutral units.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (d, h, m) = (self.0 / 1440, self.0 % 1440 / 60, self.0 % 60);
        let mut parts = Vec::new();
        if d > 0 {
            parts.push(format!("{d}d"));
        }
        if h > 0 {
            parts.push(format!("{h}h"));
        }
        if m > 0 {
            parts.push(format!("{m}min"));
        }
        if parts.is_empty() {
            parts.push("0h".into());
        }
        f.write_str(&parts.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<u32, SpanError>) {
        assert_eq!(Span::parse(input).map(|s| s.0), expected, "{input:?}");
    }

    #[test]
    fn parses_what_people_write() {
        check("4h", Ok(240));
        check("4 h", Ok(240));
        check("4 Std.", Ok(240));
        check("2d", Ok(2880));
        check("2 Tage", Ok(2880));
        check("1w", Ok(10080));
        check("30min", Ok(30));
        check("90 m", Ok(90));
        check("8", Ok(480));
        check("1,5", Ok(90));
        check("1.5h", Ok(90));
        check("0", Ok(0));
        check(" 72 ", Ok(4320));
    }

    #[test]
    fn refuses_nonsense() {
        check("", Err(SpanError::Empty));
        check("   ", Err(SpanError::Empty));
        check("-4h", Err(SpanError::Negative));
        check("- 2", Err(SpanError::Negative));
        check("vier", Err(SpanError::Invalid));
        check("4x", Err(SpanError::Invalid));
        check("4h30", Err(SpanError::Invalid));
        check("1e9", Err(SpanError::Invalid));
        check("99999999", Err(SpanError::TooLarge));
        check("NaN", Err(SpanError::Invalid));
    }

    #[test]
    fn displays_compactly() {
        assert_eq!(Span(90).to_string(), "1h 30min");
        assert_eq!(Span::days(2).to_string(), "2d");
        assert_eq!(Span(0).to_string(), "0h");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in ".{0,20}") {
            let _ = Span::parse(&s);
        }
        #[test]
        fn display_round_trips_hours(m in 0u32..100_000) {
            let h = Span(m - m % 60);
            proptest::prop_assert_eq!(Span::parse(&format!("{}", h.0 / 60)), Ok(h));
        }
    }
}
