//! API Gateway events of every kind the authorizer accepts (REST `TOKEN`,
//! REST `REQUEST`, HTTP API payload 1.0 and 2.0) through its public
//! `Authorizer::handle`, under three configurations: DPoP off with policy
//! answers; `if_bound` with HTTP API simple responses and a public base
//! URL; `required`. Mode 0: the rest is the event's raw JSON (seeds: the
//! tests' events). Otherwise structured: the event kind, a token minted
//! here (scopes, DPoP or certificate binding, or expired, or garbage), its
//! scheme and where it sits, the route, a DPoP proof built by
//! `proof::ProofSpec` and where it sits, the route key, a client
//! certificate; then the same event again.
//!
//! Asserts, for every answer: the credential the event carries is a token
//! `model` accepts; the answer has the shape its event kind and the
//! configuration ask for; a policy allows only what `ROUTE_SCOPES` grants
//! the token's scopes (the gateway's IAM evaluation agrees with the table
//! on every probe); a simple `isAuthorized: true` only for a route and
//! route key the scopes grant, with the route key in the identity sources;
//! the principal and `context.sub` are the token's `sub`; a DPoP-bound
//! token passes only in the `DPoP` scheme with exactly one proof that
//! `proof::refusal` accepts for this request, and never twice; a
//! certificate-bound token only with that certificate; a `TOKEN` event with
//! DPoP checks on is refused as misconfigured; a good bearer token with a
//! good route is answered.
#![no_main]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use authorizer::{Authorizer, AuthorizerEvent, MethodArn, Refusal, RouteScopes, Scheme};
use aws_lc_rs::digest::{digest, SHA256};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use tollgate_fuzz::keys::{self, Signer};
use tollgate_fuzz::model::{self, Expect, Window};
use tollgate_fuzz::policy::{assert_policy_within_grants, probes};
use tollgate_fuzz::proof::{self, ProofSpec, Request};
use tollgate_fuzz::stack::{self, Stack, AUDIENCE, LEEWAY};

const API_BASE: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod";
const DOMAIN: &str = "api.fuzz.test";
const PUBLIC_BASE: &str = "https://books.fuzz.test";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Off,
    IfBoundSimple,
    Required,
}

struct Target {
    stack: Stack,
    authorizers: Vec<(Mode, Authorizer)>,
    routes: RouteScopes,
    unique: AtomicU64,
}

fn target() -> &'static Target {
    static TARGET: OnceLock<Target> = OnceLock::new();
    TARGET.get_or_init(|| {
        let stack = Stack::start();
        let public = format!("[\"{PUBLIC_BASE}\"]");
        let authorizers = vec![
            (Mode::Off, stack.authorizer(&[])),
            (
                Mode::IfBoundSimple,
                stack.authorizer(&[
                    ("DPOP_MODE", "if_bound"),
                    ("HTTP_API_SIMPLE_RESPONSES", "true"),
                    ("DPOP_PUBLIC_BASE_URLS", &public),
                ]),
            ),
            (
                Mode::Required,
                stack.authorizer(&[("DPOP_MODE", "required")]),
            ),
        ];
        Target {
            stack,
            authorizers,
            routes: stack::routes(),
            unique: AtomicU64::new(0),
        }
    })
}

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Token,
    Request,
    V1,
    V2,
}

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
enum Binding {
    None,
    Dpop,
    OtherJkt,
    Cert,
}

#[derive(Arbitrary, Debug)]
enum TokenChoice {
    Good { scopes: Vec<u8>, binding: Binding },
    Expired,
    Garbage(String),
    Absent,
}

