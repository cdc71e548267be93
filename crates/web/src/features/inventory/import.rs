//! Spreadsheet import of the Informationsverbund (CSV, XLSX): upload, column mapping, dry-run
//! preview, all-or-nothing commit; and the exports (CSV, XLSX, JSON).
//!
//! The flow works without JavaScript and keeps nothing on the server between requests:
//!
//! 1. `GET /organisations/{id}/import` shows the upload form (file, optionally one kind for the
//!    whole file, encoding).
//! 2. `POST /organisations/{id}/import` (multipart) reads the file and answers with the preview
//!    page: one select per column (pre-filled with the suggestion from the headers), the rows
//!    that would be created or updated, and every error with row and column. The page is itself
//!    the form for the next step: files up to [`EMBED_MAX`] travel along in a hidden field
//!    (base64), larger ones are chosen again in its file input. "Vorschau aktualisieren" posts it
//!    back here with the changed mapping.
//! 3. The "Übernehmen" button of the same form posts (through `formaction`) to
//!    `POST /organisations/{id}/import/commit`, which parses and validates again and commits in one
//!    transaction — or shows the preview again with its errors. Nothing is written before that.
//!
//! Multipart forms carry the CSRF token in the action URL (`?csrf=`), which the guard accepts for
//! multipart requests only. The upload routes allow bodies up to [`UPLOAD_BODY_MAX`]; the file
//! itself is limited by `stadtmauer_inventory::import::MAX_FILE_BYTES`.

use crate::auth::CurrentUser;
use crate::features::{done, fail, render, render_status};
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::view::Chrome;
use crate::AppState;
use askama::Template;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::handler::Handler;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};
use stadtmauer_core::{Access, DomainError, OrgId};
use stadtmauer_inventory::import::{
    self, Action, CellError, EncodingChoice, Field, Mapping, ParseOptions, Preview, Sheet,
    MAX_FILE_BYTES,
};
use stadtmauer_inventory::model::ObjectKind;
use std::collections::BTreeMap;

/// Largest request body on the upload routes: above the file limit, so that a file a little too
/// large still gets the precise message from the parser rather than a bare 413.
pub const UPLOAD_BODY_MAX: usize = 25 * 1024 * 1024;
/// Files up to this size travel along in the preview form; larger ones are chosen again.
pub const EMBED_MAX: usize = 2 * 1024 * 1024;
/// Rows and errors shown on the preview page (all are counted; the commit needs none).
const SHOW_ROWS: usize = 500;
const SHOW_ERRORS: usize = 500;

pub(crate) fn routes() -> Routes {
    Routes::new(false, false)
        .get("/organisations/{org_id}/import", upload_form)
        .post(
            "/organisations/{org_id}/import",
            preview.layer(DefaultBodyLimit::max(UPLOAD_BODY_MAX)),
        )
        .post(
            "/organisations/{org_id}/import/commit",
            commit.layer(DefaultBodyLimit::max(UPLOAD_BODY_MAX)),
        )
        .get("/organisations/{org_id}/export.csv", export_csv)
        .get("/organisations/{org_id}/export.xlsx", export_xlsx)
        .get("/organisations/{org_id}/export.json", export_json)
}

#[derive(Template)]
#[template(path = "inventory/import_upload.html")]
pub struct UploadPage {
    pub c: Chrome,
    pub org_id: OrgId,
    pub org_name: String,
    pub kinds: Vec<(&'static str, &'static str)>,
    pub fixed_kind: String,
    pub encoding: &'static str,
    pub file_error: Option<String>,
    pub file_hint: String,
}

pub struct ColumnView {
    pub index: usize,
    pub letter: String,
    pub header: String,
    pub sample: String,
    pub selected: &'static str,
    /// The accessible name of the column's select.
    pub label: String,
}

/// Sentences of the preview page, composed in the user's language.
pub struct PreviewTexts {
    pub file_read: String,
    pub summary: String,
    pub errors_title: String,
    pub more_errors: String,
    pub more_rows: String,
}

pub struct RowView {
    pub line: usize,
    pub update: bool,
    pub kind: &'static str,
    pub name: String,
    pub depends_on: String,
    pub has_errors: bool,
}

