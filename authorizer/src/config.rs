//! Authorizer configuration, read once from the environment at Lambda init.
//! Names and defaults are the contract of docs/reference.md.

use std::sync::Arc;
use std::time::Duration;

use environment::{SettingError, Settings};
use serde::Deserialize;

use crate::claim_mapping::{ClaimMapping, ClaimMappingError};
use crate::route_rules::{RouteRules, RouteRulesError};
use crate::route_scopes::{RouteScopes, RouteScopesError};
use crate::route_table::RouteTable;
use crate::sender_settings::{SenderSettings, SenderSettingsError};

/// The largest duration setting honoured (one year); larger values are capped.
pub const MAX_DURATION_SECONDS: u64 = 365 * 24 * 3600;

/// One trusted issuer. Its keys verify only tokens whose `iss` is exactly `issuer`.
/// Unknown members are refused: a typo (`audience`, `jwks_url`) would
/// otherwise silently inherit `JWT_AUDIENCE` or fall back to discovery.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedIssuer {
    /// The exact `iss` value.
    pub issuer: String,
    /// Its JWKS URL; `None`: OIDC discovery.
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// Accepted `aud` (or `client_id`) values.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Where this issuer's status lists are fetched from when it does not
    /// serve them at its own URL: a local stack serving on another address
    /// than the `iss` it fixed. Their URIs (and `sub`) stay under `issuer`,
    /// on its origin; the https-or-loopback rule then applies to this URL,
    /// the one fetched, rather than to the URI. Set by the embedding program
    /// only, never from the environment.
    #[serde(skip)]
    pub status_lists_served_at: Option<String>,
}

/// Where an issuer's keys are found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JwksSource {
    /// A configured JWKS URL.
    Uri(String),
    /// The `jwks_uri` of this OpenID Connect discovery document, whose
    /// `issuer` must equal the configured issuer exactly.
    Discovery(String),
}

impl JwksSource {
    /// The URL to fetch first.
    pub fn url(&self) -> &str {
        match self {
            JwksSource::Uri(url) | JwksSource::Discovery(url) => url,
        }
    }
}

impl TrustedIssuer {
    /// Where the status list at `uri` (one of this issuer's) is fetched:
    /// `uri` itself, or under [`Self::status_lists_served_at`].
    pub fn status_list_fetch_url(&self, uri: &str) -> String {
        let own = self.issuer.trim_end_matches('/');
        match (&self.status_lists_served_at, uri.strip_prefix(own)) {
            (Some(base), Some(rest)) => format!("{}{rest}", base.trim_end_matches('/')),
            _ => uri.to_owned(),
        }
    }

    /// The configured JWKS URL, else OIDC discovery at
    /// `{issuer}/.well-known/openid-configuration` (Okta, Keycloak and Entra
    /// ID serve no `{issuer}/.well-known/jwks.json`).
    pub fn jwks_source(&self) -> JwksSource {
        match &self.jwks_uri {
            Some(uri) => JwksSource::Uri(uri.clone()),
            None => JwksSource::Discovery(format!(
                "{}/.well-known/openid-configuration",
                self.issuer.trim_end_matches('/')
            )),
        }
    }
}

/// Whether a parsed URL's host is loopback (127.0.0.0/8, `::1`, `localhost`).
pub(crate) fn is_loopback_host(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(host)) => host.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Whether `url` names a loopback host: such requests never go through a proxy.
pub fn is_loopback_url(url: &str) -> bool {
    reqwest::Url::parse(url).is_ok_and(|url| is_loopback_host(&url))
}