#[derive(Arbitrary, Debug)]
enum SchemeChoice {
    Bearer,
    DPoP,
    Lower,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum ArnChoice {
    Good,
    OtherStage,
    Text(String),
    Absent,
}

#[derive(Arbitrary, Debug)]
enum ProofPlacement {
    Header,
    MultiValue,
    Twice,
    JoinedWithOther,
    NotInIdentitySource,
}

#[derive(Arbitrary, Debug)]
enum RouteKey {
    Matching,
    Any,
    Default,
    Text(String),
    Absent,
}

#[derive(Arbitrary, Debug)]
struct Input {
    config: u8,
    kind: Kind,
    token: TokenChoice,
    scheme: SchemeChoice,
    /// Also put a different credential in the `Authorization` header (the
    /// identity sources must win for HTTP API events).
    decoy_header: bool,
    method: u8,
    path: Vec<u8>,
    arn: ArnChoice,
    proof: Option<(ProofSpec, ProofPlacement)>,
    route_key: RouteKey,
    route_key_in_identity: bool,
    cert: Option<Vec<u8>>,
    extra: Vec<(String, tollgate_fuzz::Json)>,
}

const SCOPES: [&str; 5] = [
    "books:read",
    "books:write",
    "keys:admin",
    "other",
    "books:read books:write",
];
const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "get",
];
const SEGMENTS: [&str; 9] = [
    "books", "42", "admin", "keys", "rotate", "tokens", "revoke", "%41", "a*b",
];

/// A client certificate as API Gateway describes it in both event shapes
/// (every member: the event types require them all).
fn client_cert(pem: &str) -> Value {
    json!({"clientCertPem": pem, "subjectDN": "CN=client", "issuerDN": "CN=ca",
        "serialNumber": "1", "validity": {"notBefore": "a", "notAfter": "b"}})
}

/// What the harness knows of the event it built, for the sender checks.
struct Built {
    event: Value,
    binding: Binding,
    method: String,
    path: String,
    cert_der: Option<Vec<u8>>,
    all_good: bool,
}

fn mint(scopes: &[u8], binding: Binding, expired: bool) -> String {
    let now = stack::now();
    let scope: Vec<&str> = scopes
        .iter()
        .map(|s| SCOPES[usize::from(*s) % SCOPES.len()])
        .collect();
    let mut claims = json!({"iss": stack::ISSUER, "sub": "alice", "aud": AUDIENCE,
        "exp": if expired { now - 3600 } else { now + 600 }, "iat": now, "scope": scope.join(" ")});
    match binding {
        Binding::None => {}
        Binding::Dpop => claims["cnf"] = json!({"jkt": keys::client_jkt()}),
        Binding::OtherJkt => claims["cnf"] = json!({"jkt": "not-the-clients-key"}),
        Binding::Cert => {
            claims["cnf"] = json!({"x5t#S256": keys::b64url(digest(&SHA256, b"fuzz certificate"))})
        }
    }
    let header = json!({"alg": "EdDSA", "kid": keys::ED_KID, "typ": "at+jwt"});
    keys::sign_compact(&header.to_string(), &claims.to_string(), Signer::Ed)
}

