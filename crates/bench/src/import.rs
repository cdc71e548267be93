//! `stadtmauer-bench import`: a large spreadsheet import through the store, on SQLite or
//! PostgreSQL, while another town keeps writing; then the cost of creating one object when the
//! installation already holds half a million.
//!
//! Prints the import's commit time, the other writer's latency (p50, p99, slowest) and how often
//! it was told "busy", and the median and p99 of creating one object at the given size.

use anyhow::{bail, Context};
use stadtmauer_core::error::Unavailable;
use stadtmauer_core::org::{OrgKind, OrganisationInput};
use stadtmauer_core::{DomainError, OrgId};
use stadtmauer_inventory::import::{parse, suggest, validate};
use stadtmauer_inventory::model::ObjectInput;
use stadtmauer_store::Store;
use std::time::{Duration, Instant};

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

/// Where the benchmark runs: a SQLite file in a temporary folder, or a new database on the
/// PostgreSQL server of `admin` (dropped at the end).
struct Place {
    url: String,
    cleanup: Option<(String, String)>,
    dir: Option<std::path::PathBuf>,
}

async fn place(postgres: Option<&str>) -> anyhow::Result<Place> {
    sqlx::any::install_default_drivers();
    match postgres {
        None => {
            let dir = std::env::temp_dir()
                .join(format!("stadtmauer-bench-import-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            Ok(Place {
                url: format!("sqlite://{}", dir.join("import.sqlite3").display()),
                cleanup: None,
                dir: Some(dir),
            })
        }
        Some(admin) => {
            let name = format!("stadtmauer_bench_import_{}", std::process::id());
            let pool = sqlx::AnyPool::connect(admin)
                .await
                .context("connecting to PostgreSQL")?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&pool)
                .await?;
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&pool)
                .await?;
            pool.close().await;
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
            Ok(Place {
                url: format!("{base}/{name}"),
                cleanup: Some((admin.to_string(), name)),
                dir: None,
            })
        }
    }
}

async fn town(
    store: &Store,
    verbund: stadtmauer_core::VerbundId,
    name: &str,
) -> anyhow::Result<OrgId> {
    let sys = store.system_scope("bench").await?;
    let o = OrganisationInput {
        name: name.into(),
        kind: OrgKind::Gemeinde.as_str().into(),
        ..Default::default()
    }
    .validate()?;
    Ok(store.create_organisation(&sys, Some(verbund), &o).await?)
}

pub async fn run(rows: usize, objects: usize, postgres: Option<String>) -> anyhow::Result<()> {
    let at = place(postgres.as_deref()).await?;
    let result = measure(&at.url, rows, objects, postgres.is_some()).await;
    if let Some((admin, name)) = &at.cleanup {
        if let Ok(pool) = sqlx::AnyPool::connect(admin).await {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&pool)
                .await;
        }
    }
    if let Some(dir) = &at.dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

