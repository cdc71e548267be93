//! Integration tests of the store against a real database (SQLite, or PostgreSQL when
//! `STADTMAUER_TEST_DATABASE_URL` is set).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use stadtmauer_core::org::{OrgKind, OrganisationData, OrganisationInput};
use stadtmauer_core::user::{MembershipData, Role, UserData};
use stadtmauer_core::{Access, DomainError, OrgId, Scope};
use stadtmauer_inventory::model::ObjectKind;
use stadtmauer_store::audit::AuditFilter;
use stadtmauer_store::testkit::{empty_database, fresh_store};
use stadtmauer_store::{OpenError, Store};

fn org(name: &str, kind: OrgKind) -> OrganisationData {
    OrganisationInput {
        name: name.into(),
        kind: kind.as_str().into(),
        inhabitants: Some("4200".into()),
        ..Default::default()
    }
    .validate()
    .unwrap()
}

/// A Verbund with an office and two towns, plus a coordinator of town A.
async fn setup(store: &Store) -> (Scope, OrgId, OrgId, OrgId) {
    let sys = store.system_scope("test").await.unwrap();
    let (v, office) = store
        .create_verbund(
            &sys,
            "Landkreis Test",
            &org("ISB-Büro Test", OrgKind::Zweckverband),
        )
        .await
        .unwrap();
    let sys = store.system_scope("test").await.unwrap();
    let a = store
        .create_organisation(&sys, Some(v), &org("Gemeinde A", OrgKind::Gemeinde))
        .await
        .unwrap();
    let b = store
        .create_organisation(&sys, Some(v), &org("Gemeinde B", OrgKind::Gemeinde))
        .await
        .unwrap();
    let sys = store.system_scope("test").await.unwrap();
    let uid = store
        .create_user(
            &sys,
            &UserData {
                email: "koord@a.example".into(),
                display_name: "Koordinatorin A".into(),
            },
            "x",
            &MembershipData {
                organisation_id: a,
                role: Role::Coordinator,
                valid_until: None,
            },
        )
        .await
        .unwrap();
    let (_, scope) = store.scope_for(uid).await.unwrap().unwrap();
    (scope, office, a, b)
}

#[tokio::test]
async fn scoped_reads_and_writes() {
    let (store, _db) = fresh_store().await;
    let (coord, office, a, b) = setup(&store).await;
    assert!(coord.can(a, Access::Write));
    assert!(coord.access(b).is_none() && coord.access(office).is_none());
    let visible: Vec<OrgId> = store
        .organisations(&coord)
        .await
        .unwrap()
        .iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(visible, vec![a]);
    assert!(matches!(
        store.organisation(&coord, b).await,
        Err(DomainError::NotFound)
    ));
    assert!(matches!(
        store
            .update_organisation(&coord, b, &org("Übernommen", OrgKind::Stadt))
            .await,
        Err(DomainError::NotFound)
    ));
    store
        .update_organisation(&coord, a, &org("Gemeinde A-Dorf", OrgKind::Gemeinde))
        .await
        .unwrap();
    assert_eq!(
        store.organisation(&coord, a).await.unwrap().name,
        "Gemeinde A-Dorf"
    );
    // Duplicate names in one Verbund are a conflict on the field.
    let sys = store.system_scope("test").await.unwrap();
    let dup = store
        .update_organisation(&sys, b, &org("Gemeinde A-Dorf", OrgKind::Gemeinde))
        .await;
    assert!(
        matches!(&dup, Err(DomainError::Conflict(e)) if e.get("name").is_some()),
        "{dup:?}"
    );
    // The coordinator sees only the audit entries of the own town.
    let entries = store
        .audit_entries(
            &coord,
            &AuditFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!entries.is_empty());
    assert!(entries.iter().all(|e| e.organisation_id == Some(a)));
}

