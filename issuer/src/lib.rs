//! Tollgate issuer: login and token endpoint, signing with rotating keys kept in
//! Secrets Manager, JWKS publication and key rotation.
//!
//! Not built yet: see the issue "Issuer". The crate exists so the workspace
//! layout of DESIGN.md holds from the first commit.
