//! Fetching what an issuer publishes over HTTP(S): its JWKS, its OpenID
//! Connect discovery document (for issuers configured without a JWKS URL)
//! and its status lists, each bounded in time and size.
//!
//! Loopback URLs are fetched directly, never through a proxy named by
//! `HTTP_PROXY`/`ALL_PROXY`: "http only on loopback" means the request stays
//! on this host, and a proxy would carry it elsewhere in clear text and
//! answer for the issuer. Other URLs honour the standard proxy variables
//! (a Lambda in a VPC may need one).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use reqwest::header::{CACHE_CONTROL, CONTENT_LENGTH, ETAG, IF_NONE_MATCH};
use reqwest::StatusCode;

use crate::config::CacheSettings;
use crate::fetch_timing::{TimedConnectLayer, TimedResolver};
use crate::tls_roots::{bundle_config, Roots};
use jose::JwkSet;

/// Why a fetch failed. What was held before stays in use.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("request failed: {0}")]
    Transport(String),
    #[error("request timed out")]
    Timeout,
    #[error("answered HTTP {0}")]
    Status(u16),
    #[error("body exceeds {0} bytes")]
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

/// A status list fetch's answer.
#[derive(Debug)]
pub enum FetchedStatusList {
    /// A (new) status list token.
    Token {
        /// The compact JWS, not yet verified.
        body: Vec<u8>,
        /// `Cache-Control: max-age`.
        max_age: Option<Duration>,
        /// Its `ETag`, for the next conditional request.
        etag: Option<String>,
    },
    /// 304: the copy held is still current.
    NotModified {
        /// `Cache-Control: max-age`.
        max_age: Option<Duration>,
    },
}

/// One GET's answer.
struct Got {
    status: StatusCode,
    body: Vec<u8>,
    max_age: Option<Duration>,
    etag: Option<String>,
}

/// HTTP clients for an issuer's documents: rustls, a whole-request timeout,
/// no redirects (a URL is configuration or vouched for by its issuer;
/// following redirects would let the answering server send us elsewhere),
/// and a body size cap. Loopback URLs go direct, others may use a proxy;
/// plain `http` on loopback (the local stack) needs no root certificates.
#[derive(Clone, Debug)]
pub struct Fetcher {
    loopback_http: LazyClient,
    direct: LazyClient,
    proxied: LazyClient,
    max_body_bytes: usize,
}

/// A client built on its first request, shared by the fetcher's clones.
/// Building one loads the root certificates ([`crate::tls_roots`]); an
/// instance usually needs only one of the three (a deployed issuer is not
/// on loopback, the local stack's is).
#[derive(Clone, Debug)]
struct LazyClient {
    built: Arc<OnceLock<reqwest::Client>>,
    timeout: Duration,
    proxy: bool,
    /// Without: TLS trusts nothing, for a client that only speaks `http`.
    system_roots: bool,
}

impl LazyClient {
    fn new(timeout: Duration, proxy: bool, system_roots: bool) -> Self {
        Self {
            built: Arc::default(),
            timeout,
            proxy,
            system_roots,
        }
    }

    /// The client, built the first time. One that loads root certificates
    /// is built on a blocking-pool thread: that is milliseconds of CPU, and
    /// a live fetch in the background (after a snapshot's first answer)
    /// must not hold the runtime's one thread, which answers the invocation
    /// meanwhile. The plain-`http` loopback client loads none and is built
    /// in place (a thread hand-off would cost the local stack's cold start
    /// more than the build).
    async fn get(&self) -> Result<reqwest::Client, FetchError> {
        if let Some(client) = self.built.get() {
            return Ok(client.clone());
        }
        let built = if self.system_roots {
            let this = self.clone();
            tokio::task::spawn_blocking(move || this.build())
                .await
                .map_err(|e| FetchError::Client(e.to_string()))??
        } else {
            self.build()?
        };
        // Two first requests at once may both build: one client is kept.
        Ok(self.built.get_or_init(|| built).clone())
    }