async fn measure(url: &str, rows: usize, objects: usize, pg: bool) -> anyhow::Result<()> {
    let backend = if pg { "PostgreSQL" } else { "SQLite" };
    let store = Store::connect(url).await?;
    store.migrate().await?;
    let sys = store.system_scope("bench").await?;
    let office = OrganisationInput {
        name: "Büro".into(),
        kind: "zweckverband".into(),
        ..Default::default()
    }
    .validate()?;
    let (verbund, _) = store.create_verbund(&sys, "Bench-Verbund", &office).await?;
    let a = town(&store, verbund, "Importstadt").await?;
    let b = town(&store, verbund, "Nebenstadt").await?;
    let c = town(&store, verbund, "Großstadt").await?;
    // A scope is resolved when taken: take it again so that it covers the new towns.
    let sys = store.system_scope("bench").await?;

    // The spreadsheet: two thirds IT systems, one third applications on two systems each.
    let systems = rows * 2 / 3;
    let mut csv = String::from("Art;Name;Hersteller;Produkt;Version;Abhängig von\n");
    for i in 0..systems {
        csv.push_str(&format!("IT-System;Server {i:06};Debian;Linux;12;\n"));
    }
    for i in 0..rows - systems {
        let (x, y) = (i % systems.max(1), (i * 7 + 3) % systems.max(1));
        csv.push_str(&format!(
            "Anwendung;Fachverfahren {i:06};;;;\"Server {x:06};Server {y:06}\"\n"
        ));
    }
    let t = Instant::now();
    let sheet = parse(csv.as_bytes(), "bench.csv")?;
    let existing = store.objects(&sys, a, None, true).await?;
    let preview = validate(&sheet, &suggest(&sheet.headers, None), a, &existing);
    if !preview.errors.is_empty() || preview.rows.iter().any(|r| r.has_errors) {
        bail!("the synthetic spreadsheet did not validate");
    }
    let check = ms(t.elapsed());

    // The import, while another town writes every 25 ms.
    let importer = {
        let store = store.clone();
        let sys = sys.clone();
        tokio::spawn(async move {
            let t = Instant::now();
            let r = store.import_objects(&sys, a, &preview).await;
            (r, t.elapsed())
        })
    };
    let mut lat = Vec::new();
    let mut busy = 0usize;
    let mut failed = 0usize;
    let mut i = 0usize;
    let started = Instant::now();
    // Bounded: the importer finishes, or 5 minutes pass.
    while !importer.is_finished() && started.elapsed() < Duration::from_secs(300) {
        let data = ObjectInput {
            kind: "system".into(),
            name: format!("Nebenbei {i}"),
            ..Default::default()
        }
        .validate()?;
        let t = Instant::now();
        match store.create_object(&sys, b, &data).await {
            Ok(_) => {}
            Err(DomainError::Unavailable(Unavailable::Busy)) => busy += 1,
            Err(_) => failed += 1,
        }
        lat.push(ms(t.elapsed()));
        i += 1;
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let (summary, commit) = importer.await?;
    let summary = summary.map_err(|e| anyhow::anyhow!("import failed: {e:?}"))?;
    let commit = ms(commit);
    let slowest = lat.iter().copied().fold(0.0, f64::max);
    let (p50, p99) = (pct(&mut lat, 0.5), pct(&mut lat, 0.99));
    println!(
        "{backend}: import of {rows} rows ({} objects, {} links): checked in {check:.0} ms, committed in {commit:.0} ms (target < 10,000 ms)",
        summary.created, summary.links
    );
    println!(
        "{backend}: another town writing during the import: {} writes, p50 {p50:.1} ms, p99 {p99:.1} ms, slowest {slowest:.0} ms, {busy} told busy, {failed} failed",
        lat.len()
    );

    // Object creation at `objects` objects: fill a third town with plain rows, then time single
    // creations through the store (with audit entry and Schutzbedarf recomputation).
    let have: i64 = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM inv_object")
        .fetch_one(store.pool())
        .await?;
    let fill = objects.saturating_sub(have as usize);
    let t = Instant::now();
    let mut n = 0usize;
    while n < fill {
        let k = (fill - n).min(1000);
        let values: Vec<String> = (n..n + k)
            .map(|j| {
                format!(
                    "({}, 'system', 'Bestand {j:07}', 'active', 0, 1, 1, 1, 0, 0)",
                    c.0
                )
            })
            .collect();
        sqlx::query(&format!(
            "INSERT INTO inv_object (organisation_id, kind, name, status, shared, eff_c, eff_i, eff_a, created_at, updated_at) VALUES {}",
            values.join(", ")
        ))
        .execute(store.pool())
        .await?;
        n += k;
    }
    if pg {
        sqlx::query("ANALYZE").execute(store.pool()).await?;
    }
    println!(
        "{backend}: filled to {objects} objects in {:.0} ms",
        ms(t.elapsed())
    );
    let scans = || async {
        if !pg {
            return Ok::<i64, anyhow::Error>(0);
        }
        // The statistics collector lags a little; give it a moment.
        tokio::time::sleep(Duration::from_millis(600)).await;
        Ok(sqlx::query_scalar::<_, i64>(
            "SELECT CAST(COALESCE(SUM(seq_scan), 0) AS BIGINT) FROM pg_stat_user_tables WHERE relname = 'inv_object'",
        )
        .fetch_one(store.pool())
        .await?)
    };
    let scans_before = scans().await?;
    let mut one = Vec::new();
    for j in 0..101 {
        let data = ObjectInput {
            kind: "system".into(),
            name: format!("Einzeln {j}"),
            ..Default::default()
        }
        .validate()?;
        let t = Instant::now();
        store.create_object(&sys, b, &data).await?;
        one.push(ms(t.elapsed()));
    }
    let seq_scans = scans().await? - scans_before;
    let (o50, o99) = (pct(&mut one, 0.5), pct(&mut one, 0.99));
    println!(
        "{backend}: create one object at {objects} objects: p50 {o50:.2} ms, p99 {o99:.2} ms (target < 10 ms){}",
        if pg { format!("; sequential scans of the object table during 101 creations: {seq_scans}") } else { String::new() }
    );
    println!(
        "BENCH import backend={} rows={rows} commit_ms={commit:.0} writer_p50_ms={p50:.1} writer_p99_ms={p99:.1} writer_busy={busy} writer_failed={failed} objects={objects} create_p50_ms={o50:.2} create_p99_ms={o99:.2}",
        if pg { "postgres" } else { "sqlite" }
    );
    store.close().await;
    Ok(())
}
