//! Room schedules: when a fake room is live, when its stream ends, when it comes back.
//!
//! The syntax is documented on [`ScheduleSet`].

use std::time::Duration;

/// A schedule entry or file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScheduleError {
    /// The entry has no `=` between its target and its phases.
    #[error("line {line}: `{entry}` is not TARGET=PHASES (e.g. room0003=offline:30s,live)")]
    MissingTarget {
        /// Line number (1 for a single entry).
        line: usize,
        /// The entry as written.
        entry: String,
    },
    /// The target is not a user name, a range of numbered users or `*`.
    #[error("line {line}: bad target `{target}`: {reason}")]
    BadTarget {
        /// Line number.
        line: usize,
        /// The target as written.
        target: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A phase is not `live`, `offline`, `end`, `suspend` or `loop`.
    #[error("line {line}: unknown phase `{phase}` (live[:DUR], offline[:DUR], end, suspend, loop)")]
    UnknownPhase {
        /// Line number.
        line: usize,
        /// The phase as written.
        phase: String,
    },
    /// A duration could not be read.
    #[error("line {line}: bad duration `{duration}` (a number and ms, s, m or h, e.g. 30s)")]
    BadDuration {
        /// Line number.
        line: usize,
        /// The duration as written.
        duration: String,
    },
    /// A phase that is not the last has no duration, or a looped schedule has a phase without
    /// one.
    #[error("line {line}: phase `{phase}` needs a duration (only the last phase may last forever)")]
    MissingDuration {
        /// Line number.
        line: usize,
        /// The phase as written.
        phase: String,
    },
    /// `loop` is not the last phase, or the schedule has nothing to loop.
    #[error("line {line}: `loop` must be the last phase, after at least one timed phase")]
    MisplacedLoop {
        /// Line number.
        line: usize,
    },
    /// A looped schedule whose phases add up to no time at all.
    #[error("line {line}: a looped schedule must last longer than 0 s")]
    EmptyLoop {
        /// Line number.
        line: usize,
    },
}

/// One step of a [`Schedule`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// Live for this long (`None`: forever).
    Live(Option<Duration>),
    /// Offline for this long (`None`: forever).
    Offline(Option<Duration>),
    /// The stream ends with this `WebcastControlMessage` action (3 ended, 4 suspended).
    End {
        /// The control action.
        action: i32,
    },
}

impl Phase {
    fn duration(self) -> Option<Duration> {
        match self {
            Phase::Live(d) | Phase::Offline(d) => d,
            Phase::End { .. } => Some(Duration::ZERO),
        }
    }
}

/// What a room does over time: see [`ScheduleSet`] for the syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    phases: Vec<Phase>,
    looped: bool,
}

impl Schedule {
    /// A schedule of these phases, run once (the last lasts forever when it has no duration).
    ///
    /// # Errors
    /// As [`str::parse`] for the same phases written out.
    pub fn new(phases: Vec<Phase>, looped: bool) -> Result<Schedule, ScheduleError> {
        validate(&phases, looped, 1)?;
        Ok(Schedule { phases, looped })
    }

    /// The phases, in order.
    pub fn phases(&self) -> &[Phase] {
        &self.phases
    }

    /// Whether the phases repeat.
    pub fn is_looped(&self) -> bool {
        self.looped
    }

    /// The phase at `index` of the (possibly looped) schedule, or `None` past its end.
    pub(crate) fn phase(&self, index: usize) -> Option<Phase> {
        if self.looped {
            self.phases.get(index % self.phases.len()).copied()
        } else {
            self.phases.get(index).copied()
        }
    }
}

impl std::str::FromStr for Schedule {
    type Err = ScheduleError;

    /// Parses the phases part of an entry (`offline:30s,live:60s,end,live`).
    fn from_str(s: &str) -> Result<Schedule, ScheduleError> {
        parse_phases(s, 1)
    }
}

/// Which rooms an entry names.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// One user (case-insensitive).
    User(String),
    /// Numbered users with a common prefix and a number between `from` and `to` (inclusive),
    /// e.g. `room0010..room0019`.
    Range {
        /// The common prefix (`room`).
        prefix: String,
        /// First number.
        from: u64,
        /// Last number.
        to: u64,
    },
    /// Every room no other entry names.
    Rest,
}

impl Target {
    /// Whether this target names `user`.
    pub fn matches(&self, user: &str) -> bool {
        match self {
            Target::User(u) => u.eq_ignore_ascii_case(user),
            Target::Range { prefix, from, to } => {
                let lower = user.to_ascii_lowercase();
                lower
                    .strip_prefix(prefix.as_str())
                    .filter(|digits| {
                        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
                    })
                    .and_then(|digits| digits.parse::<u64>().ok())
                    .is_some_and(|n| (*from..=*to).contains(&n))
            }
            Target::Rest => false,
        }
    }
}

