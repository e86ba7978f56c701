//! What Tollgate's fuzz targets share: the fixed keys they sign with
//! ([`keys`]), a loopback server for the documents an authorizer fetches
//! ([`server`]), authorizers built as a deployment builds them
//! ([`stack`]), and the invariants the targets assert ([`model`] for
//! tokens, [`policy`] for the route table).
//!
//! One target per parser an attacker reaches; docs/security.md lists them
//! and what each asserts. A new target: a file in `fuzz_targets/`, a
//! `[[bin]]` in Cargo.toml, seeds in `corpus/<name>/`; `make fuzz` runs
//! every bin that `cargo fuzz list` names.

pub mod keys;
pub mod model;
pub mod policy;
pub mod proof;
pub mod server;
pub mod stack;

/// The JSON text of `members` with any member repeated where a target
/// asks: serde_json's maps cannot hold a duplicate, which is exactly the
/// type-confusion input worth trying on a JSON parser.
pub fn object_text(members: &[(String, serde_json::Value)]) -> String {
    let mut text = String::from("{");
    for (i, (name, value)) in members.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&serde_json::Value::from(name.as_str()).to_string());
        text.push(':');
        text.push_str(&value.to_string());
    }
    text.push('}');
    text
}

/// An arbitrary JSON value, nesting bounded by the input's length.
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A negative or small integer.
    Int(i64),
    /// A large integer.
    UInt(u64),
    /// A float (a non-finite one becomes `null`).
    Float(f64),
    /// A string.
    Str(String),
    /// An array.
    Array(Vec<Json>),
    /// An object.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// As a `serde_json::Value`.
    pub fn value(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Int(i) => Value::from(*i),
            Json::UInt(u) => Value::from(*u),
            Json::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Json::Str(s) => Value::from(s.as_str()),
            Json::Array(items) => Value::Array(items.iter().map(Json::value).collect()),
            Json::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(name, value)| (name.clone(), value.value()))
                    .collect(),
            ),
        }
    }
}

/// One member's value in a structured target: the good one (what a
/// well-behaved issuer or client sends), or one of the fuzzer's.
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub enum Field {
    /// The good value.
    Good,
    /// Left out.
    Absent,
    /// `null`.
    Null,
    /// Now plus this many seconds (a time's form, tried on any member).
    Time(i32),
    /// A string.
    Text(String),
    /// Any JSON.
    Other(Json),
}

impl Field {
    /// The member's value (`None`: left out), with `good` for [`Field::Good`].
    pub fn render(&self, good: serde_json::Value, now: u64) -> Option<serde_json::Value> {
        use serde_json::Value;
        match self {
            Field::Good => Some(good),
            Field::Absent => None,
            Field::Null => Some(Value::Null),
            Field::Time(offset) => Some(Value::from(now.saturating_add_signed(i64::from(*offset)))),
            Field::Text(text) => Some(Value::from(text.as_str())),
            Field::Other(json) => Some(json.value()),
        }
    }

    /// Whether this is [`Field::Good`].
    pub fn is_good(&self) -> bool {
        matches!(self, Field::Good)
    }
}
