//! The Secrets Manager key store on `moto_server` (started by `make test`),
//! through the real SDK.

use std::sync::Arc;

use issuer::keys::KeySet;
use issuer::keys::{KeyStore, KeyStoreError};
use issuer::keys::{SecretsManagerKeyStore, SAVING};
use issuer::SigningAlg;

mod common;
use common::{create_placeholder_secret, secrets_client};

const GRACE: u64 = 1200;

/// A store for a fresh secret name; `None` (skip) only outside CI.
async fn store() -> Option<SecretsManagerKeyStore> {
    testkit::aws_test_endpoint()?;
    Some(SecretsManagerKeyStore::from_env(format!("tollgate/keyset-{}", ulid::Ulid::new())).await)
}

/// A first keyset, saved.
async fn saved_keyset(store: &SecretsManagerKeyStore) -> KeySet {
    let keyset = KeySet::generate(SigningAlg::ES256, 1000).unwrap();
    store.save(&keyset, None).await.unwrap();
    keyset
}

/// `base` rotated at `now`.
fn rotated(base: &KeySet, now: u64) -> KeySet {
    let mut keyset = base.clone();
    keyset.rotate(SigningAlg::ES256, now, GRACE).unwrap();
    keyset
}

#[tokio::test]
async fn create_load_and_rotate() {
    let Some(store) = store().await else { return };
    assert_eq!(store.load().await.unwrap(), None);
    assert!(matches!(
        store
            .save(&KeySet::generate(SigningAlg::ES256, 1).unwrap(), Some(1))
            .await,
        Err(KeyStoreError::Conflict)
    ));
    let first = KeySet::generate(SigningAlg::ES256, 1000).unwrap();
    store.save(&first, None).await.unwrap();
    assert_eq!(store.load().await.unwrap(), Some(first.clone()));
    assert!(
        matches!(store.save(&first, None).await, Err(KeyStoreError::Conflict)),
        "exists already"
    );

    let mut keyset = first;
    for step in 1..=5u64 {
        let expected = keyset.version;
        keyset
            .rotate(SigningAlg::ES256, 1000 + step * 2000, GRACE)
            .unwrap();
        store.save(&keyset, Some(expected)).await.unwrap();
        let stored = store.load().await.unwrap().unwrap();
        assert_eq!(stored, keyset);
        assert!(stored.jwks().unwrap().keys.len() <= 3);
    }
    let stages = store.stages().await.unwrap().unwrap();
    assert_eq!(stages.pending, None, "no AWSPENDING left behind");
    assert_eq!(stages.saving, None, "no staging label left behind");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_racing_rotations_have_exactly_one_winner() {
    let Some(store) = store().await else { return };
    let store = Arc::new(store);
    let base = saved_keyset(&store).await;
    let mut tasks = Vec::new();
    for i in 0..2u64 {
        let (store, mut keyset) = (Arc::clone(&store), base.clone());
        tasks.push(tokio::spawn(async move {
            keyset.rotate(SigningAlg::ES256, 2000 + i, GRACE).unwrap();
            store.save(&keyset, Some(1)).await.map(|()| keyset)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(keyset) => winners.push(keyset),
            Err(KeyStoreError::Conflict) => {}
            Err(other) => panic!("unexpected: {other}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one rotation wins");
    let stored = store.load().await.unwrap().unwrap();
    assert_eq!(stored, winners[0], "the winner's keyset, whole");
    for key in &base.keys {
        assert!(
            stored.keys.iter().any(|k| k.kid == key.kid),
            "no key lost: {}",
            key.kid
        );
    }
}

#[tokio::test]
async fn a_crash_between_staging_and_current_is_left_behind_by_the_next_save() {
    let Some(store) = store().await else { return };
    let base = saved_keyset(&store).await;

    // A save stages its version, then the process dies before moving AWSCURRENT.
    let crashed = rotated(&base, 2000);
    let staged = store
        .stage(&crashed, "keyset-crashed-rotation-0000000000000001", SAVING)
        .await
        .unwrap();
    let stages = store.stages().await.unwrap().unwrap();
    assert_eq!(stages.saving.as_deref(), Some(staged.as_str()));
    assert_eq!(
        store.load().await.unwrap(),
        Some(base.clone()),
        "readers still see the current keyset"
    );

    // The next rotation recovers and commits.
    let next = rotated(&base, 3000);
    store.save(&next, Some(1)).await.unwrap();
    assert_eq!(store.load().await.unwrap(), Some(next));
    let stages = store.stages().await.unwrap().unwrap();
    assert_eq!(
        stages.saving, None,
        "no half-done save is labelled any more"
    );
    assert_eq!(stages.pending, None);
}

#[tokio::test]
async fn a_save_leaves_a_rotation_in_flight_its_awspending() {
    let Some(store) = store().await else { return };
    let base = saved_keyset(&store).await;
    let rotating = rotated(&base, 2000);
    let token = "3f1b2c4d-0000-4000-8000-00000000abcd";
    store.stage_pending(&rotating, token).await.unwrap();

    let admin = rotated(&base, 2500);
    store.save(&admin, Some(1)).await.unwrap();
    assert_eq!(store.load().await.unwrap(), Some(admin));
    assert_eq!(
        store.stages().await.unwrap().unwrap().pending.as_deref(),
        Some(token),
        "the rotation's AWSPENDING is untouched"
    );
}

#[tokio::test]
async fn moving_awscurrent_is_a_compare_and_swap() {
    let Some(store) = store().await else { return };
    let base = saved_keyset(&store).await;
    let current = store.stages().await.unwrap().unwrap().current.unwrap();
    // Both writers read `current`, both stage a version...
    let a = rotated(&base, 2000);
    let b = rotated(&base, 2001);
    let a_version = store
        .stage_pending(&a, "keyset-writer-a-00000000000000000000001")
        .await
        .unwrap();
    let b_version = store
        .stage_pending(&b, "keyset-writer-b-00000000000000000000001")
        .await
        .unwrap();
    // ...the first move wins, the second finds AWSCURRENT gone from `current`.
    store.promote(&a_version, &current).await.unwrap();
    assert!(matches!(
        store.promote(&b_version, &current).await,
        Err(KeyStoreError::Conflict)
    ));
    assert_eq!(store.load().await.unwrap(), Some(a));
}

/// What `infra/` writes as the secret's first version (Terraform's
/// `jsonencode` of a one-member object).
const PLACEHOLDER: &str =
    r#"{"placeholder":"Tollgate keyset: written by the first rotation (issuer-rotation)"}"#;

#[test]
fn only_a_one_member_placeholder_object_is_a_placeholder() {
    use issuer::keys::is_placeholder;
    assert!(is_placeholder(PLACEHOLDER));
    assert!(is_placeholder(r#"{ "placeholder" : true }"#));
    for not in [
        "placeholder",
        "",
        "{}",
        r#"{"placeholder":"x","keys":[]}"#,
        r#"["placeholder"]"#,
    ] {
        assert!(!is_placeholder(not), "{not:?}");
    }
}

#[tokio::test]
async fn a_placeholder_secret_reads_as_no_keyset_and_the_issuer_writes_the_first() {
    let Some(_) = testkit::aws_test_endpoint() else {
        return;
    };
    let client = secrets_client().await;
    let name = create_placeholder_secret(&client, PLACEHOLDER).await;
    let store = Arc::new(SecretsManagerKeyStore::new(client, name));
    assert_eq!(store.load().await.unwrap(), None, "no keyset yet");

    let dir = tempfile::tempdir().unwrap();
    let config = issuer::IssuerConfig::from_lookup(|n| match n {
        "JWT_ISSUER" => Some("https://issuer.test".into()),
        "JWT_AUDIENCE" => Some("books-api".into()),
        "SIGNING_ALG" => Some("ES256".into()),
        _ => None,
    })
    .unwrap();
    let service = issuer::IssuerService::new(
        config,
        Arc::clone(&store) as Arc<dyn KeyStore>,
        Arc::new(issuer::accounts::FileAccountStore::new(
            dir.path().join("users.json"),
        )),
    );
    let served = service.keyset().await.expect("the issuer starts a keyset");
    assert_eq!(
        store.load().await.unwrap().as_ref(),
        Some(&*served),
        "it replaced the placeholder as AWSCURRENT"
    );
}

#[tokio::test]
async fn a_placeholder_written_again_over_a_keyset_loses_no_key() {
    let Some(_) = testkit::aws_test_endpoint() else {
        return;
    };
    let (client, name) = (
        secrets_client().await,
        format!("tollgate/rewritten-{}", ulid::Ulid::new()),
    );
    let store = SecretsManagerKeyStore::new(client.clone(), name.clone());
    let mut keyset = KeySet::generate(SigningAlg::ES256, 1000).unwrap();
    store.save(&keyset, None).await.unwrap();
    keyset.rotate(SigningAlg::ES256, 2000, GRACE).unwrap();
    store.save(&keyset, Some(1)).await.unwrap();

    // What a re-created placeholder version does: it takes AWSCURRENT (and
    // the keyset becomes AWSPREVIOUS). Done in two calls: moto's
    // PutSecretValue leaves AWSCURRENT on the old version as well.
    let current = store.stages().await.unwrap().unwrap().current.unwrap();
    let placeholder = client
        .put_secret_value()
        .secret_id(&name)
        .secret_string(PLACEHOLDER)
        .version_stages("TERRAFORM")
        .send()
        .await
        .unwrap();
    client
        .update_secret_version_stage()
        .secret_id(&name)
        .version_stage("AWSCURRENT")
        .move_to_version_id(placeholder.version_id().unwrap())
        .remove_from_version_id(current)
        .send()
        .await
        .unwrap();
    assert_eq!(
        store.load().await.unwrap(),
        Some(keyset.clone()),
        "the displaced keyset"
    );

    let expected = keyset.version;
    keyset.rotate(SigningAlg::ES256, 3000, GRACE).unwrap();
    store.save(&keyset, Some(expected)).await.unwrap();
    assert_eq!(store.load().await.unwrap(), Some(keyset));
}
