//! `tollgate explain`: why a token is accepted or refused.
//!
//! Walks the same checks as [`Authorizer::verify`], in the same order, and
//! reports each with its verdict. The outcome (and its refusal reason) is
//! the authorizer's own: [`Authorizer::verify`] is called too, so the
//! explanation cannot drift from what the authorizer logs. Nothing about the
//! signature is reported as valid unless the key was found and the check ran.

use std::sync::Arc;

use crate::authorizer::Authorizer;
use crate::claims::{ClaimChecks, Claims};
use crate::config::StatusCheck;
use crate::error::VerifyError;
use crate::explain_report::Report;
pub use crate::explain_report::{Check, Verdict};
use crate::explain_sender::ProofInput;
use crate::route_access::Access;
use crate::rule_grants::RuleOutcome;
use crate::token::{parse_token, SignatureBuf, UnverifiedToken};
use crate::verified::VerifiedToken;
use jose::VerifyingKey;

/// Every check, the authorizer's outcome, and what the token's scopes grant.
#[derive(Debug)]
pub struct Explanation {
    /// Every check, in the authorizer's order.
    pub checks: Vec<Check>,
    /// The authorizer's own decision for the token.
    pub outcome: Result<Arc<VerifiedToken>, VerifyError>,
    /// `METHOD /path` of every configured route the token's scopes grant;
    /// a route with rules as the paths they allow (`GET /shelves/alice/books`).
    pub granted_routes: Vec<String>,
    /// Each route rule, evaluated for the token: every alternative's
    /// verdict, the bound values, and the paths allowed.
    pub rules: Vec<RuleOutcome>,
}

impl Explanation {
    /// The first failed check's reason: the one the authorizer reports.
    pub fn first_failure(&self) -> Option<&'static str> {
        self.checks.iter().find_map(|c| c.reason)
    }

    /// Whether the request is refused: the token, or a sender check
    /// (DPoP, certificate), failed.
    pub fn refused(&self) -> bool {
        self.outcome.is_err() || self.checks.iter().any(|c| c.verdict == Verdict::Fail)
    }
}

/// The checks after `structure`; `status` is left to `explain_status`,
/// which records it once whatever failed before.
const AFTER_STRUCTURE: [&str; 11] = [
    "claims",
    "issuer",
    "key",
    "signature",
    "typ",
    "exp",
    "nbf",
    "audience",
    "token_use",
    "subject",
    "principal",
];

impl Authorizer {
    /// Explains what [`Authorizer::verify`] decides for `token`, check by check.
    pub async fn explain(&self, token: &str) -> Explanation {
        self.explain_request(token, None).await
    }

    /// [`Self::explain`], then the sender checks a request would meet: the
    /// DPoP proof given (each check of RFC 9449 §4.3) or its absence, as
    /// `DPOP_MODE` and the token's binding say.
    pub async fn explain_request(
        &self,
        token: &str,
        proof: Option<&ProofInput<'_>>,
    ) -> Explanation {
        let mut report = Report::default();
        let mut signature = SignatureBuf::default();
        match parse_token(token, &mut signature) {
            Err(error) => {
                report.record("structure", Err((error, "not a usable compact JWS".into())));
                report.skip(&AFTER_STRUCTURE);
            }
            Ok(parsed) => {
                report.record(
                    "structure",
                    Ok(format!(
                        "three segments; alg {}, kid {:?}, typ {:?}",
                        parsed.alg.name(),
                        parsed.kid,
                        parsed.typ.as_deref().unwrap_or("-")
                    )),
                );
                self.explain_parsed(&parsed, &mut report).await;
            }
        }
        let outcome = self.verify(token).await;
        self.explain_status(&mut report, &outcome);
        // Every refusal names its reason, even one no check above foresaw.
        if let Err(error) = &outcome {
            if !report
                .checks
                .iter()
                .any(|c| c.reason == Some(error.reason()))
            {
                report.record(
                    "decision",
                    Err((*error, "the authorizer refused the token".into())),
                );
            }
        }
        let (granted_routes, rules) = match &outcome {
            Ok(verified) => (
                self.granted_routes(verified),
                self.rule_outcomes(token, verified),
            ),
            Err(_) => (Vec::new(), Vec::new()),
        };
        if let Ok(verified) = &outcome {
            report.record("scopes", Ok(format!("{:?}", verified.scopes)));
            self.explain_sender(token, verified, proof, &mut report);
        }
        Explanation {
            checks: report.checks,
            outcome,
            granted_routes,
            rules,
        }
    }

    /// Whether a verified token may call `method path` (the resource path
    /// below the stage), as its policy says: [`Access::RuleDenied`] when its
    /// scopes grant the route but no rule alternative allows this path.
    pub fn route_access(&self, verified: &VerifiedToken, method: &str, path: &str) -> Access {
        self.config()
            .route_scopes
            .access(method, path, &verified.scopes(), &verified.rule_grants)
    }

