//! The `tollgate` binary's commands, as a user runs them: `user add`,
//! `keys list|rotate|revoke`, `serve`, `token` and `explain`, on one data
//! directory.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn tollgate(data: &std::path::Path, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn user_add_keys_serve_and_token() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    let (ok, out, err) = tollgate(
        &data,
        &[
            "user",
            "add",
            "carol",
            "--scopes",
            "books:read books:write",
            "--password-stdin",
        ],
        Some("carol-pass\n"),
    );
    assert!(ok, "{err}");
    assert!(out.contains("carol"));
    let (ok, _, err) = tollgate(
        &data,
        &["user", "add", "dave", "--scopes", "books:read"],
        None,
    );
    assert!(
        !ok && err.contains("--password-stdin"),
        "no interactive prompt: {err}"
    );

    let (ok, listed, err) = tollgate(&data, &["keys", "list"], None);
    assert!(ok, "{err}");
    let keys: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(keys["keys"].as_array().unwrap().len(), 2);
    assert!(!listed.contains("private"));
    let (ok, rotated, _) = tollgate(&data, &["keys", "rotate"], None);
    assert!(ok);
    let active: Value = serde_json::from_str(&rotated).unwrap();
    let (ok, _, _) = tollgate(&data, &["keys", "revoke", "no-such-kid"], None);
    assert!(!ok, "revoking an unknown kid fails");

    let addr = format!("127.0.0.1:{}", free_port());
    let mut server = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("--data-dir")
        .arg(&data)
        .args(["serve", "--addr", &addr, "--authorizer-cache-ttl", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://{addr}");
    let started = Instant::now();
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "serve did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (ok, token, err) = tollgate(
        &data,
        &[
            "token",
            "--url",
            &url,
            "--username",
            "carol",
            "--password-stdin",
        ],
        Some("carol-pass\n"),
    );
    let (bad, _, _) = tollgate(
        &data,
        &[
            "token",
            "--url",
            &url,
            "--username",
            "carol",
            "--password-stdin",
        ],
        Some("wrong\n"),
    );
    // `explain` against the running stack: valid, then tampered.
    let (explained_ok, explained, explain_err) = tollgate(
        &data,
        &["explain", "-", "--issuer-url", &url],
        Some(token.trim()),
    );
    let mut parts: Vec<String> = token.trim().split('.').map(str::to_owned).collect();
    // Another first signature character: still canonical base64url, wrong signature.
    let first = if parts[2].starts_with('A') { "B" } else { "A" };
    parts[2] = format!("{first}{}", &parts[2][1..]);
    let tampered = parts.join(".");
    let (tampered_ok, tampered_out, _) = tollgate(
        &data,
        &[
            "explain",
            &format!("Bearer {tampered}"),
            "--issuer-url",
            &url,
        ],
        None,
    );
    // SIGTERM: graceful shutdown.
    let _ = Command::new("kill").arg(server.id().to_string()).status();
    let status = server.wait().unwrap();
    assert!(ok, "{err}");
    assert!(!bad, "a wrong password gets no token");
    assert!(explained_ok, "{explained}{explain_err}");
    assert!(explained.contains("signature  pass"), "{explained}");
    assert!(explained.contains("verdict: valid"), "{explained}");
    assert!(
        explained.contains("routes granted: GET /books, GET /books/*, POST /books"),
        "{explained}"
    );
    assert!(!tampered_ok, "a refused token exits non-zero");
    assert!(
        tampered_out.contains("reason bad_signature") && tampered_out.contains("signature  FAIL"),
        "{tampered_out}"
    );
    let header = token.trim().split('.').next().unwrap().to_owned();
    let header: Value = serde_json::from_slice(&base64_url(&header)).unwrap();
    assert_eq!(
        header["kid"], active["active"]["kid"],
        "signed by the key the CLI rotated in"
    );
    assert!(
        status.success(),
        "serve exits cleanly on SIGTERM: {status:?}"
    );
    assert!(
        data.join("credentials").exists(),
        "first start wrote the credentials"
    );
}

fn base64_url(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}
