//! Secrets Manager's four-step rotation of the keyset secret, with the same
//! lifecycle code as `POST /admin/keys/rotate` ([`KeySet::rotate`]) and the
//! same spacing rule ([`KeySet::rotation_wait`]). Every
//! step is idempotent for its `ClientRequestToken`, which is also the new
//! version's id: Secrets Manager may call a step again after a failure.

use std::time::Duration;

use crate::config::RotationConfig;
use crate::keys::KeySet;
use crate::keys::KeyStoreError;
use crate::keys::{SecretsManagerKeyStore, CURRENT, PENDING};

/// One step of a rotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Stage the rotated keyset as `AWSPENDING`.
    CreateSecret,
    /// Nothing to set elsewhere: the secret is the only copy.
    SetSecret,
    /// Check that the pending keyset signs and verifies.
    TestSecret,
    /// Make the pending version `AWSCURRENT`.
    FinishSecret,
}

/// Why a rotation step failed (Secrets Manager retries the step).
#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    /// A step name that is not one of the four.
    #[error("unknown rotation step {0:?}")]
    UnknownStep(String),
    /// The secret is gone.
    #[error("the keyset secret does not exist")]
    NoSecret,
    /// Rotation steps run only on a secret with rotation on.
    #[error("rotation is not enabled on the keyset secret")]
    RotationDisabled,
    /// The token names no version of the secret.
    #[error("version {0} of the keyset secret has no stage for rotation")]
    UnknownVersion(String),
    /// The token's version is not the one being rotated.
    #[error("version {0} of the keyset secret is not staged AWSPENDING for rotation")]
    NotPending(String),
    /// Nothing to rotate from.
    #[error("the keyset secret has no current version")]
    NoCurrentKeyset,
    /// The current value is neither a keyset nor a placeholder. Replacing
    /// it with a fresh keyset would delete every published key, so the step
    /// fails (the rotation stays pending, the alarm fires) until it is
    /// repaired. The cause names a position, never the value.
    #[error(
        "the current keyset is unreadable ({0}); rotation will not replace it: \
         restore a valid AWSCURRENT version"
    )]
    CorruptKeyset(String),
    /// Test or finish before create.
    #[error("no pending version {0} to test or finish")]
    NoPendingVersion(String),
    /// The staged keyset cannot sign and verify.
    #[error("the pending keyset does not verify: {0}")]
    PendingInvalid(String),
    /// The `next` key is younger than the rotation spacing (an admin
    /// rotation just ran, or a rotation was asked for right after another):
    /// activating it now would meet warm authorizers that have not fetched
    /// it. The step fails, so the rotation stays pending and is retried.
    #[error(
        "the next key was published too recently: warm authorizers may not hold it yet; \
         the rotation can run in {} s",
        retry_after.as_secs().max(1)
    )]
    TooSoon {
        /// When the next key will be old enough.
        retry_after: Duration,
    },
    /// Secrets Manager failed.
    #[error(transparent)]
    Store(#[from] KeyStoreError),
}

impl Step {
    /// The step of the event's `Step` member.
    pub fn parse(name: &str) -> Result<Self, RotationError> {
        Ok(match name {
            "createSecret" => Step::CreateSecret,
            "setSecret" => Step::SetSecret,
            "testSecret" => Step::TestSecret,
            "finishSecret" => Step::FinishSecret,
            other => return Err(RotationError::UnknownStep(other.to_owned())),
        })
    }
}

/// Whether this event may act on the secret, as AWS's rotation templates
/// check before every step: rotation is enabled and `token` is a version
/// staged `AWSPENDING`. `Ok(false)`: `token` is `AWSCURRENT` already, the
/// rotation has finished and the step has nothing to do.
async fn may_rotate(store: &SecretsManagerKeyStore, token: &str) -> Result<bool, RotationError> {
    let stages = store.stages().await?.ok_or(RotationError::NoSecret)?;
    if !stages.rotation_enabled {
        return Err(RotationError::RotationDisabled);
    }
    let labels = stages
        .versions
        .get(token)
        .ok_or_else(|| RotationError::UnknownVersion(token.to_owned()))?;
    if labels.iter().any(|l| l == CURRENT) {
        return Ok(false);
    }
    if !labels.iter().any(|l| l == PENDING) {
        return Err(RotationError::NotPending(token.to_owned()));
    }
    Ok(true)
}

