//! The service's configuration: a TOML file, environment variables and flags, merged with
//! flags over environment over file.
//!
//! Every key has one entry in [`KEYS`]: its dotted path in the file, its environment variable,
//! its flag (where it has a named one; every key is also `--set KEY=VALUE`), and whether it is a
//! secret. The loader reads the file (`deny_unknown_fields`: a misspelt key is an error, never
//! ignored), applies the environment, then the flags, and checks what the values mean. Each error
//! says where the bad value came from: `ttlive.toml:12: key detect.batch_size: ...`, or
//! `env TTLIVE_DETECT_BATCH_SIZE (key detect.batch_size): ...`, or the flag. Secret values never
//! appear in an error, in `Debug` output or in logs.
//!
//! `[output.NAME]` tables are kept as they are ([`ServiceConfig::output`]) for the outputs that
//! read them.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use ttlive_signer::{Secret, SignerMode};

/// Where the API listens unless told otherwise: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8765";

/// The whole configuration of `tiktok-live serve`.
///
/// Build it with [`ConfigLoader`] (file, environment, flags) or from [`Default`] and code.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct ServiceConfig {
    /// Rooms to follow (handles). Rooms from the file, `TTLIVE_ROOMS` and `--room` add up.
    pub rooms: Vec<String>,
    /// The API's address. Anything but loopback requires a [`token`](Self::token).
    pub listen: SocketAddr,
    /// Bearer token for every route but `/healthz`. Required for a non-loopback `listen`.
    #[serde(deserialize_with = "de_opt_secret")]
    pub token: Option<Secret>,
    /// Where rooms added through the API (and known room ids) persist. Default: next to the
    /// config file (`ttlive.toml` → `ttlive.state.json`); without a config file, no state file.
    pub state_file: Option<PathBuf>,
    /// How rooms are reached: hosts, sign server, mode, proxies, timeouts.
    pub connection: ConnectionConfig,
    /// Go-live detection pace.
    pub detect: DetectConfig,
    /// The request budget, per egress.
    pub limits: LimitsConfig,
    /// `/metrics` options.
    pub metrics: MetricsConfig,
    /// Shutdown behaviour.
    pub shutdown: ShutdownConfig,
    /// `[output.NAME]` tables, untouched, for the outputs that read them.
    pub output: BTreeMap<String, toml::Table>,
    /// The file this configuration was read from, if any.
    #[serde(skip)]
    pub file: Option<PathBuf>,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            rooms: Vec::new(),
            listen: DEFAULT_LISTEN
                .parse()
                .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8765))),
            token: None,
            state_file: None,
            connection: ConnectionConfig::default(),
            detect: DetectConfig::default(),
            limits: LimitsConfig::default(),
            metrics: MetricsConfig::default(),
            shutdown: ShutdownConfig::default(),
            output: BTreeMap::new(),
            file: None,
        }
    }
}

impl ServiceConfig {
    /// The state file to use: [`state_file`](Self::state_file) (relative to the config file's
    /// directory), else `<config stem>.state.json` next to the config file, else none.
    pub fn state_path(&self) -> Option<PathBuf> {
        if let Some(p) = &self.state_file {
            // A relative path is relative to the config file's directory, like the default.
            return Some(match self.file.as_ref().and_then(|f| f.parent()) {
                Some(dir) if p.is_relative() => dir.join(p),
                _ => p.clone(),
            });
        }
        let file = self.file.as_ref()?;
        let stem = file.file_stem()?.to_string_lossy().into_owned();
        Some(file.with_file_name(format!("{stem}.state.json")))
    }
}

