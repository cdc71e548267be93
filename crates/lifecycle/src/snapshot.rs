//! The endoflife.date product files shipped as starter feed (generated list; see data/SOURCE.md).

/// (slug, file text) of every shipped endoflife.date product file.
pub const EOL_FILES: &[(&str, &str)] = &[
    (
        "apache-http-server",
        include_str!("../data/endoflife-date/products/apache-http-server.md"),
    ),
    (
        "chrome",
        include_str!("../data/endoflife-date/products/chrome.md"),
    ),
    (
        "cisco-ios-xe",
        include_str!("../data/endoflife-date/products/cisco-ios-xe.md"),
    ),
    (
        "citrix-vad",
        include_str!("../data/endoflife-date/products/citrix-vad.md"),
    ),
    (
        "confluence",
        include_str!("../data/endoflife-date/products/confluence.md"),
    ),
    (
        "debian",
        include_str!("../data/endoflife-date/products/debian.md"),
    ),
    (
        "eclipse-temurin",
        include_str!("../data/endoflife-date/products/eclipse-temurin.md"),
    ),
    (
        "firefox",
        include_str!("../data/endoflife-date/products/firefox.md"),
    ),
    (
        "fortios",
        include_str!("../data/endoflife-date/products/fortios.md"),
    ),
    (
        "gitlab",
        include_str!("../data/endoflife-date/products/gitlab.md"),
    ),
    (
        "jira-software",
        include_str!("../data/endoflife-date/products/jira-software.md"),
    ),
    (
        "keycloak",
        include_str!("../data/endoflife-date/products/keycloak.md"),
    ),
    (
        "libreoffice",
        include_str!("../data/endoflife-date/products/libreoffice.md"),
    ),
    (
        "linux-kernel",
        include_str!("../data/endoflife-date/products/linux-kernel.md"),
    ),
    (
        "mariadb",
        include_str!("../data/endoflife-date/products/mariadb.md"),
    ),
    (
        "msexchange",
        include_str!("../data/endoflife-date/products/msexchange.md"),
    ),
    (
        "mssqlserver",
        include_str!("../data/endoflife-date/products/mssqlserver.md"),
    ),
    (
        "mysql",
        include_str!("../data/endoflife-date/products/mysql.md"),
    ),
    (
        "nextcloud",
        include_str!("../data/endoflife-date/products/nextcloud.md"),
    ),
    (
        "nginx",
        include_str!("../data/endoflife-date/products/nginx.md"),
    ),
    (
        "office",
        include_str!("../data/endoflife-date/products/office.md"),
    ),
    (
        "openssl",
        include_str!("../data/endoflife-date/products/openssl.md"),
    ),
    (
        "oracle-database",
        include_str!("../data/endoflife-date/products/oracle-database.md"),
    ),
    (
        "oracle-jdk",
        include_str!("../data/endoflife-date/products/oracle-jdk.md"),
    ),
    (
        "pan-os",
        include_str!("../data/endoflife-date/products/pan-os.md"),
    ),
    (
        "php",
        include_str!("../data/endoflife-date/products/php.md"),
    ),
    (
        "postgresql",
        include_str!("../data/endoflife-date/products/postgresql.md"),
    ),
    (
        "proxmox-ve",
        include_str!("../data/endoflife-date/products/proxmox-ve.md"),
    ),
    (
        "rhel",
        include_str!("../data/endoflife-date/products/rhel.md"),
    ),
    (
        "sharepoint",
        include_str!("../data/endoflife-date/products/sharepoint.md"),
    ),
    (
        "sles",
        include_str!("../data/endoflife-date/products/sles.md"),
    ),
    (
        "tomcat",
        include_str!("../data/endoflife-date/products/tomcat.md"),
    ),
    (
        "ubuntu",
        include_str!("../data/endoflife-date/products/ubuntu.md"),
    ),
    (
        "veeam-backup-and-replication",
        include_str!("../data/endoflife-date/products/veeam-backup-and-replication.md"),
    ),
    (
        "vmware-esxi",
        include_str!("../data/endoflife-date/products/vmware-esxi.md"),
    ),
    (
        "vmware-vcenter",
        include_str!("../data/endoflife-date/products/vmware-vcenter.md"),
    ),
    (
        "windows",
        include_str!("../data/endoflife-date/products/windows.md"),
    ),
    (
        "windows-server",
        include_str!("../data/endoflife-date/products/windows-server.md"),
    ),
];

/// The shipped CISA KEV catalog.
pub const KEV_JSON: &str = include_str!("../data/cisa-kev/known_exploited_vulnerabilities.json");

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::identity::AliasTable;

    #[test]
    fn every_eol_slug_of_the_alias_table_is_shipped() {
        let t = AliasTable::builtin().unwrap();
        for p in t.products() {
            if let Some(slug) = &p.eol {
                assert!(
                    EOL_FILES.iter().any(|(s, _)| s == slug),
                    "{} names {slug}, not shipped",
                    p.key
                );
            }
        }
    }
}
