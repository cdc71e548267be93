//! The emergency handbook: its contacts (alarm chain, crisis team, external) and the offline HTML
//! and PDF downloads.

use super::*;
use crate::i18n::Lang;
use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use stadtmauer_store::continuity::{handbook, ContactForm};

pub struct AlarmRow {
    pub i: usize,
    pub trigger: String,
    pub notify: String,
    pub phone: String,
    pub escalate: String,
}

pub struct CrisisRow {
    pub i: usize,
    pub role: String,
    pub member: String,
    pub deputy: String,
    pub warn: bool,
}

pub struct ExternalRow {
    pub i: usize,
    pub kind: String,
    pub name: String,
    pub phone: String,
    pub email: String,
    pub reference: String,
}

#[derive(Template)]
#[template(path = "continuity/contacts.html")]
pub struct ContactsPage {
    pub c: Chrome,
    pub org_id: OrgId,
    pub org_name: String,
    pub alarm: Vec<AlarmRow>,
    pub crisis: Vec<CrisisRow>,
    pub external: Vec<ExternalRow>,
    pub kinds: Vec<Choice>,
    pub phone_kinds: Vec<Choice>,
    pub warnings: Vec<String>,
    pub can_write: bool,
    pub section: String,
    pub form: ContactForm,
    pub last_export: Option<ExportInfo>,
    pub outdated: bool,
}

const CONTACT_KINDS: [&str; 8] = [
    "state_cert",
    "bsi",
    "police_zac",
    "data_protection",
    "insurer",
    "incident_response",
    "it_provider",
    "other",
];

fn person_text(tr: Tr, p: &bcm::handbook::Person) -> String {
    let mut s = p.name.clone();
    if let Some(f) = &p.function {
        s.push_str(&format!(" ({f})"));
    }
    for ph in &p.phones {
        s.push_str(&format!(
            " · ☎ {} [{}]",
            ph.number,
            tr.s(match ph.kind {
                bcm::handbook::PhoneKind::Mobile => "bcm.phone.mobile",
                bcm::handbook::PhoneKind::Private => "bcm.phone.private",
                bcm::handbook::PhoneKind::Office => "bcm.phone.office",
                bcm::handbook::PhoneKind::Satellite => "bcm.phone.satellite",
                bcm::handbook::PhoneKind::Radio => "bcm.phone.radio",
            })
        ));
    }
    if let Some(e) = &p.email {
        s.push_str(&format!(" · {e}"));
    }
    s
}

