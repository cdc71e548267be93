//! The CISA Known Exploited Vulnerabilities catalog (JSON), linked to product keys.
//!
//! **What a "KEV hit" means here.** KEV names a vendor and product but no versions. An
//! installation has a KEV hit for entry E when
//! 1. its product key lists E's `vendorProject|product` pair in the identity table, and
//! 2. its release cycle was not released after E was added to the catalog (CISA adds an entry
//!    only once the vendor has remediation, so a release published later is taken to carry the
//!    fix; unknown release dates keep the hit), and
//! 3. no loaded CSAF advisory that names E's CVE lists the installed version as `fixed`,
//!    `first_fixed` or `known_not_affected` for that product (checked by the matcher).
//!
//! So a hit says "this product line is being exploited and your version is not known to be
//! safe" — a prompt to check, deliberately erring towards reporting.

use serde::{Deserialize, Serialize};
use std::sync::Arc;
use time::Date;

/// One catalog entry, reduced to what the update watch uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KevEntry {
    pub cve: Arc<str>,
    pub vendor_project: String,
    pub product: String,
    pub name: String,
    pub date_added: Date,
    pub due_date: Date,
    /// `knownRansomwareCampaignUse` is "Known".
    pub ransomware: bool,
}

/// The catalog with its version and release date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KevCatalog {
    pub version: String,
    pub released: Date,
    pub entries: Vec<KevEntry>,
}

/// Why a catalog was refused.
#[derive(Debug, thiserror::Error)]
pub enum KevError {
    #[error("KEV catalog: at JSON path {path}: {message} (line {line}, column {column})")]
    Json {
        path: String,
        message: String,
        line: usize,
        column: usize,
    },
    #[error("KEV catalog: at JSON path {path}: not a YYYY-MM-DD date: {value:?}")]
    Date { path: String, value: String },
    #[error(
        "KEV catalog: `count` is {stated} but the catalog has {actual} entries (truncated file?)"
    )]
    Count { stated: usize, actual: usize },
    #[error("KEV catalog: larger than {max} bytes")]
    TooLarge { max: usize },
}

/// Catalogs larger than this are refused (the real one is ~1.5 MB).
pub const MAX_SIZE: usize = 64 << 20;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCatalog {
    catalog_version: String,
    date_released: String,
    count: usize,
    vulnerabilities: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry {
    #[serde(rename = "cveID")]
    cve_id: String,
    vendor_project: String,
    product: String,
    vulnerability_name: String,
    date_added: String,
    due_date: String,
    #[serde(default)]
    known_ransomware_campaign_use: String,
}

pub(crate) fn ymd(s: &str) -> Option<Date> {
    let s = s.get(..10)?;
    let b = s.as_bytes();
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i32 = s[..4].parse().ok()?;
    let m: u8 = s[5..7].parse().ok()?;
    let d: u8 = s[8..10].parse().ok()?;
    Date::from_calendar_date(y, time::Month::try_from(m).ok()?, d).ok()
}

/// Parse the catalog JSON as CISA publishes it.
pub fn parse(bytes: &[u8]) -> Result<KevCatalog, KevError> {
    if bytes.len() > MAX_SIZE {
        return Err(KevError::TooLarge { max: MAX_SIZE });
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let raw: RawCatalog = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        KevError::Json {
            path,
            line: inner.line(),
            column: inner.column(),
            message: inner.to_string(),
        }
    })?;
    if raw.count != raw.vulnerabilities.len() {
        return Err(KevError::Count {
            stated: raw.count,
            actual: raw.vulnerabilities.len(),
        });
    }
    let released = ymd(&raw.date_released).ok_or_else(|| KevError::Date {
        path: "dateReleased".into(),
        value: raw.date_released.clone(),
    })?;
    let mut entries = Vec::with_capacity(raw.vulnerabilities.len());
    for (i, v) in raw.vulnerabilities.into_iter().enumerate() {
        let date = |field: &str, s: &str| {
            ymd(s).ok_or_else(|| KevError::Date {
                path: format!("vulnerabilities[{i}].{field}"),
                value: s.to_owned(),
            })
        };
        entries.push(KevEntry {
            date_added: date("dateAdded", &v.date_added)?,
            due_date: date("dueDate", &v.due_date)?,
            cve: Arc::from(v.cve_id.as_str()),
            vendor_project: v.vendor_project,
            product: v.product,
            name: v.vulnerability_name,
            ransomware: v
                .known_ransomware_campaign_use
                .eq_ignore_ascii_case("known"),
        });
    }
    Ok(KevCatalog {
        version: raw.catalog_version,
        released,
        entries,
    })
}

/// The identity table's form of a KEV pair: `vendorProject|product`, trimmed, lowercase.
pub fn pair_key(vendor_project: &str, product: &str) -> String {
    format!(
        "{}|{}",
        vendor_project.trim().to_ascii_lowercase(),
        product.trim().to_ascii_lowercase()
    )
}

/// The same for a `vendorProject|product` string of the identity table.
pub fn pair_key_from_table(s: &str) -> String {
    let (v, p) = s.split_once('|').unwrap_or((s, ""));
    pair_key(v, p)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_shipped_snapshot() {
        let c = parse(crate::snapshot::KEV_JSON.as_bytes()).unwrap();
        assert_eq!(c.version, "2025.08.25");
        assert_eq!(c.entries.len(), 1404);
        assert!(c
            .entries
            .iter()
            .any(|e| &*e.cve == "CVE-2019-19781" && e.ransomware));
    }

    #[test]
    fn errors_name_the_path() {
        let e = parse(br#"{"catalogVersion":"1","dateReleased":"2025-01-01","count":1,"vulnerabilities":[{"cveID":5}]}"#)
            .unwrap_err();
        assert!(e.to_string().contains("vulnerabilities[0].cveID"), "{e}");
        let e = parse(
            br#"{"catalogVersion":"1","dateReleased":"2025-01-01","count":2,"vulnerabilities":[]}"#,
        )
        .unwrap_err();
        assert!(matches!(
            e,
            KevError::Count {
                stated: 2,
                actual: 0
            }
        ));
        let full = crate::snapshot::KEV_JSON.as_bytes();
        let e = parse(&full[..full.len() / 2]).unwrap_err();
        assert!(matches!(e, KevError::Json { .. }), "{e}");
        let bad = r#"{"catalogVersion":"1","dateReleased":"2025-01-01","count":1,"vulnerabilities":[{"cveID":"CVE-1","vendorProject":"a","product":"b","vulnerabilityName":"n","dateAdded":"2025-02-30","dueDate":"2025-03-01"}]}"#;
        assert_eq!(
            parse(bad.as_bytes()).unwrap_err().to_string(),
            "KEV catalog: at JSON path vulnerabilities[0].dateAdded: not a YYYY-MM-DD date: \"2025-02-30\""
        );
    }
}
