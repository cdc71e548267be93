//! The Grundschutz++ catalog pages: browse and search the shipped catalogs (German full text,
//! filters by practice, sec_level, effort level, tag and modal verb) and read one requirement with
//! its statement, guidance and the ISO 27001 / IT-Grundschutz 2023 equivalents, each with the
//! mapping's relationship as stated, and the correspondences of every imported mapping collection
//! that names it. The BSI attribution (CC BY-SA 4.0) is on every page.
//!
//! The shipped files are parsed once per process ([`library`]) and kept in memory: about 900
//! short requirements, searched by `stadtmauer_catalog::search` in well under a millisecond.

use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::features::{fail, render};
use crate::i18n::Tr;
use crate::view::Chrome;
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use stadtmauer_catalog::catalog::{Catalog, Requirement};
use stadtmauer_catalog::mapping::{Correspondence, MappingSet};
use stadtmauer_catalog::search::{Filter, SearchIndex};
use stadtmauer_catalog::{ModalVerb, SecLevel, Shipped, ATTRIBUTION};
use std::collections::{BTreeSet, HashSet};
use std::sync::OnceLock;

/// The shipped catalogs, built once per process.
pub struct Library {
    pub shipped: Shipped,
    /// The Kommunale Basis profile resolved against the Kernel: the Verbund's default target.
    pub basis: Catalog,
    pub basis_ids: HashSet<String>,
    /// The BSI's Grundschutz++ profile resolved (the strictest shipped target).
    pub gspp: Catalog,
    kernel_index: SearchIndex,
    methodik_index: SearchIndex,
    risiko_index: SearchIndex,
}

/// The catalogs a user can browse, by the key used in URLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Kernel,
    Methodik,
    Risiko,
}

impl Which {
    pub const ALL: [Which; 3] = [Which::Kernel, Which::Methodik, Which::Risiko];
    pub fn key(self) -> &'static str {
        match self {
            Which::Kernel => "kernel",
            Which::Methodik => "methodik",
            Which::Risiko => "risiko",
        }
    }
    pub fn parse(s: Option<&str>) -> Which {
        match s.map(str::trim) {
            Some("methodik") => Which::Methodik,
            Some("risiko") => Which::Risiko,
            _ => Which::Kernel,
        }
    }
}

impl Library {
    fn build() -> Result<Library, String> {
        let shipped = stadtmauer_catalog::shipped().map_err(|e| e.to_string())?;
        let basis = shipped
            .resolve_kommunale_basis()
            .map_err(|e| e.to_string())?
            .catalog;
        let basis_ids = basis.requirements.iter().map(|r| r.id.clone()).collect();
        let gspp = shipped.resolve_gspp().map_err(|e| e.to_string())?.catalog;
        Ok(Library {
            gspp,
            kernel_index: SearchIndex::build(&shipped.kernel),
            methodik_index: SearchIndex::build(&shipped.methodik),
            risiko_index: SearchIndex::build(&shipped.risiko),
            shipped,
            basis,
            basis_ids,
        })
    }
    pub fn catalog(&self, w: Which) -> &Catalog {
        match w {
            Which::Kernel => &self.shipped.kernel,
            Which::Methodik => &self.shipped.methodik,
            Which::Risiko => &self.shipped.risiko,
        }
    }
    pub fn index(&self, w: Which) -> &SearchIndex {
        match w {
            Which::Kernel => &self.kernel_index,
            Which::Methodik => &self.methodik_index,
            Which::Risiko => &self.risiko_index,
        }
    }
    /// Finds a requirement in any browsable catalog (Kernel first).
    /// The shipped catalogs as the target rule needs them.
    pub fn targets(&self) -> stadtmauer_catalog::target::ShippedTargets<'_> {
        stadtmauer_catalog::target::ShippedTargets {
            shipped: &self.shipped,
            basis: &self.basis,
            gspp: &self.gspp,
        }
    }

    pub fn find(&self, id: &str) -> Option<(Which, &Requirement)> {
        Which::ALL
            .iter()
            .find_map(|w| self.catalog(*w).get(id).map(|r| (*w, r)))
    }
}

static LIBRARY: OnceLock<Option<Library>> = OnceLock::new();

/// The shipped catalogs, parsed on first use. `None` only if the embedded files are broken
/// (a build error that the catalog crate's tests catch).
pub fn library() -> Option<&'static Library> {
    LIBRARY
        .get_or_init(|| match Library::build() {
            Ok(l) => Some(l),
            Err(e) => {
                tracing::error!(error = %e, "the shipped catalogs could not be read");
                None
            }
        })
        .as_ref()
}

pub(crate) fn unavailable(tr: Tr) -> Response {
    PageError::status(tr, StatusCode::SERVICE_UNAVAILABLE).into_response()
}

