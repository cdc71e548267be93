//! Field-level validation. Messages are i18n keys, so the web layer shows them in the user's language.

use serde::Serialize;

/// Errors of one submitted form or API body, keyed by field name. Message values are i18n keys.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct FieldErrors(pub Vec<FieldError>);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: &'static str,
    /// An i18n key such as `err.required`.
    pub message: &'static str,
}

impl FieldErrors {
    pub fn add(&mut self, field: &'static str, message: &'static str) {
        self.0.push(FieldError { field, message });
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn get(&self, field: &str) -> Option<&'static str> {
        self.0.iter().find(|e| e.field == field).map(|e| e.message)
    }
    /// `Ok(value)` when no error was collected.
    pub fn into_result<T>(self, value: T) -> Result<T, crate::DomainError> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(crate::DomainError::Invalid(self))
        }
    }
}

/// A required single-line text of at most `max` characters, trimmed.
pub fn required_text(
    errors: &mut FieldErrors,
    field: &'static str,
    value: &str,
    max: usize,
) -> String {
    let v = value.trim();
    if v.is_empty() {
        errors.add(field, "err.required");
    } else if v.chars().count() > max {
        errors.add(field, "err.too_long");
    } else if v.chars().any(|c| c.is_control()) {
        errors.add(field, "err.control_chars");
    }
    v.to_string()
}

/// An optional single-line text; empty becomes `None`.
pub fn optional_text(
    errors: &mut FieldErrors,
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Option<String> {
    let v = value.map(str::trim).unwrap_or("");
    if v.is_empty() {
        return None;
    }
    if v.chars().count() > max {
        errors.add(field, "err.too_long");
    } else if v.chars().any(|c| c.is_control()) {
        errors.add(field, "err.control_chars");
    }
    Some(v.to_string())
}

/// An optional non-negative count (inhabitants, staff, workstations). Accepts "12.500" and "12 500"
/// as people write them in German.
pub fn optional_count(
    errors: &mut FieldErrors,
    field: &'static str,
    value: Option<&str>,
    max: i64,
) -> Option<i64> {
    let raw = value.map(str::trim).unwrap_or("");
    if raw.is_empty() {
        return None;
    }
    let cleaned: String = raw
        .chars()
        .filter(|c| !matches!(c, '.' | ' ' | '\u{a0}' | '\u{202f}'))
        .collect();
    match cleaned.parse::<i64>() {
        Ok(n) if (0..=max).contains(&n) => Some(n),
        Ok(_) => {
            errors.add(field, "err.out_of_range");
            None
        }
        Err(_) => {
            errors.add(field, "err.not_a_number");
            None
        }
    }
}

/// An e-mail address, stored lower-case. Accepted is `local@domain` with
///
/// * a local part of at most 64 ASCII characters: letters, digits and ``!#$%&'*+/=?^_`{|}~-``,
///   dots only between them (no quoted local parts, nothing non-ASCII: `😀@x.example` is refused);
/// * a domain of at least two labels of letters, digits and inner hyphens, each at most 63
///   characters; letters may be non-ASCII (an IDN such as `gemeinde-möhnesee.de`, as people type
///   it), the last label is not all digits;
/// * at most 254 characters in all.
pub fn email(errors: &mut FieldErrors, field: &'static str, value: &str) -> String {
    let v = value.trim().to_lowercase();
    if v.is_empty() {
        errors.add(field, "err.required");
    } else if !is_email(&v) {
        errors.add(field, "err.email");
    }
    v
}

/// The address grammar of [`email`].
pub fn is_email(v: &str) -> bool {
    let Some((local, domain)) = v.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~-".contains(&b))
        });
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.chars().count() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| !tld.chars().all(|c| c.is_ascii_digit()));
    v.chars().count() <= 254 && local_ok && domain_ok
}

/// The year, month and day of a value shaped like a date, `YYYY-M-D` (ISO, HTML date inputs)
/// or `D.M.YYYY` (as Germans write it), leading zeros optional; whether that day exists is not
/// checked. `None` when the shape is wrong.
pub fn date_parts(raw: &str) -> Option<(i32, u32, u32)> {
    let s = raw.trim();
    let (y, m, d) = if let Some((y, rest)) = s.split_once('-') {
        let (m, d) = rest.split_once('-')?;
        (y, m, d)
    } else {
        let (d, rest) = s.split_once('.')?;
        let (m, y) = rest.split_once('.')?;
        (y, m, d)
    };
    let digits = |p: &str, min: usize, max: usize| {
        (min..=max).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(y, 4, 4) || !digits(m, 1, 2) || !digits(d, 1, 2) {
        return None;
    }
    Some((y.parse().ok()?, m.parse().ok()?, d.parse().ok()?))
}

/// Days in a month of the Gregorian calendar; `None` for a month outside 1–12.
pub fn days_in_month(year: i32, month: u32) -> Option<u32> {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    Some(match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    })
}

