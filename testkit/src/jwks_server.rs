//! A JWKS server on 127.0.0.1 over real HTTP/1.1, whose behaviour a test
//! switches at run time: serve, fail with a status, hang, reset the
//! connection, send a huge or a trickling body. It counts every request.
//! It also serves other documents at their own paths (status lists), with
//! an `ETag` and 304 answers to `If-None-Match`.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// How the server answers the next requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerMode {
    /// 200 with the current JWKS.
    Serve,
    /// This status with a short body.
    Status(u16),
    /// Accept, read the request, never answer.
    Hang,
    /// Accept, read the request, reset the connection (RST).
    Reset,
    /// 200 with a 10 MB body, `Content-Length` announced.
    Huge,
    /// 200 with a 10 MB body and no `Content-Length` (close-delimited).
    HugeUnannounced,
    /// 200 with the JWKS sent one byte every 200 ms.
    Trickle,
}

struct State {
    mode: ServerMode,
    jwks: String,
    cache_control: Option<String>,
    /// Served at `/.well-known/openid-configuration` when set.
    discovery: Option<String>,
    /// Other documents by path, with their content type.
    documents: HashMap<String, (String, String)>,
    /// Keep connections open after a served answer (a real IdP does; the
    /// fault modes always close).
    keep_alive: bool,
}

/// The server; stops when dropped.
pub struct JwksServer {
    addr: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
    requests: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl JwksServer {
    /// Starts serving `jwks` with `Cache-Control: public, max-age=300`.
    pub async fn start(jwks: Value) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State {
            mode: ServerMode::Serve,
            jwks: jwks.to_string(),
            cache_control: Some("public, max-age=300".to_owned()),
            discovery: None,
            documents: HashMap::new(),
            keep_alive: false,
        }));
        let requests = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(accept_loop(
            listener,
            Arc::clone(&state),
            Arc::clone(&requests),
        ));
        Self {
            addr,
            state,
            requests,
            task,
        }
    }

    /// `http://127.0.0.1:PORT/.well-known/jwks.json`
    pub fn url(&self) -> String {
        format!("http://{}/.well-known/jwks.json", self.addr)
    }

    /// `http://127.0.0.1:PORT`, usable as an issuer whose JWKS is the default path.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves `jwks` from the next request on.
    pub fn set_jwks(&self, jwks: Value) {
        self.state.lock().expect("state").jwks = jwks.to_string();
    }

    /// Answers the next requests as `mode` says.
    pub fn set_mode(&self, mode: ServerMode) {
        self.state.lock().expect("state").mode = mode;
    }

    /// The `Cache-Control` header of the next answers (`None`: no header).
    pub fn set_cache_control(&self, value: Option<&str>) {
        self.state.lock().expect("state").cache_control = value.map(str::to_owned);
    }

    /// Serves `document` as the OIDC discovery document
    /// (`/.well-known/openid-configuration`); every other path gets the JWKS.
    pub fn set_discovery(&self, document: Value) {
        self.state.lock().expect("state").discovery = Some(document.to_string());
    }

    /// Serves `body` as `content_type` at `path` (such as
    /// `/statuslists/0`), with an `ETag`; `None` removes it (a path under
    /// `/statuslists` then answers 404).
    pub fn set_document(&self, path: &str, content_type: &str, body: Option<&str>) {
        let mut state = self.state.lock().expect("state");
        match body {
            Some(body) => state
                .documents
                .insert(path.to_owned(), (content_type.to_owned(), body.to_owned())),
            None => state.documents.remove(path),
        };
    }

    /// Keeps connections open after each served answer (`Connection:
    /// keep-alive`), as a real IdP does, so a client can reuse one.
    pub fn set_keep_alive(&self, keep_alive: bool) {
        self.state.lock().expect("state").keep_alive = keep_alive;
    }

    /// Requests received so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<Mutex<State>>, requests: Arc<AtomicUsize>) {
    while let Ok((stream, _)) = listener.accept().await {
        let state = Arc::clone(&state);
        let requests = Arc::clone(&requests);
        tokio::spawn(async move {
            let _ = serve(stream, state, requests).await;
        });
    }
}

