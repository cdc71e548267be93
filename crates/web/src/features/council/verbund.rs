//! The office's page: every member's records side by side.

use super::*;

// ---------------------------------------------------------------------------------------------
// The Verbund page
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "council/verbund.html")]
pub struct CncVerbundPage {
    pub c: Chrome,
    pub verbund_id: VerbundId,
    pub query: String,
    pub amount: String,
    pub w_inhabitants: String,
    pub w_staff: String,
    pub w_workstations: String,
    pub report: Report,
}

pub async fn verbund_page(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<CostQuery>,
) -> Response {
    let vid = VerbundId(id);
    let report = match build_verbund(&state, &me.scope, me.audit_seq, vid, &q).await {
        Ok(r) => r,
        Err(e) => return fail(tr, e),
    };
    let key = q.key();
    let query = serde_urlencoded::to_string([
        ("amount", q.amount.clone().unwrap_or_default()),
        ("w_inhabitants", key.inhabitants.to_string()),
        ("w_staff", key.staff.to_string()),
        ("w_workstations", key.workstations.to_string()),
    ])
    .unwrap_or_default();
    let page = CncVerbundPage {
        c: Chrome::new(
            tr,
            &me,
            tr.f("cnc.verbund.title", &[("name", &report.subject)]),
            "verbuende",
        ),
        verbund_id: vid,
        query,
        amount: q.amount.clone().unwrap_or_default(),
        w_inhabitants: key.inhabitants.to_string(),
        w_staff: key.staff.to_string(),
        w_workstations: key.workstations.to_string(),
        report,
    };
    render(page)
}
