//! `tiktok-live serve`: the flags, and a handler that hands them to `ttlive-service`.

use std::path::PathBuf;

use clap::Args;
use ttlive_service::config::{KEYS, Override};
use ttlive_service::{
    ConfigLoader, Exit, JsonLines, Service, ServiceError, Signals, shutdown_unless_signalled,
};

use crate::{EXIT_ERROR, EXIT_IO_ERROR, EXIT_OK, EXIT_USAGE};

/// Flags of `serve`. Each has an environment variable and a config key (flags win over the
/// environment, which wins over the file); every other key is `--set KEY=VALUE`.
#[derive(Args)]
#[command(
    after_help = "Every config key is also an environment variable (TTLIVE_<SECTION>_<KEY>, \
                        or the name `watch` uses: SIGN_API_URL, TIKTOK_PROXY...) and \
                        `--set section.key=value`. Precedence: flags, then environment, then \
                        the file. SIGTERM or Ctrl-C stops gracefully; a second one exits at once."
)]
pub(crate) struct ServeArgs {
    /// The config file (TOML): rooms, connection, detection, limits, outputs.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// A room to follow (repeatable; adds to the config file's rooms). Env TTLIVE_ROOMS.
    #[arg(long = "room", value_name = "USER")]
    rooms: Vec<String>,
    /// The API's address (default 127.0.0.1:8765). Anything but loopback needs --token. Env
    /// TTLIVE_LISTEN.
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// Bearer token for the API (every route but /healthz). Env TTLIVE_TOKEN.
    #[arg(long)]
    token: Option<String>,
    /// Where rooms added through the API persist (default: next to --config). Env
    /// TTLIVE_STATE_FILE.
    #[arg(long, value_name = "FILE")]
    state_file: Option<PathBuf>,
    /// TikTok's web host. Env TIKTOK_WEB_URL.
    #[arg(long)]
    web_url: Option<String>,
    /// TikTok's webcast host. Env TIKTOK_WEBCAST_URL.
    #[arg(long)]
    webcast_url: Option<String>,
    /// The push socket host for direct mode (`us`, `eu` or a URL). Env TIKTOK_WS_URL.
    #[arg(long)]
    ws_url: Option<String>,
    /// The sign server. Env SIGN_API_URL.
    #[arg(long)]
    sign_url: Option<String>,
    /// The sign server's API key. Env SIGN_API_KEY.
    #[arg(long)]
    sign_api_key: Option<String>,
    /// `auto`, `direct` or `euler`. Env TTLIVE_MODE.
    #[arg(long)]
    mode: Option<String>,
    /// A proxy (repeatable: one egress, with its own budget, per proxy). Env TIKTOK_PROXY
    /// (comma-separated).
    #[arg(long = "proxy", value_name = "URL")]
    proxies: Vec<String>,
    /// A logged-in TikTok session id. Env TIKTOK_SESSION_ID.
    #[arg(long)]
    session_id: Option<String>,
    /// The session's data centre.
    #[arg(long)]
    tt_target_idc: Option<String>,
    /// Failed attempts in a row before a session gives up (0 = never); the room then waits.
    #[arg(long)]
    max_attempts: Option<u32>,
    /// Set any config key (repeatable), e.g. `--set detect.batch_size=20`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Print every event on stdout as a JSON line (what `watch --json` prints).
    #[arg(long)]
    json: bool,
}

/// Without the secrets (token, API key, session id).
impl std::fmt::Debug for ServeArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |s: &Option<String>| s.as_ref().map(|_| "<redacted>");
        f.debug_struct("ServeArgs")
            .field("config", &self.config)
            .field("rooms", &self.rooms)
            .field("listen", &self.listen)
            .field("token", &hidden(&self.token))
            .field("sign_url", &self.sign_url)
            .field("sign_api_key", &hidden(&self.sign_api_key))
            .field("session_id", &hidden(&self.session_id))
            .field("mode", &self.mode)
            .field("json", &self.json)
            .finish_non_exhaustive()
    }
}

