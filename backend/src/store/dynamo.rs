//! Books in DynamoDB (`BOOKS_TABLE`, hash key `id` of type S).
//!
//! No expression text is ever built from input: expressions are constants,
//! attribute names go through `ExpressionAttributeNames` and values through
//! `ExpressionAttributeValues`. Writes are whole-item puts conditioned on
//! the version read, so concurrent writers cannot lose an update.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;

use super::{decode_cursor, encode_cursor, BookStore, Page, StoreError};
use crate::model::Book;

/// Error codes DynamoDB uses for throttling. The SDK already retried these
/// (standard retry mode); if they still surface, the answer is 503.
const THROTTLING: [&str; 3] = [
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "ThrottlingException",
];

/// Items one filtered scan request evaluates: a shelf page is filled in
/// few requests however few of the table's books are its owner's.
const FILTERED_SCAN_ITEMS: usize = 500;

/// Books in one DynamoDB table.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    /// Books in `table`, through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// A client from the environment (region, credentials, `AWS_ENDPOINT_URL`),
    /// retrying throttled calls with backoff: the services' one SDK policy.
    pub async fn from_env(table: impl Into<String>) -> Self {
        Self::new(Client::new(&aws_clients::sdk_config().await), table)
    }

    /// Creates the books table (hash key `id`, on-demand capacity): the
    /// schema the Terraform module also declares. For tests and local set-up.
    pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
        aws_clients::create_table(client, table, "id")
            .await
            .map_err(|e| classify(&e, StoreError::AlreadyExists))
    }

    /// Tells a failed condition apart: gone (404) or moved on (412).
    async fn conflict_or_missing(&self, id: &str) -> StoreError {
        match self.get(id).await {
            Ok(None) => StoreError::NotFound,
            Ok(Some(_)) => StoreError::VersionConflict,
            Err(error) => error,
        }
    }
}

/// Maps an SDK error, with `conditional` for a failed condition.
fn classify<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    error: &SdkError<E, R>,
    conditional: StoreError,
) -> StoreError {
    let code = error.as_service_error().and_then(|e| e.code());
    match code {
        Some("ConditionalCheckFailedException") => conditional,
        Some(code) if THROTTLING.contains(&code) => StoreError::Unavailable,
        _ => StoreError::Internal(format!(
            "{}",
            aws_sdk_dynamodb::error::DisplayErrorContext(error)
        )),
    }
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn to_item(book: &Book) -> HashMap<String, AttributeValue> {
    let mut item = HashMap::from([
        ("id".to_owned(), s(&book.id)),
        ("title".to_owned(), s(&book.title)),
        ("author".to_owned(), s(&book.author)),
        ("owner".to_owned(), s(&book.owner)),
        ("version".to_owned(), n(book.version)),
        ("created_at".to_owned(), s(&book.created_at)),
        ("updated_at".to_owned(), s(&book.updated_at)),
        (
            "tags".to_owned(),
            AttributeValue::L(book.tags.iter().map(|t| s(t)).collect()),
        ),
    ]);
    if let Some(isbn) = &book.isbn {
        item.insert("isbn".to_owned(), s(isbn));
    }
    if let Some(year) = book.published_year {
        item.insert("published_year".to_owned(), n(year));
    }
    if let Some(issuer) = &book.owner_issuer {
        item.insert("owner_issuer".to_owned(), s(issuer));
    }
    item
}

fn from_item(item: &HashMap<String, AttributeValue>) -> Result<Book, StoreError> {
    let text = |name: &str| -> Result<String, StoreError> {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .ok_or_else(|| {
                StoreError::Internal(format!("item attribute {name} is missing or not a string"))
            })
    };
    let number = |name: &str| -> Option<&String> { item.get(name).and_then(|v| v.as_n().ok()) };
    let version = number("version")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| StoreError::Internal("item attribute version is not a number".to_owned()))?;
    let tags = match item.get("tags") {
        Some(AttributeValue::L(list)) => {
            list.iter().filter_map(|v| v.as_s().ok().cloned()).collect()
        }
        _ => Vec::new(),
    };
    Ok(Book {
        id: text("id")?,
        title: text("title")?,
        author: text("author")?,
        isbn: item.get("isbn").and_then(|v| v.as_s().ok()).cloned(),
        published_year: number("published_year").and_then(|y| y.parse().ok()),
        tags,
        owner: text("owner")?,
        owner_issuer: item
            .get("owner_issuer")
            .and_then(|v| v.as_s().ok())
            .cloned(),
        version,
        created_at: text("created_at")?,
        updated_at: text("updated_at")?,
    })
}

