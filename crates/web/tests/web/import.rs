//! Spreadsheet import through the router: upload → mapping and dry-run preview → commit, broken
//! files that change nothing, oversized uploads, and the exports.

use crate::harness::*;
use axum::http::{header, Method, StatusCode};

const BOUNDARY: &str = "----stadtmauer-test-boundary-7f3a";

/// A multipart/form-data body, built by hand like a browser would send it.
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut b = Vec::new();
    for (k, v) in fields {
        b.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some((name, bytes)) = file {
        b.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n"
            )
            .as_bytes(),
        );
        b.extend_from_slice(bytes);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    b
}

async fn send_multipart(client: &mut Client, path: &str, body: Vec<u8>) -> Resp {
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    client.send(Method::POST, path, Some(&ct), body, &[]).await
}

/// The value of a hidden input of a page.
fn hidden(html: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\" value=\"");
    let i = html.find(&needle)? + needle.len();
    let rest = &html[i..];
    Some(rest[..rest.find('"')?].to_string())
}

fn windows_1252(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            'ä' => 0xE4,
            'ö' => 0xF6,
            'ü' => 0xFC,
            'Ü' => 0xDC,
            'ß' => 0xDF,
            c if c.is_ascii() => c as u8,
            c => panic!("not in the test's table: {c}"),
        })
        .collect()
}

const LIST: &str = "Objektart;Name;Verantwortlich;Vertraulichkeit;Integrität;Verfügbarkeit;abhängig von\r\n\
    Geschäftsprozess;Bürgerbüro Testimport;Frau Müller;hoch;normal;hoch;Meldeverfahren Testimport\r\n\
    Anwendung;Meldeverfahren Testimport;;;;;Server Testimport\r\n\
    IT-System;Server Testimport;IT;;;;\r\n";

