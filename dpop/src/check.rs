//! The checks of RFC 9449 §4.3 on a proof whose signature verified: the
//! request's method and URI, the proof's age, the access token's hash, the
//! key a token is bound to, and, last (so a refused proof never uses up its
//! `jti`), that the proof was never seen before.

use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::digest::{digest, SHA256};
use base64_simd::URL_SAFE_NO_PAD;
use jose::Algorithm;

use crate::error::ProofError;
use crate::htu;
use crate::proof::{Proof, ProofReader};
use crate::replay::ReplayStore;

/// Clock skew allowed either side of a proof's `iat`.
pub const CLOCK_SKEW_SECONDS: u64 = 5;

/// What the request a proof came with says.
#[derive(Clone, Copy, Debug)]
pub struct ProofRequest<'a> {
    /// The HTTP method (`GET`).
    pub method: &'a str,
    /// The request's URI as the client may have seen it, without query:
    /// one or more candidates (a custom domain and the API's own), any of
    /// which `htu` may name.
    pub uris: &'a [String],
    /// The access token presented with the proof (its `ath`), if any.
    pub access_token: Option<&'a str>,
    /// The `cnf.jkt` of that token, if it is bound.
    pub bound_jkt: Option<&'a str>,
    /// Unix seconds.
    pub now: u64,
}

/// Reads proofs and holds them to one request each.
pub struct ProofChecker {
    reader: ProofReader,
    max_age: Duration,
    replay: Arc<dyn ReplayStore>,
}

impl std::fmt::Debug for ProofChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProofChecker")
            .field("reader", &self.reader)
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

impl ProofChecker {
    /// Proofs signed with `algorithms`, at most `max_age` old, each used
    /// once as `replay` remembers them.
    pub fn new(
        algorithms: Vec<Algorithm>,
        max_age: Duration,
        replay: Arc<dyn ReplayStore>,
    ) -> Self {
        Self {
            reader: ProofReader::new(algorithms),
            max_age,
            replay,
        }
    }

    /// The accepted algorithms (for `dpop_signing_alg_values_supported` and
    /// `WWW-Authenticate: DPoP algs=`).
    pub fn algorithms(&self) -> &[Algorithm] {
        self.reader.algorithms()
    }

    /// Every check of §4.3 on `proof` for `request`, the replay store's
    /// last; the verified proof.
    pub async fn check(
        &self,
        proof: &str,
        request: &ProofRequest<'_>,
    ) -> Result<Proof, ProofError> {
        let verified = self.verify(proof, request)?;
        self.remember(&verified).await?;
        Ok(verified)
    }

    /// Every check but the replay store's: the token endpoint remembers a
    /// proof only once its client has authenticated, so that nobody can
    /// fill the store without credentials.
    pub fn verify(&self, proof: &str, request: &ProofRequest<'_>) -> Result<Proof, ProofError> {
        let read = self.reader.read(proof)?;
        self.check_claims(&read, request)?;
        Ok(read)
    }

    /// Records a verified proof as used: a replay (or a store that cannot
    /// say) is refused.
    pub async fn remember(&self, proof: &Proof) -> Result<(), ProofError> {
        let expires_at = proof
            .iat
            .saturating_add(self.max_age.as_secs())
            .saturating_add(CLOCK_SKEW_SECONDS);
        match self.replay.first_use(&replay_key(proof), expires_at).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(ProofError::Replay),
            Err(error) => Err(ProofError::ReplayStore(error.to_string())),
        }
    }

    /// The checks that need no store, in RFC 9449's order: the first
    /// failure.
    pub fn check_claims(
        &self,
        proof: &Proof,
        request: &ProofRequest<'_>,
    ) -> Result<(), ProofError> {
        self.claim_checks(proof, request)
            .into_iter()
            .try_for_each(|(_, result)| result)
    }

    /// Each check that needs no store, by name, each run on its own (for
    /// `tollgate explain`): `htm`, `htu`, `iat`, `ath`, `jkt`.
    pub fn claim_checks(
        &self,
        proof: &Proof,
        request: &ProofRequest<'_>,
    ) -> [(&'static str, Result<(), ProofError>); 5] {
        [
            ("htm", check_method(proof, request)),
            ("htu", check_uri(proof, request)),
            ("iat", self.check_age(proof, request)),
            ("ath", check_token_hash(proof, request)),
            ("jkt", check_binding(proof, request)),
        ]
    }

    fn check_age(&self, proof: &Proof, request: &ProofRequest<'_>) -> Result<(), ProofError> {
        let oldest = request
            .now
            .saturating_sub(self.max_age.as_secs())
            .saturating_sub(CLOCK_SKEW_SECONDS);
        if proof.iat < oldest || proof.iat > request.now.saturating_add(CLOCK_SKEW_SECONDS) {
            return Err(ProofError::Stale);
        }
        Ok(())
    }

    /// How old a proof may be.
    pub fn max_age(&self) -> Duration {
        self.max_age
    }

    /// Reads a proof and checks its signature, nothing more.
    pub fn read(&self, proof: &str) -> Result<Proof, ProofError> {
        self.reader.read(proof)
    }
}