pub struct ErrorView {
    pub at: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "inventory/import_preview.html")]
pub struct PreviewPage {
    pub c: Chrome,
    pub org_id: OrgId,
    pub org_name: String,
    pub file_name: String,
    pub format: &'static str,
    pub texts: PreviewTexts,
    pub sheet_names: Vec<String>,
    pub sheet_name: String,
    pub embed: Option<String>,
    pub sig: String,
    pub kinds: Vec<(&'static str, &'static str)>,
    pub fixed_kind: String,
    pub encoding: &'static str,
    pub fields: Vec<(&'static str, &'static str)>,
    pub columns: Vec<ColumnView>,
    pub rows: Vec<RowView>,
    pub more_rows: usize,
    pub errors: Vec<ErrorView>,
    pub more_errors: usize,
    pub can_commit: bool,
    pub windows1252: bool,
}

fn kinds() -> Vec<(&'static str, &'static str)> {
    ObjectKind::ALL
        .into_iter()
        .map(|k| (k.as_str(), k.label_key()))
        .collect()
}

/// The town, if the user may import into it: others' towns are "not found", read-only access
/// is "forbidden".
async fn writable_town(
    state: &AppState,
    me: &CurrentUser,
    org: OrgId,
) -> Result<String, DomainError> {
    let o = state.store.organisation(&me.scope, org).await?;
    me.scope.require(org, Access::WriteTechnical)?;
    Ok(o.name)
}

fn upload_page(
    tr: Tr,
    me: &CurrentUser,
    org_id: OrgId,
    org_name: String,
    form: &UploadForm,
    file_error: Option<String>,
) -> UploadPage {
    UploadPage {
        c: Chrome::new(tr, me, tr.s("imp.title"), "organisations"),
        org_id,
        org_name,
        kinds: kinds(),
        fixed_kind: form.kind.clone(),
        encoding: EncodingChoice::parse(&form.encoding).as_str(),
        file_error,
        file_hint: tr.f(
            "imp.file_hint",
            &[("max", &(MAX_FILE_BYTES / (1024 * 1024)).to_string())],
        ),
    }
}

pub async fn upload_form(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(org): Path<i64>,
) -> Response {
    let org = OrgId(org);
    match writable_town(&state, &me, org).await {
        Ok(name) => render(upload_page(
            tr,
            &me,
            org,
            name,
            &UploadForm::default(),
            None,
        )),
        Err(e) => fail(tr, e),
    }
}

/// The fields of the upload and preview forms.
#[derive(Default)]
struct UploadForm {
    file: Option<(String, Vec<u8>)>,
    data: String,
    file_name: String,
    kind: String,
    encoding: String,
    sheet: String,
    sig: String,
    map: BTreeMap<usize, String>,
}

enum FormError {
    TooLarge,
    Bad,
}

async fn read_form(state: &AppState, req: Request) -> Result<UploadForm, FormError> {
    let mut mp = Multipart::from_request(req, state)
        .await
        .map_err(|_| FormError::Bad)?;
    let mut f = UploadForm::default();
    let too_large = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            FormError::TooLarge
        } else {
            FormError::Bad
        }
    };
    while let Some(field) = mp.next_field().await.map_err(too_large)? {
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            let file_name = field.file_name().unwrap_or("").to_string();
            let bytes = field.bytes().await.map_err(too_large)?;
            if !bytes.is_empty() || !file_name.is_empty() {
                f.file = Some((file_name, bytes.to_vec()));
            }
            continue;
        }
        let text = field.text().await.map_err(too_large)?;
        match name.as_str() {
            "data" => f.data = text,
            "file_name" => f.file_name = text,
            "kind" => f.kind = text,
            "encoding" => f.encoding = text,
            "sheet" => f.sheet = text,
            "sig" => f.sig = text,
            other => {
                if let Some(i) = other
                    .strip_prefix("map_")
                    .and_then(|i| i.parse::<usize>().ok())
                {
                    if i < import::MAX_COLUMNS {
                        f.map.insert(i, text);
                    }
                }
            }
        }
    }
    Ok(f)
}

/// A fingerprint of the headers: a posted mapping is only reused for the same columns.
fn signature(sheet: &Sheet) -> String {
    let mut h = Sha256::new();
    for x in &sheet.headers {
        h.update(x.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..8])
}

