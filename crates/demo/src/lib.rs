//! The fictional Landkreis Musterau: an information-security office, the county administration and
//! 14 member towns of different sizes, each with users and contacts; a second, smaller Verbund and
//! a town without Verbund show that tenants stay apart. All names, keys, addresses and numbers are
//! invented (e-mail under `.example`, AGS in the unused district 03 9 99); any resemblance to a
//! real municipality is coincidental.

pub mod continuity;
pub mod council;
pub mod inventory;
pub mod security;
pub mod updates;

use stadtmauer_core::org::{ContactInput, OrgKind, OrganisationInput};
use stadtmauer_core::user::{MembershipData, Role, UserData};
use stadtmauer_core::{DomainError, OrgId};
use stadtmauer_store::Store;

/// A town of the demo: name, kind, inhabitants.
struct Town {
    name: &'static str,
    slug: &'static str,
    kind: OrgKind,
    inhabitants: i64,
    mayor: &'static str,
    coordinator: &'static str,
    it: Option<&'static str>,
}

const TOWNS: &[Town] = &[
    Town {
        name: "Stadt Musterau",
        slug: "musterau",
        kind: OrgKind::Stadt,
        inhabitants: 64_830,
        mayor: "Dr. Helena Brückner",
        coordinator: "Tobias Reinhardt",
        it: Some("Serkan Yıldız"),
    },
    Town {
        name: "Stadt Lindwerder",
        slug: "lindwerder",
        kind: OrgKind::Stadt,
        inhabitants: 38_214,
        mayor: "Markus Oberländer",
        coordinator: "Sabine Kettler",
        it: Some("Lukas Brandt"),
    },
    Town {
        name: "Stadt Falkenhorst an der Murne",
        slug: "falkenhorst",
        kind: OrgKind::Stadt,
        inhabitants: 23_409,
        mayor: "Anja Lenzen",
        coordinator: "Dirk Hollmann",
        it: Some("Paula Nowak"),
    },
    Town {
        name: "Stadt Eichenwalde-Ost",
        slug: "eichenwalde-ost",
        kind: OrgKind::Stadt,
        inhabitants: 17_925,
        mayor: "Frank Weidemann",
        coordinator: "Claudia Sommer",
        it: Some("Jan Petersen"),
    },
    Town {
        name: "Stadt Kranichbruch",
        slug: "kranichbruch",
        kind: OrgKind::Stadt,
        inhabitants: 12_611,
        mayor: "Ingrid Haase",
        coordinator: "Stefan Kühl",
        it: Some("Mehmet Aydın"),
    },
    Town {
        name: "Gemeinde Ahornwiek",
        slug: "ahornwiek",
        kind: OrgKind::Gemeinde,
        inhabitants: 9_804,
        mayor: "Bernd Voss",
        coordinator: "Kerstin Lange",
        it: Some("Timo Grabowski"),
    },
    Town {
        name: "Gemeinde Tannmoor",
        slug: "tannmoor",
        kind: OrgKind::Gemeinde,
        inhabitants: 8_117,
        mayor: "Ulrike Sander",
        coordinator: "Heiko Marquardt",
        it: None,
    },
    Town {
        name: "Gemeinde Erlenquell",
        slug: "erlenquell",
        kind: OrgKind::Gemeinde,
        inhabitants: 6_432,
        mayor: "Jörg Behrendt",
        coordinator: "Nicole Franke",
        it: None,
    },
    Town {
        name: "Gemeinde Hohenmurne",
        slug: "hohenmurne",
        kind: OrgKind::Gemeinde,
        inhabitants: 5_219,
        mayor: "Petra Wendland",
        coordinator: "Oliver Rausch",
        it: None,
    },
    Town {
        name: "Gemeinde Weidenstieg",
        slug: "weidenstieg",
        kind: OrgKind::Gemeinde,
        inhabitants: 4_356,
        mayor: "Karl-Heinz Ebeling",
        coordinator: "Birgit Hoffmeister",
        it: None,
    },
    Town {
        name: "Gemeinde Rabenkuhl",
        slug: "rabenkuhl",
        kind: OrgKind::Gemeinde,
        inhabitants: 3_641,
        mayor: "Monika Kruse",
        coordinator: "Sven Dietrich",
        it: None,
    },
    Town {
        name: "Gemeinde Schilfhagen",
        slug: "schilfhagen",
        kind: OrgKind::Gemeinde,
        inhabitants: 2_978,
        mayor: "Ralf Steinbach",
        coordinator: "Anke Möller",
        it: None,
    },
    Town {
        name: "Gemeinde Buchenfelde am Murnesee",
        slug: "buchenfelde",
        kind: OrgKind::Gemeinde,
        inhabitants: 2_466,
        mayor: "Gabriele Thiel",
        coordinator: "Uwe Kaminski",
        it: None,
    },
    Town {
        name: "Gemeinde Kleinmurne",
        slug: "kleinmurne",
        kind: OrgKind::Gemeinde,
        inhabitants: 2_043,
        mayor: "Hans-Peter Lorenz",
        coordinator: "Jana Schubert",
        it: None,
    },
];

