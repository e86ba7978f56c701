//! Verification speed against the raw crypto floor (docs/benchmarks.md;
//! the ids are in docs/reference.md).
//!
//! Ids (fixed by contract, compared run to run):
//! - `verify/{RS256,PS256,ES256,EdDSA}/warm`: `Authorizer::verify_with_cached_keys`,
//!   the whole per-token path with the key already parsed and cached, no decision cache.
//! - `verify/RS256/warm+status`: the warm RS256 path for a token with a
//!   `status.status_list` claim, checked against its list as cached (a bit lookup).
//! - `verify/ES256/warm+dpop`: the warm ES256 path for a DPoP-bound token
//!   plus its fresh ES256 proof checked (RFC 9449 §4.3, replay store in
//!   memory): what the authorizer does per DPoP request, proofs signed
//!   outside the measurement.
//! - `verify/RS256/cold`: the same path, but the key is parsed from its JWK every time.
//! - `decision_cache/hit`: a repeat of a token already verified.
//! - `baseline/jsonwebtoken/RS256`: jsonwebtoken's `decode` with a prepared `DecodingKey`.
//! - `baseline/aws-lc-raw/RS256`: one aws-lc-rs signature check with a pre-parsed key (the floor).
//!
//! Every path is run once and asserted to succeed before it is measured, so a
//! broken setup panics instead of benchmarking an error path.

use std::hint::black_box;
use std::sync::Arc;

