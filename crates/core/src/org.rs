//! Organisations: the Verbund, its security office, member towns, the county administration and
//! towns that belong to no Verbund.

use crate::validate::{self, FieldErrors};
use crate::{DomainError, OrgId, VerbundId};
use serde::{Deserialize, Serialize};

/// The legal form of an organisation, as the municipal world names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OrgKind {
    Gemeinde,
    Stadt,
    Kreis,
    Zweckverband,
    Eigenbetrieb,
}

impl OrgKind {
    pub const ALL: [OrgKind; 5] = [
        OrgKind::Gemeinde,
        OrgKind::Stadt,
        OrgKind::Kreis,
        OrgKind::Zweckverband,
        OrgKind::Eigenbetrieb,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Gemeinde => "gemeinde",
            OrgKind::Stadt => "stadt",
            OrgKind::Kreis => "kreis",
            OrgKind::Zweckverband => "zweckverband",
            OrgKind::Eigenbetrieb => "eigenbetrieb",
        }
    }
    pub fn parse(s: &str) -> Option<OrgKind> {
        OrgKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// i18n key of the kind's display name.
    pub fn label_key(self) -> &'static str {
        match self {
            OrgKind::Gemeinde => "kind.gemeinde",
            OrgKind::Stadt => "kind.stadt",
            OrgKind::Kreis => "kind.kreis",
            OrgKind::Zweckverband => "kind.zweckverband",
            OrgKind::Eigenbetrieb => "kind.eigenbetrieb",
        }
    }
}

/// Amtlicher Gemeindeschlüssel: 8 digits — Land (01–16), Regierungsbezirk, Kreis, Gemeinde.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ags(String);

impl Ags {
    /// Accepts the key with or without the spaces people put between its parts ("03 9 99 001").
    pub fn parse(input: &str) -> Result<Ags, &'static str> {
        let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() != 8 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err("err.ags_format");
        }
        let land: u32 = digits[..2].parse().map_err(|_| "err.ags_format")?;
        if !(1..=16).contains(&land) {
            return Err("err.ags_land");
        }
        Ok(Ags(digits))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A Verbund: the towns one inter-municipal security office serves. Verbünde are isolated from
/// each other even on one installation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Verbund {
    pub id: VerbundId,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Organisation {
    pub id: OrgId,
    pub verbund_id: Option<VerbundId>,
    pub name: String,
    pub kind: OrgKind,
    /// True for the Verbund's security office, whose officers see every member.
    pub is_office: bool,
    pub ags: Option<String>,
    pub inhabitants: Option<i64>,
    pub staff: Option<i64>,
    pub workstations: Option<i64>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
}

/// What a form or API call submits to create or change an organisation, before validation.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct OrganisationInput {
    pub name: String,
    pub kind: String,
    pub ags: Option<String>,
    pub inhabitants: Option<String>,
    pub staff: Option<String>,
    pub workstations: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    /// Only on creation: the Verbund the organisation joins; empty for a town without Verbund.
    pub verbund_id: Option<String>,
}

/// A validated organisation record, ready to be stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrganisationData {
    pub name: String,
    pub kind: OrgKind,
    pub ags: Option<String>,
    pub inhabitants: Option<i64>,
    pub staff: Option<i64>,
    pub workstations: Option<i64>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
}

