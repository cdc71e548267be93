//! Users and their roles. Managers create users with a first role; the initial password is
//! generated and shown once, never sent or stored in clear.

use crate::auth::CurrentUser;
use crate::features::{done, fail, render, render_status, FlashQuery};
use crate::i18n::Tr;
use crate::view::{
    Chrome, OrgChoice, SecretShownPage, UserNewForm, UserNewPage, UserPage, UsersPage,
};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use stadtmauer_core::credentials::{generate_password_for, hash_password};
use stadtmauer_core::user::{MembershipInput, UserInput};
use stadtmauer_core::validate::FieldErrors;
use stadtmauer_core::{now, Access, DomainError, MembershipId, OrgId, UserId};
use stadtmauer_store::users::UserWithRoles;

/// Organisations where the user may grant at least some role.
async fn grantable_orgs(state: &AppState, me: &CurrentUser) -> Vec<OrgChoice> {
    if me.scope.read_only {
        return Vec::new();
    }
    state
        .store
        .organisations(&me.scope)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|o| me.scope.can(o.id, Access::Write))
        .map(|o| OrgChoice {
            id: o.id,
            name: o.name,
        })
        .collect()
}

pub async fn list(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Query(q): Query<FlashQuery>,
) -> Response {
    if me.scope.with(Access::Read).is_empty() && !me.scope.admin {
        return fail(tr, DomainError::Forbidden);
    }
    let users = match state.store.users(&me.scope).await {
        Ok(u) => u,
        Err(e) => return fail(tr, e),
    };
    let can_create = !grantable_orgs(&state, &me).await.is_empty();
    let c = Chrome::new(tr, &me, tr.s("user.list_title"), "users").with_flash(q.msg.as_deref());
    render(UsersPage {
        c,
        users,
        can_create,
    })
}

pub async fn new_form(State(state): State<AppState>, tr: Tr, me: CurrentUser) -> Response {
    let orgs = grantable_orgs(&state, &me).await;
    if orgs.is_empty() {
        return fail(tr, DomainError::Forbidden);
    }
    let c = Chrome::new(tr, &me, tr.s("user.new"), "users");
    render(UserNewPage {
        c,
        form: UserNewForm {
            role: "coordinator".into(),
            ..Default::default()
        },
        orgs,
    })
}

async fn membership_data(
    state: &AppState,
    me: &CurrentUser,
    input: &MembershipInput,
) -> Result<stadtmauer_core::user::MembershipData, DomainError> {
    let office = match input.organisation_id.trim().parse::<i64>() {
        Ok(id) => state.store.is_office(&me.scope, OrgId(id)).await,
        Err(_) => None,
    };
    input.validate(|_| office, now())
}

pub async fn create(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Form(f): Form<UserNewForm>,
) -> Response {
    let user = UserInput {
        email: f.email.clone(),
        display_name: f.display_name.clone(),
    }
    .validate();
    let membership = membership_data(
        &state,
        &me,
        &MembershipInput {
            organisation_id: f.organisation_id.clone(),
            role: f.role.clone(),
            valid_until: f.valid_until.clone(),
        },
    )
    .await;
    // Generated, so it passes the password rule (`credentials::check_new_password`) by design.
    let password = generate_password_for(&f.email);
    let result = match (user, membership) {
        (Ok(u), Ok(m)) => match hash_password(&password) {
            Ok(hash) => state.store.create_user(&me.scope, &u, &hash, &m).await,
            Err(e) => Err(e),
        },
        (Err(DomainError::Invalid(mut a)), Err(DomainError::Invalid(b))) => {
            a.0.extend(b.0);
            Err(DomainError::Invalid(a))
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    match result {
        Ok(id) => {
            let c = Chrome::new(tr, &me, tr.s("user.created"), "users");
            render(SecretShownPage {
                c,
                heading: "user.created",
                explanation: "user.initial_password",
                secret: password,
                back: format!("/users/{id}"),
            })
        }
        Err(DomainError::Invalid(errs) | DomainError::Conflict(errs)) => {
            let orgs = grantable_orgs(&state, &me).await;
            let c = Chrome::new(tr, &me, tr.s("user.new"), "users").with_errors(errs);
            render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                UserNewPage { c, form: f, orgs },
            )
        }
        Err(e) => fail(tr, e),
    }
}

async fn user_page(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    u: UserWithRoles,
    errors: FieldErrors,
    form: Option<(String, String)>,
    flash: Option<&str>,
) -> UserPage {
    let orgs = grantable_orgs(state, me).await;
    let (form_email, form_name) =
        form.unwrap_or_else(|| (u.user.email.clone(), u.user.display_name.clone()));
    UserPage {
        c: Chrome::new(tr, me, u.user.display_name.clone(), "users")
            .with_errors(errors)
            .with_flash(flash),
        u,
        orgs,
        form_email,
        form_name,
    }
}

pub async fn show(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<FlashQuery>,
) -> Response {
    match state.store.user(&me.scope, UserId(id)).await {
        Ok(u) => render(
            user_page(
                &state,
                tr,
                &me,
                u,
                FieldErrors::default(),
                None,
                q.msg.as_deref(),
            )
            .await,
        ),
        Err(e) => fail(tr, e),
    }
}

/// Re-shows the user page with errors, or a 404 when the user is not visible.
async fn user_errors(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    id: UserId,
    errs: FieldErrors,
    form: Option<(String, String)>,
) -> Response {
    match state.store.user(&me.scope, id).await {
        Ok(u) => render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            user_page(state, tr, me, u, errs, form, None).await,
        ),
        Err(e) => fail(tr, e),
    }
}

