//! The matcher: installations × feeds → findings.
//!
//! Indexed by product key. Real inventories repeat the same (product, version) thousands of
//! times, so each distinct (key, cycle, version) is evaluated once and its findings are shared
//! (`Arc`) by every installation that has it; findings per installation are therefore at most
//! three (lifecycle, advisories, KEV), and their hit lists are shared, not copied.
//! `rematch` re-evaluates only installations whose key is in the changed set of a feed update.

use crate::csaf::{Cmp, Range, Rule, RuleVersions, Status};
use crate::eol::{EolProduct, EolStatus};
use crate::feed::Feeds;
use crate::identity::ProductKey;
use crate::kev;
use crate::version::{Scheme, Version};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use time::Date;

/// One installed software entry, already normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    pub id: i64,
    pub key: ProductKey,
    pub version: Option<Version>,
    /// Release cycle named in the inventory ("2012-r2"), if any.
    pub cycle: Option<String>,
}

/// A CSAF advisory that names the installation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdvisoryHit {
    pub advisory: Arc<str>,
    pub cve: Option<Arc<str>>,
    pub cvss: Option<f32>,
    pub status: Status,
}

/// A KEV entry that hits the installation (see `kev` for the semantics).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KevHit {
    pub cve: Arc<str>,
    pub date_added: Date,
    pub due_date: Date,
    pub ransomware: bool,
}

/// What was found about one installation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FindingKind {
    Unsupported {
        cycle: String,
        since: Option<Date>,
    },
    EolSoon {
        cycle: String,
        months: u8,
        on: Date,
    },
    /// The lifecycle could not be determined (no data, cycle not found …); shown, not hidden.
    LifecycleUnknown {
        why: crate::eol::UnknownWhy,
    },
    /// Advisories naming this installation as affected (or under investigation), highest CVSS first.
    Advisories {
        hits: Arc<[AdvisoryHit]>,
    },
    /// Known exploited vulnerabilities, earliest due date first.
    Kev {
        hits: Arc<[KevHit]>,
    },
}

/// A finding; `kind` is shared by all installations with the same product, release and version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub installation_id: i64,
    pub kind: Arc<FindingKind>,
}

/// A rule prepared for lookup: its envelope (the least and greatest version it can contain) so
/// that most rules are ruled out by two integer comparisons, and dense ids instead of strings.
struct Compiled<'a> {
    rule: &'a Rule,
    /// Position in `Feeds::rules`: hits keep the order of the straightforward reading.
    order: u32,
    /// Dense id of (advisory, CVE) within the key.
    pair: u32,
    /// Dense id of the CVE within the key.
    cve: Option<u32>,
    /// `None`: unbounded.
    lo: Option<&'a Version>,
    hi: Option<&'a Version>,
}

impl Compiled<'_> {
    fn in_envelope(&self, v: &Version) -> bool {
        self.lo.is_none_or(|lo| lo <= v) && self.hi.is_none_or(|hi| v <= hi)
    }
}

/// The least and greatest version a rule can contain (`None` = unbounded), read from the same
/// constraints `Range::contains` reads: a superset test, never a different answer. Below the
/// first range constraint only a leading `<`/`<=` admits versions, above the last only a trailing
/// `>`/`>=`; everything else lies between the least and greatest constraint version.
fn envelope(v: &RuleVersions) -> (Option<&Version>, Option<&Version>) {
    let cs = match v {
        RuleVersions::Any | RuleVersions::Range(Range::All) => return (None, None),
        RuleVersions::Exact(x) => return (Some(x), Some(x)),
        RuleVersions::Range(Range::Constraints(cs)) => cs,
    };
    let ranged = |c: &&(Cmp, Version)| !matches!(c.0, Cmp::Eq | Cmp::Ne);
    let bounds = || cs.iter().filter(|c| c.0 != Cmp::Ne).map(|c| &c.1);
    let (Some(min), Some(max)) = (bounds().min(), bounds().max()) else {
        // Only exclusions: everything else is in.
        return (None, None);
    };
    let first = cs.iter().find(ranged).map(|c| c.0);
    let last = cs.iter().rev().find(ranged).map(|c| c.0);
    let lo = (!matches!(first, Some(Cmp::Lt | Cmp::Le))).then_some(min);
    let hi = (!matches!(last, Some(Cmp::Gt | Cmp::Ge))).then_some(max);
    (lo, hi)
}

