//! Egresses: the ways out to TikTok. Each proxy is one (or, without proxies, the direct
//! connection is the only one), with its own web client, its own signer and its own budget
//! buckets. A room always leaves through the same egress (chosen from its handle).

use std::sync::Arc;

use ttlive_signer::SessionCredentials;
use ttlive_signer::{
    DirectHost, DirectSigner, EulerSigner, FallbackSigner, PageTtwid, Signer, SignerMode,
    TtwidCache,
};
use ttlive_source_tiktok::{TikTokSource, TikTokSourceBuilder, WebClient};

use crate::config::{ConnectionConfig, redact_url};

/// Setting up a connection failed (a bad URL, a bad proxy).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The sign server client could not be built.
    #[error("sign server setup")]
    Sign(#[source] ttlive_signer::SignError),
    /// The direct mode could not be set up.
    #[error("direct mode setup")]
    Direct(#[source] ttlive_signer::SignError),
    /// The web client could not be built.
    #[error("web client setup")]
    Web(#[source] ttlive_source_tiktok::TikTokError),
}

/// One way out: a name (`direct`, `proxy1`…), its proxy, its web client and its signer.
#[derive(Clone)]
pub struct Egress {
    /// A name for budgets, logs and metrics (never the proxy's URL, which may hold a password).
    pub name: String,
    /// The proxy, if any.
    pub proxy: Option<String>,
    /// Web requests (lookups, live checks) through this egress.
    pub web: WebClient,
    /// The signer for rooms of this egress.
    pub signer: Arc<dyn Signer>,
    /// What the signer talks to, for metrics: the sign server's host, or `direct`.
    pub sign_server: String,
}

impl std::fmt::Debug for Egress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Egress")
            .field("name", &self.name)
            .field("proxy", &self.proxy.as_deref().map(redact_url))
            .field("sign_server", &self.sign_server)
            .finish_non_exhaustive()
    }
}

impl Egress {
    /// Every egress of a connection configuration: one per proxy, or one direct.
    pub fn all(conn: &ConnectionConfig) -> Result<Vec<Egress>, SetupError> {
        if conn.proxies.is_empty() {
            return Ok(vec![Egress::new(conn, "direct", None)?]);
        }
        conn.proxies
            .iter()
            .enumerate()
            .map(|(i, p)| Egress::new(conn, &format!("proxy{}", i + 1), Some(p)))
            .collect()
    }

    /// One egress through `proxy` (none: direct).
    pub fn new(
        conn: &ConnectionConfig,
        name: &str,
        proxy: Option<&str>,
    ) -> Result<Egress, SetupError> {
        let web = WebClient::new(
            &conn.web_url,
            &conn.webcast_url,
            ttlive_signer::DEFAULT_USER_AGENT,
            proxy,
            conn.http_timeout,
        )
        .map_err(SetupError::Web)?;
        let signer = build_signer(conn, proxy)?;
        let sign_server = match conn.mode {
            SignerMode::Direct => "direct".to_owned(),
            _ => conn
                .sign_url
                .as_deref()
                .map_or_else(|| "eulerstream".to_owned(), host_of),
        };
        Ok(Egress {
            name: name.to_owned(),
            proxy: proxy.map(str::to_owned),
            web,
            signer,
            sign_server,
        })
    }

    /// The egress a room leaves through: the same one for the same handle, spread evenly.
    pub fn index_for(user: &str, count: usize) -> usize {
        if count <= 1 {
            return 0;
        }
        // FNV-1a: stable across runs and builds (unlike the std hasher).
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in user.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        (h % count as u64) as usize
    }
}

/// A source builder for `target` (a handle or a room id) with the connection settings of
/// `conn`, through `proxy`, signing with `signer`: hosts, history, timers, attempts, polling and
/// session. (The service and `watch` build their sources here.)
pub fn source_builder(
    conn: &ConnectionConfig,
    target: &str,
    proxy: Option<&str>,
    signer: Arc<dyn Signer>,
) -> TikTokSourceBuilder {
    let mut b = TikTokSource::builder(target)
        .signer(signer)
        .web_url(&conn.web_url)
        .webcast_url(&conn.webcast_url)
        .emit_history(conn.history)
        .stall_timeout(conn.stall_timeout)
        .backoff(conn.backoff_initial, conn.backoff_max)
        .timeouts(conn.http_timeout, conn.connect_timeout)
        .max_attempts((conn.max_attempts > 0).then_some(conn.max_attempts))
        .polling(
            conn.polling,
            std::time::Duration::from_secs(1),
            std::time::Duration::from_secs(60),
        );
    if let Some(p) = proxy {
        b = b.proxy(p.to_owned());
    }
    if let Some(s) = &conn.session_id {
        b = b.session(SessionCredentials::new(
            s.clone(),
            conn.tt_target_idc.clone(),
        ));
    }
    b
}

