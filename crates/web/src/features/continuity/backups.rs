//! The backup register and its restore tests.

use super::*;
use bcm::backup::{BackupInput, CopyInput, Medium, RestoreResult, RestoreTestInput};

pub struct RegisterRow {
    pub id: i64,
    pub name: String,
    pub systems: String,
    pub interval: String,
    pub copies: String,
    pub last_test: String,
    pub ok: bool,
}

#[derive(Template)]
#[template(path = "continuity/backups.html")]
pub struct BackupsPage {
    pub c: Chrome,
    pub org_id: OrgId,
    pub org_name: String,
    pub rows: Vec<RegisterRow>,
    pub can_write: bool,
}

fn medium_value(m: Medium) -> &'static str {
    match m {
        Medium::Disk => "disk",
        Medium::Nas => "nas",
        Medium::Tape => "tape",
        Medium::Cloud => "cloud",
        Medium::Removable => "removable",
        Medium::Optical => "optical",
    }
}

const MEDIA: [&str; 6] = ["disk", "nas", "tape", "cloud", "removable", "optical"];

pub async fn backups_page(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<FlashQuery>,
) -> Result<Response, PageError> {
    let org = OrgId(id);
    let o = state.store.organisation(&me.scope, org).await?;
    let t = state.store.continuity(&me.scope, org).await?;
    let rows = t
        .backups
        .iter()
        .map(|b| {
            let checks = bcm::verdict::rule_32110(&b.backup);
            RegisterRow {
                id: b.id,
                name: b.backup.name.clone(),
                systems: b
                    .backup
                    .systems
                    .iter()
                    .map(|s| name_of(&t.names, *s))
                    .collect::<Vec<_>>()
                    .join(", "),
                interval: b.backup.interval.to_string(),
                copies: b
                    .backup
                    .copies
                    .iter()
                    .map(|c| {
                        format!(
                            "{} ({})",
                            ds(tr, format!("bcm.medium.{}", medium_value(c.medium))),
                            c.location
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
                last_test: b
                    .backup
                    .last_restore_test()
                    .map(|t| {
                        format!(
                            "{} – {}",
                            t.date,
                            tr.s(match t.result {
                                RestoreResult::Success => "bcm.result.success",
                                RestoreResult::Partial => "bcm.result.partial",
                                RestoreResult::Failed => "bcm.result.failed",
                            })
                        )
                    })
                    .unwrap_or_else(|| tr.s("bcm.backup.never_tested").into()),
                ok: checks.iter().all(|c| c.ok),
            }
        })
        .collect();
    Ok(render(BackupsPage {
        c: Chrome::new(
            tr,
            &me,
            tr.f("bcm.backups.title", &[("name", &o.name)]),
            "organisations",
        )
        .with_flash(q.msg.as_deref()),
        org_id: org,
        org_name: o.name,
        rows,
        can_write: me.scope.may(org, Access::WriteTechnical),
    }))
}

pub struct CopyRow {
    pub i: usize,
    pub media: Vec<Choice>,
    pub location: String,
    pub offsite: bool,
    pub offline: bool,
    pub immutable: bool,
}

pub struct TestRow {
    pub i: usize,
    pub date: String,
    pub duration: String,
    pub results: Vec<Choice>,
    pub errors: String,
    pub notes: String,
}

#[derive(Template)]
#[template(path = "continuity/backup_form.html")]
pub struct BackupFormPage {
    pub c: Chrome,
    pub org_id: OrgId,
    pub id: Option<i64>,
    pub name: String,
    pub method: String,
    pub tool: String,
    pub interval: String,
    pub retention: String,
    pub systems: Vec<Choice>,
    pub copies: Vec<CopyRow>,
    pub encrypted: bool,
    pub separate_credentials: bool,
    pub last_success: String,
    pub tests: Vec<TestRow>,
}

fn backup_to_input(b: &bcm::backup::Backup) -> BackupInput {
    let on = |x: bool| x.then(|| "on".to_string());
    BackupInput {
        systems: b.systems.clone(),
        name: b.name.clone(),
        method: b.method.clone(),
        tool: b.tool.clone(),
        interval: span_input(b.interval),
        retention: b.retention.map(span_input),
        copies: b
            .copies
            .iter()
            .map(|c| CopyInput {
                medium: medium_value(c.medium).into(),
                location: c.location.clone(),
                offsite: on(c.offsite),
                offline: on(c.offline),
                immutable: on(c.immutable),
            })
            .collect(),
        encrypted: on(b.encrypted),
        separate_credentials: on(b.separate_credentials),
        last_success: b.last_success.map(|d| d.to_string()),
        restore_tests: b
            .restore_tests
            .iter()
            .map(|t| RestoreTestInput {
                date: t.date.to_string(),
                duration: span_input(t.duration),
                result: match t.result {
                    RestoreResult::Success => "success",
                    RestoreResult::Partial => "partial",
                    RestoreResult::Failed => "failed",
                }
                .into(),
                errors: Some(t.errors.to_string()),
                notes: t.notes.clone(),
            })
            .collect(),
    }
}

fn backup_from_form(fields: &[(String, String)]) -> BackupInput {
    let opt = |n: &str| {
        field(fields, n)
            .map(str::to_string)
            .filter(|s| !s.trim().is_empty())
    };
    let get = |m: &HashMap<String, String>, k: &str| m.get(k).cloned().unwrap_or_default();
    let getopt =
        |m: &HashMap<String, String>, k: &str| m.get(k).cloned().filter(|s| !s.trim().is_empty());
    BackupInput {
        systems: fields
            .iter()
            .filter(|(k, _)| k == "systems")
            .filter_map(|(_, v)| v.trim().parse().ok().map(ObjectId))
            .collect(),
        name: opt("name").unwrap_or_default(),
        method: opt("method"),
        tool: opt("tool"),
        interval: opt("interval").unwrap_or_default(),
        retention: opt("retention"),
        copies: indexed(fields, "copy_")
            .values()
            .filter(|m| {
                !get(m, "location").trim().is_empty() || !get(m, "medium").trim().is_empty()
            })
            .map(|m| CopyInput {
                medium: get(m, "medium"),
                location: get(m, "location"),
                offsite: getopt(m, "offsite"),
                offline: getopt(m, "offline"),
                immutable: getopt(m, "immutable"),
            })
            .collect(),
        encrypted: opt("encrypted"),
        separate_credentials: opt("separate_credentials"),
        last_success: opt("last_success"),
        restore_tests: indexed(fields, "test_")
            .values()
            .filter(|m| !get(m, "date").trim().is_empty() || !get(m, "duration").trim().is_empty())
            .map(|m| RestoreTestInput {
                date: get(m, "date"),
                duration: get(m, "duration"),
                result: get(m, "result"),
                errors: getopt(m, "errors"),
                notes: getopt(m, "notes"),
            })
            .collect(),
    }
}

fn backup_page(
    tr: Tr,
    me: &CurrentUser,
    org: OrgId,
    id: Option<i64>,
    systems: &[(ObjectId, String)],
    input: &BackupInput,
    errors: FieldErrors,
) -> BackupFormPage {
    let copies = input
        .copies
        .iter()
        .cloned()
        .chain(std::iter::repeat_with(CopyInput::default))
        .take((input.copies.len() + 2).min(12))
        .enumerate()
        .map(|(i, c)| CopyRow {
            i,
            media: MEDIA
                .iter()
                .map(|m| Choice {
                    value: (*m).into(),
                    label: ds(tr, format!("bcm.medium.{m}")),
                    selected: Medium::parse(&c.medium).map(medium_value) == Some(*m),
                })
                .collect(),
            location: c.location.clone(),
            offsite: is_on(&c.offsite),
            offline: is_on(&c.offline),
            immutable: is_on(&c.immutable),
        })
        .collect();
    let tests = input
        .restore_tests
        .iter()
        .cloned()
        .chain(std::iter::repeat_with(RestoreTestInput::default))
        .take((input.restore_tests.len() + 1).min(24))
        .enumerate()
        .map(|(i, t)| TestRow {
            i,
            date: t.date.clone(),
            duration: t.duration.clone(),
            results: ["success", "partial", "failed"]
                .iter()
                .map(|r| Choice {
                    value: (*r).into(),
                    label: ds(tr, format!("bcm.result.{r}")),
                    selected: t.result == *r,
                })
                .collect(),
            errors: t.errors.clone().unwrap_or_default(),
            notes: t.notes.clone().unwrap_or_default(),
        })
        .collect();
    BackupFormPage {
        c: Chrome::new(
            tr,
            me,
            if id.is_some() {
                tr.f("bcm.backup.edit_title", &[("name", &input.name)])
            } else {
                tr.s("bcm.backup.new_title").to_string()
            },
            "organisations",
        )
        .with_errors(errors),
        org_id: org,
        id,
        name: input.name.clone(),
        method: input.method.clone().unwrap_or_default(),
        tool: input.tool.clone().unwrap_or_default(),
        interval: input.interval.clone(),
        retention: input.retention.clone().unwrap_or_default(),
        systems: systems
            .iter()
            .map(|(sid, name)| Choice {
                value: sid.to_string(),
                label: name.clone(),
                selected: input.systems.contains(sid),
            })
            .collect(),
        copies,
        encrypted: is_on(&input.encrypted),
        separate_credentials: is_on(&input.separate_credentials),
        last_success: input.last_success.clone().unwrap_or_default(),
        tests,
    }
}

pub async fn backup_form(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(org): Path<i64>,
    Query(q): Query<IdQuery>,
) -> Result<Response, PageError> {
    let org = OrgId(org);
    let systems = town_systems(&state, &me, org).await?;
    let id = q.id.as_deref().and_then(|s| s.trim().parse::<i64>().ok());
    let input = match id {
        Some(id) => state
            .store
            .backups(&me.scope, org)
            .await?
            .into_iter()
            .find(|b| b.id == id)
            .map(|b| backup_to_input(&b.backup))
            .ok_or(DomainError::NotFound)?,
        None => BackupInput::default(),
    };
    Ok(render(backup_page(
        tr,
        &me,
        org,
        id,
        &systems,
        &input,
        FieldErrors::default(),
    )))
}

pub async fn backup_save(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(org): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let org = OrgId(org);
    me.scope.require(org, Access::WriteTechnical)?;
    let systems = town_systems(&state, &me, org).await?;
    let id = field(&fields, "id").and_then(|s| s.trim().parse::<i64>().ok());
    let input = backup_from_form(&fields);
    match state.store.save_backup(&me.scope, org, id, &input).await {
        Ok(_) => Ok(done(
            &format!("/organisations/{}/continuity/backups", org.0),
            "msg.saved",
        )),
        Err(DomainError::Invalid(errs)) => Ok(render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            backup_page(tr, &me, org, id, &systems, &input, errs),
        )),
        Err(e) => Err(e.into()),
    }
}

pub async fn backup_delete(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<i64>,
    Form(q): Form<IdQuery>,
) -> Result<Response, PageError> {
    let org = OrgId(org);
    me.scope.require(org, Access::WriteTechnical)?;
    let id = q.id.as_deref().and_then(|s| s.trim().parse::<i64>().ok());
    let id = id.ok_or(DomainError::NotFound)?;
    state.store.delete_backup(&me.scope, org, id).await?;
    Ok(done(
        &format!("/organisations/{}/continuity/backups", org.0),
        "msg.deleted",
    ))
}
