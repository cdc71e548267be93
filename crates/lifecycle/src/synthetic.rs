//! Deterministic synthetic data for benchmarks: installations and advisory rules over the
//! built-in products, with the repetition real inventories have (few versions per product).

use crate::csaf::{Cmp, Range, Rule, RuleVersions, Status};
use crate::identity::{AliasTable, ProductKey};
use crate::matching::Installation;
use crate::version::{Scheme, Version};
use std::sync::Arc;

/// xorshift64*: tiny, deterministic, good enough for test data.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn products(aliases: &AliasTable) -> Vec<(ProductKey, Scheme)> {
    aliases
        .products()
        .iter()
        .filter(|p| p.scheme != Scheme::Unknown)
        .map(|p| (p.key.clone(), p.scheme))
        .collect()
}

fn version(rng: &mut Rng, scheme: Scheme) -> Option<Version> {
    let text = match scheme {
        Scheme::WindowsBuild => format!(
            "10.0.{}.{}",
            [14393, 17763, 19045, 20348, 22631, 26100][rng.below(6) as usize],
            rng.below(40)
        ),
        // Real inventories hold a few hundred distinct versions per product, not thousands.
        _ => format!("{}.{}.{}", 6 + rng.below(4), rng.below(5), rng.below(20)),
    };
    Version::parse(scheme, &text).ok()
}

/// `n` installations with ids 1..=n.
pub fn installations(n: usize, seed: u64, aliases: &AliasTable) -> Vec<Installation> {
    let ps = products(aliases);
    let mut rng = Rng(seed | 1);
    (0..n)
        .map(|i| {
            let (key, scheme) = ps[rng.below(ps.len() as u64) as usize].clone();
            Installation {
                id: i as i64 + 1,
                key,
                version: version(&mut rng, scheme),
                cycle: None,
            }
        })
        .collect()
}

/// Rules of `n` advisories, each with 1–3 CVEs and an affected range plus a fixed version.
pub fn advisories(n: usize, seed: u64, aliases: &AliasTable) -> Vec<Rule> {
    let ps = products(aliases);
    let mut rng = Rng(seed.wrapping_mul(31) | 1);
    let mut out = Vec::with_capacity(n * 4);
    for a in 0..n {
        let advisory: Arc<str> = Arc::from(format!("SYN-{seed}-{a}").as_str());
        let (key, scheme) = ps[rng.below(ps.len() as u64) as usize].clone();
        for c in 0..=rng.below(3) {
            let cve: Arc<str> = Arc::from(format!("CVE-2099-{a:05}{c}").as_str());
            let (Some(lo), Some(hi)) = (version(&mut rng, scheme), version(&mut rng, scheme))
            else {
                continue;
            };
            let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
            let cvss = Some((rng.below(100) as f32) / 10.0);
            out.push(Rule {
                advisory: advisory.clone(),
                cve: Some(cve.clone()),
                key: key.clone(),
                versions: RuleVersions::Range(Range::Constraints(vec![
                    (Cmp::Ge, lo),
                    (Cmp::Lt, hi.clone()),
                ])),
                status: Status::KnownAffected,
                cvss,
            });
            out.push(Rule {
                advisory: advisory.clone(),
                cve: Some(cve),
                key: key.clone(),
                versions: RuleVersions::Exact(hi),
                status: Status::Fixed,
                cvss,
            });
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::feed::Feeds;
    use crate::matching::Engine;

    #[test]
    fn deterministic() {
        let t = AliasTable::builtin().unwrap();
        assert_eq!(installations(100, 7, &t), installations(100, 7, &t));
        assert_eq!(advisories(10, 7, &t).len(), advisories(10, 7, &t).len());
    }

    /// `cargo test -p stadtmauer-lifecycle --release -- --ignored --nocapture bench_1m`
    #[test]
    #[ignore]
    fn bench_1m() {
        let today = time::macros::date!(2026 - 11 - 27);
        let t = AliasTable::builtin().unwrap();
        let mut feeds = Feeds::builtin(t.clone()).unwrap();
        feeds.rules = advisories(10_000, 1, &t);
        let inst = installations(1_000_000, 1, &t);
        let start = std::time::Instant::now();
        let engine = Engine::new(&feeds);
        let built = start.elapsed();
        let f = engine.match_all(&inst, today);
        let all = start.elapsed();
        println!(
            "match_all: {} installations, {} rules, {} findings in {all:?} (index built in {built:?})",
            inst.len(),
            feeds.rules.len(),
            f.len()
        );
        drop(engine);

        // A KEV update as CISA publishes them: one new entry (Fortinet FortiOS), newer date.
        let mut kev: serde_json::Value = serde_json::from_str(crate::snapshot::KEV_JSON).unwrap();
        let vulns = kev["vulnerabilities"].as_array_mut().unwrap();
        let mut entry = vulns[0].clone();
        entry["cveID"] = "CVE-2099-99999".into();
        entry["vendorProject"] = "Fortinet".into();
        entry["product"] = "FortiOS".into();
        entry["dateAdded"] = "2026-11-26".into();
        vulns.push(entry);
        kev["count"] = vulns.len().into();
        kev["dateReleased"] = "2026-11-26T12:00:00.000Z".into();
        let bytes = serde_json::to_vec(&kev).unwrap();
        let start = std::time::Instant::now();
        let changed = feeds.update_kev("bench", &bytes).unwrap();
        let updated = start.elapsed();
        let engine = Engine::new(&feeds);
        let indexed = start.elapsed();
        let (ids, g) = engine.rematch(&changed, &inst, today);
        println!(
            "KEV update: changed keys {:?}; parse+diff {updated:?}, index {:?}, rematch of {} installations ({} findings) {:?}",
            changed.iter().map(ProductKey::as_str).collect::<Vec<_>>(),
            indexed - updated,
            ids.len(),
            g.len(),
            start.elapsed() - indexed
        );
        assert!(!ids.is_empty());
    }
}
