//! What a user may see and change: the one place that turns roles into rights.
//!
//! A [`Scope`] is resolved once per request from the user's memberships. Every store method takes
//! `&Scope`, so a query that forgets the tenant boundary does not compile.

use crate::user::Role;
use crate::{DomainError, OrgId, Timestamp, UserId, VerbundId};
use std::collections::{BTreeMap, BTreeSet};

/// How far a user may go with one organisation. Ordered: a higher level includes the lower ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// The dashboard and reports only.
    Reports,
    /// Every record, read-only.
    Read,
    /// Read everything, write the technical records (systems, software, backups).
    WriteTechnical,
    /// Read and write everything, manage the organisation's users.
    Write,
}

/// Who owns data that several towns share: the product aliases of the update watch and imported
/// catalogs, profiles and mapping collections. A Verbund's data is seen by its members only and
/// changed by its office officers; the installation's is seen by everyone and changed by
/// administrators only. The feeds themselves (KEV, endoflife.date, CSAF) are public data owned by
/// the installation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "owner", content = "verbund_id")]
pub enum Owner {
    Installation,
    Verbund(VerbundId),
}

impl Owner {
    /// The owner as stored: `NULL` for the installation, else the Verbund's id.
    pub fn verbund(self) -> Option<VerbundId> {
        match self {
            Owner::Installation => None,
            Owner::Verbund(v) => Some(v),
        }
    }

    pub fn of(verbund: Option<VerbundId>) -> Owner {
        verbund.map_or(Owner::Installation, Owner::Verbund)
    }
}

/// An organisation as scope resolution needs to know it.
#[derive(Debug, Clone, Copy)]
pub struct OrgRef {
    pub id: OrgId,
    pub verbund_id: Option<VerbundId>,
    pub is_office: bool,
}

/// One membership as scope resolution needs to know it.
#[derive(Debug, Clone, Copy)]
pub struct Grant {
    pub organisation_id: OrgId,
    pub role: Role,
    pub valid_until: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub user: UserId,
    /// The user's display name, recorded as the actor of every change.
    pub name: String,
    /// Installation administrator: every Verbund, every organisation.
    pub admin: bool,
    /// Token restricted to reading, whatever the user's roles.
    pub read_only: bool,
    orgs: BTreeMap<OrgId, Access>,
    /// Verbünde whose membership the user manages (office officers, administrators).
    verbuende: BTreeSet<VerbundId>,
    /// Verbünde with at least one organisation the user sees: their shared data is visible.
    member_of: BTreeSet<VerbundId>,
}

impl Scope {
    /// Resolves the rights of a user from their memberships.
    ///
    /// `orgs` must list every organisation of the installation; it is how a role on an office
    /// reaches the other members of the same Verbund.
    pub fn resolve(
        user: UserId,
        admin: bool,
        grants: &[Grant],
        orgs: &[OrgRef],
        now: Timestamp,
    ) -> Scope {
        let mut scope = Scope {
            user,
            name: String::new(),
            admin,
            read_only: false,
            orgs: BTreeMap::new(),
            verbuende: BTreeSet::new(),
            member_of: BTreeSet::new(),
        };
        if admin {
            for o in orgs {
                scope.raise(o, Access::Write);
                if let Some(v) = o.verbund_id {
                    scope.verbuende.insert(v);
                }
            }
            return scope;
        }
        let by_id: BTreeMap<OrgId, &OrgRef> = orgs.iter().map(|o| (o.id, o)).collect();
        for g in grants {
            if g.valid_until.is_some_and(|until| until < now) {
                continue;
            }
            let Some(org) = by_id.get(&g.organisation_id) else {
                continue;
            };
            let access = match g.role {
                Role::OfficeOfficer | Role::Coordinator => Access::Write,
                Role::ItStaff => Access::WriteTechnical,
                Role::Auditor => Access::Read,
                Role::Reader => Access::Reports,
            };
            // A role held at the office reaches every organisation of its Verbund; the office's own
            // IT staff and coordinator stay within the office.
            let whole_verbund = org.is_office
                && matches!(g.role, Role::OfficeOfficer | Role::Auditor | Role::Reader);
            match (whole_verbund, org.verbund_id) {
                (true, Some(v)) => {
                    if g.role == Role::OfficeOfficer {
                        scope.verbuende.insert(v);
                    }
                    for o in orgs.iter().filter(|o| o.verbund_id == Some(v)) {
                        scope.raise(o, access);
                    }
                }
                _ => scope.raise(org, access),
            }
        }
        scope
    }

    /// Sets the name recorded as the actor of changes.
    pub fn named(mut self, name: impl Into<String>) -> Scope {
        self.name = name.into();
        self
    }

    /// The scope of the command line and the demo loader: everything, acting as `name`.
    pub fn system(orgs: &[OrgRef], name: &str) -> Scope {
        Scope::resolve(UserId(0), true, &[], orgs, 0).named(name)
    }