/// Runs one step for the rotation identified by `token`.
pub async fn run_step(
    store: &SecretsManagerKeyStore,
    step: Step,
    token: &str,
    config: &RotationConfig,
    now: u64,
) -> Result<(), RotationError> {
    match may_rotate(store, token).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::info!(token, "version is AWSCURRENT already: rotation finished");
            return Ok(());
        }
        // Another rotation took AWSPENDING and finished: this one has
        // happened, and failing would only raise a false alarm.
        Err(RotationError::NotPending(_) | RotationError::UnknownVersion(_))
            if overtaken(store, token).await? =>
        {
            tracing::warn!(token, "rotation overtaken by a newer keyset; nothing to do");
            return Ok(());
        }
        Err(refused) => return Err(refused),
    }
    match step {
        Step::CreateSecret => create_secret(store, token, config, now).await,
        // The keyset has no external system to update: signing reads the secret.
        Step::SetSecret => Ok(()),
        Step::TestSecret => test_secret(store, token).await,
        Step::FinishSecret => finish_secret(store, token).await,
    }
}

/// createSecret: stages the rotated current keyset (or a first one) as
/// `AWSPENDING`, unless a retry finds that done already. Refused while the
/// current `next` key is younger than the rotation spacing.
async fn create_secret(
    store: &SecretsManagerKeyStore,
    token: &str,
    config: &RotationConfig,
    now: u64,
) -> Result<(), RotationError> {
    let alg = config.signing_alg;
    let current = current_keyset(store).await?;
    // RotateSecret itself may have made the token's version (empty,
    // or in moto a copy of the current value): only a real rotation
    // of the current keyset counts as already created.
    if let Some(pending) = store.read_version(token).await.ok().flatten() {
        if is_next_of(&pending, current.as_ref()) {
            return Ok(());
        }
        if is_superseded(&pending, current.as_ref()) {
            // A retry after an admin rotation overtook this one: the
            // version's value is fixed, and the keyset has been
            // rotated meanwhile. finishSecret ends it cleanly.
            tracing::warn!(token, "rotation superseded by a newer keyset");
            return Ok(());
        }
    }
    let next = match current {
        Some(mut keyset) => {
            if let Some(retry_after) = keyset.rotation_wait(config.rotation_spacing, now) {
                return Err(RotationError::TooSoon { retry_after });
            }
            keyset
                .rotate(alg, now, config.grace_seconds)
                .map_err(|e| RotationError::PendingInvalid(e.to_string()))?;
            keyset
        }
        // No keyset yet (a placeholder secret): start one.
        None => {
            KeySet::generate(alg, now).map_err(|e| RotationError::PendingInvalid(e.to_string()))?
        }
    };
    store.stage_pending(&next, token).await?;
    Ok(())
}

/// testSecret: the pending version must be a usable keyset.
async fn test_secret(store: &SecretsManagerKeyStore, token: &str) -> Result<(), RotationError> {
    let pending = store
        .read_version(token)
        .await?
        .ok_or_else(|| RotationError::NoPendingVersion(token.to_owned()))?;
    check_keyset(&pending)
}

