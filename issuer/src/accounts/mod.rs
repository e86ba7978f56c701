//! Users (password grant, JSON login) and OAuth clients (client
//! credentials), each with a hashed secret, granted scopes and a
//! disabled flag, and where they are stored: the [`AccountStore`] trait, a
//! local file ([`FileAccountStore`], `USERS_FILE`) or DynamoDB
//! ([`DynamoAccountStore`], `USERS_TABLE`, hash key `key` of type S:
//! `user#NAME` / `client#NAME`).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::password::hash_secret;

mod dynamo;
mod file;

pub use dynamo::DynamoAccountStore;
pub use file::FileAccountStore;

/// Who logs in: a person or a program. The kind is part of the store key,
/// so a user and a client may share a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountKind {
    /// A person: the password grant or the JSON login.
    User,
    /// An OAuth client: the client-credentials grant.
    Client,
}

/// Client subjects start with this; user names may not, so a client and a
/// user of the same name never share a `sub` (RFC 9068 §5) and a client
/// cannot own a user's books.
pub const CLIENT_SUBJECT_PREFIX: &str = "client:";
/// Longest account name, in bytes.
pub const MAX_NAME_BYTES: usize = 128;

/// Why a name cannot be an account name.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The empty name.
    #[error("an account name must not be empty")]
    Empty,
    /// Over [`MAX_NAME_BYTES`].
    #[error("an account name has at most {MAX_NAME_BYTES} bytes")]
    TooLong,
    /// Whitespace, control, bidi or zero-width characters.
    #[error("an account name must not contain whitespace or control characters")]
    BadCharacter,
    /// A user name that would look like a client's subject.
    #[error("a user name must not start with {CLIENT_SUBJECT_PREFIX:?} (reserved for clients)")]
    ReservedPrefix,
}

/// Checks a name before it is stored, and before a login looks it up (a
/// name that could not be stored cannot exist).
pub fn validate_name(kind: AccountKind, name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(NameError::TooLong);
    }
    if name
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || is_invisible(c))
    {
        return Err(NameError::BadCharacter);
    }
    if kind == AccountKind::User && name.starts_with(CLIENT_SUBJECT_PREFIX) {
        return Err(NameError::ReservedPrefix);
    }
    Ok(())
}

/// Bidi controls and zero-width characters: they make two names look alike.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{061C}')
}

/// An account. `secret_hash` is argon2id (PHC string); it is never sent anywhere.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// User or client.
    pub kind: AccountKind,
    /// The login name, unique per kind.
    pub name: String,
    /// The argon2id hash of the password or client secret.
    pub secret_hash: String,
    /// Granted scopes; a request can only narrow them.
    pub scopes: Vec<String>,
    /// A disabled account cannot log in; its record is kept.
    #[serde(default)]
    pub disabled: bool,
    /// Tokens only with a DPoP proof (RFC 9449 §5): a login without one
    /// is refused, so this account's tokens are never bearer tokens.
    #[serde(default)]
    pub dpop_only: bool,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("scopes", &self.scopes)
            .field("disabled", &self.disabled)
            .field("dpop_only", &self.dpop_only)
            .finish_non_exhaustive()
    }
}

/// Why an account could not be made.
#[derive(Debug, thiserror::Error)]
pub enum NewAccountError {
    /// The name is refused.
    #[error(transparent)]
    Name(#[from] NameError),
    /// argon2 refused to hash the secret (never for a valid one).
    #[error("password hashing failed")]
    Hash,
}

impl Account {
    /// A new, enabled account: the name checked, the secret hashed, the
    /// scopes taken from a space-separated list. What `tollgate user add`
    /// and the local stack's first start both store.
    pub fn new(
        kind: AccountKind,
        name: &str,
        secret: &str,
        scopes: &str,
    ) -> Result<Self, NewAccountError> {
        validate_name(kind, name)?;
        Ok(Self {
            kind,
            name: name.to_owned(),
            secret_hash: hash_secret(secret).map_err(|_| NewAccountError::Hash)?,
            scopes: scopes
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            disabled: false,
            dpop_only: false,
        })
    }

    /// The same account, DPoP-only (`--dpop-only`).
    pub fn dpop_only(mut self, dpop_only: bool) -> Self {
        self.dpop_only = dpop_only;
        self
    }

    /// The store key: kind and name, so a user and a client may share a name.
    pub fn key(kind: AccountKind, name: &str) -> String {
        match kind {
            AccountKind::User => format!("user#{name}"),
            AccountKind::Client => format!("client#{name}"),
        }
    }

    /// The token subject: the user's name, or `client:` and the client's name.
    pub fn subject(&self) -> String {
        match self.kind {
            AccountKind::User => self.name.clone(),
            AccountKind::Client => format!("{CLIENT_SUBJECT_PREFIX}{}", self.name),
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

/// Why the account store could not answer.
#[derive(Debug, thiserror::Error)]
pub enum AccountStoreError {
    /// What is stored cannot be read back as accounts.
    #[error("account store unreadable: {0}")]
    Corrupt(String),
    /// The file or DynamoDB call failed.
    #[error("account store failed: {0}")]
    Io(String),
}

/// Where accounts live: a local file or DynamoDB.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// The account of that kind and name, if any.
    async fn get(
        &self,
        kind: AccountKind,
        name: &str,
    ) -> Result<Option<Account>, AccountStoreError>;
    /// Creates or replaces the account.
    async fn put(&self, account: &Account) -> Result<(), AccountStoreError>;
    /// Creates the account only if none of its kind and name exists
    /// (atomically); `false` when one does, which is left as it is.
    async fn insert_new(&self, account: &Account) -> Result<bool, AccountStoreError>;
}

fn io(error: impl std::fmt::Display) -> AccountStoreError {
    AccountStoreError::Io(error.to_string())
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
            dpop_only: false,
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
    fn clients_and_users_of_one_name_get_distinct_subjects() {
        let user = account();
        let client = Account {
            kind: AccountKind::Client,
            ..account()
        };
        assert_eq!(user.subject(), "alice");
        assert_eq!(client.subject(), "client:alice");
        assert_eq!(
            validate_name(AccountKind::User, "client:alice"),
            Err(NameError::ReservedPrefix),
            "no user can take a client's subject"
        );
        assert_eq!(validate_name(AccountKind::Client, "client:x"), Ok(()));
    }

    #[test]
    fn names_are_bounded_and_visible() {
        assert_eq!(validate_name(AccountKind::User, ""), Err(NameError::Empty));
        let long = "a".repeat(MAX_NAME_BYTES + 1);
        assert_eq!(
            validate_name(AccountKind::User, &long),
            Err(NameError::TooLong)
        );
        for bad in ["a b", "a\nb", "ad\u{200B}min", "\u{202E}nimda"] {
            assert_eq!(
                validate_name(AccountKind::User, bad),
                Err(NameError::BadCharacter),
                "{bad:?}"
            );
        }
        assert_eq!(
            validate_name(AccountKind::User, "dora.m@example.org"),
            Ok(())
        );
    }

    #[test]
    fn debug_hides_the_secret_hash() {
        assert!(!format!("{:?}", account()).contains("argon2id"));
    }
}
