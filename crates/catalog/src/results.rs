//! A town's assessment as OSCAL 1.1 assessment-results, written and read back without loss.
//!
//! [`Assessment`] is the neutral form the store and the scoring crate fill; [`write`] turns it
//! into assessment-results JSON and [`read`] turns such JSON back into it. The mapping:
//!
//! - one `result` (start = `Assessment::start`), `reviewed-controls` = include-all;
//! - one `finding` per answer: `target` = the control (`objective-id`), OSCAL state
//!   satisfied/not-satisfied derived from the status, the exact status and the other scalar
//!   fields as props in Stadtmauer's namespace ([`NS`]), the reason in `target.status.remarks`,
//!   the note in `remarks`;
//! - evidence: one observation per answer whose `relevant-evidence` points to back-matter
//!   resources carrying the href and its SHA-256 hash;
//! - per-object answers: one observation per object, the object as an `inventory-item` subject;
//! - the catalog assessed against: a back-matter resource, referenced by `import-ap` (there is no
//!   separate assessment plan).
//!
//! UUIDs are derived from the assessment's UUID and the content's keys (name-based, version-5
//! layout), so export → import → export gives identical bytes.

use crate::oscal::{self, BackMatter, Hash, Metadata, OscalError, Party, Prop, Resource, Rlink};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

/// Namespace of Stadtmauer's props in exported OSCAL.
pub const NS: &str = "https://stadtmauer.example/ns/oscal";
/// The OSCAL version written.
pub const OSCAL_VERSION: &str = "1.1.2";