/// `[connection]`: how rooms are reached (the same settings as `watch`'s flags).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct ConnectionConfig {
    /// TikTok's web host.
    pub web_url: String,
    /// TikTok's webcast host.
    pub webcast_url: String,
    /// The push socket host for direct mode: `us`, `eu`, or a URL.
    pub ws_url: Option<String>,
    /// The sign server (default: Euler Stream).
    pub sign_url: Option<String>,
    /// The sign server's API key.
    #[serde(deserialize_with = "de_opt_secret")]
    pub sign_api_key: Option<Secret>,
    /// `auto`, `direct` or `euler`.
    #[serde(deserialize_with = "de_mode")]
    pub mode: SignerMode,
    /// Proxies, one egress each (`http://…` or `socks5://…`); none: one direct egress.
    pub proxies: Vec<String>,
    /// A logged-in TikTok session id (age-restricted streams).
    #[serde(deserialize_with = "de_opt_secret")]
    pub session_id: Option<Secret>,
    /// The session's data centre (`tt-target-idc`).
    pub tt_target_idc: String,
    /// Failed connection attempts in a row before a session gives up (0: never); the room then
    /// goes back to waiting.
    pub max_attempts: u32,
    /// Fall back to HTTP polling of `im/fetch` when no WebSocket can be had. Off by default: each
    /// poll is a request to TikTok outside the budget.
    pub polling: bool,
    /// Emit the recent-history batch TikTok sends on connect.
    pub history: bool,
    /// No frame for this long: the connection is a zombie and is replaced.
    #[serde(with = "duration")]
    pub stall_timeout: Duration,
    /// First reconnect delay of a session.
    #[serde(with = "duration")]
    pub backoff_initial: Duration,
    /// Longest reconnect delay of a session.
    #[serde(with = "duration")]
    pub backoff_max: Duration,
    /// Timeout of one HTTP request.
    #[serde(with = "duration")]
    pub http_timeout: Duration,
    /// Timeout of the WebSocket connect.
    #[serde(with = "duration")]
    pub connect_timeout: Duration,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig {
            web_url: ttlive_source_tiktok::DEFAULT_WEB_URL.to_owned(),
            webcast_url: ttlive_source_tiktok::DEFAULT_WEBCAST_URL.to_owned(),
            ws_url: None,
            sign_url: None,
            sign_api_key: None,
            mode: SignerMode::Auto,
            proxies: Vec::new(),
            session_id: None,
            tt_target_idc: "useast2a".to_owned(),
            max_attempts: 10,
            polling: false,
            history: true,
            stall_timeout: Duration::from_secs(30),
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            http_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(20),
        }
    }
}

impl fmt::Debug for ConnectionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionConfig")
            .field("web_url", &self.web_url)
            .field("webcast_url", &self.webcast_url)
            .field("ws_url", &self.ws_url)
            .field("sign_url", &self.sign_url)
            .field("sign_api_key", &self.sign_api_key)
            .field("mode", &self.mode)
            .field(
                "proxies",
                &self
                    .proxies
                    .iter()
                    .map(|p| redact_url(p))
                    .collect::<Vec<_>>(),
            )
            .field("session_id", &self.session_id)
            .field("max_attempts", &self.max_attempts)
            .field("polling", &self.polling)
            .finish_non_exhaustive()
    }
}

/// A proxy URL with its password hidden, for logs and labels.
pub fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((creds, host)) => {
                let user = creds.split(':').next().unwrap_or("");
                format!("{scheme}://{user}:<redacted>@{host}")
            }
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// `[detect]`: the pace of go-live detection.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct DetectConfig {
    /// A room live within this window counts as recently live: its known room id is checked
    /// with `room/check_alive`, and it is looked up more often.
    #[serde(with = "duration")]
    pub recent_window: Duration,
    /// How often a recently live room's known room id is checked (in batches).
    #[serde(with = "duration")]
    pub check_interval: Duration,
    /// Room ids per `room/check_alive` request (1 to 100).
    pub batch_size: usize,
    /// Lookups of a room not live recently: the first at once, then this often, doubling after
    /// each answer that it is offline, up to `lookup_max_interval`.
    #[serde(with = "duration")]
    pub lookup_interval: Duration,
    /// The slowest lookup pace.
    #[serde(with = "duration")]
    pub lookup_max_interval: Duration,
    /// Lookups of a recently live room (it may start a new room).
    #[serde(with = "duration")]
    pub recent_lookup_interval: Duration,
    /// After a session failed (not a stream end), detection for the room resumes after this
    /// long, doubling with each failure in a row up to `lookup_max_interval`.
    #[serde(with = "duration")]
    pub failure_delay: Duration,
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            recent_window: Duration::from_secs(2 * 3600),
            check_interval: Duration::from_secs(30),
            batch_size: 50,
            lookup_interval: Duration::from_secs(5 * 60),
            lookup_max_interval: Duration::from_secs(3600),
            recent_lookup_interval: Duration::from_secs(2 * 60),
            failure_delay: Duration::from_secs(30),
        }
    }
}

