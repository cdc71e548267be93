//! End-of-life data in the endoflife.date format: one Markdown file per product whose YAML front
//! matter lists release cycles with their support dates.
//!
//! Structure is parsed strictly (a file without front matter, or a release without `releaseCycle`,
//! is an error with file, line and field). Date fields that hold something other than a date or a
//! boolean (the project sometimes writes prose there) are kept as [`Support::Unreadable`] and make
//! the status of that cycle `Unknown`, never a guessed date.

use crate::version::{Scheme, Version};
use serde::Serialize;
use serde_norway::Value;
use std::collections::BTreeMap;
use time::{Date, Month};

/// One support deadline: a date, or a plain yes/no as endoflife.date writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Support {
    /// Ends (or ended) on this day.
    Date(Date),
    /// `true`: has ended, date unknown.
    Ended,
    /// `false`: no end announced.
    Ongoing,
    /// Neither a date nor a boolean; kept verbatim.
    Unreadable(String),
}

/// A release cycle of a product ("2012-r2", "13.0", "7.0").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cycle {
    pub id: String,
    pub label: Option<String>,
    pub release_date: Option<Date>,
    /// End of security support (endoflife.date `eol`).
    pub eol: Support,
    /// End of active support (`eoas`), if given.
    pub support: Option<Support>,
    /// End of extended (paid) support (`eoes`), if given.
    pub extended_support: Option<Support>,
    pub latest: Option<String>,
    pub lts: bool,
}

/// One product file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EolProduct {
    pub slug: String,
    pub title: Option<String>,
    /// In file order (newest first in endoflife.date).
    pub cycles: Vec<Cycle>,
}

/// Why a product file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EolError {
    #[error("{file}: no YAML front matter (the file must start with a line `---` and have a closing `---`)")]
    NoFrontMatter { file: String },
    #[error("{file}: line {line}, column {column}: {message}")]
    Yaml {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: releases[{index}].{field}: {message}")]
    Field {
        file: String,
        index: usize,
        field: &'static str,
        message: String,
    },
    #[error("{file}: front matter has no `releases` list")]
    NoReleases { file: String },
    #[error("{file}: larger than {max} bytes")]
    TooLarge { file: String, max: usize },
}

/// Product files larger than this are refused (the largest real one is ~60 kB).
pub const MAX_FILE: usize = 1 << 20;

fn date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i32 = s[..4].parse().ok()?;
    let m: u8 = s[5..7].parse().ok()?;
    let d: u8 = s[8..10].parse().ok()?;
    Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()
}

fn support(v: &Value) -> Support {
    match v {
        Value::Bool(true) => Support::Ended,
        Value::Bool(false) => Support::Ongoing,
        Value::String(s) => {
            date(s.trim()).map_or_else(|| Support::Unreadable(s.clone()), Support::Date)
        }
        other => Support::Unreadable(format!("{other:?}")),
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Parse one endoflife.date product file. `slug` is the file name without `.md`.
pub fn parse_product(slug: &str, text: &str) -> Result<EolProduct, EolError> {
    let file = format!("{slug}.md");
    if text.len() > MAX_FILE {
        return Err(EolError::TooLarge {
            file,
            max: MAX_FILE,
        });
    }
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return Err(EolError::NoFrontMatter { file });
    };
    let end = rest
        .match_indices("\n---")
        .find(|(i, _)| {
            rest[i + 4..].starts_with('\n')
                || rest[i + 4..].starts_with("\r\n")
                || rest.len() == i + 4
        })
        .map(|(i, _)| i + 1);
    let Some(end) = end else {
        return Err(EolError::NoFrontMatter { file });
    };
    let yaml = &rest[..end];
    let root: Value = serde_norway::from_str(yaml).map_err(|e| {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line() + 1, l.column()));
        // +1 line: the opening `---` is not part of the YAML text (location() counts from 1).
        EolError::Yaml {
            file: file.clone(),
            line,
            column,
            message: e.to_string(),
        }
    })?;
    let Value::Mapping(map) = &root else {
        return Err(EolError::Yaml {
            file,
            line: 2,
            column: 1,
            message: "front matter is not a mapping".into(),
        });
    };
    let title = map.get("title").and_then(scalar);
    let Some(Value::Sequence(releases)) = map.get("releases") else {
        return Err(EolError::NoReleases { file });
    };
    let mut cycles = Vec::with_capacity(releases.len());
    for (index, r) in releases.iter().enumerate() {
        let field_err = |field: &'static str, message: String| EolError::Field {
            file: file.clone(),
            index,
            field,
            message,
        };
        let Value::Mapping(r) = r else {
            return Err(field_err("", "release is not a mapping".into()));
        };
        let id = r
            .get("releaseCycle")
            .and_then(scalar)
            .ok_or_else(|| field_err("releaseCycle", "missing or not a string".into()))?;
        let release_date = match r.get("releaseDate") {
            None | Some(Value::Null) => None,
            Some(v) => Some(scalar(v).and_then(|s| date(&s)).ok_or_else(|| {
                field_err("releaseDate", format!("not a YYYY-MM-DD date: {v:?}"))
            })?),
        };
        let eol = r
            .get("eol")
            .map_or(Support::Unreadable("(missing)".into()), support);
        cycles.push(Cycle {
            id,
            label: r.get("releaseLabel").and_then(scalar),
            release_date,
            eol,
            support: r.get("eoas").map(support),
            extended_support: r.get("eoes").map(support),
            latest: r.get("latest").and_then(scalar),
            lts: matches!(r.get("lts"), Some(Value::Bool(true))),
        });
    }
    Ok(EolProduct {
        slug: slug.to_owned(),
        title,
        cycles,
    })
}

