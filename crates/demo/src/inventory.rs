//! A realistic Informationsverbund for every demo town: the services a town offers, the
//! applications behind them, the systems those run on, rooms, lines and providers — larger towns
//! run more themselves, smaller ones rely on the Verbund's shared provider. All product names of
//! Fachverfahren and all providers are invented; infrastructure products are common ones.

use stadtmauer_core::{DomainError, ObjectId, OrgId};
use stadtmauer_inventory::model::ObjectInput;
use stadtmauer_store::inventory::BatchObject;
use stadtmauer_store::Store;

/// The shared providers of Landkreis Musterau, recorded by its office.
pub struct SharedProviders {
    pub datacenter: ObjectId,
    pub network: ObjectId,
    pub mail: ObjectId,
}

fn input(kind: &str, name: &str) -> ObjectInput {
    ObjectInput {
        kind: kind.into(),
        name: name.into(),
        status: Some("active".into()),
        ..Default::default()
    }
}

pub async fn shared_providers(
    store: &Store,
    office: OrgId,
) -> Result<SharedProviders, DomainError> {
    let sys = store.system_scope("Demo").await?;
    let provider = |name: &str, contract: &str, contact: &str| ObjectInput {
        shared: Some("ja".into()),
        contract: Some(contract.into()),
        contact: Some(contact.into()),
        ..input("provider", name)
    };
    let batch = [
        provider(
            "Kommunale Datenzentrale Nord (fiktiv)",
            "Rahmenvertrag Fachverfahren-Hosting, Zweckverband, seit 2014",
            "Service-Desk +49 5555 400400",
        ),
        provider(
            "Musterau-Net GmbH (fiktiv)",
            "WAN-Vertrag Kreisnetz, Laufzeit bis 2028",
            "Störungsannahme +49 5555 400900",
        ),
        provider(
            "Mailcloud Kommunal (fiktiv)",
            "E-Mail als Dienst, AV-Vertrag nach Art. 28 DSGVO",
            "support@mailcloud-kommunal.example",
        ),
    ];
    let mut items = Vec::new();
    for p in batch {
        items.push(BatchObject {
            data: p.validate()?,
            uses: vec![],
            uses_existing: vec![],
        });
    }
    let ids = store.create_inventory(&sys, office, &items).await?;
    Ok(SharedProviders {
        datacenter: ids[0],
        network: ids[1],
        mail: ids[2],
    })
}

