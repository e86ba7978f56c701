//! Issuer configuration from the environment (names fixed by docs/reference.md).

use std::time::Duration;

use dpop::{DpopSettings, DpopSettingsError};

use environment::{SettingError, Settings};

use crate::keys::{KeyError, SigningAlg};

/// Seconds the JWKS may be cached (`Cache-Control: max-age`); matches the
/// authorizer's default freshness bound.
pub const DEFAULT_JWKS_MAX_AGE: u64 = 300;
/// How long an instance trusts its in-memory keyset before re-reading the
/// store: a rotation done elsewhere reaches every instance within this.
pub const DEFAULT_KEYSET_TTL: Duration = Duration::from_secs(5);

/// Longest token lifetime accepted (a day): RFC 9068 access tokens are
/// short-lived, and `iat + ttl` must stay far from overflow.
pub const MAX_TOKEN_TTL_SECONDS: u64 = 24 * 3600;
/// Longest JWKS cache time accepted (a day), like the authorizer's cap on
/// the same setting: the grace arithmetic stays bounded.
pub const MAX_JWKS_MAX_AGE_SECONDS: u64 = 24 * 3600;
/// How long relying parties may cache a status list by default: a
/// revocation reaches them within this.
pub const DEFAULT_STATUS_LIST_MAX_AGE: u64 = 60;
/// Longest status list cache time accepted: an hour; revocation is the
/// point of the list.
pub const MAX_STATUS_LIST_MAX_AGE_SECONDS: u64 = 3600;

/// The issuer service's settings (`JWT_ISSUER`, `JWT_AUDIENCE`,
/// `TOKEN_TTL_SECONDS`, `SIGNING_ALG`, `JWKS_MAX_AGE_SECONDS`).
#[derive(Clone, Debug)]
pub struct IssuerConfig {
    /// The `iss` of every token, and the base of the discovery document.
    pub issuer: String,
    /// The `aud` of every token (one value is written as a string).
    pub audiences: Vec<String>,
    /// Access-token lifetime.
    pub token_ttl_seconds: u64,
    /// The algorithm of newly generated keys.
    pub signing_alg: SigningAlg,
    /// The JWKS response's `Cache-Control: max-age`.
    pub jwks_max_age_seconds: u64,
    /// How long an instance trusts its in-memory keyset.
    pub keyset_ttl: Duration,
    /// Least age of the `next` key before an admin rotation may activate
    /// it: every JWKS cache (`jwks_max_age_seconds`) and every instance's
    /// keyset cache (`keyset_ttl`) has then seen it, so no warm authorizer
    /// meets its `kid` unknown.
    pub rotation_spacing: Duration,
    /// `STATUS_LIST_MAX_AGE_SECONDS`: the status lists' `ttl` and
    /// `Cache-Control: max-age`.
    pub status_list_max_age_seconds: u64,
    /// DPoP proofs at the token endpoint: `DPOP_ALGORITHMS`,
    /// `DPOP_MAX_AGE_SECONDS`, `DPOP_REPLAY_TABLE` (the authorizer's).
    pub dpop: DpopSettings,
}

