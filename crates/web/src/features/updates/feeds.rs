//! The feeds (KEV, endoflife.date, CSAF): what is active, the import, and the notifications an
//! import owes.

use super::*;
use axum::extract::Multipart;
use stadtmauer_store::updates::{
    may_manage_feeds, FeedImportError, FeedInfo, FeedUpload, ImportOutcome,
};

pub struct FeedRow {
    pub kind: &'static str,
    pub source: String,
    pub snapshot: String,
    pub count: usize,
    pub detail_count: usize,
    pub last_import: String,
}

#[derive(Template)]
#[template(path = "updates/feeds.html")]
pub struct FeedsPage {
    pub c: Chrome,
    pub rows: Vec<FeedRow>,
    pub can_import: bool,
    pub error: Option<String>,
    pub result: Option<String>,
}

/// Rows of the feeds page; who imported is shown to administrators only (an office officer of
/// one Verbund is nobody else's business).
fn feed_rows(tr: Tr, infos: Vec<FeedInfo>, show_who: bool) -> Vec<FeedRow> {
    infos
        .into_iter()
        .map(|i| FeedRow {
            kind: tr.s(match i.kind {
                "kev" => "upd.feed.kev",
                "eol" => "upd.feed.eol",
                _ => "upd.feed.csaf",
            }),
            source: if i.source == "built-in" {
                tr.s("upd.feed.builtin").to_string()
            } else if i.source.is_empty() {
                "–".into()
            } else {
                i.source
            },
            snapshot: if i.snapshot.is_empty() {
                "–".into()
            } else {
                i.snapshot
            },
            count: i.count,
            detail_count: i.detail_count,
            last_import: match (i.imported_at, i.imported_by) {
                (Some(at), Some(by)) if show_who => format!("{} ({by})", fmt_ts(at)),
                (Some(at), _) => fmt_ts(at),
                _ => tr.s("upd.feed.never").to_string(),
            },
        })
        .collect()
}

async fn feeds_view(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    error: Option<String>,
    result: Option<String>,
) -> Result<Response, PageError> {
    let infos = state.store.feed_infos(&me.scope).await?;
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(render_status(
        status,
        FeedsPage {
            c: Chrome::new(tr, me, tr.s("upd.feeds.title"), "updates"),
            rows: feed_rows(tr, infos, me.scope.admin),
            can_import: may_manage_feeds(&me.scope),
            error,
            result,
        },
    ))
}

pub async fn feeds_page(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
) -> Result<Response, PageError> {
    feeds_view(&state, tr, &me, None, None).await
}