/// Builds one town's inventory. `size` is the number of inhabitants; `county` marks the county
/// administration, which has the county's own tasks (vehicle registration, foreigners' office).
pub async fn town(
    store: &Store,
    org: OrgId,
    size: i64,
    workstations: i64,
    county: bool,
    shared: &SharedProviders,
) -> Result<usize, DomainError> {
    let large = size >= 30_000 || county;
    let mid = size >= 10_000;
    let mut b = Builder::default();

    // Locations and lines.
    let building = b.add(
        ObjectInput {
            description: Some("Hauptgebäude der Verwaltung".into()),
            ..input("location", "Rathaus")
        },
        &[],
    );
    let room = b.add(
        ObjectInput {
            description: Some("Serverraum im Keller, Zutritt mit Transponder".into()),
            ..input("location", "Serverraum")
        },
        &[building],
    );
    let internet = b.add_ext(
        ObjectInput {
            description: Some("Glasfaser 1 Gbit/s".into()),
            ..input("connection", "Internet-Anschluss")
        },
        &[room],
        &[shared.network],
    );
    let wan = b.add_ext(
        ObjectInput {
            description: Some("VPN-Strecke ins Kreisnetz und zur Datenzentrale".into()),
            ..input("connection", "WAN Kreisnetz")
        },
        &[room],
        &[shared.network],
    );

    // Systems.
    let sys =
        |name: &str, t: &str, vendor: &str, product: &str, version: &str, count: Option<i64>| {
            ObjectInput {
                system_type: Some(t.into()),
                vendor: Some(vendor.into()),
                product: Some(product.into()),
                version: Some(version.into()),
                count: count.map(|c| c.to_string()),
                ..input("system", name)
            }
        };
    let firewall = b.add(
        sys(
            "Firewall",
            "security",
            "Fortinet",
            "FortiGate",
            if large { "7.2.8" } else { "6.4.15" },
            None,
        ),
        &[room, internet, wan],
    );
    let vpn = b.add(
        sys(
            "VPN-Gateway Fernzugriff",
            "remote_access",
            if large { "Citrix" } else { "Fortinet" },
            if large {
                "NetScaler ADC"
            } else {
                "FortiGate SSL-VPN"
            },
            if large { "13.1-51.15" } else { "6.4.15" },
            None,
        ),
        &[firewall, room],
    );
    let host = if mid {
        b.add(
            sys(
                "Virtualisierungs-Cluster",
                "virtualisation",
                "VMware",
                "ESXi",
                if large { "8.0 U2" } else { "7.0 U3" },
                Some(if large { 4 } else { 2 }),
            ),
            &[room],
        )
    } else {
        b.add(
            sys(
                "Server Rathaus",
                "server",
                "Microsoft",
                "Windows Server",
                "2016",
                None,
            ),
            &[room],
        )
    };
    let dc = b.add(
        sys(
            "Domänencontroller",
            "server",
            "Microsoft",
            "Windows Server",
            if mid { "2019" } else { "2016" },
            None,
        ),
        &[host],
    );
    let files = b.add(
        sys(
            "Dateiserver",
            "server",
            "Microsoft",
            "Windows Server",
            if mid { "2019" } else { "2016" },
            None,
        ),
        &[host, dc],
    );
    let backup = b.add(
        sys(
            "Datensicherung",
            "server",
            "Veeam",
            "Backup & Replication",
            "12.1",
            None,
        ),
        &[host, room],
    );
    let clients = b.add(
        sys(
            "Arbeitsplätze Verwaltung",
            "client_group",
            "Microsoft",
            "Windows",
            "11 23H2",
            Some(workstations.max(5)),
        ),
        &[building, dc, firewall],
    );
    let printers = b.add(
        sys(
            "Multifunktionsgeräte",
            "printer",
            "Kyocera",
            "TASKalfa",
            "2.x",
            Some((workstations / 12).max(2)),
        ),
        &[building],
    );
    let phone = b.add(
        sys(
            "Telefonanlage",
            "telephony",
            if large { "Unify" } else { "Auerswald" },
            if large {
                "OpenScape Business"
            } else {
                "COMpact 5500R"
            },
            if large { "V3R3" } else { "8.2" },
            None,
        ),
        &[room, internet],
    );
    let app_srv = if mid {
        Some(b.add(
            sys(
                "Fachverfahrensserver",
                "server",
                "Microsoft",
                "Windows Server",
                "2019",
                None,
            ),
            &[host, dc],
        ))
    } else {
        None
    };
    let _ = (files, backup, printers, vpn, clients);

    // Applications: large towns run more themselves, smaller ones at the Verbund's data centre.
    let app = |name: &str, vendor: &str, product: &str, version: &str, model: &str| ObjectInput {
        vendor: Some(vendor.into()),
        product: Some(product.into()),
        version: Some(version.into()),
        operating_model: Some(model.into()),
        vendor_country: Some("DE".into()),
        ..input("application", name)
    };
    let at_dc = |b: &mut Builder, o: ObjectInput| b.add_ext(o, &[], &[shared.datacenter]);
    let melde = if large {
        let on = app_srv.unwrap_or(host);
        b.add(
            app(
                "Meldewesen (MeldeWerk)",
                "Kommunalsoft Nord GmbH (fiktiv)",
                "MeldeWerk",
                "5.2",
                "self_hosted",
            ),
            &[on],
        )
    } else {
        at_dc(
            &mut b,
            app(
                "Meldewesen (MeldeWerk)",
                "Kommunalsoft Nord GmbH (fiktiv)",
                "MeldeWerk",
                "5.2",
                "provider",
            ),
        )
    };
    let finanz = at_dc(
        &mut b,
        app(
            "Finanzwesen (FinanzKommunal)",
            "Haushalt & Kasse AG (fiktiv)",
            "FinanzKommunal",
            "2024.2",
            "provider",
        ),
    );
    let lohn = at_dc(
        &mut b,
        app(
            "Personalwesen und Besoldung (LohnKommunal)",
            "Haushalt & Kasse AG (fiktiv)",
            "LohnKommunal",
            "11.0",
            "provider",
        ),
    );
    let standesamt = at_dc(
        &mut b,
        app(
            "Personenstandswesen (Standesamt Digital)",
            "Registerwerk GmbH (fiktiv)",
            "Standesamt Digital",
            "4.1",
            "provider",
        ),
    );
    let sozial = if mid {
        let on = app_srv.unwrap_or(host);
        b.add(
            app(
                "Sozialleistungen (SozialPlus)",
                "Sozialsoft eG (fiktiv)",
                "SozialPlus",
                "8.4",
                "self_hosted",
            ),
            &[on],
        )
    } else {
        at_dc(
            &mut b,
            app(
                "Sozialleistungen (SozialPlus)",
                "Sozialsoft eG (fiktiv)",
                "SozialPlus",
                "8.4",
                "provider",
            ),
        )
    };
    let bau = b.add_ext(
        app(
            "Bauantragsportal (BauPortal)",
            "Portalbau GmbH (fiktiv)",
            "BauPortal",
            "3.0",
            "saas",
        ),
        &[],
        &[shared.datacenter],
    );
    let mail = if large {
        b.add(
            ObjectInput {
                vendor_country: Some("US".into()),
                ..app(
                    "E-Mail (Exchange)",
                    "Microsoft",
                    "Exchange Server",
                    "2019 CU14",
                    "self_hosted",
                )
            },
            &[host, dc, firewall],
        )
    } else {
        b.add_ext(
            app(
                "E-Mail (Mailcloud)",
                "Mailcloud Kommunal (fiktiv)",
                "Mailcloud",
                "2024",
                "saas",
            ),
            &[],
            &[shared.mail],
        )
    };
    let office = b.add(
        ObjectInput {
            vendor_country: Some("US".into()),
            ..app(
                "Bürokommunikation",
                "Microsoft",
                "Office LTSC",
                "2021",
                "self_hosted",
            )
        },
        &[clients, files],
    );
    let telefonie = b.add(
        app(
            "Telefonie",
            if large { "Unify" } else { "Auerswald" },
            "Telefonanlagen-Software",
            "aktuell",
            "self_hosted",
        ),
        &[phone],
    );
    let web = b.add_ext(
        app(
            "Internetauftritt (CMS)",
            "TYPO3 Association",
            "TYPO3",
            "12.4",
            "provider",
        ),
        &[],
        &[shared.datacenter],
    );
    let schule = if mid {
        Some(b.add(
            app(
                "Schulverwaltung und pädagogisches Netz",
                "Schulnetz e. V. (fiktiv)",
                "SchulServer",
                "7",
                "self_hosted",
            ),
            &[host],
        ))
    } else {
        None
    };

    // Processes with their own Schutzbedarf (C, I, A).
    let process =
        |name: &str, c: &str, i: &str, a: &str, personal: bool, special: bool, owner: &str| {
            ObjectInput {
                need_c: Some(c.into()),
                need_i: Some(i.into()),
                need_a: Some(a.into()),
                data_personal: Some(if personal { "ja" } else { "nein" }.into()),
                data_special: Some(if special { "ja" } else { "nein" }.into()),
                owner: Some(owner.into()),
                ..input("process", name)
            }
        };
    b.add(
        process(
            "Einwohnermeldewesen",
            "hoch",
            "hoch",
            "hoch",
            true,
            false,
            "Bürgerbüro",
        ),
        &[melde, office, mail],
    );
    b.add(
        process(
            "Sozialleistungen und Grundsicherung",
            "sehr hoch",
            "hoch",
            "hoch",
            true,
            true,
            "Sozialamt",
        ),
        &[sozial, finanz, office],
    );
    b.add(
        process(
            "Standesamt (Beurkundungen)",
            "hoch",
            "sehr hoch",
            "normal",
            true,
            false,
            "Standesamt",
        ),
        &[standesamt],
    );
    b.add(
        process(
            "Kasse und Finanzwesen",
            "normal",
            "sehr hoch",
            "hoch",
            false,
            false,
            "Kämmerei",
        ),
        &[finanz, office],
    );
    b.add(
        process(
            "Personalwesen und Besoldung",
            "hoch",
            "hoch",
            "hoch",
            true,
            true,
            "Hauptamt",
        ),
        &[lohn, office],
    );
    b.add(
        process(
            "Baugenehmigungen",
            "normal",
            "hoch",
            "normal",
            true,
            false,
            "Bauamt",
        ),
        &[bau, office, mail],
    );
    b.add(
        process(
            "E-Mail-Kommunikation",
            "hoch",
            "normal",
            "hoch",
            true,
            false,
            "Hauptamt",
        ),
        &[mail],
    );
    b.add(
        process(
            "Telefonische Erreichbarkeit",
            "normal",
            "normal",
            "hoch",
            false,
            false,
            "Hauptamt",
        ),
        &[telefonie],
    );
    b.add(
        process(
            "Bürgerinformation im Internet",
            "normal",
            "hoch",
            "normal",
            false,
            false,
            "Pressestelle",
        ),
        &[web],
    );
    if let Some(s) = schule {
        b.add(
            process(
                "Schul-IT",
                "hoch",
                "normal",
                "normal",
                true,
                false,
                "Schulverwaltungsamt",
            ),
            &[s],
        );
    }
    if county {
        let kfz = at_dc(
            &mut b,
            app(
                "Kfz-Zulassung (KfzWeb)",
                "Zulassungssysteme GmbH (fiktiv)",
                "KfzWeb",
                "6.3",
                "provider",
            ),
        );
        let ausl = b.add(
            app(
                "Ausländerwesen (AuslWeb)",
                "Kommunalsoft Nord GmbH (fiktiv)",
                "AuslWeb",
                "2.8",
                "self_hosted",
            ),
            &[app_srv.unwrap_or(host)],
        );
        b.add(
            process(
                "Kfz-Zulassung",
                "normal",
                "hoch",
                "hoch",
                true,
                false,
                "Straßenverkehrsamt",
            ),
            &[kfz],
        );
        b.add(
            process(
                "Ausländerbehörde",
                "sehr hoch",
                "hoch",
                "hoch",
                true,
                true,
                "Ausländerbehörde",
            ),
            &[ausl, office],
        );
    }
    let n = b.items.len();
    let scope = store.system_scope("Demo").await?;
    store.create_inventory(&scope, org, &b.validated()?).await?;
    Ok(n)
}

#[derive(Default)]
struct Builder {
    items: Vec<(ObjectInput, Vec<usize>, Vec<ObjectId>)>,
}

impl Builder {
    fn add(&mut self, o: ObjectInput, uses: &[usize]) -> usize {
        self.add_ext(o, uses, &[])
    }
    fn add_ext(&mut self, o: ObjectInput, uses: &[usize], existing: &[ObjectId]) -> usize {
        self.items.push((o, uses.to_vec(), existing.to_vec()));
        self.items.len() - 1
    }
    fn validated(&self) -> Result<Vec<BatchObject>, DomainError> {
        self.items
            .iter()
            .map(|(o, uses, ext)| {
                Ok(BatchObject {
                    data: o.validate()?,
                    uses: uses.clone(),
                    uses_existing: ext.clone(),
                })
            })
            .collect()
    }
}
