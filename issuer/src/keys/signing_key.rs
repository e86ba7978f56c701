//! Signing keys: generated with aws-lc-rs, signed with through jsonwebtoken,
//! published as JWKs whose `kid` is the RFC 7638 thumbprint.
//!
//! Private material lives only in [`PrivateKey`], whose `Debug` is redacted
//! and which is never serialised except into the keyset store.

use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{EcdsaKeyPair, Ed25519KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use jsonwebtoken::jwk::{Jwk, KeyAlgorithm, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde::{Deserialize, Serialize};

/// The algorithms the issuer signs with (`SIGNING_ALG`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SigningAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys: what every verifier takes.
    RS256,
    /// RSASSA-PSS with SHA-256, 2048-bit keys.
    PS256,
    /// ECDSA on P-256 with SHA-256: small keys and signatures.
    ES256,
    /// Ed25519.
    EdDSA,
}

/// Why a key could not be named, generated or loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// `SIGNING_ALG` names another algorithm.
    #[error("SIGNING_ALG {0:?} is not one of RS256, PS256, ES256, EdDSA")]
    UnknownAlgorithm(String),
    /// The crypto library could not generate a key.
    #[error("key generation failed")]
    Generation,
    /// Deliberately without detail: the input was private key material.
    #[error("stored private key is not a valid key for its algorithm")]
    BadPrivateKey,
}

impl SigningAlg {
    /// The algorithm of a JOSE `alg` name.
    pub fn from_name(name: &str) -> Result<Self, KeyError> {
        match name {
            "RS256" => Ok(SigningAlg::RS256),
            "PS256" => Ok(SigningAlg::PS256),
            "ES256" => Ok(SigningAlg::ES256),
            "EdDSA" => Ok(SigningAlg::EdDSA),
            other => Err(KeyError::UnknownAlgorithm(other.to_owned())),
        }
    }

    /// The same algorithm as `jsonwebtoken` names it.
    pub fn jwt_algorithm(self) -> Algorithm {
        match self {
            SigningAlg::RS256 => Algorithm::RS256,
            SigningAlg::PS256 => Algorithm::PS256,
            SigningAlg::ES256 => Algorithm::ES256,
            SigningAlg::EdDSA => Algorithm::EdDSA,
        }
    }
}

/// A private key as PKCS#8 DER. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct PrivateKey(Vec<u8>);

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey(<redacted>)")
    }
}

impl PrivateKey {
    /// A fresh key: RSA-2048 for RS256/PS256, P-256 for ES256, Ed25519 for EdDSA.
    pub fn generate(alg: SigningAlg) -> Result<Self, KeyError> {
        let der = match alg {
            SigningAlg::RS256 | SigningAlg::PS256 => RsaKeyPair::generate(KeySize::Rsa2048)
                .and_then(|pair| pair.as_der())
                .map(|der| der.as_ref().to_vec()),
            SigningAlg::ES256 => EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                .and_then(|pair| pair.to_pkcs8v1())
                .map(|doc| doc.as_ref().to_vec()),
            SigningAlg::EdDSA => Ed25519KeyPair::generate()
                .and_then(|pair| pair.to_pkcs8v1())
                .map(|doc| doc.as_ref().to_vec()),
        };
        der.map(PrivateKey).map_err(|_| KeyError::Generation)
    }

    /// A key from its PKCS#8 DER, as the keyset store keeps it (checked
    /// when it is first used for signing).
    pub fn from_pkcs8(der: Vec<u8>) -> Self {
        PrivateKey(der)
    }

    /// The PKCS#8 DER, for the keyset store only.
    pub fn pkcs8(&self) -> &[u8] {
        &self.0
    }

    /// jsonwebtoken's signing key (its RSA signer wants PKCS#1).
    pub fn encoding_key(&self, alg: SigningAlg) -> Result<EncodingKey, KeyError> {
        Ok(match alg {
            SigningAlg::RS256 | SigningAlg::PS256 => {
                EncodingKey::from_rsa_der(pkcs1_from_pkcs8(&self.0)?)
            }
            SigningAlg::ES256 => EncodingKey::from_ec_der(&self.0),
            SigningAlg::EdDSA => EncodingKey::from_ed_der(&self.0),
        })
    }

