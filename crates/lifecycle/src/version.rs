//! Version strings, parsed by the scheme of their product's ecosystem.
//!
//! Each scheme has a strict grammar: a string that does not fit is an error, never a guess, so a
//! typo in an inventory row ("7,0.12") shows up as "not understood" instead of as a wrong finding.
//! Versions of one scheme are totally ordered; versions of different schemes are never compared
//! by the matcher (the `Ord` impl orders by scheme first so that sorting stays total).

use serde::{Deserialize, Serialize};

use std::cmp::Ordering;
use std::fmt;

/// How a product numbers its releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    /// Dotted numbers, semver-like: `1.24.0`, `16.2`, `3.0.13`, `1.0.0-rc1`, `1.1.1w` (a trailing
    /// letter on the last number sorts after the bare number), `+build` metadata is ignored.
    Dotted,
    /// Windows: `10.0.17763.5830`, `6.3.9600`, or a bare build number ≥ 10240 (read as `10.0.N`).
    WindowsBuild,
    /// Vendor dotted versions with letters, parentheses and dashes: FortiOS `7.0.12` / `v7.0.12,build0601`,
    /// Cisco `9.16(4)12`, Citrix `13.0-58.30`, Ivanti `22.7R2.3`, PAN-OS `10.2.9-h1`, Sophos `19.5 MR3`.
    /// Numbers compare numerically, letter runs case-insensitively, a pre-release word (`beta`, `rc`)
    /// sorts before the release.
    Vendor,
    /// The product's version scheme is not known to us; every version string is reported, not guessed.
    Unknown,
}

impl Scheme {
    /// The name used in data files.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Dotted => "dotted",
            Scheme::WindowsBuild => "windows-build",
            Scheme::Vendor => "vendor",
            Scheme::Unknown => "unknown",
        }
    }
}

/// Why a version string was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum VersionError {
    #[error("empty version string")]
    Empty,
    #[error("version scheme of this product is unknown; version {0:?} not interpreted")]
    UnknownScheme(String),
    #[error(
        "version {input:?} does not fit the {scheme} scheme: unexpected {found:?} at byte {offset}"
    )]
    Syntax {
        scheme: &'static str,
        input: String,
        offset: usize,
        found: char,
    },
    #[error("version {input:?}: number at byte {offset} is too large")]
    Overflow { input: String, offset: usize },
    #[error("version {input:?} is longer than {max} components")]
    TooLong { input: String, max: usize },
    #[error("Windows build {0:?} is neither a dotted version nor a build number ≥ 10240")]
    WindowsBuild(String),
}

/// One component of a version.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Part {
    /// A pre-release word (`rc`, `beta`, `alpha`, `pre`, `dev`): sorts before everything else.
    Pre(String),
    Num(u64),
    /// A letter run (lowercased): `r` in `22.7R2`, `w` in `1.1.1w`, `h` in `10.2.9-h1`.
    Alpha(String),
}

impl Part {
    fn rank(&self) -> u8 {
        match self {
            Part::Pre(_) => 0,
            Part::Num(_) => 1,
            Part::Alpha(_) => 2,
        }
    }
}

