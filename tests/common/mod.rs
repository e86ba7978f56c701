//! Helpers shared by the tests of the `tollgate` binary: a free port, a
//! `serve` that says it is serving, reading CloudWatch back with our own client,
//! and finding a row of `tollgate metrics`' table.

// Each test binary compiles this module and uses only some of it.
#![allow(dead_code)]

use std::time::{Duration, Instant, SystemTime};

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use tollgate::local_stack::{self, DataDir, FirstStart, RunningStack, StackOptions, Stores};

/// A running local stack and what a test reaches it with.
pub struct Stack {
    pub running: RunningStack,
    pub url: String,
    pub http: reqwest::Client,
    pub admin_password: String,
    pub demo_password: String,
    /// The data directory, when the stack owns it (removed on drop).
    _dir: Option<tempfile::TempDir>,
}

impl Stack {
    /// `running`, with the passwords of its data directory's two users.
    pub fn new(
        running: RunningStack,
        (admin_password, demo_password): (String, String),
        dir: Option<tempfile::TempDir>,
    ) -> Self {
        Self {
            url: format!("http://{}", running.addr),
            running,
            http: reqwest::Client::new(),
            admin_password,
            demo_password,
            _dir: dir,
        }
    }

    /// A stack started with `options` on a fresh data directory it owns.
    pub async fn fresh(options: StackOptions) -> Self {
        let (dir, stores, first) = fresh_data_dir().await;
        let running = local_stack::start(stores, options).await.unwrap();
        let passwords = (
            first
                .admin_password
                .expect("a fresh data dir creates admin"),
            first.demo_password.expect("a fresh data dir creates demo"),
        );
        Self::new(running, passwords, Some(dir))
    }
}

/// A first start in a fresh temporary data directory: its stores and the
/// passwords it generated (the directory goes when the `TempDir` drops).
pub async fn fresh_data_dir() -> (tempfile::TempDir, Stores, FirstStart) {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir(dir.path().to_owned());
    let stores = Stores::select(&data).await.unwrap();
    let first = local_stack::first_start(&data, stores.accounts.as_ref())
        .await
        .unwrap()
        .unwrap();
    (dir, stores, first)
}

/// The password a first start generated for `name`, from the data
/// directory's credentials file.
pub fn stored_password(data: &std::path::Path, name: &str) -> String {
    let credentials = std::fs::read_to_string(DataDir(data.to_owned()).credentials()).unwrap();
    credentials
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no password for {name} in the credentials"))
        .to_owned()
}

/// Sends `request` and reads its JSON answer.
pub async fn json_answer(request: reqwest::RequestBuilder) -> serde_json::Value {
    request.send().await.unwrap().json().await.unwrap()
}

/// Sends `request` and reads its status.
pub async fn status_of(request: reqwest::RequestBuilder) -> u16 {
    request.send().await.unwrap().status().as_u16()
}

/// The access token of a password login at `{url}/token`.
pub async fn login(http: &reqwest::Client, url: &str, username: &str, password: &str) -> String {
    let answer = json_answer(
        http.post(format!("{url}/token"))
            .json(&serde_json::json!({"username": username, "password": password})),
    )
    .await;
    answer["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("login failed: {answer}"))
        .to_owned()
}

/// The lines a child process prints on `stream`, as they come, read by a
/// thread of their own (a test waits on them with a timeout).
pub fn lines_of(stream: impl std::io::Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stream)
            .lines()
            .map_while(Result::ok)
        {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    received
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// How the welcome line `serve` prints once it listens on `addr` begins.
pub fn serving_line(addr: &str) -> String {
    format!("Tollgate local stack on http://{addr} ")
}

/// Waits (30 s at most) until a `serve` whose stdout lines arrive on `lines`
/// ([`lines_of`]) says it serves on `addr`: its welcome line names the
/// address it bound. (A connection accepted on `addr` could be another
/// test's server, on a port [`free_port`] saw free.) Returns the lines read,
/// the welcome line last.
pub fn wait_until_serving(lines: &std::sync::mpsc::Receiver<String>, addr: &str) -> Vec<String> {
    let ready = serving_line(addr);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut read = Vec::new();
    loop {
        match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => {
                let done = line.starts_with(&ready);
                read.push(line);
                if done {
                    return read;
                }
            }
            Err(error) => {
                panic!("serve did not say it serves on {addr} ({error}); it printed {read:?}")
            }
        }
    }
}

/// Sum, SampleCount and Maximum of one metric under exactly `dimensions`,
/// from a minute before `since` until now.
pub async fn statistics(
    client: &aws_sdk_cloudwatch::Client,
    namespace: &str,
    name: &str,
    dimensions: &[(&str, &str)],
    since: SystemTime,
) -> (f64, f64, f64) {
    let metric = Metric::builder()
        .namespace(namespace)
        .metric_name(name)
        .set_dimensions(Some(
            dimensions
                .iter()
                .map(|(n, v)| Dimension::builder().name(*n).value(*v).build())
                .collect(),
        ))
        .build();
    let queries = ["Sum", "SampleCount", "Maximum"].map(|stat| {
        MetricDataQuery::builder()
            .id(stat.to_ascii_lowercase())
            .metric_stat(
                MetricStat::builder()
                    .metric(metric.clone())
                    .period(3600)
                    .stat(stat)
                    .build(),
            )
            .build()
    });
    let answer = client
        .get_metric_data()
        .set_metric_data_queries(Some(queries.to_vec()))
        .start_time(DateTime::from(since - Duration::from_secs(60)))
        .end_time(DateTime::from(SystemTime::now() + Duration::from_secs(60)))
        .send()
        .await
        .unwrap();
    let value = |id: &str| -> f64 {
        answer
            .metric_data_results()
            .iter()
            .find(|r| r.id() == Some(id))
            .map(|r| r.values().iter().sum())
            .unwrap_or(0.0)
    };
    (value("sum"), value("samplecount"), value("maximum"))
}

/// `table` has each of `rows` (cells separated by whitespace), whatever the
/// column widths.
pub fn assert_rows(table: &str, rows: &[&str]) {
    for row in rows {
        assert!(
            table
                .lines()
                .any(|line| line.split_whitespace().eq(row.split_whitespace())),
            "no row {row:?} in\n{table}"
        );
    }
}
