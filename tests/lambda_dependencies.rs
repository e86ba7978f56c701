//! The authorizer Lambda links no AWS SDK crate (small binary, short cold
//! start): not its library, not its binary, not through `telemetry`. The
//! CloudWatch sink lives in `telemetry-cloudwatch` for that reason.

use std::process::Command;

/// The crates `package` depends on at run time (normal edges, all features).
fn runtime_crates(package: &str) -> Vec<String> {
    let output = Command::new(env!("CARGO"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "tree",
            "--offline",
            "--locked",
            "--all-features",
            "-e",
            "normal",
            "--prefix",
            "none",
            "-p",
            package,
        ])
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_authorizer_links_no_aws_sdk_crate() {
    for package in ["authorizer", "telemetry"] {
        let crates = runtime_crates(package);
        assert!(crates.iter().any(|c| c == package), "{crates:?}");
        let sdk: Vec<&String> = crates
            .iter()
            .filter(|c| {
                c.starts_with("aws-sdk-") || *c == "aws-config" || *c == "telemetry-cloudwatch"
            })
            .collect();
        assert!(sdk.is_empty(), "{package} links {sdk:?}");
    }
}

#[test]
fn the_guard_can_fail() {
    // The same check finds the SDK where it is linked.
    let crates = runtime_crates("telemetry-cloudwatch");
    assert!(crates.iter().any(|c| c == "aws-sdk-cloudwatch"));
}