/// `[limits]`: the request budget, per egress (each proxy, or the one direct egress). A rate
/// of 0 means no limit for that kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct LimitsConfig {
    /// Room lookups (the live page or `api-live/user/room`) per minute.
    pub lookups_per_minute: u32,
    /// Lookups that may go at once after a quiet spell.
    pub lookup_burst: u32,
    /// `room/check_alive` requests per minute.
    pub live_checks_per_minute: u32,
    /// Live checks that may go at once.
    pub live_check_burst: u32,
    /// Sign calls per minute.
    pub sign_per_minute: u32,
    /// Sign calls that may go at once.
    pub sign_burst: u32,
    /// WebSocket connects per minute.
    pub connects_per_minute: u32,
    /// Connects that may go at once.
    pub connect_burst: u32,
    /// Most rooms followed at once (adding more through the API is refused).
    pub max_rooms: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            lookups_per_minute: 12,
            lookup_burst: 3,
            live_checks_per_minute: 30,
            live_check_burst: 5,
            sign_per_minute: 30,
            sign_burst: 10,
            connects_per_minute: 60,
            connect_burst: 20,
            max_rooms: 10_000,
        }
    }
}

/// `[metrics]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct MetricsConfig {
    /// Also export per-room series (label `user`); they go when the room goes.
    pub per_room: bool,
}

/// `[shutdown]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct ShutdownConfig {
    /// How long a graceful shutdown may take (closing rooms, flushing outputs).
    #[serde(with = "duration")]
    pub grace: Duration,
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        ShutdownConfig {
            grace: Duration::from_secs(10),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------

/// The type of a key's value, for reading it from an environment variable or a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyType {
    /// Text.
    Text,
    /// A whole number.
    Integer,
    /// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`).
    Bool,
    /// A duration like `30s`, `5m`, `1h 30m`, `250ms`.
    Duration,
    /// A list; comma-separated in a variable or flag.
    List,
}

/// One configuration key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Key {
    /// Dotted path in the file (`detect.batch_size`).
    pub path: &'static str,
    /// The environment variable, where it is not the derived `TTLIVE_<PATH>` (see
    /// [`env_var`](Self::env_var)).
    env: Option<&'static str>,
    /// Named flag, where there is one (every key is also `--set PATH=VALUE`).
    pub flag: Option<&'static str>,
    /// The value's type.
    pub kind: KeyType,
    /// Never shown in errors, logs or `Debug` output.
    pub secret: bool,
}

impl Key {
    /// The environment variable: the established name where `watch` has one
    /// (`SIGN_API_URL`…), else `TTLIVE_` and the path in capitals with `_` for `.`
    /// (`TTLIVE_DETECT_BATCH_SIZE`).
    pub fn env_var(&self) -> std::borrow::Cow<'static, str> {
        match self.env {
            Some(e) => e.into(),
            None => format!(
                "TTLIVE_{}",
                self.path.replace('.', "_").to_ascii_uppercase()
            )
            .into(),
        }
    }
}

/// A key whose variable is derived from its path, set by `--set`.
const fn key(path: &'static str, kind: KeyType) -> Key {
    Key {
        path,
        env: None,
        flag: None,
        kind,
        secret: false,
    }
}

/// A key with a flag of its own (and a variable of its own, when given).
const fn flag(
    path: &'static str,
    env: Option<&'static str>,
    flag: &'static str,
    kind: KeyType,
) -> Key {
    Key {
        path,
        env,
        flag: Some(flag),
        kind,
        secret: false,
    }
}

/// A secret key: never shown.
const fn secret(path: &'static str, env: &'static str, flag: &'static str) -> Key {
    Key {
        path,
        env: Some(env),
        flag: Some(flag),
        kind: KeyType::Text,
        secret: true,
    }
}

use KeyType::{Bool, Duration as Dur, Integer, List, Text};

