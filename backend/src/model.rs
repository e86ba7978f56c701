//! The book, and validation of what clients send.
//!
//! Bodies are read as a JSON object first so an unknown member can be
//! refused by name; then each allowed member is checked on its own, and
//! every failure names its field.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::isbn::normalize_isbn;

/// Longest title, in characters.
pub const TITLE_MAX_CHARS: usize = 300;
/// Longest author, in characters.
pub const AUTHOR_MAX_CHARS: usize = 200;
/// Most tags on a book.
pub const MAX_TAGS: usize = 10;
/// Longest tag, in characters.
pub const TAG_MAX_CHARS: usize = 50;
/// Oldest accepted publication year (negative: BCE, for the classics).
pub const YEAR_MIN: i32 = -3000;
/// Newest accepted publication year: announced books are a year ahead at most.
pub const YEAR_MAX: i32 = 2100;

/// Why a body is not a valid book or patch; every failure names its field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BookError {
    /// Not JSON at all; the parser's summary, never an echo of the input.
    #[error("malformed JSON: {0}")]
    Malformed(String),
    /// A member breaks a rule (`field` is empty for the body as a whole).
    #[error("{detail}")]
    Invalid {
        /// The offending member.
        field: String,
        /// The rule it breaks.
        detail: String,
    },
}

fn invalid(field: impl Into<String>, detail: impl Into<String>) -> BookError {
    BookError::Invalid {
        field: field.into(),
        detail: detail.into(),
    }
}

/// The members a client may send, for create and for patch.
const WRITABLE: [&str; 5] = ["title", "author", "isbn", "published_year", "tags"];
// `owner` and `owner_issuer` are never writable: they come from the caller.

/// A stored book.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Book {
    /// Server-generated ULID: sortable by creation time.
    pub id: String,
    /// Not blank, at most [`TITLE_MAX_CHARS`], no hidden characters.
    pub title: String,
    /// As the title, at most [`AUTHOR_MAX_CHARS`].
    pub author: String,
    /// ISBN-13, normalized (ISBN-10s are converted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isbn: Option<String>,
    /// [`YEAR_MIN`] to [`YEAR_MAX`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_year: Option<i32>,
    /// At most [`MAX_TAGS`].
    #[serde(default)]
    pub tags: Vec<String>,
    /// The `sub` of the caller who created it; never taken from a body.
    pub owner: String,
    /// The issuer of that `sub`: with several trusted issuers, the same
    /// `sub` from two issuers is two different people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_issuer: Option<String>,
    /// Bumped by every change; sent as the `ETag`.
    pub version: u64,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC; the last change.
    pub updated_at: String,
}

impl Book {
    /// A new book owned by `owner`, version 1.
    pub fn create(input: NewBook, owner: &str, owner_issuer: Option<&str>, now: &str) -> Self {
        Self {
            id: ulid::Ulid::new().to_string(),
            title: input.title,
            author: input.author,
            isbn: input.isbn,
            published_year: input.published_year,
            tags: input.tags,
            owner: owner.to_owned(),
            owner_issuer: owner_issuer.map(str::to_owned),
            version: 1,
            created_at: now.to_owned(),
            updated_at: now.to_owned(),
        }
    }

    /// This book with `patch` applied and the version bumped.
    pub fn patched(&self, patch: BookPatch, now: &str) -> Self {
        let mut next = self.clone();
        if let Some(title) = patch.title {
            next.title = title;
        }
        if let Some(author) = patch.author {
            next.author = author;
        }
        if let Some(isbn) = patch.isbn {
            next.isbn = isbn;
        }
        if let Some(year) = patch.published_year {
            next.published_year = year;
        }
        if let Some(tags) = patch.tags {
            next.tags = tags;
        }
        next.version = self.version + 1;
        next.updated_at = now.to_owned();
        next
    }

    /// The strong entity tag of this version.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

/// A validated create request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewBook {
    /// Required.
    pub title: String,
    /// Required.
    pub author: String,
    /// Optional.
    pub isbn: Option<String>,
    /// Optional.
    pub published_year: Option<i32>,
    /// Empty when not sent.
    pub tags: Vec<String>,
}

/// A validated partial update: `None` leaves a member as it is; for the
/// optional members, `Some(None)` (JSON `null`) clears it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BookPatch {
    /// A new title.
    pub title: Option<String>,
    /// A new author.
    pub author: Option<String>,
    /// A new ISBN, or none.
    pub isbn: Option<Option<String>>,
    /// A new year, or none.
    pub published_year: Option<Option<i32>>,
    /// New tags (`null` clears them).
    pub tags: Option<Vec<String>>,
}

impl BookPatch {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == BookPatch::default()
    }
}

