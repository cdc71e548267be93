//! The domain view of a catalog: one flat list of requirements with the Grundschutz++ properties
//! (practice, sec_level, effort_level, tags, modal verb, target object categories) pulled out of
//! OSCAL's props and parts, so that filters, search and applicability never dig through JSON.

use crate::oscal::{self, CatalogDoc, Control, Group, OscalError, Part, Prop};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Sicherheitsniveau of a Grundschutz++ requirement (`security_level.csv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecLevel {
    /// `normal-SdT`: the state of the art every institution meets.
    NormalSdt,
    /// `erhöht`: for objects with high or very high protection requirements.
    Erhoeht,
}

impl SecLevel {
    pub fn parse(s: &str) -> Option<SecLevel> {
        match s.trim() {
            "normal-SdT" => Some(SecLevel::NormalSdt),
            "erhöht" | "erhoeht" => Some(SecLevel::Erhoeht),
            _ => None,
        }
    }
    /// The value as written in the catalog.
    pub fn as_str(self) -> &'static str {
        match self {
            SecLevel::NormalSdt => "normal-SdT",
            SecLevel::Erhoeht => "erhöht",
        }
    }
    pub fn label_key(self) -> &'static str {
        match self {
            SecLevel::NormalSdt => "cat.sec_level.normal_sdt",
            SecLevel::Erhoeht => "cat.sec_level.erhoeht",
        }
    }
}

/// Modal verb of the statement (`modal_verbs.csv`): how binding the requirement is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModalVerb {
    Muss,
    Sollte,
    Kann,
}

impl ModalVerb {
    pub fn parse(s: &str) -> Option<ModalVerb> {
        match s.trim().to_uppercase().as_str() {
            "MUSS" => Some(ModalVerb::Muss),
            "SOLLTE" => Some(ModalVerb::Sollte),
            "KANN" => Some(ModalVerb::Kann),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ModalVerb::Muss => "MUSS",
            ModalVerb::Sollte => "SOLLTE",
            ModalVerb::Kann => "KANN",
        }
    }
}

/// A top-level group of the catalog; in Grundschutz++ a Praktik (ASST, PERS …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Practice {
    pub id: String,
    pub title: String,
    /// Second-level groups (Themen), `(id, title)`.
    pub topics: Vec<(String, String)>,
}

/// A parameter of a requirement; `values` are set by a profile (empty: not set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parameter {
    pub id: String,
    pub label: Option<String>,
    pub values: Vec<String>,
}

/// A link to another requirement (`related`, `required`), target without the leading `#`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relation {
    pub rel: String,
    pub target: String,
}

/// One control of a catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    /// The stable identifier (`ASST.1.1.2`): answers are keyed by it.
    pub id: String,
    /// The `alt-identifier` UUID, kept across renumbering in Grundschutz++.
    pub alt_id: Option<String>,
    /// Id of the top-level group (Praktik); empty for controls outside any group.
    pub practice: String,
    /// Id of the innermost group (Thema).
    pub topic: Option<String>,
    /// The enclosing control for nested controls.
    pub parent: Option<String>,
    pub class: Option<String>,
    pub title: String,
    /// Statement prose as written, with `{{ insert: param, id }}` placeholders.
    pub statement: String,
    pub guidance: Option<String>,
    pub sec_level: Option<SecLevel>,
    pub effort_level: Option<u8>,
    pub tags: Vec<String>,
    pub modal_verb: Option<ModalVerb>,
    pub action_word: Option<String>,
    pub target_categories: Vec<String>,
    pub documentation: Vec<String>,
    pub params: Vec<Parameter>,
    pub relations: Vec<Relation>,
    /// Every other control prop, `(name, value)`, e.g. ISO's `de-title`.
    pub other_props: Vec<(String, String)>,
}

impl Requirement {
    /// The statement with parameters filled in: a set value, else the label in angle brackets.
    pub fn statement_text(&self) -> String {
        render_params(&self.statement, &self.params)
    }
}

