//! A status-list block is never handed out twice while its list lives, on
//! DynamoDB (moto) whose TTL deletes items past their `purge_at`: the
//! review's finding that an expired block item let a later claim win the
//! same block, so a new token got an index already marked revoked.

use std::collections::HashSet;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use issuer::status::{DynamoStatusStore, Slot, StatusStore, BLOCK_SIZE, PURGE_AFTER_SECONDS};

/// A token's lifetime plus the block lifetime: the `expires_by` the
/// issuer reserves blocks with (900 + 60).
const EXPIRES_AFTER: u64 = 960;
const HOUR: u64 = 3600;

/// What DynamoDB's TTL does at `at`: deletes every item whose `purge_at`
/// is past (it never deletes one earlier; it may be later, which only
/// keeps more).
async fn ttl_sweep(client: &Client, table: &str, at: u64) -> usize {
    let mut deleted = 0;
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        for item in page.items() {
            let purge_at = item
                .get("purge_at")
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if purge_at.is_some_and(|purge_at| purge_at < at) {
                client
                    .delete_item()
                    .table_name(table)
                    .key("pk", item["pk"].clone())
                    .key("sk", item["sk"].clone())
                    .send()
                    .await
                    .unwrap();
                deleted += 1;
            }
        }
        match page.last_evaluated_key {
            Some(key) if !key.is_empty() => start = Some(key),
            _ => return deleted,
        }
    }
}

async fn table() -> Option<(Client, String)> {
    testkit::aws_test_endpoint()?;
    let (client, table) = testkit::dynamodb("status-blocks").await;
    DynamoStatusStore::create_table(&client, &table)
        .await
        .unwrap();
    Some((client, table))
}

/// `count` reservations at `now`, as the issuer makes them.
async fn reserve(store: &DynamoStatusStore, now: u64, count: usize) -> Vec<u64> {
    let mut positions = Vec::with_capacity(count);
    for _ in 0..count {
        positions.push(store.reserve_block(now + EXPIRES_AFTER, now).await.unwrap());
    }
    positions
}

/// Two days of a quiet issuer on one table: blocks claimed on day 0, more
/// on day 1.5 (which keep the open list alive), the TTL sweeping day 0's
/// block items on day 2, more claims on day 2. No block comes back, and
/// no new token lands on an index revoked on day 0.
#[tokio::test]
async fn blocks_are_not_handed_out_again_after_the_ttl_deletes_their_items() {
    let Some((client, table)) = table().await else {
        return;
    };
    let store = DynamoStatusStore::new(client.clone(), table.clone());
    let day0 = testkit::now();
    let first = reserve(&store, day0, 200).await;
    // A token of each of day 0's blocks is revoked.
    let revoked: Vec<Slot> = first.iter().map(|&p| Slot::at(p)).collect();
    store.revoke(&revoked).await.unwrap();

    let day1 = day0 + 36 * HOUR;
    let second = reserve(&store, day1, 20).await;
    let day2 = day0 + 48 * HOUR;
    let swept = ttl_sweep(&client, &table, day2).await;
    assert!(swept >= 200, "day 0's block items are past their purge_at");
    let third = reserve(&store, day2, 200).await;

    let mut seen = HashSet::new();
    for position in first.iter().chain(&second).chain(&third) {
        assert_eq!(position % BLOCK_SIZE, 0);
        assert!(
            seen.insert(position),
            "block at {position} handed out twice"
        );
    }
    for position in &third {
        let slot = Slot::at(*position);
        if let Some(list) = store.list(slot.list).await.unwrap() {
            for idx in slot.idx..slot.idx + BLOCK_SIZE {
                assert!(
                    !list.revoked.contains(&idx),
                    "a day-2 token would get index {idx} of list {}, revoked on day 0",
                    slot.list
                );
            }
        }
    }
}

