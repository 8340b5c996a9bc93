//! What people paste: `name`, `@name`, a profile or live URL, or a numeric room id.

use std::fmt;

/// Who to connect to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Target {
    /// A streamer's handle, without the `@` (`someone`).
    User(String),
    /// A room id, when the input was one (all digits, at least 10 of them).
    Room(u64),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::User(u) => write!(f, "@{u}"),
            Target::Room(r) => write!(f, "room {r}"),
        }
    }
}

/// The input was not a user, a TikTok URL or a room id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a TikTok user, LIVE URL or room id: {reason}")]
pub struct InvalidTarget {
    /// What was given.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Room ids are 19 digits today; anything shorter than this many digits is read as a handle
/// (TikTok handles may be all digits).
const MIN_ROOM_ID_DIGITS: usize = 10;

impl Target {
    /// Parses what a person pasted.
    ///
    /// Accepted: `name`, `@name`, `tiktok.com/@name`, `https://www.tiktok.com/@name/live` (with or
    /// without `www.`/`m.`, `http`/`https`, query string, fragment, trailing slash), and a room id
    /// (10 or more digits). Handles may hold letters, digits, `_` and `.` (TikTok's rule), up to
    /// 64 characters here. The reference clients' vectors hold: `@creator` → `creator`,
    /// `https://www.tiktok.com/@creator/live` → `creator` (protocol.md §1).
    pub fn parse(input: &str) -> Result<Target, InvalidTarget> {
        let bad = |reason| InvalidTarget {
            input: input.to_owned(),
            reason,
        };
        let s = input.trim();
        if s.is_empty() {
            return Err(bad("it is empty"));
        }
        let lower = s.to_ascii_lowercase();
        let handle = if lower.contains("tiktok.com") {
            let rest = s
                .split_once("://")
                .map(|(_, r)| r)
                .unwrap_or(s)
                .split(['?', '#'])
                .next()
                .unwrap_or("");
            let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
            let host = host.to_ascii_lowercase();
            if host != "tiktok.com" && !host.ends_with(".tiktok.com") {
                return Err(bad("the host is not tiktok.com"));
            }
            let first = path.split('/').find(|p| !p.is_empty()).unwrap_or("");
            match first.strip_prefix('@') {
                Some(h) => h.to_owned(),
                None => return Err(bad("the URL has no /@user part")),
            }
        } else if s.contains('/') || s.contains("://") {
            return Err(bad("only tiktok.com URLs are understood"));
        } else {
            s.strip_prefix('@').unwrap_or(s).to_owned()
        };
        if handle.is_empty() {
            return Err(bad("the handle is empty"));
        }
        if handle.len() > 64 {
            return Err(bad("the handle is longer than 64 characters"));
        }
        if !handle
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        {
            return Err(bad("a handle holds only letters, digits, '_' and '.'"));
        }
        if !s.starts_with('@')
            && !lower.contains("tiktok.com")
            && handle.len() >= MIN_ROOM_ID_DIGITS
            && handle.bytes().all(|b| b.is_ascii_digit())
        {
            if let Ok(room) = handle.parse::<u64>() {
                return Ok(Target::Room(room));
            }
        }
        Ok(Target::User(handle))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(s: &str) -> Target {
        Target::User(s.to_owned())
    }

    #[test]
    fn accepts_what_people_paste() {
        for (input, want) in [
            ("creator", user("creator")),
            ("@creator", user("creator")),
            ("  @creator \n", user("creator")),
            ("https://www.tiktok.com/@creator/live", user("creator")),
            ("https://tiktok.com/@creator/live", user("creator")),
            ("http://www.tiktok.com/@creator/live/", user("creator")),
            (
                "https://www.tiktok.com/@creator/live?lang=en#x",
                user("creator"),
            ),
            ("https://m.tiktok.com/@creator", user("creator")),
            ("www.tiktok.com/@the.real_one/", user("the.real_one")),
            (
                "7400000000000000001",
                Target::Room(7_400_000_000_000_000_001),
            ),
            ("123456789", user("123456789")),
            ("@7400000000000000001", user("7400000000000000001")),
        ] {
            assert_eq!(Target::parse(input).unwrap(), want, "{input}");
        }
    }

    #[test]
    fn rejects_the_rest_with_a_reason() {
        for input in [
            "",
            "   ",
            "@",
            "https://example.com/@creator/live",
            "https://www.tiktok.com/live",
            "https://www.tiktok.com/",
            "some one",
            "name/with/slash",
            "bad$name",
            "https://evil.com/?u=tiktok.com/@x",
        ] {
            let err = Target::parse(input).unwrap_err();
            assert!(!err.reason.is_empty(), "{input}");
        }
    }
}