/// Status of an installation's release cycle at a given day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum EolStatus {
    /// Out of security support. `since` is `None` when the data says only "ended".
    Unsupported {
        since: Option<Date>,
    },
    /// Support ends within 6 or 12 months, on `on`.
    EndsWithin {
        months: u8,
        on: Date,
    },
    /// Supported; `until` is `None` when no end is announced.
    Supported {
        until: Option<Date>,
    },
    Unknown {
        why: UnknownWhy,
    },
}

/// Why no status could be given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum UnknownWhy {
    /// endoflife.date does not track this product.
    NoEolData,
    /// Neither a release name nor a version to find the cycle by.
    NoCycleOrVersion,
    /// The release name or version matches no cycle of the product.
    CycleNotFound {
        cycle: Option<String>,
        version: Option<String>,
    },
    /// The cycle's `eol` field is neither a date nor a boolean.
    UnreadableEol { cycle: String, value: String },
}

/// `d` plus `months` calendar months, the day clamped to the target month's length.
pub fn add_months(d: Date, months: u8) -> Date {
    let total = d.year() * 12 + i32::from(u8::from(d.month())) - 1 + i32::from(months);
    let (y, m) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u8);
    let month = Month::try_from(m).unwrap_or(Month::December);
    let day = d.day().min(time::util::days_in_month(month, y));
    Date::from_calendar_date(y, month, day).unwrap_or(d)
}

impl Cycle {
    /// Status at `today`: ended on or before today → unsupported; within 6, then 12 months → soon.
    pub fn status(&self, today: Date) -> EolStatus {
        match &self.eol {
            Support::Ended => EolStatus::Unsupported { since: None },
            Support::Ongoing => EolStatus::Supported { until: None },
            Support::Unreadable(v) => EolStatus::Unknown {
                why: UnknownWhy::UnreadableEol {
                    cycle: self.id.clone(),
                    value: v.clone(),
                },
            },
            Support::Date(d) if *d <= today => EolStatus::Unsupported { since: Some(*d) },
            Support::Date(d) if *d <= add_months(today, 6) => {
                EolStatus::EndsWithin { months: 6, on: *d }
            }
            Support::Date(d) if *d <= add_months(today, 12) => {
                EolStatus::EndsWithin { months: 12, on: *d }
            }
            Support::Date(d) => EolStatus::Supported { until: Some(*d) },
        }
    }
}

impl EolProduct {
    /// The cycle of an installation: by release name (`hint`, exact, then with trailing `-x`
    /// segments dropped, then the shortest cycle id that extends it), else by version (the cycle
    /// whose id, read in the product's scheme, is the longest component prefix of the version).
    pub fn resolve(
        &self,
        scheme: Scheme,
        hint: Option<&str>,
        version: Option<&Version>,
    ) -> Result<&Cycle, UnknownWhy> {
        self.resolve_with(scheme, hint, version, None)
    }

