//! Continuity: BIA with field errors that change nothing, the backup register (IT staff may
//! write it, the mayor's office may not), the readiness page with verdicts, restart order,
//! scenarios and checklist, the office's comparison, the handbook's contacts and its HTML and PDF
//! downloads with version, checksum and the "out of date" warning.

use crate::harness::*;
use axum::http::{header, StatusCode};
use stadtmauer_core::{ObjectId, OrgId};
use stadtmauer_inventory::model::ObjectInput;
use stadtmauer_store::audit::AuditFilter;

const IT_A: &str = "paula.nowak@falkenhorst.example";
const READER_A: &str = "anja.lenzen@falkenhorst.example";

struct Town {
    org: OrgId,
    process: ObjectId,
    server: ObjectId,
}

/// Kasse (process) → Finanzverfahren (application) → Finanzserver (server).
async fn town(app: &TestApp) -> Town {
    let sys = app.system().await;
    let org = app.org_id(TOWN_A).await;
    let obj = |kind: &str, name: &str, st: Option<&str>| {
        ObjectInput {
            kind: kind.into(),
            name: name.into(),
            need_a: (kind == "process").then(|| "hoch".into()),
            system_type: st.map(str::to_string),
            ..Default::default()
        }
        .validate()
        .unwrap()
    };
    let process = app
        .store
        .create_object(&sys, org, &obj("process", "Stadtkasse", None))
        .await
        .unwrap();
    let appl = app
        .store
        .create_object(&sys, org, &obj("application", "Finanzverfahren", None))
        .await
        .unwrap();
    let server = app
        .store
        .create_object(&sys, org, &obj("system", "Finanzserver", Some("server")))
        .await
        .unwrap();
    app.store.add_link(&sys, process, appl).await.unwrap();
    app.store.add_link(&sys, appl, server).await.unwrap();
    Town {
        org,
        process,
        server,
    }
}

async fn audit_count(app: &TestApp, org: OrgId) -> usize {
    let sys = app.system().await;
    app.store
        .audit_entries(
            &sys,
            &AuditFilter {
                organisation: Some(org),
                limit: 10_000,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .len()
}

fn bia_fields<'a>(mta: &'a str, rto: &'a str, rpo: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("mta", mta),
        ("rto", rto),
        ("rpo", rpo),
        ("criticality", "sehr_hoch"),
        ("deadline_description_0", "Auszahlung Sozialleistungen"),
        ("deadline_kind_0", "monthly"),
        ("deadline_value_0", "1"),
        ("deadline_lead_0", "2d"),
        ("procedure_summary", "Barauszahlung mit Quittungsblock"),
        ("step_who_0", "Kassenleitung Frau Ahrens"),
        ("step_what_0", "Quittungsblöcke aus dem Tresor holen"),
        ("step_who_1", "Kämmerer"),
        (
            "step_what_1",
            "Zahlungsliste der Vorwoche ausdrucken lassen",
        ),
    ]
}

fn backup_fields(server: &str) -> Vec<(&str, &str)> {
    vec![
        ("name", "Finanzserver täglich"),
        ("systems", server),
        ("interval", "24h"),
        ("copy_medium_0", "nas"),
        ("copy_location_0", "Serverraum Rathaus"),
        ("copy_medium_1", "tape"),
        ("copy_location_1", "Tresor Bauhof"),
        ("copy_offsite_1", "on"),
        ("copy_offline_1", "on"),
        ("separate_credentials", "on"),
        ("test_date_0", "2020-01-15"),
        ("test_duration_0", "6h"),
        ("test_result_0", "success"),
        ("test_errors_0", "0"),
    ]
}

