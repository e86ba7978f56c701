//! Token status in DynamoDB (`STATUS_TABLE`: hash key `pk`, sort key `sk`,
//! both strings; TTL attribute `purge_at`). The items:
//!
//! | pk | sk | what |
//! |---|---|---|
//! | `allocator` | `allocator` | `open_list`, the list blocks are claimed in, and `claims_until`, when it stops taking claims |
//! | `block` | `{list}/{block}`, zero-padded | a claimed block (created only if absent; TTL after its tokens, beyond the list's claim window) |
//! | `revision` | `revision` | `revision`, grown by each revocation |
//! | `list` | the list number, 20 digits | `expires_at`, `revoked` (a number set), `version` |
//! | `jti#{jti}` | `token` | `sub`, `list`, `idx`, `exp` |
//! | `sub#{sub}` | `{jti}` | `list`, `idx`, `exp` |
//!
//! No expression text is built from input: expressions are constants and
//! values go through `ExpressionAttributeValues`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;

use super::LIST_CLAIM_WINDOW_SECONDS;
use super::{random_block, BLOCK_SIZE, LIST_SIZE, MISSES_BEFORE_NEXT_LIST, PURGE_AFTER_SECONDS};
use super::{ListRecord, Slot, StatusStore, StatusStoreError, TokenRecord};
/// Claims one reservation may try before it gives up (it only gets there
/// if the table keeps changing under it).
const MAX_CLAIMS: u32 = 64;

type Item = HashMap<String, AttributeValue>;

/// The list claims go to, and until when it takes them (Unix seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct OpenList {
    list: u64,
    claims_until: u64,
}

/// Token status in one DynamoDB table.
#[derive(Clone, Debug)]
pub struct DynamoStatusStore {
    client: Client,
    table: String,
    /// The open list as last seen (`None` before the first read).
    open_list: Arc<Mutex<Option<OpenList>>>,
}

fn io<E: std::error::Error + 'static, R: std::fmt::Debug>(
    error: SdkError<E, R>,
) -> StatusStoreError {
    StatusStoreError::Io(aws_sdk_dynamodb::error::DisplayErrorContext(error).to_string())
}

fn is_condition_failure<E: aws_sdk_dynamodb::error::ProvideErrorMetadata, R>(
    error: &SdkError<E, R>,
) -> bool {
    error
        .as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "ConditionalCheckFailedException")
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn number(item: &Item, name: &str) -> Result<u64, StatusStoreError> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| StatusStoreError::Corrupt(format!("status attribute {name} missing")))
}

fn text(item: &Item, name: &str) -> Result<String, StatusStoreError> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .ok_or_else(|| StatusStoreError::Corrupt(format!("status attribute {name} missing")))
}

/// The sort key of list `list`: zero-padded, so keys sort as numbers.
fn list_key(list: u64) -> String {
    format!("{list:020}")
}

fn slot(item: &Item) -> Result<Slot, StatusStoreError> {
    Ok(Slot {
        list: number(item, "list")?,
        idx: number(item, "idx")?,
    })
}

