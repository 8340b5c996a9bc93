//! The wanted rooms: those from the configuration and flags, plus those added through the API,
//! minus those removed through it; and what is known about each (its last room id, when it was
//! last live), so a restart checks known rooms cheaply.
//!
//! API changes persist in a state file (JSON, versioned) next to the config file, written
//! atomically (a temporary file in the same directory, synced, then renamed over the old one):
//! a crash leaves the old file or the new one, never half of one. A state file that cannot be
//! read is an error at start naming the file and line; the service does not start on it rather
//! than forget rooms.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use ttlive_source_tiktok::Target;

/// The state file's format version.
pub const STATE_VERSION: u32 = 1;

/// A handle that is not a TikTok user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a TikTok user handle: {reason}")]
pub struct InvalidUser {
    /// What was given (cut to 80 characters).
    pub input: String,
    /// Why not.
    pub reason: String,
}

/// A handle as the registry keys it: `@` and URL parts removed, lowercase.
///
/// ```
/// assert_eq!(ttlive_service::normalize_user("@Some.One").unwrap(), "some.one");
/// assert!(ttlive_service::normalize_user("not a handle!").is_err());
/// ```
pub fn normalize_user(input: &str) -> Result<String, InvalidUser> {
    let bad = |reason: String| InvalidUser {
        input: input.chars().take(80).collect(),
        reason,
    };
    match Target::parse(input) {
        Ok(Target::User(u)) => Ok(u.to_ascii_lowercase()),
        Ok(_) => Err(bad(
            "a room id is not a user; give the streamer's handle".into()
        )),
        Err(e) => Err(bad(e.reason.to_owned())),
    }
}

/// What is known about a room's user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownRoom {
    /// The last room id seen (0: none).
    #[serde(with = "id_string", default)]
    pub room_id: u64,
    /// When the room was last seen live (ms since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_live_ms: Option<i64>,
}

mod id_string {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let s = String::deserialize(d)?;
        s.parse()
            .map_err(|_| serde::de::Error::custom(format!("room id {s:?} is not a number")))
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    version: u32,
    #[serde(default)]
    added: BTreeSet<String>,
    #[serde(default)]
    removed: BTreeSet<String>,
    #[serde(default)]
    rooms: BTreeMap<String, KnownRoom>,
}

/// The registry cannot do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The state file exists but could not be read.
    #[error("cannot read the state file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The state file is not what this service writes.
    #[error("{}:{line}:{column}: not a valid state file: {message} (fix it, or move it away to start without the rooms it lists)", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The state file could not be written (the change was not made).
    #[error("cannot write the state file {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Not a user handle.
    #[error(transparent)]
    InvalidUser(#[from] InvalidUser),
    /// Following more rooms is refused.
    #[error("already following {max} rooms, the most allowed (limits.max_rooms)")]
    TooManyRooms {
        /// The limit.
        max: usize,
    },
}

#[derive(Debug)]
struct State {
    config_rooms: BTreeSet<String>,
    file: StateFile,
    /// Known-room changes not written yet.
    dirty: bool,
}

impl State {
    fn wanted(&self) -> BTreeSet<String> {
        self.config_rooms
            .iter()
            .chain(&self.file.added)
            .filter(|u| !self.file.removed.contains(*u))
            .cloned()
            .collect()
    }
}

/// The wanted rooms and their persistence.
#[derive(Debug)]
pub struct Registry {
    path: Option<PathBuf>,
    max_rooms: usize,
    state: tokio::sync::Mutex<State>,
}

