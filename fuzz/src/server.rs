//! A loopback HTTP/1.1 server for the documents an authorizer fetches (the
//! JWKS, status lists), with keep-alive so that a target fetching on every
//! input does not exhaust the ephemeral ports. Each path serves what the
//! target last set there; any other path is a 404.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// One served document.
#[derive(Clone, Debug)]
pub struct Document {
    /// The `Content-Type`.
    pub content_type: &'static str,
    /// The body.
    pub body: Vec<u8>,
}

/// The server; it runs until the process exits.
#[derive(Clone)]
pub struct Server {
    addr: SocketAddr,
    documents: Arc<Mutex<HashMap<String, Document>>>,
}

impl Server {
    /// Starts serving on 127.0.0.1 on a free port.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local address");
        let documents: Arc<Mutex<HashMap<String, Document>>> = Arc::default();
        let served = Arc::clone(&documents);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let documents = Arc::clone(&served);
                std::thread::spawn(move || {
                    let _ = serve(stream, &documents);
                });
            }
        });
        Self { addr, documents }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves `body` at `path` from the next request on.
    pub fn set(&self, path: &str, content_type: &'static str, body: Vec<u8>) {
        self.documents
            .lock()
            .expect("documents")
            .insert(path.to_owned(), Document { content_type, body });
    }
}

/// Answers the requests of one connection until the client closes it.
fn serve(stream: TcpStream, documents: &Mutex<HashMap<String, Document>>) -> std::io::Result<()> {
    // No Nagle: an answer is written whole, and waiting for the client's
    // delayed ACK would cost 40 ms per fetch.
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let path = request_line
            .split(' ')
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        let mut body_length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            if line == "\r\n" || line == "\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    body_length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        std::io::copy(
            &mut (&mut reader).take(body_length as u64),
            &mut std::io::sink(),
        )?;
        let document = documents.lock().expect("documents").get(&path).cloned();
        let mut answer = match &document {
            Some(document) => format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
                 Cache-Control: max-age=31536000\r\n\r\n",
                document.content_type,
                document.body.len()
            ),
            None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_owned(),
        }
        .into_bytes();
        if let Some(document) = document {
            answer.extend_from_slice(&document.body);
        }
        writer.write_all(&answer)?;
        writer.flush()?;
    }
}
