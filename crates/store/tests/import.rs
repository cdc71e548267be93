//! Spreadsheet import against a real database (SQLite, or PostgreSQL when
//! `STADTMAUER_TEST_DATABASE_URL` is set): all or nothing, audited, scoped, recomputed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use stadtmauer_core::org::{OrgKind, OrganisationInput};
use stadtmauer_core::user::{MembershipData, Role, UserData};
use stadtmauer_core::{DomainError, OrgId, Scope};
use stadtmauer_inventory::import::{parse, suggest, validate, Action, Preview, Target};
use stadtmauer_inventory::model::{ObjectInput, ObjectKind};
use stadtmauer_inventory::Level;
use stadtmauer_store::testkit::fresh_store;
use stadtmauer_store::Store;

/// A Verbund with an office and two towns; a coordinator of town A and one of IT staff.
async fn setup(store: &Store) -> (Scope, Scope, OrgId, OrgId, OrgId) {
    let sys = store.system_scope("test").await.unwrap();
    let org = |name: &str, kind: OrgKind| {
        OrganisationInput {
            name: name.into(),
            kind: kind.as_str().into(),
            ..Default::default()
        }
        .validate()
        .unwrap()
    };
    let (v, office) = store
        .create_verbund(
            &sys,
            "Landkreis Test",
            &org("ISB Test", OrgKind::Zweckverband),
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
    let mut scopes = Vec::new();
    for (email, role) in [
        ("koord@a.example", Role::Coordinator),
        ("it@a.example", Role::ItStaff),
    ] {
        let uid = store
            .create_user(
                &sys,
                &UserData {
                    email: email.into(),
                    display_name: email.into(),
                },
                "x",
                &MembershipData {
                    organisation_id: a,
                    role,
                    valid_until: None,
                },
            )
            .await
            .unwrap();
        scopes.push(store.scope_for(uid).await.unwrap().unwrap().1);
    }
    let it = scopes.pop().unwrap();
    let coord = scopes.pop().unwrap();
    (coord, it, office, a, b)
}

async fn preview(store: &Store, scope: &Scope, org: OrgId, csv: &str) -> Preview {
    let sheet = parse(csv.as_bytes(), "x.csv").unwrap();
    let existing = store.objects(scope, org, None, true).await.unwrap();
    validate(&sheet, &suggest(&sheet.headers, None), org, &existing)
}

const LIST: &str = "Art;Name;Vertraulichkeit;Verfügbarkeit;Hersteller;Abhängig von\n\
                    Prozess;Bürgerbüro;hoch;sehr hoch;;Einwohnerverfahren\n\
                    Anwendung;Einwohnerverfahren;;;Beispiel GmbH;Server\n\
                    IT-System;Server;;;;Serverraum\n\
                    Standort;Serverraum;;;;\n";

#[tokio::test]
async fn an_import_creates_links_audits_and_recomputes() {
    let (store, _db) = fresh_store().await;
    let (coord, _, _, a, _) = setup(&store).await;
    let before = store.audit_len().await.unwrap();
    let p = preview(&store, &coord, a, LIST).await;
    assert!(p.is_ok(), "{:?}", p.errors);
    let s = store.import_objects(&coord, a, &p).await.unwrap();
    assert_eq!((s.created, s.updated, s.links), (4, 0, 3));
    // One audit entry for the import, listing every object and link it made.
    assert_eq!(store.audit_len().await.unwrap(), before + 1);
    let entry = store
        .audit_entries(
            &coord,
            &stadtmauer_store::audit::AuditFilter {
                organisation: Some(a),
                before_seq: None,
                limit: 1,
            },
        )
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        (entry.action.as_str(), entry.entity.as_str()),
        ("import", "inventory")
    );
    let after: serde_json::Value = serde_json::from_str(entry.after.as_deref().unwrap()).unwrap();
    let names: Vec<&str> = after["created"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Bürgerbüro", "Einwohnerverfahren", "Server", "Serverraum"]
    );
    assert_eq!(after["links"].as_array().unwrap().len(), 3);
    let objs = store.objects(&coord, a, None, false).await.unwrap();
    let room = objs.iter().find(|o| o.data.name == "Serverraum").unwrap();
    assert_eq!(room.effective.c, Level::Hoch);
    assert_eq!(room.effective.a, Level::SehrHoch);
    assert_eq!(store.audit_verify(|_| {}).await.unwrap().1.len(), 0);

    // The same list again, with a changed vendor: updates, no new links, nothing duplicated.
    let changed = LIST.replace("Beispiel GmbH", "Andere AG");
    let p = preview(&store, &coord, a, &changed).await;
    assert!(p.is_ok(), "{:?}", p.errors);
    assert_eq!((p.creates, p.updates), (0, 4));
    let s = store.import_objects(&coord, a, &p).await.unwrap();
    assert_eq!((s.created, s.updated, s.links), (0, 4, 0));
    // The entry names each updated object with only what changed, before and after.
    let entry = store
        .audit_entries(
            &coord,
            &stadtmauer_store::audit::AuditFilter {
                organisation: Some(a),
                before_seq: None,
                limit: 1,
            },
        )
        .await
        .unwrap()
        .remove(0);
    let after: serde_json::Value = serde_json::from_str(entry.after.as_deref().unwrap()).unwrap();
    let updated = after["updated"].as_array().unwrap();
    assert_eq!(updated.len(), 4);
    let app = updated
        .iter()
        .find(|u| u["name"] == "Einwohnerverfahren")
        .unwrap();
    assert_eq!(
        app["changed"],
        serde_json::json!({"vendor": ["Beispiel GmbH", "Andere AG"]})
    );
    let room = updated.iter().find(|u| u["name"] == "Serverraum").unwrap();
    assert_eq!(room["changed"], serde_json::json!({}));
    let objs = store.objects(&coord, a, None, false).await.unwrap();
    assert_eq!(objs.len(), 4);
    let app = objs
        .iter()
        .find(|o| o.data.kind == ObjectKind::Application)
        .unwrap();
    assert_eq!(app.data.vendor.as_deref(), Some("Andere AG"));
}

