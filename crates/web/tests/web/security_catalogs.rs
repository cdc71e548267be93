//! Imported OSCAL catalogs and profiles: upload by the office, the list beside the shipped
//! catalogs, a new version of a known catalog flagging changed requirements for review, and
//! hostile files that are refused precisely with nothing stored.

use crate::harness::*;
use axum::http::{Method, StatusCode};
use stadtmauer_assessment::{Answer, Status};
use stadtmauer_catalog::applicability::{concern, Concern};
use stadtmauer_catalog::shipped;
use stadtmauer_store::security::CatalogImportError;

const BOUNDARY: &str = "----stadtmauer-sec-catalogs-91ab";

async fn upload(c: &mut Client, name: &str, bytes: &[u8]) -> Resp {
    let csrf = c.csrf.clone().unwrap();
    let mut b = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/json\r\n\r\n"
    )
    .into_bytes();
    b.extend_from_slice(bytes);
    b.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    c.send(
        Method::POST,
        &format!("/catalog/imported?csrf={csrf}"),
        Some(&ct),
        b,
        &[],
    )
    .await
}

fn catalog(uuid: &str, title: &str, version: &str, controls: &[(&str, &str)]) -> String {
    let cs: Vec<String> = controls
        .iter()
        .map(|(id, stm)| {
            format!(
                r#"{{"id":"{id}","title":"Titel {id}","parts":[{{"name":"statement","prose":"{stm}"}}]}}"#
            )
        })
        .collect();
    format!(
        r#"{{"catalog":{{"uuid":"{uuid}","metadata":{{"title":"{title}","version":"{version}","oscal-version":"1.1.2"}},"controls":[{}]}}}}"#,
        cs.join(",")
    )
}

fn org_wide_basis_requirement() -> String {
    let basis = shipped()
        .unwrap()
        .resolve_kommunale_basis()
        .unwrap()
        .catalog;
    basis
        .requirements
        .iter()
        .find(|r| concern(r) == Concern::Organisation)
        .unwrap()
        .id
        .clone()
}