/// Everything known about one product key.
#[derive(Default)]
struct KeyIndex<'a> {
    scheme: Option<Scheme>,
    eol: Option<&'a EolProduct>,
    /// Rules for every version (and for installations without a version).
    any: Vec<Compiled<'a>>,
    /// Rules with versions, sorted by `lo` (unbounded first): a binary search finds the rules
    /// that can contain a version, the envelope test skips most of the rest.
    ranged: Vec<Compiled<'a>>,
    pairs: u32,
    kev: Vec<(&'a kev::KevEntry, Option<u32>)>,
    cycles: Vec<(Version, usize)>,
}

/// An index of the feeds by product key; build once per feed state.
pub struct Engine<'a> {
    feeds: &'a Feeds,
    ids: FxHashMap<ProductKey, u32>,
    keys: Vec<KeyIndex<'a>>,
    /// The findings of a key nobody knows: lifecycle unknown, nothing else.
    unknown: Arc<[Arc<FindingKind>]>,
}

/// Keyed by (key id, cycle, version, version text): equal versions written differently ("7.0",
/// "7") have the same hits but are reported with their own text ("cycle not found for 7.0").
type Memo<'i> = FxHashMap<
    (u32, Option<&'i str>, Option<&'i Version>, Option<&'i str>),
    Arc<[Arc<FindingKind>]>,
>;

/// A reusable bit set over dense ids.
struct Bits(Vec<u64>);
impl Bits {
    fn new(n: u32) -> Bits {
        Bits(vec![0; (n as usize).div_ceil(64)])
    }
    fn set(&mut self, i: u32) -> bool {
        let (w, b) = ((i / 64) as usize, 1u64 << (i % 64));
        let was = self.0[w] & b != 0;
        self.0[w] |= b;
        !was
    }
    fn get(&self, i: u32) -> bool {
        self.0[(i / 64) as usize] & (1u64 << (i % 64)) != 0
    }
}

impl<'a> Engine<'a> {
    pub fn new(feeds: &'a Feeds) -> Engine<'a> {
        let mut ids: FxHashMap<ProductKey, u32> = FxHashMap::default();
        let mut keys: Vec<KeyIndex<'a>> = Vec::new();
        let mut id_of = |k: &ProductKey, keys: &mut Vec<KeyIndex<'a>>| -> usize {
            *ids.entry(k.clone()).or_insert_with(|| {
                keys.push(KeyIndex::default());
                (keys.len() - 1) as u32
            }) as usize
        };
        for p in feeds.aliases.products() {
            let i = id_of(&p.key, &mut keys);
            keys[i].scheme = Some(p.scheme);
            keys[i].eol = p.eol.as_ref().and_then(|s| feeds.eol.get(s));
            if let Some(e) = keys[i].eol {
                keys[i].cycles = e.parsed_cycles(p.scheme);
            }
        }
        // Dense (advisory, CVE) and CVE ids per key.
        let mut pair_ids: Vec<FxHashMap<(&str, Option<&str>), u32>> = Vec::new();
        let mut cve_ids: Vec<FxHashMap<&str, u32>> = Vec::new();
        for (order, r) in feeds.rules.iter().enumerate() {
            let i = id_of(&r.key, &mut keys);
            pair_ids.resize_with(keys.len(), Default::default);
            cve_ids.resize_with(keys.len(), Default::default);
            let n = pair_ids[i].len() as u32;
            let pair = *pair_ids[i]
                .entry((&r.advisory, r.cve.as_deref()))
                .or_insert(n);
            let cve = r.cve.as_deref().map(|c| {
                let n = cve_ids[i].len() as u32;
                *cve_ids[i].entry(c).or_insert(n)
            });
            let (lo, hi) = envelope(&r.versions);
            let c = Compiled {
                rule: r,
                order: order as u32,
                pair,
                cve,
                lo,
                hi,
            };
            if matches!(r.versions, RuleVersions::Any) {
                keys[i].any.push(c);
            } else {
                keys[i].ranged.push(c);
            }
        }
        for (i, k) in keys.iter_mut().enumerate() {
            k.pairs = pair_ids.get(i).map_or(0, |m| m.len() as u32);
            // Stable: equal bounds keep feed order (the order is restored per lookup anyway).
            k.ranged.sort_by(|a, b| match (a.lo, b.lo) {
                (None, None) => std::cmp::Ordering::Equal,
                (None, Some(_)) => std::cmp::Ordering::Less,
                (Some(_), None) => std::cmp::Ordering::Greater,
                (Some(x), Some(y)) => x.cmp(y),
            });
        }
        let mut pairs: HashMap<String, Vec<ProductKey>> = HashMap::new();
        for p in feeds.aliases.products() {
            for k in &p.kev {
                pairs
                    .entry(kev::pair_key_from_table(k))
                    .or_default()
                    .push(p.key.clone());
            }
        }
        for e in &feeds.kev.entries {
            if let Some(ks) = pairs.get(&kev::pair_key(&e.vendor_project, &e.product)) {
                for k in ks {
                    let i = id_of(k, &mut keys);
                    let cve = cve_ids.get(i).and_then(|m| m.get(&*e.cve)).copied();
                    keys[i].kev.push((e, cve));
                }
            }
        }
        let unknown: Arc<[Arc<FindingKind>]> =
            Arc::from(vec![Arc::new(FindingKind::LifecycleUnknown {
                why: crate::eol::UnknownWhy::NoEolData,
            })]);
        Engine {
            feeds,
            ids,
            keys,
            unknown,
        }
    }

    /// The feed state this index was built from.
    pub fn feeds(&self) -> &'a Feeds {
        self.feeds
    }

    /// Findings for every installation.
    pub fn match_all(&self, installations: &[Installation], today: Date) -> Vec<Finding> {
        let mut memo = Memo::default();
        let mut out = Vec::with_capacity(installations.len() * 3);
        for i in installations {
            let id = self.ids.get(&i.key).copied();
            self.push(i, id, today, &mut memo, &mut out);
        }
        out
    }

    /// Findings for the installations whose key changed; the caller replaces exactly those
    /// installations' findings (returned ids) and keeps the rest.
    pub fn rematch(
        &self,
        changed: &BTreeSet<ProductKey>,
        installations: &[Installation],
        today: Date,
    ) -> (Vec<i64>, Vec<Finding>) {
        // Keys the engine does not know all share `None`; decide once whether any of them changed.
        let known: FxHashSet<u32> = changed
            .iter()
            .filter_map(|k| self.ids.get(k).copied())
            .collect();
        let mut memo = Memo::default();
        let mut ids = Vec::new();
        let mut out = Vec::new();
        for i in installations {
            let id = self.ids.get(&i.key).copied();
            let hit = match id {
                Some(n) => known.contains(&n),
                None => changed.contains(&i.key),
            };
            if hit {
                ids.push(i.id);
                self.push(i, id, today, &mut memo, &mut out);
            }
        }
        (ids, out)
    }

    fn push<'i>(
        &self,
        i: &'i Installation,
        id: Option<u32>,
        today: Date,
        memo: &mut Memo<'i>,
        out: &mut Vec<Finding>,
    ) {
        let kinds = match id {
            None => &self.unknown,
            Some(id) => memo
                .entry((
                    id,
                    i.cycle.as_deref(),
                    i.version.as_ref(),
                    i.version.as_ref().map(Version::as_str),
                ))
                .or_insert_with(|| {
                    self.evaluate_id(id, i.cycle.as_deref(), i.version.as_ref(), today)
                        .into_iter()
                        .map(Arc::new)
                        .collect()
                }),
        };
        out.extend(kinds.iter().map(|k| Finding {
            installation_id: i.id,
            kind: k.clone(),
        }));
    }

    /// Findings for one (key, cycle, version), without installation id.
    pub fn evaluate(
        &self,
        key: &ProductKey,
        cycle: Option<&str>,
        version: Option<&Version>,
        today: Date,
    ) -> Vec<FindingKind> {
        match self.ids.get(key) {
            Some(&id) => self.evaluate_id(id, cycle, version, today),
            None => self.unknown.iter().map(|k| (**k).clone()).collect(),
        }
    }

    fn evaluate_id(
        &self,
        id: u32,
        cycle: Option<&str>,
        version: Option<&Version>,
        today: Date,
    ) -> Vec<FindingKind> {
        let idx = &self.keys[id as usize];
        let mut out = Vec::new();
        let mut release_date = None;
        match (idx.eol, idx.scheme) {
            (Some(p), Some(s)) => match p.resolve_with(s, cycle, version, Some(&idx.cycles)) {
                Ok(c) => {
                    release_date = c.release_date;
                    match c.status(today) {
                        EolStatus::Unsupported { since } => out.push(FindingKind::Unsupported {
                            cycle: c.id.clone(),
                            since,
                        }),
                        EolStatus::EndsWithin { months, on } => out.push(FindingKind::EolSoon {
                            cycle: c.id.clone(),
                            months,
                            on,
                        }),
                        EolStatus::Supported { .. } => {}
                        EolStatus::Unknown { why } => {
                            out.push(FindingKind::LifecycleUnknown { why })
                        }
                    }
                }
                Err(why) => out.push(FindingKind::LifecycleUnknown { why }),
            },
            _ => out.push(FindingKind::LifecycleUnknown {
                why: crate::eol::UnknownWhy::NoEolData,
            }),
        }

        // The rules that contain this version: the version-free ones, and of the sorted ranged
        // ones those whose lower bound is not above the version and whose envelope holds it.
        let ranged: &[Compiled<'a>] = match version {
            None => &[],
            Some(v) => {
                let n = idx
                    .ranged
                    .partition_point(|c| c.lo.is_none_or(|lo| lo <= v));
                &idx.ranged[..n]
            }
        };
        let mut matching: Vec<&Compiled<'a>> = idx
            .any
            .iter()
            .chain(ranged.iter().filter(|c| {
                version.is_some_and(|v| c.in_envelope(v) && c.rule.versions.contains(Some(v)))
            }))
            .collect();
        matching.sort_unstable_by_key(|c| c.order);

        // Advisories: per (advisory, CVE) a safe status for this version wins over an affected one.
        let mut safe = Bits::new(idx.pairs);
        let mut safe_cves: Vec<u32> = Vec::new();
        for c in matching.iter().filter(|c| c.rule.status.is_safe()) {
            safe.set(c.pair);
            // A blanket "fixed" without versions says nothing about this installation's KEV risk.
            if !matches!(c.rule.versions, RuleVersions::Any) {
                safe_cves.extend(c.cve);
            }
        }
        let mut seen = Bits::new(idx.pairs);
        let mut hits: Vec<AdvisoryHit> = Vec::new();
        for c in matching.iter().filter(|c| !c.rule.status.is_safe()) {
            if !safe.get(c.pair) && seen.set(c.pair) {
                let r = c.rule;
                hits.push(AdvisoryHit {
                    advisory: r.advisory.clone(),
                    cve: r.cve.clone(),
                    cvss: r.cvss,
                    status: r.status,
                });
            }
        }
        if !hits.is_empty() {
            hits.sort_by(|a, b| b.cvss.unwrap_or(-1.0).total_cmp(&a.cvss.unwrap_or(-1.0)));
            out.push(FindingKind::Advisories { hits: hits.into() });
        }

        // KEV: identity match, not released after the entry, not fixed per a CSAF advisory.
        let mut kev: Vec<KevHit> = idx
            .kev
            .iter()
            .filter(|(e, _)| release_date.is_none_or(|d| d <= e.date_added))
            .filter(|(_, c)| c.is_none_or(|c| !safe_cves.contains(&c)))
            .map(|(e, _)| KevHit {
                cve: e.cve.clone(),
                date_added: e.date_added,
                due_date: e.due_date,
                ransomware: e.ransomware,
            })
            .collect();
        if !kev.is_empty() {
            kev.sort_by(|a, b| a.due_date.cmp(&b.due_date).then_with(|| a.cve.cmp(&b.cve)));
            kev.dedup_by(|a, b| a.cve == b.cve);
            out.push(FindingKind::Kev { hits: kev.into() });
        }
        out
    }
}

