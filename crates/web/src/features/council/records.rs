//! A town's security-programme records: the page and its forms (profile, years, events,
//! findings).

use super::*;

// ---------------------------------------------------------------------------------------------
// The records page
// ---------------------------------------------------------------------------------------------

pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A form field rendered by the generic loop in the template.
pub struct FieldView {
    pub name: &'static str,
    pub label: String,
    /// "select", "text", "date" or "number".
    pub kind: &'static str,
    pub value: String,
    pub opts: Vec<Opt>,
    pub error: Option<&'static str>,
}

pub struct EventView {
    pub id: i64,
    pub kind: String,
    pub date: String,
    pub party: String,
    pub topic: String,
    pub result: String,
    pub participants: String,
    pub findings: Vec<FindingView>,
}

pub struct FindingView {
    pub id: i64,
    pub title: String,
    pub severity: String,
    pub status_opts: Vec<Opt>,
}

pub struct YearView {
    pub year: i32,
    pub budget: String,
    pub spent: String,
    pub incidents: String,
}

#[derive(Template)]
#[template(path = "council/town.html")]
pub struct CncTownPage {
    pub c: Chrome,
    pub org_id: OrgId,
    pub org_name: String,
    pub can_read: bool,
    pub can_write: bool,
    pub profile: Vec<FieldView>,
    pub years: Vec<YearView>,
    pub year_fields: Vec<FieldView>,
    pub events: Vec<EventView>,
    pub event_fields: Vec<FieldView>,
    pub finding_fields: Vec<FieldView>,
    pub has_tests: bool,
}

pub(super) fn opts(tr: Tr, values: &[(&str, String)], current: &str, with_empty: bool) -> Vec<Opt> {
    let mut v = Vec::new();
    if with_empty {
        v.push(Opt {
            value: String::new(),
            label: tr.s("cnc.not_recorded").to_string(),
            selected: current.is_empty(),
        });
    }
    for (val, label) in values {
        v.push(Opt {
            value: val.to_string(),
            label: label.clone(),
            selected: *val == current,
        });
    }
    v
}

pub(super) fn field(
    tr: Tr,
    errors: &FieldErrors,
    name: &'static str,
    kind: &'static str,
    value: String,
    opts: Vec<Opt>,
) -> FieldView {
    FieldView {
        name,
        label: tr.s(&format!("cnc.f.{name}")).to_string(),
        kind,
        value,
        opts,
        error: errors.get(name).map(|k| tr.s(k)),
    }
}

pub(super) fn yes_no(tr: Tr, current: &str) -> Vec<Opt> {
    opts(
        tr,
        &[
            ("yes", tr.s("cnc.yes").to_string()),
            ("no", tr.s("cnc.no").to_string()),
        ],
        current,
        true,
    )
}

pub(super) fn coverage(tr: Tr, current: &str) -> Vec<Opt> {
    let values: Vec<(&str, String)> = Coverage::ALL
        .iter()
        .map(|c| {
            (
                c.as_str(),
                tr.s(&format!("cnc.cov.{}", c.as_str())).to_string(),
            )
        })
        .collect();
    opts(tr, &values, current, true)
}

pub(super) fn bool_code(b: Option<bool>) -> String {
    match b {
        Some(true) => "yes".into(),
        Some(false) => "no".into(),
        None => String::new(),
    }
}

pub(super) fn profile_input(p: &Programme) -> ProfileInput {
    let pr = &p.profile;
    let n = |v: Option<i64>| v.map(|x| x.to_string());
    ProfileInput {
        isb_appointed: Some(bool_code(pr.isb_appointed)),
        isb_deputy: Some(bool_code(pr.isb_deputy)),
        team_size: n(pr.team_size),
        qualifications: pr.qualifications.clone(),
        standard: pr.standard.clone(),
        guideline_adopted_by: pr.guideline_adopted_by.clone(),
        guideline_adopted_on: pr.guideline_adopted_on.map(iso),
        guideline_review_on: pr.guideline_review_on.map(iso),
        emergency_plan: Some(bool_code(pr.emergency_plan)),
        emergency_offices: pr.emergency_offices.clone(),
        phone_fallback: Some(bool_code(pr.phone_fallback)),
        hours_without_it: n(pr.hours_without_it),
        mfa_remote: pr.mfa_remote.map(|c| c.as_str().to_string()),
        mfa_email: pr.mfa_email.map(|c| c.as_str().to_string()),
        mfa_admin: pr.mfa_admin.map(|c| c.as_str().to_string()),
        insurance: Some(bool_code(pr.insurance)),
        insurer: pr.insurer.clone(),
        insurance_sum: n(pr.insurance_sum),
    }
}