    fn granted_routes(&self, verified: &VerifiedToken) -> Vec<String> {
        let scopes = verified.scopes();
        let routes = self.config().route_scopes.routes().iter().enumerate();
        routes
            .filter(|(_, route)| route.granted_by(scopes.iter().copied()))
            .flat_map(|(i, route)| match verified.rule_grants.for_route(i) {
                None => vec![format!("{} {}", route.method, route.path)],
                Some(paths) => paths
                    .iter()
                    .map(|path| format!("{} {path}", route.method))
                    .collect(),
            })
            .collect()
    }

    /// The route rules evaluated for a verified token, from its claims.
    fn rule_outcomes(&self, token: &str, verified: &VerifiedToken) -> Vec<RuleOutcome> {
        let mut signature = SignatureBuf::default();
        let claims = parse_token(token, &mut signature)
            .ok()
            .and_then(|parsed| serde_json::from_slice(parsed.payload()).ok());
        match claims {
            Some(claims) => self
                .config()
                .route_rules
                .evaluate(&claims, &verified.scopes),
            None => Vec::new(),
        }
    }

    async fn explain_parsed(&self, parsed: &UnverifiedToken<'_>, report: &mut Report) {
        let claims = match parsed.claims() {
            Ok(claims) => claims,
            Err(error) => {
                report.record(
                    "claims",
                    Err((
                        error,
                        "the payload is not a claims object with correctly typed claims".into(),
                    )),
                );
                report.skip(&AFTER_STRUCTURE[1..]);
                return;
            }
        };
        report.record(
            "claims",
            Ok("a JSON object; known claims correctly typed".into()),
        );
        report.status = claims
            .status
            .as_ref()
            .and_then(|status| status.status_list.as_ref())
            .map(|list| (list.uri.to_string(), list.idx));
        let iss = claims.iss.as_deref().unwrap_or_default();
        let Some(keys) = self.key_cache(iss) else {
            report.record(
                "issuer",
                Err((
                    VerifyError::UntrustedIssuer,
                    format!("iss {iss:?} is not a trusted issuer"),
                )),
            );
            report.skip(&AFTER_STRUCTURE[2..]);
            return;
        };
        report.record("issuer", Ok(format!("iss {iss:?} is trusted")));
        let key = match keys.key(&parsed.kid).await {
            Ok(key) => {
                report.record(
                    "key",
                    Ok(format!("kid {:?} is in the issuer's key set", parsed.kid)),
                );
                key
            }
            Err(error) => {
                let detail = match keys.refusal(&parsed.kid) {
                    Some(why) if error == VerifyError::RefusedKey => {
                        format!("key {:?} refused: {why}", parsed.kid)
                    }
                    _ => format!("kid {:?}", parsed.kid),
                };
                report.record("key", Err((error, detail)));
                report.skip(&["signature"]);
                self.explain_claims(&claims, parsed, keys.issuer().audiences.as_slice(), report);
                return;
            }
        };
        report.record("signature", signature_check(&key, parsed));
        self.explain_claims(&claims, parsed, keys.issuer().audiences.as_slice(), report);
    }

    /// `typ` and the claim checks, in the order `verify` runs them.
    fn explain_claims(
        &self,
        claims: &Claims<'_>,
        parsed: &UnverifiedToken<'_>,
        audiences: &[String],
        report: &mut Report,
    ) {
        self.explain_typ(parsed, report);
        let checks = self.claim_checks(audiences);
        explain_lifetime(claims, &checks, report);
        let aud = format!("{:?}", claims.aud.iter().collect::<Vec<_>>());
        let client_id = shown(claims.client_id.as_deref());
        report.record(
            "audience",
            with(
                claims.check_audience(&checks),
                format!("aud {aud}, client_id {client_id}: accepted"),
                format!("aud {aud}, client_id {client_id}; accepted: {audiences:?}"),
            ),
        );
        let token_use = shown(claims.token_use.as_deref());
        report.record(
            "token_use",
            with(
                claims.check_token_use(&checks),
                token_use.clone(),
                format!(
                    "{token_use} (JWT_ALLOW_ID_TOKENS={})",
                    checks.allow_id_tokens
                ),
            ),
        );
        let sub = shown(claims.sub.as_deref());
        report.record(
            "subject",
            with(
                claims.check_subject(),
                format!("sub {sub}"),
                format!("sub {sub}"),
            ),
        );
        self.explain_principal(claims, parsed, report);
    }

    /// The header `typ` against `JWT_REQUIRED_TYP`.
    fn explain_typ(&self, parsed: &UnverifiedToken<'_>, report: &mut Report) {
        let required = self.config().required_typ.as_deref();
        let typ = shown(parsed.typ.as_deref());
        report.record(
            "typ",
            self.check_typ(parsed.typ.as_deref())
                .map(|()| match required {
                    Some(required) => format!("{typ} (required {required})"),
                    None => format!("{typ} (JWT_REQUIRED_TYP unset: not checked)"),
                })
                .map_err(|e| (e, format!("header typ {typ}, required {}", shown(required)))),
        );
    }

