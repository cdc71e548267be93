//! Product identities and the alias table that maps what towns type ("Win Server 2012R2 Std",
//! "Citrix ADC 13.0-58.30", "FortiGate 6.4.5") to them.
//!
//! The built-in table is `data/aliases.toml`, reviewed by hand; it names for every product its
//! stable key, version scheme, CPE vendor:product pairs, package URLs, the endoflife.date slug, the
//! KEV vendorProject/product pairs and the spellings seen in inventories. User aliases
//! (pattern → key, optional cycle) are consulted first, so a town can fix a wrong match.
//!
//! Matching is on a *compact* form (lowercase ASCII letters and digits only) of a prefix of the
//! input's words; the longest prefix that names a product wins, and the rest of the words become
//! the release name (for products with named cycles like "2012 R2"), the version, and edition notes.

use crate::version::{Scheme, Version, VersionError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// A stable product slug, e.g. `windows-server`, `fortios`, `citrix-netscaler-adc`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProductKey(Arc<str>);

impl Serialize for ProductKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}
impl<'de> Deserialize<'de> for ProductKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| ProductKey::new(&s))
    }
}

impl ProductKey {
    pub fn new(s: &str) -> ProductKey {
        ProductKey(Arc::from(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl fmt::Display for ProductKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A version prefix that names a cycle whose id is not itself a version (`6.3` → `2012-r2`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CycleMap {
    pub prefix: String,
    pub cycle: String,
}

/// A release name as typed (`2012 R2`) and the cycle id it stands for (`2012-r2`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CycleName {
    pub name: String,
    pub cycle: String,
}

/// One product of the identity table.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub key: ProductKey,
    pub name: String,
    pub vendor: String,
    pub scheme: Scheme,
    /// endoflife.date product slug, if that project tracks it.
    #[serde(default)]
    pub eol: Option<String>,
    /// CPE 2.3 `vendor:product` pairs.
    #[serde(default)]
    pub cpe: Vec<String>,
    /// Package URLs without version (`pkg:generic/nginx`).
    #[serde(default)]
    pub purl: Vec<String>,
    /// KEV `vendorProject|product` pairs (compared case-insensitively, trimmed).
    #[serde(default)]
    pub kev: Vec<String>,
    /// Spellings of the product name, without release or version.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// True when words after the name name a release ("Exchange 2019", "Windows Server 2012 R2")
    /// rather than a version.
    #[serde(default)]
    pub named_cycles: bool,
    #[serde(default)]
    pub cycle_names: Vec<CycleName>,
    #[serde(default)]
    pub cycle_map: Vec<CycleMap>,
    /// Edition word → cycle suffix (Windows: `enterprise` → `e`, `pro` → `w`).
    #[serde(default)]
    pub editions: HashMap<String, String>,
}

/// Why the alias file was refused.
#[derive(Debug, thiserror::Error)]
pub enum AliasError {
    #[error("alias table: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("alias table: product key {0:?} defined twice")]
    DuplicateKey(String),
    #[error("alias table: alias {alias:?} names both {first} and {second}")]
    AmbiguousAlias {
        alias: String,
        first: String,
        second: String,
    },
    #[error("alias table: product {key}: cycle_map prefix {prefix:?}: {source}")]
    CycleMap {
        key: String,
        prefix: String,
        source: VersionError,
    },
    #[error("alias table: user alias {0:?} is empty once reduced to letters and digits")]
    EmptyPattern(String),
    #[error("alias table: user alias {pattern:?} names unknown product {key:?}")]
    UnknownKey { pattern: String, key: String },
}

#[derive(Debug, Clone, Deserialize)]
struct AliasFile {
    product: Vec<Product>,
}

/// A user alias: whatever starts with `pattern` (compared in compact form) is product `key`,
/// optionally of release `cycle`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserAlias {
    pub pattern: String,
    pub key: String,
    #[serde(default)]
    pub cycle: Option<String>,
}

#[derive(Debug, Clone)]
struct Target {
    product: usize,
    cycle: Option<String>,
}

/// The identity table: built-in products and aliases plus user aliases.
#[derive(Debug, Clone)]
pub struct AliasTable {
    products: Vec<Product>,
    by_key: HashMap<ProductKey, usize>,
    builtin: HashMap<String, Target>,
    user: HashMap<String, Target>,
    vendors: Vec<String>,
    cycle_prefixes: Vec<Vec<(Version, String)>>,
}

const BUILTIN: &str = include_str!("../data/aliases.toml");

/// Lowercase letters and digits only: "Win Server 2012R2" → "winserver2012r2".
pub fn compact(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

impl AliasTable {
    /// The table shipped in the crate.
    pub fn builtin() -> Result<AliasTable, AliasError> {
        AliasTable::from_toml(BUILTIN)
    }

    /// Parse an alias file in the format of `data/aliases.toml`.
    pub fn from_toml(text: &str) -> Result<AliasTable, AliasError> {
        let file: AliasFile = toml::from_str(text)?;
        let mut t = AliasTable {
            products: Vec::new(),
            by_key: HashMap::new(),
            builtin: HashMap::new(),
            user: HashMap::new(),
            vendors: Vec::new(),
            cycle_prefixes: Vec::new(),
        };
        for p in file.product {
            let idx = t.products.len();
            if t.by_key.insert(p.key.clone(), idx).is_some() {
                return Err(AliasError::DuplicateKey(p.key.to_string()));
            }
            let mut prefixes = Vec::new();
            for m in &p.cycle_map {
                let v =
                    Version::parse(p.scheme, &m.prefix).map_err(|source| AliasError::CycleMap {
                        key: p.key.to_string(),
                        prefix: m.prefix.clone(),
                        source,
                    })?;
                prefixes.push((v, m.cycle.clone()));
            }
            // Longest prefix first, so 10.0.17763 wins over 10.0.
            prefixes.sort_by_key(|x| std::cmp::Reverse(x.0.parts().len()));
            t.cycle_prefixes.push(prefixes);
            let mut names = p.aliases.clone();
            names.push(p.name.clone());
            names.push(p.key.to_string());
            for n in names {
                let c = compact(&n);
                if c.is_empty() {
                    continue;
                }
                if let Some(prev) = t.builtin.get(&c) {
                    if prev.product != idx {
                        return Err(AliasError::AmbiguousAlias {
                            alias: n,
                            first: t.products[prev.product].key.to_string(),
                            second: p.key.to_string(),
                        });
                    }
                }
                t.builtin.insert(
                    c,
                    Target {
                        product: idx,
                        cycle: None,
                    },
                );
            }
            let v = compact(&p.vendor);
            if !v.is_empty() && !t.vendors.contains(&v) {
                t.vendors.push(v);
            }
            t.products.push(p);
        }
        // Frequent vendor spellings that differ from the table's vendor field.
        for v in [
            "ms",
            "msft",
            "vmwareinc",
            "paloalto",
            "paloaltonetworks",
            "pulsesecure",
            "thegnome",
            "apachesoftwarefoundation",
            "oraclecorporation",
            "hpe",
            "hewlettpackardenterprise",
            "dellemc",
            "netscaler",
            "redhatinc",
            "microsoftcorporation",
            "googlellc",
            "mozillafoundation",
        ] {
            t.vendors.push(v.to_owned());
        }
        Ok(t)
    }

    /// Add user aliases; they win over built-in ones.
    pub fn with_user_aliases(mut self, aliases: &[UserAlias]) -> Result<AliasTable, AliasError> {
        for a in aliases {
            let c = compact(&a.pattern);
            if c.is_empty() {
                return Err(AliasError::EmptyPattern(a.pattern.clone()));
            }
            let Some(&product) = self.by_key.get(&ProductKey::new(&a.key)) else {
                return Err(AliasError::UnknownKey {
                    pattern: a.pattern.clone(),
                    key: a.key.clone(),
                });
            };
            self.user.insert(
                c,
                Target {
                    product,
                    cycle: a.cycle.clone(),
                },
            );
        }
        Ok(self)
    }

    pub fn products(&self) -> &[Product] {
        &self.products
    }
    pub fn product(&self, key: &ProductKey) -> Option<&Product> {
        self.by_key.get(key).map(|&i| &self.products[i])
    }
    /// The product with this CPE `vendor:product` pair.
    pub fn by_cpe(&self, vendor: &str, product: &str) -> Option<&Product> {
        let want = format!(
            "{}:{}",
            vendor.to_ascii_lowercase(),
            product.to_ascii_lowercase()
        );
        self.products.iter().find(|p| p.cpe.contains(&want))
    }
    /// The product with this package URL (type/namespace/name, version and qualifiers ignored).
    pub fn by_purl(&self, purl: &str) -> Option<&Product> {
        let base = purl
            .split(['@', '?', '#'])
            .next()
            .unwrap_or(purl)
            .to_ascii_lowercase();
        self.products
            .iter()
            .find(|p| p.purl.iter().any(|c| c.eq_ignore_ascii_case(&base)))
    }

    /// The cycle a version falls in by the product's `cycle_map` (for cycles not named like versions).
    pub fn cycle_for_version(&self, key: &ProductKey, v: &Version) -> Option<&str> {
        let i = *self.by_key.get(key)?;
        self.cycle_prefixes[i]
            .iter()
            .find(|(p, _)| v.starts_with(p))
            .map(|(_, c)| c.as_str())
    }

    fn lookup(&self, c: &str) -> Option<&Target> {
        self.user.get(c).or_else(|| self.builtin.get(c))
    }
}

/// Why an inventory row was not recognised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Unrecognised {
    EmptyProduct,
    /// No alias matches any prefix of the product name.
    UnknownProduct {
        compact: String,
    },
}

/// The result of normalising one inventory row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Normalized {
    pub key: Option<ProductKey>,
    /// Parsed version, if there was one and it fits the product's scheme.
    pub version: Option<Version>,
    /// The version text that was found (field or extracted from the name) but not understood.
    pub version_error: Option<VersionError>,
    /// Release cycle named in the text or derived from the version by the product's cycle map.
    pub cycle: Option<String>,
    /// Words that were neither name, release nor version ("Std", "Datacenter", "CU14").
    pub edition: Vec<String>,
    pub unrecognised: Option<Unrecognised>,
}

/// Splits on blanks and separators, and a word where letters meet a version ("Win2012R2" →
/// "Win" "2012R2", "FortiGate-6.4.5" → "FortiGate" "6.4.5"). Lookup joins words again in compact
/// form, so the split never hides a product name that contains digits ("M365", "Log4j").
fn words(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for w in s
        .split(|c: char| c.is_whitespace() || matches!(c, '/' | ';' | '|' | '_' | ':'))
        .map(|w| w.trim_matches(|c: char| matches!(c, ',' | '"' | '\'' | '[' | ']')))
        .filter(|w| !w.is_empty())
    {
        let b = w.as_bytes();
        let cut = (2..b.len()).find(|&i| {
            b[i].is_ascii_digit()
                && b[..i].iter().all(|c| c.is_ascii_alphabetic() || *c == b'-')
                && b[0].is_ascii_alphabetic()
        });
        match cut {
            Some(i) => {
                let head = w[..i].trim_end_matches('-');
                if !head.is_empty() {
                    out.push(head);
                }
                out.push(&w[i..]);
            }
            None => out.push(w),
        }
    }
    out
}

fn looks_like_version(w: &str) -> bool {
    let w = w.strip_prefix(['v', 'V']).unwrap_or(w);
    w.starts_with(|c: char| c.is_ascii_digit())
}

/// Normalise one inventory row: vendor (optional), product name, version field (optional).
pub fn normalize(
    vendor: Option<&str>,
    product: &str,
    version: Option<&str>,
    aliases: &AliasTable,
) -> Normalized {
    let mut out = Normalized {
        key: None,
        version: None,
        version_error: None,
        cycle: None,
        edition: Vec::new(),
        unrecognised: None,
    };
    let ws = words(product);
    if ws.is_empty() {
        out.unrecognised = Some(Unrecognised::EmptyProduct);
        return out;
    }
    // Try the name alone, then with the vendor in front ("Fortinet" + "FortiGate").
    let vendor_words: Vec<&str> = vendor.map(words).unwrap_or_default();
    let mut found = find(&ws, aliases);
    if found.is_none() && !vendor_words.is_empty() {
        let mut joined = vendor_words.clone();
        joined.extend(&ws);
        found = find(&joined, aliases).map(|(t, n)| (t, n.saturating_sub(vendor_words.len())));
    }
    let Some((target, used)) = found else {
        out.unrecognised = Some(Unrecognised::UnknownProduct {
            compact: compact(product),
        });
        return out;
    };
    let p = &aliases.products[target.product];
    out.key = Some(p.key.clone());
    out.cycle = target.cycle.clone();
    let mut rest: &[&str] = &ws[used.min(ws.len())..];

    // A release name right after the product name ("2012 R2", "2019", "10 22H2").
    if out.cycle.is_none() && p.named_cycles {
        if let Some((cycle, n)) = named_cycle(p, rest) {
            out.cycle = Some(cycle);
            rest = &rest[n..];
        }
    }
    let mut version_text: Option<String> = version
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    for w in rest {
        if version_text.is_none() && looks_like_version(w) {
            version_text = Some((*w).to_owned());
        } else {
            out.edition.push((*w).to_owned());
        }
    }
    // "Sophos XGS 19.5 MR3": a maintenance-release word directly after the version belongs to it.
    if let (Some(v), Some(first)) = (&mut version_text, out.edition.first()) {
        if p.scheme == Scheme::Vendor && version.is_none() && is_release_word(first) {
            v.push(' ');
            v.push_str(first);
            out.edition.remove(0);
        }
    }
    if let Some(t) = version_text {
        match Version::parse(p.scheme, &t) {
            Ok(v) => {
                if out.cycle.is_none() {
                    out.cycle = aliases.cycle_for_version(&p.key, &v).map(str::to_owned);
                }
                out.version = Some(v);
            }
            Err(e) => out.version_error = Some(e),
        }
    }
    // Windows client cycles carry the edition family ("10-21h2-e" for Enterprise/Education).
    if let Some(c) = &mut out.cycle {
        if !p.editions.is_empty() {
            let suffix = out
                .edition
                .iter()
                .find_map(|e| p.editions.get(&e.to_ascii_lowercase()))
                .or_else(|| p.editions.get("*"));
            if let Some(s) = suffix {
                c.push('-');
                c.push_str(s);
            }
        }
    }
    out
}

fn is_release_word(w: &str) -> bool {
    let l = w.to_ascii_lowercase();
    let letters: String = l.chars().take_while(char::is_ascii_alphabetic).collect();
    matches!(
        letters.as_str(),
        "mr" | "sp" | "u" | "update" | "p" | "hf" | "build" | "r"
    ) && l.len() > letters.len()
}

fn find<'a>(ws: &[&str], t: &'a AliasTable) -> Option<(&'a Target, usize)> {
    // Longest word prefix first; a leading vendor word may be dropped ("Microsoft Exchange Server").
    for skip in [0usize, 1] {
        if skip == 1 && !ws.first().is_some_and(|w| t.vendors.contains(&compact(w))) {
            break;
        }
        let ws = &ws[skip.min(ws.len())..];
        for n in (1..=ws.len().min(8)).rev() {
            let c = compact(&ws[..n].concat());
            if let Some(target) = t.lookup(&c) {
                return Some((target, n + skip));
            }
        }
    }
    None
}