#[tokio::test]
async fn a_file_whose_last_row_is_bad_imports_nothing() {
    let (store, _db) = fresh_store().await;
    let (coord, _, _, a, _) = setup(&store).await;
    let before = store.audit_len().await.unwrap();
    let bad = format!("{LIST}Anwendung;Kaputt;hoch;;;\n");
    let p = preview(&store, &coord, a, &bad).await;
    assert!(!p.is_ok());
    assert_eq!(p.errors.last().unwrap().row, 6);
    assert!(matches!(
        store.import_objects(&coord, a, &p).await,
        Err(DomainError::Invalid(_))
    ));
    assert_eq!(store.audit_len().await.unwrap(), before);
    assert!(store
        .objects(&coord, a, None, false)
        .await
        .unwrap()
        .is_empty());

    // A last row the database refuses after the others were written in the transaction (here:
    // an update of an object of another town, as a forged preview would ask): rolled back.
    let sys = store.system_scope("test").await.unwrap();
    let other_town = store
        .organisations(&sys)
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.name == "Gemeinde B")
        .unwrap()
        .id;
    let foreign = store
        .create_object(
            &sys,
            other_town,
            &ObjectInput {
                kind: "location".into(),
                name: "Fremder Raum".into(),
                ..Default::default()
            }
            .validate()
            .unwrap(),
        )
        .await
        .unwrap();
    let before = store.audit_len().await.unwrap();
    let mut p = preview(&store, &coord, a, LIST).await;
    assert!(p.is_ok());
    let last = p.rows.last_mut().unwrap();
    last.action = Action::Update {
        id: foreign,
        before: Box::new(last.data.clone().unwrap()),
    };
    assert!(matches!(
        store.import_objects(&coord, a, &p).await,
        Err(DomainError::NotFound)
    ));
    assert_eq!(store.audit_len().await.unwrap(), before);
    assert!(store
        .objects(&coord, a, None, false)
        .await
        .unwrap()
        .is_empty());

    // A link to another town's (not shared) object: refused, nothing written.
    let mut p = preview(&store, &coord, a, LIST).await;
    p.rows.last_mut().unwrap().depends_on = vec![Target::Existing(foreign)];
    assert!(store.import_objects(&coord, a, &p).await.is_err());
    assert_eq!(store.audit_len().await.unwrap(), before);
    assert!(store
        .objects(&coord, a, None, false)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn scope_and_rights_are_checked() {
    let (store, _db) = fresh_store().await;
    let (coord, it, _, a, b) = setup(&store).await;
    let p = preview(&store, &coord, a, LIST).await;
    // Another town: not found, whatever the preview says.
    assert!(matches!(
        store.import_objects(&coord, b, &p).await,
        Err(DomainError::NotFound)
    ));
    // IT staff may import technical records, not processes.
    assert!(matches!(
        store.import_objects(&it, a, &p).await,
        Err(DomainError::Forbidden)
    ));
    let technical = "Art;Name;Abhängig von\nIT-System;Server;Serverraum\nStandort;Serverraum;\n";
    let p = preview(&store, &it, a, technical).await;
    let s = store.import_objects(&it, a, &p).await.unwrap();
    assert_eq!((s.created, s.links), (2, 1));
}

#[tokio::test]
async fn links_to_shared_providers_of_the_verbund() {
    let (store, _db) = fresh_store().await;
    let (coord, _, office, a, _) = setup(&store).await;
    let sys = store.system_scope("test").await.unwrap();
    let krz = store
        .create_object(
            &sys,
            office,
            &ObjectInput {
                kind: "provider".into(),
                name: "Kommunales Rechenzentrum".into(),
                shared: Some("ja".into()),
                ..Default::default()
            }
            .validate()
            .unwrap(),
        )
        .await
        .unwrap();
    let csv = "Art;Name;Abhängig von\nAnwendung;Finanzen;Kommunales Rechenzentrum\n";
    let p = preview(&store, &coord, a, csv).await;
    assert!(p.is_ok(), "{:?}", p.errors);
    assert_eq!(p.rows[0].depends_on, vec![Target::Existing(krz)]);
    let s = store.import_objects(&coord, a, &p).await.unwrap();
    assert_eq!(s.links, 1);
    let (objects, links) = store.town_graph(&coord, a).await.unwrap();
    assert_eq!(links.len(), 1);
    // Exported and imported again into the same town: only updates.
    let csv = stadtmauer_inventory::export::to_csv(a, &objects, &links);
    let sheet = parse(&csv, "export.csv").unwrap();
    let p = validate(&sheet, &suggest(&sheet.headers, None), a, &objects);
    assert!(p.is_ok(), "{:?}", p.errors);
    let s = store.import_objects(&coord, a, &p).await.unwrap();
    assert_eq!((s.created, s.updated, s.links), (0, 1, 0));
}
