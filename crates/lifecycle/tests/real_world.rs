//! Real-world inventory strings → identity, lifecycle status and KEV hit, computed from the
//! shipped snapshots (endoflife.date 2026-08-22, KEV 2025-08-25) at a fixed day, 2026-11-27.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use stadtmauer_lifecycle::feed::Feeds;
use stadtmauer_lifecycle::identity::{normalize, AliasTable};
use stadtmauer_lifecycle::matching::{Engine, FindingKind};
use time::macros::date;

/// Lifecycle column: U = unsupported, 6/12 = ends within 6/12 months, S = supported, ? = unknown.
const ROWS: &[(&str, &str, &str, &str, &str, &str, bool)] = &[
    // vendor, product, version, → key, cycle, lifecycle, KEV hit
    (
        "",
        "Win Server 2012R2 Std",
        "",
        "windows-server",
        "2012-r2",
        "U",
        true,
    ),
    (
        "Microsoft",
        "Windows Server 2019 Datacenter",
        "10.0.17763.5830",
        "windows-server",
        "2019",
        "S",
        true,
    ),
    (
        "",
        "Windows Server 2016 Standard",
        "",
        "windows-server",
        "2016",
        "6",
        true,
    ),
    (
        "Microsoft Corporation",
        "Microsoft Windows Server 2022 Standard",
        "10.0.20348.2340",
        "windows-server",
        "2022",
        "S",
        true,
    ),
    (
        "",
        "Windows Server 2008 R2",
        "",
        "windows-server",
        "2008-r2-sp1",
        "U",
        true,
    ),
    (
        "",
        "WinServer 2025",
        "",
        "windows-server",
        "2025",
        "S",
        true,
    ),
    (
        "",
        "Windows Server",
        "6.3.9600",
        "windows-server",
        "2012-r2",
        "U",
        true,
    ),
    ("", "Win2012R2", "", "windows-server", "2012-r2", "U", true),
    (
        "",
        "Windows 10 22H2 Pro",
        "",
        "windows",
        "10-22h2",
        "U",
        true,
    ),
    (
        "",
        "Windows 10 Enterprise",
        "10.0.19044.4291",
        "windows",
        "10-21h2-e",
        "U",
        true,
    ),
    (
        "",
        "Windows 11 23H2 Enterprise",
        "",
        "windows",
        "11-23h2-e",
        "U",
        true,
    ),
    (
        "",
        "Win11 Pro",
        "10.0.26100.1",
        "windows",
        "11-24h2-w",
        "U",
        true,
    ),
    ("", "Windows 7 SP1", "", "windows", "7-sp1", "U", true),
    (
        "",
        "Exchange Server 2016 CU23",
        "",
        "microsoft-exchange",
        "2016",
        "U",
        true,
    ),
    (
        "Microsoft",
        "Exchange 2019",
        "15.2.1544.4",
        "microsoft-exchange",
        "2019",
        "U",
        true,
    ),
    (
        "",
        "MS Exchange SE",
        "",
        "microsoft-exchange",
        "subscription",
        "S",
        false,
    ),
    (
        "",
        "SharePoint Server 2019",
        "",
        "microsoft-sharepoint",
        "2019",
        "U",
        true,
    ),
    (
        "",
        "SQL Server 2019 Standard",
        "",
        "microsoft-sql-server",
        "15.0",
        "S",
        true,
    ),
    (
        "",
        "MSSQL",
        "13.0.6300.2",
        "microsoft-sql-server",
        "13.0-sp3",
        "U",
        true,
    ),
    (
        "",
        "Office Professional Plus 2016",
        "",
        "microsoft-office",
        "2016",
        "U",
        true,
    ),
    ("", "Office 2021", "", "microsoft-office", "2021", "U", true),
    (
        "",
        "Microsoft 365 Apps for Enterprise",
        "16.0.17928.20114",
        "microsoft-365-apps",
        "",
        "?",
        true,
    ),
    ("VMware", "ESXi", "7.0.3", "vmware-esxi", "7.0", "U", true),
    (
        "",
        "VMware ESXi 8.0 U2",
        "",
        "vmware-esxi",
        "8.0",
        "12",
        true,
    ),
    (
        "",
        "vCenter Server Appliance",
        "8.0.2",
        "vmware-vcenter",
        "8.0",
        "12",
        true,
    ),
    (
        "",
        "Citrix ADC 13.0-58.30",
        "",
        "citrix-netscaler-adc",
        "",
        "?",
        true,
    ),
    (
        "Citrix",
        "NetScaler Gateway",
        "14.1-12.35",
        "citrix-netscaler-adc",
        "",
        "?",
        true,
    ),
    ("", "FortiGate 6.4.5", "", "fortios", "6.4", "U", true),
    (
        "Fortinet",
        "FortiGate",
        "v7.0.12,build0601",
        "fortios",
        "7.0",
        "U",
        true,
    ),
    ("", "FortiOS 7.4.3", "", "fortios", "7.4", "S", true),
    ("", "FortiGate-7.2.8", "", "fortios", "7.2", "U", true),
    (
        "",
        "Ivanti Connect Secure 22.7R2.3",
        "",
        "ivanti-connect-secure",
        "",
        "?",
        true,
    ),
    (
        "Pulse Secure",
        "Pulse Connect Secure",
        "9.1R18",
        "ivanti-connect-secure",
        "",
        "?",
        true,
    ),
    ("", "Cisco ASA", "9.16(4)12", "cisco-asa", "", "?", true),
    (
        "Palo Alto Networks",
        "PAN-OS",
        "10.2.9-h1",
        "palo-alto-pan-os",
        "10.2",
        "U",
        true,
    ),
    (
        "",
        "Palo Alto 11.1.4",
        "",
        "palo-alto-pan-os",
        "11.1",
        "6",
        true,
    ),
    (
        "",
        "Sophos XGS 19.5 MR3",
        "",
        "sophos-firewall",
        "",
        "?",
        true,
    ),
    (
        "",
        "SonicWall TZ",
        "7.0.1",
        "sonicwall-sonicos",
        "",
        "?",
        true,
    ),
    (
        "",
        "Veeam Backup & Replication 12.1.2.172",
        "",
        "veeam-backup-replication",
        "12",
        "6",
        true,
    ),
    (
        "",
        "Veeam B&R",
        "11.0.1.1261",
        "veeam-backup-replication",
        "11",
        "U",
        true,
    ),
    ("", "Ubuntu 22.04.3 LTS", "", "ubuntu", "22.04", "6", false),
    ("", "Ubuntu Server 18.04", "", "ubuntu", "18.04", "U", false),
    ("", "Debian 12", "", "debian", "12", "U", false),
    ("", "Debian Bookworm", "", "debian", "12", "U", false),
    ("", "Debian GNU/Linux", "11.9", "debian", "11", "U", false),
    ("", "RHEL 8.6", "", "rhel", "8", "S", true),
    ("", "SLES 15 SP5", "", "sles", "15.5", "U", false),
    ("", "PostgreSQL 13.14", "", "postgresql", "13", "U", false),
    ("", "Postgres", "16.2", "postgresql", "16", "S", false),
    (
        "",
        "MySQL Community Server 8.0.36",
        "",
        "mysql",
        "8.0",
        "U",
        false,
    ),
    ("", "MariaDB 10.6.16", "", "mariadb", "10.6", "U", false),
    (
        "Oracle",
        "Oracle Database 19c",
        "",
        "oracle-database",
        "19",
        "S",
        false,
    ),
    (
        "",
        "LibreOffice 7.6.4",
        "",
        "libreoffice",
        "7.6",
        "U",
        false,
    ),
    ("", "Firefox ESR", "115.9.1", "firefox", "115", "6", true),
    ("Mozilla", "Firefox", "128.0", "firefox", "128", "U", true),
    ("", "Thunderbird 115.8", "", "thunderbird", "", "?", true),
    (
        "Google",
        "Chrome",
        "122.0.6261.129",
        "chrome",
        "122",
        "U",
        true,
    ),
    (
        "",
        "Microsoft Edge",
        "122.0.2365.92",
        "microsoft-edge",
        "",
        "?",
        true,
    ),
    (
        "",
        "Adobe Acrobat Reader DC",
        "23.008.20533",
        "adobe-acrobat-reader",
        "",
        "?",
        true,
    ),
    (
        "",
        "Java 8 Update 401",
        "",
        "java-oracle-jdk",
        "",
        "?",
        true,
    ),
    (
        "Oracle",
        "Java SE",
        "17.0.10",
        "java-oracle-jdk",
        "17",
        "U",
        true,
    ),
    (
        "",
        "Apache Tomcat 9.0.85",
        "",
        "apache-tomcat",
        "9.0",
        "6",
        true,
    ),
    ("", "nginx/1.24.0", "", "nginx", "1.24", "U", false),
    (
        "",
        "Apache httpd 2.4.58",
        "",
        "apache-httpd",
        "2.4",
        "S",
        true,
    ),
    ("", "OpenSSL 1.1.1w", "", "openssl", "1.1.1", "U", true),
    ("", "OpenSSL 3.0.13", "", "openssl", "3.0", "U", true),
    (
        "Atlassian",
        "Confluence Data Center",
        "7.19.18",
        "atlassian-confluence",
        "7.19",
        "U",
        true,
    ),
    (
        "",
        "Jira Software 9.12.4",
        "",
        "atlassian-jira",
        "9.12",
        "U",
        true,
    ),
    ("", "GitLab CE 16.9.2", "", "gitlab", "16.9", "U", true),
    (
        "",
        "Nextcloud Hub 28.0.3",
        "",
        "nextcloud",
        "28",
        "U",
        false,
    ),
    ("", "Zimbra 8.8.15", "", "zimbra", "", "?", true),
    ("", "UCS 5.0-6", "", "univention-ucs", "", "?", false),
    ("", "Synology DSM 7.2.1", "", "synology-dsm", "", "?", false),
    ("", "QNAP QTS 5.1.5", "", "qnap-qts", "", "?", true),
    ("HPE", "iLO 5", "2.90", "hpe-ilo", "", "?", false),
    (
        "Dell",
        "iDRAC9",
        "7.00.00.171",
        "dell-idrac",
        "",
        "?",
        false,
    ),
    ("", "Proxmox VE 8.1.4", "", "proxmox-ve", "8", "U", false),
];

