//! Security and robustness findings of issue 14, one test (or more) per finding.

use crate::harness::*;
use axum::http::StatusCode;
use stadtmauer_core::credentials::totp;

const ADMIN: &str = "admin@stadtmauer.example";

/// The change log of the dashboard and every page of the audit log, in both languages, with the
/// demo's many kinds of entries: no i18n key is missing and none shows raw.
#[tokio::test]
async fn change_log_and_audit_pages_have_every_translation() {
    let app = spawn_app().await;
    for email in [ADMIN, OFFICE, COORD_A] {
        for lang in ["de", "en"] {
            let mut c = app.session_for(email).await;
            c.cookies.insert("sm_lang".into(), lang.into());
            let r = c.get("/dashboard").await;
            assert_eq!(r.status, StatusCode::OK);
            assert!(!r.body.contains("audit.action."), "{}", r.body);
            assert!(!r.body.contains("audit.entity."), "{}", r.body);
            let mut next = Some("/audit".to_string());
            let mut pages = 0;
            while let Some(path) = next.take() {
                let r = c.get(&path).await;
                assert_eq!(r.status, StatusCode::OK, "{path}");
                assert!(!r.body.contains("audit.action."), "{path}: {}", r.body);
                assert!(!r.body.contains("audit.entity."), "{path}: {}", r.body);
                pages += 1;
                next = r
                    .body
                    .split("href=\"")
                    .skip(1)
                    .filter_map(|s| s.split('"').next())
                    .find(|h| h.starts_with("/audit?") && h.contains("before="))
                    .map(|h| h.replace("&amp;", "&"));
                assert!(pages < 500, "audit paging does not end");
            }
        }
    }
    let missing = stadtmauer_web::i18n::missing_keys();
    assert!(missing.is_empty(), "missing translations: {missing:#?}");
}

