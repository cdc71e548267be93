//! The JSON API under `/api/v1`, authenticated by personal API tokens and documented by the
//! OpenAPI document at `/api/v1/openapi.json`. It calls the same store methods as the pages, with
//! the same scope, so it can never show more than the UI.

use crate::auth::{require_writable, ApiUser};
use crate::error::{ApiError, Problem};
use crate::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use stadtmauer_core::audit::Entry;
use stadtmauer_core::org::{
    Contact, ContactInput, OrgKind, Organisation, OrganisationInput, Verbund,
};
use stadtmauer_core::user::{Membership, User};
use stadtmauer_core::{Access, ContactId, DomainError, OrgId, UserId, VerbundId};
use stadtmauer_store::audit::AuditFilter;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

/// JSON body extractor whose errors are problem documents naming line and column.
pub struct ApiJson<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::JsonDataError(e)) => Err(ApiError::BadRequest(e.body_text())),
            Err(JsonRejection::JsonSyntaxError(e)) => Err(ApiError::BadRequest(e.body_text())),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::BadRequest(
                "expected Content-Type: application/json".into(),
            )),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::TooLarge),
            Err(e) => Err(ApiError::BadRequest(e.body_text())),
        }
    }
}

type ApiResult<T> = Result<T, ApiError>;

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub user: User,
    pub memberships: Vec<Membership>,
    pub read_only: bool,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "account",
    responses((status = 200, body = Me), (status = 401, body = Problem)), security(("token" = [])))]
pub async fn me(State(state): State<AppState>, api: ApiUser) -> ApiResult<Json<Me>> {
    let u = state.store.user(&api.scope, api.scope.user).await?;
    Ok(Json(Me {
        user: u.user,
        memberships: u.memberships,
        read_only: api.scope.read_only,
    }))
}

#[utoipa::path(get, path = "/api/v1/verbuende", tag = "organisations",
    responses((status = 200, body = [Verbund]), (status = 401, body = Problem)), security(("token" = [])))]
pub async fn list_verbuende(
    State(state): State<AppState>,
    api: ApiUser,
) -> ApiResult<Json<Vec<Verbund>>> {
    Ok(Json(state.store.verbuende(&api.scope).await?))
}

#[utoipa::path(get, path = "/api/v1/organisations", tag = "organisations",
    responses((status = 200, body = [Organisation]), (status = 401, body = Problem)), security(("token" = [])))]