fn check_method(proof: &Proof, request: &ProofRequest<'_>) -> Result<(), ProofError> {
    if proof.htm == request.method {
        Ok(())
    } else {
        Err(ProofError::Method)
    }
}

fn check_uri(proof: &Proof, request: &ProofRequest<'_>) -> Result<(), ProofError> {
    let htu = htu::normalize(&proof.htu).ok_or(ProofError::Uri)?;
    let seen = request
        .uris
        .iter()
        .filter_map(|uri| htu::normalize(htu::without_query(uri)))
        .any(|uri| uri == htu);
    if seen {
        Ok(())
    } else {
        Err(ProofError::Uri)
    }
}

fn check_token_hash(proof: &Proof, request: &ProofRequest<'_>) -> Result<(), ProofError> {
    match request.access_token {
        Some(token) if proof.ath.as_deref() != Some(access_token_hash(token).as_str()) => {
            Err(ProofError::AccessTokenHash)
        }
        _ => Ok(()),
    }
}

fn check_binding(proof: &Proof, request: &ProofRequest<'_>) -> Result<(), ProofError> {
    match request.bound_jkt {
        Some(jkt) if proof.jkt != jkt => Err(ProofError::Binding),
        _ => Ok(()),
    }
}

/// `ath`: base64url of the SHA-256 of the access token's ASCII.
pub fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode_to_string(digest(&SHA256, token.as_bytes()).as_ref())
}

/// Where a proof is remembered: its key's thumbprint and its `jti`, hashed
/// to a fixed size (a `jti` is the client's text). Per key, so one client
/// cannot use up another's `jti`s.
fn replay_key(proof: &Proof) -> String {
    let mut input = Vec::with_capacity(proof.jkt.len() + 1 + proof.jti.len());
    input.extend_from_slice(proof.jkt.as_bytes());
    input.push(0);
    input.extend_from_slice(proof.jti.as_bytes());
    format!(
        "dpop#{}",
        URL_SAFE_NO_PAD.encode_to_string(digest(&SHA256, &input).as_ref())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ath_is_rfc_9449s_example() {
        // RFC 9449 §7.1: the access token of the example and its ath.
        assert_eq!(
            access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
    }

    #[test]
    fn replay_keys_are_per_key_and_jti() {
        let proof = |jkt: &str, jti: &str| Proof {
            jkt: jkt.into(),
            alg: Algorithm::ES256,
            jti: jti.into(),
            htm: "GET".into(),
            htu: "https://a/".into(),
            iat: 0,
            ath: None,
        };
        assert_eq!(replay_key(&proof("k", "j")), replay_key(&proof("k", "j")));
        assert_ne!(replay_key(&proof("k", "j")), replay_key(&proof("k2", "j")));
        assert_ne!(replay_key(&proof("k", "j")), replay_key(&proof("k", "j2")));
        // No ambiguity where one ends and the other begins.
        assert_ne!(replay_key(&proof("ab", "c")), replay_key(&proof("a", "bc")));
    }
}
