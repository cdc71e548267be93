//! A town's installations and findings, and the measure or exception a finding became.

use super::*;
use stadtmauer_store::updates::stadtmauer_lifecycle::identity::Unrecognised;
use stadtmauer_store::updates::{
    normalize_row, FindingException, FindingPlan, FindingState, StoredFinding, PLAN_STATUSES,
};
use std::collections::{HashSet, VecDeque};

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
    /// Accepting a risk as an exception is the coordinator's (write access), not IT staff's.
    pub can_except: bool,
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
        can_except: me.scope.may(org_id, Access::Write),
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
) -> Result<Response, PageError> {
    let edit = q.finding.as_deref().and_then(|s| s.parse().ok());
    let page = town_view(
        &state,
        tr,
        &me,
        OrgId(id),
        edit,
        FieldErrors::default(),
        q.msg.as_deref(),
    )
    .await?;
    Ok(render(page))
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
) -> Result<Response, PageError> {
    match e {
        DomainError::Invalid(errs) => {
            let page = town_view(state, tr, me, org, Some(id), errs, None).await?;
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, page))
        }
        e => Err(e.into()),
    }
}

/// The finding a form is about, once the user's right to change findings is established: a reader
/// gets 403 before anything the form says is looked at.
fn finding_id(
    me: &CurrentUser,
    org: OrgId,
    f: &PlanForm,
    need: Access,
) -> Result<i64, DomainError> {
    me.scope.require(org, need)?;
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
) -> Result<Response, PageError> {
    let org = OrgId(id);
    let fid = finding_id(&me, org, &f, Access::WriteTechnical)?;
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
        Ok(()) => Ok(done(
            &format!("/organisations/{}/updates", org.0),
            "msg.saved",
        )),
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
) -> Result<Response, PageError> {
    let org = OrgId(id);
    let fid = finding_id(&me, org, &f, Access::Write)?;
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
        Ok(()) => Ok(done(
            &format!("/organisations/{}/updates", org.0),
            "msg.saved",
        )),
        Err(e) => form_error(&state, tr, &me, org, fid, e).await,
    }
}
