//! `stadtmauer-bench updates`: the update-watch matcher on one core. 1,000,000 installed-software
//! rows (`stadtmauer_lifecycle::synthetic`, over every product of the built-in identity table)
//! against the shipped end-of-life data and KEV catalog plus 10,000 synthetic CSAF advisories;
//! then the incremental re-match after a KEV update that adds one entry.

use stadtmauer_lifecycle::feed::Feeds;
use stadtmauer_lifecycle::identity::AliasTable;
use stadtmauer_lifecycle::matching::Engine;
use stadtmauer_lifecycle::{snapshot, synthetic};
use std::time::Instant;

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// The shipped KEV catalog, dated one day later, with one more FortiOS entry.
fn newer_kev() -> anyhow::Result<Vec<u8>> {
    let mut v: serde_json::Value = serde_json::from_str(snapshot::KEV_JSON)?;
    let released = v["dateReleased"]
        .as_str()
        .unwrap_or("2025-08-25")
        .get(..10)
        .unwrap_or("2025-08-25")
        .to_string();
    let date = time::Date::parse(
        &released,
        time::macros::format_description!("[year]-[month]-[day]"),
    )?
    .next_day()
    .unwrap_or(time::macros::date!(2026 - 01 - 01));
    let day = format!("{date}");
    v["dateReleased"] = format!("{day}T00:00:00.000Z").into();
    let list = v["vulnerabilities"]
        .as_array_mut()
        .ok_or_else(|| anyhow::anyhow!("KEV without vulnerabilities"))?;
    list.push(serde_json::json!({
        "cveID": "CVE-2099-99999", "vendorProject": "Fortinet", "product": "FortiOS",
        "vulnerabilityName": "Benchmark", "dateAdded": day, "shortDescription": "",
        "requiredAction": "", "dueDate": day, "knownRansomwareCampaignUse": "Unknown", "notes": ""
    }));
    let n = list.len();
    v["count"] = n.into();
    Ok(serde_json::to_vec(&v)?)
}

pub fn run(installations: usize, advisories: usize) -> anyhow::Result<()> {
    let t = Instant::now();
    let aliases = AliasTable::builtin()?;
    let mut feeds = Feeds::builtin(aliases.clone())?;
    feeds.rules = synthetic::advisories(advisories, 7, &aliases);
    feeds.advisories = feeds.rules.iter().map(|r| r.advisory.to_string()).collect();
    let insts = synthetic::installations(installations, 42, &aliases);
    println!(
        "setup: {} installations, {} EOL products, {} KEV entries, {} advisories ({} rules) in {:.0} ms",
        insts.len(),
        feeds.eol.len(),
        feeds.kev.entries.len(),
        feeds.advisories.len(),
        feeds.rules.len(),
        ms(t)
    );
    let today = time::OffsetDateTime::now_utc().date();

    let t = Instant::now();
    let engine = Engine::new(&feeds);
    let index_ms = ms(t);
    let t = Instant::now();
    let found = engine.match_all(&insts, today);
    let match_ms = ms(t);
    println!(
        "full match (one core): {:.0} ms (+ {:.0} ms index), {} findings (target < 2000 ms)",
        match_ms,
        index_ms,
        found.len()
    );
    drop(found);
    drop(engine);

    let bytes = newer_kev()?;
    let t = Instant::now();
    let changed = feeds.update_kev("bench", &bytes)?;
    let engine = Engine::new(&feeds);
    let (ids, found) = engine.rematch(&changed, &insts, today);
    println!(
        "re-match after a KEV update: {:.0} ms (parse, diff, index, match), {} product(s) changed, {} installations touched, {} findings",
        ms(t),
        changed.len(),
        ids.len(),
        found.len()
    );
    Ok(())
}