pub(super) fn profile_fields(tr: Tr, e: &FieldErrors, i: &ProfileInput) -> Vec<FieldView> {
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    vec![
        field(
            tr,
            e,
            "isb_appointed",
            "select",
            String::new(),
            yes_no(tr, &s(&i.isb_appointed)),
        ),
        field(
            tr,
            e,
            "isb_deputy",
            "select",
            String::new(),
            yes_no(tr, &s(&i.isb_deputy)),
        ),
        field(tr, e, "team_size", "number", s(&i.team_size), vec![]),
        field(
            tr,
            e,
            "qualifications",
            "text",
            s(&i.qualifications),
            vec![],
        ),
        field(tr, e, "standard", "text", s(&i.standard), vec![]),
        field(
            tr,
            e,
            "guideline_adopted_by",
            "text",
            s(&i.guideline_adopted_by),
            vec![],
        ),
        field(
            tr,
            e,
            "guideline_adopted_on",
            "date",
            s(&i.guideline_adopted_on),
            vec![],
        ),
        field(
            tr,
            e,
            "guideline_review_on",
            "date",
            s(&i.guideline_review_on),
            vec![],
        ),
        field(
            tr,
            e,
            "emergency_plan",
            "select",
            String::new(),
            yes_no(tr, &s(&i.emergency_plan)),
        ),
        field(
            tr,
            e,
            "emergency_offices",
            "text",
            s(&i.emergency_offices),
            vec![],
        ),
        field(
            tr,
            e,
            "phone_fallback",
            "select",
            String::new(),
            yes_no(tr, &s(&i.phone_fallback)),
        ),
        field(
            tr,
            e,
            "hours_without_it",
            "number",
            s(&i.hours_without_it),
            vec![],
        ),
        field(
            tr,
            e,
            "mfa_remote",
            "select",
            String::new(),
            coverage(tr, &s(&i.mfa_remote)),
        ),
        field(
            tr,
            e,
            "mfa_email",
            "select",
            String::new(),
            coverage(tr, &s(&i.mfa_email)),
        ),
        field(
            tr,
            e,
            "mfa_admin",
            "select",
            String::new(),
            coverage(tr, &s(&i.mfa_admin)),
        ),
        field(
            tr,
            e,
            "insurance",
            "select",
            String::new(),
            yes_no(tr, &s(&i.insurance)),
        ),
        field(tr, e, "insurer", "text", s(&i.insurer), vec![]),
        field(
            tr,
            e,
            "insurance_sum",
            "number",
            s(&i.insurance_sum),
            vec![],
        ),
    ]
}

pub(super) fn year_fields(tr: Tr, e: &FieldErrors, i: &YearInput) -> Vec<FieldView> {
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    vec![
        field(tr, e, "year", "number", i.year.clone(), vec![]),
        field(tr, e, "budget", "number", s(&i.budget), vec![]),
        field(tr, e, "spent", "number", s(&i.spent), vec![]),
        field(tr, e, "incidents", "number", s(&i.incidents), vec![]),
    ]
}

pub(super) fn event_fields(tr: Tr, e: &FieldErrors, i: &EventInput) -> Vec<FieldView> {
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    let kinds: Vec<(&str, String)> = EventKind::ALL
        .iter()
        .map(|k| {
            (
                k.as_str(),
                tr.s(&format!("cnc.kind.{}", k.as_str())).to_string(),
            )
        })
        .collect();
    vec![
        field(
            tr,
            e,
            "kind",
            "select",
            String::new(),
            opts(tr, &kinds, &i.kind, false),
        ),
        field(tr, e, "held_on", "date", i.held_on.clone(), vec![]),
        field(tr, e, "party", "text", i.party.clone(), vec![]),
        field(tr, e, "topic", "text", s(&i.topic), vec![]),
        field(tr, e, "result", "text", s(&i.result), vec![]),
        field(tr, e, "participants", "number", s(&i.participants), vec![]),
    ]
}

pub(super) fn severity_opts(tr: Tr, current: &str) -> Vec<Opt> {
    let v: Vec<(&str, String)> = Severity::ALL
        .iter()
        .map(|k| {
            (
                k.as_str(),
                tr.s(&format!("cnc.sev.{}", k.as_str())).to_string(),
            )
        })
        .collect();
    opts(tr, &v, current, false)
}

pub(super) fn status_opts(tr: Tr, current: &str) -> Vec<Opt> {
    let v: Vec<(&str, String)> = Remediation::ALL
        .iter()
        .map(|k| {
            (
                k.as_str(),
                tr.s(&format!("cnc.rem.{}", k.as_str())).to_string(),
            )
        })
        .collect();
    opts(tr, &v, current, false)
}