/// Every configuration key (the `[output.*]` tables aside).
pub const KEYS: &[Key] = &[
    flag("rooms", None, "--room", List),
    flag("listen", None, "--listen", Text),
    secret("token", "TTLIVE_TOKEN", "--token"),
    flag("state_file", None, "--state-file", Text),
    flag(
        "connection.web_url",
        Some("TIKTOK_WEB_URL"),
        "--web-url",
        Text,
    ),
    flag(
        "connection.webcast_url",
        Some("TIKTOK_WEBCAST_URL"),
        "--webcast-url",
        Text,
    ),
    flag("connection.ws_url", Some("TIKTOK_WS_URL"), "--ws-url", Text),
    flag(
        "connection.sign_url",
        Some("SIGN_API_URL"),
        "--sign-url",
        Text,
    ),
    secret("connection.sign_api_key", "SIGN_API_KEY", "--sign-api-key"),
    flag("connection.mode", Some("TTLIVE_MODE"), "--mode", Text),
    flag("connection.proxies", Some("TIKTOK_PROXY"), "--proxy", List),
    secret("connection.session_id", "TIKTOK_SESSION_ID", "--session-id"),
    flag("connection.tt_target_idc", None, "--tt-target-idc", Text),
    flag("connection.max_attempts", None, "--max-attempts", Integer),
    key("connection.polling", Bool),
    key("connection.history", Bool),
    key("connection.stall_timeout", Dur),
    key("connection.backoff_initial", Dur),
    key("connection.backoff_max", Dur),
    key("connection.http_timeout", Dur),
    key("connection.connect_timeout", Dur),
    key("detect.recent_window", Dur),
    key("detect.check_interval", Dur),
    key("detect.batch_size", Integer),
    key("detect.lookup_interval", Dur),
    key("detect.lookup_max_interval", Dur),
    key("detect.recent_lookup_interval", Dur),
    key("detect.failure_delay", Dur),
    key("limits.lookups_per_minute", Integer),
    key("limits.lookup_burst", Integer),
    key("limits.live_checks_per_minute", Integer),
    key("limits.live_check_burst", Integer),
    key("limits.sign_per_minute", Integer),
    key("limits.sign_burst", Integer),
    key("limits.connects_per_minute", Integer),
    key("limits.connect_burst", Integer),
    key("limits.max_rooms", Integer),
    key("metrics.per_room", Bool),
    key("shutdown.grace", Dur),
];

/// The key at `path`, if there is one.
pub fn find_key(path: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.path == path)
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Where a configuration value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// A line of the config file.
    File {
        /// The file.
        path: PathBuf,
        /// 1-based line, when known.
        line: Option<usize>,
    },
    /// An environment variable.
    Env(String),
    /// A command-line flag (as typed: `--sign-url`, `--set`).
    Flag(String),
    /// Set in code, or a default.
    Code,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File {
                path,
                line: Some(l),
            } => write!(f, "{}:{l}", path.display()),
            Origin::File { path, line: None } => write!(f, "{}", path.display()),
            Origin::Env(name) => write!(f, "env {name}"),
            Origin::Flag(name) => write!(f, "flag {name}"),
            Origin::Code => f.write_str("configuration"),
        }
    }
}

/// A configuration that cannot be used. The text names the file and line (or the variable or
/// flag) and the key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the config file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("{}:{line}:{column}: not valid TOML: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A key has a bad value, or is not a key at all.
    #[error("{origin}: key {key}: {message}")]
    Key {
        /// Where the value came from.
        origin: Origin,
        /// The dotted key.
        key: String,
        /// What is wrong (never the value of a secret).
        message: String,
    },
}

impl ConfigError {
    /// The key the error is about, if it is about one.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Key { key, .. } => Some(key),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

/// One value set from outside the file: an environment variable or a flag.
#[derive(Clone, PartialEq, Eq)]
pub struct Override {
    /// The dotted key.
    pub key: String,
    /// The raw text.
    pub value: String,
    /// Where it came from.
    pub origin: Origin,
}

impl fmt::Debug for Override {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret = find_key(&self.key).is_some_and(|k| k.secret);
        f.debug_struct("Override")
            .field("key", &self.key)
            .field(
                "value",
                &if secret {
                    "<redacted>"
                } else {
                    self.value.as_str()
                },
            )
            .field("origin", &self.origin)
            .finish()
    }
}

impl Override {
    /// A value given by flag `flag` (e.g. `--sign-url`) for `key`.
    pub fn flag(key: &str, flag: &str, value: impl Into<String>) -> Self {
        Override {
            key: key.to_owned(),
            value: value.into(),
            origin: Origin::Flag(flag.to_owned()),
        }
    }

    /// A `--set KEY=VALUE` flag.
    pub fn parse_set(arg: &str) -> Result<Self, ConfigError> {
        let (k, v) = arg.split_once('=').ok_or_else(|| ConfigError::Key {
            origin: Origin::Flag("--set".into()),
            key: arg.trim().to_owned(),
            message: "expected KEY=VALUE".into(),
        })?;
        Ok(Override {
            key: k.trim().to_owned(),
            value: v.to_owned(),
            origin: Origin::Flag("--set".into()),
        })
    }
}

/// Reads the file, then the environment, then the flags, each over the one before.
///
/// ```
/// use ttlive_service::config::{ConfigLoader, Override};
/// let config = ConfigLoader::new()
///     .env([("TTLIVE_DETECT_BATCH_SIZE".to_owned(), "20".to_owned())])
///     .overrides([Override::flag("connection.sign_url", "--sign-url", "http://127.0.0.1:9")])
///     .load()
///     .unwrap();
/// assert_eq!(config.detect.batch_size, 20);
/// assert_eq!(config.connection.sign_url.as_deref(), Some("http://127.0.0.1:9"));
/// ```
#[derive(Debug, Default)]
pub struct ConfigLoader {
    file: Option<PathBuf>,
    env: Vec<Override>,
    flags: Vec<Override>,
}

