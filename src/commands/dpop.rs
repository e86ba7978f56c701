//! `tollgate dpop proof`: a fresh DPoP proof (RFC 9449) for one request,
//! signed with a key file (made there if it does not exist), to send as the
//! `DPoP` header beside `Authorization: DPoP <token>`.

use std::path::PathBuf;

use clap::Subcommand;
use tollgate::dpop_key::DpopKey;

/// What to do with DPoP.
#[derive(Debug, Subcommand)]
pub enum DpopCommand {
    /// Print a fresh proof for one request (each proof is accepted once).
    Proof {
        /// The client's ES256 key (PKCS#8 PEM); made, mode 0600, if missing.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The request's method (GET, POST, ...).
        #[arg(long, value_name = "M")]
        method: String,
        /// The request's URL (its query is left out of the proof).
        #[arg(long, value_name = "U")]
        url: String,
        /// The access token the request carries: the proof's `ath`.
        #[arg(long, value_name = "T")]
        token: Option<String>,
    },
}

/// Prints the proof on standard output.
pub fn run(command: DpopCommand) -> anyhow::Result<()> {
    let DpopCommand::Proof {
        key,
        method,
        url,
        token,
    } = command;
    let key = DpopKey::load_or_create(&key)?;
    println!(
        "{}",
        key.proof(&method, &url, token.as_deref().map(str::trim))?
    );
    Ok(())
}
