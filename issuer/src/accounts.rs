//! Users (password grant, JSON login) and OAuth clients (client
//! credentials), each with a hashed secret, granted scopes and a
//! disabled flag. Stored by [`crate::account_store`].

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountKind {
    User,
    Client,
}

/// An account. `secret_hash` is argon2id (PHC string); it is never sent anywhere.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub kind: AccountKind,
    pub name: String,
    pub secret_hash: String,
    /// Granted scopes; a request can only narrow them.
    pub scopes: Vec<String>,
    #[serde(default)]
    pub disabled: bool,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("scopes", &self.scopes)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

impl Account {
    /// The store key: kind and name, so a user and a client may share a name.
    pub fn key(kind: AccountKind, name: &str) -> String {
        match kind {
            AccountKind::User => format!("user#{name}"),
            AccountKind::Client => format!("client#{name}"),
        }
    }

    /// The scopes to grant for `requested` (space-separated; `None`: all
    /// granted). `None` when the request asks for anything not granted.
    pub fn narrow(&self, requested: Option<&str>) -> Option<Vec<String>> {
        match requested.map(str::trim).filter(|r| !r.is_empty()) {
            None => Some(self.scopes.clone()),
            Some(requested) => {
                let mut scopes: Vec<String> = Vec::new();
                for scope in requested.split(' ').filter(|s| !s.is_empty()) {
                    if !self.scopes.iter().any(|g| g == scope) {
                        return None;
                    }
                    if !scopes.iter().any(|s| s == scope) {
                        scopes.push(scope.to_owned());
                    }
                }
                Some(scopes)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> Account {
        Account {
            kind: AccountKind::User,
            name: "alice".into(),
            secret_hash: "$argon2id$secret".into(),
            scopes: vec!["books:read".into(), "books:write".into()],
            disabled: false,
        }
    }

    #[test]
    fn requested_scopes_can_only_narrow() {
        let a = account();
        assert_eq!(a.narrow(None).unwrap(), ["books:read", "books:write"]);
        assert_eq!(a.narrow(Some("books:read")).unwrap(), ["books:read"]);
        assert_eq!(
            a.narrow(Some(" books:read  books:read ")).unwrap(),
            ["books:read"]
        );
        assert_eq!(a.narrow(Some("books:read keys:admin")), None);
    }

    #[test]
    fn debug_hides_the_secret_hash() {
        assert!(!format!("{:?}", account()).contains("argon2id"));
    }
}
