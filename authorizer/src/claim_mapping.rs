//! Which claims grant scopes, name the principal and reach the `context`
//! (`SCOPE_CLAIMS`, `PRINCIPAL_CLAIM`, `CONTEXT_CLAIMS`), so the authorizer
//! works unchanged in front of Cognito (`cognito:groups`), Auth0
//! (`permissions`), Keycloak (`realm_access.roles`), Okta and Entra ID (`scp`).
//!
//! The default (`scope,scp`, `sub`, no context claims) is read from the typed
//! claims with no second parse; anything else parses the verified payload
//! once more into a JSON tree, which only configured deployments pay for.

use serde_json::Value;

use crate::claims::Claims;
use crate::error::VerifyError;

/// Each context value is cut to this many bytes (at a character boundary).
pub const MAX_CONTEXT_VALUE_BYTES: usize = 1024;
/// At most this many `CONTEXT_CLAIMS`: API Gateway's whole context is small.
pub const MAX_CONTEXT_CLAIMS: usize = 16;
/// Context keys the authorizer fills itself; a claim may not replace them
/// (the backend trusts `sub` and `scope`).
pub const RESERVED_CONTEXT_KEYS: [&str; 5] = ["sub", "scope", "iss", "kid", "client_id"];

/// A claim named by a dot-separated path (`realm_access.roles`). A top-level
/// claim whose own name has dots (Auth0's `https://example.com/roles`) is
/// found by its whole name first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimPath(String);

impl ClaimPath {
    pub fn new(path: &str) -> Result<Self, ClaimMappingError> {
        let path = path.trim();
        if path.is_empty() || path.split('.').any(str::is_empty) {
            return Err(ClaimMappingError::BadPath(path.to_owned()));
        }
        Ok(Self(path.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value at this path in a claims object.
    pub fn lookup<'v>(&self, claims: &'v Value) -> Option<&'v Value> {
        if let Some(value) = claims.get(&self.0) {
            return Some(value);
        }
        self.0
            .split('.')
            .try_fold(claims, |node, segment| node.get(segment))
    }
}

/// Why the claim mapping settings were refused at start.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ClaimMappingError {
    #[error("claim path {0:?} is empty or has an empty segment")]
    BadPath(String),
    #[error("SCOPE_CLAIMS names no claim")]
    NoScopeClaims,
    #[error("CONTEXT_CLAIMS may not set {0:?}: the authorizer fills it itself")]
    ReservedContextKey(String),
    #[error("CONTEXT_CLAIMS lists more than {MAX_CONTEXT_CLAIMS} claims")]
    TooManyContextClaims,
}

/// The configured mapping from claims to principal, scopes and context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimMapping {
    scope_claims: Vec<ClaimPath>,
    context_claims: Vec<ClaimPath>,
    principal_claim: ClaimPath,
    /// Whether the typed claims answer everything (the default mapping).
    typed_only: bool,
}

impl Default for ClaimMapping {
    fn default() -> Self {
        Self {
            scope_claims: vec![ClaimPath("scope".into()), ClaimPath("scp".into())],
            context_claims: Vec::new(),
            principal_claim: ClaimPath("sub".into()),
            typed_only: true,
        }
    }
}

/// What a verified token grants, as the mapping reads it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GrantedIdentity {
    /// `None` when the principal is `sub` (the default): no second copy.
    pub principal: Option<String>,
    /// One entry per scope: a string claim split on spaces, an array element whole.
    pub scopes: Vec<String>,
    /// `(claim path, value)`, values flattened to capped strings.
    pub context: Vec<(String, String)>,
}

