//! The alias table: the built-in products and the aliases users added (the installation's or a
//! Verbund's).

use super::*;
use stadtmauer_core::Owner;
use stadtmauer_store::updates::stadtmauer_lifecycle::identity::UserAlias;

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
) -> Result<Response, PageError> {
    let page = aliases_view(&state, tr, &me, &q, FieldErrors::default()).await?;
    Ok(render(page))
}

pub async fn add_alias(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Form(f): Form<AliasForm>,
) -> Result<Response, PageError> {
    // The owner first: someone who may not add aliases gets 403 before the input is read.
    let managed = me.scope.shared_owners_managed();
    let owner = match f.owner.as_deref() {
        None | Some("") if managed.len() == 1 => managed[0],
        None | Some("") if managed.is_empty() => return Err(PageError::of(StatusCode::FORBIDDEN)),
        None | Some("") => {
            let mut errs = FieldErrors::default();
            errs.add("owner", "err.required");
            let page = aliases_view(&state, tr, &me, &f, errs).await?;
            return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, page));
        }
        Some(v) => match managed.iter().find(|o| owner_value(**o) == v) {
            Some(o) => *o,
            None => return Err(PageError::of(StatusCode::FORBIDDEN)),
        },
    };
    let a = UserAlias {
        pattern: f.pattern.clone().unwrap_or_default(),
        key: f.key.clone().unwrap_or_default(),
        cycle: f.cycle.clone(),
    };
    match state.store.add_alias(&me.scope, owner, &a).await {
        Ok(_) => Ok(done("/updates/aliases", "msg.created")),
        Err(DomainError::Invalid(errs)) | Err(DomainError::Conflict(errs)) => {
            let page = aliases_view(&state, tr, &me, &f, errs).await?;
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, page))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn remove_alias(
    State(state): State<AppState>,
    me: CurrentUser,
    Form(f): Form<AliasForm>,
) -> Result<Response, PageError> {
    if me.scope.shared_owners_managed().is_empty() {
        return Err(PageError::of(StatusCode::FORBIDDEN));
    }
    let Some(id) = f.id.as_deref().and_then(|s| s.trim().parse().ok()) else {
        return Err(PageError::of(StatusCode::NOT_FOUND));
    };
    state.store.remove_alias(&me.scope, id).await?;
    Ok(done("/updates/aliases", "msg.deleted"))
}
