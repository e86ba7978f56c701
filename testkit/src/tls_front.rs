//! An `https` front for a plain `http` server on loopback: TLS ends here
//! (a [`TestCa`] certificate) and each connection is carried
//! on to the upstream server as it is, so keep-alive and everything else
//! stay the upstream's. With a [`DelayProxy`] before it, it is an IdP at a
//! distance: `https://localhost:PORT` with `LATENCY_MS` of round trip.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::{rustls, TlsAcceptor};

use crate::delay_proxy::{ConnectionLog, DelayProxy};
use crate::test_ca::{CaError, TestCa};

/// TLS termination in front of `upstream`; stops when dropped.
pub struct TlsFront {
    addr: SocketAddr,
    handshakes: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TlsFront {
    /// Listens on a free loopback port and serves TLS with `config`, each
    /// connection carried on to `upstream`.
    pub async fn start(
        config: Arc<rustls::ServerConfig>,
        upstream: SocketAddr,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let handshakes = Arc::new(AtomicUsize::new(0));
        let acceptor = TlsAcceptor::from(config);
        let counted = Arc::clone(&handshakes);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let counted = Arc::clone(&counted);
                tokio::spawn(async move {
                    let _ = stream.set_nodelay(true);
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    counted.fetch_add(1, Ordering::SeqCst);
                    let Ok(mut plain) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = plain.set_nodelay(true);
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
        Ok(Self {
            addr,
            handshakes,
            task,
        })
    }

    /// Where TLS is served (no delay).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// TLS handshakes completed so far.
    pub fn handshakes(&self) -> usize {
        self.handshakes.load(Ordering::SeqCst)
    }
}

/// An `https` IdP at a distance: a test CA, a TLS front for `upstream` and
/// a delay proxy before it. Clients use [`HttpsIdp::origin`] and trust
/// [`HttpsIdp::ca`].
pub struct HttpsIdp {
    ca: TestCa,
    front: TlsFront,
    proxy: DelayProxy,
}

impl HttpsIdp {
    /// `upstream` (a plain `http` server on loopback) served as
    /// `https://localhost:PORT`, `rtt` away; `port` 0 picks a free one.
    pub async fn start(upstream: SocketAddr, rtt: Duration, port: u16) -> Result<Self, CaError> {
        let ca = TestCa::new()?;
        let front = TlsFront::start(ca.server_config()?, upstream)
            .await
            .map_err(|e| CaError(e.to_string()))?;
        let proxy = DelayProxy::start(port, front.addr(), rtt)
            .await
            .map_err(|e| CaError(e.to_string()))?;
        Ok(Self { ca, front, proxy })
    }

    /// `https://localhost:PORT`.
    pub fn origin(&self) -> String {
        format!("https://localhost:{}", self.proxy.addr().port())
    }

    /// The CA that signed the IdP's certificate.
    pub fn ca(&self) -> &TestCa {
        &self.ca
    }

    /// TLS handshakes completed so far: new connections.
    pub fn handshakes(&self) -> usize {
        self.front.handshakes()
    }

    /// What the delay proxy saw of each connection.
    pub fn connections(&self) -> Vec<ConnectionLog> {
        self.proxy.connections()
    }

    /// Forgets the connections seen so far.
    pub fn clear(&self) {
        self.proxy.clear();
    }

    /// The round-trip time added.
    pub fn rtt(&self) -> Duration {
        self.proxy.rtt()
    }
}
