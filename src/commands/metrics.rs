//! `tollgate metrics`: the Tollgate namespace read back from CloudWatch.

use std::time::Duration;

use clap::Args;

/// `metrics --since`.
#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// How far back: 90s, 30m, 1h, 2d (at most 15d).
    #[arg(long, default_value = "1h", value_parser = telemetry_cloudwatch::parse_since)]
    pub since: Duration,
}

/// Prints the report for the last `args.since`.
pub async fn run(args: MetricsArgs) -> anyhow::Result<()> {
    let since = args.since;
    let report = telemetry_cloudwatch::read_from_env(since).await?;
    print!("{report}");
    Ok(())
}
