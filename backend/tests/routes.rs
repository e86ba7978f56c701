//! Every status the books API answers, with identity presented the way
//! `lambda_http` presents API Gateway's authorizer context: requests are
//! made from real REST (v1) and HTTP API (v2) event JSON.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::Router;
use backend::EmbeddedStore;
use serde_json::{json, Value};
use tower::ServiceExt;

struct Api {
    router: Router,
    _dir: tempfile::TempDir,
}

/// Who calls: `sub` and space-separated scopes, or nobody.
type Identity<'a> = Option<(&'a str, &'a str)>;

const ALICE: Identity = Some(("alice", "books:read books:write"));
const BOB: Identity = Some(("bob", "books:read books:write"));
const READER: Identity = Some(("rita", "books:read"));
const ADMIN: Identity = Some(("root", "books:read books:write books:admin"));

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Api {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(EmbeddedStore::open(&dir.path().join("books.redb")).unwrap());
        Self {
            router: backend::router(store),
            _dir: dir,
        }
    }

    /// A REST API (v1) proxy event, through lambda_http's own conversion.
    async fn call(
        &self,
        method: &str,
        path_and_query: &str,
        who: Identity<'_>,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Answer {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let query: serde_json::Map<String, Value> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_owned(), json!(v)))
            .collect();
        let mut header_map = serde_json::Map::new();
        header_map.insert(
            "Host".into(),
            json!("abc123.execute-api.eu-west-1.amazonaws.com"),
        );
        for (k, v) in headers {
            header_map.insert((*k).to_owned(), json!(v));
        }
        if body.is_some()
            && !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            header_map.insert("Content-Type".into(), json!("application/json"));
        }
        let multi: serde_json::Map<String, Value> = header_map
            .iter()
            .map(|(k, v)| (k.clone(), json!([v])))
            .collect();
        let mut context = json!({"accountId": "123456789012", "resourceId": "r1", "stage": "prod", "requestId": "req-1",
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "test"}, "resourcePath": "/books", "httpMethod": method,
            "apiId": "abc123", "path": format!("/prod{path}")});
        if let Some((sub, scope)) = who {
            // `sub@issuer` selects another issuer than the default one.
            let (sub, iss) = sub.split_once('@').unwrap_or((sub, "https://issuer.test"));
            context["authorizer"] =
                json!({"principalId": sub, "sub": sub, "scope": scope, "iss": iss, "kid": "k1"});
        }
        let event = json!({"resource": "/{proxy+}", "path": path, "httpMethod": method, "headers": header_map,
            "multiValueHeaders": multi, "queryStringParameters": if query.is_empty() { Value::Null } else { Value::Object(query.clone()) },
            "multiValueQueryStringParameters": if query.is_empty() { Value::Null } else { Value::Object(query.iter().map(|(k, v)| (k.clone(), json!([v]))).collect()) },
            "pathParameters": null, "stageVariables": null, "requestContext": context, "body": body, "isBase64Encoded": false});
        self.send(event).await
    }

    /// `PATCH /books/{id}` with `body`, and `If-Match` when given.
    async fn patch(
        &self,
        id: &str,
        who: Identity<'_>,
        if_match: Option<&str>,
        body: &str,
    ) -> Answer {
        let headers: Vec<(&str, &str)> =
            if_match.map(|tag| ("If-Match", tag)).into_iter().collect();
        self.call("PATCH", &format!("/books/{id}"), who, &headers, Some(body))
            .await
    }

    /// `DELETE /books/{id}`, with `If-Match` when given.
    async fn delete(&self, id: &str, who: Identity<'_>, if_match: Option<&str>) -> Answer {
        let headers: Vec<(&str, &str)> =
            if_match.map(|tag| ("If-Match", tag)).into_iter().collect();
        self.call("DELETE", &format!("/books/{id}"), who, &headers, None)
            .await
    }

    async fn send(&self, event: Value) -> Answer {
        let request = lambda_http::request::from_str(&event.to_string())
            .expect("lambda_http accepts the event");
        let (parts, body) = request.into_parts();
        let body = match body {
            lambda_http::Body::Empty => Body::empty(),
            lambda_http::Body::Text(text) => Body::from(text),
            lambda_http::Body::Binary(bytes) => Body::from(bytes),
            _ => Body::empty(),
        };
        let response = self
            .router
            .clone()
            .oneshot(axum::http::Request::from_parts(parts, body))
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        if !status.is_success() {
            assert_eq!(
                headers["content-type"], "application/problem+json",
                "{status}: errors are problem+json"
            );
            assert_eq!(body["status"], status.as_u16());
        }
        Answer {
            status,
            headers,
            body,
        }
    }

    async fn create(&self, who: Identity<'_>, title: &str) -> Answer {
        let body = json!({"title": title, "author": "Octavia E. Butler", "isbn": "0-306-40615-2", "published_year": 1979, "tags": ["sf"]}).to_string();
        self.call("POST", "/books", who, &[], Some(&body)).await
    }
}

