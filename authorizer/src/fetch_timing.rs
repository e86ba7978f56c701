//! Where a fetch's time goes: its DNS lookup and its connection set-up
//! (TCP and TLS), measured inside reqwest by a resolver and a connector
//! layer, and handed to the fetch that caused them through a task-local.
//! A fetch on a pooled connection has neither; a cold start's first one
//! has both, and they are most of it on a distant network.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

tokio::task_local! {
    static PHASES: Arc<Phases>;
}

/// The phases of one fetch (or of several made in one scope), microseconds.
#[derive(Debug, Default)]
pub struct Phases {
    dns: AtomicU64,
    connect: AtomicU64,
    connections: AtomicU64,
}

impl Phases {
    /// DNS lookups, ms.
    pub fn dns_ms(&self) -> f64 {
        self.dns.load(Ordering::Relaxed) as f64 / 1000.0
    }

    /// Connection set-ups (TCP and TLS, their DNS lookup excluded), ms.
    pub fn connect_ms(&self) -> f64 {
        let both = self.connect.load(Ordering::Relaxed);
        both.saturating_sub(self.dns.load(Ordering::Relaxed)) as f64 / 1000.0
    }

    /// New connections made.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    fn add(counter: &AtomicU64, since: Instant) {
        counter.fetch_add(since.elapsed().as_micros() as u64, Ordering::Relaxed);
    }
}

/// Runs `fetch` with `phases` collecting its DNS and connection times.
pub async fn timed<F: Future>(phases: Arc<Phases>, fetch: F) -> F::Output {
    PHASES.scope(phases, fetch).await
}

fn current() -> Option<Arc<Phases>> {
    PHASES.try_with(Arc::clone).ok()
}

/// The system resolver (getaddrinfo on the blocking pool, as reqwest's
/// own), timed.
#[derive(Debug, Default)]
pub struct TimedResolver;

impl Resolve for TimedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let phases = current();
        Box::pin(async move {
            let started = Instant::now();
            let found = tokio::net::lookup_host((name.as_str(), 0)).await;
            if let Some(phases) = &phases {
                Phases::add(&phases.dns, started);
            }
            let addrs: Vec<SocketAddr> = found?.collect();
            Ok::<Addrs, Box<dyn std::error::Error + Send + Sync>>(Box::new(addrs.into_iter()))
        })
    }
}

/// A connector layer timing each new connection (DNS, TCP and TLS).
#[derive(Clone, Debug, Default)]
pub struct TimedConnectLayer;

impl<S> tower_layer::Layer<S> for TimedConnectLayer {
    type Service = TimedConnect<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TimedConnect(inner)
    }
}

/// See [`TimedConnectLayer`].
#[derive(Clone, Debug)]
pub struct TimedConnect<S>(S);

type Boxed<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, R> tower_service::Service<R> for TimedConnect<S>
where
    S: tower_service::Service<R>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Boxed<S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        let phases = current();
        let connecting = self.0.call(request);
        Box::pin(async move {
            let started = Instant::now();
            let connected = connecting.await;
            if let Some(phases) = &phases {
                Phases::add(&phases.connect, started);
                phases.connections.fetch_add(1, Ordering::Relaxed);
            }
            connected
        })
    }
}
