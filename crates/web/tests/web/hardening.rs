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
    let path = if i % 2 == 0 {
        format!("/no/such/path/{i}")
    } else {
        "/login".to_string()
    };
    c.send(method, &path, None, vec![], &[]).await
}