/// Renders one error with its place, in the user's language.
fn error_view(tr: Tr, e: &CellError) -> ErrorView {
    let at = if e.row == 0 && e.column.is_none() {
        tr.s("imp.at_file").to_string()
    } else if e.row == 0 {
        tr.f(
            "imp.at_column",
            &[("col", &e.column_letter), ("name", &e.column_name)],
        )
    } else if e.column.is_none() {
        tr.f("imp.at_row", &[("row", &e.row.to_string())])
    } else {
        tr.f(
            "imp.at",
            &[
                ("row", &e.row.to_string()),
                ("col", &e.column_letter),
                ("name", &e.column_name),
            ],
        )
    };
    let value = if e.value.starts_with("imp.field.") {
        tr.s(&e.value).to_string()
    } else {
        e.value.clone()
    };
    let other = e.other_row.map(|r| r.to_string()).unwrap_or_default();
    let mut message = tr.f(e.message_key, &[("value", &value), ("other", &other)]);
    if !e.message_key.starts_with("imp.") && !value.is_empty() {
        message = format!("{message} {}", tr.f("imp.value", &[("value", &value)]));
    }
    ErrorView { at, message }
}

/// The message of a file that could not be read at all.
fn import_error_text(tr: Tr, e: &import::ImportError) -> String {
    let args = e.args();
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    tr.f(e.key(), &args)
}

fn texts(tr: Tr, sheet: &Sheet, file_name: &str, p: &Preview) -> PreviewTexts {
    let format = match sheet.format {
        import::Format::Csv => "CSV",
        import::Format::Xlsx => "XLSX",
    };
    let mut file_read = tr.f("imp.file_read", &[("file", file_name), ("format", format)]);
    if let Some(e) = sheet.encoding {
        file_read.push(' ');
        file_read.push_str(&tr.f("imp.encoding_used", &[("encoding", e.label())]));
    }
    if let Some(d) = sheet.delimiter {
        let key = match d {
            b';' => "imp.delim.semicolon",
            b',' => "imp.delim.comma",
            _ => "imp.delim.tab",
        };
        file_read.push(' ');
        file_read.push_str(&tr.f("imp.delimiter_used", &[("delimiter", tr.s(key))]));
    }
    if let Some(s) = &sheet.sheet_name {
        file_read.push(' ');
        file_read.push_str(&tr.f("imp.sheet_used", &[("sheet", s)]));
    }
    let n = |x: usize| tr.num(x as i64);
    PreviewTexts {
        file_read,
        summary: tr.f(
            "imp.summary",
            &[
                ("rows", &n(p.rows.len())),
                ("creates", &n(p.creates)),
                ("updates", &n(p.updates)),
                ("links", &n(p.links)),
            ],
        ),
        errors_title: tr.f("imp.errors_title", &[("n", &n(p.errors.len()))]),
        more_errors: tr.f(
            "imp.more_errors",
            &[("n", &n(p.errors.len().saturating_sub(SHOW_ERRORS)))],
        ),
        more_rows: tr.f(
            "imp.more_rows",
            &[("n", &n(p.rows.len().saturating_sub(SHOW_ROWS)))],
        ),
    }
}

enum Outcome {
    /// The file could not be read: back to the upload form with a message.
    Unreadable(Response),
    Ready(Box<PreviewPage>, Preview),
}