impl OrganisationInput {
    pub fn validate(&self) -> Result<OrganisationData, DomainError> {
        let mut e = FieldErrors::default();
        let name = validate::required_text(&mut e, "name", &self.name, 120);
        let kind = OrgKind::parse(self.kind.trim());
        if kind.is_none() {
            e.add("kind", "err.choose_one");
        }
        let ags = match self.ags.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(raw) => match Ags::parse(raw) {
                Ok(a) => Some(a.0),
                Err(msg) => {
                    e.add("ags", msg);
                    None
                }
            },
        };
        let inhabitants = validate::optional_count(
            &mut e,
            "inhabitants",
            self.inhabitants.as_deref(),
            5_000_000,
        );
        let staff = validate::optional_count(&mut e, "staff", self.staff.as_deref(), 1_000_000);
        let workstations = validate::optional_count(
            &mut e,
            "workstations",
            self.workstations.as_deref(),
            1_000_000,
        );
        let email = self
            .email
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|raw| validate::email(&mut e, "email", raw));
        let phone = validate::optional_text(&mut e, "phone", self.phone.as_deref(), 40);
        if let Some(p) = &phone {
            if !p
                .chars()
                .all(|c| c.is_ascii_digit() || " +-/()".contains(c))
            {
                e.add("phone", "err.phone");
            }
        }
        let address = validate::optional_text(&mut e, "address", self.address.as_deref(), 200);
        let kind = kind.unwrap_or(OrgKind::Gemeinde);
        e.into_result(OrganisationData {
            name,
            kind,
            ags,
            inhabitants,
            staff,
            workstations,
            email,
            phone,
            address,
        })
    }
}

/// A contact person of an organisation (Bürgermeisterin, IT-Leitung, Datenschutzbeauftragter …).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Contact {
    pub id: crate::ContactId,
    pub organisation_id: OrgId,
    /// The function the person holds, e.g. "Hauptamtsleitung".
    pub function: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ContactInput {
    pub function: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactData {
    pub function: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

impl ContactInput {
    pub fn validate(&self) -> Result<ContactData, DomainError> {
        let mut e = FieldErrors::default();
        let function = validate::required_text(&mut e, "function", &self.function, 80);
        let name = validate::required_text(&mut e, "name", &self.name, 120);
        let email = self
            .email
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|raw| validate::email(&mut e, "email", raw));
        let phone = validate::optional_text(&mut e, "phone", self.phone.as_deref(), 40);
        if let Some(p) = &phone {
            if !p
                .chars()
                .all(|c| c.is_ascii_digit() || " +-/()".contains(c))
            {
                e.add("phone", "err.phone");
            }
        }
        e.into_result(ContactData {
            function,
            name,
            email,
            phone,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<&str, &str>) {
        assert_eq!(
            Ags::parse(input).map(|a| a.0),
            expected.map(str::to_string),
            "{input}"
        );
    }

    #[test]
    fn ags() {
        check("03999001", Ok("03999001"));
        check("03 9 99 001", Ok("03999001"));
        check("0399900", Err("err.ags_format"));
        check("0399900a", Err("err.ags_format"));
        check("17999001", Err("err.ags_land"));
        check("00999001", Err("err.ags_land"));
    }

    #[test]
    fn organisation_validation_names_each_field() {
        let input = OrganisationInput {
            name: " ".into(),
            kind: "dorf".into(),
            ags: Some("12".into()),
            inhabitants: Some("viele".into()),
            email: Some("rathaus".into()),
            phone: Some("0800 CALL".into()),
            ..Default::default()
        };
        let Err(DomainError::Invalid(e)) = input.validate() else {
            unreachable!("must fail")
        };
        assert_eq!(e.get("name"), Some("err.required"));
        assert_eq!(e.get("kind"), Some("err.choose_one"));
        assert_eq!(e.get("ags"), Some("err.ags_format"));
        assert_eq!(e.get("inhabitants"), Some("err.not_a_number"));
        assert_eq!(e.get("email"), Some("err.email"));
        assert_eq!(e.get("phone"), Some("err.phone"));
    }

    #[test]
    fn organisation_validation_accepts_a_town() {
        let input = OrganisationInput {
            name: "Stadt Lindenhain".into(),
            kind: "stadt".into(),
            ags: Some("03 9 99 004".into()),
            inhabitants: Some("23.410".into()),
            staff: Some("310".into()),
            workstations: Some("".into()),
            ..Default::default()
        };
        let d = input.validate().ok();
        assert_eq!(d.as_ref().map(|d| d.inhabitants), Some(Some(23410)));
        assert_eq!(
            d.as_ref().and_then(|d| d.ags.clone()).as_deref(),
            Some("03999004")
        );
    }
}
