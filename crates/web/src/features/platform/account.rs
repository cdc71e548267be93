//! The user's own account: language, password, second factor, personal API tokens.

use crate::auth::{set_cookie, CurrentUser, LANG_COOKIE};
use crate::features::{done, fail, render, render_status, FlashQuery};
use crate::i18n::{Lang, Tr};
use crate::view::{AccountPage, Chrome, SecretShownPage, TotpEnrolPage};
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use stadtmauer_core::credentials::{
    check_new_password, hash_password, token_expiry, totp, verify_password,
};
use stadtmauer_core::validate::FieldErrors;
use stadtmauer_core::{DomainError, TokenId};
use stadtmauer_store::sessions::account_key;

async fn page(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    errors: FieldErrors,
    flash: Option<&str>,
) -> Result<AccountPage, DomainError> {
    let u = state.store.user(&me.scope, me.user.id).await?;
    let tokens = state.store.tokens(&me.scope).await?;
    Ok(AccountPage {
        c: Chrome::new(tr, me, tr.s("acct.title"), "account")
            .with_errors(errors)
            .with_flash(flash),
        user: u.user,
        memberships: u.memberships,
        tokens,
    })
}

pub async fn show(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Query(q): Query<FlashQuery>,
) -> Response {
    match page(&state, tr, &me, FieldErrors::default(), q.msg.as_deref()).await {
        Ok(p) => render(p),
        Err(e) => fail(tr, e),
    }
}

async fn invalid(state: &AppState, tr: Tr, me: &CurrentUser, errors: FieldErrors) -> Response {
    match page(state, tr, me, errors, None).await {
        Ok(p) => render_status(StatusCode::UNPROCESSABLE_ENTITY, p),
        Err(e) => fail(tr, e),
    }
}

#[derive(serde::Deserialize)]
pub struct LanguageForm {
    #[serde(default)]
    lang: String,
}

/// Switches the language: stored with the account when logged in, in a cookie always.
pub async fn language(
    State(state): State<AppState>,
    me: Option<CurrentUser>,
    headers: HeaderMap,
    Form(f): Form<LanguageForm>,
) -> Response {
    let lang = Lang::parse(&f.lang).unwrap_or(Lang::De);
    if let Some(me) = &me {
        if let Err(e) = state.store.set_language(&me.scope, lang.code()).await {
            return fail(Tr { lang }, e);
        }
    }
    // Back to the page the user came from, if it was one of ours.
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.find("://").map(|i| &r[i + 3..]))
        .and_then(|rest| rest.find('/').map(|i| rest[i..].to_string()))
        .filter(|p| p.starts_with('/') && !p.starts_with("//"))
        .unwrap_or_else(|| {
            if me.is_some() {
                "/dashboard".into()
            } else {
                "/login".into()
            }
        });
    let mut resp = Redirect::to(&back).into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            LANG_COOKIE,
            lang.code(),
            Some(365 * 86_400),
            state.config.secure_cookies,
        ),
    );
    resp
}

/// Proof that the person at the keyboard is the account's owner, asked before security-relevant
/// changes (a stolen or unattended session alone must not make them): the current password, or,
/// for accounts with a second factor, a current code instead.
#[derive(serde::Deserialize, Default)]
pub struct Reauth {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    current_code: String,
}

/// Checks a [`Reauth`]. Failures count toward the account's login throttle (the same key as the
/// login form), so a session cannot be used to guess the password; while the account is locked
/// nothing is accepted. `Ok(Err(key))` carries the i18n key of the field error.
async fn reauthenticate(
    state: &AppState,
    me: &CurrentUser,
    r: &Reauth,
) -> Result<Result<(), &'static str>, DomainError> {
    let cfg = &state.config;
    let key = account_key(&me.user.email);
    if state.store.throttled(std::slice::from_ref(&key)).await? {
        return Ok(Err("err.reauth_locked"));
    }
    let Some(account) = state.store.login_account(&me.user.email).await? else {
        return Err(DomainError::NotFound);
    };
    let mut ok = !r.current_password.is_empty()
        && verify_password(&r.current_password, Some(&account.password_hash));
    if !ok && !r.current_code.trim().is_empty() {
        if let Some(secret) = account.totp_secret.as_deref() {
            let unix = stadtmauer_core::now().max(0) as u64;
            if let Some(step) = totp::verify(secret, &r.current_code, unix, account.totp_last_step)
            {
                // Recorded like a login's code: it cannot be replayed for either.
                ok = state.store.use_totp_step(account.id, step).await?;
            }
        }
    }
    if ok {
        state.store.throttle_reset(&key).await?;
        return Ok(Ok(()));
    }
    state
        .store
        .throttle_failure(
            &key,
            cfg.account_failures,
            cfg.failure_window_secs,
            cfg.lock_secs,
        )
        .await?;
    tracing::info!(user = %me.user.id, "re-authentication refused");
    Ok(Err("err.reauth_failed"))
}

