//! Reading OSCAL JSON documents (catalog, profile, mapping collection, assessment results) into
//! serde models, with the guards hostile input needs: a size limit, a nesting-depth limit checked
//! before serde recurses, the `oscal-version` check and unique ids. Every error names the JSON path.
//!
//! The models hold only what Stadtmauer reads; unknown fields are ignored, because OSCAL documents
//! carry much more (roles, parties, links) than a catalog browser needs.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Largest document accepted. The Kernel catalog is 3.8 MB; 32 MiB leaves room for bigger
/// catalogs while refusing a 100 MB upload before any parsing.
pub const MAX_BYTES: usize = 32 * 1024 * 1024;
/// Deepest JSON nesting accepted. The Kernel catalog nests 14 levels; serde would otherwise
/// recurse as deep as the input goes.
pub const MAX_DEPTH: usize = 64;

/// Why an OSCAL document was refused. `path` is a JSON path such as
/// `catalog.groups[2].controls[0].id`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OscalError {
    #[error("document is {size} bytes, the limit is {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("JSON nests deeper than {limit} levels at byte offset {offset}")]
    TooDeep { limit: usize, offset: usize },
    #[error("invalid JSON at {path} (line {line}, column {column}): {message}")]
    Json {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("not an OSCAL document: expected exactly one of catalog, profile, mapping-collection, assessment-results at the top level, found {found:?}")]
    UnknownDocument { found: Vec<String> },
    #[error("expected an OSCAL {expected} but the document is a {found}")]
    WrongDocument {
        expected: &'static str,
        found: &'static str,
    },
    #[error("{path}: oscal-version {found:?} is not supported (expected 1.1.x or 1.2.x)")]
    Version { path: String, found: String },
    #[error("{path}: missing or empty identifier")]
    MissingId { path: String },
    #[error("{path}: identifier {id:?} is not valid (no whitespace, at most 200 characters)")]
    InvalidId { path: String, id: String },
    #[error("{path}: duplicate identifier {id:?}, first used at {first}")]
    DuplicateId {
        path: String,
        id: String,
        first: String,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

// ---------------------------------------------------------------------------------------------
// Models shared by every document type.

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Metadata {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    #[serde(default)]
    pub last_modified: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub oscal_version: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Prop>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parties: Vec<Party>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Party {
    pub uuid: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prop {
    pub name: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ns: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub href: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct BackMatter {
    #[serde(default)]
    pub resources: Vec<Resource>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Resource {
    pub uuid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Prop>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rlinks: Vec<Rlink>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Rlink {
    pub href: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hashes: Vec<Hash>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hash {
    pub algorithm: String,
    pub value: String,
}

// ---------------------------------------------------------------------------------------------
// Catalog.

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct CatalogDoc {
    pub uuid: String,
    pub metadata: Metadata,
    #[serde(default)]
    pub params: Vec<Param>,
    #[serde(default)]
    pub controls: Vec<Control>,
    #[serde(default)]
    pub groups: Vec<Group>,
    #[serde(default)]
    pub back_matter: Option<BackMatter>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Group {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub class: Option<String>,
    pub title: String,
    #[serde(default)]
    pub params: Vec<Param>,
    #[serde(default)]
    pub props: Vec<Prop>,
    #[serde(default)]
    pub parts: Vec<Part>,
    #[serde(default)]
    pub groups: Vec<Group>,
    #[serde(default)]
    pub controls: Vec<Control>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Control {
    pub id: String,
    #[serde(default)]
    pub class: Option<String>,
    pub title: String,
    #[serde(default)]
    pub params: Vec<Param>,
    #[serde(default)]
    pub props: Vec<Prop>,
    #[serde(default)]
    pub links: Vec<Link>,
    #[serde(default)]
    pub parts: Vec<Part>,
    #[serde(default)]
    pub controls: Vec<Control>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Part {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub props: Vec<Prop>,
    #[serde(default)]
    pub prose: Option<String>,
    #[serde(default)]
    pub parts: Vec<Part>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Param {
    pub id: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub values: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Profile.

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ProfileDoc {
    pub uuid: String,
    pub metadata: Metadata,
    pub imports: Vec<Import>,
    #[serde(default)]
    pub modify: Option<Modify>,
    #[serde(default)]
    pub back_matter: Option<BackMatter>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Import {
    pub href: String,
    #[serde(default)]
    pub include_all: Option<serde_json::Value>,
    #[serde(default)]
    pub include_controls: Vec<SelectControl>,
    #[serde(default)]
    pub exclude_controls: Vec<SelectControl>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct SelectControl {
    #[serde(default)]
    pub with_child_controls: Option<String>,
    #[serde(default)]
    pub with_ids: Vec<String>,
    #[serde(default)]
    pub matching: Vec<Matching>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Matching {
    pub pattern: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Modify {
    #[serde(default)]
    pub set_parameters: Vec<SetParameter>,
    #[serde(default)]
    pub alters: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct SetParameter {
    pub param_id: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub values: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Mapping collection (OSCAL 1.2).

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct MappingCollectionDoc {
    pub uuid: String,
    pub metadata: Metadata,
    pub mappings: Vec<MappingDoc>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct MappingDoc {
    pub uuid: String,
    pub source_resource: ResourceRef,
    pub target_resource: ResourceRef,
    #[serde(default)]
    pub maps: Vec<MapDoc>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ResourceRef {
    #[serde(rename = "type", default)]
    pub kind: String,
    pub href: String,
    #[serde(default)]
    pub props: Vec<Prop>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct MapDoc {
    pub uuid: String,
    pub relationship: String,
    pub sources: Vec<MapItem>,
    pub targets: Vec<MapItem>,
    #[serde(default)]
    pub remarks: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct MapItem {
    #[serde(rename = "type", default)]
    pub kind: String,
    pub id_ref: String,
}

// ---------------------------------------------------------------------------------------------
// Parsing.

/// Any OSCAL document Stadtmauer reads.
#[derive(Debug, Clone, PartialEq)]
pub enum Document {
    Catalog(CatalogDoc),
    Profile(ProfileDoc),
    MappingCollection(MappingCollectionDoc),
    AssessmentResults(crate::results::ArDoc),
}

impl Document {
    pub fn kind(&self) -> &'static str {
        match self {
            Document::Catalog(_) => "catalog",
            Document::Profile(_) => "profile",
            Document::MappingCollection(_) => "mapping-collection",
            Document::AssessmentResults(_) => "assessment-results",
        }
    }
}

/// The top level of an OSCAL JSON file: one model key, maybe a `$schema`.
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Root {
    #[serde(default)]
    catalog: Option<CatalogDoc>,
    #[serde(default)]
    profile: Option<ProfileDoc>,
    #[serde(default)]
    mapping_collection: Option<MappingCollectionDoc>,
    #[serde(default)]
    assessment_results: Option<crate::results::ArDoc>,
}

/// Parses and checks any OSCAL JSON document. Nothing is built unless every check passes.
pub fn parse(bytes: &[u8]) -> Result<Document, OscalError> {
    check_limits(bytes)?;
    let root: Root = from_slice(bytes)?;
    let mut found = Vec::new();
    if root.catalog.is_some() {
        found.push("catalog".to_string());
    }
    if root.profile.is_some() {
        found.push("profile".to_string());
    }
    if root.mapping_collection.is_some() {
        found.push("mapping-collection".to_string());
    }
    if root.assessment_results.is_some() {
        found.push("assessment-results".to_string());
    }
    if found.len() != 1 {
        return Err(OscalError::UnknownDocument { found });
    }
    let doc = if let Some(c) = root.catalog {
        check_version("catalog", &c.metadata)?;
        check_catalog_ids(&c)?;
        Document::Catalog(c)
    } else if let Some(p) = root.profile {
        check_version("profile", &p.metadata)?;
        check_profile(&p)?;
        Document::Profile(p)
    } else if let Some(m) = root.mapping_collection {
        check_version("mapping-collection", &m.metadata)?;
        check_mapping(&m)?;
        Document::MappingCollection(m)
    } else if let Some(a) = root.assessment_results {
        check_version("assessment-results", &a.metadata)?;
        Document::AssessmentResults(a)
    } else {
        return Err(OscalError::UnknownDocument { found });
    };
    Ok(doc)
}

/// Deserialises with the JSON path of the first error.
pub(crate) fn from_slice<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, OscalError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        OscalError::Json {
            path,
            line: inner.line(),
            column: inner.column(),
            message: without_position(inner.to_string()),
        }
    })?;
    de.end().map_err(|e| OscalError::Json {
        path: ".".to_string(),
        line: e.line(),
        column: e.column(),
        message: without_position(e.to_string()),
    })?;
    Ok(value)
}

/// serde_json appends " at line L column C", which the error already carries as fields.
fn without_position(mut m: String) -> String {
    if let Some(i) = m.rfind(" at line ") {
        m.truncate(i);
    }
    m
}

/// Refuses oversized input and counts nesting outside strings before serde sees the bytes.
pub fn check_limits(bytes: &[u8]) -> Result<(), OscalError> {
    if bytes.len() > MAX_BYTES {
        return Err(OscalError::TooLarge {
            size: bytes.len(),
            limit: MAX_BYTES,
        });
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (offset, &b) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(OscalError::TooDeep {
                        limit: MAX_DEPTH,
                        offset,
                    });
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// OSCAL 1.1.x and 1.2.x are accepted: 1.2 only added models (the mapping collection) and stays
/// compatible with what 1.1 documents contain. 1.0 and 2.x are refused.
fn check_version(root: &str, m: &Metadata) -> Result<(), OscalError> {
    let v = m.oscal_version.trim();
    let mut parts = v.split('.');
    let ok = parts.next() == Some("1")
        && matches!(parts.next(), Some("1") | Some("2"))
        && parts
            .next()
            .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        && parts.next().is_none();
    if ok {
        Ok(())
    } else {
        Err(OscalError::Version {
            path: format!("{root}.metadata.oscal-version"),
            found: m.oscal_version.clone(),
        })
    }
}

fn check_id(path: &str, id: &str) -> Result<(), OscalError> {
    if id.trim().is_empty() {
        return Err(OscalError::MissingId {
            path: path.to_string(),
        });
    }
    if id.chars().count() > 200 || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(OscalError::InvalidId {
            path: path.to_string(),
            id: id.to_string(),
        });
    }
    Ok(())
}

/// Ids of controls, groups, params and parts share one namespace within a catalog.
struct IdSet<'a>(HashMap<&'a str, String>);

impl<'a> IdSet<'a> {
    fn add(&mut self, id: &'a str, path: String) -> Result<(), OscalError> {
        check_id(&path, id)?;
        if let Some(first) = self.0.get(id) {
            return Err(OscalError::DuplicateId {
                path,
                id: id.to_string(),
                first: first.clone(),
            });
        }
        self.0.insert(id, path);
        Ok(())
    }
}

fn check_catalog_ids(c: &CatalogDoc) -> Result<(), OscalError> {
    let mut ids = IdSet(HashMap::new());
    for (i, p) in c.params.iter().enumerate() {
        ids.add(&p.id, format!("catalog.params[{i}].id"))?;
    }
    for (i, g) in c.groups.iter().enumerate() {
        walk_group(&mut ids, g, &format!("catalog.groups[{i}]"))?;
    }
    for (i, ctl) in c.controls.iter().enumerate() {
        walk_control(&mut ids, ctl, &format!("catalog.controls[{i}]"))?;
    }
    Ok(())
}

fn walk_group<'a>(ids: &mut IdSet<'a>, g: &'a Group, path: &str) -> Result<(), OscalError> {
    if let Some(id) = &g.id {
        ids.add(id, format!("{path}.id"))?;
    }
    for (i, p) in g.params.iter().enumerate() {
        ids.add(&p.id, format!("{path}.params[{i}].id"))?;
    }
    for (i, p) in g.parts.iter().enumerate() {
        walk_part(ids, p, &format!("{path}.parts[{i}]"))?;
    }
    for (i, sub) in g.groups.iter().enumerate() {
        walk_group(ids, sub, &format!("{path}.groups[{i}]"))?;
    }
    for (i, c) in g.controls.iter().enumerate() {
        walk_control(ids, c, &format!("{path}.controls[{i}]"))?;
    }
    Ok(())
}

fn walk_control<'a>(ids: &mut IdSet<'a>, c: &'a Control, path: &str) -> Result<(), OscalError> {
    ids.add(&c.id, format!("{path}.id"))?;
    for (i, p) in c.params.iter().enumerate() {
        ids.add(&p.id, format!("{path}.params[{i}].id"))?;
    }
    for (i, p) in c.parts.iter().enumerate() {
        walk_part(ids, p, &format!("{path}.parts[{i}]"))?;
    }
    for (i, sub) in c.controls.iter().enumerate() {
        walk_control(ids, sub, &format!("{path}.controls[{i}]"))?;
    }
    Ok(())
}

fn walk_part<'a>(ids: &mut IdSet<'a>, p: &'a Part, path: &str) -> Result<(), OscalError> {
    if let Some(id) = &p.id {
        ids.add(id, format!("{path}.id"))?;
    }
    for (i, sub) in p.parts.iter().enumerate() {
        walk_part(ids, sub, &format!("{path}.parts[{i}]"))?;
    }
    Ok(())
}

fn check_profile(p: &ProfileDoc) -> Result<(), OscalError> {
    if p.imports.is_empty() {
        return Err(OscalError::Invalid {
            path: "profile.imports".into(),
            message: "a profile needs at least one import".into(),
        });
    }
    for (i, imp) in p.imports.iter().enumerate() {
        if imp.href.trim().is_empty() {
            return Err(OscalError::MissingId {
                path: format!("profile.imports[{i}].href"),
            });
        }
        let selects = imp
            .include_controls
            .iter()
            .enumerate()
            .map(|(j, s)| (format!("profile.imports[{i}].include-controls[{j}]"), s))
            .chain(
                imp.exclude_controls
                    .iter()
                    .enumerate()
                    .map(|(j, s)| (format!("profile.imports[{i}].exclude-controls[{j}]"), s)),
            );
        for (path, s) in selects {
            for (k, id) in s.with_ids.iter().enumerate() {
                check_id(&format!("{path}.with-ids[{k}]"), id)?;
            }
            if let Some(w) = &s.with_child_controls {
                if w != "yes" && w != "no" {
                    return Err(OscalError::Invalid {
                        path: format!("{path}.with-child-controls"),
                        message: format!("expected \"yes\" or \"no\", found {w:?}"),
                    });
                }
            }
        }
    }
    if let Some(m) = &p.modify {
        for (i, s) in m.set_parameters.iter().enumerate() {
            check_id(
                &format!("profile.modify.set-parameters[{i}].param-id"),
                &s.param_id,
            )?;
        }
    }
    if let Some(bm) = &p.back_matter {
        let mut seen = IdSet(HashMap::new());
        for (i, r) in bm.resources.iter().enumerate() {
            seen.add(&r.uuid, format!("profile.back-matter.resources[{i}].uuid"))?;
        }
    }
    Ok(())
}

fn check_mapping(m: &MappingCollectionDoc) -> Result<(), OscalError> {
    for (i, mp) in m.mappings.iter().enumerate() {
        for (j, map) in mp.maps.iter().enumerate() {
            let path = format!("mapping-collection.mappings[{i}].maps[{j}]");
            for (k, s) in map.sources.iter().enumerate() {
                check_id(&format!("{path}.sources[{k}].id-ref"), &s.id_ref)?;
            }
            for (k, t) in map.targets.iter().enumerate() {
                check_id(&format!("{path}.targets[{k}].id-ref"), &t.id_ref)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<&str, &str>) {
        match (parse(input.as_bytes()), expected) {
            (Ok(doc), Ok(kind)) => assert_eq!(doc.kind(), kind, "{input}"),
            (Err(e), Err(msg)) => assert_eq!(e.to_string(), msg, "{input}"),
            (got, want) => panic!("{input}: got {got:?}, want {want:?}"),
        }
    }

    const META: &str = r#""metadata":{"title":"t","last-modified":"2026-01-01T00:00:00Z","version":"1","oscal-version":"1.1.2"}"#;

    #[test]
    fn documents_and_errors() {
        check(
            &format!(
                r#"{{"catalog":{{"uuid":"u",{META},"controls":[{{"id":"A.1","title":"x"}}]}}}}"#
            ),
            Ok("catalog"),
        );
        check(
            &format!(r#"{{"$schema":"x","catalog":{{"uuid":"u",{META}}}}}"#),
            Ok("catalog"),
        );
        check(
            r#"{"catalog":{"uuid":"u","metadata":{"title":"t","oscal-version":"1.0.4"}}}"#,
            Err("catalog.metadata.oscal-version: oscal-version \"1.0.4\" is not supported (expected 1.1.x or 1.2.x)"),
        );
        check(
            r#"{"catalog":{"uuid":"u","metadata":{"title":"t","oscal-version":"2.1.0"}}}"#,
            Err("catalog.metadata.oscal-version: oscal-version \"2.1.0\" is not supported (expected 1.1.x or 1.2.x)"),
        );
        check(
            &format!(r#"{{"catalog":{{"uuid":"u",{META},"groups":[{{"id":"G","title":"g","controls":[{{"title":"x"}}]}}]}}}}"#),
            Err("invalid JSON at catalog.groups[0].controls[0] (line 1, column 182): missing field `id`"),
        );
        check(
            &format!(r#"{{"catalog":{{"uuid":"u",{META},"groups":[{{"id":"G","title":"g","controls":[{{"id":"A","title":"x"}},{{"id":"B","title":"y","controls":[{{"id":"A","title":"z"}}]}}]}}]}}}}"#),
            Err("catalog.groups[0].controls[1].controls[0].id: duplicate identifier \"A\", first used at catalog.groups[0].controls[0].id"),
        );
        check(
            &format!(r#"{{"catalog":{{"uuid":"u",{META},"controls":[{{"id":"","title":"x"}}]}}}}"#),
            Err("catalog.controls[0].id: missing or empty identifier"),
        );
        check(
            &format!(r#"{{"catalog":{{"uuid":"u",{META},"controls":[{{"id":"a b","title":"x"}}]}}}}"#),
            Err("catalog.controls[0].id: identifier \"a b\" is not valid (no whitespace, at most 200 characters)"),
        );
        check(
            r#"{"foo":1}"#,
            Err("not an OSCAL document: expected exactly one of catalog, profile, mapping-collection, assessment-results at the top level, found []"),
        );
        check(
            &format!(r#"{{"catalog":{{"uuid":"u",{META}}}, "profile":{{"uuid":"u",{META},"imports":[]}}}}"#),
            Err("not an OSCAL document: expected exactly one of catalog, profile, mapping-collection, assessment-results at the top level, found [\"catalog\", \"profile\"]"),
        );
        check(
            &format!(r#"{{"profile":{{"uuid":"u",{META},"imports":[]}}}}"#),
            Err("profile.imports: a profile needs at least one import"),
        );
        check(
            &format!(r#"{{"profile":{{"uuid":"u",{META},"imports":[{{"href":"x","include-controls":[{{"with-child-controls":"maybe","with-ids":["A"]}}]}}]}}}}"#),
            Err("profile.imports[0].include-controls[0].with-child-controls: expected \"yes\" or \"no\", found \"maybe\""),
        );
        check(
            &format!(r#"{{"catalog":{{"uuid":"u",{META}}}}} trailing"#),
            Err("invalid JSON at . (line 1, column 128): trailing characters"),
        );
    }

    #[test]
    fn limits() {
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert_eq!(
            parse(deep.as_bytes()).unwrap_err(),
            OscalError::TooDeep {
                limit: MAX_DEPTH,
                offset: MAX_DEPTH
            }
        );
        // Brackets inside strings do not count.
        let s = format!(r#"{{"x":"{}"}}"#, "[".repeat(1000));
        assert!(check_limits(s.as_bytes()).is_ok());
        let big = vec![b' '; MAX_BYTES + 1];
        assert!(matches!(
            parse(&big),
            Err(OscalError::TooLarge { size, .. }) if size == MAX_BYTES + 1
        ));
    }
}
