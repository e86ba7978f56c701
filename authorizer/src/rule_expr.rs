//! The CEL expressions of `ROUTE_RULES`: compiled and checked once at start,
//! evaluated over a verified token's claims only.
//!
//! At start an expression must parse, name no variable but `claims`,
//! `scopes`, `sub`, `iss`, `aud` (and its own comprehension variables), and
//! not be of a type that can never be what its place needs (a `when` that is
//! a string literal, a sum). CEL is dynamically typed over claims, so the
//! rest is decided at request time, where any error denies.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use cel::common::ast::{operators, EntryExpr, Expr, LiteralValue};
use cel::{Context, Env, IdedExpr, Program, Value as CelValue};
use serde_json::Value;

/// The variables an expression may read.
pub const RULE_VARIABLES: [&str; 5] = ["claims", "scopes", "sub", "iss", "aud"];

/// CEL's type names, which an expression may name (`type(x) == string`).
const TYPE_NAMES: [&str; 11] = [
    "bool",
    "int",
    "uint",
    "double",
    "string",
    "bytes",
    "list",
    "map",
    "null_type",
    "type",
    "dyn",
];

/// What an expression must yield where it is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Yields {
    /// `when`: a bool.
    Bool,
    /// `bind`: a string or a list of strings.
    Strings,
}

/// A compiled expression and its source, for messages and `explain`.
pub(crate) struct RuleExpr {
    pub(crate) source: String,
    program: Program,
}

impl std::fmt::Debug for RuleExpr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RuleExpr").field(&self.source).finish()
    }
}

impl PartialEq for RuleExpr {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

/// Why an expression was refused at start; the message has its position.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct ExprError(pub String);

/// The type an expression is known to have without the claims, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Known {
    Bool,
    String,
    List,
    Other(&'static str),
}

impl RuleExpr {
    /// Compiles `source` for `yields`, checking what can be checked before
    /// any token is seen.
    pub(crate) fn compile(source: &str, yields: Yields) -> Result<Self, ExprError> {
        let program = Program::compile(source).map_err(|errors| {
            let first = errors.errors.first();
            match first {
                Some(e) => ExprError(format!("line {}, column {}: {}", e.pos.0, e.pos.1, e.msg)),
                None => ExprError("does not parse".into()),
            }
        })?;
        let at = |id: u64| match program.source_info().offset_for(id) {
            Some((start, _)) => position(source, start as usize),
            None => "here".to_owned(),
        };
        let mut bound = Vec::new();
        if let Some((id, name)) = unknown_variable(program.expression(), &mut bound) {
            return Err(ExprError(format!(
                "{}: unknown variable {name:?} (the variables are {})",
                at(id),
                RULE_VARIABLES.join(", ")
            )));
        }
        let root = program.expression();
        let fits = match (yields, known_type(root)) {
            (_, None) => true,
            (Yields::Bool, Some(known)) => known == Known::Bool,
            (Yields::Strings, Some(known)) => matches!(known, Known::String | Known::List),
        };
        if !fits {
            let wanted = match yields {
                Yields::Bool => "a bool",
                Yields::Strings => "a string or a list of strings",
            };
            return Err(ExprError(format!(
                "{}: can never be {wanted} (it is {})",
                at(root.id),
                describe(known_type(root))
            )));
        }
        Ok(Self {
            source: source.to_owned(),
            program,
        })
    }