fn build(input: &Input, unique: u64) -> Built {
    let method = METHODS[usize::from(input.method) % METHODS.len()].to_owned();
    let segments: Vec<&str> = input
        .path
        .iter()
        .take(6)
        .map(|s| SEGMENTS[usize::from(*s) % SEGMENTS.len()])
        .collect();
    let path = format!("/{}", segments.join("/"));
    let (token, binding) = match &input.token {
        TokenChoice::Good { scopes, binding } => (Some(mint(scopes, *binding, false)), *binding),
        TokenChoice::Expired => (Some(mint(&[0], Binding::None, true)), Binding::None),
        TokenChoice::Garbage(text) => (Some(text.clone()), Binding::None),
        TokenChoice::Absent => (None, Binding::None),
    };
    let scheme = match &input.scheme {
        SchemeChoice::Bearer => "Bearer".to_owned(),
        SchemeChoice::DPoP => "DPoP".to_owned(),
        SchemeChoice::Lower => "bearer".to_owned(),
        SchemeChoice::Other(s) => s.clone(),
    };
    let credential = token.as_ref().map(|t| format!("{scheme} {t}"));
    let arn = match &input.arn {
        ArnChoice::Good => Some(format!("{API_BASE}/{method}{path}")),
        ArnChoice::OtherStage => Some(format!(
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/test/{method}{path}"
        )),
        ArnChoice::Text(text) => Some(text.clone()),
        ArnChoice::Absent => None,
    };
    let uri = format!("https://{DOMAIN}/prod{path}");
    let proofs: Vec<String> = match &input.proof {
        None => Vec::new(),
        Some((spec, placement)) => {
            let proof = spec.build(&method, &uri, token.as_deref(), unique);
            match placement {
                ProofPlacement::Twice => vec![proof.clone(), proof],
                ProofPlacement::JoinedWithOther => vec![format!("{proof}, other")],
                _ => vec![proof],
            }
        }
    };
    let route_key = match &input.route_key {
        RouteKey::Matching => Some(format!("{method} {path}")),
        RouteKey::Any => Some(format!("ANY {path}")),
        RouteKey::Default => Some("$default".to_owned()),
        RouteKey::Text(text) => Some(text.clone()),
        RouteKey::Absent => None,
    };
    let proof_in_identity = !matches!(&input.proof, Some((_, ProofPlacement::NotInIdentitySource)));
    let mut identity: Vec<String> = credential.iter().cloned().collect();
    if proof_in_identity {
        identity.extend(proofs.iter().cloned());
    }
    if input.route_key_in_identity {
        identity.extend(route_key.iter().cloned());
    }
    let mut headers = serde_json::Map::new();
    let decoy = format!("Bearer {}", mint(&[2], Binding::None, false));
    let authorization = if input.decoy_header {
        Some(decoy)
    } else {
        credential.clone()
    };
    if let Some(authorization) = &authorization {
        headers.insert("Authorization".into(), json!(authorization));
    }
    if let Some(last) = proofs.last() {
        headers.insert("DPoP".into(), json!(last));
    }
    let mut multi = serde_json::Map::new();
    if let Some(authorization) = &authorization {
        multi.insert("Authorization".into(), json!([authorization]));
    }
    if !proofs.is_empty() && !matches!(&input.proof, Some((_, ProofPlacement::Header))) {
        multi.insert("DPoP".into(), json!(proofs));
    }
    let cert_der = input.cert.clone();
    let cert_pem = cert_der.as_ref().map(|der| {
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            STANDARD.encode(der)
        )
    });
    let mut event = match input.kind {
        Kind::Token => json!({"type": "TOKEN", "authorizationToken": credential, "methodArn": arn}),
        Kind::Request | Kind::V1 => {
            let mut event = json!({"type": "REQUEST", "methodArn": arn, "resource": path, "path": path,
                "httpMethod": method, "headers": headers, "multiValueHeaders": multi,
                "requestContext": {"path": format!("/prod{path}"), "stage": "prod", "domainName": DOMAIN,
                    "identity": {"sourceIp": "192.0.2.1", "clientCert": cert_pem.as_ref().map(|pem| client_cert(pem))},
                    "httpMethod": method, "apiId": "abc123"}});
            if input.kind == Kind::V1 {
                event["version"] = json!("1.0");
                event["identitySource"] = json!(identity.join(","));
            }
            event
        }
        Kind::V2 => {
            let mut v2_headers = serde_json::Map::new();
            for (name, value) in &headers {
                v2_headers.insert(name.to_ascii_lowercase(), value.clone());
            }
            if proofs.len() > 1 {
                v2_headers.insert("dpop".into(), json!(proofs.join(",")));
            }
            json!({"version": "2.0", "type": "REQUEST", "routeArn": arn, "identitySource": identity,
                "routeKey": route_key, "rawPath": format!("/prod{path}"), "headers": v2_headers,
                "requestContext": {"accountId": "123456789012", "apiId": "abc123", "domainName": DOMAIN,
                    "domainPrefix": "api", "http": {"method": method, "path": format!("/prod{path}"),
                    "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "fuzz"},
                    "requestId": "r", "routeKey": route_key, "stage": "prod", "time": "t", "timeEpoch": 0,
                    "authentication": cert_pem.as_ref().map(|pem| json!({"clientCert": client_cert(pem)}))}})
        }
    };
    for (name, value) in &input.extra {
        event[name.as_str()] = value.value();
    }
    let all_good = matches!(
        input.token,
        TokenChoice::Good {
            binding: Binding::None,
            ..
        }
    ) && matches!(input.scheme, SchemeChoice::Bearer | SchemeChoice::Lower)
        && matches!(input.arn, ArnChoice::Good)
        && !input.decoy_header
        // A proof the harness tampered with may hold bytes no HTTP header
        // can (the event then does not parse, and is refused): leave it out.
        && input.proof.is_none()
        && input.extra.is_empty()
        && METHODS[..7].contains(&method.as_str());
    Built {
        event,
        binding,
        method,
        path,
        cert_der,
        all_good,
    }
}

