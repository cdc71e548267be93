//! `stadtmauer-bench continuity`: the restart order and the readiness of a synthetic Verbund of
//! 100,000 objects (in memory; target < 1 s), then one demo town's emergency handbook as offline
//! HTML and as PDF, read from SQLite (target < 2 s each).

use stadtmauer_store::continuity::stadtmauer_continuity::{
    handbook, labels::Lang, readiness, restart, synthetic, verdict,
};
use stadtmauer_store::continuity::{analyse, patch_status, unknown_checklist};
use std::time::{Duration, Instant};

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub async fn run(objects: usize, towns: usize) -> anyhow::Result<()> {
    let t = Instant::now();
    let v = synthetic::generate(objects, towns, 42);
    println!(
        "synthetic Verbund: {} towns, {} objects, {} links (generated in {:.0} ms)",
        v.towns.len(),
        v.objects(),
        v.links(),
        ms(t.elapsed())
    );
    let start = time::macros::datetime!(2026-11-28 08:00);
    let today = start.date();
    // Restart order of the whole Verbund after a total outage, 4 restore teams per town.
    let (graph, bias) = v.whole();
    let t = Instant::now();
    let mut total = restart::Outage::default();
    for n in &graph.nodes {
        if n.kind == stadtmauer_inventory::ObjectKind::System {
            total.down.insert(n.id, n.restore);
        }
    }
    let plan = restart::plan(
        &graph,
        &bias,
        &total,
        restart::PlanOptions {
            teams: 4 * v.towns.len(),
            outage_start: start,
        },
    );
    let restart_time = t.elapsed();
    let missed: usize = plan.processes.iter().map(|p| p.missed.len()).sum();
    println!(
        "restart order, whole Verbund (4 teams per town): {:.0} ms — {} steps, {} processes, all back after {}, {} missed deadlines",
        ms(restart_time),
        plan.steps.len(),
        plan.processes.len(),
        plan.total,
        missed
    );
    // Readiness of every town: measured restores, verdicts (with the critical-path plan) and score.
    let t = Instant::now();
    let mut scores = Vec::new();
    for town in &v.towns {
        let mut g = town.graph.clone();
        let measured = verdict::apply_measured_restores(&mut g, &town.backups);
        let verdicts = verdict::judge(&g, &town.bias, &town.backups, &measured, today);
        let r = readiness::score(
            &verdicts,
            &town.backups,
            &unknown_checklist(),
            patch_status(),
            today,
        );
        scores.push(r.score);
    }
    let readiness_time = t.elapsed();
    println!(
        "readiness, every town (verdicts + score): {:.0} ms — scores {:?}",
        ms(readiness_time),
        scores
    );
    let both = restart_time + readiness_time;
    println!(
        "restart order + readiness: {:.0} ms (target < 1000 ms: {})",
        ms(both),
        if both < Duration::from_secs(1) {
            "met"
        } else {
            "NOT met"
        }
    );

    // One demo town's handbook from SQLite.
    let dir = std::env::temp_dir().join(format!(
        "stadtmauer-bench-continuity-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir)?;
    let result = handbook_bench(&dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn handbook_bench(dir: &std::path::Path) -> anyhow::Result<()> {
    let url = format!("sqlite://{}", dir.join("continuity.sqlite3").display());
    let store = stadtmauer_store::Store::connect(&url).await?;
    store.migrate().await?;
    let hash = stadtmauer_core::credentials::hash_password("bench-passwort-lang-genug")
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("loading the demo Landkreis (organisations, inventory, records) …");
    stadtmauer_demo::load(&store, &hash, |_| {}).await?;
    stadtmauer_demo::load_inventory(&store, |_| {}).await?;
    let sys = store.system_scope("bench").await?;
    let town = store
        .organisations(&sys)
        .await?
        .into_iter()
        .find(|o| o.name == "Stadt Falkenhorst an der Murne")
        .ok_or_else(|| anyhow::anyhow!("demo town missing"))?;
    let today = time::OffsetDateTime::now_utc().date();
    let start = time::PrimitiveDateTime::new(today, time::Time::MIDNIGHT);
    let mut html_times = Vec::new();
    let mut pdf_times = Vec::new();
    let (mut html_len, mut pdf_len, mut pages_hint) = (0, 0, 0);
    for _ in 0..5 {
        let t = Instant::now();
        let c = store.continuity(&sys, town.id).await?;
        let a = analyse(&c, today, start, 2);
        let h = stadtmauer_store::continuity::handbook(
            &c,
            &a,
            &town.name,
            c.handbook_version(),
            today,
            Lang::De,
        );
        let html = handbook::render_html(&h);
        html_times.push(t.elapsed());
        html_len = html.len();
        let t = Instant::now();
        let c = store.continuity(&sys, town.id).await?;
        let a = analyse(&c, today, start, 2);
        let h = stadtmauer_store::continuity::handbook(
            &c,
            &a,
            &town.name,
            c.handbook_version(),
            today,
            Lang::De,
        );
        let data = stadtmauer_store::continuity::handbook_pdf_data(&h)?;
        let pdf = tokio::task::spawn_blocking(move || {
            stadtmauer_pdf::render(
                stadtmauer_store::continuity::HANDBOOK_TYP,
                &[("data.json", data)],
                today,
            )
        })
        .await??;
        pdf_times.push(t.elapsed());
        pdf_len = pdf.len();
        pages_hint = h.restart.len();
    }
    let (html_cold, pdf_cold) = (html_times[0], pdf_times[0]);
    html_times.sort();
    pdf_times.sort();
    println!(
        "handbook of {} ({} restart steps), read from SQLite and rendered: HTML first {:.1} ms, median of 5 {:.1} ms ({} KiB); PDF first {:.0} ms, median of 5 {:.0} ms ({} KiB) — target < 2000 ms: {}",
        town.name,
        pages_hint,
        ms(html_cold),
        ms(html_times[2]),
        html_len / 1024,
        ms(pdf_cold),
        ms(pdf_times[2]),
        pdf_len / 1024,
        if pdf_cold.max(pdf_times[2]) < Duration::from_secs(2)
            && html_cold.max(html_times[2]) < Duration::from_secs(2)
        {
            "met"
        } else {
            "NOT met"
        }
    );
    Ok(())
}
