//! Who is asking: sessions for pages, bearer tokens for the API, the CSRF check, and the security
//! headers every response carries. The extractors here are the only way a handler gets a `Scope`.

use crate::error::{ApiError, PageError};
use crate::i18n::{Lang, Tr};
use crate::AppState;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use stadtmauer_core::user::User;
use stadtmauer_core::{DomainError, Scope};
use stadtmauer_store::sessions::SessionRecord;
use std::net::SocketAddr;

pub const SESSION_COOKIE: &str = "sm_session";
/// Double-submit token for forms shown before login (the login form itself), as
/// `token.signature`: signed with the installation's key, so that a value planted by someone who
/// can set cookies for this host (a sibling subdomain, plain http) is refused.
pub const PRE_SESSION_COOKIE: &str = "sm_pre";
/// Name of the installation key (`Store::server_key`) that signs the pre-session cookie.
const PRE_SESSION_KEY: &str = "csrf";
pub const LANG_COOKIE: &str = "sm_lang";

/// A logged-in user with the scope resolved for this request.
#[derive(Clone)]
pub struct CurrentUser {
    pub user: User,
    pub scope: Scope,
    pub session: SessionRecord,
    /// The audit sequence number read with the session: cached views are valid for it.
    pub audit_seq: i64,
}

/// A session that passed the password and still needs the second factor.
#[derive(Clone)]
pub struct PendingMfa(pub SessionRecord);

/// The CSRF token to put into forms of this response.
#[derive(Clone)]
pub struct CsrfToken(pub String);

/// Marks a request whose pre-session cookie carried a valid signature: only then does its token
/// count before login.
#[derive(Clone)]
struct SignedPreSession;

/// The token of a pre-session cookie value, if its signature is ours.
fn verified_pre_token<'a>(key: &[u8], cookie: &'a str) -> Option<&'a str> {
    let (token, signature) = cookie.split_once('.')?;
    let shaped = token.len() >= 32
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    (shaped && stadtmauer_core::credentials::verify_signature(key, token, signature))
        .then_some(token)
}

pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub fn set_cookie(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// The client address for throttling. Behind a trusted proxy (`trust_forwarded_for`) it is the
/// rightmost `X-Forwarded-For` entry: the one our proxy appended. Entries to its left come from
/// the client and can say anything. A value that is no IP address is not taken.
pub fn client_addr(
    state: &AppState,
    headers: &HeaderMap,
    connect: Option<&ConnectInfo<SocketAddr>>,
) -> String {
    if state.config.trust_forwarded_for {
        if let Some(ip) = last_forwarded(headers, "x-forwarded-for")
            .and_then(|v| v.parse::<std::net::IpAddr>().ok())
        {
            return ip.to_string();
        }
    }
    connect
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// The rightmost entry of a comma-separated forwarding header (over all its header lines): the
/// one the nearest proxy wrote.
fn last_forwarded<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(name)
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Did the request reach the user over https? Yes when the public URL is https (then cookies are
/// `Secure` too), or when a trusted proxy says so in `X-Forwarded-Proto`.
fn over_https(config: &crate::WebConfig, headers: &HeaderMap) -> bool {
    config.secure_cookies
        || (config.trust_forwarded_for
            && last_forwarded(headers, "x-forwarded-proto")
                .is_some_and(|p| p.eq_ignore_ascii_case("https")))
}

/// Loads the session (if any), resolves the user's scope and language, and hands them to the
/// handlers through request extensions.
pub async fn load_session(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let headers = req.headers().clone();
    let mut lang = cookie_value(&headers, LANG_COOKIE)
        .and_then(Lang::parse)
        .unwrap_or_else(|| {
            Lang::from_accept_language(
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok()),
            )
        });
    let mut pre_token = None;
    if let Some(id) = cookie_value(&headers, SESSION_COOKIE) {
        match state.store.session_scope(id).await {
            Ok(Some(stadtmauer_store::sessions::SessionScope { session: s, .. }))
                if s.mfa_pending =>
            {
                req.extensions_mut().insert(CsrfToken(s.csrf_token.clone()));
                req.extensions_mut().insert(PendingMfa(s));
            }
            Ok(Some(stadtmauer_store::sessions::SessionScope {
                session: s,
                user: Some((user, scope)),
                audit_seq,
            })) => {
                if stadtmauer_core::now() - s.last_seen_at > 60 {
                    if let Err(e) = state
                        .store
                        .touch_session(
                            &s.id_hash,
                            state.config.session_idle_secs,
                            state.config.session_max_secs,
                        )
                        .await
                    {
                        tracing::warn!(error = %e, "could not extend session");
                    }
                }
                lang = Lang::parse(&user.language).unwrap_or(lang);
                req.extensions_mut().insert(CsrfToken(s.csrf_token.clone()));
                req.extensions_mut().insert(CurrentUser {
                    user,
                    scope,
                    session: s,
                    audit_seq,
                });
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "session lookup failed"),
        }
    }
    if req.extensions().get::<CsrfToken>().is_none() {
        // Without the key (database unreachable) no pre-session token verifies, so forms before
        // login are refused rather than unprotected.
        let key = match state.store.server_key(PRE_SESSION_KEY).await {
            Ok(k) => Some(k),
            Err(e) => {
                tracing::error!(error = %e, "pre-session key unavailable");
                None
            }
        };
        let verified = key.as_ref().and_then(|k| {
            cookie_value(&headers, PRE_SESSION_COOKIE).and_then(|c| verified_pre_token(k, c))
        });
        let token = match verified {
            Some(t) => {
                req.extensions_mut().insert(SignedPreSession);
                t.to_string()
            }
            None => {
                let t = stadtmauer_core::credentials::random_secret(24);
                if let Some(k) = &key {
                    let signature = stadtmauer_core::credentials::sign(k, &t);
                    pre_token = Some(format!("{t}.{signature}"));
                }
                t
            }
        };
        req.extensions_mut().insert(CsrfToken(token));
    }
    req.extensions_mut().insert(Tr { lang });
    let mut resp = next.run(req).await;
    // Outer layers (the explanation of a refused body) answer in the same language.
    resp.extensions_mut().insert(Tr { lang });
    if let Some(t) = pre_token {
        resp.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(PRE_SESSION_COOKIE, &t, None, state.config.secure_cookies),
        );
    }
    resp
}

/// Rejects every state-changing page request that does not carry the CSRF token of its session
/// (or, before login, of the pre-session cookie). One place, so no form can forget it.
/// Whether a request may come from this site's own pages: `Sec-Fetch-Site` (sent by every
/// current browser) must be `same-origin` (or `none`, typed by the user); without it, an `Origin`
/// other than `null` must name this installation. Clients that send neither (scripts with a
/// token) pass on to the token check.
fn same_site_request(headers: &axum::http::HeaderMap, trust_forwarded: bool) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    match headers.get(header::ORIGIN) {
        Some(o) if o.as_bytes() != b"null" => same_origin(o, headers, trust_forwarded),
        _ => true,
    }
}

/// Whether an `Origin` header names this installation: its host and port as the client reached
/// it (`Host`, or behind a trusted proxy the rightmost `X-Forwarded-Host`). `null` (a sandboxed
/// page, a redirect across sites) never does.
fn same_origin(
    origin: &axum::http::HeaderValue,
    headers: &axum::http::HeaderMap,
    trust_forwarded: bool,
) -> bool {
    let Some(authority) = origin
        .to_str()
        .ok()
        .and_then(|o| o.parse::<axum::http::Uri>().ok())
        .and_then(|u| u.authority().map(|a| a.as_str().to_ascii_lowercase()))
    else {
        return false;
    };
    let forwarded = trust_forwarded
        .then(|| headers.get_all("x-forwarded-host").iter().next_back())
        .flatten();
    forwarded
        .into_iter()
        .chain(headers.get(header::HOST))
        .filter_map(|h| h.to_str().ok())
        .map(|h| {
            h.rsplit(',')
                .next()
                .unwrap_or(h)
                .trim()
                .to_ascii_lowercase()
        })
        .any(|h| h == authority)
}

