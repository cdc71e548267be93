//! The office's tools for the Verbund's security level: own requirements added to the uniform
//! target, shared measures planned for several towns at once, and imported catalogs or profiles
//! chosen as a target (by the Verbund or by a town on top of the Verbund's).

use crate::harness::*;
use axum::http::StatusCode;
use stadtmauer_store::audit::AuditFilter;
use stadtmauer_store::security::Target;

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

/// "… von 123 Anforderungen" on a town's page: how many it must meet.
fn total(body: &str) -> usize {
    let marker = "data-total=\"";
    let i = body
        .find(marker)
        .unwrap_or_else(|| panic!("no total in {body}"))
        + marker.len();
    body[i..].split('"').next().unwrap().parse().unwrap()
}

const OWN: &[(&str, &str)] = &[
    ("code", "VB.1"),
    ("practice", "DET"),
    ("title", "Meldung an die Informationssicherheitsstelle"),
    (
        "statement",
        "Sicherheitsvorfälle MÜSSEN der Informationssicherheitsstelle binnen 24 Stunden gemeldet werden.",
    ),
    ("guidance", ""),
    ("sec_level", "normal-SdT"),
    ("effort_level", "1"),
    ("target_category", ""),
];

#[tokio::test]
async fn office_adds_own_requirements_that_every_town_must_meet() {
    let app = spawn_app().await;
    let v = musterau(&app).await;
    let a = app.org_id(TOWN_A).await;
    let mut town = app.session_for(COORD_A).await;
    let before = total(&town.get(&format!("/organisations/{a}/security")).await.body);

    // A coordinator sees the Verbund's page but may not add requirements to its target.
    let vp = town.get(&format!("/verbuende/{v}/security")).await;
    assert_eq!(vp.status, StatusCode::OK, "{}", vp.body);
    assert!(!vp.body.contains("Eigene Anforderung hinzufügen"));
    let r = town
        .post(&format!("/verbuende/{v}/security/requirements"), OWN)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let mut office = app.session_for(OFFICE).await;
    let page = office.get(&format!("/verbuende/{v}/security")).await;
    assert!(page.body.contains("Eigene Anforderung hinzufügen"));

    // Bad input: every field named, nothing stored.
    let r = office
        .post(
            &format!("/verbuende/{v}/security/requirements"),
            &[
                ("code", "ASST.1.1.2"),
                ("practice", "NOPE"),
                ("title", ""),
                ("statement", "x"),
                ("sec_level", "mittel"),
                ("effort_level", "7"),
                ("target_category", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r
        .body
        .contains("gehört schon zu einer Anforderung eines BSI-Katalogs"));
    assert!(r.body.contains("Aufwandsstufe von 0 bis 5"));
    assert!(r.body.contains("value=\"ASST.1.1.2\""), "the input is kept");
    let sys = app.system().await;
    assert!(app
        .store
        .own_requirements(&sys, v)
        .await
        .unwrap()
        .is_empty());

    let r = office
        .post(&format!("/verbuende/{v}/security/requirements"), OWN)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // The same code twice is refused.
    let r = office
        .post(&format!("/verbuende/{v}/security/requirements"), OWN)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("bereits vergeben"), "{}", r.body);
    let own = app.store.own_requirements(&sys, v).await.unwrap();
    assert_eq!(own.len(), 1);
    let own_id = own[0].0;

    // Every member town now has it in its list, and can answer it.
    let page = town.get(&format!("/organisations/{a}/security")).await;
    assert_eq!(total(&page.body), before + 1);
    assert!(page.body.contains("requirement?id=VB.1"));
    assert!(page.body.contains("eigene Anforderungen des Verbunds"));
    assert!(
        page.body.contains("CC BY-SA 4.0"),
        "the list quotes the BSI's titles"
    );
    for path in ["questionnaire", "measures", "coverage"] {
        let p = town
            .get(&format!("/organisations/{a}/security/{path}"))
            .await;
        assert!(p.body.contains("CC BY-SA 4.0"), "attribution on {path}");
    }
    let req = town
        .get(&format!("/organisations/{a}/security/requirement?id=VB.1"))
        .await;
    assert_eq!(req.status, StatusCode::OK, "{}", req.body);
    assert!(req.body.contains("binnen 24 Stunden"));
    let r = town
        .post(
            &format!("/organisations/{a}/security/answer"),
            &[("requirement_id", "VB.1"), ("status", "ja")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let answers = app.store.answers(&sys, a).await.unwrap();
    assert!(answers.iter().any(|s| s.answer.requirement_id == "VB.1"));

    // A town of another Verbund does not have it.
    let other = app.org_id("Stadt Beispielstein").await;
    let mut admin_view = app.session_for(OFFICE).await;
    let r = admin_view
        .get(&format!(
            "/organisations/{other}/security/requirement?id=VB.1"
        ))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Once answered, the code cannot change (answers are keyed by it); the text can.
    let mut renamed: Vec<(&str, &str)> = OWN.to_vec();
    let id_s = own_id.to_string();
    renamed.push(("id", &id_s));
    renamed[0] = ("code", "VB.9");
    let r = office
        .post(&format!("/verbuende/{v}/security/requirements"), &renamed)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("schon bewertet"));
    renamed[0] = ("code", "VB.1");
    renamed[2] = ("title", "Meldung an die ISB binnen 24 Stunden");
    let r = office
        .post(&format!("/verbuende/{v}/security/requirements"), &renamed)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = office.get(&format!("/verbuende/{v}/security")).await;
    assert!(page.body.contains("Meldung an die ISB binnen 24 Stunden"));

    // Removed, it leaves the towns' lists; the audit log has every step.
    let r = office
        .post(
            &format!("/verbuende/{v}/security/requirements/delete"),
            &[("id", &id_s)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = town.get(&format!("/organisations/{a}/security")).await;
    assert_eq!(total(&page.body), before);
    let audit = app
        .store
        .audit_entries(
            &sys,
            &AuditFilter {
                limit: 200,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let actions: Vec<&str> = audit
        .iter()
        .filter(|e| e.entity == "security_own_requirement")
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(actions.len(), 3, "{actions:?}");
    assert!(
        actions.contains(&"create") && actions.contains(&"update") && actions.contains(&"delete")
    );
}

#[tokio::test]
async fn office_plans_one_measure_for_several_towns() {
    let app = spawn_app().await;
    let v = musterau(&app).await;
    let a = app.org_id(TOWN_A).await;
    let b = app.org_id(TOWN_B).await;
    let other = app.org_id("Stadt Beispielstein").await;
    let (a_s, b_s, other_s) = (a.to_string(), b.to_string(), other.to_string());
    let mut office = app.session_for(OFFICE).await;
    let page = office.get(&format!("/verbuende/{v}/security")).await;
    assert!(
        page.body.contains("Gemeinsame Maßnahme planen"),
        "{}",
        page.body
    );

    // Refused: no town, a town of another Verbund, an unknown requirement, a bad date.
    let path = format!("/verbuende/{v}/security/measures");
    let r = office
        .post(&path, &[("title", "Awareness-Schulung"), ("priority", "")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("sm-towns-err"));
    let r = office
        .post(
            &path,
            &[
                ("title", "Awareness-Schulung"),
                ("towns", &a_s),
                ("towns", &other_s),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("darf hier nicht geplant werden"));
    let r = office
        .post(
            &path,
            &[
                ("title", "Awareness-Schulung"),
                ("requirement_id", "XYZ.99"),
                ("deadline", "31.12.2026x"),
                ("towns", &a_s),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("sm-deadline-err"), "{}", r.body);
    let sys = app.system().await;
    let office_org = app
        .store
        .organisations(&sys)
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.verbund_id == Some(v) && o.is_office)
        .unwrap()
        .id;
    let planned = app
        .store
        .measures_owned_by(&sys, office_org)
        .await
        .unwrap()
        .len();

    // A coordinator cannot plan for the Verbund.
    let mut town = app.session_for(COORD_B).await;
    town.get(&format!("/verbuende/{v}/security")).await;
    let r = town
        .post(&path, &[("title", "Übernahme"), ("towns", &b_s)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let r = office
        .post(
            &path,
            &[
                ("title", "Gemeinsame Awareness-Schulung"),
                ("description", "Ein Termin für alle Beschäftigten"),
                ("requirement_id", ""),
                ("deadline", "2027-03-31"),
                ("priority", "hoch"),
                ("cost_eur", "4.000"),
                ("effort_person_days", "3"),
                ("towns", &a_s),
                ("towns", &b_s),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        app.store
            .measures_owned_by(&sys, office_org)
            .await
            .unwrap()
            .len(),
        planned + 1,
        "the refused forms stored nothing"
    );
    let page = office.get(&format!("/verbuende/{v}/security")).await;
    assert!(page.body.contains("Gemeinsame Awareness-Schulung"));
    assert!(page.body.contains("0 / 2"), "{}", page.body);

    // It is in both towns' plans; each records its own progress.
    let plan_b = town
        .get(&format!("/organisations/{b}/security/measures"))
        .await;
    assert!(plan_b.body.contains("Gemeinsame Awareness-Schulung"));
    assert!(plan_b.body.contains("gemeinsam im Verbund"));
    let mid = app
        .store
        .measures(&sys, b)
        .await
        .unwrap()
        .into_iter()
        .find(|(_, m, _)| m.title == "Gemeinsame Awareness-Schulung")
        .unwrap()
        .0;
    let r = town
        .post(
            &format!("/organisations/{b}/security/measures/status"),
            &[("measure_id", &mid.to_string()), ("status", "umgesetzt")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = office.get(&format!("/verbuende/{v}/security")).await;
    assert!(page.body.contains("1 / 2"), "{}", page.body);
    let mut coord_a = app.session_for(COORD_A).await;
    let plan_a = coord_a
        .get(&format!("/organisations/{a}/security/measures"))
        .await;
    assert!(plan_a.body.contains("Gemeinsame Awareness-Schulung"));
}

fn small_catalog() -> String {
    let controls: Vec<String> = ["Datensicherungen", "Passwortrichtlinien", "Notfallübungen"]
        .iter()
        .enumerate()
        .map(|(i, topic)| {
            let i = i + 1;
            format!(
                r#"{{"id":"land-{i}","title":"Landesanforderung {i}","parts":[{{"name":"statement","prose":"Die Kommune MUSS {topic} regeln."}}]}}"#
            )
        })
        .collect();
    format!(
        r#"{{"catalog":{{"uuid":"3f2a9d4e-1c1b-4e0a-9f61-2b7c5d1e0a11","metadata":{{"title":"Landesprofil Kommunen","version":"2.0","oscal-version":"1.1.2"}},"groups":[{{"id":"LAND","title":"Landesvorgaben","controls":[{}]}}]}}}}"#,
        controls.join(",")
    )
}

#[tokio::test]
async fn an_imported_catalog_can_be_the_target() {
    let app = spawn_app().await;
    let v = musterau(&app).await;
    let a = app.org_id(TOWN_A).await;
    let office_scope = app.scope_of(OFFICE).await;
    let meta = app
        .store
        .import_catalog(
            &office_scope,
            stadtmauer_core::Owner::Verbund(v),
            "landesprofil.json",
            small_catalog().as_bytes(),
        )
        .await
        .unwrap();
    let code = Target::Imported(meta.id).code();

    // Browsable and searchable like the shipped catalogs.
    let mut reader = app.session_for(COORD_B).await;
    let view = reader
        .get(&format!(
            "/catalog/imported/view?id={}&q=Notfall%C3%BCbung",
            meta.id
        ))
        .await;
    assert_eq!(view.status, StatusCode::OK);
    assert!(view.body.contains("1 von 3 Anforderungen"), "{}", view.body);
    assert!(view.body.contains("land-3") && !view.body.contains(">land-1<"));

    let mut town = app.session_for(COORD_A).await;
    let page = town.get(&format!("/organisations/{a}/security")).await;
    let before = total(&page.body);
    assert!(
        page.body.contains(&format!("value=\"{code}\"")),
        "offered as own target"
    );

    // A town takes it on top of the Verbund's target.
    let r = town
        .post(
            &format!("/organisations/{a}/security/target"),
            &[("target", &code)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = town.get(&format!("/organisations/{a}/security")).await;
    assert_eq!(total(&page.body), before + 3);
    assert!(
        page.body
            .contains("Kommunale Basis + Landesprofil Kommunen 2.0"),
        "{}",
        page.body
    );
    assert!(page.body.contains("requirement?id=land-2"));
    let r = town
        .post(
            &format!("/organisations/{a}/security/answer"),
            &[("requirement_id", "land-2"), ("status", "teilweise")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = town
        .post(&format!("/organisations/{a}/security/finish"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = town.get(&format!("/organisations/{a}/security")).await;
    assert!(
        page.body.contains("Landesprofil Kommunen 2.0 (importiert)"),
        "trend names it"
    );

    // A target naming no imported catalog is refused.
    let r = town
        .post(
            &format!("/organisations/{a}/security/target"),
            &[("target", "catalog:999999")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("Bitte einen Eintrag aus der Liste wählen."),
        "the refusal says why: {}",
        r.body
    );

    // The office makes it the Verbund's uniform target.
    let mut office = app.session_for(OFFICE).await;
    let vp = office.get(&format!("/verbuende/{v}/security")).await;
    assert!(vp.body.contains(&format!("value=\"{code}\"")));
    let r = office
        .post(&format!("/verbuende/{v}/security"), &[("target", &code)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let sys = app.system().await;
    assert_eq!(
        app.store.verbund_target(&sys, v).await.unwrap(),
        Target::Imported(meta.id)
    );
    let b = app.org_id(TOWN_B).await;
    let mut tb = app.session_for(COORD_B).await;
    let page_b = tb.get(&format!("/organisations/{b}/security")).await;
    assert!(page_b.body.contains("requirement?id=land-1"));
    assert!(
        !page_b.body.contains("requirement?id=ASST.1.1.2"),
        "the Kommunale Basis is no longer the target"
    );
}

#[tokio::test]
async fn security_level_through_the_api() {
    use axum::http::Method;
    let app = spawn_app().await;
    let v = musterau(&app).await;
    let a = app.org_id(TOWN_A).await;
    let b = app.org_id(TOWN_B).await;
    let other = app.org_id("Stadt Beispielstein").await;
    // The office added one own requirement to the Verbund's target.
    let office_scope = app.scope_of(OFFICE).await;
    let own = stadtmauer_catalog::own::OwnRequirementInput {
        code: "VB.1".into(),
        practice: "DET".into(),
        title: "Meldung an die ISB".into(),
        statement: "Vorfälle MÜSSEN binnen 24 Stunden gemeldet werden.".into(),
        guidance: String::new(),
        sec_level: "normal-SdT".into(),
        effort_level: "1".into(),
        target_category: String::new(),
    }
    .check(&["DET"], |_| false)
    .unwrap();
    app.store
        .save_own_requirement(&office_scope, v, None, &own)
        .await
        .unwrap();
    let mut c = app.client();
    c.bearer = Some(app.token_for(COORD_A, false).await);
    let mut session = app.session_for(COORD_A).await;
    session.get(&format!("/organisations/{a}/security")).await;
    let r = session
        .post(&format!("/organisations/{a}/security/finish"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    let r = c.get(&format!("/api/v1/organisations/{a}/security")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let level = r.json();
    assert_eq!(level["verbund_target"], "kommunale_basis");
    let n = level["requirements"].as_u64().unwrap();
    assert!(n > 100, "{level}");
    // The office's own requirement is part of the town's target.
    assert!(level["target_label"]
        .as_str()
        .unwrap()
        .contains("eigene Anforderungen"));
    assert!(!level["snapshots"].as_array().unwrap().is_empty());

    // Record an answer; bad input is a problem document naming the field, and changes nothing.
    let before = app.store.answers(&app.system().await, a).await.unwrap();
    let r = c
        .json(
            Method::POST,
            &format!("/api/v1/organisations/{a}/security/answers"),
            &serde_json::json!({"requirement_id": "VB.1", "status": "entbehrlich"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("reason"), "{}", r.body);
    let r = c
        .json(
            Method::POST,
            &format!("/api/v1/organisations/{a}/security/answers"),
            &serde_json::json!({"requirement_id": "NICHT.DA", "status": "ja"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = c
        .send(
            Method::POST,
            &format!("/api/v1/organisations/{a}/security/answers"),
            Some("application/json"),
            b"{\"requirement_id\": \"VB.1\",\n \"status\": }".to_vec(),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("line 2, column"), "{}", r.body);
    let forged = serde_json::json!({"requirement_id": "VB.1", "status": "ja", "evidence": [
        {"kind": "file", "sha256": "ab".repeat(32), "size": "10", "media_type": "application/pdf", "name": "x.pdf"}]});
    let r = c
        .json(
            Method::POST,
            &format!("/api/v1/organisations/{a}/security/answers"),
            &forged,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a file not uploaded to the town"
    );
    assert_eq!(
        app.store.answers(&app.system().await, a).await.unwrap(),
        before
    );
    let r = c
        .json(
            Method::POST,
            &format!("/api/v1/organisations/{a}/security/answers"),
            &serde_json::json!({"requirement_id": "VB.1", "status": "ja",
                "evidence": [{"kind": "link", "url": "https://intranet.example/meldeweg"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = c
        .get(&format!("/api/v1/organisations/{a}/security/answers"))
        .await;
    assert!(r.body.contains("\"VB.1\""));
    let r = c
        .get(&format!("/api/v1/organisations/{a}/security/measures"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json().is_array());

    // Another town's data stays out of reach; a read-only token cannot write.
    for path in [
        format!("/api/v1/organisations/{b}/security"),
        format!("/api/v1/organisations/{other}/security/answers"),
        format!("/api/v1/organisations/{b}/security/measures"),
    ] {
        let r = c.get(&path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
    }
    let r = c
        .json(
            Method::POST,
            &format!("/api/v1/organisations/{b}/security/answers"),
            &serde_json::json!({"requirement_id": "VB.1", "status": "ja"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let mut ro = app.client();
    ro.bearer = Some(app.token_for(COORD_A, true).await);
    let r = ro
        .json(
            Method::POST,
            &format!("/api/v1/organisations/{a}/security/answers"),
            &serde_json::json!({"requirement_id": "VB.1", "status": "nein"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The office reads the Verbund's heatmap; a coordinator sees only their own row.
    let mut office = app.client();
    office.bearer = Some(app.token_for(OFFICE, true).await);
    let r = office.get(&format!("/api/v1/verbuende/{v}/security")).await;
    assert_eq!(r.status, StatusCode::OK);
    let rows = r.json();
    assert!(rows.as_array().unwrap().len() >= 10, "{rows}");
    let r = c.get(&format!("/api/v1/verbuende/{v}/security")).await;
    let mine = r.json();
    assert!(mine
        .as_array()
        .unwrap()
        .iter()
        .all(|row| row["organisation_id"] == a.0));
}

/// "In welchem Umfang erfüllen wir ISO 27001?" — coverage through the BSI's mappings, with the
/// relationship shown and requirements outside the target named but not counted.
#[tokio::test]
async fn coverage_of_iso_27001_and_it_grundschutz_through_the_mappings() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let shipped = stadtmauer_catalog::shipped().unwrap();
    // An ISO control mapped to a requirement of the Kommunale Basis that concerns the town.
    let basis = shipped.resolve_kommunale_basis().unwrap().catalog;
    let (control, req, rel) = shipped
        .iso_mapping
        .entries
        .iter()
        .filter(|e| e.sources.len() == 1 && e.targets.len() == 1)
        .find_map(|e| {
            let r = basis.get(&e.targets[0])?;
            (stadtmauer_catalog::applicability::concern(r)
                == stadtmauer_catalog::applicability::Concern::Organisation)
                .then(|| (e.sources[0].clone(), r.id.clone(), e.relationship.clone()))
        })
        .expect("an ISO control mapped to one organisation-wide Basis requirement");
    let mut c = app.session_for(COORD_A).await;
    let page = c
        .get(&format!("/organisations/{a}/security/coverage"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("ISO/IEC 27001:2022, Anhang A"));
    let row = |body: &str| {
        let start = body
            .find(&format!("<th scope=\"row\">{control}</th>"))
            .unwrap_or_else(|| panic!("no row for {control}"));
        let end = body[start..].find("</tr>").unwrap() + start;
        body[start..end].to_string()
    };
    let before = row(&page.body);
    assert!(
        before.contains(&format!("security/requirement?id={req}")),
        "{before}"
    );
    let label = match rel {
        stadtmauer_catalog::mapping::Relationship::SubsetOf => "Teilmenge von",
        stadtmauer_catalog::mapping::Relationship::EquivalentTo => "gleichwertig",
        stadtmauer_catalog::mapping::Relationship::EqualTo => "gleich",
        stadtmauer_catalog::mapping::Relationship::SupersetOf => "umfasst",
        _ => "überschneidet sich mit",
    };
    assert!(
        before.contains(&format!("({label})")),
        "relationship shown: {before}"
    );

    c.post(
        &format!("/organisations/{a}/security/answer"),
        &[("requirement_id", &req), ("status", "ja")],
    )
    .await;
    let after = row(&c
        .get(&format!("/organisations/{a}/security/coverage"))
        .await
        .body);
    assert!(after.contains("data-status=\"ja\""), "{after}");
    assert_ne!(before, after);

    let itgs = c
        .get(&format!(
            "/organisations/{a}/security/coverage?framework=itgs"
        ))
        .await;
    assert_eq!(itgs.status, StatusCode::OK);
    assert!(itgs.body.contains("IT-Grundschutz-Kompendium 2023"));
    assert!(
        itgs.body.contains("nicht im Zielniveau"),
        "erhöht or Methodik requirements are named, not counted"
    );

    // An imported mapping collection is a framework too, read from either side.
    let json = format!(
        r#"{{"mapping-collection":{{"uuid":"mc-c5","metadata":{{"title":"C5 zu Grundschutz++","version":"1","oscal-version":"1.1.2"}},"mappings":[{{"uuid":"m-1","source-resource":{{"type":"catalog","href":"c5.json"}},"target-resource":{{"type":"catalog","href":"gspp.json"}},"maps":[{{"uuid":"map-1","relationship":"subset-of","sources":[{{"type":"control","id-ref":"C5-OIS-01"}}],"targets":[{{"type":"control","id-ref":"{req}"}}]}}]}},{{"uuid":"m-2","source-resource":{{"type":"catalog","href":"gspp.json"}},"target-resource":{{"type":"catalog","href":"c5.json"}},"maps":[{{"uuid":"map-2","relationship":"subset-of","sources":[{{"type":"control","id-ref":"{req}"}}],"targets":[{{"type":"control","id-ref":"C5-OIS-02"}}]}}]}}]}}}}"#
    );
    let office = app.scope_of(OFFICE).await;
    let meta = app
        .store
        .import_catalog(
            &office,
            stadtmauer_core::Owner::Verbund(musterau(&app).await),
            "c5.json",
            json.as_bytes(),
        )
        .await
        .unwrap();
    let page = c
        .get(&format!(
            "/organisations/{a}/security/coverage?framework=mapping:{}",
            meta.id
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("C5 zu Grundschutz++ 1"), "{}", page.body);
    let c5 = |control: &str| {
        let start = page
            .body
            .find(&format!("<th scope=\"row\">{control}</th>"))
            .unwrap_or_else(|| panic!("no row for {control}"));
        let end = page.body[start..].find("</tr>").unwrap() + start;
        page.body[start..end].to_string()
    };
    assert!(c5("C5-OIS-01").contains("(Teilmenge von)"));
    assert!(
        c5("C5-OIS-02").contains("(umfasst)"),
        "stated from the control's side"
    );
    assert!(c5("C5-OIS-02").contains("100 %"));

    // Another town's coverage is not reachable.
    let b = app.org_id(TOWN_B).await;
    let r = c
        .get(&format!("/organisations/{b}/security/coverage"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