/// Splits `room0019` into (`room`, 19).
fn split_number(name: &str) -> Option<(String, u64)> {
    let digits = name.bytes().rev().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits == name.len() {
        return None;
    }
    let (prefix, number) = name.split_at(name.len() - digits);
    Some((prefix.to_ascii_lowercase(), number.parse().ok()?))
}

fn parse_target(s: &str, line: usize) -> Result<Target, ScheduleError> {
    let bad = |reason| ScheduleError::BadTarget {
        line,
        target: s.to_owned(),
        reason,
    };
    let s = s.trim();
    if s == "*" {
        return Ok(Target::Rest);
    }
    if let Some((a, b)) = s.split_once("..") {
        let (pa, from) = split_number(a.trim()).ok_or(bad("a range needs numbered users"))?;
        let (pb, to) = split_number(b.trim()).ok_or(bad("a range needs numbered users"))?;
        if pa != pb {
            return Err(bad("both ends of a range need the same prefix"));
        }
        if from > to {
            return Err(bad("a range must go up"));
        }
        return Ok(Target::Range {
            prefix: pa,
            from,
            to,
        });
    }
    let name = s.trim_start_matches('@');
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
    {
        return Err(bad("a user name is letters, digits, `_` and `.`"));
    }
    Ok(Target::User(name.to_owned()))
}

/// Parses `30s`, `500ms`, `1.5m`, `2h`.
pub(crate) fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = s.split_at(split);
    let n: f64 = number.parse().ok()?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "s" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(secs).ok()
}

fn parse_phases(s: &str, line: usize) -> Result<Schedule, ScheduleError> {
    let words: Vec<&str> = s.split(',').map(str::trim).collect();
    let mut phases = Vec::new();
    let mut looped = false;
    for (i, word) in words.iter().enumerate() {
        let (name, duration) = match word.split_once(':') {
            Some((n, d)) => (n.trim(), Some(d.trim())),
            None => (*word, None),
        };
        let duration = match duration {
            Some(d) => Some(parse_duration(d).ok_or_else(|| ScheduleError::BadDuration {
                line,
                duration: d.to_owned(),
            })?),
            None => None,
        };
        let unknown = || ScheduleError::UnknownPhase {
            line,
            phase: (*word).to_owned(),
        };
        phases.push(match name.to_ascii_lowercase().as_str() {
            "live" => Phase::Live(duration),
            "offline" => Phase::Offline(duration),
            "end" | "suspend" if duration.is_some() => return Err(unknown()),
            "end" => Phase::End { action: 3 },
            "suspend" => Phase::End { action: 4 },
            "loop" if duration.is_none() => {
                if i + 1 != words.len() {
                    return Err(ScheduleError::MisplacedLoop { line });
                }
                looped = true;
                continue;
            }
            _ => return Err(unknown()),
        });
    }
    validate(&phases, looped, line)?;
    Ok(Schedule { phases, looped })
}

fn validate(phases: &[Phase], looped: bool, line: usize) -> Result<(), ScheduleError> {
    if phases.is_empty() {
        return Err(if looped {
            ScheduleError::MisplacedLoop { line }
        } else {
            ScheduleError::UnknownPhase {
                line,
                phase: String::new(),
            }
        });
    }
    for (i, p) in phases.iter().enumerate() {
        let last = i + 1 == phases.len();
        if p.duration().is_none() && (looped || !last) {
            return Err(ScheduleError::MissingDuration {
                line,
                phase: match p {
                    Phase::Live(_) => "live".to_owned(),
                    _ => "offline".to_owned(),
                },
            });
        }
    }
    if looped && phases.iter().filter_map(|p| p.duration()).sum::<Duration>() == Duration::ZERO {
        return Err(ScheduleError::EmptyLoop { line });
    }
    Ok(())
}

/// A set of schedule entries: which rooms follow which [`Schedule`].
///
/// # Syntax
///
/// One entry names its rooms and their phases:
///
/// ```text
/// ENTRY   := TARGET '=' PHASE (',' PHASE)* [',' 'loop']
/// TARGET  := USER                      one user, e.g. room0003 or fakeuser
///          | USER '..' USER            a range of numbered users, e.g. room0010..room0019
///          | '*'                       every room that no other entry names
/// PHASE   := 'live' [':' DURATION]     streaming (a new stream, with a new room id, when the
///                                      room was not live before)
///          | 'offline' [':' DURATION]  not live: status 4 everywhere
///          | 'end'                     the stream ends now (WebcastControlMessage action 3,
///                                      then the socket closes); the room is offline after it
///          | 'suspend'                 the same with action 4 (suspended by the platform)
/// DURATION:= a number and a unit: 500ms, 30s, 1.5m, 2h
/// ```
///
/// Phases run in order from the moment the server starts. A live phase followed by an offline
/// one ends the stream as `end` does. The last phase may go without a duration (it then lasts
/// forever); every other `live` and `offline` phase needs one. A final `loop` starts the list
/// again after its last phase (which then needs a duration). Several entries are separated by
/// `;` on one line or given one per line (a schedule file; `#` starts a comment).
///
/// ```text
/// room0003=offline:30s,live:60s,end,offline:20s,live
/// room0010..room0019=live:2m,offline:30s,loop
/// *=live
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScheduleSet {
    entries: Vec<(Target, Schedule)>,
}