/// `host[:port]` of a URL, for metric labels.
fn host_of(url: &str) -> String {
    url.split_once("://")
        .map_or(url, |(_, r)| r)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("")
        .rsplit('@')
        .next()
        .unwrap_or("")
        .to_owned()
}

/// The signer a connection configuration asks for: the Euler Stream client (at `sign_url`,
/// with the API key), the web player's direct mode (a `ttwid` from TikTok's pages, or from the
/// configured web host), or direct first with Euler as the fallback (`mode`).
pub fn build_signer(
    conn: &ConnectionConfig,
    proxy: Option<&str>,
) -> Result<Arc<dyn Signer>, SetupError> {
    // The builder also reads `SIGN_API_URL`, `SIGN_API_KEY` and the session host allow-list
    // from the environment where the configuration sets nothing, as `watch` does.
    let mut b = EulerSigner::builder();
    if let Some(url) = &conn.sign_url {
        b = b.base_url(url.clone());
        // A session id given with a sign server is meant for that server: allow its host.
        if conn.session_id.is_some()
            && let Some(host) = url
                .split_once("://")
                .and_then(|(_, r)| r.split(['/', ':']).next())
        {
            b = b.allow_session_host(host.to_owned());
        }
    }
    if let Some(key) = conn.sign_api_key.as_ref().filter(|k| !k.is_empty()) {
        b = b.api_key(key.clone());
    }
    if let Some(p) = proxy {
        b = b.proxy(p.to_owned());
    }
    let euler = b.build().map_err(SetupError::Sign)?;
    if conn.mode == SignerMode::Euler {
        return Ok(Arc::new(euler));
    }
    let web = conn.web_url.trim_end_matches('/');
    let cache = if web == ttlive_source_tiktok::DEFAULT_WEB_URL {
        TtwidCache::global().map_err(SetupError::Direct)?
    } else {
        let page = PageTtwid::new(&format!("{web}/")).map_err(SetupError::Direct)?;
        Arc::new(TtwidCache::builder().source(page).build())
    };
    // Without ws_url, a custom webcast host (a fake server, a proxy) also serves the socket.
    let custom_webcast = (conn.webcast_url.trim_end_matches('/')
        != ttlive_source_tiktok::DEFAULT_WEBCAST_URL)
        .then_some(conn.webcast_url.as_str());
    let host = match conn.ws_url.as_deref().or(custom_webcast) {
        None => DirectHost::Global,
        Some("us") => DirectHost::Us,
        Some("eu") => DirectHost::Eu,
        Some(url) => DirectHost::Custom(
            url.replacen("https://", "wss://", 1)
                .replacen("http://", "ws://", 1),
        ),
    };
    let direct = DirectSigner::builder()
        .ttwid_cache(cache)
        .host(host)
        .web_base_url(&conn.web_url)
        .build()
        .map_err(SetupError::Direct)?;
    Ok(Arc::new(
        FallbackSigner::builder(direct, euler)
            .mode(conn.mode)
            .build(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_always_leaves_through_the_same_egress_and_users_spread() {
        assert_eq!(Egress::index_for("someone", 1), 0);
        let a = Egress::index_for("someone", 3);
        assert_eq!(a, Egress::index_for("someone", 3));
        let mut seen = [0usize; 3];
        for i in 0..300 {
            seen[Egress::index_for(&format!("room{i:04}"), 3)] += 1;
        }
        assert!(seen.iter().all(|n| *n > 50), "{seen:?}");
    }

    #[test]
    fn sign_server_labels_hide_credentials() {
        assert_eq!(
            host_of("https://user:pw@sign.example:8443/x?y"),
            "sign.example:8443"
        );
        assert_eq!(host_of("http://127.0.0.1:9"), "127.0.0.1:9");
    }
}
