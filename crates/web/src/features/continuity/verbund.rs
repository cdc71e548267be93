//! The office's comparison of every member town's readiness.

use super::*;
use stadtmauer_core::VerbundId;

pub struct ScoreRow {
    pub org_id: OrgId,
    pub name: String,
    pub score: u8,
    pub bias: usize,
    pub backups: usize,
    pub gaps: usize,
    pub rto_unmet: usize,
    pub outdated: bool,
}

#[derive(Template)]
#[template(path = "continuity/verbund.html")]
pub struct VerbundPage {
    pub c: Chrome,
    pub verbund_id: VerbundId,
    pub verbund_name: String,
    pub rows: Vec<ScoreRow>,
}

pub async fn verbund(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let v = VerbundId(id);
    let verbund = state.store.verbund(&me.scope, v).await?;
    let towns: Vec<_> = state
        .store
        .organisations(&me.scope)
        .await?
        .into_iter()
        .filter(|o| o.verbund_id == Some(v) && !o.is_office && me.scope.can(o.id, Access::Read))
        .collect();
    let mut rows = Vec::new();
    let start = now_local();
    for t in towns {
        let c = state.store.continuity(&me.scope, t.id).await?;
        let a = analyse(&c, today(), start, 2);
        rows.push(ScoreRow {
            org_id: t.id,
            name: t.name,
            score: a.readiness.score,
            bias: c.bias.len(),
            backups: c.backups.len(),
            gaps: a.verdicts.gaps.len(),
            rto_unmet: a.verdicts.rto.iter().filter(|r| !r.ok).count(),
            outdated: c.handbook_outdated(),
        });
    }
    rows.sort_by(|a, b| b.score.cmp(&a.score).then(a.name.cmp(&b.name)));
    Ok(render(VerbundPage {
        c: Chrome::new(
            tr,
            &me,
            tr.f("bcm.verbund.title", &[("name", &verbund.name)]),
            "verbuende",
        ),
        verbund_id: v,
        verbund_name: verbund.name,
        rows,
    }))
}