/// Refuses a key, discovery or status list URL that is not `https`, unless
/// its host is loopback (127.0.0.0/8, `::1`, `localhost`): keys or lists
/// fetched in clear text from anywhere else could be swapped on the way.
pub fn check_fetch_url(url: &str) -> Result<(), ConfigError> {
    let bad = |why: &str| ConfigError::InsecureUrl {
        url: url.to_owned(),
        why: why.to_owned(),
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    match parsed.scheme() {
        "https" if parsed.host().is_some() => Ok(()),
        "http" if is_loopback_host(&parsed) => Ok(()),
        "http" => Err(bad("http is allowed only on a loopback host; use https")),
        _ => Err(bad("not an https URL")),
    }
}

/// How the key cache fetches and keeps each issuer's JWKS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheSettings {
    /// Upper bound on freshness; a smaller `Cache-Control: max-age` wins.
    pub max_age: Duration,
    /// Least time between two fetches caused by unknown `kid`s (and between
    /// retries after a failed fetch).
    pub refresh_cooldown: Duration,
    /// How long a set past its freshness may serve while refetches fail.
    pub max_stale: Duration,
    /// Whole-request timeout of one fetch.
    pub fetch_timeout: Duration,
    /// Largest JWKS body accepted.
    pub max_body_bytes: usize,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            max_age: Duration::from_secs(300),
            refresh_cooldown: Duration::from_secs(10),
            max_stale: Duration::from_secs(3600),
            fetch_timeout: Duration::from_millis(1500),
            max_body_bytes: 256 * 1024,
        }
    }
}

/// `STATUS_LIST_CHECK`: which tokens must pass a status list check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StatusCheck {
    /// Status claims are ignored.
    Off,
    /// A token with a `status.status_list` claim is checked; one without passes.
    #[default]
    IfPresent,
    /// Every token must name a status list, and pass its check.
    Required,
}

impl StatusCheck {
    fn from_setting(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "off" => Some(Self::Off),
            "if_present" => Some(Self::IfPresent),
            "required" => Some(Self::Required),
            _ => None,
        }
    }
}

/// How status lists are checked and cached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusSettings {
    /// `STATUS_LIST_CHECK`.
    pub check: StatusCheck,
    /// `STATUS_LIST_MAX_AGE_SECONDS`: upper bound on a list's freshness;
    /// its `ttl` and `Cache-Control: max-age` are honoured below it.
    pub max_age: Duration,
    /// `STATUS_LIST_MAX_STALE_SECONDS`: how long a list past its freshness
    /// may still serve while refetches fail (never past its `exp`).
    pub max_stale: Duration,
}

impl Default for StatusSettings {
    fn default() -> Self {
        Self {
            check: StatusCheck::IfPresent,
            max_age: Duration::from_secs(60),
            max_stale: Duration::from_secs(300),
        }
    }
}

/// Everything the authorizer needs to run.
#[derive(Clone, Debug)]
pub struct AuthorizerConfig {
    /// The trusted issuers, each with its own keys and audiences.
    pub issuers: Vec<TrustedIssuer>,
    /// JWKS fetching and freshness.
    pub cache: CacheSettings,
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    pub leeway_seconds: u64,
    /// `ROUTE_SCOPES`: which scopes grant each route.
    pub route_scopes: RouteScopes,
    /// `ROUTE_RULES`: conditions and bound path parameters on some routes.
    pub route_rules: Arc<RouteRules>,
    /// HTTP API payload 2.0: answer `isAuthorized` instead of an IAM policy.
    pub http_api_simple_responses: bool,
    /// Entries of the decision cache (verified tokens).
    pub decision_cache_capacity: u64,
    /// `SCOPE_CLAIMS`, `CONTEXT_CLAIMS`, `PRINCIPAL_CLAIM`.
    pub claim_mapping: ClaimMapping,
    /// `JWT_REQUIRED_TYP`: the header `typ` every token must have.
    pub required_typ: Option<String>,
    /// `JWT_ALLOW_ID_TOKENS`: accept `token_use: "id"` (Cognito).
    pub allow_id_tokens: bool,
    /// `STATUS_LIST_CHECK` and the status lists' cache times.
    pub status: StatusSettings,
    /// `DPOP_MODE` and the DPoP proof settings.
    pub sender: SenderSettings,
    /// `JWKS_SNAPSHOT`: a JWKS file packaged with the function (or its JSON),
    /// read by [`crate::Authorizer::new`].
    pub jwks_snapshot: Option<String>,
    /// `JWKS_SNAPSHOT_MAX_AGE_SECONDS`: an older snapshot is not used.
    pub jwks_snapshot_max_age: Duration,
}

