//! What a successful verification yields: the caller's identity and grants.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use crate::key_cache::KeyCache;
use crate::rule_grants::RuleGrants;
use crate::status_lists::{ListEntry, StatusLists};
use jose::VerifyingKey;

/// Where a verified token's status is checked: its issuer's lists, the
/// list's entry, and the token's index in it.
#[derive(Debug)]
pub(crate) struct StatusEntry {
    pub(crate) lists: Arc<StatusLists>,
    pub(crate) entry: Arc<ListEntry>,
    pub(crate) idx: u64,
}

/// A token whose signature and claims checked out.
#[derive(Debug)]
pub struct VerifiedToken {
    /// `sub`: the owner of what the caller creates.
    pub sub: String,
    /// The `PRINCIPAL_CLAIM` value when it is not `sub` (see [`Self::principal`]).
    pub principal_claim: Option<String>,
    /// Shared with the authorizer's configuration: no copy per token.
    pub iss: Arc<str>,
    /// The `kid` of the key that verified it.
    pub kid: String,
    /// The granted scopes, one entry each (`SCOPE_CLAIMS`).
    pub scopes: Vec<String>,
    /// `client_id`, when the token has one.
    pub client_id: Option<String>,
    /// `CONTEXT_CLAIMS`: `(claim path, capped string value)`.
    pub context_claims: Vec<(String, String)>,
    /// Unix seconds.
    pub exp: u64,
    /// The issuer whose key verified it, for the decision cache's check.
    pub(crate) issuer: Arc<KeyCache>,
    pub(crate) key: Arc<VerifyingKey>,
    /// Its status list entry, when it names one and the check is on: checked
    /// on every use, decision-cache hits included.
    pub(crate) status: Option<StatusEntry>,
    /// What its sender must hold (`cnf`): checked on every use.
    pub binding: Binding,
    /// The paths its route rules allow it, per ruled route.
    pub rule_grants: RuleGrants,
}

/// A token's sender constraint (`cnf`): none for a bearer token.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Binding {
    /// `cnf.jkt`: the DPoP key's thumbprint (RFC 9449).
    pub jkt: Option<String>,
    /// `cnf.x5t#S256`: the client certificate's thumbprint (RFC 8705).
    pub x5t_s256: Option<String>,
}

impl Binding {
    /// Whether the token is bound to anything.
    pub fn is_bound(&self) -> bool {
        self.jkt.is_some() || self.x5t_s256.is_some()
    }
}

impl VerifiedToken {
    /// About how many bytes its claims hold: what a cache entry costs
    /// beyond the token.
    pub fn claim_bytes(&self) -> usize {
        self.sub.len()
            + self.principal_claim.as_ref().map_or(0, String::len)
            + self.kid.len()
            + self.scopes.iter().map(String::len).sum::<usize>()
            + self.client_id.as_ref().map_or(0, String::len)
            + self
                .context_claims
                .iter()
                .map(|(path, value)| path.len() + value.len())
                .sum::<usize>()
            + self.binding.jkt.as_ref().map_or(0, String::len)
            + self.binding.x5t_s256.as_ref().map_or(0, String::len)
            + self.rule_grants.bytes()
    }

    /// The status list URI and index this token is checked against, if any.
    pub fn status_list(&self) -> Option<(&str, u64)> {
        self.status.as_ref().map(|s| (s.entry.uri(), s.idx))
    }

    /// The answer's `principalId`: the `PRINCIPAL_CLAIM` value (`sub` by default).
    pub fn principal(&self) -> &str {
        self.principal_claim.as_deref().unwrap_or(&self.sub)
    }

    /// The granted scopes.
    pub fn scopes(&self) -> Vec<&str> {
        self.scopes.iter().map(String::as_str).collect()
    }

    /// The scopes as the context's space-separated `scope` string. A scope
    /// with whitespace in it (an array element such as `"Realm Admin"`) is
    /// left out: the backend splits this string on spaces and would read it
    /// as two scopes.
    pub fn scope_string(&self) -> String {
        let mut joined = String::new();
        for scope in self
            .scopes
            .iter()
            .filter(|s| !s.contains(char::is_whitespace))
        {
            if !joined.is_empty() {
                joined.push(' ');
            }
            joined.push_str(scope);
        }
        joined
    }

    /// The authorizer `context` handed to the backend: strings only, as API
    /// Gateway requires (no objects or arrays).
    pub fn context(&self) -> HashMap<String, Value> {
        let mut context = HashMap::with_capacity(5 + self.context_claims.len());
        for (key, value) in &self.context_claims {
            context.insert(key.clone(), Value::from(value.as_str()));
        }
        context.insert("sub".to_owned(), Value::from(self.sub.as_str()));
        context.insert("scope".to_owned(), Value::from(self.scope_string()));
        context.insert("iss".to_owned(), Value::from(&*self.iss));
        context.insert("kid".to_owned(), Value::from(self.kid.as_str()));
        if let Some(client_id) = &self.client_id {
            context.insert("client_id".to_owned(), Value::from(client_id.as_str()));
        }
        context
    }
}
