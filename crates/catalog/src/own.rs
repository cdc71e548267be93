//! The office's own requirements ("eigene Anforderungen"): what a Verbund adds to its uniform
//! target beyond the catalog (say, "every town reports incidents to the office within 24 hours").
//! They are answered, scored and planned exactly like catalog requirements, so they are turned
//! into a [`Requirement`] with the same fields the catalog's requirements have.

use crate::applicability::CATEGORY_KINDS;
use crate::catalog::{ModalVerb, Requirement, SecLevel};
use serde::{Deserialize, Serialize};

/// An own requirement as the office wrote it (checked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnRequirement {
    /// The identifier answers are keyed by (`VB.1`); never one of a shipped catalog.
    pub code: String,
    /// The practice (Praktik) it belongs to, so it appears in that column of the heatmap.
    pub practice: String,
    pub title: String,
    pub statement: String,
    pub guidance: Option<String>,
    pub sec_level: SecLevel,
    pub effort_level: u8,
    /// A target object category (as in [`CATEGORY_KINDS`]); `None`: the town as a whole.
    pub target_category: Option<String>,
}

/// The form's fields, as typed (a missing field is empty, and refused by [`Self::check`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct OwnRequirementInput {
    pub code: String,
    pub practice: String,
    pub title: String,
    pub statement: String,
    pub guidance: String,
    pub sec_level: String,
    pub effort_level: String,
    pub target_category: String,
}

/// A field that was refused: `(field, i18n key)`.
pub type FieldProblem = (&'static str, &'static str);

impl OwnRequirementInput {
    /// Checks every field; `practices` are the practice ids one may choose, `taken` says whether
    /// a code is already a catalog requirement's id.
    pub fn check(
        &self,
        practices: &[&str],
        taken: impl Fn(&str) -> bool,
    ) -> Result<OwnRequirement, Vec<FieldProblem>> {
        let mut errs = Vec::new();
        let code = self.code.trim();
        if code.is_empty() {
            errs.push(("code", "err.required"));
        } else if code.chars().count() > 40
            || !code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        {
            errs.push(("code", "sec.own.err.code_chars"));
        } else if taken(code) {
            errs.push(("code", "sec.own.err.code_catalog"));
        }
        let practice = self.practice.trim();
        if !practices.contains(&practice) {
            errs.push(("practice", "err.choose_one"));
        }
        let title = self.title.trim();
        if title.is_empty() {
            errs.push(("title", "err.required"));
        } else if title.chars().count() > 200 {
            errs.push(("title", "err.too_long"));
        }
        let statement = self.statement.trim();
        if statement.is_empty() {
            errs.push(("statement", "err.required"));
        } else if statement.chars().count() > 4000 {
            errs.push(("statement", "err.too_long"));
        }
        let guidance = self.guidance.trim();
        if guidance.chars().count() > 8000 {
            errs.push(("guidance", "err.too_long"));
        }
        let sec_level = SecLevel::parse(&self.sec_level);
        if sec_level.is_none() {
            errs.push(("sec_level", "err.choose_one"));
        }
        let effort = self
            .effort_level
            .trim()
            .parse::<u8>()
            .ok()
            .filter(|e| *e <= 5);
        if effort.is_none() {
            errs.push(("effort_level", "sec.own.err.effort"));
        }
        let category = self.target_category.trim();
        if !category.is_empty() && !CATEGORY_KINDS.iter().any(|(n, _)| *n == category) {
            errs.push(("target_category", "err.choose_one"));
        }
        match (sec_level, effort) {
            (Some(sec_level), Some(effort_level)) if errs.is_empty() => Ok(OwnRequirement {
                code: code.to_string(),
                practice: practice.to_string(),
                title: title.to_string(),
                statement: statement.to_string(),
                guidance: (!guidance.is_empty()).then(|| guidance.to_string()),
                sec_level,
                effort_level,
                target_category: (!category.is_empty()).then(|| category.to_string()),
            }),
            _ => Err(errs),
        }
    }
}

impl OwnRequirement {
    /// The requirement as the assessment sees it: binding (MUSS), in the chosen practice, about
    /// the chosen object category or the whole town.
    pub fn to_requirement(&self) -> Requirement {
        Requirement {
            id: self.code.clone(),
            alt_id: None,
            practice: self.practice.clone(),
            topic: None,
            parent: None,
            class: Some("verbund".into()),
            title: self.title.clone(),
            statement: self.statement.clone(),
            guidance: self.guidance.clone(),
            sec_level: Some(self.sec_level),
            effort_level: Some(self.effort_level),
            tags: vec![],
            modal_verb: Some(ModalVerb::Muss),
            action_word: None,
            target_categories: self.target_category.iter().cloned().collect(),
            documentation: vec![],
            params: vec![],
            relations: vec![],
            other_props: vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::applicability::{concern, Concern};

    fn input() -> OwnRequirementInput {
        OwnRequirementInput {
            code: "VB.1".into(),
            practice: "DET".into(),
            title: "Meldung an die Informationssicherheitsstelle".into(),
            statement: "Sicherheitsvorfälle MÜSSEN binnen 24 Stunden gemeldet werden.".into(),
            guidance: String::new(),
            sec_level: "normal-SdT".into(),
            effort_level: "1".into(),
            target_category: String::new(),
        }
    }

    #[test]
    fn a_good_requirement_is_taken_and_concerns_the_town() {
        let r = input().check(&["DET"], |_| false).unwrap();
        assert_eq!(r.code, "VB.1");
        let req = r.to_requirement();
        assert_eq!(concern(&req), Concern::Organisation);
        assert_eq!(req.sec_level, Some(SecLevel::NormalSdt));
    }

    #[test]
    fn a_category_makes_it_about_objects() {
        let mut i = input();
        i.target_category = "IT-Systeme".into();
        let req = i.check(&["DET"], |_| false).unwrap().to_requirement();
        assert!(matches!(concern(&req), Concern::Objects(_)));
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = OwnRequirementInput {
            code: "VB 1;".into(),
            practice: "XYZ".into(),
            title: " ".into(),
            statement: String::new(),
            guidance: String::new(),
            sec_level: "mittel".into(),
            effort_level: "9".into(),
            target_category: "Raumschiffe".into(),
        };
        let errs = bad.check(&["DET"], |_| false).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.0).collect();
        assert_eq!(
            fields,
            [
                "code",
                "practice",
                "title",
                "statement",
                "sec_level",
                "effort_level",
                "target_category"
            ]
        );
    }

    #[test]
    fn a_catalog_id_cannot_be_taken() {
        let errs = input().check(&["DET"], |c| c == "VB.1").unwrap_err();
        assert_eq!(errs, vec![("code", "sec.own.err.code_catalog")]);
    }
}