impl DynamoStatusStore {
    /// Token status in `table`, through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            open_list: Arc::new(Mutex::new(None)),
        }
    }

    /// A client from the environment (region, credentials, `AWS_ENDPOINT_URL`).
    pub async fn from_env(table: impl Into<String>) -> Self {
        Self::new(Client::new(&aws_clients::sdk_config().await), table)
    }

    /// Creates the status table (`pk`, `sk`, on-demand): the schema the
    /// Terraform module declares. For tests and local set-up.
    pub async fn create_table(client: &Client, table: &str) -> Result<(), StatusStoreError> {
        aws_clients::create_table_with_sort_key(client, table, "pk", "sk")
            .await
            .map_err(io)
    }

    async fn get(&self, pk: String, sk: String) -> Result<Option<Item>, StatusStoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(io)?;
        Ok(output.item)
    }

    fn remember(&self, open: OpenList) -> OpenList {
        *self
            .open_list
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(open);
        open
    }

    /// The list blocks are claimed in: as last seen, else read.
    async fn open_list(&self, now: u64) -> Result<OpenList, StatusStoreError> {
        let cached = *self
            .open_list
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match cached {
            Some(open) => Ok(open),
            None => self.read_open_list(now).await,
        }
    }

    /// Reads the open list. A table that has none with a claim window (a new
    /// table, or one written before lists had one) gets one now: the list
    /// it names keeps its number if nothing was ever claimed in it (no list
    /// item), else the next list opens, since when its first blocks were
    /// claimed is not known.
    async fn read_open_list(&self, now: u64) -> Result<OpenList, StatusStoreError> {
        for _ in 0..2 {
            let item = self.get("allocator".into(), "allocator".into()).await?;
            let list = match &item {
                Some(item) if item.contains_key("open_list") => number(item, "open_list")?,
                _ => 0,
            };
            if let Some(item) = item.as_ref().filter(|i| i.contains_key("claims_until")) {
                let claims_until = number(item, "claims_until")?;
                return Ok(self.remember(OpenList { list, claims_until }));
            }
            let used = self.get("list".into(), list_key(list)).await?.is_some();
            let open = OpenList {
                list: if used { list + 1 } else { list },
                claims_until: now.saturating_add(LIST_CLAIM_WINDOW_SECONDS),
            };
            let started = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", s("allocator"))
                .key("sk", s("allocator"))
                .update_expression("SET open_list = :list, claims_until = :until")
                .condition_expression("attribute_not_exists(claims_until)")
                .expression_attribute_values(":list", n(open.list))
                .expression_attribute_values(":until", n(open.claims_until))
                .send()
                .await;
            match started {
                Ok(_) => return Ok(self.remember(open)),
                // Another instance started one first: read its choice.
                Err(error) if is_condition_failure(&error) => continue,
                Err(error) => return Err(io(error)),
            }
        }
        Err(StatusStoreError::Corrupt(
            "status allocator has no claims_until after it was set".into(),
        ))
    }

    /// Opens the list after `closed` (full, or past its claim window) with
    /// a claim window from `now`, unless another instance already moved on
    /// (then its choice stands, and is returned: it may be past its own
    /// window, which the caller checks again). Two instances opening the
    /// same next list agree on it.
    async fn open_next_list(&self, closed: u64, now: u64) -> Result<OpenList, StatusStoreError> {
        let open = OpenList {
            list: closed + 1,
            claims_until: now.saturating_add(LIST_CLAIM_WINDOW_SECONDS),
        };
        let opened = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s("allocator"))
            .key("sk", s("allocator"))
            .update_expression("SET open_list = :next, claims_until = :until")
            .condition_expression("attribute_not_exists(open_list) OR open_list = :closed")
            .expression_attribute_values(":next", n(open.list))
            .expression_attribute_values(":until", n(open.claims_until))
            .expression_attribute_values(":closed", n(closed))
            .send()
            .await;
        match opened {
            Ok(_) => Ok(self.remember(open)),
            Err(error) if is_condition_failure(&error) => self.read_open_list(now).await,
            Err(error) => Err(io(error)),
        }
    }

    /// Claims block `block` of list `list`: `false` if it was claimed before.
    async fn claim(
        &self,
        list: u64,
        block: u64,
        expires_by: u64,
    ) -> Result<bool, StatusStoreError> {
        let claimed = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s("block"))
            .item("sk", s(format!("{list:020}/{block:05}")))
            .item(
                "purge_at",
                n(expires_by.saturating_add(PURGE_AFTER_SECONDS)),
            )
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match claimed {
            Ok(_) => Ok(true),
            Err(error) if is_condition_failure(&error) => Ok(false),
            Err(error) => Err(io(error)),
        }
    }

    /// The list lives at least as long as the tokens of a block claimed in it.
    async fn extend_list(&self, list: u64, expires_by: u64) -> Result<(), StatusStoreError> {
        let extended = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s("list"))
            .key("sk", s(list_key(list)))
            .update_expression("SET expires_at = :e, purge_at = :p")
            .condition_expression("attribute_not_exists(expires_at) OR expires_at < :e")
            .expression_attribute_values(":e", n(expires_by))
            .expression_attribute_values(":p", n(expires_by.saturating_add(PURGE_AFTER_SECONDS)))
            .send()
            .await;
        match extended {
            Ok(_) => Ok(()),
            Err(error) if is_condition_failure(&error) => Ok(()), // already later
            Err(error) => Err(io(error)),
        }
    }

    /// Every item of partition `pk`, page by page.
    async fn partition(&self, pk: String) -> Result<Vec<Item>, StatusStoreError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(pk.clone()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(io)?;
            items.extend(output.items.unwrap_or_default());
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }
}

#[async_trait]
impl StatusStore for DynamoStatusStore {
    async fn reserve_block(&self, expires_by: u64, now: u64) -> Result<u64, StatusStoreError> {
        let mut open = self.open_list(now).await?;
        let mut misses = 0;
        for _ in 0..MAX_CLAIMS {
            // Checked before every claim, against the window the list was
            // opened with, whatever this instance's view of the allocator:
            // a claim in a list past its window could win a block whose
            // record the TTL already deleted.
            if now >= open.claims_until {
                open = self.open_next_list(open.list, now).await?;
                misses = 0;
                continue;
            }
            let block = random_block();
            if !self.claim(open.list, block, expires_by).await? {
                misses += 1;
                if misses >= MISSES_BEFORE_NEXT_LIST {
                    open = self.open_next_list(open.list, now).await?;
                    misses = 0;
                }
                continue;
            }
            self.extend_list(open.list, expires_by).await?;
            return Ok(open.list * LIST_SIZE + block * BLOCK_SIZE);
        }
        Err(StatusStoreError::Io(format!(
            "no free status list block after {MAX_CLAIMS} claims"
        )))
    }