/// Parses a body into a JSON object, refusing non-objects and unknown members.
fn writable_object(body: &[u8]) -> Result<Map<String, Value>, BookError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| BookError::Malformed(json_error_summary(&e)))?;
    let Value::Object(members) = value else {
        return Err(invalid("", "the body must be a JSON object"));
    };
    if let Some(unknown) = members.keys().find(|k| !WRITABLE.contains(&k.as_str())) {
        return Err(invalid(
            unknown.as_str(),
            format!(
                "unknown field {unknown:?}; allowed: {}",
                WRITABLE.join(", ")
            ),
        ));
    }
    Ok(members)
}

/// serde_json's message without the echo of input text.
fn json_error_summary(error: &serde_json::Error) -> String {
    format!(
        "{:?} error at line {} column {}",
        error.classify(),
        error.line(),
        error.column()
    )
}

/// Characters that change how text displays without showing themselves:
/// controls, bidi embeddings, overrides and isolates (the "Trojan Source"
/// trick: a title that reads differently from what it stores), the Arabic
/// letter mark, and zero-width characters (two titles that look alike).
fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

fn text(
    members: &Map<String, Value>,
    field: &'static str,
    max_chars: usize,
) -> Result<Option<String>, BookError> {
    match members.get(field) {
        None => Ok(None),
        Some(Value::String(s)) => {
            let chars = s.chars().count();
            if s.trim().is_empty() || chars > max_chars {
                return Err(invalid(
                    field,
                    format!("{field} must be 1 to {max_chars} characters, not blank"),
                ));
            }
            if s.chars().any(is_hidden) {
                return Err(invalid(
                    field,
                    format!(
                        "{field} must not contain control, bidi-override or zero-width characters"
                    ),
                ));
            }
            Ok(Some(s.clone()))
        }
        Some(_) => Err(invalid(field, format!("{field} must be a string"))),
    }
}

/// `Ok(None)`: absent; `Ok(Some(None))`: null; `Ok(Some(Some(isbn)))`: valid.
fn isbn(members: &Map<String, Value>) -> Result<Option<Option<String>>, BookError> {
    match members.get("isbn") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => normalize_isbn(s)
            .map(|isbn| Some(Some(isbn)))
            .ok_or_else(|| {
                invalid(
                    "isbn",
                    "isbn must be a valid ISBN-10 or ISBN-13 (check digit included)",
                )
            }),
        Some(_) => Err(invalid("isbn", "isbn must be a string")),
    }
}

fn published_year(members: &Map<String, Value>) -> Result<Option<Option<i32>>, BookError> {
    match members.get("published_year") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|y| i32::try_from(y).ok())
            .filter(|y| (YEAR_MIN..=YEAR_MAX).contains(y))
            .map(|y| Some(Some(y)))
            .ok_or_else(|| {
                invalid(
                    "published_year",
                    format!("published_year must be a whole year from {YEAR_MIN} to {YEAR_MAX}"),
                )
            }),
        Some(_) => Err(invalid("published_year", "published_year must be a number")),
    }
}

fn tags(members: &Map<String, Value>) -> Result<Option<Vec<String>>, BookError> {
    match members.get("tags") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(Vec::new())),
        Some(Value::Array(items)) => {
            if items.len() > MAX_TAGS {
                return Err(invalid("tags", format!("at most {MAX_TAGS} tags")));
            }
            items
                .iter()
                .map(|item| match item {
                    Value::String(tag)
                        if !tag.trim().is_empty()
                            && tag.chars().count() <= TAG_MAX_CHARS
                            && !tag.chars().any(is_hidden) =>
                    {
                        Ok(tag.clone())
                    }
                    _ => Err(invalid(
                        "tags",
                        format!("each tag must be a string of 1 to {TAG_MAX_CHARS} characters"),
                    )),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some)
        }
        Some(_) => Err(invalid("tags", "tags must be an array of strings")),
    }
}

/// Validates a create body: `title` and `author` required.
pub fn parse_new_book(body: &[u8]) -> Result<NewBook, BookError> {
    let members = writable_object(body)?;
    let title = text(&members, "title", TITLE_MAX_CHARS)?
        .ok_or_else(|| invalid("title", "title is required"))?;
    let author = text(&members, "author", AUTHOR_MAX_CHARS)?
        .ok_or_else(|| invalid("author", "author is required"))?;
    Ok(NewBook {
        title,
        author,
        isbn: isbn(&members)?.flatten(),
        published_year: published_year(&members)?.flatten(),
        tags: tags(&members)?.unwrap_or_default(),
    })
}

