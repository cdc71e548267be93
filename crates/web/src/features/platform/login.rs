//! Logging in and out: password, optional TOTP second factor, throttling per account and per
//! address, the same answer for unknown accounts and wrong passwords.

use crate::auth::{client_addr, set_cookie, CsrfToken, CurrentUser, PendingMfa, SESSION_COOKIE};
use crate::features::{fail, render, render_status};
use crate::i18n::Tr;
use crate::view::{Chrome, LoginPage, TotpLoginPage};
use crate::AppState;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use stadtmauer_core::credentials::{totp, verify_password};
use stadtmauer_store::sessions::{account_key, address_key};
use std::net::SocketAddr;

#[derive(serde::Deserialize, Default)]
pub struct LoginQuery {
    next: Option<String>,
}

/// Only local paths are followed after login (no open redirect): a single leading `/` (not `//`
/// or `/\`, which browsers take for another host), printable ASCII only (no whitespace, no
/// control characters, which browsers strip or which cannot be a header), no backslash, and a
/// valid path and query. Anything else leads to the dashboard.
fn safe_next(next: Option<&str>) -> String {
    const DEFAULT: &str = "/dashboard";
    let Some(n) = next else {
        return DEFAULT.to_string();
    };
    let local = n.len() <= 2048
        && n.starts_with('/')
        && !n.starts_with("//")
        && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
        && n.parse::<axum::http::uri::PathAndQuery>().is_ok();
    if local {
        n.to_string()
    } else {
        DEFAULT.to_string()
    }
}

pub async fn form(
    tr: Tr,
    csrf: CsrfToken,
    me: Option<CurrentUser>,
    Query(q): Query<LoginQuery>,
) -> Response {
    if me.is_some() {
        return Redirect::to("/dashboard").into_response();
    }
    let mut c = Chrome::anonymous(tr, &csrf.0);
    c.title = tr.s("login.title").to_string();
    render(LoginPage {
        c,
        email: String::new(),
        next: safe_next(q.next.as_deref()),
        failed: false,
    })
}

#[derive(serde::Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

pub async fn submit(
    State(state): State<AppState>,
    tr: Tr,
    csrf: CsrfToken,
    headers: HeaderMap,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    Form(f): Form<LoginForm>,
) -> Response {
    let cfg = &state.config;
    let acct_key = account_key(&f.email);
    let addr_key = address_key(&client_addr(
        &state,
        &headers,
        connect.as_ref().map(|c| &c.0),
    ));
    let refuse = || {
        let mut c = Chrome::anonymous(tr, &csrf.0);
        c.title = tr.s("login.title").to_string();
        render_status(
            StatusCode::UNAUTHORIZED,
            LoginPage {
                c,
                email: f.email.chars().take(254).collect(),
                next: safe_next(f.next.as_deref()),
                failed: true,
            },
        )
    };
    let throttled = match state
        .store
        .throttled(&[acct_key.clone(), addr_key.clone()])
        .await
    {
        Ok(t) => t,
        Err(e) => return fail(tr, e),
    };
    let account = match state.store.login_account(&f.email).await {
        Ok(a) => a,
        Err(e) => return fail(tr, e),
    };
    // The hash is checked even when locked or unknown, so timing tells nothing.
    let password_ok = verify_password(
        &f.password,
        account.as_ref().map(|a| a.password_hash.as_str()),
    );
    let account = match account {
        Some(a) if password_ok && !a.disabled && !throttled => a,
        _ => {
            for (key, limit) in [
                (&acct_key, cfg.account_failures),
                (&addr_key, cfg.address_failures),
            ] {
                if let Err(e) = state
                    .store
                    .throttle_failure(key, limit, cfg.failure_window_secs, cfg.lock_secs)
                    .await
                {
                    return fail(tr, e);
                }
            }
            tracing::info!(throttled, "login refused");
            return refuse();
        }
    };
    if let Err(e) = state.store.throttle_reset(&acct_key).await {
        return fail(tr, e);
    }
    let pending = account.totp_secret.is_some();
    let (sid, _) = match state
        .store
        .create_session(
            account.id,
            pending,
            if pending {
                300
            } else {
                cfg.session_idle_secs.min(cfg.session_max_secs)
            },
        )
        .await
    {
        Ok(s) => s,
        Err(e) => return fail(tr, e),
    };
    if !pending {
        if let Ok(Some((_, scope))) = state.store.scope_for(account.id).await {
            if let Err(e) = state.store.record_login(&scope, false).await {
                return fail(tr, e);
            }
        }
    }
    let target = if pending {
        "/login/totp".to_string()
    } else {
        safe_next(f.next.as_deref())
    };
    let mut resp = Redirect::to(&target).into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, &sid, None, cfg.secure_cookies),
    );
    resp
}

