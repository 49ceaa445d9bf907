//! The store's one error enum and its mapping to the shared [`ErrorCode`] strings.

use crux_llm::ErrorCode;

/// Result alias for store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything a store operation can fail with. Messages never contain secrets.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL is not `sqlite://…` or `postgres://…`, or does not parse.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// The database answered with an error, or could not be reached.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The database schema is newer than this build knows, or an applied migration was edited afterwards.
    #[error("{0}")]
    Schema(String),
    /// Storing or reading provider keys needs a vault key and none was given.
    #[error(
        "no vault key: create one with `crux keys init` (writes a 0600 key file) or set CRUX_VAULT_KEY \
         to the base64 of 32 random bytes"
    )]
    NoVaultKey,
    /// The vault key does not decrypt the stored keys.
    #[error("cannot decrypt stored keys: the vault key does not match")]
    VaultMismatch,
    /// The vault key material is malformed.
    #[error("invalid vault key: {0}")]
    InvalidVaultKey(String),
    /// A stored value does not have the expected shape.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// The named thing does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The operation conflicts with existing state (a duplicate name, a non-empty destination).
    #[error("{0}")]
    Conflict(String),
    /// The caller passed an invalid value.
    #[error("{0}")]
    Invalid(String),
    /// A copy's verification found different counts or checksums.
    #[error("verification failed: {0}")]
    Verify(String),
    /// A file-system operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}

impl StoreError {
    /// The shared error code: `validation` for bad input or configuration, `auth` for a vault key that does not
    /// match, `unavailable` when the database cannot be reached, `conflict`, `not_found`, else `internal`.
    pub fn code(&self) -> ErrorCode {
        match self {
            StoreError::InvalidUrl(_)
            | StoreError::NoVaultKey
            | StoreError::InvalidVaultKey(_)
            | StoreError::Invalid(_) => ErrorCode::Validation,
            StoreError::VaultMismatch => ErrorCode::Auth,
            StoreError::NotFound(_) => ErrorCode::NotFound,
            StoreError::Conflict(_) => ErrorCode::Conflict,
            StoreError::Database(e) => database_code(e),
            StoreError::Schema(_)
            | StoreError::Corrupt(_)
            | StoreError::Verify(_)
            | StoreError::Io { .. }
            | StoreError::Random => ErrorCode::Internal,
        }
    }

    /// Wraps an I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        StoreError::Io {
            context: context.into(),
            source,
        }
    }
}

fn database_code(e: &sqlx::Error) -> ErrorCode {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => ErrorCode::Unavailable,
        sqlx::Error::Configuration(_) => ErrorCode::Validation,
        sqlx::Error::RowNotFound => ErrorCode::NotFound,
        sqlx::Error::Database(db) if db.is_unique_violation() => ErrorCode::Conflict,
        _ => ErrorCode::Internal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(StoreError::NoVaultKey.code(), ErrorCode::Validation);
        assert_eq!(StoreError::VaultMismatch.code(), ErrorCode::Auth);
        assert_eq!(
            StoreError::Database(sqlx::Error::PoolTimedOut).code(),
            ErrorCode::Unavailable
        );
        assert!(
            StoreError::NoVaultKey
                .to_string()
                .contains("crux keys init")
        );
        assert!(
            StoreError::NoVaultKey
                .to_string()
                .contains("CRUX_VAULT_KEY")
        );
    }
}
