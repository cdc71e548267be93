//! Recording a town's security level against the requirements of BSI Grundschutz++, the measures
//! plan (Realisierungsplan) that follows from the gaps, and the scoring the dashboards show.
//!
//! Requirements reach this crate as plain data ([`RequirementRef`]); the catalog crate owns their
//! text. Knows nothing about HTTP or SQL: [`answer`] validates what users record, [`effective`]
//! decides what an answer counts as on a given day (overdue reviews and expired evidence count as
//! `offen`), [`score`] computes fulfilment, [`snapshot`] keeps per-practice aggregates so that the
//! Verbund heatmap never reads raw answers, [`measure`] derives and validates measures,
//! [`questionnaire`] is the guided mode for small towns, [`soa`] the Statement of Applicability and
//! the coverage of other catalogs through mappings.

pub mod answer;
pub mod date;
pub mod effective;
pub mod evidence;
pub mod measure;
pub mod questionnaire;
pub mod requirement;
pub mod score;
pub mod snapshot;
pub mod soa;

pub use answer::{Answer, AnswerInput, Status};
pub use requirement::{RequirementRef, SecLevel};
pub use time::Date;
