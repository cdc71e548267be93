//! Domain types of the Stadtmauer platform.
//!
//! This crate knows nothing about HTTP or SQL. It holds the words of the users (Verbund, member town,
//! Koordinator, Prüfer …), the rules that decide what a user may see and change ([`scope::Scope`]), the
//! validation of everything a user can type ([`validate`]), the audit hash chain and credential handling.

pub mod audit;
pub mod credentials;
pub mod error;
pub mod ids;
pub mod markup;
pub mod org;
pub mod scope;
pub mod user;
pub mod validate;

pub use error::DomainError;
pub use ids::*;
pub use scope::{Access, Owner, Scope};

/// Seconds since the Unix epoch; all instants are stored this way so both databases sort them alike.
pub type Timestamp = i64;

/// The current instant as a [`Timestamp`].
pub fn now() -> Timestamp {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
