//! Fetching one JWKS document (and, for issuers configured without a JWKS
//! URL, their OpenID Connect discovery document) over HTTP(S), bounded in
//! time and size.

use std::time::Duration;

use reqwest::header::{CACHE_CONTROL, CONTENT_LENGTH};

use crate::config::CacheSettings;
use crate::jwk::JwkSet;

/// Why a fetch failed. The previous key set stays in use.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("JWKS request failed: {0}")]
    Transport(String),
    #[error("JWKS request timed out")]
    Timeout,
    #[error("JWKS answered HTTP {0}")]
    Status(u16),
    #[error("JWKS body exceeds {0} bytes")]
    TooLarge(usize),
    #[error("JWKS body is not a key set: {0}")]
    Invalid(String),
    #[error("HTTP client could not be built: {0}")]
    Client(String),
    #[error("OIDC discovery document refused: {0}")]
    Discovery(String),
}

/// The members of an OpenID Connect discovery document we read.
#[derive(serde::Deserialize)]
struct DiscoveryDocument {
    issuer: String,
    jwks_uri: String,
}

/// A fetched key set and how long its server says it stays fresh.
#[derive(Debug)]
pub struct FetchedJwks {
    pub set: JwkSet,
    /// `Cache-Control: max-age`, or zero for `no-cache`/`no-store`.
    pub max_age: Option<Duration>,
}

/// An HTTP client for JWKS documents: rustls, a whole-request timeout, no
/// redirects (a JWKS URL is configuration; following redirects would let the
/// answering server send us elsewhere), and a body size cap.
#[derive(Clone, Debug)]
pub struct JwksFetcher {
    client: reqwest::Client,
    max_body_bytes: usize,
}

impl JwksFetcher {
    pub fn new(settings: &CacheSettings) -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            .timeout(settings.fetch_timeout)
            .connect_timeout(settings.fetch_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("tollgate-authorizer/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FetchError::Client(e.to_string()))?;
        Ok(Self {
            client,
            max_body_bytes: settings.max_body_bytes,
        })
    }

    pub async fn fetch(&self, uri: &str) -> Result<FetchedJwks, FetchError> {
        let (body, max_age) = self
            .get(uri, "application/jwk-set+json, application/json")
            .await?;
        let set = JwkSet::parse(&body).map_err(|e| FetchError::Invalid(e.to_string()))?;
        Ok(FetchedJwks { set, max_age })
    }

    /// Reads the discovery document at `url` and returns its `jwks_uri`.
    /// Its `issuer` must equal `issuer` exactly (OIDC Discovery §4.3), and
    /// the `jwks_uri` must pass the same https-or-loopback rule as
    /// configured URLs.
    pub async fn discover(&self, url: &str, issuer: &str) -> Result<String, FetchError> {
        let (body, _) = self.get(url, "application/json").await?;
        let document: DiscoveryDocument = serde_json::from_slice(&body)
            .map_err(|e| FetchError::Discovery(format!("not a discovery document: {e}")))?;
        if document.issuer != issuer {
            return Err(FetchError::Discovery(format!(
                "its issuer {:?} is not {issuer:?}",
                document.issuer
            )));
        }
        crate::config::check_fetch_url(&document.jwks_uri)
            .map_err(|e| FetchError::Discovery(e.to_string()))?;
        Ok(document.jwks_uri)
    }

    /// One GET: a success status, a body within the size cap, and the
    /// response's `Cache-Control` freshness.
    async fn get(
        &self,
        uri: &str,
        accept: &'static str,
    ) -> Result<(Vec<u8>, Option<Duration>), FetchError> {
        let mut response = self
            .client
            .get(uri)
            .header("accept", accept)
            .send()
            .await
            .map_err(request_error)?;
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        let declared = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > self.max_body_bytes as u64) {
            return Err(FetchError::TooLarge(self.max_body_bytes));
        }
        let max_age = response
            .headers()
            .get(CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_max_age);
        let mut body =
            Vec::with_capacity(declared.unwrap_or(4096).min(self.max_body_bytes as u64) as usize);
        while let Some(chunk) = response.chunk().await.map_err(request_error)? {
            if body.len() + chunk.len() > self.max_body_bytes {
                return Err(FetchError::TooLarge(self.max_body_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((body, max_age))
    }
}

fn request_error(error: reqwest::Error) -> FetchError {
    if error.is_timeout() {
        FetchError::Timeout
    } else {
        // Without the URL: it is configuration, and errors end up in logs.
        FetchError::Transport(error.without_url().to_string())
    }
}

/// Reads `max-age` from a `Cache-Control` value; `no-store`/`no-cache` mean zero.
pub fn parse_max_age(value: &str) -> Option<Duration> {
    let mut max_age = None;
    for directive in value.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return Some(Duration::ZERO);
        }
        if let Some(seconds) = lower.strip_prefix("max-age=") {
            max_age = seconds
                .trim_matches('"')
                .parse::<u64>()
                .ok()
                .map(Duration::from_secs);
        }
    }
    max_age
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_max_age() {
        assert_eq!(
            parse_max_age("public, max-age=600"),
            Some(Duration::from_secs(600))
        );
        assert_eq!(
            parse_max_age("max-age=\"60\""),
            Some(Duration::from_secs(60))
        );
        assert_eq!(parse_max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(parse_max_age("public"), None);
        assert_eq!(parse_max_age("max-age=abc"), None);
    }
}
