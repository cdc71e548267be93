//! The update watch: shipped feeds from the first start, feed import (newer, older, broken),
//! a town's findings with dependent processes, measures and exceptions, installed software and
//! patch latency, the office's view with a webhook, the alias table.

use crate::harness::*;
use axum::http::{Method, StatusCode};
use stadtmauer_core::{ObjectId, OrgId};
use stadtmauer_inventory::model::ObjectInput;
use std::sync::{Arc, Mutex};

const BOUNDARY: &str = "----stadtmauer-upd-boundary";

fn multipart(fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = Vec::new();
    for (k, v) in fields {
        b.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    for (name, bytes) in files {
        b.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        b.extend_from_slice(bytes);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    b
}

fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// The shipped KEV catalog, re-dated `released` and with extra FortiOS entries added on `added`.
fn kev(released: &str, extra: &[(&str, &str)]) -> Vec<u8> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../lifecycle/data/cisa-kev/known_exploited_vulnerabilities.json"
    ))
    .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["dateReleased"] = format!("{released}T10:00:00.000Z").into();
    v["catalogVersion"] = released.replace('-', ".").into();
    let list = v["vulnerabilities"].as_array_mut().unwrap();
    for (cve, added) in extra {
        list.push(serde_json::json!({
            "cveID": cve, "vendorProject": "Fortinet", "product": "FortiOS",
            "vulnerabilityName": "Fortinet FortiOS Test Vulnerability", "dateAdded": added,
            "shortDescription": "test", "requiredAction": "patch", "dueDate": added,
            "knownRansomwareCampaignUse": "Known", "notes": "", "cwes": []
        }));
    }
    let n = list.len();
    v["count"] = n.into();
    serde_json::to_vec(&v).unwrap()
}

async fn import(c: &mut Client, kind: &str, files: &[(&str, &[u8])]) -> Resp {
    let csrf = c.csrf.clone().unwrap_or_default();
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    c.send(
        Method::POST,
        &format!("/updates/feeds?csrf={csrf}"),
        Some(&ct),
        multipart(&[("kind", kind)], files),
        &[],
    )
    .await
}

/// A small Informationsverbund in a town: a process (hoch) using an application on a FortiGate
/// firewall and a Windows Server 2012 R2 file server. Returns (firewall, server).
async fn inventory(app: &TestApp, org: OrgId) -> (ObjectId, ObjectId) {
    let sys = app.system().await;
    let obj = |kind: &str, name: &str, vendor: &str, product: &str, version: &str| {
        ObjectInput {
            kind: kind.into(),
            name: name.into(),
            vendor: (!vendor.is_empty()).then(|| vendor.into()),
            product: (!product.is_empty()).then(|| product.into()),
            version: (!version.is_empty()).then(|| version.into()),
            need_c: (kind == "process").then(|| "hoch".into()),
            ..Default::default()
        }
        .validate()
        .unwrap()
    };
    let s = &app.store;
    let p = s
        .create_object(&sys, org, &obj("process", "Meldewesen", "", "", ""))
        .await
        .unwrap();
    let a = s
        .create_object(&sys, org, &obj("application", "Meldeverfahren", "", "", ""))
        .await
        .unwrap();
    let fw = s
        .create_object(
            &sys,
            org,
            &obj(
                "system",
                "Firewall Rathaus",
                "Fortinet",
                "FortiGate",
                "6.4.15",
            ),
        )
        .await
        .unwrap();
    let srv = s
        .create_object(
            &sys,
            org,
            &obj(
                "system",
                "Dateiserver",
                "Microsoft",
                "Windows Server 2012 R2",
                "",
            ),
        )
        .await
        .unwrap();
    s.add_link(&sys, p, a).await.unwrap();
    s.add_link(&sys, a, fw).await.unwrap();
    s.add_link(&sys, a, srv).await.unwrap();
    (fw, srv)
}

