//! Test and bench support for Tollgate: signing keys of every supported
//! algorithm, token minting, and a loopback JWKS server that can misbehave.
//!
//! Everything here is for tests and benches; no production crate depends on it.

pub mod jwks_server;
pub mod keys;

pub use jwks_server::{JwksServer, ServerMode};
pub use keys::{b64url, jwks, TestKey};

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Typical access-token claims (about 300 bytes signed with RS256 header).
pub fn access_claims(
    iss: &str,
    aud: &str,
    sub: &str,
    scope: &str,
    ttl_seconds: u64,
) -> serde_json::Value {
    let now = now();
    serde_json::json!({
        "iss": iss,
        "sub": sub,
        "aud": aud,
        "exp": now + ttl_seconds,
        "iat": now,
        "nbf": now,
        "jti": "01JD7Q2Z6W4N8M5K3H1G0F9E8D",
        "scope": scope,
    })
}
