//! `tollgate token`: logs in at a running stack and prints the access token.

use anyhow::bail;

/// Posts the credentials to `{url}/token`; any answer without a token is
/// an error that shows the status and body.
pub async fn run(url: &str, username: &str, password_stdin: bool) -> anyhow::Result<()> {
    let password = super::read_password_stdin(password_stdin)?;
    let response = reqwest::Client::new()
        .post(format!("{}/token", url.trim_end_matches('/')))
        .json(&serde_json::json!({"username": username, "password": password}))
        .send()
        .await?;
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
