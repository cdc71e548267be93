//! The security level (Grundschutz++): the shipped catalog from the first start, search and
//! filters, a requirement's page with its equivalents and relationships, the licence attribution.

use crate::harness::*;
use axum::http::StatusCode;

#[tokio::test]
async fn catalog_is_there_from_the_first_start_and_searchable() {
    let app = spawn_app().await;
    let mut c = app.session_for(COORD_A).await;
    let all = c.get("/catalog").await;
    assert_eq!(all.status, StatusCode::OK);
    assert!(
        all.body.contains("901 Anforderungen gefunden"),
        "{}",
        all.body
    );
    assert!(all.body.contains("CC BY-SA 4.0"), "attribution missing");
    assert!(all.body.contains("ASST.1.1.2"));

    // German full text: umlaut folding and compounds.
    let hits = c.get("/catalog?q=Datensicherung").await;
    assert_eq!(hits.status, StatusCode::OK);
    assert!(!hits.body.contains("901 Anforderungen"));
    assert!(hits.body.contains("/catalog/requirement?id="));

    // Filters narrow: practice, sec_level, modal verb, effort, Kommunale Basis.
    let ber = c.get("/catalog?q=passwort&practice=BER").await;
    assert_eq!(ber.status, StatusCode::OK);
    for line in ber.body.lines().filter(|l| l.contains("requirement?id=")) {
        assert!(line.contains("requirement?id=BER."), "{line}");
    }
    let erh = c
        .get("/catalog?sec_level=erh%C3%B6ht&modal=MUSS&effort=4")
        .await;
    assert_eq!(erh.status, StatusCode::OK);
    assert!(!erh.body.contains("901 Anforderungen"));
    let basis = c.get("/catalog?basis=1").await;
    assert!(
        basis.body.contains("542 Anforderungen gefunden"),
        "{}",
        basis.body
    );
    let page2 = c.get("/catalog?page=2").await;
    assert!(page2.body.contains("angezeigt 51 bis 100"));

    // Other shipped catalogs.
    let methodik = c.get("/catalog?cat=methodik").await;
    assert_eq!(methodik.status, StatusCode::OK);
    assert!(methodik.body.contains("Methodik"));

    // Hostile or odd query values are harmless.
    let odd = c
        .get("/catalog?q=%3Cscript%3E&practice=NOPE&effort=99&tag=%22&page=9999")
        .await;
    assert_eq!(odd.status, StatusCode::OK);
    assert!(!odd.body.contains("<script>"));
}

#[tokio::test]
async fn requirement_page_shows_statement_guidance_and_equivalents() {
    let app = spawn_app().await;
    let mut c = app.session_for(COORD_A).await;
    let r = c.get("/catalog/requirement?id=ASST.2.4").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("ISO/IEC 27001:2022"));
    // ISO 5.12 is mapped equivalent-to ASST.2.4.
    assert!(r.body.contains("data-rel=\"equivalent-to\""), "{}", r.body);
    assert!(r.body.contains("<strong>5.12</strong>"));
    assert!(r.body.contains("CC BY-SA 4.0"));

    let k = c.get("/catalog/requirement?id=ASST.1.1.2").await;
    assert_eq!(k.status, StatusCode::OK);
    assert!(k.body.contains("Anforderung"));
    assert!(k.body.contains("Teil der Kommunalen Basis"));

    // A subset-of mapping reads as "umfasst" from the Grundschutz++ side.
    // GC is a Methodik practice: found in the Methodik catalog.
    let g = c.get("/catalog/requirement?id=GC.9.1").await;
    assert_eq!(g.status, StatusCode::OK);
    assert!(g.body.contains("data-rel=\"superset-of\""));
    assert!(g.body.contains("umfasst"));

    assert_eq!(
        c.get("/catalog/requirement?id=NOPE.1").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.get("/catalog/requirement").await.status,
        StatusCode::NOT_FOUND
    );
    // Only for logged-in users.
    let mut anon = app.client();
    assert!(anon.get("/catalog").await.status.is_redirection());
}

// ---------------------------------------------------------------------------------------------
// Target level, requirement list, assessment, evidence, snapshots, heatmap
// ---------------------------------------------------------------------------------------------

