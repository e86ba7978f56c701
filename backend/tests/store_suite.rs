//! One suite, both stores: the embedded redb file and DynamoDB on the
//! `moto_server` that `make test` starts (through the real SDK).

use std::collections::HashSet;
use std::sync::Arc;

use backend::DynamoStore;
use backend::EmbeddedStore;
use backend::{Book, BookPatch, NewBook};
use backend::{BookStore, StoreError};

fn new_book(title: &str, owner: &str) -> Book {
    Book::create(
        NewBook {
            title: title.to_owned(),
            author: "Ursula K. Le Guin".to_owned(),
            isbn: Some("9780441478125".to_owned()),
            published_year: Some(1969),
            tags: vec!["sf".to_owned()],
        },
        owner,
        Some("https://issuer.test"),
        "2026-11-23T00:00:00Z",
    )
}

fn retitled(book: &Book, title: &str) -> Book {
    book.patched(
        BookPatch {
            title: Some(title.to_owned()),
            ..BookPatch::default()
        },
        "2026-11-23T00:00:01Z",
    )
}

async fn crud(store: &dyn BookStore) {
    let book = new_book("The Left Hand of Darkness", "alice");
    store.create(&book).await.unwrap();
    assert_eq!(store.get(&book.id).await.unwrap(), Some(book.clone()));
    assert!(matches!(
        store.create(&book).await,
        Err(StoreError::AlreadyExists)
    ));

    let v2 = retitled(&book, "The Dispossessed");
    store.update(&v2, 1).await.unwrap();
    assert_eq!(
        store.get(&book.id).await.unwrap().unwrap().title,
        "The Dispossessed"
    );
    assert!(matches!(
        store.update(&retitled(&book, "stale"), 1).await,
        Err(StoreError::VersionConflict)
    ));

    let ghost = new_book("ghost", "alice");
    assert!(matches!(
        store.update(&ghost, 1).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete(&ghost.id, None).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete(&book.id, Some(1)).await,
        Err(StoreError::VersionConflict)
    ));
    store.delete(&book.id, Some(2)).await.unwrap();
    assert_eq!(store.get(&book.id).await.unwrap(), None);

    let unconditional = new_book("no If-Match", "bob");
    store.create(&unconditional).await.unwrap();
    store.delete(&unconditional.id, None).await.unwrap();
    assert_eq!(store.get(&unconditional.id).await.unwrap(), None);
}

async fn injection_is_stored_verbatim(store: &dyn BookStore) {
    let mut book = new_book("#version = :expected OR attribute_exists(#id)", "alice");
    book.author = "'); DROP TABLE books; --".to_owned();
    book.tags = vec![":v".to_owned(), "${jndi:x}".to_owned()];
    store.create(&book).await.unwrap();
    assert_eq!(store.get(&book.id).await.unwrap(), Some(book.clone()));
    store.delete(&book.id, Some(1)).await.unwrap();
}

async fn pagination_walks_every_book_once(store: &dyn BookStore) {
    let mut created = HashSet::new();
    for i in 0..45 {
        let book = new_book(&format!("Book {i}"), "alice");
        store.create(&book).await.unwrap();
        created.insert(book.id);
    }
    let mut seen = HashSet::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = store.list(None, 20, cursor.as_deref()).await.unwrap();
        assert!(page.items.len() <= 20);
        for book in page.items {
            assert!(
                seen.insert(book.id.clone()),
                "book {} listed twice",
                book.id
            );
        }
        pages += 1;
        assert!(pages < 10, "pagination does not terminate");
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert!(pages >= 3, "45 books in pages of 20 take at least 3 pages");
    assert!(created.is_subset(&seen), "every created book listed");
    assert!(matches!(
        store.list(None, 20, Some("not-a-cursor")).await,
        Err(StoreError::BadCursor)
    ));
}

/// A shelf lists its owner's books only, every one once across pages, even
/// when other owners' books lie between them (a filtered scan).
async fn a_shelf_holds_its_owners_books_only(store: &dyn BookStore) {
    let mut carols = HashSet::new();
    for i in 0..25 {
        let owner = if i % 3 == 0 { "carol" } else { "dave" };
        let book = new_book(&format!("Shelf {i}"), owner);
        store.create(&book).await.unwrap();
        if owner == "carol" {
            carols.insert(book.id);
        }
    }
    let mut seen = HashSet::new();
    let mut cursor: Option<String> = None;
    for _ in 0..20 {
        let page = store
            .list(Some("carol"), 3, cursor.as_deref())
            .await
            .unwrap();
        assert!(page.items.len() <= 3);
        for book in page.items {
            assert_eq!(book.owner, "carol");
            assert!(
                seen.insert(book.id.clone()),
                "book {} listed twice",
                book.id
            );
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, carols);
    let nobody = store.list(Some("nobody"), 5, None).await.unwrap();
    assert!(nobody.items.is_empty() && nobody.next_cursor.is_none());
}

async fn racing_writers_leave_exactly_one_winner(store: Arc<dyn BookStore>) {
    let book = new_book("contended", "alice");
    store.create(&book).await.unwrap();
    let mut tasks = Vec::new();
    for writer in 0..8 {
        let store = Arc::clone(&store);
        let next = retitled(&book, &format!("writer {writer}"));
        tasks.push(tokio::spawn(async move { store.update(&next, 1).await }));
    }
    let mut wins = Vec::new();
    let mut conflicts = 0;
    for (writer, task) in tasks.into_iter().enumerate() {
        match task.await.unwrap() {
            Ok(()) => wins.push(writer),
            Err(StoreError::VersionConflict) => conflicts += 1,
            Err(other) => panic!("writer {writer}: {other}"),
        }
    }
    assert_eq!(wins.len(), 1, "exactly one winner");
    assert_eq!(conflicts, 7);
    let stored = store.get(&book.id).await.unwrap().unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(
        stored.title,
        format!("writer {}", wins[0]),
        "the winner's update is the one kept"
    );
}

async fn suite(store: Arc<dyn BookStore>) {
    crud(store.as_ref()).await;
    injection_is_stored_verbatim(store.as_ref()).await;
    racing_writers_leave_exactly_one_winner(Arc::clone(&store)).await;
    pagination_walks_every_book_once(store.as_ref()).await;
    a_shelf_holds_its_owners_books_only(store.as_ref()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(&dir.path().join("books.redb")).unwrap());
    suite(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_store_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("books.redb");
    let book = new_book("persistent", "alice");
    {
        let store = EmbeddedStore::open(&path).unwrap();
        store.create(&book).await.unwrap();
    }
    let reopened = EmbeddedStore::open(&path).unwrap();
    assert_eq!(reopened.get(&book.id).await.unwrap(), Some(book));
}

/// A fresh table on moto_server. `make test` exports AWS_ENDPOINT_URL; a plain
/// `cargo test` without it skips, but never in CI.
async fn dynamo_store() -> Option<DynamoStore> {
    testkit::aws_test_endpoint()?;
    let (client, table) = testkit::dynamodb("books").await;
    DynamoStore::create_table(&client, &table)
        .await
        .expect("create table on moto_server");
    Some(DynamoStore::new(client, table))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_store() {
    if let Some(store) = dynamo_store().await {
        suite(Arc::new(store)).await;
    }
}
