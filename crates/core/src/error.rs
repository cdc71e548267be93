//! The one error type of the domain. The web layer maps it to status codes and problem documents.

use crate::validate::FieldErrors;

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The input was understood but is not acceptable; each field names what is wrong.
    #[error("invalid input")]
    Invalid(FieldErrors),
    /// The object does not exist or lies outside the caller's scope; both look the same to the caller
    /// so that nobody learns which ids exist in other towns.
    #[error("not found")]
    NotFound,
    /// The caller may see the object but not do this to it.
    #[error("forbidden")]
    Forbidden,
    /// The change conflicts with existing data (a duplicate name, a dependent object).
    #[error("conflict")]
    Conflict(FieldErrors),
    /// Something failed that the caller cannot fix; the cause is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl DomainError {
    pub fn field(field: &'static str, message: &'static str) -> Self {
        let mut e = FieldErrors::default();
        e.add(field, message);
        DomainError::Invalid(e)
    }
}

pub type Result<T, E = DomainError> = std::result::Result<T, E>;