    fn raise(&mut self, org: &OrgRef, access: Access) {
        let e = self.orgs.entry(org.id).or_insert(access);
        if *e < access {
            *e = access;
        }
        if let Some(v) = org.verbund_id {
            self.member_of.insert(v);
        }
    }

    /// The same scope, limited to reading (for read-only API tokens).
    pub fn into_read_only(mut self) -> Scope {
        self.read_only = true;
        for a in self.orgs.values_mut() {
            if *a > Access::Read {
                *a = Access::Read;
            }
        }
        self.verbuende.clear();
        self.admin = false;
        self
    }

    /// The user's level for one organisation, if any.
    pub fn access(&self, org: OrgId) -> Option<Access> {
        self.orgs.get(&org).copied()
    }

    pub fn can(&self, org: OrgId, need: Access) -> bool {
        self.access(org).is_some_and(|a| a >= need)
    }

    /// The access rule: may the user do what `need` allows in `org`? An organisation the user does
    /// not see at all reads as "not found" (its existence is not revealed); one the user sees
    /// without the right — or through a read-only token, whose levels stop at `Read` — as
    /// "forbidden". Store methods and handlers call this before they read any input.
    pub fn require(&self, org: OrgId, need: Access) -> Result<(), DomainError> {
        match self.access(org) {
            None => Err(DomainError::NotFound),
            Some(a) if a < need || (self.read_only && need > Access::Read) => {
                Err(DomainError::Forbidden)
            }
            Some(_) => Ok(()),
        }
    }

    /// [`Scope::require`] as a yes/no, for what a page offers (buttons, forms).
    pub fn may(&self, org: OrgId, need: Access) -> bool {
        self.require(org, need).is_ok()
    }

    /// May the user add an organisation to this Verbund (its managers) or outside any Verbund
    /// (administrators)?
    pub fn require_create_org(&self, verbund: Option<VerbundId>) -> Result<(), DomainError> {
        let allowed = match verbund {
            Some(v) => self.manages_verbund(v),
            None => self.admin && !self.read_only,
        };
        if allowed {
            Ok(())
        } else {
            Err(DomainError::Forbidden)
        }
    }

    /// Does the user see anything of this Verbund (and so its shared data)?
    pub fn sees_verbund(&self, v: VerbundId) -> bool {
        self.admin || self.member_of.contains(&v)
    }

    /// May the user see shared data of this owner?
    pub fn sees_shared(&self, owner: Owner) -> bool {
        match owner {
            Owner::Installation => true,
            Owner::Verbund(v) => self.sees_verbund(v),
        }
    }

    /// May the user change or delete shared data of this owner? Installation data: administrators;
    /// a Verbund's: its office officers (and administrators). Unseen data reads as "not found".
    pub fn require_shared(&self, owner: Owner) -> Result<(), DomainError> {
        if !self.sees_shared(owner) {
            return Err(DomainError::NotFound);
        }
        let may = !self.read_only
            && match owner {
                Owner::Installation => self.admin,
                Owner::Verbund(v) => self.manages_verbund(v),
            };
        if may {
            Ok(())
        } else {
            Err(DomainError::Forbidden)
        }
    }

    /// The owners whose shared data the user sees: the installation and the user's Verbünde
    /// (every Verbund for administrators).
    pub fn shared_owners(&self) -> Vec<Owner> {
        let mut out = vec![Owner::Installation];
        let vs: &BTreeSet<VerbundId> = if self.admin {
            &self.verbuende
        } else {
            &self.member_of
        };
        out.extend(vs.iter().map(|v| Owner::Verbund(*v)));
        out
    }

    /// The owners whose shared data the user may change (what an "add" form offers).
    pub fn shared_owners_managed(&self) -> Vec<Owner> {
        self.shared_owners()
            .into_iter()
            .filter(|o| self.require_shared(*o).is_ok())
            .collect()
    }