#[derive(serde::Deserialize)]
pub struct PasswordForm {
    #[serde(flatten)]
    reauth: Reauth,
    #[serde(default)]
    new_password: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Form(f): Form<PasswordForm>,
) -> Response {
    let mut errs = FieldErrors::default();
    match reauthenticate(&state, &me, &f.reauth).await {
        Ok(Ok(())) => {}
        Ok(Err(key)) => errs.add("current_password", key),
        Err(e) => return fail(tr, e),
    }
    if let Err(key) = check_new_password(&f.new_password, &me.user.email) {
        errs.add("new_password", key);
    }
    if !errs.is_empty() {
        return invalid(&state, tr, &me, errs).await;
    }
    let result = match hash_password(&f.new_password) {
        Ok(h) => {
            state
                .store
                .set_password(&me.scope, me.user.id, &h, Some(&me.session.id_hash))
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => done("/account", "msg.password_changed_tokens"),
        Err(e) => fail(tr, e),
    }
}

/// A QR code as inline SVG (no image request, no script).
fn qr_svg(text: &str) -> String {
    let Ok(qr) = qrcodegen::QrCode::encode_text(text, qrcodegen::QrCodeEcc::Medium) else {
        return String::new();
    };
    let border = 4;
    let size = qr.size() + border * 2;
    let mut path = String::new();
    for y in 0..qr.size() {
        for x in 0..qr.size() {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" width=\"220\" height=\"220\" shape-rendering=\"crispEdges\" aria-hidden=\"true\"><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    )
}

async fn enrol_page(state: &AppState, tr: Tr, me: &CurrentUser, failed: bool) -> Response {
    let secret = match state.store.totp_pending(&me.scope).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            let s = totp::new_secret();
            if let Err(e) = state.store.totp_begin(&me.scope, &s).await {
                return fail(tr, e);
            }
            s
        }
        Err(e) => return fail(tr, e),
    };
    let url = totp::provisioning_url(&secret, &me.user.email).unwrap_or_default();
    let c = Chrome::new(tr, me, tr.s("acct.totp_enable"), "account");
    let status = if failed {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_status(
        status,
        TotpEnrolPage {
            c,
            qr_svg: qr_svg(&url),
            secret,
            failed,
        },
    )
}

pub async fn totp_form(State(state): State<AppState>, tr: Tr, me: CurrentUser) -> Response {
    if me.user.totp_enabled {
        return Redirect::to("/account").into_response();
    }
    enrol_page(&state, tr, &me, false).await
}

#[derive(serde::Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

pub async fn totp_confirm(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Form(f): Form<CodeForm>,
) -> Response {
    let pending = match state.store.totp_pending(&me.scope).await {
        Ok(p) => p,
        Err(e) => return fail(tr, e),
    };
    let unix = stadtmauer_core::now().max(0) as u64;
    let step = pending
        .as_deref()
        .and_then(|s| totp::verify(s, &f.code, unix, None));
    match step {
        Some(step) => match state.store.totp_confirm(&me.scope, step).await {
            Ok(()) => done("/account", "msg.totp_enabled"),
            Err(e) => fail(tr, e),
        },
        None => enrol_page(&state, tr, &me, true).await,
    }
}

pub async fn totp_disable(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Form(f): Form<Reauth>,
) -> Response {
    match reauthenticate(&state, &me, &f).await {
        Ok(Ok(())) => {}
        Ok(Err(key)) => {
            let mut errs = FieldErrors::default();
            errs.add("totp_current_password", key);
            return invalid(&state, tr, &me, errs).await;
        }
        Err(e) => return fail(tr, e),
    }
    match state.store.totp_disable(&me.scope, me.user.id).await {
        Ok(()) => done("/account", "msg.totp_disabled"),
        Err(e) => fail(tr, e),
    }
}

#[derive(serde::Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
    read_only: Option<String>,
    /// Lifetime in days (default 90, at most 365) …
    #[serde(default)]
    expires_in_days: String,
    /// … or the last day it works (`YYYY-MM-DD`), which wins when given.
    #[serde(default)]
    expires_on: String,
    #[serde(flatten)]
    reauth: Reauth,
}

pub async fn create_token(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Form(f): Form<TokenForm>,
) -> Response {
    let mut errs = FieldErrors::default();
    match reauthenticate(&state, &me, &f.reauth).await {
        Ok(Ok(())) => {}
        Ok(Err(key)) => errs.add("token_current_password", key),
        Err(e) => return fail(tr, e),
    }
    let expires_at = match token_expiry(&f.expires_in_days, &f.expires_on, stadtmauer_core::now()) {
        Ok(t) => Some(t),
        Err((field, key)) => {
            errs.add(field, key);
            None
        }
    };
    if f.name.trim().is_empty() {
        errs.add("name", "err.required");
    }
    if !errs.is_empty() {
        return invalid(&state, tr, &me, errs).await;
    }
    match state
        .store
        .create_token(&me.scope, &f.name, f.read_only.is_some(), expires_at)
        .await
    {
        Ok((_, plain)) => {
            let c = Chrome::new(tr, &me, tr.s("tok.created_title"), "account");
            render(SecretShownPage {
                c,
                heading: "tok.created_title",
                explanation: "tok.created_explanation",
                secret: plain,
                back: "/account".into(),
            })
        }
        Err(DomainError::Invalid(errs)) => invalid(&state, tr, &me, errs).await,
        Err(e) => fail(tr, e),
    }
}

pub async fn revoke_token(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Response {
    match state.store.revoke_token(&me.scope, TokenId(id)).await {
        Ok(()) => done("/account", "msg.revoked"),
        Err(e) => fail(tr, e),
    }
}
