//! `spawn_app()`: a fresh database with the demo, the router, and a cookie-keeping client.

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use stadtmauer_core::credentials::hash_password;
use stadtmauer_core::{OrgId, Scope, UserId};
use stadtmauer_store::testkit::{fresh_store, TestDb};
use stadtmauer_store::Store;
use std::collections::HashMap;
use std::sync::OnceLock;
use tower::ServiceExt;

pub const PASSWORD: &str = "demo-passwort-fuer-tests";
pub const OFFICE: &str = "katrin.vogt@isb-musterau.example";
/// The demo's installation administrator.
pub const ADMIN: &str = "admin@stadtmauer.example";
pub const COORD_A: &str = "dirk.hollmann@falkenhorst.example";
pub const TOWN_A: &str = "Stadt Falkenhorst an der Murne";
pub const COORD_B: &str = "jana.schubert@kleinmurne.example";
pub const TOWN_B: &str = "Gemeinde Kleinmurne";

fn demo_hash() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| hash_password(PASSWORD).unwrap())
}

pub struct TestApp {
    pub router: Router,
    pub store: Store,
    pub _db: TestDb,
}

pub async fn spawn_app() -> TestApp {
    let (store, db) = fresh_store().await;
    stadtmauer_demo::load(&store, demo_hash(), |_| {})
        .await
        .unwrap();
    let state = stadtmauer_web::AppState::new(store.clone(), stadtmauer_web::WebConfig::default());
    TestApp {
        router: stadtmauer_web::router(state),
        store,
        _db: db,
    }
}

impl TestApp {
    pub fn client(&self) -> Client {
        Client {
            router: self.router.clone(),
            cookies: HashMap::new(),
            csrf: None,
            bearer: None,
        }
    }
    pub async fn org_id(&self, name: &str) -> OrgId {
        let sys = self.system().await;
        self.store
            .organisations(&sys)
            .await
            .unwrap()
            .into_iter()
            .find(|o| o.name == name)
            .unwrap()
            .id
    }
    pub async fn user_id(&self, email: &str) -> UserId {
        self.store.login_account(email).await.unwrap().unwrap().id
    }
    pub async fn system(&self) -> Scope {
        self.store.system_scope("test").await.unwrap()
    }
    pub async fn scope_of(&self, email: &str) -> Scope {
        let id = self.user_id(email).await;
        self.store.scope_for(id).await.unwrap().unwrap().1
    }
    /// A logged-in client without going through argon2 (fast), for walking many routes.
    pub async fn session_for(&self, email: &str) -> Client {
        let id = self.user_id(email).await;
        let (sid, csrf) = self.store.create_session(id, false, 3600).await.unwrap();
        let mut c = self.client();
        c.cookies.insert("sm_session".into(), sid);
        c.csrf = Some(csrf);
        c
    }
    pub async fn token_for(&self, email: &str, read_only: bool) -> String {
        let scope = self.scope_of(email).await;
        self.store
            .create_token(&scope, "test", read_only, None)
            .await
            .unwrap()
            .1
    }
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

pub struct Client {
    router: Router,
    pub cookies: HashMap<String, String>,
    pub csrf: Option<String>,
    pub bearer: Option<String>,
}

/// The value of the first hidden `csrf` input of a page.
pub fn csrf_of(html: &str) -> Option<String> {
    let i = html.find("name=\"csrf\" value=\"")?;
    let rest = &html[i + 19..];
    Some(rest[..rest.find('"')?].to_string())
}

impl Client {
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
        extra: &[(&str, &str)],
    ) -> Resp {
        let mut req = Request::builder().method(method).uri(path);
        if !self.cookies.is_empty() {
            let c: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req = req.header(header::COOKIE, c.join("; "));
        }
        if let Some(ct) = content_type {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        if let Some(t) = &self.bearer {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let resp = self
            .router
            .clone()
            .oneshot(req.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        for sc in headers.get_all(header::SET_COOKIE) {
            let s = sc.to_str().unwrap();
            let (kv, attrs) = s.split_once(';').unwrap_or((s, ""));
            let (k, v) = kv.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
        let bytes = axum::body::to_bytes(resp.into_body(), 16 * 1024 * 1024)
            .await
            .unwrap();
        let body = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(t) = csrf_of(&body).filter(|t| !t.is_empty()) {
            self.csrf = Some(t);
        }
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        self.send(Method::GET, path, None, vec![], &[]).await
    }

    /// Posts a form; the CSRF token of the last page is added unless the fields carry one.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let mut all: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if !fields.iter().any(|(k, _)| *k == "csrf") {
            if let Some(t) = &self.csrf {
                all.push(("csrf".into(), t.clone()));
            }
        }
        let body = serde_urlencoded::to_string(&all).unwrap().into_bytes();
        self.send(
            Method::POST,
            path,
            Some("application/x-www-form-urlencoded"),
            body,
            &[],
        )
        .await
    }

    pub async fn json(&mut self, method: Method, path: &str, body: &serde_json::Value) -> Resp {
        self.send(
            method,
            path,
            Some("application/json"),
            body.to_string().into_bytes(),
            &[],
        )
        .await
    }

    /// Logs in through the form, like a person.
    pub async fn login(&mut self, email: &str, password: &str) -> Resp {
        self.get("/login").await;
        let r = self
            .post(
                "/login",
                &[
                    ("email", email),
                    ("password", password),
                    ("next", "/dashboard"),
                ],
            )
            .await;
        if r.status == StatusCode::SEE_OTHER {
            self.get("/account").await;
        }
        r
    }
}