/// finishSecret: promotes `AWSPENDING` to `AWSCURRENT` unless the keyset
/// moved on meanwhile, and frees `AWSPENDING` either way.
///
/// An overtaken rotation (by the admin endpoint, by another rotation, or by
/// a save that wins the race to `AWSCURRENT`) always ends here cleanly:
/// Secrets Manager treats `AWSPENDING` left on a version other than
/// `AWSCURRENT` as a rotation in progress and would refuse the next one.
async fn finish_secret(store: &SecretsManagerKeyStore, token: &str) -> Result<(), RotationError> {
    let stages = store
        .stages()
        .await?
        .ok_or(RotationError::NoCurrentKeyset)?;
    if stages.current.as_deref() == Some(token) {
        store.clear_pending(token).await;
        return Ok(()); // finished by an earlier attempt
    }
    let pending = store
        .read_version(token)
        .await?
        .ok_or_else(|| RotationError::NoPendingVersion(token.to_owned()))?;
    let current = current_keyset(store).await?;
    if !is_next_of(&pending, current.as_ref()) {
        // The keyset moved on (an admin rotation or revocation):
        // promoting would undo that. The rotation Secrets Manager
        // asked for has happened, so end it without failing, and
        // free AWSPENDING for the next scheduled one.
        tracing::warn!(
            token,
            "rotation superseded by a newer keyset; nothing to promote"
        );
        store.clear_pending(token).await;
        return Ok(());
    }
    let current_id = stages.current.ok_or(RotationError::NoCurrentKeyset)?;
    match store.promote(token, &current_id).await {
        Ok(()) => {}
        // AWSCURRENT moved between the read and the promotion: a concurrent
        // attempt finished this rotation, or another write overtook it.
        Err(KeyStoreError::Conflict) => {
            tracing::warn!(token, "AWSCURRENT moved while finishing; not promoting");
        }
        Err(other) => return Err(other.into()),
    }
    store.clear_pending(token).await;
    Ok(())
}

/// Whether `token`'s version holds a keyset that a newer current keyset has
/// replaced: a rotation another write overtook. A version that does not
/// read, or holds the current keyset, is not.
async fn overtaken(store: &SecretsManagerKeyStore, token: &str) -> Result<bool, RotationError> {
    let Some(staged) = store.read_version(token).await.ok().flatten() else {
        return Ok(false);
    };
    Ok(is_superseded(
        &staged,
        current_keyset(store).await?.as_ref(),
    ))
}

/// The current keyset; `None` only when the secret holds none yet (no
/// value or a placeholder). An unreadable value is an error, never "none
/// yet": a first keyset would replace it and unpublish every key.
async fn current_keyset(store: &SecretsManagerKeyStore) -> Result<Option<KeySet>, RotationError> {
    match store.current().await {
        Ok(keyset) => Ok(keyset),
        Err(KeyStoreError::Corrupt(cause)) => Err(RotationError::CorruptKeyset(cause)),
        Err(other) => Err(other.into()),
    }
}

/// Whether `pending` was staged from an older keyset than `current` (and
/// is not a copy of `current`, which RotateSecret may make).
fn is_superseded(pending: &KeySet, current: Option<&KeySet>) -> bool {
    current.is_some_and(|current| pending.version <= current.version && pending != current)
}

/// Whether `pending` is the next version after `current`.
fn is_next_of(pending: &KeySet, current: Option<&KeySet>) -> bool {
    match current {
        Some(current) => pending.version == current.version + 1,
        None => true,
    }
}

/// A pending keyset is usable: an active key that signs a token its own
/// published JWKS verifies.
fn check_keyset(keyset: &KeySet) -> Result<(), RotationError> {
    let invalid = |e: &dyn std::fmt::Display| RotationError::PendingInvalid(e.to_string());
    let active = keyset.active().map_err(|e| invalid(&e))?;
    let mut header = jsonwebtoken::Header::new(active.alg.jwt_algorithm());
    header.kid = Some(active.kid.clone());
    let claims = serde_json::json!({"sub": "rotation-test", "exp": 4_000_000_000u64});
    let token = jsonwebtoken::encode(
        &header,
        &claims,
        &active.encoding_key().map_err(|e| invalid(&e))?,
    )
    .map_err(|e| invalid(&e))?;
    let jwks = keyset.jwks().map_err(|e| invalid(&e))?;
    let jwk = jwks
        .find(&active.kid)
        .ok_or_else(|| invalid(&"the active key is not published"))?;
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).map_err(|e| invalid(&e))?;
    let mut validation = jsonwebtoken::Validation::new(active.alg.jwt_algorithm());
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp"]);
    jsonwebtoken::decode::<serde_json::Value>(&token, &key, &validation)
        .map_err(|e| invalid(&e))?;
    if keyset.next().is_none() {
        return Err(invalid(&"no next key is published"));
    }
    Ok(())
}
