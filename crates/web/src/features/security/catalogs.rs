//! Imported OSCAL catalogs, profiles and mapping collections: the list beside the shipped
//! catalogs, one imported catalog's requirements or one mapping collection's maps, and the upload
//! (office officers and administrators). A later version of a known catalog is stored beside the
//! old one; answers whose requirement text changed are flagged "review" (shown on the assessment
//! pages). A mapping collection is never a target; its correspondences appear on the requirement
//! pages of the shipped catalogs.

use super::transfer::UploadError;
use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::features::{done, fail, render, render_status, FlashQuery};
use crate::i18n::Tr;
use crate::view::Chrome;
use crate::AppState;
use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use stadtmauer_catalog::mapping::MappingSet;
use stadtmauer_core::{DomainError, Owner};
use stadtmauer_store::security::{may_import_catalogs, CatalogImportError, ImportedCatalog};

/// Largest catalog file accepted by the upload (the OSCAL reader refuses more than 32 MB).
pub const CATALOG_BODY_MAX: usize = 40 * 1024 * 1024;
/// The file size named when a body exceeds [`CATALOG_BODY_MAX`]: the OSCAL reader's limit.
const CATALOG_FILE_MAX: usize = stadtmauer_catalog::oscal::MAX_BYTES;

pub struct CatalogRow {
    pub id: i64,
    pub kind: &'static str,
    /// A mapping collection: `requirements` counts its maps.
    pub is_mapping: bool,
    pub title: String,
    pub version: String,
    pub file_name: String,
    pub requirements: i64,
    pub previous: String,
    pub flagged: i64,
    /// Who it belongs to: the installation or a Verbund (by name).
    pub owner: String,
}

/// An owner choice of the upload form.
pub struct OwnerOpt {
    pub value: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "security/catalogs.html")]
pub struct CatalogsPage {
    pub c: Chrome,
    pub rows: Vec<CatalogRow>,
    pub can_import: bool,
    /// The owners the user may import for (a choice is shown when there are several).
    pub owner_opts: Vec<OwnerOpt>,
    pub error: Option<UploadError>,
}

fn owner_value(o: Owner) -> String {
    match o {
        Owner::Installation => "installation".into(),
        Owner::Verbund(v) => format!("verbund:{}", v.0),
    }
}

async fn owner_names(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
) -> Result<impl Fn(Owner) -> String, DomainError> {
    let verbuende = state.store.verbuende(&me.scope).await?;
    let installation = tr.s("sec.ic.owner_installation").to_string();
    Ok(move |o: Owner| match o {
        Owner::Installation => installation.clone(),
        Owner::Verbund(v) => verbuende
            .iter()
            .find(|x| x.id == v)
            .map(|x| x.name.clone())
            .unwrap_or_default(),
    })
}

fn row(tr: Tr, c: ImportedCatalog, owner: String) -> CatalogRow {
    CatalogRow {
        owner,
        id: c.id,
        kind: tr.s(if c.is_mapping() {
            "sec.ic.kind_mapping"
        } else if c.kind == "profile" {
            "sec.ic.kind_profile"
        } else {
            "sec.ic.kind_catalog"
        }),
        is_mapping: c.is_mapping(),
        title: c.title,
        version: c.version,
        file_name: c.file_name,
        requirements: c.requirements,
        previous: c.previous.unwrap_or_else(|| "–".into()),
        flagged: c.flagged,
    }
}

async fn page(
    state: &AppState,
    tr: Tr,
    me: &CurrentUser,
    msg: Option<&str>,
    error: Option<UploadError>,
) -> Response {
    let list = match state.store.imported_catalogs(&me.scope).await {
        Ok(l) => l,
        Err(e) => return fail(tr, e),
    };
    let name = match owner_names(state, tr, me).await {
        Ok(n) => n,
        Err(e) => return fail(tr, e),
    };
    let status = error.as_ref().map(|e| e.status);
    let p = CatalogsPage {
        c: Chrome::new(tr, me, tr.s("sec.ic.title_all"), "catalog").with_flash(msg),
        rows: list
            .into_iter()
            .map(|c| {
                let owner = name(c.owner());
                row(tr, c, owner)
            })
            .collect(),
        can_import: may_import_catalogs(&me.scope),
        owner_opts: me
            .scope
            .shared_owners_managed()
            .into_iter()
            .map(|o| OwnerOpt {
                value: owner_value(o),
                label: name(o),
            })
            .collect(),
        error,
    };
    match status {
        Some(s) => render_status(s, p),
        None => render(p),
    }
}

