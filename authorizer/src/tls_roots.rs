//! The root certificates an `https` fetch trusts, loaded the cheap way.
//!
//! Left to itself, reqwest's verifier (rustls-platform-verifier, which on
//! Linux is webpki over rustls-native-certs) reads `SSL_CERT_FILE` and
//! `SSL_CERT_DIR` when set, and otherwise probes the system: the bundle
//! file *and* every certificate directory it finds, file by file (on
//! Debian, /etc/ssl/certs holds a link per root, each parsed again after
//! the bundle that already holds them all). That directory walk was most of
//! the 6 ms a client once took to build.
//!
//! So, when neither variable is set, the roots come from the one bundle
//! file the system keeps (Lambda's Amazon Linux 2023:
//! `/etc/pki/tls/certs/ca-bundle.crt`), which `update-ca-trust` /
//! `update-ca-certificates` generate from the same sources as the
//! directory. A root installed only as a file in a directory, not in the
//! bundle, is then not trusted: name the directory in `SSL_CERT_DIR` to
//! have it read. With either variable set, or no bundle file found, the
//! platform verifier decides exactly as before.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

/// The system bundle files, in the order openssl-probe looks for them
/// (Amazon Linux and Fedora first).
const BUNDLES: &[&str] = &[
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// Where a client's roots come from.
#[derive(Debug, PartialEq, Eq)]
pub enum Roots {
    /// reqwest's platform verifier: `SSL_CERT_FILE`/`SSL_CERT_DIR`, or the
    /// system's files and directories.
    Platform,
    /// One bundle file, read here.
    Bundle(&'static str),
}

impl Roots {
    /// The platform verifier when either variable says where the roots are
    /// (honoured as it always was), else the first system bundle file.
    pub fn choose(lookup: impl Fn(&str) -> Option<std::ffi::OsString>) -> Self {
        let set = |name: &str| lookup(name).is_some_and(|v| !v.is_empty());
        if set("SSL_CERT_FILE") || set("SSL_CERT_DIR") {
            return Roots::Platform;
        }
        BUNDLES
            .iter()
            .copied()
            .find(|path| std::path::Path::new(path).is_file())
            .map_or(Roots::Platform, Roots::Bundle)
    }
}

/// A TLS client configuration (aws-lc-rs, TLS 1.2 and 1.3, `http/1.1`)
/// trusting the certificates of the PEM bundle at `path` that webpki can
/// use; `None` when it holds none (the caller falls back to the platform
/// verifier).
pub fn bundle_config(path: &str) -> Option<rustls::ClientConfig> {
    let pem = std::fs::read(path).ok()?;
    let mut store = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_slice_iter(&pem).filter_map(Result::ok);
    let (added, ignored) = store.add_parsable_certificates(certs);
    if added == 0 {
        return None;
    }
    tracing::debug!(path, added, ignored, "root certificates loaded");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .ok()?
        .with_root_certificates(store)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Some(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    #[test]
    fn either_variable_keeps_the_platform_verifier() {
        let only = |name: &'static str| {
            move |asked: &str| (asked == name).then(|| OsString::from("/somewhere"))
        };
        assert_eq!(Roots::choose(only("SSL_CERT_FILE")), Roots::Platform);
        assert_eq!(Roots::choose(only("SSL_CERT_DIR")), Roots::Platform);
    }

    #[test]
    fn without_them_the_system_bundle_is_read_when_there_is_one() {
        match Roots::choose(|_| None) {
            Roots::Bundle(path) => {
                let config = bundle_config(path).expect("the system bundle has roots");
                assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
            }
            Roots::Platform => assert!(BUNDLES.iter().all(|p| !std::path::Path::new(p).exists())),
        }
    }

    #[test]
    fn a_bundle_without_certificates_is_not_used() {
        let path = std::env::temp_dir().join(format!("empty-bundle-{}.pem", std::process::id()));
        std::fs::write(&path, "not a certificate").unwrap();
        assert!(bundle_config(path.to_str().unwrap()).is_none());
        std::fs::remove_file(&path).unwrap();
    }
}