impl ClaimMapping {
    /// From the comma-separated settings; `None` keeps each default.
    pub fn new(
        scope_claims: Option<&str>,
        context_claims: Option<&str>,
        principal_claim: Option<&str>,
    ) -> Result<Self, ClaimMappingError> {
        let list = |text: &str| -> Result<Vec<ClaimPath>, ClaimMappingError> {
            text.split(',')
                .filter(|p| !p.trim().is_empty())
                .map(ClaimPath::new)
                .collect()
        };
        let defaults = Self::default();
        let scope_claims = match scope_claims {
            Some(text) => list(text)?,
            None => defaults.scope_claims,
        };
        if scope_claims.is_empty() {
            return Err(ClaimMappingError::NoScopeClaims);
        }
        let context_claims = context_claims.map(list).transpose()?.unwrap_or_default();
        if context_claims.len() > MAX_CONTEXT_CLAIMS {
            return Err(ClaimMappingError::TooManyContextClaims);
        }
        if let Some(reserved) = context_claims
            .iter()
            .find(|p| RESERVED_CONTEXT_KEYS.contains(&p.as_str()))
        {
            return Err(ClaimMappingError::ReservedContextKey(
                reserved.as_str().to_owned(),
            ));
        }
        let principal_claim = match principal_claim {
            Some(path) => ClaimPath::new(path)?,
            None => defaults.principal_claim,
        };
        let typed_only = context_claims.is_empty()
            && principal_claim.as_str() == "sub"
            && scope_claims
                .iter()
                .all(|p| matches!(p.as_str(), "scope" | "scp"));
        Ok(Self {
            scope_claims,
            context_claims,
            principal_claim,
            typed_only,
        })
    }

    pub fn scope_claims(&self) -> &[ClaimPath] {
        &self.scope_claims
    }

    pub fn context_claims(&self) -> &[ClaimPath] {
        &self.context_claims
    }

    pub fn principal_claim(&self) -> &ClaimPath {
        &self.principal_claim
    }

    /// Reads a verified token's identity. `payload` is the token's claims
    /// JSON, parsed again only when the mapping needs more than `claims`.
    pub fn identity(
        &self,
        claims: &Claims<'_>,
        payload: &[u8],
    ) -> Result<GrantedIdentity, VerifyError> {
        if self.typed_only {
            return Ok(self.typed_identity(claims));
        }
        let tree: Value =
            serde_json::from_slice(payload).map_err(|_| VerifyError::InvalidClaims)?;
        let principal = match self.principal_claim.lookup(&tree) {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(VerifyError::MissingPrincipal),
        };
        let mut scopes = Vec::new();
        for path in &self.scope_claims {
            match path.lookup(&tree) {
                Some(Value::String(spaced)) => scopes.extend(
                    spaced
                        .split(' ')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned),
                ),
                Some(Value::Array(items)) => scopes.extend(
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned),
                ),
                _ => {}
            }
        }
        Ok(GrantedIdentity {
            principal: Some(principal),
            scopes,
            context: self.context_of(&tree),
        })
    }

    /// The default mapping (`scope`/`scp`, `sub`), read from the claims
    /// already parsed: no second parse of the payload.
    fn typed_identity(&self, claims: &Claims<'_>) -> GrantedIdentity {
        let mut scopes = Vec::new();
        for path in &self.scope_claims {
            let claim = if path.as_str() == "scope" {
                &claims.scope
            } else {
                &claims.scp
            };
            scopes.extend(claim.scopes().map(str::to_owned));
        }
        GrantedIdentity {
            principal: None,
            scopes,
            context: Vec::new(),
        }
    }

    /// The `CONTEXT_CLAIMS` present in the token, as context strings.
    fn context_of(&self, tree: &Value) -> Vec<(String, String)> {
        self.context_claims
            .iter()
            .filter_map(|path| {
                let value = context_string(path.lookup(tree)?)?;
                Some((path.as_str().to_owned(), value))
            })
            .collect()
    }
}

/// A claim as one context string: strings as they are, arrays joined with
/// spaces, objects as compact JSON, numbers and booleans as JSON text; cut
/// to [`MAX_CONTEXT_VALUE_BYTES`]. `null` is left out.
fn context_string(value: &Value) -> Option<String> {
    let text = match value {
        Value::Null => return None,
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    };
    Some(truncate(text, MAX_CONTEXT_VALUE_BYTES))
}

fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn identity(mapping: &ClaimMapping, claims: &Value) -> Result<GrantedIdentity, VerifyError> {
        let payload = claims.to_string();
        let typed = Claims::from_json(payload.as_bytes())?;
        mapping.identity(&typed, payload.as_bytes())
    }

    #[test]
    fn default_mapping_reads_scope_and_scp() {
        let mapping = ClaimMapping::default();
        let id = identity(
            &mapping,
            &json!({"sub": "alice", "scope": "a b", "scp": ["c d", "e"]}),
        )
        .unwrap();
        assert_eq!(id.principal, None, "sub itself");
        assert_eq!(id.scopes, ["a", "b", "c d", "e"]);
        assert!(id.context.is_empty());
        assert_eq!(ClaimMapping::new(None, None, None), Ok(mapping));
    }

    #[test]
    fn idp_claims_grant_scopes() {
        let mapping = ClaimMapping::new(
            Some("cognito:groups,permissions,realm_access.roles,https://example.com/roles"),
            None,
            None,
        )
        .unwrap();
        let id = identity(
            &mapping,
            &json!({
                "sub": "u", "scope": "ignored",
                "cognito:groups": ["admins", "readers"],
                "permissions": ["books:read"],
                "realm_access": {"roles": ["offline access", "editor"]},
                "https://example.com/roles": "x y"
            }),
        )
        .unwrap();
        assert_eq!(
            id.scopes,
            [
                "admins",
                "readers",
                "books:read",
                "offline access",
                "editor",
                "x",
                "y"
            ]
        );
    }

    #[test]
    fn principal_claim_is_required_when_configured() {
        let mapping = ClaimMapping::new(None, None, Some("username")).unwrap();
        let id = identity(&mapping, &json!({"sub": "s", "username": "carol"})).unwrap();
        assert_eq!(id.principal.as_deref(), Some("carol"));
        for missing in [
            json!({"sub": "s"}),
            json!({"sub": "s", "username": ""}),
            json!({"sub": "s", "username": ["a"]}),
        ] {
            assert_eq!(
                identity(&mapping, &missing),
                Err(VerifyError::MissingPrincipal)
            );
        }
    }

    #[test]
    fn context_claims_are_capped_strings() {
        let mapping = ClaimMapping::new(
            None,
            Some("email, groups,org.id,obj,flag,n,absent,nil,long"),
            None,
        )
        .unwrap();
        let id = identity(
            &mapping,
            &json!({
                "sub": "s", "email": "a@example.com", "groups": ["g1", "g2", 3],
                "org": {"id": 42}, "obj": {"k": [1, 2]}, "flag": true, "n": 1.5, "nil": null,
                "long": "é".repeat(1000)
            }),
        )
        .unwrap();
        let context: std::collections::HashMap<_, _> = id.context.into_iter().collect();
        assert_eq!(context["email"], "a@example.com");
        assert_eq!(context["groups"], "g1 g2 3");
        assert_eq!(context["org.id"], "42");
        assert_eq!(context["obj"], r#"{"k":[1,2]}"#);
        assert_eq!(context["flag"], "true");
        assert_eq!(context["n"], "1.5");
        assert!(!context.contains_key("absent") && !context.contains_key("nil"));
        assert_eq!(context["long"].len(), MAX_CONTEXT_VALUE_BYTES);
    }

    #[test]
    fn bad_settings_are_refused() {
        assert_eq!(
            ClaimMapping::new(Some(" , "), None, None),
            Err(ClaimMappingError::NoScopeClaims)
        );
        assert!(matches!(
            ClaimMapping::new(Some("a..b"), None, None),
            Err(ClaimMappingError::BadPath(_))
        ));
        assert_eq!(
            ClaimMapping::new(None, Some("email,scope"), None),
            Err(ClaimMappingError::ReservedContextKey("scope".into()))
        );
        let many = (0..=MAX_CONTEXT_CLAIMS)
            .map(|i| format!("c{i}"))
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(
            ClaimMapping::new(None, Some(&many), None),
            Err(ClaimMappingError::TooManyContextClaims)
        );
    }
}
