//! What users do: log in (with and without second factor), get throttled, edit their town with
//! field-level errors, switch the language, use the API with tokens.

use crate::harness::*;
use axum::http::{header, Method, StatusCode};
use stadtmauer_core::credentials::totp;
use stadtmauer_store::audit::AuditFilter;

#[tokio::test]
async fn login_lands_on_the_dashboard_and_logout_ends_the_session() {
    let app = spawn_app().await;
    let mut c = app.client();
    let page = c.get("/login").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Anmelden"), "German by default");
    let r = c.login(COORD_A, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/dashboard");
    let cookie = r
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("sm_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let dash = c.get("/dashboard").await;
    assert_eq!(dash.status, StatusCode::OK);
    assert!(dash.body.contains(TOWN_A));
    let out = c.post("/logout", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let again = c.get("/dashboard").await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert!(again.location().starts_with("/login"));
}

#[tokio::test]
async fn wrong_password_and_unknown_user_look_the_same_and_get_throttled() {
    let app = spawn_app().await;
    let mut c = app.client();
    let wrong = c.login(COORD_A, "falsches-passwort").await;
    let unknown = c
        .login("niemand@nirgendwo.example", "falsches-passwort")
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    let msg = |b: &str| {
        b[b.find("role=\"alert\"").unwrap()..]
            .split("</p>")
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(msg(&wrong.body), msg(&unknown.body));
    for _ in 0..5 {
        c.login(COORD_A, "falsches-passwort").await;
    }
    // Locked: even the right password is refused now, with the same message.
    let locked = c.login(COORD_A, PASSWORD).await;
    assert_eq!(locked.status, StatusCode::UNAUTHORIZED);
    assert_eq!(msg(&locked.body), msg(&wrong.body));
    // Another account from another address is not affected.
    let mut other = app.client();
    assert_eq!(
        other.login(OFFICE, PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn forms_without_csrf_token_are_refused() {
    let app = spawn_app().await;
    let mut c = app.session_for(COORD_A).await;
    let a = app.org_id(TOWN_A).await;
    let before = app.store.audit_len().await.unwrap();
    let r = c
        .post(
            &format!("/organisations/{a}/contacts"),
            &[("csrf", "falsch"), ("function", "X"), ("name", "Y")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = c
        .post(
            &format!("/organisations/{a}/contacts"),
            &[("csrf", ""), ("function", "X"), ("name", "Y")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The login form, too, needs the token of its page (double-submit cookie).
    let mut anon = app.client();
    let r = anon
        .post(
            "/login",
            &[
                ("csrf", "erfunden"),
                ("email", COORD_A),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.store.audit_len().await.unwrap(), before);
    // With the token it works, through htmx as well (header instead of field).
    let token = c.csrf.clone().unwrap();
    let body =
        serde_urlencoded::to_string([("function", "Kämmerei"), ("name", "Rita Geld")]).unwrap();
    let r = c
        .send(
            Method::POST,
            &format!("/organisations/{a}/contacts"),
            Some("application/x-www-form-urlencoded"),
            body.into_bytes(),
            &[("x-csrf-token", &token), ("hx-request", "true")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.starts_with("<div id=\"contacts\">"),
        "htmx gets the fragment: {}",
        &r.body[..80.min(r.body.len())]
    );
    assert!(r.body.contains("Rita Geld"));
}

#[tokio::test]
async fn invalid_input_shows_field_errors_and_writes_nothing() {
    let app = spawn_app().await;
    let mut c = app.session_for(COORD_A).await;
    let a = app.org_id(TOWN_A).await;
    c.get(&format!("/organisations/{a}/edit")).await;
    let before = app.store.audit_len().await.unwrap();
    let r = c
        .post(
            &format!("/organisations/{a}"),
            &[
                ("name", ""),
                ("kind", "stadt"),
                ("ags", "1234"),
                ("inhabitants", "viele"),
                ("email", "kein-mail"),
                ("phone", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for msg in [
        "Bitte ausfüllen.",
        "Der AGS besteht aus genau 8 Ziffern.",
        "Bitte eine ganze Zahl eingeben.",
        "Keine gültige E-Mail-Adresse.",
    ] {
        assert!(r.body.contains(msg), "missing {msg}");
    }
    assert!(
        r.body
            .contains("id=\"ags\" name=\"ags\" type=\"text\" value=\"1234\""),
        "the input is kept"
    );
    assert!(r.body.contains("aria-invalid=\"true\""));
    assert_eq!(
        app.store.audit_len().await.unwrap(),
        before,
        "nothing written"
    );
    // A valid change is saved and audited with before and after.
    let r = c
        .post(
            &format!("/organisations/{a}"),
            &[
                ("name", TOWN_A),
                ("kind", "stadt"),
                ("ags", "03 9 99 003"),
                ("inhabitants", "23.500"),
                ("staff", "250"),
                ("workstations", "230"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let sys = app.system().await;
    let e = &app
        .store
        .audit_entries(
            &sys,
            &AuditFilter {
                organisation: Some(a),
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap()[0];
    assert_eq!(e.action, "update");
    assert!(
        e.before.as_deref().unwrap().contains("23409")
            && e.after.as_deref().unwrap().contains("23500")
    );
    let audit = c.get("/audit").await;
    assert!(audit.body.contains("23409") && audit.body.contains("23500"));
}

#[tokio::test]
async fn oversized_bodies_are_rejected() {
    let app = spawn_app().await;
    let mut c = app.session_for(COORD_A).await;
    let big = "x".repeat(2 * 1024 * 1024);
    let r = c.post("/account/tokens", &[("name", &big)]).await;
    assert_eq!(
        r.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        &r.body[..r.body.len().min(300)]
    );
    // Someone who may create organisations (a coordinator is refused before the body is read).
    c.bearer = Some(app.token_for(OFFICE, false).await);
    let r = c
        .json(
            Method::POST,
            "/api/v1/organisations",
            &serde_json::json!({"name": big}),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    c.bearer = Some(app.token_for(COORD_A, false).await);
    let r = c
        .json(
            Method::POST,
            "/api/v1/organisations",
            &serde_json::json!({"name": big}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn language_switch_and_security_headers() {
    let app = spawn_app().await;
    let mut c = app.session_for(OFFICE).await;
    let de = c.get("/dashboard").await;
    assert!(de.body.contains("Übersicht") && de.body.contains("lang=\"de\""));
    let csp = de
        .headers
        .get(header::CONTENT_SECURITY_POLICY)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        csp.contains("default-src 'none'")
            && csp.contains("script-src 'self'")
            && !csp.contains("unsafe")
    );
    assert_eq!(de.headers.get(header::X_FRAME_OPTIONS).unwrap(), "DENY");
    assert_eq!(de.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    assert!(
        !de.body.contains("http://") && !de.body.contains("https://"),
        "no asset or link to another host"
    );
    let r = c.post("/language", &[("lang", "en")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let en = c.get("/dashboard").await;
    assert!(en.body.contains("Overview") && en.body.contains("lang=\"en\""));
    // Anonymous visitors keep their choice in a cookie.
    let mut anon = app.client();
    anon.get("/login").await;
    anon.post("/language", &[("lang", "en")]).await;
    assert!(anon.get("/login").await.body.contains("Log in"));
    for asset in [
        "/assets/app.css",
        "/assets/htmx.min.js",
        "/assets/favicon.svg",
    ] {
        assert_eq!(anon.get(asset).await.status, StatusCode::OK, "{asset}");
    }
}

#[tokio::test]
async fn second_factor_enrolment_login_and_replay() {
    let app = spawn_app().await;
    let mut c = app.client();
    c.login(COORD_A, PASSWORD).await;
    let page = c.get("/account/totp").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<svg"), "QR code rendered inline");
    let secret = page
        .body
        .split("<code>")
        .nth(1)
        .unwrap()
        .split("</code>")
        .next()
        .unwrap()
        .to_string();
    let now = stadtmauer_core::now() as u64;
    let r = c.post("/account/totp", &[("code", "000000")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let code = totp::code_at(&secret, now).unwrap();
    let r = c.post("/account/totp", &[("code", &code)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    c.post("/logout", &[]).await;

    let mut c = app.client();
    let r = c.login(COORD_A, PASSWORD).await;
    assert_eq!(r.location(), "/login/totp");
    // Password alone opens nothing.
    assert_eq!(c.get("/dashboard").await.location(), "/login/totp");
    c.get("/login/totp").await;
    // The code used for enrolment cannot be replayed.
    let r = c.post("/login/totp", &[("code", &code)]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let next = totp::code_at(&secret, now + 30).unwrap();
    let r = c.post("/login/totp", &[("code", &next)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(c.get("/dashboard").await.status, StatusCode::OK);
}

#[tokio::test]
async fn coordinator_manages_users_of_the_own_town_only() {
    let app = spawn_app().await;
    let mut c = app.session_for(COORD_A).await;
    let a = app.org_id(TOWN_A).await;
    c.get("/users/new").await;
    let r = c
        .post(
            "/users",
            &[
                ("display_name", "Neue Kollegin"),
                ("email", "neu@falkenhorst.example"),
                ("organisation_id", &a.to_string()),
                ("role", "it_staff"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let pw = r
        .body
        .split("<code id=\"secret\">")
        .nth(1)
        .unwrap()
        .split("</code>")
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        app.client()
            .login("neu@falkenhorst.example", &pw)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    // Auditors need an end date; office roles are not the coordinator's to give.
    let r = c
        .post(
            "/users",
            &[
                ("display_name", "Prüfer"),
                ("email", "p@falkenhorst.example"),
                ("organisation_id", &a.to_string()),
                ("role", "auditor"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Prüferzugänge sind immer befristet"));
    let r = c
        .post(
            "/users",
            &[
                ("display_name", "Chef"),
                ("email", "c@falkenhorst.example"),
                ("organisation_id", &a.to_string()),
                ("role", "office_officer"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The office officer who also holds a role in town A cannot be taken over by A's coordinator.
    let officer = app.user_id(OFFICE).await;
    let sys = app.system().await;
    app.store
        .add_membership(
            &sys,
            officer,
            &stadtmauer_core::user::MembershipData {
                organisation_id: a,
                role: stadtmauer_core::user::Role::Reader,
                valid_until: None,
            },
        )
        .await
        .unwrap();
    let r = c.post(&format!("/users/{officer}/password"), &[]).await;
    assert!(
        matches!(r.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
        "{}",
        r.status
    );
}

#[tokio::test]
async fn api_with_tokens() {
    let app = spawn_app().await;
    let mut c = app.client();
    // Without a token: 401 problem document.
    let r = c.get("/api/v1/organisations").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.headers.get(header::CONTENT_TYPE).unwrap(),
        "application/problem+json"
    );
    // A session cookie does not open the API (so the API needs no CSRF protection).
    let mut s = app.session_for(COORD_A).await;
    assert_eq!(
        s.get("/api/v1/organisations").await.status,
        StatusCode::UNAUTHORIZED
    );

    c.bearer = Some(app.token_for(COORD_A, false).await);
    let r = c.get("/api/v1/organisations").await;
    assert_eq!(r.status, StatusCode::OK);
    let list = r.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["name"], TOWN_A);
    let a = app.org_id(TOWN_A).await;
    let r = c
        .json(
            Method::PATCH,
            &format!("/api/v1/organisations/{a}"),
            &serde_json::json!({"workstations": 240}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["workstations"], 240);
    assert_eq!(
        r.json()["inhabitants"],
        23409,
        "PATCH keeps what it does not name"
    );
    // Field-level problems.
    let r = c
        .json(
            Method::PATCH,
            &format!("/api/v1/organisations/{a}"),
            &serde_json::json!({"ags": "x", "name": ""}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let p = r.json();
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"ags") && fields.contains(&"name"), "{p}");
    // Broken JSON names the position.
    let r = c
        .send(
            Method::PATCH,
            &format!("/api/v1/organisations/{a}"),
            Some("application/json"),
            b"{\"name\": \"x\",\n \"kind\": }".to_vec(),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.json()["detail"].as_str().unwrap().contains("line 2"),
        "{}",
        r.body
    );
    // Unknown fields are refused, not ignored.
    let r = c
        .json(
            Method::PATCH,
            &format!("/api/v1/organisations/{a}"),
            &serde_json::json!({"nmae": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // A read-only token reads but cannot write.
    c.bearer = Some(app.token_for(COORD_A, true).await);
    assert_eq!(
        c.get(&format!("/api/v1/organisations/{a}")).await.status,
        StatusCode::OK
    );
    let r = c
        .json(
            Method::PATCH,
            &format!("/api/v1/organisations/{a}"),
            &serde_json::json!({"staff": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // A revoked token is dead.
    let scope = app.scope_of(COORD_A).await;
    let (id, plain) = app
        .store
        .create_token(&scope, "kurz", false, None)
        .await
        .unwrap();
    c.bearer = Some(plain);
    assert_eq!(c.get("/api/v1/me").await.status, StatusCode::OK);
    app.store.revoke_token(&scope, id).await.unwrap();
    assert_eq!(c.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn openapi_document_covers_every_api_route() {
    let app = spawn_app().await;
    let r = app.client().get("/api/v1/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for route in stadtmauer_web::route_table()
        .into_iter()
        .filter(|r| r.api && r.path != "/api/v1/openapi.json")
    {
        let op = &doc["paths"][route.path][route.method.as_str().to_lowercase()];
        assert!(
            op.is_object(),
            "{} {} is not documented in the OpenAPI document",
            route.method,
            route.path
        );
    }
}

#[tokio::test]
async fn health_and_metrics() {
    let app = spawn_app().await;
    let mut c = app.client();
    assert_eq!(c.get("/healthz").await.status, StatusCode::OK);
    c.get("/login").await;
    let m = c.get("/metrics").await;
    assert_eq!(m.status, StatusCode::OK);
    assert!(
        m.body.contains("stadtmauer_http_requests_total"),
        "{}",
        m.body
    );
    assert!(m.body.contains("route=\"/login\""));
}

#[tokio::test]
async fn only_the_office_renames_its_verbund() {
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
    let mut coord = app.session_for(COORD_A).await;
    assert_eq!(
        coord.get(&format!("/verbuende/{v}")).await.status,
        StatusCode::OK
    );
    let r = coord
        .post(&format!("/verbuende/{v}"), &[("verbund_name", "Gekapert")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut office = app.session_for(OFFICE).await;
    office.get(&format!("/verbuende/{v}")).await;
    let r = office
        .post(&format!("/verbuende/{v}"), &[("verbund_name", "  ")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = office
        .post(
            &format!("/verbuende/{v}"),
            &[("verbund_name", "Landkreis Musterau-Nord")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(office
        .get("/dashboard")
        .await
        .body
        .contains("Landkreis Musterau-Nord"));
}