pub(super) fn finding_fields(
    tr: Tr,
    e: &FieldErrors,
    i: &FindingInput,
    p: &Programme,
) -> Vec<FieldView> {
    let tests: Vec<(String, String)> = p
        .events
        .iter()
        .filter(|x| matches!(x.kind, EventKind::Audit | EventKind::Pentest))
        .map(|x| {
            (
                x.id.to_string(),
                format!(
                    "{} {} – {}",
                    tr.s(&format!("cnc.kind.{}", x.kind.as_str())),
                    iso(x.held_on),
                    x.party
                ),
            )
        })
        .collect();
    let refs: Vec<(&str, String)> = tests.iter().map(|(a, b)| (a.as_str(), b.clone())).collect();
    vec![
        field(
            tr,
            e,
            "event_id",
            "select",
            String::new(),
            opts(tr, &refs, &i.event_id, false),
        ),
        field(tr, e, "title", "text", i.title.clone(), vec![]),
        field(
            tr,
            e,
            "severity",
            "select",
            String::new(),
            severity_opts(tr, &i.severity),
        ),
        field(
            tr,
            e,
            "status",
            "select",
            String::new(),
            status_opts(tr, &i.status),
        ),
    ]
}

/// Which form is shown again with its input and errors.
pub(super) enum Again {
    None,
    Profile(Box<ProfileInput>),
    Year(YearInput),
    Event(EventInput),
    Finding(FindingInput),
}

