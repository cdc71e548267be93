//! Mapping errors to responses: an HTML error page for the UI, an RFC 9457 problem document for
//! the API. Internal causes are logged, never shown; "not found" and "not yours" look the same.

use crate::i18n::{Lang, Tr};
use crate::view::{Chrome, ErrorPage};
use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;
use stadtmauer_core::DomainError;

/// An error page in the user's language. Handlers return `Result<_, PageError>` and use `?` on
/// store calls: a `PageError` made from a [`DomainError`] does not know the language yet and is
/// rendered on its way out by [`render_error_pages`], in the language the session layer put on the
/// response.
#[derive(Clone)]
pub struct PageError {
    tr: Option<Tr>,
    status: StatusCode,
    /// Field messages (i18n keys) of refused input, shown on the page.
    details: Vec<&'static str>,
    /// A more specific message than the status's own (i18n key).
    message: Option<&'static str>,
}

impl PageError {
    pub fn status(tr: Tr, status: StatusCode) -> PageError {
        PageError {
            tr: Some(tr),
            status,
            details: vec![],
            message: None,
        }
    }
    pub fn domain(tr: Tr, e: DomainError) -> PageError {
        PageError {
            tr: Some(tr),
            ..PageError::from(e)
        }
    }
    /// An error page with this status, in the request's language.
    pub fn of(status: StatusCode) -> PageError {
        PageError {
            tr: None,
            status,
            details: vec![],
            message: None,
        }
    }

    fn render(self, tr: Tr) -> Response {
        let key = match self.status.as_u16() {
            401 => "err.page_401",
            403 => "err.page_403",
            404 => "err.page_404",
            409 => "err.page_409",
            413 => "err.page_413",
            422 => "err.page_422",
            503 => "err.page_503",
            _ => "err.page_500",
        };
        let key = self.message.unwrap_or(key);
        let page = ErrorPage {
            c: Chrome::anonymous(tr, ""),
            code: self.status.as_u16(),
            message: key,
            details: self.details,
        };
        let mut resp = match page.render() {
            Ok(html) => (self.status, Html(html)).into_response(),
            Err(_) => self.status.into_response(),
        };
        retry_after(&mut resp);
        resp
    }
}