/// Validates a patch body: at least one member; `title`/`author` can't be null.
pub fn parse_patch(body: &[u8]) -> Result<BookPatch, BookError> {
    let members = writable_object(body)?;
    let patch = BookPatch {
        title: text(&members, "title", TITLE_MAX_CHARS)?,
        author: text(&members, "author", AUTHOR_MAX_CHARS)?,
        isbn: isbn(&members)?,
        published_year: published_year(&members)?,
        tags: tags(&members)?,
    };
    if patch.is_empty() {
        return Err(invalid("", "the patch changes nothing: send at least one of title, author, isbn, published_year, tags"));
    }
    Ok(patch)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The problem the routes answer for a refused body.
    fn problem_of<T: std::fmt::Debug>(result: Result<T, BookError>) -> identity::Problem {
        identity::Problem::from(result.unwrap_err())
    }

    fn field_of(result: Result<NewBook, BookError>) -> (u16, Option<String>) {
        let problem = problem_of(result);
        (problem.status, problem.field)
    }

    #[test]
    fn a_valid_book_parses_and_normalises_its_isbn() {
        let book = parse_new_book(br#"{"title":"Dune","author":"Frank Herbert","isbn":"978-0-441-17271-9","published_year":1965,"tags":["sf"]}"#).unwrap();
        assert_eq!(book.isbn.as_deref(), Some("9780441172719"));
        assert_eq!(book.published_year, Some(1965));
    }

    #[test]
    fn unknown_and_server_owned_members_are_refused_by_name() {
        assert_eq!(
            field_of(parse_new_book(
                br#"{"title":"t","author":"a","owner":"mallory"}"#
            )),
            (422, Some("owner".into()))
        );
        assert_eq!(
            field_of(parse_new_book(br#"{"title":"t","author":"a","version":9}"#)),
            (422, Some("version".into()))
        );
        assert_eq!(
            field_of(parse_new_book(
                br##"{"title":"t","author":"a","#attr = :x":1}"##
            )),
            (422, Some("#attr = :x".into()))
        );
    }

    #[test]
    fn limits_are_enforced() {
        let long = "x".repeat(301);
        assert_eq!(
            field_of(parse_new_book(
                format!(r#"{{"title":"{long}","author":"a"}}"#).as_bytes()
            )),
            (422, Some("title".into()))
        );
        assert!(
            parse_new_book(format!(r#"{{"title":"{}","author":"a"}}"#, "é".repeat(300)).as_bytes())
                .is_ok(),
            "characters, not bytes"
        );
        assert_eq!(
            field_of(parse_new_book(br#"{"title":"t","author":""}"#)),
            (422, Some("author".into()))
        );
        assert_eq!(
            field_of(parse_new_book(
                br#"{"title":"t","author":"a","isbn":"978-0-441-17271-0"}"#
            )),
            (422, Some("isbn".into()))
        );
        assert_eq!(
            field_of(parse_new_book(
                br#"{"title":"t","author":"a","published_year":99999}"#
            )),
            (422, Some("published_year".into()))
        );
        assert_eq!(
            field_of(parse_new_book(
                br#"{"title":"t","author":"a","published_year":1965.5}"#
            )),
            (422, Some("published_year".into()))
        );
        let tags: Vec<String> = (0..11).map(|i| format!("\"t{i}\"")).collect();
        assert_eq!(
            field_of(parse_new_book(
                format!(
                    r#"{{"title":"t","author":"a","tags":[{}]}}"#,
                    tags.join(",")
                )
                .as_bytes()
            )),
            (422, Some("tags".into()))
        );
        assert_eq!(
            field_of(parse_new_book(br#"{"author":"a"}"#)),
            (422, Some("title".into()))
        );
        assert_eq!(
            field_of(parse_new_book(br#"{"title":"a\u0000b","author":"a"}"#)),
            (422, Some("title".into()))
        );
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        for body in [&b"{"[..], b"", b"nope", b"{\"title\":}"] {
            assert_eq!(problem_of(parse_new_book(body)).status, 400);
        }
        assert_eq!(problem_of(parse_new_book(b"[1]")).status, 422);
    }

    #[test]
    fn patches_clear_optional_members_with_null_and_refuse_empty_patches() {
        let patch = parse_patch(br#"{"isbn":null,"published_year":null}"#).unwrap();
        assert_eq!(patch.isbn, Some(None));
        assert_eq!(patch.published_year, Some(None));
        assert_eq!(problem_of(parse_patch(b"{}")).status, 422);
        assert_eq!(
            problem_of(parse_patch(br#"{"title":null}"#))
                .field
                .as_deref(),
            Some("title")
        );
    }
}

#[cfg(test)]
mod no_panic {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = parse_new_book(&body);
            let _ = parse_patch(&body);
        }

        #[test]
        fn json_shaped_bodies_never_panic(title in "\\PC{0,400}", year in any::<i64>(), tag in "\\PC{0,60}", key in "\\PC{0,12}") {
            let body = serde_json::json!({"title": title, "author": "a", "published_year": year, "tags": [tag], key: 1}).to_string();
            let _ = parse_new_book(body.as_bytes());
            let _ = parse_patch(body.as_bytes());
        }
    }
}