pub fn sec_level_label(tr: Tr, l: Option<SecLevel>) -> &'static str {
    match l {
        Some(l) => tr.s(l.label_key()),
        None => "–",
    }
}

fn nonempty(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

// ---------------------------------------------------------------------------------------------
// Browse and search
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize, Default, Clone)]
pub struct CatalogQuery {
    pub cat: Option<String>,
    pub q: Option<String>,
    pub practice: Option<String>,
    pub sec_level: Option<String>,
    pub effort: Option<String>,
    pub tag: Option<String>,
    pub modal: Option<String>,
    pub basis: Option<String>,
    pub page: Option<usize>,
}

pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct CatRow {
    pub id: String,
    pub title: String,
    pub practice: String,
    pub sec_level: &'static str,
    pub effort: String,
    pub modal: &'static str,
    pub in_basis: bool,
}

pub struct PageLink {
    pub label: String,
    pub href: Option<String>,
}

#[derive(Template)]
#[template(path = "security/catalog.html")]
pub struct CatalogPage {
    pub c: Chrome,
    pub basis_count: usize,
    pub cat_title: String,
    pub cat_version: String,
    pub catalogs: Vec<Opt>,
    pub q: String,
    pub practices: Vec<Opt>,
    pub sec_levels: Vec<Opt>,
    pub efforts: Vec<Opt>,
    pub tags: Vec<Opt>,
    pub modals: Vec<Opt>,
    pub basis_only: bool,
    pub count_text: String,
    pub rows: Vec<CatRow>,
    pub pages: Vec<PageLink>,
    pub attribution: &'static str,
}

const PAGE_SIZE: usize = 50;

fn opts(
    values: impl IntoIterator<Item = (String, String)>,
    current: Option<&str>,
    any_label: &str,
) -> Vec<Opt> {
    let mut out = vec![Opt {
        value: String::new(),
        label: any_label.to_string(),
        selected: current.is_none(),
    }];
    out.extend(values.into_iter().map(|(value, label)| Opt {
        selected: current == Some(value.as_str()),
        value,
        label,
    }));
    out
}