impl Registry {
    /// Opens the registry: the rooms of the configuration, and the state file at `path` if it
    /// exists (none: nothing persists). Invalid handles among `config_rooms` are an error.
    pub fn open(
        config_rooms: &[String],
        path: Option<PathBuf>,
        max_rooms: usize,
    ) -> Result<Registry, RegistryError> {
        let config_rooms = config_rooms
            .iter()
            .map(|r| normalize_user(r))
            .collect::<Result<BTreeSet<_>, _>>()?;
        let file = match &path {
            Some(p) => read_state(p)?,
            None => StateFile {
                version: STATE_VERSION,
                ..StateFile::default()
            },
        };
        Ok(Registry {
            path,
            max_rooms: max_rooms.max(1),
            state: tokio::sync::Mutex::new(State {
                config_rooms,
                file,
                dirty: false,
            }),
        })
    }

    /// The state file, if rooms persist.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Every wanted room, sorted.
    pub async fn wanted(&self) -> Vec<String> {
        self.state.lock().await.wanted().into_iter().collect()
    }

    /// Follows `user` from now on (persisted before this returns). `Ok(false)` when it was
    /// already followed.
    pub async fn add(&self, user: &str) -> Result<bool, RegistryError> {
        let user = normalize_user(user)?;
        let mut st = self.state.lock().await;
        let wanted = st.wanted();
        if wanted.contains(&user) {
            return Ok(false);
        }
        if wanted.len() >= self.max_rooms {
            return Err(RegistryError::TooManyRooms {
                max: self.max_rooms,
            });
        }
        let removed_before = st.file.removed.remove(&user);
        let added = !st.config_rooms.contains(&user) && st.file.added.insert(user.clone());
        if let Err(e) = self.write(&st.file).await {
            // Undo, so memory and disk agree.
            if removed_before {
                st.file.removed.insert(user.clone());
            }
            if added {
                st.file.added.remove(&user);
            }
            return Err(e);
        }
        Ok(true)
    }

    /// Stops following `user` (persisted before this returns). `Ok(false)` when it was not
    /// followed.
    pub async fn remove(&self, user: &str) -> Result<bool, RegistryError> {
        let user = normalize_user(user)?;
        let mut st = self.state.lock().await;
        if !st.wanted().contains(&user) {
            return Ok(false);
        }
        let was_added = st.file.added.remove(&user);
        let marked = st.config_rooms.contains(&user) && st.file.removed.insert(user.clone());
        let known = st.file.rooms.remove(&user);
        if let Err(e) = self.write(&st.file).await {
            if was_added {
                st.file.added.insert(user.clone());
            }
            if marked {
                st.file.removed.remove(&user);
            }
            if let Some(k) = known {
                st.file.rooms.insert(user, k);
            }
            return Err(e);
        }
        Ok(true)
    }

    /// What is known about `user`.
    pub async fn known(&self, user: &str) -> Option<KnownRoom> {
        self.state.lock().await.file.rooms.get(user).copied()
    }

    /// Remembers what was learnt about `user` (written by the next [`flush`](Self::flush)).
    pub async fn remember(&self, user: &str, known: KnownRoom) {
        let mut st = self.state.lock().await;
        if !st.wanted().contains(user) {
            return;
        }
        if st.file.rooms.get(user) != Some(&known) {
            st.file.rooms.insert(user.to_owned(), known);
            st.dirty = true;
        }
    }

    /// Writes remembered room facts, if any changed since the last write.
    pub async fn flush(&self) -> Result<(), RegistryError> {
        let mut st = self.state.lock().await;
        if !st.dirty {
            return Ok(());
        }
        self.write(&st.file).await?;
        st.dirty = false;
        Ok(())
    }

    async fn write(&self, file: &StateFile) -> Result<(), RegistryError> {
        let Some(path) = self.path.clone() else {
            return Ok(());
        };
        let mut body = serde_json::to_vec_pretty(file).map_err(|e| RegistryError::Write {
            path: path.clone(),
            source: std::io::Error::other(e),
        })?;
        body.push(b'\n');
        let p = path.clone();
        tokio::task::spawn_blocking(move || write_atomic(&p, &body))
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(|r| r)
            .map_err(|source| RegistryError::Write { path, source })
    }
}