#[allow(clippy::too_many_arguments)] // one page, many ways to arrive at it
async fn contacts_view(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    org: OrgId,
    section: &str,
    form: ContactForm,
    errors: FieldErrors,
    flash: Option<&str>,
) -> Result<ContactsPage, DomainError> {
    let o = state.store.organisation(&me.scope, org).await?;
    let t = state.store.continuity(&me.scope, org).await?;
    let k = &t.contacts;
    let hb = bcm::handbook::Handbook {
        lang: bcm::labels::Lang::De,
        town: o.name.clone(),
        version: String::new(),
        date: today(),
        alarm_chain: k.alarm_chain.clone(),
        crisis_team: k.crisis_team.clone(),
        external: k.external.clone(),
        first_24h: Vec::new(),
        restart: Vec::new(),
        recovery: Vec::new(),
        procedures: bcm::handbook::procedure_sections(&t.bias, &t.names),
    };
    let warnings = hb
        .warnings()
        .iter()
        .map(|w| match w {
            bcm::handbook::HandbookWarning::NoDeputy { role } => {
                tr.f("bcm.warn.no_deputy", &[("role", role)])
            }
            bcm::handbook::HandbookWarning::NoIndependentPhone { role } => {
                tr.f("bcm.warn.no_independent_phone", &[("role", role)])
            }
            bcm::handbook::HandbookWarning::MissingContact { kind } => tr.f(
                "bcm.warn.missing_contact",
                &[("kind", &ds(tr, format!("bcm.{}", kind.label_key())))],
            ),
            bcm::handbook::HandbookWarning::NoProcedure { process } => {
                tr.f("bcm.warn.no_procedure", &[("process", process)])
            }
        })
        .collect();
    Ok(ContactsPage {
        c: Chrome::new(
            tr,
            me,
            tr.f("bcm.contacts.title", &[("name", &o.name)]),
            "organisations",
        )
        .with_flash(flash)
        .with_errors(errors),
        org_id: org,
        org_name: o.name,
        alarm: k
            .alarm_chain
            .iter()
            .enumerate()
            .map(|(i, a)| AlarmRow {
                i,
                trigger: a.trigger.clone(),
                notify: a.notify.clone(),
                phone: a.phone.clone().unwrap_or_else(|| "–".into()),
                escalate: a
                    .escalate_after
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "–".into()),
            })
            .collect(),
        crisis: k
            .crisis_team
            .iter()
            .enumerate()
            .map(|(i, r)| CrisisRow {
                i,
                role: r.role.clone(),
                member: person_text(tr, &r.member),
                deputy: r
                    .deputy
                    .as_ref()
                    .map(|d| person_text(tr, d))
                    .unwrap_or_else(|| tr.s("bcm.contacts.no_deputy").into()),
                warn: r.deputy.is_none(),
            })
            .collect(),
        external: k
            .external
            .iter()
            .enumerate()
            .map(|(i, e)| ExternalRow {
                i,
                kind: ds(tr, format!("bcm.{}", e.kind.label_key())),
                name: e.name.clone(),
                phone: e.phone.clone().unwrap_or_else(|| "–".into()),
                email: e.email.clone().unwrap_or_else(|| "–".into()),
                reference: e.reference.clone().unwrap_or_else(|| "–".into()),
            })
            .collect(),
        kinds: CONTACT_KINDS
            .iter()
            .map(|k| Choice {
                value: (*k).into(),
                label: ds(tr, format!("bcm.contact.{k}")),
                selected: form.kind.as_deref() == Some(*k),
            })
            .collect(),
        phone_kinds: ["mobile", "private", "office", "satellite", "radio"]
            .iter()
            .map(|k| Choice {
                value: (*k).into(),
                label: ds(tr, format!("bcm.phone.{k}")),
                selected: false,
            })
            .collect(),
        warnings,
        can_write: me.scope.may(org, Access::Write),
        section: section.to_string(),
        form,
        outdated: t.handbook_outdated(),
        last_export: t.last_export.as_ref().map(|e| ExportInfo {
            version: e.version,
            format: e.format.clone(),
            at: fmt_ts(e.created_at),
            checksum: e.checksum.clone(),
        }),
    })
}

pub async fn contacts_page(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(org): Path<i64>,
    Query(q): Query<FlashQuery>,
) -> Result<Response, PageError> {
    let p = contacts_view(
        &state,
        tr,
        &me,
        OrgId(org),
        "",
        ContactForm::default(),
        FieldErrors::default(),
        q.msg.as_deref(),
    )
    .await?;
    Ok(render(p))
}

