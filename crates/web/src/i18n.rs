//! Translations. German is the default, English the second language.
//!
//! Written by hand rather than with fluent: the UI needs lookups by key and simple `{name}`
//! placeholders, not plural rules. The catalogs are plain `key = text` files compiled into the
//! binary; tests check that every key used in code and templates exists in both.

use std::collections::{HashMap, HashSet};
use std::sync::{OnceLock, RwLock};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    De,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "de" => Some(Lang::De),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }
    /// The first supported language of an `Accept-Language` header, else German.
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        header
            .into_iter()
            .flat_map(|h| h.split(','))
            .filter_map(|part| part.split(';').next())
            .filter_map(|tag| Lang::parse(tag.split('-').next().unwrap_or("")))
            .next()
            .unwrap_or(Lang::De)
    }
}

/// One catalog file per area and language, so that areas can grow side by side.
const DE: &[&str] = &[
    include_str!("../i18n/de.txt"),
    include_str!("../i18n/de-inventory.txt"),
    include_str!("../i18n/de-import.txt"),
    include_str!("../i18n/de-security.txt"),
    include_str!("../i18n/de-updates.txt"),
    include_str!("../i18n/de-continuity.txt"),
    include_str!("../i18n/de-council.txt"),
    include_str!("../i18n/de-audit.txt"),
];
const EN: &[&str] = &[
    include_str!("../i18n/en.txt"),
    include_str!("../i18n/en-inventory.txt"),
    include_str!("../i18n/en-import.txt"),
    include_str!("../i18n/en-security.txt"),
    include_str!("../i18n/en-updates.txt"),
    include_str!("../i18n/en-continuity.txt"),
    include_str!("../i18n/en-council.txt"),
    include_str!("../i18n/en-audit.txt"),
];

pub fn parse_catalog(files: &[&'static str]) -> HashMap<&'static str, &'static str> {
    files
        .iter()
        .flat_map(|text| text.lines())
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect()
}

fn catalog(lang: Lang) -> &'static HashMap<&'static str, &'static str> {
    static DE_MAP: OnceLock<HashMap<&str, &str>> = OnceLock::new();
    static EN_MAP: OnceLock<HashMap<&str, &str>> = OnceLock::new();
    match lang {
        Lang::De => DE_MAP.get_or_init(|| parse_catalog(DE)),
        Lang::En => EN_MAP.get_or_init(|| parse_catalog(EN)),
    }
}

/// Every key looked up and not found since the process started, per language. A gap is logged
/// once per key, not once per request (a missing key on a busy page would otherwise flood the
/// log), and tests read [`missing_keys`] to fail on any gap rather than on a log line. A repeated
/// miss costs one read lock and one hash lookup, no allocation.
fn misses(lang: Lang) -> &'static RwLock<HashSet<String>> {
    static DE_MISSES: OnceLock<RwLock<HashSet<String>>> = OnceLock::new();
    static EN_MISSES: OnceLock<RwLock<HashSet<String>>> = OnceLock::new();
    match lang {
        Lang::De => DE_MISSES.get_or_init(Default::default),
        Lang::En => EN_MISSES.get_or_init(Default::default),
    }
}

fn record_miss(lang: Lang, key: &str) {
    let set = misses(lang);
    if set.read().unwrap_or_else(|e| e.into_inner()).contains(key) {
        return;
    }
    if set
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key.to_string())
    {
        tracing::warn!(
            key,
            lang = lang.code(),
            "missing translation (logged once per key)"
        );
    }
}

/// The keys (as `lang:key`, sorted) that were asked for and missing since the process started.
pub fn missing_keys() -> Vec<String> {
    let mut out: Vec<String> = [Lang::De, Lang::En]
        .into_iter()
        .flat_map(|lang| {
            misses(lang)
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .map(|k| format!("{}:{k}", lang.code()))
                .collect::<Vec<_>>()
        })
        .collect();
    out.sort();
    out
}

