//! Access-token claims and their checks.
//!
//! Types are strict: a time claim must be a JSON integer, so `"exp": "9999999999"`
//! fails the token instead of silently skipping the expiry check.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::error::VerifyError;

/// The claims Tollgate reads, their text borrowed from the decoded payload
/// where JSON escapes allow. Unknown claims are ignored; a duplicated claim
/// fails the whole token (serde refuses duplicate fields).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct Claims<'a> {
    /// Issuer; must name a trusted issuer exactly.
    #[serde(borrow)]
    pub iss: Option<Cow<'a, str>>,
    /// Subject; required and non-empty.
    #[serde(borrow)]
    pub sub: Option<Cow<'a, str>>,
    /// Audience; one of it must be accepted (or, absent, `client_id`).
    #[serde(borrow, default)]
    pub aud: OneOrMany<'a>,
    /// Expiry, Unix seconds; required.
    pub exp: Option<u64>,
    /// Not before, Unix seconds.
    pub nbf: Option<u64>,
    /// Issued at: informative, but must be a number.
    pub iat: Option<IgnoredNumber>,
    /// RFC 8693 / RFC 9068: space-separated scopes (an array is read
    /// element by element).
    #[serde(borrow, default)]
    pub scope: OneOrMany<'a>,
    /// The array form some issuers (Okta, Entra ID) use instead of `scope`.
    #[serde(borrow, default)]
    pub scp: OneOrMany<'a>,
    /// The OAuth client; the audience of tokens without `aud` (Cognito).
    #[serde(borrow)]
    pub client_id: Option<Cow<'a, str>>,
    /// Cognito: `access` or `id`.
    #[serde(borrow)]
    pub token_use: Option<Cow<'a, str>>,
    /// draft-ietf-oauth-status-list: where the token's status is published.
    #[serde(borrow)]
    pub status: Option<StatusClaim<'a>>,
    /// RFC 7800: the key or certificate the token is bound to.
    #[serde(borrow)]
    pub cnf: Option<Confirmation<'a>>,
}

/// `cnf` (RFC 7800): what a sender must hold to use the token. Only the
/// methods Tollgate checks are read; any other (`jwk`, `kid`, `jku`, …)
/// fails the token rather than being ignored, which would turn a bound
/// token into a bearer one.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Confirmation<'a> {
    /// RFC 9449 §6: the DPoP key's RFC 7638 thumbprint.
    #[serde(borrow)]
    pub jkt: Option<Cow<'a, str>>,
    /// RFC 8705 §3.1: the client certificate's SHA-256 thumbprint.
    #[serde(borrow, rename = "x5t#S256")]
    pub x5t_s256: Option<Cow<'a, str>>,
}

/// The `status` claim: an object naming status mechanisms; the one read
/// here is `status_list`. Other members are other mechanisms, ignored.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct StatusClaim<'a> {
    /// The token's entry in a status list.
    #[serde(borrow)]
    pub status_list: Option<StatusListReference<'a>>,
}

/// `status.status_list`: a non-negative integer index and the list's URI.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct StatusListReference<'a> {
    /// The index of the token's entry.
    pub idx: u64,
    /// The status list token's URI.
    #[serde(borrow)]
    pub uri: Cow<'a, str>,
}

/// `iat` is informative only, but it must still be a number when present.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IgnoredNumber;

impl<'de> Deserialize<'de> for IgnoredNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NumberVisitor;
        impl Visitor<'_> for NumberVisitor {
            type Value = IgnoredNumber;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(IgnoredNumber)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(IgnoredNumber)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(IgnoredNumber)
            }
        }
        deserializer.deserialize_any(NumberVisitor)
    }
}

impl<'a> Claims<'a> {
    /// Parses the payload JSON. Anything but an object with correctly typed
    /// claims is `InvalidClaims`.
    pub fn from_json(json: &'a [u8]) -> Result<Self, VerifyError> {
        // One UTF-8 check of the whole payload (fast on ASCII) lets serde_json
        // read strings without validating each again: about a third cheaper.
        let text = std::str::from_utf8(json).map_err(|_| VerifyError::InvalidClaims)?;
        if !jose::is_json_object(text.as_bytes()) {
            return Err(VerifyError::InvalidClaims);
        }
        serde_json::from_str(text).map_err(|_| VerifyError::InvalidClaims)
    }