pub async fn contact_add(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(org): Path<i64>,
    Form(f): Form<ContactForm>,
) -> Result<Response, PageError> {
    let org = OrgId(org);
    // The right first: a reader gets 403, not the form's field errors.
    me.scope.require(org, Access::Write)?;
    let mut c = state.store.continuity(&me.scope, org).await?.contacts;
    let r = match f.apply(&mut c) {
        Ok(()) => state.store.save_contacts(&me.scope, org, &c).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(()) => Ok(done(
            &format!("/organisations/{}/continuity/contacts", org.0),
            "msg.saved",
        )),
        Err(DomainError::Invalid(errs)) => {
            let section = f.section.clone();
            let p = contacts_view(&state, tr, &me, org, &section, f, errs, None).await?;
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, p))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RemoveForm {
    pub section: String,
    pub index: Option<String>,
}

pub async fn contact_remove(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<i64>,
    Form(f): Form<RemoveForm>,
) -> Result<Response, PageError> {
    let org = OrgId(org);
    me.scope.require(org, Access::Write)?;
    let mut c = state.store.continuity(&me.scope, org).await?.contacts;
    let i = f
        .index
        .as_deref()
        .and_then(|s| s.trim().parse::<usize>().ok());
    if !i.is_some_and(|i| c.remove(&f.section, i)) {
        return Err(PageError::of(StatusCode::NOT_FOUND));
    }
    state.store.save_contacts(&me.scope, org, &c).await?;
    Ok(done(
        &format!("/organisations/{}/continuity/contacts", org.0),
        "msg.deleted",
    ))
}

fn handbook_lang(tr: Tr) -> bcm::labels::Lang {
    match tr.lang {
        Lang::En => bcm::labels::Lang::En,
        _ => bcm::labels::Lang::De,
    }
}

/// Builds the handbook document for a town: version from the export record, date today. Also
/// returns the town's name and the data revision the document was made from.
async fn build_handbook(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    org: OrgId,
) -> Result<(bcm::handbook::Handbook, String, i64), DomainError> {
    let o = state.store.organisation(&me.scope, org).await?;
    let t = state.store.continuity(&me.scope, org).await?;
    let a = analyse(&t, today(), now_local(), 2);
    let h = handbook(
        &t,
        &a,
        &o.name,
        t.handbook_version(),
        today(),
        handbook_lang(tr),
    );
    Ok((h, o.name, t.data_revision))
}

/// A file name made of the town's name: ASCII letters and digits only.
fn file_name(town: &str, version: &str, ext: &str) -> String {
    let base: String = town
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!(
        "notfallhandbuch-{}-v{version}.{ext}",
        base.trim_matches('-')
    )
}

fn download(content_type: &'static str, name: String, body: Vec<u8>) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    r
}

pub async fn handbook_html(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(org): Path<i64>,
) -> Result<Response, PageError> {
    let org = OrgId(org);
    let (h, town, revision) = build_handbook(&state, tr, &me, org).await?;
    let html = bcm::handbook::render_html(&h);
    let sum = bcm::handbook::content_checksum(&h);
    let version: i64 = h.version.parse().unwrap_or(1);
    state
        .store
        .record_handbook_export(&me.scope, org, version, revision, "html", &sum)
        .await?;
    Ok(download(
        "text/html; charset=utf-8",
        file_name(&town, &h.version, "html"),
        html.into_bytes(),
    ))
}

/// Renders the handbook as PDF (blocking; call from a blocking thread). Returns the PDF and the
/// same content checksum as the HTML file.
pub fn handbook_pdf_bytes(h: &bcm::handbook::Handbook) -> Result<(Vec<u8>, String), String> {
    let data = stadtmauer_store::continuity::handbook_pdf_data(h).map_err(|e| e.to_string())?;
    let pdf = stadtmauer_pdf::render(
        stadtmauer_store::continuity::HANDBOOK_TYP,
        &[("data.json", data)],
        h.date,
    )
    .map_err(|e| e.to_string())?;
    Ok((pdf, bcm::handbook::content_checksum(h)))
}

pub async fn handbook_pdf(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(org): Path<i64>,
) -> Result<Response, PageError> {
    let org = OrgId(org);
    let (h, town, revision) = build_handbook(&state, tr, &me, org).await?;
    let version = h.version.clone();
    let rendered = tokio::task::spawn_blocking(move || handbook_pdf_bytes(&h)).await;
    let (pdf, sum) = match rendered {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "handbook PDF failed");
            return Err(DomainError::Internal("pdf".into()).into());
        }
        Err(e) => {
            tracing::error!(error = %e, "handbook PDF task failed");
            return Err(DomainError::Internal("pdf".into()).into());
        }
    };
    state
        .store
        .record_handbook_export(
            &me.scope,
            org,
            version.parse().unwrap_or(1),
            revision,
            "pdf",
            &sum,
        )
        .await?;
    Ok(download(
        "application/pdf",
        file_name(&town, &version, "pdf"),
        pdf,
    ))
}
