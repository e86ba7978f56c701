//! The per-token cost in instructions, for a deterministic comparison of the
//! warm path with the raw signature check (wall-clock benches on a shared VM
//! swing by ±10%). Run under callgrind, one path at a time:
//!
//! ```sh
//! make bench-instructions
//! ```
//!
//! Each path runs `ITERATIONS` times inside its own `#[inline(never)]`
//! function, which callgrind's `--toggle-collect` isolates from the setup.

use std::hint::black_box;
use std::sync::Arc;

use authorizer::{Authorizer, AuthorizerConfig};
use aws_lc_rs::signature::{ParsedPublicKey, RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::Algorithm;
use testkit::{JwksServer, TestKey};

const ITERATIONS: usize = 200;
const ISSUER: &str = "https://auth.bench.tollgate.test";

#[inline(never)]
fn path_warm(authorizer: &Authorizer, token: &str) {
    for _ in 0..ITERATIONS {
        assert!(black_box(authorizer.verify_with_cached_keys(black_box(token))).is_ok());
    }
}

#[inline(never)]
fn path_raw(key: &ParsedPublicKey, message: &[u8], signature: &[u8]) {
    for _ in 0..ITERATIONS {
        assert!(black_box(key.verify_sig(black_box(message), black_box(signature))).is_ok());
    }
}

#[inline(never)]
fn path_decision_cache_hit(authorizer: &Authorizer, token: &str) {
    for _ in 0..ITERATIONS {
        assert!(black_box(authorizer.cached(black_box(token), testkit::now())).is_some());
    }
}

/// Wall-clock warm/raw ratio with the two paths alternating round by round,
/// so drift from a noisy neighbour hits both alike; reports the median and
/// the best round.
fn interleaved(
    authorizer: &Authorizer,
    token: &str,
    raw: &ParsedPublicKey,
    message: &[u8],
    signature: &[u8],
) {
    let mut ratios = Vec::new();
    let mut overheads = Vec::new();
    for _ in 0..60 {
        let started = std::time::Instant::now();
        path_warm(authorizer, token);
        let warm = started.elapsed().as_secs_f64();
        let started = std::time::Instant::now();
        path_raw(raw, message, signature);
        let raw = started.elapsed().as_secs_f64();
        ratios.push(warm / raw);
        overheads.push((warm - raw) / ITERATIONS as f64 * 1e9);
    }
    ratios.sort_by(f64::total_cmp);
    overheads.sort_by(f64::total_cmp);
    println!(
        "warm/raw wall-clock: median {:.3}, best {:.3}; overhead per token: median {:.0} ns",
        ratios[ratios.len() / 2],
        ratios[0],
        overheads[overheads.len() / 2]
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let key = TestKey::generate(Algorithm::RS256, "rs256");
    let claims =
        testkit::access_claims(ISSUER, "books-api", "alice", "books:read books:write", 3600);
    let token = key.sign(&claims);
    let server = runtime.block_on(JwksServer::start(testkit::jwks(&[&key])));
    let env = std::collections::HashMap::from([
        ("JWT_ISSUER", ISSUER.to_owned()),
        ("JWKS_URI", server.url()),
        ("JWT_AUDIENCE", "books-api".to_owned()),
    ]);
    let demo = api_routes::ApiRoutes::demo().expect("the demo route table");
    let routes = authorizer::RouteScopes::from_json(&demo.route_scopes_json()).expect("routes");
    let config = AuthorizerConfig::from_lookup(|n| env.get(n).cloned(), Some(routes.into()))
        .expect("config");
    let authorizer = Authorizer::new(config, Arc::new(telemetry::DiscardSink)).expect("authorizer");
    runtime.block_on(authorizer.prewarm());
    runtime
        .block_on(authorizer.verify(&token))
        .expect("valid token");

    let (message, signature) = token.rsplit_once('.').expect("three segments");
    let signature = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
    let n = URL_SAFE_NO_PAD
        .decode(key.jwk["n"].as_str().expect("n"))
        .expect("n");
    let e = URL_SAFE_NO_PAD
        .decode(key.jwk["e"].as_str().expect("e"))
        .expect("e");
    let raw = RsaPublicKeyComponents { n, e }
        .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
        .expect("RSA key");

    match std::env::args().nth(1).as_deref() {
        Some("warm") => path_warm(&authorizer, &token),
        Some("raw") => path_raw(&raw, message.as_bytes(), &signature),
        Some("hit") => path_decision_cache_hit(&authorizer, &token),
        Some("interleaved") => {
            interleaved(&authorizer, &token, &raw, message.as_bytes(), &signature)
        }
        _ => eprintln!("usage: instruction_count warm|raw|hit|interleaved"),
    }
}
