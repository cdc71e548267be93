//! Assessing one requirement: the answer form, its evidence references, saving.

use super::*;

// ---------------------------------------------------------------------------------------------
// Assessing one requirement
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
pub struct AssessQuery {
    pub id: Option<String>,
    pub msg: Option<String>,
}

pub struct EvidenceRow {
    pub label: String,
    pub href: Option<String>,
    pub valid_until: Option<String>,
}

/// One answer form: the town as a whole (object None) or one object.
pub struct AnswerForm {
    pub key: String,
    pub object_id: Option<ObjectId>,
    pub object_name: Option<String>,
    pub status: String,
    pub reason: String,
    pub note: String,
    pub responsible: String,
    pub assessed_on: String,
    pub review_by: String,
    pub effective: &'static str,
    pub expired: Option<&'static str>,
    pub evidence: Vec<EvidenceRow>,
    pub errors: FieldErrors,
    /// The requirement's text changed in a newer catalog version since this answer.
    pub needs_review: bool,
}

impl AnswerForm {
    pub fn err(&self, tr: &Tr, field: &str) -> Option<&'static str> {
        self.errors.get(field).map(|k| tr.get(k).unwrap_or(k))
    }
}

#[derive(Template)]
#[template(path = "security/assess.html")]
pub struct AssessPage {
    pub c: Chrome,
    pub org: Organisation,
    pub id: String,
    pub statement: Vec<String>,
    pub guidance: Vec<String>,
    pub sec_level: &'static str,
    pub in_list: bool,
    pub can_write: bool,
    pub forms: Vec<AnswerForm>,
    pub has_errors: bool,
    pub statuses: Vec<(&'static str, &'static str)>,
    pub attribution: &'static str,
}

pub(super) fn evidence_rows(org: OrgId, a: &Answer, tr: Tr) -> Vec<EvidenceRow> {
    a.evidence
        .iter()
        .map(|e| {
            let (label, href) = match &e.evidence {
                Evidence::File {
                    sha256, name, size, ..
                } => (
                    format!("{name} ({} kB)", size.div_ceil(1024)),
                    Some(format!(
                        "/organisations/{}/security/evidence?sha={sha256}",
                        org.0
                    )),
                ),
                Evidence::Link { url } => (url.clone(), Some(url.clone())),
                Evidence::Record { record, id } => {
                    (format!("{} #{id}", tr.s(record.label_key())), None)
                }
            };
            EvidenceRow {
                label,
                href,
                valid_until: e.valid_until.map(format_date),
            }
        })
        .collect()
}

pub(super) fn blank_form(key: String, object: Option<(ObjectId, String)>) -> AnswerForm {
    AnswerForm {
        key,
        object_id: object.as_ref().map(|o| o.0),
        object_name: object.map(|o| o.1),
        status: String::new(),
        reason: String::new(),
        note: String::new(),
        responsible: String::new(),
        assessed_on: String::new(),
        review_by: String::new(),
        effective: "",
        expired: None,
        evidence: vec![],
        errors: FieldErrors::default(),
        needs_review: false,
    }
}

