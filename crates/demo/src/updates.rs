//! Demo data for the update watch: a few towns run additional, outdated software on their
//! servers (the inventories already carry products and versions: Windows Server 2016, FortiGate
//! 6.4, vSphere 7.0 …), and every member's findings are matched once so the pages look real.

use stadtmauer_core::org::Organisation;
use stadtmauer_core::DomainError;
use stadtmauer_inventory::model::ObjectKind;
use stadtmauer_store::Store;

/// Installed software per town (by position among the members): product and version.
const SOFTWARE: &[&[(&str, &str)]] = &[
    &[
        ("Microsoft Exchange Server 2016", "15.1.2507.6"),
        ("PHP", "7.4.33"),
    ],
    &[("Apache Tomcat", "8.5.100"), ("OpenSSL", "1.1.1w")],
    &[("PHP", "8.1.2"), ("Kassenverfahren Murnetal", "4.2")],
];

pub async fn load(store: &Store, members: &[Organisation]) -> Result<usize, DomainError> {
    let sys = store.system_scope("Demo").await?;
    let mut n = 0;
    let towns: Vec<&Organisation> = members.iter().filter(|o| !o.is_office).collect();
    for (town, software) in towns.iter().zip(SOFTWARE) {
        let systems = store
            .objects(&sys, town.id, Some(ObjectKind::System), false)
            .await?;
        let Some(server) = systems
            .iter()
            .find(|o| o.data.system_type.as_deref() == Some("server"))
            .or(systems.first())
        else {
            continue;
        };
        for (product, version) in *software {
            store
                .add_software(&sys, server.id, product, Some(version))
                .await?;
            n += 1;
        }
    }
    for t in towns {
        store.sync_findings(&sys, t.id).await?;
    }
    Ok(n)
}
