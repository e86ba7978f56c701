//! The issuer's request bodies through its public router
//! (`issuer::router`, driven with `tower::ServiceExt::oneshot` as the
//! issuer's tests do): `POST /token` with JSON logins and OAuth forms
//! (password and client-credentials grants, client authentication by HTTP
//! Basic or in the form), `POST /revoke` (RFC 7009 forms) and `POST
//! /admin/tokens/revoke` (JSON, with or without `keys:admin`), each with
//! the fuzzer's content type, `Authorization` and `DPoP` headers. Mode 0:
//! the rest is a body from the tests (route and content type from the next
//! two bytes). Otherwise structured.
//!
//! The accounts' hashes are cheap argon2id ones, so a right guess costs
//! little; a login for an unknown name still costs the issuer's dummy
//! check at full cost, which is what bounds this target's speed.
//!
//! Asserts: no 5xx but a 503 that says when to retry; every OAuth refusal
//! is an RFC 6749 §5.2 JSON body with a known `error` and `no-store`; a
//! token is issued only when the request, read here independently (the
//! `url` crate's form parser, serde_json, base64 and percent-decoding of
//! RFC 6749 §2.3.1), names an enabled account and its secret, for that
//! account's subject and within its scopes; the admin route answers 2xx
//! only with `keys:admin`.
#![no_main]

use std::sync::{Arc, OnceLock};

use arbitrary::{Arbitrary, Unstructured};
use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use issuer::accounts::{Account, AccountKind, AccountStore, FileAccountStore};
use issuer::keys::{FileKeyStore, KeyStore};
use issuer::status::FileStatusStore;
use issuer::{IssuerConfig, IssuerService, KeySet, SigningAlg};
use lambda_http::request::RequestContext;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use tower::ServiceExt;

/// (kind, name, secret, scopes, disabled)
const ACCOUNTS: [(AccountKind, &str, &str, &str, bool); 4] = [
    (
        AccountKind::User,
        "ada",
        "correct horse",
        "books:read books:write",
        false,
    ),
    (
        AccountKind::User,
        "dora",
        "dora-password",
        "books:read",
        true,
    ),
    (
        AccountKind::Client,
        "reports",
        "s3cret:with/odd&chars=+%",
        "books:read",
        false,
    ),
    (AccountKind::Client, "ada", "a+b&c=d", "books:read", false),
];
const OAUTH_ERRORS: [&str; 6] = [
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unsupported_grant_type",
    "invalid_scope",
    "temporarily_unavailable",
];

struct Target {
    runtime: tokio::runtime::Runtime,
    router: Router,
    _dir: std::path::PathBuf,
}

fn cheap_hash(secret: &str) -> String {
    let params = Params::new(8, 1, 1, None).expect("argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(secret.as_bytes())
        .expect("hash")
        .to_string()
}

fn target() -> &'static Target {
    static TARGET: OnceLock<Target> = OnceLock::new();
    TARGET.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let dir = std::env::temp_dir().join(format!("tollgate-fuzz-issuer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        let router = runtime.block_on(async {
            let config = IssuerConfig::from_lookup(|name| match name {
                "JWT_ISSUER" => Some("https://issuer.fuzz.test".to_owned()),
                "JWT_AUDIENCE" => Some("books-api".to_owned()),
                "SIGNING_ALG" => Some("ES256".to_owned()),
                _ => None,
            })
            .expect("issuer settings");
            let accounts = Arc::new(FileAccountStore::new(dir.join("users.json")));
            for (kind, name, secret, scopes, disabled) in ACCOUNTS {
                let account = Account::new(kind, name, "unused", scopes).expect("account");
                let account = Account {
                    secret_hash: cheap_hash(secret),
                    disabled,
                    ..account
                };
                accounts.put(&account).await.expect("stored");
            }
            let keys = Arc::new(FileKeyStore::new(dir.join("keyset.json")));
            let keyset = KeySet::generate(SigningAlg::ES256, environment_now()).expect("keys");
            keys.save(&keyset, None).await.expect("saved");
            let service = IssuerService::new(config, keys, accounts)
                .with_status(Arc::new(FileStatusStore::new(dir.join("status.json"))));
            issuer::router(Arc::new(service))
        });
        Target {
            runtime,
            router,
            _dir: dir,
        }
    })
}

fn environment_now() -> u64 {
    tollgate_fuzz::stack::now()
}

