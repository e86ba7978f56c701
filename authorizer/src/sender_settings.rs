//! How the authorizer treats sender-constrained tokens: `DPOP_MODE`, the
//! shared DPoP settings (`DPOP_ALGORITHMS`, `DPOP_MAX_AGE_SECONDS`,
//! `DPOP_REPLAY_TABLE`) and the URLs clients call the API at
//! (`DPOP_PUBLIC_BASE_URLS`).

use dpop::{DpopSettings, DpopSettingsError};
use environment::Settings;

/// `DPOP_MODE`: which tokens need a DPoP proof.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DpopMode {
    /// Proofs are not checked; a bound token is a bearer token.
    Off,
    /// A token with `cnf.jkt` needs a valid proof; others are bearer tokens.
    #[default]
    IfBound,
    /// Every token must be DPoP-bound and come with a valid proof.
    Required,
}

impl DpopMode {
    fn from_setting(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "off" => Some(Self::Off),
            "if_bound" => Some(Self::IfBound),
            "required" => Some(Self::Required),
            _ => None,
        }
    }
}

/// The sender-constraint settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SenderSettings {
    /// `DPOP_MODE`.
    pub mode: DpopMode,
    /// The proofs' algorithms, age and replay store.
    pub proofs: DpopSettings,
    /// `DPOP_PUBLIC_BASE_URLS`: where clients call the API when that is not
    /// the request context's domain and path (a custom domain with a base
    /// path mapping, the local stack's address). A proof's `htu` may be
    /// any of these followed by the request's resource path.
    pub public_base_urls: Vec<String>,
}

/// Why a `DPOP_*` setting was refused; the message names it.
#[derive(Debug, thiserror::Error)]
pub enum SenderSettingsError {
    /// `DPOP_MODE` is not `off`, `if_bound` or `required`.
    #[error("DPOP_MODE must be off, if_bound or required, not {0:?}")]
    Mode(String),
    /// `DPOP_ALGORITHMS` or `DPOP_MAX_AGE_SECONDS` was refused.
    #[error(transparent)]
    Proofs(#[from] DpopSettingsError),
    /// `DPOP_PUBLIC_BASE_URLS` is not a JSON array of base URLs.
    #[error("DPOP_PUBLIC_BASE_URLS: {0}")]
    PublicBaseUrls(String),
}

impl SenderSettings {
    /// Reads the DPoP variables.
    pub fn from_settings(
        settings: &Settings<impl Fn(&str) -> Option<String>>,
    ) -> Result<Self, SenderSettingsError> {
        let mode = match settings.text("DPOP_MODE") {
            None => DpopMode::default(),
            Some(value) => {
                DpopMode::from_setting(&value).ok_or(SenderSettingsError::Mode(value))?
            }
        };
        let public_base_urls = match settings.text("DPOP_PUBLIC_BASE_URLS") {
            None => Vec::new(),
            Some(json) => parse_base_urls(&json)?,
        };
        Ok(Self {
            mode,
            proofs: DpopSettings::from_settings(settings)?,
            public_base_urls,
        })
    }
}

/// A JSON array of absolute http(s) URLs without query or fragment, kept
/// without a trailing `/`.
fn parse_base_urls(json: &str) -> Result<Vec<String>, SenderSettingsError> {
    let bad = |why: &str| SenderSettingsError::PublicBaseUrls(why.to_owned());
    let urls: Vec<String> =
        serde_json::from_str(json).map_err(|_| bad("not a JSON array of URLs"))?;
    urls.into_iter()
        .map(|url| {
            let parsed =
                url::Url::parse(&url).map_err(|_| bad(&format!("{url:?} is not a URL")))?;
            let usable = matches!(parsed.scheme(), "http" | "https")
                && parsed.host().is_some()
                && parsed.query().is_none()
                && parsed.fragment().is_none()
                && parsed.username().is_empty();
            if !usable {
                return Err(bad(&format!(
                    "{url:?} is not an http(s) URL with a host and no query"
                )));
            }
            Ok(url.trim_end_matches('/').to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<SenderSettings, SenderSettingsError> {
        let settings = Settings::new(|name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        });
        SenderSettings::from_settings(&settings)
    }

    #[test]
    fn modes_and_base_urls() {
        assert_eq!(read(&[]).unwrap().mode, DpopMode::IfBound);
        for (value, mode) in [
            ("off", DpopMode::Off),
            ("IF_BOUND", DpopMode::IfBound),
            ("required", DpopMode::Required),
        ] {
            assert_eq!(read(&[("DPOP_MODE", value)]).unwrap().mode, mode);
        }
        assert!(matches!(
            read(&[("DPOP_MODE", "sometimes")]),
            Err(SenderSettingsError::Mode(_))
        ));
        let urls = read(&[(
            "DPOP_PUBLIC_BASE_URLS",
            r#"["https://api.example.com/v1/", "http://127.0.0.1:8080"]"#,
        )])
        .unwrap()
        .public_base_urls;
        assert_eq!(
            urls,
            ["https://api.example.com/v1", "http://127.0.0.1:8080"]
        );
        for bad in [
            "https://api.example.com",
            r#"["/v1"]"#,
            r#"["https://api.example.com/v1?x=1"]"#,
            r#"["ftp://api.example.com"]"#,
            r#"[1]"#,
        ] {
            assert!(
                matches!(
                    read(&[("DPOP_PUBLIC_BASE_URLS", bad)]),
                    Err(SenderSettingsError::PublicBaseUrls(_))
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            read(&[("DPOP_ALGORITHMS", "HS256")]),
            Err(SenderSettingsError::Proofs(_))
        ));
    }
}
