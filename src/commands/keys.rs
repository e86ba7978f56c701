//! `tollgate keys list|rotate|revoke`: the signing keys of a data directory.

use clap::Subcommand;
use tollgate::local_stack::{self, DataDir};

/// What to do with the signing keys.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List key metadata.
    List,
    /// Run one rotation step.
    Rotate,
    /// Revoke a key.
    Revoke {
        /// Its `kid`. Key ids are base64url thumbprints, so one may start
        /// with `-`: it is still the key id, not an option.
        #[arg(allow_hyphen_values = true)]
        kid: String,
    },
}

/// Runs `command` and prints its outcome as JSON.
pub async fn run(data: &DataDir, command: KeysCommand) -> anyhow::Result<()> {
    let stores = local_stack::identity_stores(data).await?;
    // `iss` does not matter here: these commands mint no token.
    let issuer_url = data
        .stored_issuer_url()?
        .unwrap_or_else(|| "http://127.0.0.1".to_owned());
    let service = local_stack::issuer_service(&stores, &issuer_url)?;
    let output = match command {
        KeysCommand::List => {
            serde_json::json!({"keys": service.keyset().await?.metadata()})
        }
        KeysCommand::Rotate => serde_json::json!({"active": service.rotate().await?}),
        KeysCommand::Revoke { kid } => {
            let revoked = service.revoke(&kid).await?;
            eprintln!(
                "A running serve on this data directory refuses this key's tokens within {} s.",
                local_stack::KEYSET_POLL.as_secs() + 1
            );
            serde_json::json!({"revoked": revoked})
        }
    };
    println!("{}", serde_json::to_string_pretty(&output)?);
    Ok(())
}
