//! The update watch: which installed software is out of support, soon out of support, named in a
//! security advisory (CSAF 2.0) or in CISA's catalog of known exploited vulnerabilities (KEV).
//!
//! Pure domain logic: feeds come in as bytes, installations as plain values, findings go out as
//! enums. No HTTP, no SQL, no async; the store persists, the web layer translates, the CLI fetches.

pub mod csaf;
pub mod eol;
pub mod feed;
pub mod identity;
pub mod kev;
pub mod matching;
pub mod provider;
pub mod snapshot;
pub mod synthetic;
pub mod version;