    /// The public JWK: `kid` (RFC 7638 SHA-256 thumbprint), `alg`, `use: sig`.
    pub fn public_jwk(&self, alg: SigningAlg) -> Result<Jwk, KeyError> {
        let encoding = self.encoding_key(alg)?;
        let mut jwk = Jwk::from_encoding_key(&encoding, alg.jwt_algorithm())
            .map_err(|_| KeyError::BadPrivateKey)?;
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        jwk.common.key_algorithm = Some(match alg {
            SigningAlg::RS256 => KeyAlgorithm::RS256,
            SigningAlg::PS256 => KeyAlgorithm::PS256,
            SigningAlg::ES256 => KeyAlgorithm::ES256,
            SigningAlg::EdDSA => KeyAlgorithm::EdDSA,
        });
        jwk.common.key_id = Some(
            jwk.thumbprint(ThumbprintHash::SHA256)
                .map_err(|_| KeyError::BadPrivateKey)?,
        );
        Ok(jwk)
    }
}

/// The RSAPrivateKey (PKCS#1) inside a PKCS#8 PrivateKeyInfo:
/// `SEQUENCE { INTEGER version, SEQUENCE algorithm, OCTET STRING key }`.
fn pkcs1_from_pkcs8(der: &[u8]) -> Result<&[u8], KeyError> {
    let (body, _) = der_element(der, 0x30)?;
    let (_, rest) = der_element(body, 0x02)?;
    let (_, rest) = der_element(rest, 0x30)?;
    let (key, _) = der_element(rest, 0x04)?;
    Ok(key)
}

/// Splits one DER element of tag `tag` into (content, rest).
fn der_element(input: &[u8], tag: u8) -> Result<(&[u8], &[u8]), KeyError> {
    let (&found, rest) = input.split_first().ok_or(KeyError::BadPrivateKey)?;
    if found != tag {
        return Err(KeyError::BadPrivateKey);
    }
    let (&first, rest) = rest.split_first().ok_or(KeyError::BadPrivateKey)?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return Err(KeyError::BadPrivateKey);
        }
        let len = rest[..count]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[count..])
    };
    if rest.len() < len {
        return Err(KeyError::BadPrivateKey);
    }
    Ok(rest.split_at(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_key_material() {
        let key = PrivateKey::generate(SigningAlg::ES256).unwrap();
        let shown = format!("{key:?} {:#?}", key);
        assert!(shown.contains("redacted"));
        let der_hex: String = key
            .pkcs8()
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(!shown.contains(&der_hex));
    }

    #[test]
    fn kid_is_the_rfc7638_thumbprint_and_jwk_is_public_only() {
        for alg in [
            SigningAlg::RS256,
            SigningAlg::PS256,
            SigningAlg::ES256,
            SigningAlg::EdDSA,
        ] {
            let key = PrivateKey::generate(alg).unwrap();
            let jwk = key.public_jwk(alg).unwrap();
            let kid = jwk.common.key_id.clone().unwrap();
            assert_eq!(kid.len(), 43, "base64url SHA-256");
            assert_eq!(jwk.thumbprint(ThumbprintHash::SHA256).unwrap(), kid);
            let json = serde_json::to_value(&jwk).unwrap();
            for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
                assert!(json.get(private).is_none(), "{alg:?} JWK carries {private}");
            }
            assert_eq!(json["use"], "sig");
        }
    }

    #[test]
    fn garbage_private_keys_are_refused_without_echo() {
        for bad in [
            vec![],
            vec![0x30],
            vec![0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
            vec![0x02, 0x01, 0x00],
        ] {
            let error = PrivateKey::from_pkcs8(bad)
                .encoding_key(SigningAlg::RS256)
                .unwrap_err();
            assert_eq!(
                error.to_string(),
                "stored private key is not a valid key for its algorithm"
            );
        }
    }
}
