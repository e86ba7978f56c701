//! The status list token (`statuslist+jwt`) of one list, signed with the
//! active key: `sub` its URI, `iat`, `exp`, `ttl` and the `status_list`
//! claim (1 bit per entry). An instance keeps the last token per list and
//! signs again only when the list changed, the signing key changed, or the
//! token is half its `ttl` old; so the ETag stays put between revocations
//! and a relying party's conditional GET is answered 304.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_lc_rs::digest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::Header;
use serde::Serialize;
use status_list::{Bits, StatusList, StatusListClaim, INVALID};

use super::{ListRecord, LIST_SIZE};
use crate::keys::{KeyError, KeySet, KeySetError};

/// How long past its `ttl` a list token stays valid (`exp = iat + ttl +
/// this`): relying parties may keep serving it that long while the issuer
/// is unreachable (the authorizer's `STATUS_LIST_MAX_STALE_SECONDS`, 300 s
/// by default, fits within it).
pub const LIST_TOKEN_GRACE_SECONDS: u64 = 15 * 60;

/// Lists whose tokens one instance keeps (live lists are few: 65536 tokens each).
const CACHED_LISTS: usize = 256;

/// A signed list token, as served.
#[derive(Clone, Debug)]
pub struct ListToken {
    /// The compact JWS.
    pub token: Arc<str>,
    /// Its validator: a digest of the token, quoted.
    pub etag: Arc<str>,
}

#[derive(Serialize)]
struct ListClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    iat: u64,
    exp: u64,
    ttl: u64,
    status_list: StatusListClaim,
}

/// What a token was signed from, to tell whether it still stands.
struct Signed {
    version: u64,
    kid: String,
    iat: u64,
    token: ListToken,
}

/// The last list token per list.
#[derive(Default)]
pub(crate) struct ListTokens {
    signed: Mutex<HashMap<u64, Signed>>,
}

/// What to sign a list token for.
pub(crate) struct ListTokenRequest<'a> {
    pub(crate) issuer: &'a str,
    pub(crate) uri: &'a str,
    pub(crate) aggregation_uri: &'a str,
    pub(crate) ttl: u64,
    pub(crate) now: u64,
}

impl ListTokens {
    /// The token of `list` (number `number`), signed with `keyset`'s active key.
    pub(crate) fn token(
        &self,
        number: u64,
        list: &ListRecord,
        keyset: &KeySet,
        request: &ListTokenRequest<'_>,
    ) -> Result<ListToken, KeySetError> {
        let kid = &keyset.active()?.kid;
        if let Ok(signed) = self.signed.lock() {
            if let Some(kept) = signed.get(&number) {
                let young = request.now.saturating_sub(kept.iat) < (request.ttl / 2).max(1);
                if kept.version == list.version && &kept.kid == kid && young {
                    return Ok(kept.token.clone());
                }
            }
        }
        let token = sign(list, keyset, request)?;
        if let Ok(mut signed) = self.signed.lock() {
            if signed.len() >= CACHED_LISTS {
                signed.clear();
            }
            signed.insert(
                number,
                Signed {
                    version: list.version,
                    kid: kid.clone(),
                    iat: request.now,
                    token: token.clone(),
                },
            );
        }
        Ok(token)
    }
}

/// Builds and signs the token of `list`.
fn sign(
    list: &ListRecord,
    keyset: &KeySet,
    request: &ListTokenRequest<'_>,
) -> Result<ListToken, KeySetError> {
    let mut bits = StatusList::new(Bits::One, LIST_SIZE as usize);
    for &idx in &list.revoked {
        // An index past the list cannot have been handed out; skip it.
        let _ = bits.set(idx, INVALID);
    }
    let claims = ListClaims {
        iss: request.issuer,
        sub: request.uri,
        iat: request.now,
        exp: request
            .now
            .saturating_add(request.ttl)
            .saturating_add(LIST_TOKEN_GRACE_SECONDS),
        ttl: request.ttl,
        status_list: StatusListClaim {
            bits: Bits::One.claim(),
            lst: bits.encode(),
            aggregation_uri: Some(request.aggregation_uri.to_owned()),
        },
    };
    let active = keyset.active()?;
    let mut header = Header::new(active.alg.jwt_algorithm());
    header.typ = Some(status_list::TYP.to_owned());
    header.kid = Some(active.kid.clone());
    let token = jsonwebtoken::encode(&header, &claims, &active.encoding_key()?)
        .map_err(|_| KeySetError::Key(KeyError::BadPrivateKey))?;
    let digest = digest::digest(&digest::SHA256, token.as_bytes());
    let etag = format!("\"{}\"", URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16]));
    Ok(ListToken {
        token: Arc::from(token),
        etag: Arc::from(etag),
    })
}