#[async_trait]
impl BookStore for DynamoStore {
    async fn create(&self, book: &Book) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(book)))
            .condition_expression("attribute_not_exists(#id)")
            .expression_attribute_names("#id", "id")
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify(&e, StoreError::AlreadyExists))
    }

    async fn get(&self, id: &str) -> Result<Option<Book>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", s(id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify(&e, StoreError::NotFound))?;
        output.item().map(from_item).transpose()
    }

    async fn update(&self, book: &Book, expected_version: u64) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(book)))
            .condition_expression("#version = :expected")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":expected", n(expected_version))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match classify(&e, StoreError::VersionConflict) {
                StoreError::VersionConflict => Err(self.conflict_or_missing(&book.id).await),
                other => Err(other),
            },
        }
    }

    async fn delete(&self, id: &str, expected_version: Option<u64>) -> Result<(), StoreError> {
        let request = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("id", s(id));
        let request = match expected_version {
            Some(version) => request
                .condition_expression("#version = :expected")
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":expected", n(version)),
            None => request
                .condition_expression("attribute_exists(#id)")
                .expression_attribute_names("#id", "id"),
        };
        match request.send().await {
            Ok(_) => Ok(()),
            Err(e) => match classify(&e, StoreError::VersionConflict) {
                StoreError::VersionConflict => Err(self.conflict_or_missing(id).await),
                other => Err(other),
            },
        }
    }

    async fn list(
        &self,
        owner: Option<&str>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page, StoreError> {
        let mut start = cursor
            .map(decode_cursor)
            .transpose()?
            .map(|id| HashMap::from([("id".to_owned(), s(&id))]));
        let mut items: Vec<Book> = Vec::with_capacity(limit);
        // A filtered scan evaluates up to `Limit` items and returns those
        // that match: scan on until the page is full or the table ends, and
        // past a full page resume after its last book.
        let next_cursor = loop {
            let evaluate = match owner {
                Some(_) => FILTERED_SCAN_ITEMS,
                None => limit - items.len(),
            };
            let mut scan = self
                .client
                .scan()
                .table_name(&self.table)
                .limit(i32::try_from(evaluate).unwrap_or(i32::MAX))
                .consistent_read(true)
                .set_exclusive_start_key(start.take());
            if let Some(owner) = owner {
                scan = scan
                    .filter_expression("#owner = :owner")
                    .expression_attribute_names("#owner", "owner")
                    .expression_attribute_values(":owner", s(owner));
            }
            let output = scan
                .send()
                .await
                .map_err(|e| classify(&e, StoreError::Internal("scan failed".to_owned())))?;
            let found = output.items();
            let mut cut_short = false;
            for (i, item) in found.iter().enumerate() {
                items.push(from_item(item)?);
                if items.len() == limit {
                    cut_short = i + 1 < found.len();
                    break;
                }
            }
            let more = output.last_evaluated_key().is_some();
            if items.len() == limit {
                // Resume after the last book listed: any item evaluated
                // past it did not match, so scanning it again changes nothing.
                break (cut_short || more)
                    .then(|| items.last().map(|book| encode_cursor(&book.id)))
                    .flatten();
            }
            match output.last_evaluated_key() {
                Some(key) => start = Some(key.clone()),
                None => break None,
            }
        };
        Ok(Page { items, next_cursor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::error::ErrorMetadata;
    use aws_sdk_dynamodb::operation::put_item::PutItemError;

    fn failed(code: &str) -> SdkError<PutItemError, ()> {
        SdkError::service_error(
            PutItemError::generic(ErrorMetadata::builder().code(code).message("m").build()),
            (),
        )
    }

    #[test]
    fn error_codes_map_to_store_errors() {
        for code in THROTTLING {
            assert!(
                matches!(
                    classify(&failed(code), StoreError::NotFound),
                    StoreError::Unavailable
                ),
                "{code}"
            );
        }
        assert!(matches!(
            classify(
                &failed("ConditionalCheckFailedException"),
                StoreError::AlreadyExists
            ),
            StoreError::AlreadyExists
        ));
        assert!(matches!(
            classify(&failed("ValidationException"), StoreError::NotFound),
            StoreError::Internal(_)
        ));
    }

    #[test]
    fn items_round_trip() {
        let book = Book {
            id: "01JD7Q2Z6W4N8M5K3H1G0F9E8D".into(),
            title: "t".into(),
            author: "a".into(),
            isbn: Some("0306406152".into()),
            published_year: Some(-800),
            tags: vec!["x".into(), "y".into()],
            owner: "o".into(),
            owner_issuer: Some("https://issuer.test".into()),
            version: 7,
            created_at: "c".into(),
            updated_at: "u".into(),
        };
        assert_eq!(from_item(&to_item(&book)).unwrap(), book);
        let bare = Book {
            isbn: None,
            published_year: None,
            tags: vec![],
            ..book
        };
        assert_eq!(from_item(&to_item(&bare)).unwrap(), bare);
    }
}