/// The logins the console prints after loading the demo.
#[derive(Debug, Clone)]
pub struct DemoLogins {
    pub admin: String,
    pub office_officer: String,
    pub town_coordinator: String,
    pub town_name: String,
    pub other_verbund_officer: String,
}

fn email(name: &str, domain: &str) -> String {
    let mut local = String::new();
    for c in name.to_lowercase().replace("dr. ", "").chars() {
        match c {
            'ä' => local.push_str("ae"),
            'ö' => local.push_str("oe"),
            'ü' => local.push_str("ue"),
            'ß' => local.push_str("ss"),
            'ı' => local.push('i'),
            ' ' => local.push('.'),
            c if c.is_ascii_alphanumeric() || c == '-' => local.push(c),
            _ => {}
        }
    }
    format!("{local}@{domain}.example")
}

#[allow(clippy::too_many_arguments)]
fn org(
    name: &str,
    kind: OrgKind,
    ags: Option<String>,
    inhabitants: Option<i64>,
    staff: i64,
    workstations: i64,
    slug: &str,
    address: &str,
) -> Result<stadtmauer_core::org::OrganisationData, DomainError> {
    OrganisationInput {
        name: name.into(),
        kind: kind.as_str().into(),
        ags,
        inhabitants: inhabitants.map(|n| n.to_string()),
        staff: Some(staff.to_string()),
        workstations: Some(workstations.to_string()),
        email: Some(format!("poststelle@{slug}.example")),
        phone: Some(format!("+49 5555 {}", 1000 + address.len() * 37)),
        address: Some(address.into()),
        verbund_id: None,
    }
    .validate()
}

/// Is the demo already loaded into this database?
pub async fn is_loaded(store: &Store) -> Result<bool, DomainError> {
    let sys = store.system_scope("Demo").await?;
    Ok(store
        .verbuende(&sys)
        .await?
        .iter()
        .any(|v| v.name == "Landkreis Musterau"))
}

async fn user(
    store: &Store,
    name: &str,
    domain: &str,
    hash: &str,
    org: OrgId,
    role: Role,
    valid_until: Option<i64>,
) -> Result<String, DomainError> {
    let sys = store.system_scope("Demo").await?;
    let e = email(name, domain);
    store
        .create_user(
            &sys,
            &UserData {
                email: e.clone(),
                display_name: name.into(),
            },
            hash,
            &MembershipData {
                organisation_id: org,
                role,
                valid_until,
            },
        )
        .await?;
    Ok(e)
}