    /// Checks `exp` (required), `nbf`, the audience, `token_use` and `sub`
    /// at `now` (Unix seconds). Boundaries follow jsonwebtoken: expired when
    /// `exp < now - leeway`, not yet valid when `nbf > now + leeway`.
    ///
    /// The audience is `aud`; a token without `aud` is matched on its
    /// `client_id` instead (Cognito access tokens carry no `aud`). A token
    /// with `token_use` must be an access token unless `allow_id_tokens`.
    pub fn validate(&self, rules: &ClaimChecks<'_>, now: u64) -> Result<(), VerifyError> {
        self.check_exp(rules, now)?;
        self.check_nbf(rules, now)?;
        self.check_audience(rules)?;
        self.check_token_use(rules)?;
        self.check_subject()
    }

    /// `exp` is required, and not past `now - leeway`.
    pub fn check_exp(&self, rules: &ClaimChecks<'_>, now: u64) -> Result<(), VerifyError> {
        let exp = self.exp.ok_or(VerifyError::InvalidClaims)?;
        if exp < now.saturating_sub(rules.leeway) {
            return Err(VerifyError::Expired);
        }
        Ok(())
    }

    /// `nbf`, when present, is not after `now + leeway`.
    pub fn check_nbf(&self, rules: &ClaimChecks<'_>, now: u64) -> Result<(), VerifyError> {
        match self.nbf {
            Some(nbf) if nbf > now.saturating_add(rules.leeway) => Err(VerifyError::NotYetValid),
            _ => Ok(()),
        }
    }

    /// `aud` names an accepted audience; without `aud`, `client_id` must.
    pub fn check_audience(&self, rules: &ClaimChecks<'_>) -> Result<(), VerifyError> {
        let accepted = |aud: &str| rules.audiences.iter().any(|a| a == aud);
        let audience_ok = match (&self.aud, self.client_id.as_deref()) {
            (OneOrMany::Absent, Some(client_id)) => accepted(client_id),
            (aud, _) => aud.iter().any(accepted),
        };
        if audience_ok {
            Ok(())
        } else {
            Err(VerifyError::BadAudience)
        }
    }

    /// `token_use`, when present, is `access` (or `id` if allowed).
    pub fn check_token_use(&self, rules: &ClaimChecks<'_>) -> Result<(), VerifyError> {
        match self.token_use.as_deref() {
            None | Some("access") => Ok(()),
            Some("id") if rules.allow_id_tokens => Ok(()),
            Some(_) => Err(VerifyError::WrongTokenUse),
        }
    }

    /// `sub` is present and not empty.
    pub fn check_subject(&self) -> Result<(), VerifyError> {
        match self.sub.as_deref() {
            Some(sub) if !sub.is_empty() => Ok(()),
            _ => Err(VerifyError::MissingSubject),
        }
    }

    /// The granted scopes of `scope` and `scp`: a string is split on spaces,
    /// an array gives one scope per element (`["a b"]` is the one scope `a b`).
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.scopes().chain(self.scp.scopes())
    }
}

/// What [`Claims::validate`] checks against: one trusted issuer's audiences
/// and the configured tolerances.
#[derive(Clone, Copy, Debug)]
pub struct ClaimChecks<'c> {
    /// Accepted audiences of the token's issuer.
    pub audiences: &'c [String],
    /// Clock skew allowed on `exp` and `nbf`, seconds.
    pub leeway: u64,
    /// Whether Cognito ID tokens (`token_use: id`) pass.
    pub allow_id_tokens: bool,
}

/// A claim that may be one string or an array of strings (`aud`, `scp`).
/// The common single string costs no allocation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum OneOrMany<'a> {
    #[default]
    Absent,
    One(Cow<'a, str>),
    Many(Vec<Cow<'a, str>>),
}

impl OneOrMany<'_> {
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let (one, many): (Option<&str>, &[Cow<'_, str>]) = match self {
            OneOrMany::Absent => (None, &[]),
            OneOrMany::One(value) => (Some(value), &[]),
            OneOrMany::Many(values) => (None, values),
        };
        one.into_iter().chain(many.iter().map(|v| v.as_ref()))
    }

    /// Read as scopes: one string is space-separated, each array element is
    /// one scope. Empty entries grant nothing.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        let (spaced, elements) = match self {
            OneOrMany::One(value) => (value.as_ref(), None),
            _ => ("", Some(self.iter())),
        };
        spaced
            .split(' ')
            .chain(elements.into_iter().flatten())
            .filter(|s| !s.is_empty())
    }
}