impl ConfigLoader {
    /// No file, no environment, no flags: the defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads this TOML file first.
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.file = Some(path.into());
        self
    }

    /// Takes the variables of [`KEYS`] from these (name, value) pairs; others are ignored.
    /// Pass `std::env::vars()`.
    pub fn env(mut self, vars: impl IntoIterator<Item = (String, String)>) -> Self {
        for (name, value) in vars {
            if let Some(k) = KEYS.iter().find(|k| k.env_var() == name) {
                self.env.push(Override {
                    key: k.path.to_owned(),
                    value,
                    origin: Origin::Env(name),
                });
            }
        }
        self
    }

    /// Flags, applied last, in order (a later one wins).
    pub fn overrides(mut self, flags: impl IntoIterator<Item = Override>) -> Self {
        self.flags.extend(flags);
        self
    }

    /// Loads and checks the configuration.
    pub fn load(self) -> Result<ServiceConfig, ConfigError> {
        let (text, path) = match &self.file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                (text, Some(path.clone()))
            }
            None => (String::new(), None),
        };
        let file_origin = |line| match &path {
            Some(p) => Origin::File {
                path: p.clone(),
                line,
            },
            None => Origin::Code,
        };
        let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let (line, column) = e.span().map_or((1, 1), |s| line_col(&text, s.start));
            ConfigError::Syntax {
                path: path.clone().unwrap_or_default(),
                line,
                column,
                message: e.message().trim().to_owned(),
            }
        })?;
        // The file alone, parsed from its text: errors carry spans, so lines.
        let mut config: ServiceConfig = toml::from_str(&text).map_err(|e| {
            let (line, key) = match e.span() {
                Some(span) => {
                    let (line, _) = line_col(&text, span.start);
                    (Some(line), key_at_line(&text, line))
                }
                None => (None, None),
            };
            let key = key.unwrap_or_else(|| "(file)".to_owned());
            ConfigError::Key {
                message: clean_message(&key, e.message()),
                origin: file_origin(line),
                key,
            }
        })?;
        let mut origins: BTreeMap<String, Origin> = BTreeMap::new();
        let mut rooms = config.rooms.clone();
        for o in self.env.iter().chain(&self.flags) {
            if o.key == "rooms" {
                // Rooms add up from every source.
                rooms.extend(split_list(&o.value));
                continue;
            }
            let value = to_toml(o)?;
            set_path(&mut table, &o.key, value).map_err(|message| ConfigError::Key {
                origin: o.origin.clone(),
                key: o.key.clone(),
                message,
            })?;
            config = table
                .clone()
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Key {
                    origin: o.origin.clone(),
                    key: o.key.clone(),
                    message: clean_message(&o.key, e.message()),
                })?;
            origins.insert(o.key.clone(), o.origin.clone());
        }
        config.rooms = rooms;
        config.file = path.clone();
        let origin_of = |key: &str| {
            origins.get(key).cloned().unwrap_or_else(|| {
                let line = locate_key(&text, key);
                if line.is_some() {
                    file_origin(line)
                } else {
                    Origin::Code
                }
            })
        };
        validate(&config).map_err(|(key, message)| ConfigError::Key {
            origin: origin_of(key),
            key: key.to_owned(),
            message,
        })?;
        Ok(config)
    }
}