/// Why the environment was refused at start; the message names the variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is unset or blank.
    #[error("{0} is required")]
    Missing(&'static str),
    /// `DPOP_ALGORITHMS` or `DPOP_MAX_AGE_SECONDS` was refused.
    #[error(transparent)]
    Dpop(#[from] DpopSettingsError),
    /// A number out of its bounds, or not a number.
    #[error(transparent)]
    Setting(#[from] SettingError),
    /// Neither the AWS store nor the file store is configured.
    #[error("{aws_name} is required (or {file_name}, a local file store for development)")]
    NoStore {
        /// The AWS store's variable.
        aws_name: &'static str,
        /// The file store's variable.
        file_name: &'static str,
    },
    /// `SIGNING_ALG` is not one the issuer signs with.
    #[error(transparent)]
    Algorithm(#[from] KeyError),
}

/// `TOKEN_TTL_SECONDS`: at least a second, at most a day.
fn token_ttl(settings: &Settings<impl Fn(&str) -> Option<String>>) -> Result<u64, ConfigError> {
    Ok(settings.number_in("TOKEN_TTL_SECONDS", 900, 1..=MAX_TOKEN_TTL_SECONDS)?)
}

/// `JWKS_MAX_AGE_SECONDS`: 0 (no caching) up to a day.
fn jwks_max_age(settings: &Settings<impl Fn(&str) -> Option<String>>) -> Result<u64, ConfigError> {
    Ok(settings.number_in(
        "JWKS_MAX_AGE_SECONDS",
        DEFAULT_JWKS_MAX_AGE,
        0..=MAX_JWKS_MAX_AGE_SECONDS,
    )?)
}

/// Least age of the `next` key before a rotation (admin or Secrets
/// Manager) may activate it: every JWKS cache (`jwks_max_age_seconds`) and
/// every issuer instance's keyset cache (`keyset_ttl`) has then seen it, so
/// no warm authorizer meets its `kid` unknown.
fn rotation_spacing(jwks_max_age_seconds: u64, keyset_ttl: Duration) -> Duration {
    Duration::from_secs(jwks_max_age_seconds) + keyset_ttl
}

/// `SIGNING_ALG`, RS256 when unset.
fn signing_alg(
    settings: &Settings<impl Fn(&str) -> Option<String>>,
) -> Result<SigningAlg, KeyError> {
    SigningAlg::from_name(settings.text("SIGNING_ALG").as_deref().unwrap_or("RS256"))
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
        Self::from_lookup_or(lookup, aws_name, file_name, None)
    }

    /// `aws_name` when set, else `file_name`, else `fallback` (the local
    /// stack's data directory file); none of them is an error naming both.
    pub fn from_lookup_or(
        lookup: impl Fn(&str) -> Option<String>,
        aws_name: &'static str,
        file_name: &'static str,
        fallback: Option<&std::path::Path>,
    ) -> Result<Self, ConfigError> {
        let settings = Settings::new(lookup);
        match (settings.text(aws_name), settings.text(file_name), fallback) {
            (Some(id), _, _) => Ok(Self::Aws(id)),
            (None, Some(path), _) => Ok(Self::File(path)),
            (None, None, Some(path)) => Ok(Self::File(path.display().to_string())),
            (None, None, None) => Err(ConfigError::NoStore {
                aws_name,
                file_name,
            }),
        }
    }
}

impl IssuerConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(environment::process_lookup)
    }

    /// Reads settings through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let settings = Settings::new(lookup);
        let audiences = settings.list("JWT_AUDIENCE");
        if audiences.is_empty() {
            return Err(ConfigError::Missing("JWT_AUDIENCE"));
        }
        let jwks_max_age_seconds = jwks_max_age(&settings)?;
        Ok(Self {
            issuer: settings
                .text("JWT_ISSUER")
                .ok_or(ConfigError::Missing("JWT_ISSUER"))?,
            audiences,
            token_ttl_seconds: token_ttl(&settings)?,
            signing_alg: signing_alg(&settings)?,
            jwks_max_age_seconds,
            keyset_ttl: DEFAULT_KEYSET_TTL,
            rotation_spacing: rotation_spacing(jwks_max_age_seconds, DEFAULT_KEYSET_TTL),
            status_list_max_age_seconds: settings.number_in(
                "STATUS_LIST_MAX_AGE_SECONDS",
                DEFAULT_STATUS_LIST_MAX_AGE,
                1..=MAX_STATUS_LIST_MAX_AGE_SECONDS,
            )?,
            dpop: DpopSettings::from_settings(&settings)?,
        })
    }

    /// With another keyset cache time (one instance that watches its store
    /// needs less than the default), and the rotation spacing that follows.
    pub fn with_keyset_ttl(mut self, keyset_ttl: Duration) -> Self {
        self.keyset_ttl = keyset_ttl;
        self.rotation_spacing = rotation_spacing(self.jwks_max_age_seconds, keyset_ttl);
        self
    }

    /// How long a `previous` key stays published: every token it signed has
    /// expired and every JWKS cache holding it has refreshed.
    pub fn grace_seconds(&self) -> u64 {
        self.token_ttl_seconds + self.jwks_max_age_seconds
    }
}

/// What the rotation Lambda needs: the signing algorithm, the grace of
/// `previous` keys (TOKEN_TTL_SECONDS + JWKS_MAX_AGE_SECONDS) and the
/// rotation spacing the admin endpoint applies (JWKS_MAX_AGE_SECONDS + the
/// issuer's keyset cache time).
#[derive(Clone, Copy, Debug)]
pub struct RotationConfig {
    /// The algorithm of the keys the rotation generates.
    pub signing_alg: SigningAlg,
    /// How long a `previous` key stays published.
    pub grace_seconds: u64,
    /// Least age of the `next` key before a rotation may activate it (as
    /// [`IssuerConfig::rotation_spacing`] of an issuer Lambda).
    pub rotation_spacing: Duration,
}