    /// The `PRINCIPAL_CLAIM` the answer's `principalId` comes from.
    fn explain_principal(
        &self,
        claims: &Claims<'_>,
        parsed: &UnverifiedToken<'_>,
        report: &mut Report,
    ) {
        let mapping = &self.config().claim_mapping;
        let principal_claim = mapping.principal_claim().as_str();
        report.record(
            "principal",
            match mapping.identity(claims, parsed.payload()) {
                Ok(identity) => Ok(format!(
                    "principalId {:?} (PRINCIPAL_CLAIM {principal_claim})",
                    identity
                        .principal
                        .as_deref()
                        .or(claims.sub.as_deref())
                        .unwrap_or_default()
                )),
                Err(error) => Err((
                    error,
                    format!("PRINCIPAL_CLAIM {principal_claim} is missing or not a string"),
                )),
            },
        );
    }

    /// The status list check, as `STATUS_LIST_CHECK` says and as the
    /// authorizer's outcome tells it (the list is fetched by `verify`).
    fn explain_status(
        &self,
        report: &mut Report,
        outcome: &Result<Arc<VerifiedToken>, VerifyError>,
    ) {
        let check = self.config().status.check;
        let status = report.status.clone();
        let result = match (check, status, outcome) {
            // An earlier check refused the token: the status was not read.
            (_, _, Err(error))
                if !matches!(
                    error,
                    VerifyError::Revoked
                        | VerifyError::StatusUnavailable
                        | VerifyError::MissingStatus
                ) =>
            {
                report.skip(&["status"]);
                return;
            }
            (StatusCheck::Off, _, _) => Ok("STATUS_LIST_CHECK=off: not checked".to_owned()),
            (StatusCheck::Required, None, _) => Err((
                VerifyError::MissingStatus,
                "no status.status_list claim (STATUS_LIST_CHECK=required)".to_owned(),
            )),
            (StatusCheck::IfPresent, None, _) => {
                Ok("no status claim (STATUS_LIST_CHECK=if_present: passes)".to_owned())
            }
            (_, Some((uri, idx)), Ok(_)) => Ok(format!("entry {idx} of {uri:?} is VALID")),
            (_, Some((uri, idx)), Err(error))
                if matches!(error, VerifyError::Revoked | VerifyError::StatusUnavailable) =>
            {
                let why = match error {
                    VerifyError::Revoked => "is not VALID: revoked",
                    _ => "could not be read (list unavailable, refused, or not the issuer's)",
                };
                Err((*error, format!("entry {idx} of {uri:?} {why}")))
            }
            (_, Some((uri, idx)), Err(error)) => Err((*error, format!("entry {idx} of {uri:?}"))),
        };
        report.record("status", result);
    }
}

/// The signature check: the key must be pinned to the token's algorithm,
/// then the signature must verify.
fn signature_check(
    key: &VerifyingKey,
    parsed: &UnverifiedToken<'_>,
) -> Result<String, (VerifyError, String)> {
    let Some(public_key) = key.for_algorithm(parsed.alg) else {
        return Err((
            VerifyError::AlgorithmMismatch,
            format!(
                "the key is pinned to {:?}, the token says {}",
                key.algorithms().map(|a| a.name()).collect::<Vec<_>>(),
                parsed.alg.name()
            ),
        ));
    };
    match public_key.verify_sig(parsed.signing_input, parsed.signature()) {
        Ok(()) => Ok(format!(
            "{} signature verified with kid {:?}",
            parsed.alg.name(),
            parsed.kid
        )),
        Err(_) => Err((
            VerifyError::BadSignature,
            "the signature does not verify".into(),
        )),
    }
}

/// `exp` and `nbf` against the clock, with the leeway.
fn explain_lifetime(claims: &Claims<'_>, checks: &ClaimChecks<'_>, report: &mut Report) {
    let now = environment::unix_now();
    let exp = claims.exp;
    let from_now = |t: u64| t as i64 - now as i64;
    report.record(
        "exp",
        with(
            claims.check_exp(checks, now),
            format!(
                "exp {}: {} s from now (leeway {} s)",
                shown(exp),
                from_now(exp.unwrap_or(0)),
                checks.leeway
            ),
            format!("exp {}, now {now}, leeway {} s", shown(exp), checks.leeway),
        ),
    );
    let nbf = shown(claims.nbf);
    report.record(
        "nbf",
        with(
            claims.check_nbf(checks, now),
            format!("nbf {nbf}"),
            format!("nbf {nbf}, now {now}, leeway {} s", checks.leeway),
        ),
    );
}

/// A check's result as the report records it: `ok` on success, the
/// refusal with `bad` otherwise.
fn with(
    result: Result<(), VerifyError>,
    ok: String,
    bad: String,
) -> Result<String, (VerifyError, String)> {
    result.map(|()| ok).map_err(|e| (e, bad))
}

/// An optional claim or header as the report shows it. Debug formatting:
/// the token is untrusted, and escaped strings cannot drive the terminal.
fn shown<T: std::fmt::Debug>(value: Option<T>) -> String {
    value.map_or_else(|| "absent".to_owned(), |v| format!("{v:?}"))
}
