//! Secrets Manager's four rotation steps against `moto_server`, each step
//! repeated (Secrets Manager retries), ending in the same state.

use std::time::Duration;

use aws_sdk_secretsmanager::Client;
use issuer::keys::KeyStore;
use issuer::keys::SecretsManagerKeyStore;
use issuer::keys::{KeySet, KeyState};
use issuer::RotationConfig;
use issuer::SigningAlg;
use issuer::{run_step, RotationError, Step};

mod common;
use common::{create_placeholder_secret, enable_rotation, secrets_client};

const ALG: SigningAlg = SigningAlg::ES256;
const GRACE: u64 = 1200;
/// JWKS max-age (300 s) + the issuer's keyset cache time (5 s).
const SPACING: Duration = Duration::from_secs(305);
const CONFIG: RotationConfig = RotationConfig {
    signing_alg: ALG,
    grace_seconds: GRACE,
    rotation_spacing: SPACING,
};
const STEPS: [Step; 4] = [
    Step::CreateSecret,
    Step::SetSecret,
    Step::TestSecret,
    Step::FinishSecret,
];

/// A secret holding a keyset, with rotation turned on.
struct Seeded {
    store: SecretsManagerKeyStore,
    client: Client,
    name: String,
}

impl Seeded {
    /// What Secrets Manager does before calling the rotation function:
    /// the token's version exists, labelled AWSPENDING (moto copies the
    /// current value into it).
    async fn begin_rotation(&self, token: &str) {
        let current = self
            .client
            .get_secret_value()
            .secret_id(&self.name)
            .version_stage("AWSCURRENT")
            .send()
            .await
            .unwrap();
        self.client
            .put_secret_value()
            .secret_id(&self.name)
            .client_request_token(token)
            .secret_string(current.secret_string().unwrap())
            .version_stages("AWSPENDING")
            .send()
            .await
            .unwrap();
    }

    /// A whole rotation with `token` at `now`: Secrets Manager's staging,
    /// then the four steps, each expected to succeed.
    async fn rotate(&self, token: &str, now: u64) {
        self.begin_rotation(token).await;
        for step in STEPS {
            run_step(&self.store, step, token, &CONFIG, now)
                .await
                .unwrap();
        }
    }
}

async fn seeded() -> Option<(Seeded, KeySet)> {
    testkit::aws_test_endpoint()?;
    let name = format!("tollgate/rotation-{}", ulid::Ulid::new());
    let client = secrets_client().await;
    let store = SecretsManagerKeyStore::new(client.clone(), name.clone());
    let keyset = KeySet::generate(ALG, 1000).unwrap();
    store.save(&keyset, None).await.unwrap();
    enable_rotation(&client, &name).await;
    Some((
        Seeded {
            store,
            client,
            name,
        },
        keyset,
    ))
}

fn token(n: u32) -> String {
    format!("rotation-{n:04}-00000000-0000-0000-0000-000000000000")
}