    /// Evaluates over one token's variables. An expression is a pure
    /// function of them, so each distinct source runs once per token: a
    /// table repeats its tenant binding on route after route.
    pub(crate) fn evaluate(&self, vars: &TokenVariables) -> Result<CelValue, String> {
        if let Some(known) = vars.results.borrow().get(self.source.as_str()) {
            return known.clone();
        }
        let result = self
            .program
            .execute(&vars.context)
            .map_err(|error| error.to_string());
        vars.results
            .borrow_mut()
            .insert(self.source.clone(), result.clone());
        result
    }
}

/// One verified token's variables, built once for all its rules.
pub(crate) struct TokenVariables {
    context: Context<'static, 'static>,
    /// Each expression's result for this token, by source.
    results: RefCell<HashMap<String, Result<CelValue, String>>>,
}

impl TokenVariables {
    /// The variables of a token: its claims object, mapped scopes, and its
    /// `sub`, `iss` and `aud` (always a list; a string `aud` is a list of one).
    pub(crate) fn new(env: &Arc<Env>, claims: &Value, scopes: &[String]) -> Self {
        let mut context = Context::with_env(Arc::clone(env));
        let text = |name: &str| match claims.get(name) {
            Some(Value::String(s)) => CelValue::from(s.as_str()),
            _ => CelValue::Null,
        };
        let aud = match claims.get("aud") {
            Some(Value::String(s)) => vec![CelValue::from(s.as_str())],
            Some(Value::Array(items)) => items.iter().map(cel_value).collect(),
            _ => Vec::new(),
        };
        context.add_variable_from_value("sub", text("sub"));
        context.add_variable_from_value("iss", text("iss"));
        context.add_variable_from_value("aud", aud);
        context.add_variable_from_value(
            "scopes",
            scopes
                .iter()
                .map(|s| CelValue::from(s.as_str()))
                .collect::<Vec<_>>(),
        );
        context.add_variable_from_value("claims", cel_value(claims));
        Self {
            context,
            results: RefCell::default(),
        }
    }
}

/// A JSON value as CEL sees it: integers as `int` (as `uint` only past
/// `int`'s range), so `claims.level > 3` compares like with like.
fn cel_value(value: &Value) -> CelValue {
    match value {
        Value::Null => CelValue::Null,
        Value::Bool(b) => CelValue::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => CelValue::Int(i),
            (None, Some(u)) => CelValue::UInt(u),
            _ => CelValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => CelValue::from(s.as_str()),
        Value::Array(items) => CelValue::from(items.iter().map(cel_value).collect::<Vec<_>>()),
        Value::Object(members) => {
            let map: HashMap<String, CelValue> = members
                .iter()
                .map(|(k, v)| (k.clone(), cel_value(v)))
                .collect();
            CelValue::from(map)
        }
    }
}

/// The first identifier that is neither a rule variable, a type name, nor
/// bound by an enclosing comprehension: its node id and name.
fn unknown_variable<'e>(expr: &'e IdedExpr, bound: &mut Vec<&'e str>) -> Option<(u64, &'e str)> {
    match &expr.expr {
        Expr::Ident(name) => {
            let known = RULE_VARIABLES.contains(&name.as_str())
                || TYPE_NAMES.contains(&name.as_str())
                || bound.contains(&name.as_str());
            (!known).then_some((expr.id, name.as_str()))
        }
        Expr::Select(select) => unknown_variable(&select.operand, bound),
        Expr::Call(call) => call
            .target
            .iter()
            .map(|t| t.as_ref())
            .chain(&call.args)
            .find_map(|e| unknown_variable(e, bound)),
        Expr::List(list) => list
            .elements
            .iter()
            .find_map(|e| unknown_variable(e, bound)),
        Expr::Map(map) => map.entries.iter().find_map(|entry| match &entry.expr {
            EntryExpr::MapEntry(e) => {
                unknown_variable(&e.key, bound).or_else(|| unknown_variable(&e.value, bound))
            }
            EntryExpr::StructField(f) => unknown_variable(&f.value, bound),
        }),
        Expr::Struct(s) => s.entries.iter().find_map(|entry| match &entry.expr {
            EntryExpr::MapEntry(e) => {
                unknown_variable(&e.key, bound).or_else(|| unknown_variable(&e.value, bound))
            }
            EntryExpr::StructField(f) => unknown_variable(&f.value, bound),
        }),
        Expr::Comprehension(c) => {
            // The range and the accumulator's start are read outside the loop.
            if let Some(found) = unknown_variable(&c.iter_range, bound)
                .or_else(|| unknown_variable(&c.accu_init, bound))
            {
                return Some(found);
            }
            let depth = bound.len();
            bound.push(&c.iter_var);
            bound.extend(c.iter_var2.as_deref());
            bound.push(&c.accu_var);
            let found = [&c.loop_cond, &c.loop_step, &c.result]
                .into_iter()
                .find_map(|e| unknown_variable(e, bound));
            bound.truncate(depth);
            found
        }
        Expr::Literal(_) | Expr::Unspecified => None,
    }
}