/// The translator handed to every template.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    /// The text for `key`; an unknown key shows as itself so a gap is visible, never a crash.
    pub fn s<'a>(&self, key: &'a str) -> &'a str {
        match catalog(self.lang).get(key) {
            Some(v) => v,
            None => {
                record_miss(self.lang, key);
                key
            }
        }
    }
    /// The text for `key`, or `fallback` when the catalog has none (the miss is recorded and
    /// logged once, like [`Tr::s`]). For labels built from stored values such as audit actions.
    pub fn or<'a>(&self, key: &str, fallback: &'a str) -> &'a str {
        match catalog(self.lang).get(key) {
            Some(v) => v,
            None => {
                record_miss(self.lang, key);
                fallback
            }
        }
    }
    /// A field name of the change log (a key of an audit entry's before/after) in this language:
    /// the form's label where a form has the field, else the change log's own (`audit.field.*`).
    /// A name with neither is recorded as missing, like [`Tr::s`], and shown as stored.
    pub fn field(&self, name: &str) -> String {
        match self.get(&format!("f.{name}")) {
            Some(label) => label.to_string(),
            None => self.or(&format!("audit.field.{name}"), name).to_string(),
        }
    }
    /// The text for `key` if the catalog has one, without complaint otherwise (for optional labels).
    pub fn get(&self, key: &str) -> Option<&'static str> {
        catalog(self.lang).get(key).copied()
    }
    /// The text for `key` with `{name}` placeholders filled in.
    pub fn f(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut s = self.s(key).to_string();
        for (name, value) in args {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }
    pub fn code(&self) -> &'static str {
        self.lang.code()
    }
    /// A count with German or English digit grouping.
    pub fn num(&self, n: impl std::borrow::Borrow<i64>) -> String {
        let n = *n.borrow();
        let sep = match self.lang {
            Lang::De => '.',
            Lang::En => ',',
        };
        let digits = n.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(sep);
            }
            out.push(c);
        }
        if n < 0 {
            out.insert(0, '-');
        }
        out
    }
    pub fn opt_num(&self, n: &Option<i64>) -> String {
        n.map(|n| self.num(n)).unwrap_or_else(|| "–".to_string())
    }
    /// A date and time in the user's convention (UTC; the office and towns share one time zone,
    /// and showing UTC avoids ambiguity in the audit log).
    pub fn datetime(&self, ts: impl std::borrow::Borrow<i64>) -> String {
        let ts = *ts.borrow();
        let Ok(t) = time::OffsetDateTime::from_unix_timestamp(ts) else {
            return "–".into();
        };
        match self.lang {
            Lang::De => format!(
                "{:02}.{:02}.{} {:02}:{:02} UTC",
                t.day(),
                u8::from(t.month()),
                t.year(),
                t.hour(),
                t.minute()
            ),
            Lang::En => format!(
                "{}-{:02}-{:02} {:02}:{:02} UTC",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            ),
        }
    }
    pub fn opt_datetime(&self, ts: &Option<i64>) -> String {
        ts.map(|t| self.datetime(t)).unwrap_or_else(|| "–".into())
    }
    pub fn opt_date(&self, ts: &Option<i64>) -> String {
        ts.map(|t| self.date(t)).unwrap_or_else(|| "–".into())
    }
    pub fn date(&self, ts: impl std::borrow::Borrow<i64>) -> String {
        let ts = *ts.borrow();
        let Ok(t) = time::OffsetDateTime::from_unix_timestamp(ts) else {
            return "–".into();
        };
        match self.lang {
            Lang::De => format!("{:02}.{:02}.{}", t.day(), u8::from(t.month()), t.year()),
            Lang::En => format!("{}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogs_have_the_same_keys() {
        let de = parse_catalog(DE);
        let en = parse_catalog(EN);
        let mut missing: Vec<String> = de
            .keys()
            .filter(|k| !en.contains_key(*k))
            .map(|k| format!("en lacks {k}"))
            .collect();
        missing.extend(
            en.keys()
                .filter(|k| !de.contains_key(*k))
                .map(|k| format!("de lacks {k}")),
        );
        missing.sort();
        assert!(missing.is_empty(), "{missing:#?}");
    }

    /// Every key the templates and the code ask for exists; a typo fails here, not in front of a user.
    #[test]
    fn every_used_key_exists() {
        let de = parse_catalog(DE);
        let root = env!("CARGO_MANIFEST_DIR");
        let mut sources = Vec::new();
        // Every template and source file, in every folder (`templates/<area>/`,
        // `src/features/<area>/…`).
        let mut dirs = vec![
            std::path::PathBuf::from(format!("{root}/templates")),
            std::path::PathBuf::from(format!("{root}/src")),
        ];
        while let Some(dir) = dirs.pop() {
            for e in std::fs::read_dir(&dir).unwrap().flatten() {
                if e.path().is_dir() {
                    dirs.push(e.path());
                } else {
                    sources.push((e.path(), std::fs::read_to_string(e.path()).unwrap()));
                }
            }
        }
        assert!(
            sources.len() > 90,
            "found only {} template and source files",
            sources.len()
        );
        for domain in ["core", "inventory"] {
            // The crate's source files and those of its module folders (e.g. `import/xlsx.rs`).
            let mut dirs = vec![std::path::PathBuf::from(format!("{root}/../{domain}/src"))];
            while let Some(dir) = dirs.pop() {
                for e in std::fs::read_dir(&dir).unwrap().flatten() {
                    if e.path().is_dir() {
                        dirs.push(e.path());
                    } else {
                        sources.push((e.path(), std::fs::read_to_string(e.path()).unwrap()));
                    }
                }
            }
        }
        let mut missing = Vec::new();
        for (path, text) in &sources {
            // Keys appear as quoted strings of the form "area.name".
            for (i, _) in text.match_indices('"') {
                let rest = &text[i + 1..];
                let Some(end) = rest.find('"') else { continue };
                let cand = &rest[..end];
                let prefixed = [
                    "nav.", "err.", "kind.", "role.", "page.", "f.", "btn.", "msg.", "audit.",
                    "login.", "dash.", "org.", "user.", "acct.", "lang.", "tok.", "totp.",
                    "verbund.", "inv.", "imp.", "exp.",
                ]
                .iter()
                .any(|p| cand.starts_with(p));
                let shaped = cand
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_' || c.is_ascii_digit());
                if prefixed
                    && shaped
                    && !cand.ends_with('.')
                    && !cand.ends_with(".html")
                    && !de.contains_key(cand)
                {
                    missing.push(format!("{}: {cand}", path.display()));
                }
            }
        }
        missing.sort();
        missing.dedup();
        assert!(missing.is_empty(), "{missing:#?}");
    }

    /// The (action, entity) pairs of every `.audit(…)` call in the store, read from its source:
    /// the second and third arguments, each a string literal or an expression of literals
    /// (`if … { "update" } else { "create" }`). An argument without a literal fails the test,
    /// because then the pairs cannot be enumerated any more.
    fn audited_pairs() -> Vec<(String, String, String)> {
        let root = env!("CARGO_MANIFEST_DIR");
        let mut out = Vec::new();
        let mut files: Vec<_> = std::fs::read_dir(format!("{root}/../store/src"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "rs"))
            .collect();
        files.sort();
        assert!(!files.is_empty());
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            let calls = text
                .match_indices(".audit(")
                .chain(text.match_indices(".audit_owner("));
            for (start, call) in calls {
                let bytes = text.as_bytes();
                let mut i = start + call.len();
                let mut depth = 1;
                let mut args = vec![String::new()];
                while depth > 0 && i < bytes.len() {
                    let c = bytes[i] as char;
                    if c == '"' {
                        let end = i + 1 + text[i + 1..].find('"').unwrap();
                        args.last_mut().unwrap().push_str(&text[i..=end]);
                        i = end + 1;
                        continue;
                    }
                    match c {
                        '(' | '[' | '{' => depth += 1,
                        ')' | ']' | '}' => depth -= 1,
                        _ => {}
                    }
                    if depth == 1 && c == ',' {
                        args.push(String::new());
                    } else if depth > 0 {
                        args.last_mut().unwrap().push(c);
                    }
                    i += 1;
                }
                let literals = |arg: &str| -> Vec<String> {
                    arg.split('"')
                        .skip(1)
                        .step_by(2)
                        .map(str::to_string)
                        .collect()
                };
                let place = format!("{}@{start}", path.display());
                assert!(args.len() >= 3, "{place}: too few arguments");
                // `WriteTx::audit_owner` hands its own arguments on to `audit`.
                if args[1].trim() == "action" && args[2].trim() == "entity" {
                    continue;
                }
                let (actions, entities) = (literals(&args[1]), literals(&args[2]));
                assert!(
                    !actions.is_empty() && !entities.is_empty(),
                    "{place}: action and entity must be string literals so this test can list them"
                );
                for a in &actions {
                    for e in &entities {
                        out.push((place.clone(), a.clone(), e.clone()));
                    }
                }
            }
        }
        out
    }

    /// Every action and entity the store can write to the audit log has a label in both
    /// languages, so the change log never shows a raw key.
    #[test]
    fn every_audited_pair_is_translated() {
        let pairs = audited_pairs();
        assert!(pairs.len() > 40, "found only {} audit calls", pairs.len());
        assert!(pairs
            .iter()
            .any(|(_, a, e)| a == "import" && e == "inventory"));
        let mut missing = Vec::new();
        for (lang, cat) in [("de", parse_catalog(DE)), ("en", parse_catalog(EN))] {
            for (place, a, e) in &pairs {
                for key in [format!("audit.action.{a}"), format!("audit.entity.{e}")] {
                    if !cat.contains_key(key.as_str()) {
                        missing.push(format!("{lang}: {key} ({place})"));
                    }
                }
            }
        }
        missing.sort();
        missing.dedup();
        assert!(missing.is_empty(), "{missing:#?}");
    }

    #[test]
    fn a_missing_key_is_recorded_and_falls_back() {
        let de = Tr { lang: Lang::De };
        // Built at run time, so that `every_used_key_exists` does not take it for a used key.
        let absent = format!("audit.action.{}", "no_such_action");
        assert_eq!(de.or(&absent, "no_such_action"), "no_such_action");
        assert_eq!(de.or("audit.action.create", "create"), "angelegt");
        assert!(missing_keys().contains(&format!("de:{absent}")));
        assert!(!missing_keys()
            .iter()
            .any(|k| k.ends_with("audit.action.create")));
    }

    #[test]
    fn numbers_and_languages() {
        let de = Tr { lang: Lang::De };
        let en = Tr { lang: Lang::En };
        assert_eq!(de.num(65_432), "65.432");
        assert_eq!(en.num(1_234_567), "1,234,567");
        assert_eq!(de.num(999), "999");
        assert_eq!(
            Lang::from_accept_language(Some("en-GB,en;q=0.9,de;q=0.8")),
            Lang::En
        );
        assert_eq!(Lang::from_accept_language(Some("fr-FR")), Lang::De);
        assert_eq!(Lang::from_accept_language(None), Lang::De);
        assert_eq!(de.datetime(0), "01.01.1970 00:00 UTC");
    }
}
