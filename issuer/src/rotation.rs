//! Secrets Manager's four-step rotation of the keyset secret, with the same
//! lifecycle code as `POST /admin/keys/rotate` ([`KeySet::rotate`]). Every
//! step is idempotent for its `ClientRequestToken`, which is also the new
//! version's id: Secrets Manager may call a step again after a failure.

use crate::keyset::KeySet;
use crate::signing_key::SigningAlg;
use crate::store::secrets_manager::SecretsManagerKeyStore;
use crate::store::KeyStoreError;

/// One step of a rotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    CreateSecret,
    SetSecret,
    TestSecret,
    FinishSecret,
}

#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    #[error("unknown rotation step {0:?}")]
    UnknownStep(String),
    #[error("the keyset secret has no current version")]
    NoCurrentKeyset,
    #[error("no pending version {0} to test or finish")]
    NoPendingVersion(String),
    #[error("the pending keyset does not verify: {0}")]
    PendingInvalid(String),
    /// The keyset changed (an admin rotation or revocation) after this
    /// rotation staged its version: promoting it would undo that change.
    #[error("the keyset changed during this rotation; start a new one")]
    Superseded,
    #[error(transparent)]
    Store(#[from] KeyStoreError),
}

impl Step {
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

/// Runs one step for the rotation identified by `token`.
pub async fn run_step(
    store: &SecretsManagerKeyStore,
    step: Step,
    token: &str,
    alg: SigningAlg,
    grace_seconds: u64,
    now: u64,
) -> Result<(), RotationError> {
    match step {
        Step::CreateSecret => {
            if store.read_version(token).await?.is_some() {
                return Ok(()); // already created by an earlier attempt
            }
            let mut keyset = store
                .read_stage(crate::store::secrets_manager::CURRENT)
                .await?
                .ok_or(RotationError::NoCurrentKeyset)?;
            keyset
                .rotate(alg, now, grace_seconds)
                .map_err(|e| RotationError::PendingInvalid(e.to_string()))?;
            store.stage_pending(&keyset, token).await?;
            Ok(())
        }
        // The keyset has no external system to update: signing reads the secret.
        Step::SetSecret => Ok(()),
        Step::TestSecret => {
            let pending = store
                .read_version(token)
                .await?
                .ok_or_else(|| RotationError::NoPendingVersion(token.to_owned()))?;
            check_keyset(&pending)
        }
        Step::FinishSecret => {
            let stages = store
                .stages()
                .await?
                .ok_or(RotationError::NoCurrentKeyset)?;
            let current_id = stages.current.ok_or(RotationError::NoCurrentKeyset)?;
            if current_id == token {
                store.clear_pending(token).await;
                return Ok(()); // finished by an earlier attempt
            }
            let pending = store
                .read_version(token)
                .await?
                .ok_or_else(|| RotationError::NoPendingVersion(token.to_owned()))?;
            let current = store
                .read_stage(crate::store::secrets_manager::CURRENT)
                .await?
                .ok_or(RotationError::NoCurrentKeyset)?;
            if pending.version != current.version + 1 {
                return Err(RotationError::Superseded);
            }
            match store.promote(token, &current_id).await {
                Ok(()) => {}
                Err(KeyStoreError::Conflict) => return Err(RotationError::Superseded),
                Err(other) => return Err(other.into()),
            }
            store.clear_pending(token).await;
            Ok(())
        }
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