impl ScheduleSet {
    /// No entries.
    pub fn new() -> ScheduleSet {
        ScheduleSet::default()
    }

    /// Parses entries separated by `;` or new lines (`#` comments and blank lines ignored).
    ///
    /// # Errors
    /// The first bad entry, with its line number.
    pub fn parse(text: &str) -> Result<ScheduleSet, ScheduleError> {
        let mut set = ScheduleSet::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("");
            for entry in line.split(';').map(str::trim).filter(|e| !e.is_empty()) {
                set.entries.push(parse_entry(entry, i + 1)?);
            }
        }
        Ok(set)
    }

    /// Adds an entry.
    pub fn add(&mut self, target: Target, schedule: Schedule) {
        self.entries.push((target, schedule));
    }

    /// Adds the entries of another set after these.
    pub fn extend(&mut self, other: ScheduleSet) {
        self.entries.extend(other.entries);
    }

    /// The schedule of `user`: the first entry naming it, else the `*` entry.
    pub fn for_user(&self, user: &str) -> Option<&Schedule> {
        self.entries
            .iter()
            .find(|(t, _)| t.matches(user))
            .or_else(|| self.entries.iter().find(|(t, _)| *t == Target::Rest))
            .map(|(_, s)| s)
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn parse_entry(entry: &str, line: usize) -> Result<(Target, Schedule), ScheduleError> {
    let (target, phases) = entry
        .split_once('=')
        .ok_or_else(|| ScheduleError::MissingTarget {
            line,
            entry: entry.to_owned(),
        })?;
    Ok((parse_target(target, line)?, parse_phases(phases, line)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: u64) -> Option<Duration> {
        Some(Duration::from_secs(secs))
    }

    #[test]
    fn the_documented_example_parses() {
        let set = ScheduleSet::parse("room0003=offline:30s,live:60s,end,offline:20s,live").unwrap();
        let sched = set.for_user("ROOM0003").unwrap();
        assert_eq!(
            sched.phases(),
            &[
                Phase::Offline(s(30)),
                Phase::Live(s(60)),
                Phase::End { action: 3 },
                Phase::Offline(s(20)),
                Phase::Live(None),
            ]
        );
        assert!(!sched.is_looped());
        assert!(set.for_user("room0004").is_none());
    }

    #[test]
    fn ranges_rest_comments_and_loops() {
        let text =
            "# a file\nroom0010..room0019=live:2m,offline:500ms,loop\n\n*=live ; ghost=suspend\n";
        let set = ScheduleSet::parse(text).unwrap();
        let r = set.for_user("room0015").unwrap();
        assert!(r.is_looped());
        assert_eq!(r.phase(2), Some(Phase::Live(s(120))));
        assert_eq!(
            r.phase(1),
            Some(Phase::Offline(Some(Duration::from_millis(500))))
        );
        assert_eq!(
            set.for_user("room0020").unwrap().phases(),
            &[Phase::Live(None)]
        );
        assert_eq!(set.for_user("room00150"), set.for_user("anyone"));
        assert_eq!(
            set.for_user("ghost").unwrap().phases(),
            &[Phase::End { action: 4 }]
        );
    }

    #[test]
    fn bad_entries_say_what_and_where() {
        let cases = [
            ("room1", "not TARGET=PHASES"),
            ("room1=sleep:3s", "unknown phase `sleep:3s`"),
            ("room1=live:3 parsecs", "bad duration `3 parsecs`"),
            ("room1=live,offline:3s", "needs a duration"),
            ("room1=loop,live:3s", "`loop` must be the last"),
            ("room1=live:3s,offline,loop", "needs a duration"),
            ("room1=end,loop", "longer than 0 s"),
            ("a1..b3=live", "same prefix"),
            ("room9..room3=live", "must go up"),
            ("bad name!=live", "bad target"),
            ("room1=end:3s", "unknown phase"),
        ];
        for (text, want) in cases {
            let err = ScheduleSet::parse(&format!("\n{text}"))
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{text}: {err}");
            assert!(err.starts_with("line 2:"), "{text}: {err}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5m"), s(90));
        assert_eq!(parse_duration("2h"), s(7200));
        assert_eq!(parse_duration("30"), None);
        assert_eq!(parse_duration("-3s"), None);
        assert_eq!(parse_duration("1e400s"), None);
    }
}
