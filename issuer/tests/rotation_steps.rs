//! Secrets Manager's four rotation steps against `moto_server`, each step
//! repeated (Secrets Manager retries), ending in the same state.

use issuer::keyset::{KeySet, KeyState};
use issuer::rotation::{run_step, RotationError, Step};
use issuer::store::secrets_manager::SecretsManagerKeyStore;
use issuer::store::KeyStore;
use issuer::SigningAlg;

const ALG: SigningAlg = SigningAlg::ES256;
const GRACE: u64 = 1200;
const STEPS: [Step; 4] = [
    Step::CreateSecret,
    Step::SetSecret,
    Step::TestSecret,
    Step::FinishSecret,
];

async fn seeded_store() -> Option<(SecretsManagerKeyStore, KeySet)> {
    testkit::aws_test_endpoint()?;
    let store =
        SecretsManagerKeyStore::from_env(format!("tollgate/rotation-{}", ulid::Ulid::new())).await;
    let keyset = KeySet::generate(ALG, 1000).unwrap();
    store.save(&keyset, None).await.unwrap();
    Some((store, keyset))
}

fn token(n: u32) -> String {
    format!("rotation-{n:04}-00000000-0000-0000-0000-000000000000")
}

#[tokio::test]
async fn four_steps_each_repeated_end_in_one_rotation() {
    let Some((store, before)) = seeded_store().await else {
        return;
    };
    let token = token(1);
    for step in STEPS {
        for attempt in 0..2 {
            run_step(&store, step, &token, ALG, GRACE, 2000)
                .await
                .unwrap_or_else(|e| panic!("{step:?} attempt {attempt}: {e}"));
        }
    }
    let after = store.load().await.unwrap().unwrap();
    assert_eq!(after.version, before.version + 1, "exactly one rotation");
    assert_eq!(
        after.active().unwrap().kid,
        before.next().unwrap().kid,
        "the published next key now signs"
    );
    let previous: Vec<_> = after
        .keys
        .iter()
        .filter(|k| k.state == KeyState::Previous)
        .collect();
    assert_eq!(previous.len(), 1);
    assert_eq!(
        previous[0].kid,
        before.active().unwrap().kid,
        "the old active key stays published"
    );
    let stages = store.stages().await.unwrap().unwrap();
    assert_eq!(stages.current.as_deref(), Some(token.as_str()));
    assert_eq!(stages.pending, None);

    // A second rotation with a new token works from the new state.
    for step in STEPS {
        run_step(&store, step, &self::token(2), ALG, GRACE, 3000)
            .await
            .unwrap();
    }
    assert_eq!(
        store.load().await.unwrap().unwrap().version,
        before.version + 2
    );
}

#[tokio::test]
async fn each_step_can_run_alone_and_test_catches_a_missing_version() {
    let Some((store, before)) = seeded_store().await else {
        return;
    };
    let token = token(3);
    assert!(matches!(
        run_step(&store, Step::TestSecret, &token, ALG, GRACE, 2000).await,
        Err(RotationError::NoPendingVersion(_))
    ));
    run_step(&store, Step::CreateSecret, &token, ALG, GRACE, 2000)
        .await
        .unwrap();
    assert_eq!(
        store.stages().await.unwrap().unwrap().pending.as_deref(),
        Some(token.as_str())
    );
    assert_eq!(
        store.load().await.unwrap().unwrap(),
        before,
        "readers still see the current keyset"
    );
    run_step(&store, Step::SetSecret, &token, ALG, GRACE, 2000)
        .await
        .unwrap();
    run_step(&store, Step::TestSecret, &token, ALG, GRACE, 2000)
        .await
        .unwrap();
    run_step(&store, Step::FinishSecret, &token, ALG, GRACE, 2000)
        .await
        .unwrap();
    assert_eq!(
        store.load().await.unwrap().unwrap().version,
        before.version + 1
    );
    assert!(matches!(
        Step::parse("rotateEverything"),
        Err(RotationError::UnknownStep(_))
    ));
}

#[tokio::test]
async fn an_admin_rotation_in_between_is_not_undone() {
    let Some((store, before)) = seeded_store().await else {
        return;
    };
    let token = token(4);
    run_step(&store, Step::CreateSecret, &token, ALG, GRACE, 2000)
        .await
        .unwrap();
    // Meanwhile, POST /admin/keys/rotate commits its own rotation.
    let mut admin = before.clone();
    admin.rotate(ALG, 2500, GRACE).unwrap();
    store.save(&admin, Some(before.version)).await.unwrap();
    // Finishing the stale rotation would throw the admin's new key away.
    assert!(matches!(
        run_step(&store, Step::FinishSecret, &token, ALG, GRACE, 3000).await,
        Err(RotationError::Superseded)
    ));
    assert_eq!(store.load().await.unwrap().unwrap(), admin);
}

#[tokio::test]
async fn a_pending_copy_made_by_rotate_secret_is_replaced_by_a_real_rotation() {
    let Some((store, before)) = seeded_store().await else {
        return;
    };
    let token = token(5);
    // moto's RotateSecret (rotate_immediately=false) labels a copy of the current value AWSPENDING.
    store.stage_pending(&before, &token).await.unwrap();
    for step in STEPS {
        run_step(&store, step, &token, ALG, GRACE, 2000)
            .await
            .unwrap();
    }
    let after = store.load().await.unwrap().unwrap();
    assert_eq!(after.version, before.version + 1);
    assert_eq!(after.active().unwrap().kid, before.next().unwrap().kid);
}

#[tokio::test]
async fn a_placeholder_secret_is_bootstrapped_into_a_keyset() {
    if testkit::aws_test_endpoint().is_none() {
        return;
    }
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let client = aws_sdk_secretsmanager::Client::new(&config);
    let name = format!("tollgate/placeholder-{}", ulid::Ulid::new());
    client
        .create_secret()
        .name(&name)
        .secret_string("placeholder")
        .send()
        .await
        .unwrap();
    let store = SecretsManagerKeyStore::new(client, name);
    let token = token(6);
    for step in STEPS {
        run_step(&store, step, &token, ALG, GRACE, 2000)
            .await
            .unwrap();
    }
    let keyset = store.load().await.unwrap().unwrap();
    assert!(keyset.active().is_ok() && keyset.next().is_some());
}

#[test]
fn the_rotation_lambda_needs_no_issuer_settings() {
    let config = issuer::config::RotationConfig::from_lookup(|name| {
        (name == "TOKEN_TTL_SECONDS").then(|| "600".to_owned())
    })
    .unwrap();
    assert_eq!(config.signing_alg, SigningAlg::RS256);
    assert_eq!(config.grace_seconds, 600 + 300);
}
