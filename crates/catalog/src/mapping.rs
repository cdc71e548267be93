//! Mapping collections (OSCAL 1.2): which controls of one framework correspond to which of another,
//! with the relationship kept as stated — `subset-of` is not equality, and the UI shows which.
//! Lookups work both ways; seen from the target side a relationship is inverted.

use crate::oscal::{self, MappingCollectionDoc, OscalError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// How the source of a map relates to its targets ("source REL target").
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Relationship {
    EqualTo,
    EquivalentTo,
    SubsetOf,
    SupersetOf,
    IntersectsWith,
    NoRelationship,
    Other(String),
}

impl Relationship {
    pub fn parse(s: &str) -> Relationship {
        match s.trim() {
            "equal-to" => Relationship::EqualTo,
            "equivalent-to" => Relationship::EquivalentTo,
            "subset-of" => Relationship::SubsetOf,
            "superset-of" => Relationship::SupersetOf,
            "intersects-with" => Relationship::IntersectsWith,
            "no-relationship" => Relationship::NoRelationship,
            other => Relationship::Other(other.to_string()),
        }
    }
    pub fn as_str(&self) -> &str {
        match self {
            Relationship::EqualTo => "equal-to",
            Relationship::EquivalentTo => "equivalent-to",
            Relationship::SubsetOf => "subset-of",
            Relationship::SupersetOf => "superset-of",
            Relationship::IntersectsWith => "intersects-with",
            Relationship::NoRelationship => "no-relationship",
            Relationship::Other(s) => s,
        }
    }
    /// The same fact stated from the other side: A ⊂ B is B ⊃ A.
    pub fn inverse(&self) -> Relationship {
        match self {
            Relationship::SubsetOf => Relationship::SupersetOf,
            Relationship::SupersetOf => Relationship::SubsetOf,
            other => other.clone(),
        }
    }
    /// i18n key for the UI (`map.rel.subset_of` …).
    pub fn label_key(&self) -> &'static str {
        match self {
            Relationship::EqualTo => "map.rel.equal_to",
            Relationship::EquivalentTo => "map.rel.equivalent_to",
            Relationship::SubsetOf => "map.rel.subset_of",
            Relationship::SupersetOf => "map.rel.superset_of",
            Relationship::IntersectsWith => "map.rel.intersects_with",
            Relationship::NoRelationship => "map.rel.no_relationship",
            Relationship::Other(_) => "map.rel.other",
        }
    }
}

/// One map: all sources relate to the group of all targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapEntry {
    pub uuid: String,
    pub relationship: Relationship,
    pub sources: Vec<String>,
    pub targets: Vec<String>,
    /// Catalog hrefs of the mapping this entry belongs to.
    pub source_catalog: String,
    pub target_catalog: String,
}

/// A correspondence as seen from one control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correspondence {
    /// The controls on the other side (all of them: a map may group several).
    pub other: Vec<String>,
    /// Catalog href of the other side.
    pub other_catalog: String,
    /// "this control REL the other side", inverted when this control is a target.
    pub relationship: Relationship,
    pub uuid: String,
}

/// An indexed mapping collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingSet {
    pub uuid: String,
    pub title: String,
    pub version: String,
    pub entries: Vec<MapEntry>,
    by_source: HashMap<String, Vec<usize>>,
    by_target: HashMap<String, Vec<usize>>,
}

impl MappingSet {
    pub fn from_json(bytes: &[u8]) -> Result<MappingSet, OscalError> {
        match oscal::parse(bytes)? {
            oscal::Document::MappingCollection(m) => Ok(MappingSet::from_doc(&m)),
            other => Err(OscalError::WrongDocument {
                expected: "mapping-collection",
                found: other.kind(),
            }),
        }
    }

    pub fn from_doc(doc: &MappingCollectionDoc) -> MappingSet {
        let mut entries = Vec::new();
        for m in &doc.mappings {
            for map in &m.maps {
                entries.push(MapEntry {
                    uuid: map.uuid.clone(),
                    relationship: Relationship::parse(&map.relationship),
                    sources: map.sources.iter().map(|s| s.id_ref.clone()).collect(),
                    targets: map.targets.iter().map(|s| s.id_ref.clone()).collect(),
                    source_catalog: m.source_resource.href.clone(),
                    target_catalog: m.target_resource.href.clone(),
                });
            }
        }
        let mut by_source: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_target: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            for s in &e.sources {
                by_source.entry(s.clone()).or_default().push(i);
            }
            for t in &e.targets {
                by_target.entry(t.clone()).or_default().push(i);
            }
        }
        MappingSet {
            uuid: doc.uuid.clone(),
            title: doc.metadata.title.clone(),
            version: doc.metadata.version.clone(),
            entries,
            by_source,
            by_target,
        }
    }

    /// What `source_id` (a control of the source framework) corresponds to.
    pub fn from_source(&self, source_id: &str) -> Vec<Correspondence> {
        self.by_source
            .get(source_id)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.entries.get(i))
            .map(|e| Correspondence {
                other: e.targets.clone(),
                other_catalog: e.target_catalog.clone(),
                relationship: e.relationship.clone(),
                uuid: e.uuid.clone(),
            })
            .collect()
    }

    /// What corresponds to `target_id` (e.g. a Grundschutz++ requirement), relationship stated
    /// from the target: ISO 5.1 `subset-of` GC.9.1 reads "GC.9.1 superset-of 5.1".
    pub fn from_target(&self, target_id: &str) -> Vec<Correspondence> {
        self.by_target
            .get(target_id)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.entries.get(i))
            .map(|e| Correspondence {
                other: e.sources.clone(),
                other_catalog: e.source_catalog.clone(),
                relationship: e.relationship.inverse(),
                uuid: e.uuid.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn both_directions_keep_the_relationship() {
        let json = r#"{"mapping-collection":{"uuid":"m","metadata":{"title":"M","version":"1","oscal-version":"1.2.2"},
          "mappings":[{"uuid":"x","source-resource":{"type":"catalog","href":"iso.json"},"target-resource":{"type":"catalog","href":"gs.json"},
          "maps":[{"uuid":"a","relationship":"subset-of","sources":[{"type":"control","id-ref":"5.1"}],"targets":[{"type":"control","id-ref":"GC.1"},{"type":"control","id-ref":"GC.2"}]},
                  {"uuid":"b","relationship":"intersects-with","sources":[{"type":"control","id-ref":"5.2"}],"targets":[{"type":"control","id-ref":"GC.1"}]}]}]}}"#;
        let m = MappingSet::from_json(json.as_bytes()).unwrap();
        let s = m.from_source("5.1");
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].relationship, Relationship::SubsetOf);
        assert_eq!(s[0].other, ["GC.1", "GC.2"]);
        let t = m.from_target("GC.1");
        let rels: Vec<_> = t
            .iter()
            .map(|c| (c.other[0].as_str(), c.relationship.as_str()))
            .collect();
        assert_eq!(rels, [("5.1", "superset-of"), ("5.2", "intersects-with")]);
        assert!(m.from_target("nope").is_empty());
        assert_eq!(
            Relationship::parse("weird"),
            Relationship::Other("weird".into())
        );
    }
}