impl Ord for Part {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Part::Num(a), Part::Num(b)) => a.cmp(b),
            (Part::Pre(a), Part::Pre(b)) | (Part::Alpha(a), Part::Alpha(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}
impl PartialOrd for Part {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Most real versions have ≤ 6 components; anything beyond 16 is garbage.
pub const MAX_PARTS: usize = 16;
/// Longer strings are refused before parsing.
pub const MAX_LEN: usize = 64;

/// A parsed version. Equality and order ignore trailing zero components (`7.0` == `7.0.0`).
#[derive(Debug, Clone)]
pub struct Version {
    scheme: Scheme,
    parts: Vec<Part>,
    text: String,
    /// The significant parts packed 16 bits each, when all are numbers < 65536 and at most 8:
    /// then one integer comparison decides the order (the matcher compares millions of times).
    packed: Option<u128>,
}

fn pack(parts: &[Part]) -> Option<u128> {
    if parts.len() > 8 {
        return None;
    }
    let mut k: u128 = 0;
    for i in 0..8 {
        let n = match parts.get(i) {
            None => 0,
            Some(Part::Num(n)) if *n < 0x1_0000 => *n,
            Some(_) => return None,
        };
        k = (k << 16) | u128::from(n);
    }
    Some(k)
}

const ZERO: Part = Part::Num(0);

impl Version {
    /// Parse `input` (surrounding whitespace trimmed) by `scheme`.
    pub fn parse(scheme: Scheme, input: &str) -> Result<Version, VersionError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(VersionError::Empty);
        }
        if s.len() > MAX_LEN {
            return Err(VersionError::TooLong {
                input: s.chars().take(MAX_LEN).collect(),
                max: MAX_PARTS,
            });
        }
        let parts = match scheme {
            Scheme::Unknown => return Err(VersionError::UnknownScheme(s.to_owned())),
            Scheme::Dotted => parse_dotted(s)?,
            Scheme::WindowsBuild => parse_windows(s)?,
            Scheme::Vendor => parse_vendor(s)?,
        };
        if parts.len() > MAX_PARTS {
            return Err(VersionError::TooLong {
                input: s.to_owned(),
                max: MAX_PARTS,
            });
        }
        let mut v = Version {
            scheme,
            parts,
            text: s.to_owned(),
            packed: None,
        };
        v.packed = pack(v.significant());
        Ok(v)
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }
    pub fn parts(&self) -> &[Part] {
        &self.parts
    }
    /// The string as given (trimmed).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True when `prefix`'s components (trailing zeros not ignored) start this version:
    /// `7.0` is a prefix of `7.0.12`, `22.04` of `22.04.3`, `1.1.1` of `1.1.1w`; `7.0` is not one of `7.1`.
    pub fn starts_with(&self, prefix: &Version) -> bool {
        prefix.parts.len() <= self.parts.len()
            && self.parts[..prefix.parts.len()] == prefix.parts[..]
    }

    fn significant(&self) -> &[Part] {
        let mut n = self.parts.len();
        while n > 0 && self.parts[n - 1] == ZERO {
            n -= 1;
        }
        &self.parts[..n]
    }
}

impl PartialEq for Version {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Version {}
impl std::hash::Hash for Version {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.scheme.hash(state);
        // Equal versions have equal significant parts, so both are packed or neither is.
        match self.packed {
            Some(k) => k.hash(state),
            None => self.significant().hash(state),
        }
    }
}
impl Ord for Version {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        if let (Some(a), Some(b)) = (self.packed, other.packed) {
            return self.scheme.cmp(&other.scheme).then(a.cmp(&b));
        }
        self.scheme.cmp(&other.scheme).then_with(|| {
            let n = self.parts.len().max(other.parts.len());
            for i in 0..n {
                let a = self.parts.get(i).unwrap_or(&ZERO);
                let b = other.parts.get(i).unwrap_or(&ZERO);
                match a.cmp(b) {
                    Ordering::Equal => {}
                    o => return o,
                }
            }
            Ordering::Equal
        })
    }
}
impl PartialOrd for Version {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
/// Serialised as the text it was parsed from; the scheme comes from the product.
impl Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn syntax(scheme: Scheme, s: &str, offset: usize) -> VersionError {
    VersionError::Syntax {
        scheme: scheme.as_str(),
        input: s.to_owned(),
        offset,
        found: s[offset..].chars().next().unwrap_or(' '),
    }
}

fn is_pre_word(w: &str) -> bool {
    matches!(
        w,
        "alpha" | "a" | "beta" | "b" | "rc" | "pre" | "preview" | "dev" | "snapshot" | "m"
    )
}

/// Reads a run of ASCII digits at `i`; returns (value, end).
fn number(s: &str, i: usize) -> Result<(u64, usize), VersionError> {
    let b = s.as_bytes();
    let mut j = i;
    let mut v: u64 = 0;
    while j < b.len() && b[j].is_ascii_digit() {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b[j] - b'0')))
            .ok_or_else(|| VersionError::Overflow {
                input: s.to_owned(),
                offset: i,
            })?;
        j += 1;
    }
    Ok((v, j))
}

