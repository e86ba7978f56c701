//! The issuer's keyset and its lifecycle, per key:
//! `next` (published, not yet signing) → `active` (signs) → `previous`
//! (published, no longer signs) → removed.
//!
//! A key is published a whole rotation before it signs, so a warm authorizer
//! already holds it when it starts signing. A `previous` key stays until
//! every token it signed has expired plus the longest JWKS cache time (the
//! grace), so rotation never invalidates an outstanding token. Rotations
//! spaced at least a grace apart keep the JWKS at three keys; faster ones
//! publish one more `previous` key per rotation until their grace passes.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::EncodingKey;
use serde::{Deserialize, Serialize};

use crate::keys::{KeyError, PrivateKey, SigningAlg};

/// Where a key is in its lifecycle: next → active → previous → gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    /// Published, not yet signing: caches learn it before it signs.
    Next,
    /// The one key that signs.
    Active,
    /// Retired from signing, published until its tokens have expired.
    Previous,
}

/// One key with its lifecycle times (Unix seconds). `Debug` redacts the
/// private key (see [`PrivateKey`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// The key id tokens name in their header.
    pub kid: String,
    /// The algorithm the key signs with.
    pub alg: SigningAlg,
    /// Where the key is in its lifecycle.
    pub state: KeyState,
    /// When it was generated.
    pub created_at: u64,
    /// When it started signing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activated_at: Option<u64>,
    /// When it stopped signing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<u64>,
    #[serde(rename = "private_key_pkcs8", with = "pkcs8_base64")]
    private_key: PrivateKey,
}

/// What `GET /admin/keys` shows of a key: never private material.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyMetadata {
    /// As [`KeyRecord::kid`].
    pub kid: String,
    /// As [`KeyRecord::alg`].
    pub alg: SigningAlg,
    /// As [`KeyRecord::state`].
    pub state: KeyState,
    /// As [`KeyRecord::created_at`].
    pub created_at: u64,
    /// As [`KeyRecord::activated_at`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activated_at: Option<u64>,
    /// As [`KeyRecord::retired_at`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<u64>,
}

/// Why a keyset operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum KeySetError {
    /// Generating or loading a key failed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// No key with that `kid`.
    #[error("no key {0} in the keyset")]
    UnknownKid(String),
    /// Every keyset must have one signing key.
    #[error("the keyset has no active key")]
    NoActiveKey,
}

/// All keys, with a version bumped by every change (the stores' optimistic
/// concurrency token).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySet {
    /// Bumped by every change; a save expects the version it read.
    pub version: u64,
    /// Every key, whatever its state.
    pub keys: Vec<KeyRecord>,
}

impl KeyRecord {
    fn generate(alg: SigningAlg, state: KeyState, now: u64) -> Result<Self, KeyError> {
        let private_key = PrivateKey::generate(alg)?;
        let kid = private_key
            .public_jwk(alg)?
            .common
            .key_id
            .ok_or(KeyError::Generation)?;
        Ok(Self {
            kid,
            alg,
            state,
            created_at: now,
            activated_at: (state == KeyState::Active).then_some(now),
            retired_at: None,
            private_key,
        })
    }

    /// What may be shown of the key.
    pub fn metadata(&self) -> KeyMetadata {
        KeyMetadata {
            kid: self.kid.clone(),
            alg: self.alg,
            state: self.state,
            created_at: self.created_at,
            activated_at: self.activated_at,
            retired_at: self.retired_at,
        }
    }

    /// The key for signing with `jsonwebtoken`.
    pub fn encoding_key(&self) -> Result<EncodingKey, KeyError> {
        self.private_key.encoding_key(self.alg)
    }
}

impl KeySet {
    /// A first keyset: one `active` key and one `next` key.
    pub fn generate(alg: SigningAlg, now: u64) -> Result<Self, KeySetError> {
        Ok(Self {
            version: 1,
            keys: vec![
                KeyRecord::generate(alg, KeyState::Active, now)?,
                KeyRecord::generate(alg, KeyState::Next, now)?,
            ],
        })
    }

    fn find(&self, state: KeyState) -> Option<&KeyRecord> {
        self.keys.iter().find(|k| k.state == state)
    }

    /// The key that signs.
    pub fn active(&self) -> Result<&KeyRecord, KeySetError> {
        self.find(KeyState::Active).ok_or(KeySetError::NoActiveKey)
    }

    /// The key that signs after the next rotation.
    pub fn next(&self) -> Option<&KeyRecord> {
        self.find(KeyState::Next)
    }

