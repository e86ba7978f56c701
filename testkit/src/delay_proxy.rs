//! A TCP proxy on loopback that adds a round-trip time, so that a cold
//! start measured on this machine pays for the network as it would on a
//! real one: every byte reaches the other side half an RTT after it was
//! written, and a connection's first client bytes pay one more RTT, for the
//! TCP handshake the loopback connect skipped.
//!
//! The handshake's round trip is charged *after* the client wrote, never in
//! parallel with what the client does between its `connect` and its first
//! write: on a loopback socket `connect` returns at once, and overlapping
//! that work with an RTT the client never waited for would flatter it. A
//! client that does work before its first write (TLS set-up, say) pays for
//! it in full, as it does on a real network when it does that work after
//! its `connect` returns.
//!
//! It records when each connection was accepted and when its client's
//! first bytes (a TLS ClientHello) arrived, so a measurement can tell the
//! client's own set-up time apart from the network's.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// What the proxy saw of one client connection.
#[derive(Clone, Debug)]
pub struct ConnectionLog {
    /// When the proxy accepted it (the client's `connect` returned).
    pub accepted: Instant,
    /// When the client's first bytes arrived: for TLS, its ClientHello.
    pub first_bytes: Option<Instant>,
    /// Bytes from the client, and to it.
    pub bytes_up: usize,
    /// Bytes to the client.
    pub bytes_down: usize,
}

/// The proxy; stops accepting when dropped.
pub struct DelayProxy {
    addr: SocketAddr,
    rtt: Duration,
    log: Arc<Mutex<Vec<ConnectionLog>>>,
    task: JoinHandle<()>,
}

impl Drop for DelayProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DelayProxy {
    /// Listens on `127.0.0.1:port` (0: a free port) and forwards every
    /// connection to `target` with `rtt` added.
    pub async fn start(port: u16, target: SocketAddr, rtt: Duration) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn(accept_loop(listener, target, rtt, Arc::clone(&log)));
        Ok(Self {
            addr,
            rtt,
            log,
            task,
        })
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The round-trip time added.
    pub fn rtt(&self) -> Duration {
        self.rtt
    }

    /// Every connection so far, in the order accepted.
    pub fn connections(&self) -> Vec<ConnectionLog> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Forgets the connections seen so far.
    pub fn clear(&self) {
        if let Ok(mut log) = self.log.lock() {
            log.clear();
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    target: SocketAddr,
    rtt: Duration,
    log: Arc<Mutex<Vec<ConnectionLog>>>,
) {
    while let Ok((client, _)) = listener.accept().await {
        let accepted = Instant::now();
        let index = match log.lock() {
            Ok(mut log) => {
                log.push(ConnectionLog {
                    accepted,
                    first_bytes: None,
                    bytes_up: 0,
                    bytes_down: 0,
                });
                log.len() - 1
            }
            Err(_) => continue,
        };
        let log = Arc::clone(&log);
        tokio::spawn(async move {
            let Ok(upstream) = TcpStream::connect(target).await else {
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = upstream.set_nodelay(true);
            let (client_read, client_write) = client.into_split();
            let (upstream_read, upstream_write) = upstream.into_split();
            let one_way = rtt / 2;
            let up = pump(
                client_read,
                upstream_write,
                one_way,
                rtt,
                Side::Up(Arc::clone(&log), index),
            );
            let down = pump(
                upstream_read,
                client_write,
                one_way,
                Duration::ZERO,
                Side::Down(log, index),
            );
            tokio::join!(up, down);
        });
    }
}

/// Which way a pump carries bytes, and where it records them.
enum Side {
    Up(Arc<Mutex<Vec<ConnectionLog>>>, usize),
    Down(Arc<Mutex<Vec<ConnectionLog>>>, usize),
}

impl Side {
    fn record(&self, bytes: usize, at: Instant) {
        let (Side::Up(log, index) | Side::Down(log, index)) = self;
        let Ok(mut log) = log.lock() else { return };
        let Some(entry) = log.get_mut(*index) else {
            return;
        };
        match self {
            Side::Up(..) => {
                entry.first_bytes.get_or_insert(at);
                entry.bytes_up += bytes;
            }
            Side::Down(..) => entry.bytes_down += bytes,
        }
    }
}

/// Carries bytes from `from` to `to`, each chunk `delay` after it was read
/// (the first one `first_extra` later still), in order; then the
/// end of stream, as late.
async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    delay: Duration,
    first_extra: Duration,
    side: Side,
) {
    let (send, mut receive) = mpsc::unbounded_channel::<(Instant, Option<Vec<u8>>)>();
    let reader = async move {
        let mut buf = vec![0u8; 64 * 1024];
        let mut first = true;
        loop {
            let n = from.read(&mut buf).await.unwrap_or(0);
            let now = Instant::now();
            let mut due = now + delay;
            if first && n > 0 {
                due += first_extra;
                first = false;
            }
            side.record(n, now);
            let chunk = (n > 0).then(|| buf[..n].to_vec());
            let done = chunk.is_none();
            if send.send((due, chunk)).is_err() || done {
                return;
            }
        }
    };
    let writer = async move {
        while let Some((due, chunk)) = receive.recv().await {
            tokio::time::sleep_until(due.into()).await;
            match chunk {
                Some(bytes) => {
                    if to.write_all(&bytes).await.is_err() {
                        return;
                    }
                }
                None => {
                    let _ = to.shutdown().await;
                    return;
                }
            }
        }
    };
    tokio::join!(reader, writer);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An echo server behind a 40 ms proxy: the first answer takes at least
    /// the handshake's RTT and one more, the next one at least one RTT.
    #[tokio::test]
    async fn adds_the_round_trip_time_and_charges_the_handshake_once() {
        let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = echo.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = echo.accept().await.unwrap();
            let mut buf = [0u8; 16];
            while let Ok(n) = socket.read(&mut buf).await {
                if n == 0 || socket.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        });
        let rtt = Duration::from_millis(40);
        let proxy = DelayProxy::start(0, target, rtt).await.unwrap();
        let mut client = TcpStream::connect(proxy.addr()).await.unwrap();
        let mut buf = [0u8; 4];
        let started = Instant::now();
        client.write_all(b"ping").await.unwrap();
        client.read_exact(&mut buf).await.unwrap();
        let first = started.elapsed();
        let started = Instant::now();
        client.write_all(b"pong").await.unwrap();
        client.read_exact(&mut buf).await.unwrap();
        let second = started.elapsed();
        assert!(first >= rtt * 2, "{first:?}");
        assert!(second >= rtt, "{second:?}");
        let log = proxy.connections();
        assert_eq!(log.len(), 1);
        assert_eq!((log[0].bytes_up, log[0].bytes_down), (8, 8));
        assert!(log[0].first_bytes.is_some());
    }
}