#[tokio::test]
async fn shipped_feeds_are_active_and_newer_feeds_replace_them_atomically() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    inventory(&app, a).await;

    // A coordinator sees the shipped snapshots but may not import.
    let mut coord = app.session_for(COORD_A).await;
    let page = coord.get("/updates/feeds").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Mitgelieferter Stand"));
    assert!(page.body.contains("2025-08-25"), "KEV snapshot date shown");
    assert!(!page.body.contains("/updates/feeds?csrf="));
    assert_eq!(
        import(&mut coord, "kev", &[("kev.json", &kev("2026-01-01", &[]))])
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // Nor may an office officer: the feeds are the installation's, imported by administrators.
    let mut officer = app.session_for(OFFICE).await;
    let page = officer.get("/updates/feeds").await;
    assert!(!page.body.contains("/updates/feeds?csrf="));
    assert_eq!(
        import(
            &mut officer,
            "kev",
            &[("kev.json", &kev("2026-01-01", &[]))]
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );

    let mut office = app.session_for(ADMIN).await;
    let page = office.get("/updates/feeds").await;
    assert!(page.body.contains("/updates/feeds?csrf="));

    // Broken JSON: the error names the place, nothing changes.
    let r = import(&mut office, "kev", &[("kev.json", b"{\"title\": 5,")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("bisherige bleibt aktiv"), "{}", r.body);
    assert!(r.body.contains("line 1"), "{}", r.body);

    // Older than the shipped one: refused.
    let r = import(&mut office, "kev", &[("old.json", &kev("2024-01-01", &[]))]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("older than the loaded one"), "{}", r.body);

    // The town's page before: FortiOS is recognised, Windows Server 2012 R2 is out of support.
    let town = coord.get(&format!("/organisations/{a}/updates")).await;
    assert_eq!(town.status, StatusCode::OK, "{}", town.body);
    assert!(town.body.contains("Fortinet FortiOS"), "{}", town.body);
    assert!(
        town.body.contains("data-kind=\"unsupported\""),
        "{}",
        town.body
    );
    assert!(
        town.body.contains("Meldewesen</a> (hoch)"),
        "dependent process with its Schutzbedarf"
    );
    let kev_before = town.body.matches("CVE-2099-0001").count();
    assert_eq!(kev_before, 0);

    // A newer catalog with a new FortiOS entry: one new finding (or an updated KEV finding).
    let added = stadtmauer_assessment::date::format_date(today());
    let r = import(
        &mut office,
        "kev",
        &[("kev.json", &kev(&added, &[("CVE-2099-0001", &added)]))],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Importiert."), "{}", r.body);
    assert!(r.body.contains("kev.json"), "source shown");
    let town = coord.get(&format!("/organisations/{a}/updates")).await;
    assert!(town.body.contains("CVE-2099-0001"), "{}", town.body);
    assert!(town.body.contains("data-kind=\"kev\""));

    // The same date again is not older: accepted; an older one is refused and the newer stays.
    let r = import(&mut office, "kev", &[("old.json", &kev("2025-09-01", &[]))]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let town = coord.get(&format!("/organisations/{a}/updates")).await;
    assert!(town.body.contains("CVE-2099-0001"));

    // Both the import and the re-match are in the audit log.
    let sys = app.system().await;
    let audit = app
        .store
        .audit_entries(
            &sys,
            &stadtmauer_store::audit::AuditFilter {
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(audit
        .iter()
        .any(|e| e.action == "import" && e.entity == "update_feed"));
    assert!(audit
        .iter()
        .any(|e| e.action == "rematch" && e.entity == "update_findings"));
}

#[tokio::test]
async fn findings_become_measures_and_exceptions_expire() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let b = app.org_id(TOWN_B).await;
    inventory(&app, a).await;
    let mut c = app.session_for(COORD_A).await;
    let page = c.get(&format!("/organisations/{a}/updates")).await;
    assert_eq!(page.status, StatusCode::OK);
    // Another town's page: not found.
    assert_eq!(
        c.get(&format!("/organisations/{b}/updates")).await.status,
        StatusCode::NOT_FOUND
    );
    let sys = app.system().await;
    let findings = app.store.findings(&sys, a, false).await.unwrap();
    let f = findings.iter().find(|f| f.kind == "unsupported").unwrap();
    let id = f.id.to_string();

    let edit = c
        .get(&format!("/organisations/{a}/updates?finding={id}"))
        .await;
    assert!(edit.body.contains("id=\"edit\""), "{}", edit.body);
    let r = c
        .post(
            &format!("/organisations/{a}/updates/plan"),
            &[
                ("finding", &id),
                ("owner", "IT Rathaus"),
                ("due", "2027-03-31"),
                ("status", "in_progress"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = c.get(&format!("/organisations/{a}/updates")).await;
    assert!(page.body.contains("IT Rathaus"));
    assert!(page.body.contains("2027-03-31"));
    assert!(page.body.contains("In Arbeit"));

    // A bad date re-renders with a field error; a finding of another town is not found.
    let r = c
        .post(
            &format!("/organisations/{a}/updates/plan"),
            &[("finding", &id), ("due", "morgen"), ("status", "open")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = c
        .post(
            &format!("/organisations/{b}/updates/plan"),
            &[("finding", &id), ("status", "open")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // An exception: needs reason and approver; valid until its date; expired reopens.
    let r = c
        .post(
            &format!("/organisations/{a}/updates/exception"),
            &[
                ("finding", &id),
                ("reason", ""),
                ("approver", ""),
                ("until", "2099-01-01"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = c
        .post(
            &format!("/organisations/{a}/updates/exception"),
            &[
                ("finding", &id),
                ("reason", "Ablösung 2027 beschlossen"),
                ("approver", "Bürgermeisterin"),
                ("until", "2099-01-01"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = c.get(&format!("/organisations/{a}/updates")).await;
    assert!(
        page.body.contains("data-state=\"accepted\""),
        "{}",
        page.body
    );
    let r = c
        .post(
            &format!("/organisations/{a}/updates/exception"),
            &[
                ("finding", &id),
                ("reason", "Ablösung"),
                ("approver", "Bürgermeisterin"),
                ("until", "2020-01-01"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = c.get(&format!("/organisations/{a}/updates")).await;
    assert!(page.body.contains("data-state=\"exception_expired\""));
    assert!(page.body.contains("Ausnahme abgelaufen"));
}

#[tokio::test]
async fn installed_software_is_matched_and_a_version_change_records_patch_latency() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let (fw, srv) = inventory(&app, a).await;
    let mut c = app.session_for(COORD_A).await;

    // The system page has the section; adding software of an unknown product shows "nicht erkannt".
    let page = c.get(&format!("/inventory/{srv}")).await;
    assert!(page.body.contains("Installierte Software"), "{}", page.body);
    let r = c
        .post(
            &format!("/inventory/{srv}/software"),
            &[("product", "Kassenprogramm Murne"), ("version", "3.1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = c
        .post(
            &format!("/inventory/{srv}/software"),
            &[("product", "PHP"), ("version", "7.4.33")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = c.get(&format!("/inventory/{srv}")).await;
    assert!(page.body.contains("Kassenprogramm Murne"));
    let town = c.get(&format!("/organisations/{a}/updates")).await;
    assert!(town.body.contains("nicht erkannt"), "{}", town.body);
    assert!(town
        .body
        .contains("/updates/aliases?pattern=Kassenprogramm+Murne"));
    let sys = app.system().await;
    let php: Vec<_> = app
        .store
        .findings(&sys, a, false)
        .await
        .unwrap()
        .into_iter()
        .filter(|f| f.product_key == "php")
        .collect();
    assert!(php.iter().any(|f| f.kind == "unsupported"), "{php:?}");

    // Removing it resolves its findings.
    let sw = app.store.software(&sys, srv).await.unwrap();
    let php_id = sw
        .iter()
        .find(|s| s.product == "PHP")
        .unwrap()
        .id
        .to_string();
    let r = c
        .post(
            &format!("/inventory/{srv}/software/remove"),
            &[("id", &php_id)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!app
        .store
        .findings(&sys, a, false)
        .await
        .unwrap()
        .iter()
        .any(|f| f.product_key == "php"));

    // A KEV hit on the firewall, then the firewall is updated: latency from dateAdded to today.
    let mut office = app.session_for(ADMIN).await;
    office.get("/updates/feeds").await;
    let r = import(
        &mut office,
        "kev",
        &[(
            "kev.json",
            &kev(
                &stadtmauer_assessment::date::format_date(today()),
                &[("CVE-2099-0002", "2026-01-01")],
            ),
        )],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let kev_open = app.store.findings(&sys, a, false).await.unwrap();
    assert!(kev_open.iter().any(|f| f.kind == "kev"));
    let mut data = app.store.object(&sys, fw).await.unwrap().data;
    data.product = Some("Kassensystem ohne Firewall".into());
    data.version = Some("1.0".into());
    app.store.update_object(&sys, fw, &data).await.unwrap();
    let town = c.get(&format!("/organisations/{a}/updates")).await;
    assert_eq!(town.status, StatusCode::OK);
    let lat = app.store.patch_latency(&sys, &[a]).await.unwrap();
    assert!(lat.count >= 1, "{lat:?}");
    // From the earliest KEV listing of the installed FortiOS to today.
    assert!(lat.median.unwrap() > 300, "{lat:?}");
    assert!(town.body.contains("id=\"latency-median\""));
}

#[tokio::test]
async fn office_view_counts_per_town_and_notifies_its_own_verbund_only() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let other = app.org_id("Stadt Beispielstein").await;
    inventory(&app, a).await;
    inventory(&app, other).await;

    // A webhook receiver on 127.0.0.1.
    let got: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let sink = got.clone();
    let hook = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::Json<serde_json::Value>| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(body.0);
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, hook).await.unwrap() });

    let sys = app.system().await;
    let verbund = app
        .store
        .organisation(&sys, a)
        .await
        .unwrap()
        .verbund_id
        .unwrap();
    let mut office = app.session_for(OFFICE).await;
    let page = office.get(&format!("/verbuende/{verbund}/updates")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(TOWN_A));
    assert!(!page.body.contains("Beispielstein"));
    let r = office
        .post(
            &format!("/verbuende/{verbund}/updates/notify"),
            &[("webhook_url", "ftp://nope"), ("email", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let url = format!("http://{addr}/hook");
    let r = office
        .post(
            &format!("/verbuende/{verbund}/updates/notify"),
            &[("webhook_url", &url), ("email", "isb@musterau.example")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // A coordinator may see neither the settings nor another Verbund.
    let mut coord = app.session_for(COORD_A).await;
    let other_verbund = app
        .store
        .organisation(&sys, other)
        .await
        .unwrap()
        .verbund_id
        .unwrap();
    assert_eq!(
        coord
            .get(&format!("/verbuende/{other_verbund}/updates"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Sync both towns first, then a KEV update published today.
    office.get(&format!("/verbuende/{verbund}/updates")).await;
    app.store.sync_findings(&sys, other).await.unwrap();
    let mut admin = app.session_for(ADMIN).await;
    admin.get("/updates/feeds").await;
    let today_s = stadtmauer_assessment::date::format_date(today());
    let r = import(
        &mut admin,
        "kev",
        &[("kev.json", &kev(&today_s, &[("CVE-2099-0003", &today_s)]))],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let bodies = got.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let text = bodies[0].to_string();
    assert!(text.contains(TOWN_A), "{text}");
    assert!(!text.contains("Beispielstein"), "{text}");
    assert!(
        !text.contains("CVE-"),
        "no vulnerability details in the notification: {text}"
    );

    let page = office.get(&format!("/verbuende/{verbund}/updates")).await;
    assert!(
        page.body.contains("CVE-2099-0003"),
        "this week's KEV: {}",
        page.body
    );
}

#[tokio::test]
async fn users_aliases_are_audited_and_used_at_the_next_match() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let (_, srv) = inventory(&app, a).await;
    let sys = app.system().await;
    app.store
        .add_software(&sys, srv, "Rathaus-Webserver", Some("2.4.41"))
        .await
        .unwrap();
    let mut c = app.session_for(COORD_A).await;
    let page = c.get("/updates/aliases?pattern=Rathaus-Webserver").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("apache-http-server"),
        "built-in table shown"
    );
    assert!(
        !page.body.contains("action=\"/updates/aliases\""),
        "coordinators cannot edit"
    );
    assert_eq!(
        c.post("/updates/aliases", &[("pattern", "x"), ("key", "php")])
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    let mut office = app.session_for(OFFICE).await;
    office.get("/updates/aliases").await;
    let r = office
        .post(
            "/updates/aliases",
            &[("pattern", "Rathaus-Webserver"), ("key", "no-such-product")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = office
        .post(
            "/updates/aliases",
            &[
                ("pattern", "Rathaus-Webserver"),
                ("key", "apache-httpd"),
                ("cycle", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = c.get(&format!("/organisations/{a}/updates")).await;
    assert!(
        !page
            .body
            .contains("Rathaus-Webserver</td><td>2.4.41</td><td><strong>nicht erkannt"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Apache"), "{}", page.body);

    let aliases = app.store.user_aliases(&sys).await.unwrap();
    let id = aliases[0].id.to_string();
    let r = office.post("/updates/aliases/remove", &[("id", &id)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(app.store.user_aliases(&sys).await.unwrap().is_empty());
}

#[tokio::test]
async fn csaf_advisories_are_imported_through_the_page() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/csaf-2.0/csaf_2.0/examples/csaf");
    let Ok(doc) = std::fs::read(dir.join("bsi-2022-0001.json")) else {
        eprintln!("CSAF examples not present; skipped");
        return;
    };
    let app = spawn_app().await;
    let mut office = app.session_for(ADMIN).await;
    office.get("/updates/feeds").await;
    let r = import(&mut office, "csaf", &[("bsi-2022-0001.json", &doc)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Importiert."), "{}", r.body);
    let r = import(
        &mut office,
        "csaf",
        &[("broken.json", b"{\"document\": {}}")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("broken.json"), "{}", r.body);
}