    /// How long until the `next` key has been published for `spacing`, the
    /// least time before any rotation may activate it (warm authorizers
    /// hold it by then); `None` when a rotation may run now. The admin
    /// endpoint and the Secrets Manager rotation both ask this.
    pub fn rotation_wait(&self, spacing: Duration, now: u64) -> Option<Duration> {
        let ready_at = self.next()?.created_at.saturating_add(spacing.as_secs());
        (now < ready_at).then(|| Duration::from_secs(ready_at - now))
    }

    /// What may be shown of every key.
    pub fn metadata(&self) -> Vec<KeyMetadata> {
        self.keys.iter().map(KeyRecord::metadata).collect()
    }

    /// The published keys (`next`, `active`, `previous`) as a JWKS of public members only.
    pub fn jwks(&self) -> Result<JwkSet, KeySetError> {
        let keys = self
            .keys
            .iter()
            .map(|k| k.private_key.public_jwk(k.alg))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(JwkSet { keys })
    }

    /// One rotation step: `next` → `active`, `active` → `previous`, a fresh
    /// `next` (of `alg`), and `previous` keys past `grace_seconds` dropped.
    /// Returns the new active key's metadata.
    pub fn rotate(
        &mut self,
        alg: SigningAlg,
        now: u64,
        grace_seconds: u64,
    ) -> Result<KeyMetadata, KeySetError> {
        if self.next().is_none() {
            // A keyset damaged by hand: repair instead of activating nothing.
            self.keys
                .push(KeyRecord::generate(alg, KeyState::Next, now)?);
        }
        let fresh_next = KeyRecord::generate(alg, KeyState::Next, now)?;
        for key in &mut self.keys {
            match key.state {
                KeyState::Active => {
                    key.state = KeyState::Previous;
                    key.retired_at = Some(now);
                }
                KeyState::Next => {
                    key.state = KeyState::Active;
                    key.activated_at = Some(now);
                }
                KeyState::Previous => {}
            }
        }
        self.keys.push(fresh_next);
        // A previous key stays until every token it signed has expired and
        // every JWKS cache has refreshed (the grace).
        self.keys.retain(|k| {
            k.state != KeyState::Previous
                || k.retired_at
                    .is_some_and(|t| t.saturating_add(grace_seconds) > now)
        });
        self.version += 1;
        Ok(self.active()?.metadata())
    }

    /// Removes a compromised key from signing and from the JWKS at once.
    /// Revoking the active key promotes `next` and creates a fresh `next`,
    /// so signing never stops; revoking `next` replaces it.
    pub fn revoke(
        &mut self,
        kid: &str,
        alg: SigningAlg,
        now: u64,
    ) -> Result<KeyMetadata, KeySetError> {
        let index = self
            .keys
            .iter()
            .position(|k| k.kid == kid)
            .ok_or_else(|| KeySetError::UnknownKid(kid.to_owned()))?;
        let revoked = self.keys.remove(index);
        match revoked.state {
            KeyState::Active => {
                if let Some(next) = self.keys.iter_mut().find(|k| k.state == KeyState::Next) {
                    next.state = KeyState::Active;
                    next.activated_at = Some(now);
                } else {
                    self.keys
                        .push(KeyRecord::generate(alg, KeyState::Active, now)?);
                }
                self.keys
                    .push(KeyRecord::generate(alg, KeyState::Next, now)?);
            }
            KeyState::Next => self
                .keys
                .push(KeyRecord::generate(alg, KeyState::Next, now)?),
            KeyState::Previous => {}
        }
        self.version += 1;
        Ok(revoked.metadata())
    }
}

