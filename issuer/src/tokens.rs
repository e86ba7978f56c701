//! RFC 9068 access tokens: header `typ: at+jwt` and `kid`; claims `iss`,
//! `sub`, `aud`, `exp`, `iat`, `nbf`, `jti`, `scope`, and `client_id` for
//! client grants. Signed with the keyset's active key.

use jsonwebtoken::Header;
use serde::Serialize;

use crate::keys::{KeySet, KeySetError};

#[derive(Debug, Serialize)]
struct AccessClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a [String],
    exp: u64,
    iat: u64,
    nbf: u64,
    jti: String,
    scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<&'a str>,
}

/// What a token is for.
#[derive(Debug)]
pub struct Grant<'a> {
    /// The token's `sub`.
    pub subject: &'a str,
    /// The granted scopes (already narrowed to the request).
    pub scopes: &'a [String],
    /// Set for client-credentials grants.
    pub client_id: Option<&'a str>,
}

/// A signed token and what the token endpoint reports about it.
#[derive(Debug)]
pub struct IssuedToken {
    /// The signed JWT.
    pub access_token: String,
    /// Its lifetime in seconds.
    pub expires_in: u64,
    /// The granted scopes, space-separated.
    pub scope: String,
    /// The key that signed it.
    pub kid: String,
}

/// Signs a token for `grant` with the keyset's active key.
pub fn mint(
    keyset: &KeySet,
    issuer: &str,
    audiences: &[String],
    ttl_seconds: u64,
    grant: &Grant<'_>,
    now: u64,
) -> Result<IssuedToken, KeySetError> {
    let active = keyset.active()?;
    let mut header = Header::new(active.alg.jwt_algorithm());
    header.typ = Some("at+jwt".to_owned());
    header.kid = Some(active.kid.clone());
    let scope = grant.scopes.join(" ");
    let claims = AccessClaims {
        iss: issuer,
        sub: grant.subject,
        aud: audiences,
        exp: now.saturating_add(ttl_seconds),
        iat: now,
        nbf: now,
        jti: ulid::Ulid::new().to_string(),
        scope: scope.clone(),
        client_id: grant.client_id,
    };
    let access_token = jsonwebtoken::encode(&header, &claims, &active.encoding_key()?)
        .map_err(|_| KeySetError::Key(crate::keys::KeyError::BadPrivateKey))?;
    Ok(IssuedToken {
        access_token,
        expires_in: ttl_seconds,
        scope,
        kid: active.kid.clone(),
    })
}
