//! RFC 9068 access tokens: header `typ: at+jwt` and `kid`; claims `iss`,
//! `sub`, `aud`, `exp`, `iat`, `nbf`, `jti`, `scope`, `client_id` for
//! client grants, and `status` (its entry in a status list). Signed with the
//! keyset's active key; read back ([`read_own`]) only to revoke one.

use jsonwebtoken::{DecodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use status_list::StatusReference;

use crate::keys::{KeySet, KeySetError};

#[derive(Debug, Serialize)]
struct AccessClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a [String],
    exp: u64,
    iat: u64,
    nbf: u64,
    jti: &'a str,
    scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<Status<&'a StatusReference>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cnf: Option<Confirmation<'a>>,
}

/// RFC 7800's `cnf`: the key a DPoP-bound token needs (RFC 9449 §6).
#[derive(Debug, Serialize)]
struct Confirmation<'a> {
    jkt: &'a str,
}

/// The `status` claim: draft-ietf-oauth-status-list §6.
#[derive(Debug, Serialize, Deserialize)]
struct Status<R> {
    status_list: R,
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
    /// Its `jti`.
    pub jti: &'a str,
    /// Its status list entry, when the issuer keeps token status.
    pub status: Option<&'a StatusReference>,
    /// The DPoP key it is bound to (`cnf.jkt`), if any.
    pub jkt: Option<&'a str>,
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
    /// `DPoP` for a token bound to a DPoP key, else `Bearer` (the token
    /// response's `token_type`).
    pub token_type: &'static str,
}

/// Signs a token for `grant` with the keyset's active key, valid from
/// `now` until `exp`.
pub fn mint(
    keyset: &KeySet,
    issuer: &str,
    audiences: &[String],
    grant: &Grant<'_>,
    now: u64,
    exp: u64,
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
        exp,
        iat: now,
        nbf: now,
        jti: grant.jti,
        scope: scope.clone(),
        client_id: grant.client_id,
        status: grant.status.map(|status_list| Status { status_list }),
        cnf: grant.jkt.map(|jkt| Confirmation { jkt }),
    };
    let access_token = jsonwebtoken::encode(&header, &claims, &active.encoding_key()?)
        .map_err(|_| KeySetError::Key(crate::keys::KeyError::BadPrivateKey))?;
    Ok(IssuedToken {
        access_token,
        expires_in: exp.saturating_sub(now),
        scope,
        kid: active.kid.clone(),
        token_type: if grant.jkt.is_some() {
            "DPoP"
        } else {
            "Bearer"
        },
    })
}

/// One of this issuer's tokens, read back after its signature checked out.
#[derive(Debug, Deserialize)]
pub struct OwnToken {
    /// Its `sub`.
    pub sub: String,
    /// Its `jti`.
    pub jti: Option<String>,
    /// Its `client_id`: set for tokens of a client grant.
    pub client_id: Option<String>,
    /// Its `exp`.
    pub exp: u64,
    /// Its status list entry.
    #[serde(default, rename = "status")]
    status: Option<Status<StatusReference>>,
}

impl OwnToken {
    /// Its status list entry, if it has one.
    pub fn status(&self) -> Option<&StatusReference> {
        self.status.as_ref().map(|status| &status.status_list)
    }
}

/// `token` if this issuer signed it with a key of `keyset` for one of
/// `audiences`, and it has not expired more than `leeway` seconds ago;
/// anything else (foreign, forged, malformed, long expired) is `None`.
pub fn read_own(
    keyset: &KeySet,
    issuer: &str,
    audiences: &[String],
    token: &str,
    leeway: u64,
) -> Option<OwnToken> {
    let header = jsonwebtoken::decode_header(token).ok()?;
    let kid = header.kid.as_deref()?;
    let jwk = keyset
        .jwks()
        .ok()?
        .keys
        .into_iter()
        .find(|jwk| jwk.common.key_id.as_deref() == Some(kid))?;
    let key = DecodingKey::from_jwk(&jwk).ok()?;
    let alg = keyset
        .keys
        .iter()
        .find(|k| k.kid == kid)?
        .alg
        .jwt_algorithm();
    // The key's own algorithm only: a token cannot pick another.
    if header.alg != alg {
        return None;
    }
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[issuer]);
    validation.set_audience(audiences);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = leeway;
    jsonwebtoken::decode::<OwnToken>(token, &key, &validation)
        .ok()
        .map(|data| data.claims)
}