pub async fn list_organisations(
    State(state): State<AppState>,
    api: ApiUser,
) -> ApiResult<Json<Vec<Organisation>>> {
    Ok(Json(
        state
            .store
            .organisations_at(&api.scope, api.audit_seq)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/organisations/{org_id}", tag = "organisations",
    params(("org_id" = i64, Path, description = "Organisation id")),
    responses((status = 200, body = Organisation), (status = 404, body = Problem)), security(("token" = [])))]
pub async fn get_organisation(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Organisation>> {
    Ok(Json(state.store.organisation(&api.scope, OrgId(id)).await?))
}

/// An organisation as the API takes it. Counts are numbers here; absent fields stay unchanged on
/// PATCH.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationBody {
    pub name: Option<String>,
    pub kind: Option<OrgKind>,
    pub ags: Option<String>,
    pub inhabitants: Option<i64>,
    pub staff: Option<i64>,
    pub workstations: Option<i64>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    /// Only on creation.
    pub verbund_id: Option<i64>,
}

impl OrganisationBody {
    fn over(self, base: OrganisationInput) -> OrganisationInput {
        let num = |n: Option<i64>, old: Option<String>| n.map(|n| n.to_string()).or(old);
        OrganisationInput {
            name: self.name.unwrap_or(base.name),
            kind: self
                .kind
                .map(|k| k.as_str().to_string())
                .unwrap_or(base.kind),
            ags: self.ags.or(base.ags),
            inhabitants: num(self.inhabitants, base.inhabitants),
            staff: num(self.staff, base.staff),
            workstations: num(self.workstations, base.workstations),
            email: self.email.or(base.email),
            phone: self.phone.or(base.phone),
            address: self.address.or(base.address),
            verbund_id: None,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/organisations", tag = "organisations", request_body = OrganisationBody,
    responses((status = 201, body = Organisation), (status = 403, body = Problem), (status = 422, body = Problem)), security(("token" = [])))]
pub async fn create_organisation(
    State(state): State<AppState>,
    api: ApiUser,
    body: Result<ApiJson<OrganisationBody>, ApiError>,
) -> ApiResult<Response> {
    // Someone who may create no organisation at all is refused before the body is read.
    if api.scope.read_only || (!api.scope.admin && api.scope.managed_verbuende().next().is_none()) {
        return Err(DomainError::Forbidden.into());
    }
    let ApiJson(body) = body?;
    let verbund = body.verbund_id.map(VerbundId);
    api.scope.require_create_org(verbund)?;
    let data = body.over(OrganisationInput::default()).validate()?;
    let id = state
        .store
        .create_organisation(&api.scope, verbund, &data)
        .await?;
    // The new organisation is not yet in the request's scope; read it back with a fresh one.
    let (_, fresh) = state
        .store
        .scope_for(api.scope.user)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let org = state.store.organisation(&fresh, id).await?;
    Ok((StatusCode::CREATED, Json(org)).into_response())
}

#[utoipa::path(patch, path = "/api/v1/organisations/{org_id}", tag = "organisations", request_body = OrganisationBody,
    params(("org_id" = i64, Path, description = "Organisation id")),
    responses((status = 200, body = Organisation), (status = 404, body = Problem), (status = 422, body = Problem)), security(("token" = [])))]
pub async fn update_organisation(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<OrganisationBody>,
) -> ApiResult<Json<Organisation>> {
    let id = OrgId(id);
    let current = state.store.organisation(&api.scope, id).await?;
    api.scope.require(id, Access::Write)?;
    if body.verbund_id.is_some() {
        return Err(ApiError::BadRequest("verbund_id cannot be changed".into()));
    }
    let num = |n: Option<i64>| n.map(|n| n.to_string());
    let base = OrganisationInput {
        name: current.name,
        kind: current.kind.as_str().into(),
        ags: current.ags,
        inhabitants: num(current.inhabitants),
        staff: num(current.staff),
        workstations: num(current.workstations),
        email: current.email,
        phone: current.phone,
        address: current.address,
        verbund_id: None,
    };
    let data = body.over(base).validate()?;
    state
        .store
        .update_organisation(&api.scope, id, &data)
        .await?;
    Ok(Json(state.store.organisation(&api.scope, id).await?))
}

#[utoipa::path(delete, path = "/api/v1/organisations/{org_id}", tag = "organisations",
    params(("org_id" = i64, Path, description = "Organisation id")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)), security(("token" = [])))]
pub async fn delete_organisation(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    require_writable(&api.scope)?;
    state
        .store
        .delete_organisation(&api.scope, OrgId(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/organisations/{org_id}/contacts", tag = "organisations",
    params(("org_id" = i64, Path, description = "Organisation id")),
    responses((status = 200, body = [Contact]), (status = 404, body = Problem)), security(("token" = [])))]
pub async fn list_contacts(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<Contact>>> {
    Ok(Json(state.store.contacts(&api.scope, OrgId(id)).await?))
}

#[utoipa::path(post, path = "/api/v1/organisations/{org_id}/contacts", tag = "organisations", request_body = ContactInput,
    params(("org_id" = i64, Path, description = "Organisation id")),
    responses((status = 201, body = Contact), (status = 404, body = Problem), (status = 422, body = Problem)), security(("token" = [])))]