/// Loads the demo. `password_hash` is set for every demo user (the console prints the password).
pub async fn load(
    store: &Store,
    password_hash: &str,
    mut progress: impl FnMut(&str),
) -> Result<DemoLogins, DomainError> {
    let sys = store.system_scope("Demo").await?;
    let admin = "admin@stadtmauer.example".to_string();
    store
        .create_admin(
            &sys,
            &UserData {
                email: admin.clone(),
                display_name: "Plattform-Administration".into(),
            },
            password_hash,
        )
        .await?;

    progress("Landkreis Musterau");
    let (musterau, office) = store
        .create_verbund(
            &sys,
            "Landkreis Musterau",
            &org(
                "Informationssicherheitsbüro Musterau",
                OrgKind::Zweckverband,
                None,
                None,
                3,
                4,
                "isb-musterau",
                "Am Kreishaus 2, 39999 Musterau",
            )?,
        )
        .await?;
    let sys = store.system_scope("Demo").await?;
    let kreis = store
        .create_organisation(
            &sys,
            Some(musterau),
            &org(
                "Kreisverwaltung Musterau",
                OrgKind::Kreis,
                None,
                Some(187_512),
                1_140,
                1_020,
                "kreis-musterau",
                "Am Kreishaus 1, 39999 Musterau",
            )?,
        )
        .await?;
    let mut town_ids = Vec::new();
    for (i, t) in TOWNS.iter().enumerate() {
        progress(t.name);
        // Core administration staff grows less than linearly with the population.
        let staff = (t.inhabitants as f64).powf(0.95) as i64 / 55 + 12;
        let workstations = staff * 9 / 10 + 4;
        let ags = format!("03999{:03}", i + 1);
        let address = format!(
            "Rathausplatz {}, 3999{} {}",
            i + 1,
            i % 10,
            t.name.split_once(' ').map(|x| x.1).unwrap_or(t.name)
        );
        let id = store
            .create_organisation(
                &sys,
                Some(musterau),
                &org(
                    t.name,
                    t.kind,
                    Some(ags),
                    Some(t.inhabitants),
                    staff,
                    workstations,
                    t.slug,
                    &address,
                )?,
            )
            .await?;
        town_ids.push(id);
    }

    progress("users");
    let office_officer = user(
        store,
        "Katrin Vogt",
        "isb-musterau",
        password_hash,
        office,
        Role::OfficeOfficer,
        None,
    )
    .await?;
    user(
        store,
        "Jonas Albrecht",
        "isb-musterau",
        password_hash,
        office,
        Role::OfficeOfficer,
        None,
    )
    .await?;
    user(
        store,
        "Mira Schulte",
        "isb-musterau",
        password_hash,
        office,
        Role::OfficeOfficer,
        None,
    )
    .await?;
    let next_year = stadtmauer_core::now() + 365 * 86_400;
    user(
        store,
        "Prof. Dr. Arne Wittkamp",
        "pruefung-nord",
        password_hash,
        office,
        Role::Auditor,
        Some(next_year),
    )
    .await?;
    user(
        store,
        "Martina Gehrke",
        "kreis-musterau",
        password_hash,
        kreis,
        Role::Coordinator,
        None,
    )
    .await?;
    user(
        store,
        "Ole Carstensen",
        "kreis-musterau",
        password_hash,
        kreis,
        Role::ItStaff,
        None,
    )
    .await?;
    let mut town_coordinator = String::new();
    for (t, id) in TOWNS.iter().zip(&town_ids) {
        let e = user(
            store,
            t.coordinator,
            t.slug,
            password_hash,
            *id,
            Role::Coordinator,
            None,
        )
        .await?;
        if t.slug == "falkenhorst" {
            town_coordinator = e;
        }
        if let Some(it) = t.it {
            user(store, it, t.slug, password_hash, *id, Role::ItStaff, None).await?;
        }
        user(
            store,
            t.mayor,
            t.slug,
            password_hash,
            *id,
            Role::Reader,
            None,
        )
        .await?;
    }

    progress("contacts");
    let sys = store.system_scope("Demo").await?;
    for (i, (t, id)) in TOWNS.iter().zip(&town_ids).enumerate() {
        let contacts = [
            ("Bürgermeister(in)", t.mayor),
            ("Informationssicherheits-Koordination", t.coordinator),
            ("IT-Leitung", t.it.unwrap_or(t.coordinator)),
            (
                "Datenschutzbeauftragte(r)",
                "Datenschutz Kommunal Nord (extern)",
            ),
        ];
        for (j, (function, name)) in contacts.iter().enumerate() {
            let input = ContactInput {
                function: (*function).into(),
                name: (*name).into(),
                email: Some(if name.contains("extern") {
                    "dsb@datenschutz-kommunal-nord.example".into()
                } else {
                    email(name, t.slug)
                }),
                phone: Some(format!("+49 5555 {}{:02}", 200 + i, 10 + j)),
            };
            store.add_contact(&sys, *id, &input.validate()?).await?;
        }
    }
    let office_contacts = [
        (
            "Landes-CERT (Rufbereitschaft)",
            "CERT Nord (fiktiv)",
            "+49 5555 911000",
        ),
        (
            "Zentrale Ansprechstelle Cybercrime (ZAC)",
            "LKA Nord (fiktiv)",
            "+49 5555 110110",
        ),
        (
            "IT-Dienstleister",
            "Kommunale Datenzentrale Nord (fiktiv)",
            "+49 5555 400400",
        ),
    ];
    for (function, name, phone) in office_contacts {
        let input = ContactInput {
            function: function.into(),
            name: name.into(),
            email: None,
            phone: Some(phone.into()),
        };
        store.add_contact(&sys, office, &input.validate()?).await?;
    }

    progress("Landkreis Beispielstein");
    let (beispielstein, other_office) = store
        .create_verbund(
            &sys,
            "Landkreis Beispielstein",
            &org(
                "Informationssicherheitsbüro Beispielstein",
                OrgKind::Zweckverband,
                None,
                None,
                2,
                3,
                "isb-beispielstein",
                "Kreisstraße 5, 39888 Beispielstein",
            )?,
        )
        .await?;
    let sys = store.system_scope("Demo").await?;
    for (i, (name, n)) in [
        ("Stadt Beispielstein", 21_300),
        ("Gemeinde Feldmarkt", 3_870),
    ]
    .iter()
    .enumerate()
    {
        let slug = if i == 0 { "beispielstein" } else { "feldmarkt" };
        let id = store
            .create_organisation(
                &sys,
                Some(beispielstein),
                &org(
                    name,
                    if i == 0 {
                        OrgKind::Stadt
                    } else {
                        OrgKind::Gemeinde
                    },
                    Some(format!("03888{:03}", i + 1)),
                    Some(*n),
                    n / 90,
                    n / 100,
                    slug,
                    "Markt 1, 39888 Beispielstein",
                )?,
            )
            .await?;
        user(
            store,
            if i == 0 {
                "Greta Lindqvist"
            } else {
                "Paul Hansen"
            },
            slug,
            password_hash,
            id,
            Role::Coordinator,
            None,
        )
        .await?;
    }
    let other_verbund_officer = user(
        store,
        "Henrik Baumann",
        "isb-beispielstein",
        password_hash,
        other_office,
        Role::OfficeOfficer,
        None,
    )
    .await?;
    let alone = store
        .create_organisation(
            &sys,
            None,
            &org(
                "Stadt Solitz",
                OrgKind::Stadt,
                Some("03777001".into()),
                Some(14_900),
                170,
                150,
                "solitz",
                "Rathaus 1, 39777 Solitz",
            )?,
        )
        .await?;
    user(
        store,
        "Fenja Ohlsen",
        "solitz",
        password_hash,
        alone,
        Role::Coordinator,
        None,
    )
    .await?;

    Ok(DemoLogins {
        admin,
        office_officer,
        town_coordinator,
        town_name: "Stadt Falkenhorst an der Murne".into(),
        other_verbund_officer,
    })
}