    /// The cycle ids that read as versions in `scheme`, longest first, with their index —
    /// computed once per product by the matcher instead of once per lookup.
    pub fn parsed_cycles(&self, scheme: Scheme) -> Vec<(Version, usize)> {
        let mut v: Vec<(Version, usize)> = self
            .cycles
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Version::parse(scheme, &c.id).ok().map(|v| (v, i)))
            .collect();
        v.sort_by_key(|x| std::cmp::Reverse(x.0.parts().len()));
        v
    }

    fn by_version(&self, parsed: &[(Version, usize)], v: &Version) -> Option<&Cycle> {
        parsed
            .iter()
            .find(|(cv, _)| v.starts_with(cv))
            .map(|(_, i)| &self.cycles[*i])
    }

    /// [`EolProduct::resolve`] with the output of [`EolProduct::parsed_cycles`] precomputed.
    pub fn resolve_with(
        &self,
        scheme: Scheme,
        hint: Option<&str>,
        version: Option<&Version>,
        parsed: Option<&[(Version, usize)]>,
    ) -> Result<&Cycle, UnknownWhy> {
        if let (Some(parsed), Some(v), None) = (parsed, version, hint) {
            if let Some(c) = self.by_version(parsed, v) {
                return Ok(c);
            }
            return Err(UnknownWhy::CycleNotFound {
                cycle: None,
                version: Some(v.as_str().to_owned()),
            });
        }
        if let Some(h) = hint {
            let h = h.to_ascii_lowercase();
            let mut probe = h.as_str();
            loop {
                if let Some(c) = self
                    .cycles
                    .iter()
                    .find(|c| c.id.eq_ignore_ascii_case(probe))
                {
                    return Ok(c);
                }
                match probe.rfind('-') {
                    Some(i) => probe = &probe[..i],
                    None => break,
                }
            }
            let dash = format!("{h}-");
            if let Some(c) = self
                .cycles
                .iter()
                .filter(|c| c.id.to_ascii_lowercase().starts_with(&dash))
                .min_by_key(|c| c.id.len())
            {
                return Ok(c);
            }
        }
        if let Some(v) = version {
            let parsed = self.parsed_cycles(scheme);
            if let Some(c) = self.by_version(&parsed, v) {
                return Ok(c);
            }
        }
        if hint.is_none() && version.is_none() {
            return Err(UnknownWhy::NoCycleOrVersion);
        }
        Err(UnknownWhy::CycleNotFound {
            cycle: hint.map(str::to_owned),
            version: version.map(|v| v.as_str().to_owned()),
        })
    }
}

/// A set of product files keyed by slug.
pub type EolSet = BTreeMap<String, EolProduct>;

