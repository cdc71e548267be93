//! The only crate that speaks HTTP.
//!
//! Server-rendered HTML pages (askama templates compiled into the binary, htmx for the small
//! interactive parts, every asset embedded) and a JSON API under `/api/v1` with an OpenAPI
//! document. A request passes: security headers and metrics → body limit → (pages) session and
//! CSRF check, or (API) bearer token → handler → store methods that take the resolved `Scope`.

pub mod api;
mod assets;
pub mod auth;
mod body_limit;
pub mod error;
mod features;
pub mod i18n;
pub mod memory;
mod metrics;
mod routes;
mod view;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use stadtmauer_store::Store;
use std::sync::Arc;

pub use routes::RouteInfo;

/// The assessment workbook reader (the page's XLSX import), reachable for the memory-bound tests
/// (`tests/xlsx_bounds.rs`) and the fuzz target `assessment_xlsx`.
#[doc(hidden)]
pub mod assessment_xlsx {
    pub use crate::features::security::transfer::xlsx::{
        read_sheet, workbook, Refusal, SheetRow, HEADER, MAX_ROWS, MAX_TEXT_BYTES, MAX_UNPACKED,
        SHEET,
    };
}

/// Settings that shape the web layer.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Mark cookies `Secure`. On when the public URL is https (behind a TLS proxy).
    pub secure_cookies: bool,
    /// Take the client address for login throttling from `X-Forwarded-For` (only behind a proxy
    /// that sets it).
    pub trust_forwarded_for: bool,
    /// A session ends after this many seconds without a request.
    pub session_idle_secs: i64,
    /// A session ends this many seconds after the login, however active it is.
    pub session_max_secs: i64,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// Failed logins per account before it is locked for `lock_secs`.
    pub account_failures: i64,
    /// Failed logins per client address before it is locked for `lock_secs`.
    pub address_failures: i64,
    pub failure_window_secs: i64,
    pub lock_secs: i64,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            secure_cookies: false,
            trust_forwarded_for: false,
            session_idle_secs: 8 * 3600,
            session_max_secs: 12 * 3600,
            max_body_bytes: 1024 * 1024,
            account_failures: 5,
            address_failures: 30,
            failure_window_secs: 15 * 60,
            lock_secs: 15 * 60,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<WebConfig>,
    metrics: Arc<metrics::Metrics>,
}

impl AppState {
    pub fn new(store: Store, config: WebConfig) -> AppState {
        AppState {
            store,
            config: Arc::new(config),
            metrics: Arc::new(metrics::Metrics::new()),
        }
    }
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let (app, _) = routes::build(state.clone());
    app.layer(axum::middleware::from_fn(error::render_error_pages))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            state.config.max_body_bytes,
            body_limit::explain_refusals,
        ))
        .layer(axum::middleware::from_fn(memory::trim_after_large_bodies))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::security_headers,
        ))
}

/// Every route of the application: the tenant-isolation test walks them all.
pub fn route_table() -> Vec<RouteInfo> {
    routes::table()
}