/// Replaces `{{ insert: param, id }}` by the parameter's values or `<label>`.
pub fn render_params(prose: &str, params: &[Parameter]) -> String {
    let mut out = String::with_capacity(prose.len());
    let mut rest = prose;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let inner = after[..end].trim();
        let id = inner
            .strip_prefix("insert:")
            .map(str::trim)
            .and_then(|s| s.strip_prefix("param,"))
            .map(str::trim);
        match id.and_then(|id| params.iter().find(|p| p.id == id)) {
            Some(p) if !p.values.is_empty() => out.push_str(&p.values.join(", ")),
            Some(p) => {
                out.push('<');
                out.push_str(p.label.as_deref().unwrap_or(&p.id));
                out.push('>');
            }
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// A catalog ready for browsing: requirements in document order, with an id index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    pub uuid: String,
    pub title: String,
    /// `metadata.version`; two versions of one catalog differ here.
    pub version: String,
    pub last_modified: String,
    pub oscal_version: String,
    /// Where the catalog came from (file name or href), for display and for profile imports.
    pub source: String,
    pub practices: Vec<Practice>,
    pub requirements: Vec<Requirement>,
    #[serde(skip)]
    index: HashMap<String, usize>,
}

impl Catalog {
    /// Parses and builds a catalog from OSCAL JSON bytes.
    pub fn from_json(bytes: &[u8], source: &str) -> Result<Catalog, OscalError> {
        match oscal::parse(bytes)? {
            oscal::Document::Catalog(doc) => Ok(Catalog::from_doc(&doc, source)),
            other => Err(OscalError::WrongDocument {
                expected: "catalog",
                found: other.kind(),
            }),
        }
    }

    /// Builds the domain view of a checked catalog document.
    pub fn from_doc(doc: &CatalogDoc, source: &str) -> Catalog {
        let mut reqs = Vec::new();
        let mut practices = Vec::new();
        for c in &doc.controls {
            add_control(&mut reqs, c, "", None, None);
        }
        for g in &doc.groups {
            let id = g.id.clone().unwrap_or_default();
            let mut topics = Vec::new();
            for sub in &g.groups {
                topics.push((sub.id.clone().unwrap_or_default(), sub.title.clone()));
            }
            practices.push(Practice {
                id: id.clone(),
                title: g.title.clone(),
                topics,
            });
            add_group(&mut reqs, g, &id);
        }
        Catalog::new(
            doc.uuid.clone(),
            doc.metadata.title.clone(),
            doc.metadata.version.clone(),
            doc.metadata.last_modified.clone(),
            doc.metadata.oscal_version.clone(),
            source.to_string(),
            practices,
            reqs,
        )
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        uuid: String,
        title: String,
        version: String,
        last_modified: String,
        oscal_version: String,
        source: String,
        practices: Vec<Practice>,
        requirements: Vec<Requirement>,
    ) -> Catalog {
        let index = requirements
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        Catalog {
            uuid,
            title,
            version,
            last_modified,
            oscal_version,
            source,
            practices,
            requirements,
            index,
        }
    }

    pub fn get(&self, id: &str) -> Option<&Requirement> {
        // The index is skipped by serde; fall back to a scan for a deserialised catalog.
        match self.index.get(id) {
            Some(&i) => self.requirements.get(i),
            None if self.index.is_empty() => self.requirements.iter().find(|r| r.id == id),
            None => None,
        }
    }

    pub fn len(&self) -> usize {
        self.requirements.len()
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Requirements of one practice, in catalog order.
    pub fn in_practice<'a>(&'a self, practice: &'a str) -> impl Iterator<Item = &'a Requirement> {
        self.requirements
            .iter()
            .filter(move |r| r.practice == practice)
    }

    /// Ids of `id` and every control nested below it.
    pub fn descendants<'a>(&'a self, id: &'a str) -> Vec<&'a str> {
        let mut out = vec![];
        let mut stack = vec![id];
        while let Some(cur) = stack.pop() {
            out.push(cur);
            for r in &self.requirements {
                if r.parent.as_deref() == Some(cur) {
                    stack.push(&r.id);
                }
            }
        }
        out
    }
}

fn add_group(reqs: &mut Vec<Requirement>, g: &Group, practice: &str) {
    for c in &g.controls {
        add_control(reqs, c, practice, g.id.as_deref(), None);
    }
    for sub in &g.groups {
        add_group(reqs, sub, practice);
    }
}

fn add_control(
    reqs: &mut Vec<Requirement>,
    c: &Control,
    practice: &str,
    topic: Option<&str>,
    parent: Option<&str>,
) {
    reqs.push(requirement(c, practice, topic, parent));
    for sub in &c.controls {
        add_control(reqs, sub, practice, topic, Some(&c.id));
    }
}

/// Comma-separated values as the Kernel writes them (`"Lieferketten, Exit-Strategie"`).
fn split_list(v: &str) -> impl Iterator<Item = String> + '_ {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn requirement(
    c: &Control,
    practice: &str,
    topic: Option<&str>,
    parent: Option<&str>,
) -> Requirement {
    let mut r = Requirement {
        id: c.id.clone(),
        alt_id: None,
        practice: practice.to_string(),
        topic: topic.map(str::to_string),
        parent: parent.map(str::to_string),
        class: c.class.clone(),
        title: c.title.clone(),
        statement: String::new(),
        guidance: None,
        sec_level: None,
        effort_level: None,
        tags: vec![],
        modal_verb: None,
        action_word: None,
        target_categories: vec![],
        documentation: vec![],
        params: c
            .params
            .iter()
            .map(|p| Parameter {
                id: p.id.clone(),
                label: p.label.clone(),
                values: p.values.clone(),
            })
            .collect(),
        relations: c
            .links
            .iter()
            .filter_map(|l| {
                let target = l.href.strip_prefix('#')?;
                Some(Relation {
                    rel: l.rel.clone().unwrap_or_default(),
                    target: target.to_string(),
                })
            })
            .collect(),
        other_props: vec![],
    };
    for p in &c.props {
        apply_prop(&mut r, p, true);
    }
    for part in &c.parts {
        match part.name.as_str() {
            "statement" => {
                r.statement = prose_of(part);
                for p in &part.props {
                    apply_prop(&mut r, p, false);
                }
            }
            "guidance" => r.guidance = Some(prose_of(part)),
            _ => {}
        }
    }
    r
}

fn apply_prop(r: &mut Requirement, p: &Prop, on_control: bool) {
    match p.name.as_str() {
        "alt-identifier" if on_control => r.alt_id = Some(p.value.clone()),
        "sec_level" => r.sec_level = SecLevel::parse(&p.value),
        "effort_level" => r.effort_level = p.value.trim().parse().ok().filter(|e| *e <= 5),
        "tags" => r.tags.extend(split_list(&p.value)),
        "modal_verb" => r.modal_verb = ModalVerb::parse(&p.value),
        "action_word" => r.action_word = Some(p.value.clone()),
        "target_object_categories" => r.target_categories.extend(split_list(&p.value)),
        "documentation" => r.documentation.extend(split_list(&p.value)),
        _ if on_control => r.other_props.push((p.name.clone(), p.value.clone())),
        _ => {}
    }
}

/// The prose of a part and of its sub-parts, one paragraph each.
fn prose_of(part: &Part) -> String {
    let mut out = part.prose.clone().unwrap_or_default();
    for sub in &part.parts {
        let s = prose_of(sub);
        if !s.is_empty() {
            if !out.is_empty() {
                out.push_str("\n\n");
            }
            out.push_str(&s);
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn render() {
        let params = vec![
            Parameter {
                id: "p1".into(),
                label: Some("Rollen".into()),
                values: vec![],
            },
            Parameter {
                id: "p2".into(),
                label: None,
                values: vec!["BSI-Standard 200-4".into()],
            },
        ];
        let check =
            |input: &str, expected: &str| assert_eq!(render_params(input, &params), expected);
        check("A {{ insert: param, p1 }} B", "A <Rollen> B");
        check("{{ insert: param, p2 }}.", "BSI-Standard 200-4.");
        check(
            "x {{ insert: param, nope }} y",
            "x {{ insert: param, nope }} y",
        );
        check("open {{ never closed", "open {{ never closed");
        check("", "");
    }

    #[test]
    fn builds_nested_controls_and_props() {
        let json = r##"{"catalog":{"uuid":"u","metadata":{"title":"T","version":"2","oscal-version":"1.1.3"},
          "groups":[{"id":"P","title":"Praktik","groups":[{"id":"P.1","title":"Thema","controls":[
            {"id":"P.1.1","title":"Eins","props":[{"name":"alt-identifier","value":"a1"},{"name":"sec_level","value":"erhöht"},{"name":"effort_level","value":"3"},{"name":"tags","value":"VPN, MFA"}],
             "links":[{"rel":"related","href":"#P.1.2"}],
             "params":[{"id":"p.1","label":"Rollen"}],
             "parts":[{"id":"P.1.1_stm","name":"statement","prose":"X MUSS {{ insert: param, p.1 }} tun.","props":[{"name":"modal_verb","value":"MUSS"},{"name":"target_object_categories","value":"Netze, WLANs"}]},{"name":"guidance","prose":"Hilfe"}],
             "controls":[{"id":"P.1.1.1","title":"Kind"}]}]}]}]}}"##;
        let c = Catalog::from_json(json.as_bytes(), "t.json").unwrap();
        assert_eq!(c.len(), 2);
        let r = c.get("P.1.1").unwrap();
        assert_eq!(r.practice, "P");
        assert_eq!(r.topic.as_deref(), Some("P.1"));
        assert_eq!(r.sec_level, Some(SecLevel::Erhoeht));
        assert_eq!(r.effort_level, Some(3));
        assert_eq!(r.tags, ["VPN", "MFA"]);
        assert_eq!(r.modal_verb, Some(ModalVerb::Muss));
        assert_eq!(r.target_categories, ["Netze", "WLANs"]);
        assert_eq!(r.guidance.as_deref(), Some("Hilfe"));
        assert_eq!(r.statement_text(), "X MUSS <Rollen> tun.");
        assert_eq!(r.relations[0].target, "P.1.2");
        assert_eq!(c.get("P.1.1.1").unwrap().parent.as_deref(), Some("P.1.1"));
        assert_eq!(c.descendants("P.1.1"), ["P.1.1", "P.1.1.1"]);
        assert_eq!(
            c.practices[0].topics,
            [("P.1".to_string(), "Thema".to_string())]
        );
    }
}