fn letters(s: &str, i: usize) -> (String, usize) {
    let b = s.as_bytes();
    let mut j = i;
    while j < b.len() && b[j].is_ascii_alphabetic() {
        j += 1;
    }
    (s[i..j].to_ascii_lowercase(), j)
}

fn parse_dotted(s: &str) -> Result<Vec<Part>, VersionError> {
    let sch = Scheme::Dotted;
    let b = s.as_bytes();
    let mut i = usize::from(b[0] == b'v' || b[0] == b'V');
    let mut parts = Vec::new();
    // Core: N(.N)* with an optional letter suffix on the last number.
    loop {
        if i >= b.len() || !b[i].is_ascii_digit() {
            return Err(syntax(sch, s, i.min(s.len().saturating_sub(1))));
        }
        let (n, j) = number(s, i)?;
        parts.push(Part::Num(n));
        i = j;
        if i < b.len() && b[i].is_ascii_alphabetic() {
            let (w, j) = letters(s, i);
            i = j;
            if is_pre_word(&w) {
                parts.push(Part::Pre(w));
                if i < b.len() && b[i].is_ascii_digit() {
                    let (n, j) = number(s, i)?;
                    parts.push(Part::Num(n));
                    i = j;
                }
            } else {
                parts.push(Part::Alpha(w));
            }
            break;
        }
        if i < b.len() && b[i] == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            i += 1;
            continue;
        }
        break;
    }
    // Pre-release: -rc1, -beta.2, ~rc1
    if i < b.len() && (b[i] == b'-' || b[i] == b'~') {
        i += 1;
        let (w, j) = letters(s, i);
        if w.is_empty() {
            return Err(syntax(sch, s, i.min(s.len() - 1)));
        }
        parts.push(if is_pre_word(&w) {
            Part::Pre(w)
        } else {
            Part::Alpha(w)
        });
        i = j;
        while i < b.len() && b[i] != b'+' {
            if b[i] == b'.' {
                i += 1;
                continue;
            }
            if b[i].is_ascii_digit() {
                let (n, j) = number(s, i)?;
                parts.push(Part::Num(n));
                i = j;
            } else if b[i].is_ascii_alphabetic() {
                let (w, j) = letters(s, i);
                parts.push(Part::Alpha(w));
                i = j;
            } else {
                return Err(syntax(sch, s, i));
            }
        }
    }
    // Build metadata does not take part in ordering (semver 2.0 §10).
    if i < b.len() && b[i] == b'+' {
        if i + 1 == b.len()
            || !s[i + 1..]
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-')
        {
            return Err(syntax(sch, s, i));
        }
        i = b.len();
    }
    if i != b.len() {
        return Err(syntax(sch, s, i));
    }
    Ok(parts)
}

fn parse_windows(s: &str) -> Result<Vec<Part>, VersionError> {
    let b = s.as_bytes();
    let mut parts = Vec::new();
    let mut i = 0;
    loop {
        if i >= b.len() || !b[i].is_ascii_digit() {
            return Err(syntax(Scheme::WindowsBuild, s, i.min(s.len() - 1)));
        }
        let (n, j) = number(s, i)?;
        parts.push(Part::Num(n));
        i = j;
        if i == b.len() {
            break;
        }
        if b[i] != b'.' {
            return Err(syntax(Scheme::WindowsBuild, s, i));
        }
        i += 1;
    }
    if parts.len() == 1 {
        // A bare build number, as `winver` shows it ("Build 19045").
        match parts[0] {
            Part::Num(n) if n >= 10240 => {
                return Ok(vec![Part::Num(10), Part::Num(0), Part::Num(n)])
            }
            _ => return Err(VersionError::WindowsBuild(s.to_owned())),
        }
    }
    if parts.len() > 4 {
        return Err(VersionError::TooLong {
            input: s.to_owned(),
            max: 4,
        });
    }
    Ok(parts)
}

