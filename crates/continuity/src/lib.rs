//! Business continuity and ransomware readiness of a town (BSI Standard 200-4).
//!
//! What a town records — the business impact analysis per process ([`bia`]), the backup register
//! ([`backup`]), checklist answers, contacts and exercises — goes in; what comes out is derived on
//! request and never stored: verdicts with the numbers behind them ([`verdict`]), the restart order
//! after an outage ([`restart`], [`scenario`]), a readiness score ([`readiness`]), the emergency
//! handbook as one offline HTML file ([`handbook`]) and measures from exercise findings
//! ([`exercise`]).
//!
//! Knows nothing about HTTP or SQL. Durations are whole minutes ([`span::Span`]) so that hand-computed
//! expectations compare exactly; instants of an outage are local civil times of the town
//! ([`time::PrimitiveDateTime`]), because legal deadlines ("the 1st of each month") are civil dates.

pub mod backup;
pub mod bia;
pub mod exercise;
pub mod handbook;
mod idmap;
pub mod labels;
pub mod readiness;
pub mod restart;
pub mod scenario;
pub mod span;
pub mod synthetic;
pub mod verdict;

pub use span::Span;

#[cfg(test)]
pub(crate) mod fixture;