/// Checks what values mean (beyond their types). Returns the key and what is wrong.
pub fn validate(c: &ServiceConfig) -> Result<(), (&'static str, String)> {
    for room in &c.rooms {
        crate::registry::normalize_user(room).map_err(|e| ("rooms", e.to_string()))?;
    }
    if !c.listen.ip().is_loopback() && c.token.as_ref().is_none_or(Secret::is_empty) {
        return Err((
            "token",
            format!(
                "listen is {} (not loopback): a token is required (--token or TTLIVE_TOKEN); \
                 every route but /healthz then asks for `Authorization: Bearer <token>`",
                c.listen
            ),
        ));
    }
    let conn = &c.connection;
    for (key, url) in [
        ("connection.web_url", Some(&conn.web_url)),
        ("connection.webcast_url", Some(&conn.webcast_url)),
        ("connection.sign_url", conn.sign_url.as_ref()),
    ] {
        if let Some(url) = url {
            check_http_url(url).map_err(|m| (key, m))?;
        }
    }
    for p in &conn.proxies {
        let scheme = p.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        if !matches!(
            scheme.as_deref(),
            Some("http" | "https" | "socks5" | "socks5h")
        ) {
            return Err((
                "connection.proxies",
                format!(
                    "{} is not an http://, https:// or socks5:// proxy URL",
                    redact_url(p)
                ),
            ));
        }
    }
    if conn.stall_timeout < Duration::from_millis(100) {
        return Err(("connection.stall_timeout", "must be at least 100ms".into()));
    }
    let d = &c.detect;
    if !(1..=100).contains(&d.batch_size) {
        return Err(("detect.batch_size", "must be between 1 and 100".into()));
    }
    for (key, v) in [
        ("detect.check_interval", d.check_interval),
        ("detect.lookup_interval", d.lookup_interval),
        ("detect.recent_lookup_interval", d.recent_lookup_interval),
        ("detect.lookup_max_interval", d.lookup_max_interval),
    ] {
        if v < Duration::from_millis(10) {
            return Err((key, "must be at least 10ms".into()));
        }
    }
    if d.lookup_max_interval < d.lookup_interval {
        return Err((
            "detect.lookup_max_interval",
            "must not be shorter than detect.lookup_interval".into(),
        ));
    }
    if c.limits.max_rooms == 0 {
        return Err(("limits.max_rooms", "must be at least 1".into()));
    }
    Ok(())
}

fn check_http_url(url: &str) -> Result<(), String> {
    let lower = url.trim().to_ascii_lowercase();
    let rest = lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("https://"));
    match rest {
        Some(r) if !r.is_empty() && !r.starts_with('/') => Ok(()),
        _ => Err(format!("{url:?} is not an http:// or https:// URL")),
    }
}

/// serde's messages, without a secret's value and with the key named once.
fn clean_message(key: &str, message: &str) -> String {
    if find_key(key).is_some_and(|k| k.secret) {
        return "must be a string (the value is a secret and is not shown)".into();
    }
    let m = message.trim();
    if let Some(rest) = m.strip_prefix("unknown field") {
        // "unknown field `x`, expected one of `a`, `b`": say which are known.
        return format!("not a known key{rest}");
    }
    m.to_owned()
}

fn split_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The raw text of an override as a TOML value of the key's type.
fn to_toml(o: &Override) -> Result<toml::Value, ConfigError> {
    let bad = |message: String| ConfigError::Key {
        origin: o.origin.clone(),
        key: o.key.clone(),
        message,
    };
    let kind = match find_key(&o.key) {
        Some(k) => k.kind,
        // `[output.*]` keys belong to the outputs: a TOML literal, else text.
        None if o.key.starts_with("output.") => {
            return Ok(format!("v = {}", o.value)
                .parse::<toml::Table>()
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or_else(|| toml::Value::String(o.value.clone())));
        }
        None => {
            let known: Vec<&str> = KEYS.iter().map(|k| k.path).collect();
            return Err(bad(format!(
                "not a known key; known keys: {}",
                known.join(", ")
            )));
        }
    };
    let v = o.value.trim();
    Ok(match kind {
        KeyType::Text | KeyType::Duration => toml::Value::String(o.value.clone()),
        KeyType::Integer => toml::Value::Integer(
            v.parse()
                .map_err(|_| bad(format!("{v:?} is not a whole number")))?,
        ),
        KeyType::Bool => toml::Value::Boolean(match v.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => true,
            "false" | "0" | "no" | "off" => false,
            _ => return Err(bad(format!("{v:?} is not true or false"))),
        }),
        KeyType::List => toml::Value::Array(
            split_list(&o.value)
                .into_iter()
                .map(toml::Value::String)
                .collect(),
        ),
    })
}

