//! The host with real processes speaking the Runtime API: a stdlib Python
//! client with scripted behaviours (`tests/functions/runtime_client.py`).

use std::sync::atomic::Ordering;
use std::time::Duration;

use lambda_host::{FunctionSpec, HostSettings, LambdaError, LambdaHost};
use serde_json::{json, Value};

/// The project's Python (`make setup`), else the one on PATH.
fn python() -> String {
    let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/../.venv/bin/python3");
    if std::path::Path::new(venv).exists() {
        venv.to_owned()
    } else {
        "python3".to_owned()
    }
}

fn host(behaviour: &str, settings: HostSettings) -> LambdaHost {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/functions/runtime_client.py"
    );
    let command = format!("{} {script} {behaviour}", python());
    LambdaHost::new(
        FunctionSpec::from_command_line("test-function", &command, vec![]).unwrap(),
        settings,
    )
}

fn settings(max_instances: usize, fresh_instances: bool, timeout_ms: u64) -> HostSettings {
    HostSettings {
        max_instances,
        fresh_instances,
        timeout: Duration::from_millis(timeout_ms),
    }
}

fn pid(answer: &Value) -> u64 {
    answer["pid"]
        .as_u64()
        .expect("the echo answer names its pid")
}

#[tokio::test]
async fn an_idle_instance_is_reused_and_gets_one_event_at_a_time() {
    let host = host("echo", settings(4, false, 10_000));
    let first = host.invoke(&json!({"n": 1})).await.unwrap();
    let second = host.invoke(&json!({"n": 2})).await.unwrap();
    assert_eq!(first["event"], json!({"n": 1}));
    assert_eq!(second["event"], json!({"n": 2}));
    assert_eq!(
        pid(&first),
        pid(&second),
        "the warm instance answered again"
    );
    assert_ne!(first["request_id"], second["request_id"]);
    assert_eq!(host.counters.instances_started.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn a_second_instance_starts_when_all_are_busy_up_to_the_bound() {
    let host = host("slow 400", settings(2, false, 10_000));
    let event = json!({});
    let (a, b, c) = tokio::join!(
        host.invoke(&event),
        host.invoke(&event),
        host.invoke(&event)
    );
    let pids: std::collections::BTreeSet<u64> = [a.unwrap(), b.unwrap(), c.unwrap()]
        .iter()
        .map(pid)
        .collect();
    assert_eq!(
        pids.len(),
        2,
        "two instances served three concurrent events"
    );
    assert_eq!(host.counters.instances_started.load(Ordering::Relaxed), 2);
}

#[tokio::test]
async fn fresh_instances_give_every_invocation_a_new_process() {
    let host = host("echo", settings(4, true, 10_000));
    let first = host.invoke(&json!({})).await.unwrap();
    let second = host.invoke(&json!({})).await.unwrap();
    assert_ne!(pid(&first), pid(&second));
    assert_eq!(host.counters.instances_started.load(Ordering::Relaxed), 2);
}

#[tokio::test]
async fn a_function_error_is_reported_with_its_message() {
    let host = host("unauthorized", settings(1, false, 10_000));
    match host.invoke(&json!({})).await {
        Err(LambdaError::Function { message, .. }) => assert_eq!(message, "Unauthorized"),
        other => panic!("expected a function error, got {other:?}"),
    }
    // The instance stays warm after a handled error.
    assert!(host.invoke(&json!({})).await.is_err());
    assert_eq!(host.counters.instances_started.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn a_crash_fails_the_invocation_and_the_next_one_gets_a_new_instance() {
    let host = host("crash", settings(1, false, 10_000));
    match host.invoke(&json!({})).await {
        Err(LambdaError::Crashed(status)) => assert!(status.contains('3'), "{status}"),
        other => panic!("expected a crash, got {other:?}"),
    }
    assert!(matches!(
        host.invoke(&json!({})).await,
        Err(LambdaError::Crashed(_))
    ));
    assert_eq!(host.counters.instances_started.load(Ordering::Relaxed), 2);
}

#[tokio::test]
async fn a_hanging_function_is_bounded_by_the_timeout_and_replaced() {
    let host = host("hang", settings(1, false, 1_500));
    let outcome = tokio::time::timeout(Duration::from_secs(20), host.invoke(&json!({})))
        .await
        .expect("the gateway never hangs");
    assert!(
        matches!(outcome, Err(LambdaError::Timeout(_))),
        "{outcome:?}"
    );
    // The timed-out instance was stopped: the only slot is free again.
    let outcome = tokio::time::timeout(Duration::from_secs(20), host.invoke(&json!({})))
        .await
        .expect("the gateway never hangs");
    assert!(matches!(outcome, Err(LambdaError::Timeout(_))));
    assert_eq!(host.counters.instances_started.load(Ordering::Relaxed), 2);
}

#[tokio::test]
async fn an_init_error_fails_the_invocation_with_the_report() {
    let host = host("init-error", settings(1, false, 10_000));
    match host.invoke(&json!({})).await {
        Err(LambdaError::InitError(report)) => assert!(report.contains("missing JWT_ISSUER")),
        other => panic!("expected an init error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_command_that_does_not_exist_is_an_error_not_a_hang() {
    let host = LambdaHost::new(
        FunctionSpec::from_command_line("missing", "/nonexistent/bootstrap", vec![]).unwrap(),
        settings(1, false, 2_000),
    );
    assert!(matches!(
        host.invoke(&json!({})).await,
        Err(LambdaError::Spawn(_))
    ));
    assert!(FunctionSpec::from_command_line("empty", "  ", vec![]).is_err());
}

#[tokio::test]
async fn an_instance_busy_during_a_recycle_does_not_serve_again() {
    let host = host("slow 300", settings(2, false, 10_000));
    let before = pid(&host.invoke(&json!({})).await.unwrap());
    let event = json!({});
    let (busy, ()) = tokio::join!(host.invoke(&event), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        host.recycle();
    });
    assert_eq!(pid(&busy.unwrap()), before, "the in-flight event finished");
    let after = pid(&host.invoke(&json!({})).await.unwrap());
    assert_ne!(after, before, "a recycled instance is not reused");
}

/// The instance's Runtime API address, as any local process of this user
/// can read it: from the function process's environment.
fn runtime_api_of(pid: u64) -> String {
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    environ
        .split(|&b| b == 0)
        .filter_map(|var| std::str::from_utf8(var).ok())
        .find_map(|var| var.strip_prefix("AWS_LAMBDA_RUNTIME_API="))
        .expect("AWS_LAMBDA_RUNTIME_API in the function's environment")
        .to_owned()
}

/// The hijack a review reproduced: another local process polled `next`,
/// got a live event (bearer token included) and answered for the function.
/// Now the instance's Runtime API serves its own process alone: the intruder
/// gets no event and cannot answer, and the function answers every event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_process_can_neither_take_an_event_nor_answer_one() {
    let host = std::sync::Arc::new(host("slow 300", settings(1, false, 10_000)));
    let warm = host.invoke(&json!({"n": 0})).await.unwrap();
    let api = runtime_api_of(pid(&warm));
    let intruder = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    // While the function is busy with one event, the intruder polls for
    // the next: unchecked, it would be handed the next event.
    let busy = tokio::spawn({
        let host = std::sync::Arc::clone(&host);
        async move { host.invoke(&json!({"n": 1})).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let polling = tokio::spawn({
        let (intruder, api) = (intruder.clone(), api.clone());
        async move {
            intruder
                .get(format!("http://{api}/2018-06-01/runtime/invocation/next"))
                .send()
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let target = host
        .invoke(&json!({"token": "Bearer secret"}))
        .await
        .unwrap();
    assert_eq!(
        target["event"],
        json!({"token": "Bearer secret"}),
        "the function got it"
    );
    let next = polling.await.unwrap();
    assert!(next.is_err(), "the intruder got an answer: {next:?}");
    busy.await.unwrap().unwrap();
    // Nor can it answer: not even an id it saw.
    let forged = intruder
        .post(format!(
            "http://{api}/2018-06-01/runtime/invocation/{}/response",
            target["request_id"].as_str().unwrap()
        ))
        .body(r#"{"principalId":"admin"}"#)
        .send()
        .await;
    assert!(forged.is_err(), "the intruder could post: {forged:?}");
    assert_eq!(pid(&target), pid(&warm));
}

#[tokio::test]
async fn request_ids_are_unpredictable() {
    let host = host("echo", settings(1, false, 10_000));
    let mut ids = std::collections::HashSet::new();
    for n in 0..20 {
        let answer = host.invoke(&json!({"n": n})).await.unwrap();
        let id = answer["request_id"].as_str().unwrap().to_owned();
        assert_eq!(id.len(), 36, "{id}");
        assert_eq!(&id[14..15], "4", "a version 4 UUID: {id}");
        ids.insert(id);
    }
    assert_eq!(ids.len(), 20);
}
