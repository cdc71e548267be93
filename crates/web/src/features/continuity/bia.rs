//! The business impact analysis: the list per town and the form per process.

use super::*;
use bcm::bia::{BiaInput, Criticality, DeadlineInput, DeadlineRule, StepInput};

pub struct BiaRow {
    pub id: ObjectId,
    pub name: String,
    pub has: bool,
    pub criticality: &'static str,
    pub mta: String,
    pub rto: String,
    pub rpo: String,
    pub deadlines: usize,
    pub steps: usize,
}

#[derive(Template)]
#[template(path = "continuity/bia_list.html")]
pub struct BiaListPage {
    pub c: Chrome,
    pub org_id: OrgId,
    pub org_name: String,
    pub rows: Vec<BiaRow>,
    pub can_write: bool,
}

pub async fn bia_list(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<FlashQuery>,
) -> Result<Response, PageError> {
    let org = OrgId(id);
    let o = state.store.organisation(&me.scope, org).await?;
    let t = state.store.continuity(&me.scope, org).await?;
    let by: HashMap<ObjectId, &bcm::bia::Bia> = t.bias.iter().map(|b| (b.process, b)).collect();
    let mut rows: Vec<BiaRow> = t
        .graph
        .nodes
        .iter()
        .filter(|n| n.kind == ObjectKind::Process)
        .map(|n| {
            let b = by.get(&n.id);
            BiaRow {
                id: n.id,
                name: n.name.clone(),
                has: b.is_some(),
                criticality: b.map(|b| tr.s(b.criticality.label_key())).unwrap_or("–"),
                mta: b.map(|b| b.mta.to_string()).unwrap_or_else(|| "–".into()),
                rto: b.map(|b| b.rto.to_string()).unwrap_or_else(|| "–".into()),
                rpo: b
                    .and_then(|b| b.rpo)
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| "–".into()),
                deadlines: b.map(|b| b.deadlines.len()).unwrap_or(0),
                steps: b.map(|b| b.procedure.steps.len()).unwrap_or(0),
            }
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(render(BiaListPage {
        c: Chrome::new(
            tr,
            &me,
            tr.f("bcm.bia.list_title", &[("name", &o.name)]),
            "organisations",
        )
        .with_flash(q.msg.as_deref()),
        org_id: org,
        org_name: o.name,
        rows,
        can_write: me.scope.may(org, Access::Write),
    }))
}

pub struct DeadlineRow {
    pub i: usize,
    pub description: String,
    pub kinds: Vec<Choice>,
    pub value: String,
    pub lead: String,
}

pub struct ProcStepRow {
    pub i: usize,
    pub who: String,
    pub what: String,
}

#[derive(Template)]
#[template(path = "continuity/bia_form.html")]
pub struct BiaFormPage {
    pub c: Chrome,
    pub object_id: ObjectId,
    pub org_id: OrgId,
    pub mta: String,
    pub rto: String,
    pub rpo: String,
    pub criticality: Vec<Choice>,
    pub deadlines: Vec<DeadlineRow>,
    pub summary: String,
    pub steps: Vec<ProcStepRow>,
    pub materials: String,
    pub sustainable: String,
}

fn bia_to_input(b: &bcm::bia::Bia) -> BiaInput {
    BiaInput {
        mta: span_input(b.mta),
        rto: span_input(b.rto),
        rpo: b.rpo.map(span_input),
        criticality: b.criticality.as_str().into(),
        deadlines: b
            .deadlines
            .iter()
            .map(|d| {
                let (kind, value) = match d.rule {
                    DeadlineRule::MonthlyDay(x) => ("monthly", x.to_string()),
                    DeadlineRule::Fixed(x) => ("fixed", x.to_string()),
                    DeadlineRule::WithinHours(h) => ("within", format!("{h}h")),
                };
                DeadlineInput {
                    description: d.description.clone(),
                    kind: kind.into(),
                    value,
                    lead: (d.lead > Span::ZERO).then(|| span_input(d.lead)),
                }
            })
            .collect(),
        procedure_summary: b.procedure.summary.clone(),
        procedure_steps: b
            .procedure
            .steps
            .iter()
            .map(|s| StepInput {
                who: s.who.clone(),
                what: s.what.clone(),
            })
            .collect(),
        procedure_materials: b.procedure.materials.clone(),
        procedure_sustainable_for: b.procedure.sustainable_for.map(span_input),
    }
}

fn bia_from_form(fields: &[(String, String)]) -> BiaInput {
    let opt = |n: &str| {
        field(fields, n)
            .map(str::to_string)
            .filter(|s| !s.trim().is_empty())
    };
    let get = |m: &HashMap<String, String>, k: &str| m.get(k).cloned().unwrap_or_default();
    BiaInput {
        mta: opt("mta").unwrap_or_default(),
        rto: opt("rto").unwrap_or_default(),
        rpo: opt("rpo"),
        criticality: opt("criticality").unwrap_or_default(),
        deadlines: indexed(fields, "deadline_")
            .values()
            .filter(|m| {
                !get(m, "description").trim().is_empty() || !get(m, "value").trim().is_empty()
            })
            .map(|m| DeadlineInput {
                description: get(m, "description"),
                kind: get(m, "kind"),
                value: get(m, "value"),
                lead: Some(get(m, "lead")).filter(|s| !s.trim().is_empty()),
            })
            .collect(),
        procedure_summary: opt("procedure_summary"),
        procedure_steps: indexed(fields, "step_")
            .values()
            .map(|m| StepInput {
                who: get(m, "who"),
                what: get(m, "what"),
            })
            .collect(),
        procedure_materials: opt("procedure_materials"),
        procedure_sustainable_for: opt("procedure_sustainable_for"),
    }
}

fn bia_page(
    tr: Tr,
    me: &CurrentUser,
    o: &stadtmauer_inventory::model::Object,
    input: &BiaInput,
    errors: FieldErrors,
) -> BiaFormPage {
    let crit_sel = Criticality::parse(&input.criticality);
    let mut deadlines: Vec<DeadlineRow> = input
        .deadlines
        .iter()
        .map(|d| {
            (
                d.description.clone(),
                d.kind.clone(),
                d.value.clone(),
                d.lead.clone().unwrap_or_default(),
            )
        })
        .collect::<Vec<_>>()
        .into_iter()
        .chain(std::iter::repeat_with(Default::default))
        .take(input.deadlines.len() + 2)
        .enumerate()
        .map(|(i, (description, kind, value, lead))| DeadlineRow {
            i,
            description,
            kinds: ["monthly", "fixed", "within"]
                .iter()
                .map(|k| Choice {
                    value: (*k).into(),
                    label: ds(tr, format!("bcm.deadline.{k}")),
                    selected: kind == *k,
                })
                .collect(),
            value,
            lead,
        })
        .collect();
    deadlines.truncate(12);
    let steps = input
        .procedure_steps
        .iter()
        .map(|s| (s.who.clone(), s.what.clone()))
        .collect::<Vec<_>>()
        .into_iter()
        .chain(std::iter::repeat_with(Default::default))
        .take((input.procedure_steps.len() + 3).min(40))
        .enumerate()
        .map(|(i, (who, what))| ProcStepRow { i, who, what })
        .collect();
    BiaFormPage {
        c: Chrome::new(
            tr,
            me,
            tr.f("bcm.bia.title", &[("name", &o.data.name)]),
            "organisations",
        )
        .with_errors(errors),
        object_id: o.id,
        org_id: o.organisation_id,
        mta: input.mta.clone(),
        rto: input.rto.clone(),
        rpo: input.rpo.clone().unwrap_or_default(),
        criticality: Criticality::ALL
            .iter()
            .map(|c| Choice {
                value: c.as_str().into(),
                label: tr.s(c.label_key()).into(),
                selected: crit_sel == Some(*c),
            })
            .collect(),
        deadlines,
        summary: input.procedure_summary.clone().unwrap_or_default(),
        steps,
        materials: input.procedure_materials.clone().unwrap_or_default(),
        sustainable: input.procedure_sustainable_for.clone().unwrap_or_default(),
    }
}

async fn process_of(
    state: &AppState,
    me: &CurrentUser,
    id: ObjectId,
) -> Result<stadtmauer_inventory::model::Object, DomainError> {
    let o = state.store.object(&me.scope, id).await?;
    if o.data.kind != ObjectKind::Process || !me.scope.can(o.organisation_id, Access::Read) {
        return Err(DomainError::NotFound);
    }
    Ok(o)
}

pub async fn bia_form(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let o = process_of(&state, &me, ObjectId(id)).await?;
    let b = state.store.bia(&me.scope, o.id).await?;
    let input = b.as_ref().map(bia_to_input).unwrap_or_default();
    Ok(render(bia_page(
        tr,
        &me,
        &o,
        &input,
        FieldErrors::default(),
    )))
}

pub async fn bia_save(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let o = process_of(&state, &me, ObjectId(id)).await?;
    // The store checks the right before it validates the input.
    let input = bia_from_form(&fields);
    match state.store.save_bia(&me.scope, o.id, &input).await {
        Ok(_) => Ok(done(
            &format!("/organisations/{}/continuity/bia", o.organisation_id),
            "msg.saved",
        )),
        Err(DomainError::Invalid(errs)) => Ok(render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            bia_page(tr, &me, &o, &input, errs),
        )),
        Err(e) => Err(e.into()),
    }
}