/// After login only a local path is followed: `next` values that a browser would take for another
/// host, or that cannot be a header value (which gave a 500), lead to the dashboard.
#[tokio::test]
async fn login_never_redirects_off_site() {
    let app = spawn_app().await;
    let evil = [
        "/\t/evil.example/",
        "/\n/evil.example/",
        "/\r\nSet-Cookie: a=b",
        "//evil.example/",
        "/\\evil.example/",
        "https://evil.example/",
        " /evil.example",
        "/ /evil.example",
    ];
    for next in evil {
        // The form carries the cleaned value (it came through the query string, encoded).
        let mut c = app.client();
        let query = serde_urlencoded::to_string([("next", next)]).unwrap();
        let r = c.get(&format!("/login?{query}")).await;
        assert_eq!(r.status, StatusCode::OK, "{next:?}");
        assert!(!r.body.contains("evil.example"), "{next:?}: {}", r.body);
        // And the login itself, with the raw value in the form body.
        let r = c
            .post(
                "/login",
                &[("email", COORD_A), ("password", PASSWORD), ("next", next)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{next:?}: {}", r.body);
        assert_eq!(r.location(), "/dashboard", "{next:?}");
    }
    // A local path, encoded slashes included, is kept.
    for next in ["/organisations?x=1", "/%2F%2Fevil.example/"] {
        let mut c = app.client();
        c.get("/login").await;
        let r = c
            .post(
                "/login",
                &[("email", COORD_A), ("password", PASSWORD), ("next", next)],
            )
            .await;
        assert_eq!(r.location(), next);
    }
}

/// The series of `/metrics` come from a closed set: any method name and any path a client sends
/// maps to a known label ("other", "unmatched"), so requests cannot grow the memory for good.
#[tokio::test]
async fn metrics_labels_come_from_a_closed_set() {
    let app = spawn_app().await;
    let mut c = app.client();
    let series = |body: &str| {
        body.lines()
            .filter(|l| l.starts_with("stadtmauer_http_requests_total{"))
            .count()
    };
    // One round first, so that every label ("other", "unmatched", the statuses) exists.
    for i in 0..4 {
        send_odd(&mut c, i).await;
    }
    c.get("/metrics").await;
    let before = c.get("/metrics").await;
    assert_eq!(before.status, StatusCode::OK);
    for i in 4..54 {
        send_odd(&mut c, i).await;
    }
    let after = c.get("/metrics").await;
    assert_eq!(series(&before.body), series(&after.body), "{}", after.body);
    assert!(!after.body.contains("FOO"), "{}", after.body);
    assert!(!after.body.contains("/no/such"), "{}", after.body);
    assert!(after.body.contains("method=\"other\""), "{}", after.body);
}

/// A request with an invented method, to a missing path or a real one.
async fn send_odd(c: &mut Client, i: usize) -> Resp {
    let method = axum::http::Method::from_bytes(format!("FOO{i}X{}", i * 7919).as_bytes()).unwrap();
    let path = if i.is_multiple_of(2) {
        format!("/no/such/path/{i}")
    } else {
        "/login".to_string()
    };
    c.send(method, &path, None, vec![], &[]).await
}

/// The demo app again, with another web configuration.
async fn app_with(config: stadtmauer_web::WebConfig) -> TestApp {
    let app = spawn_app().await;
    let state = stadtmauer_web::AppState::new(app.store.clone(), config);
    TestApp {
        router: stadtmauer_web::router(state),
        store: app.store,
        _db: app._db,
    }
}

/// Logs in through the form with extra request headers.
async fn login_with(c: &mut Client, email: &str, password: &str, extra: &[(&str, &str)]) -> Resp {
    c.get("/login").await;
    let csrf = c.csrf.clone().unwrap_or_default();
    let body = serde_urlencoded::to_string([
        ("email", email),
        ("password", password),
        ("next", "/dashboard"),
        ("csrf", csrf.as_str()),
    ])
    .unwrap();
    c.send(
        axum::http::Method::POST,
        "/login",
        Some("application/x-www-form-urlencoded"),
        body.into_bytes(),
        extra,
    )
    .await
}

/// Behind a trusted proxy the client address is the rightmost `X-Forwarded-For` entry (the one
/// the proxy appended): a client cannot escape the address throttle by inventing entries.
#[tokio::test]
async fn forwarded_for_uses_the_entry_the_proxy_appended() {
    let app = app_with(stadtmauer_web::WebConfig {
        trust_forwarded_for: true,
        address_failures: 3,
        account_failures: 1000,
        ..Default::default()
    })
    .await;
    let mut attacker = app.client();
    for i in 0..3 {
        let xff = format!("10.9.8.{i}, 203.0.113.7");
        let r = login_with(
            &mut attacker,
            COORD_A,
            "falsch",
            &[("x-forwarded-for", &xff)],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    // The address the proxy saw is locked, whatever the client puts in front of it …
    let r = login_with(
        &mut attacker,
        COORD_A,
        PASSWORD,
        &[("x-forwarded-for", "198.51.100.99, 203.0.113.7")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.location());
    // … also when the proxy added a header line of its own.
    let mut two_lines = app.client();
    let r = login_with(
        &mut two_lines,
        COORD_A,
        PASSWORD,
        &[
            ("x-forwarded-for", "198.51.100.98"),
            ("x-forwarded-for", "203.0.113.7"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Another client, behind the same proxy, whose forged first entry names the locked address,
    // is not affected.
    let mut other = app.client();
    let r = login_with(
        &mut other,
        COORD_A,
        PASSWORD,
        &[("x-forwarded-for", "203.0.113.7, 203.0.113.8")],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

fn hsts(r: &Resp) -> Option<&str> {
    r.headers
        .get("strict-transport-security")
        .and_then(|v| v.to_str().ok())
}

/// HSTS when the request came over https: the public URL is https, or a trusted proxy says so.
#[tokio::test]
async fn hsts_is_sent_behind_https_only() {
    // Plain http, and an untrusted X-Forwarded-Proto: no HSTS.
    let app = spawn_app().await;
    let mut c = app.client();
    assert_eq!(hsts(&c.get("/login").await), None);
    let r = c
        .send(
            axum::http::Method::GET,
            "/login",
            None,
            vec![],
            &[("x-forwarded-proto", "https")],
        )
        .await;
    assert_eq!(hsts(&r), None);

    // The public URL is https (secure cookies): on every response.
    let app = app_with(stadtmauer_web::WebConfig {
        secure_cookies: true,
        ..Default::default()
    })
    .await;
    let mut c = app.client();
    assert_eq!(hsts(&c.get("/login").await), Some("max-age=31536000"));
    assert_eq!(
        hsts(&c.get("/no/such/page").await),
        Some("max-age=31536000")
    );

    // A trusted proxy that terminated TLS says so; one that did not, does not.
    let app = app_with(stadtmauer_web::WebConfig {
        trust_forwarded_for: true,
        ..Default::default()
    })
    .await;
    let mut c = app.client();
    let get = |proto: &'static str| {
        let mut c = app.client();
        async move {
            c.send(
                axum::http::Method::GET,
                "/login",
                None,
                vec![],
                &[("x-forwarded-proto", proto)],
            )
            .await
        }
    };
    assert_eq!(hsts(&get("https").await), Some("max-age=31536000"));
    assert_eq!(hsts(&get("http").await), None);
    assert_eq!(hsts(&c.get("/login").await), None);
}

/// A state-changing request whose `Origin` is another site is refused before it is read, even
/// with a valid token; the same request from the installation's own origin goes through.
#[tokio::test]
async fn requests_from_another_origin_are_refused() {
    let app = spawn_app().await;
    let mut c = app.session_for(COORD_A).await;
    let r = c.get("/dashboard").await;
    assert_eq!(r.status, StatusCode::OK);
    let token = c.csrf.clone().unwrap();
    let body = serde_urlencoded::to_string([("csrf", token.as_str())])
        .unwrap()
        .into_bytes();
    for headers in [
        &[("origin", "https://evil.example")][..],
        &[("origin", "http://stadtmauer.test.evil.example")],
        &[("origin", "http://stadtmauer.test:8081")],
        &[("origin", "not a url")],
        &[("sec-fetch-site", "cross-site")],
        &[("sec-fetch-site", "same-site"), ("origin", "null")],
        // A browser's word counts over an Origin that looks right.
        &[
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://stadtmauer.test"),
        ],
    ] {
        let mut all = vec![("host", "stadtmauer.test")];
        all.extend_from_slice(headers);
        let r = c
            .send(
                axum::http::Method::POST,
                "/logout",
                Some("application/x-www-form-urlencoded"),
                body.clone(),
                &all,
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{headers:?}");
        // Still logged in: the request changed nothing.
        assert_eq!(
            c.get("/dashboard").await.status,
            StatusCode::OK,
            "{headers:?}"
        );
    }
    let token = c.csrf.clone().unwrap();
    let body = serde_urlencoded::to_string([("csrf", token.as_str())])
        .unwrap()
        .into_bytes();
    let r = c
        .send(
            axum::http::Method::POST,
            "/logout",
            Some("application/x-www-form-urlencoded"),
            body,
            &[
                ("host", "Stadtmauer.Test"),
                ("origin", "http://stadtmauer.test"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

/// The API tokens of a user as the store lists them.
async fn tokens_of(app: &TestApp, email: &str) -> Vec<stadtmauer_store::sessions::TokenInfo> {
    let scope = app.scope_of(email).await;
    app.store.tokens(&scope).await.unwrap()
}

/// Whether a bearer token opens the API.
async fn token_works(app: &TestApp, token: &str) -> bool {
    let mut c = app.client();
    c.bearer = Some(token.to_string());
    let status = c.get("/api/v1/me").await.status;
    assert!(
        matches!(status, StatusCode::OK | StatusCode::UNAUTHORIZED),
        "{status}"
    );
    status == StatusCode::OK
}

/// A token made on the account page lives 90 days unless the user chooses otherwise, at most a
/// year; an expired token is refused and listed as expired; tokens die when the password is
/// changed or reset and when the account is disabled (and stay dead when it is enabled again).
#[tokio::test]
async fn api_tokens_expire_and_die_with_the_password() {
    let app = spawn_app().await;
    let mut c = app.session_for(COORD_A).await;
    c.get("/account").await;
    let r = c
        .post(
            "/account/tokens",
            &[("name", "Skript"), ("current_password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let plain = r
        .body
        .split("<code id=\"secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    assert!(token_works(&app, &plain).await);
    let now = stadtmauer_core::now();
    let t = &tokens_of(&app, COORD_A).await[0];
    let exp = t.expires_at.expect("every token expires");
    assert!((now + 90 * 86_400 - 60..=now + 90 * 86_400 + 60).contains(&exp));

    // More than a year is refused with a field error, by number of days or by date.
    let next_year = now + 400 * 86_400;
    let too_late = {
        let (y, m, d) = civil(next_year);
        format!("{y:04}-{m:02}-{d:02}")
    };
    for fields in [
        vec![("expires_in_days", "366")],
        vec![("expires_on", too_late.as_str())],
    ] {
        c.get("/account").await;
        let mut all = vec![("name", "Zu lang"), ("current_password", PASSWORD)];
        all.extend(fields.iter().copied());
        let r = c.post("/account/tokens", &all).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        assert!(r.body.contains("höchstens ein Jahr"), "{fields:?}");
        assert!(r.body.contains("aria-invalid=\"true\""), "{fields:?}");
    }
    let r = c
        .post(
            "/account/tokens",
            &[
                ("name", "Woche"),
                ("current_password", PASSWORD),
                ("expires_in_days", "7"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(tokens_of(&app, COORD_A).await.len(), 2);

    // An expired token is refused and shown as expired.
    let scope = app.scope_of(COORD_A).await;
    let (_, short) = app
        .store
        .create_token(
            &scope,
            "Gleich vorbei",
            true,
            Some(stadtmauer_core::now() + 1),
        )
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert!(!token_works(&app, &short).await);
    let page = c.get("/account").await;
    assert!(page.body.contains("abgelaufen"), "{}", page.body);

    // The own password change kills every token.
    let r = c
        .post(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "ein ganz neues Passwort für Dirk"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(!token_works(&app, &plain).await);
    assert!(tokens_of(&app, COORD_A)
        .await
        .iter()
        .all(|t| t.revoked_at.is_some()));

    // A manager's reset, and disabling the account, kill them too.
    let b = app.user_id(COORD_B).await;
    let mut office = app.session_for(OFFICE).await;
    let plain = app.token_for(COORD_B, false).await;
    office.get(&format!("/users/{b}")).await;
    let r = office.post(&format!("/users/{b}/password"), &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(!token_works(&app, &plain).await);
    let plain = app.token_for(COORD_B, false).await;
    assert!(token_works(&app, &plain).await);
    for disabled in ["1", "0"] {
        office.get(&format!("/users/{b}")).await;
        let r = office
            .post(&format!("/users/{b}/status"), &[("disabled", disabled)])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    assert!(!token_works(&app, &plain).await);
}

/// Year, month, day (UTC) of an instant.
fn civil(t: i64) -> (i64, i64, i64) {
    let z = t.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The secret shown on the TOTP enrolment page.
fn enrolment_secret(body: &str) -> String {
    body.split("<code>")
        .nth(1)
        .unwrap()
        .split("</code>")
        .next()
        .unwrap()
        .to_string()
}

/// Changing the own password, creating an API token and removing the second factor need the
/// current password (or, with a second factor, a current code): without it the form comes back
/// with 422 and a field error, and nothing changed.
#[tokio::test]
async fn security_changes_need_reauthentication() {
    // More failures below than the default throttle allows (that is the next test).
    let app = app_with(stadtmauer_web::WebConfig {
        account_failures: 100,
        ..Default::default()
    })
    .await;
    let mut c = app.session_for(COORD_A).await;
    let hash_before = app
        .store
        .login_account(COORD_A)
        .await
        .unwrap()
        .unwrap()
        .password_hash;
    for current in ["", "falsches-passwort"] {
        c.get("/account").await;
        let r = c
            .post(
                "/account/password",
                &[
                    ("current_password", current),
                    ("new_password", "ein ganz neues Passwort für Dirk"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{current:?}");
        assert!(r.body.contains("current_password-err"), "{current:?}");
        let r = c
            .post(
                "/account/tokens",
                &[("name", "Skript"), ("current_password", current)],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{current:?}");
        assert!(r.body.contains("token_current_password-err"), "{current:?}");
    }
    let after = app.store.login_account(COORD_A).await.unwrap().unwrap();
    assert_eq!(after.password_hash, hash_before, "password unchanged");
    assert!(tokens_of(&app, COORD_A).await.is_empty(), "no token made");

    // With a second factor: removing it needs the password or a current code.
    let page = c.get("/account/totp").await;
    let secret = enrolment_secret(&page.body);
    let now = stadtmauer_core::now() as u64;
    let code = totp::code_at(&secret, now).unwrap();
    let r = c.post("/account/totp", &[("code", &code)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    for fields in [
        vec![],
        vec![("current_password", "falsch")],
        // The enrolment's code cannot be used again.
        vec![("current_code", code.as_str())],
    ] {
        c.get("/account").await;
        let r = c.post("/account/totp/disable", &fields).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        assert!(r.body.contains("totp_current_password-err"), "{fields:?}");
        let a = app.store.login_account(COORD_A).await.unwrap().unwrap();
        assert!(a.totp_secret.is_some(), "still enabled after {fields:?}");
    }
    // A current code instead of the password makes a token.
    let next = totp::code_at(&secret, now + 30).unwrap();
    c.get("/account").await;
    let r = c
        .post(
            "/account/tokens",
            &[("name", "Mit Code"), ("current_code", &next)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    c.get("/account").await;
    let r = c
        .post("/account/totp/disable", &[("current_password", PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let a = app.store.login_account(COORD_A).await.unwrap().unwrap();
    assert!(a.totp_secret.is_none());
}

/// Failed confirmations count toward the login throttle: a stolen session cannot be used to
/// guess the password, and after the limit even the right one is refused for a while.
#[tokio::test]
async fn failed_reauthentication_counts_toward_the_login_throttle() {
    let app = app_with(stadtmauer_web::WebConfig {
        account_failures: 3,
        ..Default::default()
    })
    .await;
    let mut c = app.session_for(COORD_A).await;
    for _ in 0..3 {
        c.get("/account").await;
        let r = c
            .post(
                "/account/tokens",
                &[("name", "x"), ("current_password", "rate")],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    c.get("/account").await;
    let r = c
        .post(
            "/account/tokens",
            &[("name", "x"), ("current_password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("gesperrt"), "{}", r.body);
    assert!(tokens_of(&app, COORD_A).await.is_empty());
    let r = app.client().login(COORD_A, PASSWORD).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "the login is locked too"
    );
}

/// A new password has at least 12 characters and is not a common or breached one (compared
/// case-insensitively); generated passwords always pass.
#[tokio::test]
async fn new_passwords_follow_the_policy() {
    let app = spawn_app().await;
    let mut c = app.session_for(COORD_A).await;
    for (bad, text) in [
        ("kurz", "Mindestens 12 Zeichen"),
        ("elf-zeichen", "Mindestens 12 Zeichen"),
        ("Qwerty123456", "häufigsten oder bereits geleakten"),
        ("1QAZ2WSX3EDC", "häufigsten oder bereits geleakten"),
        ("dirk.hollmann-passwort", "E-Mail-Adresse"),
    ] {
        c.get("/account").await;
        let r = c
            .post(
                "/account/password",
                &[("current_password", PASSWORD), ("new_password", bad)],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(r.body.contains("new_password-err"), "{bad}");
        assert!(r.body.contains(text), "{bad}: {}", r.body);
    }
    assert_eq!(
        app.client().login(COORD_A, PASSWORD).await.status,
        StatusCode::SEE_OTHER,
        "the password is unchanged"
    );
    c.get("/account").await;
    let r = c
        .post(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "Murnewiesen im Herbstnebel"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        app.client()
            .login(COORD_A, "Murnewiesen im Herbstnebel")
            .await
            .status,
        StatusCode::SEE_OTHER
    );

    // The passwords the web hands out pass the same rule.
    let a = app.org_id(TOWN_A).await;
    let mut office = app.session_for(OFFICE).await;
    office.get("/users/new").await;
    let r = office
        .post(
            "/users",
            &[
                ("display_name", "Neu"),
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
        .split('<')
        .next()
        .unwrap();
    assert_eq!(
        stadtmauer_core::credentials::check_new_password(pw, "neu@falkenhorst.example"),
        Ok(())
    );
}

/// The CSRF cookie of the login form carries the installation's signature: a cookie someone
/// planted with a token of their choosing (or a real one with another token or signature) is
/// refused with 403; the cookie the form handed out works.
#[tokio::test]
async fn forged_pre_login_csrf_cookie_is_refused() {
    let app = spawn_app().await;
    let chosen = "A".repeat(32);
    let mut c = app.client();
    c.cookies.insert("sm_pre".into(), chosen.clone());
    let r = c
        .post(
            "/login",
            &[
                ("email", COORD_A),
                ("password", PASSWORD),
                ("csrf", &chosen),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    let mut c = app.client();
    c.get("/login").await;
    let real = c.cookies["sm_pre"].clone();
    let (token, signature) = real.split_once('.').expect("token.signature");
    assert_eq!(c.csrf.as_deref(), Some(token), "the form carries the token");
    let other_token = format!("{}B", &token[..token.len() - 1]);
    let other_signature = format!("{}{}", &signature[..signature.len() - 1], {
        if signature.ends_with('0') {
            '1'
        } else {
            '0'
        }
    });
    for (cookie, form) in [
        (chosen.clone(), chosen.as_str()),
        (format!("{chosen}.{signature}"), chosen.as_str()),
        (format!("{other_token}.{signature}"), other_token.as_str()),
        (format!("{token}.{other_signature}"), token),
        (token.to_string(), token),
    ] {
        let mut f = app.client();
        f.cookies.insert("sm_pre".into(), cookie.clone());
        let r = f
            .post(
                "/login",
                &[("email", COORD_A), ("password", PASSWORD), ("csrf", form)],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{cookie}");
    }
    let r = c
        .post(
            "/login",
            &[
                ("email", COORD_A),
                ("password", PASSWORD),
                ("next", "/dashboard"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}
