//! Answering the council through the real router: records (forms, audited), the town report in
//! both editions and three formats, the Verbund report with the cost allocation, and a town
//! without records that reads "nicht erfasst" everywhere.

use crate::harness::*;
use axum::http::StatusCode;
use stadtmauer_store::audit::AuditFilter;

const PLANTED: &[&str] = &[
    "geheim-host.kleinmurne.example",
    "10.66.77.88",
    "Geheimversicherung Kleinmurne AG",
];

#[tokio::test]
async fn records_feed_both_editions_and_the_public_one_leaks_nothing() {
    let app = spawn_app().await;
    let b = app.org_id(TOWN_B).await;
    let mut c = app.session_for(COORD_B).await;
    let base = format!("/organisations/{b}/council");
    let page = c.get(&base).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("report.pdf?edition=confidential"));

    // Invalid input: 422 with the field's message, nothing written.
    let bad = c
        .post(
            &format!("{base}/events"),
            &[("kind", "pentest"), ("held_on", "1.2.2026"), ("party", "")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("JJJJ-MM-TT"));

    let r = c
        .post(
            &format!("{base}/profile"),
            &[
                ("isb_appointed", "yes"),
                ("insurance", "yes"),
                ("insurer", PLANTED[2]),
                ("mfa_admin", "partial"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = c
        .post(
            &format!("{base}/events"),
            &[
                ("kind", "pentest"),
                ("held_on", "2026-01-15"),
                ("party", "Prüf GmbH"),
                ("topic", PLANTED[0]),
                ("result", PLANTED[1]),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let sys = app.system().await;
    let p = app.store.council_programme(&sys, b).await.unwrap();
    let test = p.events.iter().find(|e| e.party == "Prüf GmbH").unwrap().id;
    let r = c
        .post(
            &format!("{base}/findings"),
            &[
                ("event_id", &test.to_string()),
                ("title", "Offener Dienst auf 10.66.77.88"),
                ("severity", "high"),
                ("status", "open"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = c
        .post(
            &format!("{base}/years"),
            &[("year", "2025"), ("budget", "12.000"), ("incidents", "2")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let audit = app
        .store
        .audit_entries(
            &sys,
            &AuditFilter {
                organisation: Some(b),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    for entity in [
        "council_profile",
        "council_event",
        "council_finding",
        "council_year",
    ] {
        assert!(
            audit.iter().any(|e| e.entity == entity),
            "no audit entry for {entity}"
        );
    }

    let public = c.get(&format!("{base}/report.json?edition=public")).await;
    assert_eq!(public.status, StatusCode::OK);
    let html = c.get(&format!("{base}/report.html?edition=public")).await;
    assert_eq!(html.status, StatusCode::OK);
    for p in PLANTED {
        assert!(!public.body.contains(p), "public JSON shows {p}");
        assert!(!html.body.contains(p), "public HTML shows {p}");
    }
    let conf = c
        .get(&format!("{base}/report.json?edition=confidential"))
        .await;
    for p in PLANTED {
        assert!(conf.body.contains(p), "confidential JSON misses {p}");
    }
    let j = public.json();
    let mfa = j["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == "mfa")
        .unwrap();
    assert_eq!(mfa["status"], "partial");
    let pdf = c.get(&format!("{base}/report.pdf")).await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert!(pdf.body.starts_with("%PDF-"));

    // The API gives the same JSON with a token.
    let mut api = app.client();
    api.bearer = Some(app.token_for(COORD_B, true).await);
    let r = api
        .get(&format!(
            "/api/v1/organisations/{b}/council/report?edition=public"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["subject"], TOWN_B);
    // Another town's report is not found.
    let a = app.org_id(TOWN_A).await;
    let r = api
        .get(&format!("/api/v1/organisations/{a}/council/report"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_town_without_records_reads_not_recorded() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let mut c = app.session_for(COORD_A).await;
    let r = c
        .get(&format!(
            "/organisations/{a}/council/report.json?edition=confidential"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let j = r.json();
    let chapters = j["chapters"].as_array().unwrap();
    assert_eq!(chapters.len(), 16);
    for ch in chapters {
        assert_eq!(ch["status"], "unknown", "{}", ch["key"]);
        assert!(ch["paragraphs"][0]
            .as_str()
            .unwrap()
            .contains("Nicht erfasst"));
    }
}

#[tokio::test]
async fn verbund_report_divides_the_office_costs_to_the_cent() {
    let app = spawn_app().await;
    let sys = app.system().await;
    let v = app
        .store
        .verbuende(&sys)
        .await
        .unwrap()
        .into_iter()
        .find(|v| v.name == "Landkreis Musterau")
        .unwrap()
        .id;
    let mut c = app.session_for(OFFICE).await;
    let page = c
        .get(&format!(
            "/verbuende/{v}/council?amount=250000&w_inhabitants=2&w_staff=1&w_workstations=1"
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(TOWN_A) && page.body.contains(TOWN_B));
    let r = c
        .get(&format!(
            "/verbuende/{v}/council/report.json?amount=250000,01&w_staff=1"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let j = r.json();
    let costs = j["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == "kosten")
        .unwrap();
    let rows = costs["table"]["rows"].as_array().unwrap();
    assert_eq!(rows.last().unwrap()[4], "250.000,01 €");
    assert_eq!(rows.len(), 16, "15 members and the sum");
    let pdf = c
        .get(&format!("/verbuende/{v}/council/report.pdf?amount=1000"))
        .await;
    assert!(pdf.body.starts_with("%PDF-"));
    // A town coordinator sees only the own town in the Verbund report.
    let mut a = app.session_for(COORD_A).await;
    let r = a.get(&format!("/verbuende/{v}/council/report.json")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.body.contains(TOWN_B));
}

/// The report text of demo towns (records from the demo loader; no inventory in this app, so
/// the hosting chapter reads "nicht erfasst"), at a fixed date.
#[tokio::test]
async fn demo_town_reports_snapshot() {
    use stadtmauer_report::{output, town, verbund, Edition};
    let app = spawn_app().await;
    let sys = app.system().await;
    let orgs = app.store.organisations(&sys).await.unwrap();
    let v = orgs
        .iter()
        .find(|o| o.name == TOWN_A)
        .and_then(|o| o.verbund_id)
        .unwrap();
    let members: Vec<_> = orgs
        .into_iter()
        .filter(|o| o.verbund_id == Some(v))
        .collect();
    stadtmauer_demo::council::load(&app.store, &members)
        .await
        .unwrap();
    let day = time::macros::date!(2026 - 03 - 15);
    let towns: Vec<_> = members.iter().filter(|o| !o.is_office).collect();
    for (i, o) in towns.iter().take(3).enumerate() {
        let f = app.store.council_facts(&sys, o.id).await.unwrap();
        let mut f = f;
        f.org_id = i as i64; // ids differ between backends
        insta::assert_snapshot!(
            format!("demo_town_{i}"),
            output::markdown(&town::town_report(&f, Edition::Public, day, "1"))
        );
    }
    let (name, facts, shared) = app.store.council_verbund_facts(&sys, v).await.unwrap();
    let r = verbund::verbund_report(
        &verbund::VerbundInput {
            verbund_name: &name,
            members: &facts,
            shared,
            office_cost_cents: Some(25_000_000),
            key: verbund::CostKey {
                inhabitants: 2,
                staff: 1,
                workstations: 1,
            },
        },
        day,
        "1",
    );
    insta::assert_snapshot!("demo_verbund", output::markdown(&r));
}

/// The ransomware and backup chapters are built from the continuity records when a town has them
/// (readiness score, 3-2-1-1-0 verdicts), as counts only: no backup's name reaches the public
/// edition.
#[tokio::test]
async fn continuity_figures_reach_the_report() {
    use stadtmauer_report::{output, town, Edition};
    let app = spawn_app().await;
    let sys = app.system().await;
    stadtmauer_demo::load_inventory(&app.store, |_| {})
        .await
        .unwrap();
    let orgs = app.store.organisations(&sys).await.unwrap();
    let o = orgs.iter().find(|o| o.name == TOWN_A).unwrap();
    let f = app.store.council_facts(&sys, o.id).await.unwrap();
    let r = f
        .readiness
        .as_ref()
        .expect("the demo town has continuity records");
    assert!(r.score <= 100);
    let b = f
        .backups
        .as_ref()
        .expect("the demo town has a backup register");
    assert!(b.rule_3_2_1_1_0.is_some());
    let day = time::macros::date!(2026 - 03 - 15);
    let md = output::markdown(&town::town_report(&f, Edition::Public, day, "1"));
    assert!(
        md.contains(&format!(
            "Der Bereitschaftswert liegt bei {} von 100.",
            r.score
        )),
        "{md}"
    );
    assert!(md.contains("Datensicherungen erfasst"), "{md}");
    let t = app.store.continuity(&sys, o.id).await.unwrap();
    assert!(!t.backups.is_empty());
    // The readiness score takes the update watch's share of current products.
    let installed = app.store.installations(&sys, o.id).await.unwrap();
    assert!(!installed.is_empty());
    let p = t
        .patch
        .percent_current
        .expect("the update watch knows the town's products");
    assert!(p <= 100);
    for sb in &t.backups {
        assert!(
            !md.contains(&sb.backup.name),
            "backup name {} in the public edition",
            sb.backup.name
        );
    }
}

/// A database fault while the report's facts are gathered is an error, never "nicht erfasst" in a
/// report to the council (the facts used to swallow seven store errors).
#[tokio::test]
async fn a_store_fault_is_an_error_not_nicht_erfasst() {
    let app = spawn_app().await;
    let sys = app.system().await;
    let a = app.org_id(TOWN_A).await;
    assert!(app.store.council_facts(&sys, a).await.is_ok());
    // The update watch's findings cannot be read any more.
    sqlx::query("ALTER TABLE upd_finding RENAME TO upd_finding_gone")
        .execute(app.store.pool())
        .await
        .unwrap();
    assert!(
        app.store.council_facts(&sys, a).await.is_err(),
        "the report must not read as if nothing were recorded"
    );
    let mut c = app.session_for(COORD_A).await;
    let r = c
        .get(&format!("/organisations/{a}/council/report.html"))
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.body);
    assert!(!r.body.contains("nicht erfasst"));
}