use axum::http::Method;
use stadtmauer_catalog::applicability::{concern, concerns, Concern};
use stadtmauer_catalog::SecLevel;
use stadtmauer_inventory::model::{ObjectInput, ObjectKind};
use stadtmauer_store::audit::AuditFilter;

const BOUNDARY: &str = "----sec-test-boundary";

fn multipart(fields: &[(&str, &str)], file: Option<(&str, &str, &[u8])>) -> Vec<u8> {
    let mut b = Vec::new();
    for (k, v) in fields {
        b.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some((name, ct, bytes)) = file {
        b.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: {ct}\r\n\r\n"
            )
            .as_bytes(),
        );
        b.extend_from_slice(bytes);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    b
}

fn shipped() -> &'static stadtmauer_catalog::Shipped {
    static S: std::sync::OnceLock<stadtmauer_catalog::Shipped> = std::sync::OnceLock::new();
    S.get_or_init(|| stadtmauer_catalog::shipped().unwrap())
}

/// An organisation-wide requirement of the Kommunale Basis.
fn org_wide_basis_requirement() -> String {
    let basis = shipped().resolve_kommunale_basis().unwrap().catalog;
    basis
        .requirements
        .iter()
        .find(|r| concern(r) == Concern::Organisation)
        .unwrap()
        .id
        .clone()
}