pub async fn catalog(tr: Tr, me: CurrentUser, Query(q): Query<CatalogQuery>) -> Response {
    let Some(lib) = library() else {
        return unavailable(tr);
    };
    let which = Which::parse(q.cat.as_deref());
    let cat = lib.catalog(which);
    let query = nonempty(&q.q).unwrap_or_default();
    let practice = nonempty(&q.practice).filter(|p| cat.practices.iter().any(|x| x.id == *p));
    let sec_level = nonempty(&q.sec_level).and_then(|s| SecLevel::parse(&s));
    let effort = nonempty(&q.effort).and_then(|e| e.parse::<u8>().ok().filter(|e| *e <= 5));
    let tag = nonempty(&q.tag);
    let modal = nonempty(&q.modal).and_then(|m| ModalVerb::parse(&m));
    let basis_only = which == Which::Kernel && nonempty(&q.basis).is_some();
    let filter = Filter {
        practice: practice.clone(),
        sec_level,
        effort,
        tag: tag.clone(),
        modal_verb: modal,
        ..Filter::default()
    };
    let hits: Vec<&Requirement> = lib
        .index(which)
        .search(&query, &filter, usize::MAX)
        .into_iter()
        .filter(|h| !basis_only || lib.basis_ids.contains(&h.id))
        .filter_map(|h| cat.get(&h.id))
        .collect();
    let total = hits.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = q.page.unwrap_or(1).clamp(1, pages);
    let practice_title = |id: &str| {
        cat.practices
            .iter()
            .find(|p| p.id == id)
            .map(|p| format!("{} {}", p.id, p.title))
            .unwrap_or_else(|| id.to_string())
    };
    let rows = hits
        .iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|r| CatRow {
            id: r.id.clone(),
            title: r.title.clone(),
            practice: practice_title(&r.practice),
            sec_level: sec_level_label(tr, r.sec_level),
            effort: r
                .effort_level
                .map(|e| e.to_string())
                .unwrap_or_else(|| "–".into()),
            modal: r.modal_verb.map(ModalVerb::as_str).unwrap_or("–"),
            in_basis: which == Which::Kernel && lib.basis_ids.contains(&r.id),
        })
        .collect();
    let page_links = if pages > 1 {
        (1..=pages)
            .map(|p| {
                let mut params: Vec<(&str, String)> = vec![("cat", which.key().to_string())];
                let mut add = |k: &'static str, v: &Option<String>| {
                    if let Some(v) = nonempty(v) {
                        params.push((k, v));
                    }
                };
                add("q", &q.q);
                add("practice", &q.practice);
                add("sec_level", &q.sec_level);
                add("effort", &q.effort);
                add("tag", &q.tag);
                add("modal", &q.modal);
                if basis_only {
                    params.push(("basis", "1".into()));
                }
                params.push(("page", p.to_string()));
                PageLink {
                    label: p.to_string(),
                    href: (p != page).then(|| {
                        format!(
                            "/catalog?{}",
                            serde_urlencoded::to_string(&params).unwrap_or_default()
                        )
                    }),
                }
            })
            .collect()
    } else {
        vec![]
    };
    let tag_values: BTreeSet<&str> = cat
        .requirements
        .iter()
        .flat_map(|r| r.tags.iter().map(String::as_str))
        .collect();
    let any = tr.s("sec.cat.any");
    let page_view = CatalogPage {
        c: Chrome::new(tr, &me, tr.s("sec.cat.title"), "catalog"),
        basis_count: lib.basis.len(),
        cat_title: cat.title.clone(),
        cat_version: cat.version.clone(),
        catalogs: Which::ALL
            .iter()
            .map(|w| Opt {
                value: w.key().to_string(),
                label: lib.catalog(*w).title.clone(),
                selected: *w == which,
            })
            .collect(),
        q: query,
        practices: opts(
            cat.practices
                .iter()
                .map(|p| (p.id.clone(), format!("{} – {}", p.id, p.title))),
            practice.as_deref(),
            any,
        ),
        sec_levels: opts(
            [SecLevel::NormalSdt, SecLevel::Erhoeht]
                .iter()
                .map(|l| (l.as_str().to_string(), tr.s(l.label_key()).to_string())),
            sec_level.map(SecLevel::as_str),
            any,
        ),
        efforts: opts(
            (0..=5u8).map(|e| (e.to_string(), e.to_string())),
            effort.map(|e| e.to_string()).as_deref(),
            any,
        ),
        tags: opts(
            tag_values.iter().map(|t| (t.to_string(), t.to_string())),
            tag.as_deref(),
            any,
        ),
        modals: opts(
            [ModalVerb::Muss, ModalVerb::Sollte, ModalVerb::Kann]
                .iter()
                .map(|m| (m.as_str().to_string(), m.as_str().to_string())),
            modal.map(ModalVerb::as_str),
            any,
        ),
        basis_only,
        count_text: tr.f(
            "sec.cat.count",
            &[
                ("n", &total.to_string()),
                (
                    "first",
                    &(if total == 0 {
                        0
                    } else {
                        (page - 1) * PAGE_SIZE + 1
                    })
                    .to_string(),
                ),
                ("last", &(page * PAGE_SIZE).min(total).to_string()),
            ],
        ),
        rows,
        pages: page_links,
        attribution: ATTRIBUTION,
    };
    render(page_view)
}

// ---------------------------------------------------------------------------------------------
// One requirement
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
pub struct ReqQuery {
    pub id: Option<String>,
}

pub struct MapRow {
    /// `(id, title)` of the controls on the other side.
    pub others: Vec<(String, String)>,
    pub relationship: &'static str,
    pub code: String,
    /// The other side's catalog as the mapping names it (href).
    pub other_catalog: String,
}

/// The correspondences of one imported mapping collection that names the requirement.
pub struct ImportedMap {
    /// "title version (importierte Zuordnung)".
    pub heading: String,
    pub rows: Vec<MapRow>,
}

pub struct Fact {
    pub label: &'static str,
    pub value: String,
}

#[derive(Template)]
#[template(path = "security/requirement.html")]
pub struct RequirementPage {
    pub c: Chrome,
    pub cat_key: &'static str,
    pub cat_title: String,
    pub id: String,
    pub practice: String,
    pub facts: Vec<Fact>,
    pub statement: Vec<String>,
    pub guidance: Vec<String>,
    pub related: Vec<(String, String)>,
    pub iso: Vec<MapRow>,
    pub itgs: Vec<MapRow>,
    pub imported: Vec<ImportedMap>,
    pub attribution: &'static str,
}

