//! The inventory's JSON API: objects and their links, answering with problem documents.

use super::object::unlink;
use super::*;
use crate::api::ApiJson;
use crate::auth::{require_writable, ApiUser};
use crate::error::{ApiError, Problem};
use axum::Json;

type ApiResult<T> = Result<T, ApiError>;

#[utoipa::path(get, path = "/api/v1/organisations/{org_id}/objects", tag = "inventory",
    params(("org_id" = i64, Path, description = "Organisation id")),
    responses((status = 200, description = "The town's objects and the Verbund's shared providers", body = [Object]),
              (status = 404, body = Problem)), security(("token" = [])))]
pub async fn api_list_objects(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<Object>>> {
    Ok(Json(
        state
            .store
            .objects(&api.scope, OrgId(id), None, true)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/organisations/{org_id}/objects", tag = "inventory", request_body = ObjectInput,
    params(("org_id" = i64, Path, description = "Organisation id")),
    responses((status = 201, body = Object), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn api_create_object(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<ObjectInput>,
) -> ApiResult<Response> {
    let org = OrgId(id);
    // The least a writer needs; the store checks what the object's kind needs.
    api.scope.require(org, Access::WriteTechnical)?;
    let data = body.validate()?;
    let oid = state.store.create_object(&api.scope, org, &data).await?;
    let obj = state.store.object(&api.scope, oid).await?;
    Ok((StatusCode::CREATED, Json(obj)).into_response())
}

#[utoipa::path(get, path = "/api/v1/objects/{object_id}", tag = "inventory",
    params(("object_id" = i64, Path, description = "Object id")),
    responses((status = 200, body = Object), (status = 404, body = Problem)), security(("token" = [])))]
pub async fn api_get_object(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Object>> {
    Ok(Json(state.store.object(&api.scope, ObjectId(id)).await?))
}

/// Changes to an object: absent fields stay as they are. The kind cannot change.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ObjectPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub status: Option<String>,
    pub data_personal: Option<String>,
    pub data_special: Option<String>,
    pub data_classified: Option<String>,
    pub vendor: Option<String>,
    pub product: Option<String>,
    pub version: Option<String>,
    pub operating_model: Option<String>,
    pub vendor_country: Option<String>,
    pub system_type: Option<String>,
    pub count: Option<String>,
    pub contract: Option<String>,
    pub contact: Option<String>,
    pub need_c: Option<String>,
    pub need_i: Option<String>,
    pub need_a: Option<String>,
}

impl ObjectPatch {
    fn over(self, b: ObjectInput) -> ObjectInput {
        ObjectInput {
            kind: b.kind,
            name: self.name.unwrap_or(b.name),
            description: self.description.or(b.description),
            owner: self.owner.or(b.owner),
            status: self.status.or(b.status),
            data_personal: self.data_personal.or(b.data_personal),
            data_special: self.data_special.or(b.data_special),
            data_classified: self.data_classified.or(b.data_classified),
            vendor: self.vendor.or(b.vendor),
            product: self.product.or(b.product),
            version: self.version.or(b.version),
            operating_model: self.operating_model.or(b.operating_model),
            vendor_country: self.vendor_country.or(b.vendor_country),
            system_type: self.system_type.or(b.system_type),
            count: self.count.or(b.count),
            contract: self.contract.or(b.contract),
            contact: self.contact.or(b.contact),
            shared: b.shared,
            need_c: self.need_c.or(b.need_c),
            need_i: self.need_i.or(b.need_i),
            need_a: self.need_a.or(b.need_a),
        }
    }
}

#[utoipa::path(patch, path = "/api/v1/objects/{object_id}", tag = "inventory", request_body = ObjectPatch,
    params(("object_id" = i64, Path, description = "Object id")),
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn api_update_object(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<ObjectPatch>,
) -> ApiResult<Json<Object>> {
    let id = ObjectId(id);
    let current = state.store.object(&api.scope, id).await?;
    require_writable(&api.scope)?;
    let data = body.over(input_of(&current.data)).validate()?;
    state.store.update_object(&api.scope, id, &data).await?;
    Ok(Json(state.store.object(&api.scope, id).await?))
}

#[utoipa::path(delete, path = "/api/v1/objects/{object_id}", tag = "inventory",
    params(("object_id" = i64, Path, description = "Object id")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)), security(("token" = [])))]
pub async fn api_delete_object(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let id = ObjectId(id);
    state.store.object(&api.scope, id).await?;
    require_writable(&api.scope)?;
    state.store.delete_object(&api.scope, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An object's dependencies in both directions.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Links {
    /// What the object uses.
    pub uses: Vec<Link>,
    /// What uses the object.
    pub used_by: Vec<Link>,
}

#[utoipa::path(get, path = "/api/v1/objects/{object_id}/links", tag = "inventory",
    params(("object_id" = i64, Path, description = "Object id")),
    responses((status = 200, body = Links), (status = 404, body = Problem)), security(("token" = [])))]
pub async fn api_links(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Links>> {
    let (uses, used_by) = state.store.links_of(&api.scope, ObjectId(id)).await?;
    Ok(Json(Links { uses, used_by }))
}

/// A new dependency: the object uses `to`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct LinkBody {
    /// The id of the object that is used.
    pub to: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/objects/{object_id}/links", tag = "inventory", request_body = LinkBody,
    params(("object_id" = i64, Path, description = "Object id (the one that uses)")),
    responses((status = 201, body = Link), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn api_add_link(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<LinkBody>,
) -> ApiResult<Response> {
    let id = ObjectId(id);
    state.store.object(&api.scope, id).await?;
    require_writable(&api.scope)?;
    let to = body
        .to
        .ok_or_else(|| DomainError::field("to", "err.required"))?;
    let lid = state.store.add_link(&api.scope, id, ObjectId(to)).await?;
    let (uses, _) = state.store.links_of(&api.scope, id).await?;
    let link = uses
        .into_iter()
        .find(|l| l.id == lid)
        .ok_or(ApiError::NotFound)?;
    Ok((StatusCode::CREATED, Json(link)).into_response())
}

#[utoipa::path(delete, path = "/api/v1/objects/{object_id}/links/{link_id}", tag = "inventory",
    params(("object_id" = i64, Path, description = "Object id"), ("link_id" = i64, Path, description = "Link id")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)), security(("token" = [])))]
pub async fn api_remove_link(
    State(state): State<AppState>,
    api: ApiUser,
    Path((id, link)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    let id = ObjectId(id);
    state.store.object(&api.scope, id).await?;
    require_writable(&api.scope)?;
    unlink(&state.store, &api.scope, id, LinkId(link)).await?;
    Ok(StatusCode::NO_CONTENT)
}
