//! The product's areas, one module each, with the area's pages, JSON API, forms and views side by
//! side; the area's templates live in `templates/<area>/`. Each handler takes the resolved
//! [`crate::auth::CurrentUser`], calls the store with its scope, and renders a template. Invalid
//! input re-renders the form with field messages and status 422; nothing is written.
//!
//! This module holds what every area uses: rendering, post/redirect/get, the 404 page.

pub mod continuity;
pub mod council;
pub mod inventory;
pub mod platform;
pub mod security;
pub mod updates;

use crate::error::PageError;
use crate::i18n::Tr;
use askama::Template;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};

/// Renders a page with a status.
pub(crate) fn render_status(status: StatusCode, t: impl Template) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

pub(crate) fn render(t: impl Template) -> Response {
    render_status(StatusCode::OK, t)
}

/// Post/redirect/get with a one-time message.
pub(crate) fn done(path: &str, msg: &str) -> Response {
    // The message goes into the query, before a `#fragment` if there is one.
    let (path, fragment) = match path.split_once('#') {
        Some((p, f)) => (p, format!("#{f}")),
        None => (path, String::new()),
    };
    let sep = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{sep}msg={msg}{fragment}")).into_response()
}

/// Was this request sent by htmx (and wants a fragment)?
pub(crate) fn is_htmx(headers: &HeaderMap) -> bool {
    headers.get("hx-request").is_some_and(|v| v == "true")
}

#[derive(serde::Deserialize, Default)]
pub struct FlashQuery {
    pub msg: Option<String>,
}

/// Unknown paths: an HTML page, or a problem document under `/api/`.
pub async fn not_found(tr: Tr, uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        crate::error::ApiError::NotFound.into_response()
    } else {
        PageError::status(tr, StatusCode::NOT_FOUND).into_response()
    }
}

/// Turns a store error into a page.
pub(crate) fn fail(tr: Tr, e: stadtmauer_core::DomainError) -> Response {
    PageError::domain(tr, e).into_response()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::done;

    fn location(path: &str) -> String {
        let r = done(path, "msg.saved");
        r.headers()["location"].to_str().unwrap().to_string()
    }

    #[test]
    fn the_message_goes_into_the_query_not_the_fragment() {
        assert_eq!(location("/a"), "/a?msg=msg.saved");
        assert_eq!(location("/a?x=1"), "/a?x=1&msg=msg.saved");
        assert_eq!(location("/a#own-h"), "/a?msg=msg.saved#own-h");
        assert_eq!(location("/a?x=1#f"), "/a?x=1&msg=msg.saved#f");
    }
}