/// Answers one connection as the current mode says: one request, or, with
/// keep-alive and while the mode serves, every request it carries.
async fn serve(
    mut stream: TcpStream,
    state: Arc<Mutex<State>>,
    requests: Arc<AtomicUsize>,
) -> std::io::Result<()> {
    while let Some(request) = read_head(&mut stream).await? {
        requests.fetch_add(1, Ordering::SeqCst);
        let head = String::from_utf8_lossy(&request).into_owned();
        let path = head.split(' ').nth(1).unwrap_or_default().to_owned();
        let wants_discovery = path == "/.well-known/openid-configuration";
        let (mode, jwks, cache_control, document, keep_alive) = {
            let s = state.lock().expect("state");
            let body = match (&s.discovery, wants_discovery) {
                (Some(document), true) => document.clone(),
                _ => s.jwks.clone(),
            };
            // Status list paths are documents (404 when unset); others the JWKS.
            let document = (path.starts_with("/statuslists") || s.documents.contains_key(&path))
                .then(|| s.documents.get(&path).cloned());
            let keep_alive = s.keep_alive && s.mode == ServerMode::Serve;
            (
                s.mode.clone(),
                body,
                s.cache_control.clone(),
                document,
                keep_alive,
            )
        };
        // A client that says `Connection: close` gets its answer and EOF,
        // keep-alive or not (a raw client reading to the end needs it).
        let keep_alive = keep_alive && !asks_to_close(&head);
        let connection = if keep_alive { "keep-alive" } else { "close" };
        let cache_header = cache_control
            .map(|v| format!("Cache-Control: {v}\r\nConnection: {connection}\r\n"))
            .unwrap_or_else(|| format!("Connection: {connection}\r\n"));
        if mode == ServerMode::Reset {
            stream.set_zero_linger()?;
            drop(stream);
            return Ok(());
        }
        match document {
            // A path of its own: the document, 304 for its validator, or 404.
            Some(document) if mode == ServerMode::Serve => {
                serve_document(&mut stream, document, &head, &cache_header).await?
            }
            _ => answer(&mut stream, mode, &jwks, &cache_header).await?,
        }
        if !keep_alive {
            break;
        }
    }
    stream.shutdown().await
}

/// Answers a request for a document path: 404 when none is set there, 304
/// when `If-None-Match` names its `ETag`, else 200 with it.
async fn serve_document(
    stream: &mut TcpStream,
    document: Option<(String, String)>,
    head: &str,
    cache_header: &str,
) -> std::io::Result<()> {
    let Some((content_type, body)) = document else {
        let head = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        return stream.write_all(head.as_bytes()).await;
    };
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut hasher);
    let etag = format!("\"{:016x}\"", hasher.finish());
    let revalidated = head.lines().any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.eq_ignore_ascii_case("if-none-match") && value.trim() == etag
        })
    });
    let reply = if revalidated {
        format!("HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\n{cache_header}\r\n")
    } else {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nETag: {etag}\r\n{cache_header}\r\n{body}",
            body.len()
        )
    };
    stream.write_all(reply.as_bytes()).await
}

/// Whether the request's head says `Connection: close`.
fn asks_to_close(head: &str) -> bool {
    head.lines().any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.eq_ignore_ascii_case("connection") && value.trim().eq_ignore_ascii_case("close")
        })
    })
}

/// The request up to its blank line; `None` when the peer closed first or
/// sent more than 16 KiB of head.
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut request = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 || request.len() > 16 * 1024 {
            return Ok(None);
        }
        request.extend_from_slice(&buf[..n]);
    }
    Ok(Some(request))
}

/// Writes the answer of every mode but [`ServerMode::Reset`] (which has none).
async fn answer(
    stream: &mut TcpStream,
    mode: ServerMode,
    jwks: &str,
    cache_header: &str,
) -> std::io::Result<()> {
    match mode {
        ServerMode::Serve => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{cache_header}\r\n{jwks}",
                jwks.len()
            );
            stream.write_all(head.as_bytes()).await?;
        }
        ServerMode::Status(code) => {
            let body = "server error";
            let head = format!(
                "HTTP/1.1 {code} Error\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(body.as_bytes()).await?;
        }
        ServerMode::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        ServerMode::Reset => {}
        ServerMode::Huge | ServerMode::HugeUnannounced => {
            const SIZE: usize = 10 * 1024 * 1024;
            let length = if mode == ServerMode::Huge {
                format!("Content-Length: {SIZE}\r\n")
            } else {
                String::new()
            };
            let head = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{length}Connection: close\r\n\r\n");
            stream.write_all(head.as_bytes()).await?;
            let chunk = vec![b' '; 64 * 1024];
            for _ in 0..SIZE / chunk.len() {
                stream.write_all(&chunk).await?;
            }
        }
        ServerMode::Trickle => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                jwks.len()
            );
            stream.write_all(head.as_bytes()).await?;
            for byte in jwks.as_bytes() {
                stream.write_all(std::slice::from_ref(byte)).await?;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    Ok(())
}
