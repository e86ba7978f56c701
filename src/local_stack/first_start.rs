//! The first start of a data directory: the `admin` and `demo` users, with
//! generated passwords kept in a private file.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use issuer::accounts::{Account, AccountKind, AccountStore};
use issuer::atomic_file;

use super::data_dir::DataDir;

/// What a first start created: the generated passwords of the users it
/// made (an existing account is never replaced, so it may make only one).
pub struct FirstStart {
    /// The new `admin`'s password, if it was created.
    pub admin_password: Option<String>,
    /// The new `demo`'s password, if it was created.
    pub demo_password: Option<String>,
}

fn random_password() -> anyhow::Result<String> {
    let mut bytes = [0u8; 18];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| anyhow::anyhow!("no randomness"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Creates the `admin` and `demo` users that do not exist yet, with
/// generated passwords appended to `DATA_DIR/credentials` (mode 0600, never
/// through a symbolic link). `None` when both exist already.
pub async fn first_start(
    data: &DataDir,
    accounts: &dyn AccountStore,
) -> anyhow::Result<Option<FirstStart>> {
    data.create()?;
    let mut created = FirstStart {
        admin_password: None,
        demo_password: None,
    };
    for (name, scopes) in [
        ("admin", "books:read books:write books:admin keys:admin"),
        ("demo", "books:read books:write"),
    ] {
        if accounts.get(AccountKind::User, name).await?.is_some() {
            continue;
        }
        let password = random_password()?;
        let account = Account::new(AccountKind::User, name, &password, scopes)?;
        // Atomic: an account made meanwhile (by `user add`) is kept.
        if !accounts.insert_new(&account).await? {
            continue;
        }
        use std::io::Write;
        atomic_file::open_private(&data.credentials(), true)?
            .write_all(format!("{name}:{password}\n").as_bytes())?;
        match name {
            "admin" => created.admin_password = Some(password),
            _ => created.demo_password = Some(password),
        }
    }
    Ok((created.admin_password.is_some() || created.demo_password.is_some()).then_some(created))
}
