//! A key store that counts its failures (`KeyStoreErrors`) and otherwise
//! behaves exactly as the store it wraps. Conflicts are the optimistic
//! concurrency working, not errors, and are not counted.

use std::sync::Arc;

use async_trait::async_trait;

use crate::keys::KeySet;
use crate::keys::{KeyStore, KeyStoreError};
use crate::metrics::IssuerMetrics;

/// A [`KeyStore`] whose failures are counted.
pub struct MeteredKeyStore {
    inner: Arc<dyn KeyStore>,
    metrics: IssuerMetrics,
}

impl MeteredKeyStore {
    /// Counts `inner`'s failures into `metrics`.
    pub fn new(inner: Arc<dyn KeyStore>, metrics: IssuerMetrics) -> Self {
        Self { inner, metrics }
    }

    fn count<T>(
        &self,
        operation: &'static str,
        result: Result<T, KeyStoreError>,
    ) -> Result<T, KeyStoreError> {
        if let Err(error) = &result {
            if !matches!(error, KeyStoreError::Conflict) {
                self.metrics.key_store_error(operation);
            }
        }
        result
    }
}

#[async_trait]
impl KeyStore for MeteredKeyStore {
    async fn load(&self) -> Result<Option<KeySet>, KeyStoreError> {
        let result = self.inner.load().await;
        self.count("load", result)
    }

    async fn save(
        &self,
        keyset: &KeySet,
        expected_version: Option<u64>,
    ) -> Result<(), KeyStoreError> {
        let result = self.inner.save(keyset, expected_version).await;
        self.count("save", result)
    }
}
