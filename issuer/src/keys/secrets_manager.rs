//! The keyset in AWS Secrets Manager (`KEYSET_SECRET_ID`): one JSON secret,
//! versioned with the real staging labels.
//!
//! A save writes the new keyset as a new version labelled `AWSPENDING`
//! (with its own `ClientRequestToken`), then moves `AWSCURRENT` to it with
//! `RemoveFromVersionId` = the version it read. Secrets Manager refuses that
//! move if `AWSCURRENT` has moved meanwhile, which makes it a compare-and-
//! swap: of two racing rotations exactly one wins, the other gets a
//! conflict, and no key is lost or duplicated.
//!
//! `AWSPENDING` belongs to Secrets Manager's rotation (the `issuer-rotation`
//! Lambda): a save never touches it, so a scheduled rotation in flight is
//! not broken by an admin rotation. A save stages its version under its own
//! label, [`SAVING`]; a save that crashed between the two steps leaves that
//! label on a version that never became current, and the next save's
//! staging simply moves the label away (a label marks one version at most).
//!
//! A placeholder value (what Terraform writes so the secret has a version
//! before its first rotation, see [`is_placeholder`]) reads as "no keyset
//! yet": the first save, by the issuer or the first rotation, replaces it
//! through the same compare-and-swap. A placeholder written again over a
//! real keyset is read through: the keyset it displaced (now `AWSPREVIOUS`)
//! stays current, so no key is lost.

use async_trait::async_trait;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::operation::update_secret_version_stage::builders::UpdateSecretVersionStageFluentBuilder;
use aws_sdk_secretsmanager::Client;

use super::{KeyStore, KeyStoreError};
use crate::keys::KeySet;

/// Secrets Manager's label of the version readers get.
pub const CURRENT: &str = "AWSCURRENT";
/// Secrets Manager's label of the version a rotation is creating.
pub const PENDING: &str = "AWSPENDING";
/// The label of a version a save has staged but not yet made current.
pub const SAVING: &str = "TOLLGATE_SAVING";
/// Secrets Manager's label of the version that was current before.
pub const PREVIOUS: &str = "AWSPREVIOUS";
/// The one member of a placeholder value: `{"placeholder": "<any note>"}`.
pub const PLACEHOLDER_MEMBER: &str = "placeholder";

/// Whether a secret value is a placeholder rather than a keyset: a JSON
/// object whose only member is [`PLACEHOLDER_MEMBER`].
pub fn is_placeholder(value: &str) -> bool {
    serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(value)
        .is_ok_and(|object| object.len() == 1 && object.contains_key(PLACEHOLDER_MEMBER))
}

/// The keyset secret.
#[derive(Clone, Debug)]
pub struct SecretsManagerKeyStore {
    client: Client,
    secret_id: String,
}

/// The version ids holding the labels that matter, and whether the secret
/// has rotation turned on.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Stages {
    /// The version labelled [`CURRENT`].
    pub current: Option<String>,
    /// The version labelled [`PENDING`] (a rotation in flight).
    pub pending: Option<String>,
    /// The version labelled [`SAVING`] (a save in flight).
    pub saving: Option<String>,
    /// Whether the secret has rotation turned on.
    pub rotation_enabled: bool,
    /// Every version id with its labels.
    pub versions: std::collections::BTreeMap<String, Vec<String>>,
}

fn code<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> Option<&str> {
    match error {
        SdkError::ServiceError(service) => service.err().code(),
        _ => None,
    }
}

/// Errors without the secret's content: SDK messages name the request, never the value.
fn failure<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    error: SdkError<E, R>,
) -> KeyStoreError {
    KeyStoreError::Io(format!(
        "Secrets Manager: {}",
        code(&error).unwrap_or("request failed")
    ))
}

impl SecretsManagerKeyStore {
    /// The keyset in secret `secret_id`, through `client`.
    pub fn new(client: Client, secret_id: impl Into<String>) -> Self {
        Self {
            client,
            secret_id: secret_id.into(),
        }
    }