fn parse_vendor(s: &str) -> Result<Vec<Part>, VersionError> {
    let sch = Scheme::Vendor;
    let b = s.as_bytes();
    let mut i = usize::from(b[0] == b'v' || b[0] == b'V');
    if i >= b.len() || !b[i].is_ascii_digit() {
        return Err(syntax(sch, s, i.min(s.len() - 1)));
    }
    let mut parts = Vec::new();
    let mut depth = 0u8;
    let mut prev_sep = true;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() {
            let (n, j) = number(s, i)?;
            parts.push(Part::Num(n));
            i = j;
            prev_sep = false;
        } else if c.is_ascii_alphabetic() {
            let (w, j) = letters(s, i);
            // FortiOS prints "v7.0.12,build0601"; the build number orders within the release.
            parts.push(if is_pre_word(&w) {
                Part::Pre(w)
            } else {
                Part::Alpha(w)
            });
            i = j;
            prev_sep = false;
        } else if matches!(c, b'.' | b'-' | b'_' | b',' | b' ') {
            // Two separators in a row ("7..0") are a typo, not a version.
            if prev_sep {
                return Err(syntax(sch, s, i));
            }
            prev_sep = true;
            i += 1;
        } else if c == b'(' {
            if depth > 0 {
                return Err(syntax(sch, s, i));
            }
            depth += 1;
            prev_sep = true;
            i += 1;
        } else if c == b')' {
            if depth == 0 || prev_sep {
                return Err(syntax(sch, s, i));
            }
            depth -= 1;
            prev_sep = false;
            i += 1;
        } else {
            return Err(syntax(sch, s, i));
        }
    }
    if depth != 0 || prev_sep {
        return Err(syntax(sch, s, s.len() - 1));
    }
    Ok(parts)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v(s: Scheme, t: &str) -> Version {
        Version::parse(s, t).unwrap()
    }

    /// `check(scheme, lower, higher)`: strictly ordered; `=` when equal.
    fn check(scheme: Scheme, a: &str, op: char, b: &str) {
        let (x, y) = (v(scheme, a), v(scheme, b));
        let want = match op {
            '<' => Ordering::Less,
            '=' => Ordering::Equal,
            '>' => Ordering::Greater,
            _ => unreachable!(),
        };
        assert_eq!(x.cmp(&y), want, "{a} {op} {b} ({scheme:?})");
    }

    #[test]
    fn orders_within_each_scheme() {
        use Scheme::*;
        for (s, a, op, b) in [
            (Dotted, "1.24.0", '>', "1.9.15"),
            (Dotted, "7.0", '=', "7.0.0"),
            (Dotted, "1.0.0-rc1", '<', "1.0.0"),
            (Dotted, "1.0.0-alpha", '<', "1.0.0-beta"),
            (Dotted, "1.1.1w", '>', "1.1.1v"),
            (Dotted, "1.1.1w", '>', "1.1.1"),
            (Dotted, "3.0.13", '>', "1.1.1w"),
            (Dotted, "16.2+build5", '=', "16.2"),
            (Dotted, "v2.4.58", '=', "2.4.58"),
            (Dotted, "22.04.3", '>', "22.04"),
            (WindowsBuild, "10.0.17763.5830", '>', "10.0.17763.1"),
            (WindowsBuild, "19045", '=', "10.0.19045"),
            (WindowsBuild, "6.3.9600", '<', "10.0.14393"),
            (Vendor, "7.0.12", '>', "7.0.9"),
            (Vendor, "v7.0.12,build0601", '>', "7.0.12"),
            (Vendor, "9.16(4)12", '>', "9.16(4)"),
            (Vendor, "9.16(4)12", '<', "9.16(4)57"),
            (Vendor, "9.16(4)12", '<', "9.18(1)"),
            (Vendor, "13.0-58.30", '<', "13.0-92.21"),
            (Vendor, "13.1-49.15", '>', "13.0-92.21"),
            (Vendor, "22.7R2.3", '>', "22.7R2"),
            (Vendor, "22.7R2.3", '<', "22.7R2.4"),
            (Vendor, "9.1R18", '<', "22.7R1"),
            (Vendor, "10.2.9-h1", '>', "10.2.9"),
            (Vendor, "10.2.9-h1", '<', "10.2.10"),
            (Vendor, "19.5 MR3", '>', "19.5 MR2"),
            (Vendor, "7.0.0-beta", '<', "7.0.0"),
        ] {
            check(s, a, op, b);
        }
    }

    #[test]
    fn rejects_what_it_does_not_understand() {
        use Scheme::*;
        for (s, t) in [
            (Dotted, ""),
            (Dotted, "abc"),
            (Dotted, "1..2"),
            (Dotted, "1.2 beta"),
            (Dotted, "7,0.12"),
            (WindowsBuild, "2012R2"),
            (WindowsBuild, "9600"),
            (WindowsBuild, "10.0.1.2.3"),
            (Vendor, "(4)"),
            (Vendor, "9.16((4)"),
            (Vendor, "9.16(4"),
            (Vendor, "7..0"),
            (Vendor, "7.0#1"),
            (Dotted, "99999999999999999999999"),
        ] {
            assert!(
                Version::parse(s, t).is_err(),
                "{t:?} should not parse as {s:?}"
            );
        }
        assert_eq!(
            Version::parse(Unknown, "1.0"),
            Err(VersionError::UnknownScheme("1.0".into()))
        );
        let e = Version::parse(Dotted, "1.2#").unwrap_err();
        assert!(
            matches!(
                e,
                VersionError::Syntax {
                    offset: 3,
                    found: '#',
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[test]
    fn prefix_is_by_component() {
        let s = Scheme::Dotted;
        assert!(v(s, "7.0.12").starts_with(&v(s, "7.0")));
        assert!(!v(s, "7.10.1").starts_with(&v(s, "7.1")));
        assert!(v(s, "22.04.3").starts_with(&v(s, "22.04")));
        assert!(v(s, "1.1.1w").starts_with(&v(s, "1.1.1")));
    }

    proptest! {
        #[test]
        fn order_is_total_and_consistent(a in "[0-9]{1,3}(\\.[0-9]{1,3}){0,3}", b in "[0-9]{1,3}(\\.[0-9]{1,3}){0,3}") {
            for s in [Scheme::Dotted, Scheme::Vendor] {
                let (x, y) = (v(s, &a), v(s, &b));
                prop_assert_eq!(x.cmp(&y), y.cmp(&x).reverse());
                prop_assert_eq!(x == y, x.cmp(&y) == Ordering::Equal);
            }
        }

        #[test]
        fn packed_order_agrees_with_parts(a in "[0-9]{1,6}(\\.[0-9]{1,6}){0,9}", b in "[0-9]{1,6}(\\.[0-9]{1,6}){0,9}") {
            let (x, y) = (v(Scheme::Dotted, &a), v(Scheme::Dotted, &b));
            let (mut x2, mut y2) = (x.clone(), y.clone());
            x2.packed = None;
            y2.packed = None;
            prop_assert_eq!(x.cmp(&y), x2.cmp(&y2));
        }

        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            for sch in [Scheme::Dotted, Scheme::WindowsBuild, Scheme::Vendor, Scheme::Unknown] {
                let _ = Version::parse(sch, &s);
            }
        }
    }
}
