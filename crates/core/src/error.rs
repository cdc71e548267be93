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
    /// The database cannot take the request right now; the caller should try again later. Nothing
    /// was changed.
    #[error("unavailable: {0:?}")]
    Unavailable(Unavailable),
}

/// Why the database cannot serve a request for the moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// The disk (or the database's size limit) is full: reads work, writes fail until space is
    /// freed.
    StorageFull,
    /// Another write (an import, say) holds the database longer than a writer waits.
    Busy,
}

impl Unavailable {
    /// The i18n key of the message shown to the user.
    pub fn message(self) -> &'static str {
        match self {
            Unavailable::StorageFull => "err.storage_full",
            Unavailable::Busy => "err.busy",
        }
    }
}

impl DomainError {
    pub fn field(field: &'static str, message: &'static str) -> Self {
        let mut e = FieldErrors::default();
        e.add(field, message);
        DomainError::Invalid(e)
    }
}

pub type Result<T, E = DomainError> = std::result::Result<T, E>;