/// Loads the Informationsverbund of every organisation of Landkreis Musterau (a separate step:
/// tests that need only organisations and users stay fast).
pub async fn load_inventory(
    store: &Store,
    mut progress: impl FnMut(&str),
) -> Result<usize, DomainError> {
    let sys = store.system_scope("Demo").await?;
    let orgs = store.organisations(&sys).await?;
    let verbund = store
        .verbuende(&sys)
        .await?
        .into_iter()
        .find(|v| v.name == "Landkreis Musterau")
        .ok_or(DomainError::NotFound)?;
    let members: Vec<_> = orgs
        .into_iter()
        .filter(|o| o.verbund_id == Some(verbund.id))
        .collect();
    let office = members
        .iter()
        .find(|o| o.is_office)
        .ok_or(DomainError::NotFound)?;
    let shared = inventory::shared_providers(store, office.id).await?;
    let mut n = 3;
    for o in members.iter().filter(|o| !o.is_office) {
        progress(&o.name);
        n += inventory::town(
            store,
            o.id,
            o.inhabitants.unwrap_or(5_000),
            o.workstations.unwrap_or(50),
            o.kind == OrgKind::Kreis,
            &shared,
        )
        .await?;
    }
    updates::load(store, &members).await?;
    security::load(store, &members).await?;
    council::load(store, &members).await?;
    continuity::load(store, &members).await?;
    Ok(n)
}

/// The e-mail addresses of all demo users (to reset their password on a later start).
pub async fn demo_emails(store: &Store) -> Result<Vec<String>, DomainError> {
    let sys = store.system_scope("Demo").await?;
    Ok(store
        .users(&sys)
        .await?
        .into_iter()
        .map(|u| u.user.email)
        .filter(|e| e.ends_with(".example"))
        .collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn emails_are_ascii() {
        assert_eq!(
            super::email("Dr. Helena Brückner", "musterau"),
            "helena.brueckner@musterau.example"
        );
        assert_eq!(
            super::email("Serkan Yıldız", "musterau"),
            "serkan.yildiz@musterau.example"
        );
        assert_eq!(
            super::email("Karl-Heinz Ebeling", "w"),
            "karl-heinz.ebeling@w.example"
        );
    }

    #[test]
    fn fourteen_towns_of_the_required_sizes() {
        assert_eq!(super::TOWNS.len(), 14);
        assert!(super::TOWNS
            .iter()
            .all(|t| (2_000..=65_000).contains(&t.inhabitants)));
    }
}