impl RotationConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(environment::process_lookup)
    }

    /// Reads settings through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let settings = Settings::new(lookup);
        let jwks_max_age_seconds = jwks_max_age(&settings)?;
        Ok(Self {
            signing_alg: signing_alg(&settings)?,
            // Both bounded, so the sum cannot overflow.
            grace_seconds: token_ttl(&settings)? + jwks_max_age_seconds,
            // The issuer Lambda caches its keyset for the default time.
            rotation_spacing: rotation_spacing(jwks_max_age_seconds, DEFAULT_KEYSET_TTL),
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The issuer settings of the tests, with `name` set to `value`.
    pub(crate) fn issuer_with(name: &str, value: &str) -> Result<IssuerConfig, ConfigError> {
        let (name, value) = (name.to_owned(), value.to_owned());
        IssuerConfig::from_lookup(move |n| match n {
            "JWT_ISSUER" => Some("https://issuer.test".to_owned()),
            "JWT_AUDIENCE" => Some("books-api".to_owned()),
            n if n == name => Some(value.clone()),
            _ => None,
        })
    }

    #[test]
    fn zero_and_overflowing_lifetimes_are_refused_naming_the_setting() {
        for (name, value) in [
            ("TOKEN_TTL_SECONDS", "0"),
            ("TOKEN_TTL_SECONDS", "18446744073709551615"),
            ("TOKEN_TTL_SECONDS", "86401"),
            ("JWKS_MAX_AGE_SECONDS", "18446744073709551615"),
            ("TOKEN_TTL_SECONDS", "-5"),
            ("STATUS_LIST_MAX_AGE_SECONDS", "0"),
            ("STATUS_LIST_MAX_AGE_SECONDS", "3601"),
        ] {
            let error = issuer_with(name, value).unwrap_err().to_string();
            assert!(error.contains(name), "{name}={value}: {error}");
        }
        let huge = |name: &str| {
            RotationConfig::from_lookup(|n| (n == name).then(|| u64::MAX.to_string())).is_err()
        };
        assert!(huge("TOKEN_TTL_SECONDS") && huge("JWKS_MAX_AGE_SECONDS"));
    }

    #[test]
    fn bounds_themselves_are_accepted() {
        assert_eq!(
            issuer_with("TOKEN_TTL_SECONDS", "1")
                .unwrap()
                .token_ttl_seconds,
            1
        );
        let day = issuer_with("TOKEN_TTL_SECONDS", "86400").unwrap();
        assert_eq!(day.grace_seconds(), 86400 + DEFAULT_JWKS_MAX_AGE);
        assert_eq!(
            issuer_with("JWKS_MAX_AGE_SECONDS", "0")
                .unwrap()
                .jwks_max_age_seconds,
            0
        );
        let rotation = RotationConfig::from_lookup(|_| None).unwrap();
        assert_eq!(rotation.grace_seconds, 900 + DEFAULT_JWKS_MAX_AGE);
        let status = |value| {
            issuer_with("STATUS_LIST_MAX_AGE_SECONDS", value)
                .unwrap()
                .status_list_max_age_seconds
        };
        assert_eq!((status("1"), status("3600")), (1, 3600));
        let default = issuer_with("UNRELATED", "x").unwrap();
        assert_eq!(default.status_list_max_age_seconds, 60);
    }

    #[test]
    fn the_rotation_lambda_spaces_rotations_as_the_issuer_does() {
        for max_age in ["0", "60", "300"] {
            let issuer = issuer_with("JWKS_MAX_AGE_SECONDS", max_age).unwrap();
            let rotation = RotationConfig::from_lookup(|n| {
                (n == "JWKS_MAX_AGE_SECONDS").then(|| max_age.into())
            })
            .unwrap();
            assert_eq!(
                rotation.rotation_spacing, issuer.rotation_spacing,
                "{max_age}"
            );
        }
        let issuer = issuer_with("JWKS_MAX_AGE_SECONDS", "60").unwrap();
        assert_eq!(issuer.rotation_spacing, Duration::from_secs(65));
    }
}
