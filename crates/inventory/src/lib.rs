//! The Informationsverbund of BSI Standard 200-2, kept the way a small town can keep it current:
//! the objects of a town (business processes, applications, IT systems, locations and rooms,
//! communication links, outside providers), the dependencies between them, and the protection
//! requirement (Schutzbedarf) inherited along those dependencies by the maximum principle.
//!
//! Knows nothing about HTTP or SQL: [`model`] validates what users type, [`graph`] computes the
//! inheritance (fully or incrementally) and explains every inherited value.

pub mod export;
pub mod graph;
pub mod import;
pub mod model;

pub use model::{Level, ObjectKind, Protection};
