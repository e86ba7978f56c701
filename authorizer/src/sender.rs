//! Sender-constrained tokens: a token bound to a DPoP key (`cnf.jkt`,
//! RFC 9449) is accepted only in the `DPoP` scheme with exactly one valid
//! proof of that key for this very request, and a token bound to a client
//! certificate (`cnf.x5t#S256`, RFC 8705 §3) only from a client whose
//! certificate, as API Gateway verified it, has that thumbprint. What
//! `DPOP_MODE` asks of unbound tokens is decided here too.

use aws_lc_rs::digest::{digest, SHA256};
use base64_simd::{STANDARD, URL_SAFE_NO_PAD};
use dpop::{ProofError, ProofRequest};

use crate::authorizer::Authorizer;
use crate::events::{AuthorizerEvent, Credential, Scheme};
use crate::sender_settings::DpopMode;
use crate::verified::VerifiedToken;

/// Why a sender was refused. Each has its own metric reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SenderError {
    /// A proof check failed (or a needed proof is missing).
    #[error(transparent)]
    Proof(#[from] ProofError),
    /// The scheme does not fit the token: a DPoP-bound token as `Bearer`
    /// (RFC 9449 §7.1's downgrade), a bearer token as `DPoP`, or, with
    /// `DPOP_MODE=required`, a token that is not DPoP-bound.
    #[error("{0}")]
    Scheme(&'static str),
    /// The proof is not among the HTTP API event's identity sources, so
    /// API Gateway could reuse this answer for another proof.
    #[error("the DPoP proof is not among the identity sources: API Gateway could reuse the answer for another proof; add $request.header.DPoP to them (or set the authorizer cache TTL to 0)")]
    ProofNotInCacheKey,
    /// The client certificate is missing or not the one the token is bound to.
    #[error("{0}")]
    Certificate(&'static str),
}

impl SenderError {
    /// The metric reason.
    pub fn reason(&self) -> &'static str {
        match self {
            SenderError::Proof(error) => error.reason(),
            SenderError::Scheme(_) => "dpop_binding",
            SenderError::ProofNotInCacheKey => "dpop_identity_source",
            SenderError::Certificate(_) => "mtls_binding",
        }
    }
}

impl Authorizer {
    /// The sender checks for a verified token presented as `credential` in
    /// `event`: the certificate binding, then the DPoP rules of `DPOP_MODE`.
    pub(crate) async fn check_sender(
        &self,
        event: &AuthorizerEvent,
        credential: Credential<'_>,
        verified: &VerifiedToken,
    ) -> Result<(), SenderError> {
        if let Some(thumbprint) = &verified.binding.x5t_s256 {
            check_certificate(event.client_cert_pem(), thumbprint)?;
        }
        let settings = &self.config().sender;
        let bound_jkt = verified.binding.jkt.as_deref();
        match (settings.mode, bound_jkt, credential.scheme) {
            (DpopMode::Off, _, _) => Ok(()),
            (_, Some(jkt), Scheme::DPoP) => self.check_proof(event, credential.token, jkt).await,
            (_, Some(_), Scheme::Bearer) => Err(SenderError::Scheme(
                "a DPoP-bound token presented as Bearer: it needs the DPoP scheme and a proof",
            )),
            (_, None, Scheme::DPoP) => Err(SenderError::Scheme(
                "the DPoP scheme with a token that is not DPoP-bound",
            )),
            (DpopMode::Required, None, Scheme::Bearer) => Err(SenderError::Scheme(
                "DPOP_MODE=required and the token is not DPoP-bound",
            )),
            (DpopMode::IfBound, None, Scheme::Bearer) => Ok(()),
        }
    }

    /// Exactly one proof, for this request, of the key `jkt`.
    async fn check_proof(
        &self,
        event: &AuthorizerEvent,
        token: &str,
        jkt: &str,
    ) -> Result<(), SenderError> {
        let proofs = event.dpop_proofs();
        let proof = match proofs.as_slice() {
            [] => return Err(ProofError::Missing.into()),
            [proof] => *proof,
            _ => return Err(ProofError::Invalid("more than one DPoP header".into()).into()),
        };
        if event.in_identity_source(proof) == Some(false) {
            return Err(SenderError::ProofNotInCacheKey);
        }
        let method = event
            .http_method()
            .ok_or_else(|| ProofError::Invalid("the event names no method".into()))?;
        let uris = event.request_uris(&self.config().sender.public_base_urls);
        let request = ProofRequest {
            method,
            uris: &uris,
            access_token: Some(token),
            bound_jkt: Some(jkt),
            now: environment::unix_now(),
        };
        self.proofs().check(proof, &request).await?;
        Ok(())
    }
}

/// RFC 8705 §3.1: the certificate's DER, hashed with SHA-256 and
/// base64url-encoded, is the token's `cnf.x5t#S256`.
fn check_certificate(pem: Option<&str>, thumbprint: &str) -> Result<(), SenderError> {
    let pem = pem.ok_or(SenderError::Certificate(
        "the token is certificate-bound and the request carries no client certificate",
    ))?;
    let der = pem_body(pem).ok_or(SenderError::Certificate(
        "the client certificate is not PEM",
    ))?;
    let own = URL_SAFE_NO_PAD.encode_to_string(digest(&SHA256, &der));
    if own != thumbprint {
        return Err(SenderError::Certificate(
            "the client certificate is not the one the token is bound to",
        ));
    }
    Ok(())
}

/// The DER of the first `CERTIFICATE` block of `pem`.
fn pem_body(pem: &str) -> Option<Vec<u8>> {
    let (_, rest) = pem.split_once("-----BEGIN CERTIFICATE-----")?;
    let (body, _) = rest.split_once("-----END CERTIFICATE-----")?;
    let text: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD
        .decode_to_vec(text)
        .ok()
        .filter(|der| !der.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_matches_its_own_thumbprint_only() {
        let der = b"not really DER, but bytes";
        let pem = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            STANDARD.encode_to_string(der)
        );
        let thumbprint = URL_SAFE_NO_PAD.encode_to_string(digest(&SHA256, der));
        assert_eq!(check_certificate(Some(&pem), &thumbprint), Ok(()));
        assert!(matches!(
            check_certificate(Some(&pem), "another"),
            Err(SenderError::Certificate(_))
        ));
        assert!(matches!(
            check_certificate(None, &thumbprint),
            Err(SenderError::Certificate(_))
        ));
        assert!(matches!(
            check_certificate(Some("garbage"), &thumbprint),
            Err(SenderError::Certificate(_))
        ));
        assert_eq!(
            SenderError::Certificate("x").reason(),
            "mtls_binding",
            "one reason for every certificate refusal"
        );
    }
}
