//! Security and robustness findings of issue 14, one test (or more) per finding.

use crate::harness::*;
use axum::http::StatusCode;

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