/// PKCS#8 DER as standard base64 inside the stored keyset JSON.
mod pkcs8_base64 {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(key: &PrivateKey, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(key.pkcs8()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<PrivateKey, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD
            .decode(text)
            .map(PrivateKey::from_pkcs8)
            .map_err(|_| serde::de::Error::custom("private_key_pkcs8 is not base64"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: u64 = 1200;

    fn states(set: &KeySet) -> Vec<(String, KeyState)> {
        set.keys.iter().map(|k| (k.kid.clone(), k.state)).collect()
    }

    /// The kids of the active and the next key.
    fn active_and_next(set: &KeySet) -> (String, String) {
        (
            set.active().unwrap().kid.clone(),
            set.next().unwrap().kid.clone(),
        )
    }

    #[test]
    fn a_new_keyset_has_an_active_and_a_next_key() {
        let set = KeySet::generate(SigningAlg::ES256, 1000).unwrap();
        assert_eq!(set.keys.len(), 2);
        assert_eq!(set.active().unwrap().activated_at, Some(1000));
        assert!(set.next().is_some());
        assert_ne!(set.active().unwrap().kid, set.next().unwrap().kid);
    }

    #[test]
    fn rotation_promotes_next_and_keeps_the_old_active_published() {
        let mut set = KeySet::generate(SigningAlg::ES256, 1000).unwrap();
        let (old_active, old_next) = active_and_next(&set);
        let new_active = set.rotate(SigningAlg::ES256, 2000, GRACE).unwrap();
        assert_eq!(
            new_active.kid, old_next,
            "the published next key starts signing"
        );
        let previous = set.keys.iter().find(|k| k.kid == old_active).unwrap();
        assert_eq!(
            (previous.state, previous.retired_at),
            (KeyState::Previous, Some(2000))
        );
        assert_eq!(set.keys.len(), 3);
        assert_eq!(set.version, 2);
    }

    #[test]
    fn rotations_a_grace_apart_keep_the_jwks_at_three_keys() {
        let mut set = KeySet::generate(SigningAlg::ES256, 0).unwrap();
        for step in 1..=6u64 {
            set.rotate(SigningAlg::ES256, step * (GRACE + 1), GRACE)
                .unwrap();
            assert_eq!(set.keys.len(), 3, "{:?}", states(&set));
            assert_eq!(set.jwks().unwrap().keys.len(), 3);
        }
    }

    #[test]
    fn previous_keys_stay_until_their_grace_has_passed() {
        let mut set = KeySet::generate(SigningAlg::ES256, 0).unwrap();
        let first = set.active().unwrap().kid.clone();
        // Two quick rotations: the first active key still verifies its tokens.
        set.rotate(SigningAlg::ES256, 10, GRACE).unwrap();
        set.rotate(SigningAlg::ES256, 20, GRACE).unwrap();
        assert!(
            set.keys.iter().any(|k| k.kid == first),
            "{:?}",
            states(&set)
        );
        assert_eq!(set.keys.len(), 4);
        // Once its grace has passed, the next rotation drops it.
        set.rotate(SigningAlg::ES256, 10 + GRACE, GRACE).unwrap();
        assert!(set.keys.iter().all(|k| k.kid != first));
    }

    #[test]
    fn a_rotation_waits_until_the_next_key_is_published_for_the_spacing() {
        let spacing = Duration::from_secs(305);
        let mut set = KeySet::generate(SigningAlg::ES256, 1000).unwrap();
        assert_eq!(
            set.rotation_wait(spacing, 1000),
            Some(Duration::from_secs(305))
        );
        assert_eq!(
            set.rotation_wait(spacing, 1304),
            Some(Duration::from_secs(1))
        );
        assert_eq!(set.rotation_wait(spacing, 1305), None);
        // A keyset damaged by hand (no next key): the rotation repairs it.
        set.keys.retain(|k| k.state != KeyState::Next);
        assert_eq!(set.rotation_wait(spacing, 1000), None);
    }

    #[test]
    fn revoking_the_active_key_promotes_next_at_once() {
        let mut set = KeySet::generate(SigningAlg::ES256, 1000).unwrap();
        let (active, next) = active_and_next(&set);
        set.revoke(&active, SigningAlg::ES256, 1500).unwrap();
        assert!(
            set.keys.iter().all(|k| k.kid != active),
            "revoked key gone from the JWKS"
        );
        assert_eq!(set.active().unwrap().kid, next);
        assert!(set.next().is_some(), "a fresh next key");
        assert!(matches!(
            set.revoke("nope", SigningAlg::ES256, 1500),
            Err(KeySetError::UnknownKid(_))
        ));
    }

    #[test]
    fn stored_form_round_trips_and_debug_redacts() {
        let set = KeySet::generate(SigningAlg::EdDSA, 1000).unwrap();
        let json = serde_json::to_string(&set).unwrap();
        assert_eq!(serde_json::from_str::<KeySet>(&json).unwrap(), set);
        let debug = format!("{set:?}");
        assert!(debug.contains("redacted"));
        let stored: serde_json::Value = serde_json::from_str(&json).unwrap();
        let secret = stored["keys"][0]["private_key_pkcs8"].as_str().unwrap();
        assert!(!debug.contains(secret));
        let metadata = serde_json::to_string(&set.metadata()).unwrap();
        assert!(!metadata.contains(secret) && !metadata.contains("private"));
    }
}