fn paragraphs(s: &str) -> Vec<String> {
    s.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

fn map_row(tr: Tr, c: Correspondence, title_of: &impl Fn(&str) -> String) -> MapRow {
    MapRow {
        others: c.other.iter().map(|o| (o.clone(), title_of(o))).collect(),
        relationship: tr.s(c.relationship.label_key()),
        code: c.relationship.as_str().to_string(),
        other_catalog: c.other_catalog,
    }
}

fn map_rows(tr: Tr, set: &MappingSet, id: &str, title_of: impl Fn(&str) -> String) -> Vec<MapRow> {
    set.from_target(id)
        .into_iter()
        .map(|c| map_row(tr, c, &title_of))
        .collect()
}

/// What an imported mapping collection says about requirement `id`, stated from the
/// requirement's side: as a target the relationship is inverted (`from_target`), as a source it
/// stands as written (`from_source`).
fn imported_rows(tr: Tr, lib: &Library, set: &MappingSet, id: &str) -> Vec<MapRow> {
    let title_of = |o: &str| {
        lib.find(o)
            .map(|(_, r)| r.title.clone())
            .unwrap_or_default()
    };
    set.from_target(id)
        .into_iter()
        .chain(set.from_source(id))
        .map(|c| map_row(tr, c, &title_of))
        .collect()
}

pub async fn requirement(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Query(q): Query<ReqQuery>,
) -> Response {
    let Some(lib) = library() else {
        return unavailable(tr);
    };
    let Some((which, r)) = q.id.as_deref().map(str::trim).and_then(|id| lib.find(id)) else {
        return PageError::status(tr, StatusCode::NOT_FOUND).into_response();
    };
    let cat = lib.catalog(which);
    let practice = cat
        .practices
        .iter()
        .find(|p| p.id == r.practice)
        .map(|p| format!("{} – {}", p.id, p.title))
        .unwrap_or_else(|| r.practice.clone());
    let topic = r.topic.as_deref().and_then(|t| {
        cat.practices
            .iter()
            .flat_map(|p| p.topics.iter())
            .find(|(id, _)| id == t)
            .map(|(id, title)| format!("{id} – {title}"))
    });
    let mut facts = vec![Fact {
        label: tr.s("sec.cat.practice"),
        value: practice.clone(),
    }];
    if let Some(t) = topic {
        facts.push(Fact {
            label: tr.s("sec.cat.topic"),
            value: t,
        });
    }
    facts.push(Fact {
        label: tr.s("sec.cat.sec_level"),
        value: sec_level_label(tr, r.sec_level).to_string(),
    });
    facts.push(Fact {
        label: tr.s("sec.cat.effort"),
        value: r
            .effort_level
            .map(|e| e.to_string())
            .unwrap_or_else(|| "–".into()),
    });
    facts.push(Fact {
        label: tr.s("sec.cat.modal"),
        value: r
            .modal_verb
            .map(|m| m.as_str().to_string())
            .unwrap_or_else(|| "–".into()),
    });
    if !r.tags.is_empty() {
        facts.push(Fact {
            label: tr.s("sec.cat.tags"),
            value: r.tags.join(", "),
        });
    }
    if !r.target_categories.is_empty() {
        facts.push(Fact {
            label: tr.s("sec.cat.targets"),
            value: r.target_categories.join(", "),
        });
    }
    if !r.documentation.is_empty() {
        facts.push(Fact {
            label: tr.s("sec.cat.documentation"),
            value: r.documentation.join(", "),
        });
    }
    if which == Which::Kernel {
        facts.push(Fact {
            label: tr.s("sec.cat.in_basis"),
            value: tr
                .s(if lib.basis_ids.contains(&r.id) {
                    "sec.yes"
                } else {
                    "sec.no"
                })
                .to_string(),
        });
    }
    let iso_cat = &lib.shipped.iso27001;
    let de = tr.code() == "de";
    let iso = map_rows(tr, &lib.shipped.iso_mapping, &r.id, |o| {
        iso_cat
            .get(o)
            .map(|c| {
                c.other_props
                    .iter()
                    .find(|(n, _)| de && n == "de-title")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| c.title.clone())
            })
            .unwrap_or_default()
    });
    let itgs = map_rows(tr, &lib.shipped.itgs_mapping, &r.id, |_| String::new());
    let imported = match state.store.imported_mappings(&me.scope).await {
        Ok(sets) => sets
            .iter()
            .filter_map(|(meta, set)| {
                let rows = imported_rows(tr, lib, set, &r.id);
                (!rows.is_empty()).then(|| ImportedMap {
                    heading: tr.f(
                        "sec.cat.imported_mapping",
                        &[("name", &format!("{} {}", meta.title, meta.version))],
                    ),
                    rows,
                })
            })
            .collect(),
        Err(e) => return fail(tr, e),
    };
    let related = r
        .relations
        .iter()
        .filter_map(|rel| {
            lib.find(&rel.target)
                .map(|(_, o)| (o.id.clone(), o.title.clone()))
        })
        .collect();
    let page = RequirementPage {
        c: Chrome::new(tr, &me, format!("{} {}", r.id, r.title), "catalog"),
        cat_key: which.key(),
        cat_title: cat.title.clone(),
        id: r.id.clone(),
        practice,
        facts,
        statement: paragraphs(&r.statement_text()),
        guidance: r.guidance.as_deref().map(paragraphs).unwrap_or_default(),
        related,
        iso,
        itgs,
        imported,
        attribution: ATTRIBUTION,
    };
    render(page)
}