#[tokio::test]
async fn bia_errors_change_nothing_and_valid_bia_is_saved() {
    let app = spawn_app().await;
    let t = town(&app).await;
    let mut c = app.session_for(COORD_A).await;
    let path = format!("/inventory/{}/bia", t.process);
    let form = c.get(&path).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("Stadtkasse"));
    let before = audit_count(&app, t.org).await;
    // RTO longer than MTA.
    let r = c.post(&path, &bia_fields("4h", "8h", "")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .body
        .contains("darf nicht länger sein als die maximal tolerierbare"));
    // Negative duration.
    let r = c.post(&path, &bia_fields("-4h", "2h", "")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Eine Dauer kann nicht negativ sein."));
    // RPO without any backup of the systems the process uses.
    let r = c.post(&path, &bia_fields("3d", "1d", "4h")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Ein RPO setzt eine Datensicherung voraus"));
    // The entered values stay in the form.
    assert!(r.body.contains("Quittungsblöcke aus dem Tresor holen"));
    let sys = app.system().await;
    assert!(app.store.bia(&sys, t.process).await.unwrap().is_none());
    assert_eq!(
        before,
        audit_count(&app, t.org).await,
        "an invalid BIA wrote"
    );

    // A valid BIA (without RPO) is saved and audited.
    let r = c.post(&path, &bia_fields("3d", "1d", "")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let b = app.store.bia(&sys, t.process).await.unwrap().unwrap();
    assert_eq!(b.mta.as_minutes(), 3 * 1440);
    assert_eq!(b.procedure.steps.len(), 2);
    assert_eq!(before + 1, audit_count(&app, t.org).await);
    let list = c
        .get(&format!("/organisations/{}/continuity/bia", t.org))
        .await;
    assert!(list.body.contains("Stadtkasse") && list.body.contains("3d"));

    // The mayor's office (reports only) may not write the BIA.
    let mut reader = app.session_for(READER_A).await;
    let r = reader.post(&path, &bia_fields("3d", "1d", "")).await;
    assert!(matches!(
        r.status,
        StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
    ));
    // IT staff may not write the BIA either (organisational, not technical).
    let mut it = app.session_for(IT_A).await;
    let r = it.post(&path, &bia_fields("3d", "1d", "")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn backup_register_by_it_staff_then_rpo_and_verdicts() {
    let app = spawn_app().await;
    let t = town(&app).await;
    let server = t.server.to_string();
    let mut it = app.session_for(IT_A).await;
    let path = format!("/organisations/{}/continuity/backups", t.org);
    let sys = app.system().await;
    // No copy, no system: field errors, nothing stored.
    let r = it
        .post(&path, &[("name", "Leer"), ("interval", "0h")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Bitte mindestens ein IT-System wählen."));
    assert!(r.body.contains("Bitte mindestens eine Kopie angeben."));
    assert!(r.body.contains("Das Intervall muss größer als null sein."));
    assert!(app.store.backups(&sys, t.org).await.unwrap().is_empty());
    // The reader may not write the register.
    let mut reader = app.session_for(READER_A).await;
    let r = reader.post(&path, &backup_fields(&server)).await;
    assert!(matches!(
        r.status,
        StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
    ));
    // IT staff records a backup (technical record).
    let r = it.post(&path, &backup_fields(&server)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let list = it.get(&path).await;
    assert!(list.body.contains("Finanzserver täglich"));
    let stored = app.store.backups(&sys, t.org).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].backup.copies.len(), 2);
    // The edit form shows the stored values back.
    let edit = it.get(&format!("{path}/edit?id={}", stored[0].id)).await;
    assert!(edit.body.contains("Tresor Bauhof"));

    // Now the RPO is allowed; 24 h interval against 4 h RPO is a reasoned "not met".
    let mut c = app.session_for(COORD_A).await;
    let r = c
        .post(
            &format!("/inventory/{}/bia", t.process),
            &bia_fields("3d", "1d", "4h"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = c.get(&format!("/organisations/{}/continuity", t.org)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("Gesichert wird alle 1d; der Prozess darf höchstens 4h Daten verlieren."),
        "{}",
        page.body
    );
    // 3-2-1-1-0: 3 copies, 2 media, off-site, offline; the last test is older than 12 months.
    assert!(page
        .body
        .contains("3 Kopien einschließlich der Originaldaten"));
    assert!(page.body.contains("vor "));
    assert!(page.body.contains("Finanzserver"));
    // Restart order: the server is restored (measured 6 h), the process is back after 6 h.
    assert!(page.body.contains("id=\"restart\""));
    assert!(page.body.contains("6h"));
    // The score with its points and measures.
    assert!(page.body.contains("id=\"score\""));
    assert!(page.body.contains("Mehrfaktor-Anmeldung für VPN"));

    // Delete by IT staff.
    let r = it
        .post(
            &format!("{path}/delete"),
            &[("id", &stored[0].id.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(app.store.backups(&sys, t.org).await.unwrap().is_empty());
}

#[tokio::test]
async fn scenarios_checklist_and_verbund_comparison() {
    let app = spawn_app().await;
    let t = town(&app).await;
    let mut c = app.session_for(COORD_A).await;
    let base = format!("/organisations/{}/continuity", t.org);
    let r = c
        .get(&format!("{base}?scenario=system&system={}", t.server))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("id=\"scenario-result\""));
    assert!(r.body.contains("Finanzserver geht verloren"));
    assert!(r.body.contains("Stadtkasse"));
    // A bad duration is a field error.
    let r = c
        .get(&format!("{base}?scenario=provider&provider=1&hours=-3h"))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Checklist: IT staff answers; the score rises by the MFA weight (15).
    let score = |body: &str| -> u32 {
        let i = body.find("id=\"score\">").unwrap() + 11;
        body[i..body[i..].find('<').unwrap() + i].parse().unwrap()
    };
    let before = score(&c.get(&base).await.body);
    let mut it = app.session_for(IT_A).await;
    let r = it
        .post(
            &format!("{base}/checklist"),
            &[
                ("mfa_remote_access", "yes"),
                ("admin_accounts_separated", "unknown"),
                ("segmentation", "no"),
                ("edr", "unknown"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(score(&c.get(&base).await.body), before + 15);
    let r = it
        .post(
            &format!("{base}/checklist"),
            &[("mfa_remote_access", "vielleicht")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The office compares every member; nothing of another Verbund.
    let sys = app.system().await;
    let verbund = app
        .store
        .organisation(&sys, t.org)
        .await
        .unwrap()
        .verbund_id
        .unwrap();
    let mut office = app.session_for(OFFICE).await;
    let r = office
        .get(&format!("/verbuende/{verbund}/continuity"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains(TOWN_A) && r.body.contains(TOWN_B));
    assert!(!r.body.contains("Beispielstein"));
}

#[tokio::test]
async fn handbook_contacts_downloads_and_outdated_warning() {
    let app = spawn_app().await;
    let t = town(&app).await;
    let mut c = app.session_for(COORD_A).await;
    let base = format!("/organisations/{}/continuity", t.org);
    c.post(
        &format!("/inventory/{}/bia", t.process),
        &bia_fields("3d", "1d", ""),
    )
    .await;
    let add = format!("{base}/contacts/add");
    for fields in [
        vec![
            ("section", "alarm"),
            ("trigger", "Verschlüsselte Dateien entdeckt"),
            ("notify", "IT-Leitung"),
            ("phone", "0170 1234567"),
            ("escalate_after", "30min"),
        ],
        vec![
            ("section", "crisis"),
            ("role", "Leitung Krisenstab"),
            ("member_name", "Bürgermeisterin Lenzen"),
            ("member_phone", "0171 7654321"),
            ("member_phone_kind", "mobile"),
            ("deputy_name", "Kämmerer Brandt"),
            ("deputy_phone", "0172 1112223"),
            ("deputy_phone_kind", "private"),
        ],
        vec![
            ("section", "external"),
            ("kind", "police_zac"),
            ("name", "ZAC Landeskriminalamt"),
            ("phone", "0800 5551234"),
        ],
    ] {
        let r = c.post(&add, &fields).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    // An incomplete entry is a field error.
    let r = c.post(&add, &[("section", "external"), ("name", "")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = c.get(&format!("{base}/contacts")).await;
    assert!(page.body.contains("Kämmerer Brandt"));
    assert!(page.body.contains("id=\"handbook-outdated\""));
    assert!(page
        .body
        .contains("Externer Kontakt fehlt: CERT des Landes."));

    // HTML: one self-contained file, attachment, checksum verifies, every contact and step.
    let r = c.get(&format!("{base}/handbook.html")).await;
    assert_eq!(r.status, StatusCode::OK);
    let cd = r.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(
        cd.starts_with("attachment;") && cd.contains("v1.html"),
        "{cd}"
    );
    assert!(stadtmauer_store::continuity::stadtmauer_continuity::handbook::verify_html(&r.body));
    for text in [
        "Verschlüsselte Dateien entdeckt",
        "0170 1234567",
        "Bürgermeisterin Lenzen",
        "0172 1112223",
        "ZAC Landeskriminalamt",
        "Quittungsblöcke aus dem Tresor holen",
        "Kassenleitung Frau Ahrens",
    ] {
        assert!(r.body.contains(text), "HTML handbook lacks {text}");
    }
    assert!(!r.body.contains("src=\"http") && !r.body.contains("href=\"http"));
    // The export is recorded; the warning is gone until the next change.
    let page = c.get(&base).await;
    assert!(!page.body.contains("id=\"handbook-outdated\""));
    assert!(page.body.contains("Version 1 (html)"));
    c.post(
        &add,
        &[
            ("section", "external"),
            ("kind", "state_cert"),
            ("name", "CERT Musterland"),
        ],
    )
    .await;
    let page = c.get(&base).await;
    assert!(page.body.contains("id=\"handbook-outdated\""));

    // PDF: same content, version 2 now, checked page by page with pdftotext.
    let (status, headers, pdf) = raw_get(&app, COORD_A, &format!("{base}/handbook.pdf")).await;
    assert_eq!(status, StatusCode::OK);
    let cd = headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(
        cd.starts_with("attachment;") && cd.contains("v2.pdf"),
        "{cd}"
    );
    assert!(pdf.starts_with(b"%PDF"));
    let pages = pdf_pages(&pdf);
    assert!(pages.len() >= 3, "{} pages", pages.len());
    let sys = app.system().await;
    let checksum = app.store.handbook_exports(&sys, t.org).await.unwrap()[0]
        .checksum
        .clone();
    for (i, p) in pages.iter().enumerate() {
        assert!(p.contains("Version 2"), "page {} lacks the version", i + 1);
        assert!(p.contains(&checksum), "page {} lacks the checksum", i + 1);
    }
    let all = pages.join(" ");
    for text in [
        "Verschlüsselte Dateien entdeckt",
        "0170 1234567",
        "Bürgermeisterin Lenzen",
        "Kämmerer Brandt",
        "0172 1112223",
        "ZAC Landeskriminalamt",
        "CERT Musterland",
        "Quittungsblöcke aus dem Tresor holen",
        "Kassenleitung Frau Ahrens",
        "Zahlungsliste der Vorwoche ausdrucken lassen",
        "Stadtkasse",
    ] {
        assert!(all.contains(text), "PDF handbook lacks {text}: {all}");
    }
    // The PDF and the HTML of the same version carry the same content checksum.
    let html = c.get(&format!("{base}/handbook.html")).await;
    assert!(html.body.contains(&checksum));
}

/// A GET with the raw body bytes (the harness decodes bodies as text).
async fn raw_get(
    app: &TestApp,
    email: &str,
    path: &str,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    use tower::ServiceExt;
    let id = app.user_id(email).await;
    let (sid, _) = app.store.create_session(id, false, 3600).await.unwrap();
    let req = axum::http::Request::get(path)
        .header(header::COOKIE, format!("sm_session={sid}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = app.router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), 64 * 1024 * 1024)
        .await
        .unwrap();
    (status, headers, bytes.to_vec())
}

/// Makes sure poppler-utils is there (installs it when running as root, as crates/pdf's tests do).
fn poppler() {
    use std::process::Command;
    if Command::new("pdftotext").arg("-v").output().is_ok() {
        return;
    }
    let install = || {
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends", "poppler-utils"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success())
    };
    let ok = install()
        || (Command::new("apt-get")
            .arg("update")
            .status()
            .is_ok_and(|s| s.success())
            && install());
    assert!(ok, "pdftotext is missing: apt-get install -y poppler-utils");
}

/// The text of every page, whitespace collapsed (table cells wrap lines).
fn pdf_pages(pdf: &[u8]) -> Vec<String> {
    use std::process::Command;
    poppler();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("handbook.pdf");
    std::fs::write(&path, pdf).unwrap();
    let info = Command::new("pdfinfo").arg(&path).output().unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    let n: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (1..=n)
        .map(|i| {
            let out = Command::new("pdftotext")
                .args(["-f", &i.to_string(), "-l", &i.to_string(), "-enc", "UTF-8"])
                .arg(&path)
                .arg("-")
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// Every continuity route, called by town A's coordinator with town B's ids: 403 or 404,
/// nothing of B in the answer, nothing written for B.
#[tokio::test]
async fn continuity_routes_keep_towns_apart() {
    let app = spawn_app().await;
    let sys = app.system().await;
    let b = app.org_id(TOWN_B).await;
    let p = app
        .store
        .create_object(
            &sys,
            b,
            &ObjectInput {
                kind: "process".into(),
                name: "Geheimprozess".into(),
                ..Default::default()
            }
            .validate()
            .unwrap(),
        )
        .await
        .unwrap();
    let other_verbund = app
        .store
        .verbuende(&sys)
        .await
        .unwrap()
        .into_iter()
        .find(|v| v.name == "Landkreis Beispielstein")
        .unwrap()
        .id;
    let before = audit_count(&app, b).await;
    let mut c = app.session_for(COORD_A).await;
    let gets = [
        format!("/organisations/{b}/continuity"),
        format!("/organisations/{b}/continuity?scenario=system&system={p}"),
        format!("/organisations/{b}/continuity/bia"),
        format!("/inventory/{p}/bia"),
        format!("/organisations/{b}/continuity/backups"),
        format!("/organisations/{b}/continuity/backups/edit"),
        format!("/organisations/{b}/continuity/contacts"),
        format!("/organisations/{b}/continuity/handbook.html"),
        format!("/organisations/{b}/continuity/handbook.pdf"),
        format!("/verbuende/{other_verbund}/continuity"),
        format!("/organisations/{b}/continuity/exercises"),
        format!("/organisations/{b}/continuity/exercises/result?id=1"),
    ];
    for path in &gets {
        let r = c.get(path).await;
        assert!(
            matches!(r.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
            "GET {path} → {}",
            r.status
        );
        assert!(!r.body.contains(TOWN_B) && !r.body.contains("Geheimprozess"));
    }
    let posts: [(String, Vec<(&str, &str)>); 9] = [
        (
            format!("/organisations/{b}/continuity/exercises"),
            vec![
                ("title", "x"),
                ("kind", "tabletop"),
                ("planned", "2099-01-01"),
                ("objectives", "x"),
            ],
        ),
        (
            format!("/organisations/{b}/continuity/exercises/result"),
            vec![("id", "1"), ("held", "2026-01-01"), ("duration", "1h")],
        ),
        (
            format!("/organisations/{b}/continuity/exercises/measure"),
            vec![("id", "1"), ("status", "done")],
        ),
        (
            format!("/organisations/{b}/continuity/checklist"),
            vec![("mfa_remote_access", "yes")],
        ),
        (format!("/inventory/{p}/bia"), bia_fields("3d", "1d", "")),
        (
            format!("/organisations/{b}/continuity/backups"),
            vec![("name", "x"), ("interval", "1d")],
        ),
        (
            format!("/organisations/{b}/continuity/backups/delete"),
            vec![("id", "1")],
        ),
        (
            format!("/organisations/{b}/continuity/contacts/add"),
            vec![("section", "external"), ("kind", "bsi"), ("name", "x")],
        ),
        (
            format!("/organisations/{b}/continuity/contacts/remove"),
            vec![("section", "external"), ("index", "0")],
        ),
    ];
    for (path, fields) in &posts {
        let r = c.post(path, fields).await;
        assert!(
            matches!(r.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
            "POST {path} → {}",
            r.status
        );
    }
    assert_eq!(before, audit_count(&app, b).await);
}

/// Exercises: plan (bad input is a 422 that changes nothing), IT staff records the result with
/// two findings and a measured restore, the findings become two measures with due dates, the
/// restore lands in the backup register, the coordinator closes a measure, and another town's
/// coordinator gets 404 everywhere.
#[tokio::test]
async fn exercises_plan_result_measures_and_isolation() {
    let app = spawn_app().await;
    let t = town(&app).await;
    let sys = app.system().await;
    let server = t.server.to_string();
    let path = format!("/organisations/{}/continuity/exercises", t.org);
    let mut c = app.session_for(COORD_A).await;

    // The town's continuity page links to the exercises.
    let town_page = c.get(&format!("/organisations/{}/continuity", t.org)).await;
    assert!(town_page.body.contains(&path));

    // Bad input: field errors, nothing stored, nothing audited.
    let before = audit_count(&app, t.org).await;
    let r = c
        .post(
            &path,
            &[
                ("title", ""),
                ("kind", "Picknick"),
                ("planned", "2020-01-01"),
                ("objectives", " "),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Das Datum muss in der Zukunft liegen."));
    assert!(r.body.contains("Bitte mindestens ein Übungsziel angeben."));
    assert!(app.store.exercises(&sys, t.org).await.unwrap().is_empty());
    assert_eq!(before, audit_count(&app, t.org).await);

    // The reader may not plan.
    let mut reader = app.session_for(READER_A).await;
    let plan = [
        ("title", "Ransomware-Planspiel"),
        ("kind", "tabletop"),
        ("planned", "2099-03-01"),
        ("scenario", "Verschlüsselung aller Server am Freitagabend"),
        (
            "objectives",
            "Alarmkette ohne Telefonanlage\nWiederanlauf Stadtkasse",
        ),
        ("participants", "Krisenstab, IT"),
    ];
    let r = reader.post(&path, &plan).await;
    assert!(matches!(
        r.status,
        StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
    ));

    // The coordinator plans it.
    let r = c.post(&path, &plan).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let list = c.get(&path).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("Ransomware-Planspiel"));
    assert!(list.body.contains("Planbesprechung"));
    let stored = app.store.exercises(&sys, t.org).await.unwrap();
    assert_eq!(stored.len(), 1);
    let id = stored[0].id.to_string();

    // IT staff keeps the backup register and records the result.
    let mut it = app.session_for(IT_A).await;
    let r = it
        .post(
            &format!("/organisations/{}/continuity/backups", t.org),
            &backup_fields(&server),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let form = it.get(&format!("{path}/result?id={id}")).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("Wiederanlauf Stadtkasse"));
    // A finding without a description: 422, nothing changes.
    let before = audit_count(&app, t.org).await;
    let r = it
        .post(
            &format!("{path}/result"),
            &[
                ("id", id.as_str()),
                ("held", "2026-01-15"),
                ("duration", "3h"),
                ("participants", "Krisenstab"),
                ("finding_category_0", "contact_data"),
                ("finding_severity_0", "low"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(before, audit_count(&app, t.org).await);
    let r = it
        .post(
            &format!("{path}/result"),
            &[
                ("id", id.as_str()),
                ("held", "2026-01-15"),
                ("duration", "3h"),
                ("participants", "Krisenstab, IT"),
                ("met_0", "on"),
                ("finding_category_0", "contact_data"),
                ("finding_severity_0", "low"),
                ("finding_description_0", "Nummer des Bauhofs veraltet"),
                ("finding_category_1", "restore"),
                ("finding_severity_1", "high"),
                ("finding_description_1", "Rücksicherung dauerte 9 Stunden"),
                ("finding_object_1", server.as_str()),
                ("restore_system_0", server.as_str()),
                ("restore_duration_0", "9h"),
                ("restore_result_0", "success"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // Two measures with the domain's due dates; the restore is a restore test of the backup.
    let measures = app.store.exercise_measures(&sys, t.org).await.unwrap();
    assert_eq!(measures.len(), 2);
    let dues: Vec<_> = measures
        .iter()
        .map(|m| (m.measure.key.as_str(), m.measure.due.to_string()))
        .collect();
    assert!(dues.contains(&("bcm.measure.update_contacts", "2026-01-29".to_string())));
    assert!(dues.contains(&("bcm.measure.restore_test", "2026-01-29".to_string())));
    let list = c.get(&path).await;
    assert!(list
        .body
        .contains("Kontakte im Notfallhandbuch aktualisieren."));
    assert!(list.body.contains("Nummer des Bauhofs veraltet"));
    assert!(list.body.contains("1 von 2"));
    let backups = app.store.backups(&sys, t.org).await.unwrap();
    let last = backups[0].backup.last_restore_test().unwrap();
    assert_eq!(last.date.to_string(), "2026-01-15");
    assert_eq!(
        last.duration,
        stadtmauer_store::continuity::stadtmauer_continuity::Span::hours(9)
    );
    // A second result for the same exercise is refused.
    let r = it
        .post(
            &format!("{path}/result"),
            &[
                ("id", id.as_str()),
                ("held", "2026-01-16"),
                ("duration", "3h"),
                ("participants", "IT"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.store
            .exercise_measures(&sys, t.org)
            .await
            .unwrap()
            .len(),
        2
    );

    // The coordinator closes a measure and names its owner.
    let mid = measures[0].id.to_string();
    let r = c
        .post(
            &format!("{path}/measure"),
            &[
                ("id", mid.as_str()),
                ("status", "done"),
                ("owner", "Hauptamt"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let m = app.store.exercise_measures(&sys, t.org).await.unwrap();
    let m = m.iter().find(|m| m.id == measures[0].id).unwrap();
    assert_eq!(
        m.measure.status,
        stadtmauer_store::continuity::MeasureStatus::Done
    );
    assert_eq!(m.measure.owner.as_deref(), Some("Hauptamt"));

    // Another town's coordinator: 404 for A's pages, and A's ids do not work in B's town.
    let b = app.org_id(TOWN_B).await;
    let before = audit_count(&app, t.org).await;
    let mut other = app.session_for(COORD_B).await;
    for p in [path.clone(), format!("{path}/result?id={id}")] {
        let r = other.get(&p).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "GET {p}");
        assert!(!r.body.contains("Ransomware-Planspiel"));
    }
    let r = other.post(&path, &plan).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = other
        .post(
            &format!("/organisations/{b}/continuity/exercises/result"),
            &[
                ("id", id.as_str()),
                ("held", "2026-01-15"),
                ("duration", "1h"),
                ("participants", "x"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = other
        .post(
            &format!("/organisations/{b}/continuity/exercises/measure"),
            &[("id", mid.as_str()), ("status", "open")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(before, audit_count(&app, t.org).await);
    assert!(app.store.exercises(&sys, b).await.unwrap().is_empty());
}