fn set_path(table: &mut toml::Table, path: &str, value: toml::Value) -> Result<(), String> {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().ok_or("empty key")?;
    let mut t = table;
    for p in parts {
        let entry = t
            .entry(p.to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        t = entry
            .as_table_mut()
            .ok_or_else(|| format!("{p} is not a table in the config file"))?;
    }
    t.insert(last.to_owned(), value);
    Ok(())
}

/// 1-based (line, column) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The section header in force at `line`, and the lines of the file.
fn section_at(lines: &[&str], line: usize) -> String {
    lines
        .iter()
        .take(line)
        .rev()
        .find_map(|l| {
            let l = l.trim();
            l.strip_prefix('[')
                .map(|h| h.trim_start_matches('[').split(']').next().unwrap_or(""))
                .map(|h| h.trim().to_owned())
        })
        .unwrap_or_default()
}

/// The dotted key whose value is on (or starts above) 1-based `line`.
fn key_at_line(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut n = line.min(lines.len());
    while n > 0 {
        let l = lines.get(n - 1)?.trim();
        if l.starts_with('[') {
            // An error on a header line: the table itself.
            return Some(section_at(&lines, n));
        }
        if let Some((k, _)) = l.split_once('=')
            && !l.starts_with('#')
        {
            let k = k.trim().trim_matches('"');
            let section = section_at(&lines, n);
            return Some(if section.is_empty() {
                k.to_owned()
            } else {
                format!("{section}.{k}")
            });
        }
        n -= 1;
    }
    None
}

/// The 1-based line where the file sets `key`, if it does.
fn locate_key(text: &str, key: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    (1..=lines.len()).find(|&n| {
        let l = lines.get(n - 1).map_or("", |l| l.trim());
        !l.starts_with('[') && l.contains('=') && key_at_line(text, n).as_deref() == Some(key)
    })
}

// ---------------------------------------------------------------------------------------------
// serde helpers
// ---------------------------------------------------------------------------------------------

fn de_opt_secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    let s = Option::<String>::deserialize(d)?;
    Ok(s.filter(|s| !s.trim().is_empty()).map(Secret::new))
}

fn de_mode<'de, D: Deserializer<'de>>(d: D) -> Result<SignerMode, D::Error> {
    let s = String::deserialize(d)?;
    s.parse()
        .map_err(|_| serde::de::Error::custom(format!("{s:?} is not auto, direct or euler")))
}

/// `"30s"`, `"5m"`, `"1h 30m"`, `"250ms"` (humantime).
pub(crate) mod duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(s.trim()).map_err(|e| {
            serde::de::Error::custom(format!(
                "{s:?} is not a duration like \"30s\", \"5m\" or \"250ms\" ({e})"
            ))
        })
    }
}