pub async fn totp_form(tr: Tr, pending: Option<PendingMfa>) -> Response {
    let Some(PendingMfa(s)) = pending else {
        return Redirect::to("/login").into_response();
    };
    let mut c = Chrome::anonymous(tr, &s.csrf_token);
    c.title = tr.s("totp.login_title").to_string();
    render(TotpLoginPage { c, failed: false })
}

#[derive(serde::Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

pub async fn totp_submit(
    State(state): State<AppState>,
    tr: Tr,
    pending: Option<PendingMfa>,
    Form(f): Form<CodeForm>,
) -> Response {
    let Some(PendingMfa(s)) = pending else {
        return Redirect::to("/login").into_response();
    };
    let cfg = &state.config;
    let key = format!("totp:{}", s.user_id);
    let throttled = state
        .store
        .throttled(std::slice::from_ref(&key))
        .await
        .unwrap_or(true);
    let account = match state.store.scope_for(s.user_id).await {
        Ok(Some((u, _))) => state.store.login_account(&u.email).await.ok().flatten(),
        _ => None,
    };
    let unix = stadtmauer_core::now().max(0) as u64;
    let step = account.as_ref().and_then(|a| {
        a.totp_secret
            .as_deref()
            .and_then(|secret| totp::verify(secret, &f.code, unix, a.totp_last_step))
    });
    let accepted = match (step, throttled) {
        (Some(step), false) => state
            .store
            .use_totp_step(s.user_id, step)
            .await
            .unwrap_or(false),
        _ => false,
    };
    if !accepted {
        if let Err(e) = state
            .store
            .throttle_failure(
                &key,
                cfg.account_failures,
                cfg.failure_window_secs,
                cfg.lock_secs,
            )
            .await
        {
            return fail(tr, e);
        }
        let mut c = Chrome::anonymous(tr, &s.csrf_token);
        c.title = tr.s("totp.login_title").to_string();
        return render_status(StatusCode::UNAUTHORIZED, TotpLoginPage { c, failed: true });
    }
    let _ = state.store.throttle_reset(&key).await;
    let (sid, _) = match state
        .store
        .complete_mfa(
            &s.id_hash,
            s.user_id,
            cfg.session_idle_secs.min(cfg.session_max_secs),
        )
        .await
    {
        Ok(x) => x,
        Err(e) => return fail(tr, e),
    };
    if let Ok(Some((_, scope))) = state.store.scope_for(s.user_id).await {
        if let Err(e) = state.store.record_login(&scope, true).await {
            return fail(tr, e);
        }
    }
    let mut resp = Redirect::to("/dashboard").into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, &sid, None, cfg.secure_cookies),
    );
    resp
}

pub async fn logout(
    State(state): State<AppState>,
    me: Option<CurrentUser>,
    pending: Option<PendingMfa>,
) -> Response {
    let hash = me
        .map(|m| m.session.id_hash)
        .or(pending.map(|p| p.0.id_hash));
    if let Some(h) = hash {
        if let Err(e) = state.store.delete_session(&h).await {
            tracing::error!(error = %e, "logout failed");
        }
    }
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", Some(0), state.config.secure_cookies),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_a_local_path_or_the_dashboard() {
        for ok in [
            "/dashboard",
            "/organisations/3?tab=a&b=c",
            "/audit?before=12",
            "/a%20b",
        ] {
            assert_eq!(safe_next(Some(ok)), ok);
        }
        for evil in [
            "/\t/evil.example/",
            "/\n/evil.example/",
            "/\r\nSet-Cookie: x=y",
            "//evil.example/",
            "/\\evil.example/",
            "/\\/evil.example/",
            "https://evil.example/",
            "http:/evil.example",
            "evil.example",
            "/ /evil.example",
            "/\u{0}x",
            "/\u{7f}x",
            "/ü",
            "\t/evil",
            "",
        ] {
            assert_eq!(safe_next(Some(evil)), "/dashboard", "{evil:?}");
        }
        assert_eq!(safe_next(None), "/dashboard");
        assert_eq!(
            safe_next(Some(&format!("/{}", "a".repeat(5000)))),
            "/dashboard"
        );
    }
}
