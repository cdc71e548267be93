//! `stadtmauer-bench council`: the council report of one town as PDF (target < 1 s) and the
//! reports of every member of the demo Verbund plus the Verbund report (target < 5 s on 2 cores),
//! on the demo Landkreis (organisations, Informationsverbund, council records) in SQLite.

use anyhow::Context;
use stadtmauer_report::verbund::{verbund_report, CostKey, VerbundInput};
use stadtmauer_report::{output, town, Edition};
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

pub async fn run(threads: usize, out: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("stadtmauer-bench-council-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = measure(&dir, threads.max(1), out).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn measure(
    dir: &std::path::Path,
    threads: usize,
    out: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    let url = format!("sqlite://{}", dir.join("council.sqlite3").display());
    let store = stadtmauer_store::Store::connect(&url).await?;
    store.migrate().await?;
    let hash = stadtmauer_core::credentials::hash_password("bench-passwort-lang-genug")
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("loading the demo Landkreis (organisations, inventory, records) …");
    stadtmauer_demo::load(&store, &hash, |_| {}).await?;
    stadtmauer_demo::load_inventory(&store, |_| {}).await?;
    let sys = store.system_scope("bench").await?;
    let verbund = store
        .verbuende(&sys)
        .await?
        .into_iter()
        .find(|v| v.name == "Landkreis Musterau")
        .context("demo Verbund missing")?;
    let members: Vec<_> = store
        .organisations(&sys)
        .await?
        .into_iter()
        .filter(|o| o.verbund_id == Some(verbund.id) && !o.is_office)
        .collect();
    let today = time::OffsetDateTime::now_utc().date();

    // One town's report: facts, model, PDF. Each run takes another town, so that typst's
    // memoisation of identical input does not flatter the figure; the first run is cold.
    let mut one = Vec::new();
    let mut bytes = 0;
    for m in members.iter().take(5) {
        let t = Instant::now();
        let facts = store.council_facts(&sys, m.id).await?;
        let r = town::town_report(&facts, Edition::Confidential, today, "bench");
        let pdf = tokio::task::spawn_blocking(move || output::pdf(&r, today)).await??;
        bytes = bytes.max(pdf.len());
        one.push(t.elapsed());
    }
    println!(
        "one town's report PDF: first (cold) {:.0} ms, median {:.0} ms, max {:.0} ms over 5 towns (up to {} KiB)",
        one[0].as_secs_f64() * 1000.0,
        median(one.clone()).as_secs_f64() * 1000.0,
        one.iter().max().copied().unwrap_or_default().as_secs_f64() * 1000.0,
        bytes / 1024
    );

    // Every member (confidential) and the Verbund report, PDFs rendered on `threads` workers.
    let t = Instant::now();
    let mut facts = Vec::new();
    for m in &members {
        facts.push(store.council_facts(&sys, m.id).await?);
    }
    let gathered = t.elapsed();
    let mut reports: Vec<_> = facts
        .iter()
        .map(|f| town::town_report(f, Edition::Confidential, today, "bench"))
        .collect();
    let (name, vf, shared) = store.council_verbund_facts(&sys, verbund.id).await?;
    reports.push(verbund_report(
        &VerbundInput {
            verbund_name: &name,
            members: &vf,
            shared,
            office_cost_cents: Some(25_000_000),
            key: CostKey {
                inhabitants: 2,
                staff: 1,
                workstations: 1,
            },
        },
        today,
        "bench",
    ));
    if let Some(out) = &out {
        // The member with the most records (a complete report).
        let mut town_id = members.first().context("no members")?.id;
        let mut most = 0;
        for m in &members {
            let n = store.council_programme(&sys, m.id).await?.events.len();
            if n > most {
                most = n;
                town_id = m.id;
            }
        }
        std::fs::create_dir_all(out)?;
        let f = store.council_facts(&sys, town_id).await?;
        let public = town::town_report(&f, Edition::Public, today, "1");
        std::fs::write(out.join("council-report.pdf"), output::pdf(&public, today)?)?;
        if let Some(v) = reports.last() {
            std::fs::write(out.join("verbund-report.pdf"), output::pdf(v, today)?)?;
        }
        println!(
            "wrote council-report.pdf and verbund-report.pdf to {}",
            out.display()
        );
    }
    let n = reports.len();
    let queue = std::sync::Arc::new(std::sync::Mutex::new(reports));
    let mut workers = Vec::new();
    for _ in 0..threads {
        let q = queue.clone();
        workers.push(tokio::task::spawn_blocking(
            move || -> anyhow::Result<usize> {
                let mut total = 0;
                loop {
                    let next = q.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.pop();
                    let Some(r) = next else { return Ok(total) };
                    total += output::pdf(&r, today)?.len();
                }
            },
        ));
    }
    let mut total = 0;
    for w in workers {
        total += w.await??;
    }
    println!(
        "{} member reports + the Verbund report: {:.2} s on {threads} threads (facts {:.0} ms; {} KiB of PDF)",
        n - 1,
        t.elapsed().as_secs_f64(),
        gathered.as_secs_f64() * 1000.0,
        total / 1024
    );
    Ok(())
}
