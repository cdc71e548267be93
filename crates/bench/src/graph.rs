//! `stadtmauer-bench graph`: the Schutzbedarf engine and the provider-concentration view on a
//! synthetic Verbund of 15 towns with 100,000 objects and 300,000 links.
//!
//! Prints, for the engine in memory: full propagation, incremental update after one link
//! change; and through the store on SQLite: full recomputation, one link added (incremental, in
//! its transaction, with audit), and the provider-concentration view.

use anyhow::Context;
use stadtmauer_core::org::{OrgKind, OrganisationInput};
use stadtmauer_core::{ObjectId, OrgId};
use stadtmauer_inventory::graph::{Graph, Node, Source};
use stadtmauer_inventory::model::{Level, Protection};
use std::time::{Duration, Instant};

/// A deterministic pseudo-random sequence (xorshift), so every run builds the same graph.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One synthetic object: (id, town index or None for shared, kind, own requirement).
struct Obj {
    id: i64,
    town: Option<usize>,
    kind: &'static str,
    own: Option<Protection>,
}

/// Builds the synthetic Verbund: per town processes → applications → systems → locations, systems
/// also on connections; applications and systems on the 20 shared providers.
fn synthesize(towns: usize, objects: usize, links: usize) -> (Vec<Obj>, Vec<(i64, i64)>) {
    let mut rng = Rng(0x5747_4d41_5545_5221);
    let shared = 20;
    let per_town = (objects - shared) / towns;
    let mix = [
        ("process", 10),
        ("application", 20),
        ("system", 50),
        ("location", 10),
        ("connection", 10),
    ];
    let mut objs = Vec::with_capacity(objects);
    let mut by: Vec<std::collections::HashMap<&'static str, Vec<i64>>> =
        vec![Default::default(); towns];
    let mut next_id = 1i64;
    for _ in 0..shared {
        objs.push(Obj {
            id: next_id,
            town: None,
            kind: "provider",
            own: None,
        });
        next_id += 1;
    }
    let level = |r: &mut Rng| Level::from_i64(1 + (r.next() % 3) as i64).unwrap_or(Level::Normal);
    for (t, slot) in by.iter_mut().enumerate() {
        for (kind, pct) in mix {
            for _ in 0..per_town * pct / 100 {
                let own = (kind == "process").then(|| Protection {
                    c: level(&mut rng),
                    i: level(&mut rng),
                    a: level(&mut rng),
                });
                objs.push(Obj {
                    id: next_id,
                    town: Some(t),
                    kind,
                    own,
                });
                slot.entry(kind).or_default().push(next_id);
                next_id += 1;
            }
        }
    }
    let mut edges = std::collections::HashSet::with_capacity(links);
    let pairs = [
        ("process", "application"),
        ("application", "system"),
        ("system", "system"),
        ("system", "location"),
        ("system", "connection"),
        ("location", "location"),
    ];
    while edges.len() < links {
        let t = rng.below(towns);
        if rng.below(20) == 0 {
            // Applications and systems on a shared provider.
            let kind = if rng.below(2) == 0 {
                "application"
            } else {
                "system"
            };
            let from = by[t][kind][rng.below(by[t][kind].len())];
            edges.insert((from, 1 + rng.below(shared) as i64));
            continue;
        }
        let (fk, tk) = pairs[rng.below(pairs.len())];
        let from = by[t][fk][rng.below(by[t][fk].len())];
        let to = by[t][tk][rng.below(by[t][tk].len())];
        if from != to {
            edges.insert((from, to));
        }
    }
    (objs, edges.into_iter().collect())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

pub async fn run(objects: usize, links: usize, db: bool) -> anyhow::Result<()> {
    let towns = 15;
    let t0 = Instant::now();
    let (objs, edges) = synthesize(towns, objects, links);
    println!(
        "synthetic Verbund: {towns} towns, {} objects, {} links (built in {:.0} ms)",
        objs.len(),
        edges.len(),
        ms(t0.elapsed())
    );

    // The engine in memory.
    let nodes = objs.iter().map(|o| Node {
        id: o.id,
        source: o.own.map(Source::Own).unwrap_or(Source::Inherit),
    });
    let mut g = Graph::new(nodes, edges.iter().copied());
    let t = Instant::now();
    let mut derived = g.propagate_all();
    let full = ms(t.elapsed());
    let mut rng = Rng(42);
    let mut incr = Vec::new();
    let mut touched = Vec::new();
    for _ in 0..21 {
        let (f, to) = edges[rng.below(edges.len())];
        g.remove_edge(f, to);
        let t = Instant::now();
        touched.push(g.update(&mut derived, &[to]));
        incr.push(ms(t.elapsed()));
        g.add_edge(f, to);
        g.update(&mut derived, &[to]);
    }
    println!("engine  full propagation              {full:>9.1} ms   (target < 1000 ms)");
    println!("engine  incremental, one link removed {:>9.2} ms   median of 21, {} objects recomputed on median (target < 20 ms)", median(incr.clone()), median(touched.iter().map(|x| *x as f64).collect()));

    if !db {
        println!(
            "BENCH graph engine_full_ms={full:.1} engine_incremental_ms={:.2}",
            median(incr)
        );
        return Ok(());
    }

    // Through the store on SQLite.
    let dir = std::env::temp_dir().join(format!("stadtmauer-bench-graph-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = format!("sqlite://{}", dir.join("graph.sqlite3").display());
    let store = stadtmauer_store::Store::connect(&url).await?;
    store.migrate().await?;
    let sys = store.system_scope("bench").await?;
    let office = OrganisationInput {
        name: "Büro".into(),
        kind: "zweckverband".into(),
        ..Default::default()
    }
    .validate()?;
    let (verbund, office_id) = store
        .create_verbund(&sys, "Synthetischer Verbund", &office)
        .await?;
    let sys = store.system_scope("bench").await?;
    let mut town_ids = Vec::new();
    for t in 0..towns {
        let o = OrganisationInput {
            name: format!("Gemeinde {t}"),
            kind: OrgKind::Gemeinde.as_str().into(),
            ..Default::default()
        }
        .validate()?;
        town_ids.push(store.create_organisation(&sys, Some(verbund), &o).await?);
    }
    let t = Instant::now();
    load(&store, &objs, &edges, &town_ids, office_id)
        .await
        .context("loading the synthetic graph")?;
    println!(
        "store   bulk load                     {:>9.0} ms",
        ms(t.elapsed())
    );
    let sys = store.system_scope("bench").await?;
    let t = Instant::now();
    store.recompute_all(&sys).await?;
    let db_full = ms(t.elapsed());
    println!("store   full recomputation            {db_full:>9.0} ms   (reads, computes and writes back every object)");
    let mut add = Vec::new();
    for _ in 0..11 {
        let t_ = rng.below(towns);
        let town_objs: Vec<&Obj> = objs.iter().filter(|o| o.town == Some(t_)).collect();
        let procs: Vec<&&Obj> = town_objs.iter().filter(|o| o.kind == "process").collect();
        let apps: Vec<&&Obj> = town_objs
            .iter()
            .filter(|o| o.kind == "application")
            .collect();
        let (p, a) = (procs[rng.below(procs.len())], apps[rng.below(apps.len())]);
        let t = Instant::now();
        if store
            .add_link(&sys, ObjectId(p.id), ObjectId(a.id))
            .await
            .is_ok()
        {
            add.push(ms(t.elapsed()));
        }
    }
    println!("store   one link added (incremental)  {:>9.1} ms   median of {}, in its transaction with audit entry", median(add.clone()), add.len());
    // Cold: right after a write (which invalidates every cached view), median of 5.
    let mut cold = Vec::new();
    let mut impact = Vec::new();
    for i in 0..5 {
        let procs: Vec<&Obj> = objs.iter().filter(|o| o.kind == "process").collect();
        let p = procs[(i * 997) % procs.len()];
        let mut data = store.object(&sys, ObjectId(p.id)).await?.data;
        data.description = Some(format!("Benchmark-Änderung {i}"));
        store.update_object(&sys, ObjectId(p.id), &data).await?;
        let seq = store.audit_seq().await?;
        let t = Instant::now();
        impact = store.provider_concentration_at(&sys, verbund, seq).await?;
        cold.push(ms(t.elapsed()));
    }
    let conc = median(cold);
    let mut warm = Vec::new();
    for _ in 0..11 {
        let seq = store.audit_seq().await?;
        let t = Instant::now();
        store.provider_concentration_at(&sys, verbund, seq).await?;
        warm.push(ms(t.elapsed()));
    }
    let warm = median(warm);
    let biggest = impact
        .first()
        .map(|i| (i.provider.name.clone(), i.processes.len(), i.towns))
        .unwrap_or_default();
    println!("store   provider concentration, cold  {conc:>9.0} ms   ({} providers; largest: {} → {} processes in {} towns) (median of 5, each right after a write; target < 200 ms)", impact.len(), biggest.0, biggest.1, biggest.2);
    println!("store   provider concentration, warm  {warm:>9.2} ms   (cached until the next write anywhere; median of 11)");
    println!(
        "BENCH graph engine_full_ms={full:.1} engine_incremental_ms={:.2} store_full_ms={db_full:.0} store_link_ms={:.1} provider_concentration_ms={conc:.0} provider_concentration_warm_ms={warm:.2}",
        median(incr),
        median(add)
    );
    store.close().await;
    if std::env::var_os("STADTMAUER_BENCH_KEEP").is_some() {
        println!("database kept: {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// Inserts the synthetic objects and links directly, in one transaction per table (a bulk load
/// is not what is measured).
async fn load(
    store: &stadtmauer_store::Store,
    objs: &[Obj],
    edges: &[(i64, i64)],
    towns: &[OrgId],
    office: OrgId,
) -> anyhow::Result<()> {
    let mut tx = store.pool().begin().await?;
    for chunk in objs.chunks(500) {
        let mut sql = String::from("INSERT INTO inv_object (id, organisation_id, kind, name, status, shared, own_c, own_i, own_a, created_at, updated_at) VALUES ");
        for (i, o) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(',');
            }
            let org = o.town.map(|t| towns[t]).unwrap_or(office);
            let own = |f: fn(&Protection) -> Level| {
                o.own
                    .map(|p| f(&p).as_i64().to_string())
                    .unwrap_or_else(|| "NULL".into())
            };
            sql.push_str(&format!(
                "({}, {}, '{}', 'Objekt {}', 'active', {}, {}, {}, {}, 0, 0)",
                o.id,
                org.0,
                o.kind,
                o.id,
                i64::from(o.town.is_none()),
                own(|p| p.c),
                own(|p| p.i),
                own(|p| p.a)
            ));
        }
        sqlx::query(&sql).execute(&mut *tx).await?;
    }
    for (n, chunk) in edges.chunks(1000).enumerate() {
        let mut sql = String::from("INSERT INTO inv_link (id, from_id, to_id, created_at) VALUES ");
        for (i, (f, t)) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!("({}, {f}, {t}, 0)", n * 1000 + i + 1));
        }
        sqlx::query(&sql).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}