    /// A client from the environment (region, credentials, `AWS_ENDPOINT_URL`),
    /// with the services' one SDK retry policy.
    pub async fn from_env(secret_id: impl Into<String>) -> Self {
        Self::new(Client::new(&aws_clients::sdk_config().await), secret_id)
    }

    /// Where `AWSCURRENT` and `AWSPENDING` point; `None` if there is no secret.
    pub async fn stages(&self) -> Result<Option<Stages>, KeyStoreError> {
        let described = match self
            .client
            .describe_secret()
            .secret_id(&self.secret_id)
            .send()
            .await
        {
            Ok(described) => described,
            Err(e) if code(&e) == Some("ResourceNotFoundException") => return Ok(None),
            Err(e) => return Err(failure(e)),
        };
        let mut stages = Stages {
            rotation_enabled: described.rotation_enabled().unwrap_or(false),
            ..Stages::default()
        };
        for (version, labels) in described.version_ids_to_stages().into_iter().flatten() {
            for (label, slot) in [
                (CURRENT, &mut stages.current),
                (PENDING, &mut stages.pending),
                (SAVING, &mut stages.saving),
            ] {
                if labels.iter().any(|l| l == label) {
                    *slot = Some(version.clone());
                }
            }
            stages.versions.insert(version.clone(), labels.clone());
        }
        Ok(Some(stages))
    }

    /// The keyset that is current: `AWSCURRENT`, or when that holds a
    /// placeholder, the keyset the placeholder displaced (`AWSPREVIOUS`, if
    /// any). `None` before the first keyset.
    pub async fn current(&self) -> Result<Option<KeySet>, KeyStoreError> {
        match self.read(Some(CURRENT), None).await? {
            Stored::KeySet(keyset) => Ok(Some(keyset)),
            Stored::Absent => Ok(None),
            Stored::Placeholder => self.read_stage(PREVIOUS).await,
        }
    }

    /// The keyset stored under `stage`, if that label exists and holds one.
    pub async fn read_stage(&self, stage: &str) -> Result<Option<KeySet>, KeyStoreError> {
        // Always name the stage: moto (and eventual consistency) may answer
        // an unlabelled read with a stale version right after a move.
        Ok(self.read(Some(stage), None).await?.keyset())
    }

    /// The keyset stored in version `version_id`, if that version exists and holds one.
    pub async fn read_version(&self, version_id: &str) -> Result<Option<KeySet>, KeyStoreError> {
        Ok(self.read(None, Some(version_id)).await?.keyset())
    }

    async fn read(
        &self,
        stage: Option<&str>,
        version_id: Option<&str>,
    ) -> Result<Stored, KeyStoreError> {
        let value = match self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            .set_version_stage(stage.map(str::to_owned))
            .set_version_id(version_id.map(str::to_owned))
            .send()
            .await
        {
            Ok(value) => value,
            Err(e) if code(&e) == Some("ResourceNotFoundException") => return Ok(Stored::Absent),
            Err(e) => return Err(failure(e)),
        };
        let text = value.secret_string().ok_or_else(|| {
            KeyStoreError::Corrupt("the keyset secret has no string value".to_owned())
        })?;
        if is_placeholder(text) {
            return Ok(Stored::Placeholder);
        }
        serde_json::from_str(text).map(Stored::KeySet).map_err(|e| {
            KeyStoreError::Corrupt(format!(
                "keyset secret at line {} column {}",
                e.line(),
                e.column()
            ))
        })
    }

    /// Writes `keyset` as a new version labelled `AWSPENDING` and returns its
    /// version id (the rotation Lambda's `createSecret`).
    pub async fn stage_pending(
        &self,
        keyset: &KeySet,
        token: &str,
    ) -> Result<String, KeyStoreError> {
        self.stage(keyset, token, PENDING).await
    }

    /// Writes `keyset` as a new version labelled `label` and returns its
    /// version id (the first half of a save, labelled [`SAVING`]; exposed
    /// for crash tests).
    pub async fn stage(
        &self,
        keyset: &KeySet,
        token: &str,
        label: &str,
    ) -> Result<String, KeyStoreError> {
        let json = serde_json::to_string(keyset).map_err(|e| KeyStoreError::Io(e.to_string()))?;
        let put = self
            .client
            .put_secret_value()
            .secret_id(&self.secret_id)
            .client_request_token(token)
            .secret_string(json)
            .version_stages(label)
            .send()
            .await
            .map_err(failure)?;
        Ok(put.version_id().unwrap_or(token).to_owned())
    }

