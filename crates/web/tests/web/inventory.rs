//! The Informationsverbund pages and API: recording objects (and refusing bad input), linking
//! them, seeing the inherited Schutzbedarf and why, overrides, deleting with a list of
//! dependents, the dependency diagram, provider concentration across the Verbund.

use crate::harness::*;
use axum::http::{header, Method, StatusCode};
use stadtmauer_core::{ObjectId, OrgId, Scope, VerbundId};
use stadtmauer_inventory::model::{Level, ObjectInput};

async fn make(
    app: &TestApp,
    scope: &Scope,
    org: OrgId,
    kind: &str,
    name: &str,
    f: impl FnOnce(&mut ObjectInput),
) -> ObjectId {
    let mut input = ObjectInput {
        kind: kind.into(),
        name: name.into(),
        ..Default::default()
    };
    f(&mut input);
    app.store
        .create_object(scope, org, &input.validate().unwrap())
        .await
        .unwrap()
}

async fn musterau(app: &TestApp) -> VerbundId {
    let sys = app.system().await;
    app.store
        .verbuende(&sys)
        .await
        .unwrap()
        .into_iter()
        .find(|v| v.name == "Landkreis Musterau")
        .unwrap()
        .id
}

/// Checks that every opened element is closed in order (a small well-formedness test).
fn assert_balanced(xml: &str) {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find('<') {
        let j = rest[i..].find('>').expect("unclosed tag") + i;
        let tag = &rest[i + 1..j];
        rest = &rest[j + 1..];
        if tag.starts_with('?') || tag.starts_with('!') || tag.ends_with('/') {
            continue;
        }
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect();
        if tag.starts_with('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(name.as_str()),
                "mismatched </{name}>"
            );
        } else {
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "unclosed elements: {stack:?}");
    assert!(!xml.contains("<script"), "no scripts in pictures");
}

