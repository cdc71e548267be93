//! Installed software of a system or application: a section of the object page.

use super::*;

pub struct SoftwareRow {
    pub id: i64,
    pub product: String,
    pub version: String,
}

/// The "Installierte Software" section of a system's or application's page.
pub struct SoftwareSection {
    pub object_id: ObjectId,
    pub rows: Vec<SoftwareRow>,
    pub can_write: bool,
}

/// The section for an object page, or `None` for kinds without installed software.
pub async fn software_section(
    state: &AppState,
    me: &CurrentUser,
    o: &Object,
) -> Option<SoftwareSection> {
    if !matches!(o.data.kind, ObjectKind::System | ObjectKind::Application) {
        return None;
    }
    let rows = state.store.software(&me.scope, o.id).await.ok()?;
    Some(SoftwareSection {
        object_id: o.id,
        rows: rows
            .into_iter()
            .map(|s| SoftwareRow {
                id: s.id,
                product: s.product,
                version: s.version.unwrap_or_default(),
            })
            .collect(),
        can_write: !o.data.shared && me.scope.may(o.organisation_id, Access::WriteTechnical),
    })
}

#[derive(Deserialize, Default)]
pub struct SoftwareForm {
    pub product: Option<String>,
    pub version: Option<String>,
    pub id: Option<String>,
}

pub async fn add_software(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<SoftwareForm>,
) -> Result<Response, PageError> {
    let product = f.product.unwrap_or_default();
    state
        .store
        .add_software(&me.scope, ObjectId(id), &product, f.version.as_deref())
        .await?;
    Ok(done(&format!("/inventory/{id}"), "msg.saved"))
}

pub async fn remove_software(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<SoftwareForm>,
) -> Result<Response, PageError> {
    let obj = ObjectId(id);
    // Unknown or foreign object first: 404 whatever the form says; then the right to change it
    // (installed software is a technical record): 403 before the form is read.
    let o = state.store.object(&me.scope, obj).await?;
    me.scope
        .require(o.organisation_id, Access::WriteTechnical)?;
    let Some(sid) = f.id.as_deref().and_then(|s| s.trim().parse().ok()) else {
        return Err(PageError::of(StatusCode::NOT_FOUND));
    };
    state.store.remove_software(&me.scope, obj, sid).await?;
    Ok(done(&format!("/inventory/{id}"), "msg.deleted"))
}
