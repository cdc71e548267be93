//! Answers for a request body the server will not take: one over the limit, or one that did not
//! arrive completely (the client stopped sending, or sent too slowly). Pages get an error page in
//! the user's language that names the limit and says what to do; the API gets a problem document
//! (RFC 9457) with a `detail`. axum's own plain-text 413 ("Failed to buffer the request body")
//! never reaches a user: [`explain_refusals`] replaces it.

use crate::auth::{cookie_value, CurrentUser, LANG_COOKIE};
use crate::i18n::{Lang, Tr};
use crate::view::Chrome;
use askama::Template;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

#[derive(Template)]
#[template(path = "body_refused.html")]
struct RefusedPage {
    c: Chrome,
    message: String,
}

/// A size as people read it: whole megabytes (`1 MB`, `25 MB`), one decimal (`1,5 MB` in
/// German), or kilobytes.
pub fn size_text(bytes: usize, lang: Lang) -> String {
    const MB: usize = 1024 * 1024;
    if bytes >= MB && bytes.is_multiple_of(MB) {
        format!("{} MB", bytes / MB)
    } else if bytes >= MB {
        let s = format!("{:.1} MB", bytes as f64 / MB as f64);
        match lang {
            Lang::De => s.replace('.', ","),
            Lang::En => s,
        }
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

fn render(tr: Tr, me: Option<&CurrentUser>, status: StatusCode, message: String) -> Response {
    let title = tr
        .s(if status == StatusCode::PAYLOAD_TOO_LARGE {
            "err.title_too_large"
        } else {
            "err.title_incomplete"
        })
        .to_string();
    let c = match me {
        Some(me) => Chrome::new(tr, me, title, ""),
        None => {
            let mut c = Chrome::anonymous(tr, "");
            c.title = title;
            c
        }
    };
    match (RefusedPage { c, message }).render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            status.into_response()
        }
    }
}

/// 413 for a form over `max` bytes: names the limit; nothing was saved.
pub fn too_large_page(tr: Tr, me: Option<&CurrentUser>, max: usize) -> Response {
    let message = tr.f("err.body_too_large", &[("max", &size_text(max, tr.lang))]);
    render(tr, me, StatusCode::PAYLOAD_TOO_LARGE, message)
}

/// 400 for a body that did not arrive completely.
pub fn incomplete_page(tr: Tr, me: Option<&CurrentUser>) -> Response {
    let message = tr.s("err.body_incomplete").to_string();
    render(tr, me, StatusCode::BAD_REQUEST, message)
}

/// Did reading a body fail because it exceeded its limit (rather than the client breaking off)?
pub fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = s.source();
    }
    false
}

fn problem(detail: String) -> Response {
    let body = crate::error::Problem {
        kind: "about:blank".into(),
        title: "Payload Too Large".into(),
        status: 413,
        detail: Some(detail),
        errors: vec![],
    };
    let mut resp = (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(body)).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    resp
}

fn lang_of(headers: &HeaderMap) -> Lang {
    cookie_value(headers, LANG_COOKIE)
        .and_then(Lang::parse)
        .unwrap_or_else(|| {
            Lang::from_accept_language(
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok()),
            )
        })
}

fn content_type(resp: &Response) -> &str {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Middleware: a 413 that is not already an explained page or problem document becomes one. For
/// the API (whose bodies all have the installation's limit, `max`) the problem document names that
/// limit; a page not rendered by a handler gets the message without a number, since an upload
/// route's limit differs from the form limit.
pub async fn explain_refusals(State(max): State<usize>, req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let lang = lang_of(req.headers());
    let resp = next.run(req).await;
    if resp.status() != StatusCode::PAYLOAD_TOO_LARGE {
        return resp;
    }
    if api {
        if content_type(&resp).starts_with("application/problem+json") {
            let (parts, body) = resp.into_parts();
            let bytes = axum::body::to_bytes(body, 64 * 1024)
                .await
                .unwrap_or_default();
            let has_detail = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .is_some_and(|v| v.get("detail").is_some());
            if has_detail {
                return Response::from_parts(parts, axum::body::Body::from(bytes));
            }
        }
        return problem(format!(
            "The request body exceeds the limit of {max} bytes ({}).",
            size_text(max, Lang::En)
        ));
    }
    if content_type(&resp).starts_with("text/html") {
        return resp;
    }
    let tr = resp
        .extensions()
        .get::<Tr>()
        .copied()
        .unwrap_or(Tr { lang });
    let message = tr.s("err.body_too_large_here").to_string();
    render(tr, None, StatusCode::PAYLOAD_TOO_LARGE, message)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::post;
    use axum::Router;
    use tower::ServiceExt;

    /// A handler that reads its body with a plain extractor gets axum's bare 413; the middleware
    /// turns it into a page in the user's language, or a problem document under `/api/`.
    #[tokio::test]
    async fn bare_refusals_are_explained() {
        let app = Router::new()
            .route("/form", post(|body: String| async move { body }))
            .route("/api/v1/x", post(|body: String| async move { body }))
            .layer(axum::extract::DefaultBodyLimit::max(16))
            .layer(axum::middleware::from_fn_with_state(
                16usize,
                explain_refusals,
            ));
        let send = |path: &str, lang: &str| {
            app.clone().oneshot(
                Request::post(path)
                    .header(header::ACCEPT_LANGUAGE, lang)
                    .body(Body::from("x".repeat(100)))
                    .unwrap(),
            )
        };
        let text = |r: Response| async move {
            let b = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
            String::from_utf8(b.to_vec()).unwrap()
        };
        let r = send("/form", "de").await.unwrap();
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(content_type(&r).starts_with("text/html"));
        let page = text(r).await;
        assert!(page.contains("größer, als diese Seite annimmt"), "{page}");
        assert!(page.contains("<html lang=\"de\""), "{page}");
        let r = send("/form", "en").await.unwrap();
        let page = text(r).await;
        assert!(page.contains("larger than this page accepts"), "{page}");
        let r = send("/api/v1/x", "de").await.unwrap();
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(content_type(&r), "application/problem+json");
        let doc: serde_json::Value = serde_json::from_str(&text(r).await).unwrap();
        assert_eq!(doc["status"], 413);
        assert!(
            doc["detail"].as_str().unwrap().contains("16 bytes"),
            "{doc}"
        );
        // Small bodies pass untouched.
        let r = app
            .clone()
            .oneshot(Request::post("/form").body(Body::from("ok")).unwrap())
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(text(r).await, "ok");
    }

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(size_text(1024 * 1024, Lang::De), "1 MB");
        assert_eq!(size_text(25 * 1024 * 1024, Lang::En), "25 MB");
        assert_eq!(size_text(1024 * 1024 + 512 * 1024, Lang::De), "1,5 MB");
        assert_eq!(size_text(1024 * 1024 + 512 * 1024, Lang::En), "1.5 MB");
        assert_eq!(size_text(64 * 1024, Lang::De), "64 KB");
    }
}