async fn musterau(app: &TestApp) -> stadtmauer_core::VerbundId {
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

#[tokio::test]
async fn targets_office_sets_uniform_town_may_be_stricter() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let v = musterau(&app).await;
    let mut town = app.session_for(COORD_A).await;
    let page = town.get(&format!("/organisations/{a}/security")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Kommunale Basis"));

    // A coordinator cannot change the Verbund's target.
    town.get(&format!("/verbuende/{v}/security")).await;
    let r = town
        .post(
            &format!("/verbuende/{v}/security"),
            &[("target", "grundschutz")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The office can.
    let mut office = app.session_for(OFFICE).await;
    office.get(&format!("/verbuende/{v}/security")).await;
    let r = office
        .post(
            &format!("/verbuende/{v}/security"),
            &[("target", "kernel_sdt")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = town.get(&format!("/organisations/{a}/security")).await;
    assert!(page.body.contains("Stand der Technik (alle normalen"));

    // The town cannot go below it, but may go above.
    let r = town
        .post(
            &format!("/organisations/{a}/security/target"),
            &[("target", "kommunale_basis")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = town
        .post(
            &format!("/organisations/{a}/security/target"),
            &[("target", "grundschutz")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let sys = app.system().await;
    let t = app.store.town_target(&sys, a).await.unwrap();
    assert_eq!(
        t.effective(),
        stadtmauer_store::security::Target::Grundschutz
    );
    let audit = app
        .store
        .audit_entries(
            &sys,
            &AuditFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(
        audit
            .iter()
            .filter(|e| e.entity == "security_target")
            .count()
            >= 2
    );
}

#[tokio::test]
async fn high_protection_pulls_in_elevated_requirements() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let sys = app.system().await;
    let kernel = &shipped().kernel;
    let elevated = kernel
        .requirements
        .iter()
        .find(|r| {
            r.sec_level == Some(SecLevel::Erhoeht) && concerns(r, ObjectKind::Application, None)
        })
        .expect("an erhöht requirement about applications");
    let mut c = app.session_for(COORD_A).await;
    let url = format!("/organisations/{a}/security");
    let before = c.get(&url).await;
    assert!(!before.body.contains(&format!("id={}\"", elevated.id)));

    let obj = |kind: &str, name: &str, need: Option<&str>| {
        ObjectInput {
            kind: kind.into(),
            name: name.into(),
            need_a: need.map(Into::into),
            need_c: need.map(|_| "normal".into()),
            need_i: need.map(|_| "normal".into()),
            ..Default::default()
        }
        .validate()
        .unwrap()
    };
    let p = app
        .store
        .create_object(&sys, a, &obj("process", "Meldewesen", Some("hoch")))
        .await
        .unwrap();
    let app_id = app
        .store
        .create_object(&sys, a, &obj("application", "Fachverfahren Melde", None))
        .await
        .unwrap();
    app.store.add_link(&sys, p, app_id).await.unwrap();
    let after = c.get(&url).await;
    assert!(
        after.body.contains(&format!("id={}\"", elevated.id)),
        "{} missing",
        elevated.id
    );
    // Its page offers a form for the application.
    let req = c
        .get(&format!(
            "/organisations/{a}/security/requirement?id={}",
            elevated.id
        ))
        .await;
    assert_eq!(req.status, StatusCode::OK);
    assert!(req.body.contains("Fachverfahren Melde"));
}

#[tokio::test]
async fn assess_with_reasons_expiry_evidence_and_snapshots() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let b = app.org_id(TOWN_B).await;
    let v = musterau(&app).await;
    let req = org_wide_basis_requirement();
    let mut c = app.session_for(COORD_A).await;
    let page_url = format!("/organisations/{a}/security/requirement?id={req}");
    let page = c.get(&page_url).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("CC BY-SA 4.0"));
    let answer = format!("/organisations/{a}/security/answer");

    // entbehrlich needs a reason.
    let r = c
        .post(
            &answer,
            &[("requirement_id", &req), ("status", "entbehrlich")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("aria-invalid=\"true\""));

    // ja, with a link as evidence.
    let r = c
        .post(
            &answer,
            &[
                ("requirement_id", &req),
                ("status", "ja"),
                ("note", "Richtlinie beschlossen"),
                ("responsible", "Hauptamt"),
                ("evidence_url", "https://intranet.example/richtlinie"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = c.get(&page_url).await;
    assert!(page.body.contains("https://intranet.example/richtlinie"));
    assert!(page.body.contains("Zählt derzeit als: <strong>ja</strong>"));

    // A file: a PDF is stored and served as a download; HTML is refused.
    c.get(&page_url).await;
    let csrf = c.csrf.clone().unwrap();
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    let pdf = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n";
    let r = c
        .send(
            Method::POST,
            &format!("/organisations/{a}/security/evidence?csrf={csrf}"),
            Some(&ct),
            multipart(
                &[("requirement_id", &req)],
                Some(("nachweis.pdf", "application/pdf", pdf)),
            ),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = c.get(&page_url).await;
    let i = page.body.find("security/evidence?sha=").unwrap();
    let link: String = page.body[i..].chars().take_while(|ch| *ch != '"').collect();
    let dl = c.get(&format!("/organisations/{a}/{link}")).await;
    assert_eq!(dl.status, StatusCode::OK);
    assert!(dl.headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    assert_eq!(dl.headers["x-content-type-options"], "nosniff");
    assert_eq!(dl.headers["content-type"], "application/pdf");
    assert!(dl.body.starts_with("%PDF"));
    // Not for another town's coordinator.
    let mut other = app.session_for(COORD_B).await;
    let sha = link.split("sha=").nth(1).unwrap();
    assert_eq!(
        other
            .get(&format!("/organisations/{a}/security/evidence?sha={sha}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other
            .get(&format!("/organisations/{b}/security/evidence?sha={sha}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    c.get(&page_url).await;
    let csrf = c.csrf.clone().unwrap();
    let r = c
        .send(
            Method::POST,
            &format!("/organisations/{a}/security/evidence?csrf={csrf}"),
            Some(&ct),
            multipart(
                &[("requirement_id", &req)],
                Some((
                    "x.pdf",
                    "application/pdf",
                    b"<html><script>alert(1)</script>",
                )),
            ),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Overdue review counts as offen.
    let r = c
        .post(
            &answer,
            &[
                ("requirement_id", &req),
                ("status", "ja"),
                ("assessed_on", "2020-01-10"),
                ("review_by", "2021-01-10"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = c.get(&page_url).await;
    assert!(page
        .body
        .contains("Zählt derzeit als: <strong>offen</strong>"));
    assert!(page.body.contains("Überprüfung überfällig"));
    // The evidence was kept.
    assert!(page.body.contains("nachweis.pdf"));

    // Every write is audited.
    let sys = app.system().await;
    let audit = app
        .store
        .audit_entries(
            &sys,
            &AuditFilter {
                organisation: Some(a),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(
        audit
            .iter()
            .filter(|e| e.entity == "security_answer")
            .count()
            >= 3
    );
    assert!(audit.iter().any(|e| e.entity == "evidence_file"));

    // Answer it again today and finish: a snapshot appears in the trend and the heatmap.
    c.post(&answer, &[("requirement_id", &req), ("status", "ja")])
        .await;
    let town = c.get(&format!("/organisations/{a}/security")).await;
    assert!(town.body.contains("Noch keine abgeschlossene Bewertung"));
    let r = c
        .post(&format!("/organisations/{a}/security/finish"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let town = c.get(&format!("/organisations/{a}/security")).await;
    assert!(!town.body.contains("Noch keine abgeschlossene Bewertung"));
    let mut office = app.session_for(OFFICE).await;
    let heat = office.get(&format!("/verbuende/{v}/security")).await;
    assert_eq!(heat.status, StatusCode::OK);
    assert!(heat.body.contains(&format!("/organisations/{a}/security")));
    assert!(heat.body.contains(TOWN_B)); // listed without a finished assessment

    // A reader-only or another town's user cannot write here.
    let r = other
        .post(&answer, &[("requirement_id", &req), ("status", "nein")])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

fn hidden(html: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\" value=\"");
    let i = html.find(&needle)? + needle.len();
    Some(html[i..i + html[i..].find('"')?].to_string())
}

#[tokio::test]
async fn questionnaire_saves_each_reply_and_resumes() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let url = format!("/organisations/{a}/security/questionnaire");
    let mut c = app.session_for(COORD_A).await;
    let first = c.get(&url).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert!(first.body.contains("Frage 1 von "));
    assert!(first.body.contains("Was bedeutet das?"));
    let mut seen = Vec::new();
    for i in 0..10 {
        let page = c.get(&url).await;
        let q = hidden(&page.body, "q").unwrap();
        let req = hidden(&page.body, "requirement_id").unwrap();
        assert_eq!(q, i.to_string());
        assert!(!seen.contains(&req));
        seen.push(req.clone());
        let reply = ["ja", "nein", "weiss_nicht"][i % 3];
        let r = c
            .post(
                &url,
                &[("q", &q), ("requirement_id", &req), ("reply", reply)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    let page = c.get(&url).await;
    assert!(page.body.contains("10 von "), "{}", page.body);
    assert!(page.body.contains("davon 3 mit"));
    // Back to the first: its reply is shown.
    let back = c.get(&format!("{url}?q=0")).await;
    assert!(back.body.contains("value=\"ja\" aria-pressed=\"true\""));
    // A stale form (position and requirement disagree) is refused.
    let r = c
        .post(
            &url,
            &[("q", "0"), ("requirement_id", "NOPE.1"), ("reply", "ja")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Leave and come back in a new session: it resumes at question 11.
    let mut again = app.session_for(COORD_A).await;
    let resumed = again.get(&url).await;
    assert!(resumed.body.contains("Frage 11 von "));
    assert_eq!(hidden(&resumed.body, "q").unwrap(), "10");

    // The same records as the expert form: ja counts, weiß nicht is offen.
    let sys = app.system().await;
    let answers = app.store.answers(&sys, a).await.unwrap();
    assert_eq!(answers.len(), 10);
    assert!(answers
        .iter()
        .any(|s| s.answer.status == stadtmauer_assessment::Status::Offen));
    let level = again.get(&format!("/organisations/{a}/security")).await;
    assert!(
        !level.body.contains("<strong>0 %</strong>"),
        "{}",
        level.body
    );

    // Another town's coordinator can neither see nor answer it.
    let mut b = app.session_for(COORD_B).await;
    assert_eq!(b.get(&url).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn dashboard_shows_the_level_after_finishing() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let req = org_wide_basis_requirement();
    let mut c = app.session_for(COORD_A).await;
    let dash = c.get("/dashboard").await;
    assert!(dash.body.contains(&format!("/security?org={a}")));
    assert!(dash.body.contains("<td>–</td>"));
    let go = c.get(&format!("/security?org={a}")).await;
    assert_eq!(go.location(), format!("/organisations/{a}/security"));
    let b = app.org_id(TOWN_B).await;
    assert_eq!(
        c.get(&format!("/security?org={b}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.get("/security").await.location(),
        format!("/organisations/{a}/security")
    );
    c.get(&format!("/organisations/{a}/security")).await;
    c.post(
        &format!("/organisations/{a}/security/answer"),
        &[("requirement_id", &req), ("status", "ja")],
    )
    .await;
    c.post(&format!("/organisations/{a}/security/finish"), &[])
        .await;
    let dash = c.get("/dashboard").await;
    let today = stadtmauer_assessment::date::format_date(time::OffsetDateTime::now_utc().date());
    assert!(
        dash.body.contains(&format!("<td>{today}</td>")),
        "{}",
        dash.body
    );
}

#[tokio::test]
async fn gaps_become_measures_and_overdue_ones_show_on_the_dashboard() {
    use stadtmauer_assessment::measure::{Measure, MeasureStatus, Priority, TownProgress};
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let b = app.org_id(TOWN_B).await;
    let req = org_wide_basis_requirement();
    let mut c = app.session_for(COORD_A).await;
    c.get(&format!("/organisations/{a}/security")).await;
    c.post(
        &format!("/organisations/{a}/security/answer"),
        &[
            ("requirement_id", &req),
            ("status", "nein"),
            ("responsible", "Frau Beispiel"),
        ],
    )
    .await;
    let r = c
        .post(&format!("/organisations/{a}/security/measures/derive"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let plan = c
        .get(&format!("/organisations/{a}/security/measures"))
        .await;
    assert_eq!(plan.status, StatusCode::OK);
    assert!(plan.body.contains("Umsetzen: "));
    assert!(plan.body.contains(&format!("requirement?id={req}")));
    assert!(plan.body.contains("Frau Beispiel"));
    // Deriving again adds nothing for the same gap.
    c.post(&format!("/organisations/{a}/security/measures/derive"), &[])
        .await;
    let sys = app.system().await;
    // (The demo's shared measure of the office is in the plan too.)
    let ms: Vec<_> = app
        .store
        .measures(&sys, a)
        .await
        .unwrap()
        .into_iter()
        .filter(|(_, m, _)| m.requirement_id.as_deref() == Some(req.as_str()))
        .collect();
    assert_eq!(ms.len(), 1);
    let (mid, _, _) = &ms[0];
    let r = c
        .post(
            &format!("/organisations/{a}/security/measures/status"),
            &[("measure_id", &mid.to_string()), ("status", "in_arbeit")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    // The office plans one shared measure for two towns, already overdue.
    let office = app.scope_of(OFFICE).await;
    let past = time::OffsetDateTime::now_utc().date() - time::Duration::days(10);
    app.store
        .create_measures(
            &office,
            a,
            &[Measure {
                title: "Gemeinsame Awareness-Schulung".into(),
                description: None,
                requirement_id: None,
                objects: vec![],
                owner: Some("ISB".into()),
                deadline: Some(past),
                priority: Priority::Hoch,
                cost_eur: Some(4000),
                effort_person_days: Some(3.0),
                towns: vec![
                    TownProgress {
                        organisation_id: a,
                        status: MeasureStatus::Geplant,
                    },
                    TownProgress {
                        organisation_id: b,
                        status: MeasureStatus::Geplant,
                    },
                ],
            }],
        )
        .await
        .unwrap();
    let plan = c
        .get(&format!("/organisations/{a}/security/measures"))
        .await;
    assert!(plan.body.contains("gemeinsam im Verbund"));
    assert!(plan.body.contains("data-overdue=\"true\""));
    let mut bc = app.session_for(COORD_B).await;
    let plan_b = bc
        .get(&format!("/organisations/{b}/security/measures"))
        .await;
    assert!(plan_b.body.contains("Gemeinsame Awareness-Schulung"));
    // A town cannot change another town's progress.
    let r = bc
        .post(
            &format!("/organisations/{a}/security/measures/status"),
            &[("measure_id", &mid.to_string()), ("status", "umgesetzt")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let dash = c.get("/dashboard").await;
    assert!(dash.body.contains("<strong>1</strong>"), "{}", dash.body);
}
