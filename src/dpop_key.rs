//! A client's DPoP key, for `tollgate token --dpop-key` and `tollgate dpop
//! proof`: an ES256 (P-256) key in a PKCS#8 PEM file, made on first use
//! (mode 0600, never through a symbolic link), and the proofs it signs
//! (RFC 9449 §4.2).

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Value};

const PEM_LABEL: &str = "PRIVATE KEY";

/// Why a key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DpopKeyError {
    /// The file could not be read or written.
    #[error("DPoP key file {path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        error: std::io::Error,
    },
    /// The file holds no P-256 PKCS#8 key.
    #[error("DPoP key file {0} holds no P-256 private key (PKCS#8 PEM)")]
    NotAKey(String),
    /// The system's randomness failed.
    #[error("no randomness for the DPoP key")]
    Randomness,
}

/// An ES256 DPoP key.
pub struct DpopKey {
    pair: EcdsaKeyPair,
    jwk: Value,
}

impl DpopKey {
    /// The key in `path`, made there first if the file does not exist.
    pub fn load_or_create(path: &Path) -> Result<Self, DpopKeyError> {
        let io = |error| DpopKeyError::Io {
            path: path.display().to_string(),
            error,
        };
        match std::fs::read_to_string(path) {
            Ok(pem) => Self::from_pem(&pem)
                .ok_or_else(|| DpopKeyError::NotAKey(path.display().to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let pkcs8 = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                    .and_then(|pair| pair.to_pkcs8v1())
                    .map_err(|_| DpopKeyError::Randomness)?;
                let mut file = std::fs::OpenOptions::new()
                    .create_new(true)
                    .write(true)
                    .mode(0o600)
                    .custom_flags(libc::O_NOFOLLOW)
                    .open(path)
                    .map_err(io)?;
                file.write_all(pem(pkcs8.as_ref()).as_bytes()).map_err(io)?;
                Self::from_pkcs8(pkcs8.as_ref())
                    .ok_or_else(|| DpopKeyError::NotAKey(path.display().to_string()))
            }
            Err(e) => Err(io(e)),
        }
    }

    fn from_pem(text: &str) -> Option<Self> {
        let (_, rest) = text.split_once(&format!("-----BEGIN {PEM_LABEL}-----"))?;
        let (body, _) = rest.split_once(&format!("-----END {PEM_LABEL}-----"))?;
        let der: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        Self::from_pkcs8(&STANDARD.decode(der).ok()?)
    }

    fn from_pkcs8(der: &[u8]) -> Option<Self> {
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der).ok()?;
        // The public key is the uncompressed point 04 || x || y.
        let point = pair.public_key().as_ref();
        let (x, y) = point.get(1..33).zip(point.get(33..65))?;
        let jwk = json!({"kty": "EC", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y)});
        Some(Self { pair, jwk })
    }

    /// The public JWK a proof carries.
    pub fn public_jwk(&self) -> &Value {
        &self.jwk
    }

    /// A fresh proof for `method` `url` (its query and fragment left out),
    /// with `ath` when `token` is given.
    pub fn proof(
        &self,
        method: &str,
        url: &str,
        token: Option<&str>,
    ) -> Result<String, DpopKeyError> {
        let mut jti = [0u8; 16];
        aws_lc_rs::rand::fill(&mut jti).map_err(|_| DpopKeyError::Randomness)?;
        let htu = dpop::htu::without_query(url);
        let mut claims = json!({"jti": URL_SAFE_NO_PAD.encode(jti), "htm": method, "htu": htu,
            "iat": environment::unix_now()});
        if let Some(token) = token {
            claims["ath"] = json!(dpop::access_token_hash(token));
        }
        let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk});
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .pair
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .map_err(|_| DpopKeyError::Randomness)?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        ))
    }
}

/// PKCS#8 DER as PEM, 64 characters a line.
fn pem(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .filter_map(|chunk| std::str::from_utf8(chunk).ok())
        .collect();
    format!(
        "-----BEGIN {PEM_LABEL}-----\n{}\n-----END {PEM_LABEL}-----\n",
        lines.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_key_is_made_once_kept_private_and_signs_proofs_the_checks_accept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dpop.pem");
        let key = DpopKey::load_or_create(&path).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let again = DpopKey::load_or_create(&path).unwrap();
        assert_eq!(
            key.public_jwk(),
            again.public_jwk(),
            "the same key, read back"
        );

        let checker =
            dpop::DpopSettings::default().checker(Arc::new(dpop::MemoryReplayStore::new()));
        let url = "https://api.example.com/books?limit=2";
        let proof = key.proof("GET", url, Some("the-token")).unwrap();
        let uris = ["https://api.example.com/books".to_owned()];
        let request = dpop::ProofRequest {
            method: "GET",
            uris: &uris,
            access_token: Some("the-token"),
            bound_jkt: None,
            now: environment::unix_now(),
        };
        let verified = checker.check(&proof, &request).await.unwrap();
        assert_eq!(
            verified.htu, "https://api.example.com/books",
            "no query in htu"
        );
        let _ = Duration::ZERO;
        std::fs::write(dir.path().join("bad.pem"), "not a key").unwrap();
        assert!(matches!(
            DpopKey::load_or_create(&dir.path().join("bad.pem")),
            Err(DpopKeyError::NotAKey(_))
        ));
    }
}
