//! Sockets: the HTTP client, TLS (rustls with the ring provider and the Mozilla roots), HTTP and
//! SOCKS5 proxies for the WebSocket, and capped body reads.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use crate::error::TikTokError;

/// The WebSocket type the source uses.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A rustls client configuration with the ring provider and the webpki roots (no OpenSSL, no
/// aws-lc).
pub fn tls_config() -> Result<Arc<rustls::ClientConfig>, TikTokError> {
    static CONFIG: std::sync::OnceLock<Result<Arc<rustls::ClientConfig>, String>> =
        std::sync::OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .map(|b| Arc::new(b.with_root_certificates(roots).with_no_client_auth()))
            .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| TikTokError::Config(format!("TLS setup: {e}")))
}

/// The pooled HTTP client for TikTok's web hosts. Sources without a proxy and with the default
/// timeout share one process-wide client (one pool, one TLS configuration), so a thousand rooms
/// do not hold a thousand pools.
pub fn http_client(proxy: Option<&str>, timeout: Duration) -> Result<reqwest::Client, TikTokError> {
    static SHARED: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    if proxy.is_none() && timeout == DEFAULT_HTTP_TIMEOUT {
        if let Some(c) = SHARED.get() {
            return Ok(c.clone());
        }
        let c = build_http_client(None, timeout)?;
        return Ok(SHARED.get_or_init(|| c).clone());
    }
    build_http_client(proxy, timeout)
}

/// The timeout of the shared client.
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(10);

fn build_http_client(
    proxy: Option<&str>,
    timeout: Duration,
) -> Result<reqwest::Client, TikTokError> {
    let tls = (*tls_config()?).clone();
    let mut b = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .timeout(timeout)
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(4);
    b = match proxy {
        Some(p) => b.proxy(
            reqwest::Proxy::all(p)
                .map_err(|e| TikTokError::Config(format!("proxy {}: {e}", redact_url(p))))?,
        ),
        None => b.no_proxy(),
    };
    b.build()
        .map_err(|e| TikTokError::Config(format!("HTTP client: {e}")))
}

