//! A loaded feed set (end-of-life data, KEV catalog, CSAF rules) with its provenance, the rule
//! that an update may not be older than what is loaded, and the diff that drives re-matching.

use crate::csaf::{self, Csaf, Rule};
use crate::eol::{self, EolError, EolProduct, EolSet};
use crate::identity::{AliasTable, ProductKey};
use crate::kev::{self, KevCatalog, KevError};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use time::Date;

/// Which feed a piece of metadata or an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedKind {
    Eol,
    Kev,
    Csaf,
}

/// Where a feed came from and how old its data is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedMeta {
    pub kind: FeedKind,
    /// A file path, URL or "built-in".
    pub source: String,
    /// The snapshot's own date (KEV `dateReleased`, newest CSAF `current_release_date`, the
    /// endoflife.date commit date) — not the import time.
    pub snapshot: Date,
}

/// Why a feed update was refused. The loaded set is unchanged in every case.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error(transparent)]
    Eol(#[from] EolError),
    #[error(transparent)]
    Kev(#[from] KevError),
    #[error("CSAF document {name}: {source}")]
    Csaf {
        name: String,
        source: csaf::CsafError,
    },
    #[error("{kind:?} feed from {source_name} is dated {new}, older than the loaded one ({current}); refused")]
    Older {
        kind: FeedKind,
        source_name: String,
        new: Date,
        current: Date,
    },
}

/// Everything the matcher needs, loaded and checked.
#[derive(Debug, Clone)]
pub struct Feeds {
    pub aliases: AliasTable,
    pub eol: EolSet,
    pub kev: KevCatalog,
    pub rules: Vec<Rule>,
    pub advisories: BTreeSet<String>,
    pub meta: BTreeMap<FeedKind, FeedMeta>,
}

/// Date of the shipped endoflife.date snapshot (commit a70eca3, see data/SOURCE.md).
pub const BUILTIN_EOL_DATE: Date = time::macros::date!(2026 - 08 - 22);

impl Feeds {
    /// The starter feeds shipped in the binary.
    pub fn builtin(aliases: AliasTable) -> Result<Feeds, FeedError> {
        let eol = eol::parse_all(crate::snapshot::EOL_FILES.iter().copied())?;
        let kev = kev::parse(crate::snapshot::KEV_JSON.as_bytes())?;
        let mut meta = BTreeMap::new();
        meta.insert(
            FeedKind::Eol,
            FeedMeta {
                kind: FeedKind::Eol,
                source: "built-in".into(),
                snapshot: BUILTIN_EOL_DATE,
            },
        );
        meta.insert(
            FeedKind::Kev,
            FeedMeta {
                kind: FeedKind::Kev,
                source: "built-in".into(),
                snapshot: kev.released,
            },
        );
        Ok(Feeds {
            aliases,
            eol,
            kev,
            rules: Vec::new(),
            advisories: BTreeSet::new(),
            meta,
        })
    }

    fn guard(&self, kind: FeedKind, source: &str, new: Date) -> Result<(), FeedError> {
        match self.meta.get(&kind) {
            Some(m) if new < m.snapshot => Err(FeedError::Older {
                kind,
                source_name: source.to_owned(),
                new,
                current: m.snapshot,
            }),
            _ => Ok(()),
        }
    }

    /// Replace the KEV catalog with a newer one. Returns the product keys whose hits may change.
    pub fn update_kev(
        &mut self,
        source: &str,
        bytes: &[u8],
    ) -> Result<BTreeSet<ProductKey>, FeedError> {
        let new = kev::parse(bytes)?;
        self.guard(FeedKind::Kev, source, new.released)?;
        let old = std::mem::replace(&mut self.kev, new);
        self.meta.insert(
            FeedKind::Kev,
            FeedMeta {
                kind: FeedKind::Kev,
                source: source.into(),
                snapshot: self.kev.released,
            },
        );
        Ok(diff_kev(&self.aliases, &old, &self.kev))
    }

    /// Replace the end-of-life data with a newer snapshot (all files parsed before anything changes).
    pub fn update_eol<'a>(
        &mut self,
        source: &str,
        snapshot: Date,
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<BTreeSet<ProductKey>, FeedError> {
        self.guard(FeedKind::Eol, source, snapshot)?;
        let new = eol::parse_all(files)?;
        let old = std::mem::replace(&mut self.eol, new);
        self.meta.insert(
            FeedKind::Eol,
            FeedMeta {
                kind: FeedKind::Eol,
                source: source.into(),
                snapshot,
            },
        );
        Ok(diff_eol(&self.aliases, &old, &self.eol))
    }

    /// Add or replace CSAF advisories (by tracking id). All documents are parsed and checked first.
    pub fn update_csaf(
        &mut self,
        source: &str,
        docs: &[(String, Vec<u8>)],
    ) -> Result<BTreeSet<ProductKey>, FeedError> {
        let mut parsed: Vec<Csaf> = Vec::with_capacity(docs.len());
        for (name, bytes) in docs {
            parsed.push(csaf::parse(bytes).map_err(|source| FeedError::Csaf {
                name: name.clone(),
                source,
            })?);
        }
        let newest = parsed
            .iter()
            .filter_map(|d| kev::ymd(&d.document.tracking.current_release_date))
            .max();
        let mut changed = BTreeSet::new();
        for d in &parsed {
            let id = d.document.tracking.id.as_str();
            if self.advisories.contains(id) {
                for r in self.rules.iter().filter(|r| &*r.advisory == id) {
                    changed.insert(r.key.clone());
                }
                self.rules.retain(|r| &*r.advisory != id);
            }
            let (rules, _skipped) = csaf::rules(d, &self.aliases);
            changed.extend(rules.iter().map(|r| r.key.clone()));
            self.rules.extend(rules);
            self.advisories.insert(id.to_owned());
        }
        if let Some(n) = newest {
            let cur = self.meta.get(&FeedKind::Csaf).map(|m| m.snapshot);
            if cur.is_none_or(|c| n > c) {
                self.meta.insert(
                    FeedKind::Csaf,
                    FeedMeta {
                        kind: FeedKind::Csaf,
                        source: source.into(),
                        snapshot: n,
                    },
                );
            }
        }
        Ok(changed)
    }

    /// The end-of-life product for a key, if the identity table names one and it is loaded.
    pub fn eol_for(&self, key: &ProductKey) -> Option<&EolProduct> {
        self.aliases
            .product(key)?
            .eol
            .as_ref()
            .and_then(|s| self.eol.get(s))
    }
}

/// Product keys whose KEV entries differ between two catalogs.
pub fn diff_kev(aliases: &AliasTable, old: &KevCatalog, new: &KevCatalog) -> BTreeSet<ProductKey> {
    let set = |c: &KevCatalog| -> BTreeSet<(String, String, Date, Date, bool)> {
        c.entries
            .iter()
            .map(|e| {
                (
                    kev::pair_key(&e.vendor_project, &e.product),
                    e.cve.to_string(),
                    e.date_added,
                    e.due_date,
                    e.ransomware,
                )
            })
            .collect()
    };
    let (a, b) = (set(old), set(new));
    let pairs: BTreeSet<&String> = a.symmetric_difference(&b).map(|t| &t.0).collect();
    aliases
        .products()
        .iter()
        .filter(|p| {
            p.kev
                .iter()
                .any(|k| pairs.contains(&kev::pair_key_from_table(k)))
        })
        .map(|p| p.key.clone())
        .collect()
}

/// Product keys whose end-of-life product changed between two snapshots.
pub fn diff_eol(aliases: &AliasTable, old: &EolSet, new: &EolSet) -> BTreeSet<ProductKey> {
    aliases
        .products()
        .iter()
        .filter(|p| p.eol.as_ref().is_some_and(|s| old.get(s) != new.get(s)))
        .map(|p| p.key.clone())
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::matching::{match_all, rematch, Finding, FindingKind};
    use crate::synthetic;
    use time::macros::date;

    fn builtin() -> Feeds {
        Feeds::builtin(AliasTable::builtin().unwrap()).unwrap()
    }

    fn kev_json(edit: impl FnOnce(&mut Vec<serde_json::Value>), released: &str) -> Vec<u8> {
        let mut kev: serde_json::Value = serde_json::from_str(crate::snapshot::KEV_JSON).unwrap();
        let v = kev["vulnerabilities"].as_array_mut().unwrap();
        edit(v);
        kev["count"] = v.len().into();
        kev["dateReleased"] = released.into();
        serde_json::to_vec(&kev).unwrap()
    }

    fn keys(ks: &[&str]) -> BTreeSet<ProductKey> {
        ks.iter().map(|k| ProductKey::new(k)).collect()
    }

    #[test]
    fn older_kev_is_refused_and_the_loaded_one_kept() {
        let mut f = builtin();
        let (kev, meta) = (f.kev.clone(), f.meta.clone());
        let older = kev_json(|v| v.truncate(10), "2025-08-24T00:00:00Z");
        let e = f.update_kev("old.json", &older).unwrap_err();
        assert!(
            matches!(&e, FeedError::Older { kind: FeedKind::Kev, source_name, new, current }
                if source_name == "old.json" && *new == date!(2025 - 08 - 24) && *current == date!(2025 - 08 - 25)),
            "{e}"
        );
        assert_eq!(f.kev, kev);
        assert_eq!(f.meta, meta);
        // The same date is not older: a re-import is accepted.
        let same = kev_json(|_| {}, "2025-08-25T00:00:00Z");
        assert!(f.update_kev("same.json", &same).unwrap().is_empty());
    }

    #[test]
    fn older_eol_is_refused_and_the_loaded_one_kept() {
        let mut f = builtin();
        let eol = f.eol.clone();
        let e = f
            .update_eol(
                "old",
                date!(2026 - 08 - 21),
                crate::snapshot::EOL_FILES.iter().copied(),
            )
            .unwrap_err();
        assert!(
            matches!(
                e,
                FeedError::Older {
                    kind: FeedKind::Eol,
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(f.eol, eol);
        // A newer snapshot with a broken file is refused as a whole, too.
        let e = f
            .update_eol("new", date!(2026 - 09 - 01), [("nginx", "no front matter")])
            .unwrap_err();
        assert!(
            matches!(e, FeedError::Eol(EolError::NoFrontMatter { .. })),
            "{e}"
        );
        assert_eq!(f.eol, eol);
        assert_eq!(f.meta[&FeedKind::Eol].snapshot, BUILTIN_EOL_DATE);
    }

    #[test]
    fn diff_kev_names_exactly_the_changed_keys() {
        let mut f = builtin();
        let newer = kev_json(
            |v| {
                let mut e = v[0].clone();
                e["cveID"] = "CVE-2099-1".into();
                e["vendorProject"] = "Fortinet".into();
                e["product"] = "FortiOS".into();
                v.push(e);
                // An Exchange entry's due date moves.
                let i = v
                    .iter()
                    .position(|e| e["cveID"] == "CVE-2021-31196")
                    .unwrap();
                v[i]["dueDate"] = "2030-01-01".into();
                // An entry for a product no alias names disappears: no key changes for it.
                let j = v
                    .iter()
                    .position(|e| {
                        f.aliases.products().iter().all(|p| {
                            !p.kev.iter().any(|k| {
                                kev::pair_key_from_table(k)
                                    == kev::pair_key(
                                        e["vendorProject"].as_str().unwrap(),
                                        e["product"].as_str().unwrap(),
                                    )
                            })
                        })
                    })
                    .unwrap();
                v.remove(j);
            },
            "2026-11-26T00:00:00Z",
        );
        let changed = f.update_kev("cisa", &newer).unwrap();
        assert_eq!(changed, keys(&["fortios", "microsoft-exchange"]));
        assert_eq!(f.meta[&FeedKind::Kev].snapshot, date!(2026 - 11 - 26));
        assert_eq!(diff_kev(&f.aliases, &f.kev, &f.kev), BTreeSet::new());
    }

    #[test]
    fn diff_eol_names_exactly_the_changed_keys() {
        let mut f = builtin();
        let nginx = crate::snapshot::EOL_FILES
            .iter()
            .find(|(s, _)| *s == "nginx")
            .unwrap()
            .1
            .replacen("eol: ", "eol: 2001-01-01 #", 1);
        let files: Vec<(&str, &str)> = crate::snapshot::EOL_FILES
            .iter()
            .filter(|(s, _)| *s != "php")
            .map(|&(s, t)| {
                if s == "nginx" {
                    (s, nginx.as_str())
                } else {
                    (s, t)
                }
            })
            .collect();
        let changed = f.update_eol("eol", date!(2026 - 11 - 01), files).unwrap();
        assert_eq!(changed, keys(&["nginx", "php"]));
    }

    fn by_installation(f: &[Finding]) -> BTreeMap<i64, Vec<FindingKind>> {
        let mut m: BTreeMap<i64, Vec<FindingKind>> = BTreeMap::new();
        for x in f {
            m.entry(x.installation_id)
                .or_default()
                .push((*x.kind).clone());
        }
        m
    }

    /// The property incremental re-matching rests on: after an update, installations of keys
    /// outside the changed set keep their findings, and re-matching the changed set gives what a
    /// full match gives.
    #[test]
    fn rematch_after_updates_equals_a_full_match() {
        let mut f = builtin();
        let inst = synthetic::installations(5_000, 3, &f.aliases);
        f.rules = synthetic::advisories(200, 3, &f.aliases);
        let today = date!(2026 - 11 - 27);
        let before = by_installation(&match_all(&inst, &f, today));
        let newer = kev_json(
            |v| {
                for e in v.iter_mut().filter(|e| e["product"] == "FortiOS") {
                    e["dateAdded"] = "2026-11-20".into();
                }
                let mut e = v[0].clone();
                e["cveID"] = "CVE-2099-2".into();
                e["vendorProject"] = "Microsoft".into();
                e["product"] = "Exchange Server".into();
                v.push(e);
            },
            "2026-11-26T00:00:00Z",
        );
        let changed = f.update_kev("cisa", &newer).unwrap();
        assert!(!changed.is_empty());
        let after = by_installation(&match_all(&inst, &f, today));
        let (ids, partial) = rematch(&changed, &inst, &f, today);
        let partial = by_installation(&partial);
        let mut differing = 0;
        for i in &inst {
            if changed.contains(&i.key) {
                assert!(ids.contains(&i.id));
                assert_eq!(partial.get(&i.id), after.get(&i.id), "{i:?}");
                differing += usize::from(before.get(&i.id) != after.get(&i.id));
            } else {
                assert!(!ids.contains(&i.id));
                assert_eq!(before.get(&i.id), after.get(&i.id), "{i:?}");
            }
        }
        assert!(differing > 0);
    }
}
