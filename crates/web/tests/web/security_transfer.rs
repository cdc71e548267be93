//! Exchanging a town's assessment: the Statement of Applicability (CSV, XLSX) and OSCAL
//! assessment-results export and import (round trip into another town, broken files).

use crate::harness::*;
use axum::http::{header, Method, StatusCode};
use stadtmauer_assessment::evidence::{Evidence, EvidenceItem};
use stadtmauer_assessment::{Answer, Status};
use stadtmauer_catalog::applicability::{concern, Concern};
use stadtmauer_catalog::results;
use stadtmauer_catalog::shipped;

const BOUNDARY: &str = "----stadtmauer-sec-transfer-3c1d";

fn multipart(name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut b = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/json\r\n\r\n"
    )
    .into_bytes();
    b.extend_from_slice(bytes);
    b.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    b
}

async fn upload(c: &mut Client, org: stadtmauer_core::OrgId, bytes: &[u8]) -> Resp {
    let csrf = c.csrf.clone().unwrap();
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    c.send(
        Method::POST,
        &format!("/organisations/{org}/security/assessment-results?csrf={csrf}"),
        Some(&ct),
        multipart("ar.json", bytes),
        &[],
    )
    .await
}

fn basis_org_requirements(n: usize) -> Vec<String> {
    let basis = shipped()
        .unwrap()
        .resolve_kommunale_basis()
        .unwrap()
        .catalog;
    basis
        .requirements
        .iter()
        .filter(|r| concern(r) == Concern::Organisation)
        .take(n)
        .map(|r| r.id.clone())
        .collect()
}

async fn answer_some(app: &TestApp, org: stadtmauer_core::OrgId) -> Vec<String> {
    let sys = app.system().await;
    let reqs = basis_org_requirements(3);
    let on = time::OffsetDateTime::now_utc().date() - time::Duration::days(3);
    let answers = vec![
        Answer {
            requirement_id: reqs[0].clone(),
            object_id: None,
            status: Status::Entbehrlich,
            reason: Some("=Kein Bestand; Formel-Versuch".into()),
            note: Some("Notiz mit Umlauten äöü".into()),
            responsible: Some("Frau Beispiel".into()),
            assessed_on: on,
            review_by: Some(on + time::Duration::days(300)),
            evidence: vec![],
        },
        Answer {
            requirement_id: reqs[1].clone(),
            object_id: None,
            status: Status::Ja,
            reason: None,
            note: None,
            responsible: None,
            assessed_on: on,
            review_by: None,
            evidence: vec![
                EvidenceItem {
                    evidence: Evidence::Link {
                        url: "https://intranet.example/richtlinie.pdf".into(),
                    },
                    valid_until: Some(on + time::Duration::days(100)),
                },
                EvidenceItem {
                    evidence: Evidence::File {
                        sha256: "ab".repeat(32),
                        size: 1234,
                        media_type: "application/pdf".into(),
                        name: "Konzept.pdf".into(),
                    },
                    valid_until: None,
                },
            ],
        },
        Answer {
            requirement_id: reqs[2].clone(),
            object_id: None,
            status: Status::Nein,
            reason: Some("Noch nicht begonnen".into()),
            note: None,
            responsible: None,
            assessed_on: on,
            review_by: None,
            evidence: vec![],
        },
    ];
    app.store.save_answers(&sys, org, &answers).await.unwrap();
    reqs
}

#[tokio::test]
async fn soa_exports_as_csv_and_xlsx_for_the_town_only() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let b = app.org_id(TOWN_B).await;
    let reqs = answer_some(&app, a).await;
    let mut c = app.session_for(COORD_A).await;
    let page = c.get(&format!("/organisations/{a}/security")).await;
    assert!(page.body.contains("/security/transfer"));
    let t = c
        .get(&format!("/organisations/{a}/security/transfer"))
        .await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.body);
    assert!(t.body.contains("soa.csv"));

    let csv = c.get(&format!("/organisations/{a}/security/soa.csv")).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    let cd = csv.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(cd.starts_with("attachment;"), "{cd}");
    assert!(csv.body.starts_with('\u{feff}'));
    assert!(csv
        .body
        .contains("Anforderung;Praktik;Sicherheitsniveau;Anwendbar"));
    let row = csv
        .body
        .lines()
        .find(|l| l.starts_with(&format!("{};", reqs[0])))
        .unwrap();
    // entbehrlich: not applicable, the reason as justification, defused as a formula.
    assert!(row.contains(";nein;\"'=Kein Bestand"), "{row}");

    let en = c
        .send(
            Method::GET,
            &format!("/organisations/{a}/security/soa.csv"),
            None,
            vec![],
            &[("accept-language", "en")],
        )
        .await;
    assert_eq!(en.status, StatusCode::OK);

    let x = c
        .get(&format!("/organisations/{a}/security/soa.xlsx"))
        .await;
    assert_eq!(x.status, StatusCode::OK);
    assert!(x.body.as_bytes().starts_with(b"PK"));

    // Another town's SoA does not exist for this user.
    for p in ["soa.csv", "soa.xlsx", "assessment-results.json", "transfer"] {
        let r = c.get(&format!("/organisations/{b}/security/{p}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{p}");
    }
}