pub async fn update(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<UserInput>,
) -> Response {
    let id = UserId(id);
    let result = match f.validate() {
        Ok(data) => state.store.update_user(&me.scope, id, &data).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => done(&format!("/users/{id}"), "msg.saved"),
        Err(DomainError::Invalid(errs) | DomainError::Conflict(errs)) => {
            user_errors(&state, tr, &me, id, errs, Some((f.email, f.display_name))).await
        }
        Err(e) => fail(tr, e),
    }
}

#[derive(serde::Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    disabled: String,
}

pub async fn set_status(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<StatusForm>,
) -> Response {
    let id = UserId(id);
    match state
        .store
        .set_user_disabled(&me.scope, id, f.disabled == "1")
        .await
    {
        Ok(()) => done(&format!("/users/{id}"), "msg.saved"),
        Err(DomainError::Invalid(errs)) => user_errors(&state, tr, &me, id, errs, None).await,
        Err(e) => fail(tr, e),
    }
}

pub async fn reset_password(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Response {
    let id = UserId(id);
    if id == me.user.id {
        return fail(tr, DomainError::Forbidden);
    }
    let target = match state.store.user(&me.scope, id).await {
        Ok(u) => u,
        Err(e) => return fail(tr, e),
    };
    // Generated, so it passes the password rule; the reset also revokes the user's API tokens.
    let password = generate_password_for(&target.user.email);
    let result = match hash_password(&password) {
        Ok(hash) => state.store.set_password(&me.scope, id, &hash, None).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            let c = Chrome::new(tr, &me, tr.s("user.password_reset"), "users");
            render(SecretShownPage {
                c,
                heading: "user.password_reset",
                explanation: "user.initial_password",
                secret: password,
                back: format!("/users/{id}"),
            })
        }
        Err(e) => fail(tr, e),
    }
}

pub async fn reset_totp(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Response {
    let id = UserId(id);
    if id == me.user.id {
        return fail(tr, DomainError::Forbidden);
    }
    match state.store.totp_disable(&me.scope, id).await {
        Ok(()) => done(&format!("/users/{id}"), "msg.totp_disabled"),
        Err(e) => fail(tr, e),
    }
}

pub async fn add_membership(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<MembershipInput>,
) -> Response {
    let id = UserId(id);
    if let Err(e) = state.store.user(&me.scope, id).await {
        return fail(tr, e);
    }
    let result = match membership_data(&state, &me, &f).await {
        Ok(m) => state
            .store
            .add_membership(&me.scope, id, &m)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => done(&format!("/users/{id}"), "msg.saved"),
        Err(DomainError::Invalid(errs) | DomainError::Conflict(errs)) => {
            user_errors(&state, tr, &me, id, errs, None).await
        }
        Err(e) => fail(tr, e),
    }
}

pub async fn remove_membership(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path((id, mid)): Path<(i64, i64)>,
) -> Response {
    let id = UserId(id);
    match state
        .store
        .remove_membership(&me.scope, id, MembershipId(mid))
        .await
    {
        Ok(()) => done(&format!("/users/{id}"), "msg.deleted"),
        Err(e) => fail(tr, e),
    }
}