/// Reads a config file path's text as the loader does, for tests and tools.
pub fn load_file(path: &Path) -> Result<ServiceConfig, ConfigError> {
    ConfigLoader::new().file(path).load()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ttlive.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn defaults_are_valid_and_loopback() {
        let c = ConfigLoader::new().load().unwrap();
        assert!(c.listen.ip().is_loopback());
        assert!(c.state_path().is_none());
        assert_eq!(c.detect.batch_size, 50);
    }

    #[test]
    fn a_bad_value_names_file_line_and_key() {
        let (_d, path) = write("rooms = [\"a\"]\n\n[detect]\nbatch_size = \"lots\"\n");
        let err = load_file(&path).unwrap_err();
        let text = err.to_string();
        assert_eq!(err.key(), Some("detect.batch_size"), "{text}");
        assert!(
            text.contains("ttlive.toml:4: key detect.batch_size"),
            "{text}"
        );
    }

    #[test]
    fn an_unknown_key_is_an_error_with_its_line() {
        let (_d, path) = write("[connection]\nweb_url = \"http://127.0.0.1:1\"\nsign_ur = \"x\"\n");
        let text = load_file(&path).unwrap_err().to_string();
        assert!(
            text.contains("ttlive.toml:3: key connection.sign_ur"),
            "{text}"
        );
        assert!(text.contains("not a known key"), "{text}");
    }

    #[test]
    fn a_syntax_error_names_line_and_column() {
        let (_d, path) = write("[detect]\nbatch_size = = 3\n");
        let err = load_file(&path).unwrap_err();
        assert!(matches!(err, ConfigError::Syntax { line: 2, .. }), "{err}");
    }

    #[test]
    fn flags_beat_env_beat_file_and_rooms_add_up() {
        let (_d, path) = write(
            "rooms = [\"from_file\"]\n[connection]\nsign_url = \"http://file.invalid\"\n\
             [detect]\nbatch_size = 10\n",
        );
        let c = ConfigLoader::new()
            .file(&path)
            .env([
                ("SIGN_API_URL".to_owned(), "http://env.invalid".to_owned()),
                ("TTLIVE_DETECT_BATCH_SIZE".to_owned(), "20".to_owned()),
                ("TTLIVE_ROOMS".to_owned(), "from_env".to_owned()),
                ("UNRELATED".to_owned(), "x".to_owned()),
            ])
            .overrides([
                Override::flag("connection.sign_url", "--sign-url", "http://flag.invalid"),
                Override::flag("rooms", "--room", "from_flag"),
            ])
            .load()
            .unwrap();
        assert_eq!(
            c.connection.sign_url.as_deref(),
            Some("http://flag.invalid")
        );
        assert_eq!(c.detect.batch_size, 20);
        assert_eq!(c.rooms, ["from_file", "from_env", "from_flag"]);
        assert_eq!(
            c.state_path().unwrap().file_name().unwrap(),
            "ttlive.state.json"
        );
    }

    #[test]
    fn a_bad_override_names_its_variable_or_flag() {
        let err = ConfigLoader::new()
            .env([("TTLIVE_DETECT_BATCH_SIZE".to_owned(), "many".to_owned())])
            .load()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("env TTLIVE_DETECT_BATCH_SIZE: key detect.batch_size"),
            "{err}"
        );
        let err = ConfigLoader::new()
            .overrides([Override::parse_set("detect.lookup_interval=soon").unwrap()])
            .load()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("flag --set: key detect.lookup_interval") && err.contains("duration"),
            "{err}"
        );
        let err = ConfigLoader::new()
            .overrides([Override::parse_set("detect.nope=1").unwrap()])
            .load()
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a known key"), "{err}");
    }

    #[test]
    fn a_non_loopback_listen_needs_a_token() {
        let err = ConfigLoader::new()
            .overrides([Override::flag("listen", "--listen", "0.0.0.0:8765")])
            .load()
            .unwrap_err();
        assert_eq!(err.key(), Some("token"));
        assert!(err.to_string().contains("flag --listen") || err.to_string().contains("token"));
        let ok = ConfigLoader::new()
            .overrides([
                Override::flag("listen", "--listen", "0.0.0.0:8765"),
                Override::flag("token", "--token", "s3cret-token"),
            ])
            .load()
            .unwrap();
        assert!(!format!("{ok:?}").contains("s3cret-token"));
    }

    #[test]
    fn secrets_never_appear_in_errors() {
        let (_d, path) = write("token = 123456789\n");
        let err = load_file(&path).unwrap_err().to_string();
        assert!(err.contains("ttlive.toml:1: key token"), "{err}");
        assert!(!err.contains("123456789"), "{err}");
    }

    #[test]
    fn semantic_errors_point_at_the_line_that_set_the_key() {
        let (_d, path) = write("\n[connection]\nweb_url = \"ftp://nope\"\n");
        let err = load_file(&path).unwrap_err().to_string();
        assert!(
            err.contains("ttlive.toml:3: key connection.web_url"),
            "{err}"
        );
    }

    #[test]
    fn output_tables_are_kept_for_the_outputs() {
        let (_d, path) = write("[output.webhook]\nurl = \"http://127.0.0.1:9/hook\"\n");
        let c = ConfigLoader::new()
            .file(&path)
            .overrides([Override::parse_set("output.webhook.batch=10").unwrap()])
            .load()
            .unwrap();
        let hook = &c.output["webhook"];
        assert_eq!(hook["url"].as_str(), Some("http://127.0.0.1:9/hook"));
        assert_eq!(hook["batch"].as_integer(), Some(10));
    }

    #[test]
    fn the_example_file_loads_and_shows_every_key() {
        let text = include_str!("../ttlive.example.toml");
        let (_d, path) = write(text);
        let c = load_file(&path).unwrap();
        assert_eq!(c.rooms, ["someone", "someone_else"]);
        assert_eq!(
            c.state_path(),
            Some(path.with_file_name("ttlive.state.json"))
        );
        for k in KEYS {
            let name = k.path.rsplit('.').next().unwrap();
            let shown = text.lines().any(|l| {
                l.trim_start_matches('#')
                    .trim()
                    .starts_with(&format!("{name} ="))
            });
            assert!(shown, "{} is not in ttlive.example.toml", k.path);
        }
    }

    #[test]
    fn every_key_can_be_set_by_its_variable() {
        for k in KEYS {
            let value = match k.kind {
                KeyType::Text if k.path == "listen" => "127.0.0.1:1",
                KeyType::Text if k.path.ends_with("_url") && k.path != "connection.ws_url" => {
                    "http://127.0.0.1:1"
                }
                KeyType::Text if k.path == "connection.mode" => "direct",
                KeyType::Text => "x",
                KeyType::Integer => "7",
                KeyType::Bool => "true",
                KeyType::Duration => "1h",
                KeyType::List if k.path == "connection.proxies" => "http://127.0.0.1:3128",
                KeyType::List => "someone",
            };
            ConfigLoader::new()
                .env([(k.env_var().into_owned(), value.to_owned())])
                .load()
                .unwrap_or_else(|e| panic!("{}: {e}", k.path));
        }
    }
}