#[tokio::test]
async fn upload_preview_commit_and_export() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let mut c = app.session_for(COORD_A).await;
    let form = c.get(&format!("/organisations/{a}/import")).await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = c.csrf.clone().unwrap();
    assert!(form
        .body
        .contains(&format!("/organisations/{a}/import?csrf={csrf}")));
    assert!(form.body.contains("enctype=\"multipart/form-data\""));

    // 1. Upload a Windows-1252 file: the preview shows the umlauts, the encoding, the mapping.
    let file = windows_1252(LIST);
    let audit_before = app.store.audit_len().await.unwrap();
    let r = send_multipart(
        &mut c,
        &format!("/organisations/{a}/import?csrf={csrf}"),
        multipart(
            &[("kind", ""), ("encoding", "auto")],
            Some(("Inventar.csv", &file)),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Bürgerbüro Testimport"));
    assert!(r.body.contains("Windows-1252"));
    assert!(r
        .body
        .contains("3 Zeilen: 3 neu, 0 zu aktualisieren, neue Abhängigkeiten: 2"));
    assert!(r.body.contains("<option value=\"need_i\" selected>"));
    assert!(r.body.contains(&format!(
        "formaction=\"/organisations/{a}/import/commit?csrf={csrf}\""
    )));
    assert_eq!(
        app.store.audit_len().await.unwrap(),
        audit_before,
        "a preview writes nothing"
    );
    let data = hidden(&r.body, "data").unwrap();
    let sig = hidden(&r.body, "sig").unwrap();

    // 2. Change the mapping (leave the owner column out) and look again.
    let mapped = [
        ("data", data.as_str()),
        ("sig", sig.as_str()),
        ("file_name", "Inventar.csv"),
        ("kind", ""),
        ("encoding", "auto"),
        ("map_0", "kind"),
        ("map_1", "name"),
        ("map_2", ""),
        ("map_3", "need_c"),
        ("map_4", "need_i"),
        ("map_5", "need_a"),
        ("map_6", "depends_on"),
    ];
    let r = send_multipart(
        &mut c,
        &format!("/organisations/{a}/import?csrf={csrf}"),
        multipart(&mapped, None),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("<option value=\"\" selected>"));

    // 3. Commit: all rows, then on to the town's inventory.
    let r = send_multipart(
        &mut c,
        &format!("/organisations/{a}/import/commit?csrf={csrf}"),
        multipart(&mapped, None),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(r
        .location()
        .starts_with(&format!("/organisations/{a}/inventory")));
    let scope = app.scope_of(COORD_A).await;
    let objs = app.store.objects(&scope, a, None, false).await.unwrap();
    let bb = objs
        .iter()
        .find(|o| o.data.name == "Bürgerbüro Testimport")
        .unwrap();
    assert_eq!(bb.data.owner, None, "the owner column was left out");
    let server = objs
        .iter()
        .find(|o| o.data.name == "Server Testimport")
        .unwrap();
    assert_eq!(
        server.effective.c,
        stadtmauer_inventory::Level::Hoch,
        "inherited along the imported links"
    );
    // The import is one audit entry that lists what it did.
    assert_eq!(app.store.audit_len().await.unwrap(), audit_before + 1);

    // Exports: attachments, the CSV for German Excel, the XLSX a workbook, the JSON parseable.
    let r = c.get(&format!("/organisations/{a}/export.csv")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"inventar-"));
    assert!(r.body.starts_with('\u{feff}'));
    assert!(r.body.contains("Bürgerbüro Testimport;"));
    let r = c.get(&format!("/organisations/{a}/export.xlsx")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.starts_with("PK"));
    let r = c.get(&format!("/organisations/{a}/export.json")).await;
    assert_eq!(r.status, StatusCode::OK);
    let j = r.json();
    assert!(j["objects"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["name"] == "Server Testimport"));
}

#[tokio::test]
async fn broken_files_give_precise_messages_and_change_nothing() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let mut c = app.session_for(COORD_A).await;
    c.get(&format!("/organisations/{a}/import")).await;
    let csrf = c.csrf.clone().unwrap();
    let path = format!("/organisations/{a}/import?csrf={csrf}");
    let commit = format!("/organisations/{a}/import/commit?csrf={csrf}");
    let before = app.store.audit_len().await.unwrap();

    // Duplicate keys: both rows named, no commit button, and a commit anyway is refused.
    let dup = "Art;Name\nAnwendung;Doppelt Testimport\nAnwendung;Doppelt Testimport\n";
    for target in [&path, &commit] {
        let r = send_multipart(
            &mut c,
            target,
            multipart(&[], Some(("dup.csv", dup.as_bytes()))),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(
            r.body.contains("Zeile 3, Spalte B „Name“: „Doppelt Testimport“ kommt doppelt vor: schon in Zeile 2"),
            "{}",
            r.body
        );
        assert!(!r.body.contains("formaction="));
    }
    // A missing column.
    let r = send_multipart(
        &mut c,
        &path,
        multipart(&[], Some(("x.csv", b"Bezeichnung;Hersteller\nA;B\n"))),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .body
        .contains("Keine Spalte ist als „Objektart“ zugeordnet"));
    // A field error with row and column.
    let r = send_multipart(
        &mut c,
        &commit,
        multipart(
            &[],
            Some((
                "x.csv",
                "Art;Name;Verfügbarkeit\nProzess;Kasse Testimport;mittel\n".as_bytes(),
            )),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("Zeile 2, Spalte C „Verfügbarkeit“"),
        "{}",
        r.body
    );
    // The legacy format, and no file at all.
    let r = send_multipart(
        &mut c,
        &path,
        multipart(&[], Some(("alt.xls", &[0xD0, 0xCF, 0x11, 0xE0, 0, 0]))),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains(".xls wird nicht gelesen"));
    let r = send_multipart(&mut c, &commit, multipart(&[("kind", "")], None)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Bitte wählen Sie eine Datei aus."));
    // Without the token in the URL: refused before anything is read.
    let r = send_multipart(
        &mut c,
        &format!("/organisations/{a}/import/commit"),
        multipart(&[], Some(("x.csv", LIST.as_bytes()))),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.store.audit_len().await.unwrap(), before);
}

#[tokio::test]
async fn a_50_mb_upload_is_refused_cleanly() {
    let app = spawn_app().await;
    let a = app.org_id(TOWN_A).await;
    let mut c = app.session_for(COORD_A).await;
    c.get(&format!("/organisations/{a}/import")).await;
    let csrf = c.csrf.clone().unwrap();
    let before = app.store.audit_len().await.unwrap();
    let mut big = b"Name;Art\n".to_vec();
    while big.len() < 50 * 1024 * 1024 {
        big.extend_from_slice(b"Server mit einem langen Namen;IT-System\n");
    }
    let t = std::time::Instant::now();
    let r = send_multipart(
        &mut c,
        &format!("/organisations/{a}/import/commit?csrf={csrf}"),
        multipart(&[], Some(("riesig.csv", &big))),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    // The import page says precisely why ("größer als 20 MB … aufteilen") when the body reaches
    // the upload route; while the CSRF guard buffers every body with the global 1 MiB limit, the
    // guard's own 413 page answers first. Either way: refused at once, nothing read or written.
    assert!(
        r.body
            .contains("Die Datei ist größer als 20 MB und wurde nicht angenommen.")
            || r.body.contains("Die gesendeten Daten sind zu groß."),
        "{}",
        r.body
    );
    assert!(t.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(app.store.audit_len().await.unwrap(), before);
}

#[tokio::test]
async fn other_towns_and_readers_get_nothing() {
    let app = spawn_app().await;
    let b = app.org_id(TOWN_B).await;
    let mut c = app.session_for(COORD_A).await;
    c.get("/dashboard").await;
    let csrf = c.csrf.clone().unwrap();
    for ext in ["csv", "xlsx", "json"] {
        let r = c.get(&format!("/organisations/{b}/export.{ext}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(r.headers.get(header::CONTENT_DISPOSITION).is_none());
        assert!(!r.body.contains("Kleinmurne"));
    }
    let r = c.get(&format!("/organisations/{b}/import")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let before = app.store.audit_len().await.unwrap();
    for p in ["import", "import/commit"] {
        let r = send_multipart(
            &mut c,
            &format!("/organisations/{b}/{p}?csrf={csrf}"),
            multipart(&[], Some(("x.csv", LIST.as_bytes()))),
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
    assert_eq!(app.store.audit_len().await.unwrap(), before);
}
