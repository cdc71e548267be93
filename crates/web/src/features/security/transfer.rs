//! Exchanging a town's assessment with other tools: the Statement of Applicability (CSV and
//! XLSX) and the answers as OSCAL 1.1 assessment-results (export, and import into a town).
//!
//! The assessment-results mapping of a stored answer (see `stadtmauer_catalog::results`):
//! organisation-wide answers become findings; per-object answers become the finding's objects
//! (object referenced by its name, so a file can be imported into another town with objects of
//! the same names; only status and note travel per object). Evidence travels as back-matter
//! resources: a file as `stadtmauer:file:<media type>:<size>` with its SHA-256 (the bytes stay in
//! the exporting town), a link as its URL, a record as `stadtmauer:record:<kind>:<id>`; a
//! validity date is appended as `#valid-until=YYYY-MM-DD`.
//!
//! The assessment as a spreadsheet (every field of every answer, also per object, so nothing is
//! lost on the way to another installation) is in [`xlsx`].

use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::features::security::catalog::{library, unavailable, Library};
use crate::features::security::town::{rref, today, town_requirements, TargetReqs};
use crate::features::{done, fail, render, render_status, FlashQuery};
use crate::i18n::Tr;
use crate::view::Chrome;
use crate::AppState;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::Digest as _;
use stadtmauer_assessment::evidence::{Evidence, EvidenceItem, RecordKind};
use stadtmauer_assessment::soa::{soa_csv, statement_of_applicability, Justification, SoaRow};
use stadtmauer_assessment::{Answer, RequirementRef, SecLevel as ASecLevel, Status};
use stadtmauer_catalog::results::{self, Assessment, ObjectAnswer, Status as RStatus};
use stadtmauer_core::org::Organisation;
use stadtmauer_core::{Access, DomainError, ObjectId, OrgId, Scope};
use std::collections::{BTreeMap, HashMap};
use time::OffsetDateTime;

pub(crate) mod xlsx;

/// Largest assessment-results file accepted (the request may be a little larger).
pub const RESULTS_MAX: usize = 16 * 1024 * 1024;
pub const RESULTS_BODY_MAX: usize = RESULTS_MAX + 64 * 1024;

