//! `tollgate metrics`: the Tollgate namespace read back from CloudWatch.

use std::time::Duration;

/// Prints the report for the last `since`.
pub async fn run(since: Duration) -> anyhow::Result<()> {
    let report = telemetry_cloudwatch::read_from_env(since).await?;
    print!("{report}");
    Ok(())
}