pub async fn csrf_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    // A browser says where a state-changing request comes from; one from another site's page is
    // refused before its body is read, even should it carry a valid token. `Sec-Fetch-Site`
    // first: with our `Referrer-Policy: no-referrer` browsers send `Origin: null` for forms.
    if !same_site_request(req.headers(), state.config.trust_forwarded_for) {
        tracing::warn!(path = %req.uri().path(), "request from another origin refused");
        let tr = req
            .extensions()
            .get::<Tr>()
            .copied()
            .unwrap_or(Tr { lang: Lang::De });
        return PageError::status(tr, StatusCode::FORBIDDEN).into_response();
    }
    let expected = req
        .extensions()
        .get::<CsrfToken>()
        .map(|t| t.0.clone())
        .filter(|_| {
            // A pre-session token only counts when the browser sent it back as a cookie that
            // carries our signature.
            req.extensions().get::<CurrentUser>().is_some()
                || req.extensions().get::<PendingMfa>().is_some()
                || req.extensions().get::<SignedPreSession>().is_some()
        });
    let tr = req
        .extensions()
        .get::<Tr>()
        .copied()
        .unwrap_or(Tr { lang: Lang::De });
    let header_token = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let check = |given: Option<&str>| match (&expected, given) {
        (Some(e), Some(g)) => constant_time_eq(e.as_bytes(), g.as_bytes()),
        _ => false,
    };
    let refuse = |path: &str| {
        tracing::warn!(path = %path, "request without valid CSRF token refused");
        PageError::status(tr, StatusCode::FORBIDDEN).into_response()
    };
    // File uploads (multipart) carry the token in the action URL (`?csrf=`) or the header and
    // pass through unread, so the upload route's own body limit and parser apply. Query strings
    // are never logged and the Referrer-Policy keeps them on this site.
    if content_type.starts_with("multipart/form-data") {
        let query_token = req.uri().query().and_then(|q| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(q)
                .ok()
                .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "csrf").map(|(_, v)| v))
        });
        if !check(header_token.or(query_token).as_deref()) {
            return refuse(req.uri().path());
        }
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, state.config.max_body_bytes).await {
        Ok(b) => b,
        Err(e) => {
            let me = parts.extensions.get::<CurrentUser>();
            return if crate::body_limit::is_length_limit(&e) {
                crate::body_limit::too_large_page(tr, me, state.config.max_body_bytes)
            } else {
                tracing::info!(path = %parts.uri.path(), error = %e, "request body incomplete");
                crate::body_limit::incomplete_page(tr, me)
            };
        }
    };
    let form_token = if content_type.starts_with("application/x-www-form-urlencoded") {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
            .ok()
            .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "csrf").map(|(_, v)| v))
    } else {
        None
    };
    if !check(header_token.or(form_token).as_deref()) {
        return refuse(parts.uri.path());
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Headers on every response: a strict Content-Security-Policy (only our own scripts and styles,
/// nothing inline, no other host), no framing, no referrer, no caching of sensitive pages, and
/// HSTS when the request came over https.
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let is_asset = req.uri().path().starts_with("/assets/");
    let https = over_https(&state.config, req.headers());
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    if !is_asset {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        if let Some(u) = parts.extensions.get::<CurrentUser>() {
            return Ok(u.clone());
        }
        if parts.extensions.get::<PendingMfa>().is_some() {
            return Err(Redirect::to("/login/totp").into_response());
        }
        if parts.method == Method::GET {
            let next = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let target = format!("/login?next={}", urlencode(next));
            return Err(Redirect::to(&target).into_response());
        }
        let tr = parts
            .extensions
            .get::<Tr>()
            .copied()
            .unwrap_or(Tr { lang: Lang::De });
        Err(PageError::status(tr, StatusCode::UNAUTHORIZED).into_response())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Tr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Tr>()
            .copied()
            .unwrap_or(Tr { lang: Lang::De }))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<CsrfToken>()
            .cloned()
            .unwrap_or(CsrfToken(String::new())))
    }
}

pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An API caller authenticated by a personal token (`Authorization: Bearer smt_…`). Session
/// cookies are not accepted by the API, so it needs no CSRF protection.
pub struct ApiUser {
    pub scope: Scope,
    /// The audit sequence number read with the token (for cached views).
    pub audit_seq: i64,
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(ApiError::Unauthenticated)?;
        let (_, scope, audit_seq) = state
            .store
            .token_scope(token)
            .await
            .map_err(ApiError::Domain)?
            .ok_or(ApiError::Unauthenticated)?;
        Ok(ApiUser { scope, audit_seq })
    }
}

/// Refuses writes through a read-only token before any work is done.
pub fn require_writable(scope: &Scope) -> Result<(), DomainError> {
    if scope.read_only {
        Err(DomainError::Forbidden)
    } else {
        Ok(())
    }
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for CurrentUser {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<CurrentUser>().cloned())
    }
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for PendingMfa {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<PendingMfa>().cloned())
    }
}
