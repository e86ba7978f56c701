//! The DPoP settings the authorizer and the issuer share: which algorithms
//! a proof may use (`DPOP_ALGORITHMS`), how old it may be
//! (`DPOP_MAX_AGE_SECONDS`), and where used proofs are remembered
//! (`DPOP_REPLAY_TABLE`).

use std::sync::Arc;
use std::time::Duration;

use environment::{SettingError, Settings};
use jose::Algorithm;

use crate::check::ProofChecker;
use crate::dynamo::DynamoReplayStore;
use crate::replay::{MemoryReplayStore, ReplayStore};

/// `DPOP_ALGORITHMS` unset: what Keycloak, Okta and Auth0 clients sign with.
pub const DEFAULT_ALGORITHMS: [Algorithm; 4] = [
    Algorithm::ES256,
    Algorithm::EdDSA,
    Algorithm::PS256,
    Algorithm::RS256,
];
/// `DPOP_MAX_AGE_SECONDS` unset.
pub const DEFAULT_MAX_AGE_SECONDS: u64 = 60;

/// Why the DPoP settings were refused; the message names the variable.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum DpopSettingsError {
    /// `DPOP_ALGORITHMS` names something that is not an accepted
    /// asymmetric algorithm (`none`, `HS256`, a typo), or nothing.
    #[error("DPOP_ALGORITHMS must list asymmetric JWS algorithms (ES256, ES384, EdDSA, PS256, PS384, PS512, RS256, RS384, RS512), not {0:?}")]
    Algorithms(String),
    /// A number out of range.
    #[error(transparent)]
    Setting(#[from] SettingError),
}

/// The shared DPoP settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DpopSettings {
    /// `DPOP_ALGORITHMS`.
    pub algorithms: Vec<Algorithm>,
    /// `DPOP_MAX_AGE_SECONDS`.
    pub max_age: Duration,
    /// `DPOP_REPLAY_TABLE`: `None` keeps used proofs in memory.
    pub replay_table: Option<String>,
}

impl Default for DpopSettings {
    fn default() -> Self {
        Self {
            algorithms: DEFAULT_ALGORITHMS.to_vec(),
            max_age: Duration::from_secs(DEFAULT_MAX_AGE_SECONDS),
            replay_table: None,
        }
    }
}

impl DpopSettings {
    /// Reads the three variables through `settings`.
    pub fn from_settings(
        settings: &Settings<impl Fn(&str) -> Option<String>>,
    ) -> Result<Self, DpopSettingsError> {
        let algorithms = match settings.text("DPOP_ALGORITHMS") {
            None => DEFAULT_ALGORITHMS.to_vec(),
            Some(list) => {
                let parsed: Option<Vec<Algorithm>> = settings
                    .list("DPOP_ALGORITHMS")
                    .iter()
                    .map(|name| Algorithm::from_name(name))
                    .collect();
                match parsed {
                    Some(algorithms) if !algorithms.is_empty() => algorithms,
                    _ => return Err(DpopSettingsError::Algorithms(list)),
                }
            }
        };
        Ok(Self {
            algorithms,
            max_age: Duration::from_secs(settings.number_in(
                "DPOP_MAX_AGE_SECONDS",
                DEFAULT_MAX_AGE_SECONDS,
                1..=3600,
            )?),
            replay_table: settings.text("DPOP_REPLAY_TABLE"),
        })
    }

    /// The replay store these settings name: the table, or this process's
    /// memory.
    pub fn replay_store(&self) -> Arc<dyn ReplayStore> {
        match &self.replay_table {
            Some(table) => Arc::new(DynamoReplayStore::from_env(table.clone())),
            None => Arc::new(MemoryReplayStore::new()),
        }
    }

    /// A checker with these settings, remembering proofs in `replay`.
    pub fn checker(&self, replay: Arc<dyn ReplayStore>) -> ProofChecker {
        ProofChecker::new(self.algorithms.clone(), self.max_age, replay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<DpopSettings, DpopSettingsError> {
        let settings = Settings::new(|name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        });
        DpopSettings::from_settings(&settings)
    }

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(read(&[]), Ok(DpopSettings::default()));
        let set = read(&[
            ("DPOP_ALGORITHMS", "ES256, EdDSA"),
            ("DPOP_MAX_AGE_SECONDS", "30"),
            ("DPOP_REPLAY_TABLE", "replay"),
        ])
        .unwrap();
        assert_eq!(set.algorithms, [Algorithm::ES256, Algorithm::EdDSA]);
        assert_eq!(set.max_age, Duration::from_secs(30));
        assert_eq!(set.replay_table.as_deref(), Some("replay"));
    }

    #[test]
    fn symmetric_unknown_and_empty_algorithm_lists_are_refused() {
        for list in ["HS256", "none", "ES256,HS256", "es256", ","] {
            assert!(
                matches!(
                    read(&[("DPOP_ALGORITHMS", list)]),
                    Err(DpopSettingsError::Algorithms(_))
                ),
                "{list}"
            );
        }
        for age in ["0", "3601", "soon"] {
            assert!(read(&[("DPOP_MAX_AGE_SECONDS", age)]).is_err(), "{age}");
        }
    }
}