/// Reads the form's file (uploaded now, or carried along), parses it, maps and validates it.
async fn build_preview(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    org: OrgId,
    org_name: String,
    form: UploadForm,
) -> Result<Outcome, DomainError> {
    let (file_name, bytes) = match form.file.clone() {
        Some(f) => f,
        None => match base64::engine::general_purpose::STANDARD.decode(form.data.trim()) {
            Ok(b) if !form.data.trim().is_empty() => (form.file_name.clone(), b),
            _ => {
                let msg = tr.s("imp.err.no_file").to_string();
                return Ok(Outcome::Unreadable(render_status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    upload_page(tr, me, org, org_name, &form, Some(msg)),
                )));
            }
        },
    };
    let opts = ParseOptions {
        encoding: EncodingChoice::parse(&form.encoding),
        sheet: Some(form.sheet.clone()).filter(|s| !s.is_empty()),
    };
    let sheet = match import::parse_with(&bytes, &file_name, &opts) {
        Ok(s) => s,
        Err(e) => {
            let status = match e {
                import::ImportError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let msg = import_error_text(tr, &e);
            return Ok(Outcome::Unreadable(render_status(
                status,
                upload_page(tr, me, org, org_name, &form, Some(msg)),
            )));
        }
    };
    let fixed_kind = ObjectKind::parse(&form.kind);
    let sig = signature(&sheet);
    let mapping = if sig == form.sig && !form.map.is_empty() {
        Mapping {
            columns: (0..sheet.headers.len())
                .map(|i| form.map.get(&i).and_then(|v| Field::parse(v)))
                .collect(),
            fixed_kind,
        }
    } else {
        import::suggest(&sheet.headers, fixed_kind)
    };
    let existing = state.store.objects(&me.scope, org, None, true).await?;
    let p = import::validate(&sheet, &mapping, org, &existing);
    let columns = sheet
        .headers
        .iter()
        .enumerate()
        .map(|(i, h)| ColumnView {
            index: i,
            letter: sheet.column_letter(i),
            header: h.clone(),
            sample: sheet
                .rows
                .iter()
                .filter_map(|r| r.cells.get(i))
                .find(|v| !v.trim().is_empty())
                .map(|v| v.chars().take(40).collect())
                .unwrap_or_default(),
            selected: mapping
                .columns
                .get(i)
                .copied()
                .flatten()
                .map(Field::key)
                .unwrap_or(""),
            label: tr.f(
                "imp.map_label",
                &[("col", &sheet.column_letter(i)), ("name", h)],
            ),
        })
        .collect();
    let rows = p
        .rows
        .iter()
        .take(SHOW_ROWS)
        .map(|r| RowView {
            line: r.line,
            update: matches!(r.action, Action::Update { .. }),
            kind: r.kind.map(|k| k.label_key()).unwrap_or("imp.kind_unknown"),
            name: r.name.clone(),
            depends_on: r.depends_on_names.join("; "),
            has_errors: r.has_errors,
        })
        .collect();
    let errors = p
        .errors
        .iter()
        .take(SHOW_ERRORS)
        .map(|e| error_view(tr, e))
        .collect();
    let page = PreviewPage {
        c: Chrome::new(tr, me, tr.s("imp.preview_title"), "organisations"),
        org_id: org,
        org_name,
        file_name: file_name.clone(),
        format: match sheet.format {
            import::Format::Csv => "CSV",
            import::Format::Xlsx => "XLSX",
        },
        texts: texts(tr, &sheet, &file_name, &p),
        windows1252: sheet.encoding == Some(import::TextEncoding::Windows1252),
        sheet_names: sheet.sheet_names.clone(),
        sheet_name: sheet.sheet_name.clone().unwrap_or_default(),
        embed: (bytes.len() <= EMBED_MAX)
            .then(|| base64::engine::general_purpose::STANDARD.encode(&bytes)),
        sig,
        kinds: kinds(),
        fixed_kind: fixed_kind.map(|k| k.as_str()).unwrap_or("").to_string(),
        encoding: opts.encoding.as_str(),
        fields: Field::ALL
            .into_iter()
            .map(|f| (f.key(), f.label_key()))
            .collect(),
        columns,
        rows,
        more_rows: p.rows.len().saturating_sub(SHOW_ROWS),
        more_errors: p.errors.len().saturating_sub(SHOW_ERRORS),
        errors,
        can_commit: p.is_ok(),
    };
    Ok(Outcome::Ready(Box::new(page), p))
}

