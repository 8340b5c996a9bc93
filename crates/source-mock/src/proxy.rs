//! A logging proxy for tests: HTTP (`CONNECT` tunnels and absolute-form requests) and SOCKS5
//! (no authentication) on one loopback port, recording which host every connection asked for.
//!
//! It only connects to loopback targets (`127.0.0.0/8`, `[::1]`, `localhost`): any other host
//! is logged and refused without being resolved, so a client that leaks a request past its
//! configured base URLs shows up in [`LoggingProxy::log`] instead of reaching the network.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// How a client reached the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyProtocol {
    /// `CONNECT host:port` (a tunnel, e.g. for a WebSocket or TLS).
    HttpConnect,
    /// An absolute-form request, `GET http://host:port/path`.
    HttpForward,
    /// SOCKS5.
    Socks5,
}

/// One connection through the proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProxyRecord {
    /// How it came.
    pub protocol: ProxyProtocol,
    /// The host it asked for, as given (a name or an address).
    pub host: String,
    /// The port it asked for.
    pub port: u16,
    /// Whether the proxy connected it (false: not a loopback target, or unreachable).
    pub passed: bool,
}

/// A logging proxy on `127.0.0.1`; dropping it stops it.
#[derive(Debug)]
pub struct LoggingProxy {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<ProxyRecord>>>,
    accept: AbortHandle,
}

/// Records the proxy keeps (the newest).
const MAX_RECORDS: usize = 10_000;
/// Longest request head read.
const MAX_HEAD: usize = 16 * 1024;
/// Time a client has to say where it wants to go.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