fn lifecycle_code(kinds: &[FindingKind]) -> String {
    for k in kinds {
        match k {
            FindingKind::Unsupported { .. } => return "U".into(),
            FindingKind::EolSoon { months, .. } => return months.to_string(),
            FindingKind::LifecycleUnknown { .. } => return "?".into(),
            _ => {}
        }
    }
    "S".into()
}

#[test]
fn real_world_inventory_strings() {
    assert!(ROWS.len() >= 60, "{} rows", ROWS.len());
    let aliases = AliasTable::builtin().unwrap();
    let feeds = Feeds::builtin(aliases.clone()).unwrap();
    let engine = Engine::new(&feeds);
    let today = date!(2026 - 11 - 27);
    let mut failures = Vec::new();
    for &(vendor, product, version, key, cycle, life, kev) in ROWS {
        let n = normalize(
            (!vendor.is_empty()).then_some(vendor),
            product,
            (!version.is_empty()).then_some(version),
            &aliases,
        );
        let Some(k) = &n.key else {
            failures.push(format!(
                "{product:?}: not recognised ({:?})",
                n.unrecognised
            ));
            continue;
        };
        let kinds = engine.evaluate(k, n.cycle.as_deref(), n.version.as_ref(), today);
        let got_cycle = feeds
            .eol_for(k)
            .and_then(|p| {
                p.resolve(
                    aliases.product(k).unwrap().scheme,
                    n.cycle.as_deref(),
                    n.version.as_ref(),
                )
                .ok()
            })
            .map(|c| c.id.clone())
            .unwrap_or_default();
        let got_life = lifecycle_code(&kinds);
        let got_kev = kinds.iter().any(|k| matches!(k, FindingKind::Kev { .. }));
        if k.as_str() != key
            || got_cycle != cycle
            || got_life != life
            || got_kev != kev
            || n.version_error.is_some()
        {
            failures.push(format!(
                "{vendor:?} {product:?} {version:?}: got ({k}, {got_cycle:?}, {got_life}, kev {got_kev}, verr {:?}), want ({key}, {cycle:?}, {life}, kev {kev})",
                n.version_error
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows differ:\n{}",
        failures.len(),
        ROWS.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------- CSAF 2.0 examples and test documents

use stadtmauer_lifecycle::csaf::{self, CsafError, VersionSpec};
use std::path::{Path, PathBuf};

fn csaf_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/csaf-2.0/csaf_2.0")
}

#[test]
fn oasis_examples_parse_and_resolve() {
    let aliases = AliasTable::builtin().unwrap();
    let mut n = 0;
    for sub in ["examples/csaf", "examples/csaf/csaf_vex"] {
        for e in std::fs::read_dir(csaf_dir().join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_none_or(|x| x != "json") {
                continue;
            }
            let doc = csaf::parse(&std::fs::read(&p).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let products = csaf::resolve_products(&doc);
            // Every product id used in a status resolves to a product of the tree.
            for v in &doc.vulnerabilities {
                if let Some(ps) = &v.product_status {
                    for id in ps
                        .known_affected
                        .iter()
                        .chain(&ps.fixed)
                        .chain(&ps.known_not_affected)
                    {
                        assert!(products.contains_key(id), "{}: {id}", p.display());
                    }
                }
            }
            let _ = csaf::rules(&doc, &aliases);
            n += 1;
        }
    }
    assert!(n >= 10, "{n} examples");

    // Branch walking: vendor → product_name → product_version in the Cisco example.
    let doc = csaf::parse(
        &std::fs::read(csaf_dir().join("examples/csaf/cisco-sa-20180328-smi2.json")).unwrap(),
    )
    .unwrap();
    let products = csaf::resolve_products(&doc);
    let any = products
        .values()
        .find(|p| matches!(p.spec, VersionSpec::Exact(_)))
        .unwrap();
    assert_eq!(any.vendor.as_deref(), Some("Cisco"));
    assert!(any.product_name.is_some());
}

#[derive(serde::Deserialize)]
struct Cases {
    tests: Vec<Case>,
}
#[derive(serde::Deserialize)]
struct Case {
    id: String,
    #[serde(default)]
    failures: Vec<File>,
    #[serde(default)]
    valid: Vec<File>,
}
#[derive(serde::Deserialize)]
struct File {
    name: String,
}

#[test]
fn oasis_mandatory_test_documents() {
    const IMPLEMENTED: &[&str] = &[
        "6.1.1", "6.1.2", "6.1.3", "6.1.4", "6.1.5", "6.1.6", "6.1.7",
    ];
    let dir = csaf_dir().join("test/validator/data");
    let cases: Cases =
        serde_json::from_slice(&std::fs::read(dir.join("testcases.json")).unwrap()).unwrap();
    let (mut valid, mut failing) = (0, 0);
    for c in cases.tests.iter().filter(|c| c.id.starts_with("6.1.")) {
        for f in &c.valid {
            let bytes = std::fs::read(dir.join(&f.name)).unwrap();
            csaf::parse(&bytes).unwrap_or_else(|e| panic!("{} (valid for {}): {e}", f.name, c.id));
            valid += 1;
        }
        if IMPLEMENTED.contains(&c.id.as_str()) {
            for f in &c.failures {
                match csaf::parse(&std::fs::read(dir.join(&f.name)).unwrap()) {
                    Err(CsafError::Mandatory { test, path, .. }) => {
                        assert_eq!(test, c.id, "{}", f.name);
                        assert!(path.starts_with('/'), "{path}");
                    }
                    other => panic!("{} should fail {}: {other:?}", f.name, c.id),
                }
                failing += 1;
            }
        }
    }
    assert!(
        valid >= 40 && failing >= 13,
        "{valid} valid, {failing} failing"
    );
}

#[test]
fn malformed_csaf_names_the_json_path() {
    let e = csaf::parse(br#"{"document":{"category":"csaf_base","csaf_version":"2.0","title":"t","publisher":{"category":"vendor","name":"n","namespace":"https://x"},"tracking":{"id":"x","current_release_date":"2024-01-01T00:00:00Z","initial_release_date":"2024-01-01T00:00:00Z","status":"final","version":1}}}"#).unwrap_err();
    assert!(e.to_string().contains("document.tracking.version"), "{e}");
    let e = csaf::parse(b"{\"document\": {").unwrap_err();
    assert!(matches!(e, CsafError::Json { line: 1, .. }), "{e:?}");
}