#[tokio::test]
async fn audit_chain_detects_tampering() {
    let (store, _db) = fresh_store().await;
    setup(&store).await;
    let (n, problems) = store.audit_verify(|_| {}).await.unwrap();
    assert!(n >= 5, "{n}");
    assert!(problems.is_empty(), "{problems:?}");
    // Edit any row: found.
    for seq in 1..=n as i64 {
        sqlx::query("UPDATE audit_log SET actor = actor || 'x' WHERE seq = $1")
            .bind(seq)
            .execute(store.pool())
            .await
            .unwrap();
        let (_, problems) = store.audit_verify(|_| {}).await.unwrap();
        assert!(!problems.is_empty(), "edit of {seq} not detected");
        sqlx::query(
            "UPDATE audit_log SET actor = SUBSTR(actor, 1, LENGTH(actor) - 1) WHERE seq = $1",
        )
        .bind(seq)
        .execute(store.pool())
        .await
        .unwrap();
    }
    assert!(store.audit_verify(|_| {}).await.unwrap().1.is_empty());
    // Delete a row in the middle, then the newest: both found.
    sqlx::query("DELETE FROM audit_log WHERE seq = 2")
        .execute(store.pool())
        .await
        .unwrap();
    assert!(!store.audit_verify(|_| {}).await.unwrap().1.is_empty());
}

#[tokio::test]
async fn deleting_the_newest_entry_is_detected() {
    let (store, _db) = fresh_store().await;
    setup(&store).await;
    sqlx::query("DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)")
        .execute(store.pool())
        .await
        .unwrap();
    let (_, problems) = store.audit_verify(|_| {}).await.unwrap();
    assert!(
        matches!(
            problems[..],
            [stadtmauer_core::audit::Problem::HeadMismatch { .. }]
        ),
        "{problems:?}"
    );
}

