//! Issuer configuration from the environment (names fixed by DESIGN.md).

use std::time::Duration;

use crate::signing_key::{KeyError, SigningAlg};

/// Seconds the JWKS may be cached (`Cache-Control: max-age`); matches the
/// authorizer's default freshness bound.
pub const DEFAULT_JWKS_MAX_AGE: u64 = 300;
/// How long an instance trusts its in-memory keyset before re-reading the
/// store: a rotation done elsewhere reaches every instance within this.
pub const DEFAULT_KEYSET_TTL: Duration = Duration::from_secs(5);

#[derive(Clone, Debug)]
pub struct IssuerConfig {
    pub issuer: String,
    pub audiences: Vec<String>,
    pub token_ttl_seconds: u64,
    pub signing_alg: SigningAlg,
    pub jwks_max_age_seconds: u64,
    pub keyset_ttl: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is required")]
    Missing(&'static str),
    #[error("{name} must be a whole number, got {value:?}")]
    NotANumber { name: &'static str, value: String },
    #[error("{aws_name} is required (or {file_name}, a local file store for development)")]
    NoStore {
        aws_name: &'static str,
        file_name: &'static str,
    },
    #[error(transparent)]
    Algorithm(#[from] KeyError),
}

/// A whole-number setting, or its default when unset or blank.
fn number(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
) -> Result<u64, ConfigError> {
    match lookup(name).filter(|v| !v.trim().is_empty()) {
        None => Ok(default),
        Some(value) => value
            .trim()
            .parse()
            .map_err(|_| ConfigError::NotANumber { name, value }),
    }
}

/// Where the issuer Lambda keeps keys and accounts. There is no default:
/// an instance that invented its own file store in `/tmp` would sign with
/// keys no other instance publishes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreLocation {
    /// A Secrets Manager secret id (`KEYSET_SECRET_ID`) or DynamoDB table (`USERS_TABLE`).
    Aws(String),
    /// An explicit local file (`KEYSET_FILE` / `USERS_FILE`).
    File(String),
}

impl StoreLocation {
    /// `aws_name` when set, else `file_name`; neither is an error naming both.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        aws_name: &'static str,
        file_name: &'static str,
    ) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        match (get(aws_name), get(file_name)) {
            (Some(id), _) => Ok(Self::Aws(id)),
            (None, Some(path)) => Ok(Self::File(path)),
            (None, None) => Err(ConfigError::NoStore {
                aws_name,
                file_name,
            }),
        }
    }
}

impl IssuerConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let audiences: Vec<String> = get("JWT_AUDIENCE")
            .ok_or(ConfigError::Missing("JWT_AUDIENCE"))?
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect();
        if audiences.is_empty() {
            return Err(ConfigError::Missing("JWT_AUDIENCE"));
        }
        Ok(Self {
            issuer: get("JWT_ISSUER").ok_or(ConfigError::Missing("JWT_ISSUER"))?,
            audiences,
            token_ttl_seconds: number(&lookup, "TOKEN_TTL_SECONDS", 900)?,
            signing_alg: SigningAlg::from_name(get("SIGNING_ALG").as_deref().unwrap_or("RS256"))?,
            jwks_max_age_seconds: number(&lookup, "JWKS_MAX_AGE_SECONDS", DEFAULT_JWKS_MAX_AGE)?,
            keyset_ttl: DEFAULT_KEYSET_TTL,
        })
    }

    /// How long a `previous` key stays published: every token it signed has
    /// expired and every JWKS cache holding it has refreshed.
    pub fn grace_seconds(&self) -> u64 {
        self.token_ttl_seconds + self.jwks_max_age_seconds
    }
}

/// What the rotation Lambda needs: the signing algorithm and the grace of
/// `previous` keys (TOKEN_TTL_SECONDS + JWKS_MAX_AGE_SECONDS).
#[derive(Clone, Copy, Debug)]
pub struct RotationConfig {
    pub signing_alg: SigningAlg,
    pub grace_seconds: u64,
}

impl RotationConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let number = |name: &'static str, default: u64| match get(name) {
            None => Ok(default),
            Some(value) => value
                .trim()
                .parse()
                .map_err(|_| ConfigError::NotANumber { name, value }),
        };
        Ok(Self {
            signing_alg: SigningAlg::from_name(get("SIGNING_ALG").as_deref().unwrap_or("RS256"))?,
            grace_seconds: number("TOKEN_TTL_SECONDS", 900)?
                + number("JWKS_MAX_AGE_SECONDS", DEFAULT_JWKS_MAX_AGE)?,
        })
    }
}