/// Imports a feed (multipart, CSRF token in `?csrf=`): `kind` kev | eol | csaf, one or more
/// `file`s, optional `date` (the end-of-life data's date).
pub async fn import(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    mp: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, PageError> {
    if !may_manage_feeds(&me.scope) {
        return Err(PageError::of(StatusCode::FORBIDDEN));
    }
    let Ok(mut mp) = mp else {
        return feeds_view(&state, tr, &me, Some(tr.s("upd.err.empty").into()), None).await;
    };
    let mut kind = String::new();
    let mut date = String::new();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    loop {
        match mp.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_string();
                if name == "file" {
                    let file_name = field.file_name().unwrap_or("").to_string();
                    match field.bytes().await {
                        Ok(b) if !b.is_empty() => files.push((file_name, b.to_vec())),
                        Ok(_) => {}
                        Err(_) => {
                            return feeds_view(
                                &state,
                                tr,
                                &me,
                                Some(tr.s("upd.err.too_large").into()),
                                None,
                            )
                            .await
                        }
                    }
                } else if let Ok(t) = field.text().await {
                    match name.as_str() {
                        "kind" => kind = t,
                        "date" => date = t,
                        _ => {}
                    }
                }
            }
            Ok(None) => break,
            Err(_) => {
                return feeds_view(
                    &state,
                    tr,
                    &me,
                    Some(tr.s("upd.err.too_large").into()),
                    None,
                )
                .await
            }
        }
    }
    let source = files
        .iter()
        .map(|f| f.0.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let source = if source.chars().count() > 200 {
        format!(
            "{} … ({} files)",
            source.chars().take(150).collect::<String>(),
            files.len()
        )
    } else {
        source
    };
    let upload = match kind.as_str() {
        "kev" => match files.into_iter().next() {
            Some((_, b)) => FeedUpload::Kev(b),
            None => FeedUpload::Kev(Vec::new()),
        },
        "eol" => {
            let snapshot = if date.trim().is_empty() {
                None
            } else {
                match parse_date(date.trim()) {
                    Some(d) => Some(d),
                    None => {
                        let key = date_error(date.trim(), "upd.err.date");
                        return feeds_view(&state, tr, &me, Some(tr.s(key).into()), None).await;
                    }
                }
            };
            FeedUpload::Eol { snapshot, files }
        }
        "csaf" => FeedUpload::Csaf(files),
        _ => return feeds_view(&state, tr, &me, Some(tr.s("upd.err.kind").into()), None).await,
    };
    let source = format!("upload: {source}");
    match state.store.import_feed(&me.scope, &source, upload).await {
        Ok(out) => {
            notify(&state, &me, &out).await;
            let msg = tr.f(
                "upd.feeds.imported",
                &[
                    ("products", &out.changed_products.to_string()),
                    ("touched", &out.touched_installations.to_string()),
                    (
                        "new",
                        &(out.new_findings + out.changed_findings).to_string(),
                    ),
                    ("resolved", &out.resolved_findings.to_string()),
                ],
            );
            feeds_view(&state, tr, &me, None, Some(msg)).await
        }
        Err(FeedImportError::Feed(m)) => {
            let msg = tr.f("upd.err.feed", &[("detail", &m)]);
            feeds_view(&state, tr, &me, Some(msg), None).await
        }
        Err(FeedImportError::Domain(DomainError::Invalid(e))) => {
            let key = e.0.first().map(|f| f.message).unwrap_or("upd.err.empty");
            feeds_view(&state, tr, &me, Some(tr.s(key).into()), None).await
        }
        Err(FeedImportError::Domain(e)) => Err(e.into()),
    }
}

/// Sends the notifications an import owes: one per Verbund with new findings in a member, naming
/// only that Verbund's towns and counts. Failures are logged (without the payload), never shown.
pub async fn notify(state: &AppState, me: &CurrentUser, out: &ImportOutcome) {
    if out.new_by_org.is_empty() {
        return;
    }
    let list = match state.store.notifications_for(&me.scope, out).await {
        Ok(l) => l,
        Err(_) => return,
    };
    for (v, cfg, towns) in list {
        if let Some(url) = cfg.webhook_url {
            let body = webhook_body(v, &towns);
            if let Err(e) = post_json(&url, &body).await {
                tracing::warn!(verbund = v.0, error = %e, "update notification webhook failed");
            }
        }
    }
}

/// The webhook payload of one Verbund: its own towns' names and counts of new findings.
pub fn webhook_body(v: VerbundId, towns: &[(String, usize)]) -> serde_json::Value {
    serde_json::json!({
        "event": "update_findings",
        "verbund_id": v.0,
        "new_findings": towns.iter().map(|t| t.1).sum::<usize>(),
        "towns": towns.iter().map(|(n, c)| serde_json::json!({"name": n, "new_findings": c})).collect::<Vec<_>>(),
    })
}

/// POSTs the JSON payload (reqwest; plain http unless the binary is built with a TLS backend).
async fn post_json(url: &str, body: &serde_json::Value) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let resp = client
        .post(url)
        .json(body)
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    if resp.status().is_success() {
        Ok(())
    } else {
        Err(format!("webhook answered {}", resp.status()))
    }
}
