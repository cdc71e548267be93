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

// ---------------------------------------------------------------------------------------------
// The assessment as an Excel workbook (lossless)
// ---------------------------------------------------------------------------------------------

const READER_A: &str = "anja.lenzen@falkenhorst.example";
const AUDITOR: &str = "prof.arne.wittkamp@pruefung-nord.example";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A GET with the raw body bytes (the harness decodes bodies as text).
async fn raw_get(app: &TestApp, email: &str, path: &str) -> (StatusCode, Vec<u8>) {
    use tower::ServiceExt;
    let id = app.user_id(email).await;
    let (sid, _) = app.store.create_session(id, false, 3600).await.unwrap();
    let req = axum::http::Request::get(path)
        .header(header::COOKIE, format!("sm_session={sid}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = app.router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    if status == StatusCode::OK {
        assert_eq!(resp.headers()[header::CONTENT_TYPE], XLSX);
    }
    let bytes = axum::body::to_bytes(resp.into_body(), 64 * 1024 * 1024)
        .await
        .unwrap();
    (status, bytes.to_vec())
}

fn xlsx_multipart(bytes: &[u8]) -> Vec<u8> {
    let mut b = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bewertung.xlsx\"\r\nContent-Type: {XLSX}\r\n\r\n"
    )
    .into_bytes();
    b.extend_from_slice(bytes);
    b.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    b
}

async fn upload_xlsx(c: &mut Client, org: stadtmauer_core::OrgId, bytes: &[u8]) -> Resp {
    let csrf = c.csrf.clone().unwrap();
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    c.send(
        Method::POST,
        &format!("/organisations/{org}/security/assessment.xlsx?csrf={csrf}"),
        Some(&ct),
        xlsx_multipart(bytes),
        &[],
    )
    .await
}

/// Every cell of a sheet as text, row by row; panics on a cell that is not a string.
fn cells(bytes: &[u8], sheet: &str) -> Vec<Vec<String>> {
    use calamine::{Data, Reader, Xlsx};
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let formulas = wb.worksheet_formula(sheet).unwrap();
    assert_eq!(formulas.used_cells().count(), 0, "a formula in {sheet}");
    let range = wb.worksheet_range(sheet).unwrap();
    assert_eq!(range.start(), Some((0, 0)));
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|d| match d {
                    Data::Empty => String::new(),
                    Data::String(s) => s.clone(),
                    other => panic!("not a string cell: {other:?}"),
                })
                .collect()
        })
        .collect()
}