    /// Moves `AWSCURRENT` from `from` to `to`: the compare-and-swap.
    pub async fn promote(&self, to: &str, from: &str) -> Result<(), KeyStoreError> {
        match self
            .move_label(CURRENT)
            .move_to_version_id(to)
            .remove_from_version_id(from)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // The same error code covers a bad version id and a label that
            // is not on `from`: only the latter, AWSCURRENT having moved
            // away from `from`, is someone else winning.
            Err(e) if code(&e) == Some("InvalidParameterException") => match self.stages().await? {
                Some(stages) if stages.current.as_deref() != Some(from) => {
                    Err(KeyStoreError::Conflict)
                }
                _ => Err(failure(e)),
            },
            Err(e) => Err(failure(e)),
        }
    }

    /// Removes the `AWSPENDING` label from `version` (best effort: a racing
    /// save may already have moved or removed it).
    pub async fn clear_pending(&self, version: &str) {
        self.clear_label(PENDING, version).await;
    }

    /// Removes `label` from `version`, best effort.
    async fn clear_label(&self, label: &str, version: &str) {
        let _ = self
            .move_label(label)
            .remove_from_version_id(version)
            .send()
            .await;
    }

    /// An `UpdateSecretVersionStage` of `label` on this secret, to be told
    /// where the label goes and where it leaves.
    fn move_label(&self, label: &str) -> UpdateSecretVersionStageFluentBuilder {
        self.client
            .update_secret_version_stage()
            .secret_id(&self.secret_id)
            .version_stage(label)
    }
}

/// What one read of the secret found.
enum Stored {
    Absent,
    Placeholder,
    KeySet(KeySet),
}

impl Stored {
    fn keyset(self) -> Option<KeySet> {
        match self {
            Stored::KeySet(keyset) => Some(keyset),
            Stored::Absent | Stored::Placeholder => None,
        }
    }
}

/// A `ClientRequestToken` for a new version (32–64 characters).
fn request_token(keyset: &KeySet) -> String {
    format!("keyset-v{:012}-{}", keyset.version, ulid::Ulid::new())
}

#[async_trait]
impl KeyStore for SecretsManagerKeyStore {
    async fn load(&self) -> Result<Option<KeySet>, KeyStoreError> {
        self.current().await
    }

    async fn save(
        &self,
        keyset: &KeySet,
        expected_version: Option<u64>,
    ) -> Result<(), KeyStoreError> {
        let Some(stages) = self.stages().await? else {
            if expected_version.is_some() {
                return Err(KeyStoreError::Conflict);
            }
            let json =
                serde_json::to_string(keyset).map_err(|e| KeyStoreError::Io(e.to_string()))?;
            return match self
                .client
                .create_secret()
                .name(&self.secret_id)
                .client_request_token(request_token(keyset))
                .secret_string(json)
                .send()
                .await
            {
                Ok(_) => Ok(()),
                Err(e) if code(&e) == Some("ResourceExistsException") => {
                    Err(KeyStoreError::Conflict)
                }
                Err(e) => Err(failure(e)),
            };
        };
        let current_id = stages.current.ok_or_else(|| {
            KeyStoreError::Corrupt("the keyset secret has no AWSCURRENT version".to_owned())
        })?;
        let stored_version = self.current().await?.map(|k| k.version);
        if stored_version != expected_version {
            return Err(KeyStoreError::Conflict);
        }
        // Staged under SAVING, never AWSPENDING: a rotation in flight keeps its
        // label. Staging moves SAVING off a crashed save's version, if any.
        let staged = self.stage(keyset, &request_token(keyset), SAVING).await?;
        let promoted = self.promote(&staged, &current_id).await;
        self.clear_label(SAVING, &staged).await;
        promoted
    }
}
