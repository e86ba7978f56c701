//! `tollgate token`: logs in at a running stack and prints the access
//! token; `tollgate token revoke` revokes one.

use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::{Args, Subcommand};
use issuer::Revoker;
use tollgate::dpop_key::DpopKey;
use tollgate::local_stack::DataDir;

/// `token --url --username --password-stdin`, or `token revoke TOKEN`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub action: Option<TokenCommand>,
    #[arg(long, required = true)]
    pub url: Option<String>,
    #[arg(long, required = true)]
    pub username: Option<String>,
    #[arg(long)]
    pub password_stdin: bool,
    /// Get a DPoP-bound token: prove this ES256 key (PKCS#8 PEM; made,
    /// mode 0600, if missing) to the token endpoint.
    #[arg(long, value_name = "FILE")]
    pub dpop_key: Option<PathBuf>,
}

/// What else `token` does.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Revoke a token of this data directory's issuer (TOKEN, or - for
    /// stdin): its status list entry turns INVALID. A running serve on the
    /// same data directory refuses it within two seconds.
    Revoke {
        #[arg(allow_hyphen_values = true)]
        token: String,
    },
}

/// Logs in, or revokes, as `args` say.
pub async fn dispatch(data: &DataDir, args: TokenArgs) -> anyhow::Result<()> {
    match args {
        TokenArgs {
            action: Some(TokenCommand::Revoke { token }),
            ..
        } => revoke(data, token).await,
        TokenArgs {
            action: None,
            url: Some(url),
            username: Some(username),
            password_stdin,
            dpop_key,
        } => run(&url, &username, password_stdin, dpop_key.as_deref()).await,
        TokenArgs { .. } => bail!("token needs --url and --username (or: token revoke TOKEN)"),
    }
}

/// Posts the credentials to `{url}/token` (with a DPoP proof of the key in
/// `dpop_key`, if given); any answer without a token is an error that shows
/// the status and body.
async fn run(
    url: &str,
    username: &str,
    password_stdin: bool,
    dpop_key: Option<&Path>,
) -> anyhow::Result<()> {
    let password = super::read_password_stdin(password_stdin)?;
    let token_url = format!("{}/token", url.trim_end_matches('/'));
    // A password for a loopback stack never goes through a proxy named by
    // HTTP_PROXY/ALL_PROXY: it would leave the host in clear text.
    let mut client = reqwest::Client::builder();
    if authorizer::is_loopback_url(url) {
        client = client.no_proxy();
    }
    let mut request = client
        .build()?
        .post(&token_url)
        .json(&serde_json::json!({"username": username, "password": password}));
    if let Some(path) = dpop_key {
        let key = DpopKey::load_or_create(path)?;
        request = request.header("DPoP", key.proof("POST", &token_url, None)?);
    }
    let response = request.send().await?;
    let status = response.status();
    let body: serde_json::Value = response.json().await?;
    match body.get("access_token").and_then(|t| t.as_str()) {
        Some(token) if status.is_success() => {
            println!("{token}");
            Ok(())
        }
        _ => bail!("login failed ({status}): {body}"),
    }
}

/// `tollgate token revoke TOKEN` (or `-` for standard input): sets the
/// token's status list entry to INVALID in the data directory's status
/// store (or `STATUS_TABLE`). The token must be this issuer's (`JWT_ISSUER`,
/// else the data directory's issuer URL), and unexpired.
async fn revoke(data: &DataDir, token: String) -> anyhow::Result<()> {
    let token = if token == "-" {
        std::io::read_to_string(std::io::stdin())?
    } else {
        token
    };
    let service = super::issuer_of(data).await?;
    let revocation = service
        .revoke_token(tollgate::explain::token_text(&token), Revoker::Admin)
        .await?;
    super::print_revocation(
        revocation,
        "not a token of this issuer with a status list entry (or it has expired): nothing revoked",
    )
}