/// `GET /catalog/imported`.
pub async fn list(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Query(q): Query<FlashQuery>,
) -> Response {
    page(&state, tr, &me, q.msg.as_deref(), None).await
}

pub struct ReqRow {
    pub id: String,
    pub title: String,
    pub practice: String,
    pub statement: String,
}

#[derive(Template)]
#[template(path = "security/catalog_imported.html")]
pub struct ImportedPage {
    pub c: Chrome,
    pub meta: CatalogRow,
    pub rows: Vec<ReqRow>,
    pub id: i64,
    pub q: String,
    pub practices: Vec<crate::features::security::town::Opt>,
    pub found: String,
    /// For a mapping collection: its maps by (source catalog, target catalog), instead of
    /// requirements and search.
    pub maps: Vec<MapGroup>,
}

/// A control named by a map; `href` when it is a requirement of the shipped catalogs.
pub struct Ctl {
    pub id: String,
    pub href: Option<String>,
}

/// One map of a mapping collection: "sources relationship targets".
pub struct MapViewRow {
    pub sources: Vec<Ctl>,
    pub relationship: &'static str,
    pub code: String,
    pub targets: Vec<Ctl>,
}

/// The maps between one source catalog and one target catalog (as the file names them).
pub struct MapGroup {
    pub heading: String,
    pub rows: Vec<MapViewRow>,
}

fn ctl(id: &str) -> Ctl {
    let known = crate::features::security::catalog::library().is_some_and(|l| l.find(id).is_some());
    Ctl {
        id: id.to_string(),
        // Shipped ids are plain (letters, digits, dots, dashes): no URL encoding needed.
        href: known.then(|| format!("/catalog/requirement?id={id}")),
    }
}

fn map_groups(tr: Tr, set: &MappingSet) -> Vec<MapGroup> {
    let mut groups: Vec<(String, String, Vec<MapViewRow>)> = Vec::new();
    for e in &set.entries {
        let row = MapViewRow {
            sources: e.sources.iter().map(|s| ctl(s)).collect(),
            relationship: tr.s(e.relationship.label_key()),
            code: e.relationship.as_str().to_string(),
            targets: e.targets.iter().map(|t| ctl(t)).collect(),
        };
        match groups
            .iter_mut()
            .find(|(s, t, _)| *s == e.source_catalog && *t == e.target_catalog)
        {
            Some((_, _, rows)) => rows.push(row),
            None => groups.push((
                e.source_catalog.clone(),
                e.target_catalog.clone(),
                vec![row],
            )),
        }
    }
    groups
        .into_iter()
        .map(|(source, target, rows)| MapGroup {
            heading: tr.f(
                "sec.ic.map_group",
                &[("source", &source), ("target", &target)],
            ),
            rows,
        })
        .collect()
}

/// `GET /catalog/imported/view?id=N` for a mapping collection: its maps.
async fn show_mapping(state: &AppState, tr: Tr, me: &CurrentUser, id: i64) -> Response {
    let (meta, set) = match state.store.imported_mapping(&me.scope, id).await {
        Ok(x) => x,
        Err(e) => return fail(tr, e),
    };
    render(ImportedPage {
        c: Chrome::new(tr, me, meta.title.clone(), "catalog"),
        meta: {
            // The detail page names no owner: only files the user sees reach it.
            row(tr, meta, String::new())
        },
        rows: Vec::new(),
        id,
        q: String::new(),
        practices: Vec::new(),
        found: String::new(),
        maps: map_groups(tr, &set),
    })
}

#[derive(serde::Deserialize)]
pub struct ShowQuery {
    pub id: Option<String>,
    /// Full-text search (German folding and stemming, as in the shipped catalogs).
    pub q: Option<String>,
    pub practice: Option<String>,
}