/// Why the environment was refused at start; the message names the variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Neither `JWT_ISSUER` nor `TRUSTED_ISSUERS`.
    #[error("set JWT_ISSUER or TRUSTED_ISSUERS")]
    NoIssuer,
    /// No `JWT_AUDIENCE`.
    #[error("JWT_AUDIENCE is required (comma-separated accepted audiences)")]
    NoAudience,
    /// A trusted issuer with no audience and no `JWT_AUDIENCE` to inherit.
    #[error("issuer {0:?} has no audiences")]
    IssuerWithoutAudience(String),
    /// The same issuer twice in `TRUSTED_ISSUERS`.
    #[error("issuer {0:?} is listed twice")]
    DuplicateIssuer(String),
    /// `TRUSTED_ISSUERS` is not the documented JSON.
    #[error(
        "TRUSTED_ISSUERS is not a JSON array of {{\"issuer\",\"jwks_uri\",\"audiences\"}}: {0}"
    )]
    TrustedIssuers(String),
    /// A number or flag setting that is not one (the message names it).
    #[error(transparent)]
    Setting(#[from] SettingError),
    /// `ROUTE_SCOPES` was refused.
    #[error("ROUTE_SCOPES: {0}")]
    RouteScopes(#[from] RouteScopesError),
    /// `ROUTE_RULES` was refused.
    #[error("ROUTE_RULES: {0}")]
    RouteRules(#[from] RouteRulesError),
    /// No `ROUTE_SCOPES`, and the program gave no table of its own.
    #[error(
        "ROUTE_SCOPES is required (a JSON object of \"METHOD /path\" to the scopes that grant it)"
    )]
    NoRouteScopes,
    /// `SCOPE_CLAIMS`, `CONTEXT_CLAIMS` or `PRINCIPAL_CLAIM` was refused.
    #[error("claim settings: {0}")]
    ClaimMapping(#[from] ClaimMappingError),
    /// `STATUS_LIST_CHECK` is not `off`, `if_present` or `required`.
    #[error("STATUS_LIST_CHECK must be off, if_present or required, not {0:?}")]
    StatusListCheck(String),
    /// A `DPOP_*` setting was refused.
    #[error(transparent)]
    Sender(#[from] SenderSettingsError),
    /// A key or discovery URL that is not https (or loopback http).
    #[error("refusing key URL {url:?}: {why}")]
    InsecureUrl {
        /// The refused URL.
        url: String,
        /// Why.
        why: String,
    },
}

impl AuthorizerConfig {
    /// Reads the process environment; `default_routes` is the table used
    /// when `ROUTE_SCOPES` is unset (none: it is required), its rules unless
    /// `ROUTE_RULES` is set.
    pub fn from_env(default_routes: Option<RouteTable>) -> Result<Self, ConfigError> {
        Self::from_lookup(environment::process_lookup, default_routes)
    }

    /// Reads configuration through `lookup` (the environment, or a map in
    /// tests), as [`Self::from_env`] does.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        default_routes: Option<RouteTable>,
    ) -> Result<Self, ConfigError> {
        let settings = Settings::new(lookup);
        let (route_scopes, default_rules) = match (settings.text("ROUTE_SCOPES"), default_routes) {
            (Some(json), _) => (RouteScopes::from_json(&json)?, None),
            (None, Some(table)) => (table.scopes, Some(table.rules)),
            (None, None) => return Err(ConfigError::NoRouteScopes),
        };
        let route_rules = match (settings.text("ROUTE_RULES"), default_rules) {
            (Some(json), _) => Arc::new(RouteRules::from_json(&json, &route_scopes)?),
            (None, Some(rules)) => rules,
            (None, None) => Arc::new(RouteRules::none()),
        };
        let claim_mapping = ClaimMapping::new(
            settings.text("SCOPE_CLAIMS").as_deref(),
            settings.text("CONTEXT_CLAIMS").as_deref(),
            settings.text("PRINCIPAL_CLAIM").as_deref(),
        )?;
        let config = Self {
            cache: cache_settings(&settings)?,
            // Beyond minutes, a "leeway" stops being clock skew and switches
            // off expiry.
            leeway_seconds: settings.number_in("JWT_LEEWAY_SECONDS", 30, 0..=300)?,
            route_scopes,
            route_rules,
            http_api_simple_responses: settings.flag("HTTP_API_SIMPLE_RESPONSES")?,
            decision_cache_capacity: settings.number("DECISION_CACHE_MAX_ENTRIES", 4096)?,
            claim_mapping,
            required_typ: settings
                .text("JWT_REQUIRED_TYP")
                .map(|t| t.trim().to_owned()),
            allow_id_tokens: settings.flag("JWT_ALLOW_ID_TOKENS")?,
            status: status_settings(&settings)?,
            sender: SenderSettings::from_settings(&settings)?,
            issuers: trusted_issuers(&settings)?,
            jwks_snapshot: settings.text("JWKS_SNAPSHOT").map(|value| {
                crate::jwks_snapshot::locate(&value, settings.text("LAMBDA_TASK_ROOT").as_deref())
            }),
            jwks_snapshot_max_age: Duration::from_secs(
                settings
                    .number("JWKS_SNAPSHOT_MAX_AGE_SECONDS", 86400)?
                    .min(MAX_DURATION_SECONDS),
            ),
        };
        for issuer in &config.issuers {
            check_fetch_url(issuer.jwks_source().url())?;
        }
        Ok(config)
    }
}

/// `TRUSTED_ISSUERS`, or the one issuer of `JWT_ISSUER` / `JWKS_URI`; an
/// issuer without its own audiences takes `JWT_AUDIENCE`'s.
fn trusted_issuers(
    settings: &Settings<impl Fn(&str) -> Option<String>>,
) -> Result<Vec<TrustedIssuer>, ConfigError> {
    let audiences = settings.list("JWT_AUDIENCE");
    let mut issuers: Vec<TrustedIssuer> = match settings.text("TRUSTED_ISSUERS") {
        Some(json) => {
            serde_json::from_str(&json).map_err(|e| ConfigError::TrustedIssuers(e.to_string()))?
        }
        None => {
            let issuer = settings.text("JWT_ISSUER").ok_or(ConfigError::NoIssuer)?;
            if audiences.is_empty() {
                return Err(ConfigError::NoAudience);
            }
            vec![TrustedIssuer {
                issuer,
                jwks_uri: settings.text("JWKS_URI"),
                audiences: audiences.clone(),
                status_lists_served_at: None,
            }]
        }
    };
    if issuers.is_empty() {
        return Err(ConfigError::NoIssuer);
    }
    for issuer in issuers.iter_mut() {
        if issuer.audiences.is_empty() {
            if audiences.is_empty() {
                return Err(ConfigError::IssuerWithoutAudience(issuer.issuer.clone()));
            }
            issuer.audiences = audiences.clone();
        }
    }
    let mut seen = std::collections::HashSet::new();
    for issuer in &issuers {
        if !seen.insert(issuer.issuer.as_str()) {
            return Err(ConfigError::DuplicateIssuer(issuer.issuer.clone()));
        }
    }
    Ok(issuers)
}

/// The JWKS cache's timings, each capped at [`MAX_DURATION_SECONDS`] so
/// cache-time arithmetic on `Instant` cannot overflow.
fn cache_settings(
    settings: &Settings<impl Fn(&str) -> Option<String>>,
) -> Result<CacheSettings, ConfigError> {
    let capped = |name: &'static str, default: u64| -> Result<u64, ConfigError> {
        Ok(settings.number(name, default)?.min(MAX_DURATION_SECONDS))
    };
    Ok(CacheSettings {
        max_age: Duration::from_secs(capped("JWKS_MAX_AGE_SECONDS", 300)?),
        refresh_cooldown: Duration::from_secs(capped("JWKS_REFRESH_COOLDOWN_SECONDS", 10)?),
        max_stale: Duration::from_secs(capped("JWKS_MAX_STALE_SECONDS", 3600)?),
        fetch_timeout: Duration::from_millis(capped("JWKS_FETCH_TIMEOUT_MS", 1500)?),
        max_body_bytes: 256 * 1024,
    })
}