#[tokio::test]
async fn create_read_update_delete() {
    let api = Api::new();
    let created = api.create(ALICE, "Kindred").await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.headers["location"],
        format!("/prod/books/{id}"),
        "the client's path: the REST stage in front"
    );
    assert_eq!(created.headers["etag"], "\"1\"");
    assert_eq!(created.body["owner"], "alice");
    assert_eq!(created.body["isbn"], "0306406152");

    let read = api
        .call("GET", &format!("/books/{id}"), READER, &[], None)
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.headers["etag"], "\"1\"");
    assert_eq!(read.body["title"], "Kindred");

    let patched = api
        .patch(&id, ALICE, Some("\"1\""), r#"{"title":"Dawn","isbn":null}"#)
        .await;
    assert_eq!(patched.status, StatusCode::OK);
    assert_eq!(patched.headers["etag"], "\"2\"");
    assert_eq!(patched.body["title"], "Dawn");
    assert!(patched.body.get("isbn").is_none());
    assert_eq!(
        patched.body["author"], "Octavia E. Butler",
        "untouched members stay"
    );

    let stale = api
        .patch(&id, ALICE, Some("\"1\""), r#"{"title":"x"}"#)
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let stale_delete = api.delete(&id, ALICE, Some("\"1\"")).await;
    assert_eq!(stale_delete.status, StatusCode::PRECONDITION_FAILED);

    let deleted = api.delete(&id, ALICE, Some("\"2\"")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        api.call("GET", &format!("/books/{id}"), ALICE, &[], None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.delete(&id, ALICE, None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn identity_comes_only_from_the_authorizer_context() {
    let api = Api::new();
    let none = api
        .call(
            "GET",
            "/books",
            None,
            &[("X-Sub", "alice"), ("X-Scope", "books:read")],
            None,
        )
        .await;
    assert_eq!(
        none.status,
        StatusCode::UNAUTHORIZED,
        "headers a client sets are not identity"
    );
    let post = api
        .call(
            "POST",
            "/books",
            None,
            &[],
            Some(r#"{"title":"t","author":"a"}"#),
        )
        .await;
    assert_eq!(post.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn scopes_and_ownership_are_enforced() {
    let api = Api::new();
    assert_eq!(
        api.create(READER, "nope").await.status,
        StatusCode::FORBIDDEN,
        "books:write needed"
    );
    assert_eq!(
        api.call("GET", "/books", Some(("x", "profile")), &[], None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    let id = api.create(ALICE, "Parable").await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bob_patch = api.patch(&id, BOB, None, r#"{"title":"mine now"}"#).await;
    assert_eq!(bob_patch.status, StatusCode::FORBIDDEN);
    assert_eq!(
        api.delete(&id, BOB, None).await.status,
        StatusCode::FORBIDDEN
    );
    let reader_patch = api.patch(&id, READER, None, r#"{"title":"x"}"#).await;
    assert_eq!(reader_patch.status, StatusCode::FORBIDDEN);

    let admin_patch = api
        .patch(&id, ADMIN, None, r#"{"title":"Parable of the Talents"}"#)
        .await;
    assert_eq!(
        admin_patch.status,
        StatusCode::OK,
        "an admin may change any book"
    );
    assert_eq!(admin_patch.body["owner"], "alice", "ownership never moves");
    assert_eq!(
        api.delete(&id, ADMIN, None).await.status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn the_same_sub_from_another_issuer_is_not_the_owner() {
    let api = Api::new();
    let created = api.create(ALICE, "Fledgling").await;
    assert_eq!(created.body["owner"], "alice");
    assert_eq!(created.body["owner_issuer"], "https://issuer.test");
    let id = created.body["id"].as_str().unwrap().to_owned();
    let impostor = Some(("alice@https://other-issuer.test", "books:read books:write"));
    let patch = api.patch(&id, impostor, None, r#"{"title":"mine"}"#).await;
    assert_eq!(patch.status, StatusCode::FORBIDDEN);
    assert_eq!(
        api.delete(&id, impostor, None).await.status,
        StatusCode::FORBIDDEN
    );
    let owner = api
        .patch(&id, ALICE, None, r#"{"title":"Fledgling (2005)"}"#)
        .await;
    assert_eq!(owner.status, StatusCode::OK);
}

#[tokio::test]
async fn bad_bodies_get_clear_4xx() {
    let api = Api::new();
    // (body, extra headers, expected status, field named in the problem)
    type Case<'a> = (
        Option<String>,
        Vec<(&'a str, &'a str)>,
        StatusCode,
        Option<&'a str>,
    );
    let cases: Vec<Case> = vec![
        (Some("{".into()), vec![], StatusCode::BAD_REQUEST, None),
        (Some(String::new()), vec![], StatusCode::BAD_REQUEST, None),
        (None, vec![], StatusCode::BAD_REQUEST, None),
        (
            Some(r#"{"title":"t","author":"a","owner":"mallory"}"#.into()),
            vec![],
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("owner"),
        ),
        (
            Some(r#"{"title":"t","author":"a","colour":"red"}"#.into()),
            vec![],
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("colour"),
        ),
        (
            Some(r#"{"title":"","author":"a"}"#.into()),
            vec![],
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("title"),
        ),
        (
            Some(r#"{"title":"t","author":"a","isbn":"123"}"#.into()),
            vec![],
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("isbn"),
        ),
        (
            Some(format!(
                r#"{{"title":"{}","author":"a"}}"#,
                "x".repeat(17 * 1024)
            )),
            vec![],
            StatusCode::PAYLOAD_TOO_LARGE,
            None,
        ),
        (
            Some(r#"{"title":"t","author":"a"}"#.into()),
            vec![("Content-Type", "text/plain")],
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
        ),
    ];
    for (body, headers, status, field) in cases {
        let answer = api
            .call("POST", "/books", ALICE, &headers, body.as_deref())
            .await;
        assert_eq!(answer.status, status, "{body:?}");
        if let Some(field) = field {
            assert_eq!(answer.body["field"], field);
            assert!(answer.body["detail"].as_str().unwrap().contains(field));
        }
    }
    // Nothing internal leaks.
    let answer = api
        .call("POST", "/books", ALICE, &[], Some("{\"title\": nope}"))
        .await;
    assert!(
        !answer.body.to_string().contains("nope"),
        "input is not echoed back"
    );
}

#[tokio::test]
async fn odd_ids_routes_and_preconditions() {
    let api = Api::new();
    for path in [
        "/books/not-a-ulid",
        "/books/01ARZ3NDEKTSV4RRFFQ69G5FAV",
        "/books/%27%3B--",
        "/books/%FF",
        "/nothing",
    ] {
        assert_eq!(
            api.call("GET", path, ALICE, &[], None).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    assert_eq!(
        api.call("PUT", "/books", ALICE, &[], None).await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    let id = api.create(ALICE, "Wild Seed").await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let foreign_tag = api
        .patch(&id, ALICE, Some("W/\"weak\""), r#"{"title":"x"}"#)
        .await;
    assert_eq!(foreign_tag.status, StatusCode::PRECONDITION_FAILED);
    let any = api
        .patch(&id, ALICE, Some("*"), r#"{"title":"Mind of My Mind"}"#)
        .await;
    assert_eq!(any.status, StatusCode::OK);
    let listed = api
        .patch(
            &id,
            ALICE,
            Some("\"9\", \"2\""),
            r#"{"title":"Clay's Ark"}"#,
        )
        .await;
    assert_eq!(
        listed.status,
        StatusCode::OK,
        "any tag of an If-Match list may match"
    );
}

#[tokio::test]
async fn if_match_on_a_missing_book_is_412_not_404() {
    let api = Api::new();
    for path in ["/books/01ARZ3NDEKTSV4RRFFQ69G5FAV", "/books/not-a-ulid"] {
        for if_match in ["\"1\"", "*"] {
            let id = path.trim_start_matches("/books/");
            let patch = api
                .patch(id, ALICE, Some(if_match), r#"{"title":"x"}"#)
                .await;
            assert_eq!(
                patch.status,
                StatusCode::PRECONDITION_FAILED,
                "PATCH {path} {if_match}"
            );
            let delete = api
                .call("DELETE", path, ALICE, &[("If-Match", if_match)], None)
                .await;
            assert_eq!(
                delete.status,
                StatusCode::PRECONDITION_FAILED,
                "DELETE {path} {if_match}"
            );
        }
        let plain = api.call("DELETE", path, ALICE, &[], None).await;
        assert_eq!(plain.status, StatusCode::NOT_FOUND, "no If-Match: 404");
    }
}

#[tokio::test]
async fn hidden_characters_are_refused_in_titles_authors_and_tags() {
    let api = Api::new();
    for (field, value) in [
        ("title", "Kindred\u{202E}txt.exe"),
        ("title", "Kin\u{200B}dred"),
        ("author", "Octavia\u{2066} Butler"),
        ("author", "\u{FEFF}Octavia Butler"),
        ("title", "Kin\u{200D}dred"),
    ] {
        let mut book = json!({"title": "Kindred", "author": "Octavia E. Butler"});
        book[field] = json!(value);
        let answer = api
            .call("POST", "/books", ALICE, &[], Some(&book.to_string()))
            .await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {value:?}"
        );
        assert_eq!(answer.body["field"], field);
    }
    let tagged =
        json!({"title": "Kindred", "author": "Octavia E. Butler", "tags": ["sf", "a\u{202D}b"]});
    let answer = api
        .call("POST", "/books", ALICE, &[], Some(&tagged.to_string()))
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.body["field"], "tags");
    let fine = json!({"title": "Die Blechtrommel — Günter Grass, 日本語, العربية", "author": "Ａ"});
    assert_eq!(
        api.call("POST", "/books", ALICE, &[], Some(&fine.to_string()))
            .await
            .status,
        StatusCode::CREATED,
        "ordinary non-ASCII text is fine"
    );
}

/// Loses every race: each conditional update finds the version moved (a
/// test double for writers faster than this one).
struct AlwaysOvertaken(EmbeddedStore);

#[async_trait::async_trait]
impl backend::BookStore for AlwaysOvertaken {
    async fn create(&self, book: &backend::Book) -> Result<(), backend::StoreError> {
        self.0.create(book).await
    }
    async fn get(&self, id: &str) -> Result<Option<backend::Book>, backend::StoreError> {
        self.0.get(id).await
    }
    async fn update(&self, _: &backend::Book, _: u64) -> Result<(), backend::StoreError> {
        Err(backend::StoreError::VersionConflict)
    }
    async fn delete(&self, id: &str, v: Option<u64>) -> Result<(), backend::StoreError> {
        self.0.delete(id, v).await
    }
    async fn list(
        &self,
        o: Option<&str>,
        n: usize,
        c: Option<&str>,
    ) -> Result<backend::Page, backend::StoreError> {
        self.0.list(o, n, c).await
    }
}

#[tokio::test]
async fn an_unconditional_patch_that_keeps_losing_races_is_409_never_412() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(&dir.path().join("books.redb")).unwrap();
    let api = Api {
        router: backend::router(Arc::new(AlwaysOvertaken(store))),
        _dir: dir,
    };
    let id = api.create(ALICE, "Kindred").await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for if_match in [None, Some("*")] {
        let answer = api.patch(&id, ALICE, if_match, r#"{"title":"x"}"#).await;
        assert_eq!(
            answer.status,
            StatusCode::CONFLICT,
            "If-Match {if_match:?}: {}",
            answer.body
        );
    }
    let tagged = api
        .patch(&id, ALICE, Some("\"1\""), r#"{"title":"x"}"#)
        .await;
    assert_eq!(
        tagged.status,
        StatusCode::PRECONDITION_FAILED,
        "a named version that moved is 412"
    );
}

#[tokio::test]
async fn pagination_over_http_walks_every_book_once() {
    let api = Api::new();
    let mut created = std::collections::HashSet::new();
    for i in 0..7 {
        created.insert(
            api.create(ALICE, &format!("Book {i}")).await.body["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let path = if cursor.is_empty() {
            "/books?limit=3".to_owned()
        } else {
            format!("/books?limit=3&cursor={cursor}")
        };
        let page = api.call("GET", &path, READER, &[], None).await;
        assert_eq!(page.status, StatusCode::OK);
        for item in page.body["items"].as_array().unwrap() {
            assert!(seen.insert(item["id"].as_str().unwrap().to_owned()));
        }
        pages += 1;
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, created);
    for bad in [
        "/books?limit=0",
        "/books?limit=101",
        "/books?limit=x",
        "/books?cursor=%21%21",
    ] {
        assert_eq!(
            api.call("GET", bad, READER, &[], None).await.status,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
    let default_page = api.call("GET", "/books", READER, &[], None).await;
    assert_eq!(default_page.body["items"].as_array().unwrap().len(), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_racing_writers_leave_exactly_one_winner() {
    let api = Arc::new(Api::new());
    let id = api.create(ALICE, "contended").await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut tasks = Vec::new();
    for writer in 0..8 {
        let api = Arc::clone(&api);
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            let body = format!(r#"{{"title":"writer {writer}"}}"#);
            api.call(
                "PATCH",
                &format!("/books/{id}"),
                ALICE,
                &[("If-Match", "\"1\"")],
                Some(&body),
            )
            .await
            .status
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::PRECONDITION_FAILED)
            .count(),
        7
    );
    let book = api
        .call("GET", &format!("/books/{id}"), ALICE, &[], None)
        .await;
    assert_eq!(book.headers["etag"], "\"2\"");
}

#[tokio::test]
async fn http_api_v2_lambda_context_is_read_too() {
    let api = Api::new();
    let event = json!({"version": "2.0", "routeKey": "POST /books", "rawPath": "/books", "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": "abc123.execute-api.eu-west-1.amazonaws.com"},
        "requestContext": {"accountId": "123456789012", "apiId": "abc123", "domainName": "abc123.execute-api.eu-west-1.amazonaws.com",
            "domainPrefix": "abc123", "http": {"method": "POST", "path": "/books", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "test"},
            "requestId": "r", "routeKey": "POST /books", "stage": "$default", "time": "23/Nov/2026:00:00:00 +0000", "timeEpoch": 0,
            "authorizer": {"lambda": {"sub": "victor", "scope": "books:write"}}},
        "body": r#"{"title":"Lilith's Brood","author":"Octavia E. Butler"}"#, "isBase64Encoded": false});
    let answer = api.send(event).await;
    assert_eq!(answer.status, StatusCode::CREATED);
    assert_eq!(answer.body["owner"], "victor");
}

/// A store that fails every call the same way: a test double for the
/// routes' error mapping (the real stores are tested in `store_suite`).
struct FailingStore(fn() -> backend::StoreError);

#[async_trait::async_trait]
impl backend::BookStore for FailingStore {
    async fn create(&self, _: &backend::Book) -> Result<(), backend::StoreError> {
        Err((self.0)())
    }
    async fn get(&self, _: &str) -> Result<Option<backend::Book>, backend::StoreError> {
        Err((self.0)())
    }
    async fn update(&self, _: &backend::Book, _: u64) -> Result<(), backend::StoreError> {
        Err((self.0)())
    }
    async fn delete(&self, _: &str, _: Option<u64>) -> Result<(), backend::StoreError> {
        Err((self.0)())
    }
    async fn list(
        &self,
        _: Option<&str>,
        _: usize,
        _: Option<&str>,
    ) -> Result<backend::Page, backend::StoreError> {
        Err((self.0)())
    }
}

#[tokio::test]
async fn store_failures_become_503_or_an_opaque_500() {
    let throttled = Api {
        router: backend::router(Arc::new(FailingStore(|| backend::StoreError::Unavailable))),
        _dir: tempfile::tempdir().unwrap(),
    };
    let busy = throttled.call("GET", "/books", READER, &[], None).await;
    assert_eq!(busy.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(busy.headers["retry-after"], "1");
    assert_eq!(
        throttled.create(ALICE, "t").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );

    let broken = Api {
        router: backend::router(Arc::new(FailingStore(|| {
            backend::StoreError::Internal(
                "secret table arn:aws:dynamodb:eu-west-1:123:table/books".into(),
            )
        }))),
        _dir: tempfile::tempdir().unwrap(),
    };
    let failure = broken
        .call(
            "GET",
            "/books/01JD7Q2Z6W4N8M5K3H1G0F9E8D",
            READER,
            &[],
            None,
        )
        .await;
    assert_eq!(failure.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        !failure.body.to_string().contains("arn:aws"),
        "no internals in the answer: {}",
        failure.body
    );
}
