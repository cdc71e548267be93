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

/// An e-mail address: one `@`, a dot in the domain, no spaces. Stored lower-case.
pub fn email(errors: &mut FieldErrors, field: &'static str, value: &str) -> String {
    let v = value.trim().to_lowercase();
    let valid = v.len() <= 254
        && v.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        })
        && !v.chars().any(|c| c.is_whitespace() || c.is_control());
    if v.is_empty() {
        errors.add(field, "err.required");
    } else if !valid {
        errors.add(field, "err.email");
    }
    v
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
        ] {
            let mut e = FieldErrors::default();
            email(&mut e, "email", input);
            assert_eq!(e.is_empty(), ok, "{input}");
        }
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
