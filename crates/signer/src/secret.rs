//! [`Secret`]: a string that never shows up in logs, `Debug` output or error text.

use std::fmt;

/// A secret string (an API key, a TikTok `sessionid`).
///
/// `Debug` and `Display` both print `<redacted>`, so a `Secret` can sit inside structs that
/// derive `Debug` and inside error values without leaking. The value is reachable only through
/// [`Secret::expose`], which the crate calls at the single place where the secret is put on the
/// wire (a request header marked sensitive).
///
/// ```
/// use ttlive_signer::Secret;
///
/// let key = Secret::new("sk-live-123");
/// assert_eq!(format!("{key:?} {key}"), "<redacted> <redacted>");
/// assert_eq!(key.expose(), "sk-live-123");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `true` if the secret is the empty string (treated as "not set" by the builders).
    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}
