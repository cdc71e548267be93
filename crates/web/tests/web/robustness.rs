//! Refusals that say what is wrong, in the user's language: a date that does not exist, an
//! e-mail address outside the grammar, a body over the limit (page and problem document).

use crate::harness::*;
use axum::http::{Method, StatusCode};

fn header<'a>(r: &'a Resp, name: &str) -> &'a str {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn a_form_over_the_limit_gets_a_page_naming_the_limit() {
    let app = spawn_app().await;
    let mut c = app.session_for(OFFICE).await;
    let org = app.org_id(TOWN_A).await;
    c.get(&format!("/organisations/{}", org.0)).await;
    let big = "x".repeat(1024 * 1024 + 10);
    let r = c
        .post(
            &format!("/organisations/{}/contacts", org.0),
            &[("function", "a"), ("name", &big)],
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(header(&r, "content-type").starts_with("text/html"));
    assert!(r.body.contains("höchstens 1 MB"), "{}", r.body);
    assert!(r.body.contains("Es wurde nichts gespeichert"), "{}", r.body);
    // The page keeps the user's navigation.
    assert!(r.body.contains("href=\"/dashboard\""), "{}", r.body);

    // Before login, in English when the browser asks for it.
    let mut anon = app.client();
    anon.cookies.insert("sm_lang".into(), "en".into());
    anon.get("/login").await;
    let r = anon.post("/login", &[("email", &big)]).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        r.body.contains("a form may hold at most 1 MB"),
        "{}",
        r.body
    );
    assert!(r.body.contains("<html lang=\"en\""), "{}", r.body);

    // The API answers a problem document that names the limit.
    let mut api = app.client();
    api.bearer = Some(app.token_for(OFFICE, false).await);
    let r = api
        .json(
            Method::POST,
            "/api/v1/organisations",
            &serde_json::json!({ "name": big }),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(header(&r, "content-type"), "application/problem+json");
    let doc = r.json();
    assert_eq!(doc["status"], 413);
    assert!(
        doc["detail"].as_str().unwrap_or("").contains("1 MB"),
        "{doc}"
    );
}

#[tokio::test]
async fn a_date_that_does_not_exist_is_named_as_such() {
    let app = spawn_app().await;
    let mut c = app.session_for(OFFICE).await;
    let org = app.org_id(TOWN_A).await;
    let user = app.user_id(COORD_A).await;
    c.get(&format!("/users/{}", user.0)).await;
    let path = format!("/users/{}/memberships", user.0);
    let org = org.0.to_string();
    let add = |valid_until: &'static str| {
        [
            ("organisation_id", org.clone()),
            ("role", "auditor".to_string()),
            ("valid_until", valid_until.to_string()),
        ]
    };
    let f = add("2030-02-30");
    let r = c
        .post(&path, &f.each_ref().map(|(k, v)| (*k, v.as_str())))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("Dieses Datum gibt es nicht"), "{}", r.body);
    assert!(!r.body.contains("im Format JJJJ-MM-TT"), "{}", r.body);
    let f = add("30.2.x");
    let r = c
        .post(&path, &f.each_ref().map(|(k, v)| (*k, v.as_str())))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("im Format JJJJ-MM-TT"), "{}", r.body);
    assert!(!r.body.contains("Dieses Datum gibt es nicht"), "{}", r.body);
}

#[tokio::test]
async fn an_address_with_an_emoji_is_refused() {
    let app = spawn_app().await;
    let mut c = app.session_for(OFFICE).await;
    let org = app.org_id(TOWN_A).await;
    c.get(&format!("/organisations/{}", org.0)).await;
    let r = c
        .post(
            &format!("/organisations/{}/contacts", org.0),
            &[
                ("function", "IT"),
                ("name", "Emil Emoji"),
                ("email", "😀@x.example"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("Keine gültige E-Mail-Adresse"),
        "{}",
        r.body
    );

    // The Verbund's notification address goes through the same grammar.
    let sys = app.system().await;
    let verbund = app
        .store
        .organisations(&sys)
        .await
        .unwrap()
        .into_iter()
        .find_map(|o| o.verbund_id.filter(|_| o.id == org))
        .unwrap();
    c.get(&format!("/verbuende/{}/updates", verbund.0)).await;
    let r = c
        .post(
            &format!("/verbuende/{}/updates/notify", verbund.0),
            &[("webhook_url", ""), ("email", "😀@x.example")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("Keine gültige E-Mail-Adresse"),
        "{}",
        r.body
    );
}