/// A workbook with one sheet of string cells.
fn sheet(name: &str, rows: &[Vec<&str>]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(name).unwrap();
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(r as u32, c as u16, *v).unwrap();
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

const HEADER: [&str; 9] = [
    "Anforderung",
    "Objekt",
    "Status",
    "Begründung",
    "Notiz",
    "Verantwortlich",
    "Bewertet am",
    "Prüfen bis",
    "Nachweise",
];

async fn object(
    app: &TestApp,
    org: stadtmauer_core::OrgId,
    kind: &str,
    name: &str,
) -> stadtmauer_core::ObjectId {
    app.store
        .create_object(
            &app.system().await,
            org,
            &stadtmauer_inventory::model::ObjectInput {
                kind: kind.into(),
                name: name.into(),
                ..Default::default()
            }
            .validate()
            .unwrap(),
        )
        .await
        .unwrap()
}

/// The same objects in both towns (two of them share a name, of different kinds).
async fn twin_objects(
    app: &TestApp,
    org: stadtmauer_core::OrgId,
) -> [stadtmauer_core::ObjectId; 3] {
    [
        object(app, org, "system", "Transfer-Server 01").await,
        object(app, org, "process", "Doppelname").await,
        object(app, org, "application", "Doppelname").await,
    ]
}

fn answer(req: &str, object_id: Option<stadtmauer_core::ObjectId>, status: Status) -> Answer {
    Answer {
        requirement_id: req.into(),
        object_id,
        status,
        reason: None,
        note: None,
        responsible: None,
        assessed_on: time::OffsetDateTime::now_utc().date() - time::Duration::days(5),
        review_by: None,
        evidence: vec![],
    }
}

/// Answers of every kind: org-wide and per object, every status, every evidence kind.
async fn answer_everything(app: &TestApp, org: stadtmauer_core::OrgId) -> Vec<String> {
    use stadtmauer_assessment::evidence::RecordKind;
    let [server, proc_, appl] = twin_objects(app, org).await;
    let reqs = basis_org_requirements(4);
    let on = time::OffsetDateTime::now_utc().date() - time::Duration::days(5);
    let until = Some(on + time::Duration::days(400));
    let evidence = vec![
        EvidenceItem {
            evidence: Evidence::Link {
                url: "https://intranet.example/richtlinie.pdf?v=2&x=1".into(),
            },
            valid_until: until,
        },
        EvidenceItem {
            evidence: Evidence::File {
                sha256: "ab".repeat(32),
                size: 1234,
                media_type: "application/pdf".into(),
                name: "Konzept 2026 (Entwurf).pdf".into(),
            },
            valid_until: None,
        },
        EvidenceItem {
            evidence: Evidence::File {
                sha256: "0c".repeat(32),
                size: 77,
                media_type: "text/plain; charset=utf-8".into(),
                name: "=notiz.txt".into(),
            },
            valid_until: until,
        },
        EvidenceItem {
            evidence: Evidence::Record {
                record: RecordKind::RestoreTest,
                id: 17,
            },
            valid_until: until,
        },
        EvidenceItem {
            evidence: Evidence::Record {
                record: RecordKind::PentestReport,
                id: 3,
            },
            valid_until: None,
        },
    ];
    let answers = vec![
        Answer {
            reason: Some("=Kein Bestand; Formel-Versuch".into()),
            note: Some("Notiz mit Umlauten äöü\nzweite Zeile".into()),
            responsible: Some("+Frau Beispiel".into()),
            review_by: Some(on + time::Duration::days(300)),
            ..answer(&reqs[0], None, Status::Entbehrlich)
        },
        Answer {
            evidence: evidence.clone(),
            ..answer(&reqs[1], None, Status::Ja)
        },
        Answer {
            reason: Some("-nur teilweise".into()),
            ..answer(&reqs[2], None, Status::Teilweise)
        },
        answer(&reqs[3], None, Status::Offen),
        Answer {
            note: Some("@Server im Keller".into()),
            responsible: Some("IT".into()),
            evidence: evidence[3..].to_vec(),
            review_by: until,
            ..answer(&reqs[1], Some(server), Status::Nein)
        },
        Answer {
            reason: Some("Der Prozess ruht seit 2024.".into()),
            ..answer(&reqs[1], Some(proc_), Status::Entbehrlich)
        },
        answer(&reqs[1], Some(appl), Status::Teilweise),
        Answer {
            evidence: evidence[..1].to_vec(),
            ..answer(&reqs[0], Some(appl), Status::Ja)
        },
    ];
    app.store
        .save_answers(&app.system().await, org, &answers)
        .await
        .unwrap();
    reqs
}

/// A town's answers with objects named instead of numbered (comparable across towns).
async fn answers_by_name(app: &TestApp, org: stadtmauer_core::OrgId) -> Vec<(String, Answer)> {
    let sys = app.system().await;
    let objects = app.store.objects(&sys, org, None, false).await.unwrap();
    let mut out: Vec<(String, Answer)> = app
        .store
        .answers(&sys, org)
        .await
        .unwrap()
        .into_iter()
        .map(|s| {
            let mut a = s.answer;
            let name = a
                .object_id
                .map(|o| {
                    let o = objects.iter().find(|x| x.id == o).unwrap();
                    format!("{}/{}", o.data.name, o.data.kind.as_str())
                })
                .unwrap_or_default();
            a.object_id = None;
            (name, a)
        })
        .collect();
    out.sort_by(|x, y| (&x.1.requirement_id, &x.0).cmp(&(&y.1.requirement_id, &y.0)));
    out
}

#[tokio::test]
async fn assessment_xlsx_round_trip_into_another_town_is_lossless() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let b = app.org_id(TOWN_B).await;
    let reqs = answer_everything(&app, a).await;
    twin_objects(&app, b).await;

    let mut ca = app.session_for(COORD_A).await;
    let page = ca
        .get(&format!("/organisations/{a}/security/transfer"))
        .await;
    assert!(page.body.contains(&format!(
        "/organisations/{a}/security/assessment.xlsx?csrf="
    )));
    assert!(page
        .body
        .contains(&format!("/organisations/{a}/security/assessment.xlsx\"")));

    let url_a = format!("/organisations/{a}/security/assessment.xlsx");
    let (status, xa) = raw_get(&app, COORD_A, &url_a).await;
    assert_eq!(status, StatusCode::OK);
    let rows_a = cells(&xa, "Antworten");
    assert_eq!(rows_a[0], HEADER.map(String::from).to_vec());
    assert_eq!(rows_a.len(), 1 + 8, "{rows_a:?}");
    // Sorted by requirement, then object; organisation-wide first.
    let keys: Vec<(String, String)> = rows_a[1..]
        .iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    let row = |req: &str, obj: &str| {
        rows_a
            .iter()
            .find(|r| r[0] == req && r[1] == obj)
            .unwrap_or_else(|| panic!("{req}/{obj}: {rows_a:?}"))
            .clone()
    };
    let on = time::OffsetDateTime::now_utc().date() - time::Duration::days(5);
    let on_s = stadtmauer_assessment::date::format_date(on);
    let until_s = stadtmauer_assessment::date::format_date(on + time::Duration::days(400));
    let r0 = row(&reqs[0], "");
    assert_eq!(r0[2], "entbehrlich");
    assert_eq!(r0[3], "=Kein Bestand; Formel-Versuch");
    assert_eq!(r0[4], "Notiz mit Umlauten äöü\nzweite Zeile");
    assert_eq!(r0[5], "+Frau Beispiel");
    assert_eq!(r0[6], on_s);
    let r1 = row(&reqs[1], "");
    assert_eq!(r1[2], "ja");
    assert_eq!(r1[7], "");
    assert_eq!(
        r1[8].lines().collect::<Vec<_>>(),
        vec![
            format!("https://intranet.example/richtlinie.pdf?v=2&x=1#valid-until={until_s}"),
            format!(
                "stadtmauer:file:application/pdf:1234 sha256={} Konzept 2026 (Entwurf).pdf",
                "ab".repeat(32)
            ),
            format!(
                "stadtmauer:file:text/plain;%20charset=utf-8:77#valid-until={until_s} sha256={} =notiz.txt",
                "0c".repeat(32)
            ),
            format!("stadtmauer:record:restore_test:17#valid-until={until_s}"),
            "stadtmauer:record:pentest_report:3".to_string(),
        ]
    );
    assert_eq!(row(&reqs[1], "Transfer-Server 01")[2], "nein");
    assert_eq!(row(&reqs[1], "Transfer-Server 01")[4], "@Server im Keller");
    assert_eq!(row(&reqs[1], "Doppelname (process)")[2], "entbehrlich");
    assert_eq!(row(&reqs[1], "Doppelname (application)")[2], "teilweise");
    assert_eq!(row(&reqs[2], "")[3], "-nur teilweise");
    assert_eq!(row(&reqs[3], "")[2], "offen");
    let info = cells(&xa, "Info");
    assert!(
        info.iter().any(|r| r.contains(&TOWN_A.to_string())),
        "{info:?}"
    );
    // The same export twice.
    assert_eq!(
        cells(&raw_get(&app, COORD_A, &url_a).await.1, "Antworten"),
        rows_a
    );

    // Into town B: every cell comes back the same.
    let mut cb = app.session_for(COORD_B).await;
    cb.get(&format!("/organisations/{b}/security/transfer"))
        .await;
    let r = upload_xlsx(&mut cb, b, &xa).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(r.location().contains("msg=msg.saved"), "{}", r.location());
    let (_, xb) = raw_get(
        &app,
        COORD_B,
        &format!("/organisations/{b}/security/assessment.xlsx"),
    )
    .await;
    assert_eq!(cells(&xb, "Antworten"), rows_a);
    assert_eq!(
        answers_by_name(&app, b).await,
        answers_by_name(&app, a).await
    );
    let audit = app
        .store
        .audit_entries(
            &app.system().await,
            &stadtmauer_store::audit::AuditFilter {
                organisation: Some(b),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(audit
        .iter()
        .any(|e| e.action == "import" && e.entity == "security_answers"));

    // Back into town A itself: accepted, nothing changes.
    ca.get(&format!("/organisations/{a}/security/transfer"))
        .await;
    let before = answers_by_name(&app, a).await;
    let r = upload_xlsx(&mut ca, a, &xa).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(answers_by_name(&app, a).await, before);
}

#[tokio::test]
async fn broken_assessment_workbooks_are_refused_cell_by_cell() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let b = app.org_id(TOWN_B).await;
    let reqs = answer_everything(&app, a).await;
    twin_objects(&app, b).await;
    let sys = app.system().await;
    app.store
        .save_answers(&sys, b, &[answer(&reqs[0], None, Status::Nein)])
        .await
        .unwrap();
    let before = app.store.answers(&sys, b).await.unwrap();
    let (_, good) = raw_get(
        &app,
        COORD_A,
        &format!("/organisations/{a}/security/assessment.xlsx"),
    )
    .await;
    let mut cb = app.session_for(COORD_B).await;
    cb.get(&format!("/organisations/{b}/security/transfer"))
        .await;

    let on = stadtmauer_assessment::date::format_date(
        time::OffsetDateTime::now_utc().date() - time::Duration::days(1),
    );
    let ok = |req: &str, obj: &'static str, status: &'static str| -> Vec<String> {
        vec![
            req.to_string(),
            obj.into(),
            status.into(),
            String::new(),
            String::new(),
            String::new(),
            on.clone(),
            String::new(),
            String::new(),
        ]
    };
    let book = |rows: Vec<Vec<String>>| {
        let mut all = vec![HEADER.map(String::from).to_vec()];
        all.extend(rows);
        let refs: Vec<Vec<&str>> = all
            .iter()
            .map(|r| r.iter().map(String::as_str).collect())
            .collect();
        sheet("Antworten", &refs)
    };
    let with = |mut r: Vec<String>, col: usize, v: &str| {
        r[col] = v.into();
        r
    };
    // Five good rows, then a bad status in row 7: nothing of the good rows is stored either.
    let mut seven: Vec<Vec<String>> = (0..4).map(|i| ok(&reqs[i], "", "ja")).collect();
    seven.push(ok(&reqs[0], "Transfer-Server 01", "ja"));
    seven.push(ok(&reqs[1], "Transfer-Server 01", "vielleicht"));
    let mut wrong_header = HEADER.map(String::from).to_vec();
    wrong_header[2] = "Stat".into();
    let wrong_header: Vec<&str> = wrong_header.iter().map(String::as_str).collect();
    let formula = {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name("Antworten").unwrap();
        for (c, h) in HEADER.iter().enumerate() {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        ws.write_string(1, 0, &reqs[0]).unwrap();
        ws.write_formula(1, 2, "=\"ja\"").unwrap();
        wb.save_to_buffer().unwrap()
    };
    let cases: Vec<(Vec<u8>, String)> = vec![
        (
            b"{\"assessment-results\": {}}".to_vec(),
            "Die Datei ist keine Excel-Arbeitsmappe (.xlsx)".into(),
        ),
        (
            good[..good.len() / 2].to_vec(),
            "Die Datei ist keine Excel-Arbeitsmappe (.xlsx)".into(),
        ),
        (
            sheet("Tabelle1", &[HEADER.to_vec()]),
            "Das Tabellenblatt „Antworten“ fehlt (vorhanden: „Tabelle1“)".into(),
        ),
        (
            sheet("Antworten", &[wrong_header]),
            "Zeile 1, Spalte C: Überschrift „Status“ erwartet, gefunden „Stat“".into(),
        ),
        (
            book(seven),
            "Zeile 7, Spalte C (Status): unbekannter Status „vielleicht“".into(),
        ),
        (
            book(vec![ok(&reqs[0], "", "ja"), ok("NOPE.9.9", "", "ja")]),
            "Zeile 3, Spalte A (Anforderung): unbekannte Anforderung „NOPE.9.9“".into(),
        ),
        (
            book(vec![ok(&reqs[0], "Gibt es nicht", "ja")]),
            "Zeile 2, Spalte B (Objekt): kein Objekt „Gibt es nicht“ in dieser Kommune".into(),
        ),
        (
            book(vec![ok(&reqs[0], "Doppelname", "ja")]),
            "Zeile 2, Spalte B (Objekt): mehrere Objekte dieser Kommune heißen „Doppelname“".into(),
        ),
        (
            book(vec![
                ok(&reqs[0], "", "ja"),
                ok(&reqs[1], "", "ja"),
                ok(&reqs[0], "", "nein"),
            ]),
            format!(
                "Zeile 4: doppelte Zeile – Anforderung „{}“, Objekt „ganze Organisation“ steht schon in Zeile 2.",
                reqs[0]
            ),
        ),
        (
            book(vec![with(ok(&reqs[0], "", "ja"), 6, "31.02.2026")]),
            "Zeile 2, Spalte G (Bewertet am): ungültiges Datum „31.02.2026“".into(),
        ),
        (
            book(vec![with(ok(&reqs[0], "", "ja"), 7, "bald")]),
            "Zeile 2, Spalte H (Prüfen bis): ungültiges Datum „bald“".into(),
        ),
        (
            book(vec![ok(&reqs[0], "Transfer-Server 01", "entbehrlich")]),
            "Zeile 2, Spalte D (Begründung): Für „entbehrlich“ ist eine Begründung nötig.".into(),
        ),
        (
            book(vec![with(
                ok(&reqs[0], "", "ja"),
                8,
                "https://ok.example/a\nftp://intranet.example/b",
            )]),
            "Zeile 2, Spalte I (Nachweise): Nachweis 2: „ftp://intranet.example/b“ ist keiner".into(),
        ),
        (
            book(vec![with(
                ok(&reqs[0], "", "ja"),
                8,
                "stadtmauer:file:application/pdf:12 sha256=abc x.pdf",
            )]),
            "Zeile 2, Spalte I (Nachweise): Nachweis 1: Die Prüfsumme des Nachweises ist ungültig.".into(),
        ),
        (
            book(vec![with(ok(&reqs[0], "", "ja"), 8, "https://x.example#valid-until=2026-13-01")]),
            "Zeile 2, Spalte I (Nachweise): Nachweis 1: ungültiges Datum „2026-13-01“".into(),
        ),
        (
            book(vec![{
                let mut r = ok(&reqs[0], "", "ja");
                r.push("Zusatz".into());
                r
            }]),
            "Zeile 2, Spalte J: unerwarteter Inhalt rechts von Spalte I.".into(),
        ),
        (
            formula,
            "Zeile 2, Spalte C (Status): Formeln werden nicht übernommen".into(),
        ),
        (
            book(vec![]),
            "Das Tabellenblatt „Antworten“ enthält keine Antworten.".into(),
        ),
    ];
    for (bytes, needle) in cases {
        let r = upload_xlsx(&mut cb, b, &bytes).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{needle}: {}",
            r.body
        );
        assert!(r.body.contains("nichts gespeichert"), "{}", r.body);
        assert!(r.body.contains(&needle), "{needle}: {}", r.body);
        assert!(r
            .body
            .contains("aria-invalid=\"true\" aria-describedby=\"xfile-err"));
        assert_eq!(
            app.store.answers(&sys, b).await.unwrap(),
            before,
            "{needle}"
        );
    }
    // A good file still goes in afterwards.
    let r = upload_xlsx(&mut cb, b, &good).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

#[tokio::test]
async fn assessment_xlsx_respects_roles_and_towns() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let b = app.org_id(TOWN_B).await;
    answer_some(&app, a).await;
    let url = format!("/organisations/{a}/security/assessment.xlsx");
    let (_, good) = raw_get(&app, COORD_A, &url).await;
    let sys = app.system().await;
    let before = app.store.answers(&sys, a).await.unwrap();

    // The mayor (reports only) sees neither the file nor may send one: the town is visible to
    // them, so the answer is "forbidden" (one access rule, `Scope::require`).
    assert_eq!(raw_get(&app, READER_A, &url).await.0, StatusCode::FORBIDDEN);
    let mut reader = app.session_for(READER_A).await;
    reader.get("/account").await;
    let r = upload_xlsx(&mut reader, a, &good).await;
    assert!(
        matches!(r.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
        "{}",
        r.status
    );
    // An auditor reads, but does not write.
    assert!(app.user_id(AUDITOR).await.0 > 0);
    assert_eq!(raw_get(&app, AUDITOR, &url).await.0, StatusCode::OK);
    let mut auditor = app.session_for(AUDITOR).await;
    let t = auditor
        .get(&format!("/organisations/{a}/security/transfer"))
        .await;
    assert!(t.body.contains("assessment.xlsx\""), "{}", t.body);
    assert!(!t.body.contains("assessment.xlsx?csrf="));
    let r = upload_xlsx(&mut auditor, a, &good).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Another town's coordinator: no such thing.
    assert_eq!(raw_get(&app, COORD_B, &url).await.0, StatusCode::NOT_FOUND);
    let mut cb = app.session_for(COORD_B).await;
    cb.get(&format!("/organisations/{b}/security/transfer"))
        .await;
    let r = upload_xlsx(&mut cb, a, &good).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(app.store.answers(&sys, a).await.unwrap(), before);
}

#[tokio::test]
async fn too_large_transfer_uploads_say_so() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let mut ca = app.session_for(COORD_A).await;
    ca.get(&format!("/organisations/{a}/security/transfer"))
        .await;
    let big = vec![b'x'; stadtmauer_web_results_body_max() + 1];
    let r = upload_xlsx(&mut ca, a, &big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert!(
        r.body
            .contains("Die Datei ist größer als die erlaubten 16 MB."),
        "{}",
        r.body
    );
    let r = upload(&mut ca, a, &big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert!(r.body.contains("größer als die erlaubten 16 MB"));
}

/// `RESULTS_BODY_MAX` of the web crate (16 MB and a little for the form around the file).
fn stadtmauer_web_results_body_max() -> usize {
    16 * 1024 * 1024 + 64 * 1024
}

/// Answers to the Verbund's own requirements travel like catalog answers, in both formats.
#[tokio::test]
async fn own_requirements_travel_in_both_formats() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let b = app.org_id(TOWN_B).await;
    let sys = app.system().await;
    let v = app
        .store
        .organisation(&sys, a)
        .await
        .unwrap()
        .verbund_id
        .unwrap();
    let office = app.scope_of(OFFICE).await;
    let own = stadtmauer_catalog::own::OwnRequirementInput {
        code: "VB.7".into(),
        practice: "DET".into(),
        title: "Meldung an die ISB".into(),
        statement: "Vorfälle MÜSSEN binnen 24 Stunden gemeldet werden.".into(),
        sec_level: "normal-SdT".into(),
        effort_level: "1".into(),
        ..Default::default()
    }
    .check(&["DET"], |_| false)
    .unwrap();
    app.store
        .save_own_requirement(&office, v, None, &own)
        .await
        .unwrap();
    let mut ca = app.session_for(COORD_A).await;
    ca.get(&format!("/organisations/{a}/security")).await;
    let r = ca
        .post(
            &format!("/organisations/{a}/security/answer"),
            &[
                ("requirement_id", "VB.7"),
                ("status", "teilweise"),
                ("note", "Meldeweg steht, Übung fehlt"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let json = ca
        .get(&format!(
            "/organisations/{a}/security/assessment-results.json"
        ))
        .await;
    let (status, xlsx) = raw_get(
        &app,
        COORD_A,
        &format!("/organisations/{a}/security/assessment.xlsx"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mut cb = app.session_for(COORD_B).await;
    cb.get(&format!("/organisations/{b}/security/transfer"))
        .await;
    for (i, r) in [
        upload(&mut cb, b, json.body.as_bytes()).await,
        upload_xlsx(&mut cb, b, &xlsx).await,
    ]
    .into_iter()
    .enumerate()
    {
        assert_eq!(r.status, StatusCode::SEE_OTHER, "format {i}: {}", r.body);
        let got = app.store.answers(&sys, b).await.unwrap();
        let vb = got
            .iter()
            .find(|s| s.answer.requirement_id == "VB.7")
            .unwrap_or_else(|| panic!("format {i}: VB.7 missing"));
        assert_eq!(vb.answer.status, Status::Teilweise);
        assert_eq!(
            vb.answer.note.as_deref(),
            Some("Meldeweg steht, Übung fehlt")
        );
    }
}

/// A cell Excel could not hold is refused with the requirement named, not a broken file.
#[tokio::test]
async fn assessment_xlsx_refuses_a_cell_longer_than_excel_allows() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let sys = app.system().await;
    let req = basis_org_requirements(1).remove(0);
    let links: Vec<EvidenceItem> = (0..20)
        .map(|i| EvidenceItem {
            evidence: Evidence::Link {
                url: format!("https://intranet.example/{i}/{}", "x".repeat(2000)),
            },
            valid_until: None,
        })
        .collect();
    app.store
        .save_answer(
            &sys,
            a,
            &Answer {
                requirement_id: req.clone(),
                object_id: None,
                status: Status::Ja,
                reason: None,
                note: None,
                responsible: None,
                assessed_on: time::OffsetDateTime::now_utc().date(),
                review_by: None,
                evidence: links,
            },
        )
        .await
        .unwrap();
    let mut c = app.session_for(COORD_A).await;
    let r = c
        .get(&format!("/organisations/{a}/security/assessment.xlsx"))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("32.767 Zeichen"), "{}", r.body);
    assert!(r.body.contains(&req));
}