    fn build(&self) -> Result<reqwest::Client, FetchError> {
        let mut builder = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("tollgate-authorizer/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(TimedResolver))
            .connector_layer(TimedConnectLayer);
        if !self.proxy {
            builder = builder.no_proxy();
        }
        if !self.system_roots {
            builder = builder.tls_certs_only(Vec::<reqwest::Certificate>::new());
        } else if let Roots::Bundle(path) = Roots::choose(|name| std::env::var_os(name)) {
            if let Some(config) = bundle_config(path) {
                builder = builder.tls_backend_preconfigured(config);
            }
        }
        builder
            .build()
            .map_err(|e| FetchError::Client(e.to_string()))
    }
}

impl Fetcher {
    pub fn new(settings: &CacheSettings) -> Self {
        Self {
            loopback_http: LazyClient::new(settings.fetch_timeout, false, false),
            direct: LazyClient::new(settings.fetch_timeout, false, true),
            proxied: LazyClient::new(settings.fetch_timeout, true, true),
            max_body_bytes: settings.max_body_bytes,
        }
    }

    /// The client for `uri`: direct for a loopback host, whatever the
    /// environment's proxy variables say. No redirect is followed, so a
    /// plain `http` URL never reaches TLS on the client without roots.
    async fn client_for(&self, uri: &str) -> Result<reqwest::Client, FetchError> {
        let url = reqwest::Url::parse(uri).ok();
        match url.filter(crate::config::is_loopback_host) {
            None => self.proxied.get().await,
            Some(url) if url.scheme() == "http" => self.loopback_http.get().await,
            Some(_) => self.direct.get().await,
        }
    }

    pub async fn fetch(&self, uri: &str) -> Result<FetchedJwks, FetchError> {
        let got = self
            .get(uri, "application/jwk-set+json, application/json", None)
            .await?;
        let set = JwkSet::parse(&got.body).map_err(|e| FetchError::Invalid(e.to_string()))?;
        Ok(FetchedJwks {
            set,
            max_age: got.max_age,
        })
    }

    /// Reads the discovery document at `url` and returns its `jwks_uri`.
    /// Its `issuer` must equal `issuer` exactly (OIDC Discovery §4.3), and
    /// the `jwks_uri` must pass the same https-or-loopback rule as
    /// configured URLs.
    pub async fn discover(&self, url: &str, issuer: &str) -> Result<String, FetchError> {
        let got = self.get(url, "application/json", None).await?;
        discovered_jwks_uri(&got.body, issuer)
    }

    /// Fetches a status list token, conditionally when `etag` is known.
    pub async fn fetch_status_list(
        &self,
        uri: &str,
        etag: Option<&str>,
    ) -> Result<FetchedStatusList, FetchError> {
        let got = self.get(uri, status_list::MEDIA_TYPE, etag).await?;
        Ok(if got.status == StatusCode::NOT_MODIFIED {
            FetchedStatusList::NotModified {
                max_age: got.max_age,
            }
        } else {
            FetchedStatusList::Token {
                body: got.body,
                max_age: got.max_age,
                etag: got.etag,
            }
        })
    }