    /// Organisations the user may see at all (at least reports).
    pub fn visible(&self) -> impl Iterator<Item = OrgId> + '_ {
        self.orgs.keys().copied()
    }

    /// Organisations where the user has at least `need`.
    pub fn with(&self, need: Access) -> Vec<OrgId> {
        self.orgs
            .iter()
            .filter(|(_, a)| **a >= need)
            .map(|(o, _)| *o)
            .collect()
    }

    /// May the user add members to, or change the settings of, this Verbund?
    pub fn manages_verbund(&self, v: VerbundId) -> bool {
        !self.read_only && (self.admin || self.verbuende.contains(&v))
    }

    pub fn managed_verbuende(&self) -> impl Iterator<Item = VerbundId> + '_ {
        self.verbuende.iter().copied()
    }

    /// May the user grant `role` in `org`? Coordinators grant roles in their own town; only those who
    /// manage a Verbund appoint office officers or auditors for the whole Verbund.
    pub fn may_grant(&self, org: &OrgRef, role: Role) -> bool {
        if self.read_only || !self.can(org.id, Access::Write) {
            return false;
        }
        if self.admin {
            return true;
        }
        let manages = org.verbund_id.is_some_and(|v| self.verbuende.contains(&v));
        match role {
            Role::OfficeOfficer => manages,
            Role::Auditor | Role::Reader if org.is_office => manages,
            _ => true,
        }
    }

    /// May the user manage another user (name, password, second factor, roles) who holds these
    /// memberships? Only if every one of them lies within the user's write scope, so that a town's
    /// coordinator cannot take over an office officer who also holds a role in the town.
    pub fn may_manage_user(&self, target_is_admin: bool, target_orgs: &[OrgId]) -> bool {
        if self.read_only {
            return false;
        }
        if self.admin {
            return true;
        }
        !target_is_admin
            && !target_orgs.is_empty()
            && target_orgs.iter().all(|o| self.can(*o, Access::Write))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn orgs() -> Vec<OrgRef> {
        let v1 = Some(VerbundId(1));
        let v2 = Some(VerbundId(2));
        vec![
            OrgRef {
                id: OrgId(1),
                verbund_id: v1,
                is_office: true,
            },
            OrgRef {
                id: OrgId(2),
                verbund_id: v1,
                is_office: false,
            },
            OrgRef {
                id: OrgId(3),
                verbund_id: v1,
                is_office: false,
            },
            OrgRef {
                id: OrgId(4),
                verbund_id: v2,
                is_office: true,
            },
            OrgRef {
                id: OrgId(5),
                verbund_id: v2,
                is_office: false,
            },
            OrgRef {
                id: OrgId(6),
                verbund_id: None,
                is_office: false,
            },
        ]
    }

    fn grant(org: i64, role: Role) -> Grant {
        Grant {
            organisation_id: OrgId(org),
            role,
            valid_until: None,
        }
    }

    fn check(grants: &[Grant], now: Timestamp, expected: &[(i64, Access)]) {
        let s = Scope::resolve(UserId(9), false, grants, &orgs(), now);
        let got: Vec<(i64, Access)> = s.orgs.iter().map(|(o, a)| (o.0, *a)).collect();
        assert_eq!(got, expected, "{grants:?}");
    }

    #[test]
    fn roles_to_rights() {
        use Access::*;
        check(
            &[grant(1, Role::OfficeOfficer)],
            0,
            &[(1, Write), (2, Write), (3, Write)],
        );
        check(
            &[grant(1, Role::Auditor)],
            0,
            &[(1, Read), (2, Read), (3, Read)],
        );
        check(&[grant(1, Role::ItStaff)], 0, &[(1, WriteTechnical)]);
        check(&[grant(2, Role::Coordinator)], 0, &[(2, Write)]);
        check(&[grant(2, Role::ItStaff)], 0, &[(2, WriteTechnical)]);
        check(&[grant(2, Role::Reader)], 0, &[(2, Reports)]);
        check(&[grant(6, Role::Coordinator)], 0, &[(6, Write)]);
        check(
            &[grant(2, Role::Reader), grant(2, Role::Coordinator)],
            0,
            &[(2, Write)],
        );
        // Expired auditor: nothing.
        let expired = Grant {
            valid_until: Some(10),
            ..grant(2, Role::Auditor)
        };
        check(&[expired], 11, &[]);
        check(&[expired], 10, &[(2, Read)]);
        // Unknown organisation: nothing.
        check(&[grant(77, Role::Coordinator)], 0, &[]);
    }

    #[test]
    fn coordinator_cannot_take_over_office_officer() {
        let s = Scope::resolve(UserId(9), false, &[grant(2, Role::Coordinator)], &orgs(), 0);
        assert!(s.may_manage_user(false, &[OrgId(2)]));
        assert!(!s.may_manage_user(false, &[OrgId(2), OrgId(1)]));
        assert!(!s.may_manage_user(true, &[OrgId(2)]));
        assert!(!s.may_manage_user(false, &[]));
        let town = orgs()[1];
        assert!(s.may_grant(&town, Role::ItStaff));
        assert!(!s.may_grant(&town, Role::OfficeOfficer));
        let office = orgs()[0];
        assert!(!s.may_grant(&office, Role::Reader));
    }

    fn r(x: Result<(), DomainError>) -> &'static str {
        match x {
            Ok(()) => "ok",
            Err(DomainError::NotFound) => "not found",
            Err(DomainError::Forbidden) => "forbidden",
            Err(_) => "other",
        }
    }

    #[test]
    fn require_answers_not_found_for_unseen_and_forbidden_for_too_little() {
        let reader = Scope::resolve(UserId(9), false, &[grant(2, Role::Reader)], &orgs(), 0);
        assert_eq!(r(reader.require(OrgId(2), Access::Reports)), "ok");
        assert_eq!(r(reader.require(OrgId(2), Access::Read)), "forbidden");
        assert_eq!(r(reader.require(OrgId(3), Access::Reports)), "not found");
        let token = Scope::resolve(UserId(9), false, &[grant(2, Role::Coordinator)], &orgs(), 0)
            .into_read_only();
        assert_eq!(r(token.require(OrgId(2), Access::Read)), "ok");
        assert_eq!(
            r(token.require(OrgId(2), Access::WriteTechnical)),
            "forbidden"
        );
    }

    #[test]
    fn shared_data_belongs_to_its_verbund() {
        let office1 = Scope::resolve(
            UserId(9),
            false,
            &[grant(1, Role::OfficeOfficer)],
            &orgs(),
            0,
        );
        let office2 = Scope::resolve(
            UserId(9),
            false,
            &[grant(4, Role::OfficeOfficer)],
            &orgs(),
            0,
        );
        let town1 = Scope::resolve(UserId(9), false, &[grant(2, Role::Coordinator)], &orgs(), 0);
        let lone = Scope::resolve(UserId(9), false, &[grant(6, Role::Coordinator)], &orgs(), 0);
        let admin = Scope::resolve(UserId(9), true, &[], &orgs(), 0);
        let v1 = Owner::Verbund(VerbundId(1));
        let v2 = Owner::Verbund(VerbundId(2));
        assert_eq!(r(office1.require_shared(v1)), "ok");
        assert_eq!(r(office2.require_shared(v1)), "not found");
        assert_eq!(r(town1.require_shared(v1)), "forbidden");
        assert_eq!(r(office1.require_shared(Owner::Installation)), "forbidden");
        assert_eq!(r(admin.require_shared(Owner::Installation)), "ok");
        assert_eq!(r(admin.require_shared(v2)), "ok");
        assert_eq!(town1.shared_owners(), vec![Owner::Installation, v1]);
        assert_eq!(lone.shared_owners(), vec![Owner::Installation]);
        assert_eq!(office1.shared_owners_managed(), vec![v1]);
        assert_eq!(
            admin.shared_owners_managed(),
            vec![Owner::Installation, v1, v2]
        );
        let token = admin.clone().into_read_only();
        assert!(token.shared_owners_managed().is_empty());
    }

    #[test]
    fn read_only_tokens_cannot_write() {
        let s = Scope::resolve(UserId(9), true, &[], &orgs(), 0).into_read_only();
        assert!(s.can(OrgId(2), Access::Read));
        assert!(!s.can(OrgId(2), Access::WriteTechnical));
        assert!(!s.manages_verbund(VerbundId(1)));
        assert!(!s.may_manage_user(false, &[OrgId(2)]));
    }

    fn any_role() -> impl Strategy<Value = Role> {
        prop::sample::select(Role::ALL.to_vec())
    }

    proptest! {
        /// Whatever roles a user holds, they never reach an organisation of another Verbund
        /// than the ones their roles are in, and never a town without Verbund they hold no role in.
        #[test]
        fn verbuende_stay_isolated(grants in prop::collection::vec((1i64..=6, any_role(), prop::option::of(0i64..20)), 0..6), now in 0i64..20) {
            let grants: Vec<Grant> = grants.into_iter().map(|(o, r, u)| Grant { organisation_id: OrgId(o), role: r, valid_until: u }).collect();
            let all = orgs();
            let s = Scope::resolve(UserId(1), false, &grants, &all, now);
            for o in s.visible() {
                let target = all.iter().find(|x| x.id == o).copied();
                prop_assert!(target.is_some());
                let target = target.unwrap_or(all[0]);
                let justified = grants.iter().filter(|g| g.valid_until.is_none_or(|u| u >= now)).any(|g| {
                    let held = all.iter().find(|x| x.id == g.organisation_id);
                    held.is_some_and(|h| h.id == o || (h.is_office && h.verbund_id.is_some() && h.verbund_id == target.verbund_id))
                });
                prop_assert!(justified, "{o:?} reached without a role");
            }
            // Shared data of a Verbund is seen only by someone who sees one of its organisations,
            // and changed only by someone who manages it.
            for v in [VerbundId(1), VerbundId(2)] {
                let sees_member = all.iter().any(|x| x.verbund_id == Some(v) && s.access(x.id).is_some());
                prop_assert_eq!(s.sees_shared(Owner::Verbund(v)), sees_member);
                if s.require_shared(Owner::Verbund(v)).is_ok() {
                    prop_assert!(s.manages_verbund(v));
                }
            }
            prop_assert!(s.require_shared(Owner::Installation).is_err());
        }
    }
}