pub(super) async fn assess_page(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    org_id: OrgId,
    req_id: &str,
    failed: Option<(Option<ObjectId>, &AnswerInput, FieldErrors)>,
    msg: Option<&str>,
) -> Response {
    let Some(lib) = library() else {
        return unavailable(tr);
    };
    let l = match load(state, &me.scope, org_id).await {
        Ok(l) => l,
        Err(e) => return fail(tr, e),
    };
    let Some(r) = l.set.find(lib, req_id) else {
        return PageError::status(tr, StatusCode::NOT_FOUND).into_response();
    };
    let reqs = town_requirements(lib, &l.set, &l.objects);
    let mine = reqs.iter().find(|t| t.req.id == r.id);
    let rr = rref(r);
    let at = today();
    let mut forms = vec![blank_form("org".into(), None)];
    if let Some(t) = mine {
        for (oid, name) in &t.objects {
            forms.push(blank_form(
                format!("o{}", oid.0),
                Some((*oid, name.clone())),
            ));
        }
    }
    for s in l.answers.iter().filter(|s| s.answer.requirement_id == r.id) {
        let a = &s.answer;
        let form = match forms.iter_mut().find(|f| f.object_id == a.object_id) {
            Some(f) => f,
            None => continue,
        };
        let eff = stadtmauer_assessment::effective::effective(a, rr.recurring, at);
        form.status = a.status.as_str().to_string();
        form.reason = a.reason.clone().unwrap_or_default();
        form.note = a.note.clone().unwrap_or_default();
        form.responsible = a.responsible.clone().unwrap_or_default();
        form.assessed_on = format_date(a.assessed_on);
        form.review_by = a.review_by.map(format_date).unwrap_or_default();
        form.effective = status_label(tr, eff.status);
        form.expired = eff.expired.map(|e| tr.s(e.key()));
        form.evidence = evidence_rows(org_id, a, tr);
        form.needs_review = s.needs_review;
    }
    if let Some((oid, input, errors)) = failed {
        if let Some(form) = forms.iter_mut().find(|f| f.object_id == oid) {
            form.status = input.status.clone();
            form.reason = input.reason.clone().unwrap_or_default();
            form.note = input.note.clone().unwrap_or_default();
            form.responsible = input.responsible.clone().unwrap_or_default();
            form.assessed_on = input.assessed_on.clone().unwrap_or_default();
            form.review_by = input.review_by.clone().unwrap_or_default();
            form.errors = errors;
        }
    }
    let has_errors = forms.iter().any(|f| !f.errors.is_empty());
    let page = AssessPage {
        c: Chrome::new(tr, me, format!("{} {}", r.id, r.title), "organisations").with_flash(msg),
        org: l.org,
        id: r.id.clone(),
        statement: paragraphs(&r.statement_text()),
        guidance: r.guidance.as_deref().map(paragraphs).unwrap_or_default(),
        sec_level: sec_level_label(tr, r.sec_level),
        in_list: mine.is_some(),
        can_write: me.scope.may(org_id, Access::WriteTechnical),
        forms,
        has_errors,
        statuses: Status::ALL
            .iter()
            .map(|s| (s.as_str(), status_label(tr, *s)))
            .collect(),
        attribution: stadtmauer_catalog::ATTRIBUTION,
    };
    if has_errors {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, page)
    } else {
        render(page)
    }
}

