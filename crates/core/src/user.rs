//! Users and their roles per organisation.

use crate::validate::{self, FieldErrors};
use crate::{DomainError, MembershipId, OrgId, Timestamp, UserId};
use serde::{Deserialize, Serialize};

/// What a person does for an organisation. The role decides the [`crate::Access`] they get.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Informationssicherheitsbeauftragte(r) of the Verbund's office: writes in every member.
    OfficeOfficer,
    /// The town's coordinator: writes everything of the own town.
    Coordinator,
    /// IT staff of the town: writes the technical records of the own town.
    ItStaff,
    /// Reads the own town's dashboard and reports only (mayor's office, council members).
    Reader,
    /// Reads everything of the organisation (or, on the office, of the whole Verbund), until a date.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::OfficeOfficer,
        Role::Coordinator,
        Role::ItStaff,
        Role::Reader,
        Role::Auditor,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Role::OfficeOfficer => "office_officer",
            Role::Coordinator => "coordinator",
            Role::ItStaff => "it_staff",
            Role::Reader => "reader",
            Role::Auditor => "auditor",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
    pub fn label_key(self) -> &'static str {
        match self {
            Role::OfficeOfficer => "role.office_officer",
            Role::Coordinator => "role.coordinator",
            Role::ItStaff => "role.it_staff",
            Role::Reader => "role.reader",
            Role::Auditor => "role.auditor",
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub is_admin: bool,
    pub totp_enabled: bool,
    pub language: String,
    pub disabled: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Membership {
    pub id: MembershipId,
    pub user_id: UserId,
    pub organisation_id: OrgId,
    pub organisation_name: String,
    pub role: Role,
    /// After this instant the membership grants nothing (auditors are always time-limited).
    pub valid_until: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct UserInput {
    pub email: String,
    pub display_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserData {
    pub email: String,
    pub display_name: String,
}

impl UserInput {
    pub fn validate(&self) -> Result<UserData, DomainError> {
        let mut e = FieldErrors::default();
        let email = validate::email(&mut e, "email", &self.email);
        let display_name = validate::required_text(&mut e, "display_name", &self.display_name, 120);
        e.into_result(UserData {
            email,
            display_name,
        })
    }
}

/// A role to grant: which organisation, which role, until when.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct MembershipInput {
    pub organisation_id: String,
    pub role: String,
    /// ISO date (YYYY-MM-DD); required for auditors.
    pub valid_until: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MembershipData {
    pub organisation_id: OrgId,
    pub role: Role,
    pub valid_until: Option<Timestamp>,
}

impl MembershipInput {
    /// `org_is_office` tells whether the chosen organisation is a Verbund office: only there can
    /// someone be an office security officer.
    pub fn validate(
        &self,
        org_is_office: impl Fn(OrgId) -> Option<bool>,
        now: Timestamp,
    ) -> Result<MembershipData, DomainError> {
        let mut e = FieldErrors::default();
        let org = self.organisation_id.trim().parse::<i64>().ok().map(OrgId);
        let office = org.and_then(&org_is_office);
        if office.is_none() {
            e.add("organisation_id", "err.choose_one");
        }
        let role = Role::parse(self.role.trim());
        match role {
            None => e.add("role", "err.choose_one"),
            Some(Role::OfficeOfficer) if office == Some(false) => {
                e.add("role", "err.office_role_needs_office")
            }
            _ => {}
        }
        let valid_until = match self
            .valid_until
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(raw) => match parse_date_end_of_day(raw) {
                Some(ts) if ts > now => Some(ts),
                Some(_) => {
                    e.add("valid_until", "err.date_in_past");
                    None
                }
                None => {
                    e.add("valid_until", validate::date_error(raw, "err.date_format"));
                    None
                }
            },
        };
        if role == Some(Role::Auditor) && valid_until.is_none() && e.get("valid_until").is_none() {
            e.add("valid_until", "err.auditor_needs_end");
        }
        e.into_result(MembershipData {
            organisation_id: org.unwrap_or(OrgId(0)),
            role: role.unwrap_or(Role::Reader),
            valid_until,
        })
    }
}

/// Parses `YYYY-MM-DD` (the value of an HTML date input) into the last second of that day, UTC.
pub fn parse_date_end_of_day(raw: &str) -> Option<Timestamp> {
    let mut parts = raw.split('-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || !(1970..=9999).contains(&y) || !(1..=12).contains(&m) {
        return None;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in_month = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if d < 1 || d > days_in_month[(m - 1) as usize] {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86_400 + 86_399)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date_end_of_day("1970-01-01"), Some(86_399));
        assert_eq!(
            parse_date_end_of_day("2024-02-29").map(|t| t / 86_400),
            Some(19_782)
        );
        assert_eq!(parse_date_end_of_day("2023-02-29"), None);
        assert_eq!(parse_date_end_of_day("2024-13-01"), None);
        assert_eq!(parse_date_end_of_day("01.02.2024"), None);
    }

    #[test]
    fn auditor_must_be_time_limited_and_officer_needs_office() {
        let office = |id: OrgId| Some(id.0 == 1);
        let input = MembershipInput {
            organisation_id: "2".into(),
            role: "auditor".into(),
            valid_until: None,
        };
        let Err(DomainError::Invalid(e)) = input.validate(office, 0) else {
            unreachable!()
        };
        assert_eq!(e.get("valid_until"), Some("err.auditor_needs_end"));
        let input = MembershipInput {
            organisation_id: "2".into(),
            role: "office_officer".into(),
            valid_until: None,
        };
        let Err(DomainError::Invalid(e)) = input.validate(office, 0) else {
            unreachable!()
        };
        assert_eq!(e.get("role"), Some("err.office_role_needs_office"));
        let input = MembershipInput {
            organisation_id: "1".into(),
            role: "office_officer".into(),
            valid_until: None,
        };
        assert!(input.validate(office, 0).is_ok());
        let input = MembershipInput {
            organisation_id: "99".into(),
            role: "reader".into(),
            valid_until: None,
        };
        assert!(input.validate(|_| None, 0).is_err());
    }
}
