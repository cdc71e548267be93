//! Imported OSCAL catalogs, profiles and mapping collections: upload by the office, the list
//! beside the shipped catalogs, a new version of a known catalog flagging changed requirements for
//! review, a mapping's correspondences on the requirement pages (never offered as a target), and
//! hostile files that are refused precisely with nothing stored.

use crate::harness::*;
use axum::http::{Method, StatusCode};
use stadtmauer_assessment::{Answer, Status};
use stadtmauer_catalog::applicability::{concern, Concern};
use stadtmauer_catalog::shipped;
use stadtmauer_store::audit::AuditFilter;
use stadtmauer_store::security::{CatalogImportError, Target};

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
                "Die Datei wurde nicht importiert; nichts wurde geändert. Grund:</p><p><code>"
            ),
            "{}",
            r.body
        );
        assert!(r.body.contains(needle), "{needle}: {}", r.body);
    }
    // 100 MB: refused before parsing.
    let big = vec![b' '; 100 * 1024 * 1024];
    match app
        .store
        .import_catalog(
            &sys,
            stadtmauer_core::Owner::Installation,
            "gross.json",
            &big,
        )
        .await
    {
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
            .contains("Die Datei wurde nicht importiert; nichts wurde geändert."),
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

/// An OSCAL mapping collection: `mappings` are `(source href, target href, maps)`, each map
/// `(relationship, sources, targets)`.
type Map<'a> = (&'a str, &'a [&'a str], &'a [&'a str]);
fn mapping(title: &str, version: &str, mappings: &[(&str, &str, &[Map])]) -> String {
    let ms: Vec<String> = mappings
        .iter()
        .enumerate()
        .map(|(i, (src, tgt, maps))| {
            let maps: Vec<String> = maps
                .iter()
                .enumerate()
                .map(|(j, (rel, sources, targets))| {
                    let items = |ids: &[&str]| {
                        ids.iter()
                            .map(|id| format!(r#"{{"type":"control","id-ref":"{id}"}}"#))
                            .collect::<Vec<_>>()
                            .join(",")
                    };
                    format!(
                        r#"{{"uuid":"map-{i}-{j}","relationship":"{rel}","sources":[{}],"targets":[{}]}}"#,
                        items(sources),
                        items(targets)
                    )
                })
                .collect();
            format!(
                r#"{{"uuid":"mapping-{i}","source-resource":{{"type":"catalog","href":"{src}"}},"target-resource":{{"type":"catalog","href":"{tgt}"}},"maps":[{}]}}"#,
                maps.join(",")
            )
        })
        .collect();
    format!(
        r#"{{"mapping-collection":{{"uuid":"mc-{}","metadata":{{"title":"{title}","version":"{version}","oscal-version":"1.2.2"}},"mappings":[{}]}}}}"#,
        title.replace(' ', "-"),
        ms.join(",")
    )
}

const C5: &str = "bsi-c5-2020.json";
const KERNEL: &str = stadtmauer_catalog::shipped::KERNEL;

/// "BSI C5" → Kernel (two maps), and Kernel → "BSI C5" (one map, the requirement as source).
fn c5_mapping(version: &str) -> String {
    mapping(
        "BSI C5 zu Grundschutz++",
        version,
        &[
            (
                C5,
                KERNEL,
                &[
                    ("subset-of", &["OIS-01"], &["ASST.1.1.2"]),
                    ("equivalent-to", &["OIS-02"], &["ASST.1.1.2", "ASST.1.1.3"]),
                ],
            ),
            (KERNEL, C5, &[("subset-of", &["ASST.1.1.2"], &["OIS-03"])]),
        ],
    )
}

#[tokio::test]
async fn an_imported_mapping_shows_on_the_requirement_page_and_is_never_a_target() {
    let app = spawn_app().await;
    let sys = app.system().await;
    let a = app.org_id(TOWN_A).await;
    let mut office = app.session_for(OFFICE).await;
    office.get("/catalog/imported").await;
    let r = upload(&mut office, "c5-mapping.json", c5_mapping("1.0").as_bytes()).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // Stored as a mapping: its maps counted, nothing flagged, audited.
    let all = app.store.imported_catalogs(&sys).await.unwrap();
    assert_eq!(all.len(), 1);
    let m = &all[0];
    assert_eq!(
        (m.kind.as_str(), m.requirements, m.flagged),
        ("mapping", 3, 0)
    );
    assert_eq!(m.title, "BSI C5 zu Grundschutz++");
    let sets = app.store.imported_mappings(&sys).await.unwrap();
    assert_eq!(sets.len(), 1);
    assert_eq!(sets[0].1.entries.len(), 3);
    assert!(matches!(
        app.store.imported_catalog(&sys, m.id).await,
        Err(stadtmauer_core::DomainError::NotFound)
    ));
    let audit = app
        .store
        .audit_entries(
            &sys,
            &AuditFilter {
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(audit
        .iter()
        .any(|e| e.entity == "security_catalog" && e.action == "import"));

    // Listed as "Zuordnung"; its page shows the maps, not requirements, and no search.
    let list = office.get("/catalog/imported").await;
    assert!(
        list.body
            .contains("<td data-kind=\"mapping\">Zuordnung</td>"),
        "{}",
        list.body
    );
    let view = office
        .get(&format!("/catalog/imported/view?id={}", m.id))
        .await;
    assert_eq!(view.status, StatusCode::OK, "{}", view.body);
    let b = &view.body;
    assert!(b.contains(&format!("Von {C5} nach {KERNEL}")), "{b}");
    assert!(b.contains(&format!("Von {KERNEL} nach {C5}")), "{b}");
    assert!(
        b.contains("<td>OIS-01</td><td><span class=\"tag\" data-rel=\"subset-of\">Teilmenge von</span></td><td><a href=\"/catalog/requirement?id=ASST.1.1.2\">ASST.1.1.2</a></td>"),
        "{b}"
    );
    assert!(
        b.contains("data-rel=\"equivalent-to\">gleichwertig</span></td><td><a href=\"/catalog/requirement?id=ASST.1.1.2\">ASST.1.1.2</a>; <a href=\"/catalog/requirement?id=ASST.1.1.3\">ASST.1.1.3</a>"),
        "{b}"
    );
    assert!(!b.contains("name=\"practice\"") && !b.contains("role=\"search\""));

    // The requirement page states each correspondence from the requirement's side.
    let mut coord = app.session_for(COORD_A).await;
    let req = coord.get("/catalog/requirement?id=ASST.1.1.2").await;
    assert_eq!(req.status, StatusCode::OK);
    let b = &req.body;
    assert!(
        b.contains("BSI C5 zu Grundschutz++ 1.0 (importierte Zuordnung)"),
        "{b}"
    );
    // OIS-01 subset-of ASST.1.1.2: ASST.1.1.2 "umfasst" OIS-01.
    assert!(
        b.contains("data-rel=\"superset-of\">umfasst</span></td><td><strong>OIS-01</strong></td><td>bsi-c5-2020.json</td>"),
        "{b}"
    );
    assert!(
        b.contains(
            "data-rel=\"equivalent-to\">gleichwertig</span></td><td><strong>OIS-02</strong></td>"
        ),
        "{b}"
    );
    // As the source, the relationship stands as written.
    assert!(
        b.contains(
            "data-rel=\"subset-of\">Teilmenge von</span></td><td><strong>OIS-03</strong></td>"
        ),
        "{b}"
    );
    let other = coord.get("/catalog/requirement?id=ASST.1.1.3").await;
    assert!(other.body.contains("<strong>OIS-02</strong>"));
    assert!(!other.body.contains("OIS-01"));
    let none = coord.get("/catalog/requirement?id=ASST.1.1.1").await;
    assert!(!none.body.contains("importierte Zuordnung"));
    let mut reader = app.session_for(COORD_B).await;
    reader.post("/language", &[("lang", "en")]).await;
    let en = reader.get("/catalog/requirement?id=ASST.1.1.2").await;
    assert!(
        en.body
            .contains("BSI C5 zu Grundschutz++ 1.0 (imported mapping)"),
        "{}",
        en.body
    );

    // Never offered as a target, and refused when sent anyway (town and Verbund).
    let code = Target::Imported(m.id).code();
    let mut town = app.session_for(COORD_A).await;
    let page = town.get(&format!("/organisations/{a}/security")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains(&format!("value=\"{code}\"")), "offered");
    let r = town
        .post(
            &format!("/organisations/{a}/security/target"),
            &[("target", &code)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    // The page answers with the generic 422; the store names the reason.
    match app
        .store
        .set_town_target(&sys, a, Some(Target::Imported(m.id)))
        .await
    {
        Err(stadtmauer_core::DomainError::Invalid(e)) => {
            assert_eq!(e.0[0].message, "sec.err.target_mapping")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(app.store.town_target(&sys, a).await.unwrap().own, None);
    let v = app
        .store
        .verbuende(&sys)
        .await
        .unwrap()
        .into_iter()
        .find(|v| v.name == "Landkreis Musterau")
        .unwrap()
        .id;
    let vp = office.get(&format!("/verbuende/{v}/security")).await;
    assert_eq!(vp.status, StatusCode::OK);
    assert!(!vp.body.contains(&format!("value=\"{code}\"")));
    let office_scope = app.scope_of(OFFICE).await;
    assert!(app
        .store
        .set_verbund_target(&office_scope, v, Target::Imported(m.id))
        .await
        .is_err());
    assert_eq!(
        app.store.verbund_target(&sys, v).await.unwrap(),
        Target::KommunaleBasis
    );

    // A mapping to the requirements of an imported catalog is accepted too, and a later
    // version of the first follows it.
    let own = catalog("u-eigen", "Eigener Katalog", "1", &[("EK.1", "a")]);
    let r = upload(&mut office, "eigen.json", own.as_bytes()).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let to_own = mapping(
        "C5 zu Eigenem",
        "1",
        &[(
            C5,
            "eigen.json",
            &[("intersects-with", &["OIS-09"], &["EK.1"])],
        )],
    );
    let r = upload(&mut office, "c5-eigen.json", to_own.as_bytes()).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = upload(
        &mut office,
        "c5-mapping-2.json",
        c5_mapping("2.0").as_bytes(),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let all = app.store.imported_catalogs(&sys).await.unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(
        all[3].previous.as_deref(),
        Some("BSI C5 zu Grundschutz++ 1.0")
    );
    // The catalog, not the mappings, stays offered as a target.
    let page = town.get(&format!("/organisations/{a}/security")).await;
    let offered = |id: i64| page.body.contains(&format!("value=\"catalog:{id}\""));
    assert!(offered(all[1].id) && !offered(all[2].id) && !offered(all[3].id));
}

#[tokio::test]
async fn hostile_mapping_files_are_refused_precisely_and_store_nothing() {
    let app = spawn_app().await;
    let sys = app.system().await;
    let mut office = app.session_for(OFFICE).await;
    office.get("/catalog/imported").await;
    let good = c5_mapping("1.0");
    let unknown: &[Map] = &[
        ("subset-of", &["OIS-01"], &["XYZ.1"]),
        ("equal-to", &["OIS-02"], &["XYZ.2"]),
    ];
    let iso_shipped =
        include_str!("../../../catalog/data/ISO27001-AnnexA-to-GS++-mapping_collection.json");
    let cases: Vec<(String, &str)> =
        vec![
        (
            good.replace("\"1.2.2\"", "\"1.0.4\""),
            "mapping-collection.metadata.oscal-version: oscal-version \"1.0.4\" is not supported",
        ),
        (
            mapping("Leer", "1", &[]),
            "mapping-collection.mappings: the mapping collection contains no maps",
        ),
        (
            mapping("Leer", "1", &[(C5, KERNEL, &[])]),
            "mapping-collection.mappings[*].maps: the mapping collection contains no maps",
        ),
        (
            mapping("Unbekannt", "1", &[(C5, "anderer.json", unknown)]),
            "mapping-collection.mappings[0].maps[0]: no control named by the mapping collection",
        ),
        (
            mapping("Ohne Ziel", "1", &[(C5, KERNEL, &[("subset-of", &["OIS-01"], &[])])]),
            "mapping-collection.mappings[0].maps[0].targets: a map needs at least one target",
        ),
        (
            good.replace("\"id-ref\":\"OIS-02\"", "\"id-ref\":\"OIS 02\""),
            "mapping-collection.mappings[0].maps[1].sources[0].id-ref",
        ),
        (
            // The shipped ISO mapping again: that version is already known.
            iso_shipped.to_string(),
            "mapping-collection.metadata.version: version \"1.0.1-qa\"",
        ),
    ];
    for (bytes, needle) in &cases {
        let r = upload(&mut office, "boese-zuordnung.json", bytes.as_bytes()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{needle}: {}",
            r.body
        );
        assert!(
            r.body.contains(
                "Die Datei wurde nicht importiert; nichts wurde geändert. Grund:</p><p><code>"
            ),
            "{}",
            r.body
        );
        assert!(
            r.body.contains(needle)
                || r.body.contains(&needle.replace('"', "&#34;"))
                || r.body.contains(&needle.replace('"', "&quot;")),
            "{needle}: {}",
            r.body
        );
    }
    assert!(app.store.imported_catalogs(&sys).await.unwrap().is_empty());

    // The same file twice: refused, one stored.
    let r = upload(&mut office, "c5.json", good.as_bytes()).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = upload(&mut office, "c5-kopie.json", good.as_bytes()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("already imported"), "{}", r.body);
    // The same version with other content: refused as already known.
    let other = c5_mapping("1.0").replace("OIS-03", "OIS-04");
    let r = upload(&mut office, "c5-anders.json", other.as_bytes()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("already known"), "{}", r.body);
    assert_eq!(app.store.imported_catalogs(&sys).await.unwrap().len(), 1);
    // A town's coordinator may not import one.
    let mut coord = app.session_for(COORD_A).await;
    coord.get("/catalog/imported").await;
    let r = upload(&mut coord, "c5-3.json", c5_mapping("3").as_bytes()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.store.imported_catalogs(&sys).await.unwrap().len(), 1);
}