pub(super) async fn show(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    org: OrgId,
    flash: Option<&str>,
    errors: FieldErrors,
    again: Again,
) -> Response {
    if !me.scope.can(org, Access::Reports) {
        return fail(tr, DomainError::NotFound);
    }
    let can_read = me.scope.can(org, Access::Read);
    let can_write = can_read && me.scope.may(org, Access::Write);
    let org_name = match state.store.organisation(&me.scope, org).await {
        Ok(o) => o.name,
        Err(_) => match state.store.council_facts(&me.scope, org).await {
            Ok(f) => f.name,
            Err(e) => return fail(tr, e),
        },
    };
    let p = if can_read {
        match state.store.council_programme(&me.scope, org).await {
            Ok(p) => p,
            Err(e) => return fail(tr, e),
        }
    } else {
        Programme::default()
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let none = FieldErrors::default();
    let err_for = |which: u8| match (&again, which) {
        (Again::Profile(_), 0)
        | (Again::Year(_), 1)
        | (Again::Event(_), 2)
        | (Again::Finding(_), 3) => &errors,
        _ => &none,
    };
    let profile = match &again {
        Again::Profile(i) => profile_fields(tr, err_for(0), i),
        _ => profile_fields(tr, &none, &profile_input(&p)),
    };
    let year_in = match &again {
        Again::Year(i) => i.clone(),
        _ => YearInput {
            year: (time::OffsetDateTime::now_utc().year() - 1).to_string(),
            ..Default::default()
        },
    };
    let event_in = match &again {
        Again::Event(i) => i.clone(),
        _ => EventInput::default(),
    };
    let finding_in = match &again {
        Again::Finding(i) => i.clone(),
        _ => FindingInput::default(),
    };
    let n = |v: Option<i64>| {
        v.map_or_else(
            || tr.s("cnc.not_recorded").to_string(),
            stadtmauer_report::de_int,
        )
    };
    let events = p
        .events
        .iter()
        .map(|e| EventView {
            id: e.id,
            kind: tr.s(&format!("cnc.kind.{}", e.kind.as_str())).to_string(),
            date: iso(e.held_on),
            party: e.party.clone(),
            topic: e.topic.clone().unwrap_or_default(),
            result: e.result.clone().unwrap_or_default(),
            participants: e.participants.map(|x| x.to_string()).unwrap_or_default(),
            findings: p
                .findings
                .iter()
                .filter(|f| f.event_id == e.id)
                .map(|f| FindingView {
                    id: f.id,
                    title: f.title.clone(),
                    severity: tr
                        .s(&format!("cnc.sev.{}", f.severity.as_str()))
                        .to_string(),
                    status_opts: status_opts(tr, f.status.as_str()),
                })
                .collect(),
        })
        .collect();
    let years = p
        .years
        .iter()
        .map(|y| YearView {
            year: y.year,
            budget: n(y.budget),
            spent: n(y.spent),
            incidents: n(y.incidents),
        })
        .collect();
    let page = CncTownPage {
        c: Chrome::new(
            tr,
            me,
            tr.f("cnc.title", &[("name", &org_name)]),
            "organisations",
        )
        .with_flash(flash)
        .with_errors(errors.clone()),
        org_id: org,
        org_name,
        can_read,
        can_write,
        profile,
        years,
        year_fields: year_fields(tr, err_for(1), &year_in),
        events,
        event_fields: event_fields(tr, err_for(2), &event_in),
        finding_fields: finding_fields(tr, err_for(3), &finding_in, &p),
        has_tests: p
            .events
            .iter()
            .any(|e| matches!(e.kind, EventKind::Audit | EventKind::Pentest)),
    };
    render_status(status, page)
}

pub async fn town_page(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<FlashQuery>,
) -> Response {
    show(
        &state,
        tr,
        &me,
        OrgId(id),
        q.msg.as_deref(),
        FieldErrors::default(),
        Again::None,
    )
    .await
}

/// Runs a write; invalid input shows the page again with the form's errors.
pub(super) async fn after_write(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    org: OrgId,
    r: Result<(), DomainError>,
    again: Again,
) -> Response {
    match r {
        Ok(()) => done(&format!("/organisations/{org}/council"), "msg.saved"),
        Err(DomainError::Invalid(errs)) | Err(DomainError::Conflict(errs)) => {
            show(state, tr, me, org, None, errs, again).await
        }
        Err(e) => fail(tr, e),
    }
}

/// Refuses early (404/403) before validating, so another town's id never reveals anything.
/// The access rule for council writes: unseen towns are "not found", seen ones without the
/// right (readers, auditors, IT staff) "forbidden".
pub(super) fn guard(me: &CurrentUser, org: OrgId) -> Result<(), DomainError> {
    me.scope.require(org, Access::Write)
}

pub async fn save_profile(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(input): Form<ProfileInput>,
) -> Response {
    let org = OrgId(id);
    if let Err(e) = guard(&me, org) {
        return fail(tr, e);
    }
    let r = match input.validate() {
        Ok(p) => state.store.save_council_profile(&me.scope, org, &p).await,
        Err(e) => Err(DomainError::Invalid(e)),
    };
    after_write(&state, tr, &me, org, r, Again::Profile(Box::new(input))).await
}

pub async fn save_year(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(input): Form<YearInput>,
) -> Response {
    let org = OrgId(id);
    if let Err(e) = guard(&me, org) {
        return fail(tr, e);
    }
    let r = match input.validate() {
        Ok(y) => state.store.save_council_year(&me.scope, org, &y).await,
        Err(e) => Err(DomainError::Invalid(e)),
    };
    after_write(&state, tr, &me, org, r, Again::Year(input)).await
}

pub async fn add_event(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(input): Form<EventInput>,
) -> Response {
    let org = OrgId(id);
    if let Err(e) = guard(&me, org) {
        return fail(tr, e);
    }
    let r = match input.validate() {
        Ok(ev) => state
            .store
            .add_council_event(&me.scope, org, &ev)
            .await
            .map(|_| ()),
        Err(e) => Err(DomainError::Invalid(e)),
    };
    after_write(&state, tr, &me, org, r, Again::Event(input)).await
}

#[derive(Deserialize)]
pub struct IdForm {
    pub id: Option<String>,
    pub status: Option<String>,
}

impl IdForm {
    fn id(&self) -> Result<i64, DomainError> {
        self.id
            .as_deref()
            .and_then(|s| s.trim().parse().ok())
            .ok_or(DomainError::NotFound)
    }
}

pub async fn delete_event(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<IdForm>,
) -> Response {
    let org = OrgId(id);
    if let Err(e) = guard(&me, org) {
        return fail(tr, e);
    }
    let r = match f.id() {
        Ok(eid) => state.store.delete_council_event(&me.scope, org, eid).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(()) => done(&format!("/organisations/{org}/council"), "msg.deleted"),
        Err(e) => fail(tr, e),
    }
}

pub async fn add_finding(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(input): Form<FindingInput>,
) -> Response {
    let org = OrgId(id);
    if let Err(e) = guard(&me, org) {
        return fail(tr, e);
    }
    let r = match input.validate() {
        Ok(f) => state
            .store
            .add_council_finding(&me.scope, org, &f)
            .await
            .map(|_| ()),
        Err(e) => Err(DomainError::Invalid(e)),
    };
    after_write(&state, tr, &me, org, r, Again::Finding(input)).await
}

pub async fn finding_status(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<IdForm>,
) -> Response {
    let org = OrgId(id);
    if let Err(e) = guard(&me, org) {
        return fail(tr, e);
    }
    let status = f.status.as_deref().and_then(Remediation::parse);
    let r = match (f.id(), status) {
        (Ok(fid), Some(s)) => {
            state
                .store
                .set_council_finding_status(&me.scope, org, fid, s)
                .await
        }
        (Err(e), _) => Err(e),
        (_, None) => Err(DomainError::field("status", "cnc.err.choice")),
    };
    match r {
        Ok(()) => done(&format!("/organisations/{org}/council"), "msg.saved"),
        Err(e) => fail(tr, e),
    }
}