/// The i18n key for a date a parser refused: `err.date_nonexistent` when the value has the shape
/// of a date (see [`date_parts`]) but names no day of the calendar — 30 February, 31 April,
/// 29 February of a common year, month 13 — so the user learns the format was right and the day
/// is not; otherwise `format_key`, the caller's "wrong format" message.
pub fn date_error(raw: &str, format_key: &'static str) -> &'static str {
    match date_parts(raw) {
        Some((y, m, d)) if d == 0 || days_in_month(y, m).is_none_or(|n| d > n) => {
            "err.date_nonexistent"
        }
        _ => format_key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_accept_german_grouping() {
        let mut e = FieldErrors::default();
        assert_eq!(
            optional_count(&mut e, "n", Some("12.500"), 1_000_000),
            Some(12500)
        );
        assert_eq!(
            optional_count(&mut e, "n", Some("2 000"), 1_000_000),
            Some(2000)
        );
        assert_eq!(optional_count(&mut e, "n", Some(""), 1_000_000), None);
        assert!(e.is_empty());
        assert_eq!(optional_count(&mut e, "n", Some("-3"), 1_000_000), None);
        assert_eq!(e.get("n"), Some("err.out_of_range"));
        let mut e = FieldErrors::default();
        optional_count(&mut e, "n", Some("zwölf"), 10);
        assert_eq!(e.get("n"), Some("err.not_a_number"));
    }

    #[test]
    fn emails() {
        for (input, ok) in [
            ("a@b.de", true),
            (" Anna.Schmidt@Musterau.Example ", true),
            ("a@b", false),
            ("@b.de", false),
            ("a b@c.de", false),
            ("a@@b.de", false),
            ("", false),
            ("😀@x.example", false),
            ("anna😀@x.example", false),
            ("ännä@x.example", false),
            ("a@😀.example", false),
            ("\"a b\"@x.example", false),
            (".a@x.example", false),
            ("a.@x.example", false),
            ("a..b@x.example", false),
            ("a@-x.example", false),
            ("a@x-.example", false),
            ("a@x..example", false),
            ("a@x.123", false),
            ("a@x.example\u{0}", false),
            ("a<b>@x.example", false),
            ("a@x_y.example", false),
            ("a.b+tag@sub.x-y.example", true),
            ("o'brien@x.example", true),
            ("info@gemeinde-möhnesee.de", true),
            ("a@192.168.1.1", false),
        ] {
            let mut e = FieldErrors::default();
            email(&mut e, "email", input);
            assert_eq!(e.is_empty(), ok, "{input}");
        }
    }

    #[test]
    fn long_emails_are_refused() {
        let mut e = FieldErrors::default();
        email(&mut e, "email", &format!("{}@x.example", "a".repeat(65)));
        assert_eq!(e.get("email"), Some("err.email"));
        let mut e = FieldErrors::default();
        email(&mut e, "email", &format!("a@{}.example", "b".repeat(64)));
        assert_eq!(e.get("email"), Some("err.email"));
        let mut e = FieldErrors::default();
        email(
            &mut e,
            "email",
            &format!("a@{}.example", ["b"; 130].join(".")),
        );
        assert_eq!(e.get("email"), Some("err.email"));
    }

    #[test]
    fn nonexistent_dates_are_told_apart_from_wrong_formats() {
        for (raw, key) in [
            ("2026-02-30", "err.date_nonexistent"),
            ("30.02.2026", "err.date_nonexistent"),
            ("2026-04-31", "err.date_nonexistent"),
            ("2026-02-29", "err.date_nonexistent"),
            ("2026-13-01", "err.date_nonexistent"),
            ("2026-00-10", "err.date_nonexistent"),
            ("2026-01-00", "err.date_nonexistent"),
            ("2026-01-32", "err.date_nonexistent"),
            ("1900-02-29", "err.date_nonexistent"),
            // Real days (the caller refused them for another reason) and other shapes.
            ("2024-02-29", "err.date_format"),
            ("2000-02-29", "err.date_format"),
            ("morgen", "err.date_format"),
            ("2026/02/30", "err.date_format"),
            ("26-02-30", "err.date_format"),
            ("2026-02-300", "err.date_format"),
            ("", "err.date_format"),
        ] {
            assert_eq!(date_error(raw, "err.date_format"), key, "{raw}");
        }
        assert_eq!(date_parts(" 1.2.2026 "), Some((2026, 2, 1)));
        assert_eq!(days_in_month(2026, 2), Some(28));
        assert_eq!(days_in_month(2028, 2), Some(29));
        assert_eq!(days_in_month(2026, 13), None);
    }

    #[test]
    fn text_limits() {
        let mut e = FieldErrors::default();
        assert_eq!(required_text(&mut e, "name", "  Birkenau ", 10), "Birkenau");
        assert!(e.is_empty());
        required_text(&mut e, "name", "   ", 10);
        assert_eq!(e.get("name"), Some("err.required"));
        let mut e = FieldErrors::default();
        required_text(&mut e, "name", "a\u{7}b", 10);
        assert_eq!(e.get("name"), Some("err.control_chars"));
    }
}

#[cfg(test)]
mod robustness {
    use crate::org::{Ags, ContactInput, OrganisationInput};
    use crate::user::{parse_date_end_of_day, MembershipInput, UserInput};
    use proptest::prelude::*;

    proptest! {
        /// Whatever a user types, validation answers with a value or field errors, never a panic.
        #[test]
        fn validators_never_panic(f in prop::collection::vec(".{0,40}", 10)) {
            let g = |i: usize| f[i].clone();
            let _ = Ags::parse(&g(0));
            let _ = parse_date_end_of_day(&g(1));
            let r = OrganisationInput {
                name: g(0), kind: g(1), ags: Some(g(2)), inhabitants: Some(g(3)), staff: Some(g(4)),
                workstations: Some(g(5)), email: Some(g(6)), phone: Some(g(7)), address: Some(g(8)), verbund_id: Some(g(9)),
            }.validate();
            if let Err(crate::DomainError::Invalid(e)) = &r {
                prop_assert!(!e.is_empty());
            }
            let _ = ContactInput { function: g(0), name: g(1), email: Some(g(2)), phone: Some(g(3)) }.validate();
            let _ = UserInput { email: g(0), display_name: g(1) }.validate();
            let _ = MembershipInput { organisation_id: g(0), role: g(1), valid_until: Some(g(2)) }.validate(|_| Some(false), 0);
        }
    }
}