/// The type of `expr` when it does not depend on the token: literals,
/// collections, and operators whose result type is fixed.
fn known_type(expr: &IdedExpr) -> Option<Known> {
    match &expr.expr {
        Expr::Literal(literal) => Some(match literal {
            LiteralValue::Boolean(_) => Known::Bool,
            LiteralValue::String(_) => Known::String,
            LiteralValue::Bytes(_) => Known::Other("bytes"),
            LiteralValue::Double(_) => Known::Other("a double"),
            LiteralValue::Int(_) => Known::Other("an int"),
            LiteralValue::UInt(_) => Known::Other("a uint"),
            LiteralValue::Null => Known::Other("null"),
        }),
        Expr::List(_) => Some(Known::List),
        Expr::Map(_) => Some(Known::Other("a map")),
        Expr::Struct(_) => Some(Known::Other("a message")),
        Expr::Call(call) => match call.func_name.as_str() {
            operators::LOGICAL_AND
            | operators::LOGICAL_OR
            | operators::LOGICAL_NOT
            | operators::EQUALS
            | operators::NOT_EQUALS
            | operators::LESS
            | operators::LESS_EQUALS
            | operators::GREATER
            | operators::GREATER_EQUALS
            | operators::IN
            | "contains"
            | "startsWith"
            | "endsWith"
            | "matches" => Some(Known::Bool),
            "size" | "int" | "uint" => Some(Known::Other("a number")),
            "string" => Some(Known::String),
            operators::MULTIPLY | operators::DIVIDE | operators::MODULO | operators::NEGATE => {
                Some(Known::Other("a number"))
            }
            _ => None,
        },
        Expr::Select(select) if select.test => Some(Known::Bool),
        Expr::Comprehension(c) => {
            // `all`, `exists` and `exists_one` yield a bool; `map` and
            // `filter` a list.
            let from_start = match &c.accu_init.expr {
                Expr::Literal(LiteralValue::Boolean(_)) => Some(Known::Bool),
                Expr::List(_) => Some(Known::List),
                _ => None,
            };
            known_type(&c.result).or(from_start)
        }
        Expr::Ident(_) | Expr::Select(_) | Expr::Unspecified => None,
    }
}

fn describe(known: Option<Known>) -> &'static str {
    match known {
        Some(Known::Bool) => "a bool",
        Some(Known::String) => "a string",
        Some(Known::List) => "a list",
        Some(Known::Other(what)) => what,
        None => "unknown",
    }
}

/// `line L, column C` (both from 1) of byte `offset` in `source`.
fn position(source: &str, offset: usize) -> String {
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("line {line}, column {column}")
}

/// A new CEL environment: the standard library, nothing more.
pub(crate) fn environment() -> Arc<Env> {
    Arc::new(Env::stdlib())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(source: &str, yields: Yields, claims: Value) -> Result<CelValue, String> {
        let expr = RuleExpr::compile(source, yields).map_err(|e| e.0)?;
        let vars = TokenVariables::new(&environment(), &claims, &["orders:read".into()]);
        expr.evaluate(&vars)
    }

    #[test]
    fn expressions_read_the_token() {
        let claims = json!({"sub": "alice", "iss": "https://idp", "aud": "api",
            "tenant_id": "acme", "level": 4, "groups": ["a", "b"]});
        let yes = |s: &str| eval(s, Yields::Bool, claims.clone());
        assert_eq!(yes("'orders:read' in scopes"), Ok(CelValue::Bool(true)));
        assert_eq!(
            yes("sub == 'alice' && iss == 'https://idp'"),
            Ok(CelValue::Bool(true))
        );
        assert_eq!(yes("'api' in aud"), Ok(CelValue::Bool(true)));
        assert_eq!(yes("claims.level > 3"), Ok(CelValue::Bool(true)));
        assert_eq!(
            yes("claims.groups.exists(g, g == 'b')"),
            Ok(CelValue::Bool(true))
        );
        assert_eq!(yes("has(claims.missing)"), Ok(CelValue::Bool(false)));
        // A missing claim is an error, which the caller turns into a denial.
        assert!(yes("claims.missing == 'x'").is_err());
        assert_eq!(
            eval("claims.tenant_id", Yields::Strings, claims.clone()),
            Ok(CelValue::from("acme"))
        );
    }

    #[test]
    fn start_up_refuses_what_can_never_work_and_says_where() {
        let refused = |s: &str, y| RuleExpr::compile(s, y).unwrap_err().0;
        assert!(refused("claims.", Yields::Bool).starts_with("line 1, column"));
        let unknown = refused("tenant == 'acme'", Yields::Bool);
        assert!(unknown.contains("unknown variable \"tenant\""), "{unknown}");
        assert!(unknown.starts_with("line 1, column 1:"), "{unknown}");
        let later = refused("sub == 'x' ||\n  tenant == 'acme'", Yields::Bool);
        assert!(later.starts_with("line 2, column 3:"), "{later}");
        assert!(refused("'admin'", Yields::Bool).contains("can never be a bool"));
        assert!(refused("size(scopes)", Yields::Bool).contains("a number"));
        assert!(refused("claims.a == 1", Yields::Strings).contains("a string or a list"));
        // Comprehension variables are known inside their loop only.
        assert!(RuleExpr::compile("scopes.exists(s, s == 'x')", Yields::Bool).is_ok());
        assert!(
            refused("scopes.exists(s, s == 'x') && s == 'y'", Yields::Bool)
                .contains("unknown variable \"s\"")
        );
        assert!(RuleExpr::compile("type(sub) == string", Yields::Bool).is_ok());
        assert!(RuleExpr::compile("claims.tenants.map(t, 'org-' + t)", Yields::Strings).is_ok());
    }
}