async fn start(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    org: OrgId,
    req: Request,
) -> Result<Outcome, Response> {
    // Scope first: another town's id is "not found" before the body is even read.
    let org_name = writable_town(state, me, org)
        .await
        .map_err(|e| fail(tr, e))?;
    let form = match read_form(state, req).await {
        Ok(f) => f,
        Err(FormError::TooLarge) => {
            let msg = tr.f(
                "imp.err.upload_too_large",
                &[("max", &(MAX_FILE_BYTES / (1024 * 1024)).to_string())],
            );
            return Err(render_status(
                StatusCode::PAYLOAD_TOO_LARGE,
                upload_page(tr, me, org, org_name, &UploadForm::default(), Some(msg)),
            ));
        }
        Err(FormError::Bad) => {
            let msg = tr.s("imp.err.no_file").to_string();
            return Err(render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                upload_page(tr, me, org, org_name, &UploadForm::default(), Some(msg)),
            ));
        }
    };
    build_preview(state, tr, me, org, org_name, form)
        .await
        .map_err(|e| fail(tr, e))
}

pub async fn preview(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(org): Path<i64>,
    req: Request,
) -> Response {
    match start(&state, tr, &me, OrgId(org), req).await {
        Ok(Outcome::Ready(page, p)) => {
            let status = if p.errors.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            render_status(status, *page)
        }
        Ok(Outcome::Unreadable(r)) | Err(r) => r,
    }
}

pub async fn commit(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(org): Path<i64>,
    req: Request,
) -> Response {
    let org = OrgId(org);
    let (mut page, p) = match start(&state, tr, &me, org, req).await {
        Ok(Outcome::Ready(page, p)) => (page, p),
        Ok(Outcome::Unreadable(r)) | Err(r) => return r,
    };
    if !p.is_ok() {
        return render_status(StatusCode::UNPROCESSABLE_ENTITY, *page);
    }
    match state.store.import_objects(&me.scope, org, &p).await {
        Ok(_) => done(&format!("/organisations/{org}/inventory"), "msg.saved"),
        Err(DomainError::Invalid(fe) | DomainError::Conflict(fe)) => {
            // Something changed between the check and the commit (or a rule only the database
            // sees): nothing was written; say so, with the reason.
            let reason =
                fe.0.first()
                    .map(|e| tr.s(e.message).to_string())
                    .unwrap_or_default();
            page.errors.insert(
                0,
                ErrorView {
                    at: tr.s("imp.at_file").to_string(),
                    message: tr.f("imp.err.commit_failed", &[("reason", &reason)]),
                },
            );
            page.can_commit = false;
            render_status(StatusCode::CONFLICT, *page)
        }
        Err(e) => fail(tr, e),
    }
}

fn attachment(content_type: &'static str, file: String, body: Vec<u8>) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

async fn town_graph(
    state: &AppState,
    me: &CurrentUser,
    org: OrgId,
) -> Result<
    (
        Vec<stadtmauer_inventory::model::Object>,
        Vec<(stadtmauer_core::ObjectId, stadtmauer_core::ObjectId)>,
    ),
    DomainError,
> {
    me.scope.require(org, Access::Read)?;
    state.store.town_graph(&me.scope, org).await
}

pub async fn export_csv(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(org): Path<i64>,
) -> Response {
    let org = OrgId(org);
    match town_graph(&state, &me, org).await {
        Ok((objects, links)) => attachment(
            "text/csv; charset=utf-8",
            format!("inventar-{org}.csv"),
            stadtmauer_inventory::export::to_csv(org, &objects, &links),
        ),
        Err(e) => fail(tr, e),
    }
}

pub async fn export_xlsx(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(org): Path<i64>,
) -> Response {
    let org = OrgId(org);
    match town_graph(&state, &me, org).await {
        Ok((objects, links)) => {
            match stadtmauer_inventory::export::to_xlsx(org, &objects, &links) {
                Ok(bytes) => attachment(
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    format!("inventar-{org}.xlsx"),
                    bytes,
                ),
                Err(e) => fail(tr, DomainError::Internal(format!("xlsx export: {e}"))),
            }
        }
        Err(e) => fail(tr, e),
    }
}

pub async fn export_json(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(org): Path<i64>,
) -> Response {
    let org = OrgId(org);
    match town_graph(&state, &me, org).await {
        Ok((objects, links)) => {
            let v = stadtmauer_inventory::export::to_json(org, &objects, &links);
            match serde_json::to_vec_pretty(&v) {
                Ok(bytes) => attachment("application/json", format!("inventar-{org}.json"), bytes),
                Err(e) => fail(tr, DomainError::Internal(format!("json export: {e}"))),
            }
        }
        Err(e) => fail(tr, e),
    }
}