fn read_state(path: &Path) -> Result<StateFile, RegistryError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(StateFile {
                version: STATE_VERSION,
                ..StateFile::default()
            });
        }
        Err(source) => {
            return Err(RegistryError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    let corrupt = |line, column, message| RegistryError::Corrupt {
        path: path.to_owned(),
        line,
        column,
        message,
    };
    let mut file: StateFile =
        serde_json::from_str(&text).map_err(|e| corrupt(e.line(), e.column(), e.to_string()))?;
    if file.version != STATE_VERSION {
        return Err(corrupt(
            1,
            1,
            format!(
                "version {} (this build reads version {STATE_VERSION})",
                file.version
            ),
        ));
    }
    // Carry on without entries that are not handles, saying so.
    let keep = |set: &mut BTreeSet<String>| {
        let before = std::mem::take(set);
        for u in before {
            match normalize_user(&u) {
                Ok(n) => {
                    set.insert(n);
                }
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "state file entry skipped")
                }
            }
        }
    };
    keep(&mut file.added);
    keep(&mut file.removed);
    file.rooms.retain(|u, _| normalize_user(u).is_ok());
    Ok(file)
}

/// Writes `body` to `path` atomically: a temporary file beside it, synced, renamed over it.
pub(crate) fn write_atomic(path: &Path, body: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(body)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        // Make the rename itself durable (best effort: not every platform can sync a directory).
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rooms(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[tokio::test]
    async fn api_changes_persist_and_config_rooms_can_be_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ttlive.state.json");
        let reg = Registry::open(&rooms(&["Alice", "@bob"]), Some(path.clone()), 100).unwrap();
        assert_eq!(reg.wanted().await, ["alice", "bob"]);
        assert!(reg.add("@carol").await.unwrap());
        assert!(!reg.add("carol").await.unwrap());
        assert!(reg.remove("bob").await.unwrap());
        assert!(!reg.remove("nobody").await.unwrap());
        reg.remember(
            "alice",
            KnownRoom {
                room_id: 7,
                last_live_ms: Some(5),
            },
        )
        .await;
        reg.flush().await.unwrap();

        let again = Registry::open(&rooms(&["alice", "bob"]), Some(path.clone()), 100).unwrap();
        assert_eq!(again.wanted().await, ["alice", "carol"]);
        assert_eq!(again.known("alice").await.unwrap().room_id, 7);
        // Adding a removed config room back undoes the removal.
        assert!(again.add("bob").await.unwrap());
        let third = Registry::open(&rooms(&["alice", "bob"]), Some(path), 100).unwrap();
        assert_eq!(third.wanted().await, ["alice", "bob", "carol"]);
    }

    #[tokio::test]
    async fn a_corrupt_state_file_is_refused_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        std::fs::write(&path, "{\"version\": 1,\n \"added\": [\"a\",]\n}").unwrap();
        let err = Registry::open(&[], Some(path.clone()), 10).unwrap_err();
        assert!(
            matches!(err, RegistryError::Corrupt { line: 2, .. }),
            "{err}"
        );
        std::fs::write(&path, "{\"version\": 9}").unwrap();
        let err = Registry::open(&[], Some(path), 10).unwrap_err().to_string();
        assert!(err.contains("version 9"), "{err}");
    }

    #[tokio::test]
    async fn the_room_limit_is_kept() {
        let reg = Registry::open(&rooms(&["a1"]), None, 2).unwrap();
        assert!(reg.add("a2").await.unwrap());
        assert!(matches!(
            reg.add("a3").await,
            Err(RegistryError::TooManyRooms { max: 2 })
        ));
    }

    #[test]
    fn handles_are_normalized_and_checked() {
        assert_eq!(
            normalize_user("https://www.tiktok.com/@Someone/live").unwrap(),
            "someone"
        );
        assert!(normalize_user("7400000000000000001").is_err());
        assert!(normalize_user("").is_err());
        assert!(normalize_user("a b").is_err());
    }

    #[test]
    fn atomic_write_replaces_the_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }
}