    async fn record(&self, token: &TokenRecord) -> Result<(), StatusStoreError> {
        let purge_at = n(token.exp.saturating_add(PURGE_AFTER_SECONDS));
        let common = [
            ("list".to_owned(), n(token.slot.list)),
            ("idx".to_owned(), n(token.slot.idx)),
            ("exp".to_owned(), n(token.exp)),
            ("purge_at".to_owned(), purge_at),
        ];
        let mut by_jti: Item = common.clone().into_iter().collect();
        by_jti.insert("pk".into(), s(format!("jti#{}", token.jti)));
        by_jti.insert("sk".into(), s("token"));
        by_jti.insert("sub".into(), s(token.sub.clone()));
        let mut by_sub: Item = common.into_iter().collect();
        by_sub.insert("pk".into(), s(format!("sub#{}", token.sub)));
        by_sub.insert("sk".into(), s(token.jti.clone()));
        // Not a transaction: a failed write fails the login, so no token is
        // handed out, and a lone record names an entry nobody holds.
        let put = |item: Item| {
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .send()
        };
        tokio::try_join!(put(by_jti), put(by_sub))
            .map(|_| ())
            .map_err(io)
    }

    async fn by_jti(&self, jti: &str, now: u64) -> Result<Option<TokenRecord>, StatusStoreError> {
        let Some(item) = self.get(format!("jti#{jti}"), "token".into()).await? else {
            return Ok(None);
        };
        let token = TokenRecord {
            jti: jti.to_owned(),
            sub: text(&item, "sub")?,
            slot: slot(&item)?,
            exp: number(&item, "exp")?,
        };
        Ok((token.exp >= now).then_some(token))
    }

    async fn by_subject(&self, sub: &str, now: u64) -> Result<Vec<TokenRecord>, StatusStoreError> {
        let mut tokens = Vec::new();
        for item in self.partition(format!("sub#{sub}")).await? {
            let token = TokenRecord {
                jti: text(&item, "sk")?,
                sub: sub.to_owned(),
                slot: slot(&item)?,
                exp: number(&item, "exp")?,
            };
            if token.exp >= now {
                tokens.push(token);
            }
        }
        Ok(tokens)
    }

    async fn revoke(&self, slots: &[Slot]) -> Result<(), StatusStoreError> {
        let mut by_list: BTreeMap<u64, Vec<String>> = BTreeMap::new();
        for slot in slots {
            by_list
                .entry(slot.list)
                .or_default()
                .push(slot.idx.to_string());
        }
        for (list, indices) in by_list {
            // Only a list that exists: a purged one's tokens have expired.
            let added = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", s("list"))
                .key("sk", s(list_key(list)))
                .update_expression("ADD revoked :idx, version :one")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":idx", AttributeValue::Ns(indices))
                .expression_attribute_values(":one", n(1))
                .send()
                .await;
            match added {
                Ok(_) => {}
                Err(error) if is_condition_failure(&error) => {}
                Err(error) => return Err(io(error)),
            }
        }
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s("revision"))
            .key("sk", s("revision"))
            .update_expression("ADD revision :one")
            .expression_attribute_values(":one", n(1))
            .send()
            .await
            .map(|_| ())
            .map_err(io)
    }

    async fn list(&self, list: u64) -> Result<Option<ListRecord>, StatusStoreError> {
        let Some(item) = self.get("list".into(), list_key(list)).await? else {
            return Ok(None);
        };
        let revoked = match item.get("revoked") {
            Some(AttributeValue::Ns(values)) => values
                .iter()
                .map(|v| v.parse::<u64>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| StatusStoreError::Corrupt("revoked index not a number".into()))?,
            _ => Vec::new(),
        };
        Ok(Some(ListRecord {
            revoked,
            version: item
                .get("version")
                .map_or(Ok(0), |_| number(&item, "version"))?,
            expires_at: number(&item, "expires_at")?,
        }))
    }

    async fn live_lists(&self, now: u64) -> Result<Vec<u64>, StatusStoreError> {
        let mut lists = Vec::new();
        for item in self.partition("list".into()).await? {
            if number(&item, "expires_at")? >= now {
                let key = text(&item, "sk")?;
                lists.push(key.parse().map_err(|_| {
                    StatusStoreError::Corrupt(format!("list key {key:?} is not a number"))
                })?);
            }
        }
        Ok(lists)
    }

    async fn revision(&self) -> Result<u64, StatusStoreError> {
        match self.get("revision".into(), "revision".into()).await? {
            Some(item) => number(&item, "revision"),
            None => Ok(0),
        }
    }
}