impl From<DomainError> for PageError {
    fn from(e: DomainError) -> PageError {
        let details = match &e {
            DomainError::Invalid(f) | DomainError::Conflict(f) => {
                f.0.iter().map(|x| x.message).collect()
            }
            _ => vec![],
        };
        let mut message = None;
        let status = match e {
            DomainError::Unavailable(why) => {
                tracing::warn!(?why, "database unavailable");
                message = Some(why.message());
                StatusCode::SERVICE_UNAVAILABLE
            }
            DomainError::NotFound => StatusCode::NOT_FOUND,
            DomainError::Forbidden => StatusCode::FORBIDDEN,
            DomainError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            DomainError::Conflict(_) => StatusCode::CONFLICT,
            DomainError::Internal(ref cause) => {
                tracing::error!(cause = %cause, "internal error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        PageError {
            tr: None,
            status,
            details,
            message,
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self.tr {
            Some(tr) => self.render(tr),
            None => {
                let mut resp = self.status.into_response();
                resp.extensions_mut().insert(self);
                resp
            }
        }
    }
}

/// Renders the error pages whose language was not known where they arose (see [`PageError`]),
/// keeping the status and headers (cookies) of the response.
pub async fn render_error_pages(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let mut resp = next.run(req).await;
    let Some(e) = resp.extensions_mut().remove::<PageError>() else {
        return resp;
    };
    let tr = resp
        .extensions()
        .get::<Tr>()
        .copied()
        .unwrap_or(Tr { lang: Lang::De });
    let page = e.render(tr);
    let (mut parts, _) = resp.into_parts();
    let (page_parts, body) = page.into_parts();
    for (name, value) in page_parts.headers.iter() {
        parts.headers.insert(name.clone(), value.clone());
    }
    parts.status = page_parts.status;
    Response::from_parts(parts, body)
}

/// A problem document (RFC 9457).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Field-level messages for invalid input.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemField {
    pub field: String,
    /// Stable code, e.g. `err.required`.
    pub code: String,
    /// The message in English.
    pub message: String,
}

#[derive(Debug)]
pub enum ApiError {
    Domain(DomainError),
    Unauthenticated,
    BadRequest(String),
    NotFound,
    TooLarge,
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError::Domain(e)
    }
}

fn problem(
    status: StatusCode,
    title: &str,
    detail: Option<String>,
    errors: Vec<ProblemField>,
) -> Response {
    let body = Problem {
        kind: "about:blank".into(),
        title: title.into(),
        status: status.as_u16(),
        detail,
        errors,
    };
    let mut resp = (status, axum::Json(body)).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    resp
}

/// A 503 tells clients when to try again.
fn retry_after(resp: &mut Response) {
    if resp.status() == StatusCode::SERVICE_UNAVAILABLE {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
}

fn fields(e: &stadtmauer_core::validate::FieldErrors) -> Vec<ProblemField> {
    let en = Tr { lang: Lang::En };
    e.0.iter()
        .map(|f| ProblemField {
            field: f.field.to_string(),
            code: f.message.to_string(),
            message: en.s(f.message).to_string(),
        })
        .collect()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Unauthenticated => {
                let mut r = problem(
                    StatusCode::UNAUTHORIZED,
                    "Unauthorized",
                    Some(
                        "A valid personal API token is required (Authorization: Bearer …).".into(),
                    ),
                    vec![],
                );
                r.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                r
            }
            ApiError::TooLarge => problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Payload Too Large",
                None,
                vec![],
            ),
            ApiError::BadRequest(detail) => {
                problem(StatusCode::BAD_REQUEST, "Bad Request", Some(detail), vec![])
            }
            ApiError::NotFound | ApiError::Domain(DomainError::NotFound) => {
                problem(StatusCode::NOT_FOUND, "Not Found", None, vec![])
            }
            ApiError::Domain(DomainError::Forbidden) => {
                problem(StatusCode::FORBIDDEN, "Forbidden", None, vec![])
            }
            ApiError::Domain(DomainError::Invalid(e)) => problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid input",
                None,
                fields(&e),
            ),
            ApiError::Domain(DomainError::Conflict(e)) => {
                problem(StatusCode::CONFLICT, "Conflict", None, fields(&e))
            }
            ApiError::Domain(DomainError::Unavailable(why)) => {
                tracing::warn!(?why, "database unavailable");
                let en = Tr { lang: Lang::En };
                let mut r = problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service Unavailable",
                    Some(en.s(why.message()).to_string()),
                    vec![],
                );
                retry_after(&mut r);
                r
            }
            ApiError::Domain(DomainError::Internal(cause)) => {
                tracing::error!(cause = %cause, "internal error");
                problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal Server Error",
                    None,
                    vec![],
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use stadtmauer_core::error::Unavailable;

    async fn body(r: Response) -> String {
        use http_body_util::BodyExt;
        let bytes = r.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn a_full_disk_is_a_503_page_that_says_so_and_nothing_changed() {
        let de = Tr { lang: Lang::De };
        let r = PageError::domain(de, DomainError::Unavailable(Unavailable::StorageFull))
            .into_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[header::RETRY_AFTER], "5");
        let html = body(r).await;
        assert!(
            html.contains("Speicherplatz der Datenbank erschöpft"),
            "{html}"
        );
        assert!(html.contains("es wurde nichts geändert"));
        let r = PageError::domain(de, DomainError::Unavailable(Unavailable::Busy)).into_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(body(r).await.contains("gerade durch eine andere Änderung"));
    }

    /// A handler uses `?`; the page comes out in the language the session layer set.
    #[tokio::test]
    async fn a_question_mark_error_is_rendered_in_the_requests_language() {
        use axum::routing::get;
        use tower::ServiceExt;
        async fn handler() -> Result<Response, PageError> {
            Err(DomainError::Forbidden)?
        }
        async fn english(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
            let mut resp = next.run(req).await;
            resp.extensions_mut().insert(Tr { lang: Lang::En });
            resp.headers_mut()
                .insert(header::SET_COOKIE, HeaderValue::from_static("a=b"));
            resp
        }
        let app = axum::Router::new()
            .route("/", get(handler))
            .layer(axum::middleware::from_fn(english))
            .layer(axum::middleware::from_fn(render_error_pages));
        let req = axum::http::Request::get("/")
            .body(axum::body::Body::empty())
            .unwrap();
        let r = app.oneshot(req).await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(r.headers()[header::SET_COOKIE], "a=b");
        assert!(r.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let html = body(r).await;
        assert!(html.contains("<html lang=\"en\">"), "{html}");
    }

    #[tokio::test]
    async fn the_api_answers_busy_with_a_problem_document() {
        let r = ApiError::Domain(DomainError::Unavailable(Unavailable::Busy)).into_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[header::RETRY_AFTER], "5");
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let json: serde_json::Value = serde_json::from_str(&body(r).await).unwrap();
        assert_eq!(json["status"], 503);
        assert!(json["detail"].as_str().unwrap().contains("busy"));
    }
}
