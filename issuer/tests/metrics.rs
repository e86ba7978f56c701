//! The issuer's metrics: logins by outcome and grant, tokens issued,
//! rotations and revocations by outcome, key-store failures, rotation steps;
//! every record declares the three dimension sets and no dimension carries
//! a username, client id or kid.

use std::sync::Arc;

use issuer::accounts::{Account, AccountKind};
use issuer::accounts::{AccountStore, FileAccountStore};
use issuer::hash_secret;
use issuer::keys::FileKeyStore;
use issuer::IssuerConfig;
use issuer::IssuerService;
use issuer::{IssuerMetrics, RotationMetrics};
use issuer::{RotationError, Step};
use serde_json::{json, Value};
use telemetry::CaptureSink;

async fn service(keyset_path: std::path::PathBuf, dir: &std::path::Path) -> IssuerService {
    let config = IssuerConfig::from_lookup(|name| match name {
        "JWT_ISSUER" => Some("https://issuer.test".to_owned()),
        "JWT_AUDIENCE" => Some("books-api".to_owned()),
        "SIGNING_ALG" => Some("ES256".to_owned()),
        // No rotation spacing: these tests count rotations, not their pace.
        "JWKS_MAX_AGE_SECONDS" => Some("0".to_owned()),
        _ => None,
    })
    .unwrap()
    .with_keyset_ttl(std::time::Duration::ZERO);
    let accounts = Arc::new(FileAccountStore::new(dir.join("users.json")));
    for (kind, name) in [
        (AccountKind::User, "alice-the-user"),
        (AccountKind::Client, "reporting-client"),
    ] {
        accounts
            .put(&Account {
                kind,
                name: name.to_owned(),
                secret_hash: hash_secret("right-secret").unwrap(),
                scopes: vec!["books:read".to_owned()],
                disabled: false,
                dpop_only: false,
            })
            .await
            .unwrap();
    }
    IssuerService::new(config, Arc::new(FileKeyStore::new(keyset_path)), accounts)
}

fn lines(sink: &CaptureSink) -> Vec<Value> {
    sink.lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Sum of `metric` over the lines with these dimension values.
fn sum(lines: &[Value], metric: &str, decision: &str, reason: &str) -> f64 {
    lines
        .iter()
        .filter(|l| l["Decision"] == decision && l["Reason"] == reason)
        .filter_map(|l| l[metric].as_f64())
        .sum()
}

fn assert_schema(lines: &[Value], service: &str, private: &[&str]) {
    for line in lines {
        // The namespace and the three dimension sets telemetry declares
        // (their exact values are pinned by telemetry's own tests).
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], telemetry::NAMESPACE);
        assert_eq!(directive["Dimensions"], json!(telemetry::DIMENSION_SETS));
        assert_eq!(line["Service"], service);
        let text = line.to_string();
        for secret in ["alice-the-user", "reporting-client"].iter().chain(private) {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
}

#[tokio::test]
async fn logins_tokens_rotations_and_revocations() {
    let dir = tempfile::tempdir().unwrap();
    let sink = CaptureSink::new();
    let service = service(dir.path().join("keyset.json"), dir.path())
        .await
        .with_metrics(IssuerMetrics::new(Arc::new(sink.clone())));

    let user = |secret: &'static str| {
        let service = &service;
        async move {
            service
                .login(AccountKind::User, "alice-the-user", secret, None, None)
                .await
        }
    };
    assert!(user("right-secret").await.is_ok());
    assert!(service
        .login(
            AccountKind::Client,
            "reporting-client",
            "right-secret",
            None,
            None
        )
        .await
        .is_ok());
    assert!(service
        .login(
            AccountKind::User,
            "alice-the-user",
            "right-secret",
            Some("keys:admin"),
            None
        )
        .await
        .is_err());
    for _ in 0..issuer::PAIR_LIMIT {
        assert!(user("wrong").await.is_err());
    }
    assert!(matches!(
        user("right-secret").await,
        Err(issuer::LoginError::Throttled(_))
    ));
    service.rotate().await.unwrap();
    assert!(service.revoke("no-such-kid").await.is_err());
    let next = service
        .keyset()
        .await
        .unwrap()
        .next()
        .map(|k| k.kid.clone())
        .unwrap();
    service.revoke(&next).await.unwrap();

    let lines = lines(&sink);
    assert_schema(&lines, "issuer", &["no-such-kid", &next]);
    assert_eq!(sum(&lines, "Logins", "ok", "password"), 1.0);
    assert_eq!(sum(&lines, "Logins", "ok", "client_credentials"), 1.0);
    assert_eq!(sum(&lines, "TokensIssued", "ok", "password"), 1.0);
    assert_eq!(sum(&lines, "TokensIssued", "ok", "client_credentials"), 1.0);
    assert_eq!(
        sum(&lines, "Logins", "refused", "password"),
        1.0 + f64::from(issuer::PAIR_LIMIT)
    );
    assert_eq!(sum(&lines, "Logins", "throttled", "password"), 1.0);
    assert_eq!(sum(&lines, "KeyRotations", "ok", "none"), 1.0);
    assert_eq!(sum(&lines, "KeyRevocations", "failed", "unknown_kid"), 1.0);
    assert_eq!(sum(&lines, "KeyRevocations", "ok", "none"), 1.0);
    assert!(lines.iter().all(|l| l.get("KeyStoreErrors").is_none()));
}

#[tokio::test]
async fn key_store_failures_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let sink = CaptureSink::new();
    // A directory where the keyset file should be: every read fails.
    let service = service(dir.path().to_owned(), dir.path())
        .await
        .with_metrics(IssuerMetrics::new(Arc::new(sink.clone())));
    assert!(service
        .login(
            AccountKind::User,
            "alice-the-user",
            "right-secret",
            None,
            None
        )
        .await
        .is_err());
    assert!(service.rotate().await.is_err());

    let lines = lines(&sink);
    assert_schema(&lines, "issuer", &[]);
    assert_eq!(sum(&lines, "Logins", "failed", "password"), 1.0);
    assert_eq!(sum(&lines, "KeyRotations", "failed", "key_store"), 1.0);
    assert_eq!(sum(&lines, "KeyStoreErrors", "failed", "load"), 2.0);
}

#[test]
fn rotation_steps_by_step_and_outcome() {
    let sink = CaptureSink::new();
    let metrics = RotationMetrics::new(Arc::new(sink.clone()));
    metrics.step(Some(Step::CreateSecret), &Ok(()));
    metrics.step(
        Some(Step::FinishSecret),
        &Err(RotationError::NoCurrentKeyset),
    );
    metrics.step(
        None,
        &Err(RotationError::UnknownStep("dropSecret".to_owned())),
    );
    let lines = lines(&sink);
    assert_schema(&lines, "issuer-rotation", &[]);
    assert_eq!(sum(&lines, "RotationSteps", "ok", "createSecret"), 1.0);
    assert_eq!(sum(&lines, "RotationSteps", "failed", "finishSecret"), 1.0);
    assert_eq!(sum(&lines, "RotationSteps", "failed", "unknown_step"), 1.0);
}