/// `GET /catalog/imported/view?id=N`: the requirements of one imported catalog, or the maps of
/// one imported mapping collection (catalogs are the installation's, not a town's).
pub async fn show(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Query(q): Query<ShowQuery>,
) -> Response {
    let Some(id) = q.id.as_deref().and_then(|i| i.trim().parse::<i64>().ok()) else {
        return fail(tr, DomainError::NotFound);
    };
    let (meta, cat) = match state.store.imported_catalog(&me.scope, id).await {
        Ok(x) => x,
        // Not a catalog or profile: a mapping collection, or nothing.
        Err(DomainError::NotFound) => return show_mapping(&state, tr, &me, id).await,
        Err(e) => return fail(tr, e),
    };
    let q_text = q.q.as_deref().map(str::trim).unwrap_or("").to_string();
    let practice = q
        .practice
        .as_deref()
        .map(str::trim)
        .filter(|p| cat.practices.iter().any(|x| x.id == *p))
        .map(str::to_string);
    let selected: Vec<&stadtmauer_catalog::Requirement> = if q_text.is_empty() {
        cat.requirements
            .iter()
            .filter(|r| practice.as_deref().is_none_or(|p| r.practice == p))
            .collect()
    } else {
        let index = stadtmauer_catalog::search::SearchIndex::build(&cat);
        let filter = stadtmauer_catalog::search::Filter {
            practice: practice.clone(),
            ..Default::default()
        };
        index
            .search(&q_text, &filter, cat.requirements.len())
            .iter()
            .filter_map(|h| cat.get(&h.id))
            .collect()
    };
    let mut practices = vec![crate::features::security::town::Opt {
        value: String::new(),
        label: tr.s("sec.cat.any").to_string(),
        selected: practice.is_none(),
    }];
    practices.extend(
        cat.practices
            .iter()
            .map(|p| crate::features::security::town::Opt {
                value: p.id.clone(),
                label: format!("{} – {}", p.id, p.title),
                selected: practice.as_deref() == Some(p.id.as_str()),
            }),
    );
    let found = tr.f(
        "sec.ic.found",
        &[
            ("n", &selected.len().to_string()),
            ("total", &cat.requirements.len().to_string()),
        ],
    );
    let rows = selected
        .into_iter()
        .map(|r| ReqRow {
            id: r.id.clone(),
            title: r.title.clone(),
            practice: r.practice.clone(),
            statement: r.statement.clone(),
        })
        .collect();
    render(ImportedPage {
        c: Chrome::new(tr, &me, meta.title.clone(), "catalog"),
        meta: {
            // The detail page names no owner: only files the user sees reach it.
            row(tr, meta, String::new())
        },
        rows,
        id,
        q: q_text,
        practices,
        found,
        maps: Vec::new(),
    })
}

/// `POST /catalog/imported` (multipart, `?csrf=`): imports a catalog, profile or mapping
/// collection, all or nothing.
pub async fn upload(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    mp: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    if !may_import_catalogs(&me.scope) {
        return fail(tr, DomainError::Forbidden);
    }
    let Ok(mut mp) = mp else {
        return PageError::status(tr, StatusCode::BAD_REQUEST).into_response();
    };
    let (owner, file) = match owner_and_file(&mut mp).await {
        Ok(f) => f,
        Err(StatusCode::PAYLOAD_TOO_LARGE) => {
            let e = UploadError::too_large("catalog", tr, CATALOG_FILE_MAX);
            return page(&state, tr, &me, None, Some(e)).await;
        }
        Err(s) => return PageError::status(tr, s).into_response(),
    };
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        let e = UploadError::new("catalog", tr.s("sec.x.err.empty").to_string());
        return page(&state, tr, &me, None, Some(e)).await;
    };
    let name = if name.trim().is_empty() {
        "catalog.json".to_string()
    } else {
        name
    };
    // The owner: the one the user manages, or the one chosen; anything else is refused.
    let managed = me.scope.shared_owners_managed();
    let owner = match owner.as_deref() {
        None | Some("") if managed.len() == 1 => managed[0],
        None | Some("") => {
            let e = UploadError::new("catalog", tr.s("sec.ic.err.owner").to_string());
            return page(&state, tr, &me, None, Some(e)).await;
        }
        Some(v) => match managed.iter().find(|o| owner_value(**o) == v) {
            Some(o) => *o,
            None => return fail(tr, DomainError::Forbidden),
        },
    };
    match state
        .store
        .import_catalog(&me.scope, owner, &name, &bytes)
        .await
    {
        Ok(_) => done("/catalog/imported", "msg.created"),
        Err(CatalogImportError::Refused(m)) => {
            let e = UploadError::technical("catalog", m);
            page(&state, tr, &me, None, Some(e)).await
        }
        Err(CatalogImportError::Domain(e)) => fail(tr, e),
    }
}

/// The upload's `owner` field (if any) and its file.
async fn owner_and_file(
    mp: &mut Multipart,
) -> Result<(Option<String>, Option<(String, Vec<u8>)>), StatusCode> {
    let mut owner = None;
    let mut file = None;
    while let Some(field) = mp.next_field().await.map_err(|e| e.status())? {
        match field.name() {
            Some("file") => {
                let name = field.file_name().unwrap_or("").to_string();
                let bytes = field.bytes().await.map_err(|e| e.status())?;
                file = Some((name, bytes.to_vec()));
            }
            Some("owner") => {
                let v = field.text().await.map_err(|e| e.status())?;
                owner = Some(v.chars().take(40).collect());
            }
            _ => {}
        }
    }
    Ok((owner, file))
}
