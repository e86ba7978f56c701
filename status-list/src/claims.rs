//! The JSON members the draft defines: a referenced token's
//! `status.status_list` (where its status is) and a status list token's
//! `status_list` (the list itself).

use serde::{Deserialize, Serialize};

/// A referenced token's `status.status_list`: the index of its entry and
/// the URI of the status list token that holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReference {
    /// The entry's index in the list.
    pub idx: u64,
    /// The status list token's URI (also that token's `sub`).
    pub uri: String,
}

/// A status list token's `status_list` claim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusListClaim {
    /// Bits per entry: 1, 2, 4 or 8.
    pub bits: u8,
    /// The base64url-encoded, zlib-compressed byte array.
    pub lst: String,
    /// Where the issuer lists all its status list URIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation_uri: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_have_the_drafts_names() {
        let reference = StatusReference {
            idx: 7,
            uri: "https://issuer.example/statuslists/1".into(),
        };
        assert_eq!(
            serde_json::to_value(&reference).unwrap(),
            serde_json::json!({"idx": 7, "uri": "https://issuer.example/statuslists/1"})
        );
        let claim = StatusListClaim {
            bits: 1,
            lst: "eNrbuRgAAhcBXQ".into(),
            aggregation_uri: None,
        };
        assert_eq!(
            serde_json::to_value(&claim).unwrap(),
            serde_json::json!({"bits": 1, "lst": "eNrbuRgAAhcBXQ"})
        );
    }
}
