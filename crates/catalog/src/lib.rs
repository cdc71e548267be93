//! OSCAL catalogs, profiles, mapping collections and assessment results for BSI Grundschutz++:
//! importing them safely ([`oscal`]), the requirement view ([`catalog`]), profile resolution
//! ([`profile`]), ISO 27001 / IT-Grundschutz 2023 equivalents ([`mapping`]), carrying answers
//! across catalog versions ([`versions`]), German full-text search ([`search`]), which
//! requirements concern which inventory object ([`applicability`]), and a town's assessment as
//! OSCAL assessment-results ([`results`]). The shipped files are in [`shipped`].
//!
//! Knows nothing about HTTP or SQL; the store persists what this crate builds.

pub mod applicability;
pub mod catalog;
pub mod mapping;
pub mod oscal;
pub mod own;
pub mod profile;
pub mod results;
pub mod search;
pub mod shipped;
pub mod target;
pub mod versions;

pub use catalog::{Catalog, ModalVerb, Requirement, SecLevel};
pub use oscal::OscalError;
pub use shipped::{shipped, Shipped};

/// Attribution the UI and reports show wherever catalog content appears (CC BY-SA 4.0).
pub const ATTRIBUTION: &str = "Bundesamt für Sicherheit in der Informationstechnik (BSI), \
Stand-der-Technik-Bibliothek (Grundschutz++), lizenziert unter CC BY-SA 4.0 \
(https://creativecommons.org/licenses/by-sa/4.0/); Kommunale Basis abgeleitet von Stadtmauer \
unter derselben Lizenz.";