#[tokio::test]
async fn assessment_results_round_trip_into_another_town() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let b = app.org_id(TOWN_B).await;
    answer_some(&app, a).await;
    let mut ca = app.session_for(COORD_A).await;
    let ex = ca
        .get(&format!(
            "/organisations/{a}/security/assessment-results.json"
        ))
        .await;
    assert_eq!(ex.status, StatusCode::OK, "{}", ex.body);
    let a_doc = results::read(ex.body.as_bytes()).unwrap();
    assert!(a_doc.answers.len() >= 3);
    // Stable: the same export twice.
    let again = ca
        .get(&format!(
            "/organisations/{a}/security/assessment-results.json"
        ))
        .await;
    assert_eq!(again.body, ex.body);

    let mut cb = app.session_for(COORD_B).await;
    cb.get(&format!("/organisations/{b}/security/transfer"))
        .await;
    let audit_before = app
        .store
        .audit_entries(
            &app.system().await,
            &stadtmauer_store::audit::AuditFilter {
                organisation: Some(b),
                limit: 100_000,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .len();
    let r = upload(&mut cb, b, ex.body.as_bytes()).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let audit_after = app
        .store
        .audit_entries(
            &app.system().await,
            &stadtmauer_store::audit::AuditFilter {
                organisation: Some(b),
                limit: 100_000,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .len();
    assert_eq!(audit_after, audit_before + a_doc.answers.len() + 1);

    let ex_b = cb
        .get(&format!(
            "/organisations/{b}/security/assessment-results.json"
        ))
        .await;
    let b_doc = results::read(ex_b.body.as_bytes()).unwrap();
    for x in &a_doc.answers {
        let y = b_doc
            .answers
            .iter()
            .find(|y| y.control_id == x.control_id)
            .unwrap();
        assert_eq!(x, y);
    }

    // Town A may not import into town B.
    let r = upload(&mut ca, b, ex.body.as_bytes()).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn broken_assessment_results_are_refused_with_their_path() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let b = app.org_id(TOWN_B).await;
    answer_some(&app, a).await;
    let mut ca = app.session_for(COORD_A).await;
    let good = ca
        .get(&format!(
            "/organisations/{a}/security/assessment-results.json"
        ))
        .await
        .body;
    let sys = app.system().await;
    let before = app.store.answers(&sys, b).await.unwrap();
    let mut cb = app.session_for(COORD_B).await;
    cb.get(&format!("/organisations/{b}/security/transfer"))
        .await;

    let wrong_version = good.replacen(
        "\"oscal-version\": \"1.1.2\"",
        "\"oscal-version\": \"0.9\"",
        1,
    );
    assert_ne!(wrong_version, good);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (wrong_version.into_bytes(), "metadata.oscal-version"),
        (b"{\"assessment-results\": [1,".to_vec(), "invalid JSON"),
        (
            format!("{}{}", "[".repeat(200), "]".repeat(200)).into_bytes(),
            "nests deeper",
        ),
        (b"{\"catalog\": {}}".to_vec(), ""),
    ];
    for (bytes, needle) in cases {
        let r = upload(&mut cb, b, &bytes).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("nichts gespeichert"), "{}", r.body);
        assert!(r.body.contains(needle), "{needle}: {}", r.body);
    }
    // An unknown requirement: the finding's target is named, and nothing of the file is stored.
    let first = results::read(good.as_bytes()).unwrap().answers[0]
        .control_id
        .clone();
    let unknown = good.replace(&format!("\"{first}\""), "\"NOPE.9.9\"");
    let r = upload(&mut cb, b, unknown.as_bytes()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("target-id"), "{}", r.body);
    assert_eq!(app.store.answers(&sys, b).await.unwrap(), before);
}

#[tokio::test]
async fn per_object_answers_travel_by_object_name() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let b = app.org_id(TOWN_B).await;
    let sys = app.system().await;
    let oid = app
        .store
        .create_object(
            &sys,
            a,
            &stadtmauer_inventory::model::ObjectInput {
                kind: "application".into(),
                name: "Transfer-Fachverfahren".into(),
                ..Default::default()
            }
            .validate()
            .unwrap(),
        )
        .await
        .unwrap();
    let obj = app
        .store
        .objects(&sys, a, None, false)
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.id == oid)
        .unwrap();
    let req = basis_org_requirements(1)[0].clone();
    let on = time::OffsetDateTime::now_utc().date() - time::Duration::days(1);
    app.store
        .save_answers(
            &sys,
            a,
            &[Answer {
                requirement_id: req.clone(),
                object_id: Some(obj.id),
                status: Status::Teilweise,
                reason: None,
                note: Some("nur am Standort Nord".into()),
                responsible: None,
                assessed_on: on,
                review_by: None,
                evidence: vec![],
            }],
        )
        .await
        .unwrap();
    let mut ca = app.session_for(COORD_A).await;
    let ex = ca
        .get(&format!(
            "/organisations/{a}/security/assessment-results.json"
        ))
        .await;
    let doc = results::read(ex.body.as_bytes()).unwrap();
    let x = doc.answers.iter().find(|x| x.control_id == req).unwrap();
    assert!(x
        .objects
        .iter()
        .any(|o| o.object_ref == obj.data.name.trim() && o.status == results::Status::Teilweise));

    // Town B has no object of that name: refused with the finding named, nothing stored.
    let before = app.store.answers(&sys, b).await.unwrap();
    let mut cb = app.session_for(COORD_B).await;
    cb.get(&format!("/organisations/{b}/security/transfer"))
        .await;
    let r = upload(&mut cb, b, ex.body.as_bytes()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("no object named"), "{}", r.body);
    assert_eq!(app.store.answers(&sys, b).await.unwrap(), before);

    // Back into town A itself: accepted, and the export is unchanged.
    ca.get(&format!("/organisations/{a}/security/transfer"))
        .await;
    let r = upload(&mut ca, a, ex.body.as_bytes()).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let again = ca
        .get(&format!(
            "/organisations/{a}/security/assessment-results.json"
        ))
        .await;
    assert_eq!(
        results::read(again.body.as_bytes()).unwrap().answers,
        doc.answers
    );
}
