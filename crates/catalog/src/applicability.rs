//! Which requirements concern which inventory object. Grundschutz++ names target object
//! categories (`target_object_categories.csv`) in each statement; the tables below translate them
//! — and a few tags that name a technology — into Stadtmauer's object kinds and system types.
//! Requirements without a category concern the organisation as a whole (people, the ISMS), not an
//! inventory object. `erhöht` requirements apply only to objects with Schutzbedarf hoch or sehr
//! hoch; `normal-SdT` ones to every object they concern.

use crate::catalog::{Catalog, Requirement, SecLevel};
use stadtmauer_inventory::{Level, ObjectKind, Protection};

/// An inventory object kind, for systems optionally narrowed to one `system_type`
/// (`None`: every system).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KindMatch {
    pub kind: ObjectKind,
    pub system_type: Option<&'static str>,
}

const fn k(kind: ObjectKind) -> KindMatch {
    KindMatch {
        kind,
        system_type: None,
    }
}
const fn sys(t: &'static str) -> KindMatch {
    KindMatch {
        kind: ObjectKind::System,
        system_type: Some(t),
    }
}

use ObjectKind::{Application, Connection, Location, Process, Provider, System};

/// Target object category (Zielobjekt, as written in the catalog) → inventory kinds.
/// Categories of people (Nutzende, Mitarbeitende, Administrierende, Führungskräfte,
/// Institutionsleitung) map to nothing: they make a requirement organisation-wide.
pub const CATEGORY_KINDS: &[(&str, &[KindMatch])] = &[
    ("Anwendungen", &[k(Application)]),
    ("Office-Anwendungen", &[k(Application), sys("client_group")]),
    (
        "Webbrowser",
        &[k(Application), sys("client_group"), sys("mobile")],
    ),
    ("E-Mail", &[k(Application), sys("server")]),
    ("Interpersonelle Kommunikation", &[k(Application)]),
    ("Webanwendungen", &[k(Application)]),
    ("Webserver", &[k(Application), sys("server")]),
    ("Dateiserver", &[k(Application), sys("server")]),
    (
        "DNS-Server",
        &[k(Application), sys("server"), sys("network")],
    ),
    ("Verzeichnisdienste", &[k(Application), sys("server")]),
    ("TK-Anwendungen", &[k(Application), sys("telephony")]),
    ("VK-Anwendungen", &[k(Application), sys("telephony")]),
    ("Faxe", &[k(Application), sys("telephony"), sys("printer")]),
    ("Virtualisierungslösungen", &[sys("virtualisation")]),
    ("IT-Systeme", &[k(System)]),
    ("Hostsysteme", &[sys("server"), sys("virtualisation")]),
    (
        "Endgeräte",
        &[sys("client_group"), sys("mobile"), sys("printer")],
    ),
    ("Netze", &[sys("network"), sys("security"), k(Connection)]),
    ("Interne Netzsegmente", &[sys("network"), sys("security")]),
    ("WLANs", &[sys("network")]),
    (
        "Externe Netzanschlüsse",
        &[k(Connection), sys("remote_access"), sys("security")],
    ),
    ("Standorte", &[k(Location)]),
    ("Gebäude", &[k(Location)]),
    ("Räume", &[k(Location)]),
    ("Räume für technische Infrastruktur", &[k(Location)]),
    ("Serverräume", &[k(Location)]),
    ("Datenträgerarchiv", &[k(Location)]),
    ("Einkäufe", &[k(Provider)]),
    ("Dienstleistungen", &[k(Provider)]),
    ("Outsourcing", &[k(Provider)]),
    ("Cloud-Dienste", &[k(Provider), k(Application)]),
    ("IT-Produkte", &[k(Application), k(System)]),
    ("Informationen", &[k(Process)]),
    ("Daten", &[k(Process), k(Application)]),
    ("Nutzende", &[]),
    ("Mitarbeitende", &[]),
    ("Administrierende", &[]),
    ("Führungskräfte", &[]),
    ("Institutionsleitung", &[]),
];

/// Tags that name a technology add kinds beyond the categories.
pub const TAG_KINDS: &[(&str, &[KindMatch])] = &[
    ("VPN", &[sys("remote_access"), k(Connection)]),
    ("PSTN", &[sys("telephony"), k(Connection)]),
    ("Network Access Control", &[sys("network")]),
    ("Rogue Access Point", &[sys("network")]),
    ("Bring Your Own Device", &[sys("mobile")]),
    ("Physical Access Control", &[k(Location)]),
    ("Lieferketten", &[k(Provider)]),
    ("Exit-Strategie", &[k(Provider)]),
    ("Shared Responsibility Model", &[k(Provider)]),
    ("DDoS", &[k(Connection)]),
];

