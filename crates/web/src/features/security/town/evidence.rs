//! Evidence files of an answer: upload, download, removal.

use super::*;

// ---------------------------------------------------------------------------------------------
// Evidence files
// ---------------------------------------------------------------------------------------------

/// Uploads a file as evidence of one answer (multipart; CSRF token in `?csrf=`). The type is
/// decided by the file's first bytes, never by its name or declared type alone.
pub async fn upload_evidence(
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
    let Ok(mut mp) = mp else {
        return PageError::status(tr, StatusCode::BAD_REQUEST).into_response();
    };
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut file: Option<(String, String, Vec<u8>)> = None;
    loop {
        match mp.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_string();
                if name == "file" {
                    let file_name = field.file_name().unwrap_or("").to_string();
                    let declared = field.content_type().unwrap_or("").to_string();
                    match field.bytes().await {
                        Ok(b) => file = Some((file_name, declared, b.to_vec())),
                        Err(_) => {
                            return PageError::status(tr, StatusCode::PAYLOAD_TOO_LARGE)
                                .into_response()
                        }
                    }
                } else if let Ok(t) = field.text().await {
                    fields.insert(name, t);
                }
            }
            Ok(None) => break,
            Err(e) => return PageError::status(tr, e.status()).into_response(),
        }
    }
    let req_id = fields.get("requirement_id").cloned().unwrap_or_default();
    let r = match find_requirement(&state, &me.scope, org, lib, &req_id).await {
        Ok(Some(r)) => r,
        Ok(None) => return PageError::status(tr, StatusCode::NOT_FOUND).into_response(),
        Err(e) => return fail(tr, e),
    };
    let object_id = fields
        .get("object_id")
        .and_then(|o| o.trim().parse::<i64>().ok())
        .map(ObjectId);
    let back = format!("/organisations/{id}/security/requirement?id={}", r.id);
    let Some((name, declared, bytes)) = file else {
        return field_error(&state, tr, &me, org, &r.id, object_id, "err.evidence.empty").await;
    };
    let policy = EvidencePolicy {
        max_size: EVIDENCE_MAX,
    };
    let ft = match policy.check(&name, &declared, &bytes, bytes.len() as u64) {
        Ok(ft) => ft,
        Err(rej) => {
            return field_error(&state, tr, &me, org, &r.id, object_id, rej.key()).await;
        }
    };
    let stored = match state
        .store
        .store_evidence_file(&me.scope, org, name.trim(), ft.media_type(), &bytes)
        .await
    {
        Ok(f) => f,
        Err(e) => return fail(tr, e),
    };
    // Attach it to the answer (an answer "offen" is created if there is none yet).
    let prev = match state.store.answers_for(&me.scope, org, &r.id).await {
        Ok(list) => list.into_iter().find(|s| s.answer.object_id == object_id),
        Err(e) => return fail(tr, e),
    };
    let mut evidence = existing_evidence(prev.as_ref());
    evidence.push(EvidenceInput {
        kind: "file".into(),
        sha256: Some(stored.sha256.clone()),
        size: Some(stored.size.to_string()),
        media_type: Some(stored.media_type.clone()),
        name: Some(stored.name.clone()),
        valid_until: fields
            .get("valid_until")
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty()),
        ..Default::default()
    });
    let base = prev.map(|p| p.answer);
    let input = AnswerInput {
        requirement_id: r.id.clone(),
        object_id: object_id.map(|o| o.0.to_string()),
        status: base
            .as_ref()
            .map(|b| b.status.as_str().to_string())
            .unwrap_or_else(|| "offen".into()),
        reason: base.as_ref().and_then(|b| b.reason.clone()),
        note: base.as_ref().and_then(|b| b.note.clone()),
        responsible: base.as_ref().and_then(|b| b.responsible.clone()),
        assessed_on: base.as_ref().map(|b| format_date(b.assessed_on)),
        review_by: base.as_ref().and_then(|b| b.review_by.map(format_date)),
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
        Ok(_) => done(&back, "msg.saved"),
        Err(e) => fail(tr, e),
    }
}

pub(super) async fn field_error(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    org: OrgId,
    req: &str,
    object_id: Option<ObjectId>,
    key: &'static str,
) -> Response {
    let mut errors = FieldErrors::default();
    errors.add("evidence", key);
    let input = AnswerInput::default();
    let mut resp = assess_page(
        state,
        tr,
        me,
        org,
        req,
        Some((object_id, &input, errors)),
        None,
    )
    .await;
    *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    resp
}

#[derive(Deserialize, Default)]
pub struct EvidenceQuery {
    pub sha: Option<String>,
}

/// Serves an evidence file to users who may read the town: always as a download
/// (`Content-Disposition: attachment`, `nosniff`), never inline.
pub async fn download_evidence(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<EvidenceQuery>,
) -> Response {
    let org = OrgId(id);
    let sha = q.sha.unwrap_or_default().to_ascii_lowercase();
    if me.scope.access(org).is_none() {
        return fail(tr, DomainError::NotFound);
    }
    let (meta, bytes) = match state.store.evidence_content(&me.scope, org, &sha).await {
        Ok(x) => x,
        Err(e) => return fail(tr, e),
    };
    let safe: String = meta
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, meta.media_type.clone()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{safe}\""),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; sandbox".to_string(),
            ),
        ],
        bytes,
    )
        .into_response()
}