impl ServeArgs {
    /// The flags as overrides, in the order given here (later ones win).
    fn overrides(&self) -> Result<Vec<Override>, ttlive_service::ConfigError> {
        let mut out = Vec::new();
        let mut flag = |key: &str, value: Option<String>| {
            if let Some(v) = value {
                let name = KEYS
                    .iter()
                    .find(|k| k.path == key)
                    .and_then(|k| k.flag)
                    .unwrap_or("--set");
                out.push(Override::flag(key, name, v));
            }
        };
        for r in &self.rooms {
            flag("rooms", Some(r.clone()));
        }
        flag("listen", self.listen.clone());
        flag("token", self.token.clone());
        flag(
            "state_file",
            self.state_file.as_ref().map(|p| p.display().to_string()),
        );
        flag("connection.web_url", self.web_url.clone());
        flag("connection.webcast_url", self.webcast_url.clone());
        flag("connection.ws_url", self.ws_url.clone());
        flag("connection.sign_url", self.sign_url.clone());
        flag("connection.sign_api_key", self.sign_api_key.clone());
        flag("connection.mode", self.mode.clone());
        if !self.proxies.is_empty() {
            flag("connection.proxies", Some(self.proxies.join(",")));
        }
        flag("connection.session_id", self.session_id.clone());
        flag("connection.tt_target_idc", self.tt_target_idc.clone());
        flag(
            "connection.max_attempts",
            self.max_attempts.map(|n| n.to_string()),
        );
        for s in &self.set {
            out.push(Override::parse_set(s)?);
        }
        Ok(out)
    }
}

pub(crate) async fn serve(args: ServeArgs) -> u8 {
    // Before anything else, so an early SIGTERM is handled rather than fatal.
    let mut signals = match Signals::install() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot install the signal handlers: {e}");
            return EXIT_ERROR;
        }
    };
    let overrides = match args.overrides() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let mut loader = ConfigLoader::new()
        .env(std::env::vars())
        .overrides(overrides);
    if let Some(path) = &args.config {
        loader = loader.file(path);
    }
    let config = match loader.load() {
        Ok(c) => c,
        Err(e @ ttlive_service::ConfigError::Read { .. }) => {
            eprintln!("error: {e}: {}", source_text(&e));
            return EXIT_IO_ERROR;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let mut builder = Service::builder(config);
    if args.json {
        builder = builder.output(JsonLines::stdout());
    }
    let service = match builder.start().await {
        Ok(s) => s,
        Err(e) => {
            let detail = source_text(&e);
            if detail.is_empty() {
                eprintln!("error: {e}");
            } else {
                eprintln!("error: {e}: {detail}");
            }
            return match e {
                ServiceError::Config(_) | ServiceError::Setup(_) => EXIT_USAGE,
                ServiceError::Registry(_) => EXIT_IO_ERROR,
                _ => EXIT_ERROR,
            };
        }
    };
    eprintln!(
        "following {} rooms; API on http://{} (SIGTERM or Ctrl-C stops)",
        service.rooms().len(),
        service.local_addr()
    );
    let first = signals.recv().await;
    eprintln!("{first}: stopping (a second signal exits at once)");
    match shutdown_unless_signalled(service, &mut signals).await {
        Exit::Clean(report) => {
            eprintln!("stopped in {} ms", report.elapsed.as_millis());
            EXIT_OK
        }
        Exit::Incomplete(report) => {
            eprintln!(
                "stopped, but not everything finished: {}{}",
                report.unfinished.join(", "),
                report
                    .output_errors
                    .iter()
                    .map(|(n, e)| format!("; output {n}: {e}"))
                    .collect::<String>()
            );
            EXIT_ERROR
        }
        Exit::Forced(signal) => {
            eprintln!("{signal} again: exiting now");
            std::process::exit(130);
        }
        _ => EXIT_ERROR,
    }
}

/// The causes of an error, joined (the error's own text does not repeat them).
fn source_text(e: &dyn std::error::Error) -> String {
    let mut parts = Vec::new();
    let mut cur = e.source();
    while let Some(c) = cur {
        parts.push(c.to_string());
        cur = c.source();
    }
    parts.join(": ")
}
