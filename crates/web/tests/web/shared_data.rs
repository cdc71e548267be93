//! Shared data has an owner: a Verbund's product aliases apply to its members only, are changed by
//! its office only and are written into its own audit log; the installation's aliases and the
//! feeds are changed by administrators only.

use crate::harness::*;
use axum::http::StatusCode;
use stadtmauer_core::{OrgId, Owner, Scope, VerbundId};
use stadtmauer_inventory::model::ObjectInput;
use stadtmauer_store::audit::AuditFilter;

const OTHER_OFFICE: &str = "henrik.baumann@isb-beispielstein.example";
const OTHER_TOWN: &str = "Stadt Beispielstein";

/// A Windows Server 2012 R2 file server in a town: end of life, and KEV entries.
async fn file_server(app: &TestApp, org: OrgId) {
    let sys = app.system().await;
    let input = ObjectInput {
        kind: "system".into(),
        name: "Dateiserver Rathaus".into(),
        vendor: Some("Microsoft".into()),
        product: Some("Windows Server 2012 R2".into()),
        ..Default::default()
    }
    .validate()
    .unwrap();
    app.store.create_object(&sys, org, &input).await.unwrap();
}

/// The open findings of a town as (product, kind) pairs, after a re-match.
async fn findings(app: &TestApp, org: OrgId) -> Vec<(String, String)> {
    let sys = app.system().await;
    app.store.sync_findings(&sys, org).await.unwrap();
    let mut v: Vec<(String, String)> = app
        .store
        .findings(&sys, org, false)
        .await
        .unwrap()
        .into_iter()
        .map(|f| (f.product_key, format!("{:?}", f.kind)))
        .collect();
    v.sort();
    v
}

async fn verbund_id(app: &TestApp, name: &str) -> VerbundId {
    let sys = app.system().await;
    app.store
        .verbuende(&sys)
        .await
        .unwrap()
        .into_iter()
        .find(|v| v.name == name)
        .unwrap()
        .id
}

async fn alias_entries(app: &TestApp, scope: &Scope) -> usize {
    let f = AuditFilter {
        limit: 1000,
        ..Default::default()
    };
    app.store
        .audit_entries(scope, &f)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.entity == "product_alias")
        .count()
}

