//! Both account stores, the same expectations: the users file and the
//! DynamoDB users table on `moto_server` through the real SDK.

use issuer::accounts::{Account, AccountKind};
use issuer::accounts::{AccountStore, DynamoAccountStore, FileAccountStore};

fn account(kind: AccountKind, name: &str, disabled: bool) -> Account {
    Account {
        kind,
        name: name.to_owned(),
        secret_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g".to_owned(),
        scopes: vec!["books:read".to_owned(), "keys:admin".to_owned()],
        disabled,
        dpop_only: false,
    }
}

async fn suite(store: &dyn AccountStore) {
    assert_eq!(store.get(AccountKind::User, "alice").await.unwrap(), None);
    let alice = account(AccountKind::User, "alice", false);
    store.put(&alice).await.unwrap();
    assert_eq!(
        store.get(AccountKind::User, "alice").await.unwrap(),
        Some(alice.clone())
    );
    assert_eq!(
        store.get(AccountKind::Client, "alice").await.unwrap(),
        None,
        "users and clients are separate"
    );
    let client = account(AccountKind::Client, "alice", true);
    store.put(&client).await.unwrap();
    assert_eq!(
        store.get(AccountKind::Client, "alice").await.unwrap(),
        Some(client)
    );
    let mut changed = alice;
    changed.disabled = true;
    // DPoP-only survives a round trip through the store.
    changed.dpop_only = true;
    changed.scopes = vec!["books:read".to_owned()];
    store.put(&changed).await.unwrap();
    assert_eq!(
        store.get(AccountKind::User, "alice").await.unwrap(),
        Some(changed.clone()),
        "put replaces"
    );
    let mut other = changed.clone();
    other.secret_hash = "$argon2id$other".to_owned();
    assert!(
        !store.insert_new(&other).await.unwrap(),
        "insert_new never overwrites"
    );
    assert_eq!(
        store.get(AccountKind::User, "alice").await.unwrap(),
        Some(changed)
    );
    let bob = account(AccountKind::User, "bob", false);
    assert!(store.insert_new(&bob).await.unwrap());
    assert_eq!(
        store.get(AccountKind::User, "bob").await.unwrap(),
        Some(bob)
    );
}

#[tokio::test]
async fn file_account_store() {
    let dir = tempfile::tempdir().unwrap();
    suite(&FileAccountStore::new(dir.path().join("users.json"))).await;
}

#[tokio::test]
async fn dynamodb_account_store() {
    if testkit::aws_test_endpoint().is_none() {
        return;
    }
    let (client, table) = testkit::dynamodb("users").await;
    DynamoAccountStore::create_table(&client, &table)
        .await
        .unwrap();
    suite(&DynamoAccountStore::new(client, table)).await;
}