/// Umsetzungsstatus of one requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ja,
    Teilweise,
    Nein,
    Entbehrlich,
    Offen,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Ja,
        Status::Teilweise,
        Status::Nein,
        Status::Entbehrlich,
        Status::Offen,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ja => "ja",
            Status::Teilweise => "teilweise",
            Status::Nein => "nein",
            Status::Entbehrlich => "entbehrlich",
            Status::Offen => "offen",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }
    /// OSCAL's objective state and reason.
    fn oscal_state(self) -> (&'static str, &'static str) {
        match self {
            Status::Ja => ("satisfied", "pass"),
            Status::Entbehrlich => ("satisfied", "other"),
            Status::Teilweise | Status::Nein => ("not-satisfied", "fail"),
            Status::Offen => ("not-satisfied", "other"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub title: String,
    /// Where the evidence lives (a document in the store, a URL).
    pub href: String,
    /// SHA-256 of the evidence file, 64 lowercase hex digits.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectAnswer {
    /// The inventory object's stable reference (id or uuid as the store keeps it).
    pub object_ref: String,
    pub status: Status,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub control_id: String,
    pub status: Status,
    /// Why (required by the UI for entbehrlich/nein; free text).
    pub reason: Option<String>,
    pub note: Option<String>,
    pub responsible: Option<String>,
    pub evidence: Vec<Evidence>,
    pub assessed_on: Option<Date>,
    pub review_by: Option<Date>,
    pub objects: Vec<ObjectAnswer>,
}

/// The neutral form of a town's assessment (no serde: its serialisation is OSCAL, see [`write`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// UUID of the exported document; keep it per assessment so re-exports are stable.
    pub uuid: String,
    pub title: String,
    /// The town (organisation) assessed.
    pub town: String,
    /// Document version, e.g. a counter or date the store keeps.
    pub version: String,
    pub last_modified: OffsetDateTime,
    pub start: OffsetDateTime,
    pub catalog_title: String,
    pub catalog_version: String,
    /// The catalog or profile file assessed against.
    pub catalog_href: String,
    pub answers: Vec<Answer>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResultsError {
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error(transparent)]
    Oscal(#[from] OscalError),
}

fn invalid(path: impl Into<String>, message: impl Into<String>) -> ResultsError {
    ResultsError::Invalid {
        path: path.into(),
        message: message.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// The assessment-results model (the part Stadtmauer writes and reads).

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ArDoc {
    pub uuid: String,
    pub metadata: Metadata,
    pub import_ap: ImportAp,
    pub results: Vec<ArResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub back_matter: Option<BackMatter>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportAp {
    pub href: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ArResult {
    pub uuid: String,
    pub title: String,
    pub description: String,
    pub start: String,
    pub reviewed_controls: serde_json::Value,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub observations: Vec<Observation>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Observation {
    pub uuid: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Prop>,
    pub methods: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<Subject>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relevant_evidence: Vec<RelevantEvidence>,
    pub collected: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Subject {
    pub subject_uuid: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Prop>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelevantEvidence {
    pub href: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Finding {
    pub uuid: String,
    pub title: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Prop>,
    pub target: FindingTarget,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related_observations: Vec<RelatedObservation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct FindingTarget {
    #[serde(rename = "type")]
    pub kind: String,
    pub target_id: String,
    pub status: ObjectiveStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectiveStatus {
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RelatedObservation {
    pub observation_uuid: String,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ArRoot<'a> {
    assessment_results: &'a ArDoc,
}

// ---------------------------------------------------------------------------------------------
// Writing.

/// A name-based UUID (version-5 layout over SHA-256) from the document UUID and a key.
fn derived_uuid(seed: &str, key: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(seed.as_bytes());
    for k in key {
        h.update([0u8]);
        h.update(k.as_bytes());
    }
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// OSCAL string values: non-empty, no surrounding whitespace, one line.
fn check_line(path: &str, s: &str) -> Result<(), ResultsError> {
    if s.is_empty() || s.trim() != s || s.contains(['\n', '\r']) {
        return Err(invalid(
            path,
            "must be one non-empty line without surrounding spaces",
        ));
    }
    Ok(())
}

fn check_text(path: &str, s: &Option<String>) -> Result<(), ResultsError> {
    match s {
        Some(t) if t.trim().is_empty() || t.trim() != t => Err(invalid(
            path,
            "must be absent or non-empty without surrounding spaces",
        )),
        _ => Ok(()),
    }
}

/// Control ids and object references become OSCAL tokens.
fn check_token(path: &str, s: &str) -> Result<(), ResultsError> {
    let mut chars = s.chars();
    let ok = chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(invalid(path, format!("{s:?} is not an OSCAL token")))
    }
}

impl Assessment {
    /// Checks what OSCAL requires of the values; `write` calls it.
    pub fn validate(&self) -> Result<(), ResultsError> {
        if !is_uuid(&self.uuid) {
            return Err(invalid("uuid", "must be a UUID"));
        }
        check_line("title", &self.title)?;
        check_line("town", &self.town)?;
        check_line("version", &self.version)?;
        check_line("catalog_title", &self.catalog_title)?;
        check_line("catalog_version", &self.catalog_version)?;
        check_line("catalog_href", &self.catalog_href)?;
        let mut seen = std::collections::HashSet::new();
        for (i, a) in self.answers.iter().enumerate() {
            let p = format!("answers[{i}]");
            check_token(&format!("{p}.control_id"), &a.control_id)?;
            if !seen.insert(a.control_id.as_str()) {
                return Err(invalid(
                    format!("{p}.control_id"),
                    format!("duplicate answer for {}", a.control_id),
                ));
            }
            check_text(&format!("{p}.reason"), &a.reason)?;
            check_text(&format!("{p}.note"), &a.note)?;
            if let Some(r) = &a.responsible {
                check_line(&format!("{p}.responsible"), r)?;
            }
            for (j, e) in a.evidence.iter().enumerate() {
                check_line(&format!("{p}.evidence[{j}].title"), &e.title)?;
                check_line(&format!("{p}.evidence[{j}].href"), &e.href)?;
                if e.sha256.len() != 64
                    || !e
                        .sha256
                        .chars()
                        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
                {
                    return Err(invalid(
                        format!("{p}.evidence[{j}].sha256"),
                        "must be 64 lowercase hex digits",
                    ));
                }
            }
            let mut objs = std::collections::HashSet::new();
            for (j, o) in a.objects.iter().enumerate() {
                check_line(&format!("{p}.objects[{j}].object_ref"), &o.object_ref)?;
                check_text(&format!("{p}.objects[{j}].note"), &o.note)?;
                if !objs.insert(o.object_ref.as_str()) {
                    return Err(invalid(
                        format!("{p}.objects[{j}].object_ref"),
                        "duplicate object",
                    ));
                }
            }
        }
        Ok(())
    }
}

fn rfc3339(t: OffsetDateTime, path: &str) -> Result<String, ResultsError> {
    t.format(&Rfc3339)
        .map_err(|e| invalid(path, format!("cannot format date-time: {e}")))
}

fn date_str(d: Date) -> String {
    let f = format_description!("[year]-[month]-[day]");
    d.format(&f).unwrap_or_default()
}

fn prop(name: &str, value: String) -> Prop {
    Prop {
        name: name.to_string(),
        value,
        ns: Some(NS.to_string()),
        class: None,
        remarks: None,
    }
}

/// Builds the OSCAL model of an assessment.
pub fn to_oscal(a: &Assessment) -> Result<ArDoc, ResultsError> {
    a.validate()?;
    let seed = a.uuid.as_str();
    let start = rfc3339(a.start, "start")?;
    let basis_uuid = derived_uuid(seed, &["basis"]);
    let mut resources = vec![Resource {
        uuid: basis_uuid.clone(),
        title: Some(a.catalog_title.clone()),
        description: None,
        props: vec![prop("catalog-version", a.catalog_version.clone())],
        rlinks: vec![Rlink {
            href: a.catalog_href.clone(),
            media_type: Some("application/oscal+json".into()),
            hashes: vec![],
        }],
    }];
    let mut observations = vec![];
    let mut findings = vec![];
    for ans in &a.answers {
        let cid = ans.control_id.as_str();
        let collected = match ans.assessed_on {
            Some(d) => format!("{}T00:00:00Z", date_str(d)),
            None => start.clone(),
        };
        let mut related = vec![];
        if !ans.evidence.is_empty() {
            let obs_uuid = derived_uuid(seed, &["evidence", cid]);
            let mut rel = vec![];
            for (j, e) in ans.evidence.iter().enumerate() {
                let r_uuid = derived_uuid(seed, &["evidence", cid, &j.to_string()]);
                resources.push(Resource {
                    uuid: r_uuid.clone(),
                    title: Some(e.title.clone()),
                    description: None,
                    props: vec![],
                    rlinks: vec![Rlink {
                        href: e.href.clone(),
                        media_type: None,
                        hashes: vec![Hash {
                            algorithm: "SHA-256".into(),
                            value: e.sha256.clone(),
                        }],
                    }],
                });
                rel.push(RelevantEvidence {
                    href: format!("#{r_uuid}"),
                    description: e.title.clone(),
                });
            }
            observations.push(Observation {
                uuid: obs_uuid.clone(),
                description: format!("Nachweise zu {cid}"),
                props: vec![],
                methods: vec!["EXAMINE".into()],
                subjects: vec![],
                relevant_evidence: rel,
                collected: collected.clone(),
                remarks: None,
            });
            related.push(RelatedObservation {
                observation_uuid: obs_uuid,
            });
        }
        for o in &ans.objects {
            let obs_uuid = derived_uuid(seed, &["object", cid, &o.object_ref]);
            observations.push(Observation {
                uuid: obs_uuid.clone(),
                description: format!("{cid} für Objekt {}", o.object_ref),
                props: vec![prop("status", o.status.as_str().into())],
                methods: vec!["EXAMINE".into()],
                subjects: vec![Subject {
                    subject_uuid: derived_uuid(seed, &["subject", &o.object_ref]),
                    kind: "inventory-item".into(),
                    props: vec![prop("object-ref", o.object_ref.clone())],
                }],
                relevant_evidence: vec![],
                collected: collected.clone(),
                remarks: o.note.clone(),
            });
            related.push(RelatedObservation {
                observation_uuid: obs_uuid,
            });
        }
        let mut props = vec![prop("status", ans.status.as_str().into())];
        if let Some(r) = &ans.responsible {
            props.push(prop("responsible", r.clone()));
        }
        if let Some(d) = ans.assessed_on {
            props.push(prop("assessed-on", date_str(d)));
        }
        if let Some(d) = ans.review_by {
            props.push(prop("review-by", date_str(d)));
        }
        let (state, reason) = ans.status.oscal_state();
        findings.push(Finding {
            uuid: derived_uuid(seed, &["finding", cid]),
            title: cid.to_string(),
            description: format!("Umsetzungsstand von {cid}"),
            props,
            target: FindingTarget {
                kind: "objective-id".into(),
                target_id: cid.to_string(),
                status: ObjectiveStatus {
                    state: state.into(),
                    reason: Some(reason.into()),
                    remarks: ans.reason.clone(),
                },
            },
            related_observations: related,
            remarks: ans.note.clone(),
        });
    }
    Ok(ArDoc {
        uuid: a.uuid.clone(),
        metadata: Metadata {
            title: a.title.clone(),
            published: None,
            last_modified: rfc3339(a.last_modified, "last_modified")?,
            version: a.version.clone(),
            oscal_version: OSCAL_VERSION.into(),
            props: vec![],
            parties: vec![Party {
                uuid: derived_uuid(seed, &["town"]),
                kind: "organization".into(),
                name: Some(a.town.clone()),
            }],
            remarks: None,
        },
        import_ap: ImportAp {
            href: format!("#{basis_uuid}"),
        },
        results: vec![ArResult {
            uuid: derived_uuid(seed, &["result"]),
            title: a.title.clone(),
            description: format!("Bewertung nach {} ({})", a.catalog_title, a.catalog_version),
            start,
            reviewed_controls: serde_json::json!({"control-selections": [{"include-all": {}}]}),
            observations,
            findings,
        }],
        back_matter: Some(BackMatter { resources }),
    })
}

/// Writes an assessment as OSCAL 1.1 assessment-results JSON (pretty-printed, stable).
pub fn write(a: &Assessment) -> Result<String, ResultsError> {
    let doc = to_oscal(a)?;
    serde_json::to_string_pretty(&ArRoot {
        assessment_results: &doc,
    })
    .map_err(|e| invalid("assessment-results", e.to_string()))
}

// ---------------------------------------------------------------------------------------------
// Reading.

fn parse_time(path: &str, s: &str) -> Result<OffsetDateTime, ResultsError> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map_err(|e| invalid(path, format!("not an RFC 3339 date-time: {e}")))
}

fn parse_date(path: &str, s: &str) -> Result<Date, ResultsError> {
    let f = format_description!("[year]-[month]-[day]");
    Date::parse(s, &f).map_err(|e| invalid(path, format!("not a date (YYYY-MM-DD): {e}")))
}

fn our_prop<'p>(props: &'p [Prop], name: &str) -> Option<(usize, &'p Prop)> {
    props
        .iter()
        .enumerate()
        .find(|(_, p)| p.name == name && p.ns.as_deref() == Some(NS))
}

/// Reads assessment-results JSON (ours, or another tool's: status then follows the OSCAL state).
pub fn read(bytes: &[u8]) -> Result<Assessment, ResultsError> {
    let doc = match oscal::parse(bytes)? {
        oscal::Document::AssessmentResults(d) => d,
        other => {
            return Err(OscalError::WrongDocument {
                expected: "assessment-results",
                found: other.kind(),
            }
            .into())
        }
    };
    from_oscal(&doc)
}

/// Turns a parsed assessment-results document into the neutral form.
pub fn from_oscal(doc: &ArDoc) -> Result<Assessment, ResultsError> {
    const R: &str = "assessment-results";
    let resources: &[Resource] = doc
        .back_matter
        .as_ref()
        .map(|b| b.resources.as_slice())
        .unwrap_or(&[]);
    let resource = |href: &str| {
        href.strip_prefix('#')
            .and_then(|u| resources.iter().find(|r| r.uuid == u))
    };
    let basis = resource(&doc.import_ap.href);
    let result = doc
        .results
        .first()
        .ok_or_else(|| invalid(format!("{R}.results"), "no result"))?;
    if doc.results.len() > 1 {
        return Err(invalid(
            format!("{R}.results"),
            "more than one result; Stadtmauer reads one assessment per file",
        ));
    }
    let rp = format!("{R}.results[0]");
    let mut answers = vec![];
    for (i, f) in result.findings.iter().enumerate() {
        let fp = format!("{rp}.findings[{i}]");
        let status = match our_prop(&f.props, "status") {
            Some((k, p)) => Status::parse(&p.value).ok_or_else(|| {
                invalid(
                    format!("{fp}.props[{k}].value"),
                    format!("unknown status {:?}", p.value),
                )
            })?,
            None if f.target.status.state == "satisfied" => Status::Ja,
            None => Status::Nein,
        };
        let date = |name: &str| -> Result<Option<Date>, ResultsError> {
            our_prop(&f.props, name)
                .map(|(k, p)| parse_date(&format!("{fp}.props[{k}].value"), &p.value))
                .transpose()
        };
        let mut evidence = vec![];
        let mut objects = vec![];
        for (j, ro) in f.related_observations.iter().enumerate() {
            let (oi, obs) = result
                .observations
                .iter()
                .enumerate()
                .find(|(_, o)| o.uuid == ro.observation_uuid)
                .ok_or_else(|| {
                    invalid(
                        format!("{fp}.related-observations[{j}].observation-uuid"),
                        format!("no observation {}", ro.observation_uuid),
                    )
                })?;
            let op = format!("{rp}.observations[{oi}]");
            for (k, re) in obs.relevant_evidence.iter().enumerate() {
                let ep = format!("{op}.relevant-evidence[{k}].href");
                let res = resource(&re.href)
                    .ok_or_else(|| invalid(&ep, format!("no back-matter resource {}", re.href)))?;
                let link = res
                    .rlinks
                    .first()
                    .ok_or_else(|| invalid(&ep, "resource has no rlink"))?;
                let sha = link
                    .hashes
                    .iter()
                    .find(|h| h.algorithm.eq_ignore_ascii_case("SHA-256"))
                    .ok_or_else(|| invalid(&ep, "resource has no SHA-256 hash"))?;
                evidence.push(Evidence {
                    title: res.title.clone().unwrap_or_else(|| re.description.clone()),
                    href: link.href.clone(),
                    sha256: sha.value.to_lowercase(),
                });
            }
            for (k, s) in obs.subjects.iter().enumerate() {
                let object_ref = our_prop(&s.props, "object-ref")
                    .map(|(_, p)| p.value.clone())
                    .unwrap_or_else(|| s.subject_uuid.clone());
                let status = match our_prop(&obs.props, "status") {
                    Some((_, p)) => Status::parse(&p.value).ok_or_else(|| {
                        invalid(
                            format!("{op}.props"),
                            format!("unknown status {:?}", p.value),
                        )
                    })?,
                    None => status,
                };
                let _ = k;
                objects.push(ObjectAnswer {
                    object_ref,
                    status,
                    note: obs.remarks.clone(),
                });
            }
        }
        answers.push(Answer {
            control_id: f.target.target_id.clone(),
            status,
            reason: f.target.status.remarks.clone(),
            note: f.remarks.clone(),
            responsible: our_prop(&f.props, "responsible").map(|(_, p)| p.value.clone()),
            evidence,
            assessed_on: date("assessed-on")?,
            review_by: date("review-by")?,
            objects,
        });
    }
    let a = Assessment {
        uuid: doc.uuid.clone(),
        title: doc.metadata.title.clone(),
        town: doc
            .metadata
            .parties
            .iter()
            .find(|p| p.kind == "organization")
            .and_then(|p| p.name.clone())
            .ok_or_else(|| invalid(format!("{R}.metadata.parties"), "no organisation named"))?,
        version: doc.metadata.version.clone(),
        last_modified: parse_time(
            &format!("{R}.metadata.last-modified"),
            &doc.metadata.last_modified,
        )?,
        start: parse_time(&format!("{rp}.start"), &result.start)?,
        catalog_title: basis
            .and_then(|b| b.title.clone())
            .ok_or_else(|| invalid(format!("{R}.import-ap.href"), "catalog resource not found"))?,
        catalog_version: basis
            .and_then(|b| our_prop(&b.props, "catalog-version").map(|(_, p)| p.value.clone()))
            .unwrap_or_default(),
        catalog_href: basis
            .and_then(|b| b.rlinks.first())
            .map(|l| l.href.clone())
            .unwrap_or_default(),
        answers,
    };
    Ok(a)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    pub(crate) fn sample() -> Assessment {
        Assessment {
            uuid: "0f8c7a3e-4b1d-4c2a-9e55-2d8f7a6b1c90".into(),
            title: "Selbsteinschätzung 2026".into(),
            town: "Musterhausen".into(),
            version: "3".into(),
            last_modified: datetime!(2026-03-02 10:15:00 +01:00),
            start: datetime!(2026-02-01 08:00:00 UTC),
            catalog_title: "Kommunale Basis".into(),
            catalog_version: "2026-07-29".into(),
            catalog_href: "kommunale-basis-profile.json".into(),
            answers: vec![
                Answer {
                    control_id: "ASST.1.1".into(),
                    status: Status::Ja,
                    reason: None,
                    note: Some("Mehrzeilig\nmit Umlauten: äöü".into()),
                    responsible: Some("Hauptamt, Frau Beispiel".into()),
                    evidence: vec![
                        Evidence {
                            title: "IT-Betriebskonzept".into(),
                            href: "evidence/42".into(),
                            sha256: "a".repeat(64),
                        },
                        Evidence {
                            title: "Protokoll".into(),
                            href: "https://dms.example/doc/7".into(),
                            sha256: "0123456789abcdef".repeat(4),
                        },
                    ],
                    assessed_on: Some(date!(2026 - 02 - 15)),
                    review_by: Some(date!(2027 - 02 - 15)),
                    objects: vec![],
                },
                Answer {
                    control_id: "KONF.2.1".into(),
                    status: Status::Teilweise,
                    reason: Some("Nur Server gehärtet".into()),
                    note: None,
                    responsible: None,
                    evidence: vec![],
                    assessed_on: None,
                    review_by: None,
                    objects: vec![
                        ObjectAnswer {
                            object_ref: "obj-17".into(),
                            status: Status::Ja,
                            note: None,
                        },
                        ObjectAnswer {
                            object_ref: "obj-18".into(),
                            status: Status::Nein,
                            note: Some("Altgerät".into()),
                        },
                    ],
                },
                Answer {
                    control_id: "GEB.1.1".into(),
                    status: Status::Entbehrlich,
                    reason: Some("Kein eigener Serverraum".into()),
                    note: None,
                    responsible: None,
                    evidence: vec![],
                    assessed_on: None,
                    review_by: None,
                    objects: vec![],
                },
                Answer {
                    control_id: "DET.1.1".into(),
                    status: Status::Offen,
                    reason: None,
                    note: None,
                    responsible: None,
                    evidence: vec![],
                    assessed_on: None,
                    review_by: None,
                    objects: vec![],
                },
            ],
        }
    }

    #[test]
    fn round_trip_is_lossless_and_stable() {
        let a = sample();
        let json = write(&a).unwrap();
        let back = read(json.as_bytes()).unwrap();
        assert_eq!(back, a);
        assert_eq!(write(&back).unwrap(), json);
        assert!(json.contains("\"oscal-version\": \"1.1.2\""));
    }

    #[test]
    fn validation_names_the_field() {
        let check = |f: fn(&mut Assessment), want: &str| {
            let mut a = sample();
            f(&mut a);
            assert_eq!(write(&a).unwrap_err().to_string(), want);
        };
        check(|a| a.uuid = "x".into(), "uuid: must be a UUID");
        check(
            |a| a.answers[0].evidence[0].sha256 = "ABC".into(),
            "answers[0].evidence[0].sha256: must be 64 lowercase hex digits",
        );
        check(
            |a| a.answers[1].control_id = "ASST.1.1".into(),
            "answers[1].control_id: duplicate answer for ASST.1.1",
        );
        check(
            |a| a.answers[0].responsible = Some("zwei\nZeilen".into()),
            "answers[0].responsible: must be one non-empty line without surrounding spaces",
        );
        check(
            |a| a.answers[0].control_id = "5.1".into(),
            "answers[0].control_id: \"5.1\" is not an OSCAL token",
        );
    }

    #[test]
    fn reading_errors_have_paths() {
        let json = write(&sample())
            .unwrap()
            .replace("\"value\": \"teilweise\"", "\"value\": \"vielleicht\"");
        let e = read(json.as_bytes()).unwrap_err().to_string();
        assert_eq!(
            e,
            "assessment-results.results[0].findings[1].props[0].value: unknown status \"vielleicht\""
        );
        let json = write(&sample())
            .unwrap()
            .replace("2026-02-15", "2026-02-31");
        let e = read(json.as_bytes()).unwrap_err().to_string();
        assert!(
            e.starts_with("assessment-results.results[0].findings[0].props[2].value: not a date"),
            "{e}"
        );
    }

    #[test]
    fn derived_uuids_have_version_5_layout() {
        let u = derived_uuid("s", &["a"]);
        assert!(is_uuid(&u));
        assert_eq!(&u[14..15], "5");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(u, derived_uuid("s", &["b"]));
    }
}
