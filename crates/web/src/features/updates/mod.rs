//! The update watch: the active feeds and their import (administrators and office officers), a
//! town's installations with their findings (unsupported, support ending, advisories, KEV), the
//! measure or exception a finding became, patch latency, the office's view over its members with
//! notifications, the alias table, and the installed-software section of a system's page.

use crate::auth::CurrentUser;
use crate::features::{done, fail, render, render_status};
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::view::Chrome;
use crate::AppState;
use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::handler::Handler;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use stadtmauer_assessment::date::{format_date, parse_date};
use stadtmauer_core::org::Organisation;
use stadtmauer_core::validate::{date_error, is_email, FieldErrors};
use stadtmauer_core::{Access, DomainError, ObjectId, OrgId, Owner, VerbundId};
use stadtmauer_inventory::model::{Object, ObjectKind};
use stadtmauer_store::updates::stadtmauer_lifecycle::identity::{Unrecognised, UserAlias};
use stadtmauer_store::updates::{
    may_manage_feeds, normalize_row, FeedImportError, FeedInfo, FeedUpload, FindingException,
    FindingPlan, FindingState, ImportOutcome, NotifyConfig, StoredFinding, PLAN_STATUSES,
};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use time::Date;

/// Largest feed upload (the KEV catalog is about 1.5 MB; CSAF sets can be larger).
pub const FEED_BODY_MAX: usize = 64 * 1024 * 1024;

pub(crate) fn routes() -> Routes {
    Routes::new(false, false)
        .get("/updates/feeds", feeds_page)
        .post(
            "/updates/feeds",
            import.layer(DefaultBodyLimit::max(FEED_BODY_MAX)),
        )
        .get("/updates/aliases", aliases_page)
        .post("/updates/aliases", add_alias)
        .post("/updates/aliases/remove", remove_alias)
        .get("/organisations/{org_id}/updates", town)
        .post("/organisations/{org_id}/updates/plan", plan)
        .post("/organisations/{org_id}/updates/exception", exception)
        .get("/verbuende/{verbund_id}/updates", verbund)
        .post("/verbuende/{verbund_id}/updates/notify", set_notify)
        .post("/inventory/{object_id}/software", add_software)
        .post("/inventory/{object_id}/software/remove", remove_software)
}

pub(crate) fn api_routes() -> Routes {
    Routes::new(true, false)
}

fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