#[tokio::test]
async fn backup_restore_round_trip() {
    let (store, _db) = fresh_store().await;
    let (coord, _, a, _) = setup(&store).await;
    store
        .add_contact(
            &coord,
            a,
            &stadtmauer_core::org::ContactInput {
                function: "Bürgermeisterin".into(),
                name: "Erika Muster".into(),
                email: Some("b@a.example".into()),
                phone: Some("+49 5555 1234".into()),
            }
            .validate()
            .unwrap(),
        )
        .await
        .unwrap();
    let mut buf = Vec::new();
    let summary = store.backup(&mut buf, |_| {}).await.unwrap();
    assert!(summary.rows > 8);

    let (target, _db2) = fresh_store().await;
    let restored = target.restore(&buf[..], false, |_| {}).await.unwrap();
    assert_eq!(restored.rows, summary.rows);
    // A second backup of the restored database is identical apart from its header line.
    let mut again = Vec::new();
    target.backup(&mut again, |_| {}).await.unwrap();
    let body = |b: &[u8]| {
        String::from_utf8(b.to_vec())
            .unwrap()
            .lines()
            .skip(1)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (x, y) = (body(&buf), body(&again));
    assert_eq!(x.lines().count(), y.lines().count());
    assert_eq!(
        x.lines().take(x.lines().count() - 1).collect::<Vec<_>>(),
        y.lines().take(y.lines().count() - 1).collect::<Vec<_>>()
    );
    assert!(target.audit_verify(|_| {}).await.unwrap().1.is_empty());
    // New rows get fresh ids after a restore (PostgreSQL identity sequences follow).
    let sys = target.system_scope("t").await.unwrap();
    let v = target.verbuende(&sys).await.unwrap()[0].id;
    target
        .create_organisation(&sys, Some(v), &org("Gemeinde C", OrgKind::Gemeinde))
        .await
        .unwrap();
    // Restoring into a database with data is refused, and nothing changes.
    assert!(matches!(
        target.restore(&buf[..], false, |_| {}).await,
        Err(stadtmauer_store::backup::RestoreError::NotEmpty)
    ));
    // A damaged file is refused before anything is written.
    let mut damaged = buf.clone();
    let pos = damaged.len() / 2;
    damaged[pos] = if damaged[pos] == b'1' { b'2' } else { b'1' };
    let (third, _db3) = fresh_store().await;
    assert!(third.restore(&damaged[..], false, |_| {}).await.is_err());
    assert_eq!(
        third
            .organisations(&third.system_scope("t").await.unwrap())
            .await
            .unwrap()
            .len(),
        0
    );
    let truncated = &buf[..buf.len() - 20];
    assert!(third.restore(truncated, false, |_| {}).await.is_err());
}

#[tokio::test]
async fn backup_covers_every_table() {
    let (store, _db) = fresh_store().await;
    let covered = stadtmauer_store::backup::covered_tables();
    for t in store.table_names().await.unwrap() {
        assert!(
            covered.contains(&t.as_str()),
            "table {t} is neither backed up nor listed as transient"
        );
    }
}

#[tokio::test]
async fn newer_schema_is_refused() {
    let db = empty_database().await;
    let store = Store::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    store.check_schema().await.unwrap();
    sqlx::query("INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) VALUES (99999999999999, 'from the future', CURRENT_TIMESTAMP, TRUE, $1, 0)")
        .bind(vec![0u8; 4])
        .execute(store.pool())
        .await
        .unwrap();
    let err = store.migrate().await.unwrap_err();
    assert!(matches!(err, OpenError::NewerSchema { .. }), "{err}");
    assert!(err.to_string().contains("newer"));
    assert!(matches!(
        store.check_schema().await,
        Err(OpenError::NewerSchema { .. })
    ));
}

#[tokio::test]
async fn unmigrated_database_is_reported() {
    let db = empty_database().await;
    let store = Store::connect(&db.url).await.unwrap();
    assert!(matches!(
        store.check_schema().await,
        Err(OpenError::NotMigrated { found: 0, .. })
    ));
}

/// Damaged backups of every kind are refused before anything is written: random byte changes,
/// truncations and line swaps of a real backup, restored into an empty database.
#[tokio::test]
async fn damaged_backups_change_nothing() {
    let (store, _db) = fresh_store().await;
    setup(&store).await;
    let mut buf = Vec::new();
    store.backup(&mut buf, |_| {}).await.unwrap();
    let (target, _db2) = fresh_store().await;
    let sys = target.system_scope("t").await.unwrap();
    // A deterministic pseudo-random sequence, so a failure can be reproduced.
    let mut x: u64 = 0x5eed_cafe;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for case in 0..60 {
        let mut damaged = buf.clone();
        match case % 3 {
            0 => {
                let i = (next() as usize) % damaged.len();
                damaged[i] = (next() % 256) as u8;
                if damaged == buf {
                    continue;
                }
            }
            1 => damaged.truncate((next() as usize) % damaged.len()),
            _ => {
                let text = String::from_utf8(damaged.clone()).unwrap();
                let mut lines: Vec<&str> = text.lines().collect();
                let (a, b) = (
                    (next() as usize) % lines.len(),
                    (next() as usize) % lines.len(),
                );
                if lines[a] == lines[b] {
                    continue;
                }
                lines.swap(a, b);
                damaged = (lines.join("\n") + "\n").into_bytes();
            }
        }
        assert!(
            target.restore(&damaged[..], false, |_| {}).await.is_err(),
            "case {case} was accepted"
        );
        assert!(
            target.organisations(&sys).await.unwrap().is_empty(),
            "case {case} wrote data"
        );
        assert_eq!(
            target.audit_len().await.unwrap(),
            0,
            "case {case} wrote audit entries"
        );
    }
}

mod inventory {
    use super::*;
    use stadtmauer_core::ObjectId;
    use stadtmauer_inventory::model::{Level, ObjectInput, OverrideInput, Protection};

    fn obj(kind: &str, name: &str) -> ObjectInput {
        ObjectInput {
            kind: kind.into(),
            name: name.into(),
            ..Default::default()
        }
    }

    fn process(name: &str, c: &str, i: &str, a: &str) -> ObjectInput {
        ObjectInput {
            need_c: Some(c.into()),
            need_i: Some(i.into()),
            need_a: Some(a.into()),
            ..obj("process", name)
        }
    }

    async fn add(store: &Store, scope: &Scope, org: OrgId, input: ObjectInput) -> ObjectId {
        store
            .create_object(scope, org, &input.validate().unwrap())
            .await
            .unwrap()
    }

    fn p(c: Level, i: Level, a: Level) -> Protection {
        Protection { c, i, a }
    }

    #[tokio::test]
    async fn inheritance_links_overrides_and_tenancy() {
        use Level::*;
        let (store, _db) = fresh_store().await;
        let (coord, office, a, b) = setup(&store).await;
        let meld = add(
            &store,
            &coord,
            a,
            process("Einwohnermeldewesen", "hoch", "hoch", "normal"),
        )
        .await;
        let kasse = add(
            &store,
            &coord,
            a,
            process("Kasse", "normal", "sehr hoch", "hoch"),
        )
        .await;
        let app = add(&store, &coord, a, obj("application", "Meldeverfahren")).await;
        let srv = add(
            &store,
            &coord,
            a,
            ObjectInput {
                system_type: Some("server".into()),
                ..obj("system", "srv-app01")
            },
        )
        .await;
        let room = add(&store, &coord, a, obj("location", "Serverraum Rathaus")).await;
        store.add_link(&coord, meld, app).await.unwrap();
        store.add_link(&coord, kasse, app).await.unwrap();
        store.add_link(&coord, app, srv).await.unwrap();
        let link = store.add_link(&coord, srv, room).await.unwrap();
        assert_eq!(
            store.object(&coord, room).await.unwrap().effective,
            p(Hoch, SehrHoch, Hoch)
        );
        assert_eq!(store.object(&coord, room).await.unwrap().via[1], Some(srv));
        // Removing a link lowers the value again.
        store.remove_link(&coord, srv, link).await.unwrap();
        assert_eq!(
            store.object(&coord, room).await.unwrap().effective,
            Protection::NORMAL
        );
        store.add_link(&coord, srv, room).await.unwrap();
        // A cycle does not hang anything.
        store.add_link(&coord, app, app).await.unwrap_err();
        let app2 = add(&store, &coord, a, obj("application", "Schnittstelle")).await;
        store.add_link(&coord, app, app2).await.unwrap();
        store.add_link(&coord, app2, app).await.unwrap();
        assert_eq!(
            store.object(&coord, app2).await.unwrap().effective,
            p(Hoch, SehrHoch, Hoch)
        );
        // An override needs a reason and replaces the inherited value downstream.
        assert!(OverrideInput {
            c: "normal".into(),
            i: "hoch".into(),
            a: "hoch".into(),
            reason: "kurz".into()
        }
        .validate()
        .is_err());
        let ovr = OverrideInput {
            c: "normal".into(),
            i: "hoch".into(),
            a: "hoch".into(),
            reason: "Verteilungseffekt: nur Testdaten auf diesem Server".into(),
        }
        .validate()
        .unwrap();
        store.set_override(&coord, srv, Some(&ovr)).await.unwrap();
        assert_eq!(
            store.object(&coord, room).await.unwrap().effective,
            p(Normal, Hoch, Hoch)
        );
        store.set_override(&coord, srv, None).await.unwrap();
        assert_eq!(
            store.object(&coord, room).await.unwrap().effective,
            p(Hoch, SehrHoch, Hoch)
        );
        // Changing a process's own requirement flows down.
        let mut k = process("Kasse", "normal", "normal", "normal")
            .validate()
            .unwrap();
        k.own = Some(Protection::NORMAL);
        store.update_object(&coord, kasse, &k).await.unwrap();
        assert_eq!(
            store.object(&coord, room).await.unwrap().effective,
            p(Hoch, Hoch, Normal)
        );

        // Another town's objects are invisible, and links across towns are refused.
        let sys = store.system_scope("t").await.unwrap();
        let foreign = add(&store, &sys, b, obj("application", "Fremdes Verfahren")).await;
        assert!(matches!(
            store.object(&coord, foreign).await,
            Err(DomainError::NotFound)
        ));
        assert!(store.add_link(&sys, meld, foreign).await.is_err());
        // A shared provider of the Verbund may be linked from every member.
        let shared = ObjectInput {
            shared: Some("ja".into()),
            ..obj("provider", "Kommunale Datenzentrale")
        };
        assert!(
            store
                .create_object(&coord, office, &shared.validate().unwrap())
                .await
                .is_err(),
            "only the office creates shared providers"
        );
        let kdz = add(&store, &sys, office, shared).await;
        store.add_link(&coord, srv, kdz).await.unwrap();
        let b_app = add(
            &store,
            &sys,
            b,
            process("Standesamt", "hoch", "hoch", "sehr hoch"),
        )
        .await;
        store.add_link(&sys, b_app, kdz).await.unwrap();
        assert_eq!(
            store.object(&coord, kdz).await.unwrap().effective.a,
            SehrHoch
        );
        // Provider concentration: the coordinator of A sees only A's processes; the system all.
        let v = store
            .organisation(&sys, a)
            .await
            .unwrap()
            .verbund_id
            .unwrap();
        let mine = store.provider_concentration(&coord, v).await.unwrap();
        let all = store.provider_concentration(&sys, v).await.unwrap();
        let count = |x: &[stadtmauer_store::inventory::ProviderImpact]| {
            x.iter()
                .find(|i| i.provider.id == kdz)
                .map(|i| (i.processes.len(), i.towns))
                .unwrap()
        };
        assert_eq!(count(&mine), (2, 1));
        assert_eq!(count(&all), (3, 2));
        // Deleting an object removes its links and lowers what it raised.
        store.delete_object(&coord, app).await.unwrap();
        assert_eq!(
            store.object(&coord, room).await.unwrap().effective,
            Protection::NORMAL
        );
        // The full recomputation agrees with the incremental one.
        let before: Vec<_> = store
            .objects(&sys, a, None, true)
            .await
            .unwrap()
            .into_iter()
            .map(|o| (o.id, o.effective))
            .collect();
        store.recompute_all(&sys).await.unwrap();
        let after: Vec<_> = store
            .objects(&sys, a, None, true)
            .await
            .unwrap()
            .into_iter()
            .map(|o| (o.id, o.effective))
            .collect();
        assert_eq!(before, after);
        // Every change is in the audit log.
        let entries = store
            .audit_entries(
                &sys,
                &AuditFilter {
                    organisation: Some(a),
                    limit: 1000,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(entries.iter().filter(|e| e.entity == "link").count() >= 8);
        assert!(entries.iter().any(|e| e.action == "override"));
        // Deleting the town takes its inventory along.
        store.delete_organisation(&sys, b).await.unwrap();
        assert!(store.audit_verify(|_| {}).await.unwrap().1.is_empty());
    }
}

/// The derived "who uses which provider" table stays exactly what a fresh walk over the links
/// gives, through a long pseudo-random run of adds, removals and deletions in two towns.
#[tokio::test]
async fn provider_use_stays_exact() {
    use sqlx::Row;
    use stadtmauer_core::ObjectId;
    use stadtmauer_inventory::model::ObjectInput;
    let (store, _db) = fresh_store().await;
    let (_, office, a, b) = setup(&store).await;
    let sys = store.system_scope("test").await.unwrap();
    let mut objects: Vec<(ObjectId, OrgId, ObjectKind)> = Vec::new();
    let input = |kind: &str, name: String, shared: bool| ObjectInput {
        kind: kind.into(),
        name,
        shared: shared.then(|| "ja".into()),
        ..Default::default()
    };
    for (i, s) in ["KDZ", "Cloud"].iter().enumerate() {
        let id = store
            .create_object(
                &sys,
                office,
                &input("provider", s.to_string(), true).validate().unwrap(),
            )
            .await
            .unwrap();
        objects.push((id, office, ObjectKind::Provider));
        let _ = i;
    }
    for town in [a, b] {
        for (kind, n) in [
            ("process", 4),
            ("application", 4),
            ("system", 4),
            ("provider", 1),
        ] {
            for i in 0..n {
                let id = store
                    .create_object(
                        &sys,
                        town,
                        &input(kind, format!("{kind} {i}"), false)
                            .validate()
                            .unwrap(),
                    )
                    .await
                    .unwrap();
                objects.push((id, town, ObjectKind::parse(kind).unwrap()));
            }
        }
    }
    let check = |store: Store| async move {
        let rows = sqlx::query("SELECT l.from_id, l.to_id FROM inv_link l")
            .fetch_all(store.pool())
            .await
            .unwrap();
        let edges: Vec<(i64, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        let ids = |kind: &'static str| {
            let store = store.clone();
            async move {
                sqlx::query("SELECT id FROM inv_object WHERE kind = $1")
                    .bind(kind)
                    .fetch_all(store.pool())
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.get::<i64, _>(0))
                    .collect::<Vec<i64>>()
            }
        };
        let expected = stadtmauer_inventory::graph::provider_users(
            &ids("provider").await,
            &ids("process").await,
            &edges,
        );
        let stored: Vec<(i64, i64)> = sqlx::query(
            "SELECT provider_id, process_id FROM inv_provider_use ORDER BY provider_id, process_id",
        )
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
        assert_eq!(stored, expected);
        stored.len()
    };
    let mut seed: u64 = 0x5eed;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % n
    };
    let mut links: Vec<(ObjectId, stadtmauer_core::LinkId)> = Vec::new();
    let mut most = 0;
    for step in 0..120 {
        let op = next(10);
        if op < 8 || links.is_empty() {
            let (f, ft, fk) = objects[next(objects.len())];
            let targets: Vec<ObjectId> = objects
                .iter()
                .filter(|(t, tt, tk)| {
                    *t != f && fk.may_depend_on(*tk) && (*tt == ft || *tt == office)
                })
                .map(|o| o.0)
                .collect();
            if ft != office && !targets.is_empty() {
                let t = targets[next(targets.len())];
                if let Ok(l) = store.add_link(&sys, f, t).await {
                    links.push((f, l));
                }
            }
        } else if op < 9 && step % 3 == 0 {
            let (f, l) = links.swap_remove(next(links.len()));
            let _ = store.remove_link(&sys, f, l).await;
        } else {
            let i = next(objects.len());
            let (o, org, kind) = objects[i];
            if org != office {
                store.delete_object(&sys, o).await.unwrap();
                objects.swap_remove(i);
                links.retain(|(f, _)| *f != o);
                let name = format!("{} neu {step}", kind.as_str());
                let id = store
                    .create_object(
                        &sys,
                        org,
                        &input(kind.as_str(), name, false).validate().unwrap(),
                    )
                    .await
                    .unwrap();
                objects.push((id, org, kind));
            }
        }
        most = most.max(check(store.clone()).await);
    }
    assert!(
        most >= 6,
        "the run should build real chains, got at most {most} pairs"
    );
    // A rebuild from scratch agrees.
    store.recompute_all(&sys).await.unwrap();
    check(store.clone()).await;
}

/// Cached scopes and views are tagged with the audit sequence number; any write anywhere moves
/// it, so nothing stale is ever served — also not to a second process on the same database.
#[tokio::test]
async fn cached_views_follow_every_write() {
    let (store, db) = fresh_store().await;
    let (coord, _, a, _) = setup(&store).await;
    let other_process = Store::connect(&db.url).await.unwrap();
    let (sid, _) = store.create_session(coord.user, false, 3600).await.unwrap();
    for s in [&store, &other_process] {
        let seen = s.session_scope(&sid).await.unwrap().unwrap();
        assert!(seen.user.unwrap().1.can(a, Access::Write));
    }
    // The first process removes the role; the second, whose cache holds the old scope, sees it.
    let sys = store.system_scope("t").await.unwrap();
    let m = store.user(&sys, coord.user).await.unwrap().memberships[0].id;
    store.remove_membership(&sys, coord.user, m).await.unwrap();
    for s in [&other_process, &store] {
        let seen = s.session_scope(&sid).await.unwrap().unwrap();
        assert!(
            seen.user.unwrap().1.access(a).is_none(),
            "stale scope served"
        );
    }
    // Dashboard figures follow a new contact at once.
    let seq = store.audit_seq().await.unwrap();
    let before = other_process.org_summaries_at(&sys, seq).await.unwrap();
    let contacts = |v: &[stadtmauer_store::orgs::OrgSummary]| {
        v.iter().find(|x| x.organisation.id == a).unwrap().contacts
    };
    store
        .add_contact(
            &sys,
            a,
            &stadtmauer_core::org::ContactInput {
                function: "Kasse".into(),
                name: "Neu".into(),
                email: None,
                phone: None,
            }
            .validate()
            .unwrap(),
        )
        .await
        .unwrap();
    let seq2 = store.audit_seq().await.unwrap();
    assert!(seq2 > seq);
    let after = other_process.org_summaries_at(&sys, seq2).await.unwrap();
    assert_eq!(contacts(&after), contacts(&before) + 1);
}