/// Parse many product files; the first error rejects the whole set (nothing half-applied).
pub fn parse_all<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<EolSet, EolError> {
    let mut out = EolSet::new();
    for (slug, text) in files {
        out.insert(slug.to_owned(), parse_product(slug, text)?);
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use time::macros::date;

    const SAMPLE: &str = "---\ntitle: Demo\nreleases:\n  - releaseCycle: \"2.0\"\n    releaseDate: 2024-01-01\n    eol: 2027-03-01\n  - releaseCycle: \"1.0\"\n    releaseDate: 2020-01-01\n    eol: true\n  - releaseCycle: 0.9\n    eol: \"when the sun goes down\"\n---\n\n# Text\n";

    #[test]
    fn parses_cycles_and_statuses() {
        let p = parse_product("demo", SAMPLE).unwrap();
        assert_eq!(p.cycles.len(), 3);
        assert_eq!(p.cycles[2].id, "0.9");
        let today = date!(2026 - 11 - 27);
        let check = |id: &str, want: EolStatus| {
            let c = p.cycles.iter().find(|c| c.id == id).unwrap();
            assert_eq!(c.status(today), want, "{id}");
        };
        check(
            "2.0",
            EolStatus::EndsWithin {
                months: 6,
                on: date!(2027 - 03 - 01),
            },
        );
        check("1.0", EolStatus::Unsupported { since: None });
        check(
            "0.9",
            EolStatus::Unknown {
                why: UnknownWhy::UnreadableEol {
                    cycle: "0.9".into(),
                    value: "when the sun goes down".into(),
                },
            },
        );
    }

    #[test]
    fn months_window() {
        let mut c = parse_product("demo", SAMPLE).unwrap().cycles.remove(0);
        for (eol, want) in [
            (
                date!(2026 - 11 - 27),
                EolStatus::Unsupported {
                    since: Some(date!(2026 - 11 - 27)),
                },
            ),
            (
                date!(2027 - 05 - 27),
                EolStatus::EndsWithin {
                    months: 6,
                    on: date!(2027 - 05 - 27),
                },
            ),
            (
                date!(2027 - 05 - 28),
                EolStatus::EndsWithin {
                    months: 12,
                    on: date!(2027 - 05 - 28),
                },
            ),
            (
                date!(2027 - 11 - 27),
                EolStatus::EndsWithin {
                    months: 12,
                    on: date!(2027 - 11 - 27),
                },
            ),
            (
                date!(2027 - 11 - 28),
                EolStatus::Supported {
                    until: Some(date!(2027 - 11 - 28)),
                },
            ),
        ] {
            c.eol = Support::Date(eol);
            assert_eq!(c.status(date!(2026 - 11 - 27)), want);
        }
        assert_eq!(add_months(date!(2026 - 08 - 31), 6), date!(2027 - 02 - 28));
    }

    #[test]
    fn errors_are_precise() {
        assert!(matches!(
            parse_product("x", "no front matter"),
            Err(EolError::NoFrontMatter { .. })
        ));
        assert!(matches!(
            parse_product("x", "---\ntitle: a\n"),
            Err(EolError::NoFrontMatter { .. })
        ));
        let e =
            parse_product("x", "---\ntitle: a\nreleases:\n  - releaseCycle: [\n---\n").unwrap_err();
        assert!(matches!(e, EolError::Yaml { line: 5, .. }), "{e:?}");
        let e = parse_product("x", "---\nreleases:\n  - eol: true\n---\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "x.md: releases[0].releaseCycle: missing or not a string"
        );
        let e = parse_product(
            "x",
            "---\nreleases:\n  - releaseCycle: \"1\"\n    releaseDate: 2020-13-01\n---\n",
        )
        .unwrap_err();
        assert!(
            matches!(
                e,
                EolError::Field {
                    field: "releaseDate",
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[test]
    fn resolves_cycles() {
        let text = "---\nreleases:\n  - releaseCycle: \"10-21h2-e\"\n    eol: true\n  - releaseCycle: \"10-21h2-w\"\n    eol: true\n  - releaseCycle: \"10-22h2\"\n    eol: true\n  - releaseCycle: \"7.0\"\n    eol: true\n  - releaseCycle: \"7\"\n    eol: true\n---\n";
        let p = parse_product("w", text).unwrap();
        let id = |hint: Option<&str>, v: Option<&str>| {
            let v = v.map(|v| Version::parse(Scheme::Dotted, v).unwrap());
            p.resolve(Scheme::Dotted, hint, v.as_ref())
                .map(|c| c.id.clone())
        };
        assert_eq!(id(Some("10-21h2-e"), None), Ok("10-21h2-e".into()));
        assert_eq!(id(Some("10-22h2-w"), None), Ok("10-22h2".into()));
        assert_eq!(id(Some("10-21h2"), None), Ok("10-21h2-e".into()));
        assert_eq!(id(None, Some("7.0.12")), Ok("7.0".into()));
        assert_eq!(id(None, Some("7.2.1")), Ok("7".into()));
        assert!(matches!(
            id(None, Some("8.1")),
            Err(UnknownWhy::CycleNotFound { .. })
        ));
        assert_eq!(id(None, None), Err(UnknownWhy::NoCycleOrVersion));
    }

    #[test]
    fn every_snapshot_file_parses() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/endoflife-date/products"
        );
        let mut n = 0;
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            let slug = path.file_stem().unwrap().to_str().unwrap().to_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            parse_product(&slug, &text).unwrap_or_else(|e| panic!("{e}"));
            n += 1;
        }
        assert_eq!(n, 464);
    }
}