/// One string that borrows from the input when it has no escapes.
#[derive(Deserialize)]
struct BorrowedStr<'a>(#[serde(borrow)] Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for OneOrMany<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OneOrManyVisitor;
        impl<'de> Visitor<'de> for OneOrManyVisitor {
            type Value = OneOrMany<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
                Ok(OneOrMany::One(Cow::Borrowed(value)))
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                Ok(OneOrMany::One(Cow::Owned(value.to_owned())))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut values = Vec::with_capacity(seq.size_hint().unwrap_or(1).min(16));
                while let Some(BorrowedStr(value)) = seq.next_element()? {
                    values.push(value);
                }
                Ok(OneOrMany::Many(values))
            }
        }
        deserializer.deserialize_any(OneOrManyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(json: &str) -> Result<Claims<'_>, VerifyError> {
        Claims::from_json(json.as_bytes())
    }

    const NOW: u64 = 1_800_000_000;

    fn aud() -> Vec<String> {
        vec!["books-api".to_owned()]
    }

    /// Validates with `books-api` accepted, `leeway` seconds, no id tokens.
    fn check(c: &Claims<'_>, leeway: u64) -> Result<(), VerifyError> {
        check_with(c, leeway, false)
    }

    fn check_with(c: &Claims<'_>, leeway: u64, allow_id_tokens: bool) -> Result<(), VerifyError> {
        let audiences = aud();
        c.validate(
            &ClaimChecks {
                audiences: &audiences,
                leeway,
                allow_id_tokens,
            },
            NOW,
        )
    }

    #[test]
    fn claims_in_an_array_are_refused() {
        // serde would read this as iss, sub, aud, exp, nbf, iat, scope, ….
        let array =
            r#"["i","alice","books-api",1800000100,0,0,"keys:admin",[],null,null,null,null]"#;
        assert!(serde_json::from_str::<Claims<'_>>(array).is_ok());
        assert_eq!(claims(array), Err(VerifyError::InvalidClaims));
        assert_eq!(
            claims(&format!(" \n{array}")),
            Err(VerifyError::InvalidClaims)
        );
        assert!(claims(r#" {"sub":"a","exp":1800000100}"#).is_ok());
    }

    /// A claim nested deeper than `serde_json::Value` reads would pass the
    /// claims' struct (which skips it) and fail the rules' and
    /// `CONTEXT_CLAIMS`' reading: refused here, as every parser agrees.
    #[test]
    fn claims_nested_too_deep_are_refused() {
        let nested = |depth: usize| {
            format!(
                r#"{{"sub":"a","exp":1800000100,"x":{}1{}}}"#,
                "[".repeat(depth),
                "]".repeat(depth)
            )
        };
        assert!(claims(&nested(100)).is_ok());
        assert_eq!(claims(&nested(200)), Err(VerifyError::InvalidClaims));
    }

    #[test]
    fn valid_claims_pass() {
        let c =
            claims(r#"{"iss":"i","sub":"alice","aud":"books-api","exp":1800000100,"scope":"a b"}"#)
                .unwrap();
        assert_eq!(check(&c, 0), Ok(()));
        assert_eq!(c.scopes().collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn string_time_claims_fail() {
        assert_eq!(
            claims(r#"{"sub":"a","aud":"books-api","exp":"1800000100"}"#),
            Err(VerifyError::InvalidClaims)
        );
        assert_eq!(
            claims(r#"{"sub":"a","aud":"books-api","exp":1800000100,"nbf":"0"}"#),
            Err(VerifyError::InvalidClaims)
        );
        assert_eq!(
            claims(r#"{"sub":"a","exp":1.5e9}"#),
            Err(VerifyError::InvalidClaims)
        );
    }

    #[test]
    fn duplicate_claims_fail() {
        assert_eq!(
            claims(r#"{"sub":"a","exp":1,"exp":1900000000}"#),
            Err(VerifyError::InvalidClaims)
        );
    }

    #[test]
    fn exp_is_required_and_leeway_applies() {
        let c = claims(r#"{"sub":"a","aud":"books-api"}"#).unwrap();
        assert_eq!(check(&c, 30), Err(VerifyError::InvalidClaims));
        let c = claims(r#"{"sub":"a","aud":"books-api","exp":1799999980}"#).unwrap();
        assert_eq!(check(&c, 30), Ok(()));
        assert_eq!(check(&c, 0), Err(VerifyError::Expired));
    }

    #[test]
    fn nbf_in_the_future_fails() {
        let c =
            claims(r#"{"sub":"a","aud":"books-api","exp":1900000000,"nbf":1800000100}"#).unwrap();
        assert_eq!(check(&c, 30), Err(VerifyError::NotYetValid));
        assert_eq!(check(&c, 100), Ok(()));
    }

    #[test]
    fn audience_array_must_intersect() {
        let c = claims(r#"{"sub":"a","aud":["x","books-api"],"exp":1900000000}"#).unwrap();
        assert_eq!(check(&c, 0), Ok(()));
        let c = claims(r#"{"sub":"a","aud":["x"],"exp":1900000000}"#).unwrap();
        assert_eq!(check(&c, 0), Err(VerifyError::BadAudience));
        let c = claims(r#"{"sub":"a","exp":1900000000}"#).unwrap();
        assert_eq!(check(&c, 0), Err(VerifyError::BadAudience));
    }

    #[test]
    fn subject_is_required() {
        let c = claims(r#"{"aud":"books-api","exp":1900000000}"#).unwrap();
        assert_eq!(check(&c, 0), Err(VerifyError::MissingSubject));
        let c = claims(r#"{"sub":"","aud":"books-api","exp":1900000000}"#).unwrap();
        assert_eq!(check(&c, 0), Err(VerifyError::MissingSubject));
    }

    #[test]
    fn scp_array_elements_are_one_scope_each() {
        let c = claims(r#"{"scp":["a b","c"],"scope":"d e"}"#).unwrap();
        assert_eq!(c.scopes().collect::<Vec<_>>(), ["d", "e", "a b", "c"]);
        let c = claims(r#"{"scp":"User.Read Mail.Send"}"#).unwrap();
        assert_eq!(c.scopes().collect::<Vec<_>>(), ["User.Read", "Mail.Send"]);
    }

    #[test]
    fn a_token_without_aud_is_matched_on_client_id() {
        let c = claims(r#"{"sub":"a","client_id":"books-api","exp":1900000000}"#).unwrap();
        assert_eq!(check(&c, 0), Ok(()));
        let c = claims(r#"{"sub":"a","client_id":"other","exp":1900000000}"#).unwrap();
        assert_eq!(check(&c, 0), Err(VerifyError::BadAudience));
        // With an `aud`, client_id is not consulted.
        let c =
            claims(r#"{"sub":"a","aud":"x","client_id":"books-api","exp":1900000000}"#).unwrap();
        assert_eq!(check(&c, 0), Err(VerifyError::BadAudience));
        let c = claims(r#"{"sub":"a","aud":[],"client_id":"books-api","exp":1900000000}"#).unwrap();
        assert_eq!(check(&c, 0), Err(VerifyError::BadAudience));
    }

    #[test]
    fn token_use_must_be_access_unless_id_tokens_are_allowed() {
        let access =
            claims(r#"{"sub":"a","client_id":"books-api","exp":1900000000,"token_use":"access"}"#)
                .unwrap();
        assert_eq!(check(&access, 0), Ok(()));
        let id =
            claims(r#"{"sub":"a","aud":"books-api","exp":1900000000,"token_use":"id"}"#).unwrap();
        assert_eq!(check(&id, 0), Err(VerifyError::WrongTokenUse));
        assert_eq!(check_with(&id, 0, true), Ok(()));
        let other =
            claims(r#"{"sub":"a","aud":"books-api","exp":1900000000,"token_use":"refresh"}"#)
                .unwrap();
        assert_eq!(check_with(&other, 0, true), Err(VerifyError::WrongTokenUse));
        assert_eq!(
            claims(r#"{"sub":"a","aud":"books-api","exp":1900000000,"token_use":1}"#),
            Err(VerifyError::InvalidClaims)
        );
    }

    #[test]
    fn the_status_claim_is_read_strictly() {
        let c = claims(r#"{"status":{"status_list":{"idx":7,"uri":"https://i/statuslists/1"}}}"#)
            .unwrap();
        let reference = c.status.unwrap().status_list.unwrap();
        assert_eq!(
            (reference.idx, &*reference.uri),
            (7, "https://i/statuslists/1")
        );
        // Another mechanism only: no status list to check.
        let other = claims(r#"{"status":{"other_mechanism":{"x":1}}}"#).unwrap();
        assert_eq!(other.status.unwrap().status_list, None);
        for bad in [
            r#"{"status":{"status_list":{"idx":-1,"uri":"https://i/s/1"}}}"#,
            r#"{"status":{"status_list":{"idx":1.5,"uri":"https://i/s/1"}}}"#,
            r#"{"status":{"status_list":{"idx":"1","uri":"https://i/s/1"}}}"#,
            r#"{"status":{"status_list":{"idx":1}}}"#,
            r#"{"status":{"status_list":{"uri":"https://i/s/1"}}}"#,
            r#"{"status":{"status_list":{"idx":1,"uri":7}}}"#,
            r#"{"status":"revoked"}"#,
            r#"{"status":{"status_list":"https://i/s/1"}}"#,
        ] {
            assert_eq!(claims(bad), Err(VerifyError::InvalidClaims), "{bad}");
        }
    }

    #[test]
    fn non_object_payloads_fail() {
        for json in ["[]", "1", "\"x\"", "null", "{", ""] {
            assert_eq!(claims(json), Err(VerifyError::InvalidClaims), "{json}");
        }
    }
}