/// `STATUS_LIST_CHECK`, `STATUS_LIST_MAX_AGE_SECONDS` (1 s to a day) and
/// `STATUS_LIST_MAX_STALE_SECONDS` (at most a day).
fn status_settings(
    settings: &Settings<impl Fn(&str) -> Option<String>>,
) -> Result<StatusSettings, ConfigError> {
    let check = match settings.text("STATUS_LIST_CHECK") {
        None => StatusCheck::default(),
        Some(value) => {
            StatusCheck::from_setting(&value).ok_or(ConfigError::StatusListCheck(value))?
        }
    };
    const DAY: u64 = 24 * 3600;
    Ok(StatusSettings {
        check,
        max_age: Duration::from_secs(settings.number_in(
            "STATUS_LIST_MAX_AGE_SECONDS",
            60,
            1..=DAY,
        )?),
        max_stale: Duration::from_secs(settings.number_in(
            "STATUS_LIST_MAX_STALE_SECONDS",
            300,
            0..=DAY,
        )?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(pairs: &[(&str, &str)]) -> Result<AuthorizerConfig, ConfigError> {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        AuthorizerConfig::from_lookup(
            |name| env.get(name).cloned(),
            Some(crate::route_scopes::books_routes().into()),
        )
    }

    /// One issuer and audience, plus `name=value`.
    fn load_with(name: &str, value: &str) -> Result<AuthorizerConfig, ConfigError> {
        load(&[("JWT_ISSUER", "i"), ("JWT_AUDIENCE", "a"), (name, value)])
    }

    #[test]
    fn defaults_follow_the_contract() {
        let config = load(&[
            ("JWT_ISSUER", "https://id.example/"),
            ("JWT_AUDIENCE", "a, b"),
        ])
        .unwrap();
        assert_eq!(config.issuers.len(), 1);
        assert_eq!(config.issuers[0].audiences, ["a", "b"]);
        assert_eq!(
            config.issuers[0].jwks_source(),
            JwksSource::Discovery("https://id.example/.well-known/openid-configuration".into())
        );
        assert_eq!(config.claim_mapping, ClaimMapping::default());
        assert_eq!(config.required_typ, None);
        assert!(!config.allow_id_tokens);
        assert_eq!(config.cache, CacheSettings::default());
        assert_eq!(config.cache.max_age, Duration::from_secs(300));
        assert_eq!(config.cache.refresh_cooldown, Duration::from_secs(10));
        assert_eq!(config.cache.max_stale, Duration::from_secs(3600));
        assert_eq!(config.cache.fetch_timeout, Duration::from_millis(1500));
        assert_eq!(config.leeway_seconds, 30);
        assert!(!config.http_api_simple_responses);
        assert_eq!(config.route_scopes, crate::route_scopes::books_routes());
        assert_eq!(config.status, StatusSettings::default());
        assert_eq!(config.status.check, StatusCheck::IfPresent);
        assert_eq!(config.status.max_age, Duration::from_secs(60));
        assert_eq!(config.status.max_stale, Duration::from_secs(300));
    }

    #[test]
    fn status_list_settings_are_read_and_bounded() {
        let load_with = |name, value| {
            load(&[
                ("JWT_ISSUER", "https://i"),
                ("JWT_AUDIENCE", "a"),
                (name, value),
            ])
        };
        for (value, check) in [
            ("off", StatusCheck::Off),
            ("if_present", StatusCheck::IfPresent),
            ("REQUIRED", StatusCheck::Required),
        ] {
            assert_eq!(
                load_with("STATUS_LIST_CHECK", value).unwrap().status.check,
                check
            );
        }
        assert!(matches!(
            load_with("STATUS_LIST_CHECK", "sometimes"),
            Err(ConfigError::StatusListCheck(_))
        ));
        let age = load_with("STATUS_LIST_MAX_AGE_SECONDS", "5").unwrap();
        assert_eq!(age.status.max_age, Duration::from_secs(5));
        let stale = load_with("STATUS_LIST_MAX_STALE_SECONDS", "0").unwrap();
        assert_eq!(stale.status.max_stale, Duration::ZERO);
        for (name, value) in [
            ("STATUS_LIST_MAX_AGE_SECONDS", "0"),
            ("STATUS_LIST_MAX_AGE_SECONDS", "86401"),
            ("STATUS_LIST_MAX_STALE_SECONDS", "86401"),
        ] {
            assert!(
                matches!(load_with(name, value), Err(ConfigError::Setting(_))),
                "{name}={value}"
            );
        }
    }

    #[test]
    fn overrides_are_read() {
        let config = load(&[
            ("JWT_ISSUER", "i"),
            ("JWKS_URI", "http://127.0.0.1:1/jwks"),
            ("JWT_AUDIENCE", "a"),
            ("JWKS_MAX_AGE_SECONDS", "60"),
            ("JWKS_REFRESH_COOLDOWN_SECONDS", "2"),
            ("JWKS_MAX_STALE_SECONDS", "0"),
            ("JWKS_FETCH_TIMEOUT_MS", "250"),
            ("JWT_LEEWAY_SECONDS", "5"),
            ("HTTP_API_SIMPLE_RESPONSES", "true"),
            ("JWT_REQUIRED_TYP", "at+jwt"),
            ("JWT_ALLOW_ID_TOKENS", "true"),
            ("SCOPE_CLAIMS", "cognito:groups"),
        ])
        .unwrap();
        assert_eq!(config.required_typ.as_deref(), Some("at+jwt"));
        assert!(config.allow_id_tokens);
        assert_eq!(
            config.claim_mapping.scope_claims()[0].as_str(),
            "cognito:groups"
        );
        let huge = load(&[
            ("JWT_ISSUER", "https://i"),
            ("JWT_AUDIENCE", "a"),
            ("JWKS_MAX_STALE_SECONDS", "18446744073709551615"),
        ])
        .unwrap();
        assert_eq!(
            huge.cache.max_stale,
            Duration::from_secs(MAX_DURATION_SECONDS)
        );
        assert_eq!(
            config.issuers[0].jwks_source(),
            JwksSource::Uri("http://127.0.0.1:1/jwks".into())
        );
        assert_eq!(config.cache.max_age, Duration::from_secs(60));
        assert_eq!(config.cache.refresh_cooldown, Duration::from_secs(2));
        assert_eq!(config.cache.max_stale, Duration::ZERO);
        assert_eq!(config.cache.fetch_timeout, Duration::from_millis(250));
        assert_eq!(config.leeway_seconds, 5);
        assert!(config.http_api_simple_responses);
    }

    #[test]
    fn trusted_issuers_bind_audiences_per_issuer() {
        let config = load(&[
            ("JWT_AUDIENCE", "fallback"),
            (
                "TRUSTED_ISSUERS",
                r#"[{"issuer":"https://a","jwks_uri":"https://a/keys","audiences":["x"]},{"issuer":"https://b"}]"#,
            ),
        ])
        .unwrap();
        assert_eq!(config.issuers[0].audiences, ["x"]);
        assert_eq!(config.issuers[1].audiences, ["fallback"]);
        assert_eq!(
            config.issuers[1].jwks_source(),
            JwksSource::Discovery("https://b/.well-known/openid-configuration".into())
        );
    }

    #[test]
    fn key_urls_must_be_https_unless_loopback() {
        for ok in [
            "https://idp.example/keys",
            "http://127.0.0.1:8080/jwks",
            "http://127.8.9.10/jwks",
            "http://localhost:9/jwks",
            "http://LOCALHOST/jwks",
            "http://[::1]:9/jwks",
        ] {
            assert!(check_fetch_url(ok).is_ok(), "{ok}");
        }
        for refused in [
            "http://idp.example/keys",
            "http://10.0.0.1/jwks",
            "http://localhost.evil.example/jwks",
            "http://127.0.0.1.nip.io/jwks",
            "ftp://127.0.0.1/jwks",
            "file:///etc/jwks.json",
            "not a url",
            "https://",
        ] {
            assert!(
                matches!(
                    check_fetch_url(refused),
                    Err(ConfigError::InsecureUrl { .. })
                ),
                "{refused}"
            );
        }
        // At start, for a configured JWKS_URI and for discovery alike.
        assert!(matches!(
            load(&[
                ("JWT_ISSUER", "https://i"),
                ("JWT_AUDIENCE", "a"),
                ("JWKS_URI", "http://idp.example/jwks")
            ]),
            Err(ConfigError::InsecureUrl { .. })
        ));
        assert!(matches!(
            load(&[("JWT_ISSUER", "http://idp.example"), ("JWT_AUDIENCE", "a")]),
            Err(ConfigError::InsecureUrl { .. })
        ));
        assert!(matches!(
            load(&[
                ("JWT_AUDIENCE", "a"),
                (
                    "TRUSTED_ISSUERS",
                    r#"[{"issuer":"https://a","jwks_uri":"http://a/keys"}]"#
                )
            ]),
            Err(ConfigError::InsecureUrl { .. })
        ));
        assert!(load(&[
            ("JWT_ISSUER", "http://127.0.0.1:8080"),
            ("JWT_AUDIENCE", "a")
        ])
        .is_ok());
    }

    #[test]
    fn bad_configuration_is_refused() {
        assert!(matches!(
            load(&[("JWT_AUDIENCE", "a")]),
            Err(ConfigError::NoIssuer)
        ));
        assert!(matches!(
            load(&[("JWT_ISSUER", "i")]),
            Err(ConfigError::NoAudience)
        ));
        assert!(matches!(
            load(&[("TRUSTED_ISSUERS", "[]")]),
            Err(ConfigError::NoIssuer)
        ));
        assert!(matches!(
            load(&[("TRUSTED_ISSUERS", "{")]),
            Err(ConfigError::TrustedIssuers(_))
        ));
        assert!(matches!(
            load(&[("TRUSTED_ISSUERS", r#"[{"issuer":"i"}]"#)]),
            Err(ConfigError::IssuerWithoutAudience(_))
        ));
        assert!(matches!(
            load(&[
                ("JWT_AUDIENCE", "a"),
                ("TRUSTED_ISSUERS", r#"[{"issuer":"i"},{"issuer":"i"}]"#)
            ]),
            Err(ConfigError::DuplicateIssuer(_))
        ));
        assert!(matches!(
            load_with("JWT_LEEWAY_SECONDS", "-1"),
            Err(ConfigError::Setting(SettingError::NotANumber { .. }))
        ));
        assert!(matches!(
            load_with("HTTP_API_SIMPLE_RESPONSES", "maybe"),
            Err(ConfigError::Setting(SettingError::NotABool { .. }))
        ));
        assert!(matches!(
            load_with("ROUTE_SCOPES", "{}"),
            Err(ConfigError::RouteScopes(_))
        ));
        // The library has no table of its own.
        let no_table = AuthorizerConfig::from_lookup(
            |name| match name {
                "JWT_ISSUER" => Some("https://i".to_owned()),
                "JWT_AUDIENCE" => Some("a".to_owned()),
                _ => None,
            },
            None,
        );
        assert!(matches!(no_table, Err(ConfigError::NoRouteScopes)));
    }

    /// A leeway of years would switch expiry off.
    #[test]
    fn leeway_is_clock_skew_not_years() {
        let too_long = load_with("JWT_LEEWAY_SECONDS", "301");
        assert!(
            matches!(
                too_long,
                Err(ConfigError::Setting(SettingError::OutOfRange { .. }))
            ),
            "{too_long:?}"
        );
        let longest = [
            ("JWT_ISSUER", "https://id.example/"),
            ("JWT_AUDIENCE", "a"),
            ("JWT_LEEWAY_SECONDS", "300"),
        ];
        assert_eq!(load(&longest).ok().map(|c| c.leeway_seconds), Some(300));
    }

    /// A misspelt member would silently inherit `JWT_AUDIENCE` or fall back
    /// to discovery.
    #[test]
    fn a_misspelt_trusted_issuer_member_is_refused() {
        let misspelt = r#"[{"issuer":"https://id.example/","audience":["b"]}]"#;
        let loaded = load(&[("JWT_AUDIENCE", "a"), ("TRUSTED_ISSUERS", misspelt)]);
        assert!(
            matches!(loaded, Err(ConfigError::TrustedIssuers(_))),
            "{loaded:?}"
        );
    }
}