use authorizer::unverified::{parse_token, SignatureBuf};
use authorizer::VerifyingKey;
use authorizer::{Authorizer, AuthorizerConfig};
use aws_lc_rs::signature::{ParsedPublicKey, RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use testkit::{JwksServer, TestKey};

const ISSUER: &str = "https://auth.bench.tollgate.test";
const AUDIENCE: &str = "books-api";
const SUBJECT: &str = "alice";
const SCOPE: &str = "books:read books:write";
/// Tokens stay valid for the whole run.
const TOKEN_TTL_SECONDS: u64 = 3600;
/// The authorizer's default `JWT_LEEWAY_SECONDS`, used by every path.
const LEEWAY_SECONDS: u64 = 30;
/// Keys stay fresh in the authorizer's cache far longer than any bench run,
/// so the warm path never turns into `UnknownKid` halfway through.
const JWKS_MAX_AGE_SECONDS: u64 = 86_400;
/// The status list of the `warm+status` token, and its entry there.
const STATUS_LIST_PATH: &str = "/statuslists/0";
const STATUS_INDEX: u64 = 4711;

/// One signing key and a token it signed.
struct Signed {
    key: TestKey,
    token: String,
}

impl Signed {
    fn new(alg: Algorithm, kid: &str) -> Self {
        let key = TestKey::generate(alg, kid);
        let claims = testkit::access_claims(ISSUER, AUDIENCE, SUBJECT, SCOPE, TOKEN_TTL_SECONDS);
        let token = key.sign(&claims);
        Self { key, token }
    }
}

/// Everything the benches share. Field order is drop order: the authorizer
/// and the JWKS server go before the runtime they ran on.
struct Fixture {
    authorizer: Authorizer,
    _server: JwksServer,
    runtime: tokio::runtime::Runtime,
    rs256: Signed,
    /// An RS256 token with a status claim (its list cached fresh).
    rs256_status: String,
    ps256: Signed,
    es256: Signed,
    eddsa: Signed,
}

impl Fixture {
    fn new() -> Self {
        let rs256 = Signed::new(Algorithm::RS256, "bench-rs256");
        let ps256 = Signed::new(Algorithm::PS256, "bench-ps256");
        let es256 = Signed::new(Algorithm::ES256, "bench-es256");
        let eddsa = Signed::new(Algorithm::EdDSA, "bench-eddsa");
        let jwks = testkit::jwks(&[&rs256.key, &ps256.key, &es256.key, &eddsa.key]);
        let status_uri = format!("{ISSUER}{STATUS_LIST_PATH}");
        let mut claims =
            testkit::access_claims(ISSUER, AUDIENCE, SUBJECT, SCOPE, TOKEN_TTL_SECONDS);
        claims["status"] =
            serde_json::json!({"status_list": {"idx": STATUS_INDEX, "uri": status_uri}});
        let rs256_status = rs256.key.sign(&claims);
        let list_token = status_list_token(&rs256.key, &status_uri);

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let (server, authorizer) = runtime.block_on(async {
            let server = JwksServer::start(jwks).await;
            server.set_cache_control(Some(&format!("public, max-age={JWKS_MAX_AGE_SECONDS}")));
            server.set_document(STATUS_LIST_PATH, status_list::MEDIA_TYPE, Some(&list_token));
            let jwks_uri = server.url();
            let mut config = AuthorizerConfig::from_lookup(
                |name| match name {
                    "JWT_ISSUER" => Some(ISSUER.to_owned()),
                    "JWKS_URI" => Some(jwks_uri.clone()),
                    "JWT_AUDIENCE" => Some(AUDIENCE.to_owned()),
                    "JWKS_MAX_AGE_SECONDS" => Some(JWKS_MAX_AGE_SECONDS.to_string()),
                    "STATUS_LIST_MAX_AGE_SECONDS" => Some(JWKS_MAX_AGE_SECONDS.to_string()),
                    "JWT_LEEWAY_SECONDS" => Some(LEEWAY_SECONDS.to_string()),
                    _ => None,
                },
                Some(demo_routes()),
            )
            .expect("authorizer config");
            // The issuer's lists are served by the loopback server.
            config.issuers[0].status_lists_served_at = Some(server.base_url());
            let authorizer =
                Authorizer::new(config, Arc::new(telemetry::DiscardSink)).expect("authorizer");
            for (issuer, result) in authorizer.prewarm().await {
                let count = result.unwrap_or_else(|e| panic!("prewarm of {issuer} failed: {e}"));
                assert_eq!(count, 4, "every bench key is in the cache");
            }
            // The list is fetched once, as a warm authorizer holds it.
            authorizer
                .verify(&rs256_status)
                .await
                .unwrap_or_else(|e| panic!("warm+status: first verification failed: {e:?}"));
            (server, authorizer)
        });
        Self {
            authorizer,
            _server: server,
            runtime,
            rs256,
            rs256_status,
            ps256,
            es256,
            eddsa,
        }
    }
}

/// A status list token for `uri`: 65536 one-bit entries, a few revoked
/// (not the bench token's), signed by `key` and fresh for a day.
fn status_list_token(key: &TestKey, uri: &str) -> String {
    let mut list = status_list::StatusList::new(status_list::Bits::One, 1 << 16);
    for idx in [1, 99, 4710, 4712, 60_000] {
        list.set(idx, status_list::INVALID)
            .expect("index in the list");
    }
    let now = testkit::now();
    let mut header = key.header();
    header.typ = Some(status_list::TYP.to_owned());
    key.sign_with_header(
        &header,
        &serde_json::json!({"sub": uri, "iat": now, "exp": now + JWKS_MAX_AGE_SECONDS,
            "ttl": JWKS_MAX_AGE_SECONDS, "status_list": {"bits": 1, "lst": list.encode()}}),
    )
}

/// The cold path: the key is parsed from its JWK, then the token is parsed,
/// its issuer and `kid` matched, its signature checked and its claims validated.
fn verify_cold(
    jwk_json: &str,
    token: &str,
    audiences: &[String],
    now: u64,
) -> Result<String, String> {
    let key = VerifyingKey::from_jwk_json(jwk_json).map_err(|e| e.to_string())?;
    let mut signature = SignatureBuf::default();
    let parsed = parse_token(token, &mut signature).map_err(|e| e.to_string())?;
    let claims = parsed.claims().map_err(|e| e.to_string())?;
    if claims.iss.as_deref() != Some(ISSUER) {
        return Err("untrusted issuer".to_owned());
    }
    if parsed.kid != key.kid() {
        return Err("unknown kid".to_owned());
    }
    if !key.verify(parsed.alg, parsed.signing_input, parsed.signature()) {
        return Err("bad signature".to_owned());
    }
    let checks = authorizer::unverified::ClaimChecks {
        audiences,
        leeway: LEEWAY_SECONDS,
        allow_id_tokens: false,
    };
    claims.validate(&checks, now).map_err(|e| e.to_string())?;
    Ok(claims.sub.as_deref().unwrap_or_default().to_owned())
}

fn verify(c: &mut Criterion, fx: &Fixture) {
    let mut group = c.benchmark_group("verify");
    for (name, signed) in [
        ("RS256/warm", &fx.rs256),
        ("PS256/warm", &fx.ps256),
        ("ES256/warm", &fx.es256),
        ("EdDSA/warm", &fx.eddsa),
    ] {
        let verified = fx
            .authorizer
            .verify_with_cached_keys(&signed.token)
            .unwrap_or_else(|e| panic!("{name}: warm verification failed: {e:?}"));
        assert_eq!(verified.sub, SUBJECT);
        assert_eq!(verified.kid, signed.key.kid);
        group.bench_function(name, |b| {
            b.iter(|| {
                fx.authorizer
                    .verify_with_cached_keys(black_box(&signed.token))
            })
        });
    }

    let verified = fx
        .authorizer
        .verify_with_cached_keys(&fx.rs256_status)
        .unwrap_or_else(|e| panic!("RS256/warm+status: verification failed: {e:?}"));
    assert_eq!(
        verified.status_list().map(|(_, idx)| idx),
        Some(STATUS_INDEX)
    );
    group.bench_function("RS256/warm+status", |b| {
        b.iter(|| {
            fx.authorizer
                .verify_with_cached_keys(black_box(&fx.rs256_status))
        })
    });

    verify_dpop(&mut group, fx);

    let jwk_json = fx.rs256.key.jwk.to_string();
    let token = &fx.rs256.token;
    let audiences = vec![AUDIENCE.to_owned()];
    let sub = verify_cold(&jwk_json, token, &audiences, testkit::now())
        .unwrap_or_else(|e| panic!("RS256/cold: verification failed: {e}"));
    assert_eq!(sub, SUBJECT);
    group.bench_function("RS256/cold", |b| {
        b.iter(|| {
            verify_cold(
                black_box(&jwk_json),
                black_box(token),
                black_box(&audiences),
                testkit::now(),
            )
        })
    });
    group.finish();
}

/// `ES256/warm+dpop`: a bound ES256 token verified with its key cached,
/// then a fresh proof of the client's ES256 key checked for the request.
fn verify_dpop(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    fx: &Fixture,
) {
    const URL: &str = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/books";
    let client = testkit::dpop::ProofKey::generate(Algorithm::ES256);
    let mut claims = testkit::access_claims(ISSUER, AUDIENCE, SUBJECT, SCOPE, TOKEN_TTL_SECONDS);
    claims["cnf"] = serde_json::json!({"jkt": client.thumbprint()});
    let token = fx.es256.key.sign(&claims);
    // More proofs than a bench run checks a minute: none is forgotten.
    let replay = Arc::new(dpop::MemoryReplayStore::with_capacity(10_000_000));
    let checker = dpop::DpopSettings::default().checker(replay);
    let uris = [URL.to_owned()];
    let check = |proof: &str| {
        let verified = fx.authorizer.verify_with_cached_keys(&token)?;
        let request = dpop::ProofRequest {
            method: "GET",
            uris: &uris,
            access_token: Some(&token),
            bound_jkt: verified.binding.jkt.as_deref(),
            now: testkit::now(),
        };
        fx.runtime
            .block_on(checker.check(proof, &request))
            .map_err(|_| authorizer::VerifyError::BadSignature)
    };
    check(&client.proof("GET", URL, Some(&token)))
        .unwrap_or_else(|e| panic!("ES256/warm+dpop: the first proof failed: {e:?}"));
    group.bench_function("ES256/warm+dpop", |b| {
        b.iter_batched(
            || client.proof("GET", URL, Some(&token)),
            |proof| check(black_box(&proof)),
            BatchSize::SmallInput,
        )
    });
}

fn decision_cache(c: &mut Criterion, fx: &Fixture) {
    let token = &fx.rs256.token;
    let verified = fx
        .runtime
        .block_on(fx.authorizer.verify(token))
        .unwrap_or_else(|e| panic!("decision_cache: verification failed: {e:?}"));
    let hit = fx
        .authorizer
        .cached(token, testkit::now())
        .expect("decision_cache: a verified token is a hit");
    assert!(
        Arc::ptr_eq(&hit, &verified),
        "the hit is the cached decision"
    );

    let mut group = c.benchmark_group("decision_cache");
    // The clock read is part of a hit, as in `Authorizer::verify`.
    group.bench_function("hit", |b| {
        b.iter(|| fx.authorizer.cached(black_box(token), testkit::now()))
    });
    group.finish();
}

fn baseline(c: &mut Criterion, fx: &Fixture) {
    let token = &fx.rs256.token;
    let jwk = &fx.rs256.key.jwk;
    let n = jwk["n"].as_str().expect("JWK n");
    let e = jwk["e"].as_str().expect("JWK e");

    // jsonwebtoken, key and validation prepared once, checks as close to the
    // authorizer's as it allows.
    let decoding_key = DecodingKey::from_rsa_components(n, e).expect("DecodingKey");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[AUDIENCE]);
    validation.set_issuer(&[ISSUER]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = LEEWAY_SECONDS;
    let decoded = jsonwebtoken::decode::<serde_json::Value>(token, &decoding_key, &validation)
        .expect("jsonwebtoken/RS256: decode failed");
    assert_eq!(decoded.claims["sub"], SUBJECT);

    // The floor: the key parsed once, the signature decoded once, one check.
    let n = URL_SAFE_NO_PAD.decode(n).expect("n is base64url");
    let e = URL_SAFE_NO_PAD.decode(e).expect("e is base64url");
    let parsed: ParsedPublicKey = RsaPublicKeyComponents {
        n: &n[..],
        e: &e[..],
    }
    .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
    .expect("RSA public key");
    let (signing_input, signature_b64) = token.rsplit_once('.').expect("three segments");
    let signature = URL_SAFE_NO_PAD
        .decode(signature_b64)
        .expect("signature is base64url");
    let signing_input = signing_input.as_bytes();
    parsed
        .verify_sig(signing_input, &signature)
        .expect("aws-lc-raw/RS256: signature check failed");

    let mut group = c.benchmark_group("baseline");
    group.bench_function("jsonwebtoken/RS256", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<serde_json::Value>(
                black_box(token),
                black_box(&decoding_key),
                black_box(&validation),
            )
        })
    });
    group.bench_function("aws-lc-raw/RS256", |b| {
        b.iter(|| black_box(&parsed).verify_sig(black_box(signing_input), black_box(&signature)))
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let fx = Fixture::new();
    verify(c, &fx);
    decision_cache(c, &fx);
    baseline(c, &fx);
}

criterion_group!(verify_benches, benches);
criterion_main!(verify_benches);

/// The demo API's route table with its rules (the `authorizer` binary's
/// default).
fn demo_routes() -> authorizer::RouteTable {
    let demo = api_routes::ApiRoutes::demo().expect("the demo route table");
    authorizer::RouteTable::from_json(
        &demo.route_scopes_json(),
        demo.route_rules_json().as_deref(),
    )
    .expect("the demo ROUTE_SCOPES and ROUTE_RULES")
}