fn fmt_ts(ts: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ts)
        .map(|t| format_date(t.date()))
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Feeds
// ---------------------------------------------------------------------------------------------

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
) -> Response {
    let infos = match state.store.feed_infos(&me.scope).await {
        Ok(i) => i,
        Err(e) => return fail(tr, e),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_status(
        status,
        FeedsPage {
            c: Chrome::new(tr, me, tr.s("upd.feeds.title"), "updates"),
            rows: feed_rows(tr, infos, me.scope.admin),
            can_import: may_manage_feeds(&me.scope),
            error,
            result,
        },
    )
}

pub async fn feeds_page(State(state): State<AppState>, tr: Tr, me: CurrentUser) -> Response {
    feeds_view(&state, tr, &me, None, None).await
}

/// Imports a feed (multipart, CSRF token in `?csrf=`): `kind` kev | eol | csaf, one or more
/// `file`s, optional `date` (the end-of-life data's date).
pub async fn import(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    mp: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    if !may_manage_feeds(&me.scope) {
        return fail(tr, DomainError::Forbidden);
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
        Err(FeedImportError::Domain(e)) => fail(tr, e),
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

// ---------------------------------------------------------------------------------------------
// A town's findings
// ---------------------------------------------------------------------------------------------

pub struct ProcRow {
    pub id: ObjectId,
    pub name: String,
    pub level: &'static str,
}

pub struct FindingRow {
    pub id: i64,
    pub object_id: ObjectId,
    pub object_name: String,
    pub product: String,
    pub kind_code: String,
    pub kind: &'static str,
    pub detail: String,
    pub state_code: &'static str,
    pub state: &'static str,
    pub owner: String,
    pub due: String,
    pub exception: String,
    pub first_seen: String,
    pub processes: Vec<ProcRow>,
}

pub struct InstRow {
    pub object_id: ObjectId,
    pub object_name: String,
    pub product: String,
    pub version: String,
    pub identity: String,
    pub recognised: bool,
    pub reason: String,
    pub pattern: String,
    pub findings: Vec<&'static str>,
}

pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct EditForm {
    pub id: i64,
    pub title: String,
    pub owner: String,
    pub due: String,
    pub status_opts: Vec<Opt>,
    pub reason: String,
    pub approver: String,
    pub until: String,
    pub has_exception: bool,
}

#[derive(Template)]
#[template(path = "updates/town.html")]
pub struct TownPage {
    pub c: Chrome,
    pub org: Organisation,
    pub insts: Vec<InstRow>,
    pub findings: Vec<FindingRow>,
    pub can_write: bool,
    pub edit: Option<EditForm>,
    pub latency_count: usize,
    pub latency_median: String,
    pub latency_p90: String,
    pub counts: Vec<(&'static str, usize)>,
}

#[derive(Deserialize, Default)]
pub struct TownQuery {
    pub msg: Option<String>,
    pub finding: Option<String>,
}

fn kind_label(tr: Tr, k: &str) -> &'static str {
    tr.s(match k {
        "unsupported" => "upd.kind.unsupported",
        "eol_soon" => "upd.kind.eol_soon",
        "advisory" => "upd.kind.advisory",
        _ => "upd.kind.kev",
    })
}

fn state_label(tr: Tr, s: FindingState) -> &'static str {
    tr.s(match s {
        FindingState::Open => "upd.state.open",
        FindingState::InProgress => "upd.state.in_progress",
        FindingState::Done => "upd.state.done",
        FindingState::Accepted => "upd.state.accepted",
        FindingState::ExceptionExpired => "upd.state.exception_expired",
        FindingState::Resolved => "upd.state.resolved",
    })
}

fn jstr(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "–".into(),
        other => other.to_string(),
    }
}

/// A finding's detail in words (from the matcher's JSON).
pub fn detail_text(tr: Tr, f: &StoredFinding) -> String {
    let d = &f.detail;
    match f.kind.as_str() {
        "unsupported" => tr.f(
            "upd.detail.unsupported",
            &[("cycle", &jstr(&d["cycle"])), ("since", &jstr(&d["since"]))],
        ),
        "eol_soon" => tr.f(
            "upd.detail.eol_soon",
            &[
                ("cycle", &jstr(&d["cycle"])),
                ("on", &jstr(&d["on"])),
                ("months", &jstr(&d["months"])),
            ],
        ),
        "advisory" => d["hits"]
            .as_array()
            .map(|hits| {
                let more = hits.len().saturating_sub(10);
                let mut text = hits
                    .iter()
                    .take(10)
                    .map(|h| {
                        tr.f(
                            "upd.detail.advisory",
                            &[
                                ("advisory", &jstr(&h["advisory"])),
                                ("cve", &jstr(&h["cve"])),
                                (
                                    "cvss",
                                    &h["cvss"]
                                        .as_f64()
                                        .map(|c| format!("{c:.1}"))
                                        .unwrap_or_else(|| "–".into()),
                                ),
                                ("status", &jstr(&h["status"])),
                            ],
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                if more > 0 {
                    text.push_str(&tr.f("upd.detail.more", &[("n", &more.to_string())]));
                }
                text
            })
            .unwrap_or_default(),
        _ => d["hits"]
            .as_array()
            .map(|hits| {
                // Newest entries first: they are the news.
                let mut hits: Vec<&serde_json::Value> = hits.iter().collect();
                hits.sort_by(|a, b| jstr(&b["date_added"]).cmp(&jstr(&a["date_added"])));
                let more = hits.len().saturating_sub(10);
                let mut text = hits
                    .iter()
                    .take(10)
                    .map(|h| {
                        tr.f(
                            "upd.detail.kev",
                            &[
                                ("cve", &jstr(&h["cve"])),
                                ("added", &jstr(&h["date_added"])),
                                ("due", &jstr(&h["due_date"])),
                                (
                                    "ransomware",
                                    tr.s(if h["ransomware"].as_bool().unwrap_or(false) {
                                        "upd.ransomware.yes"
                                    } else {
                                        "upd.ransomware.no"
                                    }),
                                ),
                            ],
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                if more > 0 {
                    text.push_str(&tr.f("upd.detail.more", &[("n", &more.to_string())]));
                }
                text
            })
            .unwrap_or_default(),
    }
}

/// The processes that depend on `start` (directly or through other objects), with their
/// inherited Schutzbedarf.
fn dependent_processes(
    objects: &[Object],
    links: &[(ObjectId, ObjectId)],
    start: ObjectId,
    tr: Tr,
) -> Vec<ProcRow> {
    let mut up: HashMap<ObjectId, Vec<ObjectId>> = HashMap::new();
    for (from, to) in links {
        up.entry(*to).or_default().push(*from);
    }
    let by_id: HashMap<ObjectId, &Object> = objects.iter().map(|o| (o.id, o)).collect();
    let mut seen: HashSet<ObjectId> = HashSet::new();
    let mut queue: VecDeque<ObjectId> = VecDeque::from([start]);
    let mut out = Vec::new();
    while let Some(id) = queue.pop_front() {
        for p in up.get(&id).into_iter().flatten() {
            if seen.insert(*p) {
                if let Some(o) = by_id.get(p) {
                    if o.data.kind == ObjectKind::Process {
                        out.push(ProcRow {
                            id: o.id,
                            name: o.data.name.clone(),
                            level: tr.s(o.effective.max().label_key()),
                        });
                    }
                }
                queue.push_back(*p);
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn reason_text(
    tr: Tr,
    n: &stadtmauer_store::updates::stadtmauer_lifecycle::identity::Normalized,
) -> String {
    match &n.unrecognised {
        Some(Unrecognised::EmptyProduct) => tr.s("upd.unrecognised.empty").into(),
        Some(Unrecognised::UnknownProduct { .. }) => tr.s("upd.unrecognised.unknown").into(),
        None => String::new(),
    }
}

async fn town_view(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    org_id: OrgId,
    edit_id: Option<i64>,
    errors: FieldErrors,
    flash: Option<&str>,
) -> Result<TownPage, DomainError> {
    let store = &state.store;
    let org = store.organisation(&me.scope, org_id).await?;
    store.sync_findings(&me.scope, org_id).await?;
    let loaded = store.town_feeds(&me.scope, org_id).await?;
    let rows = store.installations(&me.scope, org_id).await?;
    let stored = store.findings(&me.scope, org_id, false).await?;
    let (objects, links) = store
        .town_graph(&me.scope, org_id)
        .await
        .unwrap_or_default();
    let at = today();
    let mut by_inst: BTreeMap<&str, Vec<&'static str>> = BTreeMap::new();
    for f in &stored {
        by_inst
            .entry(f.inst.as_str())
            .or_default()
            .push(kind_label(tr, &f.kind));
    }
    let insts = rows
        .iter()
        .map(|r| {
            let n = normalize_row(r, &loaded.feeds.aliases);
            let identity = n
                .key
                .as_ref()
                .map(|k| {
                    let name = loaded
                        .feeds
                        .aliases
                        .product(k)
                        .map(|p| p.name.clone())
                        .unwrap_or_else(|| k.as_str().to_string());
                    match &n.cycle {
                        Some(c) => format!("{name} ({c})"),
                        None => name,
                    }
                })
                .unwrap_or_default();
            InstRow {
                object_id: r.object_id,
                object_name: r.object_name.clone(),
                product: match &r.vendor {
                    Some(v) if !v.is_empty() => format!("{v} {}", r.product),
                    _ => r.product.clone(),
                },
                version: r.version.clone().unwrap_or_else(|| "–".into()),
                recognised: n.key.is_some(),
                reason: reason_text(tr, &n),
                pattern: serde_urlencoded::to_string([("pattern", r.product.as_str())])
                    .unwrap_or_default(),
                identity,
                findings: by_inst.get(r.inst.as_str()).cloned().unwrap_or_default(),
            }
        })
        .collect();
    let inst_product: HashMap<&str, String> = rows
        .iter()
        .map(|r| {
            (
                r.inst.as_str(),
                format!("{} {}", r.product, r.version.clone().unwrap_or_default()),
            )
        })
        .collect();
    let obj_name: HashMap<ObjectId, &str> = rows
        .iter()
        .map(|r| (r.object_id, r.object_name.as_str()))
        .collect();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut edit = None;
    let findings: Vec<FindingRow> = stored
        .iter()
        .map(|f| {
            let st = f.state(at);
            if st.is_open() {
                *counts.entry(f.kind.as_str()).or_default() += 1;
            }
            if edit_id == Some(f.id) {
                edit = Some(EditForm {
                    id: f.id,
                    title: format!(
                        "{} – {}",
                        inst_product
                            .get(f.inst.as_str())
                            .cloned()
                            .unwrap_or_default(),
                        kind_label(tr, &f.kind)
                    ),
                    owner: f.owner.clone().unwrap_or_default(),
                    due: f.due.map(format_date).unwrap_or_default(),
                    status_opts: PLAN_STATUSES
                        .iter()
                        .map(|s| Opt {
                            value: (*s).into(),
                            label: tr
                                .s(match *s {
                                    "in_progress" => "upd.state.in_progress",
                                    "done" => "upd.state.done",
                                    _ => "upd.state.open",
                                })
                                .into(),
                            selected: f.status == *s,
                        })
                        .collect(),
                    reason: f.exc_reason.clone().unwrap_or_default(),
                    approver: f.exc_approver.clone().unwrap_or_default(),
                    until: f.exc_until.map(format_date).unwrap_or_default(),
                    has_exception: f.exc_until.is_some(),
                });
            }
            FindingRow {
                id: f.id,
                object_id: f.object_id,
                object_name: obj_name
                    .get(&f.object_id)
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
                product: inst_product
                    .get(f.inst.as_str())
                    .cloned()
                    .unwrap_or_default(),
                kind_code: f.kind.clone(),
                kind: kind_label(tr, &f.kind),
                detail: detail_text(tr, f),
                state_code: st.as_str(),
                state: state_label(tr, st),
                owner: f.owner.clone().unwrap_or_default(),
                due: f.due.map(format_date).unwrap_or_default(),
                exception: match (&f.exc_reason, &f.exc_approver, f.exc_until) {
                    (Some(r), Some(a), Some(u)) => tr.f(
                        "upd.exception.text",
                        &[("reason", r), ("approver", a), ("until", &format_date(u))],
                    ),
                    _ => String::new(),
                },
                first_seen: fmt_ts(f.first_seen),
                processes: dependent_processes(&objects, &links, f.object_id, tr),
            }
        })
        .collect();
    let lat = store.patch_latency(&me.scope, &[org_id]).await?;
    let days = |d: Option<i64>| d.map(|d| d.to_string()).unwrap_or_else(|| "–".into());
    let can_write = me.scope.may(org_id, Access::WriteTechnical);
    Ok(TownPage {
        c: Chrome::new(
            tr,
            me,
            tr.f("upd.town.title", &[("name", &org.name)]),
            "organisations",
        )
        .with_flash(flash)
        .with_errors(errors),
        org,
        insts,
        findings,
        can_write,
        edit,
        latency_count: lat.count,
        latency_median: days(lat.median),
        latency_p90: days(lat.p90),
        counts: ["kev", "advisory", "unsupported", "eol_soon"]
            .iter()
            .map(|k| (kind_label(tr, k), counts.get(k).copied().unwrap_or(0)))
            .collect(),
    })
}

pub async fn town(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<TownQuery>,
) -> Response {
    let edit = q.finding.as_deref().and_then(|s| s.parse().ok());
    match town_view(
        &state,
        tr,
        &me,
        OrgId(id),
        edit,
        FieldErrors::default(),
        q.msg.as_deref(),
    )
    .await
    {
        Ok(p) => render(p),
        Err(e) => fail(tr, e),
    }
}

#[derive(Deserialize, Default)]
pub struct PlanForm {
    pub finding: Option<String>,
    pub owner: Option<String>,
    pub due: Option<String>,
    pub status: Option<String>,
    pub reason: Option<String>,
    pub approver: Option<String>,
    pub until: Option<String>,
    pub withdraw: Option<String>,
}

async fn form_error(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    org: OrgId,
    id: i64,
    e: DomainError,
) -> Response {
    match e {
        DomainError::Invalid(errs) => {
            match town_view(state, tr, me, org, Some(id), errs, None).await {
                Ok(p) => render_status(StatusCode::UNPROCESSABLE_ENTITY, p),
                Err(e) => fail(tr, e),
            }
        }
        e => fail(tr, e),
    }
}

fn finding_id(me: &CurrentUser, org: OrgId, f: &PlanForm) -> Result<i64, DomainError> {
    if !me.scope.can(org, Access::Reports) {
        return Err(DomainError::NotFound);
    }
    f.finding
        .as_deref()
        .and_then(|s| s.trim().parse().ok())
        .ok_or(DomainError::NotFound)
}

/// Owner, due date and status of the measure a finding became.
pub async fn plan(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<PlanForm>,
) -> Response {
    let org = OrgId(id);
    let fid = match finding_id(&me, org, &f) {
        Ok(i) => i,
        Err(e) => return fail(tr, e),
    };
    let due = match f.due.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => None,
        Some(d) => match parse_date(d) {
            Some(d) => Some(d),
            None => {
                return form_error(
                    &state,
                    tr,
                    &me,
                    org,
                    fid,
                    DomainError::field("due", date_error(d, "upd.err.date")),
                )
                .await
            }
        },
    };
    let p = FindingPlan {
        owner: f.owner.clone(),
        due,
        status: f.status.clone().unwrap_or_else(|| "open".into()),
    };
    match state.store.plan_finding(&me.scope, org, fid, &p).await {
        Ok(()) => done(&format!("/organisations/{}/updates", org.0), "msg.saved"),
        Err(e) => form_error(&state, tr, &me, org, fid, e).await,
    }
}

/// Accepts a finding as an exception (reason, approver, expiry date), or withdraws it.
pub async fn exception(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<PlanForm>,
) -> Response {
    let org = OrgId(id);
    let fid = match finding_id(&me, org, &f) {
        Ok(i) => i,
        Err(e) => return fail(tr, e),
    };
    let exc = if f.withdraw.is_some() {
        None
    } else {
        let until = match f.until.as_deref().map(str::trim).and_then(parse_date) {
            Some(d) => d,
            None => {
                return form_error(
                    &state,
                    tr,
                    &me,
                    org,
                    fid,
                    DomainError::field(
                        "until",
                        date_error(f.until.as_deref().unwrap_or(""), "upd.err.date"),
                    ),
                )
                .await
            }
        };
        Some(FindingException {
            reason: f.reason.clone().unwrap_or_default(),
            approver: f.approver.clone().unwrap_or_default(),
            until,
        })
    };
    match state
        .store
        .except_finding(&me.scope, org, fid, exc.as_ref())
        .await
    {
        Ok(()) => done(&format!("/organisations/{}/updates", org.0), "msg.saved"),
        Err(e) => form_error(&state, tr, &me, org, fid, e).await,
    }
}

// ---------------------------------------------------------------------------------------------
// The office's view
// ---------------------------------------------------------------------------------------------

pub struct TownCounts {
    pub org_id: OrgId,
    pub name: String,
    pub kev: usize,
    pub advisory: usize,
    pub unsupported: usize,
    pub eol_soon: usize,
    pub accepted: usize,
}

pub struct WeekHit {
    pub org_id: OrgId,
    pub name: String,
    pub product: String,
    pub cves: String,
}

#[derive(Template)]
#[template(path = "updates/verbund.html")]
pub struct VerbundPage {
    pub c: Chrome,
    pub verbund_id: VerbundId,
    pub verbund_name: String,
    pub rows: Vec<TownCounts>,
    pub week: Vec<WeekHit>,
    pub latency_count: usize,
    pub latency_median: String,
    pub latency_p90: String,
    pub can_manage: bool,
    pub webhook_url: String,
    pub email: String,
}

async fn verbund_view(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    v: VerbundId,
    errors: FieldErrors,
    flash: Option<&str>,
    form: Option<NotifyConfig>,
) -> Result<VerbundPage, DomainError> {
    let store = &state.store;
    let verbund = store.verbund(&me.scope, v).await?;
    let towns: Vec<Organisation> = store
        .organisations(&me.scope)
        .await?
        .into_iter()
        .filter(|o| o.verbund_id == Some(v) && me.scope.can(o.id, Access::Reports))
        .collect();
    for t in &towns {
        store.sync_findings(&me.scope, t.id).await?;
    }
    let ids: Vec<OrgId> = towns.iter().map(|t| t.id).collect();
    let all = store.findings_of(&me.scope, &ids, false).await?;
    let at = today();
    let week_start = at - time::Duration::days(7);
    let mut rows = Vec::new();
    let mut week = Vec::new();
    for t in &towns {
        let mut r = TownCounts {
            org_id: t.id,
            name: t.name.clone(),
            kev: 0,
            advisory: 0,
            unsupported: 0,
            eol_soon: 0,
            accepted: 0,
        };
        for f in all.iter().filter(|f| f.organisation_id == t.id) {
            let st = f.state(at);
            if !st.is_open() {
                r.accepted += 1;
                continue;
            }
            match f.kind.as_str() {
                "kev" => r.kev += 1,
                "advisory" => r.advisory += 1,
                "unsupported" => r.unsupported += 1,
                _ => r.eol_soon += 1,
            }
            if f.kind == "kev" {
                let recent: Vec<String> = f.detail["hits"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|h| {
                        h["date_added"]
                            .as_str()
                            .and_then(parse_date)
                            .is_some_and(|d| d > week_start && d <= at)
                    })
                    .map(|h| jstr(&h["cve"]))
                    .collect();
                if !recent.is_empty() {
                    week.push(WeekHit {
                        org_id: t.id,
                        name: t.name.clone(),
                        product: f.product_key.clone(),
                        cves: recent.join(", "),
                    });
                }
            }
        }
        rows.push(r);
    }
    let lat = store.patch_latency(&me.scope, &ids).await?;
    let days = |d: Option<i64>| d.map(|d| d.to_string()).unwrap_or_else(|| "–".into());
    let can_manage = me.scope.manages_verbund(v);
    let cfg = match form {
        Some(f) => f,
        None if can_manage => store.notify_config(&me.scope, v).await.unwrap_or_default(),
        None => NotifyConfig::default(),
    };
    Ok(VerbundPage {
        c: Chrome::new(
            tr,
            me,
            tr.f("upd.verbund.title", &[("name", &verbund.name)]),
            "verbuende",
        )
        .with_flash(flash)
        .with_errors(errors),
        verbund_id: v,
        verbund_name: verbund.name,
        rows,
        week,
        latency_count: lat.count,
        latency_median: days(lat.median),
        latency_p90: days(lat.p90),
        can_manage,
        webhook_url: cfg.webhook_url.unwrap_or_default(),
        email: cfg.email.unwrap_or_default(),
    })
}

pub async fn verbund(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<crate::features::FlashQuery>,
) -> Response {
    match verbund_view(
        &state,
        tr,
        &me,
        VerbundId(id),
        FieldErrors::default(),
        q.msg.as_deref(),
        None,
    )
    .await
    {
        Ok(p) => render(p),
        Err(e) => fail(tr, e),
    }
}

#[derive(Deserialize, Default)]
pub struct NotifyForm {
    pub webhook_url: Option<String>,
    pub email: Option<String>,
}

pub async fn set_notify(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<NotifyForm>,
) -> Response {
    let v = VerbundId(id);
    let cfg = NotifyConfig {
        webhook_url: f.webhook_url,
        email: f.email,
    };
    let bad_email = cfg
        .email
        .as_deref()
        .map(str::trim)
        .is_some_and(|e| !e.is_empty() && !is_email(&e.to_lowercase()));
    let saved = if bad_email {
        Err(DomainError::field("email", "err.email"))
    } else {
        state.store.set_notify_config(&me.scope, v, &cfg).await
    };
    match saved {
        Ok(()) => done(&format!("/verbuende/{id}/updates"), "msg.saved"),
        Err(DomainError::Invalid(errs)) => {
            match verbund_view(&state, tr, &me, v, errs, None, Some(cfg)).await {
                Ok(p) => render_status(StatusCode::UNPROCESSABLE_ENTITY, p),
                Err(e) => fail(tr, e),
            }
        }
        Err(e) => fail(tr, e),
    }
}

// ---------------------------------------------------------------------------------------------
// The alias table
// ---------------------------------------------------------------------------------------------

pub struct BuiltinRow {
    pub key: String,
    pub name: String,
    pub vendor: String,
    pub aliases: String,
    pub eol: String,
}

pub struct UserAliasRow {
    pub id: i64,
    pub pattern: String,
    pub key: String,
    pub cycle: String,
    pub created: String,
    /// Where it applies: the whole installation or one Verbund (by name).
    pub owner: String,
    pub can_remove: bool,
}

#[derive(Template)]
#[template(path = "updates/aliases.html")]
pub struct AliasesPage {
    pub c: Chrome,
    pub builtin: Vec<BuiltinRow>,
    pub users: Vec<UserAliasRow>,
    pub can_edit: bool,
    pub pattern: String,
    pub key_opts: Vec<Opt>,
    pub cycle: String,
    /// The owners the user may add an alias for (shown as a choice when more than one).
    pub owner_opts: Vec<Opt>,
}

#[derive(Deserialize, Default)]
pub struct AliasForm {
    pub pattern: Option<String>,
    pub key: Option<String>,
    pub cycle: Option<String>,
    pub id: Option<String>,
    pub msg: Option<String>,
    /// "installation" or "verbund:<id>"; absent: the only owner the user manages.
    pub owner: Option<String>,
}

fn owner_value(o: Owner) -> String {
    match o {
        Owner::Installation => "installation".into(),
        Owner::Verbund(v) => format!("verbund:{}", v.0),
    }
}

async fn aliases_view(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    form: &AliasForm,
    errors: FieldErrors,
) -> Result<AliasesPage, DomainError> {
    let loaded = state.store.active_feeds(&me.scope).await?;
    let builtin: Vec<BuiltinRow> = loaded
        .feeds
        .aliases
        .products()
        .iter()
        .map(|p| BuiltinRow {
            key: p.key.as_str().to_string(),
            name: p.name.clone(),
            vendor: p.vendor.clone(),
            aliases: p.aliases.join(", "),
            eol: p.eol.clone().unwrap_or_else(|| "–".into()),
        })
        .collect();
    let verbuende = state.store.verbuende(&me.scope).await?;
    let owner_name = |o: Owner| match o {
        Owner::Installation => tr.s("upd.aliases.owner_installation").to_string(),
        Owner::Verbund(v) => verbuende
            .iter()
            .find(|x| x.id == v)
            .map(|x| x.name.clone())
            .unwrap_or_default(),
    };
    let users = state
        .store
        .user_aliases(&me.scope)
        .await?
        .into_iter()
        .map(|a| UserAliasRow {
            id: a.id,
            pattern: a.pattern,
            key: a.key,
            cycle: a.cycle.unwrap_or_default(),
            created: format!("{} ({})", fmt_ts(a.created_at), a.created_by),
            owner: owner_name(a.owner),
            can_remove: me.scope.require_shared(a.owner).is_ok(),
        })
        .collect();
    let chosen = form.owner.clone().unwrap_or_default();
    let owner_opts: Vec<Opt> = me
        .scope
        .shared_owners_managed()
        .into_iter()
        .map(|o| Opt {
            selected: owner_value(o) == chosen,
            value: owner_value(o),
            label: owner_name(o),
        })
        .collect();
    let selected = form.key.clone().unwrap_or_default();
    let mut key_opts = vec![Opt {
        value: String::new(),
        label: "–".into(),
        selected: selected.is_empty(),
    }];
    key_opts.extend(builtin.iter().map(|b| Opt {
        value: b.key.clone(),
        label: format!("{} ({})", b.name, b.key),
        selected: b.key == selected,
    }));
    Ok(AliasesPage {
        c: Chrome::new(tr, me, tr.s("upd.aliases.title"), "updates")
            .with_flash(form.msg.as_deref())
            .with_errors(errors),
        builtin,
        users,
        can_edit: !owner_opts.is_empty(),
        owner_opts,
        pattern: form.pattern.clone().unwrap_or_default(),
        key_opts,
        cycle: form.cycle.clone().unwrap_or_default(),
    })
}

pub async fn aliases_page(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Query(q): Query<AliasForm>,
) -> Response {
    match aliases_view(&state, tr, &me, &q, FieldErrors::default()).await {
        Ok(p) => render(p),
        Err(e) => fail(tr, e),
    }
}

pub async fn add_alias(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Form(f): Form<AliasForm>,
) -> Response {
    // The owner first: someone who may not add aliases gets 403 before the input is read.
    let managed = me.scope.shared_owners_managed();
    let owner = match f.owner.as_deref() {
        None | Some("") if managed.len() == 1 => managed[0],
        None | Some("") if managed.is_empty() => return fail(tr, DomainError::Forbidden),
        None | Some("") => {
            let mut errs = FieldErrors::default();
            errs.add("owner", "err.required");
            return match aliases_view(&state, tr, &me, &f, errs).await {
                Ok(p) => render_status(StatusCode::UNPROCESSABLE_ENTITY, p),
                Err(e) => fail(tr, e),
            };
        }
        Some(v) => match managed.iter().find(|o| owner_value(**o) == v) {
            Some(o) => *o,
            None => return fail(tr, DomainError::Forbidden),
        },
    };
    let a = UserAlias {
        pattern: f.pattern.clone().unwrap_or_default(),
        key: f.key.clone().unwrap_or_default(),
        cycle: f.cycle.clone(),
    };
    match state.store.add_alias(&me.scope, owner, &a).await {
        Ok(_) => done("/updates/aliases", "msg.created"),
        Err(DomainError::Invalid(errs)) | Err(DomainError::Conflict(errs)) => {
            match aliases_view(&state, tr, &me, &f, errs).await {
                Ok(p) => render_status(StatusCode::UNPROCESSABLE_ENTITY, p),
                Err(e) => fail(tr, e),
            }
        }
        Err(e) => fail(tr, e),
    }
}

pub async fn remove_alias(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Form(f): Form<AliasForm>,
) -> Response {
    if me.scope.shared_owners_managed().is_empty() {
        return fail(tr, DomainError::Forbidden);
    }
    let Some(id) = f.id.as_deref().and_then(|s| s.trim().parse().ok()) else {
        return fail(tr, DomainError::NotFound);
    };
    match state.store.remove_alias(&me.scope, id).await {
        Ok(()) => done("/updates/aliases", "msg.deleted"),
        Err(e) => fail(tr, e),
    }
}

// ---------------------------------------------------------------------------------------------
// Installed software of a system (a section of the object page)
// ---------------------------------------------------------------------------------------------

pub struct SoftwareRow {
    pub id: i64,
    pub product: String,
    pub version: String,
}

/// The "Installierte Software" section of a system's or application's page.
pub struct SoftwareSection {
    pub object_id: ObjectId,
    pub rows: Vec<SoftwareRow>,
    pub can_write: bool,
}

/// The section for an object page, or `None` for kinds without installed software.
pub async fn software_section(
    state: &AppState,
    me: &CurrentUser,
    o: &Object,
) -> Option<SoftwareSection> {
    if !matches!(o.data.kind, ObjectKind::System | ObjectKind::Application) {
        return None;
    }
    let rows = state.store.software(&me.scope, o.id).await.ok()?;
    Some(SoftwareSection {
        object_id: o.id,
        rows: rows
            .into_iter()
            .map(|s| SoftwareRow {
                id: s.id,
                product: s.product,
                version: s.version.unwrap_or_default(),
            })
            .collect(),
        can_write: !o.data.shared && me.scope.may(o.organisation_id, Access::WriteTechnical),
    })
}

#[derive(Deserialize, Default)]
pub struct SoftwareForm {
    pub product: Option<String>,
    pub version: Option<String>,
    pub id: Option<String>,
}

pub async fn add_software(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<SoftwareForm>,
) -> Response {
    let product = f.product.unwrap_or_default();
    match state
        .store
        .add_software(&me.scope, ObjectId(id), &product, f.version.as_deref())
        .await
    {
        Ok(_) => done(&format!("/inventory/{id}"), "msg.saved"),
        Err(e) => fail(tr, e),
    }
}

pub async fn remove_software(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<SoftwareForm>,
) -> Response {
    let obj = ObjectId(id);
    // Unknown or foreign object first: 404 whatever the form says.
    if let Err(e) = state.store.object(&me.scope, obj).await {
        return fail(tr, e);
    }
    let Some(sid) = f.id.as_deref().and_then(|s| s.trim().parse().ok()) else {
        return fail(tr, DomainError::NotFound);
    };
    match state.store.remove_software(&me.scope, obj, sid).await {
        Ok(()) => done(&format!("/inventory/{id}"), "msg.deleted"),
        Err(e) => fail(tr, e),
    }
}
