//! IAM policy evaluation as API Gateway does it for an authorizer's answer:
//! a request's `methodArn` is allowed when some Allow statement matches it
//! and no Deny statement does (Deny wins); `*` and `?` are wildcards.
//! Action names match case-insensitively, as IAM's do; resource ARNs match
//! with their case.

use serde_json::Value;

/// What a policy says about one ARN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Some Allow statement matches and no Deny does.
    Allow,
    /// An explicit Deny, or no Allow at all.
    Deny,
}

/// The policy document was not shaped like an IAM policy (API Gateway: 500).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed policy document: {0}")]
pub struct MalformedPolicy(pub &'static str);

/// `Action` must cover `execute-api:Invoke`; `Resource` may be a string or a list.
pub fn evaluate(policy: &Value, method_arn: &str) -> Result<Verdict, MalformedPolicy> {
    let statements = match policy.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect::<Vec<_>>(),
        Some(single @ Value::Object(_)) => vec![single],
        _ => return Err(MalformedPolicy("Statement")),
    };
    let mut allowed = false;
    for statement in statements {
        let effect = statement
            .get("Effect")
            .and_then(Value::as_str)
            .ok_or(MalformedPolicy("Effect"))?;
        let actions = strings(statement.get("Action")).ok_or(MalformedPolicy("Action"))?;
        let resources = strings(statement.get("Resource")).ok_or(MalformedPolicy("Resource"))?;
        let covers_invoke = actions
            .iter()
            .any(|a| wildcard_match(&a.to_ascii_lowercase(), "execute-api:invoke"));
        let matches = covers_invoke && resources.iter().any(|r| wildcard_match(r, method_arn));
        match effect {
            "Deny" if matches => return Ok(Verdict::Deny),
            "Allow" if matches => allowed = true,
            "Allow" | "Deny" => {}
            _ => return Err(MalformedPolicy("Effect")),
        }
    }
    Ok(if allowed {
        Verdict::Allow
    } else {
        Verdict::Deny
    })
}

fn strings(value: Option<&Value>) -> Option<Vec<&str>> {
    match value? {
        Value::String(s) => Some(vec![s.as_str()]),
        Value::Array(items) => items.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

/// IAM wildcard match: `*` any run of characters, `?` exactly one.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    authorizer::glob_matches(pattern.as_bytes(), text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:execute-api:local:000000000000:tollgate/local/GET/books/42";

    #[test]
    fn wildcards() {
        assert!(wildcard_match("arn:*/GET/books/*", ARN));
        assert!(wildcard_match(
            "arn:aws:execute-api:local:000000000000:tollgate/local/GET/books/4?",
            ARN
        ));
        assert!(!wildcard_match(
            "arn:aws:execute-api:local:000000000000:tollgate/local/GET/books/4",
            ARN
        ));
        assert!(wildcard_match("*", ""));
        assert!(!wildcard_match("?", ""));
    }

    #[test]
    fn deny_wins_and_no_allow_is_deny() {
        let allow_all = json!({"Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": ["arn:*"]}]});
        assert_eq!(evaluate(&allow_all, ARN), Ok(Verdict::Allow));
        let both = json!({"Statement": [
            {"Effect": "Allow", "Action": ["execute-api:Invoke"], "Resource": "arn:*"},
            {"Effect": "Deny", "Action": ["execute-api:*"], "Resource": ["*/GET/books/*"]}]});
        assert_eq!(evaluate(&both, ARN), Ok(Verdict::Deny));
        let other = json!({"Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*/POST/books"}]});
        assert_eq!(evaluate(&other, ARN), Ok(Verdict::Deny));
        let wrong_action =
            json!({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]});
        assert_eq!(evaluate(&wrong_action, ARN), Ok(Verdict::Deny));
    }

    /// IAM action names are case-insensitive: a Deny on
    /// `execute-api:invoke` is enforced on AWS, so here too.
    #[test]
    fn actions_match_in_any_case_resources_in_theirs() {
        for action in [
            "execute-api:invoke",
            "EXECUTE-API:INVOKE",
            "Execute-Api:*",
            "execute-api:INV*",
        ] {
            let deny = json!({"Statement": [
                {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"},
                {"Effect": "Deny", "Action": action, "Resource": ARN}]});
            assert_eq!(evaluate(&deny, ARN), Ok(Verdict::Deny), "{action}");
            let allow =
                json!({"Statement": [{"Effect": "Allow", "Action": action, "Resource": ARN}]});
            assert_eq!(evaluate(&allow, ARN), Ok(Verdict::Allow), "{action}");
        }
        let other_case_arn = json!({"Statement": [
            {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": ARN.to_uppercase()}]});
        assert_eq!(
            evaluate(&other_case_arn, ARN),
            Ok(Verdict::Deny),
            "ARNs keep their case"
        );
    }

    #[test]
    fn malformed_policies_are_errors() {
        for policy in [
            json!({}),
            json!({"Statement": 5}),
            json!({"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Resource": "*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": 7}]}),
        ] {
            assert!(evaluate(&policy, ARN).is_err(), "{policy}");
        }
    }
}
