//! Hostile input never panics any parser on the request path.

use authorizer::unverified::{parse_token, SignatureBuf};
use authorizer::AuthorizerEvent;
use authorizer::JwkSet;
use authorizer::MethodArn;
use authorizer::RouteScopes;
use proptest::prelude::*;

/// Strings biased toward the characters these parsers split on.
fn structured() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just(".".to_owned()),
            Just(":".to_owned()),
            Just("/".to_owned()),
            Just("*".to_owned()),
            Just("eyJ".to_owned()),
            Just("arn:aws:execute-api:".to_owned()),
            "[A-Za-z0-9_=-]{0,12}",
            any::<char>().prop_map(String::from),
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn token_parsing_never_panics(input in structured()) {
        if let Ok(token) = parse_token(&input, &mut SignatureBuf::default()) {
            let _ = token.claims();
        }
    }

    #[test]
    fn base64_of_arbitrary_json_never_panics(header in "\\PC{0,64}", payload in "\\PC{0,128}", sig in "[A-Za-z0-9_-]{0,400}") {
        let token = format!("{}.{}.{}", testkit::b64url(&header), testkit::b64url(&payload), sig);
        if let Ok(token) = parse_token(&token, &mut SignatureBuf::default()) {
            let _ = token.claims();
        }
    }

    #[test]
    fn arn_parsing_never_panics(input in structured()) {
        if let Some(arn) = MethodArn::parse(&input) {
            prop_assert!(arn.path.starts_with('/'));
            prop_assert!(input.starts_with(arn.api_base));
        }
    }

    #[test]
    fn jwks_parsing_never_panics(input in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = JwkSet::parse(&input);
    }

    #[test]
    fn route_scopes_parsing_never_panics(input in structured()) {
        let _ = RouteScopes::from_json(&input);
        let _ = RouteScopes::from_json(&format!("{{\"GET {input}\": \"s\", \"* {input}*\": \"t\"}}"));
    }

    #[test]
    fn event_recognition_never_panics(kind in prop_oneof![Just("TOKEN"), Just("REQUEST"), Just("x")], version in prop_oneof![Just("1.0"), Just("2.0")], value in structured()) {
        let event = serde_json::json!({"type": kind, "version": version, "authorizationToken": value, "methodArn": value,
            "headers": {"authorization": value}, "identitySource": [value], "routeArn": value, "requestContext": {}});
        if let Ok(event) = AuthorizerEvent::from_json(event) {
            let _ = event.bearer_token();
            let _ = event.route_arn();
        }
    }
}