fn lookup(table: &[(&str, &'static [KindMatch])], key: &str) -> Option<&'static [KindMatch]> {
    table.iter().find(|(n, _)| *n == key).map(|(_, m)| *m)
}

/// Whom a requirement concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Concern {
    /// No object kind: the organisation (ISMS, people).
    Organisation,
    Objects(Vec<KindMatch>),
}

/// Categories this crate does not know (a newer catalog) make the requirement
/// organisation-wide rather than silently dropping it.
pub fn concern(r: &Requirement) -> Concern {
    let mut out: Vec<KindMatch> = vec![];
    for c in &r.target_categories {
        for m in lookup(CATEGORY_KINDS, c).unwrap_or(&[]) {
            if !out.contains(m) {
                out.push(*m);
            }
        }
    }
    for t in &r.tags {
        for m in lookup(TAG_KINDS, t).unwrap_or(&[]) {
            if !out.contains(m) {
                out.push(*m);
            }
        }
    }
    if out.is_empty() {
        Concern::Organisation
    } else {
        Concern::Objects(out)
    }
}

/// Does the requirement concern an object of this kind and system type?
pub fn concerns(r: &Requirement, kind: ObjectKind, system_type: Option<&str>) -> bool {
    match concern(r) {
        Concern::Organisation => false,
        Concern::Objects(ms) => ms.iter().any(|m| {
            m.kind == kind
                && match m.system_type {
                    None => true,
                    Some(t) => system_type == Some(t),
                }
        }),
    }
}

/// Does a requirement of this level apply at this protection requirement?
pub fn level_applies(sec_level: Option<SecLevel>, protection: &Protection) -> bool {
    match sec_level {
        Some(SecLevel::Erhoeht) => protection.max() >= Level::Hoch,
        _ => true,
    }
}

/// Requirements of `catalog` that apply to one inventory object.
pub fn for_object<'c>(
    catalog: &'c Catalog,
    kind: ObjectKind,
    system_type: Option<&str>,
    protection: &Protection,
) -> Vec<&'c Requirement> {
    catalog
        .requirements
        .iter()
        .filter(|r| concerns(r, kind, system_type) && level_applies(r.sec_level, protection))
        .collect()
}

/// Requirements that concern the organisation as a whole. `erhöht` ones are included when any
/// object of the organisation needs more than normal protection (`highest`).
pub fn organisation_wide(catalog: &Catalog, highest: Level) -> Vec<&Requirement> {
    let p = Protection {
        c: highest,
        i: highest,
        a: highest,
    };
    catalog
        .requirements
        .iter()
        .filter(|r| concern(r) == Concern::Organisation && level_applies(r.sec_level, &p))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use stadtmauer_inventory::model::SYSTEM_TYPES;

    fn req(cats: &[&str], tags: &[&str], level: SecLevel) -> Requirement {
        Requirement {
            id: "X".into(),
            alt_id: None,
            practice: "P".into(),
            topic: None,
            parent: None,
            class: None,
            title: "t".into(),
            statement: String::new(),
            guidance: None,
            sec_level: Some(level),
            effort_level: Some(1),
            tags: tags.iter().map(|s| s.to_string()).collect(),
            modal_verb: None,
            action_word: None,
            target_categories: cats.iter().map(|s| s.to_string()).collect(),
            documentation: vec![],
            params: vec![],
            relations: vec![],
            other_props: vec![],
        }
    }

    #[test]
    fn tables_use_known_system_types() {
        for (_, ms) in CATEGORY_KINDS.iter().chain(TAG_KINDS) {
            for m in *ms {
                if let Some(t) = m.system_type {
                    assert!(SYSTEM_TYPES.contains(&t), "{t}");
                }
            }
        }
    }

    #[test]
    fn who_is_concerned() {
        let p = |l: Level| Protection {
            c: Level::Normal,
            i: l,
            a: Level::Normal,
        };
        let check = |r: &Requirement, kind, st: Option<&str>, prot: Protection, want: bool| {
            assert_eq!(
                concerns(r, kind, st) && level_applies(r.sec_level, &prot),
                want,
                "{:?} {kind:?} {st:?}",
                r.target_categories
            );
        };
        let net = req(&["Netze"], &[], SecLevel::NormalSdt);
        check(&net, System, Some("network"), p(Level::Normal), true);
        check(&net, System, Some("server"), p(Level::Normal), false);
        check(&net, Connection, None, p(Level::Normal), true);
        let any_sys = req(&["IT-Systeme"], &[], SecLevel::Erhoeht);
        check(&any_sys, System, Some("printer"), p(Level::Normal), false);
        check(&any_sys, System, Some("printer"), p(Level::Hoch), true);
        check(&any_sys, System, None, p(Level::SehrHoch), true);
        let vpn = req(&[], &["VPN"], SecLevel::NormalSdt);
        check(&vpn, System, Some("remote_access"), p(Level::Normal), true);
        let people = req(&["Nutzende"], &[], SecLevel::NormalSdt);
        assert_eq!(concern(&people), Concern::Organisation);
        assert_eq!(
            concern(&req(&["Unbekannt"], &[], SecLevel::NormalSdt)),
            Concern::Organisation
        );
    }
}