#[tokio::test]
async fn four_steps_each_repeated_end_in_one_rotation() {
    let Some((seeded, before)) = seeded().await else {
        return;
    };
    let store = &seeded.store;
    let token = token(1);
    seeded.begin_rotation(&token).await;
    for step in STEPS {
        for attempt in 0..2 {
            run_step(store, step, &token, &CONFIG, 2000)
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
    seeded.rotate(&self::token(2), 3000).await;
    assert_eq!(
        store.load().await.unwrap().unwrap().version,
        before.version + 2
    );
}

#[tokio::test]
async fn each_step_can_run_alone_and_refuses_a_token_not_staged_for_rotation() {
    let Some((seeded, before)) = seeded().await else {
        return;
    };
    let store = &seeded.store;
    let token = token(3);
    assert!(
        matches!(
            run_step(store, Step::CreateSecret, &token, &CONFIG, 2000).await,
            Err(RotationError::UnknownVersion(_))
        ),
        "a token Secrets Manager did not stage"
    );
    // A version that exists but is not AWSPENDING (here: a save's own label).
    store
        .stage(&before, &token, "SOMETHING_ELSE")
        .await
        .unwrap();
    assert!(matches!(
        run_step(store, Step::TestSecret, &token, &CONFIG, 2000).await,
        Err(RotationError::NotPending(_))
    ));
    let token = self::token(7);
    seeded.begin_rotation(&token).await;
    run_step(store, Step::CreateSecret, &token, &CONFIG, 2000)
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
    for step in [Step::SetSecret, Step::TestSecret, Step::FinishSecret] {
        run_step(store, step, &token, &CONFIG, 2000).await.unwrap();
    }
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
async fn a_secret_without_rotation_enabled_is_refused() {
    if testkit::aws_test_endpoint().is_none() {
        return;
    }
    let name = format!("tollgate/no-rotation-{}", ulid::Ulid::new());
    let store = SecretsManagerKeyStore::new(secrets_client().await, name);
    store
        .save(&KeySet::generate(ALG, 1000).unwrap(), None)
        .await
        .unwrap();
    let token = token(8);
    store
        .stage_pending(&KeySet::generate(ALG, 1000).unwrap(), &token)
        .await
        .unwrap();
    assert!(matches!(
        run_step(&store, Step::CreateSecret, &token, &CONFIG, 2000).await,
        Err(RotationError::RotationDisabled)
    ));
}

#[tokio::test]
async fn an_admin_rotation_in_between_is_not_undone_and_the_rotation_still_ends_cleanly() {
    let Some((seeded, before)) = seeded().await else {
        return;
    };
    let store = &seeded.store;
    let token = token(4);
    seeded.begin_rotation(&token).await;
    run_step(store, Step::CreateSecret, &token, &CONFIG, 2000)
        .await
        .unwrap();
    // Meanwhile, POST /admin/keys/rotate commits its own rotation; its save
    // leaves the rotation's AWSPENDING where it is.
    let mut admin = before.clone();
    admin.rotate(ALG, 2500, GRACE).unwrap();
    store.save(&admin, Some(before.version)).await.unwrap();
    assert_eq!(
        store.stages().await.unwrap().unwrap().pending.as_deref(),
        Some(token.as_str()),
        "a save does not strip an in-flight rotation's AWSPENDING"
    );
    // Secrets Manager retries createSecret: the version's value is fixed and
    // stale; every step ends cleanly, and finishing does not undo the admin's keys.
    for step in STEPS {
        run_step(store, step, &token, &CONFIG, 3000)
            .await
            .unwrap_or_else(|e| panic!("{step:?}: {e}"));
    }
    assert_eq!(store.load().await.unwrap().unwrap(), admin);
    assert_eq!(
        store.stages().await.unwrap().unwrap().pending,
        None,
        "AWSPENDING freed for the next scheduled rotation"
    );
    // Which then works.
    let next = self::token(9);
    seeded.rotate(&next, 4000).await;
    assert_eq!(
        store.load().await.unwrap().unwrap().version,
        admin.version + 1
    );
}

#[tokio::test]
async fn a_rotation_overtaken_by_another_rotation_ends_as_cleanly_as_one_overtaken_by_an_admin() {
    let Some((seeded, before)) = seeded().await else {
        return;
    };
    let store = &seeded.store;
    let first = token(10);
    seeded.begin_rotation(&first).await;
    run_step(store, Step::CreateSecret, &first, &CONFIG, 2000)
        .await
        .unwrap();
    // A second rotation takes AWSPENDING and finishes before the first's
    // remaining steps run.
    let second = token(11);
    seeded.rotate(&second, 2000).await;
    let after_second = store.load().await.unwrap().unwrap();
    assert_eq!(after_second.version, before.version + 1);
    // Secrets Manager retries the first rotation's steps: each ends cleanly
    // without undoing the second rotation's keyset.
    for step in STEPS {
        run_step(store, step, &first, &CONFIG, 3000)
            .await
            .unwrap_or_else(|e| panic!("{step:?}: {e}"));
    }
    assert_eq!(store.load().await.unwrap().unwrap(), after_second);
    let stages = store.stages().await.unwrap().unwrap();
    assert_eq!(stages.current.as_deref(), Some(second.as_str()));
    assert_eq!(stages.pending, None, "AWSPENDING is free");
    // A token that never held a rotated keyset is still refused.
    let stranger = token(12);
    store
        .stage(&after_second, &stranger, "SOMETHING_ELSE")
        .await
        .unwrap();
    assert!(matches!(
        run_step(store, Step::FinishSecret, &stranger, &CONFIG, 3000).await,
        Err(RotationError::NotPending(_))
    ));
    // And the next scheduled rotation runs.
    seeded.rotate(&token(13), 4000).await;
    assert_eq!(
        store.load().await.unwrap().unwrap().version,
        after_second.version + 1
    );
}

#[tokio::test]
async fn a_pending_copy_made_by_rotate_secret_is_replaced_by_a_real_rotation() {
    let Some((seeded, before)) = seeded().await else {
        return;
    };
    let token = token(5);
    // moto's RotateSecret (rotate_immediately=false) labels a copy of the current value AWSPENDING.
    seeded.rotate(&token, 2000).await;
    let after = seeded.store.load().await.unwrap().unwrap();
    assert_eq!(after.version, before.version + 1);
    assert_eq!(after.active().unwrap().kid, before.next().unwrap().kid);
}

#[tokio::test]
async fn a_placeholder_secret_is_bootstrapped_into_a_keyset() {
    if testkit::aws_test_endpoint().is_none() {
        return;
    }
    let client = secrets_client().await;
    // What infra/ writes as the first version (a bare "placeholder" string
    // would be a corrupt keyset, which a rotation must not replace).
    let placeholder = r#"{"placeholder":"Tollgate keyset: written by the first rotation"}"#;
    let name = create_placeholder_secret(&client, placeholder).await;
    enable_rotation(&client, &name).await;
    let seeded = Seeded {
        store: SecretsManagerKeyStore::new(client.clone(), name.clone()),
        client,
        name,
    };
    let token = token(6);
    seeded.rotate(&token, 2000).await;
    let keyset = seeded.store.load().await.unwrap().unwrap();
    assert!(keyset.active().is_ok() && keyset.next().is_some());
}

#[tokio::test]
async fn a_rotation_right_after_an_admin_rotation_waits_for_the_spacing() {
    let Some((seeded, before)) = seeded().await else {
        return;
    };
    let store = &seeded.store;
    // POST /admin/keys/rotate at 2000 publishes a fresh next key.
    let mut admin = before.clone();
    admin.rotate(ALG, 2000, GRACE).unwrap();
    store.save(&admin, Some(before.version)).await.unwrap();
    // A scheduled (or immediate) rotation 100 s before that key is old enough.
    let token = token(11);
    seeded.begin_rotation(&token).await;
    let ready = 2000 + SPACING.as_secs();
    let error = run_step(store, Step::CreateSecret, &token, &CONFIG, ready - 100)
        .await
        .unwrap_err();
    assert!(
        matches!(error, RotationError::TooSoon { retry_after } if retry_after == Duration::from_secs(100)),
        "{error:?}"
    );
    assert!(error.to_string().contains("100 s"), "{error}");
    assert_eq!(
        store.load().await.unwrap().unwrap(),
        admin,
        "nothing activated"
    );
    assert_eq!(
        store.read_version(&token).await.unwrap().unwrap(),
        admin,
        "nothing staged: AWSPENDING still holds RotateSecret's copy"
    );
    // Secrets Manager retries once the next key has been published long enough.
    for step in STEPS {
        run_step(store, step, &token, &CONFIG, ready)
            .await
            .unwrap_or_else(|e| panic!("{step:?}: {e}"));
    }
    let after = store.load().await.unwrap().unwrap();
    assert_eq!(after.version, admin.version + 1);
    assert_eq!(after.active().unwrap().kid, admin.next().unwrap().kid);
}

/// The value and version id `AWSCURRENT` holds, read straight from Secrets Manager.
async fn current_value(client: &Client, name: &str) -> (String, String) {
    let current = client
        .get_secret_value()
        .secret_id(name)
        .version_stage("AWSCURRENT")
        .send()
        .await
        .unwrap();
    (
        current.version_id().unwrap().to_owned(),
        current.secret_string().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_corrupt_current_keyset_fails_the_rotation_instead_of_being_replaced() {
    if testkit::aws_test_endpoint().is_none() {
        return;
    }
    let client = secrets_client().await;
    // A keyset cut short: neither a keyset nor a placeholder.
    let corrupt =
        r#"{"version": 7, "keys": [{"kid": "k1", "private_key_pkcs8": "TOPSECRETKEYMATERIAL"#;
    let name = create_placeholder_secret(&client, corrupt).await;
    enable_rotation(&client, &name).await;
    let seeded = Seeded {
        store: SecretsManagerKeyStore::new(client.clone(), name.clone()),
        client: client.clone(),
        name: name.clone(),
    };
    let token = token(10);
    seeded.begin_rotation(&token).await;
    let before = current_value(&client, &name).await;

    let error = run_step(&seeded.store, Step::CreateSecret, &token, &CONFIG, 2000)
        .await
        .unwrap_err();
    assert!(
        matches!(error, RotationError::CorruptKeyset(_)),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("unreadable"), "{message}");
    assert!(
        !message.contains("TOPSECRET"),
        "no secret value in {message}"
    );
    assert_eq!(
        current_value(&client, &name).await,
        before,
        "AWSCURRENT unchanged"
    );
    assert!(
        seeded.store.read_version(&token).await.is_err(),
        "no fresh keyset staged AWSPENDING"
    );
}

#[test]
fn the_rotation_lambda_needs_no_issuer_settings() {
    let config = issuer::RotationConfig::from_lookup(|name| {
        (name == "TOKEN_TTL_SECONDS").then(|| "600".to_owned())
    })
    .unwrap();
    assert_eq!(config.signing_alg, SigningAlg::RS256);
    assert_eq!(config.grace_seconds, 600 + 300);
    assert_eq!(config.rotation_spacing, SPACING);
}
