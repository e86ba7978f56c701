//! What a successful verification yields: the caller's identity and grants.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use crate::jwk::VerifyingKey;

/// A token whose signature and claims checked out.
#[derive(Debug)]
pub struct VerifiedToken {
    pub sub: String,
    /// Shared with the authorizer's configuration: no copy per token.
    pub iss: Arc<str>,
    pub kid: String,
    /// Space-separated granted scopes (from `scope` and `scp`).
    pub scope: String,
    pub client_id: Option<String>,
    /// Unix seconds.
    pub exp: u64,
    pub(crate) issuer_index: usize,
    pub(crate) key: Arc<VerifyingKey>,
}

impl VerifiedToken {
    pub fn scopes(&self) -> Vec<&str> {
        self.scope.split(' ').filter(|s| !s.is_empty()).collect()
    }

    /// The authorizer `context` handed to the backend: strings only, as API
    /// Gateway requires (no objects or arrays).
    pub fn context(&self) -> HashMap<String, Value> {
        let mut context = HashMap::with_capacity(5);
        context.insert("sub".to_owned(), Value::from(self.sub.as_str()));
        context.insert("scope".to_owned(), Value::from(self.scope.as_str()));
        context.insert("iss".to_owned(), Value::from(&*self.iss));
        context.insert("kid".to_owned(), Value::from(self.kid.as_str()));
        if let Some(client_id) = &self.client_id {
            context.insert("client_id".to_owned(), Value::from(client_id.as_str()));
        }
        context
    }
}