impl LoggingProxy {
    /// Starts the proxy on `127.0.0.1:0`.
    ///
    /// # Errors
    /// When the port cannot be bound.
    pub async fn start() -> io::Result<LoggingProxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let log2 = log.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let log = log2.clone();
                tokio::spawn(async move {
                    let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, serve(client, log));
                    if let Ok(Some((mut a, mut b))) = handshake.await {
                        let _ = tokio::io::copy_bidirectional(&mut a, &mut b).await;
                    }
                });
            }
        })
        .abort_handle();
        Ok(LoggingProxy { addr, log, accept })
    }

    /// `http://127.0.0.1:PORT`, for an HTTP proxy setting.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `socks5://127.0.0.1:PORT`, for a SOCKS5 proxy setting.
    pub fn socks5_url(&self) -> String {
        format!("socks5://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every connection so far, in order.
    pub fn log(&self) -> Vec<ProxyRecord> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The distinct `host:port`s asked for, in order of first appearance.
    pub fn hosts(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in self.log() {
            let h = format!("{}:{}", r.host, r.port);
            if !out.contains(&h) {
                out.push(h);
            }
        }
        out
    }
}

impl Drop for LoggingProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn note(log: &Mutex<Vec<ProxyRecord>>, rec: ProxyRecord) {
    tracing::debug!(?rec, "logging proxy");
    if let Ok(mut l) = log.lock() {
        if l.len() >= MAX_RECORDS {
            l.remove(0);
        }
        l.push(rec);
    }
}

async fn dial(host: &str, port: u16) -> Option<TcpStream> {
    if !is_loopback(host) {
        return None;
    }
    let h = host.trim_start_matches('[').trim_end_matches(']');
    let h = if h.eq_ignore_ascii_case("localhost") {
        "127.0.0.1"
    } else {
        h
    };
    TcpStream::connect((h, port)).await.ok()
}

/// Splits `host:port` (`[v6]:port` too).
fn host_port(s: &str, default_port: u16) -> (String, u16) {
    match s.rsplit_once(':') {
        Some((h, p))
            if !h.is_empty()
                && p.parse::<u16>().is_ok()
                && (!h.contains(':') || h.ends_with(']')) =>
        {
            (h.to_owned(), p.parse().unwrap_or(default_port))
        }
        _ => (s.to_owned(), default_port),
    }
}

/// Reads the handshake, logs the target, connects; returns the two ends to join.
async fn serve(
    mut client: TcpStream,
    log: Arc<Mutex<Vec<ProxyRecord>>>,
) -> Option<(TcpStream, TcpStream)> {
    let mut first = [0u8; 1];
    client.peek(&mut first).await.ok()?;
    if first[0] == 5 {
        return socks5(client, &log).await;
    }
    // HTTP: read the head.
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > MAX_HEAD || client.read(&mut b).await.ok()? == 0 {
            return None;
        }
        head.push(b[0]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut parts = text.split_whitespace();
    let (method, target) = (parts.next()?, parts.next()?.to_owned());
    if method.eq_ignore_ascii_case("CONNECT") {
        let (host, port) = host_port(&target, 443);
        let up = dial(&host, port).await;
        note(
            &log,
            ProxyRecord {
                protocol: ProxyProtocol::HttpConnect,
                host,
                port,
                passed: up.is_some(),
            },
        );
        let Some(up) = up else {
            let _ = client
                .write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                .await;
            return None;
        };
        client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await
            .ok()?;
        return Some((client, up));
    }
    // GET http://host:port/path HTTP/1.1 → GET /path to host:port.
    let rest = target.strip_prefix("http://")?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (host, port) = host_port(authority, 80);
    let up = dial(&host, port).await;
    note(
        &log,
        ProxyRecord {
            protocol: ProxyProtocol::HttpForward,
            host,
            port,
            passed: up.is_some(),
        },
    );
    let Some(mut up) = up else {
        let _ = client
            .write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            .await;
        return None;
    };
    let fixed = text.replacen(&target, &format!("/{path}"), 1);
    up.write_all(fixed.as_bytes()).await.ok()?;
    Some((client, up))
}

/// SOCKS5 without authentication (RFC 1928): IPv4, domain and IPv6 targets, `CONNECT` only.
async fn socks5(mut c: TcpStream, log: &Mutex<Vec<ProxyRecord>>) -> Option<(TcpStream, TcpStream)> {
    let mut hello = [0u8; 2];
    c.read_exact(&mut hello).await.ok()?;
    let mut methods = vec![0u8; usize::from(hello[1])];
    c.read_exact(&mut methods).await.ok()?;
    if !methods.contains(&0) {
        let _ = c.write_all(&[5, 0xff]).await;
        return None;
    }
    c.write_all(&[5, 0]).await.ok()?;
    let mut req = [0u8; 4];
    c.read_exact(&mut req).await.ok()?;
    let host = match req[3] {
        1 => {
            let mut ip = [0u8; 4];
            c.read_exact(&mut ip).await.ok()?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => {
            let mut len = [0u8; 1];
            c.read_exact(&mut len).await.ok()?;
            let mut name = vec![0u8; usize::from(len[0])];
            c.read_exact(&mut name).await.ok()?;
            String::from_utf8_lossy(&name).into_owned()
        }
        4 => {
            let mut ip = [0u8; 16];
            c.read_exact(&mut ip).await.ok()?;
            format!("[{}]", std::net::Ipv6Addr::from(ip))
        }
        _ => return None,
    };
    let mut port = [0u8; 2];
    c.read_exact(&mut port).await.ok()?;
    let port = u16::from_be_bytes(port);
    let up = if req[1] == 1 {
        dial(&host, port).await
    } else {
        None
    };
    note(
        log,
        ProxyRecord {
            protocol: ProxyProtocol::Socks5,
            host,
            port,
            passed: up.is_some(),
        },
    );
    // Reply: succeeded (0) or connection not allowed by ruleset (2), bound to 0.0.0.0:0.
    let code = if up.is_some() { 0 } else { 2 };
    c.write_all(&[5, code, 0, 1, 0, 0, 0, 0, 0, 0]).await.ok()?;
    Some((c, up?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets_pass() {
        assert!(is_loopback("127.0.0.1") && is_loopback("127.3.2.1"));
        assert!(is_loopback("[::1]") && is_loopback("localhost"));
        assert!(!is_loopback("webcast-ws.tiktok.com") && !is_loopback("10.0.0.1"));
        assert_eq!(host_port("a.b:8080", 80), ("a.b".to_owned(), 8080));
        assert_eq!(host_port("[::1]:9", 80), ("[::1]".to_owned(), 9));
        assert_eq!(host_port("a.b", 443), ("a.b".to_owned(), 443));
    }
}