pub async fn create_contact(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<ContactInput>,
) -> ApiResult<Response> {
    let org = OrgId(id);
    state.store.organisation(&api.scope, org).await?;
    require_writable(&api.scope)?;
    let data = body.validate()?;
    let cid = state.store.add_contact(&api.scope, org, &data).await?;
    let contact = state
        .store
        .contacts(&api.scope, org)
        .await?
        .into_iter()
        .find(|c| c.id == cid)
        .ok_or(ApiError::NotFound)?;
    Ok((StatusCode::CREATED, Json(contact)).into_response())
}

#[utoipa::path(delete, path = "/api/v1/organisations/{org_id}/contacts/{contact_id}", tag = "organisations",
    params(("org_id" = i64, Path, description = "Organisation id"), ("contact_id" = i64, Path, description = "Contact id")),
    responses((status = 204), (status = 404, body = Problem)), security(("token" = [])))]
pub async fn delete_contact(
    State(state): State<AppState>,
    api: ApiUser,
    Path((id, cid)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    require_writable(&api.scope)?;
    state
        .store
        .delete_contact(&api.scope, OrgId(id), ContactId(cid))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct UserEntry {
    pub user: User,
    /// The roles the caller may see.
    pub memberships: Vec<Membership>,
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    responses((status = 200, body = [UserEntry]), (status = 401, body = Problem)), security(("token" = [])))]
pub async fn list_users(
    State(state): State<AppState>,
    api: ApiUser,
) -> ApiResult<Json<Vec<UserEntry>>> {
    let users = state.store.users(&api.scope).await?;
    Ok(Json(
        users
            .into_iter()
            .map(|u| UserEntry {
                user: u.user,
                memberships: u.memberships,
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/users/{user_id}", tag = "users",
    params(("user_id" = i64, Path, description = "User id")),
    responses((status = 200, body = UserEntry), (status = 404, body = Problem)), security(("token" = [])))]
pub async fn get_user(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<UserEntry>> {
    let u = state.store.user(&api.scope, UserId(id)).await?;
    Ok(Json(UserEntry {
        user: u.user,
        memberships: u.memberships,
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct AuditParams {
    /// Only entries about this organisation.
    pub organisation: Option<i64>,
    /// Only entries older than this sequence number (for paging).
    pub before: Option<i64>,
    /// At most this many entries (1–1000, default 100).
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditParams),
    responses((status = 200, body = [Entry]), (status = 401, body = Problem)), security(("token" = [])))]
pub async fn list_audit(
    State(state): State<AppState>,
    api: ApiUser,
    Query(p): Query<AuditParams>,
) -> ApiResult<Json<Vec<Entry>>> {
    let filter = AuditFilter {
        organisation: p.organisation.map(OrgId),
        before_seq: p.before,
        limit: p.limit.unwrap_or(100),
    };
    Ok(Json(state.store.audit_entries(&api.scope, &filter).await?))
}

struct TokenAuth;

impl Modify for TokenAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("Personal API token (Konto → API-Tokens)"))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Stadtmauer API", description = "Information security of municipalities and their Verbund. Every answer is limited to what the token's user may see."),
    paths(me, list_verbuende, list_organisations, create_organisation, get_organisation, update_organisation, delete_organisation,
          list_contacts, create_contact, delete_contact, list_users, get_user, list_audit,
          crate::features::inventory::api::api_list_objects, crate::features::inventory::api::api_create_object,
          crate::features::inventory::api::api_get_object, crate::features::inventory::api::api_update_object,
          crate::features::inventory::api::api_delete_object, crate::features::inventory::api::api_links,
          crate::features::inventory::api::api_add_link, crate::features::inventory::api::api_remove_link,
          crate::features::council::reports::api_town_report, crate::features::council::reports::api_verbund_report,
          crate::features::security::api::level, crate::features::security::api::answers,
          crate::features::security::api::put_answer, crate::features::security::api::measures,
          crate::features::security::api::heatmap),
    components(schemas(Problem, crate::error::ProblemField, OrganisationBody)),
    modifiers(&TokenAuth)
)]
pub struct ApiDoc;

pub async fn openapi_json() -> Response {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    Json(doc).into_response()
}