#[tokio::test]
async fn one_verbunds_alias_never_changes_another_verbunds_findings() {
    let app = spawn_app().await;
    let ours = app.org_id(TOWN_A).await;
    let theirs = app.org_id(OTHER_TOWN).await;
    file_server(&app, ours).await;
    file_server(&app, theirs).await;
    let ours_before = findings(&app, ours).await;
    let theirs_before = findings(&app, theirs).await;
    assert!(
        ours_before.iter().any(|(p, _)| p == "windows-server"),
        "{ours_before:?}"
    );
    let beispielstein = verbund_id(&app, "Landkreis Beispielstein").await;

    // The Beispielstein office maps "Windows Server 2012 R2" to Ubuntu, as in the outside check.
    let mut other = app.session_for(OTHER_OFFICE).await;
    let page = other.get("/updates/aliases").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !page.body.contains("name=\"owner\""),
        "one owner to choose from: no choice shown"
    );
    let r = other
        .post(
            "/updates/aliases",
            &[("pattern", "Windows Server 2012 R2"), ("key", "ubuntu")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let sys = app.system().await;
    let stored = app.store.user_aliases(&sys).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].owner, Owner::Verbund(beispielstein));
    let id = stored[0].id.to_string();

    // Beispielstein's own town follows its alias; Musterau's findings are untouched.
    assert_ne!(findings(&app, theirs).await, theirs_before);
    assert_eq!(findings(&app, ours).await, ours_before);

    // Musterau's office neither sees nor deletes it, nor adds an alias for Beispielstein or the
    // installation.
    let mut office = app.session_for(OFFICE).await;
    let page = office.get("/updates/aliases").await;
    assert!(
        !page.body.contains("Windows Server 2012 R2</th>"),
        "{}",
        page.body
    );
    let r = office.post("/updates/aliases/remove", &[("id", &id)]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(app.store.user_aliases(&sys).await.unwrap().len(), 1);
    for owner in [
        format!("verbund:{}", beispielstein.0),
        "installation".into(),
    ] {
        let r = office
            .post(
                "/updates/aliases",
                &[
                    ("pattern", "Musterau-OS"),
                    ("key", "php"),
                    ("owner", &owner),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{owner}");
    }
    // A coordinator of Beispielstein's own town sees it but may not change it.
    let mut coord = app
        .session_for("greta.lindqvist@beispielstein.example")
        .await;
    assert!(coord
        .get("/updates/aliases")
        .await
        .body
        .contains("Windows Server 2012 R2"));
    let r = coord.post("/updates/aliases/remove", &[("id", &id)]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The change is in Beispielstein's audit log, not in Musterau's.
    assert_eq!(
        alias_entries(&app, &app.scope_of(OTHER_OFFICE).await).await,
        1
    );
    assert_eq!(alias_entries(&app, &app.scope_of(OFFICE).await).await, 0);

    // Beispielstein's office removes it: its town's findings are as before.
    let r = other.post("/updates/aliases/remove", &[("id", &id)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(findings(&app, theirs).await, theirs_before);
    assert_eq!(
        alias_entries(&app, &app.scope_of(OTHER_OFFICE).await).await,
        2
    );
}

#[tokio::test]
async fn the_installations_aliases_are_the_administrators_and_apply_everywhere() {
    let app = spawn_app().await;
    let ours = app.org_id(TOWN_A).await;
    let theirs = app.org_id(OTHER_TOWN).await;
    file_server(&app, ours).await;
    file_server(&app, theirs).await;
    let ours_before = findings(&app, ours).await;
    let theirs_before = findings(&app, theirs).await;

    let mut admin = app.session_for(ADMIN).await;
    let page = admin.get("/updates/aliases").await;
    assert!(
        page.body.contains("name=\"owner\""),
        "administrators choose"
    );
    let r = admin
        .post(
            "/updates/aliases",
            &[("pattern", "Windows Server 2012 R2"), ("key", "ubuntu")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "owner required");
    let r = admin
        .post(
            "/updates/aliases",
            &[
                ("pattern", "Windows Server 2012 R2"),
                ("key", "ubuntu"),
                ("owner", "installation"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_ne!(findings(&app, ours).await, ours_before);
    assert_ne!(findings(&app, theirs).await, theirs_before);

    // Every Verbund's log shows the change; no office may undo it.
    assert_eq!(alias_entries(&app, &app.scope_of(OFFICE).await).await, 1);
    assert_eq!(
        alias_entries(&app, &app.scope_of(OTHER_OFFICE).await).await,
        1
    );
    let sys = app.system().await;
    let id = app.store.user_aliases(&sys).await.unwrap()[0]
        .id
        .to_string();
    let mut office = app.session_for(OFFICE).await;
    let r = office.post("/updates/aliases/remove", &[("id", &id)]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

fn landesprofil() -> String {
    r#"{"catalog":{"uuid":"0b6c1d8e-5f0a-4a3e-9c2d-7e1f2a3b4c5d","metadata":{"title":"Beispielsteiner Vorgaben","version":"1.0","oscal-version":"1.1.2"},"groups":[{"id":"BS","title":"Vorgaben","controls":[{"id":"bs-1","title":"Vorgabe 1","parts":[{"name":"statement","prose":"Die Kommune MUSS Datensicherungen offline halten."}]}]}]}}"#
        .to_string()
}

#[tokio::test]
async fn a_verbunds_imported_catalog_is_seen_and_used_by_its_members_only() {
    let app = spawn_app().await;
    let beispielstein = verbund_id(&app, "Landkreis Beispielstein").await;
    let musterau = verbund_id(&app, "Landkreis Musterau").await;
    let ours = app.org_id(TOWN_A).await;
    let other_scope = app.scope_of(OTHER_OFFICE).await;
    let meta = app
        .store
        .import_catalog(
            &other_scope,
            Owner::Verbund(beispielstein),
            "vorgaben.json",
            landesprofil().as_bytes(),
        )
        .await
        .unwrap();
    let code = format!("catalog:{}", meta.id);
    // Nobody imports for another Verbund or for the installation.
    for owner in [Owner::Verbund(musterau), Owner::Installation] {
        assert!(app
            .store
            .import_catalog(&other_scope, owner, "x.json", landesprofil().as_bytes())
            .await
            .is_err());
    }

    // Musterau's office and towns do not see it, cannot open it, cannot make it a target.
    let mut office = app.session_for(OFFICE).await;
    let list = office.get("/catalog/imported").await;
    assert!(
        !list.body.contains("Beispielsteiner Vorgaben"),
        "{}",
        list.body
    );
    let r = office
        .get(&format!("/catalog/imported/view?id={}", meta.id))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = office
        .post(
            &format!("/verbuende/{}/security", musterau.0),
            &[("target", &code)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let mut coord = app.session_for(COORD_A).await;
    let r = coord
        .post(
            &format!("/organisations/{ours}/security/target"),
            &[("target", &code)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);

    // Musterau may import the same file for itself: it learns nothing of Beispielstein's copy.
    let own = app
        .store
        .import_catalog(
            &app.scope_of(OFFICE).await,
            Owner::Verbund(musterau),
            "vorgaben.json",
            landesprofil().as_bytes(),
        )
        .await
        .unwrap();
    assert_ne!(own.id, meta.id);

    // Beispielstein's own town sees it and may take it as its target.
    let theirs = app.org_id(OTHER_TOWN).await;
    let mut their_coord = app
        .session_for("greta.lindqvist@beispielstein.example")
        .await;
    let list = their_coord.get("/catalog/imported").await;
    assert!(list.body.contains("Beispielsteiner Vorgaben"));
    let r = their_coord
        .post(
            &format!("/organisations/{theirs}/security/target"),
            &[("target", &code)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // The import is in Beispielstein's log only.
    let imports = |entries: Vec<stadtmauer_core::audit::Entry>| {
        entries
            .iter()
            .filter(|e| e.entity == "security_catalog")
            .count()
    };
    let f = AuditFilter {
        limit: 1000,
        ..Default::default()
    };
    let theirs_log = app.store.audit_entries(&other_scope, &f).await.unwrap();
    let ours_log = app
        .store
        .audit_entries(&app.scope_of(OFFICE).await, &f)
        .await
        .unwrap();
    assert_eq!(imports(theirs_log), 1);
    assert_eq!(imports(ours_log), 1, "only Musterau's own copy");
}