#[tokio::test]
async fn office_imports_catalogs_and_a_new_version_flags_changed_answers() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let sys = app.system().await;
    let req = org_wide_basis_requirement();
    let on = time::OffsetDateTime::now_utc().date() - time::Duration::days(2);
    app.store
        .save_answers(
            &sys,
            a,
            &[Answer {
                requirement_id: req.clone(),
                object_id: None,
                status: Status::Ja,
                reason: None,
                note: None,
                responsible: None,
                assessed_on: on,
                review_by: None,
                evidence: vec![],
            }],
        )
        .await
        .unwrap();

    let mut office = app.session_for(OFFICE).await;
    let list = office.get("/catalog/imported").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains("/catalog/imported?csrf="));
    let cat = office.get("/catalog").await;
    assert!(cat.body.contains("/catalog/imported"));

    // Any other catalog: stored, listed, browsable; nothing flagged.
    let own = catalog(
        "7d5e6f10-1111-4a2b-8c3d-000000000001",
        "Eigener Kommunalkatalog",
        "1.0",
        &[
            ("EK.1", "Die Kommune MUSS etwas tun."),
            ("EK.2", "Noch etwas."),
        ],
    );
    let r = upload(&mut office, "eigen.json", own.as_bytes()).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let list = office.get("/catalog/imported").await;
    assert!(
        list.body.contains("Eigener Kommunalkatalog"),
        "{}",
        list.body
    );
    let first = app.store.imported_catalogs(&sys).await.unwrap();
    assert_eq!(first.len(), 1);
    let show = office
        .get(&format!("/catalog/imported/view?id={}", first[0].id))
        .await;
    assert_eq!(show.status, StatusCode::OK);
    assert!(show.body.contains("Die Kommune MUSS etwas tun."));
    assert_eq!(
        office.get("/catalog/imported/view?id=999999").await.status,
        StatusCode::NOT_FOUND
    );

    // A new version of the shipped Kernel with a changed statement flags the town's answer.
    let kernel = &shipped().unwrap().kernel;
    let next = catalog(
        &kernel.uuid,
        &kernel.title,
        "2099.1",
        &[(&req, "Ein völlig neuer Anforderungstext.")],
    );
    let r = upload(&mut office, "kernel-next.json", next.as_bytes()).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let all = app.store.imported_catalogs(&sys).await.unwrap();
    assert_eq!(all.len(), 2);
    assert!(all[1]
        .previous
        .as_deref()
        .unwrap()
        .contains(&kernel.version));
    assert!(all[1].flagged >= 1);
    let answers = app.store.answers_for(&sys, a, &req).await.unwrap();
    assert!(answers[0].needs_review);
    let mut coord = app.session_for(COORD_A).await;
    let page = coord
        .get(&format!("/organisations/{a}/security/requirement?id={req}"))
        .await;
    assert!(page.body.contains("data-review=\"1\""), "{}", page.body);
    // Answering again clears the flag.
    coord
        .post(
            &format!("/organisations/{a}/security/answer"),
            &[("requirement_id", &req), ("status", "ja")],
        )
        .await;
    assert!(!app.store.answers_for(&sys, a, &req).await.unwrap()[0].needs_review);

    // The same file twice, or the same version again: refused.
    let r = upload(&mut office, "kernel-next.json", next.as_bytes()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("already imported"), "{}", r.body);

    // A profile over the shipped Kernel.
    let profile = format!(
        r#"{{"profile":{{"uuid":"7d5e6f10-1111-4a2b-8c3d-000000000002","metadata":{{"title":"Mein Profil","version":"1","oscal-version":"1.1.2"}},"imports":[{{"href":"{}","include-controls":[{{"with-ids":["{req}"]}}]}}]}}}}"#,
        stadtmauer_catalog::shipped::KERNEL
    );
    let r = upload(&mut office, "profil.json", profile.as_bytes()).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let all = app.store.imported_catalogs(&sys).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[2].kind, "profile");
    assert_eq!(all[2].requirements, 1);

    // Coordinators of a town may look, not import.
    let l = coord.get("/catalog/imported").await;
    assert_eq!(l.status, StatusCode::OK);
    assert!(!l.body.contains("/catalog/imported?csrf="));
    let r = upload(&mut coord, "x.json", own.as_bytes()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn hostile_catalog_files_are_refused_precisely_and_store_nothing() {
    let app = spawn_app().await;
    let sys = app.system().await;
    let mut office = app.session_for(OFFICE).await;
    office.get("/catalog/imported").await;
    let good = catalog("u-1", "Testkatalog", "1", &[("T.1", "a")]);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            good.replace("\"1.1.2\"", "\"1.0.0\"").into_bytes(),
            "catalog.metadata.oscal-version",
        ),
        (
            catalog("u-2", "Doppelt", "1", &[("T.1", "a"), ("T.1", "b")]).into_bytes(),
            "duplicate identifier",
        ),
        (
            format!("{}{}", "[".repeat(500), "]".repeat(500)).into_bytes(),
            "nests deeper than",
        ),
        (b"{\"catalog\": {\"uuid\": 5".to_vec(), "invalid JSON"),
        (
            b"{\"assessment-results\": {}}".to_vec(),
            "",
        ),
        (
            catalog("u-3", "Leer", "1", &[]).into_bytes(),
            "no controls",
        ),
        (
            br#"{"profile":{"uuid":"p","metadata":{"title":"P","version":"1","oscal-version":"1.1.2"},"imports":[{"href":"unbekannt.json","include-all":{}}]}}"#.to_vec(),
            "profile",
        ),
    ];
    for (bytes, needle) in cases {
        let r = upload(&mut office, "boese.json", &bytes).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        // The technical reason (English, with its JSON path) under a German lead sentence.
        assert!(
            r.body.contains(
                "Der Katalog wurde nicht importiert; nichts wurde geändert. Grund:</p><p><code>"
            ),
            "{}",
            r.body
        );
        assert!(r.body.contains(needle), "{needle}: {}", r.body);
    }
    // 100 MB: refused before parsing.
    let big = vec![b' '; 100 * 1024 * 1024];
    match app.store.import_catalog(&sys, "gross.json", &big).await {
        Err(CatalogImportError::Refused(m)) => assert!(m.contains("limit"), "{m}"),
        other => panic!("{other:?}"),
    }
    drop(big);
    assert!(app.store.imported_catalogs(&sys).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_catalog_over_the_body_limit_is_refused_with_its_size() {
    let app = spawn_app().await;
    let sys = app.system().await;
    let mut office = app.session_for(OFFICE).await;
    office.get("/catalog/imported").await;
    // Just over the upload's body limit (the form around the file adds a little more).
    let big = vec![b' '; stadtmauer_web_catalog_body_max() + 1];
    let r = upload(&mut office, "gross.json", &big).await;
    drop(big);
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert!(
        r.body
            .contains("Der Katalog wurde nicht importiert; nichts wurde geändert."),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("Die Datei ist größer als die erlaubten 32 MB."),
        "{}",
        r.body
    );
    assert!(r.body.contains("/catalog/imported?csrf="));
    assert!(app.store.imported_catalogs(&sys).await.unwrap().is_empty());
}

/// `CATALOG_BODY_MAX` of the web crate.
fn stadtmauer_web_catalog_body_max() -> usize {
    40 * 1024 * 1024
}