fn named_cycle(p: &Product, rest: &[&str]) -> Option<(String, usize)> {
    for n in (1..=rest.len().min(3)).rev() {
        let c = compact(&rest[..n].concat());
        if let Some(cn) = p.cycle_names.iter().find(|cn| compact(&cn.name) == c) {
            return Some((cn.cycle.clone(), n));
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn key_and_cycle(t: &AliasTable, product: &str) -> (Option<String>, Option<String>) {
        let n = normalize(None, product, None, t);
        (n.key.map(|k| k.to_string()), n.cycle)
    }

    #[test]
    fn user_aliases_win_over_built_in_ones() {
        let builtin = AliasTable::builtin().unwrap();
        // Built in, "Win" is Windows Server; this town writes "Win" for its clients.
        assert_eq!(
            key_and_cycle(&builtin, "Win 2019").0.as_deref(),
            Some("windows-server")
        );
        let t = builtin
            .clone()
            .with_user_aliases(&[
                UserAlias {
                    pattern: "WIN".into(),
                    key: "windows".into(),
                    cycle: None,
                },
                UserAlias {
                    pattern: "Mail Server".into(),
                    key: "microsoft-exchange".into(),
                    cycle: Some("2019".into()),
                },
            ])
            .unwrap();
        assert_eq!(
            key_and_cycle(&t, "Win 10.0.19045").0.as_deref(),
            Some("windows")
        );
        assert_eq!(
            key_and_cycle(&t, "Mail-Server CU14"),
            (Some("microsoft-exchange".into()), Some("2019".into()))
        );
        // Other built-in spellings are untouched.
        assert_eq!(
            key_and_cycle(&t, "Windows Server 2019").0.as_deref(),
            Some("windows-server")
        );
    }

    #[test]
    fn user_alias_errors() {
        let t = AliasTable::builtin().unwrap();
        let a = |pattern: &str, key: &str| UserAlias {
            pattern: pattern.into(),
            key: key.into(),
            cycle: None,
        };
        assert!(matches!(
            t.clone().with_user_aliases(&[a(" -- ", "windows")]),
            Err(AliasError::EmptyPattern(_))
        ));
        let e = t
            .with_user_aliases(&[a("Foo", "no-such-product")])
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "alias table: user alias \"Foo\" names unknown product \"no-such-product\""
        );
    }
}