    /// One GET: a success status (or 304 to a conditional request), a body
    /// within the size cap, and the response's freshness and validator.
    async fn get(
        &self,
        uri: &str,
        accept: &'static str,
        if_none_match: Option<&str>,
    ) -> Result<Got, FetchError> {
        let mut request = self
            .client_for(uri)
            .await?
            .get(uri)
            .header("accept", accept);
        if let Some(etag) = if_none_match {
            request = request.header(IF_NONE_MATCH, etag);
        }
        let mut response = request.send().await.map_err(request_error)?;
        let status = response.status();
        let not_modified = status == StatusCode::NOT_MODIFIED && if_none_match.is_some();
        if !status.is_success() && !not_modified {
            return Err(FetchError::Status(status.as_u16()));
        }
        let headers = response.headers();
        let declared = headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > self.max_body_bytes as u64) {
            return Err(FetchError::TooLarge(self.max_body_bytes));
        }
        let max_age = headers
            .get(CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_max_age);
        let etag = headers
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut body =
            Vec::with_capacity(declared.unwrap_or(4096).min(self.max_body_bytes as u64) as usize);
        while let Some(chunk) = response.chunk().await.map_err(request_error)? {
            if body.len() + chunk.len() > self.max_body_bytes {
                return Err(FetchError::TooLarge(self.max_body_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Got {
            status,
            body,
            max_age,
            etag,
        })
    }
}

/// The `jwks_uri` of a fetched discovery document, if its `issuer` is
/// exactly `issuer` and the URL passes the https-or-loopback rule.
pub(crate) fn discovered_jwks_uri(body: &[u8], issuer: &str) -> Result<String, FetchError> {
    let refused = |why: String| FetchError::Discovery(format!("not a discovery document: {why}"));
    // A JSON object (OIDC Discovery §4.2), all of it UTF-8: serde would read
    // an array as the fields in order, and skips unread members unchecked.
    let text = std::str::from_utf8(body).map_err(|e| refused(e.to_string()))?;
    if !jose::is_json_object(text.as_bytes()) {
        return Err(refused("not a JSON object".to_owned()));
    }
    let document: DiscoveryDocument =
        serde_json::from_str(text).map_err(|e| refused(e.to_string()))?;
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

    /// Found by the `discovery` fuzz target: a document with bytes that are
    /// not UTF-8 in a member we do not read passed, as did one written as a
    /// JSON array (read as the fields in order).
    #[test]
    fn a_discovery_document_is_a_json_object_of_utf8() {
        let issuer = "https://issuer.example";
        let good = br#"{"issuer":"https://issuer.example","jwks_uri":"https://issuer.example/jwks","token_endpoint":"https://issuer.example/token"}"#;
        assert_eq!(
            discovered_jwks_uri(good, issuer).unwrap(),
            "https://issuer.example/jwks"
        );
        let mut not_utf8 = good.to_vec();
        let at = not_utf8.len() - 10;
        not_utf8[at] = 0x9b;
        assert!(discovered_jwks_uri(&not_utf8, issuer).is_err());
        let array = br#"["https://issuer.example","https://issuer.example/jwks"]"#;
        assert!(discovered_jwks_uri(array, issuer).is_err());
        let http =
            br#"{"issuer":"https://issuer.example","jwks_uri":"http://issuer.example/jwks"}"#;
        assert!(discovered_jwks_uri(http, issuer).is_err());
    }

    /// Building a client loads the system's root certificates: a cold start
    /// pays for the one client its issuer's URL needs, and only on first use.
    #[tokio::test]
    async fn a_client_is_built_on_its_first_request_and_only_that_one() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/statuslists/0", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let answer = "HTTP/1.1 200 OK\r\ncontent-length: 4\r\nconnection: close\r\n\r\nlist";
            socket.write_all(answer.as_bytes()).await.unwrap();
        });
        let fetcher = Fetcher::new(&CacheSettings::default());
        let clone = fetcher.clone();
        let built = |client: &LazyClient| client.built.get().is_some();
        assert!(!built(&fetcher.loopback_http), "built before use");
        let fetched = fetcher.fetch_status_list(&url, None).await.unwrap();
        assert!(matches!(fetched, FetchedStatusList::Token { ref body, .. } if body == b"list"));
        assert!(built(&clone.loopback_http), "clones share the client");
        assert!(
            !built(&fetcher.direct) && !built(&fetcher.proxied),
            "a plain loopback fetch builds neither client that loads system roots"
        );
    }

    /// The timing layer sees each new connection and only those: a second
    /// fetch from the same origin rides the kept-alive connection (so do
    /// discovery and the status lists), and has no connection time.
    #[tokio::test]
    async fn new_connections_are_timed_and_a_kept_alive_one_is_reused() {
        use crate::fetch_timing::{timed, Phases};
        let key = testkit::TestKey::generate(jsonwebtoken::Algorithm::ES256, "kept");
        let server = testkit::JwksServer::start(testkit::jwks(&[&key])).await;
        server.set_keep_alive(true);
        let fetcher = Fetcher::new(&CacheSettings::default());
        let first = Arc::new(Phases::default());
        let fetched = timed(Arc::clone(&first), fetcher.fetch(&server.url())).await;
        assert!(fetched.unwrap().set.keys.contains_key("kept"));
        let second = Arc::new(Phases::default());
        timed(Arc::clone(&second), fetcher.fetch(&server.url()))
            .await
            .unwrap();
        assert_eq!((first.connections(), second.connections()), (1, 0));
        assert_eq!(second.connect_ms(), 0.0);
        assert_eq!(server.requests(), 2);
    }
}