/// Convenience: build the index and match everything.
pub fn match_all(installations: &[Installation], feeds: &Feeds, today: Date) -> Vec<Finding> {
    Engine::new(feeds).match_all(installations, today)
}

/// Convenience: build the index and re-match only installations of changed keys.
pub fn rematch(
    changed: &BTreeSet<ProductKey>,
    installations: &[Installation],
    feeds: &Feeds,
    today: Date,
) -> (Vec<i64>, Vec<Finding>) {
    Engine::new(feeds).rematch(changed, installations, today)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::identity::AliasTable;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use time::macros::date;

    /// The matcher as the definition reads, with no index and no memo: every rule of the feed
    /// set is tried for every installation.
    fn reference(feeds: &Feeds, i: &Installation, today: Date) -> Vec<FindingKind> {
        let pairs: Vec<String> = feeds
            .kev
            .entries
            .iter()
            .map(|e| kev::pair_key(&e.vendor_project, &e.product))
            .collect();
        reference_with(feeds, &pairs, i, today)
    }

    /// `pairs`: the KEV entries' pair keys, computed once per feed set for speed.
    fn reference_with(
        feeds: &Feeds,
        pairs: &[String],
        i: &Installation,
        today: Date,
    ) -> Vec<FindingKind> {
        let key = &i.key;
        let version = i.version.as_ref();
        let mut out = Vec::new();
        let scheme = feeds.aliases.product(key).map(|p| p.scheme);
        let mut release_date = None;
        match (feeds.eol_for(key), scheme) {
            (Some(p), Some(s)) => match p.resolve(s, i.cycle.as_deref(), version) {
                Ok(c) => {
                    release_date = c.release_date;
                    match c.status(today) {
                        EolStatus::Unsupported { since } => out.push(FindingKind::Unsupported {
                            cycle: c.id.clone(),
                            since,
                        }),
                        EolStatus::EndsWithin { months, on } => out.push(FindingKind::EolSoon {
                            cycle: c.id.clone(),
                            months,
                            on,
                        }),
                        EolStatus::Supported { .. } => {}
                        EolStatus::Unknown { why } => {
                            out.push(FindingKind::LifecycleUnknown { why })
                        }
                    }
                }
                Err(why) => out.push(FindingKind::LifecycleUnknown { why }),
            },
            _ => out.push(FindingKind::LifecycleUnknown {
                why: crate::eol::UnknownWhy::NoEolData,
            }),
        }
        let rules: Vec<&Rule> = feeds.rules.iter().filter(|r| &r.key == key).collect();
        let product = feeds.aliases.product(key);
        let listed: Vec<String> = product
            .map(|p| p.kev.iter().map(|k| kev::pair_key_from_table(k)).collect())
            .unwrap_or_default();
        let kev: Vec<&kev::KevEntry> = feeds
            .kev
            .entries
            .iter()
            .zip(pairs)
            .flat_map(|(e, pair)| {
                let n = listed.iter().filter(|k| *k == pair).count();
                std::iter::repeat_n(e, n)
            })
            .collect();
        if rules.is_empty() && kev.is_empty() && product.is_none() {
            return out;
        }
        let mut safe = Vec::new();
        let mut safe_cves = Vec::new();
        for r in rules.iter().filter(|r| r.status.is_safe()) {
            if r.versions.contains(version) {
                safe.push((r.advisory.clone(), r.cve.clone()));
                if !matches!(r.versions, RuleVersions::Any) {
                    safe_cves.extend(r.cve.clone());
                }
            }
        }
        let mut hits: Vec<AdvisoryHit> = Vec::new();
        let mut seen = Vec::new();
        for r in rules.iter().filter(|r| !r.status.is_safe()) {
            let pair = (r.advisory.clone(), r.cve.clone());
            if r.versions.contains(version) && !safe.contains(&pair) && !seen.contains(&pair) {
                seen.push(pair);
                hits.push(AdvisoryHit {
                    advisory: r.advisory.clone(),
                    cve: r.cve.clone(),
                    cvss: r.cvss,
                    status: r.status,
                });
            }
        }
        if !hits.is_empty() {
            hits.sort_by(|a, b| b.cvss.unwrap_or(-1.0).total_cmp(&a.cvss.unwrap_or(-1.0)));
            out.push(FindingKind::Advisories { hits: hits.into() });
        }
        let mut kev: Vec<KevHit> = kev
            .into_iter()
            .filter(|e| release_date.is_none_or(|d| d <= e.date_added))
            .filter(|e| !safe_cves.contains(&e.cve))
            .map(|e| KevHit {
                cve: e.cve.clone(),
                date_added: e.date_added,
                due_date: e.due_date,
                ransomware: e.ransomware,
            })
            .collect();
        if !kev.is_empty() {
            kev.sort_by(|a, b| a.due_date.cmp(&b.due_date).then_with(|| a.cve.cmp(&b.cve)));
            kev.dedup_by(|a, b| a.cve == b.cve);
            out.push(FindingKind::Kev { hits: kev.into() });
        }
        out
    }

    const TEXTS: &[&str] = &[
        "1",
        "1.0",
        "1.2",
        "1.2.3",
        "1.2.4",
        "2.0",
        "2.0.1",
        "6.3",
        "6.3.9600",
        "7",
        "7.0",
        "7.0.12",
        "7.2.1",
        "10.0",
        "10.0.17763",
        "10.0.17763.5830",
        "10.0.20348.1",
        "2019",
        "13.0",
        "1.2.3-rc1",
        "1.1.1w",
        "9.16(4)12",
        "22.7R2.3",
        "10.2.9-h1",
        "70000",
    ];

    fn random_version(rng: &mut StdRng, scheme: Scheme) -> Option<Version> {
        (0..8).find_map(|_| Version::parse(scheme, TEXTS[rng.gen_range(0..TEXTS.len())]).ok())
    }

    fn random_versions(rng: &mut StdRng, scheme: Scheme) -> Option<RuleVersions> {
        Some(match rng.gen_range(0..10) {
            0 => RuleVersions::Any,
            1 => RuleVersions::Range(Range::All),
            2 | 3 => RuleVersions::Exact(random_version(rng, scheme)?),
            _ => {
                let cmps = [Cmp::Lt, Cmp::Le, Cmp::Eq, Cmp::Ne, Cmp::Ge, Cmp::Gt];
                let mut cs = Vec::new();
                for _ in 0..rng.gen_range(1..5) {
                    cs.push((cmps[rng.gen_range(0..6)], random_version(rng, scheme)?));
                }
                // Parsed ranges are sorted; hand-built ones need not be, and must match too.
                if rng.gen_bool(0.8) {
                    cs.sort_by(|a, b| a.1.cmp(&b.1));
                }
                RuleVersions::Range(Range::Constraints(cs))
            }
        })
    }

    fn random_case(seed: u64, feeds: &mut Feeds) -> Vec<Installation> {
        let mut rng = StdRng::seed_from_u64(seed);
        let entry_pairs: Vec<String> = feeds
            .kev
            .entries
            .iter()
            .map(|e| kev::pair_key(&e.vendor_project, &e.product))
            .collect();
        let products: Vec<(ProductKey, Scheme, Vec<Arc<str>>)> = feeds
            .aliases
            .products()
            .iter()
            .map(|p| {
                let pairs: Vec<String> =
                    p.kev.iter().map(|k| kev::pair_key_from_table(k)).collect();
                let cves = feeds
                    .kev
                    .entries
                    .iter()
                    .zip(&entry_pairs)
                    .filter(|(_, ep)| pairs.contains(ep))
                    .map(|(e, _)| e.cve.clone())
                    .take(6)
                    .collect();
                (p.key.clone(), p.scheme, cves)
            })
            .collect();
        let mut chosen: Vec<(ProductKey, Scheme, Vec<Arc<str>>)> = (0..4)
            .map(|_| products[rng.gen_range(0..products.len())].clone())
            .collect();
        // A key the identity table does not know, with rules of its own.
        chosen.push((
            ProductKey::new("zz-not-in-table"),
            Scheme::Dotted,
            Vec::new(),
        ));
        let statuses = [
            Status::KnownAffected,
            Status::FirstAffected,
            Status::LastAffected,
            Status::UnderInvestigation,
            Status::Fixed,
            Status::FirstFixed,
            Status::KnownNotAffected,
        ];
        feeds.rules.clear();
        for _ in 0..rng.gen_range(0..60) {
            let (key, scheme, cves) = &chosen[rng.gen_range(0..chosen.len())];
            let Some(versions) = random_versions(&mut rng, *scheme) else {
                continue;
            };
            let cve = match rng.gen_range(0..4) {
                0 => None,
                1 if !cves.is_empty() => Some(cves[rng.gen_range(0..cves.len())].clone()),
                _ => Some(Arc::from(
                    format!("CVE-2099-{}", rng.gen_range(0..4)).as_str(),
                )),
            };
            feeds.rules.push(Rule {
                advisory: Arc::from(format!("ADV-{}", rng.gen_range(0..4)).as_str()),
                cve,
                key: key.clone(),
                versions,
                status: statuses[rng.gen_range(0..statuses.len())],
                cvss: rng
                    .gen_bool(0.8)
                    .then(|| f32::from(rng.gen_range(0u8..20)) / 2.0),
            });
        }
        let cycles = [
            None,
            None,
            Some("7.0"),
            Some("2019"),
            Some("2012-r2"),
            Some("nope"),
        ];
        (0..rng.gen_range(1..80))
            .map(|n| {
                let (key, scheme, _) = if rng.gen_bool(0.1) {
                    products[rng.gen_range(0..products.len())].clone()
                } else {
                    chosen[rng.gen_range(0..chosen.len())].clone()
                };
                Installation {
                    id: n,
                    key,
                    version: if rng.gen_bool(0.9) {
                        random_version(&mut rng, scheme)
                    } else {
                        None
                    },
                    cycle: cycles[rng.gen_range(0..cycles.len())].map(str::to_owned),
                }
            })
            .collect()
    }

    fn flat(findings: &[Finding]) -> Vec<(i64, FindingKind)> {
        findings
            .iter()
            .map(|f| (f.installation_id, (*f.kind).clone()))
            .collect()
    }

    #[test]
    fn indexed_engine_agrees_with_the_reference() {
        let t = AliasTable::builtin().unwrap();
        let base = Feeds::builtin(t).unwrap();
        let mut nonempty = 0;
        for seed in 0..200 {
            let mut feeds = base.clone();
            let inst = random_case(seed, &mut feeds);
            let today = [date!(2026 - 11 - 27), date!(2019 - 01 - 01)][(seed % 2) as usize];
            let got = flat(&match_all(&inst, &feeds, today));
            let pairs: Vec<String> = feeds
                .kev
                .entries
                .iter()
                .map(|e| kev::pair_key(&e.vendor_project, &e.product))
                .collect();
            let want: Vec<(i64, FindingKind)> = inst
                .iter()
                .flat_map(|i| {
                    reference_with(&feeds, &pairs, i, today)
                        .into_iter()
                        .map(|k| (i.id, k))
                })
                .collect();
            assert_eq!(got.len(), want.len(), "seed {seed}");
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(g, w, "seed {seed}");
            }
            nonempty += want
                .iter()
                .filter(|(_, k)| matches!(k, FindingKind::Advisories { .. }))
                .count();
        }
        // The random cases must reach the advisory logic, or the comparison proves little.
        assert!(nonempty > 500, "{nonempty}");
    }

    #[test]
    fn evaluate_agrees_with_match_all() {
        let t = AliasTable::builtin().unwrap();
        let mut feeds = Feeds::builtin(t).unwrap();
        let inst = random_case(7, &mut feeds);
        let today = date!(2026 - 11 - 27);
        let engine = Engine::new(&feeds);
        for i in &inst {
            assert_eq!(
                engine.evaluate(&i.key, i.cycle.as_deref(), i.version.as_ref(), today),
                reference(&feeds, i, today),
                "{i:?}"
            );
        }
    }

    #[test]
    fn rematch_equals_full_match_for_touched_installations() {
        let t = AliasTable::builtin().unwrap();
        let base = Feeds::builtin(t).unwrap();
        for seed in 0..50 {
            let mut feeds = base.clone();
            let inst = random_case(seed, &mut feeds);
            let today = date!(2026 - 11 - 27);
            let mut keys: Vec<ProductKey> = inst.iter().map(|i| i.key.clone()).collect();
            keys.sort();
            keys.dedup();
            let changed: BTreeSet<ProductKey> = keys.iter().step_by(2).cloned().collect();
            let (ids, got) = rematch(&changed, &inst, &feeds, today);
            let want_ids: Vec<i64> = inst
                .iter()
                .filter(|i| changed.contains(&i.key))
                .map(|i| i.id)
                .collect();
            assert_eq!(ids, want_ids, "seed {seed}");
            let full = match_all(&inst, &feeds, today);
            let want: Vec<Finding> = full
                .into_iter()
                .filter(|f| want_ids.contains(&f.installation_id))
                .collect();
            assert_eq!(flat(&got), flat(&want), "seed {seed}");
        }
    }

    #[test]
    fn envelope_contains_every_member() {
        let mut rng = StdRng::seed_from_u64(1);
        let all: Vec<Version> = TEXTS
            .iter()
            .filter_map(|t| Version::parse(Scheme::Vendor, t).ok())
            .collect();
        for _ in 0..5000 {
            let Some(vs) = random_versions(&mut rng, Scheme::Vendor) else {
                continue;
            };
            let (lo, hi) = envelope(&vs);
            for v in &all {
                if vs.contains(Some(v)) {
                    assert!(
                        lo.is_none_or(|lo| lo <= v) && hi.is_none_or(|hi| v <= hi),
                        "{v} in {vs:?}"
                    );
                }
            }
        }
    }
}
