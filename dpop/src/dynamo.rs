//! Used proofs in a DynamoDB table shared by every instance (hash key `pk`,
//! TTL attribute `purge_at`): one conditional `PutItem` per proof, whose
//! first writer wins. An unreachable or missing table refuses the proof.
//!
//! The request is DynamoDB's JSON protocol signed with SigV4 (the
//! `aws-sigv4` crate) over the process's HTTP client, with the standard
//! environment's credentials (Lambda's), region and endpoint
//! (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL`): the authorizer links
//! no AWS SDK, whose configuration chain would lengthen its cold start.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use serde_json::json;
use tokio::sync::OnceCell;

use crate::replay::{ReplayStore, ReplayStoreError};

/// Whole-request bound on one `PutItem`.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// DynamoDB's answer when the condition failed: the key was there.
const CONDITION_FAILED: &str = "ConditionalCheckFailedException";

/// Where the table is and how to sign for it.
#[derive(Clone)]
struct Endpoint {
    url: String,
    region: String,
}

/// Reads a setting of the environment (a map in tests).
type Lookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The DPoP replay table.
pub struct DynamoReplayStore {
    table: String,
    endpoint: Result<Endpoint, String>,
    lookup: Lookup,
    client: OnceCell<reqwest::Client>,
}

impl std::fmt::Debug for DynamoReplayStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoReplayStore")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl DynamoReplayStore {
    /// The table `table`, reached as the process environment says.
    pub fn from_env(table: impl Into<String>) -> Self {
        Self::with_lookup(table, environment::process_lookup)
    }

    /// The same, reading the environment through `lookup`.
    pub fn with_lookup(
        table: impl Into<String>,
        lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        let lookup: Lookup = Arc::new(lookup);
        Self {
            table: table.into(),
            endpoint: endpoint(lookup.as_ref()),
            lookup,
            client: OnceCell::new(),
        }
    }

    /// Built on first use: loading the system roots costs milliseconds a
    /// cold start that checks no proof need not pay.
    async fn client(&self) -> Result<&reqwest::Client, ReplayStoreError> {
        self.client
            .get_or_try_init(|| async {
                reqwest::Client::builder()
                    .timeout(REQUEST_TIMEOUT)
                    .redirect(reqwest::redirect::Policy::none())
                    .no_proxy()
                    .build()
            })
            .await
            .map_err(|e| ReplayStoreError(format!("HTTP client: {e}")))
    }

    /// The signed request's headers.
    fn signed_headers(
        &self,
        endpoint: &Endpoint,
        body: &[u8],
    ) -> Result<Vec<(String, String)>, ReplayStoreError> {
        let text = |name: &str| (self.lookup)(name).filter(|v| !v.is_empty());
        let (Some(key_id), Some(secret)) =
            (text("AWS_ACCESS_KEY_ID"), text("AWS_SECRET_ACCESS_KEY"))
        else {
            return Err(ReplayStoreError(
                "no AWS credentials in the environment".into(),
            ));
        };
        let identity = Credentials::new(
            key_id,
            secret,
            text("AWS_SESSION_TOKEN"),
            None,
            "environment",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&endpoint.region)
            .name("dynamodb")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| ReplayStoreError(format!("signing: {e}")))?
            .into();
        let headers = [
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-target", "DynamoDB_20120810.PutItem"),
        ];
        let request = SignableRequest::new(
            "POST",
            &endpoint.url,
            headers.iter().copied(),
            SignableBody::Bytes(body),
        )
        .map_err(|e| ReplayStoreError(format!("signing: {e}")))?;
        let (instructions, _) = sign(request, &params)
            .map_err(|e| ReplayStoreError(format!("signing: {e}")))?
            .into_parts();
        let mut all: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        all.extend(
            instructions
                .headers()
                .map(|(k, v)| (k.to_owned(), v.to_owned())),
        );
        Ok(all)
    }
}

#[async_trait]
impl ReplayStore for DynamoReplayStore {
    async fn first_use(&self, key: &str, expires_at: u64) -> Result<bool, ReplayStoreError> {
        let endpoint = self
            .endpoint
            .as_ref()
            .map_err(|e| ReplayStoreError(e.clone()))?;
        let body = json!({
            "TableName": self.table,
            "Item": {"pk": {"S": key}, "purge_at": {"N": expires_at.to_string()}},
            "ConditionExpression": "attribute_not_exists(pk)",
        })
        .to_string()
        .into_bytes();
        let mut request = self.client().await?.post(&endpoint.url);
        for (name, value) in self.signed_headers(endpoint, &body)? {
            request = request.header(name, value);
        }
        let response = request
            .body(body)
            .send()
            .await
            .map_err(|e| ReplayStoreError(format!("PutItem: {e}")))?;
        let status = response.status();
        if status.is_success() {
            return Ok(true);
        }
        let answer = response.text().await.unwrap_or_default();
        if status.as_u16() == 400 && answer.contains(CONDITION_FAILED) {
            return Ok(false);
        }
        // The table's name, never the key, is what an operator needs here.
        Err(ReplayStoreError(format!(
            "PutItem on {} answered {status}: {}",
            self.table,
            answer.chars().take(200).collect::<String>()
        )))
    }
}

/// The DynamoDB endpoint and region from the environment: an endpoint URL
/// override (https, or http on loopback for moto) or the region's own.
fn endpoint(lookup: &(dyn Fn(&str) -> Option<String> + Send + Sync)) -> Result<Endpoint, String> {
    let text = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    let region = text("AWS_REGION")
        .or_else(|| text("AWS_DEFAULT_REGION"))
        .ok_or("no AWS_REGION in the environment")?;
    let url = match text("AWS_ENDPOINT_URL_DYNAMODB").or_else(|| text("AWS_ENDPOINT_URL")) {
        Some(url) => url,
        None if region.starts_with("cn-") => format!("https://dynamodb.{region}.amazonaws.com.cn"),
        None => format!("https://dynamodb.{region}.amazonaws.com"),
    };
    let parsed = url::Url::parse(&url).map_err(|e| format!("DynamoDB endpoint {url}: {e}"))?;
    let loopback = match parsed.host() {
        Some(url::Host::Domain(host)) => host.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if parsed.scheme() != "https" && !(parsed.scheme() == "http" && loopback) {
        return Err(format!("DynamoDB endpoint {url} is not https"));
    }
    Ok(Endpoint {
        url: parsed.as_str().to_owned(),
        region,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url_for(pairs: &[(&str, &str)]) -> Result<String, String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        endpoint(&move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
        .map(|endpoint| endpoint.url)
    }

    #[test]
    fn the_endpoint_is_the_regions_or_a_safe_override() {
        assert_eq!(
            url_for(&[("AWS_REGION", "eu-west-1")]),
            Ok("https://dynamodb.eu-west-1.amazonaws.com/".to_owned())
        );
        assert_eq!(
            url_for(&[
                ("AWS_REGION", "us-east-1"),
                ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
            ]),
            Ok("http://127.0.0.1:5000/".to_owned())
        );
        assert!(url_for(&[
            ("AWS_REGION", "us-east-1"),
            ("AWS_ENDPOINT_URL", "http://dynamo.evil.example")
        ])
        .is_err());
        assert!(url_for(&[]).is_err(), "no region");
    }
}