/// The promise of `reserve_block` ("no two calls get the same block"),
/// with the block's item deleted as the TTL would once it is past its
/// `purge_at`, and a claim after that.
#[tokio::test]
async fn a_claim_after_its_block_item_expired_gets_another_block() {
    let Some((client, table)) = table().await else {
        return;
    };
    let store = DynamoStatusStore::new(client.clone(), table.clone());
    let now = testkit::now();
    let block = store.reserve_block(now + EXPIRES_AFTER, now).await.unwrap();
    let list = Slot::at(block).list;
    let key = format!("{list:020}/{:05}", Slot::at(block).idx / BLOCK_SIZE);
    let item = client
        .get_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("block".into()))
        .key("sk", AttributeValue::S(key.clone()))
        .send()
        .await
        .unwrap()
        .item
        .expect("the claimed block's item");
    let purge_at: u64 = item["purge_at"].as_n().unwrap().parse().unwrap();
    assert!(purge_at >= now + PURGE_AFTER_SECONDS);

    let later = purge_at + 1;
    client
        .delete_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("block".into()))
        .key("sk", AttributeValue::S(key))
        .send()
        .await
        .unwrap();
    // Every block of the list is free again as far as the table can tell;
    // claims after the item's purge_at must not reach this list at all.
    for _ in 0..64 {
        let again = store
            .reserve_block(later + EXPIRES_AFTER, later)
            .await
            .unwrap();
        assert_ne!(again, block, "the expired block was claimed again");
        assert_ne!(
            Slot::at(again).list,
            list,
            "the list took claims past a block's purge_at"
        );
    }
}

/// A second instance that last read the allocator before the first moved
/// on still never claims in a list past its claim window.
#[tokio::test]
async fn an_instance_with_an_old_view_of_the_open_list_moves_on_too() {
    let Some((client, table)) = table().await else {
        return;
    };
    let (one, two) = (
        DynamoStatusStore::new(client.clone(), table.clone()),
        DynamoStatusStore::new(client.clone(), table.clone()),
    );
    let day0 = testkit::now();
    let a = reserve(&one, day0, 1).await[0];
    let b = reserve(&two, day0, 1).await[0];
    assert_eq!(Slot::at(a).list, Slot::at(b).list, "both see the open list");
    let later = day0 + 13 * HOUR;
    let c = reserve(&one, later, 1).await[0];
    let d = reserve(&two, later, 1).await[0];
    assert_ne!(Slot::at(c).list, Slot::at(a).list, "past its window");
    assert_eq!(
        Slot::at(c).list,
        Slot::at(d).list,
        "and both agree on the next"
    );
    assert_ne!(c, d);
}

/// A table written before lists had a claim window: its open list, already
/// claimed from at some unknown time, takes no more claims; a list nothing
/// was claimed in keeps its number.
#[tokio::test]
async fn a_table_from_before_the_claim_window_moves_to_a_fresh_list() {
    let Some((client, table)) = table().await else {
        return;
    };
    let put = |pk: &str, sk: &str, attributes: Vec<(&str, AttributeValue)>| {
        let mut request = client
            .put_item()
            .table_name(&table)
            .item("pk", AttributeValue::S(pk.into()))
            .item("sk", AttributeValue::S(sk.into()));
        for (name, value) in attributes {
            request = request.item(name, value);
        }
        request.send()
    };
    let number = |n: u64| AttributeValue::N(n.to_string());
    let now = testkit::now();
    put("allocator", "allocator", vec![("open_list", number(3))])
        .await
        .unwrap();
    put(
        "list",
        &format!("{:020}", 3),
        vec![("expires_at", number(now + 900))],
    )
    .await
    .unwrap();
    let store = DynamoStatusStore::new(client.clone(), table.clone());
    let first = store.reserve_block(now + EXPIRES_AFTER, now).await.unwrap();
    assert_eq!(Slot::at(first).list, 4);

    let (client, table) = testkit::dynamodb("status-blocks").await;
    DynamoStatusStore::create_table(&client, &table)
        .await
        .unwrap();
    client
        .put_item()
        .table_name(&table)
        .item("pk", AttributeValue::S("allocator".into()))
        .item("sk", AttributeValue::S("allocator".into()))
        .item("open_list", number(7))
        .send()
        .await
        .unwrap();
    let store = DynamoStatusStore::new(client, table);
    let first = store.reserve_block(now + EXPIRES_AFTER, now).await.unwrap();
    assert_eq!(Slot::at(first).list, 7, "nothing was claimed in it");
}
