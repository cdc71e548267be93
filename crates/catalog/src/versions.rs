//! Moving a town's answers from one catalog version to the next, imported beside the old one.
//! Answers follow the control's stable identifier (its id; failing that its `alt-identifier`
//! UUID, which Grundschutz++ keeps when a control is renumbered). A changed statement — the text
//! that was answered — flags the answer "review"; title or guidance changes alone do not.

use crate::catalog::{Catalog, Requirement};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What changed in a requirement between two versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Statement,
    Params,
    Title,
    Guidance,
    SecLevel,
    EffortLevel,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Diff {
    /// Same id (or same alt-identifier under a new id); `changes` may be empty.
    Kept {
        old_id: String,
        new_id: String,
        changes: Vec<Change>,
        /// The answer carries over but must be looked at again.
        review: bool,
    },
    Removed {
        old_id: String,
    },
    Added {
        new_id: String,
    },
}

/// Whitespace differences are not text changes.
fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn changes(a: &Requirement, b: &Requirement) -> Vec<Change> {
    let mut out = vec![];
    if norm(&a.statement) != norm(&b.statement) {
        out.push(Change::Statement);
    }
    let labels = |r: &Requirement| -> Vec<(String, Option<String>)> {
        r.params
            .iter()
            .map(|p| (p.id.clone(), p.label.clone()))
            .collect()
    };
    if labels(a) != labels(b) {
        out.push(Change::Params);
    }
    if norm(&a.title) != norm(&b.title) {
        out.push(Change::Title);
    }
    if a.guidance.as_deref().map(norm) != b.guidance.as_deref().map(norm) {
        out.push(Change::Guidance);
    }
    if a.sec_level != b.sec_level {
        out.push(Change::SecLevel);
    }
    if a.effort_level != b.effort_level {
        out.push(Change::EffortLevel);
    }
    out
}

/// Compares two versions of a catalog: one entry per old requirement (kept or removed), then one
/// per new requirement nobody carried over (added).
pub fn diff(old: &Catalog, new: &Catalog) -> Vec<Diff> {
    let new_by_alt: HashMap<&str, &Requirement> = new
        .requirements
        .iter()
        .filter_map(|r| r.alt_id.as_deref().map(|a| (a, r)))
        .collect();
    let mut taken: HashMap<&str, ()> = HashMap::new();
    let mut out = vec![];
    for o in &old.requirements {
        let matched = new.get(&o.id).or_else(|| {
            o.alt_id
                .as_deref()
                .and_then(|a| new_by_alt.get(a).copied())
                // A renumbered control only counts if its new id was not itself in the old catalog.
                .filter(|n| old.get(&n.id).is_none())
        });
        match matched {
            Some(n) => {
                taken.insert(&n.id, ());
                let changes = changes(o, n);
                let review = changes
                    .iter()
                    .any(|c| matches!(c, Change::Statement | Change::Params | Change::SecLevel));
                out.push(Diff::Kept {
                    old_id: o.id.clone(),
                    new_id: n.id.clone(),
                    changes,
                    review,
                });
            }
            None => out.push(Diff::Removed {
                old_id: o.id.clone(),
            }),
        }
    }
    for n in &new.requirements {
        if !taken.contains_key(n.id.as_str()) {
            out.push(Diff::Added {
                new_id: n.id.clone(),
            });
        }
    }
    out
}

/// What happens to one existing answer when the town moves to the new version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CarryOver {
    Keep {
        old_id: String,
        new_id: String,
    },
    Review {
        old_id: String,
        new_id: String,
        changes: Vec<Change>,
    },
    /// The requirement is gone; the answer stays attached to the old version only.
    Orphaned {
        old_id: String,
    },
}

/// Plans the carry-over of answers given for `answered` ids of `old`.
pub fn carry_over<'a>(
    old: &Catalog,
    new: &Catalog,
    answered: impl IntoIterator<Item = &'a str>,
) -> Vec<CarryOver> {
    let d = diff(old, new);
    let by_old: HashMap<&str, &Diff> = d
        .iter()
        .filter_map(|x| match x {
            Diff::Kept { old_id, .. } | Diff::Removed { old_id } => Some((old_id.as_str(), x)),
            Diff::Added { .. } => None,
        })
        .collect();
    answered
        .into_iter()
        .map(|id| match by_old.get(id) {
            Some(Diff::Kept {
                old_id,
                new_id,
                changes,
                review: true,
            }) => CarryOver::Review {
                old_id: old_id.clone(),
                new_id: new_id.clone(),
                changes: changes.clone(),
            },
            Some(Diff::Kept { old_id, new_id, .. }) => CarryOver::Keep {
                old_id: old_id.clone(),
                new_id: new_id.clone(),
            },
            _ => CarryOver::Orphaned {
                old_id: id.to_string(),
            },
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn cat(controls: &[(&str, &str, &str, &str)]) -> Catalog {
        // (id, alt-identifier, statement, guidance)
        let cs: Vec<String> = controls
            .iter()
            .map(|(id, alt, stm, gdn)| {
                format!(
                    r#"{{"id":"{id}","title":"t","props":[{{"name":"alt-identifier","value":"{alt}"}}],"parts":[{{"name":"statement","prose":"{stm}"}},{{"name":"guidance","prose":"{gdn}"}}]}}"#
                )
            })
            .collect();
        let json = format!(
            r#"{{"catalog":{{"uuid":"u","metadata":{{"title":"T","version":"1","oscal-version":"1.1.2"}},"controls":[{}]}}}}"#,
            cs.join(",")
        );
        Catalog::from_json(json.as_bytes(), "c.json").unwrap()
    }

    #[test]
    fn carry_over_by_id_and_alt_identifier() {
        let old = cat(&[
            ("A.1", "u1", "X MUSS a.", "g"),
            ("A.2", "u2", "X MUSS b.", "g"),
            ("A.3", "u3", "X MUSS c.", "g"),
            ("A.4", "u4", "X MUSS d.", "g"),
        ]);
        let new = cat(&[
            ("A.1", "u1", "X  MUSS a.", "neu"), // whitespace + guidance: keep
            ("A.2", "u2", "X SOLLTE b.", "g"),  // statement changed: review
            ("B.9", "u3", "X MUSS c.", "g"),    // renumbered
            ("A.5", "u5", "neu", "g"),          // added; A.4 removed
        ]);
        let plan = carry_over(&old, &new, ["A.1", "A.2", "A.3", "A.4"]);
        assert_eq!(
            plan,
            [
                CarryOver::Keep {
                    old_id: "A.1".into(),
                    new_id: "A.1".into()
                },
                CarryOver::Review {
                    old_id: "A.2".into(),
                    new_id: "A.2".into(),
                    changes: vec![Change::Statement]
                },
                CarryOver::Keep {
                    old_id: "A.3".into(),
                    new_id: "B.9".into()
                },
                CarryOver::Orphaned {
                    old_id: "A.4".into()
                },
            ]
        );
        let d = diff(&old, &new);
        assert_eq!(
            d.last(),
            Some(&Diff::Added {
                new_id: "A.5".into()
            })
        );
        assert!(
            matches!(&d[0], Diff::Kept { changes, review: false, .. } if changes == &[Change::Guidance])
        );
    }
}
