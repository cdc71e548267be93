//! The catalogs, profiles and mappings Stadtmauer ships, embedded in the binary so they are
//! present from the first start (CC BY-SA 4.0, see `data/SOURCE.md` and [`crate::ATTRIBUTION`]).

use crate::catalog::Catalog;
use crate::mapping::MappingSet;
use crate::oscal::{OscalError, ProfileDoc};
use crate::profile::{self, MapResolver, ProfileError, Resolved};

/// One embedded file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShippedFile {
    pub name: &'static str,
    pub bytes: &'static [u8],
}

pub const KERNEL: &str = "BSI-Stand-der-Technik-Kernel-catalog.json";
pub const METHODIK: &str = "BSI-Methodik-Grundschutz++-catalog.json";
pub const RISIKO: &str = "BSI-Anforderungen-zum-Risikomanagement-catalog.json";
pub const ISO27001: &str = "ISO27001-AnnexA-catalog.json";
pub const GSPP_PROFILE: &str = "Grundschutz++-profile.json";
pub const KOMMUNALE_BASIS: &str = "kommunale-basis-profile.json";
pub const ISO_MAPPING: &str = "ISO27001-AnnexA-to-GS++-mapping_collection.json";
pub const ITGS_MAPPING: &str = "ITGS-to-GS++-mapping_collection.json";
/// Named by the Grundschutz++ profile; not shipped upstream-size, resolved to the Kernel.
pub const KERNEL_G0: &str = "BSI-Stand-der-Technik-Kernel-G0-catalog.json";

macro_rules! file {
    ($name:literal) => {
        ShippedFile {
            name: $name,
            bytes: include_bytes!(concat!("../data/", $name)),
        }
    };
}

/// Every shipped OSCAL file, for storing the originals beside what was built from them.
pub const FILES: &[ShippedFile] = &[
    file!("BSI-Stand-der-Technik-Kernel-catalog.json"),
    file!("BSI-Methodik-Grundschutz++-catalog.json"),
    file!("BSI-Anforderungen-zum-Risikomanagement-catalog.json"),
    file!("ISO27001-AnnexA-catalog.json"),
    file!("Grundschutz++-profile.json"),
    file!("kommunale-basis-profile.json"),
    file!("ISO27001-AnnexA-to-GS++-mapping_collection.json"),
    file!("ITGS-to-GS++-mapping_collection.json"),
];

/// The Kommunale Basis rationale, shown next to the profile.
pub const KOMMUNALE_BASIS_MD: &str = include_str!("../data/kommunale-basis.md");

fn bytes(name: &str) -> Result<&'static [u8], OscalError> {
    FILES
        .iter()
        .find(|f| f.name == name)
        .map(|f| f.bytes)
        .ok_or_else(|| OscalError::Invalid {
            path: name.to_string(),
            message: "not a shipped file".into(),
        })
}

/// Everything shipped, parsed and built.
#[derive(Debug, Clone)]
pub struct Shipped {
    pub kernel: Catalog,
    pub methodik: Catalog,
    pub risiko: Catalog,
    pub iso27001: Catalog,
    pub gspp_profile: ProfileDoc,
    pub kommunale_basis: ProfileDoc,
    /// ISO/IEC 27001:2022 Annex A → Grundschutz++.
    pub iso_mapping: MappingSet,
    /// IT-Grundschutz-Kompendium 2023 → Grundschutz++.
    pub itgs_mapping: MappingSet,
}

/// Parses every shipped file (a few hundred milliseconds in debug builds; call once at startup).
pub fn shipped() -> Result<Shipped, OscalError> {
    Ok(Shipped {
        kernel: Catalog::from_json(bytes(KERNEL)?, KERNEL)?,
        methodik: Catalog::from_json(bytes(METHODIK)?, METHODIK)?,
        risiko: Catalog::from_json(bytes(RISIKO)?, RISIKO)?,
        iso27001: Catalog::from_json(bytes(ISO27001)?, ISO27001)?,
        gspp_profile: profile::parse_profile(bytes(GSPP_PROFILE)?)?,
        kommunale_basis: profile::parse_profile(bytes(KOMMUNALE_BASIS)?)?,
        iso_mapping: MappingSet::from_json(bytes(ISO_MAPPING)?)?,
        itgs_mapping: MappingSet::from_json(bytes(ITGS_MAPPING)?)?,
    })
}

impl Shipped {
    /// Resolves hrefs to the shipped catalogs and profiles by file name. The Grundschutz++
    /// profile names a Kernel "G0" catalog (the Kernel plus base-threat links) that is too large
    /// to ship; it resolves to the Kernel, which holds the same requirements.
    pub fn resolver(&self) -> MapResolver<'_> {
        let mut r = MapResolver::new();
        r.add_catalog(KERNEL, &self.kernel)
            .add_catalog(KERNEL_G0, &self.kernel)
            .add_catalog(METHODIK, &self.methodik)
            .add_catalog(RISIKO, &self.risiko)
            .add_catalog(ISO27001, &self.iso27001)
            .add_profile(GSPP_PROFILE, &self.gspp_profile)
            .add_profile(KOMMUNALE_BASIS, &self.kommunale_basis);
        r
    }

    pub fn resolve_kommunale_basis(&self) -> Result<Resolved, ProfileError> {
        profile::resolve(&self.kommunale_basis, KOMMUNALE_BASIS, &self.resolver())
    }

    pub fn resolve_gspp(&self) -> Result<Resolved, ProfileError> {
        profile::resolve(&self.gspp_profile, GSPP_PROFILE, &self.resolver())
    }
}