#[derive(Arbitrary, Debug)]
enum Authorization {
    None,
    /// HTTP Basic of `id:secret` as RFC 6749 §2.3.1 writes it (each
    /// form-urlencoded first).
    Basic(String, String),
    /// `Basic` and base64 of this text.
    BasicText(String),
    Raw(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    route: u8,
    content_type: u8,
    authorization: Authorization,
    dpop: Option<String>,
    admin: bool,
    body: Vec<u8>,
}

const ROUTES: [&str; 4] = ["/token", "/revoke", "/admin/tokens/revoke", "/prod/token"];
const CONTENT_TYPES: [Option<&str>; 6] = [
    Some("application/x-www-form-urlencoded"),
    Some("application/json"),
    Some("application/x-www-form-urlencoded; charset=UTF-8"),
    Some("APPLICATION/JSON"),
    Some("text/plain"),
    None,
];

fn form_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The request's credentials as read here: (kind, name, secret) candidates.
fn credentials(
    route: &str,
    content_type: Option<&str>,
    authorization: Option<&str>,
    body: &[u8],
) -> Vec<(AccountKind, String, String)> {
    let mut found = Vec::new();
    if let Some(basic) = authorization
        .and_then(|a| a.split_once(' '))
        .filter(|(s, _)| s.eq_ignore_ascii_case("basic"))
    {
        let decoded = STANDARD
            .decode(basic.1.trim().trim_end_matches('='))
            .or_else(|_| {
                base64::engine::general_purpose::STANDARD_NO_PAD
                    .decode(basic.1.trim().trim_end_matches('='))
            })
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        if let Some((id, secret)) = decoded.as_deref().and_then(|d| d.split_once(':')) {
            let decode = |t: &str| {
                url::form_urlencoded::parse(format!("x={t}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
            };
            if let (Some(id), Some(secret)) = (decode(id), decode(secret)) {
                found.push((AccountKind::Client, id, secret));
            }
        }
    }
    let media = content_type
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if media == "application/json" && route.ends_with("/token") {
        if let Ok(Value::Object(login)) = serde_json::from_slice::<Value>(body) {
            if let (Some(u), Some(p)) = (
                login.get("username").and_then(Value::as_str),
                login.get("password").and_then(Value::as_str),
            ) {
                found.push((AccountKind::User, u.to_owned(), p.to_owned()));
            }
        }
    }
    if media == "application/x-www-form-urlencoded" {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
        let all = |name: &str| {
            pairs
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .collect::<Vec<_>>()
        };
        for user in all("username") {
            for password in all("password") {
                found.push((AccountKind::User, user.clone(), password));
            }
        }
        for id in all("client_id") {
            for secret in all("client_secret") {
                found.push((AccountKind::Client, id.clone(), secret));
            }
        }
    }
    found
}

fn send(request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let target = target();
    target.runtime.block_on(async {
        let response = target
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("a body");
        (status, headers, body.to_vec())
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let input = if mode == 0 {
        let [route, content_type, body @ ..] = rest else {
            return;
        };
        Input {
            route: *route,
            content_type: *content_type,
            authorization: Authorization::None,
            dpop: None,
            admin: false,
            body: body.to_vec(),
        }
    } else {
        let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(rest)) else {
            return;
        };
        input
    };
    let route = ROUTES[usize::from(input.route) % ROUTES.len()];
    let content_type = CONTENT_TYPES[usize::from(input.content_type) % CONTENT_TYPES.len()];
    let authorization = match &input.authorization {
        Authorization::None => None,
        Authorization::Basic(id, secret) => Some(format!(
            "Basic {}",
            STANDARD.encode(format!("{}:{}", form_encode(id), form_encode(secret)))
        )),
        Authorization::BasicText(text) => Some(format!("Basic {}", STANDARD.encode(text))),
        Authorization::Raw(text) => Some(text.clone()),
    };
    let mut request = Request::post(route);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    if let Some(authorization) = &authorization {
        request = request.header("authorization", authorization.as_str());
    }
    if let Some(dpop) = &input.dpop {
        request = request.header("dpop", dpop.as_str());
    }
    let Ok(mut request) = request.body(Body::from(input.body.clone())) else {
        return; // a header value http refuses never reaches the issuer
    };
    let scope = if input.admin {
        "keys:admin"
    } else {
        "books:read"
    };
    let context: lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext =
        serde_json::from_value(json!({
            "httpMethod": "POST", "stage": "prod", "identity": {"sourceIp": "192.0.2.7"},
            "authorizer": {"principalId": "root", "sub": "root", "scope": scope}
        }))
        .expect("a request context");
    request
        .extensions_mut()
        .insert(RequestContext::ApiGatewayV1(context));

    let (status, headers, body) = send(request);
    assert!(
        !status.is_server_error()
            || (status == StatusCode::SERVICE_UNAVAILABLE && headers.contains_key("retry-after")),
        "{status} for {route}: {}",
        String::from_utf8_lossy(&body)
    );
    let oauth = route.ends_with("/token") || route == "/revoke";
    if oauth && status.is_client_error() && status != StatusCode::PAYLOAD_TOO_LARGE {
        let answer: Value = serde_json::from_slice(&body).unwrap_or_else(|_| {
            panic!(
                "{status} without a JSON body: {}",
                String::from_utf8_lossy(&body)
            )
        });
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(
            OAUTH_ERRORS.contains(&error),
            "{status} error {error:?}: {answer}"
        );
        assert_eq!(
            headers.get("cache-control").map(|v| v.as_bytes()),
            Some(&b"no-store"[..])
        );
    }
    if route.ends_with("/token") && status == StatusCode::OK {
        let answer: Value = serde_json::from_slice(&body).expect("a token answer");
        let token = answer["access_token"].as_str().expect("an access token");
        let claims: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(token.split('.').nth(1).expect("a payload"))
                .expect("base64url"),
        )
        .expect("claims");
        let sub = claims["sub"].as_str().expect("sub");
        let candidates = credentials(route, content_type, authorization.as_deref(), &input.body);
        let account = ACCOUNTS.iter().find(|(kind, name, secret, _, disabled)| {
            let subject = match kind {
                AccountKind::User => name.to_string(),
                AccountKind::Client => format!("client:{name}"),
            };
            !disabled
                && subject == sub
                && candidates
                    .iter()
                    .any(|(k, n, s)| k == kind && n == name && s == secret)
        });
        let Some((_, _, _, scopes, _)) = account else {
            panic!("a token for {sub} from a request that names no such account and secret ({candidates:?}): {}", String::from_utf8_lossy(&input.body));
        };
        for scope in claims["scope"]
            .as_str()
            .unwrap_or_default()
            .split(' ')
            .filter(|s| !s.is_empty())
        {
            assert!(
                scopes.split(' ').any(|s| s == scope),
                "scope {scope} beyond the account's {scopes}"
            );
        }
    }
    if route == "/admin/tokens/revoke" && status.is_success() {
        assert!(
            input.admin,
            "the admin route answered {status} without keys:admin"
        );
    }
});