/// A URL with any user:password replaced, for messages.
pub fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((_, host)) => format!("{scheme}://<redacted>@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// Random decimal digits (device ids), from the process's random hasher keys and the clock.
pub fn random_digits(n: usize) -> String {
    let mut out = String::with_capacity(n);
    let mut x = random_u64();
    for i in 0..n {
        if i % 16 == 0 {
            x = random_u64();
        }
        let d = (x % 10) as u8;
        x /= 10;
        out.push(char::from(b'0' + if i == 0 && d == 0 { 1 } else { d }));
    }
    out
}

/// A random 64-bit value (not cryptographic).
pub fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

/// Reads a response body, refusing more than `max` bytes.
pub async fn read_capped(mut resp: reqwest::Response, max: usize) -> Result<Vec<u8>, String> {
    if let Some(len) = resp.content_length() {
        if len > max as u64 {
            return Err(format!("body of {len} bytes is over the {max}-byte limit"));
        }
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| e.without_url().to_string())?
    {
        if body.len() + chunk.len() > max {
            return Err(format!("body is over the {max}-byte limit"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

struct Endpoint {
    tls: bool,
    host: String,
    port: u16,
}

fn endpoint(url: &str) -> Result<Endpoint, TikTokError> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| TikTokError::Protocol(format!("push server URL {url:?} has no scheme")))?;
    let tls = match scheme.to_ascii_lowercase().as_str() {
        "wss" | "https" => true,
        "ws" | "http" => false,
        other => {
            return Err(TikTokError::Protocol(format!(
                "push server URL scheme {other:?} is not ws or wss"
            )));
        }
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| TikTokError::Protocol(format!("bad host in {url:?}")))?;
        (h.to_owned(), after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (authority.to_owned(), None),
        }
    };
    let port = match port {
        Some(p) => p
            .parse()
            .map_err(|_| TikTokError::Protocol(format!("bad port in {url:?}")))?,
        None if tls => 443,
        None => 80,
    };
    if host.is_empty() {
        return Err(TikTokError::Protocol(format!("no host in {url:?}")));
    }
    Ok(Endpoint { tls, host, port })
}

async fn tcp(host: &str, port: u16, proxy: Option<&str>) -> Result<TcpStream, TikTokError> {
    let target = format!("{host}:{port}");
    let connect_err = |t: &str, detail: String| TikTokError::Connect {
        target: t.to_owned(),
        detail,
    };
    let Some(proxy) = proxy else {
        let s = TcpStream::connect((host, port))
            .await
            .map_err(|e| connect_err(&target, e.to_string()))?;
        let _ = s.set_nodelay(true);
        return Ok(s);
    };
    let p = endpoint_of_proxy(proxy)?;
    let mut s = TcpStream::connect((p.host.as_str(), p.port))
        .await
        .map_err(|e| connect_err(&redact_url(proxy), e.to_string()))?;
    let _ = s.set_nodelay(true);
    let io = |e: std::io::Error| connect_err(&redact_url(proxy), e.to_string());
    if p.socks {
        socks5_handshake(&mut s, host, port, p.auth.as_ref())
            .await
            .map_err(|d| connect_err(&redact_url(proxy), d))?;
    } else {
        let mut req = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
        if let Some((u, pw)) = &p.auth {
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{pw}"));
            req.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).await.map_err(io)?;
        let mut buf = Vec::with_capacity(256);
        let mut byte = [0u8; 1];
        while !buf.ends_with(b"\r\n\r\n") {
            if buf.len() > 8192 || s.read(&mut byte).await.map_err(io)? == 0 {
                return Err(connect_err(
                    &redact_url(proxy),
                    "proxy closed or sent an oversized answer to CONNECT".into(),
                ));
            }
            buf.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&buf);
        let ok = head
            .split_whitespace()
            .nth(1)
            .is_some_and(|code| code.starts_with('2'));
        if !ok {
            return Err(connect_err(
                &redact_url(proxy),
                format!(
                    "proxy refused CONNECT: {}",
                    head.lines().next().unwrap_or("")
                ),
            ));
        }
    }
    Ok(s)
}

struct ProxyEndpoint {
    socks: bool,
    host: String,
    port: u16,
    auth: Option<(String, String)>,
}

fn endpoint_of_proxy(proxy: &str) -> Result<ProxyEndpoint, TikTokError> {
    let bad = |why: &str| TikTokError::Config(format!("proxy {}: {why}", redact_url(proxy)));
    let (scheme, rest) = proxy.split_once("://").ok_or_else(|| bad("no scheme"))?;
    let socks = match scheme.to_ascii_lowercase().as_str() {
        "socks5" | "socks5h" => true,
        "http" => false,
        _ => return Err(bad("scheme must be http, socks5 or socks5h")),
    };
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let (auth, hostport) = match authority.rsplit_once('@') {
        Some((a, h)) => {
            let (u, p) = a.split_once(':').unwrap_or((a, ""));
            (Some((u.to_owned(), p.to_owned())), h)
        }
        None => (None, authority),
    };
    let (host, port) = hostport.rsplit_once(':').ok_or_else(|| bad("no port"))?;
    let port = port.parse().map_err(|_| bad("bad port"))?;
    Ok(ProxyEndpoint {
        socks,
        host: host.trim_matches(['[', ']']).to_owned(),
        port,
        auth,
    })
}

async fn socks5_handshake(
    s: &mut TcpStream,
    host: &str,
    port: u16,
    auth: Option<&(String, String)>,
) -> Result<(), String> {
    let e = |e: std::io::Error| e.to_string();
    let methods: &[u8] = if auth.is_some() {
        &[0x00, 0x02]
    } else {
        &[0x00]
    };
    let mut hello = vec![0x05, methods.len() as u8];
    hello.extend_from_slice(methods);
    s.write_all(&hello).await.map_err(e)?;
    let mut reply = [0u8; 2];
    s.read_exact(&mut reply).await.map_err(e)?;
    match (reply, auth) {
        ([0x05, 0x00], _) => {}
        ([0x05, 0x02], Some((u, p))) => {
            if u.len() > 255 || p.len() > 255 {
                return Err("SOCKS5 user or password longer than 255 bytes".into());
            }
            let mut msg = vec![0x01, u.len() as u8];
            msg.extend_from_slice(u.as_bytes());
            msg.push(p.len() as u8);
            msg.extend_from_slice(p.as_bytes());
            s.write_all(&msg).await.map_err(e)?;
            let mut r = [0u8; 2];
            s.read_exact(&mut r).await.map_err(e)?;
            if r[1] != 0 {
                return Err("SOCKS5 authentication refused".into());
            }
        }
        _ => return Err("SOCKS5 proxy accepts none of our authentication methods".into()),
    }
    if host.len() > 255 {
        return Err("host name too long for SOCKS5".into());
    }
    let mut req = vec![0x05, 0x01, 0x00, 0x03, host.len() as u8];
    req.extend_from_slice(host.as_bytes());
    req.extend_from_slice(&port.to_be_bytes());
    s.write_all(&req).await.map_err(e)?;
    let mut head = [0u8; 4];
    s.read_exact(&mut head).await.map_err(e)?;
    if head[1] != 0 {
        return Err(format!("SOCKS5 connect failed (code {})", head[1]));
    }
    let skip = match head[3] {
        0x01 => 4,
        0x04 => 16,
        0x03 => {
            let mut l = [0u8; 1];
            s.read_exact(&mut l).await.map_err(e)?;
            usize::from(l[0])
        }
        _ => return Err("SOCKS5 reply has an unknown address type".into()),
    };
    let mut rest = vec![0u8; skip + 2];
    s.read_exact(&mut rest).await.map_err(e)?;
    Ok(())
}

/// Opens a WebSocket with these extra headers. An answer other than `101` becomes
/// [`TikTokError::Rejected`] with TikTok's `Handshake-Msg`.
pub async fn connect_ws(
    url: &str,
    headers: &[(String, String)],
    proxy: Option<&str>,
    max_message: usize,
    timeout: Duration,
) -> Result<(Ws, Option<String>), TikTokError> {
    let ep = endpoint(url)?;
    let mut request = url
        .into_client_request()
        .map_err(|e| TikTokError::Protocol(format!("bad push server URL: {e}")))?;
    for (name, value) in headers {
        let bad = || TikTokError::Protocol(format!("header {name} has invalid bytes"));
        let value = HeaderValue::from_str(value).map_err(|_| bad())?;
        let name =
            HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()).map_err(|_| bad())?;
        request.headers_mut().insert(name, value);
    }
    // A small read buffer: tungstenite zero-fills its whole read buffer before each read, so
    // the 128 KiB default stays resident per idle connection; it grows for larger frames.
    let config = WebSocketConfig::default()
        .read_buffer_size(8 * 1024)
        .max_message_size(Some(max_message))
        .max_frame_size(Some(max_message));
    let connector = if ep.tls {
        Connector::Rustls(tls_config()?)
    } else {
        Connector::Plain
    };
    let fut = async {
        let stream = tcp(&ep.host, ep.port, proxy).await?;
        tokio_tungstenite::client_async_tls_with_config(
            request,
            stream,
            Some(config),
            Some(connector),
        )
        .await
        .map_err(|e| match e {
            tokio_tungstenite::tungstenite::Error::Http(resp) => {
                let header = |name: &str| {
                    resp.headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(|v| v.chars().take(256).collect::<String>())
                };
                TikTokError::Rejected {
                    status: resp.status().as_u16(),
                    handshake_msg: header("handshake-msg"),
                    handshake_status: header("handshake-status"),
                }
            }
            other => TikTokError::WebSocket(other),
        })
    };
    let (ws, resp) = tokio::time::timeout(timeout, fut)
        .await
        .map_err(|_| TikTokError::Timeout("WebSocket connect"))??;
    let options = resp
        .headers()
        .get("handshake-options")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Ok((ws, options))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_and_proxies() {
        let e = endpoint("wss://webcast-ws.tiktok.com/webcast/im/ws?x=1").unwrap();
        assert!(e.tls);
        assert_eq!((e.host.as_str(), e.port), ("webcast-ws.tiktok.com", 443));
        let e = endpoint("ws://127.0.0.1:8080/ws").unwrap();
        assert_eq!((e.host.as_str(), e.port, e.tls), ("127.0.0.1", 8080, false));
        let e = endpoint("ws://[::1]:9/x").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("::1", 9));
        assert!(endpoint("ftp://x").is_err());
        assert!(endpoint("nonsense").is_err());
        let p = endpoint_of_proxy("socks5://user:pw@127.0.0.1:1080").unwrap();
        assert!(p.socks);
        assert_eq!(p.auth, Some(("user".into(), "pw".into())));
        assert!(!endpoint_of_proxy("http://127.0.0.1:3128").unwrap().socks);
        assert!(endpoint_of_proxy("ftp://x:1").is_err());
        assert_eq!(
            redact_url("http://user:secret@proxy:1"),
            "http://<redacted>@proxy:1"
        );
        let d = random_digits(19);
        assert_eq!(d.len(), 19);
        assert!(d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with('0'));
    }
}
