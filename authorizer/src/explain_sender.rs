//! The sender checks of `tollgate explain`: what a request with this token
//! would need under `DPOP_MODE`, and, with `--dpop`, each check of the
//! proof given (RFC 9449 §4.3) on its own. Explaining never uses a proof
//! up: the replay store is not asked.

use dpop::{ProofError, ProofRequest};

use crate::authorizer::Authorizer;
use crate::explain_report::Report;
use crate::sender_settings::DpopMode;
use crate::verified::VerifiedToken;

/// A request's DPoP proof, as `tollgate explain --dpop PROOF --method M
/// --request-url U` gives it.
#[derive(Clone, Copy, Debug)]
pub struct ProofInput<'a> {
    /// The proof (the `DPoP` header's value).
    pub proof: &'a str,
    /// The request's method.
    pub method: &'a str,
    /// The request's URL as the client called it.
    pub request_url: &'a str,
}

impl Authorizer {
    pub(crate) fn explain_sender(
        &self,
        token: &str,
        verified: &VerifiedToken,
        input: Option<&ProofInput<'_>>,
        report: &mut Report,
    ) {
        if let Some(thumbprint) = &verified.binding.x5t_s256 {
            report.skip_saying(
                &["mtls"],
                &format!(
                    "certificate-bound (cnf.x5t#S256 {thumbprint:?}): only the request's client \
                     certificate can pass"
                ),
            );
        }
        let mode = self.config().sender.mode;
        let verdict = match (mode, verified.binding.jkt.as_deref(), input) {
            (_, Some(jkt), Some(input)) if mode != DpopMode::Off => {
                return self.explain_proof(token, jkt, input, report);
            }
            (DpopMode::Off, _, _) => Ok("DPOP_MODE=off: proofs are not checked".into()),
            (_, Some(jkt), _) => Err((
                ProofError::Missing.reason(),
                format!(
                    "DPoP-bound (cnf.jkt {jkt:?}): a request needs the DPoP scheme and a \
                     proof (--dpop PROOF --method M --request-url URL)"
                ),
            )),
            (_, None, Some(_)) => Err((
                "dpop_binding",
                "the token is not DPoP-bound (no cnf.jkt): the DPoP scheme is refused".into(),
            )),
            (DpopMode::Required, None, None) => Err((
                "dpop_binding",
                "DPOP_MODE=required and the token is not DPoP-bound (no cnf.jkt)".into(),
            )),
            (DpopMode::IfBound, None, None) => {
                Ok("a bearer token (no cnf.jkt): DPOP_MODE=if_bound needs no proof".into())
            }
        };
        report.record_reason("dpop", verdict);
    }

    /// The proof read, then each claim check on its own.
    fn explain_proof(&self, token: &str, jkt: &str, input: &ProofInput<'_>, report: &mut Report) {
        const CLAIM_CHECKS: [&str; 6] = ["htm", "htu", "iat", "ath", "jkt", "replay"];
        let checker = self.proofs();
        let proof = match checker.read(input.proof) {
            Ok(proof) => proof,
            Err(error) => {
                report.record_reason("dpop", Err((error.reason(), error.to_string())));
                report.skip(&CLAIM_CHECKS);
                return;
            }
        };
        report.record_reason(
            "dpop",
            Ok(format!(
                "typ dpop+jwt, {} signature verified with its own jwk (jkt {:?})",
                proof.alg.name(),
                proof.jkt
            )),
        );
        // The URL the client called: what `htu` must name.
        let uris = vec![dpop::htu::without_query(input.request_url).to_owned()];
        let now = environment::unix_now();
        let request = ProofRequest {
            method: input.method,
            uris: &uris,
            access_token: Some(token),
            bound_jkt: Some(jkt),
            now,
        };
        let max_age = checker.max_age().as_secs();
        for (name, result) in checker.claim_checks(&proof, &request) {
            let seen = match name {
                "htm" => format!("htm {:?}, request method {:?}", proof.htm, input.method),
                "htu" => format!("htu {:?}, request URIs {uris:?}", proof.htu),
                "iat" => format!(
                    "iat {}: {} s ago (DPOP_MAX_AGE_SECONDS {max_age} + {} s skew)",
                    proof.iat,
                    now as i64 - proof.iat as i64,
                    dpop::CLOCK_SKEW_SECONDS
                ),
                "ath" => format!("ath {:?}", proof.ath.as_deref().unwrap_or("absent")),
                _ => format!("proof key {:?}, token cnf.jkt {jkt:?}", proof.jkt),
            };
            report.record_reason(
                name,
                result
                    .map(|()| seen.clone())
                    .map_err(|error| (error.reason(), format!("{seen} ({error})"))),
            );
        }
        report.skip_saying(
            &["replay"],
            "not asked: explaining never uses a proof up (each proof passes once)",
        );
    }
}
