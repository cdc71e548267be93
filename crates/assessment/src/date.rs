//! Calendar dates as people type them: `2026-11-27` (HTML date inputs, ISO) and `27.11.2026`
//! (German forms and spreadsheets). Dates are whole days; an assessment has no time of day.

use time::{Date, Month};

/// Parses `YYYY-MM-DD` or `D.M.YYYY` (leading zeros optional). `None` for anything else,
/// including impossible days such as `2026-02-30`.
pub fn parse_date(raw: &str) -> Option<Date> {
    let (y, m, d) = stadtmauer_core::validate::date_parts(raw)?;
    let month = Month::try_from(u8::try_from(m).ok()?).ok()?;
    Date::from_calendar_date(y, month, u8::try_from(d).ok()?).ok()
}

/// `YYYY-MM-DD`, the form stored and sent over the API.
pub fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Days from `from` to `to` (negative when `to` lies before `from`).
pub fn days_between(from: Date, to: Date) -> i64 {
    i64::from(to.to_julian_day()) - i64::from(from.to_julian_day())
}

/// `d` plus `days`, saturating at the largest representable date.
pub fn add_days(d: Date, days: u32) -> Date {
    d.checked_add(time::Duration::days(i64::from(days)))
        .unwrap_or(Date::MAX)
}

/// Serde as `YYYY-MM-DD` (both input forms accepted), for `#[serde(with = "crate::date::iso")]`.
pub mod iso {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};
    use time::Date;

    pub fn serialize<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_date(*d))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let raw = String::deserialize(d)?;
        super::parse_date(&raw).ok_or_else(|| D::Error::custom(format!("invalid date {raw:?}")))
    }
}

/// Like [`iso`], for optional dates.
pub mod iso_opt {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};
    use time::Date;

    pub fn serialize<S: Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&super::format_date(*d)),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(raw) => super::parse_date(&raw)
                .map(Some)
                .ok_or_else(|| D::Error::custom(format!("invalid date {raw:?}"))),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Option<&str>) {
        assert_eq!(
            parse_date(input).map(format_date).as_deref(),
            expected,
            "{input:?}"
        );
    }

    #[test]
    fn both_forms() {
        check("2026-11-27", Some("2026-11-27"));
        check(" 27.11.2026 ", Some("2026-11-27"));
        check("1.2.2026", Some("2026-02-01"));
        check("2024-02-29", Some("2024-02-29"));
        check("2026-02-29", None);
        check("2026-13-01", None);
        check("27.11.26", None);
        check("2026/11/27", None);
        check("+2026-11-27", None);
        check("2026-1-1x", None);
        check("", None);
        check("..", None);
    }

    #[test]
    fn arithmetic() {
        let a = parse_date("2026-01-30").unwrap();
        assert_eq!(format_date(add_days(a, 30)), "2026-03-01");
        assert_eq!(days_between(a, add_days(a, 30)), 30);
        assert_eq!(add_days(Date::MAX, 5), Date::MAX);
    }
}