/// The scopes a token's claims grant under the default mapping (`scope`
/// split on spaces, `scp` and array elements whole), read here.
fn scopes_of(token: &str) -> Vec<String> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let payload = token.split('.').nth(1).unwrap_or_default();
    let claims: Value = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default();
    let mut scopes = Vec::new();
    for name in ["scope", "scp"] {
        match &claims[name] {
            Value::String(spaced) => scopes.extend(
                spaced
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            ),
            Value::Array(items) => scopes.extend(
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            ),
            _ => {}
        }
    }
    scopes
}

fn claim(token: &str, pointer: &str) -> Option<String> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let payload = token.split('.').nth(1)?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    claims.pointer(pointer)?.as_str().map(str::to_owned)
}

/// Every assertion on one answer. `built` is what the harness knows of a
/// structured event.
fn check_answer(
    mode: Mode,
    event_json: &Value,
    answer: &Value,
    built: Option<&Built>,
    window: Window,
) {
    let target = target();
    let event = AuthorizerEvent::from_json(event_json.clone()).expect("an answered event parses");
    let credential = event
        .credential()
        .expect("an answered event carries a credential");
    let token = credential.token;
    let expect = Expect {
        issuer: stack::ISSUER,
        audience: AUDIENCE,
        leeway: LEEWAY,
        required_typ: None,
        status_lists_served: false,
    };
    if let Some(why) = model::refusal(token, &expect, window) {
        panic!("answered with a token that must be refused ({why}): {event_json}");
    }
    let jkt = claim(token, "/cnf/jkt");
    if mode != Mode::Off {
        assert_eq!(
            jkt.is_some(),
            credential.scheme == Scheme::DPoP,
            "scheme and binding disagree: {event_json}"
        );
        if mode == Mode::Required {
            assert!(
                jkt.is_some(),
                "DPOP_MODE=required answered an unbound token"
            );
        }
    }
    if let Some(thumbprint) = claim(token, "/cnf/x5t#S256") {
        let der = built.and_then(|b| b.cert_der.as_deref());
        if let Some(built) = built {
            assert_eq!(built.binding, Binding::Cert);
        }
        if built.is_some() {
            let own = der.map(|der| keys::b64url(digest(&SHA256, der)));
            assert_eq!(
                own.as_deref(),
                Some(thumbprint.as_str()),
                "certificate binding: {event_json}"
            );
        }
    }
    if let (Some(jkt), Some(built), true) = (&jkt, built, mode != Mode::Off) {
        let proofs = event.dpop_proofs();
        assert_eq!(proofs.len(), 1, "exactly one proof: {event_json}");
        let uris = [
            format!("https://{DOMAIN}/prod{}", built.path),
            format!("{PUBLIC_BASE}{}", built.path),
        ];
        let request = Request {
            method: &built.method,
            uris: &uris,
            token: Some(token),
            bound_jkt: Some(jkt),
            window,
            max_age: 60,
        };
        if let Err(why) = proof::refusal(proofs[0], &request) {
            panic!("answered with a proof that must be refused ({why}): {event_json}");
        }
    }
    let scopes_owned = scopes_of(token);
    let scopes: Vec<&str> = scopes_owned.iter().map(String::as_str).collect();
    let arn = event
        .route_arn()
        .and_then(MethodArn::parse)
        .expect("an answered event has a route ARN");
    let simple = mode == Mode::IfBoundSimple && matches!(event, AuthorizerEvent::HttpApiV2(_));
    if simple {
        let authorized = answer["isAuthorized"].as_bool().expect("a simple answer");
        if authorized {
            assert!(
                target.routes.permits(arn.method, arn.path, &scopes),
                "isAuthorized beyond the scopes: {event_json}"
            );
            let route_key = event.route_key().expect("a route key");
            assert_eq!(
                event.route_key_in_identity_source(),
                Some(true),
                "{event_json}"
            );
            assert!(
                target.routes.permits_route_key(route_key, &scopes),
                "{event_json}"
            );
        }
    } else {
        let policy = &answer["policyDocument"];
        let extra = [arn.path.to_owned()];
        assert_policy_within_grants(
            &target.routes,
            arn.api_base,
            &scopes,
            policy,
            &probes(&target.routes, &extra),
        );
        let sub = claim(token, "/sub");
        assert_eq!(answer["principalId"].as_str(), sub.as_deref(), "{answer}");
    }
    assert_eq!(
        answer["context"]["sub"].as_str(),
        claim(token, "/sub").as_deref()
    );
    for (name, value) in answer["context"].as_object().into_iter().flatten() {
        assert!(
            value.is_string(),
            "context {name} is not a string: {answer}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode_byte, rest)) = data.split_first() else {
        return;
    };
    let target = target();
    let (built, config) = if mode_byte == 0 {
        let Some((&config, json)) = rest.split_first() else {
            return;
        };
        let Ok(event) = serde_json::from_slice::<Value>(json) else {
            return;
        };
        (
            Built {
                event,
                binding: Binding::None,
                method: String::new(),
                path: String::new(),
                cert_der: None,
                all_good: false,
            },
            config,
        )
    } else {
        let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(rest)) else {
            return;
        };
        let unique = target.unique.fetch_add(1, Ordering::Relaxed);
        (build(&input, unique), input.config)
    };
    let structured = mode_byte != 0;
    let (mode, authorizer) = &target.authorizers[usize::from(config) % target.authorizers.len()];
    let is_token_event = built.event["type"]
        .as_str()
        .is_some_and(|t| t.eq_ignore_ascii_case("TOKEN"));
    let before = stack::now();
    let answer = target
        .stack
        .runtime
        .block_on(authorizer.handle(built.event.clone()));
    let window = Window {
        before,
        after: stack::now(),
    };
    match &answer {
        Ok(answer) => {
            assert!(
                !(is_token_event && *mode != Mode::Off),
                "a TOKEN event answered with DPoP checks on"
            );
            check_answer(
                *mode,
                &built.event,
                answer,
                structured.then_some(&built),
                window,
            );
            // The token the event was answered for (the harness may have
            // put a decoy in the Authorization header of a REST event).
            let answered = AuthorizerEvent::from_json(built.event.clone())
                .ok()
                .and_then(|e| e.credential().map(|c| c.token.to_owned()))
                .unwrap_or_default();
            if *mode != Mode::Off && claim(&answered, "/cnf/jkt").is_some() {
                let again = target
                    .stack
                    .runtime
                    .block_on(authorizer.handle(built.event.clone()));
                assert!(
                    again.is_err(),
                    "a DPoP proof accepted twice: {}",
                    built.event
                );
            }
        }
        Err(Refusal::Misconfigured(_)) => assert!(is_token_event && *mode != Mode::Off),
        Err(Refusal::Unauthorized) => {
            if structured && *mode == Mode::Off && built.all_good {
                panic!(
                    "a good bearer token on a good route was refused: {}",
                    built.event
                );
            }
        }
    }
});