#[tokio::test]
async fn objects_are_created_through_the_form_and_bad_input_writes_nothing() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let sys = app.system().await;
    let mut c = app.session_for(COORD_A).await;

    let org_page = c.get(&format!("/organisations/{a}")).await;
    assert!(org_page
        .body
        .contains(&format!("href=\"/organisations/{a}/inventory\"")));
    let list = c.get(&format!("/organisations/{a}/inventory")).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("Objekt anlegen"));
    assert!(list.body.contains("Betrieb der Anwendungen"));
    let form = c
        .get(&format!(
            "/organisations/{a}/inventory/new?kind=application"
        ))
        .await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("<fieldset>"));
    assert!(form
        .body
        .contains("<option value=\"application\" selected>"));

    let before = app.store.objects(&sys, a, None, false).await.unwrap().len();
    let audit_before = app.store.audit_len().await.unwrap();
    let bad = c
        .post(
            &format!("/organisations/{a}/inventory"),
            &[
                ("kind", "system"),
                ("name", ""),
                ("count", "-1"),
                ("need_a", "hoch"),
                ("system_type", "toaster"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad
        .body
        .contains("Bitte korrigieren Sie die markierten Felder."));
    assert!(bad.body.contains("aria-describedby=\"name-err\""));
    assert!(bad.body.contains("id=\"count-err\""));
    assert!(bad.body.contains("id=\"system_type-err\""));
    assert!(bad.body.contains("id=\"need_c-err\""));
    assert_eq!(
        app.store.objects(&sys, a, None, false).await.unwrap().len(),
        before
    );
    assert_eq!(app.store.audit_len().await.unwrap(), audit_before);

    let ok = c
        .post(
            &format!("/organisations/{a}/inventory"),
            &[
                ("kind", "application"),
                ("name", "Formular-Fachverfahren"),
                ("vendor", "Beispiel Software GmbH"),
                ("product", "MeldeX"),
                ("version", "4.2"),
                ("operating_model", "saas"),
                ("status", "active"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert!(ok.location().starts_with("/inventory/"));
    let shown = c.get(ok.location()).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.body.contains("Formular-Fachverfahren"));
    assert!(shown.body.contains("SaaS / Cloud"));
    let list = c.get(&format!("/organisations/{a}/inventory")).await;
    assert!(list.body.contains("Formular-Fachverfahren"));
    assert!(list
        .body
        .contains("Beispiel Software GmbH · MeldeX 4.2 · SaaS / Cloud"));

    // The htmx filter gets only the fragment; a plain request the whole page.
    let frag = c
        .send(
            Method::GET,
            &format!("/organisations/{a}/inventory?kind=application"),
            None,
            vec![],
            &[("hx-request", "true")],
        )
        .await;
    assert!(frag.body.starts_with("<div id=\"inv-objects\">"));
    assert!(!frag.body.contains("<html"));
    assert!(frag.body.contains("Formular-Fachverfahren"));
    let full = c
        .get(&format!("/organisations/{a}/inventory?kind=process"))
        .await;
    assert!(full.body.contains("<html"));
    assert!(!full.body.contains("Formular-Fachverfahren"));

    // Editing keeps the kind and validates like creating.
    let id = ok
        .location()
        .trim_start_matches("/inventory/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let edit = c.get(&format!("/inventory/{id}/edit")).await;
    assert_eq!(edit.status, StatusCode::OK);
    assert!(edit.body.contains("value=\"MeldeX\""));
    let bad = c
        .post(
            &format!("/inventory/{id}"),
            &[("kind", "application"), ("name", "")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let saved = c
        .post(
            &format!("/inventory/{id}"),
            &[
                ("kind", "application"),
                ("name", "Formular-Fachverfahren 2"),
                ("operating_model", "self_hosted"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let o = app
        .store
        .object(&sys, ObjectId(id.parse().unwrap()))
        .await
        .unwrap();
    assert_eq!(o.data.name, "Formular-Fachverfahren 2");

    // A reader of another town cannot even open the form.
    let mut b = app.session_for(COORD_B).await;
    let r = b.get(&format!("/organisations/{a}/inventory/new")).await;
    assert!(matches!(
        r.status,
        StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
    ));
}

#[tokio::test]
async fn linked_objects_inherit_and_explain_their_requirement_and_overrides_need_a_reason() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let scope = app.scope_of(COORD_A).await;
    let process = make(
        &app,
        &scope,
        a,
        "process",
        "Test-Einwohnermeldewesen",
        |i| {
            i.need_a = Some("sehr hoch".into());
            i.need_c = Some("hoch".into());
            i.data_personal = Some("ja".into());
        },
    )
    .await;
    let appl = make(
        &app,
        &scope,
        a,
        "application",
        "Test-Meldeverfahren",
        |_| {},
    )
    .await;
    let server = make(&app, &scope, a, "system", "Test-Meldeserver", |i| {
        i.system_type = Some("server".into());
    })
    .await;
    let room = make(&app, &scope, a, "location", "Test-Serverraum", |_| {}).await;
    let mut c = app.session_for(COORD_A).await;
    for (from, to) in [(process, appl), (appl, server), (server, room)] {
        c.get(&format!("/inventory/{from}")).await;
        let r = c
            .post(
                &format!("/inventory/{from}/links"),
                &[("to", &to.to_string())],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    // A link against the direction of use is refused with a field message.
    let wrong = c
        .post(
            &format!("/inventory/{room}/links"),
            &[("to", &process.to_string())],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("id=\"to-err\""));

    let page = c.get(&format!("/inventory/{room}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("sehr hoch"));
    let path = format!(
        "geerbt von: <a href=\"/inventory/{server}\">Test-Meldeserver</a> ← <a href=\"/inventory/{appl}\">Test-Meldeverfahren</a> ← <a href=\"/inventory/{process}\">Test-Einwohnermeldewesen</a>"
    );
    assert!(page.body.contains(&path), "{}", page.body);
    assert!(page
        .body
        .contains(&format!("src=\"/inventory/{room}/diagram.svg\"")));
    let proc_page = c.get(&format!("/inventory/{process}")).await;
    assert!(proc_page
        .body
        .contains("direkt beim Geschäftsprozess festgelegt"));
    assert!(
        !proc_page.body.contains("/override\""),
        "no override form on processes"
    );

    // Override on the server: too short a reason is refused, nothing changes.
    let sys = app.system().await;
    let short = c
        .post(
            &format!("/inventory/{server}/override"),
            &[
                ("c", "normal"),
                ("i", "normal"),
                ("a", "hoch"),
                ("reason", "weil"),
            ],
        )
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.body.contains("id=\"reason-err\""));
    assert!(app
        .store
        .object(&sys, server)
        .await
        .unwrap()
        .override_value
        .is_none());
    let reason = "Verteilungseffekt: redundanter Zweitserver übernimmt";
    let ok = c
        .post(
            &format!("/inventory/{server}/override"),
            &[
                ("c", "normal"),
                ("i", "normal"),
                ("a", "hoch"),
                ("reason", reason),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let page = c.get(&format!("/inventory/{server}")).await;
    assert!(page.body.contains(reason));
    assert!(page.body.contains("begründete Abweichung"));
    assert_eq!(
        app.store.object(&sys, room).await.unwrap().effective.a,
        Level::Hoch,
        "the override flows on"
    );
    let list = c.get(&format!("/organisations/{a}/inventory")).await;
    assert!(list.body.contains("abweichend festgelegt"));
    let removed = c
        .post(&format!("/inventory/{server}/override/delete"), &[])
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.store.object(&sys, room).await.unwrap().effective.a,
        Level::SehrHoch
    );

    // IT staff may link but not decide about protection.
    let it = app.store.users(&sys).await.unwrap().into_iter().find(|u| {
        u.memberships
            .iter()
            .any(|m| m.organisation_id == a && m.role == stadtmauer_core::user::Role::ItStaff)
    });
    if let Some(it) = it {
        let mut t = app.session_for(&it.user.email).await;
        let r = t
            .post(
                &format!("/inventory/{server}/override"),
                &[
                    ("c", "normal"),
                    ("i", "normal"),
                    ("a", "normal"),
                    ("reason", reason),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }

    // Removing the link from the application lowers the server again.
    let (uses, _) = app.store.links_of(&sys, appl).await.unwrap();
    let link = uses.iter().find(|l| l.to.id == server).unwrap().id;
    let r = c
        .post(&format!("/inventory/{server}/links/{link}/delete"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.store.object(&sys, server).await.unwrap().effective.a,
        Level::Normal
    );
}

#[tokio::test]
async fn deleting_asks_first_and_lists_the_dependents() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let scope = app.scope_of(COORD_A).await;
    let sys = app.system().await;
    let process = make(&app, &scope, a, "process", "Test-Standesamt", |_| {}).await;
    let appl = make(
        &app,
        &scope,
        a,
        "application",
        "Test-Personenstandsregister",
        |_| {},
    )
    .await;
    app.store.add_link(&scope, process, appl).await.unwrap();
    let mut c = app.session_for(COORD_A).await;
    let confirm = c.get(&format!("/inventory/{appl}/delete")).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.body.contains("Test-Standesamt"));
    assert!(confirm
        .body
        .contains(&format!("href=\"/inventory/{process}\"")));
    let r = c.post(&format!("/inventory/{appl}/delete"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r
        .location()
        .starts_with(&format!("/organisations/{a}/inventory")));
    assert!(app.store.object(&sys, appl).await.is_err());
    assert!(app.store.object(&sys, process).await.is_ok());
    assert_eq!(
        c.get(&format!("/inventory/{appl}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_dependency_diagram_is_well_formed_svg() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let scope = app.scope_of(COORD_A).await;
    let process = make(&app, &scope, a, "process", "Test-Kasse", |i| {
        i.need_i = Some("hoch".into());
    })
    .await;
    let appl = make(
        &app,
        &scope,
        a,
        "application",
        "Test-Finanzverfahren",
        |_| {},
    )
    .await;
    let server = make(&app, &scope, a, "system", "Server <Kasse> & \"Co\"", |_| {}).await;
    let other = make(&app, &scope, a, "application", "Test-Schnittstelle", |_| {}).await;
    app.store.add_link(&scope, process, appl).await.unwrap();
    app.store.add_link(&scope, appl, server).await.unwrap();
    app.store.add_link(&scope, appl, other).await.unwrap();
    let mut c = app.session_for(COORD_A).await;
    let r = c.get(&format!("/inventory/{appl}/diagram.svg")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("image/svg+xml"));
    assert!(r.body.starts_with("<svg"), "{}", r.body);
    for name in [
        "Test-Kasse",
        "Test-Finanzverfahren",
        "Server &lt;Kasse&gt; &amp; &quot;Co&quot;",
        "Test-Schnittstelle",
    ] {
        assert!(r.body.contains(name), "{name} missing");
    }
    assert!(r.body.contains("<title"));
    assert!(r.body.contains("<desc"));
    assert!(r.body.contains("hoch"));
    assert!(!r.body.contains("<script"));
    assert!(!r.body.contains("style="));
    assert_balanced(&r.body);
    // Another town's user gets nothing.
    let mut b = app.session_for(COORD_B).await;
    let r = b.get(&format!("/inventory/{appl}/diagram.svg")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!r.body.contains("Test-Kasse"));
}

#[tokio::test]
async fn the_office_sees_which_processes_halt_when_a_provider_fails() {
    let app = spawn_app().await;
    let sys = app.system().await;
    let a = app.org_id(TOWN_A).await;
    let b = app.org_id(TOWN_B).await;
    let office = app.org_id("Informationssicherheitsbüro Musterau").await;
    let office_scope = app.scope_of(OFFICE).await;
    let provider = make(
        &app,
        &office_scope,
        office,
        "provider",
        "Test-Rechenzentrum Ost",
        |i| {
            i.shared = Some("ja".into());
            i.contract = Some("Rahmenvertrag".into());
        },
    )
    .await;
    let scope_a = app.scope_of(COORD_A).await;
    let pa = make(&app, &scope_a, a, "process", "Test-Kfz-Zulassung", |i| {
        i.need_a = Some("hoch".into());
    })
    .await;
    let aa = make(
        &app,
        &scope_a,
        a,
        "application",
        "Test-Zulassungsverfahren",
        |i| {
            i.operating_model = Some("provider".into());
        },
    )
    .await;
    app.store.add_link(&scope_a, pa, aa).await.unwrap();
    app.store.add_link(&scope_a, aa, provider).await.unwrap();
    let pb = make(&app, &sys, b, "process", "Test-Grundsicherung", |_| {}).await;
    let sb = make(&app, &sys, b, "application", "Test-Sozialverfahren", |_| {}).await;
    app.store.add_link(&sys, pb, sb).await.unwrap();
    app.store.add_link(&sys, sb, provider).await.unwrap();

    let v = musterau(&app).await;
    let mut c = app.session_for(OFFICE).await;
    let verbund = c.get(&format!("/verbuende/{v}")).await;
    assert!(verbund
        .body
        .contains(&format!("href=\"/verbuende/{v}/providers\"")));
    let page = c.get(&format!("/verbuende/{v}/providers")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page
        .body
        .contains("Fällt Test-Rechenzentrum Ost aus, stehen 2 Prozesse in 2 Kommunen still."));
    for s in ["Test-Kfz-Zulassung", "Test-Grundsicherung", TOWN_A, TOWN_B] {
        assert!(page.body.contains(s), "{s} missing");
    }
    assert!(page
        .body
        .contains("Davon brauchen 1 eine hohe oder sehr hohe Verfügbarkeit."));
    let svg = c.get(&format!("/verbuende/{v}/providers.svg")).await;
    assert_eq!(svg.status, StatusCode::OK);
    assert!(svg.body.starts_with("<svg"));
    assert!(svg.body.contains("Test-Rechenzentrum Ost"));
    assert!(svg.body.contains(TOWN_B));
    assert_balanced(&svg.body);

    // A town's coordinator sees only their own processes behind the same provider.
    let mut ca = app.session_for(COORD_A).await;
    let page = ca.get(&format!("/verbuende/{v}/providers")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Test-Kfz-Zulassung"));
    assert!(!page.body.contains("Test-Grundsicherung"));
    assert!(!page.body.contains(TOWN_B));
    let svg = ca.get(&format!("/verbuende/{v}/providers.svg")).await;
    assert!(!svg.body.contains(TOWN_B));
    // ... and the shared provider is offered and marked in the town's inventory.
    let list = ca
        .get(&format!("/organisations/{a}/inventory?kind=provider"))
        .await;
    assert!(list.body.contains("Test-Rechenzentrum Ost"));
    assert!(list.body.contains("gemeinsam im Verbund"));
    // The provider's page lists only what town A may read.
    let prov = ca.get(&format!("/inventory/{provider}")).await;
    assert_eq!(prov.status, StatusCode::OK);
    assert!(!prov.body.contains("Test-Grundsicherung"));
    assert!(!prov.body.contains("Test-Sozialverfahren"));
}

#[tokio::test]
async fn the_api_creates_lists_links_and_deletes_objects() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let b = app.org_id(TOWN_B).await;
    let mut c = app.client();
    c.bearer = Some(app.token_for(COORD_A, false).await);
    let r = c
        .json(
            Method::POST,
            &format!("/api/v1/organisations/{a}/objects"),
            &serde_json::json!({"kind": "process", "name": "API-Bauamt", "need_i": "hoch"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let process = r.json()["id"].as_i64().unwrap();
    assert_eq!(r.json()["effective"]["i"], "hoch");
    let r = c
        .json(
            Method::POST,
            &format!("/api/v1/organisations/{a}/objects"),
            &serde_json::json!({"kind": "application", "name": "API-Bauantragsverfahren", "operating_model": "saas"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let appl = r.json()["id"].as_i64().unwrap();
    let bad = c
        .json(
            Method::POST,
            &format!("/api/v1/organisations/{a}/objects"),
            &serde_json::json!({"kind": "rocket", "name": ""}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = bad.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    assert!(fields.contains(&"kind".to_string()) && fields.contains(&"name".to_string()));

    let list = c.get(&format!("/api/v1/organisations/{a}/objects")).await;
    assert_eq!(list.status, StatusCode::OK);
    let names: Vec<String> = list
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_string())
        .collect();
    assert!(
        names.contains(&"API-Bauamt".into()) && names.contains(&"API-Bauantragsverfahren".into())
    );

    let link = c
        .json(
            Method::POST,
            &format!("/api/v1/objects/{process}/links"),
            &serde_json::json!({"to": appl}),
        )
        .await;
    assert_eq!(link.status, StatusCode::CREATED, "{}", link.body);
    let link_id = link.json()["id"].as_i64().unwrap();
    let got = c.get(&format!("/api/v1/objects/{appl}")).await;
    assert_eq!(got.json()["effective"]["i"], "hoch");
    let links = c.get(&format!("/api/v1/objects/{appl}/links")).await;
    assert_eq!(links.json()["used_by"][0]["from"]["name"], "API-Bauamt");
    let missing = c
        .json(
            Method::POST,
            &format!("/api/v1/objects/{process}/links"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    let patched = c
        .json(
            Method::PATCH,
            &format!("/api/v1/objects/{appl}"),
            &serde_json::json!({"version": "7.1"}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.json()["version"], "7.1");
    assert_eq!(patched.json()["operating_model"], "saas");

    // A read-only token cannot write; another town's user cannot see.
    let mut ro = app.client();
    ro.bearer = Some(app.token_for(COORD_A, true).await);
    let r = ro
        .json(
            Method::DELETE,
            &format!("/api/v1/objects/{appl}"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut other = app.client();
    other.bearer = Some(app.token_for(COORD_B, false).await);
    assert_eq!(
        other.get(&format!("/api/v1/objects/{appl}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other
            .get(&format!("/api/v1/organisations/{a}/objects"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = other
        .json(
            Method::POST,
            &format!("/api/v1/organisations/{b}/objects"),
            &serde_json::json!({"kind": "process", "name": "B-Prozess"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let b_obj = r.json()["id"].as_i64().unwrap();
    let r = c
        .json(
            Method::POST,
            &format!("/api/v1/objects/{process}/links"),
            &serde_json::json!({"to": b_obj}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no links into another town"
    );

    let r = c
        .json(
            Method::DELETE,
            &format!("/api/v1/objects/{process}/links/{link_id}"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        c.get(&format!("/api/v1/objects/{appl}")).await.json()["effective"]["i"],
        "normal"
    );
    let r = c
        .json(
            Method::DELETE,
            &format!("/api/v1/objects/{appl}"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        c.get(&format!("/api/v1/objects/{appl}")).await.status,
        StatusCode::NOT_FOUND
    );
}
