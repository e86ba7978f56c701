//! Password and client-secret hashing: argon2id (the crate's defaults:
//! 19 MiB, 2 passes, 1 lane; OWASP's recommended minimum).

use std::sync::OnceLock;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

/// argon2 refused to hash (never for a valid secret: a bug, not input).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed")]
pub struct HashError;

/// A PHC-format argon2id hash of `secret` with a random salt.
pub fn hash_secret(secret: &str) -> Result<String, HashError> {
    Argon2::default()
        .hash_password(secret.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|_| HashError)
}

/// Whether `secret` matches `hash`. A malformed hash is a mismatch.
pub fn verify_secret(secret: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(secret.as_bytes(), hash)
        .is_ok()
}

/// Verifies `secret` against a fixed hash and discards the result: an
/// unknown account costs the same time as a wrong password, so response
/// timing does not reveal which names exist.
pub fn verify_against_dummy(secret: &str) {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    if let Some(hash) = DUMMY.get_or_init(|| hash_secret("tollgate-dummy-password-for-timing").ok())
    {
        let _ = verify_secret(secret, hash);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_salted() {
        let a = hash_secret("correct horse").unwrap();
        let b = hash_secret("correct horse").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "random salt");
        assert!(verify_secret("correct horse", &a));
        assert!(!verify_secret("wrong horse", &a));
        assert!(!verify_secret("x", "not a hash"));
    }
}