pub(super) fn paragraphs(s: &str) -> Vec<String> {
    s.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

pub async fn assess(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<AssessQuery>,
) -> Response {
    let org = OrgId(id);
    if me.scope.access(org).is_none() {
        return fail(tr, DomainError::NotFound);
    }
    let req = q.id.unwrap_or_default();
    assess_page(&state, tr, &me, org, req.trim(), None, q.msg.as_deref()).await
}

#[derive(Deserialize, Default)]
pub struct AnswerFormInput {
    pub requirement_id: Option<String>,
    pub object_id: Option<String>,
    pub status: Option<String>,
    pub reason: Option<String>,
    pub note: Option<String>,
    pub responsible: Option<String>,
    pub assessed_on: Option<String>,
    pub review_by: Option<String>,
    /// A link to add as evidence.
    pub evidence_url: Option<String>,
    /// A reference to another record (`kind:id`), to add as evidence.
    pub evidence_record: Option<String>,
    pub evidence_record_id: Option<String>,
    pub evidence_valid_until: Option<String>,
}

pub(super) fn opt(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// The evidence already recorded for the answer being replaced, so that saving the form keeps it.
pub(super) fn existing_evidence(prev: Option<&StoredAnswer>) -> Vec<EvidenceInput> {
    prev.map(|s| {
        s.answer
            .evidence
            .iter()
            .map(|e| {
                let valid_until = e.valid_until.map(format_date);
                match &e.evidence {
                    Evidence::File {
                        sha256,
                        size,
                        media_type,
                        name,
                    } => EvidenceInput {
                        kind: "file".into(),
                        sha256: Some(sha256.clone()),
                        size: Some(size.to_string()),
                        media_type: Some(media_type.clone()),
                        name: Some(name.clone()),
                        valid_until,
                        ..Default::default()
                    },
                    Evidence::Link { url } => EvidenceInput {
                        kind: "link".into(),
                        url: Some(url.clone()),
                        valid_until,
                        ..Default::default()
                    },
                    Evidence::Record { record, id } => EvidenceInput {
                        kind: "record".into(),
                        record: Some(record.as_str().into()),
                        record_id: Some(id.to_string()),
                        valid_until,
                        ..Default::default()
                    },
                }
            })
            .collect()
    })
    .unwrap_or_default()
}

/// A requirement the town may answer (see [`TargetReqs::find`]).
pub async fn find_requirement(
    state: &AppState,
    scope: &Scope,
    org: OrgId,
    lib: &Library,
    id: &str,
) -> Result<Option<Requirement>, DomainError> {
    if let Some((_, r)) = lib.find(id.trim()) {
        return Ok(Some(r.clone()));
    }
    let set = TargetReqs::load(state, scope, org).await?;
    Ok(set.find(lib, id).cloned())
}

pub async fn save_answer(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<AnswerFormInput>,
) -> Response {
    let org = OrgId(id);
    if let Err(e) = me.scope.require(org, Access::WriteTechnical) {
        return fail(tr, e);
    }
    let Some(lib) = library() else {
        return unavailable(tr);
    };
    let req_id = opt(&f.requirement_id).unwrap_or_default();
    let r = match find_requirement(&state, &me.scope, org, lib, &req_id).await {
        Ok(Some(r)) => r,
        Ok(None) => return PageError::status(tr, StatusCode::NOT_FOUND).into_response(),
        Err(e) => return fail(tr, e),
    };
    let object_id = opt(&f.object_id)
        .and_then(|o| o.parse::<i64>().ok())
        .map(ObjectId);
    let prev = match state.store.answers_for(&me.scope, org, &r.id).await {
        Ok(list) => list.into_iter().find(|s| s.answer.object_id == object_id),
        Err(e) => return fail(tr, e),
    };
    let mut evidence = existing_evidence(prev.as_ref());
    if let Some(url) = opt(&f.evidence_url) {
        evidence.push(EvidenceInput {
            kind: "link".into(),
            url: Some(url),
            valid_until: opt(&f.evidence_valid_until),
            ..Default::default()
        });
    }
    if let Some(record) = opt(&f.evidence_record) {
        evidence.push(EvidenceInput {
            kind: "record".into(),
            record: Some(record),
            record_id: opt(&f.evidence_record_id),
            valid_until: opt(&f.evidence_valid_until),
            ..Default::default()
        });
    }
    let input = AnswerInput {
        requirement_id: r.id.clone(),
        object_id: object_id.map(|o| o.0.to_string()),
        status: f.status.clone().unwrap_or_default(),
        reason: f.reason.clone(),
        note: f.note.clone(),
        responsible: f.responsible.clone(),
        assessed_on: f.assessed_on.clone(),
        review_by: f.review_by.clone(),
        evidence,
    };
    let answer = match input.validate(today()) {
        Ok(a) => a,
        Err(DomainError::Invalid(errors)) => {
            return assess_page(
                &state,
                tr,
                &me,
                org,
                &r.id,
                Some((object_id, &input, errors)),
                None,
            )
            .await
        }
        Err(e) => return fail(tr, e),
    };
    match state.store.save_answer(&me.scope, org, &answer).await {
        Ok(_) => done(
            &format!("/organisations/{id}/security/requirement?id={}", r.id),
            "msg.saved",
        ),
        Err(DomainError::Invalid(errors)) => {
            assess_page(
                &state,
                tr,
                &me,
                org,
                &r.id,
                Some((object_id, &input, errors)),
                None,
            )
            .await
        }
        Err(e) => fail(tr, e),
    }
}