fn attachment(content_type: &'static str, file: String, body: Vec<u8>) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

// ---------------------------------------------------------------------------------------------
// Statement of Applicability
// ---------------------------------------------------------------------------------------------

async fn soa_rows(
    state: &AppState,
    scope: &Scope,
    lib: &Library,
    org: OrgId,
) -> Result<Vec<SoaRow>, DomainError> {
    state.store.organisation(scope, org).await?;
    let objects = state.store.objects(scope, org, None, false).await?;
    let answers: Vec<Answer> = state
        .store
        .answers(scope, org)
        .await?
        .into_iter()
        .map(|s| s.answer)
        .collect();
    let measures: Vec<_> = state
        .store
        .measures(scope, org)
        .await?
        .into_iter()
        .map(|(_, m, _)| m)
        .collect();
    let set = TargetReqs::load(state, scope, org).await?;
    let reqs = town_requirements(lib, &set, &objects);
    let refs: Vec<RequirementRef> = reqs.iter().map(|t| rref(t.req)).collect();
    Ok(statement_of_applicability(
        &refs,
        &answers,
        &measures,
        org,
        ASecLevel::Erhoeht,
        today(),
    ))
}

/// `GET /organisations/{id}/security/soa.csv`: the SoA as CSV in the user's language.
pub async fn soa_csv_export(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Response {
    let Some(lib) = library() else {
        return unavailable(tr);
    };
    let org = OrgId(id);
    let rows = match soa_rows(&state, &me.scope, lib, org).await {
        Ok(r) => r,
        Err(e) => return fail(tr, e),
    };
    match soa_csv(&rows, |k| tr.s(k).to_string()) {
        Ok(csv) => attachment(
            "text/csv; charset=utf-8",
            format!("soa-{id}.csv"),
            csv.into_bytes(),
        ),
        Err(_) => PageError::status(tr, StatusCode::INTERNAL_SERVER_ERROR).into_response(),
    }
}

/// The SoA as a table of strings (the same columns and cells as the CSV).
fn soa_table(rows: &[SoaRow], tr: Tr) -> Vec<Vec<String>> {
    let mut out = vec![[
        "soa.col.requirement",
        "soa.col.practice",
        "soa.col.sec_level",
        "soa.col.applicable",
        "soa.col.justification",
        "soa.col.status",
        "soa.col.measures",
    ]
    .map(|k| tr.s(k).to_string())
    .to_vec()];
    for r in rows {
        let justification = match &r.justification {
            Justification::TargetLevel { level } => tr.s(level.label_key()).to_string(),
            Justification::NotApplicable { reasons } => reasons.join(" | "),
        };
        let measures = r
            .measures
            .iter()
            .map(|m| {
                format!(
                    "{} ({}, {}, {})",
                    m.title,
                    tr.s(m.priority.label_key()),
                    tr.s(m.status.label_key()),
                    m.deadline
                        .map(stadtmauer_assessment::date::format_date)
                        .unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join(" | ");
        out.push(vec![
            r.requirement_id.clone(),
            r.practice.clone(),
            tr.s(r.sec_level.label_key()).to_string(),
            tr.s(if r.applicable { "soa.yes" } else { "soa.no" })
                .to_string(),
            justification,
            tr.s(r.status.label_key()).to_string(),
            measures,
        ]);
    }
    out
}

fn xlsx(table: &[Vec<String>], sheet: &str) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name(sheet)?;
    for (r, row) in table.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            if r == 0 {
                ws.write_string_with_format(r, c, v, &bold)?;
            } else if !v.is_empty() {
                // Always a string cell: never a formula, whatever the text starts with.
                ws.write_string(r, c, v)?;
            }
        }
    }
    ws.set_freeze_panes(1, 0)?;
    for c in 0..table.first().map(|h| h.len()).unwrap_or(0) {
        ws.set_column_width(c as u16, 22)?;
    }
    wb.save_to_buffer()
}

/// `GET /organisations/{id}/security/soa.xlsx`: the SoA as a spreadsheet, every cell a string.
pub async fn soa_xlsx_export(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Response {
    let Some(lib) = library() else {
        return unavailable(tr);
    };
    let org = OrgId(id);
    let rows = match soa_rows(&state, &me.scope, lib, org).await {
        Ok(r) => r,
        Err(e) => return fail(tr, e),
    };
    match xlsx(&soa_table(&rows, tr), "SoA") {
        Ok(bytes) => attachment(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            format!("soa-{id}.xlsx"),
            bytes,
        ),
        Err(_) => PageError::status(tr, StatusCode::INTERNAL_SERVER_ERROR).into_response(),
    }
}

// ---------------------------------------------------------------------------------------------
// OSCAL assessment-results
// ---------------------------------------------------------------------------------------------

fn r_status(s: Status) -> RStatus {
    match s {
        Status::Ja => RStatus::Ja,
        Status::Teilweise => RStatus::Teilweise,
        Status::Nein => RStatus::Nein,
        Status::Entbehrlich => RStatus::Entbehrlich,
        Status::Offen => RStatus::Offen,
    }
}

fn a_status(s: RStatus) -> Status {
    match s {
        RStatus::Ja => Status::Ja,
        RStatus::Teilweise => Status::Teilweise,
        RStatus::Nein => Status::Nein,
        RStatus::Entbehrlich => Status::Entbehrlich,
        RStatus::Offen => Status::Offen,
    }
}

fn line(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// A name-based UUID (version-5 layout over SHA-256) so a town's export is stable.
fn uuid_for(seed: &str) -> String {
    let h = sha2::Sha256::digest(seed.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    )
}

const VALID_UNTIL: &str = "#valid-until=";
const FILE_REF: &str = "stadtmauer:file:";
const RECORD_REF: &str = "stadtmauer:record:";

/// `stadtmauer:file:<media type>:<size>`, the reference of an uploaded file (the bytes stay in
/// the exporting town; the SHA-256 and the name travel beside it).
fn file_href(media_type: &str, size: u64) -> String {
    format!("{FILE_REF}{media_type}:{size}")
}

/// `stadtmauer:record:<kind>:<id>`.
fn record_href(record: RecordKind, id: i64) -> String {
    format!("{RECORD_REF}{}:{id}", record.as_str())
}

/// The evidence an href (without its validity) names: a file (with the SHA-256 and the name
/// that travel beside the href), a record, or a web link. `None` for anything else.
fn reference_in(href: &str, sha256: &str, name: &str) -> Option<Evidence> {
    if let Some(rest) = href.strip_prefix(FILE_REF) {
        let (media_type, size) = rest.rsplit_once(':')?;
        Some(Evidence::File {
            sha256: sha256.to_string(),
            size: size.parse().ok()?,
            media_type: media_type.to_string(),
            name: name.to_string(),
        })
    } else if let Some(rest) = href.strip_prefix(RECORD_REF) {
        let (kind, id) = rest.split_once(':')?;
        Some(Evidence::Record {
            record: RecordKind::parse(kind)?,
            id: id.parse().ok()?,
        })
    } else if stadtmauer_assessment::evidence::is_web_url(href) {
        Some(Evidence::Link {
            url: href.to_string(),
        })
    } else {
        None
    }
}

fn evidence_out(e: &EvidenceItem) -> results::Evidence {
    let (title, href, sha) = match &e.evidence {
        Evidence::File {
            sha256,
            size,
            media_type,
            name,
        } => (
            name.trim().to_string(),
            file_href(media_type, *size),
            sha256.clone(),
        ),
        Evidence::Link { url } => (url.clone(), url.clone(), String::new()),
        Evidence::Record { record, id } => {
            let href = record_href(*record, *id);
            (href.clone(), href, String::new())
        }
    };
    let href = match e.valid_until {
        Some(d) => format!(
            "{href}{VALID_UNTIL}{}",
            stadtmauer_assessment::date::format_date(d)
        ),
        None => href,
    };
    let sha = if sha.is_empty() {
        hex::encode(sha2::Sha256::digest(href.as_bytes()))
    } else {
        sha
    };
    results::Evidence {
        title: if title.is_empty() {
            href.clone()
        } else {
            title
        },
        href,
        sha256: sha,
    }
}

fn evidence_in(e: &results::Evidence) -> Option<EvidenceItem> {
    let (href, valid_until) = match e.href.rsplit_once(VALID_UNTIL) {
        Some((h, d)) => (h, Some(stadtmauer_assessment::date::parse_date(d)?)),
        None => (e.href.as_str(), None),
    };
    Some(EvidenceItem {
        evidence: reference_in(href, &e.sha256, &e.title)?,
        valid_until,
    })
}

/// The town's answers in the neutral assessment form.
async fn assessment_of(
    state: &AppState,
    scope: &Scope,
    org: &Organisation,
) -> Result<Assessment, DomainError> {
    let target = state.store.town_target(scope, org.id).await?;
    let objects = state.store.objects(scope, org.id, None, false).await?;
    let names: HashMap<ObjectId, String> = objects
        .iter()
        .map(|o| (o.id, o.data.name.trim().to_string()))
        .collect();
    let stored = state.store.answers(scope, org.id).await?;
    let mut by_req: BTreeMap<String, results::Answer> = BTreeMap::new();
    let mut last = 0i64;
    for s in &stored {
        last = last.max(s.updated_at);
        let a = &s.answer;
        let entry = by_req
            .entry(a.requirement_id.clone())
            .or_insert_with(|| results::Answer {
                control_id: a.requirement_id.clone(),
                status: RStatus::Offen,
                reason: None,
                note: None,
                responsible: None,
                evidence: vec![],
                assessed_on: None,
                review_by: None,
                objects: vec![],
            });
        match a.object_id {
            None => {
                entry.status = r_status(a.status);
                entry.reason = line(&a.reason);
                entry.note = line(&a.note);
                entry.responsible = line(&a.responsible);
                entry.evidence = a.evidence.iter().map(evidence_out).collect();
                entry.assessed_on = Some(a.assessed_on);
                entry.review_by = a.review_by;
            }
            Some(o) => {
                if let Some(name) = names.get(&o).filter(|n| !n.is_empty()) {
                    entry.objects.push(ObjectAnswer {
                        object_ref: name.clone(),
                        status: r_status(a.status),
                        note: line(&a.note),
                    });
                }
            }
        }
    }
    let t = target.effective();
    let when =
        OffsetDateTime::from_unix_timestamp(last.max(0)).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    Ok(Assessment {
        uuid: uuid_for(&format!("stadtmauer:assessment:{}", org.id.0)),
        title: format!("Sicherheitsniveau {}", org.name.trim()),
        town: org.name.trim().to_string(),
        version: last.to_string(),
        last_modified: when,
        start: when,
        catalog_title: format!("Grundschutz++ ({})", t.code()),
        catalog_version: "shipped".into(),
        catalog_href: format!("{}.json", t.code()),
        answers: by_req.into_values().collect(),
    })
}

/// `GET /organisations/{id}/security/assessment-results.json`.
pub async fn results_export(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Response {
    let o = match state.store.organisation(&me.scope, OrgId(id)).await {
        Ok(o) => o,
        Err(e) => return fail(tr, e),
    };
    if let Err(e) = me.scope.require(o.id, Access::Read) {
        return fail(tr, e);
    }
    let a = match assessment_of(&state, &me.scope, &o).await {
        Ok(a) => a,
        Err(e) => return fail(tr, e),
    };
    match results::write(&a) {
        Ok(json) => attachment(
            "application/json",
            format!("assessment-results-{id}.json"),
            json.into_bytes(),
        ),
        Err(e) => {
            tracing::warn!(org = id, "assessment-results export failed: {e}");
            PageError::status(tr, StatusCode::INTERNAL_SERVER_ERROR).into_response()
        }
    }
}

/// Turns a read assessment into answers for `org`; an error names the JSON path at fault.
fn answers_from(
    lib: &Library,
    set: &TargetReqs,
    a: &Assessment,
    objects: &HashMap<String, ObjectId>,
    at: time::Date,
) -> Result<Vec<Answer>, String> {
    const F: &str = "assessment-results.results[0].findings";
    let mut out = Vec::new();
    for (i, x) in a.answers.iter().enumerate() {
        let p = format!("{F}[{i}]");
        let Some(r) = set.find(lib, &x.control_id) else {
            return Err(format!(
                "{p}.target.target-id: unknown requirement {:?}",
                x.control_id
            ));
        };
        let mut evidence = Vec::new();
        for (j, e) in x.evidence.iter().enumerate() {
            match evidence_in(e) {
                Some(item) => evidence.push(item),
                None => {
                    return Err(format!(
                        "{p} evidence[{j}]: unsupported evidence reference {:?}",
                        e.href
                    ))
                }
            }
        }
        let org_wide_empty = x.status == RStatus::Offen
            && x.reason.is_none()
            && x.note.is_none()
            && x.responsible.is_none()
            && x.evidence.is_empty()
            && x.assessed_on.is_none()
            && x.review_by.is_none();
        let assessed_on = x.assessed_on.unwrap_or(at);
        if !org_wide_empty || x.objects.is_empty() {
            out.push(Answer {
                requirement_id: r.id.clone(),
                object_id: None,
                status: a_status(x.status),
                reason: x.reason.clone(),
                note: x.note.clone(),
                responsible: x.responsible.clone(),
                assessed_on,
                review_by: x.review_by,
                evidence,
            });
        }
        for (j, o) in x.objects.iter().enumerate() {
            let Some(oid) = objects.get(o.object_ref.trim()) else {
                return Err(format!(
                    "{p} object[{j}]: no object named {:?} in this town",
                    o.object_ref
                ));
            };
            out.push(Answer {
                requirement_id: r.id.clone(),
                object_id: Some(*oid),
                status: a_status(o.status),
                reason: None,
                note: o.note.clone(),
                responsible: None,
                assessed_on,
                review_by: None,
                evidence: vec![],
            });
        }
    }
    Ok(out)
}

/// Why an upload was refused, shown above the form it came from.
pub struct UploadError {
    /// The form: `json` (OSCAL assessment-results) or `xlsx`.
    pub at: &'static str,
    pub status: StatusCode,
    /// One line per error.
    pub lines: Vec<String>,
    /// English technical text (a JSON path) rather than a German sentence.
    pub technical: bool,
}

impl UploadError {
    pub(crate) fn new(at: &'static str, line: String) -> UploadError {
        UploadError {
            at,
            status: StatusCode::UNPROCESSABLE_ENTITY,
            lines: vec![line],
            technical: false,
        }
    }
    pub(crate) fn technical(at: &'static str, line: String) -> UploadError {
        UploadError {
            technical: true,
            ..UploadError::new(at, line)
        }
    }
    pub(crate) fn too_large(at: &'static str, tr: Tr, max: usize) -> UploadError {
        UploadError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            ..UploadError::new(at, too_large_message(tr, max))
        }
    }
}

/// "Die Datei ist größer als die erlaubten N MB."
pub(crate) fn too_large_message(tr: Tr, max: usize) -> String {
    tr.f(
        "sec.x.err.body_too_large",
        &[("mb", &(max / (1024 * 1024)).to_string())],
    )
}

/// The `file` field of a multipart upload (file name, bytes), `None` when the form has none.
/// `Err` is the status of a failed read: 413 when the body exceeds the route's limit.
pub(crate) async fn file_field(
    mp: &mut Multipart,
) -> Result<Option<(String, Vec<u8>)>, StatusCode> {
    let mut file = None;
    while let Some(field) = mp.next_field().await.map_err(|e| e.status())? {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("").to_string();
            let bytes = field.bytes().await.map_err(|e| e.status())?;
            file = Some((name, bytes.to_vec()));
        }
    }
    Ok(file)
}

#[derive(Template)]
#[template(path = "security/transfer.html")]
pub struct TransferPage {
    pub c: Chrome,
    pub org: Organisation,
    pub can_import: bool,
    pub error: Option<UploadError>,
}

impl TransferPage {
    /// The error of the form `at`, if it was that form's upload that failed.
    pub fn error_at(&self, at: &str) -> Option<&UploadError> {
        self.error.as_ref().filter(|e| e.at == at)
    }
}

async fn transfer_page(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    org: OrgId,
    msg: Option<&str>,
    error: Option<UploadError>,
) -> Response {
    let o = match state.store.organisation(&me.scope, org).await {
        Ok(o) => o,
        Err(e) => return fail(tr, e),
    };
    if let Err(e) = me.scope.require(org, Access::Read) {
        return fail(tr, e);
    }
    let status = error.as_ref().map(|e| e.status);
    let page = TransferPage {
        c: Chrome::new(tr, me, tr.s("sec.x.title"), "organisations").with_flash(msg),
        org: o,
        can_import: me.scope.may(org, Access::WriteTechnical),
        error,
    };
    match status {
        Some(s) => render_status(s, page),
        None => render(page),
    }
}

/// `GET /organisations/{id}/security/transfer`: the exports and the import form.
pub async fn transfer(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<FlashQuery>,
) -> Response {
    transfer_page(&state, tr, &me, OrgId(id), q.msg.as_deref(), None).await
}

/// The file of an import form (field `file`, at most [`RESULTS_MAX`] as sent): the form's
/// refusal for a missing, empty or too large file (`Err(Ok)`), or an error page (`Err(Err)`).
async fn uploaded(
    tr: Tr,
    mp: Result<Multipart, axum::extract::multipart::MultipartRejection>,
    kind: &'static str,
) -> Result<(String, Vec<u8>), Result<UploadError, Response>> {
    let Ok(mut mp) = mp else {
        return Err(Err(
            PageError::status(tr, StatusCode::BAD_REQUEST).into_response()
        ));
    };
    match file_field(&mut mp).await {
        Ok(Some((name, bytes))) if !bytes.is_empty() => Ok((name, bytes)),
        Ok(_) => Err(Ok(UploadError::new(kind, tr.s("sec.x.err.empty").into()))),
        Err(StatusCode::PAYLOAD_TOO_LARGE) => {
            Err(Ok(UploadError::too_large(kind, tr, RESULTS_MAX)))
        }
        Err(s) => Err(Err(PageError::status(tr, s).into_response())),
    }
}

/// `POST /organisations/{id}/security/assessment-results` (multipart, `?csrf=`): imports an
/// assessment-results file into the town, all or nothing.
pub async fn results_import(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    mp: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let org = OrgId(id);
    if let Err(e) = me.scope.require(org, Access::WriteTechnical) {
        return fail(tr, e);
    }
    let Some(lib) = library() else {
        return unavailable(tr);
    };
    let refuse = |e: UploadError| transfer_page(&state, tr, &me, org, None, Some(e));
    let (name, bytes) = match uploaded(tr, mp, "json").await {
        Ok(f) => f,
        Err(Ok(e)) => return refuse(e).await,
        Err(Err(r)) => return r,
    };
    if bytes.len() > RESULTS_MAX {
        return refuse(UploadError::new("json", tr.s("sec.x.err.too_large").into())).await;
    }
    let a = match results::read(&bytes) {
        Ok(a) => a,
        Err(e) => return refuse(UploadError::technical("json", e.to_string())).await,
    };
    let objects = match state.store.objects(&me.scope, org, None, false).await {
        Ok(o) => o,
        Err(e) => return fail(tr, e),
    };
    let by_name: HashMap<String, ObjectId> = objects
        .iter()
        .filter(|o| o.organisation_id == org)
        .map(|o| (o.data.name.trim().to_string(), o.id))
        .collect();
    let set = match TargetReqs::load(&state, &me.scope, org).await {
        Ok(s) => s,
        Err(e) => return fail(tr, e),
    };
    let answers = match answers_from(lib, &set, &a, &by_name, today()) {
        Ok(x) => x,
        Err(e) => return refuse(UploadError::technical("json", e)).await,
    };
    let source = if name.trim().is_empty() {
        "assessment-results.json".to_string()
    } else {
        name.trim().chars().take(200).collect()
    };
    match state
        .store
        .import_answers(&me.scope, org, &source, &answers)
        .await
    {
        Ok(_) => done(
            &format!("/organisations/{id}/security/transfer"),
            "msg.saved",
        ),
        Err(DomainError::Invalid(_)) => {
            refuse(UploadError::new("json", tr.s("sec.x.err.refused").into())).await
        }
        Err(e) => fail(tr, e),
    }
}

// ---------------------------------------------------------------------------------------------
// The assessment as a spreadsheet (lossless)
// ---------------------------------------------------------------------------------------------

/// `GET /organisations/{id}/security/assessment.xlsx`: every stored answer of the town, one row
/// each, every field (see [`xlsx`]); read access as for the OSCAL export.
pub async fn assessment_xlsx_export(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Response {
    let o = match state.store.organisation(&me.scope, OrgId(id)).await {
        Ok(o) => o,
        Err(e) => return fail(tr, e),
    };
    if let Err(e) = me.scope.require(o.id, Access::Read) {
        return fail(tr, e);
    }
    let objects = match state.store.objects(&me.scope, o.id, None, false).await {
        Ok(x) => x,
        Err(e) => return fail(tr, e),
    };
    let answers: Vec<Answer> = match state.store.answers(&me.scope, o.id).await {
        Ok(x) => x.into_iter().map(|s| s.answer).collect(),
        Err(e) => return fail(tr, e),
    };
    let own: Vec<_> = objects
        .into_iter()
        .filter(|x| x.organisation_id == o.id)
        .collect();
    let rows = xlsx::rows(&answers, &xlsx::object_labels(&own));
    // Excel holds at most 32,767 characters per cell; say which answer is too long instead of
    // writing a file Excel would refuse.
    if let Some(r) = rows
        .iter()
        .find(|r| r.iter().any(|c| c.chars().count() > 32_767))
    {
        let e = tr.f("sec.xl.err.cell_too_long", &[("requirement", &r[0])]);
        return transfer_page(
            &state,
            tr,
            &me,
            o.id,
            None,
            Some(UploadError::new("xlsx", e)),
        )
        .await;
    }
    let info = [
        (tr.s("sec.xl.info.town"), o.name.trim().to_string()),
        (
            tr.s("sec.xl.info.date"),
            stadtmauer_assessment::date::format_date(today()),
        ),
        (tr.s("sec.xl.info.answers"), rows.len().to_string()),
        (
            tr.s("sec.xl.info.format"),
            tr.s("sec.xl.info.format_text").to_string(),
        ),
        (
            tr.s("sec.xl.info.evidence"),
            tr.s("sec.xl.info.evidence_text").to_string(),
        ),
    ]
    .map(|(k, v)| (k.to_string(), v));
    match xlsx::workbook(&rows, &info) {
        Ok(bytes) => attachment(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            format!("bewertung-{id}.xlsx"),
            bytes,
        ),
        Err(e) => {
            // Only a cell over Excel's 32,767 characters (50 very long links) gets here.
            tracing::warn!(org = id, "assessment xlsx export failed: {e}");
            PageError::status(tr, StatusCode::INTERNAL_SERVER_ERROR).into_response()
        }
    }
}

/// `POST /organisations/{id}/security/assessment.xlsx` (multipart field `file`, `?csrf=`):
/// imports the spreadsheet of [`assessment_xlsx_export`] into the town. Every row is checked
/// first; one error and nothing is stored.
pub async fn assessment_xlsx_import(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    mp: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let org = OrgId(id);
    if let Err(e) = me.scope.require(org, Access::WriteTechnical) {
        return fail(tr, e);
    }
    let Some(lib) = library() else {
        return unavailable(tr);
    };
    let refuse = |e: UploadError| transfer_page(&state, tr, &me, org, None, Some(e));
    let (name, bytes) = match uploaded(tr, mp, "xlsx").await {
        Ok(f) => f,
        Err(Ok(e)) => return refuse(e).await,
        Err(Err(r)) => return r,
    };
    if bytes.len() > RESULTS_MAX {
        return refuse(UploadError::too_large("xlsx", tr, RESULTS_MAX)).await;
    }
    let rows = match tokio::task::spawn_blocking(move || xlsx::read_sheet(tr, &bytes)).await {
        Ok(Ok(rows)) => rows,
        Ok(Err(refusal)) => {
            let lines = refusal.shown(tr);
            return refuse(UploadError {
                lines,
                ..UploadError::new("xlsx", String::new())
            })
            .await;
        }
        Err(_) => return PageError::status(tr, StatusCode::INTERNAL_SERVER_ERROR).into_response(),
    };
    let objects: Vec<_> = match state.store.objects(&me.scope, org, None, false).await {
        Ok(o) => o.into_iter().filter(|o| o.organisation_id == org).collect(),
        Err(e) => return fail(tr, e),
    };
    // The requirements the town may answer: the shipped catalogs, its imported targets and the
    // Verbund's own requirements.
    let set = match TargetReqs::load(&state, &me.scope, org).await {
        Ok(s) => s,
        Err(e) => return fail(tr, e),
    };
    let known = |id: &str| set.find(lib, id).map(|r| r.id.clone());
    let answers = match xlsx::answers_from_rows(tr, &rows, known, &objects, today()) {
        Ok(a) => a,
        Err(refusal) => {
            let lines = refusal.shown(tr);
            return refuse(UploadError {
                lines,
                ..UploadError::new("xlsx", String::new())
            })
            .await;
        }
    };
    let source = if name.trim().is_empty() {
        "assessment.xlsx".to_string()
    } else {
        name.trim().chars().take(200).collect()
    };
    match state
        .store
        .import_answers(&me.scope, org, &source, &answers)
        .await
    {
        Ok(_) => done(
            &format!("/organisations/{id}/security/transfer"),
            "msg.saved",
        ),
        Err(DomainError::Invalid(_)) => {
            refuse(UploadError::new("xlsx", tr.s("sec.x.err.refused").into())).await
        }
        Err(e) => fail(tr, e),
    }
}
